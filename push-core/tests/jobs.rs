//! Push jobs into a real Azurite (container SAS tokens signed by the test) and a real S3 server
//! (moto), both on 127.0.0.1.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aas_conformance_tests::azurite::Azurite;
use aas_model::{AssetAdministrationShell, ConceptDescription, Environment, Submodel};
use async_trait::async_trait;
use chrono::Utc;
use push_core::{
    JobState, MemoryJobStore, PushEngine, PushError, PushRequest, PushTarget, SerializationFormat,
    Source, SourceError, TargetConfig, TargetKind, TargetOptions, Targets, UploadedObject,
};
use support::{EnvironmentSource, MotoS3, OneTarget};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn environment() -> Result<Environment, Box<dyn std::error::Error>> {
    let path = aas_conformance_tests::corpus_root()
        .join("aas-core3.0-testgen/Json/SelfContained/Expected/Environment/maximal.json");
    Ok(aas_serde::json::from_slice(&std::fs::read(path)?)?)
}

fn azure_config(sas_url: &str) -> TargetConfig {
    TargetConfig {
        name: "target".into(),
        kind: TargetKind::AzureBlobStorage {
            blob_sas_url: sas_url.into(),
        },
    }
}

fn engine(
    env: &Environment,
    sas_url: &str,
) -> Result<(Arc<PushEngine>, MemoryJobStore), Box<dyn std::error::Error>> {
    engine_for(env, &azure_config(sas_url))
}

fn engine_for(
    env: &Environment,
    config: &TargetConfig,
) -> Result<(Arc<PushEngine>, MemoryJobStore), Box<dyn std::error::Error>> {
    let target = config.build(&TargetOptions::default().with_allow_insecure(true))?;
    let jobs = MemoryJobStore::default();
    let engine = PushEngine::new(
        Arc::new(EnvironmentSource(env.clone())),
        Arc::new(jobs.clone()),
        Arc::new(OneTarget(Arc::new(target))),
        4,
    );
    Ok((engine, jobs))
}

/// `job` as recorded once it is no longer processing, or as recorded after `looks` looks
/// `pause` apart.
async fn once_ended(
    jobs: &MemoryJobStore,
    job: &push_core::PushJob,
    looks: usize,
    pause: Duration,
) -> Result<push_core::PushJob, Box<dyn std::error::Error>> {
    let mut recorded = job.clone();
    for _ in 0..looks {
        recorded = jobs.get(&job.identifier).ok_or("job not recorded")?;
        if recorded.state != JobState::Processing {
            break;
        }
        tokio::time::sleep(pause).await;
    }
    Ok(recorded)
}

fn request(env: &Environment, format: SerializationFormat, blob_name: &str) -> PushRequest {
    PushRequest {
        push_target_name: "target".into(),
        serialization_format: format,
        shell_ids: env
            .asset_administration_shells
            .iter()
            .flatten()
            .map(|s| s.id.clone())
            .collect(),
        submodel_ids: env
            .submodels
            .iter()
            .flatten()
            .map(|s| s.id.clone())
            .collect(),
        include_concept_descriptions: true,
        blob_name: Some(blob_name.into()),
        aas_version: None,
        allow_loss: false,
    }
}

/// The corpus environment with one submodel's semantic id naming its first concept description
/// (so exactly that one is included), and that id.
fn environment_with_referenced_cd() -> Result<(Environment, String), Box<dyn std::error::Error>> {
    let mut env = environment()?;
    let cd_id = env
        .concept_descriptions
        .iter()
        .flatten()
        .next()
        .map(|c| c.id.clone())
        .ok_or("no CD")?;
    let submodel = env
        .submodels
        .iter_mut()
        .flatten()
        .next()
        .ok_or("no submodel")?;
    submodel.semantic_id = Some(aas_model::Reference::new(
        aas_model::ReferenceTypes::ExternalReference,
        vec![aas_model::Key::new(
            aas_model::KeyTypes::GlobalReference,
            cd_id.clone(),
        )],
    ));
    Ok((env, cd_id))
}

