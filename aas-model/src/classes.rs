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
///
/// `Display` and `FromStr` give its string form after the book clause "Serialization of Values
/// of Type Reference": `[ModelRef](Submodel)urn:x, (Property)Temperature`, with the referred
/// semantic id inside the prefix when there is one: `[ModelRef- (GlobalReference)urn:s
/// -](Submodel)urn:x`. The prefix is optional when parsing; without it the type is taken from
/// the first key. Parsing refuses referred semantic ids nested deeper than
/// [`MAX_REFERENCE_NESTING`](crate::MAX_REFERENCE_NESTING) levels.
///
/// ```
/// use aas_model::Reference;
///
/// let r: Reference = "(Submodel)urn:x, (Property)Temperature".parse()?;
/// assert!(r.is_model_reference());
/// assert_eq!(r.to_string(), "[ModelRef](Submodel)urn:x, (Property)Temperature");
/// # Ok::<(), aas_model::ParseReferenceError>(())
/// ```
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
    /// `HasSemantics/semanticId`: the concept that defines the meaning of the element, e.g. a
    /// concept description or an ECLASS IRDI such as `0173-1#02-BAA120#008`.
    pub semantic_id: Option<Reference>,
    /// `HasSemantics/supplementalSemanticIds`: further concepts that refine the meaning given by
    /// `semantic_id`; only allowed together with it (AASd-118).
    pub supplemental_semantic_ids: Option<Vec<Reference>>,
    /// Name of the extension; unique among the extensions of an element (AASd-077).
    pub name: String,
    /// `valueType`: the data type of `value`; `xs:string` when unset.
    pub value_type: Option<DataTypeDefXsd>,
    /// `value`: the value, in the lexical form of `value_type` (e.g. `42` for `xs:int`), kept as
    /// written.
    pub value: Option<String>,
    /// `refersTo`: model references to the elements the extension is about.
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
    /// `HasDataSpecification/embeddedDataSpecifications`: data specification templates (such as IEC
    /// 61360) with their content, embedded in the element.
    pub embedded_data_specifications: Option<Vec<EmbeddedDataSpecification>>,
    /// `version`: the version of the element, decimal digits without leading zeros (`0`, `1`,
    /// `12`), at most 4 characters.
    pub version: Option<String>,
    /// `revision`: the revision within `version`, in the same form; only allowed together with
    /// `version` (AASd-005).
    pub revision: Option<String>,
    /// `creator`: the subject (person, organisation or system) that created the element.
    pub creator: Option<Reference>,
    /// `templateId`: the identifier of the template (e.g. a submodel template) the element was
    /// created from.
    pub template_id: Option<String>,
}

