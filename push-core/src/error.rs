//! Errors: a target configuration that cannot be used, and a push that failed; and how a
//! store's failure is classified as worth another try or not.

use std::error::Error as StdError;
use std::path::PathBuf;

#[cfg(any(feature = "azure", feature = "s3"))]
use object_store::client::{HttpError, HttpErrorKind};

use crate::client::RedirectNotFollowed;

/// Why a target configuration is refused (when the target is created).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// The Azure SAS URL (`blobSasUrl`) is not usable: not a URL, no host, no container or a
    /// blob instead of one, no signature (`sig`), a resource other than a container (`sr`),
    /// an unreadable or past expiry (`se`), or neither write nor create permission (`sp`).
    /// The text says which, without the signature.
    #[error("blobSasUrl: {0}")]
    SasUrl(String),
    /// A field of the configuration has a value that cannot be used (an empty name, an S3
    /// bucket or region name with characters that could move the request to another host, an
    /// endpoint that is not `http(s)://host[:port][/path]`).
    #[error("{field}: {message}")]
    Invalid {
        /// The field as users write it in the configuration (`name`, `bucket`, `region`,
        /// `endpoint`).
        field: &'static str,
        /// What is wrong with its value, completing "`<field>: ...`".
        message: String,
    },
    /// object_store refused to build the store from a configuration that passed the checks
    /// above, or could not open the local directory.
    #[error("the target could not be set up: {0}")]
    Store(#[source] object_store::Error),
    /// The URL's scheme or host is not accepted (https, or http to a loopback host when
    /// insecure targets are allowed).
    #[error("{field}: the URL {source}")]
    Transport {
        /// The field holding the URL (`blobSasUrl` or `endpoint`).
        field: &'static str,
        /// What is wrong with the URL's scheme or host.
        #[source]
        source: TransportError,
    },
    /// The target's kind needs a backend this build of push-core does not have: the crate
    /// feature that adds it is off.
    #[error(
        "{kind} targets are not available: push-core was built without its {feature:?} feature"
    )]
    BackendNotEnabled {
        /// The target's `type` (`azure-blob-storage`, `s3`, `local-directory`).
        kind: &'static str,
        /// The push-core feature that adds it (`azure`, `s3`, `local`).
        feature: &'static str,
    },
    /// [`crate::TargetOptions::local_root`] is `None`.
    #[error("local-directory targets are disabled: no root is configured")]
    LocalDisabled,
    /// The root of local-directory targets does not exist or cannot be read.
    #[error("the root {} of local-directory targets cannot be used: {source}", root.display())]
    LocalRoot {
        /// The root as configured ([`crate::TargetOptions::local_root`]).
        root: PathBuf,
        /// Why it could not be resolved, or `NotADirectory`.
        source: std::io::Error,
    },
    /// The directory of a local-directory target could not be resolved or created.
    #[error("path {}: {source}", path.display())]
    LocalPath {
        /// The `path` of the target's configuration, as given.
        path: PathBuf,
        /// Why resolving or creating it failed.
        source: std::io::Error,
    },
    /// The directory of a local-directory target resolves (after `..` and symlinks) outside
    /// the root.
    #[error(
        "path {}: it resolves to {}, outside the root {} of local-directory targets",
        path.display(),
        resolved.display(),
        root.display()
    )]
    OutsideRoot {
        /// The `path` of the target's configuration, as given.
        path: PathBuf,
        /// Where it leads after `..` and symlinks are resolved.
        resolved: PathBuf,
        /// The root, resolved.
        root: PathBuf,
    },
}

/// Why a target URL's transport is refused; completes "the URL ...".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The URL is plain http and the options do not allow insecure targets
    /// ([`crate::TargetOptions::allow_insecure`] is off).
    #[error(
        "is http, not https (plain http is only accepted to a loopback host, and only when the server allows insecure targets)"
    )]
    InsecureNotAllowed,
    #[error(
        "is http to {host}, not https: plain http is only accepted to a loopback host (127.0.0.0/8, ::1, localhost)"
    )]
    /// The URL is plain http to a host that is not a loopback address or `localhost`:
    /// refused even when insecure targets are allowed.
    NotLoopback {
        /// The URL's host, as written.
        host: String,
    },
    #[error(
        "has the scheme {0:?}, not https (only https, or http to a loopback host, is accepted)"
    )]
    /// The URL's scheme is neither `https` nor `http`: the scheme.
    Scheme(String),
}

