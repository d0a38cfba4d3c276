//! The mutual-TLS listener in front of the embedded broker, admitting clients the way
//! twinsphere's broker does: by certificate thumbprint.
//!
//! rumqttd has no hook for custom certificate checks, so TLS ends here, in rustls with our own
//! [`ClientCertVerifier`]: a client certificate is accepted when its SHA-256 or SHA-1
//! thumbprint is on the allow-list (the handshake's signature still proves the client holds
//! its key). The allow-list maps each thumbprint to a username; the CONNECT packet must carry
//! exactly that username. At most [`MAX_SESSIONS`] connections per username; a new connection
//! with the client id of an open one takes it over. Admitted connections are forwarded, CONNECT
//! first, to the broker's plain listener on loopback.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA256, digest};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Connections one username may hold at once.
pub const MAX_SESSIONS: usize = 3;
/// The largest CONNECT packet read before forwarding.
const MAX_CONNECT: usize = 64 * 1024;

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
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The thumbprints of a certificate: SHA-256 and SHA-1 of its DER, hex.
pub fn thumbprints(certificate: &[u8]) -> [String; 2] {
    [
        hex(digest(&SHA256, certificate).as_ref()),
        hex(digest(&SHA1_FOR_LEGACY_USE_ONLY, certificate).as_ref()),
    ]
}

/// Accepts exactly the listed certificates.
#[derive(Debug)]
struct ThumbprintVerifier {
    usernames: HashMap<String, String>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ThumbprintVerifier {
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

/// Binds the listener and serves it in the background, forwarding to `broker`; its connections
/// count against `permits`, the embedded broker's connection cap.
pub async fn start(
    config: &TlsListenerConfig,
    broker: SocketAddr,
    permits: Arc<tokio::sync::Semaphore>,
) -> Result<(), TlsListenerError> {
    let read = |path: &PathBuf| {
        std::fs::read(path).map_err(|e| TlsListenerError::File {
            path: path.clone(),
            message: e.to_string(),
        })
    };
    let pem_error = |path: &PathBuf, e: rustls::pki_types::pem::Error| TlsListenerError::File {
        path: path.clone(),
        message: format!("not PEM: {e}"),
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
            let (acceptor, verifier, sessions) =
                (acceptor.clone(), verifier.clone(), sessions.clone());
            tokio::spawn(async move {
                if let Err(why) = serve(stream, acceptor, &verifier, sessions, broker, number).await
                {
                    tracing::info!(%peer, "MQTT TLS connection refused or ended: {why}");
                }
                drop(permit);
            });
        }
    });
    Ok(())
}

/// What a CONNECT packet says that matters here.
#[derive(Debug)]
struct Connect {
    level: u8,
    client_id: String,
    username: Option<String>,
}

async fn read_connect<R: AsyncRead + Unpin>(stream: &mut R) -> Result<(Vec<u8>, Connect), String> {
    let mut packet = vec![stream.read_u8().await.map_err(|e| e.to_string())?];
    if packet[0] >> 4 != 1 {
        return Err("the first packet is not CONNECT".into());
    }
    let mut length = 0usize;
    for shift in 0..4 {
        let byte = stream.read_u8().await.map_err(|e| e.to_string())?;
        packet.push(byte);
        length |= usize::from(byte & 0x7f) << (7 * shift);
        if byte & 0x80 == 0 {
            break;
        }
        if shift == 3 {
            return Err("malformed remaining length".into());
        }
    }
    if length > MAX_CONNECT {
        return Err(format!("CONNECT of {length} bytes is too large"));
    }
    let start = packet.len();
    packet.resize(start + length, 0);
    stream
        .read_exact(&mut packet[start..])
        .await
        .map_err(|e| e.to_string())?;
    let connect = parse_connect(&packet[start..]).ok_or("malformed CONNECT")?;
    Ok((packet, connect))
}

fn parse_connect(body: &[u8]) -> Option<Connect> {
    let mut at = 0;
    let take = |at: &mut usize, n: usize| -> Option<&[u8]> {
        let slice = body.get(*at..at.checked_add(n)?)?;
        *at += n;
        Some(slice)
    };
    let string = |at: &mut usize| -> Option<Vec<u8>> {
        let len = take(at, 2)?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        take(at, len).map(<[u8]>::to_vec)
    };
    let skip_properties = |at: &mut usize| -> Option<()> {
        let mut length = 0usize;
        for shift in 0..4 {
            let byte = *take(at, 1)?.first()?;
            length |= usize::from(byte & 0x7f) << (7 * shift);
            if byte & 0x80 == 0 {
                break;
            }
        }
        take(at, length).map(drop)
    };
    if string(&mut at)? != b"MQTT" {
        return None;
    }
    let level = *take(&mut at, 1)?.first()?;
    let flags = *take(&mut at, 1)?.first()?;
    take(&mut at, 2)?; // keep alive
    if level == 5 {
        skip_properties(&mut at)?;
    }
    let client_id = String::from_utf8(string(&mut at)?).ok()?;
    if flags & 0x04 != 0 {
        if level == 5 {
            skip_properties(&mut at)?;
        }
        string(&mut at)?; // will topic
        string(&mut at)?; // will payload
    }
    let username = if flags & 0x80 != 0 {
        Some(String::from_utf8(string(&mut at)?).ok()?)
    } else {
        None
    };
    Some(Connect {
        level,
        client_id,
        username,
    })
}

