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

use std::io::Read;
use std::sync::Arc;

use aas_model::{AssetAdministrationShell, HasSemantics, Submodel};
use chrono::{DateTime, SecondsFormat, Utc};
use flate2::read::GzDecoder;
use serde::{Deserialize, Serialize};

use crate::gzip::{self, Deflated};
use crate::topic::{ElementType, EventKind, Topic};

/// The envelope version this crate writes.
pub const VERSION: &str = "1.0";

/// A change event with its element, as the envelope carries it.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeEvent {
    /// A shell was created, updated or deleted (for `deleted`: its last state).
    Shell {
        kind: EventKind,
        timestamp: DateTime<Utc>,
        shell: Box<AssetAdministrationShell>,
    },
    /// A submodel was created, updated or deleted, with the shells that refer to it.
    Submodel {
        kind: EventKind,
        timestamp: DateTime<Utc>,
        submodel: Box<Submodel>,
        affected_shell_ids: Vec<String>,
    },
}

impl ChangeEvent {
    /// What happened.
    pub fn kind(&self) -> EventKind {
        match self {
            ChangeEvent::Shell { kind, .. } | ChangeEvent::Submodel { kind, .. } => *kind,
        }
    }

    /// When it happened.
    pub fn timestamp(&self) -> DateTime<Utc> {
        match self {
            ChangeEvent::Shell { timestamp, .. } | ChangeEvent::Submodel { timestamp, .. } => {
                *timestamp
            }
        }
    }

    /// The element type and identifier the event is about.
    pub fn element(&self) -> (ElementType, &str) {
        match self {
            ChangeEvent::Shell { shell, .. } => (ElementType::Shell, &shell.id),
            ChangeEvent::Submodel { submodel, .. } => (ElementType::Submodel, &submodel.id),
        }
    }
}

/// An element as its events carry it: its AAS JSON, serialized once and shared (not copied)
/// by every message made of it, in whatever encodings. A server that serialized the element
/// to store it hands that JSON over ([`SerializedElement::submodel_with_json`]) instead of
/// letting each encoder serialize the element again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerializedElement {
    pub element: ElementType,
    /// The element's identifier (plain, not encoded).
    pub id: String,
    /// The element's AAS JSON (what `aas_serde::json::to_string` writes of it).
    pub json: Arc<str>,
    /// For submodels: the first key of the semanticId (CloudEvents' `semanticid`).
    pub semantic_id: Option<String>,
}

impl SerializedElement {
    /// A shell, serialized now.
    pub fn shell(shell: &AssetAdministrationShell) -> Self {
        Self::shell_with_json(shell, aas_serde::json::to_string(shell).into())
    }

    /// A shell with its JSON as already serialized (`json` must be the shell's AAS JSON).
    pub fn shell_with_json(shell: &AssetAdministrationShell, json: Arc<str>) -> Self {
        Self {
            element: ElementType::Shell,
            id: shell.id.clone(),
            json,
            semantic_id: None,
        }
    }

    /// A submodel, serialized now.
    pub fn submodel(submodel: &Submodel) -> Self {
        Self::submodel_with_json(submodel, aas_serde::json::to_string(submodel).into())
    }

    /// A submodel with its JSON as already serialized (`json` must be the submodel's AAS
    /// JSON).
    pub fn submodel_with_json(submodel: &Submodel, json: Arc<str>) -> Self {
        Self {
            element: ElementType::Submodel,
            id: submodel.id.clone(),
            json,
            semantic_id: submodel
                .semantic_id()
                .and_then(|reference| reference.keys.first())
                .map(|key| key.value.clone()),
        }
    }
}

/// A change event with its element serialized: what the encoders work on
/// ([`encode_serialized`], [`crate::Encoding::encode_serialized`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerializedEvent {
    pub kind: EventKind,
    pub timestamp: DateTime<Utc>,
    /// The element (for `deleted`: its last state).
    pub element: SerializedElement,
    /// For submodels: the shells that refer to it (ignored for shells).
    pub affected_shell_ids: Vec<String>,
}

impl SerializedEvent {
    /// The event without its element: what a reference-only message carries.
    pub fn reference(&self) -> EventReference {
        EventReference {
            element: self.element.element,
            id: self.element.id.clone(),
            kind: self.kind,
            timestamp: self.timestamp,
            affected_shell_ids: match self.element.element {
                ElementType::Shell => Vec::new(),
                ElementType::Submodel => self.affected_shell_ids.clone(),
            },
        }
    }
}

impl ChangeEvent {
    /// The event with its element serialized (once, for all encoders).
    pub fn serialized(&self) -> SerializedEvent {
        match self {
            ChangeEvent::Shell {
                kind,
                timestamp,
                shell,
            } => SerializedEvent {
                kind: *kind,
                timestamp: *timestamp,
                element: SerializedElement::shell(shell),
                affected_shell_ids: Vec::new(),
            },
            ChangeEvent::Submodel {
                kind,
                timestamp,
                submodel,
                affected_shell_ids,
            } => SerializedEvent {
                kind: *kind,
                timestamp: *timestamp,
                element: SerializedElement::submodel(submodel),
                affected_shell_ids: affected_shell_ids.clone(),
            },
        }
    }
}

/// An event that names its element without carrying it: what a reference-only envelope says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventReference {
    pub element: ElementType,
    /// The element's identifier (plain, not encoded).
    pub id: String,
    pub kind: EventKind,
    pub timestamp: DateTime<Utc>,
    /// For submodels: the shells that referred to it (empty for shells).
    pub affected_shell_ids: Vec<String>,
}

impl ChangeEvent {
    /// The event without its element: what a reference-only envelope carries.
    pub fn reference(&self) -> EventReference {
        let (element, id) = self.element();
        EventReference {
            element,
            id: id.to_owned(),
            kind: self.kind(),
            timestamp: self.timestamp(),
            affected_shell_ids: match self {
                ChangeEvent::Shell { .. } => Vec::new(),
                ChangeEvent::Submodel {
                    affected_shell_ids, ..
                } => affected_shell_ids.clone(),
            },
        }
    }
}

/// An envelope as received: complete, or reference-only.
#[derive(Debug, Clone, PartialEq)]
pub enum Envelope {
    Complete(ChangeEvent),
    Reference(EventReference),
}

/// Why an envelope could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    #[error("the message is not gzip data: {0}")]
    NotGzip(std::io::Error),
    #[error("the message expands to more than {max} bytes")]
    TooLarge { max: u64 },
    #[error("the envelope is not the expected JSON: {0}")]
    Json(serde_json::Error),
    #[error("the timestamp {0:?} is not an ISO 8601 date and time with offset")]
    Timestamp(String),
    #[error("the payload is not AAS JSON of a {element}: {source}")]
    Payload {
        element: &'static str,
        source: Box<aas_serde::json::Error>,
    },
    #[error("the payload's id {payload:?} is not the topic's id {topic:?}")]
    IdMismatch { payload: String, topic: String },
    #[error("the envelope's kind {envelope:?} is not the topic's kind {topic}")]
    KindMismatch { envelope: String, topic: EventKind },
    /// A reference-only envelope where a complete one was required ([`decode`]); [`decode_any`]
    /// reads it.
    #[error("the envelope is reference-only: it carries no element")]
    ReferenceOnly(Box<EventReference>),
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

/// The timestamp as the envelope writes it: UTC with `Z`, microseconds when needed.
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

/// Prepares the envelopes of `element`'s events.
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
