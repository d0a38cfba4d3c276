//! Submodel elements as one enum, and data elements as a narrower one.

use crate::classes::*;
use crate::enums::AasSubmodelElements;

/// Any submodel element (the abstract `SubmodelElement`), by its concrete class.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum SubmodelElement {
    /// A [`RelationshipElement`]: a relationship between two elements.
    RelationshipElement(RelationshipElement),
    /// An [`AnnotatedRelationshipElement`]: a relationship with annotating data elements.
    AnnotatedRelationshipElement(AnnotatedRelationshipElement),
    /// A [`Property`]: a single typed value.
    Property(Property),
    /// A [`MultiLanguageProperty`]: a text in several languages.
    MultiLanguageProperty(MultiLanguageProperty),
    /// A [`Range`]: an interval of typed values.
    Range(Range),
    /// A [`ReferenceElement`]: a reference as a value.
    ReferenceElement(ReferenceElement),
    /// A [`Blob`]: binary data with its content type.
    Blob(Blob),
    /// A [`File`]: a file address with its content type.
    File(File),
    /// A [`SubmodelElementCollection`]: a set of named elements.
    SubmodelElementCollection(SubmodelElementCollection),
    /// A [`SubmodelElementList`]: a list of elements of one class.
    SubmodelElementList(SubmodelElementList),
    /// An [`Entity`]: a thing described by statements.
    Entity(Entity),
    /// A [`BasicEventElement`]: the declaration of an event.
    BasicEventElement(BasicEventElement),
    /// An [`Operation`]: a function with input and output variables.
    Operation(Operation),
    /// A [`Capability`]: something the asset can do.
    Capability(Capability),
}

/// A data element (the abstract `DataElement`): the submodel elements that carry a value.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum DataElement {
    /// A [`Property`]: a single typed value.
    Property(Property),
    /// A [`MultiLanguageProperty`]: a text in several languages.
    MultiLanguageProperty(MultiLanguageProperty),
    /// A [`Range`]: an interval of typed values.
    Range(Range),
    /// A [`ReferenceElement`]: a reference as a value.
    ReferenceElement(ReferenceElement),
    /// A [`Blob`]: binary data with its content type.
    Blob(Blob),
    /// A [`File`]: a file address with its content type.
    File(File),
}

/// Calls `$body` with `$e` bound to the inner struct, whatever the variant.
macro_rules! each_submodel_element {
    ($value:expr, $e:ident => $body:expr) => {
        match $value {
            SubmodelElement::RelationshipElement($e) => $body,
            SubmodelElement::AnnotatedRelationshipElement($e) => $body,
            SubmodelElement::Property($e) => $body,
            SubmodelElement::MultiLanguageProperty($e) => $body,
            SubmodelElement::Range($e) => $body,
            SubmodelElement::ReferenceElement($e) => $body,
            SubmodelElement::Blob($e) => $body,
            SubmodelElement::File($e) => $body,
            SubmodelElement::SubmodelElementCollection($e) => $body,
            SubmodelElement::SubmodelElementList($e) => $body,
            SubmodelElement::Entity($e) => $body,
            SubmodelElement::BasicEventElement($e) => $body,
            SubmodelElement::Operation($e) => $body,
            SubmodelElement::Capability($e) => $body,
        }
    };
}

macro_rules! each_data_element {
    ($value:expr, $e:ident => $body:expr) => {
        match $value {
            DataElement::Property($e) => $body,
            DataElement::MultiLanguageProperty($e) => $body,
            DataElement::Range($e) => $body,
            DataElement::ReferenceElement($e) => $body,
            DataElement::Blob($e) => $body,
            DataElement::File($e) => $body,
        }
    };
}

pub(crate) use {each_data_element, each_submodel_element};

