//! Operation invocation (Part 2 `invoke`, `invoke-async`, `operation-status`,
//! `operation-results`) by delegation, as BaSyx Java does it: an Operation carrying a qualifier of type
//! `invocationDelegation` whose value is an `http(s)` URL is invoked by POSTing the Part 2
//! `OperationRequest` to that URL; the answer is a Part 2 `OperationResult`, or a bare JSON
//! array of output `OperationVariable`s (as BaSyx delegates answer).
//!
//! The request goes out under an [`OutboundPolicy`] (as a platform client's requests do): its scheme, the allowed hosts, refused addresses at connect time, redirects only
//! within the origin. Limits:
//!
//! - the client's `clientTimeoutDuration` (xs:duration; years and months count 365 and 30 days)
//!   bounds the delegate's answer; [`DEFAULT_TIMEOUT`] without one; at most [`MAX_TIMEOUT`], and
//!   a synchronous invocation at most the request timeout given to [`Invoker::new`] (minus a
//!   margin, so that a server's client gets the `Timeout` result rather than the server's 408);
//! - a delegate's answer holds at most [`MAX_ANSWER_BYTES`];
//! - at most [`MAX_HANDLES`] asynchronous invocations are kept; a finished one is kept
//!   [`KEEP_FINISHED`] after it ended, or until a new invocation needs its place, or the kept
//!   results hold more than [`MAX_KEPT_BYTES`], and it is the oldest finished one (then its
//!   handle is unknown: 404); when all are running, a new one is
//!   refused (503). Handles live in memory: a restart forgets them;
//! - an invocation that arrives through [`MAX_HOPS`] delegations already (the
//!   [`HOPS_HEADER`] each delegate call carries) is refused (508, [`OperationError::Loop`]:
//!   the server that reads the header refuses it): an operation delegated to
//!   itself, or to a server delegating back, ends there instead of looping;
//! - what a failing delegate answered is logged, never returned: the client learns whether it
//!   could be reached and its HTTP status, not the body of an internal service, and no
//!   credentials of the delegation URL.
//!
//! Execution states: a handle is `Initiated` until its task starts, `Running` while the delegate
//! is asked, then `Completed` (or what the delegate's `OperationResult` says), `Failed` (the
//! delegate could not be reached or answered garbage) or `Timeout`. `Canceled` is never
//! reached: Part 2 has no cancel operation.
//!
//! The payloads (requests, results, execution states) are `aas_serde::operation`'s; this module
//! holds the client that calls the delegates and the table of asynchronous invocations.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aas_model::{Operation, SubmodelElement};
use aas_serde::operation::{ExecutionState, OperationRequest, OperationResult, PayloadError};
use reqwest::Url;

use crate::{OutboundError, OutboundPolicy};

/// The qualifier type that names an operation's delegate.
pub const DELEGATION_QUALIFIER: &str = "invocationDelegation";
/// The timeout of an invocation whose client gives none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest timeout a client may ask for.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
/// The largest answer read from a delegate.
pub const MAX_ANSWER_BYTES: usize = 4 << 20;
/// The request header that counts the delegations an invocation came through.
pub const HOPS_HEADER: &str = "aas-rs-invocation-hops";
/// Delegations an invocation may come through before it is refused.
pub const MAX_HOPS: u8 = 8;

/// Asynchronous invocations kept at once.
pub const MAX_HANDLES: usize = 1000;
/// The most the kept results of finished asynchronous invocations may hold, as JSON: the
/// oldest go first beyond it (1000 answers of [`MAX_ANSWER_BYTES`] would be gigabytes).
pub const MAX_KEPT_BYTES: usize = 64 << 20;
/// How long a finished asynchronous invocation's result is kept.
pub const KEEP_FINISHED: Duration = Duration::from_secs(600);

