//! An MQTT-aware front for an embedded broker that has no topic ACLs (rumqttd): every client's
//! bytes pass here before they reach the broker, so that a program can keep some topic roots
//! and its own client id for itself. The rules ([`FrontRules`]):
//!
//! - **CONNECT** comes first, within [`CONNECT_TIMEOUT`], at most [`MAX_CONNECT`] bytes, MQTT
//!   3.1.1 (the only version rumqttd's listener speaks): 5.0 is answered "unsupported protocol
//!   version" (0x84, a 5.0 CONNACK), other levels 0x01.
//! - The **reserved client id** (the program's own) is refused with CONNACK 0x02 "identifier
//!   rejected": a client taking it would take the program's session over and cut it off.
//! - A **will** whose topic is under one of the topic roots is refused with CONNACK 0x05 "not
//!   authorized": the broker would publish it in the program's name.
//! - The CONNECT is re-encoded with the **front's login** in place of the client's, so the
//!   broker can take only logins that the program holds. The client's own password is not
//!   checked here.
//! - Then the client's packets are read one by one: a **PUBLISH** whose topic is under one of
//!   the roots **closes the connection** before any byte of it reaches the broker (MQTT 3.1.1
//!   has no other answer to a refused PUBLISH). So does a second CONNECT, a malformed fixed
//!   header, a packet larger than the broker takes (`max_packet`), or no complete packet
//!   within 1.5 times the CONNECT's keep-alive (MQTT 3.1.1, 3.1.2.10). Everything else, and
//!   every byte from the broker to the client, passes unchanged.
//! - **Subscribing stays open**: whoever may connect may read the program's topics.
//!
//! A topic is under a root when it is the root or starts with the root and `/` (`twinsphere`,
//! `twinsphere/shells/...`; not `twinsphere2/...` or `/twinsphere/...`, which no subscriber of
//! the root's topics receives).
//!
//! Only the fixed header and a PUBLISH's topic are held in memory (at most 64 KiB and a few
//! bytes); payloads stream through, so a connection costs the same whatever it sends.
//!
//! ```no_run
//! use events_core::mqtt_front::{self as front, FrontRules, Login};
//! # async fn run(client: tokio::net::TcpStream) -> Result<(), front::FrontError> {
//! let rules = FrontRules::new(
//!     "my-server",
//!     vec!["twinsphere".into()],
//!     16 << 20,
//!     Login::new("front", "a random password the broker takes"),
//! );
//! let broker = std::net::SocketAddr::from(([127, 0, 0, 1], 1884));
//! rules.serve(client, front::connect_tcp(broker)).await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use rumqttc::mqttbytes::{self, v4};
use tokio::io::{
    AsyncBufRead, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter,
};
use tokio::net::TcpStream;

// rumqttc's MQTT 3.1.1 packet types (mqttbytes v4), re-exported so that callers build and
// read them without depending on rumqttc at the same version.
pub use rumqttc::mqttbytes::v4::{Connect, ConnectReturnCode, Login};

/// How long a client may take to send its CONNECT (as rumqttd's own connect timeout).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest CONNECT read: client id, will, username and password of any real client fit.
pub const MAX_CONNECT: usize = 64 * 1024;
/// How long connecting to the broker may take ([`connect_tcp`]).
pub const BROKER_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The buffers of each direction of a connection.
const BUFFER: usize = 8 << 10;

