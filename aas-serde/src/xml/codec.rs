//! Reading and writing of every class as XML, generated from the schema tables.

use std::io::Write;

use aas_model::*;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::error::{Error, ErrorKind, WriteError};
use super::reader::{Child, XmlReader};
use super::writer::XmlWriter;
use crate::version::Since;

/// A class that can be read from XML. Implemented by this crate only.
pub trait FromXml: Sized {
    /// Reads the content of `element` (whose start tag was read) through its end tag.
    #[doc(hidden)]
    fn read_content(r: &mut XmlReader<'_>, element: &Child<'_>) -> Result<Self, Error>;
}

/// A class that can be written as XML. Implemented by this crate only.
pub trait ToXml {
    /// Writes the content of the element that holds this value.
    #[doc(hidden)]
    fn write_content<W: Write>(&self, w: &mut XmlWriter<W>) -> Result<(), WriteError>;

    /// Whether this is an empty list (left out when optional).
    #[doc(hidden)]
    fn is_empty_list(&self) -> bool {
        false
    }
}

/// The element name of a class when it stands on its own (as a root or a list item).
pub trait XmlName {
    #[doc(hidden)]
    const NAME: &'static str;
}

/// Types whose XML element is named by their concrete class (`<property>`, `<range>`…):
/// submodel elements, data elements, data specification contents.
pub trait XmlTagged: Sized {
    #[doc(hidden)]
    fn read_tagged(r: &mut XmlReader<'_>, element: &Child<'_>) -> Result<Self, Error>;
    #[doc(hidden)]
    fn write_tagged<W: Write>(&self, w: &mut XmlWriter<W>) -> Result<(), WriteError>;
    /// What the wrapper holds, for errors.
    #[doc(hidden)]
    const WHAT: &'static str;
}

impl FromXml for String {
    fn read_content(r: &mut XmlReader<'_>, element: &Child<'_>) -> Result<Self, Error> {
        r.read_text(element).map(|t| t.into_owned())
    }
}

impl ToXml for String {
    fn write_content<W: Write>(&self, w: &mut XmlWriter<W>) -> Result<(), WriteError> {
        w.text(self)
    }
}

impl FromXml for bool {
    fn read_content(r: &mut XmlReader<'_>, element: &Child<'_>) -> Result<Self, Error> {
        let text = r.read_text(element)?;
        // xs:boolean collapses whitespace.
        match text.trim_matches([' ', '\t', '\n', '\r']) {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            other => Err(r.error_at(element.pos, ErrorKind::InvalidBoolean(other.to_owned()))),
        }
    }
}

impl ToXml for bool {
    fn write_content<W: Write>(&self, w: &mut XmlWriter<W>) -> Result<(), WriteError> {
        w.raw_text(if *self { b"true" } else { b"false" });
        Ok(())
    }
}

impl<T: FromXml> FromXml for Box<T> {
    fn read_content(r: &mut XmlReader<'_>, element: &Child<'_>) -> Result<Self, Error> {
        T::read_content(r, element).map(Box::new)
    }
}

impl<T: ToXml> ToXml for Box<T> {
    fn write_content<W: Write>(&self, w: &mut XmlWriter<W>) -> Result<(), WriteError> {
        (**self).write_content(w)
    }
}

impl<T: ToXml + ?Sized> ToXml for &T {
    fn write_content<W: Write>(&self, w: &mut XmlWriter<W>) -> Result<(), WriteError> {
        (**self).write_content(w)
    }
}

/// `<environment>` of borrowed elements, as `Environment`'s writer writes it.
impl crate::xml::ToXmlRoot for crate::EnvironmentRef<'_> {
    fn write_root<W: Write>(&self, w: &mut XmlWriter<W>) -> Result<(), WriteError> {
        w.start("environment");
        if !self.asset_administration_shells.is_empty() {
            write_list(
                w,
                "assetAdministrationShells",
                "assetAdministrationShell",
                self.asset_administration_shells,
            )?;
        }
        if !self.submodels.is_empty() {
            write_list(w, "submodels", "submodel", self.submodels)?;
        }
        if !self.concept_descriptions.is_empty() {
            write_list(
                w,
                "conceptDescriptions",
                "conceptDescription",
                self.concept_descriptions,
            )?;
        }
        w.end();
        Ok(())
    }
}

impl<T> ToXml for Vec<T> {
    /// Lists are written by their fields (which know the item element); this only reports
    /// emptiness.
    fn write_content<W: Write>(&self, _: &mut XmlWriter<W>) -> Result<(), WriteError> {
        Ok(())
    }

    fn is_empty_list(&self) -> bool {
        self.is_empty()
    }
}

