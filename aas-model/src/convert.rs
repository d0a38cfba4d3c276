//! Conversion of a model from one metamodel version to another, with a report of everything
//! that changes or stops being valid: nothing is dropped silently.
//!
//! [`check`] computes the report and leaves the model alone; [`convert`] refuses (and leaves
//! the model alone) when the report is not empty, unless told to allow loss, and otherwise
//! applies the rules below and returns the report. Converting to the same version is a no-op
//! with an empty report.
//!
//! ```
//! use aas_model::convert::{check, convert};
//! use aas_model::*;
//!
//! let mut submodel = Submodel::new("urn:example:sm");
//! submodel.submodel_elements = Some(vec![Property::new(DataTypeDefXsd::String)
//!     .with_id_short("max-speed")
//!     .into()]);
//!
//! // V3.0 has no hyphens in idShorts: converting down is refused unless loss is allowed.
//! assert!(convert(&mut submodel, Version::V3_1, Version::V3_0, false).is_err());
//! let report = convert(&mut submodel, Version::V3_1, Version::V3_0, true)?;
//! assert_eq!(report.entries[0].path, "submodelElements[0].idShort");
//! let renamed = submodel.submodel_elements.iter().flatten().next().and_then(|e| e.id_short());
//! assert_eq!(renamed, Some("max_speed"));
//! # let _ = check(&Submodel::new("urn:x"), Version::V3_0, Version::V3_1);
//! # Ok::<(), aas_model::convert::ConversionRefused>(())
//! ```
//!
//! # 3.0 → 3.1
//!
//! V3.1 is almost a superset of V3.0, so the model is not changed. What a V3.1 reader refuses is
//! listed, each entry with no rule (`rule: None`: kept, and invalid in V3.1): exactly the
//! findings of [`verify_as`]`(model, V3_1)` that [`verify_as`]`(model, V3_0)` does not have
//! (same path and rule). Typical: one-character idShorts, `File` values and resource paths
//! with spaces or non-ASCII characters, `xs:anyURI` values with non-ASCII characters.
//!
//! # 3.1 → 3.0
//!
//! What V3.0 cannot carry is changed by exactly one rule each; the report entry names the rule
//! applied. Entries come in document order, the kept findings after the changes. An element
//! that is removed is reported once, by its removal: no other rule is applied inside it, and
//! it is no longer a sibling when a rename is checked for collisions.
//!
//! The kept findings (`rule: None`) are exactly the findings of [`verify_as`]`(output, V3_0)`
//! except those (same path and rule) that the input already had under V3.1, at the same place
//! and with the removals applied: what was wrong before the conversion is not its doing.
//!
//! | V3.1 model has | V3.0 | rule applied |
//! |---|---|---|
//! | `assetKind` `Role` | no `Role` | set to `NotApplicable` |
//! | `File` / `Blob` without `contentType` | required | set to `application/octet-stream` |
//! | `Entity` without `entityType` | required | `SelfManagedEntity` when it has a `globalAssetId` or `specificAssetIds`, else `CoManagedEntity` |
//! | `RelationshipElement` / `AnnotatedRelationshipElement` without `first` or `second` | required | the element is removed (an operation variable holding it too); a list left empty is removed |
//! | `ValueReferencePair` without `valueId` | required | the pair is removed; a `valueList` left empty is removed |
//! | idShort with `-` | pattern `[a-zA-Z][a-zA-Z0-9_]*` | each `-` replaced by `_`; the entry says when the new idShort collides with a sibling's |
//! | idShort on an item of a `SubmodelElementList` | forbidden (AASd-120) | the idShort is removed |
//! | `category` of a data element other than `CONSTANT`, `PARAMETER`, `VARIABLE` | forbidden (AASd-090) | the category is removed |
//! | identifiers over 2000 characters, content types over 100, a rename's collision, anything else [`verify_as`]`(output, V3_0)` finds that the input did not break under V3.1 | — | none: kept, listed as staying invalid (`rule: None`) |
//!
//! References by idShort (model reference keys) are not rewritten when an idShort is renamed
//! or an element removed; each rename and removal is in the report.
//!
//! # Paths
//!
//! Paths are written as verification findings write them, from the root of the model converted:
//! `submodels[0].submodelElements[2].idShort`. An entry with a rule names the place the rule was
//! applied to in the **input** (a removed element has no place in the output); an entry without
//! one (kept) names the place in the **output**, where [`verify_as`] finds it. The two differ only
//! after a removal: when `submodelElements[1]` is removed, the input's `submodelElements[3]` is
//! the output's `submodelElements[2]`. Going up changes nothing, so input and output paths are
//! the same.

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::descend::Node;
use crate::submodel_element::{DataElement, SubmodelElement};
use crate::verify::verify_as;
use crate::{
    AssetAdministrationShell, AssetKind, ConceptDescription, DataSpecificationContent,
    EmbeddedDataSpecification, EntityType, Environment, OperationVariable, Submodel, Version,
};

