//! The server's AAS version (`aas-version`, `--aas-version`, `AAS_SERVER_AAS_VERSION`): what it
//! verifies on write, the XML namespace and packages it writes, its events, `/description`,
//! the OpenAPI document, the version its database records, and `serve --load`.

use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

mod support;

use support::{DataDir, Failure, Launch, Server, TestResult, b64, call, free_port};

fn shell(id: &str, kind: &str) -> Value {
    json!({"modelType": "AssetAdministrationShell", "id": id,
           "assetInformation": {"assetKind": kind, "globalAssetId": format!("{id}/asset")}})
}

fn as_3_0() -> Launch {
    Launch::hold_events().arg("--aas-version").arg("3.0")
}

/// The AAS version the database records (`None`: none recorded).
fn recorded_version(data: &DataDir) -> Result<Option<String>, Failure> {
    let connection = rusqlite::Connection::open(data.0.join("repository.sqlite"))?;
    let version = connection.query_row(
        "SELECT value FROM metadata WHERE key = 'aas-version'",
        [],
        |row| row.get(0),
    );
    match version {
        Ok(version) => Ok(Some(version)),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

#[tokio::test]
async fn a_3_0_server_refuses_a_shell_with_asset_kind_role_and_a_3_1_server_accepts_it()
-> TestResult {
    let strict_data = DataDir::new("version-strict");
    let strict = Server::launch(&strict_data, &as_3_0())?;
    let (status, body) = call(
        &strict,
        Method::POST,
        "/shells",
        Some(shell("urn:aas:role", "Role")),
    )
    .await?;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("Role"), "{body}");
    let (status, _) = call(
        &strict,
        Method::PUT,
        &format!("/shells/{}", b64("urn:aas:role")),
        Some(shell("urn:aas:role", "Role")),
    )
    .await?;
    assert_eq!(status, 400, "replacing is verified by V3.0 too");
    let (status, body) = call(
        &strict,
        Method::POST,
        "/shells",
        Some(shell("urn:aas:instance", "Instance")),
    )
    .await?;
    assert_eq!(status, 201, "{body}");

    let newest_data = DataDir::new("version-newest");
    let newest = Server::launch(&newest_data, &Launch::hold_events())?;
    let (status, body) = call(
        &newest,
        Method::POST,
        "/shells",
        Some(shell("urn:aas:role", "Role")),
    )
    .await?;
    assert_eq!(status, 201, "{body}");
    let (_, stored) = call(
        &newest,
        Method::GET,
        &format!("/shells/{}", b64("urn:aas:role")),
        None,
    )
    .await?;
    assert_eq!(stored["assetInformation"]["assetKind"], "Role");
    Ok(())
}

/// `GET /serialization` with this `Accept`: the body.
async fn serialization(server: &Server, accept: &str) -> Result<Vec<u8>, Failure> {
    let response = reqwest::Client::new()
        .get(server.url("/serialization"))
        .header("accept", accept)
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 200);
    Ok(response.bytes().await?.to_vec())
}

