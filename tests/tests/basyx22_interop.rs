//! BaSyx Python 2.2 (PyPI `basyx-python-sdk==2.2.0`, an AAS V3.1 release, in the test venv of
//! `scripts/test-venv.sh`) and we exchange the example data of its `basyx.aas.examples.data`
//! module both ways:
//!
//! - BaSyx → us: BaSyx writes each example with its own JSON, XML and AASX writers
//!   (`peers/basyx22_write_examples.py`), and we read every file as V3.1 (JSON told so, XML
//!   and AASX by their namespace).
//! - us → BaSyx: what we read, written by us as JSON, V3.1 XML and V3.1 AASX (XML and JSON spec
//!   parts), reads back with BaSyx 2.2 to the same objects as its example, judged by BaSyx's own
//!   `AASDataChecker` (`peers/basyx22_check_examples.py`).
//!
//! One Python process per direction. The test venv is required: when it cannot be made, the
//! tests fail (they never skip).

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use aas_conformance_tests::test_python;
use aas_model::{
    DataElement, Environment, ModellingKind, Node, Submodel, SubmodelElement, Version,
};
use aas_serde::aasx::{AasxReader, AasxWriter, Repair};
use aas_serde::{Format, json, xml};

/// The examples the peer scripts know (`EXAMPLES` in `basyx22_check_examples.py`): BaSyx's
/// full example, the one with mandatory attributes only, the one with attributes missing, the
/// submodel template, and all four in one environment.
const EXAMPLES: [&str; 5] = ["full", "mandatory", "missing", "template", "all"];

/// The files BaSyx writes of each example (file name suffixes).
const BASYX_FILES: [&str; 4] = ["json", "xml", "xml.aasx", "json.aasx"];

/// The path BaSyx's examples give their File elements that name a supplementary file.
const SUPPLEMENTARY_FILE: &str = "/TestFile.pdf";

fn peer(script: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("peers")
        .join(script)
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What BaSyx wrote: the bytes of its TestFile.pdf, and the files by (example, suffix).
struct BasyxFiles {
    pdf: Vec<u8>,
    files: BTreeMap<(&'static str, &'static str), PathBuf>,
}

/// Runs BaSyx's writer once for all tests of this file.
fn basyx_files() -> &'static BasyxFiles {
    static FILES: OnceLock<BasyxFiles> = OnceLock::new();
    FILES.get_or_init(|| {
        let out = scratch("basyx22-written");
        let output = Command::new(test_python())
            .arg(peer("basyx22_write_examples.py"))
            .arg(&out)
            .output()
            .expect("run basyx22_write_examples.py");
        assert!(
            output.status.success(),
            "BaSyx could not write its examples: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let field = |key: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('\t'))
                .unwrap_or_else(|| panic!("no {key} line in {stdout}"))
                .to_owned()
        };
        // Another BaSyx (the oracle venv has 2.0.1, V3.0) would make this a different test.
        assert_eq!(field("basyx"), "2.2.0", "basyx-python-sdk of the test venv");
        let pdf = std::fs::read(field("pdf")).expect("BaSyx's TestFile.pdf");
        let mut files = BTreeMap::new();
        for example in EXAMPLES {
            for suffix in BASYX_FILES {
                let path = out.join(format!("{example}.{suffix}"));
                assert!(
                    stdout.contains(&format!("{example}\t{}", path.display())),
                    "BaSyx did not write {}:\n{stdout}",
                    path.display()
                );
                files.insert((example, suffix), path);
            }
        }
        BasyxFiles { pdf, files }
    })
}

/// The supplementary files of a package: part name and bytes.
type Supplementary = Vec<(String, Vec<u8>)>;

