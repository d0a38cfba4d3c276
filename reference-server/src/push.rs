//! Push targets and jobs of the server: push-core's engine over the repository, with targets
//! (their secrets sealed, see [`crate::secrets`]) and job records stored beside the
//! repository ([`PushRecords`]; in SQLite: the `push` migrations of
//! `storage/sqlite/migrations.rs`, their SQL `storage/sqlite/push.rs`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aas_model::{AssetAdministrationShell, ConceptDescription, Submodel};
use async_trait::async_trait;
use bytes::Bytes;
use push_core::{
    ExportFile, JobStore, PushEngine, PushJob, PushTarget, Source, SourceError, TargetConfig,
    TargetOptions, Targets, UnusableTarget,
};
use sdt_core::OutboundPolicy;
use serde_json::Value;

use crate::outbound::{PolicyResolver, TargetCheckError, check_target};
use crate::secrets::SecretKey;
use crate::storage::{Collection, PushRecords, Repository, StorageError, StoreError, Write};

/// Why a push operation failed: the error of the stores beside the repository.
pub type PushStoreError = StoreError;

/// A target built from its stored configuration, and the sealed text it was built from.
type BuiltTarget = (String, Arc<dyn PushTarget>);

/// Targets and job records, in the repository's database file.
pub struct PushStore {
    records: Arc<dyn PushRecords>,
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
    /// The store over `records`.
    pub fn new(records: Arc<dyn PushRecords>, key: SecretKey, allow_insecure: bool) -> Self {
        Self {
            records,
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
    pub async fn targets(&self) -> Result<Vec<Value>, PushStoreError> {
        (self.records.push_targets_shown().await?)
            .into_iter()
            .map(|(name, text)| {
                serde_json::from_str(&text).map_err(StoreError::corrupt(TARGET, name))
            })
            .collect()
    }

    /// One target as shown.
    pub async fn target_shown(&self, name: &str) -> Result<Option<Value>, PushStoreError> {
        let text = self.records.push_target_shown(name).await?;
        text.map(|t| serde_json::from_str(&t).map_err(StoreError::corrupt(TARGET, name)))
            .transpose()
    }

    /// Stores a target (its configuration sealed): `write` says whether one of that name
    /// must not exist (`Create`: [`PushStoreError::Exists`]) or must (`Replace`:
    /// [`PushStoreError::NotFound`]), checked in the transaction that writes it; `true` if
    /// it replaced one.
    pub async fn put_target(
        &self,
        config: &TargetConfig,
        write: Write,
    ) -> Result<bool, PushStoreError> {
        let what = format!("{TARGET} {:?}", config.name);
        let unserializable = || StoreError::unserializable(what.clone());
        let secret = serde_json::to_string(config).map_err(unserializable())?;
        let sealed = self.key.seal(&context(&config.name), &secret)?;
        let redacted = config.shown().map_err(unserializable())?.to_string();
        let check = Box::new(move |existed| match (write, existed) {
            (Write::Create, true) => Err(StoreError::Exists(what.clone())),
            (Write::Replace, false) => Err(StoreError::NotFound(what.clone())),
            _ => Ok(()),
        });
        (self.records)
            .put_push_target(&config.name, &redacted, &sealed, check)
            .await
    }

    /// Deletes a target; `false` if there was none.
    pub async fn delete_target(&self, name: &str) -> Result<bool, PushStoreError> {
        self.records.delete_push_target(name).await
    }

    /// The target built from the stored configuration (cached while that is unchanged).
    async fn built_target(
        &self,
        name: &str,
    ) -> Result<Option<Arc<dyn PushTarget>>, PushStoreError> {
        let Some(sealed) = self.records.push_target_sealed(name).await? else {
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
            Err(error) => Arc::new(UnusableTarget::new(error)),
        };
        built.insert(name.to_owned(), (sealed, target.clone()));
        Ok(Some(target))
    }

    /// Checks the sealed secrets open with this key: the names of those that do not.
    pub async fn unreadable_targets(&self) -> Result<Vec<String>, PushStoreError> {
        Ok((self.records.push_targets_sealed().await?)
            .into_iter()
            .filter(|(name, sealed)| self.key.open(&context(name), sealed).is_err())
            .map(|(name, _)| name)
            .collect())
    }

    pub async fn job(&self, identifier: &str) -> Result<Option<PushJob>, PushStoreError> {
        let json = self.records.push_job(identifier).await?;
        json.map(|j| serde_json::from_str(&j).map_err(StoreError::corrupt(JOB, identifier)))
            .transpose()
    }

    /// Jobs newest first: a page of at most `limit` after `cursor` (a sequence number).
    pub async fn jobs(
        &self,
        limit: usize,
        cursor: Option<i64>,
    ) -> Result<(Vec<PushJob>, Option<i64>), PushStoreError> {
        // One more than asked tells whether a next page exists.
        let rows = self.records.push_jobs(limit + 1, cursor).await?;
        let more = rows.len() > limit;
        let mut jobs = Vec::new();
        let mut last = None;
        for (sequence, identifier, json) in rows.into_iter().take(limit) {
            jobs.push(serde_json::from_str(&json).map_err(StoreError::corrupt(JOB, identifier))?);
            last = Some(sequence);
        }
        Ok((jobs, if more { last } else { None }))
    }

    /// At most `limit` jobs left `processing` by a process that no longer runs them, now this
    /// one's ([`PushRecords::claim_unfinished_push_jobs`]).
    pub async fn unfinished(&self, limit: usize) -> Result<Vec<PushJob>, PushStoreError> {
        (self.records.claim_unfinished_push_jobs(limit).await?)
            .into_iter()
            .map(|(identifier, json)| {
                serde_json::from_str(&json).map_err(StoreError::corrupt(JOB, identifier))
            })
            .collect()
    }

    pub async fn save_job(&self, job: &PushJob) -> Result<(), PushStoreError> {
        let json = serde_json::to_string(job).map_err(StoreError::unserializable(format!(
            "{JOB} {:?}",
            job.identifier
        )))?;
        (self.records)
            .save_push_job(&job.identifier, job.state.as_str(), &json)
            .await
    }
}

/// The engine's view of the store (jobs and targets), cloned cheaply.
#[derive(Debug, Clone)]
pub struct Store(pub Arc<PushStore>);

#[async_trait]
impl JobStore for Store {
    async fn save(&self, job: &PushJob) -> Result<(), SourceError> {
        self.0.save_job(job).await.map_err(SourceError::new)
    }
}

/// Why a stored target cannot be used.
type UnusableError = Box<dyn std::error::Error + Send + Sync>;

#[async_trait]
impl Targets for Store {
    async fn target(&self, name: &str) -> Option<Arc<dyn PushTarget>> {
        match self.0.built_target(name).await {
            Ok(target) => target,
            Err(error) => Some(Arc::new(UnusableTarget::new(error))),
        }
    }
}

/// The repository as the engine's source.
#[derive(Clone)]
pub struct RepositorySource(pub Arc<dyn Repository>);

/// Each of `ids` looked up, in their order, as the engine takes it (shared, or bytes).
async fn each<'a, T, U: From<T>, F>(
    ids: &[&'a str],
    look_up: impl Fn(&'a str) -> F,
) -> Result<Vec<Option<U>>, SourceError>
where
    F: std::future::Future<Output = Result<Option<T>, StorageError>>,
{
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        found.push(look_up(id).await.map_err(SourceError::new)?.map(U::from));
    }
    Ok(found)
}

/// The answer of a lookup of one id.
fn the_one<T>(found: Vec<Option<T>>) -> Option<T> {
    found.into_iter().next().flatten()
}

async fn stored_json(
    repository: &dyn Repository,
    ids: &[&str],
    collection: Collection,
) -> Result<Option<Vec<Option<Bytes>>>, SourceError> {
    let found = each(ids, |id| repository.stored_json(collection, id)).await?;
    Ok(Some(found))
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
        each(ids, |id| self.0.shell(id)).await
    }

    async fn submodels(&self, ids: &[&str]) -> Result<Vec<Option<Arc<Submodel>>>, SourceError> {
        each(ids, |id| self.0.submodel(id)).await
    }

    async fn concept_descriptions(
        &self,
        ids: &[&str],
    ) -> Result<Vec<Option<Arc<ConceptDescription>>>, SourceError> {
        each(ids, |id| self.0.concept_description(id)).await
    }

    /// The stored JSON, unread: JSON jobs join it instead of reading and writing each element.
    async fn shells_json(&self, ids: &[&str]) -> Result<Option<Vec<Option<Bytes>>>, SourceError> {
        stored_json(self.0.as_ref(), ids, Collection::Shells).await
    }

    async fn submodels_json(
        &self,
        ids: &[&str],
    ) -> Result<Option<Vec<Option<Bytes>>>, SourceError> {
        stored_json(self.0.as_ref(), ids, Collection::Submodels).await
    }

    /// The stored attachments: a shell's under its default thumbnail's path (the thumbnail),
    /// a submodel's under the value of the `File` element they belong to (values that are not
    /// package paths, i.e. do not start with `/`, are left out).
    async fn files(
        &self,
        shells: &[Arc<AssetAdministrationShell>],
        submodels: &[Arc<Submodel>],
    ) -> Result<Vec<ExportFile>, SourceError> {
        let mut files = Vec::new();
        // A shell without a default thumbnail carries none: its attachments are not read.
        for shell in shells
            .iter()
            .filter(|s| s.asset_information.default_thumbnail.is_some())
        {
            let owner = format!("shell:{}", shell.id);
            for (_, attachment) in self.0.attachments(&owner).await.map_err(SourceError::new)? {
                let (content_type, bytes) =
                    (attachment.content_type, Bytes::from(attachment.bytes));
                files.extend(ExportFile::thumbnail_of(shell, content_type, bytes));
            }
        }
        for submodel in submodels {
            let owner = format!("submodel:{}", submodel.id);
            for (path, attachment) in self.0.attachments(&owner).await.map_err(SourceError::new)? {
                let bytes = Bytes::from(attachment.bytes);
                let file =
                    ExportFile::of_file_element(submodel, &path, attachment.content_type, bytes);
                files.extend(file);
            }
        }
        Ok(files)
    }
}

/// The engine over the repository (its elements in `version`, the server's) and the store;
/// at most `resume` jobs left `processing` are run again (on SQLite all of them: the server
/// asks once; with replicas [`UNFINISHED_PER_CLAIM`], and [`keep_jobs_leased`] takes more).
pub async fn engine(
    repository: Arc<dyn Repository>,
    store: Arc<PushStore>,
    version: aas_model::Version,
    resume: usize,
) -> Result<Arc<PushEngine>, PushStoreError> {
    let engine = PushEngine::new(
        Arc::new(RepositorySource(repository)),
        Arc::new(Store(store.clone())),
        Arc::new(Store(store.clone())),
        4,
    )
    .with_aas_version(version);
    engine.resume_unfinished(store.unfinished(resume).await?);
    Ok(engine)
}

/// The most unfinished jobs one claim of [`keep_jobs_leased`] takes; the next takes more.
pub const UNFINISHED_PER_CLAIM: usize = 64;

/// With replicas (PostgreSQL): every `every` (a third of the job lease), extends the leases
/// of the jobs this replica runs, then runs the jobs whose replica stopped renewing theirs
/// (it died): each is run again by one replica, at least once, and never by two at a time
/// while their leases are renewed. Forever.
pub async fn keep_jobs_leased(engine: Arc<PushEngine>, store: Arc<PushStore>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let running = engine.running();
        if let Err(error) = store.records.renew_push_job_leases(&running).await {
            tracing::warn!(%error, "cannot renew the leases of this replica's push jobs");
        }
        match store.unfinished(UNFINISHED_PER_CLAIM).await {
            Ok(jobs) => {
                // One whose lease this replica let lapse (renewing failed) and took back, still
                // running here, is not run a second time.
                let running = engine.running();
                let abandoned = jobs
                    .into_iter()
                    .filter(|job| !running.contains(&job.identifier));
                engine.resume_unfinished(abandoned);
            }
            Err(error) => tracing::warn!(%error, "cannot look for abandoned push jobs"),
        }
    }
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
        let database = crate::storage::Database::open(
            &dir.join("repository.sqlite"),
            crate::storage::StorageOptions::default(),
        )?;
        let records = crate::storage::SqliteRepository::on(Arc::new(database));
        Ok(Arc::new(PushStore::new(Arc::new(records), key, false)))
    }

    /// Another writer of the database (a second process, or a write racing a lookup) replaces
    /// a target: the next lookup builds it again instead of using the cached old one.
    #[tokio::test]
    async fn a_target_replaced_behind_the_cache_is_built_again() -> TestResult {
        let dir = tempfile::tempdir()?;
        let first = store(dir.path())?;
        first
            .put_target(&azure("lake", "accountone")?, Write::Create)
            .await?;
        let built = first.built_target("lake").await?.ok_or("no target")?;
        assert!(format!("{built:?}").contains("accountone"), "{built:?}");
        let other = store(dir.path())?;
        other
            .put_target(&azure("lake", "accounttwo")?, Write::Replace)
            .await?;
        let rebuilt = first.built_target("lake").await?.ok_or("no target")?;
        assert!(format!("{rebuilt:?}").contains("accounttwo"), "{rebuilt:?}");
        let again = first.built_target("lake").await?.ok_or("no target")?;
        assert!(
            Arc::ptr_eq(&rebuilt, &again),
            "an unchanged target is cached"
        );
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_creates_of_one_target_store_it_once() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = store(dir.path())?;
        let tasks: Vec<_> = (0..16)
            .map(|n| {
                let store = store.clone();
                tokio::spawn(async move {
                    let config = azure("lake", &format!("account{n}"))?;
                    Ok::<_, serde_json::Error>(store.put_target(&config, Write::Create).await)
                })
            })
            .collect();
        let mut created = 0;
        for task in tasks {
            match task.await?? {
                Ok(_) => created += 1,
                Err(PushStoreError::Exists(what)) => assert_eq!(what, r#"push target "lake""#),
                Err(other) => return Err(other.into()),
            }
        }
        assert_eq!(created, 1);
        assert!(matches!(
            store
                .put_target(&azure("missing", "x")?, Write::Replace)
                .await,
            Err(PushStoreError::NotFound(_))
        ));
        Ok(())
    }
}
