//! Verification of the metamodel's constraints; the overview is on [`verify`].

mod checks;
mod lexical;

use std::collections::VecDeque;
use std::fmt;

use crate::descend::{Node, Step};
use crate::{IdShortPath, PathStep, Version};
pub use lexical::{value_matches_type, value_matches_type_as};

/// One broken constraint: where, which rule, and what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    path: String,
    id_short_path: Option<String>,
    rule: &'static str,
    message: String,
    version: Version,
}

impl Finding {
    /// The version verified under, whose rules this finding comes from. Messages of rules that
    /// differ between versions also name it, e.g. `… (AAS V3.1)`.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Path of the offending element or attribute from the verified root, in the JSON
    /// mapping's names: `submodels[0].submodelElements[3].value`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The idShort path (IDTA Part 2) of the submodel element concerned, relative to its
    /// submodel, e.g. `Motor.Speed` or `Readings[2]`; `None` outside submodel elements.
    pub fn id_short_path(&self) -> Option<&str> {
        self.id_short_path.as_deref()
    }

    /// The constraint id (`AASd-119`, `AASc-3a-002`) or the rule name: `minItems`,
    /// `minLength`, `maxLength`, `pattern`, `valueType`, `dateTimeUtc`, `uniqueLanguages`,
    /// `modelReference`, `maxInterval`, `rangeOrder`, `required` (V3.0: an attribute V3.1 made
    /// optional is missing), `assetKind` (V3.0: `Role`).
    pub fn rule(&self) -> &'static str {
        self.rule
    }

    /// One sentence: what is wrong and what to change.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)?;
        if let Some(id_short_path) = &self.id_short_path {
            write!(f, " ({id_short_path})")?;
        }
        write!(f, ": {}: {}", self.rule, self.message)
    }
}

/// Verifies `root` and everything below it under the newest version ([`Version::LATEST`],
/// V3.1), yielding a [`Finding`] for every constraint it breaks; [`verify_as`] chooses the
/// version.
///
/// The rules are those aas-core3.0 and aas-core3.1 check: every AASd-* and AASc-3a-* constraint that needs no outside context (the set aas-core checks:
/// all but AASd-006, AASd-007, AASd-012 and AASc-3a-003, which need to know what a concept
/// means), the lengths and patterns of the string types, the `xs:` lexical spaces of values by
/// their `valueType` (leap days, ranges of the integer types, float overflow, …), BCP 47
/// language tags, MIME types, non-empty lists, and `Range` bounds in order.
///
/// Where V3.1 differs from V3.0: idShorts may hold hyphens (not last) and need two
/// characters; identifiers and paths may have 2048 characters, content types 128; `xs:anyURI`
/// is a URI (RFC 2396 with RFC 2732, so ASCII only) rather than an IRI; AASd-120 (no idShort on
/// list items) and AASd-090 (category of data elements) are gone, and idShorts of list items,
/// when given, are unique within the list (AASd-022; aas-core3.1 1.0.0 does not check this);
/// AASd-014 constrains only self-managed entities; AASd-109 asks for `valueTypeListElement`
/// only when the list has items; `entityType`, `first`/`second`, `contentType` and `valueId`
/// are optional (V3.0 reports them missing as `required`), and `AssetKind::Role` exists.
/// The messages of these rules end with the version, e.g. `(AAS V3.1)`.
///
/// ```
/// use aas_model::{verify, DataTypeDefXsd, Environment, Property, Submodel};
///
/// let mut speed = Property::new(DataTypeDefXsd::Int).with_id_short("Speed");
/// speed.value = Some("fast".into());
/// let mut submodel = Submodel::new("urn:example:sm");
/// submodel.submodel_elements = Some(vec![speed.into()]);
/// let env = Environment { submodels: Some(vec![submodel]), ..Environment::new() };
///
/// let findings: Vec<_> = verify(&env).collect();
/// assert_eq!(findings.len(), 1);
/// assert_eq!(findings[0].path(), "submodels[0].submodelElements[0].value");
/// assert_eq!(findings[0].id_short_path(), Some("Speed"));
/// assert_eq!(findings[0].rule(), "valueType");
/// assert_eq!(
///     findings[0].to_string(),
///     "submodels[0].submodelElements[0].value (Speed): valueType: \"fast\" is not a valid xs:int value; fix the value or the valueType"
/// );
///
/// // The walk is lazy: stop at the first finding, or take a few.
/// assert!(verify(&env).next().is_some());
/// let capped: Vec<_> = verify(&env).take(10).collect();
/// # assert_eq!(capped.len(), 1);
/// ```
pub fn verify<'a>(root: impl Into<Node<'a>>) -> Findings<'a> {
    verify_as(root, Version::LATEST)
}

