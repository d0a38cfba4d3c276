//! Events as MQTT messages: a topic and the bytes to publish, for either contract
//! (the twinsphere envelope or CloudEvents), and back.

use chrono::{DateTime, Utc};

#[cfg(feature = "cloudevents")]
use crate::cloud_event::{CloudChange, CloudEventCodec, PreparedCloudEvent};
use crate::envelope::{self, EnvelopeError, PreparedEnvelope};
use crate::event::{ChangeEvent, EventReference, SerializedElement, SerializedEvent};
use crate::topic::{ElementType, EventKind, TopicError, TopicScheme};

/// One message to publish: the topic and the encoded event. Store it as is (an outbox) and
/// publish it again after a failure: a redelivery carries the same timestamp, so subscribers
/// drop it as a duplicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMessage {
    /// The MQTT topic, `<root>/<shells|submodels>/<base64url id>/<kind>`.
    pub topic: String,
    /// The encoded event: a gzip envelope, or a CloudEvent's JSON (gzip if the codec
    /// compresses).
    pub payload: Vec<u8>,
}

/// Which contract events are published and read in.
///
/// Without the feature `cloudevents` only [`Encoding::Envelope`] exists; the enum is
/// `#[non_exhaustive]` so that matches stay valid whichever features are on.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Encoding {
    /// The twinsphere envelope (gzip JSON, the element as a JSON string) under
    /// `<root>/{shells|submodels}/<id>/<kind>`.
    Envelope(TopicScheme),
    /// CloudEvents 1.0 structured JSON, topics as the envelope's under their own root.
    #[cfg(feature = "cloudevents")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cloudevents")))]
    CloudEvents {
        /// The topics the events are published under (by default root `aas-events`).
        topics: TopicScheme,
        /// How the CloudEvents are written: `source` URLs, AAS version, compression.
        codec: CloudEventCodec,
    },
}

/// Why a message could not be built, or a CloudEvent not read (`CloudEventCodec::decode`).
///
/// The envelope encoder never fails; only CloudEvents (`Encoding::CloudEvents`, feature
/// `cloudevents`) return these errors. The type exists without the feature too, so that the
/// signatures of [`Encoding::encode`] and [`PreparedMessage::finish`] do not change with it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CloudEventError {
    /// The CloudEvents SDK refused the attributes, or they did not serialize as a JSON object.
    #[error("building the CloudEvent failed: {0}")]
    Build(String),
    /// The message expands to more bytes than the caller allowed (a gzip bomb stops here).
    #[error("the message expands to more than {max} bytes")]
    TooLarge {
        /// The limit the caller gave, in bytes of expanded JSON.
        max: u64,
    },
    /// The message starts as gzip but is not a valid gzip stream.
    #[error("the message is not gzip data: {0}")]
    NotGzip(std::io::Error),
    /// The message is not a CloudEvent in JSON (structured mode), or could not be written.
    #[error("the message is not a CloudEvent in JSON: {0}")]
    Json(serde_json::Error),
    /// The `type` is not one of the AAS change events (the type as received).
    #[error("type {0:?} is not io.admin-shell.events.v1.created, .updated or .deleted")]
    Type(String),
    /// The `source` is not the URL of a shell or submodel with a base64url id (the source as
    /// received).
    #[error("source {0:?} is not <base URL>/shells/<id> or <base URL>/submodels/<id>")]
    Source(String),
    /// The `data` is not the AAS JSON of the element type `source` names.
    #[error("data is not AAS JSON of a {element}: {message}")]
    Data {
        /// The element type `source` names: `shell` or `submodel`.
        element: &'static str,
        /// Why the AAS JSON did not read.
        message: String,
    },
}

/// The messages of one element's events, prepared ([`Encoding::prepare`]).
#[derive(Debug, Clone)]
pub struct PreparedMessage<'a> {
    topics: &'a TopicScheme,
    element: SerializedElement,
    body: PreparedBody<'a>,
}

