//! 1,000 synchronized twins of 10 attributes each (10,000 attributes) polling a loopback
//! platform every second. `platform` serves the answers (run it as its own process, so the
//! engine's CPU is measured alone); `engine` runs the twins for a while and prints its CPU
//! share, fetches and writes. `bench/sdt.sh` runs both, the engine under `/usr/bin/time -v`.
//!
//! ```sh
//! cargo run --release -p sdt-core --example sdt_bench -- platform
//! cargo run --release -p sdt-core --example sdt_bench -- engine <port> <seconds>
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use sdt_core::{
    ClientOptions, Credentials, Platform, PlatformClient, SinkError, SyncDescription, SyncEngine,
    TwinBinding, TwinSink,
};
use serde_json::{Value, json};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const TWINS: usize = 1_000;
const ATTRIBUTES: usize = 10;

/// Every answer differs from the last (a counter), so every attribute is written each tick.
async fn answer(State(counter): State<Arc<AtomicU64>>, Path(device): Path<String>) -> Json<Value> {
    let n = counter.fetch_add(1, Ordering::Relaxed);
    let values: serde_json::Map<String, Value> = (0..ATTRIBUTES)
        .map(|i| (format!("v{i}"), json!(n as f64 + i as f64 / 10.0)))
        .collect();
    Json(json!([{"device": device, "value": values}]))
}

async fn platform() -> Result<()> {
    let app = Router::new()
        .route("/data/{device}", get(answer))
        .with_state(Arc::new(AtomicU64::new(0)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("{}", listener.local_addr()?.port());
    axum::serve(listener, app).await?;
    Ok(())
}

#[derive(Default)]
struct CountingSink(AtomicU64);

#[async_trait]
impl TwinSink for CountingSink {
    async fn write(&self, _: &str, _: &str, _: &Value) -> std::result::Result<(), SinkError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Seconds of CPU this process used (user + system), from /proc/self/stat (100 ticks/s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Sockets this process holds open: the platform connections the client's pool keeps (the
/// engine's peak RSS follows them; how many the first tick opens is a race, see BENCHMARKS.md).
fn open_sockets() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|entries| {
            entries
                .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter(|target| target.to_string_lossy().starts_with("socket:"))
                .count()
        })
        .unwrap_or(0)
}

async fn engine(port: u16, seconds: u64) -> Result<()> {
    let definition: Platform = serde_json::from_value(json!({
        "name": "bench", "base_url": format!("http://127.0.0.1:{port}/"), "data_get_prefix": "data/",
        "authentication": "none"
    }))?;
    let client = Arc::new(PlatformClient::new(
        definition,
        Credentials::None,
        ClientOptions::default(),
    )?);
    // Half the attributes are Python templates, half mustache, as descriptions mix them.
    let thingin: Vec<Value> = (0..ATTRIBUTES)
        .map(|i| {
            if i % 2 == 0 {
                json!({"name": format!("p{i}"), "value": format!("{{{{\"v\":{{v{i}}},\"at\":{{v{i}:.2f}}}}}}"), "frequency_sec": 1})
            } else {
                json!({"name": format!("p{i}"), "value": format!("{{{{v{i}}}}}"), "value_template": "mustache", "frequency_sec": 1})
            }
        })
        .collect();
    let iot: Vec<Value> = (0..ATTRIBUTES)
        .map(|i| json!({"name": format!("v{i}"), "value": format!("$[0].value.v{i}")}))
        .collect();
    let description: SyncDescription =
        serde_json::from_value(json!({"iot_attributes": iot, "thingin_attributes": thingin}))?;
    let description = Arc::new(description.compile()?);
    let sink = Arc::new(CountingSink::default());
    let engine = SyncEngine::new(sink.clone());
    for twin in 0..TWINS {
        engine.start(TwinBinding {
            twin: format!("urn:twin:{twin}"),
            platform: client.clone(),
            device: format!("device-{twin}"),
            command_device: None,
            description: description.clone(),
        });
    }
    // Warm up one tick, then measure.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (writes0, cpu0, started) = (
        sink.0.load(Ordering::Relaxed),
        cpu_seconds(),
        Instant::now(),
    );
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let wall = started.elapsed().as_secs_f64();
    let writes = sink.0.load(Ordering::Relaxed) - writes0;
    let cpu = cpu_seconds() - cpu0;
    println!(
        "{TWINS} twins x {ATTRIBUTES} attributes, every second, {wall:.0} s: {:.0} attribute writes/s \
         (goal {}), engine CPU {:.1}% of one core ({cpu:.1} s), {} sockets open",
        writes as f64 / wall,
        TWINS * ATTRIBUTES,
        cpu / wall * 100.0,
        open_sockets()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("platform") => platform().await,
        Some("engine") => {
            let port = args.get(2).ok_or("engine <port> <seconds>")?.parse()?;
            let seconds = args.get(3).map_or(Ok(60), |s| s.parse())?;
            engine(port, seconds).await
        }
        _ => Err("usage: sdt_bench platform | engine <port> <seconds>".into()),
    }
}
