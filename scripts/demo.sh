#!/usr/bin/env bash
# The demo: a verified (minisign, checksum), decrypted (age) restore of the signed
# and encrypted projectclone backup in fixtures/demo, using the trust store in keys/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
dest="${1:-${TMPDIR:-/tmp}/projectrestore-demo}"
cargo run --locked --quiet -- restore \
    fixtures/demo/2026-11-24_120000-demo-initial.tar.gz.age \
    --trust keys/ \
    --identity fixtures/demo/secret/demo-age-identity.txt \
    --strip-components 1 --yes \
    --to "$dest"
echo
echo "restored tree in $dest:"
find "$dest" | sort | sed "s|^$dest|  .|"
