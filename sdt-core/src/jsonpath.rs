//! JSONPath in the dialect synchronization descriptions are written in: jsonpath-ng's "ext"
//! parser (bare paths in filters, `=`, `&`, `=~`, `` `len` ``…), and plain RFC 9535. Paths are
//! translated to RFC 9535 once, at load, and evaluated by `jsonpath-rust`; the extension steps
//! RFC 9535 cannot express (`` `len` ``, `` `keys` ``, `` `sorted` ``, `` `str()` ``) are applied
//! by this module to what the RFC part found.
//!
//! ```
//! use sdt_core::jsonpath::JsonPath;
//! use serde_json::json;
//!
//! let path = JsonPath::parse("$[?value.addr='3ef8'].value.position[0]")?;
//! let readings = json!([{"value": {"addr": "3ef8", "position": [1.5, 2, 3]}}]);
//! assert_eq!(path.query(&readings), vec![json!(1.5)]);
//! # Ok::<(), sdt_core::jsonpath::JsonPathError>(())
//! ```

use jsonpath_rust::parser::model::JpQuery;
use serde_json::Value;

use crate::limits::{Limit, LimitExceeded};

/// A parsed path.
#[derive(Debug, Clone)]
pub struct JsonPath {
    source: String,
    /// The RFC 9535 text the path was translated to.
    rfc: String,
    query: JpQuery,
    /// When the path has child segments with several selectors (`['a','b']`), the path in
    /// stages: jsonpath-rust yields such segments selector by selector, RFC 9535 (and
    /// jsonpath-ng) node by node.
    stages: Option<Vec<Stage>>,
    extensions: Vec<Extension>,
}

#[derive(Debug, Clone)]
enum Stage {
    /// A query run from each current node.
    Query(JpQuery),
    /// Each selector run from each current node, node by node.
    Union(Vec<JpQuery>),
}

/// A jsonpath-ng extension step applied after the RFC 9535 part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Extension {
    Len,
    Keys,
    Sorted,
    Str,
}

/// The longest path accepted, in bytes (checked before parsing).
pub const MAX_LENGTH: usize = 4096;

