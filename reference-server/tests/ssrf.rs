//! Outbound requests of the server (issue 19): platforms and their twins may reach only what
//! `[outbound]` allows. Fake platforms on 127.0.0.2 and 127.0.0.3 (loopback on Linux, no setup)
//! record every request with its headers; twins authenticate with an API key, so a request that
//! reaches the wrong host carries a credential. Each case asserts what the fakes received: the
//! refused host nothing at all, and where a request is allowed, that it arrived (so a fake that
//! never works cannot make a test pass).

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use reqwest::Method;
use serde_json::{Value, json};

mod support;

use support::{DataDir, Failure, Launch, Server, TestResult, b64, call};

/// The platform key each twin is bound with.
const KEY: &str = "platform-key-3b7e";

/// One request as a fake received it.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

impl Received {
    fn key(&self) -> Option<&str> {
        self.headers
            .iter()
            .find(|(name, _)| name == "x-api-key")
            .map(|(_, value)| value.as_str())
    }
}

/// How a fake answers a request, by method and path (with query).
type Answer = dyn Fn(&Method, &str) -> Response + Send + Sync;

/// A fake HTTP server recording every request.
#[derive(Clone)]
struct Fake {
    received: Arc<Mutex<Vec<Received>>>,
    answer: Arc<Answer>,
    /// `http://ip:port`.
    origin: String,
    port: u16,
}

impl Fake {
    /// A fake answering by path.
    async fn start(
        ip: [u8; 4],
        answer: impl Fn(&str) -> Response + Send + Sync + 'static,
    ) -> Result<Self, Failure> {
        Self::start_by_method(ip, move |_, path| answer(path)).await
    }

    /// A fake answering by method and path.
    async fn start_by_method(
        ip: [u8; 4],
        answer: impl Fn(&Method, &str) -> Response + Send + Sync + 'static,
    ) -> Result<Self, Failure> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::from(ip), 0)).await?;
        let address = listener.local_addr()?;
        let fake = Fake {
            received: Arc::default(),
            answer: Arc::new(answer),
            origin: format!("http://{address}"),
            port: address.port(),
        };
        let app = Router::new().fallback(record).with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(fake)
    }

    /// A platform answering every path with `{"value": 42}`.
    async fn platform(ip: [u8; 4]) -> Result<Self, Failure> {
        Self::start(ip, |_| axum::Json(json!({"value": 42})).into_response()).await
    }

    fn received(&self) -> Vec<Received> {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Nothing arrived: no request, so no credential either.
    fn assert_untouched(&self) {
        let received = self.received();
        assert!(
            received.is_empty(),
            "{} received {} requests: {received:?}",
            self.origin,
            received.len()
        );
    }

    /// Waits until a request arrived; all that arrived.
    async fn until_reached(&self, server: &Server) -> Result<Vec<Received>, Failure> {
        for _ in 0..200 {
            let received = self.received();
            if !received.is_empty() {
                return Ok(received);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!(
            "{} received nothing within 10 s; server log:\n{}",
            self.origin,
            server.log_text()
        )
        .into())
    }
}

async fn record(State(fake): State<Fake>, request: Request) -> Response {
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    fake.received
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Received {
            method: request.method().to_string(),
            path: path.clone(),
            headers,
        });
    (fake.answer)(request.method(), &path)
}

/// A server with this `[outbound]` section (and flags).
fn launch(name: &str, outbound: &str, args: &[&str]) -> Result<(DataDir, Server), Failure> {
    let data = DataDir::new(name);
    std::fs::create_dir_all(&data.0)?;
    let config = data.0.join("server.toml");
    std::fs::write(&config, format!("[outbound]\n{outbound}\n"))?;
    let mut launch = Launch::hold_events()
        .arg("--config")
        .arg(config.to_string_lossy());
    for arg in args {
        launch = launch.arg(*arg);
    }
    let server = Server::launch(&data, &launch)?;
    Ok((data, server))
}

/// POST /sdts/platforms with API-key authentication.
async fn create_platform(
    server: &Server,
    name: &str,
    base_url: &str,
    prefix: &str,
) -> Result<(u16, Value), Failure> {
    call(
        server,
        Method::POST,
        "/sdts/platforms",
        Some(
            json!({"name": name, "base_url": base_url, "data_get_prefix": prefix,
            "authentication": "api_key", "token_header": "X-API-KEY"}),
        ),
    )
    .await
}

