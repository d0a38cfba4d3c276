//! Part 2 bodies for the answers hyper makes itself. A request whose head cannot be parsed
//! (malformed request line or header, more header fields or bytes than allowed, a URI too
//! long) never reaches the router: hyper answers 400, 431 or 414 with an empty body and
//! closes the connection. hyper has no hook for that answer, so [`ParseErrorBodies`] wraps
//! the connection and replaces exactly those answers, as hyper writes them, with the same
//! status and a Part 2 error body saying what was wrong.
//!
//! What is recognised: a write that is a whole response head (ends with an empty line,
//! shorter than 1 KiB) of status 400, 414 or 431 with `content-length: 0`. The router never
//! writes such a response (its errors all carry Part 2 bodies), so nothing else is touched.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The most header fields a request may have (hyper's limit, which it answers with 431).
pub const MAX_HEADER_FIELDS: usize = 100;
/// The most bytes a request's head may take (hyper's default read buffer limit; more is 431).
pub const MAX_HEAD_BYTES: usize = 8192 + 4096 * 100;

/// The longest response head hyper writes for a parse error.
const LONGEST_ERROR_HEAD: usize = 1024;

/// Wraps a connection's I/O; see the module docs.
#[derive(Debug)]
pub struct ParseErrorBodies<T> {
    inner: T,
    /// The replacement still to be written, and how much of it is.
    pending: Vec<u8>,
    written: usize,
}

impl<T> ParseErrorBodies<T> {
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }
}

/// The message for each status hyper answers on its own.
fn message(status: u16) -> Option<String> {
    Some(match status {
        400 => "the request could not be parsed as HTTP/1.1: its request line or a header \
                field is malformed"
            .to_owned(),
        414 => "the request's URI is too long".to_owned(),
        431 => format!(
            "the request's header section is too large: at most {MAX_HEADER_FIELDS} header \
             fields and {MAX_HEAD_BYTES} bytes are read"
        ),
        _ => return None,
    })
}

/// hyper's answer to a request it could not parse, replaced; `None` for anything else.
fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    if head.len() > LONGEST_ERROR_HEAD || !head.ends_with(b"\r\n\r\n") {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let status_line = text.strip_prefix("HTTP/1.1 ")?;
    let status: u16 = status_line.get(..3)?.parse().ok()?;
    let text_message = message(status)?;
    let empty = text
        .split("\r\n")
        .any(|line| line.eq_ignore_ascii_case("content-length: 0"));
    if !empty {
        return None;
    }
    let reason = status_line
        .split("\r\n")
        .next()
        .and_then(|line| line.get(4..))
        .unwrap_or_default();
    let body =
        serde_json::json!({ "messages": [crate::http::part2_message(status, &text_message)] })
            .to_string();
    Some(
        format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl<T: AsyncWrite + Unpin> ParseErrorBodies<T> {
    /// Writes what is left of a replacement.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ParseErrorBodies<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ParseErrorBodies<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        if let Some(replaced) = replacement(buf) {
            // Taken whole; written by the flush (or the next write) that follows.
            self.pending = replaced;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if total <= LONGEST_ERROR_HEAD {
            let whole: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
            if let Some(replaced) = replacement(&whole) {
                self.pending = replaced;
                return Poll::Ready(Ok(total));
            }
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_empty_parse_error_answers_get_part2_bodies_and_nothing_else_is_touched() {
        for (status, reason, says) in [
            (400, "Bad Request", "malformed"),
            (
                431,
                "Request Header Fields Too Large",
                "header section is too large",
            ),
            (414, "URI Too Long", "URI is too long"),
        ] {
            let head = format!(
                "HTTP/1.1 {status} {reason}\r\ncontent-length: 0\r\ndate: Fri, 04 Dec 2026 17:00:00 GMT\r\n\r\n"
            );
            let replaced = replacement(head.as_bytes()).map(String::from_utf8);
            let Some(Ok(replaced)) = replaced else {
                panic!("{status} was not replaced");
            };
            assert!(replaced.starts_with(&format!("HTTP/1.1 {status} {reason}\r\n")));
            let (_, body) = replaced.split_once("\r\n\r\n").unwrap_or_default();
            let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
            assert_eq!(json["messages"][0]["code"], status.to_string());
            let text = json["messages"][0]["text"].as_str().unwrap_or_default();
            assert!(text.contains(says), "{text}");
            assert!(replaced.contains(&format!("content-length: {}\r\n", body.len())));
        }
        // The router's own answers (with bodies), other statuses, partial heads: untouched.
        for other in [
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 12\r\n\r\n",
            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n",
        ] {
            assert!(replacement(other.as_bytes()).is_none(), "{other:?}");
        }
    }
}
