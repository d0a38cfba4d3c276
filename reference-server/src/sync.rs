//! Synchronized twins in the server: a twin is a submodel bound to a device on a platform.
//! sdt-core's engine polls and renders; this module stores the bindings (credentials sealed),
//! writes the engine's values into the submodel (an element when the property name is an
//! idShort path, else an extension of that name), marks bound submodels the way Thing'in marks
//! avatars, and turns changes made through the repository API into commands: it subscribes to
//! the repository service's committed changes ([`Synchronizer::watch`]), so a command is sent
//! after the change commits, outside the request that made it, by a task per twin (sdt-core's
//! `aas::TwinCommands` finds the changed properties and keeps the queues and tasks).

use std::sync::{Arc, PoisonError};

use async_trait::async_trait;
pub use sdt_core::TwinRecord;
use sdt_core::aas::{PropertyNameError, TwinCommands, apply_property, check_property_names, mark};
use sdt_core::{
    ClientOptions, OutboundPolicy, Platform, SinkError, SyncEngine, TwinBinding, TwinError,
    TwinSecrets, TwinSink,
};
use serde_json::Value;

use crate::secrets::{SecretError, SecretKey};
use crate::service::{CommittedChange, Origin, RepositoryService};
use crate::storage::{StorageError, StoreError, TwinLeases, TwinRecords, Write};

