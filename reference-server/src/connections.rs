//! Listening without being exhausted: every listener of the server (HTTP, the embedded broker's
//! plain and TLS fronts) accepts through a [`CappedListener`], and HTTP connections are served by
//! [`serve_http`], which closes connections that are slow to send a request's headers or that sit
//! idle between requests.
//!
//! - **Cap**: at most `max_connections` connections are open per listener group; at the cap the
//!   listener stops accepting (new clients wait in the kernel's backlog) until one closes.
//! - **Accept errors** (out of file descriptors, memory, buffers) are not retried in a tight
//!   loop: the listener backs off from 10 ms to 1 s, logging once when it starts and once when it
//!   recovers, with the number of failures.
//! - **Header-read timeout**: from the first byte of a request until its headers are complete
//!   (slowloris clients are cut off).
//! - **Idle timeout**: a kept-alive connection with no request in flight and no bytes moving is
//!   closed. A request that is being handled is bounded by the request timeout instead.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use events_core::Backoff;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;

/// The server's defaults: generous for real clients, tight enough that idle or slow clients
/// cannot hold the server's file descriptors.
pub const DEFAULT_MAX_HTTP_CONNECTIONS: usize = 4096;
/// The embedded broker's default cap (plain and TLS listeners together).
pub const DEFAULT_MAX_MQTT_CONNECTIONS: usize = 1024;
/// Default time from a request's first byte until its headers are complete.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a kept-alive connection may sit idle between requests.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a graceful stop waits for open requests before it drops them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// The waits after failed accepts (out of file descriptors, …): 10 ms, doubled up to 1 s.
const ACCEPT_RETRY: Backoff = Backoff::new(Duration::from_millis(10), Duration::from_secs(1));

/// The limits of the HTTP listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_MAX_HTTP_CONNECTIONS,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }
}

/// A TCP listener that holds at most a fixed number of connections open and backs off when
/// accepting fails. Several listeners may share one cap (`with_permits`).
#[derive(Debug)]
pub struct CappedListener {
    listener: TcpListener,
    permits: Arc<Semaphore>,
    name: &'static str,
}

impl CappedListener {
    pub fn new(listener: TcpListener, max_connections: usize, name: &'static str) -> Self {
        Self::with_permits(listener, Arc::new(Semaphore::new(max_connections)), name)
    }

    pub fn with_permits(
        listener: TcpListener,
        permits: Arc<Semaphore>,
        name: &'static str,
    ) -> Self {
        Self {
            listener,
            permits,
            name,
        }
    }

    #[cfg(test)]
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The next connection, with the permit that counts it until it is dropped. Waits while
    /// the cap is reached; never fails.
    pub async fn accept(&self) -> (TcpStream, SocketAddr, OwnedSemaphorePermit) {
        let permit = match self.permits.clone().acquire_owned().await {
            Ok(permit) => permit,
            // The semaphore is never closed; should that change, stop accepting.
            Err(_) => std::future::pending().await,
        };
        let mut retry = ACCEPT_RETRY.retry();
        loop {
            match self.listener.accept().await {
                Ok((stream, peer)) => {
                    if retry.failures() > 0 {
                        tracing::warn!(
                            listener = self.name,
                            failures = retry.failures(),
                            "accepting connections again"
                        );
                    }
                    return (stream, peer, permit);
                }
                // The client gave up before we took it: nothing is wrong with the listener.
                Err(error) if is_connection_error(&error) => continue,
                Err(error) => {
                    if retry.failures() == 0 {
                        tracing::error!(
                            listener = self.name,
                            %error,
                            "cannot accept connections; backing off until it recovers"
                        );
                    }
                    tokio::time::sleep(retry.failed()).await;
                }
            }
        }
    }

    /// Waits until every connection accepted here (and by listeners sharing the cap) ended,
    /// at most `grace`; returns whether they all did.
    async fn drained(&self, max_connections: usize, grace: Duration) -> bool {
        let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
        tokio::time::timeout(grace, self.permits.acquire_many(all))
            .await
            .is_ok()
    }
}

fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    )
}

/// Serves `app` on `listener` (HTTP/1.1 with keep-alive) until `shutdown` resolves, then stops
/// accepting, lets open requests finish for up to 10 s and returns.
pub async fn serve_http(
    listener: CappedListener,
    app: axum::Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()>,
) {
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer, permit) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let stopping = stopping.clone();
        tokio::spawn(async move {
            serve_connection(stream, app, limits, stopping).await;
            tracing::trace!(%peer, "connection closed");
            drop(permit);
        });
    }
    let _ = stop.send(true);
    if !listener
        .drained(limits.max_connections, SHUTDOWN_GRACE)
        .await
    {
        tracing::warn!("requests still open after {SHUTDOWN_GRACE:?}: dropped");
    }
}

async fn serve_connection(
    stream: TcpStream,
    app: axum::Router,
    limits: HttpLimits,
    mut stopping: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let app = hyper_util::service::TowerToHyperService::new(app);
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let busy = activity.request_started();
            let response = hyper::service::Service::call(&app, request);
            async move {
                let response = response.await;
                drop(busy);
                Ok::<_, Infallible>(match response {
                    Ok(response) => response,
                    Err(never) => match never {},
                })
            }
        })
    };
    let io = TokioIo::new(crate::parse_errors::ParseErrorBodies::new(TrackedIo {
        inner: stream,
        activity: activity.clone(),
    }));
    let mut builder = hyper::server::conn::http1::Builder::new();
    // The limits parse_errors' 431 message states.
    builder
        .max_headers(crate::parse_errors::MAX_HEADER_FIELDS)
        .max_buf_size(crate::parse_errors::MAX_HEAD_BYTES);
    // Our own clock (below) times headers and idleness; hyper's would also cut off idle
    // connections at the header timeout, and needs a timer.
    builder.header_read_timeout(None).keep_alive(true);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    loop {
        let deadline = activity.deadline(&limits);
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "HTTP connection ended with an error");
                }
                return;
            }
            () = tokio::time::sleep_until(deadline) => {
                if activity.expired(&limits) {
                    tracing::debug!("HTTP connection closed: headers too slow or idle too long");
                    return;
                }
            }
            // The deadline changed: look again.
            () = activity.head_started.notified() => {}
            _ = async { stopping.wait_for(|stop| *stop).await.map(drop) } => {
                connection.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection.as_mut()).await;
                return;
            }
        }
    }
}

