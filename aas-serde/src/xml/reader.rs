//! A pull reader over quick-xml's events: child elements and text, validated as the mapping
//! demands (namespace, no attributes, no stray text), with positions for errors.
//!
//! Namespaces are resolved here rather than by quick-xml's `NsReader`: AAS documents declare
//! them on the root element, so a small stack of the declarations seen is enough, and elements
//! without attributes (nearly all of them) cost nothing; `NsReader` resolves every event and
//! took a fifth of the read time.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::PrefixDeclaration;

use aas_model::Version;

use super::error::{Error, ErrorKind};

/// What a root element must be in, for the error when it is not.
const SUPPORTED_NAMESPACES: &str =
    "https://admin-shell.io/aas/3/0 (AAS V3.0) or https://admin-shell.io/aas/3/1 (AAS V3.1)";

/// Elements nested deeper than this are refused (stack safety on hostile input).
pub(crate) const MAX_DEPTH: usize = 128;

/// The XML reader (public only so that [`super::FromXml`] can name it; not reachable).
#[allow(missing_debug_implementations)]
pub struct XmlReader<'a> {
    xml: Reader<&'a [u8]>,
    input: &'a str,
    depth: usize,
    /// Namespace declarations in scope, innermost last: the depth of the element that made
    /// them, the prefix (`None`: the default namespace), and the namespace.
    scopes: Vec<(usize, Option<String>, String)>,
    /// The metamodel version read, by the namespace of the root (the newest until then).
    version: Version,
}

/// A child element whose start tag has been read.
#[allow(missing_debug_implementations)]
pub struct Child<'a> {
    start: BytesStart<'a>,
    /// Where the local name starts in the qualified name (after `prefix:`).
    local: usize,
    /// Written as `<name/>`: it has no content and no end tag to read.
    pub(crate) empty: bool,
    pub(crate) pos: usize,
}

impl Child<'_> {
    /// The local name (without prefix).
    pub(crate) fn name(&self) -> &str {
        let qualified = self.start.name().into_inner();
        qualified.get(self.local..).unwrap_or(qualified)
    }
}

/// Whether a character may appear in an XML 1.0 document.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// The first character XML 1.0 forbids, checked bytewise: in UTF-8 these are the control
/// bytes below 0x20 (but tab, LF, CR) and U+FFFE / U+FFFF (EF BF BE / EF BF BF).
fn first_forbidden(s: &str) -> Option<char> {
    let bytes = s.as_bytes();
    // Nearly all text has neither control bytes nor 0xEF: one branch-free pass decides.
    if bytes
        .iter()
        .fold(true, |ok, &b| ok & (b >= 0x20) & (b != 0xEF))
    {
        return None;
    }
    let at = bytes.iter().enumerate().position(|(i, &b)| {
        (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
            || (b == 0xEF
                && bytes.get(i + 1) == Some(&0xBF)
                && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)))
    })?;
    s[at..].chars().next()
}

