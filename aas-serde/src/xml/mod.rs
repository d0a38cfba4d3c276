//! The XML mapping of AAS V3.0 (`https://admin-shell.io/aas/3/0`) and V3.1
//! (`https://admin-shell.io/aas/3/1`), element order of the XSD, read by streaming quick-xml
//! events (no DOM) and written without any intermediate tree.
//!
//! The namespace of the root element is the version of the document, and every element must
//! be in it; [`from_str_versioned`] and [`from_slice_versioned`] return the version read. The
//! writers write the version asked for ([`to_vec_as`], [`to_writer_as`], …), the newest
//! ([`Version::LATEST`]) when not told.
//!
//! ```
//! use aas_model::{Environment, Submodel, Version};
//! use aas_serde::xml;
//!
//! let text = r#"<?xml version="1.0"?>
//! <aas:environment xmlns:aas="https://admin-shell.io/aas/3/0">
//!   <!-- a comment -->
//!   <aas:submodels><aas:submodel><aas:id>urn:x</aas:id></aas:submodel></aas:submodels>
//! </aas:environment>"#;
//! let (env, version) = xml::from_str_versioned::<Environment>(text)?;
//! assert_eq!(env.submodels, Some(vec![Submodel::new("urn:x")]));
//! assert_eq!(version, Version::V3_0);
//!
//! let written = xml::to_string_as(&env, Version::V3_0)?;
//! assert!(written.ends_with(r#"<environment xmlns="https://admin-shell.io/aas/3/0"><submodels><submodel><id>urn:x</id></submodel></submodels></environment>"#));
//! // Not told, the writer writes the newest version.
//! assert!(xml::to_string(&env)?.contains(r#"<environment xmlns="https://admin-shell.io/aas/3/1">"#));
//!
//! // Errors name the element path (list items by their index, as in JSON) and the position.
//! let err = xml::from_str::<Environment>(r#"<environment xmlns="https://admin-shell.io/aas/3/0"><submodels><submodel/></submodels></environment>"#).unwrap_err();
//! assert_eq!(err.to_string(), "/environment/submodels/submodel[0]: required element <id> of Submodel is missing (line 1, column 64)");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Versions
//!
//! In a V3.0 document `AssetKind` `Role` is refused ([`ErrorKind::LiteralNotInVersion`]) and
//! `entityType`, `first`, `second`, `contentType` and `valueId` are required
//! ([`ErrorKind::MissingInVersion`]); V3.1 made them optional. The v3.1.0 XSD had the children
//! of `<embeddedDataSpecification>` in the other order (fixed in v3.1.1): both orders are read,
//! as all children are read in any order; the v3.1.1 order (`dataSpecification` first) is
//! written. A document of another AAS version is refused with an error naming it (`AAS V2.0 is
//! not supported`), by the namespace it declares (V1.0, V2.0, V3.2).
//!
//! # Reading
//!
//! Refused, with the element path and line/column: elements outside the AAS namespace or
//! unknown to the class, duplicate elements, missing required elements, attributes (other
//! than namespace declarations), text among elements, bad enumeration literals, booleans
//! other than `true`/`false`/`1`/`0`, invalid base64, characters XML 1.0 forbids, DTDs, and
//! nesting deeper than 128 elements, and elements outside the namespace of the root. An empty
//! Blob value (as basyx writes it) is read as empty bytes, though aas-core refuses it. Accepted: an XML declaration, comments, processing
//! instructions, whitespace between elements, CDATA, any namespace prefix, and child elements
//! in any order (as aas-core reads them). Text is kept exactly as written (entities resolved,
//! line ends normalized as XML 1.0 requires); `<value/>` is an empty string; an empty list
//! element is an empty list, which verification reports.
//!
//! # Writing
//!
//! Elements in XSD order; `&`, `<`, `>` escaped and `\r` written as `&#xD;` so that it
//! survives a round trip. A string holding a character XML 1.0 cannot represent (NUL and other
//! control characters) is a [`WriteError`] naming the element: an error, never a broken file.
//! Output written before the error reached the writer; discard it. Empty optional lists and
//! empty Blob values are left out (aas-core refuses `<value/>` for a Blob); other empty
//! strings are written as empty elements.

mod codec;
mod error;
mod reader;
mod writer;

use std::io::{self, Read, Write};

