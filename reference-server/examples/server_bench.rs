//! The repository API under load from a second process, in one run, side by side:
//!
//! - this build's `reference-server` (the release binary next to this example);
//! - optionally a baseline binary (`AAS_BENCH_BASELINE=/path/to/reference-server`, e.g. 542e431's);
//! - optionally the BaSyx Python SDK's own server (`AAS_BENCH_BASYX=/path/to/serve.sh`, the peer
//!   under `../shared/peers/basyx-python-sdk`; `bench/server.sh` sets it when the script exists);
//! - the floor: a minimal axum handler answering GET of the submodel with the same bytes from memory
//!   and PUT with 204 without reading the body.
//!
//! Workloads:
//!
//! 1. Listing `GET /shells?limit=100` with 1,000 and with 100,000 shells stored (one server
//!    process per size, all loading the same generated file): milliseconds per page for the first
//!    page and for the page in the middle. The middle is reached by following
//!    `paging_metadata.cursor` (opaque) with `limit=AAS_BENCH_WALK`; its cursor is then requested
//!    with `limit=100`. How long each server takes to load the file is measured apart (until it
//!    answers, and until its CPU is idle: our servers drain the load's events), never in a page.
//! 2. GET (32 clients) and PUT (8 clients) of one 50 KB submodel (make_big_env's submodels
//!    merged, the one the event benchmarks use), on the 1,000-shell servers and the floor.
//! 3. Change → event: PUT of that submodel → its `updated` event received by a subscriber of the
//!    embedded broker, one change at a time (our servers only: the peer has no events).
//!
//! Every measurement alternates over the servers, round after round; medians. The tables are
//! markdown (stdout); progress goes to stderr.
//!
//!   cargo build --release -p reference-server --bin reference-server --example server_bench
//!   target/release/examples/server_bench run      (bash bench/server.sh does both; its header
//!                                                 lists the knobs, all AAS_BENCH_* variables)
//!
//! Two more modes serve profiling one server (`bench/profile.sh` uses them):
//!
//!   server_bench submodel FILE                    writes the 50 KB submodel to FILE
//!   server_bench load URL[,URL…] CLIENTS SECONDS [BODY]  GET of URL (PUT of BODY's bytes when
//!                                                 given), the clients spread over the URLs
//!                                                 by CLIENTS clients: requests, req/s, p50, p99

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aas_model::Submodel;
use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use aas_conformance_tests::bench_input as sample;

type Error = Box<dyn std::error::Error + Send + Sync>;
type Result<T> = std::result::Result<T, Error>;

/// Shells per page in the measured listings.
const PAGE: usize = 100;
const GET_CLIENTS: usize = 32;
const PUT_CLIENTS: usize = 8;

/// What the environment variables set (`bench/server.sh` documents them).
struct Knobs {
    seconds: u64,
    rounds: usize,
    pages: usize,
    walk: usize,
    sizes: Vec<usize>,
    changes: usize,
    baseline: Option<PathBuf>,
    baseline_name: String,
    basyx: Option<PathBuf>,
    basyx_max_shells: usize,
    load_timeout: Duration,
    load_durability: String,
    durability: Option<String>,
}

fn knob<T: FromStr>(name: &str, default: T) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(text) if !text.trim().is_empty() => text
            .trim()
            .parse()
            .map_err(|e| format!("{name}={text:?}: {e}").into()),
        _ => Ok(default),
    }
}

fn path_knob(name: &str) -> Result<Option<PathBuf>> {
    match std::env::var_os(name) {
        Some(path) if !path.is_empty() => {
            let path = PathBuf::from(path);
            if !path.is_file() {
                return Err(format!("{name}={}: no such file", path.display()).into());
            }
            Ok(Some(path))
        }
        _ => Ok(None),
    }
}

