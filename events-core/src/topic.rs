//! MQTT topics of change events: `<root>/shells/<id>/<kind>` and `<root>/submodels/<id>/<kind>`,
//! the id as base64url without padding (padded input is accepted when parsing).

use std::fmt;

use aas_serde::query::IdError;

/// What happened to the element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Created,
    Updated,
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

/// Which kind of element an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElementType {
    Shell,
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

/// A parsed topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub element: ElementType,
    /// The identifier, decoded.
    pub id: String,
    pub kind: EventKind,
}

/// Why a topic could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    #[error("topic {topic:?} does not start with the root {root:?}")]
    WrongRoot { topic: String, root: String },
    #[error("topic {0:?} is not <root>/<shells|submodels>/<id>/<created|updated|deleted>")]
    Shape(String),
    #[error("topic {topic:?}: {source}")]
    Id {
        topic: String,
        #[source]
        source: IdLevelError,
    },
}

/// Why a topic's id level does not decode ([`decode_id`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdLevelError {
    #[error("the id level is not base64url: {0}")]
    Base64(#[source] base64::DecodeError),
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
pub fn encode_id(id: &str) -> String {
    aas_serde::query::encode_id(id)
}

/// Whether `topic` (as MQTT carries it, bytes) is `root` or a topic below it (`root/...`), not
/// merely one starting with the same characters (`rootless/...`).
pub fn is_at_or_below(root: &str, topic: &[u8]) -> bool {
    topic
        .strip_prefix(root.as_bytes())
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(b"/"))
}

/// Decodes an id level, with or without padding, as the API decodes ids in paths
/// ([`aas_serde::query::decode_id`]).
pub fn decode_id(level: &str) -> Result<String, IdLevelError> {
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

    /// The root.
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
    fn a_topic_is_below_a_root_by_whole_levels_only() {
        assert!(is_at_or_below("twinsphere", b"twinsphere"));
        assert!(is_at_or_below("twinsphere", b"twinsphere/shells/x/created"));
        assert!(!is_at_or_below("twinsphere", b"twinspheres/shells"));
        assert!(!is_at_or_below("twinsphere", b"twin"));
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
