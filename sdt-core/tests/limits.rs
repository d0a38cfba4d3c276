//! The limits of the crate documentation ("Limits" in `src/lib.rs`): the attack inputs of
//! issue 18 are refused with an error naming the limit (the process neither aborts nor runs on),
//! and inputs at the limits still work. The tests run on the test harness's threads (2 MiB of
//! stack in debug builds), a smaller stack than the server's.

use std::time::{Duration, Instant};

use sdt_core::jsonpath::{self, JsonPath, JsonPathError};
use sdt_core::mustache::{self, MustacheError, MustacheTemplate};
use sdt_core::python_format::{self, ErrorKind, FormatError, PythonTemplate};
use sdt_core::{
    DescriptionProblem, Evaluation, Limit, LimitExceeded, RenderError, SyncDescription,
};
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// `$` + `[?(@` × depth + `.a` + `)]` × depth: filters nested `depth` deep (`2 × depth` brackets
/// and parentheses).
fn nested_filters(depth: usize) -> String {
    format!("${}.a{}", "[?(@".repeat(depth), ")]".repeat(depth))
}

fn limit_of(error: &JsonPathError) -> Option<LimitExceeded> {
    match error {
        JsonPathError::Limit(exceeded) => Some(*exceeded),
        _ => None,
    }
}

/// Runs `work` and fails if it took longer than `most`: a guard against unbounded work (which
/// takes minutes to hours), set far above what the bounded work takes even on a loaded machine.
fn within<T>(most: Duration, work: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let result = work();
    let took = start.elapsed();
    assert!(took < most, "took {took:?}");
    result
}

#[test]
fn a_jsonpath_nested_deeper_than_the_limit_is_refused_before_parsing() -> TestResult {
    // The attack: 30 KB, filters nested 5,000 deep; it overflowed the stack and aborted.
    let attack = nested_filters(5_000);
    assert!(attack.len() > 30_000);
    for parsed in [JsonPath::parse(&attack), JsonPath::parse_rfc9535(&attack)] {
        let error = parsed.err().ok_or("refused")?;
        assert_eq!(
            limit_of(&error),
            Some(LimitExceeded {
                limit: Limit::JsonPathDepth,
                actual: Some(10_000)
            })
        );
        assert_eq!(
            error.to_string(),
            "JSONPath nesting depth 10000 exceeds the limit of 64 (sdt_core::jsonpath::MAX_DEPTH)"
        );
    }
    // Short enough, one level too deep: the depth is what is refused.
    let one_too_deep = format!("$[{}]", nested_filters(32).trim_start_matches('$'));
    assert!(one_too_deep.len() <= jsonpath::MAX_LENGTH);
    let error = JsonPath::parse(&one_too_deep).err().ok_or("refused")?;
    assert_eq!(
        limit_of(&error).map(|e| (e.limit, e.actual)),
        Some((Limit::JsonPathDepth, Some(65)))
    );
    // Brackets and parentheses inside quoted strings do not count.
    let quoted = format!("$['{}']", "[(".repeat(1_000));
    assert!(JsonPath::parse(&quoted).is_ok());
    assert!(JsonPath::parse_rfc9535(&quoted).is_ok());
    let escaped = format!(r#"$["\"{}"]"#, "[".repeat(100));
    assert!(JsonPath::parse_rfc9535(&escaped).is_ok());
    Ok(())
}

#[test]
fn a_jsonpath_at_the_depth_limit_parses_and_queries() -> TestResult {
    // `$[?(@.b[?(@.b ... )])]`: filters 32 deep, each looking one `b` further.
    let depth = jsonpath::MAX_DEPTH / 2;
    let path = format!("${}{}", "[?(@.b".repeat(depth), ")]".repeat(depth));
    let mut member = json!({"b": 1});
    for _ in 1..depth {
        member = json!({ "b": [member] });
    }
    let document = json!([member.clone(), {"b": [{"c": 1}]}]);
    for parsed in [JsonPath::parse(&path)?, JsonPath::parse_rfc9535(&path)?] {
        assert_eq!(parsed.query(&document)?, vec![member.clone()]);
    }
    Ok(())
}

#[test]
fn a_jsonpath_longer_than_the_limit_is_refused_before_parsing() -> TestResult {
    let name = "a".repeat(jsonpath::MAX_LENGTH - 2);
    let at_limit = format!("$.{name}");
    assert_eq!(at_limit.len(), jsonpath::MAX_LENGTH);
    let document = json!({ name.clone(): 1 });
    assert_eq!(
        JsonPath::parse(&at_limit)?.query(&document)?,
        vec![json!(1)]
    );
    assert_eq!(
        JsonPath::parse_rfc9535(&at_limit)?.query(&document)?,
        vec![json!(1)]
    );
    let over = format!("{at_limit}a");
    for parsed in [JsonPath::parse(&over), JsonPath::parse_rfc9535(&over)] {
        let error = parsed.err().ok_or("refused")?;
        assert_eq!(
            limit_of(&error).map(|e| (e.limit, e.actual)),
            Some((Limit::JsonPathLength, Some(4097)))
        );
        assert_eq!(
            error.to_string(),
            "JSONPath length 4097 bytes exceeds the limit of 4096 bytes (sdt_core::jsonpath::MAX_LENGTH)"
        );
    }
    Ok(())
}

/// `[[…[0]…]]`: an array nested `depth` deep around a number.
fn nested_arrays(depth: usize) -> Value {
    let mut value = json!(0);
    for _ in 0..depth {
        value = json!([value]);
    }
    value
}

/// The limit a query stopped at, or what it found instead.
fn query_limit(path: &JsonPath, document: &Value) -> Result<Limit, NoLimit> {
    match path.query(document) {
        Err(JsonPathError::Limit(exceeded)) => Ok(exceeded.limit),
        other => Err(NoLimit(format!("{other:?}"))),
    }
}

/// A query that stopped at no limit: what it gave instead.
#[derive(Debug)]
struct NoLimit(String);

impl std::fmt::Display for NoLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no limit was reached: {}", self.0)
    }
}