/// Reads one of BaSyx's files as V3.1: JSON told so, XML and AASX by their namespace (which
/// must be V3.1's). Of a package, also returns its supplementary files (part name, bytes).
fn read_as_v3_1(path: &Path) -> Result<(Environment, Supplementary), String> {
    let name = path.to_string_lossy();
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    if name.ends_with(".aasx") {
        let mut reader = AasxReader::new(Cursor::new(bytes))
            .map_err(|e| e.to_string())?
            .with_json_version(Version::V3_1);
        let env = reader.environment().map_err(|e| e.to_string())?;
        if reader.version() != Some(Version::V3_1) {
            return Err(format!("read as {:?}, not V3.1", reader.version()));
        }
        // BaSyx writes its packages as Part 5 wants them, so nothing is repaired but one thing:
        // BaSyx 2.2 writes each aas-suppl target lowercased (pyecma376-2 1.0.2's
        // `normalize_part_name` lowercases: `/testfile.pdf` for the entry `TestFile.pdf`). OPC
        // compares part names case-insensitively (ECMA-376-2 9.1.1.1.2), so that target is
        // right; our reader reads it and lists it among its repairs.
        let other_repairs: Vec<_> = reader
            .repairs()
            .iter()
            .filter(|r| !only_case_differs(r))
            .collect();
        if !other_repairs.is_empty() {
            return Err(format!("repaired: {other_repairs:?}"));
        }
        let mut supplementary = Vec::new();
        for part in reader.supplementary_files().to_vec() {
            let mut content = Vec::new();
            reader
                .open(&part)
                .and_then(|mut r| Ok(r.read_to_end(&mut content)?))
                .map_err(|e| format!("{part}: {e}"))?;
            supplementary.push((part, content));
        }
        Ok((env, supplementary))
    } else if name.ends_with(".json") {
        let env = json::from_slice_as(&bytes, Version::V3_1).map_err(|e| e.to_string())?;
        Ok((env, Vec::new()))
    } else {
        let (env, version) = xml::from_slice_versioned(&bytes).map_err(|e| e.to_string())?;
        if version != Version::V3_1 {
            return Err(format!("read as {version}, not V3.1"));
        }
        Ok((env, Vec::new()))
    }
}

