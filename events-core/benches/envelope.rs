//! Envelope and CloudEvent encode/decode of a 50 KB submodel, beside raw gzip and gunzip of the
//! same AAS JSON bytes (the floor: every envelope is gzip of about those bytes).
//!
//! ```sh
//! cargo bench -p events-core --bench envelope
//! ```

use std::hint::black_box;
use std::io::{Read, Write};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use events_core::{ChangeEvent, CloudEventCodec, EventClock, EventKind, TopicScheme, envelope};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use aas_conformance_tests::bench_input as sample;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

fn envelope_benches(c: &mut Criterion) {
    let submodel = sample::submodel_of_size(50_000);
    let json = aas_serde::json::to_vec(&submodel);
    let event = ChangeEvent::Submodel {
        kind: EventKind::Updated,
        timestamp: EventClock::new().next_timestamp(),
        submodel: Box::new(submodel),
        affected_shell_ids: vec!["https://example.com/aas/1".into()],
    };
    let scheme = TopicScheme::twinsphere();
    let (element, id) = event.element();
    let topic = scheme
        .parse(&scheme.topic(element, id, event.kind()))
        .unwrap();
    let message = envelope::encode(&event);
    let gzipped = gzip(&json);
    let codec = CloudEventCodec::new("https://aas.example.com").with_gzip(true);
    let cloud_event = codec.encode(&event).unwrap();
    eprintln!(
        "submodel JSON {} bytes, envelope {} bytes, raw gzip {} bytes, gzip CloudEvent {} bytes",
        json.len(),
        message.len(),
        gzipped.len(),
        cloud_event.len()
    );

    let ChangeEvent::Submodel {
        submodel: event_submodel,
        ..
    } = &event
    else {
        unreachable!("built as a submodel event")
    };
    let event_submodel = event_submodel.as_ref();
    let mut encode = c.benchmark_group("encode-50kb-submodel");
    encode.throughput(Throughput::Bytes(json.len() as u64));
    encode.bench_function("envelope (JSON + gzip)", |b| {
        b.iter(|| envelope::encode(black_box(&event)))
    });
    encode.bench_function("CloudEvent (JSON + gzip)", |b| {
        b.iter(|| codec.encode(black_box(&event)).unwrap())
    });
    encode.bench_function("raw gzip of the JSON", |b| {
        b.iter(|| gzip(black_box(&json)))
    });
    encode.bench_function("aas-serde write + raw gzip", |b| {
        b.iter(|| gzip(&aas_serde::json::to_vec(black_box(event_submodel))))
    });
    encode.finish();

    let mut decode = c.benchmark_group("decode-50kb-submodel");
    decode.throughput(Throughput::Bytes(json.len() as u64));
    decode.bench_function("envelope (gunzip + JSON + AAS)", |b| {
        b.iter(|| envelope::decode(&topic, black_box(&message), 1 << 24).unwrap())
    });
    decode.bench_function("CloudEvent (gunzip + JSON + AAS)", |b| {
        b.iter(|| codec.decode(black_box(&cloud_event), 1 << 24).unwrap())
    });
    decode.bench_function("raw gunzip", |b| b.iter(|| gunzip(black_box(&gzipped))));
    decode.bench_function("raw gunzip + aas-serde read", |b| {
        b.iter(|| {
            aas_serde::json::from_slice::<aas_model::Submodel>(&gunzip(black_box(&gzipped)))
                .unwrap()
        })
    });
    decode.finish();
}

criterion_group!(benches, envelope_benches);
criterion_main!(benches);
