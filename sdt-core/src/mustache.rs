//! Mustache templates over JSON values, through ramhorns: sections, inverted sections, dotted
//! names, `{{.}}`, HTML escaping of `{{x}}` (not of `{{{x}}}` / `{{&x}}`). Each JSON type renders
//! as `spec/sdt.md` decides: a string as itself, a number or boolean as its JSON text, null as
//! nothing, an array or object as its JSON text.
//!
//! Templates longer than [`MAX_TEMPLATE_LENGTH`] or with sections nested deeper than
//! [`MAX_SECTION_DEPTH`] are refused before ramhorns parses them; a rendering stops with an
//! error once it has taken [`MAX_WORK`] steps or would produce more than [`MAX_OUTPUT`] bytes
//! (nested sections over lists multiply: 13 levels over 4 items are 67 million passes).
//!
//! ```
//! use sdt_core::mustache::MustacheTemplate;
//! use serde_json::json;
//!
//! let template = MustacheTemplate::parse(r#"{"on":{{on}}}"#)?;
//! assert_eq!(template.render(&json!({"on": false}))?, r#"{"on":false}"#);
//! # Ok::<(), sdt_core::mustache::MustacheError>(())
//! ```

use std::cell::Cell;
use std::io;

use ramhorns::encoding::Encoder;
use ramhorns::traits::ContentSequence;
use ramhorns::{Content, Section, Template};
use serde_json::Value;

use crate::limits::{Limit, LimitExceeded};

/// The longest template accepted, in bytes (checked before parsing).
pub const MAX_TEMPLATE_LENGTH: usize = 16 * 1024;

/// The deepest nesting of sections (`{{#a}}`, `{{^a}}`) accepted (checked before ramhorns parses
/// the template: rendering recurses once per level). ramhorns 1.0 itself parses no deeper than 16
/// ("Ramhorns has overflown its stack"); this limit names it.
pub const MAX_SECTION_DEPTH: usize = 16;

/// The steps one rendering may take: each tag looked up and each pass through a section's body
/// is one step.
pub const MAX_WORK: usize = 1_000_000;

/// The most bytes one rendering may produce (1 MiB).
pub const MAX_OUTPUT: usize = 1024 * 1024;

/// A template parsed once (unclosed sections and other errors are found here).
#[derive(Debug)]
pub struct MustacheTemplate {
    template: Template<'static>,
    /// The names the template looks up (first part of dotted names), in order of appearance.
    names: Vec<String>,
}

/// Why a template could not be parsed or rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MustacheError {
    /// Not a template ramhorns and the spec accept.
    #[error("invalid mustache template: {0}")]
    Invalid(String),
    /// A template over [`MAX_TEMPLATE_LENGTH`] or [`MAX_SECTION_DEPTH`], or a rendering over
    /// [`MAX_WORK`] or [`MAX_OUTPUT`].
    #[error(transparent)]
    Limit(#[from] LimitExceeded),
}

impl MustacheTemplate {
    /// Parses a template; one longer than [`MAX_TEMPLATE_LENGTH`] or nesting sections deeper
    /// than [`MAX_SECTION_DEPTH`] is refused before ramhorns parses it.
    pub fn parse(source: &str) -> Result<Self, MustacheError> {
        if source.len() > MAX_TEMPLATE_LENGTH {
            return Err(LimitExceeded::new(Limit::MustacheLength, Some(source.len())).into());
        }
        let mut names = Vec::new();
        let normalized = normalize(source, &mut names)?;
        Template::new(normalized)
            .map(|template| Self { template, names })
            .map_err(|e| MustacheError::Invalid(e.to_string()))
    }

    /// The variables the template refers to (the first part of dotted names; not `.`).
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// Renders with `data` as the context; stops with an error once the rendering has taken
    /// [`MAX_WORK`] steps or would produce more than [`MAX_OUTPUT`] bytes.
    pub fn render(&self, data: &Value) -> Result<String, MustacheError> {
        let budget = Budget {
            left: Cell::new(MAX_WORK),
            overrun: Cell::new(false),
        };
        let mut output = Output {
            bytes: Vec::new(),
            budget: &budget,
            full: false,
        };
        let rendered = self.template.render_to_writer(
            &mut output,
            &Json {
                value: data,
                parent: None,
                budget: &budget,
            },
        );
        if budget.overrun.get() {
            return Err(LimitExceeded::new(Limit::MustacheWork, None).into());
        }
        if output.full {
            return Err(LimitExceeded::new(Limit::MustacheOutput, None).into());
        }
        rendered.map_err(|e| MustacheError::Invalid(e.to_string()))?;
        String::from_utf8(output.bytes).map_err(|e| MustacheError::Invalid(e.to_string()))
    }
}

