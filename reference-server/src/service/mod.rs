//! The services between HTTP and storage. The HTTP layer calls them; they never call it (no
//! module here imports `crate::http`), so the twin service, the push service and the loading
//! at start use the same operations as the API.
//!
//! - [`RepositoryService`]: every change of shells, submodels and concept descriptions, each
//!   with its events in one transaction, announced once committed ([`CommittedChange`]) to
//!   whoever subscribed (the twin service turns changed synchronized properties into platform
//!   commands from there, outside the request).
//!
//! Operation invocations (delegated to the URL an Operation names, with the asynchronous ones'
//! handles) are sdt-core's `operation::Invoker`, on aas-serde's `operation` payloads.

mod repository;

pub use repository::{CommittedChange, EventSettings, Origin, RepositoryService};
