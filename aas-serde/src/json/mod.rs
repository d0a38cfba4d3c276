//! The official JSON mapping of AAS V3.0 and V3.1 (`schemas/json/aas.json`), read strictly and
//! written without empty optional lists.
//!
//! JSON carries no version: the caller says which one to read as ([`from_slice_as`],
//! [`from_str_as`], [`from_reader_as`]); the plain readers read as the newest,
//! [`Version::LATEST`]. The bytes are the same, the accepted values differ: read as V3.0,
//! `AssetKind` `Role` is refused ([`ErrorKind::LiteralNotInVersion`]) and `entityType`, `first`,
//! `second`, `contentType` and `valueId` are required ([`ErrorKind::MissingInVersion`]); read as
//! V3.1 they are optional. The writer writes what the model holds, for either version.
//!
//! ```
//! use aas_model::{Environment, Submodel};
//! use aas_serde::json;
//!
//! let env: Environment = json::from_str(r#"{"submodels": [{"modelType": "Submodel", "id": "urn:x"}]}"#)?;
//! assert_eq!(env.submodels, Some(vec![Submodel::new("urn:x")]));
//! assert_eq!(json::to_string(&env), r#"{"submodels":[{"modelType":"Submodel","id":"urn:x"}]}"#);
//!
//! // Errors name the JSON path, the problem and the position.
//! let err = json::from_str::<Environment>(r#"{"submodels": [{"modelType": "Submodel"}]}"#).unwrap_err();
//! assert_eq!(err.to_string(),
//!     r#"$.submodels[0]: required property "id" of Submodel is missing (line 1, column 41)"#);
//! # Ok::<(), json::Error>(())
//! ```
//!
//! # Strictness
//!
//! Reading refuses what the aas-core SDKs refuse: unknown or duplicate properties, values of the
//! wrong JSON type, `null`, unknown enumeration literals, a missing or wrong `modelType`, invalid
//! base64, and nesting deeper than 128 levels. An empty array is read as an empty list, which
//! `aas-model`'s verification reports. Constraints on values (patterns, lengths, `xs:` lexical
//! forms) are verification's job, not the reader's.
//!
//! # Writing
//!
//! Members are written with `modelType` first, then in the order of the XSD. Optional lists
//! that are empty are left out, as the schema forbids empty arrays. A required list
//! (`Reference.keys`, `preferredName`, `valueReferencePairs`) is always written, even when
//! empty: such a model fails verification anyway, and leaving the property out would make the
//! output unreadable instead of merely invalid.

mod codec;
mod error;
#[cfg(feature = "value-only")]
mod lenient;
mod parser;
mod writer;

use std::io::{self, Read, Write};

use aas_model::Version;

pub use codec::{FromJson, ToJson};
pub use error::{Error, ErrorKind, PathSegment};
#[cfg(feature = "value-only")]
#[cfg_attr(docsrs, doc(cfg(feature = "value-only")))]
pub use lenient::without_empty_lists;

/// Objects and arrays nested deeper than this are refused: [`ErrorKind::TooDeep`] (stack
/// safety on hostile input). An environment holds submodel element collections nested at most
/// 62 deep.
pub const MAX_DEPTH: usize = parser::MAX_DEPTH;

/// The byte offset where `bytes` first nests objects and arrays deeper than `max`, if it does:
/// one pass without recursion, skipping strings. For checking any JSON text cheaply before it
/// is parsed (a request body) or after it was written (a model about to be stored, which must
/// read back within [`MAX_DEPTH`]).
pub fn first_deeper_than(bytes: &[u8], max: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'"' => {
                // Most of a document's bytes are in strings: jump from quote or backslash to
                // the next instead of looking at every byte.
                at += 1;
                loop {
                    let rest = bytes.get(at..)?;
                    let offset = memchr::memchr2(b'"', b'\\', rest)?;
                    at += offset;
                    if rest[offset] == b'"' {
                        break;
                    }
                    at += 2; // the backslash and the character it escapes
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Some(at);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        at += 1;
    }
    None
}

/// Reads a value of class `T` (usually [`aas_model::Environment`]) from JSON bytes, as the
/// newest version ([`Version::LATEST`]).
pub fn from_slice<T: FromJson>(bytes: &[u8]) -> Result<T, Error> {
    from_slice_as(bytes, Version::LATEST)
}

/// Reads a value of class `T` from JSON bytes as `version`: JSON carries no version, the
/// bytes are the same; the version decides which values are accepted (V3.0 requires
/// `entityType`, `contentType`, … and knows no `AssetKind` `Role`).
pub fn from_slice_as<T: FromJson>(bytes: &[u8], version: Version) -> Result<T, Error> {
    let mut parser = parser::Parser::new(bytes).with_version(version);
    let value = T::read_json(&mut parser)?;
    parser.finish()?;
    Ok(value)
}

/// Reads a value of class `T` from a JSON string, as the newest version.
pub fn from_str<T: FromJson>(text: &str) -> Result<T, Error> {
    from_slice(text.as_bytes())
}

/// Reads a value of class `T` from a JSON string as `version`.
pub fn from_str_as<T: FromJson>(text: &str, version: Version) -> Result<T, Error> {
    from_slice_as(text.as_bytes(), version)
}

/// Reads a value of class `T` from a reader (read whole into memory first), as the newest
/// version.
pub fn from_reader<T: FromJson, R: Read>(reader: R) -> Result<T, Error> {
    from_reader_as(reader, Version::LATEST)
}

/// Reads a value of class `T` from a reader (read whole into memory first) as `version`.
pub fn from_reader_as<T: FromJson, R: Read>(mut reader: R, version: Version) -> Result<T, Error> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    from_slice_as(&bytes, version)
}

