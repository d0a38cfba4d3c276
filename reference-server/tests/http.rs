//! The repository API over HTTP: `reference-server serve` started on a free 127.0.0.1 port with
//! its own data directory, killed by PID at the end.

use serde_json::{Value, json};

mod support;

use support::{DataDir, InProcess, Server, TestResult, b64, call};

fn shell(id: &str) -> Value {
    json!({"id": id, "modelType": "AssetAdministrationShell",
           "assetInformation": {"assetKind": "Instance", "globalAssetId": format!("{id}/asset")}})
}

async fn status_and_json(
    response: reqwest::Response,
) -> Result<(u16, Value), Box<dyn std::error::Error>> {
    let status = response.status().as_u16();
    let text = response.text().await?;
    Ok((
        status,
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        },
    ))
}

#[tokio::test]
async fn shells_are_created_read_replaced_and_deleted_with_part2_status_codes() -> TestResult {
    let data = DataDir::new("shells");
    let server = Server::start(&data)?;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.base);
    let created = http
        .post(url("/shells"))
        .header("content-type", "application/json")
        .body(shell("urn:aas:1").to_string())
        .send()
        .await?;
    assert_eq!(created.status().as_u16(), 201);
    let location = created
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(location, format!("/shells/{}", b64("urn:aas:1")));
    let (status, body) = status_and_json(http.get(url(&location)).send().await?).await?;
    assert_eq!((status, body["id"].as_str()), (200, Some("urn:aas:1")));

    let (status, body) = status_and_json(
        http.post(url("/shells"))
            .body(shell("urn:aas:1").to_string())
            .send()
            .await?,
    )
    .await?;
    assert_eq!(status, 409);
    assert_eq!(body["messages"][0]["messageType"], "Error");

    let mismatch = http
        .put(url(&location))
        .body(shell("urn:aas:other").to_string())
        .send()
        .await?;
    assert_eq!(mismatch.status().as_u16(), 400);
    let mut renamed = shell("urn:aas:1");
    renamed["idShort"] = json!("Renamed");
    assert_eq!(
        http.put(url(&location))
            .body(renamed.to_string())
            .send()
            .await?
            .status()
            .as_u16(),
        204
    );
    let (_, body) = status_and_json(http.get(url(&location)).send().await?).await?;
    assert_eq!(body["idShort"], "Renamed");
    assert_eq!(
        http.delete(url(&location)).send().await?.status().as_u16(),
        204
    );
    let (status, body) = status_and_json(http.get(url(&location)).send().await?).await?;
    assert_eq!(status, 404);
    assert!(
        body["messages"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("urn:aas:1")
    );
    assert_eq!(
        http.delete(url(&location)).send().await?.status().as_u16(),
        404
    );
    assert_eq!(
        http.get(url("/shells/%%%")).send().await?.status().as_u16(),
        400
    );
    Ok(())
}

