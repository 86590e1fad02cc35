#!/usr/bin/env bash
# Benchmark: projectrestore against GNU tar (and age | tar, and the scripted
# minisign && sha256sum && age | tar chain) on the same archives, in one run.
# Prints median wall times (hyperfine), ratios, and peak memory (/usr/bin/time).
#
#   bench/run.sh [--quick] [--tmpfs] [--runs N] [--dataset project|small|big]
#
# --quick: a 128 MiB, 2,000-file project instead of 1 GiB / 20,000 files.
# --tmpfs: extract into /dev/shm instead of the disk (BENCH_DIR's file system).
# BENCH_DIR (default /tmp/projectrestore-bench) holds the dataset and archives; they
# are reused across runs (delete the directory to rebuild them).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
runs=5; quick=0; tmpfs=0; dataset=project
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --tmpfs) tmpfs=1 ;;
        --runs) runs=$2; shift ;;
        --dataset) dataset=$2; shift ;;
        *) echo "unknown option $1" >&2; exit 64 ;;
    esac
    shift
done
bash scripts/deps.sh --bench
cargo build --release --locked --quiet
pr="$repo/target/release/projectrestore"

base=${BENCH_DIR:-/tmp/projectrestore-bench}
tag=$dataset; [ $quick = 1 ] && tag="$dataset-quick"
work="$base/$tag"
mkdir -p "$work"
if [ ! -d "$work/project" ]; then
    echo "making the $tag dataset…" >&2
    case "$dataset" in
        project) if [ $quick = 1 ]; then a=(--files 2000 --mib 128); else a=(--files 20000 --mib 1024); fi ;;
        small) if [ $quick = 1 ]; then a=(--files 10000); else a=(--files 100000); fi ;;
        big) if [ $quick = 1 ]; then a=(--mib 256); else a=(--mib 2048); fi ;;
    esac
    python3 bench/make_dataset.py "$dataset" "$work/project.tmp" "${a[@]}"
    mv "$work/project.tmp" "$work/project"
fi
keys="$work/keys"
if [ ! -f "$work/a.tar.zst.age.minisig" ]; then
    echo "making archives…" >&2
    tar -C "$work" -cf "$work/a.tar" project
    gzip -6 -c "$work/a.tar" > "$work/a.tar.gz"
    zstd -q -3 -T0 -f "$work/a.tar" -o "$work/a.tar.zst"
    mkdir -p "$keys"
    age-keygen -o "$keys/age.txt" 2>/dev/null
    age -r "$(age-keygen -y "$keys/age.txt")" -o "$work/a.tar.zst.age" "$work/a.tar.zst"
    minisign -G -W -f -p "$keys/minisign.pub" -s "$keys/minisign.key" >/dev/null
    minisign -S -s "$keys/minisign.key" -m "$work/a.tar.zst.age" >/dev/null
    minisign -S -s "$keys/minisign.key" -m "$work/a.tar.zst" >/dev/null
    (cd "$work" && sha256sum a.tar.zst.age > a.tar.zst.age.sha256)
    mkdir -p "$keys/trust" && cp "$keys/minisign.pub" "$keys/trust/"
fi
if [ $tmpfs = 1 ]; then out_base=/dev/shm/projectrestore-bench-out; else out_base="$work/out"; fi
mkdir -p "$out_base"
out="$out_base/dest"
clean="rm -rf '$out' '$out_base/.dest.projectrestore'"
cat_archives() { cat "$work"/a.tar* >/dev/null; }   # into the page cache
cat_archives

results="$work/results"; mkdir -p "$results"
declare -a rows=()
# bench NAME BASELINE_CMD TOOL_CMD: hyperfine both, then peak memory of each.
bench() {
    local name=$1 base_cmd=$2 tool_cmd=$3
    hyperfine --style basic --runs "$runs" --warmup 1 \
        --prepare "$clean; mkdir -p '$out'" -n baseline "$base_cmd" \
        --prepare "$clean" -n projectrestore "$tool_cmd" \
        --export-json "$results/$name.json" >/dev/null
    eval "$clean"; mkdir -p "$out"
    local mb=$( { /usr/bin/time -f %M bash -c "$base_cmd" >/dev/null; } 2>&1 | tail -1)
    eval "$clean"
    local mt=$( { /usr/bin/time -f %M bash -c "$tool_cmd" >/dev/null; } 2>&1 | tail -1)
    rows+=("$name	$results/$name.json	$mb	$mt")
}

tarx() { echo "tar $1 -xf '$work/$2' -C '$out'"; }
bench "tar.gz   vs tar -xzf" "$(tarx -z a.tar.gz)" \
    "'$pr' restore '$work/a.tar.gz' --to '$out' --keep 0 --quiet"
bench "tar.zst  vs tar --zstd -xf" "$(tarx --zstd a.tar.zst)" \
    "'$pr' restore '$work/a.tar.zst' --to '$out' --keep 0 --quiet"
# The cost of verification: the same restore, signed (verify-first, then single
# pass) against unsigned (the .minisig beside it is ignored without --trust).
bench "signed verify-first vs unsigned (ours)" "'$pr' restore '$work/a.tar.zst' --to '$out' --keep 0 --quiet" \
    "'$pr' restore '$work/a.tar.zst' --trust '$keys/trust' --to '$out' --keep 0 --quiet"
bench "signed single-pass vs unsigned (ours)" "'$pr' restore '$work/a.tar.zst' --to '$out' --keep 0 --quiet" \
    "'$pr' restore '$work/a.tar.zst' --trust '$keys/trust' --single-pass --to '$out' --keep 0 --quiet"
if "$pr" verify "$work/a.tar.zst.age" --trust "$keys/trust" -i "$keys/age.txt" --quiet 2>/dev/null; then
    bench "signed+age zst vs tar --zstd -xf (plain)" "$(tarx --zstd a.tar.zst)" \
        "'$pr' restore '$work/a.tar.zst.age' --trust '$keys/trust' -i '$keys/age.txt' --to '$out' --keep 0 --quiet"
    bench "signed+age zst vs age -d | tar" "age -d -i '$keys/age.txt' '$work/a.tar.zst.age' | tar --zstd -xf - -C '$out'" \
        "'$pr' restore '$work/a.tar.zst.age' --trust '$keys/trust' -i '$keys/age.txt' --to '$out' --keep 0 --quiet"
    bench "signed+age zst vs minisign && sha256sum && age | tar" \
        "minisign -Vq -p '$keys/minisign.pub' -m '$work/a.tar.zst.age' && (cd '$work' && sha256sum --quiet -c a.tar.zst.age.sha256) && age -d -i '$keys/age.txt' '$work/a.tar.zst.age' | tar --zstd -xf - -C '$out'" \
        "'$pr' restore '$work/a.tar.zst.age' --trust '$keys/trust' -i '$keys/age.txt' --to '$out' --keep 0 --quiet"
else
    echo "(signed+encrypted cases skipped: this build cannot verify/decrypt them yet)" >&2
fi
eval "$clean"

echo
echo "projectrestore benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r), dataset $tag ($(du -sh "$work/project" | cut -f1), $(find "$work/project" -type f | wc -l) files), extracting to $( [ $tmpfs = 1 ] && echo tmpfs || echo disk ), $runs runs"
printf '%s\n' "${rows[@]}" > "$results/rows.txt"
python3 bench/table.py "$results/rows.txt"