/// What a conversion did or would do to one place of the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionEntry {
    /// Path in the JSON mapping's names, as in verification findings: in the input model for
    /// an entry with a rule, in the output for a kept one (see the [module docs](self#paths)).
    pub path: String,
    /// What the target version cannot carry, or what stops being valid in it.
    pub problem: String,
    /// The documented rule applied (`None`: the value is kept and stays invalid).
    pub rule: Option<String>,
}

impl fmt::Display for ConversionEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)?;
        if let Some(rule) = &self.rule {
            write!(f, "; {rule}")?;
        }
        Ok(())
    }
}

/// Everything a conversion changes or leaves invalid; empty when nothing is lost.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConversionReport {
    /// The version converted from.
    pub from: Version,
    /// The version converted to.
    pub to: Version,
    /// One entry per change or problem, in document order.
    pub entries: Vec<ConversionEntry>,
}

impl ConversionReport {
    /// Whether the conversion keeps everything (the model is the same and valid).
    pub fn is_lossless(&self) -> bool {
        self.entries.is_empty()
    }
}

impl fmt::Display for ConversionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AAS {} -> {}: {} problem(s)",
            self.from,
            self.to,
            self.entries.len()
        )?;
        for entry in &self.entries {
            write!(f, "\n  {entry}")?;
        }
        Ok(())
    }
}

/// A conversion that would lose something, refused: the model is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{report}\n(refused: allow loss to convert anyway)")]
pub struct ConversionRefused {
    /// What the conversion would have changed or left invalid.
    pub report: ConversionReport,
}

/// What can be converted: an environment and each identifiable on its own, and an event
/// payload (it holds only references, a time stamp and bytes: no rule changes it, and the report
/// lists what becomes invalid, such as a key value longer than V3.0 allows).
pub trait Convertible: sealed::Sealed {}

impl Convertible for Environment {}
impl Convertible for Submodel {}
impl Convertible for AssetAdministrationShell {}
impl Convertible for ConceptDescription {}
impl Convertible for crate::EventPayload {}

mod sealed {
    use super::{ConversionEntry, Down};
    use crate::descend::Node;

    /// The walks a conversion needs; private, so that the set of convertible classes stays ours.
    pub trait Sealed: Clone {
        fn node(&self) -> Node<'_>;
        /// Applies the in-place rules of 3.1 → 3.0 and returns their entries, removals
        /// included (paths in the model as it was).
        fn down(&mut self) -> Vec<ConversionEntry>;
        /// Removes what V3.0 cannot carry (by the predicates [`Sealed::down`] reports by).
        fn prune(&mut self);
    }

    impl Sealed for crate::Environment {
        fn node(&self) -> Node<'_> {
            self.into()
        }
        fn down(&mut self) -> Vec<ConversionEntry> {
            let mut walk = Down::default();
            walk.environment(self);
            walk.entries
        }
        fn prune(&mut self) {
            super::prune_environment(self);
        }
    }
    impl Sealed for crate::Submodel {
        fn node(&self) -> Node<'_> {
            self.into()
        }
        fn down(&mut self) -> Vec<ConversionEntry> {
            let mut walk = Down::default();
            walk.submodel(self);
            walk.entries
        }
        fn prune(&mut self) {
            super::prune_submodel(self);
        }
    }
    impl Sealed for crate::AssetAdministrationShell {
        fn node(&self) -> Node<'_> {
            self.into()
        }
        fn down(&mut self) -> Vec<ConversionEntry> {
            let mut walk = Down::default();
            walk.shell(self);
            walk.entries
        }
        fn prune(&mut self) {
            super::prune_shell(self);
        }
    }
    impl Sealed for crate::EventPayload {
        fn node(&self) -> Node<'_> {
            self.into()
        }
        fn down(&mut self) -> Vec<ConversionEntry> {
            Vec::new()
        }
        fn prune(&mut self) {}
    }
    impl Sealed for crate::ConceptDescription {
        fn node(&self) -> Node<'_> {
            self.into()
        }
        fn down(&mut self) -> Vec<ConversionEntry> {
            let mut walk = Down::default();
            walk.concept_description(self);
            walk.entries
        }
        fn prune(&mut self) {
            super::prune_concept_description(self);
        }
    }
}

