#!/usr/bin/env bash
# The README's test command: builds the workspace binaries and runs every test, on both backend
# pairs (SQLite + in-process store, PostgreSQL + Redis).
#
#   bash tests/run.sh [ARGS...]        ARGS go to `cargo nextest run` (or `cargo test`)
#   bash tests/run.sh --prerequisites-only   only install the build prerequisites (used by .ci/run)
#
# It brings up what the tests need by itself:
#   1. build prerequisites (libpq-dev, pkg-config) with apt-get when missing (root only);
#   2. PostgreSQL and Redis: the servers answering on 127.0.0.1:5432 / 127.0.0.1:6379 when there
#      are any; otherwise it starts the installed services; otherwise throwaway instances from the
#      installed binaries in a temporary directory on free ports (stopped when this script exits);
#      where the binaries are missing it installs them with apt-get (root) or stops, naming the
#      packages. The production-backend tests are never skipped.
#      TESSERA_TEST_PG_URL / TESSERA_TEST_REDIS_URL, when already set, are used as they are.
#   3. `cargo build --workspace --bins`, then `cargo nextest run --workspace` (or `cargo test`).
#   4. The browser tests in tests/browser (Chromium from Debian, playwright-core from npm).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'tests/run.sh: %s\n' "$*" >&2; }
die() {
    printf 'tests/run.sh: error: %s\n' "$*" >&2
    exit 1
}

if [ -d "${CARGO_HOME:-$HOME/.cargo}/bin" ]; then
    PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi
export PATH

is_root() { [ "$(id -u)" -eq 0 ]; }

