//! `serve --database-url postgres://…`: the server on a private PostgreSQL cluster with an
//! external Mosquitto, as replicas run it; and what it refuses to start with.

use std::time::Duration;

use aas_conformance_tests::mosquitto::Mosquitto;
use aas_conformance_tests::postgres::Postgres;
use reqwest::Method;

mod support;
use support::{Api, Collector, DataDir, Launch, Server, TestResult, b64};

/// A key file of 32 bytes in `dir`.
fn key_file(dir: &DataDir) -> Result<String, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(&dir.0)?;
    let path = dir.0.join("shared.key");
    let key: Vec<u8> = (0u8..32)
        .map(|n| n.wrapping_mul(37).wrapping_add(11))
        .collect();
    std::fs::write(&path, key)?;
    Ok(path.display().to_string())
}

fn on_postgres(url: &str, broker: &Mosquitto, key: &str) -> Launch {
    Launch {
        external_broker: Some(format!("mqtt://127.0.0.1:{}", broker.port)),
        ..Launch::default()
    }
    .arg("--database-url")
    .arg(url)
    .arg("--secret-key-file")
    .arg(key)
}

fn submodel(id: &str, category: &str) -> Vec<u8> {
    serde_json::json!({"id": id, "modelType": "Submodel", "category": category})
        .to_string()
        .into_bytes()
}

#[tokio::test]
async fn a_server_on_postgresql_serves_publishes_and_a_second_process_reads_its_data() -> TestResult
{
    let cluster = Postgres::start();
    let broker = Mosquitto::plain();
    let keys = DataDir::new("pg-mode-key");
    let key = key_file(&keys)?;
    let first_data = DataDir::new("pg-mode-first");
    let mut first = Server::launch(&first_data, &on_postgres(&cluster.url(), &broker, &key))?;
    let mut collector = Collector::subscribe(broker.port, "pg-watcher", "twinsphere/#").await?;
    for n in 0..5 {
        let body = submodel(&format!("urn:sm:pg:{n}"), "created");
        let (status, _, answer) = first
            .request(Method::POST, "/submodels", Some(("application/json", body)))
            .await?;
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
    }
    let path = format!("/submodels/{}", b64("urn:sm:pg:0"));
    let changed = submodel("urn:sm:pg:0", "changed");
    let (status, _, _) = first
        .request(Method::PUT, &path, Some(("application/json", changed)))
        .await?;
    assert_eq!(status, 204);
    let messages = collector
        .until(Duration::from_secs(20), |m| m.len() >= 6)
        .await;
    assert_eq!(messages.len(), 6, "one event per change");
    assert!(
        first
            .log_text()
            .contains("storage: PostgreSQL at postgres://…@127.0.0.1:"),
        "{}",
        first.log_text()
    );
    assert!(
        !first_data.0.join("repository.sqlite").exists(),
        "nothing is stored under --data in PostgreSQL mode"
    );
    first.terminate()?;

    // Another process (a replica started later, with a data directory of its own) reads it.
    let second_data = DataDir::new("pg-mode-second");
    let second = Server::launch(&second_data, &on_postgres(&cluster.url(), &broker, &key))?;
    let (status, _, body) = second.request(Method::GET, &path, None).await?;
    assert_eq!(status, 200);
    let read: serde_json::Value = serde_json::from_slice(&body)?;
    assert_eq!(read["category"], "changed");
    let (status, _, body) = second
        .request(Method::GET, "/submodels?limit=3", None)
        .await?;
    assert_eq!(status, 200);
    let page: serde_json::Value = serde_json::from_slice(&body)?;
    assert_eq!(page["result"].as_array().map(Vec::len), Some(3));
    let cursor = page["paging_metadata"]["cursor"]
        .as_str()
        .ok_or("no cursor")?;
    let (_, _, body) = second
        .request(
            Method::GET,
            &format!("/submodels?limit=3&cursor={cursor}"),
            None,
        )
        .await?;
    let rest: serde_json::Value = serde_json::from_slice(&body)?;
    assert_eq!(rest["result"].as_array().map(Vec::len), Some(2));
    Ok(())
}

/// Refused before anything is served, each with what to do about it.
#[tokio::test]
async fn postgresql_mode_refuses_to_start_without_a_given_key_an_external_broker_or_a_postgres_url()
-> TestResult {
    let cluster = Postgres::start();
    let broker = Mosquitto::plain();
    let data = DataDir::new("pg-mode-refusals");
    let external = Some(format!("mqtt://127.0.0.1:{}", broker.port));
    let without_key = Launch {
        external_broker: external.clone(),
        ..Launch::default()
    }
    .arg("--database-url")
    .arg(cluster.url());
    let embedded = Launch::default()
        .arg("--database-url")
        .arg(cluster.url())
        .arg("--secret-key-file")
        .arg(key_file(&data)?);
    let not_postgres = Launch {
        external_broker: external,
        ..Launch::default()
    }
    .arg("--database-url")
    .arg("mysql://root:s3cret@127.0.0.1/aas");
    for (launch, says) in [
        (without_key, "every replica must use the same secret key"),
        (embedded, "events go to an external broker"),
        (not_postgres, "must be a PostgreSQL URL"),
    ] {
        let refused = Server::launch(&data, &launch).err().ok_or("it started")?;
        let text = refused.to_string();
        assert!(text.contains(says), "{says}: {text}");
        assert!(
            !text.contains("s3cret"),
            "the password is never shown: {text}"
        );
    }
    Ok(())
}
