//! The projections of Part 2 (the AAS API): what a server answers for the content modifiers
//! `$metadata`, `$value`, `$reference` and `$path` and for the query parameters `level` and
//! `extent`, computed on model types so that every server, client or tool shows the same
//! views of a submodel.
//!
//! ```
//! use aas_model::{DataTypeDefXsd, IdShortPath, Property, Submodel, SubmodelElementCollection};
//! use aas_serde::projection::{self, Shape};
//!
//! let mut speed = Property::new(DataTypeDefXsd::Int).with_id_short("Speed");
//! speed.value = Some("42".into());
//! let mut drive = SubmodelElementCollection::new().with_id_short("Drive");
//! drive.value = Some(vec![speed.into()]);
//! let mut submodel = Submodel::new("urn:example:sm:1");
//! submodel.submodel_elements = Some(vec![drive.into()]);
//!
//! // `$path`: every idShort path, or with `level=core` only the top level.
//! let shape: Shape = Shape::parse(None, None)?;
//! assert_eq!(projection::submodel_paths(&submodel, shape), ["Drive", "Drive.Speed"]);
//! let core = Shape::parse(Some("core"), None)?;
//! assert_eq!(projection::submodel_paths(&submodel, core), ["Drive"]);
//!
//! // `$value` of one element: named by its idShort.
//! let path: IdShortPath = "Drive.Speed".parse()?;
//! let element = submodel.element(&path).ok_or("no element")?.clone();
//! let value = projection::element_value(element, shape)?;
//! assert_eq!(value, serde_json::json!({"Speed": 42}));
//!
//! // `$reference`: a model reference, one key per step.
//! let reference = projection::element_reference(&submodel, &path);
//! assert_eq!(reference.keys.len(), 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::str::FromStr;

use aas_model::{
    AasSubmodelElements, IdShortPath, Key, KeyTypes, PathStep, Reference, Submodel, SubmodelElement,
};
use serde_json::{Map, Value};

use crate::value_only;

/// Why a projection cannot be made: a query parameter out of its range, or a view the element
/// has not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProjectionError {
    /// `level` is neither `deep` nor `core`.
    #[error("level {0:?} is not deep or core")]
    Level(String),
    /// `extent` is neither `withBlobValue` nor `withoutBlobValue`.
    #[error("extent {0:?} is not withBlobValue or withoutBlobValue")]
    Extent(String),
    /// `$value` of an element without a value (an operation or a capability).
    #[error("a {} has no value", .0.as_str())]
    NoValue(AasSubmodelElements),
    /// `$metadata` of an operation or a capability.
    #[error("a {} has no $metadata view", .0.as_str())]
    NoMetadata(AasSubmodelElements),
    /// `$path` of an element that holds no elements.
    #[error("a {} has no $path view (only collections, lists and entities)", .0.as_str())]
    NoPaths(AasSubmodelElements),
    /// An element's idShort that is no idShort path step (only in unverified models).
    #[error("idShort {0:?} is not an idShort path")]
    IdShort(String),
    /// Metadata of another type than the stored element ([`with_values_of`]).
    #[error("the body is a {}, the element a {}", .metadata.as_str(), .stored.as_str())]
    OtherType {
        /// The type of the metadata (a request's body).
        metadata: AasSubmodelElements,
        /// The type of the stored element.
        stored: AasSubmodelElements,
    },
}

/// A content modifier of Part 2: which view of a submodel or element is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Content {
    /// The element itself, in the asked shape (no modifier).
    #[default]
    Normal,
    /// `$metadata`: everything but the values.
    Metadata,
    /// `$value`: the ValueOnly JSON.
    Value,
    /// `$reference`: a model reference to it.
    Reference,
    /// `$path`: the idShort paths.
    Path,
}

/// `level`: the whole tree (`deep`, the default) or an element with its direct children only
/// (`core`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Level {
    /// `deep`: every element below, at any depth (the default).
    #[default]
    Deep,
    /// `core`: the element and its direct children; the children's own children (of
    /// collections, lists, entities, annotated relationships) are left out.
    Core,
}

