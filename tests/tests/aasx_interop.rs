//! Every Expected JSON environment of the corpus, written as an AASX package (spec part XML
//! and JSON), is accepted by the peer libraries and is the same model as its input.

use std::path::{Path, PathBuf};

use aas_conformance_tests::{
    category, is_event_payload, oracle_unequal_pairs, oracle_verdicts, read_json_corpus_file,
    testgen,
};
use aas_serde::aasx::AasxWriter;
use aas_serde::{Document, Format};

struct Case {
    input: PathBuf,
    /// The same model as plain XML (basyx's XML reader accepts less than its JSON reader).
    plain_xml: PathBuf,
    /// Spec part XML, spec part JSON.
    packages: [PathBuf; 2],
}

fn write_packages() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("aasx-interop");
    let _ = std::fs::remove_dir_all(&dir);
    let mut cases = Vec::new();
    for input in category("Json", "Expected")
        .into_iter()
        .filter(|p| !is_event_payload(p))
    {
        let Document::Environment(env) = read_json_corpus_file(&input).unwrap() else {
            panic!("environment root")
        };
        let relative = input.strip_prefix(testgen("Json")).unwrap();
        let packages = [Format::Xml, Format::Json].map(|format| {
            let out = dir
                .join(relative)
                .with_extension(format!("{}.aasx", format.extension()));
            std::fs::create_dir_all(out.parent().unwrap()).unwrap();
            let mut writer = AasxWriter::new(std::fs::File::create(&out).unwrap(), format);
            writer.write_environment(&env).unwrap();
            writer.finish().unwrap();
            out
        });
        let plain_xml = dir.join(relative).with_extension("plain.xml");
        std::fs::write(&plain_xml, aas_serde::xml::to_vec(&env).unwrap()).unwrap();
        cases.push(Case {
            input,
            plain_xml,
            packages,
        });
    }
    assert_eq!(
        cases.len(),
        2560,
        "Expected JSON files with an Environment root"
    );
    cases
}

#[test]
fn peers_accept_every_package_we_write_and_find_it_equal_to_its_input() {
    let cases = write_packages();
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
