//! The ratio of our typed XML read to a raw quick-xml event scan of the same bytes, measured
//! interleaved (scan, read, scan, read, …) so that a machine whose speed drifts during the run
//! (shared VMs do) affects both sides alike. Criterion's benchmark (`--bench xml`) runs all
//! samples of one function before the next and is better for absolute figures.
//!
//! ```sh
//! cargo run --release -p aas-serde --example xml_read_vs_scan -- target/bench/env-20mb.xml
//! ```

use std::hint::black_box;
use std::time::Instant;

use quick_xml::events::Event;

fn raw_scan(text: &str) -> Result<usize, quick_xml::Error> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut events = 0;
    loop {
        match reader.read_event()? {
            Event::Eof => return Ok(events),
            event => {
                events += 1;
                black_box(&event);
            }
        }
    }
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: xml_read_vs_scan FILE.xml")?;
    let text = std::fs::read_to_string(&path)?;
    let rounds = 15;
    let (mut scan, mut read) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let start = Instant::now();
        black_box(raw_scan(&text)?);
        scan.push(start.elapsed().as_secs_f64());
        let start = Instant::now();
        let env: aas_model::Environment = aas_serde::xml::from_str(&text)?;
        read.push(start.elapsed().as_secs_f64());
        drop(black_box(env));
    }
    let (scan, read) = (median(scan), median(read));
    println!(
        "{} bytes, {rounds} interleaved rounds, medians:",
        text.len()
    );
    println!("  quick-xml raw event scan: {:.1} ms", scan * 1e3);
    println!("  aas-serde typed read:     {:.1} ms", read * 1e3);
    println!("  ratio: {:.2}x", read / scan);
    Ok(())
}
