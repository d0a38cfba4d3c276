use serde::Deserialize;
use serde_json::{Map, Value};

use crate::description::{DescriptionError, SyncDescription};
use crate::jsonpath::{JsonPath, JsonPathError};
use crate::mustache::{MustacheError, MustacheTemplate};
use crate::python_format::{FormatError, PythonTemplate};

/// Why an [`Evaluation`] gave no result: the error of the path or template, which is also the
/// [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvaluationError {
    /// `jsonpath`: the path is refused, or its evaluation failed.
    #[error("{0}")]
    JsonPath(#[source] JsonPathError),
    /// `format`: the template is refused, or its rendering raised.
    #[error("{0}")]
    Format(#[source] FormatError),
    /// `mustache`, `json_mustache`: the template is refused, or its rendering passed a limit.
    #[error("{0}")]
    Mustache(#[source] MustacheError),
    /// `json_mustache`: the rendered text is not JSON.
    #[error("the rendered text is not JSON: {source}: {text}")]
    NotJson {
        /// The rendered text.
        text: String,
        /// Where and why it does not parse.
        #[source]
        source: serde_json::Error,
    },
}

/// One expression to evaluate exactly as the engine evaluates it, as users send it:
/// `{"kind": ..., ...}`. For people writing synchronization descriptions (the reference
/// server's `POST /sdts/evaluate`; [`DryRunRequest`] runs a whole description, its
/// `POST /sdts/dry-run`).
///
/// ```
/// use sdt_core::Evaluation;
/// use serde_json::json;
///
/// let path: Evaluation = serde_json::from_value(json!({
///     "kind": "jsonpath", "doc": [{"value": {"state": {"on": true}}}], "path": "$[0].value.state.on"}))?;
/// assert_eq!(path.run()?, json!([true]));
/// let format: Evaluation = serde_json::from_value(json!({
///     "kind": "format", "template": "{on}", "vars": {"on": true}}))?;
/// assert_eq!(format.run()?, json!("True"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Evaluation {
    /// Every match of `path` in `doc`, in order.
    Jsonpath {
        /// The document, as a platform would answer.
        doc: Value,
        /// The JSONPath, in the jsonpath-ng dialect or RFC 9535 as in an `iot_attribute`.
        path: String,
    },
    /// CPython `str.format(**vars)`.
    Format {
        /// The Python format template.
        template: String,
        /// The keyword arguments by name (default: none).
        #[serde(default)]
        vars: Map<String, Value>,
    },
    /// Mustache over `vars`: a string.
    Mustache {
        /// The mustache template.
        template: String,
        /// The context: the variables by name (default: none).
        #[serde(default)]
        vars: Map<String, Value>,
    },
    /// Mustache over `vars`, the result parsed as JSON.
    JsonMustache {
        /// The mustache template.
        template: String,
        /// The context: the variables by name (default: none).
        #[serde(default)]
        vars: Map<String, Value>,
    },
}

impl Evaluation {
    /// The result (an array of matches for `jsonpath`), or what is wrong, in words.
    pub fn run(&self) -> Result<Value, EvaluationError> {
        match self {
            Evaluation::Jsonpath { doc, path } => {
                let path = JsonPath::parse(path).map_err(EvaluationError::JsonPath)?;
                Ok(Value::Array(
                    path.query(doc).map_err(EvaluationError::JsonPath)?,
                ))
            }
            Evaluation::Format { template, vars } => PythonTemplate::parse(template)
                .and_then(|t| t.render(vars))
                .map(Value::String)
                .map_err(EvaluationError::Format),
            Evaluation::Mustache { template, vars } => MustacheTemplate::parse(template)
                .and_then(|t| t.render(&Value::Object(vars.clone())))
                .map(Value::String)
                .map_err(EvaluationError::Mustache),
            Evaluation::JsonMustache { template, vars } => {
                let text = MustacheTemplate::parse(template)
                    .and_then(|t| t.render(&Value::Object(vars.clone())))
                    .map_err(EvaluationError::Mustache)?;
                serde_json::from_str(&text)
                    .map_err(|source| EvaluationError::NotJson { text, source })
            }
        }
    }
}

/// A dry run as users ask for one: a description and a sample answer of the platform's data
/// URL (`sample`, alias `payload`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DryRunRequest {
    /// The synchronization description to try.
    pub description: SyncDescription,
    /// An answer of the platform's data URL, as the engine would fetch it.
    #[serde(alias = "payload")]
    pub sample: Value,
}

