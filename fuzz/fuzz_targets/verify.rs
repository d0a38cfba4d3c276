//! Verification of any model that reads from JSON: findings, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(aas_serde::Document::Environment(env)) = aas_serde::json::from_slice(data) {
        for finding in aas_model::verify(&env).take(1000) {
            let _ = finding.to_string();
        }
    }
});
