//! Storage of shells, submodels and concept descriptions behind [`Repository`], and of the
//! push and twin records beside them ([`PushRecords`], [`TwinRecords`]), as the services and
//! the HTTP API see it: async traits that name no database. SQLite is the first implementation ([`sqlite`]); its
//! errors arrive as [`DatabaseError`]s, which callers ask what they mean (a full disk) rather
//! than looking into.
//!
//! Every change and the events it causes are written in one transaction, so an acknowledged
//! change always has its events and no event is made for a change that did not happen. Each
//! event goes to two places:
//!
//! - the **outbox**, which the publisher drains to the broker, deleting an entry after its
//!   PUBACK; an entry that fails `max attempts` times moves to the **dead letters**, from
//!   where an admin can put it back;
//! - the **event log**, kept for the retention period and served as the event feed
//!   (`GET /events`), from which consumers catch up on what they missed.
//!
//! An outbox entry whose payload is empty takes it from the event log entry it names (the
//! complete message is stored once); one with a payload of its own sends that instead (the
//! reference-only message of an event too large to publish, or an entry from before the log).

use std::sync::Arc;

use aas_model::{AssetAdministrationShell, ConceptDescription, Submodel};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use tokio::sync::Notify;

mod database_error;
mod element_write;
mod paging;
mod postgres;
mod sqlite;
mod store_error;
#[cfg(test)]
mod suite;

pub use aas_serde::query::FilterKeys;
pub use database_error::DatabaseError;
pub use postgres::{DEFAULT_JOB_LEASE, PgOptions, PgRepository};
pub use sqlite::{Database, Durability, SqliteRepository, StorageOptions};
pub use store_error::StoreError;

/// Which collection an element lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    Shells,
    Submodels,
    ConceptDescriptions,
}

impl Collection {
    /// What an element of it is called in messages.
    fn noun(self) -> &'static str {
        match self {
            Collection::Shells => "shell",
            Collection::Submodels => "submodel",
            Collection::ConceptDescriptions => "concept description",
        }
    }

    /// The table its elements are stored in (by every backend).
    fn table(self) -> &'static str {
        match self {
            Collection::Shells => "shells",
            Collection::Submodels => "submodels",
            Collection::ConceptDescriptions => "concept_descriptions",
        }
    }
}

/// Microseconds since 1970 UTC: how the outbox and dead letters store times.
fn micros(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

/// Nanoseconds since 1970 UTC: how the event log stores event times, exactly as the messages
/// carry them (times beyond 1677–2262 are clamped).
fn nanos(time: DateTime<Utc>) -> i64 {
    time.timestamp_nanos_opt()
        .unwrap_or(if time.timestamp() < 0 {
            i64::MIN
        } else {
            i64::MAX
        })
}

/// What a named write of the push and twin stores may do: create (and find none of that
/// name), replace (and find one), or either; checked in the transaction that writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    Create,
    Replace,
    CreateOrReplace,
}

/// Whether a write created the element or replaced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Created,
    Replaced,
}

/// What a change to a submodel touches, known inside the transaction that makes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmodelChange {
    pub written: Written,
    /// The shells that refer to the submodel at this time.
    pub affected_shell_ids: Vec<String>,
}

/// A message waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub sequence: i64,
    pub topic: String,
    /// What to publish; `None` if its event log entry is gone (it cannot be sent).
    pub payload: Option<Vec<u8>>,
    /// Failed attempts so far.
    pub attempts: u32,
}

/// An event as the event log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEvent {
    /// Increasing in the order the changes were committed.
    pub sequence: i64,
    pub topic: String,
    pub timestamp: DateTime<Utc>,
    /// The complete message.
    pub payload: Vec<u8>,
    /// Whether it was published as its reference-only message (too large for the transport).
    pub reference_only: bool,
}

/// An outbox entry that could not be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its outbox sequence (kept when it is retried).
    pub sequence: i64,
    /// The event log entry it came from, if any.
    pub event: Option<i64>,
    pub topic: String,
    pub attempts: u32,
    /// Why the last attempt failed.
    pub error: String,
    pub failed_at: DateTime<Utc>,
    /// The size of the message, bytes.
    pub size: usize,
}

/// One page of a listing; `cursor` continues it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub cursor: Option<String>,
}

