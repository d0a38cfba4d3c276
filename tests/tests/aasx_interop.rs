//! Every JSON environment of the corpora, written as an AASX package (spec part XML and JSON)
//! in the corpus's version, is the same model as its input for aas-core of that version and
//! reads back with our reader as that version; for aas-core3.0-testgen the V3.0 peers (basyx,
//! aas-test-engines) accept the packages of every Expected file too.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use aas_conformance_tests::{
    Corpus, Verdict, assert_written_as_read, is_event_payload, oracle_unequal_pairs,
    oracle_verdicts,
};
use aas_model::Environment;
use aas_serde::aasx::{AasxReader, AasxWriter};
use aas_serde::{Document, Format};

struct Case {
    input: PathBuf,
    /// The same model as plain XML (basyx's XML reader accepts less than its JSON reader).
    plain_xml: PathBuf,
    /// Spec part XML, spec part JSON.
    packages: [PathBuf; 2],
}

/// The package of `env` with its spec part in `format`, as `version`; `None` when the XML
/// writer refuses the model (characters XML 1.0 cannot carry, which only invalid models hold).
fn package(env: &Environment, format: Format, version: aas_model::Version) -> Option<Vec<u8>> {
    let mut writer = AasxWriter::new(Vec::new(), format).with_version(version);
    match writer.write_environment(env) {
        Ok(()) => Some(writer.finish().unwrap()),
        Err(aas_serde::aasx::Error::XmlWrite(_)) => None,
        Err(e) => panic!("{e}"),
    }
}

/// Writes the packages of every JSON environment among `inputs`, and checks that our reader
/// reads each back as the corpus's version, the same model.
fn write_packages(corpus: Corpus, inputs: &[PathBuf], dir: &str) -> Vec<Case> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(dir);
    let _ = std::fs::remove_dir_all(&dir);
    let invalid: std::collections::HashSet<PathBuf> =
        corpus.files("Json", Verdict::Invalid).into_iter().collect();
    let mut cases = Vec::new();
    for input in inputs.iter().filter(|p| !is_event_payload(p)) {
        let Document::Environment(env) = corpus.read_json(input).unwrap() else {
            panic!("environment root")
        };
        // The model as written: without the empty lists an invalid input may hold.
        let as_written: Environment =
            aas_serde::json::from_slice_as(&aas_serde::json::to_vec(&env), corpus.version).unwrap();
        let relative = input.strip_prefix(corpus.testgen("Json")).unwrap();
        let packages = [Format::Xml, Format::Json].map(|format| {
            let bytes = package(&env, format, corpus.version)?;
            let mut reader = AasxReader::new(Cursor::new(&bytes))
                .unwrap()
                .with_json_version(corpus.version);
            assert_eq!(
                reader.environment().unwrap(),
                as_written,
                "{}",
                input.display()
            );
            assert_eq!(reader.version(), Some(corpus.version));
            let out = dir
                .join(relative)
                .with_extension(format!("{}.aasx", format.extension()));
            std::fs::create_dir_all(out.parent().unwrap()).unwrap();
            std::fs::write(&out, bytes).unwrap();
            Some(out)
        });
        let [Some(xml_package), Some(json_package)] = packages else {
            assert!(
                invalid.contains(input),
                "{}: the XML writer refused a valid model",
                input.display()
            );
            continue;
        };
        let plain_xml = dir.join(relative).with_extension("plain.xml");
        if let Ok(bytes) = aas_serde::xml::to_vec_as(&env, corpus.version) {
            std::fs::write(&plain_xml, bytes).unwrap();
        }
        cases.push(Case {
            input: input.clone(),
            plain_xml,
            packages: [xml_package, json_package],
        });
    }
    cases
}

