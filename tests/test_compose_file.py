"""Static checks of docker-compose.yml and the service Dockerfiles (no Docker engine needed).

The compose file is validated against the Compose Specification's JSON Schema, vendored at
deploy/compose/compose-spec.schema.json (provenance in deploy/compose/README.md), and then
against the rules this project adds: images build from the repository root, every service
waits for its migration, long-running services have health checks and no secret is written
into the file.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SCHEMA_FILE = ROOT / "deploy" / "compose" / "compose-spec.schema.json"
POSTGRES_INIT = ROOT / "deploy" / "compose" / "postgres-init.sql"

APP_SERVICES = ("web", "intake", "dispatch", "fieldupdates", "billing", "reporting")
HOST_PORTS = dict(zip(APP_SERVICES, range(8000, 8006), strict=True))
KEYS_VOLUME = "signing-keys"
KEYS_PATH = "/var/lib/jobstream/keys"
SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|PRIVATE|API_KEY", re.IGNORECASE)
INTERPOLATION = re.compile(r"^\$\{[A-Z_][A-Z0-9_]*(?:(?::?[-?+])[^}]*)?\}$")
# Local-stack database credentials that the compose file deliberately spells out.
ALLOWED_LITERALS = {("postgres", "POSTGRES_PASSWORD")}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    with COMPOSE_FILE.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    # The spec writes "https://json-schema.org/draft-07/schema", which jsonschema's own
    # lookup does not list (it would fall back to the latest draft): map it to draft-07.
    dialect = re.sub(r"^https?://|#$", "", schema["$schema"])
    cls = {"json-schema.org/draft-07/schema": jsonschema.Draft7Validator}.get(dialect)
    assert cls is not None, f"unexpected schema dialect {schema['$schema']}"
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _errors(validator: jsonschema.protocols.Validator, instance: object) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator.iter_errors(instance)
    ]


def _depends_on(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return {name: {"condition": "service_started"} for name in deps}
    return deps


def _one_shot(services: dict[str, dict[str, Any]]) -> set[str]:
    """Services that others wait on to *finish*: jobs, not long-running processes."""
    return {
        dep
        for svc in services.values()
        for dep, spec in _depends_on(svc).items()
        if spec.get("condition") == "service_completed_successfully"
    }


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


# --- the schema itself ---------------------------------------------------------------------


def test_vendored_schema_is_the_compose_spec_draft7_schema() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft-07/schema"
    assert schema["title"] == "Compose Specification"
    assert {"services", "volumes", "networks"} <= set(schema["properties"])


def test_compose_file_validates_against_the_compose_spec(validator) -> None:
    with COMPOSE_FILE.open(encoding="utf-8") as fh:
        instance = yaml.safe_load(fh)
    assert _errors(validator, instance) == []


def test_validator_rejects_an_unknown_top_level_key(validator, compose) -> None:
    broken = copy.deepcopy(compose)
    broken["servces"] = {}
    errors = _errors(validator, broken)
    assert errors and any("servces" in e for e in errors), errors


def test_validator_rejects_an_unknown_depends_on_condition(validator, compose) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["intake"]["depends_on"]["intake-migrate"]["condition"] = "service_done"
    assert _errors(validator, broken)


def test_validator_rejects_an_unknown_service_key(validator, compose) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["billing"]["helthcheck"] = broken["services"]["billing"]["healthcheck"]
    assert _errors(validator, broken)


# --- builds --------------------------------------------------------------------------------


def test_every_build_context_and_dockerfile_exists(services) -> None:
    built = {name: svc["build"] for name, svc in services.items() if "build" in svc}
    assert built, "no service builds an image"
    for name, build in built.items():
        if isinstance(build, str):
            build = {"context": build}
        context = (ROOT / build.get("context", ".")).resolve()
        assert context.is_dir(), f"{name}: build context {context} does not exist"
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        assert dockerfile.is_file(), f"{name}: {dockerfile} does not exist"


def test_app_images_build_from_the_repository_root_with_their_own_dockerfile(services) -> None:
    for app in APP_SERVICES:
        for name in (app, f"{app}-migrate"):
            build = services[name]["build"]
            assert (ROOT / build["context"]).resolve() == ROOT, name
            assert build["dockerfile"] == f"services/{app}/Dockerfile", name
            assert services[name]["image"] == services[app]["image"], name


def test_kafka_topics_job_uses_the_shared_cli(services) -> None:
    topics = services["kafka-topics"]
    assert topics["build"]["dockerfile"] == "services/intake/Dockerfile"
    assert topics["entrypoint"] == ["jobstream"]
    assert topics["command"] == ["topics", "create"]
    assert _depends_on(topics)["kafka"]["condition"] == "service_healthy"


# --- dependencies and health ---------------------------------------------------------------


def test_every_dependency_names_an_existing_service(services) -> None:
    for name, svc in services.items():
        for dep, spec in _depends_on(svc).items():
            assert dep in services, f"{name} depends on unknown service {dep!r}"
            assert dep != name, f"{name} depends on itself"
            if spec.get("condition") == "service_healthy":
                hc = services[dep].get("healthcheck", {})
                assert hc.get("test") and not hc.get("disable"), (
                    f"{name} waits for {dep} to be healthy but {dep} has no healthcheck"
                )


def test_dependency_graph_has_no_cycle(services) -> None:
    state: dict[str, str] = {}

    def visit(node: str, path: tuple[str, ...]) -> None:
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", f"dependency cycle: {' -> '.join((*path, node))}"
        state[node] = "open"
        for dep in _depends_on(services[node]):
            visit(dep, (*path, node))
        state[node] = "done"

    for name in services:
        visit(name, ())


def test_every_long_running_service_has_a_healthcheck(services) -> None:
    jobs = _one_shot(services)
    assert {"kafka-topics", "signing-keys", *(f"{a}-migrate" for a in APP_SERVICES)} == jobs
    for name, svc in services.items():
        if name in jobs:
            assert svc.get("restart", "no") == "no", f"{name} is a job and must not restart"
            continue
        hc = svc.get("healthcheck")
        assert hc and hc.get("test") and not hc.get("disable"), f"{name} has no healthcheck"


def test_each_app_service_waits_for_its_migration_topics_and_kafka(services) -> None:
    for app in APP_SERVICES:
        deps = _depends_on(services[app])
        migrate = f"{app}-migrate"
        assert deps.get(migrate, {}).get("condition") == "service_completed_successfully", app
        assert deps.get("kafka-topics", {}).get("condition") == "service_completed_successfully"
        assert deps.get("kafka", {}).get("condition") == "service_healthy", app
        assert services[migrate]["command"] == ["migrate"], migrate
        assert _depends_on(services[migrate])["postgres"]["condition"] == "service_healthy"


def test_app_services_serve_on_their_host_ports(services) -> None:
    for app, port in HOST_PORTS.items():
        svc = services[app]
        assert svc["command"] == ["serve", "--host", "0.0.0.0", "--port", "8000"], app
        published = [str(p).rsplit(":", 2)[-2:] for p in svc["ports"]]
        assert published == [[str(port), "8000"]], f"{app}: {svc['ports']}"
        assert "/healthz" in " ".join(svc["healthcheck"]["test"]), app


def test_each_service_gets_its_own_database_and_kafka(services) -> None:
    sql = POSTGRES_INIT.read_text(encoding="utf-8")
    for app in APP_SERVICES:
        for name in (app, f"{app}-migrate"):
            env = _environment(services[name])
            assert env["DATABASE_URL"].startswith("postgresql+psycopg://"), name
            assert env["DATABASE_URL"].endswith(f"@postgres:5432/jobstream_{app}"), name
            assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092", name
            assert env["JOBSTREAM_ENV"] == "production", name
        assert re.search(rf"CREATE DATABASE jobstream_{app}\b", sql), app


def test_kafka_is_single_node_kraft_without_topic_auto_creation(services) -> None:
    kafka = services["kafka"]
    assert re.fullmatch(r"apache/kafka:4\.\d+\.\d+", kafka["image"]), kafka["image"]
    env = _environment(kafka)
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    for key, value in env.items():
        if key.endswith("REPLICATION_FACTOR") or key.endswith("MIN_ISR"):
            assert value == "1", key


# --- secrets -------------------------------------------------------------------------------


def test_services_verify_against_the_front_doors_published_keys(services) -> None:
    for app in APP_SERVICES[1:]:
        env = _environment(services[app])
        assert env["JOBSTREAM_JWKS_URL"] == "http://web:8000/.well-known/jwks.json", app
        assert "JOBSTREAM_SIGNING_KEYS" not in env, f"{app} must not hold the private keys"


def test_only_the_front_door_and_its_key_job_mount_the_private_keys(services) -> None:
    mounting = {
        name
        for name, svc in services.items()
        for volume in svc.get("volumes", [])
        if str(volume).split(":", 1)[0] == KEYS_VOLUME
    }
    assert mounting == {"web", "signing-keys"}
    assert f"{KEYS_VOLUME}:{KEYS_PATH}:ro" in services["web"]["volumes"], "web reads, never writes"
    assert _environment(services["web"])["JOBSTREAM_SIGNING_KEYS"].startswith(KEYS_PATH)
    job = " ".join(services["signing-keys"]["command"])
    # Made once: a second `up` must not replace the keys (every session would end).
    assert job.startswith(f"test -s {KEYS_PATH}/signing-keys.json ||"), job
    assert _depends_on(services["web"])["signing-keys"]["condition"] == (
        "service_completed_successfully"
    )


def test_no_literal_secret_values(services) -> None:
    for name, svc in services.items():
        for key, value in _environment(svc).items():
            if not SECRET_NAME.search(key) or (name, key) in ALLOWED_LITERALS:
                continue
            assert INTERPOLATION.fullmatch(value), f"{name}: {key} has a literal value"


# --- Dockerfiles ---------------------------------------------------------------------------


def _workspace_members() -> list[str]:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    members: list[str] = []
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        members += sorted(
            p.parent.relative_to(ROOT).as_posix() for p in ROOT.glob(f"{pattern}/pyproject.toml")
        )
    return members


def _member_copies(text: str) -> list[str]:
    return re.findall(r"^COPY (\S+)/pyproject\.toml \1/pyproject\.toml$", text, re.MULTILINE)


@pytest.mark.parametrize("app", APP_SERVICES)
def test_dockerfile_follows_the_two_step_uv_pattern(app: str) -> None:
    text = (ROOT / "services" / app / "Dockerfile").read_text(encoding="utf-8")
    lines = [ln.strip() for ln in text.splitlines()]
    assert "FROM python:3.11-slim" in lines
    assert "COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /bin/" in lines
    assert sorted(_member_copies(text)) == sorted(_workspace_members())
    first = f"uv sync --locked --no-install-workspace --package jobstream-{app} --no-dev"
    second = f"uv sync --locked --package jobstream-{app} --no-dev"
    assert text.count("--mount=type=cache,target=/root/.cache/uv") == 2
    assert text.index(first) < text.index("COPY shared/ shared/")
    assert text.index(f"COPY services/{app}/ services/{app}/") < text.index(second)
    user = re.findall(r"^USER (\S+)$", text, re.MULTILINE)
    assert user and user[-1].split(":")[0] not in {"0", "root"}, "image must not run as root"
    assert f'ENTRYPOINT ["jobstream-{app}"]' in lines
    assert 'CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]' in lines
    assert "EXPOSE 8000" in lines
    assert "HEALTHCHECK" in text and "urllib.request" in text
    assert "http://127.0.0.1:8000/healthz" in text


def test_dockerfiles_differ_only_by_service_name() -> None:
    def normalised(app: str) -> str:
        text = (ROOT / "services" / app / "Dockerfile").read_text(encoding="utf-8")
        kept = [ln for ln in text.splitlines() if not re.match(r"COPY \S+/pyproject\.toml ", ln)]
        return "\n".join(kept).replace(app, "<svc>")

    # The Python services; the front door adds a stage that builds its browser assets.
    reference = normalised(APP_SERVICES[1])
    for app in APP_SERVICES[2:]:
        assert normalised(app) == reference, app


def test_the_front_doors_assets_are_built_from_the_npm_lock_file() -> None:
    text = (ROOT / "services" / "web" / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY services/web/frontend/package.json services/web/frontend/package-lock.json" in text
    assert "RUN npm ci" in text and "npm install" not in text
    assert text.index("AS frontend") < text.index("FROM python:3.11-slim")
    assert "COPY --from=frontend" in text
