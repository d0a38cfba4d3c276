//! idShort paths and the lookups and edits of submodel elements by them.

use std::fmt;
use std::str::FromStr;

use crate::classes::{OperationVariable, Submodel};
use crate::submodel_element::{DataElement, SubmodelElement};

/// One step of a path: an idShort, or an index into a list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// The child with this idShort, in a submodel, collection, entity, annotated relationship
    /// or operation (`Motor` in `Motor.Speed`).
    IdShort(String),
    /// The item at this zero-based position of a `SubmodelElementList` (`2` in `Readings[2]`).
    Index(usize),
}

/// A parsed idShort path (IDTA Part 2): how the repository API addresses a submodel element
/// within its submodel, e.g. `Nameplate.Markings[0].MarkingFile` — idShorts joined by `.`, list
/// items by `[index]`. Never empty; parsing (`str::parse`) refuses more than
/// [`IdShortPath::MAX_STEPS`] steps.
///
/// ```
/// use aas_model::{DataTypeDefXsd, IdShortPath, Property, Submodel, SubmodelElement, SubmodelElementCollection};
///
/// let mut submodel = Submodel::new("urn:sm:1");
/// let mut group = SubmodelElementCollection::new().with_id_short("Group");
/// group.value = Some(vec![Property::new(DataTypeDefXsd::Int).with_id_short("Count").into()]);
/// submodel.submodel_elements = Some(vec![group.into()]);
///
/// let path: IdShortPath = "Group.Count".parse()?;
/// assert!(matches!(submodel.element(&path), Some(SubmodelElement::Property(_))));
/// submodel.element_mut(&path, |element| {
///     if let SubmodelElement::Property(p) = element {
///         p.value = Some("3".into());
///     }
/// });
/// assert_eq!(submodel.id_short_paths(), ["Group", "Group.Count"]);
/// # Ok::<(), aas_model::IdShortPathError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdShortPath(Vec<PathStep>);

/// Why a text is not an idShort path.
///
/// `Display` shows at most the first 100 characters of the path (a hostile path can be
/// megabytes long); [`IdShortPathError::path`] holds all of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} is not an idShort path: {message} (at byte {at})", shown(path))]
pub struct IdShortPathError {
    /// The whole text that failed to parse.
    pub path: String,
    /// Byte offset into `path` where parsing failed.
    pub at: usize,
    /// What is wrong there, e.g. that an index is not a number.
    pub message: &'static str,
}

/// The path as an error message shows it: quoted, cut after 100 characters.
fn shown(path: &str) -> String {
    const SHOWN: usize = 100;
    match path.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{:?}... ({} bytes)", &path[..cut], path.len()),
        None => format!("{path:?}"),
    }
}

impl IdShortPath {
    /// Most steps a path may have. No element the JSON and XML readers accept is nested
    /// deeper (they refuse nesting deeper than 128 levels, and each step is at least one),
    /// so a longer path addresses nothing; refusing it bounds the work of a hostile one.
    pub const MAX_STEPS: usize = 128;
}

impl FromStr for IdShortPath {
    type Err = IdShortPathError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |at, message| IdShortPathError {
            path: text.to_owned(),
            at,
            message,
        };
        let bytes = text.as_bytes();
        let mut steps = Vec::new();
        let mut at = 0;
        // The first step is an idShort; then `.idShort` or `[n]`.
        let mut expect_id_short = true;
        while at < bytes.len() {
            if expect_id_short {
                let end = text[at..]
                    .find(['.', '[', ']'])
                    .map_or(text.len(), |offset| at + offset);
                if end == at {
                    return Err(error(at, "an idShort is empty"));
                }
                if steps.len() == IdShortPath::MAX_STEPS {
                    return Err(error(at, "more than 128 steps (IdShortPath::MAX_STEPS)"));
                }
                steps.push(PathStep::IdShort(text[at..end].to_owned()));
                at = end;
                expect_id_short = false;
                continue;
            }
            match bytes[at] {
                b'.' => {
                    at += 1;
                    expect_id_short = true;
                    if at == bytes.len() {
                        return Err(error(at, "the path ends with `.`"));
                    }
                }
                b'[' => {
                    let close = text[at..]
                        .find(']')
                        .map(|offset| at + offset)
                        .ok_or_else(|| error(at, "`[` without `]`"))?;
                    let digits = &text[at + 1..close];
                    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(error(at + 1, "a list index is not a number"));
                    }
                    let index = digits
                        .parse()
                        .map_err(|_| error(at + 1, "a list index is too large"))?;
                    if steps.len() == IdShortPath::MAX_STEPS {
                        return Err(error(at, "more than 128 steps (IdShortPath::MAX_STEPS)"));
                    }
                    steps.push(PathStep::Index(index));
                    at = close + 1;
                }
                _ => return Err(error(at, "expected `.` or `[` after a step")),
            }
        }
        if steps.is_empty() {
            return Err(error(0, "the path is empty"));
        }
        Ok(IdShortPath(steps))
    }
}

