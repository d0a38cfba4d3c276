//! Push jobs into Azurite beside a bare `object_store` put loop of the same bytes at the same
//! concurrency: 1,000 jobs of one submodel each, and one job of 1,000 shells and 1,000
//! submodels (from a source of elements, and from one that keeps their JSON as well, as the
//! reference server's repository does); then (`multipart`) a 1 GiB streamed multipart
//! upload, for its peak memory; or (`engine`) the big job's own cost, uploading into an
//! `object_store` `InMemory` store (no network, no Azurite).
//! `bench/push.sh` starts Azurite and runs this.
//!
//! ```sh
//! cargo run --release -p push-core --example push_bench -- <azurite port> [jobs|multipart]
//! cargo run --release -p push-core --example push_bench -- engine [rounds]
//! ```

use std::sync::Arc;
use std::time::Instant;

use aas_model::{AssetAdministrationShell, Environment, Submodel};
use async_trait::async_trait;
use bytes::Bytes;
use chrono::Utc;
use object_store::{Attribute, Attributes, ObjectStore, ObjectStoreExt, PutOptions, PutPayload};
use push_core::{
    JobState, MemoryJobStore, ObjectStoreTarget, PushEngine, PushJob, PushRequest, PushTarget,
    SerializationFormat, Source, SourceError, TargetConfig, TargetKind, TargetOptions, Targets,
};
use tokio::io::AsyncRead;

use aas_conformance_tests::bench_input as common;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const CONCURRENCY: usize = 8;
/// Rounds of the big job and its bare put: unmeasured, then measured.
const WARM_UP: usize = 5;
const BIG_ROUNDS: usize = 41;

/// The benchmark environment, indexed by id (a store would look elements up by key too, and
/// an in-memory one with a fast hasher: foldhash, as push-core's own id sets);
/// optionally keeping each element's JSON as well, as a store of JSON documents (the
/// reference server's repository) does.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

struct EnvironmentSource {
    shells: HashMap<String, Arc<AssetAdministrationShell>>,
    submodels: HashMap<String, Arc<Submodel>>,
    json: Option<HashMap<String, Bytes>>,
}

impl EnvironmentSource {
    fn new(env: &Environment, keep_json: bool) -> Self {
        let json = keep_json.then(|| {
            let shells = env.asset_administration_shells.iter().flatten();
            let submodels = env.submodels.iter().flatten();
            shells
                .map(|s| (s.id.clone(), Bytes::from(aas_serde::json::to_vec(s))))
                .chain(submodels.map(|s| (s.id.clone(), Bytes::from(aas_serde::json::to_vec(s)))))
                .collect()
        });
        Self {
            json,
            shells: env
                .asset_administration_shells
                .iter()
                .flatten()
                .map(|s| (s.id.clone(), Arc::new(s.clone())))
                .collect(),
            submodels: env
                .submodels
                .iter()
                .flatten()
                .map(|s| (s.id.clone(), Arc::new(s.clone())))
                .collect(),
        }
    }
}

#[async_trait]
impl Source for EnvironmentSource {
    async fn shell(
        &self,
        id: &str,
    ) -> std::result::Result<Option<Arc<AssetAdministrationShell>>, SourceError> {
        Ok(self.shells.get(id).cloned())
    }
    async fn submodel(&self, id: &str) -> std::result::Result<Option<Arc<Submodel>>, SourceError> {
        Ok(self.submodels.get(id).cloned())
    }
    async fn concept_description(
        &self,
        _: &str,
    ) -> std::result::Result<Option<Arc<aas_model::ConceptDescription>>, SourceError> {
        Ok(None)
    }
    async fn shells(
        &self,
        ids: &[&str],
    ) -> std::result::Result<Vec<Option<Arc<AssetAdministrationShell>>>, SourceError> {
        Ok(ids.iter().map(|id| self.shells.get(*id).cloned()).collect())
    }
    async fn submodels(
        &self,
        ids: &[&str],
    ) -> std::result::Result<Vec<Option<Arc<Submodel>>>, SourceError> {
        Ok(ids
            .iter()
            .map(|id| self.submodels.get(*id).cloned())
            .collect())
    }
    async fn shells_json(
        &self,
        ids: &[&str],
    ) -> std::result::Result<Option<Vec<Option<Bytes>>>, SourceError> {
        Ok(self.kept_json(ids))
    }
    async fn submodels_json(
        &self,
        ids: &[&str],
    ) -> std::result::Result<Option<Vec<Option<Bytes>>>, SourceError> {
        Ok(self.kept_json(ids))
    }
}

