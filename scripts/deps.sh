#!/usr/bin/env bash
# Installs, with apt, what building and testing projectrestore needs on a fresh
# Debian machine. Does nothing when everything is present.
#   build: pkg-config, libssl-dev (sequoia's openssl backend), libclang-dev (its bindgen),
#          capnproto (sequoia-ipc's build script, under sequoia-gpg-agent: --gpg-agent)
#   fuzz:  g++ (libfuzzer-sys builds libFuzzer)
#   tests: gnupg, age, minisign, signify-openbsd, openssh-client, zstd, xz-utils, bzip2, tar, python3,
#          openssl (the independent check of the log's signed checkpoints),
#          and kill, flock, setpriv, script, mount (procps, util-linux, bsdutils, mount),
#          exfat-fuse and exfatprogs (a real case-insensitive file system for the tests),
#          python3-venv (the object-store emulators' venv: scripts/test-servers.sh)
set -euo pipefail
#   scripts/deps.sh --build   only what building needs (the demo)
packages=(pkg-config libssl-dev libclang-dev gcc capnproto)
if [ "${1:-}" != "--build" ]; then
    packages+=(g++ gnupg age minisign signify-openbsd openssh-client zstd xz-utils bzip2 tar python3 python3-venv openssl
               procps util-linux bsdutils mount exfat-fuse exfatprogs)
fi
if [ "${1:-}" = "--bench" ]; then
    packages+=(time python3-venv)
fi
# The sandboxed extractor's guest (crates/sandbox-guest) is compiled for
# wasm32-unknown-unknown by the normal build: the toolchain needs that target.
if command -v rustup >/dev/null 2>&1 \
    && ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    echo "adding the Rust target wasm32-unknown-unknown (the sandbox guest)" >&2
    rustup target add wasm32-unknown-unknown >&2
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
