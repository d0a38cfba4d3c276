//! `reference-server serve` for the tests: started on free 127.0.0.1 ports (HTTP and the
//! embedded MQTT broker) with its own data directory, killed by PID when dropped.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;
pub type Failure = Box<dyn std::error::Error>;

/// A data directory, removed when dropped; it outlives server processes (restart tests).
pub struct DataDir(pub PathBuf);

impl DataDir {
    pub fn new(name: &str) -> Self {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("server-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        DataDir(path)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub use aas_conformance_tests::free_loopback_port as free_port;

/// A running server process.
pub struct Server {
    child: Child,
    pub base: String,
    pub port: u16,
    /// The embedded broker's port (0 with an external broker).
    pub mqtt_port: u16,
    pub data: PathBuf,
    pub log: PathBuf,
}

/// How to start a server.
#[derive(Default, Clone)]
pub struct Launch {
    pub args: Vec<String>,
    pub envs: Vec<(String, String)>,
    /// Use this broker instead of the embedded one.
    pub external_broker: Option<String>,
    pub hold_events: bool,
    /// Start the server under this limit on open files (`ulimit -n`, soft and hard).
    pub open_files: Option<u64>,
}

impl Launch {
    pub fn hold_events() -> Self {
        Self {
            hold_events: true,
            ..Self::default()
        }
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }
}

impl Server {
    /// A server whose events stay in the outbox (tests that read the outbox).
    pub fn start(data: &DataDir) -> Result<Self, Failure> {
        Self::launch(data, &Launch::hold_events())
    }

    pub fn launch(data: &DataDir, launch: &Launch) -> Result<Self, Failure> {
        let mut last_error = String::new();
        // A port picked as free can be taken before the server binds it: try a few.
        for _ in 0..3 {
            match Self::try_launch(data, launch) {
                Ok(server) => return Ok(server),
                Err(error) => last_error = error.to_string(),
            }
        }
        Err(last_error.into())
    }

    fn try_launch(data: &DataDir, launch: &Launch) -> Result<Self, Failure> {
        let port = free_port();
        std::fs::create_dir_all(&data.0)?;
        let log = data.0.with_extension(format!("{port}.log"));
        let binary = env!("CARGO_BIN_EXE_reference-server");
        let mut command = match launch.open_files {
            Some(limit) => {
                let mut shell = Command::new("sh");
                shell
                    .arg("-c")
                    .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
                    .arg(binary);
                shell
            }
            None => Command::new(binary),
        };
        command
            .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--data"])
            .arg(&data.0)
            .args(&launch.args)
            .env_remove("AAS_SERVER_HOLD_EVENTS")
            .env("AAS_SERVER_LOG", "info")
            .envs(launch.envs.iter().map(|(k, v)| (k, v)));
        let mqtt_port = match &launch.external_broker {
            Some(url) => {
                command.args(["--mqtt-url", url]);
                0
            }
            None => {
                let mqtt_port = free_port();
                command.args(["--mqtt-listen", &format!("127.0.0.1:{mqtt_port}")]);
                mqtt_port
            }
        };
        if launch.hold_events {
            command.env("AAS_SERVER_HOLD_EVENTS", "1");
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()?;
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            port,
            mqtt_port,
            data: data.0.clone(),
            log,
        };
        // Its own log says this process bound the port (a connection could reach another
        // test's server on it, should one have taken the port first); the embedded broker's
        // port is bound before it, or the server exits.
        let listening = format!("listening on http://127.0.0.1:{port}");
        for _ in 0..400 {
            if server.log_text().contains(&listening) {
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(
                    format!("the server exited with {status}: {}", server.log_text()).into(),
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Err(format!(
            "the server did not listen within 10 s: {}",
            server.log_text()
        )
        .into())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the process is still running (it did not exit or crash).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits (bounded) for the process to end; its exit status.
    pub fn terminate(&mut self) -> Result<std::process::ExitStatus, Failure> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        if !status.success() {
            return Err("kill -TERM failed".into());
        }
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Err("the server did not stop within 5 s of SIGTERM".into())
    }

    pub fn outbox_topics(&self) -> Result<Vec<String>, Failure> {
        let connection = rusqlite::Connection::open(self.data.join("repository.sqlite"))?;
        let mut statement = connection.prepare("SELECT topic FROM outbox ORDER BY sequence")?;
        let topics = statement
            .query_map([], |row| row.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(topics)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.log);
    }
}

pub fn b64(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

/// A raw MQTT subscriber (QoS 1, persistent session): what the server sent, byte for byte.
pub struct Collector {
    client: rumqttc::AsyncClient,
    received: tokio::sync::mpsc::UnboundedReceiver<(String, Vec<u8>)>,
    task: tokio::task::JoinHandle<()>,
}

impl Collector {
    /// Connects to `127.0.0.1:port` as `client_id` and subscribes to `filter`; returns once
    /// the broker granted the subscription.
    pub async fn subscribe(port: u16, client_id: &str, filter: &str) -> Result<Self, Failure> {
        use rumqttc::{Event, Packet, QoS};
        let mut options = rumqttc::MqttOptions::new(client_id, "127.0.0.1", port);
        options
            .set_clean_session(false)
            .set_max_packet_size(32 << 20, 32 << 20)
            .set_keep_alive(Duration::from_secs(5));
        let (client, mut events) = rumqttc::AsyncClient::new(options, 1000);
        let (sender, received) = tokio::sync::mpsc::unbounded_channel();
        let (subscribed, granted) = tokio::sync::oneshot::channel();
        let resubscribe = client.clone();
        let filter_text = filter.to_owned();
        let task = tokio::spawn(async move {
            let mut subscribed = Some(subscribed);
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(ack))) if !ack.session_present => {
                        let _ = resubscribe
                            .subscribe(filter_text.clone(), QoS::AtLeastOnce)
                            .await;
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        if let Some(subscribed) = subscribed.take() {
                            let _ = subscribed.send(());
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(publish))) => {
                        let _ = sender.send((publish.topic.clone(), publish.payload.to_vec()));
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        let collector = Self {
            client,
            received,
            task,
        };
        // A session the broker kept needs no new subscription: the first message shows it.
        match tokio::time::timeout(Duration::from_secs(10), granted).await {
            Ok(Ok(())) => Ok(collector),
            _ => Err(format!("no SUBACK for {filter} from 127.0.0.1:{port} within 10 s").into()),
        }
    }

    /// The next message, or `None` after `wait` without one.
    pub async fn next(&mut self, wait: Duration) -> Option<(String, Vec<u8>)> {
        tokio::time::timeout(wait, self.received.recv())
            .await
            .ok()
            .flatten()
    }

    /// Messages until `enough` says the list is complete or `wait` passes.
    pub async fn until(
        &mut self,
        wait: Duration,
        enough: impl Fn(&[(String, Vec<u8>)]) -> bool,
    ) -> Vec<(String, Vec<u8>)> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut messages = Vec::new();
        while !enough(&messages) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(message) => messages.push(message),
                None => break,
            }
        }
        messages
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.task.abort();
        let _ = self.client.try_disconnect();
    }
}

/// A server the tests call: a process over HTTP ([`Server`]) or the router in process
/// ([`InProcess`]).
pub trait Api {
    /// Sends `body` (with its content type, if any) and `headers` with `method` to `path`:
    /// the status, the headers and the answer.
    fn request_with(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, Vec<u8>)>,
    ) -> impl std::future::Future<Output = Result<(u16, reqwest::header::HeaderMap, Vec<u8>), Failure>>;

    /// [`Api::request_with`] without further headers.
    fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> impl std::future::Future<Output = Result<(u16, reqwest::header::HeaderMap, Vec<u8>), Failure>>
    {
        self.request_with(method, path, &[], body)
    }
}

impl Api for Server {
    async fn request_with(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), Failure> {
        let mut request = reqwest::Client::new().request(method, self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some((content_type, bytes)) = body {
            request = request.header("content-type", content_type).body(bytes);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        Ok((status, headers, response.bytes().await?.to_vec()))
    }
}

/// The HTTP API in process: the router over a new SQLite repository in memory
/// (`serve::in_memory_router`: the server's version, no broker, push or twins), called with
/// `tower::ServiceExt::oneshot`. For API tests that need no port, process, restart, broker or
/// disk: they run in milliseconds.
pub struct InProcess {
    router: axum::Router,
    outbox: reference_server::serve::Outbox,
}

impl InProcess {
    pub fn new() -> Result<Self, Failure> {
        let (router, outbox) = reference_server::serve::in_memory_api(Default::default())
            .map_err(|e| -> Failure { e })?;
        Ok(Self { router, outbox })
    }

    /// The topics of the events in the outbox, oldest first (nothing publishes them here).
    pub async fn outbox_topics(&self) -> Result<Vec<String>, Failure> {
        self.outbox.topics().await.map_err(|e| -> Failure { e })
    }
}

impl Api for InProcess {
    async fn request_with(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), Failure> {
        use tower::ServiceExt;
        let mut request = axum::http::Request::builder()
            .method(method.as_str())
            .uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let bytes = match body {
            Some((content_type, bytes)) => {
                request = request.header("content-type", content_type);
                bytes
            }
            None => Vec::new(),
        };
        let response = self
            .router
            .clone()
            .oneshot(request.body(axum::body::Body::from(bytes))?)
            .await?;
        let status = response.status().as_u16();
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in response.headers() {
            headers.append(
                reqwest::header::HeaderName::from_bytes(name.as_str().as_bytes())?,
                reqwest::header::HeaderValue::from_bytes(value.as_bytes())?,
            );
        }
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
        Ok((status, headers, bytes.to_vec()))
    }
}

/// Sends `body` (JSON, if any) with `method` to `path`: the status and the answer as JSON
/// (`null` when it is not JSON).
pub async fn call(
    api: &impl Api,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<(u16, serde_json::Value), Failure> {
    let body = body.map(|body| ("application/json", body.to_string().into_bytes()));
    let (status, _, bytes) = api.request(method, path, body).await?;
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    ))
}

/// A multipart body as Part 2's attachment upload takes it (`fileName` and `file`, a PDF):
/// its content type and bytes.
pub fn multipart(file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----aas-rs-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"fileName\"\r\n\r\n{file_name}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
