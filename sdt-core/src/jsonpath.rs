//! JSONPath in the dialect synchronization descriptions are written in: jsonpath-ng 1.16.0's
//! "ext" parser (`jsonpath_ng.ext.parse(path).find(document)`), exactly, and plain RFC 9535 for
//! the paths jsonpath-ng rejects. A path is read by a port of jsonpath-ng's lexer and of its
//! LALR tables (generated from jsonpath-ng's own by `scripts/gen-jsonpath-ng-tables.py`), so it
//! accepts what jsonpath-ng accepts, and evaluated by a port of each syntax node's `find`, with
//! Python's value semantics. Only a path jsonpath-ng rejects is parsed as RFC 9535 (by
//! `jsonpath-rust`, evaluated by this module): where both dialects read a path, jsonpath-ng's
//! reading wins. `tests/differential/` compares both against jsonpath-ng itself.
//!
//! Where we differ from jsonpath-ng on purpose (Python would crash, hang, or the construct
//! depends on Python internals):
//!
//! - limits: [`MAX_LENGTH`], [`MAX_DEPTH`], [`MAX_STEPS`] (Python raises `RecursionError` near
//!   its own recursion limit instead), [`MAX_WORK`] and [`MAX_RESULT_BYTES`] (`$.a * 1000000000`
//!   repeats a string until memory runs out in Python); integers in paths up to 38 digits;
//! - `=~` patterns are read by a port of CPython 3.11's `re` parser, so a pattern Python refuses
//!   is refused and every construct means what it means to Python (`$` before a final newline,
//!   `\w` as `str.isalnum()`, classes without nesting, back-references, look-around, atomic
//!   groups, conditionals), and run by `fancy_regex`. On purpose: `\N{name}` is refused as
//!   unsupported (Unicode's name table would add about a megabyte for a spelling nobody needs
//!   in a filter; write the character or `\u`); a conditional on a group it is inside of
//!   (`(a(?(1)b|c))`) is refused as unsupported (Python asks whether the group has closed, the
//!   engine whether it has started); under the `i` flag letters match as in Unicode's simple
//!   case folding, which Python's `re` follows except for a handful of characters with several
//!   lower cases (ı, İ), and back-references under `i` compare as the engine folds (same length
//!   in UTF-8; Python compares `str.lower()`: `(?i)(k)\1` on `k` and the Kelvin sign, `ß` and
//!   `ẞ`, and under `(?ai)` every non-ASCII letter pair differ); `\w`, `\d` and `\b` use the
//!   `regex` crate's Unicode tables, newer than Python 3.11's Unicode 14.0 (letters and digits
//!   assigned since then count for us); a conditional's group number is read with ASCII digits
//!   only (`int()` also takes other scripts' digits); a match that backtracks more than
//!   [`MAX_REGEX_BACKTRACK`] times stops (Python backtracks exponentially on `(a|aa)+c`), a
//!   pattern compiling to more than [`MAX_REGEX_SIZE`] or nesting groups deeper than
//!   [`MAX_REGEX_NESTING`] is refused;
//! - only ASCII digits are digits (Python's `\d` also takes other scripts' digits);
//! - the named operators `` `path` ``, `` `split(...)` `` and `` `sub(...)` `` are refused when
//!   evaluated ([`JsonPathError::Evaluation`]);
//! - where jsonpath-ng's `` `sorted` `` hands back a datum instead of a list (a plain value, an
//!   object sorted by keys, or the document itself) Python fails or keeps it depending on the
//!   caller; we always fail;
//! - integer results of `+ - *` beyond 64 bits and `int / int` beyond 2^53 (Python's exact
//!   division) are refused or rounded differently.
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
//! use sdt_core::Limit;
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
mod ng;
mod python_re;
// Generated (scripts/gen-jsonpath-ng-tables.py): kept as the generator writes it.
#[rustfmt::skip]
mod ng_table;

use jsonpath_rust::parser::model::JpQuery;
use serde_json::Value;