impl Knobs {
    fn from_env() -> Result<Self> {
        let sizes = knob("AAS_BENCH_SHELLS", "1000,100000".to_owned())?
            .split(',')
            .map(|n| n.trim().replace('_', "").parse::<usize>())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| format!("AAS_BENCH_SHELLS: {e}"))?;
        if sizes.is_empty() || sizes.iter().any(|&n| n < 2 * PAGE) {
            return Err(format!("AAS_BENCH_SHELLS: sizes of at least {} shells", 2 * PAGE).into());
        }
        let knobs = Self {
            seconds: knob("AAS_BENCH_SECONDS", 5)?,
            rounds: knob("AAS_BENCH_ROUNDS", 3)?,
            pages: knob("AAS_BENCH_PAGES", 3)?,
            walk: knob("AAS_BENCH_WALK", 1000)?,
            sizes,
            changes: knob("AAS_BENCH_CHANGES", 300)?,
            baseline: path_knob("AAS_BENCH_BASELINE")?,
            baseline_name: knob("AAS_BENCH_BASELINE_NAME", "baseline".to_owned())?,
            basyx: path_knob("AAS_BENCH_BASYX")?,
            basyx_max_shells: knob("AAS_BENCH_BASYX_MAX_SHELLS", 100_000)?,
            load_timeout: Duration::from_secs(knob("AAS_BENCH_LOAD_TIMEOUT", 600)?),
            load_durability: knob("AAS_BENCH_LOAD_DURABILITY", "normal".to_owned())?,
            durability: std::env::var("AAS_BENCH_DURABILITY")
                .ok()
                .filter(|d| !d.is_empty()),
        };
        if knobs.rounds == 0 || knobs.pages == 0 || knobs.walk == 0 || knobs.seconds == 0 {
            return Err("AAS_BENCH_ROUNDS, _PAGES, _WALK and _SECONDS must be at least 1".into());
        }
        Ok(knobs)
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_for(port: u16) -> Result<()> {
    for _ in 0..400 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    Err(format!("nothing listens on 127.0.0.1:{port}").into())
}

/// A child process killed by its PID when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// CPU time (user + system) of a process so far, from `/proc` (Linux).
fn cpu_time(pid: u32) -> Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The fields after the command name (in parentheses): state is the first, utime the 12th.
    let (_, rest) = stat.rsplit_once(')').ok_or("unreadable /proc/PID/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> Result<u64> {
        Ok(fields
            .get(i)
            .ok_or("short /proc/PID/stat")?
            .parse::<u64>()?)
    };
    // USER_HZ is 100 on Linux.
    Ok(Duration::from_millis((ticks(11)? + ticks(12)?) * 10))
}

/// Resident memory of a process, in MB.
fn rss_mb(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .ok_or("no VmRSS in /proc/PID/status")?
        .parse::<f64>()?;
    Ok(kb / 1000.0)
}

/// Waits until the process uses less than 5 % of a core over a second (or `limit` passed).
async fn settle(pid: u32, limit: Duration) -> Result<()> {
    let started = Instant::now();
    let mut before = cpu_time(pid)?;
    while started.elapsed() < limit {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = cpu_time(pid)?;
        if now.saturating_sub(before) < Duration::from_millis(50) {
            return Ok(());
        }
        before = now;
    }
    eprintln!("  (process {pid} still busy after {limit:?}; measuring anyway)");
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Ours,
    Baseline,
    Basyx,
    Floor,
}

impl Kind {
    fn slug(self) -> &'static str {
        match self {
            Self::Ours => "ours",
            Self::Baseline => "baseline",
            Self::Basyx => "basyx",
            Self::Floor => "floor",
        }
    }
}

/// A server process with its data loaded.
struct Server {
    kind: Kind,
    shells: usize,
    /// Where the API's routes start (`http://127.0.0.1:PORT` or `.../api/v3.0`).
    api: String,
    mqtt_port: Option<u16>,
    process: Process,
    ready: Duration,
    settled: Duration,
    rss_mb: f64,
    /// Our servers load in a process of their own, stopped once idle: how long that one took to
    /// answer and to become idle. `None`: the server loads at every start (the peer).
    loaded: Option<(Duration, Duration)>,
}

