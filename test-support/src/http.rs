//! A scripted HTTP/1.1 server on a free loopback port, for exporter contract tests.
//!
//! The server records every request (method, path, query, headers, body) and answers
//! each with the next [`Reply`] of its script, or with the default reply once the
//! script is used up (or from a handler that sees the request). A reply can be delayed
//! or never sent, to test timeouts. Every connection is answered with
//! `Connection: close`. The server stops when dropped; its connection loops wake at
//! least every 10 ms to notice.
//!
//! ```
//! use telemetry_test_support::http::{HttpServer, Reply};
//!
//! let server = HttpServer::start(vec![Reply::status(503), Reply::json(200, "{}")]);
//! let url = server.url(); // http://127.0.0.1:PORT
//! # drop(url);
//! assert!(server.requests().is_empty());
//! ```

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the server's loops look at the stop flag.
const TICK: Duration = Duration::from_millis(10);
/// Most bytes of a request head (request line and headers).
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most bytes of a request body.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// One request the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `POST`, `GET`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string after `?`, without it; empty when absent.
    pub query: String,
    /// The headers in order, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body (`Content-Length` or chunked).
    pub body: Vec<u8>,
    /// When the request was complete.
    pub received_at: Instant,
}

impl RecordedRequest {
    /// The `log.record.uid` attribute values of an OTLP/HTTP protobuf logs request, in
    /// order: found as the key followed by the value field (tag 0x12, length 38), its
    /// `string_value` (tag 0x0a, length 36) and the UUID text.
    pub fn otlp_record_uids(&self) -> Vec<String> {
        let key = b"log.record.uid\x12\x26\x0a\x24";
        let body = &self.body;
        let mut ids = Vec::new();
        let mut at = 0;
        while let Some(found) = body[at..].windows(key.len()).position(|w| w == key) {
            let start = at + found + key.len();
            ids.push(String::from_utf8_lossy(&body[start..start + 36]).into_owned());
            at = start + 36;
        }
        ids
    }

    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of a query parameter (not percent-decoded).
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .split('&')
            .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    /// The body as UTF-8 text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How the server answers one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers besides `Content-Length` and `Connection`.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Never answer: keep the connection open, silent, until the client gives up or
    /// the server stops.
    pub never: bool,
}