macro_rules! xml_enum {
    ($($enum:ident),+) => {$(
        impl FromXml for $enum {
            fn read_content(r: &mut XmlReader<'_>, element: &Child<'_>) -> Result<Self, Error> {
                let text = r.read_text(element)?;
                let value = $enum::from_literal(&text).ok_or_else(|| {
                    r.error_at(element.pos, ErrorKind::UnknownLiteral {
                        literal: text.into_owned(),
                        enumeration: stringify!($enum),
                    })
                })?;
                // Constant `V3_0` for all but `AssetKind`: the comparison folds away.
                let since = Since::since(value);
                if since > r.version() {
                    return Err(r.error_at(element.pos, ErrorKind::LiteralNotInVersion {
                        literal: value.as_str(),
                        enumeration: stringify!($enum),
                        version: r.version(),
                        since,
                    }));
                }
                Ok(value)
            }
        }

        impl ToXml for $enum {
            fn write_content<W: Write>(&self, w: &mut XmlWriter<W>) -> Result<(), WriteError> {
                w.raw_text(self.as_str().as_bytes());
                Ok(())
            }
        }
    )+};
}

xml_enum!(
    ModellingKind,
    AssetKind,
    QualifierKind,
    EntityType,
    Direction,
    StateOfEvent,
    ReferenceTypes,
    AasSubmodelElements,
    KeyTypes,
    DataTypeDefXsd,
    DataTypeIec61360
);

fn duplicate(r: &XmlReader<'_>, child: &Child<'_>) -> Error {
    r.error_at(
        child.pos,
        ErrorKind::DuplicateElement(child.name().to_owned()),
    )
    .in_element(child.name())
}

/// Reads a property element's content into its slot; a second occurrence is an error.
fn read_into<T: FromXml>(
    r: &mut XmlReader<'_>,
    child: &Child<'_>,
    slot: &mut Option<T>,
) -> Result<(), Error> {
    if slot.is_some() {
        return Err(duplicate(r, child));
    }
    *slot = Some(T::read_content(r, child).map_err(|e| e.in_element(child.name()))?);
    Ok(())
}

/// Reads the items of a list element with `read_item`, which gets each item element and its
/// index.
fn read_items_into<T>(
    r: &mut XmlReader<'_>,
    child: &Child<'_>,
    slot: &mut Option<Vec<T>>,
    mut read_item: impl FnMut(&mut XmlReader<'_>, &Child<'_>) -> Result<T, Error>,
) -> Result<(), Error> {
    if slot.is_some() {
        return Err(duplicate(r, child));
    }
    let mut items = Vec::with_capacity(1);
    if !child.empty {
        // An item refused by its start tag (namespace, attributes) is named below the list.
        while let Some(element) = r.next_child().map_err(|e| e.in_element(child.name()))? {
            let index = items.len();
            let value = read_item(r, &element)
                .map_err(|e| e.in_item(element.name(), index).in_element(child.name()))?;
            items.push(value);
        }
    }
    items.shrink_to_fit();
    *slot = Some(items);
    Ok(())
}

/// Reads a list whose items are `<item>` elements.
fn read_list_into<T: FromXml>(
    r: &mut XmlReader<'_>,
    child: &Child<'_>,
    slot: &mut Option<Vec<T>>,
    item: &'static str,
    class: &'static str,
) -> Result<(), Error> {
    read_items_into(r, child, slot, |r, element| {
        if element.name() != item {
            return Err(r.error_at(
                element.pos,
                ErrorKind::UnexpectedElement {
                    element: element.name().to_owned(),
                    class,
                },
            ));
        }
        T::read_content(r, element)
    })
}

/// Reads a list whose items are named by their class.
fn read_tagged_list_into<T: XmlTagged>(
    r: &mut XmlReader<'_>,
    child: &Child<'_>,
    slot: &mut Option<Vec<T>>,
) -> Result<(), Error> {
    read_items_into(r, child, slot, T::read_tagged)
}

/// Reads base64 text into bytes (XML allows whitespace inside).
fn read_base64_into(
    r: &mut XmlReader<'_>,
    child: &Child<'_>,
    slot: &mut Option<Vec<u8>>,
) -> Result<(), Error> {
    if slot.is_some() {
        return Err(duplicate(r, child));
    }
    let text = r.read_text(child).map_err(|e| e.in_element(child.name()))?;
    let compact: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'))
        .collect();
    // An empty value element (basyx writes `<value></value>` for an empty Blob) is empty bytes;
    // the writer leaves such a value out, since aas-core refuses it.
    let bytes = BASE64.decode(compact.as_bytes()).map_err(|e| {
        r.error_at(child.pos, ErrorKind::InvalidBase64(e.to_string()))
            .in_element(child.name())
    })?;
    *slot = Some(bytes);
    Ok(())
}

