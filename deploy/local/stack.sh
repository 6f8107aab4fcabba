#!/usr/bin/env bash
# Jobstream's local stack without Docker: a real PostgreSQL cluster and a real Kafka broker
# on loopback, and (with `up`) the six services (five and the web front door) as plain processes.
#
#   stack.sh install            apt packages if missing (postgresql, Java 17, Maven, curl),
#                               uv (pinned, with pip) + Kafka jars
#   stack.sh infra-up           start PostgreSQL and Kafka if needed, create databases and topics
#   stack.sh frontend           build the web front end (npm ci + esbuild) if its sources changed
#   stack.sh up                 install + infra-up + migrate and start the services + demo data
#   stack.sh down [--purge]     stop everything; --purge also deletes Kafka data and the cluster
#   stack.sh logs               follow the service and Kafka logs
#   stack.sh status             what runs
#   stack.sh restart kafka|postgresql   stop and start one of them (fault tests)
#
# Every command is safe to repeat. State lives outside the work tree, in $JOBSTREAM_HOME
# (default ${XDG_CACHE_HOME:-$HOME/.cache}/jobstream), so several clones (and CI's fresh
# clone) share one downloaded Kafka and one running broker.
#
# A second, private instance (the fault tests restart theirs without touching anyone's):
# JOBSTREAM_STACK_RUN (state directory), JOBSTREAM_KAFKA_PORT and
# JOBSTREAM_KAFKA_CONTROLLER_PORT, JOBSTREAM_PG_CLUSTER and JOBSTREAM_PG_PORT. The Kafka jars
# stay in the shared cache. Unset, everything is as described above.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# ensure_uv: uv at the version CI pins, installed with pip when missing (it calls apt_install).
# shellcheck source=deploy/local/ensure-uv.sh
. "$HERE/ensure-uv.sh"

JOBSTREAM_HOME="${JOBSTREAM_HOME:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/jobstream}"
RUN="${JOBSTREAM_STACK_RUN:-$JOBSTREAM_HOME/run}"
LOGS="$RUN/logs"
STACK_ENV="$RUN/stack.env"
# The private key set that signs tokens (only the web front door and token-minting tools
# read it) and its public half; services verify against the front door's JWKS URL.
SIGNING_KEYS_FILE="$RUN/signing-keys.json"
FRONTEND="$REPO/services/web/frontend"

KAFKA_POM="$HERE/kafka/pom.xml"
# The pom is the single place the version is pinned; the cache directory is named after it.
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM")"
KAFKA_LIB="$JOBSTREAM_HOME/kafka/$KAFKA_VERSION/lib"
KAFKA_CONF="$RUN/kafka"
KAFKA_DATA="$RUN/kafka-data"
KAFKA_PID="$RUN/kafka.pid"
KAFKA_HOST=127.0.0.1
KAFKA_PORT="${JOBSTREAM_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${JOBSTREAM_KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_BOOTSTRAP="$KAFKA_HOST:$KAFKA_PORT"
# Each partition costs the broker heap; a long-lived developer broker that has seen many
# test topics needs more than the 512 MiB a fresh one does.
KAFKA_HEAP="${JOBSTREAM_KAFKA_HEAP:-1g}"

PG_CLUSTER="${JOBSTREAM_PG_CLUSTER:-jobstream}"
PG_PORT="${JOBSTREAM_PG_PORT:-55432}"
PG_USER=jobstream
PG_PASSWORD=jobstream
PG_ADMIN_URL="postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/postgres"

# Order matters: service i listens on port 8000+i (the web front door on 8000).
SERVICES=(web intake dispatch fieldupdates billing reporting)
SERVICE_FIRST_PORT=8000

# Deadlines in seconds; a slow CI machine may raise them from the environment.
KAFKA_START_TIMEOUT="${JOBSTREAM_KAFKA_START_TIMEOUT:-90}"
PG_START_TIMEOUT="${JOBSTREAM_PG_START_TIMEOUT:-60}"
SERVICE_START_TIMEOUT="${JOBSTREAM_SERVICE_START_TIMEOUT:-90}"
STOP_TIMEOUT="${JOBSTREAM_STOP_TIMEOUT:-30}"

