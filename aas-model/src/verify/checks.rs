//! The checks of one node: its own attributes and its direct children, never deeper (the
//! walk in `mod.rs` visits every node). The set is aas-core's (aas-core-meta V3.0 and V3.1, as
//! aas-core3.0 and aas-core3.1 check them), with messages that say what to change. Where the
//! versions differ, the message names the version whose rule it is (`… (AAS V3.1)`), so that a
//! reader of a finding knows the other version may allow it.

use std::collections::HashSet;

use super::lexical::{self, char_len_exceeds, is_xml_serializable};
use crate::Version;
use crate::abstract_classes::{HasDataSpecification, HasSemantics, Qualifiable};
use crate::classes::*;
use crate::descend::{Node, Step};
use crate::enums::*;
use crate::submodel_element::SubmodelElement;

/// A finding before its path is known: where in the node (`None`: the node itself), which
/// rule, what to change.
pub(super) struct Raw {
    pub(super) at: Option<Step>,
    pub(super) rule: &'static str,
    pub(super) message: String,
}

pub(super) struct Out<'v> {
    found: &'v mut Vec<Raw>,
    version: Version,
}

/// The version as messages name it.
fn aas(version: Version) -> &'static str {
    match version {
        Version::V3_0 => "AAS V3.0",
        Version::V3_1 => "AAS V3.1",
    }
}

impl Out<'_> {
    /// A finding for an attribute that V3.0 requires and V3.1 made optional.
    fn required_in_v30<T>(&mut self, property: &'static str, value: &Option<T>) {
        if self.version == Version::V3_0 && value.is_none() {
            self.at(
                property,
                "required",
                format!("{property} is required in AAS V3.0; give it a value"),
            );
        }
    }

    fn node(&mut self, rule: &'static str, message: impl Into<String>) {
        self.found.push(Raw {
            at: None,
            rule,
            message: message.into(),
        });
    }

    fn at(&mut self, property: &'static str, rule: &'static str, message: impl Into<String>) {
        self.found.push(Raw {
            at: Some(Step {
                property,
                index: None,
            }),
            rule,
            message: message.into(),
        });
    }

    fn at_item(
        &mut self,
        property: &'static str,
        index: usize,
        rule: &'static str,
        message: impl Into<String>,
    ) {
        self.found.push(Raw {
            at: Some(Step {
                property,
                index: Some(index),
            }),
            rule,
            message: message.into(),
        });
    }
}

/// A value for a message: quoted, and shortened when long.
fn show(value: &str) -> String {
    const MAX: usize = 60;
    match value.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}…", &value[..cut]),
        None => format!("{value:?}"),
    }
}

// --- strings -----------------------------------------------------------------------------

/// The string types of the metamodel (§3 of the metamodel notes).
#[derive(Clone, Copy)]
enum Text {
    /// Any XML-serializable string, possibly empty (`ValueDataType`).
    Any,
    /// Non-empty, XML-serializable.
    NonEmpty,
    /// Non-empty, at most this many characters.
    Max(usize),
    /// `Identifier`: at most 2000 characters in V3.0, 2048 in V3.1.
    Identifier,
    /// `ValueTypeIec61360`: at most 2000 characters in V3.0, 2048 in V3.1.
    ValueTypeIec61360,
    IdShort,
    Version,
    ContentType,
    Path,
}

const IDENTIFIER: Text = Text::Identifier;
const NAME: Text = Text::Max(128);
const LABEL: Text = Text::Max(64);
const MESSAGE_TOPIC: Text = Text::Max(255);
const VALUE_TYPE_IEC_61360: Text = Text::ValueTypeIec61360;

fn check_text(out: &mut Out, property: &'static str, value: &str, kind: Text) {
    if !is_xml_serializable(value) {
        let (at, c) = value
            .chars()
            .enumerate()
            .find(|(_, c)| !is_xml_serializable(c.encode_utf8(&mut [0; 4])))
            .unwrap_or((0, '?'));
        out.at(
            property,
            "AASd-130",
            format!(
                "character U+{:04X} at position {at} is not allowed in XML; remove it",
                c as u32
            ),
        );
    }
    if matches!(kind, Text::Any) {
        return;
    }
    if value.is_empty() {
        out.at(
            property,
            "minLength",
            format!("{property} must not be empty; give a value or leave it out"),
        );
        return;
    }
    let v3_1 = out.version >= Version::V3_1;
    // `versioned`: the limit differs between the versions, so the message names the version.
    let (max, versioned) = match kind {
        Text::Max(max) => (max, false),
        Text::Identifier | Text::ValueTypeIec61360 | Text::Path => {
            (if v3_1 { 2048 } else { 2000 }, true)
        }
        Text::ContentType => (if v3_1 { 128 } else { 100 }, true),
        Text::IdShort => (128, false),
        Text::Version => (4, false),
        Text::Any | Text::NonEmpty => (usize::MAX, false),
    };
    if char_len_exceeds(value, max) {
        let count = value.chars().count();
        let message = if versioned {
            format!(
                "{property} has {count} characters; shorten it to at most {max} ({})",
                aas(out.version)
            )
        } else {
            format!("{property} has {count} characters; shorten it to at most {max}")
        };
        out.at(property, "maxLength", message);
    }
    match kind {
        Text::IdShort if !lexical::matches_id_short(value, out.version) => {
            let message = match out.version {
                Version::V3_0 => format!(
                    "idShort {} must start with a letter and hold only letters, digits and '_' (AAS V3.0)",
                    show(value)
                ),
                Version::V3_1 => format!(
                    "idShort {} must have at least two characters, start with a letter, hold only letters, digits, '_' and '-', and not end with '-' (AAS V3.1)",
                    show(value)
                ),
            };
            out.at(property, "AASd-002", message)
        }
        Text::Version if !lexical::matches_version(value) => out.at(
            property,
            "pattern",
            format!("{property} {} must be a number without leading zeros, such as \"1\" or \"12\"", show(value)),
        ),
        Text::ContentType if !lexical::matches_mime_type(value) => out.at(
            property,
            "pattern",
            format!("{} is not a MIME type (RFC 2046); write it as type/subtype, e.g. \"application/pdf\"", show(value)),
        ),
        Text::Path if !lexical::matches_rfc_2396(value) => out.at(
            property,
            "pattern",
            format!("{} is not a URI (RFC 2396); percent-encode spaces and other special characters", show(value)),
        ),
        _ => {}
    }
}

