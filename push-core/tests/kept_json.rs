//! Sources that keep their elements' JSON: JSON jobs join it as it is, and upload the same bytes
//! as jobs that write the elements; other jobs still read the elements. Into a local directory:
//! nothing here needs a service.

use std::collections::HashMap;
use std::sync::Arc;

use aas_model::{AssetAdministrationShell, ConceptDescription, Environment, Reference, Submodel};
use async_trait::async_trait;
use bytes::Bytes;
use push_core::{
    JobState, MemoryJobStore, PushEngine, PushJob, PushRequest, SerializationFormat, Source,
    SourceError, TargetConfig, TargetOptions,
};

mod support;

use support::OneTarget;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Shells and submodels of the test environment.
const ELEMENTS: usize = 300;

/// What a source keeps besides the elements.
#[derive(Clone, Copy, PartialEq)]
enum Kept {
    /// No JSON: jobs write the elements.
    Nothing,
    /// Each element's JSON, as `aas_serde::json::to_vec` writes it.
    Json,
    /// A marker instead of each shell's JSON, to see which path a job took.
    Marker,
    /// The JSON, but one element too few in every answer.
    OneShort,
}

struct MapSource {
    shells: HashMap<String, Arc<AssetAdministrationShell>>,
    submodels: HashMap<String, Arc<Submodel>>,
    concept_descriptions: HashMap<String, Arc<ConceptDescription>>,
    kept: Kept,
}

impl MapSource {
    fn new(env: &Environment, kept: Kept) -> Self {
        fn by_id<T: Clone>(
            items: &Option<Vec<T>>,
            id: impl Fn(&T) -> &str,
        ) -> HashMap<String, Arc<T>> {
            items
                .iter()
                .flatten()
                .map(|item| (id(item).to_owned(), Arc::new(item.clone())))
                .collect()
        }
        Self {
            shells: by_id(&env.asset_administration_shells, |s| &s.id),
            submodels: by_id(&env.submodels, |s| &s.id),
            concept_descriptions: by_id(&env.concept_descriptions, |c| &c.id),
            kept,
        }
    }

    fn json<T: aas_serde::json::ToJson>(
        &self,
        map: &HashMap<String, Arc<T>>,
        ids: &[&str],
        marker: &'static [u8],
    ) -> Option<Vec<Option<Bytes>>> {
        let mut found: Vec<_> = ids
            .iter()
            .map(|id| {
                map.get(*id).map(|element| match self.kept {
                    Kept::Marker => Bytes::from_static(marker),
                    _ => Bytes::from(aas_serde::json::to_vec(element.as_ref())),
                })
            })
            .collect();
        match self.kept {
            Kept::Nothing => None,
            Kept::OneShort => {
                found.pop();
                Some(found)
            }
            Kept::Json | Kept::Marker => Some(found),
        }
    }
}

#[async_trait]
impl Source for MapSource {
    async fn shell(&self, id: &str) -> Result<Option<Arc<AssetAdministrationShell>>, SourceError> {
        Ok(self.shells.get(id).cloned())
    }
    async fn submodel(&self, id: &str) -> Result<Option<Arc<Submodel>>, SourceError> {
        Ok(self.submodels.get(id).cloned())
    }
    async fn concept_description(
        &self,
        id: &str,
    ) -> Result<Option<Arc<ConceptDescription>>, SourceError> {
        Ok(self.concept_descriptions.get(id).cloned())
    }
    async fn shells_json(&self, ids: &[&str]) -> Result<Option<Vec<Option<Bytes>>>, SourceError> {
        Ok(self.json(&self.shells, ids, b"\"kept shell\""))
    }
    async fn submodels_json(
        &self,
        ids: &[&str],
    ) -> Result<Option<Vec<Option<Bytes>>>, SourceError> {
        Ok(self.json(&self.submodels, ids, b"\"kept submodel\""))
    }
}

