//! The twinsphere envelope: gzip-compressed JSON `{version, timestamp, payload,
//! affectedShellIds}` whose `payload` is the AAS JSON of the shell or submodel as a string.
//!
//! A publisher whose complete envelope is too large for its transport sends a
//! **reference-only** envelope instead ([`encode_reference`]): the same gzip JSON, with
//! `referenceOnly: true`, the element's `id` and the `kind`, and no `payload`:
//!
//! ```json
//! {"version": "1.0", "timestamp": "2026-01-02T03:04:05.123456Z", "referenceOnly": true,
//!  "id": "urn:sm:1", "kind": "updated", "affectedShellIds": ["urn:aas:1"]}
//! ```
//!
//! (`affectedShellIds` on submodel events only.) The consumer reads the element through the
//! REST API (or the publisher's event feed). [`decode_any`] reads both shapes.
//!
//! The kind of change and the element's id travel in the topic
//! ([`TopicScheme`](crate::TopicScheme)), so decoding takes the parsed topic. This module is
//! part of the API by design: its functions read as what they encode
//! (`envelope::encode`, `envelope::decode`), the way `serde_json::from_slice` does.
//! [`Encoding::Envelope`](crate::Encoding::Envelope) does the same with the topic included.
//!
//! ```
//! use aas_model::Submodel;
//! use events_core::{ChangeEvent, EventClock, EventKind, TopicScheme, envelope};
//!
//! let event = ChangeEvent::Submodel {
//!     kind: EventKind::Created,
//!     timestamp: EventClock::new().next_timestamp(),
//!     submodel: Box::new(Submodel::new("urn:sm:1")),
//!     affected_shell_ids: vec!["urn:aas:1".into()],
//! };
//! let scheme = TopicScheme::twinsphere();
//! let topic = scheme.topic(event.element().0, event.element().1, event.kind());
//! let message = envelope::encode(&event);
//! assert_eq!(message[..2], [0x1f, 0x8b], "gzip");
//! assert_eq!(envelope::decode(&scheme.parse(&topic)?, &message, 1 << 20)?, event);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Read;

use aas_model::{AssetAdministrationShell, Submodel};
use chrono::{DateTime, SecondsFormat, Utc};
use flate2::read::GzDecoder;
use serde::{Deserialize, Serialize};

use crate::event::{ChangeEvent, EventReference, SerializedElement, SerializedEvent};
use crate::gzip::{self, Deflated};
use crate::topic::{ElementType, EventKind, Topic};

/// The envelope version this crate writes (the envelope's `version`); decoding accepts any.
pub const VERSION: &str = "1.0";

/// An envelope as received ([`decode_any`]): complete, or reference-only.
#[derive(Debug, Clone, PartialEq)]
pub enum Envelope {
    /// A complete envelope: the event with the element from its `payload`.
    Complete(ChangeEvent),
    /// A reference-only envelope (`referenceOnly: true`, no `payload`): read the element
    /// through the REST API.
    Reference(EventReference),
}

/// Why an envelope could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The message is not a gzip stream, or the stream is corrupt or cut short.
    #[error("the message is not gzip data: {0}")]
    NotGzip(std::io::Error),
    /// The message expands to more bytes than the caller allowed (a gzip bomb stops here).
    #[error("the message expands to more than {max} bytes")]
    TooLarge {
        /// The limit the caller gave, in bytes of expanded JSON.
        max: u64,
    },
    /// The expanded message is not the envelope's JSON object (a field missing or of
    /// another type).
    #[error("the envelope is not the expected JSON: {0}")]
    Json(serde_json::Error),
    /// The `timestamp` is not an RFC 3339 (ISO 8601) date and time with an offset.
    #[error("the timestamp {0:?} is not an ISO 8601 date and time with offset")]
    Timestamp(String),
    /// The `payload` string is not the AAS JSON of the element type the topic names.
    #[error("the payload is not AAS JSON of a {element}: {source}")]
    Payload {
        /// The element type the topic names: `shell` or `submodel`.
        element: &'static str,
        /// Why the AAS JSON did not read.
        source: Box<aas_serde::json::Error>,
    },
    /// The element in the envelope (its `payload`'s id, or a reference-only envelope's
    /// `id`) is not the one the topic names.
    #[error("the payload's id {payload:?} is not the topic's id {topic:?}")]
    IdMismatch {
        /// The id in the envelope.
        payload: String,
        /// The id decoded from the topic.
        topic: String,
    },
    /// A reference-only envelope's `kind` is not the topic's.
    #[error("the envelope's kind {envelope:?} is not the topic's kind {topic}")]
    KindMismatch {
        /// The `kind` in the envelope, as written.
        envelope: String,
        /// The kind the topic names.
        topic: EventKind,
    },
    /// A reference-only envelope where a complete one was required ([`decode`]); [`decode_any`]
    /// reads it.
    #[error("the envelope is reference-only: it carries no element")]
    ReferenceOnly(Box<EventReference>),
    /// [`to_json`]: the message (expanded, if gzip) is not JSON.
    #[error("the message is neither JSON nor gzip-compressed JSON: {0}")]
    NotJson(serde_json::Error),
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    version: String,
    timestamp: String,
    /// Absent in a reference-only envelope.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    payload: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    reference_only: bool,
    /// The element's id and the kind: written in reference-only envelopes only.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    affected_shell_ids: Option<Vec<String>>,
}

