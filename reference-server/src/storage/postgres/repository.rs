//! [`PgRepository`]: the repository, its outbox and event log, and the push and twin records
//! (`records.rs`) on PostgreSQL, with the tables and rules of the SQLite backend
//! (`storage/sqlite`), so that both answer the same repository suite (`storage/suite.rs`).
//!
//! # Concurrency
//!
//! Every replica writes through its own pooled connections, in transactions at read committed:
//!
//! - A replace or a change locks the element's row (`FOR UPDATE`) before it reads or writes
//!   it, so changes of one element are serialized across replicas; a create inserts with
//!   `ON CONFLICT DO NOTHING`, so of concurrent creates of one id exactly one succeeds and the
//!   others find it exists, whichever replica they run on.
//! - A change's events are appended last, under a transaction-scoped advisory lock
//!   ([`EVENT_LOCK`]) held until the commit: event sequences then increase in commit order,
//!   so a reader of the event feed that has seen sequence `n` never finds an event below `n`
//!   committed later. The price is that commits of changes with events are serialized (the
//!   lock is held for the events' inserts and the commit, not for the change itself).
//!
//! # What differs from SQLite
//!
//! - Each change commits on its own: there is no group commit (PostgreSQL groups the disk
//!   syncs of concurrent commits itself), and [`Repository::in_one_transaction`] runs a load's
//!   changes as they come.
//! - Nothing is kept decoded or cached in the process: replicas write the same rows.
//! - Times and texts are the same columns (microseconds, nanoseconds, JSON as text, exactly
//!   as written); names are ordered bytewise (`COLLATE "C"`), as SQLite orders them.

use std::sync::{Arc, PoisonError};

use aas_model::{AssetAdministrationShell, ConceptDescription, Submodel};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use futures_util::future::BoxFuture;
use tokio::sync::Notify;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::{PgDatabase, PgError, PgMigration, PgOptions, PgStore};
use crate::storage::element_write::{
    Mode, VERSION_KEY, apply, attachment_at, blob_free_view, check_depth, decode, fit_element,
    recorded_version, unheld_files,
};
use crate::storage::paging::{Condition, cursor_after, listing_cursor, page_of, sequence_cursor};
use crate::storage::{
    Attachment, Collection, ConceptDescriptionFilter, DatabaseError, DeadLetter, Edit, Event,
    FilterKeys, LoggedEvent, OutboxEntry, Page, Repository, ShellDeleteEvents, ShellEditEvents,
    ShellFilter, StorageError, SubmodelChange, SubmodelDeleteEvents, SubmodelEditEvents,
    SubmodelFilter, THUMBNAIL, VersionChange, WriteEvents, Written, micros, nanos,
};

/// The advisory lock a change takes before it appends its events, held until it commits (any
/// fixed number all replicas agree on; this one spells "aas-rsev").
pub const EVENT_LOCK: i64 = 0x6161_732d_7273_6576;

/// The advisory lock held while a replica fits the stored data to its AAS version ("aas-rsvr").
pub const VERSION_LOCK: i64 = 0x6161_732d_7273_7672;

/// The repository's tables: elements with their listing keys, submodel views, shell-submodel
/// links, attachments, the event log, the outbox, dead letters and metadata.
pub const REPOSITORY: PgStore = PgStore {
    name: "repository",
    migrations: &[PgMigration {
        version: 1,
        what: "shells, submodels and concept descriptions with their listing keys, attachments, \
               the event log, the outbox and dead letters",
        sql: "
CREATE TABLE shells (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id TEXT NOT NULL UNIQUE,
    json TEXT NOT NULL);
CREATE TABLE submodels (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id TEXT NOT NULL UNIQUE,
    json TEXT NOT NULL);
CREATE TABLE concept_descriptions (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id TEXT NOT NULL UNIQUE,
    json TEXT NOT NULL);
CREATE TABLE shells_keys (
    kind TEXT NOT NULL, value TEXT NOT NULL,
    owner BIGINT NOT NULL REFERENCES shells(seq) ON DELETE CASCADE,
    PRIMARY KEY (kind, value, owner));
CREATE INDEX shells_keys_by_owner ON shells_keys (owner);
CREATE TABLE submodels_keys (
    kind TEXT NOT NULL, value TEXT NOT NULL,
    owner BIGINT NOT NULL REFERENCES submodels(seq) ON DELETE CASCADE,
    PRIMARY KEY (kind, value, owner));
CREATE INDEX submodels_keys_by_owner ON submodels_keys (owner);
CREATE TABLE concept_descriptions_keys (
    kind TEXT NOT NULL, value TEXT NOT NULL,
    owner BIGINT NOT NULL REFERENCES concept_descriptions(seq) ON DELETE CASCADE,
    PRIMARY KEY (kind, value, owner));
CREATE INDEX concept_descriptions_keys_by_owner ON concept_descriptions_keys (owner);
CREATE TABLE submodel_views (id TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE shell_submodels (
    shell_id TEXT NOT NULL REFERENCES shells(id) ON DELETE CASCADE,
    submodel_id TEXT NOT NULL,
    PRIMARY KEY (shell_id, submodel_id));
CREATE INDEX shell_submodels_by_submodel ON shell_submodels (submodel_id);
CREATE TABLE attachments (
    owner TEXT NOT NULL, path TEXT NOT NULL, content_type TEXT NOT NULL,
    file_name TEXT NOT NULL, bytes BYTEA NOT NULL, PRIMARY KEY (owner, path));
CREATE TABLE event_log (
    sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, topic TEXT NOT NULL,
    time_ns BIGINT NOT NULL, payload BYTEA NOT NULL, reference_only BOOLEAN NOT NULL);
CREATE INDEX event_log_by_time ON event_log (time_ns);
-- element: the shell or submodel the event is about (its events go out in commit order);
-- claimed_by, claimed_until_us: the replica publishing it, and until when (its lease).
CREATE TABLE outbox (
    sequence BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, topic TEXT NOT NULL,
    payload BYTEA NOT NULL, event BIGINT, attempts INTEGER NOT NULL DEFAULT 0,
    due_us BIGINT NOT NULL DEFAULT 0, error TEXT, element TEXT, claimed_by TEXT,
    claimed_until_us BIGINT NOT NULL DEFAULT 0);
CREATE INDEX outbox_by_event ON outbox (event);
CREATE INDEX outbox_by_due ON outbox (due_us);
CREATE INDEX outbox_by_element ON outbox (element, sequence);
CREATE TABLE dead_letters (
    sequence BIGINT PRIMARY KEY, topic TEXT NOT NULL, payload BYTEA NOT NULL, event BIGINT,
    attempts INTEGER NOT NULL, error TEXT NOT NULL, failed_us BIGINT NOT NULL, element TEXT);
CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL);
",
    }],
};

/// The push targets (redacted and sealed) and job records.
pub const PUSH: PgStore = PgStore {
    name: "push",
    migrations: &[PgMigration {
        version: 1,
        what: "push targets and jobs",
        sql: "
CREATE TABLE push_targets (name TEXT PRIMARY KEY, redacted TEXT NOT NULL, sealed TEXT NOT NULL);
-- owner, lease_until_us: the replica running a job `processing`, and until when (its lease).
CREATE TABLE push_jobs (
    sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, identifier TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL, json TEXT NOT NULL, owner TEXT,
    lease_until_us BIGINT NOT NULL DEFAULT 0);
CREATE INDEX push_jobs_by_state ON push_jobs (state, lease_until_us);
",
    }],
};