/// The report of converting `model` from `from` to `to`, without changing it.
pub fn check<T: Convertible>(model: &T, from: Version, to: Version) -> ConversionReport {
    if from == to {
        return ConversionReport {
            from,
            to,
            entries: Vec::new(),
        };
    }
    if from < to {
        return up(model, from, to);
    }
    let mut copy = model.clone();
    run(&mut copy, from, to)
}

/// Converts `model` from `from` to `to`. When the report is not empty and `allow_loss` is
/// false, refuses and leaves `model` unchanged; otherwise applies each documented rule (see
/// the [module docs](self)) and returns the report.
pub fn convert<T: Convertible>(
    model: &mut T,
    from: Version,
    to: Version,
    allow_loss: bool,
) -> Result<ConversionReport, ConversionRefused> {
    if from == to {
        return Ok(check(model, from, to));
    }
    if from < to {
        // Going up changes nothing: the report is all there is.
        let report = up(model, from, to);
        return if report.is_lossless() || allow_loss {
            Ok(report)
        } else {
            Err(ConversionRefused { report })
        };
    }
    let mut copy = model.clone();
    let report = run(&mut copy, from, to);
    if !report.is_lossless() && !allow_loss {
        return Err(ConversionRefused { report });
    }
    *model = copy;
    Ok(report)
}

/// Where the findings of two versions differ: the key of a finding is its path and rule (the
/// messages name their version, so they never compare equal).
fn finding_keys(node: Node<'_>, version: Version) -> HashSet<(String, &'static str)> {
    verify_as(node, version)
        .map(|f| (f.path().to_owned(), f.rule()))
        .collect()
}

/// 3.0 → 3.1 (and any step up): the model stays; what the newer version refuses is listed.
fn up<T: Convertible>(model: &T, from: Version, to: Version) -> ConversionReport {
    let before = finding_keys(model.node(), from);
    let entries = verify_as(model.node(), to)
        .filter(|f| !before.contains(&(f.path().to_owned(), f.rule())))
        .map(|f| ConversionEntry {
            path: f.path().to_owned(),
            problem: format!("{}: {} (kept; invalid in AAS V{to})", f.rule(), f.message()),
            rule: None,
        })
        .collect();
    ConversionReport { from, to, entries }
}

/// A step down (the only one there is: V3.1 → V3.0): applies the rules to `model`, a copy
/// the caller owns, so that a refusal leaves the caller's model as it was.
fn run<T: Convertible>(model: &mut T, from: Version, to: Version) -> ConversionReport {
    // What the input already breaks in `from` is not the conversion's doing. It is taken from
    // the input with the removals applied: its paths are those of the output (the other rules
    // change no index), and what was removed is no longer there to break anything.
    let before = {
        let mut pruned = model.clone();
        pruned.prune();
        finding_keys(pruned.node(), from)
    };
    let mut entries = model.down();
    model.prune();
    entries.extend(
        verify_as(model.node(), to)
            .filter(|f| !before.contains(&(f.path().to_owned(), f.rule())))
            .map(|f| ConversionEntry {
                path: f.path().to_owned(),
                problem: format!(
                    "{}: {} (kept; stays invalid in AAS V{to})",
                    f.rule(),
                    f.message()
                ),
                rule: None,
            }),
    );
    ConversionReport { from, to, entries }
}

// --- 3.1 → 3.0: the in-place rules ------------------------------------------------------

const OCTET_STREAM: &str = "application/octet-stream";

/// The walk of a step down: the path of the node being visited (in the model as it was) and
/// the entries so far. What is to be removed is reported here and removed afterwards, by the
/// `prune_*` functions.
#[derive(Debug, Default)]
pub(crate) struct Down {
    path: String,
    entries: Vec<ConversionEntry>,
}

