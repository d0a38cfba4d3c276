//! A JSON emitter that writes straight from the model: a buffer flushed in chunks, no value tree.

use std::io::{self, Write};

use crate::output::ChunkedOutput;

/// The JSON emitter (public only so that [`super::ToJson`] can name it; not reachable).
#[allow(missing_debug_implementations)]
pub struct Writer<W: Write> {
    out: ChunkedOutput<W>,
    /// `Some(level)` when pretty-printing.
    indent: Option<usize>,
    /// True right after `{` or `[`: the next member needs no comma.
    first: bool,
}

/// Bytes that need escaping in a JSON string: `"`, `\` and control characters.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = true;
        i += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

impl<W: Write> Writer<W> {
    pub(crate) fn new(out: W, pretty: bool) -> Self {
        Self {
            out: ChunkedOutput::new(out),
            indent: pretty.then_some(0),
            first: true,
        }
    }

    fn newline(&mut self) {
        if let Some(level) = self.indent {
            self.out.buf.push(b'\n');
            self.out.buf.resize(self.out.buf.len() + 2 * level, b' ');
        }
    }

    fn separator(&mut self) {
        if !self.first {
            self.out.buf.push(b',');
        }
        self.first = false;
        self.newline();
    }

    pub(crate) fn begin_object(&mut self) {
        self.out.buf.push(b'{');
        self.open();
    }

    pub(crate) fn end_object(&mut self) {
        self.close(b'}');
    }

    pub(crate) fn begin_array(&mut self) {
        self.out.buf.push(b'[');
        self.open();
    }

    pub(crate) fn end_array(&mut self) {
        self.close(b']');
    }

    fn open(&mut self) {
        self.first = true;
        if let Some(level) = &mut self.indent {
            *level += 1;
        }
    }

    fn close(&mut self, bracket: u8) {
        if let Some(level) = &mut self.indent {
            *level -= 1;
        }
        if !self.first {
            self.newline();
        }
        self.out.buf.push(bracket);
        self.first = false;
        self.out.maybe_flush();
    }

    /// Starts an array item.
    pub(crate) fn item(&mut self) {
        self.separator();
    }

    /// Writes a property name (a constant that needs no escaping) and the colon.
    pub(crate) fn key(&mut self, name: &'static str) {
        self.separator();
        self.out.buf.push(b'"');
        self.out.buf.extend_from_slice(name.as_bytes());
        self.out.buf.extend_from_slice(if self.indent.is_some() {
            b"\": "
        } else {
            b"\":"
        });
    }

    pub(crate) fn string(&mut self, s: &str) {
        self.out.buf.push(b'"');
        let bytes = s.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if !NEEDS_ESCAPE[b as usize] {
                continue;
            }
            self.out.buf.extend_from_slice(&bytes[start..i]);
            match b {
                b'"' => self.out.buf.extend_from_slice(b"\\\""),
                b'\\' => self.out.buf.extend_from_slice(b"\\\\"),
                b'\n' => self.out.buf.extend_from_slice(b"\\n"),
                b'\r' => self.out.buf.extend_from_slice(b"\\r"),
                b'\t' => self.out.buf.extend_from_slice(b"\\t"),
                0x08 => self.out.buf.extend_from_slice(b"\\b"),
                0x0C => self.out.buf.extend_from_slice(b"\\f"),
                _ => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    self.out.buf.extend_from_slice(b"\\u00");
                    self.out.buf.push(HEX[(b >> 4) as usize]);
                    self.out.buf.push(HEX[(b & 0xF) as usize]);
                }
            }
            start = i + 1;
        }
        self.out.buf.extend_from_slice(&bytes[start..]);
        self.out.buf.push(b'"');
    }

    pub(crate) fn boolean(&mut self, value: bool) {
        self.out
            .buf
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    /// Scratch space for encoders that write into the output buffer directly.
    pub(crate) fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.out.buf
    }

    pub(crate) fn finish(self) -> io::Result<W> {
        self.out.finish()
    }
}
