#!/usr/bin/env bash
# SCIM conformance check with scim2-tester (see scripts/conformance.py).
#
#   scripts/conformance.sh                  # build target/debug/sshward, start it, check it
#   scripts/conformance.sh --release        # the same with target/release/sshward
#   scripts/conformance.sh --server-cmd CMD # start CMD instead (see below), check it
#   scripts/conformance.sh --url URL [--token TOKEN]   # check a server already running
#   scripts/conformance.sh ... -- --tags discovery,crud  # extra conformance.py options
#
# A started server gets a fresh temp data dir and a free 127.0.0.1 port. In CMD
# the placeholders {port} and {data_dir} are replaced by them (they are also in
# the environment as SCIM_TEST_PORT and SCIM_TEST_DATA_DIR). The server must
# print the SCIM Tenant URL and the Secret Token (see parse_server_output).
# It is stopped, and its data dir deleted, when this script exits.
# Exits non-zero when any check is ERROR or CRITICAL.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=debug
server_cmd=""
url=""
token="${SCIM_TOKEN:-}"
extra=()
while (($#)); do
    case "$1" in
    --release) profile=release ;;
    --server-cmd) server_cmd="$2"; shift ;;
    --url) url="$2"; shift ;;
    --token) token="$2"; shift ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "conformance.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

scripts/venv.sh >/dev/null

# --- How the sshward binary is started: `sshward serve` with its --listen and
# --data-dir overrides (see `sshward --help`); keep in step with its CLI. ---
default_server_cmd() {
    local flag=()
    [[ "$profile" == release ]] && flag=(--release)
    cargo build "${flag[@]}" -p sshward >&2
    echo "target/$profile/sshward serve --listen 127.0.0.1:{port} --data-dir {data_dir}"
}

# --- The one place that reads the server's start-up output. ---
# Expects lines containing `SCIM Tenant URL: <url>` and `Secret Token: <token>`
# (anything may precede the label, e.g. a log prefix). Sets $url and $token.
parse_server_output() {
    local log="$1"
    url="$(sed -n 's/.*SCIM Tenant URL: *\([^[:space:]]*\).*/\1/p' "$log" | head -n1)"
    token="$(sed -n 's/.*Secret Token: *\([^[:space:]]*\).*/\1/p' "$log" | head -n1)"
    [[ -n "$url" && -n "$token" ]]
}

server_pid=""
work_dir=""
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    if [[ -n "$server_pid" ]]; then
        # The server runs in its own process group (setsid): stop the group.
        kill -TERM -- "-$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 -- "-$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$server_pid" 2>/dev/null || true
    fi
    if [[ -n "$work_dir" ]]; then
        rm -rf "$work_dir"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z "$url" ]]; then
    [[ -n "$server_cmd" ]] || server_cmd="$(default_server_cmd)"
    work_dir="$(mktemp -d "${TMPDIR:-/tmp}/sshward-conformance.XXXXXX")"
    mkdir "$work_dir/data"
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    cmd="${server_cmd//\{port\}/$port}"
    cmd="${cmd//\{data_dir\}/$work_dir/data}"
    log="$work_dir/server.log"
    echo "conformance.sh: starting: $cmd"
    SCIM_TEST_PORT="$port" SCIM_TEST_DATA_DIR="$work_dir/data" \
        setsid bash -c "$cmd" </dev/null >"$log" 2>&1 &
    server_pid=$!

    # Wait for the start-up lines, then for the port to accept connections.
    ready=""
    for _ in $(seq 600); do
        if parse_server_output "$log" && python3 -c '
import socket, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
socket.create_connection((u.hostname, u.port or 80), timeout=1).close()' "$url" 2>/dev/null; then
            ready=1
            break
        fi
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "conformance.sh: server exited early; its output:" >&2
            cat "$log" >&2
            exit 1
        fi
        sleep 0.1
    done
    if [[ -z "$ready" ]]; then
        echo "conformance.sh: within 60s the server printed no 'SCIM Tenant URL:' and" \
            "'Secret Token:' lines, or its URL accepted no connection; output:" >&2
        cat "$log" >&2
        exit 1
    fi
fi

status=0
SCIM_TOKEN="$token" .venv/bin/python scripts/conformance.py --url "$url" "${extra[@]}" || status=$?
if ((status != 0)) && [[ -n "$work_dir" ]]; then
    echo "conformance.sh: last lines of the server's output:" >&2
    tail -n 40 "$work_dir/server.log" >&2
fi
exit "$status"
