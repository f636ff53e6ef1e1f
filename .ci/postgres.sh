#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1 and exports
# VEGA_TEST_DATABASE_URL for the Postgres tests (store/postgres, migrations,
# app/migrate). Idempotent: when a server already answers it only exports.
#
# Usage:  source .ci/postgres.sh          (what .ci/run does)
#    or:  eval "$(.ci/postgres.sh)"       (prints the export line)
#
# Order of attempts:
#   1. VEGA_TEST_DATABASE_URL (if set) or postgres://postgres@127.0.0.1:PORT/postgres
#      answers -> export it, done.
#   2. Install Debian's postgresql if no server binaries exist (apt-get).
#   3. A Debian cluster configured for PORT -> pg_ctlcluster VERSION NAME start.
#      Otherwise a throwaway cluster: initdb (trust auth, loopback only) under
#      ${TMPDIR:-/tmp}/vega-ci-pg-PORT, started with pg_ctl as the postgres user.
#   4. Wait until it accepts connections; if TCP needs a password (Debian's
#      default pg_hba), give the postgres role one over the local socket.
# Under CI=true every failure is fatal (non-zero status, message on stderr);
# otherwise it warns and the Postgres tests skip themselves.
#
# Knobs: VEGA_PG_PORT (default 5432), VEGA_PG_PASSWORD (default vega-ci, only
# used when the server demands a password on TCP).

_vega_pg() {
  local port="${VEGA_PG_PORT:-5432}" host=127.0.0.1
  local password="${VEGA_PG_PASSWORD:-vega-ci}"
  local trust_dsn="postgres://postgres@${host}:${port}/postgres?sslmode=disable"
  local pw_dsn="postgres://postgres:${password}@${host}:${port}/postgres?sslmode=disable"
  local dsn="${VEGA_TEST_DATABASE_URL:-}"

  _vega_pg_log() { echo "== postgres.sh: $*" >&2; }
  _vega_pg_fail() {
    if [ "${CI:-}" = "true" ]; then
      echo "postgres.sh: FATAL (CI=true): $*" >&2
    else
      if [ -z "${VEGA_TEST_DATABASE_URL:-}" ]; then
        echo "postgres.sh: WARNING: $* (the Postgres tests will skip)" >&2
      else
        echo "postgres.sh: WARNING: $* (the Postgres tests will fail to connect)" >&2
      fi
    fi
    return 1
  }
  _vega_pg_as_postgres() { # run a command as the postgres OS user when we are root
    if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
      runuser -u postgres -- "$@"
    else
      "$@"
    fi
  }
  _vega_pg_answers() { # $1 = DSN; true when a query succeeds within a few seconds
    command -v psql >/dev/null 2>&1 || return 1
    PGCONNECT_TIMEOUT=3 psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1
  }
  _vega_pg_bindir() { # newest installed server version's bin directory
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
    [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
  }

  # 1. Already there?
  if [ -n "$dsn" ]; then
    if _vega_pg_answers "$dsn"; then
      _vega_pg_log "using VEGA_TEST_DATABASE_URL (already answering)"
      return 0
    fi
    _vega_pg_fail "VEGA_TEST_DATABASE_URL is set but does not answer"
    return 1
  fi
  for dsn in "$trust_dsn" "$pw_dsn"; do
    if _vega_pg_answers "$dsn"; then
      _vega_pg_log "server already answering on ${host}:${port}"
      export VEGA_TEST_DATABASE_URL="$dsn"
      return 0
    fi
  done

  # 2. Install server binaries if needed.
  local bindir
  bindir="$(_vega_pg_bindir)" || bindir=""
  if [ -z "$bindir" ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
      _vega_pg_fail "no PostgreSQL server installed and no apt-get to install one"
      return 1
    fi
    _vega_pg_log "installing Debian postgresql"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    if ! { $sudo apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null; }; then
      _vega_pg_fail "apt-get install postgresql failed"
      return 1
    fi
    bindir="$(_vega_pg_bindir)" || bindir=""
    if [ -z "$bindir" ]; then
      _vega_pg_fail "postgresql installed but no initdb found under /usr/lib/postgresql"
      return 1
    fi
  fi

  # 3. Start a cluster: the Debian one for this port, else a throwaway one.
  local cluster=""
  if command -v pg_lsclusters >/dev/null 2>&1; then
    cluster="$(pg_lsclusters --no-header 2>/dev/null | awk -v p="$port" '$3 == p { print $1 " " $2; exit }')"
  fi
  if [ -n "$cluster" ]; then
    _vega_pg_log "starting Debian cluster $cluster"
    # shellcheck disable=SC2086 # "$cluster" is "VERSION NAME"
    pg_ctlcluster $cluster start >&2 || true # "already running" is not an error here
  else
    local dir="${TMPDIR:-/tmp}/vega-ci-pg-${port}"
    if [ ! -s "$dir/PG_VERSION" ]; then
      _vega_pg_log "initdb a throwaway cluster in $dir"
      mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1 && chown postgres: "$dir"
      chmod 700 "$dir"
      if ! _vega_pg_as_postgres "$bindir/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null; then
        _vega_pg_fail "initdb failed in $dir"
        return 1
      fi
    fi
    _vega_pg_log "starting the cluster in $dir on ${host}:${port}"
    if ! _vega_pg_as_postgres "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=${host} -p ${port} -k ${dir}" start >&2; then
      # pg_ctl fails when the server is already up; the readiness wait decides.
      _vega_pg_log "pg_ctl start reported failure; see $dir/server.log"
    fi
  fi

  # 4. Wait for readiness.
  local i
  for i in $(seq 1 60); do
    if "$bindir/pg_isready" -q -h "$host" -p "$port"; then break; fi
    sleep 0.5
  done
  if ! "$bindir/pg_isready" -q -h "$host" -p "$port"; then
    _vega_pg_fail "PostgreSQL did not become ready on ${host}:${port} within 30 s"
    return 1
  fi
  if _vega_pg_answers "$trust_dsn"; then
    dsn="$trust_dsn"
  else
    # Debian's pg_hba wants a password on TCP: set one over the local socket
    # (peer auth as the postgres OS user). A throwaway CI credential.
    _vega_pg_as_postgres psql -p "$port" -Atqc "ALTER ROLE postgres PASSWORD '${password}'" >/dev/null 2>&1 || true
    dsn="$pw_dsn"
    if ! _vega_pg_answers "$dsn"; then
      _vega_pg_fail "PostgreSQL is up on ${host}:${port} but neither trust nor password login works for role postgres"
      return 1
    fi
  fi
  export VEGA_TEST_DATABASE_URL="$dsn"
  _vega_pg_log "ready: VEGA_TEST_DATABASE_URL exported"
}

_vega_pg_status=0
_vega_pg || _vega_pg_status=$?
unset -f _vega_pg _vega_pg_log _vega_pg_fail _vega_pg_as_postgres _vega_pg_answers _vega_pg_bindir

if (return 0 2>/dev/null); then
  # Sourced: fatal only under CI, so a developer's shell keeps going.
  if [ "$_vega_pg_status" != 0 ] && [ "${CI:-}" = "true" ]; then
    unset _vega_pg_status
    return 1
  fi
  unset _vega_pg_status
else
  # Executed: print the export line for eval; exit status reports failure.
  if [ "$_vega_pg_status" = 0 ]; then
    printf 'export VEGA_TEST_DATABASE_URL=%q\n' "$VEGA_TEST_DATABASE_URL"
  fi
  exit "$_vega_pg_status"
fi
