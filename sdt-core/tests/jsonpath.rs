//! JSONPath: the jsonpath-ng ext dialect against jsonpath-ng 1.16.0 (`golden/jsonpath_cases.json`,
//! made by `golden/gen_jsonpath.py`), and RFC 9535 against its compliance test suite.

use sdt_core::jsonpath::JsonPath;
use serde_json::{Value, json};

#[test]
fn ng_dialect_finds_what_jsonpath_ng_finds() -> Result<(), Box<dyn std::error::Error>> {
    let golden: Value = serde_json::from_str(include_str!("golden/jsonpath_cases.json"))?;
    let documents = golden["documents"].as_array().ok_or("no documents")?;
    let cases = golden["cases"].as_array().ok_or("no cases")?;
    let (mut compared, mut rfc_only) = (0, 0);
    let mut failures = Vec::new();
    for case in cases {
        let path = case["path"].as_str().ok_or("no path")?;
        let document = &documents[case["document"].as_u64().ok_or("no document")? as usize];
        let ours = JsonPath::parse(path).and_then(|p| p.query(document));
        match (&ours, case.get("values")) {
            (Ok(found), Some(expected)) if expected.as_array() == Some(found) => compared += 1,
            (Err(_), None) => compared += 1,
            // RFC 9535 function extensions: our dialect takes them, jsonpath-ng does not.
            (Ok(_), None) if path.contains('(') && !path.contains("str()") => rfc_only += 1,
            _ => failures.push(format!(
                "doc {} {path:?}: ours {ours:?}, jsonpath-ng {}",
                case["document"],
                case.get("values")
                    .or(case.get("error"))
                    .unwrap_or(&Value::Null)
            )),
        }
    }
    assert!(compared >= 100, "{compared} compared");
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    eprintln!(
        "{compared} cases equal to jsonpath-ng 1.16.0; {rfc_only} use RFC 9535 functions jsonpath-ng lacks"
    );
    Ok(())
}

/// Runs `../shared/corpus/jsonpath-cts/cts.json` (or under `AAS_CORPUS_DIR`) with plain RFC 9535
/// parsing and reports the pass rate.
#[test]
fn rfc9535_compliance_suite_pass_rate() -> Result<(), Box<dyn std::error::Error>> {
    let corpus = std::env::var_os("AAS_CORPUS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus")
        });
    let cts: Value = serde_json::from_slice(&std::fs::read(corpus.join("jsonpath-cts/cts.json"))?)?;
    let tests = cts["tests"].as_array().ok_or("no tests")?;
    let mut passed = 0;
    let mut failed = Vec::new();
    for test in tests {
        let selector = test["selector"].as_str().ok_or("no selector")?;
        let parsed = JsonPath::parse_rfc9535(selector);
        let ok = if test["invalid_selector"].as_bool() == Some(true) {
            parsed.is_err()
        } else {
            match parsed {
                Err(_) => false,
                Ok(path) => match path.query(&test["document"]) {
                    Err(_) => false,
                    Ok(found) => {
                        let found = Value::Array(found);
                        match (test.get("result"), test.get("results")) {
                            (Some(result), _) => &found == result,
                            (None, Some(Value::Array(any))) => any.contains(&found),
                            _ => false,
                        }
                    }
                },
            }
        };
        if ok {
            passed += 1;
        } else {
            failed.push(test["name"].as_str().unwrap_or_default().to_owned());
        }
    }
    let rate = passed as f64 / tests.len() as f64;
    eprintln!(
        "RFC 9535 CTS: {passed}/{} passed ({:.1}%)",
        tests.len(),
        rate * 100.0
    );
    eprintln!("failed: {failed:?}");
    // Our evaluator (jsonpath-rust parses) passes all of it.
    assert!(failed.is_empty(), "pass rate fell to {:.1}%", rate * 100.0);
    Ok(())
}

fn rfc(path: &str, document: &Value) -> Result<Vec<Value>, sdt_core::jsonpath::JsonPathError> {
    JsonPath::parse_rfc9535(path)?.query(document)
}

#[test]
fn nested_filters_select_what_rfc_9535_selects() -> Result<(), Box<dyn std::error::Error>> {
    // jsonpath-rust 1.0.12 returned nothing here.
    assert_eq!(
        rfc("$[?@[?@.a]]", &json!([[{"a": 1}]]))?,
        vec![json!([{"a": 1}])]
    );
    assert_eq!(
        rfc("$[?@[?@.a]]", &json!([[{"b": 1}], [{"a": null}], 3]))?,
        vec![json!([{"a": null}])]
    );
    // The jsonpath-ng dialect goes through the same evaluator.
    assert_eq!(
        JsonPath::parse("$[?@[?a]]")?.query(&json!([[{"a": 1}]]))?,
        vec![json!([{"a": 1}])]
    );
    Ok(())
}