impl Reply {
    /// An empty answer with this status.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
            never: false,
        }
    }

    /// A JSON answer (`Content-Type: application/json`).
    pub fn json(status: u16, body: impl Into<String>) -> Reply {
        Reply::status(status)
            .header("content-type", "application/json")
            .body(body.into().into_bytes())
    }

    /// An answer that never comes.
    pub fn never() -> Reply {
        Reply {
            never: true,
            ..Reply::status(200)
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Reply {
        self.body = body.into();
        self
    }

    /// Waits `delay` before answering.
    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

type Handler = dyn Fn(&RecordedRequest, usize) -> Reply + Send + Sync;

struct State {
    requests: Mutex<Vec<RecordedRequest>>,
    script: Mutex<VecDeque<Reply>>,
    default: Reply,
    handler: Option<Box<Handler>>,
    stop: AtomicBool,
}

/// A scripted HTTP/1.1 server on `127.0.0.1`, on a free port; stops when dropped.
pub struct HttpServer {
    addr: SocketAddr,
    state: Arc<State>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl HttpServer {
    /// Answers requests with `script` in order, then with `200 {}`.
    pub fn start(script: Vec<Reply>) -> HttpServer {
        HttpServer::spawn(script, Reply::json(200, "{}"), None)
    }

    /// Answers requests with `script` in order, then with `default`.
    pub fn with_default(script: Vec<Reply>, default: Reply) -> HttpServer {
        HttpServer::spawn(script, default, None)
    }

    /// Answers each request with `handler(request, index)`, `index` counting requests
    /// from 0.
    pub fn with_handler(
        handler: impl Fn(&RecordedRequest, usize) -> Reply + Send + Sync + 'static,
    ) -> HttpServer {
        HttpServer::spawn(Vec::new(), Reply::status(500), Some(Box::new(handler)))
    }

    fn spawn(script: Vec<Reply>, default: Reply, handler: Option<Box<Handler>>) -> HttpServer {
        let listener =
            TcpListener::bind("127.0.0.1:0").expect("bind a test HTTP server on 127.0.0.1:0");
        let addr = listener.local_addr().expect("the test server's address");
        let state = Arc::new(State {
            requests: Mutex::new(Vec::new()),
            script: Mutex::new(script.into()),
            default,
            handler,
            stop: AtomicBool::new(false),
        });
        let accept_state = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("test-http-server".into())
            .spawn(move || accept_loop(&listener, &accept_state))
            .expect("spawn the test server thread");
        HttpServer {
            addr,
            state,
            thread: Some(thread),
        }
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// Waits until at least `n` requests arrived or `timeout` passed; returns the
    /// requests received.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> Vec<RecordedRequest> {
        let deadline = Instant::now() + timeout;
        loop {
            let requests = self.requests();
            if requests.len() >= n || Instant::now() >= deadline {
                return requests;
            }
            std::thread::sleep(TICK);
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept; if the connection fails, the listener is gone.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn accept_loop(listener: &TcpListener, state: &Arc<State>) {
    let mut connections = Vec::new();
    // Blocking accept: `Drop` sets `stop` and connects once to wake it.
    for stream in listener.incoming() {
        if state.stop.load(Ordering::SeqCst) {
            break;
        }
        if let Ok(stream) = stream {
            let state = Arc::clone(state);
            connections.push(std::thread::spawn(move || {
                let _ = serve(stream, &state);
            }));
        }
        connections.retain(|c: &JoinHandle<()>| !c.is_finished());
    }
    for connection in connections {
        let _ = connection.join();
    }
}

/// Serves one connection: one request, one reply, then close.
fn serve(stream: TcpStream, state: &State) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(TICK))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let Some(request) = read_request(&mut reader, state)? else {
        return Ok(());
    };
    let index = {
        let mut requests = lock(&state.requests);
        requests.push(request.clone());
        requests.len() - 1
    };
    let reply = match &state.handler {
        Some(handler) => handler(&request, index),
        None => lock(&state.script)
            .pop_front()
            .unwrap_or_else(|| state.default.clone()),
    };
    let until = Instant::now() + reply.delay;
    while Instant::now() < until || reply.never {
        if state.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        // The client hung up: nothing left to answer.
        if reply.never && closed_by_peer(&mut reader)? {
            return Ok(());
        }
        std::thread::sleep(
            TICK.min(until.saturating_duration_since(Instant::now()))
                .max(Duration::from_millis(1)),
        );
    }
    let mut out = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (name, value) in &reply.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        reply.body.len()
    ));
    let mut stream = stream;
    stream.write_all(out.as_bytes())?;
    stream.write_all(&reply.body)?;
    stream.flush()
}

/// Whether the peer closed the connection (a read returns 0 bytes).
fn closed_by_peer(reader: &mut BufReader<TcpStream>) -> io::Result<bool> {
    let mut byte = [0u8; 1];
    match reader.get_mut().read(&mut byte) {
        Ok(0) => Ok(true),
        Ok(_) => Ok(false),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Ok(false)
        }
        Err(_) => Ok(true),
    }
}

/// Reads a line, retrying on read timeouts until the server stops.
fn read_line(
    reader: &mut BufReader<TcpStream>,
    state: &State,
    line: &mut Vec<u8>,
) -> io::Result<usize> {
    loop {
        match reader.read_until(b'\n', line) {
            Ok(n) => return Ok(n),
            Err(e) if keep_waiting(&e, state) => {}
            Err(e) => return Err(e),
        }
    }
}

/// Whether a read that failed with `e` is to be tried again: it only met the socket's
/// read timeout (which lets the connection notice `stop`) and the server is not stopping.
fn keep_waiting(e: &io::Error, state: &State) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    ) && !state.stop.load(Ordering::SeqCst)
}

