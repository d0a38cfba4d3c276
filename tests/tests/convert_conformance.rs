//! Conversion between AAS V3.0 and V3.1 over the testgen corpora:
//!
//! - every valid V3.0 file, converted to V3.1 and back, is the same model, and the way back
//!   reports nothing (going up may report what V3.1 refuses: the model is kept as it is);
//!   an invalid one comes back the same unless the way back's report names a rule it applied;
//! - every file aas-core3.1 calls OK, converted down to V3.0 with loss allowed, has under
//!   V3.0 exactly the findings the report lists as kept, and `check` reported the same.

use std::path::Path;

use aas_conformance_tests::{assert_each, category, corpus_root, files_below, is_event_payload};
use aas_model::convert::{ConversionReport, check, convert};
use aas_model::{Environment, Version};

fn read_environment(path: &Path, version: Version) -> Result<Option<Environment>, String> {
    if is_event_payload(path) {
        // Not convertible: an event payload holds references only.
        return Ok(None);
    }
    let bytes = std::fs::read(path).map_err(|e| format!("unreadable: {e}"))?;
    aas_serde::json::from_slice_as::<Environment>(&bytes, version)
        .map(Some)
        .map_err(|e| format!("unreadable as AAS V{version}: {e}"))
}

#[test]
fn every_valid_v3_0_file_converted_to_v3_1_and_back_is_the_same_model() {
    let files = category("Json", "Expected");
    assert_eq!(files.len(), 2574);
    assert_each(&files, |path| {
        let Some(original) = read_environment(path, Version::V3_0)? else {
            return Ok(());
        };
        let mut env = original.clone();
        convert(&mut env, Version::V3_0, Version::V3_1, true).map_err(|e| e.to_string())?;
        if env != original {
            return Err("going up changed the model".into());
        }
        let back = convert(&mut env, Version::V3_1, Version::V3_0, false)
            .map_err(|e| format!("the way back was refused: {e}"))?;
        if !back.is_lossless() || env != original {
            return Err(format!("the way back changed the model: {back}"));
        }
        Ok(())
    });
}

#[test]
fn every_invalid_v3_0_file_converted_to_v3_1_and_back_is_the_same_model_or_the_report_says_why() {
    let files = category("Json", "Unexpected/Invalid");
    assert_eq!(files.len(), 1573);
    assert_each(&files, |path| {
        let Some(original) = read_environment(path, Version::V3_0)? else {
            return Ok(());
        };
        let mut env = original.clone();
        convert(&mut env, Version::V3_0, Version::V3_1, true).map_err(|e| e.to_string())?;
        let back =
            convert(&mut env, Version::V3_1, Version::V3_0, true).map_err(|e| e.to_string())?;
        let applied = back.entries.iter().any(|e| e.rule.is_some());
        if applied != (env != original) {
            return Err(format!("the report does not match the change: {back}"));
        }
        Ok(())
    });
}

fn kept_paths(report: &ConversionReport) -> Vec<String> {
    let mut kept: Vec<String> = report
        .entries
        .iter()
        .filter(|e| e.rule.is_none())
        .map(|e| e.path.clone())
        .collect();
    kept.sort();
    kept
}

#[test]
fn every_v3_1_file_aas_core3_1_calls_ok_converted_down_keeps_only_what_the_report_says() {
    let root = corpus_root().join("aas-core3.1-testgen");
    let overruled: Vec<String> = std::fs::read_to_string(root.join("VERDICTS.tsv"))
        .unwrap_or_else(|e| panic!("cannot read VERDICTS.tsv: {e}"))
        .lines()
        .filter(|line| line.starts_with("Json/"))
        .map(|line| line.split('\t').next().unwrap_or_default().to_owned())
        .collect();
    let files: Vec<_> = files_below(&root.join("Json"), "json")
        .into_iter()
        .filter(|path| {
            let relative = path
                .strip_prefix(&root)
                .unwrap_or(path)
                .to_string_lossy()
                .replace('\\', "/");
            // OK: Expected and not overruled, or overruled from Unexpected (to OK, all of them).
            relative.contains("/Expected/") != overruled.contains(&relative)
        })
        .collect();
    assert_eq!(files.len(), 2574 - 36 + 22 + 8);
    assert_each(&files, |path| {
        let Some(original) = read_environment(path, Version::V3_1)? else {
            return Ok(());
        };
        let checked = check(&original, Version::V3_1, Version::V3_0);
        let mut env = original.clone();
        let report =
            convert(&mut env, Version::V3_1, Version::V3_0, true).map_err(|e| e.to_string())?;
        if report != checked {
            return Err(format!("check and convert differ:\n{checked}\n{report}"));
        }
        // A change happens exactly when a rule is applied.
        let applied = report.entries.iter().any(|e| e.rule.is_some());
        if applied != (env != original) {
            return Err(format!("the report does not match the change: {report}"));
        }
        let mut found: Vec<String> = aas_model::verify_as(&env, Version::V3_0)
            .map(|f| f.path().to_owned())
            .collect();
        found.sort();
        if found != kept_paths(&report) {
            return Err(format!(
                "V3.0 finds {found:?}, the report keeps {:?}: {report}",
                kept_paths(&report)
            ));
        }
        Ok(())
    });
}
