//! Bad input never panics: truncated and byte-flipped corpus files (JSON and XML, of both
//! corpora, V3.0 and V3.1), and hostile nesting, give an error (or, by chance, a model), never
//! a panic or a stack overflow.

use aas_conformance_tests::{Corpus, Version, Xorshift};
use aas_serde::{Document, json, xml};

/// Bytes that change JSON structure when flipped in.
const INTERESTING: &[u8] = b"{}[]\",:\\ntf0-\x00\xff\xc3";

fn mutants(original: &[u8], rng: &mut Xorshift) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for _ in 0..6 {
        out.push(original[..rng.below(original.len() + 1)].to_vec());
    }
    for _ in 0..12 {
        let mut m = original.to_vec();
        for _ in 0..=rng.below(3) {
            let at = rng.below(m.len().max(1));
            let byte = if rng.below(2) == 0 {
                INTERESTING[rng.below(INTERESTING.len())]
            } else {
                rng.next_u64() as u8
            };
            if let Some(b) = m.get_mut(at) {
                *b = byte;
            }
        }
        out.push(m);
    }
    // Duplicate a slice: duplicate keys, repeated elements.
    let (a, b) = (rng.below(original.len()), rng.below(original.len()));
    let (from, to) = (a.min(b), a.max(b));
    let mut dup = original[..to].to_vec();
    dup.extend_from_slice(&original[from..]);
    out.push(dup);
    out
}

/// Findings of whatever reads: verification never panics either.
fn verify(document: &Document, version: Version) -> usize {
    match document {
        Document::Environment(env) => aas_model::verify_as(env, version).count(),
        Document::EventPayload(payload) => aas_model::verify_as(payload, version).count(),
    }
}

/// Mutants of every second Expected and Unserializable JSON file of the corpus, read as its
/// version.
fn mutated_json_files_give_errors_not_panics(corpus: Corpus, seed: u64) {
    let mut rng = Xorshift::new(seed);
    let mut files = corpus.category("Json", "Expected");
    files.extend(corpus.category("Json", "Unexpected/Unserializable"));
    let mut rejected = 0usize;
    let mut total = 0usize;
    for path in files.iter().step_by(2) {
        let original = std::fs::read(path).expect("corpus file");
        for mutant in mutants(&original, &mut rng) {
            total += 1;
            match json::from_slice_as::<Document>(&mutant, corpus.version) {
                Ok(doc) => {
                    // Whatever reads must also write and read back to the same output (empty
                    // lists a mutant may hold are dropped by the first write).
                    let _ = verify(&doc, corpus.version);
                    let written = json::to_vec(&doc);
                    let again: Document = json::from_slice_as(&written, corpus.version)
                        .expect("written output reads back");
                    assert_eq!(json::to_vec(&again), written, "{}", path.display());
                }
                Err(e) => {
                    rejected += 1;
                    assert!(!e.to_string().is_empty());
                }
            }
        }
    }
    assert!(total > 20_000, "ran {total} mutants");
    assert!(
        rejected > total / 2,
        "only {rejected} of {total} mutants rejected: mutations too weak"
    );
}

#[test]
fn mutated_corpus_files_give_errors_not_panics() {
    mutated_json_files_give_errors_not_panics(Corpus::V3_0, 0x05ee_daa5);
}