impl std::error::Error for NoLimit {}

#[test]
fn exponential_index_unions_stop_at_the_work_budget() -> TestResult {
    // 8^k nodes from a 10 + 18k byte path: k = 6 took 0.3 s in jsonpath-rust; k = 10 is 10^9.
    let path = format!("${}", "[0,0,0,0,0,0,0,0]".repeat(10));
    let document = nested_arrays(10);
    for parsed in [JsonPath::parse(&path)?, JsonPath::parse_rfc9535(&path)?] {
        let stopped = within(Duration::from_secs(30), || query_limit(&parsed, &document))?;
        assert_eq!(stopped, Limit::JsonPathWork);
    }
    let error = JsonPath::parse(&path)?
        .query(&document)
        .err()
        .ok_or("refused")?;
    assert_eq!(
        error.to_string(),
        format!(
            "JSONPath evaluation work exceeds the limit of {} steps (nodes visited, selected and compared) (sdt_core::jsonpath::MAX_WORK)",
            jsonpath::MAX_WORK
        )
    );
    // Below the budget the duplicates are all there, as RFC 9535 keeps them.
    let small = JsonPath::parse(&format!("${}", "[0,0,0,0,0,0,0,0]".repeat(4)))?;
    assert_eq!(small.query(&nested_arrays(4))?, vec![json!(0); 4096]);
    Ok(())
}

#[test]
fn stacked_descendant_wildcards_stop_at_the_work_budget() -> TestResult {
    // Each `..*` multiplied the nodes by about the depth: 34,220 nodes at three, 60x per more.
    let document = nested_arrays(60);
    let path = JsonPath::parse(&format!("${}", "..*".repeat(8)))?;
    let stopped = within(Duration::from_secs(30), || query_limit(&path, &document))?;
    assert_eq!(stopped, Limit::JsonPathWork);
    let three = JsonPath::parse("$..*..*..*")?;
    assert_eq!(three.query(&json!([[[[0]]]]))?.len(), 4);
    Ok(())
}

