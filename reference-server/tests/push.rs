//! The push API against a real Azurite: targets under both path generations with secrets
//! redacted, jobs that upload, secrets encrypted at rest, jobs resumed after `kill -9`.

use std::time::Duration;

use chrono::Utc;
use reqwest::Method;
use serde_json::{Value, json};

mod support;

use aas_conformance_tests::azurite::Azurite;
use support::{DataDir, Failure, Launch, Server, TestResult};

async fn call(
    server: &Server,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, Value, Option<String>), Failure> {
    let mut request = reqwest::Client::new().request(method, server.url(path));
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = response.text().await?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        location,
    ))
}

fn azure(sas: &str) -> Value {
    json!({"type": "azure-blob-storage", "configuration": {"blobSasUrl": sas}})
}

fn signature(sas: &str) -> String {
    sas.split('&')
        .find_map(|p| p.strip_prefix("sig="))
        .unwrap_or_default()
        .to_owned()
}

/// Every file under the data directory and the log, searched for the secret as given,
/// percent-decoded, base64 and hex encoded.
fn assert_nowhere(server: &Server, secret: &str) -> TestResult {
    use base64::Engine;
    let decoded = secret
        .replace("%2B", "+")
        .replace("%2F", "/")
        .replace("%3D", "=");
    let forms = [
        secret.to_owned(),
        decoded.clone(),
        base64::engine::general_purpose::STANDARD.encode(&decoded),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&decoded),
        hex::encode(&decoded),
    ];
    let mut files = vec![server.log.clone()];
    for entry in std::fs::read_dir(&server.data)? {
        files.push(entry?.path());
    }
    for file in files {
        let bytes = std::fs::read(&file)?;
        for form in &forms {
            let found = bytes.windows(form.len()).any(|w| w == form.as_bytes());
            assert!(!found, "{} holds the secret ({form})", file.display());
        }
    }
    Ok(())
}

