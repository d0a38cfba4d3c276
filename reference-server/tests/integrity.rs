//! Correct under concurrency and at the edges of storage, seen from outside the process:
//! concurrent creates of one name give one 201 and 409s, a platform cannot be deleted from
//! under the twins being bound to it, a File's bytes go with the element that holds them (also
//! inside a deleted collection), and a full database answers 507 without changing anything.

use reqwest::Method;
use serde_json::{Value, json};

mod support;

use support::{DataDir, Failure, Launch, Server, TestResult, b64, call, multipart};

/// Sends `body` to `path` from `n` tasks at once; the statuses, sorted.
async fn at_once(server: &Server, path: &str, body: &Value, n: usize) -> Result<Vec<u16>, Failure> {
    let http = reqwest::Client::new();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (http, barrier, url, body) = (
            http.clone(),
            barrier.clone(),
            server.url(path),
            body.to_string(),
        );
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            http.post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await??);
    }
    statuses.sort_unstable();
    Ok(statuses)
}

fn one_created_rest_conflict(statuses: &[u16], what: &str) {
    let created = statuses.iter().filter(|s| **s == 201).count();
    let conflicts = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!(
        (created, conflicts),
        (1, statuses.len() - 1),
        "{what}: {statuses:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_concurrent_creates_of_one_name_give_one_201_and_thirty_nine_409() -> TestResult {
    let data = DataDir::new("integrity-creates");
    let server = Server::start(&data)?;
    let shell = json!({"id": "urn:aas:race", "modelType": "AssetAdministrationShell",
        "assetInformation": {"assetKind": "Instance", "globalAssetId": "urn:asset:race"}});
    one_created_rest_conflict(&at_once(&server, "/shells", &shell, 40).await?, "shells");
    let submodel = json!({"id": "urn:sm:race", "modelType": "Submodel"});
    one_created_rest_conflict(
        &at_once(&server, "/submodels", &submodel, 40).await?,
        "submodels",
    );
    let cd = json!({"id": "urn:cd:race", "modelType": "ConceptDescription"});
    one_created_rest_conflict(
        &at_once(&server, "/concept-descriptions", &cd, 40).await?,
        "concept descriptions",
    );
    let platform = json!({"name": "race", "base_url": "http://127.0.0.1:9/",
        "data_get_prefix": "data/", "authentication": "none"});
    one_created_rest_conflict(
        &at_once(&server, "/sdts/platforms", &platform, 40).await?,
        "platforms",
    );
    let twin = json!({"submodel_id": "urn:sm:race", "platform": "race", "uuid_on_platform": "d1",
        "synchronization": {"iot_attributes": [{"name": "t", "value": "$.t"}],
            "thingin_attributes": [{"name": "temp", "value": "{t}", "frequency_sec": 3600}]}});
    one_created_rest_conflict(&at_once(&server, "/sdts/twins", &twin, 40).await?, "twins");
    Ok(())
}

/// Twins being bound to a platform while it is deleted: either the platform stays (and the
/// deletion answered 409) or it went before them (and they answered 404); never a stored twin
/// whose platform is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_platform_is_never_deleted_from_under_a_twin_being_bound_to_it() -> TestResult {
    let data = DataDir::new("integrity-platform");
    let server = Server::start(&data)?;
    let http = reqwest::Client::new();
    for round in 0..5 {
        let name = format!("p{round}");
        let platform = json!({"name": name, "base_url": "http://127.0.0.1:9/",
            "data_get_prefix": "data/", "authentication": "none"});
        let (status, _) = call(
            &server,
            Method::POST,
            "/sdts/platforms",
            Some(platform.clone()),
        )
        .await?;
        assert_eq!(status, 201);
        let mut binds = Vec::new();
        for n in 0..8 {
            let id = format!("urn:sm:{round}:{n}");
            let (status, _) = call(
                &server,
                Method::POST,
                "/submodels",
                Some(json!({"id": id, "modelType": "Submodel"})),
            )
            .await?;
            assert_eq!(status, 201);
            let twin = json!({"submodel_id": id, "platform": name, "uuid_on_platform": "d",
                "synchronization": {"iot_attributes": [{"name": "t", "value": "$.t"}],
                    "thingin_attributes": [{"name": "temp", "value": "{t}", "frequency_sec": 3600}]}});
            let (http, url) = (http.clone(), server.url("/sdts/twins"));
            binds.push(tokio::spawn(async move {
                http.post(url)
                    .header("content-type", "application/json")
                    .body(twin.to_string())
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            }));
        }
        let deleted = http
            .delete(server.url(&format!("/sdts/platforms/{name}")))
            .send()
            .await?
            .status()
            .as_u16();
        let mut bound = 0;
        for bind in binds {
            match bind.await?? {
                201 => bound += 1,
                404 => {}
                other => return Err(format!("a bind answered {other}").into()),
            }
        }
        let (_, twins) = call(&server, Method::GET, "/sdts/twins", None).await?;
        let on_it = twins
            .as_array()
            .ok_or("twins is not a list")?
            .iter()
            .filter(|t| t["platform"] == name.as_str())
            .count();
        assert_eq!(on_it, bound, "round {round}");
        match deleted {
            204 => assert_eq!(bound, 0, "round {round}: deleted under {bound} twins"),
            409 => assert!(bound > 0, "round {round}: 409 without twins"),
            other => return Err(format!("the deletion answered {other}").into()),
        }
    }
    Ok(())
}

