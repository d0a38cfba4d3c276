//! Events as MQTT messages: a topic and the bytes to publish, for either contract
//! (the twinsphere envelope or CloudEvents), and back.

use chrono::{DateTime, Utc};

use crate::cloud_event::{CloudChange, CloudEventCodec, CloudEventError, PreparedCloudEvent};
use crate::envelope::{
    self, ChangeEvent, EnvelopeError, EventReference, PreparedEnvelope, SerializedElement,
    SerializedEvent,
};
use crate::topic::{ElementType, EventKind, TopicError, TopicScheme};

/// One message to publish: the topic and the encoded event. Store it as is (an outbox) and
/// publish it again after a failure: a redelivery carries the same timestamp, so subscribers
/// drop it as a duplicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMessage {
    pub topic: String,
    pub payload: Vec<u8>,
}

/// Which contract events are published and read in.
#[derive(Debug, Clone)]
pub enum Encoding {
    /// The twinsphere envelope (gzip JSON, the element as a JSON string) under
    /// `<root>/{shells|submodels}/<id>/<kind>`.
    Envelope(TopicScheme),
    /// CloudEvents 1.0 structured JSON, topics as the envelope's under their own root.
    CloudEvents {
        topics: TopicScheme,
        codec: CloudEventCodec,
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
    CloudEvent(PreparedCloudEvent<'a>),
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
            PreparedBody::CloudEvent(cloud_event) => cloud_event.finish(kind, timestamp)?,
        };
        Ok(EventMessage { topic, payload })
    }
}

/// An event as a subscriber receives it.
#[derive(Debug, Clone, PartialEq)]
pub enum ReceivedEvent {
    Envelope(ChangeEvent),
    /// A reference-only envelope: the event was too large to publish complete; read the
    /// element through the REST API.
    Reference(EventReference),
    /// A CloudEvent; a reference-only one has no element (as on `deleted`).
    CloudEvent(CloudChange),
}

impl ReceivedEvent {
    /// What happened.
    pub fn kind(&self) -> EventKind {
        match self {
            ReceivedEvent::Envelope(event) => event.kind(),
            ReceivedEvent::Reference(reference) => reference.kind,
            ReceivedEvent::CloudEvent(change) => change.kind,
        }
    }

    /// When it happened (what duplicates are recognised by); `None` for a CloudEvent without
    /// the optional `time`, which [`crate::Deduplicator`] then never drops.
    pub fn timestamp(&self) -> Option<DateTime<Utc>> {
        match self {
            ReceivedEvent::Envelope(event) => Some(event.timestamp()),
            ReceivedEvent::Reference(reference) => Some(reference.timestamp),
            ReceivedEvent::CloudEvent(change) => change.timestamp,
        }
    }

    /// The element type and identifier the event is about.
    pub fn element(&self) -> (ElementType, &str) {
        match self {
            ReceivedEvent::Envelope(event) => event.element(),
            ReceivedEvent::Reference(reference) => (reference.element, &reference.id),
            ReceivedEvent::CloudEvent(change) => (change.element_type, &change.id),
        }
    }
}

/// Why a received message is not an event of the expected contract.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("topic {topic:?}: {source}")]
    Topic { topic: String, source: TopicError },
    #[error("topic {topic:?}: {source}")]
    Envelope {
        topic: String,
        source: EnvelopeError,
    },
    #[error("topic {topic:?}: {source}")]
    CloudEvent {
        topic: String,
        source: CloudEventError,
    },
    #[error("topic {topic:?} names {expected}, but the CloudEvent is about {found}")]
    TopicMismatch {
        topic: String,
        expected: String,
        found: String,
    },
}

impl Encoding {
    /// The twinsphere envelope under `twinsphere/...`.
    pub fn twinsphere() -> Self {
        Encoding::Envelope(TopicScheme::twinsphere())
    }

    /// CloudEvents under `aas-events/...`, sources under `base_url` (plain JSON, no gzip).
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
        match self {
            Encoding::Envelope(topics) => Encoding::Envelope(topics),
            Encoding::CloudEvents { topics, codec } => Encoding::CloudEvents {
                topics,
                codec: codec.with_aas_version(version),
            },
        }
    }

    /// The topics of this contract.
    pub fn topics(&self) -> &TopicScheme {
        match self {
            Encoding::Envelope(topics) | Encoding::CloudEvents { topics, .. } => topics,
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
    /// `referenceonly: true` (see [`CloudEventCodec::encode_reference`]).
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
                Encoding::CloudEvents { codec, .. } => {
                    PreparedBody::CloudEvent(codec.prepare(element))
                }
            },
        }
    }

    /// Reads a received message; the payload may expand to at most `max_size` bytes.
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