/// What the visit of one submodel element found that its parent must act on.
#[derive(Default)]
struct Visited {
    /// The element lacks what V3.0 requires and has no default: it goes (and nothing inside
    /// it is visited).
    remove: bool,
    /// The entry of its renamed idShort and the new idShort, to note collisions.
    renamed: Option<(usize, String)>,
}

impl Down {
    fn enter(&mut self, property: &str) -> usize {
        let len = self.path.len();
        if !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(property);
        len
    }

    fn enter_item(&mut self, property: &str, index: usize) -> usize {
        let len = self.enter(property);
        self.path.push('[');
        self.path.push_str(&index.to_string());
        self.path.push(']');
        len
    }

    fn leave(&mut self, len: usize) {
        self.path.truncate(len);
    }

    fn path_of(&self, property: &str) -> String {
        if self.path.is_empty() {
            property.to_owned()
        } else {
            format!("{}.{property}", self.path)
        }
    }

    fn entry(&mut self, property: Option<&str>, problem: String, rule: String) -> usize {
        let path = match property {
            Some(property) => self.path_of(property),
            None => self.path.clone(),
        };
        self.entries.push(ConversionEntry {
            path,
            problem,
            rule: Some(rule),
        });
        self.entries.len() - 1
    }

    fn environment(&mut self, e: &mut Environment) {
        for (i, shell) in e
            .asset_administration_shells
            .iter_mut()
            .flatten()
            .enumerate()
        {
            let len = self.enter_item("assetAdministrationShells", i);
            self.shell(shell);
            self.leave(len);
        }
        for (i, submodel) in e.submodels.iter_mut().flatten().enumerate() {
            let len = self.enter_item("submodels", i);
            self.submodel(submodel);
            self.leave(len);
        }
        for (i, cd) in e.concept_descriptions.iter_mut().flatten().enumerate() {
            let len = self.enter_item("conceptDescriptions", i);
            self.concept_description(cd);
            self.leave(len);
        }
    }

    fn shell(&mut self, e: &mut AssetAdministrationShell) {
        self.id_short(&mut e.id_short, false);
        self.administration(&mut e.administration);
        self.data_specifications(&mut e.embedded_data_specifications);
        if e.asset_information.asset_kind == AssetKind::Role {
            e.asset_information.asset_kind = AssetKind::NotApplicable;
            self.entry(
                Some("assetInformation.assetKind"),
                "assetKind Role is new in AAS V3.1".into(),
                "set to NotApplicable".into(),
            );
        }
    }

    fn submodel(&mut self, e: &mut Submodel) {
        self.id_short(&mut e.id_short, false);
        self.administration(&mut e.administration);
        self.data_specifications(&mut e.embedded_data_specifications);
        self.elements("submodelElements", &mut e.submodel_elements, false);
    }

    fn concept_description(&mut self, e: &mut ConceptDescription) {
        self.id_short(&mut e.id_short, false);
        self.administration(&mut e.administration);
        self.data_specifications(&mut e.embedded_data_specifications);
    }

    fn administration(&mut self, administration: &mut Option<crate::AdministrativeInformation>) {
        if let Some(administration) = administration {
            let len = self.enter("administration");
            self.data_specifications(&mut administration.embedded_data_specifications);
            self.leave(len);
        }
    }

    /// Value reference pairs without `valueId` are marked for removal (V3.0 requires one and
    /// there is no reference to make up).
    fn data_specifications(&mut self, list: &mut Option<Vec<EmbeddedDataSpecification>>) {
        for (i, eds) in list.iter_mut().flatten().enumerate() {
            let DataSpecificationContent::DataSpecificationIec61360(iec) =
                &mut eds.data_specification_content;
            let Some(value_list) = &iec.value_list else {
                continue;
            };
            let pairs = &value_list.value_reference_pairs;
            let missing = pairs.iter().filter(|p| p.value_id.is_none()).count();
            if missing == 0 {
                continue;
            }
            let emptied = missing == pairs.len();
            let len = self.enter_item("embeddedDataSpecifications", i);
            let inner = self.enter("dataSpecificationContent.valueList");
            for (j, pair) in pairs.iter().enumerate() {
                if pair.value_id.is_some() {
                    continue;
                }
                let at = self.enter_item("valueReferencePairs", j);
                let rule = if emptied {
                    "the value reference pair is removed, and with it the valueList it leaves empty"
                } else {
                    "the value reference pair is removed"
                };
                self.entry(
                    None,
                    format!(
                        "value reference pair {:?} has no valueId, which AAS V3.0 requires",
                        pair.value
                    ),
                    rule.into(),
                );
                self.leave(at);
            }
            self.leave(inner);
            self.leave(len);
        }
    }

