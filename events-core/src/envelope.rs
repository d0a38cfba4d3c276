//! The twinsphere envelope: gzip-compressed JSON `{version, timestamp, payload,
//! affectedShellIds}` whose `payload` is the AAS JSON of the shell or submodel as a string.

use std::io::{Read, Write};

use aas_model::{AssetAdministrationShell, Submodel};
use chrono::{DateTime, SecondsFormat, Utc};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};

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
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    version: String,
    timestamp: String,
    payload: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    affected_shell_ids: Option<Vec<String>>,
}

/// The timestamp as the envelope writes it: UTC with `Z`, microseconds when needed.
pub fn format_timestamp(timestamp: DateTime<Utc>) -> String {
    timestamp.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn gzip(json: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(json.len() / 4 + 64), Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(json);
    encoder.finish().unwrap_or_default()
}

/// Encodes an event's envelope (the kind travels in the topic, see
/// [`crate::TopicScheme::topic`]). For `deleted`, the event holds the element's last state.
pub fn encode(event: &ChangeEvent) -> Vec<u8> {
    match event {
        ChangeEvent::Shell {
            timestamp, shell, ..
        } => encode_wire(*timestamp, aas_serde::json::to_string(shell.as_ref()), None),
        ChangeEvent::Submodel {
            timestamp,
            submodel,
            affected_shell_ids,
            ..
        } => encode_wire(
            *timestamp,
            aas_serde::json::to_string(submodel.as_ref()),
            Some(affected_shell_ids.clone()),
        ),
    }
}

fn encode_wire(
    timestamp: DateTime<Utc>,
    payload: String,
    affected_shell_ids: Option<Vec<String>>,
) -> Vec<u8> {
    let wire = Wire {
        version: VERSION.to_owned(),
        timestamp: format_timestamp(timestamp),
        payload,
        affected_shell_ids,
    };
    // Serializing strings into a Vec cannot fail.
    gzip(&serde_json::to_vec(&wire).unwrap_or_default())
}

/// Decodes an envelope received on `topic` (which says what element and kind it carries),
/// decompressing at most `max_size` bytes (a gzip bomb is an error, not an allocation).
pub fn decode(topic: &Topic, message: &[u8], max_size: u64) -> Result<ChangeEvent, EnvelopeError> {
    let mut json = Vec::new();
    GzDecoder::new(message)
        .take(max_size + 1)
        .read_to_end(&mut json)
        .map_err(EnvelopeError::NotGzip)?;
    if json.len() as u64 > max_size {
        return Err(EnvelopeError::TooLarge { max: max_size });
    }
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
    match topic.element {
        ElementType::Shell => {
            let shell: AssetAdministrationShell = aas_serde::json::from_str(&wire.payload)
                .map_err(|e| EnvelopeError::Payload {
                    element: "shell",
                    source: Box::new(e),
                })?;
            check(&shell.id)?;
            Ok(ChangeEvent::Shell {
                kind: topic.kind,
                timestamp,
                shell: Box::new(shell),
            })
        }
        ElementType::Submodel => {
            let submodel: Submodel =
                aas_serde::json::from_str(&wire.payload).map_err(|e| EnvelopeError::Payload {
                    element: "submodel",
                    source: Box::new(e),
                })?;
            check(&submodel.id)?;
            Ok(ChangeEvent::Submodel {
                kind: topic.kind,
                timestamp,
                submodel: Box::new(submodel),
                affected_shell_ids: wire.affected_shell_ids.unwrap_or_default(),
            })
        }
    }
}
