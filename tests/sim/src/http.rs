//! A deliberately small HTTP/1.1 implementation: one request per connection, `Content-Length` bodies,
//! `Connection: close` answers.
//!
//! Hand-written (no hyper) so that faults can misbehave at the byte level: drop the connection, promise
//! more body than is sent, send it slowly, pad it to 50 MiB, and so on. It only has to understand well-behaved test clients (reqwest,
//! curl, the tests' raw sockets); anything odd is answered with 400 and the connection closed.

use std::fmt::Write as _;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Requests with a larger head are refused (431), which also bounds memory per connection.
const MAX_HEAD: usize = 64 * 1024;
/// Larger request bodies are refused (413). The API has no large uploads; admin bodies are tiny.
const MAX_BODY: usize = 1024 * 1024;

/// A parsed request. `path` is the raw (still percent-encoded) path without the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first header with this (case-insensitive) name.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Why no request could be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// The peer closed (or sent nothing) before a complete request: nothing to answer.
    #[error("connection closed before a complete request")]
    Closed,
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// Answerable problems: status and a message for the error body.
    #[error("{1}")]
    Bad(u16, &'static str),
}

/// Reads one request: the head up to the blank line, then exactly `Content-Length` body bytes.
pub(crate) async fn read_request<R: AsyncRead + Unpin>(r: &mut R) -> Result<Request, ReadError> {
    let mut buf = Vec::with_capacity(1024);
    let head_end = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > MAX_HEAD {
            return Err(ReadError::Bad(431, "request head too large"));
        }
        let mut chunk = [0u8; 4096];
        let n = r.read(&mut chunk).await?;
        if n == 0 {
            return Err(ReadError::Closed);
        }
        buf.extend_from_slice(&chunk[..n]);
        // Every method starts with a capital letter. Anything else (a TLS ClientHello starts with 0x16)
        // is answered at once instead of waiting for a blank line that never comes, so a client that
        // speaks TLS to this plain-HTTP server fails its handshake instead of timing out.
        if !buf[0].is_ascii_uppercase() {
            return Err(ReadError::Bad(400, "not an HTTP/1.x request (TLS to a plain-HTTP server?)"));
        }
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| ReadError::Bad(400, "request head is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (method, target, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v), None) if !m.is_empty() && !t.is_empty() => (m, t, v),
        _ => return Err(ReadError::Bad(400, "malformed request line")),
    };
    if !version.starts_with("HTTP/1.") {
        return Err(ReadError::Bad(505, "only HTTP/1.x is supported"));
    }
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':').ok_or(ReadError::Bad(400, "malformed header line"))?;
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(ReadError::Bad(400, "malformed header name"));
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    // Absolute-form targets (`http://host/path`) are what proxies send; keep only the path.
    let target = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    };
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (target.to_owned(), None),
    };
    let mut req = Request { method: method.to_owned(), path, query, headers, body: Vec::new() };
    if req.header("transfer-encoding").is_some() {
        return Err(ReadError::Bad(411, "chunked bodies are not supported; send Content-Length"));
    }
    let len = match req.header("content-length") {
        None => 0,
        Some(v) => v.parse::<usize>().map_err(|_| ReadError::Bad(400, "invalid Content-Length"))?,
    };
    if len > MAX_BODY {
        return Err(ReadError::Bad(413, "request body too large"));
    }
    let mut body = buf.split_off(head_end + 4);
    if body.len() < len {
        let have = body.len();
        body.resize(len, 0);
        r.read_exact(&mut body[have..]).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                ReadError::Closed
            } else {
                ReadError::Io(e)
            }
        })?;
    }
    body.truncate(len);
    req.body = body;
    Ok(req)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Decodes `%XX` escapes in one path segment. `None` for a bad escape or non-UTF-8 result.
/// `+` stays `+` (that rule is for query strings, not paths).
pub(crate) fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    // Indexing is guarded by the loop condition; the two hex digits are fetched with `get`.
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Whether an `Accept` header admits JSON. No header, `*/*`, `application/*`, `application/json` and
/// `+json` types do (unless given `q=0`); a header listing only e.g. `text/html` does not (→ 406).
pub(crate) fn accepts_json(accept: Option<&str>) -> bool {
    let Some(accept) = accept else { return true };
    if accept.trim().is_empty() {
        return true;
    }
    accept.split(',').any(|range| {
        let mut params = range.split(';');
        let media = params.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q_zero = params
            .any(|p| p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()).is_some_and(|q| q <= 0.0));
        let json = media == "*/*"
            || media == "application/*"
            || media == "application/json"
            || (media.starts_with("application/") && media.ends_with("+json"));
        json && !q_zero
    })
}

/// A response to write. The framing headers (`Content-Length`, `Connection`) are added on writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

pub(crate) const JSON: &str = "application/json; charset=utf-8";

impl Response {
    pub(crate) fn json_bytes(status: u16, body: Vec<u8>) -> Self {
        Self { status, content_type: JSON, headers: Vec::new(), body }
    }

