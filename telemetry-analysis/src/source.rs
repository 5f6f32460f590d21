//! Event files: plain JSONL, gzip or zstd compressed, and directories of rotated
//! files.
//!
//! Compression is recognised by the file's first bytes (the gzip and zstd magic
//! numbers), whatever its name; concatenated gzip members and zstd frames are read
//! one after the other. A directory stands for every `*.jsonl` file in it (also
//! rotated ones such as `events.jsonl.1`, and each with `.gz` or `.zst`), in name
//! order; subdirectories are not read.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How a file is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain text.
    None,
    /// gzip (`.gz`).
    Gzip,
    /// Zstandard (`.zst`).
    Zstd,
}

/// One event file to read.
#[derive(Debug, Clone)]
pub struct Source {
    /// Where it is.
    pub path: PathBuf,
    /// Its size on disk in bytes (compressed).
    pub size: u64,
}

/// A file or directory that cannot be read; the message names it and says what to do.
#[derive(Debug)]
pub struct SourceError(pub String);

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SourceError {}

/// Whether a file name is an event file of a directory: `*.jsonl`, `*.jsonl.N`
/// (rotated), each optionally followed by `.gz` or `.zst`.
pub fn is_event_file_name(name: &str) -> bool {
    let name = name
        .strip_suffix(".gz")
        .or_else(|| name.strip_suffix(".zst"))
        .unwrap_or(name);
    let name = match name.rsplit_once('.') {
        Some((stem, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => stem,
        _ => name,
    };
    name.ends_with(".jsonl")
}

/// The files behind `paths`: files as given, directories expanded to their event
/// files in name order.
///
/// # Errors
///
/// A path that does not exist or cannot be listed, or a directory without any event
/// file.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<Source>, SourceError> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| {
            SourceError(format!(
                "cannot read the events `{}`: {e}; give the JSONL file (or a directory of them) the program writes",
                path.display()
            ))
        })?;
        if !meta.is_dir() {
            out.push(Source {
                path: path.clone(),
                size: meta.len(),
            });
            continue;
        }
        let listing = std::fs::read_dir(path).map_err(|e| {
            SourceError(format!(
                "cannot list the directory `{}`: {e}; check its permissions",
                path.display()
            ))
        })?;
        let mut found = Vec::new();
        for entry in listing {
            let entry = entry.map_err(|e| {
                SourceError(format!(
                    "cannot list the directory `{}`: {e}; check its permissions",
                    path.display()
                ))
            })?;
            let name = entry.file_name();
            let is_file = entry
                .file_type()
                .is_ok_and(|t| t.is_file() || t.is_symlink());
            if is_file && name.to_str().is_some_and(is_event_file_name) {
                let size = entry.metadata().map_or(0, |m| m.len());
                found.push(Source {
                    path: entry.path(),
                    size,
                });
            }
        }
        if found.is_empty() {
            return Err(SourceError(format!(
                "the directory `{}` holds no event files (`*.jsonl`, `*.jsonl.gz`, `*.jsonl.zst`, rotated `*.jsonl.1`, ...); give a file or the directory the program writes to",
                path.display()
            )));
        }
        found.sort_by(|a, b| a.path.cmp(&b.path));
        out.extend(found);
    }
    Ok(out)
}

/// Counts the bytes read through it (for a progress bar), shared with other threads.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The compression of a stream, from its first bytes.
pub fn sniff(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// Reads every zstd frame of a stream, one after the other.
struct ZstdFrames<R: BufRead> {
    decoder: Option<ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>>,
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(decoder) = self.decoder.as_mut() else {
                return Ok(0);
            };
            let n = decoder.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // End of a frame: another one may follow.
            let (mut source, frames) = self.decoder.take().expect("checked above").into_parts();
            if source.fill_buf()?.is_empty() {
                return Ok(0);
            }
            self.decoder = Some(
                ruzstd::decoding::StreamingDecoder::new_with_decoder(source, frames)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?,
            );
        }
    }
}