#[test]
fn descendant_walks_hidden_in_filters_count_against_the_budget() -> TestResult {
    let document = json!([nested_arrays(60)]);
    let walks = "..*".repeat(8);
    for path in [
        format!("$[?@{walks}]"),
        format!("$[?count(@{walks}) == 1]"),
        format!("$[?!@{walks}]"),
        format!("$[?length(@[0]) == 1 && @{walks}]"),
        format!("$[?value(${walks}) == 1]"),
    ] {
        let path = JsonPath::parse_rfc9535(&path)?;
        let stopped = within(Duration::from_secs(30), || query_limit(&path, &document))?;
        assert_eq!(stopped, Limit::JsonPathWork, "{}", path.as_str());
    }
    // A non-singular query cannot be compared (RFC 9535): refused when parsed.
    assert!(matches!(
        JsonPath::parse_rfc9535(&format!("$[?@{} == 1]", "..*".repeat(4))),
        Err(JsonPathError::Invalid { .. })
    ));
    Ok(())
}

/// About 1 MB of submodel elements, as a platform or the playground might send.
fn megabyte_document() -> Result<Value, serde_json::Error> {
    let elements: Vec<Value> = (0..4_000)
        .map(|i| {
            json!({"idShort": format!("Property{i}"), "modelType": "Property", "valueType": "xs:int",
                   "value": i.to_string(),
                   "semanticId": {"type": "ExternalReference",
                                  "keys": [{"type": "GlobalReference", "value": format!("urn:example:{i}")}]},
                   "description": [{"language": "en", "text": "a property"},
                                   {"language": "de", "text": "eine Eigenschaft"}]})
        })
        .collect();
    let document = json!({"submodels": [{"id": "urn:example:sm", "submodelElements": elements}]});
    assert!(serde_json::to_vec(&document)?.len() > 1_000_000);
    Ok(document)
}

/// How many JSON values `value` holds, itself included.
fn values_in(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(values_in).sum(),
        Value::Object(map) => map.values().map(values_in).sum(),
        _ => 0,
    }
}

#[test]
fn descendant_queries_on_a_megabyte_document_succeed() -> TestResult {
    let document = megabyte_document()?;
    let all = within(Duration::from_secs(30), || {
        JsonPath::parse("$..*").map(|p| p.query(&document))
    })??;
    assert_eq!(all.len(), values_in(&document) - 1);
    let found = JsonPath::parse("$..[?@.idShort == 'Property2999'].value")?.query(&document)?;
    assert_eq!(found, vec![json!("2999")]);
    let found =
        JsonPath::parse_rfc9535("$..[?match(@.value, '29[0-9]9')].idShort")?.query(&document)?;
    assert_eq!(found.len(), 10);
    Ok(())
}

#[test]
fn results_over_the_cap_are_refused_before_they_are_copied() -> TestResult {
    // One string of 1 MiB selected 40 times: 40 MiB of copies from a 1 MiB document.
    let document = json!(["x".repeat(1 << 20)]);
    let many = JsonPath::parse(&format!("$[{}]", vec!["0"; 40].join(",")))?;
    let stopped = within(Duration::from_secs(30), || query_limit(&many, &document))?;
    assert_eq!(stopped, Limit::JsonPathResult);
    let error = many.query(&document).err().ok_or("refused")?;
    assert_eq!(
        error.to_string(),
        format!(
            "JSONPath results exceeds the limit of {} bytes (sdt_core::jsonpath::MAX_RESULT_BYTES)",
            jsonpath::MAX_RESULT_BYTES
        )
    );
    let fewer = JsonPath::parse(&format!("$[{}]", vec!["0"; 30].join(",")))?;
    assert_eq!(fewer.query(&document)?.len(), 30);

    // `$..*` on deeply nested arrays copies each level again: ~100x a 1 MB document.
    let document = Value::Array(vec![nested_arrays(100); 5_000]);
    let all = JsonPath::parse("$..*")?;
    let stopped = within(Duration::from_secs(30), || query_limit(&all, &document))?;
    assert_eq!(stopped, Limit::JsonPathResult);
    // The same nodes measured, not copied, are no problem.
    let lengths = JsonPath::parse("$..*.`len`")?.query(&document)?;
    assert_eq!(lengths.len(), 5_000 * 100);
    Ok(())
}

