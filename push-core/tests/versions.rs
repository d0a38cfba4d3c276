//! The AAS version of push jobs: written in the request's `aasVersion` (default the engine's),
//! converted per element, losses refused unless `allowLoss`.

use std::sync::Arc;

use aas_model::{
    AssetAdministrationShell, AssetInformation, AssetKind, ConceptDescription, Environment,
    Submodel, Version,
};
use async_trait::async_trait;
use push_core::{
    JobState, MemoryJobStore, PushEngine, PushJob, PushRequest, PushTarget, SerializationFormat,
    Source, SourceError, TargetConfig, TargetOptions,
};

mod support;

use support::{EnvironmentSource, OneTarget};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn shell(id: &str, kind: AssetKind) -> AssetAdministrationShell {
    let mut info = AssetInformation::new(kind);
    info.global_asset_id = Some(format!("{id}/asset"));
    AssetAdministrationShell::new(id, info)
}

/// An engine over `shells` (elements in `version`) that writes into a fresh directory.
fn engine(
    shells: Vec<AssetAdministrationShell>,
    version: Version,
) -> Result<(Arc<PushEngine>, tempfile::TempDir), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let config: TargetConfig = serde_json::from_value(serde_json::json!({
        "name": "target", "type": "local-directory", "configuration": {"path": dir.path()}
    }))?;
    let target = config.build(&TargetOptions::default().with_local_root(dir.path()))?;
    let env = Environment {
        asset_administration_shells: Some(shells),
        ..Environment::default()
    };
    let engine = PushEngine::new(
        Arc::new(EnvironmentSource(env)),
        Arc::new(MemoryJobStore::default()),
        Arc::new(OneTarget(Arc::new(target))),
        1,
    )
    .with_aas_version(version);
    Ok((engine, dir))
}

fn request(id: &str, format: SerializationFormat, blob: &str) -> PushRequest {
    serde_json::from_value(serde_json::json!({
        "pushTargetName": "target",
        "serializationFormat": serde_json::to_value(format).unwrap_or_default(),
        "shellIds": [id],
        "blobName": blob,
    }))
    .unwrap_or_else(|e| panic!("a valid request: {e}"))
}

#[tokio::test]
async fn a_job_writes_the_version_its_request_names_and_the_engines_by_default() -> TestResult {
    let (engine, dir) = engine(vec![shell("urn:aas:1", AssetKind::Instance)], Version::V3_1)?;
    assert_eq!(engine.aas_version(), Version::V3_1);
    let default = engine
        .run(PushJob::new(request(
            "urn:aas:1",
            SerializationFormat::Xml,
            "default.xml",
        )))
        .await;
    assert_eq!(default.state, JobState::Completed, "{:?}", default.message);
    let written = std::fs::read_to_string(dir.path().join("default.xml"))?;
    assert!(
        written.contains("xmlns=\"https://admin-shell.io/aas/3/1\""),
        "the engine's version: {written}"
    );
    assert_eq!(
        default.metadata.as_ref().and_then(|m| m.aas_version),
        Some(Version::V3_1)
    );

    let mut asked = request("urn:aas:1", SerializationFormat::AasxXml, "old.aasx");
    asked.aas_version = Some(Version::V3_0);
    let old = engine.run(PushJob::new(asked)).await;
    assert_eq!(old.state, JobState::Completed, "{:?}", old.message);
    let mut package =
        aas_serde::aasx::AasxReader::new(std::fs::File::open(dir.path().join("old.aasx"))?)?;
    let env = package.environment()?;
    assert_eq!(env.asset_administration_shells.iter().flatten().count(), 1);
    let mut spec = String::new();
    std::io::Read::read_to_string(&mut package.open("/aasx/data.xml")?, &mut spec)?;
    assert!(
        spec.contains("xmlns=\"https://admin-shell.io/aas/3/0\""),
        "the request's version: {spec}"
    );
    let metadata = old.metadata.ok_or("no metadata")?;
    assert!(
        metadata.conversion.is_empty(),
        "nothing lost: {:?}",
        metadata.conversion
    );
    Ok(())
}

/// Needs aas-model's conversion rules (issue 20): `Role` is new in V3.1.
#[tokio::test]
async fn a_job_to_3_0_of_a_role_shell_fails_naming_it_unless_loss_is_allowed() -> TestResult {
    let (engine, dir) = engine(vec![shell("urn:aas:role", AssetKind::Role)], Version::V3_1)?;
    let mut asked = request("urn:aas:role", SerializationFormat::Xml, "role.xml");
    asked.aas_version = Some(Version::V3_0);
    let refused = engine.run(PushJob::new(asked.clone())).await;
    assert_eq!(refused.state, JobState::Failed);
    let message = refused.message.unwrap_or_default();
    assert!(
        message.contains("urn:aas:role") && message.contains("allowLoss"),
        "{message}"
    );
    assert!(!dir.path().join("role.xml").exists(), "nothing uploaded");

    asked.allow_loss = true;
    let lossy = engine.run(PushJob::new(asked)).await;
    assert_eq!(lossy.state, JobState::Completed, "{:?}", lossy.message);
    let metadata = lossy.metadata.ok_or("no metadata")?;
    assert!(
        metadata
            .conversion
            .iter()
            .any(|line| line.contains("urn:aas:role")),
        "{:?}",
        metadata.conversion
    );
    let written = std::fs::read(dir.path().join("role.xml"))?;
    let (env, version) = aas_serde::xml::from_slice_versioned::<Environment>(&written)?;
    assert_eq!(version, Version::V3_0);
    let kinds: Vec<AssetKind> = env
        .asset_administration_shells
        .iter()
        .flatten()
        .map(|s| s.asset_information.asset_kind)
        .collect();
    assert!(!kinds.contains(&AssetKind::Role), "{kinds:?}");
    Ok(())
}