/// `ELEMENTS` copies of the corpus' maximal shell and submodel under new ids, each submodel's
/// semantic id naming one of the maximal concept description's copies.
fn environment() -> Result<Environment, Box<dyn std::error::Error>> {
    let path = aas_conformance_tests::corpus_root()
        .join("aas-core3.0-testgen/Json/SelfContained/Expected/Environment/maximal.json");
    let maximal: Environment = aas_serde::json::from_slice(&std::fs::read(path)?)?;
    let shell: AssetAdministrationShell =
        first(maximal.asset_administration_shells).ok_or("a shell")?;
    let submodel: Submodel = first(maximal.submodels).ok_or("a submodel")?;
    let cd: ConceptDescription =
        first(maximal.concept_descriptions).ok_or("a concept description")?;
    Ok(Environment {
        asset_administration_shells: Some(
            (0..ELEMENTS)
                .map(|n| AssetAdministrationShell {
                    id: format!("urn:shell:{n}"),
                    ..shell.clone()
                })
                .collect(),
        ),
        submodels: Some(
            (0..ELEMENTS)
                .map(|n| Submodel {
                    id: format!("urn:sm:{n}"),
                    semantic_id: Some(Reference::global(format!("urn:cd:{}", n % 10))),
                    ..submodel.clone()
                })
                .collect(),
        ),
        concept_descriptions: Some(
            (0..10)
                .map(|n| ConceptDescription {
                    id: format!("urn:cd:{n}"),
                    ..cd.clone()
                })
                .collect(),
        ),
    })
}

fn first<T>(list: Option<Vec<T>>) -> Option<T> {
    list.and_then(|items| items.into_iter().next())
}

/// Pushes `request` with a source keeping `kept`; the job and the uploaded bytes.
async fn push(
    env: &Environment,
    kept: Kept,
    request: PushRequest,
) -> Result<(PushJob, Option<Vec<u8>>), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let config: TargetConfig = serde_json::from_value(serde_json::json!({
        "name": "target", "type": "local-directory", "configuration": {"path": dir.path()}
    }))?;
    let engine = PushEngine::new(
        Arc::new(MapSource::new(env, kept)),
        Arc::new(MemoryJobStore::default()),
        Arc::new(OneTarget(Arc::new(
            config.build(&TargetOptions::default().with_local_root(dir.path()))?,
        ))),
        1,
    );
    let name = request
        .blob_name
        .clone()
        .ok_or("the test names the object")?;
    let job = engine.run(PushJob::new(request)).await;
    let uploaded = std::fs::read(dir.path().join(name)).ok();
    Ok((job, uploaded))
}

/// Every shell and submodel in reverse order, each named twice.
fn request(env: &Environment, format: SerializationFormat, include_cds: bool) -> PushRequest {
    let twice = |ids: Vec<String>| ids.iter().chain(&ids).cloned().collect();
    PushRequest {
        push_target_name: "target".into(),
        serialization_format: format,
        shell_ids: twice(
            env.asset_administration_shells
                .iter()
                .flatten()
                .rev()
                .map(|s| s.id.clone())
                .collect(),
        ),
        submodel_ids: twice(
            env.submodels
                .iter()
                .flatten()
                .rev()
                .map(|s| s.id.clone())
                .collect(),
        ),
        include_concept_descriptions: include_cds,
        blob_name: Some(format!("pushed.{}", format.extension())),
        aas_version: None,
        allow_loss: false,
    }
}

