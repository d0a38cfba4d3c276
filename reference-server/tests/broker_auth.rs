//! Who may do what on the embedded broker (issue 19): only the server publishes under its topic
//! roots and uses its client id; rumqttd's internal port takes the server's own credentials
//! only; subscribing, and publishing elsewhere, stay open on the loopback front.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use rumqttc::mqttbytes::{QoS, v4};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod support;

use support::{Collector, DataDir, Failure, Launch, Server, TestResult, b64};

/// The server's client id by default (`[mqtt] client-id`).
const SERVER_CLIENT_ID: &str = "aas-reference-server";

/// A client id no other test (or earlier run) used: the collector subscribes only without a
/// session.
fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{name}-{}-{nanos}", std::process::id())
}

fn encoded(packet: v4::Packet) -> Result<Vec<u8>, Failure> {
    let mut bytes = BytesMut::new();
    packet.write(&mut bytes, 1 << 20)?;
    Ok(bytes.to_vec())
}

fn publish(topic: &str, payload: &[u8]) -> Result<Vec<u8>, Failure> {
    let mut publish = v4::Publish::new(topic, QoS::AtLeastOnce, payload.to_vec());
    publish.pkid = 1;
    encoded(v4::Packet::Publish(publish))
}

/// What the broker answered a CONNECT.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Accepted,
    /// A CONNACK with this return code.
    Refused(u8),
    /// The connection closed without a CONNACK.
    Closed,
}

/// A raw MQTT 3.1.1 client: its CONNECT, with an optional login and will topic, and the answer.
async fn connect(
    address: SocketAddr,
    client_id: &str,
    login: Option<(&str, &str)>,
    will_topic: Option<&str>,
) -> Result<(TcpStream, Answer), Failure> {
    let mut stream = TcpStream::connect(address).await?;
    let mut connect = v4::Connect::new(client_id);
    connect.keep_alive = 30;
    connect.login = login.map(|(username, password)| v4::Login::new(username, password));
    connect.last_will =
        will_topic.map(|topic| v4::LastWill::new(topic, "gone", QoS::AtLeastOnce, false));
    stream
        .write_all(&encoded(v4::Packet::Connect(connect))?)
        .await?;
    let mut connack = [0u8; 4];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut connack))
        .await
        .map_err(|_| format!("neither CONNACK nor close from {address} within 5 s"))?;
    let answer = match read {
        Ok(_) if connack[..3] == [0x20, 2, 0] && connack[3] == 0 => Answer::Accepted,
        Ok(_) if connack[..3] == [0x20, 2, 0] => Answer::Refused(connack[3]),
        Ok(_) => return Err(format!("not a CONNACK: {connack:?}").into()),
        Err(_) => Answer::Closed,
    };
    Ok((stream, answer))
}

fn front(server: &Server) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], server.mqtt_port))
}

/// What arrives until the other side closes; an error if it is still open after 5 s.
async fn until_closed(stream: &mut TcpStream) -> Result<Vec<u8>, Failure> {
    let mut received = Vec::new();
    let reading = async {
        let mut buffer = [0u8; 256];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), reading)
        .await
        .map_err(|_| "the connection is still open after 5 s")?;
    Ok(received)
}

/// The internal listener's address, from the server's log.
fn internal_address(server: &Server) -> Result<SocketAddr, Failure> {
    let log = server.log_text();
    let marker = "internal listener on ";
    let start = log
        .find(marker)
        .ok_or_else(|| format!("the log does not say where the internal listener is: {log}"))?
        + marker.len();
    let address = log[start..]
        .split(|c: char| c == ',' || c.is_whitespace())
        .next()
        .unwrap_or_default();
    Ok(address.parse()?)
}

/// Creates a shell; the topic of its `created` event.
async fn create_shell(server: &Server, id: &str) -> Result<String, Failure> {
    let shell = json!({"id": id, "modelType": "AssetAdministrationShell",
        "assetInformation": {"assetKind": "Instance", "globalAssetId": format!("{id}/asset")}});
    let response = reqwest::Client::new()
        .post(server.url("/shells"))
        .header("content-type", "application/json")
        .body(shell.to_string())
        .send()
        .await?;
    assert_eq!(
        response.status().as_u16(),
        201,
        "{}",
        response.text().await?
    );
    Ok(format!("twinsphere/shells/{}/created", b64(id)))
}

/// Waits (10 s at most) for a message on `topic`; all messages received until then.
async fn until_topic(collector: &mut Collector, topic: &str) -> Vec<(String, Vec<u8>)> {
    collector
        .until(Duration::from_secs(10), |messages| {
            messages.iter().any(|(t, _)| t == topic)
        })
        .await
}

#[tokio::test]
async fn a_publish_under_a_server_root_through_the_front_is_cut_off_and_reaches_no_subscriber()
-> TestResult {
    let data = DataDir::new("broker-auth-forged");
    let server = Server::launch(&data, &Launch::default())?;
    let mut watcher =
        Collector::subscribe(server.mqtt_port, &unique("watcher"), "twinsphere/#").await?;
    let (mut forger, answer) = connect(front(&server), &unique("forger"), None, None).await?;
    assert_eq!(answer, Answer::Accepted);
    let forged = format!("twinsphere/shells/{}/deleted", b64("urn:aas:auth:1"));
    forger.write_all(&publish(&forged, b"forged")?).await?;
    let answered = until_closed(&mut forger).await?;
    assert!(
        answered.is_empty(),
        "the front closed the connection without a PUBACK: {answered:?}"
    );

    // The server's own events still arrive, and the forged one never did.
    let created = create_shell(&server, "urn:aas:auth:1").await?;
    let mut messages = until_topic(&mut watcher, &created).await;
    messages.extend(watcher.until(Duration::from_millis(500), |_| false).await);
    assert!(
        messages.iter().any(|(topic, _)| *topic == created),
        "the server's event did not arrive: {messages:?}"
    );
    assert!(
        messages
            .iter()
            .all(|(topic, payload)| *topic != forged && payload != b"forged"),
        "the forged message was delivered: {messages:?}"
    );
    assert!(
        server
            .log_text()
            .contains("under one of the server's topic roots"),
        "the server did not say why it closed the connection: {}",
        server.log_text()
    );
    Ok(())
}

