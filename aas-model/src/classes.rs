//! The concrete classes of the metamodel as plain structs.
//!
//! Field conventions:
//! - `T` for a required attribute, `Option<T>` for an optional one.
//! - `Option<Vec<T>>` for an optional list (`0..*`). The metamodel forbids an empty list where
//!   one is given; `Some(vec![])` can still be built (and is what a reader produces for `[]`), so
//!   that verification can report it. Writers leave out both `None` and empty lists.
//! - `Vec<T>` for a required list (`1..*`); verification reports it when empty.
//! - Values typed by a `valueType` (`xs:` lexical forms) are `String`s exactly as written.

use crate::enums::*;
use crate::submodel_element::{DataElement, SubmodelElement};

/// A string in a given language (`AbstractLangString`).
///
/// The metamodel has five lang-string classes that differ only in the maximum length of `text`;
/// they share this struct and are told apart by where they stand (see the type aliases).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct LangString {
    /// BCP 47 language tag, e.g. `en` or `de-DE`.
    pub language: String,
    /// The text; non-empty.
    pub text: String,
}

impl LangString {
    /// A lang string from a language tag and a text.
    pub fn new(language: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            language: language.into(),
            text: text.into(),
        }
    }
}

/// `LangStringNameType`: text of at most 128 characters (`displayName`).
pub type LangStringNameType = LangString;
/// `LangStringTextType`: text of at most 1023 characters (`description`, MLP values).
pub type LangStringTextType = LangString;
/// `LangStringPreferredNameTypeIec61360`: text of at most 255 characters.
pub type LangStringPreferredNameTypeIec61360 = LangString;
/// `LangStringShortNameTypeIec61360`: text of at most 18 characters.
pub type LangStringShortNameTypeIec61360 = LangString;
/// `LangStringDefinitionTypeIec61360`: text of at most 1023 characters.
pub type LangStringDefinitionTypeIec61360 = LangString;

/// One key of a [`Reference`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Key {
    /// What the key points to.
    pub type_: KeyTypes,
    /// Identifier, idShort or index, depending on `type_`.
    pub value: String,
}

impl Key {
    /// A key from its type and value.
    pub fn new(type_: KeyTypes, value: impl Into<String>) -> Self {
        Self {
            type_,
            value: value.into(),
        }
    }
}

/// A reference to a model element or to something outside the model.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Reference {
    /// Model or external reference.
    pub type_: ReferenceTypes,
    /// Semantic id of the referred element (informative).
    pub referred_semantic_id: Option<Box<Reference>>,
    /// The keys, from the root to the referred element; at least one.
    pub keys: Vec<Key>,
}

/// An extension of an element by a name-value pair.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Extension {
    pub semantic_id: Option<Reference>,
    pub supplemental_semantic_ids: Option<Vec<Reference>>,
    /// Name of the extension; unique among the extensions of an element (AASd-077).
    pub name: String,
    pub value_type: Option<DataTypeDefXsd>,
    pub value: Option<String>,
    pub refers_to: Option<Vec<Reference>>,
}

impl Extension {
    /// An extension with a name and nothing else.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            semantic_id: None,
            supplemental_semantic_ids: None,
            name: name.into(),
            value_type: None,
            value: None,
            refers_to: None,
        }
    }
}

/// Version information of an identifiable element.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct AdministrativeInformation {
    pub embedded_data_specifications: Option<Vec<EmbeddedDataSpecification>>,
    pub version: Option<String>,
    pub revision: Option<String>,
    pub creator: Option<Reference>,
    pub template_id: Option<String>,
}

/// A qualifier: a type-value pair that qualifies an element.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Qualifier {
    pub semantic_id: Option<Reference>,
    pub supplemental_semantic_ids: Option<Vec<Reference>>,
    pub kind: Option<QualifierKind>,
    pub type_: String,
    pub value_type: DataTypeDefXsd,
    pub value: Option<String>,
    pub value_id: Option<Reference>,
}

impl Qualifier {
    /// A qualifier of a type whose values have the given data type.
    pub fn new(type_: impl Into<String>, value_type: DataTypeDefXsd) -> Self {
        Self {
            semantic_id: None,
            supplemental_semantic_ids: None,
            kind: None,
            type_: type_.into(),
            value_type,
            value: None,
            value_id: None,
        }
    }
}