#[tokio::test]
async fn bad_bodies_are_refused_with_the_reason() -> TestResult {
    let data = DataDir::new("bad");
    let server = Server::start(&data)?;
    let http = reqwest::Client::new();
    let url = format!("{}/submodels", server.base);
    let (status, body) = status_and_json(
        http.post(&url)
            .body(r#"{"id": "urn:sm:1", "modelType": "Submodel", "nope": 1}"#)
            .send()
            .await?,
    )
    .await?;
    assert_eq!(status, 400);
    assert!(
        body["messages"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("nope"),
        "{body}"
    );
    let wrong_type = http
        .post(&url)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await?;
    assert_eq!(wrong_type.status().as_u16(), 415);
    // A model that reads but breaks a constraint: idShort must start with a letter (AASd-002).
    let invalid = json!({"id": "urn:sm:1", "modelType": "Submodel", "idShort": "1abc"});
    let (status, body) =
        status_and_json(http.post(&url).body(invalid.to_string()).send().await?).await?;
    assert_eq!(status, 400);
    assert!(body["messages"].to_string().contains("AASd-002"), "{body}");
    Ok(())
}

#[tokio::test]
async fn listings_page_with_cursors_and_changes_queue_their_events() -> TestResult {
    let data = DataDir::new("paging");
    let server = Server::start(&data)?;
    let http = reqwest::Client::new();
    for n in 0..5 {
        let submodel = json!({"id": format!("urn:sm:{n}"), "modelType": "Submodel"});
        assert_eq!(
            http.post(format!("{}/submodels", server.base))
                .body(submodel.to_string())
                .send()
                .await?
                .status()
                .as_u16(),
            201
        );
    }
    let mut ids = Vec::new();
    let mut next = format!("{}/submodels?limit=2", server.base);
    loop {
        let (status, body) = status_and_json(http.get(&next).send().await?).await?;
        assert_eq!(status, 200);
        ids.extend(
            body["result"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["id"].as_str().map(str::to_owned)),
        );
        match body["paging_metadata"]["cursor"].as_str() {
            Some(cursor) => next = format!("{}/submodels?limit=2&cursor={cursor}", server.base),
            None => break,
        }
    }
    assert_eq!(
        ids,
        (0..5).map(|n| format!("urn:sm:{n}")).collect::<Vec<_>>()
    );
    assert_eq!(
        http.get(format!("{}/submodels?limit=0", server.base))
            .send()
            .await?
            .status()
            .as_u16(),
        400
    );
    assert_eq!(
        http.get(format!("{}/submodels?cursor=", server.base))
            .send()
            .await?
            .status()
            .as_u16(),
        400
    );

    let path = format!("{}/submodels/{}", server.base, b64("urn:sm:0"));
    let replaced = json!({"id": "urn:sm:0", "modelType": "Submodel", "idShort": "Renamed"});
    assert_eq!(
        http.put(&path)
            .body(replaced.to_string())
            .send()
            .await?
            .status()
            .as_u16(),
        204
    );
    assert_eq!(http.delete(&path).send().await?.status().as_u16(), 204);
    let topics = server.outbox_topics()?;
    let of_0: Vec<&str> = topics
        .iter()
        .filter(|t| t.contains(&b64("urn:sm:0")))
        .map(String::as_str)
        .collect();
    let prefix = format!("twinsphere/submodels/{}", b64("urn:sm:0"));
    assert_eq!(
        of_0,
        [
            format!("{prefix}/created"),
            format!("{prefix}/updated"),
            format!("{prefix}/deleted")
        ]
    );
    assert_eq!(topics.len(), 7, "5 created, 1 updated, 1 deleted");
    Ok(())
}

#[test]
fn without_a_subcommand_the_binary_serves_and_stops_cleanly_on_sigterm() -> TestResult {
    let data = DataDir::new("default");
    let port = support::free_port();
    let mqtt = support::free_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_reference-server"))
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .args(["--mqtt-listen", &format!("127.0.0.1:{mqtt}"), "--data"])
        .arg(&data.0)
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let mut listening = false;
    for _ in 0..400 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            && std::net::TcpStream::connect(("127.0.0.1", mqtt)).is_ok()
        {
            listening = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    assert!(status.success());
    let mut exit = None;
    for _ in 0..200 {
        if let Some(status) = child.try_wait()? {
            exit = Some(status);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    if exit.is_none() {
        let _ = child.kill();
    }
    assert!(listening, "HTTP and MQTT did not listen within 10 s");
    assert_eq!(
        exit.and_then(|s| s.code()),
        Some(0),
        "SIGTERM: a clean exit"
    );
    assert!(data.0.join("repository.sqlite").exists());
    Ok(())
}

fn sha256_hex(text: &str) -> Result<String, Box<dyn std::error::Error>> {
    let output = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            if let Some(stdin) = child.stdin.as_mut() {
                stdin.write_all(text.as_bytes())?;
            }
            child.wait_with_output()
        })?;
    Ok(String::from_utf8(output.stdout)?
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned())
}

#[tokio::test]
async fn api_keys_gate_reads_and_writes_by_role() -> TestResult {
    let new_key = std::process::Command::new(env!("CARGO_BIN_EXE_reference-server"))
        .args(["new-api-key", "--role", "write"])
        .output()?;
    let printed = String::from_utf8(new_key.stdout)?;
    let field = |name: &str| {
        printed
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    let writer = field("key:");
    let flag = field("flag:");
    let writer_hash = sha256_hex(&writer)?;
    assert_eq!(flag, format!("--api-key write:{writer_hash}"), "{printed}");
    let reader = "reader-secret";
    let data = DataDir::new("keys");
    let launch = support::Launch::hold_events()
        .arg("--api-key")
        .arg(format!("read:{}", sha256_hex(reader)?))
        .arg("--api-key")
        .arg(format!("write:{writer_hash}"));
    let server = Server::launch(&data, &launch)?;
    let http = reqwest::Client::new();
    let url = server.url("/shells");

    let anonymous = http.get(&url).send().await?;
    assert_eq!(anonymous.status().as_u16(), 401);
    assert_eq!(
        anonymous
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    assert_eq!(
        http.get(&url)
            .bearer_auth("wrong")
            .send()
            .await?
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        http.get(&url)
            .bearer_auth(reader)
            .send()
            .await?
            .status()
            .as_u16(),
        200
    );
    // The scheme is case-insensitive (RFC 9110).
    assert_eq!(
        http.get(&url)
            .header("authorization", format!("bearer {reader}"))
            .send()
            .await?
            .status()
            .as_u16(),
        200
    );
    let body = shell("urn:aas:keys").to_string();
    let (status, error) = status_and_json(
        http.post(&url)
            .bearer_auth(reader)
            .body(body.clone())
            .send()
            .await?,
    )
    .await?;
    assert_eq!(status, 403);
    assert!(
        error["messages"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("Write"))
    );
    assert_eq!(
        http.post(&url)
            .bearer_auth(&writer)
            .body(body)
            .send()
            .await?
            .status()
            .as_u16(),
        201
    );
    assert_eq!(
        http.get(server.url("/sphere/push/targets"))
            .bearer_auth(&writer)
            .send()
            .await?
            .status()
            .as_u16(),
        403,
        "administration needs the admin role"
    );
    assert_eq!(
        http.get(server.url("/health"))
            .send()
            .await?
            .status()
            .as_u16(),
        200
    );
    let log = server.log_text();
    assert!(
        !log.contains(&writer) && !log.contains(reader),
        "keys never reach the log"
    );
    Ok(())
}

#[test]
fn without_api_keys_the_server_refuses_to_listen_beyond_loopback() -> TestResult {
    let data = DataDir::new("unprotected");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_reference-server"))
        .args(["serve", "--bind", "0.0.0.0:1", "--data"])
        .arg(&data.0)
        .output()?;
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("loopback") && stderr.contains("0.0.0.0:1"),
        "{stderr}"
    );
    assert!(!data.0.exists(), "nothing started");
    Ok(())
}

#[tokio::test]
async fn openapi_lists_every_route_the_router_serves_and_swagger_ui_is_served() -> TestResult {
    let data = DataDir::new("openapi");
    let server = Server::start(&data)?;
    let http = reqwest::Client::new();
    let (status, document) =
        status_and_json(http.get(server.url("/openapi.json")).send().await?).await?;
    assert_eq!(status, 200);
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().cloned().unwrap_or_default();
    assert!(paths.len() >= 50, "{} paths", paths.len());
    let mut unrouted = Vec::new();
    for (path, item) in &paths {
        let concrete = path
            .replace("{aas}", &b64("urn:aas:none"))
            .replace("{sm}", &b64("urn:sm:none"))
            .replace("{cd}", &b64("urn:cd:none"))
            .replace("{path}", "Some.Path");
        for method in item
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let operation = &item[&method];
            assert!(
                operation["summary"].is_string() && operation["responses"].is_object(),
                "{method} {path}"
            );
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())?;
            let response = http
                .request(method.clone(), server.url(&concrete))
                .send()
                .await?;
            let status = response.status().as_u16();
            let text = response.text().await?;
            if status == 405 || text.contains("no such endpoint") {
                unrouted.push(format!("{method} {path}: {status}"));
            }
        }
    }
    assert!(
        unrouted.is_empty(),
        "documented but not served:\n{}",
        unrouted.join("\n")
    );
    let ui = http.get(server.url("/swagger/index.html")).send().await?;
    assert_eq!(ui.status().as_u16(), 200);
    assert!(ui.text().await?.contains("swagger"));
    let initializer = http
        .get(server.url("/swagger/swagger-initializer.js"))
        .send()
        .await?;
    assert!(initializer.text().await?.contains("/openapi.json"));
    Ok(())
}

/// The schema a content entry points to, resolved in the document's components; `None`
/// when there is none or it allows anything.
fn resolved_schema<'a>(document: &'a Value, content: &Value) -> Option<&'a Value> {
    let entry = content.as_object()?.values().next()?;
    let reference = entry["schema"]["$ref"].as_str()?;
    let name = reference.strip_prefix("#/components/schemas/")?;
    // `{}` (any value) does not count as a schema.
    document["components"]["schemas"]
        .get(name)
        .filter(|schema| schema.as_object().is_some_and(|o| !o.is_empty()))
}

