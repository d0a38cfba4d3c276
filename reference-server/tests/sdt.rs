//! The synchronized-twin API: the playground, dry runs of the two descriptions of the
//! contract (verbatim), the access-control statements, platforms; requests over sdt-core's
//! limits are refused and the process keeps serving.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

mod support;

use support::{DataDir, Failure, Server, TestResult, call};

fn position_description() -> Value {
    json!({"iot_attributes": [
       {"name": "x", "value": "$[?value.addr='3ef8'].value.position[0]"},
       {"name": "y", "value": "$[?value.addr='3ef8'].value.position[1]"},
       {"name": "z", "value": "$[?value.addr='3ef8'].value.position[2]"}],
     "thingin_attributes": [
       {"name": "DT:data", "value": "{{\"coordX\":{x},\"coordY\":{y},\"coordZ\":{z}}}",
        "value_template": "python", "frequency_sec": 30}]})
}

fn bulb_description() -> Value {
    let command = |name: &str| {
        json!({"request": {"connector": "mqtt",
        "value": {"req": format!("{{\"{name}\":{{{{{name}}}}}}}"), "arg": {"type": "light", "id": "00:17:88:01:03:20:6d:49-0b"}}}})
    };
    json!({"iot_attributes": [
       {"name": "on",  "value": "$[0].value.state.on"},
       {"name": "bri", "value": "$[0].value.state.bri"},
       {"name": "sat", "value": "$[0].value.state.sat"}],
     "thingin_attributes": [
       {"name": "on", "value": "{on}", "frequency_sec": 60, "command_value": command("on")},
       {"name": "bri", "value": "{bri}", "frequency_sec": 60, "command_value": command("bri")},
       {"name": "sat", "value": "{sat}", "frequency_sec": 60, "command_value": command("sat")}]})
}

#[tokio::test]
async fn the_playground_evaluates_each_kind_and_says_what_is_wrong() -> TestResult {
    let data = DataDir::new("sdt-evaluate");
    let server = Server::start(&data)?;
    let doc = json!([{"value": {"addr": "3ef8", "position": [1.5, 2, 3]}}, {"value": {"addr": "aaaa", "position": [9, 9, 9]}}]);
    let cases = [
        (
            json!({"kind": "jsonpath", "doc": doc, "path": "$[*].value.addr"}),
            json!(["3ef8", "aaaa"]),
        ),
        (
            json!({"kind": "format", "template": "{on}", "vars": {"on": true}}),
            json!("True"),
        ),
        (
            json!({"kind": "mustache", "template": "{{x}} & {{{x}}}", "vars": {"x": "<a>"}}),
            json!("&lt;a&gt; & <a>"),
        ),
        (
            json!({"kind": "json_mustache", "template": "{\"bri\":{{bri}}}", "vars": {"bri": 254}}),
            json!({"bri": 254}),
        ),
    ];
    for (request, expected) in cases {
        let (status, answer) = call(
            &server,
            Method::POST,
            "/sdts/evaluate",
            Some(request.clone()),
        )
        .await?;
        assert_eq!((status, &answer["result"]), (200, &expected), "{request}");
    }
    for wrong in [
        json!({"kind": "format", "template": "{missing}", "vars": {}}),
        json!({"kind": "jsonpath", "doc": {}, "path": "$[?"}),
        json!({"kind": "json_mustache", "template": "{{x}}", "vars": {"x": "no json"}}),
        json!({"kind": "lua", "template": "x"}),
    ] {
        let (status, answer) =
            call(&server, Method::POST, "/sdts/evaluate", Some(wrong.clone())).await?;
        assert_eq!(status, 400, "{wrong}");
        assert!(
            answer["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{answer}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn dry_runs_of_both_contract_descriptions_give_their_variables_and_values() -> TestResult {
    let data = DataDir::new("sdt-dry-run");
    let server = Server::start(&data)?;
    let sample = json!([{"value": {"addr": "3ef8", "position": [1.5, 2, 3]}}, {"value": {"addr": "aaaa", "position": [9, 9, 9]}}]);
    let (status, run) = call(
        &server,
        Method::POST,
        "/sdts/dry-run",
        Some(json!({"description": position_description(), "sample": sample})),
    )
    .await?;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["variables"], json!({"x": 1.5, "y": 2, "z": 3}));
    assert_eq!(
        run["values"]["DT:data"],
        "{\"coordX\":1.5,\"coordY\":2,\"coordZ\":3}"
    );

    let sample = json!([{"value": {"state": {"on": true, "bri": 254, "sat": 144}}}]);
    let (status, run) = call(
        &server,
        Method::POST,
        "/sdts/dry-run",
        Some(json!({"description": bulb_description(), "payload": sample})),
    )
    .await?;
    assert_eq!(status, 200, "{run}");
    assert_eq!(
        run["values"],
        json!({"on": "True", "bri": "254", "sat": "144"})
    );

    let partial = json!([{"value": {"state": {"on": false}}}]);
    let (_, run) = call(
        &server,
        Method::POST,
        "/sdts/dry-run",
        Some(json!({"description": bulb_description(), "sample": partial})),
    )
    .await?;
    assert_eq!(run["values"], json!({"on": "False"}));
    assert!(
        run["skipped"]["bri"]
            .as_str()
            .is_some_and(|m| m.contains("bri")),
        "{run}"
    );

    let mut broken = position_description();
    broken["thingin_attributes"][0]["value"] = json!("{x");
    let (status, answer) = call(
        &server,
        Method::POST,
        "/sdts/dry-run",
        Some(json!({"description": broken, "sample": []})),
    )
    .await?;
    assert_eq!(status, 400);
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|e| e.contains("DT:data")),
        "{answer}"
    );
    Ok(())
}

