//! The error of the stores kept beside the repository in its database (push targets and jobs,
//! twin platforms and bindings): one shape, so the API maps each case the same way whichever
//! store failed.

use super::DatabaseError;
use crate::secrets::SecretError;

/// Why a store of records beside the repository failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] DatabaseError),
    /// A stored record that no longer reads (edited or damaged), named by its kind and id and
    /// never by its text, which may hold more than the API shows.
    #[error("the stored {record} {id:?} no longer reads: {source}")]
    Corrupt {
        record: &'static str,
        id: String,
        #[source]
        source: serde_json::Error,
    },
    /// A record that cannot be written as JSON.
    #[error("{what} cannot be stored: {source}")]
    Unserializable {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    /// A secret could not be sealed, or a sealed one does not open with this key.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// A create found one of that name; checked in the write's transaction.
    #[error("{0} exists")]
    Exists(String),
    /// A replacement, a reference (a binding's platform) or a deletion found none.
    #[error("{0} not found")]
    NotFound(String),
    #[error("platform {platform:?} has {twins} twins bound to it")]
    InUse { platform: String, twins: i64 },
    /// The task running a storage call on the blocking pool panicked or was cancelled.
    #[error("a storage task ended without an answer")]
    Task(#[from] tokio::task::JoinError),
}

impl StoreError {
    /// The disk (or the database's size limit) was full: nothing was stored (see
    /// [`DatabaseError::is_disk_full`]).
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::Database(error) if error.is_disk_full())
    }

    /// [`StoreError::Corrupt`] of the stored `record` `id`, for `map_err`.
    pub(crate) fn corrupt(
        record: &'static str,
        id: impl Into<String>,
    ) -> impl FnOnce(serde_json::Error) -> Self {
        let id = id.into();
        move |source| StoreError::Corrupt { record, id, source }
    }

    /// [`StoreError::Unserializable`] of `what`, for `map_err`.
    pub(crate) fn unserializable(
        what: impl Into<String>,
    ) -> impl FnOnce(serde_json::Error) -> Self {
        let what = what.into();
        move |source| StoreError::Unserializable { what, source }
    }
}
