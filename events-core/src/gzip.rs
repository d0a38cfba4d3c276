//! Gzip of a message whose large middle part is compressed ahead of time.
//!
//! An event's message is small text that only exists once the event has its timestamp
//! (`{"version":"1.0","timestamp":"…","payload":`), the element's JSON (large, known before),
//! and a small tail (`,"affectedShellIds":[…]}`). A server must take the timestamp in commit
//! order, that is while it holds its writer lock, but compressing the element there would make
//! every other writer wait for it. So the middle is deflated beforehand into byte-aligned
//! blocks that refer to nothing before them ([`Deflated`]), and [`around`] frames it: the head
//! as a stored (uncompressed) block, the middle's blocks, the tail as the final stored block,
//! and the gzip trailer with the CRC-32 of the whole (combined, not recomputed) and its length.
//! Any gzip reader reads the result as one member; only the few bytes of head and tail are
//! left uncompressed.

use std::cell::RefCell;
use std::io::Write;

use flate2::write::GzEncoder;
use flate2::{Compress, Compression, FlushCompress};

/// The most a stored deflate block holds.
const STORED_MAX: usize = 65_535;

/// Gzip's header: deflate, no name, no time, "fastest" compression, unknown system.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 0xff];

thread_local! {
    /// One compressor per thread, reset before each use: making one allocates and clears its
    /// window and tables (a few percent of the CPU of a 50 KB submodel's write), resetting it
    /// clears only its state. It stays allocated (a few hundred KiB) while the thread lives.
    static COMPRESSOR: RefCell<Option<Compress>> = const { RefCell::new(None) };
}

/// Bytes deflated into blocks that end on a byte boundary (a sync flush) and are not final:
/// they can stand between other deflate blocks.
#[derive(Debug, Clone)]
pub(crate) struct Deflated {
    blocks: Vec<u8>,
    crc: crc32fast::Hasher,
    len: u64,
}

impl Deflated {
    /// Deflates `bytes` with a fresh compressor (its blocks refer only to themselves).
    pub(crate) fn new(bytes: &[u8]) -> Self {
        COMPRESSOR.with(|slot| {
            let mut slot = slot.borrow_mut();
            let compress = slot.get_or_insert_with(|| Compress::new(Compression::fast(), false));
            // A reset compressor is a fresh one: no block refers to earlier input.
            compress.reset();
            Self::with(compress, bytes)
        })
    }

    fn with(compress: &mut Compress, bytes: &[u8]) -> Self {
        let mut blocks = Vec::with_capacity(bytes.len() / 4 + 64);
        loop {
            if blocks.capacity() - blocks.len() < 64 {
                blocks.reserve(blocks.capacity().max(1024));
            }
            let consumed = usize::try_from(compress.total_in()).unwrap_or(usize::MAX);
            let rest = bytes.get(consumed..).unwrap_or_default();
            // Compressing into a Vec with spare room cannot fail (no stream error is
            // possible with a fresh, well-formed compressor); stop rather than loop if it did.
            if compress
                .compress_vec(rest, &mut blocks, FlushCompress::Sync)
                .is_err()
            {
                break;
            }
            let done = usize::try_from(compress.total_in()).unwrap_or(usize::MAX) >= bytes.len();
            // The flush is complete once all input is taken and the output did not fill up.
            if done && blocks.len() < blocks.capacity() {
                break;
            }
        }
        let mut crc = crc32fast::Hasher::new();
        crc.update(bytes);
        Self {
            blocks,
            crc,
            len: bytes.len() as u64,
        }
    }
}

/// Appends `bytes` as stored blocks, the last one final if `last`.
fn stored(out: &mut Vec<u8>, bytes: &[u8], last: bool) {
    let mut chunks = bytes.chunks(STORED_MAX).peekable();
    if chunks.peek().is_none() {
        // An empty final block still has to end the stream.
        if last {
            out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
        }
        return;
    }
    while let Some(chunk) = chunks.next() {
        let final_block = last && chunks.peek().is_none();
        // BFINAL and BTYPE 00 in the low bits, padded to the byte (the previous block ended
        // on a byte boundary), then LEN and NLEN little-endian.
        let len = chunk.len() as u16;
        out.push(u8::from(final_block));
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
}

/// The gzip member of `head`, the deflated `middle` and `tail`, in that order.
pub(crate) fn around(head: &[u8], middle: &Deflated, tail: &[u8]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(HEADER.len() + head.len() + middle.blocks.len() + tail.len() + 32);
    out.extend_from_slice(&HEADER);
    stored(&mut out, head, false);
    out.extend_from_slice(&middle.blocks);
    stored(&mut out, tail, true);
    let mut crc = crc32fast::Hasher::new();
    crc.update(head);
    crc.combine(&middle.crc);
    crc.update(tail);
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    let len = head.len() as u64 + middle.len + tail.len() as u64;
    // ISIZE is the length modulo 2^32.
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out
}

/// Gzip of `json` in one go (messages without a prepared part).
pub(crate) fn whole(json: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(json.len() / 4 + 64), Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(json);
    encoder.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn a_prepared_middle_framed_later_reads_as_one_gzip_member() -> std::io::Result<()> {
        let middle: Vec<u8> = (0..200_000u32)
            .flat_map(|n| format!("{{\"n\":{}}},", n % 977).into_bytes())
            .collect();
        let big_head = vec![b'h'; 70_000];
        for (head, middle, tail) in [
            (
                &b"{\"timestamp\":\"2026\",\"payload\":"[..],
                &middle[..],
                &b"}"[..],
            ),
            (b"", b"", b""),
            (b"head", b"", b""),
            (b"", b"x", b""),
            (&big_head[..], b"middle", &big_head[..]),
        ] {
            let framed = around(head, &Deflated::new(middle), tail);
            let expected = [head, middle, tail].concat();
            assert_eq!(gunzip(&framed)?, expected);
        }
        Ok(())
    }

    #[test]
    fn the_prepared_middle_is_compressed() {
        let middle = vec![b'a'; 100_000];
        let framed = around(b"{", &Deflated::new(&middle), b"}");
        assert!(framed.len() < 2_000, "{} bytes", framed.len());
    }
}