impl SubmodelElement {
    /// The concrete class, as `typeValueListElement` and `modelType` name it.
    pub fn element_type(&self) -> AasSubmodelElements {
        use AasSubmodelElements as T;
        match self {
            SubmodelElement::RelationshipElement(_) => T::RelationshipElement,
            SubmodelElement::AnnotatedRelationshipElement(_) => T::AnnotatedRelationshipElement,
            SubmodelElement::Property(_) => T::Property,
            SubmodelElement::MultiLanguageProperty(_) => T::MultiLanguageProperty,
            SubmodelElement::Range(_) => T::Range,
            SubmodelElement::ReferenceElement(_) => T::ReferenceElement,
            SubmodelElement::Blob(_) => T::Blob,
            SubmodelElement::File(_) => T::File,
            SubmodelElement::SubmodelElementCollection(_) => T::SubmodelElementCollection,
            SubmodelElement::SubmodelElementList(_) => T::SubmodelElementList,
            SubmodelElement::Entity(_) => T::Entity,
            SubmodelElement::BasicEventElement(_) => T::BasicEventElement,
            SubmodelElement::Operation(_) => T::Operation,
            SubmodelElement::Capability(_) => T::Capability,
        }
    }

    /// The `idShort`, if set.
    pub fn id_short(&self) -> Option<&str> {
        each_submodel_element!(self, e => e.id_short.as_deref())
    }

    /// The `idShort`, to set or clear whatever the class.
    pub fn id_short_mut(&mut self) -> &mut Option<String> {
        each_submodel_element!(self, e => &mut e.id_short)
    }

    /// The child elements in document order: collection and list values, entity statements,
    /// annotations (as submodel elements) and operation variables. Empty for other elements.
    ///
    /// These are the children that idShort paths step into (IDTA Part 2).
    pub fn children(&self) -> Vec<&SubmodelElement> {
        self.child_elements().collect()
    }

    /// [`SubmodelElement::children`] without collecting them.
    fn child_elements(&self) -> impl Iterator<Item = &SubmodelElement> {
        let none = [None; 3];
        let (elements, variables) = match self {
            SubmodelElement::SubmodelElementCollection(c) => (c.value.as_ref(), none),
            SubmodelElement::SubmodelElementList(l) => (l.value.as_ref(), none),
            SubmodelElement::Entity(e) => (e.statements.as_ref(), none),
            SubmodelElement::Operation(o) => (
                None,
                [
                    o.input_variables.as_ref(),
                    o.output_variables.as_ref(),
                    o.inoutput_variables.as_ref(),
                ],
            ),
            _ => (None, none),
        };
        let variables = variables.into_iter().flatten().flatten();
        elements
            .into_iter()
            .flatten()
            .chain(variables.map(|variable| &variable.value))
    }

    /// The child elements, mutable: those of [`SubmodelElement::children`] (annotations
    /// excepted: they are data elements, not submodel elements).
    pub fn children_mut(&mut self) -> Vec<&mut SubmodelElement> {
        match self {
            SubmodelElement::SubmodelElementCollection(c) => c.value.iter_mut().flatten().collect(),
            SubmodelElement::SubmodelElementList(l) => l.value.iter_mut().flatten().collect(),
            SubmodelElement::Entity(e) => e.statements.iter_mut().flatten().collect(),
            SubmodelElement::Operation(o) => [
                &mut o.input_variables,
                &mut o.output_variables,
                &mut o.inoutput_variables,
            ]
            .into_iter()
            .flatten()
            .flatten()
            .map(|v| &mut v.value)
            .collect(),
            _ => Vec::new(),
        }
    }

    /// Removes the values of every Blob in this element and below (what Part 2's default
    /// `extent=withoutBlobValue` leaves out); whether there was one.
    pub fn drop_blob_values(&mut self) -> bool {
        let mut dropped = false;
        if let SubmodelElement::Blob(blob) = self {
            dropped = blob.value.take().is_some();
        }
        if let SubmodelElement::AnnotatedRelationshipElement(r) = self {
            for annotation in r.annotations.iter_mut().flatten() {
                if let DataElement::Blob(blob) = annotation {
                    dropped |= blob.value.take().is_some();
                }
            }
        }
        for child in self.children_mut() {
            dropped |= child.drop_blob_values();
        }
        dropped
    }

