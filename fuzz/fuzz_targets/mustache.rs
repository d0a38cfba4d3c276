//! Any mustache template: parsed and rendered, or an error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sdt_core::mustache::MustacheTemplate;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(template) = MustacheTemplate::parse(text)
    {
        let context = serde_json::json!({
            "a": {"b": {"c": "deep"}}, "list": [1, {"x": "y"}, [2]], "t": true, "f": false, "n": null, "s": "<&>"
        });
        let _ = template.render(&context);
    }
});