/// Why an invocation was refused or failed; [`OperationError::status`] is the HTTP status to
/// answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OperationError {
    /// The request payload cannot be read.
    #[error("{0}")]
    BadRequest(#[from] PayloadError),
    /// The element invoked (at this idShort path) is not an Operation.
    #[error("the element at {0} is not an Operation: only Operations are invoked")]
    NotAnOperation(String),
    /// The operation (at this idShort path) names no delegate; the second member says why
    /// its qualifier's value is no URL, if it has one.
    #[error(
        "the operation at {0} cannot be invoked here: it has no {DELEGATION_QUALIFIER} qualifier \
         whose value is an http(s) URL{1}"
    )]
    NoDelegation(String, String),
    /// The delegate's URL or address is refused by the outbound policy.
    #[error("the delegation is refused by the outbound policy: {0}")]
    Refused(#[from] OutboundError),
    /// The delegate could not be reached or answered an error or garbage (the details are
    /// logged, not returned).
    #[error("the operation's delegate {url} failed: {why}")]
    Delegate {
        /// The delegate's URL, without credentials.
        url: String,
        /// What went wrong, without the delegate's answer.
        why: String,
    },
    /// No asynchronous invocation with this handle (unknown, or expired).
    #[error("no invocation {0:?} of this operation (unknown, or expired)")]
    UnknownHandle(String),
    /// [`MAX_HANDLES`] asynchronous invocations are running.
    #[error("{MAX_HANDLES} asynchronous invocations are running: try again later")]
    TooMany,
    /// The system's random source gave no handle.
    #[error("no random handle")]
    NoRandomHandle,
    /// The invocation came through [`MAX_HOPS`] delegations.
    #[error(
        "this invocation came through {MAX_HOPS} delegations: refused as a loop ({HOPS_HEADER})"
    )]
    Loop,
}

impl OperationError {
    /// The status: 400 and 404 as the profiles list them; 403 for a refused delegate (the
    /// server will not make that request); 501 without a delegation (Part 2's "not
    /// implemented"); 502 for a failing delegate and 503 when full (the `default` response);
    /// 508 for a loop.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) | Self::NotAnOperation(_) => 400,
            Self::NoDelegation(..) => 501,
            Self::Refused(_) => 403,
            Self::Loop => 508,
            Self::Delegate { .. } => 502,
            Self::UnknownHandle(_) => 404,
            Self::TooMany => 503,
            Self::NoRandomHandle => 500,
        }
    }
}

/// A result without arguments in `state`, saying why, stamped now.
fn ended(state: ExecutionState, text: &str) -> OperationResult {
    let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    OperationResult::ended(state, text, &timestamp)
}

/// [`OperationError::Loop`] for an invocation that came through [`MAX_HOPS`] delegations.
fn refuse_loops(hops: u8) -> Result<(), OperationError> {
    if hops >= MAX_HOPS {
        return Err(OperationError::Loop);
    }
    Ok(())
}

/// One asynchronous invocation.
struct Handle {
    /// The operation it belongs to (submodel id and idShort path): its handle is unknown elsewhere.
    at: String,
    result: OperationResult,
    finished: Option<Instant>,
    /// The finished result's size as JSON (0 until finished), counted in [`MAX_KEPT_BYTES`].
    bytes: usize,
}

/// Invokes operations through their delegates and keeps the asynchronous invocations.
pub struct Invoker {
    client: reqwest::Client,
    policy: OutboundPolicy,
    version: aas_model::Version,
    max_sync: Duration,
    handles: Mutex<HashMap<String, Handle>>,
}

/// Shows counts only: a handle is all a client needs to read an invocation's result, and the
/// results may be large.
impl std::fmt::Debug for Invoker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invoker")
            .field("version", &self.version)
            .field("max_sync", &self.max_sync)
            .field("handles", &self.lock().len())
            .finish_non_exhaustive()
    }
}

