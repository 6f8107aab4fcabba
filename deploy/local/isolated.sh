#!/usr/bin/env bash
# Each service installs and passes its unit tests on its own: `uv sync --locked --package
# jobstream-<name>` into a venv of its own, then the service's CLI and unit tests. This
# catches a service that only works because a neighbour's dependency is installed in the
# shared workspace venv. Integration tests run in the workspace venv (make test).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Inside the work tree (ignored by git) so that several clones never share venvs.
VENVS="$REPO/.isolated-venvs"
cd "$REPO"
for service in web intake dispatch fieldupdates billing reporting; do
  venv="$VENVS/$service"
  echo "== jobstream-$service on its own ($venv)"
  UV_PROJECT_ENVIRONMENT="$venv" uv sync --locked --package "jobstream-$service" --quiet
  "$venv/bin/jobstream-$service" --help >/dev/null
  if compgen -G "services/$service/tests/unit/*.py" >/dev/null; then
    "$venv/bin/python" -m pytest -q -p no:cacheprovider "services/$service/tests/unit"
  fi
done
