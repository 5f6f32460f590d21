// An optional field whose inner type is not a property (`Option<Vec<u8>>`).
use telemetry_core::TelemetryEvent;

/// A file was uploaded.
#[derive(TelemetryEvent)]
#[telemetry(name = "file.uploaded")]
struct FileUploaded {
    /// The file's first bytes, if read.
    header: Option<Vec<u8>>,
}

fn main() {
    let _ = FileUploaded { header: None };
}
