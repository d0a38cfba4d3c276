//! Verification over the aas-core testgen corpora, each read and verified as its own version:
//!
//! - aas-core3.0-testgen as AAS V3.0: no finding on valid files, the right finding on every
//!   invalid one (JSON read as V3.0 explicitly, XML by its namespace, which must be V3.0's).
//! - aas-core3.1-testgen as AAS V3.1: no finding on every file aas-core3.1 calls OK, at least one
//!   on every file it calls INVALID. Its `VERDICTS.tsv` lists the files on which the folder
//!   and aas-core3.1 1.0.0 disagree; there aas-core3.1's verdict wins. Unserializable files
//!   are the readers' business (aas-serde's tests), not verification's: skipped here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use aas_conformance_tests::{assert_each, category, corpus_root, files_below, is_event_payload};
use aas_model::{Finding, Version};
use aas_serde::Document;

fn findings(document: &Document, version: Version) -> Vec<Finding> {
    match document {
        Document::Environment(env) => aas_model::verify_as(env, version).collect(),
        Document::EventPayload(payload) => aas_model::verify_as(payload, version).collect(),
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

/// A JSON corpus file read as `version` (JSON carries no version marker: the caller says).
fn read_json(path: &Path, version: Version) -> Result<Document, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("unreadable: {e}"))?;
    let read = if is_event_payload(path) {
        aas_serde::json::from_slice_as::<aas_model::EventPayload>(&bytes, version).map(Into::into)
    } else {
        aas_serde::json::from_slice_as::<aas_model::Environment>(&bytes, version).map(Into::into)
    };
    read.map_err(|e| format!("unreadable as AAS V{version}: {e}"))
}

/// An XML corpus file, read by its namespace, which must be `version`'s.
fn read_xml(path: &Path, version: Version) -> Result<Document, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("unreadable: {e}"))?;
    let read = if is_event_payload(path) {
        aas_serde::xml::from_slice_versioned::<aas_model::EventPayload>(&bytes)
            .map(|(d, v)| (d.into(), v))
    } else {
        aas_serde::xml::from_slice_versioned::<aas_model::Environment>(&bytes)
            .map(|(d, v)| (d.into(), v))
    };
    let (document, read_as) = read.map_err(|e| format!("unreadable: {e}"))?;
    if read_as == version {
        Ok(document)
    } else {
        Err(format!("read as AAS V{read_as}, expected V{version}"))
    }
}

type Reader = fn(&Path, Version) -> Result<Document, String>;

fn no_finding(path: &Path, read: Reader, version: Version) -> Result<(), String> {
    let found: Vec<String> = findings(&read(path, version)?, version)
        .iter()
        .map(ToString::to_string)
        .collect();
    if found.is_empty() {
        Ok(())
    } else {
        Err(format!("findings on a valid file: {found:#?}"))
    }
}

// --- AAS V3.0 --------------------------------------------------------------------------

#[test]
fn no_expected_file_has_a_finding() {
    let files = category("Json", "Expected");
    assert_eq!(files.len(), 2574);
    assert_each(&files, |path| no_finding(path, read_json, Version::V3_0));
}

#[test]
fn no_expected_xml_file_has_a_finding_under_v3_0() {
    let files = category("Xml", "Expected");
    assert!(files.len() > 2500, "{} files", files.len());
    assert_each(&files, |path| no_finding(path, read_xml, Version::V3_0));
}

#[test]
fn every_invalid_file_has_the_finding_its_category_names() {
    let files = category("Json", "Unexpected/Invalid");
    assert_eq!(files.len(), 1573);
    assert_each(&files, |path| {
        let found = findings(&read_json(path, Version::V3_0)?, Version::V3_0);
        let expected = expected_rules(path);
        if found.iter().any(|f| expected.contains(&f.rule())) {
            Ok(())
        } else {
            let found: Vec<String> = found.iter().map(ToString::to_string).collect();
            Err(format!("expected one of {expected:?}, found {found:?}"))
        }
    });
}

#[test]
fn v3_0_findings_say_they_are_v3_0_findings() {
    let path = category("Json", "Unexpected/Invalid")
        .into_iter()
        .find(|p| p.ends_with("SubmodelElementList/id_short_in_a_value.json"))
        .expect("the corpus has id_short_in_a_value.json");
    let found = findings(&read_json(&path, Version::V3_0).unwrap(), Version::V3_0);
    assert!(!found.is_empty());
    assert!(found.iter().all(|f| f.version() == Version::V3_0));
    let aasd_120 = found.iter().find(|f| f.rule() == "AASd-120").unwrap();
    assert!(aasd_120.message().ends_with("(AAS V3.0)"), "{aasd_120}");
}

