//! A CloudEvent of any bytes (plain or gzip): a typed error or a change.
#![no_main]
use events_core::CloudEventCodec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = CloudEventCodec::new("https://aas.example.com").decode(data, 1 << 20);
});