/// The deepest nesting of `[` and `(` accepted in a path (outside quoted strings; checked
/// before parsing). A filter `[?(@.a)]` nests 2 deep.
pub const MAX_DEPTH: usize = 64;

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonPathError {
    /// Not a path of either dialect.
    #[error("invalid JSONPath {path:?}: {message}")]
    Invalid { path: String, message: String },
    /// Longer than [`MAX_LENGTH`] or nested deeper than [`MAX_DEPTH`]; refused unparsed.
    #[error(transparent)]
    Limit(#[from] LimitExceeded),
}

impl JsonPathError {
    /// What is wrong, without the path (for messages that name the path another way).
    pub fn reason(&self) -> String {
        match self {
            JsonPathError::Invalid { message, .. } => message.clone(),
            JsonPathError::Limit(exceeded) => exceeded.to_string(),
        }
    }
}

/// Refuses a path over [`MAX_LENGTH`] or [`MAX_DEPTH`] in one pass over its bytes, without
/// parsing it: the translator and jsonpath-rust's parser recurse once per nesting level, and a
/// path nested thousands deep overflowed the stack. Depth is reported first: it names what is
/// wrong with a deeply nested path that is also too long.
fn check_limits(path: &str) -> Result<(), LimitExceeded> {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut quote = None;
    let mut escaped = false;
    for byte in path.bytes() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if byte == b'\\' {
                    escaped = true;
                } else if byte == q {
                    quote = None;
                }
            }
            None => match byte {
                b'\'' | b'"' => quote = Some(byte),
                b'[' | b'(' => {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
                b']' | b')' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
    }
    if deepest > MAX_DEPTH {
        return Err(LimitExceeded::new(Limit::JsonPathDepth, Some(deepest)));
    }
    if path.len() > MAX_LENGTH {
        return Err(LimitExceeded::new(Limit::JsonPathLength, Some(path.len())));
    }
    Ok(())
}

impl JsonPath {
    /// Parses a path in the jsonpath-ng ext dialect or in RFC 9535. A path longer than
    /// [`MAX_LENGTH`] or nested deeper than [`MAX_DEPTH`] is refused before parsing.
    pub fn parse(path: &str) -> Result<Self, JsonPathError> {
        check_limits(path)?;
        let fail = |message: String| JsonPathError::Invalid {
            path: path.to_owned(),
            message,
        };
        let (rfc, extensions) = translate(path.trim()).map_err(fail)?;
        let query = jsonpath_rust::parser::parse_json_path(&rfc)
            .map_err(|e| fail(format!("{e} (as RFC 9535: {rfc})")))?;
        let stages = stages(&rfc);
        Ok(Self {
            source: path.to_owned(),
            rfc,
            query,
            stages,
            extensions,
        })
    }

    /// Parses a path that must be plain RFC 9535 (no translation), with the same limits as
    /// [`JsonPath::parse`].
    pub fn parse_rfc9535(path: &str) -> Result<Self, JsonPathError> {
        check_limits(path)?;
        let query =
            jsonpath_rust::parser::parse_json_path(path).map_err(|e| JsonPathError::Invalid {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
        Ok(Self {
            source: path.to_owned(),
            rfc: path.to_owned(),
            stages: stages(path),
            query,
            extensions: Vec::new(),
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The RFC 9535 path it was translated to.
    pub fn rfc9535(&self) -> &str {
        &self.rfc
    }

    /// The values the path selects, in order.
    pub fn query(&self, document: &Value) -> Vec<Value> {
        let found = match &self.stages {
            None => run(&self.query, document),
            Some(stages) => {
                stages
                    .iter()
                    .fold(vec![document.clone()], |nodes, stage| match stage {
                        Stage::Query(query) => {
                            nodes.iter().flat_map(|node| run(query, node)).collect()
                        }
                        Stage::Union(selectors) => nodes
                            .iter()
                            .flat_map(|node| {
                                selectors
                                    .iter()
                                    .flat_map(move |selector| run(selector, node))
                            })
                            .collect(),
                    })
            }
        };
        self.extensions.iter().fold(found, |values, extension| {
            values
                .into_iter()
                .filter_map(|value| apply(*extension, value))
                .flatten()
                .collect()
        })
    }
}

fn run(query: &JpQuery, node: &Value) -> Vec<Value> {
    jsonpath_rust::query::js_path_process(query, node)
        .map(|refs| refs.into_iter().map(|r| r.val().clone()).collect())
        .unwrap_or_default()
}

/// Splits an RFC 9535 path at its child segments with several selectors; `None` when it has
/// none, or when a later filter refers to the root (`$`), which a stage could not see.
fn stages(rfc: &str) -> Option<Vec<Stage>> {
    let chars: Vec<char> = rfc.chars().collect();
    let mut stages = Vec::new();
    let mut current = String::from("$");
    let mut i = 1;
    let mut split = false;
    while i < chars.len() {
        match chars[i] {
            '\'' | '"' => {
                let (literal, next) = quoted(&chars, i).ok()?;
                current.push_str(&literal);
                i = next;
            }
            '[' => {
                let end = closing_bracket(&chars, i).ok()?;
                let inner: String = chars[i + 1..end].iter().collect();
                let selectors = top_level_commas(&inner)?;
                let descendant = current.ends_with("..");
                if split && inner.starts_with('?') && inner.contains('$') {
                    return None;
                }
                if selectors.len() > 1 && !descendant && !inner.starts_with('?') {
                    stages.push(Stage::Query(
                        jsonpath_rust::parser::parse_json_path(&current).ok()?,
                    ));
                    let union = selectors
                        .iter()
                        .map(|selector| {
                            jsonpath_rust::parser::parse_json_path(&format!("$[{selector}]")).ok()
                        })
                        .collect::<Option<Vec<_>>>()?;
                    stages.push(Stage::Union(union));
                    current = String::from("$");
                    split = true;
                } else {
                    current.push_str(&chars[i..=end].iter().collect::<String>());
                }
                i = end + 1;
            }
            c => {
                current.push(c);
                i += 1;
            }
        }
    }
    if !split {
        return None;
    }
    stages.push(Stage::Query(
        jsonpath_rust::parser::parse_json_path(&current).ok()?,
    ));
    Some(stages)
}

/// The parts of a bracket's content between top-level commas (quotes and brackets skipped).
fn top_level_commas(inner: &str) -> Option<Vec<String>> {
    let chars: Vec<char> = inner.chars().collect();
    let mut parts = Vec::new();
    let mut start = 0;
    let mut depth = 0;
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\'' | '"' => {
                i = quoted(&chars, i).ok()?.1;
                continue;
            }
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(chars[start..i].iter().collect::<String>().trim().to_owned());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(chars[start..].iter().collect::<String>().trim().to_owned());
    Some(parts)
}

/// One extension step on one value: its results (none when it does not apply).
fn apply(extension: Extension, value: Value) -> Option<Vec<Value>> {
    match (extension, value) {
        (Extension::Len, Value::String(s)) => Some(vec![Value::from(s.chars().count())]),
        (Extension::Len, Value::Array(items)) => Some(vec![Value::from(items.len())]),
        (Extension::Len, Value::Object(map)) => Some(vec![Value::from(map.len())]),
        (Extension::Keys, Value::Object(map)) => {
            Some(map.keys().map(|k| Value::String(k.clone())).collect())
        }
        (Extension::Sorted, Value::Array(mut items)) => {
            items.sort_by(compare);
            Some(vec![Value::Array(items)])
        }
        (Extension::Sorted, Value::Object(map)) => {
            let mut keys: Vec<Value> = map.keys().map(|k| Value::String(k.clone())).collect();
            keys.sort_by(compare);
            Some(vec![Value::Array(keys)])
        }
        (Extension::Str, value) => Some(vec![Value::String(crate::python_format::to_str(&value))]),
        _ => None,
    }
}

/// Python's ordering of numbers and of strings (mixed kinds keep their order).
fn compare(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(std::cmp::Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => std::cmp::Ordering::Equal,
    }
}

/// Translates the jsonpath-ng ext dialect into RFC 9535 text, splitting off trailing extension
/// steps. RFC 9535 input passes through unchanged.
fn translate(path: &str) -> Result<(String, Vec<Extension>), String> {
    let chars: Vec<char> = path.chars().collect();
    let mut out = String::with_capacity(path.len() + 8);
    let mut extensions = Vec::new();
    let mut i = 0;
    if !matches!(chars.first(), Some('$' | '@')) {
        // jsonpath-ng reads a path without `$` from the root.
        out.push('$');
        if !chars.is_empty() && !matches!(chars.first(), Some('[' | '.')) {
            out.push('.');
        }
    }
    while i < chars.len() {
        let c = chars[i];
        if !extensions.is_empty() && !c.is_whitespace() {
            if c == '.' && chars.get(i + 1) == Some(&'`') {
                i += 1;
                continue;
            }
            if c != '`' {
                return Err("a path step after an extension step is not supported".into());
            }
        }
        match c {
            '`' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '`')
                    .ok_or("unclosed backtick")?;
                let name: String = chars[i + 1..i + 1 + end].iter().collect();
                extensions.push(match name.as_str() {
                    "len" => Extension::Len,
                    "keys" => Extension::Keys,
                    "sorted" => Extension::Sorted,
                    "str()" => Extension::Str,
                    other => return Err(format!("the extension `{other}` is not supported")),
                });
                if out.ends_with('.') {
                    out.pop();
                }
                i += end + 2;
            }
            '.' if matches!(chars.get(i + 1), Some('\'' | '"')) => {
                // `.'name'`: a quoted member name without brackets.
                let (literal, next) = quoted(&chars, i + 1)?;
                out.push('[');
                out.push_str(&literal);
                out.push(']');
                i = next;
            }
            '\'' | '"' => {
                let (literal, next) = quoted(&chars, i)?;
                out.push_str(&literal);
                i = next;
            }
            '[' if chars.get(i + 1) == Some(&'?') => {
                let end = closing_bracket(&chars, i)?;
                let filter: String = chars[i + 2..end].iter().collect();
                out.push_str("[?");
                out.push_str(&translate_filter(&filter)?);
                out.push(']');
                i = end + 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok((out, extensions))
}

/// A quoted string starting at `start`, returned with its quotes; and the index after it.
fn quoted(chars: &[char], start: usize) -> Result<(String, usize), String> {
    let quote = chars[start];
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            c if c == quote => return Ok((chars[start..=i].iter().collect(), i + 1)),
            _ => i += 1,
        }
    }
    Err("unclosed quote".into())
}

/// The index of the `]` closing the bracket at `open` (quotes and nested brackets skipped).
fn closing_bracket(chars: &[char], open: usize) -> Result<usize, String> {
    let mut depth = 0;
    let mut i = open;
    while i < chars.len() {
        match chars[i] {
            '\'' | '"' => {
                i = quoted(chars, i)?.1;
                continue;
            }
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    Err("unclosed '['".into())
}

const FUNCTIONS: [&str; 5] = ["length", "count", "match", "search", "value"];

/// A filter expression: bare paths become `@.` paths, `=` becomes `==`, `&` `&&`, `|` `||`, and
/// `a =~ 're'` becomes `search(a, 're')`.
fn translate_filter(filter: &str) -> Result<String, String> {
    let chars: Vec<char> = filter.chars().collect();
    let mut out = String::new();
    // Where the last operand starts in `out`, for `=~`.
    let mut operand_start = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' | '"' => {
                operand_start = out.len();
                let (literal, next) = quoted(&chars, i)?;
                out.push_str(&literal);
                i = next;
            }
            '@' | '$' => {
                operand_start = out.len();
                let end = path_end(&chars, i + 1)?;
                let path: String = chars[i..end].iter().collect();
                out.push_str(&translate(&path)?.0);
                i = end;
            }
            '=' if chars.get(i + 1) == Some(&'~') => {
                let operand = out.split_off(operand_start);
                let mut j = i + 2;
                while chars.get(j).is_some_and(|c| c.is_whitespace()) {
                    j += 1;
                }
                if !matches!(chars.get(j), Some('\'' | '"')) {
                    return Err("=~ needs a quoted regular expression".into());
                }
                let (regex, next) = quoted(&chars, j)?;
                out.push_str(&format!("search({}, {regex})", operand.trim()));
                i = next;
            }
            '=' if chars.get(i + 1) == Some(&'=') => {
                out.push_str("==");
                i += 2;
            }
            '=' => {
                out.push_str("==");
                i += 1;
            }
            '!' | '<' | '>' if chars.get(i + 1) == Some(&'=') => {
                out.push(c);
                out.push('=');
                i += 2;
            }
            '&' | '|' => {
                out.push(c);
                out.push(c);
                i += if chars.get(i + 1) == Some(&c) { 2 } else { 1 };
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut end = i;
                while chars
                    .get(end)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
                {
                    end += 1;
                }
                let word: String = chars[i..end].iter().collect();
                let call = chars.get(end) == Some(&'(');
                if matches!(word.as_str(), "true" | "false" | "null")
                    || (call && FUNCTIONS.contains(&word.as_str()))
                {
                    operand_start = out.len();
                    out.push_str(&word);
                    i = end;
                } else {
                    // A bare path relative to the current node.
                    operand_start = out.len();
                    let end = path_end(&chars, i)?;
                    let path: String = chars[i..end].iter().collect();
                    let (translated, _) = translate(&format!("@.{path}"))?;
                    out.push_str(&translated);
                    i = end;
                }
            }
            c if c.is_ascii_digit() || c == '-' => {
                operand_start = out.len();
                out.push(c);
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Where a path (member names, `.`, brackets) starting at `start` ends.
fn path_end(chars: &[char], start: usize) -> Result<usize, String> {
    let mut i = start;
    while i < chars.len() {
        match chars[i] {
            '[' => i = closing_bracket(chars, i)? + 1,
            '.' | '*' | '_' | '-' => i += 1,
            '\'' | '"' if i > start && chars[i - 1] == '.' => i = quoted(chars, i)?.1,
            c if c.is_alphanumeric() => i += 1,
            _ => break,
        }
    }
    Ok(i)
}
