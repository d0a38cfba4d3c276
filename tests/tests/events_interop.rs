//! Our envelopes open with nothing but Python's standard library (`gzip`, `json`), and their
//! payloads pass aas-core3.0-python.

use std::path::Path;
use std::process::Command;

use aas_conformance_tests::{
    assert_aas_core_accepts, category, is_event_payload, oracle_python, read_json_corpus_file,
};
use aas_serde::Document;
use events_core::{ChangeEvent, EventKind, envelope};

const UNPACK: &str = r#"
import gzip, json, sys
out_dir = sys.argv[1]
for path in sys.argv[2:]:
    with open(path, "rb") as f:
        envelope = json.loads(gzip.decompress(f.read()))
    assert set(envelope) <= {"version", "timestamp", "payload", "affectedShellIds"}, envelope.keys()
    assert envelope["version"] == "1.0" and envelope["timestamp"].endswith("Z")
    kind = "submodels" if "affectedShellIds" in envelope else "assetAdministrationShells"
    element = json.loads(envelope["payload"])
    target = path.replace(".gz", ".json")
    with open(target, "w", encoding="utf-8") as f:
        json.dump({kind: [element]}, f)
    print(target)
"#;

#[test]
fn python_reads_our_envelopes_and_aas_core_accepts_their_payloads() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("envelopes");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let timestamp = chrono::DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let mut written = Vec::new();
    for (n, path) in category("Json", "Expected")
        .iter()
        .filter(|p| !is_event_payload(p))
        .enumerate()
        .step_by(5)
    {
        let Ok(Document::Environment(env)) = read_json_corpus_file(path) else {
            continue;
        };
        let shells = env
            .asset_administration_shells
            .into_iter()
            .flatten()
            .map(|shell| ChangeEvent::Shell {
                kind: EventKind::Updated,
                timestamp,
                shell: Box::new(shell),
            });
        let submodels = env
            .submodels
            .into_iter()
            .flatten()
            .map(|submodel| ChangeEvent::Submodel {
                kind: EventKind::Created,
                timestamp,
                submodel: Box::new(submodel),
                affected_shell_ids: vec!["urn:aas".into()],
            });
        for (i, event) in shells.chain(submodels).enumerate() {
            let file = dir.join(format!("{n}-{i}.gz"));
            std::fs::write(&file, envelope::encode(&event)).unwrap();
            written.push(file);
        }
    }
    assert!(written.len() > 400, "{} envelopes", written.len());
    let output = Command::new(oracle_python())
        .arg("-c")
        .arg(UNPACK)
        .arg(&dir)
        .args(&written)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "Python could not read an envelope: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let payloads: Vec<_> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(std::path::PathBuf::from)
        .collect();
    assert_eq!(payloads.len(), written.len());
    assert_aas_core_accepts(&payloads);
}