/// Starts a server and waits until `GET {api}/shells?limit=1` answers, then until it is idle.
async fn start(
    kind: Kind,
    shells: usize,
    mut command: Command,
    api: String,
    mqtt_port: Option<u16>,
    log: &Path,
    knobs: &Knobs,
) -> Result<Server> {
    let started = Instant::now();
    let mut process = Process(
        command
            .stdout(Stdio::from(File::create(log)?))
            .stderr(Stdio::from(File::create(log.with_extension("err"))?))
            .spawn()?,
    );
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let probe = format!("{api}/shells?limit=1");
    loop {
        if let Some(status) = process.0.try_wait()? {
            return Err(format!(
                "{} ({shells} shells) ended with {status} while starting; see {}",
                kind.slug(),
                log.with_extension("err").display()
            )
            .into());
        }
        if started.elapsed() > knobs.load_timeout {
            return Err(format!(
                "{} ({shells} shells) did not answer within {:?} (AAS_BENCH_LOAD_TIMEOUT)",
                kind.slug(),
                knobs.load_timeout
            )
            .into());
        }
        if let Ok(response) = client.get(&probe).send().await
            && response.status().is_success()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ready = started.elapsed();
    let pid = process.0.id();
    settle(pid, knobs.load_timeout).await?;
    let settled = started.elapsed();
    let rss_mb = rss_mb(pid)?;
    eprintln!(
        "  {} with {shells} shells: answers after {:.1} s, idle after {:.1} s, {rss_mb:.0} MB",
        kind.slug(),
        ready.as_secs_f64(),
        settled.as_secs_f64()
    );
    Ok(Server {
        kind,
        shells,
        api,
        mqtt_port,
        process,
        ready,
        settled,
        rss_mb,
        loaded: None,
    })
}

/// Stops a server with SIGTERM (its graceful shutdown), SIGKILL after 30 s.
async fn stop(mut process: Process) -> Result<()> {
    let pid = process.0.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status()?;
    let started = Instant::now();
    while process.0.try_wait()?.is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            eprintln!("  (process {pid} still running 30 s after SIGTERM: killed)");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(process);
    Ok(())
}

async fn start_reference(
    kind: Kind,
    binary: &Path,
    shells: usize,
    environment: &Path,
    dir: &Path,
    knobs: &Knobs,
) -> Result<Server> {
    let name = format!("{}-{shells}", kind.slug());
    let command = |load: bool| -> Result<(Command, String, u16)> {
        let (port, mqtt_port) = (free_port()?, free_port()?);
        let mut command = Command::new(binary);
        command
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(["--mqtt-listen", &format!("127.0.0.1:{mqtt_port}"), "--data"])
            .arg(dir.join(&name))
            // A V3.0 server, as 542e431 and the peer are: the 50 KB submodel is V3.0 data that
            // V3.1 refuses (xs:anyURI values). A binary without the setting ignores it.
            .env("AAS_SERVER_AAS_VERSION", "3.0")
            .env("AAS_SERVER_LOG", "warn");
        if load {
            // `--load` commits element by element: synced commits (`full`) would make loading
            // 100,000 shells take many minutes. The measured process runs with the defaults.
            command
                .arg("--load")
                .arg(environment)
                .env("AAS_SERVER_DURABILITY", &knobs.load_durability);
        } else if let Some(durability) = &knobs.durability {
            command.env("AAS_SERVER_DURABILITY", durability);
        }
        Ok((command, format!("http://127.0.0.1:{port}"), mqtt_port))
    };
    // Load in a process of its own, stopped once idle; then start the measured one on the data.
    let (loading, api, mqtt_port) = command(true)?;
    let log = dir.join(format!("{name}-load.log"));
    let loader = start(kind, shells, loading, api, Some(mqtt_port), &log, knobs).await?;
    let loaded = (loader.ready, loader.settled);
    stop(loader.process).await?;
    let (serving, api, mqtt_port) = command(false)?;
    let log = dir.join(format!("{name}.log"));
    let mut server = start(kind, shells, serving, api, Some(mqtt_port), &log, knobs).await?;
    server.loaded = Some(loaded);
    Ok(server)
}

async fn start_basyx(
    serve: &Path,
    shells: usize,
    environment: &Path,
    dir: &Path,
    knobs: &Knobs,
) -> Result<Server> {
    let port = free_port()?;
    let name = format!("basyx-{shells}");
    // serve.sh loads every file of its data directory: give it this one alone.
    let data = dir.join(&name);
    std::fs::create_dir_all(&data)?;
    let file = data.join("environment.json");
    if std::fs::hard_link(environment, &file).is_err() {
        std::fs::copy(environment, &file)?;
    }
    let mut command = Command::new("bash");
    command.arg(serve).arg(port.to_string()).arg(&data);
    let api = format!("http://127.0.0.1:{port}/api/v3.0");
    let log = dir.join(format!("{name}.log"));
    start(Kind::Basyx, shells, command, api, None, &log, knobs).await
}

/// The floor: the least an axum server does to answer the same requests.
async fn floor(port: u16, body: PathBuf) -> Result<()> {
    let bytes = Bytes::from(std::fs::read(body)?);
    let app = Router::new().route(
        "/submodels/{id}",
        get(move || {
            let bytes = bytes.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], bytes) }
        })
        .put(|_body: Bytes| async { StatusCode::NO_CONTENT }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// `n` shells as JSON, each with an idShort, asset information (a global and a specific asset
/// id) and a reference to a submodel (not stored), as a registry-like repository holds them.
fn shells_json(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({
                "modelType": "AssetAdministrationShell",
                "id": format!("https://example.com/bench/shells/{i:06}"),
                "idShort": format!("shell{i:06}"),
                "assetInformation": {
                    "assetKind": "Instance",
                    "globalAssetId": format!("https://example.com/bench/assets/{i:06}"),
                    "specificAssetIds": [{"name": "serialNumber", "value": format!("SN-{i:06}")}]
                },
                "submodels": [{
                    "type": "ModelReference",
                    "keys": [{
                        "type": "Submodel",
                        "value": format!("https://example.com/bench/submodels/{i:06}/nameplate")
                    }]
                }]
            })
        })
        .collect()
}

