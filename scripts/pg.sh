# shellcheck shell=bash
# Throw-away PostgreSQL 15 for tests and benchmarks. Source this file, then:
#
#   pg_start    # initdb into a temp dir, start on a free 127.0.0.1 port, export
#               # SSHWARD_TEST_PG_URL=postgres://sshward@127.0.0.1:PORT/postgres
#   pg_stop     # stop the server and delete its directory (safe to call twice)
#
# Callers should `trap pg_stop EXIT`. The role `sshward` is a superuser
# (it can CREATE DATABASE); authentication is `trust`, and the server only
# listens on 127.0.0.1 and on a unix socket inside its own temp dir.
# Durability is off (fsync, synchronous_commit, full_page_writes): the data is
# thrown away anyway.
#
# PostgreSQL refuses to run as root. As root we run it as the OS user
# `postgres` (created by Debian's postgresql-common) or, when that is missing,
# as a system user `sshward-test` created here. Override with SSHWARD_PG_OS_USER.

PG_TMPDIR=""
PG_PORT=""
PG_OS_USER=""

# The directory holding initdb/pg_ctl/postgres of PostgreSQL 15.
pg_bindir() {
    local dir
    for dir in "${SSHWARD_PG_BINDIR:-}" /usr/lib/postgresql/15/bin; do
        if [[ -n "$dir" && -x "$dir/pg_ctl" ]]; then
            echo "$dir"
            return
        fi
    done
    if command -v pg_ctl >/dev/null; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return
    fi
    echo "pg.sh: PostgreSQL binaries not found (install postgresql-15)" >&2
    return 1
}

# A TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Run a command as the OS user that owns the cluster.
_pg_as_owner() {
    if [[ -n "$PG_OS_USER" ]]; then
        runuser -u "$PG_OS_USER" -- "$@"
    else
        "$@"
    fi
}

pg_start() {
    local bindir
    bindir="$(pg_bindir)"

    if [[ "$(id -u)" == 0 ]]; then
        PG_OS_USER="${SSHWARD_PG_OS_USER:-}"
        if [[ -z "$PG_OS_USER" ]]; then
            if id postgres >/dev/null 2>&1; then
                PG_OS_USER=postgres
            else
                PG_OS_USER=sshward-test
            fi
        fi
        if ! id "$PG_OS_USER" >/dev/null 2>&1; then
            useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_OS_USER"
        fi
    fi

    PG_TMPDIR="$(mktemp -d "${TMPDIR:-/tmp}/sshward-pg.XXXXXX")"
    if [[ -n "$PG_OS_USER" ]]; then
        chown "$PG_OS_USER" "$PG_TMPDIR"
    fi
    PG_PORT="$(free_port)"

    _pg_as_owner "$bindir/initdb" --pgdata="$PG_TMPDIR/data" --username=sshward \
        --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$PG_TMPDIR/initdb.log" 2>&1 || {
        cat "$PG_TMPDIR/initdb.log" >&2
        return 1
    }

    local opts="-c listen_addresses=127.0.0.1 -c port=$PG_PORT"
    opts+=" -c unix_socket_directories=$PG_TMPDIR"
    opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    opts+=" -c max_connections=300"
    _pg_as_owner "$bindir/pg_ctl" --pgdata="$PG_TMPDIR/data" --log="$PG_TMPDIR/postgres.log" \
        --wait --timeout=60 --options="$opts" start >/dev/null || {
        cat "$PG_TMPDIR/postgres.log" >&2
        return 1
    }

    export SSHWARD_TEST_PG_URL="postgres://sshward@127.0.0.1:$PG_PORT/postgres"
    echo "pg.sh: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') at $SSHWARD_TEST_PG_URL (dir $PG_TMPDIR)"
}

pg_stop() {
    if [[ -z "$PG_TMPDIR" ]]; then
        return 0
    fi
    if [[ -f "$PG_TMPDIR/data/postmaster.pid" ]]; then
        _pg_as_owner "$(pg_bindir)/pg_ctl" --pgdata="$PG_TMPDIR/data" --mode=immediate \
            --wait stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PG_TMPDIR"
    PG_TMPDIR=""
    unset SSHWARD_TEST_PG_URL
}
