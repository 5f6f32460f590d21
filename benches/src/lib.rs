//! Shared helpers of the emit benchmarks (see `benches/emit.rs`).
