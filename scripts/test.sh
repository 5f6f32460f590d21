#!/usr/bin/env bash
# Every test of the workspace, after installing what they need (scripts/setup-test-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-test-deps.sh
bash scripts/loom.sh
exec cargo test --workspace "$@"