/// A submodel bound to `device` on `platform`, polled every second; the bind's status.
async fn bind(
    server: &Server,
    submodel_id: &str,
    platform: &str,
    device: &str,
) -> Result<(u16, Value), Failure> {
    let (status, answer) = call(
        server,
        Method::POST,
        "/submodels",
        Some(json!({"id": submodel_id, "modelType": "Submodel"})),
    )
    .await?;
    assert_eq!(status, 201, "{answer}");
    call(
        server,
        Method::POST,
        "/sdts/twins",
        Some(json!({"submodel_id": submodel_id, "platform": platform,
            "uuid_on_platform": device, "api_key": KEY,
            "synchronization": {
                "iot_attributes": [{"name": "v", "value": "$.value"}],
                "thingin_attributes": [{"name": "DT:data", "value": "{v}", "frequency_sec": 1}]}})),
    )
    .await
}

/// Waits until the server's log says `text` (the refusal of a poll).
async fn until_logged(server: &Server, text: &str) -> TestResult {
    for _ in 0..200 {
        if server.log_text().contains(text) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!(
        "the log did not say {text:?} within 10 s:\n{}",
        server.log_text()
    )
    .into())
}

/// Another poll's time: a refused host would have been reached by now.
async fn another_poll() {
    tokio::time::sleep(Duration::from_millis(1200)).await;
}

#[tokio::test]
async fn a_platform_redirecting_to_another_host_sends_that_host_nothing() -> TestResult {
    let other = Fake::platform([127, 0, 0, 3]).await?;
    let target = format!("{}/data/x", other.origin);
    let platform = Fake::start([127, 0, 0, 2], move |_| {
        (StatusCode::FOUND, [("location", target.clone())]).into_response()
    })
    .await?;
    let (_data, server) = launch("ssrf-redirect", "", &[])?;
    let (status, answer) =
        create_platform(&server, "redirecting", &format!("{}/", platform.origin), "").await?;
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = bind(&server, "urn:sm:redirect", "redirecting", "x").await?;
    assert_eq!(status, 201, "{answer}");
    until_logged(&server, "leaves the origin").await?;
    another_poll().await;
    other.assert_untouched();
    // The platform itself was asked, with the key: the refusal was of the redirect.
    let asked = platform.received();
    assert!(
        asked.iter().all(|r| r.path == "/x" && r.key() == Some(KEY)),
        "{asked:?}"
    );
    assert!(!asked.is_empty());
    Ok(())
}

#[tokio::test]
async fn a_device_id_naming_another_host_stays_in_the_configured_hosts_path() -> TestResult {
    let other = Fake::platform([127, 0, 0, 3]).await?;
    let platform = Fake::platform([127, 0, 0, 2]).await?;
    let (_data, server) = launch("ssrf-device-id", "", &[])?;
    let hostile = format!("@127.0.0.3:{}/x", other.port);
    // Concatenated, `http://127.0.0.2:P` + `@127.0.0.3:Q/x` had 127.0.0.3 as its host; now the
    // id is encoded into what would be the port, and the binding is refused.
    let (status, _) = create_platform(&server, "bare", &platform.origin, "").await?;
    assert_eq!(status, 201);
    let (status, answer) = bind(&server, "urn:sm:bare", "bare", &hostile).await?;
    assert_eq!(status, 400, "{answer}");
    let (status, _) =
        create_platform(&server, "pathed", &format!("{}/data/", platform.origin), "").await?;
    assert_eq!(status, 201);
    let (status, answer) = bind(&server, "urn:sm:pathed", "pathed", &hostile).await?;
    assert_eq!(status, 201, "{answer}");
    let received = platform.until_reached(&server).await?;
    let encoded = format!("/data/%40127.0.0.3%3A{}%2Fx", other.port);
    assert!(
        received
            .iter()
            .all(|r| r.path == encoded && r.key() == Some(KEY)),
        "{received:?}"
    );
    another_poll().await;
    other.assert_untouched();
    Ok(())
}

