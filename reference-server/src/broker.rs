//! The embedded MQTT broker (rumqttd): what lets `reference-server` announce changes with
//! nothing else installed. It speaks plain MQTT 3.1.1 on a loopback address only; clients
//! from elsewhere come through the mutual-TLS listener (`mqtt_tls`).
//!
//! rumqttd itself listens on an internal loopback port that takes two logins only, both made
//! of random passwords generated at every start (kept in memory, never logged or written):
//!
//! - the **publisher's**, valid only with the server's client id (`[mqtt] client-id`): the
//!   server's own publisher connects to the internal port directly;
//! - the **fronts'**, valid with any other client id: the fronts ([`crate::mqtt_front`], on
//!   `[mqtt] listen` and behind the TLS listener) replace every client's login with it, after
//!   checking what rumqttd cannot (it has no topic ACLs): that only the server publishes under
//!   its topic roots and uses its client id.
//!
//! So a local process that connects to the internal port directly is refused (rumqttd closes
//! the connection without a CONNACK), and one that goes through a front is held to its rules.

use std::collections::HashMap;
use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};
use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};
use subtle::ConstantTimeEq;

/// Why the embedded broker did not start.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error(
        "the embedded MQTT broker listens without TLS or passwords, so only on a loopback address, not {0}"
    )]
    NotLoopback(SocketAddr),
    #[error("the embedded MQTT broker cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
    /// Its thread could not be started.
    #[error("the embedded MQTT broker did not start: {0}")]
    Start(#[source] std::io::Error),
    #[error("the embedded MQTT broker did not start: it does not listen on {0} after 5 s")]
    NotListening(SocketAddr),
    #[error("no random bytes for the embedded MQTT broker's passwords")]
    Random,
}

/// The largest message the broker takes; event payloads are gzip-compressed, so this is far
/// more than any submodel needs.
pub const MAX_PAYLOAD: usize = 16 << 20;

/// The embedded broker, started: rumqttd listens on an internal loopback port that only our
/// fronts and the publisher connect to, and `front` is the bound listener clients use.
/// rumqttd retries a failed accept in a tight loop and has no connection cap, so clients never
/// reach it directly: the fronts ([`crate::mqtt_front`] and the TLS listener) cap connections
/// and back off on accept errors.
#[derive(Debug)]
pub struct EmbeddedBroker {
    pub front: TcpListener,
    pub internal: SocketAddr,
    /// The publisher's login: taken only with the server's client id.
    pub publisher: Credential,
    /// The fronts' login: taken with any client id but the server's.
    pub fronts: Credential,
}

/// A username and a random password for the internal listener. The password is never
/// printed (`Debug` redacts it); the listener keeps only its SHA-256.
#[derive(Clone)]
pub struct Credential {
    username: String,
    password: String,
    digest: [u8; 32],
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

fn sha256(text: &str) -> [u8; 32] {
    let mut out = [0; 32];
    out.copy_from_slice(digest(&SHA256, text.as_bytes()).as_ref());
    out
}

impl Credential {
    /// `username` with 256 random bits as password (hex).
    fn random(username: &str, random: &SystemRandom) -> Result<Self, BrokerError> {
        let mut bytes = [0u8; 32];
        random.fill(&mut bytes).map_err(|_| BrokerError::Random)?;
        let password = hex::encode(bytes);
        Ok(Self {
            username: username.to_owned(),
            digest: sha256(&password),
            password,
        })
    }

    pub fn username(&self) -> &str {
        &self.username
    }

    pub fn password(&self) -> &str {
        &self.password
    }