fn check_opt_text(out: &mut Out, property: &'static str, value: &Option<String>, kind: Text) {
    if let Some(value) = value {
        check_text(out, property, value, kind);
    }
}

fn check_date_time_utc(out: &mut Out, property: &'static str, value: &str) {
    if !lexical::matches_date_time_utc(value) {
        out.at(
            property,
            "pattern",
            format!(
                "{} is not an xs:dateTime in UTC; write e.g. \"2024-05-01T12:00:00Z\"",
                show(value)
            ),
        );
    } else if !lexical::is_date_time_utc(value) {
        out.at(
            property,
            "dateTimeUtc",
            format!(
                "{} names a day that does not exist (e.g. 29 February of a common year)",
                show(value)
            ),
        );
    }
}

fn check_duration(out: &mut Out, property: &'static str, value: &Option<String>) {
    if let Some(value) = value
        && !lexical::matches_duration(value)
    {
        out.at(
            property,
            "pattern",
            format!(
                "{} is not an xs:duration; write e.g. \"PT5S\" or \"P1DT2H\"",
                show(value)
            ),
        );
    }
}

fn check_value_type(
    out: &mut Out,
    property: &'static str,
    value: &Option<String>,
    value_type: DataTypeDefXsd,
    rule: &'static str,
) {
    if let Some(value) = value
        && !lexical::value_matches_type_as(value, value_type, out.version)
    {
        // Only xs:anyURI differs between the versions (an IRI in V3.0, an ASCII URI in V3.1).
        let message = if value_type == DataTypeDefXsd::AnyUri {
            format!(
                "{} is not a valid {value_type} value; fix the value or the valueType ({})",
                show(value),
                aas(out.version)
            )
        } else {
            format!(
                "{} is not a valid {value_type} value; fix the value or the valueType",
                show(value)
            )
        };
        out.at(property, rule, message);
    }
}

// --- lists -------------------------------------------------------------------------------

fn check_not_empty<T>(out: &mut Out, property: &'static str, list: &Option<Vec<T>>) {
    if list.as_ref().is_some_and(Vec::is_empty) {
        out.at(
            property,
            "minItems",
            format!("{property} is an empty list; leave it out or add at least one item"),
        );
    }
}

fn check_unique_languages(out: &mut Out, property: &'static str, list: Option<&Vec<LangString>>) {
    let mut seen = HashSet::new();
    for (i, s) in list.into_iter().flatten().enumerate() {
        if !seen.insert(s.language.as_str()) {
            out.at_item(
                property,
                i,
                "uniqueLanguages",
                format!(
                    "language {} appears twice in {property}; keep one text per language",
                    show(&s.language)
                ),
            );
            return;
        }
    }
}

fn check_lang_strings(out: &mut Out, property: &'static str, list: &Option<Vec<LangString>>) {
    check_not_empty(out, property, list);
    check_unique_languages(out, property, list.as_ref());
}

// --- abstract classes --------------------------------------------------------------------

fn check_referable(
    out: &mut Out,
    category: &Option<String>,
    id_short: &Option<String>,
    extensions: &Option<Vec<Extension>>,
    display_name: &Option<Vec<LangString>>,
    description: &Option<Vec<LangString>>,
) {
    check_not_empty(out, "extensions", extensions);
    let mut names = HashSet::new();
    for (i, extension) in extensions.iter().flatten().enumerate() {
        if !names.insert(extension.name.as_str()) {
            out.at_item(
                "extensions",
                i,
                "AASd-077",
                format!(
                    "extension name {} is used twice; names must be unique",
                    show(&extension.name)
                ),
            );
            break;
        }
    }
    check_lang_strings(out, "description", description);
    check_lang_strings(out, "displayName", display_name);
    check_opt_text(out, "category", category, NAME);
    check_opt_text(out, "idShort", id_short, Text::IdShort);
}

