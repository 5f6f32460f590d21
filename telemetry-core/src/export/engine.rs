//! The HTTP delivery engine shared by every vendor exporter.
//!
//! [`HttpExporter`] is the [`Sink`]: it encodes records, packs them into requests
//! within the vendor's limits, sends them, retries what can succeed later and accounts
//! for every record in the [`Delivery`] it returns. A [`Vendor`] plugs in what differs
//! between analytics services: the endpoint, headers and authentication, the encoding
//! of one record, the request body, the limits and how to read an answer.
//!
//! Delivery rules, the same for every vendor:
//!
//! - A record whose encoded event exceeds [`Limits::max_event_bytes`] (or that the
//!   vendor cannot encode) is never sent: it is *rejected* and counted.
//! - A request holds at most [`Limits::max_events`] events and
//!   [`Limits::max_request_bytes`] bytes of body.
//! - Connection errors, timeouts and the answers the vendor calls retryable
//!   ([`Verdict::Retry`]; by default 408, 429 and 5xx) are retried up to
//!   [`max_retries`](HttpExporter::max_retries) times, waiting with exponential
//!   backoff and full jitter, or as long as the answer's `Retry-After` says (seconds or
//!   an HTTP date, clamped to [`max_retry_after`](HttpExporter::max_retry_after)).
//!   No request starts after [`max_elapsed`](HttpExporter::max_elapsed) without an
//!   answer that was not retried: the records left then are *failed*.
//! - [`Verdict::Split`] (413 Payload Too Large, where the vendor allows it) sends each
//!   half of the request on its own; a single event that is still too large is
//!   rejected.
//! - [`Verdict::Invalid`]: the events the vendor named invalid are rejected (the first
//!   reason is reported); the others are sent again only if the vendor ingested none
//!   of the request.
//! - Any other answer fails the request's records without a retry.
//! - The record's id (UUID v7) is the vendor's de-duplication id: a retried request
//!   holds the same ids, so the vendor ingests each event once.

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::record::{Record, RecordKind};
use crate::runtime::{Delivery, Sink};

/// Default for [`HttpExporter::max_retries`].
pub const DEFAULT_MAX_RETRIES: u32 = 5;
/// Default for [`HttpExporter::backoff`]: the first wait's upper bound.
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(500);
/// Default for [`HttpExporter::backoff`]: the upper bound of any wait.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Default for [`HttpExporter::max_retry_after`].
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Default for [`HttpExporter::max_elapsed`].
pub const DEFAULT_MAX_ELAPSED: Duration = Duration::from_secs(60);
/// Default for [`HttpExporter::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default for [`HttpExporter::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Most bytes of an answer's body read (the rest is ignored).
const MAX_ANSWER_BYTES: u64 = 1 << 20;

/// A vendor's documented limits, which the engine keeps every request within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Most events in one request.
    pub max_events: usize,
    /// Most bytes in one request body (uncompressed).
    pub max_request_bytes: usize,
    /// Most bytes of one encoded event; larger events are rejected, never sent.
    pub max_event_bytes: usize,
    /// Bytes the body adds around each event (a comma for a JSON array, a tag and a
    /// length for protobuf), for packing; the engine checks the real body anyway.
    pub event_overhead: usize,
    /// Bytes of the body around the events (the JSON object holding the array, ...),
    /// for packing.
    pub envelope_bytes: usize,
}

impl Limits {
    /// Limits with the given counts and sizes, one byte of overhead per event and a
    /// 1 KB envelope; adjust the public fields as needed.
    pub const fn new(
        max_events: usize,
        max_request_bytes: usize,
        max_event_bytes: usize,
    ) -> Limits {
        Limits {
            max_events,
            max_request_bytes,
            max_event_bytes,
            event_overhead: 1,
            envelope_bytes: 1024,
        }
    }
}

/// One record and its encoding, as handed to [`Vendor::request`] and
/// [`Vendor::verdict`].
#[derive(Debug, Clone, Copy)]
pub struct Encoded<'a> {
    /// The record.
    pub record: &'a Record,
    /// What [`Vendor::encode`] made of it.
    pub bytes: &'a [u8],
}