async fn wait_for_end(server: &Server, location: &str) -> Result<Value, Failure> {
    for _ in 0..200 {
        let (_, job, _) = call(server, Method::GET, location, None).await?;
        if job["state"] != "processing" {
            return Ok(job);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("the job at {location} did not end within 10 s").into())
}

#[tokio::test]
async fn targets_and_jobs_work_under_both_path_generations_and_no_secret_is_kept_in_clear()
-> TestResult {
    let azurite = Azurite::start();
    azurite.create_container("push").await?;
    let sas = azurite.sas_url("push", "racwdl", Utc::now() + chrono::Duration::hours(2));
    let data = DataDir::new("push-api");
    let server = Server::launch(
        &data,
        &Launch::hold_events().arg("--allow-insecure-targets"),
    )?;

    let (status, shown, _) = call(
        &server,
        Method::POST,
        "/sphere/push/targets/az1",
        Some(&azure(&sas)),
    )
    .await?;
    assert_eq!(status, 201, "{shown}");
    let url = shown["configuration"]["blobSasUrl"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        url.contains("sig=***") && !url.contains(&signature(&sas)),
        "{url}"
    );
    assert_eq!(
        shown["configuration"]["blobContainerSasUrl"],
        shown["configuration"]["blobSasUrl"]
    );
    assert_eq!(shown["name"], "az1");
    assert_eq!(
        call(
            &server,
            Method::POST,
            "/sphere/push/targets/az1",
            Some(&azure(&sas))
        )
        .await?
        .0,
        200
    );
    let mut named = azure(&sas);
    named["name"] = json!("other");
    assert_eq!(
        call(
            &server,
            Method::POST,
            "/sphere/push/targets/az1",
            Some(&named)
        )
        .await?
        .0,
        400
    );
    named["name"] = json!("az1");
    assert_eq!(
        call(
            &server,
            Method::POST,
            "/sphere/api/v1/push/targets",
            Some(&named)
        )
        .await?
        .0,
        409
    );
    named["name"] = json!("az2");
    assert_eq!(
        call(
            &server,
            Method::POST,
            "/sphere/api/v1/push/targets",
            Some(&named)
        )
        .await?
        .0,
        201
    );
    for prefix in ["/sphere/push", "/sphere/api/v1/push"] {
        let (status, list, _) =
            call(&server, Method::GET, &format!("{prefix}/targets"), None).await?;
        assert_eq!(
            (status, list.as_array().map(Vec::len)),
            (200, Some(2)),
            "{prefix}"
        );
        assert!(!list.to_string().contains(&signature(&sas)));
        assert_eq!(
            call(&server, Method::GET, &format!("{prefix}/targets/az1"), None)
                .await?
                .0,
            200
        );
        assert_eq!(
            call(
                &server,
                Method::GET,
                &format!("{prefix}/targets/none"),
                None
            )
            .await?
            .0,
            404
        );
        assert_eq!(
            call(
                &server,
                Method::PUT,
                &format!("{prefix}/targets/az2"),
                Some(&azure(&sas))
            )
            .await?
            .0,
            204
        );
        assert_eq!(
            call(
                &server,
                Method::PUT,
                &format!("{prefix}/targets/none"),
                Some(&azure(&sas))
            )
            .await?
            .0,
            404
        );
    }
    let read_only = azurite.sas_url("push", "rl", Utc::now() + chrono::Duration::hours(2));
    let (status, error, _) = call(
        &server,
        Method::POST,
        "/sphere/push/targets/ro",
        Some(&azure(&read_only)),
    )
    .await?;
    assert_eq!(status, 400);
    let text = error["messages"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        text.contains("permission") && !text.contains(&signature(&read_only)),
        "{text}"
    );
    let unreachable = format!(
        "http://127.0.0.1:1/devstoreaccount1/push?{}",
        sas.split_once('?').map(|(_, q)| q).unwrap_or_default()
    );
    let (status, error, _) = call(
        &server,
        Method::POST,
        "/sphere/push/targets/down",
        Some(&azure(&unreachable)),
    )
    .await?;
    assert_eq!(status, 400, "the connection test fails: {error}");
    let (status, _, _) = call(
        &server,
        Method::POST,
        "/sphere/push/targets/bad",
        Some(&json!({"type": "ftp", "configuration": {}})),
    )
    .await?;
    assert_eq!(status, 400);

    let submodel = json!({"id": "urn:sm:push", "modelType": "Submodel", "idShort": "Pushed"});
    assert_eq!(
        call(&server, Method::POST, "/submodels", Some(&submodel))
            .await?
            .0,
        201
    );
    let request = json!({"pushTargetName": "az1", "serializationFormat": "application/json",
        "shellIds": [], "submodelIds": ["urn:sm:push"], "includeConceptDescriptions": false});
    let (status, job, location) = call(
        &server,
        Method::POST,
        "/sphere/api/v1/push/jobs",
        Some(&request),
    )
    .await?;
    assert_eq!(status, 201, "{job}");
    let location = location.ok_or("no Location")?;
    assert_eq!(
        location,
        format!(
            "/sphere/api/v1/push/jobs/{}",
            job["identifier"].as_str().unwrap_or_default()
        )
    );
    let done = wait_for_end(&server, &location).await?;
    assert_eq!(done["state"], "completed", "{done}");
    let name = done["metadata"]["uploads"][0]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (bytes, content_type) = azurite.get("push", &name).await?;
    assert_eq!(content_type, "application/json");
    // The stored JSON, joined as it is: what the API answers for the submodel, in an
    // environment the strict reader accepts.
    let uploaded: aas_model::Environment = aas_serde::json::from_slice(&bytes)?;
    let (_, stored, _) = call(
        &server,
        Method::GET,
        "/submodels/dXJuOnNtOnB1c2g", // base64url of urn:sm:push
        None,
    )
    .await?;
    let stored: aas_model::Submodel = aas_serde::json::from_slice(&serde_json::to_vec(&stored)?)?;
    assert_eq!(uploaded.submodels, Some(vec![stored]));
    assert_eq!(
        call(&server, Method::GET, &location.replace("/api/v1", ""), None)
            .await?
            .0,
        200,
        "both generations"
    );

    let mut unknown = request.clone();
    unknown["pushTargetName"] = json!("none");
    assert_eq!(
        call(&server, Method::POST, "/sphere/push/jobs", Some(&unknown))
            .await?
            .0,
        404
    );
    assert_eq!(
        call(
            &server,
            Method::POST,
            "/sphere/push/jobs",
            Some(&json!({"pushTargetName": "az1"}))
        )
        .await?
        .0,
        400
    );
    let missing = json!({"pushTargetName": "az1", "serializationFormat": "application/xml", "submodelIds": ["urn:sm:none"]});
    let (_, failing, location) =
        call(&server, Method::POST, "/sphere/push/jobs", Some(&missing)).await?;
    let failed = wait_for_end(&server, &location.ok_or("no Location")?).await?;
    assert_eq!(failed["state"], "failed", "{failing}");
    assert!(
        failed["message"]
            .as_str()
            .is_some_and(|m| m.contains("urn:sm:none")),
        "{failed}"
    );

    let (_, page, _) = call(&server, Method::GET, "/sphere/push/jobs?limit=1", None).await?;
    assert_eq!(
        page["result"][0]["identifier"], failed["identifier"],
        "newest first"
    );
    let cursor = page["paging_metadata"]["cursor"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (_, rest, _) = call(
        &server,
        Method::GET,
        &format!("/sphere/push/jobs?limit=10&cursor={cursor}"),
        None,
    )
    .await?;
    assert_eq!(rest["result"][0]["identifier"], done["identifier"]);
    assert_eq!(
        call(&server, Method::GET, "/sphere/push/jobs/nope", None)
            .await?
            .0,
        404
    );

    assert_eq!(
        call(&server, Method::DELETE, "/sphere/push/targets/az2", None)
            .await?
            .0,
        204
    );
    assert_eq!(
        call(
            &server,
            Method::DELETE,
            "/sphere/api/v1/push/targets/az2",
            None
        )
        .await?
        .0,
        404
    );
    assert_nowhere(&server, &signature(&sas))?;
    assert_nowhere(&server, &signature(&read_only))?;
    Ok(())
}

#[tokio::test]
async fn insecure_targets_need_the_flag_and_secrets_need_their_key() -> TestResult {
    let azurite = Azurite::start();
    azurite.create_container("push").await?;
    let sas = azurite.sas_url("push", "racwdl", Utc::now() + chrono::Duration::hours(2));
    let data = DataDir::new("push-key");
    {
        let strict = Server::launch(&data, &Launch::hold_events())?;
        let (status, error, _) = call(
            &strict,
            Method::POST,
            "/sphere/push/targets/az",
            Some(&azure(&sas)),
        )
        .await?;
        assert_eq!(status, 400);
        assert!(error.to_string().contains("https"), "{error}");
    }
    let mut server = Server::launch(
        &data,
        &Launch::hold_events().arg("--allow-insecure-targets"),
    )?;
    assert_eq!(
        call(
            &server,
            Method::POST,
            "/sphere/push/targets/az",
            Some(&azure(&sas))
        )
        .await?
        .0,
        201
    );
    let submodel = json!({"id": "urn:sm:key", "modelType": "Submodel"});
    assert_eq!(
        call(&server, Method::POST, "/submodels", Some(&submodel))
            .await?
            .0,
        201
    );
    let platform = json!({"name": "p", "base_url": "http://127.0.0.1:1/", "authentication": "api_key", "token_header": "Bearer"});
    assert_eq!(
        call(&server, Method::POST, "/sdts/platforms", Some(&platform))
            .await?
            .0,
        201
    );
    let twin = json!({"submodel_id": "urn:sm:key", "platform": "p", "uuid_on_platform": "d", "api_key": "k-1",
        "synchronization": {"iot_attributes": [], "thingin_attributes": []}});
    assert_eq!(
        call(&server, Method::POST, "/sdts/twins", Some(&twin))
            .await?
            .0,
        201
    );
    server.terminate()?;

    std::fs::remove_file(data.0.join("secret.key"))?;
    let server = Server::launch(
        &data,
        &Launch::hold_events().arg("--allow-insecure-targets"),
    )?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        server
            .log_text()
            .contains("cannot be used until they are given again"),
        "{}",
        server.log_text()
    );
    let request = json!({"pushTargetName": "az", "serializationFormat": "application/json", "submodelIds": ["urn:sm:key"]});
    let (_, _, location) = call(&server, Method::POST, "/sphere/push/jobs", Some(&request)).await?;
    let job = wait_for_end(&server, &location.ok_or("no Location")?).await?;
    assert_eq!(job["state"], "failed");
    assert!(
        job["message"]
            .as_str()
            .is_some_and(|m| m.contains("secret key")),
        "{job}"
    );
    Ok(())
}

#[tokio::test]
async fn jobs_in_flight_at_kill_9_end_completed_or_failed_after_restart() -> TestResult {
    let azurite = Azurite::start();
    azurite.create_container("push").await?;
    let sas = azurite.sas_url("push", "racwdl", Utc::now() + chrono::Duration::hours(2));
    let data = DataDir::new("push-restart");
    let launch = Launch::hold_events().arg("--allow-insecure-targets");
    let mut server = Server::launch(&data, &launch)?;
    assert_eq!(
        call(
            &server,
            Method::POST,
            "/sphere/push/targets/az",
            Some(&azure(&sas))
        )
        .await?
        .0,
        201
    );
    let mut ids = Vec::new();
    for i in 0..20 {
        let id = format!("urn:sm:restart:{i}");
        let submodel = json!({"id": id, "modelType": "Submodel"});
        assert_eq!(
            call(&server, Method::POST, "/submodels", Some(&submodel))
                .await?
                .0,
            201
        );
        ids.push(id);
    }
    let mut locations = Vec::new();
    for _ in 0..10 {
        let request = json!({"pushTargetName": "az", "serializationFormat": "application/asset-administration-shell-package+xml", "submodelIds": ids});
        let (status, _, location) =
            call(&server, Method::POST, "/sphere/push/jobs", Some(&request)).await?;
        assert_eq!(status, 201);
        locations.push(location.ok_or("no Location")?);
    }
    server.kill();
    // A job recorded `processing` by a process that died mid-way.
    let connection = rusqlite::Connection::open(data.0.join("repository.sqlite"))?;
    let stranded = json!({"identifier": "stranded-job", "state": "processing",
        "createdOn": Utc::now(), "updatedOn": Utc::now(), "pushTargetName": "az",
        "serializationFormat": "application/json", "shellIds": [], "submodelIds": ["urn:sm:restart:0"],
        "includeConceptDescriptions": false});
    connection.execute(
        "INSERT INTO push_jobs (identifier, state, json) VALUES ('stranded-job', 'processing', ?1)",
        [stranded.to_string()],
    )?;
    drop(connection);
    locations.push("/sphere/push/jobs/stranded-job".into());

    let server = Server::launch(&data, &launch)?;
    for location in &locations {
        let job = wait_for_end(&server, location).await?;
        assert!(
            job["state"] == "completed" || job["state"] == "failed",
            "{job}"
        );
    }
    let stranded = wait_for_end(&server, "/sphere/push/jobs/stranded-job").await?;
    assert_eq!(
        stranded["state"], "completed",
        "resumed after the restart: {stranded}"
    );
    Ok(())
}
