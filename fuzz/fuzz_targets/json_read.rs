//! JSON read of any bytes: an error, or a model whose written form reads back and writes the
//! same bytes (writing normalizes once: empty optional lists, which are invalid, are left out).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(document) = aas_serde::json::from_slice::<aas_serde::Document>(data) {
        let written = aas_serde::json::to_vec(&document);
        let again: aas_serde::Document =
            aas_serde::json::from_slice(&written).expect("our own output reads");
        assert_eq!(
            aas_serde::json::to_vec(&again),
            written,
            "JSON write is stable"
        );
    }
});
