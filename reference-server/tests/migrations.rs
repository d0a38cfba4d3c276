//! Databases of earlier servers open, migrate and serve the same data; a database of a newer
//! schema is refused.
//!
//! `fixtures/542e431/repository.sqlite` was written over HTTP by the server of commit 542e431
//! (before versioned migrations, the event log and recorded AAS versions), with its events
//! held in the outbox (`AAS_SERVER_HOLD_EVENTS=1`), then stopped with SIGTERM and vacuumed:
//! shells `urn:fixture:aas:1..3` (idShort `Shell<n>`, global asset id `urn:fixture:asset:<n>`,
//! specific asset ids `serialNumber` = `SN-<n>` and `line` = `L<n % 2>`, each referring to
//! submodel `<n>`), submodels `urn:fixture:sm:1..3` (idShort `Nameplate<n>`, semantic id
//! `urn:fixture:semantic:<n % 2>`; submodel 3 replaced, with semantic id
//! `urn:fixture:semantic:1`), a File `Manual` in submodel 1 with an attachment
//! (`manual.pdf`), a concept description `urn:fixture:cd:1` (isCaseOf `urn:fixture:case:1`),
//! and a submodel created and deleted (`urn:fixture:sm:gone`).

use serde_json::Value;

mod support;

use support::{DataDir, Launch, Server, TestResult, b64, call};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/542e431/repository.sqlite"
);

/// A data directory holding a copy of the fixture.
fn copy_of_fixture(name: &str) -> Result<DataDir, Box<dyn std::error::Error>> {
    let data = DataDir::new(name);
    std::fs::create_dir_all(&data.0)?;
    std::fs::copy(FIXTURE, data.0.join("repository.sqlite"))?;
    Ok(data)
}

/// What a table of the fixture holds: (id, JSON) in the order written.
fn stored(table: &str) -> Result<Vec<(String, Value)>, Box<dyn std::error::Error>> {
    let connection =
        rusqlite::Connection::open_with_flags(FIXTURE, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut statement =
        connection.prepare(&format!("SELECT id, json FROM {table} ORDER BY rowid"))?;
    let rows = statement
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(id, json)| Ok((id, serde_json::from_str(&json)?)))
        .collect()
}

/// An outbox entry: its topic and payload.
type Entry = (String, Vec<u8>);