/// The synchronized twins' platforms and bindings (credentials sealed).
pub const TWINS: PgStore = PgStore {
    name: "twins",
    migrations: &[PgMigration {
        version: 1,
        what: "twin platforms and bindings",
        sql: "
CREATE TABLE sdt_platforms (name TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE sdt_twins (submodel_id TEXT PRIMARY KEY, json TEXT NOT NULL, sealed TEXT NOT NULL);
",
    }],
};

/// Every store on the database: opening migrates them all.
pub const STORES: [PgStore; 3] = [REPOSITORY, PUSH, TWINS];

/// How long a replica's claim on outbox entries lasts ([`PgRepository::leases`]): entries a
/// replica claimed and did not publish within it (it died) go to another one.
pub const DEFAULT_OUTBOX_LEASE: std::time::Duration = std::time::Duration::from_secs(10);

/// How long a replica's lease on a push job lasts unless renewed: a job whose replica died is
/// run again by another after it.
pub const DEFAULT_JOB_LEASE: std::time::Duration = std::time::Duration::from_secs(15);

/// The channel a commit with events notifies (`NOTIFY`): a doorbell for every replica's
/// publisher, which otherwise looks every few seconds.
pub const OUTBOX_CHANNEL: &str = "aas_outbox";

/// The leases a replica takes, and its name in them.
#[derive(Debug, Clone)]
pub struct Leases {
    /// This replica's name in claims and leases: unique per process.
    pub replica: Arc<str>,
    /// [`DEFAULT_OUTBOX_LEASE`].
    pub outbox: std::time::Duration,
    /// [`DEFAULT_JOB_LEASE`].
    pub job: std::time::Duration,
}

impl Default for Leases {
    fn default() -> Self {
        Self {
            replica: replica_name().into(),
            outbox: DEFAULT_OUTBOX_LEASE,
            job: DEFAULT_JOB_LEASE,
        }
    }
}

/// A name no other process takes: 64 random bits, hex.
fn replica_name() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    match ring::rand::SystemRandom::new().fill(&mut bytes) {
        Ok(()) => format!("{:016x}", u64::from_be_bytes(bytes)),
        // No randomness from the system: the process id and the time still differ.
        Err(_) => format!(
            "{}-{}",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ),
    }
}

/// The repository and the records beside it on a PostgreSQL database.
#[derive(Clone)]
pub struct PgRepository {
    pub(super) database: PgDatabase,
    outbox_signal: Arc<Notify>,
    pub(super) leases: Leases,
    /// When this replica's publisher last claimed entries: its claims are renewed only while
    /// it keeps claiming ([`CLAIMING`]).
    last_claim: Arc<std::sync::Mutex<std::time::Instant>>,
}

/// How long after its publisher's last claim a replica still renews its claims: longer than
/// the publisher's longest round (two publishes of 30 s each when one fails, then a back-off
/// of up to 5 s). A publisher that stopped (its task ended) loses its claims then.
const CLAIMING: std::time::Duration = std::time::Duration::from_secs(120);

impl std::fmt::Debug for PgRepository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgRepository")
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

/// Parameters of a statement.
type Params<'a> = [&'a (dyn ToSql + Sync)];

/// Runs `sql` through the connection's statement cache: prepared once per connection, not at
/// every call (a statement given as text costs a round trip of its own to prepare).
pub(super) async fn query(
    client: &impl GenericClient,
    sql: &str,
    params: &Params<'_>,
) -> Result<Vec<Row>, tokio_postgres::Error> {
    let statement = client.prepare_cached(sql).await?;
    client.query(&statement, params).await
}

/// [`query`] of at most one row.
pub(super) async fn query_opt(
    client: &impl GenericClient,
    sql: &str,
    params: &Params<'_>,
) -> Result<Option<Row>, tokio_postgres::Error> {
    let statement = client.prepare_cached(sql).await?;
    client.query_opt(&statement, params).await
}

/// [`query`] of a statement that returns no rows; how many it changed.
pub(super) async fn execute(
    client: &impl GenericClient,
    sql: &str,
    params: &Params<'_>,
) -> Result<u64, tokio_postgres::Error> {
    let statement = client.prepare_cached(sql).await?;
    client.execute(&statement, params).await
}

/// A column of microseconds ([`micros`]) as a time (out of range only if edited).
fn from_micros(us: i64) -> Result<DateTime<Utc>, StorageError> {
    DateTime::from_timestamp_micros(us).ok_or_else(|| {
        StorageError::Database(DatabaseError::new(
            crate::storage::database_error::DatabaseErrorKind::Other,
            format!("stored time {us} µs is out of range"),
        ))
    })
}

/// A count or size column as a `usize`/`u32` (negative only if edited).
fn unsigned<T: TryFrom<i64>>(value: i64, what: &str) -> Result<T, StorageError> {
    T::try_from(value).map_err(|_| {
        StorageError::Database(DatabaseError::new(
            crate::storage::database_error::DatabaseErrorKind::Other,
            format!("stored {what} {value} is out of range"),
        ))
    })
}

impl PgRepository {
    /// Connects to the database at `url` (libpq's URL) and brings its tables to the newest
    /// schema (one replica migrates, the others wait for it).
    pub async fn open(url: &str, options: &PgOptions) -> Result<Self, PgError> {
        let database = PgDatabase::open(url, options, &STORES).await?;
        Ok(Self::on(database, Leases::default()))
    }

    /// [`PgRepository::open`] with other leases (tests shorten them).
    #[cfg(test)]
    pub async fn open_with(url: &str, leases: Leases) -> Result<Self, PgError> {
        let database = PgDatabase::open(url, &PgOptions::default(), &STORES).await?;
        Ok(Self::on(database, leases))
    }

    /// The repository on a database opened with [`STORES`]. For as long as it (or a clone)
    /// lives, two tasks run beside it, so call it inside a Tokio runtime: one wakes its
    /// publisher at commits of other replicas too (it listens on [`OUTBOX_CHANNEL`],
    /// reconnecting when the connection breaks); one renews its claims on outbox entries
    /// every third of their lease, so that they stay this replica's while it publishes
    /// (however long a slow broker takes) and go to another only when it stopped.
    fn on(database: PgDatabase, leases: Leases) -> Self {
        let outbox_signal = Arc::new(Notify::new());
        listen(database.config.clone(), Arc::downgrade(&outbox_signal));
        let last_claim = Arc::new(std::sync::Mutex::new(std::time::Instant::now()));
        renew_outbox_claims(
            database.clone(),
            leases.clone(),
            Arc::downgrade(&last_claim),
        );
        Self {
            database,
            outbox_signal,
            leases,
            last_claim,
        }
    }

    /// The twins' leases of this replica, on the same database.
    pub fn twin_leases(&self) -> super::PgTwinLeases {
        super::PgTwinLeases::new(&self.database)
    }

    pub(super) async fn client(&self) -> Result<deadpool_postgres::Object, StorageError> {
        Ok(self.database.connection().await?)
    }

