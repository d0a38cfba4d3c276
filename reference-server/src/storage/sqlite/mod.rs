//! The SQLite implementation of the storage: [`SqliteRepository`] behind [`Repository`] (and
//! [`super::PushRecords`], [`super::TwinRecords`]; their calls run on the blocking pool), on a
//! [`Database`] (one file, WAL journal, one writer connection whose changes are committed in
//! groups, read-only connections for reads) that the push and twin stores share; the
//! versioned migrations of every store's tables; the listing SQL. Everything that knows
//! SQLite is here: its errors leave as [`DatabaseError`]s, classified.
//!
//! The outbox and the event log are the tables `outbox` and `event_log`; an outbox row whose
//! payload is empty takes it from the `event_log` row it names.
//!
//! The database records the AAS version its data was verified under (`metadata`, key
//! `aas-version`; a database without it is from before V3.1 was served: V3.0). A server of the
//! other version checks everything stored under its version first
//! ([`SqliteRepository::adopt_version`]).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use aas_model::{AssetAdministrationShell, ConceptDescription, Submodel};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::Notify;

use super::database_error::DatabaseErrorKind;
use super::element_write::{
    Mode, VERSION_KEY, apply, attachment_at, blob_free_view, check_depth, decode, fit_element,
    recorded_version, unheld_files,
};
use super::paging::sequence_cursor;
use super::{
    Attachment, Change, Collection, ConceptDescriptionFilter, DatabaseError, DeadLetter, Edit,
    Event, FilterKeys, LoggedEvent, OutboxEntry, Page, Repository, ShellDeleteEvents,
    ShellEditEvents, ShellFilter, StorageError, StoreError, SubmodelChange, SubmodelDeleteEvents,
    SubmodelEditEvents, SubmodelFilter, THUMBNAIL, VersionChange, WriteEvents, Written,
};
use super::{micros, nanos};

mod database;
mod listing;
mod migrations;
mod push;
mod read_cache;
mod submodel_cache;
mod twins;

pub use database::Database;

impl From<rusqlite::Error> for DatabaseError {
    fn from(error: rusqlite::Error) -> Self {
        let kind = match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => DatabaseErrorKind::DiskFull,
            _ => DatabaseErrorKind::Other,
        };
        DatabaseError::new(kind, error)
    }
}

impl From<rusqlite::Error> for StorageError {
    fn from(error: rusqlite::Error) -> Self {
        StorageError::Database(error.into())
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::Database(error.into())
    }
}

/// SQLite storage: one file, WAL journal, one writer connection behind a mutex (writes are
/// short), on a [`Database`] it may share with the push and twin stores. Cloned cheaply: each
/// call of [`Repository`] runs its synchronous namesake on the blocking pool, on a clone.
#[derive(Clone)]
pub struct SqliteRepository {
    database: Arc<Database>,
    /// Large submodels kept decoded for the changes of their elements.
    submodels: Arc<submodel_cache::SubmodelCache>,
}

/// How many connections serve reads.
const READERS: usize = 4;

/// The most changes one commit takes (bounds how long the first of them waits).
const MAX_GROUP: usize = 64;

/// The writer connection and the group of changes open in it.
struct Writer {
    connection: Connection,
    group: Option<Arc<Group>>,
    /// Changes in the open group.
    changes: usize,
}

/// The writer connection, locked, with no group open.
struct WriterGuard<'a>(MutexGuard<'a, Writer>);

impl std::ops::Deref for WriterGuard<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.0.connection
    }
}

impl std::ops::DerefMut for WriterGuard<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.0.connection
    }
}

/// Why a group's commit failed (a copy for each of its writers).
type GroupFailure = (rusqlite::ffi::Error, Option<String>);

/// A read-only connection and the JSON it served last ([`read_cache`]).
struct Reader {
    connection: Connection,
    cache: read_cache::ReadCache,
}

/// A connection to read with: a reader, or the writer when there are none (in memory).
enum ReadGuard<'a> {
    Reader(MutexGuard<'a, Reader>),
    Writer(WriterGuard<'a>),
}

impl ReadGuard<'_> {
    /// The reader's kept JSON; none on the writer (its own commits leave its `data_version`
    /// as it was, so nothing it kept could be checked).
    fn cache(&mut self) -> Option<&mut read_cache::ReadCache> {
        match self {
            ReadGuard::Reader(reader) => Some(&mut reader.cache),
            ReadGuard::Writer(_) => None,
        }
    }
}

impl std::ops::Deref for ReadGuard<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            ReadGuard::Reader(reader) => &reader.connection,
            ReadGuard::Writer(writer) => writer,
        }
    }
}

/// A group of changes committed together; its writers wait for the outcome.
#[derive(Default)]
struct Group {
    outcome: Mutex<Option<Result<(), GroupFailure>>>,
    done: std::sync::Condvar,
}

impl Group {
    fn finish(&self, outcome: Result<(), GroupFailure>) {
        *self.outcome.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
        self.done.notify_all();
    }

    fn wait(&self) -> Result<(), GroupFailure> {
        let mut outcome = self.outcome.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(outcome) = outcome.as_ref() {
                return outcome.clone();
            }
            outcome = self
                .done
                .wait(outcome)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Runs `change` in a savepoint: kept if it succeeds, rolled back if it fails.
fn in_savepoint<T>(
    connection: &Connection,
    change: impl FnOnce(&Connection) -> Result<T, StorageError>,
) -> Result<T, StorageError> {
    connection.execute_batch("SAVEPOINT change")?;
    let mut open = SavepointGuard {
        connection,
        released: false,
    };
    let outcome = change(connection).and_then(|value| {
        connection.execute_batch("RELEASE change")?;
        Ok(value)
    });
    open.released = outcome.is_ok();
    outcome
}

/// Rolls a change's savepoint back unless it was released: on an error, and when the change
/// panics (its partial writes must not be committed with the rest of the group).
struct SavepointGuard<'a> {
    connection: &'a Connection,
    released: bool,
}

impl Drop for SavepointGuard<'_> {
    fn drop(&mut self) {
        if !self.released {
            let _ = self
                .connection
                .execute_batch("ROLLBACK TO change; RELEASE change");
        }
    }
}

impl std::fmt::Debug for SqliteRepository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteRepository").finish_non_exhaustive()
    }
}

/// A time stored by [`micros`], read from `column` (out of chrono's range only if edited).
fn from_micros(us: i64, column: usize) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(us).ok_or(rusqlite::Error::IntegralValueOutOfRange(column, us))
}

/// The failure a group's changes get when a change's error rolled the transaction back.
fn group_failure(error: &StorageError) -> (rusqlite::ffi::Error, Option<String>) {
    match error {
        StorageError::Database(database) => match database.backend::<rusqlite::Error>() {
            Some(rusqlite::Error::SqliteFailure(code, message)) => (*code, message.clone()),
            _ => (
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
                Some(database.to_string()),
            ),
        },
        other => (
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
            Some(format!(
                "rolled back with another change of its commit: {other}"
            )),
        ),
    }
}

/// A transaction that takes the write lock at once (`BEGIN IMMEDIATE`). Another process may
/// write to the same file; a deferred transaction that read first and
/// then found another connection's commit would fail with "database is locked" at its first
/// write instead of waiting (the busy timeout does not apply to that upgrade).
fn write_transaction(connection: &mut Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
}

/// Whether `sql` (`SELECT 1 FROM … WHERE <key column> = ?1`) finds a row for `key`.
fn row_exists(tx: &Connection, sql: &str, key: &str) -> rusqlite::Result<bool> {
    Ok(tx
        .prepare_cached(sql)?
        .query_row([key], |_| Ok(()))
        .optional()?
        .is_some())
}

/// How often the checkpoint thread runs: every 200 ms while checkpoints succeed; after a
/// failure (typically a full disk) it waits twice as long each time, up to 30 s, and logs
/// the failure once, then once more when checkpoints work again (a full disk would
/// otherwise write a warning five times a second into the log that fills it further).
#[derive(Debug, Default)]
struct CheckpointBackoff {
    failures: u32,
}

impl CheckpointBackoff {
    const EVERY: std::time::Duration = std::time::Duration::from_millis(200);
    const LONGEST: std::time::Duration = std::time::Duration::from_secs(30);

    fn delay(&self) -> std::time::Duration {
        events_core::Backoff::new(Self::EVERY, Self::LONGEST).after(self.failures.saturating_add(1))
    }

    /// Records a checkpoint's outcome; `true` if it was logged.
    fn record(&mut self, outcome: rusqlite::Result<()>) -> bool {
        match outcome {
            Ok(()) if self.failures > 0 => {
                tracing::info!(
                    failures = self.failures,
                    "WAL checkpoints work again after failing"
                );
                self.failures = 0;
                true
            }
            Ok(()) => false,
            Err(error) => {
                self.failures = self.failures.saturating_add(1);
                if self.failures == 1 {
                    tracing::warn!(
                        %error,
                        "WAL checkpoint failed; retrying with back-off up to every {:?}, logged again once it works",
                        Self::LONGEST
                    );
                    return true;
                }
                false
            }
        }
    }
}

/// When SQLite makes a commit durable (its `synchronous` setting, for the repository's
/// writer). `Full` (the default) syncs the WAL at every commit: an acknowledged write survives
/// a power loss. `Normal` syncs only at checkpoints: faster, but a power loss (not a crash of
/// the process) can roll back the last acknowledged writes. BENCHMARKS.md gives the cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    #[default]
    Full,
    Normal,
}

/// How the repository's database is opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StorageOptions {
    pub durability: Durability,
    /// The largest the database file may grow, bytes (SQLite's `max_page_count`); a write
    /// that would pass it fails like one on a full disk (507), changing nothing. `None`: as
    /// large as the disk allows.
    pub max_size: Option<u64>,
}

impl SqliteRepository {
    /// The repository over an open database.
    pub fn on(database: Arc<Database>) -> Self {
        Self {
            database,
            submodels: Arc::default(),
        }
    }

