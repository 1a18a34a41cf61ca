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
# the placeholders {port} and {data_dir} are replaced by them. The server must
# print the SCIM Tenant URL and the Secret Token (see sshward_credentials in
# scripts/server.sh). It is stopped, and its data dir deleted, when this script exits.
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
    echo "target/$profile/sshward serve --listen 127.0.0.1:{port} --data-dir {data_dir}"
}

# shellcheck source=scripts/server.sh
source scripts/server.sh
trap server_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z "$url" ]]; then
    if [[ -z "$server_cmd" ]]; then
        flag=()
        [[ "$profile" == release ]] && flag=(--release)
        cargo build "${flag[@]}" -p sshward >&2
        server_cmd="$(default_server_cmd)"
    fi
    server_start conformance "$server_cmd" sshward_credentials
    url="$SERVER_URL"
    token="$SERVER_TOKEN"
fi

status=0
SCIM_TOKEN="$token" .venv/bin/python scripts/conformance.py --url "$url" "${extra[@]}" || status=$?
if ((status != 0)) && [[ -n "$SERVER_LOG" ]]; then
    echo "conformance.sh: last lines of the server's output:" >&2
    tail -n 40 "$SERVER_LOG" >&2
fi
exit "$status"
