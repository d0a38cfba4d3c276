//! XML read of any bytes: an error, or a model whose written form (if XML can hold it) reads
//! back and writes the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(document) = aas_serde::xml::from_slice::<aas_serde::Document>(data)
        && let Ok(written) = aas_serde::xml::to_vec(&document)
    {
        let again: aas_serde::Document =
            aas_serde::xml::from_slice(&written).expect("our own output reads");
        assert_eq!(
            aas_serde::xml::to_vec(&again).ok(),
            Some(written),
            "XML write is stable"
        );
    }
});
