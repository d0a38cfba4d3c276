//! An XML emitter that writes straight from the model: elements and text only (the mapping
//! has no attributes), escaped, in a buffer flushed in chunks.

use std::io::{self, Write};

use super::error::WriteError;
use super::reader::is_xml_char;
use crate::output::ChunkedOutput;

/// The XML writer (public only so that [`super::ToXml`] can name it; not reachable).
#[allow(missing_debug_implementations)]
pub struct XmlWriter<W: Write> {
    out: ChunkedOutput<W>,
    pretty: bool,
    /// Open elements, innermost last (for indentation and for naming the element in errors).
    open: Vec<&'static str>,
    /// Whether the innermost open element has child elements (its end tag goes on a new line).
    has_children: bool,
    /// The version written: the namespace of the root.
    version: aas_model::Version,
}

impl XmlWriter<io::Sink> {
    /// A writer whose output is kept whole in memory ([`XmlWriter::into_buffer`]).
    pub(crate) fn in_memory(pretty: bool) -> Self {
        Self {
            out: ChunkedOutput::in_memory(),
            pretty,
            open: Vec::new(),
            has_children: false,
            version: aas_model::Version::LATEST,
        }
    }

    /// What was written (a pretty document ends with a line break, as [`XmlWriter::finish`]
    /// writes it).
    pub(crate) fn into_buffer(mut self) -> Vec<u8> {
        if self.pretty {
            self.out.buf.push(b'\n');
        }
        self.out.into_buffer()
    }
}

impl<W: Write> XmlWriter<W> {
    pub(crate) fn new(out: W, pretty: bool) -> Self {
        Self {
            out: ChunkedOutput::new(out),
            pretty,
            open: Vec::new(),
            has_children: false,
            version: aas_model::Version::LATEST,
        }
    }

    fn indent(&mut self) {
        if self.pretty {
            self.out.buf.push(b'\n');
            self.out
                .buf
                .resize(self.out.buf.len() + 2 * self.open.len(), b' ');
        }
    }

    /// Writes the document as `version`.
    pub(crate) fn with_version(mut self, version: aas_model::Version) -> Self {
        self.version = version;
        self
    }

    /// The version written.
    #[allow(dead_code)]
    pub(crate) fn version(&self) -> aas_model::Version {
        self.version
    }

    /// Opens `<name>` (with the namespace declaration when it is the root).
    pub(crate) fn start(&mut self, name: &'static str) {
        if !self.open.is_empty() {
            self.indent();
        }
        self.out.buf.push(b'<');
        self.out.buf.extend_from_slice(name.as_bytes());
        if self.open.is_empty() {
            self.out.buf.extend_from_slice(b" xmlns=\"");
            self.out
                .buf
                .extend_from_slice(self.version.xml_namespace().as_bytes());
            self.out.buf.push(b'"');
        }
        self.out.buf.push(b'>');
        self.open.push(name);
        self.has_children = false;
    }

    /// Closes the innermost element.
    pub(crate) fn end(&mut self) {
        let name = self.open.pop().unwrap_or_default();
        if self.has_children {
            self.indent();
        }
        self.out.buf.extend_from_slice(b"</");
        self.out.buf.extend_from_slice(name.as_bytes());
        self.out.buf.push(b'>');
        // The parent now has a child.
        self.has_children = true;
        self.out.maybe_flush();
    }

    /// The path of the open elements, for errors: `/environment/submodels/submodel/id`.
    fn path(&self) -> String {
        self.open.iter().map(|name| format!("/{name}")).collect()
    }

    /// Escaped text: `&`, `<`, `>` as entities, `\r` as `&#xD;` (so that it survives the
    /// end-of-line normalization of readers). Characters XML 1.0 forbids are an error.
    ///
    /// Hand-written rather than `quick_xml::escape::partial_escape`: one pass both escapes and
    /// refuses the characters XML 1.0 forbids, which quick-xml's escape does not check. With the
    /// check as a second pass, quick-xml 0.42's escape wrote 410–490 MB/s against 670–810 MB/s
    /// for this loop (release, 20 000 typical values — idShorts, ids, descriptions with `&` and
    /// `<`, numbers — written 50 times, best of 3 rounds, one AMD EPYC core; issue 25).
    pub(crate) fn text(&mut self, text: &str) -> Result<(), WriteError> {
        let bytes = text.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let escaped: &[u8] = match b {
                b'&' => b"&amp;",
                b'<' => b"&lt;",
                b'>' => b"&gt;",
                b'\r' => b"&#xD;",
                b'\t' | b'\n' => continue,
                0..0x20 => {
                    return Err(WriteError::ForbiddenCharacter {
                        path: self.path(),
                        character: u32::from(b),
                    });
                }
                // U+FFFE and U+FFFF (EF BF BE / EF BF BF) are the only other characters a Rust
                // string can hold that XML 1.0 forbids.
                0xEF if bytes.get(i + 1) == Some(&0xBF)
                    && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)) =>
                {
                    let c = text[i..].chars().next().unwrap_or('\u{FFFE}');
                    debug_assert!(!is_xml_char(c));
                    return Err(WriteError::ForbiddenCharacter {
                        path: self.path(),
                        character: c as u32,
                    });
                }
                _ => continue,
            };
            self.out.buf.extend_from_slice(&bytes[start..i]);
            self.out.buf.extend_from_slice(escaped);
            start = i + 1;
        }
        self.out.buf.extend_from_slice(&bytes[start..]);
        Ok(())
    }

    /// Text that needs no escaping (literals, base64).
    pub(crate) fn raw_text(&mut self, text: &[u8]) {
        self.out.buf.extend_from_slice(text);
    }

    /// Scratch space for encoders that write into the output buffer directly.
    pub(crate) fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.out.buf
    }

    pub(crate) fn finish(mut self) -> io::Result<W> {
        if self.pretty {
            self.out.buf.push(b'\n');
        }
        self.out.finish()
    }
}
