//! Push jobs: the request users send, the job record, and the engine that runs jobs.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use aas_model::{AssetAdministrationShell, ConceptDescription, Submodel, Version};
use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio::task::AbortHandle;

use crate::error::PushError;
use crate::export::{self, Export, ExportError, ExportFile};
use crate::retry::{AfterFailure, RetryPolicy};
use crate::target::{PushTarget, UploadedObject};

/// What is serialized and how; also the one table of the formats' MIME types, both ways
/// ([`SerializationFormat::mime_type`], [`SerializationFormat::from_mime_type`],
/// [`SerializationFormat::negotiate`] for an `Accept` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SerializationFormat {
    /// An environment in the AAS JSON serialization (Part 1), `application/json`.
    #[serde(rename = "application/json")]
    Json,
    /// An environment in the AAS XML serialization (Part 1), `application/xml`.
    #[serde(rename = "application/xml")]
    Xml,
    /// An AASX package with a JSON spec part.
    #[serde(rename = "application/asset-administration-shell-package+json")]
    AasxJson,
    /// An AASX package with an XML spec part.
    #[serde(rename = "application/asset-administration-shell-package+xml")]
    AasxXml,
}

/// Every MIME type a format is known by, the format's own ([`SerializationFormat::mime_type`],
/// its name in push requests) first.
const MIME_TYPES: &[(&str, SerializationFormat)] = &[
    ("application/json", SerializationFormat::Json),
    ("application/xml", SerializationFormat::Xml),
    // The older name of `application/xml` (RFC 7303), still widely sent.
    ("text/xml", SerializationFormat::Xml),
    (
        "application/asset-administration-shell-package+json",
        SerializationFormat::AasxJson,
    ),
    (
        "application/asset-administration-shell-package+xml",
        SerializationFormat::AasxXml,
    ),
    ("application/aasx+xml", SerializationFormat::AasxXml),
];

impl SerializationFormat {
    /// Every format.
    pub const ALL: [SerializationFormat; 4] = [
        SerializationFormat::Json,
        SerializationFormat::Xml,
        SerializationFormat::AasxJson,
        SerializationFormat::AasxXml,
    ];