fn required<T>(
    r: &XmlReader<'_>,
    element: &Child<'_>,
    slot: Option<T>,
    name: &'static str,
    class: &'static str,
) -> Result<T, Error> {
    slot.ok_or_else(|| {
        r.error_at(
            element.pos,
            ErrorKind::MissingElement {
                element: name,
                class,
            },
        )
    })
}

/// An element V3.0 requires and V3.1 made optional: missing is an error in a V3.0 document.
fn required_in_v30<T>(
    r: &XmlReader<'_>,
    element: &Child<'_>,
    slot: Option<T>,
    name: &'static str,
    class: &'static str,
) -> Result<Option<T>, Error> {
    match slot {
        None if r.version() == Version::V3_0 => Err(r.error_at(
            element.pos,
            ErrorKind::MissingInVersion {
                element: name,
                class,
                version: Version::V3_0,
            },
        )),
        slot => Ok(slot),
    }
}

fn write_list<T: ToXml, W: Write>(
    w: &mut XmlWriter<W>,
    name: &'static str,
    item: &'static str,
    items: &[T],
) -> Result<(), WriteError> {
    w.start(name);
    for value in items {
        w.start(item);
        value.write_content(w)?;
        w.end();
    }
    w.end();
    Ok(())
}

fn write_tagged_list<T: XmlTagged, W: Write>(
    w: &mut XmlWriter<W>,
    name: &'static str,
    items: &[T],
) -> Result<(), WriteError> {
    w.start(name);
    for value in items {
        value.write_tagged(w)?;
    }
    w.end();
    Ok(())
}

fn write_base64<W: Write>(w: &mut XmlWriter<W>, bytes: &[u8]) {
    let buf = w.buffer();
    let start = buf.len();
    buf.resize(start + bytes.len().div_ceil(3) * 4, 0);
    // The slice has exactly the encoded length, so encoding cannot fail.
    let written = BASE64.encode_slice(bytes, &mut buf[start..]).unwrap_or(0);
    buf.truncate(start + written);
}

macro_rules! xml_field_read {
    (bytes, $r:ident, $child:ident, $slot:ident, $class:ident) => {
        read_base64_into($r, &$child, &mut $slot)?
    };
    ($kind:ident, $r:ident, $child:ident, $slot:ident, $class:ident, "*") => {
        read_tagged_list_into($r, &$child, &mut $slot)?
    };
    ($kind:ident, $r:ident, $child:ident, $slot:ident, $class:ident, $item:literal) => {
        read_list_into($r, &$child, &mut $slot, $item, stringify!($class))?
    };
    ($kind:ident, $r:ident, $child:ident, $slot:ident, $class:ident) => {
        read_into($r, &$child, &mut $slot)?
    };
}

macro_rules! xml_field_finish {
    (req, $r:ident, $element:ident, $slot:ident, $name:literal, $class:ident) => {
        required($r, $element, $slot, $name, stringify!($class))?
    };
    (v30, $r:ident, $element:ident, $slot:ident, $name:literal, $class:ident) => {
        required_in_v30($r, $element, $slot, $name, stringify!($class))?
    };
    ($kind:ident, $r:ident, $element:ident, $slot:ident, $name:literal, $class:ident) => {
        $slot
    };
}

macro_rules! xml_field_write {
    (bytes, $w:ident, $name:literal, $value:expr) => {
        // An empty Blob value is left out: aas-core's reader refuses `<value/>` for bytes.
        if let Some(value) = $value.as_ref().filter(|v| !v.is_empty()) {
            $w.start($name);
            write_base64($w, value);
            $w.end();
        }
    };
    (req, $w:ident, $name:literal, $value:expr, "*") => {
        write_tagged_list($w, $name, $value)?
    };
    (req, $w:ident, $name:literal, $value:expr, $item:literal) => {
        write_list($w, $name, $item, $value)?
    };
    (opt, $w:ident, $name:literal, $value:expr, "*") => {
        if let Some(value) = $value.as_ref().filter(|v| !v.is_empty()) {
            write_tagged_list($w, $name, value)?;
        }
    };
    (opt, $w:ident, $name:literal, $value:expr, $item:literal) => {
        if let Some(value) = $value.as_ref().filter(|v| !v.is_empty()) {
            write_list($w, $name, $item, value)?;
        }
    };
    (req, $w:ident, $name:literal, $value:expr) => {{
        $w.start($name);
        $value.write_content($w)?;
        $w.end();
    }};
    (v30, $w:ident, $name:literal, $value:expr) => {
        xml_field_write!(opt, $w, $name, $value)
    };
    (opt, $w:ident, $name:literal, $value:expr) => {
        if let Some(value) = $value.as_ref() {
            $w.start($name);
            value.write_content($w)?;
            $w.end();
        }
    };
}

