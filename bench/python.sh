#!/usr/bin/env bash
# Benchmark: the Python package's restore() against the CLI on the same
# archive — the 1 GiB / 20,000-file project of bench/run.sh, minisign-signed
# and age-encrypted .tar.zst, extracted to tmpfs — in paired runs (each ratio
# is the median of back-to-back pairs, their order alternating), with peak
# RSS. Both are release builds of the same library; the Python side includes
# the interpreter's start and `import projectrestore`.
#
#   bench/python.sh [PAIRS]      default 7
#
# Also prints the release wheel's build time and size.
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-7}
bash scripts/deps.sh --bench
target=$(realpath "${CARGO_TARGET_DIR:-target}")
cargo build --release --locked --quiet
venv="$target/bench-python-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check maturin==1.16.0
rm -rf "$target/wheels-release"
start=$(date +%s.%N)
(cd python && "$venv/bin/maturin" build --locked --release --strip --compatibility linux \
    --out "$target/wheels-release" --quiet)
built=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.0f}')" "$start" "$(date +%s.%N)")
wheel=$(ls "$target"/wheels-release/projectrestore-*-cp39-abi3-*.whl)
"$venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$wheel"
echo "wheel: $(basename "$wheel"), $(( $(stat -c %s "$wheel") / 1024 / 1024 )) MiB, built in ${built} s (this tree's cache)" >&2
exec "$venv/bin/python" bench/python_bench.py --pairs "$pairs" --bin "$target/release/projectrestore"