impl DryRunRequest {
    /// What the sample gives, as users are shown it: `variables`, rendered `values`, and the
    /// `skipped` properties each with why in words; nothing is written anywhere.
    pub fn run(&self) -> Result<Value, DescriptionError> {
        let run = self.description.compile()?.dry_run(&self.sample);
        let skipped: Map<String, Value> = run
            .skipped
            .iter()
            .map(|(name, why)| (name.clone(), Value::String(why.to_string())))
            .collect();
        Ok(
            serde_json::json!({"variables": run.variables, "values": run.values, "skipped": skipped}),
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(request: Value) -> Result<Value, Box<dyn std::error::Error>> {
        Ok(serde_json::from_value::<Evaluation>(request)?.run()?)
    }

    #[test]
    fn each_kind_evaluates_like_the_engine_and_failures_say_why()
    -> Result<(), Box<dyn std::error::Error>> {
        let doc = json!([{"value": {"addr": "3ef8", "position": [1.5, 2, 3]}}, {"value": {"addr": "aaaa", "position": [9, 9, 9]}}]);
        assert_eq!(
            run(
                json!({"kind": "jsonpath", "doc": doc, "path": "$[?value.addr='3ef8'].value.position[0]"})
            )?,
            json!([1.5])
        );
        assert_eq!(
            run(json!({"kind": "format", "template": "{{\"coordX\":{x}}}", "vars": {"x": 1.5}}))?,
            json!("{\"coordX\":1.5}")
        );
        assert_eq!(
            run(json!({"kind": "mustache", "template": "{\"on\":{{on}}}", "vars": {"on": false}}))?,
            json!("{\"on\":false}")
        );
        assert_eq!(
            run(
                json!({"kind": "json_mustache", "template": "{\"bri\":{{bri}}}", "vars": {"bri": 254}})
            )?,
            json!({"bri": 254})
        );
        assert!(run(json!({"kind": "format", "template": "{missing}", "vars": {}})).is_err());
        assert!(run(json!({"kind": "jsonpath", "doc": {}, "path": "$[?"})).is_err());
        assert!(
            run(json!({"kind": "json_mustache", "template": "{{x}}", "vars": {"x": "not json"}}))
                .is_err()
        );
        assert!(run(json!({"kind": "sql", "template": ""})).is_err());
        // The cause stays reachable as the source.
        let not_json: Evaluation = serde_json::from_value(
            json!({"kind": "json_mustache", "template": "{{x}}", "vars": {"x": "not json"}}),
        )?;
        let error = not_json.run().err().ok_or("not refused")?;
        assert!(
            std::error::Error::source(&error).is_some_and(|s| s.is::<serde_json::Error>()),
            "{error:?}"
        );
        Ok(())
    }

    #[test]
    fn a_dry_run_shows_variables_values_and_why_a_property_was_skipped()
    -> Result<(), Box<dyn std::error::Error>> {
        let request: DryRunRequest = serde_json::from_value(json!({
            "description": {
                "iot_attributes": [{"name": "x", "value": "$.x"}, {"name": "y", "value": "$.y"}],
                "thingin_attributes": [
                    {"name": "X", "value": "{x}"},
                    {"name": "Y", "value": "{y}"}]},
            "payload": {"x": 1}
        }))?;
        let answer = request.run()?;
        assert_eq!(answer["variables"], json!({"x": 1}));
        assert_eq!(answer["values"], json!({"X": "1"}));
        assert!(answer["skipped"]["Y"].is_string(), "{answer}");
        Ok(())
    }
}