impl EnvironmentSource {
    fn kept_json(&self, ids: &[&str]) -> Option<Vec<Option<Bytes>>> {
        let json = self.json.as_ref()?;
        Some(ids.iter().map(|id| json.get(*id).cloned()).collect())
    }
}

struct OneTarget(Arc<dyn PushTarget>);

#[async_trait]
impl Targets for OneTarget {
    async fn target(&self, _: &str) -> Option<Arc<dyn PushTarget>> {
        Some(self.0.clone())
    }
}

fn request(shell_ids: Vec<String>, submodel_ids: Vec<String>, blob_name: String) -> PushRequest {
    PushRequest {
        push_target_name: "azurite".into(),
        serialization_format: SerializationFormat::Json,
        shell_ids,
        submodel_ids,
        include_concept_descriptions: false,
        blob_name: Some(blob_name),
        aas_version: None,
        allow_loss: false,
    }
}

/// Bare object_store puts of prepared bytes, `CONCURRENCY` at once.
async fn bare_puts(store: Arc<dyn ObjectStore>, objects: Vec<(String, Vec<u8>)>) -> Result<f64> {
    let started = Instant::now();
    let permits = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for (name, bytes) in objects {
        let (store, permits) = (store.clone(), permits.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await?;
            // The same request a job makes: the bytes and their content type.
            let mut attributes = Attributes::new();
            attributes.insert(Attribute::ContentType, "application/json".into());
            let options = PutOptions {
                attributes,
                ..PutOptions::default()
            };
            store
                .put_opts(
                    &object_store::path::Path::parse(&name)?,
                    PutPayload::from(bytes),
                    options,
                )
                .await?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        });
    }
    while let Some(result) = tasks.join_next().await {
        result?.map_err(|e| e.to_string())?;
    }
    Ok(started.elapsed().as_secs_f64())
}