/// A qualifier: a type-value pair that qualifies an element.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Qualifier {
    /// `HasSemantics/semanticId`: the concept that defines the meaning of the element, e.g. a
    /// concept description or an ECLASS IRDI such as `0173-1#02-BAA120#008`.
    pub semantic_id: Option<Reference>,
    /// `HasSemantics/supplementalSemanticIds`: further concepts that refine the meaning given by
    /// `semantic_id`; only allowed together with it (AASd-118).
    pub supplemental_semantic_ids: Option<Vec<Reference>>,
    /// `kind`: whether the qualifier applies to the value, the concept or the template of the
    /// element; `ConceptQualifier` when unset. A `TemplateQualifier` makes the element a template
    /// (AASd-119, AASd-129).
    pub kind: Option<QualifierKind>,
    /// `type`: what the qualifier says, e.g. `Multiplicity`; non-empty, at most 128 characters,
    /// unique among the qualifiers of an element (AASd-021).
    pub type_: String,
    /// `valueType`: the data type of `value`.
    pub value_type: DataTypeDefXsd,
    /// `value`: the value, in the lexical form of `value_type` (AASd-020), kept as written.
    pub value: Option<String>,
    /// `valueId`: the coded value that `value` stands for; both must mean the same (AASd-006, not
    /// checkable here).
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
    /// `HasExtensions/extensions`: proprietary additions to the element as name-value pairs; their
    /// names are unique within the element (AASd-077).
    pub extensions: Option<Vec<Extension>>,
    /// `Referable/category`: the class of the element, which decides which meta-information it has;
    /// at most 128 characters. For data elements V3.0 allows only `CONSTANT`, `PARAMETER` and
    /// `VARIABLE` (AASd-090); deprecated in V3.1.
    pub category: Option<String>,
    /// `Referable/idShort`: a short name for display and for idShort paths, not the identifier
    /// (that is `id`); the pattern of AASd-002, at most 128 characters.
    pub id_short: Option<String>,
    /// `Referable/displayName`: the name to show to people, in one or more languages (one entry per
    /// language; texts of at most 128 characters).
    pub display_name: Option<Vec<LangStringNameType>>,
    /// `Referable/description`: what the element is, in one or more languages (one entry per
    /// language; texts of at most 1023 characters).
    pub description: Option<Vec<LangStringTextType>>,
    /// `Identifiable/administration`: the version and revision of the element, its creator and the
    /// template it was made from.
    pub administration: Option<AdministrativeInformation>,
    /// `Identifiable/id`: the globally unique identifier (an IRI, IRDI or other string); non-empty,
    /// at most 2000 characters (V3.1: 2048). Model references point to it.
    pub id: String,
    /// `HasDataSpecification/embeddedDataSpecifications`: data specification templates (such as IEC
    /// 61360) with their content, embedded in the element.
    pub embedded_data_specifications: Option<Vec<EmbeddedDataSpecification>>,
    /// `derivedFrom`: model reference to the shell this one is derived from, e.g. the shell of the
    /// asset type for a shell of an instance.
    pub derived_from: Option<Reference>,
    /// `assetInformation`: the asset the shell represents: its kind and identifiers.
    pub asset_information: AssetInformation,
    /// `submodels`: model references to the submodels of the shell, each with one key of type
    /// `Submodel` whose value is the submodel's `id`.
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
    /// `assetKind`: whether the asset is a type, an instance, neither (`NotApplicable`) or, since
    /// V3.1, a role.
    pub asset_kind: AssetKind,
    /// `globalAssetId`: the globally unique identifier of the asset; this or `specific_asset_ids`
    /// must be given (AASd-131).
    pub global_asset_id: Option<String>,
    /// `specificAssetIds`: identifiers of the asset that some party assigned (serial number, part
    /// number, …); one named `globalAssetId` must equal `global_asset_id` (AASd-116).
    pub specific_asset_ids: Option<Vec<SpecificAssetId>>,
    /// `assetType`: the identifier of the asset's type, e.g. the product type of an instance.
    pub asset_type: Option<String>,
    /// `defaultThumbnail`: a picture of the asset, as a path into the AASX package or a URI.
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
    /// `path`: the file's address, an absolute or relative URI (RFC 2396: no raw spaces, write
    /// `%20`); non-empty, at most 2000 characters (V3.1: 2048).
    pub path: String,
    /// `contentType`: the MIME type of the file (RFC 2046), e.g. `image/png`; at most 100
    /// characters (V3.1: 128).
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
    /// `HasSemantics/semanticId`: the concept that defines the meaning of the element, e.g. a
    /// concept description or an ECLASS IRDI such as `0173-1#02-BAA120#008`.
    pub semantic_id: Option<Reference>,
    /// `HasSemantics/supplementalSemanticIds`: further concepts that refine the meaning given by
    /// `semantic_id`; only allowed together with it (AASd-118).
    pub supplemental_semantic_ids: Option<Vec<Reference>>,
    /// `name`: what kind of identifier this is, e.g. `SerialNumber`; non-empty, at most 64
    /// characters.
    pub name: String,
    /// `value`: the identifier; non-empty, at most 2000 characters (V3.1: 2048).
    pub value: String,
    /// `externalSubjectId`: the party for which the identifier is meaningful (who may see it); an
    /// external reference (AASd-133).
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
    /// `HasExtensions/extensions`: proprietary additions to the element as name-value pairs; their
    /// names are unique within the element (AASd-077).
    pub extensions: Option<Vec<Extension>>,
    /// `Referable/category`: the class of the element, which decides which meta-information it has;
    /// at most 128 characters. For data elements V3.0 allows only `CONSTANT`, `PARAMETER` and
    /// `VARIABLE` (AASd-090); deprecated in V3.1.
    pub category: Option<String>,
    /// `Referable/idShort`: a short name for display and for idShort paths, not the identifier
    /// (that is `id`); the pattern of AASd-002, at most 128 characters.
    pub id_short: Option<String>,
    /// `Referable/displayName`: the name to show to people, in one or more languages (one entry per
    /// language; texts of at most 128 characters).
    pub display_name: Option<Vec<LangStringNameType>>,
    /// `Referable/description`: what the element is, in one or more languages (one entry per
    /// language; texts of at most 1023 characters).
    pub description: Option<Vec<LangStringTextType>>,
    /// `Identifiable/administration`: the version and revision of the element, its creator and the
    /// template it was made from.
    pub administration: Option<AdministrativeInformation>,
    /// `Identifiable/id`: the globally unique identifier (an IRI, IRDI or other string); non-empty,
    /// at most 2000 characters (V3.1: 2048). Model references point to it.
    pub id: String,
    /// `HasKind/kind`: whether the submodel is a template or an instance; `Instance` when unset. A
    /// `TemplateQualifier` anywhere in it requires `Template` (AASd-119, AASd-129).
    pub kind: Option<ModellingKind>,
    /// `HasSemantics/semanticId`: the concept that defines the meaning of the element, e.g. a
    /// concept description or an ECLASS IRDI such as `0173-1#02-BAA120#008`.
    pub semantic_id: Option<Reference>,
    /// `HasSemantics/supplementalSemanticIds`: further concepts that refine the meaning given by
    /// `semantic_id`; only allowed together with it (AASd-118).
    pub supplemental_semantic_ids: Option<Vec<Reference>>,
    /// `Qualifiable/qualifiers`: qualifiers of the element (multiplicity, constraints, …); at most
    /// one per qualifier `type` (AASd-021).
    pub qualifiers: Option<Vec<Qualifier>>,
    /// `HasDataSpecification/embeddedDataSpecifications`: data specification templates (such as IEC
    /// 61360) with their content, embedded in the element.
    pub embedded_data_specifications: Option<Vec<EmbeddedDataSpecification>>,
    /// `submodelElements`: the top-level elements of the submodel; their idShorts are unique
    /// (AASd-022).
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
            /// `HasExtensions/extensions`: proprietary additions to the element as name-value
            /// pairs; their names are unique within the element (AASd-077).
            pub extensions: Option<Vec<Extension>>,
            /// `Referable/category`: the class of the element, which decides which meta-information
            /// it has; at most 128 characters. For data elements V3.0 allows only `CONSTANT`,
            /// `PARAMETER` and `VARIABLE` (AASd-090); deprecated in V3.1.
            pub category: Option<String>,
            /// `Referable/idShort`: the element's name, unique among its siblings (AASd-022): a
            /// letter, then letters, digits and `_` (AASd-002; V3.1 also allows `-`, not as the
            /// last character, and needs at least two characters), at most 128 characters. Required
            /// unless the element is a direct item of a [`SubmodelElementList`] (AASd-117); V3.0
            /// forbids it there (AASd-120).
            pub id_short: Option<String>,
            /// `Referable/displayName`: the name to show to people, in one or more languages (one
            /// entry per language; texts of at most 128 characters).
            pub display_name: Option<Vec<LangStringNameType>>,
            /// `Referable/description`: what the element is, in one or more languages (one entry
            /// per language; texts of at most 1023 characters).
            pub description: Option<Vec<LangStringTextType>>,
            /// `HasSemantics/semanticId`: the concept that defines the meaning of the element, e.g.
            /// a concept description or an ECLASS IRDI such as `0173-1#02-BAA120#008`.
            pub semantic_id: Option<Reference>,
            /// `HasSemantics/supplementalSemanticIds`: further concepts that refine the meaning
            /// given by `semantic_id`; only allowed together with it (AASd-118).
            pub supplemental_semantic_ids: Option<Vec<Reference>>,
            /// `Qualifiable/qualifiers`: qualifiers of the element (multiplicity, constraints, …);
            /// at most one per qualifier `type` (AASd-021).
            pub qualifiers: Option<Vec<Qualifier>>,
            /// `HasDataSpecification/embeddedDataSpecifications`: data specification templates
            /// (such as IEC 61360) with their content, embedded in the element.
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
    /// `RelationshipElement`: a relationship between two elements, `first` and `second`, whose
    /// meaning the semantic id gives (e.g. "is part of").
    RelationshipElement {
        required {}
        required_in_v30 {
            /// `first`: reference to the first element of the relationship, the subject.
            /// Required in V3.0, optional since V3.1.
            first: Reference,
            /// `second`: reference to the second element of the relationship, the object.
            /// Required in V3.0, optional since V3.1.
            second: Reference,
        }
        optional {}
    }
}

