#!/usr/bin/env bash
# Every test: unit, integration (hostile archives, invariants, crash recovery) and
# the live runs of gpg, age, minisign, ssh-keygen and signify.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
# moto, Azurite and fake-gcs-server for tests/stores.rs (they start them).
bash scripts/test-servers.sh
# Without the test hooks first: the hooks module's own test checks that such a
# build reads neither PROJECTRESTORE_CRASH_AT nor PROJECTRESTORE_PORTABLE_FS.
cargo test --locked -p projectrestore-fs --lib hooks
# Then everything, with the crash points the crash tests need.
cargo test --locked --workspace --features test-hooks "$@"
# The Python package, built as a wheel and installed into a fresh venv.
bash scripts/python-test.sh