/// An asset administration shell.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct AssetAdministrationShell {
    pub extensions: Option<Vec<Extension>>,
    pub category: Option<String>,
    pub id_short: Option<String>,
    pub display_name: Option<Vec<LangStringNameType>>,
    pub description: Option<Vec<LangStringTextType>>,
    pub administration: Option<AdministrativeInformation>,
    pub id: String,
    pub embedded_data_specifications: Option<Vec<EmbeddedDataSpecification>>,
    pub derived_from: Option<Reference>,
    pub asset_information: AssetInformation,
    pub submodels: Option<Vec<Reference>>,
}

impl AssetAdministrationShell {
    /// A shell with its identifier and asset information.
    pub fn new(id: impl Into<String>, asset_information: AssetInformation) -> Self {
        Self {
            extensions: None,
            category: None,
            id_short: None,
            display_name: None,
            description: None,
            administration: None,
            id: id.into(),
            embedded_data_specifications: None,
            derived_from: None,
            asset_information,
            submodels: None,
        }
    }
}

/// What a shell says about its asset.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct AssetInformation {
    pub asset_kind: AssetKind,
    pub global_asset_id: Option<String>,
    pub specific_asset_ids: Option<Vec<SpecificAssetId>>,
    pub asset_type: Option<String>,
    pub default_thumbnail: Option<Resource>,
}

impl AssetInformation {
    /// Asset information of the given kind and nothing else.
    pub fn new(asset_kind: AssetKind) -> Self {
        Self {
            asset_kind,
            global_asset_id: None,
            specific_asset_ids: None,
            asset_type: None,
            default_thumbnail: None,
        }
    }
}

/// An address of a file, absolute or relative, with its content type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Resource {
    pub path: String,
    pub content_type: Option<String>,
}

impl Resource {
    /// A resource at a path.
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            content_type: None,
        }
    }
}

/// An identifier of an asset that is specific to some party (a serial number, say).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SpecificAssetId {
    pub semantic_id: Option<Reference>,
    pub supplemental_semantic_ids: Option<Vec<Reference>>,
    pub name: String,
    pub value: String,
    pub external_subject_id: Option<Reference>,
}

impl SpecificAssetId {
    /// A specific asset id from its name and value.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            semantic_id: None,
            supplemental_semantic_ids: None,
            name: name.into(),
            value: value.into(),
            external_subject_id: None,
        }
    }
}

/// A submodel: one aspect of an asset, as a tree of submodel elements.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Submodel {
    pub extensions: Option<Vec<Extension>>,
    pub category: Option<String>,
    pub id_short: Option<String>,
    pub display_name: Option<Vec<LangStringNameType>>,
    pub description: Option<Vec<LangStringTextType>>,
    pub administration: Option<AdministrativeInformation>,
    pub id: String,
    pub kind: Option<ModellingKind>,
    pub semantic_id: Option<Reference>,
    pub supplemental_semantic_ids: Option<Vec<Reference>>,
    pub qualifiers: Option<Vec<Qualifier>>,
    pub embedded_data_specifications: Option<Vec<EmbeddedDataSpecification>>,
    pub submodel_elements: Option<Vec<SubmodelElement>>,
}

impl Submodel {
    /// A submodel with an identifier and no elements.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            extensions: None,
            category: None,
            id_short: None,
            display_name: None,
            description: None,
            administration: None,
            id: id.into(),
            kind: None,
            semantic_id: None,
            supplemental_semantic_ids: None,
            qualifiers: None,
            embedded_data_specifications: None,
            submodel_elements: None,
        }
    }
}