#[tokio::test]
async fn acl_statements_and_platforms_answer_per_the_contract() -> TestResult {
    let data = DataDir::new("sdt-platforms");
    let server = Server::start(&data)?;
    let (status, acl) = call(&server, Method::GET, "/sdts/acl", None).await?;
    assert_eq!(status, 200);
    let statements = acl.as_array().cloned().unwrap_or_default();
    assert_eq!(statements.len(), 2);
    for statement in &statements {
        assert!(statement["condition"].is_object());
        for rule in statement["rules"].as_array().into_iter().flatten() {
            assert!(
                rule["effect"].is_string()
                    && rule["action"].is_array()
                    && rule["resources"].is_array(),
                "{rule}"
            );
        }
    }
    let actions = |n: usize| {
        statements[n]["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r["action"].as_array().cloned().unwrap_or_default())
            .collect::<Vec<_>>()
    };
    assert_eq!(actions(0), [json!("Update"), json!("Read")]);
    assert_eq!(
        actions(1),
        [json!("Read"), json!("Update"), json!("Delete")]
    );

    let platform = json!({"name": "live_objects", "description": "Live object platform",
        "base_url": "https://liveobjects.orange-business.com/",
        "data_get_prefix": "api/v0/data/streams/", "data_get_suffix": "",
        "command_prefix": "api/v1/deviceMgt/devices/", "command_suffix": "/commands/",
        "authentication": "api_key", "token_header": "X-API-KEY"});
    assert_eq!(
        call(
            &server,
            Method::POST,
            "/sdts/platforms",
            Some(platform.clone())
        )
        .await?
        .0,
        201
    );
    assert_eq!(
        call(
            &server,
            Method::POST,
            "/sdts/platforms",
            Some(platform.clone())
        )
        .await?
        .0,
        409
    );
    let (status, list) = call(&server, Method::GET, "/sdts/platforms", None).await?;
    assert_eq!(
        (status, list[0]["name"].as_str()),
        (200, Some("live_objects"))
    );
    assert_eq!(
        call(&server, Method::GET, "/sdts/platforms/live_objects", None)
            .await?
            .1["token_header"],
        "X-API-KEY"
    );
    assert_eq!(
        call(&server, Method::GET, "/sdts/platforms/none", None)
            .await?
            .0,
        404
    );
    let mut renamed = platform.clone();
    renamed["name"] = json!("other");
    assert_eq!(
        call(
            &server,
            Method::PUT,
            "/sdts/platforms/live_objects",
            Some(renamed)
        )
        .await?
        .0,
        400
    );
    let mut changed = platform.clone();
    changed["description"] = json!("changed");
    assert_eq!(
        call(
            &server,
            Method::PUT,
            "/sdts/platforms/live_objects",
            Some(changed.clone())
        )
        .await?
        .0,
        204
    );
    assert_eq!(
        call(&server, Method::GET, "/sdts/platforms/live_objects", None)
            .await?
            .1["description"],
        "changed"
    );
    if let Some(object) = changed.as_object_mut() {
        object.remove("name");
    }
    assert_eq!(
        call(&server, Method::PUT, "/sdts/platforms/none", Some(changed))
            .await?
            .0,
        404
    );
    let mut spaced = platform.clone();
    spaced["name"] = json!("live objects");
    let (status, answer) = call(&server, Method::POST, "/sdts/platforms", Some(spaced)).await?;
    assert_eq!(status, 400);
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|e| e.contains("spaces")),
        "{answer}"
    );
    let login = json!({"name": "needs_login", "base_url": "https://p/", "authentication": "login_password"});
    assert_eq!(
        call(&server, Method::POST, "/sdts/platforms", Some(login))
            .await?
            .0,
        400,
        "login_password needs auth_path etc."
    );
    assert_eq!(
        call(
            &server,
            Method::DELETE,
            "/sdts/platforms/live_objects",
            None
        )
        .await?
        .0,
        204
    );
    assert_eq!(
        call(
            &server,
            Method::DELETE,
            "/sdts/platforms/live_objects",
            None
        )
        .await?
        .0,
        404
    );
    Ok(())
}