impl fmt::Display for IdShortPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::IdShort(id_short) if i == 0 => f.write_str(id_short)?,
                PathStep::IdShort(id_short) => write!(f, ".{id_short}")?,
                PathStep::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

impl IdShortPath {
    /// The steps, first to last.
    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }

    /// The path of the first `steps` steps (an ancestor, or the path itself); `None` for zero
    /// steps or more than the path has.
    pub fn prefix(&self, steps: usize) -> Option<IdShortPath> {
        if steps == 0 || steps > self.0.len() {
            return None;
        }
        Some(IdShortPath(self.0[..steps].to_vec()))
    }

    /// The path of a child of the element this path addresses.
    pub fn child(&self, step: PathStep) -> IdShortPath {
        let mut steps = self.0.clone();
        steps.push(step);
        IdShortPath(steps)
    }
}

/// The children of one container, as the path walks them.
enum Children<'a> {
    Elements(&'a [SubmodelElement], bool),
    Annotations(&'a [DataElement]),
    Variables(Vec<&'a OperationVariable>),
}

enum ChildrenMut<'a> {
    Elements(&'a mut Option<Vec<SubmodelElement>>, bool),
    Annotations(&'a mut Option<Vec<DataElement>>),
    Variables(Vec<&'a mut OperationVariable>),
}

fn children(element: &SubmodelElement) -> Option<Children<'_>> {
    Some(match element {
        SubmodelElement::SubmodelElementCollection(c) => {
            Children::Elements(c.value.as_deref().unwrap_or_default(), false)
        }
        SubmodelElement::SubmodelElementList(l) => {
            Children::Elements(l.value.as_deref().unwrap_or_default(), true)
        }
        SubmodelElement::Entity(e) => {
            Children::Elements(e.statements.as_deref().unwrap_or_default(), false)
        }
        SubmodelElement::AnnotatedRelationshipElement(r) => {
            Children::Annotations(r.annotations.as_deref().unwrap_or_default())
        }
        SubmodelElement::Operation(o) => Children::Variables(
            [
                &o.input_variables,
                &o.output_variables,
                &o.inoutput_variables,
            ]
            .into_iter()
            .flatten()
            .flatten()
            .collect(),
        ),
        _ => return None,
    })
}

fn children_mut(element: &mut SubmodelElement) -> Option<ChildrenMut<'_>> {
    Some(match element {
        SubmodelElement::SubmodelElementCollection(c) => ChildrenMut::Elements(&mut c.value, false),
        SubmodelElement::SubmodelElementList(l) => ChildrenMut::Elements(&mut l.value, true),
        SubmodelElement::Entity(e) => ChildrenMut::Elements(&mut e.statements, false),
        SubmodelElement::AnnotatedRelationshipElement(r) => {
            ChildrenMut::Annotations(&mut r.annotations)
        }
        SubmodelElement::Operation(o) => ChildrenMut::Variables(
            [
                &mut o.input_variables,
                &mut o.output_variables,
                &mut o.inoutput_variables,
            ]
            .into_iter()
            .flatten()
            .flatten()
            .collect(),
        ),
        _ => return None,
    })
}

fn position<'a, T: 'a>(
    items: impl IntoIterator<Item = &'a T>,
    id_short: impl Fn(&T) -> Option<&str>,
    is_list: bool,
    step: &PathStep,
) -> Option<usize> {
    match step {
        PathStep::Index(index) if is_list => {
            let count = items.into_iter().count();
            (*index < count).then_some(*index)
        }
        PathStep::IdShort(wanted) if !is_list => items
            .into_iter()
            .position(|item| id_short(item) == Some(wanted.as_str())),
        _ => None,
    }
}

fn data_id_short(element: &DataElement) -> Option<&str> {
    crate::submodel_element::each_data_element!(element, e => e.id_short.as_deref())
}

impl<'a> Children<'a> {
    fn get(&self, step: &PathStep) -> Option<SubmodelElement> {
        match self {
            Children::Elements(items, is_list) => {
                position(items.iter(), SubmodelElement::id_short, *is_list, step)
                    .map(|i| items[i].clone())
            }
            Children::Annotations(items) => {
                position(items.iter(), data_id_short, false, step).map(|i| items[i].clone().into())
            }
            Children::Variables(items) => {
                position(items.iter().copied(), |v| v.value.id_short(), false, step)
                    .map(|i| items[i].value.clone())
            }
        }
    }

    fn step_into(self, step: &PathStep) -> Option<Children<'a>> {
        match self {
            Children::Elements(items, is_list) => {
                let i = position(items.iter(), SubmodelElement::id_short, is_list, step)?;
                children(&items[i])
            }
            // Data elements have no children.
            Children::Annotations(_) => None,
            Children::Variables(items) => {
                let i = position(items.iter().copied(), |v| v.value.id_short(), false, step)?;
                children(&items[i].value)
            }
        }
    }
}

impl<'a> ChildrenMut<'a> {
    fn step_into(self, step: &PathStep) -> Option<ChildrenMut<'a>> {
        match self {
            ChildrenMut::Elements(items, is_list) => {
                let items = items.as_mut()?;
                let i = position(items.iter(), SubmodelElement::id_short, is_list, step)?;
                children_mut(&mut items[i])
            }
            ChildrenMut::Annotations(_) => None,
            ChildrenMut::Variables(mut items) => {
                let i = position(
                    items.iter().map(|v| &**v),
                    |v| v.value.id_short(),
                    false,
                    step,
                )?;
                children_mut(&mut items.swap_remove(i).value)
            }
        }
    }

    fn apply<R>(
        self,
        step: &PathStep,
        change: impl FnOnce(&mut SubmodelElement) -> R,
    ) -> Option<R> {
        match self {
            ChildrenMut::Elements(items, is_list) => {
                let items = items.as_mut()?;
                let i = position(items.iter(), SubmodelElement::id_short, is_list, step)?;
                Some(change(&mut items[i]))
            }
            ChildrenMut::Annotations(items) => {
                let items = items.as_mut()?;
                let i = position(items.iter(), data_id_short, false, step)?;
                let mut element: SubmodelElement = items[i].clone().into();
                let result = change(&mut element);
                // An annotation stays a data element: a change into anything else is dropped.
                items[i] = DataElement::try_from(element).ok()?;
                Some(result)
            }
            ChildrenMut::Variables(mut items) => {
                let i = position(
                    items.iter().map(|v| &**v),
                    |v| v.value.id_short(),
                    false,
                    step,
                )?;
                Some(change(&mut items.swap_remove(i).value))
            }
        }
    }

    /// Removes a child; a list left empty becomes absent (the metamodel allows no empty lists,
    /// so removing the last element must not make the rest invalid).
    fn remove(self, step: &PathStep) -> Option<SubmodelElement> {
        match self {
            ChildrenMut::Elements(items, is_list) => {
                let list = items.as_mut()?;
                let i = position(list.iter(), SubmodelElement::id_short, is_list, step)?;
                let removed = list.remove(i);
                if list.is_empty() {
                    *items = None;
                }
                Some(removed)
            }
            ChildrenMut::Annotations(items) => {
                let list = items.as_mut()?;
                let i = position(list.iter(), data_id_short, false, step)?;
                let removed = list.remove(i).into();
                if list.is_empty() {
                    *items = None;
                }
                Some(removed)
            }
            // Operation variables belong to the operation's signature: not removed one by one.
            ChildrenMut::Variables(_) => None,
        }
    }

    fn push(self, element: SubmodelElement) -> Result<(), InsertError> {
        match self {
            ChildrenMut::Elements(items, is_list) => {
                let list = items.get_or_insert_with(Vec::new);
                if !is_list {
                    let id_short = element.id_short().ok_or(InsertError::NoIdShort)?;
                    if list.iter().any(|e| e.id_short() == Some(id_short)) {
                        return Err(InsertError::Duplicate(id_short.to_owned()));
                    }
                }
                list.push(element);
                Ok(())
            }
            ChildrenMut::Annotations(items) => {
                let id_short = element.id_short().ok_or(InsertError::NoIdShort)?.to_owned();
                let data = DataElement::try_from(element).map_err(|_| InsertError::NotAllowed)?;
                let list = items.get_or_insert_with(Vec::new);
                if list
                    .iter()
                    .any(|e| data_id_short(e) == Some(id_short.as_str()))
                {
                    return Err(InsertError::Duplicate(id_short));
                }
                list.push(data);
                Ok(())
            }
            ChildrenMut::Variables(_) => Err(InsertError::NotAllowed),
        }
    }
}