/// A CONNACK refusing the connection: "not authorized" (3.1.1: 5, 5.0: 0x87) or, for too many
/// sessions, "server unavailable" (3) / "quota exceeded" (0x97).
fn refusal(level: u8, quota: bool) -> Vec<u8> {
    match (level, quota) {
        (5, false) => vec![0x20, 3, 0, 0x87, 0],
        (5, true) => vec![0x20, 3, 0, 0x97, 0],
        (_, false) => vec![0x20, 2, 0, 5],
        (_, true) => vec![0x20, 2, 0, 3],
    }
}

async fn serve(
    stream: TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    verifier: &ThumbprintVerifier,
    sessions: Sessions,
    broker: SocketAddr,
    number: u64,
) -> Result<(), String> {
    let mut tls = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
        .await
        .map_err(|_| "TLS handshake timed out".to_owned())?
        .map_err(|e| format!("TLS handshake: {e}"))?;
    let username = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(|certificate| verifier.username_of(certificate))
        .ok_or("no listed client certificate")?
        .to_owned();
    let (packet, connect) = tokio::time::timeout(Duration::from_secs(10), read_connect(&mut tls))
        .await
        .map_err(|_| "no CONNECT within 10 s".to_owned())??;
    if connect.username.as_deref() != Some(username.as_str()) {
        let _ = tls.write_all(&refusal(connect.level, false)).await;
        let _ = tls.shutdown().await;
        return Err(format!(
            "CONNECT username {:?} is not {username:?}, the certificate's",
            connect.username
        ));
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
        let _ = tls.write_all(&refusal(connect.level, true)).await;
        let _ = tls.shutdown().await;
        return Err(format!(
            "{username:?} has {MAX_SESSIONS} sessions open already"
        ));
    }
    let outcome = forward(tls, packet, broker, stopped).await;
    let mut sessions = sessions.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(open) = sessions.get_mut(&username) {
        open.retain(|(_, n, _)| *n != number);
    }
    outcome
}

async fn forward(
    tls: tokio_rustls::server::TlsStream<TcpStream>,
    connect: Vec<u8>,
    broker: SocketAddr,
    stopped: oneshot::Receiver<()>,
) -> Result<(), String> {
    let mut upstream = TcpStream::connect(broker)
        .await
        .map_err(|e| format!("broker {broker}: {e}"))?;
    upstream
        .write_all(&connect)
        .await
        .map_err(|e| e.to_string())?;
    // Either side closing ends both, so a silent client cannot hold its slot once the
    // broker let go of it.
    tokio::select! {
        () = crate::connections::splice_until_either_closes(tls, upstream) => Ok(()),
        _ = stopped => Err("taken over by a new connection with the same client id".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_packets_of_3_1_1_and_5_give_client_id_and_username() {
        // 3.1.1: username flag, client id "c1", username "alice".
        let v4 = [
            0, 4, b'M', b'Q', b'T', b'T', 4, 0x82, 0, 30, 0, 2, b'c', b'1', 0, 5, b'a', b'l', b'i',
            b'c', b'e',
        ];
        let connect = parse_connect(&v4);
        assert!(
            matches!(connect, Some(Connect { level: 4, ref client_id, username: Some(ref u) }) if client_id == "c1" && u == "alice")
        );
        // 5.0 with an empty property list, will flag and will properties.
        let v5 = [
            0, 4, b'M', b'Q', b'T', b'T', 5, 0x86, 0, 30, 0, 0, 2, b'c', b'2', 0, 0, 1, b't', 0, 1,
            b'x', 0, 3, b'b', b'o', b'b',
        ];
        let connect = parse_connect(&v5);
        assert!(
            matches!(connect, Some(Connect { level: 5, ref client_id, username: Some(ref u) }) if client_id == "c2" && u == "bob")
        );
        assert!(parse_connect(&v4[..10]).is_none());
        assert!(parse_connect(b"\0\x04MQTX").is_none());
    }

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
