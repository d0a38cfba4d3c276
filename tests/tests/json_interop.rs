//! Our JSON output is accepted by an independent implementation: aas-core of the corpus's
//! version (aas-core3.0-python for aas-core3.0-testgen, aas-core3.1-python for
//! aas-core3.1-testgen) finds what we write of every file that de-serializes the same model as
//! that file, and reads and verifies what we write of every valid one.

use std::path::{Path, PathBuf};

use aas_conformance_tests::{Corpus, assert_written_as_read, write_each};
use aas_serde::json;

fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// JSON → our reader → our writer → JSON, judged by aas-core.
fn json_we_write_is_the_same_model(corpus: Corpus, dir: &str, readable: usize) {
    let dir = out_dir(dir);
    let inputs = corpus.readable("Json");
    assert_eq!(inputs.len(), readable, "JSON files that de-serialize");
    let written = write_each(corpus, &inputs, &dir, "json", |document| {
        Ok(json::to_vec(document))
    });
    assert_written_as_read(corpus, &written.pairs, &dir.join("pairs.tsv"));
}

#[test]
fn aas_core_accepts_everything_we_write() {
    json_we_write_is_the_same_model(Corpus::V3_0, "json-interop", 2574 + 1573);
}

#[test]
fn aas_core31_accepts_the_v31_json_we_write_and_finds_it_the_same_model() {
    json_we_write_is_the_same_model(Corpus::V3_1, "json-interop-v31", 2574 + 1573 + 8);
}