/// Why an element could not be added to a container.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InsertError {
    /// The parent path names no element that holds children: no element at all, or one that
    /// is not a collection, list, entity, annotated relationship or operation.
    #[error("no element at that idShort path")]
    NotFound,
    /// The parent holds no children of this kind: it is an operation (whose variables belong
    /// to its signature and are not inserted one by one), or an annotated relationship and the
    /// element is not a data element.
    #[error("the element at that idShort path holds no child elements of this kind")]
    NotAllowed,
    /// The element has no idShort, which a child of anything but a list needs (AASd-117).
    #[error("a child of a collection, an entity or a submodel needs an idShort")]
    NoIdShort,
    /// The parent has a child with this idShort already (AASd-022).
    #[error("an element with idShort {0:?} exists there")]
    Duplicate(String),
}

impl Submodel {
    /// A copy of the element at `path` (annotations come as submodel elements).
    pub fn element(&self, path: &IdShortPath) -> Option<SubmodelElement> {
        let (last, parents) = path.0.split_last()?;
        let mut here =
            Children::Elements(self.submodel_elements.as_deref().unwrap_or_default(), false);
        for step in parents {
            here = here.step_into(step)?;
        }
        here.get(last)
    }

    /// Runs `change` on the element at `path`; `None` if there is none.
    pub fn element_mut<R>(
        &mut self,
        path: &IdShortPath,
        change: impl FnOnce(&mut SubmodelElement) -> R,
    ) -> Option<R> {
        let (last, parents) = path.0.split_last()?;
        self.container_mut(parents)?.apply(last, change)
    }

