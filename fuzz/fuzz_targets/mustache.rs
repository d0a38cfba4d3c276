//! The `mustache` fuzz target: the property it checks is `aas_rs_fuzz_checks::mustache`, which the
//! main workspace's tests also replay on the committed inputs (fuzz/seeds/, fuzz/regressions/).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| aas_rs_fuzz_checks::mustache(data));
