#!/usr/bin/env bash
# The Python package's tests (python/tests), against the installed wheel:
# build the abi3 wheel with maturin, install it into a fresh venv with the
# pinned test requirements (pytest, mypy, the real projectclone 4.0.1), and
# run pytest from the repository root (so the source tree is not imported).
# The CLI they compare with is the one cargo built (target/debug).
#   scripts/python-test.sh [PYTEST ARGS]
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-$PWD/target}
venv="$target/python-venv"
wheels="$target/wheels"
rm -rf "$venv" "$wheels"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r python/requirements-test.txt
[ -x "$target/debug/projectrestore" ] || cargo build --locked --quiet
# The dev profile shares the test build's compiled dependencies; `pip install
# ./python` (what users run) builds the same crate in release.
start=$(date +%s)
(cd python && "$venv/bin/maturin" build --locked --profile dev --compatibility linux --out "$wheels" --quiet)
echo "python-test: wheel built in $(( $(date +%s) - start )) s" >&2
wheel=$(ls "$wheels"/projectrestore-*-cp39-abi3-*.whl 2>/dev/null | head -1)
if [ -z "$wheel" ]; then
    echo "python-test: no cp39-abi3 wheel in $wheels: $(ls "$wheels")" >&2
    exit 1
fi
"$venv/bin/pip" install -q --disable-pip-version-check --no-deps "$wheel"
PROJECTRESTORE_BIN="$target/debug/projectrestore" "$venv/bin/python" -m pytest -q -p no:cacheprovider \
    --rootdir python/tests python/tests "$@"
