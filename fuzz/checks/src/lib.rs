//! The properties the fuzz targets of aas-rs check, one function per target: each takes the
//! fuzzer's bytes and returns normally, or panics when the property does not hold.
//!
//! Two callers: the cargo-fuzz targets in `fuzz/fuzz_targets/` (one line each, built with the
//! address sanitizer by `bash fuzz/run.sh`), and this crate's `tests/replay.rs`, which replays
//! the committed inputs of `fuzz/seeds/<target>/` and `fuzz/regressions/<target>/` through every
//! check in the main workspace's test run (dev profile, no cargo-fuzz).
//!
//! [`TARGETS`] lists every check under its target's name.

mod server;

use aas_model::Version;
use aas_serde::Document;
use arbitrary::{Arbitrary, Unstructured};

/// A check: returns, or panics when the property does not hold for the input.
pub type Check = fn(&[u8]);

/// Every fuzz target's name and its check, in the order `fuzz/run.sh` runs them.
pub const TARGETS: &[(&str, Check)] = &[
    ("json_read", json_read),
    ("xml_read", xml_read),
    ("aasx_read", aasx_read),
    ("verify", verify),
    ("envelope_decode", envelope_decode),
    ("cloud_event_decode", cloud_event_decode),
    ("topic_parse", topic_parse),
    ("jsonpath", jsonpath),
    ("python_format", python_format),
    ("mustache", mustache),
    ("sync_description", sync_description),
    ("verify_arbitrary", verify_arbitrary),
    ("push_target", push_target),
    ("server_requests", server_requests),
];

/// JSON read of any bytes, as each version: an error, or a model whose written form reads back
/// and writes the same bytes (writing normalizes once: empty optional lists, which are invalid,
/// are left out). What reads as V3.0 reads as V3.1 to the same model: V3.1 only accepts more
/// (`AssetKind` `Role`, attributes V3.0 requires left out).
pub fn json_read(data: &[u8]) {
    let mut as_v30 = None;
    for version in [Version::V3_0, Version::V3_1] {
        let Ok(document) = aas_serde::json::from_slice_as::<Document>(data, version) else {
            assert!(
                as_v30.is_none(),
                "JSON that reads as V3.0 does not read as V3.1"
            );
            continue;
        };
        let written = aas_serde::json::to_vec(&document);
        // The property itself: a panic here is the fuzzer's finding, not an unhandled input.
        let again: Document = match aas_serde::json::from_slice_as(&written, version) {
            Ok(again) => again,
            Err(error) => panic!("JSON written by aas-serde does not read back: {error}"),
        };
        assert_eq!(
            aas_serde::json::to_vec(&again),
            written,
            "JSON write is stable"
        );
        match (version, &as_v30) {
            (Version::V3_0, _) => as_v30 = Some(document),
            (_, Some(v30)) => assert_eq!(&document, v30, "V3.0 and V3.1 read the same model"),
            _ => {}
        }
    }
}

/// XML read of any bytes: an error, or a model whose written form (if XML can hold it), in the
/// version read, reads back as that version and writes the same bytes.
pub fn xml_read(data: &[u8]) {
    if let Ok((document, version)) = aas_serde::xml::from_slice_versioned::<Document>(data)
        && let Ok(written) = aas_serde::xml::to_vec_as(&document, version)
    {
        // The property itself: a panic here is the fuzzer's finding, not an unhandled input.
        let again: Document = match aas_serde::xml::from_slice_versioned(&written) {
            Ok((again, again_version)) => {
                assert_eq!(again_version, version, "XML is written in the version read");
                again
            }
            Err(error) => panic!("XML written by aas-serde does not read back: {error}"),
        };
        assert_eq!(
            aas_serde::xml::to_vec_as(&again, version).ok(),
            Some(written),
            "XML write is stable"
        );
    }
}

/// AASX read of any bytes (a zip or not): an error, or an environment and its files.
pub fn aasx_read(data: &[u8]) {
    if let Ok(mut reader) = aas_serde::aasx::AasxReader::new(std::io::Cursor::new(data)) {
        let _ = reader.environment();
        for file in reader.supplementary_files().to_vec() {
            if let Ok(mut part) = reader.open(&file) {
                let _ = std::io::copy(&mut part, &mut std::io::sink());
            }
        }
    }
}

/// Verification of any model that reads from JSON: findings, never a panic.
pub fn verify(data: &[u8]) {
    if let Ok(Document::Environment(env)) = aas_serde::json::from_slice(data) {
        for finding in aas_model::verify(&env).take(1000) {
            let _ = finding.to_string();
        }
    }
}

/// The twinsphere envelope of any bytes, on fixed topics: a typed error or an event.
pub fn envelope_decode(data: &[u8]) {
    let scheme = events_core::TopicScheme::twinsphere();
    for topic in [
        "twinsphere/shells/dXJuOmFhczox/updated",
        "twinsphere/submodels/dXJuOnNtOjE/deleted",
    ] {
        if let Ok(topic) = scheme.parse(topic) {
            let _ = events_core::envelope::decode(&topic, data, 1 << 20);
        }
    }
}

/// A CloudEvent of any bytes (plain or gzip): a typed error or a change.
pub fn cloud_event_decode(data: &[u8]) {
    let _ = events_core::CloudEventCodec::new("https://aas.example.com").decode(data, 1 << 20);
}

/// Any text as a topic of both schemes: an error, or a topic that writes back and parses the same.
pub fn topic_parse(data: &[u8]) {
    use events_core::TopicScheme;
    if let Ok(text) = std::str::from_utf8(data) {
        for scheme in [TopicScheme::twinsphere(), TopicScheme::cloud_events()] {
            if let Ok(topic) = scheme.parse(text) {
                let again = scheme.topic(topic.element, &topic.id, topic.kind);
                assert_eq!(
                    scheme.parse(&again).ok().as_ref(),
                    Some(&topic),
                    "topic round trip"
                );
            }
        }
    }
}

