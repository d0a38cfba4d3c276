//! Python's `str.format(**variables)` over JSON values, as CPython 3.11 renders them: named
//! fields with `.attribute` / `[index]` access, `!r` / `!s` / `!a`, the whole format-spec
//! mini-language (fill, align, sign, `z`, `#`, `0`, width, `,` / `_`, precision, types
//! `s d b o x X c n e E f F g G %`), nested fields in specs, and Python's way of printing
//! `True`, `None`, floats, lists and dicts.
//!
//! Templates longer than [`MAX_TEMPLATE_LENGTH`] are refused before parsing, a rendering stops
//! with an error once its output passes [`MAX_OUTPUT`], and widths and precisions are at most
//! [`MAX_DIGITS_VALUE`]. Parsing recurses only into a field's format spec, and as in CPython
//! only once (`{x:{y}}`; `{x:{y:{z}}}` is "Max string recursion exceeded").
//!
//! ```
//! use sdt_core::python_format::PythonTemplate;
//! use serde_json::json;
//!
//! let template = PythonTemplate::parse(r#"{{"coordX":{x},"on":{on},"v":{v:.1f}}}"#)?;
//! let variables = json!({"x": 1.5, "on": true, "v": 2});
//! let variables = variables.as_object().ok_or("an object")?;
//! assert_eq!(template.render(variables)?, r#"{"coordX":1.5,"on":True,"v":2.0}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::limits::{Limit, LimitExceeded};

/// The longest template accepted, in bytes (checked before parsing).
pub const MAX_TEMPLATE_LENGTH: usize = 16 * 1024;

/// The most bytes one rendering may produce (1 MiB); a rendering stops at the first field that
/// would pass it.
pub const MAX_OUTPUT: usize = 1024 * 1024;

/// A template parsed once, rendered many times.
#[derive(Debug, Clone, PartialEq)]
pub struct PythonTemplate {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Literal(String),
    Field(Field),
}

#[derive(Debug, Clone, PartialEq)]
struct Field {
    /// The first part of the field name (empty or digits: positional).
    name: String,
    accessors: Vec<Accessor>,
    conversion: Option<char>,
    /// The format spec, which may itself hold fields.
    spec: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq)]
enum Accessor {
    Attribute(String),
    Index(String),
}

/// Why a template could not be parsed or rendered; `kind` is the exception Python raises.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct FormatError {
    pub kind: ErrorKind,
    pub message: String,
}

/// The Python exception class of a [`FormatError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    OverflowError,
    /// Not a Python exception: a limit of this crate ([`MAX_TEMPLATE_LENGTH`], [`MAX_OUTPUT`]).
    LimitExceeded(LimitExceeded),
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ErrorKind::ValueError => "ValueError",
            ErrorKind::KeyError => "KeyError",
            ErrorKind::IndexError => "IndexError",
            ErrorKind::TypeError => "TypeError",
            ErrorKind::AttributeError => "AttributeError",
            ErrorKind::OverflowError => "OverflowError",
            ErrorKind::LimitExceeded(_) => "LimitExceeded",
        })
    }
}

fn error(kind: ErrorKind, message: impl Into<String>) -> FormatError {
    FormatError {
        kind,
        message: message.into(),
    }
}

fn value_error(message: impl Into<String>) -> FormatError {
    error(ErrorKind::ValueError, message)
}

impl From<LimitExceeded> for FormatError {
    fn from(exceeded: LimitExceeded) -> Self {
        error(ErrorKind::LimitExceeded(exceeded), exceeded.to_string())
    }
}

impl PythonTemplate {
    /// Parses a template; syntax errors (unbalanced braces, bad conversions) are found here.
    /// A template longer than [`MAX_TEMPLATE_LENGTH`] is refused before parsing.
    pub fn parse(template: &str) -> Result<Self, FormatError> {
        if template.len() > MAX_TEMPLATE_LENGTH {
            return Err(LimitExceeded::new(Limit::PythonLength, Some(template.len())).into());
        }
        Ok(Self {
            pieces: parse_pieces(template, 2)?,
        })
    }

