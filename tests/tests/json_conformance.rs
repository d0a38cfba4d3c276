//! The JSON reader and writer over the aas-core3.0-testgen corpus.

use std::path::Path;

use aas_conformance_tests::{assert_each, category, read_json_corpus_file};
use aas_serde::{Document, json};

/// Reads, writes (compact and pretty) and reads back one Expected file; checks the model and
/// the JSON value survive.
fn round_trip(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let input: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let model = read_json_corpus_file(path).map_err(|e| format!("read: {e}"))?;
    for written in [json::to_vec(&model), json::to_vec_pretty(&model)] {
        let again: Document = json::from_slice(&written).map_err(|e| format!("read back: {e}"))?;
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

#[test]
fn every_expected_file_round_trips_to_an_equal_model_and_equal_json() {
    let files = category("Json", "Expected");
    assert_eq!(files.len(), 2574, "Expected files in the corpus");
    assert_each(&files, round_trip);
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

#[test]
fn every_unserializable_file_is_rejected_with_an_error_naming_the_property() {
    let files = category("Json", "Unexpected/Unserializable");
    assert_eq!(files.len(), 464, "Unserializable files in the corpus");
    assert_each(&files, |path| match read_json_corpus_file(path) {
        Ok(_) => Err("accepted".into()),
        Err(e) => {
            let property = property_under_test(path);
            let message = e.to_string();
            if message.contains(&property) && e.line() > 0 {
                Ok(())
            } else {
                Err(format!("error does not name {property:?}: {message}"))
            }
        }
    });
}

#[test]
fn every_invalid_file_reads_without_error() {
    let files = category("Json", "Unexpected/Invalid");
    assert_eq!(files.len(), 1573, "Invalid files in the corpus");
    assert_each(&files, |path| {
        read_json_corpus_file(path)
            .map(drop)
            .map_err(|e| e.to_string())
    });
}