    /// The file extension of the default object name.
    pub fn extension(self) -> &'static str {
        match self {
            SerializationFormat::Json => "json",
            SerializationFormat::Xml => "xml",
            SerializationFormat::AasxJson | SerializationFormat::AasxXml => "aasx",
        }
    }

    /// The MIME type of the format (its name in push requests, and the content type of a
    /// `/serialization` answer).
    pub fn mime_type(self) -> &'static str {
        MIME_TYPES
            .iter()
            .find(|(_, format)| *format == self)
            .map_or("application/json", |(mime_type, _)| mime_type)
    }

    /// The format a MIME type names (case-insensitive, parameters such as `; charset=utf-8`
    /// ignored): `application/json`; `application/xml`, `text/xml`;
    /// `application/asset-administration-shell-package+json`;
    /// `application/asset-administration-shell-package+xml`, `application/aasx+xml`.
    pub fn from_mime_type(mime_type: &str) -> Option<SerializationFormat> {
        let essence = mime_type.split(';').next().unwrap_or_default().trim();
        MIME_TYPES
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(essence))
            .map(|(_, format)| *format)
    }

    /// The format to answer an `Accept` header with (RFC 9110, 12.5.1): each format takes the
    /// weight (`q`, default 1) of the most specific media range that matches its MIME type
    /// ([`SerializationFormat::mime_type`], the type answered) or names one of its other
    /// names exactly (`text/xml`): `application/xml` before `application/*` before `*/*`; an
    /// empty range counts as `*/*`; `q=0` excludes it, the highest weight wins and, between equal weights, the
    /// range listed first, then the order of [`SerializationFormat::ALL`] (so `*/*` and
    /// `application/*` mean JSON). Ranges that do not parse, or whose `q` is not a number
    /// from 0 to 1, are ignored. No header at all means JSON too; `None`: no range names a
    /// format with a weight above 0.
    pub fn negotiate(accept: Option<&str>) -> Option<SerializationFormat> {
        let Some(accept) = accept else {
            return Some(SerializationFormat::Json);
        };
        let ranges: Vec<(mime::Mime, u16)> = accept.split(',').filter_map(media_range).collect();
        // The best so far: (weight, position of its range, format).
        let mut best: Option<(u16, usize, SerializationFormat)> = None;
        for format in SerializationFormat::ALL {
            // The format's own MIME type (the one answered) matches exactly or by a wildcard,
            // its other names only exactly; the most specific match decides.
            let mut names = MIME_TYPES.iter().filter(|(_, f)| *f == format);
            let own = names
                .next()
                .and_then(|(name, _)| match_of(name, &ranges, false));
            let matched = names
                .filter_map(|(name, _)| match_of(name, &ranges, true))
                .chain(own)
                .reduce(|a, b| {
                    if b.0 > a.0 || (b.0 == a.0 && b.2 < a.2) {
                        b
                    } else {
                        a
                    }
                });
            let Some((_, weight, position)) = matched else {
                continue;
            };
            let better = best.is_none_or(|(w, p, _)| weight > w || (weight == w && position < p));
            if weight > 0 && better {
                best = Some((weight, position, format));
            }
        }
        best.map(|(_, _, format)| format)
    }
    /// Whether it is an AASX package (which carries the elements' files).
    pub fn is_package(self) -> bool {
        matches!(
            self,
            SerializationFormat::AasxJson | SerializationFormat::AasxXml
        )
    }

    /// The content type of the uploaded object: the MIME type, for AASX packages without the
    /// suffix (`application/asset-administration-shell-package`, as Part 5 names it).
    pub fn content_type(self) -> &'static str {
        if self.is_package() {
            AASX_CONTENT_TYPE
        } else {
            self.mime_type()
        }
    }
}

/// A media range of an `Accept` header and its weight in thousandths; `None` if it does not
/// parse. An empty range (`Accept: ` or `a/b, `) is `*/*`.
fn media_range(range: &str) -> Option<(mime::Mime, u16)> {
    let range = range.trim();
    let parsed: mime::Mime = if range.is_empty() || range.starts_with(';') {
        format!("*/*{range}").parse().ok()?
    } else {
        range.parse().ok()?
    };
    let weight = match parsed.get_param("q") {
        None => 1000,
        Some(q) => {
            let q: f32 = q.as_str().parse().ok()?;
            if !(0.0..=1.0).contains(&q) {
                return None;
            }
            // In 0..=1000 (checked above), so the cast keeps the value.
            (q * 1000.0).round() as u16
        }
    };
    Some((parsed, weight))
}

/// The specificity (3 exact, 2 `type/*`, 1 `*/*`), weight and position of the most specific
/// range that matches a MIME type (the first of equally specific ones); with `exact_only`,
/// wildcards do not match.
fn match_of(
    name: &str,
    ranges: &[(mime::Mime, u16)],
    exact_only: bool,
) -> Option<(u8, u16, usize)> {
    let kind = name.split('/').next().unwrap_or_default();
    let mut best: Option<(u8, u16, usize)> = None;
    for (position, (range, weight)) in ranges.iter().enumerate() {
        let specificity = if range.essence_str().eq_ignore_ascii_case(name) {
            3
        } else if exact_only {
            continue;
        } else if range.subtype() == mime::STAR && range.type_().as_str().eq_ignore_ascii_case(kind)
        {
            2
        } else if range.type_() == mime::STAR && range.subtype() == mime::STAR {
            1
        } else {
            continue;
        };
        if best.is_none_or(|(s, _, _)| specificity > s) {
            best = Some((specificity, *weight, position));
        }
    }
    best
}