#[tokio::test]
async fn serialization_events_description_and_openapi_follow_the_servers_version() -> TestResult {
    for (version, path) in [("3.0", "3/0"), ("3.1", "3/1")] {
        let data = DataDir::new(&format!("version-serialization-{version}"));
        std::fs::create_dir_all(&data.0)?;
        let config = data.0.join("server.toml");
        std::fs::write(
            &config,
            "[events]\ncloud-events = \"http://127.0.0.1:1/api\"\n",
        )?;
        // The environment variable, the way other settings are given.
        let mut launch = Launch::hold_events()
            .arg("--config")
            .arg(config.display().to_string());
        launch
            .envs
            .push(("AAS_SERVER_AAS_VERSION".into(), version.into()));
        let server = Server::launch(&data, &launch)?;
        let (status, _) = call(
            &server,
            Method::POST,
            "/shells",
            Some(shell("urn:aas:1", "Instance")),
        )
        .await?;
        assert_eq!(status, 201);
        let namespace = format!("xmlns=\"https://admin-shell.io/aas/{path}\"");

        let xml = String::from_utf8(serialization(&server, "application/xml").await?)?;
        assert!(xml.contains(&namespace), "{version}: {xml}");

        let package = serialization(
            &server,
            "application/asset-administration-shell-package+xml",
        )
        .await?;
        let mut reader = aas_serde::aasx::AasxReader::new(std::io::Cursor::new(package))?;
        let spec = reader.spec_parts()[0].name.clone();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut reader.open(&spec)?, &mut text)?;
        assert!(text.contains(&namespace), "{version}: {text}");

        let (_, description) = call(&server, Method::GET, "/description", None).await?;
        let profiles = description["profiles"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(profiles.len(), 5);
        let prefix = format!("https://admin-shell.io/aas/API/{path}/");
        assert!(
            profiles
                .iter()
                .all(|p| p.as_str().is_some_and(|p| p.starts_with(&prefix))),
            "{version}: {profiles:?}"
        );

        let (_, openapi) = call(&server, Method::GET, "/openapi.json", None).await?;
        assert_eq!(openapi["info"]["x-aas-version"], version);
        let described = openapi["info"]["description"].as_str().unwrap_or_default();
        assert!(
            described.starts_with(&format!("AAS V{version} repository")),
            "{described}"
        );

        let (_, feed) = call(&server, Method::GET, "/events", None).await?;
        let cloud_event = feed["result"]
            .as_array()
            .and_then(|events| {
                events.iter().find(|e| {
                    e["topic"]
                        .as_str()
                        .is_some_and(|t| t.starts_with("aas-events/"))
                })
            })
            .cloned()
            .ok_or("no CloudEvent in the feed")?;
        assert_eq!(
            cloud_event["message"]["aasversion"], version,
            "{cloud_event}"
        );
    }
    Ok(())
}

