use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::jsonpath::{JsonPath, JsonPathError};
use crate::mustache::{MustacheError, MustacheTemplate};
use crate::python_format::{FormatError, PythonTemplate};

/// Synchronization descriptions as users write them (`iot_attributes`, `thingin_attributes`),
/// checked and compiled once: paths parsed, templates parsed, errors naming the attribute.
/// [`CompiledDescription::dry_run`] shows what a platform answer would give.
///
/// ```
/// use sdt_core::SyncDescription;
/// use serde_json::json;
///
/// let description: SyncDescription = serde_json::from_value(json!({
///     "iot_attributes": [{"name": "on", "value": "$[0].value.state.on"}],
///     "thingin_attributes": [{"name": "on", "value": "{on}", "frequency_sec": 60}]
/// }))?;
/// let compiled = description.compile()?;
/// let run = compiled.dry_run(&json!([{"value": {"state": {"on": true}}}]));
/// assert_eq!(run.variables["on"], json!(true));
/// assert_eq!(run.values["on"], json!("True"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncDescription {
    /// The variables, each read from the platform's answer by a JSONPath.
    pub iot_attributes: Vec<IotAttribute>,
    /// The twin's data properties, each rendered from the variables.
    pub thingin_attributes: Vec<ThinginAttribute>,
}

/// A variable extracted from the platform's answer by a JSONPath.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IotAttribute {
    /// The variable's name, as templates use it (`{x}`, `{{x}}`); unique and not empty.
    pub name: String,
    /// The JSONPath (jsonpath-ng ext dialect or RFC 9535).
    pub value: String,
}

/// A data property of the twin, rendered from the variables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThinginAttribute {
    /// The property's name: an idShort path names an element of the twin's submodel, any
    /// other name (`DT:data`) an extension of it; unique and not empty.
    pub name: String,
    /// The template the property's value is rendered from, read as `value_template` says.
    pub value: String,
    /// How `value` is rendered (default: Python `str.format`).
    #[serde(default)]
    pub value_template: ValueTemplate,
    /// Seconds between polls; 0: never polled.
    #[serde(default)]
    pub frequency_sec: u64,
    /// Sent to the platform when the property changes on the twin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_value: Option<Value>,
}

/// How `value` is rendered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueTemplate {
    /// `value` names one variable; its JSON value is the property's.
    Direct,
    /// CPython `str.format(**variables)`.
    #[default]
    Python,
    /// Mustache; the result is a string.
    Mustache,
    /// Mustache; the result is parsed as JSON.
    JsonMustache,
}

/// Why a description is refused, naming the attribute.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{attribute}: {problem}")]
pub struct DescriptionError {
    /// `iot_attributes[2] (x)` or `thingin_attributes[0] (DT:data)`.
    pub attribute: String,
    /// What is wrong with it.
    #[source]
    pub problem: DescriptionProblem,
}