/// The timestamp as the envelope writes it: RFC 3339 in UTC with `Z`, with as many fractional
/// digits as needed (none, milliseconds, microseconds or nanoseconds), e.g.
/// `2026-01-02T03:04:05.123456Z`.
pub fn format_timestamp(timestamp: DateTime<Utc>) -> String {
    timestamp.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Encodes an event's envelope (the kind travels in the topic, see
/// [`crate::TopicScheme::topic`]). For `deleted`, the event holds the element's last state.
/// Serializes the element: with its JSON at hand, use [`encode_serialized`].
pub fn encode(event: &ChangeEvent) -> Vec<u8> {
    encode_serialized(&event.serialized())
}

/// Encodes the envelope of an event whose element is serialized already.
pub fn encode_serialized(event: &SerializedEvent) -> Vec<u8> {
    prepare(&event.element).finish(event.timestamp, &event.affected_shell_ids)
}

/// The envelope of an element with the costly part done: the payload escaped as a JSON string
/// and compressed. [`PreparedEnvelope::finish`] adds what is known only when the change
/// commits (its timestamp, the shells referring to the submodel then) in time proportional to
/// that, not to the element: a server prepares before taking its writer lock and finishes
/// under it, so that timestamps follow commit order without compressing under the lock.
#[derive(Debug, Clone)]
pub struct PreparedEnvelope {
    element: ElementType,
    /// `"payload":"<escaped JSON>"`, deflated.
    payload: Deflated,
}

/// Prepares the envelopes of `element`'s events: escapes its JSON as the `payload` string
/// and compresses it, the work that grows with the element.
pub fn prepare(element: &SerializedElement) -> PreparedEnvelope {
    let mut payload = Vec::with_capacity(element.json.len() + element.json.len() / 16 + 16);
    payload.extend_from_slice(b"\"payload\":");
    // Serializing a string into a Vec cannot fail. (Escaping is about half of the work here:
    // JSON text holds a quote every few bytes. Memchr jumps between them cost as much.)
    let _ = serde_json::to_writer(&mut payload, element.json.as_ref());
    PreparedEnvelope {
        element: element.element,
        payload: Deflated::new(&payload),
    }
}

impl PreparedEnvelope {
    /// The envelope of the event at `timestamp`; `affected_shell_ids` is written for
    /// submodels only.
    pub fn finish(&self, timestamp: DateTime<Utc>, affected_shell_ids: &[String]) -> Vec<u8> {
        // The same keys, in the same order, as `Wire` writes.
        let head = format!(
            "{{\"version\":\"{VERSION}\",\"timestamp\":\"{}\",",
            format_timestamp(timestamp)
        );
        let mut tail = Vec::new();
        if self.element == ElementType::Submodel {
            tail.extend_from_slice(b",\"affectedShellIds\":");
            // Serializing strings into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut tail, affected_shell_ids);
        }
        tail.push(b'}');
        gzip::around(head.as_bytes(), &self.payload, &tail)
    }
}

/// Encodes a reference-only envelope (see the module documentation for its shape): for an
/// event whose complete envelope is too large to publish. Send it on the event's own topic.
pub fn encode_reference(reference: &EventReference) -> Vec<u8> {
    let wire = Wire {
        version: VERSION.to_owned(),
        timestamp: format_timestamp(reference.timestamp),
        payload: None,
        reference_only: true,
        id: Some(reference.id.clone()),
        kind: Some(reference.kind.as_str().to_owned()),
        affected_shell_ids: match reference.element {
            ElementType::Shell => None,
            ElementType::Submodel => Some(reference.affected_shell_ids.clone()),
        },
    };
    // Serializing strings into a Vec cannot fail.
    gzip::whole(&serde_json::to_vec(&wire).unwrap_or_default())
}

/// The JSON of a published message: a gzip-compressed one (an envelope) expanded to at most
/// `max_size` bytes, a plain one (a CloudEvent) read as it is.
pub fn to_json(message: &[u8], max_size: u64) -> Result<serde_json::Value, EnvelopeError> {
    if !message.starts_with(&[0x1f, 0x8b]) {
        return serde_json::from_slice(message).map_err(EnvelopeError::NotJson);
    }
    let json = expand(message, max_size)?;
    serde_json::from_slice(&json).map_err(EnvelopeError::NotJson)
}

fn expand(message: &[u8], max_size: u64) -> Result<Vec<u8>, EnvelopeError> {
    let mut json = Vec::new();
    GzDecoder::new(message)
        .take(max_size + 1)
        .read_to_end(&mut json)
        .map_err(EnvelopeError::NotGzip)?;
    if json.len() as u64 > max_size {
        return Err(EnvelopeError::TooLarge { max: max_size });
    }
    Ok(json)
}

/// Decodes a complete envelope received on `topic` (which says what element and kind it
/// carries), decompressing at most `max_size` bytes (a gzip bomb is an error, not an
/// allocation). A reference-only envelope is [`EnvelopeError::ReferenceOnly`].
pub fn decode(topic: &Topic, message: &[u8], max_size: u64) -> Result<ChangeEvent, EnvelopeError> {
    match decode_any(topic, message, max_size)? {
        Envelope::Complete(event) => Ok(event),
        Envelope::Reference(reference) => Err(EnvelopeError::ReferenceOnly(Box::new(reference))),
    }
}

/// Decodes an envelope received on `topic`, complete or reference-only.
pub fn decode_any(topic: &Topic, message: &[u8], max_size: u64) -> Result<Envelope, EnvelopeError> {
    let json = expand(message, max_size)?;
    let wire: Wire = serde_json::from_slice(&json).map_err(EnvelopeError::Json)?;
    let timestamp = DateTime::parse_from_rfc3339(&wire.timestamp)
        .map_err(|_| EnvelopeError::Timestamp(wire.timestamp.clone()))?
        .with_timezone(&Utc);
    let check = |id: &str| {
        if id == topic.id {
            Ok(())
        } else {
            Err(EnvelopeError::IdMismatch {
                payload: id.to_owned(),
                topic: topic.id.clone(),
            })
        }
    };
    if !wire.reference_only {
        let payload = wire.payload.ok_or_else(|| {
            EnvelopeError::Json(serde::de::Error::custom(
                "missing field `payload` (and not `referenceOnly`)",
            ))
        })?;
        return complete(topic, timestamp, payload, wire.affected_shell_ids, check);
    }
    if let Some(id) = &wire.id {
        check(id)?;
    }
    if let Some(kind) = wire.kind.filter(|kind| kind != topic.kind.as_str()) {
        return Err(EnvelopeError::KindMismatch {
            envelope: kind,
            topic: topic.kind,
        });
    }
    Ok(Envelope::Reference(EventReference {
        element: topic.element,
        id: topic.id.clone(),
        kind: topic.kind,
        timestamp,
        affected_shell_ids: wire.affected_shell_ids.unwrap_or_default(),
    }))
}

fn complete(
    topic: &Topic,
    timestamp: DateTime<Utc>,
    payload: String,
    affected_shell_ids: Option<Vec<String>>,
    check: impl Fn(&str) -> Result<(), EnvelopeError>,
) -> Result<Envelope, EnvelopeError> {
    match topic.element {
        ElementType::Shell => {
            let shell: AssetAdministrationShell =
                aas_serde::json::from_str(&payload).map_err(|e| EnvelopeError::Payload {
                    element: "shell",
                    source: Box::new(e),
                })?;
            check(&shell.id)?;
            Ok(Envelope::Complete(ChangeEvent::Shell {
                kind: topic.kind,
                timestamp,
                shell: Box::new(shell),
            }))
        }
        ElementType::Submodel => {
            let submodel: Submodel =
                aas_serde::json::from_str(&payload).map_err(|e| EnvelopeError::Payload {
                    element: "submodel",
                    source: Box::new(e),
                })?;
            check(&submodel.id)?;
            Ok(Envelope::Complete(ChangeEvent::Submodel {
                kind: topic.kind,
                timestamp,
                submodel: Box::new(submodel),
                affected_shell_ids: affected_shell_ids.unwrap_or_default(),
            }))
        }
    }
}