impl FromStr for Level {
    type Err = ProjectionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "deep" => Ok(Level::Deep),
            "core" => Ok(Level::Core),
            other => Err(ProjectionError::Level(other.to_owned())),
        }
    }
}

/// `extent`: whether the values of Blobs are included (`withoutBlobValue` is the default:
/// they can be large).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Extent {
    /// `withoutBlobValue`: every Blob's `value` left out, its `contentType` kept (the
    /// default).
    #[default]
    WithoutBlobValue,
    /// `withBlobValue`: Blobs with their values (base64 in JSON).
    WithBlobValue,
}

impl FromStr for Extent {
    type Err = ProjectionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "withoutBlobValue" => Ok(Extent::WithoutBlobValue),
            "withBlobValue" => Ok(Extent::WithBlobValue),
            other => Err(ProjectionError::Extent(other.to_owned())),
        }
    }
}

/// `level` and `extent` together: the shape of every answer of the submodel API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Shape {
    /// How deep below the element asked for the answer goes.
    pub level: Level,
    /// Whether Blobs keep their values.
    pub extent: Extent,
}

impl Shape {
    /// The shape the query parameters ask for; a missing one takes its default.
    pub fn parse(level: Option<&str>, extent: Option<&str>) -> Result<Self, ProjectionError> {
        Ok(Shape {
            level: level.map(str::parse).transpose()?.unwrap_or_default(),
            extent: extent.map(str::parse).transpose()?.unwrap_or_default(),
        })
    }

    fn core(self) -> bool {
        self.level == Level::Core
    }

    fn with_blob_value(self) -> bool {
        self.extent == Extent::WithBlobValue
    }
}

/// Drops the children of an element (what `level=core` leaves out below the direct children).
fn drop_children(element: &mut SubmodelElement) {
    match element {
        SubmodelElement::SubmodelElementCollection(c) => c.value = None,
        SubmodelElement::SubmodelElementList(l) => l.value = None,
        SubmodelElement::Entity(e) => e.statements = None,
        SubmodelElement::AnnotatedRelationshipElement(r) => r.annotations = None,
        _ => {}
    }
}

/// Applies `level` and `extent` to an element: with `core`, its children keep no children of
/// their own; without blob values, every Blob below loses its value.
pub fn shape_element(element: &mut SubmodelElement, shape: Shape) {
    if shape.core() {
        element.children_mut().into_iter().for_each(drop_children);
    }
    if !shape.with_blob_value() {
        element.drop_blob_values();
    }
}

/// Applies `level` and `extent` to a submodel (its elements are its direct children).
pub fn shape_submodel(submodel: &mut Submodel, shape: Shape) {
    for element in submodel.submodel_elements.iter_mut().flatten() {
        if shape.core() {
            drop_children(element);
        }
        if !shape.with_blob_value() {
            element.drop_blob_values();
        }
    }
}

/// `$metadata` of a submodel: everything but its elements.
pub fn submodel_metadata(mut submodel: Submodel) -> Submodel {
    submodel.submodel_elements = None;
    submodel
}

/// `$metadata` of an element: everything but its value attributes (`value`, `valueId`, `min`,
/// `max`, an entity's statements and asset ids, a relationship's annotations).
pub fn element_metadata(element: SubmodelElement) -> Result<SubmodelElement, ProjectionError> {
    let mut element = element;
    match &mut element {
        SubmodelElement::Property(p) => {
            p.value = None;
            p.value_id = None;
        }
        SubmodelElement::MultiLanguageProperty(p) => {
            p.value = None;
            p.value_id = None;
        }
        SubmodelElement::Range(r) => {
            r.min = None;
            r.max = None;
        }
        SubmodelElement::ReferenceElement(r) => r.value = None,
        SubmodelElement::Blob(b) => b.value = None,
        SubmodelElement::File(f) => f.value = None,
        SubmodelElement::SubmodelElementCollection(c) => c.value = None,
        SubmodelElement::SubmodelElementList(l) => l.value = None,
        SubmodelElement::Entity(e) => {
            e.statements = None;
            e.global_asset_id = None;
            e.specific_asset_ids = None;
        }
        SubmodelElement::AnnotatedRelationshipElement(r) => r.annotations = None,
        SubmodelElement::RelationshipElement(_) | SubmodelElement::BasicEventElement(_) => {}
        SubmodelElement::Operation(_) | SubmodelElement::Capability(_) => {
            return Err(ProjectionError::NoMetadata(element.element_type()));
        }
    }
    Ok(element)
}