    /// Whether this element or one below it is a Blob with a value (what
    /// [`SubmodelElement::drop_blob_values`] would drop), found without copying anything.
    pub fn holds_blob_value(&self) -> bool {
        match self {
            SubmodelElement::Blob(blob) if blob.value.is_some() => true,
            SubmodelElement::AnnotatedRelationshipElement(relationship)
                if relationship
                    .annotations
                    .iter()
                    .flatten()
                    .any(|a| matches!(a, DataElement::Blob(blob) if blob.value.is_some())) =>
            {
                true
            }
            // Without collecting the children: this runs at every write of a submodel.
            _ => self.child_elements().any(SubmodelElement::holds_blob_value),
        }
    }

    /// Whether the element is a data element (property, MLP, range, reference element, blob, file).
    pub fn is_data_element(&self) -> bool {
        matches!(
            self,
            SubmodelElement::Property(_)
                | SubmodelElement::MultiLanguageProperty(_)
                | SubmodelElement::Range(_)
                | SubmodelElement::ReferenceElement(_)
                | SubmodelElement::Blob(_)
                | SubmodelElement::File(_)
        )
    }
}

impl DataElement {
    /// The concrete class.
    pub fn element_type(&self) -> AasSubmodelElements {
        use AasSubmodelElements as T;
        match self {
            DataElement::Property(_) => T::Property,
            DataElement::MultiLanguageProperty(_) => T::MultiLanguageProperty,
            DataElement::Range(_) => T::Range,
            DataElement::ReferenceElement(_) => T::ReferenceElement,
            DataElement::Blob(_) => T::Blob,
            DataElement::File(_) => T::File,
        }
    }

    /// The `idShort`, if set.
    pub fn id_short(&self) -> Option<&str> {
        each_data_element!(self, e => e.id_short.as_deref())
    }
}

impl From<DataElement> for SubmodelElement {
    fn from(element: DataElement) -> Self {
        match element {
            DataElement::Property(e) => SubmodelElement::Property(e),
            DataElement::MultiLanguageProperty(e) => SubmodelElement::MultiLanguageProperty(e),
            DataElement::Range(e) => SubmodelElement::Range(e),
            DataElement::ReferenceElement(e) => SubmodelElement::ReferenceElement(e),
            DataElement::Blob(e) => SubmodelElement::Blob(e),
            DataElement::File(e) => SubmodelElement::File(e),
        }
    }
}

impl TryFrom<SubmodelElement> for DataElement {
    /// The element itself, when it is not a data element.
    type Error = SubmodelElement;

    fn try_from(element: SubmodelElement) -> Result<Self, SubmodelElement> {
        Ok(match element {
            SubmodelElement::Property(e) => DataElement::Property(e),
            SubmodelElement::MultiLanguageProperty(e) => DataElement::MultiLanguageProperty(e),
            SubmodelElement::Range(e) => DataElement::Range(e),
            SubmodelElement::ReferenceElement(e) => DataElement::ReferenceElement(e),
            SubmodelElement::Blob(e) => DataElement::Blob(e),
            SubmodelElement::File(e) => DataElement::File(e),
            other => return Err(other),
        })
    }
}

macro_rules! into_enum {
    ($enum:ident: $($variant:ident),+) => {
        $(impl From<$variant> for $enum {
            fn from(element: $variant) -> Self {
                $enum::$variant(element)
            }
        })+
    };
}

/// Invokes `$m!(prefix… RelationshipElement, AnnotatedRelationshipElement, …)` with the 14
/// submodel element classes, for code (here and in the toolkit's other crates) that must cover
/// each of them. Not a stable API.
#[doc(hidden)]
#[macro_export]
macro_rules! __with_submodel_element_classes {
    ($m:ident ! ( $($prefix:tt)* )) => {
        $m!($($prefix)* RelationshipElement, AnnotatedRelationshipElement, Property,
            MultiLanguageProperty, Range, ReferenceElement, Blob, File, SubmodelElementCollection,
            SubmodelElementList, Entity, BasicEventElement, Operation, Capability);
    };
}

crate::__with_submodel_element_classes!(into_enum!(SubmodelElement:));
into_enum!(DataElement: Property, MultiLanguageProperty, Range, ReferenceElement, Blob, File);