fn check_has_semantics<S: HasSemantics>(out: &mut Out, e: &S) {
    if let Some(list) = e.supplemental_semantic_ids() {
        if list.is_empty() {
            out.at(
                "supplementalSemanticIds",
                "minItems",
                "supplementalSemanticIds is an empty list; leave it out or add at least one item",
            );
        }
        if e.semantic_id().is_none() {
            out.at(
                "supplementalSemanticIds",
                "AASd-118",
                "supplemental semantic ids need a main semanticId; add one or remove them",
            );
        }
    }
}

fn check_qualifiable<Q: Qualifiable>(out: &mut Out, e: &Q) {
    if let Some(qualifiers) = e.qualifiers() {
        if qualifiers.is_empty() {
            out.at(
                "qualifiers",
                "minItems",
                "qualifiers is an empty list; leave it out or add at least one item",
            );
        }
        let mut types = HashSet::new();
        for (i, q) in qualifiers.iter().enumerate() {
            if !types.insert(q.type_.as_str()) {
                out.at_item(
                    "qualifiers",
                    i,
                    "AASd-021",
                    format!(
                        "qualifier type {} is used twice; keep one qualifier per type",
                        show(&q.type_)
                    ),
                );
                break;
            }
        }
    }
}

fn check_has_data_specification<D: HasDataSpecification>(out: &mut Out, e: &D) {
    if e.embedded_data_specifications().is_some_and(Vec::is_empty) {
        out.at(
            "embeddedDataSpecifications",
            "minItems",
            "embeddedDataSpecifications is an empty list; leave it out or add at least one item",
        );
    }
}

fn has_template_qualifier(qualifiers: Option<&Vec<Qualifier>>) -> bool {
    qualifiers
        .into_iter()
        .flatten()
        .any(|q| q.kind == Some(QualifierKind::TemplateQualifier))
}

/// The Referable attributes of an element.
macro_rules! check_referable {
    ($out:expr, $e:expr) => {
        check_referable(
            $out,
            &$e.category,
            &$e.id_short,
            &$e.extensions,
            &$e.display_name,
            &$e.description,
        )
    };
}

/// Everything a shell, submodel or concept description has: Referable, HasDataSpecification, id.
macro_rules! check_identifiable {
    ($out:expr, $e:expr) => {{
        check_referable!($out, $e);
        check_has_data_specification($out, $e);
        check_text($out, "id", &$e.id, IDENTIFIER);
    }};
}

/// Everything a submodel element has: Referable, HasSemantics, Qualifiable, HasDataSpecification.
macro_rules! check_submodel_element {
    ($out:expr, $e:expr) => {{
        check_referable!($out, $e);
        check_has_semantics($out, $e);
        check_qualifiable($out, $e);
        check_has_data_specification($out, $e);
    }};
}

/// AASd-090: the category of a data element (V3.0 only: V3.1 removed it with `category`
/// deprecated).
fn check_data_element_category(out: &mut Out, category: &Option<String>) {
    if out.version == Version::V3_0
        && let Some(category) = category
        && !matches!(category.as_str(), "CONSTANT" | "PARAMETER" | "VARIABLE")
    {
        out.at("category", "AASd-090", format!("category {} is not allowed for a data element; use CONSTANT, PARAMETER or VARIABLE (AAS V3.0)", show(category)));
    }
}

/// AASd-117: children that are not items of a list need an idShort.
fn check_children_have_id_short<'e>(
    out: &mut Out,
    property: &'static str,
    children: impl Iterator<Item = Option<&'e str>>,
) {
    for (i, id_short) in children.enumerate() {
        if id_short.is_none() {
            out.at_item(
                property,
                i,
                "AASd-117",
                format!("this element of {property} has no idShort; give it one"),
            );
        }
    }
}

/// AASd-022: idShorts unique among siblings.
fn check_unique_id_shorts<'e>(
    out: &mut Out,
    property: &'static str,
    children: impl Iterator<Item = Option<&'e str>>,
) {
    // Most containers hold a few named children: those are compared pairwise on the stack
    // (no allocation, which was a quarter of verifying a typical submodel); larger ones are
    // sorted rather than hashed (no hashing of every name, one allocation). Both report every
    // repeated name after its first use, in item order.
    const PAIRWISE: usize = 16;
    let mut few: [(&str, usize); PAIRWISE] = [("", 0); PAIRWISE];
    let mut len = 0;
    let mut many: Option<Vec<(&str, usize)>> = None;
    for (i, id_short) in children.enumerate() {
        let Some(id_short) = id_short else { continue };
        match &mut many {
            Some(named) => named.push((id_short, i)),
            None if len < PAIRWISE => {
                few[len] = (id_short, i);
                len += 1;
            }
            None => {
                let mut named = few.to_vec();
                named.push((id_short, i));
                many = Some(named);
            }
        }
    }
    let twice: Vec<(usize, &str)> = match many {
        None => (1..len)
            .filter(|&k| few[..k].iter().any(|(name, _)| *name == few[k].0))
            .map(|k| (few[k].1, few[k].0))
            .collect(),
        Some(mut named) => {
            named.sort_unstable();
            let mut twice: Vec<(usize, &str)> = named
                .windows(2)
                .filter(|pair| pair[0].0 == pair[1].0)
                .map(|pair| (pair[1].1, pair[1].0))
                .collect();
            twice.sort_unstable();
            twice
        }
    };
    for (i, id_short) in twice {
        out.at_item(
            property,
            i,
            "AASd-022",
            format!(
                "idShort {} is used twice in {property}; rename one of them",
                show(id_short)
            ),
        );
    }
}

