//! Errors: a target configuration that cannot be used, and a push that failed.

/// Why a target configuration is refused (when the target is created).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    #[error("blobSasUrl: {0}")]
    SasUrl(String),
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("the target could not be set up: {0}")]
    Store(String),
}

/// Why an upload or a job failed, in words a user can act on. Messages never contain secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// 401/403: the credentials were refused.
    #[error(
        "the target refused the upload of {name:?} (access denied): the SAS may have expired, lack write permission, or carry a wrong signature"
    )]
    AccessDenied { name: String },
    /// The SAS expired after the target was created.
    #[error(
        "the target refused the upload of {name:?}: its SAS expired at {expired_at} (se); give the target a new SAS URL"
    )]
    Expired { name: String, expired_at: String },
    /// 404: the container or bucket does not exist.
    #[error("the target has no container or bucket for {name:?} (not found): was it deleted?")]
    NotFound { name: String },
    /// Connection refused, timeouts, 5xx after the retries.
    #[error("the target is unreachable or failing ({detail})")]
    Unreachable { detail: String },
    /// The object name is not allowed (empty, `..`, absolute, ...).
    #[error("the object name {name:?} is not allowed: {why}")]
    BadName { name: String, why: &'static str },
    /// Reading the data to upload failed.
    #[error("reading the data to upload failed: {0}")]
    Read(String),
    /// Anything else the store reported.
    #[error("the upload of {name:?} failed: {detail}")]
    Other { name: String, detail: String },
}

impl PushError {
    /// Worth another try later (the job engine retries these with backoff).
    pub fn is_transient(&self) -> bool {
        matches!(self, PushError::Unreachable { .. })
    }

    pub(crate) fn from_store(name: &str, error: object_store::Error) -> Self {
        use object_store::Error as E;
        let name = name.to_owned();
        match error {
            E::PermissionDenied { .. } | E::Unauthenticated { .. } => {
                PushError::AccessDenied { name }
            }
            E::NotFound { .. } => PushError::NotFound { name },
            other => {
                let detail = chain(&other);
                let lower = detail.to_ascii_lowercase();
                if [
                    "connect",
                    "timed out",
                    "timeout",
                    "dns",
                    "500",
                    "502",
                    "503",
                    "504",
                    "retries",
                ]
                .iter()
                .any(|hint| lower.contains(hint))
                {
                    PushError::Unreachable { detail }
                } else {
                    PushError::Other { name, detail }
                }
            }
        }
    }
}

/// An error and its sources in one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
