//! The XML reader and writer over the aas-core3.0-testgen corpus, and against the JSON of the
//! same models.

use std::path::{Path, PathBuf};

use aas_conformance_tests::{
    assert_each, category, read_json_corpus_file, read_xml_corpus_file, testgen,
};
use aas_serde::{Document, json, xml};

fn findings(document: &Document) -> usize {
    match document {
        Document::Environment(env) => aas_model::verify(env).count(),
        Document::EventPayload(payload) => aas_model::verify(payload).count(),
    }
}

/// The JSON twin of an XML corpus file: same relative path, class folder in PascalCase.
fn json_twin(xml_path: &Path) -> PathBuf {
    let relative = xml_path.strip_prefix(testgen("Xml")).expect("below Xml");
    let mut out = testgen("Json");
    let components: Vec<_> = relative.components().collect();
    for (i, c) in components.iter().enumerate() {
        let part = c.as_os_str().to_string_lossy();
        // The class folder follows Expected (or the violation kind); only it changes case.
        let is_class_folder =
            i > 0 && matches!(components[i - 1].as_os_str().to_str(), Some("Expected"));
        if is_class_folder {
            let mut chars = part.chars();
            let pascal: String = chars
                .next()
                .map(|f| f.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
                .collect();
            out.push(pascal);
        } else if i == components.len() - 1 {
            out.push(part.replace(".xml", ".json"));
        } else {
            out.push(part.as_ref());
        }
    }
    out
}

fn round_trip(path: &Path) -> Result<(), String> {
    let model = read_xml_corpus_file(path).map_err(|e| format!("read: {e}"))?;
    for written in [xml::to_vec(&model), xml::to_vec_pretty(&model)] {
        let written = written.map_err(|e| format!("write: {e}"))?;
        let again: Document = xml::from_slice(&written).map_err(|e| format!("read back: {e}"))?;
        if again != model {
            return Err(format!(
                "model changed in the round trip: {}",
                String::from_utf8_lossy(&written)
            ));
        }
    }
    Ok(())
}

#[test]
fn every_expected_file_reads_writes_and_reads_back_equal() {
    let files = category("Xml", "Expected");
    assert_eq!(files.len(), 2574);
    assert_each(&files, round_trip);
}

#[test]
fn every_unserializable_file_is_rejected_with_a_position() {
    let files = category("Xml", "Unexpected/Unserializable");
    assert_eq!(files.len(), 376);
    assert_each(&files, |path| match read_xml_corpus_file(path) {
        Ok(_) => Err("accepted".into()),
        Err(e) if e.line() > 0 && e.path_string().len() > 1 => Ok(()),
        Err(e) => Err(format!("error without path or position: {e}")),
    });
}

#[test]
fn every_invalid_file_reads_and_has_a_finding() {
    let files = category("Xml", "Unexpected/Invalid");
    assert_eq!(files.len(), 1407);
    assert_each(&files, |path| {
        let document = read_xml_corpus_file(path).map_err(|e| format!("read: {e}"))?;
        if findings(&document) > 0 {
            Ok(())
        } else {
            Err("no finding".into())
        }
    });
}

#[test]
fn json_and_xml_of_the_same_model_read_equal_and_json_to_xml_to_json_is_lossless() {
    let files = category("Xml", "Expected");
    assert_each(&files, |path| {
        let twin = json_twin(path);
        let from_xml = read_xml_corpus_file(path).map_err(|e| format!("xml: {e}"))?;
        let from_json =
            read_json_corpus_file(&twin).map_err(|e| format!("{}: {e}", twin.display()))?;
        if from_xml != from_json {
            return Err(format!("differs from {}", twin.display()));
        }
        let via_xml: Document =
            xml::from_slice(&xml::to_vec(&from_json).map_err(|e| e.to_string())?)
                .map_err(|e| format!("read back: {e}"))?;
        if json::to_vec(&via_xml) != json::to_vec(&from_json) {
            return Err("JSON -> XML -> JSON changed the JSON".into());
        }
        Ok(())
    });
}