#[test]
fn basyx_22_examples_in_json_xml_and_aasx_read_as_v3_1() {
    let basyx = basyx_files();
    let mut failures = Vec::new();
    let mut read = BTreeMap::new();
    for (&(example, suffix), path) in &basyx.files {
        match read_as_v3_1(path) {
            Ok((env, supplementary)) => {
                // A package holds BaSyx's TestFile.pdf exactly when its example names it.
                let expected: Vec<_> = if suffix.ends_with("aasx") && names_supplementary_file(&env)
                {
                    vec![(SUPPLEMENTARY_FILE.to_owned(), basyx.pdf.clone())]
                } else {
                    Vec::new()
                };
                if supplementary != expected {
                    failures.push(format!(
                        "{}: supplementary files {:?}, expected {:?}",
                        path.display(),
                        supplementary
                            .iter()
                            .map(|(n, b)| (n, b.len()))
                            .collect::<Vec<_>>(),
                        expected
                            .iter()
                            .map(|(n, b)| (n, b.len()))
                            .collect::<Vec<_>>(),
                    ));
                }
                read.insert((example, suffix), env);
            }
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    // BaSyx writes a package's spec part with the same writer as the plain file, and its JSON
    // and XML of one example hold the same objects: every file of an example must read to the
    // same model as its JSON, but for what one of BaSyx's writers writes and the other does not
    // (`basyx_xml_as_its_json`, `basyx_json_as_its_xml`).
    for example in EXAMPLES {
        let Some(plain_json) = read.get(&(example, "json")) else {
            continue;
        };
        for suffix in ["xml", "xml.aasx", "json.aasx"] {
            let Some(env) = read.get(&(example, suffix)) else {
                continue;
            };
            let (mut env, mut plain_json) = (env.clone(), plain_json.clone());
            if suffix.starts_with("xml") {
                basyx_xml_as_its_json(&mut env);
                basyx_json_as_its_xml(&mut plain_json);
            }
            if env != plain_json {
                failures.push(format!(
                    "{example}.{suffix} reads to another model than {example}.json"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures reading {} BaSyx files:\n{}",
        failures.len(),
        basyx.files.len(),
        failures.join("\n")
    );
}

/// Whether every check a verdict of `basyx22_check_examples.py` failed is of a Blob value that
/// BaSyx's example has not and our file has as zero bytes: what we read from the `<value/>`
/// BaSyx's XML writer writes for a Blob without a value (see `basyx_xml_as_its_json`). Our XML
/// leaves an empty value out, which BaSyx reads back as no value; our JSON writes `""`, which
/// BaSyx's JSON reader reads as zero bytes.
fn only_empty_blob_values_fail(verdict: &str) -> bool {
    let Some(checks) = verdict
        .strip_prefix("FAIL\t")
        .and_then(|v| v.split_once(" checks failed: "))
        .map(|(_, checks)| checks)
    else {
        return false;
    };
    checks.split(" | ").all(|check| {
        check.starts_with("FAIL: Attribute value of Blob[")
            && check.ends_with("] must be == None (value=b'')")
    })
}

/// Undoes in a model read from BaSyx 2.2's XML the two things its XML writer writes and its
/// JSON writer does not, so that it compares with the model of BaSyx's JSON of the same objects:
/// - `<kind>Instance</kind>` on every submodel of kind Instance (the default, which the JSON
///   writer leaves out): the same objects either way;
/// - `<value/>` for a Blob without a value (BaSyx's mandatory-attributes example and submodel
///   template have one, `ExampleBlob`), where its JSON writer writes no `value`. An empty
///   element is an empty `xs:base64Binary`, zero bytes, not an absent value, and we read it so;
///   BaSyx's XML reader reads it back as no value, its JSON reader reads `""` as zero bytes.
///   BaSyx's fault: it writes a value the object does not have.
fn basyx_xml_as_its_json(env: &mut Environment) {
    for submodel in env.submodels.iter_mut().flatten() {
        if submodel.kind == Some(ModellingKind::Instance) {
            submodel.kind = None;
        }
        for_each_element(submodel, &mut |element| match element {
            SubmodelElement::Blob(blob) => empty_blob_value_to_none(blob),
            SubmodelElement::AnnotatedRelationshipElement(relationship) => {
                for annotation in relationship.annotations.iter_mut().flatten() {
                    if let DataElement::Blob(blob) = annotation {
                        empty_blob_value_to_none(blob);
                    }
                }
            }
            _ => {}
        });
    }
}

fn empty_blob_value_to_none(blob: &mut aas_model::Blob) {
    if blob.value.as_ref().is_some_and(Vec::is_empty) {
        blob.value = None;
    }
}

/// Undoes in a model read from BaSyx 2.2's JSON what its JSON writer writes and its XML writer
/// does not: `"specificAssetIds": []` of an Entity whose `specific_asset_id` is empty (the full
/// example's `ExampleEntity2`), which the XML writer leaves out. The schemas require at least
/// one item, so BaSyx's JSON is at fault (see `FULL_EXAMPLE_FINDINGS`); we read the empty list
/// as it is written.
fn basyx_json_as_its_xml(env: &mut Environment) {
    for submodel in env.submodels.iter_mut().flatten() {
        for_each_element(submodel, &mut |element| {
            if let SubmodelElement::Entity(entity) = element
                && entity
                    .specific_asset_ids
                    .as_ref()
                    .is_some_and(Vec::is_empty)
            {
                entity.specific_asset_ids = None;
            }
        });
    }
}

/// Calls `f` on every submodel element of a submodel, depth-first.
fn for_each_element(submodel: &mut Submodel, f: &mut dyn FnMut(&mut SubmodelElement)) {
    fn visit(element: &mut SubmodelElement, f: &mut dyn FnMut(&mut SubmodelElement)) {
        f(element);
        let children: Vec<&mut SubmodelElement> = match element {
            SubmodelElement::SubmodelElementCollection(c) => c.value.iter_mut().flatten().collect(),
            SubmodelElement::SubmodelElementList(l) => l.value.iter_mut().flatten().collect(),
            SubmodelElement::Entity(e) => e.statements.iter_mut().flatten().collect(),
            SubmodelElement::Operation(o) => [
                &mut o.input_variables,
                &mut o.output_variables,
                &mut o.inoutput_variables,
            ]
            .into_iter()
            .flatten()
            .flatten()
            .map(|variable| &mut variable.value)
            .collect(),
            _ => Vec::new(),
        };
        for child in children {
            visit(child, f);
        }
    }
    for element in submodel.submodel_elements.iter_mut().flatten() {
        visit(element, f);
    }
}

/// What BaSyx's full example breaks under V3.1, as aas-core3.1 1.0.0 (the reference) reports
/// it of BaSyx's `full.json` too (`aas_core_check.py --meta 3.1`; it puts AASd-129 on the
/// submodel, we on the element): BaSyx's example data is built to hold every attribute, not to
/// be valid, and BaSyx writes an empty `specificAssetIds` list (`specific_asset_id=()`) where
/// the schemas require at least one item. (rule, path)
const FULL_EXAMPLE_FINDINGS: [(&str, &str); 6] = [
    (
        "AASc-3a-010",
        "assetAdministrationShells[0].embeddedDataSpecifications[0].dataSpecificationContent",
    ),
    ("AASd-129", "submodels[0].submodelElements[0]"),
    ("AASd-014", "submodels[1].submodelElements[0]"),
    (
        "minItems",
        "submodels[1].submodelElements[1].specificAssetIds",
    ),
    (
        "AASc-3a-010",
        "submodels[2].submodelElements[5].value[6].value[0].embeddedDataSpecifications[0].dataSpecificationContent",
    ),
    (
        "AASc-3a-010",
        "conceptDescriptions[0].administration.embeddedDataSpecifications[0].dataSpecificationContent",
    ),
];

#[test]
fn basyx_22_examples_break_under_v3_1_only_the_rules_aas_core_3_1_also_reports() {
    let basyx = basyx_files();
    let mut failures = Vec::new();
    for example in EXAMPLES {
        let path = &basyx.files[&(example, "json")];
        let env: Environment = json::from_slice_as(&std::fs::read(path).unwrap(), Version::V3_1)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // `all` holds the full example first, so its findings have the same paths. Today we
        // also report AASd-014 on ExampleEntity2, a co-managed entity with (an empty list of)
        // specificAssetIds: V3.0's rule; V3.1 constrains self-managed entities only, and
        // aas-core3.1 reports nothing there (aas-model/src/verify/checks.rs, its TODO for
        // issue 20).
        let expected: &[(&str, &str)] = match example {
            "full" | "all" => &FULL_EXAMPLE_FINDINGS,
            _ => &[],
        };
        let findings: Vec<_> = aas_model::verify_as(&env, Version::V3_1).collect();
        for finding in &findings {
            if !expected.contains(&(finding.rule(), finding.path())) {
                failures.push(format!("{example}.json: unexpected finding: {finding}"));
            }
        }
        for (rule, at) in expected {
            if !findings
                .iter()
                .any(|f| f.rule() == *rule && f.path() == *at)
            {
                failures.push(format!("{example}.json: no {rule} finding at {at}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "our V3.1 verification of BaSyx's examples differs from aas-core3.1's:\n{}",
        failures.join("\n")
    );
}

/// Whether a repair is of a part name that names the entry in another case only.
fn only_case_differs(repair: &Repair) -> bool {
    repair
        .message
        .strip_prefix("found as \"")
        .and_then(|rest| rest.strip_suffix("\" (part names differ in case)"))
        .is_some_and(|found| found != repair.part && found.eq_ignore_ascii_case(&repair.part))
}

/// Whether a File element of the model names BaSyx's supplementary file.
fn names_supplementary_file(env: &Environment) -> bool {
    Node::from(env)
        .descendants()
        .any(|n| matches!(n, Node::File(f) if f.value.as_deref() == Some(SUPPLEMENTARY_FILE)))
}

/// Writes `env` as we write V3.1 into `dir` (JSON, XML, AASX with an XML and with a JSON spec
/// part, the AASX with `supplementary`); returns the files.
fn write_ours(
    env: &Environment,
    supplementary: &[(String, Vec<u8>)],
    dir: &Path,
    stem: &str,
) -> Vec<PathBuf> {
    let json_path = dir.join(format!("{stem}.json"));
    std::fs::write(&json_path, json::to_vec(env)).unwrap();
    let xml_path = dir.join(format!("{stem}.xml"));
    std::fs::write(&xml_path, xml::to_vec_as(env, Version::V3_1).unwrap()).unwrap();
    let mut out = vec![json_path, xml_path];
    for format in [Format::Xml, Format::Json] {
        let path = dir.join(format!("{stem}.{}.aasx", format.extension()));
        let mut writer = AasxWriter::new(std::fs::File::create(&path).unwrap(), format)
            .with_version(Version::V3_1);
        writer.write_environment(env).unwrap();
        for (part, content) in supplementary {
            writer
                .add_supplementary_file(part, "application/pdf", &content[..])
                .unwrap();
        }
        writer.finish().unwrap();
        out.push(path);
    }
    out
}

#[test]
fn our_json_xml_and_aasx_of_basyx_22_examples_read_back_to_its_objects() {
    let basyx = basyx_files();
    let dir = scratch("basyx22-ours");
    // (example, BaSyx's file it was read from, our file) for BaSyx's checker: every BaSyx file,
    // read by us and written by us in every format.
    let mut cases: Vec<(&str, &str, PathBuf)> = Vec::new();
    let mut unreadable = Vec::new();
    for (&(example, suffix), path) in &basyx.files {
        // What we cannot read fails the test above; here it is a failure too, after BaSyx has
        // judged the rest.
        let (env, mut supplementary) = match read_as_v3_1(path) {
            Ok(read) => read,
            Err(e) => {
                unreadable.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        // A plain file carries no supplementary file: our packages of it get BaSyx's.
        if supplementary.is_empty() && names_supplementary_file(&env) {
            supplementary.push((SUPPLEMENTARY_FILE.to_owned(), basyx.pdf.clone()));
        }
        let stem = format!("{example}.from-{suffix}");
        for file in write_ours(&env, &supplementary, &dir, &stem) {
            cases.push((example, suffix, file));
        }
    }
    // A control: the full example with one submodel's idShort changed must fail BaSyx's check,
    // or an OK would prove nothing.
    let (mut changed, supplementary) = read_as_v3_1(&basyx.files[&("full", "json")]).unwrap();
    let submodel = changed.submodels.as_mut().unwrap().first_mut().unwrap();
    submodel.id_short = Some("ChangedByTheTest".into());
    let control = write_ours(&changed, &supplementary, &dir, "control")
        .into_iter()
        .next()
        .unwrap();

    let output = Command::new(test_python())
        .arg(peer("basyx22_check_examples.py"))
        .args(cases.iter().map(|(e, _, f)| format!("{e}={}", f.display())))
        .arg(format!("full={}", control.display()))
        .output()
        .expect("run basyx22_check_examples.py");
    assert!(
        output.status.success(),
        "BaSyx's check did not run: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let verdicts: BTreeMap<&str, &str> =
        stdout.lines().filter_map(|l| l.split_once('\t')).collect();
    let control_verdict = verdicts
        .get(control.to_str().unwrap())
        .unwrap_or_else(|| panic!("no verdict on the control:\n{stdout}"));
    assert!(
        control_verdict.starts_with("FAIL") && control_verdict.contains("ChangedByTheTest"),
        "BaSyx's check did not see the changed idShort: {control_verdict}"
    );
    let mut basyx_blobs = 0;
    let mut not_ok: Vec<String> = Vec::new();
    for (_, source, file) in &cases {
        match verdicts.get(file.to_str().unwrap()).copied() {
            Some(v) if v.starts_with("OK\t") => {}
            Some(v) if source.starts_with("xml") && only_empty_blob_values_fail(v) => {
                basyx_blobs += 1
            }
            Some(v) => not_ok.push(format!("{}: {v}", file.display())),
            None => not_ok.push(format!("{}: no verdict", file.display())),
        }
    }
    not_ok.extend(unreadable.iter().map(|e| format!("not read by us: {e}")));
    eprintln!(
        "BaSyx 2.2 checked {} files of ours: {} not OK; {basyx_blobs} differ only by the empty \
         Blob values of BaSyx's XML",
        cases.len(),
        not_ok.len()
    );
    assert!(
        not_ok.is_empty(),
        "{} of {} files of ours differ from BaSyx's example when BaSyx reads them:\n{}",
        not_ok.len(),
        cases.len(),
        not_ok.join("\n")
    );
}
