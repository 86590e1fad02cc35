#!/usr/bin/env bash
# The demo: a verified (minisign, checksum), decrypted (age) restore of the signed
# and encrypted projectclone backup in fixtures/demo, using the trust store in keys/.
#   scripts/demo.sh [DIR]    restores into DIR (default: $TMPDIR/projectrestore-demo)
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'demo: %s\n' "$*" >&2; }
# Only what building needs, and only when something is missing (deps.sh checks first).
bash scripts/deps.sh --build
dest="${1:-${TMPDIR:-/tmp}/projectrestore-demo}"
# Where cargo puts it (CARGO_TARGET_DIR moves it).
bin="${CARGO_TARGET_DIR:-target}/release/projectrestore"
if [ ! -x "$bin" ] || [ -n "$(find src crates Cargo.toml Cargo.lock -newer "$bin" -print -quit)" ]; then
    say "building projectrestore (release; the first build takes a few minutes)…"
    cargo build --release --locked --quiet
fi
say "restoring fixtures/demo/2026-11-24_120000-demo-initial.tar.gz.age into $dest"
say "  (checks: minisign signature against keys/, the .sha256 checksum; then age decryption)"
"$bin" restore \
    fixtures/demo/2026-11-24_120000-demo-initial.tar.gz.age \
    --trust keys/ \
    --identity fixtures/demo/secret/demo-age-identity.txt \
    --strip-components 1 --yes \
    --to "$dest"
echo
echo "restored tree in $dest:"
find "$dest" | sort | sed "s|^$dest|  .|"
