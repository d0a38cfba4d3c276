//! Our XML output is accepted by aas-core of the corpus's version, and what we write from a
//! file of one format in the other (JSON → XML, XML → JSON) or the same (XML → XML) is the same
//! model as that file in aas-core's eyes: aas-core3.0-testgen as V3.0, aas-core3.1-testgen as
//! V3.1, every file that de-serializes (the outputs of valid ones also verify).

use std::path::{Path, PathBuf};

use aas_conformance_tests::{Corpus, assert_written_as_read, write_each};
use aas_serde::{json, xml};

fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Reads every file of `from` that de-serializes, writes it as `to` (XML in the corpus's
/// version), and has aas-core judge. The XML writer refuses only models that hold characters
/// XML 1.0 cannot carry, which only invalid JSON files do.
fn written_is_the_same_model(corpus: Corpus, from: &str, to: &str, dir: &str) {
    let dir = out_dir(dir);
    let inputs = corpus.readable(from);
    let written = write_each(corpus, &inputs, &dir, to, |document| match to {
        "xml" => xml::to_vec_as(document, corpus.version).map_err(|e| e.to_string()),
        _ => Ok(json::to_vec(document)),
    });
    written.assert_only_invalid_refused(corpus, "cannot be written in XML 1.0");
    eprintln!(
        "{} of {} written; {} invalid ones refused for characters XML cannot carry",
        written.pairs.len(),
        inputs.len(),
        written.refused.len()
    );
    assert_written_as_read(corpus, &written.pairs, &dir.join("pairs.tsv"));
}

#[test]
fn aas_core_accepts_the_xml_we_write() {
    written_is_the_same_model(Corpus::V3_0, "Xml", "xml", "xml-interop");
}

#[test]
fn aas_core31_accepts_the_v31_xml_we_write_and_finds_it_the_same_model() {
    written_is_the_same_model(Corpus::V3_1, "Xml", "xml", "xml-interop-v31");
}

#[test]
fn xml_written_from_json_is_the_same_model_for_aas_core() {
    written_is_the_same_model(Corpus::V3_0, "Json", "xml", "json-to-xml");
}

#[test]
fn v31_xml_written_from_json_is_the_same_model_for_aas_core31() {
    written_is_the_same_model(Corpus::V3_1, "Json", "xml", "json-to-xml-v31");
}

#[test]
fn json_written_from_xml_is_the_same_model_for_aas_core() {
    written_is_the_same_model(Corpus::V3_0, "Xml", "json", "xml-to-json");
}

#[test]
fn v31_json_written_from_xml_is_the_same_model_for_aas_core31() {
    written_is_the_same_model(Corpus::V3_1, "Xml", "json", "xml-to-json-v31");
}
