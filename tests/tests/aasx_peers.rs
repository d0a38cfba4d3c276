//! Packages written by basyx-python-sdk read back equal to what basyx itself writes for the same
//! data in the package's format (basyx rewrites some values, such as numbers and dates, and
//! writes defaults like `kind` in XML but not in JSON, so its own plain file is the reference,
//! not the corpus file).

use std::io::BufReader;
use std::path::Path;
use std::process::Command;

use aas_conformance_tests::{category, is_event_payload, oracle_python};
use aas_model::{Environment, Version};
use aas_serde::aasx::AasxReader;
use aas_serde::{json, xml};

#[test]
fn packages_basyx_writes_read_equal_to_basyx_json() {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("basyx-packages");
    let _ = std::fs::remove_dir_all(&out);
    let inputs: Vec<_> = category("Json", "Expected")
        .into_iter()
        .filter(|p| !is_event_payload(p))
        .step_by(2)
        .collect();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/basyx_write_aasx.py");
    let output = Command::new(oracle_python())
        .arg(&script)
        .arg(&out)
        .args(&inputs)
        .output()
        .expect("run basyx");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let written: Vec<&str> = stdout
        .lines()
        .filter(|l| l.ends_with("\tOK"))
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert!(
        written.len() > 800,
        "basyx wrote only {} of {} packages",
        written.len(),
        inputs.len()
    );

    let mut failures = Vec::new();
    let mut repaired = 0;
    for n in &written {
        let reference_json: Environment = json::from_slice_as(
            &std::fs::read(out.join(format!("{n}.json"))).unwrap(),
            Version::V3_0,
        )
        .unwrap_or_else(|e| panic!("basyx's JSON {n}: {e}"));
        let reference_xml: Environment =
            xml::from_slice(&std::fs::read(out.join(format!("{n}.xml"))).unwrap())
                .unwrap_or_else(|e| panic!("basyx's XML {n}: {e}"));
        for (format, reference) in [("xml", &reference_xml), ("json", &reference_json)] {
            let package = out.join(format!("{n}.{format}.aasx"));
            // basyx-python-sdk 2.0.1 writes V3.0: XML parts by their namespace, JSON told.
            let result = AasxReader::new(BufReader::new(std::fs::File::open(&package).unwrap()))
                .map(|reader| reader.with_json_version(Version::V3_0))
                .and_then(|mut reader| {
                    Ok((
                        reader.environment()?,
                        reader.repairs().len(),
                        reader.version(),
                    ))
                });
            match result {
                Ok((env, repairs, Some(Version::V3_0))) if env == *reference => repaired += repairs,
                Ok(_) => failures.push(format!(
                    "{}: differs from basyx's own {format}, or not read as V3.0",
                    package.display()
                )),
                Err(e) => failures.push(format!("{}: {e}", package.display())),
            }
        }
    }
    eprintln!(
        "read {} basyx packages; {repaired} repairs",
        written.len() * 2
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