/// The content type pushed AASX packages are uploaded with.
const AASX_CONTENT_TYPE: &str = "application/asset-administration-shell-package";

/// A push request, as users send it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PushRequest {
    /// The name of the target to upload to (`pushTargetName`), looked up in the engine's
    /// [`Targets`] when the job runs.
    pub push_target_name: String,
    /// What to write (`serializationFormat`, a MIME type in JSON).
    pub serialization_format: SerializationFormat,
    /// The ids of the shells to export (`shellIds`); repeated ids count once.
    #[serde(default)]
    pub shell_ids: Vec<String>,
    /// The ids of the submodels to export (`submodelIds`); repeated ids count once.
    #[serde(default)]
    pub submodel_ids: Vec<String>,
    /// Whether the export holds the concept descriptions the submodels' semantic ids refer to
    /// (`includeConceptDescriptions`, default `false`).
    #[serde(default)]
    pub include_concept_descriptions: bool,
    /// The object name; default `<job identifier>.json|.xml|.aasx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob_name: Option<String>,
    /// The AAS version to write, `"3.0"` or `"3.1"` (the XML namespace of XML and AASX
    /// output; JSON has no marker, but its values are converted all the same). `None`: the
    /// engine's ([`PushEngine::with_aas_version`], the version the source's elements are in).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "optional_version"
    )]
    pub aas_version: Option<Version>,
    /// Write even when converting to `aas_version` loses something: each loss then follows
    /// aas-model's documented rule and the job's metadata lists them (`conversion`). Without
    /// it such a job fails, its message listing what each element would lose, and uploads
    /// nothing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_loss: bool,
}

/// `aasVersion` as the string people write (`"3.0"`, `"3.1"`).
mod optional_version {
    use aas_model::Version;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        version: &Option<Version>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match version {
            Some(version) => serializer.serialize_str(version.as_str()),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Version>, D::Error> {
        let text = Option::<String>::deserialize(deserializer)?;
        text.map(|text| text.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Submitted and not finished yet (`processing`): waiting for a permit, running, or left
    /// so by a process that ended mid-job.
    Processing,
    /// Uploaded (`completed`); the job's `metadata` says what.
    Completed,
    /// Ended without an upload (`failed`), or cancelled; the job's `message` says why.
    Failed,
}

impl JobState {
    /// The state as written in a job's JSON (`processing`, `completed`, `failed`), for stores
    /// that keep it beside the record (to find the jobs left `processing`).
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Processing => "processing",
            JobState::Completed => "completed",
            JobState::Failed => "failed",
        }
    }
}

/// What a finished job uploaded, and how long it took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobMetadata {
    /// The objects uploaded (one per job today).
    pub uploads: Vec<UploadedObject>,
    /// How long the job ran, in milliseconds, from getting its permit to the end of the
    /// upload (retries included).
    pub duration_ms: u64,
    /// How many shells the environment holds.
    pub shells: usize,
    /// How many submodels the environment holds.
    pub submodels: usize,
    /// How many concept descriptions the environment holds.
    pub concept_descriptions: usize,
    /// The AAS version written.
    #[serde(
        default,
        with = "optional_version",
        skip_serializing_if = "Option::is_none"
    )]
    pub aas_version: Option<Version>,
    /// What converting to another version lost (only with `allowLoss`), one line per change:
    /// `<shell|submodel|concept description> "<id>": <path>: <problem>; <rule applied>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conversion: Vec<String>,
}

/// A job record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushJob {
    /// The job's id (`identifier`), a random UUID; also the default object name.
    pub identifier: String,
    /// Where the job is (`state`).
    pub state: JobState,
    /// When the job was submitted (`createdOn`).
    pub created_on: DateTime<Utc>,
    /// When the record last changed (`updatedOn`): submitted, finished or cancelled.
    pub updated_on: DateTime<Utc>,
    /// Why a failed job failed (`message`), in words a user can act on, without secrets;
    /// `None` otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Shared: a job's request never changes, and records are saved and handed out often (a
    /// request may name thousands of ids).
    #[serde(flatten)]
    pub request: Arc<PushRequest>,
    /// What a completed job uploaded (`metadata`); `None` until it completes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<JobMetadata>,
}

