//! Synchronized twins through the API, with a platform on loopback: both descriptions of the
//! contract verbatim, values and marks in the submodel, a change through the repository API
//! sent as the rendered command, credentials kept sealed, the twin gone with its submodel.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};

mod support;

use support::{DataDir, Failure, Server, TestResult, b64, call};

/// What the test platform serves and received.
#[derive(Default)]
struct Platform {
    data: Mutex<Value>,
    commands: Mutex<Vec<(String, Value, Option<String>)>>,
    keys: Mutex<Vec<Option<String>>>,
}

async fn platform(state: Arc<Platform>) -> Result<u16, Failure> {
    let app = Router::new()
        .route(
            "/data/{device}",
            get(
                |State(p): State<Arc<Platform>>, headers: HeaderMap| async move {
                    p.keys
                        .lock()
                        .map(|mut k| {
                            k.push(
                                headers
                                    .get("x-api-key")
                                    .and_then(|v| v.to_str().ok())
                                    .map(str::to_owned),
                            )
                        })
                        .ok();
                    axum::Json(p.data.lock().map(|d| d.clone()).unwrap_or_default())
                },
            ),
        )
        .route(
            "/commands/{device}",
            post(
                |State(p): State<Arc<Platform>>,
                 Path(device): Path<String>,
                 headers: HeaderMap,
                 axum::Json(body): axum::Json<Value>| async move {
                    let key = headers
                        .get("x-api-key")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    p.commands
                        .lock()
                        .map(|mut c| c.push((device, body, key)))
                        .ok();
                    "ok"
                },
            ),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(port)
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

fn position_description() -> Value {
    json!({"iot_attributes": [
       {"name": "x", "value": "$[?value.addr='3ef8'].value.position[0]"},
       {"name": "y", "value": "$[?value.addr='3ef8'].value.position[1]"},
       {"name": "z", "value": "$[?value.addr='3ef8'].value.position[2]"}],
     "thingin_attributes": [
       {"name": "DT:data", "value": "{{\"coordX\":{x},\"coordY\":{y},\"coordZ\":{z}}}",
        "value_template": "python", "frequency_sec": 30}]})
}

async fn until(
    server: &Server,
    path: &str,
    done: impl Fn(&Value) -> bool,
) -> Result<Value, Failure> {
    for _ in 0..200 {
        let (_, value) = call(server, Method::GET, path, None).await?;
        if done(&value) {
            return Ok(value);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!(
        "{path} did not reach the expected state within 10 s; server log:\n{}",
        server.log_text()
    )
    .into())
}

fn element<'a>(submodel: &'a Value, id_short: &str) -> Option<&'a Value> {
    submodel["submodelElements"]
        .as_array()?
        .iter()
        .find(|e| e["idShort"] == id_short)
}

fn extension<'a>(submodel: &'a Value, name: &str) -> Option<&'a Value> {
    submodel["extensions"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)
}