/// Reader and writer of a class from its schema table.
macro_rules! xml_class {
    ($class:ident, $model_type:expr, $xml:literal,
     { $($field:ident : $kind:ident $name:literal $([$item:tt])?),* $(,)? }) => {
        impl XmlName for $class {
            const NAME: &'static str = $xml;
        }

        impl FromXml for $class {
            fn read_content(r: &mut XmlReader<'_>, element: &Child<'_>) -> Result<Self, Error> {
                $(let mut $field = None;)*
                if !element.empty {
                    while let Some(child) = r.next_child()? {
                        match child.name() {
                            $($name => xml_field_read!($kind, r, child, $field, $class $(, $item)?),)*
                            _ => return Err(r.unexpected_element(&child, stringify!($class))),
                        }
                    }
                }
                Ok($class { $($field: xml_field_finish!($kind, r, element, $field, $name, $class),)* })
            }
        }

        impl ToXml for $class {
            fn write_content<W: Write>(&self, w: &mut XmlWriter<W>) -> Result<(), WriteError> {
                $(xml_field_write!($kind, w, $name, &self.$field $(, $item)?);)*
                Ok(())
            }
        }
    };
}

crate::schema::classes!(xml_class);
crate::schema::submodel_elements!(xml_class);

/// Dispatch by element name for a type whose variants are classes.
macro_rules! xml_tagged {
    ($enum:ident, $what:literal: $($variant:ident),+) => {
        impl XmlTagged for $enum {
            const WHAT: &'static str = $what;

            fn read_tagged(r: &mut XmlReader<'_>, element: &Child<'_>) -> Result<Self, Error> {
                let name = element.name();
                $(
                    if name == <$variant as XmlName>::NAME {
                        return $variant::read_content(r, element).map($enum::$variant);
                    }
                )+
                Err(r.unexpected_element(element, $what))
            }

            fn write_tagged<W: Write>(&self, w: &mut XmlWriter<W>) -> Result<(), WriteError> {
                match self {
                    $($enum::$variant(e) => {
                        w.start(<$variant as XmlName>::NAME);
                        e.write_content(w)?;
                        w.end();
                    })+
                }
                Ok(())
            }
        }

        /// A single value of this type: its wrapper element holds exactly one element.
        impl FromXml for $enum {
            fn read_content(r: &mut XmlReader<'_>, element: &Child<'_>) -> Result<Self, Error> {
                let missing = || ErrorKind::ExpectedOneElement($what);
                if element.empty {
                    return Err(r.error_at(element.pos, missing()));
                }
                let Some(child) = r.next_child()? else {
                    return Err(r.error_at(element.pos, missing()));
                };
                let value = Self::read_tagged(r, &child).map_err(|e| e.in_element(child.name()))?;
                if let Some(extra) = r.next_child()? {
                    return Err(r.error_at(extra.pos, missing()));
                }
                Ok(value)
            }
        }

        impl ToXml for $enum {
            fn write_content<W: Write>(&self, w: &mut XmlWriter<W>) -> Result<(), WriteError> {
                self.write_tagged(w)
            }
        }
    };
}

aas_model::__with_submodel_element_classes!(xml_tagged!(SubmodelElement, "submodel element":));
xml_tagged!(DataElement, "data element": Property, MultiLanguageProperty, Range, ReferenceElement, Blob, File);
xml_tagged!(DataSpecificationContent, "data specification content": DataSpecificationIec61360);

/// A document's root decides its class: `<environment>` or `<eventPayload>`.
impl XmlTagged for crate::Document {
    const WHAT: &'static str = "environment or eventPayload";

    fn read_tagged(r: &mut XmlReader<'_>, element: &Child<'_>) -> Result<Self, Error> {
        match element.name() {
            "environment" => {
                Environment::read_content(r, element).map(crate::Document::Environment)
            }
            "eventPayload" => {
                EventPayload::read_content(r, element).map(crate::Document::EventPayload)
            }
            other => Err(r.error_at(
                element.pos,
                ErrorKind::WrongRoot {
                    expected: "environment",
                    found: other.to_owned(),
                },
            )),
        }
    }

    fn write_tagged<W: Write>(&self, w: &mut XmlWriter<W>) -> Result<(), WriteError> {
        match self {
            crate::Document::Environment(env) => {
                w.start(Environment::NAME);
                env.write_content(w)?;
            }
            crate::Document::EventPayload(payload) => {
                w.start(EventPayload::NAME);
                payload.write_content(w)?;
            }
        }
        w.end();
        Ok(())
    }
}
