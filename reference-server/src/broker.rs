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

/// Starts the broker on its own threads (rumqttd runs its own runtimes) and returns once it
/// accepts connections on `listen`.
pub fn start(listen: SocketAddr) -> Result<(), BrokerError> {
    if !listen.ip().is_loopback() {
        return Err(BrokerError::NotLoopback(listen));
    }
    // rumqttd only logs a failed bind, and a connection test could reach another broker on
    // that port: so bind once here to learn that the port is free.
    drop(
        TcpListener::bind(listen).map_err(|source| BrokerError::Listen {
            address: listen,
            source,
        })?,
    );
    let config = config(listen);
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
        if TcpListener::bind(listen).is_err() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(BrokerError::Start(format!(
        "it does not listen on {listen} after 5 s"
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