/// `metadata` (an element without value attributes, as a `$metadata` PATCH sends it) with the
/// value attributes of `stored`, which must be of the same type: the inverse of
/// [`element_metadata`], so that `$metadata` can be changed without touching the values.
///
/// ```
/// use aas_model::{DataTypeDefXsd, Property, SubmodelElement};
/// use aas_serde::projection;
///
/// let mut stored = Property::new(DataTypeDefXsd::Int).with_id_short("Speed");
/// stored.value = Some("42".into());
/// let metadata = Property::new(DataTypeDefXsd::Long).with_id_short("Speed");
/// let new = projection::with_values_of(metadata.into(), &stored.into())?;
/// let SubmodelElement::Property(new) = new else {
///     return Err("not a Property".into());
/// };
/// assert_eq!((new.value_type, new.value.as_deref()), (DataTypeDefXsd::Long, Some("42")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn with_values_of(
    metadata: SubmodelElement,
    stored: &SubmodelElement,
) -> Result<SubmodelElement, ProjectionError> {
    use SubmodelElement as E;
    let mut new = metadata;
    match (&mut new, stored) {
        (E::Property(n), E::Property(s)) => {
            n.value = s.value.clone();
            n.value_id = s.value_id.clone();
        }
        (E::MultiLanguageProperty(n), E::MultiLanguageProperty(s)) => {
            n.value = s.value.clone();
            n.value_id = s.value_id.clone();
        }
        (E::Range(n), E::Range(s)) => {
            n.min = s.min.clone();
            n.max = s.max.clone();
        }
        (E::ReferenceElement(n), E::ReferenceElement(s)) => n.value = s.value.clone(),
        (E::Blob(n), E::Blob(s)) => n.value = s.value.clone(),
        (E::File(n), E::File(s)) => n.value = s.value.clone(),
        (E::SubmodelElementCollection(n), E::SubmodelElementCollection(s)) => {
            n.value = s.value.clone();
        }
        (E::SubmodelElementList(n), E::SubmodelElementList(s)) => n.value = s.value.clone(),
        (E::Entity(n), E::Entity(s)) => {
            n.statements = s.statements.clone();
            n.global_asset_id = s.global_asset_id.clone();
            n.specific_asset_ids = s.specific_asset_ids.clone();
        }
        (E::AnnotatedRelationshipElement(n), E::AnnotatedRelationshipElement(s)) => {
            n.annotations = s.annotations.clone();
        }
        (E::RelationshipElement(_), E::RelationshipElement(_))
        | (E::BasicEventElement(_), E::BasicEventElement(_)) => {}
        (new, stored) => {
            return Err(ProjectionError::OtherType {
                metadata: new.element_type(),
                stored: stored.element_type(),
            });
        }
    }
    Ok(new)
}

/// `$value` of a submodel in the given shape: an object keyed by the elements' idShorts.
pub fn submodel_value(mut submodel: Submodel, shape: Shape) -> Value {
    shape_submodel(&mut submodel, shape);
    value_only::submodel_value(&submodel, shape.with_blob_value())
}