fn is_model_reference_to(reference: &Reference, expected: KeyTypes) -> bool {
    reference.type_ == ReferenceTypes::ModelReference
        && reference.keys.last().is_some_and(|k| k.type_ == expected)
}

fn is_model_reference_to_referable(reference: &Reference) -> bool {
    reference.type_ == ReferenceTypes::ModelReference
        && reference
            .keys
            .last()
            .is_some_and(|k| k.type_.is_aas_referable())
}

// --- classes -----------------------------------------------------------------------------

/// The checks of one node. `step` is where the node stands in its parent (it decides the
/// maximum length of lang strings).
pub(super) fn check(node: Node<'_>, step: Option<Step>, version: Version, found: &mut Vec<Raw>) {
    let out = &mut Out { found, version };
    match node {
        Node::Environment(e) => {
            check_not_empty(
                out,
                "assetAdministrationShells",
                &e.asset_administration_shells,
            );
            check_not_empty(out, "submodels", &e.submodels);
            check_not_empty(out, "conceptDescriptions", &e.concept_descriptions);
        }
        Node::AssetAdministrationShell(e) => {
            check_identifiable!(out, e);
            check_not_empty(out, "submodels", &e.submodels);
            if e.derived_from
                .as_ref()
                .is_some_and(|r| !is_model_reference_to(r, KeyTypes::AssetAdministrationShell))
            {
                out.at(
                    "derivedFrom",
                    "modelReference",
                    "derivedFrom must be a model reference to an asset administration shell",
                );
            }
            for (i, r) in e.submodels.iter().flatten().enumerate() {
                if !is_model_reference_to(r, KeyTypes::Submodel) {
                    out.at_item(
                        "submodels",
                        i,
                        "modelReference",
                        "each entry of submodels must be a model reference to a submodel",
                    );
                }
            }
        }
        Node::AssetInformation(e) => check_asset_information(out, e),
        Node::Resource(e) => {
            check_text(out, "path", &e.path, Text::Path);
            check_opt_text(out, "contentType", &e.content_type, Text::ContentType);
        }
        Node::SpecificAssetId(e) => {
            check_has_semantics(out, e);
            if e.external_subject_id
                .as_ref()
                .is_some_and(|r| r.type_ != ReferenceTypes::ExternalReference)
            {
                out.at(
                    "externalSubjectId",
                    "AASd-133",
                    "externalSubjectId must be an external reference",
                );
            }
            check_text(out, "name", &e.name, LABEL);
            check_text(out, "value", &e.value, IDENTIFIER);
        }
        Node::Submodel(e) => check_submodel(out, e),
        Node::RelationshipElement(e) => {
            check_submodel_element!(out, e);
            out.required_in_v30("first", &e.first);
            out.required_in_v30("second", &e.second);
        }
        Node::AnnotatedRelationshipElement(e) => {
            check_submodel_element!(out, e);
            out.required_in_v30("first", &e.first);
            out.required_in_v30("second", &e.second);
            check_not_empty(out, "annotations", &e.annotations);
            check_children_have_id_short(
                out,
                "annotations",
                e.annotations.iter().flatten().map(|a| a.id_short()),
            );
        }
        Node::Property(e) => {
            check_submodel_element!(out, e);
            check_data_element_category(out, &e.category);
            check_value_type(out, "value", &e.value, e.value_type, "valueType");
            check_opt_text(out, "value", &e.value, Text::Any);
        }
        Node::MultiLanguageProperty(e) => {
            check_submodel_element!(out, e);
            check_data_element_category(out, &e.category);
            check_lang_strings(out, "value", &e.value);
        }
        Node::Range(e) => {
            check_submodel_element!(out, e);
            check_data_element_category(out, &e.category);
            check_value_type(out, "min", &e.min, e.value_type, "valueType");
            check_value_type(out, "max", &e.max, e.value_type, "valueType");
            check_opt_text(out, "min", &e.min, Text::Any);
            check_opt_text(out, "max", &e.max, Text::Any);
            if let (Some(min), Some(max)) = (&e.min, &e.max)
                && lexical::compare_numbers(min, max, e.value_type)
                    == Some(std::cmp::Ordering::Greater)
            {
                out.node(
                    "rangeOrder",
                    format!(
                        "min {} is greater than max {}; swap them",
                        show(min),
                        show(max)
                    ),
                );
            }
        }
        Node::ReferenceElement(e) => {
            check_submodel_element!(out, e);
            check_data_element_category(out, &e.category);
        }
        Node::Blob(e) => {
            check_submodel_element!(out, e);
            check_data_element_category(out, &e.category);
            check_opt_text(out, "contentType", &e.content_type, Text::ContentType);
            out.required_in_v30("contentType", &e.content_type);
        }
        Node::File(e) => {
            check_submodel_element!(out, e);
            check_data_element_category(out, &e.category);
            check_opt_text(out, "value", &e.value, Text::Path);
            check_opt_text(out, "contentType", &e.content_type, Text::ContentType);
            out.required_in_v30("contentType", &e.content_type);
        }
        Node::SubmodelElementCollection(e) => {
            check_submodel_element!(out, e);
            check_not_empty(out, "value", &e.value);
            check_children_have_id_short(
                out,
                "value",
                e.value.iter().flatten().map(SubmodelElement::id_short),
            );
            check_unique_id_shorts(
                out,
                "value",
                e.value.iter().flatten().map(SubmodelElement::id_short),
            );
        }
        Node::SubmodelElementList(e) => check_submodel_element_list(out, e),
        Node::Entity(e) => {
            check_submodel_element!(out, e);
            check_not_empty(out, "statements", &e.statements);
            check_children_have_id_short(
                out,
                "statements",
                e.statements.iter().flatten().map(SubmodelElement::id_short),
            );
            check_not_empty(out, "specificAssetIds", &e.specific_asset_ids);
            check_opt_text(out, "globalAssetId", &e.global_asset_id, IDENTIFIER);
            let has_specific = e.specific_asset_ids.as_ref().is_some_and(|l| !l.is_empty());
            out.required_in_v30("entityType", &e.entity_type);
            match e.entity_type {
                Some(EntityType::SelfManagedEntity) => {
                    if !((e.global_asset_id.is_some() && e.specific_asset_ids.is_none())
                        || (e.global_asset_id.is_none() && has_specific))
                    {
                        out.node("AASd-014", "a self-managed entity needs either a globalAssetId or specificAssetIds (one of the two, not both)");
                    }
                }
                // V3.1's AASd-014 says nothing of co-managed entities: they may carry asset ids.
                Some(EntityType::CoManagedEntity)
                    if out.version == Version::V3_0
                        && (e.global_asset_id.is_some() || e.specific_asset_ids.is_some()) =>
                {
                    out.node("AASd-014", "a co-managed entity must have neither globalAssetId nor specificAssetIds; remove them (AAS V3.0)");
                }
                Some(EntityType::CoManagedEntity) | None => {}
            }
        }
        Node::BasicEventElement(e) => {
            check_submodel_element!(out, e);
            if e.direction == Direction::Input && e.max_interval.is_some() {
                out.at("maxInterval", "maxInterval", "maxInterval does not apply to an input event; remove it or make the direction output");
            }
            if !is_model_reference_to_referable(&e.observed) {
                out.at(
                    "observed",
                    "modelReference",
                    "observed must be a model reference to a referable element",
                );
            }
            if e.message_broker
                .as_ref()
                .is_some_and(|r| !is_model_reference_to_referable(r))
            {
                out.at(
                    "messageBroker",
                    "modelReference",
                    "messageBroker must be a model reference to a referable element",
                );
            }
            check_opt_text(out, "messageTopic", &e.message_topic, MESSAGE_TOPIC);
            if let Some(last_update) = &e.last_update {
                check_date_time_utc(out, "lastUpdate", last_update);
            }
            check_duration(out, "minInterval", &e.min_interval);
            check_duration(out, "maxInterval", &e.max_interval);
        }
        Node::Operation(e) => {
            check_submodel_element!(out, e);
            let variables = [
                &e.input_variables,
                &e.output_variables,
                &e.inoutput_variables,
            ];
            let mut seen = HashSet::new();
            if let Some(id_short) = variables
                .iter()
                .copied()
                .flatten()
                .flatten()
                .filter_map(|v| v.value.id_short())
                .find(|id| !seen.insert(*id))
            {
                out.node("AASd-134", format!("idShort {} is used by two variables; idShorts of all input, output and in-out variables must differ", show(id_short)));
            }
            check_not_empty(out, "inputVariables", &e.input_variables);
            check_not_empty(out, "outputVariables", &e.output_variables);
            check_not_empty(out, "inoutputVariables", &e.inoutput_variables);
        }
        Node::OperationVariable(e) => {
            if e.value.id_short().is_none() {
                out.at(
                    "value",
                    "AASd-117",
                    "the element of an operation variable has no idShort; give it one",
                );
            }
        }
        Node::Capability(e) => check_submodel_element!(out, e),
        Node::ConceptDescription(e) => check_concept_description(out, e),
        Node::EventPayload(e) => {
            if !(is_model_reference_to(&e.source, KeyTypes::EventElement)
                || is_model_reference_to(&e.source, KeyTypes::BasicEventElement))
            {
                out.at(
                    "source",
                    "modelReference",
                    "source must be a model reference to an event element",
                );
            }
            if !is_model_reference_to_referable(&e.observable_reference) {
                out.at(
                    "observableReference",
                    "modelReference",
                    "observableReference must be a model reference to a referable element",
                );
            }
            check_opt_text(out, "topic", &e.topic, MESSAGE_TOPIC);
            check_date_time_utc(out, "timeStamp", &e.time_stamp);
        }
        Node::Extension(e) => {
            check_has_semantics(out, e);
            check_not_empty(out, "refersTo", &e.refers_to);
            check_value_type(
                out,
                "value",
                &e.value,
                e.value_type.unwrap_or(DataTypeDefXsd::String),
                "valueType",
            );
            check_text(out, "name", &e.name, NAME);
            check_opt_text(out, "value", &e.value, Text::Any);
        }
        Node::AdministrativeInformation(e) => {
            check_has_data_specification(out, e);
            if e.revision.is_some() && e.version.is_none() {
                out.at(
                    "revision",
                    "AASd-005",
                    "a revision needs a version; add a version or remove the revision",
                );
            }
            check_opt_text(out, "version", &e.version, Text::Version);
            check_opt_text(out, "revision", &e.revision, Text::Version);
            check_opt_text(out, "templateId", &e.template_id, IDENTIFIER);
        }
        Node::Qualifier(e) => {
            check_has_semantics(out, e);
            check_value_type(out, "value", &e.value, e.value_type, "AASd-020");
            check_text(out, "type", &e.type_, NAME);
            check_opt_text(out, "value", &e.value, Text::Any);
        }
        Node::Reference(e) => check_reference(out, e),
        Node::Key(e) => check_text(out, "value", &e.value, IDENTIFIER),
        Node::LangString(e) => {
            let max = match step.map(|s| s.property) {
                Some("displayName") => 128,
                Some("preferredName") => 255,
                Some("shortName") => 18,
                _ => 1023,
            };
            if !lexical::matches_bcp_47(&e.language) {
                out.at(
                    "language",
                    "pattern",
                    format!(
                        "{} is not a BCP 47 language tag; use e.g. \"en\" or \"de-DE\"",
                        show(&e.language)
                    ),
                );
            }
            check_text(out, "text", &e.text, Text::Max(max));
        }
        Node::EmbeddedDataSpecification(_) | Node::LevelType(_) => {}
        Node::DataSpecificationIec61360(e) => check_iec_61360(out, e),
        Node::ValueReferencePair(e) => {
            check_text(out, "value", &e.value, VALUE_TYPE_IEC_61360);
            out.required_in_v30("valueId", &e.value_id);
        }
        Node::ValueList(e) => {
            if e.value_reference_pairs.is_empty() {
                out.at(
                    "valueReferencePairs",
                    "minItems",
                    "a value list needs at least one value reference pair",
                );
            }
        }
    }
}