/// Declares a submodel element struct: the fields every submodel element has (`Referable`,
/// `HasSemantics`, `Qualifiable`, `HasDataSpecification`, in XML order), then its own, and a
/// `new` taking the required own fields. Fields `required_in_v30` are optional since V3.1
/// (`Option`), but `new` still takes them: a new element should carry them, and V3.0 needs them.
macro_rules! submodel_element_struct {
    (
        $(#[$meta:meta])*
        $name:ident {
            required { $( $(#[$rmeta:meta])* $rfield:ident : $rty:ty ),* $(,)? }
            $( required_in_v30 { $( $(#[$vmeta:meta])* $vfield:ident : $vty:ty ),* $(,)? } )?
            optional { $( $(#[$ometa:meta])* $ofield:ident : $oty:ty ),* $(,)? }
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
        pub struct $name {
            pub extensions: Option<Vec<Extension>>,
            pub category: Option<String>,
            pub id_short: Option<String>,
            pub display_name: Option<Vec<LangStringNameType>>,
            pub description: Option<Vec<LangStringTextType>>,
            pub semantic_id: Option<Reference>,
            pub supplemental_semantic_ids: Option<Vec<Reference>>,
            pub qualifiers: Option<Vec<Qualifier>>,
            pub embedded_data_specifications: Option<Vec<EmbeddedDataSpecification>>,
            $( $(#[$rmeta])* pub $rfield: $rty, )*
            $($( $(#[$vmeta])* pub $vfield: Option<$vty>, )*)?
            $( $(#[$ometa])* pub $ofield: $oty, )*
        }

        impl $name {
            /// An element with its required attributes; everything optional is unset.
            #[allow(clippy::new_without_default)]
            pub fn new($($rfield: impl Into<$rty>,)* $($($vfield: impl Into<$vty>,)*)?) -> Self {
                Self {
                    extensions: None,
                    category: None,
                    id_short: None,
                    display_name: None,
                    description: None,
                    semantic_id: None,
                    supplemental_semantic_ids: None,
                    qualifiers: None,
                    embedded_data_specifications: None,
                    $( $rfield: $rfield.into(), )*
                    $($( $vfield: Some($vfield.into()), )*)?
                    $( $ofield: None, )*
                }
            }

            /// Sets `idShort` (builder style).
            pub fn with_id_short(mut self, id_short: impl Into<String>) -> Self {
                self.id_short = Some(id_short.into());
                self
            }
        }
    };
}

submodel_element_struct! {
    /// A relationship between two elements.
    RelationshipElement {
        required {}
        required_in_v30 { first: Reference, second: Reference }
        optional {}
    }
}

submodel_element_struct! {
    /// A relationship with data elements that annotate it.
    AnnotatedRelationshipElement {
        required {}
        required_in_v30 { first: Reference, second: Reference }
        optional { annotations: Option<Vec<DataElement>> }
    }
}

submodel_element_struct! {
    /// A single value of a data type.
    Property {
        required { value_type: DataTypeDefXsd }
        optional { value: Option<String>, value_id: Option<Reference> }
    }
}

submodel_element_struct! {
    /// A value given in several languages.
    MultiLanguageProperty {
        required {}
        optional { value: Option<Vec<LangStringTextType>>, value_id: Option<Reference> }
    }
}

submodel_element_struct! {
    /// A range of values between `min` and `max`.
    Range {
        required { value_type: DataTypeDefXsd }
        optional { min: Option<String>, max: Option<String> }
    }
}

submodel_element_struct! {
    /// A reference as the value of an element.
    ReferenceElement {
        required {}
        optional { value: Option<Reference> }
    }
}

submodel_element_struct! {
    /// Binary data inside the model.
    Blob {
        required {}
        required_in_v30 { content_type: String }
        optional { value: Option<Vec<u8>> }
    }
}

submodel_element_struct! {
    /// A file, by its path or URI.
    File {
        required {}
        required_in_v30 { content_type: String }
        optional { value: Option<String> }
    }
}

submodel_element_struct! {
    /// A set of submodel elements, identified by their idShorts.
    SubmodelElementCollection {
        required {}
        optional { value: Option<Vec<SubmodelElement>> }
    }
}

submodel_element_struct! {
    /// An ordered list of submodel elements of one type.
    SubmodelElementList {
        required { type_value_list_element: AasSubmodelElements }
        optional {
            order_relevant: Option<bool>,
            semantic_id_list_element: Option<Reference>,
            value_type_list_element: Option<DataTypeDefXsd>,
            value: Option<Vec<SubmodelElement>>,
        }
    }
}

submodel_element_struct! {
    /// An entity: a thing that is not the asset itself, with statements about it.
    Entity {
        required {}
        required_in_v30 { entity_type: EntityType }
        optional {
            statements: Option<Vec<SubmodelElement>>,
            global_asset_id: Option<String>,
            specific_asset_ids: Option<Vec<SpecificAssetId>>,
        }
    }
}

submodel_element_struct! {
    /// An event source or sink.
    BasicEventElement {
        required { observed: Reference, direction: Direction, state: StateOfEvent }
        optional {
            message_topic: Option<String>,
            message_broker: Option<Reference>,
            last_update: Option<String>,
            min_interval: Option<String>,
            max_interval: Option<String>,
        }
    }
}

submodel_element_struct! {
    /// An operation with its input, output and in-out variables.
    Operation {
        required {}
        optional {
            input_variables: Option<Vec<OperationVariable>>,
            output_variables: Option<Vec<OperationVariable>>,
            inoutput_variables: Option<Vec<OperationVariable>>,
        }
    }
}

submodel_element_struct! {
    /// A capability of the asset.
    Capability {
        required {}
        optional {}
    }
}

/// A variable of an [`Operation`]: a submodel element that describes it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct OperationVariable {
    pub value: SubmodelElement,
}

impl OperationVariable {
    /// A variable described by a submodel element.
    pub fn new(value: impl Into<SubmodelElement>) -> Self {
        Self {
            value: value.into(),
        }
    }
}

/// The payload of an event sent by a `BasicEventElement` (not part of an environment).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct EventPayload {
    pub source: Reference,
    pub source_semantic_id: Option<Reference>,
    pub observable_reference: Reference,
    pub observable_semantic_id: Option<Reference>,
    pub topic: Option<String>,
    pub subject_id: Option<Reference>,
    /// `xs:dateTime` in UTC, as written.
    pub time_stamp: String,
    pub payload: Option<Vec<u8>>,
}

impl EventPayload {
    /// A payload with its required attributes.
    pub fn new(
        source: Reference,
        observable_reference: Reference,
        time_stamp: impl Into<String>,
    ) -> Self {
        Self {
            source,
            source_semantic_id: None,
            observable_reference,
            observable_semantic_id: None,
            topic: None,
            subject_id: None,
            time_stamp: time_stamp.into(),
            payload: None,
        }
    }
}

/// A concept description: the semantics of an element.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ConceptDescription {
    pub extensions: Option<Vec<Extension>>,
    pub category: Option<String>,
    pub id_short: Option<String>,
    pub display_name: Option<Vec<LangStringNameType>>,
    pub description: Option<Vec<LangStringTextType>>,
    pub administration: Option<AdministrativeInformation>,
    pub id: String,
    pub embedded_data_specifications: Option<Vec<EmbeddedDataSpecification>>,
    pub is_case_of: Option<Vec<Reference>>,
}

impl ConceptDescription {
    /// A concept description with an identifier.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            extensions: None,
            category: None,
            id_short: None,
            display_name: None,
            description: None,
            administration: None,
            id: id.into(),
            embedded_data_specifications: None,
            is_case_of: None,
        }
    }
}

/// A container of shells, submodels and concept descriptions: the root of a file.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Environment {
    pub asset_administration_shells: Option<Vec<AssetAdministrationShell>>,
    pub submodels: Option<Vec<Submodel>>,
    pub concept_descriptions: Option<Vec<ConceptDescription>>,
}

impl Environment {
    /// An empty environment.
    pub fn new() -> Self {
        Self::default()
    }
}

/// A data specification attached to an element, with its content.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct EmbeddedDataSpecification {
    pub data_specification: Reference,
    pub data_specification_content: DataSpecificationContent,
}

/// The content of a data specification. V3.0 defines one kind, IEC 61360.
///
/// Not `#[non_exhaustive]`: serializers must handle every kind, so a new one is a breaking
/// change for them anyway.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum DataSpecificationContent {
    DataSpecificationIec61360(DataSpecificationIec61360),
}

impl From<DataSpecificationIec61360> for DataSpecificationContent {
    fn from(content: DataSpecificationIec61360) -> Self {
        DataSpecificationContent::DataSpecificationIec61360(content)
    }
}

/// Which of the min, nominal, typical and max values a property carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct LevelType {
    pub min: bool,
    pub nom: bool,
    pub typ: bool,
    pub max: bool,
}

/// A value of an enumerated list, with the concept that defines it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ValueReferencePair {
    pub value: String,
    /// Required in V3.0, optional since V3.1.
    pub value_id: Option<Reference>,
}

/// The values a property may take.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ValueList {
    /// At least one pair.
    pub value_reference_pairs: Vec<ValueReferencePair>,
}

/// Data specification content after IEC 61360.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct DataSpecificationIec61360 {
    /// At least one name, one of them in English (AASc-3a-002).
    pub preferred_name: Vec<LangStringPreferredNameTypeIec61360>,
    pub short_name: Option<Vec<LangStringShortNameTypeIec61360>>,
    pub unit: Option<String>,
    pub unit_id: Option<Reference>,
    pub source_of_definition: Option<String>,
    pub symbol: Option<String>,
    pub data_type: Option<DataTypeIec61360>,
    pub definition: Option<Vec<LangStringDefinitionTypeIec61360>>,
    pub value_format: Option<String>,
    pub value_list: Option<ValueList>,
    pub value: Option<String>,
    pub level_type: Option<LevelType>,
}

impl DataSpecificationIec61360 {
    /// Content with its preferred names and nothing else.
    pub fn new(preferred_name: Vec<LangStringPreferredNameTypeIec61360>) -> Self {
        Self {
            preferred_name,
            short_name: None,
            unit: None,
            unit_id: None,
            source_of_definition: None,
            symbol: None,
            data_type: None,
            definition: None,
            value_format: None,
            value_list: None,
            value: None,
            level_type: None,
        }
    }
}