/// An HTTP request as a vendor builds it. Always sent with `POST`.
///
/// The engine never prints the URL's query, the header values or the body: they may
/// hold credentials.
#[derive(Clone)]
#[non_exhaustive]
pub struct Request {
    /// The full URL, with its query.
    pub url: String,
    /// The `Content-Type` header.
    pub content_type: &'static str,
    /// More headers (authentication, ...).
    pub headers: Vec<(Cow<'static, str>, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Request {
    /// A request to `url` with a body of the given content type and no other header.
    pub fn new(url: impl Into<String>, content_type: &'static str, body: Vec<u8>) -> Request {
        Request {
            url: url.into(),
            content_type,
            headers: Vec::new(),
            body,
        }
    }

    /// Adds a header.
    pub fn header(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("url", &without_query(&self.url))
            .field("content_type", &self.content_type)
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// The vendor's answer to a request.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status code.
    pub status: u16,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body (at most 1 MB of it).
    pub body: Vec<u8>,
}

impl Answer {
    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text, lossily, at most 300 characters, for error messages.
    pub fn body_excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        match text.char_indices().nth(300) {
            Some((cut, _)) => format!("{}...", &text[..cut]),
            None => text.to_owned(),
        }
    }
}

/// What an answer means for the events of its request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Every event was ingested.
    Accepted,
    /// The request was ingested except `rejected` events the answer does not name
    /// (e.g. an OTLP partial success): those count as rejected, the rest as exported.
    /// Nothing is sent again.
    PartlyAccepted {
        /// Events not ingested.
        rejected: usize,
        /// Why, from the answer.
        reason: String,
    },
    /// The vendor named invalid events: `(index in the request, reason)`. They are
    /// rejected. If `rest_ingested`, the other events were ingested already and are
    /// exported; otherwise the vendor ingested nothing and the others are sent again.
    Invalid {
        /// Index in the request's events, and the reason.
        events: Vec<(usize, String)>,
        /// Whether the valid events of the request were ingested.
        rest_ingested: bool,
    },
    /// A transient failure: send the same request again after a backoff (or the
    /// answer's `Retry-After`).
    Retry {
        /// Why, for the report if retries run out.
        reason: String,
    },
    /// The request is too large: send each half on its own. A single event is
    /// rejected as too large.
    Split {
        /// Why.
        reason: String,
    },
    /// A permanent failure: the request's events fail, nothing is sent again.
    Fail {
        /// Why, and what to do (check the API key, ...).
        reason: String,
    },
}

impl Verdict {
    /// The usual meaning of a status code: 2xx accepted; 408, 429 and 5xx retried;
    /// 413 split; anything else a failure that names the status and `body`'s start.
    pub fn from_status(answer: &Answer) -> Verdict {
        let status = answer.status;
        match status {
            200..=299 => Verdict::Accepted,
            408 | 429 | 500..=599 => Verdict::Retry {
                reason: status_reason(answer),
            },
            413 => Verdict::Split {
                reason: status_reason(answer),
            },
            _ => Verdict::Fail {
                reason: status_reason(answer),
            },
        }
    }
}

/// `HTTP 401: <body excerpt>` plus a hint for authentication errors.
pub fn status_reason(answer: &Answer) -> String {
    let hint = match answer.status {
        401 | 403 => " (check the API key and the endpoint's region)",
        _ => "",
    };
    let body = answer.body_excerpt();
    if body.is_empty() {
        format!("HTTP {}{hint}", answer.status)
    } else {
        format!("HTTP {}: {body}{hint}", answer.status)
    }
}

