#!/usr/bin/env bash
# Type-check (with clippy) the platform-sensitive crate, projectrestore-core (the
# file-system layer, validator, staging writer and commit), for the targets we
# cannot run here: macOS on Intel and Apple silicon, and FreeBSD for "other Unix".
# The whole tool cannot be cross-checked (openssl-sys and zstd-sys need a C
# cross-compiler); core has no C dependency, so it can.
# A target that cannot be added is a loud failure, never a silent pass.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(x86_64-apple-darwin aarch64-apple-darwin x86_64-unknown-freebsd)
if ! rustup target add "${targets[@]}"; then
    echo "################################################################" >&2
    echo "# CROSS-CHECK FAILED: rustup could not add ${targets[*]}." >&2
    echo "# The macOS and FreeBSD code paths were NOT type-checked." >&2
    echo "################################################################" >&2
    exit 1
fi
for t in "${targets[@]}"; do
    echo "== cargo clippy -p projectrestore-core --target $t" >&2
    cargo clippy --locked -p projectrestore-core --target "$t" --all-targets -- -D warnings
done
echo "cross-check passed: ${targets[*]}" >&2