/// Why a binding cannot be made; the error that stopped it is the
/// [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BindError {
    /// A property names an element with an idShort the server's version refuses.
    #[error("{0}")]
    PropertyName(#[source] PropertyNameError),
    /// The description does not compile, or the platform (with these credentials and ids)
    /// cannot be used.
    #[error("{0}")]
    Binding(#[source] TwinError),
    /// The stored credentials of a binding do not open (the key changed, or they are damaged).
    #[error("{0}")]
    Sealed(#[source] SecretError),
    /// Sealing the credentials failed.
    #[error("{0}")]
    Seal(#[source] SecretError),
    /// The credentials could not be written into, or read from, their sealed text.
    #[error("the credentials: {0}")]
    Credentials(#[source] serde_json::Error),
    #[error("{0} not found")]
    NotFound(String),
    /// The repository failed reading or marking the submodel.
    #[error("{0}")]
    Repository(#[source] StorageError),
    #[error(transparent)]
    Store(#[from] SdtStoreError),
    /// The disk (or `max-database-size`) is full: nothing was stored.
    #[error("the server's disk is full: {0}")]
    DiskFull(#[source] StorageError),
}

impl BindError {
    /// The binding as given cannot work (a client error), rather than the server failing.
    pub fn is_invalid(&self) -> bool {
        matches!(
            self,
            BindError::Binding(_) | BindError::PropertyName(_) | BindError::Sealed(_)
        )
    }
}

/// Why the store of platforms and bindings failed: the error of the stores beside the
/// repository.
pub type SdtStoreError = StoreError;

/// Platforms and bindings stored beside the repository ([`TwinRecords`]; in SQLite: the `twins`
/// migrations of `storage/sqlite/migrations.rs`, their SQL `storage/sqlite/twins.rs`).
pub struct SdtStore {
    records: Arc<dyn TwinRecords>,
}

impl std::fmt::Debug for SdtStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SdtStore").finish_non_exhaustive()
    }
}

const PLATFORM: &str = "platform";
const TWIN: &str = "twin";

impl SdtStore {
    /// The store over `records`.
    pub fn new(records: Arc<dyn TwinRecords>) -> Self {
        Self { records }
    }

    pub async fn platforms(&self) -> Result<Vec<Value>, SdtStoreError> {
        read_all(self.records.sdt_platforms().await?, PLATFORM)
    }

    pub async fn platform(&self, name: &str) -> Result<Option<Platform>, SdtStoreError> {
        read_platform(self.records.sdt_platform(name).await?, name)
    }

    /// Creates or replaces a platform; `write` says which, checked in the transaction.
    pub async fn put_platform(
        &self,
        platform: &Platform,
        write: Write,
    ) -> Result<(), SdtStoreError> {
        let what = format!("{PLATFORM} {:?}", platform.name);
        let json =
            serde_json::to_string(platform).map_err(StoreError::unserializable(what.clone()))?;
        let check = Box::new(move |exists| match (write, exists) {
            (Write::Create, true) => Err(SdtStoreError::Exists(what.clone())),
            (Write::Replace, false) => Err(SdtStoreError::NotFound(what.clone())),
            _ => Ok(()),
        });
        (self.records)
            .put_sdt_platform(&platform.name, &json, check)
            .await
    }

    /// Deletes a platform no twin is bound to; the count and the deletion are one
    /// transaction, so a binding made meanwhile cannot be left without its platform.
    pub async fn delete_platform(&self, name: &str) -> Result<(), SdtStoreError> {
        let platform = name.to_owned();
        let check = Box::new(move |twins| match twins {
            0 => Ok(()),
            _ => Err(SdtStoreError::InUse {
                platform: platform.clone(),
                twins,
            }),
        });
        let deleted = self.records.delete_sdt_platform(name, check).await?;
        if !deleted {
            return Err(SdtStoreError::NotFound(format!("{PLATFORM} {name:?}")));
        }
        Ok(())
    }

    pub async fn twins(&self) -> Result<Vec<Value>, SdtStoreError> {
        read_all(self.records.sdt_twins().await?, TWIN)
    }

    pub async fn twin(&self, submodel_id: &str) -> Result<Option<Value>, SdtStoreError> {
        let text = self.records.sdt_twin(submodel_id).await?;
        text.map(|t| serde_json::from_str(&t).map_err(StoreError::corrupt(TWIN, submodel_id)))
            .transpose()
    }

    async fn twin_record(
        &self,
        submodel_id: &str,
    ) -> Result<Option<(TwinRecord, String)>, SdtStoreError> {
        let row = self.records.sdt_twin_sealed(submodel_id).await?;
        row.map(|(json, sealed)| {
            serde_json::from_str(&json)
                .map(|record| (record, sealed))
                .map_err(StoreError::corrupt(TWIN, submodel_id))
        })
        .transpose()
    }

    /// Stores a binding: its platform must exist, and `write` says whether one for the
    /// submodel may exist; both checked in the transaction that writes it.
    async fn put_twin(
        &self,
        record: &TwinRecord,
        sealed: &str,
        write: Write,
    ) -> Result<(), SdtStoreError> {
        let (submodel, platform) = (record.submodel_id.clone(), record.platform.clone());
        let what = format!("the twin of submodel {submodel:?}");
        let json =
            serde_json::to_string(record).map_err(StoreError::unserializable(what.clone()))?;
        let check_platform =
            Box::new(
                move |stored: Option<String>| match read_platform(stored, &platform)? {
                    None => Err(SdtStoreError::NotFound(format!("{PLATFORM} {platform:?}"))),
                    Some(_) => Ok(()),
                },
            );
        let check_existing = Box::new(move |exists| match (write, exists) {
            (Write::Create, true) => Err(SdtStoreError::Exists(format!(
                "submodel {submodel:?} is bound already: a twin"
            ))),
            (Write::Replace, false) => Err(SdtStoreError::NotFound(what.clone())),
            _ => Ok(()),
        });
        let ids = (record.submodel_id.as_str(), record.platform.as_str());
        (self.records)
            .put_sdt_twin(ids, (&json, sealed), check_platform, check_existing)
            .await
    }
}

/// The platform `name` from its stored JSON `text`, if stored.
fn read_platform(text: Option<String>, name: &str) -> Result<Option<Platform>, SdtStoreError> {
    text.map(|t| serde_json::from_str(&t).map_err(StoreError::corrupt(PLATFORM, name)))
        .transpose()
}

/// Every stored row (key and JSON), each a `record`.
fn read_all(
    rows: Vec<(String, String)>,
    record: &'static str,
) -> Result<Vec<Value>, SdtStoreError> {
    rows.into_iter()
        .map(|(id, text)| serde_json::from_str(&text).map_err(StoreError::corrupt(record, id)))
        .collect()
}

/// Writes the engine's values with the submodel's `updated` event.
struct RepositorySink {
    service: Arc<RepositoryService>,
}

#[async_trait]
impl TwinSink for RepositorySink {
    async fn write(&self, twin: &str, property: &str, value: &Value) -> Result<(), SinkError> {
        let (version, property, value) = (
            self.service.aas_version(),
            property.to_owned(),
            value.clone(),
        );
        let change = move |submodel: &mut aas_model::Submodel| {
            apply_property(submodel, &property, &value, version).map_err(Into::into)
        };
        // A task of its own, run to its end: the poller calling this is aborted when its twin
        // is unbound or rebound, and a change that commits must still be announced (the
        // service announces it after storage returns; dropped then, it never would be).
        let (service, twin) = (self.service.clone(), twin.to_owned());
        tokio::spawn(
            async move { (service.modify_submodel(&twin, None, change, Origin::Twin)).await },
        )
        .await??;
        Ok(())
    }
}

/// With replicas, how often the values of twins polled elsewhere are read again for their
/// commands ([`Synchronizer::watch`]).
const REBASE_ROUND: std::time::Duration = std::time::Duration::from_secs(1);

/// The server's synchronization: store, key, engine.
pub struct Synchronizer {
    pub store: Arc<SdtStore>,
    key: SecretKey,
    engine: Arc<SyncEngine>,
    service: Arc<RepositoryService>,
    /// The bound twins' changes made through the repository API, turned into commands: each
    /// twin's sent in order by a task of the twin's own, so a slow or hanging platform delays
    /// its own twins only.
    commands: TwinCommands,
    /// Held from storing a binding until its polling runs, and while one is removed: a bind
    /// and an unbind of one twin racing each other leave either a stored binding that polls
    /// or neither, never a poller without its binding.
    lifecycle: tokio::sync::Mutex<()>,
    /// Where platform clients may connect (`[outbound]`).
    outbound: OutboundPolicy,
    /// With replicas: which twins this replica polls ([`Synchronizer::keep_twins_shared`]);
    /// without, it polls every twin.
    leases: Option<Arc<dyn TwinLeases>>,
    /// Each twin started here as its record and sealed credentials were then: a twin stored
    /// otherwise now was bound again by another replica.
    started: std::sync::Mutex<std::collections::HashMap<String, (TwinRecord, String)>>,
}

impl std::fmt::Debug for Synchronizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Synchronizer").finish_non_exhaustive()
    }
}

fn context(submodel_id: &str) -> String {
    format!("sdt-twin:{submodel_id}")
}

impl Synchronizer {
    /// Twins over `service`'s submodels; they send commands once [`Synchronizer::watch`]
    /// runs.
    pub fn new(
        store: Arc<SdtStore>,
        key: SecretKey,
        service: Arc<RepositoryService>,
        outbound: OutboundPolicy,
        leases: Option<Arc<dyn TwinLeases>>,
    ) -> Arc<Self> {
        let engine = SyncEngine::new(Arc::new(RepositorySink {
            service: service.clone(),
        }));
        Arc::new(Self {
            store,
            key,
            commands: TwinCommands::new(engine.clone()),
            engine,
            service,
            lifecycle: tokio::sync::Mutex::default(),
            outbound,
            leases,
            started: std::sync::Mutex::default(),
        })
    }

    /// The policy platform definitions and their clients are checked with.
    pub fn outbound(&self) -> &OutboundPolicy {
        &self.outbound
    }

    /// Checks a binding and makes what polling it needs; starts nothing.
    async fn prepare(
        &self,
        record: &TwinRecord,
        secrets: &TwinSecrets,
    ) -> Result<TwinBinding, BindError> {
        let platform = (self.store.platform(&record.platform).await?)
            .ok_or_else(|| BindError::NotFound(format!("platform {:?}", record.platform)))?;
        let options = ClientOptions {
            outbound: self.outbound.clone(),
            ..ClientOptions::default()
        };
        record
            .binding(platform, secrets, options)
            .map_err(BindError::Binding)
    }

    /// Starts (or restarts) polling a prepared binding.
    async fn run(&self, record: &TwinRecord, binding: TwinBinding) {
        let names = record.property_names();
        // The values now are what the next change is compared with.
        let submodel = match self
            .service
            .repository()
            .submodel(&record.submodel_id)
            .await
        {
            Ok(submodel) => submodel,
            Err(error) => {
                tracing::warn!(
                    twin = %record.submodel_id,
                    %error,
                    "cannot read the twin's values: its next change sends every value as a command"
                );
                None
            }
        };
        (self.commands).follow(&record.submodel_id, names, submodel.as_ref());
        let polled = match &self.leases {
            None => true,
            Some(leases) => leases.take(&record.submodel_id).await,
        };
        if polled {
            self.engine.start(binding);
        } else {
            // Another replica polls it; this one sends the commands of changes made here.
            self.engine.register(binding);
        }
    }

    /// Notes what a twin was started with (see `started`).
    fn note_started(&self, record: &TwinRecord, sealed: &str) {
        let mut started = self.started.lock().unwrap_or_else(PoisonError::into_inner);
        started.insert(
            record.submodel_id.clone(),
            (record.clone(), sealed.to_owned()),
        );
    }

    async fn start(&self, record: &TwinRecord, secrets: &TwinSecrets) -> Result<(), BindError> {
        let binding = self.prepare(record, secrets).await?;
        self.run(record, binding).await;
        Ok(())
    }

    /// Binds (`Write::Create`) or rebinds (`Write::Replace`, restarting only this twin) a
    /// submodel: checks, stores, marks, and only then starts polling, so a poller never runs
    /// without its stored binding. A create of a bound submodel, or a replace of an unbound
    /// one, is refused by the store's transaction ([`SdtStoreError::Exists`], `NotFound`).
    pub async fn bind(&self, mut record: TwinRecord, write: Write) -> Result<(), BindError> {
        let secrets = record.take_secrets();
        let repository = self.service.repository();
        (repository.submodel(&record.submodel_id).await)
            .map_err(BindError::Repository)?
            .ok_or_else(|| BindError::NotFound(format!("submodel {:?}", record.submodel_id)))?;
        check_property_names(&record.synchronization, self.service.aas_version())
            .map_err(BindError::PropertyName)?;
        let binding = self.prepare(&record, &secrets).await?;
        let sealed = self
            .key
            .seal(
                &context(&record.submodel_id),
                &serde_json::to_string(&secrets).map_err(BindError::Credentials)?,
            )
            .map_err(BindError::Seal)?;
        let _lifecycle = self.lifecycle.lock().await;
        self.store.put_twin(&record, &sealed, write).await?;
        self.note_started(&record, &sealed);
        let marking = record.clone();
        let change = move |submodel: &mut aas_model::Submodel| {
            mark(submodel, &marking);
            Ok(())
        };
        let service = &self.service;
        let marked =
            (service.modify_submodel(&record.submodel_id, None, change, Origin::Twin)).await;
        if let Err(error) = marked {
            // The submodel went away meanwhile (its deletion unbinds): no binding is left.
            self.forget(&record.submodel_id).await?;
            return Err(match error {
                crate::storage::StorageError::NotFound(what) => BindError::NotFound(what),
                full if full.is_disk_full() => BindError::DiskFull(full),
                other => BindError::Repository(other),
            });
        }
        self.run(&record, binding).await;
        Ok(())
    }

    /// Stops and forgets a twin; `false` if it was not bound.
    pub async fn unbind(&self, submodel_id: &str) -> Result<bool, BindError> {
        let _lifecycle = self.lifecycle.lock().await;
        self.forget(submodel_id).await
    }

    /// [`Synchronizer::unbind`] with the lifecycle lock held.
    async fn forget(&self, submodel_id: &str) -> Result<bool, BindError> {
        self.stop_here(submodel_id).await;
        Ok(self.store.records.delete_sdt_twin(submodel_id).await?)
    }

    /// Stops polling and commanding a twin here and gives its lease up.
    async fn stop_here(&self, submodel_id: &str) {
        self.engine.stop(submodel_id);
        // Its commands' task stops too: what waits was for the binding that is gone.
        self.commands.forget(submodel_id);
        (self.started.lock().unwrap_or_else(PoisonError::into_inner)).remove(submodel_id);
        if let Some(leases) = &self.leases {
            leases.release(submodel_id).await;
        }
    }

    /// Starts a stored binding from its record and sealed credentials.
    async fn start_sealed(&self, record: &TwinRecord, sealed: &str) -> Result<(), BindError> {
        let id = record.submodel_id.as_str();
        self.note_started(record, sealed);
        let secrets: TwinSecrets = (self.key.open(&context(id), sealed))
            .map_err(BindError::Sealed)
            .and_then(|text| serde_json::from_str(&text).map_err(BindError::Credentials))?;
        self.start(record, &secrets).await
    }

    /// With replicas (PostgreSQL), every `every`: follows what other replicas bound, bound
    /// again or unbound, and takes over the polling of twins whose replica is gone: each twin
    /// is polled by the one replica holding its lease (within `every` of its release), and
    /// every replica sends the commands of changes made through it. Ends with the
    /// synchronizer.
    pub fn keep_twins_shared(self: &Arc<Self>, every: std::time::Duration) {
        let synchronizer = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(synchronizer) = synchronizer.upgrade() else {
                    return;
                };
                synchronizer.share_twins().await;
            }
        });
    }

    /// One round of [`Synchronizer::keep_twins_shared`].
    async fn share_twins(&self) {
        let Some(leases) = &self.leases else { return };
        // No bind or unbind of this replica meanwhile, nor between reading and acting.
        let _lifecycle = self.lifecycle.lock().await;
        let stored = match self.store.records.sdt_twins_sealed().await {
            Ok(stored) => stored,
            Err(error) => {
                tracing::warn!(%error, "cannot read the synchronized twins");
                return;
            }
        };
        let held = leases.held().await;
        let running: std::collections::HashMap<String, bool> =
            self.engine.twins().into_iter().collect();
        for twin in running.keys() {
            if !stored.iter().any(|(id, _, _)| id == twin) {
                self.stop_here(twin).await;
            }
        }
        for (id, json, sealed) in &stored {
            let record: TwinRecord = match serde_json::from_str(json) {
                Ok(record) => record,
                Err(error) => {
                    tracing::debug!(twin = %id, %error, "a stored twin does not read");
                    continue;
                }
            };
            let same = (self.started.lock().unwrap_or_else(PoisonError::into_inner))
                .get(id)
                .is_some_and(|(was, was_sealed)| *was == record && was_sealed == sealed);
            let restart = match running.get(id) {
                // Bound on another replica (or failed to start here, as it still is).
                None => !same,
                Some(_) if !same => true,
                // Its lease was lost with the connection: taken again, or left to another.
                Some(true) => !held.contains(id),
                // The replica polling it is gone when its lease is free.
                Some(false) => leases.take(id).await,
            };
            if restart && let Err(error) = self.start_sealed(&record, sealed).await {
                tracing::warn!(twin = %id, "synchronization not started: {error}");
            }
        }
    }

    /// Starts every stored binding (at server start); those that cannot start are reported.
    pub async fn start_all(&self) {
        // One by one: a corrupt binding is reported and the others still start.
        let ids = match self.store.records.sdt_twin_ids().await {
            Ok(ids) => ids,
            Err(error) => {
                tracing::error!(%error, "cannot read the synchronized twins");
                return;
            }
        };
        for id in &ids {
            let id = id.as_str();
            let started = async {
                let found = self.store.twin_record(id).await?;
                let (record, sealed) = found.ok_or_else(|| BindError::NotFound(id.to_owned()))?;
                self.start_sealed(&record, &sealed).await
            };
            if let Err(error) = started.await {
                tracing::error!(twin = id, "synchronization not started: {error}");
            }
        }
    }

    /// Sends the commands of committed changes from now on: this task reads the changes in
    /// commit order and hands each twin's commands to the twin's own task, which sends them in
    /// that order (requests do not wait for platforms, nor twins for each other's platforms;
    /// at most `sdt_core::aas::PENDING_CHANGES_PER_TWIN` changes wait per twin). If this task falls behind
    /// the broadcast, it catches up from the stored twins ([`Synchronizer::catch_up`]).
    pub fn watch(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let mut changes = self.service.subscribe();
        // Weak: the task ends with the synchronizer, not keeps it alive.
        let synchronizer = Arc::downgrade(self);
        let rebasing = self.leases.is_some();
        tokio::spawn(async move {
            use tokio::sync::broadcast::error::RecvError;
            let mut round = tokio::time::interval(REBASE_ROUND);
            loop {
                let received = tokio::select! {
                    received = changes.recv() => received,
                    _ = round.tick(), if rebasing => {
                        let Some(synchronizer) = synchronizer.upgrade() else {
                            return;
                        };
                        synchronizer.rebase(&mut changes).await;
                        continue;
                    }
                };
                let change = match received {
                    Ok(change) => change,
                    Err(RecvError::Lagged(missed)) => {
                        // From now on: the older changes still in the channel would otherwise
                        // be sent after the current values the catch-up sends.
                        changes = changes.resubscribe();
                        tracing::warn!(
                            missed,
                            "the twin service fell behind the repository ({missed} changes \
                             missed): catching up from the stored twins"
                        );
                        let Some(synchronizer) = synchronizer.upgrade() else {
                            return;
                        };
                        synchronizer.catch_up().await;
                        continue;
                    }
                    Err(RecvError::Closed) => return,
                };
                let Some(synchronizer) = synchronizer.upgrade() else {
                    return;
                };
                tracing::trace!(id = change.id(), kind = %change.kind(), "committed");
                synchronizer.committed(&change).await;
            }
        })
    }

    /// With replicas: takes the stored values of every twin as those its next change through
    /// this replica is compared with, and, for the twins it polls, as the values they hold
    /// (changes made through other replicas are not announced here). Run by the task that handles the announced changes, after the ones
    /// waiting, and only while no change made here is between its commit and its
    /// announcement, before and after the read: so no value read is one of a change still to
    /// be handled (which would then look unchanged and send no command). Otherwise the round
    /// is skipped.
    async fn rebase(&self, changes: &mut tokio::sync::broadcast::Receiver<CommittedChange>) {
        use tokio::sync::broadcast::error::TryRecvError;
        loop {
            match changes.try_recv() {
                Ok(change) => self.committed(&change).await,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Lagged(_)) => {
                    *changes = changes.resubscribe();
                    self.catch_up().await;
                    return;
                }
                Err(TryRecvError::Closed) => return,
            }
        }
        let before = self.service.change_positions();
        if before.0 != before.1 {
            return;
        }
        let mut read = Vec::new();
        for (twin, _) in self.engine.twins() {
            if let Ok(Some(submodel)) = self.service.repository().submodel(&twin).await {
                read.push(submodel);
            }
        }
        if self.service.change_positions() != before || !changes.is_empty() {
            return;
        }
        for submodel in &read {
            self.commands.rebase(submodel);
            // The poller's last values too: a value set through another replica is then read
            // back from the device, not taken as the poller's own write.
            if let Some(values) = self.commands.values(&submodel.id) {
                self.engine.seen(&submodel.id, &values);
            }
        }
    }

    /// After the twin service fell behind (the broadcast dropped changes it had not read):
    /// compares every bound twin's stored submodel with the values it saw last, so that what
    /// the missed changes did still becomes commands (the latest value of each property).
    pub async fn catch_up(&self) {
        for id in self.commands.twins() {
            match self.service.repository().submodel(&id).await {
                Ok(Some(submodel)) => {
                    let change = CommittedChange::Submodel {
                        kind: events_core::EventKind::Updated,
                        origin: Origin::Api,
                        submodel: Arc::new(submodel),
                    };
                    self.committed(&change).await;
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::error!(twin = %id, %error, "catching up: the submodel does not read")
                }
            }
        }
    }

    /// A committed change: a submodel changed by others than the twin service makes each
    /// synchronized property whose value changed a command (the engine drops values it wrote
    /// itself); every change of a twin updates the values later changes are compared with.
    pub async fn committed(&self, change: &CommittedChange) {
        let CommittedChange::Submodel { submodel, .. } = change else {
            return;
        };
        if change.kind() == events_core::EventKind::Deleted {
            return;
        }
        (self.commands).changed(submodel, change.origin() == Origin::Twin);
    }
}

