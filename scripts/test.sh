#!/usr/bin/env bash
# The one test command: everything CI checks, in the order it checks it.
#
#   1. cargo fmt --check, then clippy with warnings as errors
#   2. the Python test tools in .venv (scripts/venv.sh; skipped when unchanged)
#   3. a throw-away PostgreSQL 15 on 127.0.0.1 (scripts/pg.sh), stopped on exit
#   4. cargo nextest (all workspace tests), the doc tests and rustdoc without warnings
#   5. the scim2-tester conformance check against the real server binary
#   6. a smoke run of the benchmark (scripts/bench.sh --smoke)
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
cargo nextest run --workspace

step "doc tests"
cargo test --workspace --doc

step "rustdoc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

step "SCIM conformance (scim2-tester)"
scripts/conformance.sh

# A few hundred requests per workload, so the benchmark cannot rot; the figures of a
# debug build mean nothing (scripts/bench.sh measures release builds).
step "benchmark smoke run"
scripts/bench.sh --smoke --debug

step "all checks passed"
