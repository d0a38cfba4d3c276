//! Our envelopes open with nothing but Python's standard library (`gzip`, `json`), and their
//! payloads pass aas-core3.0-python.

use std::path::Path;
use std::process::Command;

use aas_conformance_tests::{
    assert_aas_core_accepts, category, is_event_payload, python_unpack_envelopes,
    read_json_corpus_file,
};
use aas_serde::Document;
use events_core::{ChangeEvent, EventKind, envelope};

/// An empty directory under the test target dir.
fn fresh_dir(name: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn at(rfc3339: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// Change events of the shells and submodels of every `step`-th expected corpus environment,
/// as (file number, event number in the file, event); `kinds` gives the shell and submodel
/// event kinds for a file number.
fn corpus_events(
    step: usize,
    timestamp: chrono::DateTime<chrono::Utc>,
    kinds: impl Fn(usize) -> (EventKind, EventKind),
    affected_shell_ids: &[String],
) -> Vec<(usize, usize, ChangeEvent)> {
    let mut events = Vec::new();
    let files = category("Json", "Expected");
    for (n, path) in files
        .iter()
        .filter(|p| !is_event_payload(p))
        .enumerate()
        .step_by(step)
    {
        let Ok(Document::Environment(env)) = read_json_corpus_file(path) else {
            continue;
        };
        let (shell_kind, submodel_kind) = kinds(n);
        let shells = env
            .asset_administration_shells
            .into_iter()
            .flatten()
            .map(|shell| ChangeEvent::Shell {
                kind: shell_kind,
                timestamp,
                shell: Box::new(shell),
            });
        let submodels = env
            .submodels
            .into_iter()
            .flatten()
            .map(|submodel| ChangeEvent::Submodel {
                kind: submodel_kind,
                timestamp,
                submodel: Box::new(submodel),
                affected_shell_ids: affected_shell_ids.to_vec(),
            });
        events.extend(
            shells
                .chain(submodels)
                .enumerate()
                .map(|(i, event)| (n, i, event)),
        );
    }
    events
}

#[test]
fn python_reads_our_envelopes_and_aas_core_accepts_their_payloads() {
    let dir = fresh_dir("envelopes");
    let timestamp = at("2024-05-01T12:00:00Z");
    let mut written = Vec::new();
    let events = corpus_events(
        5,
        timestamp,
        |_| (EventKind::Updated, EventKind::Created),
        &["urn:aas".into()],
    );
    for (n, i, event) in events {
        let file = dir.join(format!("{n}-{i}.gz"));
        std::fs::write(&file, envelope::encode(&event)).unwrap();
        written.push(file);
    }
    assert!(written.len() > 400, "{} envelopes", written.len());
    let payloads = python_unpack_envelopes(&written);
    assert_eq!(payloads.len(), written.len());
    assert_aas_core_accepts(&payloads);
}

const READ_CLOUD_EVENTS: &str = r#"
import base64, gzip, json, sys
from cloudevents.core.formats.json import JSONFormat
out_dir = sys.argv[1]
for path in sys.argv[2:]:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    event = JSONFormat().read(None, raw)  # validates the required attributes
    data = event.get_data()
    source = event.get_source()
    level = source.rsplit("/", 1)[1]
    element_id = base64.urlsafe_b64decode(level + "=" * (-len(level) % 4)).decode()
    line = {
        "file": path,
        "specversion": event.get_specversion(),
        "type": event.get_type(),
        "source": source,
        "element_id": element_id,
        "id": event.get_id(),
        "time": event.get_time().isoformat() if event.get_time() else None,
        "datacontenttype": event.get_datacontenttype(),
        "dataschema": event.get_dataschema(),
        "semanticid": event.get_attributes().get("semanticid"),
        "data_file": None,
    }
    if data is not None:
        assert isinstance(data, dict), type(data)
        kind = "submodels" if "/submodels/" in source else "assetAdministrationShells"
        line["data_file"] = path + ".data.json"
        with open(line["data_file"], "w", encoding="utf-8") as f:
            json.dump({kind: [data]}, f)
    print(json.dumps(line))
"#;

#[test]
fn python_cloudevents_sdk_reads_our_cloud_events_and_aas_core_accepts_their_data() {
    use aas_model::HasSemantics;
    use events_core::CloudEventCodec;

    let dir = fresh_dir("cloud-events");
    let base = "https://aas.example.com/api/v3.0";
    let plain = CloudEventCodec::new(base);
    let gzipped = CloudEventCodec::new(base).with_gzip(true);
    let timestamp = at("2024-11-26T10:46:33.217129Z");
    let kinds = [EventKind::Created, EventKind::Updated, EventKind::Deleted];
    let mut expected = std::collections::HashMap::new();
    for (n, i, event) in corpus_events(7, timestamp, |n| (kinds[n % 3], kinds[(n + 1) % 3]), &[]) {
        let codec = if i % 2 == 0 { &plain } else { &gzipped };
        let file = dir.join(format!("{n}-{i}.ce"));
        std::fs::write(&file, codec.encode(&event).unwrap()).unwrap();
        let semantic_id = match &event {
            ChangeEvent::Submodel { submodel, .. } => submodel
                .semantic_id()
                .and_then(|r| r.keys.first())
                .map(|k| k.value.clone()),
            ChangeEvent::Shell { .. } => None,
        };
        expected.insert(file.display().to_string(), (event, semantic_id));
    }
    assert!(expected.len() > 200, "{} events", expected.len());
    let files: Vec<_> = expected.keys().cloned().collect();
    let output = Command::new(aas_conformance_tests::test_python())
        .arg("-c")
        .arg(READ_CLOUD_EVENTS)
        .arg(&dir)
        .args(&files)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the CloudEvents SDK could not read an event: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut data_files = Vec::new();
    let mut lines = 0;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        lines += 1;
        let read: serde_json::Value = serde_json::from_str(line).unwrap();
        let (event, semantic_id) = &expected[read["file"].as_str().unwrap()];
        let (element, id) = event.element();
        let class = match element {
            events_core::ElementType::Shell => "AssetAdministrationShell",
            events_core::ElementType::Submodel => "Submodel",
        };
        assert_eq!(read["specversion"], "1.0");
        assert_eq!(
            read["type"],
            format!("io.admin-shell.events.v1.{}", event.kind())
        );
        assert_eq!(read["element_id"], id, "{line}");
        assert!(
            read["source"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{base}/{}/", element.collection())),
            "{line}"
        );
        assert_eq!(read["time"], "2024-11-26T10:46:33.217129+00:00");
        assert_eq!(
            read["semanticid"].as_str(),
            semantic_id.as_deref(),
            "{line}"
        );
        if event.kind() == EventKind::Deleted {
            assert!(read["data_file"].is_null(), "no data on deleted: {line}");
        } else {
            assert_eq!(read["datacontenttype"], "application/json");
            assert!(
                read["dataschema"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("/definitions/{class}"))
            );
            data_files.push(std::path::PathBuf::from(
                read["data_file"].as_str().unwrap(),
            ));
        }
    }
    assert_eq!(lines, expected.len());
    assert!(
        data_files.len() > 100,
        "{} events with data",
        data_files.len()
    );
    assert_aas_core_accepts(&data_files);
}