#[tokio::test]
async fn platforms_with_refused_schemes_or_addresses_are_400_at_creation() -> TestResult {
    let other = Fake::platform([127, 0, 0, 3]).await?;
    let (_data, server) = launch("ssrf-creation", "", &[])?;
    for (base_url, reason) in [
        ("file:///etc/".to_owned(), "only http and https"),
        (
            format!("gopher://127.0.0.3:{}/_GET", other.port),
            "only http and https",
        ),
        (
            "http://169.254.169.254/latest/meta-data/".into(),
            "169.254.169.254 is link-local: refused",
        ),
        (
            "http://0xa9.0xfe.0xa9.0xfe/".into(),
            "169.254.169.254 is link-local: refused",
        ),
        (
            "http://[::ffff:a9fe:a9fe]/".into(),
            "169.254.169.254 is link-local: refused",
        ),
        (
            "http://[fd00:ec2::254]/".into(),
            "fd00:ec2::254 is a cloud metadata address: refused",
        ),
        (
            "http://0.0.0.0:1/".into(),
            "0.0.0.0 is unspecified: refused",
        ),
    ] {
        let (status, answer) = create_platform(&server, "refused", &base_url, "").await?;
        assert_eq!(status, 400, "{base_url}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(reason), "{base_url}: {error}");
    }
    // A replacement is checked the same way, and the stored definition stays.
    let good = format!("{}/", other.origin);
    assert_eq!(create_platform(&server, "p", &good, "").await?.0, 201);
    let (status, answer) = call(
        &server,
        Method::PUT,
        "/sdts/platforms/p",
        Some(
            json!({"base_url": "http://169.254.169.254/", "authentication": "api_key",
            "token_header": "X-API-KEY"}),
        ),
    )
    .await?;
    assert_eq!(status, 400, "{answer}");
    let (_, stored) = call(&server, Method::GET, "/sdts/platforms/p", None).await?;
    assert_eq!(stored["base_url"], good.as_str());
    other.assert_untouched();
    Ok(())
}

#[tokio::test]
async fn a_host_name_resolving_to_the_metadata_address_is_refused_at_connect_time() -> TestResult {
    let platform = Fake::platform([127, 0, 0, 2]).await?;
    let (_data, server) = launch(
        "ssrf-resolve",
        r#"resolve = { "metadata.test" = "169.254.169.254", "plant.test" = "127.0.0.2" }"#,
        &[],
    )?;
    let port = platform.port;
    // A name passes the creation check: only its addresses tell.
    let (status, answer) = create_platform(
        &server,
        "metadata",
        &format!("http://metadata.test:{port}/"),
        "",
    )
    .await?;
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = bind(&server, "urn:sm:metadata", "metadata", "x").await?;
    assert_eq!(status, 201, "{answer}");
    until_logged(
        &server,
        "metadata.test resolves to 169.254.169.254, which is link-local: refused",
    )
    .await?;
    another_poll().await;
    platform.assert_untouched();
    // The override itself works: a name resolving to 127.0.0.2 reaches the fake, key and all.
    let (status, _) =
        create_platform(&server, "plant", &format!("http://plant.test:{port}/"), "").await?;
    assert_eq!(status, 201);
    let (status, answer) = bind(&server, "urn:sm:plant", "plant", "x").await?;
    assert_eq!(status, 201, "{answer}");
    let received = platform.until_reached(&server).await?;
    assert!(
        received.iter().all(|r| r.key() == Some(KEY)),
        "{received:?}"
    );
    Ok(())
}

#[tokio::test]
async fn loopback_refused_by_configuration_is_never_reached() -> TestResult {
    let platform = Fake::platform([127, 0, 0, 2]).await?;
    let (_data, server) = launch(
        "ssrf-private",
        "private-networks = false\nresolve = { \"plant.test\" = \"127.0.0.2\" }",
        &[],
    )?;
    let (status, answer) =
        create_platform(&server, "literal", &format!("{}/", platform.origin), "").await?;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|e| e.contains("127.0.0.2 is loopback: refused")),
        "{answer}"
    );
    // Through a name, the refusal comes when it resolves.
    let (status, answer) = create_platform(
        &server,
        "named",
        &format!("http://plant.test:{}/", platform.port),
        "",
    )
    .await?;
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = bind(&server, "urn:sm:named", "named", "x").await?;
    assert_eq!(status, 201, "{answer}");
    until_logged(
        &server,
        "plant.test resolves to 127.0.0.2, which is loopback: refused",
    )
    .await?;
    another_poll().await;
    platform.assert_untouched();
    Ok(())
}