/// What one analytics service needs from the engine: where and how to send, how to
/// encode, its limits and how to read its answers.
///
/// Implementations hold their credentials and must not print them: derive `Debug`
/// with [`Secret`] fields.
///
/// A collector that takes a JSON array of `{"name", "id"}` objects, with a bearer
/// token:
///
/// ```no_run
/// use telemetry_core::Record;
/// use telemetry_core::export::{Encoded, HttpExporter, Limits, Request, Secret, Vendor};
///
/// #[derive(Debug)]
/// struct Collector {
///     token: Secret,
/// }
///
/// impl Vendor for Collector {
///     fn name(&self) -> &'static str {
///         "collector"
///     }
///     fn default_endpoint(&self) -> String {
///         "https://collector.example.com".into()
///     }
///     fn limits(&self) -> Limits {
///         Limits::new(500, 1_000_000, 64 * 1024)
///     }
///     fn encode(&self, record: &Record) -> Result<Vec<u8>, String> {
///         let event = serde_json::json!({"name": record.name, "id": record.id});
///         serde_json::to_vec(&event).map_err(|e| e.to_string())
///     }
///     fn request(&self, endpoint: &str, events: &[Encoded<'_>]) -> Request {
///         let parts: Vec<&[u8]> = events.iter().map(|e| e.bytes).collect();
///         let body = [b"[".as_slice(), &parts.join(&b","[..]), b"]"].concat();
///         Request::new(format!("{endpoint}/events"), "application/json", body)
///             .header("authorization", format!("Bearer {}", self.token.expose()))
///     }
/// }
///
/// let sink = HttpExporter::with_vendor(Collector { token: Secret::new("t0k3n") });
/// let _guard = telemetry_core::init(telemetry_core::Config::new("shop", "1.0").sink(sink));
/// ```
pub trait Vendor: fmt::Debug + Send + 'static {
    /// A short lower-case name for sink names and messages, e.g. `amplitude`.
    fn name(&self) -> &'static str;

    /// The endpoint used unless [`HttpExporter::endpoint`] overrides it: a base URL
    /// without path, e.g. `https://api2.amplitude.com`.
    fn default_endpoint(&self) -> String;

    /// The vendor's documented limits.
    fn limits(&self) -> Limits;

    /// Encodes one event record as the vendor's event (the bytes the body holds for
    /// it). `Err` with a reason: the record cannot be sent to this vendor, it is
    /// rejected.
    fn encode(&self, record: &Record) -> Result<Vec<u8>, String>;

    /// Whether `record` may go in the same request as `first` (the request's first
    /// record). `true` by default; a vendor whose request carries one user (GA4)
    /// compares their ids.
    fn same_request(&self, first: &Record, record: &Record) -> bool {
        let _ = (first, record);
        true
    }

    /// The request for `events`, sent to `endpoint` (the base URL, without a trailing
    /// slash).
    fn request(&self, endpoint: &str, events: &[Encoded<'_>]) -> Request;

    /// How long to wait before retrying after `answer` (when its verdict is
    /// [`Verdict::Retry`]); `None`: the exporter's backoff. By default the answer's
    /// `Retry-After` header ([`parse_retry_after`]). Always clamped to
    /// [`HttpExporter::max_retry_after`].
    fn retry_after(&self, answer: &Answer) -> Option<Duration> {
        answer.header("retry-after").and_then(parse_retry_after)
    }

    /// What an answer to the request of `events` means. [`Verdict::from_status`] by
    /// default.
    fn verdict(&self, answer: &Answer, events: &[Encoded<'_>]) -> Verdict {
        let _ = events;
        Verdict::from_status(answer)
    }
}

/// A credential: an API key, a write key, a secret. `Debug` and `Display` print
/// `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The credential read from the environment variable `name`. The error names the
    /// variable (never its value) and says what to do.
    pub fn from_env(name: &str, vendor: &str) -> io::Result<Secret> {
        match std::env::var(name) {
            Ok(value) if !value.trim().is_empty() => Ok(Secret(value.trim().to_owned())),
            Ok(_) => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "the environment variable {name} is empty: set it to the {vendor} credential, or pass the credential in code"
                ),
            )),
            Err(std::env::VarError::NotPresent) => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "the environment variable {name} is not set: set it to the {vendor} credential, or pass the credential in code"
                ),
            )),
            Err(std::env::VarError::NotUnicode(_)) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the environment variable {name} is not valid UTF-8: set it to the {vendor} credential"
                ),
            )),
        }
    }

    /// The credential itself, to put in a request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A [`Sink`] that delivers records to an analytics vendor over HTTP.
