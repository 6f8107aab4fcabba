"""Repository layout rules that a partial test run would not notice."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_test_directories_are_not_packages():
    """No tests folder holds an __init__.py.

    Under pytest's importlib mode a tests folder with __init__.py is named after its own
    directory ("unit"), so two services' tests/unit packages collide when the whole suite
    is collected together, though each service's tests pass alone.
    """
    packages = [
        str(p.relative_to(REPO))
        for p in REPO.glob("**/tests/**/__init__.py")
        if ".venv" not in p.parts and ".isolated-venvs" not in p.parts
    ] + [
        str(p.relative_to(REPO))
        for p in REPO.glob("**/tests/__init__.py")
        if ".venv" not in p.parts and ".isolated-venvs" not in p.parts
    ]
    assert packages == []


# What only the test bench may bring: the bench itself and the test frameworks it pulls in.
TEST_BENCH = {"jobstream-tools", "pytest", "pytest-asyncio", "hypothesis", "testcontainers"}
RUNTIME_DISTRIBUTIONS = [
    "jobstream-shared",
    "jobstream-intake",
    "jobstream-dispatch",
    "jobstream-fieldupdates",
    "jobstream-billing",
    "jobstream-reporting",
    "jobstream-web",
]


def _runtime_closure(lock: dict, name: str) -> set[str]:
    """Every distribution `name` installs without its dev group, by uv.lock."""
    packages = {p["name"]: p for p in lock["package"]}
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        package = packages[current]
        todo += [d["name"] for d in package.get("dependencies", [])]
        for extra in package.get("optional-dependencies", {}).values():
            # Extras a service image may ask for (s3) count as runtime too.
            todo += [d["name"] for d in extra]
    return seen


def test_the_test_bench_is_not_a_runtime_dependency():
    """A service image installs its distribution with --no-dev, so it must not need the bench.

    Nothing it reaches may pull in the simulator, demo data, fixtures or a test framework
    (they live in jobstream-tools, a dev dependency).
    """
    import tomllib

    lock = tomllib.loads((REPO / "uv.lock").read_text())
    reached = {name: _runtime_closure(lock, name) & TEST_BENCH for name in RUNTIME_DISTRIBUTIONS}
    assert {name: sorted(found) for name, found in reached.items() if found} == {}


def test_runtime_code_does_not_import_the_test_bench():
    """Only the `jobstream` command's guarded hook may name the bench.

    The hook adds `demo` and `simulate` when jobstream-tools is installed; services and
    shared never import the bench.
    """
    bench = ("jobstream.simulation", "jobstream.testing", "jobstream.demo", "jobstream.bench")
    offenders = []
    for source in [*REPO.glob("shared/src/**/*.py"), *REPO.glob("services/*/src/**/*.py")]:
        for number, line in enumerate(source.read_text().splitlines(), 1):
            words = line.split()
            if words[:1] in (["from"], ["import"]) and words[1].startswith(bench):
                offenders.append(f"{source.relative_to(REPO)}:{number}: {line.strip()}")
    allowed = "from jobstream.bench_commands import add_commands"
    assert [o for o in offenders if not o.endswith(allowed)] == []
    assert [o.split(":")[0] for o in offenders] == ["shared/src/jobstream/cli.py"]


# Libraries a service needs for one feature only: imported where used, so that every
# process of a service does not carry them (vroom brings pandas and pyarrow).
HEAVY_MODULES = ("vroom", "pyvrp", "pyarrow", "pandas", "numpy", "matplotlib", "reportlab", "PIL")
START_UP = """
import importlib, json, sys
from jobstream.service import Role, create_app
importlib.import_module("jobstream.{name}.__main__")  # the command that runs `serve`
app = importlib.import_module("jobstream.{name}.app")
create_app(app.definition(), frozenset(Role))
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


@pytest.mark.parametrize("name", ["intake", "dispatch", "fieldupdates", "billing", "reporting"])
def test_a_service_starts_without_its_heavy_libraries(name):
    """A service's command and app import no optimiser, chart, PDF or Parquet library."""
    script = START_UP.format(name=name, heavy=HEAVY_MODULES)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
