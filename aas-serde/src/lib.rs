//! Serialization of the Asset Administration Shell model (`aas-model`), metamodel V3.0 and
//! V3.1.
//!
//! The `json` module (feature `json`) implements the official JSON mapping, the `xml` module
//! (feature `xml`) the XML mapping, the `aasx` module (feature `aasx`) AASX packages; all are
//! on by default. [`Document`] is the root of a file (an environment or an event payload), [`Format`]
//! maps extensions and MIME types to formats, and [`EnvironmentRef`] writes elements held elsewhere
//! (shared, cached) exactly as an environment holding them, without copying them. [`read_file`]
//! and [`write_file`] (feature `aasx`) read and write whole files in the format their extension names. With the
//! feature `value-only`, `value_only` reads and writes Part 2's ValueOnly JSON and `projection`
//! makes Part 2's views of a submodel (`$metadata`, `$value`, `$reference`, `$path`, `level`,
//! `extent`) on model types. With `json-schema`, `json_schema` gives the JSON Schema of the JSON
//! mapping for a version.
//!
//! ```
//! use aas_model::{DataTypeDefXsd, Environment, Property, Submodel};
//! use aas_serde::json;
//!
//! let text = r#"{
//!   "submodels": [{
//!     "modelType": "Submodel",
//!     "id": "urn:example:sm:1",
//!     "submodelElements": [
//!       {"modelType": "Property", "idShort": "Speed", "valueType": "xs:int", "value": "42"}
//!     ]
//!   }]
//! }"#;
//! let env: Environment = json::from_str(text)?;
//! let mut speed = Property::new(DataTypeDefXsd::Int).with_id_short("Speed");
//! speed.value = Some("42".into());
//! let mut submodel = Submodel::new("urn:example:sm:1");
//! submodel.submodel_elements = Some(vec![speed.into()]);
//! assert_eq!(env.submodels, Some(vec![submodel]));
//!
//! // Writing and reading again gives the same model.
//! let written = json::to_vec_pretty(&env);
//! assert_eq!(json::from_slice::<Environment>(&written)?, env);
//! # Ok::<(), json::Error>(())
//! ```
//!
//! # Versions
//!
//! AAS V3.0 and V3.1 ([`aas_model::Version`]) are read and written; one model holds both. The
//! bytes of the two are nearly the same: what differs is which values a reader accepts (V3.0
//! knows no `AssetKind` `Role` and requires `entityType`, `first`, `second`, `contentType` and
//! `valueId`, which V3.1 made optional) and, in XML, the namespace. How the version is chosen:
//!
//! - **XML**: the namespace of the root element is the version (`https://admin-shell.io/aas/3/0`
//!   or `.../3/1`), and every element must be in it; [`xml::from_str_versioned`] returns it.
//!   Writers write the version asked for ([`xml::to_vec_as`], …), the newest when not told.
//!   Documents of other versions (V1.0, V2.0, V3.2) are refused with an error naming the version.
//! - **JSON**: carries no version, so the caller says which one to read as
//!   ([`json::from_slice_as`]); [`json::from_slice`] reads as the newest, [`Version::LATEST`](aas_model::Version::LATEST).
//! - **AASX**: the version of the package's XML aas-spec parts (which must agree); JSON parts
//!   are read as that version, or as [`aasx::AasxReader::with_json_version`] says when there is
//!   no XML part. [`aasx::AasxReader::version`] reports it; [`aasx::AasxWriter::with_version`]
//!   chooses the one written.
//!
//! Reading does not verify: a V3.1 idShort with a hyphen reads as V3.0 too, and verification
//! (`aas_model::verify::verify_as`) reports it.
//!
//! ```
//! use aas_model::{AssetKind, Environment, Version};
//! use aas_serde::{json, xml};
//!
//! let text = r#"{"assetAdministrationShells": [{"modelType": "AssetAdministrationShell",
//!   "id": "urn:aas", "assetInformation": {"assetKind": "Role"}}]}"#;
//! // JSON: read as the newest version unless told; Role is V3.1 only.
//! let env: Environment = json::from_str(text)?;
//! let err = json::from_str_as::<Environment>(text, Version::V3_0).unwrap_err();
//! assert_eq!(err.to_string(), r#"$.assetAdministrationShells[0].assetInformation.assetKind: "Role" of AssetKind is AAS V3.1 only; the input is read as V3.0 (line 2, column 54)"#);
//!
//! // XML: written in the version asked for; read as the version its namespace names.
//! let v31 = xml::to_string_as(&env, Version::V3_1)?;
//! assert!(v31.contains(r#"<environment xmlns="https://admin-shell.io/aas/3/1">"#));
//! let (again, version) = xml::from_str_versioned::<Environment>(&v31)?;
//! assert_eq!((again, version), (env.clone(), Version::V3_1));
//! let v30 = xml::to_string_as(&env, Version::V3_0)?;
//! assert!(xml::from_str::<Environment>(&v30).is_err(), "a V3.0 document cannot hold Role");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Limits
//!
//! Every reader is bounded (no stack overflow, no memory or time out of proportion to the
//! input), each limit a public constant checked by a test: [`json::MAX_DEPTH`] and
//! [`xml::MAX_DEPTH`] (128 levels), `value_only::MAX_DEPTH` (127, feature `value-only`), and
//! the AASX [`aasx::Limits`] (entries, sizes, compression ratio, relationships parts and their
//! relationship counts, content types; defaults in [`aasx::Limits::DEFAULT`]).
//!
//! # Dependencies
//!
//! - `aas-model`: the types read and written.
//! - `base64`: `Blob` values and event payloads are base64 in JSON and XML.
//! - `quick-xml` (feature `xml`): the XML tokenizer under our streaming reader.
//! - `zip` (feature `aasx`, deflate only): the ZIP container of AASX packages; a streaming
//!   writer for uploads, `ZipArchive` on seekable sources for reading.
//! - `percent-encoding` (feature `aasx`): the `%XX` escapes of part names (decoded to compare
//!   them, encoded when writing).
//! - `thiserror`: the typed error enums.
//! - `mime_guess` (without its reverse table): [`content_type_of_file`], the content type a
//!   package records for a file, by extension (`.xml` stays `application/xml`).
//! - `memchr`: the depth check of JSON text ([`json::first_deeper_than`]) jumps over string
//!   contents with it (SIMD search for the next quote or backslash): a server checks every
//!   element it stores.
//! - `serde_json` (features `value-only`, `json-schema`): the values of ValueOnly JSON,
//!   projections and the JSON Schema, which callers handle as JSON trees.
//!
//! JSON is read by a small pull parser of our own rather than `serde_json`: the strict reading
//! (exact error paths, duplicate and unknown properties, `modelType` anywhere in an object,
//! one pass without a value tree) needs control over the position that serde's data model
//! does not give.
//!
//! XML text is escaped by a loop of our own ([`xml`]'s writer) rather than
//! `quick_xml::escape`: the same pass refuses the characters XML 1.0 forbids, and it writes
//! 670–810 MB/s against 410–490 MB/s for quick-xml's escape with the check as a second pass
//! (release build, typical values). The attributes of AASX relationship and content-type parts
//! are escaped by `quick_xml::escape::escape`.

#![forbid(unsafe_code)]
#![warn(missing_debug_implementations, missing_docs, unreachable_pub)]

#[cfg(feature = "aasx")]
pub mod aasx;
mod document;
#[cfg(feature = "aasx")]
mod file;
mod format;
#[cfg(feature = "json")]
pub mod json;
#[cfg(feature = "json-schema")]
pub mod json_schema;
#[cfg(any(feature = "json", feature = "xml"))]
mod output;
#[cfg(feature = "value-only")]
pub mod projection;
#[cfg(feature = "value-only")]
pub mod query;
#[cfg(any(feature = "json", feature = "xml"))]
mod schema;
#[cfg(feature = "value-only")]
pub mod value_only;
#[cfg(any(feature = "json", feature = "xml"))]
mod version;
#[cfg(feature = "xml")]
pub mod xml;

pub use document::{Document, EnvironmentRef};
#[cfg(feature = "aasx")]
pub use file::{FileError, LoadedFile, WriteOptions, read_file, write_file};
pub use format::{AASX_MIME_TYPES, Format, OCTET_STREAM, content_type_of_file};