#[derive(Debug, Clone)]
enum PreparedBody<'a> {
    Envelope(PreparedEnvelope),
    #[cfg(feature = "cloudevents")]
    CloudEvent(PreparedCloudEvent<'a>),
    /// Holds the lifetime when no variant borrows.
    #[cfg(not(feature = "cloudevents"))]
    #[allow(dead_code)]
    Never(std::convert::Infallible, std::marker::PhantomData<&'a ()>),
}

impl PreparedMessage<'_> {
    /// The element the messages are about.
    pub fn element(&self) -> &SerializedElement {
        &self.element
    }

    /// The message of the event `kind` at `timestamp`; `affected_shell_ids` counts for
    /// submodels only.
    pub fn finish(
        &self,
        kind: EventKind,
        timestamp: DateTime<Utc>,
        affected_shell_ids: &[String],
    ) -> Result<EventMessage, CloudEventError> {
        let topic = self
            .topics
            .topic(self.element.element, &self.element.id, kind);
        let payload = match &self.body {
            PreparedBody::Envelope(envelope) => envelope.finish(timestamp, affected_shell_ids),
            #[cfg(feature = "cloudevents")]
            PreparedBody::CloudEvent(cloud_event) => cloud_event.finish(kind, timestamp)?,
            #[cfg(not(feature = "cloudevents"))]
            PreparedBody::Never(never, _) => match *never {},
        };
        Ok(EventMessage { topic, payload })
    }
}

/// An event as a subscriber receives it ([`Encoding::decode`]).
///
/// `#[non_exhaustive]`: `ReceivedEvent::CloudEvent` exists with the feature `cloudevents`
/// only.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ReceivedEvent {
    /// A complete twinsphere envelope: the event with its element.
    Envelope(ChangeEvent),
    /// A reference-only envelope: the event was too large to publish complete; read the
    /// element through the REST API.
    Reference(EventReference),
    /// A CloudEvent; a reference-only one has no element (as on `deleted`).
    #[cfg(feature = "cloudevents")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cloudevents")))]
    CloudEvent(CloudChange),
}

impl ReceivedEvent {
    /// What happened.
    pub fn kind(&self) -> EventKind {
        match self {
            ReceivedEvent::Envelope(event) => event.kind(),
            ReceivedEvent::Reference(reference) => reference.kind,
            #[cfg(feature = "cloudevents")]
            ReceivedEvent::CloudEvent(change) => change.kind,
        }
    }

    /// When it happened (what duplicates are recognised by); `None` for a CloudEvent without
    /// the optional `time`, which [`crate::Deduplicator`] then never drops.
    pub fn timestamp(&self) -> Option<DateTime<Utc>> {
        match self {
            ReceivedEvent::Envelope(event) => Some(event.timestamp()),
            ReceivedEvent::Reference(reference) => Some(reference.timestamp),
            #[cfg(feature = "cloudevents")]
            ReceivedEvent::CloudEvent(change) => change.timestamp,
        }
    }

    /// The element type and identifier the event is about.
    pub fn element(&self) -> (ElementType, &str) {
        match self {
            ReceivedEvent::Envelope(event) => event.element(),
            ReceivedEvent::Reference(reference) => (reference.element, &reference.id),
            #[cfg(feature = "cloudevents")]
            ReceivedEvent::CloudEvent(change) => (change.element_type, &change.id),
        }
    }
}

/// Why a received message is not an event of the expected contract.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The topic is not one of the encoding's topics.
    #[error("topic {topic:?}: {source}")]
    Topic {
        /// The topic as received.
        topic: String,
        /// Why it does not parse.
        source: TopicError,
    },
    /// The payload is not a valid twinsphere envelope of the element the topic names.
    #[error("topic {topic:?}: {source}")]
    Envelope {
        /// The topic as received.
        topic: String,
        /// Why the envelope does not decode.
        source: EnvelopeError,
    },
    /// The payload is not a valid AAS CloudEvent.
    #[cfg(feature = "cloudevents")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cloudevents")))]
    #[error("topic {topic:?}: {source}")]
    CloudEvent {
        /// The topic as received.
        topic: String,
        /// Why the CloudEvent does not read.
        source: CloudEventError,
    },
    /// The CloudEvent's `source` and `type` name another element or kind than its topic.
    #[cfg(feature = "cloudevents")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cloudevents")))]
    #[error("topic {topic:?} names {expected}, but the CloudEvent is about {found}")]
    TopicMismatch {
        /// The topic as received.
        topic: String,
        /// The collection, id and kind the topic names.
        expected: String,
        /// The collection, id and kind of the CloudEvent's `source` and `type`.
        found: String,
    },
}

