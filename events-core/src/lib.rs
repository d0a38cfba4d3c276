//! Change events of AAS shells and submodels: MQTT topics, the twinsphere envelope (gzip
//! JSON), CloudEvents 1.0, and de-duplication on the consumer side.
//!
//! ```
//! use aas_model::{AssetAdministrationShell, AssetInformation, AssetKind};
//! use events_core::{ChangeEvent, Deduplicator, EventClock, EventKind, TopicScheme, envelope};
//!
//! let mut info = AssetInformation::new(AssetKind::Instance);
//! info.global_asset_id = Some("urn:asset:1".into());
//! let shell = AssetAdministrationShell::new("urn:aas:1", info);
//! let event = ChangeEvent::Shell { kind: EventKind::Updated, timestamp: EventClock::new().next_timestamp(), shell: Box::new(shell) };
//!
//! // Publish: the topic names kind and element, the envelope carries the shell.
//! let scheme = TopicScheme::twinsphere();
//! let (element, id) = event.element();
//! let topic = scheme.topic(element, id, event.kind());
//! assert_eq!(topic, "twinsphere/shells/dXJuOmFhczox/updated");
//! let message = envelope::encode(&event);
//!
//! // Receive: parse the topic, decode (at most 16 MiB expanded), drop duplicates.
//! let received = envelope::decode(&scheme.parse(&topic)?, &message, 16 << 20)?;
//! assert_eq!(received, event);
//! let mut seen = Deduplicator::new(10_000);
//! assert!(seen.accept(element, id, received.timestamp()));
//! assert!(!seen.accept(element, id, received.timestamp()), "a redelivery is dropped");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Over MQTT (feature `mqtt`, on by default), [`Encoding`] makes the message and
//! [`mqtt::MqttSink`] publishes it with QoS 1, returning after the broker's PUBACK;
//! [`mqtt::MqttSubscriber`] receives, decodes and drops duplicates (see [`mqtt`]). A program
//! that embeds a broker without topic ACLs (rumqttd) puts [`mqtt::front`] before it to keep
//! its client id and topic roots for itself: MQTT 3.1.1 CONNECTs checked and re-encoded with
//! the program's login, PUBLISHes under the roots refused by closing the connection.
//!
//! A program that keeps a transactional outbox of messages implements [`outbox::Outbox`] over
//! its storage and runs [`outbox::drain`] (feature `outbox`, on by default): batches, retries,
//! back-off, dead letters, and outages told apart from messages the broker refuses.
//!
//! [`SemanticIdFilter`] says which submodels announce their changes, by semantic id.
//!
//! Duplicates are recognised by element and time. A CloudEvent may leave out `time`: such an
//! event has no timestamp (`None`, not 1970) and is never dropped as a duplicate or a late
//! arrival, nor makes later events of its element look late.
//!
//! # Dependencies
//!
//! - `aas-model`, `aas-serde`: the elements and their JSON; `aas-serde`'s feature
//!   `value-only` for `aas_serde::query`, whose base64url ids the topics use, so an id is
//!   encoded and decoded by one function in paths and topics alike.
//! - `base64`: the decoding error an [`IdLevelError`] carries.
//! - `flate2`: gzip of envelopes (and optionally CloudEvents).
//! - `crc32fast`: the gzip checksum of a message framed around an element compressed ahead
//!   of its event (combined from the parts' checksums, not recomputed; see
//!   [`Encoding::prepare`]).
//! - `serde`, `serde_json`: the envelope wrapper, CloudEvents' JSON format.
//! - `cloudevents-sdk`: CloudEvents 1.0 attributes and structured JSON.
//! - `chrono`, `uuid`: event times and ids (the types cloudevents-sdk uses).
//! - `thiserror`: typed errors.
//! - `regex`: the `$regex=` patterns of [`SemanticIdFilter`] (which submodels announce
//!   changes); linear-time matching, so no configured pattern makes a change slow.
//! - `async-trait`: the object-safe async [`EventSink`] trait (a `dyn EventSink` in servers).
//! - `tracing`: reconnection warnings.
//!
//! The waits of the reconnect and retry loops are one small type of our own, [`Backoff`]
//! (a doubling and a minimum, with [`Retry`] counting failures), shared with the reference
//! server, rather than `backon` or `backoff`: those bring sleep and future adapters the loops,
//! which keep their own sleeps, logging and reset rules, do not use.
//! - feature `mqtt`: `rumqttc` (MQTT 3.1.1 client: QoS 1, sessions, TLS through rustls),
//!   `tokio` (its runtime: tasks, channels, timers), `rustls` with the `ring` provider (the
//!   client certificate and CA configuration; ring builds without cmake, unlike aws-lc-rs),
//!   `rustls-native-certs` (system roots for `mqtts://` URLs), `url` (broker URLs),
//!   `percent-encoding` (the credentials in a broker URL); for [`mqtt::front`], rumqttc's
//!   MQTT 3.1.1 packet codec (`mqttbytes`: CONNECT, CONNACK), `bytes` (the buffers that codec
//!   reads and writes) and tokio's `io-util` and `net` (streams relayed, the TCP connection
//!   to the broker); all three are in the build through rumqttc already.
//! - feature `outbox`: `tokio` (timers: publish timeouts, back-off waits) and `futures-util`
//!   (`join_all`: a batch is published concurrently, started in order, and its outcomes
//!   collected in order; tokio has no join of borrowed futures).

#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

pub mod backoff;
pub mod cloud_event;
pub mod dedup;
pub mod envelope;
pub mod filter;
mod gzip;
pub mod message;
#[cfg(feature = "mqtt")]
pub mod mqtt;
#[cfg(feature = "outbox")]
pub mod outbox;
pub mod sink;
pub mod topic;

pub use backoff::{Backoff, Retry};
pub use cloud_event::{
    AAS_VERSION_EXTENSION, CloudChange, CloudEventCodec, CloudEventError, Element,
    PreparedCloudEvent,
};
pub use dedup::{Deduplicator, EventClock};
pub use envelope::{
    ChangeEvent, Envelope, EnvelopeError, EventReference, PreparedEnvelope, SerializedElement,
    SerializedEvent,
};
pub use filter::{FilterError, SemanticIdFilter};
pub use message::{DecodeError, Encoding, EventMessage, PreparedMessage, ReceivedEvent};
pub use sink::{EventSink, MemorySink, SinkError};
pub use topic::{ElementType, EventKind, IdLevelError, Topic, TopicError, TopicScheme};