async fn run_jobs(engine: &Arc<PushEngine>, requests: Vec<PushRequest>) -> Result<f64> {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for request in requests {
        let engine = engine.clone();
        tasks.spawn(async move { engine.run(PushJob::new(request)).await });
    }
    while let Some(job) = tasks.join_next().await {
        let job = job?;
        if job.state != JobState::Completed {
            return Err(format!("job failed: {:?}", job.message).into());
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The benchmark environment and what the jobs take from it: the first 1,000 shells and the
/// first 1,000 submodels (the generated shells refer to no submodels, so the big job names
/// both).
struct BenchInput {
    env: Environment,
    shells: Vec<AssetAdministrationShell>,
    submodels: Vec<Submodel>,
}

impl BenchInput {
    fn load() -> Result<Self> {
        let env: Environment = aas_serde::json::from_slice(&std::fs::read(common::input("json"))?)?;
        let shells = env
            .asset_administration_shells
            .iter()
            .flatten()
            .take(1000)
            .cloned()
            .collect();
        let submodels = env.submodels.iter().flatten().take(1000).cloned().collect();
        Ok(Self {
            env,
            shells,
            submodels,
        })
    }

    /// The big job: all of the shells and submodels, uploaded as `blob_name`.
    fn big_request(&self, blob_name: String) -> PushRequest {
        request(
            self.shells.iter().map(|s| s.id.clone()).collect(),
            self.submodels.iter().map(|s| s.id.clone()).collect(),
            blob_name,
        )
    }

    /// Engines uploading to `target`: from the element source, and from the source that
    /// keeps JSON too.
    fn engines(&self, target: &Arc<dyn PushTarget>) -> (Arc<PushEngine>, Arc<PushEngine>) {
        let engine_over = |keep_json| {
            PushEngine::new(
                Arc::new(EnvironmentSource::new(&self.env, keep_json)),
                Arc::new(MemoryJobStore::default()),
                Arc::new(OneTarget(target.clone())),
                CONCURRENCY,
            )
        };
        (engine_over(false), engine_over(true))
    }
}

async fn jobs(port: u16) -> Result<()> {
    let azurite = aas_conformance_tests::azurite::Azurite::at_port(port);
    azurite.create_container("bench").await?;
    let sas = azurite.sas_url("bench", "racwdl", Utc::now() + chrono::Duration::hours(2));
    let config = TargetConfig {
        name: "azurite".into(),
        kind: TargetKind::AzureBlobStorage {
            blob_sas_url: sas.clone(),
        },
    };
    let options = TargetOptions::default().with_allow_insecure(true);
    let target: Arc<dyn PushTarget> = Arc::new(config.build(&options)?);
    let store: Arc<dyn ObjectStore> =
        Arc::new(push_core::BlobSasUrl::parse(&sas, &options)?.object_store()?);

    let input = BenchInput::load()?;
    let (shells, submodels) = (&input.shells, &input.submodels);
    let (engine, json_engine) = input.engines(&target);

    // The same bytes the jobs upload.
    let single: Vec<(String, Vec<u8>)> = submodels
        .iter()
        .enumerate()
        .map(|(n, s)| {
            let one = Environment {
                asset_administration_shells: None,
                submodels: Some(vec![s.clone()]),
                concept_descriptions: None,
            };
            (format!("bare/sm-{n}.json"), aas_serde::json::to_vec(&one))
        })
        .collect();
    let big_env = Environment {
        asset_administration_shells: Some(shells.clone()),
        submodels: Some(submodels.clone()),
        concept_descriptions: None,
    };
    let big = aas_serde::json::to_vec(&big_env);
    let small_bytes: usize = single.iter().map(|(_, b)| b.len()).sum();

    let (mut job_small, mut bare_small, mut job_big, mut bare_big) =
        (vec![], vec![], vec![], vec![]);
    for round in 0..3 {
        let requests = submodels
            .iter()
            .enumerate()
            .map(|(n, s)| {
                request(
                    vec![],
                    vec![s.id.clone()],
                    format!("jobs/{round}/sm-{n}.json"),
                )
            })
            .collect();
        job_small.push(run_jobs(&engine, requests).await?);
        bare_small.push(bare_puts(store.clone(), single.clone()).await?);
    }
    // One object takes milliseconds: a few rounds unmeasured (Azurite's JIT warms up), then
    // many, alternating which goes first.
    let mut json_big = vec![];
    for round in 0..WARM_UP + BIG_ROUNDS {
        let big_request = |kind: &str| input.big_request(format!("jobs/{round}/big-{kind}.json"));
        let bare_big_put = || vec![(format!("bare/{round}/big.json"), big.clone())];
        // Each of the three goes first, second and third in turn.
        let mut times = [0.0; 3];
        for step in 0..3 {
            let which = (round + step) % 3;
            times[which] = match which {
                0 => run_jobs(&engine, vec![big_request("model")]).await?,
                1 => run_jobs(&json_engine, vec![big_request("json")]).await?,
                _ => bare_puts(store.clone(), bare_big_put()).await?,
            };
        }
        if round >= WARM_UP {
            job_big.push(times[0]);
            json_big.push(times[1]);
            bare_big.push(times[2]);
        }
    }
    let (js, bs, jb, bb, jj) = (
        median(job_small),
        median(bare_small),
        median(job_big),
        median(bare_big),
        median(json_big),
    );
    println!(
        "1,000 jobs of one submodel ({small_bytes} bytes in all), concurrency {CONCURRENCY}, median of 3: \
         jobs {:.0}/s, bare object_store puts {:.0}/s, ratio {:.2}",
        1000.0 / js,
        1000.0 / bs,
        bs / js
    );
    println!(
        "1 job of {} shells + {} submodels ({} bytes), median of {BIG_ROUNDS}: bare put {:.1} ms; \
         job {:.1} ms, ratio {:.2}; job from a source keeping JSON {:.1} ms, ratio {:.2}",
        shells.len(),
        submodels.len(),
        big.len(),
        bb * 1e3,
        jb * 1e3,
        bb / jb,
        jj * 1e3,
        bb / jj
    );
    Ok(())
}

/// 1 GiB of pseudo-random bytes, made as they are read.
struct Generated {
    left: u64,
    state: u64,
}

impl AsyncRead for Generated {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let n = (buf.remaining() as u64).min(self.left) as usize / 8 * 8;
        let mut chunk = Vec::with_capacity(n);
        for _ in 0..n / 8 {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            chunk.extend_from_slice(&self.state.to_le_bytes());
        }
        buf.put_slice(&chunk);
        self.left -= n as u64;
        std::task::Poll::Ready(Ok(()))
    }
}

async fn multipart(port: u16) -> Result<()> {
    let azurite = aas_conformance_tests::azurite::Azurite::at_port(port);
    azurite.create_container("multipart").await?;
    let sas = azurite.sas_url(
        "multipart",
        "racwdl",
        Utc::now() + chrono::Duration::hours(2),
    );
    let config = TargetConfig {
        name: "azurite".into(),
        kind: TargetKind::AzureBlobStorage { blob_sas_url: sas },
    };
    let target = config.build(&TargetOptions::default().with_allow_insecure(true))?;
    let mut reader = Generated {
        left: 1 << 30,
        state: 0x9E37_79B9_7F4A_7C15,
    };
    let started = Instant::now();
    let uploaded = target
        .upload_stream("big.bin", &mut reader, "application/octet-stream")
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "multipart upload of {} bytes in {seconds:.1} s ({:.0} MB/s)",
        uploaded.size,
        uploaded.size as f64 / seconds / 1e6
    );
    Ok(())
}

/// The big job's own cost: the same job uploading into an `object_store` `InMemory` store (no
/// network, no Azurite), from both sources, beside a bare put of the same bytes into it;
/// `rounds` measured rounds (more for a profiler).
async fn engine_cost(rounds: usize) -> Result<()> {
    let input = BenchInput::load()?;
    let store: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
    let target: Arc<dyn PushTarget> = Arc::new(ObjectStoreTarget::new(store.clone(), "memory"));
    let (engine, json_engine) = input.engines(&target);
    let mut big = Vec::new();
    let mut times = [vec![], vec![], vec![]];
    for round in 0..WARM_UP + rounds {
        let request = |kind: &str| input.big_request(format!("jobs/{round}/big-{kind}.json"));
        let model = run_jobs(&engine, vec![request("model")]).await?;
        let json = run_jobs(&json_engine, vec![request("json")]).await?;
        if big.is_empty() {
            let path = object_store::path::Path::parse(format!("jobs/{round}/big-json.json"))?;
            big = store.get(&path).await?.bytes().await?.to_vec();
        }
        let bare = bare_puts(
            store.clone(),
            vec![(format!("bare/{round}/big.json"), big.clone())],
        )
        .await?;
        // The store keeps what it is given: without this, memory grows by 1.4 MB a round.
        for name in [
            "jobs/{round}/big-model.json",
            "jobs/{round}/big-json.json",
            "bare/{round}/big.json",
        ] {
            let name = name.replace("{round}", &round.to_string());
            store
                .delete(&object_store::path::Path::parse(name)?)
                .await?;
        }
        if round >= WARM_UP {
            for (kept, time) in times.iter_mut().zip([model, json, bare]) {
                kept.push(time);
            }
        }
    }
    let [model, json, bare] = times.map(median);
    println!(
        "1 job of {} shells + {} submodels ({} bytes) into an InMemory store, median of {rounds}: \
         bare put {:.2} ms; job from the element source {:.2} ms; job from a source keeping JSON {:.2} ms",
        input.shells.len(),
        input.submodels.len(),
        big.len(),
        bare * 1e3,
        model * 1e3,
        json * 1e3
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: push_bench <azurite port> [jobs|multipart] | push_bench engine [rounds]";
    match (
        args.get(1).map(String::as_str),
        args.get(2).map(String::as_str),
    ) {
        (Some("engine"), rounds) => engine_cost(rounds.map_or(Ok(BIG_ROUNDS), str::parse)?).await,
        (Some(port), Some("multipart")) => multipart(port.parse()?).await,
        (Some(port), _) => jobs(port.parse()?).await,
        (None, _) => Err(usage.into()),
    }
}