/// What a connection is doing, for its timeouts.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Between requests since this instant (the last byte written or the last response).
    Idle(Instant),
    /// A request's first byte arrived at this instant; its headers are not complete.
    ReadingHead(Instant),
    /// This many requests are being handled.
    Busy(usize),
}

#[derive(Debug)]
struct Activity {
    phase: Mutex<Phase>,
    /// Wakes the connection's watchdog when a request's first byte arrives: its header
    /// deadline is usually earlier than the idle deadline it sleeps towards.
    head_started: tokio::sync::Notify,
}

impl Activity {
    fn new() -> Self {
        Self {
            phase: Mutex::new(Phase::Idle(Instant::now())),
            head_started: tokio::sync::Notify::new(),
        }
    }

    fn phase(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self) {
        let mut phase = self.phase();
        if let Phase::Idle(_) = *phase {
            *phase = Phase::ReadingHead(Instant::now());
            self.head_started.notify_one();
        }
    }

    fn wrote(&self) {
        let mut phase = self.phase();
        match *phase {
            Phase::Idle(_) => *phase = Phase::Idle(Instant::now()),
            // A pipelined request's head arrived while the answer before it is still being
            // written (its handler returned, its body streams): the header clock starts once
            // that answer stops moving, so a slowly read answer is not cut off mid-body.
            Phase::ReadingHead(_) => *phase = Phase::ReadingHead(Instant::now()),
            Phase::Busy(_) => {}
        }
    }

    fn request_started(self: &Arc<Self>) -> BusyGuard {
        let mut phase = self.phase();
        *phase = match *phase {
            Phase::Busy(n) => Phase::Busy(n + 1),
            _ => Phase::Busy(1),
        };
        BusyGuard(self.clone())
    }

    fn deadline(&self, limits: &HttpLimits) -> Instant {
        match *self.phase() {
            Phase::Idle(since) => since + limits.idle_timeout,
            Phase::ReadingHead(since) => since + limits.header_read_timeout,
            // The request timeout bounds handling; look again later.
            Phase::Busy(_) => Instant::now() + limits.idle_timeout,
        }
    }

    fn expired(&self, limits: &HttpLimits) -> bool {
        !matches!(*self.phase(), Phase::Busy(_)) && self.deadline(limits) <= Instant::now()
    }
}

/// Marks a request in flight until dropped (also when the connection drops it unfinished).
struct BusyGuard(Arc<Activity>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        let mut phase = self.0.phase();
        *phase = match *phase {
            Phase::Busy(n) if n > 1 => Phase::Busy(n - 1),
            _ => Phase::Idle(Instant::now()),
        };
    }
}

/// A stream that tells its connection's [`Activity`] when bytes move.
struct TrackedIo {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for TrackedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        result
    }
}

impl AsyncWrite for TrackedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> HttpLimits {
        HttpLimits {
            max_connections: 4,
            header_read_timeout: Duration::from_secs(2),
            idle_timeout: Duration::from_secs(5),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_expires_after_the_idle_timeout_and_a_busy_one_never() {
        let activity = Arc::new(Activity::new());
        assert!(!activity.expired(&limits()));
        tokio::time::advance(Duration::from_secs(6)).await;
        assert!(activity.expired(&limits()));
        let busy = activity.request_started();
        tokio::time::advance(Duration::from_secs(600)).await;
        assert!(
            !activity.expired(&limits()),
            "a request in flight is not idle"
        );
        drop(busy);
        assert!(
            !activity.expired(&limits()),
            "idle starts when the request ends"
        );
        tokio::time::advance(Duration::from_secs(4)).await;
        activity.wrote();
        tokio::time::advance(Duration::from_secs(4)).await;
        assert!(!activity.expired(&limits()), "bytes written keep it alive");
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(activity.expired(&limits()));
    }

    #[tokio::test(start_paused = true)]
    async fn headers_must_be_complete_within_the_header_timeout_of_their_first_byte() {
        let activity = Arc::new(Activity::new());
        tokio::time::advance(Duration::from_secs(4)).await;
        activity.read();
        tokio::time::advance(Duration::from_secs(1)).await;
        activity.read();
        assert!(!activity.expired(&limits()));
        tokio::time::advance(Duration::from_millis(1500)).await;
        assert!(
            activity.expired(&limits()),
            "more bytes do not extend the header time"
        );
    }

    #[tokio::test]
    async fn the_cap_holds_back_the_next_connection_until_one_closes() -> io::Result<()> {
        let listener = CappedListener::new(TcpListener::bind("127.0.0.1:0").await?, 1, "test");
        let address = listener.local_addr()?;
        let _first_client = TcpStream::connect(address).await?;
        let (_first, _, permit) = listener.accept().await;
        let _second_client = TcpStream::connect(address).await?;
        let held = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
        assert!(
            held.is_err(),
            "a second connection was accepted over the cap"
        );
        drop(permit);
        let next = tokio::time::timeout(Duration::from_secs(5), listener.accept()).await;
        assert!(
            next.is_ok(),
            "the held connection was not accepted after one closed"
        );
        Ok(())
    }
}