#[tokio::test]
async fn openapi_gives_every_push_and_sdt_operation_its_request_and_response_schemas() -> TestResult
{
    let data = DataDir::new("openapi-push-sdt");
    let server = Server::start(&data)?;
    let (status, document) = status_and_json(
        reqwest::Client::new()
            .get(server.url("/openapi.json"))
            .send()
            .await?,
    )
    .await?;
    assert_eq!(status, 200);
    // (method, path, request body expected, success code, response body expected)
    let mut expected: Vec<(&str, String, bool, &str, bool)> = [
        ("post", "/sphere/push/targets/{name}", true, "201", true),
        ("post", "/sphere/api/v1/push/targets", true, "201", true),
        ("post", "/sdts/evaluate", true, "200", true),
        ("post", "/sdts/dry-run", true, "200", true),
        ("get", "/sdts/acl", false, "200", true),
        ("get", "/sdts/platforms", false, "200", true),
        ("post", "/sdts/platforms", true, "201", true),
        ("get", "/sdts/platforms/{name}", false, "200", true),
        ("put", "/sdts/platforms/{name}", true, "204", false),
        ("delete", "/sdts/platforms/{name}", false, "204", false),
        ("get", "/sdts/twins", false, "200", true),
        ("post", "/sdts/twins", true, "201", true),
        ("get", "/sdts/twins/{twin}", false, "200", true),
        ("put", "/sdts/twins/{twin}", true, "204", false),
        ("delete", "/sdts/twins/{twin}", false, "204", false),
    ]
    .map(|(method, path, body, code, answer)| (method, path.to_owned(), body, code, answer))
    .into();
    for prefix in ["/sphere/push", "/sphere/api/v1/push"] {
        for (method, path, body, code, answer) in [
            ("get", "/targets", false, "200", true),
            ("get", "/targets/{name}", false, "200", true),
            ("put", "/targets/{name}", true, "204", false),
            ("delete", "/targets/{name}", false, "204", false),
            ("post", "/jobs", true, "201", true),
            ("get", "/jobs", false, "200", true),
            ("get", "/jobs/{identifier}", false, "200", true),
        ] {
            expected.push((method, format!("{prefix}{path}"), body, code, answer));
        }
    }
    let mut missing = Vec::new();
    for (method, path, body, code, answer) in &expected {
        let operation = &document["paths"][path.as_str()][*method];
        if !operation.is_object() {
            missing.push(format!("{method} {path}: not documented"));
            continue;
        }
        if *body && resolved_schema(&document, &operation["requestBody"]["content"]).is_none() {
            missing.push(format!("{method} {path}: no request schema"));
        }
        let success = &operation["responses"][*code];
        if !success.is_object() {
            missing.push(format!("{method} {path}: no {code} response"));
        } else if *answer && resolved_schema(&document, &success["content"]).is_none() {
            missing.push(format!("{method} {path}: no {code} response schema"));
        }
        if resolved_schema(&document, &operation["responses"]["400"]["content"]).is_none() {
            missing.push(format!("{method} {path}: no error schema"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    Ok(())
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413_and_a_part2_body() -> TestResult {
    let data = DataDir::new("limit");
    std::fs::create_dir_all(&data.0)?;
    let config = data.0.join("server.toml");
    std::fs::write(&config, "body-limit = 2000\n")?;
    let server = Server::launch(
        &data,
        &support::Launch::hold_events()
            .arg("--config")
            .arg(config.display().to_string()),
    )?;
    let mut big = shell("urn:aas:big");
    big["idShort"] = json!("x".repeat(3000));
    let (status, body) = status_and_json(
        reqwest::Client::new()
            .post(server.url("/shells"))
            .header("content-type", "application/json")
            .body(big.to_string())
            .send()
            .await?,
    )
    .await?;
    assert_eq!(status, 413);
    assert_eq!(body["messages"][0]["code"], "413", "{body}");
    Ok(())
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_and_database_are_private_to_the_servers_user() -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    let data = DataDir::new("private");
    let server = Server::start(&data)?;
    let created = reqwest::Client::new()
        .post(server.url("/shells"))
        .header("content-type", "application/json")
        .body(shell("urn:aas:private").to_string())
        .send()
        .await?;
    assert_eq!(created.status().as_u16(), 201);
    let mode = |name: &str| -> std::io::Result<u32> {
        Ok(std::fs::metadata(data.0.join(name))?.permissions().mode() & 0o777)
    };
    assert_eq!(mode("")?, 0o700, "data directory");
    for file in ["repository.sqlite", "repository.sqlite-wal", "secret.key"] {
        assert_eq!(mode(file)?, 0o600, "{file}");
    }
    Ok(())
}

/// The router and the OpenAPI document are built from one route table: every documented
/// operation is served (not the fallback, not 405), every other method on a documented path is
/// 405, and a path next to documented ones is the fallback's 404 (the router in process).
#[tokio::test]
async fn the_router_serves_exactly_the_documented_operations() -> TestResult {
    let api = InProcess::new()?;
    let (status, document) = call(&api, reqwest::Method::GET, "/openapi.json", None).await?;
    assert_eq!(status, 200);
    let paths = document["paths"].as_object().ok_or("no paths")?;
    assert!(paths.len() > 60, "{} paths documented", paths.len());
    let fallback = |body: &Value| body["messages"][0]["text"] == "no such endpoint";
    let mut checked = 0;
    for (template, operations) in paths {
        let path = template
            .replace("{sequence}", "1")
            .replace("{handleId}", "h")
            .replace("{path}", "a")
            .replace("{name}", "n")
            .replace("{identifier}", "j")
            .replace("{aas}", &b64("urn:aas"))
            .replace("{sm}", &b64("urn:sm"))
            .replace("{cd}", &b64("urn:cd"))
            .replace("{twin}", &b64("urn:twin"));
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            let (status, body) = call(&api, method.parse()?, &path, None).await?;
            if operations.get(method.to_lowercase()).is_some() {
                assert!(
                    status != 405 && !fallback(&body),
                    "{method} {template} is documented but answered {status} {body}"
                );
                checked += 1;
            } else {
                assert_eq!(
                    status, 405,
                    "{method} {template} is not documented but answered {body}"
                );
            }
        }
    }
    assert!(checked > 100, "{checked} operations checked");
    for undocumented in [
        "/shells/x/nothing",
        "/submodels/x/$nothing",
        "/sdts/nothing",
    ] {
        let (status, body) = call(&api, reqwest::Method::GET, undocumented, None).await?;
        assert_eq!(status, 404, "{undocumented}");
        assert!(fallback(&body), "{undocumented}: {body}");
    }
    Ok(())
}

#[tokio::test]
async fn every_shell_and_submodel_is_also_served_as_its_own_single_object_service() -> TestResult {
    let data = DataDir::new("services");
    let server = Server::start(&data)?;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.base);
    let submodel = json!({"id": "urn:sm:1", "modelType": "Submodel", "idShort": "Data",
        "submodelElements": [{"modelType": "Property", "idShort": "Level",
                              "valueType": "xs:int", "value": "3"}]});
    let mut with_ref = shell("urn:aas:1");
    with_ref["submodels"] = json!([{"type": "ModelReference",
        "keys": [{"type": "Submodel", "value": "urn:sm:1"}]}]);
    for (path, body) in [("/submodels", submodel), ("/shells", with_ref)] {
        let created = http.post(url(path)).body(body.to_string()).send().await?;
        assert_eq!(created.status().as_u16(), 201, "{path}");
    }
    let (aas, sm) = (b64("urn:aas:1"), b64("urn:sm:1"));
    let aas_service = format!("/services/aas/{aas}");
    let submodel_service = format!("/services/submodel/{sm}");

    // The same objects as the repository serves them.
    let (status, shell_body) =
        status_and_json(http.get(url(&format!("{aas_service}/aas"))).send().await?).await?;
    assert_eq!(
        (status, shell_body["id"].as_str()),
        (200, Some("urn:aas:1"))
    );
    let (status, value) = status_and_json(
        http.get(url(&format!("{aas_service}/aas/submodels/{sm}/$value")))
            .send()
            .await?,
    )
    .await?;
    assert_eq!((status, value), (200, json!({"Level": 3})));

    // A change through the submodel service is a change of the stored submodel.
    let patched = http
        .patch(url(&format!(
            "{submodel_service}/submodel/submodel-elements/Level/$value"
        )))
        .body("\"5\"")
        .send()
        .await?;
    assert_eq!(patched.status().as_u16(), 204);
    let (status, value) = status_and_json(
        http.get(url(&format!("/submodels/{sm}/$value")))
            .send()
            .await?,
    )
    .await?;
    assert_eq!((status, value), (200, json!({"Level": 5})));

    // Each service describes its own profiles; deleting the object itself is not one of them.
    for (base, profile) in [
        (
            &aas_service,
            "AssetAdministrationShellServiceSpecification/SSP-001",
        ),
        (&submodel_service, "SubmodelServiceSpecification/SSP-001"),
    ] {
        let (status, described) =
            status_and_json(http.get(url(&format!("{base}/description"))).send().await?).await?;
        assert_eq!(status, 200);
        let profiles = described["profiles"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            profiles
                .iter()
                .any(|p| p.as_str().is_some_and(|p| p.ends_with(profile))),
            "{described}"
        );
    }
    // PUT of the service's object replaces it (204) and never creates one (404).
    let replaced = http
        .put(url(&format!("{aas_service}/aas")))
        .body(shell_body.to_string())
        .send()
        .await?;
    assert_eq!(replaced.status().as_u16(), 204);
    let missing = b64("urn:aas:none");
    let refused = http
        .put(url(&format!("/services/aas/{missing}/aas")))
        .body(shell("urn:aas:none").to_string())
        .send()
        .await?;
    assert_eq!(refused.status().as_u16(), 404);
    let (status, _) =
        status_and_json(http.get(url(&format!("/shells/{missing}"))).send().await?).await?;
    assert_eq!(status, 404, "the service's PUT created a shell");
    let deleted = http
        .delete(url(&format!("{submodel_service}/submodel")))
        .send()
        .await?;
    assert_eq!(deleted.status().as_u16(), 405);
    let (status, _) = status_and_json(
        http.get(url(&format!("/services/aas/{}/aas", b64("urn:aas:none"))))
            .send()
            .await?,
    )
    .await?;
    assert_eq!(status, 404);
    Ok(())
}