submodel_element_struct! {
    /// `AnnotatedRelationshipElement`: a relationship between two elements with data elements
    /// that annotate it (e.g. the torque of a screw connection).
    AnnotatedRelationshipElement {
        required {}
        required_in_v30 {
            /// `first`: reference to the first element of the relationship, the subject.
            /// Required in V3.0, optional since V3.1.
            first: Reference,
            /// `second`: reference to the second element of the relationship, the object.
            /// Required in V3.0, optional since V3.1.
            second: Reference,
        }
        optional {
            /// `annotations`: data elements that describe the relationship; their idShorts are
            /// unique (AASd-022).
            annotations: Option<Vec<DataElement>>,
        }
    }
}

submodel_element_struct! {
    /// `Property`: a single value of an XML Schema data type, e.g. a rotation speed of
    /// `5000` as `xs:double`.
    Property {
        required {
            /// `valueType`: the data type of `value`.
            value_type: DataTypeDefXsd,
        }
        optional {
            /// `value`: the value, in the lexical form of `value_type` (e.g. `5000`, `true`,
            /// `2024-01-31`), kept exactly as written.
            value: Option<String>,
            /// `valueId`: the coded value that `value` stands for, e.g. an ECLASS value IRDI;
            /// both must mean the same (AASd-007, not checkable here).
            value_id: Option<Reference>,
        }
    }
}

