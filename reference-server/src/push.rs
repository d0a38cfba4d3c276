//! Push targets and jobs of the server: push-core's engine over the repository, with targets
//! (their secrets sealed, see [`crate::secrets`]) and job records in the repository's
//! database, on its connections (tables: the `push` migrations of
//! `storage/sqlite/migrations.rs`; their SQL: `storage/sqlite/push.rs`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use aas_model::{AssetAdministrationShell, ConceptDescription, Submodel};
use async_trait::async_trait;
use bytes::Bytes;
use push_core::{
    ExportFile, JobState, JobStore, PushEngine, PushJob, PushTarget, Source, SourceError,
    TargetConfig, TargetOptions, Targets,
};
use sdt_core::outbound::OutboundPolicy;
use serde_json::Value;

use crate::outbound::{PolicyResolver, TargetCheckError, check_target};
use crate::secrets::SecretKey;
use crate::storage::{Collection, Database, Repository, StorageError, StoreError, Write};

/// Why a push operation failed: the error of the stores beside the repository.
pub type PushStoreError = StoreError;

/// A target built from its stored configuration, and the sealed text it was built from.
type BuiltTarget = (String, Arc<dyn PushTarget>);

/// Targets and job records, in the repository's database file.
pub struct PushStore {
    database: Arc<Database>,
    key: SecretKey,
    /// Whether plain http to loopback hosts is accepted (see `TargetOptions::allow_insecure`).
    allow_insecure: bool,
    /// Where targets may connect (`[outbound]`), and the same as push-core's resolver.
    outbound: OutboundPolicy,
    resolver: Arc<PolicyResolver>,
    /// Local-directory targets lie under it; none without it.
    local_root: Option<PathBuf>,
    /// Targets built from their stored configuration, each with the sealed text it was built
    /// from: a lookup compares that with the stored one, so a target replaced meanwhile is
    /// never used in its old configuration (sealing draws a fresh nonce, so every write
    /// stores a different text).
    built: Mutex<HashMap<String, BuiltTarget>>,
}

impl std::fmt::Debug for PushStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushStore").finish_non_exhaustive()
    }
}

const TARGET: &str = "push target";
const JOB: &str = "push job";

fn context(name: &str) -> String {
    format!("push-target:{name}")
}

impl PushStore {
    /// The store on `database` (whose opening created or migrated its tables).
    pub fn new(database: Arc<Database>, key: SecretKey, allow_insecure: bool) -> Self {
        Self {
            database,
            key,
            allow_insecure,
            outbound: OutboundPolicy::default(),
            resolver: Arc::new(PolicyResolver::new(OutboundPolicy::default())),
            local_root: None,
            built: Mutex::default(),
        }
    }

    /// Where targets may connect, and the root of local-directory targets (`[outbound]`).
    pub fn with_outbound(mut self, policy: OutboundPolicy, local_root: Option<PathBuf>) -> Self {
        self.resolver = Arc::new(PolicyResolver::new(policy.clone()));
        self.outbound = policy;
        self.local_root = local_root;
        self
    }

    /// Whether the URL a target contacts passes the outbound policy (IP-address hosts are
    /// checked only here; names also when they resolve, through [`Self::options`]' resolver).
    pub fn check_target(&self, config: &TargetConfig) -> Result<(), TargetCheckError> {
        check_target(&self.outbound, config)
    }

    /// The options targets are checked with (now: the time of the check): the resolver of the
    /// outbound policy, and the root of local-directory targets (push-core refuses them
    /// without one).
    pub fn options(&self) -> TargetOptions {
        let options = TargetOptions::default()
            .with_allow_insecure(self.allow_insecure)
            .with_now(chrono::Utc::now())
            .with_dns_resolver(self.resolver.clone());
        match &self.local_root {
            Some(root) => options.with_local_root(root),
            None => options,
        }
    }

    /// Every target, as shown.
    pub fn targets(&self) -> Result<Vec<Value>, PushStoreError> {
        self.database
            .push_targets_shown()?
            .into_iter()
            .map(|(name, text)| {
                serde_json::from_str(&text).map_err(StoreError::corrupt(TARGET, name))
            })
            .collect()
    }

