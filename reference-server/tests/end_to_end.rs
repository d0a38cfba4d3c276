//! The whole story: a device's values flow into a submodel, every change is announced over
//! MQTT, a push job delivers the twin to Azure (Azurite), and a change made through the API
//! reaches the device as a command. Secrets stay out of every file the server writes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use base64::Engine;
use chrono::Utc;
use events_core::{ChangeEvent, Encoding, ReceivedEvent};
use reqwest::Method;
use serde_json::{Value, json};

mod support;

use aas_conformance_tests::azurite::Azurite;
use support::{Collector, DataDir, Failure, Launch, Server, TestResult, b64};

#[derive(Default)]
struct Device {
    reading: Mutex<Value>,
    commands: Mutex<Vec<(Value, Option<String>)>>,
}

async fn device_platform(device: Arc<Device>) -> Result<u16, Failure> {
    let app = Router::new()
        .route(
            "/data/thermo1",
            get(|State(d): State<Arc<Device>>| async move {
                axum::Json(d.reading.lock().map(|r| r.clone()).unwrap_or_default())
            }),
        )
        .route(
            "/commands/thermo1",
            post(
                |State(d): State<Arc<Device>>,
                 headers: HeaderMap,
                 axum::Json(body): axum::Json<Value>| async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    d.commands.lock().map(|mut c| c.push((body, auth))).ok();
                    "ok"
                },
            ),
        )
        .with_state(device);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(port)
}

