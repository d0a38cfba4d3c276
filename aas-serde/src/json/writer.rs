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

/// Whether any byte of `bytes` needs escaping, eight bytes at a time (most strings need none,
/// and most are short: the last word overlaps the one before it, and a string shorter than a
/// word is padded, so no string is checked byte by byte).
#[inline]
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    /// Whether a byte of `word` is zero (exact for "any", the classic bit trick).
    fn has_zero(word: u64) -> bool {
        word.wrapping_sub(ONES) & !word & HIGH != 0
    }
    fn word_needs_escape(word: [u8; 8]) -> bool {
        let word = u64::from_le_bytes(word);
        // A byte below 0x20 (exact for "any" when the bound is at most 0x80), `"` or `\`.
        let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH != 0;
        control
            || has_zero(word ^ (ONES * u64::from(b'"')))
            || has_zero(word ^ (ONES * u64::from(b'\\')))
    }
    let Some(last) = bytes.last_chunk::<8>() else {
        // Padding that needs no escaping.
        let mut word = [b' '; 8];
        word[..bytes.len()].copy_from_slice(bytes);
        return word_needs_escape(word);
    };
    let mut words = bytes.chunks_exact(8);
    for chunk in &mut words {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        if word_needs_escape(word) {
            return true;
        }
    }
    !words.remainder().is_empty() && word_needs_escape(*last)
}

impl Writer<io::Sink> {
    /// A writer whose output is kept whole in memory ([`Writer::into_buffer`]).
    pub(crate) fn in_memory(pretty: bool) -> Self {
        Self {
            out: ChunkedOutput::in_memory(),
            indent: pretty.then_some(0),
            first: true,
        }
    }

    /// What was written.
    pub(crate) fn into_buffer(self) -> Vec<u8> {
        self.out.into_buffer()
    }
}

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

    /// Writes a property name: `member` is the quoted name with a comma before and the colon
    /// after (`,"id":`, a constant that needs no escaping).
    pub(crate) fn key(&mut self, member: &'static str) {
        let quoted = member.get(1..).unwrap_or_default();
        if self.indent.is_some() {
            self.separator();
            self.out.buf.extend_from_slice(quoted.as_bytes());
            self.out.buf.push(b' ');
        } else if self.first {
            self.first = false;
            self.out.buf.extend_from_slice(quoted.as_bytes());
        } else {
            self.out.buf.extend_from_slice(member.as_bytes());
        }
    }

    pub(crate) fn string(&mut self, s: &str) {
        let bytes = s.as_bytes();
        self.out.buf.reserve(bytes.len() + 2);
        self.out.buf.push(b'"');
        if needs_escape(bytes) {
            self.escaped(bytes);
        } else {
            self.out.buf.extend_from_slice(bytes);
        }
        self.out.buf.push(b'"');
    }

    fn escaped(&mut self, bytes: &[u8]) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_at_a_time_escape_check_agrees_with_the_table_for_every_byte_anywhere() {
        assert!(!needs_escape(b""));
        // Neighbours that borrow in the bit trick: zero-like, high and control bytes.
        for filler in [b'a', 0x80, 0xFF, 0x21, b'!', 0x7F] {
            for len in 1..=19 {
                for at in 0..len {
                    for b in 0..=255u8 {
                        let mut bytes = vec![filler; len];
                        bytes[at] = b;
                        let expected = bytes.iter().any(|&x| NEEDS_ESCAPE[x as usize]);
                        assert_eq!(
                            needs_escape(&bytes),
                            expected,
                            "byte {b:#04x} at {at} of {len}, filler {filler:#04x}"
                        );
                    }
                }
            }
        }
    }
}