    /// AASd-120 for items of a list; hyphens otherwise. Returns the entry and the new idShort
    /// of a rename.
    fn id_short(
        &mut self,
        id_short: &mut Option<String>,
        list_item: bool,
    ) -> Option<(usize, String)> {
        let value = id_short.as_ref()?;
        if list_item {
            self.entry(
                Some("idShort"),
                format!(
                    "idShort {value:?} on an item of a submodel element list; AAS V3.0 forbids it (AASd-120)"
                ),
                "idShort removed".into(),
            );
            *id_short = None;
            return None;
        }
        if !value.contains('-') {
            return None;
        }
        let renamed = value.replace('-', "_");
        let index = self.entry(
            Some("idShort"),
            format!("idShort {value:?} has '-', which AAS V3.0 does not allow"),
            format!("'-' replaced by '_': {renamed:?}"),
        );
        *id_short = Some(renamed.clone());
        Some((index, renamed))
    }

    /// AASd-090 (V3.0 only).
    fn category(&mut self, category: &mut Option<String>) {
        if let Some(value) = category
            && !matches!(value.as_str(), "CONSTANT" | "PARAMETER" | "VARIABLE")
        {
            self.entry(
                Some("category"),
                format!(
                    "category {value:?} of a data element; AAS V3.0 allows only CONSTANT, PARAMETER and VARIABLE (AASd-090)"
                ),
                "category removed".into(),
            );
            *category = None;
        }
    }

    fn content_type(&mut self, content_type: &mut Option<String>) {
        if content_type.is_none() {
            self.entry(
                Some("contentType"),
                "contentType is missing; AAS V3.0 requires it".into(),
                format!("set to {OCTET_STREAM:?}"),
            );
            *content_type = Some(OCTET_STREAM.into());
        }
    }

    /// Reports the removal of an element V3.0 cannot carry (see [`unfit`]); `false` when it
    /// stays.
    fn removal(&mut self, element: &SubmodelElement) -> bool {
        let Some((what, missing)) = unfit(element) else {
            return false;
        };
        self.entry(
            None,
            format!("{what} without {missing}, which AAS V3.0 requires"),
            format!("the {what} is removed"),
        );
        true
    }

    /// The submodel elements of `property`, siblings of one another; `list`: items of a
    /// `SubmodelElementList`.
    fn elements(
        &mut self,
        property: &str,
        elements: &mut Option<Vec<SubmodelElement>>,
        list: bool,
    ) {
        let Some(elements) = elements else {
            return;
        };
        let mut renamed = Vec::new();
        for (i, element) in elements.iter_mut().enumerate() {
            let len = self.enter_item(property, i);
            renamed.extend(self.element(element, list).renamed);
            self.leave(len);
        }
        let remaining = elements
            .iter()
            .filter(|e| unfit(e).is_none())
            .map(SubmodelElement::id_short);
        self.note_collisions(&renamed, remaining, "AASd-022");
    }