fn read_exact(reader: &mut BufReader<TcpStream>, state: &State, buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => filled += n,
            Err(e) if keep_waiting(&e, state) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn read_request(
    reader: &mut BufReader<TcpStream>,
    state: &State,
) -> io::Result<Option<RecordedRequest>> {
    let mut line = Vec::new();
    if read_line(reader, state, &mut line)? == 0 {
        return Ok(None);
    }
    let request_line = String::from_utf8_lossy(&line).trim_end().to_owned();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (path, query) = (path.to_owned(), query.to_owned());
    let mut headers = Vec::new();
    let mut head_bytes = line.len();
    loop {
        line.clear();
        if read_line(reader, state, &mut line)? == 0 {
            return Ok(None);
        }
        head_bytes += line.len();
        if head_bytes > MAX_HEAD_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        if text.is_empty() {
            break;
        }
        if let Some((name, value)) = text.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v): &(String, String)| v.clone())
    };
    let mut body = Vec::new();
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            line.clear();
            read_line(reader, state, &mut line)?;
            let size_text = String::from_utf8_lossy(&line);
            let size = usize::from_str_radix(size_text.trim().split(';').next().unwrap_or("0"), 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            if body.len() + size > MAX_BODY_BYTES {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"));
            }
            let start = body.len();
            body.resize(start + size, 0);
            read_exact(reader, state, &mut body[start..])?;
            line.clear();
            read_line(reader, state, &mut line)?;
            if size == 0 {
                break;
            }
        }
    } else if let Some(length) = header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad content-length"))?;
        if length > MAX_BODY_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"));
        }
        body.resize(length, 0);
        read_exact(reader, state, &mut body)?;
    }
    Ok(Some(RecordedRequest {
        method,
        path,
        query,
        headers,
        body,
        received_at: Instant::now(),
    }))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(server: &HttpServer, path: &str, body: &str) -> String {
        let mut stream = TcpStream::connect(server.addr()).unwrap();
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: x\r\nX-Key: v\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    #[test]
    fn records_requests_and_follows_the_script() {
        let server = HttpServer::start(vec![
            Reply::status(503).header("retry-after", "3"),
            Reply::json(400, r#"{"error":"bad"}"#),
        ]);
        let first = post(&server, "/a?x=1&y=2", "hello");
        assert!(first.starts_with("HTTP/1.1 503 "), "{first}");
        assert!(first.contains("retry-after: 3\r\n"), "{first}");
        let second = post(&server, "/b", "");
        assert!(second.starts_with("HTTP/1.1 400 ") && second.ends_with(r#"{"error":"bad"}"#));
        let third = post(&server, "/c", "");
        assert!(
            third.starts_with("HTTP/1.1 200 ") && third.ends_with("{}"),
            "{third}"
        );
        let requests = server.requests();
        assert_eq!(requests.len(), 3);
        assert_eq!(
            (requests[0].method.as_str(), requests[0].path.as_str()),
            ("POST", "/a")
        );
        assert_eq!(requests[0].query_param("y"), Some("2"));
        assert_eq!(requests[0].header("x-key"), Some("v"));
        assert_eq!(requests[0].text(), "hello");
    }

    #[test]
    fn a_handler_sees_each_request_and_its_index() {
        let server = HttpServer::with_handler(|request, index| {
            Reply::status(200).body(format!("{index}:{}", request.text()))
        });
        assert!(post(&server, "/", "a").ends_with("0:a"));
        assert!(post(&server, "/", "b").ends_with("1:b"));
    }

    #[test]
    fn a_silent_reply_keeps_the_client_waiting_and_drop_stops_the_server() {
        let server = HttpServer::start(vec![Reply::never()]);
        let mut stream = TcpStream::connect(server.addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        write!(stream, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut buf = [0u8; 16];
        let err = stream.read(&mut buf).unwrap_err();
        assert!(matches!(
            err.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ));
        assert_eq!(server.wait_for_requests(1, Duration::from_secs(5)).len(), 1);
        drop(server);
        // The server is gone: the connection closes without an answer.
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        assert_eq!(stream.read(&mut buf).unwrap_or(0), 0);
    }
}
