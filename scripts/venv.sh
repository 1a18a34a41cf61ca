#!/usr/bin/env bash
# Create or refresh the Python venv at .venv with the pinned test tools of
# scripts/requirements-test.txt. A stamp file holding the hash of that file and
# the interpreter version makes reruns a no-op until either changes.
# Interpreter: $SSHWARD_PYTHON, else python3, else python3.11 (needs >= 3.11).
set -euo pipefail
cd "$(dirname "$0")/.."

req=scripts/requirements-test.txt
venv=.venv
stamp="$venv/.requirements-test.stamp"

python=""
for candidate in "${SSHWARD_PYTHON:-}" python3 python3.11; do
    if [[ -n "$candidate" ]] && command -v "$candidate" >/dev/null &&
        "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        python="$candidate"
        break
    fi
done
if [[ -z "$python" ]]; then
    echo "venv.sh: need Python >= 3.11 with the venv module (apt-get install python3.11-venv)" >&2
    exit 1
fi

want="$(sha256sum "$req" | cut -d' ' -f1) $("$python" -c 'import platform; print(platform.python_version())')"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && "$venv/bin/python" -c '' 2>/dev/null; then
    echo "venv.sh: $venv is up to date"
    exit 0
fi

echo "venv.sh: installing $req into $venv with $("$python" --version)"
rm -f "$stamp"
"$python" -m venv --clear "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
echo "$want" >"$stamp"