APT_UPDATED=0
# apt_install WHY PACKAGE...: installs with apt-get as root, or stops naming the packages.
apt_install() {
    local why=$1
    shift
    if ! is_root; then
        die "$why: missing Debian packages: $*. Install them (as root: apt-get install -y $*) and run again."
    fi
    command -v apt-get >/dev/null 2>&1 ||
        die "$why: missing packages $* and there is no apt-get to install them"
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update"
        apt-get update -qq
        APT_UPDATED=1
    fi
    log "installing $* ($why)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# ---------------------------------------------------------------------------------------------
# 1. Build prerequisites
# ---------------------------------------------------------------------------------------------
deb_installed() {
    command -v dpkg-query >/dev/null 2>&1 &&
        [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

ensure_build_prerequisites() {
    local missing=()
    command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
    command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
    # libpq-dev ships libpq.pc and the libpq.so link the postgres feature of diesel needs.
    if ! { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libpq; } &&
        ! deb_installed libpq-dev; then
        missing+=(libpq-dev)
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        apt_install "build prerequisites" "${missing[@]}"
    fi
    command -v cargo >/dev/null 2>&1 || die "cargo is not installed (the Rust toolchain comes from rustup)"
}

ensure_build_prerequisites
if [ "${1:-}" = "--prerequisites-only" ]; then
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# 2. PostgreSQL and Redis
# ---------------------------------------------------------------------------------------------
TMP_ROOT=""
PG_DATA=""
PG_CTL=""
PG_RUN_AS=()
REDIS_PIDFILE=""

cleanup() {
    local rc=$?
    set +e
    if [ -n "$PG_DATA" ] && [ -f "$PG_DATA/postmaster.pid" ]; then
        log "stopping throwaway PostgreSQL"
        "${PG_RUN_AS[@]}" "$PG_CTL" -D "$PG_DATA" -m immediate -w -t 20 stop >/dev/null 2>&1
    fi
    if [ -n "$REDIS_PIDFILE" ] && [ -f "$REDIS_PIDFILE" ]; then
        local pid
        pid=$(cat "$REDIS_PIDFILE" 2>/dev/null)
        if [ -n "$pid" ]; then
            log "stopping throwaway Redis (pid $pid)"
            kill "$pid" 2>/dev/null
            for _ in $(seq 1 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
        fi
    fi
    if [ -n "$TMP_ROOT" ]; then
        rm -rf "$TMP_ROOT"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tmp_root() {
    if [ -z "$TMP_ROOT" ]; then
        TMP_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/tessera-services.XXXXXX")
        chmod 755 "$TMP_ROOT"
    fi
}

# tcp_open PORT: something accepts connections on 127.0.0.1:PORT.
tcp_open() {
    # shellcheck disable=SC2016 # $1 is expanded by the inner bash
    timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# free_port: a port on 127.0.0.1 nothing listens on.
free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        if ! tcp_open "$port"; then
            echo "$port"
            return 0
        fi
    done
    die "found no free TCP port on 127.0.0.1"
}

pg_answers() { # PORT
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h 127.0.0.1 -p "$1" -t 3
    else
        tcp_open "$1"
    fi
}

# pg_usable URL PORT: the server answers and (where psql exists) the URL logs in.
pg_usable() {
    pg_answers "$2" || return 1
    if command -v psql >/dev/null 2>&1; then
        PGCONNECT_TIMEOUT=5 psql "$1" -XAtqc 'SELECT 1' >/dev/null 2>&1 || return 1
    fi
}

wait_for() { # SECONDS COMMAND...
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.5
    done
}

# Starts the Debian cluster(s) of the installed PostgreSQL service.
start_pg_service() {
    command -v pg_ctlcluster >/dev/null 2>&1 || return 1
    [ -d /etc/postgresql ] || return 1
    local dir version started=1
    for dir in /etc/postgresql/*/main; do
        [ -d "$dir" ] || continue
        version=$(basename "$(dirname "$dir")")
        log "starting PostgreSQL cluster $version/main"
        if pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2; then
            started=0
        fi
    done
    return "$started"
}

# Finds initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql/*/bin.
find_pg_bin() {
    local dir
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        PG_BIN=$(dirname "$(command -v initdb)")
        PG_CTL=$(command -v pg_ctl)
        INITDB=$(command -v initdb)
        return 0
    fi
    for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            PG_BIN=$dir
            PG_CTL=$dir/pg_ctl
            INITDB=$dir/initdb
            return 0
        fi
    done
    return 1
}

# Throwaway PostgreSQL: initdb in a temporary directory, trust auth, a free port.
start_throwaway_pg() {
    tmp_root
    local port owner
    port=$(free_port)
    PG_DATA="$TMP_ROOT/pg"
    mkdir -p "$PG_DATA"
    if is_root; then
        # PostgreSQL refuses to run as root.
        if getent passwd postgres >/dev/null 2>&1; then owner=postgres; else owner=nobody; fi
        chown "$owner" "$PG_DATA"
        PG_RUN_AS=(runuser -u "$owner" --)
    else
        PG_RUN_AS=(env)
    fi
    log "starting throwaway PostgreSQL from $PG_BIN on 127.0.0.1:$port (data in $PG_DATA)"
    "${PG_RUN_AS[@]}" "$INITDB" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --no-sync \
        >"$TMP_ROOT/initdb.log" 2>&1 ||
        {
            cat "$TMP_ROOT/initdb.log" >&2
            die "initdb failed"
        }
    "${PG_RUN_AS[@]}" "$PG_CTL" -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DATA -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null ||
        {
            cat "$PG_DATA/server.log" >&2 || true
            die "the throwaway PostgreSQL did not start"
        }
    PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
    wait_for 30 pg_usable "$PG_URL" "$port" || die "the throwaway PostgreSQL does not answer on port $port"
}

ensure_postgres() {
    if [ -n "${TESSERA_TEST_PG_URL:-}" ]; then
        log "PostgreSQL: using TESSERA_TEST_PG_URL as set"
        return 0
    fi
    PG_URL="postgres://postgres@127.0.0.1:5432/postgres"
    if pg_usable "$PG_URL" 5432; then
        log "PostgreSQL: using the server on 127.0.0.1:5432"
    elif start_pg_service && wait_for 20 pg_usable "$PG_URL" 5432; then
        log "PostgreSQL: started the installed service on 127.0.0.1:5432"
    elif ! find_pg_bin &&
        apt_install "PostgreSQL for the production-backend tests" postgresql &&
        start_pg_service && wait_for 20 pg_usable "$PG_URL" 5432; then
        log "PostgreSQL: installed the package and started its service on 127.0.0.1:5432"
    else
        find_pg_bin || die "no PostgreSQL server binaries (initdb, pg_ctl) found; install the Debian package postgresql"
        start_throwaway_pg
    fi
    export TESSERA_TEST_PG_URL="$PG_URL"
}

# redis_ping_tcp PORT: PING over bash's /dev/tcp (when redis-cli is missing).
redis_ping_tcp() (
    local line
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'PING\r\n' >&3
    IFS= read -r -t 3 line <&3 || exit 1
    [ "${line%$'\r'}" = "+PONG" ]
)

redis_answers() { # PORT
    if command -v redis-cli >/dev/null 2>&1; then
        [ "$(timeout 5 redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = "PONG" ]
    else
        redis_ping_tcp "$1" 2>/dev/null
    fi
}

start_redis_service() {
    command -v redis-server >/dev/null 2>&1 || return 1
    log "starting redis-server on 127.0.0.1:6379"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >&2
}

start_throwaway_redis() {
    tmp_root
    local port
    port=$(free_port)
    mkdir -p "$TMP_ROOT/redis"
    REDIS_PIDFILE="$TMP_ROOT/redis/redis.pid"
    log "starting throwaway Redis on 127.0.0.1:$port"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
        --dir "$TMP_ROOT/redis" --pidfile "$REDIS_PIDFILE" --logfile "$TMP_ROOT/redis/redis.log" >&2 ||
        die "the throwaway Redis did not start"
    wait_for 20 redis_answers "$port" || {
        cat "$TMP_ROOT/redis/redis.log" >&2 || true
        die "the throwaway Redis does not answer on port $port"
    }
    REDIS_URL_FOUND="redis://127.0.0.1:$port"
}

ensure_redis() {
    if [ -n "${TESSERA_TEST_REDIS_URL:-}" ]; then
        log "Redis: using TESSERA_TEST_REDIS_URL as set"
        return 0
    fi
    REDIS_URL_FOUND="redis://127.0.0.1:6379"
    if redis_answers 6379; then
        log "Redis: using the server on 127.0.0.1:6379"
    else
        if ! command -v redis-server >/dev/null 2>&1; then
            apt_install "Redis for the production-backend tests" redis-server
        fi
        if ! tcp_open 6379 && start_redis_service && wait_for 10 redis_answers 6379; then
            log "Redis: started redis-server on 127.0.0.1:6379"
        else
            start_throwaway_redis
        fi
    fi
    export TESSERA_TEST_REDIS_URL="$REDIS_URL_FOUND"
}

ensure_postgres
ensure_redis
log "TESSERA_TEST_PG_URL=$TESSERA_TEST_PG_URL"
log "TESSERA_TEST_REDIS_URL=$TESSERA_TEST_REDIS_URL"

# ---------------------------------------------------------------------------------------------
# 3. Build and test
# ---------------------------------------------------------------------------------------------
log "cargo build --workspace --bins"
cargo build --workspace --bins

if cargo nextest --version >/dev/null 2>&1; then
    log "cargo nextest run --workspace $*"
    cargo nextest run --workspace "$@"
else
    log "cargo-nextest is not installed; falling back to cargo test --workspace $*"
    cargo test --workspace "$@"
fi

# ---------------------------------------------------------------------------------------------
# 4. Real-browser tests: Debian's Chromium (never a test tool's own browser download), driven
#    over the DevTools protocol by playwright-core with a virtual WebAuthn authenticator.
# ---------------------------------------------------------------------------------------------
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    apt_install "Chromium for the browser tests" chromium
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt_install "Node.js for the browser tests" nodejs npm
fi
log "npm ci (tests/browser: playwright-core only, no browser download)"
(cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
log "node --test tests/browser"
node --test tests/browser/