impl Encoding {
    /// The twinsphere envelope under `twinsphere/...`.
    pub fn twinsphere() -> Self {
        Encoding::Envelope(TopicScheme::twinsphere())
    }

    /// CloudEvents under `aas-events/...`, sources under `base_url` (plain JSON, no gzip).
    #[cfg(feature = "cloudevents")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cloudevents")))]
    pub fn cloud_events(base_url: impl Into<String>) -> Self {
        Encoding::CloudEvents {
            topics: TopicScheme::cloud_events(),
            codec: CloudEventCodec::new(base_url),
        }
    }

    /// The AAS version of the elements this encoding carries (default: the newest). The
    /// twinsphere envelope's JSON is the same in every version (the version only decides
    /// which values are valid), so only CloudEvents show it, as the extension `aasversion`.
    pub fn with_aas_version(self, version: aas_model::Version) -> Self {
        #[cfg(not(feature = "cloudevents"))]
        let _ = version;
        match self {
            Encoding::Envelope(topics) => Encoding::Envelope(topics),
            #[cfg(feature = "cloudevents")]
            Encoding::CloudEvents { topics, codec } => Encoding::CloudEvents {
                topics,
                codec: codec.with_aas_version(version),
            },
        }
    }

    /// The topics of this contract.
    pub fn topics(&self) -> &TopicScheme {
        match self {
            Encoding::Envelope(topics) => topics,
            #[cfg(feature = "cloudevents")]
            Encoding::CloudEvents { topics, .. } => topics,
        }
    }

    /// The topic roots a publisher of `encodings` publishes under, sorted, each once: those of
    /// the encodings, and the default roots of both encodings, since events stored under an
    /// encoding used before (an outbox kept over a restart) are still published, and a broker
    /// that lets only the publisher publish there keeps forged events from consumers of either.
    pub fn publishing_roots(encodings: &[Encoding]) -> Vec<String> {
        let mut roots: Vec<String> = encodings
            .iter()
            .map(|encoding| encoding.topics().root())
            .chain([
                TopicScheme::twinsphere().root(),
                TopicScheme::cloud_events().root(),
            ])
            .map(str::to_owned)
            .collect();
        roots.sort();
        roots.dedup();
        roots
    }

    /// The message of an event. Serializes the element: with its JSON at hand, use
    /// [`Encoding::encode_serialized`].
    pub fn encode(&self, event: &ChangeEvent) -> Result<EventMessage, CloudEventError> {
        self.encode_serialized(&event.serialized())
    }

    /// The message of an event whose element is serialized already (its JSON is used as it
    /// is: a server that serialized the element to store it serializes it once per change).
    pub fn encode_serialized(
        &self,
        event: &SerializedEvent,
    ) -> Result<EventMessage, CloudEventError> {
        self.prepare(&event.element)
            .finish(event.kind, event.timestamp, &event.affected_shell_ids)
    }

    /// The reference-only message of an event, for when its complete message is too large for
    /// the transport: the same topic; the twinsphere envelope without `payload` (see
    /// [`envelope::encode_reference`]), or the CloudEvent without `data` and with the extension
    /// `referenceonly: true` (see `CloudEventCodec::encode_reference`).
    pub fn encode_reference(&self, event: &ChangeEvent) -> Result<EventMessage, CloudEventError> {
        self.encode_reference_serialized(&event.serialized())
    }