    /// Makes `to` the version of the stored data. Data recorded under another version (a
    /// database without a record counts as V3.0) is converted to `to` and verified under it,
    /// in one transaction: when some element does not fit (the conversion would lose
    /// something, or verification finds something), nothing changes and the answer is
    /// [`StorageError::VersionMismatch`] with the report, unless `allow_loss`: then every
    /// element is converted by the documented rules and rewritten, and the answer lists what
    /// did not fit (elements that stay invalid are kept as they are). Conversions announce no
    /// events: the elements are the same ones, written in the other version.
    pub fn adopt_version(
        &self,
        to: aas_model::Version,
        allow_loss: bool,
    ) -> Result<VersionChange, StorageError> {
        let mut connection = self.lock();
        let tx = write_transaction(&mut connection)?;
        let recorded: Option<String> = tx
            .query_row(
                "SELECT value FROM metadata WHERE key = ?1",
                [VERSION_KEY],
                |row| row.get(0),
            )
            .optional()?;
        // A database without a record is from before V3.1 was served.
        let from = recorded_version(recorded, aas_model::Version::V3_0)?;
        let mut change = VersionChange::between(from, to);
        if from != to {
            let versions = (from, to);
            fit_collection::<AssetAdministrationShell>(
                &tx,
                Collection::Shells,
                versions,
                allow_loss,
                &mut change,
                &|tx, shell| {
                    let json = aas_serde::json::to_string(shell);
                    shell_in(tx, shell, &json, Mode::CreateOrReplace, None).map(drop)
                },
            )?;
            fit_collection::<Submodel>(
                &tx,
                Collection::Submodels,
                versions,
                allow_loss,
                &mut change,
                &|tx, submodel| {
                    let json = aas_serde::json::to_string(submodel);
                    submodel_in(tx, submodel, &json, Mode::CreateOrReplace, None).map(drop)
                },
            )?;
            fit_collection::<ConceptDescription>(
                &tx,
                Collection::ConceptDescriptions,
                versions,
                allow_loss,
                &mut change,
                &|tx, cd| {
                    let json = aas_serde::json::to_string(cd);
                    write(
                        tx,
                        Collection::ConceptDescriptions,
                        &cd.id,
                        &json,
                        &cd.filter_keys(),
                        Mode::CreateOrReplace,
                    )
                    .map(drop)
                },
            )?;
            if !change.problems.is_empty() && !allow_loss {
                return Err(StorageError::VersionMismatch(Box::new(change)));
            }
        }
        run(
            &tx,
            "INSERT INTO metadata (key, value) VALUES (?1, ?2) \
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![VERSION_KEY, to.as_str()],
        )?;
        tx.commit()?;
        Ok(change)
    }

    /// A database in memory, with one connection (tests, fuzzing).
    pub fn in_memory() -> Result<Self, StorageError> {
        Ok(Self::on(Arc::new(Database::in_memory()?)))
    }

    fn commit(&self, tx: rusqlite::Transaction<'_>) -> Result<(), StorageError> {
        self.database.commit(tx)
    }

    fn read(&self) -> ReadGuard<'_> {
        self.database.read()
    }

    fn lock(&self) -> WriterGuard<'_> {
        self.database.lock()
    }

    fn grouped<T>(
        &self,
        change: impl FnOnce(&Connection) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        self.database.grouped(change)
    }
}

impl Database {
    /// Commits a change and wakes the publisher, which finds its events only after the commit.
    fn commit(&self, tx: rusqlite::Transaction<'_>) -> Result<(), StorageError> {
        tx.commit()?;
        self.outbox_signal.notify_one();
        Ok(())
    }

    /// A connection to read with: a free reader, else the next one in turn (the writer when
    /// there are none).
    fn read(&self) -> ReadGuard<'_> {
        if self.readers.is_empty() {
            return ReadGuard::Writer(self.lock());
        }
        for reader in &self.readers {
            if let Ok(guard) = reader.try_lock() {
                return ReadGuard::Reader(guard);
            }
        }
        let n = self
            .next_reader
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            % self.readers.len();
        ReadGuard::Reader(
            self.readers[n]
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// The writer connection, with no group of changes open (a group left open for waiting
    /// writers is committed first).
    fn lock(&self) -> WriterGuard<'_> {
        let mut writer = self.enter();
        self.commit_group(&mut writer);
        WriterGuard(writer)
    }

    fn enter(&self) -> MutexGuard<'_, Writer> {
        use std::sync::atomic::Ordering::SeqCst;
        self.waiting.fetch_add(1, SeqCst);
        let writer = self
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.waiting.fetch_sub(1, SeqCst);
        writer
    }

    /// Commits the open group of changes, if any, and tells its writers how that went.
    fn commit_group(&self, writer: &mut Writer) {
        if writer.connection.is_autocommit() {
            // Nothing open to commit (the transaction was rolled back under the group).
            if let Some(group) = writer.group.take() {
                group.finish(Err((
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                    Some("the transaction was rolled back".into()),
                )));
            }
            return;
        }
        let Some(group) = writer.group.take() else {
            return;
        };
        let outcome = writer.connection.execute_batch("COMMIT");
        if outcome.is_err() {
            // Nothing of the group is kept; every writer in it gets the error.
            let _ = writer.connection.execute_batch("ROLLBACK");
        }
        group.finish(outcome.map_err(|error| match error {
            rusqlite::Error::SqliteFailure(code, message) => (code, message),
            other => (
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
                Some(other.to_string()),
            ),
        }));
        self.outbox_signal.notify_one();
    }

    /// Runs a change in the writer's transaction, grouped with the changes of other writers
    /// (group commit). With `durability = "full"` every commit waits for the disk (fsync), and
    /// the writer lock is held meanwhile: one commit per change made the disk's sync time the
    /// cap on writes per second. Here a change runs in a savepoint of the open group (a failed
    /// change is rolled back alone); then, if other writers are waiting for the connection,
    /// the group is left open for them and the last of them commits it, else it is committed
    /// at once. Each change returns only once its group is committed (as durable as before),
    /// and changes commit in the order they ran, so event timestamps taken in them still
    /// increase in commit order.
    fn grouped<T>(
        &self,
        change: impl FnOnce(&Connection) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut writer = self.enter();
        let group = match &writer.group {
            Some(group) => group.clone(),
            None => {
                writer.connection.execute_batch("BEGIN IMMEDIATE")?;
                let group = Arc::new(Group::default());
                writer.group = Some(group.clone());
                writer.changes = 0;
                group
            }
        };
        writer.changes += 1;
        let outcome = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            in_savepoint(&writer.connection, change)
        })) {
            Ok(outcome) => outcome,
            Err(panic) => {
                // The change's savepoint was rolled back while unwinding; the rest of the group
                // is committed so that its writers, waiting for it, return.
                self.commit_group(&mut writer);
                drop(writer);
                std::panic::resume_unwind(panic)
            }
        };
        if let Err(error) = &outcome
            && writer.connection.is_autocommit()
        {
            // SQLite rolled the whole transaction back (a full disk or database, an I/O
            // error), not only this change's savepoint: the group's earlier changes are gone
            // with it. They fail with this error (a full disk stays 507), and the next writer
            // begins a new group instead of writing outside any transaction.
            if let Some(lost) = writer.group.take() {
                lost.finish(Err(group_failure(error)));
            }
        }
        let waiting = self.waiting.load(std::sync::atomic::Ordering::SeqCst);
        let loading = LOADING.with(std::cell::Cell::get);
        let committed = if loading {
            writer.changes >= super::MAX_LOAD_GROUP
        } else {
            waiting == 0 || writer.changes >= MAX_GROUP
        };
        if committed {
            self.commit_group(&mut writer);
        }
        drop(writer);
        // A failed change left nothing in the group to wait for.
        let value = outcome?;
        if loading && !committed {
            // The load commits the group at its end ([`Database::end_load`]) and says then.
            return Ok(value);
        }
        group
            .wait()
            .map_err(|(code, message)| rusqlite::Error::SqliteFailure(code, message))?;
        Ok(value)
    }

    /// Commits the group left open by a load's last changes; its outcome is theirs.
    fn end_load(&self) -> Result<(), StorageError> {
        let mut writer = self.enter();
        let open = writer.group.clone();
        self.commit_group(&mut writer);
        drop(writer);
        if let Some(group) = open {
            group
                .wait()
                .map_err(|(code, message)| rusqlite::Error::SqliteFailure(code, message))?;
        }
        Ok(())
    }
}

/// Runs `work` with this thread's changes in loading mode ([`Database::grouped`]).
fn as_load<T>(work: impl FnOnce() -> T) -> T {
    /// Ends the loading mode however `work` ends (a panic included).
    struct Loading;
    impl Drop for Loading {
        fn drop(&mut self) {
            LOADING.with(|loading| loading.set(false));
        }
    }
    LOADING.with(|loading| loading.set(true));
    let _loading = Loading;
    work()
}

tokio::task_local! {
    /// Set while a task loads ([`Repository::in_one_transaction`]): the calls it makes run in
    /// loading mode on whichever blocking thread takes them.
    static LOADING_TASK: ();
}

