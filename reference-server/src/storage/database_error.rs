//! The error a database backend fails with, as the rest of the server sees it: classified by
//! what a caller may do about it (a full disk is the client's 507 and may be retried once space
//! is freed), with the backend's own error kept as its source for the log. Callers ask the
//! classification and never look into the backend's error, so that another backend is an
//! addition to the code that makes these, not a change to the code that reads them.

/// What a caller may do about a database failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DatabaseErrorKind {
    /// The disk, or the size limit set for the database, is full: the write was rolled back
    /// and nothing changed.
    DiskFull,
    /// Anything else: the server's fault as far as a client is concerned.
    Other,
}

/// Why the database failed, whichever backend it is.
#[derive(Debug, thiserror::Error)]
#[error("{source}")]
pub struct DatabaseError {
    kind: DatabaseErrorKind,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl DatabaseError {
    /// A failure of the backend, classified by the backend (which alone can read `source`).
    pub(crate) fn new(
        kind: DatabaseErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            kind,
            source: source.into(),
        }
    }

    /// The disk (or the database's size limit) was full: the write was rolled back and
    /// nothing changed, so a client may retry once space is freed.
    pub fn is_disk_full(&self) -> bool {
        self.kind == DatabaseErrorKind::DiskFull
    }

    /// The backend's own error, for the backend that made it (it copies a failed group
    /// commit's error to every writer in the group).
    pub(crate) fn backend<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.source.downcast_ref()
    }
}