#[test]
fn several_selectors_apply_node_by_node_in_descendant_segments()
-> Result<(), Box<dyn std::error::Error>> {
    let document = json!({"o": [{"a": 1, "b": 2}, {"a": 3, "b": 4}]});
    assert_eq!(
        rfc("$..['a','b']", &document)?,
        vec![json!(1), json!(2), json!(3), json!(4)]
    );
    assert_eq!(
        rfc("$.o[1,0,1].a", &document)?,
        vec![json!(3), json!(1), json!(3)]
    );
    assert_eq!(
        rfc("$..[0]", &json!([[1, [2]], 3]))?,
        vec![json!([1, [2]]), json!(1), json!(2)]
    );
    Ok(())
}

#[test]
fn comparisons_follow_rfc_9535() -> Result<(), Box<dyn std::error::Error>> {
    let document = json!({
        "want": [1, {"z": 2.0}],
        "items": [{"x": [1.0, {"z": 2}]}, {"x": [1, {"z": 3}]}, {"x": 1}, {}]
    });
    // Arrays and objects are equal member by member, numbers by value.
    assert_eq!(
        rfc("$.items[?@.x == $.want]", &document)?,
        vec![json!({"x": [1.0, {"z": 2}]})]
    );
    // Nothing equals Nothing; a missing member is not null.
    assert_eq!(rfc("$.items[?@.y == $.none]", &document)?.len(), 4);
    assert_eq!(
        rfc("$.items[?@.x == null]", &document)?,
        Vec::<Value>::new()
    );
    // Ordering: numbers with numbers, strings with strings, never across types.
    let values = json!([1, 2.5, "10", "9", true, null, [0]]);
    assert_eq!(rfc("$[?@ < 3]", &values)?, vec![json!(1), json!(2.5)]);
    assert_eq!(rfc("$[?@ >= '9']", &values)?, vec![json!("9")]);
    assert_eq!(rfc("$[?@ <= true]", &values)?, vec![json!(true)]);
    assert_eq!(rfc("$[?@ != 1]", &values)?.len(), 6);
    // Integers past 2^53 are compared exactly.
    let big = json!([9007199254740993u64, 9007199254740992u64]);
    assert_eq!(
        rfc("$[?@ == 9.007199254740992e15]", &big)?,
        vec![json!(9007199254740992u64)]
    );
    Ok(())
}

#[test]
fn functions_follow_rfc_9535() -> Result<(), Box<dyn std::error::Error>> {
    let document = json!([
        {"name": "ab", "tags": [1, 2]},
        {"name": "a\nb", "tags": []},
        {"name": "ab\r", "tags": {"x": 1}},
        {"name": "жЖ"}
    ]);
    assert_eq!(rfc("$[?length(@.name) == 2]", &document)?.len(), 2);
    assert_eq!(rfc("$[?count(@.tags.*) == 2]", &document)?.len(), 1);
    assert_eq!(rfc("$[?value(@..x) == 1]", &document)?.len(), 1);
    // match() is anchored; `.` matches neither \n nor \r (I-Regexp).
    assert_eq!(
        rfc("$[?match(@.name, 'a.b')]", &document)?,
        Vec::<Value>::new()
    );
    assert_eq!(rfc("$[?match(@.name, 'a|ab')]", &document)?.len(), 1);
    assert_eq!(
        rfc("$[?search(@.name, 'b.')]", &document)?,
        Vec::<Value>::new()
    );
    assert_eq!(rfc("$[?match(@.name, '\\\\p{Lu}')]", &document)?.len(), 0);
    assert_eq!(rfc("$[?search(@.name, '\\\\p{Lu}')]", &document)?.len(), 1);
    // An invalid pattern matches nothing.
    assert_eq!(
        rfc("$[?search(@.name, '(')]", &document)?,
        Vec::<Value>::new()
    );
    Ok(())
}

#[test]
fn queries_rfc_9535_calls_ill_typed_are_refused() {
    for path in [
        "$[?length(@)]",
        "$[?count(@.*)]",
        "$[?value(@.a)]",
        "$[?length(@.*) == 1]",
        "$[?length(@..a) == 1]",
        "$[?match(@.*, 'a')]",
        "$[?count(1) == 1]",
        "$[?value('a') == 'a']",
        "$[?in(@.a, $.b)]",
        "$[?match(@.a, 'a') == true]",
    ] {
        assert!(
            matches!(
                JsonPath::parse_rfc9535(path),
                Err(sdt_core::jsonpath::JsonPathError::Invalid { .. })
            ),
            "{path} was accepted"
        );
    }
}