#[tokio::test]
async fn both_contract_descriptions_synchronize_and_a_change_becomes_the_rendered_command()
-> TestResult {
    let device = Arc::new(Platform::default());
    *device.data.lock().map_err(|_| "lock")? = json!([{"value": {"state": {"on": true, "bri": 254, "sat": 144},
        "addr": "3ef8", "position": [1.5, 2, 3]}}, {"value": {"addr": "aaaa", "position": [9, 9, 9]}}]);
    let port = platform(device.clone()).await?;
    let data = DataDir::new("twins");
    let server = Server::start(&data)?;
    for id in ["urn:sm:bulb", "urn:sm:position"] {
        assert_eq!(
            call(
                &server,
                Method::POST,
                "/submodels",
                Some(json!({"id": id, "modelType": "Submodel"}))
            )
            .await?
            .0,
            201
        );
    }
    let platform_definition = json!({"name": "test_platform", "base_url": format!("http://127.0.0.1:{port}/"),
        "data_get_prefix": "data/", "command_prefix": "commands/", "authentication": "api_key", "token_header": "X-API-KEY"});
    assert_eq!(
        call(
            &server,
            Method::POST,
            "/sdts/platforms",
            Some(platform_definition)
        )
        .await?
        .0,
        201
    );
    let api_key = "platform-key-7f3a9c";
    let bulb = json!({"submodel_id": "urn:sm:bulb", "platform": "test_platform", "uuid_on_platform": "bulb1",
        "type": "light", "description": "the desk lamp", "api_key": api_key, "synchronization": bulb_description()});
    let (status, shown) = call(&server, Method::POST, "/sdts/twins", Some(bulb.clone())).await?;
    assert_eq!(status, 201, "{shown}");
    assert!(
        shown.get("api_key").is_none() && !shown.to_string().contains(api_key),
        "{shown}"
    );
    assert_eq!(
        call(&server, Method::POST, "/sdts/twins", Some(bulb))
            .await?
            .0,
        409
    );
    let position = json!({"submodel_id": "urn:sm:position", "platform": "test_platform", "uuid_on_platform": "tag1",
        "api_key": api_key, "synchronization": position_description()});
    assert_eq!(
        call(&server, Method::POST, "/sdts/twins", Some(position))
            .await?
            .0,
        201
    );

    let bulb_path = format!("/submodels/{}", b64("urn:sm:bulb"));
    let synced = until(&server, &bulb_path, |s| {
        element(s, "sat").is_some() && element(s, "on").is_some()
    })
    .await?;
    assert_eq!(
        element(&synced, "on").map(|e| e["value"].clone()),
        Some(json!("True"))
    );
    assert_eq!(
        element(&synced, "bri").map(|e| e["value"].clone()),
        Some(json!("254"))
    );
    assert_eq!(
        extension(&synced, "DT:uuid").map(|e| e["value"].clone()),
        Some(json!("bulb1"))
    );
    assert_eq!(
        extension(&synced, "DT:type").map(|e| e["value"].clone()),
        Some(json!("light"))
    );
    assert_eq!(
        extension(&synced, "DT:description").map(|e| e["value"].clone()),
        Some(json!("the desk lamp"))
    );
    assert!(extension(&synced, "SynchronizedDigitalTwin").is_some());
    let placed = until(
        &server,
        &format!("/submodels/{}", b64("urn:sm:position")),
        |s| extension(s, "DT:data").is_some(),
    )
    .await?;
    assert_eq!(
        extension(&placed, "DT:data").map(|e| e["value"].clone()),
        Some(json!("{\"coordX\":1.5,\"coordY\":2,\"coordZ\":3}"))
    );
    assert!(
        device
            .keys
            .lock()
            .map_err(|_| "lock")?
            .iter()
            .all(|k| k.as_deref() == Some(api_key))
    );

    let (status, _) = call(
        &server,
        Method::PATCH,
        &format!("{bulb_path}/submodel-elements/on/$value"),
        Some(json!("false")),
    )
    .await?;
    assert_eq!(status, 204);
    // The command follows the committed change, outside the request: wait for it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let commands = loop {
        let commands = device.commands.lock().map_err(|_| "lock")?.clone();
        if !commands.is_empty() || std::time::Instant::now() > deadline {
            break commands;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(commands.len(), 1, "{commands:?}");
    assert_eq!(commands[0].0, "bulb1");
    assert_eq!(
        commands[0].1,
        json!({"request": {"connector": "mqtt",
        "value": {"req": "{\"on\":false}", "arg": {"type": "light", "id": "00:17:88:01:03:20:6d:49-0b"}}}})
    );
    assert_eq!(commands[0].2.as_deref(), Some(api_key));

    let (status, twins) = call(&server, Method::GET, "/sdts/twins", None).await?;
    assert_eq!((status, twins.as_array().map(Vec::len)), (200, Some(2)));
    let mut files = vec![server.log.clone()];
    for entry in std::fs::read_dir(&server.data)? {
        files.push(entry?.path());
    }
    let forms = [
        api_key.to_owned(),
        base64::engine::general_purpose::STANDARD.encode(api_key),
        hex::encode(api_key),
    ];
    for file in files {
        let bytes = std::fs::read(&file)?;
        for form in &forms {
            assert!(
                !bytes.windows(form.len()).any(|w| w == form.as_bytes()),
                "{} holds the key",
                file.display()
            );
        }
    }

    assert_eq!(
        call(&server, Method::DELETE, &bulb_path, None).await?.0,
        204
    );
    assert_eq!(
        call(
            &server,
            Method::GET,
            &format!("/sdts/twins/{}", b64("urn:sm:bulb")),
            None
        )
        .await?
        .0,
        404,
        "gone with its submodel"
    );
    assert_eq!(
        call(
            &server,
            Method::DELETE,
            "/sdts/platforms/test_platform",
            None
        )
        .await?
        .0,
        409,
        "a twin still uses it"
    );
    Ok(())
}
