// An `extern "C"` fn is called from outside Rust.
use telemetry_core::instrument_event;

/// Called from C.
#[instrument_event(name = "ffi.called")]
extern "C" fn callback(x: u32) -> u32 {
    x
}

fn main() {
    let _ = callback(1);
}
