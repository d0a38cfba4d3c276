//! The database file and the connections to it, shared by every store on it: the repository,
//! the push targets and jobs, the twins. One writer connection (so the stores' writes queue on
//! one lock instead of failing with "database is locked" against each other), read-only
//! connections, and a checkpoint thread. Opening migrates every store's tables.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::Notify;

use super::migrations;
use super::{
    CheckpointBackoff, Durability, READERS, STATEMENT_CACHE, StorageError, StorageOptions, Writer,
    limit_size,
};

/// How much of the database file each read-only connection maps into memory (SQLite's
/// `mmap_size`). A submodel's JSON spans overflow pages, which SQLite otherwise reads with a
/// `pread` system call each, bypassing its page cache, at every GET: mapped, a GET of the
/// 50 KB submodel took 23 % less CPU (32.3 µs against 41.9 µs before, and 42.9 µs with only
/// the UTF-8 check of `submodel_json` dropped: medians of 6 rounds side by side).
///
/// The price, as SQLite documents it: an I/O error of the disk while a reader reads through
/// the map, or another process truncating or overwriting the file under the server (a backup
/// copied over the live database), ends the process (SIGBUS) instead of failing the request
/// with a 500. Mapped pages the readers touched count in the process's RSS (up to this size
/// per reader, shared with the kernel's page cache). The writer does not map the file, so
/// writes still fail cleanly.
const READER_MMAP_SIZE: i64 = 256 << 20;

/// The connections to one database file.
pub struct Database {
    pub(super) connection: Mutex<Writer>,
    /// Threads waiting for the writer connection: a change commits its group at once when
    /// none waits, else leaves the group open for them ([`Database::grouped`]).
    pub(super) waiting: AtomicUsize,
    /// Read-only connections (WAL lets them read while the writer writes); none in memory.
    pub(super) readers: Vec<Mutex<super::Reader>>,
    pub(super) next_reader: AtomicUsize,
    /// Woken after each commit: the publisher finds a change's events only once it committed.
    pub(super) outbox_signal: Arc<Notify>,
    /// Cleared on drop: ends the background checkpointer.
    alive: Arc<AtomicBool>,
}

impl Drop for Database {
    fn drop(&mut self) {
        self.alive.store(false, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("readers", &self.readers.len())
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Opens (creating if needed) the database file and brings every store's tables to the
    /// newest schema.
    pub fn open(path: &Path, options: StorageOptions) -> Result<Self, StorageError> {
        let mut database = Self::with_connection(Connection::open(path)?)?;
        {
            let writer = database.lock();
            let synchronous = match options.durability {
                Durability::Full => "FULL",
                Durability::Normal => "NORMAL",
            };
            writer.pragma_update(None, "synchronous", synchronous)?;
            // Only the writer writes, so its limit bounds the file.
            limit_size(&writer, options.max_size)?;
        }
        for _ in 0..READERS {
            let reader = Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            reader.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            reader.pragma_update(None, "mmap_size", READER_MMAP_SIZE)?;
            database.readers.push(Mutex::new(super::Reader {
                connection: reader,
                cache: Default::default(),
            }));
        }
        // Writers leave checkpoints (copying the WAL into the database) to a thread of its
        // own, so no change waits for one; the writer's own automatic checkpoint stays as a
        // safety net at 40 MB of WAL.
        database
            .lock()
            .pragma_update(None, "wal_autocheckpoint", 10_000)?;
        let checkpointer = Connection::open(path)?;
        let alive = database.alive.clone();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                let mut backoff = CheckpointBackoff::default();
                while alive.load(Ordering::Relaxed) {
                    std::thread::sleep(backoff.delay());
                    let outcome = checkpointer.execute_batch("PRAGMA wal_checkpoint(PASSIVE);");
                    backoff.record(outcome);
                }
            })
            .map_err(StorageError::CheckpointThread)?;
        Ok(database)
    }

    /// A database in memory, with one connection (tests, fuzzing).
    pub fn in_memory() -> Result<Self, StorageError> {
        Self::with_connection(Connection::open_in_memory()?)
    }