submodel_element_struct! {
    /// `MultiLanguageProperty`: a text value given in several languages.
    MultiLanguageProperty {
        required {}
        optional {
            /// `value`: the text, one entry per language (texts of at most 1023 characters).
            value: Option<Vec<LangStringTextType>>,
            /// `valueId`: the coded value the texts stand for; they must mean the same (AASd-012,
            /// not checkable here).
            value_id: Option<Reference>,
        }
    }
}

submodel_element_struct! {
    /// `Range`: a range of values of an XML Schema data type, between `min` and `max`.
    Range {
        required {
            /// `valueType`: the data type of `min` and `max`.
            value_type: DataTypeDefXsd,
        }
        optional {
            /// `min`: the lower bound, in the lexical form of `value_type`; unset means no lower
            /// bound. Not above `max` (rule `rangeOrder`).
            min: Option<String>,
            /// `max`: the upper bound, in the lexical form of `value_type`; unset means no upper
            /// bound.
            max: Option<String>,
        }
    }
}

submodel_element_struct! {
    /// `ReferenceElement`: a reference as the value of an element, to a model element or to
    /// something outside the model.
    ReferenceElement {
        required {}
        optional {
            /// `value`: the reference the element holds.
            value: Option<Reference>,
        }
    }
}

submodel_element_struct! {
    /// `Blob`: binary data held inside the model, with its MIME type.
    Blob {
        required {}
        required_in_v30 {
            /// `contentType`: the MIME type of `value` (RFC 2046), e.g. `application/pdf`; at
            /// most 100 characters (V3.1: 128). Required in V3.0, optional since V3.1.
            content_type: String,
        }
        optional {
            /// `value`: the bytes (base64 in JSON and XML).
            value: Option<Vec<u8>>,
        }
    }
}