/// The steps a rendering has left. Once spent, the content renders nothing more and the output
/// refuses every write, so ramhorns stops at the next text it writes and the rest costs at
/// most one cheap call per tag.
#[derive(Debug)]
struct Budget {
    left: Cell<usize>,
    overrun: Cell<bool>,
}

impl Budget {
    /// Takes one step; `false` when none is left.
    fn step(&self) -> bool {
        match self.left.get().checked_sub(1) {
            Some(left) if !self.overrun.get() => {
                self.left.set(left);
                true
            }
            _ => {
                self.overrun.set(true);
                false
            }
        }
    }
}

/// The rendered bytes, refused past [`MAX_OUTPUT`] or once the budget is spent.
struct Output<'b> {
    bytes: Vec<u8>,
    budget: &'b Budget,
    full: bool,
}

impl io::Write for Output<'_> {
    fn write(&mut self, part: &[u8]) -> io::Result<usize> {
        if self.budget.overrun.get() {
            return Err(io::Error::other("the work limit is reached"));
        }
        if self.bytes.len() + part.len() > MAX_OUTPUT {
            self.full = true;
            return Err(io::Error::other("the output limit is reached"));
        }
        self.bytes.extend_from_slice(part);
        Ok(part.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The name of the variable that renders a literal `{{` (text under other delimiters).
const OPEN_BRACES: &str = "\u{1}{{";

/// Rewrites a template for ramhorns, which lacks three things of the spec: standalone tags
/// (a section, inverted, closing, comment or delimiter tag alone on its line takes the line
/// with it), set-delimiter tags (re-emitted with `{{ }}`; literal `{{` text becomes a variable
/// that renders it), and trailing whitespace (ramhorns trims the tail: a final comment keeps
/// it).
fn normalize(source: &str, names: &mut Vec<String>) -> Result<String, MustacheError> {
    let mut out = String::with_capacity(source.len() + 8);
    let (mut open, mut close) = (String::from("{{"), String::from("}}"));
    // Where the current line starts in `out`, and whether it shows anything but whitespace.
    let mut line_start = 0;
    let mut line_has_content = false;
    // Open sections, checked here: ramhorns accepts a section that is never closed.
    let mut sections: Vec<String> = Vec::new();
    let mut i = 0;
    while i < source.len() {
        let rest = &source[i..];
        let Some(tag_at) = rest.find(open.as_str()) else {
            push_text(&mut out, rest, &mut line_start, &mut line_has_content);
            break;
        };
        push_text(
            &mut out,
            &rest[..tag_at],
            &mut line_start,
            &mut line_has_content,
        );
        let tag_start = i + tag_at + open.len();
        // Triple mustache: `{{{name}}}` (the extra braces around the name).
        let triple = source[tag_start..].starts_with('{');
        let closing = if triple {
            format!("}}{close}")
        } else {
            close.clone()
        };
        let Some(content_len) = source[tag_start..].find(closing.as_str()) else {
            return Err(MustacheError::Invalid(format!(
                "unclosed tag at byte {}",
                i + tag_at
            )));
        };
        let content = &source[tag_start + usize::from(triple)..tag_start + content_len];
        let tag_end = tag_start + content_len + closing.len();
        let sigil = if triple {
            '{'
        } else {
            content.chars().next().unwrap_or(' ')
        };
        let standalone_kind = matches!(sigil, '#' | '^' | '/' | '!' | '=' | '>');
        // Standalone: only whitespace before it on the line, and up to the line's end after it.
        let after = &source[tag_end..];
        let line_rest = after.find('\n').map_or(after, |n| &after[..n]);
        let standalone = standalone_kind
            && !line_has_content
            && line_rest
                .trim_end_matches('\r')
                .chars()
                .all(|c| c == ' ' || c == '\t');
        if standalone {
            out.truncate(line_start);
        }
        if !matches!(sigil, '!' | '=' | '/' | '>') {
            let name = content.trim_start_matches(['#', '^', '&', '{']).trim();
            let first = name.split('.').next().unwrap_or_default();
            if !first.is_empty() && !names.iter().any(|n| n == first) {
                names.push(first.to_owned());
            }
        }
        match sigil {
            '!' => out.push_str("{{!.}}"),
            '=' => {
                let inner = content.trim_start_matches('=').trim_end_matches('=');
                let mut parts = inner.split_whitespace();
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(new_open), Some(new_close), None) => {
                        open = new_open.to_owned();
                        close = new_close.to_owned();
                    }
                    _ => {
                        return Err(MustacheError::Invalid(format!(
                            "bad set-delimiter tag {content:?}"
                        )));
                    }
                }
            }
            '{' => out.push_str(&format!("{{{{{{{}}}}}}}", content.trim())),
            '#' | '^' | '/' | '&' | '>' => {
                let name = content[1..].trim();
                match sigil {
                    '#' | '^' => {
                        if sections.len() == MAX_SECTION_DEPTH {
                            return Err(LimitExceeded::new(Limit::MustacheDepth, None).into());
                        }
                        sections.push(name.to_owned());
                    }
                    '/' => match sections.pop() {
                        Some(open) if open == name => {}
                        Some(open) => {
                            return Err(MustacheError::Invalid(format!(
                                "{{{{/{name}}}}} closes {{{{#{open}}}}}"
                            )));
                        }
                        None => {
                            return Err(MustacheError::Invalid(format!(
                                "{{{{/{name}}}}} closes no section"
                            )));
                        }
                    },
                    _ => {}
                }
                out.push_str(&format!("{{{{{sigil}{}}}}}", content[1..].trim()));
            }
            _ => out.push_str(&format!("{{{{{}}}}}", content.trim())),
        }
        i = tag_end;
        if standalone {
            // The rest of the line, newline included, goes with the tag.
            i += after.find('\n').map_or(after.len(), |n| n + 1);
            line_start = out.len();
        } else {
            line_has_content = true;
        }
    }
    if let Some(open) = sections.pop() {
        return Err(MustacheError::Invalid(format!(
            "the section {{{{#{open}}}}} is never closed"
        )));
    }
    // ramhorns trims the text after the last tag: end with a tag.
    out.push_str("{{!.}}");
    Ok(out)
}

