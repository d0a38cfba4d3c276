//! XML read and write of the large benchmark environment, beside a raw quick-xml event scan of
//! the same bytes (the floor for any XML reader built on quick-xml).
//!
//! ```sh
//! cargo bench -p aas-serde --bench xml
//! ```

use std::hint::black_box;

use aas_model::Environment;
use aas_serde::xml;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use quick_xml::events::Event;

use aas_conformance_tests::bench_input as common;

/// Reads every event and touches its bytes, as the cheapest possible consumer would.
fn raw_scan(text: &str) -> usize {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut events = 0;
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => return events,
            Ok(event) => {
                events += 1;
                black_box(&event);
            }
            Err(e) => panic!("benchmark input is not XML: {e}"),
        }
    }
}

/// The same scan with namespace resolution, as the typed reader needs it.
fn namespace_scan(text: &str) -> usize {
    let mut reader = quick_xml::NsReader::from_str(text);
    let mut events = 0;
    loop {
        match reader.read_resolved_event() {
            Ok((_, Event::Eof)) => return events,
            Ok((ns, event)) => {
                events += 1;
                black_box((&ns, &event));
            }
            Err(e) => panic!("benchmark input is not XML: {e}"),
        }
    }
}

fn xml_benches(c: &mut Criterion) {
    let text = std::fs::read_to_string(common::input("xml")).expect("benchmark input");
    let env: Environment = xml::from_str(&text).expect("benchmark input reads");

    let mut read = c.benchmark_group("xml-read");
    read.sample_size(20)
        .throughput(Throughput::Bytes(text.len() as u64));
    read.bench_function("aas-serde Environment", |b| {
        b.iter(|| xml::from_str::<Environment>(black_box(&text)).unwrap())
    });
    read.bench_function("quick-xml raw event scan", |b| {
        b.iter(|| raw_scan(black_box(&text)))
    });
    read.bench_function("quick-xml namespace-resolving scan", |b| {
        b.iter(|| namespace_scan(black_box(&text)))
    });
    read.finish();

    let written_len = xml::to_vec(&env).unwrap().len();
    let mut write = c.benchmark_group("xml-write");
    write
        .sample_size(20)
        .throughput(Throughput::Bytes(written_len as u64));
    write.bench_function("aas-serde Environment", |b| {
        b.iter(|| xml::to_vec(black_box(&env)).unwrap())
    });
    write.bench_function("aas-serde Environment pretty", |b| {
        b.iter(|| xml::to_vec_pretty(black_box(&env)).unwrap())
    });
    write.finish();
}

criterion_group!(benches, xml_benches);
criterion_main!(benches);