thread_local! {
    /// Set while this thread loads ([`Database::loading`]): its changes do not commit one by
    /// one, nor wait for their commit.
    static LOADING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl SqliteRepository {
    fn change_submodel(
        &self,
        id: &str,
        attach: Option<(&str, &Attachment)>,
        change: &mut dyn FnMut(&mut Submodel) -> Change<()>,
        events: &dyn Fn(&Submodel, &str, &SubmodelChange) -> Vec<Event>,
    ) -> Result<Arc<Submodel>, StorageError> {
        self.grouped(|tx| {
            let stored = stored_in(tx, Collection::Submodels, id)?
                .ok_or_else(|| StorageError::NotFound(format!("submodel {id:?}")))?;
            let mut submodel = match self.submodels.take(id, &stored) {
                Some(kept) => kept,
                None => decode(id, &stored)?,
            };
            drop(stored);
            apply(&mut submodel, id, change)?;
            let json = aas_serde::json::to_string(&submodel);
            let outcome = submodel_in(tx, &submodel, &json, Mode::CreateOrReplace, attach)?;
            append_events(tx, events(&submodel, &json, &outcome))?;
            let submodel = Arc::new(submodel);
            self.submodels.keep(json, submodel.clone());
            Ok(submodel)
        })
    }

    fn change_shell(
        &self,
        id: &str,
        thumbnail: Option<&Attachment>,
        change: &mut dyn FnMut(&mut AssetAdministrationShell) -> Change<()>,
        events: &dyn Fn(&AssetAdministrationShell, &str) -> Vec<Event>,
    ) -> Result<AssetAdministrationShell, StorageError> {
        self.grouped(|tx| {
            let shell: AssetAdministrationShell = changed_in(tx, Collection::Shells, id, change)?;
            let json = aas_serde::json::to_string(&shell);
            shell_in(tx, &shell, &json, Mode::CreateOrReplace, thumbnail)?;
            append_events(tx, events(&shell, &json))?;
            Ok(shell)
        })
    }

    fn write_shell(
        &self,
        shell: &AssetAdministrationShell,
        json: &str,
        mode: Mode,
        events: &dyn Fn(Written) -> Vec<Event>,
    ) -> Result<Written, StorageError> {
        self.grouped(|tx| {
            let written = shell_in(tx, shell, json, mode, None)?;
            append_events(tx, events(written))?;
            Ok(written)
        })
    }

    fn write_submodel(
        &self,
        submodel: &Submodel,
        json: &str,
        mode: Mode,
        events: &dyn Fn(&SubmodelChange) -> Vec<Event>,
    ) -> Result<SubmodelChange, StorageError> {
        self.grouped(|tx| {
            // Under the writer lock: no change of the submodel can keep it again meanwhile.
            self.submodels.forget(&submodel.id);
            let change = submodel_in(tx, submodel, json, mode, None)?;
            append_events(tx, events(&change))?;
            Ok(change)
        })
    }

    fn write_concept_description(
        &self,
        cd: &ConceptDescription,
        mode: Mode,
    ) -> Result<Written, StorageError> {
        let json = aas_serde::json::to_string(cd);
        let mut connection = self.lock();
        let tx = write_transaction(&mut connection)?;
        let keys = cd.filter_keys();
        let written = write(
            &tx,
            Collection::ConceptDescriptions,
            &cd.id,
            &json,
            &keys,
            mode,
        )?;
        tx.commit()?;
        Ok(written)
    }

    fn get<T: aas_serde::json::FromJson>(
        &self,
        collection: Collection,
        id: &str,
    ) -> Result<Option<T>, StorageError> {
        let json = self.stored_json(collection, id)?;
        json.map(|json| decode(id, &json)).transpose()
    }
}

/// Checks one collection for `to` (converting from `from`) page by page; the elements whose
/// conversion changes them are rewritten with `rewrite`, unless something does not fit and
/// `allow_loss` is false (then nothing is, and the caller rolls back).
fn fit_collection<T>(
    tx: &Connection,
    collection: Collection,
    versions: (aas_model::Version, aas_model::Version),
    allow_loss: bool,
    change: &mut VersionChange,
    rewrite: &dyn Fn(&Connection, &T) -> Result<(), StorageError>,
) -> Result<(), StorageError>
where
    T: aas_serde::json::FromJson + aas_model::convert::Convertible + PartialEq + Clone,
    for<'a> &'a T: Into<aas_model::Node<'a>>,
{
    const PAGE: i64 = 100;
    let mut after = 0i64;
    loop {
        let rows: Vec<(i64, String, String)> = {
            let mut statement = tx.prepare_cached(&format!(
                "SELECT rowid, id, json FROM {} WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
                collection.table()
            ))?;
            statement
                .query_map(params![after, PAGE], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })?
                .collect::<Result<_, _>>()?
        };
        let Some((last, _, _)) = rows.last() else {
            return Ok(());
        };
        after = *last;
        for (_, id, json) in rows {
            let fitted = fit_element(collection, (&id, &json), versions, allow_loss, change)?;
            if let Some(converted) = fitted {
                rewrite(tx, &converted)?;
                change.rewritten += 1;
            }
        }
    }
}

/// Writes an element in `tx`. The transaction holds the write lock from its start
/// ([`write_transaction`]), so the existence check and the write cannot be split by another
/// writer: of concurrent create-only writes of one id, exactly one succeeds.
/// The element's filter keys (`keys`, see [`FilterKeys`]) replace its old ones beside it.
fn write(
    tx: &Connection,
    collection: Collection,
    id: &str,
    json: &str,
    keys: &[(String, String)],
    mode: Mode,
) -> Result<Written, StorageError> {
    check_depth(id, json)?;
    let existed: bool = tx
        .prepare_cached(&format!(
            "SELECT EXISTS(SELECT 1 FROM {} WHERE id = ?1)",
            collection.table()
        ))?
        .query_row([id], |row| row.get(0))?;
    if existed && mode == Mode::CreateOnly {
        return Err(StorageError::Exists(format!(
            "{} {id:?}",
            collection.noun()
        )));
    }
    let table = collection.table();
    // A replace keeps the row's seq (its place in listings and the owner of its keys).
    let seq: i64 = tx
        .prepare_cached(&format!(
            "INSERT INTO {table} (id, json) VALUES (?1, ?2) \
             ON CONFLICT(id) DO UPDATE SET json = excluded.json RETURNING seq"
        ))?
        .query_row(params![id, json], |row| row.get(0))?;
    run(
        tx,
        &format!("DELETE FROM {table}_keys WHERE owner = ?1"),
        [seq],
    )?;
    for (kind, value) in keys {
        run(
            tx,
            &format!("INSERT OR IGNORE INTO {table}_keys (kind, value, owner) VALUES (?1, ?2, ?3)"),
            params![kind, value, seq],
        )?;
    }
    Ok(if existed {
        Written::Replaced
    } else {
        Written::Created
    })
}

/// Statements kept prepared per connection: more than the queries and writes there are (per
/// table), so that none is parsed again (rusqlite's default keeps 16).
pub(crate) const STATEMENT_CACHE: usize = 128;

/// Runs `sql` from the connection's statement cache. Preparing a write statement costs more
/// than running it: SQLite codes the triggers it fires at every prepare.
fn run(
    connection: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    connection.prepare_cached(sql)?.execute(params)
}

