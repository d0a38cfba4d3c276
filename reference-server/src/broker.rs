//! The embedded MQTT broker (rumqttd): what lets `reference-server` announce changes with
//! nothing else installed. It listens in plain MQTT 3.1.1 on a loopback address only; clients
//! from elsewhere come through the mutual-TLS listener (`mqtt_tls`), which forwards to it.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};

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
    #[error("the embedded MQTT broker did not start: {0}")]
    Start(String),
}

/// The largest message the broker takes; event payloads are gzip-compressed, so this is far
/// more than any submodel needs.
pub const MAX_PAYLOAD: usize = 16 << 20;

/// The embedded broker, started: rumqttd listens on an internal loopback port that only our
/// fronts connect to, and `front` is the bound listener clients use. rumqttd retries a failed
/// accept in a tight loop and has no connection cap, so clients never reach it directly: the
/// fronts ([`crate::connections::forward_tcp`] and the TLS listener) cap connections and back
/// off on accept errors.
#[derive(Debug)]
pub struct EmbeddedBroker {
    pub front: TcpListener,
    pub internal: SocketAddr,
}

/// Binds `listen` and starts the broker on its own threads (rumqttd runs its own runtimes)
/// on an internal port; returns once it accepts connections there.
pub fn start(listen: SocketAddr) -> Result<EmbeddedBroker, BrokerError> {
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
    let config = config(internal);
    std::thread::Builder::new()
        .name("mqtt-broker".into())
        .spawn(move || {
            let mut broker = Broker::new(config);
            if let Err(error) = broker.start() {
                tracing::error!(%error, "embedded MQTT broker stopped");
            }
        })
        .map_err(|e| BrokerError::Start(e.to_string()))?;
    // Started once the port is taken (a test connection would make rumqttd log an error).
    for _ in 0..250 {
        if TcpListener::bind(internal).is_err() {
            return Ok(EmbeddedBroker { front, internal });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(BrokerError::Start(format!(
        "it does not listen on {internal} after 5 s"
    )))
}

fn config(listen: SocketAddr) -> Config {
    let connections = ConnectionSettings {
        connection_timeout_ms: 10_000,
        max_payload_size: MAX_PAYLOAD,
        max_inflight_count: 500,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
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