    /// The names of the variables the template uses (for validation).
    pub fn variables(&self) -> Vec<&str> {
        let mut names = Vec::new();
        collect_names(&self.pieces, &mut names);
        names
    }

    /// Renders with the variables as keyword arguments; stops with an error at the first field
    /// that would take the output past [`MAX_OUTPUT`].
    pub fn render(&self, variables: &Map<String, Value>) -> Result<String, FormatError> {
        render_pieces(&self.pieces, variables)
    }
}

fn collect_names<'a>(pieces: &'a [Piece], names: &mut Vec<&'a str>) {
    for piece in pieces {
        if let Piece::Field(field) = piece {
            if !names.contains(&field.name.as_str()) {
                names.push(&field.name);
            }
            collect_names(&field.spec, names);
        }
    }
}

fn render_pieces(pieces: &[Piece], variables: &Map<String, Value>) -> Result<String, FormatError> {
    let mut out = String::new();
    for piece in pieces {
        let text = match piece {
            Piece::Literal(text) => Cow::Borrowed(text.as_str()),
            Piece::Field(field) => {
                let value = resolve(field, variables)?;
                let spec = render_pieces(&field.spec, variables)?;
                Cow::Owned(match field.conversion {
                    None => format_value(&value, &spec)?,
                    Some(conversion) => {
                        let converted = match conversion {
                            'r' => repr(&value, false),
                            'a' => repr(&value, true),
                            _ => to_str(&value),
                        };
                        format_value(&Value::String(converted), &spec)?
                    }
                })
            }
        };
        if out.len() + text.len() > MAX_OUTPUT {
            return Err(LimitExceeded::new(Limit::PythonOutput, None).into());
        }
        out.push_str(&text);
    }
    Ok(out)
}

// ---- parsing -------------------------------------------------------------------------------

