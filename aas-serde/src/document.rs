//! The root of a serialized file: an environment, or an event payload.

use aas_model::{Environment, EventPayload};

/// What a serialized file holds at its root.
///
/// Files normally hold an [`Environment`]; the payload of a `BasicEventElement` event is an
/// [`EventPayload`] on its own. Readers of `Document` tell the two apart by the root's
/// properties.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    Environment(Environment),
    EventPayload(EventPayload),
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
    pub asset_administration_shells: &'a [&'a aas_model::AssetAdministrationShell],
    pub submodels: &'a [&'a aas_model::Submodel],
    pub concept_descriptions: &'a [&'a aas_model::ConceptDescription],
}