    /// One target as shown.
    pub fn target_shown(&self, name: &str) -> Result<Option<Value>, PushStoreError> {
        let text = self.database.push_target_shown(name)?;
        text.map(|t| serde_json::from_str(&t).map_err(StoreError::corrupt(TARGET, name)))
            .transpose()
    }

    /// Stores a target (its configuration sealed): `write` says whether one of that name
    /// must not exist (`Create`: [`PushStoreError::Exists`]) or must (`Replace`:
    /// [`PushStoreError::NotFound`]), checked in the transaction that writes it; `true` if
    /// it replaced one.
    pub fn put_target(&self, config: &TargetConfig, write: Write) -> Result<bool, PushStoreError> {
        let what = || format!("{TARGET} {:?}", config.name);
        let secret = serde_json::to_string(config).map_err(StoreError::unserializable(what()))?;
        let sealed = self.key.seal(&context(&config.name), &secret)?;
        let redacted = config
            .shown()
            .map_err(StoreError::unserializable(what()))?
            .to_string();
        self.database
            .put_push_target(
                &config.name,
                &redacted,
                &sealed,
                &|existed| match (write, existed) {
                    (Write::Create, true) => Err(StoreError::Exists(what())),
                    (Write::Replace, false) => Err(StoreError::NotFound(what())),
                    _ => Ok(()),
                },
            )
    }

    /// Deletes a target; `false` if there was none.
    pub fn delete_target(&self, name: &str) -> Result<bool, PushStoreError> {
        self.database.delete_push_target(name)
    }

    /// A target's sealed configuration as stored.
    fn sealed(&self, name: &str) -> Result<Option<String>, PushStoreError> {
        self.database.push_target_sealed(name)
    }

    /// The target built from the stored configuration (cached while that is unchanged).
    fn built_target(&self, name: &str) -> Result<Option<Arc<dyn PushTarget>>, PushStoreError> {
        let Some(sealed) = self.sealed(name)? else {
            return Ok(None);
        };
        let mut built = self.built.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((from, target)) = built.get(name)
            && *from == sealed
        {
            return Ok(Some(target.clone()));
        }
        let config: TargetConfig = serde_json::from_str(&self.key.open(&context(name), &sealed)?)
            .map_err(StoreError::corrupt(TARGET, name))?;
        // Checked again for every build, not only when the target was created: the stored
        // configuration may predate this policy. A cached target was checked the same way.
        let built_target = self
            .check_target(&config)
            .map_err(UnusableError::from)
            .and_then(|()| config.build(&self.options()).map_err(UnusableError::from));
        let target: Arc<dyn PushTarget> = match built_target {
            Ok(target) => Arc::new(target),
            Err(error) => Arc::new(Unusable(error)),
        };
        built.insert(name.to_owned(), (sealed, target.clone()));
        Ok(Some(target))
    }

    /// Checks the sealed secrets open with this key: the names of those that do not.
    pub fn unreadable_targets(&self) -> Result<Vec<String>, PushStoreError> {
        Ok(self
            .database
            .push_targets_sealed()?
            .into_iter()
            .filter(|(name, sealed)| self.key.open(&context(name), sealed).is_err())
            .map(|(name, _)| name)
            .collect())
    }

    pub fn job(&self, identifier: &str) -> Result<Option<PushJob>, PushStoreError> {
        let json = self.database.push_job(identifier)?;
        json.map(|j| serde_json::from_str(&j).map_err(StoreError::corrupt(JOB, identifier)))
            .transpose()
    }

    /// Jobs newest first: a page of at most `limit` after `cursor` (a sequence number).
    pub fn jobs(
        &self,
        limit: usize,
        cursor: Option<i64>,
    ) -> Result<(Vec<PushJob>, Option<i64>), PushStoreError> {
        // One more than asked tells whether a next page exists.
        let rows = self.database.push_jobs(limit + 1, cursor)?;
        let more = rows.len() > limit;
        let mut jobs = Vec::new();
        let mut last = None;
        for (sequence, identifier, json) in rows.into_iter().take(limit) {
            jobs.push(serde_json::from_str(&json).map_err(StoreError::corrupt(JOB, identifier))?);
            last = Some(sequence);
        }
        Ok((jobs, if more { last } else { None }))
    }

