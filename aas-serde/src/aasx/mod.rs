//! AASX packages (IDTA-01005 Part 5): an OPC (ZIP) package holding an environment as XML or
//! JSON, supplementary files and a thumbnail.
//!
//! ```
//! use std::io::{Cursor, Read};
//! use aas_model::{Environment, File, Submodel};
//! use aas_serde::{aasx, Format};
//!
//! // Write: streaming, no `Seek` needed.
//! let mut manual = File::new("application/pdf").with_id_short("Manual");
//! manual.value = Some("/aasx/suppl/manual.pdf".into());
//! let mut submodel = Submodel::new("urn:sm");
//! submodel.submodel_elements = Some(vec![manual.into()]);
//! let env = Environment { submodels: Some(vec![submodel]), ..Environment::new() };
//!
//! let mut writer = aasx::AasxWriter::new(Vec::new(), Format::Xml);
//! writer.write_environment(&env)?;
//! writer.add_supplementary_file("/aasx/suppl/manual.pdf", "application/pdf", &b"%PDF-1.7 ..."[..])?;
//! let package = writer.finish()?;
//!
//! // Read: the environment, then each supplementary file as a stream.
//! let mut reader = aasx::AasxReader::new(Cursor::new(package))?;
//! assert_eq!(reader.environment()?, env);
//! assert!(reader.repairs().is_empty());
//! let part = reader.resolve("/aasx/suppl/manual.pdf").ok_or(aasx::Error::Usage("not in the package"))?;
//! let mut content = Vec::new();
//! reader.open(&part)?.read_to_end(&mut content)?;
//! assert_eq!(content, b"%PDF-1.7 ...");
//! # Ok::<(), aasx::Error>(())
//! ```
//!
//! # Versions
//!
//! A package is V3.0 or V3.1 by the namespace of its XML aas-spec parts, which must agree
//! ([`Error::MixedVersions`]); JSON parts carry no version and are read as the XML parts'
//! version, or as [`AasxReader::with_json_version`] says (default the newest) when the package
//! has no XML part. [`AasxReader::version`] reports the version read;
//! [`AasxWriter::with_version`] chooses the one written (default the newest). Spec parts are
//! found by their relationships, whatever their name (`data.xml`, or `aas.xml` / `aas.json` as
//! Part 5 V3.1 names them).
//!
//! ```
//! use std::io::Cursor;
//! use aas_model::{Environment, Submodel, Version};
//! use aas_serde::{aasx, Format};
//!
//! let env = Environment { submodels: Some(vec![Submodel::new("urn:sm")]), ..Environment::new() };
//! let mut writer = aasx::AasxWriter::new(Vec::new(), Format::Xml).with_version(Version::V3_0);
//! writer.write_environment(&env)?;
//! let mut reader = aasx::AasxReader::new(Cursor::new(writer.finish()?))?;
//! assert_eq!(reader.environment()?, env);
//! assert_eq!(reader.version(), Some(Version::V3_0));
//! # Ok::<(), aasx::Error>(())
//! ```
//!
//! # Reading what real packages hold
//!
//! The reader follows the relationships (`aasx-origin` → `aas-spec` → `aas-suppl`) and
//! tolerates what tools get wrong, listing each repair in [`AasxReader::repairs`]: the legacy
//! `http://www.admin-shell.io/aasx/relationships/` namespace, V2's `aas-spec-split`,
//! backslashes and a leading `/` in entry names, part names that differ in case or
//! percent-encoding, a missing `[Content_Types].xml` or content types that are not XML/JSON
//! (the extension decides), missing root relationships beside the conventional origin, an
//! origin relationship marked `TargetMode="External"` that names a part of the package, and
//! dangling targets. Several aas-spec parts are merged; a part equal to one already read (the
//! JSON twin of an XML part) counts once.
//!
//! # Safety
//!
//! [`Limits`] bound the entry count, the total uncompressed size (declared and counted while
//! reading), the size of parts parsed in memory and the compression ratio (zip bombs), and
//! the size and relationship count of relationships parts and the size of the content types
//! (relationship bombs compress too little for the ratio check): see [`Limits::DEFAULT`].
//! Parts read into memory are read through a reader that stops one byte past the limit, so a
//! part that lies about its size costs no more than the limit; relationships are counted as
//! they are parsed. Each refusal is an [`Error`] naming the part and the limit. Entry names
//! with `..`, drive letters or network paths, entries with the same name (exactly, or as OPC
//! compares names), and entries holding more than they declare are errors. Nothing is ever
//! extracted to disk by this module.

mod error;
mod opc;
mod read;
mod write;

pub use error::Error;
pub use read::{AasxReader, ElementFile, FileOwner, Limits, PartReader, Repair, SpecPart};
pub use write::AasxWriter;