fn check_asset_information(out: &mut Out, e: &AssetInformation) {
    if out.version == Version::V3_0 && e.asset_kind == AssetKind::Role {
        out.at(
            "assetKind",
            "assetKind",
            "assetKind Role is new in AAS V3.1; V3.0 knows Type, Instance and NotApplicable",
        );
    }
    for (i, specific) in e.specific_asset_ids.iter().flatten().enumerate() {
        if specific.name == "globalAssetId"
            && e.global_asset_id.as_deref() != Some(specific.value.as_str())
        {
            out.at_item(
                "specificAssetIds",
                i,
                "AASd-116",
                "a specific asset id named \"globalAssetId\" must have the value of globalAssetId",
            );
        }
    }
    // As aas-core: an empty list of specific asset ids does not count, even beside a global id.
    let specific_ok = e.specific_asset_ids.as_ref().is_none_or(|l| !l.is_empty());
    if !((e.global_asset_id.is_some() || e.specific_asset_ids.is_some()) && specific_ok) {
        out.node(
            "AASd-131",
            "give the asset a globalAssetId or at least one specificAssetId",
        );
    }
    check_not_empty(out, "specificAssetIds", &e.specific_asset_ids);
    check_opt_text(out, "globalAssetId", &e.global_asset_id, IDENTIFIER);
    check_opt_text(out, "assetType", &e.asset_type, IDENTIFIER);
}

