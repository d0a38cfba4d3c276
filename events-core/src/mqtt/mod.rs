//! MQTT transport on rumqttc: [`MqttSink`] publishes with QoS 1 and returns after the broker's
//! PUBACK; [`MqttSubscriber`] receives, decodes and de-duplicates. Both keep a persistent
//! session (fixed client id, `clean_session = false`), reconnect with exponential backoff, and
//! speak TLS with an optional client certificate (mutual TLS). [`crate::mqtt_front`] is the
//! other side: a front for an embedded broker that keeps a program's client id and topic
//! roots to itself.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{
    AsyncClient, ConnectionError, Event, EventLoop, MqttOptions, TlsConfiguration, Transport,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

mod sink;
mod subscriber;

use crate::backoff::Backoff;
pub use sink::MqttSink;
pub use subscriber::{MqttSubscriber, ReceiveError, Subscription};

/// Where and how to connect: broker, client id (the session: keep it stable), credentials,
/// TLS, timeouts.
#[derive(Clone)]
pub struct MqttConfig {
    host: String,
    port: u16,
    client_id: String,
    username: Option<String>,
    password: Option<String>,
    tls: Option<MqttTls>,
    keep_alive: Duration,
    connect_timeout: Duration,
    backoff: Backoff,
    max_packet_size: usize,
    max_in_flight: u16,
}

impl fmt::Debug for MqttConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .field("keep_alive", &self.keep_alive)
            .field("connect_timeout", &self.connect_timeout)
            .field("backoff", &self.backoff)
            .field("max_packet_size", &self.max_packet_size)
            .field("max_in_flight", &self.max_in_flight)
            .finish()
    }
}

impl MqttConfig {
    /// A plain TCP connection to `host:port` as `client_id`.
    pub fn new(host: impl Into<String>, port: u16, client_id: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port,
            client_id: client_id.into(),
            username: None,
            password: None,
            tls: None,
            keep_alive: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            backoff: Backoff::default(),
            max_packet_size: 16 << 20,
            max_in_flight: 100,
        }
    }

    /// From `mqtt://[user[:password]@]host[:port]` (port 1883) or `mqtts://...` (port 8883,
    /// TLS with the system's root certificates unless [`MqttConfig::with_tls`] says otherwise).
    pub fn from_url(url: &str, client_id: impl Into<String>) -> Result<Self, MqttError> {
        let invalid = |why: &str| MqttError::Url(format!("{url:?}: {why}"));
        let parsed = url::Url::parse(url).map_err(|source| MqttError::UrlSyntax {
            url: url.to_owned(),
            source,
        })?;
        let (tls, default_port) = match parsed.scheme() {
            "mqtt" | "tcp" => (false, 1883),
            "mqtts" | "ssl" => (true, 8883),
            other => return Err(invalid(&format!("scheme {other:?} is not mqtt or mqtts"))),
        };
        let host = parsed
            .host_str()
            .ok_or_else(|| invalid("no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']');
        let mut config = Self::new(host, parsed.port().unwrap_or(default_port), client_id);
        if !parsed.username().is_empty() {
            // Userinfo is percent-encoded (RFC 3986), not form-encoded: `+` is a plus.
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .map(|text| text.into_owned())
                    .map_err(|_| invalid("the credentials are not UTF-8 once percent-decoded"))
            };
            config.username = Some(decode(parsed.username())?);
            config.password = parsed.password().map(decode).transpose()?;
        }
        if tls {
            config.tls = Some(MqttTls::system_roots()?);
        }
        Ok(config)
    }

    /// Username and password (the password may be empty, as with certificate login).
    pub fn with_credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.username = Some(username.into());
        self.password = Some(password.into());
        self
    }

    /// Connects over TLS.
    pub fn with_tls(mut self, tls: MqttTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The keep-alive interval (default 30 s).
    pub fn with_keep_alive(mut self, keep_alive: Duration) -> Self {
        self.keep_alive = keep_alive;
        self
    }

    /// How long the first connection may take before `connect` fails (default 10 s).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Delays between reconnection attempts.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The largest packet sent or accepted (default 16 MiB).
    pub fn with_max_packet_size(mut self, bytes: usize) -> Self {
        self.max_packet_size = bytes;
        self
    }

    /// How many QoS 1 messages may wait for their PUBACK at once (default 100).
    pub fn with_max_in_flight(mut self, messages: u16) -> Self {
        self.max_in_flight = messages.max(1);
        self
    }

    /// `host:port`, for messages.
    pub fn broker(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    pub(crate) fn options(&self, manual_acks: bool) -> Result<MqttOptions, MqttError> {
        let mut options = MqttOptions::new(self.client_id.clone(), self.host.clone(), self.port);
        options
            .set_clean_session(false)
            .set_keep_alive(self.keep_alive.max(Duration::from_secs(1)))
            .set_max_packet_size(self.max_packet_size, self.max_packet_size)
            .set_inflight(self.max_in_flight)
            .set_manual_acks(manual_acks);
        if let Some(username) = &self.username {
            options.set_credentials(username.clone(), self.password.clone().unwrap_or_default());
        }
        if let Some(tls) = &self.tls {
            options.set_transport(Transport::Tls(TlsConfiguration::Rustls(Arc::new(
                tls.client_config()?,
            ))));
        }
        Ok(options)
    }
}

/// TLS settings: the roots the broker's certificate must chain to, and optionally the client
/// certificate and key for mutual TLS.
#[derive(Clone)]
pub struct MqttTls {
    roots: Vec<CertificateDer<'static>>,
    client_auth: Option<(Vec<CertificateDer<'static>>, Arc<PrivateKeyDer<'static>>)>,
}

impl fmt::Debug for MqttTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttTls")
            .field("roots", &self.roots.len())
            .field("client_certificate", &self.client_auth.is_some())
            .finish()
    }
}