/// Why an upload or a job failed, in words a user can act on. Messages never contain secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// 401/403: the credentials were refused.
    #[error(
        "the target refused the upload of {name:?} (access denied): the SAS may have expired, lack write permission, or carry a wrong signature"
    )]
    AccessDenied {
        /// The object name of the upload.
        name: String,
    },
    /// The SAS expired after the target was created.
    #[error(
        "the target refused the upload of {name:?}: its SAS expired at {expired_at} (se); give the target a new SAS URL"
    )]
    Expired {
        /// The object name of the upload.
        name: String,
        /// The SAS's expiry (`se`), RFC 3339.
        expired_at: String,
    },
    /// 404: the container or bucket does not exist.
    #[error("the target has no container or bucket for {name:?} (not found): was it deleted?")]
    NotFound {
        /// The object name of the upload.
        name: String,
    },
    /// Transient: connection refused or reset, timeouts, HTTP 408, 429 and 5xx.
    #[error("the target is unreachable or failing ({detail})")]
    Unreachable {
        /// The store's message and those of its causes, SAS signatures redacted.
        detail: String,
    },
    /// The DNS resolver of [`crate::TargetOptions::dns_resolver`] refused the target's address
    /// with an [`AddressNotAllowed`]: not retried.
    #[error("the server does not allow connecting to the target: {detail}")]
    AddressRefused {
        /// The [`AddressNotAllowed`] message of the resolver, SAS signatures redacted.
        detail: String,
    },
    /// The target answered with a redirect (HTTP 3xx). Redirects are never followed, so an
    /// answer cannot send a request (and its credentials) elsewhere: not transient. `to` is the
    /// origin of the `Location` (no path or query, so no SAS shows), `None` without a usable
    /// one.
    #[error(
        "the target answered the request for {name:?} with HTTP {status}, a redirect {}, which is not followed: targets are only contacted at their configured address",
        crate::client::destination(.to)
    )]
    Redirected {
        /// The object name of the upload (for the connection test, the probe's name,
        /// `.push-check-<uuid>`).
        name: String,
        /// The HTTP status of the answer (300 to 399).
        status: u16,
        /// The origin (`scheme://host[:port]`) of the answer's `Location`; `None` when it
        /// had none or none that parses.
        to: Option<String>,
    },
    /// The object name is not allowed (empty, `..`, absolute, ...).
    #[error("the object name {name:?} is not allowed: {why}")]
    BadName {
        /// The object name, as given.
        name: String,
        /// Which rule it breaks, completing "... is not allowed: ...".
        why: &'static str,
    },
    /// Reading the data to upload failed.
    #[error("reading the data to upload failed: {0}")]
    Read(String),
    /// Anything else the store reported (e.g. HTTP 400): not transient.
    #[error("the upload of {name:?} failed: {detail}")]
    Other {
        /// The object name of the upload.
        name: String,
        /// The store's message and those of its causes, SAS signatures redacted.
        detail: String,
    },
}

/// What a DNS resolver given as [`crate::TargetOptions::dns_resolver`] returns to refuse a
/// host or all of its addresses. The push then fails with [`PushError::AddressRefused`] at
/// once; any other resolver error counts as a failed connection, which is transient and
/// retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the address of {host:?} is not allowed: {reason}")]
pub struct AddressNotAllowed {
    /// The host name that was to be resolved.
    pub host: String,
    /// Why its addresses are refused (e.g. "a private address"), shown to the user.
    pub reason: String,
}

impl AddressNotAllowed {
    /// A refusal of `host`, saying why (`reason` goes into the job's message).
    pub fn new(host: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            reason: reason.into(),
        }
    }
}

impl PushError {
    /// Worth another try later (the job engine retries these with backoff): connection
    /// failures, timeouts, HTTP 408, 429 and 5xx.
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
                let detail = redact_signatures(&chain(&other));
                match classify(&other) {
                    Verdict::Refused(reason) => PushError::AddressRefused {
                        detail: redact_signatures(&reason),
                    },
                    Verdict::Redirected(RedirectNotFollowed { status, to }) => {
                        PushError::Redirected { name, status, to }
                    }
                    Verdict::Transient => PushError::Unreachable { detail },
                    Verdict::Permanent => PushError::Other { name, detail },
                }
            }
        }
    }
}

/// What a failure's chain of sources says about trying again.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// The address policy (the DNS resolver) refused the host: its message.
    Refused(String),
    /// The target answered with a redirect, which was not followed.
    Redirected(RedirectNotFollowed),
    Transient,
    Permanent,
}

