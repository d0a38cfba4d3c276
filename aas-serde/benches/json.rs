//! JSON read and write of a large environment, beside `serde_json::Value` on the same bytes,
//! and verification of the same environment beside its read.
//!
//! The input is `make_big_env.py`'s 20 MB environment (`AAS_BENCH_JSON` names another file);
//! it is generated into `target/bench/` on first use with the oracle venv (`common/mod.rs`).
//!
//! ```sh
//! cargo bench -p aas-serde --bench json
//! ```

use std::hint::black_box;

use aas_model::Environment;
use aas_serde::json;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use aas_conformance_tests::bench_input as common;

fn json_benches(c: &mut Criterion) {
    let bytes = std::fs::read(common::input("json")).expect("benchmark input");
    let env: Environment = json::from_slice(&bytes).expect("benchmark input reads");
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();

    let mut read = c.benchmark_group("json-read");
    read.sample_size(20)
        .throughput(Throughput::Bytes(bytes.len() as u64));
    read.bench_function("aas-serde Environment", |b| {
        b.iter(|| json::from_slice::<Environment>(black_box(&bytes)).unwrap())
    });
    read.bench_function("serde_json Value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&bytes)).unwrap())
    });
    read.finish();

    let mut verify = c.benchmark_group("verify");
    verify
        .sample_size(20)
        .throughput(Throughput::Bytes(bytes.len() as u64));
    // The input is valid under V3.0 and has V3.1 findings (non-ASCII xs:anyURI values): both
    // versions are measured, the V3.0 one on a model without findings.
    verify.bench_function("aas-model verify_as V3.0", |b| {
        b.iter(|| aas_model::verify_as(black_box(&env), aas_model::Version::V3_0).count())
    });
    verify.bench_function("aas-model verify_as V3.1", |b| {
        b.iter(|| aas_model::verify_as(black_box(&env), aas_model::Version::V3_1).count())
    });
    verify.bench_function("aas-serde read (for comparison)", |b| {
        b.iter(|| json::from_slice::<Environment>(black_box(&bytes)).unwrap())
    });
    verify.finish();

    let compact_len = json::to_vec(&env).len();
    let mut write = c.benchmark_group("json-write");
    write
        .sample_size(20)
        .throughput(Throughput::Bytes(compact_len as u64));
    write.bench_function("aas-serde Environment", |b| {
        b.iter(|| json::to_vec(black_box(&env)))
    });
    write.bench_function("serde_json Value", |b| {
        b.iter(|| serde_json::to_vec(black_box(&value)).unwrap())
    });
    write.bench_function("aas-serde Environment pretty", |b| {
        b.iter(|| json::to_vec_pretty(black_box(&env)))
    });
    write.bench_function("serde_json Value pretty", |b| {
        b.iter(|| serde_json::to_vec_pretty(black_box(&value)).unwrap())
    });
    write.finish();
}

criterion_group!(benches, json_benches);
criterion_main!(benches);
