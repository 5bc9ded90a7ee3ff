#!/usr/bin/env bash
# Tessera benchmark (not a timed test): starts the release `tessera serve` pinned to CPU 0, drives
# it from CPU 1 with wrk (and a Python loop for the browser login), on both backend pairs, and
# prints a Markdown table (also written to tests/bench/last-run.md).
#
#   bash tests/bench/run.sh [embedded] [production]     (default: both)
#
# Scenarios: client_credentials token issuance, introspection, JWKS, discovery, password login.
# Per scenario: requests/s, p50/p99 latency, server CPU-seconds (utime+stime of the server
# process over the measured run), requests per server CPU-second, server peak RSS (VmHWM, reset
# before each scenario through /proc/PID/clear_refs).
#
# Knobs (environment): BENCH_DURATION (10s), BENCH_WARMUP (2s), BENCH_CONNECTIONS (16),
# BENCH_LOGIN_CONCURRENCY (8), BENCH_LOG (server log filter, warn), BENCH_SERVER_CPU (0),
# BENCH_CLIENT_CPU (1), BENCH_PG_URL (postgres://postgres@127.0.0.1:5432/postgres, a superuser
# URL: a fresh database tessera_bench_<random> is created and dropped), BENCH_REDIS_URL
# (redis://127.0.0.1:6379; a unique key prefix is used and its keys deleted afterwards).
# BENCH_PG_URL must have no query string (the database name replaces its path).
# Only 127.0.0.1 is contacted; everything started is stopped on exit.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/../.." && pwd)
cd "$ROOT"

DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-2s}
CONNECTIONS=${BENCH_CONNECTIONS:-16}
LOGIN_CONCURRENCY=${BENCH_LOGIN_CONCURRENCY:-8}
SERVER_LOG=${BENCH_LOG:-warn}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
OUT="$BENCH_DIR/last-run.md"
RAW="$BENCH_DIR/last-run-raw.txt"
BACKENDS=("$@")
[ ${#BACKENDS[@]} -gt 0 ] || BACKENDS=(embedded production)

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
    printf 'bench: error: %s\n' "$*" >&2
    exit 1
}

if [ -d "${CARGO_HOME:-$HOME/.cargo}/bin" ]; then
    PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi
export PATH

# --- tools ------------------------------------------------------------------------------------
APT_UPDATED=0
apt_install() {
    if [ "$(id -u)" -ne 0 ]; then
        die "missing Debian packages: $*. Install them (as root: apt-get install -y $*) and run again."
    fi
    if [ "$APT_UPDATED" -eq 0 ]; then
        apt-get update -qq
        APT_UPDATED=1
    fi
    log "installing $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
for b in "${BACKENDS[@]}"; do
    case "$b" in
    embedded) ;;
    production)
        command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
        command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
        ;;
    *) die "unknown backend '$b' (embedded or production)" ;;
    esac
done
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
# The release build needs the same prerequisites as the tests.
bash "$ROOT/tests/run.sh" --prerequisites-only

cpus=$(taskset -pc $$ | sed 's/.*: //')
log "CPUs available to this shell: $cpus; server on CPU $SERVER_CPU, load generator on CPU $CLIENT_CPU"
taskset -c "$SERVER_CPU" true 2>/dev/null || die "cannot pin to CPU $SERVER_CPU (set BENCH_SERVER_CPU)"
taskset -c "$CLIENT_CPU" true 2>/dev/null || die "cannot pin to CPU $CLIENT_CPU (set BENCH_CLIENT_CPU)"

log "cargo build --release --bins (and the argon2 ceiling example)"
cargo build --release --bins
cargo build --release -p tessera-identity --example argon2_alone
TESSERA="$ROOT/target/release/tessera"
ADMIN="$ROOT/target/release/tessera-admin"
if [ ! -x "$TESSERA" ] || [ ! -x "$ADMIN" ]; then
    die "target/release/tessera or tessera-admin is missing after the build"
fi

CLK_TCK=$(getconf CLK_TCK)
BPY=(python3 "$BENCH_DIR/bench.py")

# --- state and cleanup ------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tessera-bench.XXXXXX")
SERVER_PID=""
PG_DB=""
REDIS_PREFIX=""

stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}

teardown_backend() {
    if [ -n "$PG_DB" ]; then
        psql "$PG_URL" -XqAt -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 ||
            log "warning: could not drop database $PG_DB"
        PG_DB=""
    fi
    if [ -n "$REDIS_PREFIX" ]; then
        redis-cli -u "$REDIS_URL" --scan --pattern "${REDIS_PREFIX}*" 2>/dev/null |
            xargs -r -n 500 redis-cli -u "$REDIS_URL" DEL >/dev/null 2>&1 ||
            log "warning: could not delete Redis keys ${REDIS_PREFIX}*"
        REDIS_PREFIX=""
    fi
}