fn push_text(out: &mut String, text: &str, line_start: &mut usize, line_has_content: &mut bool) {
    for c in text.chars() {
        if c == '{' && out.ends_with('{') {
            // Literal `{{` (possible only under other delimiters): a variable renders it.
            out.pop();
            out.push_str("{{&");
            out.push_str(OPEN_BRACES);
            out.push_str("}}");
            *line_has_content = true;
            continue;
        }
        out.push(c);
        if c == '\n' {
            *line_start = out.len();
            *line_has_content = false;
        } else if c != ' ' && c != '\t' && c != '\r' {
            *line_has_content = true;
        }
    }
}

/// A JSON value as ramhorns content, with the contexts it is nested in: ramhorns keeps only
/// the innermost four contexts on its stack, the spec wants names resolved through all.
#[derive(Clone, Copy)]
struct Json<'a> {
    value: &'a Value,
    parent: Option<&'a Json<'a>>,
    budget: &'a Budget,
}

impl<'a> Json<'a> {
    /// Renders a field found from here with `present`, or a name whose first part is here but
    /// whose chain breaks with `missing`; `Ok(false)` when the name is not here at all.
    fn field<'s, E: Encoder>(
        &'s self,
        name: &str,
        encoder: &mut E,
        missing: impl FnOnce(&mut E) -> Result<(), E::Error>,
        present: impl FnOnce(Json<'s>, &mut E) -> Result<(), E::Error>,
    ) -> Result<bool, E::Error> {
        if !self.budget.step() {
            return Ok(true);
        }
        match self.lookup(name) {
            None => Ok(false),
            Some(None) => missing(encoder).map(|()| true),
            Some(Some(value)) => present(
                Json {
                    value,
                    parent: Some(self),
                    budget: self.budget,
                },
                encoder,
            )
            .map(|()| true),
        }
    }