    /// Makes `to` the version of the stored data, as [`crate::storage::SqliteRepository::adopt_version`]
    /// does; a database without a record takes `to` (PostgreSQL mode records it from the start).
    /// Replicas starting together fit the data one at a time ([`VERSION_LOCK`]).
    pub async fn adopt_version(
        &self,
        to: aas_model::Version,
        allow_loss: bool,
    ) -> Result<VersionChange, StorageError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        execute(&tx, "SELECT pg_advisory_xact_lock($1)", &[&VERSION_LOCK]).await?;
        let recorded = query_opt(
            &tx,
            "SELECT value FROM metadata WHERE key = $1",
            &[&VERSION_KEY],
        )
        .await?
        .map(|row| row.get(0));
        let from = recorded_version(recorded, to)?;
        let mut change = VersionChange::between(from, to);
        if from != to {
            let fitting = ((from, to), allow_loss);
            // Each collection page by page: the elements that need it rewritten by `$rewrite`.
            macro_rules! fit {
                ($element:ty, $collection:expr, |$fitted:ident| $rewrite:expr) => {{
                    let mut after = 0;
                    loop {
                        let (last, fitted) =
                            fit_page::<$element>(&tx, $collection, after, fitting, &mut change)
                                .await?;
                        for $fitted in fitted {
                            $rewrite;
                            change.rewritten += 1;
                        }
                        let Some(last) = last else { break };
                        after = last;
                    }
                }};
            }
            let replace = Mode::CreateOrReplace;
            fit!(AssetAdministrationShell, Collection::Shells, |shell| {
                let json = aas_serde::json::to_string(&shell);
                shell_in(&tx, &shell, &json, replace, None).await?
            });
            fit!(Submodel, Collection::Submodels, |submodel| {
                let json = aas_serde::json::to_string(&submodel);
                submodel_in(&tx, &submodel, &json, replace, None).await?
            });
            fit!(ConceptDescription, Collection::ConceptDescriptions, |cd| {
                let json = aas_serde::json::to_string(&cd);
                let collection = Collection::ConceptDescriptions;
                write(&tx, collection, &cd.id, &json, &cd.filter_keys(), replace).await?
            });
            if !change.problems.is_empty() && !allow_loss {
                return Err(StorageError::VersionMismatch(Box::new(change)));
            }
        }
        execute(
            &tx,
            "INSERT INTO metadata (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&VERSION_KEY, &to.as_str()],
        )
        .await?;
        tx.commit().await?;
        Ok(change)
    }

    /// Commits a change and wakes this replica's publisher.
    async fn commit(&self, tx: deadpool_postgres::Transaction<'_>) -> Result<(), StorageError> {
        tx.commit().await?;
        self.outbox_signal.notify_one();
        Ok(())
    }

    async fn get<T: aas_serde::json::FromJson>(
        &self,
        collection: Collection,
        id: &str,
    ) -> Result<Option<T>, StorageError> {
        let json = self.stored_json(collection, id).await?;
        json.map(|json| decode(id, &json)).transpose()
    }

    /// One page of `collection` with `conditions` after `cursor`.
    async fn list<T: aas_serde::json::FromJson>(
        &self,
        collection: Collection,
        conditions: &[Condition<'_>],
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<T>, StorageError> {
        let table = collection.table();
        let after = listing_cursor(table, cursor)?;
        // One more than asked tells whether there is a next page.
        let rows = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::new();
        for condition in conditions {
            params.push(&condition.kind);
            params.push(&condition.value);
        }
        params.push(&after);
        params.push(&rows);
        let client = self.client().await?;
        let found = query(&client, &page_sql(table, conditions.len()), &params).await?;
        let mut items = Vec::with_capacity(found.len());
        for row in found {
            let (seq, id, json): (i64, String, String) = (row.get(0), row.get(1), row.get(2));
            items.push((seq, decode(&id, &json)?));
        }
        Ok(page_of(items, limit, |seq| cursor_after(table, *seq)))
    }
}

/// The page query: `$1, $2…` are the conditions' kinds and values in turn, then the cursor's
/// `seq` and the row count. The first condition leads (its index range yields the matching
/// elements in seq order from the cursor on); the others are index look-ups per row.
fn page_sql(table: &str, conditions: usize) -> String {
    let mut sql = if conditions == 0 {
        format!("SELECT t.seq, t.id, t.json FROM {table} AS t WHERE TRUE")
    } else {
        format!(
            "SELECT t.seq, t.id, t.json FROM {table}_keys AS l \
             JOIN {table} AS t ON t.seq = l.owner WHERE l.kind = $1 AND l.value = $2"
        )
    };
    for n in 1..conditions {
        let (kind, value) = (2 * n + 1, 2 * n + 2);
        sql += &format!(
            " AND EXISTS (SELECT 1 FROM {table}_keys AS k \
             WHERE k.kind = ${kind} AND k.value = ${value} AND k.owner = t.seq)"
        );
    }
    let key = if conditions == 0 { "t.seq" } else { "l.owner" };
    let (after, rows) = (2 * conditions + 1, 2 * conditions + 2);
    sql + &format!(" AND {key} > ${after} ORDER BY {key} LIMIT ${rows}")
}

/// Claims the due entries for a replica (`$3`) for `$4` µs (by the database's clock, as
/// [`DB_NOW_US`]): the oldest `$2` due at `$1`
/// that no other replica holds (another's claim that lapsed is taken over), skipping rows
/// another replica is claiming this moment (`SKIP LOCKED`). An entry is left out while an
/// earlier entry of its element is due and not among those claimed: another replica holds
/// it, and publishing this one first would break the element's order. An entry that waits
/// out a back-off does not hold the later ones back (as on SQLite). Returns the claimed
/// entries with the event log's message where the entry holds none.
const CLAIM_OUTBOX: &str = "
WITH candidates AS (
    SELECT sequence FROM outbox
    WHERE due_us <= $1
      AND (claimed_until_us < (extract(epoch from clock_timestamp()) * 1000000)::bigint
           OR claimed_by = $3)
    ORDER BY sequence LIMIT $2
    FOR UPDATE SKIP LOCKED),
claimed AS (
    UPDATE outbox o SET claimed_by = $3,
        claimed_until_us = (extract(epoch from clock_timestamp()) * 1000000)::bigint + $4
    FROM candidates c
    WHERE o.sequence = c.sequence AND NOT EXISTS (
        SELECT 1 FROM outbox e
        WHERE e.element = o.element AND e.sequence < o.sequence AND e.due_us <= $1
          AND e.sequence NOT IN (SELECT sequence FROM candidates))
    RETURNING o.sequence, o.topic, o.payload, o.event, o.attempts)
SELECT c.sequence, c.topic,
    CASE WHEN octet_length(c.payload) = 0 AND c.event IS NOT NULL
    THEN (SELECT l.payload FROM event_log l WHERE l.sequence = c.event) ELSE c.payload END,
    c.attempts
FROM claimed c ORDER BY c.sequence";

/// Now in microseconds since 1970 by the database's clock: what leases are taken and compared
/// by, so that replicas whose clocks differ agree on when a lease ran out.
pub(super) const DB_NOW_US: &str = "(extract(epoch from clock_timestamp()) * 1000000)::bigint";

/// A duration in microseconds, for the database.
pub(super) fn micros_of(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// Every third of the outbox lease, extends this replica's claims (see [`PgRepository::on`])
/// while its publisher claimed within [`CLAIMING`], until the repository is dropped. Rows
/// locked meanwhile (an acknowledgement deleting them) are skipped, not waited for: two
/// statements locking several rows in different orders could deadlock.
fn renew_outbox_claims(
    database: PgDatabase,
    leases: Leases,
    last_claim: std::sync::Weak<std::sync::Mutex<std::time::Instant>>,
) {
    tokio::spawn(async move {
        let sql = format!(
            "UPDATE outbox SET claimed_until_us = {DB_NOW_US} + $2 WHERE sequence IN \
             (SELECT sequence FROM outbox WHERE claimed_by = $1 FOR UPDATE SKIP LOCKED)"
        );
        loop {
            tokio::time::sleep(leases.outbox / 3).await;
            let Some(last_claim) = last_claim.upgrade() else {
                return;
            };
            let claimed = *last_claim.lock().unwrap_or_else(PoisonError::into_inner);
            drop(last_claim);
            if claimed.elapsed() > CLAIMING {
                continue;
            }
            let renewed = async {
                let client = database.connection().await?;
                let params: [&(dyn ToSql + Sync); 2] =
                    [&&*leases.replica, &micros_of(leases.outbox)];
                execute(&client, &sql, &params).await?;
                Ok::<_, StorageError>(())
            };
            if let Err(error) = renewed.await {
                tracing::warn!(%error, "cannot renew this replica's claims on outbox entries");
            }
        }
    });
}

/// Wakes `signal` at every notification on [`OUTBOX_CHANNEL`], on a connection of its own,
/// reconnecting (with back-off) when it breaks, until `signal` is dropped. After each
/// (re)connection it wakes `signal` once: notifications sent meanwhile are lost.
fn listen(config: tokio_postgres::Config, signal: std::sync::Weak<Notify>) {
    const RECONNECT: events_core::Backoff = events_core::Backoff::new(
        std::time::Duration::from_millis(200),
        std::time::Duration::from_secs(10),
    );
    tokio::spawn(async move {
        use futures_util::StreamExt;
        let mut retry = RECONNECT.retry();
        loop {
            match config.connect(tokio_postgres::NoTls).await {
                Ok((client, mut connection)) => {
                    let (ring, mut rung) = tokio::sync::mpsc::unbounded_channel();
                    // The connection delivers notifications only while it is polled.
                    let driver = tokio::spawn(async move {
                        let mut messages =
                            futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                        while let Some(Ok(message)) = messages.next().await {
                            if let tokio_postgres::AsyncMessage::Notification(_) = message {
                                let _ = ring.send(());
                            }
                        }
                    });
                    let listening = format!("LISTEN {OUTBOX_CHANNEL}");
                    if client.batch_execute(&listening).await.is_ok() {
                        retry = RECONNECT.retry();
                        // Rung once: what other replicas committed meanwhile rang no bell.
                        let Some(strong) = signal.upgrade() else {
                            return;
                        };
                        strong.notify_one();
                        drop(strong);
                        while rung.recv().await.is_some() {
                            let Some(strong) = signal.upgrade() else {
                                return;
                            };
                            strong.notify_one();
                        }
                    }
                    driver.abort();
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for other replicas' events: polling");
                }
            }
            if signal.strong_count() == 0 {
                return;
            }
            tokio::time::sleep(retry.failed()).await;
        }
    });
}

/// One page of `collection` checked for another version (see [`fit_element`]): the last seq
/// read (`None`: the collection is done) and the elements to rewrite.
async fn fit_page<T>(
    tx: &deadpool_postgres::Transaction<'_>,
    collection: Collection,
    after: i64,
    (versions, allow_loss): ((aas_model::Version, aas_model::Version), bool),
    change: &mut VersionChange,
) -> Result<(Option<i64>, Vec<T>), StorageError>
where
    T: aas_serde::json::FromJson + aas_model::convert::Convertible + PartialEq + Clone,
    for<'a> &'a T: Into<aas_model::Node<'a>>,
{
    let sql = format!(
        "SELECT seq, id, json FROM {} WHERE seq > $1 ORDER BY seq LIMIT 100",
        collection.table()
    );
    let rows = query(tx, &sql, &[&after]).await?;
    let mut fitted = Vec::new();
    let mut last = None;
    for row in rows {
        let (seq, id, json): (i64, String, String) = (row.get(0), row.get(1), row.get(2));
        last = Some(seq);
        if let Some(converted) =
            fit_element(collection, (&id, &json), versions, allow_loss, change)?
        {
            fitted.push(converted);
        }
    }
    Ok((last, fitted))
}

/// Writes an element's row and its listing keys in `tx`. A replace locks the row first; a
/// create inserts with `ON CONFLICT DO NOTHING`, which waits for a concurrent create of the
/// same id to commit and then finds it: of concurrent creates exactly one succeeds.
async fn write(
    tx: &deadpool_postgres::Transaction<'_>,
    collection: Collection,
    id: &str,
    json: &str,
    keys: &[(String, String)],
    mode: Mode,
) -> Result<Written, StorageError> {
    check_depth(id, json)?;
    let table = collection.table();
    let locked = format!("SELECT seq FROM {table} WHERE id = $1 FOR UPDATE");
    let insert = format!(
        "INSERT INTO {table} (id, json) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING seq"
    );
    let mut found = None;
    // Each round sees what committed before it: a create that raced this one is found by the
    // next look; a create and delete by others between two looks, by the next insert.
    for _ in 0..3 {
        if let Some(row) = query_opt(tx, &locked, &[&id]).await? {
            found = Some((row.get::<_, i64>(0), Written::Replaced));
            break;
        }
        if let Some(row) = query_opt(tx, &insert, &[&id, &json]).await? {
            found = Some((row.get(0), Written::Created));
            break;
        }
    }
    let Some((seq, written)) = found else {
        return Err(StorageError::Database(DatabaseError::new(
            crate::storage::database_error::DatabaseErrorKind::Other,
            format!(
                "{} {id:?} was created and deleted by others three times over while this write ran",
                collection.noun()
            ),
        )));
    };
    if written == Written::Replaced {
        if mode == Mode::CreateOnly {
            return Err(StorageError::Exists(format!(
                "{} {id:?}",
                collection.noun()
            )));
        }
        let update = format!("UPDATE {table} SET json = $2 WHERE seq = $1");
        execute(tx, &update, &[&seq, &json]).await?;
        execute(
            tx,
            &format!("DELETE FROM {table}_keys WHERE owner = $1"),
            &[&seq],
        )
        .await?;
    }
    if !keys.is_empty() {
        let (kinds, values): (Vec<&str>, Vec<&str>) = keys
            .iter()
            .map(|(kind, value)| (kind.as_str(), value.as_str()))
            .unzip();
        let insert = format!(
            "INSERT INTO {table}_keys (kind, value, owner) \
             SELECT k, v, $3 FROM unnest($1::text[], $2::text[]) AS u(k, v) \
             ON CONFLICT DO NOTHING"
        );
        execute(tx, &insert, &[&kinds, &values, &seq]).await?;
    }
    Ok(written)
}

/// Takes [`EVENT_LOCK`] for the rest of `tx` (see the module's documentation). Taken before a
/// change's events are made: what making them takes in order (the repository service's place
/// of the change) is then taken in commit order.
async fn lock_event_order(tx: &deadpool_postgres::Transaction<'_>) -> Result<(), StorageError> {
    execute(tx, "SELECT pg_advisory_xact_lock($1)", &[&EVENT_LOCK]).await?;
    Ok(())
}

/// Adds a change's events to the event log and the outbox, after [`lock_event_order`];
/// `element` names what they are about (`shells:<id>`, `submodels:<id>`): its events are
/// published in commit order. The commit rings every replica's doorbell.
async fn append_events(
    tx: &deadpool_postgres::Transaction<'_>,
    element: &str,
    events: Vec<Event>,
) -> Result<(), StorageError> {
    if events.is_empty() {
        return Ok(());
    }
    let notify = format!("NOTIFY {OUTBOX_CHANNEL}");
    execute(tx, &notify, &[]).await?;
    for event in events {
        let reference_only = event.published.is_some();
        // Empty: the complete message, read from the log when it is published.
        let published = event.published.unwrap_or_default();
        execute(
            tx,
            "WITH logged AS (INSERT INTO event_log (topic, time_ns, payload, reference_only) \
             VALUES ($1, $2, $3, $4) RETURNING sequence) \
             INSERT INTO outbox (topic, payload, event, element) \
             SELECT $1, $5, sequence, $6 FROM logged",
            &[
                &event.topic,
                &nanos(event.timestamp),
                &event.payload,
                &reference_only,
                &published,
                &element,
            ],
        )
        .await?;
    }
    Ok(())
}

async fn store_attachment(
    tx: &deadpool_postgres::Transaction<'_>,
    owner: &str,
    path: &str,
    a: &Attachment,
) -> Result<(), StorageError> {
    execute(
        tx,
        "INSERT INTO attachments (owner, path, content_type, file_name, bytes) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (owner, path) DO UPDATE SET \
         content_type = excluded.content_type, file_name = excluded.file_name, \
         bytes = excluded.bytes",
        &[&owner, &path, &a.content_type, &a.file_name, &a.bytes],
    )
    .await?;
    Ok(())
}

/// Keeps the files of `owner` with the elements that hold them ([`unheld_files`]).
async fn drop_unheld_files(
    tx: &deadpool_postgres::Transaction<'_>,
    owner: &str,
    holds: &(dyn Fn(&str, &str) -> bool + Sync),
    holders: &(dyn Fn(&str) -> Vec<String> + Sync),
) -> Result<(), StorageError> {
    let rows = query(
        tx,
        "SELECT path, file_name FROM attachments WHERE owner = $1",
        &[&owner],
    )
    .await?;
    let rows = rows.iter().map(|row| (row.get(0), row.get(1))).collect();
    let unheld = unheld_files(rows, holds, holders);
    let park = "UPDATE attachments SET path = $3 WHERE owner = $1 AND path = $2";
    for (n, (path, _)) in unheld.iter().enumerate() {
        execute(tx, park, &[&owner, path, &format!(" moving {n}")]).await?;
    }
    for (n, (_, to)) in unheld.iter().enumerate() {
        let parked = format!(" moving {n}");
        match to {
            Some(to) => execute(tx, park, &[&owner, &parked, to]).await?,
            None => {
                execute(
                    tx,
                    "DELETE FROM attachments WHERE owner = $1 AND path = $2",
                    &[&owner, &parked],
                )
                .await?
            }
        };
    }
    Ok(())
}

/// Writes a submodel in `tx` with what goes with it, as the SQLite backend does: its blob-free
/// view, the attached file, its files kept with the Files naming them.
async fn submodel_in(
    tx: &deadpool_postgres::Transaction<'_>,
    submodel: &Submodel,
    json: &str,
    mode: Mode,
    attach: Option<(&str, &Attachment)>,
) -> Result<SubmodelChange, StorageError> {
    let id = submodel.id.as_str();
    let keys = submodel.filter_keys();
    let written = write(tx, Collection::Submodels, id, json, &keys, mode).await?;
    match blob_free_view(submodel, json) {
        Some(view) => {
            execute(
                tx,
                "INSERT INTO submodel_views (id, json) VALUES ($1, $2) \
                 ON CONFLICT (id) DO UPDATE SET json = excluded.json",
                &[&id, &view],
            )
            .await?
        }
        None => execute(tx, "DELETE FROM submodel_views WHERE id = $1", &[&id]).await?,
    };
    let owner = format!("submodel:{id}");
    if let Some((path, attachment)) = attach {
        let attachment = attachment_at(submodel, path, attachment);
        store_attachment(tx, &owner, path, &attachment).await?;
    }
    drop_unheld_files(
        tx,
        &owner,
        &|path, name| submodel.holds_file_named(path, name),
        &|name| submodel.files_named(name),
    )
    .await?;
    Ok(SubmodelChange {
        written,
        affected_shell_ids: affected_shells(tx, id).await?,
    })
}

/// Writes a shell in `tx` with what goes with it: the thumbnail given, its files kept with its
/// `defaultThumbnail`, its submodel references.
async fn shell_in(
    tx: &deadpool_postgres::Transaction<'_>,
    shell: &AssetAdministrationShell,
    json: &str,
    mode: Mode,
    thumbnail: Option<&Attachment>,
) -> Result<Written, StorageError> {
    let keys = shell.filter_keys();
    let written = write(tx, Collection::Shells, &shell.id, json, &keys, mode).await?;
    let owner = format!("shell:{}", shell.id);
    if let Some(thumbnail) = thumbnail {
        store_attachment(tx, &owner, THUMBNAIL, thumbnail).await?;
    }
    drop_unheld_files(
        tx,
        &owner,
        &|path, name| path == THUMBNAIL && shell.thumbnail_names(name),
        &|_| Vec::new(),
    )
    .await?;
    execute(
        tx,
        "DELETE FROM shell_submodels WHERE shell_id = $1",
        &[&shell.id],
    )
    .await?;
    let submodels: Vec<&str> = (shell.submodels.iter().flatten())
        .filter_map(|reference| reference.keys.first())
        .map(|key| key.value.as_str())
        .collect();
    if !submodels.is_empty() {
        execute(
            tx,
            "INSERT INTO shell_submodels (shell_id, submodel_id) \
             SELECT $1, s FROM unnest($2::text[]) AS u(s) ON CONFLICT DO NOTHING",
            &[&shell.id, &submodels],
        )
        .await?;
    }
    Ok(written)
}

/// The shells that refer to the submodel, sorted bytewise.
async fn affected_shells(
    tx: &deadpool_postgres::Transaction<'_>,
    submodel_id: &str,
) -> Result<Vec<String>, StorageError> {
    let rows = query(
        tx,
        "SELECT shell_id FROM shell_submodels WHERE submodel_id = $1 \
         ORDER BY shell_id COLLATE \"C\"",
        &[&submodel_id],
    )
    .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// The element `id`'s JSON, its row locked for the rest of `tx`.
async fn locked_json(
    tx: &deadpool_postgres::Transaction<'_>,
    collection: Collection,
    id: &str,
) -> Result<String, StorageError> {
    let sql = format!(
        "SELECT json FROM {} WHERE id = $1 FOR UPDATE",
        collection.table()
    );
    match query_opt(tx, &sql, &[&id]).await? {
        Some(row) => Ok(row.get(0)),
        None => Err(StorageError::NotFound(format!(
            "{} {id:?}",
            collection.noun()
        ))),
    }
}

fn attachment_of(row: &Row, first: usize) -> Attachment {
    Attachment {
        content_type: row.get(first),
        file_name: row.get(first + 1),
        bytes: row.get(first + 2),
    }
}

#[async_trait]
impl Repository for PgRepository {
    async fn shell(&self, id: &str) -> Result<Option<AssetAdministrationShell>, StorageError> {
        self.get(Collection::Shells, id).await
    }

    async fn shells_where(
        &self,
        filter: &ShellFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<AssetAdministrationShell>, StorageError> {
        (self.list(Collection::Shells, &filter.conditions(), limit, cursor)).await
    }

    async fn put_shell_serialized(
        &self,
        shell: Arc<AssetAdministrationShell>,
        json: Arc<str>,
        events: WriteEvents,
    ) -> Result<Written, StorageError> {
        self.write_shell(&shell, &json, events, Mode::CreateOrReplace)
            .await
    }

    async fn create_shell_serialized(
        &self,
        shell: Arc<AssetAdministrationShell>,
        json: Arc<str>,
        events: WriteEvents,
    ) -> Result<(), StorageError> {
        (self.write_shell(&shell, &json, events, Mode::CreateOnly))
            .await
            .map(drop)
    }

    async fn delete_shell(&self, id: &str, events: ShellDeleteEvents) -> Result<(), StorageError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let json = locked_json(&tx, Collection::Shells, id).await?;
        let shell: AssetAdministrationShell = decode(id, &json)?;
        execute(&tx, "DELETE FROM shells WHERE id = $1", &[&id]).await?;
        let owner = format!("shell:{id}");
        execute(&tx, "DELETE FROM attachments WHERE owner = $1", &[&owner]).await?;
        lock_event_order(&tx).await?;
        let made = events(&shell);
        append_events(&tx, &format!("shells:{id}"), made).await?;
        self.commit(tx).await
    }

    async fn submodel(&self, id: &str) -> Result<Option<Submodel>, StorageError> {
        self.get(Collection::Submodels, id).await
    }

    async fn submodel_json(&self, id: &str) -> Result<Option<bytes::Bytes>, StorageError> {
        let client = self.client().await?;
        let row = query_opt(
            &client,
            "SELECT COALESCE((SELECT json FROM submodel_views WHERE id = $1), json) \
             FROM submodels WHERE id = $1",
            &[&id],
        )
        .await?;
        Ok(row.map(|row| bytes::Bytes::from(row.get::<_, String>(0).into_bytes())))
    }

    async fn stored_json(
        &self,
        collection: Collection,
        id: &str,
    ) -> Result<Option<String>, StorageError> {
        let client = self.client().await?;
        let sql = format!("SELECT json FROM {} WHERE id = $1", collection.table());
        Ok(query_opt(&client, &sql, &[&id])
            .await?
            .map(|row| row.get(0)))
    }

    async fn ids(&self, collection: Collection) -> Result<Vec<String>, StorageError> {
        let client = self.client().await?;
        let sql = format!("SELECT id FROM {} ORDER BY seq", collection.table());
        let rows = query(&client, &sql, &[]).await?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    async fn submodels_where(
        &self,
        filter: &SubmodelFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Submodel>, StorageError> {
        (self.list(Collection::Submodels, &filter.conditions(), limit, cursor)).await
    }

    async fn put_submodel_serialized(
        &self,
        submodel: Arc<Submodel>,
        json: Arc<str>,
        events: WriteEvents,
    ) -> Result<SubmodelChange, StorageError> {
        (self.write_submodel(&submodel, &json, events, Mode::CreateOrReplace)).await
    }

    async fn create_submodel_serialized(
        &self,
        submodel: Arc<Submodel>,
        json: Arc<str>,
        events: WriteEvents,
    ) -> Result<SubmodelChange, StorageError> {
        (self.write_submodel(&submodel, &json, events, Mode::CreateOnly)).await
    }

    async fn delete_submodel(
        &self,
        id: &str,
        events: SubmodelDeleteEvents,
    ) -> Result<(), StorageError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let json = locked_json(&tx, Collection::Submodels, id).await?;
        let submodel: Submodel = decode(id, &json)?;
        let affected = affected_shells(&tx, id).await?;
        execute(&tx, "DELETE FROM submodels WHERE id = $1", &[&id]).await?;
        execute(&tx, "DELETE FROM submodel_views WHERE id = $1", &[&id]).await?;
        let owner = format!("submodel:{id}");
        execute(&tx, "DELETE FROM attachments WHERE owner = $1", &[&owner]).await?;
        lock_event_order(&tx).await?;
        let made = events(&submodel, &affected);
        append_events(&tx, &format!("submodels:{id}"), made).await?;
        self.commit(tx).await
    }

    async fn modify_submodel(
        &self,
        id: &str,
        attach: Option<(String, Attachment)>,
        mut change: Edit<Submodel>,
        events: SubmodelEditEvents,
    ) -> Result<Arc<Submodel>, StorageError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let stored = locked_json(&tx, Collection::Submodels, id).await?;
        let mut submodel: Submodel = decode(id, &stored)?;
        drop(stored);
        apply(&mut submodel, id, &mut *change)?;
        let json = aas_serde::json::to_string(&submodel);
        let attach = attach.as_ref().map(|(path, file)| (path.as_str(), file));
        let outcome = submodel_in(&tx, &submodel, &json, Mode::CreateOrReplace, attach).await?;
        lock_event_order(&tx).await?;
        let made = events(&submodel, &json, &outcome);
        append_events(&tx, &format!("submodels:{id}"), made).await?;
        self.commit(tx).await?;
        Ok(Arc::new(submodel))
    }

    async fn modify_shell(
        &self,
        id: &str,
        thumbnail: Option<Attachment>,
        mut change: Edit<AssetAdministrationShell>,
        events: ShellEditEvents,
    ) -> Result<AssetAdministrationShell, StorageError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let stored = locked_json(&tx, Collection::Shells, id).await?;
        let mut shell: AssetAdministrationShell = decode(id, &stored)?;
        drop(stored);
        apply(&mut shell, id, &mut *change)?;
        let json = aas_serde::json::to_string(&shell);
        let mode = Mode::CreateOrReplace;
        shell_in(&tx, &shell, &json, mode, thumbnail.as_ref()).await?;
        lock_event_order(&tx).await?;
        let made = events(&shell, &json);
        append_events(&tx, &format!("shells:{id}"), made).await?;
        self.commit(tx).await?;
        Ok(shell)
    }

    async fn attachment(
        &self,
        owner: &str,
        path: &str,
    ) -> Result<Option<Attachment>, StorageError> {
        let client = self.client().await?;
        let row = query_opt(
            &client,
            "SELECT content_type, file_name, bytes FROM attachments \
             WHERE owner = $1 AND path = $2",
            &[&owner, &path],
        )
        .await?;
        Ok(row.map(|row| attachment_of(&row, 0)))
    }

    async fn put_attachment(
        &self,
        owner: &str,
        path: &str,
        attachment: Option<Attachment>,
    ) -> Result<(), StorageError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        match &attachment {
            Some(a) => store_attachment(&tx, owner, path, a).await?,
            None => {
                let sql = "DELETE FROM attachments WHERE owner = $1 AND path = $2";
                execute(&tx, sql, &[&owner, &path]).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn attachments(&self, owner: &str) -> Result<Vec<(String, Attachment)>, StorageError> {
        let client = self.client().await?;
        let rows = query(
            &client,
            "SELECT path, content_type, file_name, bytes FROM attachments WHERE owner = $1 \
             ORDER BY path COLLATE \"C\"",
            &[&owner],
        )
        .await?;
        Ok(rows
            .iter()
            .map(|row| (row.get(0), attachment_of(row, 1)))
            .collect())
    }

    async fn concept_description(
        &self,
        id: &str,
    ) -> Result<Option<ConceptDescription>, StorageError> {
        self.get(Collection::ConceptDescriptions, id).await
    }

    async fn concept_descriptions_where(
        &self,
        filter: &ConceptDescriptionFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<ConceptDescription>, StorageError> {
        let conditions = filter.conditions();
        (self.list(Collection::ConceptDescriptions, &conditions, limit, cursor)).await
    }

    async fn put_concept_description(
        &self,
        cd: &ConceptDescription,
    ) -> Result<Written, StorageError> {
        self.write_concept_description(cd, Mode::CreateOrReplace)
            .await
    }

    async fn create_concept_description(
        &self,
        cd: &ConceptDescription,
    ) -> Result<(), StorageError> {
        (self.write_concept_description(cd, Mode::CreateOnly))
            .await
            .map(drop)
    }

    async fn delete_concept_description(&self, id: &str) -> Result<(), StorageError> {
        let client = self.client().await?;
        let sql = "DELETE FROM concept_descriptions WHERE id = $1";
        if execute(&client, sql, &[&id]).await? == 0 {
            return Err(StorageError::NotFound(format!(
                "concept description {id:?}"
            )));
        }
        Ok(())
    }

    /// Claims the entries due for this replica's publisher ([`CLAIM_OUTBOX`]).
    async fn outbox(&self, limit: usize) -> Result<Vec<OutboxEntry>, StorageError> {
        *self
            .last_claim
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = std::time::Instant::now();
        let client = self.client().await?;
        let rows = i64::try_from(limit).unwrap_or(i64::MAX);
        let lease = micros_of(self.leases.outbox);
        let found = query(
            &client,
            CLAIM_OUTBOX,
            &[&micros(Utc::now()), &rows, &&*self.leases.replica, &lease],
        )
        .await?;
        found
            .iter()
            .map(|row| {
                Ok(OutboxEntry {
                    sequence: row.get(0),
                    topic: row.get(1),
                    payload: row.get(2),
                    attempts: unsigned(i64::from(row.get::<_, i32>(3)), "attempts")?,
                })
            })
            .collect()
    }

    async fn outbox_next_due(&self) -> Result<Option<DateTime<Utc>>, StorageError> {
        let client = self.client().await?;
        let row = query_opt(
            &client,
            "SELECT MIN(due_us) FROM outbox WHERE due_us > $1",
            &[&micros(Utc::now())],
        )
        .await?;
        let due: Option<i64> = row.and_then(|row| row.get(0));
        due.map(from_micros).transpose()
    }

    async fn acknowledge(&self, sequences: &[i64]) -> Result<(), StorageError> {
        let client = self.client().await?;
        let sql = "DELETE FROM outbox WHERE sequence = ANY($1)";
        execute(&client, sql, &[&sequences]).await?;
        Ok(())
    }

    async fn record_failure(
        &self,
        sequence: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<u32, StorageError> {
        let client = self.client().await?;
        let row = query_opt(
            &client,
            "UPDATE outbox SET attempts = attempts + 1, due_us = $2, error = $3 \
             WHERE sequence = $1 AND claimed_by = $4 RETURNING attempts",
            &[&sequence, &micros(retry_at), &error, &&*self.leases.replica],
        )
        .await?;
        match row {
            Some(row) => unsigned(i64::from(row.get::<_, i32>(0)), "attempts"),
            // Gone, or another replica's now (this one's claim ran out).
            None => Err(StorageError::NotFound(format!("outbox entry {sequence}"))),
        }
    }

    async fn dead_letter(&self, sequence: i64, error: &str) -> Result<(), StorageError> {
        let client = self.client().await?;
        // Taken out of the outbox only while this replica's claim holds, in the statement
        // that keeps it; the message itself goes along (the event log entry may be pruned).
        let moved = execute(
            &client,
            "WITH moved AS (DELETE FROM outbox WHERE sequence = $1 AND claimed_by = $4 \
             RETURNING sequence, topic, payload, event, attempts, element) \
             INSERT INTO dead_letters \
             (sequence, topic, payload, event, attempts, error, failed_us, element) \
             SELECT m.sequence, m.topic, \
             CASE WHEN octet_length(m.payload) = 0 AND m.event IS NOT NULL \
                  THEN COALESCE((SELECT l.payload FROM event_log l WHERE l.sequence = m.event), \
                  ''::bytea) ELSE m.payload END, \
             m.event, m.attempts, $2, $3, m.element FROM moved m",
            &[
                &sequence,
                &error,
                &micros(Utc::now()),
                &&*self.leases.replica,
            ],
        )
        .await?;
        if moved == 0 {
            return Err(StorageError::NotFound(format!("outbox entry {sequence}")));
        }
        Ok(())
    }

    async fn dead_letters(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<DeadLetter>, StorageError> {
        let after = sequence_cursor(cursor)?;
        let rows = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
        let client = self.client().await?;
        let found = query(
            &client,
            "SELECT sequence, event, topic, attempts, error, failed_us, \
             octet_length(payload)::BIGINT FROM dead_letters WHERE sequence > $1 \
             ORDER BY sequence LIMIT $2",
            &[&after, &rows],
        )
        .await?;
        let mut letters = Vec::with_capacity(found.len());
        for row in found {
            let sequence: i64 = row.get(0);
            let letter = DeadLetter {
                sequence,
                event: row.get(1),
                topic: row.get(2),
                attempts: unsigned(i64::from(row.get::<_, i32>(3)), "attempts")?,
                error: row.get(4),
                failed_at: from_micros(row.get(5))?,
                size: unsigned(row.get(6), "size")?,
            };
            letters.push((sequence, letter));
        }
        Ok(page_of(letters, limit, i64::to_string))
    }

    async fn retry_dead_letter(&self, sequence: i64) -> Result<(), StorageError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Back in its old place in the order, with its own copy of the message.
        let moved = execute(
            &tx,
            "INSERT INTO outbox (sequence, topic, payload, event, attempts, due_us, element) \
             SELECT sequence, topic, payload, event, 0, 0, element FROM dead_letters \
             WHERE sequence = $1",
            &[&sequence],
        )
        .await?;
        if moved == 0 {
            return Err(StorageError::NotFound(format!("dead letter {sequence}")));
        }
        execute(
            &tx,
            "DELETE FROM dead_letters WHERE sequence = $1",
            &[&sequence],
        )
        .await?;
        self.commit(tx).await
    }

    async fn events(
        &self,
        since: Option<DateTime<Utc>>,
        limit: usize,
        max_bytes: usize,
        cursor: Option<&str>,
    ) -> Result<Page<LoggedEvent>, StorageError> {
        let after = sequence_cursor(cursor)?;
        let since = since.map_or(i64::MIN, nanos);
        let rows = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
        let client = self.client().await?;
        // The sizes first, then only the messages of the page: a page of large messages reads
        // what it serves, not `limit` of them.
        let sizes = query(
            &client,
            "SELECT sequence, octet_length(payload)::BIGINT FROM event_log \
             WHERE sequence > $1 AND time_ns >= $2 ORDER BY sequence LIMIT $3",
            &[&after, &since, &rows],
        )
        .await?;
        let mut taken = Vec::new();
        let mut bytes = 0usize;
        let mut more = false;
        for row in &sizes {
            if taken.len() == limit || (!taken.is_empty() && bytes >= max_bytes) {
                more = true;
                break;
            }
            let size: usize = unsigned(row.get(1), "size")?;
            bytes = bytes.saturating_add(size);
            taken.push(row.get::<_, i64>(0));
        }
        let found = query(
            &client,
            "SELECT sequence, topic, time_ns, payload, reference_only FROM event_log \
             WHERE sequence = ANY($1) ORDER BY sequence",
            &[&taken],
        )
        .await?;
        let items: Vec<LoggedEvent> = found
            .iter()
            .map(|row| LoggedEvent {
                sequence: row.get(0),
                topic: row.get(1),
                timestamp: DateTime::from_timestamp_nanos(row.get(2)),
                payload: row.get(3),
                reference_only: row.get(4),
            })
            .collect();
        // The last sequence taken, even if pruned between the two reads.
        let cursor = if more {
            taken.last().map(i64::to_string)
        } else {
            None
        };
        Ok(Page { items, cursor })
    }

    async fn prune_events(&self, before: DateTime<Utc>) -> Result<usize, StorageError> {
        let client = self.client().await?;
        let mut removed = 0;
        // In slices, so that no statement runs long.
        loop {
            let deleted = execute(
                &client,
                "DELETE FROM event_log WHERE sequence IN (SELECT l.sequence FROM event_log l \
                 WHERE l.time_ns < $1 AND NOT EXISTS \
                 (SELECT 1 FROM outbox o WHERE o.event = l.sequence) \
                 ORDER BY l.time_ns LIMIT 1000)",
                &[&nanos(before)],
            )
            .await?;
            removed += usize::try_from(deleted).unwrap_or(usize::MAX);
            if deleted < 1000 {
                return Ok(removed);
            }
        }
    }

    fn outbox_signal(&self) -> Arc<Notify> {
        self.outbox_signal.clone()
    }

    /// Each change of the load commits on its own (see the module's documentation).
    async fn in_one_transaction(
        &self,
        load: BoxFuture<'_, Result<usize, StorageError>>,
    ) -> Result<usize, StorageError> {
        load.await
    }
}

impl PgRepository {
    async fn write_shell(
        &self,
        shell: &AssetAdministrationShell,
        json: &str,
        events: WriteEvents,
        mode: Mode,
    ) -> Result<Written, StorageError> {
        // What costs in proportion to the element is done before the transaction.
        let finish = events.prepare();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let written = shell_in(&tx, shell, json, mode, None).await?;
        lock_event_order(&tx).await?;
        let made = finish(written, &[]);
        append_events(&tx, &format!("shells:{}", shell.id), made).await?;
        self.commit(tx).await?;
        Ok(written)
    }

    async fn write_submodel(
        &self,
        submodel: &Submodel,
        json: &str,
        events: WriteEvents,
        mode: Mode,
    ) -> Result<SubmodelChange, StorageError> {
        let finish = events.prepare();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let change = submodel_in(&tx, submodel, json, mode, None).await?;
        lock_event_order(&tx).await?;
        let made = finish(change.written, &change.affected_shell_ids);
        append_events(&tx, &format!("submodels:{}", submodel.id), made).await?;
        self.commit(tx).await?;
        Ok(change)
    }

    async fn write_concept_description(
        &self,
        cd: &ConceptDescription,
        mode: Mode,
    ) -> Result<Written, StorageError> {
        let json = aas_serde::json::to_string(cd);
        let keys = cd.filter_keys();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let collection = Collection::ConceptDescriptions;
        let written = write(&tx, collection, &cd.id, &json, &keys, mode).await?;
        tx.commit().await?;
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use aas_conformance_tests::postgres::Postgres;

    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

    /// A replica on the cluster's database, its leases as given.
    async fn replica(cluster: &Postgres, outbox: u64, job: u64) -> Result<PgRepository, PgError> {
        let leases = Leases {
            outbox: Duration::from_millis(outbox),
            job: Duration::from_millis(job),
            ..Leases::default()
        };
        PgRepository::open_with(&cluster.url(), leases).await
    }

    /// Changes submodel `id` once, with one event named `name`.
    async fn change(repository: &PgRepository, id: &str, name: &str) -> TestResult {
        let submodel = Submodel::new(id);
        let json = aas_serde::json::to_string(&submodel).into();
        let name = name.to_owned();
        let events: WriteEvents = Box::new(move |_: Written, _: &[String]| {
            vec![Event::new(name.clone(), Vec::new(), Utc::now())]
        });
        (repository.put_submodel_serialized(Arc::new(submodel), json, events)).await?;
        Ok(())
    }

    async fn claimed(repository: &PgRepository) -> Result<Vec<String>, StorageError> {
        let entries = repository.outbox(10).await?;
        Ok(entries.into_iter().map(|entry| entry.topic).collect())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replicas_claim_disjoint_entries_and_keep_each_elements_order() -> TestResult {
        let cluster = Postgres::start();
        let a = replica(&cluster, 60_000, 60_000).await?;
        let b = replica(&cluster, 60_000, 60_000).await?;
        for (id, name) in [
            ("x", "x1"),
            ("x", "x2"),
            ("x", "x3"),
            ("y", "y1"),
            ("z", "z1"),
        ] {
            change(&a, id, name).await?;
        }
        let first = a.outbox(2).await?;
        let topics: Vec<&str> = first.iter().map(|e| e.topic.as_str()).collect();
        assert_eq!(topics, ["x1", "x2"]);
        // x3 waits for x1 and x2, which `a` holds; `a` renews its own.
        assert_eq!(claimed(&b).await?, ["y1", "z1"]);
        assert_eq!(claimed(&b).await?, ["y1", "z1"]);
        let sequences: Vec<i64> = first.iter().map(|e| e.sequence).collect();
        a.acknowledge(&sequences).await?;
        assert_eq!(claimed(&b).await?, ["x3", "y1", "z1"]);
        assert_eq!(claimed(&a).await?, Vec::<String>::new());
        Ok(())
    }

    /// A replica keeps its claims while it lives, however long it publishes (it renews them);
    /// once it is gone, they go to another replica after the lease.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn claims_last_while_their_replica_lives_and_pass_on_after_the_lease() -> TestResult {
        let cluster = Postgres::start();
        let slow = replica(&cluster, 900, 60_000).await?;
        let other = replica(&cluster, 60_000, 60_000).await?;
        change(&slow, "x", "x1").await?;
        change(&slow, "x", "x2").await?;
        assert_eq!(claimed(&slow).await?, ["x1", "x2"]);
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        assert!(
            claimed(&other).await?.is_empty(),
            "taken from a live replica"
        );
        drop(slow);
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        assert_eq!(claimed(&other).await?, ["x1", "x2"]);
        // A replica whose claim passed on does not give the entry up as a dead letter.
        let gone = replica(&cluster, 60_000, 60_000).await?;
        let sequence = other.outbox(1).await?[0].sequence;
        let refused = gone.dead_letter(sequence, "not mine").await;
        assert!(
            matches!(refused, Err(StorageError::NotFound(_))),
            "{refused:?}"
        );
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_on_one_replica_wakes_the_publisher_of_another() -> TestResult {
        let cluster = Postgres::start();
        let writer = replica(&cluster, 60_000, 60_000).await?;
        let listener = replica(&cluster, 60_000, 60_000).await?;
        let signal = listener.outbox_signal();
        // The first ring says it listens.
        tokio::time::timeout(Duration::from_secs(10), signal.notified())
            .await
            .map_err(|_| "the listener never connected")?;
        change(&writer, "x", "x1").await?;
        tokio::time::timeout(Duration::from_secs(5), signal.notified())
            .await
            .map_err(|_| "no ring within 5 s of the commit")?;
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_recorded_version_is_adopted_and_data_of_the_other_version_converted() -> TestResult
    {
        use aas_model::Version;
        let cluster = Postgres::start();
        let pg = replica(&cluster, 60_000, 60_000).await?;
        let fresh = pg.adopt_version(Version::V3_0, false).await?;
        assert_eq!((fresh.from, fresh.to), (Version::V3_0, Version::V3_0));
        change(&pg, "urn:sm:1", "x").await?;
        let cd = ConceptDescription::new("urn:cd:1");
        pg.put_concept_description(&cd).await?;
        // Data recorded as 3.0, served as 3.1: checked, fits, recorded as 3.1.
        let adopted = pg.adopt_version(Version::V3_1, false).await?;
        assert_eq!((adopted.from, adopted.to), (Version::V3_0, Version::V3_1));
        assert!(adopted.problems.is_empty(), "{adopted}");
        let again = pg.adopt_version(Version::V3_1, false).await?;
        assert_eq!(again.from, Version::V3_1);
        assert!(pg.submodel("urn:sm:1").await?.is_some());
        let client = pg.client().await?;
        execute(
            &client,
            "UPDATE metadata SET value = '9.9' WHERE key = $1",
            &[&VERSION_KEY],
        )
        .await?;
        let unknown = pg.adopt_version(Version::V3_1, false).await;
        assert!(
            matches!(unknown, Err(StorageError::UnknownRecordedVersion { .. })),
            "{unknown:?}"
        );
        Ok(())
    }

    /// TLS to the database is not built in: a URL that requires it fails, saying why.
    #[tokio::test]
    async fn a_url_that_requires_tls_fails_to_connect_and_says_so() -> TestResult {
        let cluster = Postgres::start();
        let url = format!("{}?sslmode=require", cluster.url());
        let refused = PgRepository::open(&url, &PgOptions::default())
            .await
            .err()
            .ok_or("connected without TLS")?;
        let mut chain = refused.to_string();
        let mut source = std::error::Error::source(&refused);
        while let Some(cause) = source {
            chain.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        assert!(chain.to_lowercase().contains("tls"), "{chain}");
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_whose_replica_stops_renewing_is_taken_over_by_one_replica() -> TestResult {
        use crate::storage::PushRecords;
        let cluster = Postgres::start();
        let running = replica(&cluster, 60_000, 400).await?;
        let (b, c) = (
            replica(&cluster, 60_000, 60_000).await?,
            replica(&cluster, 60_000, 60_000).await?,
        );
        running.save_push_job("job", "processing", "{}").await?;
        running.save_push_job("done", "completed", "{}").await?;
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(150)).await;
            running.renew_push_job_leases(&["job".to_owned()]).await?;
            assert!(b.claim_unfinished_push_jobs(10).await?.is_empty());
        }
        // `running` died: its lease runs out, and one of the others takes the job.
        tokio::time::sleep(Duration::from_millis(600)).await;
        let (by_b, by_c) = tokio::join!(
            b.claim_unfinished_push_jobs(10),
            c.claim_unfinished_push_jobs(10)
        );
        let mut taken: Vec<String> = (by_b?.into_iter().chain(by_c?)).map(|(id, _)| id).collect();
        taken.sort();
        assert_eq!(taken, ["job"]);
        // The taker's lease holds now.
        assert!(running.claim_unfinished_push_jobs(10).await?.is_empty());
        Ok(())
    }
}