impl PushJob {
    /// A new job in state `processing`.
    pub fn new(request: PushRequest) -> Self {
        let now = Utc::now();
        Self {
            identifier: uuid::Uuid::new_v4().to_string(),
            state: JobState::Processing,
            created_on: now,
            updated_on: now,
            message: None,
            request: Arc::new(request),
            metadata: None,
        }
    }
}

/// Why the source could not provide an element (not "it does not exist": that is `Ok(None)`):
/// the source's own error, kept as the [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

impl SourceError {
    /// Wraps the source's error (any error, or a message: `SourceError::new("...")`).
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(error.into())
    }
}

/// Why a job failed; its text becomes the job's `message`.
#[derive(Debug, thiserror::Error)]
enum JobError {
    #[error("there is no push target named {0:?}")]
    NoTarget(String),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error("the request names no shells and no submodels")]
    NothingNamed,
    #[error("converting and serializing the elements stopped: {0}")]
    Stopped(#[source] tokio::task::JoinError),
    #[error("{0}")]
    Upload(#[source] PushError),
    #[error("{source} (gave up after {attempt} {}: {why})", if *.attempt == 1 { "attempt" } else { "attempts" })]
    GaveUp {
        #[source]
        source: PushError,
        attempt: u32,
        why: crate::retry::GaveUp,
    },
}

/// Where jobs and [`Export::gather`] take the elements from (the server implements it over its
/// storage), and their files ([`Source::files`]: AASX packages carry them). Elements
/// come as `Arc`s: a repository that keeps them in memory hands them out without copying. A
/// source that keeps the elements' JSON (a store of JSON documents) also implements
/// [`Source::shells_json`] and [`Source::submodels_json`]: JSON jobs then join that JSON
/// instead of reading and writing every element, which halves the work of a big job.
#[async_trait]
pub trait Source: Send + Sync {
    /// The shell with this `id`; `Ok(None)` when there is none.
    async fn shell(&self, id: &str) -> Result<Option<Arc<AssetAdministrationShell>>, SourceError>;
    /// The submodel with this `id`; `Ok(None)` when there is none.
    async fn submodel(&self, id: &str) -> Result<Option<Arc<Submodel>>, SourceError>;
    /// The concept description with this `id`; `Ok(None)` when there is none.
    async fn concept_description(
        &self,
        id: &str,
    ) -> Result<Option<Arc<ConceptDescription>>, SourceError>;

    /// Many shells at once, in the order of `ids` (a store can answer with one query).
    async fn shells(
        &self,
        ids: &[&str],
    ) -> Result<Vec<Option<Arc<AssetAdministrationShell>>>, SourceError> {
        one_by_one(ids, |id| self.shell(id)).await
    }

    /// Many submodels at once, in the order of `ids`.
    async fn submodels(&self, ids: &[&str]) -> Result<Vec<Option<Arc<Submodel>>>, SourceError> {
        one_by_one(ids, |id| self.submodel(id)).await
    }

    /// The JSON of many shells at once, in the order of `ids`, each exactly as
    /// `aas_serde::json::to_vec` writes the shell, from a source that keeps it (a store of JSON
    /// documents): JSON jobs then put these bytes into the environment as they are instead of
    /// reading and writing the elements. `Ok(None)`, the default: the source keeps no JSON.
    async fn shells_json(&self, _ids: &[&str]) -> Result<Option<Vec<Option<Bytes>>>, SourceError> {
        Ok(None)
    }

    /// The JSON of many submodels at once, like [`Source::shells_json`].
    async fn submodels_json(
        &self,
        _ids: &[&str],
    ) -> Result<Option<Vec<Option<Bytes>>>, SourceError> {
        Ok(None)
    }

    /// Many concept descriptions at once, in the order of `ids`.
    async fn concept_descriptions(
        &self,
        ids: &[&str],
    ) -> Result<Vec<Option<Arc<ConceptDescription>>>, SourceError> {
        one_by_one(ids, |id| self.concept_description(id)).await
    }

    /// The files of these shells and submodels that an AASX package carries: the shells'
    /// default thumbnails ([`ExportFile::thumbnail`]) and the files the submodels' `File`
    /// elements name, each under the path the element gives. `Ok(vec![])`, the default: the
    /// source keeps no files.
    async fn files(
        &self,
        _shells: &[Arc<AssetAdministrationShell>],
        _submodels: &[Arc<Submodel>],
    ) -> Result<Vec<ExportFile>, SourceError> {
        Ok(Vec::new())
    }
}

/// The default of the batch lookups: each id in turn.
async fn one_by_one<'a, T, Answer>(
    ids: &[&'a str],
    look_up: impl Fn(&'a str) -> Answer,
) -> Result<Vec<Option<T>>, SourceError>
where
    Answer: std::future::Future<Output = Result<Option<T>, SourceError>>,
{
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        found.push(look_up(id).await?);
    }
    Ok(found)
}

/// Where job records are kept.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Saves `job`, replacing the record of the same `identifier`. The engine saves a job when
    /// it is submitted, when it ends and when it is cancelled; a failure to save a job's end
    /// is logged, not retried.
    async fn save(&self, job: &PushJob) -> Result<(), SourceError>;
}

