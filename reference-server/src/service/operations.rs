//! Operation invocation (Part 2 `invoke`, `invoke-async`, `operation-status`,
//! `operation-results`), delegated as BaSyx Java does: an Operation carrying a qualifier of type
//! `invocationDelegation` whose value is an `http(s)` URL is invoked by POSTing the Part 2
//! `OperationRequest` to that URL; the answer is a Part 2 `OperationResult`, or a bare JSON
//! array of output `OperationVariable`s (as BaSyx delegates answer).
//!
//! The request goes out under the server's outbound policy (`[outbound]`, as platforms and push
//! targets): its scheme, the allowed hosts, refused addresses at connect time, redirects only
//! within the origin. Limits:
//!
//! - the client's `clientTimeoutDuration` (xs:duration; years and months count 365 and 30 days)
//!   bounds the delegate's answer; [`DEFAULT_TIMEOUT`] without one; at most [`MAX_TIMEOUT`], and
//!   a synchronous invocation at most the server's request timeout (minus a margin, so that the
//!   client gets the `Timeout` result rather than the server's 408);
//! - a delegate's answer holds at most [`MAX_ANSWER_BYTES`];
//! - at most [`MAX_HANDLES`] asynchronous invocations are kept; a finished one is kept
//!   [`KEEP_FINISHED`] after it ended, or until a new invocation needs its place, or the kept
//!   results hold more than [`MAX_KEPT_BYTES`], and it is the oldest finished one (then its
//!   handle is unknown: 404); when all are running, a new one is
//!   refused (503). Handles live in memory: a restart forgets them;
//! - an invocation that arrives through [`MAX_HOPS`] delegations already (the
//!   [`HOPS_HEADER`] each delegate call carries) is refused (508): an operation delegated to
//!   itself, or to a server delegating back, ends there instead of looping;
//! - what a failing delegate answered is logged, never returned: the client learns whether it
//!   could be reached and its HTTP status, not the body of an internal service, and no
//!   credentials of the delegation URL.
//!
//! Execution states: a handle is `Initiated` until its task starts, `Running` while the delegate
//! is asked, then `Completed` (or what the delegate's `OperationResult` says), `Failed` (the
//! delegate could not be reached or answered garbage) or `Timeout`. `Canceled` is never
//! reached: Part 2 has no cancel operation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aas_model::{Operation, OperationVariable, SubmodelElement};
use aas_serde::value_only;
use reqwest::Url;
use sdt_core::{OutboundError, OutboundPolicy};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

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

/// Why an invocation was refused or failed; `status` is the HTTP status to answer.
#[derive(Debug, thiserror::Error)]
pub enum OperationError {
    #[error("{0}")]
    BadRequest(String),
    #[error("the element at {0} is not an Operation: only Operations are invoked")]
    NotAnOperation(String),
    #[error(
        "the operation at {0} cannot be invoked here: it has no {DELEGATION_QUALIFIER} qualifier \
         whose value is an http(s) URL{1}"
    )]
    NoDelegation(String, String),
    #[error("the delegation is refused by the outbound policy: {0}")]
    Refused(#[from] OutboundError),
    #[error("the operation's delegate {url} failed: {why}")]
    Delegate { url: String, why: String },
    #[error("no invocation {0:?} of this operation (unknown, or expired)")]
    UnknownHandle(String),
    #[error("{MAX_HANDLES} asynchronous invocations are running: try again later")]
    TooMany,
    #[error("{0}")]
    Internal(String),
    #[error(
        "this invocation came through {MAX_HOPS} delegations: refused as a loop ({HOPS_HEADER})"
    )]
    Loop,
}

impl OperationError {
    /// The status: 400 and 404 as the profiles list them; 403 for a refused delegate (the
    /// server will not make that request); 501 without a delegation (Part 2's "not
    /// implemented"); 502 for a failing delegate and 503 when full (the `default` response).
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) | Self::NotAnOperation(_) => 400,
            Self::NoDelegation(..) => 501,
            Self::Refused(_) => 403,
            Self::Loop => 508,
            Self::Delegate { .. } => 502,
            Self::UnknownHandle(_) => 404,
            Self::TooMany => 503,
            Self::Internal(_) => 500,
        }
    }
}

/// Part 2's `ExecutionState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecutionState {
    Initiated,
    Running,
    Completed,
    Canceled,
    Failed,
    Timeout,
}