/// The outbox, in order.
fn outbox(path: &std::path::Path) -> Result<Vec<Entry>, Box<dyn std::error::Error>> {
    let connection = rusqlite::Connection::open(path)?;
    let mut statement =
        connection.prepare("SELECT topic, payload FROM outbox ORDER BY sequence")?;
    let rows = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

fn ids(body: &Value) -> Vec<String> {
    body["result"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item["id"].as_str().map(str::to_owned))
        .collect()
}

async fn get(server: &Server, path: &str) -> Result<Value, Box<dyn std::error::Error>> {
    let (status, body) = call(server, reqwest::Method::GET, path, None).await?;
    assert_eq!(status, 200, "{path}: {body}");
    Ok(body)
}

#[tokio::test]
async fn a_data_directory_of_542e431_opens_migrates_and_serves_the_same_data() -> TestResult {
    let data = copy_of_fixture("migrate-542e431")?;
    let database = data.0.join("repository.sqlite");
    let events_before = outbox(&database)?;
    assert!(events_before.len() >= 10, "the fixture holds its events");
    // The fixture's data is V3.0 (542e431 recorded no version): served as it is by a V3.0
    // server (a V3.1 server would convert it first; versions.rs covers that).
    let server = Server::launch(
        &data,
        &Launch::hold_events().arg("--aas-version").arg("3.0"),
    )?;

    // Every element reads back as stored, and listings keep the order of creation.
    let shells = stored("shells")?;
    let submodels = stored("submodels")?;
    let concept_descriptions = stored("concept_descriptions")?;
    assert_eq!(
        (shells.len(), submodels.len(), concept_descriptions.len()),
        (3, 3, 1)
    );
    for (collection, elements) in [
        ("shells", &shells),
        ("submodels", &submodels),
        ("concept-descriptions", &concept_descriptions),
    ] {
        for (id, json) in elements {
            let body = get(&server, &format!("/{collection}/{}", b64(id))).await?;
            assert_eq!(&body, json, "{collection} {id}");
        }
        let listed = get(&server, &format!("/{collection}")).await?;
        let expected: Vec<String> = elements.iter().map(|(id, _)| id.clone()).collect();
        assert_eq!(ids(&listed), expected, "{collection}");
    }

    // Filters find the old rows (their keys were filled by the migration), page by page.
    let serial = b64(r#"{"name":"serialNumber","value":"SN-2"}"#);
    let body = get(&server, &format!("/shells?assetIds={serial}")).await?;
    assert_eq!(ids(&body), ["urn:fixture:aas:2"]);
    let line = b64(r#"{"name":"line","value":"L1"}"#);
    let first = get(&server, &format!("/shells?assetIds={line}&limit=1")).await?;
    assert_eq!(ids(&first), ["urn:fixture:aas:1"]);
    let cursor = first["paging_metadata"]["cursor"]
        .as_str()
        .unwrap_or_default();
    let second = get(
        &server,
        &format!("/shells?assetIds={line}&limit=1&cursor={cursor}"),
    )
    .await?;
    assert_eq!(ids(&second), ["urn:fixture:aas:3"]);
    assert!(
        second["paging_metadata"].get("cursor").is_none(),
        "{second}"
    );
    let global = b64(r#"{"name":"globalAssetId","value":"urn:fixture:asset:3"}"#);
    let body = get(
        &server,
        &format!("/shells?assetIds={global}&idShort=Shell3"),
    )
    .await?;
    assert_eq!(ids(&body), ["urn:fixture:aas:3"]);
    let semantic = b64("urn:fixture:semantic:1");
    let body = get(&server, &format!("/submodels?semanticId={semantic}")).await?;
    assert_eq!(ids(&body), ["urn:fixture:sm:1", "urn:fixture:sm:3"]);
    let body = get(&server, "/submodels?idShort=Nameplate2").await?;
    assert_eq!(ids(&body), ["urn:fixture:sm:2"]);
    let case = b64("urn:fixture:case:1");
    let body = get(&server, &format!("/concept-descriptions?isCaseOf={case}")).await?;
    assert_eq!(ids(&body), ["urn:fixture:cd:1"]);

    // The attachment.
    let response = reqwest::get(server.url(&format!(
        "/submodels/{}/submodel-elements/Manual/attachment",
        b64("urn:fixture:sm:1")
    )))
    .await?;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/pdf")
    );
    assert_eq!(&response.bytes().await?[..], b"%PDF-1.4 fixture manual\n");

    // The events 542e431 held are still in the outbox, unchanged, to be published; a new
    // change is logged in the event feed as well.
    assert_eq!(outbox(&database)?, events_before);
    let (status, _) = call(
        &server,
        reqwest::Method::DELETE,
        &format!("/shells/{}", b64("urn:fixture:aas:2")),
        None,
    )
    .await?;
    assert_eq!(status, 204);
    let feed = get(&server, "/events").await?;
    let topics: Vec<&str> = feed["result"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|event| event["topic"].as_str())
        .collect();
    assert_eq!(
        topics,
        [format!(
            "twinsphere/shells/{}/deleted",
            b64("urn:fixture:aas:2")
        )]
    );
    let after = outbox(&database)?;
    assert_eq!(after.len(), events_before.len() + 1);
    assert_eq!(after[..events_before.len()], events_before[..]);

    // The schema is the newest, recorded for the repository's tables.
    let connection = rusqlite::Connection::open(&database)?;
    let version: u32 = connection.query_row(
        "SELECT version FROM schema_versions WHERE store = 'repository'",
        [],
        |row| row.get(0),
    )?;
    assert!(version >= 3, "{version}");
    Ok(())
}

#[test]
fn a_database_of_a_newer_schema_is_refused_with_a_clear_message() -> TestResult {
    let data = copy_of_fixture("migrate-newer")?;
    let database = data.0.join("repository.sqlite");
    // As a newer server would leave it: its version recorded beyond what this one knows.
    let connection = rusqlite::Connection::open(&database)?;
    connection.execute_batch(
        "CREATE TABLE schema_versions (store TEXT PRIMARY KEY NOT NULL, version INTEGER NOT NULL);
         INSERT INTO schema_versions VALUES ('repository', 999);",
    )?;
    drop(connection);
    let Err(error) = Server::launch(&data, &Launch::default().arg("--aas-version").arg("3.0"))
    else {
        panic!("a server started on a database of a newer schema");
    };
    let text = error.to_string();
    assert!(
        text.contains("schema version 999") && text.contains("use a newer server"),
        "{text}"
    );
    Ok(())
}

/// 542e431 made the push and twin tables with its stores' bootstraps (the fixture holds them,
/// empty): rows written there are kept, served, and the tables get their versions.
#[tokio::test]
async fn the_push_and_twin_tables_of_542e431_are_adopted_with_their_rows() -> TestResult {
    let data = copy_of_fixture("migrate-542e431-stores")?;
    let database = data.0.join("repository.sqlite");
    let job = serde_json::json!({
        "identifier": "job-of-542e431", "state": "completed",
        "createdOn": "2026-01-02T03:04:05Z", "updatedOn": "2026-01-02T03:04:06Z",
        "pushTargetName": "lake", "serializationFormat": "application/json",
        "submodelIds": ["urn:fixture:sm:1"]});
    let platform = serde_json::json!({
        "name": "iot", "base_url": "http://127.0.0.1:9", "authentication": "none"});
    {
        let old = rusqlite::Connection::open(&database)?;
        old.execute(
            "INSERT INTO push_jobs (identifier, state, json) VALUES (?1, 'completed', ?2)",
            ["job-of-542e431", &job.to_string()],
        )?;
        old.execute(
            "INSERT INTO sdt_platforms (name, json) VALUES ('iot', ?1)",
            [platform.to_string()],
        )?;
    }
    let server = Server::launch(&data, &Launch::default().arg("--aas-version").arg("3.0"))?;
    let stored = get(&server, "/sphere/push/jobs/job-of-542e431").await?;
    assert_eq!(stored["identifier"], "job-of-542e431", "{stored}");
    assert_eq!(stored["state"], "completed", "{stored}");
    let platforms = get(&server, "/sdts/platforms").await?;
    assert!(
        platforms.to_string().contains(r#""name":"iot""#),
        "{platforms}"
    );
    let connection = rusqlite::Connection::open(&database)?;
    for store in ["push", "twins"] {
        let version: u32 = connection.query_row(
            "SELECT version FROM schema_versions WHERE store = ?1",
            [store],
            |row| row.get(0),
        )?;
        assert!(version >= 1, "{store}: {version}");
    }
    Ok(())
}