/// A File inside a collection has its bytes stored; deleting the collection takes them along
/// (in the same transaction), so a new File at the same path does not serve the old bytes.
#[tokio::test]
async fn deleting_a_collection_deletes_the_files_of_the_elements_inside_it() -> TestResult {
    let data = DataDir::new("integrity-files");
    let server = Server::start(&data)?;
    let http = reqwest::Client::new();
    let id = "urn:sm:files";
    let folder = json!({"modelType": "SubmodelElementCollection", "idShort": "Docs", "value": [
        {"modelType": "File", "idShort": "Manual", "contentType": "application/pdf"}]});
    let submodel = json!({"id": id, "modelType": "Submodel", "submodelElements": [folder]});
    let (status, _) = call(&server, Method::POST, "/submodels", Some(submodel.clone())).await?;
    assert_eq!(status, 201);
    let attachment = server.url(&format!(
        "/submodels/{}/submodel-elements/Docs.Manual/attachment",
        b64(id)
    ));
    let (content_type, body) = multipart("manual.pdf", b"%PDF-old-bytes");
    let put = http
        .put(&attachment)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await?;
    assert_eq!(put.status().as_u16(), 204);
    let served = http.get(&attachment).send().await?;
    assert_eq!(served.status().as_u16(), 200);
    assert_eq!(&served.bytes().await?[..], b"%PDF-old-bytes");

    let (status, answer) = call(
        &server,
        Method::DELETE,
        &format!("/submodels/{}/submodel-elements/Docs", b64(id)),
        None,
    )
    .await?;
    assert_eq!(status, 204, "{answer}");
    // The same path again, its File claiming the old file's name.
    let again = json!({"modelType": "SubmodelElementCollection", "idShort": "Docs", "value": [
        {"modelType": "File", "idShort": "Manual", "contentType": "application/pdf",
         "value": "/aasx/files/manual.pdf"}]});
    let (status, answer) = call(
        &server,
        Method::POST,
        &format!("/submodels/{}/submodel-elements", b64(id)),
        Some(again.clone()),
    )
    .await?;
    assert_eq!(status, 201, "{answer}");
    let served = http.get(&attachment).send().await?;
    assert_eq!(
        served.status().as_u16(),
        404,
        "the deleted collection's file is still served: {:?}",
        served.bytes().await?
    );
    Ok(())
}

/// A write the database has no room for answers 507 with a Part 2 body; nothing is changed,
/// and once the write is smaller it goes through.
#[tokio::test]
async fn a_write_past_the_database_size_answers_507_and_changes_nothing() -> TestResult {
    let data = DataDir::new("integrity-full");
    let server = Server::launch(
        &data,
        &Launch::default()
            .arg("--max-database-size")
            .arg((2u32 << 20).to_string()),
    )?;
    let id = "urn:sm:full";
    let small = json!({"id": id, "modelType": "Submodel", "idShort": "Small"});
    let (status, _) = call(&server, Method::POST, "/submodels", Some(small.clone())).await?;
    assert_eq!(status, 201);
    let big = json!({"id": id, "modelType": "Submodel", "idShort": "Big", "submodelElements": [
        {"modelType": "Blob", "idShort": "Data", "contentType": "application/octet-stream",
         "value": "QUJD".repeat(1 << 20)}]});
    let (status, answer) = call(
        &server,
        Method::PUT,
        &format!("/submodels/{}", b64(id)),
        Some(big.clone()),
    )
    .await?;
    assert_eq!(status, 507, "{answer}");
    assert_eq!(answer["messages"][0]["code"], "507");
    let text = answer["messages"][0]["text"].as_str().unwrap_or_default();
    assert!(text.contains("disk is full"), "{text}");
    let (status, stored) = call(
        &server,
        Method::GET,
        &format!("/submodels/{}", b64(id)),
        None,
    )
    .await?;
    assert_eq!((status, &stored["idShort"]), (200, &json!("Small")));
    let (status, _) = call(
        &server,
        Method::PUT,
        &format!("/submodels/{}", b64(id)),
        Some(json!({"id": id, "modelType": "Submodel", "idShort": "Smaller"})),
    )
    .await?;
    assert_eq!(status, 204);
    // The limit holds for the other stores in the file, not only the repository's: platforms
    // are refused past it too (push targets, jobs and twins write through the same writer
    // connection, whose limit this is).
    let mut refused = None;
    for n in 0..40 {
        let platform = json!({"name": format!("p{n}"), "base_url": "http://127.0.0.1:9/",
            "authentication": "none", "description": "d".repeat(200_000)});
        let (status, answer) = call(
            &server,
            Method::POST,
            "/sdts/platforms",
            Some(platform.clone()),
        )
        .await?;
        if status != 201 {
            refused = Some((n, status, answer));
            break;
        }
    }
    let (n, status, answer) = refused.ok_or("40 platforms of 200 KB passed a 2 MiB limit")?;
    assert_eq!(status, 507, "platform {n}: {answer}");
    Ok(())
}