/// Why storage failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    #[error("database: {0}")]
    Database(#[from] DatabaseError),
    #[error("stored element {id:?} no longer reads")]
    Corrupt {
        id: String,
        #[source]
        source: aas_serde::json::Error,
    },
    /// The task running a storage call on the blocking pool panicked or was cancelled.
    #[error("a storage task ended without an answer")]
    Task(#[from] tokio::task::JoinError),
    #[error("cannot start the checkpoint thread")]
    CheckpointThread(#[source] std::io::Error),
    /// The database records an AAS version this server does not know (the `metadata` table
    /// was edited, or written by a newer server): its data cannot be taken as any version.
    #[error(
        "the database records its data as AAS version {recorded:?} (table metadata, key \
         \"aas-version\"), which is not one this server knows (3.0 or 3.1): restore the record \
         or the database"
    )]
    UnknownRecordedVersion { recorded: String },
    #[error("the paging cursor {0:?} is not one this server gave")]
    BadCursor(String),
    /// The database was migrated by a newer server to a schema this one does not know: it
    /// would misread it, so it does not open it.
    #[error(
        "the database's {store} tables are at schema version {found}, newer than version \
         {known}, the newest this server knows: a newer server migrated it; use a newer server \
         (one that knows schema version {found})"
    )]
    NewerSchema {
        store: String,
        found: u32,
        known: u32,
    },
    #[error("{0} is not stored")]
    NotFound(String),
    /// A create-only write found an element with the same id (checked and written in one
    /// transaction, so of concurrent creates exactly one succeeds).
    #[error("{0} exists")]
    Exists(String),
    #[error(
        "{id:?} would be stored nested deeper than {max} levels of JSON, the most the JSON and \
         XML readers accept (aas_serde::json::MAX_DEPTH, less room for the environment around \
         it): nest elements less deeply"
    )]
    TooDeep { id: String, max: usize },
    /// A change refused by the caller's closure (it says why; the transaction is rolled back).
    #[error("{0}")]
    Refused(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The stored data does not fit the AAS version asked for, and converting it was not
    /// allowed: nothing was changed.
    #[error(
        "{0}\nthe database keeps its data as AAS {from}: start with aas-version {from}, or convert \
         it with --convert-stored-data (convert-stored-data = true; the rules applied are those \
         listed)",
        from = .0.from
    )]
    VersionMismatch(Box<VersionChange>),
}

impl StorageError {
    /// The database could not write because the disk (or the file-size quota) is full: the write
    /// was rolled back and nothing changed, so a client may retry once space is freed.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StorageError::Database(error) if error.is_disk_full())
    }
}

/// What a change closure answers: `Err` refuses the change.
pub type Change<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A stored file: a File or Blob element's attachment, or a shell's thumbnail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub content_type: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// A message to put in the outbox and the event log with a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub topic: String,
    /// The complete message (what the event log keeps).
    pub payload: Vec<u8>,
    /// What is published instead, when the complete message is too large for the transport
    /// (its reference-only message).
    pub published: Option<Vec<u8>>,
    /// When the change happened (what the feed's `since` compares with).
    pub timestamp: DateTime<Utc>,
}

impl Event {
    /// An event published as it is.
    pub fn new(topic: impl Into<String>, payload: Vec<u8>, timestamp: DateTime<Utc>) -> Self {
        Self {
            topic: topic.into(),
            payload,
            published: None,
            timestamp,
        }
    }
}

/// Makes a write's events in two steps, so that what costs in proportion to the element
/// (writing it into each encoding, compressing) is done before the writer lock is taken:
/// storage calls `prepare` first, outside the lock, and what it answers inside the transaction,
/// with the outcome and the shells that refer to the element (a submodel's).
pub trait MakeEvents: Send {
    fn prepare(&self) -> Finish<'_>;
}

/// What [`MakeEvents::prepare`] answers: makes the events from the outcome and the shells that
/// refer to the element.
/// `Send`, since an async backend holds it across the awaits of the transaction.
pub type Finish<'a> = Box<dyn Fn(Written, &[String]) -> Vec<Event> + Send + 'a>;

/// A closure has nothing to prepare.
impl<F: Fn(Written, &[String]) -> Vec<Event> + Send + Sync> MakeEvents for F {
    fn prepare(&self) -> Finish<'_> {
        Box::new(self)
    }
}

