#!/usr/bin/env bash
# Benchmark of the append-only log at 1,000,000 entries (issue 6):
#   bash bench/log.sh [N] [DIR]
# Builds a log of N synthetic entries with the library (examples/log_bench.rs),
# prints time per single append, per inclusion proof, per lookup and for a full
# verification, then measures the command-line tool on that log with
# /usr/bin/time: peak memory of `log prove --index` and `log append`.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
dir="${2:-${TMPDIR:-/tmp}/projectrestore-bench/log-$n}"
cargo build --release --locked --quiet --example log_bench
cargo build --release --locked --quiet
bin=target/release/projectrestore
target/release/examples/log_bench "$dir" "$n"

size=$((n + 50))
echo
echo "command line, log of $size entries:"
measure() {
    local label="$1"; shift
    /usr/bin/time -f "%e s, peak %M KiB" -o "$dir/time.txt" "$@" >/dev/null
    printf '%s\t%s\n' "$label" "$(cat "$dir/time.txt")"
}
measure "log prove --index (middle)" $bin log prove "$dir/log" --index $((size / 2)) --json --vkey "$dir/log.vkey"
measure "log prove --index (last)" $bin log prove "$dir/log" --index $((size - 1)) --json --vkey "$dir/log.vkey"
archive="$dir/2026-11-24_120000-bench-daily.tar.gz"
printf 'x' > "$dir/payload"
tar -czf "$archive" -C "$dir" payload
measure "log append (verify archive + lookup + append)" $bin log append "$dir/log" "$archive" --key "$dir/log.key"
measure "log verify (full recompute)" $bin log verify "$dir/log" --vkey "$dir/log.vkey"