fn is_whitespace(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

impl<'a> XmlReader<'a> {
    pub(crate) fn new(input: &'a str) -> Self {
        let input = input.strip_prefix('\u{FEFF}').unwrap_or(input);
        let mut xml = Reader::from_str(input);
        let config = xml.config_mut();
        config.check_end_names = true;
        config.check_comments = true;
        config.expand_empty_elements = false;
        Self {
            xml,
            input,
            depth: 0,
            scopes: Vec::new(),
            version: Version::LATEST,
        }
    }

    /// The version the document is read as.
    pub(crate) fn version(&self) -> Version {
        self.version
    }

    pub(crate) fn error_at(&self, pos: usize, kind: ErrorKind) -> Error {
        let (line, column) = crate::output::line_column(self.input.as_bytes(), pos);
        Error::new(kind, line, column)
    }

    fn position(&self) -> usize {
        usize::try_from(self.xml.buffer_position()).unwrap_or(usize::MAX)
    }

    /// The next event, with its position; malformed XML becomes a syntax error.
    fn event(&mut self) -> Result<(usize, Event<'a>), Error> {
        let pos = self.position();
        match self.xml.read_event() {
            Ok(event) => Ok((pos, event)),
            Err(e) => {
                let at = usize::try_from(self.xml.error_position()).unwrap_or(pos);
                Err(self.error_at(at, ErrorKind::Syntax(e.to_string())))
            }
        }
    }

    /// Checks a start tag: its namespace declarations (the only attributes allowed) and that
    /// it is in the AAS namespace.
    fn child(
        &mut self,
        pos: usize,
        start: BytesStart<'a>,
        empty: bool,
    ) -> Result<Child<'a>, Error> {
        let colon = start.name().into_inner().bytes().position(|b| b == b':');
        let child = Child {
            start,
            local: colon.map_or(0, |i| i + 1),
            empty,
            pos,
        };
        let depth = self.depth + 1;
        if !child.start.attributes_raw().trim_start().is_empty() {
            // A document of another AAS version fails on its first difference otherwise
            // (V2.0 files on their `xsi:schemaLocation`): say which version it is instead.
            for attribute in child.start.attributes().flatten() {
                if attribute.key.as_namespace_binding().is_none() {
                    continue;
                }
                if let Some(version) = other_aas_version(&attribute.value) {
                    return Err(self
                        .error_at(
                            pos,
                            ErrorKind::UnsupportedVersion {
                                version,
                                namespace: attribute.value.trim().to_owned(),
                            },
                        )
                        .in_element(child.name()));
                }
            }
            for attribute in child.start.attributes() {
                let attribute =
                    attribute.map_err(|e| self.error_at(pos, ErrorKind::Syntax(e.to_string())))?;
                let prefix = match attribute.key.as_namespace_binding() {
                    Some(PrefixDeclaration::Default) => None,
                    Some(PrefixDeclaration::Named(prefix)) => Some(prefix.to_owned()),
                    None => {
                        let key = attribute.key.into_inner().to_owned();
                        return Err(self
                            .error_at(pos, ErrorKind::UnexpectedAttribute(key))
                            .in_element(child.name()));
                    }
                };
                let namespace = attribute
                    .normalized_value(quick_xml::XmlVersion::default())
                    .map_err(|e| self.error_at(pos, ErrorKind::Syntax(e.to_string())))?;
                self.scopes.push((depth, prefix, namespace.into_owned()));
            }
        }
        let qualified = child.start.name().into_inner();
        let prefix = child
            .local
            .checked_sub(1)
            .and_then(|colon| qualified.get(..colon));
        let namespace = self
            .scopes
            .iter()
            .rev()
            .find(|(_, p, _)| p.as_deref() == prefix)
            .map(|(_, _, ns)| ns.as_str());
        // The root's namespace is the version of the document; every element below must be in
        // the same one. One comparison of a known namespace per element, as with one version.
        if depth == 1
            && let Some(version) = namespace.and_then(Version::from_xml_namespace)
        {
            self.version = version;
        }
        let expected = self.version.xml_namespace();
        let problem = match (namespace, prefix) {
            (Some(ns), _) if ns == expected => None,
            (Some(ns), _) => Some(format!("in the namespace {ns:?}")),
            (None, None) => Some("in no namespace".to_owned()),
            (None, Some(prefix)) => Some(format!("in the undeclared namespace prefix {prefix:?}")),
        };
        if let Some(namespace) = problem {
            let kind = if depth == 1 {
                ErrorKind::WrongNamespace {
                    element: child.name().to_owned(),
                    namespace,
                    expected: SUPPORTED_NAMESPACES,
                }
            } else {
                ErrorKind::WrongNamespace {
                    element: child.name().to_owned(),
                    namespace,
                    expected,
                }
            };
            return Err(self.error_at(pos, kind).in_element(child.name()));
        }
        if empty {
            // Declarations of `<x xmlns="…"/>` end with it.
            self.close_scopes(depth);
        } else {
            self.depth = depth;
            if self.depth > MAX_DEPTH {
                return Err(self.error_at(pos, ErrorKind::TooDeep(MAX_DEPTH)));
            }
        }
        Ok(child)
    }

    /// Drops the declarations made at `depth` or deeper.
    fn close_scopes(&mut self, depth: usize) {
        while self.scopes.last().is_some_and(|(d, _, _)| *d >= depth) {
            self.scopes.pop();
        }
    }

    /// Handles an end tag: the element's declarations go out of scope.
    fn end_element(&mut self) {
        self.close_scopes(self.depth);
        self.depth = self.depth.saturating_sub(1);
    }

    /// The error for markup that cannot stand inside an element.
    fn misplaced(&self, pos: usize, event: &Event<'_>) -> Error {
        let kind = match event {
            Event::DocType(_) => ErrorKind::Dtd,
            Event::Eof => ErrorKind::Syntax("unexpected end of the document".into()),
            _ => ErrorKind::Syntax("XML declaration inside the document".into()),
        };
        self.error_at(pos, kind)
    }

    /// The root element, after the prolog (declaration, comments, processing instructions).
    pub(crate) fn root(&mut self) -> Result<Child<'a>, Error> {
        loop {
            let (pos, event) = self.event()?;
            match event {
                Event::Start(start) => return self.child(pos, start, false),
                Event::Empty(start) => return self.child(pos, start, true),
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
                Event::Text(text) if is_whitespace(&text) => {}
                Event::DocType(_) => return Err(self.error_at(pos, ErrorKind::Dtd)),
                Event::Eof => {
                    return Err(self.error_at(pos, ErrorKind::Syntax("no root element".into())));
                }
                _ => {
                    return Err(self.error_at(
                        pos,
                        ErrorKind::Syntax("content before the root element".into()),
                    ));
                }
            }
        }
    }

    /// The next child element of the current element, or `None` at its end tag. Whitespace,
    /// comments and processing instructions between elements are skipped.
    pub(crate) fn next_child(&mut self) -> Result<Option<Child<'a>>, Error> {
        loop {
            let (pos, event) = self.event()?;
            match event {
                Event::Start(start) => return self.child(pos, start, false).map(Some),
                Event::Empty(start) => return self.child(pos, start, true).map(Some),
                Event::End(_) => {
                    self.end_element();
                    return Ok(None);
                }
                Event::Text(text) if is_whitespace(&text) => {}
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(text) => {
                    return Err(self.error_at(
                        pos,
                        ErrorKind::UnexpectedText(text.xml10_content().trim().to_owned()),
                    ));
                }
                Event::CData(text) => {
                    return Err(self.error_at(
                        pos,
                        ErrorKind::UnexpectedText(text.xml10_content().into_owned()),
                    ));
                }
                Event::GeneralRef(r) => {
                    return Err(self.error_at(
                        pos,
                        ErrorKind::UnexpectedText(format!("&{};", r.xml10_content())),
                    ));
                }
                Event::DocType(_) | Event::Decl(_) | Event::Eof => {
                    return Err(self.misplaced(pos, &event));
                }
            }
        }
    }

    /// The text of `element` (empty for `<name/>`), through its end tag.
    pub(crate) fn read_text(&mut self, element: &Child<'_>) -> Result<Cow<'a, str>, Error> {
        if element.empty {
            return Ok(Cow::Borrowed(""));
        }
        let mut text: Option<Cow<'a, str>> = None;
        let append = |text: &mut Option<Cow<'a, str>>, piece: Cow<'a, str>| match text {
            None => *text = Some(piece),
            Some(existing) => existing.to_mut().push_str(&piece),
        };
        loop {
            let (pos, event) = self.event()?;
            match event {
                Event::Text(t) => append(&mut text, t.xml10_content()),
                Event::CData(t) => append(&mut text, t.xml10_content()),
                Event::GeneralRef(r) => {
                    let name = r.xml10_content();
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) if is_xml_char(c) => c.to_string(),
                        Ok(Some(c)) => {
                            return Err(self.error_at(pos, ErrorKind::ForbiddenCharacter(c as u32)));
                        }
                        Ok(None) => match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(s) => s.to_owned(),
                            None => {
                                return Err(self.error_at(
                                    pos,
                                    ErrorKind::Syntax(format!("unknown entity &{name};")),
                                ));
                            }
                        },
                        Err(e) => return Err(self.error_at(pos, ErrorKind::Syntax(e.to_string()))),
                    };
                    append(&mut text, Cow::Owned(resolved));
                }
                Event::Comment(_) | Event::PI(_) => {}
                Event::End(_) => {
                    self.end_element();
                    break;
                }
                Event::Start(start) | Event::Empty(start) => {
                    let name = start.local_name().into_inner().to_owned();
                    return Err(self.error_at(pos, ErrorKind::ExpectedText(name)));
                }
                Event::DocType(_) | Event::Decl(_) | Event::Eof => {
                    return Err(self.misplaced(pos, &event));
                }
            }
        }
        let text = text.unwrap_or(Cow::Borrowed(""));
        if let Some(c) = first_forbidden(&text) {
            return Err(self.error_at(element.pos, ErrorKind::ForbiddenCharacter(c as u32)));
        }
        Ok(text)
    }

    /// Fails unless only comments, processing instructions and whitespace follow the root.
    pub(crate) fn finish(&mut self) -> Result<(), Error> {
        loop {
            let (pos, event) = self.event()?;
            match event {
                Event::Eof => return Ok(()),
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(text) if is_whitespace(&text) => {}
                _ => {
                    return Err(self.error_at(
                        pos,
                        ErrorKind::Syntax("content after the root element".into()),
                    ));
                }
            }
        }
    }

    /// The error for an element the class does not have.
    pub(crate) fn unexpected_element(&self, child: &Child<'_>, class: &'static str) -> Error {
        self.error_at(
            child.pos,
            ErrorKind::UnexpectedElement {
                element: child.name().to_owned(),
                class,
            },
        )
        .in_element(child.name())
    }
}

/// The AAS version of an unsupported version's XML namespace (V1.0, V2.0, V3.2), if it is one.
fn other_aas_version(namespace: &str) -> Option<&'static str> {
    let namespace = namespace.trim().trim_end_matches('/');
    let tail = namespace
        .strip_prefix("http://www.admin-shell.io/aas/")
        .or_else(|| namespace.strip_prefix("https://www.admin-shell.io/aas/"))
        .or_else(|| namespace.strip_prefix("http://admin-shell.io/aas/"))
        .or_else(|| namespace.strip_prefix("https://admin-shell.io/aas/"))?;
    match tail {
        "1/0" => Some("V1.0"),
        "2/0" => Some("V2.0"),
        // Drafts of the next version exist; say so rather than "wrong namespace".
        "3/2" => Some("V3.2"),
        _ => None,
    }
}