/// Why a front closed a connection (or refused it).
#[derive(Debug, thiserror::Error)]
pub enum FrontError {
    /// The client sent no complete CONNECT in time.
    #[error("no CONNECT within {0:?}")]
    ConnectTimeout(Duration),
    /// The first packet is of another type.
    #[error("the first packet is not CONNECT (packet type {0})")]
    NotConnect(u8),
    /// The CONNECT announced more than [`MAX_CONNECT`] bytes.
    #[error("a CONNECT of {0} bytes, more than {MAX_CONNECT}")]
    ConnectTooLarge(usize),
    /// Not MQTT 3.1.1; answered with a CONNACK the client's version reads.
    #[error("MQTT protocol level {0} is not supported: the embedded broker speaks 3.1.1 (level 4)")]
    UnsupportedLevel(u8),
    /// The CONNECT does not parse.
    #[error("malformed CONNECT: {0}")]
    MalformedConnect(#[source] mqttbytes::Error),
    /// The client took the reserved client id.
    #[error("refused: client id {0:?} is the server's own")]
    ServerClientId(String),
    /// The will's topic is under a reserved root.
    #[error("refused: the will's topic {0:?} is under one of the server's topic roots")]
    ServerWill(String),
    /// A PUBLISH under a reserved root.
    #[error("closed: PUBLISH to {0:?}, under one of the server's topic roots")]
    ServerTopic(String),
    /// A CONNECT after the first.
    #[error("closed: a second CONNECT")]
    SecondConnect,
    /// A fixed header or PUBLISH topic that MQTT 3.1.1 does not allow.
    #[error("closed: malformed packet ({0})")]
    Malformed(&'static str),
    /// A packet larger than the broker takes.
    #[error("closed: a packet of {0} bytes, more than the broker takes")]
    TooLarge(usize),
    /// The client was silent for 1.5 times its keep-alive.
    #[error("closed: no complete packet within {0:?} (1.5 times the keep-alive)")]
    KeepAlive(Duration),
    /// Connecting to the broker failed ([`connect_tcp`]).
    #[error("the embedded broker at {address} is not reachable: {source}")]
    Broker {
        /// Where the broker was expected.
        address: SocketAddr,
        /// Why the TCP connection failed.
        #[source]
        source: std::io::Error,
    },
    /// Connecting to the broker took too long ([`connect_tcp`]).
    #[error("the embedded broker at {address} is not reachable: no connection within {after:?}")]
    BrokerTimeout {
        /// Where the broker was expected.
        address: SocketAddr,
        /// How long the front waited ([`BROKER_CONNECT_TIMEOUT`]).
        after: Duration,
    },
    /// The re-encoded CONNECT could not be written.
    #[error("cannot encode the CONNECT: {0}")]
    Encode(#[source] mqttbytes::Error),
    /// Reading from or writing to either side failed, or the client closed within a packet.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl FrontError {
    /// The CONNACK that tells the client why it was refused, if the refusal has one.
    fn connack(&self) -> Option<BytesMut> {
        use v4::ConnectReturnCode::{BadClientId, NotAuthorized, RefusedProtocolVersion};
        match self {
            // A 5.0 CONNACK (reason code 0x84, no properties): a 5.0 client reads no other.
            Self::UnsupportedLevel(5) => Some(BytesMut::from(&[0x20, 3, 0, 0x84, 0][..])),
            Self::UnsupportedLevel(_) => Some(connack(RefusedProtocolVersion)),
            Self::ServerClientId(_) => Some(connack(BadClientId)),
            Self::ServerWill(_) => Some(connack(NotAuthorized)),
            _ => None,
        }
    }

    /// Whether a client tried to act as the program: worth a warning, not just a debug line.
    pub fn is_impersonation(&self) -> bool {
        matches!(
            self,
            Self::ServerClientId(_) | Self::ServerWill(_) | Self::ServerTopic(_)
        )
    }
}

/// A 3.1.1 CONNACK refusing with `code`.
pub fn connack(code: ConnectReturnCode) -> BytesMut {
    let mut packet = BytesMut::with_capacity(4);
    // Writing four bytes into a growable buffer cannot fail.
    let _ = v4::ConnAck::new(code, false).write(&mut packet);
    packet
}

/// Sends the CONNACK of `error`, if it has one, and closes; bounded, as the client may not read.
pub async fn refuse<S: AsyncWrite + Unpin>(client: &mut S, error: &FrontError) {
    if let Some(answer) = error.connack() {
        send_and_close(client, &answer).await;
    }
}

/// Writes `packet` and shuts the stream down, within a second.
pub async fn send_and_close<S: AsyncWrite + Unpin>(client: &mut S, packet: &[u8]) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        client.write_all(packet).await?;
        client.shutdown().await
    })
    .await;
}

