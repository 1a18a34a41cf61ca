# shellcheck shell=bash
# Start and stop one server for a script (conformance check, benchmark). Source it:
#
#   server_start NAME CMD [READY]   # run CMD in its own process group on a free
#                                   # 127.0.0.1 port with a fresh temp dir; {port} and
#                                   # {data_dir} in CMD are replaced. Waits up to 60 s
#                                   # until the port accepts connections and, when
#                                   # given, the function READY succeeds.
#   sshward_credentials             # READY for `sshward serve`: reads SERVER_URL and
#                                   # SERVER_TOKEN from its start-up output
#   server_stop                     # stop the group, delete the temp dir (idempotent)
#
# Sets SERVER_PID, SERVER_PORT, SERVER_DIR and SERVER_LOG. Callers `trap server_stop EXIT`.

SERVER_PID=""
SERVER_PORT=""
SERVER_DIR=""
SERVER_LOG=""
SERVER_URL=""
SERVER_TOKEN=""

# The one place that reads sshward's start-up output: lines containing
# `SCIM Tenant URL: <url>` and `Secret Token: <token>` (anything may precede the labels).
sshward_credentials() {
    SERVER_URL="$(sed -n 's/.*SCIM Tenant URL: *\([^[:space:]]*\).*/\1/p' "$SERVER_LOG" | head -n1)"
    SERVER_TOKEN="$(sed -n 's/.*Secret Token: *\([^[:space:]]*\).*/\1/p' "$SERVER_LOG" | head -n1)"
    [[ -n "$SERVER_URL" && -n "$SERVER_TOKEN" ]]
}

_server_listening() {
    python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' \
        "$SERVER_PORT" 2>/dev/null
}

server_start() {
    local name="$1" cmd="$2" ready="${3:-}"
    SERVER_DIR="$(mktemp -d "${TMPDIR:-/tmp}/sshward-$name.XXXXXX")"
    mkdir "$SERVER_DIR/data"
    SERVER_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    cmd="${cmd//\{port\}/$SERVER_PORT}"
    cmd="${cmd//\{data_dir\}/$SERVER_DIR/data}"
    SERVER_LOG="$SERVER_DIR/server.log"
    echo "$name: starting: $cmd" >&2
    setsid bash -c "exec $cmd" </dev/null >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 600); do
        if _server_listening && { [[ -z "$ready" ]] || "$ready"; }; then
            return 0
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "$name: the server exited early; its output:" >&2
            cat "$SERVER_LOG" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "$name: the server was not ready within 60 s; its output:" >&2
    cat "$SERVER_LOG" >&2
    return 1
}

server_stop() {
    if [[ -n "$SERVER_PID" ]]; then
        kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 -- "-$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
    fi
    if [[ -n "$SERVER_DIR" ]]; then
        rm -rf "$SERVER_DIR"
    fi
    SERVER_PID=""
    SERVER_DIR=""
}