fn check_submodel(out: &mut Out, e: &Submodel) {
    check_identifiable!(out, e);
    check_has_semantics(out, e);
    check_qualifiable(out, e);
    check_not_empty(out, "submodelElements", &e.submodel_elements);
    let elements = e.submodel_elements.iter().flatten();
    check_children_have_id_short(
        out,
        "submodelElements",
        elements.clone().map(SubmodelElement::id_short),
    );
    check_unique_id_shorts(
        out,
        "submodelElements",
        elements.clone().map(SubmodelElement::id_short),
    );
    let template = e.kind == Some(ModellingKind::Template);
    if !template {
        for (i, element) in elements.enumerate() {
            if has_template_qualifier(element.qualifiers()) {
                out.at_item("submodelElements", i, "AASd-129", "this element has a template qualifier, so the submodel must have kind Template");
            }
        }
        if has_template_qualifier(e.qualifiers.as_ref()) {
            out.at("qualifiers", "AASd-119", "a template qualifier requires kind Template; set kind to Template or change the qualifier kind");
        }
    }
}

fn check_submodel_element_list(out: &mut Out, e: &SubmodelElementList) {
    check_submodel_element!(out, e);
    check_not_empty(out, "value", &e.value);
    let items = e.value.as_deref().unwrap_or_default();
    if let Some(list_semantic_id) = &e.semantic_id_list_element {
        for (i, item) in items.iter().enumerate() {
            if item
                .semantic_id()
                .is_some_and(|s| !key_values_equal(s, list_semantic_id))
            {
                out.at_item("value", i, "AASd-107", "the semanticId of this item differs from semanticIdListElement; make them identical");
            }
        }
    }
    let mut first_semantic_id = None;
    for (i, item) in items.iter().enumerate() {
        let Some(semantic_id) = item.semantic_id() else {
            continue;
        };
        match first_semantic_id {
            None => first_semantic_id = Some(semantic_id),
            Some(first) if !key_values_equal(first, semantic_id) => {
                out.at_item("value", i, "AASd-114", "the items of a list must have identical semanticIds; this one differs from the first");
                break;
            }
            Some(_) => {}
        }
    }
    for (i, item) in items.iter().enumerate() {
        if !is_of_type(item, e.type_value_list_element) {
            out.at_item(
                "value",
                i,
                "AASd-108",
                format!(
                    "this item is a {}, but typeValueListElement says {}",
                    item.element_type(),
                    e.type_value_list_element
                ),
            );
        }
    }
    // V3.1 (aas-core3.1) asks for valueTypeListElement only when the list has a value.
    if matches!(
        e.type_value_list_element,
        AasSubmodelElements::Property | AasSubmodelElements::Range
    ) && (out.version == Version::V3_0 || e.value.is_some())
    {
        match e.value_type_list_element {
            None if e.value.is_none() => out.at(
                "valueTypeListElement",
                "AASd-109",
                "a list of properties or ranges needs valueTypeListElement, even without items; set it (AAS V3.0)",
            ),
            None => out.at(
                "valueTypeListElement",
                "AASd-109",
                "a list of properties or ranges needs valueTypeListElement; set it",
            ),
            Some(expected) => {
                for (i, item) in items.iter().enumerate() {
                    let value_type = match item {
                        SubmodelElement::Property(p) => Some(p.value_type),
                        SubmodelElement::Range(r) => Some(r.value_type),
                        _ => None,
                    };
                    if value_type.is_some_and(|t| t != expected) {
                        out.at_item(
                            "value",
                            i,
                            "AASd-109",
                            format!(
                                "this item's valueType differs from valueTypeListElement {expected}"
                            ),
                        );
                    }
                }
            }
        }
    }
    match out.version {
        Version::V3_0 => {
            for (i, item) in items.iter().enumerate() {
                if item.id_short().is_some() {
                    out.at_item(
                        "value",
                        i,
                        "AASd-120",
                        "items of a submodel element list must not have an idShort; remove it (AAS V3.0)",
                    );
                }
            }
        }
        // V3.1 removed AASd-120; items may be named, and then, as siblings anywhere, uniquely
        // (AASd-022). aas-core3.1 1.0.0 does not check this; the issue asks for it.
        Version::V3_1 => {
            let mut seen = HashSet::new();
            for (i, item) in items.iter().enumerate() {
                if let Some(id_short) = item.id_short()
                    && !seen.insert(id_short)
                {
                    out.at_item(
                        "value",
                        i,
                        "AASd-022",
                        format!(
                            "idShort {} is used twice in this list; rename one of them (AAS V3.1)",
                            show(id_short)
                        ),
                    );
                }
            }
        }
    }
}

