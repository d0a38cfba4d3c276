//! The contract end to end: a platform server on 127.0.0.1 serving the `spec/sdt.md` §4
//! fixture, for each authentication mode; both §2 descriptions verbatim give the §4 variables
//! and values, and setting the bulb's `on` to `false` sends exactly the §3 request.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use sdt_core::{
    Authentication, ClientOptions, CommandOutcome, Credentials, Platform, PlatformClient,
    PlatformError, SinkError, SyncDescription, SyncEngine, TwinBinding, TwinSink,
};
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[derive(Default)]
struct Server {
    mode: Option<Authentication>,
    basic: bool,
    token_generation: u32,
    logins: u32,
    commands: Vec<(String, Value)>,
    fetches: std::collections::HashMap<String, u32>,
}

type Shared = Arc<Mutex<Server>>;

fn lock(server: &Shared) -> std::sync::MutexGuard<'_, Server> {
    server.lock().unwrap_or_else(PoisonError::into_inner)
}

fn authorized(server: &Shared, headers: &HeaderMap) -> bool {
    let server = lock(server);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    match server.mode {
        Some(Authentication::ApiKey) => header("x-api-key") == "key-123",
        Some(Authentication::LoginPassword) if server.basic => {
            header("authorization") == "Basic dTpw"
        } // u:p
        Some(Authentication::LoginPassword) => {
            header("authorization") == format!("Bearer tok-{}", server.token_generation)
        }
        _ => true,
    }
}

async fn data(
    State(server): State<Shared>,
    headers: HeaderMap,
    Path(device): Path<String>,
) -> Result<Json<Value>, StatusCode> {
    if !authorized(&server, &headers) {
        return Err(StatusCode::UNAUTHORIZED);
    }
    let fetches = {
        let mut server = lock(&server);
        let count = server.fetches.entry(device.clone()).or_default();
        *count += 1;
        *count
    };
    match device.as_str() {
        // Fails the first time, then answers like the bulb.
        "flaky" if fetches == 1 => Err(StatusCode::INTERNAL_SERVER_ERROR),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            Ok(Json(json!([])))
        }
        "flaky" | "other" => Ok(Json(
            json!([{"value":{"state":{"on":true,"bri":254,"sat":144}}}]),
        )),
        "position" => Ok(Json(
            json!([{"value":{"addr":"3ef8","position":[1.5,2,3]}},{"value":{"addr":"aaaa","position":[9,9,9]}}]),
        )),
        "bulb" => Ok(Json(
            json!([{"value":{"state":{"on":true,"bri":254,"sat":144}}}]),
        )),
        _ => Err(StatusCode::NOT_FOUND),
    }
}

async fn command(
    State(server): State<Shared>,
    headers: HeaderMap,
    Path(device): Path<String>,
    body: String,
) -> StatusCode {
    if !authorized(&server, &headers) {
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(body) = serde_json::from_str(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    lock(&server).commands.push((device, body));
    StatusCode::OK
}

async fn login(State(server): State<Shared>, body: String) -> Result<Json<Value>, StatusCode> {
    if body != r#"{"login":"u","password":"p"}"# {
        return Err(StatusCode::FORBIDDEN);
    }
    let mut server = lock(&server);
    server.logins += 1;
    Ok(Json(
        json!({"data": {"token": format!("tok-{}", server.token_generation)}}),
    ))
}

async fn start_platform(server: Shared) -> Result<String, Box<dyn std::error::Error>> {
    let app = Router::new()
        .route("/api/v0/data/streams/{device}", get(data))
        .route(
            "/api/v1/deviceMgt/devices/{device}/commands/",
            post(command),
        )
        .route("/auth/login", post(login))
        .with_state(server);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{address}/"))
}

fn platform(base_url: &str, authentication: Authentication) -> Platform {
    serde_json::from_value(json!({
        "name": "live_objects", "description": "Live object platform", "base_url": base_url,
        "data_get_prefix": "api/v0/data/streams/", "data_get_suffix": "",
        "command_prefix": "api/v1/deviceMgt/devices/", "command_suffix": "/commands/",
        "authentication": authentication, "token_header": "X-API-KEY"
    }))
    .unwrap_or_else(|e| panic!("{e}"))
}

fn description(
    file: &str,
) -> Result<Arc<sdt_core::CompiledDescription>, Box<dyn std::error::Error>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(file);
    let description: SyncDescription = serde_json::from_slice(&std::fs::read(path)?)?;
    Ok(Arc::new(description.compile()?))
}

/// Records what the engine writes.
#[derive(Default)]
struct RecordingSink(Mutex<Vec<(String, String, Value)>>);