#[test]
fn strings_scanned_by_regular_expressions_count_against_the_budget() -> TestResult {
    // One long string searched once per element: the element count alone would be cheap.
    let document = json!({"s": "x".repeat(1 << 20), "a": vec![0; 100]});
    let search = JsonPath::parse_rfc9535("$.a[?search($.s, 'y')]")?;
    let stopped = within(Duration::from_secs(30), || query_limit(&search, &document))?;
    assert_eq!(stopped, Limit::JsonPathWork);
    let once = JsonPath::parse_rfc9535("$[?search(@, 'y')]")?;
    assert_eq!(once.query(&document)?, Vec::<Value>::new());
    Ok(())
}

#[test]
fn regular_expressions_over_the_size_limit_match_nothing() -> TestResult {
    let document = json!(["ABCDEFGHIJKLMNOPQRSTUVWXYZABCD"]);
    let matching = |pattern: &str| {
        JsonPath::parse_rfc9535(&format!("$[?match(@, '{pattern}')]"))
            .and_then(|p| p.query(&document))
            .map(|found| found.len())
    };
    // `\\p{L}` in a JSONPath string is the I-Regexp `\p{L}` (all Unicode letters).
    assert_eq!(matching(r"\\p{L}{10}.*")?, 1);
    assert_eq!(matching(r"\\p{L}{30}")?, 0);
    assert_eq!(matching("[A-Z]{30}")?, 1);
    Ok(())
}

/// `{{#a}}` × depth + `x` + `{{/a}}` × depth.
fn nested_sections(depth: usize) -> String {
    format!("{}x{}", "{{#a}}".repeat(depth), "{{/a}}".repeat(depth))
}

fn mustache_limit(result: Result<impl std::fmt::Debug, MustacheError>) -> Option<LimitExceeded> {
    match result {
        Err(MustacheError::Limit(exceeded)) => Some(exceeded),
        other => panic!("not a limit: {other:?}"),
    }
}

#[test]
fn exponential_mustache_sections_stop_at_the_work_budget() -> TestResult {
    // The attack: 4^13 = 67 million passes, 67 MB of output, 10 s of CPU.
    let template = MustacheTemplate::parse(&nested_sections(13))?;
    let data = json!({"a": [1, 2, 3, 4]});
    let result = within(Duration::from_secs(30), || template.render(&data));
    assert_eq!(
        mustache_limit(result),
        Some(LimitExceeded {
            limit: Limit::MustacheWork,
            actual: None
        })
    );
    let error = template.render(&data).err().ok_or("refused")?;
    assert_eq!(
        error.to_string(),
        "mustache rendering work exceeds the limit of 1000000 steps (tags and section passes) (sdt_core::mustache::MAX_WORK)"
    );
    // 2^12 passes are fine.
    let template = MustacheTemplate::parse(&nested_sections(12))?;
    assert_eq!(template.render(&json!({"a": [1, 2]}))?, "x".repeat(4096));
    Ok(())
}

#[test]
fn mustache_work_up_to_the_budget_renders_and_one_step_more_is_refused() -> TestResult {
    // One step to look `a` up, one per item.
    let template = MustacheTemplate::parse("{{#a}}x{{/a}}")?;
    let items = |n: usize| json!({ "a": Value::Array(vec![Value::Null; n]) });
    let text = template.render(&items(mustache::MAX_WORK - 1))?;
    assert_eq!(text.len(), mustache::MAX_WORK - 1);
    assert_eq!(
        mustache_limit(template.render(&items(mustache::MAX_WORK))).map(|e| e.limit),
        Some(Limit::MustacheWork)
    );
    Ok(())
}