/// What is wrong with an attribute of a description; a path's or a template's error is the
/// [`std::error::Error::source`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DescriptionProblem {
    /// The attribute's `name` is empty.
    #[error("the name is empty")]
    EmptyName,
    /// Another attribute of the same list has this `name`.
    #[error("the name is used twice")]
    DuplicateName,
    /// The `value` of an iot_attribute is not a path.
    #[error("{}", .0.reason())]
    Path(#[source] JsonPathError),
    /// The `value` of a `python` thingin_attribute is not a Python format template.
    #[error("{0}")]
    Python(#[source] FormatError),
    /// The `value` of a `mustache` or `json_mustache` thingin_attribute is not a mustache
    /// template.
    #[error("{0}")]
    Mustache(#[source] MustacheError),
    /// The template uses a variable (named here) that no iot_attribute defines; for
    /// `direct`, `value` is not the name of one.
    #[error("the template uses {0:?}, which no iot_attribute defines")]
    Undefined(String),
    /// A string of `command_value` (at the JSON pointer) is not a mustache template.
    #[error("command_value: {pointer}: {source}")]
    Command {
        /// The JSON pointer (RFC 6901) of the string in `command_value`.
        pointer: String,
        /// Why it is not a template.
        #[source]
        source: MustacheError,
    },
}

/// A description ready to run.
#[derive(Debug)]
pub struct CompiledDescription {
    variables: Vec<(String, JsonPath)>,
    properties: Vec<CompiledProperty>,
}

#[derive(Debug)]
struct CompiledProperty {
    attribute: ThinginAttribute,
    template: Renderer,
    /// The variables the template uses.
    uses: Vec<String>,
    /// Every string of `command_value`, parsed as mustache, by its JSON pointer.
    command: Option<Vec<(String, MustacheTemplate)>>,
}

#[derive(Debug)]
enum Renderer {
    Direct(String),
    Python(PythonTemplate),
    Mustache(MustacheTemplate, bool),
}

/// Why a property was not rendered this time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// A variable the property uses (named here) has no value: its path matched nothing in
    /// this answer.
    #[error("variable {0:?} has no value (its path matched nothing)")]
    Unset(String),
    /// A variable the property uses has no value because evaluating its path failed (it passed
    /// an evaluation limit, [`crate::jsonpath::MAX_WORK`] or
    /// [`crate::jsonpath::MAX_RESULT_BYTES`]).
    #[error("variable {variable:?} has no value: {error}")]
    PathFailed {
        /// The variable's name.
        variable: String,
        /// Why its path failed.
        #[source]
        error: JsonPathError,
    },
    /// The Python format template could not be rendered.
    #[error("{0}")]
    Python(#[source] FormatError),
    /// The mustache template could not be rendered (a rendering limit).
    #[error("{0}")]
    Mustache(#[source] MustacheError),
    /// A template of `command_value` (at the JSON pointer) could not be rendered.
    #[error("{pointer}: {source}")]
    Command {
        /// The JSON pointer (RFC 6901) of the template in `command_value`.
        pointer: String,
        /// Why it could not be rendered.
        #[source]
        source: MustacheError,
    },
    /// A `json_mustache` property rendered a text (held here) that is not JSON.
    #[error("the rendered text is not JSON: {0}")]
    NotJson(String),
}

/// What a platform answer gives: the variables, the rendered values, and what was skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct DryRun {
    /// The variables by name: one match → its value; several → an array of them in order;
    /// none → absent.
    pub variables: Map<String, Value>,
    /// The rendered value of each property that could be rendered, by property name.
    pub values: BTreeMap<String, Value>,
    /// The properties that were not rendered, by name, and why (the engine would skip them
    /// this tick).
    pub skipped: BTreeMap<String, RenderError>,
    /// The variables whose path could not be evaluated, and why (a limit passed).
    pub failed: BTreeMap<String, JsonPathError>,
}

/// The variables of a platform answer, and the ones whose path failed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    /// One match → its value; several → an array of them in order; none → absent.
    pub variables: Map<String, Value>,
    /// Variables whose path could not be evaluated (it passed [`crate::jsonpath::MAX_WORK`] or
    /// [`crate::jsonpath::MAX_RESULT_BYTES`]), and why; they are absent from `variables`.
    pub failed: BTreeMap<String, JsonPathError>,
}

impl SyncDescription {
    /// Checks every attribute and compiles paths and templates.
    pub fn compile(&self) -> Result<CompiledDescription, DescriptionError> {
        let mut variables = Vec::new();
        for (i, attribute) in self.iot_attributes.iter().enumerate() {
            let fail = |problem: DescriptionProblem| DescriptionError {
                attribute: format!("iot_attributes[{i}] ({})", attribute.name),
                problem,
            };
            if attribute.name.is_empty() {
                return Err(fail(DescriptionProblem::EmptyName));
            }
            if variables.iter().any(|(name, _)| name == &attribute.name) {
                return Err(fail(DescriptionProblem::DuplicateName));
            }
            let path =
                JsonPath::parse(&attribute.value).map_err(|e| fail(DescriptionProblem::Path(e)))?;
            variables.push((attribute.name.clone(), path));
        }
        let mut properties: Vec<CompiledProperty> = Vec::new();
        for (i, attribute) in self.thingin_attributes.iter().enumerate() {
            let fail = |problem: DescriptionProblem| DescriptionError {
                attribute: format!("thingin_attributes[{i}] ({})", attribute.name),
                problem,
            };
            if attribute.name.is_empty() {
                return Err(fail(DescriptionProblem::EmptyName));
            }
            if properties
                .iter()
                .any(|p| p.attribute.name == attribute.name)
            {
                return Err(fail(DescriptionProblem::DuplicateName));
            }
            let (template, uses) = match attribute.value_template {
                ValueTemplate::Direct => (
                    Renderer::Direct(attribute.value.clone()),
                    vec![attribute.value.clone()],
                ),
                ValueTemplate::Python => {
                    let template = PythonTemplate::parse(&attribute.value)
                        .map_err(|e| fail(DescriptionProblem::Python(e)))?;
                    let uses = template
                        .variables()
                        .into_iter()
                        .map(str::to_owned)
                        .collect();
                    (Renderer::Python(template), uses)
                }
                ValueTemplate::Mustache | ValueTemplate::JsonMustache => {
                    let template = MustacheTemplate::parse(&attribute.value)
                        .map_err(|e| fail(DescriptionProblem::Mustache(e)))?;
                    let uses = template.variables().map(str::to_owned).collect();
                    (
                        Renderer::Mustache(
                            template,
                            attribute.value_template == ValueTemplate::JsonMustache,
                        ),
                        uses,
                    )
                }
            };
            for name in &uses {
                if !variables.iter().any(|(v, _)| v == name) {
                    return Err(fail(DescriptionProblem::Undefined(name.clone())));
                }
            }
            let command = match &attribute.command_value {
                None => None,
                Some(value) => {
                    let mut templates = Vec::new();
                    collect_strings(value, String::new(), &mut templates).map_err(fail)?;
                    Some(templates)
                }
            };
            properties.push(CompiledProperty {
                attribute: attribute.clone(),
                template,
                uses,
                command,
            });
        }
        Ok(CompiledDescription {
            variables,
            properties,
        })
    }
}

fn collect_strings(
    value: &Value,
    pointer: String,
    templates: &mut Vec<(String, MustacheTemplate)>,
) -> Result<(), DescriptionProblem> {
    match value {
        Value::String(text) => {
            let template = match MustacheTemplate::parse(text) {
                Ok(template) => template,
                Err(source) => return Err(DescriptionProblem::Command { pointer, source }),
            };
            templates.push((pointer, template));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_strings(item, format!("{pointer}/{i}"), templates)?;
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let escaped = key.replace('~', "~0").replace('/', "~1");
                collect_strings(item, format!("{pointer}/{escaped}"), templates)?;
            }
        }
        _ => {}
    }
    Ok(())
}

