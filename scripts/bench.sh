#!/usr/bin/env bash
# Benchmarks: sshward against the Python reference server scim2-server, in one run.
#
#   scripts/bench.sh              # full run (about 20 minutes on 2 cores)
#   scripts/bench.sh --smoke      # a few hundred requests per workload (scripts/test.sh)
#   scripts/bench.sh --pg         # sshward on a throw-away PostgreSQL instead of SQLite
#   scripts/bench.sh --no-peer    # sshward only
#   scripts/bench.sh --debug      # debug builds (scripts/test.sh's smoke run reuses them)
#   scripts/bench.sh --big        # 1,000,000 users, sshward only (seeding alone takes minutes)
#   scripts/bench.sh --users N --peer-users N --requests N --seconds S
#
# Builds sshward and loadgen in release mode, starts each server on a free 127.0.0.1
# port with a fresh database, seeds it through the SCIM API, runs the workloads of
# crates/loadgen (every loop bounded in count and time) and prints one table with the
# ratio sshward / peer. Results go to target/bench/ (JSON and the table in Markdown).
# Loopback only. See docs/benchmarks.md for what each figure means.
set -euo pipefail
cd "$(dirname "$0")/.."

users=100000
peer_users=100000
# The reference server rewrites a group's member list on every add: its big group of
# workload 5 holds 10,000 members (sshward's holds every seeded user).
peer_big_group=10000
hosts=1000
agent_users=10000
# Workload 11: hosts holding long-polls, in host groups of their own tag (and SCIM group).
# The idle fleet is watched for longer than a long-poll lasts (60 s): every host re-polls once.
fleet_hosts=10000 fleet_groups=100 fleet_group_size=100 fleet_changes=20 fleet_idle=65
requests=20000
seconds=20
concurrency=16
sync=(--sync-users 10000 --sync-groups 100 --group-size 100)
pg=""
peer=1
profile=release
strict=()
while (($#)); do
    case "$1" in
    --smoke)
        users=300 peer_users=300 peer_big_group=300 requests=200 seconds=5 hosts=20 agent_users=100
        fleet_hosts=40 fleet_groups=4 fleet_group_size=10 fleet_changes=3 fleet_idle=1
        sync=(--sync-users 100 --sync-groups 3 --group-size 10)
        strict=(--strict)
        ;;
    --pg) pg=1 ;;
    --big) users=1000000 peer="" ;;
    --no-peer) peer="" ;;
    --debug) profile=debug ;;
    --users) users="$2"; shift ;;
    --peer-users) peer_users="$2"; shift ;;
    --requests) requests="$2"; shift ;;
    --seconds) seconds="$2"; shift ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if [[ "$profile" == release ]]; then
    cargo build --release -p sshward -p sshward-agent -p loadgen
else
    cargo build -p sshward -p sshward-agent -p loadgen
fi
scripts/venv.sh >/dev/null
out=target/bench
mkdir -p "$out"
# Workload 11 holds one connection per simulated host on each side (server and loadgen).
ulimit -n "$(ulimit -Hn)"

# shellcheck source=scripts/server.sh
source scripts/server.sh
# shellcheck source=scripts/pg.sh
source scripts/pg.sh
trap 'server_stop; pg_stop' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

run_loadgen() { # LABEL BASE TOKEN USERS [extra loadgen options]
    local label="$1" base="$2" token="$3" n="$4"
    shift 4
    LOADGEN_TOKEN="$token" target/$profile/loadgen scim --label "$label" --base "$base" \
        --users "$n" --requests "$requests" --seconds "$seconds" --concurrency "$concurrency" \
        "${sync[@]}" --server-pid "$SERVER_PID" --out "$out/$label.json" "$@"
}

db_env=()
label=sshward
if [[ -n "$pg" ]]; then
    pg_start
    psql "$SSHWARD_TEST_PG_URL" -qc "CREATE DATABASE sshward_bench"
    # PostgreSQL requires a configured key-encryption key (every instance shares it).
    head -c 32 /dev/urandom | base64 >"$out/kek"
    db_env=("SSHWARD_DATABASE__URL=${SSHWARD_TEST_PG_URL%/*}/sshward_bench"
        "SSHWARD_KEY_ENCRYPTION_KEY=file:$PWD/$out/kek")
    label=sshward-postgres
fi
# Workload 8 mints access tokens with this key (as `sshward login` would get them).
token_key=$(head -c 48 /dev/urandom | base64 -w0)
server_start sshward "env ${db_env[*]} SSHWARD_LOGIN__TOKEN_KEY=$token_key target/$profile/sshward serve --listen 127.0.0.1:{port} --data-dir {data_dir}" \
    sshward_credentials
run_loadgen "$label" "$SERVER_URL" "$SERVER_TOKEN" "$users"

# Workload 7: a group of $agent_users users granted on env=bench, $hosts hosts joined
# with one-time tokens from the CLI (which works on the same database).
sshward_cli() { env "${db_env[@]}" "target/$profile/sshward" --data-dir "$SERVER_DIR/data" "$@"; }
LOADGEN_TOKEN="$SERVER_TOKEN" "target/$profile/loadgen" agent-group --scim-base "$SERVER_URL" \
    --name bench-agents --users "$agent_users"
