//! Change events of shells and submodels, independent of how they are encoded: with the
//! element ([`ChangeEvent`]), with the element serialized once for every encoding
//! ([`SerializedEvent`]), or naming the element only ([`EventReference`]).

use std::sync::Arc;

use aas_model::{AssetAdministrationShell, HasSemantics, Submodel};
use chrono::{DateTime, Utc};

use crate::topic::{ElementType, EventKind};

/// A change of a shell or submodel with the element itself: what a publisher encodes
/// ([`crate::envelope::encode`], [`Encoding::encode`](crate::Encoding::encode)) and what a
/// complete envelope decodes to.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeEvent {
    /// A shell was created, updated or deleted (for `deleted`: its last state).
    Shell {
        /// What happened to the shell (the topic's last level).
        kind: EventKind,
        /// When the change was committed, in UTC (the envelope's `timestamp`, the
        /// CloudEvent's `time`); what consumers order and de-duplicate events by.
        timestamp: DateTime<Utc>,
        /// The shell after the change; for `deleted`, its last state.
        shell: Box<AssetAdministrationShell>,
    },
    /// A submodel was created, updated or deleted, with the shells that refer to it.
    Submodel {
        /// What happened to the submodel (the topic's last level).
        kind: EventKind,
        /// When the change was committed, in UTC (the envelope's `timestamp`, the
        /// CloudEvent's `time`); what consumers order and de-duplicate events by.
        timestamp: DateTime<Utc>,
        /// The submodel after the change; for `deleted`, its last state.
        submodel: Box<Submodel>,
        /// The ids of the shells whose `submodels` refer to this submodel at the time of the
        /// change (the envelope's `affectedShellIds`).
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
    /// Whether the element is a shell or a submodel.
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
/// ([`crate::envelope::encode_serialized`], [`crate::Encoding::encode_serialized`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerializedEvent {
    /// What happened to the element.
    pub kind: EventKind,
    /// When the change was committed, in UTC.
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
    /// Whether the element is a shell or a submodel.
    pub element: ElementType,
    /// The element's identifier (plain, not encoded).
    pub id: String,
    /// What happened to the element.
    pub kind: EventKind,
    /// When the change was committed, in UTC.
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