/// Connects to a broker listening on TCP at `address`, within [`BROKER_CONNECT_TIMEOUT`];
/// the `upstream` of [`FrontRules::relay`].
pub async fn connect_tcp(address: SocketAddr) -> Result<TcpStream, FrontError> {
    let upstream = tokio::time::timeout(BROKER_CONNECT_TIMEOUT, TcpStream::connect(address))
        .await
        .map_err(|_| FrontError::BrokerTimeout {
            address,
            after: BROKER_CONNECT_TIMEOUT,
        })?
        .map_err(|source| FrontError::Broker { address, source })?;
    let _ = upstream.set_nodelay(true);
    Ok(upstream)
}

/// How an admitted connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The client closed it between packets.
    Client,
    /// The broker closed it (a DISCONNECT, its keep-alive, a takeover of the client id).
    Broker,
    /// The caller's `stop` resolved.
    Stopped,
}

/// What a front holds clients to, and the login it connects them to the broker with; shared by
/// every connection.
pub struct FrontRules {
    reserved_client_id: String,
    topic_roots: Vec<String>,
    max_packet: usize,
    login: Login,
}

impl fmt::Debug for FrontRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrontRules")
            .field("reserved_client_id", &self.reserved_client_id)
            .field("topic_roots", &self.topic_roots)
            .field("max_packet", &self.max_packet)
            .field("login", &self.login.username)
            .finish_non_exhaustive()
    }
}

impl FrontRules {
    /// Refuses `reserved_client_id` and publishing (or wills) under `topic_roots`, closes on
    /// packets whose remaining length exceeds `max_packet` (the broker's limit), and replaces
    /// every client's login with `login`. `Debug` shows the login's username only.
    pub fn new(
        reserved_client_id: impl Into<String>,
        topic_roots: Vec<String>,
        max_packet: usize,
        login: Login,
    ) -> Self {
        Self {
            reserved_client_id: reserved_client_id.into(),
            topic_roots,
            max_packet,
            login,
        }
    }

    /// Whether `topic` is reserved: one of the roots, or below one.
    fn is_reserved_topic(&self, topic: &[u8]) -> bool {
        (self.topic_roots.iter()).any(|root| is_at_or_below(root, topic))
    }

    /// The checks of a CONNECT that no client may pass: the reserved client id, a will under
    /// a reserved root. A caller with checks of its own (a TLS listener's usernames) makes
    /// them between [`read_connect`] and this.
    pub fn check(&self, connect: &Connect) -> Result<(), FrontError> {
        if connect.client_id == self.reserved_client_id {
            return Err(FrontError::ServerClientId(connect.client_id.clone()));
        }
        if let Some(will) = &connect.last_will
            && self.is_reserved_topic(will.topic.as_bytes())
        {
            return Err(FrontError::ServerWill(will.topic.clone()));
        }
        Ok(())
    }

    /// `connect` as the broker gets it: with the front's login in place of the client's.
    fn rewrite(&self, mut connect: Connect) -> Result<BytesMut, FrontError> {
        connect.login = Some(self.login.clone());
        let mut packet = BytesMut::with_capacity(connect.size());
        connect.write(&mut packet).map_err(FrontError::Encode)?;
        Ok(packet)
    }

    /// Serves a client: its CONNECT, checked (refused with its CONNACK), then
    /// [`FrontRules::relay`] to what `upstream` connects to, until either side closes.
    pub async fn serve<C, U>(
        &self,
        mut client: C,
        upstream: impl Future<Output = Result<U, FrontError>>,
    ) -> Result<Ended, FrontError>
    where
        C: AsyncRead + AsyncWrite + Unpin,
        U: AsyncRead + AsyncWrite + Unpin,
    {
        let connect = match read_connect(&mut client)
            .await
            .and_then(|connect| self.check(&connect).map(|()| connect))
        {
            Ok(connect) => connect,
            Err(error) => {
                refuse(&mut client, &error).await;
                return Err(error);
            }
        };
        self.relay(client, connect, upstream, std::future::pending())
            .await
    }