log() { printf '[stack] %s\n' "$*" >&2; }
die() {
  printf '[stack] ERROR: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------
# helpers

# apt-get and cluster management need root; a developer who is not root goes through sudo.
as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo -- "$@"
  else
    die "need root (or sudo) for: $*"
  fi
}

# PostgreSQL's superuser is reached by peer authentication on the Unix socket, so no
# password ever exists for it. `cd /` keeps psql from complaining about an unreadable cwd.
as_postgres() {
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && sudo -u postgres -- "$@")
  fi
}

# Run the workspace's own CLI. --frozen installs exactly what uv.lock says and never rewrites
# uv.lock (other people may be mid-edit on pyproject files).
uv_run() { (cd "$REPO" && uv run --frozen --quiet "$@"); }

# True when the pid in $1 is alive and its command line contains $2 (guards against a
# recycled pid after a reboot leaving a stale pid file).
pid_alive() {
  local file=$1 pattern=$2 pid cmdline
  [[ -f $file ]] || return 1
  pid="$(<"$file")"
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Read into a variable rather than pipe into `grep -q`, which under pipefail can fail
  # the check when grep exits before the writer is done.
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ $cmdline == *"$pattern"* ]]
}

# Start "$@" detached in its own session so it outlives this script and the terminal, and so
# `down` can signal the whole process group (uv run and the Python it spawns). The pid is
# written by the process itself before exec, which is right whether or not setsid forked.
spawn() {
  local pidfile=$1 logfile=$2
  shift 2
  rm -f "$pidfile"
  # shellcheck disable=SC2016 # expanded by the inner bash, on purpose
  setsid env -u JOBSTREAM_STACK_LOCKED bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" \
    </dev/null >>"$logfile" 2>&1 &
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s $pidfile ]] && return 0
    sleep 0.1
  done
  die "could not start: $*"
}

