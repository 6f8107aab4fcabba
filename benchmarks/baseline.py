"""A baseline commit's code, laid out to shadow this tree's, for benchmarks that compare.

`jobstream` is a namespace package, so a directory put first on PYTHONPATH that holds
``jobstream/<module>`` wins over this tree's copy of that module and leaves the rest as they
are. ``shadowing`` extracts paths of a commit with `git archive` into such a directory.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE_ROOT = "src/jobstream"


def shadowing(revision: str, paths: list[str], into: Path) -> str:
    """Extract ``paths`` (under some ``…/src/jobstream``) of ``revision``; the PYTHONPATH.

    ``shared/src/jobstream`` shadows all of the shared library;
    ``services/intake/src/jobstream/intake`` only the intake package;
    ``shared/src/jobstream/eventstore/store.py`` only that module.
    """
    archive = subprocess.run(
        ["git", "archive", revision, *paths], cwd=REPO, check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into / "tree", filter="data")
    package = into / "py" / "jobstream"
    package.mkdir(parents=True, exist_ok=True)
    for path in paths:
        inside = path.split(PACKAGE_ROOT, 1)[1].lstrip("/")
        source, target = into / "tree" / path, package / inside
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return str(into / "py")