    fn with_connection(mut connection: Connection) -> Result<Self, StorageError> {
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        for (store, steps) in migrations::STORES {
            migrations::migrate(&mut connection, store, steps)?;
        }
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(Self {
            connection: Mutex::new(Writer {
                connection,
                group: None,
                changes: 0,
            }),
            waiting: AtomicUsize::new(0),
            readers: Vec::new(),
            next_reader: AtomicUsize::new(0),
            outbox_signal: Arc::new(Notify::new()),
            alive: Arc::new(AtomicBool::new(true)),
        })
    }

    /// The writer connection for a store's own writes, with no group of changes open: a write
    /// of more than one statement takes `BEGIN IMMEDIATE` on it, so its checks hold until it
    /// commits (another process may write to the file).
    pub(super) fn writer(&self) -> impl std::ops::DerefMut<Target = Connection> + '_ {
        self.lock()
    }

    /// A connection to read with (the writer in memory, where there are no readers).
    pub(super) fn reader(&self) -> impl std::ops::Deref<Target = Connection> + '_ {
        self.read()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{SqliteRepository, Write};

    type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

    /// The README's promise: reads map up to 256 MiB of the file, writes do not map it.
    #[test]
    fn readers_map_the_file_and_the_writer_does_not() -> TestResult {
        let dir = tempfile::tempdir()?;
        let database = Database::open(
            &dir.path().join("repository.sqlite"),
            StorageOptions::default(),
        )?;
        let mmap_size =
            |c: &Connection| c.pragma_query_value(None, "mmap_size", |row| row.get::<_, i64>(0));
        assert!(!database.readers.is_empty());
        for reader in &database.readers {
            let reader = reader
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            assert_eq!(mmap_size(&reader.connection)?, 256 << 20);
        }
        assert_eq!(mmap_size(&database.lock())?, 0);
        Ok(())
    }

    /// The stores queue on the one writer: writes of the repository (group-committed), the
    /// push store and the twin store from many threads at once all succeed and read back,
    /// none failing with "database is locked".
    #[test]
    fn writes_of_every_store_from_many_threads_share_the_writer() -> TestResult {
        let dir = tempfile::tempdir()?;
        let database = Arc::new(Database::open(
            &dir.path().join("repository.sqlite"),
            StorageOptions::default(),
        )?);
        let repository = Arc::new(SqliteRepository::on(database));
        let key = crate::secrets::SecretKey::load(dir.path())?;
        let push = Arc::new(crate::push::PushStore::new(repository.clone(), key, false));
        let twins = Arc::new(crate::sync::SdtStore::new(repository.clone()));
        // The stores are async: their calls go through a runtime (to its blocking pool).
        let runtime = tokio::runtime::Runtime::new()?;
        let threads: Vec<std::thread::JoinHandle<TestResult>> = (0..8)
            .map(|n| {
                let (repository, push, twins) = (repository.clone(), push.clone(), twins.clone());
                let runtime = runtime.handle().clone();
                std::thread::spawn(move || {
                    for m in 0..10 {
                        let id = format!("urn:sm:{n}:{m}");
                        repository.put_submodel(&aas_model::Submodel::new(&id), &|_| Vec::new())?;
                        let request = serde_json::from_value(serde_json::json!({
                            "pushTargetName": "lake",
                            "serializationFormat": "application/json"}))?;
                        runtime.block_on(push.save_job(&push_core::PushJob::new(request)))?;
                        let platform = serde_json::from_value(serde_json::json!({
                            "name": id, "base_url": "http://127.0.0.1:9",
                            "authentication": "none"}))?;
                        runtime.block_on(twins.put_platform(&platform, Write::Create))?;
                    }
                    Ok(())
                })
            })
            .collect();
        for thread in threads {
            thread.join().map_err(|_| "a writer panicked")??;
        }
        assert_eq!(repository.submodels(100, None)?.items.len(), 80);
        assert_eq!(runtime.block_on(push.jobs(100, None))?.0.len(), 80);
        assert_eq!(runtime.block_on(twins.platforms())?.len(), 80);
        Ok(())
    }
}