    /// Jobs left `processing` (by a process that ended).
    pub fn processing(&self) -> Result<Vec<PushJob>, PushStoreError> {
        self.database
            .processing_push_jobs()?
            .into_iter()
            .map(|(identifier, json)| {
                serde_json::from_str(&json).map_err(StoreError::corrupt(JOB, identifier))
            })
            .collect()
    }

    pub fn save_job(&self, job: &PushJob) -> Result<(), PushStoreError> {
        let json = serde_json::to_string(job).map_err(StoreError::unserializable(format!(
            "{JOB} {:?}",
            job.identifier
        )))?;
        let state = match job.state {
            JobState::Processing => "processing",
            JobState::Completed => "completed",
            JobState::Failed => "failed",
        };
        self.database.save_push_job(&job.identifier, state, &json)
    }
}

/// The engine's view of the store (jobs and targets), cloned cheaply.
#[derive(Debug, Clone)]
pub struct Store(pub Arc<PushStore>);

#[async_trait]
impl JobStore for Store {
    async fn save(&self, job: &PushJob) -> Result<(), SourceError> {
        let (store, job) = (self.0.clone(), job.clone());
        tokio::task::spawn_blocking(move || store.save_job(&job))
            .await
            .map_err(SourceError::new)?
            .map_err(SourceError::new)
    }
}

/// Why a stored target cannot be used.
type UnusableError = Box<dyn std::error::Error + Send + Sync>;

/// A target that cannot be used: its error says why (e.g. its secret does not open). Not
/// transient: the job fails at once with the error's message.
#[derive(Debug)]
struct Unusable(UnusableError);

impl Unusable {
    fn error(&self) -> push_core::PushError {
        push_core::PushError::Other {
            name: String::new(),
            detail: self.0.to_string(),
        }
    }
}

#[async_trait]
impl PushTarget for Unusable {
    async fn upload(
        &self,
        _name: &str,
        _bytes: bytes::Bytes,
        _content_type: &str,
    ) -> Result<push_core::UploadedObject, push_core::PushError> {
        Err(self.error())
    }

    async fn upload_stream(
        &self,
        _name: &str,
        _reader: &mut (dyn tokio::io::AsyncRead + Unpin + Send),
        _content_type: &str,
    ) -> Result<push_core::UploadedObject, push_core::PushError> {
        Err(self.error())
    }

    async fn check(&self) -> Result<(), push_core::PushError> {
        Err(self.error())
    }
}

#[async_trait]
impl Targets for Store {
    async fn target(&self, name: &str) -> Option<Arc<dyn PushTarget>> {
        let (store, lookup) = (self.0.clone(), name.to_owned());
        match tokio::task::spawn_blocking(move || store.built_target(&lookup)).await {
            Ok(Ok(target)) => target,
            Ok(Err(error)) => Some(Arc::new(Unusable(error.into()))),
            Err(error) => Some(Arc::new(Unusable(error.into()))),
        }
    }
}

/// The repository as the engine's source.
#[derive(Clone)]
pub struct RepositorySource(pub Arc<dyn Repository>);

/// Looks many ids up in one blocking task, in the order of `ids`.
async fn blocking_many<T: Send + 'static>(
    repository: Arc<dyn Repository>,
    ids: &[&str],
    look_up: impl Fn(&dyn Repository, &str) -> Result<Option<T>, StorageError> + Send + 'static,
) -> Result<Vec<Option<T>>, SourceError> {
    let ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        ids.iter()
            .map(|id| look_up(repository.as_ref(), id))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(SourceError::new)?
    .map_err(SourceError::new)
}