///
/// The vendor modules give it a name and a constructor (`Amplitude::new(api_key)`,
/// ...); the methods here set the endpoint, the retry policy and the timeouts. Usable
/// in the pipeline ([`Config::sink`](crate::Config::sink)) or on its own:
/// [`Sink::send`] delivers a slice of records (e.g. read back from a JSONL file) and
/// says what became of them.
///
/// Requests are sent from the calling thread (the pipeline's writer) with a blocking
/// client, [ureq](https://docs.rs/ureq): the writer is a plain thread, so no async
/// runtime is needed, and TLS is rustls (no system OpenSSL). Backoff waits block that
/// thread too; [`max_elapsed`](HttpExporter::max_elapsed) bounds them, so keep it
/// below `Config::shutdown_timeout` when shutdown must deliver everything.
///
/// Records that are not events (the pipeline's `stats` and `identify` records) are not
/// sent; they count as exported.
///
/// Delivery rules, the same for every vendor:
///
/// - A record whose encoded event exceeds [`Limits::max_event_bytes`] (or that the
///   vendor cannot encode) is never sent: it is *rejected* and counted.
/// - A request holds at most [`Limits::max_events`] events and
///   [`Limits::max_request_bytes`] bytes of body.
/// - Connection errors, timeouts and the answers the vendor calls retryable
///   ([`Verdict::Retry`]; by default 408, 429 and 5xx) are retried up to
///   [`max_retries`](HttpExporter::max_retries) times, waiting with exponential
///   backoff and full jitter, or as long as the answer's `Retry-After` says (seconds or
///   an HTTP date, clamped to [`max_retry_after`](HttpExporter::max_retry_after)).
///   No request starts after [`max_elapsed`](HttpExporter::max_elapsed) without an
///   answer that was not retried: the records left then are *failed*.
/// - [`Verdict::Split`] (413 Payload Too Large, where the vendor allows it) sends each
///   half of the request on its own; a single event that is still too large is
///   rejected.
/// - [`Verdict::Invalid`]: the events the vendor named invalid are rejected (the first
///   reason is reported); the others are sent again only if the vendor ingested none
///   of the request.
/// - Any other answer fails the request's records without a retry.
/// - The record's id (UUID v7) is the vendor's de-duplication id: a retried request
///   holds the same ids, so the vendor ingests each event once.
pub struct HttpExporter<V: Vendor> {
    vendor: V,
    endpoint: String,
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    max_elapsed: Duration,
    connect_timeout: Duration,
    timeout: Duration,
    agent: Option<ureq::Agent>,
    rng: u64,
    /// No request starts, and no backoff is waited, past this instant.
    budget_end: Instant,
    /// Whether the current `send` has sent a request (its first always goes).
    sent_any: bool,
}