#[tokio::test]
async fn joined_kept_json_is_byte_for_byte_what_writing_the_elements_gives() -> TestResult {
    let env = environment()?;
    let (kept_job, kept) = push(
        &env,
        Kept::Json,
        request(&env, SerializationFormat::Json, false),
    )
    .await?;
    let (written_job, written) = push(
        &env,
        Kept::Nothing,
        request(&env, SerializationFormat::Json, false),
    )
    .await?;
    assert_eq!(
        kept_job.state,
        JobState::Completed,
        "{:?}",
        kept_job.message
    );
    assert_eq!(
        written_job.state,
        JobState::Completed,
        "{:?}",
        written_job.message
    );
    let shells: Vec<&AssetAdministrationShell> = env
        .asset_administration_shells
        .iter()
        .flatten()
        .rev()
        .collect();
    let submodels: Vec<&Submodel> = env.submodels.iter().flatten().rev().collect();
    let expected = aas_serde::json::to_vec(&aas_serde::EnvironmentRef {
        asset_administration_shells: &shells,
        submodels: &submodels,
        concept_descriptions: &[],
    });
    assert!(
        kept.as_deref() == Some(&expected[..]),
        "joined kept JSON differs"
    );
    assert!(
        written.as_deref() == Some(&expected[..]),
        "written JSON differs"
    );
    let counts = |job: &PushJob| {
        job.metadata
            .as_ref()
            .map(|m| (m.shells, m.submodels, m.concept_descriptions))
    };
    assert_eq!(counts(&kept_job), Some((ELEMENTS, ELEMENTS, 0)));
    assert_eq!(counts(&kept_job), counts(&written_job));
    Ok(())
}

#[tokio::test]
async fn only_json_jobs_without_concept_descriptions_use_the_kept_json() -> TestResult {
    let env = environment()?;
    // The marker source answers "kept shell" for every shell's JSON.
    let (job, uploaded) = push(
        &env,
        Kept::Marker,
        request(&env, SerializationFormat::Json, false),
    )
    .await?;
    assert_eq!(job.state, JobState::Completed, "{:?}", job.message);
    let uploaded = String::from_utf8(uploaded.ok_or("uploaded")?)?;
    assert!(uploaded.starts_with(r#"{"assetAdministrationShells":["kept shell","kept shell","#));
    for (format, include_cds) in [
        (SerializationFormat::Json, true),
        (SerializationFormat::Xml, false),
        (SerializationFormat::AasxJson, false),
    ] {
        let (marker_job, marker) =
            push(&env, Kept::Marker, request(&env, format, include_cds)).await?;
        let (_, written) = push(&env, Kept::Nothing, request(&env, format, include_cds)).await?;
        assert_eq!(
            marker_job.state,
            JobState::Completed,
            "{:?}",
            marker_job.message
        );
        let cds = marker_job.metadata.map(|m| m.concept_descriptions);
        assert_eq!(cds, Some(if include_cds { 10 } else { 0 }), "{format:?}");
        if format == SerializationFormat::AasxJson {
            // Packages carry timestamps: compare the environments in them.
            let read = |bytes: Option<Vec<u8>>| -> Result<Environment, Box<dyn std::error::Error>> {
                let bytes = bytes.ok_or("uploaded")?;
                Ok(aas_serde::aasx::AasxReader::new(std::io::Cursor::new(bytes))?.environment()?)
            };
            assert_eq!(read(marker)?, read(written)?, "{format:?}");
        } else {
            assert!(
                marker == written,
                "{format:?} with concept descriptions {include_cds}"
            );
        }
    }
    Ok(())
}

#[tokio::test]
async fn unknown_ids_are_listed_when_the_source_keeps_json() -> TestResult {
    let env = environment()?;
    let mut asked = request(&env, SerializationFormat::Json, false);
    asked.shell_ids.insert(0, "urn:missing:a".into());
    asked.submodel_ids.push("urn:missing:b".into());
    let (job, uploaded) = push(&env, Kept::Json, asked).await?;
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(
        job.message.as_deref(),
        Some(r#"unknown ids: shell "urn:missing:a", submodel "urn:missing:b""#)
    );
    assert!(uploaded.is_none(), "nothing uploaded");
    Ok(())
}

#[tokio::test]
async fn a_source_answering_too_few_elements_fails_the_job_instead_of_dropping_some() -> TestResult
{
    let env = environment()?;
    let (job, uploaded) = push(
        &env,
        Kept::OneShort,
        request(&env, SerializationFormat::Json, false),
    )
    .await?;
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(
        job.message.as_deref(),
        Some("reading the elements failed: asked for 300 shells, the source answered 299")
    );
    assert!(uploaded.is_none(), "nothing uploaded");
    Ok(())
}
