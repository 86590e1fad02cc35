#!/usr/bin/env bash
# Benchmark: the Wasm-sandboxed extractor against the native one on the same
# archives, in paired runs (the machine's speed drifts: each ratio is the
# median of the ratios of back-to-back pairs), with peak RSS from /usr/bin/time.
#
#   bench/sandbox.sh [PAIRS]        default: 5 pairs
#
# Datasets (bench/make_dataset.py, seeded): the 1 GiB project (20,000 files of
# source-like text and some binaries) and 100,000 small files, each as
# .tar.zst (zstd -3) and .tar.gz (gzip -6). Every run is a real restore
# (--allow-unsigned, so nothing is verified and only the extractor differs).
# A last row measures the sandbox's fixed cost: compiling the guest, on a
# one-file archive.
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-5}
bash scripts/deps.sh --bench
cargo build --release --locked --quiet
bin=$(realpath "${CARGO_TARGET_DIR:-target}")/release/projectrestore
work=${BENCH_DIR:-/tmp/projectrestore-bench}/sandbox
mkdir -p "$work"
make() { # name, then make_dataset.py's arguments
    local name=$1; shift
    if [ ! -f "$work/$name.tar.zst" ]; then
        echo "making $name in $work" >&2
        rm -rf "$work/$name"
        python3 bench/make_dataset.py "$@" "$work/$name"
        tar -C "$work" -cf "$work/$name.tar" "$name"
        zstd -3 -q -T0 -f "$work/$name.tar" -o "$work/$name.tar.zst"
        gzip -6 -c "$work/$name.tar" > "$work/$name.tar.gz"
        rm -rf "$work/$name" "$work/$name.tar"
    fi
}
make project project --files 20000 --mib 1024
make small small --files 100000
if [ ! -f "$work/one.tar.zst" ]; then
    mkdir -p "$work/one" && echo hello > "$work/one/a.txt"
    tar -C "$work" -cf - one | zstd -q > "$work/one.tar.zst"
    rm -rf "$work/one"
fi
cd "$work"
one() { # sandbox mode, archive; prints "seconds peak_kib"
    rm -rf dest
    /usr/bin/time -f '%e %M' -o time.txt "$bin" restore "$2" --to dest --allow-unsigned \
        --sandbox "$1" --yes -q
    cat time.txt
}
declare -A ratios peaks_n peaks_w times_n times_w
cases=(project.tar.zst project.tar.gz small.tar.zst small.tar.gz one.tar.zst)
for c in "${cases[@]}"; do
    for i in $(seq "$pairs"); do
        # Alternate which goes first, so neither always runs on a warm cache.
        if [ $((i % 2)) -eq 1 ]; then
            read -r n np < <(one native "$c"); read -r w wp < <(one wasm "$c")
        else
            read -r w wp < <(one wasm "$c"); read -r n np < <(one native "$c")
        fi
        ratios[$c]+="$(python3 -c "print($w/max($n,0.001))") "
        times_n[$c]+="$n "; times_w[$c]+="$w "
        peaks_n[$c]+="$np "; peaks_w[$c]+="$wp "
        echo "$c pair $i: native ${n}s ${np} KiB, wasm ${w}s ${wp} KiB" >&2
    done
done
rm -rf dest
echo
echo "CPU: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(nproc) cores; $pairs pairs"
printf '%-18s %10s %10s %12s %14s %14s\n' archive "native s" "wasm s" "wasm/native" "native MiB" "wasm MiB"
for c in "${cases[@]}"; do
    python3 - "$c" ${times_n[$c]} -- ${times_w[$c]} -- ${ratios[$c]} -- ${peaks_n[$c]} -- ${peaks_w[$c]} <<'PY'
import statistics, sys
name, rest = sys.argv[1], sys.argv[2:]
groups, cur = [], []
for a in rest:
    if a == "--":
        groups.append(cur); cur = []
    else:
        cur.append(float(a))
groups.append(cur)
tn, tw, r, pn, pw = groups
print(f"{name:<18} {statistics.median(tn):10.2f} {statistics.median(tw):10.2f} "
      f"{statistics.median(r):12.2f} {max(pn)/1024:14.1f} {max(pw)/1024:14.1f}")
PY
done