# Stop processes started by spawn: SIGTERM each one's process group, wait for all of them
# together (so five services take as long as the slowest, not the sum), SIGKILL at the
# deadline. Arguments are triples: pid file, command-line pattern, name.
stop_pidfiles() {
  local pids=() file pattern name pid deadline
  while (($# >= 3)); do
    file=$1 pattern=$2 name=$3
    shift 3
    if pid_alive "$file" "$pattern"; then
      pid="$(<"$file")"
      log "stopping $name (pid $pid)"
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
    rm -f "$file"
  done
  deadline=$((SECONDS + STOP_TIMEOUT))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid did not stop within ${STOP_TIMEOUT}s; killing it"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# One lock for every command that changes state: several engineers (and CI) run the test
# command at once, and two of them must not both decide to start Kafka. The script re-runs
# itself under `flock -o`, which holds the lock in the flock process and closes it for the
# script: a lock fd inherited by Kafka or postgres would otherwise stay held for as long as
# they run.
with_lock() {
  [[ ${JOBSTREAM_STACK_LOCKED:-} == 1 ]] && return 0
  mkdir -p "$RUN"
  local lock="$RUN/stack.lock"
  if ! flock -n -o "$lock" true; then
    log "another stack.sh is running; waiting for it"
  fi
  JOBSTREAM_STACK_LOCKED=1 exec flock -o -w 600 "$lock" bash "${BASH_SOURCE[0]}" "$@"
}

# ---------------------------------------------------------------------------------------
# install

java_major() {
  command -v java >/dev/null || return 0
  java -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -n1
}

# Newest installed PostgreSQL major version, by the server binaries Debian puts there.
pg_newest_version() {
  local d
  for d in /usr/lib/postgresql/*/bin/postgres; do
    [[ -x $d ]] && basename "$(dirname "$(dirname "$d")")"
  done | sort -n | tail -n1
}

have_postgres() {
  [[ -n "$(pg_newest_version)" ]] && command -v pg_createcluster >/dev/null &&
    command -v pg_ctlcluster >/dev/null && command -v pg_isready >/dev/null &&
    command -v psql >/dev/null
}

apt_install() {
  log "installing with apt: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

ensure_packages() {
  local pkgs=() major
  have_postgres || pkgs+=(postgresql)
  major="$(java_major)"
  # Kafka 4 brokers need Java 17 or newer.
  if [[ -z $major || $major -lt 17 ]]; then pkgs+=(openjdk-17-jre-headless); fi
  command -v mvn >/dev/null || pkgs+=(maven)
  command -v curl >/dev/null || pkgs+=(curl)
  command -v flock >/dev/null || pkgs+=(util-linux)
  # Reporting's dashboard test renders the page in a real headless browser.
  command -v chromium >/dev/null || pkgs+=(chromium)
  # The web front door's scripts and styles are built with esbuild from npm.
  command -v npm >/dev/null || pkgs+=(nodejs npm)
  # The alert rules' tests run promtool and a real Prometheus on a port of their own.
  command -v promtool >/dev/null && command -v prometheus >/dev/null || pkgs+=(prometheus)
  if ((${#pkgs[@]})); then apt_install_not_started "${pkgs[@]}"; fi
}

# Install without starting the packaged services (Debian's Prometheus would take :9090):
# a policy-rc.d says no for the length of the install, unless the machine has one already.
apt_install_not_started() {
  local policy=/usr/sbin/policy-rc.d status=0
  if [[ -e $policy ]]; then
    apt_install "$@"
    return
  fi
  as_root sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod +x $policy"
  apt_install "$@" || status=$?
  as_root rm -f "$policy"
  return "$status"
}

# Gather the broker's jars from Maven Central into the cache. The marker holds the pom's
# hash, so a changed pom (say, a Log4j bump) refetches while an unchanged one costs nothing.
fetch_kafka() {
  local marker="$KAFKA_LIB/.complete" want tmp
  want="$(sha256sum "$KAFKA_POM" | cut -d' ' -f1)"
  if [[ -f $marker && "$(<"$marker")" == "$want" ]]; then
    return 0
  fi
  command -v mvn >/dev/null || die "Maven is missing; run: bash deploy/local/stack.sh install"
  log "fetching Kafka $KAFKA_VERSION jars into $KAFKA_LIB"
  # Fill a scratch directory and rename it, so an interrupted download never looks complete.
  tmp="$KAFKA_LIB.partial.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  # Maven's output (colour codes even in batch mode) only matters when it fails.
  if ! mvn -B -q -f "$KAFKA_POM" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
    cat "$tmp.log" >&2
    rm -rf "$tmp" "$tmp.log"
    die "Maven could not fetch the Kafka jars"
  fi
  rm -f "$tmp.log"
  printf '%s\n' "$want" >"$tmp/.complete"
  rm -rf "$KAFKA_LIB"
  mv "$tmp" "$KAFKA_LIB"
}

cmd_install() {
  ensure_packages
  ensure_uv
  fetch_kafka
  log "install: done (Kafka $KAFKA_VERSION, PostgreSQL $(pg_newest_version), Java $(java_major), $(uv --version))"
}

# ---------------------------------------------------------------------------------------
# PostgreSQL

# The version of the existing jobstream cluster if there is one (so an upgrade of the
# packages does not orphan it), else the newest installed.
pg_version() {
  local v
  v="$(pg_lsclusters -h 2>/dev/null | awk -v c="$PG_CLUSTER" '$2 == c { print $1 }' | sort -n | tail -n1)"
  if [[ -n $v && -x /usr/lib/postgresql/$v/bin/postgres ]]; then
    echo "$v"
  else
    pg_newest_version
  fi
}

pg_cluster_exists() {
  pg_lsclusters -h 2>/dev/null |
    awk -v c="$PG_CLUSTER" -v v="$1" '$1 == v && $2 == c { found = 1 } END { exit !found }'
}

pg_ensure_cluster() {
  local v=$1
  if ! pg_cluster_exists "$v"; then
    log "creating PostgreSQL $v cluster '$PG_CLUSTER' on port $PG_PORT"
    # Encoding and locale are explicit because CI may run with no LANG (initdb would pick
    # SQL_ASCII). start-conf=manual: this script starts it, not the machine's init at boot.
    as_root pg_createcluster "$v" "$PG_CLUSTER" -p "$PG_PORT" --start-conf=manual \
      -e UTF8 --locale C.UTF-8 >/dev/null
  fi
  pg_write_settings "$v"
}

# Our settings go in a conf.d drop-in (Debian's postgresql.conf includes conf.d/), which is
# rewritten each time so an existing cluster converges too; pg_createcluster -o cannot be
# used for listen_addresses as it writes 127.0.0.1 unquoted, which postgres rejects.
pg_write_settings() {
  local v=$1 dropin="/etc/postgresql/$1/$PG_CLUSTER/conf.d/jobstream.conf" want
  # synchronous_commit=off trades the last few commits on a crash for fast tests; the data
  # files themselves stay crash-safe. Services pool connections and tests create
  # databases, hence the roomier max_connections.
  want="# Written by deploy/local/stack.sh; edits are overwritten.
listen_addresses = '127.0.0.1'
port = $PG_PORT
max_connections = 300
synchronous_commit = off
"
  if [[ ! -f $dropin || "$(<"$dropin")"$'\n' != "$want" ]]; then
    printf '%s' "$want" | as_root tee "$dropin" >/dev/null
    if pg_running "$v"; then
      log "PostgreSQL settings changed; restarting $v/$PG_CLUSTER to apply them"
      as_root pg_ctlcluster --skip-systemctl-redirect "$v" "$PG_CLUSTER" restart -m fast
    fi
  fi
}

pg_running() { pg_ctlcluster "$1" "$PG_CLUSTER" status >/dev/null 2>&1; }

pg_start() {
  local v=$1 deadline
  if ! pg_running "$v"; then
    log "starting PostgreSQL $v/$PG_CLUSTER"
    # --skip-systemctl-redirect: run pg_ctl directly, which works in a container with no
    # systemd (and on a machine with one, the cluster is still ours to manage).
    as_root pg_ctlcluster --skip-systemctl-redirect "$v" "$PG_CLUSTER" start
  fi
  deadline=$((SECONDS + PG_START_TIMEOUT))
  until pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; do
    ((SECONDS < deadline)) || die "PostgreSQL not ready on 127.0.0.1:$PG_PORT after ${PG_START_TIMEOUT}s (see /var/log/postgresql/postgresql-$v-$PG_CLUSTER.log)"
    sleep 0.2
  done
}

# The role is a superuser because tests create and drop throwaway databases (and
# extensions); the password is reset each time so the state always converges.
pg_ensure_databases() {
  local dbs="" s
  for s in "${SERVICES[@]}"; do dbs+="${dbs:+,}'jobstream_$s'"; done
  as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
    CREATE ROLE $PG_USER LOGIN CREATEDB SUPERUSER PASSWORD '$PG_PASSWORD';
  ELSE
    ALTER ROLE $PG_USER LOGIN CREATEDB SUPERUSER PASSWORD '$PG_PASSWORD';
  END IF;
END
\$\$;
SELECT format('CREATE DATABASE %I OWNER $PG_USER', d)
FROM unnest(ARRAY[$dbs]) AS d
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = d)
\gexec
SQL
}

pg_up() {
  local v
  v="$(pg_version)"
  [[ -n $v ]] || die "PostgreSQL is not installed; run: bash deploy/local/stack.sh install"
  pg_ensure_cluster "$v"
  pg_start "$v"
  pg_ensure_databases
  log "PostgreSQL $v ready on 127.0.0.1:$PG_PORT"
}

pg_down() {
  local v purge=$1
  v="$(pg_version)"
  [[ -n $v ]] && pg_cluster_exists "$v" || return 0
  if pg_running "$v"; then
    log "stopping PostgreSQL $v/$PG_CLUSTER"
    as_root pg_ctlcluster --skip-systemctl-redirect "$v" "$PG_CLUSTER" stop -m fast
  fi
  if [[ $purge == 1 ]]; then
    log "dropping PostgreSQL cluster $v/$PG_CLUSTER"
    as_root pg_dropcluster "$v" "$PG_CLUSTER"
  fi
}

# ---------------------------------------------------------------------------------------
# Kafka

kafka_running() { pid_alive "$KAFKA_PID" kafka.Kafka; }

kafka_java() {
  java -Dkafka.logs.dir="$LOGS" -Dlog4j2.configurationFile="$KAFKA_CONF/log4j2.xml" \
    -cp "$KAFKA_LIB/*" "$@"
}

# The running broker reads its configuration from the cache, not the work tree, so that
# deleting a clone (CI's, say) never pulls files from under it.
kafka_write_config() {
  mkdir -p "$KAFKA_CONF" "$KAFKA_DATA" "$LOGS"
  {
    # The listener ports are the file's unless a private instance chose others.
    sed -e "s/127.0.0.1:9092/127.0.0.1:$KAFKA_PORT/g" \
      -e "s/127.0.0.1:9093/127.0.0.1:$KAFKA_CONTROLLER_PORT/g" "$HERE/kafka/server.properties"
    printf '\n# Added by stack.sh\nlog.dirs=%s\n' "$KAFKA_DATA"
  } >"$KAFKA_CONF/server.properties.tmp"
  mv "$KAFKA_CONF/server.properties.tmp" "$KAFKA_CONF/server.properties"
  cp "$HERE/kafka/log4j2.xml" "$KAFKA_CONF/log4j2.xml"
}

# KRaft storage is formatted once; meta.properties marks a formatted log directory.
kafka_format_once() {
  [[ -f $KAFKA_DATA/meta.properties ]] && return 0
  local cluster_id
  cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid)"
  log "formatting Kafka storage in $KAFKA_DATA (cluster id $cluster_id)"
  # --standalone makes this node the sole voter of a dynamic controller quorum.
  kafka_java kafka.tools.StorageTool format -t "$cluster_id" \
    -c "$KAFKA_CONF/server.properties" --standalone --ignore-formatted >>"$LOGS/kafka.out" 2>&1 ||
    die "formatting Kafka storage failed; see $LOGS/kafka.out"
}

kafka_start() {
  if kafka_running; then
    return 0
  fi
  if port_open "$KAFKA_PORT"; then
    die "something not started by stack.sh already listens on 127.0.0.1:$KAFKA_PORT"
  fi
  [[ -f $KAFKA_LIB/.complete ]] || die "Kafka jars missing; run: bash deploy/local/stack.sh install"
  kafka_write_config
  kafka_format_once
  log "starting Kafka $KAFKA_VERSION (logs: $LOGS/kafka.log)"
  # The G1 settings are those of Kafka's own start scripts; the heap is small on purpose.
  spawn "$KAFKA_PID" "$LOGS/kafka.out" \
    java -Xms256m "-Xmx${KAFKA_HEAP}" -server \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dkafka.logs.dir="$LOGS" -Dlog4j2.configurationFile="$KAFKA_CONF/log4j2.xml" \
    -cp "$KAFKA_LIB/*" kafka.Kafka "$KAFKA_CONF/server.properties"
}

# Wait for the listener first with a cheap TCP probe that also notices a broker that died
# on start (rather than spinning to the deadline), then for a real metadata answer.
kafka_wait() {
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT)) left
  until port_open "$KAFKA_PORT"; do
    if ! kafka_running; then
      tail -n 30 "$LOGS/kafka.out" "$LOGS/kafka.log" >&2 2>/dev/null || true
      die "Kafka exited during start-up (logs above)"
    fi
    ((SECONDS < deadline)) || die "Kafka did not open 127.0.0.1:$KAFKA_PORT within ${KAFKA_START_TIMEOUT}s"
    sleep 0.2
  done
  left=$((deadline - SECONDS))
  ((left > 5)) || left=5
  uv_run jobstream wait-kafka --bootstrap-servers "$KAFKA_BOOTSTRAP" --timeout "$left" >/dev/null
}

kafka_topics() {
  local out
  out="$(uv_run jobstream topics create --bootstrap-servers "$KAFKA_BOOTSTRAP" --wait 30)"
  log "$out"
}

kafka_down() {
  stop_pidfiles "$KAFKA_PID" kafka.Kafka Kafka
  if [[ ${1:-0} == 1 ]]; then
    log "deleting Kafka data $KAFKA_DATA"
    rm -rf "$KAFKA_DATA"
  fi
}

# ---------------------------------------------------------------------------------------
# environment for clients

write_stack_env() {
  mkdir -p "$RUN"
  printf 'KAFKA_BOOTSTRAP_SERVERS=%s\nJOBSTREAM_PG_ADMIN_URL=%s\n' \
    "$KAFKA_BOOTSTRAP" "$PG_ADMIN_URL" >"$STACK_ENV.tmp"
  mv "$STACK_ENV.tmp" "$STACK_ENV"
}

# The development key set, made once so tokens minted earlier stay valid; the private set
# is never printed (mode 600), its public half is what the front door publishes.
ensure_signing_keys() {
  if [[ ! -s $SIGNING_KEYS_FILE ]]; then
    (cd "$REPO" && uv run --no-sync jobstream keys generate "$SIGNING_KEYS_FILE") >/dev/null
    log "created a development signing key set in $SIGNING_KEYS_FILE"
  fi
  chmod 600 "$SIGNING_KEYS_FILE"
}

# Build the front end when its sources or lock file are newer than the last build.
build_frontend() {
  local stamp="$FRONTEND/../src/jobstream/web/static/dist/manifest.json"
  if [[ -f $stamp ]] && [[ -z "$(find "$FRONTEND/src" "$FRONTEND/package-lock.json" "$FRONTEND/build.mjs" -newer "$stamp" -print -quit)" ]]; then
    return 0
  fi
  log "building the web front end (npm ci, esbuild)"
  (cd "$FRONTEND" && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build) ||
    die "the front end did not build"
}

cmd_infra_up() {
  local t0=$SECONDS
  mkdir -p "$RUN" "$LOGS"
  fetch_kafka
  command -v java >/dev/null || die "Java is missing; run: bash deploy/local/stack.sh install"
  ensure_uv
  # The JVM takes seconds to boot; set PostgreSQL up meanwhile.
  kafka_start
  pg_up
  kafka_wait
  log "Kafka $KAFKA_VERSION ready on $KAFKA_BOOTSTRAP"
  kafka_topics
  write_stack_env
  log "infra-up: done in $((SECONDS - t0))s; client settings in $STACK_ENV"
}

# ---------------------------------------------------------------------------------------
# services

service_port() {
  local i
  for i in "${!SERVICES[@]}"; do
    if [[ ${SERVICES[$i]} == "$1" ]]; then
      echo $((SERVICE_FIRST_PORT + i))
      return 0
    fi
  done
  die "unknown service $1"
}

service_pidfile() { echo "$RUN/$1.pid"; }

# Run "$@" with the environment a service expects (a subshell, so nothing leaks here).
with_service_env() {
  local s=$1
  shift
  (
    export DATABASE_URL="postgresql+psycopg://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/jobstream_$s"
    export KAFKA_BOOTSTRAP_SERVERS="$KAFKA_BOOTSTRAP"
    export JOBSTREAM_JWKS_URL="http://127.0.0.1:$SERVICE_FIRST_PORT/.well-known/jwks.json"
    # Only token issuers get the private keys: the front door (and the demo loader).
    if [[ $s == web || $s == demo ]]; then export JOBSTREAM_SIGNING_KEYS="$SIGNING_KEYS_FILE"; fi
    export JOBSTREAM_ENV=development
    cd "$REPO"
    "$@"
  )
}

service_stop() { stop_pidfiles "$(service_pidfile "$1")" "jobstream-$1" "$1"; }

services_stop_all() {
  local args=() s
  for s in "${SERVICES[@]}"; do args+=("$(service_pidfile "$s")" "jobstream-$s" "$s"); done
  stop_pidfiles "${args[@]}"
}

service_start() {
  local s=$1 port log
  port="$(service_port "$s")"
  log="$LOGS/$s.log"
  # Restart rather than keep a running one: `up` after a code change must serve the new code.
  # (cmd_up stops them all at once first; this covers a service started in between.)
  service_stop "$s"
  port_open "$port" && die "port $port (for $s) is taken by a process stack.sh did not start"
  printf '\n===== %s: migrate and serve on port %s =====\n' "$(date -Is)" "$port" >>"$log"
  log "$s: migrating"
  if ! with_service_env "$s" uv run --no-sync "jobstream-$s" migrate >>"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "$s: migrate failed (log above, full log in $log)"
  fi
  log "$s: starting on http://127.0.0.1:$port"
  with_service_env "$s" spawn "$(service_pidfile "$s")" "$log" \
    uv run --no-sync "jobstream-$s" serve --host 127.0.0.1 --port "$port"
}

service_wait() {
  local s=$1 port deadline
  port="$(service_port "$s")"
  deadline=$((SECONDS + SERVICE_START_TIMEOUT))
  until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/readyz" 2>/dev/null; do
    if ! pid_alive "$(service_pidfile "$s")" "jobstream-$s"; then
      tail -n 40 "$LOGS/$s.log" >&2
      die "$s exited during start-up (log above)"
    fi
    ((SECONDS < deadline)) || die "$s: /readyz not 200 within ${SERVICE_START_TIMEOUT}s; see $LOGS/$s.log"
    sleep 0.3
  done
  log "$s: ready"
}

cmd_up() {
  local t0=$SECONDS s
  ensure_uv
  (cd "$REPO" && uv sync --locked --quiet)
  mkdir -p "$LOGS"
  # Quiet when nothing is missing; on failure show what apt or Maven said. It runs as a
  # child process (which inherits the lock, see with_lock) because bash ignores `set -e`
  # inside a function called from an `if`.
  if ! bash "${BASH_SOURCE[0]}" install >"$LOGS/install.log" 2>&1; then
    cat "$LOGS/install.log" >&2
    die "install failed"
  fi
  cmd_infra_up
  ensure_signing_keys
  build_frontend
  services_stop_all
  # Migrations run one by one (each against its own database), then every service boots
  # at the same time and we wait for all of them.
  for s in "${SERVICES[@]}"; do service_start "$s"; done
  for s in "${SERVICES[@]}"; do service_wait "$s"; done
  log "loading demo data"
  local demo_ok=1 accounts
  DATABASE_URL="" with_service_env demo uv run --no-sync jobstream demo --base-host http://127.0.0.1 ||
    demo_ok=0
  accounts="$(with_service_env web uv run --no-sync jobstream-web accounts demo)" || demo_ok=0
  echo
  echo "Jobstream is up (${KAFKA_BOOTSTRAP} Kafka, 127.0.0.1:$PG_PORT PostgreSQL)."
  echo
  echo "Open the dispatch board: http://127.0.0.1:$SERVICE_FIRST_PORT/board"
  echo "Demo accounts (role, username, password, bound to):"
  echo "$accounts"
  echo
  echo "Service APIs (OpenAPI at /docs):"
  for s in "${SERVICES[@]}"; do
    [[ $s == web ]] && continue
    printf '  %-13s http://127.0.0.1:%s/docs\n' "$s" "$(service_port "$s")"
  done
  echo
  echo "A bearer token for scripts (roles: see --help): uv run jobstream token --role dispatcher"
  echo "Logs: make logs    Stop: make down"
  if [[ $demo_ok == 0 ]]; then
    # The services stay up so the failure can be looked into through their APIs and logs.
    die "the demo data did not load (error above); services are still running. up took $((SECONDS - t0))s"
  fi
  echo "up: done in $((SECONDS - t0))s"
}

# ---------------------------------------------------------------------------------------
# down, logs, status

cmd_down() {
  local purge=0 s
  case "${1:-}" in
    "") ;;
    --purge) purge=1 ;;
    *) die "usage: stack.sh down [--purge]" ;;
  esac
  services_stop_all
  kafka_down "$purge"
  pg_down "$purge"
  log "down: done"
}

# Stop one piece of the infrastructure and start it again (the fault tests do this to their
# private instance); services stay up and must ride it out.
cmd_restart() {
  case "${1:-}" in
    kafka)
      kafka_down 0
      kafka_start
      kafka_wait
      log "Kafka restarted on $KAFKA_BOOTSTRAP"
      ;;
    postgresql)
      local v
      v="$(pg_version)"
      as_root pg_ctlcluster --skip-systemctl-redirect "$v" "$PG_CLUSTER" restart -m fast
      pg_start "$v"
      log "PostgreSQL $v/$PG_CLUSTER restarted on 127.0.0.1:$PG_PORT"
      ;;
    *) die "usage: stack.sh restart kafka|postgresql" ;;
  esac
}

cmd_logs() {
  local files=() s
  mkdir -p "$LOGS"
  for s in "${SERVICES[@]}"; do files+=("$LOGS/$s.log"); done
  files+=("$LOGS/kafka.log" "$LOGS/kafka.out")
  # -F follows files that appear later or get rotated (Kafka's log rolls at 20 MB).
  exec tail -n 20 -F "${files[@]}"
}

cmd_status() {
  local v s port pf
  v="$(pg_version)"
  if [[ -z $v ]]; then
    echo "postgresql    not installed"
  elif ! pg_cluster_exists "$v"; then
    echo "postgresql    no '$PG_CLUSTER' cluster yet"
  elif pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; then
    echo "postgresql    running   $v/$PG_CLUSTER on 127.0.0.1:$PG_PORT"
  else
    echo "postgresql    stopped   $v/$PG_CLUSTER"
  fi
  if kafka_running; then
    if port_open "$KAFKA_PORT"; then
      echo "kafka         running   $KAFKA_VERSION pid $(<"$KAFKA_PID") on $KAFKA_BOOTSTRAP"
    else
      echo "kafka         starting  $KAFKA_VERSION pid $(<"$KAFKA_PID")"
    fi
  else
    echo "kafka         stopped"
  fi
  for s in "${SERVICES[@]}"; do
    port="$(service_port "$s")"
    pf="$(service_pidfile "$s")"
    if pid_alive "$pf" "jobstream-$s"; then
      if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/readyz" 2>/dev/null; then
        printf '%-13s running   pid %s on http://127.0.0.1:%s (ready)\n' "$s" "$(<"$pf")" "$port"
      else
        printf '%-13s running   pid %s on http://127.0.0.1:%s (not ready)\n' "$s" "$(<"$pf")" "$port"
      fi
    else
      printf '%-13s stopped\n' "$s"
    fi
  done
}

usage() {
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
  local cmd=${1:-}
  shift || true
  case "$cmd" in
    install | infra-up | frontend | up | down | restart) with_lock "$cmd" "$@" ;;
  esac
  case "$cmd" in
    install) cmd_install ;;
    infra-up) cmd_infra_up ;;
    frontend) build_frontend ;;
    up) cmd_up ;;
    down) cmd_down "$@" ;;
    restart) cmd_restart "$@" ;;
    logs) cmd_logs ;;
    status) cmd_status ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
