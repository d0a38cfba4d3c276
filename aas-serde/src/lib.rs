#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations, missing_docs, unreachable_pub)]

#[cfg(feature = "aasx")]
#[cfg_attr(docsrs, doc(cfg(feature = "aasx")))]
pub mod aasx;
mod document;
#[cfg(feature = "aasx")]
mod file;
mod format;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub mod json;
#[cfg(feature = "json-schema")]
#[cfg_attr(docsrs, doc(cfg(feature = "json-schema")))]
pub mod json_schema;
#[cfg(feature = "value-only")]
#[cfg_attr(docsrs, doc(cfg(feature = "value-only")))]
pub mod operation;
#[cfg(any(feature = "json", feature = "xml"))]
mod output;
#[cfg(feature = "value-only")]
#[cfg_attr(docsrs, doc(cfg(feature = "value-only")))]
pub mod projection;
#[cfg(feature = "value-only")]
#[cfg_attr(docsrs, doc(cfg(feature = "value-only")))]
pub mod query;
#[cfg(any(feature = "json", feature = "xml"))]
mod schema;
#[cfg(feature = "value-only")]
#[cfg_attr(docsrs, doc(cfg(feature = "value-only")))]
pub mod value_only;
#[cfg(any(feature = "json", feature = "xml"))]
mod version;
#[cfg(feature = "xml")]
#[cfg_attr(docsrs, doc(cfg(feature = "xml")))]
pub mod xml;

pub use document::{Document, EnvironmentRef};
#[cfg(feature = "aasx")]
#[cfg_attr(docsrs, doc(cfg(feature = "aasx")))]
pub use file::{FileError, LoadedFile, WriteOptions, read_file, write_file};
pub use format::{AASX_MIME_TYPES, Format, OCTET_STREAM, content_type_of_file};
