//! What the JSON and XML writers share: a buffer handed to the output in chunks, and the
//! line and column of a byte offset for the readers' errors.

use std::io::{self, Write};

/// The buffer is handed to the output whenever it grows past this.
const FLUSH_AT: usize = 64 * 1024;

/// Output buffered in chunks: writers append to [`ChunkedOutput::buf`] and call
/// [`ChunkedOutput::maybe_flush`] at element boundaries; the first I/O error is kept and
/// returned by [`ChunkedOutput::finish`], so appending itself cannot fail.
pub(crate) struct ChunkedOutput<W: Write> {
    out: W,
    pub(crate) buf: Vec<u8>,
    error: Option<io::Error>,
    flush_at: usize,
}

impl<W: Write> ChunkedOutput<W> {
    pub(crate) fn new(out: W) -> Self {
        Self {
            out,
            buf: Vec::with_capacity(FLUSH_AT + 4096),
            error: None,
            flush_at: FLUSH_AT,
        }
    }

    pub(crate) fn maybe_flush(&mut self) {
        if self.buf.len() >= self.flush_at {
            self.flush_buffer();
        }
    }

    fn flush_buffer(&mut self) {
        if self.error.is_none()
            && let Err(e) = self.out.write_all(&self.buf)
        {
            self.error = Some(e);
        }
        self.buf.clear();
    }

    /// Writes what is buffered and flushes; the first I/O error, if any.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.flush_buffer();
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

impl ChunkedOutput<io::Sink> {
    /// Output kept whole in memory: the buffer is the result, never flushed (writing into a
    /// `Vec` through chunks would copy every byte once more).
    pub(crate) fn in_memory() -> Self {
        Self {
            out: io::sink(),
            buf: Vec::new(),
            error: None,
            flush_at: usize::MAX,
        }
    }

    /// What was written.
    pub(crate) fn into_buffer(self) -> Vec<u8> {
        self.buf
    }
}

/// Line and column (both from 1, the column in bytes) of a byte offset in `input`.
pub(crate) fn line_column(input: &[u8], offset: usize) -> (usize, usize) {
    let before = &input[..offset.min(input.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, before.len() - line_start + 1)
}