// --- AAS V3.1 --------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Ok,
    Invalid,
    Unserializable,
}

fn testgen_3_1() -> PathBuf {
    corpus_root().join("aas-core3.1-testgen")
}

/// aas-core3.1's verdicts where they differ from the folder, by path below the corpus folder.
fn verdicts_3_1() -> HashMap<String, Verdict> {
    let path = testgen_3_1().join("VERDICTS.tsv");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let verdicts: HashMap<String, Verdict> = text
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let verdict = match fields.get(2).copied() {
                Some("OK") => Verdict::Ok,
                Some("INVALID") => Verdict::Invalid,
                Some("UNSERIALIZABLE") => Verdict::Unserializable,
                other => panic!("unknown verdict {other:?} in {line:?}"),
            };
            (fields[0].to_owned(), verdict)
        })
        .collect();
    assert_eq!(verdicts.len(), 132, "VERDICTS.tsv lists 132 files");
    verdicts
}

/// Every file of one format with aas-core3.1's verdict: the folder's, unless VERDICTS.tsv
/// says otherwise.
fn corpus_3_1(format: &str) -> Vec<(PathBuf, Verdict)> {
    let root = testgen_3_1();
    let verdicts = verdicts_3_1();
    let files = files_below(&root.join(format), &format.to_ascii_lowercase());
    assert!(files.len() > 4000, "{} {format} files", files.len());
    files
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            let by_folder = if relative.contains("/Expected/") {
                Verdict::Ok
            } else if relative.contains("/Unexpected/Invalid/") {
                Verdict::Invalid
            } else {
                Verdict::Unserializable
            };
            let verdict = verdicts.get(&relative).copied().unwrap_or(by_folder);
            (path, verdict)
        })
        .collect()
}

fn of(files: &[(PathBuf, Verdict)], verdict: Verdict) -> Vec<PathBuf> {
    files
        .iter()
        .filter(|(_, v)| *v == verdict)
        .map(|(p, _)| p.clone())
        .collect()
}

fn some_finding(path: &Path, read: Reader, version: Version) -> Result<(), String> {
    let found = findings(&read(path, version)?, version);
    if found.is_empty() {
        return Err("no finding on a file aas-core3.1 calls INVALID".into());
    }
    if let Some(other) = found.iter().find(|f| f.version() != version) {
        return Err(format!("a finding of another version: {other}"));
    }
    Ok(())
}

#[test]
fn every_v3_1_json_file_aas_core3_1_calls_ok_has_no_finding_under_v3_1() {
    let files = corpus_3_1("Json");
    let ok = of(&files, Verdict::Ok);
    // 2574 Expected, less 72 that aas-core3.1 refuses, plus 22 Invalid and 8 Unserializable
    // it accepts.
    assert_eq!(ok.len(), 2574 - 36 + 22 + 8);
    assert_each(&ok, |path| no_finding(path, read_json, Version::V3_1));
}

#[test]
fn every_v3_1_json_file_aas_core3_1_calls_invalid_has_a_finding_under_v3_1() {
    let files = corpus_3_1("Json");
    let invalid = of(&files, Verdict::Invalid);
    assert_eq!(invalid.len(), 1573 - 22 + 36);
    assert_each(&invalid, |path| {
        some_finding(path, read_json, Version::V3_1)
    });
}

/// XML V3.1 files are read by their namespace (`https://admin-shell.io/aas/3/1`).
#[test]
fn every_v3_1_xml_file_aas_core3_1_calls_ok_has_no_finding_under_v3_1() {
    let files = corpus_3_1("Xml");
    let ok = of(&files, Verdict::Ok);
    assert_eq!(ok.len(), 2574 - 36 + 22 + 8);
    assert_each(&ok, |path| no_finding(path, read_xml, Version::V3_1));
}

#[test]
fn every_v3_1_xml_file_aas_core3_1_calls_invalid_has_a_finding_under_v3_1() {
    let files = corpus_3_1("Xml");
    let invalid = of(&files, Verdict::Invalid);
    assert!(invalid.len() > 1300, "{} files", invalid.len());
    assert_each(&invalid, |path| some_finding(path, read_xml, Version::V3_1));
}
