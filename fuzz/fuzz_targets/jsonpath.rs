//! Any path: translated and parsed, or an error; evaluated on a fixed document.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sdt_core::jsonpath::JsonPath;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(path) = JsonPath::parse(text)
    {
        let document = serde_json::json!({
            "a": [1, "two", {"b": [true, null, 2.5]}], "c": {"d": "e", "f": [[], {}]},
            "objects": [{"cow": 2, "name": "x"}, {"cow": 1, "name": "y"}]
        });
        let _ = path.query(&document);
    }
});
