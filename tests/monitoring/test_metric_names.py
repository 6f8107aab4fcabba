"""The dashboard and the alert rules ask only for metrics and labels the services define.

Definitions are read from the services' and shared code (every ``Counter``, ``Gauge``,
``Histogram`` or ``Summary`` call with a literal name), not from a list kept by hand, so a
metric renamed or dropped in code fails here instead of leaving an empty panel or an alert
that can never fire. The other way round, every metric defined has a panel.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from jobstream.testing.infra import repo_root

REPO = repo_root()
MONITORING = REPO / "deploy/monitoring"
DASHBOARD = MONITORING / "grafana/jobstream.json"
RULE_FILES = sorted((MONITORING / "rules").glob("*.yml"))
SOURCE_ROOTS = [REPO / "shared/src", *sorted((REPO / "services").glob("*/src"))]

# Labels Prometheus adds to every scraped series.
TARGET_LABELS = {"job", "instance"}
# Series Prometheus makes itself, with their labels (None: any label an alert carries).
PROMETHEUS_SERIES: dict[str, set[str] | None] = {"up": set(), "ALERTS": None}

KEYWORDS = {
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "inf",
    "nan",
}
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
RANGE = re.compile(r"\[[^\]]*\]")
VARIABLE = re.compile(r"\$\{?\w+\}?")
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
SELECTOR = re.compile(r"(?<![\w:])([a-zA-Z_:][\w:]*)?\s*\{([^}]*)\}")
MATCHER = re.compile(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)")
# Not part of a longer word, not a function call.
IDENTIFIER = re.compile(r"(?<![\w:.])([a-zA-Z_:][\w:]*)(?![\w:]|\s*\()")


@dataclass
class Query:
    """What one PromQL expression asks for."""

    selectors: list[tuple[str, set[str]]] = field(default_factory=list)
    grouping: set[str] = field(default_factory=set)

    @property
    def metrics(self) -> set[str]:
        """The series names it selects."""
        return {name for name, _ in self.selectors}


def parse(expr: str) -> Query:
    """Series names, their matchers' labels and the grouping labels of ``expr``.

    A tokenizer, not a full parser: enough for the expressions a dashboard and alert
    rules hold, and tested below on the shapes they use.
    """
    query = Query()
    text = VARIABLE.sub("", RANGE.sub("", STRING.sub('""', expr)))
    for labels in GROUPING.findall(text):
        query.grouping |= {label.strip() for label in labels.split(",") if label.strip()}
    text = GROUPING.sub(" ", text)
    for match in SELECTOR.finditer(text):
        name, matchers = match.group(1), match.group(2)
        labels = set(MATCHER.findall(matchers))
        if name is None:
            # {__name__=~"..."} would hide the name from this check.
            raise AssertionError(f"a selector without a metric name in {expr!r}")
        query.selectors.append((name, labels))
    text = SELECTOR.sub(" ", text)
    for name in IDENTIFIER.findall(text):
        if name not in KEYWORDS:
            query.selectors.append((name, set()))
    return query


@dataclass(frozen=True)
class Family:
    """A metric family defined in code: its kind, name and labels."""

    kind: str
    name: str
    labels: frozenset[str]
    where: str

    def series(self) -> dict[str, frozenset[str]]:
        """The series names prometheus_client exposes for it, with their labels."""
        if self.kind == "Counter":
            base = self.name.removesuffix("_total")
            return {f"{base}_total": self.labels, f"{base}_created": self.labels}
        if self.kind == "Gauge":
            return {self.name: self.labels}
        suffixes = ["_count", "_sum", "_created"]
        series = {f"{self.name}{s}": self.labels for s in suffixes}
        if self.kind == "Histogram":
            series[f"{self.name}_bucket"] = self.labels | {"le"}
        return series


def defined_families() -> list[Family]:
    """Every metric the services' and shared code define with a literal name."""
    families = []
    for root in SOURCE_ROOTS:
        for path in sorted(root.rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                family = _family(node, path)
                if family is not None:
                    families.append(family)
    return families


def _family(node: ast.AST, path: Path) -> Family | None:
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    kind = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    if kind not in ("Counter", "Gauge", "Histogram", "Summary") or not node.args:
        return None
    name = node.args[0]
    if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
        return None
    labels_node = node.args[2] if len(node.args) > 2 else None
    for keyword in node.keywords:
        if keyword.arg == "labelnames":
            labels_node = keyword.value
    labels = frozenset(ast.literal_eval(labels_node)) if labels_node is not None else frozenset()
    return Family(kind, name.value, labels, f"{path.relative_to(REPO)}:{node.lineno}")


def exposed_series() -> dict[str, frozenset[str]]:
    """Series name → labels, for everything the code defines."""
    series: dict[str, frozenset[str]] = {}
    for family in defined_families():
        series.update(family.series())
    return series


def dashboard_exprs() -> list[tuple[str, str]]:
    """(panel title, expr) of every query on the dashboard."""
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


def rule_exprs() -> list[tuple[str, str]]:
    """(alert or record name, expr) of every rule."""
    return [
        (rule.get("alert") or rule["record"], rule["expr"])
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]


def rule_labels() -> set[str]:
    """Labels an alert carries besides its series': Prometheus' own and the rules' labels."""
    labels = {"alertname", "alertstate"}
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                labels |= set(rule.get("labels", {}))
    return labels


def problems(exprs: list[tuple[str, str]]) -> list[str]:
    """Unknown series, labels not on the series they match, grouping by labels none has."""
    series = exposed_series()
    alert_labels = rule_labels()
    found = []
    for where, expr in exprs:
        query = parse(expr)
        if not query.selectors:
            found.append(f"{where}: no metric found in {expr!r}")
        available = set(TARGET_LABELS)
        for name, labels in query.selectors:
            if name in PROMETHEUS_SERIES:
                known = PROMETHEUS_SERIES[name]
                own = alert_labels | series_labels(series) if known is None else known
            elif name in series:
                own = set(series[name])
            else:
                found.append(f"{where}: {name} is not a metric the services define")
                continue
            available |= own
            unknown = labels - own - TARGET_LABELS - {"__name__"}
            if unknown:
                found.append(f"{where}: {name} has no label {sorted(unknown)}")
        missing = query.grouping - available
        if missing:
            found.append(f"{where}: grouped by {sorted(missing)}, which no series there has")
    return found


def series_labels(series: dict[str, frozenset[str]]) -> set[str]:
    """Every label any defined series has (what an alert built on them may carry)."""
    return set().union(*series.values())


def test_the_code_defines_the_metrics_the_rules_are_about():
    # The extractor must see the definitions at all, or every check below passes vacuously.
    names = {family.name for family in defined_families()}
    assert {
        "jobstream_consumer_lag_records",
        "jobstream_consumer_records_total",
        "jobstream_relay_oldest_unpublished_seconds",
        "jobstream_http_request_seconds",
        "jobstream_ready",
        "jobstream_readiness_changes_total",
    } <= names


def test_every_dashboard_query_uses_only_defined_metrics_and_labels():
    exprs = dashboard_exprs()
    assert len(exprs) > 10
    assert problems(exprs) == []


def test_every_alert_rule_uses_only_defined_metrics_and_labels():
    exprs = rule_exprs()
    assert len(exprs) > 5
    assert problems(exprs) == []


def test_every_metric_the_services_define_has_a_panel():
    on_dashboard = set().union(*(parse(expr).metrics for _, expr in dashboard_exprs()))
    without_panel = [
        f"{family.name} ({family.where})"
        for family in defined_families()
        if not on_dashboard & set(family.series())
    ]
    assert without_panel == [], "add a panel to deploy/monitoring/grafana/jobstream.json"


def test_every_panel_reads_the_chosen_prometheus():
    dashboard = json.loads(DASHBOARD.read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    assert [p["title"] for p in panels if p["datasource"]["uid"] != "${datasource}"] == []
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["query"] == "prometheus"


@pytest.mark.parametrize(
    ("expr", "metrics", "grouping"),
    [
        ('up{job=~"jobstream-.*"} == 0', {"up"}, set()),
        (
            'sum by (group, topic) (increase(x_total{outcome="dead_lettered"}[10m])) > 0',
            {"x_total"},
            {"group", "topic"},
        ),
        (
            "histogram_quantile(0.95, sum by (service, le) (rate(h_bucket[$__rate_interval])))",
            {"h_bucket"},
            {"service", "le"},
        ),
        ("a > 0 unless sum by (g) (rate(b[10m])) > 1 / 60", {"a", "b"}, {"g"}),
        ('label_replace(absent(up{job=~"j"}), "service", "web", "", "")', {"up"}, set()),
        ("topk(10, c offset 15m) / on (instance) group_left (x) d", {"c", "d"}, {"instance", "x"}),
    ],
)
def test_the_tokenizer_finds_series_and_grouping(expr, metrics, grouping):
    query = parse(expr)
    assert query.metrics == metrics
    assert query.grouping == grouping


def test_the_checker_catches_a_renamed_metric_and_a_wrong_label():
    found = problems(
        [
            ("renamed", "sum(rate(jobstream_consumer_records[5m]))"),
            ("label", 'jobstream_consumer_lag_records{service="intake"}'),
            ("grouping", "sum by (route) (jobstream_consumer_lag_records)"),
        ]
    )
    assert len(found) == 3
    assert [line.split(":")[0] for line in found] == ["renamed", "label", "grouping"]