// What makes a change's events inside its transaction, under the writer lock, from what the
// transaction saw; owned, as the trait says. (Aliases: `async_trait` would tie the elided
// lifetimes of a closure type in a method's signature to the call.)
/// Makes a write's events ([`MakeEvents`]).
pub type WriteEvents = Box<dyn MakeEvents>;
/// Makes a deletion's events from the shell's last state.
pub type ShellDeleteEvents = Box<dyn Fn(&AssetAdministrationShell) -> Vec<Event> + Send>;
/// Makes a deletion's events from the submodel's last state and the shells referring to it.
pub type SubmodelDeleteEvents = Box<dyn Fn(&Submodel, &[String]) -> Vec<Event> + Send>;
/// Makes an edit's events from the shell as changed and its JSON as stored.
pub type ShellEditEvents = Box<dyn Fn(&AssetAdministrationShell, &str) -> Vec<Event> + Send>;
/// Makes an edit's events from the submodel as changed, its JSON as stored and the outcome.
pub type SubmodelEditEvents = Box<dyn Fn(&Submodel, &str, &SubmodelChange) -> Vec<Event> + Send>;
/// Edits a stored element inside the transaction that stores the result (`Err` refuses).
pub type Edit<T> = Box<dyn FnMut(&mut T) -> Change<()> + Send>;

