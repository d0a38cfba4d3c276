//! The `jsonpath` fuzz target: the property it checks is `aas_rs_fuzz_checks::jsonpath`, which the
//! main workspace's tests also replay on the committed inputs (fuzz/seeds/, fuzz/regressions/).
//! The same inputs are compared with jsonpath-ng 1.16.0 by sdt-core's differential harness:
//! `bash scripts/sdt-differential.sh 0 0 --corpus fuzz` (Python per input inside the fuzzer
//! would cost more than the target itself).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| aas_rs_fuzz_checks::jsonpath(data));
