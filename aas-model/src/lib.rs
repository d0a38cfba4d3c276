//! The Asset Administration Shell (AAS) metamodel (IDTA-01001 Part 1), versions V3.0 and V3.1,
//! as plain Rust types.
//!
//! This crate is the foundation of the toolkit: the data and the verification of its
//! constraints ([`verify()`](fn@verify)), nothing else (no I/O, no serialization formats).
//! `aas-serde` reads and writes it as JSON, XML and AASX; the other crates (events, push,
//! synchronization, the reference server) pass these types around.
//!
//! Elements are addressed by [`IdShortPath`] (`Submodel::element`, `element_mut`,
//! `insert_element`, `remove_element`, `replace_element`), and changed as the repository API
//! changes them: a shell's submodel references (`AssetAdministrationShell::add_submodel_reference`,
//! …) and the attachments of `File` and `Blob` elements (`Submodel::attach`, `detach`).
//!
//! # Versions
//!
//! One model holds both versions: V3.1 is almost a superset of V3.0 (`AssetKind::Role`; the
//! attributes V3.0 requires and V3.1 made optional — `Entity::entity_type`, `first`/`second` of
//! relationship elements, `contentType` of `File` and `Blob`, `ValueReferencePair::value_id` —
//! are `Option`s). What differs is which values are valid, so the version is chosen where it
//! matters:
//!
//! - [`Version`] names a version (`Version::V3_0`, `Version::V3_1`; [`Version::LATEST`] is V3.1);
//! - [`verify_as`]`(model, version)` checks the rules of that version; [`verify()`](fn@verify)
//!   checks the newest. Each [`Finding`] says which version it was found
//!   under, and the messages of rules that differ between versions name it (`… (AAS V3.1)`);
//! - [`convert::convert`]`(model, from, to, allow_loss)` converts between versions by
//!   documented rules, with a report of everything that changes or stays invalid (refused
//!   when something would be lost, unless `allow_loss`); [`convert::check`] only reports.
//!
//! ```
//! use aas_model::*;
//!
//! // Hyphens in idShorts are V3.1's; one-character idShorts are V3.0's.
//! let p = Property::new(DataTypeDefXsd::String).with_id_short("max-speed");
//! assert!(verify_as(&p, Version::V3_1).next().is_none());
//! let findings: Vec<_> = verify_as(&p, Version::V3_0).collect();
//! assert_eq!(findings.len(), 1);
//! assert_eq!(findings[0].version(), Version::V3_0);
//! assert!(findings[0].message().ends_with("(AAS V3.0)"));
//! ```
//!
//! # Example
//!
//! ```
//! use aas_model::*;
//!
//! // A submodel with one property, built from constructors of the required attributes.
//! let mut speed = Property::new(DataTypeDefXsd::Double).with_id_short("MaxRotationSpeed");
//! speed.value = Some("5000".into());
//! speed.semantic_id = Some(Reference::global("0173-1#02-BAA120#008"));
//!
//! let mut submodel = Submodel::new("https://example.com/ids/sm/1");
//! submodel.id_short = Some("TechnicalData".into());
//! submodel.submodel_elements = Some(vec![speed.into()]);
//!
//! let mut shell = AssetAdministrationShell::new(
//!     "https://example.com/ids/aas/1",
//!     AssetInformation { global_asset_id: Some("https://example.com/asset/1".into()),
//!                        ..AssetInformation::new(AssetKind::Instance) },
//! );
//! shell.submodels = Some(vec![Reference::to_submodel(&submodel.id)]);
//!
//! let env = Environment {
//!     asset_administration_shells: Some(vec![shell]),
//!     submodels: Some(vec![submodel]),
//!     ..Environment::new()
//! };
//!
//! // References have the book's string form.
//! let reference = Reference::to_submodel("https://example.com/ids/sm/1");
//! assert_eq!(reference.to_string(), "[ModelRef](Submodel)https://example.com/ids/sm/1");
//!
//! // Every element can be visited.
//! let ids: Vec<_> = Node::from(&env)
//!     .descendants()
//!     .filter_map(|n| match n { Node::Property(p) => p.id_short.as_deref(), _ => None })
//!     .collect();
//! assert_eq!(ids, ["MaxRotationSpeed"]);
//! ```
//!
//! # Conventions
//!
//! - Names follow the metamodel, in Rust case: `idShort` is `id_short`; the attribute `type` is
//!   `type_`.
//! - An optional attribute is an `Option`; an optional list is an `Option<Vec<_>>`, where the
//!   metamodel forbids `Some(vec![])` (it exists so that a reader can report `[]` through
//!   verification instead of losing it).
//! - Values whose type is given by a `valueType` (`xs:int`, `xs:dateTime`, …) are kept as the
//!   strings written, so that every lexical form round-trips exactly.
//! - The abstract classes (`Referable`, `HasSemantics`, …) are traits implemented by the
//!   classes that inherit them; `SubmodelElement` and `DataElement` are enums.
//!
//! # Limits
//!
//! The parsers of text that may come from outside are bounded, so no input overflows the
//! stack or makes them work without end (each limit is checked by `tests/limits.rs`):
//!
//! - [`IdShortPath`]: at most [`IdShortPath::MAX_STEPS`] (128) steps; parsing is one pass
//!   without recursion, and the error message shows at most 100 characters of the path.
//! - The string form of a [`Reference`]: referred semantic ids nested at most
//!   [`MAX_REFERENCE_NESTING`] (128) levels.
//!
//! # Dependencies
//!
//! - `thiserror`: typed errors for parsing literals and reference strings.
//! - `regex`: the patterns of verification (linear time, so no input makes a check slow).
//! - `arbitrary` (optional, feature `arbitrary`): every class and enum implements
//!   `arbitrary::Arbitrary`, so fuzzers can build models field by field (the fuzz crate's
//!   `verify_arbitrary` target); off by default.

#![forbid(unsafe_code)]
#![warn(missing_debug_implementations, missing_docs, unreachable_pub)]

mod abstract_classes;
mod classes;
pub mod convert;
mod descend;
mod edit;
mod enums;
mod id_short_path;
mod reference;
mod submodel_element;
mod verify;
mod version;

pub use abstract_classes::{
    HasDataSpecification, HasExtensions, HasKind, HasSemantics, Identifiable, Qualifiable,
    Referable,
};
pub use classes::*;
pub use descend::{Descendants, Node};
pub use edit::{ATTACHMENT_FOLDER, AttachmentError, ReplaceError, file_name_of};
pub use enums::*;
pub use id_short_path::{IdShortPath, IdShortPathError, InsertError, PathStep, element_paths};
pub use reference::{MAX_REFERENCE_NESTING, ParseReferenceError};
pub use submodel_element::{DataElement, SubmodelElement};
pub use verify::{
    Finding, Findings, value_matches_type, value_matches_type_as, verify, verify_as,
    verify_within_as,
};
pub use version::{UnknownVersion, Version};