impl ExecutionState {
    pub fn is_finished(self) -> bool {
        !matches!(self, Self::Initiated | Self::Running)
    }
}

/// Part 2's `OperationRequest` (or its value-only form, read against the operation's
/// declared variables).
#[derive(Debug, Clone)]
pub struct OperationRequest {
    pub input: Vec<OperationVariable>,
    pub inoutput: Vec<OperationVariable>,
    pub timeout: Option<Duration>,
    /// Delegations this request came through ([`HOPS_HEADER`]).
    pub hops: u8,
}

/// The members of a request as sent; the arguments are read by aas-serde afterwards.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RequestWire {
    input_arguments: Option<Value>,
    inoutput_arguments: Option<Value>,
    client_timeout_duration: Option<String>,
}

impl OperationRequest {
    /// Reads an `OperationRequest`; with `declared`, an `OperationRequestValueOnly`, whose
    /// arguments are the values of that operation's declared variables, keyed by idShort.
    pub fn read(
        body: &[u8],
        declared: Option<&Operation>,
        version: aas_model::Version,
        timeout_required: bool,
    ) -> Result<Self, OperationError> {
        let bad = OperationError::BadRequest;
        let body = if body.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            body
        };
        let wire: RequestWire = value_only::from_slice(body)
            .map_err(|e| bad(e.to_string()))
            .and_then(|v| serde_json::from_value(v).map_err(|e| bad(format!("$: {e}"))))?;
        let timeout = match &wire.client_timeout_duration {
            Some(text) => Some(xs_duration(text).ok_or_else(|| {
                bad(format!(
                    "clientTimeoutDuration {text:?} is not a non-negative xs:duration (e.g. PT30S)"
                ))
            })?),
            None if timeout_required => {
                return Err(bad("clientTimeoutDuration is required".into()));
            }
            None => None,
        };
        let (input, inoutput) = match declared {
            Some(op) => (
                from_values(wire.input_arguments, op.input_variables.as_deref(), "input")?,
                from_values(
                    wire.inoutput_arguments,
                    op.inoutput_variables.as_deref(),
                    "inoutput",
                )?,
            ),
            None => (
                variables(wire.input_arguments, "inputArguments", version).map_err(bad)?,
                variables(wire.inoutput_arguments, "inoutputArguments", version).map_err(bad)?,
            ),
        };
        Ok(Self {
            input,
            inoutput,
            timeout,
            hops: 0,
        })
    }

    /// The request as the delegate receives it, with the timeout that applies.
    fn to_json(&self, timeout: Duration) -> Vec<u8> {
        let mut out = br#"{"inputArguments":"#.to_vec();
        out.extend(aas_serde::json::to_vec(&self.input));
        out.extend(br#","inoutputArguments":"#);
        out.extend(aas_serde::json::to_vec(&self.inoutput));
        out.extend(
            format!(
                r#","clientTimeoutDuration":"PT{}S"}}"#,
                timeout.as_secs_f64()
            )
            .bytes(),
        );
        out
    }
}

/// Operation variables in the full JSON (aas-serde's strict reader, in the server's version).
fn variables(
    value: Option<Value>,
    name: &str,
    version: aas_model::Version,
) -> Result<Vec<OperationVariable>, String> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    aas_serde::json::from_slice_as(value.to_string().as_bytes(), version)
        .map_err(|e| format!("{name}: {e}"))
}

/// Value-only arguments: each declared variable whose idShort the object names, with the
/// value given (as BaSyx Java reads them); an idShort the operation does not declare is an error.
fn from_values(
    values: Option<Value>,
    declared: Option<&[OperationVariable]>,
    kind: &str,
) -> Result<Vec<OperationVariable>, OperationError> {
    let bad = OperationError::BadRequest;
    let values = match values {
        None => return Ok(Vec::new()),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(bad(format!("{kind}Arguments: an object keyed by idShort"))),
    };
    let declared = declared.unwrap_or_default();
    if let Some(unknown) = values.keys().find(|key| {
        !declared
            .iter()
            .any(|v| v.value.id_short() == Some(key.as_str()))
    }) {
        return Err(bad(format!(
            "{kind}Arguments: the operation declares no {kind} variable {unknown:?}"
        )));
    }
    let mut arguments = Vec::new();
    for variable in declared {
        let Some(value) = variable.value.id_short().and_then(|name| values.get(name)) else {
            continue;
        };
        let mut variable = variable.clone();
        value_only::apply(&mut variable.value, value)
            .map_err(|e| bad(format!("{kind}Arguments: {e}")))?;
        arguments.push(variable);
    }
    Ok(arguments)
}

