#!/usr/bin/env bash
# Model-checks the event ring's protocol (telemetry-core/src/runtime/ring.rs, `loom_tests`)
# with loom: every interleaving of its threads, within the models' preemption bound.
# Builds in its own target subdirectory, so `--cfg loom` leaves the normal build's cache alone.
set -euo pipefail
cd "$(dirname "$0")/.."
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/loom" \
    exec cargo test -p telemetry-core --lib --release loom_tests "$@"
