"""The Helm chart (deploy/helm/jobstream) renders, and every manifest is valid Kubernetes.

The real helm binary (pinned by `.ci/run`'s ensure_helm) renders the chart with its default
values, with each example values file in deploy/helm/examples/ and with every option
switched on; each manifest is validated offline against the Kubernetes JSON Schemas that
kubernetes-validate bundles, strictly (an unknown field is an error), for the oldest and the
newest Kubernetes the chart supports. Then the properties ADR 0081 promises are checked:
a Deployment per service and role, each non-root with a read-only root filesystem and both
probes; a Service and an HPA per API; a PDB per Deployment; migrations as hooks; secrets
only in Secrets.

Without helm the tests skip on a developer's machine; in CI (CI=true) they fail.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "jobstream"
EXAMPLES = ROOT / "deploy" / "helm" / "examples"
RELEASE = "jobstream"
NAMESPACE = "jobstream"

# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest whose
# schemas kubernetes-validate bundles.
KUBE_VERSIONS = ("1.30.0", "1.37.0")

# The roles each service's code has (services/<s>/src/.../app.py): no events table, no relay.
ROLES = {
    "web": ("api",),
    "intake": ("api", "consume", "relay"),
    "dispatch": ("api", "consume", "relay"),
    "fieldupdates": ("api", "consume", "relay"),
    "billing": ("api", "consume", "relay"),
    "reporting": ("api", "consume"),
}
ATTACHMENT_SERVICES = ("intake", "fieldupdates")
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|PRIVATE|ACCESS_KEY", re.IGNORECASE)

# Distinctive values for every secret the chart can be handed, so that a leak into a
# ConfigMap or an environment literal is found by a plain substring search.
EVERY_OPTION = [
    "--set",
    "postgresql.password=pg-Pa55word-only-in-a-secret",
    "--set",
    "auth.signingKeys.keySet=private-key-set-only-in-a-secret",
    "--set",
    "objectStore.backend=s3",
    "--set",
    "objectStore.s3.existingSecret=jobstream-s3",
    "--set",
    "objectStore.s3.endpointUrl=https://minio.example:9000",
    "--set",
    "web.oidc.issuer=https://id.example.com/realms/jobstream",
    "--set",
    "web.oidc.clientId=jobstream-web",
    "--set",
    "web.oidc.existingSecret=jobstream-oidc",
    "--set",
    "web.ingress.enabled=true",
    "--set",
    "web.ingress.tlsSecretName=jobstream-tls",
    "--set",
    "services.billing.databaseUrlSecret.name=billing-database",
    "--set",
    "services.billing.databaseUrlSecret.key=url",
    "--set",
    "services.intake.env.INTAKE_SLA_AT_RISK_MINUTES=45",
    "--set",
    "roleDefaults.api.autoscaling.enabled=false",
    "--set",
    "image.registry=registry.example.com/acme",
]
PLANTED_SECRETS = ("pg-Pa55word-only-in-a-secret", "private-key-set-only-in-a-secret")

VARIANTS: dict[str, list[str]] = {
    "defaults": [],
    "strimzi": ["-f", str(EXAMPLES / "strimzi-values.yaml")],
    "cloudnativepg": ["-f", str(EXAMPLES / "cloudnativepg-values.yaml")],
    "every-option": EVERY_OPTION,
}


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a mapping with a key twice (kubectl would keep one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    keys = [loader.construct_object(k) for k, _ in node.value]
    twice = {k for k in keys if keys.count(k) > 1}
    if twice:
        raise yaml.constructor.ConstructorError(
            None, None, f"duplicate keys {sorted(twice)}", node.start_mark
        )
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@cache
def _helm() -> str | None:
    return os.environ.get("HELM") or shutil.which("helm")


@pytest.fixture(scope="module")
def helm() -> str:
    found = _helm()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("helm is not installed in CI: .ci/run's ensure_helm should have put it")
        pytest.skip(
            "helm is not installed: `go install helm.sh/helm/v4/cmd/helm@v4.3.2` "
            "(what .ci/run does), or set HELM to its path"
        )
    return found


def _run_helm(helm: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [helm, *args], capture_output=True, text=True, check=False, timeout=120, cwd=ROOT
    )


@cache
def _render(helm: str, variant: str, *extra: str) -> tuple[dict[str, Any], ...]:
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE, *VARIANTS[variant]]
    done = _run_helm(helm, *args, *extra)
    assert done.returncode == 0, done.stderr
    docs = yaml.load_all(done.stdout, Loader=_UniqueKeyLoader)
    return tuple(d for d in docs if d)


def _kind(docs: tuple[dict[str, Any], ...], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def _component(doc: dict[str, Any]) -> str:
    return doc["metadata"]["labels"]["app.kubernetes.io/component"]


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return doc["spec"]["template"]["spec"]


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _secret_values(docs: tuple[dict[str, Any], ...]) -> set[str]:
    values: set[str] = set()
    for secret in _kind(docs, "Secret"):
        values.update(str(v) for v in secret.get("stringData", {}).values())
        values.update(base64.b64decode(v).decode() for v in secret.get("data", {}).values())
    return values


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_chart_passes_helm_lint(helm: str, variant: str) -> None:
    done = _run_helm(helm, "lint", "--strict", str(CHART), *VARIANTS[variant])
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_manifest_is_valid_against_the_kubernetes_schemas(
    helm: str, variant: str, kube_version: str
) -> None:
    docs = _render(helm, variant)
    assert len(docs) > 40
    errors = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, kube_version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    assert not errors


def test_the_schema_check_refuses_a_misspelt_field(helm: str) -> None:
    deployment = _kind(_render(helm, "defaults"), "Deployment")[0]
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    container = _pod_spec(broken)["containers"][0]
    container["readinessprobe"] = container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBE_VERSIONS[-1], strict=True)


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_deployment_per_service_and_role(helm: str, variant: str) -> None:
    deployments = _kind(_render(helm, variant), "Deployment")
    expected = {f"{s}-{r}" for s, roles in ROLES.items() for r in roles}
    assert sorted(_component(d) for d in deployments) == sorted(expected)
    for d in deployments:
        service, role = _component(d).rsplit("-", 1)
        container = _pod_spec(d)["containers"][0]
        assert container["args"][0] == ("serve" if service == "web" else role)
        assert d["metadata"]["name"] == f"{RELEASE}-{service}-{role}"


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_deployment_is_non_root_read_only_and_probed(helm: str, variant: str) -> None:
    for d in _kind(_render(helm, variant), "Deployment"):
        name = d["metadata"]["name"]
        pod = _pod_spec(d)
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        assert pod["automountServiceAccountToken"] is False, name
        tmp = next(v for v in pod["volumes"] if v["name"] == "tmp")
        assert "emptyDir" in tmp, name
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"], name
            assert c["livenessProbe"]["httpGet"]["path"] == "/healthz", name
            # A standing-by relay is not ready by design; its readiness is liveness (ADR 0081).
            ready = "/healthz" if _component(d).endswith("-relay") else "/readyz"
            assert c["readinessProbe"]["httpGet"]["path"] == ready, name
            assert c["resources"]["requests"]["cpu"], name
            assert c["resources"]["limits"]["memory"], name


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_job_and_cronjob_is_non_root_and_read_only(helm: str, variant: str) -> None:
    docs = _render(helm, variant)
    workloads = _kind(docs, "Job") + _kind(docs, "CronJob")
    assert workloads
    for w in workloads:
        pod = _pod_spec(w)
        assert pod["securityContext"]["runAsNonRoot"] is True
        for c in pod["containers"]:
            assert c["securityContext"]["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_service_for_each_api_and_nothing_else(helm: str, variant: str) -> None:
    docs = _render(helm, variant)
    deployments = _kind(docs, "Deployment")
    for svc in _kind(docs, "Service"):
        chosen = [
            d
            for d in deployments
            if _matches(svc["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])
        ]
        assert [_component(d) for d in chosen] == [_component(svc)]
        assert _component(svc).endswith("-api")
        assert svc["spec"]["ports"][0]["targetPort"] == "http"
    assert len(_kind(docs, "Service")) == len(ROLES)


@pytest.mark.parametrize("variant", ["defaults", "strimzi", "cloudnativepg"])
def test_an_hpa_for_each_api(helm: str, variant: str) -> None:
    docs = _render(helm, variant)
    apis = {
        d["metadata"]["name"]: d
        for d in _kind(docs, "Deployment")
        if "-api" in d["metadata"]["name"]
    }
    hpas = _kind(docs, "HorizontalPodAutoscaler")
    assert sorted(h["spec"]["scaleTargetRef"]["name"] for h in hpas) == sorted(apis)
    for h in hpas:
        assert h["spec"]["minReplicas"] >= 2
        # The HPA owns the replica count; a fixed one would fight it on every upgrade.
        assert "replicas" not in apis[h["spec"]["scaleTargetRef"]["name"]]["spec"]


def test_without_autoscaling_the_apis_have_a_fixed_replica_count(helm: str) -> None:
    docs = _render(helm, "every-option")
    assert not _kind(docs, "HorizontalPodAutoscaler")
    for d in _kind(docs, "Deployment"):
        assert d["spec"]["replicas"] >= 1


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_pod_disruption_budget_for_each_deployment(helm: str, variant: str) -> None:
    docs = _render(helm, variant)
    pdbs = _kind(docs, "PodDisruptionBudget")
    for d in _kind(docs, "Deployment"):
        labels = d["spec"]["template"]["metadata"]["labels"]
        covering = [p for p in pdbs if _matches(p["spec"]["selector"]["matchLabels"], labels)]
        assert len(covering) == 1, d["metadata"]["name"]
    assert len(pdbs) == len(_kind(docs, "Deployment"))


@pytest.mark.parametrize("variant", VARIANTS)
def test_migrations_run_as_hooks_before_install_and_upgrade(helm: str, variant: str) -> None:
    docs = _render(helm, variant)
    hooks = {
        d["metadata"]["name"]: d
        for d in docs
        if "helm.sh/hook" in d["metadata"].get("annotations", {})
    }
    for d in hooks.values():
        assert set(d["metadata"]["annotations"]["helm.sh/hook"].split(",")) == {
            "pre-install",
            "pre-upgrade",
        }

    def weight(name: str) -> int:
        return int(hooks[name]["metadata"]["annotations"]["helm.sh/hook-weight"])

    for service in ROLES:
        job = hooks[f"{RELEASE}-{service}-migrate"]
        assert job["kind"] == "Job"
        container = _pod_spec(job)["containers"][0]
        assert container["args"] == ["migrate"]
        # The release's ConfigMaps do not exist yet on a first install.
        assert "envFrom" not in container
        assert weight(f"{RELEASE}-topics") < weight(f"{RELEASE}-{service}-migrate")
        for ref in [e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e]:
            if ref["name"] in hooks:
                assert weight(ref["name"]) < weight(f"{RELEASE}-{service}-migrate")


# Every variant again, with a distinctive role name and password where the chart makes
# the database Secret itself.
PLANTED_DATABASE = [
    "--set",
    "postgresql.username=pg-role-only-in-a-secret",
    "--set",
    f"postgresql.password={PLANTED_SECRETS[0]}",
]


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_secret_value_is_in_a_configmap(helm: str, variant: str) -> None:
    docs = _render(helm, variant, *PLANTED_DATABASE)
    secrets = _secret_values(docs)
    if variant == "every-option":
        assert set(PLANTED_SECRETS) <= secrets
    assert "jobstream" not in secrets
    for cm in _kind(docs, "ConfigMap"):
        for key, value in cm["data"].items():
            assert not SECRET_NAME.search(key) or key == "JOBSTREAM_SIGNING_KEYS", key
            assert not [s for s in secrets if s in value], key


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_secret_is_a_plain_variable(helm: str, variant: str) -> None:
    docs = _render(helm, variant, *PLANTED_DATABASE)
    secrets = _secret_values(docs)
    for w in _kind(docs, "Deployment") + _kind(docs, "Job") + _kind(docs, "CronJob"):
        for c in _pod_spec(w)["containers"]:
            plain = {e["name"]: e["value"] for e in c.get("env", []) if "value" in e}
            assert not [n for n in plain if SECRET_NAME.search(n)]
            assert not [n for n, v in plain.items() if [s for s in secrets if s in v]]
            if "DATABASE_URL" in plain:
                assert ":$(JOBSTREAM_DB_PASSWORD)@" in plain["DATABASE_URL"]


def test_a_secret_looking_plain_setting_is_refused(helm: str) -> None:
    args = ["template", RELEASE, str(CHART), "--set", "services.web.env.WEB_OIDC_CLIENT_SECRET=x"]
    done = _run_helm(helm, *args)
    assert done.returncode != 0
    assert "services.web.env.WEB_OIDC_CLIENT_SECRET looks like a secret" in done.stderr


@pytest.mark.parametrize("variant", VARIANTS)
def test_only_the_front_door_gets_the_signing_keys(helm: str, variant: str) -> None:
    docs = _render(helm, variant)
    for w in _kind(docs, "Deployment") + _kind(docs, "Job") + _kind(docs, "CronJob"):
        mounts = {v["name"] for v in _pod_spec(w)["volumes"]}
        assert ("signing-keys" in mounts) == (_component(w) == "web-api"), w["metadata"]["name"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_attachments_go_to_a_claim_or_to_s3(helm: str, variant: str) -> None:
    docs = _render(helm, variant)
    claims = {c["metadata"]["name"] for c in _kind(docs, "PersistentVolumeClaim")}
    config = {cm["metadata"]["name"]: cm["data"] for cm in _kind(docs, "ConfigMap")}
    for service in ATTACHMENT_SERVICES:
        settings = config[f"{RELEASE}-{service}-config"]
        for role in ("api", "consume"):
            d = next(x for x in _kind(docs, "Deployment") if _component(x) == f"{service}-{role}")
            volumes = {v["name"]: v for v in _pod_spec(d)["volumes"]}
            if settings["JOBSTREAM_OBJECT_STORE"] == "s3":
                assert settings["JOBSTREAM_S3_BUCKET"]
                assert "objects" not in volumes
            else:
                claim = volumes["objects"]["persistentVolumeClaim"]["claimName"]
                assert claim in claims
                mount = next(
                    m
                    for m in _pod_spec(d)["containers"][0]["volumeMounts"]
                    if m["name"] == "objects"
                )
                assert mount["mountPath"] == settings["JOBSTREAM_OBJECT_STORE_ROOT"]
    uses_claims = {
        config[f"{RELEASE}-{s}-config"]["JOBSTREAM_OBJECT_STORE"] for s in ATTACHMENT_SERVICES
    }
    expected = (
        {f"{RELEASE}-{s}-objects" for s in ATTACHMENT_SERVICES} if "local" in uses_claims else set()
    )
    assert claims == expected


def test_the_cloudnativepg_example_matches_its_cluster(helm: str) -> None:
    values = yaml.safe_load((EXAMPLES / "cloudnativepg-values.yaml").read_text())
    resources = list(yaml.safe_load_all((EXAMPLES / "cloudnativepg-cluster.yaml").read_text()))
    cluster = next(r for r in resources if r["kind"] == "Cluster")
    name = cluster["metadata"]["name"]
    assert values["postgresql"]["host"] == f"{name}-rw"
    assert values["postgresql"]["existingSecret"] == f"{name}-app"
    owner = cluster["spec"]["bootstrap"]["initdb"]["owner"]
    databases = {cluster["spec"]["bootstrap"]["initdb"]["database"]} | {
        r["spec"]["name"] for r in resources if r["kind"] == "Database"
    }
    assert all(r["spec"]["owner"] == owner for r in resources if r["kind"] == "Database")
    docs = _render(helm, "cloudnativepg")
    for d in _kind(docs, "Deployment"):
        env = {e["name"]: e for e in _pod_spec(d)["containers"][0]["env"]}
        ref = env["JOBSTREAM_DB_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": f"{name}-app", "key": "password"}
        url = env["DATABASE_URL"]["value"]
        database = re.search(rf"@{name}-rw:5432/(\w+)\?sslmode=require$", url)
        assert database is not None, url
        assert database.group(1) in databases
    assert not [s for s in _kind(docs, "Secret") if s["metadata"]["name"].endswith("postgresql")]


def test_the_strimzi_example_matches_its_cluster(helm: str) -> None:
    values = yaml.safe_load((EXAMPLES / "strimzi-values.yaml").read_text())
    resources = list(yaml.safe_load_all((EXAMPLES / "strimzi-kafka.yaml").read_text()))
    kafka = next(r for r in resources if r["kind"] == "Kafka")
    plain = next(x for x in kafka["spec"]["kafka"]["listeners"] if not x["tls"])
    assert values["kafka"]["bootstrapServers"].startswith(
        f"{kafka['metadata']['name']}-kafka-bootstrap.kafka.svc"
    )
    assert values["kafka"]["bootstrapServers"].endswith(f":{plain['port']}")
    assert values["kafka"]["replicationFactor"] <= sum(
        r["spec"]["replicas"] for r in resources if r["kind"] == "KafkaNodePool"
    )
    docs = _render(helm, "strimzi")
    shared = next(
        cm for cm in _kind(docs, "ConfigMap") if cm["metadata"]["name"] == f"{RELEASE}-config"
    )
    assert shared["data"]["KAFKA_BOOTSTRAP_SERVERS"] == values["kafka"]["bootstrapServers"]
    topics = next(j for j in _kind(docs, "Job") if _component(j) == "topics")
    env = {e["name"]: e["value"] for e in _pod_spec(topics)["containers"][0]["env"]}
    assert env["KAFKA_REPLICATION_FACTOR"] == "3"


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_service_runs_its_own_image_as_its_dockerfile_user(helm: str, variant: str) -> None:
    docs = _render(helm, variant)
    for d in _kind(docs, "Deployment"):
        service = _component(d).rsplit("-", 1)[0]
        image = _pod_spec(d)["containers"][0]["image"]
        assert re.search(rf"(^|/)jobstream/{service}:0\.1\.0$", image), image
        dockerfile = (ROOT / "services" / service / "Dockerfile").read_text()
        user = re.search(r"^USER (\d+):(\d+)$", dockerfile, re.MULTILINE)
        assert user is not None
        assert _pod_spec(d)["securityContext"]["runAsUser"] == int(user.group(1))