    /// Removes the element at `path`. A collection, list, entity or submodel left without
    /// children gets no list at all (`None`): the metamodel allows no empty lists.
    pub fn remove_element(&mut self, path: &IdShortPath) -> Option<SubmodelElement> {
        let (last, parents) = path.0.split_last()?;
        self.container_mut(parents)?.remove(last)
    }

    /// Adds `element` as the last child of the element at `parent` (of the submodel when
    /// `None`); idShorts must be unique there (not in lists).
    pub fn insert_element(
        &mut self,
        parent: Option<&IdShortPath>,
        element: SubmodelElement,
    ) -> Result<(), InsertError> {
        let steps = parent.map_or(&[][..], |p| &p.0[..]);
        self.container_mut(steps)
            .ok_or(InsertError::NotFound)?
            .push(element)
    }

    fn container_mut(&mut self, steps: &[PathStep]) -> Option<ChildrenMut<'_>> {
        let mut here = ChildrenMut::Elements(&mut self.submodel_elements, false);
        for step in steps {
            here = here.step_into(step)?;
        }
        Some(here)
    }

    /// The idShort paths of every element, parents before children, in document order.
    pub fn id_short_paths(&self) -> Vec<String> {
        let mut paths = Vec::new();
        for element in self.submodel_elements.iter().flatten() {
            if let Some(id_short) = element.id_short() {
                let path = IdShortPath(vec![PathStep::IdShort(id_short.to_owned())]);
                collect_paths(element, path, &mut paths);
            }
        }
        paths
    }
}

/// The paths of `element` (at `path`) and its descendants.
pub fn element_paths(element: &SubmodelElement, path: &IdShortPath) -> Vec<String> {
    let mut paths = Vec::new();
    collect_paths(element, path.clone(), &mut paths);
    paths
}