impl MqttTls {
    /// Trusts the CA certificates of a PEM file's contents.
    pub fn with_ca_pem(pem: &[u8]) -> Result<Self, MqttError> {
        let roots = certificates(pem, "CA certificate")?;
        Ok(Self {
            roots,
            client_auth: None,
        })
    }

    /// Trusts the operating system's root certificates.
    pub fn system_roots() -> Result<Self, MqttError> {
        let found = rustls_native_certs::load_native_certs();
        if found.certs.is_empty() {
            let why = found
                .errors
                .first()
                .map_or_else(|| "none found".to_owned(), ToString::to_string);
            return Err(MqttError::Tls(format!(
                "no system root certificates: {why}"
            )));
        }
        Ok(Self {
            roots: found.certs,
            client_auth: None,
        })
    }

    /// Presents a client certificate (PEM chain) and its private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub fn with_client_auth(
        mut self,
        certificate_pem: &[u8],
        key_pem: &[u8],
    ) -> Result<Self, MqttError> {
        let chain = certificates(certificate_pem, "client certificate")?;
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|source| MqttError::Pem {
            what: "client key".to_owned(),
            source,
        })?;
        self.client_auth = Some((chain, Arc::new(key)));
        Ok(self)
    }

    fn client_config(&self) -> Result<rustls::ClientConfig, MqttError> {
        let mut roots = rustls::RootCertStore::empty();
        let (added, _ignored) = roots.add_parsable_certificates(self.roots.iter().cloned());
        if added == 0 {
            return Err(MqttError::Tls("no usable root certificate".into()));
        }
        let tls_error = MqttError::Rustls;
        // ring explicitly: the process-wide default would be ambiguous if another crate in the
        // program enabled a second provider.
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_root_certificates(roots);
        match &self.client_auth {
            None => Ok(builder.with_no_client_auth()),
            Some((chain, key)) => builder
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .map_err(tls_error),
        }
    }
}

fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, MqttError> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| MqttError::Pem {
            what: what.to_owned(),
            source,
        })?;
    if certificates.is_empty() {
        return Err(MqttError::Tls(format!("no certificate in the {what} PEM")));
    }
    Ok(certificates)
}