/// A platform on loopback counting the data requests per device.
async fn counting_platform() -> Result<(u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>), Failure>
{
    use axum::extract::{Path, State};
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route(
            "/data/{device}",
            axum::routing::get(
                |State(seen): State<std::sync::Arc<std::sync::Mutex<Vec<String>>>>,
                 Path(device): Path<String>| async move {
                    if let Ok(mut seen) = seen.lock() {
                        seen.push(device);
                    }
                    axum::Json(json!({"t": 1}))
                },
            ),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((port, seen))
}

/// A twin bound and unbound at once: afterwards either it is stored and polls, or it is not
/// stored and nothing polls for it (no poller outlives its binding).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_twin_bound_and_unbound_at_once_leaves_no_poller_without_its_binding() -> TestResult {
    let data = DataDir::new("integrity-twin-race");
    let server = Server::start(&data)?;
    let http = reqwest::Client::new();
    let (port, seen) = counting_platform().await?;
    let platform = json!({"name": "counting", "base_url": format!("http://127.0.0.1:{port}/"),
        "data_get_prefix": "data/", "authentication": "none"});
    let (status, _) = call(
        &server,
        Method::POST,
        "/sdts/platforms",
        Some(platform.clone()),
    )
    .await?;
    assert_eq!(status, 201);
    for round in 0..40 {
        let id = format!("urn:sm:race:{round}");
        let (status, _) = call(
            &server,
            Method::POST,
            "/submodels",
            Some(json!({"id": id, "modelType": "Submodel"})),
        )
        .await?;
        assert_eq!(status, 201);
        let twin = json!({"submodel_id": id, "platform": "counting",
            "uuid_on_platform": format!("device{round}"),
            "synchronization": {"iot_attributes": [{"name": "t", "value": "$.t"}],
                "thingin_attributes": [{"name": "temp", "value": "{t}", "frequency_sec": 1}]}});
        let (bind_http, bind_url) = (http.clone(), server.url("/sdts/twins"));
        let bind = tokio::spawn(async move {
            bind_http
                .post(bind_url)
                .header("content-type", "application/json")
                .body(twin.to_string())
                .send()
                .await
        });
        // Unbinds as soon as the binding is stored: lands between storing and polling.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while std::time::Instant::now() < deadline {
            let unbound = http
                .delete(server.url(&format!("/sdts/twins/{}", b64(&id))))
                .send()
                .await?;
            if unbound.status().as_u16() == 204 {
                break;
            }
        }
        let bound = bind.await??;
        assert_eq!(bound.status().as_u16(), 201);
    }
    let (_, twins) = call(&server, Method::GET, "/sdts/twins", None).await?;
    let stored: Vec<String> = twins
        .as_array()
        .ok_or("twins is not a list")?
        .iter()
        .filter_map(|t| t["uuid_on_platform"].as_str().map(str::to_owned))
        .collect();
    // Pollers of unbound twins would keep asking every second: wait for a few polls.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let before = seen.lock().map(|s| s.len()).map_err(|_| "lock")?;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let late: Vec<String> = seen.lock().map_err(|_| "lock")?[before..].to_vec();
    let orphans: Vec<&String> = late.iter().filter(|d| !stored.contains(d)).collect();
    assert!(
        orphans.is_empty(),
        "devices polled without a stored twin: {orphans:?} (stored: {stored:?})"
    );
    Ok(())
}

