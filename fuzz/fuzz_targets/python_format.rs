//! Any `str.format` template: parsed and rendered, or an error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sdt_core::python_format::PythonTemplate;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(template) = PythonTemplate::parse(text)
    {
        let variables = serde_json::json!({
            "s": "héllo", "i": -42, "big": 12345678901234567890u64, "f": 3.25, "t": true, "n": null,
            "l": [1, "a", null], "o": {"k": [1, 2]}, "w": 8, "p": 3
        });
        if let Some(variables) = variables.as_object() {
            let _ = template.render(variables);
        }
    }
});