cleanup() {
    local rc=$?
    set +e
    stop_server
    teardown_backend
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- per-backend environment ------------------------------------------------------------------
# ENV_VARS: the configuration given to the server and the admin CLI (nothing else is inherited,
# since the configuration refuses unknown TESSERA_* variables).
ENV_VARS=()
setup_backend() {
    local backend=$1 kek suffix
    kek=$("${BPY[@]}" kek)
    suffix=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
    rm -rf "${WORK:?}/$backend"
    mkdir -p "$WORK/$backend"
    ENV_VARS=(
        "PATH=$PATH" "HOME=$HOME"
        "TESSERA_KEY_ENCRYPTION_KEY=$kek"
        "TESSERA_LOG=$SERVER_LOG"
    )
    case "$backend" in
    embedded)
        ENV_VARS+=("TESSERA_DATABASE_URL=sqlite://$WORK/$backend/tessera.db")
        BACKEND_LABEL="SQLite + in-process"
        ;;
    production)
        if ! PGCONNECT_TIMEOUT=5 psql "$PG_URL" -XqAt -c 'SELECT 1' >/dev/null 2>&1; then
            die "PostgreSQL does not answer at $PG_URL (set BENCH_PG_URL to a superuser URL of a running server)"
        fi
        if [ "$(redis-cli -u "$REDIS_URL" ping 2>/dev/null)" != PONG ]; then
            die "Redis does not answer at $REDIS_URL (set BENCH_REDIS_URL)"
        fi
        PG_DB="tessera_bench_$suffix"
        psql "$PG_URL" -XqAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$PG_DB\"" >/dev/null ||
            die "CREATE DATABASE $PG_DB failed on $PG_URL"
        REDIS_PREFIX="tessera-bench-$suffix:"
        ENV_VARS+=(
            "TESSERA_DATABASE_URL=${PG_URL%/*}/$PG_DB"
            "TESSERA_REDIS_URL=$REDIS_URL"
            "TESSERA_REDIS_PREFIX=$REDIS_PREFIX"
        )
        BACKEND_LABEL="PostgreSQL + Redis"
        ;;
    esac
}

tessera_env() { env -i "${ENV_VARS[@]}" "$@"; }

admin_json() { tessera_env "$ADMIN" --json "$@"; }

start_server() {
    local out="$WORK/server.out" err="$WORK/server.err" line=""
    : >"$out"
    env -i "${ENV_VARS[@]}" TESSERA_BIND=127.0.0.1:0 \
        taskset -c "$SERVER_CPU" "$TESSERA" serve >"$out" 2>"$err" </dev/null &
    SERVER_PID=$!
    for _ in $(seq 1 300); do
        line=$(grep -m1 '^tessera: listening on ' "$out" || true)
        [ -n "$line" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || {
            cat "$err" >&2
            die "tessera serve exited before listening"
        }
        sleep 0.1
    done
    [ -n "$line" ] || {
        cat "$err" >&2
        die "tessera serve did not print its listening line within 30 s"
    }
    BASE=$(printf '%s\n' "$line" | sed -E 's/^tessera: listening on (http:\/\/[^ ]+).*/\1/')
    case "$BASE" in
    http://127.0.0.1:*) ;;
    *) die "unexpected listening address '$BASE'" ;;
    esac
    [ "$(cat "/proc/$SERVER_PID/comm")" = tessera ] || die "process $SERVER_PID is not the server"
    log "server pid $SERVER_PID at $BASE"
}

