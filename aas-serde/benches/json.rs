//! JSON read and write of a large environment, beside `serde_json::Value` on the same bytes,
//! and verification of the same environment beside its read.
//!
//! The input is `make_big_env.py`'s 20 MB environment (`AAS_BENCH_JSON` names another file);
//! it is generated into `target/bench/` on first use with the oracle venv.
//!
//! ```sh
//! cargo bench -p aas-serde --bench json
//! ```

use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;

use aas_model::Environment;
use aas_serde::json;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The benchmark file, generated when missing.
fn input() -> PathBuf {
    if let Some(path) = std::env::var_os("AAS_BENCH_JSON") {
        return PathBuf::from(path);
    }
    let prefix = workspace().join("target/bench/env-20mb");
    let file = prefix.with_extension("json");
    if !file.exists() {
        let tools = workspace().join("../shared/tools");
        let setup = Command::new("bash")
            .arg(tools.join("oracles/setup.sh"))
            .output()
            .expect("run setup.sh");
        assert!(
            setup.status.success(),
            "oracle setup failed: {}",
            String::from_utf8_lossy(&setup.stderr)
        );
        let python = String::from_utf8_lossy(&setup.stdout).trim().to_owned();
        std::fs::create_dir_all(prefix.parent().unwrap()).unwrap();
        let status = Command::new(python)
            .arg(tools.join("bench/make_big_env.py"))
            .args(["--size-mb", "20", "--out"])
            .arg(&prefix)
            .status()
            .expect("run make_big_env.py");
        assert!(status.success(), "make_big_env.py failed");
    }
    file
}

fn json_benches(c: &mut Criterion) {
    let bytes = std::fs::read(input()).expect("benchmark input");
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
    verify.bench_function("aas-model verify", |b| {
        b.iter(|| aas_model::verify(black_box(&env)).count())
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