fn key_values_equal(a: &Reference, b: &Reference) -> bool {
    a.keys.len() == b.keys.len() && a.keys.iter().zip(&b.keys).all(|(x, y)| x.value == y.value)
}

fn is_of_type(element: &SubmodelElement, expected: AasSubmodelElements) -> bool {
    use AasSubmodelElements as T;
    match expected {
        T::SubmodelElement => true,
        T::DataElement => element.is_data_element(),
        T::EventElement => matches!(element, SubmodelElement::BasicEventElement(_)),
        other => element.element_type() == other,
    }
}

fn check_concept_description(out: &mut Out, e: &ConceptDescription) {
    check_identifiable!(out, e);
    check_not_empty(out, "isCaseOf", &e.is_case_of);
    let Some(specifications) = &e.embedded_data_specifications else {
        return;
    };
    let iec: Vec<&DataSpecificationIec61360> = specifications
        .iter()
        .map(|s| match &s.data_specification_content {
            DataSpecificationContent::DataSpecificationIec61360(c) => c,
        })
        .collect();
    let has_english_definition = |c: &&DataSpecificationIec61360| {
        c.definition
            .iter()
            .flatten()
            .any(|d| lexical::is_english(&d.language))
    };
    if !(iec.iter().all(has_english_definition) || iec.iter().all(|c| c.value.is_some())) {
        out.at("embeddedDataSpecifications", "AASc-3a-008", "an IEC 61360 definition in English is required (unless the concept describes a value); add one");
    }
    use DataTypeIec61360 as D;
    let category = e.category.as_deref();
    let rule = match category {
        Some("QUALIFIER_TYPE") => Some((
            "AASc-3a-007",
            None,
            "a QUALIFIER_TYPE concept needs the IEC 61360 dataType; set it",
        )),
        Some("DOCUMENT") => Some((
            "AASc-3a-006",
            Some(&[D::File, D::Blob, D::Html][..]),
            "a DOCUMENT concept needs IEC 61360 dataType FILE, BLOB or HTML",
        )),
        Some("REFERENCE") => Some((
            "AASc-3a-005",
            Some(&[D::String, D::Iri, D::Irdi][..]),
            "a REFERENCE concept needs IEC 61360 dataType STRING, IRI or IRDI",
        )),
        Some("PROPERTY" | "VALUE") => Some((
            "AASc-3a-004",
            Some(
                &[
                    D::Date,
                    D::String,
                    D::StringTranslatable,
                    D::IntegerMeasure,
                    D::IntegerCount,
                    D::IntegerCurrency,
                    D::RealMeasure,
                    D::RealCount,
                    D::RealCurrency,
                    D::Boolean,
                    D::Rational,
                    D::RationalMeasure,
                    D::Time,
                    D::Timestamp,
                ][..],
            ),
            "a PROPERTY or VALUE concept needs an IEC 61360 dataType suited to values (not FILE, BLOB, HTML, IRI or IRDI)",
        )),
        _ => None,
    };
    if let Some((id, allowed, message)) = rule {
        let fits = |c: &&DataSpecificationIec61360| match (c.data_type, allowed) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(t), Some(allowed)) => allowed.contains(&t),
        };
        if !iec.iter().all(fits) {
            out.at("embeddedDataSpecifications", id, message);
        }
    }
}