/// Elements looked up in one blocking task, shared.
async fn blocking_shared<T: Send + Sync + 'static>(
    repository: Arc<dyn Repository>,
    ids: &[&str],
    look_up: fn(&dyn Repository, &str) -> Result<Option<T>, StorageError>,
) -> Result<Vec<Option<Arc<T>>>, SourceError> {
    let found = blocking_many(repository, ids, look_up).await?;
    Ok(found.into_iter().map(|found| found.map(Arc::new)).collect())
}

/// The answer of a lookup of one id.
fn the_one<T>(found: Vec<Option<T>>) -> Option<T> {
    found.into_iter().next().flatten()
}

async fn stored_json(
    repository: Arc<dyn Repository>,
    ids: &[&str],
    collection: Collection,
) -> Result<Option<Vec<Option<Bytes>>>, SourceError> {
    let found = blocking_many(repository, ids, move |repository, id| {
        repository.stored_json(collection, id)
    })
    .await?;
    Ok(Some(
        found
            .into_iter()
            .map(|json| json.map(Bytes::from))
            .collect(),
    ))
}

#[async_trait]
impl Source for RepositorySource {
    async fn shell(&self, id: &str) -> Result<Option<Arc<AssetAdministrationShell>>, SourceError> {
        self.shells(&[id]).await.map(the_one)
    }

    async fn submodel(&self, id: &str) -> Result<Option<Arc<Submodel>>, SourceError> {
        self.submodels(&[id]).await.map(the_one)
    }

    async fn concept_description(
        &self,
        id: &str,
    ) -> Result<Option<Arc<ConceptDescription>>, SourceError> {
        self.concept_descriptions(&[id]).await.map(the_one)
    }

    async fn shells(
        &self,
        ids: &[&str],
    ) -> Result<Vec<Option<Arc<AssetAdministrationShell>>>, SourceError> {
        blocking_shared(self.0.clone(), ids, |repository, id| repository.shell(id)).await
    }

    async fn submodels(&self, ids: &[&str]) -> Result<Vec<Option<Arc<Submodel>>>, SourceError> {
        blocking_shared(self.0.clone(), ids, |repository, id| {
            repository.submodel(id)
        })
        .await
    }

    async fn concept_descriptions(
        &self,
        ids: &[&str],
    ) -> Result<Vec<Option<Arc<ConceptDescription>>>, SourceError> {
        blocking_shared(self.0.clone(), ids, |repository, id| {
            repository.concept_description(id)
        })
        .await
    }

    /// The stored JSON, unread: JSON jobs join it instead of reading and writing each element.
    async fn shells_json(&self, ids: &[&str]) -> Result<Option<Vec<Option<Bytes>>>, SourceError> {
        stored_json(self.0.clone(), ids, Collection::Shells).await
    }

    async fn submodels_json(
        &self,
        ids: &[&str],
    ) -> Result<Option<Vec<Option<Bytes>>>, SourceError> {
        stored_json(self.0.clone(), ids, Collection::Submodels).await
    }

    /// The stored attachments: a shell's under its default thumbnail's path (the thumbnail),
    /// a submodel's under the value of the `File` element they belong to (values that are not
    /// package paths, i.e. do not start with `/`, are left out).
    async fn files(
        &self,
        shells: &[Arc<AssetAdministrationShell>],
        submodels: &[Arc<Submodel>],
    ) -> Result<Vec<ExportFile>, SourceError> {
        let (repository, shells, submodels) = (self.0.clone(), shells.to_vec(), submodels.to_vec());
        tokio::task::spawn_blocking(move || files(repository.as_ref(), &shells, &submodels))
            .await
            .map_err(SourceError::new)?
            .map_err(SourceError::new)
    }
}

/// The files of the shells and submodels, as [`RepositorySource`]'s `files` hands them out.
fn files(
    repository: &dyn Repository,
    shells: &[Arc<AssetAdministrationShell>],
    submodels: &[Arc<Submodel>],
) -> Result<Vec<ExportFile>, StorageError> {
    let mut files = Vec::new();
    // A shell without a default thumbnail carries none: its attachments are not read.
    for shell in shells
        .iter()
        .filter(|s| s.asset_information.default_thumbnail.is_some())
    {
        for (_, attachment) in repository.attachments(&format!("shell:{}", shell.id))? {
            let (content_type, bytes) = (attachment.content_type, Bytes::from(attachment.bytes));
            files.extend(ExportFile::thumbnail_of(shell, content_type, bytes));
        }
    }
    for submodel in submodels {
        for (path, attachment) in repository.attachments(&format!("submodel:{}", submodel.id))? {
            let bytes = Bytes::from(attachment.bytes);
            let file = ExportFile::of_file_element(submodel, &path, attachment.content_type, bytes);
            files.extend(file);
        }
    }
    Ok(files)
}