impl<V: Vendor> fmt::Debug for HttpExporter<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpExporter")
            .field("vendor", &self.vendor)
            .field("endpoint", &without_query(&self.endpoint))
            .field("max_retries", &self.max_retries)
            .field("initial_backoff", &self.initial_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("max_retry_after", &self.max_retry_after)
            .field("max_elapsed", &self.max_elapsed)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<V: Vendor> HttpExporter<V> {
    /// An exporter for `vendor` with the default endpoint, retry policy and timeouts.
    pub fn with_vendor(vendor: V) -> HttpExporter<V> {
        let endpoint = vendor.default_endpoint();
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as u64;
        HttpExporter {
            vendor,
            endpoint,
            max_retries: DEFAULT_MAX_RETRIES,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            max_elapsed: DEFAULT_MAX_ELAPSED,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            agent: None,
            rng: seed | 1,
            budget_end: Instant::now(),
            sent_any: false,
        }
    }

    /// Sends to `url` instead of the vendor's default endpoint: another region, a
    /// self-hosted instance, a proxy or collector, a test server. A base URL such as
    /// `https://api.eu.amplitude.com` or `http://127.0.0.1:8080`; the vendor adds the
    /// path.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// How many times a request is sent again after a retryable failure (default
    /// [`DEFAULT_MAX_RETRIES`]): at most `1 + n` requests per batch part. 0 never
    /// retries.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// The backoff between retries (defaults [`DEFAULT_INITIAL_BACKOFF`] and
    /// [`DEFAULT_MAX_BACKOFF`]): before retry `k` (from 0) the exporter waits a random
    /// time up to `min(max, initial * 2^k)` ("full jitter").
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// The longest wait a `Retry-After` answer can impose (default
    /// [`DEFAULT_MAX_RETRY_AFTER`]); longer values are clamped to it.
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// The time budget without progress (default [`DEFAULT_MAX_ELAPSED`]): no request
    /// starts, and no backoff is waited, later than this after the start of a
    /// [`send`](Sink::send) or the vendor's last answer that was not retried; what is
    /// undelivered then fails. This bounds how long an unreachable or throttling vendor
    /// holds the writer thread, while a long `send` (a large file) to a vendor that
    /// answers goes on. The first request of a `send` is always sent.
    pub fn max_elapsed(mut self, max: Duration) -> Self {
        self.max_elapsed = max;
        self
    }

    /// The longest wait for a connection (default [`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self.agent = None;
        self
    }

    /// The longest a request may take, from connecting to the end of the answer
    /// (default [`DEFAULT_TIMEOUT`]): a server that accepts and never answers is cut
    /// off, and the request retried.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self.agent = None;
        self
    }

    /// The vendor.
    pub fn vendor(&self) -> &V {
        &self.vendor
    }

    /// The vendor, to change its settings.
    pub fn vendor_mut(&mut self) -> &mut V {
        &mut self.vendor
    }

    /// The endpoint requests go to (base URL).
    pub fn endpoint_url(&self) -> &str {
        &self.endpoint
    }

    fn agent(&mut self) -> ureq::Agent {
        let (connect, timeout) = (self.connect_timeout, self.timeout);
        self.agent
            .get_or_insert_with(|| {
                ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    // A redirect would resend the body elsewhere, or drop it: answer
                    // with the 3xx (a failure naming the status) instead.
                    .max_redirects(0)
                    .timeout_connect(Some(connect))
                    .timeout_global(Some(timeout))
                    .user_agent(concat!("telemetry-core/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .new_agent()
            })
            .clone()
    }

    /// Sends a request: the answer, or why none came (without the URL's query or
    /// any header value) and whether trying again can help.
    fn post(&mut self, request: &Request) -> Result<Answer, (String, bool)> {
        let agent = self.agent();
        let mut builder = agent
            .post(&request.url)
            .header("content-type", request.content_type);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_ref(), value);
        }
        match builder.send(&request.body[..]) {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let headers = response
                    .headers()
                    .iter()
                    .map(|(n, v)| {
                        (
                            n.as_str().to_ascii_lowercase(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect();
                let body = response
                    .body_mut()
                    .with_config()
                    .limit(MAX_ANSWER_BYTES)
                    .read_to_vec()
                    .unwrap_or_default();
                Ok(Answer {
                    status,
                    headers,
                    body,
                })
            }
            Err(e) => Err(self.transport_error(&e, request)),
        }
    }

    fn transport_error(&self, e: &ureq::Error, request: &Request) -> (String, bool) {
        let target = self.display_endpoint();
        let retryable = !matches!(
            e,
            ureq::Error::BadUri(_)
                | ureq::Error::InvalidProxyUrl
                | ureq::Error::RequireHttpsOnly(_)
                | ureq::Error::Http(_)
        );
        let text = match e {
            ureq::Error::Timeout(_) => format!(
                "no answer from {target} within the timeout ({:?} to connect, {:?} in all)",
                self.connect_timeout, self.timeout
            ),
            ureq::Error::HostNotFound => format!("host of {target} not found (check the endpoint)"),
            ureq::Error::ConnectionFailed => format!("cannot connect to {target}"),
            ureq::Error::BadUri(_) | ureq::Error::Http(_) => {
                format!("the endpoint {target} is not a valid URL (use e.g. https://host:port)")
            }
            other => format!("request to {target} failed: {other}"),
        };
        (scrub(text, request), retryable)
    }

    fn display_endpoint(&self) -> String {
        without_query(&self.endpoint).to_owned()
    }

    /// A random wait in `0..=min(max_backoff, initial * 2^attempt)`.
    fn backoff_wait(&mut self, attempt: u32) -> Duration {
        let cap = self
            .initial_backoff
            .saturating_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
            .min(self.max_backoff);
        // xorshift64: jitter does not need a strong generator.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let nanos = cap.as_nanos() as u64;
        Duration::from_nanos(if nanos == 0 {
            0
        } else {
            self.rng % (nanos + 1)
        })
    }

    /// Delivers one request's worth of events (after packing), with retries, splits
    /// and resends; adds the outcome to `out`.
    fn deliver_part(&mut self, mut events: Vec<(&Record, Vec<u8>)>, out: &mut Delivery) {
        let limits = self.vendor.limits();
        let name = self.vendor.name();
        let mut attempt = 0u32;
        while !events.is_empty() {
            let encoded: Vec<Encoded<'_>> = events
                .iter()
                .map(|(record, bytes)| Encoded { record, bytes })
                .collect();
            let request = self.vendor.request(&self.endpoint, &encoded);
            if request.body.len() > limits.max_request_bytes {
                let reason = format!(
                    "a request body of {} bytes exceeds the {name} limit of {} bytes",
                    request.body.len(),
                    limits.max_request_bytes
                );
                drop(encoded);
                self.split(events, reason, out);
                return;
            }
            if self.sent_any && Instant::now() >= self.budget_end {
                out.merge(Delivery::failed(
                    events.len(),
                    io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "{name}: not sent, {:?} passed without an answer that was not retried (the time budget, max_elapsed)",
                            self.max_elapsed
                        ),
                    ),
                ));
                return;
            }
            self.sent_any = true;
            if attempt > 0 {
                out.retried += 1;
            }
            let (verdict, retry_after, status) = match self.post(&request) {
                Ok(answer) => (
                    self.vendor.verdict(&answer, &encoded),
                    self.vendor.retry_after(&answer),
                    Some(answer.status),
                ),
                Err((reason, true)) => (Verdict::Retry { reason }, None, None),
                Err((reason, false)) => (Verdict::Fail { reason }, None, None),
            };
            if !matches!(verdict, Verdict::Retry { .. }) {
                // The vendor answers: a new budget for what follows.
                self.budget_end = Instant::now() + self.max_elapsed;
            }
            let n = events.len();
            match verdict {
                Verdict::Accepted => {
                    out.merge(Delivery::exported(n));
                    return;
                }
                Verdict::PartlyAccepted { rejected, reason } => {
                    let rejected = rejected.min(n);
                    out.merge(Delivery::exported(n - rejected));
                    if rejected > 0 {
                        out.merge(Delivery::rejected(
                            rejected,
                            format!("{name} rejected {rejected} events: {reason}"),
                        ));
                    }
                    return;
                }
                Verdict::Invalid {
                    events: invalid,
                    rest_ingested,
                } => {
                    let mut bad = vec![false; n];
                    let mut first_reason = None;
                    for (index, reason) in invalid {
                        if let Some(flag) = bad.get_mut(index) {
                            *flag = true;
                            first_reason.get_or_insert((index, reason));
                        }
                    }
                    let count = bad.iter().filter(|b| **b).count();
                    let Some((index, reason)) = first_reason else {
                        // Nothing we can act on: the answer names no event of ours.
                        out.merge(Delivery::failed(
                            n,
                            io::Error::other(format!(
                                "{name} refused the request without naming a valid event index"
                            )),
                        ));
                        return;
                    };
                    let first = encoded[index].record;
                    out.merge(Delivery::rejected(
                        count,
                        format!(
                            "{name} rejected {count} invalid events, first `{}` ({}): {reason}",
                            first.name, first.id
                        ),
                    ));
                    drop(encoded);
                    if rest_ingested {
                        out.merge(Delivery::exported(n - count));
                        return;
                    }
                    let mut flags = bad.into_iter();
                    events.retain(|_| !flags.next().unwrap_or(false));
                    attempt = 0;
                }
                Verdict::Split { reason } => {
                    drop(encoded);
                    self.split(events, format!("{name}: {reason}"), out);
                    return;
                }
                Verdict::Fail { reason } => {
                    let message = format!("{name}: {reason}; not retried");
                    // Credentials, permissions and the endpoint are configuration: the
                    // same request may succeed once they are fixed. Anything else is
                    // refused for what the request holds.
                    out.merge(match status {
                        Some(401 | 403 | 407) => Delivery::failed(
                            n,
                            io::Error::new(io::ErrorKind::PermissionDenied, message),
                        ),
                        Some(404) | None => Delivery::failed(n, io::Error::other(message)),
                        Some(_) => Delivery::failed_permanently(
                            n,
                            io::Error::new(io::ErrorKind::InvalidInput, message),
                        ),
                    });
                    return;
                }
                Verdict::Retry { reason } => {
                    if attempt >= self.max_retries {
                        out.merge(Delivery::failed(
                            n,
                            io::Error::other(format!(
                                "{name}: giving up after {} requests: {reason}",
                                attempt + 1
                            )),
                        ));
                        return;
                    }
                    let wait = match retry_after {
                        Some(wait) => wait.min(self.max_retry_after),
                        None => self.backoff_wait(attempt),
                    };
                    if Instant::now() + wait > self.budget_end {
                        // Spent: later parts of this send are not sent either.
                        self.budget_end = Instant::now();
                        out.merge(Delivery::failed(
                            n,
                            io::Error::new(
                                io::ErrorKind::TimedOut,
                                format!(
                                    "{name}: giving up after {} requests, the time budget of {:?} is spent: {reason}",
                                    attempt + 1,
                                    self.max_elapsed
                                ),
                            ),
                        ));
                        return;
                    }
                    std::thread::sleep(wait);
                    attempt += 1;
                }
            }
        }
    }

    /// Sends each half of `events` on its own; a single event is rejected as too
    /// large.
    fn split(&mut self, mut events: Vec<(&Record, Vec<u8>)>, reason: String, out: &mut Delivery) {
        if events.len() <= 1 {
            let what = events
                .first()
                .map(|(r, _)| format!("event `{}` ({})", r.name, r.id))
                .unwrap_or_default();
            out.merge(Delivery::rejected(
                events.len(),
                format!("{what} is too large to send: {reason}"),
            ));
            return;
        }
        let second = events.split_off(events.len() / 2);
        self.deliver_part(events, out);
        self.deliver_part(second, out);
    }
}

