#!/usr/bin/env bash
# Benchmark: projectrestore beside GNU tar, `age -d | tar`, the scripted
# minisign && sha256sum && age | tar chain and the Python projectrestore 4.0.1, on
# the same archives, in one run (bench/bench.py does the work).
#
#   bench/run.sh [--runs N] [--disk] [--quick] [--only project|verify|memory] [--json FILE]
#
# Default: the 1 GiB / 20,000-file project extracted to tmpfs, 7 paired runs (the
# machine's speed drifts by more than the margins, so each ratio is the median of
# the ratios of back-to-back pairs), and the memory cases (a 2 GiB single file,
# 100,000 small files). --disk extracts to BENCH_DIR's file system instead (compare
# only paired runs there). Datasets and archives live in BENCH_DIR (default
# /tmp/projectrestore-bench) and are reused.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --bench
cargo build --release --locked --quiet
exec python3 bench/bench.py "$@"