/// Pushes the environment in every format and reads each object back through `read`; returns
/// the AASX packages saved as files (for the oracle).
async fn push_every_format_and_read_back(
    engine: &PushEngine,
    env: &Environment,
    cd_id: &str,
    read: impl AsyncFn(&str) -> Result<(Vec<u8>, String), Box<dyn std::error::Error>>,
    label: &str,
) -> Result<Vec<std::path::PathBuf>, Box<dyn std::error::Error>> {
    let mut packages = Vec::new();
    for (format, name) in [
        (SerializationFormat::Json, "out/env.json"),
        (SerializationFormat::Xml, "out/env.xml"),
        (SerializationFormat::AasxJson, "out/env-json.aasx"),
        (SerializationFormat::AasxXml, "out/env-xml.aasx"),
    ] {
        let job = engine
            .run(push_core::PushJob::new(request(env, format, name)))
            .await;
        assert_eq!(
            job.state,
            JobState::Completed,
            "{format:?}: {:?}",
            job.message
        );
        let metadata = job.metadata.ok_or("no metadata")?;
        let (bytes, content_type) = read(name).await?;
        assert_eq!(metadata.uploads[0].size, bytes.len() as u64);
        assert_eq!(metadata.uploads[0].name, name);
        assert_eq!(content_type, format.content_type());
        let read: Environment = match format {
            SerializationFormat::Json => aas_serde::json::from_slice(&bytes)?,
            SerializationFormat::Xml => aas_serde::xml::from_slice(&bytes)?,
            _ => {
                let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
                    .join(format!("{label}-{}", name.replace('/', "-")));
                std::fs::write(&file, &bytes)?;
                packages.push(file);
                aas_serde::aasx::AasxReader::new(std::io::Cursor::new(bytes))?.environment()?
            }
        };
        assert_eq!(
            read.asset_administration_shells, env.asset_administration_shells,
            "{format:?}"
        );
        assert_eq!(read.submodels, env.submodels, "{format:?}");
        let cds: Vec<_> = read
            .concept_descriptions
            .iter()
            .flatten()
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(cds, [cd_id], "exactly the referenced concept description");
    }
    Ok(packages)
}

#[tokio::test]
async fn every_format_is_pushed_to_azurite_and_reads_back_equal() -> TestResult {
    let azurite = Azurite::start();
    azurite.create_container("twins").await?;
    let (env, cd_id) = environment_with_referenced_cd()?;
    let sas = azurite.sas_url("twins", "racwdl", Utc::now() + chrono::Duration::hours(1));
    let (engine, _) = engine(&env, &sas)?;
    let read = async |name: &str| azurite.get("twins", name).await;
    let packages = push_every_format_and_read_back(&engine, &env, &cd_id, read, "azurite").await?;
    aas_conformance_tests::assert_aas_core_accepts(&packages);
    Ok(())
}

#[tokio::test]
async fn every_format_is_pushed_to_s3_and_reads_back_equal() -> TestResult {
    let s3 = MotoS3::start();
    s3.create_bucket("twins").await?;
    let (env, cd_id) = environment_with_referenced_cd()?;
    let config: TargetConfig = serde_json::from_value(serde_json::json!({
        "name": "target",
        "type": "s3",
        "configuration": {
            "bucket": "twins",
            "region": "us-east-1",
            "endpoint": s3.endpoint(),
            "accessKeyId": "testing",
            "secretAccessKey": "testing"
        }
    }))?;
    let (engine, _) = engine_for(&env, &config)?;
    let read = async |name: &str| s3.get("twins", name).await;
    push_every_format_and_read_back(&engine, &env, &cd_id, read, "s3").await?;
    Ok(())
}

#[tokio::test]
async fn read_only_or_expired_sas_is_refused_when_the_target_is_created() -> TestResult {
    let azurite = Azurite::start();
    let options = TargetOptions::default().with_allow_insecure(true);
    for (sas, expected) in [
        (
            azurite.sas_url("twins", "rl", Utc::now() + chrono::Duration::hours(1)),
            "neither write",
        ),
        (
            azurite.sas_url("twins", "racwdl", Utc::now() - chrono::Duration::hours(1)),
            "expired",
        ),
    ] {
        let config = TargetConfig {
            name: "t".into(),
            kind: TargetKind::AzureBlobStorage { blob_sas_url: sas },
        };
        let error = config.build(&options).err().ok_or("must be refused")?;
        assert!(error.to_string().contains(expected), "{error}");
    }
    Ok(())
}

fn assert_failed_with(job: &push_core::PushJob, expected: &str) {
    assert_eq!(job.state, JobState::Failed);
    let message = job.message.as_deref().unwrap_or_default();
    assert!(
        message.contains(expected),
        "{message:?} should say {expected:?}"
    );
}

/// Counts the uploads a job makes, to show that refusals are not retried.
#[derive(Debug)]
struct CountingTarget {
    inner: Arc<dyn PushTarget>,
    uploads: AtomicUsize,
}

