//! Reading the inputs: catalog files and their errors. Every message names the file and
//! says what to do.

use std::fs;
use std::path::Path;

use telemetry_core::catalog::{Catalog, CatalogError};

/// An error that stops the command (exit code 2): the message names the input and what
/// to do.
pub(crate) struct Failure(pub(crate) String);

/// Reads and parses a catalog file.
pub(crate) fn read_catalog(path: &Path) -> Result<Catalog, Failure> {
    let text = fs::read_to_string(path).map_err(|e| {
        Failure(format!(
            "cannot read the catalog `{}`: {e}; write it from the program (see the README's \"Getting the catalog out of a program\")",
            path.display()
        ))
    })?;
    if text.trim().is_empty() {
        return Err(Failure(format!(
            "the catalog `{}` is empty; write it from the program with `TELEMETRY_DUMP_CATALOG={} cargo run` or `telemetry_core::catalog().to_json()`",
            path.display(),
            path.display()
        )));
    }
    Catalog::from_json(&text).map_err(|e| match e {
        CatalogError::UnsupportedFormat(v) => Failure(format!(
            "{}: catalog format {v} is newer than this `telemetry` understands (format {}); install the `telemetry` CLI of the same release as the program's telemetry-core",
            path.display(),
            telemetry_core::catalog::CATALOG_FORMAT
        )),
        e => Failure(format!("{}: {e}", path.display())),
    })
}

/// Writes `contents` to `path`, creating parent directories.
pub(crate) fn write_file(path: &Path, contents: &str) -> Result<(), Failure> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| {
            Failure(format!(
                "cannot create the directory `{}`: {e}; choose a writable output path",
                parent.display()
            ))
        })?;
    }
    fs::write(path, contents).map_err(|e| {
        Failure(format!(
            "cannot write `{}`: {e}; choose a writable output path",
            path.display()
        ))
    })
}

/// Prints to standard output; a closed pipe (`| head`) is not an error worth a message.
pub(crate) fn print(text: &str) {
    use std::io::Write as _;
    let mut out = anstream::stdout();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
