//! OTLP/HTTP logs: each event a `LogRecord`, sent as a protobuf
//! `ExportLogsServiceRequest` to `{endpoint}/v1/logs`.
//!
//! # Encoding
//!
//! The protobuf messages are written by a small hand-written encoder for exactly the
//! messages this exporter sends (`ExportLogsServiceRequest`, `ResourceLogs`,
//! `ScopeLogs`, `LogRecord`, `KeyValue`, `AnyValue`, `Resource`,
//! `InstrumentationScope`) and a decoder for the one response message
//! (`ExportLogsServiceResponse`). Generating them with `prost` would pull `prost`,
//! `prost-derive` (a proc macro: `syn` with full features), `bytes` and, to keep the
//! `.proto` files in sync, `prost-build` or `opentelemetry-proto` with its `tonic`
//! types: several times the compile time of the exporter itself, for eight messages
//! whose wire format is frozen (OTLP is stable; fields are only ever added). The
//! tests decode the output with the official Python `opentelemetry-proto` package, an
//! independent implementation, so a mistake here cannot hide behind a shared schema.
//!
//! Field numbers follow `opentelemetry/proto/logs/v1/logs.proto` (OTLP 1.5+: the
//! `event_name` field is number 12 of `LogRecord`).

use std::collections::BTreeMap;
use std::fmt;
use std::io;

use super::engine::{Answer, Encoded, HttpExporter, Limits, Request, Secret, Vendor, Verdict};
use crate::record::Record;
use crate::value::Value;

/// Path appended to the endpoint, as the OTLP/HTTP specification says for logs.
pub const OTLP_LOGS_PATH: &str = "/v1/logs";

/// Default number of log records per request: the `maxExportBatchSize` default of the
/// OpenTelemetry SDKs' batch log record processor (specification, "Batching
/// processor").
pub const OTLP_DEFAULT_BATCH_SIZE: usize = 512;

/// The endpoint used by default: a collector on this machine, OTLP/HTTP's default port
/// (specification, "OTLP/HTTP Default Port": 4318).
pub const OTLP_DEFAULT_ENDPOINT: &str = "http://localhost:4318";

/// Most bytes of one request body. OTLP sets no limit; 4 MiB is below the default
/// request size limit of common collectors and backends (the OpenTelemetry Collector's
/// gRPC receiver takes 4 MiB messages) and far above 512 ordinary events.
pub const OTLP_MAX_REQUEST_BYTES: usize = 4 << 20;

/// Bytes of a request around its log records (resource, scope; a few hundred bytes),
/// rounded up, for packing.
const ENVELOPE_BYTES: usize = 1024;

/// The OTLP/HTTP logs exporter: a [`Sink`](crate::Sink) sending each event as a
/// `LogRecord` to an OpenTelemetry collector (or any OTLP/HTTP endpoint), protobuf
/// encoded.
///
/// ```no_run
/// use telemetry_core::export::Otlp;
///
/// let otlp = Otlp::new("http://collector.internal:4318").header("authorization", "Bearer s3cr3t");
/// let _guard = telemetry_core::init(telemetry_core::Config::new("shop", "1.0").sink(otlp));
/// ```
///
/// `Otlp::from_env()` reads the standard `OTEL_EXPORTER_OTLP_*` variables instead.
///
/// # What is sent
///
/// One `ExportLogsServiceRequest` per batch of at most [`OTLP_DEFAULT_BATCH_SIZE`] events
/// (the SDKs' default, see [`batch_size`](HttpExporter::batch_size)), to
/// `{endpoint}/v1/logs` with `Content-Type: application/x-protobuf`. Events of
/// different applications go to separate `ResourceLogs`. Each event is a `LogRecord`:
///
/// | LogRecord | from the record |
/// |---|---|
/// | `time_unix_nano`, `observed_time_unix_nano` | `timestamp` (the event was observed when emitted) |
/// | `event_name` (field 12), attribute `event.name` (for collectors older than OTLP 1.5), `body` | `name` |
/// | `severity_number` `INFO` (9), `severity_text` `INFO` | |
/// | attributes under the property names, typed (`int`, `double`, `bool`, `string`; an integer above `i64::MAX` as `double`, `null` as an empty value) | `properties` |
/// | `event.version` (int) | `version` |
/// | `log.record.uid` | `id`, for de-duplication |
/// | `user.id`, `user.anonymous_id`, `session.id`, `user.locale` | `context`, when present |
/// | `event.sample_rate` (double) | `sample_rate`, when present |
/// | `code.function.name`, `call.duration_ms`, `call.outcome`, `error.type` | `call`, when present |
///
/// Property names are snake_case, context names dotted: they never clash. The
/// resource has `service.name` and `service.version` (`app_name`, `app_version`),
/// `os.type` and `host.arch` (from `os` and `arch`, with the semantic conventions'
/// values: `darwin`, `amd64`, `arm64`, ...); the instrumentation scope is
/// `telemetry-core` and its version.
///
/// # Answers (OTLP specification, "OTLP/HTTP Response")
///
/// - 2xx: exported, except the `partial_success.rejected_log_records` of the answer,
///   which count as rejected and are never sent again;
/// - 429, 502, 503, 504: retried with backoff, honouring `Retry-After`;
/// - anything else, 400, 413 and 500 included: failed, never sent again (the
///   specification calls them not retryable).
pub type Otlp = HttpExporter<OtlpLogs>;

