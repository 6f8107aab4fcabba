"""Repository layout rules that a partial test run would not notice."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_test_directories_are_not_packages():
    """Under pytest's importlib mode a tests folder with __init__.py is named after its own
    directory ("unit"), so two services' tests/unit packages collide when the whole suite
    is collected together, though each service's tests pass alone."""
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