impl CompiledDescription {
    /// The variables of a platform answer: one match → its value; several → an array of them
    /// in order; none → unset (absent). A variable whose path fails (a limit) is unset too;
    /// [`CompiledDescription::extract`] says which and why.
    pub fn variables(&self, payload: &Value) -> Map<String, Value> {
        self.extract(payload).variables
    }

    /// The variables of a platform answer, and the ones whose path could not be evaluated.
    pub fn extract(&self, payload: &Value) -> Extracted {
        let mut extracted = Extracted::default();
        for (name, path) in &self.variables {
            match path.query(payload) {
                Err(error) => {
                    extracted.failed.insert(name.clone(), error);
                }
                Ok(mut found) => match found.len() {
                    0 => {}
                    1 => {
                        extracted
                            .variables
                            .insert(name.clone(), found.swap_remove(0));
                    }
                    _ => {
                        extracted
                            .variables
                            .insert(name.clone(), Value::Array(found));
                    }
                },
            }
        }
        extracted
    }

    /// The names and polling periods of the properties (0: never polled).
    pub fn properties(&self) -> impl Iterator<Item = (&str, u64)> {
        self.properties
            .iter()
            .map(|p| (p.attribute.name.as_str(), p.attribute.frequency_sec))
    }

    /// Renders one property from the variables.
    pub fn render(
        &self,
        property: &str,
        variables: &Map<String, Value>,
    ) -> Option<Result<Value, RenderError>> {
        let compiled = self
            .properties
            .iter()
            .find(|p| p.attribute.name == property)?;
        Some(render_property(compiled, variables))
    }

