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
//! [`format()`] walks the template as CPython does, so its first error is Python's
//! (`tests/differential/` compares it with CPython 3.11). Where we differ on purpose:
//!
//! - the limits above ([`crate::LimitExceeded`] where Python would allocate the
//!   output);
//! - attributes: numbers have `real`, `imag`, `numerator` and `denominator` (not `float`'s
//!   last two) as in Python; any other attribute is an `AttributeError`, where Python would
//!   print a method or an internal object (`<built-in method upper of str object at 0x7f..>`);
//! - only ASCII digits make a field name positional (Python also takes other scripts' digits);
//! - [`PythonTemplate::parse`] refuses a template that fails whatever the variables; rendering
//!   it with [`format()`] raises the same exception class as Python, while parsing reports the
//!   syntax error even when Python would first fail on a field before it (`"{}}"` is an
//!   `IndexError` in Python, a `ValueError` from `parse`).
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

use serde_json::{Map, Value};

use crate::limits::{Limit, LimitExceeded};

/// The longest template accepted, in bytes (checked before parsing).
pub const MAX_TEMPLATE_LENGTH: usize = 16 * 1024;

/// The most bytes one rendering may produce (1 MiB); a rendering stops at the first field that
/// would pass it.
pub const MAX_OUTPUT: usize = 1024 * 1024;

/// A template checked once, rendered many times. Rendering walks the template as CPython's
/// `MarkupIterator` does, field by field, so that the first error is the one Python raises
/// (`"{}}".format()` is an `IndexError`, not the `ValueError` of the lone `}` after it).
#[derive(Debug, Clone, PartialEq)]
pub struct PythonTemplate {
    template: String,
    names: Vec<String>,
}

/// A replacement field as CPython's `parse_field` cuts it out of the template.
#[derive(Debug, Clone, Copy)]
struct RawField<'t> {
    name: &'t str,
    conversion: Option<char>,
    spec: &'t str,
    /// The spec holds `{`: it is itself a template, rendered before it is applied.
    expand: bool,
}

/// Why a template could not be parsed or rendered; `kind` is the exception Python raises.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct FormatError {
    /// The exception class CPython raises here, or [`ErrorKind::LimitExceeded`].
    pub kind: ErrorKind,
    /// The exception's message, as CPython 3.11 words it (`"Single '}' encountered in format
    /// string"`).
    pub message: String,
}

/// The Python exception class of a [`FormatError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// `ValueError`: a malformed template or format spec, or a spec that does not fit the
    /// value's type (`{x:d}` of a string).
    ValueError,
    /// `KeyError`: a field names a variable, or a `[key]` a member, that does not exist.
    KeyError,
    /// `IndexError`: a positional field (`{}`, `{0}`; no positional arguments are given) or an
    /// `[index]` past the end of a list.
    IndexError,
    /// `TypeError`: an index the value's type does not support (`[0]` of a number, `[a]` of a
    /// list).
    TypeError,
    /// `AttributeError`: a `.attribute` the value does not have.
    AttributeError,
    /// `OverflowError`: a number too large for the conversion (`{x:c}` beyond U+10FFFF).
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
    /// Checks a template: every error that no set of variables can avoid (unbalanced braces,
    /// a bad conversion, a malformed field name, specs nested too deep) is found here. A
    /// template longer than [`MAX_TEMPLATE_LENGTH`] is refused before parsing.
    pub fn parse(template: &str) -> Result<Self, FormatError> {
        if template.len() > MAX_TEMPLATE_LENGTH {
            return Err(LimitExceeded::new(Limit::PythonLength, Some(template.len())).into());
        }
        let mut names = Vec::new();
        check(template, 2, &mut names)?;
        Ok(Self {
            template: template.to_owned(),
            names,
        })
    }

    /// The names of the variables the template uses (for validation).
    pub fn variables(&self) -> Vec<&str> {
        self.names.iter().map(String::as_str).collect()
    }

    /// Renders with the variables as keyword arguments (`template.format(**variables)`);
    /// stops with an error at the first field that would take the output past [`MAX_OUTPUT`].
    pub fn render(&self, variables: &Map<String, Value>) -> Result<String, FormatError> {
        let mut out = String::new();
        build_string(&self.template, variables, 2, &mut out)?;
        Ok(out)
    }
}

