#!/usr/bin/env bash
# The one test command: everything CI checks, in the order it checks it.
#
#   1. cargo fmt --check, clippy with warnings as errors, the pure crates built and
#      tested on their own
#   2. the Python test tools in .venv (scripts/venv.sh; skipped when unchanged)
#   3. a throw-away PostgreSQL 15 on 127.0.0.1 (scripts/pg.sh), stopped on exit
#   4. cargo nextest (all workspace tests), the doc tests and rustdoc without warnings
#   5. the scim2-tester conformance check against the real server binary
#   6. a short HTTP fuzzing run against the API contract (scripts/fuzz.sh)
#   7. a smoke run of the benchmark (scripts/bench.sh --smoke)
#
# Tests find the database in $SSHWARD_TEST_PG_URL (a superuser role that may
# CREATE DATABASE) and the Python tools in $SSHWARD_TEST_VENV.
# Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

# The pure crates build and pass alone, as a host agent or another project uses them:
# no web framework, no database, no feature of another crate switched on for them.
step "OpenSSH, sudo and Chromium (ssh-keygen, ssh-agent, sshd, visudo, chromium, chromedriver)"
# ssh-ca's tests check certificates and revocation lists with OpenSSH's own ssh-keygen;
# the certificate tests of the binary also run ssh-agent and ssh-add; the agent's
# end-to-end test runs a real sshd and sudo inside a private mount namespace (the
# machine's own sshd configuration, accounts and sudoers are never touched).
missing=()
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
[[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)
command -v sudo >/dev/null 2>&1 || missing+=(sudo)
# The TLS test makes certificates with openssl and checks the server with curl.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# The web console's tests drive a real headless Chromium through its WebDriver.
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
[[ -x /usr/bin/chromedriver ]] || missing+=(chromium-driver)
if ((${#missing[@]})); then
    echo "test.sh: installing ${missing[*]}"
    apt-get update -q
    # No service is started (a policy-rc.d that refuses, unless the machine has one);
    # the test starts its own sshd.
    made_policy=""
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
        made_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    [[ -z "$made_policy" ]] || rm -f /usr/sbin/policy-rc.d
fi

step "pure crates alone (host-policy, proto, ssh-ca, keyring, access-token)"
cargo clippy -p host-policy -p proto -p ssh-ca -p keyring -p access-token --all-targets -- -D warnings
cargo test -p host-policy -p proto -p keyring -p access-token --quiet
if cargo tree -p host-policy -p proto -p ssh-ca -p keyring -p access-token -e normal --prefix none |
    grep -E '^(actix[a-z-]*|diesel[a-z_]*|tokio|store|ureq) '; then
    echo "test.sh: a pure crate depends on a crate that does I/O (above)" >&2
    exit 1
fi
# The host agent talks HTTP and nothing of the server's: no database, no web framework.
if cargo tree -p sshward-agent -e normal --prefix none |
    grep -E '^(actix[a-z-]*|diesel[a-z_]*|tokio|store|app|web-common) '; then
    echo "test.sh: sshward-agent depends on a server crate (above)" >&2
    exit 1
fi

step "Python test tools"
scripts/venv.sh
export SSHWARD_TEST_VENV="$PWD/.venv"

step "throw-away PostgreSQL"
# shellcheck source=scripts/pg.sh
source scripts/pg.sh
trap pg_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
pg_start

step "cargo nextest"
# The end-to-end tests of crates/sshward run the host agent's binary, which a test build
# of the sshward package does not build.
cargo build -p sshward-agent
cargo nextest run --workspace

step "doc tests"
cargo test --workspace --doc

step "rustdoc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

step "SCIM conformance (scim2-tester)"
scripts/conformance.sh

step "HTTP fuzzing against the API contract (schemathesis, scim_fuzz.py)"
scripts/fuzz.sh

# A few hundred requests per workload, so the benchmark cannot rot; the figures of a
# debug build mean nothing (scripts/bench.sh measures release builds).
step "benchmark smoke run"
scripts/bench.sh --smoke --debug

step "all checks passed"
