//! The Python template engine against CPython 3.11: every case of `golden/format_cases.json`
//! (made by `golden/gen_format.py`) renders the same text, or fails with the same exception.

use sdt_core::python_format::{self, ErrorKind, PythonTemplate};
use serde_json::json;

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

fn format(template: &str, variables: serde_json::Value) -> Result<String, ErrorKind> {
    let variables = variables.as_object().cloned().unwrap_or_default();
    python_format::format(template, &variables).map_err(|e| e.kind)
}

#[test]
fn the_zero_flag_pads_strings_on_the_right_as_python_3_10_does() {
    assert_eq!(format("{s:08}", json!({"s": "ab"})), Ok("ab000000".into()));
    assert_eq!(
        format("{s!r:08}", json!({"s": "ab"})),
        Ok("'ab'0000".into())
    );
    assert_eq!(format("{i:08}", json!({"i": -5})), Ok("-0000005".into()));
}

#[test]
fn numbers_have_their_python_attributes() {
    let n = json!({"i": 5, "b": true, "f": 2.5});
    assert_eq!(
        format("{i.real}{i.imag}{i.numerator}{i.denominator}", n.clone()),
        Ok("5051".into())
    );
    assert_eq!(
        format("{b.real}{b.denominator}", n.clone()),
        Ok("11".into())
    );
    assert_eq!(format("{f.real}/{f.imag}", n.clone()), Ok("2.5/0.0".into()));
    assert_eq!(
        format("{f.numerator}", n.clone()),
        Err(ErrorKind::AttributeError)
    );
    assert_eq!(format("{i.imag:s}", n), Err(ErrorKind::ValueError));
}

#[test]
fn errors_come_in_the_order_python_meets_them() {
    // The field fails before the lone `}` after it is read.
    assert_eq!(format("{}}", json!({})), Err(ErrorKind::IndexError));
    assert_eq!(format("{x!z}", json!({})), Err(ErrorKind::KeyError));
    assert_eq!(format("{x!z}", json!({"x": 1})), Err(ErrorKind::ValueError));
    assert_eq!(
        format("{x.real.}", json!({"y": 1})),
        Err(ErrorKind::KeyError)
    );
    // Parsing once still refuses what always fails.
    assert!(PythonTemplate::parse("{}}").is_err());
    assert!(PythonTemplate::parse("{x!z}").is_err());
}

#[test]
fn the_alternate_form_keeps_a_point_in_exponents() {
    assert_eq!(format("{f:#}", json!({"f": 5e-324})), Ok("5.e-324".into()));
    assert_eq!(format("{f:#}", json!({"f": 2.0})), Ok("2.0".into()));
}