#[async_trait]
impl PushTarget for CountingTarget {
    async fn upload(
        &self,
        name: &str,
        bytes: bytes::Bytes,
        content_type: &str,
    ) -> Result<UploadedObject, PushError> {
        self.uploads.fetch_add(1, Ordering::SeqCst);
        self.inner.upload(name, bytes, content_type).await
    }
    async fn upload_stream(
        &self,
        name: &str,
        reader: &mut (dyn tokio::io::AsyncRead + Unpin + Send),
        content_type: &str,
    ) -> Result<UploadedObject, PushError> {
        self.uploads.fetch_add(1, Ordering::SeqCst);
        self.inner.upload_stream(name, reader, content_type).await
    }
    async fn check(&self) -> Result<(), PushError> {
        self.inner.check().await
    }
}

#[tokio::test]
async fn expired_wrong_deleted_or_unreachable_targets_fail_the_job_with_a_clear_message()
-> TestResult {
    let mut azurite = Azurite::start();
    azurite.create_container("twins").await?;
    let env = environment()?;
    let one_submodel = PushRequest {
        shell_ids: vec![],
        submodel_ids: env
            .submodels
            .iter()
            .flatten()
            .take(1)
            .map(|s| s.id.clone())
            .collect(),
        include_concept_descriptions: false,
        ..request(&env, SerializationFormat::Json, "one.json")
    };
    let options = TargetOptions::default().with_allow_insecure(true);
    let counting =
        |sas: &str| -> Result<(Arc<PushEngine>, Arc<CountingTarget>), Box<dyn std::error::Error>> {
            let inner = Arc::new(azure_config(sas).build(&options)?);
            let target = Arc::new(CountingTarget {
                inner,
                uploads: AtomicUsize::new(0),
            });
            let engine = PushEngine::new(
                Arc::new(EnvironmentSource(env.clone())),
                Arc::new(MemoryJobStore::default()),
                Arc::new(OneTarget(target.clone())),
                4,
            );
            Ok((engine, target))
        };
    let hour = Utc::now() + chrono::Duration::hours(1);
    let good = azurite.sas_url("twins", "racwdl", hour);
    // Built now, expired when the job runs.
    let expiring =
        counting(&azurite.sas_url("twins", "racwdl", Utc::now() + chrono::Duration::seconds(2)))?;
    let wrong_signature = counting(&good.replacen("sig=", "sig=AAAA", 1))?;
    let deleted_container = counting(&azurite.sas_url("gone", "racwdl", hour))?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    for ((engine, target), expected) in [
        (expiring, "its SAS expired at"),
        (wrong_signature, "access denied"),
        (deleted_container, "has no container"),
    ] {
        let job = engine
            .run(push_core::PushJob::new(one_submodel.clone()))
            .await;
        assert_failed_with(&job, expected);
        assert_eq!(
            target.uploads.load(Ordering::SeqCst),
            1,
            "{expected}: a refusal is not retried"
        );
    }

    let (stopped, target) = counting(&good)?;
    azurite.stop();
    let started = Instant::now();
    let job = stopped
        .run(push_core::PushJob::new(one_submodel.clone()))
        .await;
    assert_failed_with(&job, "unreachable");
    assert_failed_with(&job, "gave up after 3 attempts");
    assert_eq!(target.uploads.load(Ordering::SeqCst), 3);
    // The default policy: waits of 1 s and 2 s, no attempt later than 15 s after the first
    // (a refused connection fails at once).
    assert!(
        started.elapsed() >= Duration::from_secs(3) && started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    Ok(())
}

#[tokio::test]
async fn rerunning_a_job_replaces_its_object_and_completes_again() -> TestResult {
    let azurite = Azurite::start();
    azurite.create_container("twins").await?;
    let env = environment()?;
    let sas = azurite.sas_url("twins", "racwdl", Utc::now() + chrono::Duration::hours(1));
    let (engine, _) = engine(&env, &sas)?;
    let mut job = push_core::PushJob::new(request(&env, SerializationFormat::Json, "x"));
    std::sync::Arc::make_mut(&mut job.request).blob_name = None;
    let first = engine.run(job.clone()).await;
    let (first_bytes, _) = azurite
        .get("twins", &format!("{}.json", job.identifier))
        .await?;
    let second = engine.run(job.clone()).await;
    let (second_bytes, _) = azurite
        .get("twins", &format!("{}.json", job.identifier))
        .await?;
    assert_eq!(
        (first.state, second.state),
        (JobState::Completed, JobState::Completed)
    );
    assert_eq!(first_bytes, second_bytes);
    Ok(())
}

/// A source that never answers: a job reading from it runs until cancelled.
struct StuckSource;

#[async_trait]
impl Source for StuckSource {
    async fn shell(&self, _: &str) -> Result<Option<Arc<AssetAdministrationShell>>, SourceError> {
        std::future::pending().await
    }
    async fn submodel(&self, _: &str) -> Result<Option<Arc<Submodel>>, SourceError> {
        std::future::pending().await
    }
    async fn concept_description(
        &self,
        _: &str,
    ) -> Result<Option<Arc<ConceptDescription>>, SourceError> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn a_cancelled_job_is_recorded_as_failed() -> TestResult {
    let dir = tempfile::tempdir()?;
    let config: TargetConfig = serde_json::from_value(serde_json::json!({
        "name": "target", "type": "local-directory", "configuration": {"path": dir.path()}
    }))?;
    let jobs = MemoryJobStore::default();
    let engine = PushEngine::new(
        Arc::new(StuckSource),
        Arc::new(jobs.clone()),
        Arc::new(OneTarget(Arc::new(
            config.build(&TargetOptions::default().with_local_root(dir.path()))?,
        ))),
        2,
    );
    let env = environment()?;
    let job = engine
        .submit(request(&env, SerializationFormat::Json, "never.json"))
        .await?;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(engine.cancel(&job).await, "the job was running");
    let recorded = jobs.get(&job.identifier).ok_or("not recorded")?;
    assert_failed_with(&recorded, "cancelled");
    assert!(!engine.cancel(&job).await, "cancelling twice does nothing");
    Ok(())
}

#[tokio::test]
async fn unknown_ids_fail_the_job_listing_them() -> TestResult {
    let azurite = Azurite::start();
    azurite.create_container("twins").await?;
    let env = environment()?;
    let sas = azurite.sas_url("twins", "racwdl", Utc::now() + chrono::Duration::hours(1));
    let (engine, jobs) = engine(&env, &sas)?;
    let mut asked = request(&env, SerializationFormat::Json, "x.json");
    asked.shell_ids.push("urn:missing:shell".into());
    asked.submodel_ids.push("urn:missing:submodel".into());
    let job = engine.submit(asked).await?;
    assert_eq!(job.state, JobState::Processing);
    let recorded = once_ended(&jobs, &job, 100, Duration::from_millis(50)).await?;
    assert_eq!(recorded.state, JobState::Failed);
    let message = recorded.message.unwrap_or_default();
    assert!(
        message.contains("urn:missing:shell") && message.contains("urn:missing:submodel"),
        "{message}"
    );
    Ok(())
}

struct NoTargets;

#[async_trait]
impl Targets for NoTargets {
    async fn target(&self, _: &str) -> Option<Arc<dyn PushTarget>> {
        None
    }
}

/// A job that ends at once (its target does not exist) may end before `resume` has returned:
/// it must still be known to have ended, so a `cancel` after its end finds nothing to cancel
/// and leaves its record as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_ended_is_never_recorded_as_cancelled_afterwards() -> TestResult {
    let env = environment()?;
    let jobs = MemoryJobStore::default();
    let engine = PushEngine::new(
        Arc::new(EnvironmentSource(env.clone())),
        Arc::new(jobs.clone()),
        Arc::new(NoTargets),
        8,
    );
    for n in 0..200 {
        let job = engine
            .submit(request(
                &env,
                SerializationFormat::Json,
                &format!("{n}.json"),
            ))
            .await?;
        let recorded = once_ended(&jobs, &job, 200, Duration::from_millis(1)).await?;
        assert_eq!(recorded.state, JobState::Failed, "job {n}");
        assert!(!engine.cancel(&job).await, "job {n} had ended");
        let after = jobs.get(&job.identifier).ok_or("job not recorded")?;
        assert!(
            !after.message.unwrap_or_default().contains("cancelled"),
            "job {n} was recorded as cancelled after it ended"
        );
    }
    Ok(())
}

/// At start a server hands the engine the jobs it finds recorded: only those left
/// `processing` run again; a finished job stays as recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_jobs_left_processing_are_resumed() -> TestResult {
    let env = environment()?;
    let jobs = MemoryJobStore::default();
    let engine = PushEngine::new(
        Arc::new(EnvironmentSource(env.clone())),
        Arc::new(jobs.clone()),
        Arc::new(NoTargets),
        8,
    );
    let job = engine
        .submit(request(&env, SerializationFormat::Json, "a.json"))
        .await?;
    let ended = once_ended(&jobs, &job, 1000, Duration::from_millis(1)).await?;
    assert_eq!(ended.state, JobState::Failed);
    let mut left = ended.clone();
    left.state = JobState::Processing;
    assert_eq!(engine.resume_unfinished([ended, left]), 1);
    Ok(())
}
