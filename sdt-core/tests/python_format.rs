//! The Python template engine against CPython 3.11: every case of `golden/format_cases.json`
//! (made by `golden/gen_format.py`) renders the same text, or fails with the same exception.

use sdt_core::python_format::PythonTemplate;

#[test]
fn str_format_matches_cpython_on_every_golden_case() -> Result<(), Box<dyn std::error::Error>> {
    let golden: serde_json::Value = serde_json::from_str(include_str!("golden/format_cases.json"))?;
    let variables = golden["variables"].as_object().ok_or("no variables")?;
    let cases = golden["cases"].as_array().ok_or("no cases")?;
    let mut failures = Vec::new();
    for case in cases {
        let template = case["template"].as_str().ok_or("no template")?;
        let ours = PythonTemplate::parse(template).and_then(|t| t.render(variables));
        let matches = match (&ours, case.get("output"), case.get("error")) {
            (Ok(text), Some(expected), _) => expected.as_str() == Some(text.as_str()),
            (Err(error), _, Some(kind)) => kind.as_str() == Some(error.kind.to_string().as_str()),
            _ => false,
        };
        if !matches {
            failures.push(format!(
                "{template:?}: ours {ours:?}, Python {}",
                case.get("output")
                    .or(case.get("error"))
                    .unwrap_or(&serde_json::Value::Null)
            ));
        }
    }
    assert!(cases.len() >= 150, "{} cases", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    Ok(())
}

#[test]
fn huge_widths_and_precisions_are_errors_not_allocations() -> Result<(), Box<dyn std::error::Error>>
{
    let variables = serde_json::json!({"f": 1.5, "s": "x"});
    let variables = variables.as_object().ok_or("object")?;
    for template in [
        "{f:.1000000000f}",
        "{s:>999999999999}",
        "{f:99999999999999999999999}",
    ] {
        let result = PythonTemplate::parse(template).and_then(|t| t.render(variables));
        assert!(result.is_err(), "{template}: {result:?}");
    }
    assert_eq!(
        PythonTemplate::parse("{f:.3f}")?.render(variables)?,
        "1.500"
    );
    Ok(())
}