#[test]
fn mustache_output_stops_at_one_mib() -> TestResult {
    assert_eq!(mustache::MAX_OUTPUT, 1 << 20);
    let template = MustacheTemplate::parse("{{#a}}{{s}}{{/a}}")?;
    let data = |n: usize| json!({"a": Value::Array(vec![Value::Null; n]), "s": "<".repeat(256)});
    // Escaped, each `<` is 4 bytes: 1 KiB per pass.
    assert_eq!(template.render(&data(1024))?.len(), mustache::MAX_OUTPUT);
    let result = within(Duration::from_secs(30), || template.render(&data(100_000)));
    let exceeded = mustache_limit(result).ok_or("refused")?;
    assert_eq!(exceeded.limit, Limit::MustacheOutput);
    assert_eq!(
        exceeded.to_string(),
        "mustache output exceeds the limit of 1048576 bytes (sdt_core::mustache::MAX_OUTPUT)"
    );
    // Template text counts too: a section repeating plain text.
    let text = MustacheTemplate::parse(&format!("{{{{#a}}}}{}{{{{/a}}}}", "t".repeat(1024)))?;
    assert_eq!(
        mustache_limit(text.render(&data(1025))).map(|e| e.limit),
        Some(Limit::MustacheOutput)
    );
    Ok(())
}

#[test]
fn mustache_templates_over_the_length_or_section_depth_limit_are_refused_before_parsing()
-> TestResult {
    let at_limit = "x".repeat(mustache::MAX_TEMPLATE_LENGTH);
    assert_eq!(
        MustacheTemplate::parse(&at_limit)?.render(&json!({}))?,
        at_limit
    );
    let over = format!("{at_limit}x");
    let exceeded = mustache_limit(MustacheTemplate::parse(&over)).ok_or("refused")?;
    assert_eq!(
        (exceeded.limit, exceeded.actual),
        (Limit::MustacheLength, Some(16_385))
    );
    assert!(
        exceeded
            .to_string()
            .contains("sdt_core::mustache::MAX_TEMPLATE_LENGTH")
    );

    let deepest = MustacheTemplate::parse(&nested_sections(mustache::MAX_SECTION_DEPTH))?;
    assert_eq!(deepest.render(&json!({"a": true}))?, "x");
    let inverted = format!("{}x{}", "{{^a}}".repeat(16), "{{/a}}".repeat(16));
    assert_eq!(MustacheTemplate::parse(&inverted)?.render(&json!({}))?, "x");
    let exceeded =
        mustache_limit(MustacheTemplate::parse(&nested_sections(17))).ok_or("refused")?;
    assert_eq!(exceeded.limit, Limit::MustacheDepth);
    assert_eq!(
        exceeded.to_string(),
        "mustache section nesting depth exceeds the limit of 16 (sdt_core::mustache::MAX_SECTION_DEPTH)"
    );
    // Nested thousands deep (within the length limit): refused, no stack overflow.
    assert!(MustacheTemplate::parse(&nested_sections(1_300)).is_err());
    Ok(())
}

fn python_limit(result: Result<String, FormatError>) -> Option<LimitExceeded> {
    match result {
        Err(FormatError {
            kind: ErrorKind::LimitExceeded(exceeded),
            ..
        }) => Some(exceeded),
        other => panic!("not a limit: {other:?}"),
    }
}

#[test]
fn python_templates_over_the_length_limit_are_refused_before_parsing() -> TestResult {
    let variables = serde_json::Map::new();
    let at_limit = "x".repeat(python_format::MAX_TEMPLATE_LENGTH);
    assert_eq!(
        PythonTemplate::parse(&at_limit)?.render(&variables)?,
        at_limit
    );
    let over = format!("{at_limit}x");
    let exceeded =
        python_limit(PythonTemplate::parse(&over).map(|_| String::new())).ok_or("refused")?;
    assert_eq!(
        (exceeded.limit, exceeded.actual),
        (Limit::PythonLength, Some(16_385))
    );
    assert!(
        exceeded
            .to_string()
            .contains("sdt_core::python_format::MAX_TEMPLATE_LENGTH")
    );
    Ok(())
}