/// The kinds of issue 24, each as jsonpath-ng 1.16.0 answers it (checked against it by the
/// differential harness; these are the readable examples).
#[test]
fn the_jsonpath_ng_dialect_reads_paths_as_jsonpath_ng_does()
-> Result<(), Box<dyn std::error::Error>> {
    let hue = json!({"1": {"state": {"on": true, "xy": [0.3, 0.4]}, "name": "Hue 1"},
                     "device-id": "a-1", "@id": 7, "température": 21.5});
    let find = |path: &str, document: &Value| JsonPath::parse(path).and_then(|p| p.query(document));
    assert_eq!(find("$.1.state.xy[0]", &hue)?, vec![json!(0.3)]);
    assert_eq!(find("$.device-id", &hue)?, vec![json!("a-1")]);
    assert_eq!(find("$.@id", &hue)?, vec![json!(7)]);
    assert_eq!(find("$.'température'", &hue)?, vec![json!(21.5)]);
    assert_eq!(find("$.1.name.`len`", &hue)?, vec![json!(5)]);
    assert_eq!(find("`this`.1.state.on", &hue)?, vec![json!(true)]);
    assert_eq!(find("$.device-id,@id", &hue)?, vec![json!("a-1"), json!(7)]);
    assert_eq!(find("$ . 1 . name", &hue)?, vec![json!("Hue 1")]);
    // jsonpath-ng reads `$.[0]` as `$[0]`; `$.a b`, the empty path and `$.` are errors.
    assert_eq!(find("$.[0]", &json!([5]))?, vec![json!(5)]);
    for bad in ["$.a b", "", "$.", "$..", "$[?]"] {
        assert!(JsonPath::parse(bad).is_err(), "{bad:?}");
    }
    let readings = json!([{"value": {"addr": "ffff", "v": 0}}, {"value": {"addr": "3ef8", "v": 0.0}},
                          {"value": {"addr": "aaaa", "v": true}}]);
    // Bare words are strings, `=` is `==`, `!` negates, `0` equals `0.0` but `true` is not 1.
    assert_eq!(
        find("$[?value.addr==ffff].value.v", &readings)?,
        vec![json!(0)]
    );
    assert_eq!(
        find("$[?value.v=0].value.addr", &readings)?,
        vec![json!("ffff"), json!("3ef8")]
    );
    assert_eq!(
        find("$[?value.v == 1].value.addr", &readings)?,
        Vec::<Value>::new()
    );
    assert_eq!(find("$[?!value.nothing].value.addr", &readings)?.len(), 3);
    // `|` between filter expressions is not jsonpath-ng's (its `||` is).
    assert!(find("$[?value.addr=ffff | value.addr='aaaa'].value.v", &readings).is_err());
    assert_eq!(
        find(
            "$[?value.addr=ffff || value.addr='aaaa'].value.v",
            &readings
        )?,
        vec![json!(0), json!(true)]
    );
    assert_eq!(
        find(
            "$[?(@.value.v == @.value.v) & value.addr =~ '^3'].value.addr",
            &readings
        )?,
        vec![json!("3ef8")]
    );
    Ok(())
}

/// `` `parent` `` and a `$` after the first step read the values a match was found in; paths
/// without them are evaluated without keeping those (as jsonpath-ng 1.16.0 answers, both kinds).
#[test]
fn parent_and_inner_root_see_where_a_match_was_found() -> Result<(), Box<dyn std::error::Error>> {
    let document = json!({"a": {"b": {"c": 1}, "d": [{"c": 2}, {"c": 3}]}, "n": 2});
    let find = |path: &str| JsonPath::parse(path).and_then(|p| p.query(&document));
    assert_eq!(find("$.a.b.c")?, vec![json!(1)]);
    assert_eq!(find("$.a.`this`.b.c")?, vec![json!(1)]);
    assert_eq!(find("$.a.b.`parent`")?, vec![document["a"].clone()]);
    assert_eq!(find("$.a.d[1].c.`parent`")?, vec![json!({"c": 3})]);
    assert_eq!(
        find("$..c.`parent`")?,
        vec![json!({"c": 1}), json!({"c": 2}), json!({"c": 3})]
    );
    assert_eq!(find("$.a.d[?c > $.n].c")?, vec![json!(3)]);
    assert_eq!(
        find("$.a.d[*].c.`parent`.`parent`.`parent`.b")?,
        vec![json!({"c": 1}), json!({"c": 1})]
    );
    assert_eq!(find("a.b.c | $.n")?, vec![json!(2)]);
    assert_eq!(find("$.a.d[0].$.n")?, vec![json!(2)]);
    Ok(())
}