impl<V: Vendor> Sink for HttpExporter<V> {
    fn name(&self) -> String {
        format!("{}:{}", self.vendor.name(), self.display_endpoint())
    }

    fn write(&mut self, records: &[Record]) -> io::Result<()> {
        self.send(records).into_result()
    }

    fn send(&mut self, records: &[Record]) -> Delivery {
        self.budget_end = Instant::now() + self.max_elapsed;
        self.sent_any = false;
        let limits = self.vendor.limits();
        let name = self.vendor.name();
        let mut out = Delivery::default();
        let mut part: Vec<(&Record, Vec<u8>)> = Vec::new();
        let mut part_bytes = limits.envelope_bytes;
        for record in records {
            if record.kind != RecordKind::Event {
                out.merge(Delivery::exported(1));
                continue;
            }
            let bytes = match self.vendor.encode(record) {
                Ok(bytes) => bytes,
                Err(reason) => {
                    out.merge(Delivery::rejected(
                        1,
                        format!(
                            "event `{}` ({}) cannot be sent to {name}: {reason}",
                            record.name, record.id
                        ),
                    ));
                    continue;
                }
            };
            if bytes.len() > limits.max_event_bytes {
                out.merge(Delivery::rejected(
                    1,
                    format!(
                        "event `{}` ({}) is {} bytes encoded for {name}, more than its limit of {} bytes; not sent",
                        record.name,
                        record.id,
                        bytes.len(),
                        limits.max_event_bytes
                    ),
                ));
                continue;
            }
            let size = bytes.len() + limits.event_overhead;
            let full = part.len() >= limits.max_events
                || part_bytes + size > limits.max_request_bytes
                || part
                    .first()
                    .is_some_and(|(first, _)| !self.vendor.same_request(first, record));
            if full && !part.is_empty() {
                let events = std::mem::take(&mut part);
                self.deliver_part(events, &mut out);
                part_bytes = limits.envelope_bytes;
            }
            part_bytes += size;
            part.push((record, bytes));
        }
        if !part.is_empty() {
            self.deliver_part(part, &mut out);
        }
        out.settle(records.len());
        out
    }
}

