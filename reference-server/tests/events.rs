//! Change events of the server, seen by a real subscriber: the embedded broker, and an external
//! Mosquitto that goes down, and a server killed before it published.

use std::collections::BTreeSet;
use std::time::Duration;

use events_core::{ChangeEvent, Encoding, ReceivedEvent};
use serde_json::{Value, json};

#[path = "../../events-core/tests/support/mod.rs"]
mod mqtt_support;
mod support;

use mqtt_support::Mosquitto;
use support::{Collector, DataDir, Failure, Launch, Server, TestResult, b64};

async fn send(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<&Value>,
) -> Result<u16, Failure> {
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    if status >= 300 {
        return Err(format!("{status}: {}", response.text().await?).into());
    }
    Ok(status)
}

fn shell(id: &str, submodel: &str) -> Value {
    json!({"id": id, "modelType": "AssetAdministrationShell",
           "assetInformation": {"assetKind": "Instance", "globalAssetId": format!("{id}/asset")},
           "submodels": [{"type": "ModelReference", "keys": [{"type": "Submodel", "value": submodel}]}]})
}

fn submodel(id: &str, semantic_id: &str) -> Value {
    json!({"id": id, "modelType": "Submodel", "idShort": "Data",
           "semanticId": {"type": "ExternalReference", "keys": [{"type": "GlobalReference", "value": semantic_id}]},
           "submodelElements": [{"modelType": "Property", "idShort": "Temperature", "valueType": "xs:double", "value": "21.5"}]})
}

fn distinct_topics(messages: &[(String, Vec<u8>)]) -> BTreeSet<&str> {
    messages.iter().map(|(topic, _)| topic.as_str()).collect()
}