/// The OTLP/HTTP logs rules for the [`HttpExporter`]: encoding, limits, answers and
/// the configured headers (whose values are never printed).
#[derive(Debug, Clone)]
pub struct OtlpLogs {
    headers: Vec<(String, Secret)>,
    batch_size: usize,
    /// Compress request bodies with gzip (`Content-Encoding: gzip`).
    #[cfg(feature = "otlp-gzip")]
    gzip: bool,
    /// A full logs URL ([`logs_url`](HttpExporter::logs_url)), used as is while it is
    /// the endpoint; a later [`endpoint`](HttpExporter::endpoint) is a base URL again.
    logs_url: Option<String>,
}

impl HttpExporter<OtlpLogs> {
    /// An exporter to the collector at `endpoint`, a base URL such as
    /// `http://localhost:4318` (the exporter adds `/v1/logs`).
    pub fn new(endpoint: impl Into<String>) -> Otlp {
        HttpExporter::with_vendor(OtlpLogs {
            headers: Vec::new(),
            batch_size: OTLP_DEFAULT_BATCH_SIZE,
            #[cfg(feature = "otlp-gzip")]
            gzip: false,
            logs_url: None,
        })
        .endpoint(endpoint)
    }

    /// An exporter configured by the OpenTelemetry environment variables:
    /// `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` (the full URL, used as is), else
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` (a base URL, `/v1/logs` added), else
    /// [`OTLP_DEFAULT_ENDPOINT`]; headers from `OTEL_EXPORTER_OTLP_HEADERS` and
    /// `OTEL_EXPORTER_OTLP_LOGS_HEADERS` (`name=value,name=value`, values
    /// percent-encoded; the logs variable wins for a name set in both);
    /// `OTEL_EXPORTER_OTLP_[LOGS_]COMPRESSION` `gzip` (feature `otlp-gzip`) or `none`.
    ///
    /// # Errors
    ///
    /// A header variable that is not in that format; the message names the variable
    /// and the entry, never a value.
    pub fn from_env() -> io::Result<Otlp> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut otlp = match (
            var("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"),
            var("OTEL_EXPORTER_OTLP_ENDPOINT"),
        ) {
            (Some(url), _) => Otlp::new(OTLP_DEFAULT_ENDPOINT).logs_url(url.trim()),
            (None, Some(base)) => Otlp::new(base.trim()),
            (None, None) => Otlp::new(OTLP_DEFAULT_ENDPOINT),
        };
        let compression = var("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION")
            .or_else(|| var("OTEL_EXPORTER_OTLP_COMPRESSION"));
        match compression.as_deref().map(str::trim) {
            None | Some("none") => {}
            #[cfg(feature = "otlp-gzip")]
            Some("gzip") => otlp = otlp.gzip(true),
            Some(other) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "OTEL_EXPORTER_OTLP_COMPRESSION `{other}` is not supported: use `none`{}",
                        if cfg!(feature = "otlp-gzip") {
                            " or `gzip`"
                        } else {
                            ", or `gzip` with telemetry-core's `otlp-gzip` feature"
                        }
                    ),
                ));
            }
        }
        for name in [
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
        ] {
            if let Some(list) = var(name) {
                for (header, value) in parse_headers(name, &list)? {
                    otlp = otlp.header(&header, value);
                }
            }
        }
        Ok(otlp)
    }

    /// Sends to `url` exactly, without adding `/v1/logs`: the full logs URL of a
    /// collector or backend that serves OTLP logs under another path (what
    /// `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` holds). A later
    /// [`endpoint`](HttpExporter::endpoint) sets a base URL again.
    pub fn logs_url(self, url: impl Into<String>) -> Otlp {
        let mut otlp = self.endpoint(url);
        let url = otlp.endpoint_url().to_owned();
        otlp.vendor_mut().logs_url = Some(url);
        otlp
    }

    /// Adds a header to every request, e.g. the collector's authentication
    /// (`authorization`, `api-key`, ...); a header of the same name is replaced. The
    /// value is never printed (`Debug` and error messages redact it). A name that is
    /// not an HTTP token, or a value with a line break, is refused with a message on
    /// standard error naming the header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Otlp {
        let value = value.into();
        let valid_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !valid_name || value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            eprintln!(
                "telemetry: OTLP header `{}` ignored: a header name is letters, digits and !#$%&'*+-.^_`|~, and a value holds no line break",
                name.escape_debug()
            );
            return self;
        }
        let name = name.to_ascii_lowercase();
        let headers = &mut self.vendor_mut().headers;
        headers.retain(|(n, _)| *n != name);
        headers.push((name, Secret::new(value)));
        self
    }

    /// Compresses request bodies with gzip (`Content-Encoding: gzip`, which every
    /// OTLP/HTTP server accepts), typically to a fifth of their size; off by default
    /// (feature `otlp-gzip`). Batch limits apply to the uncompressed body.
    #[cfg(feature = "otlp-gzip")]
    pub fn gzip(mut self, on: bool) -> Otlp {
        self.vendor_mut().gzip = on;
        self
    }

    /// Most events per request (default [`OTLP_DEFAULT_BATCH_SIZE`], at least 1).
    pub fn batch_size(mut self, events: usize) -> Otlp {
        self.vendor_mut().batch_size = events.max(1);
        self
    }
}