use aas_model::Version;

pub use codec::{FromXml, ToXml, XmlName, XmlTagged};
pub use error::{Error, ErrorKind, PathSegment, WriteError};
use reader::{Child, XmlReader};
use writer::XmlWriter;

/// Elements nested deeper than this are refused: [`ErrorKind::TooDeep`] (stack safety on
/// hostile input). An environment holds submodel element collections nested at most 62
/// deep.
pub const MAX_DEPTH: usize = reader::MAX_DEPTH;

/// The namespace of the AAS V3.0 XML mapping (kept for callers of V3.0; each version's is
/// [`Version::xml_namespace`]).
pub const NAMESPACE: &str = "https://admin-shell.io/aas/3/0";

/// What can stand at the root of an XML document: any class (as its own element, e.g.
/// `<environment>`, `<eventPayload>`, `<submodel>`) or a [`crate::Document`].
pub trait XmlRoot: Sized {
    #[doc(hidden)]
    fn read_root(r: &mut XmlReader<'_>, root: &Child<'_>) -> Result<Self, Error>;
    #[doc(hidden)]
    fn write_root<W: Write>(&self, w: &mut XmlWriter<W>) -> Result<(), WriteError>;
}

/// What can be written as the root of an XML document: every [`XmlRoot`], and
/// [`crate::EnvironmentRef`] (written only).
pub trait ToXmlRoot {
    #[doc(hidden)]
    fn write_root<W: Write>(&self, w: &mut XmlWriter<W>) -> Result<(), WriteError>;
}

impl<T: XmlRoot> ToXmlRoot for T {
    fn write_root<W: Write>(&self, w: &mut XmlWriter<W>) -> Result<(), WriteError> {
        XmlRoot::write_root(self, w)
    }
}

impl<T: FromXml + ToXml + XmlName> XmlRoot for T {
    fn read_root(r: &mut XmlReader<'_>, root: &Child<'_>) -> Result<Self, Error> {
        if root.name() != T::NAME {
            return Err(r.error_at(
                root.pos,
                ErrorKind::WrongRoot {
                    expected: T::NAME,
                    found: root.name().to_owned(),
                },
            ));
        }
        T::read_content(r, root).map_err(|e| e.in_element(T::NAME))
    }

    fn write_root<W: Write>(&self, w: &mut XmlWriter<W>) -> Result<(), WriteError> {
        w.start(T::NAME);
        self.write_content(w)?;
        w.end();
        Ok(())
    }
}

impl XmlRoot for crate::Document {
    fn read_root(r: &mut XmlReader<'_>, root: &Child<'_>) -> Result<Self, Error> {
        Self::read_tagged(r, root).map_err(|e| e.in_element(root.name()))
    }

    fn write_root<W: Write>(&self, w: &mut XmlWriter<W>) -> Result<(), WriteError> {
        self.write_tagged(w)
    }
}

/// Reads a value of class `T` (usually [`aas_model::Environment`]) from XML text of either
/// version (the namespace of the root is the version).
pub fn from_str<T: XmlRoot>(text: &str) -> Result<T, Error> {
    from_str_versioned(text).map(|(value, _)| value)
}

/// Reads a value of class `T` from XML text, with the version it was written in (by the
/// namespace of the root).
pub fn from_str_versioned<T: XmlRoot>(text: &str) -> Result<(T, Version), Error> {
    let mut reader = XmlReader::new(text);
    let root = reader.root()?;
    let value = T::read_root(&mut reader, &root)?;
    reader.finish()?;
    Ok((value, reader.version()))
}

/// Reads a value of class `T` from UTF-8 XML bytes of either version.
pub fn from_slice<T: XmlRoot>(bytes: &[u8]) -> Result<T, Error> {
    from_slice_versioned(bytes).map(|(value, _)| value)
}

/// Reads a value of class `T` from UTF-8 XML bytes, with the version it was written in.
pub fn from_slice_versioned<T: XmlRoot>(bytes: &[u8]) -> Result<(T, Version), Error> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = crate::output::line_column(bytes, e.valid_up_to());
        Error::new(ErrorKind::InvalidUtf8, line, column)
    })?;
    from_str_versioned(text)
}

