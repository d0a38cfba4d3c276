//! MQTT topics of change events: `<root>/shells/<id>/<kind>` and `<root>/submodels/<id>/<kind>`,
//! the id as base64url without padding (padded input is accepted when parsing).

use std::fmt;

use aas_serde::query::IdError;

/// What happened to the element: the last level of an event's topic, and the suffix of a
/// CloudEvent's `type` (`io.admin-shell.events.v1.<kind>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The element was added to the repository (`created`).
    Created,
    /// The element was replaced or changed in place (`updated`).
    Updated,
    /// The element was removed (`deleted`); envelopes carry its last state, CloudEvents no
    /// `data`.
    Deleted,
}

impl EventKind {
    /// The topic level and CloudEvents type suffix: `created`, `updated`, `deleted`.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Updated => "updated",
            EventKind::Deleted => "deleted",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "created" => Some(EventKind::Created),
            "updated" => Some(EventKind::Updated),
            "deleted" => Some(EventKind::Deleted),
            _ => None,
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which kind of element an event is about: the topic level after the root, and the REST
/// collection of the element's URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElementType {
    /// An Asset Administration Shell (`shells`).
    Shell,
    /// A submodel (`submodels`).
    Submodel,
}

impl ElementType {
    /// The topic level and REST collection: `shells`, `submodels`.
    pub const fn collection(self) -> &'static str {
        match self {
            ElementType::Shell => "shells",
            ElementType::Submodel => "submodels",
        }
    }
}

/// A parsed topic ([`TopicScheme::parse`]): which element it names and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    /// The collection level: shell or submodel.
    pub element: ElementType,
    /// The element's identifier, decoded from the id level's base64url.
    pub id: String,
    /// The last level: created, updated or deleted.
    pub kind: EventKind,
}

/// Why a topic could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    /// The topic is not below the scheme's root.
    #[error("topic {topic:?} does not start with the root {root:?}")]
    WrongRoot {
        /// The topic as received.
        topic: String,
        /// The scheme's root.
        root: String,
    },
    /// Below the root, the topic is not three levels of a collection, an id and a kind (the
    /// topic as received).
    #[error("topic {0:?} is not <root>/<shells|submodels>/<id>/<created|updated|deleted>")]
    Shape(String),
    /// The id level does not decode.
    #[error("topic {topic:?}: {source}")]
    Id {
        /// The topic as received.
        topic: String,
        /// Why the id level does not decode.
        #[source]
        source: IdLevelError,
    },
}

/// Why a topic's id level does not decode: it must be base64url (with or without padding) of
/// UTF-8 text, as the API encodes ids in paths.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdLevelError {
    /// The level is not base64url.
    #[error("the id level is not base64url: {0}")]
    Base64(#[source] base64::DecodeError),
    /// The decoded bytes are not UTF-8.
    #[error("the id level does not decode to UTF-8: {0}")]
    Utf8(#[source] std::string::FromUtf8Error),
}

/// Builds and parses topics under a root (`twinsphere` for the envelope, `aas-events` for
/// CloudEvents by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicScheme {
    root: String,
}

/// The id level of a topic: base64url without padding (Part 2 v3.1.1), as the API encodes
/// ids in paths ([`aas_serde::query::encode_id`]).
pub(crate) fn encode_id(id: &str) -> String {
    aas_serde::query::encode_id(id)
}

/// Decodes an id level, with or without padding, as the API decodes ids in paths
/// ([`aas_serde::query::decode_id`]).
pub(crate) fn decode_id(level: &str) -> Result<String, IdLevelError> {
    aas_serde::query::decode_id(level).map_err(|error| match error {
        IdError::Base64 { source, .. } => IdLevelError::Base64(source),
        IdError::Utf8 { source, .. } => IdLevelError::Utf8(source),
    })
}

impl TopicScheme {
    /// A scheme with the given root (no trailing `/`).
    pub fn new(root: impl Into<String>) -> Self {
        Self {
            root: root.into().trim_end_matches('/').to_owned(),
        }
    }

    /// The twinsphere envelope topics: root `twinsphere`.
    pub fn twinsphere() -> Self {
        Self::new("twinsphere")
    }

    /// The CloudEvents topics: root `aas-events`.
    pub fn cloud_events() -> Self {
        Self::new("aas-events")
    }

    /// The root: the first level(s) of every topic of the scheme, without a trailing `/`.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// The topic of an event: `<root>/<shells|submodels>/<base64url id>/<kind>`.
    pub fn topic(&self, element: ElementType, id: &str, kind: EventKind) -> String {
        format!(
            "{}/{}/{}/{}",
            self.root,
            element.collection(),
            encode_id(id),
            kind
        )
    }