fn parse_pieces(template: &str, depth: u8) -> Result<Vec<Piece>, FormatError> {
    let chars: Vec<char> = template.chars().collect();
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '}' {
            if chars.get(i + 1) == Some(&'}') {
                literal.push('}');
                i += 2;
                continue;
            }
            return Err(value_error("Single '}' encountered in format string"));
        }
        if c != '{' {
            literal.push(c);
            i += 1;
            continue;
        }
        if chars.get(i + 1) == Some(&'{') {
            literal.push('{');
            i += 2;
            continue;
        }
        if i + 1 == chars.len() {
            return Err(value_error("Single '{' encountered in format string"));
        }
        // The field runs to the '}' that balances this '{' (brackets in the name hide braces).
        let start = i + 1;
        let mut nesting = 1;
        let mut j = start;
        let mut in_brackets = false;
        while j < chars.len() {
            match chars[j] {
                '[' if !in_brackets => in_brackets = true,
                ']' if in_brackets => in_brackets = false,
                '{' if !in_brackets => nesting += 1,
                '}' if !in_brackets => {
                    nesting -= 1;
                    if nesting == 0 {
                        break;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        if j == chars.len() {
            return Err(value_error("expected '}' before end of string"));
        }
        if depth == 0 {
            return Err(value_error("Max string recursion exceeded"));
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(std::mem::take(&mut literal)));
        }
        let body: String = chars[start..j].iter().collect();
        pieces.push(Piece::Field(parse_field(&body, depth)?));
        i = j + 1;
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(pieces)
}

fn parse_field(body: &str, depth: u8) -> Result<Field, FormatError> {
    let chars: Vec<char> = body.chars().collect();
    // The field name ends at the first '!' or ':' outside brackets.
    let mut end = 0;
    let mut in_brackets = false;
    while end < chars.len() {
        match chars[end] {
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            '!' | ':' if !in_brackets => break,
            _ => {}
        }
        end += 1;
    }
    let name_text: String = chars[..end].iter().collect();
    let (name, accessors) = parse_field_name(&name_text)?;
    let mut rest = &chars[end..];
    let mut conversion = None;
    if rest.first() == Some(&'!') {
        let Some(&c) = rest.get(1) else {
            return Err(value_error(
                "end of string while looking for conversion specifier",
            ));
        };
        if !matches!(rest.get(2), None | Some(':')) {
            return Err(value_error("expected ':' after conversion specifier"));
        }
        if !matches!(c, 'r' | 's' | 'a') {
            return Err(value_error(format!("Unknown conversion specifier {c}")));
        }
        conversion = Some(c);
        rest = &rest[2..];
    }
    let spec = match rest.first() {
        Some(':') => parse_pieces(&rest[1..].iter().collect::<String>(), depth - 1)?,
        _ => Vec::new(),
    };
    Ok(Field {
        name,
        accessors,
        conversion,
        spec,
    })
}

fn parse_field_name(text: &str) -> Result<(String, Vec<Accessor>), FormatError> {
    let first_end = text.find(['.', '[']).unwrap_or(text.len());
    let name = text[..first_end].to_owned();
    let mut accessors = Vec::new();
    let mut rest = &text[first_end..];
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            if end == 0 {
                return Err(value_error("Empty attribute in format string"));
            }
            accessors.push(Accessor::Attribute(after[..end].to_owned()));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let Some(end) = after.find(']') else {
                return Err(value_error("Missing ']' in format string"));
            };
            if end == 0 {
                return Err(value_error("Empty attribute in format string"));
            }
            accessors.push(Accessor::Index(after[..end].to_owned()));
            rest = &after[end + 1..];
            if !rest.is_empty() && !rest.starts_with(['.', '[']) {
                return Err(value_error(
                    "Only '.' or '[' may follow ']' in format field specifier",
                ));
            }
        } else {
            return Err(value_error(
                "Only '.' or '[' may follow ']' in format field specifier",
            ));
        }
    }
    Ok((name, accessors))
}

// ---- field values --------------------------------------------------------------------------

fn resolve(field: &Field, variables: &Map<String, Value>) -> Result<Value, FormatError> {
    if field.name.is_empty() || field.name.bytes().all(|b| b.is_ascii_digit()) {
        let index = if field.name.is_empty() {
            "0"
        } else {
            &field.name
        };
        return Err(error(
            ErrorKind::IndexError,
            format!("Replacement index {index} out of range for positional args tuple"),
        ));
    }
    let mut value = variables
        .get(&field.name)
        .cloned()
        .ok_or_else(|| error(ErrorKind::KeyError, format!("'{}'", field.name)))?;
    for accessor in &field.accessors {
        value = match accessor {
            Accessor::Attribute(name) => {
                return Err(error(
                    ErrorKind::AttributeError,
                    format!("'{}' object has no attribute '{name}'", type_name(&value)),
                ));
            }
            Accessor::Index(key) => index(&value, key)?,
        };
    }
    Ok(value)
}

fn index(value: &Value, key: &str) -> Result<Value, FormatError> {
    let integer = key
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| key.parse::<usize>().ok())
        .flatten();
    match (value, integer) {
        (Value::Object(_), Some(_)) => Err(error(ErrorKind::KeyError, key)),
        (Value::Object(map), None) => map
            .get(key)
            .cloned()
            .ok_or_else(|| error(ErrorKind::KeyError, format!("'{key}'"))),
        (Value::Array(items), Some(i)) => items
            .get(i)
            .cloned()
            .ok_or_else(|| error(ErrorKind::IndexError, "list index out of range")),
        (Value::String(text), Some(i)) => text
            .chars()
            .nth(i)
            .map(|c| Value::String(c.to_string()))
            .ok_or_else(|| error(ErrorKind::IndexError, "string index out of range")),
        (Value::Array(_) | Value::String(_), None) => Err(error(
            ErrorKind::TypeError,
            format!(
                "{} indices must be integers or slices, not str",
                type_name(value)
            ),
        )),
        _ => Err(error(
            ErrorKind::TypeError,
            format!("'{}' object is not subscriptable", type_name(value)),
        )),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if is_float(n) => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

fn is_float(n: &serde_json::Number) -> bool {
    n.is_f64()
}

fn integer(n: &serde_json::Number) -> i128 {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
        .unwrap_or_default()
}

// ---- str() and repr() ----------------------------------------------------------------------

/// Python's `str()` of a JSON value.
pub fn to_str(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => repr(other, false),
    }
}

/// Python's `repr()` (or `ascii()` when `ascii`) of a JSON value.
pub fn repr(value: &Value, ascii: bool) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) if is_float(n) => float_repr(n.as_f64().unwrap_or_default()),
        Value::Number(n) => integer(n).to_string(),
        Value::String(text) => string_repr(text, ascii),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(|v| repr(v, ascii)).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", string_repr(k, ascii), repr(v, ascii)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

