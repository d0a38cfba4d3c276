//! Serialization of the Asset Administration Shell V3.0 model (`aas-model`).
//!
//! The `json` module (feature `json`) implements the official JSON mapping, the `xml` module
//! (feature `xml`) the XML mapping, the `aasx` module (feature `aasx`) AASX packages; all are
//! on by default. [`Document`] is the root of a file (an environment or an event payload), [`Format`]
//! maps extensions and MIME types to formats, and [`EnvironmentRef`] writes elements held elsewhere
//! (shared, cached) exactly as an environment holding them, without copying them.
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
//! - `thiserror`: the typed error enums.
//!
//! JSON is read by a small pull parser of our own rather than `serde_json`: the strict reading
//! (exact error paths, duplicate and unknown properties, `modelType` anywhere in an object,
//! one pass without a value tree) needs control over the position that serde's data model
//! does not give.

#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

#[cfg(feature = "aasx")]
pub mod aasx;
mod document;
mod format;
#[cfg(feature = "json")]
pub mod json;
#[cfg(any(feature = "json", feature = "xml"))]
mod output;
mod schema;
#[cfg(feature = "value-only")]
pub mod value_only;
#[cfg(feature = "xml")]
pub mod xml;

pub use document::{Document, EnvironmentRef};
pub use format::{AASX_MIME_TYPES, Format};