#[test]
fn python_output_stops_at_one_mib() -> TestResult {
    assert_eq!(python_format::MAX_OUTPUT, 1 << 20);
    let variables = json!({"s": "s".repeat(1024), "n": 1});
    let variables = variables.as_object().ok_or("object")?;
    let fields = |n: usize| PythonTemplate::parse(&"{s}".repeat(n));
    assert_eq!(
        fields(1024)?.render(variables)?.len(),
        python_format::MAX_OUTPUT
    );
    let exceeded = python_limit(fields(1025)?.render(variables)).ok_or("refused")?;
    assert_eq!(exceeded.limit, Limit::PythonOutput);
    assert_eq!(
        exceeded.to_string(),
        "Python template output exceeds the limit of 1048576 bytes (sdt_core::python_format::MAX_OUTPUT)"
    );
    // Widths up to MAX_DIGITS_VALUE: 200 fields of 10,000 bytes pass the limit too.
    let wide = PythonTemplate::parse(&"{n:>10000}".repeat(200))?;
    assert_eq!(
        python_limit(within(Duration::from_secs(30), || wide.render(variables))).map(|e| e.limit),
        Some(Limit::PythonOutput)
    );
    Ok(())
}

#[test]
fn nested_python_format_specs_recurse_once_as_in_cpython() -> TestResult {
    let variables = json!({"x": 1.23456, "p": ".2f", "w": 8});
    let variables = variables.as_object().ok_or("object")?;
    assert_eq!(PythonTemplate::parse("{x:{p}}")?.render(variables)?, "1.23");
    assert_eq!(
        PythonTemplate::parse("{x:>{w}.{p}}").map(|t| t.variables().len())?,
        3
    );
    let twice = PythonTemplate::parse("{x:{p:{w}}}")
        .err()
        .ok_or("refused")?;
    assert_eq!(
        twice.to_string(),
        "ValueError: Max string recursion exceeded"
    );
    // Nested as deep as the length limit allows: an error, no stack overflow.
    let deep = format!("{}{}", "{x:".repeat(4_000), "}".repeat(4_000));
    assert!(deep.len() < python_format::MAX_TEMPLATE_LENGTH);
    assert!(PythonTemplate::parse(&deep).is_err());
    Ok(())
}

#[test]
fn values_as_deep_as_serde_json_parses_render() -> TestResult {
    // serde_json refuses JSON nested deeper than 128; 127 arrays around a number parse.
    let text = format!("{}1{}", "[".repeat(127), "]".repeat(127));
    let value: Value = serde_json::from_str(&text)?;
    assert!(serde_json::from_str::<Value>(&format!("[{text}]")).is_err());
    let variables = json!({ "v": value });
    let variables = variables.as_object().ok_or("object")?;
    let python = PythonTemplate::parse("{v}|{v!r}")?.render(variables)?;
    assert_eq!(python.len(), 2 * text.len() + 1);
    let mustache = MustacheTemplate::parse("{{{v}}}")?.render(&Value::Object(variables.clone()))?;
    assert_eq!(mustache, text);
    let found = JsonPath::parse("$..*.`str()`")?.query(&Value::Object(variables.clone()))?;
    assert_eq!(found.len(), 128);
    Ok(())
}