async fn call(
    server: &Server,
    method: Method,
    path: &str,
    body: Option<Value>,
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

/// The value of the submodel's `Temperature` in an `updated` envelope, if it is one.
fn temperature_in(topic: &str, payload: &[u8]) -> Option<String> {
    match Encoding::twinsphere()
        .decode(topic, payload, 1 << 24)
        .ok()?
    {
        ReceivedEvent::Envelope(ChangeEvent::Submodel { submodel, .. }) => submodel
            .submodel_elements?
            .into_iter()
            .find_map(|e| match e {
                aas_model::SubmodelElement::Property(p)
                    if p.id_short.as_deref() == Some("Temperature") =>
                {
                    p.value
                }
                _ => None,
            }),
        _ => None,
    }
}

#[tokio::test]
async fn device_values_become_events_and_a_pushed_package_and_changes_become_commands() -> TestResult
{
    let azurite = Azurite::start();
    azurite.create_container("twins").await?;
    let sas = azurite.sas_url("twins", "racwdl", Utc::now() + chrono::Duration::hours(2));
    let device = Arc::new(Device::default());
    *device.reading.lock().map_err(|_| "lock")? = json!({"temperature": 20.5});
    let port = device_platform(device.clone()).await?;
    let data = DataDir::new("end-to-end");
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let launch = Launch {
        envs: vec![("AAS_SERVER_SECRET_KEY".into(), key)],
        ..Launch::default()
    }
    .arg("--allow-insecure-targets");
    let server = Server::launch(&data, &launch)?;
    let mut events = Collector::subscribe(
        server.mqtt_port,
        "e2e-watcher",
        "twinsphere/submodels/+/updated",
    )
    .await?;

    let id = "urn:sm:thermo";
    let submodel = json!({"id": id, "modelType": "Submodel", "idShort": "Thermo"});
    assert_eq!(
        call(&server, Method::POST, "/submodels", Some(submodel))
            .await?
            .0,
        201
    );
    let platform = json!({"name": "basic_platform", "base_url": format!("http://127.0.0.1:{port}/"),
        "data_get_prefix": "data/", "command_prefix": "commands/",
        "authentication": "login_password", "auth_template": "Basic"});
    assert_eq!(
        call(&server, Method::POST, "/sdts/platforms", Some(platform))
            .await?
            .0,
        201
    );
    let password = "pw-2c9e41d7-secret";
    let twin = json!({"submodel_id": id, "platform": "basic_platform", "uuid_on_platform": "thermo1",
        "type": "thermometer", "login": "svc", "password": password,
        "synchronization": {"iot_attributes": [{"name": "t", "value": "$.temperature"}],
            "thingin_attributes": [{"name": "Temperature", "value": "{t}", "frequency_sec": 1,
                "command_value": {"set": "{{Temperature}}"}}]}});
    let (status, shown, _) = call(&server, Method::POST, "/sdts/twins", Some(twin)).await?;
    assert_eq!(status, 201, "{shown}");

    // Device → submodel → event, twice (the device's value changes).
    let first = events
        .until(Duration::from_secs(10), |m| {
            m.iter()
                .any(|(t, p)| temperature_in(t, p).as_deref() == Some("20.5"))
        })
        .await;
    assert!(
        first
            .iter()
            .any(|(t, p)| temperature_in(t, p).as_deref() == Some("20.5")),
        "{} events",
        first.len()
    );
    *device.reading.lock().map_err(|_| "lock")? = json!({"temperature": 21.25});
    let second = events
        .until(Duration::from_secs(10), |m| {
            m.iter()
                .any(|(t, p)| temperature_in(t, p).as_deref() == Some("21.25"))
        })
        .await;
    assert!(
        second
            .iter()
            .any(|(t, p)| temperature_in(t, p).as_deref() == Some("21.25"))
    );
    assert!(
        second
            .iter()
            .all(|(t, _)| *t == format!("twinsphere/submodels/{}/updated", b64(id)))
    );

    // Submodel → Azure, as an AASX package that aas-core accepts and that holds the value.
    let target =
        json!({"type": "azure-blob-storage", "configuration": {"blobContainerSasUrl": sas}});
    assert_eq!(
        call(
            &server,
            Method::POST,
            "/sphere/push/targets/azure",
            Some(target)
        )
        .await?
        .0,
        201
    );
    let request = json!({"pushTargetName": "azure", "serializationFormat": "application/asset-administration-shell-package+xml",
        "submodelIds": [id], "includeConceptDescriptions": true});
    let (status, _, location) = call(
        &server,
        Method::POST,
        "/sphere/api/v1/push/jobs",
        Some(request),
    )
    .await?;
    assert_eq!(status, 201);
    let location = location.ok_or("no Location")?;
    let mut job = Value::Null;
    for _ in 0..200 {
        job = call(&server, Method::GET, &location, None).await?.1;
        if job["state"] != "processing" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(job["state"], "completed", "{job}");
    let name = job["metadata"]["uploads"][0]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (package, content_type) = azurite.get("twins", &name).await?;
    assert!(
        content_type.starts_with("application/asset-administration-shell-package"),
        "{content_type}"
    );
    let file = data.0.with_extension("pushed.aasx");
    std::fs::write(&file, &package)?;
    aas_conformance_tests::assert_aas_core_accepts(std::slice::from_ref(&file));
    let mut reader = aas_serde::aasx::AasxReader::new(std::io::Cursor::new(package))?;
    let environment = reader.environment()?;
    let pushed = environment
        .submodels
        .iter()
        .flatten()
        .find(|s| s.id == id)
        .ok_or("submodel not in the package")?;
    let value = pushed
        .submodel_elements
        .iter()
        .flatten()
        .find_map(|e| match e {
            aas_model::SubmodelElement::Property(p)
                if p.id_short.as_deref() == Some("Temperature") =>
            {
                p.value.clone()
            }
            _ => None,
        });
    assert_eq!(value.as_deref(), Some("21.25"));
    std::fs::remove_file(&file)?;

    // API → device: a PATCH of the element's $value is sent as the rendered command.
    let path = format!(
        "/submodels/{}/submodel-elements/Temperature/$value",
        b64(id)
    );
    assert_eq!(
        call(&server, Method::PATCH, &path, Some(json!("18")))
            .await?
            .0,
        204
    );
    // Commands leave the request path (the twin service acts on the committed change): wait
    // for it, at most 10 s.
    let mut commands = Vec::new();
    for _ in 0..200 {
        commands = device.commands.lock().map_err(|_| "lock")?.clone();
        if !commands.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(commands.len(), 1, "{commands:?}");
    assert_eq!(commands[0].0, json!({"set": "18"}));
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("svc:{password}"))
    );
    assert_eq!(commands[0].1.as_deref(), Some(basic.as_str()));

    // Nothing the server wrote holds a secret; the key came from the environment.
    assert!(!data.0.join("secret.key").exists());
    let signature = sas
        .split('&')
        .find_map(|p| p.strip_prefix("sig="))
        .unwrap_or_default()
        .to_owned();
    let decoded = signature
        .replace("%2B", "+")
        .replace("%2F", "/")
        .replace("%3D", "=");
    let mut forms = vec![
        signature.clone(),
        decoded.clone(),
        password.to_owned(),
        basic.trim_start_matches("Basic ").to_owned(),
    ];
    for secret in [decoded.as_str(), password] {
        forms.push(base64::engine::general_purpose::STANDARD.encode(secret));
        forms.push(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret));
        forms.push(hex::encode(secret));
    }
    let mut files = vec![server.log.clone()];
    for entry in std::fs::read_dir(&server.data)? {
        files.push(entry?.path());
    }
    for file in files {
        let bytes = std::fs::read(&file)?;
        for form in &forms {
            assert!(
                !bytes.windows(form.len()).any(|w| w == form.as_bytes()),
                "{} holds a secret ({form})",
                file.display()
            );
        }
    }
    Ok(())
}