/// The file every server of one size loads: `n` shells and the 50 KB submodel.
fn write_environment(path: &Path, shells: usize, submodel: &Value) -> Result<u64> {
    let environment = json!({
        "assetAdministrationShells": shells_json(shells),
        "submodels": [submodel],
    });
    let mut out = BufWriter::new(File::create(path)?);
    serde_json::to_writer(&mut out, &environment)?;
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

fn with_cursor(url: &str, cursor: Option<&str>) -> String {
    match cursor {
        Some(cursor) => format!(
            "{url}&cursor={}",
            form_urlencoded::byte_serialize(cursor.as_bytes()).collect::<String>()
        ),
        None => url.to_owned(),
    }
}

/// One listing request: the time until the whole body arrived, and the body read as JSON.
async fn list(client: &reqwest::Client, url: &str) -> Result<(Duration, Value)> {
    let sent = Instant::now();
    let response = client.get(url).send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    let elapsed = sent.elapsed();
    if !status.is_success() {
        return Err(format!(
            "GET {url}: {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        )
        .into());
    }
    Ok((elapsed, serde_json::from_slice(&body)?))
}

fn page_of(url: &str, body: &Value) -> Result<(usize, Option<String>)> {
    let items = body
        .get("result")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("GET {url}: no result array"))?
        .len();
    let cursor = body
        .pointer("/paging_metadata/cursor")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok((items, cursor))
}

/// Follows the cursors from the first page until half the shells are behind: the cursor of the
/// page in the middle.
async fn cursor_of_middle(
    client: &reqwest::Client,
    server: &Server,
    walk: usize,
) -> Result<String> {
    let (target, mut seen, mut cursor, mut requests) = (server.shells / 2, 0, None, 0);
    let started = Instant::now();
    while seen < target {
        let limit = walk.min(target - seen);
        let url = with_cursor(
            &format!("{}/shells?limit={limit}", server.api),
            cursor.as_deref(),
        );
        let (_, body) = list(client, &url).await?;
        let (items, next) = page_of(&url, &body)?;
        requests += 1;
        if items == 0 {
            return Err(format!("GET {url}: an empty page after {seen} shells").into());
        }
        seen += items;
        cursor = Some(next.ok_or_else(|| format!("GET {url}: no cursor after {seen} shells"))?);
    }
    eprintln!(
        "  {} with {} shells: {requests} requests (limit={walk}) to the middle, {:.1} s",
        server.kind.slug(),
        server.shells,
        started.elapsed().as_secs_f64()
    );
    cursor.ok_or_else(|| "no cursor".into())
}

/// Listing times, ms per page: (kind, shells, middle?) → samples.
type Listings = BTreeMap<(Kind, usize, bool), Vec<f64>>;

async fn measure_listings(servers: &[Server], knobs: &Knobs) -> Result<Listings> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()?;
    let mut urls = Vec::new();
    for server in servers {
        let first = format!("{}/shells?limit={PAGE}", server.api);
        let middle = cursor_of_middle(&client, server, knobs.walk).await?;
        let middle = with_cursor(&first, Some(&middle));
        urls.push((server, first, middle));
    }
    let mut samples = Listings::new();
    for _ in 0..knobs.rounds {
        for (server, first, middle) in &urls {
            for (is_middle, url) in [(false, first), (true, middle)] {
                for _ in 0..knobs.pages {
                    let (elapsed, body) = list(&client, url).await?;
                    let (items, _) = page_of(url, &body)?;
                    if items != PAGE {
                        return Err(format!("GET {url}: {items} shells, not {PAGE}").into());
                    }
                    samples
                        .entry((server.kind, server.shells, is_middle))
                        .or_default()
                        .push(elapsed.as_secs_f64() * 1e3);
                }
            }
        }
    }
    Ok(samples)
}

struct Load {
    requests: usize,
    rps: f64,
    p50: Duration,
    p99: Duration,
}

/// `concurrency` clients sending the request as fast as answered, for `seconds`.
async fn load(
    url: String,
    put: Option<Arc<Vec<u8>>>,
    concurrency: usize,
    seconds: u64,
) -> Result<Load> {
    load_spread(&[url], put, concurrency, seconds).await
}

