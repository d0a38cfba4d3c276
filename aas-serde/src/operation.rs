//! The payloads of Part 2's operation invocation (`invoke`, `invoke-async`, their `$value`
//! forms, `operation-status`, `operation-results`): [`OperationRequest`] (and its value-only
//! form, read against the operation's declared variables), [`OperationResult`] with its
//! [`ExecutionState`], and the `xs:duration` of `clientTimeoutDuration` ([`xs_duration`]).
//!
//! Reading them is strict where the schema is (unknown members of a request are errors) and
//! lenient where delegates are: a result may carry members it adds, or be a bare JSON array of
//! output `OperationVariable`s (as BaSyx delegates answer). Calling an operation is not here:
//! this module only reads and writes the payloads.
//!
//! ```
//! use std::time::Duration;
//! use aas_serde::operation::{ExecutionState, OperationRequest, OperationResult, xs_duration};
//!
//! let request = OperationRequest::read(
//!     br#"{"inputArguments": [], "clientTimeoutDuration": "PT30S"}"#,
//!     None,
//!     aas_model::Version::LATEST,
//!     false,
//! )?;
//! assert_eq!(request.timeout, Some(Duration::from_secs(30)));
//! assert_eq!(xs_duration("P1DT2H"), Some(Duration::from_secs(26 * 3600)));
//!
//! // A delegate's bare array of output variables is a completed result.
//! let result = OperationResult::read(b"[]", aas_model::Version::LATEST)?;
//! assert_eq!(result.state, ExecutionState::Completed);
//! assert!(result.success);
//! # Ok::<(), aas_serde::operation::PayloadError>(())
//! ```

use std::time::Duration;

use aas_model::{Operation, OperationVariable, Version};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::json;
use crate::value_only::{self, ValueOnlyError};

/// Why an [`OperationRequest`] or an [`OperationResult`] could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// Not JSON, or nested deeper than `value_only::MAX_DEPTH`.
    #[error("{0}")]
    Json(#[from] ValueOnlyError),
    /// Not the payload's shape: an unknown member, or one of the wrong JSON type.
    #[error("$: {0}")]
    Shape(serde_json::Error),
    /// `clientTimeoutDuration` is not a non-negative `xs:duration`.
    #[error("clientTimeoutDuration {0:?} is not a non-negative xs:duration (e.g. PT30S)")]
    Timeout(String),
    /// `clientTimeoutDuration` is missing where the schema requires it.
    #[error("clientTimeoutDuration is required")]
    TimeoutRequired,
    /// Value-only arguments (`input` or `inoutput`) that are not a JSON object.
    #[error("{0}Arguments: an object keyed by idShort")]
    NotAnObject(&'static str),
    /// A value-only argument whose idShort the operation does not declare.
    #[error("{kind}Arguments: the operation declares no {kind} variable {name:?}")]
    Undeclared {
        /// `input` or `inoutput`.
        kind: &'static str,
        /// The idShort given.
        name: String,
    },
    /// A value-only argument's value does not fit its declared variable.
    #[error("{kind}Arguments: {error}")]
    Value {
        /// `input` or `inoutput`.
        kind: &'static str,
        /// Why the value does not fit.
        error: ValueOnlyError,
    },
    /// Arguments (`inputArguments`, `outputArguments`, ...) that are not operation variables.
    #[error("{member}: {error}")]
    Variables {
        /// The member holding them.
        member: &'static str,
        /// Why they cannot be read.
        error: json::Error,
    },
    /// A bare JSON array as a result that is not output variables.
    #[error("an array that is not output variables: {0}")]
    NotOutputVariables(json::Error),
    /// A result that is neither an `OperationResult` nor an array of variables.
    #[error("not an OperationResult nor an array of variables: {0}")]
    NotAResult(Box<PayloadError>),
    /// A JSON object without any member that makes it a result (a server's `{"handleId"}`
    /// answer to `invoke-async` is one).
    #[error("an object without executionState, success or arguments")]
    NoResultMembers,
}

/// Part 2's `ExecutionState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecutionState {
    /// Waiting to start.
    Initiated,
    /// Started, not finished.
    Running,
    /// Finished as planned.
    Completed,
    /// Canceled before it finished.
    Canceled,
    /// Finished with an error.
    Failed,
    /// Did not finish within its timeout.
    Timeout,
}

impl ExecutionState {
    /// Whether the invocation ended (any state but `Initiated` and `Running`).
    pub fn is_finished(self) -> bool {
        !matches!(self, Self::Initiated | Self::Running)
    }
}