    /// Forwards an admitted client to the broker: awaits `upstream` (once the CONNECT is
    /// re-encoded, so a CONNECT that cannot be costs the broker no connection), sends it the
    /// CONNECT with the front's login, then the client's packets as long as they keep the
    /// rules, and the broker's bytes back unchanged, until either side closes, a rule is broken
    /// or `stop` resolves.
    pub async fn relay<C, U>(
        &self,
        client: C,
        connect: Connect,
        upstream: impl Future<Output = Result<U, FrontError>>,
        stop: impl Future<Output = ()>,
    ) -> Result<Ended, FrontError>
    where
        C: AsyncRead + AsyncWrite + Unpin,
        U: AsyncRead + AsyncWrite + Unpin,
    {
        let window = keep_alive_window(connect.keep_alive);
        let packet = self.rewrite(connect)?;
        let mut upstream = upstream.await?;
        upstream.write_all(&packet).await?;
        let (client_read, mut client_write) = tokio::io::split(client);
        let (mut broker_read, broker_write) = tokio::io::split(upstream);
        // Either side closing ends both, so a silent client cannot hold its slot once the
        // broker let go of it (rumqttd's keep-alive), nor the broker a client that left.
        tokio::select! {
            outcome = self.client_to_broker(client_read, broker_write, window) => {
                outcome.map(|()| Ended::Client)
            }
            _ = tokio::io::copy(&mut broker_read, &mut client_write) => Ok(Ended::Broker),
            () = stop => Ok(Ended::Stopped),
        }
    }

    /// Forwards the client's packets until it closes between two of them, or breaks a rule.
    async fn client_to_broker<R, W>(
        &self,
        client: R,
        broker: W,
        window: Duration,
    ) -> Result<(), FrontError>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let mut client = BufReader::with_capacity(BUFFER, client);
        let mut broker = BufWriter::with_capacity(BUFFER, broker);
        loop {
            let forwarded =
                tokio::time::timeout(window, self.forward_packet(&mut client, &mut broker))
                    .await
                    .map_err(|_| FrontError::KeepAlive(window))??;
            // Each packet goes out whole at once: the next may be long in coming.
            broker.flush().await?;
            if !forwarded {
                return Ok(());
            }
        }
    }

    /// Forwards one packet; `false` when the client closed before its first byte.
    async fn forward_packet<R, W>(&self, client: &mut R, broker: &mut W) -> Result<bool, FrontError>
    where
        R: AsyncBufRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let first = match client.read_u8().await {
            Ok(byte) => byte,
            Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(false),
            Err(error) => return Err(error.into()),
        };
        let header = FixedHeader::read(client, first).await?;
        // rumqttd compares its limit with the remaining length, too.
        if header.remaining > self.max_packet {
            return Err(FrontError::TooLarge(header.remaining));
        }
        let mut body = header.remaining;
        match first >> 4 {
            1 => return Err(FrontError::SecondConnect),
            // PUBLISH: the variable header starts with the topic (MQTT 3.1.1, 3.3.2.1), the
            // only part read before forwarding; the payload streams through.
            3 => {
                let length = usize::from(client.read_u16().await?);
                body = body
                    .checked_sub(2 + length)
                    .ok_or(FrontError::Malformed("the topic is longer than the packet"))?;
                let mut topic = vec![0; length];
                client.read_exact(&mut topic).await?;
                if self.is_reserved_topic(&topic) {
                    return Err(FrontError::ServerTopic(
                        String::from_utf8_lossy(&topic).into_owned(),
                    ));
                }
                broker.write_all(header.bytes()).await?;
                // `length` came from two bytes: it fits them again.
                broker
                    .write_all(&[(length >> 8) as u8, length as u8])
                    .await?;
                broker.write_all(&topic).await?;
            }
            _ => broker.write_all(header.bytes()).await?,
        }
        let expected = body as u64;
        let copied = tokio::io::copy_buf(&mut client.take(expected), broker).await?;
        if copied < expected {
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
        }
        Ok(true)
    }
}

/// Whether `topic` (as MQTT carries it, bytes) is `root` or a topic below it (`root/...`), not
/// merely one starting with the same characters (`rootless/...`).
fn is_at_or_below(root: &str, topic: &[u8]) -> bool {
    topic
        .strip_prefix(root.as_bytes())
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(b"/"))
}