#[test]
fn descriptions_and_the_playground_report_the_limit() -> TestResult {
    let description: SyncDescription = serde_json::from_value(json!({
        "iot_attributes": [{"name": "x", "value": nested_filters(5_000)}],
        "thingin_attributes": [{"name": "p", "value": "{x}", "frequency_sec": 1}]
    }))?;
    let error = description.compile().err().ok_or("refused")?;
    assert_eq!(error.attribute, "iot_attributes[0] (x)");
    assert!(
        error
            .problem
            .to_string()
            .contains("sdt_core::jsonpath::MAX_DEPTH"),
        "{error}"
    );
    // The path's own error is the source of the problem.
    assert!(
        matches!(
            &error.problem,
            DescriptionProblem::Path(JsonPathError::Limit(exceeded))
                if exceeded.limit == Limit::JsonPathDepth
        ),
        "{error:?}"
    );

    let description: SyncDescription = serde_json::from_value(json!({
        "iot_attributes": [{"name": "a", "value": "$.a"}],
        "thingin_attributes": [{"name": "p", "value": nested_sections(13),
                                "value_template": "mustache", "frequency_sec": 1,
                                "command_value": {"req": nested_sections(13)}}]
    }))?;
    let compiled = description.compile()?;
    let variables = json!({"a": [1, 2, 3, 4]});
    let variables = variables.as_object().ok_or("object")?;
    let run = within(Duration::from_secs(20), || {
        compiled.dry_run(&json!({"a": [1, 2, 3, 4]}))
    });
    assert!(
        run.skipped["p"].to_string().contains("MAX_WORK"),
        "{:?}",
        run.skipped
    );
    let command = compiled.render_command("p", variables).ok_or("a command")?;
    assert!(
        command
            .is_err_and(|e| e.to_string().contains("/req: ") && e.to_string().contains("MAX_WORK"))
    );

    // A path over the work budget: the variable fails, the properties using it are skipped
    // saying why, the others render.
    let description: SyncDescription = serde_json::from_value(json!({
        "iot_attributes": [{"name": "deep", "value": format!("${}", "..*".repeat(8))},
                           {"name": "ok", "value": "$.ok"}],
        "thingin_attributes": [{"name": "p", "value": "{deep}", "frequency_sec": 1},
                               {"name": "q", "value": "{ok}", "frequency_sec": 1}]
    }))?;
    let compiled = description.compile()?;
    let sample = json!({"ok": 1, "deep": nested_arrays(60)});
    let run = within(Duration::from_secs(20), || compiled.dry_run(&sample));
    assert!(
        matches!(&run.skipped["p"], RenderError::PathFailed { variable, .. } if variable == "deep"),
        "{:?}",
        run.skipped
    );
    assert!(
        run.skipped["p"]
            .to_string()
            .contains("sdt_core::jsonpath::MAX_WORK")
    );
    assert_eq!(run.values["q"], json!("1"));
    assert_eq!(
        run.failed.get("deep").and_then(limit_of).map(|e| e.limit),
        Some(Limit::JsonPathWork)
    );
    assert!(!run.variables.contains_key("deep"));

    for request in [
        json!({"kind": "jsonpath", "doc": {}, "path": nested_filters(5_000)}),
        json!({"kind": "jsonpath", "doc": nested_arrays(60), "path": format!("${}", "..*".repeat(8))}),
        json!({"kind": "mustache", "template": nested_sections(13), "vars": {"a": [1, 2, 3, 4]}}),
        json!({"kind": "json_mustache", "template": nested_sections(13), "vars": {"a": [1, 2, 3, 4]}}),
        json!({"kind": "format", "template": "{s}".repeat(2_000), "vars": {"s": "s".repeat(1024)}}),
    ] {
        let evaluation: Evaluation = serde_json::from_value(request)?;
        let error = evaluation.run().err().ok_or("refused")?.to_string();
        assert!(error.contains("exceeds the limit of"), "{error}");
    }
    Ok(())
}

/// The table in the crate documentation shows each limit with its value.
#[test]
fn the_documented_limits_are_the_constants() {
    let docs = include_str!("../README.md");
    for limit in [
        Limit::JsonPathLength,
        Limit::JsonPathDepth,
        Limit::JsonPathSteps,
        Limit::JsonPathWork,
        Limit::JsonPathResult,
        Limit::MustacheLength,
        Limit::MustacheDepth,
        Limit::MustacheWork,
        Limit::MustacheOutput,
        Limit::PythonLength,
        Limit::PythonOutput,
        Limit::PythonDigits,
    ] {
        let path = limit.name().trim_start_matches("sdt_core::");
        let row = format!("| [`{path}`] | {} ", limit.value());
        assert!(docs.contains(&row), "{row:?} is not in the Limits table");
    }
    let digits = format!(
        "| [`python_format::MAX_DIGITS_VALUE`] | {} |",
        python_format::MAX_DIGITS_VALUE
    );
    assert!(docs.contains(&digits), "{digits:?}");
    let regex = format!(
        "| [`jsonpath::MAX_REGEX_SIZE`] | {} bytes |",
        jsonpath::MAX_REGEX_SIZE
    );
    assert!(docs.contains(&regex), "{regex:?}");
}