#[tokio::test]
async fn with_allowed_hosts_only_those_are_reached() -> TestResult {
    let allowed = Fake::platform([127, 0, 0, 2]).await?;
    let other = Fake::platform([127, 0, 0, 3]).await?;
    let (_data, server) = launch(
        "ssrf-allowed",
        "allowed-hosts = [\"127.0.0.2\"]\nresolve = { \"other.test\" = \"127.0.0.3\" }",
        &[],
    )?;
    for base_url in [
        format!("{}/", other.origin),
        format!("http://other.test:{}/", other.port),
    ] {
        let (status, answer) = create_platform(&server, "other", &base_url, "").await?;
        assert_eq!(status, 400, "{base_url}: {answer}");
        assert!(
            answer["error"]
                .as_str()
                .is_some_and(|e| e.contains("is not one of the allowed hosts")),
            "{answer}"
        );
    }
    let (status, _) =
        create_platform(&server, "listed", &format!("{}/", allowed.origin), "").await?;
    assert_eq!(status, 201);
    let (status, answer) = bind(&server, "urn:sm:listed", "listed", "x").await?;
    assert_eq!(status, 201, "{answer}");
    let received = allowed.until_reached(&server).await?;
    assert!(
        received.iter().all(|r| r.key() == Some(KEY)),
        "{received:?}"
    );
    other.assert_untouched();
    Ok(())
}

#[tokio::test]
async fn proxy_environment_variables_are_ignored() -> TestResult {
    let platform = Fake::platform([127, 0, 0, 2]).await?;
    let proxy = Fake::platform([127, 0, 0, 3]).await?;
    let data = DataDir::new("ssrf-proxy");
    std::fs::create_dir_all(&data.0)?;
    let config = data.0.join("server.toml");
    std::fs::write(
        &config,
        "[outbound]\nresolve = { \"plant.test\" = \"127.0.0.2\" }\n",
    )?;
    // A proxy would be handed the name and resolve it itself, past the policy.
    let mut launch = Launch::hold_events()
        .arg("--config")
        .arg(config.to_string_lossy());
    for name in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        launch.envs.push((name.into(), proxy.origin.clone()));
    }
    let server = Server::launch(&data, &launch)?;
    let base_url = format!("http://plant.test:{}/", platform.port);
    assert_eq!(
        create_platform(&server, "plant", &base_url, "").await?.0,
        201
    );
    let (status, answer) = bind(&server, "urn:sm:proxied", "plant", "x").await?;
    assert_eq!(status, 201, "{answer}");
    let received = platform.until_reached(&server).await?;
    assert!(
        received.iter().all(|r| r.key() == Some(KEY)),
        "{received:?}"
    );
    proxy.assert_untouched();
    Ok(())
}

#[tokio::test]
async fn a_platforms_raw_answer_is_never_stored_only_the_extracted_values() -> TestResult {
    const MARKER: &str = "raw-answer-marker-51c9";
    let platform = Fake::start([127, 0, 0, 2], |_| {
        axum::Json(json!({"value": 42, "unextracted": MARKER})).into_response()
    })
    .await?;
    let (_data, server) = launch("ssrf-raw-answer", "", &[])?;
    let (status, _) = create_platform(&server, "raw", &format!("{}/", platform.origin), "").await?;
    assert_eq!(status, 201);
    let (status, answer) = bind(&server, "urn:sm:raw", "raw", "x").await?;
    assert_eq!(status, 201, "{answer}");
    let path = format!("/submodels/{}", b64("urn:sm:raw"));
    let mut submodel = Value::Null;
    for _ in 0..200 {
        submodel = call(&server, Method::GET, &path, None).await?.1;
        let written = submodel["extensions"].as_array().is_some_and(|e| {
            e.iter()
                .any(|e| e["name"] == "DT:data" && e["value"] == "42")
        });
        if written {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        submodel["extensions"].as_array().is_some_and(|e| e
            .iter()
            .any(|e| e["name"] == "DT:data" && e["value"] == "42")),
        "the extracted value was not written: {submodel}\n{}",
        server.log_text()
    );
    another_poll().await;
    let submodel = call(&server, Method::GET, &path, None).await?.1;
    assert!(!submodel.to_string().contains(MARKER), "{submodel}");
    // Nor anywhere in the database (the WAL included) or the log.
    for entry in std::fs::read_dir(&server.data)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            let bytes = std::fs::read(entry.path())?;
            assert!(
                !bytes.windows(MARKER.len()).any(|w| w == MARKER.as_bytes()),
                "{} holds the raw answer",
                entry.path().display()
            );
        }
    }
    assert!(!server.log_text().contains(MARKER));
    Ok(())
}