/// Starts `serve` with `args` on `data`, expecting it to refuse: its exit code and stderr.
/// A server that starts after all is killed after 20 s.
fn refused_start(data: &DataDir, args: &[&str]) -> Result<(Option<i32>, String), Failure> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_reference-server"))
        .args(["serve", "--data"])
        .arg(&data.0)
        .args(["--bind", &format!("127.0.0.1:{}", free_port())])
        .args(["--mqtt-listen", &format!("127.0.0.1:{}", free_port())])
        .args(args)
        .env("AAS_SERVER_HOLD_EVENTS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    for _ in 0..800 {
        if child.try_wait()?.is_some() {
            let output = child.wait_with_output()?;
            return Ok((
                output.status.code(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            ));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let _ = child.kill();
    let output = child.wait_with_output()?;
    Err(format!(
        "the server started: {}",
        String::from_utf8_lossy(&output.stderr)
    )
    .into())
}

/// A database written by a 3.1 server: a shell only V3.1 allows (`Role`) and one both allow.
async fn database_of_3_1(data: &DataDir) -> TestResult {
    let mut newest = Server::launch(data, &Launch::hold_events())?;
    for body in [
        shell("urn:aas:role", "Role"),
        shell("urn:aas:plain", "Instance"),
    ] {
        let (status, answer) = call(&newest, Method::POST, "/shells", Some(body)).await?;
        assert_eq!(status, 201, "{answer}");
    }
    newest.terminate()?;
    assert_eq!(recorded_version(data)?.as_deref(), Some("3.1"));
    Ok(())
}

#[tokio::test]
async fn restarting_a_3_1_database_as_3_0_refuses_with_a_report_naming_the_element() -> TestResult {
    let data = DataDir::new("version-restart");
    database_of_3_1(&data).await?;
    let (code, stderr) = refused_start(&data, &["--aas-version", "3.0"])?;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("shell \"urn:aas:role\"") && stderr.contains("--convert-stored-data"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("urn:aas:plain"),
        "only what does not fit: {stderr}"
    );
    assert_eq!(
        recorded_version(&data)?.as_deref(),
        Some("3.1"),
        "nothing changed"
    );
    // The same database still serves as 3.1.
    let again = Server::launch(&data, &Launch::hold_events())?;
    let (status, _) = call(
        &again,
        Method::GET,
        &format!("/shells/{}", b64("urn:aas:role")),
        None,
    )
    .await?;
    assert_eq!(status, 200);
    Ok(())
}

#[tokio::test]
async fn restarting_a_3_1_database_as_3_0_converts_it_when_told_and_logs_the_report() -> TestResult
{
    let data = DataDir::new("version-convert");
    database_of_3_1(&data).await?;
    let converted = Server::launch(&data, &as_3_0().arg("--convert-stored-data"))?;
    let log = converted.log_text();
    assert!(
        log.contains("shell \"urn:aas:role\"") && log.contains("--convert-stored-data"),
        "the report is logged: {log}"
    );
    assert_eq!(recorded_version(&data)?.as_deref(), Some("3.0"));
    let (status, plain) = call(
        &converted,
        Method::GET,
        &format!("/shells/{}", b64("urn:aas:plain")),
        None,
    )
    .await?;
    assert_eq!(
        (status, &plain["assetInformation"]["assetKind"]),
        (200, &json!("Instance"))
    );
    Ok(())
}

/// Needs aas-model's conversion rules (issue 20): `Role` becomes `NotApplicable` in V3.0.
#[tokio::test]
async fn a_database_converted_to_3_0_serves_the_converted_elements() -> TestResult {
    let data = DataDir::new("version-converted");
    database_of_3_1(&data).await?;
    let converted = Server::launch(&data, &as_3_0().arg("--convert-stored-data"))?;
    let (status, role) = call(
        &converted,
        Method::GET,
        &format!("/shells/{}", b64("urn:aas:role")),
        None,
    )
    .await?;
    assert_eq!(status, 200);
    assert_eq!(role["assetInformation"]["assetKind"], "NotApplicable");
    Ok(())
}

#[tokio::test]
async fn a_database_from_before_versions_were_recorded_counts_as_3_0() -> TestResult {
    let data = DataDir::new("version-unrecorded");
    database_of_3_1(&data).await?;
    rusqlite::Connection::open(data.0.join("repository.sqlite"))?
        .execute("DELETE FROM metadata", [])?;
    // As V3.0 data, it is not checked again by a 3.0 server (the Role shell stays until
    // someone changes it), and a 3.1 server checks it under V3.1.
    let strict = Server::launch(&data, &as_3_0())?;
    drop(strict);
    assert_eq!(recorded_version(&data)?.as_deref(), Some("3.0"));
    rusqlite::Connection::open(data.0.join("repository.sqlite"))?
        .execute("DELETE FROM metadata", [])?;
    let newest = Server::launch(&data, &Launch::hold_events())?;
    drop(newest);
    assert_eq!(recorded_version(&data)?.as_deref(), Some("3.1"));
    Ok(())
}

#[tokio::test]
async fn serve_load_reads_xml_by_its_namespace_and_json_as_the_servers_version() -> TestResult {
    let data = DataDir::new("version-load");
    std::fs::create_dir_all(&data.0)?;
    let environment: aas_model::Environment = aas_serde::json::from_slice(
        json!({"assetAdministrationShells": [shell("urn:aas:xml", "Instance")]})
            .to_string()
            .as_bytes(),
    )?;
    let xml = data.0.with_extension("3-0.xml");
    std::fs::write(
        &xml,
        aas_serde::xml::to_vec_as(&environment, aas_model::Version::V3_0)?,
    )?;
    let role = data.0.with_extension("role.json");
    std::fs::write(
        &role,
        json!({"assetAdministrationShells": [shell("urn:aas:json", "Role")]}).to_string(),
    )?;
    let server = Server::launch(
        &data,
        &Launch::hold_events()
            .arg("--load")
            .arg(xml.display().to_string())
            .arg(role.display().to_string()),
    )?;
    for id in ["urn:aas:xml", "urn:aas:json"] {
        let (status, _) = call(&server, Method::GET, &format!("/shells/{}", b64(id)), None).await?;
        assert_eq!(status, 200, "{id}");
    }
    let _ = std::fs::remove_file(&xml);
    let _ = std::fs::remove_file(&role);
    Ok(())
}

/// A submodel with what only V3.1 allows: an idShort with `-`, a category other than
/// CONSTANT, PARAMETER, VARIABLE, and idShorts on list items.
fn submodel_of_3_1_only() -> Value {
    let property = |id_short: &str| json!({"modelType": "Property", "idShort": id_short, "valueType": "xs:string"});
    let mut categorized = property("mode");
    categorized["category"] = json!("FOO");
    json!({"modelType": "Submodel", "id": "urn:sm:3-1", "submodelElements": [
        property("max-speed"),
        categorized,
        {"modelType": "SubmodelElementList", "idShort": "readings",
         "typeValueListElement": "Property", "valueTypeListElement": "xs:string",
         "value": [property("first")]}]})
}

#[tokio::test]
async fn serve_load_refuses_to_start_with_the_findings_of_a_file_its_version_does_not_allow()
-> TestResult {
    let data = DataDir::new("version-load-verified");
    let file = data.0.with_extension("3-1-only.json");
    std::fs::write(
        &file,
        json!({"submodels": [submodel_of_3_1_only()]}).to_string(),
    )?;
    let path = file.display().to_string();
    let (code, stderr) = refused_start(&data, &["--aas-version", "3.0", "--load", &path])?;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(&path), "names the file: {stderr}");
    for (where_, rule) in [
        ("submodelElements[0].idShort", "AASd-002"),
        ("submodelElements[1]", "AASd-090"),
        ("submodelElements[2].value[0]", "AASd-120"),
    ] {
        assert!(
            stderr
                .lines()
                .any(|line| line.contains(where_) && line.contains(rule)),
            "{where_}: {rule}: {stderr}"
        );
    }
    let connection = rusqlite::Connection::open(data.0.join("repository.sqlite"))?;
    let stored: i64 =
        connection.query_row("SELECT COUNT(*) FROM submodels", [], |row| row.get(0))?;
    assert_eq!(stored, 0, "nothing of the file was stored");

    // The same file is valid V3.1: a 3.1 server loads it.
    let newest = Server::launch(&data, &Launch::hold_events().arg("--load").arg(path))?;
    let (status, _) = call(
        &newest,
        Method::GET,
        &format!("/submodels/{}", b64("urn:sm:3-1")),
        None,
    )
    .await?;
    assert_eq!(status, 200);
    let _ = std::fs::remove_file(&file);
    Ok(())
}

#[tokio::test]
async fn push_jobs_write_the_servers_version_unless_their_request_names_another() -> TestResult {
    let data = DataDir::new("version-push");
    std::fs::create_dir_all(&data.0)?;
    let root = tempfile::tempdir()?;
    let root_path = root.path().canonicalize()?;
    let config = data.0.with_extension("push.toml");
    std::fs::write(
        &config,
        format!(
            "[outbound]\nlocal-target-root = {:?}\n",
            root_path.display().to_string()
        ),
    )?;
    let server = Server::launch(
        &data,
        &as_3_0().arg("--config").arg(config.display().to_string()),
    )?;
    let (status, answer) = call(
        &server,
        Method::POST,
        "/shells",
        Some(shell("urn:aas:push", "Instance")),
    )
    .await?;
    assert_eq!(status, 201, "{answer}");
    let target = json!({"type": "local-directory", "configuration": {"path": root_path}});
    let (status, answer) = call(
        &server,
        Method::POST,
        "/sphere/push/targets/dir",
        Some(target),
    )
    .await?;
    assert_eq!(status, 201, "{answer}");
    for (asked, blob, namespace) in [
        (None, "default.xml", "3/0"),
        (Some("3.1"), "newer.xml", "3/1"),
    ] {
        let mut request = json!({"pushTargetName": "dir", "serializationFormat": "application/xml",
            "shellIds": ["urn:aas:push"], "blobName": blob});
        if let Some(version) = asked {
            request["aasVersion"] = json!(version);
        }
        let (status, job) = call(&server, Method::POST, "/sphere/push/jobs", Some(request)).await?;
        assert_eq!(status, 201, "{job}");
        let location = format!(
            "/sphere/push/jobs/{}",
            job["identifier"].as_str().unwrap_or_default()
        );
        let mut done = Value::Null;
        for _ in 0..200 {
            done = call(&server, Method::GET, &location, None).await?.1;
            if done["state"] != "processing" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(done["state"], "completed", "{done}");
        assert_eq!(done["metadata"]["aasVersion"], namespace.replace('/', "."));
        let written = std::fs::read_to_string(root_path.join(blob))?;
        assert!(
            written.contains(&format!("xmlns=\"https://admin-shell.io/aas/{namespace}\"")),
            "{asked:?}: {written}"
        );
    }
    let _ = std::fs::remove_file(&config);
    Ok(())
}

/// A V3.1 XML file of `submodel` (read as V3.1 from its JSON), written beside `data`.
fn v3_1_xml_file(data: &DataDir, name: &str, submodel: Value) -> Result<String, Failure> {
    let env: aas_model::Environment = aas_serde::json::from_slice_as(
        json!({"submodels": [submodel]}).to_string().as_bytes(),
        aas_model::Version::V3_1,
    )?;
    let file = data.0.with_extension(name);
    std::fs::write(
        &file,
        aas_serde::xml::to_vec_as(&env, aas_model::Version::V3_1)?,
    )?;
    Ok(file.display().to_string())
}

#[tokio::test]
async fn serve_load_of_a_3_1_file_into_a_3_0_server_converts_when_told_and_advises_only_what_helps()
-> TestResult {
    let data = DataDir::new("version-load-down");
    // Every difference has a rule (a hyphen becomes '_'): the flag helps, and the advice says so.
    let renamed = v3_1_xml_file(
        &data,
        "renamed.xml",
        json!({"modelType": "Submodel", "id": "urn:sm:down", "submodelElements": [
            {"modelType": "Property", "idShort": "max-speed", "valueType": "xs:string"}]}),
    )?;
    let (code, stderr) = refused_start(&data, &["--aas-version", "3.0", "--load", &renamed])?;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("submodelElements[0].idShort")
            && stderr.contains("start with --convert-stored-data"),
        "{stderr}"
    );
    // An identifier longer than V3.0's 2000 characters has no rule: converted it stays invalid,
    // so the advice is not the flag.
    let long = v3_1_xml_file(
        &data,
        "long.xml",
        json!({"modelType": "Submodel", "id": format!("urn:sm:{}", "x".repeat(2_040))}),
    )?;
    let (code, stderr) = refused_start(&data, &["--aas-version", "3.0", "--load", &long])?;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("stays invalid") && !stderr.contains("start with --convert-stored-data"),
        "{stderr}"
    );
    // With the flag, the first file is loaded converted.
    let server = Server::launch(
        &data,
        &Launch::hold_events()
            .arg("--aas-version")
            .arg("3.0")
            .arg("--convert-stored-data")
            .arg("--load")
            .arg(&renamed),
    )?;
    let (status, submodel) = call(
        &server,
        Method::GET,
        &format!("/submodels/{}", b64("urn:sm:down")),
        None,
    )
    .await?;
    assert_eq!(status, 200, "{submodel}");
    assert_eq!(submodel["submodelElements"][0]["idShort"], "max_speed");
    for file in [renamed, long] {
        let _ = std::fs::remove_file(file);
    }
    Ok(())
}

