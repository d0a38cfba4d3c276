//! Verification over the aas-core3.0-testgen corpus: no finding on valid files, the right
//! finding on every invalid one.

use std::path::Path;

use aas_conformance_tests::{assert_each, category, read_json_corpus_file};
use aas_model::verify::Finding;
use aas_serde::Document;

fn findings(document: &Document) -> Vec<Finding> {
    match document {
        Document::Environment(env) => aas_model::verify(env).collect(),
        Document::EventPayload(payload) => aas_model::verify(payload).collect(),
    }
}

fn component_after<'p>(path: &'p Path, marker: &str) -> Option<&'p str> {
    let mut components = path
        .components()
        .map(|c| c.as_os_str().to_str().unwrap_or_default());
    components.find(|c| *c == marker)?;
    components.next()
}

/// The rules of which at least one must be reported for an Invalid file.
fn expected_rules(path: &Path) -> &'static [&'static str] {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    match component_after(path, "Invalid").unwrap_or_default() {
        "ConstraintViolation" => match stem {
            "against_semantic_id_list_element" => &["AASd-107"],
            "against_type_value_list_element" => &["AASd-108"],
            "no_semantic_id_list_element_but_semantic_id_mismatch_in_value" => &["AASd-114"],
            "id_short_in_a_value" => &["AASd-120"],
            "against_value_type_list_element" => &["AASd-109"],
            "for_a_model_reference_invalid_key_value_after_submodel_element_list" => &["AASd-128"],
            "for_an_external_reference_first_key_not_in_generic_globally_identifiables" => {
                &["AASd-122"]
            }
            "for_an_external_reference_invalid_last_key" => &["AASd-124"],
            "for_a_model_reference_second_key_not_in_fragment_keys" => &["AASd-125"],
            "for_a_model_reference_fragment_reference_not_after_file_or_blob" => &["AASd-127"],
            "for_a_model_reference_first_key_not_in_aas_identifiables" => &["AASd-123"],
            "for_a_model_reference_fragment_reference_in_the_middle" => &["AASd-126"],
            "first_key_not_in_globally_identifiables" => &["AASd-121"],
            _ => &["an unknown constraint file: extend this table"],
        },
        "SetViolation" => &["AASd-090"],
        "MaxLengthViolation" => &["maxLength"],
        "MinLengthViolation" => &["minLength", "minItems"],
        // An empty value breaks the pattern too; it is reported once, as minLength.
        "PatternViolation" => &["pattern", "AASd-002", "AASd-130", "minLength"],
        "InvalidValueExample" => &["valueType", "AASd-020"],
        "InvalidMinMaxExample" => &["valueType"],
        "DateTimeUtcViolationOnFebruary29th" => &["dateTimeUtc"],
        _ => &["an unknown category: extend this table"],
    }
}

fn read(path: &Path) -> Result<Document, String> {
    read_json_corpus_file(path).map_err(|e| format!("unreadable: {e}"))
}

#[test]
fn no_expected_file_has_a_finding() {
    let files = category("Json", "Expected");
    assert_eq!(files.len(), 2574);
    assert_each(&files, |path| {
        let found: Vec<String> = findings(&read(path)?)
            .iter()
            .map(ToString::to_string)
            .collect();
        if found.is_empty() {
            Ok(())
        } else {
            Err(format!("findings on a valid file: {found:#?}"))
        }
    });
}

#[test]
fn every_invalid_file_has_the_finding_its_category_names() {
    let files = category("Json", "Unexpected/Invalid");
    assert_eq!(files.len(), 1573);
    assert_each(&files, |path| {
        let found = findings(&read(path)?);
        let expected = expected_rules(path);
        if found.iter().any(|f| expected.contains(&f.rule())) {
            Ok(())
        } else {
            let found: Vec<String> = found.iter().map(ToString::to_string).collect();
            Err(format!("expected one of {expected:?}, found {found:?}"))
        }
    });
}