fn string_repr(text: &str, ascii: bool) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_ascii() => out.push(c),
            c if ascii || !printable(c) => {
                let code = c as u32;
                if code < 0x100 {
                    out.push_str(&format!("\\x{code:02x}"));
                } else if code < 0x10000 {
                    out.push_str(&format!("\\u{code:04x}"));
                } else {
                    out.push_str(&format!("\\U{code:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `str.isprintable` for non-ASCII characters: controls, format characters and
/// separators other than the space are not printable.
fn printable(c: char) -> bool {
    !(c.is_control()
        || matches!(c as u32,
            0xA0 | 0xAD | 0x1680 | 0x2000..=0x200F | 0x2028..=0x202F | 0x205F..=0x2064 | 0x3000 | 0xFEFF
            | 0xD800..=0xDFFF | 0xE000..=0xF8FF | 0xFFF9..=0xFFFB))
}

/// Shortest round-trip digits and decimal exponent: `x = 0.d1d2d3... × 10^(exponent + 1)`.
fn shortest_digits(x: f64) -> (String, i32) {
    let text = format!("{:e}", x.abs());
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    (mantissa.replace('.', ""), exponent.parse().unwrap_or(0))
}

/// Python's `repr(float)`.
fn float_repr(x: f64) -> String {
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0.0");
    }
    let (digits, exponent) = shortest_digits(x);
    let body = if (-4..16).contains(&exponent) {
        let mut text = place_point(&digits, exponent);
        if !text.contains('.') {
            text.push_str(".0");
        }
        text
    } else {
        scientific(&digits, exponent, false)
    };
    format!("{sign}{body}")
}

/// Digits with the decimal point placed for `exponent` (fixed notation, no trailing point).
fn place_point(digits: &str, exponent: i32) -> String {
    if exponent < 0 {
        format!("0.{}{}", "0".repeat((-exponent - 1) as usize), digits)
    } else {
        let point = exponent as usize + 1;
        if digits.len() <= point {
            format!("{digits}{}", "0".repeat(point - digits.len()))
        } else {
            format!("{}.{}", &digits[..point], &digits[point..])
        }
    }
}

/// `d.ddde±XX` from digits.
fn scientific(digits: &str, exponent: i32, keep_point: bool) -> String {
    let (first, rest) = digits.split_at(1);
    let point = if !rest.is_empty() || keep_point {
        "."
    } else {
        ""
    };
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{first}{point}{rest}e{sign}{:02}", exponent.abs())
}

// ---- format specs --------------------------------------------------------------------------

/// The largest width or precision accepted.
pub const MAX_DIGITS_VALUE: usize = 10_000;

#[derive(Debug, Default)]
struct Spec {
    fill: Option<char>,
    align: Option<char>,
    sign: Option<char>,
    no_negative_zero: bool,
    alternate: bool,
    zero: bool,
    width: usize,
    grouping: Option<char>,
    precision: Option<usize>,
    kind: Option<char>,
}

fn parse_spec(spec: &str) -> Result<Spec, FormatError> {
    let chars: Vec<char> = spec.chars().collect();
    let mut s = Spec::default();
    let mut i = 0;
    let is_align = |c: &char| matches!(c, '<' | '>' | '^' | '=');
    if chars.len() >= 2 && is_align(&chars[1]) {
        s.fill = Some(chars[0]);
        s.align = Some(chars[1]);
        i = 2;
    } else if chars.first().is_some_and(is_align) {
        s.align = Some(chars[0]);
        i = 1;
    }
    if let Some(&c) = chars.get(i)
        && matches!(c, '+' | '-' | ' ')
    {
        s.sign = Some(c);
        i += 1;
    }
    if chars.get(i) == Some(&'z') {
        s.no_negative_zero = true;
        i += 1;
    }
    if chars.get(i) == Some(&'#') {
        s.alternate = true;
        i += 1;
    }
    if chars.get(i) == Some(&'0') {
        s.zero = true;
        i += 1;
    }
    let digits_from = |i: &mut usize| -> Result<Option<usize>, FormatError> {
        let start = *i;
        while chars.get(*i).is_some_and(char::is_ascii_digit) {
            *i += 1;
        }
        if *i == start {
            return Ok(None);
        }
        // CPython accepts up to sys.maxsize and then tries to allocate it; a description is
        // user input, so widths and precisions stop at MAX_DIGITS_VALUE.
        chars[start..*i]
            .iter()
            .collect::<String>()
            .parse()
            .ok()
            .filter(|n| *n <= MAX_DIGITS_VALUE)
            .map(Some)
            .ok_or_else(|| {
                value_error(format!(
                    "a width or precision above {MAX_DIGITS_VALUE} is not supported"
                ))
            })
    };
    s.width = digits_from(&mut i)?.unwrap_or(0);
    if let Some(&c) = chars.get(i)
        && matches!(c, ',' | '_')
    {
        s.grouping = Some(c);
        i += 1;
        if let Some(&d) = chars.get(i)
            && matches!(d, ',' | '_')
        {
            return Err(value_error("Cannot specify both ',' and '_'."));
        }
    }
    if chars.get(i) == Some(&'.') {
        i += 1;
        s.precision = Some(
            digits_from(&mut i)?
                .ok_or_else(|| value_error("Format specifier missing precision"))?,
        );
    }
    if i + 1 < chars.len() {
        return Err(value_error("Invalid format specifier"));
    }
    s.kind = chars.get(i).copied();
    if s.zero && s.fill.is_none() {
        s.fill = Some('0');
        if s.align.is_none() {
            s.align = Some('=');
        }
    }
    Ok(s)
}

fn format_value(value: &Value, spec: &str) -> Result<String, FormatError> {
    if spec.is_empty() {
        return Ok(to_str(value));
    }
    match value {
        Value::String(text) => format_string(text, &parse_spec(spec)?),
        Value::Bool(b) => format_int(i128::from(*b), &parse_spec(spec)?, "bool"),
        Value::Number(n) if is_float(n) => {
            format_float(n.as_f64().unwrap_or_default(), &parse_spec(spec)?, "float")
        }
        Value::Number(n) => format_int(integer(n), &parse_spec(spec)?, "int"),
        other => Err(error(
            ErrorKind::TypeError,
            format!(
                "unsupported format string passed to {}.__format__",
                type_name(other)
            ),
        )),
    }
}

fn unknown_code(kind: char, type_name: &str) -> FormatError {
    value_error(format!(
        "Unknown format code '{kind}' for object of type '{type_name}'"
    ))
}

fn format_string(text: &str, s: &Spec) -> Result<String, FormatError> {
    if let Some(kind) = s.kind.filter(|k| *k != 's') {
        return Err(unknown_code(kind, "str"));
    }
    if s.sign.is_some() {
        return Err(value_error("Sign not allowed in string format specifier"));
    }
    if s.no_negative_zero {
        return Err(value_error(
            "Negative zero coercion (z) not allowed in format specifier",
        ));
    }
    if s.alternate {
        return Err(value_error(
            "Alternate form (#) not allowed in string format specifier",
        ));
    }
    if let Some(g) = s.grouping {
        return Err(value_error(format!("Cannot specify '{g}' with 's'.")));
    }
    if s.align == Some('=') {
        return Err(value_error(
            "'=' alignment not allowed in string format specifier",
        ));
    }
    let truncated: String = match s.precision {
        Some(p) => text.chars().take(p).collect(),
        None => text.to_owned(),
    };
    Ok(pad("", &truncated, s, '<'))
}

fn format_int(n: i128, s: &Spec, type_name: &str) -> Result<String, FormatError> {
    let kind = s.kind.unwrap_or('d');
    if matches!(kind, 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%') {
        return format_float(n as f64, s, type_name);
    }
    if !matches!(kind, 'd' | 'n' | 'b' | 'o' | 'x' | 'X' | 'c') {
        return Err(unknown_code(kind, type_name));
    }
    if s.precision.is_some() {
        return Err(value_error(
            "Precision not allowed in integer format specifier",
        ));
    }
    if s.no_negative_zero {
        return Err(value_error(
            "Negative zero coercion (z) not allowed in integer format specifier",
        ));
    }
    if let Some(g) = s.grouping
        && (kind == 'n' || kind == 'c' || (g == ',' && matches!(kind, 'b' | 'o' | 'x' | 'X')))
    {
        return Err(value_error(format!("Cannot specify '{g}' with '{kind}'.")));
    }
    if kind == 'c' {
        if s.sign.is_some() {
            return Err(value_error(
                "Sign not allowed with integer format specifier 'c'",
            ));
        }
        if s.alternate {
            return Err(value_error(
                "Alternate form (#) not allowed with integer format specifier 'c'",
            ));
        }
        let c = u32::try_from(n)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| error(ErrorKind::OverflowError, "%c arg not in range(0x110000)"))?;
        return Ok(pad("", &c.to_string(), s, '>'));
    }
    let magnitude = n.unsigned_abs();
    let (digits, prefix, group_size) = match kind {
        'b' => (format!("{magnitude:b}"), "0b", 4),
        'o' => (format!("{magnitude:o}"), "0o", 4),
        'x' => (format!("{magnitude:x}"), "0x", 4),
        'X' => (format!("{magnitude:X}"), "0X", 4),
        _ => (magnitude.to_string(), "", 3),
    };
    let digits = match s.grouping {
        Some(g) => group(
            &digits,
            g,
            group_size,
            width_for_zero_fill(s, n < 0, prefix, s.alternate),
        ),
        None => digits,
    };
    let mut sign = sign_text(n < 0, s.sign).to_owned();
    if s.alternate {
        sign.push_str(prefix);
    }
    Ok(pad(&sign, &digits, s, '>'))
}

/// With `0`-fill and grouping, Python pads the digits with grouped zeros to the width.
fn width_for_zero_fill(s: &Spec, negative: bool, prefix: &str, alternate: bool) -> usize {
    if s.fill == Some('0') && s.align == Some('=') {
        let taken = usize::from(negative || matches!(s.sign, Some('+' | ' ')))
            + if alternate { prefix.len() } else { 0 };
        s.width.saturating_sub(taken)
    } else {
        0
    }
}

fn sign_text(negative: bool, sign: Option<char>) -> &'static str {
    match (negative, sign) {
        (true, _) => "-",
        (false, Some('+')) => "+",
        (false, Some(' ')) => " ",
        _ => "",
    }
}

/// Inserts the separator every `size` digits from the right, zero-padding to `min_width` first
/// (grouped zeros, as Python's `0` flag does).
fn group(digits: &str, separator: char, size: usize, min_width: usize) -> String {
    let mut digits: Vec<char> = digits.chars().collect();
    let grouped_len = |n: usize| n + (n.saturating_sub(1)) / size;
    while grouped_len(digits.len()) < min_width {
        digits.insert(0, '0');
    }
    let mut out = String::new();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(size) {
            out.push(separator);
        }
        out.push(*c);
    }
    // A leading separator (from zero padding) is replaced by a zero, as Python does.
    if out.starts_with(separator) {
        out.replace_range(..separator.len_utf8(), "0");
    }
    out
}