/// 1.5 times the keep-alive (MQTT 3.1.1, 3.1.2.10). rumqttd refuses a keep-alive of 0, so that
/// connection is over as soon as rumqttd answers; the connect timeout is bound enough.
fn keep_alive_window(keep_alive: u16) -> Duration {
    if keep_alive == 0 {
        CONNECT_TIMEOUT
    } else {
        Duration::from_millis(u64::from(keep_alive) * 1500)
    }
}

/// A fixed header: the first byte and the remaining length (one to four bytes, 7 bits each,
/// least significant first: MQTT 3.1.1, 2.2.3), as read. By hand rather than with mqttbytes,
/// whose `check` frames only complete packets: here the header must be known before the
/// packet is (so that payloads can stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FixedHeader {
    raw: [u8; 5],
    len: usize,
    remaining: usize,
}

impl FixedHeader {
    async fn read<R: AsyncRead + Unpin>(client: &mut R, first: u8) -> Result<Self, FrontError> {
        let mut header = Self {
            raw: [first, 0, 0, 0, 0],
            len: 1,
            remaining: 0,
        };
        for shift in [0, 7, 14, 21] {
            let byte = client.read_u8().await?;
            header.raw[header.len] = byte;
            header.len += 1;
            header.remaining |= usize::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(header);
            }
        }
        Err(FrontError::Malformed(
            "a remaining length of more than four bytes",
        ))
    }

    fn bytes(&self) -> &[u8] {
        &self.raw[..self.len]
    }
}

/// Reads the client's CONNECT, within [`CONNECT_TIMEOUT`].
pub async fn read_connect<R: AsyncRead + Unpin>(client: &mut R) -> Result<Connect, FrontError> {
    tokio::time::timeout(CONNECT_TIMEOUT, read_connect_untimed(client))
        .await
        .map_err(|_| FrontError::ConnectTimeout(CONNECT_TIMEOUT))?
}

/// Reads exactly the CONNECT, without a buffer: whatever the client sent after it (clients may
/// send SUBSCRIBE without waiting for the CONNACK) stays in the stream for the relay to check.
async fn read_connect_untimed<R: AsyncRead + Unpin>(client: &mut R) -> Result<Connect, FrontError> {
    let first = client.read_u8().await?;
    if first >> 4 != 1 {
        return Err(FrontError::NotConnect(first >> 4));
    }
    let header = FixedHeader::read(client, first).await?;
    if header.remaining > MAX_CONNECT {
        return Err(FrontError::ConnectTooLarge(header.remaining));
    }
    let mut frame = BytesMut::zeroed(header.len + header.remaining);
    frame[..header.len].copy_from_slice(header.bytes());
    client.read_exact(&mut frame[header.len..]).await?;
    parse_connect(frame, header.len)
}

