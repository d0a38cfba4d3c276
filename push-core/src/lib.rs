//! Push jobs: serialize AAS shells, submodels and concept descriptions (JSON, XML or AASX) and
//! upload them to a target: an Azure Blob container given by a SAS URL, an S3 bucket, or a
//! local directory, all through `object_store`.
//!
//! # Dependencies
//!
//! - `aas-model`, `aas-serde`: the elements and their JSON, XML and AASX forms.
//! - `object_store` (features `azure`, `aws`, `fs`): one client for Azure Blob (SAS), S3 and a
//!   directory, with retries of transient failures and multipart uploads.
//! - `tokio`, `async-trait`, `bytes`: the async traits and job tasks.
//! - `serde` (feature `rc`: a job record shares its request), `serde_json`, `chrono`, `uuid`,
//!   `url`: target configurations and job records.
//! - `thiserror`, `tracing`: typed errors, retry warnings.
//! - `foldhash`: the hasher that drops repeated ids from a request (a big job's ids hash in
//!   less than half the time the standard hasher takes).

#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

pub mod azure;
pub mod error;
pub mod job;
pub mod target;

pub use azure::{BlobSasUrl, REDACTED, TargetOptions};
pub use error::{PushError, TargetError};
pub use job::{
    JobMetadata, JobState, JobStore, MemoryJobStore, PushEngine, PushJob, PushRequest,
    SerializationFormat, Source, SourceError, Targets,
};
pub use target::{ObjectStoreTarget, PushTarget, TargetConfig, TargetKind, UploadedObject};