/// `$value` of an element in the given shape, named by its idShort (`{"Speed": "42"}`; an
/// element without idShort, in a list, gives its bare value).
pub fn element_value(element: SubmodelElement, shape: Shape) -> Result<Value, ProjectionError> {
    let mut element = element;
    shape_element(&mut element, shape);
    let value = value_only::to_value(&element, shape.with_blob_value())
        .ok_or(ProjectionError::NoValue(element.element_type()))?;
    Ok(match element.id_short() {
        Some(id_short) => Value::Object(Map::from_iter([(id_short.to_owned(), value)])),
        None => value,
    })
}

/// `$reference` of the element at `path` in `submodel`: a model reference with the submodel's
/// key and one key per step, typed by the element found there (`SubmodelElement` where none is).
pub fn element_reference(submodel: &Submodel, path: &IdShortPath) -> Reference {
    let mut keys = vec![Key::new(KeyTypes::Submodel, submodel.id.clone())];
    for (at, step) in path.steps().iter().enumerate() {
        let type_ = path
            .prefix(at + 1)
            .and_then(|here| submodel.element(&here))
            .and_then(|element| KeyTypes::from_str(element.element_type().as_str()).ok())
            .unwrap_or(KeyTypes::SubmodelElement);
        let value = match step {
            PathStep::IdShort(id_short) => id_short.clone(),
            PathStep::Index(index) => index.to_string(),
        };
        keys.push(Key::new(type_, value));
    }
    Reference::model(keys)
}

/// `$path` of a submodel: the idShort paths of its elements, parents first (with `level=core`
/// only those of the top level).
pub fn submodel_paths(submodel: &Submodel, shape: Shape) -> Vec<String> {
    if shape.core() {
        return submodel
            .submodel_elements
            .iter()
            .flatten()
            .filter_map(|element| element.id_short().map(str::to_owned))
            .collect();
    }
    submodel.id_short_paths()
}

/// `$path` of the element at `path`: its own path and those below it (with `level=core` only
/// its direct children's). Only collections, lists and entities have one; see [`paths_below`]
/// for any element.
pub fn element_paths(
    element: &SubmodelElement,
    path: &IdShortPath,
    shape: Shape,
) -> Result<Vec<String>, ProjectionError> {
    if !matches!(
        element,
        SubmodelElement::SubmodelElementCollection(_)
            | SubmodelElement::SubmodelElementList(_)
            | SubmodelElement::Entity(_)
    ) {
        return Err(ProjectionError::NoPaths(element.element_type()));
    }
    Ok(paths_below(element, path, shape))
}

/// The path of any element at `path` and those below it (with `level=core` only its direct
/// children's): what a listing of elements answers for `$path`.
pub fn paths_below(element: &SubmodelElement, path: &IdShortPath, shape: Shape) -> Vec<String> {
    let all = aas_model::element_paths(element, path);
    if !shape.core() {
        return all;
    }
    let own = path.steps().len();
    let depth = |p: &str| p.parse::<IdShortPath>().map_or(0, |p| p.steps().len());
    all.into_iter().filter(|p| depth(p) <= own + 1).collect()
}

/// The JSON of a model value, as the official mapping writes it (for answers that put model
/// values into JSON of their own, such as a page of a listing).
pub fn to_json_value<T: crate::json::ToJson + ?Sized>(value: &T) -> Value {
    // Our writer's output is JSON; only nesting beyond serde_json's recursion limit (deeper
    // than any verified model) fails to read back, and then there is nothing to show.
    serde_json::from_slice(&crate::json::to_vec(value)).unwrap_or(Value::Null)
}

/// The view of a submodel a content modifier asks for, in the given shape. Every submodel has
/// every view: `$path` is a list of paths, `$reference` the submodel's model reference.
pub fn submodel_view(mut submodel: Submodel, content: Content, shape: Shape) -> Value {
    match content {
        Content::Normal => {
            shape_submodel(&mut submodel, shape);
            to_json_value(&submodel)
        }
        Content::Metadata => to_json_value(&submodel_metadata(submodel)),
        Content::Value => submodel_value(submodel, shape),
        Content::Reference => to_json_value(&Reference::to_submodel(submodel.id)),
        Content::Path => Value::from(submodel_paths(&submodel, shape)),
    }
}

