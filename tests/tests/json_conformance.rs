//! The JSON reader and writer over the aas-core testgen corpora: aas-core3.0-testgen read as
//! V3.0, aas-core3.1-testgen read as V3.1 (each file in the category aas-core3.1 gives it,
//! `VERDICTS.tsv` over the folder). One body per check, run for both.

use std::path::Path;

use aas_conformance_tests::{Corpus, Verdict, assert_each};
use aas_serde::{Document, json};

/// Reads, writes (compact and pretty) and reads back one file; checks the model and the JSON
/// value survive.
fn round_trip(corpus: Corpus, path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let input: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let model = corpus.read_json(path).map_err(|e| format!("read: {e}"))?;
    for written in [json::to_vec(&model), json::to_vec_pretty(&model)] {
        let again: Document =
            json::from_slice_as(&written, corpus.version).map_err(|e| format!("read back: {e}"))?;
        if again != model {
            return Err("model changed in the round trip".into());
        }
        let output: serde_json::Value =
            serde_json::from_slice(&written).map_err(|e| e.to_string())?;
        if output != input {
            return Err(format!(
                "written JSON differs from the input: {}",
                String::from_utf8_lossy(&written)
            ));
        }
    }
    Ok(())
}

fn every_valid_file_round_trips(corpus: Corpus, expected: usize) {
    let files = corpus.files("Json", Verdict::Ok);
    assert_eq!(files.len(), expected, "valid JSON files in the corpus");
    assert_each(&files, |path| round_trip(corpus, path));
}

#[test]
fn every_expected_file_round_trips_to_an_equal_model_and_equal_json() {
    every_valid_file_round_trips(Corpus::V3_0, 2574);
}

#[test]
fn every_v31_file_aas_core_calls_ok_round_trips_to_an_equal_model_and_equal_json() {
    // 2574 Expected, less 36 aas-core3.1 finds invalid, plus 22 Invalid and 8 Unserializable
    // it reads and finds valid.
    every_valid_file_round_trips(Corpus::V3_1, 2574 - 36 + 22 + 8);
}

/// The property an Unserializable file is about, from its file name.
fn property_under_test(path: &Path) -> String {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let kind = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .skip_while(|c| c != "Unserializable")
        .nth(1)
        .unwrap_or_default();
    match kind.as_str() {
        "MissingModelType" | "InvalidModelType" => "modelType".into(),
        "EnumViolation" => stem.split("_as_").next().unwrap_or(stem).into(),
        "UnexpectedAdditionalProperty" => "unexpectedAdditionalProperty".into(),
        _ => stem.into(),
    }
}

fn every_unserializable_file_is_refused_naming_the_property(corpus: Corpus, expected: usize) {
    let files = corpus.files("Json", Verdict::Unserializable);
    assert_eq!(
        files.len(),
        expected,
        "unserializable JSON files in the corpus"
    );
    assert_each(&files, |path| match corpus.read_json(path) {
        Ok(_) => Err("accepted".into()),
        Err(e) => {
            let property = property_under_test(path);
            let message = e.to_string();
            // The message starts with the JSON path (`$` for the root).
            if message.contains(&property) && e.line() > 0 && message.starts_with('$') {
                Ok(())
            } else {
                Err(format!("error does not name {property:?}: {message}"))
            }
        }
    });
}

#[test]
fn every_unserializable_file_is_rejected_with_an_error_naming_the_property() {
    every_unserializable_file_is_refused_naming_the_property(Corpus::V3_0, 464);
}

#[test]
fn every_v31_file_aas_core_cannot_read_is_rejected_with_an_error_naming_the_property() {
    // The Unserializable folder, less the 8 files lacking an attribute V3.1 made optional.
    every_unserializable_file_is_refused_naming_the_property(Corpus::V3_1, 464 - 8);
}

fn every_invalid_file_reads(corpus: Corpus, expected: usize) {
    let files = corpus.files("Json", Verdict::Invalid);
    assert_eq!(files.len(), expected, "invalid JSON files in the corpus");
    assert_each(&files, |path| {
        corpus.read_json(path).map(drop).map_err(|e| e.to_string())
    });
}

#[test]
fn every_invalid_file_reads_without_error() {
    every_invalid_file_reads(Corpus::V3_0, 1573);
}

#[test]
fn every_v31_file_aas_core_calls_invalid_reads_without_error() {
    every_invalid_file_reads(Corpus::V3_1, 1573 - 22 + 36);
}

#[test]
fn v31_files_lacking_what_v30_requires_are_refused_read_as_v30() {
    // The files V3.1 reads and V3.0 refuses: the attributes V3.1 made optional.
    let overrides = Corpus::V3_1.overrides();
    let files: Vec<_> = Corpus::V3_1
        .category("Json", Verdict::Unserializable.folder())
        .into_iter()
        .filter(|path| overrides.get(path) == Some(&Verdict::Ok))
        .collect();
    assert_eq!(files.len(), 8);
    assert_each(&files, |path| match Corpus::V3_0.read_json(path) {
        Ok(_) => Err("accepted as V3.0".into()),
        Err(e) if matches!(e.kind(), json::ErrorKind::MissingInVersion { .. }) => Ok(()),
        Err(e) => Err(format!("not a missing V3.0 attribute: {e}")),
    });
}