// --- push targets -----------------------------------------------------------------------------

/// A container SAS of a valid form (push-core checks the signature's presence, the expiry and
/// the permissions, not the signature itself).
const SAS: &str =
    "sv=2022-11-02&se=2099-01-01T00%3A00%3A00Z&sr=c&sp=racwdl&sig=c2VjcmV0LXNpZw%3D%3D";

fn azure(url: &str) -> Value {
    json!({"type": "azure-blob-storage", "configuration": {"blobSasUrl": format!("{url}?{SAS}")}})
}

fn s3(endpoint: &str) -> Value {
    json!({"type": "s3", "configuration": {"bucket": "twins", "region": "eu-west-1",
        "endpoint": endpoint, "accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "s3cr3t-key"}})
}

/// POST `/sphere/push/targets/{name}`: status and answer.
async fn create_target(
    server: &Server,
    name: &str,
    target: Value,
) -> Result<(u16, Value), Failure> {
    call(
        server,
        Method::POST,
        &format!("/sphere/push/targets/{name}"),
        Some(target),
    )
    .await
}

/// A TCP listener that counts connections and closes them: what an https target would reach
/// (its TLS handshake never becomes a request a fake HTTP server could record).
struct Counter {
    connections: Arc<std::sync::atomic::AtomicUsize>,
    port: u16,
}

impl Counter {
    async fn start(ip: [u8; 4]) -> Result<Self, Failure> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::from(ip), 0)).await?;
        let port = listener.local_addr()?.port();
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = connections.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                drop(socket);
            }
        });
        Ok(Self { connections, port })
    }

    fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[tokio::test]
async fn push_targets_at_metadata_and_link_local_addresses_are_400_at_creation() -> TestResult {
    // With --allow-insecure-targets, so that plain http is not what refuses them.
    let (_data, server) = launch("ssrf-push-addresses", "", &["--allow-insecure-targets"])?;
    for (target, reason) in [
        (
            azure("https://169.254.169.254/account/twins"),
            "169.254.169.254 is link-local: refused",
        ),
        (
            azure("http://[::ffff:a9fe:a9fe]:10000/devstoreaccount1/twins"),
            "169.254.169.254 is link-local: refused",
        ),
        (
            s3("https://0xa9.0xfe.0xa9.0xfe"),
            "169.254.169.254 is link-local: refused",
        ),
        (
            s3("http://100.100.100.200"),
            "100.100.100.200 is a cloud metadata address: refused",
        ),
        (
            s3("https://[fe80::1]:9000"),
            "fe80::1 is link-local: refused",
        ),
    ] {
        let (status, answer) = create_target(&server, "refused", target.clone()).await?;
        assert_eq!(status, 400, "{target}: {answer}");
        let text = answer.to_string();
        assert!(text.contains(reason), "{target}: {text}");
        assert!(
            !text.contains("c2VjcmV0") && !text.contains("s3cr3t"),
            "a secret shows: {text}"
        );
    }
    let (_, listed) = call(&server, Method::GET, "/sphere/push/targets", None).await?;
    assert_eq!(listed, json!([]));
    Ok(())
}