    /// The value a (possibly dotted) name leads to from here: `None` when the first part is
    /// not here (outer contexts are asked then), `Some(None)` when a later part is missing
    /// (renders nothing, no fallback, as the spec says).
    fn lookup(&self, name: &str) -> Option<Option<&'a Value>> {
        if name == OPEN_BRACES {
            return Some(Some(&OPEN_BRACES_VALUE));
        }
        if name == "." {
            return Some(Some(self.value));
        }
        let mut parts = name.split('.');
        let first = parts.next()?;
        let Some(mut value) = member(self.value, first) else {
            return self.parent.and_then(|parent| parent.lookup(name));
        };
        for part in parts {
            match member(value, part) {
                Some(next) => value = next,
                None => return Some(None),
            }
        }
        Some(Some(value))
    }
}

static OPEN_BRACES_VALUE: std::sync::LazyLock<Value> =
    std::sync::LazyLock::new(|| Value::String("{{".into()));

fn member<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    match value {
        Value::Object(map) => map.get(name),
        _ => None,
    }
}

fn truthy(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => false,
        Value::Array(items) => !items.is_empty(),
        _ => true,
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl Content for Json<'_> {
    fn is_truthy(&self) -> bool {
        truthy(self.value)
    }

    fn render_escaped<E: Encoder>(&self, encoder: &mut E) -> Result<(), E::Error> {
        match text(self.value) {
            Some(text) => encoder.write_escaped(&text),
            None => Ok(()),
        }
    }

    fn render_unescaped<E: Encoder>(&self, encoder: &mut E) -> Result<(), E::Error> {
        match text(self.value) {
            Some(text) => encoder.write_unescaped(&text),
            None => Ok(()),
        }
    }

    fn render_section<C, E>(&self, section: Section<C>, encoder: &mut E) -> Result<(), E::Error>
    where
        C: ContentSequence,
        E: Encoder,
    {
        match self.value {
            Value::Array(items) => {
                for item in items {
                    if !self.budget.step() {
                        break;
                    }
                    section
                        .with(&Json {
                            value: item,
                            parent: Some(self),
                            budget: self.budget,
                        })
                        .render(encoder)?;
                }
                Ok(())
            }
            value if truthy(value) && self.budget.step() => section
                .with(&Json {
                    value,
                    parent: Some(self),
                    budget: self.budget,
                })
                .render(encoder),
            _ => Ok(()),
        }
    }

    fn render_inverse<C, E>(&self, section: Section<C>, encoder: &mut E) -> Result<(), E::Error>
    where
        C: ContentSequence,
        E: Encoder,
    {
        if truthy(self.value) || !self.budget.step() {
            Ok(())
        } else {
            section.render(encoder)
        }
    }

    fn render_field_escaped<E: Encoder>(
        &self,
        _: u64,
        name: &str,
        encoder: &mut E,
    ) -> Result<bool, E::Error> {
        self.field(
            name,
            encoder,
            |_| Ok(()),
            |value, encoder| value.render_escaped(encoder),
        )
    }

    fn render_field_unescaped<E: Encoder>(
        &self,
        _: u64,
        name: &str,
        encoder: &mut E,
    ) -> Result<bool, E::Error> {
        self.field(
            name,
            encoder,
            |_| Ok(()),
            |value, encoder| value.render_unescaped(encoder),
        )
    }

    fn render_field_section<C, E>(
        &self,
        _: u64,
        name: &str,
        section: Section<C>,
        encoder: &mut E,
    ) -> Result<bool, E::Error>
    where
        C: ContentSequence,
        E: Encoder,
    {
        self.field(
            name,
            encoder,
            |_| Ok(()),
            |value, encoder| value.render_section(section, encoder),
        )
    }

    fn render_field_inverse<C, E>(
        &self,
        _: u64,
        name: &str,
        section: Section<C>,
        encoder: &mut E,
    ) -> Result<bool, E::Error>
    where
        C: ContentSequence,
        E: Encoder,
    {
        self.field(
            name,
            encoder,
            |encoder| section.render(encoder),
            |value, encoder| value.render_inverse(section, encoder),
        )
    }
}