/// `url` without its query (which may hold a secret).
fn without_query(url: &str) -> &str {
    url.split_once('?').map_or(url, |(base, _)| base)
}

/// Removes the request's URL query and header values from an error message.
fn scrub(mut text: String, request: &Request) -> String {
    if let Some((_, query)) = request.url.split_once('?')
        && !query.is_empty()
    {
        text = text.replace(query, "[redacted]");
    }
    for (_, value) in &request.headers {
        if value.len() >= 4 {
            text = text.replace(value.as_str(), "[redacted]");
        }
    }
    text
}

/// A `Retry-After` value: delay-seconds, or an HTTP date (IMF-fixdate) from which the
/// wait is computed against the local clock.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the HTTP date format.
fn parse_http_date(value: &str) -> Option<SystemTime> {
    let rest = value.split_once(", ")?.1;
    let mut parts = rest.split(' ');
    let day: u64 = parts.next()?.parse().ok()?;
    let month = parts.next()?;
    let year: i64 = parts.next()?.parse().ok()?;
    let time = parts.next()?;
    if parts.next()? != "GMT" {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let mut hms = time.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = u64::try_from(days).ok()? * 86_400 + h * 3600 + m * 60 + s;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// The record's properties as a JSON object, with the call of an instrumented
/// function (`function`, `duration_ms`, `outcome`, `error_kind`) and the sampling
/// rate (`sample_rate`) added where the event has no property of that name.
#[cfg_attr(
    not(any(
        feature = "amplitude",
        feature = "mixpanel",
        feature = "segment",
        feature = "posthog",
        feature = "ga4"
    )),
    allow(dead_code)
)]
pub(crate) fn properties_json(record: &Record) -> serde_json::Map<String, serde_json::Value> {
    let mut map = serde_json::Map::new();
    for (key, value) in record.properties.iter() {
        map.insert(
            key.to_owned(),
            serde_json::to_value(value).unwrap_or(serde_json::Value::Null),
        );
    }
    let mut add = |key: &str, value: serde_json::Value| {
        map.entry(key.to_owned()).or_insert(value);
    };
    if let Some(call) = &record.call {
        add("function", call.function.clone().into());
        add("duration_ms", call.duration_ms.into());
        add("outcome", call.outcome.as_str().into());
        if let Some(kind) = &call.error_kind {
            add("error_kind", kind.clone().into());
        }
    }
    if let Some(rate) = record.sample_rate {
        add("sample_rate", rate.into());
    }
    map
}