#[test]
fn mutated_v31_corpus_files_give_errors_not_panics() {
    mutated_json_files_give_errors_not_panics(Corpus::V3_1, 0x0311_daa5);
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // Nested collections, far deeper than the reader allows.
    let depth = 5_000;
    let mut text =
        String::from(r#"{"submodels":[{"modelType":"Submodel","id":"x","submodelElements":["#);
    for _ in 0..depth {
        text.push_str(r#"{"modelType":"SubmodelElementCollection","value":["#);
    }
    text.push_str(&"]}".repeat(depth));
    text.push_str("]}]}");
    let err = json::from_str::<Document>(&text).unwrap_err();
    assert!(matches!(err.kind(), json::ErrorKind::TooDeep(_)), "{err}");

    // Plain arrays and objects in an unexpected place.
    let arrays = format!(
        r#"{{"submodels":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(json::from_str::<Document>(&arrays).is_err());
    let objects = format!(r#"{{"submodels":[{}]}}"#, r#"{"a":"#.repeat(100_000));
    assert!(json::from_str::<Document>(&objects).is_err());
}

#[test]
fn nesting_within_the_limit_reads() {
    let depth = 60;
    let mut element =
        String::from(r#"{"modelType":"Property","idShort":"p","valueType":"xs:int"}"#);
    for _ in 0..depth {
        element = format!(
            r#"{{"modelType":"SubmodelElementCollection","idShort":"c","value":[{element}]}}"#
        );
    }
    let text = format!(
        r#"{{"submodels":[{{"modelType":"Submodel","id":"x","submodelElements":[{element}]}}]}}"#
    );
    let doc = json::from_str::<Document>(&text).expect("60 nested collections read");
    assert_eq!(
        json::from_slice::<Document>(&json::to_vec(&doc)).unwrap(),
        doc
    );
}

#[test]
fn an_error_deep_inside_elements_with_model_type_last_is_found_without_reading_again_per_level() {
    // 60 nested collections with modelType after value, and an error at the bottom: each level
    // must not read its value twice (2^60 reads would never finish).
    let depth = 60;
    let mut element = String::from(r#"{"valueType":"xs:nope","modelType":"Property"}"#);
    for _ in 0..depth {
        element = format!(
            r#"{{"idShort":"c","value":[{element}],"modelType":"SubmodelElementCollection"}}"#
        );
    }
    let text = format!(
        r#"{{"submodels":[{{"modelType":"Submodel","id":"x","submodelElements":[{element}]}}]}}"#
    );
    let err = json::from_str::<Document>(&text).unwrap_err();
    assert!(
        matches!(err.kind(), json::ErrorKind::UnknownLiteral { .. }),
        "{err}"
    );
    assert_eq!(
        err.path().count(),
        4 + 2 * depth + 1,
        "{}",
        err.path_string()
    );
}

/// Mutants of every second Expected and Unserializable XML file of the corpus (read as the
/// version their namespace names, a mutated namespace included).
fn mutated_xml_files_give_errors_not_panics(corpus: Corpus, seed: u64) {
    let mut rng = Xorshift::new(seed);
    let mut files = corpus.category("Xml", "Expected");
    files.extend(corpus.category("Xml", "Unexpected/Unserializable"));
    let (mut total, mut rejected) = (0usize, 0usize);
    for path in files.iter().step_by(2) {
        let original = std::fs::read(path).expect("corpus file");
        for mutant in mutants(&original, &mut rng) {
            total += 1;
            match xml::from_slice_versioned::<Document>(&mutant) {
                Ok((doc, version)) => {
                    let _ = verify(&doc, version);
                    // A mutant may hold characters XML cannot write; that is an error, not a panic.
                    if let Ok(written) = xml::to_vec_as(&doc, version) {
                        let (again, again_version) =
                            xml::from_slice_versioned::<Document>(&written)
                                .expect("written output reads back");
                        assert_eq!(again_version, version, "{}", path.display());
                        assert_eq!(
                            xml::to_vec_as(&again, version).ok(),
                            Some(written),
                            "{}",
                            path.display()
                        );
                    }
                }
                Err(e) => {
                    rejected += 1;
                    assert!(
                        e.line() > 0 || matches!(e.kind(), xml::ErrorKind::InvalidUtf8),
                        "{e}"
                    );
                }
            }
        }
    }
    assert!(total > 20_000, "ran {total} mutants");
    assert!(
        rejected > total / 2,
        "only {rejected} of {total} mutants rejected: mutations too weak"
    );
}

#[test]
fn mutated_xml_corpus_files_give_errors_not_panics() {
    mutated_xml_files_give_errors_not_panics(Corpus::V3_0, 0x0bad_5eed);
}

#[test]
fn mutated_v31_xml_corpus_files_give_errors_not_panics() {
    mutated_xml_files_give_errors_not_panics(Corpus::V3_1, 0x0311_5eed);
}