fn collect_paths(element: &SubmodelElement, path: IdShortPath, out: &mut Vec<String>) {
    out.push(path.to_string());
    let Some(children) = children(element) else {
        return;
    };
    match children {
        Children::Elements(items, is_list) => {
            for (i, child) in items.iter().enumerate() {
                let step = match (is_list, child.id_short()) {
                    (true, _) => PathStep::Index(i),
                    (false, Some(id_short)) => PathStep::IdShort(id_short.to_owned()),
                    (false, None) => continue,
                };
                collect_paths(child, path.child(step), out);
            }
        }
        Children::Annotations(items) => {
            for item in items {
                if let Some(id_short) = data_id_short(item) {
                    out.push(
                        path.child(PathStep::IdShort(id_short.to_owned()))
                            .to_string(),
                    );
                }
            }
        }
        Children::Variables(items) => {
            for variable in items {
                if let Some(id_short) = variable.value.id_short() {
                    let child = path.child(PathStep::IdShort(id_short.to_owned()));
                    collect_paths(&variable.value, child, out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        AasSubmodelElements, DataTypeDefXsd, Property, SubmodelElementCollection,
        SubmodelElementList,
    };

    fn sample() -> Submodel {
        let mut list = SubmodelElementList::new(AasSubmodelElements::Property).with_id_short("L");
        list.value = Some(vec![
            Property::new(DataTypeDefXsd::Int).into(),
            Property::new(DataTypeDefXsd::Int).into(),
        ]);
        let mut group = SubmodelElementCollection::new().with_id_short("G");
        group.value = Some(vec![
            list.into(),
            Property::new(DataTypeDefXsd::String)
                .with_id_short("P")
                .into(),
        ]);
        let mut submodel = Submodel::new("urn:sm");
        submodel.submodel_elements = Some(vec![group.into()]);
        submodel
    }

    #[test]
    fn paths_parse_and_print_back() -> Result<(), IdShortPathError> {
        for text in ["A", "A.B", "A[0]", "A.B[12].C", "A[0][1]"] {
            assert_eq!(text.parse::<IdShortPath>()?.to_string(), text);
        }
        for bad in [
            "", ".A", "A.", "A..B", "A[", "A[x]", "A[]", "[0]", "A]", "A[0]B",
        ] {
            assert!(bad.parse::<IdShortPath>().is_err(), "{bad:?}");
        }
        Ok(())
    }

    #[test]
    fn removing_the_last_child_leaves_no_empty_list() -> Result<(), IdShortPathError> {
        let mut submodel = sample();
        assert!(submodel.remove_element(&"G.L[1]".parse()?).is_some());
        assert!(submodel.remove_element(&"G.L[0]".parse()?).is_some());
        match submodel.element(&"G.L".parse()?) {
            Some(SubmodelElement::SubmodelElementList(list)) => assert_eq!(list.value, None),
            other => panic!("{other:?}"),
        }
        assert!(submodel.remove_element(&"G.L".parse()?).is_some());
        assert!(submodel.remove_element(&"G.P".parse()?).is_some());
        match submodel.element(&"G".parse()?) {
            Some(SubmodelElement::SubmodelElementCollection(g)) => assert_eq!(g.value, None),
            other => panic!("{other:?}"),
        }
        assert!(submodel.remove_element(&"G".parse()?).is_some());
        assert_eq!(submodel.submodel_elements, None);
        Ok(())
    }

    #[test]
    fn elements_are_found_changed_added_and_removed_by_path() -> Result<(), IdShortPathError> {
        let mut submodel = sample();
        assert!(submodel.element(&"G.L[1]".parse()?).is_some());
        assert!(submodel.element(&"G.L[2]".parse()?).is_none());
        assert!(
            submodel.element(&"G.L.x".parse()?).is_none(),
            "lists take indices"
        );
        assert!(
            submodel.element(&"G[0]".parse()?).is_none(),
            "collections take idShorts"
        );
        assert_eq!(
            submodel.id_short_paths(),
            ["G", "G.L", "G.L[0]", "G.L[1]", "G.P"]
        );
        let path = "G.P".parse()?;
        submodel.element_mut(&path, |e| {
            if let SubmodelElement::Property(p) = e {
                p.value = Some("x".into());
            }
        });
        assert!(
            matches!(submodel.element(&path), Some(SubmodelElement::Property(p)) if p.value.as_deref() == Some("x"))
        );
        let group = "G".parse()?;
        let extra: SubmodelElement = Property::new(DataTypeDefXsd::Int).with_id_short("Q").into();
        assert_eq!(submodel.insert_element(Some(&group), extra.clone()), Ok(()));
        assert_eq!(
            submodel.insert_element(Some(&group), extra.clone()),
            Err(InsertError::Duplicate("Q".into()))
        );
        assert_eq!(
            submodel.insert_element(Some(&"G.P".parse()?), extra),
            Err(InsertError::NotFound)
        );
        assert!(submodel.remove_element(&"G.L[0]".parse()?).is_some());
        assert_eq!(
            submodel.id_short_paths(),
            ["G", "G.L", "G.L[0]", "G.P", "G.Q"]
        );
        Ok(())
    }
}