    /// A subscription filter: `+` for any id; `None` for "any kind" (`+`) or "any element"
    /// (`+` at the collection level).
    pub fn filter(&self, element: Option<ElementType>, kind: Option<EventKind>) -> String {
        let collection = element.map_or("+", ElementType::collection);
        let kind = kind.map_or("+", EventKind::as_str);
        format!("{}/{collection}/+/{kind}", self.root)
    }

    /// Parses a topic of this scheme.
    ///
    /// # Errors
    ///
    /// [`TopicError`] when the topic is not below the root, is not
    /// `<shells|submodels>/<id>/<kind>` there, or its id level is not base64url of UTF-8.
    pub fn parse(&self, topic: &str) -> Result<Topic, TopicError> {
        let rest = topic
            .strip_prefix(&self.root)
            .and_then(|r| r.strip_prefix('/'))
            .ok_or_else(|| TopicError::WrongRoot {
                topic: topic.to_owned(),
                root: self.root.clone(),
            })?;
        let levels: Vec<&str> = rest.split('/').collect();
        let [collection, id, kind] = levels.as_slice() else {
            return Err(TopicError::Shape(topic.to_owned()));
        };
        let element = match *collection {
            "shells" => ElementType::Shell,
            "submodels" => ElementType::Submodel,
            _ => return Err(TopicError::Shape(topic.to_owned())),
        };
        let kind = EventKind::parse(kind).ok_or_else(|| TopicError::Shape(topic.to_owned()))?;
        let id = decode_id(id).map_err(|source| TopicError::Id {
            topic: topic.to_owned(),
            source,
        })?;
        Ok(Topic { element, id, kind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_use_base64url_without_padding_and_parse_back() -> Result<(), TopicError> {
        let scheme = TopicScheme::twinsphere();
        let topic = scheme.topic(
            ElementType::Submodel,
            "https://example.com/sm/1",
            EventKind::Updated,
        );
        assert_eq!(
            topic,
            "twinsphere/submodels/aHR0cHM6Ly9leGFtcGxlLmNvbS9zbS8x/updated"
        );
        let parsed = scheme.parse(&topic)?;
        assert_eq!(
            parsed,
            Topic {
                element: ElementType::Submodel,
                id: "https://example.com/sm/1".into(),
                kind: EventKind::Updated
            }
        );
        // Ids whose standard base64 would hold `/` or `+` stay one level.
        let odd = scheme.topic(ElementType::Shell, "?>?>~", EventKind::Created);
        assert_eq!(odd.split('/').count(), 4);
        assert_eq!(scheme.parse(&odd)?.id, "?>?>~");
        Ok(())
    }

    #[test]
    fn padded_ids_are_accepted_when_parsing() -> Result<(), TopicError> {
        let scheme = TopicScheme::cloud_events();
        assert_eq!(scheme.parse("aas-events/shells/YQ==/deleted")?.id, "a");
        assert_eq!(scheme.parse("aas-events/shells/YQ/deleted")?.id, "a");
        Ok(())
    }

    #[test]
    fn filters_use_plus_at_the_id_level() {
        let scheme = TopicScheme::twinsphere();
        assert_eq!(
            scheme.filter(Some(ElementType::Shell), Some(EventKind::Updated)),
            "twinsphere/shells/+/updated"
        );
        assert_eq!(scheme.filter(None, None), "twinsphere/+/+/+");
    }

    #[test]
    fn malformed_topics_are_errors() {
        let scheme = TopicScheme::twinsphere();
        assert!(matches!(
            scheme.parse("other/shells/YQ/created"),
            Err(TopicError::WrongRoot { .. })
        ));
        assert!(matches!(
            scheme.parse("twinsphere/things/YQ/created"),
            Err(TopicError::Shape(_))
        ));
        assert!(matches!(
            scheme.parse("twinsphere/shells/YQ/moved"),
            Err(TopicError::Shape(_))
        ));
        assert!(matches!(
            scheme.parse("twinsphere/shells/YQ/created/extra"),
            Err(TopicError::Shape(_))
        ));
        assert!(matches!(
            scheme.parse("twinsphere/shells/!!/created"),
            Err(TopicError::Id { .. })
        ));
        assert!(matches!(
            scheme.parse("twinsphere/shells//w/created"),
            Err(TopicError::Shape(_))
        ));
    }
}