    pub(crate) fn json(status: u16, value: &serde_json::Value) -> Self {
        Self::json_bytes(status, value.to_string().into_bytes())
    }

    /// Our error body. The v1 error format is undocumented; this `{"error","message"}` shape is invented
    /// by the simulator (clients must only rely on the status code).
    pub(crate) fn error(status: u16, message: &str) -> Self {
        Self::json(status, &serde_json::json!({ "error": error_code(status), "message": message }))
    }

    pub(crate) fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Status line and headers, with a `Content-Length` of `declared_len`.
    pub(crate) fn head(&self, declared_len: usize) -> String {
        let mut h = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\nServer: unloc-sim\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            declared_len
        );
        for (n, v) in &self.headers {
            // Writing to a String cannot fail.
            let _ = write!(h, "{n}: {v}\r\n");
        }
        h.push_str("\r\n");
        h
    }

    /// Writes the whole response, then closes our side of the connection.
    pub(crate) async fn write_to<W: AsyncWrite + Unpin>(&self, w: &mut W) -> std::io::Result<()> {
        w.write_all(self.head(self.body.len()).as_bytes()).await?;
        w.write_all(&self.body).await?;
        w.flush().await?;
        w.shutdown().await
    }

    /// Writes the head with the full `Content-Length` but only the first half of the body, then closes:
    /// the client sees an unexpected end of body.
    pub(crate) async fn write_truncated<W: AsyncWrite + Unpin>(&self, w: &mut W) -> std::io::Result<()> {
        // An empty body still promises at least one byte, so the truncation is always visible.
        let declared = self.body.len().max(1);
        let sent = self.body.len() / 2;
        w.write_all(self.head(declared).as_bytes()).await?;
        w.write_all(&self.body[..sent]).await?;
        w.flush().await?;
        w.shutdown().await
    }
}

/// Size of each write when streaming padding, so a 50 MiB answer costs 64 KiB of memory.
const STREAM_CHUNK: usize = 64 * 1024;

impl Response {
    /// Writes the whole response, the body `bytes` at a time with a pause of `every` before each piece.
    pub(crate) async fn write_dripping<W: AsyncWrite + Unpin>(
        &self,
        w: &mut W,
        bytes: usize,
        every: Duration,
    ) -> std::io::Result<()> {
        w.write_all(self.head(self.body.len()).as_bytes()).await?;
        w.flush().await?;
        for piece in self.body.chunks(bytes.max(1)) {
            tokio::time::sleep(every).await;
            w.write_all(piece).await?;
            w.flush().await?;
        }
        w.shutdown().await
    }

    /// Writes the head and the first half of the body (at least one byte short of it), without closing:
    /// the caller then resets the connection.
    pub(crate) async fn write_part<W: AsyncWrite + Unpin>(&self, w: &mut W) -> std::io::Result<()> {
        // An empty body still promises a byte, so the answer is always cut short.
        w.write_all(self.head(self.body.len().max(1)).as_bytes()).await?;
        w.write_all(&self.body[..self.body.len() / 2]).await?;
        w.flush().await
    }

    /// Writes the response padded with spaces to `total` bytes (or the body's own size if larger). JSON
    /// allows whitespace between tokens, so the padding goes before a closing `}` or `]` and the body
    /// stays valid; anything else is padded at the end. Streamed in `STREAM_CHUNK` pieces.
    pub(crate) async fn write_padded<W: AsyncWrite + Unpin>(&self, w: &mut W, total: usize) -> std::io::Result<()> {
        let total = total.max(self.body.len());
        let (before, after) = match self.body.last() {
            Some(b'}' | b']') => self.body.split_at(self.body.len() - 1),
            _ => (self.body.as_slice(), &[][..]),
        };
        w.write_all(self.head(total).as_bytes()).await?;
        w.write_all(before).await?;
        let spaces = vec![b' '; STREAM_CHUNK];
        let mut left = total - self.body.len();
        while left > 0 {
            let n = left.min(STREAM_CHUNK);
            // `n` is at most the buffer's length.
            w.write_all(&spaces[..n]).await?;
            left -= n;
        }
        w.write_all(after).await?;
        w.flush().await?;
        w.shutdown().await
    }
}

/// Machine-readable code for our invented error body.
pub(crate) fn error_code(status: u16) -> &'static str {
    match status {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        406 => "not_acceptable",
        409 => "conflict",
        411 => "length_required",
        413 => "payload_too_large",
        422 => "unprocessable_entity",
        429 => "too_many_requests",
        431 => "request_header_fields_too_large",
        500 => "internal_server_error",
        502 => "bad_gateway",
        503 => "service_unavailable",
        504 => "gateway_timeout",
        505 => "http_version_not_supported",
        s if s >= 500 => "server_error",
        s if s >= 400 => "client_error",
        _ => "error",
    }
}

pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(raw: &[u8]) -> Result<Request, ReadError> {
        let mut r = raw;
        read_request(&mut r).await
    }

    #[tokio::test]
    async fn parses_a_request_with_body_and_query() {
        let req = parse(b"POST /__admin/faults?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX-Y:  z \r\n\r\nhello")
            .await
            .unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.path, "/__admin/faults");
        assert_eq!(req.query.as_deref(), Some("x=1"));
        assert_eq!(req.header("x-y"), Some("z"));
        assert_eq!(req.header("CONTENT-LENGTH"), Some("5"));
        assert_eq!(req.body, b"hello");
    }

    #[tokio::test]
    async fn absolute_form_target_keeps_the_path() {
        let req = parse(b"GET http://127.0.0.1:9/v1/x HTTP/1.1\r\n\r\n").await.unwrap();
        assert_eq!(req.path, "/v1/x");
    }

    #[tokio::test]
    async fn rejects_garbage() {
        assert!(matches!(parse(b"GARBAGE\r\n\r\n").await, Err(ReadError::Bad(400, _))));
        assert!(matches!(parse(b"GET / SPDY/3\r\n\r\n").await, Err(ReadError::Bad(505, _))));
        assert!(matches!(parse(b"GET / HTTP/1.1\r\nbroken\r\n\r\n").await, Err(ReadError::Bad(400, _))));
        assert!(matches!(
            parse(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").await,
            Err(ReadError::Bad(411, _))
        ));
        assert!(matches!(parse(b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc").await, Err(ReadError::Closed)));
        assert!(matches!(parse(b"GET / HTT").await, Err(ReadError::Closed)));
        // A TLS ClientHello (record type 0x16) is refused at once, not waited on.
        assert!(matches!(parse(b"\x16\x03\x01\x02\x00\x01").await, Err(ReadError::Bad(400, _))));
        assert!(matches!(parse(b"get / HTTP/1.1\r\n\r\n").await, Err(ReadError::Bad(400, _))));
    }

    #[tokio::test]
    async fn writes_padded_and_dripping_bodies_that_stay_valid() {
        let resp = Response::json(200, &serde_json::json!({"locks": [{"id": "a"}]}));
        let mut out = Vec::new();
        resp.write_padded(&mut out, 200_000).await.unwrap();
        let text = String::from_utf8(out).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("Content-Length: 200000\r\n"));
        assert_eq!(body.len(), 200_000);
        assert!(body.ends_with(" }"));
        assert_eq!(serde_json::from_str::<serde_json::Value>(body).unwrap()["locks"][0]["id"], "a");

        let (mut dripped, mut whole) = (Vec::new(), Vec::new());
        resp.write_dripping(&mut dripped, 3, Duration::from_millis(1)).await.unwrap();
        resp.write_to(&mut whole).await.unwrap();
        assert_eq!(dripped, whole);

        let mut out = Vec::new();
        resp.write_part(&mut out).await.unwrap();
        let text = String::from_utf8(out).unwrap();
        let (head, part) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}\r\n", resp.body.len())));
        assert_eq!(part.len(), resp.body.len() / 2);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("danalock-00%3A00%3a01").as_deref(), Some("danalock-00:00:01"));
        assert_eq!(percent_decode("a%2Fb").as_deref(), Some("a/b"));
        assert_eq!(percent_decode("N%C3%B8kkel+x").as_deref(), Some("Nøkkel+x"));
        assert_eq!(percent_decode("plain:colon").as_deref(), Some("plain:colon"));
        assert_eq!(percent_decode("bad%2"), None);
        assert_eq!(percent_decode("bad%zz"), None);
        assert_eq!(percent_decode("%FF"), None);
    }

    #[test]
    fn accept_header() {
        assert!(accepts_json(None));
        assert!(accepts_json(Some("")));
        assert!(accepts_json(Some("application/json")));
        assert!(accepts_json(Some("*/*")));
        assert!(accepts_json(Some("text/html, application/json;q=0.9")));
        assert!(accepts_json(Some("application/*")));
        assert!(accepts_json(Some("application/problem+json")));
        assert!(accepts_json(Some("Application/JSON; charset=utf-8")));
        assert!(!accepts_json(Some("text/html")));
        assert!(!accepts_json(Some("text/html, application/xml")));
        assert!(!accepts_json(Some("application/json;q=0")));
    }

    #[tokio::test]
    async fn writes_framed_and_truncated_responses() {
        let resp = Response::error(404, "nope").with_header("X-A", "b");
        let mut out = Vec::new();
        resp.write_to(&mut out).await.unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"));
        assert!(text.contains("\r\nConnection: close\r\n"));
        assert!(text.contains("\r\nX-A: b\r\n"));
        let (_, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(text.contains(&format!("Content-Length: {}\r\n", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"], "not_found");

        let mut out = Vec::new();
        resp.write_truncated(&mut out).await.unwrap();
        let text = String::from_utf8(out).unwrap();
        let (_, short) = text.split_once("\r\n\r\n").unwrap();
        assert!(short.len() < body.len());
        assert!(text.contains(&format!("Content-Length: {}\r\n", body.len())));
    }
}