/// The engine over the repository (its elements in `version`, the server's) and the store;
/// jobs left `processing` are run again.
pub fn engine(
    repository: Arc<dyn Repository>,
    store: Arc<PushStore>,
    version: aas_model::Version,
) -> Result<Arc<PushEngine>, PushStoreError> {
    let engine = PushEngine::new(
        Arc::new(RepositorySource(repository)),
        Arc::new(Store(store.clone())),
        Arc::new(Store(store.clone())),
        4,
    )
    .with_aas_version(version);
    engine.resume_unfinished(store.processing()?);
    Ok(engine)
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn azure(name: &str, account: &str) -> Result<TargetConfig, serde_json::Error> {
        serde_json::from_value(
            serde_json::json!({"name": name, "type": "azure-blob-storage",
            "configuration": {"blobSasUrl": format!(
                "https://{account}.blob.core.windows.net/twins?sv=2022-11-02&se=2099-01-01T00%3A00%3A00Z&sr=c&sp=racwdl&sig=c2lnbmF0dXJl")}}),
        )
    }

    /// A store on a database of its own (a second one on the same file is a second process).
    fn store(dir: &std::path::Path) -> Result<Arc<PushStore>, Box<dyn std::error::Error>> {
        let key = SecretKey::load(dir)?;
        let database = Database::open(
            &dir.join("repository.sqlite"),
            crate::storage::StorageOptions::default(),
        )?;
        Ok(Arc::new(PushStore::new(Arc::new(database), key, false)))
    }

    /// Another writer of the database (a second process, or a write racing a lookup) replaces
    /// a target: the next lookup builds it again instead of using the cached old one.
    #[test]
    fn a_target_replaced_behind_the_cache_is_built_again() -> TestResult {
        let dir = tempfile::tempdir()?;
        let first = store(dir.path())?;
        first.put_target(&azure("lake", "accountone")?, Write::Create)?;
        let built = first.built_target("lake")?.ok_or("no target")?;
        assert!(format!("{built:?}").contains("accountone"), "{built:?}");
        let other = store(dir.path())?;
        other.put_target(&azure("lake", "accounttwo")?, Write::Replace)?;
        let rebuilt = first.built_target("lake")?.ok_or("no target")?;
        assert!(format!("{rebuilt:?}").contains("accounttwo"), "{rebuilt:?}");
        let again = first.built_target("lake")?.ok_or("no target")?;
        assert!(
            Arc::ptr_eq(&rebuilt, &again),
            "an unchanged target is cached"
        );
        Ok(())
    }

    #[test]
    fn concurrent_creates_of_one_target_store_it_once() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = store(dir.path())?;
        let threads: Vec<_> = (0..16)
            .map(|n| {
                let store = store.clone();
                std::thread::spawn(move || {
                    let config = azure("lake", &format!("account{n}"))?;
                    Ok::<_, Box<dyn std::error::Error + Send + Sync>>(
                        store.put_target(&config, Write::Create),
                    )
                })
            })
            .collect();
        let mut created = 0;
        for thread in threads {
            match thread
                .join()
                .map_err(|_| "a thread panicked")?
                .map_err(|e| e.to_string())?
            {
                Ok(_) => created += 1,
                Err(PushStoreError::Exists(what)) => assert_eq!(what, r#"push target "lake""#),
                Err(other) => return Err(other.into()),
            }
        }
        assert_eq!(created, 1);
        assert!(matches!(
            store.put_target(&azure("missing", "x")?, Write::Replace),
            Err(PushStoreError::NotFound(_))
        ));
        Ok(())
    }
}