/// The view of `element`, found at `path` in `submodel`, a content modifier asks for, in the
/// given shape. Errors: views the element has not (`$value` and `$metadata` of operations and
/// capabilities, `$path` of elements that hold none).
pub fn element_view(
    submodel: &Submodel,
    path: &IdShortPath,
    mut element: SubmodelElement,
    content: Content,
    shape: Shape,
) -> Result<Value, ProjectionError> {
    Ok(match content {
        Content::Normal => {
            shape_element(&mut element, shape);
            to_json_value(&element)
        }
        Content::Metadata => to_json_value(&element_metadata(element)?),
        Content::Value => element_value(element, shape)?,
        Content::Reference => to_json_value(&element_reference(submodel, path)),
        Content::Path => Value::from(element_paths(&element, path, shape)?),
    })
}

/// The views of a submodel's top-level elements, as a listing of them answers: elements
/// without idShort are left out; with `$value`, operations and capabilities too (they have
/// no value); with `$metadata` they appear whole (they have no values to leave out); with
/// `$path`, the paths of every element, each flattened into the list.
pub fn element_list_view(
    submodel: &Submodel,
    content: Content,
    shape: Shape,
) -> Result<Vec<Value>, ProjectionError> {
    let mut items = Vec::new();
    for element in submodel.submodel_elements.iter().flatten() {
        let Some(id_short) = element.id_short() else {
            continue;
        };
        let path: IdShortPath = id_short
            .parse()
            .map_err(|_| ProjectionError::IdShort(id_short.to_owned()))?;
        match content {
            Content::Path => items.extend(
                paths_below(element, &path, shape)
                    .into_iter()
                    .map(Value::from),
            ),
            Content::Value => match element_value(element.clone(), shape) {
                Ok(value) => items.push(value),
                Err(ProjectionError::NoValue(_)) => {}
                Err(error) => return Err(error),
            },
            Content::Metadata
                if matches!(
                    element,
                    SubmodelElement::Operation(_) | SubmodelElement::Capability(_)
                ) =>
            {
                items.push(to_json_value(element));
            }
            _ => items.push(element_view(
                submodel,
                &path,
                element.clone(),
                content,
                shape,
            )?),
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use aas_model::{
        Blob, Capability, DataTypeDefXsd, Entity, EntityType, Property, Range,
        SubmodelElementCollection, SubmodelElementList,
    };

    use super::*;

    fn speed() -> Property {
        let mut speed = Property::new(DataTypeDefXsd::Int).with_id_short("Speed");
        speed.value = Some("42".into());
        speed.value_id = Some(Reference::global("urn:value"));
        speed
    }

    /// Drive { Speed, Photo (Blob), Axes [ Range ] }
    fn submodel() -> Submodel {
        let mut photo = Blob::new("image/png").with_id_short("Photo");
        photo.value = Some(vec![1, 2, 3]);
        let mut range = Range::new(DataTypeDefXsd::Int);
        range.min = Some("1".into());
        let mut axes = SubmodelElementList::new(AasSubmodelElements::Range).with_id_short("Axes");
        axes.value = Some(vec![range.into()]);
        let mut drive = SubmodelElementCollection::new().with_id_short("Drive");
        drive.value = Some(vec![speed().into(), photo.into(), axes.into()]);
        let mut submodel = Submodel::new("urn:sm");
        submodel.submodel_elements = Some(vec![drive.into()]);
        submodel
    }

    fn path(text: &str) -> IdShortPath {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn level_and_extent_parse_their_literals_and_name_a_wrong_one() {
        assert_eq!(Shape::parse(None, None), Ok(Shape::default()));
        let shape = Shape::parse(Some("core"), Some("withBlobValue"));
        assert_eq!(
            shape,
            Ok(Shape {
                level: Level::Core,
                extent: Extent::WithBlobValue
            })
        );
        assert_eq!(
            Shape::parse(Some("shallow"), None).map_err(|e| e.to_string()),
            Err("level \"shallow\" is not deep or core".to_owned())
        );
        assert_eq!(
            Shape::parse(None, Some("all")),
            Err(ProjectionError::Extent("all".into()))
        );
    }

    #[test]
    fn core_keeps_the_direct_children_without_theirs_and_blobs_lose_their_value_by_default() {
        let mut drive = submodel()
            .element(&path("Drive"))
            .unwrap_or_else(|| panic!());
        shape_element(
            &mut drive,
            Shape::parse(Some("core"), None).unwrap_or_default(),
        );
        let SubmodelElement::SubmodelElementCollection(drive) = drive else {
            panic!("not a collection")
        };
        let children = drive.value.unwrap_or_default();
        assert_eq!(children.len(), 3, "direct children kept");
        assert!(matches!(&children[1], SubmodelElement::Blob(b) if b.value.is_none()));
        assert!(
            matches!(&children[2], SubmodelElement::SubmodelElementList(l) if l.value.is_none())
        );

        let mut whole = submodel();
        shape_submodel(
            &mut whole,
            Shape::parse(None, Some("withBlobValue")).unwrap_or_default(),
        );
        assert_eq!(whole, submodel(), "deep with blob values changes nothing");
    }

    #[test]
    fn metadata_drops_the_value_attributes_and_refuses_operations_and_capabilities() {
        let metadata = element_metadata(speed().into());
        let Ok(SubmodelElement::Property(p)) = metadata else {
            panic!("{metadata:?}")
        };
        assert_eq!(
            (p.value, p.value_id, p.id_short.as_deref()),
            (None, None, Some("Speed"))
        );

        let mut entity = Entity::new(EntityType::SelfManagedEntity);
        entity.global_asset_id = Some("urn:asset".into());
        entity.statements = Some(vec![speed().into()]);
        let Ok(SubmodelElement::Entity(e)) = element_metadata(entity.into()) else {
            panic!("not an entity")
        };
        assert_eq!((e.global_asset_id, e.statements), (None, None));
        assert_eq!(e.entity_type, Some(EntityType::SelfManagedEntity));

        assert_eq!(
            element_metadata(Capability::new().into()),
            Err(ProjectionError::NoMetadata(AasSubmodelElements::Capability))
        );
        assert_eq!(submodel_metadata(submodel()).submodel_elements, None);
    }

    #[test]
    fn a_reference_has_one_key_per_step_typed_by_the_element_there() {
        let reference = element_reference(&submodel(), &path("Drive.Axes[0]"));
        let keys: Vec<(KeyTypes, &str)> = reference
            .keys
            .iter()
            .map(|k| (k.type_, k.value.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                (KeyTypes::Submodel, "urn:sm"),
                (KeyTypes::SubmodelElementCollection, "Drive"),
                (KeyTypes::SubmodelElementList, "Axes"),
                (KeyTypes::Range, "0"),
            ]
        );
        assert!(reference.is_model_reference());
        let missing = element_reference(&submodel(), &path("Nothing"));
        assert_eq!(missing.keys[1].type_, KeyTypes::SubmodelElement);
    }

    #[test]
    fn paths_list_parents_first_and_core_stops_below_the_direct_children() {
        let deep = Shape::default();
        assert_eq!(
            submodel_paths(&submodel(), deep),
            [
                "Drive",
                "Drive.Speed",
                "Drive.Photo",
                "Drive.Axes",
                "Drive.Axes[0]"
            ]
        );
        let drive = submodel()
            .element(&path("Drive"))
            .unwrap_or_else(|| panic!());
        let core = Shape::parse(Some("core"), None).unwrap_or_default();
        assert_eq!(
            element_paths(&drive, &path("Drive"), core),
            Ok(vec![
                "Drive".to_owned(),
                "Drive.Speed".into(),
                "Drive.Photo".into(),
                "Drive.Axes".into()
            ])
        );
        assert_eq!(
            element_paths(&speed().into(), &path("Drive.Speed"), deep),
            Err(ProjectionError::NoPaths(AasSubmodelElements::Property))
        );
        assert_eq!(
            paths_below(&speed().into(), &path("Speed"), deep),
            ["Speed"]
        );
    }

    #[test]
    fn value_is_named_by_the_id_short_and_refused_for_a_capability() {
        assert_eq!(
            element_value(speed().into(), Shape::default()),
            Ok(serde_json::json!({"Speed": 42}))
        );
        assert_eq!(
            element_value(Capability::new().into(), Shape::default()),
            Err(ProjectionError::NoValue(AasSubmodelElements::Capability))
        );
    }

    #[test]
    fn a_submodel_has_every_view() {
        let shape = Shape::default();
        let normal = submodel_view(submodel(), Content::Normal, shape);
        assert_eq!(normal["id"], "urn:sm");
        assert!(
            normal["submodelElements"][0]["value"][1]
                .get("value")
                .is_none(),
            "no blob values by default"
        );
        let metadata = submodel_view(submodel(), Content::Metadata, shape);
        assert!(metadata.get("submodelElements").is_none());
        let value = submodel_view(submodel(), Content::Value, shape);
        assert_eq!(value["Drive"]["Speed"], 42);
        let reference = submodel_view(submodel(), Content::Reference, shape);
        assert_eq!(reference["keys"][0]["value"], "urn:sm");
        let paths = submodel_view(submodel(), Content::Path, shape);
        assert_eq!(
            paths,
            serde_json::json!([
                "Drive",
                "Drive.Speed",
                "Drive.Photo",
                "Drive.Axes",
                "Drive.Axes[0]"
            ])
        );
    }

    #[test]
    fn an_element_view_it_has_not_is_an_error() {
        let shape = Shape::default();
        let submodel = submodel();
        let at = path("Drive.Speed");
        let speed = submodel.element(&at).unwrap_or_else(|| panic!("no Speed"));
        assert_eq!(
            element_view(&submodel, &at, speed.clone(), Content::Value, shape),
            Ok(serde_json::json!({"Speed": 42}))
        );
        assert_eq!(
            element_view(&submodel, &at, speed, Content::Path, shape),
            Err(ProjectionError::NoPaths(AasSubmodelElements::Property))
        );
        let reference = element_view(
            &submodel,
            &at,
            Capability::new().into(),
            Content::Reference,
            shape,
        );
        assert_eq!(
            reference.map(|r| r["keys"].as_array().map(Vec::len)),
            Ok(Some(3))
        );
    }

    #[test]
    fn a_listing_of_elements_leaves_out_what_has_no_view_and_flattens_paths() {
        let shape = Shape::default();
        let mut submodel = submodel();
        let elements = submodel.submodel_elements.get_or_insert_with(Vec::new);
        elements.push(Capability::new().with_id_short("Can").into());
        elements.push(Property::new(DataTypeDefXsd::Int).into());
        let values = element_list_view(&submodel, Content::Value, shape);
        assert_eq!(
            values.map(|v| v.len()),
            Ok(1),
            "the capability has no value"
        );
        let metadata = element_list_view(&submodel, Content::Metadata, shape).unwrap_or_default();
        assert_eq!(metadata.len(), 2, "the capability appears whole");
        assert_eq!(metadata[1]["idShort"], "Can");
        let paths = element_list_view(&submodel, Content::Path, shape).unwrap_or_default();
        assert_eq!(paths.len(), 6, "every path of Drive and Can, one list");
        let core = Shape::parse(Some("core"), None).unwrap_or_default();
        let paths = element_list_view(&submodel, Content::Path, core).unwrap_or_default();
        assert_eq!(
            paths,
            ["Drive", "Drive.Speed", "Drive.Photo", "Drive.Axes", "Can"]
        );
    }
}