/// `str.format(**variables)` in one call: the template is checked as it is rendered, so a
/// template with a syntax error after a failing field raises what Python raises first.
pub fn format(template: &str, variables: &Map<String, Value>) -> Result<String, FormatError> {
    if template.len() > MAX_TEMPLATE_LENGTH {
        return Err(LimitExceeded::new(Limit::PythonLength, Some(template.len())).into());
    }
    let mut out = String::new();
    build_string(template, variables, 2, &mut out)?;
    Ok(out)
}

// ---- parsing: CPython's MarkupIterator_next and parse_field ----------------------------------

/// The next literal text and the field after it, from byte `pos` on (`None` at the end).
/// Braces are ASCII, so scanning bytes never splits a character.
#[allow(clippy::type_complexity)]
fn next_markup<'t>(
    template: &'t str,
    pos: &mut usize,
) -> Result<Option<(&'t str, Option<RawField<'t>>)>, FormatError> {
    let bytes = template.as_bytes();
    let end = bytes.len();
    if *pos >= end {
        return Ok(None);
    }
    let start = *pos;
    let mut i = start;
    let mut brace = None;
    while i < end {
        let c = bytes[i];
        i += 1;
        if c == b'{' || c == b'}' {
            brace = Some(c);
            break;
        }
    }
    let at_end = i >= end;
    let Some(c) = brace else {
        *pos = i;
        return Ok(Some((&template[start..i], None)));
    };
    if c == b'}' && (at_end || bytes[i] != b'}') {
        return Err(value_error("Single '}' encountered in format string"));
    }
    if at_end && c == b'{' {
        return Err(value_error("Single '{' encountered in format string"));
    }
    if bytes[i] == c {
        // A doubled brace: the literal keeps one.
        *pos = i + 1;
        return Ok(Some((&template[start..i], None)));
    }
    let literal = &template[start..i - 1];
    let field = parse_field(template, &mut i)?;
    *pos = i;
    Ok(Some((literal, Some(field))))
}

fn parse_field<'t>(template: &'t str, pos: &mut usize) -> Result<RawField<'t>, FormatError> {
    let bytes = template.as_bytes();
    let end = bytes.len();
    let mut i = *pos;
    let name_start = i;
    let mut terminator = None;
    while i < end {
        let c = bytes[i];
        i += 1;
        match c {
            b'{' => return Err(value_error("unexpected '{' in field name")),
            b'[' => {
                while i < end && bytes[i] != b']' {
                    i += 1;
                }
            }
            b'}' | b':' | b'!' => {
                terminator = Some(c);
                break;
            }
            _ => {}
        }
    }
    let Some(c) = terminator else {
        return Err(value_error("expected '}' before end of string"));
    };
    // `i - 1` is the terminator, an ASCII byte: a character boundary.
    let name = &template[name_start..i - 1];
    let mut field = RawField {
        name,
        conversion: None,
        spec: "",
        expand: false,
    };
    if c == b'!' || c == b':' {
        if c == b'!' {
            let Some(conversion) = template[i..].chars().next() else {
                return Err(value_error(
                    "end of string while looking for conversion specifier",
                ));
            };
            field.conversion = Some(conversion);
            i += conversion.len_utf8();
            if i < end {
                let next = bytes[i];
                i += 1;
                if next == b'}' {
                    *pos = i;
                    return Ok(field);
                }
                if next != b':' {
                    return Err(value_error("expected ':' after conversion specifier"));
                }
            }
        }
        let spec_start = i;
        let mut count = 1;
        while i < end {
            let c = bytes[i];
            i += 1;
            if c == b'{' {
                field.expand = true;
                count += 1;
            } else if c == b'}' {
                count -= 1;
                if count == 0 {
                    field.spec = &template[spec_start..i - 1];
                    *pos = i;
                    return Ok(field);
                }
            }
        }
        return Err(value_error("unmatched '{' in format spec"));
    }
    if c != b'}' {
        return Err(value_error("expected '}' before end of string"));
    }
    *pos = i;
    Ok(field)
}