/// Any path: translated and parsed, or an error; evaluated on a fixed document.
pub fn jsonpath(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(path) = sdt_core::jsonpath::JsonPath::parse(text)
    {
        let document = serde_json::json!({
            "a": [1, "two", {"b": [true, null, 2.5]}], "c": {"d": "e", "f": [[], {}]},
            "objects": [{"cow": 2, "name": "x"}, {"cow": 1, "name": "y"}]
        });
        let _ = path.query(&document);
    }
}

/// Any `str.format` template: parsed and rendered, or an error.
pub fn python_format(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(template) = sdt_core::python_format::PythonTemplate::parse(text)
    {
        let variables = serde_json::json!({
            "s": "héllo", "i": -42, "big": 12345678901234567890u64, "f": 3.25, "t": true, "n": null,
            "l": [1, "a", null], "o": {"k": [1, 2]}, "w": 8, "p": 3
        });
        if let Some(variables) = variables.as_object() {
            let _ = template.render(variables);
        }
    }
}

/// Any mustache template: parsed and rendered, or an error.
pub fn mustache(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(template) = sdt_core::mustache::MustacheTemplate::parse(text)
    {
        let context = serde_json::json!({
            "a": {"b": {"c": "deep"}}, "list": [1, {"x": "y"}, [2]], "t": true, "f": false, "n": null, "s": "<&>"
        });
        let _ = template.render(&context);
    }
}

/// Any JSON as a synchronization description: compiled (or refused) and dry-run on a fixed
/// answer, and every property's command rendered.
pub fn sync_description(data: &[u8]) {
    use sdt_core::SyncDescription;
    if let Ok(description) = serde_json::from_slice::<SyncDescription>(data)
        && let Ok(compiled) = description.compile()
    {
        let answer = serde_json::json!([{"value": {"addr": "3ef8", "position": [1.5, 2, 3], "state": {"on": true}}}]);
        let run = compiled.dry_run(&answer);
        for (name, _) in compiled.properties() {
            let _ = compiled.render_command(name, &run.variables);
        }
    }
}

/// Verification of arbitrary in-memory models, built field by field by `arbitrary` from the
/// bytes (as libfuzzer-sys builds a typed target's input) rather than read from a file, so that
/// shapes no reader produces are reached: findings, never a panic. A model without findings is
/// valid, so it must round-trip through JSON and XML unchanged.
pub fn verify_arbitrary(data: &[u8]) {
    let Ok(env) = aas_model::Environment::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let mut findings = 0;
    for finding in aas_model::verify(&env).take(1000) {
        let _ = finding.to_string();
        findings += 1;
    }
    if findings > 0 {
        return;
    }
    let document = Document::Environment(env);
    let json = aas_serde::json::to_vec(&document);
    let back: Document = aas_serde::json::from_slice(&json)
        .unwrap_or_else(|e| panic!("the JSON of a model without findings reads: {e}"));
    assert_eq!(
        back, document,
        "JSON round-trip of a model without findings"
    );
    let xml = aas_serde::xml::to_vec(&document)
        .unwrap_or_else(|e| panic!("a model without findings writes as XML: {e}"));
    let back: Document = aas_serde::xml::from_slice(&xml)
        .unwrap_or_else(|e| panic!("the XML of a model without findings reads: {e}"));
    assert_eq!(back, document, "XML round-trip of a model without findings");
}

/// Push target configurations and job requests as users send them, and container SAS URLs: an
/// error, or a parsed target whose shown forms hide the signature. Nothing connects: only
/// parsing and the client construction run.
pub fn push_target(data: &[u8]) {
    use push_core::{BlobSasUrl, TargetConfig, TargetKind, TargetOptions};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for allow_insecure in [false, true] {
        let options = TargetOptions::default().with_allow_insecure(allow_insecure);
        if let Ok(url) = BlobSasUrl::parse(text, &options) {
            assert_signature_hidden(&url.redacted());
            assert_signature_hidden(&url.to_string());
            let _ = url.object_store();
        }
    }
    if let Ok(config) = serde_json::from_slice::<TargetConfig>(data)
        && let TargetKind::AzureBlobStorage { blob_sas_url } = &config.redacted().kind
    {
        assert_signature_hidden(blob_sas_url);
    }
    let _ = serde_json::from_slice::<push_core::PushRequest>(data);
    let _ = push_core::object_path(text);
}

/// Every `sig` of a shown URL (decoded, as Azure reads it) is the placeholder.
fn assert_signature_hidden(shown: &str) {
    if let Ok(url) = url::Url::parse(shown) {
        for (key, value) in url.query_pairs() {
            assert!(
                key != "sig" || value == push_core::REDACTED,
                "signature shown: {shown:?}"
            );
        }
    }
}

/// The server's request bodies (and idShort paths and queries): up to four requests, split at
/// 0xFF bytes, each a selector byte (which endpoint, see [`server_endpoints`]) and the bytes
/// sent, against the HTTP API in process over a fresh in-memory repository holding one shell,
/// one submodel with an element of every common kind, and one concept description. Every
/// answer must be below 500, and after the requests the stored shells and submodels must still
/// read. (The push and SDT binding APIs are left out: their bodies name hosts to contact;
/// push-core's and sdt-core's parsers of those bodies have targets of their own.)
pub fn server_requests(data: &[u8]) {
    server::requests(data);
}

/// The endpoints of [`server_requests`] as `METHOD path`, indexed by the selector byte (modulo
/// their number): for writing seeds.
pub fn server_endpoints() -> Vec<String> {
    server::endpoints()
}