/// Parses an `OTEL_EXPORTER_OTLP_HEADERS` value: `name=value` pairs separated by
/// commas, values percent-encoded (the W3C Baggage format).
fn parse_headers(var: &str, list: &str) -> io::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (i, entry) in list.split(',').enumerate() {
        if entry.trim().is_empty() {
            continue;
        }
        let bad = |what: &str| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{var}: entry {} {what}; write `name=value` pairs separated by commas, values percent-encoded",
                    i + 1
                ),
            )
        };
        let (name, value) = entry.split_once('=').ok_or_else(|| bad("has no `=`"))?;
        let value = percent_decode(value.trim()).ok_or_else(|| bad("has a bad %-escape"))?;
        out.push((name.trim().to_owned(), value));
    }
    Ok(out)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `body` compressed with gzip (fast level: request bodies are short-lived).
#[cfg(feature = "otlp-gzip")]
fn gzip(body: &[u8]) -> io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::fast(),
    );
    encoder.write_all(body)?;
    encoder.finish()
}

/// `HTTP 400: <message>`: the `google.rpc.Status` message of an OTLP error answer, or
/// the start of its body.
fn answer_reason(answer: &Answer) -> String {
    let detail = decode_status_message(&answer.body)
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| answer.body_excerpt());
    if detail.is_empty() {
        format!("HTTP {}", answer.status)
    } else {
        format!("HTTP {}: {detail}", answer.status)
    }
}