#[test]
fn v31_packages_of_every_readable_file_are_the_same_model_for_aas_core31() {
    let corpus = Corpus::V3_1;
    let cases = write_packages(corpus, &corpus.readable("Json"), "aasx-interop-v31");
    // Environment roots among the 4155 files that de-serialize, less 166 invalid ones holding
    // characters XML cannot carry.
    assert!(cases.len() > 3900, "{} environments", cases.len());
    eprintln!(
        "{} V3.1 environments, each as an XML and a JSON package",
        cases.len()
    );
    let pairs: Vec<(PathBuf, PathBuf)> = cases
        .iter()
        .flat_map(|c| c.packages.iter().map(|p| (c.input.clone(), p.clone())))
        .collect();
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("aasx-interop-v31/pairs.tsv");
    assert_written_as_read(corpus, &pairs, &scratch);
}

#[test]
fn peers_accept_every_package_we_write_and_find_it_equal_to_its_input() {
    let corpus = Corpus::V3_0;
    let cases = write_packages(corpus, &corpus.category("Json", "Expected"), "aasx-interop");
    assert_eq!(
        cases.len(),
        2560,
        "Expected JSON files with an Environment root"
    );
    let inputs: Vec<PathBuf> = cases.iter().map(|c| c.input.clone()).collect();
    let packages: Vec<PathBuf> = cases.iter().flat_map(|c| c.packages.clone()).collect();
    let mut failures = Vec::new();

    // aas-core reads and verifies every package.
    for (file, verdict) in oracle_verdicts("aas_core_check.py", &[], &packages) {
        if verdict != "OK" {
            failures.push(format!("aas-core: {} {verdict}", file.display()));
        }
    }

    // aas-test-engines: wherever it accepts the input, it accepts both packages.
    let on_inputs = oracle_verdicts("test_engines_check.py", &["--no-templates"], &inputs);
    let on_packages = oracle_verdicts("test_engines_check.py", &["--no-templates"], &packages);
    let accepted = cases.iter().filter(|c| on_inputs[&c.input] == "OK").count();
    assert!(
        accepted > 2000,
        "the test engines accepted only {accepted} inputs"
    );
    for case in cases.iter().filter(|c| on_inputs[&c.input] == "OK") {
        for package in &case.packages {
            if on_packages[package] != "OK" {
                failures.push(format!(
                    "test engines: {} {}",
                    package.display(),
                    on_packages[package]
                ));
            }
        }
    }

    // basyx: wherever it reads the model (as JSON for the JSON package, as plain XML for the XML
    // package, since its XML reader refuses some valid references), it reads the package. Its
    // package reader also insists that every relative `File` value name a part; corpus models
    // whose File elements point at files nobody has are counted, not hidden.
    let plain_xmls: Vec<PathBuf> = cases.iter().map(|c| c.plain_xml.clone()).collect();
    let on_json = oracle_verdicts("basyx_check.py", &[], &inputs);
    let on_xml = oracle_verdicts("basyx_check.py", &[], &plain_xmls);
    let on_packages = oracle_verdicts("basyx_check.py", &[], &packages);
    let mut dangling = 0;
    let mut read = 0;
    for case in &cases {
        let [xml_package, json_package] = &case.packages;
        for (baseline, package) in [
            (&on_xml[&case.plain_xml], xml_package),
            (&on_json[&case.input], json_package),
        ] {
            if baseline != "OK" {
                continue;
            }
            match on_packages[package].as_str() {
                "OK" => read += 1,
                v if v.contains("Could not find part") => dangling += 1,
                v => failures.push(format!("basyx: {} {v}", package.display())),
            }
        }
    }
    assert!(read > 3000, "basyx read only {read} packages");
    eprintln!(
        "basyx read {read} packages; {dangling} refused for File values naming parts the corpus model does not have"
    );
    assert!(
        dangling <= 40,
        "{dangling} packages refused for dangling File values"
    );

    // aas-core finds every package the same model as its input.
    let pairs: Vec<(PathBuf, PathBuf)> = cases
        .iter()
        .flat_map(|c| c.packages.iter().map(|p| (c.input.clone(), p.clone())))
        .collect();
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("aasx-interop/pairs.tsv");
    failures.extend(
        oracle_unequal_pairs(&pairs, &scratch)
            .into_iter()
            .map(|l| format!("aas_core_equiv: {l}")),
    );

    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
