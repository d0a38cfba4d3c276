//! Our XML output is accepted by aas-core3.0-python, and the XML we write from a JSON file is
//! the same model as that JSON file in aas-core's eyes.

use std::path::{Path, PathBuf};

use aas_conformance_tests::{
    assert_aas_core_accepts, category, oracle_unequal_pairs, read_json_corpus_file,
    read_xml_corpus_file, testgen,
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
    assert_aas_core_accepts(&written);
}

#[test]
fn xml_written_from_json_is_the_same_model_for_aas_core() {
    let dir = out_dir("json-to-xml");
    let json_root = testgen("Json");
    let mut pairs = Vec::new();
    for path in category("Json", "Expected") {
        let document =
            read_json_corpus_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let relative = path.strip_prefix(&json_root).unwrap().with_extension("xml");
        let out = write_below(&dir, &relative, &xml::to_vec(&document).unwrap());
        pairs.push((path, out));
    }
    assert_eq!(pairs.len(), 2574);
    let unequal = oracle_unequal_pairs(&pairs, &dir.join("pairs.tsv"));
    assert!(
        unequal.is_empty(),
        "{} differ:\n{}",
        unequal.len(),
        unequal.join("\n")
    );
}