/// Opens a stream, decompressing it as its first bytes say. `read` counts the bytes
/// taken from `inner` (compressed).
///
/// # Errors
///
/// The stream cannot be read, or starts like a zstd stream but is not one.
pub fn decompress<R: Read + Send + 'static>(
    inner: R,
    read: Arc<AtomicU64>,
) -> io::Result<Box<dyn BufRead + Send>> {
    let mut raw = BufReader::with_capacity(1 << 16, Counting { inner, read });
    let compression = sniff(raw.fill_buf()?);
    Ok(match compression {
        Compression::None => Box::new(raw),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::bufread::MultiGzDecoder::new(raw),
        )),
        Compression::Zstd => {
            let decoder = ruzstd::decoding::StreamingDecoder::new(raw)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            Box::new(BufReader::with_capacity(
                1 << 16,
                ZstdFrames {
                    decoder: Some(decoder),
                },
            ))
        }
    })
}

impl Source {
    /// Opens the file for reading, decompressed.
    ///
    /// # Errors
    ///
    /// A message naming the file when it cannot be opened or is not valid gzip/zstd.
    pub fn open(&self, read: Arc<AtomicU64>) -> Result<Box<dyn BufRead + Send>, SourceError> {
        let file = File::open(&self.path).map_err(|e| {
            SourceError(format!(
                "cannot read the events `{}`: {e}; give the JSONL file the program writes",
                self.path.display()
            ))
        })?;
        decompress(file, read).map_err(|e| {
            SourceError(format!(
                "cannot read `{}`: {e}; is it a complete gzip or zstd file?",
                self.path.display()
            ))
        })
    }

    /// The name used in messages (`dir/events.jsonl.gz`).
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }
}

/// Calls `each` with every line of `reader` (without the line break; invalid UTF-8 is
/// replaced). Stops at the first read error (a truncated compressed file, say): the
/// lines before it have been given.
///
/// # Errors
///
/// The read error, with the number of lines read before it.
pub fn for_each_line(
    mut reader: impl BufRead,
    mut each: impl FnMut(&str),
) -> Result<u64, (u64, io::Error)> {
    let mut buf = Vec::with_capacity(4096);
    let mut lines = 0u64;
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => return Ok(lines),
            Ok(_) => {
                lines += 1;
                let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                match std::str::from_utf8(line) {
                    Ok(s) => each(s),
                    Err(_) => each(&String::from_utf8_lossy(line)),
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err((lines, e)),
        }
    }
}

/// Whether `path` names standard input (`-`).
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[test]
    fn event_file_names() {
        for yes in [
            "events.jsonl",
            "events.jsonl.gz",
            "events.jsonl.zst",
            "events.jsonl.1",
            "events.jsonl.12.gz",
            "2026-11-25.jsonl",
        ] {
            assert!(is_event_file_name(yes), "{yes}");
        }
        for no in [
            "events.json",
            "notes.txt",
            "events.jsonl.bak",
            "events.gz",
            ".jsonl.x",
        ] {
            assert!(!is_event_file_name(no), "{no}");
        }
    }

    fn lines_of(bytes: Vec<u8>) -> Vec<String> {
        let reader = decompress(std::io::Cursor::new(bytes), Arc::default()).unwrap();
        let mut out = Vec::new();
        for_each_line(reader, |l| out.push(l.to_owned())).unwrap();
        out
    }

    #[test]
    fn gzip_members_and_zstd_frames_are_read_in_sequence() {
        let mut gz = Vec::new();
        for part in ["a\nb\n", "c\r\n"] {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(part.as_bytes()).unwrap();
            gz.extend(enc.finish().unwrap());
        }
        assert_eq!(lines_of(gz), ["a", "b", "c"]);
        let mut zst = Vec::new();
        for part in ["x\ny\n", "z"] {
            zst.extend(ruzstd::encoding::compress_to_vec(
                part.as_bytes(),
                ruzstd::encoding::CompressionLevel::Fastest,
            ));
        }
        assert_eq!(lines_of(zst), ["x", "y", "z"]);
        assert_eq!(lines_of(b"plain\n".to_vec()), ["plain"]);
    }

    #[test]
    fn a_truncated_gzip_file_gives_its_lines_then_an_error() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for i in 0..10_000 {
            writeln!(enc, "line {i}").unwrap();
        }
        let mut gz = enc.finish().unwrap();
        gz.truncate(gz.len() / 2);
        let reader = decompress(std::io::Cursor::new(gz), Arc::default()).unwrap();
        let mut seen = 0u64;
        let (lines, _) = for_each_line(reader, |_| seen += 1).unwrap_err();
        assert!(lines > 0 && lines == seen && lines < 10_000, "{lines}");
    }
}