impl Vendor for OtlpLogs {
    fn name(&self) -> &'static str {
        "otlp"
    }

    fn default_endpoint(&self) -> String {
        OTLP_DEFAULT_ENDPOINT.to_owned()
    }

    fn limits(&self) -> Limits {
        let mut limits = Limits::new(
            self.batch_size,
            OTLP_MAX_REQUEST_BYTES,
            OTLP_MAX_REQUEST_BYTES - ENVELOPE_BYTES,
        );
        // A tag and a length of up to 3 bytes before each LogRecord.
        limits.event_overhead = 4;
        limits.envelope_bytes = ENVELOPE_BYTES;
        limits
    }

    fn encode(&self, record: &Record) -> Result<Vec<u8>, String> {
        Ok(encode_log_record(record))
    }

    fn request(&self, endpoint: &str, events: &[Encoded<'_>]) -> Request {
        let url = match &self.logs_url {
            Some(url) if url == endpoint => url.clone(),
            _ => format!("{endpoint}{OTLP_LOGS_PATH}"),
        };
        let mut body = Vec::with_capacity(
            ENVELOPE_BYTES + events.iter().map(|e| e.bytes.len() + 4).sum::<usize>(),
        );
        encode_request(events.iter().map(|e| (e.record, e.bytes)), &mut body);
        #[cfg(feature = "otlp-gzip")]
        let (body, gzip) = match self.gzip.then(|| gzip(&body)) {
            Some(Ok(compressed)) => (compressed, true),
            // Compressing into memory cannot fail short of allocation failure; send
            // the plain body then.
            Some(Err(_)) | None => (body, false),
        };
        let mut request = Request::new(url, "application/x-protobuf", body);
        #[cfg(feature = "otlp-gzip")]
        if gzip {
            request = request.header("content-encoding", "gzip");
        }
        for (name, value) in &self.headers {
            request = request.header(name.clone(), value.expose());
        }
        request
    }

    fn verdict(&self, answer: &Answer, events: &[Encoded<'_>]) -> Verdict {
        match answer.status {
            200..=299 => match decode_response(&answer.body) {
                Ok(partial) if partial.rejected > 0 => Verdict::PartlyAccepted {
                    rejected: usize::try_from(partial.rejected)
                        .unwrap_or(usize::MAX)
                        .min(events.len()),
                    reason: if partial.message.is_empty() {
                        "partial success, no reason given".to_owned()
                    } else {
                        partial.message
                    },
                },
                // A success whose body is not an ExportLogsServiceResponse (some
                // proxies answer with text): the collector took the request.
                Ok(_) | Err(_) => Verdict::Accepted,
            },
            // The only retryable statuses ("OTLP/HTTP Throttling", "Retryable
            // Response Codes").
            429 | 502 | 503 | 504 => Verdict::Retry {
                reason: answer_reason(answer),
            },
            _ => Verdict::Fail {
                reason: answer_reason(answer),
            },
        }
    }
}

/// `SeverityNumber` `SEVERITY_NUMBER_INFO` (`logs.proto`).
const SEVERITY_INFO: u64 = 9;

/// Name of the instrumentation scope written in every request.
const SCOPE_NAME: &str = "telemetry-core";

/// The `os.type` value of the semantic conventions for `std::env::consts::OS`.
fn os_type(os: &str) -> &str {
    match os {
        "macos" | "ios" => "darwin",
        other => other,
    }
}

/// The `host.arch` value of the semantic conventions for `std::env::consts::ARCH`.
fn host_arch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "arm" => "arm32",
        "powerpc" => "ppc32",
        "powerpc64" => "ppc64",
        other => other,
    }
}

// --- protobuf wire format -------------------------------------------------------------

const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;

fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn put_tag(buf: &mut Vec<u8>, field: u32, wire: u32) {
    put_varint(buf, u64::from(field << 3 | wire));
}