#[tokio::test]
async fn a_client_with_the_servers_client_id_is_refused_and_the_server_keeps_publishing()
-> TestResult {
    let data = DataDir::new("broker-auth-client-id");
    let server = Server::launch(&data, &Launch::default())?;
    let mut watcher =
        Collector::subscribe(server.mqtt_port, &unique("watcher"), "twinsphere/#").await?;
    // The publisher is connected: its first event arrived.
    let first = create_shell(&server, "urn:aas:auth:first").await?;
    let messages = until_topic(&mut watcher, &first).await;
    assert!(messages.iter().any(|(t, _)| *t == first), "{messages:?}");

    // 0x02: "identifier rejected", with or without a login.
    for login in [None, Some(("aas-reference-server/publisher", "guess"))] {
        let (mut intruder, answer) = connect(front(&server), SERVER_CLIENT_ID, login, None).await?;
        assert_eq!(answer, Answer::Refused(2));
        until_closed(&mut intruder).await?;
    }

    // The publisher was not cut off: the next event arrives as promptly.
    let second = create_shell(&server, "urn:aas:auth:second").await?;
    let messages = until_topic(&mut watcher, &second).await;
    assert!(
        messages.iter().any(|(t, _)| *t == second),
        "no event after the refused takeover: {messages:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_will_under_a_server_root_is_refused_as_not_authorized() -> TestResult {
    let data = DataDir::new("broker-auth-will");
    let server = Server::launch(&data, &Launch::hold_events())?;
    let will = format!("twinsphere/shells/{}/deleted", b64("urn:aas:auth:will"));
    let (_, answer) = connect(front(&server), &unique("willing"), None, Some(&will)).await?;
    assert_eq!(answer, Answer::Refused(5));
    // A will elsewhere is the client's own business.
    let (_, answer) = connect(
        front(&server),
        &unique("willing"),
        None,
        Some("line-3/status"),
    )
    .await?;
    assert_eq!(answer, Answer::Accepted);
    Ok(())
}

#[tokio::test]
async fn the_internal_port_refuses_clients_without_the_servers_credentials() -> TestResult {
    let data = DataDir::new("broker-auth-internal");
    let server = Server::launch(&data, &Launch::hold_events())?;
    let internal = internal_address(&server)?;
    assert_ne!(internal.port(), server.mqtt_port);
    let attempts = [
        ("direct", None),
        ("direct", Some(("aas-reference-server/front", "guess"))),
        (
            SERVER_CLIENT_ID,
            Some(("aas-reference-server/publisher", "guess")),
        ),
    ];
    for (client_id, login) in attempts {
        let (_, answer) = connect(internal, &unique(client_id), login, None).await?;
        assert!(
            matches!(answer, Answer::Closed | Answer::Refused(_)),
            "{client_id} with {login:?} on the internal port: {answer:?}"
        );
    }
    // The same CONNECT through the front is accepted.
    let (_, answer) = connect(front(&server), &unique("direct"), None, None).await?;
    assert_eq!(answer, Answer::Accepted);
    Ok(())
}

#[tokio::test]
async fn subscribing_through_the_plain_front_receives_the_servers_events() -> TestResult {
    let data = DataDir::new("broker-auth-subscribe");
    let server = Server::launch(&data, &Launch::default())?;
    let mut watcher =
        Collector::subscribe(server.mqtt_port, &unique("watcher"), "twinsphere/#").await?;
    let created = create_shell(&server, "urn:aas:auth:subscribed").await?;
    let messages = until_topic(&mut watcher, &created).await;
    let (_, payload) = messages
        .iter()
        .find(|(t, _)| *t == created)
        .ok_or_else(|| format!("no event on {created}: {messages:?}"))?;
    let decoded = events_core::Encoding::twinsphere().decode(&created, payload, 1 << 24);
    assert!(decoded.is_ok(), "{decoded:?}");
    Ok(())
}

#[tokio::test]
async fn a_publish_outside_the_servers_roots_reaches_subscribers() -> TestResult {
    let data = DataDir::new("broker-auth-elsewhere");
    let server = Server::launch(&data, &Launch::hold_events())?;
    let mut watcher = Collector::subscribe(server.mqtt_port, &unique("watcher"), "#").await?;
    let (mut client, answer) = connect(front(&server), &unique("line-3"), None, None).await?;
    assert_eq!(answer, Answer::Accepted);
    // A look-alike of a root is not under it.
    for topic in ["factory/line-3/temperature", "twinsphere-archive/x"] {
        client.write_all(&publish(topic, b"21.5")?).await?;
        let mut puback = [0u8; 4];
        tokio::time::timeout(Duration::from_secs(5), client.read_exact(&mut puback)).await??;
        assert_eq!(puback, [0x40, 2, 0, 1], "no PUBACK for {topic}");
        let messages = until_topic(&mut watcher, topic).await;
        assert!(
            messages
                .iter()
                .any(|(t, payload)| t == topic && payload == b"21.5"),
            "{topic} did not arrive: {messages:?}"
        );
    }
    Ok(())
}