/// Verifies `root` and everything below it under the rules of `version`; the rules, and
/// where the versions differ, are listed at [`verify`].
pub fn verify_as<'a>(root: impl Into<Node<'a>>, version: Version) -> Findings<'a> {
    walk(root.into(), version, Vec::new())
}

/// The findings of [`verify_as`]`(submodel, version)` that concern the submodel element at
/// `path` or anything below it, or one of its ancestors (the submodel included): the checks
/// of a node look at the node and its direct children, so these are the only findings a
/// change of that one element can add. When it is the only change to a submodel without
/// findings, they are all of the changed submodel's findings, found in time proportional to
/// the element and its ancestors' children rather than to the submodel. Elements of other
/// branches are not visited; a `path` that names no element reaches none, and the findings
/// are those of the ancestors it names.
///
/// ```
/// use aas_model::{verify_as, verify_within_as, DataTypeDefXsd, Property, Submodel, Version};
///
/// let mut submodel = Submodel::new("urn:example:sm");
/// submodel.submodel_elements = Some(vec![
///     Property::new(DataTypeDefXsd::Int).with_id_short("Speed").into(),
///     Property::new(DataTypeDefXsd::Int).with_id_short("Torque").into(),
/// ]);
/// // A change of Torque that breaks its value and takes Speed's name.
/// submodel.element_mut(&"Torque".parse()?, |torque| {
///     let aas_model::SubmodelElement::Property(torque) = torque else { unreachable!() };
///     torque.value = Some("fast".into());
///     torque.id_short = Some("Speed".into());
/// });
/// let within: Vec<_> = verify_within_as(&submodel, &"Speed".parse()?, Version::V3_1).collect();
/// assert_eq!(within, verify_as(&submodel, Version::V3_1).collect::<Vec<_>>());
/// assert_eq!(within.len(), 2); // AASd-022 at the submodel, valueType at the element
/// # Ok::<(), aas_model::IdShortPathError>(())
/// ```
pub fn verify_within_as<'a>(
    submodel: &'a crate::Submodel,
    path: &IdShortPath,
    version: Version,
) -> Findings<'a> {
    walk(Node::Submodel(submodel), version, path.steps().to_vec())
}

fn walk(root: Node<'_>, version: Version, focus: Vec<PathStep>) -> Findings<'_> {
    let reach = if focus.is_empty() {
        Reach::All
    } else {
        Reach::Along(0)
    };
    Findings {
        version,
        focus,
        stack: vec![(root, 0, reach)],
        arena: vec![Entry {
            parent: NO_PARENT,
            step: None,
            id_short: IdShort::of(root, None, None),
        }],
        pending: VecDeque::new(),
        raw: Vec::new(),
        scratch: Vec::new(),
    }
}

const NO_PARENT: u32 = u32::MAX;

/// Where a visited node stands, for building paths of findings.
struct Entry<'a> {
    parent: u32,
    step: Option<Step>,
    id_short: IdShort<'a>,
}

/// What a node adds to an idShort path.
#[derive(Clone, Copy)]
enum IdShort<'a> {
    /// Nothing (not a submodel element).
    Nothing,
    /// A submodel element by its idShort (`None`: it has none).
    Name(Option<&'a str>),
    /// An item of a submodel element list, by its index.
    Index(usize),
    /// A submodel: idShort paths start below it.
    Root,
}

impl<'a> IdShort<'a> {
    fn of(node: Node<'a>, parent: Option<Node<'a>>, step: Option<Step>) -> Self {
        if matches!(node, Node::Submodel(_)) {
            return IdShort::Root;
        }
        let Some(id_short) = node.submodel_element_id_short() else {
            return IdShort::Nothing;
        };
        match (parent, step) {
            (Some(Node::SubmodelElementList(_)), Some(Step { index: Some(i), .. })) => {
                IdShort::Index(i)
            }
            _ => IdShort::Name(id_short),
        }
    }
}

/// Which children of a node the walk visits.
#[derive(Clone, Copy)]
enum Reach {
    /// All of them: the node is the focus of [`verify_within_as`] or below it, or the whole
    /// model is verified.
    All,
    /// The node is an ancestor of the focus, reached by this many of its path's steps: only
    /// the child the next step names.
    Along(usize),
}