/// The repository's storage. What a change carries into its transaction (the element, the
/// closures that edit it and make its events under the writer lock) is owned, so that an
/// implementation may run it on a thread of its own (SQLite: the blocking pool).
#[async_trait]
pub trait Repository: Send + Sync {
    async fn shell(&self, id: &str) -> Result<Option<AssetAdministrationShell>, StorageError>;
    /// The shells `filter` keeps, at most `limit`, after `cursor` (one of a previous page;
    /// `BadCursor` if it is not), in the order they were created. A cursor stays valid under
    /// concurrent writes: an element that is not written during the walk is listed once.
    async fn shells_where(
        &self,
        filter: &ShellFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<AssetAdministrationShell>, StorageError>;
    /// Creates or replaces a shell serialized already, with the events `events` makes of the
    /// outcome: `json` (its AAS JSON, as `aas_serde::json::to_string` writes it) is stored as
    /// it is, so that a change is serialized once for storage and events.
    async fn put_shell_serialized(
        &self,
        shell: Arc<AssetAdministrationShell>,
        json: Arc<str>,
        events: WriteEvents,
    ) -> Result<Written, StorageError>;
    /// Creates a shell serialized already, or answers [`StorageError::Exists`] (checked in the
    /// write's transaction).
    async fn create_shell_serialized(
        &self,
        shell: Arc<AssetAdministrationShell>,
        json: Arc<str>,
        events: WriteEvents,
    ) -> Result<(), StorageError>;
    /// Deletes a shell (its last state goes to `events`); `NotFound` if there is none.
    async fn delete_shell(&self, id: &str, events: ShellDeleteEvents) -> Result<(), StorageError>;

    async fn submodel(&self, id: &str) -> Result<Option<Submodel>, StorageError>;
    /// A submodel's JSON without blob values (Part 2's default answer), as stored: the bytes
    /// the server wrote (UTF-8), served as they are rather than checked again at every read.
    async fn submodel_json(&self, id: &str) -> Result<Option<bytes::Bytes>, StorageError>;
    /// An element's whole JSON as stored (`aas_serde::json::to_string` of it), unread.
    async fn stored_json(
        &self,
        collection: Collection,
        id: &str,
    ) -> Result<Option<String>, StorageError>;
    /// The ids of every element of `collection`, in listing order (nothing decoded).
    async fn ids(&self, collection: Collection) -> Result<Vec<String>, StorageError>;
    /// The submodels `filter` keeps, paged as [`Repository::shells_where`].
    async fn submodels_where(
        &self,
        filter: &SubmodelFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Submodel>, StorageError>;
    /// [`Repository::put_shell_serialized`] of a submodel.
    async fn put_submodel_serialized(
        &self,
        submodel: Arc<Submodel>,
        json: Arc<str>,
        events: WriteEvents,
    ) -> Result<SubmodelChange, StorageError>;
    /// [`Repository::create_shell_serialized`] of a submodel.
    async fn create_submodel_serialized(
        &self,
        submodel: Arc<Submodel>,
        json: Arc<str>,
        events: WriteEvents,
    ) -> Result<SubmodelChange, StorageError>;
    async fn delete_submodel(
        &self,
        id: &str,
        events: SubmodelDeleteEvents,
    ) -> Result<(), StorageError>;

    /// Changes a stored submodel in one transaction: `change` edits it (or refuses), then the
    /// result is stored with the events `events` makes of it and of its JSON as stored.
    /// `attach` (idShort path, file) is stored under the File at that path in the same
    /// transaction: the element's value and its bytes change together or not at all. An empty
    /// `content_type` takes the File's `contentType` after the change, an empty `file_name` the
    /// name its value ends with; when the change leaves no File with a value at the path (a
    /// Blob), nothing is stored.
    async fn modify_submodel(
        &self,
        id: &str,
        attach: Option<(String, Attachment)>,
        change: Edit<Submodel>,
        events: SubmodelEditEvents,
    ) -> Result<Arc<Submodel>, StorageError>;
    /// Changes a stored shell in one transaction, like [`Repository::modify_submodel`], storing
    /// its `thumbnail` with it when given.
    async fn modify_shell(
        &self,
        id: &str,
        thumbnail: Option<Attachment>,
        change: Edit<AssetAdministrationShell>,
        events: ShellEditEvents,
    ) -> Result<AssetAdministrationShell, StorageError>;

    /// The file stored under `owner` (`submodel:<id>` or `shell:<id>`) and `path`. Every
    /// write of a submodel or shell drops, in its transaction, the files no element holds any
    /// more (a File without a value, a deleted File, the Files of a deleted collection, a
    /// removed thumbnail).
    async fn attachment(&self, owner: &str, path: &str)
    -> Result<Option<Attachment>, StorageError>;
    /// Stores (or with `None` removes) the file under `owner` and `path`.
    async fn put_attachment(
        &self,
        owner: &str,
        path: &str,
        attachment: Option<Attachment>,
    ) -> Result<(), StorageError>;
    /// Every file stored under `owner`, by path.
    async fn attachments(&self, owner: &str) -> Result<Vec<(String, Attachment)>, StorageError>;

    async fn concept_description(
        &self,
        id: &str,
    ) -> Result<Option<ConceptDescription>, StorageError>;
    /// The concept descriptions `filter` keeps, paged as [`Repository::shells_where`].
    async fn concept_descriptions_where(
        &self,
        filter: &ConceptDescriptionFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<ConceptDescription>, StorageError>;
    async fn put_concept_description(
        &self,
        cd: &ConceptDescription,
    ) -> Result<Written, StorageError>;
    /// Creates a concept description, or answers [`StorageError::Exists`].
    async fn create_concept_description(&self, cd: &ConceptDescription)
    -> Result<(), StorageError>;
    async fn delete_concept_description(&self, id: &str) -> Result<(), StorageError>;

    /// The oldest outbox entries due now (not waiting out a back-off), at most `limit`.
    async fn outbox(&self, limit: usize) -> Result<Vec<OutboxEntry>, StorageError>;
    /// When the next entry waiting out a back-off is due (`None`: none waits).
    async fn outbox_next_due(&self) -> Result<Option<DateTime<Utc>>, StorageError>;
    /// Removes entries once the broker acknowledged them.
    async fn acknowledge(&self, sequences: &[i64]) -> Result<(), StorageError>;
    /// Counts a failed attempt of an entry, which is not tried again before `retry_at`; its
    /// attempts so far.
    async fn record_failure(
        &self,
        sequence: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<u32, StorageError>;
    /// Moves an entry from the outbox to the dead letters.
    async fn dead_letter(&self, sequence: i64, error: &str) -> Result<(), StorageError>;
    /// The dead letters, oldest first.
    async fn dead_letters(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<DeadLetter>, StorageError>;
    /// Moves a dead letter back to the outbox (attempts start again); `NotFound` if none.
    async fn retry_dead_letter(&self, sequence: i64) -> Result<(), StorageError>;
    /// Events of the event log at or after `since`, in commit order; a page ends early once
    /// it holds `max_bytes` of messages (always at least one event).
    async fn events(
        &self,
        since: Option<DateTime<Utc>>,
        limit: usize,
        max_bytes: usize,
        cursor: Option<&str>,
    ) -> Result<Page<LoggedEvent>, StorageError>;
    /// Removes event log entries older than `before` (but not those still to be published);
    /// how many.
    async fn prune_events(&self, before: DateTime<Utc>) -> Result<usize, StorageError>;
    /// Notified after every change that put events in the outbox, so they go out at once.
    fn outbox_signal(&self) -> Arc<Notify>;
    /// Runs `load` (loading a file) with the changes it makes committed together, at most
    /// [`MAX_LOAD_GROUP`] per commit, instead of one commit each. Its changes return before
    /// they are committed; the result says whether all of them were (on an error of `load`,
    /// what it changed before is committed and the error returned).
    async fn in_one_transaction(
        &self,
        load: BoxFuture<'_, Result<usize, StorageError>>,
    ) -> Result<usize, StorageError>;
}

/// Checks, in the transaction that writes a record, what it finds (whether one of that name
/// exists, a referenced record's JSON, how many records refer to it); `Err` stops the write.
pub type Check<T> = Box<dyn Fn(T) -> Result<(), StoreError> + Send>;

/// The push targets (shown redacted, and sealed) and job records beside the repository, as
/// rows of JSON text (the push service reads and writes them).
#[async_trait]
pub trait PushRecords: Send + Sync {
    /// The name and redacted JSON of every target, by name.
    async fn push_targets_shown(&self) -> Result<Vec<(String, String)>, StoreError>;
    async fn push_target_shown(&self, name: &str) -> Result<Option<String>, StoreError>;
    /// Stores a target once `check` (told whether one of that name exists) allows it; whether
    /// one existed.
    async fn put_push_target(
        &self,
        name: &str,
        redacted: &str,
        sealed: &str,
        check: Check<bool>,
    ) -> Result<bool, StoreError>;
    /// `false` if there was none.
    async fn delete_push_target(&self, name: &str) -> Result<bool, StoreError>;
    async fn push_target_sealed(&self, name: &str) -> Result<Option<String>, StoreError>;
    /// The name and sealed configuration of every target.
    async fn push_targets_sealed(&self) -> Result<Vec<(String, String)>, StoreError>;
    async fn push_job(&self, identifier: &str) -> Result<Option<String>, StoreError>;
    /// At most `rows` jobs (sequence, identifier, JSON) before the sequence `before`, newest
    /// first.
    async fn push_jobs(
        &self,
        rows: usize,
        before: Option<i64>,
    ) -> Result<Vec<(i64, String, String)>, StoreError>;
    /// The identifier and JSON of jobs left `processing` by a process that no longer runs
    /// them, oldest first, at most `limit`, now this process's to run. On SQLite (one process)
    /// every job `processing`: the server asks once, when it starts. On PostgreSQL the jobs
    /// whose replica stopped renewing their lease ([`PushRecords::renew_push_job_leases`]),
    /// each claimed by one replica, under a lease of its own.
    async fn claim_unfinished_push_jobs(
        &self,
        limit: usize,
    ) -> Result<Vec<(String, String)>, StoreError>;
    /// Extends the leases of `running`, the jobs this process runs (PostgreSQL; nothing to do
    /// on SQLite, where one process runs them all). A job this process holds but no longer
    /// runs is not renewed: its lease runs out and another replica runs it.
    async fn renew_push_job_leases(&self, running: &[String]) -> Result<(), StoreError>;
    async fn save_push_job(
        &self,
        identifier: &str,
        state: &str,
        json: &str,
    ) -> Result<(), StoreError>;
}

/// The twin platforms and bindings (their credentials sealed) beside the repository, as rows
/// of JSON text (the twin service reads and writes them).
#[async_trait]
pub trait TwinRecords: Send + Sync {
    /// The name and JSON of every platform, by name.
    async fn sdt_platforms(&self) -> Result<Vec<(String, String)>, StoreError>;
    async fn sdt_platform(&self, name: &str) -> Result<Option<String>, StoreError>;
    /// Creates or replaces a platform once `check` (told whether one of that name exists)
    /// allows it.
    async fn put_sdt_platform(
        &self,
        name: &str,
        json: &str,
        check: Check<bool>,
    ) -> Result<(), StoreError>;
    /// Deletes a platform once `check` (told how many twins are bound to it) allows it, in
    /// one transaction; `false` if there was none.
    async fn delete_sdt_platform(&self, name: &str, check: Check<i64>) -> Result<bool, StoreError>;
    /// The submodel id and JSON of every binding, by submodel id.
    async fn sdt_twins(&self) -> Result<Vec<(String, String)>, StoreError>;
    async fn sdt_twin(&self, submodel_id: &str) -> Result<Option<String>, StoreError>;
    async fn sdt_twin_ids(&self) -> Result<Vec<String>, StoreError>;
    /// The submodel id, JSON and sealed credentials of every binding, by submodel id.
    async fn sdt_twins_sealed(&self) -> Result<Vec<(String, String, String)>, StoreError>;
    /// A binding's JSON and sealed credentials.
    async fn sdt_twin_sealed(
        &self,
        submodel_id: &str,
    ) -> Result<Option<(String, String)>, StoreError>;
    /// Stores a binding (`ids`: of the submodel to the platform; `texts`: its JSON and sealed
    /// credentials), once `check_platform` (given the platform's JSON, if stored) and `check_existing` (told whether the submodel is bound)
    /// allow it, both in the transaction that writes.
    async fn put_sdt_twin(
        &self,
        ids: (&str, &str),
        texts: (&str, &str),
        check_platform: Check<Option<String>>,
        check_existing: Check<bool>,
    ) -> Result<(), StoreError>;
    /// `false` if there was none.
    async fn delete_sdt_twin(&self, submodel_id: &str) -> Result<bool, StoreError>;
}

/// Which replica polls which twin (PostgreSQL mode): a twin is polled by the one replica
/// that holds its lease, which lasts as long as that replica's connection to the database.
#[async_trait]
pub trait TwinLeases: Send + Sync {
    /// Takes `twin`'s lease for this replica (`true` also when it holds it already); `false`:
    /// another replica holds it, or the database cannot be reached.
    async fn take(&self, twin: &str) -> bool;
    /// Gives `twin`'s lease up, if this replica holds it.
    async fn release(&self, twin: &str);
    /// The twins whose leases this replica holds: none once its lease connection broke (the
    /// database released them all, and other replicas may have taken them).
    async fn held(&self) -> std::collections::HashSet<String>;
}

/// The most changes of a load ([`Repository::in_one_transaction`]) one commit takes: writers
/// of other threads meanwhile join the open commit and wait for it.
pub const MAX_LOAD_GROUP: usize = 10_000;

/// At most this many elements are listed in a [`VersionChange`]'s text (all are counted).
pub const MAX_LISTED_PROBLEMS: usize = 100;

/// At most this many lines (conversion entries, then findings) are listed per element in a
/// [`VersionChange`]'s text (all are counted).
pub const MAX_LISTED_PER_ELEMENT: usize = 20;

/// What one stored element needs to fit another AAS version: the conversion report and what
/// verification under the new version finds in the converted element beyond the report (data
/// that was invalid before already).
#[derive(Debug, Clone)]
pub struct VersionProblem {
    /// `shell "urn:…"`, `submodel "urn:…"`, `concept description "urn:…"`.
    pub element: String,
    pub report: aas_model::convert::ConversionReport,
    pub findings: Vec<String>,
}

/// Moving the stored data from one AAS version to another: what does not fit, and how many
/// elements were rewritten.
#[derive(Debug, Clone)]
pub struct VersionChange {
    pub from: aas_model::Version,
    pub to: aas_model::Version,
    pub problems: Vec<VersionProblem>,
    /// How many elements were rewritten in the new version.
    pub rewritten: usize,
}

impl VersionChange {
    /// From `from` to `to`, nothing found or rewritten yet.
    pub(crate) fn between(from: aas_model::Version, to: aas_model::Version) -> Self {
        Self {
            from,
            to,
            problems: Vec::new(),
            rewritten: 0,
        }
    }
}

impl std::fmt::Display for VersionChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "stored data from AAS {} to {}: {} element(s) do not fit as they are",
            self.from,
            self.to,
            self.problems.len()
        )?;
        for problem in self.problems.iter().take(MAX_LISTED_PROBLEMS) {
            write!(f, "\n{}:", problem.element)?;
            // One element can have a problem per idShort of a huge submodel: listing them all
            // made a report of tens of megabytes. The first ones say what to fix.
            let entries = problem.report.entries.iter().map(|entry| entry.to_string());
            let findings = problem
                .findings
                .iter()
                .map(|finding| format!("under AAS {}: {finding}", self.to));
            let total = problem.report.entries.len() + problem.findings.len();
            for line in entries.chain(findings).take(MAX_LISTED_PER_ELEMENT) {
                write!(f, "\n  {line}")?;
            }
            if total > MAX_LISTED_PER_ELEMENT {
                write!(f, "\n  (and {} more)", total - MAX_LISTED_PER_ELEMENT)?;
            }
        }
        if self.problems.len() > MAX_LISTED_PROBLEMS {
            write!(
                f,
                "\n(and {} more elements)",
                self.problems.len() - MAX_LISTED_PROBLEMS
            )?;
        }
        Ok(())
    }
}

/// Where a shell's thumbnail is stored (its owner is `shell:<id>`).
pub const THUMBNAIL: &str = "thumbnail";

/// What a listing of shells keeps: every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShellFilter {
    pub id_short: Option<String>,
    /// (name, value) pairs the shell must all have among its specific asset ids; the name
    /// `globalAssetId` also matches the global asset id.
    pub asset_ids: Vec<(String, String)>,
}

/// What a listing of submodels keeps: every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubmodelFilter {
    pub id_short: Option<String>,
    /// The first key's value of the semantic id or of one supplemental semantic id.
    pub semantic_id: Option<String>,
}