#[tokio::test]
async fn changes_of_shells_and_submodels_arrive_as_twinsphere_envelopes() -> TestResult {
    let data = DataDir::new("events-embedded");
    let server = Server::launch(&data, &Launch::default())?;
    let mut collector = Collector::subscribe(server.mqtt_port, "watcher", "twinsphere/#").await?;
    let http = reqwest::Client::new();
    let (aas, sm) = ("urn:aas:events:1", "urn:sm:events:1");
    use reqwest::Method;
    send(
        &http,
        Method::POST,
        server.url("/shells"),
        Some(&shell(aas, sm)),
    )
    .await?;
    send(
        &http,
        Method::POST,
        server.url("/submodels"),
        Some(&submodel(sm, "urn:sem:1")),
    )
    .await?;
    let mut changed = submodel(sm, "urn:sem:1");
    changed["submodelElements"][0]["value"] = json!("22.0");
    let sm_url = server.url(&format!("/submodels/{}", b64(sm)));
    let aas_url = server.url(&format!("/shells/{}", b64(aas)));
    send(&http, Method::PUT, sm_url.clone(), Some(&changed)).await?;
    // Element changes announce the submodel's `updated` event.
    let added = json!({"modelType": "Property", "idShort": "Humidity", "valueType": "xs:int", "value": "40"});
    let elements = format!("{sm_url}/submodel-elements");
    send(&http, Method::POST, elements.clone(), Some(&added)).await?;
    send(
        &http,
        Method::PATCH,
        format!("{elements}/Humidity/$value"),
        Some(&json!(41)),
    )
    .await?;
    send(&http, Method::DELETE, format!("{elements}/Humidity"), None).await?;
    send(&http, Method::DELETE, sm_url, None).await?;
    let mut renamed = shell(aas, sm);
    renamed["idShort"] = json!("Renamed");
    send(&http, Method::PUT, aas_url.clone(), Some(&renamed)).await?;
    send(&http, Method::DELETE, aas_url, None).await?;

    let messages = collector
        .until(Duration::from_secs(10), |m| m.len() >= 9)
        .await;
    let topics: Vec<&str> = messages.iter().map(|(t, _)| t.as_str()).collect();
    let (a, s) = (b64(aas), b64(sm));
    assert_eq!(
        topics,
        [
            format!("twinsphere/shells/{a}/created"),
            format!("twinsphere/submodels/{s}/created"),
            format!("twinsphere/submodels/{s}/updated"),
            format!("twinsphere/submodels/{s}/updated"),
            format!("twinsphere/submodels/{s}/updated"),
            format!("twinsphere/submodels/{s}/updated"),
            format!("twinsphere/submodels/{s}/deleted"),
            format!("twinsphere/shells/{a}/updated"),
            format!("twinsphere/shells/{a}/deleted"),
        ]
    );
    let encoding = Encoding::twinsphere();
    let mut values = Vec::new();
    for (topic, payload) in &messages {
        match encoding.decode(topic, payload, 1 << 24)? {
            ReceivedEvent::Envelope(ChangeEvent::Submodel {
                submodel,
                affected_shell_ids,
                ..
            }) => {
                assert_eq!(affected_shell_ids, [aas], "{topic}");
                values.push(format!("{:?}", submodel.submodel_elements));
            }
            ReceivedEvent::Envelope(ChangeEvent::Shell { shell, .. }) => {
                assert_eq!(shell.id, aas)
            }
            other => return Err(format!("{topic}: {other:?}").into()),
        }
    }
    assert!(values[1].contains("22.0") && values[0].contains("21.5"));
    assert!(values[2].contains("Humidity") && values[2].contains("40"));
    assert!(values[3].contains("41"));
    assert!(!values[4].contains("Humidity"));

    let dir = data.0.with_extension("payloads");
    std::fs::create_dir_all(&dir)?;
    let mut files = Vec::new();
    for (i, (_, payload)) in messages.iter().enumerate() {
        let file = dir.join(format!("{i}.gz"));
        std::fs::write(&file, payload)?;
        files.push(file);
    }
    let environments = aas_conformance_tests::python_unpack_envelopes(&files);
    aas_conformance_tests::assert_aas_core_accepts(&environments);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[tokio::test]
async fn events_of_changes_made_while_the_broker_is_down_arrive_after_it_restarts() -> TestResult {
    let mut broker = Mosquitto::persistent();
    let data = DataDir::new("events-outage");
    let launch = Launch {
        external_broker: Some(format!("mqtt://127.0.0.1:{}", broker.port)),
        ..Launch::default()
    };
    let server = Server::launch(&data, &launch)?;
    let mut collector = Collector::subscribe(broker.port, "outage-watcher", "twinsphere/#").await?;
    let http = reqwest::Client::new();
    let post = |id: String| {
        let http = http.clone();
        let url = server.url("/submodels");
        async move {
            send(
                &http,
                reqwest::Method::POST,
                url,
                Some(&submodel(&id, "urn:sem")),
            )
            .await
        }
    };
    post("urn:sm:before".into()).await?;
    let first = collector
        .until(Duration::from_secs(10), |m| !m.is_empty())
        .await;
    assert_eq!(
        first.len(),
        1,
        "the publisher is connected before the outage"
    );

    broker.terminate();
    for i in 0..200 {
        post(format!("urn:sm:outage:{i}")).await?;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    broker.restart();
    // Only the outage's topics count: the broker may deliver the event from before the outage
    // again after its restart (QoS 1 is at least once), and counting it ended the wait one short.
    let expected: BTreeSet<String> = (0..200)
        .map(|i| {
            format!(
                "twinsphere/submodels/{}/created",
                b64(&format!("urn:sm:outage:{i}"))
            )
        })
        .collect();
    let arrived = |m: &[(String, Vec<u8>)]| {
        distinct_topics(m)
            .into_iter()
            .filter(|topic| expected.contains(*topic))
            .count()
    };
    let messages = collector
        .until(Duration::from_secs(60), |m| arrived(m) >= expected.len())
        .await;
    let topics = distinct_topics(&messages);
    for topic in &expected {
        assert!(
            topics.contains(topic.as_str()),
            "missing {topic} ({} of {} arrived)",
            arrived(&messages),
            expected.len()
        );
    }
    drop(server);
    Ok(())
}

#[tokio::test]
async fn events_held_in_the_outbox_are_published_after_a_kill_9_and_restart() -> TestResult {
    let broker = Mosquitto::plain();
    let url = format!("mqtt://127.0.0.1:{}", broker.port);
    let data = DataDir::new("events-kill");
    let held = Launch {
        external_broker: Some(url.clone()),
        hold_events: true,
        ..Launch::default()
    };
    let mut server = Server::launch(&data, &held)?;
    let mut collector = Collector::subscribe(broker.port, "kill-watcher", "twinsphere/#").await?;
    let http = reqwest::Client::new();
    for i in 0..50 {
        let id = format!("urn:sm:held:{i}");
        send(
            &http,
            reqwest::Method::POST,
            server.url("/submodels"),
            Some(&submodel(&id, "urn:sem")),
        )
        .await?;
    }
    assert_eq!(server.outbox_topics()?.len(), 50);
    assert!(
        collector.next(Duration::from_millis(500)).await.is_none(),
        "held back"
    );
    server.kill();

    let _restarted = Server::launch(
        &data,
        &Launch {
            external_broker: Some(url),
            ..Launch::default()
        },
    )?;
    let messages = collector
        .until(Duration::from_secs(30), |m| distinct_topics(m).len() >= 50)
        .await;
    assert_eq!(distinct_topics(&messages).len(), 50);
    Ok(())
}

#[tokio::test]
async fn configured_cloud_events_and_semantic_id_filter_shape_what_is_published() -> TestResult {
    let data = DataDir::new("events-config");
    std::fs::create_dir_all(&data.0)?;
    let config = data.0.join("server.toml");
    std::fs::write(
        &config,
        "[events]\ncloud-events = \"http://127.0.0.1:1/api\"\n\
         submodel-semantic-ids = [\"urn:exact\", \"$regex=^urn:keep:\"]\n",
    )?;
    let server = Server::launch(
        &data,
        &Launch::default()
            .arg("--config")
            .arg(config.display().to_string()),
    )?;
    let mut collector = Collector::subscribe(server.mqtt_port, "config-watcher", "#").await?;
    let http = reqwest::Client::new();
    for (id, semantic_id) in [
        ("urn:sm:dropped", "urn:other"),
        ("urn:sm:kept", "urn:keep:1"),
        ("urn:sm:exact", "urn:exact"),
    ] {
        send(
            &http,
            reqwest::Method::POST,
            server.url("/submodels"),
            Some(&submodel(id, semantic_id)),
        )
        .await?;
    }
    let messages = collector
        .until(Duration::from_secs(10), |m| m.len() >= 4)
        .await;
    assert!(collector.next(Duration::from_millis(500)).await.is_none());
    let topics = distinct_topics(&messages);
    let expected: BTreeSet<String> = ["urn:sm:kept", "urn:sm:exact"]
        .iter()
        .flat_map(|id| {
            [
                format!("twinsphere/submodels/{}/created", b64(id)),
                format!("aas-events/submodels/{}/created", b64(id)),
            ]
        })
        .collect();
    assert_eq!(topics, expected.iter().map(String::as_str).collect());
    let cloud = Encoding::cloud_events("http://127.0.0.1:1/api");
    for (topic, payload) in messages
        .iter()
        .filter(|(t, _)| t.starts_with("aas-events/"))
    {
        assert!(matches!(
            cloud.decode(topic, payload, 1 << 24)?,
            ReceivedEvent::CloudEvent(_)
        ));
    }
    Ok(())
}