fn put_string(buf: &mut Vec<u8>, field: u32, s: &str) {
    put_tag(buf, field, LEN);
    put_varint(buf, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

fn put_fixed64(buf: &mut Vec<u8>, field: u32, v: u64) {
    put_tag(buf, field, FIXED64);
    buf.extend_from_slice(&v.to_le_bytes());
}

fn put_uint(buf: &mut Vec<u8>, field: u32, v: u64) {
    put_tag(buf, field, VARINT);
    put_varint(buf, v);
}

/// Writes an embedded message: the body is written in place, then its length is
/// inserted in front of it (one move of the body per nesting level, no scratch buffer).
fn put_message(buf: &mut Vec<u8>, field: u32, body: impl FnOnce(&mut Vec<u8>)) {
    put_tag(buf, field, LEN);
    let start = buf.len();
    body(buf);
    let len = (buf.len() - start) as u64;
    let mut prefix = Vec::with_capacity(5);
    put_varint(&mut prefix, len);
    buf.splice(start..start, prefix);
}

/// An attribute value (`AnyValue`).
#[derive(Clone, Copy)]
enum Attr<'a> {
    Str(&'a str),
    Bool(bool),
    Int(i64),
    Double(f64),
    /// An empty `AnyValue`: the protobuf way of saying null.
    Empty,
}

impl<'a> Attr<'a> {
    fn from_value(value: &'a Value) -> Attr<'a> {
        match *value {
            Value::Bool(b) => Attr::Bool(b),
            Value::Int(i) => Attr::Int(i),
            Value::UInt(u) => match i64::try_from(u) {
                Ok(i) => Attr::Int(i),
                // Above i64::MAX: `AnyValue` has no unsigned integer; a double keeps
                // the magnitude.
                Err(_) => Attr::Double(u as f64),
            },
            Value::Float(f) => Attr::Double(f),
            Value::String(ref s) => Attr::Str(s),
            Value::Null => Attr::Empty,
        }
    }
}

fn put_any_value(buf: &mut Vec<u8>, field: u32, value: Attr<'_>) {
    put_message(buf, field, |buf| match value {
        Attr::Str(s) => put_string(buf, 1, s),
        Attr::Bool(b) => put_uint(buf, 2, u64::from(b)),
        Attr::Int(i) => put_uint(buf, 3, i as u64),
        Attr::Double(d) => {
            put_tag(buf, 4, FIXED64);
            buf.extend_from_slice(&d.to_bits().to_le_bytes());
        }
        Attr::Empty => {}
    });
}

/// A `KeyValue` in a repeated `attributes` field.
fn put_attribute(buf: &mut Vec<u8>, field: u32, key: &str, value: Attr<'_>) {
    put_message(buf, field, |buf| {
        put_string(buf, 1, key);
        put_any_value(buf, 2, value);
    });
}

/// The resource of a record: who sent it. Records are grouped by it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ResourceKey<'a> {
    app_name: &'a str,
    app_version: &'a str,
    os: &'a str,
    arch: &'a str,
}

impl<'a> ResourceKey<'a> {
    fn of(record: &'a Record) -> ResourceKey<'a> {
        ResourceKey {
            app_name: &record.context.app_name,
            app_version: &record.context.app_version,
            os: &record.context.os,
            arch: &record.context.arch,
        }
    }
}

/// Encodes one record as a `LogRecord` message body (without its tag and length).
pub(crate) fn encode_log_record(record: &Record) -> Vec<u8> {
    let mut buf = Vec::with_capacity(256 + 32 * record.properties.len());
    put_log_record(&mut buf, record);
    buf
}

/// Builds an `ExportLogsServiceRequest` from encoded `LogRecord`s: one `ResourceLogs`
/// per distinct application (name, version, OS, architecture), in the order each first
/// appears; records keep their order within it.
pub(crate) fn encode_request<'a>(
    events: impl IntoIterator<Item = (&'a Record, &'a [u8])>,
    buf: &mut Vec<u8>,
) {
    buf.clear();
    let mut groups: BTreeMap<ResourceKey<'a>, (usize, Vec<&'a [u8]>)> = BTreeMap::new();
    for (record, bytes) in events {
        let next = groups.len();
        groups
            .entry(ResourceKey::of(record))
            .or_insert_with(|| (next, Vec::new()))
            .1
            .push(bytes);
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by_key(|(_, (first, _))| *first);
    for (resource, (_, log_records)) in groups {
        put_message(buf, 1, |buf| {
            put_message(buf, 1, |buf| put_resource(buf, &resource));
            put_message(buf, 2, |buf| {
                put_message(buf, 1, |buf| {
                    put_string(buf, 1, SCOPE_NAME);
                    put_string(buf, 2, env!("CARGO_PKG_VERSION"));
                });
                for bytes in log_records {
                    put_tag(buf, 2, LEN);
                    put_varint(buf, bytes.len() as u64);
                    buf.extend_from_slice(bytes);
                }
            });
        });
    }
}

fn put_resource(buf: &mut Vec<u8>, resource: &ResourceKey<'_>) {
    put_attribute(buf, 1, "service.name", Attr::Str(resource.app_name));
    put_attribute(buf, 1, "service.version", Attr::Str(resource.app_version));
    put_attribute(buf, 1, "os.type", Attr::Str(os_type(resource.os)));
    put_attribute(buf, 1, "host.arch", Attr::Str(host_arch(resource.arch)));
}

fn put_log_record(buf: &mut Vec<u8>, record: &Record) {
    let nanos = record.timestamp.unix_millis().saturating_mul(1_000_000);
    put_fixed64(buf, 1, nanos);
    put_uint(buf, 2, SEVERITY_INFO);
    put_string(buf, 3, "INFO");
    put_any_value(buf, 5, Attr::Str(&record.name));
    // Attributes: the event's properties under their own names (snake_case, never
    // dotted), then the context under dotted names, so the two can never clash.
    for (name, value) in record.properties.iter() {
        put_attribute(buf, 6, name, Attr::from_value(value));
    }
    put_attribute(buf, 6, "event.name", Attr::Str(&record.name));
    put_attribute(buf, 6, "event.version", Attr::Int(record.version.into()));
    put_attribute(buf, 6, "log.record.uid", Attr::Str(&record.id.to_string()));
    let context = &record.context;
    if let Some(user) = &context.user_id {
        put_attribute(buf, 6, "user.id", Attr::Str(user));
    }
    if let Some(anonymous) = &context.anonymous_id {
        put_attribute(buf, 6, "user.anonymous_id", Attr::Str(anonymous));
    }
    if let Some(session) = &context.session_id {
        put_attribute(buf, 6, "session.id", Attr::Str(session));
    }
    if let Some(locale) = &context.locale {
        put_attribute(buf, 6, "user.locale", Attr::Str(locale));
    }
    if let Some(rate) = record.sample_rate {
        put_attribute(buf, 6, "event.sample_rate", Attr::Double(rate));
    }
    if let Some(call) = &record.call {
        put_attribute(buf, 6, "code.function.name", Attr::Str(&call.function));
        put_attribute(buf, 6, "call.duration_ms", Attr::Double(call.duration_ms));
        put_attribute(buf, 6, "call.outcome", Attr::Str(call.outcome.as_str()));
        if let Some(kind) = &call.error_kind {
            put_attribute(buf, 6, "error.type", Attr::Str(kind));
        }
    }
    // The event happened when it was emitted, which is also when the pipeline saw it.
    put_fixed64(buf, 11, nanos);
    put_string(buf, 12, &record.name);
}

// --- response decoding ----------------------------------------------------------------

/// `ExportLogsServiceResponse.partial_success`: log records the collector rejected
/// although it answered with success.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PartialSuccess {
    /// `rejected_log_records`: how many were rejected (not to be resent).
    pub(crate) rejected: u64,
    /// `error_message`, possibly empty.
    pub(crate) message: String,
}

/// A response body that is not valid protobuf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeError(&'static str);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed protobuf: {}", self.0)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for i in 0..10 {
            let (&byte, rest) = self
                .bytes
                .split_first()
                .ok_or(DecodeError("truncated varint"))?;
            self.bytes = rest;
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                return Ok(value);
            }
        }
        Err(DecodeError("varint longer than 10 bytes"))
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], DecodeError> {
        let n = usize::try_from(n).map_err(|_| DecodeError("length too large"))?;
        if n > self.bytes.len() {
            return Err(DecodeError("length beyond the end of the message"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    /// The next field: number, and its value as a varint or the bytes of a
    /// length-delimited field (fixed-width values are skipped and returned as bytes).
    fn field(&mut self) -> Result<Option<(u32, Field<'a>)>, DecodeError> {
        if self.bytes.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number =
            u32::try_from(key >> 3).map_err(|_| DecodeError("field number out of range"))?;
        let value = match (key & 7) as u32 {
            VARINT => Field::Varint(self.varint()?),
            FIXED64 => Field::Bytes(self.take(8)?),
            LEN => {
                let len = self.varint()?;
                Field::Bytes(self.take(len)?)
            }
            5 => Field::Bytes(self.take(4)?),
            _ => return Err(DecodeError("unsupported wire type")),
        };
        Ok(Some((number, value)))
    }
}

enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

/// Reads an `ExportLogsServiceResponse`. An empty body (some collectors send none) is
/// full success. Unknown fields are skipped, as protobuf requires.
pub(crate) fn decode_response(body: &[u8]) -> Result<PartialSuccess, DecodeError> {
    let mut out = PartialSuccess::default();
    let mut response = Reader { bytes: body };
    while let Some((number, value)) = response.field()? {
        let (1, Field::Bytes(partial)) = (number, value) else {
            continue;
        };
        let mut partial = Reader { bytes: partial };
        while let Some((number, value)) = partial.field()? {
            match (number, value) {
                // int64: negative values would be a collector bug; read as 0.
                (1, Field::Varint(n)) => out.rejected = u64::try_from(n as i64).unwrap_or(0),
                (2, Field::Bytes(text)) => out.message = String::from_utf8_lossy(text).into(),
                _ => {}
            }
        }
    }
    Ok(out)
}

/// Reads the `message` of a `google.rpc.Status` error body (what OTLP/HTTP servers send
/// with a 4xx/5xx in protobuf), if there is one.
pub(crate) fn decode_status_message(body: &[u8]) -> Option<String> {
    let mut status = Reader { bytes: body };
    while let Ok(Some((number, value))) = status.field() {
        if let (2, Field::Bytes(text)) = (number, value) {
            return std::str::from_utf8(text).ok().map(str::to_owned);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Context, RECORD_FORMAT, RecordKind, Timestamp};
    use crate::value::Properties;

    fn record(name: &str, app: &str) -> Record {
        Record {
            format: RECORD_FORMAT,
            kind: RecordKind::Event,
            id: uuid::Uuid::now_v7(),
            timestamp: Timestamp::from_unix_millis(1_700_000_000_123),
            name: name.into(),
            version: 3,
            properties: Properties(vec![
                ("count".into(), Value::UInt(7)),
                ("delta".into(), Value::Int(-2)),
                ("ratio".into(), Value::Float(0.5)),
                ("ok".into(), Value::Bool(true)),
                ("method".into(), Value::String("card".into())),
            ]),
            context: Context {
                app_name: app.into(),
                app_version: "1.0".into(),
                os: "linux".into(),
                arch: "x86_64".into(),
                ..Context::default()
            },
            call: None,
            sample_rate: None,
        }
    }

    #[test]
    fn varints_are_minimal_little_endian_groups() {
        for (value, bytes) in [
            (0u64, vec![0u8]),
            (1, vec![1]),
            (127, vec![0x7f]),
            (128, vec![0x80, 0x01]),
            (300, vec![0xac, 0x02]),
            (u64::MAX, vec![0xff; 9].into_iter().chain([0x01]).collect()),
        ] {
            let mut buf = Vec::new();
            put_varint(&mut buf, value);
            assert_eq!(buf, bytes, "{value}");
            assert_eq!(Reader { bytes: &buf }.varint().unwrap(), value);
        }
    }

    #[test]
    fn nested_message_lengths_cover_long_bodies() {
        // A body of 200 bytes needs a two-byte length prefix inserted before it.
        let mut buf = Vec::new();
        put_message(&mut buf, 1, |buf| put_string(buf, 2, &"x".repeat(197)));
        assert_eq!(&buf[..3], &[0x0a, 0xc8, 0x01]);
        assert_eq!(buf.len(), 3 + 200);
        let mut reader = Reader { bytes: &buf };
        let Some((1, Field::Bytes(inner))) = reader.field().unwrap() else {
            panic!("expected field 1");
        };
        assert_eq!(inner.len(), 200);
    }

    #[test]
    fn records_are_grouped_by_application() {
        let records = [
            record("x.one", "a"),
            record("x.two", "b"),
            record("x.three", "a"),
        ];
        let encoded: Vec<_> = records.iter().map(|r| (r, encode_log_record(r))).collect();
        let mut buf = Vec::new();
        encode_request(encoded.iter().map(|(r, b)| (*r, &b[..])), &mut buf);
        let mut request = Reader { bytes: &buf };
        let mut per_resource = Vec::new();
        while let Some((number, Field::Bytes(resource_logs))) = request.field().unwrap() {
            assert_eq!(number, 1);
            let mut reader = Reader {
                bytes: resource_logs,
            };
            let mut logs = 0;
            while let Some((number, value)) = reader.field().unwrap() {
                if let (2, Field::Bytes(scope_logs)) = (number, value) {
                    let mut scope = Reader { bytes: scope_logs };
                    while let Some((number, _)) = scope.field().unwrap() {
                        logs += usize::from(number == 2);
                    }
                }
            }
            per_resource.push(logs);
        }
        assert_eq!(per_resource, [2, 1]);
    }

    #[test]
    fn empty_and_partial_success_responses_decode() {
        assert_eq!(decode_response(&[]).unwrap(), PartialSuccess::default());
        let mut body = Vec::new();
        put_message(&mut body, 1, |buf| {
            put_uint(buf, 1, 3);
            put_string(buf, 2, "3 records too large");
        });
        // An unknown field after it is skipped.
        put_string(&mut body, 9, "future");
        assert_eq!(
            decode_response(&body).unwrap(),
            PartialSuccess {
                rejected: 3,
                message: "3 records too large".into()
            }
        );
    }

    #[test]
    fn malformed_responses_are_errors_not_panics() {
        assert!(decode_response(&[0x0a, 0x05, 0x08]).is_err());
        assert!(decode_response(&[0x0a]).is_err());
        assert!(decode_response(&[0xff; 11]).is_err());
        assert!(decode_response(&[0x0f]).is_err());
    }

    #[test]
    fn header_lists_follow_the_otel_format() {
        assert_eq!(
            parse_headers("V", "api-key=a%3Db%20c , x-team=core,,").unwrap(),
            [
                ("api-key".to_owned(), "a=b c".to_owned()),
                ("x-team".to_owned(), "core".to_owned())
            ]
        );
        let error = parse_headers("V", "a=1,secret-without-equals").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert!(error.to_string().starts_with("V: entry 2 has no `=`"));
        assert!(!error.to_string().contains("secret"));
        assert!(parse_headers("V", "a=%zz").is_err());
    }

    #[test]
    fn invalid_headers_are_refused_and_names_normalized() {
        let otlp = Otlp::new("http://127.0.0.1:1")
            .header("X-Team", "a")
            .header("x-team", "b")
            .header("bad name", "c")
            .header("x-split", "line\r\nbreak");
        let headers = &otlp.vendor().headers;
        assert_eq!(headers.len(), 1);
        assert_eq!(headers[0].0, "x-team");
        assert_eq!(headers[0].1.expose(), "b");
    }

    #[test]
    fn platform_names_follow_the_semantic_conventions() {
        assert_eq!(os_type("macos"), "darwin");
        assert_eq!(os_type("linux"), "linux");
        assert_eq!(host_arch("x86_64"), "amd64");
        assert_eq!(host_arch("aarch64"), "arm64");
        assert_eq!(host_arch("riscv64"), "riscv64");
    }

    #[test]
    fn status_message_is_read_from_error_bodies() {
        let mut body = Vec::new();
        put_uint(&mut body, 1, 3);
        put_string(&mut body, 2, "invalid request");
        assert_eq!(
            decode_status_message(&body).as_deref(),
            Some("invalid request")
        );
        assert_eq!(decode_status_message(b"<html>"), None);
    }
}
