// A field is a borrowed slice `&'a [u8]`: only `&str` is a borrowed property type.
use telemetry_core::TelemetryEvent;

/// A file was uploaded.
#[derive(TelemetryEvent)]
#[telemetry(name = "file.uploaded")]
struct FileUploaded<'a> {
    /// First bytes of the file.
    header: &'a [u8],
}

fn main() {
    let _ = FileUploaded { header: b"abc" };
}
