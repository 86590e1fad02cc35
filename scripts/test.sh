#!/usr/bin/env bash
# Every test: unit, integration (hostile archives, invariants, crash recovery) and
# the live runs of gpg, age, minisign, ssh-keygen and signify.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo test --locked --workspace "$@"