/// Writes `value` as compact JSON.
pub fn to_writer<T: ToJson + ?Sized, W: Write>(writer: W, value: &T) -> io::Result<()> {
    write(writer, value, false).map(drop)
}

/// Writes `value` as JSON indented by two spaces.
pub fn to_writer_pretty<T: ToJson + ?Sized, W: Write>(writer: W, value: &T) -> io::Result<()> {
    write(writer, value, true).map(drop)
}

/// `value` as compact JSON bytes.
pub fn to_vec<T: ToJson + ?Sized>(value: &T) -> Vec<u8> {
    write_in_memory(value, false)
}

/// `value` as JSON bytes indented by two spaces.
pub fn to_vec_pretty<T: ToJson + ?Sized>(value: &T) -> Vec<u8> {
    write_in_memory(value, true)
}

fn write_in_memory<T: ToJson + ?Sized>(value: &T, pretty: bool) -> Vec<u8> {
    let mut writer = writer::Writer::in_memory(pretty);
    value.write_json(&mut writer);
    writer.into_buffer()
}

/// The compact JSON of an environment from the JSON of its elements, put in as they are (a
/// store that keeps each element's JSON need not read and write them again). Given the bytes
/// [`to_vec`] writes for each element, the result is byte for byte what [`to_vec`] writes for
/// the environment holding them; empty lists are left out, as there.
///
/// ```
/// use aas_model::{Environment, Submodel};
/// use aas_serde::json;
///
/// let (a, b) = (Submodel::new("urn:a"), Submodel::new("urn:b"));
/// let kept = [json::to_vec(&a), json::to_vec(&b)];
/// let env = Environment { submodels: Some(vec![a, b]), ..Default::default() };
/// assert_eq!(json::join_environment::<Vec<u8>>(&[], &kept, &[]), json::to_vec(&env));
/// ```
pub fn join_environment<B: AsRef<[u8]>>(
    shells: &[B],
    submodels: &[B],
    concept_descriptions: &[B],
) -> Vec<u8> {
    let lists = [
        ("assetAdministrationShells", shells),
        ("submodels", submodels),
        ("conceptDescriptions", concept_descriptions),
    ];
    let size: usize = lists
        .iter()
        .flat_map(|(_, items)| items.iter().map(|item| item.as_ref().len() + 1))
        .sum();
    let mut out = Vec::with_capacity(size + 80);
    out.push(b'{');
    for (name, items) in lists.iter().filter(|(_, items)| !items.is_empty()) {
        if out.len() > 1 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":[");
        for (n, item) in items.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(item.as_ref());
        }
        out.push(b']');
    }
    out.push(b'}');
    out
}

/// `value` as a compact JSON string.
pub fn to_string<T: ToJson + ?Sized>(value: &T) -> String {
    // The writer emits UTF-8 only: every piece is a `&str` or ASCII.
    String::from_utf8(to_vec(value)).unwrap_or_default()
}

/// `value` as a JSON string indented by two spaces.
pub fn to_string_pretty<T: ToJson + ?Sized>(value: &T) -> String {
    String::from_utf8(to_vec_pretty(value)).unwrap_or_default()
}

fn write<T: ToJson + ?Sized, W: Write>(out: W, value: &T, pretty: bool) -> io::Result<W> {
    let mut writer = writer::Writer::new(out, pretty);
    value.write_json(&mut writer);
    writer.finish()
}
