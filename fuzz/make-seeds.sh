#!/usr/bin/env bash
# Makes fuzz/seeds/TARGET/, the committed seed corpora of the fuzz targets, from
# the fixtures (made by the real gpg, age, minisign, ssh-keygen, signify and this
# tool's log commands) and from archives GNU tar, gzip and zstd make here:
# PAX and GNU long names, links, a FIFO, a sparse file, many small files.
# tests/fuzz_corpus.rs replays every seed through its parser on every test run.
# Needs: tar, gzip, zstd, xz, bzip2, python3 (for the CCTV age vectors, some zlib-packed),
# a built projectrestore (cargo build), or BIN=path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$here/..
fx=$repo/fixtures
out=$here/seeds
rm -rf "$out"
mkdir -p "$out"
seed() { # seed TARGET FILE... : copy files in, named after their source
    local t=$1; shift
    mkdir -p "$out/$t"
    for f in "$@"; do cp "$f" "$out/$t/$(basename "$f")"; done
}

# Archives: the demo and crypto fixtures, and a tree with every entry kind.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out/tar" "$out/gzip" "$out/zstd" "$out/xz" "$out/bzip2"
for f in "$fx"/demo/*.tar.gz "$fx"/crypto/data.tar.gz; do
    b=$(basename "$f" .gz)
    gzip -dc "$f" > "$out/tar/$b"
    cp "$f" "$out/gzip/"
done
t=$work/tree
mkdir -p "$t/src/deep/er/still" "$t/empty"
printf 'hello\n' > "$t/src/a.txt"
printf 'x%.0s' $(seq 1 300) > "$t/src/deep/er/still/$(printf 'n%.0s' $(seq 1 120)).txt"
ln -s a.txt "$t/src/link"
ln "$t/src/a.txt" "$t/src/hard"
# The entries the validator refuses go in archives of their own, so that the
# tree's seeds reach every accepting path.
odd=$work/odd
mkdir -p "$odd"
mkfifo "$odd/fifo"
truncate -s 1M "$odd/sparse" && printf 'end' >> "$odd/sparse"
for i in $(seq 1 20); do printf '%s' "$i" > "$t/empty/f$i"; done
for fmt in pax gnu; do
    tar --format=$fmt --owner=0 --group=0 --mtime=@1700000000 -C "$work" -cf "$out/tar/tree-$fmt.tar" tree
    tar --format=$fmt --sparse -C "$work" -cf "$out/tar/sparse-$fmt.tar" odd/sparse
done
# ustar has no long names: the short ones only.
tar --format=ustar -C "$work" -cf "$out/tar/tree-ustar.tar" tree/src/a.txt tree/src/link tree/src/hard tree/empty
tar --format=ustar -C "$work" -cf "$out/tar/fifo.tar" odd/fifo
tar --format=pax --pax-option='SCHILY.filetype=symlink' -C "$work" -cf "$out/tar/tree-schily.tar" tree/src/a.txt
for f in "$out"/tar/*.tar; do
    gzip -9nc "$f" > "$out/gzip/$(basename "$f").gz"
    zstd -q -19 -c "$f" > "$out/zstd/$(basename "$f").zst"
done
# xz (-6: an 8 MiB dictionary, two streams) and bzip2, of the same trees.
for f in "$out"/tar/tree-pax.tar "$out"/tar/tree-gnu.tar "$out"/tar/tree-ustar.tar; do
    xz -6 -c "$f" > "$out/xz/$(basename "$f").xz"
    bzip2 -9 -c "$f" > "$out/bzip2/$(basename "$f").bz2"
done
xz -0 --check=sha256 -c "$out/tar/tree-ustar.tar" > "$out/xz/sha256-check.tar.xz"
cat "$out/xz/tree-ustar.tar.xz" "$out/xz/tree-ustar.tar.xz" > "$out/xz/two-streams.tar.xz"
cat "$out/bzip2/tree-ustar.tar.bz2" "$out/bzip2/tree-ustar.tar.bz2" > "$out/bzip2/two-streams.tar.bz2"
zstd -q --long=27 -c "$out/tar/tree-pax.tar" > "$out/zstd/long27.tar.zst"
# Two frames, and a skippable frame before the data.
cat "$out/zstd/tree-gnu.tar.zst" "$out/zstd/tree-gnu.tar.zst" > "$out/zstd/two-frames.tar.zst"
{ printf '\x50\x2a\x4d\x18\x04\x00\x00\x00skip'; cat "$out/zstd/tree-gnu.tar.zst"; } > "$out/zstd/skippable.tar.zst"

# Encryption: the fixtures, and the body of every CCTV age vector.
seed age "$fx"/crypto/*.age "$fx"/demo/*.age
python3 - "$repo/tests/data/cctv-age" "$out/age" <<'PY'
import os, sys, zlib
src, dst = sys.argv[1:]
for name in sorted(os.listdir(src)):
    if name == "README.md":
        continue
    data = open(os.path.join(src, name), "rb").read()
    head, _, body = data.partition(b"\n\n")
    if b"compressed: zlib" in head:
        body = zlib.decompress(body)
    if len(body) > 256 << 10:  # the 16 MiB stream vectors: too slow to mutate
        continue
    open(os.path.join(dst, "cctv-" + name), "wb").write(body)
PY
seed openpgp_message "$fx"/crypto/*.gpg

# Signatures, one corpus per format (minisign and signify share a parser).
seed signature_minisign "$fx"/crypto/*.minisig "$fx"/demo/*.minisig
seed signature_signify "$fx"/crypto/*.signify.sig
seed signature_ssh "$fx"/crypto/*.ssh*.sig
seed signature_openpgp "$fx"/crypto/*.gpg-*.sig "$fx"/crypto/*.gpg-ed.asc "$fx"/crypto/*.rsa.asc "$fx"/policy/*.sig

# Keys, checksums, rc files.
seed trust_store "$fx"/crypto/trust/* "$fx"/crypto/other/* "$fx"/policy/trust/*
seed checksum "$fx"/demo/*.sha256
mkdir -p "$out/config"
cat > "$out/config/full.rc" <<'RC'
backup_dir = "backups"
pattern = "*.tar.zst.age"
to = "app"
trust = ["keys/", "more.pub"]
threshold = 2
identities = ["id.txt"]
passphrase_file = "pass"
strip_components = 1
keep = 5
max_bytes = "10GiB"
allow_project_dirs = ["/srv/app"]
RC
printf 'max_bytes = 12\nthreshold = "two"\n' > "$out/config/bad.rc"

# The log: notes, checkpoints, entries, proofs; the state directory's files.
lg=$fx/log
seed note "$lg"/log/checkpoint "$lg"/log.vkey
mkdir -p "$out/checkpoint" "$out/log_entry"
# A checkpoint body is the note's text: everything before the blank line.
python3 -c 'import sys; t=open(sys.argv[1]).read(); open(sys.argv[2],"w").write(t[:t.rindex("\n\n")+1])' \
    "$lg"/log/checkpoint "$out/checkpoint/checkpoint.txt"
i=0
while IFS= read -r line; do printf '%s' "$line" > "$out/log_entry/entry$i.json"; i=$((i+1)); done < "$lg"/log/entries.jsonl
seed tlog_proof "$lg"/*.tlog-proof
# A real state directory: two restores of the demo, then a third that this
# tool aborts right after writing its journal (as the crash tests do).
bin=${BIN:-$repo/target/debug/projectrestore}
mkdir -p "$out/state_files"
for crash in "" "" after-journal; do
    (cd "$fx/demo" && PROJECTRESTORE_CRASH_AT=$crash "$bin" restore 2026-11-24_120000-demo-initial.tar.gz \
        --to "$work/app" --allow-unsigned --yes >/dev/null 2>&1) 2>/dev/null || true
done
st=$work/.app.projectrestore
cp "$st/journal" "$out/state_files/journal"
cp "$st/current.json" "$out/state_files/current.json"
for m in "$st"/generations/*/meta.json; do cp "$m" "$out/state_files/meta-$(basename "$(dirname "$m")").json"; done
# What a sandbox guest sends (crates/archive/src/wire.rs), each record after a
# 2-byte little-endian length: a valid tree, and two that the host refuses.
mkdir -p "$out/sandbox_records"
python3 - "$out/sandbox_records" <<'PY'
import struct, sys
def entry(kind, path, size=0, target=b'', implicit=0, mode=0o644):
    return (bytes([1, kind, implicit]) + struct.pack('<IqQQQ', mode, 0, 0, 0, size)
            + struct.pack('<I', len(path)) + path + struct.pack('<I', len(target)) + target)
def data(b): return bytes([2]) + b
def end(): return bytes([3]) + struct.pack('<Q', 0) + bytes([0])
def seq(rs): return b''.join(struct.pack('<H', len(r)) + r for r in rs)
d = sys.argv[1]
open(f'{d}/tree.bin', 'wb').write(seq([
    entry(1, b'a', implicit=1, mode=0o755), entry(0, b'a/b', 5), data(b'hello'),
    entry(2, b'l', target=b'a/b'), entry(3, b'h', target=b'a/b'),
    entry(1, b'd', mode=0o755), entry(0, b'd/E', 0), end()]))
open(f'{d}/dotdot.bin', 'wb').write(seq([entry(0, b'../x', 1), data(b'x'), end()]))
open(f'{d}/links.bin', 'wb').write(seq([
    entry(2, b's', target=b'../../x'), entry(1, b's2', mode=0o4777),
    entry(0, b's2/f', 3), data(b'abc'), end()]))
PY
echo "seeds: $(find "$out" -type f | wc -l) files in $(ls "$out" | wc -l) corpora"