impl Invoker {
    /// An invoker whose requests follow `policy`; a synchronous invocation ends before the
    /// server's `request_timeout` would answer 408 for it.
    pub fn new(
        policy: &OutboundPolicy,
        version: aas_model::Version,
        request_timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            client: policy.client_builder().build()?,
            policy: policy.clone(),
            version,
            max_sync: request_timeout.mul_f64(0.9),
            handles: Mutex::new(HashMap::new()),
        })
    }

    /// The URL an element's invocation is delegated to, checked against the policy.
    pub fn delegation(
        &self,
        element: SubmodelElement,
        path: &str,
    ) -> Result<(Operation, Url), OperationError> {
        let SubmodelElement::Operation(operation) = element else {
            return Err(OperationError::NotAnOperation(path.to_owned()));
        };
        let value = operation
            .qualifiers
            .iter()
            .flatten()
            .find(|q| q.type_ == DELEGATION_QUALIFIER)
            .and_then(|q| q.value.as_deref())
            .ok_or_else(|| OperationError::NoDelegation(path.to_owned(), String::new()))?;
        let url = Url::parse(value).map_err(|e| {
            OperationError::NoDelegation(path.to_owned(), format!(" ({value:?}: {e})"))
        })?;
        self.policy.check_url(&url)?;
        Ok((operation, url))
    }

    fn timeout(request: &OperationRequest) -> Duration {
        request.timeout.unwrap_or(DEFAULT_TIMEOUT).min(MAX_TIMEOUT)
    }

    /// A synchronous invocation: the delegate's result, or one in state `Timeout`. `hops`:
    /// the delegations the request came through (its [`HOPS_HEADER`]); the delegate is told
    /// one more.
    pub async fn invoke(
        &self,
        url: &Url,
        request: &OperationRequest,
        hops: u8,
    ) -> Result<OperationResult, OperationError> {
        refuse_loops(hops)?;
        self.call(
            url,
            request,
            hops,
            Self::timeout(request).min(self.max_sync),
        )
        .await
    }

    async fn call(
        &self,
        url: &Url,
        request: &OperationRequest,
        hops: u8,
        timeout: Duration,
    ) -> Result<OperationResult, OperationError> {
        let shown = without_credentials(url);
        // The client gets the kind of failure; the details (an internal service's answer, the
        // reason a connection failed) go to the log only.
        let failed = |why: &str, detail: String| {
            tracing::warn!(delegate = %shown, %detail, "operation delegate failed: {why}");
            OperationError::Delegate {
                url: shown.clone(),
                why: why.to_owned(),
            }
        };
        let from_reqwest = |error: reqwest::Error| match OutboundError::find_in(&error) {
            Some(refused) => OperationError::Refused(refused.clone()),
            None => failed("it could not be reached", error.to_string()),
        };
        let send = async {
            let response = (self.client.post(url.clone()))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(HOPS_HEADER, hops.saturating_add(1).to_string())
                .body(request.to_json(timeout))
                .send()
                .await
                .map_err(from_reqwest)?;
            let status = response.status();
            let body = crate::read_limited(response, MAX_ANSWER_BYTES)
                .await
                .map_err(from_reqwest)?
                .ok_or_else(|| {
                    failed(
                        &format!("it answered more than {MAX_ANSWER_BYTES} bytes"),
                        String::new(),
                    )
                })?;
            if !status.is_success() {
                let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
                return Err(failed(
                    &format!("it answered HTTP {}", status.as_u16()),
                    text,
                ));
            }
            OperationResult::read(&body, self.version)
                .map_err(|e| failed("its answer is not an OperationResult", e.to_string()))
        };
        match tokio::time::timeout(timeout, send).await {
            Ok(result) => result,
            Err(_) => Ok(ended(
                ExecutionState::Timeout,
                &format!(
                    "the delegate did not answer within {} s (clientTimeoutDuration)",
                    timeout.as_secs_f64()
                ),
            )),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Handle>> {
        self.handles.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts an asynchronous invocation of the operation `at` (a key the caller chooses, as
    /// [`Invoker::result`] asks for it), `hops` as in [`Invoker::invoke`]: its handle.
    pub fn start(
        self: &Arc<Self>,
        at: String,
        url: Url,
        request: OperationRequest,
        hops: u8,
    ) -> Result<String, OperationError> {
        refuse_loops(hops)?;
        let mut bytes = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
            .map_err(|_| OperationError::NoRandomHandle)?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        {
            let mut handles = self.lock();
            handles.retain(|_, h| h.finished.is_none_or(|t| t.elapsed() < KEEP_FINISHED));
            if handles.len() >= MAX_HANDLES {
                // The oldest finished result makes room; running ones are never dropped.
                let oldest = (handles.iter())
                    .filter_map(|(id, h)| Some((h.finished?, id.clone())))
                    .min();
                let (_, oldest) = oldest.ok_or(OperationError::TooMany)?;
                handles.remove(&oldest);
            }
            let result = ended(ExecutionState::Initiated, "waiting to start");
            let finished = None;
            handles.insert(
                id.clone(),
                Handle {
                    at,
                    result,
                    finished,
                    bytes: 0,
                },
            );
        }
        let (this, handle) = (self.clone(), id.clone());
        tokio::spawn(async move {
            this.set(
                &handle,
                ended(ExecutionState::Running, "the delegate is asked"),
            );
            let timeout = Self::timeout(&request);
            let result = match this.call(&url, &request, hops, timeout).await {
                Ok(result) => result,
                Err(error) => ended(ExecutionState::Failed, &error.to_string()),
            };
            this.set(&handle, result);
        });
        Ok(id)
    }

    fn set(&self, id: &str, result: OperationResult) {
        let finished = result.state.is_finished();
        let bytes = if finished {
            result.to_json(false).len()
        } else {
            0
        };
        let mut handles = self.lock();
        if let Some(handle) = handles.get_mut(id) {
            handle.finished = finished.then(Instant::now);
            handle.result = result;
            handle.bytes = bytes;
        }
        // The oldest finished results go first when the kept ones grow past the budget.
        while handles.values().map(|h| h.bytes).sum::<usize>() > MAX_KEPT_BYTES {
            let oldest = (handles.iter())
                .filter_map(|(id, h)| Some((h.finished?, id.clone())))
                .min();
            match oldest {
                Some((_, oldest)) => handles.remove(&oldest),
                None => break,
            };
        }
    }

    /// The result so far of the asynchronous invocation `id` of the operation `at`.
    pub fn result(&self, at: &str, id: &str) -> Result<OperationResult, OperationError> {
        let handles = self.lock();
        (handles.get(id))
            .filter(|h| h.at == at && h.finished.is_none_or(|t| t.elapsed() < KEEP_FINISHED))
            .map(|h| h.result.clone())
            .ok_or_else(|| OperationError::UnknownHandle(id.to_owned()))
    }
}

/// `url` without user name and password, for messages and logs.
fn without_credentials(url: &Url) -> String {
    let mut shown = url.clone();
    // Only URLs that cannot have credentials refuse these; such a URL has none to hide.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use aas_model::{DataTypeDefXsd, Qualifier};
    use serde_json::json;

    use super::*;

    fn delegated_to(url: &str) -> SubmodelElement {
        let mut qualifier = Qualifier::new(DELEGATION_QUALIFIER, DataTypeDefXsd::String);
        qualifier.value = Some(url.into());
        let mut operation = Operation::new();
        operation.qualifiers = Some(vec![qualifier]);
        operation.into()
    }

    #[tokio::test]
    async fn delegates_at_addresses_the_policy_refuses_are_never_asked()
    -> Result<(), Box<dyn std::error::Error>> {
        let metadata = IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254));
        let policy = (OutboundPolicy::new().private_networks(false))
            .with_resolved("delegate.test", [metadata]);
        let invoker = Invoker::new(&policy, aas_model::Version::LATEST, DEFAULT_TIMEOUT)?;
        // An address in the URL is refused before anything is sent: with private networks
        // refused, loopback too.
        for url in [
            "http://127.0.0.1:9/op",
            "http://[::ffff:a9fe:a9fe]/op",
            "file:///etc/passwd",
        ] {
            let refused = invoker.delegation(delegated_to(url), "Op").err();
            assert!(
                matches!(refused, Some(OperationError::Refused(_))),
                "{url}: {refused:?}"
            );
        }
        // A name is refused when it resolves, so the request never leaves.
        let (_, url) = invoker.delegation(delegated_to("http://delegate.test/op"), "Op")?;
        let request = OperationRequest::read(b"{}", None, aas_model::Version::LATEST, false)?;
        let refused = invoker.invoke(&url, &request, 0).await.err();
        assert!(
            matches!(&refused, Some(e @ OperationError::Refused(_)) if e.status() == 403
                && e.to_string().contains("169.254.169.254")),
            "{refused:?}"
        );
        Ok(())
    }

    /// The loop guard is the library's, not only the server's: an invocation that came
    /// through [`MAX_HOPS`] delegations is refused before anything is sent or kept, and the
    /// Debug output shows no handle.
    #[tokio::test]
    async fn invocations_through_max_hops_are_refused_as_loops()
    -> Result<(), Box<dyn std::error::Error>> {
        let invoker = Arc::new(Invoker::new(
            &OutboundPolicy::new(),
            aas_model::Version::LATEST,
            DEFAULT_TIMEOUT,
        )?);
        let url = Url::parse("http://delegate.test/op")?;
        let request = OperationRequest::read(b"{}", None, aas_model::Version::LATEST, false)?;
        let refused = invoker.invoke(&url, &request, MAX_HOPS).await.err();
        assert!(
            matches!(&refused, Some(e @ OperationError::Loop) if e.status() == 508),
            "{refused:?}"
        );
        let refused = invoker.start("sm/Op".into(), url, request, MAX_HOPS).err();
        assert!(matches!(refused, Some(OperationError::Loop)), "{refused:?}");
        assert_eq!(invoker.lock().len(), 0);
        invoker.lock().insert(
            "0123456789abcdef".into(),
            Handle {
                at: "sm/Op".into(),
                result: ended(ExecutionState::Running, "running"),
                finished: None,
                bytes: 0,
            },
        );
        let shown = format!("{invoker:?}");
        assert!(
            shown.contains("handles: 1") && !shown.contains("0123456789abcdef"),
            "{shown}"
        );
        Ok(())
    }

    #[test]
    fn finished_results_beyond_max_kept_bytes_drop_the_oldest()
    -> Result<(), Box<dyn std::error::Error>> {
        let invoker = Invoker::new(
            &OutboundPolicy::new(),
            aas_model::Version::LATEST,
            DEFAULT_TIMEOUT,
        )?;
        // Results of about 1 MiB each: a message text of that size.
        let big = |n: usize| {
            let mut result = ended(ExecutionState::Completed, &"x".repeat(1 << 20));
            result.messages.push(json!({"text": n.to_string()}));
            result
        };
        let count = MAX_KEPT_BYTES / (1 << 20) + 8;
        for n in 0..count {
            let id = format!("{n:04}");
            invoker.lock().insert(
                id.clone(),
                Handle {
                    at: "op".into(),
                    result: ended(ExecutionState::Running, "running"),
                    finished: None,
                    bytes: 0,
                },
            );
            invoker.set(&id, big(n));
        }
        let handles = invoker.lock();
        assert!(handles.values().map(|h| h.bytes).sum::<usize>() <= MAX_KEPT_BYTES);
        assert!(!handles.contains_key("0000"), "the oldest result was kept");
        assert!(
            handles.contains_key(&format!("{:04}", count - 1)),
            "the newest was dropped"
        );
        Ok(())
    }
}
