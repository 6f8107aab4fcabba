#!/usr/bin/env bash
# The one test command (`make test`, and CI through .ci/run): bring up real PostgreSQL and
# Kafka with stack.sh (idempotent, seconds once cached), point the tests at them through
# the environment, and run pytest with any arguments given, e.g.
#   bash deploy/local/test.sh -k outbox -x
# Exits with pytest's status; "no tests collected" (5) is not success either.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

# Same default as stack.sh; exported so both (and the tests) agree on where state lives.
export JOBSTREAM_HOME="${JOBSTREAM_HOME:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/jobstream}"
RUN="$JOBSTREAM_HOME/run"

bash "$HERE/stack.sh" install
# install made sure of uv; this process must find it too, and pip may have put it off PATH.
# shellcheck source=deploy/local/ensure-uv.sh
. "$HERE/ensure-uv.sh"
uv_on_path || {
  echo "test.sh: uv not found after stack.sh install" >&2
  exit 1
}
bash "$HERE/stack.sh" infra-up
bash "$HERE/stack.sh" frontend

# KAFKA_BOOTSTRAP_SERVERS and JOBSTREAM_PG_ADMIN_URL.
set -a
# shellcheck source=/dev/null
. "$RUN/stack.env"
set +a
# Tokens: the pytest plugin makes the run a key set of its own (the services it starts
# verify against its public half); nothing secret is read or exported here.

cd "$REPO"
# --locked fails when uv.lock is out of date with the pyproject files, as CI should.
uv sync --locked

status=0
uv run --no-sync pytest "$@" || status=$?
if [[ $status -eq 5 ]]; then
  echo "test.sh: pytest collected no tests; that counts as a failure" >&2
fi
exit "$status"
