//! The XML reader and writer over the aas-core testgen corpora (aas-core3.0-testgen, V3.0 by its
//! namespace; aas-core3.1-testgen, V3.1, each file in the category aas-core3.1 gives it), and
//! against the JSON of the same models. One body per check, run for both.

use std::path::Path;

use aas_conformance_tests::{Corpus, Verdict, assert_each};
use aas_serde::{Document, json, xml};

fn findings(document: &Document, version: aas_model::Version) -> usize {
    match document {
        Document::Environment(env) => aas_model::verify_as(env, version).count(),
        Document::EventPayload(payload) => aas_model::verify_as(payload, version).count(),
    }
}

/// Reads, writes (compact and pretty, in the corpus's version) and reads back one file.
fn round_trip(corpus: Corpus, path: &Path) -> Result<(), String> {
    let model = corpus.read_xml(path).map_err(|e| format!("read: {e}"))?;
    for written in [
        xml::to_vec_as(&model, corpus.version),
        xml::to_vec_pretty_as(&model, corpus.version),
    ] {
        let written = written.map_err(|e| format!("write: {e}"))?;
        let (again, version) = xml::from_slice_versioned::<Document>(&written)
            .map_err(|e| format!("read back: {e}"))?;
        if again != model || version != corpus.version {
            return Err(format!(
                "model or version changed in the round trip: {}",
                String::from_utf8_lossy(&written)
            ));
        }
    }
    Ok(())
}

fn every_valid_file_round_trips(corpus: Corpus, expected: usize) {
    let files = corpus.files("Xml", Verdict::Ok);
    assert_eq!(files.len(), expected, "valid XML files in the corpus");
    assert_each(&files, |path| round_trip(corpus, path));
}

#[test]
fn every_expected_file_reads_writes_and_reads_back_equal() {
    every_valid_file_round_trips(Corpus::V3_0, 2574);
}

#[test]
fn every_v31_file_aas_core_calls_ok_reads_writes_and_reads_back_equal() {
    // 2574 Expected, less 36 aas-core3.1 finds invalid, plus 22 Invalid and 8 Unserializable
    // it reads and finds valid.
    every_valid_file_round_trips(Corpus::V3_1, 2574 - 36 + 22 + 8);
}

fn every_unserializable_file_is_refused_with_a_path(corpus: Corpus, expected: usize) {
    let files = corpus.files("Xml", Verdict::Unserializable);
    assert_eq!(
        files.len(),
        expected,
        "unserializable XML files in the corpus"
    );
    assert_each(&files, |path| match corpus.read_xml(path) {
        Ok(_) => Err("accepted".into()),
        Err(e) if e.line() > 0 && e.path_string().len() > 1 => Ok(()),
        Err(e) => Err(format!("error without path or position: {e}")),
    });
}

#[test]
fn every_unserializable_file_is_rejected_with_a_position() {
    every_unserializable_file_is_refused_with_a_path(Corpus::V3_0, 376);
}

#[test]
fn every_v31_file_aas_core_cannot_read_is_rejected_with_a_path_and_position() {
    // The Unserializable folder, less the 8 files lacking an attribute V3.1 made optional.
    every_unserializable_file_is_refused_with_a_path(Corpus::V3_1, 376 - 8);
}

#[test]
fn every_invalid_file_reads_and_has_a_finding() {
    let files = Corpus::V3_0.files("Xml", Verdict::Invalid);
    assert_eq!(files.len(), 1407);
    assert_each(&files, |path| {
        let document = Corpus::V3_0
            .read_xml(path)
            .map_err(|e| format!("read: {e}"))?;
        if findings(&document, aas_model::Version::V3_0) > 0 {
            Ok(())
        } else {
            Err("no finding".into())
        }
    });
}

#[test]
fn every_v31_file_aas_core_calls_invalid_reads() {
    // Findings under V3.1's rules are verification's to show (verify_conformance).
    let files = Corpus::V3_1.files("Xml", Verdict::Invalid);
    assert_eq!(files.len(), 1407 - 22 + 36);
    assert_each(&files, |path| {
        Corpus::V3_1
            .read_xml(path)
            .map(drop)
            .map_err(|e| format!("read: {e}"))
    });
}

/// The XML and JSON twins of every valid file read equal, and JSON → XML → JSON writes the
/// same JSON.
fn json_and_xml_twins_read_equal(corpus: Corpus) {
    let files = corpus.files("Xml", Verdict::Ok);
    assert_each(&files, |path| {
        let twin = corpus.json_twin(path);
        let from_xml = corpus.read_xml(path).map_err(|e| format!("xml: {e}"))?;
        let from_json = corpus
            .read_json(&twin)
            .map_err(|e| format!("{}: {e}", twin.display()))?;
        if from_xml != from_json {
            return Err(format!("differs from {}", twin.display()));
        }
        let written = xml::to_vec_as(&from_json, corpus.version).map_err(|e| e.to_string())?;
        let via_xml: Document = xml::from_slice(&written).map_err(|e| format!("read back: {e}"))?;
        if json::to_vec(&via_xml) != json::to_vec(&from_json) {
            return Err("JSON -> XML -> JSON changed the JSON".into());
        }
        Ok(())
    });
}

#[test]
fn json_and_xml_of_the_same_model_read_equal_and_json_to_xml_to_json_is_lossless() {
    json_and_xml_twins_read_equal(Corpus::V3_0);
}

#[test]
fn v31_json_and_xml_of_the_same_model_read_equal_and_json_to_xml_to_json_is_lossless() {
    json_and_xml_twins_read_equal(Corpus::V3_1);
}

#[test]
fn v31_documents_lacking_what_v30_requires_are_refused_in_the_v30_namespace() {
    // The V3.1 files that read only because V3.1 made an attribute optional, rewritten into
    // the V3.0 namespace: refused, naming the attribute.
    let overrides = Corpus::V3_1.overrides();
    let files: Vec<_> = Corpus::V3_1
        .category("Xml", Verdict::Unserializable.folder())
        .into_iter()
        .filter(|path| overrides.get(path) == Some(&Verdict::Ok))
        .collect();
    assert_eq!(files.len(), 8);
    assert_each(&files, |path| {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        let as_v30 = text.replace(
            aas_model::Version::V3_1.xml_namespace(),
            aas_model::Version::V3_0.xml_namespace(),
        );
        match xml::from_str::<Document>(&as_v30) {
            Ok(_) => Err("accepted as V3.0".into()),
            Err(e) if matches!(e.kind(), xml::ErrorKind::MissingInVersion { .. }) => Ok(()),
            Err(e) => Err(format!("not a missing V3.0 attribute: {e}")),
        }
    });
}