    /// [`Encoding::encode_reference`] of an event whose element is serialized already.
    pub fn encode_reference_serialized(
        &self,
        event: &SerializedEvent,
    ) -> Result<EventMessage, CloudEventError> {
        let element = &event.element;
        let topic = self
            .topics()
            .topic(element.element, &element.id, event.kind);
        let payload = match self {
            Encoding::Envelope(_) => envelope::encode_reference(&event.reference()),
            #[cfg(feature = "cloudevents")]
            Encoding::CloudEvents { codec, .. } => codec.encode_reference_serialized(event)?,
        };
        Ok(EventMessage { topic, payload })
    }

    /// The messages of `element`'s events with the costly part (compression, the escaping
    /// of the element's JSON) done: [`PreparedMessage::finish`] adds the timestamp and the
    /// affected shells, which a server knows only while it commits the change, at a cost
    /// that does not grow with the element.
    pub fn prepare(&self, element: &SerializedElement) -> PreparedMessage<'_> {
        PreparedMessage {
            topics: self.topics(),
            element: element.clone(),
            body: match self {
                Encoding::Envelope(_) => PreparedBody::Envelope(envelope::prepare(element)),
                #[cfg(feature = "cloudevents")]
                Encoding::CloudEvents { codec, .. } => {
                    PreparedBody::CloudEvent(codec.prepare(element))
                }
            },
        }
    }

    /// Reads a message received on `topic`; the payload may expand to at most `max_size`
    /// bytes (a gzip bomb is an error, not an allocation).
    ///
    /// # Errors
    ///
    /// [`DecodeError`] when the topic is not one of this encoding's, or the payload is not a
    /// valid message of the element and kind the topic names.
    pub fn decode(
        &self,
        topic: &str,
        payload: &[u8],
        max_size: u64,
    ) -> Result<ReceivedEvent, DecodeError> {
        let parsed = self
            .topics()
            .parse(topic)
            .map_err(|source| DecodeError::Topic {
                topic: topic.to_owned(),
                source,
            })?;
        match self {
            Encoding::Envelope(_) => envelope::decode_any(&parsed, payload, max_size)
                .map(|envelope| match envelope {
                    envelope::Envelope::Complete(event) => ReceivedEvent::Envelope(event),
                    envelope::Envelope::Reference(reference) => ReceivedEvent::Reference(reference),
                })
                .map_err(|source| DecodeError::Envelope {
                    topic: topic.to_owned(),
                    source,
                }),
            #[cfg(feature = "cloudevents")]
            Encoding::CloudEvents { codec, .. } => {
                let change =
                    codec
                        .decode(payload, max_size)
                        .map_err(|source| DecodeError::CloudEvent {
                            topic: topic.to_owned(),
                            source,
                        })?;
                if (change.element_type, change.id.as_str(), change.kind)
                    != (parsed.element, parsed.id.as_str(), parsed.kind)
                {
                    return Err(DecodeError::TopicMismatch {
                        topic: topic.to_owned(),
                        expected: format!(
                            "{} {:?} {}",
                            parsed.element.collection(),
                            parsed.id,
                            parsed.kind
                        ),
                        found: format!(
                            "{} {:?} {}",
                            change.element_type.collection(),
                            change.id,
                            change.kind
                        ),
                    });
                }
                Ok(ReceivedEvent::CloudEvent(change))
            }
        }
    }
}

#[cfg(test)]
mod roots_tests {
    use super::*;

    #[test]
    fn the_publishing_roots_are_those_of_every_encoding_configured_or_not() {
        assert_eq!(
            Encoding::publishing_roots(&[]),
            ["aas-events", "twinsphere"]
        );
        assert_eq!(
            Encoding::publishing_roots(&[Encoding::twinsphere()]),
            ["aas-events", "twinsphere"]
        );
        let own = Encoding::Envelope(TopicScheme::new("plant"));
        assert_eq!(
            Encoding::publishing_roots(&[own]),
            ["aas-events", "plant", "twinsphere"]
        );
    }
}
