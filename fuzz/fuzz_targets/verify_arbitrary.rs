//! Verification of arbitrary in-memory models, built field by field by `arbitrary` rather than
//! read from a file (so shapes no reader produces are reached): findings, never a panic. A
//! model without findings is valid, so it must round-trip through JSON and XML unchanged.
#![no_main]
use aas_serde::Document;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|env: aas_model::Environment| {
    let findings = aas_model::verify(&env)
        .take(1000)
        .map(|finding| finding.to_string())
        .count();
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
});