cpu_ticks() { # utime + stime of the whole process (all threads), in clock ticks
    local stat
    stat=$(cat "/proc/$SERVER_PID/stat")
    stat=${stat##*) } # the fields after "(comm) "; utime and stime are fields 14 and 15
    # shellcheck disable=SC2086 # split into fields on purpose
    set -- $stat
    echo $((${12} + ${13}))
}

reset_peak_rss() { echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null || PEAK_NOTE=" (peak since start: clear_refs not writable)"; }
peak_rss_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status"; }

ROWS=()
PEAK_NOTE=""
# record BACKEND SCENARIO BENCH_LINE TICKS_BEFORE TICKS_AFTER HWM_KIB
record() {
    local backend=$1 scenario=$2 line=$3 t0=$4 t1=$5 hwm=$6
    local requests duration p50 p99 serr sockerr
    requests=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$line")
    duration=$(sed -E 's/.*duration_us=([0-9]+).*/\1/' <<<"$line")
    p50=$(sed -E 's/.*p50_us=([0-9]+).*/\1/' <<<"$line")
    p99=$(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"$line")
    serr=$(sed -E 's/.*status_errors=([0-9]+).*/\1/' <<<"$line")
    sockerr=$(sed -E 's/.*socket_errors=([0-9]+).*/\1/' <<<"$line")
    ROWS+=("$(awk -v b="$backend" -v s="$scenario" -v n="$requests" -v d="$duration" \
        -v p50="$p50" -v p99="$p99" -v se="$serr" -v ke="$sockerr" \
        -v t0="$t0" -v t1="$t1" -v tck="$CLK_TCK" -v hwm="$hwm" 'BEGIN {
            cpu = (t1 - t0) / tck
            rps = (d > 0) ? n / (d / 1e6) : 0
            per = (cpu > 0) ? sprintf("%.0f", n / cpu) : "n/a"
            printf "| %s | %s | %.0f | %.2f | %.2f | %d | %.2f | %s | %.1f |", \
                b, s, rps, p50 / 1000, p99 / 1000, se + ke, cpu, per, hwm / 1024
        }')")
    if [ "$serr" -gt 0 ] || [ "$sockerr" -gt 0 ]; then
        log "warning: $scenario on $backend: $serr bad statuses, $sockerr socket errors"
    fi
}

# run_wrk BACKEND SCENARIO LUA PATH
run_wrk() {
    local backend=$1 scenario=$2 lua=$3 path=$4 t0 t1 line
    log "$backend / $scenario: warm-up $WARMUP"
    taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" -s "$BENCH_DIR/$lua" "$BASE$path" \
        >"$WORK/warmup.txt" 2>&1 || die "wrk warm-up failed: $(cat "$WORK/warmup.txt")"
    reset_peak_rss
    t0=$(cpu_ticks)
    log "$backend / $scenario: wrk -t1 -c$CONNECTIONS -d$DURATION --latency"
    taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$BENCH_DIR/$lua" \
        "$BASE$path" >"$WORK/wrk.txt" 2>&1 || die "wrk failed: $(cat "$WORK/wrk.txt")"
    t1=$(cpu_ticks)
    {
        echo "## $BACKEND_LABEL: $scenario"
        cat "$WORK/wrk.txt"
        echo
    } >>"$RAW"
    line=$(grep -m1 '^BENCH ' "$WORK/wrk.txt") || die "no BENCH line from wrk: $(cat "$WORK/wrk.txt")"
    record "$BACKEND_LABEL" "$scenario" "$line" "$t0" "$t1" "$(peak_rss_kib)"
}

run_login() {
    local backend=$1 t0 t1 line secs warm
    secs=${DURATION%s}
    warm=${WARMUP%s}
    log "$backend / password login: warm-up ${warm}s"
    taskset -c "$CLIENT_CPU" "${BPY[@]}" login "$BASE" "$WEB_ID" "$WEB_REDIRECT" "$USER_NAME" "$USER_PASSWORD" \
        "$warm" "$LOGIN_CONCURRENCY" >"$WORK/warmup.txt" || die "login warm-up failed"
    reset_peak_rss
    t0=$(cpu_ticks)
    log "$backend / password login: ${secs}s, $LOGIN_CONCURRENCY concurrent browsers"
    taskset -c "$CLIENT_CPU" "${BPY[@]}" login "$BASE" "$WEB_ID" "$WEB_REDIRECT" "$USER_NAME" "$USER_PASSWORD" \
        "$secs" "$LOGIN_CONCURRENCY" >"$WORK/login.txt" || die "login load failed"
    t1=$(cpu_ticks)
    line=$(grep -m1 '^BENCH ' "$WORK/login.txt") || die "no BENCH line from the login loop"
    record "$BACKEND_LABEL" "password login (GET /authorize, GET /login, POST /login)" "$line" "$t0" "$t1" "$(peak_rss_kib)"
}

bench_backend() {
    local backend=$1 json
    setup_backend "$backend"
    log "=== $BACKEND_LABEL ==="
    tessera_env "$TESSERA" migrate >&2 || die "tessera migrate failed"

    json=$(admin_json client add --name bench-service --grant-type client_credentials --scope api.read) ||
        die "tessera-admin client add (service) failed"
    SVC_ID=$("${BPY[@]}" field client_id <<<"$json")
    SVC_SECRET=$("${BPY[@]}" field client_secret <<<"$json")
    # Never contacted: the login's redirect is read from the Location header, not followed.
    WEB_REDIRECT="https://rp.example.test/callback"
    json=$(admin_json client add --name bench-web --first-party --redirect-uri "$WEB_REDIRECT" --scope openid) ||
        die "tessera-admin client add (first-party web) failed"
    WEB_ID=$("${BPY[@]}" field client_id <<<"$json")
    # One account per concurrent browser: attempts on one account are reserved before hashing,
    # so more parallel sign-ins of one account than login_max_failures would meet the throttle.
    USER_NAME="bench-user"
    USER_PASSWORD="bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
    for i in $(seq 0 $((LOGIN_CONCURRENCY - 1))); do
        printf '%s\n' "$USER_PASSWORD" |
            admin_json user add "$USER_NAME-$i" --email "bench-$i@example.test" --password-stdin \
                >/dev/null || die "tessera-admin user add failed"
    done

    start_server
    IDLE_RSS_KIB=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status")
    log "server RSS after start: $((IDLE_RSS_KIB / 1024)) MiB"

    # Sanity checks before measuring: every scenario answers as it should.
    "${BPY[@]}" get "$BASE" /.well-known/openid-configuration || die "discovery does not answer 200"
    "${BPY[@]}" get "$BASE" /jwks || die "/jwks does not answer 200"
    BENCH_TOKEN=$("${BPY[@]}" token "$BASE" "$SVC_ID" "$SVC_SECRET" api.read) || die "client_credentials failed"
    "${BPY[@]}" introspect "$BASE" "$SVC_ID" "$SVC_SECRET" "$BENCH_TOKEN" || die "introspection of a fresh token failed"
    BENCH_BASIC="Basic $(printf '%s:%s' "$SVC_ID" "$SVC_SECRET" | base64 -w0)"
    export BENCH_LUA_DIR="$BENCH_DIR" BENCH_BASIC BENCH_TOKEN BENCH_SCOPE=api.read

    run_wrk "$backend" "client_credentials token (POST /token)" token.lua /token
    run_wrk "$backend" "introspection (POST /introspect)" introspect.lua /introspect
    run_wrk "$backend" "JWKS (GET /jwks)" get.lua /jwks
    run_wrk "$backend" "discovery (GET /.well-known/openid-configuration)" get.lua /.well-known/openid-configuration
    run_login "$backend"

    stop_server
    teardown_backend
}

: >"$RAW"
for b in "${BACKENDS[@]}"; do
    bench_backend "$b"
done

# --- the ceiling for logins: argon2id alone on the server's core --------------------------------
log "argon2id alone on CPU $SERVER_CPU (5 s)"
ARGON2_LINE=$(taskset -c "$SERVER_CPU" "$ROOT/target/release/examples/argon2_alone" 5 | grep '^ARGON2 ')
ARGON2_RATE=$(sed -n 's/.*per_second=\([0-9.]*\).*/\1/p' <<<"$ARGON2_LINE")

# --- report -----------------------------------------------------------------------------------
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "uncommitted")
{
    echo "# Tessera benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $(nproc) CPUs (${cpu_model:-unknown CPU}), $(awk '/^MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, Linux $(uname -r)"
    echo "- build: release (\`cargo build --release --bins\`), commit $commit, $(rustc --version 2>/dev/null || echo rustc)"
    echo "- server: \`tessera serve\` pinned to CPU $SERVER_CPU (\`taskset -c $SERVER_CPU\`), log filter \`$SERVER_LOG\`, default settings (argon2id m=19456 KiB t=2 p=1)"
    echo "- load: CPU $CLIENT_CPU; \`wrk -t1 -c$CONNECTIONS -d$DURATION --latency\` after a $WARMUP warm-up; login: Python loop with $LOGIN_CONCURRENCY concurrent fresh browsers (\`tests/bench/bench.py login\`), latency of the form POST, rate = complete logins/s"
    echo "- CPU-s: utime+stime of the server process during the measured run; PostgreSQL and Redis CPU is not included. Peak RSS: VmHWM, reset before each scenario${PEAK_NOTE}"
    echo
    echo "- argon2id alone (the login ceiling), same parameters, \`identity/examples/argon2_alone.rs\` on CPU $SERVER_CPU: ${ARGON2_RATE} verifications/s"
    echo
    echo "| backend | scenario | requests/s | p50 ms | p99 ms | errors | server CPU-s | requests per server CPU-s | server peak RSS MiB |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${ROWS[@]}"
} >"$OUT"
cat "$OUT"
log "written to ${OUT#"$ROOT"/} (wrk's own output, with its latency distribution: ${RAW#"$ROOT"/})"