/// Why a connection could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MqttError {
    /// The broker URL has a scheme other than `mqtt`/`mqtts` (`tcp`/`ssl`), no host, or
    /// credentials that are not UTF-8 (the URL and why).
    #[error("invalid broker URL {0}")]
    Url(String),
    /// The broker URL is not a URL.
    #[error("invalid broker URL {url:?}: {source}")]
    UrlSyntax {
        /// The URL as given.
        url: String,
        /// Why it does not parse.
        #[source]
        source: url::ParseError,
    },
    /// No root certificate to trust: none in the CA PEM, none usable, or none found in the
    /// operating system (the reason).
    #[error("TLS configuration: {0}")]
    Tls(String),
    /// A certificate or key given in PEM does not read.
    #[error("TLS configuration: the {what} is not PEM: {source}")]
    Pem {
        /// Which input: `CA certificate`, `client certificate` or `client key`.
        what: String,
        /// Why the PEM does not read.
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// rustls refused the configuration (protocol versions, the client certificate and key).
    #[error("TLS configuration: {0}")]
    Rustls(#[source] rustls::Error),
    /// The first connection failed: refused by the broker (CONNACK), TLS, unreachable, or the
    /// connection task ended.
    #[error("connecting to {broker} failed: {source}")]
    Connect {
        /// The broker, `host:port`.
        broker: String,
        /// Why the connection failed (rumqttc's connection error, mostly).
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The broker refused some of the subscriber's topic filters (SUBACK failure).
    #[error("{broker} refused the subscription to {filters:?}")]
    Subscribe {
        /// The broker, `host:port`.
        broker: String,
        /// The filters refused.
        filters: Vec<String>,
    },
    /// The broker did not answer the CONNECT (or the SUBSCRIBE) within the connect timeout.
    #[error("connecting to {broker} took longer than {after:?}")]
    Timeout {
        /// The broker, `host:port`.
        broker: String,
        /// The connect timeout ([`MqttConfig::with_connect_timeout`]).
        after: Duration,
    },
}

/// The task driving a connection; aborted when dropped.
#[derive(Debug)]
pub(crate) struct ConnectionTask(Option<JoinHandle<()>>);

impl ConnectionTask {
    pub(crate) fn is_finished(&self) -> bool {
        self.0.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Waits (at most 5 s) for the task to end after a DISCONNECT was requested.
    pub(crate) async fn finish(&mut self) {
        if let Some(task) = self.0.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for ConnectionTask {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

/// What a connection task does with the event loop's events.
pub(crate) trait EventHandler: Send + 'static {
    /// Called with each event; `client` sends requests on the same connection.
    fn on_event(&mut self, event: Event, client: &AsyncClient) -> impl Future<Output = ()> + Send;
    /// Called after the connection failed, before reconnecting (the event loop moved
    /// unacknowledged and unsent requests into its `pending` list).
    fn on_connection_lost(&mut self, event_loop: &EventLoop);
}

/// Starts the connection task and waits for the broker's CONNACK: a first connection that fails
/// (refused, TLS, unreachable) is an error; later failures are retried with backoff.
pub(crate) async fn start<H: EventHandler>(
    config: &MqttConfig,
    manual_acks: bool,
    capacity: usize,
    mut handler: H,
) -> Result<(AsyncClient, ConnectionTask), MqttError> {
    let broker = config.broker();
    let (client, mut event_loop) = AsyncClient::new(config.options(manual_acks)?, capacity);
    event_loop
        .network_options
        .set_connection_timeout(config.connect_timeout.as_secs().max(1));
    let (ready, connected) = oneshot::channel::<Result<(), ConnectionError>>();
    let backoff = config.backoff;
    let task_client = client.clone();
    let task = tokio::spawn(async move {
        let mut ready = Some(ready);
        let mut retry = backoff.retry();
        loop {
            match event_loop.poll().await {
                Ok(event) => {
                    if matches!(event, Event::Incoming(rumqttc::Packet::ConnAck(_))) {
                        retry.succeeded();
                        if let Some(ready) = ready.take() {
                            let _ = ready.send(Ok(()));
                        }
                    }
                    let disconnected =
                        matches!(event, Event::Outgoing(rumqttc::Outgoing::Disconnect));
                    handler.on_event(event, &task_client).await;
                    if disconnected {
                        return;
                    }
                }
                Err(ConnectionError::RequestsDone) => return,
                Err(error) => {
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(Err(error));
                        return;
                    }
                    let delay = retry.failed();
                    tracing::warn!(%error, "MQTT connection lost; reconnecting in {delay:?}");
                    handler.on_connection_lost(&event_loop);
                    tokio::time::sleep(delay).await;
                }
            }
        }
    });
    let outcome = tokio::time::timeout(config.connect_timeout, connected).await;
    let failure = match outcome {
        Ok(Ok(Ok(()))) => return Ok((client, ConnectionTask(Some(task)))),
        Ok(Ok(Err(error))) => MqttError::Connect {
            broker,
            source: Box::new(error),
        },
        Ok(Err(_)) => MqttError::Connect {
            broker,
            source: "the connection task ended".into(),
        },
        Err(_) => MqttError::Timeout {
            broker,
            after: config.connect_timeout,
        },
    };
    task.abort();
    Err(failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_credentials_are_percent_decoded_so_plus_and_ampersand_survive() -> Result<(), MqttError>
    {
        // user "u+1@x", password "p+&%@:y z"
        let config = MqttConfig::from_url(
            "mqtt://u%2B1%40x:p+%26%25%40%3Ay%20z@127.0.0.1:1883",
            "client",
        )?;
        assert_eq!(config.username.as_deref(), Some("u+1@x"));
        assert_eq!(config.password.as_deref(), Some("p+&%@:y z"));
        let raw_plus = MqttConfig::from_url("mqtt://user:a+b&c@127.0.0.1", "client")?;
        assert_eq!(raw_plus.password.as_deref(), Some("a+b&c"));
        assert!(MqttConfig::from_url("mqtt://user:%FF@127.0.0.1", "client").is_err());
        Ok(())
    }
}