#[tokio::test]
async fn upgrading_a_3_0_database_with_a_one_character_id_short_refuses_and_converting_keeps_it_listed()
-> TestResult {
    let data = DataDir::new("version-upgrade");
    let submodel = json!({"modelType": "Submodel", "id": "urn:sm:old", "submodelElements": [
        {"modelType": "Property", "idShort": "X", "valueType": "xs:string"}]});
    {
        let strict = Server::launch(&data, &as_3_0())?;
        let (status, answer) =
            call(&strict, Method::POST, "/submodels", Some(submodel.clone())).await?;
        assert_eq!(status, 201, "valid V3.0: {answer}");
    }
    // The default version is 3.1: the first start checks the 3.0 data under V3.1 and refuses,
    // saying how to keep serving it.
    let (code, stderr) = refused_start(&data, &[])?;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("submodelElements[0].idShort") && stderr.contains("aas-version 3.0"),
        "{stderr}"
    );
    assert_eq!(recorded_version(&data)?.as_deref(), Some("3.0"));
    // Converting up repairs nothing: the element is kept, and its writes are refused until fixed.
    let newest = Server::launch(&data, &Launch::hold_events().arg("--convert-stored-data"))?;
    assert_eq!(recorded_version(&data)?.as_deref(), Some("3.1"));
    let path = format!("/submodels/{}", b64("urn:sm:old"));
    let (status, kept) = call(&newest, Method::GET, &path, None).await?;
    assert_eq!(status, 200);
    assert_eq!(kept["submodelElements"][0]["idShort"], "X");
    let (status, answer) = call(&newest, Method::PUT, &path, Some(submodel)).await?;
    assert_eq!(status, 400, "{answer}");
    Ok(())
}
