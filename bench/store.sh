#!/usr/bin/env bash
# Benchmark: a signed, age-encrypted archive restored from the S3 emulator
# (moto on loopback) against the same archive restored from a local file, in
# paired runs (the machine's speed drifts: each ratio is the median of the
# ratios of back-to-back pairs), in verify-first, --spool and --single-pass
# modes, with peak RSS from /usr/bin/time.
#
#   bench/store.sh [SIZE_MIB] [PAIRS]      default: 1024 MiB, 5 pairs
#
# The archive is random data in one tar (zstd -1 cannot shrink it), so the
# cost measured is moving and checking bytes, which is what a store adds.
# moto serves from Python: its own speed bounds the remote runs.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
pairs=${2:-5}
bash scripts/deps.sh --bench
bash scripts/test-servers.sh
cargo build --release --locked --quiet
bin=$(realpath "${CARGO_TARGET_DIR:-target}")/release/projectrestore
servers=${PROJECTRESTORE_TEST_SERVERS:-$PWD/target/test-servers}
work=${BENCH_DIR:-/tmp/projectrestore-bench}/store-$size
mkdir -p "$work"
cd "$work"
if [ ! -f archive.tar.zst.age.minisig ]; then
    echo "making a $size MiB signed, age-encrypted archive in $work" >&2
    rm -rf proj && mkdir proj
    head -c "$((size * 1024 * 1024))" /dev/urandom > proj/data.bin
    tar -cf - proj | zstd -1 -q -T0 > archive.tar.zst
    age-keygen -o id.txt 2>/dev/null
    age -r "$(sed -n 's/# public key: //p' id.txt)" -o archive.tar.zst.age archive.tar.zst
    rm -f archive.tar.zst key.pub key.sec
    minisign -G -W -p key.pub -s key.sec >/dev/null
    minisign -S -s key.sec -m archive.tar.zst.age >/dev/null
    mkdir -p trust && cp key.pub trust/
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$servers/venv/bin/moto_server" -H 127.0.0.1 -p "$port" >moto.log 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null' EXIT
for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
endpoint=http://127.0.0.1:$port
py=$servers/venv/bin/python
store=$OLDPWD/tests/servers/store.py
"$py" "$store" s3 "$endpoint" mkbucket bench
"$py" "$store" s3 "$endpoint" put bench archive.tar.zst.age archive.tar.zst.age \
    archive.tar.zst.age.minisig archive.tar.zst.age.minisig
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=testsecret
opts=(--store-opt "aws_endpoint=$endpoint" --store-opt aws_region=us-east-1)
one() { # name, then the restore's arguments; prints "seconds peak_kib user_s sys_s"
    local name=$1; shift
    rm -rf dest; mkdir -p spool
    /usr/bin/time -f '%e %M %U %S' -o time.txt "$bin" restore "$@" --to dest --trust trust -i id.txt --yes -q
    cat time.txt
}
declare -A ratios peaks cpu
for mode in verify-first spool single-pass; do
    case $mode in
        verify-first) extra=() ;;
        spool) extra=(--spool spool) ;;
        single-pass) extra=(--single-pass) ;;
    esac
    local_extra=("${extra[@]}")
    [ "$mode" = spool ] && local_extra=()
    for i in $(seq "$pairs"); do
        read -r l lpeak lu ls < <(one local archive.tar.zst.age "${local_extra[@]}")
        read -r r rpeak ru rs < <(one remote s3://bench/archive.tar.zst.age "${opts[@]}" "${extra[@]}")
        ratios[$mode]+="$(python3 -c "print($r/$l)") "
        cpu[$mode]+="$(python3 -c "print(($ru+$rs)/($lu+$ls))") "
        peaks[$mode]+="$rpeak "
        echo "$mode pair $i: local ${l}s (cpu $lu+$ls), s3 ${r}s (cpu $ru+$rs), peak ${rpeak} KiB" >&2
    done
done
echo
echo "CPU: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(nproc) cores; archive ${size} MiB; $pairs pairs"
# wall: elapsed time, s3 over local (the emulator shares the machine's cores);
# cpu: this tool's own user+sys time, s3 over local (what reading a store costs it).
printf '%-14s %8s %8s %14s\n' mode "wall" "cpu" "peak RSS MiB"
for mode in verify-first spool single-pass; do
    python3 - "$mode" ${ratios[$mode]} -- ${cpu[$mode]} -- ${peaks[$mode]} <<'PY'
import statistics, sys
mode = sys.argv[1]
a = sys.argv.index("--")
b = sys.argv.index("--", a + 1)
ratios = [float(x) for x in sys.argv[2:a]]
cpu = [float(x) for x in sys.argv[a + 1:b]]
peaks = [int(x) for x in sys.argv[b + 1:]]
print(f"{mode:<14} {statistics.median(ratios):8.2f} {statistics.median(cpu):8.2f} {max(peaks) / 1024:14.1f}")
PY
done