/// Files' bytes stay with the elements that hold them: deleting the first element of a list
/// moves the second's bytes along with it (its index changed), and a File whose value no
/// longer names its file has none.
#[tokio::test]
async fn a_files_bytes_follow_its_element_and_leave_with_its_value() -> TestResult {
    let data = DataDir::new("integrity-list-files");
    let server = Server::start(&data)?;
    let http = reqwest::Client::new();
    let id = "urn:sm:list-files";
    let file = json!({"modelType": "File", "contentType": "application/pdf"});
    let submodel = json!({"id": id, "modelType": "Submodel", "submodelElements": [
        {"modelType": "SubmodelElementList", "idShort": "Ls", "typeValueListElement": "File",
         "value": [file, file]}]});
    let (status, answer) =
        call(&server, Method::POST, "/submodels", Some(submodel.clone())).await?;
    assert_eq!(status, 201, "{answer}");
    let element =
        |path: &str| server.url(&format!("/submodels/{}/submodel-elements/{path}", b64(id)));
    for (path, name, bytes) in [
        ("Ls%5B0%5D", "zero.pdf", &b"BYTES-OF-ZERO"[..]),
        ("Ls%5B1%5D", "one.pdf", b"BYTES-OF-ONE"),
    ] {
        let (content_type, body) = multipart(name, bytes);
        let put = http
            .put(format!("{}/attachment", element(path)))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await?;
        assert_eq!(put.status().as_u16(), 204, "{}", put.text().await?);
    }
    let deleted = http.delete(element("Ls%5B0%5D")).send().await?;
    assert_eq!(deleted.status().as_u16(), 204, "{}", deleted.text().await?);
    let served = http
        .get(format!("{}/attachment", element("Ls%5B0%5D")))
        .send()
        .await?;
    assert_eq!(served.status().as_u16(), 200);
    // The uploader's content type is served, but never sniffed or run by a browser.
    let header = |name: &str| {
        served
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("content-security-policy"), "sandbox");
    assert!(header("content-disposition").starts_with("attachment"));
    assert_eq!(
        &served.bytes().await?[..],
        b"BYTES-OF-ONE",
        "the element now at Ls[0] is the one whose file is ONE"
    );
    // A new value naming another file: the old bytes are not served for it.
    let patched = http
        .patch(format!("{}/$value", element("Ls%5B0%5D")))
        .header("content-type", "application/json")
        .body(r#"{"contentType": "application/pdf", "value": "/aasx/files/other.pdf"}"#)
        .send()
        .await?;
    assert_eq!(patched.status().as_u16(), 204, "{}", patched.text().await?);
    let served = http
        .get(format!("{}/attachment", element("Ls%5B0%5D")))
        .send()
        .await?;
    assert_eq!(
        served.status().as_u16(),
        404,
        "stale bytes: {:?}",
        served.bytes().await?
    );
    Ok(())
}

/// Two Files given files of the same name keep their own bytes: the second upload's value is
/// numbered (`report-2.txt`) instead of naming the first one's file.
#[tokio::test]
async fn files_uploaded_under_one_name_keep_their_own_bytes() -> TestResult {
    let data = DataDir::new("integrity-same-name");
    let server = Server::start(&data)?;
    let http = reqwest::Client::new();
    let id = "urn:sm:same-name";
    let submodel = json!({"id": id, "modelType": "Submodel", "submodelElements": [
        {"modelType": "File", "idShort": "First", "contentType": "text/plain"},
        {"modelType": "File", "idShort": "Second", "contentType": "text/plain"}]});
    let (status, _) = call(&server, Method::POST, "/submodels", Some(submodel.clone())).await?;
    assert_eq!(status, 201);
    let element =
        |path: &str| server.url(&format!("/submodels/{}/submodel-elements/{path}", b64(id)));
    for (path, bytes) in [("First", &b"FIRST"[..]), ("Second", b"SECOND")] {
        let (content_type, body) = multipart("report.txt", bytes);
        let put = http
            .put(format!("{}/attachment", element(path)))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await?;
        assert_eq!(put.status().as_u16(), 204, "{}", put.text().await?);
    }
    for (path, bytes, value) in [
        ("First", &b"FIRST"[..], "/aasx/files/report.txt"),
        ("Second", b"SECOND", "/aasx/files/report-2.txt"),
    ] {
        let served = http
            .get(format!("{}/attachment", element(path)))
            .send()
            .await?;
        assert_eq!(&served.bytes().await?[..], bytes, "{path}");
        let (_, file) = call(
            &server,
            Method::GET,
            &format!("/submodels/{}/submodel-elements/{path}", b64(id)),
            None,
        )
        .await?;
        assert_eq!(file["value"], value, "{path}");
    }
    Ok(())
}