submodel_element_struct! {
    /// `File`: a file, by its path inside an AASX package or its URI, with its MIME type.
    File {
        required {}
        required_in_v30 {
            /// `contentType`: the MIME type of the file (RFC 2046), e.g. `application/pdf`; at
            /// most 100 characters (V3.1: 128). Required in V3.0, optional since V3.1.
            content_type: String,
        }
        optional {
            /// `value`: the file's address, an absolute or relative URI (RFC 2396), e.g.
            /// `/aasx/files/manual.pdf` inside a package; at most 2000 characters (V3.1: 2048).
            value: Option<String>,
        }
    }
}

submodel_element_struct! {
    /// `SubmodelElementCollection`: a set of submodel elements, each named by its idShort.
    SubmodelElementCollection {
        required {}
        optional {
            /// `value`: the elements of the collection; their idShorts are unique (AASd-022).
            value: Option<Vec<SubmodelElement>>,
        }
    }
}

submodel_element_struct! {
    /// `SubmodelElementList`: a list of submodel elements of one class, addressed by index
    /// (`Readings[2]`).
    SubmodelElementList {
        required {
            /// `typeValueListElement`: the class every item has (AASd-108).
            type_value_list_element: AasSubmodelElements,
        }
        optional {
            /// `orderRelevant`: whether the order of the items has a meaning; `true` when unset.
            order_relevant: Option<bool>,
            /// `semanticIdListElement`: the semantic id of the items; an item's own semantic id,
            /// when set, equals it (AASd-107).
            semantic_id_list_element: Option<Reference>,
            /// `valueTypeListElement`: the `valueType` of every item when the items are
            /// properties or ranges (AASd-109).
            value_type_list_element: Option<DataTypeDefXsd>,
            /// `value`: the items, in order. V3.0 forbids them an idShort (AASd-120); V3.1
            /// allows it, unique within the list.
            value: Option<Vec<SubmodelElement>>,
        }
    }
}

submodel_element_struct! {
    /// `Entity`: a thing described by statements, e.g. a part in a bill of material: either
    /// co-managed (described only here) or self-managed (an asset with its own shell).
    Entity {
        required {}
        required_in_v30 {
            /// `entityType`: whether the entity is co-managed or self-managed. Required in V3.0,
            /// optional since V3.1.
            entity_type: EntityType,
        }
        optional {
            /// `statements`: the elements that describe the entity; their idShorts are unique
            /// (AASd-022).
            statements: Option<Vec<SubmodelElement>>,
            /// `globalAssetId`: the global identifier of the entity's asset; a self-managed
            /// entity needs this or `specific_asset_ids`, a co-managed one has neither
            /// (AASd-014; V3.1 constrains only self-managed entities).
            global_asset_id: Option<String>,
            /// `specificAssetIds`: identifiers of the entity's asset that some party assigned;
            /// the same rule as `global_asset_id` (AASd-014).
            specific_asset_ids: Option<Vec<SpecificAssetId>>,
        }
    }
}

