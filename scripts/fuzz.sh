#!/usr/bin/env bash
# HTTP fuzzing of the real server against its API contract (docs/testing.md):
#
#   scripts/fuzz.sh                      # the short run of scripts/test.sh (debug build)
#   scripts/fuzz.sh --release --scim-requests 1000000 --examples 1000   # a long run
#   scripts/fuzz.sh ... --seed N         # repeat a run
#
# Starts `sshward serve` on a free loopback port with a fresh SQLite data directory
# (failed-authentication budgets off: wrong tokens are part of the input) and a joined
# host and a console session, then runs
#   1. schemathesis against GET /openapi.json (every route; scripts/fuzz/schemathesis.toml
#      gives the SCIM routes the team's token and the host routes the host's credential),
#      with every check but one: no 5xx, status codes, media types, bodies and headers as
#      documented (each JSON error `{"error", "message"}`, SCIM's error schema on /scim).
#      Not positive_data_acceptance: the descriptions of SCIM resources and of what the
#      agent API takes are loose (any JSON object; keys are strings), so data valid by
#      the description is often not valid by SCIM's schemas or OpenSSH's key format;
#   2. scripts/fuzz/scim_fuzz.py: Entra-shaped SCIM requests, mutated, checked against
#      RFC 7644's answers (no 5xx, application/scim+json, the SCIM error schema).
# Exits non-zero on any failure; reports go to target/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=debug
scim_requests=15000
examples=50
workers=2
seed="$(date +%s)"
while (($#)); do
    case "$1" in
    --release) profile=release ;;
    --scim-requests) scim_requests="$2"; shift ;;
    --examples) examples="$2"; shift ;;
    --workers) workers="$2"; shift ;;
    --seed) seed="$2"; shift ;;
    -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

scripts/venv.sh >/dev/null
py=.venv/bin/python
flag=()
[[ "$profile" == release ]] && flag=(--release)
cargo build "${flag[@]}" -p sshward >&2
bin="target/$profile/sshward"
reports="target/fuzz"
mkdir -p "$reports"

# shellcheck source=scripts/server.sh
source scripts/server.sh
trap server_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export SSHWARD_SERVER__AUTH_FAILURES_PER_ADDRESS=0 SSHWARD_SERVER__AUTH_FAILURES_PER_TEAM=0
export SSHWARD_LOG__ACCESS_LOG=false
server_start fuzz "$bin serve --listen 127.0.0.1:{port} --data-dir {data_dir}" sshward_credentials
base="http://127.0.0.1:$SERVER_PORT"

# A host joined with a join token of the team, for the host routes.
join_token="$("$bin" --data-dir "$SERVER_DIR/data" host join-token create --tag env=prod --json |
    "$py" -c 'import json, sys; print(json.load(sys.stdin)["token"])')"
credential="$("$py" - "$base" "$join_token" <<'EOF'
import json, sys, urllib.request
body = json.dumps({"token": sys.argv[2], "hostname": "fuzz-1"}).encode()
req = urllib.request.Request(sys.argv[1] + "/api/v1/hosts/join", body, {"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req))["credential"])
EOF
)"

# A console session of the team (a one-time link, used), for the console's pages.
link="$("$bin" --data-dir "$SERVER_DIR/data" admin link --json |
    "$py" -c 'import json, sys; print(json.load(sys.stdin)["url"].split("code=")[1])')"
console_cookie="$("$py" - "$base" "$link" <<'EOF'
import sys, urllib.error, urllib.request
class Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k): return None
req = urllib.request.Request(sys.argv[1] + "/console/default/link", ("code=" + sys.argv[2]).encode(),
                             {"Content-Type": "application/x-www-form-urlencoded"})
try:
    answer = urllib.request.build_opener(Stay).open(req)
except urllib.error.HTTPError as e:
    answer = e
print(answer.headers["Set-Cookie"].split(";")[0].split("=", 1)[1])
EOF
)"

export FUZZ_SCIM_TOKEN="$SERVER_TOKEN" FUZZ_TEAM=default FUZZ_HOST_CREDENTIAL="$credential"
export FUZZ_CONSOLE_COOKIE="$console_cookie"
status=0
echo "fuzz.sh: schemathesis, $examples examples per operation and phase, seed $seed" >&2
# The console's pages run on their own: its session is a cookie, which the HTTP client of
# schemathesis keeps between requests, so its "request without the session" cases still
# carry it; negative_data_rejection is off for them (tests/openapi.rs checks that a page
# without a session sends the browser to sign in).
for part in api console; do
    if [[ $part == api ]]; then
        only=(--exclude-path-regex '^/console/[{]team[}]')
        skip=positive_data_acceptance
    else
        only=(--include-path-regex '^/console/[{]team[}]')
        skip=positive_data_acceptance,negative_data_rejection
    fi
    log="$reports/schemathesis-$part.log"
    if ! .venv/bin/schemathesis --config-file scripts/fuzz/schemathesis.toml run "$base/openapi.json" \
        "${only[@]}" --checks all --exclude-checks "$skip" --max-examples "$examples" --workers "$workers" \
        --seed "$seed" --suppress-health-check all --no-color \
        --report junit --report-dir "$reports" >"$log" 2>&1; then
        status=1
        echo "fuzz.sh: schemathesis ($part) failed; the whole log: $log" >&2
    fi
    sed -n '/SUMMARY/,$p' "$log"
done

echo "fuzz.sh: scim_fuzz.py, $scim_requests requests, seed $seed" >&2
"$py" scripts/fuzz/scim_fuzz.py --base "$base" --team default --token "$SERVER_TOKEN" \
    --requests "$scim_requests" --workers "$workers" --seed "$seed" \
    --failures "$reports/scim-fuzz-failures.jsonl" || status=1

# Whatever the answers, the server must not have logged a panic or an internal error.
if grep -E 'panicked|ERROR' "$SERVER_LOG" >&2; then
    echo "fuzz.sh: the server logged the errors above" >&2
    status=1
fi
exit "$status"