#[tokio::test]
async fn a_push_target_name_resolving_to_a_refused_address_is_refused_when_connecting() -> TestResult
{
    let counter = Counter::start([127, 0, 0, 2]).await?;
    let resolve =
        r#"resolve = { "metadata.test" = "169.254.169.254", "store.test" = "127.0.0.2" }"#;
    let (_data, server) = launch(
        "ssrf-push-resolve",
        &format!("private-networks = false\n{resolve}"),
        &[],
    )?;
    for (endpoint, reason) in [
        (
            format!("https://metadata.test:{}", counter.port),
            "metadata.test resolves to 169.254.169.254, which is link-local: refused",
        ),
        (
            format!("https://store.test:{}", counter.port),
            "store.test resolves to 127.0.0.2, which is loopback: refused",
        ),
    ] {
        // The names pass the check at creation; the connection test resolves them.
        let (status, answer) = create_target(&server, "named", s3(&endpoint)).await?;
        assert_eq!(status, 400, "{endpoint}: {answer}");
        assert!(answer.to_string().contains(reason), "{endpoint}: {answer}");
    }
    assert_eq!(
        counter.connections(),
        0,
        "a refused address was connected to"
    );
    // The override does reach object_store's connections: with private networks allowed,
    // the same target connects (and fails its TLS handshake with the counter).
    let (_open_data, open) = launch("ssrf-push-resolve-open", resolve, &[])?;
    let endpoint = format!("https://store.test:{}", counter.port);
    let (status, answer) = create_target(&open, "named", s3(&endpoint)).await?;
    assert_eq!(status, 400, "{answer}");
    assert!(counter.connections() > 0, "{answer}");
    Ok(())
}

#[tokio::test]
async fn plain_http_push_targets_reach_loopback_only_with_allow_insecure_targets() -> TestResult {
    // 404 to everything: the connection test's HEAD of a probe object finds nothing, which
    // passes.
    let emulator = Fake::start([127, 0, 0, 2], |_| StatusCode::NOT_FOUND.into_response()).await?;
    let container = format!("{}/devstoreaccount1/twins", emulator.origin);
    let (_data, strict) = launch("ssrf-push-http", "", &[])?;
    let (status, answer) = create_target(&strict, "emulator", azure(&container)).await?;
    assert_eq!(status, 400, "{answer}");
    emulator.assert_untouched();
    let (status, answer) = create_target(&strict, "s3", s3(&emulator.origin)).await?;
    assert_eq!(status, 400, "{answer}");
    emulator.assert_untouched();

    let (_insecure_data, insecure) =
        launch("ssrf-push-http-allowed", "", &["--allow-insecure-targets"])?;
    let (status, answer) = create_target(&insecure, "emulator", azure(&container)).await?;
    assert_eq!(status, 201, "{answer}");
    let received = emulator.received();
    assert!(
        !received.is_empty()
            && received
                .iter()
                .all(|r| r.path.starts_with("/devstoreaccount1/twins/")),
        "{received:?}"
    );
    // Loopback only: plain http to another host stays refused with the flag.
    let (status, answer) = create_target(
        &insecure,
        "far",
        azure("http://10.255.255.1:10000/devstoreaccount1/twins"),
    )
    .await?;
    assert_eq!(status, 400, "{answer}");
    Ok(())
}

#[tokio::test]
async fn local_directory_targets_need_the_configured_root_and_stay_inside_it() -> TestResult {
    let local = |path: &str| json!({"type": "local-directory", "configuration": {"path": path}});
    let (_data, unconfigured) = launch("ssrf-local-none", "", &[])?;
    let (status, answer) = create_target(&unconfigured, "dir", local("/tmp")).await?;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer.to_string().contains("no root is configured"),
        "{answer}"
    );

    let root = DataDir::new("ssrf-local-root");
    std::fs::create_dir_all(root.0.join("push"))?;
    let root_path = root.0.join("push");
    let (_root_data, server) = launch(
        "ssrf-local",
        &format!("local-target-root = {:?}", root_path.to_string_lossy()),
        &[],
    )?;
    for outside in ["../outside", "/tmp", "inside/../../outside"] {
        let (status, answer) = create_target(&server, "dir", local(outside)).await?;
        assert_eq!(status, 400, "{outside}: {answer}");
    }
    assert!(
        !root.0.join("outside").exists(),
        "a directory was made outside the root"
    );
    let (status, answer) = create_target(&server, "dir", local("inside")).await?;
    assert_eq!(status, 201, "{answer}");
    Ok(())
}

