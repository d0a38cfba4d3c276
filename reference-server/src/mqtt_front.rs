//! The fronts of the embedded broker: every client's bytes pass through one, on the plain
//! listener (`[mqtt] listen`, loopback only) and behind the mutual-TLS one (`mqtt_tls`), before
//! they reach rumqttd's internal port. rumqttd 0.20 has no topic ACLs and no rule about client
//! ids, so the server's are kept by [`events_core::mqtt_front`]: not the server's client id
//! (`[mqtt] client-id`), no will or PUBLISH under its topic roots, MQTT 3.1.1, packets no
//! larger than the broker takes ([`MAX_PAYLOAD`]), and every CONNECT re-encoded with the
//! fronts' login (see [`crate::broker`]: the internal port takes only that login and the
//! publisher's). The client's own password was never checked by the embedded broker and is not
//! now; the TLS listener checks its username against the certificate first.
//!
//! Subscribing stays open: whoever may connect may read the server's events.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use events_core::mqtt_front::{self as front, Connect, Ended, FrontError, FrontRules, Login};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::broker::{Credential, MAX_PAYLOAD};
use crate::connections::CappedListener;

/// At most one warning about refused clients in this time; the others are counted in it.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// The rules of the fronts and where they forward to; shared by every connection.
#[derive(Debug)]
pub struct Front {
    broker: SocketAddr,
    rules: FrontRules,
    warnings: Mutex<Warnings>,
}

#[derive(Debug, Default)]
struct Warnings {
    last: Option<Instant>,
    unsaid: u64,
}

impl Front {
    /// Forwards to the internal listener at `broker` with `login`; refuses `server_client_id`
    /// and publishing under `roots`.
    pub fn new(
        broker: SocketAddr,
        login: Credential,
        server_client_id: String,
        roots: Vec<String>,
    ) -> Self {
        let login = Login::new(login.username(), login.password());
        Self {
            broker,
            rules: FrontRules::new(server_client_id, roots, MAX_PAYLOAD, login),
            warnings: Mutex::default(),
        }
    }

    /// The checks of a CONNECT that no client may pass, whichever listener it came through.
    pub fn check(&self, connect: &Connect) -> Result<(), FrontError> {
        self.rules.check(connect)
    }

    /// Forwards an admitted client to the broker until either side closes, a rule is broken
    /// or `stop` resolves (see [`FrontRules::relay`]).
    pub async fn relay<C>(
        &self,
        client: C,
        connect: Connect,
        stop: impl Future<Output = ()>,
    ) -> Result<Ended, FrontError>
    where
        C: AsyncRead + AsyncWrite + Unpin,
    {
        let broker = front::connect_tcp(self.broker);
        self.rules.relay(client, connect, broker, stop).await
    }

    /// Logs why a connection ended: impersonations as a warning (at most one per
    /// [`WARN_EVERY`], saying how many were not logged: a loop of them must not flood the
    /// log), the rest at debug level.
    pub fn log_end(&self, peer: SocketAddr, listener: &str, error: &FrontError) {
        if !error.is_impersonation() {
            tracing::debug!(%peer, listener, "MQTT connection ended: {error}");
            return;
        }
        let unsaid = {
            let mut warnings = self.warnings.lock().unwrap_or_else(PoisonError::into_inner);
            if warnings
                .last
                .is_some_and(|last| last.elapsed() < WARN_EVERY)
            {
                warnings.unsaid += 1;
                None
            } else {
                warnings.last = Some(Instant::now());
                Some(std::mem::take(&mut warnings.unsaid))
            }
        };
        match unsaid {
            Some(0) => tracing::warn!(%peer, listener, "MQTT client {error}"),
            Some(unsaid) => tracing::warn!(
                %peer,
                listener,
                "MQTT client {error} ({unsaid} more such clients since the last warning)"
            ),
            None => tracing::debug!(%peer, listener, "MQTT client {error}"),
        }
    }
}

/// Serves the plain listener: each connection through `front`, counted by `listener`'s cap.
pub async fn serve_plain(listener: CappedListener, front: Arc<Front>) {
    loop {
        let (stream, peer, permit) = listener.accept().await;
        let front = front.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            match front
                .rules
                .serve(stream, front::connect_tcp(front.broker))
                .await
            {
                Ok(ended) => tracing::trace!(%peer, ?ended, "MQTT connection closed"),
                Err(error) => front.log_end(peer, "mqtt", &error),
            }
            drop(permit);
        });
    }
}