/// One part of a field name after the first (`.name` or `[key]`), as CPython's
/// `FieldNameIterator_next` reads it from byte `pos` of `rest`.
fn next_accessor<'t>(rest: &'t str, pos: &mut usize) -> Result<Option<Accessor<'t>>, FormatError> {
    let bytes = rest.as_bytes();
    let Some(&c) = bytes.get(*pos) else {
        return Ok(None);
    };
    *pos += 1;
    let start = *pos;
    let accessor = match c {
        b'.' => {
            while *pos < bytes.len() && bytes[*pos] != b'.' && bytes[*pos] != b'[' {
                *pos += 1;
            }
            Accessor::Attribute(&rest[start..*pos])
        }
        b'[' => {
            while *pos < bytes.len() && bytes[*pos] != b']' {
                *pos += 1;
            }
            if *pos >= bytes.len() {
                return Err(value_error("Missing ']' in format string"));
            }
            *pos += 1;
            Accessor::Index(&rest[start..*pos - 1])
        }
        _ => {
            return Err(value_error(
                "Only '.' or '[' may follow ']' in format field specifier",
            ));
        }
    };
    if matches!(accessor, Accessor::Attribute("") | Accessor::Index("")) {
        return Err(value_error("Empty attribute in format string"));
    }
    Ok(Some(accessor))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Accessor<'t> {
    Attribute(&'t str),
    Index(&'t str),
}

/// `get_integer`: the number a field name part is when all of it is digits. As in CPython,
/// the digits are added up as they are read, so a run of digits too long for an index is an
/// error even when a non-digit follows it (`{99999999999999999999x}`).
fn get_integer(text: &str) -> Result<Option<u64>, FormatError> {
    if text.is_empty() {
        return Ok(None);
    }
    const MAX: u64 = i64::MAX as u64;
    let mut accumulator: u64 = 0;
    for c in text.chars() {
        let Some(digit) = c.to_digit(10) else {
            return Ok(None);
        };
        let digit = u64::from(digit);
        if accumulator > (MAX - digit) / 10 {
            return Err(value_error("Too many decimal digits in format string"));
        }
        accumulator = accumulator * 10 + digit;
    }
    Ok(Some(accumulator))
}

/// The first part of a field name and the rest (`a` and `.b[0]` of `a.b[0]`).
fn split_name(name: &str) -> (&str, &str) {
    let first_end = name.find(['.', '[']).unwrap_or(name.len());
    name.split_at(first_end)
}

/// Every error of `template` that no variables avoid; collects the variable names it uses.
fn check(template: &str, depth: u8, names: &mut Vec<String>) -> Result<(), FormatError> {
    if depth == 0 {
        return Err(value_error("Max string recursion exceeded"));
    }
    let mut pos = 0;
    while let Some((_, field)) = next_markup(template, &mut pos)? {
        let Some(field) = field else { continue };
        let (first, rest) = split_name(field.name);
        if get_integer(first)?.is_none() && !first.is_empty() && !names.iter().any(|n| n == first) {
            names.push(first.to_owned());
        }
        let mut at = 0;
        while let Some(accessor) = next_accessor(rest, &mut at)? {
            if let Accessor::Index(key) = accessor {
                get_integer(key)?;
            }
        }
        if let Some(c) = field.conversion
            && !matches!(c, 'r' | 's' | 'a')
        {
            return Err(unknown_conversion(c));
        }
        if field.expand {
            check(field.spec, depth - 1, names)?;
        }
    }
    Ok(())
}

fn unknown_conversion(c: char) -> FormatError {
    if c.is_ascii() && !c.is_ascii_control() {
        value_error(format!("Unknown conversion specifier {c}"))
    } else {
        value_error(format!(
            "Unknown conversion specifier \\x{:x}",
            u32::from(c)
        ))
    }
}

/// CPython's `build_string`: literal text and fields, in order, each error as it comes.
fn build_string(
    template: &str,
    variables: &Map<String, Value>,
    depth: u8,
    out: &mut String,
) -> Result<(), FormatError> {
    if depth == 0 {
        return Err(value_error("Max string recursion exceeded"));
    }
    let mut pos = 0;
    while let Some((literal, field)) = next_markup(template, &mut pos)? {
        push_output(out, literal)?;
        let Some(field) = field else { continue };
        let mut value = field_value(field.name, variables)?;
        if let Some(conversion) = field.conversion {
            value = Value::String(match conversion {
                'r' => repr(&value, false),
                'a' => repr(&value, true),
                's' => to_str(&value),
                other => return Err(unknown_conversion(other)),
            });
        }
        let text = if field.expand {
            let mut spec = String::new();
            build_string(field.spec, variables, depth - 1, &mut spec)?;
            format_value(&value, &spec)?
        } else {
            format_value(&value, field.spec)?
        };
        push_output(out, &text)?;
    }
    Ok(())
}

fn push_output(out: &mut String, text: &str) -> Result<(), FormatError> {
    if out.len() + text.len() > MAX_OUTPUT {
        return Err(LimitExceeded::new(Limit::PythonOutput, None).into());
    }
    out.push_str(text);
    Ok(())
}

// ---- field values --------------------------------------------------------------------------

/// `get_field_object`: the variable, then each accessor in turn (a malformed accessor is
/// reported when it is reached, after the lookups before it).
fn field_value(name: &str, variables: &Map<String, Value>) -> Result<Value, FormatError> {
    let (first, rest) = split_name(name);
    if first.is_empty() || get_integer(first)?.is_some() {
        let index = if first.is_empty() { "0" } else { first };
        return Err(error(
            ErrorKind::IndexError,
            format!("Replacement index {index} out of range for positional args tuple"),
        ));
    }
    let mut value = variables
        .get(first)
        .cloned()
        .ok_or_else(|| error(ErrorKind::KeyError, format!("'{first}'")))?;
    let mut at = 0;
    while let Some(accessor) = next_accessor(rest, &mut at)? {
        value = match accessor {
            Accessor::Attribute(attribute) => attribute_of(&value, attribute)?,
            Accessor::Index(key) => index(&value, key)?,
        };
    }
    Ok(value)
}

/// The attributes of numbers that are plain values (`int` and `bool`: `real`, `imag`,
/// `numerator`, `denominator`; `float`: `real`, `imag`). Other attributes are methods or
/// Python internals, whose text (`<built-in method ... at 0x7f...>`) no one can rely on: they
/// fail with `AttributeError`.
fn attribute_of(value: &Value, attribute: &str) -> Result<Value, FormatError> {
    let integer_value = match value {
        Value::Bool(b) => Some(i128::from(*b)),
        Value::Number(n) if !is_float(n) => Some(integer(n)),
        _ => None,
    };
    let found = match (value, integer_value, attribute) {
        (_, Some(i), "real" | "numerator") => Some(int_to_value(i)),
        (_, Some(_), "imag") => Some(Value::from(0)),
        (_, Some(_), "denominator") => Some(Value::from(1)),
        (Value::Number(n), None, "real") => Some(value_of_float(n.as_f64().unwrap_or_default())),
        (Value::Number(_), None, "imag") => Some(value_of_float(0.0)),
        _ => None,
    };
    found.ok_or_else(|| {
        error(
            ErrorKind::AttributeError,
            format!(
                "'{}' object has no attribute '{attribute}'",
                type_name(value)
            ),
        )
    })
}

fn int_to_value(i: i128) -> Value {
    i64::try_from(i)
        .map(Value::from)
        .or_else(|_| u64::try_from(i).map(Value::from))
        .unwrap_or(Value::Null)
}

fn value_of_float(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

fn index(value: &Value, key: &str) -> Result<Value, FormatError> {
    let integer = get_integer(key)?.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
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

/// `numeric`: the `0` flag aligns with `=` only where the default alignment is right (numbers);
/// on strings it only sets the fill (CPython 3.10 and later).
fn parse_spec(spec: &str, numeric: bool) -> Result<Spec, FormatError> {
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
        let value: Option<usize> = chars[start..*i].iter().collect::<String>().parse().ok();
        match value {
            Some(n) if n <= MAX_DIGITS_VALUE => Ok(Some(n)),
            other => Err(LimitExceeded::new(Limit::PythonDigits, other).into()),
        }
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
        if s.align.is_none() && numeric {
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
        Value::String(text) => format_string(text, &parse_spec(spec, false)?),
        Value::Bool(b) => format_int(i128::from(*b), &parse_spec(spec, true)?, "bool"),
        Value::Number(n) if is_float(n) => format_float(
            n.as_f64().unwrap_or_default(),
            &parse_spec(spec, true)?,
            "float",
        ),
        Value::Number(n) => format_int(integer(n), &parse_spec(spec, true)?, "int"),
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
        None if s.precision.is_none() => {
            let repr = float_repr(magnitude);
            // `#` keeps a decimal point in the exponent form too (`5.e-324`).
            match repr.find('e') {
                Some(e) if s.alternate && !repr.contains('.') => {
                    format!("{}.{}", &repr[..e], &repr[e..])
                }
                _ => repr,
            }
        }
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