/// An `Authorization: Basic` header value for `user` and `password` (RFC 7617).
#[cfg_attr(not(any(feature = "mixpanel", feature = "segment")), allow(dead_code))]
pub(crate) fn basic_auth(user: &str, password: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{password}");
    let mut out = String::from("Basic ");
    for chunk in input.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
#[cfg_attr(not(any(feature = "mixpanel", feature = "ga4")), allow(dead_code))]
pub(crate) fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The record's timestamp as RFC 3339 UTC with milliseconds.
#[cfg_attr(not(any(feature = "segment", feature = "posthog")), allow(dead_code))]
pub(crate) fn iso_timestamp(record: &Record) -> String {
    record.timestamp.to_string()
}

/// The session's start in Unix milliseconds when the session id is a UUID v7 (as the
/// pipeline generates them), for vendors whose session id is a number.
#[cfg_attr(not(any(feature = "amplitude", feature = "ga4")), allow(dead_code))]
pub(crate) fn session_start_millis(session_id: &str) -> Option<u64> {
    let uuid = uuid::Uuid::parse_str(session_id).ok()?;
    let (secs, nanos) = uuid.get_timestamp()?.to_unix();
    Some(secs * 1000 + u64::from(nanos) / 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
        // A date in the past means: now.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(UNIX_EPOCH + Duration::from_secs(784_111_777))
        );
        let later = humantime::format_rfc3339_seconds(SystemTime::now() + Duration::from_secs(90));
        // Build the IMF-fixdate of `later` by hand from its RFC 3339 form.
        let text = later.to_string();
        let (date, time) = text.trim_end_matches('Z').split_once('T').unwrap();
        let mut ymd = date.split('-');
        let (y, m, d) = (
            ymd.next().unwrap(),
            ymd.next().unwrap(),
            ymd.next().unwrap(),
        );
        let month = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ][m.parse::<usize>().unwrap() - 1];
        let wait = parse_retry_after(&format!("Mon, {d} {month} {y} {time} GMT")).unwrap();
        assert!(
            wait > Duration::from_secs(80) && wait <= Duration::from_secs(90),
            "{wait:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT"), None);
    }

    #[test]
    fn secrets_are_redacted() {
        let secret = Secret::new("abcd-1234");
        assert_eq!(format!("{secret:?} {secret}"), "[redacted] [redacted]");
        let request = Request::new(
            "https://h/p?api_secret=abcd-1234",
            "application/json",
            vec![],
        )
        .header("authorization", "Basic c2VjcmV0");
        let text = scrub(
            "bad uri: https://h/p?api_secret=abcd-1234 with Basic c2VjcmV0".into(),
            &request,
        );
        assert!(
            !text.contains("abcd-1234") && !text.contains("c2VjcmV0"),
            "{text}"
        );
        assert!(!format!("{request:?}").contains("abcd"));
    }

    #[test]
    fn basic_auth_is_base64_of_user_colon_password() {
        // RFC 7617, section 2.
        assert_eq!(
            basic_auth("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(basic_auth("key", ""), "Basic a2V5Og==");
        assert_eq!(basic_auth("ab", "c"), "Basic YWI6Yw==");
    }

    #[test]
    fn session_start_comes_from_a_v7_session_id() {
        let id = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            1_700_000_000,
            123_000_000,
        ));
        assert_eq!(
            session_start_millis(&id.to_string()),
            Some(1_700_000_000_123)
        );
        assert_eq!(session_start_millis("not-a-uuid"), None);
    }
}
