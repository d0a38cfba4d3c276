#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
// The crate docs link items of every backend; docs built without one lack those items, and
// their links stay text.
#![cfg_attr(
    not(all(feature = "azure", feature = "s3", feature = "local")),
    allow(rustdoc::broken_intra_doc_links)
)]
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations, missing_docs, unreachable_pub)]

#[cfg(feature = "azure")]
mod azure;
mod client;
mod error;
mod export;
mod job;
mod redact;
mod retry;
mod schema;
mod target;

#[cfg(feature = "azure")]
#[cfg_attr(docsrs, doc(cfg(feature = "azure")))]
pub use azure::BlobSasUrl;
pub use error::{AddressNotAllowed, PushError, TargetError, TransportError};
pub use export::{ConceptDescriptions, Export, ExportError, ExportFile, MAX_CONVERSION_LINES};
pub use job::{
    JobMetadata, JobState, JobStore, MemoryJobStore, PushEngine, PushJob, PushRequest,
    SerializationFormat, Source, SourceError, Targets,
};
/// The resolver interface of [`TargetOptions::dns_resolver`], re-exported so callers need not
/// depend on the same object_store version themselves.
#[cfg(any(feature = "azure", feature = "s3"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "azure", feature = "s3"))))]
pub use object_store::client::{DnsError, DnsFuture, DnsResolver};
pub use redact::REDACTED;
pub use retry::RetryPolicy;
pub use schema::json_schemas;
pub use target::{
    CONNECT_TIMEOUT, ObjectStoreTarget, PushTarget, REQUEST_TIMEOUT, TargetBodyError, TargetConfig,
    TargetKind, TargetOptions, UnusableTarget, UploadedObject, object_path, redact_secrets,
};
