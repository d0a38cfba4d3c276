//! Three `serve` processes on one PostgreSQL database and one Mosquitto, one of them killed
//! with `kill -9` while four writers spread over them: nothing acknowledged is lost, every
//! acknowledged write has its event (on MQTT, or in the event feed for catching up), each
//! element's events are first delivered in commit order, no push job is left `processing`,
//! and every twin is polled by exactly one replica before and after the kill.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aas_conformance_tests::mosquitto::Mosquitto;
use aas_conformance_tests::postgres::Postgres;
use axum::Extension;
use axum::extract::{Path, State};
use reqwest::Method;
use serde_json::{Value, json};

mod support;
use support::{Api, Collector, DataDir, Failure, Launch, Server, TestResult, b64};

const WRITERS: usize = 4;
const WRITES: usize = 45;
const TWINS: usize = 4;

/// The devices' platform, reachable on 127.0.0.1, .2 and .3 (one address per replica, by each
/// replica's `[outbound] resolve`): which replica polled which device, by the address used.
#[derive(Default)]
struct Polls(Mutex<Vec<(u8, String)>>, Mutex<Vec<(String, Value)>>);

impl Polls {
    fn take(&self) -> Vec<(u8, String)> {
        self.0
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }
}

async fn platform(polls: Arc<Polls>) -> Result<u16, Failure> {
    let app = axum::Router::new()
        .route(
            "/commands/{device}",
            axum::routing::post(
                |State(polls): State<Arc<Polls>>,
                 Path(device): Path<String>,
                 axum::Json(command): axum::Json<Value>| async move {
                    polls.1.lock().map(|mut c| c.push((device, command))).ok();
                    "ok"
                },
            ),
        )
        .route(
            "/data/{device}",
            axum::routing::get(
                |State(polls): State<Arc<Polls>>,
                 Extension(LocalAddress(replica)): Extension<LocalAddress>,
                 Path(device): Path<String>| async move {
                    polls.0.lock().map(|mut p| p.push((replica, device))).ok();
                    axum::Json(json!({"temp": 21}))
                },
            ),
        )
        .with_state(polls);
    let first = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = first.local_addr()?.port();
    for (n, listener) in [
        (1u8, first),
        (2, tokio::net::TcpListener::bind(("127.0.0.2", port)).await?),
        (3, tokio::net::TcpListener::bind(("127.0.0.3", port)).await?),
    ] {
        // The address a replica connected to names it.
        let app = app.clone().layer(Extension(LocalAddress(n)));
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    Ok(port)
}

/// Which of the platform's addresses a request came to.
#[derive(Clone, Copy)]
struct LocalAddress(u8);

/// The value of `category` of the submodel `id` wherever it is in `message`.
fn category_of(message: &Value, id: &str) -> Option<String> {
    match message {
        Value::Object(map) => {
            if map.get("id").and_then(Value::as_str) == Some(id) {
                return map
                    .get("category")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
            map.values().find_map(|v| category_of(v, id))
        }
        Value::Array(items) => items.iter().find_map(|v| category_of(v, id)),
        // The envelope carries the element as JSON text.
        Value::String(text) if text.starts_with('{') => {
            category_of(&serde_json::from_str(text).ok()?, id)
        }
        _ => None,
    }
}

fn writer_id(w: usize) -> String {
    format!("urn:sm:writer:{w}")
}

fn body(value: &Value) -> Option<(&'static str, Vec<u8>)> {
    Some(("application/json", value.to_string().into_bytes()))
}

/// Each twin's pollers during `window`: exactly one each is what must hold.
async fn pollers(polls: &Polls, window: Duration) -> BTreeMap<String, BTreeSet<u8>> {
    polls.take();
    tokio::time::sleep(window).await;
    let mut by_twin: BTreeMap<String, BTreeSet<u8>> = BTreeMap::new();
    for (replica, device) in polls.take() {
        by_twin.entry(device).or_default().insert(replica);
    }
    by_twin
}

/// `count` replicas on the cluster's database and the broker, each resolving `platform.test`
/// to its own loopback address (127.0.0.N), with a shared key and local push targets under
/// `<dir>/push`; their data directories, kept as long as they run.
fn replicas(
    count: u8,
    cluster: &Postgres,
    broker: &Mosquitto,
    dir: &DataDir,
) -> Result<(Vec<DataDir>, Vec<Server>), Failure> {
    std::fs::create_dir_all(&dir.0)?;
    let key = dir.0.join("shared.key");
    std::fs::write(&key, [7u8; 32])?;
    let push_root = dir.0.join("push");
    std::fs::create_dir_all(&push_root)?;
    let prefix = (dir.0.file_name().and_then(|name| name.to_str())).unwrap_or("replicas");
    let mut data_dirs = Vec::new();
    let mut replicas = Vec::new();
    for n in 1..=count {
        let config = dir.0.join(format!("replica{n}.toml"));
        std::fs::write(
            &config,
            format!(
                "database-url = \"{}\"\nsecret-key-file = \"{}\"\nreplica-id = \"r{n}\"\n\
                 [outbound]\nlocal-target-root = \"{}\"\n\
                 resolve = {{ \"platform.test\" = \"127.0.0.{n}\" }}\n",
                cluster.url(),
                key.display(),
                push_root.display()
            ),
        )?;
        let data = DataDir::new(&format!("{prefix}-r{n}"));
        let launch = Launch {
            external_broker: Some(format!("mqtt://127.0.0.1:{}", broker.port)),
            ..Launch::default()
        }
        .arg("--config")
        .arg(config.display().to_string());
        replicas.push(Server::launch(&data, &launch)?);
        data_dirs.push(data);
    }
    Ok((data_dirs, replicas))
}

/// The platform definition every test binds its twins to.
fn plant(platform_port: u16) -> Value {
    json!({"name": "plant", "base_url": format!("http://platform.test:{platform_port}/"),
        "data_get_prefix": "data/", "command_prefix": "commands/", "authentication": "none"})
}

/// A binding of `id` to `device`, polled every second; a change of `temperature` is sent as
/// the command `{"set": <value>}`.
fn twin(id: &str, device: &str) -> Value {
    json!({"submodel_id": id, "platform": "plant", "uuid_on_platform": device,
        "synchronization": {"iot_attributes": [{"name": "temp", "value": "$.temp"}],
            "thingin_attributes": [{"name": "temperature", "value": "{temp}", "frequency_sec": 1,
                "command_value": {"set": "{{temperature}}"}}]}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_on_one_database_lose_nothing_when_one_is_killed() -> TestResult {
    let cluster = Postgres::start();
    let broker = Mosquitto::persistent();
    let dir = DataDir::new("replicas");
    let push_root = dir.0.join("push");
    let polls = Arc::new(Polls::default());
    let platform_port = platform(polls.clone()).await?;
    let mut collector =
        Collector::subscribe(broker.port, "replicas-watcher", "twinsphere/#").await?;

    let (data_dirs, mut replicas) = replicas(3, &cluster, &broker, &dir)?;

    // Twins, bound through the first replica, polled every second.
    let (status, _, answer) = replicas[0]
        .request(Method::POST, "/sdts/platforms", body(&plant(platform_port)))
        .await?;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
    for t in 0..TWINS {
        let id = format!("urn:sm:twin:{t}");
        let submodel = json!({"id": id, "modelType": "Submodel"});
        let (status, _, _) = replicas[t % 3]
            .request(Method::POST, "/submodels", body(&submodel))
            .await?;
        assert_eq!(status, 201);
        let binding = twin(&id, &format!("device{t}"));
        let (status, _, answer) = replicas[t % 3]
            .request(Method::POST, "/sdts/twins", body(&binding))
            .await?;
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
    }
    // Every replica has had a round to see the others' twins.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = pollers(&polls, Duration::from_secs(3)).await;
    assert_eq!(before.len(), TWINS, "every twin is polled: {before:?}");
    for (device, by) in &before {
        assert_eq!(
            by.len(),
            1,
            "{device} is polled by one replica before the kill: {by:?}"
        );
    }

    // A target every replica sees (stored in the database), and jobs on every replica.
    let target = json!({"type": "local-directory", "configuration": {"path": push_root}});
    let (status, _, answer) = replicas[2]
        .request(Method::POST, "/sphere/push/targets/dir", body(&target))
        .await?;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));

    for w in 0..WRITERS {
        let submodel = json!({"id": writer_id(w), "modelType": "Submodel", "category": "0"});
        let (status, _, _) = replicas[w % 3]
            .request(Method::POST, "/submodels", body(&submodel))
            .await?;
        assert_eq!(status, 201);
    }
    let bases: Vec<String> = replicas.iter().map(|r| r.base.clone()).collect();
    let acknowledged = Arc::new(Mutex::new(Vec::<(usize, usize)>::new()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (bases, acknowledged) = (bases.clone(), acknowledged.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()?;
                for i in 1..=WRITES {
                    let base = &bases[(w + i) % 3];
                    let submodel =
                        json!({"id": writer_id(w), "modelType": "Submodel", "category": i.to_string()});
                    let sent = http
                        .put(format!("{base}/submodels/{}", b64(&writer_id(w))))
                        .json(&submodel)
                        .send()
                        .await;
                    if sent.is_ok_and(|response| response.status().as_u16() == 204) {
                        acknowledged.lock().map(|mut a| a.push((w, i))).ok();
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Ok::<_, reqwest::Error>(())
            })
        })
        .collect();
    let mut jobs = Vec::new();
    for k in 0..6 {
        let request = json!({"pushTargetName": "dir", "serializationFormat": "application/json",
            "submodelIds": [writer_id(0)], "blobName": format!("job{k}.json")});
        let (status, _, answer) = replicas[k % 3]
            .request(Method::POST, "/sphere/push/jobs", body(&request))
            .await?;
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
        let job: Value = serde_json::from_slice(&answer)?;
        jobs.push(job["identifier"].as_str().unwrap_or_default().to_owned());
    }
    // Half way through the writes, the second replica dies.
    for _ in 0..200 {
        if acknowledged.lock().map(|a| a.len()).unwrap_or_default() >= WRITERS * WRITES / 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    replicas[1].kill();
    for writer in writers {
        writer.await??;
    }
    let acknowledged = acknowledged.lock().map(|a| a.clone()).unwrap_or_default();
    assert!(
        acknowledged.len() > WRITERS * WRITES / 2,
        "writes went on after the kill: {}",
        acknowledged.len()
    );
    let live = [&replicas[0], &replicas[2]];

    // Every acknowledged write reads back from every live replica: each writer's submodel is
    // at its last acknowledged value, or a later one whose answer was lost in the kill.
    for w in 0..WRITERS {
        let last = (acknowledged.iter().filter(|(aw, _)| *aw == w))
            .map(|(_, i)| *i)
            .max()
            .unwrap_or_default();
        for replica in live {
            let path = format!("/submodels/{}", b64(&writer_id(w)));
            let (status, _, answer) = replica.request(Method::GET, &path, None).await?;
            assert_eq!(status, 200);
            let read: Value = serde_json::from_slice(&answer)?;
            let value: usize = read["category"].as_str().unwrap_or_default().parse()?;
            assert!(
                value >= last,
                "writer {w}: read {value}, acknowledged {last}"
            );
        }
    }

    // An event for every acknowledged write: on MQTT, and what the subscriber missed from the
    // feed. The first deliveries of each element's events come in commit order.
    let wanted: BTreeSet<(usize, usize)> = acknowledged.iter().copied().collect();
    let delivered = |messages: &[(String, Vec<u8>)]| -> Vec<(usize, usize)> {
        messages
            .iter()
            .filter_map(|(_, payload)| {
                let message = events_core::envelope::to_json(payload, 64 << 20).ok()?;
                (0..WRITERS).find_map(|w| {
                    let category = category_of(&message, &writer_id(w))?;
                    Some((w, category.parse().ok()?))
                })
            })
            .collect()
    };
    let messages = collector
        .until(Duration::from_secs(40), |m| {
            let seen: BTreeSet<(usize, usize)> = delivered(m).into_iter().collect();
            wanted.is_subset(&seen)
        })
        .await;
    let in_order = delivered(&messages);
    let mut first_seen: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for (w, i) in &in_order {
        if seen.insert((*w, *i)) {
            first_seen.entry(*w).or_default().push(*i);
        }
    }
    for (w, firsts) in &first_seen {
        assert!(
            firsts.windows(2).all(|pair| pair[0] < pair[1]),
            "writer {w}'s events were first delivered out of commit order: {firsts:?}"
        );
    }
    let mut missing: BTreeSet<(usize, usize)> = wanted.difference(&seen).copied().collect();
    eprintln!(
        "{} writes acknowledged, {} messages, {} missed on MQTT; pollers before the kill {before:?}",
        wanted.len(),
        messages.len(),
        missing.len()
    );
    if !missing.is_empty() {
        let mut cursor = String::new();
        for _ in 0..100 {
            let path = format!("/events?limit=100{cursor}");
            let (_, _, answer) = replicas[0].request(Method::GET, &path, None).await?;
            let page: Value = serde_json::from_slice(&answer)?;
            for item in page["result"].as_array().into_iter().flatten() {
                for w in 0..WRITERS {
                    if let Some(category) = category_of(&item["message"], &writer_id(w)) {
                        missing.remove(&(w, category.parse()?));
                    }
                }
            }
            match page["paging_metadata"]["cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => break,
            }
        }
    }
    assert!(
        missing.is_empty(),
        "acknowledged writes without an event: {missing:?}"
    );

    // Every job ends (those of the killed replica taken over once their lease ran out); none
    // is left `processing`.
    for job in &jobs {
        let path = format!("/sphere/push/jobs/{job}");
        let mut state = Value::Null;
        for _ in 0..160 {
            let (_, _, answer) = replicas[0].request(Method::GET, &path, None).await?;
            state = serde_json::from_slice::<Value>(&answer)?["state"].clone();
            if state != "processing" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert_eq!(state, "completed", "job {job}");
    }

    // Every twin is still polled by exactly one replica, none by the dead one.
    let after = pollers(&polls, Duration::from_secs(3)).await;
    assert_eq!(
        after.len(),
        TWINS,
        "every twin is polled after the kill: {after:?}"
    );
    for (device, by) in &after {
        assert_eq!(by.len(), 1, "{device} after the kill: {by:?}");
        assert!(
            !by.contains(&2),
            "{device} polled by the killed replica: {by:?}"
        );
    }
    drop(data_dirs);
    Ok(())
}

/// A twin bound, bound again and unbound through one replica, while another polls it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn binds_rebinds_and_unbinds_on_one_replica_reach_the_one_that_polls() -> TestResult {
    let cluster = Postgres::start();
    let broker = Mosquitto::plain();
    let dir = DataDir::new("replicas-follow");
    let polls = Arc::new(Polls::default());
    let platform_port = platform(polls.clone()).await?;
    let (_data_dirs, replicas) = replicas(2, &cluster, &broker, &dir)?;
    let first = &replicas[0];
    let (status, _, _) = first
        .request(Method::POST, "/sdts/platforms", body(&plant(platform_port)))
        .await?;
    assert_eq!(status, 201);
    let id = "urn:sm:followed";
    let submodel = json!({"id": id, "modelType": "Submodel"});
    let (status, _, _) = first
        .request(Method::POST, "/submodels", body(&submodel))
        .await?;
    assert_eq!(status, 201);
    let (status, _, _) = first
        .request(Method::POST, "/sdts/twins", body(&twin(id, "old")))
        .await?;
    assert_eq!(status, 201);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let polled = pollers(&polls, Duration::from_secs(2)).await;
    assert_eq!(polled.len(), 1, "{polled:?}");
    let poller = *polled
        .get("old")
        .and_then(|by| by.iter().next())
        .ok_or("old is not polled")?;
    // Through the replica that does not poll it.
    let other = &replicas[if poller == 1 { 1 } else { 0 }];
    let path = format!("/sdts/twins/{}", b64(id));
    let (status, _, answer) = other
        .request(Method::PUT, &path, body(&twin(id, "new")))
        .await?;
    assert_eq!(status, 204, "{}", String::from_utf8_lossy(&answer));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let polled = pollers(&polls, Duration::from_secs(2)).await;
    let devices: Vec<&String> = polled.keys().collect();
    assert_eq!(devices, ["new"], "the rebinding is followed: {polled:?}");
    assert_eq!(polled.get("new").map(BTreeSet::len), Some(1), "{polled:?}");
    let (status, _, _) = other.request(Method::DELETE, &path, None).await?;
    assert_eq!(status, 204);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let polled = pollers(&polls, Duration::from_secs(2)).await;
    assert!(polled.is_empty(), "the unbinding is followed: {polled:?}");
    Ok(())
}

/// A change made through a replica that does not poll the twin is compared with what the
/// polling replica stored: the device reads 21, a client sets 30 through the other replica
/// (a command), the device still reads 21 and the poller, which learns of the 30 from the
/// database, writes 21 back; the same 30 again is a change again, and a second command
/// (compared with the replica's own last write instead, it would look unchanged and be lost).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_through_the_replica_that_does_not_poll_is_compared_with_the_polled_values()
-> TestResult {
    let cluster = Postgres::start();
    let broker = Mosquitto::plain();
    let dir = DataDir::new("replicas-commands");
    let polls = Arc::new(Polls::default());
    let platform_port = platform(polls.clone()).await?;
    let (_data_dirs, replicas) = replicas(2, &cluster, &broker, &dir)?;
    let (status, _, _) = replicas[0]
        .request(Method::POST, "/sdts/platforms", body(&plant(platform_port)))
        .await?;
    assert_eq!(status, 201);
    let id = "urn:sm:commanded";
    let submodel = json!({"id": id, "modelType": "Submodel"});
    let (status, _, _) = replicas[0]
        .request(Method::POST, "/submodels", body(&submodel))
        .await?;
    assert_eq!(status, 201);
    let (status, _, _) = replicas[0]
        .request(Method::POST, "/sdts/twins", body(&twin(id, "dev")))
        .await?;
    assert_eq!(status, 201);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let polled = pollers(&polls, Duration::from_secs(2)).await;
    let poller = *polled
        .get("dev")
        .and_then(|by| by.iter().next())
        .ok_or("dev is not polled")?;
    let other = &replicas[if poller == 1 { 1 } else { 0 }];
    let path = format!(
        "/submodels/{}/submodel-elements/temperature/$value",
        b64(id)
    );
    let commands = |polls: &Polls| polls.1.lock().map(|c| c.clone()).unwrap_or_default();
    for round in 1..=2 {
        let (status, _, answer) = other
            .request(Method::PATCH, &path, body(&json!("30")))
            .await?;
        assert_eq!(status, 204, "{}", String::from_utf8_lossy(&answer));
        for _ in 0..100 {
            if commands(&polls).len() >= round {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(commands(&polls).len(), round, "{:?}", commands(&polls));
        // The device still reads 21: the poller writes it back, the other replica reads it.
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    for (device, command) in commands(&polls) {
        assert_eq!((device.as_str(), command), ("dev", json!({"set": "30"})));
    }
    Ok(())
}