/// Part 2's `OperationResult`: the state, the messages (Part 2 `Message`s) and the arguments.
#[derive(Debug, Clone)]
pub struct OperationResult {
    pub state: ExecutionState,
    pub success: bool,
    pub messages: Vec<Value>,
    pub output: Vec<OperationVariable>,
    pub inoutput: Vec<OperationVariable>,
}

/// A delegate's `OperationResult`, tolerant of members it may add.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResultWire {
    output_arguments: Option<Value>,
    inoutput_arguments: Option<Value>,
    execution_state: Option<ExecutionState>,
    success: Option<bool>,
    messages: Option<Vec<Value>>,
}

impl OperationResult {
    /// A result without arguments in `state`, saying why.
    pub fn ended(state: ExecutionState, text: &str) -> Self {
        let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let kind = if state == ExecutionState::Running || state == ExecutionState::Initiated {
            "Info"
        } else {
            "Error"
        };
        Self {
            state,
            success: false,
            messages: vec![json!({"messageType": kind, "text": text, "timestamp": timestamp})],
            output: Vec::new(),
            inoutput: Vec::new(),
        }
    }

    /// Reads a delegate's answer: an `OperationResult` or a bare array of output variables.
    fn from_delegate(body: &[u8], version: aas_model::Version) -> Result<Self, String> {
        if body.trim_ascii_start().starts_with(b"[") {
            let output = aas_serde::json::from_slice_as(body, version)
                .map_err(|e| format!("an array that is not output variables: {e}"))?;
            return Ok(Self {
                state: ExecutionState::Completed,
                success: true,
                messages: Vec::new(),
                output,
                inoutput: Vec::new(),
            });
        }
        let wire: ResultWire = value_only::from_slice(body)
            .map_err(|e| e.to_string())
            .and_then(|v| serde_json::from_value(v).map_err(|e| format!("$: {e}")))
            .map_err(|e| format!("not an OperationResult nor an array of variables: {e}"))?;
        // Any JSON object is no result: one of these says it is (a server's `{"handleId"}`
        // answer to an `invoke-async` is not).
        if wire.execution_state.is_none()
            && wire.success.is_none()
            && wire.output_arguments.is_none()
            && wire.inoutput_arguments.is_none()
        {
            return Err("an object without executionState, success or arguments".into());
        }
        let state = wire.execution_state.unwrap_or(ExecutionState::Completed);
        Ok(Self {
            state,
            success: wire.success.unwrap_or(state == ExecutionState::Completed),
            messages: wire.messages.unwrap_or_default(),
            output: variables(wire.output_arguments, "outputArguments", version)?,
            inoutput: variables(wire.inoutput_arguments, "inoutputArguments", version)?,
        })
    }

    /// `BaseOperationResult`: the state and messages, without arguments.
    pub fn base(&self) -> Value {
        json!({"messages": self.messages, "executionState": self.state, "success": self.success})
    }