    /// Renders one property from extracted variables: like [`CompiledDescription::render`], but
    /// a variable whose path failed is reported as [`RenderError::PathFailed`].
    pub fn render_extracted(
        &self,
        property: &str,
        extracted: &Extracted,
    ) -> Option<Result<Value, RenderError>> {
        let compiled = self
            .properties
            .iter()
            .find(|p| p.attribute.name == property)?;
        Some(render_checked(compiled, extracted))
    }

    /// Renders a property's `command_value` (every string a mustache template) over the
    /// variables; `None` if the property has none, an error if a template passes a rendering
    /// limit ([`crate::mustache::MAX_WORK`], [`crate::mustache::MAX_OUTPUT`]).
    pub fn render_command(
        &self,
        property: &str,
        variables: &Map<String, Value>,
    ) -> Option<Result<Value, RenderError>> {
        let compiled = self
            .properties
            .iter()
            .find(|p| p.attribute.name == property)?;
        let mut command = compiled.attribute.command_value.clone()?;
        let context = Value::Object(variables.clone());
        for (pointer, template) in compiled.command.iter().flatten() {
            if let Some(slot) = command.pointer_mut(pointer) {
                match template.render(&context) {
                    Ok(text) => *slot = Value::String(text),
                    Err(error) => {
                        return Some(Err(RenderError::Command {
                            pointer: pointer.clone(),
                            source: error,
                        }));
                    }
                }
            }
        }
        Some(Ok(command))
    }

    /// Variables and rendered values of a platform answer, for users testing a description.
    pub fn dry_run(&self, payload: &Value) -> DryRun {
        let extracted = self.extract(payload);
        let mut values = BTreeMap::new();
        let mut skipped = BTreeMap::new();
        for property in &self.properties {
            match render_checked(property, &extracted) {
                Ok(value) => {
                    values.insert(property.attribute.name.clone(), value);
                }
                Err(error) => {
                    skipped.insert(property.attribute.name.clone(), error);
                }
            }
        }
        DryRun {
            variables: extracted.variables,
            values,
            skipped,
            failed: extracted.failed,
        }
    }
}

fn render_checked(
    property: &CompiledProperty,
    extracted: &Extracted,
) -> Result<Value, RenderError> {
    if let Some((variable, error)) = property
        .uses
        .iter()
        .find_map(|name| extracted.failed.get_key_value(name.as_str()))
    {
        return Err(RenderError::PathFailed {
            variable: variable.clone(),
            error: error.clone(),
        });
    }
    render_property(property, &extracted.variables)
}

fn render_property(
    property: &CompiledProperty,
    variables: &Map<String, Value>,
) -> Result<Value, RenderError> {
    if let Some(unset) = property
        .uses
        .iter()
        .find(|name| !variables.contains_key(name.as_str()))
    {
        return Err(RenderError::Unset(unset.clone()));
    }
    match &property.template {
        Renderer::Direct(name) => Ok(variables.get(name).cloned().unwrap_or(Value::Null)),
        Renderer::Python(template) => template
            .render(variables)
            .map(Value::String)
            .map_err(RenderError::Python),
        Renderer::Mustache(template, json) => {
            let text = template
                .render(&Value::Object(variables.clone()))
                .map_err(RenderError::Mustache)?;
            if *json {
                serde_json::from_str(&text)
                    .map_err(|e| RenderError::NotJson(format!("{e}: {text}")))
            } else {
                Ok(Value::String(text))
            }
        }
    }
}
