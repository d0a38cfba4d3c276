//! The mutual-TLS listener in front of the embedded broker, admitting clients the way
//! twinsphere's broker does: by certificate thumbprint.
//!
//! rumqttd has no hook for custom certificate checks, so TLS ends here, in rustls with our own
//! [`ClientCertVerifier`]: a client certificate is accepted when its SHA-256 or SHA-1
//! thumbprint is on the allow-list (the handshake's signature still proves the client holds
//! its key). The allow-list maps each thumbprint to a username; the CONNECT packet must carry
//! exactly that username (else CONNACK 0x05 "not authorized"). At most [`MAX_SESSIONS`]
//! connections per username (else CONNACK 0x03 "server unavailable"); a new connection with
//! the client id of an open one takes it over. Admitted connections go through the same front
//! as the plain listener ([`crate::mqtt_front`]: not the server's client id, nothing published
//! under its topic roots, MQTT 3.1.1) to the broker's internal port.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use events_core::mqtt_front::{self, ConnectReturnCode, Ended, FrontError};
use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA256, digest};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use serde::Deserialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::mqtt_front::Front;

/// Connections one username may hold at once.
pub const MAX_SESSIONS: usize = 3;

/// `[mqtt.tls]` of the configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TlsListenerConfig {
    pub listen: SocketAddr,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    #[serde(default)]
    pub clients: Vec<AllowedClient>,
}

/// A certificate thumbprint (SHA-256 or SHA-1, hex; `:` and spaces ignored) and its username.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowedClient {
    pub thumbprint: String,
    pub username: String,
}

/// Why the listener did not start.
#[derive(Debug, thiserror::Error)]
pub enum TlsListenerError {
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not PEM: {source}")]
    Pem {
        path: PathBuf,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("thumbprint {0:?} is not 40 (SHA-1) or 64 (SHA-256) hexadecimal digits")]
    Thumbprint(String),
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
}

fn normalized(thumbprint: &str) -> Result<String, TlsListenerError> {
    let hex: String = thumbprint
        .chars()
        .filter(|c| !matches!(c, ':' | ' '))
        .collect::<String>()
        .to_ascii_lowercase();
    if (hex.len() == 40 || hex.len() == 64) && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex)
    } else {
        Err(TlsListenerError::Thumbprint(thumbprint.to_owned()))
    }
}

/// The thumbprints of a certificate: SHA-256 and SHA-1 of its DER, hex.
pub fn thumbprints(certificate: &[u8]) -> [String; 2] {
    [
        hex::encode(digest(&SHA256, certificate)),
        hex::encode(digest(&SHA1_FOR_LEGACY_USE_ONLY, certificate)),
    ]
}