/// Which target a name stands for.
#[async_trait]
pub trait Targets: Send + Sync {
    /// The target named `name` (a request's `pushTargetName`); `None` fails the job with
    /// "there is no push target named ...".
    async fn target(&self, name: &str) -> Option<Arc<dyn PushTarget>>;
}

/// An in-memory [`JobStore`] (tests, examples).
#[derive(Debug, Clone, Default)]
pub struct MemoryJobStore {
    jobs: Arc<Mutex<HashMap<String, PushJob>>>,
}

impl MemoryJobStore {
    /// The last saved record of the job `identifier`, if any.
    pub fn get(&self, identifier: &str) -> Option<PushJob> {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(identifier)
            .cloned()
    }
}

#[async_trait]
impl JobStore for MemoryJobStore {
    async fn save(&self, job: &PushJob) -> Result<(), SourceError> {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(job.identifier.clone(), job.clone());
        Ok(())
    }
}

/// Runs push jobs: gathers the elements, serializes them, uploads, records the outcome.
/// At most `concurrency` jobs run at once; transient upload failures are retried as its
/// [`RetryPolicy`] says (the only retry layer), other failures never.
pub struct PushEngine {
    source: Arc<dyn Source>,
    jobs: Arc<dyn JobStore>,
    targets: Arc<dyn Targets>,
    permits: Arc<Semaphore>,
    running: Arc<Mutex<HashMap<String, AbortHandle>>>,
    retry: RetryPolicy,
    aas_version: Version,
}

