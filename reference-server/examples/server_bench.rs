//! Load on the repository API from a second process: GET and PUT of one submodel (50 KB,
//! made of make_big_env's submodels) against `reference-server` and against a minimal
//! axum handler answering the same bytes (the floor), side by side; then the latency from a
//! PUT to its `updated` event at a subscriber of the embedded broker.
//!
//!   cargo build --release -p reference-server --example server_bench
//!   target/release/examples/server_bench run      (bash bench/server.sh does both)

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aas_model::{Environment, Submodel};
use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

#[path = "../../events-core/benches/sample/mod.rs"]
mod sample;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

const SECONDS: u64 = 5;
const ROUNDS: usize = 3;

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

struct Load {
    requests: usize,
    rps: f64,
    p50: Duration,
    p99: Duration,
}

/// `concurrency` clients sending the request as fast as answered, for `SECONDS`.
async fn load(url: String, put: Option<Arc<Vec<u8>>>, concurrency: usize) -> Result<Load> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, url, put) = (client.clone(), url.clone(), put.clone());
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
                let ok = response.status().is_success();
                response.bytes().await?;
                if !ok {
                    return Err::<_, Box<dyn std::error::Error + Send + Sync>>(
                        "request failed".into(),
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
    let at = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    Ok(Load {
        requests: all.len(),
        rps: all.len() as f64 / elapsed,
        p50: at(0.50),
        p99: at(0.99),
    })
}

/// PUT → `updated` event received, one change at a time.
async fn event_latency(
    base: &str,
    mqtt_port: u16,
    id: &str,
    body: Arc<Vec<u8>>,
) -> Result<Vec<Duration>> {
    use rumqttc::{Event, Packet, QoS};
    let mut options = rumqttc::MqttOptions::new("bench-watcher", "127.0.0.1", mqtt_port);
    options.set_max_packet_size(32 << 20, 32 << 20);
    let (client, mut events) = rumqttc::AsyncClient::new(options, 100);
    let topic = format!(
        "twinsphere/submodels/{}/updated",
        URL_SAFE_NO_PAD.encode(id)
    );
    client.subscribe(topic.clone(), QoS::AtLeastOnce).await?;
    let (sender, mut received) = tokio::sync::mpsc::unbounded_channel();
    let (subscribed, granted) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
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
    let http = reqwest::Client::new();
    let url = format!("{base}/submodels/{}", URL_SAFE_NO_PAD.encode(id));
    let mut latencies = Vec::new();
    for _ in 0..300 {
        let sent = Instant::now();
        let response = http
            .put(&url)
            .header("content-type", "application/json")
            .body(body.as_ref().clone())
            .send()
            .await?;
        if !response.status().is_success() {
            return Err("PUT failed".into());
        }
        let arrived = tokio::time::timeout(Duration::from_secs(10), received.recv())
            .await?
            .ok_or("subscriber ended")?;
        latencies.push(arrived - sent);
    }
    latencies.sort();
    Ok(latencies)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

async fn run() -> Result<()> {
    // The submodel the event benchmarks use: make_big_env's submodels merged to 50 KB.
    let submodel: Submodel = sample::submodel_of_size(50_000);
    let body = Arc::new(aas_serde::json::to_vec(&submodel));
    let dir = std::env::temp_dir().join(format!("server-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let body_file = dir.join("submodel.json");
    std::fs::write(&body_file, body.as_ref())?;
    let env_file = dir.join("env.json");
    let one = Environment {
        asset_administration_shells: None,
        submodels: Some(vec![submodel.clone()]),
        concept_descriptions: None,
    };
    std::fs::write(&env_file, aas_serde::json::to_vec(&one))?;

    let server_bin = std::env::current_exe()?
        .parent()
        .and_then(Path::parent)
        .map(|release| release.join("reference-server"))
        .ok_or("no target dir")?;
    let (port, mqtt_port, floor_port) = (free_port()?, free_port()?, free_port()?);
    let _server = Process(
        Command::new(&server_bin)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(["--mqtt-listen", &format!("127.0.0.1:{mqtt_port}"), "--data"])
            .arg(dir.join("data"))
            .arg("--load")
            .arg(&env_file)
            .env("AAS_SERVER_LOG", "warn")
            .stderr(Stdio::null())
            .spawn()?,
    );
    let _floor = Process(
        Command::new(std::env::current_exe()?)
            .args(["floor", &floor_port.to_string()])
            .arg(&body_file)
            .spawn()?,
    );
    wait_for(port)?;
    wait_for(floor_port)?;
    let id = URL_SAFE_NO_PAD.encode(&submodel.id);
    println!(
        "submodel {} bytes; {SECONDS} s per measurement, {ROUNDS} rounds, medians",
        body.len()
    );
    for (name, put, concurrency) in [("GET", None, 32), ("PUT", Some(body.clone()), 8)] {
        let (mut ours, mut floor) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            ours.push(
                load(
                    format!("http://127.0.0.1:{port}/submodels/{id}"),
                    put.clone(),
                    concurrency,
                )
                .await?,
            );
            floor.push(
                load(
                    format!("http://127.0.0.1:{floor_port}/submodels/{id}"),
                    put.clone(),
                    concurrency,
                )
                .await?,
            );
        }
        let summary = |runs: &[Load]| {
            (
                median(runs.iter().map(|l| l.rps).collect()),
                median(runs.iter().map(|l| micros(l.p50)).collect()),
                median(runs.iter().map(|l| micros(l.p99)).collect()),
                runs.iter().map(|l| l.requests).sum::<usize>(),
            )
        };
        let (rps, p50, p99, n) = summary(&ours);
        let (floor_rps, floor_p50, floor_p99, floor_n) = summary(&floor);
        println!(
            "{name} x{concurrency}: reference-server {rps:.0} req/s (p50 {p50:.0} µs, p99 {p99:.0} µs, {n} requests) | \
             floor {floor_rps:.0} req/s (p50 {floor_p50:.0} µs, p99 {floor_p99:.0} µs, {floor_n}) | ratio {:.2}",
            rps / floor_rps
        );
    }
    let latencies = event_latency(
        &format!("http://127.0.0.1:{port}"),
        mqtt_port,
        &submodel.id,
        body,
    )
    .await?;
    let at = |q: f64| {
        micros(latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)])
    };
    println!(
        "PUT -> updated event received ({} changes, one at a time): p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        latencies.len(),
        at(0.50),
        at(0.99),
        at(1.0)
    );
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
        Some("run") | None => runtime.block_on(run()),
        Some(other) => Err(format!("unknown mode {other:?}: run or floor").into()),
    }
}