/// Part 2's `OperationRequest` (or its value-only form, read against the operation's
/// declared variables).
#[derive(Debug, Clone)]
pub struct OperationRequest {
    /// `inputArguments`.
    pub input: Vec<OperationVariable>,
    /// `inoutputArguments`.
    pub inoutput: Vec<OperationVariable>,
    /// `clientTimeoutDuration`, if given.
    pub timeout: Option<Duration>,
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
    /// An empty (or blank) body is a request without arguments; `timeout_required` makes a
    /// missing `clientTimeoutDuration` an error (as the asynchronous requests' schemas do).
    pub fn read(
        body: &[u8],
        declared: Option<&Operation>,
        version: Version,
        timeout_required: bool,
    ) -> Result<Self, PayloadError> {
        let body = if body.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            body
        };
        let wire: RequestWire =
            serde_json::from_value(value_only::from_slice(body)?).map_err(PayloadError::Shape)?;
        let timeout = match &wire.client_timeout_duration {
            Some(text) => {
                Some(xs_duration(text).ok_or_else(|| PayloadError::Timeout(text.clone()))?)
            }
            None if timeout_required => return Err(PayloadError::TimeoutRequired),
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
                variables(wire.input_arguments, "inputArguments", version)?,
                variables(wire.inoutput_arguments, "inoutputArguments", version)?,
            ),
        };
        Ok(Self {
            input,
            inoutput,
            timeout,
        })
    }

    /// The request as JSON (the full form), with `timeout` as its `clientTimeoutDuration`:
    /// what an operation's delegate receives.
    pub fn to_json(&self, timeout: Duration) -> Vec<u8> {
        let mut out = br#"{"inputArguments":"#.to_vec();
        out.extend(json::to_vec(&self.input));
        out.extend(br#","inoutputArguments":"#);
        out.extend(json::to_vec(&self.inoutput));
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

/// Operation variables in the full JSON (the strict reader, in `version`).
fn variables(
    value: Option<Value>,
    member: &'static str,
    version: Version,
) -> Result<Vec<OperationVariable>, PayloadError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    json::from_slice_as(value.to_string().as_bytes(), version)
        .map_err(|error| PayloadError::Variables { member, error })
}

/// Value-only arguments: each declared variable whose idShort the object names, with the
/// value given (as BaSyx Java reads them); an idShort the operation does not declare is an error.
fn from_values(
    values: Option<Value>,
    declared: Option<&[OperationVariable]>,
    kind: &'static str,
) -> Result<Vec<OperationVariable>, PayloadError> {
    let values = match values {
        None => return Ok(Vec::new()),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(PayloadError::NotAnObject(kind)),
    };
    let declared = declared.unwrap_or_default();
    if let Some(unknown) = values.keys().find(|key| {
        !declared
            .iter()
            .any(|v| v.value.id_short() == Some(key.as_str()))
    }) {
        return Err(PayloadError::Undeclared {
            kind,
            name: unknown.clone(),
        });
    }
    let mut arguments = Vec::new();
    for variable in declared {
        let Some(value) = variable.value.id_short().and_then(|name| values.get(name)) else {
            continue;
        };
        let mut variable = variable.clone();
        value_only::apply(&mut variable.value, value)
            .map_err(|error| PayloadError::Value { kind, error })?;
        arguments.push(variable);
    }
    Ok(arguments)
}

/// Part 2's `OperationResult`: the state, the messages (Part 2 `Message`s) and the arguments.
#[derive(Debug, Clone)]
pub struct OperationResult {
    /// `executionState`.
    pub state: ExecutionState,
    /// `success`.
    pub success: bool,
    /// `messages`: Part 2 `Message` objects, as JSON.
    pub messages: Vec<Value>,
    /// `outputArguments`.
    pub output: Vec<OperationVariable>,
    /// `inoutputArguments`.
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
    /// A result without arguments in `state`, with one message saying why (`text`), stamped
    /// `timestamp` (an `xs:dateTime`): an `Info` message while the state is `Initiated` or
    /// `Running`, an `Error` otherwise; `success` is false.
    pub fn ended(state: ExecutionState, text: &str, timestamp: &str) -> Self {
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

    /// Reads an `OperationResult`, or a bare array of output variables (as BaSyx delegates
    /// answer: a completed, successful result). Members it does not know are ignored; an
    /// object needs one of `executionState`, `success` or the arguments to be a result.
    pub fn read(body: &[u8], version: Version) -> Result<Self, PayloadError> {
        if body.trim_ascii_start().starts_with(b"[") {
            let output =
                json::from_slice_as(body, version).map_err(PayloadError::NotOutputVariables)?;
            return Ok(Self {
                state: ExecutionState::Completed,
                success: true,
                messages: Vec::new(),
                output,
                inoutput: Vec::new(),
            });
        }
        let wire: ResultWire = value_only::from_slice(body)
            .map_err(PayloadError::Json)
            .and_then(|v| serde_json::from_value(v).map_err(PayloadError::Shape))
            .map_err(|e| PayloadError::NotAResult(Box::new(e)))?;
        // Any JSON object is no result: one of these says it is (a server's `{"handleId"}`
        // answer to an `invoke-async` is not).
        if wire.execution_state.is_none()
            && wire.success.is_none()
            && wire.output_arguments.is_none()
            && wire.inoutput_arguments.is_none()
        {
            return Err(PayloadError::NoResultMembers);
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

    /// `OperationResult` (or, with `value_only`, `OperationResultValueOnly`) as JSON.
    pub fn to_json(&self, value_only: bool) -> Vec<u8> {
        if value_only {
            let mut result = self.base();
            result["outputArguments"] = values(&self.output);
            result["inoutputArguments"] = values(&self.inoutput);
            return result.to_string().into_bytes();
        }
        // The arguments are written by the JSON writer, spliced into the base object.
        let mut out = self.base().to_string().into_bytes();
        out.pop();
        out.extend(br#","outputArguments":"#);
        out.extend(json::to_vec(&self.output));
        out.extend(br#","inoutputArguments":"#);
        out.extend(json::to_vec(&self.inoutput));
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

#[cfg(test)]
mod tests {
    use super::*;

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