#[async_trait]
impl TwinSink for RecordingSink {
    async fn write(&self, twin: &str, property: &str, value: &Value) -> Result<(), SinkError> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push((
            twin.into(),
            property.into(),
            value.clone(),
        ));
        Ok(())
    }
}

async fn contract_holds(client: PlatformClient, server: &Shared) -> TestResult {
    let client = Arc::new(client);
    let position = description("position.json")?;
    let run = position.dry_run(&client.fetch("position").await?);
    assert_eq!(
        Value::Object(run.variables),
        json!({"x": 1.5, "y": 2, "z": 3})
    );
    assert_eq!(
        run.values["DT:data"],
        json!(r#"{"coordX":1.5,"coordY":2,"coordZ":3}"#)
    );

    let bulb = description("bulb.json")?;
    let run = bulb.dry_run(&client.fetch("bulb").await?);
    assert_eq!(
        Value::Object(run.variables),
        json!({"on": true, "bri": 254, "sat": 144})
    );
    let sink = Arc::new(RecordingSink::default());
    let engine = SyncEngine::new(sink.clone());
    engine.start(TwinBinding {
        twin: "urn:twin:bulb".into(),
        platform: client.clone(),
        device: "bulb".into(),
        command_device: Some("00:17:88:01:03:20:6d:49-0b".into()),
        description: bulb,
    });
    for _ in 0..100 {
        if sink.0.lock().unwrap_or_else(PoisonError::into_inner).len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut written = sink
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    written.sort_by(|a, b| a.1.cmp(&b.1));
    let twin = "urn:twin:bulb".to_owned();
    assert_eq!(
        written,
        [
            (twin.clone(), "bri".into(), json!("254")),
            (twin.clone(), "on".into(), json!("True")),
            (twin.clone(), "sat".into(), json!("144"))
        ]
    );
    let twin_values = json!({"on": "True", "bri": "254", "sat": "144"});
    let twin_values = twin_values.as_object().ok_or("object")?;
    // The engine's own write does not echo back as a command.
    assert_eq!(
        engine
            .twin_changed(&twin, "on", &json!("True"), twin_values)
            .await?,
        CommandOutcome::OwnWrite
    );
    let outcome = engine
        .twin_changed(&twin, "on", &json!("false"), twin_values)
        .await?;
    assert!(matches!(outcome, CommandOutcome::Sent(_)), "{outcome:?}");
    let commands = lock(server).commands.clone();
    assert_eq!(commands.len(), 1);
    assert_eq!(commands[0].0, "00:17:88:01:03:20:6d:49-0b");
    assert_eq!(
        serde_json::to_string(&commands[0].1)?,
        r#"{"request":{"connector":"mqtt","value":{"req":"{\"on\":false}","arg":{"type":"light","id":"00:17:88:01:03:20:6d:49-0b"}}}}"#
    );
    engine.stop(&twin);
    Ok(())
}

#[tokio::test]
async fn contract_holds_without_authentication() -> TestResult {
    let server = Shared::default();
    let base = start_platform(server.clone()).await?;
    let client = PlatformClient::new(
        platform(&base, Authentication::None),
        Credentials::None,
        ClientOptions::default(),
    )?;
    contract_holds(client, &server).await
}

#[tokio::test]
async fn contract_holds_with_an_api_key_and_a_wrong_key_is_refused() -> TestResult {
    let server = Shared::default();
    lock(&server).mode = Some(Authentication::ApiKey);
    let base = start_platform(server.clone()).await?;
    let wrong = PlatformClient::new(
        platform(&base, Authentication::ApiKey),
        Credentials::ApiKey("nope".into()),
        ClientOptions::default(),
    )?;
    assert!(matches!(
        wrong.fetch("bulb").await,
        Err(PlatformError::Status { status: 401, .. })
    ));
    let client = PlatformClient::new(
        platform(&base, Authentication::ApiKey),
        Credentials::ApiKey("key-123".into()),
        ClientOptions::default(),
    )?;
    assert!(
        !format!("{client:?}").contains("key-123"),
        "the key shows in Debug"
    );
    contract_holds(client, &server).await
}

#[tokio::test]
async fn contract_holds_with_login_and_a_token_that_expires_means_one_new_login() -> TestResult {
    let server = Shared::default();
    lock(&server).mode = Some(Authentication::LoginPassword);
    let base = start_platform(server.clone()).await?;
    let mut definition = platform(&base, Authentication::LoginPassword);
    definition.token_header = Some("Bearer".into());
    definition.auth_path = Some("auth/login".into());
    definition.auth_template = Some(r#"{{"login":"{login}","password":"{password}"}}"#.into());
    definition.auth_response = Some("$.data.token".into());
    let credentials = Credentials::LoginPassword {
        login: "u".into(),
        password: "p".into(),
    };
    let client = PlatformClient::new(definition, credentials, ClientOptions::default())?;
    client.fetch("bulb").await?;
    client.fetch("bulb").await?;
    assert_eq!(lock(&server).logins, 1, "the token is cached");
    lock(&server).token_generation += 1; // the server forgets the token
    client.fetch("bulb").await?;
    assert_eq!(lock(&server).logins, 2, "one new login after the 401");
    contract_holds(client, &server).await
}

#[tokio::test]
async fn contract_holds_with_basic_authentication() -> TestResult {
    let server = Shared::default();
    {
        let mut server = lock(&server);
        server.mode = Some(Authentication::LoginPassword);
        server.basic = true;
    }
    let base = start_platform(server.clone()).await?;
    let mut definition = platform(&base, Authentication::LoginPassword);
    definition.auth_template = Some("Basic".into());
    let credentials = Credentials::LoginPassword {
        login: "u".into(),
        password: "p".into(),
    };
    let client = PlatformClient::new(definition, credentials, ClientOptions::default())?;
    contract_holds(client, &server).await?;
    assert_eq!(lock(&server).logins, 0, "Basic sends no login request");
    Ok(())
}

#[tokio::test]
async fn oversized_slow_or_unreachable_platforms_are_errors() -> TestResult {
    let server = Shared::default();
    let base = start_platform(server).await?;
    let tiny = ClientOptions {
        timeout: Duration::from_secs(2),
        max_response_bytes: 10,
        ..ClientOptions::default()
    };
    let client = PlatformClient::new(
        platform(&base, Authentication::None),
        Credentials::None,
        tiny,
    )?;
    assert!(matches!(
        client.fetch("position").await,
        Err(PlatformError::TooLarge { max: 10, .. })
    ));
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await?
        .local_addr()?;
    let gone = PlatformClient::new(
        platform(&format!("http://{closed}/"), Authentication::None),
        Credentials::None,
        ClientOptions::default(),
    )?;
    assert!(matches!(
        gone.fetch("bulb").await,
        Err(PlatformError::Unreachable { .. })
    ));
    Ok(())
}

fn one_second(
    template: &str,
) -> Result<Arc<sdt_core::CompiledDescription>, Box<dyn std::error::Error>> {
    let description: SyncDescription = serde_json::from_value(json!({
        "iot_attributes": [{"name": "on", "value": "$[0].value.state.on"}],
        "thingin_attributes": [{"name": "on", "value": template, "frequency_sec": 1}]
    }))?;
    Ok(Arc::new(description.compile()?))
}

async fn wait_for(sink: &RecordingSink, twin: &str, value: &Value) -> bool {
    for _ in 0..200 {
        let found = sink
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|(t, _, v)| t == twin && v == value);
        if found {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}

#[tokio::test]
async fn a_failed_fetch_is_retried_next_tick_and_a_reload_leaves_other_twins_running() -> TestResult
{
    let server = Shared::default();
    let base = start_platform(server.clone()).await?;
    let client = Arc::new(PlatformClient::new(
        platform(&base, Authentication::None),
        Credentials::None,
        ClientOptions::default(),
    )?);
    let sink = Arc::new(RecordingSink::default());
    let engine = SyncEngine::new(sink.clone());
    let binding = |twin: &str,
                   device: &str,
                   template: &str|
     -> Result<TwinBinding, Box<dyn std::error::Error>> {
        Ok(TwinBinding {
            twin: twin.into(),
            platform: client.clone(),
            device: device.into(),
            command_device: None,
            description: one_second(template)?,
        })
    };
    engine.start(binding("urn:a", "flaky", "{on}")?);
    engine.start(binding("urn:b", "other", "{on}")?);
    assert!(
        wait_for(&sink, "urn:a", &json!("True")).await,
        "the twin recovers after a failed fetch"
    );
    assert!(wait_for(&sink, "urn:b", &json!("True")).await);
    let b_fetches = lock(&server)
        .fetches
        .get("other")
        .copied()
        .unwrap_or_default();
    engine.start(binding("urn:a", "flaky", "on={on}")?); // hot reload of one twin
    assert!(
        wait_for(&sink, "urn:a", &json!("on=True")).await,
        "the new description runs"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let b_after = lock(&server)
        .fetches
        .get("other")
        .copied()
        .unwrap_or_default();
    assert!(
        b_after > b_fetches,
        "the other twin keeps polling ({b_fetches} -> {b_after})"
    );
    let writes_of_b = sink
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter(|(t, _, _)| t == "urn:b")
        .count();
    assert_eq!(writes_of_b, 1, "an unchanged value is written once");
    Ok(())
}
