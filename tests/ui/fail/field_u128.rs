// A `u128` field: integers are properties up to 64 bits.
use telemetry_core::TelemetryEvent;

/// A file was uploaded.
#[derive(TelemetryEvent)]
#[telemetry(name = "file.uploaded")]
struct FileUploaded {
    /// Content hash.
    hash: u128,
}

fn main() {
    let _ = FileUploaded { hash: 1 };
}
