//! Our JSON output is accepted by an independent implementation: aas-core3.0-python reads and
//! verifies every Expected file after it went through our reader and writer.

use std::path::{Path, PathBuf};
use std::process::Command;

use aas_conformance_tests::{category, oracle_python, read_json_corpus_file, testgen, tools_dir};
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

    let checker = tools_dir().join("oracles/aas_core_check.py");
    let output = Command::new(oracle_python())
        .arg(&checker)
        .args(&written)
        .output()
        .expect("run aas_core_check.py");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let not_ok: Vec<&str> = stdout
        .lines()
        .filter(|l| l.split('\t').nth(1) != Some("OK"))
        .collect();
    let ok = stdout.lines().count() - not_ok.len();
    assert!(
        output.status.success() && not_ok.is_empty() && ok == written.len(),
        "{ok} of {} accepted; stderr: {}\n{}",
        written.len(),
        String::from_utf8_lossy(&output.stderr),
        not_ok.join("\n")
    );
}
