//! Push jobs into a real Azurite on 127.0.0.1 with container SAS tokens signed by the test.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aas_model::{AssetAdministrationShell, ConceptDescription, Environment, Submodel};
use async_trait::async_trait;
use chrono::Utc;
use push_core::{
    JobState, MemoryJobStore, PushEngine, PushRequest, PushTarget, SerializationFormat, Source,
    SourceError, TargetConfig, TargetKind, TargetOptions, Targets,
};
use support::Azurite;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The corpus' maximal environment as the source of elements.
struct EnvironmentSource(Environment);

#[async_trait]
impl Source for EnvironmentSource {
    async fn shell(&self, id: &str) -> Result<Option<AssetAdministrationShell>, SourceError> {
        Ok(self
            .0
            .asset_administration_shells
            .iter()
            .flatten()
            .find(|s| s.id == id)
            .cloned())
    }
    async fn submodel(&self, id: &str) -> Result<Option<Submodel>, SourceError> {
        Ok(self
            .0
            .submodels
            .iter()
            .flatten()
            .find(|s| s.id == id)
            .cloned())
    }
    async fn concept_description(
        &self,
        id: &str,
    ) -> Result<Option<ConceptDescription>, SourceError> {
        Ok(self
            .0
            .concept_descriptions
            .iter()
            .flatten()
            .find(|c| c.id == id)
            .cloned())
    }
}

struct OneTarget(Arc<dyn PushTarget>);

#[async_trait]
impl Targets for OneTarget {
    async fn target(&self, name: &str) -> Option<Arc<dyn PushTarget>> {
        (name == "azurite").then(|| self.0.clone())
    }
}

fn environment() -> Result<Environment, Box<dyn std::error::Error>> {
    let path = aas_conformance_tests::corpus_root()
        .join("aas-core3.0-testgen/Json/SelfContained/Expected/Environment/maximal.json");
    Ok(aas_serde::json::from_slice(&std::fs::read(path)?)?)
}

fn engine(
    env: &Environment,
    sas_url: &str,
) -> Result<(Arc<PushEngine>, MemoryJobStore), Box<dyn std::error::Error>> {
    let config = TargetConfig {
        name: "azurite".into(),
        kind: TargetKind::AzureBlobStorage {
            blob_sas_url: sas_url.into(),
        },
    };
    let target = config.build(&TargetOptions {
        allow_insecure: true,
        now: Utc::now(),
    })?;
    let jobs = MemoryJobStore::default();
    let engine = PushEngine::new(
        Arc::new(EnvironmentSource(env.clone())),
        Arc::new(jobs.clone()),
        Arc::new(OneTarget(Arc::new(target))),
        4,
    );
    Ok((engine, jobs))
}

fn request(env: &Environment, format: SerializationFormat, blob_name: &str) -> PushRequest {
    PushRequest {
        push_target_name: "azurite".into(),
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
    }
}

#[tokio::test]
async fn every_format_is_pushed_and_reads_back_equal() -> TestResult {
    let azurite = Azurite::start();
    azurite.create_container("twins").await?;
    let mut env = environment()?;
    // Make a submodel's semantic id name the first concept description, so it is included.
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
    let sas = azurite.sas_url("twins", "racwdl", Utc::now() + chrono::Duration::hours(1));
    let (engine, _) = engine(&env, &sas)?;
    for (format, name) in [
        (SerializationFormat::Json, "out/env.json"),
        (SerializationFormat::Xml, "out/env.xml"),
        (SerializationFormat::AasxJson, "out/env-json.aasx"),
        (SerializationFormat::AasxXml, "out/env-xml.aasx"),
    ] {
        let job = engine
            .run(push_core::PushJob::new(request(&env, format, name)))
            .await;
        assert_eq!(
            job.state,
            JobState::Completed,
            "{format:?}: {:?}",
            job.message
        );
        let metadata = job.metadata.ok_or("no metadata")?;
        let (bytes, content_type) = azurite.get("twins", name).await?;
        assert_eq!(metadata.uploads[0].size, bytes.len() as u64);
        assert_eq!(content_type, format.content_type());
        let read: Environment = match format {
            SerializationFormat::Json => aas_serde::json::from_slice(&bytes)?,
            SerializationFormat::Xml => aas_serde::xml::from_slice(&bytes)?,
            _ => aas_serde::aasx::AasxReader::new(std::io::Cursor::new(bytes))?.environment()?,
        };
        assert_eq!(
            read.asset_administration_shells, env.asset_administration_shells,
            "{format:?}"
        );
        assert_eq!(read.submodels, env.submodels, "{format:?}");
        assert!(
            read.concept_descriptions.is_some(),
            "referenced concept descriptions included"
        );
    }
    Ok(())
}

#[tokio::test]
async fn read_only_or_expired_sas_is_refused_when_the_target_is_created() -> TestResult {
    let azurite = Azurite::start();
    let options = TargetOptions {
        allow_insecure: true,
        now: Utc::now(),
    };
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

#[tokio::test]
async fn expired_wrong_or_unreachable_targets_fail_the_job_with_a_clear_message() -> TestResult {
    let mut azurite = Azurite::start();
    azurite.create_container("twins").await?;
    let env = environment()?;
    let submodel_only = |name: &str| PushRequest {
        shell_ids: vec![],
        submodel_ids: env
            .submodels
            .iter()
            .flatten()
            .take(1)
            .map(|s| s.id.clone())
            .collect(),
        include_concept_descriptions: false,
        ..request(&env, SerializationFormat::Json, name)
    };

    let soon = azurite.sas_url("twins", "racwdl", Utc::now() + chrono::Duration::seconds(2));
    let (expiring, _) = engine(&env, &soon)?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let job = expiring
        .run(push_core::PushJob::new(submodel_only("late.json")))
        .await;
    assert_failed_with(&job, "access denied");

    let good = azurite.sas_url("twins", "racwdl", Utc::now() + chrono::Duration::hours(1));
    let tampered = good.replacen("sig=", "sig=AAAA", 1);
    let (wrong, _) = engine(&env, &tampered)?;
    let job = wrong
        .run(push_core::PushJob::new(submodel_only("wrong.json")))
        .await;
    assert_failed_with(&job, "access denied");

    let (stopped, _) = engine(&env, &good)?;
    azurite.stop();
    let started = Instant::now();
    let job = stopped
        .run(push_core::PushJob::new(submodel_only("down.json")))
        .await;
    assert_eq!(job.state, JobState::Failed);
    let message = job.message.unwrap_or_default();
    assert!(
        message.contains("unreachable") && message.contains("gave up after 3 attempts"),
        "{message}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "no retry storm: {:?}",
        started.elapsed()
    );
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
    let mut recorded = job.clone();
    for _ in 0..100 {
        recorded = jobs.get(&job.identifier).ok_or("job not recorded")?;
        if recorded.state != JobState::Processing {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(recorded.state, JobState::Failed);
    let message = recorded.message.unwrap_or_default();
    assert!(
        message.contains("urn:missing:shell") && message.contains("urn:missing:submodel"),
        "{message}"
    );
    Ok(())
}