#[test]
fn a_jsonpath_ng_path_nested_as_deep_as_the_step_limit_runs_and_a_deeper_one_is_refused()
-> TestResult {
    // jsonpath-ng reads `$.a + 1 + 1` as `$.a + (1 + 1)`: one level per operator.
    let document = json!({"a": 1, "b": {"b": 2}});
    let at_limit = format!("$.a{}", " + 1".repeat(jsonpath::MAX_STEPS));
    assert_eq!(
        JsonPath::parse(&at_limit)?.query(&document)?,
        vec![json!(jsonpath::MAX_STEPS + 1)]
    );
    let over = format!("$.a{}", " + 1".repeat(jsonpath::MAX_STEPS + 1));
    let error = JsonPath::parse(&over).err().ok_or("refused")?;
    assert_eq!(
        limit_of(&error).map(|e| e.limit),
        Some(Limit::JsonPathSteps),
        "{error}"
    );
    Ok(())
}

#[test]
fn paths_of_thousands_of_steps_run_on_a_small_stack() -> TestResult {
    // Python raises RecursionError on these; we evaluate them (a documented difference).
    let document = json!({"b": {"b": 2}});
    assert!(
        JsonPath::parse(&format!("$.b{}", ".b".repeat(1000)))?
            .query(&document)?
            .is_empty()
    );
    assert_eq!(
        JsonPath::parse(&format!("${}", "..b".repeat(1000)))?.query(&document)?,
        Vec::<Value>::new()
    );
    assert_eq!(
        JsonPath::parse(&format!("$.b{}", " where b".repeat(400)))?.query(&document)?,
        vec![json!({"b": 2})]
    );
    Ok(())
}

#[test]
fn a_regex_match_that_backtracks_without_end_stops_at_max_regex_backtrack() -> TestResult {
    // Python's `re` takes exponential time here; the look-ahead puts the pattern in the
    // backtracking engine.
    let path = JsonPath::parse("$.objects[?name=~'(?:a|(?=a)a)+c'].name")?;
    let document = json!({"objects": [{"name": format!("{}b", "a".repeat(64))}]});
    let error = within(Duration::from_secs(20), || path.query(&document))
        .err()
        .ok_or("the match did not stop")?;
    assert_eq!(
        limit_of(&error).map(|e| e.limit),
        Some(Limit::JsonPathRegexBacktrack),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("sdt_core::jsonpath::MAX_REGEX_BACKTRACK")
    );
    Ok(())
}

#[test]
fn regex_groups_nested_past_max_regex_nesting_are_refused() -> TestResult {
    let deep = |n: usize| {
        format!(
            "$.objects[?name=~'{}a{}'].name",
            "(".repeat(n),
            ")".repeat(n)
        )
    };
    let document = json!({"objects": [{"name": "a"}]});
    let at_limit = JsonPath::parse(&deep(jsonpath::MAX_REGEX_NESTING - 1))?;
    assert_eq!(at_limit.query(&document)?, vec![json!("a")]);
    let error = JsonPath::parse(&deep(jsonpath::MAX_REGEX_NESTING + 1))?
        .query(&document)
        .err()
        .ok_or("a pattern nested too deeply was compiled")?;
    assert_eq!(
        limit_of(&error).map(|e| e.limit),
        Some(Limit::JsonPathRegexNesting),
        "{error}"
    );
    Ok(())
}

#[test]
fn a_regex_pattern_over_max_regex_size_is_an_error_naming_it() -> TestResult {
    // 3,000 Unicode `\w` classes compile to far more than a megabyte.
    let path = JsonPath::parse(r"$.objects[?name=~'\\w{3000}'].name")?;
    let error = path
        .query(&json!({"objects": [{"name": "a"}]}))
        .err()
        .ok_or("the pattern compiled")?;
    assert_eq!(
        limit_of(&error).map(|e| e.limit),
        Some(Limit::JsonPathRegexSize),
        "{error}"
    );
    Ok(())
}
