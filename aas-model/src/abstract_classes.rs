//! The abstract classes of the metamodel as traits, so that code can treat every referable (or
//! every qualifiable, …) element alike.

use crate::classes::*;
use crate::enums::ModellingKind;
use crate::submodel_element::{
    DataElement, SubmodelElement, each_data_element, each_submodel_element,
};

/// `HasExtensions`: elements that may carry extensions.
pub trait HasExtensions {
    /// `extensions`: proprietary name-value additions; names unique within the element
    /// (AASd-077).
    fn extensions(&self) -> Option<&Vec<Extension>>;
}

/// `Referable`: elements with an idShort.
pub trait Referable: HasExtensions {
    /// `category`: the class of the element, which decides which meta-information it has
    /// (deprecated in V3.1).
    fn category(&self) -> Option<&str>;
    /// `idShort`: the element's name, unique among its siblings (AASd-022) and the step of
    /// an idShort path that names it.
    fn id_short(&self) -> Option<&str>;
    /// `displayName`: the name to show to people, one entry per language.
    fn display_name(&self) -> Option<&Vec<LangStringNameType>>;
    /// `description`: what the element is, one entry per language.
    fn description(&self) -> Option<&Vec<LangStringTextType>>;
}

/// `Identifiable`: elements with a globally unique id.
pub trait Identifiable: Referable {
    /// `id`: the globally unique identifier, which model references point to.
    fn id(&self) -> &str;
    /// `administration`: version, revision, creator and template of the element.
    fn administration(&self) -> Option<&AdministrativeInformation>;
}

/// `HasSemantics`: elements with a semantic id.
pub trait HasSemantics {
    /// `semanticId`: the concept that defines the meaning of the element.
    fn semantic_id(&self) -> Option<&Reference>;
    /// `supplementalSemanticIds`: further concepts that refine the meaning; only together
    /// with a semantic id (AASd-118).
    fn supplemental_semantic_ids(&self) -> Option<&Vec<Reference>>;
}

/// `Qualifiable`: elements that may carry qualifiers.
pub trait Qualifiable {
    /// `qualifiers`: the qualifiers of the element, at most one per `type` (AASd-021).
    fn qualifiers(&self) -> Option<&Vec<Qualifier>>;
}

/// `HasDataSpecification`: elements that may embed data specifications.
pub trait HasDataSpecification {
    /// `embeddedDataSpecifications`: data specification templates with their content.
    fn embedded_data_specifications(&self) -> Option<&Vec<EmbeddedDataSpecification>>;
}

/// `HasKind`: elements that are a template or an instance.
pub trait HasKind {
    /// `kind`: template or instance; `None` means instance.
    fn kind(&self) -> Option<ModellingKind>;
}

macro_rules! impl_has_extensions_referable {
    ($($t:ty),+) => {$(
        impl HasExtensions for $t {
            fn extensions(&self) -> Option<&Vec<Extension>> { self.extensions.as_ref() }
        }
        impl Referable for $t {
            fn category(&self) -> Option<&str> { self.category.as_deref() }
            fn id_short(&self) -> Option<&str> { self.id_short.as_deref() }
            fn display_name(&self) -> Option<&Vec<LangStringNameType>> { self.display_name.as_ref() }
            fn description(&self) -> Option<&Vec<LangStringTextType>> { self.description.as_ref() }
        }
    )+};
}

macro_rules! impl_identifiable {
    ($($t:ty),+) => {$(
        impl Identifiable for $t {
            fn id(&self) -> &str { &self.id }
            fn administration(&self) -> Option<&AdministrativeInformation> { self.administration.as_ref() }
        }
    )+};
}

macro_rules! impl_has_semantics {
    ($($t:ty),+) => {$(
        impl HasSemantics for $t {
            fn semantic_id(&self) -> Option<&Reference> { self.semantic_id.as_ref() }
            fn supplemental_semantic_ids(&self) -> Option<&Vec<Reference>> {
                self.supplemental_semantic_ids.as_ref()
            }
        }
    )+};
}

macro_rules! impl_qualifiable {
    ($($t:ty),+) => {$(
        impl Qualifiable for $t {
            fn qualifiers(&self) -> Option<&Vec<Qualifier>> { self.qualifiers.as_ref() }
        }
    )+};
}

macro_rules! impl_has_data_specification {
    ($($t:ty),+) => {$(
        impl HasDataSpecification for $t {
            fn embedded_data_specifications(&self) -> Option<&Vec<EmbeddedDataSpecification>> {
                self.embedded_data_specifications.as_ref()
            }
        }
    )+};
}

crate::__with_submodel_element_classes!(impl_has_extensions_referable!());
crate::__with_submodel_element_classes!(impl_has_semantics!());
crate::__with_submodel_element_classes!(impl_qualifiable!());
crate::__with_submodel_element_classes!(impl_has_data_specification!());
impl_has_extensions_referable!(AssetAdministrationShell, Submodel, ConceptDescription);
impl_identifiable!(AssetAdministrationShell, Submodel, ConceptDescription);
impl_has_semantics!(Submodel, Extension, Qualifier, SpecificAssetId);
impl_qualifiable!(Submodel);
impl_has_data_specification!(
    AssetAdministrationShell,
    Submodel,
    ConceptDescription,
    AdministrativeInformation
);

impl HasKind for Submodel {
    fn kind(&self) -> Option<ModellingKind> {
        self.kind
    }
}

/// Implements every submodel-element trait on an enum by delegating to its variants.
macro_rules! delegate_to_variants {
    ($enum:ident, $each:ident) => {
        impl HasExtensions for $enum {
            fn extensions(&self) -> Option<&Vec<Extension>> { $each!(self, e => e.extensions()) }
        }
        impl Referable for $enum {
            fn category(&self) -> Option<&str> { $each!(self, e => e.category()) }
            fn id_short(&self) -> Option<&str> { $each!(self, e => Referable::id_short(e)) }
            fn display_name(&self) -> Option<&Vec<LangStringNameType>> { $each!(self, e => e.display_name()) }
            fn description(&self) -> Option<&Vec<LangStringTextType>> { $each!(self, e => e.description()) }
        }
        impl HasSemantics for $enum {
            fn semantic_id(&self) -> Option<&Reference> { $each!(self, e => e.semantic_id()) }
            fn supplemental_semantic_ids(&self) -> Option<&Vec<Reference>> {
                $each!(self, e => e.supplemental_semantic_ids())
            }
        }
        impl Qualifiable for $enum {
            fn qualifiers(&self) -> Option<&Vec<Qualifier>> { $each!(self, e => e.qualifiers()) }
        }
        impl HasDataSpecification for $enum {
            fn embedded_data_specifications(&self) -> Option<&Vec<EmbeddedDataSpecification>> {
                $each!(self, e => e.embedded_data_specifications())
            }
        }
    };
}

delegate_to_variants!(SubmodelElement, each_submodel_element);
delegate_to_variants!(DataElement, each_data_element);