    /// Whether a login is this one. The passwords' digests are compared, not the passwords,
    /// and in constant time (`subtle`): how long it takes tells nothing about the password.
    fn accepts(&self, username: &str, password: &str) -> bool {
        username == self.username && bool::from(sha256(password).ct_eq(&self.digest))
    }
}

/// The internal listener's rule: the publisher's login only with the server's client id, the
/// fronts' only with another. The fronts refuse the server's client id themselves (with a
/// CONNACK saying so); this holds even if one of them did not.
fn authorized(
    publisher: &Credential,
    fronts: &Credential,
    server_client_id: &str,
    client_id: &str,
    username: &str,
    password: &str,
) -> bool {
    if publisher.accepts(username, password) {
        client_id == server_client_id
    } else if fronts.accepts(username, password) {
        client_id != server_client_id
    } else {
        false
    }
}

/// Binds `listen` and starts the broker on its own threads (rumqttd runs its own runtimes)
/// on an internal port, with new credentials for the publisher (who connects as
/// `server_client_id`) and for the fronts; returns once it accepts connections there.
pub fn start(listen: SocketAddr, server_client_id: &str) -> Result<EmbeddedBroker, BrokerError> {
    if !listen.ip().is_loopback() {
        return Err(BrokerError::NotLoopback(listen));
    }
    let listen_error = |address, source| BrokerError::Listen { address, source };
    let front = TcpListener::bind(listen).map_err(|source| listen_error(listen, source))?;
    front
        .set_nonblocking(true)
        .map_err(|source| listen_error(listen, source))?;
    // rumqttd only logs a failed bind: so learn a free port first, and check below that it
    // was taken.
    let internal = TcpListener::bind((listen.ip(), 0))
        .and_then(|probe| probe.local_addr())
        .map_err(|source| listen_error(listen, source))?;
    let random = SystemRandom::new();
    let publisher = Credential::random("aas-reference-server/publisher", &random)?;
    let fronts = Credential::random("aas-reference-server/front", &random)?;
    let config = config(internal, &publisher, &fronts, server_client_id);
    std::thread::Builder::new()
        .name("mqtt-broker".into())
        .spawn(move || {
            let mut broker = Broker::new(config);
            if let Err(error) = broker.start() {
                tracing::error!(%error, "embedded MQTT broker stopped");
            }
        })
        .map_err(BrokerError::Start)?;
    // Started once the port is taken (a test connection would make rumqttd log an error).
    for _ in 0..250 {
        if TcpListener::bind(internal).is_err() {
            // Not a secret (it takes the server's credentials only); tests and operators
            // learn from it where a client that bypasses the fronts would go.
            tracing::info!(
                "embedded MQTT broker: internal listener on {internal}, for the server's own \
                 credentials only"
            );
            return Ok(EmbeddedBroker {
                front,
                internal,
                publisher,
                fronts,
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(BrokerError::NotListening(internal))
}

fn config(
    listen: SocketAddr,
    publisher: &Credential,
    fronts: &Credential,
    server_client_id: &str,
) -> Config {
    let mut connections = ConnectionSettings {
        connection_timeout_ms: 10_000,
        max_payload_size: MAX_PAYLOAD,
        max_inflight_count: 500,
        // Not rumqttd's static map: it shows in the settings' `Debug` (passwords in clear),
        // and cannot bind a login to client ids.
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    let (publisher, fronts) = (publisher.clone(), fronts.clone());
    let server_client_id = server_client_id.to_owned();
    connections.set_auth_handler(move |client_id, username, password| {
        std::future::ready(authorized(
            &publisher,
            &fronts,
            &server_client_id,
            &client_id,
            &username,
            &password,
        ))
    });
    let server = ServerSettings {
        name: "plain".into(),
        listen,
        tls: None,
        next_connection_delay_ms: 0,
        connections,
    };
    Config {
        id: 0,
        router: RouterConfig {
            max_connections: 10_000,
            max_outgoing_packet_count: 200,
            // A segment holds whole messages: it must be larger than the largest payload.
            max_segment_size: 4 * MAX_PAYLOAD,
            max_segment_count: 10,
            ..RouterConfig::default()
        },
        v4: Some(HashMap::from([("plain".to_owned(), server)])),
        ..Config::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_internal_listener_takes_each_login_only_with_its_client_ids() -> Result<(), BrokerError>
    {
        let random = SystemRandom::new();
        let publisher = Credential::random("publisher", &random)?;
        let fronts = Credential::random("front", &random)?;
        let server = "aas-reference-server";
        let allowed = |client_id: &str, username: &str, password: &str| {
            authorized(&publisher, &fronts, server, client_id, username, password)
        };
        assert!(allowed(server, "publisher", publisher.password()));
        assert!(!allowed("other", "publisher", publisher.password()));
        assert!(allowed("other", "front", fronts.password()));
        assert!(!allowed(server, "front", fronts.password()));
        // Each password only with its own username; no login, no guess.
        assert!(!allowed("other", "front", publisher.password()));
        assert!(!allowed(server, "publisher", fronts.password()));
        assert!(!allowed("other", "", ""));
        assert!(!allowed("other", "front", "guess"));
        assert_ne!(publisher.password(), fronts.password());
        assert_eq!(publisher.password().len(), 64);
        assert!(!format!("{publisher:?}").contains(publisher.password()));
        Ok(())
    }
}