#[tokio::test]
async fn a_stored_target_refused_by_a_later_policy_fails_its_jobs_without_connecting() -> TestResult
{
    let emulator = Fake::start([127, 0, 0, 2], |_| StatusCode::NOT_FOUND.into_response()).await?;
    let container = format!("{}/devstoreaccount1/twins", emulator.origin);
    let data = DataDir::new("ssrf-push-later");
    std::fs::create_dir_all(&data.0)?;
    let config = data.0.join("server.toml");
    let launch = Launch::hold_events()
        .arg("--allow-insecure-targets")
        .arg("--config")
        .arg(config.to_string_lossy());
    std::fs::write(&config, "[outbound]\n")?;
    let server = Server::launch(&data, &launch)?;
    assert_eq!(
        create_target(&server, "emulator", azure(&container))
            .await?
            .0,
        201
    );
    let (status, _) = call(
        &server,
        Method::POST,
        "/submodels",
        Some(json!({"id": "urn:sm:later", "modelType": "Submodel"})),
    )
    .await?;
    assert_eq!(status, 201);
    drop(server);
    let before = emulator.received().len();

    // The same data under a stricter policy: the stored target is checked again per job.
    std::fs::write(&config, "[outbound]\nprivate-networks = false\n")?;
    let server = Server::launch(&data, &launch)?;
    let response = reqwest::Client::new()
        .post(server.url("/sphere/push/jobs"))
        .json(
            &json!({"pushTargetName": "emulator", "serializationFormat": "application/json",
            "submodelIds": ["urn:sm:later"]}),
        )
        .send()
        .await?;
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or("no Location")?;
    let mut job = Value::Null;
    for _ in 0..200 {
        job = call(&server, Method::GET, &location, None).await?.1;
        if job["state"] != "processing" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(job["state"], "failed", "{job}");
    assert!(
        job.to_string().contains("127.0.0.2 is loopback: refused"),
        "{job}"
    );
    assert_eq!(
        emulator.received().len(),
        before,
        "the refused target was reached"
    );
    Ok(())
}

/// Push targets connect directly too: a proxy from the environment would resolve names past
/// the policy (object_store's client would otherwise use HTTP_PROXY and ALL_PROXY).
#[tokio::test]
async fn push_targets_ignore_proxy_environment_variables() -> TestResult {
    let emulator = Fake::start([127, 0, 0, 2], |_| StatusCode::NOT_FOUND.into_response()).await?;
    let proxy = Fake::start([127, 0, 0, 3], |_| StatusCode::BAD_GATEWAY.into_response()).await?;
    let data = DataDir::new("ssrf-push-proxy");
    std::fs::create_dir_all(&data.0)?;
    let config = data.0.join("server.toml");
    std::fs::write(&config, "[outbound]\n")?;
    let mut launch = Launch::hold_events()
        .arg("--config")
        .arg(config.to_string_lossy())
        .arg("--allow-insecure-targets");
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        launch.envs.push((name.into(), proxy.origin.clone()));
    }
    let server = Server::launch(&data, &launch)?;
    let by_address = format!("{}/devstoreaccount1/twins", emulator.origin);
    let (status, answer) = create_target(&server, "by-address", azure(&by_address)).await?;
    assert_eq!(status, 201, "{answer}");
    assert!(
        !emulator.received().is_empty(),
        "the emulator was not reached"
    );
    proxy.assert_untouched();
    Ok(())
}

