//! Our XML output is accepted by aas-core3.0-python, and the XML we write from a JSON file is
//! the same model as that JSON file in aas-core's eyes.

use std::path::{Path, PathBuf};
use std::process::Command;

use aas_conformance_tests::{
    category, oracle_python, read_json_corpus_file, read_xml_corpus_file, testgen, tools_dir,
};
use aas_serde::xml;

fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn write_below(dir: &Path, relative: &Path, bytes: &[u8]) -> PathBuf {
    let out = dir.join(relative);
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::fs::write(&out, bytes).unwrap();
    out
}

fn not_ok(stdout: &str, ok_word: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| l.contains('\t') && !l.split('\t').any(|field| field == ok_word))
        .map(str::to_owned)
        .collect()
}

#[test]
fn aas_core_accepts_the_xml_we_write() {
    let dir = out_dir("xml-interop");
    let mut written = Vec::new();
    for path in category("Xml", "Expected") {
        let document =
            read_xml_corpus_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let relative = path.strip_prefix(testgen("Xml")).unwrap();
        written.push(write_below(
            &dir,
            relative,
            &xml::to_vec(&document).unwrap(),
        ));
    }
    assert_eq!(written.len(), 2574);
    let output = Command::new(oracle_python())
        .arg(tools_dir().join("oracles/aas_core_check.py"))
        .args(&written)
        .output()
        .expect("run aas_core_check.py");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let bad = not_ok(&stdout, "OK");
    assert_eq!(
        stdout.lines().count(),
        written.len(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && bad.is_empty(),
        "{} not accepted:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn xml_written_from_json_is_the_same_model_for_aas_core() {
    let dir = out_dir("json-to-xml");
    let json_root = testgen("Json");
    let mut pairs = String::new();
    for path in category("Json", "Expected") {
        let document =
            read_json_corpus_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let relative = path.strip_prefix(&json_root).unwrap().with_extension("xml");
        let out = write_below(&dir, &relative, &xml::to_vec(&document).unwrap());
        pairs.push_str(&format!("{}\t{}\n", path.display(), out.display()));
    }
    let pairs_file = dir.join("pairs.tsv");
    std::fs::write(&pairs_file, pairs).unwrap();
    let output = Command::new(oracle_python())
        .arg(tools_dir().join("oracles/aas_core_equiv.py"))
        .arg("--pairs")
        .arg(&pairs_file)
        .output()
        .expect("run aas_core_equiv.py");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let bad = not_ok(&stdout, "EQUAL");
    assert!(
        stdout.contains("2574 passed, 0 failed"),
        "{}\nstderr: {}",
        stdout.lines().last().unwrap_or(""),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && bad.is_empty(),
        "{} differ:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