impl fmt::Debug for PushEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushEngine")
            .field("available_permits", &self.permits.available_permits())
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl PushEngine {
    /// An engine with the default [`RetryPolicy`] (3 attempts within 15 s).
    pub fn new(
        source: Arc<dyn Source>,
        jobs: Arc<dyn JobStore>,
        targets: Arc<dyn Targets>,
        concurrency: usize,
    ) -> Arc<Self> {
        Self::with_retry_policy(source, jobs, targets, concurrency, RetryPolicy::default())
    }

    /// An engine that retries transient upload failures as `retry` says.
    pub fn with_retry_policy(
        source: Arc<dyn Source>,
        jobs: Arc<dyn JobStore>,
        targets: Arc<dyn Targets>,
        concurrency: usize,
        retry: RetryPolicy,
    ) -> Arc<Self> {
        Arc::new(Self {
            source,
            jobs,
            targets,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            running: Arc::default(),
            retry,
            aas_version: Version::LATEST,
        })
    }

    /// The engine for a source whose elements are in `version` (default: the newest): jobs
    /// write it unless their request names another. It shares this engine's stores, targets,
    /// permits and running jobs.
    pub fn with_aas_version(self: Arc<Self>, version: Version) -> Arc<Self> {
        Arc::new(Self {
            source: self.source.clone(),
            jobs: self.jobs.clone(),
            targets: self.targets.clone(),
            permits: self.permits.clone(),
            running: self.running.clone(),
            retry: self.retry,
            aas_version: version,
        })
    }

    /// The AAS version of the source's elements (see [`PushEngine::with_aas_version`]).
    pub fn aas_version(&self) -> Version {
        self.aas_version
    }

    /// How transient upload failures are retried.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// Records a new job (`processing`) and runs it in the background; returns the record.
    pub async fn submit(self: &Arc<Self>, request: PushRequest) -> Result<PushJob, SourceError> {
        let job = PushJob::new(request);
        self.jobs.save(&job).await?;
        self.resume(job.clone());
        Ok(job)
    }

    /// Runs again each of `jobs` left [`JobState::Processing`] (by a process that ended
    /// mid-job, found at start); the finished ones stay as recorded. The number resumed.
    pub fn resume_unfinished(self: &Arc<Self>, jobs: impl IntoIterator<Item = PushJob>) -> usize {
        let mut resumed = 0;
        for job in jobs.into_iter().filter(|j| j.state == JobState::Processing) {
            tracing::info!(job = %job.identifier, "resuming a push job left processing");
            self.resume(job);
            resumed += 1;
        }
        resumed
    }

    /// Runs a recorded job in the background again, e.g. one left `processing` when the
    /// process ended (jobs are idempotent: the same object names are uploaded again).
    pub fn resume(self: &Arc<Self>, job: PushJob) {
        let engine = self.clone();
        let identifier = job.identifier.clone();
        // The handle is registered while the lock is held, before the task can look for it:
        // a job that ends at once still finds (and removes) its own handle, so a finished
        // job is never "cancelled" afterwards.
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        let task = tokio::spawn(async move {
            let identifier = job.identifier.clone();
            let finished = engine.outcome(job).await;
            // Whoever removes the handle records the end: this task (the outcome) or
            // `cancel` ("cancelled"), never both.
            let ours = engine
                .running
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&identifier)
                .is_some();
            if ours {
                engine.record(&finished).await;
            }
        });
        running.insert(identifier, task.abort_handle());
    }

    /// The identifiers of the jobs this engine runs now (waiting for a permit or running).
    pub fn running(&self) -> Vec<String> {
        let running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        running.keys().cloned().collect()
    }

    /// Stops a running job and records it as failed ("cancelled"). `false` if it is not running.
    pub async fn cancel(&self, job: &PushJob) -> bool {
        let handle = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&job.identifier);
        let Some(handle) = handle else { return false };
        handle.abort();
        let mut cancelled = job.clone();
        cancelled.state = JobState::Failed;
        cancelled.message = Some("the job was cancelled".into());
        cancelled.updated_on = Utc::now();
        if let Err(error) = self.jobs.save(&cancelled).await {
            tracing::error!(job = %cancelled.identifier, %error, "could not record the cancelled push job");
        }
        true
    }

    /// Runs a job to its end and records it. Re-running an interrupted job is safe: it uploads
    /// the same object names again.
    pub async fn run(&self, job: PushJob) -> PushJob {
        let job = self.outcome(job).await;
        self.record(&job).await;
        job
    }

    /// Runs a job to its end; the record is not saved.
    async fn outcome(&self, mut job: PushJob) -> PushJob {
        let Ok(_permit) = self.permits.acquire().await else {
            return job;
        };
        let started = Instant::now();
        match self.execute(&job).await {
            Ok(mut metadata) => {
                metadata.duration_ms = started.elapsed().as_millis() as u64;
                job.state = JobState::Completed;
                job.message = None;
                job.metadata = Some(metadata);
            }
            Err(error) => {
                job.state = JobState::Failed;
                job.message = Some(error.to_string());
            }
        }
        job.updated_on = Utc::now();
        job
    }

    async fn record(&self, job: &PushJob) {
        if let Err(e) = self.jobs.save(job).await {
            tracing::error!(job = %job.identifier, error = %e, "could not record the push job");
        }
    }

    async fn execute(&self, job: &PushJob) -> Result<JobMetadata, JobError> {
        let request = &job.request;
        let target = self
            .targets
            .target(&request.push_target_name)
            .await
            .ok_or_else(|| JobError::NoTarget(request.push_target_name.clone()))?;
        let format = request.serialization_format;
        let ids = RequestedIds {
            shells: unique(&request.shell_ids).collect(),
            submodels: unique(&request.submodel_ids).collect(),
        };
        let version = request.aas_version.unwrap_or(self.aas_version);
        let (bytes, counts, conversion) = match self.kept_json(request, &ids, version).await? {
            Some((bytes, counts)) => (bytes, counts, Vec::new()),
            None => self.written(request, &ids, version).await?,
        };
        let name = request
            .blob_name
            .clone()
            .unwrap_or_else(|| format!("{}.{}", job.identifier, format.extension()));
        let uploaded = self
            .upload_with_retries(
                target.as_ref(),
                &name,
                Bytes::from(bytes),
                format.content_type(),
            )
            .await?;
        Ok(JobMetadata {
            uploads: vec![uploaded],
            duration_ms: 0,
            shells: counts.0,
            submodels: counts.1,
            concept_descriptions: counts.2,
            aas_version: Some(version),
            conversion,
        })
    }

    /// The environment written from the elements in `version`, how many of each kind it
    /// holds, and what converting them lost (with `allowLoss`).
    async fn written(
        &self,
        request: &PushRequest,
        ids: &RequestedIds<'_>,
        version: Version,
    ) -> Result<(Vec<u8>, (usize, usize, usize), Vec<String>), JobError> {
        let format = request.serialization_format;
        let mut export = Export::gather(
            self.source.as_ref(),
            &ids.shells,
            &ids.submodels,
            request.include_concept_descriptions,
            format.is_package(),
        )
        .await?;
        let counts = export.counts();
        if counts.0 + counts.1 == 0 {
            return Err(JobError::NothingNamed);
        }
        let (from, allow_loss) = (self.aas_version, request.allow_loss);
        // Converting and serializing is CPU work that grows with the elements' size, not their
        // number (one submodel can be megabytes): on the runtime's threads it stalled request
        // handling for as long as it took. On the blocking pool it shares the CPU with the
        // runtime's threads instead of taking them, and at most `concurrency` jobs (the
        // engine's permits) do such work at once.
        tokio::task::spawn_blocking(move || {
            let conversion = if version == from {
                Vec::new()
            } else {
                export.convert(from, version, allow_loss)?
            };
            let bytes = export.write(format, version)?;
            Ok((bytes, counts, conversion))
        })
        .await
        .map_err(JobError::Stopped)?
    }

    /// For a JSON job without concept descriptions (which need the submodels' semantic ids),
    /// the environment joined from the JSON the source keeps; `None` when it keeps none.
    async fn kept_json(
        &self,
        request: &PushRequest,
        ids: &RequestedIds<'_>,
        version: Version,
    ) -> Result<Option<(Vec<u8>, (usize, usize, usize))>, JobError> {
        // Another version than the source's needs the elements converted.
        if request.serialization_format != SerializationFormat::Json
            || request.include_concept_descriptions
            || version != self.aas_version
        {
            return Ok(None);
        }
        let (shell_ids, submodel_ids) = (&ids.shells[..], &ids.submodels[..]);
        let read = |error| JobError::Export(ExportError::Read(error));
        let Some(found_shells) = self.source.shells_json(shell_ids).await.map_err(read)? else {
            return Ok(None);
        };
        let Some(found_submodels) = self
            .source
            .submodels_json(submodel_ids)
            .await
            .map_err(read)?
        else {
            return Ok(None);
        };
        let mut missing = Vec::new();
        let shells = export::keep_found(found_shells, shell_ids, "shell", &mut missing)?;
        let submodels =
            export::keep_found(found_submodels, submodel_ids, "submodel", &mut missing)?;
        if !missing.is_empty() {
            return Err(ExportError::UnknownIds(missing).into());
        }
        if shells.len() + submodels.len() == 0 {
            return Err(JobError::NothingNamed);
        }
        let counts = (shells.len(), submodels.len(), 0);
        let no_concept_descriptions: &[Bytes] = &[];
        let bytes = aas_serde::json::join_environment(&shells, &submodels, no_concept_descriptions);
        Ok(Some((bytes, counts)))
    }

    async fn upload_with_retries(
        &self,
        target: &dyn PushTarget,
        name: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<UploadedObject, JobError> {
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            let error = match target.upload(name, bytes.clone(), content_type).await {
                Ok(uploaded) => return Ok(uploaded),
                Err(error) if error.is_transient() => error,
                Err(error) => return Err(JobError::Upload(error)),
            };
            match self.retry.after_failure(attempt, started.elapsed()) {
                AfterFailure::RetryAfter(delay) => {
                    tracing::warn!(%error, attempt, "push upload failed; retrying in {delay:?}");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                AfterFailure::GiveUp(why) => {
                    return Err(JobError::GaveUp {
                        source: error,
                        attempt,
                        why,
                    });
                }
            }
        }
    }
}

