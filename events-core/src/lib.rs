#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// Where a feature is off, the README's links to its items go to docs.rs (built with every
// feature) rather than nowhere. (The empty line ends the README's last paragraph: a link
// definition cannot interrupt one.)
#![cfg_attr(
    not(feature = "mqtt"),
    doc = "",
    doc = "[`MqttSink`]: https://docs.rs/events-core/latest/events_core/struct.MqttSink.html",
    doc = "[`MqttSubscriber`]: https://docs.rs/events-core/latest/events_core/struct.MqttSubscriber.html",
    doc = "[`MqttConfig`]: https://docs.rs/events-core/latest/events_core/struct.MqttConfig.html",
    doc = "[`mqtt_front`]: https://docs.rs/events-core/latest/events_core/mqtt_front/index.html"
)]
#![cfg_attr(
    not(feature = "outbox"),
    doc = "",
    doc = "[`Outbox`]: https://docs.rs/events-core/latest/events_core/trait.Outbox.html",
    doc = "[`drain_outbox`]: https://docs.rs/events-core/latest/events_core/fn.drain_outbox.html"
)]
#![cfg_attr(
    not(feature = "cloudevents"),
    doc = "",
    doc = "[`CloudEventCodec`]: https://docs.rs/events-core/latest/events_core/struct.CloudEventCodec.html"
)]

mod backoff;
#[cfg(feature = "cloudevents")]
mod cloud_event;
mod dedup;
pub mod envelope;
mod event;
mod filter;
mod gzip;
mod message;
#[cfg(feature = "mqtt")]
mod mqtt;
#[cfg(feature = "mqtt")]
#[cfg_attr(docsrs, doc(cfg(feature = "mqtt")))]
pub mod mqtt_front;
#[cfg(feature = "outbox")]
mod outbox;
mod sink;
mod topic;

pub use backoff::{Backoff, Retry};
#[cfg(feature = "cloudevents")]
#[cfg_attr(docsrs, doc(cfg(feature = "cloudevents")))]
pub use cloud_event::{
    AAS_VERSION_EXTENSION, CLOUD_EVENT_DATA_SCHEMA_PREFIX, CLOUD_EVENT_TYPE_PREFIX, CloudChange,
    CloudEventCodec, Element, PreparedCloudEvent,
};
pub use dedup::{Deduplicator, EventClock};
pub use event::{ChangeEvent, EventReference, SerializedElement, SerializedEvent};
pub use filter::{FilterError, SemanticIdFilter};
pub use message::{
    CloudEventError, DecodeError, Encoding, EventMessage, PreparedMessage, ReceivedEvent,
};
#[cfg(feature = "mqtt")]
#[cfg_attr(docsrs, doc(cfg(feature = "mqtt")))]
pub use mqtt::{
    MqttConfig, MqttError, MqttSink, MqttSubscriber, MqttTls, ReceiveError, Subscription,
};
#[cfg(feature = "outbox")]
#[cfg_attr(docsrs, doc(cfg(feature = "outbox")))]
pub use outbox::{Delivery, Outbox, OutboxEntry, drain_outbox};
pub use sink::{EventSink, MemorySink, SinkError};
pub use topic::{ElementType, EventKind, IdLevelError, Topic, TopicError, TopicScheme};