/// Classifies by the types in the chain of sources, never by searching the text: the text
/// holds the object name (`report-500.json`), the URL and the response body.
///
/// The first [`HttpError`] with a telling kind, `std::io::Error` with a telling kind, or HTTP
/// status decides; an [`AddressNotAllowed`] anywhere in the chain wins over them (reqwest
/// reports a resolver's refusal as a connect error, which alone would be transient), and so
/// does a [`RedirectNotFollowed`] (reported under an `HttpError` of kind `Unknown`).
fn classify(error: &(dyn StdError + 'static)) -> Verdict {
    let mut verdict = None;
    let mut current = Some(error);
    while let Some(cause) = current {
        if let Some(refused) = cause.downcast_ref::<AddressNotAllowed>() {
            return Verdict::Refused(refused.to_string());
        }
        if let Some(redirect) = cause.downcast_ref::<RedirectNotFollowed>() {
            return Verdict::Redirected(redirect.clone());
        }
        if verdict.is_none() {
            verdict = decides(cause);
        }
        current = match cause.downcast_ref::<std::io::Error>() {
            // An io::Error's source() skips the error it wraps (it returns that error's
            // source): step into the wrapped error itself.
            Some(io) => match io.get_ref() {
                Some(inner) => Some(inner as &(dyn StdError + 'static)),
                None => None,
            },
            None => cause.source(),
        };
    }
    verdict.unwrap_or(Verdict::Permanent)
}

/// The verdict of one error of a chain, if its type tells.
fn decides(error: &(dyn StdError + 'static)) -> Option<Verdict> {
    #[cfg(any(feature = "azure", feature = "s3"))]
    if let Some(http) = error.downcast_ref::<HttpError>() {
        return match http.kind() {
            // Connect and Request: the request was not (fully) sent, or the connection closed
            // under it; Timeout and Interrupted: it may be answered next time. Repeating an
            // upload that may have arrived is safe: it replaces the object of the same name.
            HttpErrorKind::Connect
            | HttpErrorKind::Request
            | HttpErrorKind::Timeout
            | HttpErrorKind::Interrupted => Some(Verdict::Transient),
            HttpErrorKind::Decode => Some(Verdict::Permanent),
            // Unknown (and kinds added later): a deeper io::Error may tell.
            _ => None,
        };
    }
    if let Some(io) = error.downcast_ref::<std::io::Error>() {
        use std::io::ErrorKind as K;
        return match io.kind() {
            K::ConnectionRefused
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::NotConnected
            | K::TimedOut
            | K::BrokenPipe
            | K::UnexpectedEof
            | K::Interrupted
            | K::AddrNotAvailable
            | K::HostUnreachable
            | K::NetworkUnreachable
            | K::NetworkDown => Some(Verdict::Transient),
            // `Other` often wraps the real cause, which comes next in the chain.
            K::Other => None,
            _ => Some(Verdict::Permanent),
        };
    }
    http_status(error).map(|status| {
        if status == 408 || status == 429 || (500..=599).contains(&status) {
            Verdict::Transient
        } else {
            Verdict::Permanent
        }
    })
}

/// How object_store 0.14's `RequestError` begins its message for a response with an error
/// status, followed by the status (`503 Service Unavailable`) and the body.
const STATUS_PREFIX: &str = "Server returned non-2xx status code: ";
/// How it begins the message for a 2xx response whose body reports an error (S3's
/// `InternalError` / `SlowDown`), which object_store itself retries like a 5xx.
const ERROR_BODY_PREFIX: &str = "Server returned error response: ";

/// The HTTP status of an error answer. object_store 0.14 keeps it in `RetryError::status()`,
/// but that type lives in a private module (`client::retry`) and cannot be named to downcast
/// to, so the status is read from the start of that one error's own message, which
/// object_store writes as a fixed prefix followed by the status code. Only the start is read:
/// the object name and URL are in other errors of the chain, the body comes after the status.
/// `tests/policy.rs` pins this against real 400 and 503 answers.
fn http_status(error: &(dyn StdError + 'static)) -> Option<u16> {
    let text = error.to_string();
    if text.starts_with(ERROR_BODY_PREFIX) {
        return Some(500);
    }
    let code = text.strip_prefix(STATUS_PREFIX)?.get(..3)?;
    code.parse().ok().filter(|code| (100..=599).contains(code))
}

/// An error and its sources in one line.
fn chain(error: &dyn StdError) -> String {
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

/// `text` with the value of every `sig=` replaced by `REDACTED`. object_store already leaves
/// the URL out of errors of SAS requests; this keeps a signature out of job messages should a
/// URL show up anyway (a response body quoting it, a future version).
fn redact_signatures(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("sig=") {
        let value_start = at + "sig=".len();
        out.push_str(&rest[..value_start]);
        out.push_str(crate::REDACTED);
        let value = &rest[value_start..];
        let end = value
            .find(|c: char| c == '&' || c == '"' || c == '\'' || c == '<' || c.is_whitespace())
            .unwrap_or(value.len());
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(all(test, any(feature = "azure", feature = "s3")))]
mod tests {
    use super::*;

    fn generic(source: impl StdError + Send + Sync + 'static) -> object_store::Error {
        object_store::Error::Generic {
            store: "test",
            source: Box::new(source),
        }
    }

    fn http(kind: HttpErrorKind, source: std::io::Error) -> object_store::Error {
        generic(HttpError::new(kind, source))
    }

    #[test]
    fn connection_failures_and_timeouts_are_transient_by_their_kind() {
        use std::io::{Error, ErrorKind};
        for kind in [
            HttpErrorKind::Connect,
            HttpErrorKind::Request,
            HttpErrorKind::Timeout,
            HttpErrorKind::Interrupted,
        ] {
            let error = PushError::from_store("a.json", http(kind, Error::other("x")));
            assert!(error.is_transient(), "{kind:?}: {error:?}");
        }
        // An Unknown HTTP error is decided by the io::Error under it.
        let reset = http(
            HttpErrorKind::Unknown,
            Error::new(ErrorKind::ConnectionReset, "reset"),
        );
        assert!(PushError::from_store("a.json", reset).is_transient());
        let refused = generic(Error::new(ErrorKind::ConnectionRefused, "refused"));
        assert!(PushError::from_store("a.json", refused).is_transient());
    }

    #[test]
    fn words_in_the_message_do_not_make_an_error_transient() {
        use std::io::{Error, ErrorKind};
        // Every word the old text search looked for, in the name and in the message.
        let name = "report-500-503-connect-dns-timeout-retries.json";
        let cases = [
            http(
                HttpErrorKind::Decode,
                Error::other(format!("{name}: connect timed out 500")),
            ),
            http(HttpErrorKind::Unknown, Error::other("dns 502 504 retries")),
            generic(Error::new(
                ErrorKind::StorageFull,
                format!("{name}: no space"),
            )),
            generic(Error::new(ErrorKind::InvalidData, "503 timeout")),
        ];
        for error in cases {
            let pushed = PushError::from_store(name, error);
            assert!(
                matches!(pushed, PushError::Other { .. }),
                "not transient: {pushed:?}"
            );
        }
    }

    #[test]
    fn a_resolver_refusal_is_not_transient_though_reported_as_a_connect_error() {
        let refusal = AddressNotAllowed::new("intranet.example", "10.0.0.8 is private");
        let error = http(HttpErrorKind::Connect, std::io::Error::other(refusal));
        match PushError::from_store("a.json", error) {
            PushError::AddressRefused { detail } => {
                assert!(detail.contains("10.0.0.8 is private"), "{detail}");
            }
            other => panic!("expected AddressRefused, got {other:?}"),
        }
    }

    #[test]
    fn a_redirect_is_reported_with_where_it_pointed_and_is_not_transient() {
        let redirect = RedirectNotFollowed {
            status: 307,
            to: Some("https://elsewhere.example".into()),
        };
        // Under a Connect error, which alone would be transient, it still decides.
        for kind in [HttpErrorKind::Unknown, HttpErrorKind::Connect] {
            let error = http(kind, std::io::Error::other(redirect.clone()));
            let pushed = PushError::from_store("a.json", error);
            assert_eq!(
                pushed,
                PushError::Redirected {
                    name: "a.json".into(),
                    status: 307,
                    to: Some("https://elsewhere.example".into()),
                },
                "{kind:?}"
            );
            assert!(!pushed.is_transient());
            assert!(
                pushed.to_string().contains(
                    "HTTP 307, a redirect to https://elsewhere.example, which is not followed"
                ),
                "{pushed}"
            );
        }
    }

    #[test]
    fn status_codes_are_read_only_from_the_start_of_the_status_error() {
        #[derive(Debug, thiserror::Error)]
        #[error("{0}")]
        struct Text(String);
        let status = |text: &str| http_status(&Text(text.into()));
        assert_eq!(
            status("Server returned non-2xx status code: 503 Service Unavailable: "),
            Some(503)
        );
        assert_eq!(
            status("Server returned non-2xx status code: 400 Bad Request: <Error/>"),
            Some(400)
        );
        assert_eq!(
            status("Server returned error response: <Error>SlowDown</Error>"),
            Some(500)
        );
        // The same words later in a message (a name, a URL) are not a status.
        assert_eq!(
            status(
                "Error performing PUT report-500.json - Server returned non-2xx status code: 400"
            ),
            None
        );
        assert_eq!(status("Server returned non-2xx status code: xyz"), None);
    }

    #[test]
    fn signatures_are_redacted_from_details() {
        assert_eq!(
            redact_signatures("PUT http://h/a/c/x?sv=1&sig=abc%2Bdef&sp=w failed; sig=zz"),
            "PUT http://h/a/c/x?sv=1&sig=REDACTED&sp=w failed; sig=REDACTED"
        );
    }
}