use crate::limits::{Limit, LimitExceeded};

/// A parsed path.
#[derive(Debug, Clone)]
pub struct JsonPath {
    source: String,
    parsed: Parsed,
}

#[derive(Debug, Clone)]
enum Parsed {
    /// `contexts`: the path reads the values its matches were found in (`ng::Node::reads_context`).
    Ng {
        node: ng::Node,
        contexts: bool,
    },
    Rfc9535(JpQuery),
}

/// Which dialect read a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dialect {
    /// jsonpath-ng's ext parser accepts it: evaluated as jsonpath-ng evaluates it.
    JsonpathNg,
    /// Only RFC 9535 accepts it.
    Rfc9535,
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

/// How many times one `=~` match may backtrack (`fancy_regex`'s `backtrack_limit`). Only
/// patterns with back-references, look-around, atomic groups, possessive repeats,
/// conditionals, `\b`, `\B` or a `$` something follows backtrack; the others run in linear
/// time. Python's `re` backtracks without a bound (`(a|aa)+c` on 64 `a`s takes years).
pub const MAX_REGEX_BACKTRACK: usize = 100_000;

/// How deeply groups (look-arounds and conditionals too) may nest in a `=~` pattern. Python's parser recurses per group and
/// raises `RecursionError` a few hundred levels deep; `fancy_regex` stops at 64 levels of its
/// syntax, and a repeated group takes up to three of them in the translation.
pub const MAX_REGEX_NESTING: usize = 20;

/// How deeply the evaluation of a jsonpath-ng path may recurse: each filter, comparison,
/// `!`, arithmetic operator (`+ - * /`) and sort key nests one level; steps joined by `.`,
/// `..`, `|` or `where` are evaluated in a loop and do not count (`$.a.b.c` is 1 deep,
/// `$[?a > 1]` 3). Python recurses for every step and raises `RecursionError` near its own
/// limit (1000 frames) instead.
pub const MAX_STEPS: usize = 96;

/// Bytes each JSON value counts in [`MAX_RESULT_BYTES`], besides its strings.
const RESULT_BYTES_PER_VALUE: usize = 16;

/// Why a path was refused, or its evaluation stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonPathError {
    /// Not a path of either dialect.
    #[error("invalid JSONPath {path:?}: {message}")]
    Invalid {
        /// The path as given.
        path: String,
        /// What is wrong with it, in words (the parser's message).
        message: String,
    },
    /// jsonpath-ng raises an exception evaluating this path on this document (or the path uses
    /// a construct we do not evaluate, see the [module docs](self)).
    #[error("JSONPath {path:?} cannot be evaluated here: {message}")]
    Evaluation {
        /// The path as given.
        path: String,
        /// What failed, in words (as Python's exception says it where there is one).
        message: String,
    },
    /// Longer than [`MAX_LENGTH`] or nested deeper than [`MAX_DEPTH`] (refused unparsed), or an
    /// evaluation over [`MAX_WORK`] or [`MAX_RESULT_BYTES`] (stopped as soon as it passed).
    #[error(transparent)]
    Limit(#[from] LimitExceeded),
}

