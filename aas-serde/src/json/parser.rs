//! A pull tokenizer over a byte slice: just what the typed reader needs, no value tree.
//!
//! It owns the position, so the reader can remember where a value started and read it again
//! (see `value` of submodel elements in `read.rs`).

use std::borrow::Cow;

use super::error::{Error, ErrorKind};

/// Objects and arrays nested deeper than this are refused (stack safety on hostile input).
pub(crate) const MAX_DEPTH: usize = 128;

/// A saved position of the parser.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    pub(crate) pos: usize,
    depth: usize,
}

/// The JSON tokenizer (public only so that [`super::FromJson`] can name it; not reachable).
#[allow(missing_debug_implementations)]
pub struct Parser<'a> {
    input: &'a [u8],
    /// `input` as text when all of it is UTF-8 (checked once, up front): strings are then
    /// sliced from it instead of each being checked again. `None` when it is not, and each
    /// string is checked on its own, so the error names the string that holds the bad byte.
    text: Option<&'a str>,
    pos: usize,
    depth: usize,
    /// The metamodel version the input is read as: it decides which values are accepted.
    version: aas_model::Version,
}

/// What a JSON value starting with this byte is, for "expected …, found …" messages.
fn describe(byte: Option<u8>) -> &'static str {
    match byte {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        Some(b'-' | b'0'..=b'9') => "a number",
        None => "the end of the input",
        Some(_) => "an invalid character",
    }
}

