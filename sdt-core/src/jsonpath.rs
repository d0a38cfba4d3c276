//! JSONPath in the dialect synchronization descriptions are written in: jsonpath-ng's "ext"
//! parser (bare paths in filters, `=`, `&`, `=~`, `` `len` ``…), and plain RFC 9535. Paths are
//! translated to RFC 9535 once, at load, parsed by `jsonpath-rust` and evaluated by this module
//! (RFC 9535 semantics, with a work budget); the extension steps RFC 9535 cannot express
//! (`` `len` ``, `` `keys` ``, `` `sorted` ``, `` `str()` ``) are applied by this module to what
//! the RFC part found.
//!
//! ```
//! use sdt_core::jsonpath::JsonPath;
//! use serde_json::json;
//!
//! let path = JsonPath::parse("$[?value.addr='3ef8'].value.position[0]")?;
//! let readings = json!([{"value": {"addr": "3ef8", "position": [1.5, 2, 3]}}]);
//! assert_eq!(path.query(&readings)?, vec![json!(1.5)]);
//! # Ok::<(), sdt_core::jsonpath::JsonPathError>(())
//! ```
//!
//! Evaluation is bounded: a query stops with [`JsonPathError::Limit`] naming [`MAX_WORK`] when
//! it takes too many steps, and its results are measured against [`MAX_RESULT_BYTES`] before
//! any of them is copied out of the document.
//!
//! ```
//! use sdt_core::jsonpath::{JsonPath, JsonPathError};
//! use sdt_core::limits::Limit;
//! use serde_json::json;
//!
//! // 8^10 nodes from a 10-deep array: refused after MAX_WORK steps, not evaluated.
//! let path = JsonPath::parse(&format!("${}", "[0,0,0,0,0,0,0,0]".repeat(10)))?;
//! let mut document = json!(0);
//! for _ in 0..10 {
//!     document = json!([document]);
//! }
//! match path.query(&document) {
//!     Err(JsonPathError::Limit(exceeded)) => assert_eq!(exceeded.limit, Limit::JsonPathWork),
//!     other => panic!("{other:?}"),
//! }
//! # Ok::<(), sdt_core::jsonpath::JsonPathError>(())
//! ```

mod eval;

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
    extensions: Vec<Extension>,
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

/// The most steps one evaluation of a path may take. A step is a node visited or selected by
/// a segment (descendant walks and the queries inside filters included), a child tested by a
/// filter, a node compared (arrays and objects member by member), a function call, or 64
/// bytes of a string compared or measured; `match()` and `search()` cost 4 steps per byte of
/// the string they scan, and 100000 steps plus one per byte of the pattern to compile a
/// pattern. `$..*` on a 1 MB document takes a few hundred thousand steps; in a debug build ten
/// million steps take about half a second.
pub const MAX_WORK: usize = 10_000_000;

/// The most the results of one evaluation may hold, counted as 16 bytes per JSON value plus
/// the bytes of every string and member name (about their size as JSON). Measured before
/// anything is copied out of the document; `` `len` `` results are not counted.
pub const MAX_RESULT_BYTES: usize = 32 << 20;

/// The compiled size of a regular expression in `match()`/`search()`, in bytes (the `regex`
/// crate's `size_limit` and `dfa_size_limit`; its defaults are 10 MiB and 2 MiB). A pattern
/// over it matches nothing, like an invalid pattern: `\p{L}{10}` compiles, `\p{L}{30}` does not.
pub const MAX_REGEX_SIZE: usize = 1 << 20;

/// Bytes each JSON value counts in [`MAX_RESULT_BYTES`], besides its strings.
const RESULT_BYTES_PER_VALUE: usize = 16;

