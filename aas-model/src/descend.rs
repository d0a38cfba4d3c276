//! Walking a model: [`Node`] and its descendants.

use crate::abstract_classes::{
    HasDataSpecification, HasSemantics, Identifiable, Qualifiable, Referable,
};
use crate::classes::*;
use crate::submodel_element::{DataElement, SubmodelElement};

/// A borrowed instance of any concrete class of the metamodel: what [`verify`](fn@crate::verify)
/// takes, and what [`Node::descendants`] yields when it visits everything below a node,
/// depth-first, in document order.
///
/// ```
/// use aas_model::{Environment, Node, Property, DataTypeDefXsd, Submodel};
///
/// let mut submodel = Submodel::new("urn:example:sm");
/// submodel.submodel_elements = Some(vec![
///     Property::new(DataTypeDefXsd::Int).with_id_short("Speed").into(),
/// ]);
/// let env = Environment { submodels: Some(vec![submodel]), ..Environment::new() };
///
/// let properties = Node::from(&env)
///     .descendants()
///     .filter(|n| matches!(n, Node::Property(_)))
///     .count();
/// assert_eq!(properties, 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Node<'a> {
    /// An [`Environment`]: the container of shells, submodels and concept descriptions.
    Environment(&'a Environment),
    /// An [`AssetAdministrationShell`]: the digital representation of an asset.
    AssetAdministrationShell(&'a AssetAdministrationShell),
    /// An [`AssetInformation`]: the kind and identifiers of a shell's asset.
    AssetInformation(&'a AssetInformation),
    /// A [`Resource`]: a file address with its content type, such as a shell's thumbnail.
    Resource(&'a Resource),
    /// A [`SpecificAssetId`]: an asset identifier assigned by some party.
    SpecificAssetId(&'a SpecificAssetId),
    /// A [`Submodel`]: one aspect of an asset, a tree of submodel elements.
    Submodel(&'a Submodel),
    /// A [`RelationshipElement`]: a relationship between two elements.
    RelationshipElement(&'a RelationshipElement),
    /// An [`AnnotatedRelationshipElement`]: a relationship with annotating data elements.
    AnnotatedRelationshipElement(&'a AnnotatedRelationshipElement),
    /// A [`Property`]: a single typed value.
    Property(&'a Property),
    /// A [`MultiLanguageProperty`]: a text in several languages.
    MultiLanguageProperty(&'a MultiLanguageProperty),
    /// A [`Range`]: an interval of typed values.
    Range(&'a Range),
    /// A [`ReferenceElement`]: a reference as a value.
    ReferenceElement(&'a ReferenceElement),
    /// A [`Blob`]: binary data with its content type.
    Blob(&'a Blob),
    /// A [`File`]: a file address with its content type.
    File(&'a File),
    /// A [`SubmodelElementCollection`]: a set of named elements.
    SubmodelElementCollection(&'a SubmodelElementCollection),
    /// A [`SubmodelElementList`]: a list of elements of one class.
    SubmodelElementList(&'a SubmodelElementList),
    /// An [`Entity`]: a thing described by statements.
    Entity(&'a Entity),
    /// A [`BasicEventElement`]: the declaration of an event.
    BasicEventElement(&'a BasicEventElement),
    /// An [`Operation`]: a function with input and output variables.
    Operation(&'a Operation),
    /// An [`OperationVariable`]: a variable of an operation.
    OperationVariable(&'a OperationVariable),
    /// A [`Capability`]: something the asset can do.
    Capability(&'a Capability),
    /// A [`ConceptDescription`]: the definition of a concept that semantic ids point to.
    ConceptDescription(&'a ConceptDescription),
    /// An [`EventPayload`]: the payload of an event, outside any environment.
    EventPayload(&'a EventPayload),
    /// An [`Extension`]: a proprietary name-value pair.
    Extension(&'a Extension),
    /// An [`AdministrativeInformation`]: version, revision, creator and template of an element.
    AdministrativeInformation(&'a AdministrativeInformation),
    /// A [`Qualifier`]: a type-value pair that qualifies an element.
    Qualifier(&'a Qualifier),
    /// A [`Reference`]: a reference to a model element or to something outside the model.
    Reference(&'a Reference),
    /// A [`Key`]: one key of a reference.
    Key(&'a Key),
    /// A [`LangString`]: a text in one language, of any of the five lang-string classes.
    LangString(&'a LangString),
    /// An [`EmbeddedDataSpecification`]: a data specification with its content.
    EmbeddedDataSpecification(&'a EmbeddedDataSpecification),
    /// A [`DataSpecificationIec61360`]: data specification content after IEC 61360.
    DataSpecificationIec61360(&'a DataSpecificationIec61360),
    /// A [`LevelType`]: which of min, nom, typ and max a concept's values carry.
    LevelType(&'a LevelType),
    /// A [`ValueReferencePair`]: an allowed value of an IEC 61360 value list.
    ValueReferencePair(&'a ValueReferencePair),
    /// A [`ValueList`]: the allowed values of an IEC 61360 concept.
    ValueList(&'a ValueList),
}

macro_rules! node_from {
    ($($class:ident),+) => {$(
        impl<'a> From<&'a $class> for Node<'a> {
            fn from(value: &'a $class) -> Self {
                Node::$class(value)
            }
        }
    )+};
}

node_from!(
    Environment,
    AssetAdministrationShell,
    AssetInformation,
    Resource,
    SpecificAssetId,
    Submodel,
    RelationshipElement,
    AnnotatedRelationshipElement,
    Property,
    MultiLanguageProperty,
    Range,
    ReferenceElement,
    Blob,
    File,
    SubmodelElementCollection,
    SubmodelElementList,
    Entity,
    BasicEventElement,
    Operation,
    OperationVariable,
    Capability,
    ConceptDescription,
    EventPayload,
    Extension,
    AdministrativeInformation,
    Qualifier,
    Reference,
    Key,
    LangString,
    EmbeddedDataSpecification,
    DataSpecificationIec61360,
    LevelType,
    ValueReferencePair,
    ValueList
);

impl<'a> From<&'a SubmodelElement> for Node<'a> {
    fn from(element: &'a SubmodelElement) -> Self {
        match element {
            SubmodelElement::RelationshipElement(e) => Node::RelationshipElement(e),
            SubmodelElement::AnnotatedRelationshipElement(e) => {
                Node::AnnotatedRelationshipElement(e)
            }
            SubmodelElement::Property(e) => Node::Property(e),
            SubmodelElement::MultiLanguageProperty(e) => Node::MultiLanguageProperty(e),
            SubmodelElement::Range(e) => Node::Range(e),
            SubmodelElement::ReferenceElement(e) => Node::ReferenceElement(e),
            SubmodelElement::Blob(e) => Node::Blob(e),
            SubmodelElement::File(e) => Node::File(e),
            SubmodelElement::SubmodelElementCollection(e) => Node::SubmodelElementCollection(e),
            SubmodelElement::SubmodelElementList(e) => Node::SubmodelElementList(e),
            SubmodelElement::Entity(e) => Node::Entity(e),
            SubmodelElement::BasicEventElement(e) => Node::BasicEventElement(e),
            SubmodelElement::Operation(e) => Node::Operation(e),
            SubmodelElement::Capability(e) => Node::Capability(e),
        }
    }
}

impl<'a> From<&'a DataElement> for Node<'a> {
    fn from(element: &'a DataElement) -> Self {
        match element {
            DataElement::Property(e) => Node::Property(e),
            DataElement::MultiLanguageProperty(e) => Node::MultiLanguageProperty(e),
            DataElement::Range(e) => Node::Range(e),
            DataElement::ReferenceElement(e) => Node::ReferenceElement(e),
            DataElement::Blob(e) => Node::Blob(e),
            DataElement::File(e) => Node::File(e),
        }
    }
}

impl<'a> From<&'a DataSpecificationContent> for Node<'a> {
    fn from(content: &'a DataSpecificationContent) -> Self {
        match content {
            DataSpecificationContent::DataSpecificationIec61360(c) => {
                Node::DataSpecificationIec61360(c)
            }
        }
    }
}

/// Where a child stands in its parent: the serialized property name, and the index for an
/// item of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    pub(crate) property: &'static str,
    pub(crate) index: Option<usize>,
}

/// Hands child nodes, in document order, to a callback with their step.
struct Children<'a, 'f> {
    out: &'f mut dyn FnMut(Node<'a>, Step),
}

impl<'a> Children<'a, '_> {
    fn one<T>(&mut self, item: &'a T, property: &'static str) -> &mut Self
    where
        &'a T: Into<Node<'a>>,
    {
        (self.out)(
            item.into(),
            Step {
                property,
                index: None,
            },
        );
        self
    }

    fn opt<T>(&mut self, item: &'a Option<T>, property: &'static str) -> &mut Self
    where
        &'a T: Into<Node<'a>>,
    {
        if let Some(item) = item {
            self.one(item, property);
        }
        self
    }

    fn list<T>(&mut self, items: &'a [T], property: &'static str) -> &mut Self
    where
        &'a T: Into<Node<'a>>,
    {
        for (index, item) in items.iter().enumerate() {
            (self.out)(
                item.into(),
                Step {
                    property,
                    index: Some(index),
                },
            );
        }
        self
    }

    fn opt_list<T>(&mut self, items: Option<&'a Vec<T>>, property: &'static str) -> &mut Self
    where
        &'a T: Into<Node<'a>>,
    {
        if let Some(items) = items {
            self.list(items, property);
        }
        self
    }

    /// The attributes every identifiable starts with, in XML order.
    fn identifiable_base<E: Identifiable>(&mut self, e: &'a E) -> &mut Self {
        self.opt_list(e.extensions(), "extensions")
            .opt_list(e.display_name(), "displayName")
            .opt_list(e.description(), "description");
        if let Some(administration) = e.administration() {
            self.one(administration, "administration");
        }
        self
    }

    /// The attributes every submodel element has, in XML order.
    fn submodel_element_base<E>(&mut self, e: &'a E) -> &mut Self
    where
        E: Referable + HasSemantics + Qualifiable + HasDataSpecification,
    {
        self.opt_list(e.extensions(), "extensions")
            .opt_list(e.display_name(), "displayName")
            .opt_list(e.description(), "description");
        if let Some(semantic_id) = e.semantic_id() {
            self.one(semantic_id, "semanticId");
        }
        self.opt_list(e.supplemental_semantic_ids(), "supplementalSemanticIds")
            .opt_list(e.qualifiers(), "qualifiers")
            .opt_list(
                e.embedded_data_specifications(),
                "embeddedDataSpecifications",
            )
    }
}

impl<'a> Node<'a> {
    /// Appends the direct children of this node to `out`, in document order.
    pub fn push_children(self, out: &mut Vec<Node<'a>>) {
        self.visit_children(&mut |node, _| out.push(node));
    }

    /// Calls `f` with every direct child and where it stands, in document order.
    pub(crate) fn visit_children(self, f: &mut dyn FnMut(Node<'a>, Step)) {
        let c = &mut Children { out: f };
        match self {
            Node::Environment(e) => {
                c.opt_list(
                    e.asset_administration_shells.as_ref(),
                    "assetAdministrationShells",
                )
                .opt_list(e.submodels.as_ref(), "submodels")
                .opt_list(e.concept_descriptions.as_ref(), "conceptDescriptions");
            }
            Node::AssetAdministrationShell(e) => {
                c.identifiable_base(e)
                    .opt_list(
                        e.embedded_data_specifications.as_ref(),
                        "embeddedDataSpecifications",
                    )
                    .opt(&e.derived_from, "derivedFrom")
                    .one(&e.asset_information, "assetInformation")
                    .opt_list(e.submodels.as_ref(), "submodels");
            }
            Node::AssetInformation(e) => {
                c.opt_list(e.specific_asset_ids.as_ref(), "specificAssetIds")
                    .opt(&e.default_thumbnail, "defaultThumbnail");
            }
            Node::Resource(_) | Node::Key(_) | Node::LangString(_) | Node::LevelType(_) => {}
            Node::SpecificAssetId(e) => {
                c.opt(&e.semantic_id, "semanticId")
                    .opt_list(
                        e.supplemental_semantic_ids.as_ref(),
                        "supplementalSemanticIds",
                    )
                    .opt(&e.external_subject_id, "externalSubjectId");
            }
            Node::Submodel(e) => {
                c.identifiable_base(e)
                    .opt(&e.semantic_id, "semanticId")
                    .opt_list(
                        e.supplemental_semantic_ids.as_ref(),
                        "supplementalSemanticIds",
                    )
                    .opt_list(e.qualifiers.as_ref(), "qualifiers")
                    .opt_list(
                        e.embedded_data_specifications.as_ref(),
                        "embeddedDataSpecifications",
                    )
                    .opt_list(e.submodel_elements.as_ref(), "submodelElements");
            }
            Node::RelationshipElement(e) => {
                c.submodel_element_base(e)
                    .opt(&e.first, "first")
                    .opt(&e.second, "second");
            }
            Node::AnnotatedRelationshipElement(e) => {
                c.submodel_element_base(e)
                    .opt(&e.first, "first")
                    .opt(&e.second, "second")
                    .opt_list(e.annotations.as_ref(), "annotations");
            }
            Node::Property(e) => {
                c.submodel_element_base(e).opt(&e.value_id, "valueId");
            }
            Node::MultiLanguageProperty(e) => {
                c.submodel_element_base(e)
                    .opt_list(e.value.as_ref(), "value")
                    .opt(&e.value_id, "valueId");
            }
            Node::Range(e) => {
                c.submodel_element_base(e);
            }
            Node::ReferenceElement(e) => {
                c.submodel_element_base(e).opt(&e.value, "value");
            }
            Node::Blob(e) => {
                c.submodel_element_base(e);
            }
            Node::File(e) => {
                c.submodel_element_base(e);
            }
            Node::SubmodelElementCollection(e) => {
                c.submodel_element_base(e)
                    .opt_list(e.value.as_ref(), "value");
            }
            Node::SubmodelElementList(e) => {
                c.submodel_element_base(e)
                    .opt(&e.semantic_id_list_element, "semanticIdListElement")
                    .opt_list(e.value.as_ref(), "value");
            }
            Node::Entity(e) => {
                c.submodel_element_base(e)
                    .opt_list(e.statements.as_ref(), "statements")
                    .opt_list(e.specific_asset_ids.as_ref(), "specificAssetIds");
            }
            Node::BasicEventElement(e) => {
                c.submodel_element_base(e)
                    .one(&e.observed, "observed")
                    .opt(&e.message_broker, "messageBroker");
            }
            Node::Operation(e) => {
                c.submodel_element_base(e)
                    .opt_list(e.input_variables.as_ref(), "inputVariables")
                    .opt_list(e.output_variables.as_ref(), "outputVariables")
                    .opt_list(e.inoutput_variables.as_ref(), "inoutputVariables");
            }
            Node::OperationVariable(e) => {
                c.one(&e.value, "value");
            }
            Node::Capability(e) => {
                c.submodel_element_base(e);
            }
            Node::ConceptDescription(e) => {
                c.identifiable_base(e)
                    .opt_list(
                        e.embedded_data_specifications.as_ref(),
                        "embeddedDataSpecifications",
                    )
                    .opt_list(e.is_case_of.as_ref(), "isCaseOf");
            }
            Node::EventPayload(e) => {
                c.one(&e.source, "source")
                    .opt(&e.source_semantic_id, "sourceSemanticId")
                    .one(&e.observable_reference, "observableReference")
                    .opt(&e.observable_semantic_id, "observableSemanticId")
                    .opt(&e.subject_id, "subjectId");
            }
            Node::Extension(e) => {
                c.opt(&e.semantic_id, "semanticId")
                    .opt_list(
                        e.supplemental_semantic_ids.as_ref(),
                        "supplementalSemanticIds",
                    )
                    .opt_list(e.refers_to.as_ref(), "refersTo");
            }
            Node::AdministrativeInformation(e) => {
                c.opt_list(
                    e.embedded_data_specifications.as_ref(),
                    "embeddedDataSpecifications",
                )
                .opt(&e.creator, "creator");
            }
            Node::Qualifier(e) => {
                c.opt(&e.semantic_id, "semanticId")
                    .opt_list(
                        e.supplemental_semantic_ids.as_ref(),
                        "supplementalSemanticIds",
                    )
                    .opt(&e.value_id, "valueId");
            }
            Node::Reference(e) => {
                if let Some(semantic_id) = &e.referred_semantic_id {
                    c.one(semantic_id.as_ref(), "referredSemanticId");
                }
                c.list(&e.keys, "keys");
            }
            Node::EmbeddedDataSpecification(e) => {
                c.one(&e.data_specification, "dataSpecification")
                    .one(&e.data_specification_content, "dataSpecificationContent");
            }
            Node::DataSpecificationIec61360(e) => {
                c.list(&e.preferred_name, "preferredName")
                    .opt_list(e.short_name.as_ref(), "shortName")
                    .opt(&e.unit_id, "unitId")
                    .opt_list(e.definition.as_ref(), "definition")
                    .opt(&e.value_list, "valueList")
                    .opt(&e.level_type, "levelType");
            }
            Node::ValueReferencePair(e) => {
                c.opt(&e.value_id, "valueId");
            }
            Node::ValueList(e) => {
                c.list(&e.value_reference_pairs, "valueReferencePairs");
            }
        }
    }

    /// The direct children of this node, in document order.
    pub fn children(self) -> Vec<Node<'a>> {
        let mut out = Vec::new();
        self.push_children(&mut out);
        out
    }

    /// Every node below this one (not this one itself), depth-first in document order.
    pub fn descendants(self) -> Descendants<'a> {
        let mut stack = Vec::new();
        self.push_children(&mut stack);
        stack.reverse();
        Descendants {
            stack,
            scratch: Vec::new(),
        }
    }

    /// For a submodel element: `Some` of its idShort (which may be `None`); `None` for any
    /// other node.
    pub fn submodel_element_id_short(self) -> Option<Option<&'a str>> {
        use crate::abstract_classes::Referable as R;
        Some(match self {
            Node::RelationshipElement(e) => R::id_short(e),
            Node::AnnotatedRelationshipElement(e) => R::id_short(e),
            Node::Property(e) => R::id_short(e),
            Node::MultiLanguageProperty(e) => R::id_short(e),
            Node::Range(e) => R::id_short(e),
            Node::ReferenceElement(e) => R::id_short(e),
            Node::Blob(e) => R::id_short(e),
            Node::File(e) => R::id_short(e),
            Node::SubmodelElementCollection(e) => R::id_short(e),
            Node::SubmodelElementList(e) => R::id_short(e),
            Node::Entity(e) => R::id_short(e),
            Node::BasicEventElement(e) => R::id_short(e),
            Node::Operation(e) => R::id_short(e),
            Node::Capability(e) => R::id_short(e),
            _ => return None,
        })
    }

    /// Name of the node's class as the metamodel spells it (`LangString` for all five
    /// lang-string classes).
    pub fn class_name(self) -> &'static str {
        match self {
            Node::Environment(_) => "Environment",
            Node::AssetAdministrationShell(_) => "AssetAdministrationShell",
            Node::AssetInformation(_) => "AssetInformation",
            Node::Resource(_) => "Resource",
            Node::SpecificAssetId(_) => "SpecificAssetId",
            Node::Submodel(_) => "Submodel",
            Node::RelationshipElement(_) => "RelationshipElement",
            Node::AnnotatedRelationshipElement(_) => "AnnotatedRelationshipElement",
            Node::Property(_) => "Property",
            Node::MultiLanguageProperty(_) => "MultiLanguageProperty",
            Node::Range(_) => "Range",
            Node::ReferenceElement(_) => "ReferenceElement",
            Node::Blob(_) => "Blob",
            Node::File(_) => "File",
            Node::SubmodelElementCollection(_) => "SubmodelElementCollection",
            Node::SubmodelElementList(_) => "SubmodelElementList",
            Node::Entity(_) => "Entity",
            Node::BasicEventElement(_) => "BasicEventElement",
            Node::Operation(_) => "Operation",
            Node::OperationVariable(_) => "OperationVariable",
            Node::Capability(_) => "Capability",
            Node::ConceptDescription(_) => "ConceptDescription",
            Node::EventPayload(_) => "EventPayload",
            Node::Extension(_) => "Extension",
            Node::AdministrativeInformation(_) => "AdministrativeInformation",
            Node::Qualifier(_) => "Qualifier",
            Node::Reference(_) => "Reference",
            Node::Key(_) => "Key",
            Node::LangString(_) => "LangString",
            Node::EmbeddedDataSpecification(_) => "EmbeddedDataSpecification",
            Node::DataSpecificationIec61360(_) => "DataSpecificationIec61360",
            Node::LevelType(_) => "LevelType",
            Node::ValueReferencePair(_) => "ValueReferencePair",
            Node::ValueList(_) => "ValueList",
        }
    }
}

/// Iterator of [`Node::descendants`].
#[derive(Debug, Clone)]
pub struct Descendants<'a> {
    /// Nodes still to visit, the next one last.
    stack: Vec<Node<'a>>,
    scratch: Vec<Node<'a>>,
}

impl<'a> Iterator for Descendants<'a> {
    type Item = Node<'a>;

    fn next(&mut self) -> Option<Node<'a>> {
        let node = self.stack.pop()?;
        node.push_children(&mut self.scratch);
        self.stack.extend(self.scratch.drain(..).rev());
        Some(node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enums::*;

    #[test]
    fn descendants_come_in_document_order_through_every_container() {
        let mut inner = SubmodelElementCollection::new().with_id_short("Inner");
        inner.value = Some(vec![
            Property::new(DataTypeDefXsd::String)
                .with_id_short("P")
                .into(),
        ]);
        let mut op = Operation::new().with_id_short("Op");
        op.output_variables = Some(vec![OperationVariable::new(inner)]);
        let mut sm = Submodel::new("urn:sm");
        sm.semantic_id = Some(Reference::global("urn:sem"));
        sm.submodel_elements = Some(vec![op.into()]);
        let env = Environment {
            submodels: Some(vec![sm]),
            ..Environment::new()
        };

        let names: Vec<&str> = Node::from(&env)
            .descendants()
            .map(Node::class_name)
            .collect();
        assert_eq!(
            names,
            [
                "Submodel",
                "Reference",
                "Key",
                "Operation",
                "OperationVariable",
                "SubmodelElementCollection",
                "Property"
            ]
        );
    }

    #[test]
    fn annotations_and_data_specifications_are_visited() {
        let mut are =
            AnnotatedRelationshipElement::new(Reference::global("a"), Reference::global("b"));
        are.annotations = Some(vec![DataElement::Range(Range::new(DataTypeDefXsd::Int))]);
        let mut content = DataSpecificationIec61360::new(vec![LangString::new("en", "x")]);
        content.level_type = Some(LevelType {
            min: true,
            ..LevelType::default()
        });
        are.embedded_data_specifications = Some(vec![EmbeddedDataSpecification {
            data_specification: Reference::global("ds"),
            data_specification_content: content.into(),
        }]);
        let classes: Vec<&str> = Node::from(&are)
            .descendants()
            .map(Node::class_name)
            .collect();
        assert!(classes.contains(&"Range"));
        assert!(classes.contains(&"LevelType"));
        assert!(classes.contains(&"DataSpecificationIec61360"));
        assert_eq!(classes.iter().filter(|c| **c == "Key").count(), 3);
    }
}