impl<'a> Parser<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        let start = if input.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        Self {
            input,
            text: std::str::from_utf8(input).ok(),
            pos: start,
            depth: 0,
            version: aas_model::Version::LATEST,
        }
    }

    /// Reads the input as `version`.
    pub(crate) fn with_version(mut self, version: aas_model::Version) -> Self {
        self.version = version;
        self
    }

    /// The version the input is read as.
    pub(crate) fn version(&self) -> aas_model::Version {
        self.version
    }

    /// An error at byte offset `at`, with line and column computed from the input.
    pub(crate) fn error_at(&self, at: usize, kind: ErrorKind) -> Error {
        let (line, column) = crate::output::line_column(self.input, at);
        Error::new(kind, line, column)
    }

    pub(crate) fn error(&self, kind: ErrorKind) -> Error {
        self.error_at(self.pos, kind)
    }

    fn syntax(&self, message: impl Into<String>) -> Error {
        self.error(ErrorKind::Syntax(message.into()))
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.input.get(self.pos) {
            self.pos += 1;
        }
    }

    /// The first byte of the next token, after whitespace.
    #[inline]
    pub(crate) fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.input.get(self.pos).copied()
    }

    /// The error for a value of the wrong JSON type at the current position.
    pub(crate) fn wrong_type(&mut self, expected: &'static str) -> Error {
        match self.peek() {
            Some(b'n') if self.input[self.pos..].starts_with(b"null") => {
                self.error(ErrorKind::Null)
            }
            found @ (Some(b'{' | b'[' | b'"' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9') | None) => {
                self.error(ErrorKind::WrongType {
                    expected,
                    found: describe(found),
                })
            }
            Some(_) => self.syntax("expected a value"),
        }
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(ErrorKind::TooDeep(MAX_DEPTH)));
        }
        Ok(())
    }

    /// Consumes `{`, or fails with a type error naming `expected`.
    #[inline]
    pub(crate) fn begin_object(&mut self, expected: &'static str) -> Result<(), Error> {
        if self.peek() != Some(b'{') {
            return Err(self.wrong_type(expected));
        }
        self.pos += 1;
        self.enter()
    }

    /// The next key of the current object and consumes the `:` after it; `None` at `}`.
    /// `first` is true before the first key.
    #[inline]
    pub(crate) fn next_key(&mut self, first: &mut bool) -> Result<Option<Cow<'a, str>>, Error> {
        match self.peek() {
            Some(b'}') => {
                self.pos += 1;
                self.depth -= 1;
                return Ok(None);
            }
            Some(b',') if !*first => {
                self.pos += 1;
                if self.peek() != Some(b'"') {
                    return Err(self.syntax("expected a property name after `,`"));
                }
            }
            Some(b'"') if *first => {}
            _ if *first => return Err(self.syntax("expected a property name or `}`")),
            _ => return Err(self.syntax("expected `,` or `}` after a property value")),
        }
        *first = false;
        let key = self.string_token()?;
        if self.peek() != Some(b':') {
            return Err(self.syntax("expected `:` after a property name"));
        }
        self.pos += 1;
        Ok(Some(key))
    }

    /// Consumes `[`, or fails with a type error naming `expected`.
    #[inline]
    pub(crate) fn begin_array(&mut self, expected: &'static str) -> Result<(), Error> {
        if self.peek() != Some(b'[') {
            return Err(self.wrong_type(expected));
        }
        self.pos += 1;
        self.enter()
    }

    /// Whether another item follows in the current array (consuming `,`); false at `]`.
    #[inline]
    pub(crate) fn next_item(&mut self, first: &mut bool) -> Result<bool, Error> {
        match self.peek() {
            Some(b']') => {
                self.pos += 1;
                self.depth -= 1;
                Ok(false)
            }
            Some(b',') if !*first => {
                self.pos += 1;
                Ok(true)
            }
            _ if *first => {
                *first = false;
                Ok(true)
            }
            _ => Err(self.syntax("expected `,` or `]` after an array item")),
        }
    }

    /// A string value, or a type error naming `expected`.
    #[inline]
    pub(crate) fn string(&mut self, expected: &'static str) -> Result<Cow<'a, str>, Error> {
        if self.peek() != Some(b'"') {
            return Err(self.wrong_type(expected));
        }
        self.string_token()
    }

    /// A string value as an owned `String`.
    #[inline]
    pub(crate) fn string_owned(&mut self) -> Result<String, Error> {
        self.string("a string").map(Cow::into_owned)
    }

    /// A boolean value.
    pub(crate) fn boolean(&mut self) -> Result<bool, Error> {
        let rest = match self.peek() {
            Some(_) => &self.input[self.pos..],
            None => &[][..],
        };
        if rest.starts_with(b"true") {
            self.pos += 4;
            Ok(true)
        } else if rest.starts_with(b"false") {
            self.pos += 5;
            Ok(false)
        } else {
            Err(self.wrong_type("a boolean"))
        }
    }

    /// The current position, to come back to with [`Parser::reset`].
    pub(crate) fn mark(&mut self) -> Mark {
        self.skip_ws();
        Mark {
            pos: self.pos,
            depth: self.depth,
        }
    }

    /// Goes back to a position taken with [`Parser::mark`].
    pub(crate) fn reset(&mut self, mark: Mark) {
        self.pos = mark.pos;
        self.depth = mark.depth;
    }

    /// Reads a string token starting at the current `"`.
    fn string_token(&mut self) -> Result<Cow<'a, str>, Error> {
        let start = self.pos + 1;
        let rest = self.input.get(start..).unwrap_or_default();
        // Most strings have no escape: jump to the closing quote (or the first backslash).
        let stop = memchr::memchr2(b'"', b'\\', rest);
        let plain = &rest[..stop.unwrap_or(rest.len())];
        if let Some(offset) = plain.iter().position(|&c| c < 0x20) {
            return Err(self.error_at(
                start + offset,
                ErrorKind::Syntax("control character in a string".into()),
            ));
        }
        let Some(stop) = stop else {
            return Err(self.error_at(
                self.input.len(),
                ErrorKind::Syntax("unterminated string".into()),
            ));
        };
        let mut i = start + stop;
        if rest[stop] == b'"' {
            let s = match self.text.and_then(|text| text.get(start..i)) {
                Some(s) => s,
                None => std::str::from_utf8(plain)
                    .map_err(|e| self.error_at(start + e.valid_up_to(), ErrorKind::InvalidUtf8))?,
            };
            self.pos = i + 1;
            return Ok(Cow::Borrowed(s));
        }
        let mut buf = self.input[start..i].to_vec();
        loop {
            match self.input.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    // The bad byte's position in the input, not in `buf` (an escape is longer
                    // than what it decodes to). Escapes decode to whole characters and are
                    // ASCII themselves, so the input's first bad byte is the string's.
                    return String::from_utf8(buf).map(Cow::Owned).map_err(|e| {
                        let raw = std::str::from_utf8(&self.input[start..i]).err();
                        let valid = raw.map_or(e.utf8_error().valid_up_to(), |e| e.valid_up_to());
                        self.error_at(start + valid, ErrorKind::InvalidUtf8)
                    });
                }
                Some(b'\\') => {
                    let escape_at = i;
                    i += 1;
                    let c = match self.input.get(i) {
                        Some(b'"') => b'"',
                        Some(b'\\') => b'\\',
                        Some(b'/') => b'/',
                        Some(b'b') => 0x08,
                        Some(b'f') => 0x0C,
                        Some(b'n') => b'\n',
                        Some(b'r') => b'\r',
                        Some(b't') => b'\t',
                        Some(b'u') => {
                            let ch = self.unicode_escape(&mut i)?;
                            let mut tmp = [0u8; 4];
                            buf.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                            continue;
                        }
                        _ => {
                            return Err(self.error_at(
                                escape_at,
                                ErrorKind::Syntax("invalid escape in a string".into()),
                            ));
                        }
                    };
                    buf.push(c);
                    i += 1;
                }
                Some(&c) if c < 0x20 => {
                    return Err(
                        self.error_at(i, ErrorKind::Syntax("control character in a string".into()))
                    );
                }
                Some(&c) => {
                    buf.push(c);
                    i += 1;
                }
                None => {
                    return Err(self.error_at(i, ErrorKind::Syntax("unterminated string".into())));
                }
            }
        }
    }

    /// Decodes `\uXXXX` (and a following low surrogate) with `*i` at the `u`; leaves `*i` after it.
    fn unicode_escape(&self, i: &mut usize) -> Result<char, Error> {
        let at = *i - 1;
        let bad = |why: &str| self.error_at(at, ErrorKind::Syntax(why.into()));
        let hex4 = |from: usize| -> Option<u32> {
            let digits = self.input.get(from..from + 4)?;
            let text = std::str::from_utf8(digits).ok()?;
            if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            u32::from_str_radix(text, 16).ok()
        };
        let first = hex4(*i + 1).ok_or_else(|| bad("invalid \\u escape"))?;
        *i += 5;
        let code = if (0xD800..0xDC00).contains(&first) {
            if self.input.get(*i..*i + 2) != Some(b"\\u") {
                return Err(bad("unpaired surrogate in \\u escape"));
            }
            let second = hex4(*i + 2).ok_or_else(|| bad("invalid \\u escape"))?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(bad("unpaired surrogate in \\u escape"));
            }
            *i += 6;
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else {
            first
        };
        char::from_u32(code).ok_or_else(|| bad("unpaired surrogate in \\u escape"))
    }

    /// Skips one value of any type, checking only what is needed to find its end.
    pub(crate) fn skip_value(&mut self) -> Result<(), Error> {
        match self.peek() {
            Some(b'"') => self.string_token().map(drop),
            Some(b'{') => {
                self.begin_object("an object")?;
                let mut first = true;
                while self.next_key(&mut first)?.is_some() {
                    self.skip_value()?;
                }
                Ok(())
            }
            Some(b'[') => {
                self.begin_array("an array")?;
                let mut first = true;
                while self.next_item(&mut first)? {
                    self.skip_value()?;
                }
                Ok(())
            }
            Some(b't' | b'f') => self.boolean().map(drop),
            Some(b'n') if self.input[self.pos..].starts_with(b"null") => {
                self.pos += 4;
                Ok(())
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') =
                    self.input.get(self.pos)
                {
                    self.pos += 1;
                }
                let text = std::str::from_utf8(&self.input[start..self.pos]).unwrap_or("");
                if text.parse::<f64>().is_err() {
                    return Err(self.error_at(start, ErrorKind::Syntax("invalid number".into())));
                }
                Ok(())
            }
            None => Err(self.syntax("unexpected end of input")),
            Some(_) => Err(self.syntax("expected a value")),
        }
    }

    /// Fails unless only whitespace is left.
    pub(crate) fn finish(&mut self) -> Result<(), Error> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.syntax("unexpected data after the root value")),
        }
    }
}