/// A whole CONNECT packet, of which the fixed header takes `header_len` bytes.
fn parse_connect(mut frame: BytesMut, header_len: usize) -> Result<Connect, FrontError> {
    // mqttbytes reads a 5.0 CONNECT as if it were 3.1.1 (its properties as the client id):
    // the protocol level is looked at first. It follows the protocol name, "MQTT" since 3.1.1
    // and "MQIsdp" in 3.1.
    let body = frame.get(header_len..).unwrap_or_default();
    let level = if body.starts_with(b"\x00\x04MQTT") {
        body.get(6).copied()
    } else if body.starts_with(b"\x00\x06MQIsdp") {
        body.get(8).copied()
    } else {
        return Err(FrontError::MalformedConnect(
            mqttbytes::Error::InvalidProtocol,
        ));
    };
    match level {
        Some(4) => {}
        Some(level) => return Err(FrontError::UnsupportedLevel(level)),
        None => {
            return Err(FrontError::MalformedConnect(
                mqttbytes::Error::MalformedPacket,
            ));
        }
    }
    match v4::Packet::read(&mut frame, MAX_CONNECT).map_err(FrontError::MalformedConnect)? {
        v4::Packet::Connect(connect) => Ok(connect),
        _ => Err(FrontError::NotConnect(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The broker's limit in these tests, as the reference server's.
    const MAX_PAYLOAD: usize = 16 << 20;

    fn front() -> FrontRules {
        FrontRules::new(
            "aas-reference-server",
            vec!["twinsphere".into(), "aas-events".into()],
            MAX_PAYLOAD,
            Login::new("front", "secret"),
        )
    }

    fn encoded(packet: v4::Packet) -> Vec<u8> {
        let mut bytes = BytesMut::new();
        let written = packet.write(&mut bytes, 1 << 20);
        assert!(written.is_ok(), "{written:?}");
        bytes.to_vec()
    }

    /// A PUBLISH as a client sends it (packet id 1 with QoS 1 and 2).
    fn publish(topic: &str, qos: mqttbytes::QoS, payload: impl Into<Vec<u8>>) -> Vec<u8> {
        let mut publish = v4::Publish::new(topic, qos, payload);
        if qos != mqttbytes::QoS::AtMostOnce {
            publish.pkid = 1;
        }
        encoded(v4::Packet::Publish(publish))
    }

    fn connect(client_id: &str) -> v4::Connect {
        let mut connect = v4::Connect::new(client_id);
        connect.keep_alive = 30;
        connect
    }

    async fn read(bytes: &[u8]) -> Result<v4::Connect, FrontError> {
        read_connect(&mut &bytes[..]).await
    }

    #[tokio::test]
    async fn a_3_1_1_connect_gives_its_client_id_will_and_login() -> Result<(), FrontError> {
        // By hand: username "alice", password "pw", will "w/t" = "bye" (QoS 1), client "c1".
        let packet = [
            0x10, 35, 0, 4, b'M', b'Q', b'T', b'T', 4, 0xce, 0, 30, 0, 2, b'c', b'1', 0, 3, b'w',
            b'/', b't', 0, 3, b'b', b'y', b'e', 0, 5, b'a', b'l', b'i', b'c', b'e', 0, 2, b'p',
            b'w',
        ];
        let connect = read(&packet).await?;
        assert_eq!(connect.client_id, "c1");
        assert_eq!(connect.keep_alive, 30);
        assert_eq!(
            connect.login,
            Some(v4::Login::new("alice", "pw")),
            "{connect:?}"
        );
        assert_eq!(connect.last_will.map(|w| w.topic), Some("w/t".to_owned()));
        Ok(())
    }

    #[tokio::test]
    async fn other_protocol_levels_are_refused_with_a_connack_the_client_can_read() {
        // 5.0, with an empty property list: a 5.0 CONNACK with "unsupported protocol version".
        let v5 = [
            0x10, 15, 0, 4, b'M', b'Q', b'T', b'T', 5, 0x02, 0, 30, 0, 0, 2, b'c', b'2',
        ];
        let error = read(&v5).await.err();
        assert!(matches!(error, Some(FrontError::UnsupportedLevel(5))));
        let answer = error.and_then(|e| e.connack());
        assert_eq!(answer.as_deref(), Some(&[0x20, 3, 0, 0x84, 0][..]));
        // 3.1 ("MQIsdp", level 3): a 3.1.1 CONNACK 0x01.
        let v3 = [
            0x10, 16, 0, 6, b'M', b'Q', b'I', b's', b'd', b'p', 3, 0x02, 0, 30, 0, 2, b'c', b'3',
        ];
        let error = read(&v3).await.err();
        assert!(matches!(error, Some(FrontError::UnsupportedLevel(3))));
        let answer = error.and_then(|e| e.connack());
        assert_eq!(answer.as_deref(), Some(&[0x20, 2, 0, 1][..]));
    }

    #[tokio::test]
    async fn connects_that_are_not_one_or_too_large_or_cut_short_are_refused() {
        let publish_packet = publish("t", mqttbytes::QoS::AtMostOnce, "x");
        assert!(matches!(
            read(&publish_packet).await,
            Err(FrontError::NotConnect(3))
        ));
        // A remaining length of 64 KiB + 1, announced: refused before it is read.
        let huge = [0x10, 0x81, 0x80, 0x04];
        assert!(matches!(
            read(&huge).await,
            Err(FrontError::ConnectTooLarge(65_537))
        ));
        let whole = encoded(v4::Packet::Connect(connect("c")));
        assert!(matches!(
            read(&whole[..whole.len() - 1]).await,
            Err(FrontError::Io(_))
        ));
        let mut wrong_name = whole.clone();
        wrong_name[4] = b'X';
        assert!(matches!(
            read(&wrong_name).await,
            Err(FrontError::MalformedConnect(_))
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_sends_no_connect_is_dropped_after_the_connect_timeout() {
        let (mut client, _server) = tokio::io::duplex(64);
        let started = tokio::time::Instant::now();
        let outcome = read_connect(&mut client).await;
        assert!(matches!(outcome, Err(FrontError::ConnectTimeout(_))));
        assert_eq!(started.elapsed(), CONNECT_TIMEOUT);
    }

    #[test]
    fn a_topic_is_below_a_root_by_whole_levels_only() {
        assert!(is_at_or_below("twinsphere", b"twinsphere"));
        assert!(is_at_or_below("twinsphere", b"twinsphere/shells/x/created"));
        assert!(!is_at_or_below("twinsphere", b"twinspheres/shells"));
        assert!(!is_at_or_below("twinsphere", b"twin"));
    }

    #[test]
    fn the_servers_client_id_and_a_will_under_its_roots_are_refused_with_their_codes() {
        let front = front();
        assert!(front.check(&connect("line-3")).is_ok());
        let error = front.check(&connect("aas-reference-server")).err();
        assert!(matches!(error, Some(FrontError::ServerClientId(_))));
        assert_eq!(
            error.and_then(|e| e.connack()).as_deref(),
            Some(&[0x20, 2, 0, 2][..])
        );
        let mut willing = connect("line-3");
        willing.last_will = Some(v4::LastWill::new(
            "twinsphere/shells/YQ/deleted",
            "x",
            mqttbytes::QoS::AtLeastOnce,
            false,
        ));
        let error = front.check(&willing).err();
        assert!(matches!(error, Some(FrontError::ServerWill(_))));
        assert_eq!(
            error.and_then(|e| e.connack()).as_deref(),
            Some(&[0x20, 2, 0, 5][..])
        );
        willing.last_will = Some(v4::LastWill::new(
            "line-3/status",
            "offline",
            mqttbytes::QoS::AtLeastOnce,
            true,
        ));
        assert!(front.check(&willing).is_ok());
    }

    #[test]
    fn topics_are_the_servers_at_and_below_a_root_and_look_alikes_are_not() {
        let front = front();
        for topic in [
            "twinsphere",
            "twinsphere/",
            "twinsphere/shells/YQ/created",
            "aas-events/submodels/YQ/updated",
        ] {
            assert!(front.is_reserved_topic(topic.as_bytes()), "{topic}");
        }
        for topic in [
            "twinsphere2/shells",
            "/twinsphere/shells",
            "Twinsphere/shells",
            "factory/twinsphere",
            "aas-event/x",
            "",
        ] {
            assert!(!front.is_reserved_topic(topic.as_bytes()), "{topic}");
        }
    }

    #[tokio::test]
    async fn the_rewritten_connect_carries_the_front_login_and_everything_else_unchanged()
    -> Result<(), FrontError> {
        let mut original = connect("line-3");
        original.clean_session = false;
        original.keep_alive = 45;
        original.last_will = Some(v4::LastWill::new(
            "line-3/status",
            "offline",
            mqttbytes::QoS::AtLeastOnce,
            true,
        ));
        original.login = Some(v4::Login::new("mallory", "anything"));
        let rewritten = front().rewrite(original.clone())?;
        let back = read(&rewritten).await?;
        assert_eq!(back.login, Some(v4::Login::new("front", "secret")));
        assert_eq!(
            v4::Connect {
                login: None,
                ..back
            },
            v4::Connect {
                login: None,
                ..original
            }
        );
        Ok(())
    }

    /// What the broker receives of `sent` (the client then closes), and how forwarding ended.
    async fn forwarded(sent: &[u8]) -> (Vec<u8>, Result<(), FrontError>) {
        let front = front();
        let mut broker = Vec::new();
        let outcome = front
            .client_to_broker(sent, &mut broker, Duration::from_secs(5))
            .await;
        (broker, outcome)
    }

    #[tokio::test]
    async fn packets_pass_unchanged_until_a_publish_under_a_server_root() {
        let allowed = [
            encoded(v4::Packet::Subscribe(v4::Subscribe {
                pkid: 1,
                ..v4::Subscribe::new("twinsphere/#", mqttbytes::QoS::AtLeastOnce)
            })),
            publish(
                "factory/line-3",
                mqttbytes::QoS::AtLeastOnce,
                vec![7; 100_000],
            ),
            publish("twinsphere2/x", mqttbytes::QoS::AtMostOnce, "y"),
            encoded(v4::Packet::PingReq),
        ]
        .concat();
        let forged = publish(
            "twinsphere/shells/YQ/created",
            mqttbytes::QoS::AtLeastOnce,
            "forged",
        );
        let after = encoded(v4::Packet::PingReq);
        let (broker, outcome) = forwarded(&[&allowed[..], &forged, &after].concat()).await;
        assert_eq!(broker, allowed, "what came before passed byte for byte");
        assert!(
            matches!(outcome, Err(FrontError::ServerTopic(ref t)) if t == "twinsphere/shells/YQ/created"),
            "{outcome:?}"
        );
        let (broker, outcome) = forwarded(&allowed).await;
        assert_eq!(broker, allowed);
        assert!(outcome.is_ok(), "{outcome:?}");
    }

    #[tokio::test]
    async fn a_second_connect_an_oversized_or_malformed_packet_closes_the_connection() {
        let ping = encoded(v4::Packet::PingReq);
        let second = encoded(v4::Packet::Connect(connect("c")));
        let (broker, outcome) = forwarded(&[&ping[..], &second].concat()).await;
        assert_eq!(broker, ping);
        assert!(matches!(outcome, Err(FrontError::SecondConnect)));
        // 16 MiB + 1 announced (0x80 0x80 0x80 0x08 is 2^24): nothing of it is forwarded.
        let (broker, outcome) = forwarded(&[0x30, 0x81, 0x80, 0x80, 0x08]).await;
        assert!(broker.is_empty());
        assert!(matches!(outcome, Err(FrontError::TooLarge(n)) if n == MAX_PAYLOAD + 1));
        let (_, outcome) = forwarded(&[0x30, 0xff, 0xff, 0xff, 0xff, 0x01]).await;
        assert!(matches!(outcome, Err(FrontError::Malformed(_))));
        // A topic length beyond the packet.
        let (broker, outcome) = forwarded(&[0x30, 3, 0, 9, b'a']).await;
        assert!(broker.is_empty());
        assert!(matches!(outcome, Err(FrontError::Malformed(_))));
        // Cut short in the payload.
        let payload_cut = publish("factory", mqttbytes::QoS::AtMostOnce, "payload");
        let (_, outcome) = forwarded(&payload_cut[..payload_cut.len() - 2]).await;
        assert!(matches!(outcome, Err(FrontError::Io(_))));
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_silent_for_one_and_a_half_keep_alives_is_closed() {
        let (client, mut sender) = tokio::io::duplex(64);
        let front = front();
        let mut broker = Vec::new();
        let window = keep_alive_window(10);
        assert_eq!(window, Duration::from_secs(15));
        let started = tokio::time::Instant::now();
        let forwarding = front.client_to_broker(client, &mut broker, window);
        let pinging = async {
            // A ping in time keeps it open; half a packet does not count.
            tokio::time::sleep(Duration::from_secs(14)).await;
            let _ = sender.write_all(&[0xc0, 0]).await;
            let _ = sender.write_all(&[0x30]).await;
            std::future::pending::<()>().await
        };
        let outcome = tokio::select! {
            outcome = forwarding => outcome,
            () = pinging => Ok(()),
        };
        assert!(
            matches!(outcome, Err(FrontError::KeepAlive(_))),
            "{outcome:?}"
        );
        assert_eq!(started.elapsed(), Duration::from_secs(29));
        assert_eq!(broker, [0xc0, 0]);
    }
}
