#!/usr/bin/env bash
# Runs the coverage-guided fuzz targets (fuzz/, cargo-fuzz + libFuzzer) on the
# stable toolchain (RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass -Zsanitizer), with
# AddressSanitizer and debug assertions (an integer overflow is a crash).
#   scripts/fuzz.sh                 every target for 60 s (CI: FUZZ_SECONDS=30)
#   scripts/fuzz.sh 3600 tar age    the named targets for an hour each
# Each target starts from its committed seeds (fuzz/seeds/TARGET) and grows a
# working corpus in fuzz/corpus/TARGET (not committed). Two targets run at a
# time (FUZZ_JOBS). A crash stops that target and leaves the input in
# fuzz/artifacts/TARGET/; copy it to fuzz/regressions/TARGET/ with the fix
# (tests/fuzz_corpus.rs replays it forever). The summary prints, per target,
# executions per second and the coverage libFuzzer reached (edges, features).
# Exit status: 1 when any target crashed or could not run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-${FUZZ_SECONDS:-60}}
shift || true
jobs=${FUZZ_JOBS:-2}
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: cargo-fuzz is missing; installing it (cargo install cargo-fuzz --locked)" >&2
    cargo install cargo-fuzz --locked --version 0.13.2 >&2
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi
cargo fuzz build -a
logs=fuzz/logs
mkdir -p "$logs"
run_one() {
    local t=$1 seconds=$2
    mkdir -p "fuzz/corpus/$t"
    # -rss_limit_mb: the targets cap what they read at 64 MiB; 2 GiB finds leaks and bombs.
    if cargo fuzz run -a "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
        >"fuzz/logs/$t.log" 2>&1; then
        echo "ok $t"
    else
        echo "FAILED $t"
    fi
}
export -f run_one
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c "run_one {} $seconds" | tee "$logs/status"
echo
printf '%-20s %10s %8s %8s %8s\n' target exec/s cov ft corpus
for t in "${targets[@]}"; do
    log=$logs/$t.log
    line=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1 || true)
    execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
    cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$line")
    ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$line")
    corp=$(sed -nE 's/.* corp: ([0-9]+).*/\1/p' <<<"$line")
    printf '%-20s %10s %8s %8s %8s\n' "$t" "$((execs / seconds))" "${cov:-?}" "${ft:-?}" "${corp:-?}"
done
if grep -q '^FAILED' "$logs/status"; then
    for t in $(sed -n 's/^FAILED //p' "$logs/status"); do
        echo "--- $t: fuzz/logs/$t.log" >&2
        grep -E 'panicked|ERROR|SUMMARY|Test unit written|deadly signal|out-of-memory|timeout' "fuzz/logs/$t.log" | head -8 >&2 || tail -20 "fuzz/logs/$t.log" >&2
    done
    exit 1
fi