/// Why a path was refused, or its evaluation stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonPathError {
    /// Not a path of either dialect.
    #[error("invalid JSONPath {path:?}: {message}")]
    Invalid { path: String, message: String },
    /// Longer than [`MAX_LENGTH`] or nested deeper than [`MAX_DEPTH`] (refused unparsed), or an
    /// evaluation over [`MAX_WORK`] or [`MAX_RESULT_BYTES`] (stopped as soon as it passed).
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
        let (rfc, extensions) = translate(path.trim()).map_err(|e| fail(e.to_string()))?;
        let query = jsonpath_rust::parser::parse_json_path(&rfc)
            .map_err(|e| fail(format!("{e} (as RFC 9535: {rfc})")))?;
        eval::check_types(&query).map_err(|e| fail(format!("{e} (as RFC 9535: {rfc})")))?;
        Ok(Self {
            source: path.to_owned(),
            rfc,
            query,
            extensions,
        })
    }

    /// Parses a path that must be plain RFC 9535 (no translation), with the same limits as
    /// [`JsonPath::parse`].
    pub fn parse_rfc9535(path: &str) -> Result<Self, JsonPathError> {
        check_limits(path)?;
        let fail = |message: String| JsonPathError::Invalid {
            path: path.to_owned(),
            message,
        };
        let query =
            jsonpath_rust::parser::parse_json_path(path).map_err(|e| fail(e.to_string()))?;
        eval::check_types(&query).map_err(|e| fail(e.to_string()))?;
        Ok(Self {
            source: path.to_owned(),
            rfc: path.to_owned(),
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

    /// The values the path selects, in order (RFC 9535: duplicates kept). Stops with
    /// [`JsonPathError::Limit`] when the evaluation passes [`MAX_WORK`], or when the results
    /// would hold more than [`MAX_RESULT_BYTES`] (measured before anything is copied).
    pub fn query(&self, document: &Value) -> Result<Vec<Value>, JsonPathError> {
        let found = eval::evaluate(&self.query, document)?;
        let Some((first, rest)) = self.extensions.split_first() else {
            let mut budget = MAX_RESULT_BYTES;
            for node in &found {
                measure_result(node, &mut budget)?;
            }
            return Ok(found.into_iter().cloned().collect());
        };
        if *first != Extension::Len {
            let mut budget = MAX_RESULT_BYTES;
            for node in &found {
                measure_result(node, &mut budget)?;
            }
        }
        let values = found
            .into_iter()
            .filter_map(|node| apply(*first, node))
            .flatten()
            .collect();
        Ok(rest.iter().fold(values, |values: Vec<Value>, extension| {
            values
                .iter()
                .filter_map(|value| apply(*extension, value))
                .flatten()
                .collect()
        }))
    }
}

/// Takes a result's size from `budget` (see [`MAX_RESULT_BYTES`]); fails as soon as it runs
/// out, without walking the rest.
fn measure_result(value: &Value, budget: &mut usize) -> Result<(), LimitExceeded> {
    let mut take = |bytes: usize| {
        *budget = budget
            .checked_sub(bytes)
            .ok_or(LimitExceeded::new(Limit::JsonPathResult, None))?;
        Ok::<(), LimitExceeded>(())
    };
    let own = |value: &Value| match value {
        Value::String(s) => RESULT_BYTES_PER_VALUE.saturating_add(s.len()),
        _ => RESULT_BYTES_PER_VALUE,
    };
    take(own(value))?;
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            Value::Array(items) => {
                for item in items {
                    take(own(item))?;
                    pending.push(item);
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    take(own(item).saturating_add(key.len()))?;
                    pending.push(item);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// One extension step on one value: its results (none when it does not apply).
fn apply(extension: Extension, value: &Value) -> Option<Vec<Value>> {
    match (extension, value) {
        (Extension::Len, Value::String(s)) => Some(vec![Value::from(s.chars().count())]),
        (Extension::Len, Value::Array(items)) => Some(vec![Value::from(items.len())]),
        (Extension::Len, Value::Object(map)) => Some(vec![Value::from(map.len())]),
        (Extension::Keys, Value::Object(map)) => {
            Some(map.keys().map(|k| Value::String(k.clone())).collect())
        }
        (Extension::Sorted, Value::Array(items)) => {
            let mut items = items.clone();
            items.sort_by(compare);
            Some(vec![Value::Array(items)])
        }
        (Extension::Sorted, Value::Object(map)) => {
            let mut keys: Vec<Value> = map.keys().map(|k| Value::String(k.clone())).collect();
            keys.sort_by(compare);
            Some(vec![Value::Array(keys)])
        }
        (Extension::Str, value) => Some(vec![Value::String(crate::python_format::to_str(value))]),
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

/// Why a jsonpath-ng path could not be translated into RFC 9535 (a message about the path:
/// [`JsonPathError::Invalid`] carries it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum TranslateError {
    #[error("a path step after an extension step is not supported")]
    StepAfterExtension,
    #[error("the extension `{0}` is not supported")]
    Extension(String),
    #[error("unclosed {0}")]
    Unclosed(&'static str),
    #[error("=~ needs a quoted regular expression")]
    UnquotedRegex,
}

/// Translates the jsonpath-ng ext dialect into RFC 9535 text, splitting off trailing extension
/// steps. RFC 9535 input passes through unchanged.
fn translate(path: &str) -> Result<(String, Vec<Extension>), TranslateError> {
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
                return Err(TranslateError::StepAfterExtension);
            }
        }
        match c {
            '`' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '`')
                    .ok_or(TranslateError::Unclosed("backtick"))?;
                let name: String = chars[i + 1..i + 1 + end].iter().collect();
                extensions.push(match name.as_str() {
                    "len" => Extension::Len,
                    "keys" => Extension::Keys,
                    "sorted" => Extension::Sorted,
                    "str()" => Extension::Str,
                    other => return Err(TranslateError::Extension(other.to_owned())),
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
fn quoted(chars: &[char], start: usize) -> Result<(String, usize), TranslateError> {
    let quote = chars[start];
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            c if c == quote => return Ok((chars[start..=i].iter().collect(), i + 1)),
            _ => i += 1,
        }
    }
    Err(TranslateError::Unclosed("quote"))
}

/// The index of the `]` closing the bracket at `open` (quotes and nested brackets skipped).
fn closing_bracket(chars: &[char], open: usize) -> Result<usize, TranslateError> {
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
    Err(TranslateError::Unclosed("'['"))
}

const FUNCTIONS: [&str; 5] = ["length", "count", "match", "search", "value"];

/// A filter expression: bare paths become `@.` paths, `=` becomes `==`, `&` `&&`, `|` `||`, and
/// `a =~ 're'` becomes `search(a, 're')`.
fn translate_filter(filter: &str) -> Result<String, TranslateError> {
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
                    return Err(TranslateError::UnquotedRegex);
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
fn path_end(chars: &[char], start: usize) -> Result<usize, TranslateError> {
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