fn format_float(x: f64, s: &Spec, type_name: &str) -> Result<String, FormatError> {
    let kind = s.kind;
    if let Some(k) = kind
        && !matches!(k, 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | 'n' | '%')
    {
        return Err(unknown_code(k, type_name));
    }
    if kind == Some('n') && s.grouping.is_some() {
        return Err(value_error(format!(
            "Cannot specify '{}' with 'n'.",
            s.grouping.unwrap_or(',')
        )));
    }
    let mut x = x;
    if s.no_negative_zero && x == 0.0 {
        x = 0.0;
    }
    let negative = x.is_sign_negative();
    let magnitude = if kind == Some('%') {
        x.abs() * 100.0
    } else {
        x.abs()
    };
    let mut body = match kind {
        None if s.precision.is_none() => float_repr(magnitude),
        None => general(magnitude, s.precision.unwrap_or(6), s.alternate, true),
        Some('e' | 'E') => exponential(magnitude, s.precision.unwrap_or(6), s.alternate),
        Some('f' | 'F' | '%') => fixed(magnitude, s.precision.unwrap_or(6), s.alternate),
        _ => general(magnitude, s.precision.unwrap_or(6), s.alternate, false),
    };
    // z: a value that rounds to zero prints without its minus sign.
    let negative =
        negative && !(s.no_negative_zero && body.chars().all(|c| !('1'..='9').contains(&c)));
    if matches!(kind, Some('E' | 'F' | 'G')) {
        body = body.to_uppercase();
    }
    if kind == Some('%') {
        body.push('%');
    }
    if let Some(g) = s.grouping {
        let split = body
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(body.len());
        let (int_part, rest) = body.split_at(split);
        let min = width_for_zero_fill(s, negative, "", false).saturating_sub(rest.chars().count());
        body = format!("{}{rest}", group(int_part, g, 3, min));
    }
    Ok(pad(sign_text(negative, s.sign), &body, s, '>'))
}

