//! The two descriptions of `spec/sdt.md` §2, verbatim (`tests/fixtures/`), on the §4 answers.

use sdt_core::{RenderError, SyncDescription};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn description(file: &str) -> Result<SyncDescription, Box<dyn std::error::Error>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(file);
    Ok(serde_json::from_slice(&std::fs::read(path)?)?)
}

#[test]
fn position_description_gives_the_variables_and_dt_data_of_the_contract() -> TestResult {
    let compiled = description("position.json")?.compile()?;
    let answer = json!([{"value":{"addr":"3ef8","position":[1.5,2,3]}},{"value":{"addr":"aaaa","position":[9,9,9]}}]);
    let run = compiled.dry_run(&answer);
    assert_eq!(
        serde_json::Value::Object(run.variables),
        json!({"x": 1.5, "y": 2, "z": 3})
    );
    assert_eq!(
        run.values["DT:data"],
        json!(r#"{"coordX":1.5,"coordY":2,"coordZ":3}"#)
    );
    // A device missing from the answer: the property is skipped, not written empty.
    let run = compiled.dry_run(&json!([{"value":{"addr":"aaaa","position":[9,9,9]}}]));
    assert!(run.values.is_empty());
    assert_eq!(run.skipped["DT:data"], RenderError::Unset("x".into()));
    Ok(())
}

#[test]
fn bulb_description_gives_python_strings_and_the_command_of_the_contract() -> TestResult {
    let compiled = description("bulb.json")?.compile()?;
    let run = compiled.dry_run(&json!([{"value":{"state":{"on":true,"bri":254,"sat":144}}}]));
    assert_eq!(
        serde_json::Value::Object(run.variables),
        json!({"on": true, "bri": 254, "sat": 144})
    );
    assert_eq!(run.values.get("on"), Some(&json!("True")));
    assert_eq!(run.values.get("bri"), Some(&json!("254")));
    assert_eq!(run.values.get("sat"), Some(&json!("144")));
    let twin = json!({"on": "false", "bri": "254", "sat": "144"});
    let command = compiled
        .render_command("on", twin.as_object().ok_or("object")?)
        .ok_or("a command")??;
    assert_eq!(
        serde_json::to_string(&command)?,
        r#"{"request":{"connector":"mqtt","value":{"req":"{\"on\":false}","arg":{"type":"light","id":"00:17:88:01:03:20:6d:49-0b"}}}}"#
    );
    Ok(())
}

#[test]
fn bad_descriptions_are_refused_naming_the_attribute() {
    let cases = [
        (
            json!({"iot_attributes": [{"name": "x", "value": "$[?"}], "thingin_attributes": []}),
            "iot_attributes[0] (x)",
        ),
        (
            json!({"iot_attributes": [], "thingin_attributes": [{"name": "p", "value": "{x}"}]}),
            "thingin_attributes[0] (p): the template uses \"x\"",
        ),
        (
            json!({"iot_attributes": [{"name": "x", "value": "$.a"}],
                   "thingin_attributes": [{"name": "p", "value": "{x", "value_template": "python"}]}),
            "thingin_attributes[0] (p)",
        ),
        (
            json!({"iot_attributes": [{"name": "x", "value": "$.a"}],
                   "thingin_attributes": [{"name": "p", "value": "{{#x}}open", "value_template": "mustache"}]}),
            "never closed",
        ),
        (
            json!({"iot_attributes": [{"name": "x", "value": "$.a"}],
                   "thingin_attributes": [{"name": "p", "value": "{x}", "command_value": {"req": "{{#x}}"}}]}),
            "command_value: /req",
        ),
    ];
    for (description, expected) in cases {
        let parsed: SyncDescription =
            serde_json::from_value(description.clone()).unwrap_or_else(|e| panic!("{e}"));
        match parsed.compile() {
            Ok(_) => panic!("{description} must be refused"),
            Err(error) => assert!(
                error.to_string().contains(expected),
                "{error} should say {expected:?}"
            ),
        }
    }
}

#[test]
fn direct_and_json_mustache_templates_keep_json_values() -> TestResult {
    let description: SyncDescription = serde_json::from_value(json!({
        "iot_attributes": [{"name": "p", "value": "$.position"}, {"name": "n", "value": "$.name"}],
        "thingin_attributes": [
            {"name": "raw", "value": "p", "value_template": "direct"},
            {"name": "doc", "value": "{\"pos\": {{{p}}}, \"name\": \"{{n}}\"}", "value_template": "json_mustache"},
            {"name": "bad", "value": "{{n}} is not JSON", "value_template": "json_mustache"}
        ]
    }))?;
    let run = description
        .compile()?
        .dry_run(&json!({"position": [1, 2.5], "name": "bulb"}));
    assert_eq!(run.values["raw"], json!([1, 2.5]));
    assert_eq!(run.values["doc"], json!({"pos": [1, 2.5], "name": "bulb"}));
    assert!(matches!(run.skipped["bad"], RenderError::NotJson(_)));
    Ok(())
}
