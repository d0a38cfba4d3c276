//! The root of a serialized file: an environment, or an event payload.

use aas_model::convert::{ConversionRefused, ConversionReport};
use aas_model::{Environment, EventPayload, Finding, Version};

/// What a serialized file holds at its root.
///
/// Files normally hold an [`Environment`]; the payload of a `BasicEventElement` event is an
/// [`EventPayload`] on its own. Readers of `Document` tell the two apart by the root's
/// properties.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    /// An environment: shells, submodels and concept descriptions (the root of the JSON
    /// mapping, `<environment>` in XML).
    Environment(Environment),
    /// The payload of an event a `BasicEventElement` sends (`<eventPayload>` in XML; in JSON,
    /// an object with `source`, `observableReference` and `timeStamp`).
    EventPayload(EventPayload),
}

impl Document {
    /// Every finding of verification under the rules of `version`, in document order.
    pub fn verify_as(&self, version: Version) -> Vec<Finding> {
        match self {
            Document::Environment(env) => aas_model::verify_as(env, version).collect(),
            Document::EventPayload(payload) => aas_model::verify_as(payload, version).collect(),
        }
    }

    /// Converts the document from one AAS version to another by `aas_model::convert`'s rules
    /// (an event payload has none to apply: its report is what becomes invalid). Refused, the
    /// document unchanged, when something would be lost and `allow_loss` is false.
    pub fn convert(
        &mut self,
        from: Version,
        to: Version,
        allow_loss: bool,
    ) -> Result<ConversionReport, ConversionRefused> {
        match self {
            Document::Environment(env) => aas_model::convert::convert(env, from, to, allow_loss),
            Document::EventPayload(payload) => {
                aas_model::convert::convert(payload, from, to, allow_loss)
            }
        }
    }
}

impl From<Environment> for Document {
    fn from(env: Environment) -> Self {
        Document::Environment(env)
    }
}

impl From<EventPayload> for Document {
    fn from(payload: EventPayload) -> Self {
        Document::EventPayload(payload)
    }
}

/// An environment of borrowed elements, written exactly as an [`Environment`] holding them
/// would be: for writing elements that live elsewhere (a repository, a cache) without cloning
/// them. Empty lists are left out, as in `Environment`.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvironmentRef<'a> {
    /// Written as `assetAdministrationShells`, in this order.
    pub asset_administration_shells: &'a [&'a aas_model::AssetAdministrationShell],
    /// Written as `submodels`, in this order.
    pub submodels: &'a [&'a aas_model::Submodel],
    /// Written as `conceptDescriptions`, in this order.
    pub concept_descriptions: &'a [&'a aas_model::ConceptDescription],
}

#[cfg(test)]
mod tests {
    use aas_model::{Key, KeyTypes, Reference};

    use super::*;

    fn payload_with_key(value: String) -> Document {
        let reference = |value: String| {
            Reference::model(vec![
                Key::new(KeyTypes::Submodel, value),
                Key::new(KeyTypes::BasicEventElement, "Event"),
            ])
        };
        EventPayload::new(
            reference(value),
            reference("urn:sm".into()),
            "2024-01-01T00:00:00Z",
        )
        .into()
    }

    #[test]
    fn a_document_is_verified_and_converted_whatever_its_root() {
        let long = payload_with_key(format!("urn:{}", "x".repeat(2010)));
        let none: [Finding; 0] = [];
        assert_eq!(long.verify_as(Version::V3_1), none);
        assert_eq!(long.verify_as(Version::V3_0).len(), 1);
        let mut converted = long.clone();
        let refused = converted.convert(Version::V3_1, Version::V3_0, false);
        assert_eq!(refused.map_err(|r| r.report.entries.len()), Err(1));
        assert_eq!(converted, long, "a refused conversion changes nothing");

        let mut env: Document = Environment::default().into();
        let report = env.convert(Version::V3_1, Version::V3_0, false);
        assert!(report.is_ok_and(|r| r.is_lossless()));
    }
}