fn fixed(x: f64, precision: usize, alternate: bool) -> String {
    let mut text = format!("{x:.precision$}");
    if alternate && precision == 0 {
        text.push('.');
    }
    text
}

fn exponential(x: f64, precision: usize, alternate: bool) -> String {
    let text = format!("{x:.precision$e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let point = if alternate && !mantissa.contains('.') {
        "."
    } else {
        ""
    };
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}{point}e{sign}{:02}", exponent.abs())
}

/// `g`: fixed or scientific by the exponent after rounding to `precision` significant digits,
/// trailing zeros removed unless `alternate`. `add_dot_0` (the omitted type with a precision)
/// keeps one digit after the point of an integral fixed result.
fn general(x: f64, precision: usize, alternate: bool, add_dot_0: bool) -> String {
    let p = precision.max(1);
    let rounded = format!("{x:.prec$e}", prec = p - 1);
    let exponent: i32 = rounded
        .split_once('e')
        .map_or(0, |(_, e)| e.parse().unwrap_or(0));
    // With add_dot_0, CPython leaves room for the ".0": scientific from exponent p-1 on.
    let limit = if add_dot_0 { p as i32 - 1 } else { p as i32 };
    let mut text = if exponent >= -4 && exponent < limit {
        let decimals = (p as i32 - 1 - exponent).max(0) as usize;
        format!("{x:.decimals$}")
    } else {
        exponential(x, p - 1, false)
    };
    if !alternate {
        text = strip_zeros(&text);
    } else if !text.contains('.') {
        let split = text.find('e').unwrap_or(text.len());
        text.insert(split, '.');
    }
    if add_dot_0 && !text.contains(['.', 'e']) {
        text.push_str(".0");
    }
    text
}

fn strip_zeros(text: &str) -> String {
    let (mantissa, exponent) = match text.find('e') {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    let mantissa = if mantissa.contains('.') {
        mantissa.trim_end_matches('0').trim_end_matches('.')
    } else {
        mantissa
    };
    format!("{mantissa}{exponent}")
}

/// Pads `sign + body` to the width: `=` puts the fill between sign and body.
fn pad(sign: &str, body: &str, s: &Spec, default_align: char) -> String {
    let len = sign.chars().count() + body.chars().count();
    if len >= s.width {
        return format!("{sign}{body}");
    }
    let fill: String = std::iter::repeat_n(s.fill.unwrap_or(' '), s.width - len).collect();
    match s.align.unwrap_or(default_align) {
        '<' => format!("{sign}{body}{fill}"),
        '^' => {
            let left = (s.width - len) / 2;
            let (l, r) = fill.split_at(left * s.fill.unwrap_or(' ').len_utf8());
            format!("{l}{sign}{body}{r}")
        }
        '=' => format!("{sign}{fill}{body}"),
        _ => format!("{fill}{sign}{body}"),
    }
}