/// [`load`] with the clients spread over `urls` in turn (replicas of one server).
async fn load_spread(
    urls: &[String],
    put: Option<Arc<Vec<u8>>>,
    concurrency: usize,
    seconds: u64,
) -> Result<Load> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(60))
        .build()?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..concurrency {
        let url = urls.get(n % urls.len().max(1)).cloned().unwrap_or_default();
        let (client, put) = (client.clone(), put.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let sent = Instant::now();
                let request = match &put {
                    Some(body) => client
                        .put(&url)
                        .header("content-type", "application/json")
                        .body(body.as_ref().clone()),
                    None => client.get(&url),
                };
                let response = request.send().await?;
                let status = response.status();
                let body = response.bytes().await?;
                if !status.is_success() {
                    return Err::<_, Error>(
                        format!(
                            "{url}: {status}: {}",
                            String::from_utf8_lossy(&body[..body.len().min(300)])
                        )
                        .into(),
                    );
                }
                latencies.push(sent.elapsed());
            }
            Ok(latencies)
        });
    }
    let mut all = Vec::new();
    while let Some(result) = tasks.join_next().await {
        all.extend(result??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let at = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Ok(Load {
        requests: all.len(),
        rps: all.len() as f64 / elapsed,
        p50: at(0.50),
        p99: at(0.99),
    })
}

/// A subscriber to one submodel's `updated` events on a server's embedded broker.
struct Watcher {
    _client: rumqttc::AsyncClient,
    received: tokio::sync::mpsc::UnboundedReceiver<Instant>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Watcher {
    async fn new(name: &str, mqtt_port: u16, id: &str) -> Result<Self> {
        use rumqttc::{Event, Packet, QoS};
        let mut options =
            rumqttc::MqttOptions::new(format!("bench-watcher-{name}"), "127.0.0.1", mqtt_port);
        options.set_max_packet_size(32 << 20, 32 << 20);
        let (client, mut events) = rumqttc::AsyncClient::new(options, 100);
        let topic = format!(
            "twinsphere/submodels/{}/updated",
            URL_SAFE_NO_PAD.encode(id)
        );
        client.subscribe(topic, QoS::AtLeastOnce).await?;
        let (sender, received) = tokio::sync::mpsc::unbounded_channel();
        let (subscribed, granted) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut subscribed = Some(subscribed);
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        if let Some(s) = subscribed.take() {
                            let _ = s.send(());
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(_))) => {
                        let _ = sender.send(Instant::now());
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(10), granted).await??;
        Ok(Self {
            _client: client,
            received,
            task,
        })
    }

    /// PUT → `updated` event received, `n` changes one at a time.
    async fn changes(&mut self, url: &str, body: &Arc<Vec<u8>>, n: usize) -> Result<Vec<f64>> {
        let http = reqwest::Client::new();
        while self.received.try_recv().is_ok() {}
        let mut latencies = Vec::new();
        for _ in 0..n {
            let sent = Instant::now();
            let response = http
                .put(url)
                .header("content-type", "application/json")
                .body(body.as_ref().clone())
                .send()
                .await?;
            if !response.status().is_success() {
                return Err(format!("PUT {url}: {}", response.status()).into());
            }
            let arrived = tokio::time::timeout(Duration::from_secs(10), self.received.recv())
                .await?
                .ok_or("subscriber ended")?;
            latencies.push((arrived - sent).as_secs_f64() * 1e3);
        }
        Ok(latencies)
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or(f64::NAN)
}

fn ms(value: f64) -> String {
    if value.is_nan() {
        "—".to_owned()
    } else if value < 10.0 {
        format!("{value:.2} ms")
    } else if value < 100.0 {
        format!("{value:.1} ms")
    } else {
        format!("{} ms", thousands(value))
    }
}

fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if value < 0.0 { format!("-{out}") } else { out }
}

fn ratio(a: f64, b: f64) -> String {
    if a.is_nan() || b.is_nan() || b == 0.0 {
        "—".to_owned()
    } else if a / b >= 10.0 {
        format!("{:.0}", a / b)
    } else if a / b < 0.1 {
        format!("{:.3}", a / b)
    } else {
        format!("{:.2}", a / b)
    }
}

fn row(cells: &[String]) -> String {
    format!("| {} |", cells.join(" | "))
}

fn header(cells: &[String]) -> String {
    format!("{}\n|{}", row(cells), "---|".repeat(cells.len()))
}

async fn run() -> Result<()> {
    let knobs = Knobs::from_env()?;
    let started = Instant::now();
    let server_bin = match path_knob("AAS_BENCH_SERVER")? {
        Some(path) => path,
        None => std::env::current_exe()?
            .parent()
            .and_then(Path::parent)
            .map(|release| release.join("reference-server"))
            .ok_or("no target dir")?,
    };
    // The submodel the event benchmarks use: make_big_env's submodels merged to 50 KB.
    let submodel: Submodel = sample::submodel_of_size(50_000);
    let body = Arc::new(aas_serde::json::to_vec(&submodel));
    let submodel_json: Value = serde_json::from_slice(&body)?;
    let dir = std::env::temp_dir().join(format!("server-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let body_file = dir.join("submodel.json");
    std::fs::write(&body_file, body.as_ref())?;

    let mut kinds = vec![(Kind::Ours, "this build".to_owned())];
    if knobs.baseline.is_some() {
        kinds.push((Kind::Baseline, knobs.baseline_name.clone()));
    }
    if knobs.basyx.is_some() {
        kinds.push((Kind::Basyx, "BaSyx Python".to_owned()));
    }
    let name_of = |kind: Kind| {
        kinds
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or("floor".to_owned(), |(_, name)| name.clone())
    };
    let mut notes = Vec::new();

    // Data and servers: one process per binary and size, all loading the same file.
    eprintln!("starting the servers (loading is not measured as part of any request)");
    let mut servers = Vec::new();
    let mut files = BTreeMap::new();
    for &shells in &knobs.sizes {
        let file = dir.join(format!("environment-{shells}.json"));
        let bytes = write_environment(&file, shells, &submodel_json)?;
        files.insert(shells, bytes);
        servers.push(start_reference(Kind::Ours, &server_bin, shells, &file, &dir, &knobs).await?);
        if let Some(baseline) = &knobs.baseline {
            servers.push(
                start_reference(Kind::Baseline, baseline, shells, &file, &dir, &knobs).await?,
            );
        }
        if let Some(serve) = &knobs.basyx {
            if shells > knobs.basyx_max_shells {
                notes.push(format!(
                    "BaSyx Python was not given {} shells (AAS_BENCH_BASYX_MAX_SHELLS={}).",
                    thousands(shells as f64),
                    knobs.basyx_max_shells
                ));
            } else {
                match start_basyx(serve, shells, &file, &dir, &knobs).await {
                    Ok(server) => servers.push(server),
                    Err(e) => {
                        eprintln!("  {e}");
                        notes.push(format!(
                            "BaSyx Python with {} shells: {e}",
                            thousands(shells as f64)
                        ));
                    }
                }
            }
        }
        std::fs::remove_file(&file).ok();
    }

    // 1. Listings.
    eprintln!("listing: following cursors to the middle, then {PAGE} shells per page");
    let listings = measure_listings(&servers, &knobs).await?;

    // The servers with the fewest shells serve the remaining workloads; the others stop here.
    let smallest = knobs.sizes.iter().copied().min().unwrap_or_default();
    let mut loading = Vec::new();
    let mut small = Vec::new();
    for server in servers {
        loading.push((
            server.kind,
            server.shells,
            server.ready,
            server.settled,
            server.rss_mb,
            server.loaded,
        ));
        if server.shells == smallest {
            small.push(server);
        }
    }

    // 2. GET and PUT of the submodel, against the floor.
    let floor_port = free_port()?;
    let _floor = Process(
        Command::new(std::env::current_exe()?)
            .args(["floor", &floor_port.to_string()])
            .arg(&body_file)
            .spawn()?,
    );
    wait_for(floor_port)?;
    let id = URL_SAFE_NO_PAD.encode(&submodel.id);
    let mut targets: Vec<(Kind, String)> = small
        .iter()
        .map(|s| (s.kind, format!("{}/submodels/{id}", s.api)))
        .collect();
    targets.push((
        Kind::Floor,
        format!("http://127.0.0.1:{floor_port}/submodels/{id}"),
    ));
    eprintln!(
        "GET ({GET_CLIENTS} clients) and PUT ({PUT_CLIENTS} clients) of the {}-byte submodel, \
         {} s per measurement, {} rounds",
        body.len(),
        knobs.seconds,
        knobs.rounds
    );
    let mut loads: BTreeMap<(&str, Kind), Vec<Load>> = BTreeMap::new();
    for (name, put, concurrency) in [
        ("GET", None, GET_CLIENTS),
        ("PUT", Some(body.clone()), PUT_CLIENTS),
    ] {
        for _ in 0..knobs.rounds {
            for (kind, url) in &targets {
                if loads.get(&(name, *kind)).is_some_and(Vec::is_empty) {
                    continue; // failed before (the peer): not measured again
                }
                match load(url.clone(), put.clone(), concurrency, knobs.seconds).await {
                    Ok(result) => loads.entry((name, *kind)).or_default().push(result),
                    Err(e) if *kind == Kind::Basyx => {
                        eprintln!("  BaSyx Python {name}: {e}");
                        notes.push(format!("BaSyx Python {name} failed: {e}"));
                        loads.insert((name, *kind), Vec::new());
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }

    // 3. Change → event, on our servers.
    eprintln!("change → event: {} changes per server", knobs.changes);
    let mut watchers = Vec::new();
    for server in &small {
        if let Some(mqtt_port) = server.mqtt_port {
            settle(server.process.0.id(), Duration::from_secs(60)).await?;
            let watcher = Watcher::new(server.kind.slug(), mqtt_port, &submodel.id).await?;
            watchers.push((
                server.kind,
                format!("{}/submodels/{id}", server.api),
                watcher,
            ));
        }
    }
    let mut events: BTreeMap<Kind, Vec<f64>> = BTreeMap::new();
    let per_round = knobs.changes.div_ceil(knobs.rounds);
    for _ in 0..knobs.rounds {
        for (kind, url, watcher) in &mut watchers {
            let latencies = watcher.changes(url, &body, per_round).await?;
            events.entry(*kind).or_default().extend(latencies);
        }
    }
    drop(watchers);
    drop(small);

    // The tables.
    let servers: Vec<Kind> = kinds.iter().map(|(k, _)| *k).collect();
    let mut out = String::new();
    writeln!(
        out,
        "Shells: generated (id, idShort, asset information with a global and a specific asset id, \
         one submodel reference); each size in a file of its own with the {}-byte submodel \
         ({}). {} rounds; listings: {} requests per page and round; loads: {} s per \
         measurement. Medians. Our servers serve AAS V3.0 (as the peer); each loads its file \
         (`serve --load`, durability `{}`) in a process stopped once idle, then the measured \
         process starts on that data with durability `{}` (542e431 has no such setting: it \
         commits as `normal`).\n",
        body.len(),
        files
            .iter()
            .map(|(n, bytes)| format!(
                "{} shells: {:.1} MB",
                thousands(*n as f64),
                *bytes as f64 / 1e6
            ))
            .collect::<Vec<_>>()
            .join(", "),
        knobs.rounds,
        knobs.pages,
        knobs.seconds,
        knobs.load_durability,
        knobs.durability.as_deref().unwrap_or("full"),
    )?;

    // Loading.
    let mut cells = vec!["start with the file loaded".to_owned()];
    cells.extend(servers.iter().map(|k| name_of(*k)));
    writeln!(out, "{}", header(&cells))?;
    for &shells in &knobs.sizes {
        let find = |kind: Kind| loading.iter().find(|l| l.0 == kind && l.1 == shells);
        let mut cells = vec![format!(
            "{} shells: load (answers / idle); restart; RSS",
            thousands(shells as f64)
        )];
        let secs = |d: &Duration| format!("{:.1} s", d.as_secs_f64());
        cells.extend(servers.iter().map(|k| match find(*k) {
            Some((_, _, ready, _, rss, Some((load_ready, load_settled)))) => format!(
                "{} / {}; {}; {rss:.0} MB",
                secs(load_ready),
                secs(load_settled),
                secs(ready)
            ),
            Some((_, _, ready, settled, rss, None)) => format!(
                "{} / {}; (loads at every start); {rss:.0} MB",
                secs(ready),
                secs(settled)
            ),
            None => "—".to_owned(),
        }));
        writeln!(out, "{}", row(&cells))?;
    }
    writeln!(out)?;

    // Listings.
    let listing = |kind: Kind, shells: usize, middle: bool| {
        listings
            .get(&(kind, shells, middle))
            .map_or(f64::NAN, |samples| median(samples.clone()))
    };
    let mut cells = vec![format!("`GET /shells?limit={PAGE}`, time per page")];
    cells.extend(servers.iter().map(|k| name_of(*k)));
    let others: Vec<Kind> = servers
        .iter()
        .copied()
        .filter(|k| *k != Kind::Ours)
        .collect();
    cells.extend(
        others
            .iter()
            .map(|k| format!("{} / this build", name_of(*k))),
    );
    writeln!(out, "{}", header(&cells))?;
    for &shells in &knobs.sizes {
        for middle in [false, true] {
            let mut cells = vec![if middle {
                format!(
                    "middle page (cursor after {} shells), {} shells",
                    thousands((shells / 2) as f64),
                    thousands(shells as f64)
                )
            } else {
                format!("first page, {} shells", thousands(shells as f64))
            }];
            cells.extend(servers.iter().map(|k| ms(listing(*k, shells, middle))));
            let ours = listing(Kind::Ours, shells, middle);
            cells.extend(
                others
                    .iter()
                    .map(|k| ratio(listing(*k, shells, middle), ours)),
            );
            writeln!(out, "{}", row(&cells))?;
        }
    }
    let largest = knobs.sizes.iter().copied().max().unwrap_or_default();
    if largest != smallest {
        for middle in [false, true] {
            let mut cells = vec![format!(
                "{} / {} shells, {} page (goal for this build ≤ 2)",
                thousands(largest as f64),
                thousands(smallest as f64),
                if middle { "middle" } else { "first" }
            )];
            cells.extend(servers.iter().map(|k| {
                let r = ratio(listing(*k, largest, middle), listing(*k, smallest, middle));
                if r == "—" { r } else { format!("{r}×") }
            }));
            cells.extend(others.iter().map(|_| String::new()));
            writeln!(out, "{}", row(&cells))?;
        }
    }
    writeln!(out)?;

    // GET and PUT.
    let summary = |name: &str, kind: Kind| {
        loads
            .get(&(name, kind))
            .filter(|runs| !runs.is_empty())
            .map(|runs| {
                (
                    median(runs.iter().map(|l| l.rps).collect()),
                    median(runs.iter().map(|l| l.p50.as_secs_f64() * 1e3).collect()),
                    median(runs.iter().map(|l| l.p99.as_secs_f64() * 1e3).collect()),
                    runs.iter().map(|l| l.requests).sum::<usize>(),
                )
            })
    };
    let mut columns = servers.clone();
    columns.push(Kind::Floor);
    let mut cells = vec![format!(
        "load (on the servers with {} shells)",
        thousands(smallest as f64)
    )];
    cells.extend(columns.iter().map(|k| name_of(*k)));
    cells.extend(servers.iter().map(|k| format!("{} / floor", name_of(*k))));
    writeln!(out, "{}", header(&cells))?;
    for (name, concurrency) in [("GET", GET_CLIENTS), ("PUT", PUT_CLIENTS)] {
        let mut cells = vec![format!(
            "{name} `/submodels/{{id}}` ({} KB), {concurrency} clients",
            body.len() / 1000
        )];
        cells.extend(columns.iter().map(|k| match summary(name, *k) {
            Some((rps, p50, p99, _)) => {
                format!("{} req/s, p50 {}, p99 {}", thousands(rps), ms(p50), ms(p99))
            }
            None => "—".to_owned(),
        }));
        let floor = summary(name, Kind::Floor).map_or(f64::NAN, |s| s.0);
        cells.extend(
            servers
                .iter()
                .map(|k| ratio(summary(name, *k).map_or(f64::NAN, |s| s.0), floor)),
        );
        writeln!(out, "{}", row(&cells))?;
    }
    writeln!(out)?;

    // Change → event.
    if !events.is_empty() {
        let mut cells = vec![format!(
            "PUT → `updated` event received by an MQTT subscriber ({} changes, one at a time)",
            per_round * knobs.rounds
        )];
        cells.extend(events.keys().map(|k| name_of(*k)));
        writeln!(out, "{}", header(&cells))?;
        for (label, q) in [("p50", 0.5), ("p99 (goal < 10 ms)", 0.99), ("max", 1.0)] {
            let mut cells = vec![label.to_owned()];
            cells.extend(events.values().map(|latencies| {
                let mut sorted = latencies.clone();
                sorted.sort_by(f64::total_cmp);
                ms(quantile(&sorted, q))
            }));
            writeln!(out, "{}", row(&cells))?;
        }
        writeln!(out)?;
    }
    for note in &notes {
        writeln!(out, "Note: {note}")?;
    }
    writeln!(
        out,
        "Total run: {:.0} s (loading included).",
        started.elapsed().as_secs_f64()
    )?;
    print!("{out}");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args.get(1).map(String::as_str) {
        Some("floor") => {
            let port = args.get(2).ok_or("floor PORT BODY")?.parse()?;
            let body = PathBuf::from(args.get(3).ok_or("floor PORT BODY")?);
            runtime.block_on(floor(port, body))
        }
        Some("load") => {
            // One load against one server (or its replicas, the clients spread over the URLs
            // in turn), for profiling it: `load URL[,URL…] CLIENTS SECONDS [BODY]` (with BODY:
            // PUT of that file's bytes, else GET).
            let usage = "load URL[,URL...] CLIENTS SECONDS [BODY]";
            let urls: Vec<String> = (args.get(2).ok_or(usage)?.split(','))
                .map(str::to_owned)
                .collect();
            let clients = args.get(3).ok_or(usage)?.parse()?;
            let seconds = args.get(4).ok_or(usage)?.parse()?;
            let put = args.get(5).map(std::fs::read).transpose()?.map(Arc::new);
            let measured = runtime.block_on(load_spread(&urls, put, clients, seconds))?;
            println!(
                "{} requests, {:.0} req/s, p50 {:?}, p99 {:?}",
                measured.requests, measured.rps, measured.p50, measured.p99
            );
            Ok(())
        }
        Some("submodel") => {
            // The measured 50 KB submodel, for `load`: `submodel FILE`.
            let file = args.get(2).ok_or("submodel FILE")?;
            let submodel: Submodel = sample::submodel_of_size(50_000);
            std::fs::write(file, aas_serde::json::to_vec(&submodel))?;
            Ok(())
        }
        Some("run") | None => runtime.block_on(run()),
        Some(other) => Err(format!("unknown mode {other:?}: run, load, submodel or floor").into()),
    }
}