/// Reads a value of class `T` from a reader (read whole into memory first), of either version.
pub fn from_reader<T: XmlRoot, R: Read>(mut reader: R) -> Result<T, Error> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    from_slice(&bytes)
}

/// The XML declaration every document starts with.
const DECLARATION: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>"#;

fn write<T: ToXmlRoot + ?Sized, W: Write>(
    out: W,
    value: &T,
    pretty: bool,
    version: Version,
) -> Result<W, WriteError> {
    let mut writer = XmlWriter::new(out, pretty).with_version(version);
    write_document(&mut writer, value, pretty)?;
    Ok(writer.finish()?)
}

fn write_in_memory<T: ToXmlRoot + ?Sized>(
    value: &T,
    pretty: bool,
    version: Version,
) -> Result<Vec<u8>, WriteError> {
    let mut writer = XmlWriter::in_memory(pretty).with_version(version);
    write_document(&mut writer, value, pretty)?;
    Ok(writer.into_buffer())
}

fn write_document<T: ToXmlRoot + ?Sized, W: Write>(
    writer: &mut XmlWriter<W>,
    value: &T,
    pretty: bool,
) -> Result<(), WriteError> {
    writer.raw_text(DECLARATION);
    if pretty {
        writer.raw_text(b"\n");
    }
    ToXmlRoot::write_root(value, writer)
}

/// Writes `value` as compact XML of the newest version.
pub fn to_writer<T: ToXmlRoot + ?Sized, W: Write>(writer: W, value: &T) -> Result<(), WriteError> {
    to_writer_as(writer, value, Version::LATEST)
}

/// Writes `value` as compact XML of `version` (its namespace and element order). Writing does
/// not convert: a model holding what the version cannot carry (an `AssetKind::Role` or a
/// missing `contentType` in V3.0) is written as it is and refused by readers of that version;
/// convert it first with `aas_model::convert::convert`.
pub fn to_writer_as<T: ToXmlRoot + ?Sized, W: Write>(
    writer: W,
    value: &T,
    version: Version,
) -> Result<(), WriteError> {
    write(writer, value, false, version).map(drop)
}

/// Writes `value` as XML of the newest version, indented by two spaces.
pub fn to_writer_pretty<T: ToXmlRoot + ?Sized, W: Write>(
    writer: W,
    value: &T,
) -> Result<(), WriteError> {
    to_writer_pretty_as(writer, value, Version::LATEST)
}

/// Writes `value` as XML of `version`, indented by two spaces.
pub fn to_writer_pretty_as<T: ToXmlRoot + ?Sized, W: Write>(
    writer: W,
    value: &T,
    version: Version,
) -> Result<(), WriteError> {
    write(writer, value, true, version).map(drop)
}

/// `value` as compact XML bytes of the newest version.
pub fn to_vec<T: ToXmlRoot + ?Sized>(value: &T) -> Result<Vec<u8>, WriteError> {
    to_vec_as(value, Version::LATEST)
}

/// `value` as compact XML bytes of `version`.
pub fn to_vec_as<T: ToXmlRoot + ?Sized>(
    value: &T,
    version: Version,
) -> Result<Vec<u8>, WriteError> {
    write_in_memory(value, false, version)
}

/// `value` as XML bytes of the newest version, indented by two spaces.
pub fn to_vec_pretty<T: ToXmlRoot + ?Sized>(value: &T) -> Result<Vec<u8>, WriteError> {
    to_vec_pretty_as(value, Version::LATEST)
}

/// `value` as XML bytes of `version`, indented by two spaces.
pub fn to_vec_pretty_as<T: ToXmlRoot + ?Sized>(
    value: &T,
    version: Version,
) -> Result<Vec<u8>, WriteError> {
    write_in_memory(value, true, version)
}

/// `value` as a compact XML string of the newest version.
pub fn to_string<T: ToXmlRoot + ?Sized>(value: &T) -> Result<String, WriteError> {
    to_string_as(value, Version::LATEST)
}

/// `value` as a compact XML string of `version`.
pub fn to_string_as<T: ToXmlRoot + ?Sized>(
    value: &T,
    version: Version,
) -> Result<String, WriteError> {
    // The writer emits UTF-8 only.
    to_vec_as(value, version).map(|bytes| String::from_utf8(bytes).unwrap_or_default())
}

impl From<WriteError> for io::Error {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Io(e) => e,
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}