#[test]
fn a_request_names_its_version_as_people_write_it_and_unknown_ones_are_refused() {
    let with = |version: &str| {
        serde_json::from_value::<PushRequest>(serde_json::json!({
            "pushTargetName": "t", "serializationFormat": "application/xml",
            "aasVersion": version, "allowLoss": true
        }))
    };
    let read = with("3.0").map_err(|e| e.to_string());
    assert_eq!(
        read.as_ref().map(|r| (r.aas_version, r.allow_loss)),
        Ok((Some(Version::V3_0), true))
    );
    let refused = with("2.0").err().map(|e| e.to_string()).unwrap_or_default();
    assert!(refused.contains("not supported"), "{refused}");
    let without: Result<PushRequest, _> = serde_json::from_value(serde_json::json!({
        "pushTargetName": "t", "serializationFormat": "application/json"
    }));
    assert!(without.is_ok_and(|r| r.aas_version.is_none() && !r.allow_loss));
}

/// Where a job is, as its source and target see it.
const GATHERING: u8 = 0;
const GATHERED: u8 = 1;
const UPLOADING: u8 = 2;

/// A source of one submodel that notes when the job has read it.
struct Noting {
    submodel: Arc<Submodel>,
    phase: Arc<std::sync::atomic::AtomicU8>,
}

#[async_trait]
impl Source for Noting {
    async fn shell(&self, _: &str) -> Result<Option<Arc<AssetAdministrationShell>>, SourceError> {
        Ok(None)
    }
    async fn submodel(&self, _: &str) -> Result<Option<Arc<Submodel>>, SourceError> {
        self.phase
            .store(GATHERED, std::sync::atomic::Ordering::SeqCst);
        Ok(Some(self.submodel.clone()))
    }
    async fn concept_description(
        &self,
        _: &str,
    ) -> Result<Option<Arc<ConceptDescription>>, SourceError> {
        Ok(None)
    }
}

/// A target that notes when the job starts uploading, then uploads to `inner`.
#[derive(Debug)]
struct NotingTarget {
    phase: Arc<std::sync::atomic::AtomicU8>,
    inner: Arc<dyn PushTarget>,
}

#[async_trait]
impl PushTarget for NotingTarget {
    async fn upload(
        &self,
        name: &str,
        bytes: bytes::Bytes,
        content_type: &str,
    ) -> Result<push_core::UploadedObject, push_core::PushError> {
        self.phase
            .store(UPLOADING, std::sync::atomic::Ordering::SeqCst);
        self.inner.upload(name, bytes, content_type).await
    }
    async fn upload_stream(
        &self,
        name: &str,
        reader: &mut (dyn tokio::io::AsyncRead + Unpin + Send),
        content_type: &str,
    ) -> Result<push_core::UploadedObject, push_core::PushError> {
        self.inner.upload_stream(name, reader, content_type).await
    }
    async fn check(&self) -> Result<(), push_core::PushError> {
        self.inner.check().await
    }
}

/// On a runtime with one thread, a task that only yields runs whenever the job's task lets the
/// thread go: if it never runs between the job reading its elements and uploading them, the
/// conversion and serialization held the thread (and every request handled on it) that long.
#[tokio::test(flavor = "current_thread")]
async fn a_jobs_conversion_and_serialization_leave_the_runtimes_thread_to_other_tasks() -> TestResult
{
    use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
    let dir = tempfile::tempdir()?;
    let config: TargetConfig = serde_json::from_value(serde_json::json!({
        "name": "target", "type": "local-directory", "configuration": {"path": dir.path()}
    }))?;
    let phase = Arc::new(AtomicU8::new(GATHERING));
    let target = NotingTarget {
        phase: phase.clone(),
        inner: Arc::new(config.build(&TargetOptions::default().with_local_root(dir.path()))?),
    };
    let mut submodel = Submodel::new("urn:sm:big");
    submodel.submodel_elements = Some(
        (0..2_000)
            .map(|i| {
                aas_model::Property::new(aas_model::DataTypeDefXsd::String)
                    .with_id_short(format!("speed-{i}"))
                    .into()
            })
            .collect(),
    );
    let engine = PushEngine::new(
        Arc::new(Noting {
            submodel: Arc::new(submodel),
            phase: phase.clone(),
        }),
        Arc::new(MemoryJobStore::default()),
        Arc::new(OneTarget(Arc::new(target))),
        1,
    )
    .with_aas_version(Version::V3_1);

    let ran_between = Arc::new(AtomicBool::new(false));
    let probe = tokio::spawn({
        let (phase, ran_between) = (phase.clone(), ran_between.clone());
        async move {
            loop {
                match phase.load(Ordering::SeqCst) {
                    GATHERED => ran_between.store(true, Ordering::SeqCst),
                    UPLOADING => return,
                    _ => {}
                }
                tokio::task::yield_now().await;
            }
        }
    });
    let asked: PushRequest = serde_json::from_value(serde_json::json!({
        "pushTargetName": "target", "serializationFormat": "application/xml",
        "submodelIds": ["urn:sm:big"], "blobName": "big.xml",
        "aasVersion": "3.0", "allowLoss": true
    }))?;
    let job = engine.run(PushJob::new(asked)).await;
    assert_eq!(job.state, JobState::Completed, "{:?}", job.message);
    let written = std::fs::read_to_string(dir.path().join("big.xml"))?;
    assert!(written.contains("speed_1999"), "converted to V3.0");
    probe.await?;
    assert!(
        ran_between.load(Ordering::SeqCst),
        "the job held the runtime's thread from reading its elements to uploading them"
    );
    Ok(())
}
