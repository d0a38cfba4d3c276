//! Peak heap memory of reading a JSON file into an `Environment`, as a multiple of the file
//! size. The input bytes count: they are read from the file inside the measured span.
//!
//! ```sh
//! cargo run --release -p aas-serde --example json_read_memory -- target/bench/env-20mb.json
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts live and peak heap bytes.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    // Forwarded, so that a block the system allocator grows in place is not counted twice.
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, layout, new_size) };
        if !q.is_null() {
            if new_size >= layout.size() {
                let live = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                    - layout.size();
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        q
    }
}

/// Peak resident set size of the process so far (Linux `VmHWM`), in bytes.
fn peak_rss() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: json_read_memory FILE.json")?;
    let size = std::fs::metadata(&path)?.len() as usize;
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let env: aas_model::Environment = aas_serde::json::from_reader(std::fs::File::open(&path)?)?;
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let model = LIVE.load(Ordering::Relaxed) - before;
    println!("file: {size} bytes");
    println!(
        "model after read: {model} bytes ({:.2}x the file)",
        model as f64 / size as f64
    );
    println!(
        "peak heap during read (input bytes included): {peak} bytes ({:.2}x the file)",
        peak as f64 / size as f64
    );
    if let Some(rss) = peak_rss() {
        println!(
            "peak RSS of the process: {rss} bytes ({:.2}x the file)",
            rss as f64 / size as f64
        );
    }
    drop(env);
    Ok(())
}