/// What a listing of concept descriptions keeps: every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConceptDescriptionFilter {
    pub id_short: Option<String>,
    /// The first key's value of one of its `isCaseOf` references.
    pub is_case_of: Option<String>,
    /// The first key's value of one of its embedded data specifications' `dataSpecification`.
    pub data_specification: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// Events named `name`, whatever the change.
    fn named(name: &str) -> Vec<Event> {
        vec![Event::new(name, Vec::new(), Utc::now())]
    }

    /// The storage traits are used from async code through their trait objects as they are,
    /// on a runtime of one thread (a call that blocked it would stall the test): no hop to the
    /// blocking pool by the caller. A change's events are made in its transaction, in order.
    #[tokio::test]
    async fn the_trait_objects_serve_async_callers_without_a_hop_of_theirs() -> TestResult {
        let sqlite = Arc::new(SqliteRepository::in_memory()?);
        let repository: Arc<dyn Repository> = sqlite.clone();
        let (push, twins): (Arc<dyn PushRecords>, Arc<dyn TwinRecords>) = (sqlite.clone(), sqlite);
        let submodel = Arc::new(Submodel::new("urn:sm:1"));
        let json = aas_serde::json::to_string(&*submodel).into();
        let written = Box::new(|written, _: &[String]| named(&format!("{written:?}")));
        let change = (repository.put_submodel_serialized(submodel.clone(), json, written)).await?;
        assert_eq!(change.written, Written::Created);
        assert_eq!(
            repository.submodel("urn:sm:1").await?.as_ref(),
            Some(&*submodel)
        );
        let edit: Edit<Submodel> = Box::new(|submodel| {
            submodel.category = Some("changed".into());
            Ok(())
        });
        let edited = Box::new(|_: &Submodel, _: &str, _: &SubmodelChange| named("Edited"));
        let changed = repository
            .modify_submodel("urn:sm:1", None, edit, edited)
            .await?;
        assert_eq!(changed.category.as_deref(), Some("changed"));
        let refuse: Edit<Submodel> = Box::new(|_| Err("no".into()));
        let refused = Box::new(|_: &Submodel, _: &str, _: &SubmodelChange| named("Refused"));
        let outcome = repository
            .modify_submodel("urn:sm:1", None, refuse, refused)
            .await;
        assert!(
            matches!(outcome, Err(StorageError::Refused(_))),
            "{outcome:?}"
        );
        let deleted = Box::new(|_: &Submodel, _: &[String]| named("Deleted"));
        repository.delete_submodel("urn:sm:1", deleted).await?;
        assert_eq!(repository.submodel("urn:sm:1").await?, None);
        let logged = repository.events(None, 10, usize::MAX, None).await?.items;
        let topics: Vec<&str> = logged.iter().map(|event| event.topic.as_str()).collect();
        assert_eq!(topics, ["Created", "Edited", "Deleted"]);
        push.save_push_job("job", "processing", "{}").await?;
        let processing = push.claim_unfinished_push_jobs(10).await?;
        assert_eq!(processing, [("job".to_owned(), "{}".to_owned())]);
        let new = Box::new(|exists| match exists {
            false => Ok(()),
            true => Err(StoreError::Exists("platform".into())),
        });
        twins.put_sdt_platform("iot", "{}", new).await?;
        assert_eq!(twins.sdt_platform("iot").await?.as_deref(), Some("{}"));
        Ok(())
    }
}