    /// A renamed idShort that another of `siblings` (those that remain) also has breaks
    /// `rule` (AASd-022, or AASd-134 for operation variables): say so in the rename's entry
    /// (the finding is also listed as kept). Linear in the number of siblings.
    fn note_collisions<'e>(
        &mut self,
        renamed: &[(usize, String)],
        siblings: impl Iterator<Item = Option<&'e str>>,
        rule: &str,
    ) {
        if renamed.is_empty() {
            return;
        }
        let mut uses: HashMap<&str, usize> = HashMap::new();
        for id_short in siblings.flatten() {
            *uses.entry(id_short).or_default() += 1;
        }
        for (entry, name) in renamed {
            if uses.get(name.as_str()).is_some_and(|&n| n > 1)
                && let Some(text) = self
                    .entries
                    .get_mut(*entry)
                    .and_then(|entry| entry.rule.as_mut())
            {
                text.push_str(&format!(
                    ", which a sibling already has ({rule} breaks: rename one)"
                ));
            }
        }
    }

    /// An element removed is reported by its removal only: the rules are not applied inside it.
    fn element(&mut self, element: &mut SubmodelElement, list_item: bool) -> Visited {
        use SubmodelElement as E;
        if self.removal(element) {
            return Visited {
                remove: true,
                renamed: None,
            };
        }
        let visited = Visited {
            remove: false,
            renamed: crate::submodel_element::each_submodel_element!(element, e => {
                let renamed = self.id_short(&mut e.id_short, list_item);
                self.data_specifications(&mut e.embedded_data_specifications);
                renamed
            }),
        };
        match element {
            E::RelationshipElement(_) => {}
            E::AnnotatedRelationshipElement(e) => {
                let mut renamed = Vec::new();
                for (i, annotation) in e.annotations.iter_mut().flatten().enumerate() {
                    let len = self.enter_item("annotations", i);
                    renamed.extend(self.data_element(annotation));
                    self.leave(len);
                }
                let annotations = e.annotations.iter().flatten().map(DataElement::id_short);
                self.note_collisions(&renamed, annotations, "AASd-022");
            }
            E::Property(e) => self.category(&mut e.category),
            E::MultiLanguageProperty(e) => self.category(&mut e.category),
            E::Range(e) => self.category(&mut e.category),
            E::ReferenceElement(e) => self.category(&mut e.category),
            E::Blob(e) => {
                self.category(&mut e.category);
                self.content_type(&mut e.content_type);
            }
            E::File(e) => {
                self.category(&mut e.category);
                self.content_type(&mut e.content_type);
            }
            E::SubmodelElementCollection(e) => self.elements("value", &mut e.value, false),
            E::SubmodelElementList(e) => self.elements("value", &mut e.value, true),
            E::Entity(e) => {
                if e.entity_type.is_none() {
                    let (kind, why) =
                        if e.global_asset_id.is_some() || e.specific_asset_ids.is_some() {
                            (EntityType::SelfManagedEntity, "it has asset ids")
                        } else {
                            (EntityType::CoManagedEntity, "it has no asset ids")
                        };
                    self.entry(
                        Some("entityType"),
                        "entityType is missing; AAS V3.0 requires it".into(),
                        format!("set to {kind} ({why})"),
                    );
                    e.entity_type = Some(kind);
                }
                self.elements("statements", &mut e.statements, false);
            }
            E::Operation(e) => {
                let mut renamed = Vec::new();
                for (property, variables) in [
                    ("inputVariables", &mut e.input_variables),
                    ("outputVariables", &mut e.output_variables),
                    ("inoutputVariables", &mut e.inoutput_variables),
                ] {
                    for (i, variable) in variables.iter_mut().flatten().enumerate() {
                        let len = self.enter_item(property, i);
                        let inner = self.enter("value");
                        let visited = self.element(&mut variable.value, false);
                        self.leave(inner);
                        if visited.remove {
                            // The variable cannot stay without its element.
                            if let Some(rule) = self
                                .entries
                                .last_mut()
                                .and_then(|entry| entry.rule.as_mut())
                            {
                                rule.push_str(", with the operation variable holding it");
                            }
                        }
                        renamed.extend(visited.renamed);
                        self.leave(len);
                    }
                }
                // AASd-134: the idShorts of all variables that remain are one namespace.
                let all = [
                    &e.input_variables,
                    &e.output_variables,
                    &e.inoutput_variables,
                ]
                .into_iter()
                .flatten()
                .flatten()
                .filter(|v| unfit(&v.value).is_none())
                .map(|v| v.value.id_short());
                self.note_collisions(&renamed, all, "AASd-134");
            }
            E::BasicEventElement(_) | E::Capability(_) => {}
        }
        visited
    }

    fn data_element(&mut self, element: &mut DataElement) -> Option<(usize, String)> {
        use DataElement as D;
        let renamed = crate::submodel_element::each_data_element!(element, e => {
            let renamed = self.id_short(&mut e.id_short, false);
            self.data_specifications(&mut e.embedded_data_specifications);
            self.category(&mut e.category);
            renamed
        });
        match element {
            D::Blob(e) => self.content_type(&mut e.content_type),
            D::File(e) => self.content_type(&mut e.content_type),
            D::Property(_) | D::MultiLanguageProperty(_) | D::Range(_) | D::ReferenceElement(_) => {
            }
        }
        renamed
    }
}