/// Runs a JSON push job of `submodel_id` to the target `target`: the job once it is no longer
/// processing.
async fn push_job(server: &Server, target: &str, submodel_id: &str) -> Result<Value, Failure> {
    let response = reqwest::Client::new()
        .post(server.url("/sphere/push/jobs"))
        .json(
            &json!({"pushTargetName": target, "serializationFormat": "application/json",
            "submodelIds": [submodel_id]}),
        )
        .send()
        .await?;
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or("no Location")?;
    for _ in 0..200 {
        let job = call(server, Method::GET, &location, None).await?.1;
        if job["state"] != "processing" {
            return Ok(job);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("the job {location} still runs after 10 s").into())
}

/// The requests any of `fakes` received with a SAS signature (`sig=`) in their `Referer`.
fn sas_in_referer(fakes: &[&Fake]) -> Vec<Received> {
    fakes
        .iter()
        .flat_map(|fake| fake.received())
        .filter(|r| {
            r.headers
                .iter()
                .any(|(name, value)| name == "referer" && value.contains("sig="))
        })
        .collect()
}

/// A store answering its connection test (HEAD) with 302 and uploads (PUT) with 303, both to
/// another origin: a followed redirect would send that origin the request, and reqwest's
/// default policy a `Referer` with the SAS signature of the URL redirected from.
#[tokio::test]
async fn a_push_target_redirecting_to_another_origin_sends_it_nothing() -> TestResult {
    use std::sync::atomic::{AtomicBool, Ordering};
    let other = Fake::start([127, 0, 0, 3], |_| StatusCode::NOT_FOUND.into_response()).await?;
    // Redirecting, except while the targets for the upload case are created.
    let redirecting = Arc::new(AtomicBool::new(true));
    let store = {
        let redirecting = redirecting.clone();
        let location = format!("{}/stolen", other.origin);
        Fake::start_by_method([127, 0, 0, 2], move |method, _| {
            if !redirecting.load(Ordering::SeqCst) {
                return StatusCode::NOT_FOUND.into_response();
            }
            let status = if method == Method::PUT || method == Method::POST {
                StatusCode::SEE_OTHER
            } else {
                StatusCode::FOUND
            };
            (status, [("location", location.clone())]).into_response()
        })
        .await?
    };
    let (_data, server) = launch("ssrf-push-redirect", "", &["--allow-insecure-targets"])?;
    let container = format!("{}/devstoreaccount1/twins", store.origin);
    let targets = [("azure", azure(&container)), ("s3", s3(&store.origin))];
    let not_followed = |status: u16| {
        format!(
            "HTTP {status}, a redirect to {}, which is not followed",
            other.origin
        )
    };

    // The connection test of a new target.
    let mut answers = Vec::new();
    for (name, target) in &targets {
        answers.push((name, create_target(&server, name, target.clone()).await?));
    }
    // What reached whom first: a failing assertion below should show a leak, not a status.
    let leaked = sas_in_referer(&[&store, &other]);
    assert!(leaked.is_empty(), "a Referer carried the SAS: {leaked:?}");
    other.assert_untouched();
    for (name, (status, answer)) in answers {
        assert_eq!(status, 400, "{name}: {answer}");
        let text = answer.to_string();
        assert!(
            text.contains("connection test") && text.contains(&not_followed(302)),
            "{name}: {text}"
        );
        assert!(
            !text.contains("c2VjcmV0") && !text.contains("s3cr3t"),
            "a secret shows: {text}"
        );
    }
    let checks = store.received();
    assert!(
        checks.len() == 2 && checks.iter().all(|r| r.method == "HEAD"),
        "one HEAD per connection test: {checks:?}"
    );

    // Uploads: targets stored while the store answers 404 (the connection test passes).
    redirecting.store(false, Ordering::SeqCst);
    for (name, target) in &targets {
        let (status, answer) = create_target(&server, name, target.clone()).await?;
        assert_eq!(status, 201, "{name}: {answer}");
    }
    let (status, answer) = call(
        &server,
        Method::POST,
        "/submodels",
        Some(json!({"id": "urn:sm:redirected", "modelType": "Submodel"})),
    )
    .await?;
    assert_eq!(status, 201, "{answer}");
    redirecting.store(true, Ordering::SeqCst);
    let mut jobs = Vec::new();
    for (name, _) in &targets {
        jobs.push((name, push_job(&server, name, "urn:sm:redirected").await?));
    }
    let leaked = sas_in_referer(&[&store, &other]);
    assert!(leaked.is_empty(), "a Referer carried the SAS: {leaked:?}");
    other.assert_untouched();
    for (name, job) in jobs {
        assert_eq!(job["state"], "failed", "{name}: {job}");
        assert!(
            job.to_string().contains(&not_followed(303)),
            "{name}: {job}"
        );
    }
    let received = store.received();
    let puts = received.iter().filter(|r| r.method == "PUT").count();
    assert_eq!(puts, 2, "one PUT per job, none retried: {received:?}");
    Ok(())
}