/// The ids a request names, each once, in their first order.
struct RequestedIds<'a> {
    shells: Vec<&'a str>,
    submodels: Vec<&'a str>,
}

fn unique(ids: &[String]) -> impl Iterator<Item = &str> {
    // foldhash: 2,000 ids in 36 µs, SipHash (the standard hasher) 80 µs.
    let mut seen = std::collections::HashSet::with_capacity_and_hasher(
        ids.len(),
        foldhash::fast::RandomState::default(),
    );
    ids.iter()
        .map(String::as_str)
        .filter(move |id| seen.insert(*id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_record_is_one_flat_object_that_reads_back_equal() -> Result<(), serde_json::Error> {
        let job = PushJob::new(PushRequest {
            push_target_name: "lake".into(),
            serialization_format: SerializationFormat::Xml,
            shell_ids: vec!["urn:aas:1".into()],
            submodel_ids: vec!["urn:sm:1".into(), "urn:sm:2".into()],
            include_concept_descriptions: true,
            blob_name: None,
            aas_version: Some(Version::V3_0),
            allow_loss: false,
        });
        let record = serde_json::to_value(&job)?;
        // The request's fields sit beside the job's own, as the push API shows them.
        assert_eq!(record["pushTargetName"], "lake");
        assert_eq!(record["serializationFormat"], "application/xml");
        assert_eq!(record["submodelIds"][1], "urn:sm:2");
        assert_eq!(record["includeConceptDescriptions"], true);
        assert_eq!(record["state"], "processing");
        assert_eq!(record["aasVersion"], "3.0");
        assert!(record.get("allowLoss").is_none(), "false is not written");
        assert!(record.get("request").is_none());
        let read: PushJob = serde_json::from_value(record)?;
        assert_eq!(read, job);
        // A saved copy shares the request instead of copying its ids.
        let saved = job.clone();
        assert!(Arc::ptr_eq(&saved.request, &job.request));
        Ok(())
    }
}
