//! Cross-crate tests of telemetry-core live in `tests/`.