/// The iterator of [`verify`]: findings in document order, computed as the walk goes.
pub struct Findings<'a> {
    version: Version,
    /// The idShort path of [`verify_within_as`]'s element (empty: the whole model).
    focus: Vec<PathStep>,
    /// Nodes still to check, the next one last, with their entry in `arena`.
    stack: Vec<(Node<'a>, u32, Reach)>,
    arena: Vec<Entry<'a>>,
    pending: VecDeque<Finding>,
    raw: Vec<checks::Raw>,
    scratch: Vec<(Node<'a>, Step)>,
}

impl fmt::Debug for Findings<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Findings")
            .field("nodes_left", &self.stack.len())
            .finish_non_exhaustive()
    }
}

impl Findings<'_> {
    /// The first `max` findings and how many there are in all (the others are counted, not
    /// kept): a report that stays short however much is wrong.
    pub fn first(mut self, max: usize) -> (Vec<Finding>, usize) {
        let first: Vec<Finding> = self.by_ref().take(max).collect();
        let total = first.len() + self.count();
        (first, total)
    }

    fn path_of(&self, entry: u32, at: Option<Step>) -> String {
        let mut steps: Vec<Step> = at.into_iter().collect();
        let mut i = entry;
        while i != NO_PARENT {
            let e = &self.arena[i as usize];
            steps.extend(e.step);
            i = e.parent;
        }
        let mut path = String::new();
        for step in steps.iter().rev() {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(step.property);
            if let Some(index) = step.index {
                path.push_str(&format!("[{index}]"));
            }
        }
        path
    }

    fn id_short_path_of(&self, entry: u32) -> Option<String> {
        let mut parts = Vec::new();
        let mut i = entry;
        while i != NO_PARENT {
            let e = &self.arena[i as usize];
            match e.id_short {
                IdShort::Root => break,
                IdShort::Nothing => {}
                part => parts.push(part),
            }
            i = e.parent;
        }
        if parts.is_empty() {
            return None;
        }
        let mut path = String::new();
        for part in parts.iter().rev() {
            match part {
                IdShort::Name(name) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(name.unwrap_or("?"));
                }
                IdShort::Index(index) => path.push_str(&format!("[{index}]")),
                IdShort::Nothing | IdShort::Root => {}
            }
        }
        Some(path)
    }
}

impl Iterator for Findings<'_> {
    type Item = Finding;

    fn next(&mut self) -> Option<Finding> {
        loop {
            if let Some(finding) = self.pending.pop_front() {
                return Some(finding);
            }
            let (node, entry, reach) = self.stack.pop()?;
            let step = self.arena[entry as usize].step;
            checks::check(node, step, self.version, &mut self.raw);
            let mut raw = std::mem::take(&mut self.raw);
            for r in raw.drain(..) {
                let finding = Finding {
                    path: self.path_of(entry, r.at),
                    id_short_path: self.id_short_path_of(entry),
                    rule: r.rule,
                    message: r.message,
                    version: self.version,
                };
                self.pending.push_back(finding);
            }
            self.raw = raw;

            let scratch = &mut self.scratch;
            node.visit_children(&mut |child, step| scratch.push((child, step)));
            let first = self.stack.len();
            for (child, step) in self.scratch.drain(..) {
                let id_short = IdShort::of(child, Some(node), Some(step));
                let child_reach = match reach {
                    Reach::All => Reach::All,
                    Reach::Along(taken) => match along(&self.focus, taken, child, id_short) {
                        Some(taken) if taken == self.focus.len() => Reach::All,
                        Some(taken) => Reach::Along(taken),
                        None => continue,
                    },
                };
                let index = self.arena.len() as u32;
                self.arena.push(Entry {
                    parent: entry,
                    step: Some(step),
                    id_short,
                });
                self.stack.push((child, index, child_reach));
            }
            self.stack[first..].reverse();
        }
    }
}

/// Whether `child` of an ancestor of the focus (reached by `taken` steps of `focus`) is on the
/// way to it, and by how many steps then. An operation variable is on the way when its value
/// is the next step; the value is then matched by the same step.
fn along(
    focus: &[PathStep],
    taken: usize,
    child: Node<'_>,
    id_short: IdShort<'_>,
) -> Option<usize> {
    let next = focus.get(taken)?;
    let named = match (id_short, next) {
        (IdShort::Name(Some(name)), PathStep::IdShort(wanted)) => name == wanted,
        (IdShort::Index(index), PathStep::Index(wanted)) => index == *wanted,
        _ => false,
    };
    if named {
        return Some(taken + 1);
    }
    match (child, next) {
        (Node::OperationVariable(variable), PathStep::IdShort(wanted))
            if variable.value.id_short() == Some(wanted.as_str()) =>
        {
            Some(taken)
        }
        _ => None,
    }
}