#[cfg(test)]
mod store_tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use std::sync::Mutex;

    use aas_model::Submodel;
    use sdt_core::aas::property_values;

    use super::*;
    use crate::storage::{Repository, SqliteRepository};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// Stores `submodel` past the service: nobody is told.
    async fn stored_quietly(sync: &Synchronizer, submodel: Submodel) -> Result<(), StorageError> {
        let json = aas_serde::json::to_string(&submodel).into();
        let no_events = Box::new(|_, _: &[String]| Vec::new());
        let repository = sync.service.repository();
        (repository.put_submodel_serialized(Arc::new(submodel), json, no_events)).await?;
        Ok(())
    }

    fn synchronizer(
        dir: &std::path::Path,
    ) -> Result<Arc<Synchronizer>, Box<dyn std::error::Error>> {
        synchronizer_as(dir, aas_model::Version::LATEST)
    }

    /// A synchronizer of a server of `version`.
    fn synchronizer_as(
        dir: &std::path::Path,
        version: aas_model::Version,
    ) -> Result<Arc<Synchronizer>, Box<dyn std::error::Error>> {
        let file = dir.join("repository.sqlite");
        let sqlite = Arc::new(SqliteRepository::open(&file)?);
        let store = Arc::new(SdtStore::new(sqlite.clone()));
        let repository: Arc<dyn Repository> = sqlite;
        let service = Arc::new(RepositoryService::new(
            repository,
            crate::service::EventSettings::default(),
            version,
        ));
        Ok(Synchronizer::new(
            store,
            SecretKey::load(dir)?,
            service,
            OutboundPolicy::default(),
            None,
        ))
    }

    /// A platform definition named `name` for a platform on loopback `port`, without
    /// authentication (data under `data/`, commands under `commands/`).
    fn platform_on(name: &str, port: u16) -> Result<Platform, serde_json::Error> {
        serde_json::from_value(serde_json::json!({
            "name": name, "base_url": format!("http://127.0.0.1:{port}/"),
            "data_get_prefix": "data/", "command_prefix": "commands/", "authentication": "none"}))
    }

    /// A platform on loopback that counts the connections made to it.
    async fn counting_platform() -> Result<(u16, Arc<AtomicUsize>), std::io::Error> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                seen.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        Ok((port, count))
    }

    /// The engine's sink reports the repository's error itself (the engine keeps it as the
    /// source of its `WriteError`), and the repository keeps why the value was refused.
    #[tokio::test]
    async fn a_failed_write_of_the_sink_keeps_its_cause() -> TestResult {
        let dir = tempfile::tempdir()?;
        let sync = synchronizer(dir.path())?;
        stored_quietly(&sync, Submodel::new("urn:sm:1")).await?;
        let sink = RepositorySink {
            service: sync.service.clone(),
        };
        let refused = sink
            .write("urn:sm:1", "Missing.deep", &Value::Null)
            .await
            .err()
            .ok_or("written")?;
        let Some(StorageError::Refused(cause)) = refused.downcast_ref::<StorageError>() else {
            return Err(format!("not a refusal of the repository: {refused:?}").into());
        };
        assert!(
            matches!(
                cause.downcast_ref::<sdt_core::aas::ApplyError>(),
                Some(sdt_core::aas::ApplyError::NoSuchElement { name }) if name == "Missing.deep"
            ),
            "{cause:?}"
        );
        let missing = sink
            .write("urn:sm:none", "x", &Value::Null)
            .await
            .err()
            .ok_or("written")?;
        assert!(
            matches!(
                missing.downcast_ref::<StorageError>(),
                Some(StorageError::NotFound(_))
            ),
            "{missing:?}"
        );
        let error = sdt_core::WriteError {
            twin: "urn:sm:none".into(),
            property: "x".into(),
            source: missing,
        };
        let source = std::error::Error::source(&error).ok_or("no source")?;
        assert!(source.is::<StorageError>(), "{source:?}");
        Ok(())
    }

    fn record(submodel_id: &str) -> Result<TwinRecord, serde_json::Error> {
        serde_json::from_value(serde_json::json!({
            "submodel_id": submodel_id, "platform": "p", "uuid_on_platform": "d",
            "synchronization": {"iot_attributes": [{"name": "t", "value": "$.t"}],
                "thingin_attributes": [{"name": "temp", "value": "{t}", "frequency_sec": 1}]}}))
    }

    /// `record` with one output property named `name`.
    fn record_naming(submodel_id: &str, name: &str) -> Result<TwinRecord, serde_json::Error> {
        let mut record = record(submodel_id)?;
        for attribute in &mut record.synchronization.thingin_attributes {
            attribute.name = name.to_owned();
        }
        Ok(record)
    }

    #[tokio::test]
    async fn a_binding_whose_property_is_no_idshort_of_the_servers_version_is_refused_naming_it()
    -> TestResult {
        let cases = [
            (aas_model::Version::V3_0, "max-temp", false),
            (aas_model::Version::V3_0, "x", true),
            (aas_model::Version::V3_0, "bad-", false),
            (aas_model::Version::V3_1, "x", false),
            (aas_model::Version::V3_1, "Group.x", false),
            (aas_model::Version::V3_1, "bad-", false),
        ];
        for (version, name, accepted) in cases {
            let dir = tempfile::tempdir()?;
            let sync = synchronizer_as(dir.path(), version)?;
            stored_quietly(&sync, Submodel::new("urn:sm:1")).await?;
            // No platform is stored: a binding whose names pass goes on to fail on that.
            match sync
                .bind(record_naming("urn:sm:1", name)?, Write::Create)
                .await
            {
                Err(BindError::PropertyName(refused)) => {
                    assert!(!accepted, "{version} {name}: {refused}");
                    assert_eq!(refused.property, name);
                    let message = refused.to_string();
                    assert!(
                        message.contains(&format!("{name:?}")),
                        "names the property: {message}"
                    );
                }
                Err(BindError::NotFound(what)) => {
                    assert!(accepted, "{version} {name}: got to {what}");
                    assert!(what.contains("platform"), "{what}");
                }
                other => return Err(format!("{version} {name}: {other:?}").into()),
            }
            assert!(
                sync.store.twin("urn:sm:1").await?.is_none(),
                "nothing stored"
            );
        }
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_binding_that_is_not_stored_starts_no_polling() -> TestResult {
        let dir = tempfile::tempdir()?;
        let sync = synchronizer(dir.path())?;
        let (port, connections) = counting_platform().await?;
        sync.store
            .put_platform(&platform_on("p", port)?, Write::Create)
            .await?;
        stored_quietly(&sync, Submodel::new("urn:sm:1")).await?;
        // A replacement of a binding that does not exist is refused by the store: nothing polls.
        let refused = sync.bind(record("urn:sm:1")?, Write::Replace).await;
        assert!(
            matches!(refused, Err(BindError::Store(SdtStoreError::NotFound(_)))),
            "{refused:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        assert_eq!(
            connections.load(Ordering::SeqCst),
            0,
            "a poller ran unstored"
        );
        assert!(sync.store.twin("urn:sm:1").await?.is_none());
        // The same binding, created, is stored and polls (so the count above could be non-0).
        sync.bind(record("urn:sm:1")?, Write::Create).await?;
        for _ in 0..40 {
            if connections.load(Ordering::SeqCst) > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(
            connections.load(Ordering::SeqCst) > 0,
            "the stored binding never polled"
        );
        assert!(sync.store.twin("urn:sm:1").await?.is_some());
        sync.unbind("urn:sm:1").await?;
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn catching_up_compares_the_stored_twins_with_the_values_seen_last() -> TestResult {
        let dir = tempfile::tempdir()?;
        let sync = synchronizer(dir.path())?;
        let (port, _) = counting_platform().await?;
        sync.store
            .put_platform(&platform_on("p", port)?, Write::Create)
            .await?;
        stored_quietly(&sync, Submodel::new("urn:sm:1")).await?;
        sync.bind(record("urn:sm:1")?, Write::Create).await?;
        // A change the twin service never heard of (written past the service).
        let mut changed = Submodel::new("urn:sm:1");
        apply_property(
            &mut changed,
            "temp",
            &Value::from("42"),
            aas_model::Version::LATEST,
        )?;
        stored_quietly(&sync, changed).await?;
        let seen = |sync: &Synchronizer| {
            (sync.commands.values("urn:sm:1")).and_then(|values| values.get("temp").cloned())
        };
        assert_eq!(seen(&sync), None);
        sync.catch_up().await;
        assert_eq!(seen(&sync), Some(Value::from("42")));
        sync.unbind("urn:sm:1").await?;
        Ok(())
    }

    /// A platform on loopback that answers every request with `{}` and records the commands
    /// posted to it: the device and the body.
    async fn recording_platform() -> Result<(u16, Arc<Mutex<Vec<String>>>), std::io::Error> {
        use axum::routing::{get, post};
        let commands = Arc::new(Mutex::new(Vec::new()));
        let seen = commands.clone();
        let app = axum::Router::new()
            .route(
                "/data/{device}",
                get(|| async { axum::Json(serde_json::json!({})) }),
            )
            .route(
                "/commands/{device}",
                post(
                    move |axum::extract::Path(device): axum::extract::Path<String>,
                          body: String| async move {
                        seen.lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push(format!("{device} {body}"));
                        "ok"
                    },
                ),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok((port, commands))
    }

    /// A platform on loopback that takes connections and never answers (until the test ends).
    async fn hanging_platform() -> Result<u16, std::io::Error> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        Ok(port)
    }

    /// Commands of a twin whose platform hangs do not hold up another twin's: each twin's
    /// commands are sent by a task of its own. (With one task for all, the second command
    /// waited for the first one's 10-second timeout.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hanging_platform_delays_only_its_own_twins_commands() -> TestResult {
        let dir = tempfile::tempdir()?;
        let sync = synchronizer(dir.path())?;
        let _watching = sync.watch();
        let hanging = hanging_platform().await?;
        let (answering, commands) = recording_platform().await?;
        for (name, port) in [("hangs", hanging), ("answers", answering)] {
            sync.store
                .put_platform(&platform_on(name, port)?, Write::Create)
                .await?;
        }
        for (twin, platform, device) in [
            ("urn:sm:slow", "hangs", "slow-device"),
            ("urn:sm:fast", "answers", "fast-device"),
        ] {
            stored_quietly(&sync, Submodel::new(twin)).await?;
            let mut record = record(twin)?;
            record.platform = platform.to_owned();
            record.uuid_on_platform = device.to_owned();
            for attribute in &mut record.synchronization.thingin_attributes {
                attribute.command_value = Some(serde_json::json!({"temp": "{{temp}}"}));
            }
            sync.bind(record, Write::Create).await?;
        }
        // A change of the hanging platform's twin first, then one of the other twin.
        for twin in ["urn:sm:slow", "urn:sm:fast"] {
            let mut changed = Submodel::new(twin);
            apply_property(
                &mut changed,
                "temp",
                &Value::from("42"),
                aas_model::Version::LATEST,
            )?;
            sync.service.put_submodel(changed, Origin::Api).await?;
        }
        // The other twin's changes, each a command, sent in commit order.
        for value in ["43", "44"] {
            let mut changed = Submodel::new("urn:sm:fast");
            apply_property(
                &mut changed,
                "temp",
                &Value::from(value),
                aas_model::Version::LATEST,
            )?;
            sync.service.put_submodel(changed, Origin::Api).await?;
        }
        let expected: Vec<String> = ["42", "43", "44"]
            .iter()
            .map(|value| format!("fast-device {{\"temp\":\"{value}\"}}"))
            .collect();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let sent = commands
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            if sent == expected {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline && expected.starts_with(&sent),
                "the other twin's commands were not sent in order within 5 s (sent: {sent:?})"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // Changes pile up behind the hanging platform up to the bound the README states (the
        // pile and its merging: sdt-core's `aas::commands` tests).
        assert_eq!(sdt_core::aas::PENDING_CHANGES_PER_TWIN, 256);
        // Unbinding stops the twin's task: nothing of what waited is sent afterwards.
        sync.unbind("urn:sm:slow").await?;
        sync.unbind("urn:sm:fast").await?;
        Ok(())
    }

    #[tokio::test]
    async fn corrupt_rows_are_reported_as_corrupt_not_read_as_null_or_missing() -> TestResult {
        let dir = tempfile::tempdir()?;
        let database = Arc::new(crate::storage::Database::open(
            &dir.path().join("repository.sqlite"),
            crate::storage::StorageOptions::default(),
        )?);
        let store = SdtStore::new(Arc::new(SqliteRepository::on(database.clone())));
        database.execute_script(
            "INSERT INTO sdt_platforms (name, json) VALUES ('broken', '{not json');
             INSERT INTO sdt_twins (submodel_id, json, sealed) VALUES ('urn:sm:broken', '', '');",
        )?;
        let corrupt = |result: Result<(), SdtStoreError>, record: &str, id: &str| match result {
            Err(error @ SdtStoreError::Corrupt { .. }) => {
                assert!(
                    matches!(&error, SdtStoreError::Corrupt { record: r, id: i, .. }
                        if *r == record && i == id),
                    "{error:?}"
                );
                assert!(
                    std::error::Error::source(&error).is_some(),
                    "the parse error is kept"
                );
            }
            other => panic!("{id}: {other:?}"),
        };
        corrupt(store.platform("broken").await.map(drop), PLATFORM, "broken");
        corrupt(store.platforms().await.map(drop), PLATFORM, "broken");
        corrupt(
            store.twin("urn:sm:broken").await.map(drop),
            TWIN,
            "urn:sm:broken",
        );
        corrupt(store.twins().await.map(drop), TWIN, "urn:sm:broken");
        corrupt(
            store.twin_record("urn:sm:broken").await.map(drop),
            TWIN,
            "urn:sm:broken",
        );
        assert_eq!(
            store.platform("missing").await?,
            None,
            "a missing row is still None"
        );
        Ok(())
    }

    /// A platform's value written by a poller that is stopped meanwhile (its twin unbound or
    /// rebound: the poller's task is aborted) is still announced once it commits, as every
    /// committed change is: otherwise the twin service never learns of it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_value_written_by_a_poller_stopped_meanwhile_is_still_announced() -> TestResult {
        let dir = tempfile::tempdir()?;
        let sync = synchronizer(dir.path())?;
        sync.service
            .put_submodel(Submodel::new("urn:sm:1"), Origin::Api)
            .await?;
        let mut announced = sync.service.subscribe();
        // A change that holds the writer until told to go on.
        let (entered, entered_rx) = std::sync::mpsc::channel();
        let (go_on, go_on_rx) = std::sync::mpsc::channel::<()>();
        let service = sync.service.clone();
        let holding = tokio::spawn(async move {
            let hold = move |_: &mut Submodel| {
                let _ = entered.send(());
                let _ = go_on_rx.recv();
                Ok(())
            };
            service
                .modify_submodel("urn:sm:1", None, hold, Origin::Api)
                .await
        });
        tokio::task::spawn_blocking(move || entered_rx.recv()).await??;
        // The poller's write waits for the writer; its task is aborted meanwhile.
        let sink = RepositorySink {
            service: sync.service.clone(),
        };
        let poller =
            tokio::spawn(async move { sink.write("urn:sm:1", "temp", &Value::from("42")).await });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        poller.abort();
        let _ = poller.await;
        go_on.send(())?;
        holding.await??;
        let value_of = |submodel: &Submodel| property_values(submodel, &["temp".to_owned()]);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        let stored = loop {
            let stored =
                (sync.service.repository().submodel("urn:sm:1").await?).ok_or("no submodel")?;
            if value_of(&stored).get("temp") == Some(&Value::from("42")) {
                break stored;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the write never committed"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        let mut last = None;
        let waited = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while let Ok(change) = announced.recv().await {
                if let CommittedChange::Submodel { submodel, .. } = change {
                    let twin = value_of(&submodel).get("temp") == Some(&Value::from("42"));
                    last = Some(submodel);
                    if twin {
                        return;
                    }
                }
            }
        })
        .await;
        assert!(
            waited.is_ok(),
            "the committed write of the twin was never announced (last announced: {last:?})"
        );
        assert_eq!(last.as_deref(), Some(&stored));
        Ok(())
    }
}
