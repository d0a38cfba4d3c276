//! A tiny HTTP/1.1 server on 127.0.0.1 that answers every request with one status, counting
//! connections and requests: to see how often a target really asks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the server has seen.
#[derive(Debug, Default)]
struct Seen {
    connections: AtomicUsize,
    /// The request lines (`PUT /devstoreaccount1/c/x.json HTTP/1.1`), in arrival order.
    requests: Mutex<Vec<String>>,
}

pub struct FakeHttp {
    pub port: u16,
    seen: Arc<Seen>,
    task: JoinHandle<()>,
}

impl FakeHttp {
    /// Answers every request with `status` (and extra header lines `headers`, each ending in
    /// CRLF) after waiting `delay`.
    pub async fn start(status: u16, delay: Duration, headers: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let seen = Arc::new(Seen::default());
        let answer_seen = seen.clone();
        let headers = headers.to_owned();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                answer_seen.connections.fetch_add(1, Ordering::SeqCst);
                let (seen, headers) = (answer_seen.clone(), headers.clone());
                tokio::spawn(answer(stream, status, delay, headers, seen));
            }
        });
        Ok(Self { port, seen, task })
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.seen.connections.load(Ordering::SeqCst)
    }

    /// The request lines received so far.
    pub fn requests(&self) -> Vec<String> {
        self.seen
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for FakeHttp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request (head and `content-length` body), records it, answers, closes.
async fn answer(
    mut stream: TcpStream,
    status: u16,
    delay: Duration,
    headers: String,
    seen: Arc<Seen>,
) {
    let mut received = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(read) => received.extend_from_slice(&chunk[..read]),
        }
    };
    let head = String::from_utf8_lossy(&received[..head_end]).into_owned();
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while received.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(read) => received.extend_from_slice(&chunk[..read]),
        }
    }
    seen.requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(head.lines().next().unwrap_or_default().to_owned());
    tokio::time::sleep(delay).await;
    let response = format!(
        "HTTP/1.1 {status} Fake\r\ncontent-length: 0\r\nconnection: close\r\n{headers}\r\n"
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}