/// A request that must be answered promptly: a stalled server fails the test instead of
/// hanging it.
async fn call_promptly(
    server: &Server,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Result<(u16, Value), Failure> {
    tokio::time::timeout(Duration::from_secs(60), call(server, method, path, body))
        .await
        .map_err(|_| format!("{path}: no answer within 60 s"))?
}

/// The same process still answers.
async fn still_serving(server: &mut Server, after: &str) -> TestResult {
    let (status, health) = call_promptly(server, Method::GET, "/health", None).await?;
    assert_eq!(
        (status, &health["status"]),
        (200, &json!("UP")),
        "after {after}"
    );
    assert!(
        server.is_running(),
        "the server exited after {after}: {}",
        server.log_text()
    );
    Ok(())
}

fn error_of(answer: &Value) -> &str {
    answer["error"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn nested_paths_and_template_bombs_are_refused_and_the_server_keeps_serving() -> TestResult {
    let data = DataDir::new("sdt-limits");
    let mut server = Server::start(&data)?;
    // Issue 18: 30 KB, filters nested 5,000 deep; this aborted the process (stack overflow).
    let path = format!("${}.a{}", "[?(@".repeat(5_000), ")]".repeat(5_000));
    assert!(path.len() > 30_000);
    let description = json!({
        "iot_attributes": [{"name": "x", "value": path}],
        "thingin_attributes": [{"name": "p", "value": "{x}", "frequency_sec": 30}]});
    for (route, request) in [
        (
            "/sdts/evaluate",
            json!({"kind": "jsonpath", "doc": {"a": 1}, "path": path}),
        ),
        (
            "/sdts/dry-run",
            json!({"description": description, "sample": {"a": 1}}),
        ),
    ] {
        let (status, answer) = call_promptly(&server, Method::POST, route, Some(request)).await?;
        assert_eq!(status, 400, "{route}: {answer}");
        assert!(
            error_of(&answer).contains(
                "JSONPath nesting depth 10000 exceeds the limit of 64 (sdt_core::jsonpath::MAX_DEPTH)"
            ),
            "{route}: {answer}"
        );
        still_serving(&mut server, route).await?;
    }

    // 13 nested sections over 4 items: 67 million passes, 67 MB, 10 s of CPU before.
    let bomb = format!("{}x{}", "{{#a}}".repeat(13), "{{/a}}".repeat(13));
    for kind in ["mustache", "json_mustache"] {
        let request = json!({"kind": kind, "template": bomb, "vars": {"a": [1, 2, 3, 4]}});
        let (status, answer) =
            call_promptly(&server, Method::POST, "/sdts/evaluate", Some(request)).await?;
        assert_eq!(status, 400, "{kind}: {answer}");
        assert!(
            error_of(&answer).contains("sdt_core::mustache::MAX_WORK"),
            "{kind}: {answer}"
        );
        still_serving(&mut server, kind).await?;
    }
    // In a description, the property is skipped with the reason.
    let description = json!({
        "iot_attributes": [{"name": "a", "value": "$.a"}],
        "thingin_attributes": [{"name": "p", "value": bomb, "value_template": "mustache",
                                "frequency_sec": 30}]});
    let (status, run) = call_promptly(
        &server,
        Method::POST,
        "/sdts/dry-run",
        Some(json!({"description": description, "sample": {"a": [1, 2, 3, 4]}})),
    )
    .await?;
    assert_eq!(status, 200, "{run}");
    assert!(
        run["skipped"]["p"]
            .as_str()
            .is_some_and(|why| why.contains("sdt_core::mustache::MAX_WORK")),
        "{run}"
    );
    // A Python template whose output passes 1 MiB.
    let request =
        json!({"kind": "format", "template": "{s}".repeat(2_000), "vars": {"s": "s".repeat(1024)}});
    let (status, answer) =
        call_promptly(&server, Method::POST, "/sdts/evaluate", Some(request)).await?;
    assert_eq!(status, 400, "{answer}");
    assert!(
        error_of(&answer).contains("sdt_core::python_format::MAX_OUTPUT"),
        "{answer}"
    );
    still_serving(&mut server, "the Python output bomb").await?;
    Ok(())
}
