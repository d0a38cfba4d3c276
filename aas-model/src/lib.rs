#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
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