    /// `OperationResult` (or `OperationResultValueOnly`) as JSON.
    pub fn to_json(&self, value_only: bool) -> Vec<u8> {
        if value_only {
            let mut result = self.base();
            result["outputArguments"] = values(&self.output);
            result["inoutputArguments"] = values(&self.inoutput);
            return result.to_string().into_bytes();
        }
        // The arguments are written by aas-serde, spliced into the base object.
        let mut out = self.base().to_string().into_bytes();
        out.pop();
        out.extend(br#","outputArguments":"#);
        out.extend(aas_serde::json::to_vec(&self.output));
        out.extend(br#","inoutputArguments":"#);
        out.extend(aas_serde::json::to_vec(&self.inoutput));
        out.push(b'}');
        out
    }
}

/// Value-only arguments: each variable's value keyed by its idShort.
fn values(variables: &[OperationVariable]) -> Value {
    let map: Map<String, Value> = variables
        .iter()
        .filter_map(|v| {
            let name = v.value.id_short()?.to_owned();
            Some((name, value_only::to_value(&v.value, true)?))
        })
        .collect();
    Value::Object(map)
}

/// Part 2's xs:duration (`PT30S`, `P1DT2H`, `PT0.5S`); years and months count 365 and 30 days
/// (a timeout needs no calendar). `None` for anything else, negative durations included.
pub fn xs_duration(text: &str) -> Option<Duration> {
    const DATE: &[(char, f64)] = &[
        ('Y', 365.0 * 86400.0),
        ('M', 30.0 * 86400.0),
        ('D', 86400.0),
    ];
    const TIME: &[(char, f64)] = &[('H', 3600.0), ('M', 60.0), ('S', 1.0)];
    let rest = text.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((date, time)) => (date, time),
        None => (rest, ""),
    };
    if rest.is_empty() || rest.ends_with('T') {
        return None;
    }
    let mut seconds = 0.0;
    for (mut part, units) in [(date, DATE), (time, TIME)] {
        // Each unit at most once and in order: `find` consumes the units it passes.
        let mut units = units.iter();
        while !part.is_empty() {
            let end = part.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
            let (number, tail) = part.split_at(end);
            let unit = tail.chars().next()?;
            let &(_, factor) = units.find(|(u, _)| *u == unit)?;
            if number.is_empty() || (number.contains('.') && unit != 'S') {
                return None;
            }
            seconds += number.parse::<f64>().ok()? * factor;
            part = &tail[1..];
        }
    }
    Duration::try_from_secs_f64(seconds).ok()
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

    /// A synchronous invocation: the delegate's result, or one in state `Timeout`.
    pub async fn invoke(
        &self,
        url: &Url,
        request: &OperationRequest,
    ) -> Result<OperationResult, OperationError> {
        self.call(url, request, Self::timeout(request).min(self.max_sync))
            .await
    }

    async fn call(
        &self,
        url: &Url,
        request: &OperationRequest,
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
                .header(HOPS_HEADER, request.hops.saturating_add(1).to_string())
                .body(request.to_json(timeout))
                .send()
                .await
                .map_err(from_reqwest)?;
            let status = response.status();
            let body = sdt_core::read_limited(response, MAX_ANSWER_BYTES)
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
            OperationResult::from_delegate(&body, self.version)
                .map_err(|e| failed("its answer is not an OperationResult", e))
        };
        match tokio::time::timeout(timeout, send).await {
            Ok(result) => result,
            Err(_) => Ok(OperationResult::ended(
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

    /// Starts an asynchronous invocation of the operation `at`: its handle.
    pub fn start(
        self: &Arc<Self>,
        at: String,
        url: Url,
        request: OperationRequest,
    ) -> Result<String, OperationError> {
        let mut bytes = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
            .map_err(|_| OperationError::Internal("no random handle".into()))?;
        let id = hex::encode(bytes);
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
            let result = OperationResult::ended(ExecutionState::Initiated, "waiting to start");
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
                OperationResult::ended(ExecutionState::Running, "the delegate is asked"),
            );
            let timeout = Self::timeout(&request);
            let result = match this.call(&url, &request, timeout).await {
                Ok(result) => result,
                Err(error) => OperationResult::ended(ExecutionState::Failed, &error.to_string()),
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
        let refused = invoker.invoke(&url, &request).await.err();
        assert!(
            matches!(&refused, Some(e @ OperationError::Refused(_)) if e.status() == 403
                && e.to_string().contains("169.254.169.254")),
            "{refused:?}"
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
            let mut result =
                OperationResult::ended(ExecutionState::Completed, &"x".repeat(1 << 20));
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
                    result: OperationResult::ended(ExecutionState::Running, "running"),
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

    #[test]
    fn client_timeouts_are_xs_durations() {
        let secs = |s: f64| Some(Duration::from_secs_f64(s));
        assert_eq!(xs_duration("PT30S"), secs(30.0));
        assert_eq!(xs_duration("PT0.5S"), secs(0.5));
        assert_eq!(
            xs_duration("P1DT2H3M4S"),
            secs(86400.0 + 7200.0 + 180.0 + 4.0)
        );
        assert_eq!(xs_duration("P1M"), secs(30.0 * 86400.0));
        assert_eq!(xs_duration("PT1M"), secs(60.0));
        for bad in [
            "", "P", "PT", "-PT1S", "30", "PT1.5M", "PT1S2M", "P1H", "PTS", "PT1X",
        ] {
            assert_eq!(xs_duration(bad), None, "{bad}");
        }
    }
}
