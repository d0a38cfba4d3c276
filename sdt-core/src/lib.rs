#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations, missing_docs, unreachable_pub)]

// The languages of a description (one module each, with its limits, as `serde_json::from_str`
// reads), the AAS side (feature `aas`) and operation invocation (feature `operation`) are
// modules by design; everything else is flat.
#[cfg(feature = "aas")]
#[cfg_attr(docsrs, doc(cfg(feature = "aas")))]
pub mod aas;
pub mod jsonpath;
pub mod mustache;
#[cfg(feature = "operation")]
#[cfg_attr(docsrs, doc(cfg(feature = "operation")))]
pub mod operation;
pub mod python_format;

mod description;
#[cfg(feature = "client")]
mod engine;
mod limits;
#[cfg(feature = "client")]
mod outbound;
#[cfg(feature = "client")]
mod platform;
mod playground;
mod schema;
mod twin;

pub use description::{
    CompiledDescription, DescriptionError, DescriptionProblem, DryRun, Extracted, IotAttribute,
    RenderError, SyncDescription, ThinginAttribute, ValueTemplate,
};
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use engine::{CommandOutcome, SinkError, SyncEngine, TwinBinding, TwinSink, WriteError};
pub use limits::{Limit, LimitExceeded};
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use outbound::{
    AddressClass, InvalidHost, MAX_REDIRECTS, OutboundError, OutboundPolicy, OutboundReason,
    OutboundResolver, read_limited,
};
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use platform::{
    Authentication, ClientOptions, Credentials, Platform, PlatformClient, PlatformError,
};
pub use playground::{DryRunRequest, Evaluation, EvaluationError};
pub use schema::json_schemas;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use twin::TwinError;
pub use twin::{RecordError, TwinRecord, TwinSecrets, acl_statements};