sshward_cli grant add --group bench-agents --hosts env=bench >/dev/null
for _ in $(seq "$hosts"); do
    sshward_cli host join-token create --tag env=bench --json | sed -n 's/.*"token": "\(.*\)".*/\1/p'
done >"$out/join-tokens"
"target/$profile/loadgen" agents --server "http://127.0.0.1:$SERVER_PORT" --join-tokens "$out/join-tokens" \
    --requests "$requests" --seconds "$seconds" --concurrency "$concurrency" \
    --server-pid "$SERVER_PID" --out "$out/$label.json"
# Workload 8: user certificates for the granted group's members, beside ssh-keygen -s.
# It writes its tokens' sessions into the server's database, standing in for the sign-in.
if [[ -n "$pg" ]]; then
    bench_db="${SSHWARD_TEST_PG_URL%/*}/sshward_bench"
else
    bench_db="sqlite://$SERVER_DIR/data/sshward.db"
fi
LOADGEN_TOKEN="$SERVER_TOKEN" LOADGEN_TOKEN_KEY="$token_key" LOADGEN_DATABASE_URL="$bench_db" "target/$profile/loadgen" certs \
    --server "http://127.0.0.1:$SERVER_PORT" --scim-base "$SERVER_URL" --users "$agent_users" \
    --requests "$requests" --seconds "$seconds" --concurrency "$concurrency" --out "$out/$label.json"
# Workload 9: sshd's principals command against the document of one of those hosts.
sshward_cli host show bench-host-0 --json |
    python3 -c 'import json, sys; json.dump(json.load(sys.stdin)["access"], sys.stdout)' >"$out/document.json"
"target/$profile/loadgen" principals --agent "target/$profile/sshward-agent" --document "$out/document.json" \
    --requests "$((requests < 2000 ? requests : 2000))" --seconds "$seconds" --out "$out/$label.json"
# Workload 10: the web console's pages on this directory, signed in with a one-time link.
code=$(sshward_cli admin link --json | sed -n 's/.*"url": ".*code=\(.*\)".*/\1/p')
cookie=$(curl -s -D - -o /dev/null -X POST --data "code=$code" \
    "http://127.0.0.1:$SERVER_PORT/console/default/link" | sed -n 's/^set-cookie: sshward_console=\([^;]*\).*/\1/ip')
LOADGEN_TOKEN="$SERVER_TOKEN" "target/$profile/loadgen" console --server "http://127.0.0.1:$SERVER_PORT" \
    --cookie "$cookie" --scim-base "$SERVER_URL" --requests "$((requests < 200 ? requests : 200))" \
    --seconds "$seconds" --out "$out/$label.json"
# Workload 11: $fleet_hosts hosts in $fleet_groups host groups (tag pool=N, granted to SCIM
# group fleet-N), long-polling while users are disabled one at a time.
LOADGEN_TOKEN="$SERVER_TOKEN" "target/$profile/loadgen" fleet-groups --scim-base "$SERVER_URL" \
    --groups "$fleet_groups" --size "$fleet_group_size"
for pool in $(seq 0 $((fleet_groups - 1))); do
    sshward_cli grant add --group "fleet-$pool" --hosts "pool=$pool" >/dev/null
    sshward_cli host join-token create --tag "pool=$pool" --count $((fleet_hosts / fleet_groups)) --json |
        sed -n 's/.*"token": "\(.*\)".*/\1/p'
done >"$out/fleet-tokens"
LOADGEN_TOKEN="$SERVER_TOKEN" "target/$profile/loadgen" fleet --server "http://127.0.0.1:$SERVER_PORT" \
    --scim-base "$SERVER_URL" --join-tokens "$out/fleet-tokens" --groups "$fleet_groups" \
    --size "$fleet_group_size" --changes "$fleet_changes" --idle "$fleet_idle" \
    --concurrency "$concurrency" --server-pid "$SERVER_PID" --out "$out/$label.json"
server_stop

peer_file=()
if [[ -n "$peer" ]]; then
    server_start scim2-server ".venv/bin/scim2-server --port {port} --tenant bench --bearer-token bench-token"
    # scim2-server rejects Entra's extra Microsoft group schema URN: groups are sent plain.
    run_loadgen scim2-server "http://127.0.0.1:$SERVER_PORT/bench/v2" bench-token "$peer_users" --rfc-groups \
        --big-group "$peer_big_group"
    server_stop
    peer_file=("$out/scim2-server.json")
fi

{
    echo "Run of $(date -u +%Y-%m-%dT%H:%MZ) at commit $(git rev-parse --short HEAD) on $(nproc) cores," \
        "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) memory:" \
        "sshward ($profile build) with $users users, scim2-server with $peer_users."
    echo
    target/$profile/loadgen report "${strict[@]}" "$out/$label.json" "${peer_file[@]}"
} | tee "$out/report.md"