fn check_reference(out: &mut Out, e: &Reference) {
    let Some(first) = e.keys.first() else {
        out.at("keys", "minItems", "a reference needs at least one key");
        return;
    };
    let last = &e.keys[e.keys.len() - 1];
    if !first.type_.is_globally_identifiable() {
        out.at_item("keys", 0, "AASd-121", format!("the first key is a {}; it must be GlobalReference or an identifiable (AssetAdministrationShell, Submodel, ConceptDescription, Identifiable)", first.type_));
    }
    match e.type_ {
        ReferenceTypes::ExternalReference => {
            if first.type_ != KeyTypes::GlobalReference {
                out.at_item(
                    "keys",
                    0,
                    "AASd-122",
                    format!(
                        "the first key of an external reference must be GlobalReference, not {}",
                        first.type_
                    ),
                );
            }
            if !matches!(
                last.type_,
                KeyTypes::GlobalReference | KeyTypes::FragmentReference
            ) {
                out.at_item("keys", e.keys.len() - 1, "AASd-124", format!("the last key of an external reference must be GlobalReference or FragmentReference, not {}", last.type_));
            }
        }
        ReferenceTypes::ModelReference => {
            if !first.type_.is_aas_identifiable() {
                out.at_item("keys", 0, "AASd-123", format!("the first key of a model reference must be an identifiable (AssetAdministrationShell, Submodel, ConceptDescription, Identifiable), not {}", first.type_));
            }
            if e.keys.len() > 1 {
                if let Some(i) = e
                    .keys
                    .iter()
                    .skip(1)
                    .position(|k| !k.type_.is_fragment_key())
                {
                    out.at_item("keys", i + 1, "AASd-125", format!("key {} of a model reference is a {}; keys after the first must be submodel elements or FragmentReference", i + 1, e.keys[i + 1].type_));
                }
                if let Some(i) = e.keys[..e.keys.len() - 1]
                    .iter()
                    .position(|k| k.type_ == KeyTypes::FragmentReference)
                {
                    out.at_item(
                        "keys",
                        i,
                        "AASd-126",
                        "only the last key of a model reference may be a FragmentReference",
                    );
                }
                if last.type_ == KeyTypes::FragmentReference
                    && !matches!(
                        e.keys[e.keys.len() - 2].type_,
                        KeyTypes::File | KeyTypes::Blob
                    )
                {
                    out.at_item(
                        "keys",
                        e.keys.len() - 1,
                        "AASd-127",
                        "a FragmentReference key must follow a File or Blob key",
                    );
                }
            }
            if e.keys.len() > 2 {
                for (i, pair) in e.keys.windows(2).enumerate() {
                    if pair[0].type_ == KeyTypes::SubmodelElementList
                        && !lexical::matches_non_negative_integer(&pair[1].value)
                    {
                        out.at_item("keys", i + 1, "AASd-128", format!("the key after a SubmodelElementList key must be an index (0, 1, …), not {}", show(&pair[1].value)));
                    }
                }
            }
        }
    }
}

fn check_iec_61360(out: &mut Out, e: &DataSpecificationIec61360) {
    if e.value.is_some() && e.value_list.is_some() {
        out.node("AASc-3a-010", "give either value or valueList, not both");
    }
    use DataTypeIec61360 as D;
    if e.data_type.is_some_and(|t| {
        matches!(
            t,
            D::IntegerMeasure
                | D::RealMeasure
                | D::RationalMeasure
                | D::IntegerCurrency
                | D::RealCurrency
        )
    }) && e.unit.is_none()
        && e.unit_id.is_none()
    {
        out.node(
            "AASc-3a-009",
            "a measure or currency data type needs a unit or unitId; add one",
        );
    }
    check_lang_strings(out, "definition", &e.definition);
    check_lang_strings(out, "shortName", &e.short_name);
    if e.preferred_name.is_empty() {
        out.at(
            "preferredName",
            "minItems",
            "preferredName needs at least one entry",
        );
    }
    check_unique_languages(out, "preferredName", Some(&e.preferred_name));
    if !e
        .preferred_name
        .iter()
        .any(|n| lexical::is_english(&n.language))
    {
        out.at(
            "preferredName",
            "AASc-3a-002",
            "preferredName needs an English entry (language \"en\" or \"en-…\"); add one",
        );
    }
    check_opt_text(out, "unit", &e.unit, Text::NonEmpty);
    check_opt_text(
        out,
        "sourceOfDefinition",
        &e.source_of_definition,
        Text::NonEmpty,
    );
    check_opt_text(out, "symbol", &e.symbol, Text::NonEmpty);
    check_opt_text(out, "valueFormat", &e.value_format, Text::NonEmpty);
    check_opt_text(out, "value", &e.value, VALUE_TYPE_IEC_61360);
}