// --- 3.1 → 3.0: the removals -------------------------------------------------------------

/// Whether V3.0 cannot carry this element at all: what it is and what it lacks. The one test
/// both the report ([`Down::removal`]) and the removal ([`prune_elements`]) go by.
fn unfit(element: &SubmodelElement) -> Option<(&'static str, &'static str)> {
    let (what, first, second) = match element {
        SubmodelElement::RelationshipElement(e) => ("relationship element", &e.first, &e.second),
        SubmodelElement::AnnotatedRelationshipElement(e) => {
            ("annotated relationship element", &e.first, &e.second)
        }
        _ => return None,
    };
    let missing = match (first.is_some(), second.is_some()) {
        (true, true) => return None,
        (false, true) => "first",
        (true, false) => "second",
        (false, false) => "first and second",
    };
    Some((what, missing))
}

/// Removes what `keep` refuses; a list left empty by that is removed too (an empty list is
/// invalid), one that was empty before stays as it was.
fn retain_list<T>(list: &mut Option<Vec<T>>, keep: impl FnMut(&T) -> bool) {
    if let Some(items) = list {
        let before = items.len();
        items.retain(keep);
        if items.is_empty() && before > 0 {
            *list = None;
        }
    }
}

fn prune_environment(e: &mut Environment) {
    for shell in e.asset_administration_shells.iter_mut().flatten() {
        prune_shell(shell);
    }
    for submodel in e.submodels.iter_mut().flatten() {
        prune_submodel(submodel);
    }
    for cd in e.concept_descriptions.iter_mut().flatten() {
        prune_concept_description(cd);
    }
}

fn prune_shell(e: &mut AssetAdministrationShell) {
    prune_administration(&mut e.administration);
    prune_data_specifications(&mut e.embedded_data_specifications);
}

fn prune_submodel(e: &mut Submodel) {
    prune_administration(&mut e.administration);
    prune_data_specifications(&mut e.embedded_data_specifications);
    prune_elements(&mut e.submodel_elements);
}

fn prune_concept_description(e: &mut ConceptDescription) {
    prune_administration(&mut e.administration);
    prune_data_specifications(&mut e.embedded_data_specifications);
}

fn prune_administration(administration: &mut Option<crate::AdministrativeInformation>) {
    if let Some(administration) = administration {
        prune_data_specifications(&mut administration.embedded_data_specifications);
    }
}

fn prune_data_specifications(list: &mut Option<Vec<EmbeddedDataSpecification>>) {
    for eds in list.iter_mut().flatten() {
        let DataSpecificationContent::DataSpecificationIec61360(iec) =
            &mut eds.data_specification_content;
        if let Some(value_list) = &mut iec.value_list {
            let pairs = &mut value_list.value_reference_pairs;
            let before = pairs.len();
            pairs.retain(|p| p.value_id.is_some());
            if pairs.is_empty() && before > 0 {
                iec.value_list = None;
            }
        }
    }
}

fn prune_elements(elements: &mut Option<Vec<SubmodelElement>>) {
    retain_list(elements, |e| unfit(e).is_none());
    for element in elements.iter_mut().flatten() {
        prune_element(element);
    }
}

fn prune_element(element: &mut SubmodelElement) {
    use SubmodelElement as E;
    crate::submodel_element::each_submodel_element!(element, e => {
        prune_data_specifications(&mut e.embedded_data_specifications)
    });
    match element {
        E::AnnotatedRelationshipElement(e) => {
            for annotation in e.annotations.iter_mut().flatten() {
                crate::submodel_element::each_data_element!(annotation, a => {
                    prune_data_specifications(&mut a.embedded_data_specifications)
                });
            }
        }
        E::SubmodelElementCollection(e) => prune_elements(&mut e.value),
        E::SubmodelElementList(e) => prune_elements(&mut e.value),
        E::Entity(e) => prune_elements(&mut e.statements),
        E::Operation(e) => {
            for variables in [
                &mut e.input_variables,
                &mut e.output_variables,
                &mut e.inoutput_variables,
            ] {
                retain_list(variables, |v: &OperationVariable| unfit(&v.value).is_none());
                for variable in variables.iter_mut().flatten() {
                    prune_element(&mut variable.value);
                }
            }
        }
        _ => {}
    }
}