/// Adds a change's events to the event log and the outbox; they are published once the
/// transaction commits (see [`SqliteRepository::commit`]).
fn append_events(tx: &Connection, events: Vec<Event>) -> Result<(), StorageError> {
    let mut log = tx.prepare_cached(
        "INSERT INTO event_log (topic, time_ns, payload, reference_only) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut outbox =
        tx.prepare_cached("INSERT INTO outbox (topic, payload, event) VALUES (?1, ?2, ?3)")?;
    for event in events {
        log.execute(params![
            event.topic,
            nanos(event.timestamp),
            event.payload,
            event.published.is_some()
        ])?;
        let logged = tx.last_insert_rowid();
        // Empty: the complete message, read from the log when it is published.
        let published = event.published.unwrap_or_default();
        outbox.execute(params![event.topic, published, logged])?;
    }
    Ok(())
}

/// The stored JSON of a submodel: its blob-free view if it has one (`submodel_views`), else
/// itself. A subquery, not a `LEFT JOIN`: SQLite prepares a statement whose plan depends on a
/// bound value again at every run (it re-prepared the join at every GET, a measured 7 % of the
/// server's CPU under load), and the join's `?1` was such a value. For the same reason the
/// hot statements below bound their rows in Rust instead of with `LIMIT ?`
/// (`hot_statements_are_prepared_once`).
const SUBMODEL_JSON: &str = "SELECT COALESCE((SELECT json FROM submodel_views WHERE id = ?1), json) \
     FROM submodels WHERE id = ?1";

/// The outbox entries that are due, oldest first, with the event log's payload where the entry
/// holds none.
const OUTBOX_DUE: &str = "SELECT o.sequence, o.topic, \
     CASE WHEN length(o.payload) = 0 AND o.event IS NOT NULL \
     THEN (SELECT l.payload FROM event_log l WHERE l.sequence = o.event) ELSE o.payload END, \
     o.attempts FROM outbox o WHERE o.due_us <= ?1 ORDER BY o.sequence";

/// The event feed from a sequence on, at or after a time (nanoseconds), in sequence order.
const EVENTS_AFTER: &str = "SELECT sequence, topic, time_ns, payload, reference_only \
     FROM event_log WHERE sequence > ?1 AND time_ns >= ?2 ORDER BY sequence";

/// The dead letters after a sequence, in sequence order.
const DEAD_LETTERS_AFTER: &str = "SELECT sequence, event, topic, attempts, error, failed_us, \
     length(payload) FROM dead_letters WHERE sequence > ?1 ORDER BY sequence";

/// Bounds the database file `connection` writes to `max_size` bytes (SQLite's
/// `max_page_count`, a setting of each connection: every connection that writes needs it).
pub fn limit_size(connection: &Connection, max_size: Option<u64>) -> rusqlite::Result<()> {
    if let Some(bytes) = max_size {
        let page_size: i64 = connection.pragma_query_value(None, "page_size", |r| r.get(0))?;
        let pages = (bytes / page_size.max(512) as u64).max(1);
        connection.pragma_update(None, "max_page_count", pages as i64)?;
    }
    Ok(())
}

fn store_attachment(
    tx: &Connection,
    owner: &str,
    path: &str,
    a: &Attachment,
) -> Result<(), StorageError> {
    run(
        tx,
        "INSERT INTO attachments (owner, path, content_type, file_name, bytes) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(owner, path) DO UPDATE SET \
         content_type = excluded.content_type, file_name = excluded.file_name, bytes = excluded.bytes",
        params![owner, path, a.content_type, a.file_name, a.bytes],
    )?;
    Ok(())
}

/// Keeps the files of `owner` with the elements that hold them ([`unheld_files`]).
fn drop_unheld_files(
    tx: &Connection,
    owner: &str,
    holds: &dyn Fn(&str, &str) -> bool,
    holders: &dyn Fn(&str) -> Vec<String>,
) -> Result<(), StorageError> {
    let rows: Vec<(String, String)> = {
        let mut statement =
            tx.prepare_cached("SELECT path, file_name FROM attachments WHERE owner = ?1")?;
        statement
            .query_map([owner], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    let unheld = unheld_files(rows, holds, holders);
    // Out of the way first (a move may go where another unheld file sits), then in place.
    for (n, (path, _)) in unheld.iter().enumerate() {
        run(
            tx,
            "UPDATE attachments SET path = ?3 WHERE owner = ?1 AND path = ?2",
            params![owner, path, format!(" moving {n}")],
        )?;
    }
    for (n, (_, to)) in unheld.iter().enumerate() {
        let parked = format!(" moving {n}");
        match to {
            Some(to) => run(
                tx,
                "UPDATE attachments SET path = ?3 WHERE owner = ?1 AND path = ?2",
                params![owner, parked, to],
            )?,
            None => run(
                tx,
                "DELETE FROM attachments WHERE owner = ?1 AND path = ?2",
                params![owner, parked],
            )?,
        };
    }
    Ok(())
}

fn link_submodels(tx: &Connection, shell: &AssetAdministrationShell) -> Result<(), StorageError> {
    run(
        tx,
        "DELETE FROM shell_submodels WHERE shell_id = ?1",
        [&shell.id],
    )?;
    for reference in shell.submodels.iter().flatten() {
        if let Some(key) = reference.keys.first() {
            run(
                tx,
                "INSERT OR IGNORE INTO shell_submodels (shell_id, submodel_id) VALUES (?1, ?2)",
                params![shell.id, key.value],
            )?;
        }
    }
    Ok(())
}

/// The element `id` read in `tx` and changed by `change`, which may refuse but not alter
/// the id.
fn changed_in<T: aas_serde::json::FromJson + aas_model::Identifiable>(
    tx: &Connection,
    collection: Collection,
    id: &str,
    change: &mut dyn FnMut(&mut T) -> Change<()>,
) -> Result<T, StorageError> {
    let mut element: T = read_in(tx, collection, id)?
        .ok_or_else(|| StorageError::NotFound(format!("{} {id:?}", collection.noun())))?;
    apply(&mut element, id, change)?;
    Ok(element)
}

/// Writes a submodel in `tx` (`json` is its AAS JSON) with what goes with it: its blob-free view, the File bytes
/// `attach` gives (see [`Repository::modify_submodel`]) and its files kept with
/// the Files naming them.
fn submodel_in(
    tx: &Connection,
    submodel: &Submodel,
    json: &str,
    mode: Mode,
    attach: Option<(&str, &Attachment)>,
) -> Result<SubmodelChange, StorageError> {
    let id = &submodel.id;
    let written = write(
        tx,
        Collection::Submodels,
        id,
        json,
        &submodel.filter_keys(),
        mode,
    )?;
    store_view(tx, submodel, json)?;
    let owner = format!("submodel:{id}");
    if let Some((path, attachment)) = attach {
        let attachment = attachment_at(submodel, path, attachment);
        store_attachment(tx, &owner, path, &attachment)?;
    }
    drop_unheld_files(
        tx,
        &owner,
        &|path, name| submodel.holds_file_named(path, name),
        &|name| submodel.files_named(name),
    )?;
    Ok(SubmodelChange {
        written,
        affected_shell_ids: affected_shells(tx, id)?,
    })
}

/// Writes a shell in `tx` with what goes with it: the thumbnail given, its files kept with
/// its `defaultThumbnail`, its submodel references.
fn shell_in(
    tx: &Connection,
    shell: &AssetAdministrationShell,
    json: &str,
    mode: Mode,
    thumbnail: Option<&Attachment>,
) -> Result<Written, StorageError> {
    let written = write(
        tx,
        Collection::Shells,
        &shell.id,
        json,
        &shell.filter_keys(),
        mode,
    )?;
    let owner = format!("shell:{}", shell.id);
    if let Some(thumbnail) = thumbnail {
        store_attachment(tx, &owner, THUMBNAIL, thumbnail)?;
    }
    drop_unheld_files(
        tx,
        &owner,
        &|path, name| path == THUMBNAIL && shell.thumbnail_names(name),
        &|_| Vec::new(),
    )?;
    link_submodels(tx, shell)?;
    Ok(written)
}

fn read_in<T: aas_serde::json::FromJson>(
    tx: &Connection,
    collection: Collection,
    id: &str,
) -> Result<Option<T>, StorageError> {
    stored_in(tx, collection, id)?
        .map(|json| decode(id, &json))
        .transpose()
}

/// The JSON stored for the element `id`, as read in `tx`.
fn stored_in(
    tx: &Connection,
    collection: Collection,
    id: &str,
) -> Result<Option<String>, StorageError> {
    Ok(tx
        .prepare_cached(&format!(
            "SELECT json FROM {} WHERE id = ?1",
            collection.table()
        ))?
        .query_row([id], |row| row.get(0))
        .optional()?)
}

/// Keeps the submodel's view without blob values, when it differs from the submodel (`json`
/// is the submodel as stored).
fn store_view(tx: &Connection, submodel: &Submodel, json: &str) -> Result<(), StorageError> {
    match blob_free_view(submodel, json) {
        Some(view) => run(
            tx,
            "INSERT INTO submodel_views (id, json) VALUES (?1, ?2) \
             ON CONFLICT(id) DO UPDATE SET json = excluded.json",
            params![submodel.id, view],
        )?,
        None => run(
            tx,
            "DELETE FROM submodel_views WHERE id = ?1",
            [&submodel.id],
        )?,
    };
    Ok(())
}

fn affected_shells(tx: &Connection, submodel_id: &str) -> Result<Vec<String>, StorageError> {
    // Sorted here: with `ORDER BY shell_id` SQLite prepares the statement again at every
    // run (measured: about 2 % of a 50 KB submodel's PUT).
    let mut statement =
        tx.prepare_cached("SELECT shell_id FROM shell_submodels WHERE submodel_id = ?1")?;
    let mut ids = statement
        .query_map([submodel_id], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    ids.sort_unstable();
    Ok(ids)
}

/// The synchronous calls [`Repository`]'s run on the blocking pool (and the tests call).
impl SqliteRepository {
    fn delete_shell(
        &self,
        id: &str,
        events: &dyn Fn(&AssetAdministrationShell) -> Vec<Event>,
    ) -> Result<(), StorageError> {
        let mut connection = self.lock();
        let tx = write_transaction(&mut connection)?;
        let json: Option<String> = tx
            .prepare_cached("SELECT json FROM shells WHERE id = ?1")?
            .query_row([id], |row| row.get(0))
            .optional()?;
        let Some(json) = json else {
            return Err(StorageError::NotFound(format!("shell {id:?}")));
        };
        let shell: AssetAdministrationShell = decode(id, &json)?;
        run(&tx, "DELETE FROM shells WHERE id = ?1", [id])?;
        run(
            &tx,
            "DELETE FROM attachments WHERE owner = ?1",
            [format!("shell:{id}")],
        )?;
        append_events(&tx, events(&shell))?;
        self.commit(tx)?;
        Ok(())
    }

    fn ids(&self, collection: Collection) -> Result<Vec<String>, StorageError> {
        let connection = self.read();
        let mut statement = connection.prepare(&format!(
            "SELECT id FROM {} ORDER BY seq",
            collection.table()
        ))?;
        let ids = statement
            .query_map([], |row| row.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(ids)
    }

    fn stored_json(
        &self,
        collection: Collection,
        id: &str,
    ) -> Result<Option<String>, StorageError> {
        Ok(self
            .read()
            .query_row(
                &format!("SELECT json FROM {} WHERE id = ?1", collection.table()),
                [id],
                |row| row.get(0),
            )
            .optional()?)
    }

    fn submodel_json(&self, id: &str) -> Result<Option<bytes::Bytes>, StorageError> {
        self.submodel_json_reading_between(id, || ())
    }

    /// [`SqliteRepository::submodel_json`], running `between` after the version is read and
    /// before the JSON is (the tests commit there).
    fn submodel_json_reading_between(
        &self,
        id: &str,
        between: impl FnOnce(),
    ) -> Result<Option<bytes::Bytes>, StorageError> {
        // The most frequent read: its statements are prepared once per connection, and what
        // it read is served again until anything commits (`read_cache`). The version is read
        // before the JSON: JSON kept at a version is at least as new as that version.
        let mut connection = self.read();
        let version: i64 = connection
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |row| row.get(0))?;
        if let Some(kept) = connection.cache().and_then(|cache| cache.get(version, id)) {
            return Ok(Some(kept));
        }
        between();
        let json = connection
            .prepare_cached(SUBMODEL_JSON)?
            .query_row([id], |row| {
                Ok(bytes::Bytes::copy_from_slice(row.get_ref(0)?.as_bytes()?))
            })
            .optional()?;
        if let (Some(json), Some(cache)) = (&json, connection.cache()) {
            cache.keep(version, id, json);
        }
        Ok(json)
    }

    fn delete_submodel(
        &self,
        id: &str,
        events: &dyn Fn(&Submodel, &[String]) -> Vec<Event>,
    ) -> Result<(), StorageError> {
        let mut connection = self.lock();
        self.submodels.forget(id);
        let tx = write_transaction(&mut connection)?;
        let json: Option<String> = tx
            .prepare_cached("SELECT json FROM submodels WHERE id = ?1")?
            .query_row([id], |row| row.get(0))
            .optional()?;
        let Some(json) = json else {
            return Err(StorageError::NotFound(format!("submodel {id:?}")));
        };
        let submodel: Submodel = decode(id, &json)?;
        let affected = affected_shells(&tx, id)?;
        run(&tx, "DELETE FROM submodels WHERE id = ?1", [id])?;
        run(&tx, "DELETE FROM submodel_views WHERE id = ?1", [id])?;
        run(
            &tx,
            "DELETE FROM attachments WHERE owner = ?1",
            [format!("submodel:{id}")],
        )?;
        append_events(&tx, events(&submodel, &affected))?;
        self.commit(tx)?;
        Ok(())
    }

    fn attachment(&self, owner: &str, path: &str) -> Result<Option<Attachment>, StorageError> {
        Ok(self
            .read()
            .query_row(
                "SELECT content_type, file_name, bytes FROM attachments WHERE owner = ?1 AND path = ?2",
                [owner, path],
                |row| {
                    Ok(Attachment {
                        content_type: row.get(0)?,
                        file_name: row.get(1)?,
                        bytes: row.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    fn put_attachment(
        &self,
        owner: &str,
        path: &str,
        attachment: Option<&Attachment>,
    ) -> Result<(), StorageError> {
        let mut connection = self.lock();
        let tx = write_transaction(&mut connection)?;
        match attachment {
            Some(a) => store_attachment(&tx, owner, path, a)?,
            None => {
                run(
                    &tx,
                    "DELETE FROM attachments WHERE owner = ?1 AND path = ?2",
                    [owner, path],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn attachments(&self, owner: &str) -> Result<Vec<(String, Attachment)>, StorageError> {
        let connection = self.read();
        let mut statement = connection.prepare_cached(
            "SELECT path, content_type, file_name, bytes FROM attachments WHERE owner = ?1 ORDER BY path",
        )?;
        let rows = statement
            .query_map([owner], |row| {
                Ok((
                    row.get(0)?,
                    Attachment {
                        content_type: row.get(1)?,
                        file_name: row.get(2)?,
                        bytes: row.get(3)?,
                    },
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn delete_concept_description(&self, id: &str) -> Result<(), StorageError> {
        let deleted = self
            .lock()
            .execute("DELETE FROM concept_descriptions WHERE id = ?1", [id])?;
        if deleted == 0 {
            return Err(StorageError::NotFound(format!(
                "concept description {id:?}"
            )));
        }
        Ok(())
    }

    fn outbox(&self, limit: usize) -> Result<Vec<OutboxEntry>, StorageError> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(OUTBOX_DUE)?;
        let entries = statement
            .query_map([micros(Utc::now())], |row| {
                Ok(OutboxEntry {
                    sequence: row.get(0)?,
                    topic: row.get(1)?,
                    payload: row.get(2)?,
                    attempts: row.get(3)?,
                })
            })?
            .take(limit)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(entries)
    }

    fn outbox_next_due(&self) -> Result<Option<DateTime<Utc>>, StorageError> {
        let due: Option<i64> = self.lock().query_row(
            "SELECT MIN(due_us) FROM outbox WHERE due_us > ?1",
            [micros(Utc::now())],
            |row| row.get(0),
        )?;
        Ok(due.map(|us| from_micros(us, 0)).transpose()?)
    }

    fn record_failure(
        &self,
        sequence: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<u32, StorageError> {
        let connection = self.lock();
        let attempts: Option<u32> = connection
            .query_row(
                "UPDATE outbox SET attempts = attempts + 1, due_us = ?2, error = ?3 \
                 WHERE sequence = ?1 RETURNING attempts",
                params![sequence, micros(retry_at), error],
                |row| row.get(0),
            )
            .optional()?;
        attempts.ok_or_else(|| StorageError::NotFound(format!("outbox entry {sequence}")))
    }

    fn dead_letter(&self, sequence: i64, error: &str) -> Result<(), StorageError> {
        let mut connection = self.lock();
        let tx = write_transaction(&mut connection)?;
        // The message itself goes along: the event log entry may be pruned meanwhile.
        let moved = run(
            &tx,
            "INSERT INTO dead_letters (sequence, topic, payload, event, attempts, error, failed_us) \
             SELECT o.sequence, o.topic, \
             CASE WHEN length(o.payload) = 0 AND o.event IS NOT NULL \
                  THEN COALESCE(l.payload, X'') ELSE o.payload END, \
             o.event, o.attempts, ?2, ?3 \
             FROM outbox o LEFT JOIN event_log l ON l.sequence = o.event WHERE o.sequence = ?1",
            params![sequence, error, micros(Utc::now())],
        )?;
        if moved == 0 {
            return Err(StorageError::NotFound(format!("outbox entry {sequence}")));
        }
        run(&tx, "DELETE FROM outbox WHERE sequence = ?1", [sequence])?;
        tx.commit()?;
        Ok(())
    }

    fn dead_letters(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<DeadLetter>, StorageError> {
        let after = sequence_cursor(cursor)?;
        let connection = self.read();
        let mut statement = connection.prepare_cached(DEAD_LETTERS_AFTER)?;
        let mut letters = statement
            .query_map([after], |row| {
                Ok(DeadLetter {
                    sequence: row.get(0)?,
                    event: row.get(1)?,
                    topic: row.get(2)?,
                    attempts: row.get(3)?,
                    error: row.get(4)?,
                    failed_at: from_micros(row.get(5)?, 5)?,
                    size: {
                        let size: i64 = row.get(6)?;
                        usize::try_from(size)
                            .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(6, size))?
                    },
                })
            })?
            // One more than asked tells whether there is a next page.
            .take(limit.saturating_add(1))
            .collect::<Result<Vec<_>, _>>()?;
        let more = letters.len() > limit;
        letters.truncate(limit);
        let cursor = if more {
            letters.last().map(|letter| letter.sequence.to_string())
        } else {
            None
        };
        Ok(Page {
            items: letters,
            cursor,
        })
    }

    fn retry_dead_letter(&self, sequence: i64) -> Result<(), StorageError> {
        let mut connection = self.lock();
        let tx = write_transaction(&mut connection)?;
        // Back in its old place in the order, with its own copy of the message.
        let moved = run(
            &tx,
            "INSERT INTO outbox (sequence, topic, payload, event, attempts, due_us) \
             SELECT sequence, topic, payload, event, 0, 0 FROM dead_letters WHERE sequence = ?1",
            [sequence],
        )?;
        if moved == 0 {
            return Err(StorageError::NotFound(format!("dead letter {sequence}")));
        }
        run(
            &tx,
            "DELETE FROM dead_letters WHERE sequence = ?1",
            [sequence],
        )?;
        self.commit(tx)
    }

    fn events(
        &self,
        since: Option<DateTime<Utc>>,
        limit: usize,
        max_bytes: usize,
        cursor: Option<&str>,
    ) -> Result<Page<LoggedEvent>, StorageError> {
        let after = sequence_cursor(cursor)?;
        let since = since.map_or(i64::MIN, nanos);
        let connection = self.read();
        let mut statement = connection.prepare_cached(EVENTS_AFTER)?;
        // Stepped until one more than asked, which tells whether there is a next page.
        let rows = statement.query_map(params![after, since], |row| {
            Ok(LoggedEvent {
                sequence: row.get(0)?,
                topic: row.get(1)?,
                timestamp: DateTime::from_timestamp_nanos(row.get(2)?),
                payload: row.get(3)?,
                reference_only: row.get(4)?,
            })
        })?;
        let mut items: Vec<LoggedEvent> = Vec::new();
        let mut bytes = 0usize;
        let mut more = false;
        for row in rows {
            let event = row?;
            if items.len() == limit || (!items.is_empty() && bytes >= max_bytes) {
                more = true;
                break;
            }
            bytes = bytes.saturating_add(event.payload.len());
            items.push(event);
        }
        let cursor = if more {
            items.last().map(|event| event.sequence.to_string())
        } else {
            None
        };
        Ok(Page { items, cursor })
    }

    fn prune_events(&self, before: DateTime<Utc>) -> Result<usize, StorageError> {
        let mut removed = 0;
        // In slices, so that no change waits long for the write lock.
        loop {
            let deleted = self.lock().execute(
                "DELETE FROM event_log WHERE sequence IN (SELECT l.sequence FROM event_log l \
                 WHERE l.time_ns < ?1 AND NOT EXISTS \
                 (SELECT 1 FROM outbox o WHERE o.event = l.sequence) \
                 ORDER BY l.time_ns LIMIT 1000)",
                [nanos(before)],
            )?;
            removed += deleted;
            if deleted < 1000 {
                return Ok(removed);
            }
        }
    }

    fn acknowledge(&self, sequences: &[i64]) -> Result<(), StorageError> {
        let mut connection = self.lock();
        let tx = write_transaction(&mut connection)?;
        {
            let mut statement = tx.prepare_cached("DELETE FROM outbox WHERE sequence = ?1")?;
            for sequence in sequences {
                statement.execute([sequence])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Runs `work` on a clone of this repository on the blocking pool (SQLite blocks). A task
    /// that loads runs it itself, in loading mode: loading happens before the server serves
    /// (`serve --load`), and a hand-off per element doubled its time (100,000 shells: 5.3 s →
    /// 10.7 s until the server answered, bench/server.sh).
    async fn run<T, E>(
        &self,
        work: impl FnOnce(&Self) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<tokio::task::JoinError> + Send + 'static,
    {
        if LOADING_TASK.try_with(|_| ()).is_ok() {
            return as_load(|| work(self));
        }
        let this = self.clone();
        tokio::task::spawn_blocking(move || work(&this)).await?
    }
}

/// Implements [`Repository`] for [`SqliteRepository`]: each `fn` listed runs its closure (the
/// synchronous call) on the blocking pool ([`SqliteRepository::run`]), after the `where`
/// bindings make what it borrows owned; the items after `---` are written out.
macro_rules! on_the_blocking_pool {
    (
        $(fn $name:ident(&self $(, $arg:ident: $type:ty)*) -> $out:ty
            $(where $($owned:pat = $value:expr),+)? => $call:expr;)*
        ---
        $($rest:tt)*
    ) => {
        #[async_trait]
        impl Repository for SqliteRepository {
            $(async fn $name(&self $(, $arg: $type)*) -> Result<$out, StorageError> {
                $($(let $owned = $value;)+)?
                self.run($call).await
            })*
            $($rest)*
        }
    };
}

on_the_blocking_pool! {
    fn shell(&self, id: &str) -> Option<AssetAdministrationShell>
        where id = id.to_owned() => move |this| this.get(Collection::Shells, &id);
    fn shells_where(&self, filter: &ShellFilter, limit: usize, cursor: Option<&str>)
        -> Page<AssetAdministrationShell>
        where filter = filter.clone(), cursor = cursor.map(str::to_owned)
        => move |this| {
            let cursor = cursor.as_deref();
            this.list(Collection::Shells, &filter.conditions(), limit, cursor)
        };
    fn put_shell_serialized(
        &self, shell: Arc<AssetAdministrationShell>, json: Arc<str>, events: WriteEvents
    ) -> Written => move |this| {
        let finish = events.prepare();
        this.write_shell(&shell, &json, Mode::CreateOrReplace, &|written| finish(written, &[]))
    };
    fn create_shell_serialized(
        &self, shell: Arc<AssetAdministrationShell>, json: Arc<str>, events: WriteEvents
    ) -> () => move |this| {
        let finish = events.prepare();
        this.write_shell(&shell, &json, Mode::CreateOnly, &|written| finish(written, &[])).map(drop)
    };
    fn delete_shell(&self, id: &str, events: ShellDeleteEvents) -> ()
        where id = id.to_owned() => move |this| this.delete_shell(&id, &events);
    fn submodel(&self, id: &str) -> Option<Submodel>
        where id = id.to_owned() => move |this| this.get(Collection::Submodels, &id);
    fn stored_json(&self, collection: Collection, id: &str) -> Option<String>
        where id = id.to_owned() => move |this| this.stored_json(collection, &id);
    fn ids(&self, collection: Collection) -> Vec<String> => move |this| this.ids(collection);
    fn submodels_where(&self, filter: &SubmodelFilter, limit: usize, cursor: Option<&str>)
        -> Page<Submodel>
        where filter = filter.clone(), cursor = cursor.map(str::to_owned)
        => move |this| {
            let cursor = cursor.as_deref();
            this.list(Collection::Submodels, &filter.conditions(), limit, cursor)
        };
    fn put_submodel_serialized(
        &self, submodel: Arc<Submodel>, json: Arc<str>, events: WriteEvents
    ) -> SubmodelChange => move |this| {
        let finish = events.prepare();
        let events = |change: &SubmodelChange| finish(change.written, &change.affected_shell_ids);
        this.write_submodel(&submodel, &json, Mode::CreateOrReplace, &events)
    };
    fn create_submodel_serialized(
        &self, submodel: Arc<Submodel>, json: Arc<str>, events: WriteEvents
    ) -> SubmodelChange => move |this| {
        let finish = events.prepare();
        let events = |change: &SubmodelChange| finish(change.written, &change.affected_shell_ids);
        this.write_submodel(&submodel, &json, Mode::CreateOnly, &events)
    };
    fn delete_submodel(&self, id: &str, events: SubmodelDeleteEvents) -> ()
        where id = id.to_owned() => move |this| this.delete_submodel(&id, &events);
    fn modify_submodel(
        &self,
        id: &str,
        attach: Option<(String, Attachment)>,
        change: Edit<Submodel>,
        events: SubmodelEditEvents
    ) -> Arc<Submodel>
        where id = id.to_owned(), mut change = change => move |this| {
            let attach = attach.as_ref().map(|(path, file)| (path.as_str(), file));
            this.change_submodel(&id, attach, &mut change, &events)
        };
    fn modify_shell(
        &self,
        id: &str,
        thumbnail: Option<Attachment>,
        change: Edit<AssetAdministrationShell>,
        events: ShellEditEvents
    ) -> AssetAdministrationShell
        where id = id.to_owned(), mut change = change
        => move |this| this.change_shell(&id, thumbnail.as_ref(), &mut change, &events);
    fn attachment(&self, owner: &str, path: &str) -> Option<Attachment>
        where owner = owner.to_owned(), path = path.to_owned()
        => move |this| this.attachment(&owner, &path);
    fn put_attachment(&self, owner: &str, path: &str, attachment: Option<Attachment>) -> ()
        where owner = owner.to_owned(), path = path.to_owned()
        => move |this| this.put_attachment(&owner, &path, attachment.as_ref());
    fn attachments(&self, owner: &str) -> Vec<(String, Attachment)>
        where owner = owner.to_owned() => move |this| this.attachments(&owner);
    fn concept_description(&self, id: &str) -> Option<ConceptDescription>
        where id = id.to_owned()
        => move |this| this.get(Collection::ConceptDescriptions, &id);
    fn concept_descriptions_where(
        &self, filter: &ConceptDescriptionFilter, limit: usize, cursor: Option<&str>
    ) -> Page<ConceptDescription>
        where filter = filter.clone(), cursor = cursor.map(str::to_owned)
        => move |this| {
            let cursor = cursor.as_deref();
            this.list(Collection::ConceptDescriptions, &filter.conditions(), limit, cursor)
        };
    fn put_concept_description(&self, cd: &ConceptDescription) -> Written
        where cd = cd.clone()
        => move |this| this.write_concept_description(&cd, Mode::CreateOrReplace);
    fn create_concept_description(&self, cd: &ConceptDescription) -> ()
        where cd = cd.clone()
        => move |this| this.write_concept_description(&cd, Mode::CreateOnly).map(drop);
    fn delete_concept_description(&self, id: &str) -> ()
        where id = id.to_owned() => move |this| this.delete_concept_description(&id);
    fn outbox(&self, limit: usize) -> Vec<OutboxEntry> => move |this| this.outbox(limit);
    fn outbox_next_due(&self) -> Option<DateTime<Utc>> => |this| this.outbox_next_due();
    fn acknowledge(&self, sequences: &[i64]) -> ()
        where sequences = sequences.to_vec() => move |this| this.acknowledge(&sequences);
    fn record_failure(&self, sequence: i64, error: &str, retry_at: DateTime<Utc>) -> u32
        where error = error.to_owned()
        => move |this| this.record_failure(sequence, &error, retry_at);
    fn dead_letter(&self, sequence: i64, error: &str) -> ()
        where error = error.to_owned() => move |this| this.dead_letter(sequence, &error);
    fn dead_letters(&self, limit: usize, cursor: Option<&str>) -> Page<DeadLetter>
        where cursor = cursor.map(str::to_owned)
        => move |this| this.dead_letters(limit, cursor.as_deref());
    fn retry_dead_letter(&self, sequence: i64) -> ()
        => move |this| this.retry_dead_letter(sequence);
    fn events(
        &self, since: Option<DateTime<Utc>>, limit: usize, max_bytes: usize, cursor: Option<&str>
    ) -> Page<LoggedEvent>
        where cursor = cursor.map(str::to_owned)
        => move |this| this.events(since, limit, max_bytes, cursor.as_deref());
    fn prune_events(&self, before: DateTime<Utc>) -> usize
        => move |this| this.prune_events(before);
    ---
    /// Read on the caller's task, not the blocking pool: one row through a reader connection
    /// (in WAL mode it never waits for the writer) costs less than the hand-off
    /// (bench/server.sh: GET 0.41–0.46 of the floor through the pool, 0.63 here).
    async fn submodel_json(&self, id: &str) -> Result<Option<bytes::Bytes>, StorageError> {
        SqliteRepository::submodel_json(self, id)
    }

    fn outbox_signal(&self) -> Arc<Notify> {
        self.database.outbox_signal.clone()
    }

    async fn in_one_transaction(
        &self,
        load: BoxFuture<'_, Result<usize, StorageError>>,
    ) -> Result<usize, StorageError> {
        let outcome = LOADING_TASK.scope((), load).await;
        self.run(|this| this.database.end_load()).await?;
        outcome
    }
}

/// What only the tests call: the synchronous calls with their test defaults, and opening.
#[cfg(test)]
mod test_calls {
    use super::*;

    impl SqliteRepository {
        /// Opens (creating if needed) the database file, with the default options.
        pub(crate) fn open(path: &std::path::Path) -> Result<Self, StorageError> {
            Self::open_with(path, StorageOptions::default())
        }

        /// Opens (creating if needed) the database file.
        pub(crate) fn open_with(
            path: &std::path::Path,
            options: StorageOptions,
        ) -> Result<Self, StorageError> {
            Ok(Self::on(Arc::new(Database::open(path, options)?)))
        }

        /// The AAS version the stored data was verified under, as recorded (`None`: a database
        /// from before versions were recorded, or a new one).
        pub(crate) fn recorded_version(&self) -> Result<Option<aas_model::Version>, StorageError> {
            let text: Option<String> = self
                .read()
                .query_row(
                    "SELECT value FROM metadata WHERE key = ?1",
                    [VERSION_KEY],
                    |row| row.get(0),
                )
                .optional()?;
            text.map(|text| {
                text.parse().map_err(|aas_model::UnknownVersion(recorded)| {
                    StorageError::UnknownRecordedVersion { recorded }
                })
            })
            .transpose()
        }

        pub(crate) fn shells(
            &self,
            limit: usize,
            cursor: Option<&str>,
        ) -> Result<Page<AssetAdministrationShell>, StorageError> {
            self.shells_where(&ShellFilter::default(), limit, cursor)
        }

        pub(crate) fn put_shell(
            &self,
            shell: &AssetAdministrationShell,
            events: &dyn Fn(Written) -> Vec<Event>,
        ) -> Result<Written, StorageError> {
            self.put_shell_serialized(shell, &aas_serde::json::to_string(shell), events)
        }

        pub(crate) fn submodels(
            &self,
            limit: usize,
            cursor: Option<&str>,
        ) -> Result<Page<Submodel>, StorageError> {
            self.submodels_where(&SubmodelFilter::default(), limit, cursor)
        }

        pub(crate) fn put_submodel(
            &self,
            submodel: &Submodel,
            events: &dyn Fn(&SubmodelChange) -> Vec<Event>,
        ) -> Result<SubmodelChange, StorageError> {
            self.put_submodel_serialized(submodel, &aas_serde::json::to_string(submodel), events)
        }

        pub(crate) fn shells_where(
            &self,
            filter: &ShellFilter,
            limit: usize,
            cursor: Option<&str>,
        ) -> Result<Page<AssetAdministrationShell>, StorageError> {
            self.list(Collection::Shells, &filter.conditions(), limit, cursor)
        }

        pub(crate) fn put_shell_serialized(
            &self,
            shell: &AssetAdministrationShell,
            json: &str,
            events: &dyn Fn(Written) -> Vec<Event>,
        ) -> Result<Written, StorageError> {
            self.write_shell(shell, json, Mode::CreateOrReplace, events)
        }

        pub(crate) fn submodel(&self, id: &str) -> Result<Option<Submodel>, StorageError> {
            self.get(Collection::Submodels, id)
        }

        pub(crate) fn submodels_where(
            &self,
            filter: &SubmodelFilter,
            limit: usize,
            cursor: Option<&str>,
        ) -> Result<Page<Submodel>, StorageError> {
            self.list(Collection::Submodels, &filter.conditions(), limit, cursor)
        }

        pub(crate) fn put_submodel_serialized(
            &self,
            submodel: &Submodel,
            json: &str,
            events: &dyn Fn(&SubmodelChange) -> Vec<Event>,
        ) -> Result<SubmodelChange, StorageError> {
            self.write_submodel(submodel, json, Mode::CreateOrReplace, events)
        }

        pub(crate) fn modify_submodel(
            &self,
            id: &str,
            change: &mut dyn FnMut(&mut Submodel) -> Change<()>,
            events: &dyn Fn(&Submodel, &str, &SubmodelChange) -> Vec<Event>,
        ) -> Result<Arc<Submodel>, StorageError> {
            self.change_submodel(id, None, change, events)
        }

        pub(crate) fn concept_descriptions_where(
            &self,
            filter: &ConceptDescriptionFilter,
            limit: usize,
            cursor: Option<&str>,
        ) -> Result<Page<ConceptDescription>, StorageError> {
            self.list(
                Collection::ConceptDescriptions,
                &filter.conditions(),
                limit,
                cursor,
            )
        }

        pub(crate) fn put_concept_description(
            &self,
            cd: &ConceptDescription,
        ) -> Result<Written, StorageError> {
            self.write_concept_description(cd, Mode::CreateOrReplace)
        }

        pub(crate) fn in_one_transaction(
            &self,
            load: &mut dyn FnMut() -> Result<usize, StorageError>,
        ) -> Result<usize, StorageError> {
            self.database.loading(load)
        }
    }

    impl Database {
        /// Runs `load` with this thread's changes grouped into commits of up to
        /// [`super::MAX_LOAD_GROUP`] (see [`Repository::in_one_transaction`]).
        pub(crate) fn loading(
            &self,
            load: &mut dyn FnMut() -> Result<usize, StorageError>,
        ) -> Result<usize, StorageError> {
            let outcome = as_load(load);
            self.end_load()?;
            outcome
        }
    }
}

#[cfg(test)]
mod tests {
    use aas_model::{AssetInformation, AssetKind, Key, KeyTypes, Reference};

    use super::*;
    use crate::storage::VersionProblem;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// A submodel whose JSON is long enough to be kept decoded after a change.
    fn large_submodel(id: &str) -> Submodel {
        let mut submodel = Submodel::new(id);
        submodel.id_short = Some("Large".into());
        submodel.submodel_elements = Some(
            (0..4000)
                .map(|n| {
                    let mut property = aas_model::Property::new(aas_model::DataTypeDefXsd::String);
                    property.id_short = Some(format!("p{n}"));
                    property.value = Some(format!("value of property {n}, padded out a bit"));
                    aas_model::SubmodelElement::Property(property)
                })
                .collect(),
        );
        assert!(aas_serde::json::to_string(&submodel).len() > submodel_cache::MIN_KEPT_JSON);
        submodel
    }

    /// The idShort a change of `id` sees, leaving the submodel as it is.
    fn id_short_seen(
        repository: &SqliteRepository,
        id: &str,
    ) -> Result<Option<String>, StorageError> {
        let mut seen = None;
        repository.modify_submodel(
            id,
            &mut |submodel| {
                seen = submodel.id_short.clone();
                Ok(())
            },
            &|_, _, _| Vec::new(),
        )?;
        Ok(seen)
    }

    #[test]
    fn a_kept_submodel_is_used_only_while_the_row_holds_exactly_what_was_written() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("repository.sqlite");
        let repository = SqliteRepository::open(&path)?;
        repository.put_submodel(&large_submodel("urn:sm:large"), &|_| Vec::new())?;
        repository.put_submodel(&Submodel::new("urn:sm:small"), &|_| Vec::new())?;
        assert!(repository.submodels.ids().is_empty(), "writes keep nothing");
        assert_eq!(
            id_short_seen(&repository, "urn:sm:large")?,
            Some("Large".into())
        );
        assert_eq!(id_short_seen(&repository, "urn:sm:small")?, None);
        assert_eq!(
            repository.submodels.ids(),
            ["urn:sm:large"],
            "only the large one"
        );

        // Another writer of the file changes the row: the change reads the row.
        let other = Connection::open(&path)?;
        other.execute(
            "UPDATE submodels SET json = replace(json, '\"idShort\":\"Large\"', \
             '\"idShort\":\"Elsewhere\"') WHERE id = 'urn:sm:large'",
            [],
        )?;
        assert_eq!(
            id_short_seen(&repository, "urn:sm:large")?,
            Some("Elsewhere".into())
        );

        // A refused change that altered the submodel first leaves no trace.
        let refused = repository.modify_submodel(
            "urn:sm:large",
            &mut |submodel| {
                submodel.id_short = Some("Refused".into());
                Err("no".into())
            },
            &|_, _, _| Vec::new(),
        );
        assert!(
            matches!(refused, Err(StorageError::Refused(_))),
            "{refused:?}"
        );
        assert_eq!(
            id_short_seen(&repository, "urn:sm:large")?,
            Some("Elsewhere".into())
        );

        // Replaced or deleted: nothing kept of it.
        repository.put_submodel(&large_submodel("urn:sm:large"), &|_| Vec::new())?;
        assert!(repository.submodels.ids().is_empty());
        assert_eq!(
            id_short_seen(&repository, "urn:sm:large")?,
            Some("Large".into())
        );
        repository.delete_submodel("urn:sm:large", &|_, _| Vec::new())?;
        assert!(repository.submodels.ids().is_empty());
        Ok(())
    }

    #[test]
    fn a_load_commits_its_changes_together_at_most_max_load_group_at_once() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("repository.sqlite");
        let repository = SqliteRepository::open(&path)?;
        let other = Connection::open(&path)?;
        let count = |other: &Connection| -> rusqlite::Result<i64> {
            other.query_row("SELECT count(*) FROM shells", [], |row| row.get(0))
        };
        let shell = |n: usize| {
            AssetAdministrationShell::new(
                format!("urn:aas:{n}"),
                aas_model::AssetInformation::new(aas_model::AssetKind::Instance),
            )
        };
        let mut seen = Vec::new();
        let loaded = repository.in_one_transaction(&mut || {
            for n in 0..3 {
                repository.put_shell(&shell(n), &|_| Vec::new())?;
            }
            seen.push(count(&other).map_err(crate::storage::DatabaseError::from)?);
            for n in 3..super::super::MAX_LOAD_GROUP + 1 {
                repository.put_shell(&shell(n), &|_| Vec::new())?;
            }
            seen.push(count(&other).map_err(crate::storage::DatabaseError::from)?);
            Ok(super::super::MAX_LOAD_GROUP + 1)
        })?;
        assert_eq!(loaded, 10_001);
        assert_eq!(
            seen,
            [0, 10_000],
            "nothing committed one by one; a commit at the bound"
        );
        assert_eq!(count(&other)?, 10_001, "the rest at the end");

        // A load that fails keeps what it changed before, and says why it stopped.
        let failed = repository.in_one_transaction(&mut || {
            repository.put_shell(&shell(20_000), &|_| Vec::new())?;
            Err(StorageError::NotFound("the rest of the file".into()))
        });
        assert!(
            matches!(failed, Err(StorageError::NotFound(_))),
            "{failed:?}"
        );
        assert_eq!(count(&other)?, 10_002);
        // And the next writer commits alone again.
        repository.put_shell(&shell(20_001), &|_| Vec::new())?;
        assert_eq!(count(&other)?, 10_003);
        Ok(())
    }

    #[test]
    fn a_change_holds_the_write_lock_from_its_start_so_other_writers_wait() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("repository.sqlite");
        let repository = SqliteRepository::open(&path)?;
        repository.put_submodel(&Submodel::new("urn:sm:1"), &|_| Vec::new())?;
        let other = Connection::open(&path)?;
        other.busy_timeout(std::time::Duration::ZERO)?;
        other.execute_batch("CREATE TABLE other_store (x INTEGER)")?;
        let mut other_write = None;
        repository.modify_submodel(
            "urn:sm:1",
            &mut |submodel| {
                // Another connection writes while the change is under way (another process).
                other_write = Some(
                    other
                        .execute("INSERT INTO other_store VALUES (1)", [])
                        .is_ok(),
                );
                submodel.id_short = Some("changed".into());
                Ok(())
            },
            &|_, _, _| Vec::new(),
        )?;
        assert_eq!(other_write, Some(false), "the other writer had to wait");
        assert_eq!(
            repository.submodel("urn:sm:1")?.and_then(|s| s.id_short),
            Some("changed".into())
        );
        Ok(())
    }

    fn shell(id: &str, submodels: &[&str]) -> AssetAdministrationShell {
        let mut shell =
            AssetAdministrationShell::new(id, AssetInformation::new(AssetKind::Instance));
        shell.asset_information.global_asset_id = Some(format!("{id}/asset"));
        if !submodels.is_empty() {
            shell.submodels = Some(
                submodels
                    .iter()
                    .map(|s| Reference::model(vec![Key::new(KeyTypes::Submodel, *s)]))
                    .collect(),
            );
        }
        shell
    }

    #[test]
    fn a_database_records_its_version_and_refuses_another_that_its_data_does_not_fit() -> TestResult
    {
        use aas_model::Version;
        let dir = tempfile::tempdir()?;
        let repository = SqliteRepository::open(&dir.path().join("r.sqlite"))?;
        assert_eq!(repository.recorded_version()?, None, "nothing recorded yet");
        repository.adopt_version(Version::V3_1, false)?;
        assert_eq!(repository.recorded_version()?, Some(Version::V3_1));
        let mut role = shell("urn:aas:role", &[]);
        role.asset_information.asset_kind = AssetKind::Role;
        repository.put_shell(&role, &|_| Vec::new())?;
        repository.put_shell(&shell("urn:aas:plain", &[]), &|_| Vec::new())?;

        let refused = repository.adopt_version(Version::V3_0, false);
        let Err(StorageError::VersionMismatch(change)) = refused else {
            panic!("refused with the report: {refused:?}");
        };
        let named: Vec<&str> = change.problems.iter().map(|p| p.element.as_str()).collect();
        assert_eq!(
            named,
            ["shell \"urn:aas:role\""],
            "only the shell that does not fit"
        );
        let text = StorageError::VersionMismatch(change).to_string();
        assert!(text.contains("--convert-stored-data"), "{text}");
        assert_eq!(
            repository.recorded_version()?,
            Some(Version::V3_1),
            "nothing changed"
        );

        let converted = repository.adopt_version(Version::V3_0, true)?;
        assert_eq!(converted.problems.len(), 1);
        assert_eq!(repository.recorded_version()?, Some(Version::V3_0));
        assert!(
            repository
                .adopt_version(Version::V3_0, false)?
                .problems
                .is_empty(),
            "the same version again checks nothing"
        );
        Ok(())
    }

    /// The lines a version report gives the element named `element` (its heading excluded).
    fn lines_of<'a>(text: &'a str, element: &str) -> Vec<&'a str> {
        text.lines()
            .skip_while(|line| *line != format!("{element}:"))
            .skip(1)
            .take_while(|line| line.starts_with("  "))
            .collect()
    }

    #[test]
    fn a_refused_version_change_lists_each_problem_of_an_element_once() -> TestResult {
        use aas_model::{DataTypeDefXsd, Property, Version};
        let dir = tempfile::tempdir()?;
        let repository = SqliteRepository::open(&dir.path().join("r.sqlite"))?;
        repository.adopt_version(Version::V3_1, false)?;
        let mut submodel = Submodel::new("urn:sm:1");
        let mut wrong = Property::new(DataTypeDefXsd::Int).with_id_short("count");
        wrong.value = Some("many".into());
        submodel.submodel_elements = Some(vec![
            Property::new(DataTypeDefXsd::String)
                .with_id_short("max-speed")
                .into(),
            // Invalid under both versions: not in the report, still what stays invalid.
            wrong.into(),
        ]);
        repository.put_submodel(&submodel, &|_| Vec::new())?;

        let refused = repository.adopt_version(Version::V3_0, false);
        let Err(StorageError::VersionMismatch(change)) = refused else {
            panic!("refused with the report: {refused:?}");
        };
        let text = change.to_string();
        let lines = lines_of(&text, "submodel \"urn:sm:1\"");
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].contains("submodelElements[0].idShort") && !lines[0].contains("under AAS"),
            "the conversion's entry: {text}"
        );
        assert!(
            lines[1].starts_with("  under AAS 3.0: submodelElements[1]")
                && lines[1].contains("valueType"),
            "what stays invalid, once: {text}"
        );
        Ok(())
    }

    #[test]
    fn a_version_report_lists_at_most_20_lines_per_element_and_100_elements() {
        use crate::storage::{MAX_LISTED_PER_ELEMENT, MAX_LISTED_PROBLEMS};
        use aas_model::Version;
        use aas_model::convert::{ConversionEntry, ConversionReport};
        let problem = |n: usize| VersionProblem {
            element: format!("submodel \"urn:sm:{n}\""),
            report: ConversionReport {
                from: Version::V3_1,
                to: Version::V3_0,
                entries: (0..25)
                    .map(|i| ConversionEntry {
                        path: format!("submodelElements[{i}].idShort"),
                        problem: "no hyphens".into(),
                        rule: None,
                    })
                    .collect(),
            },
            findings: (0..5).map(|i| format!("finding {i}")).collect(),
        };
        let change = VersionChange {
            from: Version::V3_1,
            to: Version::V3_0,
            problems: (0..MAX_LISTED_PROBLEMS + 7).map(problem).collect(),
            rewritten: 0,
        };
        let text = change.to_string();
        let lines = lines_of(&text, "submodel \"urn:sm:0\"");
        assert_eq!(lines.len(), MAX_LISTED_PER_ELEMENT + 1, "{text}");
        assert_eq!(lines.last().copied(), Some("  (and 10 more)"));
        assert!(
            !text.contains("finding 0"),
            "findings come after the entries"
        );
        assert!(text.contains("urn:sm:99\"") && !text.contains("urn:sm:100\""));
        assert!(text.ends_with("\n(and 7 more elements)"), "{text}");
    }

    #[test]
    fn an_unknown_recorded_version_is_reported_as_such_not_as_a_corrupt_element() -> TestResult {
        let dir = tempfile::tempdir()?;
        let repository = SqliteRepository::open(&dir.path().join("r.sqlite"))?;
        repository.adopt_version(aas_model::Version::V3_1, false)?;
        repository.lock().execute(
            "UPDATE metadata SET value = 'banana' WHERE key = ?1",
            [VERSION_KEY],
        )?;
        let refused = repository.adopt_version(aas_model::Version::V3_1, false);
        let Err(error @ StorageError::UnknownRecordedVersion { .. }) = refused else {
            panic!("an unknown version: {refused:?}");
        };
        let text = error.to_string();
        assert!(
            text.contains("\"banana\"") && !text.contains("no longer reads"),
            "{text}"
        );
        assert!(matches!(
            repository.recorded_version(),
            Err(StorageError::UnknownRecordedVersion { .. })
        ));
        Ok(())
    }

    #[test]
    fn a_database_without_a_recorded_version_counts_as_3_0() -> TestResult {
        use aas_model::Version;
        let dir = tempfile::tempdir()?;
        let repository = SqliteRepository::open(&dir.path().join("r.sqlite"))?;
        let mut role = shell("urn:aas:role", &[]);
        role.asset_information.asset_kind = AssetKind::Role;
        repository.put_shell(&role, &|_| Vec::new())?;
        // Adopting 3.0 checks nothing: the data is taken as verified under V3.0 already.
        let change = repository.adopt_version(Version::V3_0, false)?;
        assert_eq!((change.from, change.to), (Version::V3_0, Version::V3_0));
        assert_eq!(repository.recorded_version()?, Some(Version::V3_0));
        Ok(())
    }

    #[test]
    fn commits_are_synced_fully_unless_normal_durability_is_asked_for() -> TestResult {
        let dir = tempfile::tempdir()?;
        let synchronous = |options| -> Result<i64, StorageError> {
            let repository = SqliteRepository::open_with(&dir.path().join("r.sqlite"), options)?;
            let level = repository
                .lock()
                .pragma_query_value(None, "synchronous", |row| row.get(0))?;
            Ok(level)
        };
        // SQLite's levels: 1 NORMAL, 2 FULL.
        assert_eq!(synchronous(StorageOptions::default())?, 2);
        let normal = StorageOptions {
            durability: Durability::Normal,
            ..StorageOptions::default()
        };
        assert_eq!(synchronous(normal)?, 1);
        Ok(())
    }

    /// Callers outside the SQLite code ask the classification: SQLite's "disk full" (also
    /// its answer when `max_page_count` is reached) is a full disk, keeping SQLite's message;
    /// other failures are not.
    #[test]
    fn sqlites_full_disk_is_classified_as_a_full_disk_and_other_failures_are_not() {
        let full = StorageError::from(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            Some("database or disk is full".into()),
        ));
        assert!(full.is_disk_full());
        assert_eq!(full.to_string(), "database: database or disk is full");
        let store = StoreError::from(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        ));
        assert!(store.is_disk_full());
        let busy = StorageError::from(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        ));
        assert!(!busy.is_disk_full());
        assert!(!StorageError::from(rusqlite::Error::QueryReturnedNoRows).is_disk_full());
    }

    /// A group's commit copies the failure of the change that rolled it back to every writer
    /// in the group: a full disk stays a full disk for all of them.
    #[test]
    fn a_group_failure_keeps_sqlites_code() {
        let full = StorageError::from(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            Some("database or disk is full".into()),
        ));
        let (code, message) = group_failure(&full);
        let copied = StorageError::from(rusqlite::Error::SqliteFailure(code, message));
        assert!(copied.is_disk_full());
        assert_eq!(copied.to_string(), full.to_string());
    }

    #[test]
    fn a_failing_checkpoint_is_logged_once_and_retried_ever_less_often() {
        let mut backoff = CheckpointBackoff::default();
        assert_eq!(backoff.delay(), CheckpointBackoff::EVERY);
        let full = || {
            Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
                None,
            ))
        };
        assert!(backoff.record(full()), "the first failure is logged");
        let mut delays = vec![backoff.delay()];
        for _ in 0..20 {
            assert!(!backoff.record(full()), "later failures are not logged");
            delays.push(backoff.delay());
        }
        assert!(delays.windows(2).all(|w| w[0] <= w[1]), "{delays:?}");
        assert_eq!(delays.last(), Some(&CheckpointBackoff::LONGEST));
        assert!(backoff.record(Ok(())), "the recovery is logged");
        assert_eq!(backoff.delay(), CheckpointBackoff::EVERY);
        assert!(!backoff.record(Ok(())));
    }

    #[test]
    fn a_change_and_its_events_are_written_together_or_not_at_all() -> TestResult {
        let repository = SqliteRepository::in_memory()?;
        // A trigger makes the event insert fail after the element has been written.
        repository.lock().execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON outbox WHEN NEW.topic = 'refused' \
             BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )?;
        let result = repository.put_submodel(&Submodel::new("urn:sm:1"), &|_| {
            vec![Event::new("refused", Vec::new(), Utc::now())]
        });
        assert!(result.is_err());
        assert_eq!(
            repository.submodel("urn:sm:1")?,
            None,
            "the change was rolled back with its event"
        );
        Ok(())
    }

    #[test]
    fn data_survives_reopening_the_file() -> TestResult {
        let dir = std::env::temp_dir().join(format!("aas-rs-storage-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("repository.sqlite");
        {
            let repository = SqliteRepository::open(&path)?;
            repository.put_submodel(&Submodel::new("urn:sm:kept"), &|_| {
                vec![Event::new("t", b"e".to_vec(), Utc::now())]
            })?;
        }
        let repository = SqliteRepository::open(&path)?;
        assert!(repository.submodel("urn:sm:kept")?.is_some());
        assert_eq!(
            repository.outbox(10)?.len(),
            1,
            "unsent events survive a restart"
        );
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap_or_default()
    }

    /// Stores a submodel with one event at `time`.
    fn change_at(repository: &SqliteRepository, id: &str, time: DateTime<Utc>) -> TestResult {
        repository.put_submodel(&Submodel::new(id), &|_| {
            vec![Event::new(format!("t/{id}"), id.as_bytes().to_vec(), time)]
        })?;
        Ok(())
    }

    #[test]
    fn an_outbox_from_before_the_event_log_is_migrated_and_still_drains() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("repository.sqlite");
        {
            let old = Connection::open(&path)?;
            old.execute_batch(
                "CREATE TABLE outbox (sequence INTEGER PRIMARY KEY AUTOINCREMENT, \
                 topic TEXT NOT NULL, payload BLOB NOT NULL); \
                 INSERT INTO outbox (topic, payload) VALUES ('t/old', X'6f6c64');",
            )?;
        }
        let repository = SqliteRepository::open(&path)?;
        let entries = repository.outbox(10)?;
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].payload.as_deref(), Some(&b"old"[..]));
        change_at(&repository, "urn:sm:new", at(1_000))?;
        assert_eq!(repository.outbox(10)?.len(), 2);
        Ok(())
    }
}
