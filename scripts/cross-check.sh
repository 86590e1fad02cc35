#!/usr/bin/env bash
# Type-check (with clippy) the layers below the library for the targets we cannot
# run here:
#   projectrestore-fs (beneath-only file system, staging, commit, and the archive
#   layer under it) for macOS on Intel and Apple silicon, and FreeBSD for "other Unix";
#   projectrestore-archive (sniffing, path rules, validator) for wasm32-wasip1, the
#   sandboxed extractor's guest: it must stay pure Rust with no file system.
# The whole tool cannot be cross-checked (openssl-sys and zstd-sys need a C
# cross-compiler); these crates have no C dependency, so they can.
# A target that cannot be added is a loud failure, never a silent pass.
set -euo pipefail
cd "$(dirname "$0")/.."
unix=(x86_64-apple-darwin aarch64-apple-darwin x86_64-unknown-freebsd)
wasm=wasm32-wasip1
if ! rustup target add "${unix[@]}" "$wasm"; then
    echo "################################################################" >&2
    echo "# CROSS-CHECK FAILED: rustup could not add ${unix[*]} $wasm." >&2
    echo "# The macOS, FreeBSD and Wasm code paths were NOT type-checked." >&2
    echo "################################################################" >&2
    exit 1
fi
for t in "${unix[@]}"; do
    echo "== cargo clippy -p projectrestore-fs --target $t" >&2
    cargo clippy --locked -p projectrestore-fs --target "$t" --all-targets -- -D warnings
done
echo "== cargo clippy -p projectrestore-archive --target $wasm" >&2
cargo clippy --locked -p projectrestore-archive --target "$wasm" -- -D warnings
echo "cross-check passed: ${unix[*]} $wasm" >&2