impl JsonPathError {
    /// What is wrong, without the path (for messages that name the path another way).
    pub fn reason(&self) -> String {
        match self {
            JsonPathError::Invalid { message, .. } | JsonPathError::Evaluation { message, .. } => {
                message.clone()
            }
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
    /// Parses a path in the jsonpath-ng ext dialect or, when jsonpath-ng rejects it, in RFC
    /// 9535. A path longer than [`MAX_LENGTH`] or nested deeper than [`MAX_DEPTH`] is refused
    /// before parsing.
    pub fn parse(path: &str) -> Result<Self, JsonPathError> {
        check_limits(path)?;
        let ng_error = match ng::parse(path) {
            Ok(node) => {
                let depth = node.depth();
                if depth > MAX_STEPS {
                    return Err(LimitExceeded::new(Limit::JsonPathSteps, Some(depth)).into());
                }
                return Ok(Self {
                    source: path.to_owned(),
                    parsed: Parsed::Ng {
                        contexts: node.reads_context(),
                        node,
                    },
                });
            }
            Err(e) => e,
        };
        match Self::parse_rfc9535(path) {
            Ok(parsed) => Ok(parsed),
            Err(JsonPathError::Invalid { message, .. }) => Err(JsonPathError::Invalid {
                path: path.to_owned(),
                message: format!("{ng_error} (jsonpath-ng); as RFC 9535: {message}"),
            }),
            Err(other) => Err(other),
        }
    }

    /// Parses a path that must be plain RFC 9535, with the same limits as [`JsonPath::parse`].
    pub fn parse_rfc9535(path: &str) -> Result<Self, JsonPathError> {
        check_limits(path)?;
        let fail = |message: String| JsonPathError::Invalid {
            path: path.to_owned(),
            message,
        };
        if let Some(at) = shorthand_with_blank(path) {
            return Err(fail(format!(
                "a member name after `.` cannot hold blank space (byte {at})"
            )));
        }
        let query =
            jsonpath_rust::parser::parse_json_path(path).map_err(|e| fail(e.to_string()))?;
        eval::check_types(&query).map_err(|e| fail(e.to_string()))?;
        Ok(Self {
            source: path.to_owned(),
            parsed: Parsed::Rfc9535(query),
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Which dialect read the path.
    pub fn dialect(&self) -> Dialect {
        match self.parsed {
            Parsed::Ng { .. } => Dialect::JsonpathNg,
            Parsed::Rfc9535(_) => Dialect::Rfc9535,
        }
    }

    /// The values the path selects, in order (duplicates kept). Stops with
    /// [`JsonPathError::Limit`] when the evaluation passes [`MAX_WORK`], or when the results
    /// would hold more than [`MAX_RESULT_BYTES`] (measured before anything is copied), and with
    /// [`JsonPathError::Evaluation`] where jsonpath-ng raises.
    pub fn query(&self, document: &Value) -> Result<Vec<Value>, JsonPathError> {
        let mut budget = MAX_RESULT_BYTES;
        match &self.parsed {
            Parsed::Rfc9535(query) => {
                let found = eval::evaluate(query, document)?;
                for node in &found {
                    measure_result(node, &mut budget)?;
                }
                Ok(found.into_iter().cloned().collect())
            }
            Parsed::Ng { node, contexts } => {
                let found =
                    ng::evaluate(node, document, MAX_WORK, *contexts).map_err(|e| match e {
                        ng::NgError::Limit(exceeded) => JsonPathError::Limit(exceeded),
                        other => JsonPathError::Evaluation {
                            path: self.source.clone(),
                            message: other.to_string(),
                        },
                    })?;
                for value in &found {
                    measure_result(value.as_value(), &mut budget)?;
                }
                Ok(found.into_iter().map(|v| v.into_value()).collect())
            }
        }
    }
}

/// Where a `.name` shorthand goes on after blank space (`$.a b`): RFC 9535 has no such name,
/// and jsonpath-rust reads it as the member `a b`. Quoted strings are skipped.
fn shorthand_with_blank(path: &str) -> Option<usize> {
    let bytes = path.as_bytes();
    let name_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
    let mut quote = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None if b == b'\'' || b == b'"' => quote = Some(b),
            None if b == b'.' && bytes.get(i + 1).is_some_and(|&n| name_byte(n)) => {
                let mut j = i + 1;
                while j < bytes.len() && name_byte(bytes[j]) {
                    j += 1;
                }
                let mut k = j;
                while k < bytes.len() && matches!(bytes[k], b' ' | b'\t' | b'\n' | b'\r') {
                    k += 1;
                }
                if k > j && bytes.get(k).is_some_and(|&n| name_byte(n)) {
                    return Some(k);
                }
                i = j;
                continue;
            }
            None => {}
        }
        i += 1;
    }
    None
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
