//! Our JSON output is accepted by an independent implementation: aas-core3.0-python reads and
//! verifies every Expected file after it went through our reader and writer.

use std::path::{Path, PathBuf};

use aas_conformance_tests::{assert_aas_core_accepts, category, read_json_corpus_file, testgen};
use aas_serde::json;

#[test]
fn aas_core_accepts_everything_we_write() {
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("json-interop");
    let _ = std::fs::remove_dir_all(&out_dir);
    let source_root = testgen("Json");
    let mut written: Vec<PathBuf> = Vec::new();
    for path in category("Json", "Expected") {
        let document =
            read_json_corpus_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let relative = path.strip_prefix(&source_root).unwrap();
        let out = out_dir.join(relative);
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        std::fs::write(&out, json::to_vec(&document)).unwrap();
        written.push(out);
    }
    assert_eq!(written.len(), 2574);

    assert_aas_core_accepts(&written);
}