submodel_element_struct! {
    /// `BasicEventElement`: the declaration of an event that the shell sends (`output`) or
    /// receives (`input`) about an observed element.
    BasicEventElement {
        required {
            /// `observed`: model reference to the element whose changes the event reports (a
            /// shell, submodel or submodel element).
            observed: Reference,
            /// `direction`: `output` if the event is sent, `input` if it is received.
            direction: Direction,
            /// `state`: whether the event is active (`on`) or not (`off`).
            state: StateOfEvent,
        }
        optional {
            /// `messageTopic`: the topic the events are sent under (e.g. an MQTT topic); at
            /// most 255 characters.
            message_topic: Option<String>,
            /// `messageBroker`: model reference to the element that describes the broker the
            /// events go through.
            message_broker: Option<Reference>,
            /// `lastUpdate`: when the event was last sent or received, an `xs:dateTime` in UTC
            /// (rule `dateTimeUtc`), kept as written.
            last_update: Option<String>,
            /// `minInterval`: the shortest time between two events, an `xs:duration` such as
            /// `PT1S`: for `output`, how often at most they are sent; for `input`, how often
            /// the receiver can take them.
            min_interval: Option<String>,
            /// `maxInterval`: for `output` only (rule `maxInterval`), the longest time between
            /// two events, an `xs:duration`: they are sent at least this often, even without
            /// a change.
            max_interval: Option<String>,
        }
    }
}

submodel_element_struct! {
    /// `Operation`: a function the asset offers, with its input, output and in-out variables.
    /// The idShorts of all its variables are unique together (AASd-134).
    Operation {
        required {}
        optional {
            /// `inputVariables`: the arguments the operation reads.
            input_variables: Option<Vec<OperationVariable>>,
            /// `outputVariables`: the results the operation returns.
            output_variables: Option<Vec<OperationVariable>>,
            /// `inoutputVariables`: the arguments the operation reads and returns changed.
            inoutput_variables: Option<Vec<OperationVariable>>,
        }
    }
}

submodel_element_struct! {
    /// `Capability`: the implementation-independent description of something the asset can
    /// do (e.g. drilling), with its meaning in the semantic id.
    Capability {
        required {}
        optional {}
    }
}

/// A variable of an [`Operation`]: a submodel element that describes it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct OperationVariable {
    /// `value`: the submodel element that describes the variable: its idShort names the variable,
    /// its class, `valueType` and semantic id say what it holds.
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
    /// `source`: model reference to the `BasicEventElement` that sent the event.
    pub source: Reference,
    /// `sourceSemanticId`: the semantic id of the sending event element, so a receiver can filter
    /// without looking it up.
    pub source_semantic_id: Option<Reference>,
    /// `observableReference`: model reference to the element the event is about (the event
    /// element's `observed`).
    pub observable_reference: Reference,
    /// `observableSemanticId`: the semantic id of the observed element.
    pub observable_semantic_id: Option<Reference>,
    /// `topic`: the topic the event was sent under (e.g. an MQTT topic); at most 255 characters.
    pub topic: Option<String>,
    /// `subjectId`: external reference to the subject (person or system) that caused the event.
    pub subject_id: Option<Reference>,
    /// `xs:dateTime` in UTC, as written.
    pub time_stamp: String,
    /// `payload`: event-specific data as bytes (base64 in JSON and XML).
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
    /// `HasExtensions/extensions`: proprietary additions to the element as name-value pairs; their
    /// names are unique within the element (AASd-077).
    pub extensions: Option<Vec<Extension>>,
    /// `Referable/category`: the class of the element, which decides which meta-information it has;
    /// at most 128 characters. For data elements V3.0 allows only `CONSTANT`, `PARAMETER` and
    /// `VARIABLE` (AASd-090); deprecated in V3.1.
    pub category: Option<String>,
    /// `Referable/idShort`: a short name for display and for idShort paths, not the identifier
    /// (that is `id`); the pattern of AASd-002, at most 128 characters.
    pub id_short: Option<String>,
    /// `Referable/displayName`: the name to show to people, in one or more languages (one entry per
    /// language; texts of at most 128 characters).
    pub display_name: Option<Vec<LangStringNameType>>,
    /// `Referable/description`: what the element is, in one or more languages (one entry per
    /// language; texts of at most 1023 characters).
    pub description: Option<Vec<LangStringTextType>>,
    /// `Identifiable/administration`: the version and revision of the element, its creator and the
    /// template it was made from.
    pub administration: Option<AdministrativeInformation>,
    /// `Identifiable/id`: the globally unique identifier (an IRI, IRDI or other string); non-empty,
    /// at most 2000 characters (V3.1: 2048). Model references point to it.
    pub id: String,
    /// `HasDataSpecification/embeddedDataSpecifications`: data specification templates (such as IEC
    /// 61360) with their content, embedded in the element.
    pub embedded_data_specifications: Option<Vec<EmbeddedDataSpecification>>,
    /// `isCaseOf`: references to external definitions the concept is compatible with, e.g. an IEC
    /// CDD or ECLASS entry.
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
    /// `assetAdministrationShells`: the shells of the environment; identifiers unique.
    pub asset_administration_shells: Option<Vec<AssetAdministrationShell>>,
    /// `submodels`: the submodels of the environment; identifiers unique.
    pub submodels: Option<Vec<Submodel>>,
    /// `conceptDescriptions`: the concept descriptions that semantic ids of the environment may
    /// point to.
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
    /// `dataSpecification`: reference to the data specification template; for IEC 61360
    /// content `https://admin-shell.io/DataSpecificationTemplates/DataSpecificationIEC61360/3/0`
    /// (AASc-3a-050).
    pub data_specification: Reference,
    /// `dataSpecificationContent`: the attribute values the template defines.
    pub data_specification_content: DataSpecificationContent,
}