/// Accepts exactly the listed certificates.
#[derive(Debug)]
struct ThumbprintVerifier {
    usernames: HashMap<String, String>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ThumbprintVerifier {
    /// The username of a certificate on the list. A hash-map lookup, not a constant-time
    /// comparison (`subtle`, as for API keys): a thumbprint is the hash of a certificate the
    /// client sends in the clear, no secret; the handshake proves the client holds its key.
    fn username_of(&self, certificate: &[u8]) -> Option<&str> {
        thumbprints(certificate)
            .iter()
            .find_map(|t| self.usernames.get(t))
            .map(String::as_str)
    }
}

impl ClientCertVerifier for ThumbprintVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        match self.username_of(end_entity) {
            Some(_) => Ok(ClientCertVerified::assertion()),
            None => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Open connections by username: client id, connection number, and how to end it.
type Sessions = Arc<Mutex<HashMap<String, Vec<(String, u64, oneshot::Sender<()>)>>>>;

/// Why a TLS connection was refused or ended.
#[derive(Debug, thiserror::Error)]
enum ConnectionError {
    #[error("TLS handshake timed out")]
    HandshakeTimeout,
    #[error("TLS handshake: {0}")]
    Handshake(std::io::Error),
    #[error("no listed client certificate")]
    NoCertificate,
    #[error("CONNECT username {claimed:?} is not {expected:?}, the certificate's")]
    WrongUsername {
        claimed: Option<String>,
        expected: String,
    },
    #[error("{0:?} has {MAX_SESSIONS} sessions open already")]
    Quota(String),
    #[error("taken over by a new connection with the same client id")]
    TakenOver,
    #[error(transparent)]
    Front(#[from] FrontError),
}

/// Binds the listener and serves it in the background, forwarding through `front`; its
/// connections count against `permits`, the embedded broker's connection cap.
pub async fn start(
    config: &TlsListenerConfig,
    front: Arc<Front>,
    permits: Arc<tokio::sync::Semaphore>,
) -> Result<(), TlsListenerError> {
    let read = |path: &PathBuf| {
        std::fs::read(path).map_err(|source| TlsListenerError::File {
            path: path.clone(),
            source,
        })
    };
    let pem_error = |path: &PathBuf, source| TlsListenerError::Pem {
        path: path.clone(),
        source,
    };
    let chain = CertificateDer::pem_slice_iter(&read(&config.cert_file)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(&config.cert_file, e))?;
    let key = PrivateKeyDer::from_pem_slice(&read(&config.key_file)?)
        .map_err(|e| pem_error(&config.key_file, e))?;
    let mut usernames = HashMap::new();
    for client in &config.clients {
        usernames.insert(normalized(&client.thumbprint)?, client.username.clone());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(ThumbprintVerifier {
        usernames,
        algorithms: provider.signature_verification_algorithms,
    });
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier.clone())
        .with_single_cert(chain, key)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener =
        TcpListener::bind(config.listen)
            .await
            .map_err(|source| TlsListenerError::Listen {
                address: config.listen,
                source,
            })?;
    tracing::info!("MQTT over mutual TLS on {}", config.listen);
    let listener = crate::connections::CappedListener::with_permits(listener, permits, "mqtt-tls");
    let sessions: Sessions = Arc::default();
    tokio::spawn(async move {
        let mut number = 0u64;
        loop {
            let (stream, peer, permit) = listener.accept().await;
            number += 1;
            let (acceptor, verifier, sessions, front) = (
                acceptor.clone(),
                verifier.clone(),
                sessions.clone(),
                front.clone(),
            );
            tokio::spawn(async move {
                match serve(stream, acceptor, &verifier, sessions, &front, number).await {
                    Ok(()) => {}
                    // Attempts to act as the server: warned about, at a bounded rate.
                    Err(ConnectionError::Front(error)) if error.is_impersonation() => {
                        front.log_end(peer, "mqtt-tls", &error)
                    }
                    Err(why) => {
                        tracing::info!(%peer, "MQTT TLS connection refused or ended: {why}")
                    }
                }
                drop(permit);
            });
        }
    });
    Ok(())
}

async fn serve(
    stream: TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    verifier: &ThumbprintVerifier,
    sessions: Sessions,
    front: &Front,
    number: u64,
) -> Result<(), ConnectionError> {
    let mut tls = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
        .await
        .map_err(|_| ConnectionError::HandshakeTimeout)?
        .map_err(ConnectionError::Handshake)?;
    let username = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(|certificate| verifier.username_of(certificate))
        .ok_or(ConnectionError::NoCertificate)?
        .to_owned();
    let connect = match mqtt_front::read_connect(&mut tls).await {
        Ok(connect) => connect,
        Err(error) => {
            mqtt_front::refuse(&mut tls, &error).await;
            return Err(error.into());
        }
    };
    let claimed = connect.login.as_ref().map(|login| login.username.as_str());
    if claimed != Some(username.as_str()) {
        let refusal = mqtt_front::connack(ConnectReturnCode::NotAuthorized);
        mqtt_front::send_and_close(&mut tls, &refusal).await;
        return Err(ConnectionError::WrongUsername {
            claimed: claimed.map(str::to_owned),
            expected: username,
        });
    }
    if let Err(error) = front.check(&connect) {
        mqtt_front::refuse(&mut tls, &error).await;
        return Err(error.into());
    }
    let (stop, stopped) = oneshot::channel();
    let admitted = {
        let mut sessions = sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let open = sessions.entry(username.clone()).or_default();
        // A new connection with the same client id takes the old one over.
        if let Some(index) = open.iter().position(|(id, _, _)| *id == connect.client_id) {
            let (_, _, old) = open.remove(index);
            let _ = old.send(());
        }
        let room = open.len() < MAX_SESSIONS;
        if room {
            open.push((connect.client_id.clone(), number, stop));
        }
        room
    };
    if !admitted {
        let refusal = mqtt_front::connack(ConnectReturnCode::ServiceUnavailable);
        mqtt_front::send_and_close(&mut tls, &refusal).await;
        return Err(ConnectionError::Quota(username));
    }
    let taken_over = async {
        // A dropped sender (the session list forgot this one) is no takeover.
        if stopped.await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let outcome = front.relay(tls, connect, taken_over).await;
    let mut sessions = sessions.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(open) = sessions.get_mut(&username) {
        open.retain(|(_, n, _)| *n != number);
    }
    match outcome? {
        Ended::Stopped => Err(ConnectionError::TakenOver),
        Ended::Client | Ended::Broker => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprints_are_normalized_and_checked() {
        assert!(normalized(&"AB:".repeat(20)[..59]).is_ok());
        assert!(normalized("abc").is_err());
        assert_eq!(thumbprints(b"abc")[0].len(), 64);
        assert_eq!(
            thumbprints(b"abc")[1],
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }
}