/// The content of a data specification. V3.0 defines one kind, IEC 61360.
///
/// Not `#[non_exhaustive]`: serializers must handle every kind, so a new one is a breaking
/// change for them anyway.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum DataSpecificationContent {
    /// `DataSpecificationIec61360`: the attributes of a concept after IEC 61360 (names,
    /// unit, data type, allowed values).
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
    /// `min`: the property has a minimum value.
    pub min: bool,
    /// `nom`: the property has a nominal value.
    pub nom: bool,
    /// `typ`: the property has a typical value.
    pub typ: bool,
    /// `max`: the property has a maximum value.
    pub max: bool,
}

/// A value of an enumerated list, with the concept that defines it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ValueReferencePair {
    /// `value`: the value as text, e.g. `red`; non-empty, at most 2000 characters (V3.1: 2048).
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
    /// `shortName`: an abbreviated name, in one or more languages (texts of at most 18 characters).
    pub short_name: Option<Vec<LangStringShortNameTypeIec61360>>,
    /// `unit`: the unit of measure as text, e.g. `1/min`; measures and currencies need this or
    /// `unit_id` (AASc-3a-009).
    pub unit: Option<String>,
    /// `unitId`: reference to the definition of the unit, e.g. its IEC CDD entry.
    pub unit_id: Option<Reference>,
    /// `sourceOfDefinition`: the document or standard the definition comes from.
    pub source_of_definition: Option<String>,
    /// `symbol`: the formula symbol of the quantity, e.g. `n`.
    pub symbol: Option<String>,
    /// `dataType`: the IEC 61360 data type of values of the concept; required and restricted by the
    /// concept description's category (AASc-3a-004 to AASc-3a-007).
    pub data_type: Option<DataTypeIec61360>,
    /// `definition`: the definition of the concept in one or more languages (texts of at most 1023
    /// characters); needs an English entry unless `value` is set (AASc-3a-008).
    pub definition: Option<Vec<LangStringDefinitionTypeIec61360>>,
    /// `valueFormat`: how values are written, e.g. an IEC 61360 format such as `NR1..5`.
    pub value_format: Option<String>,
    /// `valueList`: the values a property of this concept may take; not together with `value`
    /// (AASc-3a-010).
    pub value_list: Option<ValueList>,
    /// `value`: the one value of the concept, when it describes a value; not together with
    /// `value_list` (AASc-3a-010). At most 2000 characters (V3.1: 2048).
    pub value: Option<String>,
    /// `levelType`: which of the minimum, nominal, typical and maximum values a property of this
    /// concept carries.
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
