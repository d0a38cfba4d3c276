//! The JSON of the submodels a read-only connection served last, served again while the
//! database is unchanged.
//!
//! A GET of a submodel copied its JSON out of SQLite at every request: the overflow pages into
//! one buffer, that buffer into the answer. Each reader now keeps what it read, as shared
//! bytes, with SQLite's `PRAGMA data_version` as the connection saw it *before* the read. That
//! value changes when any other connection commits (this server's writer, or another process
//! on the file). A kept JSON is served only while the connection still reports the recorded
//! value: no commit happened since it was read, so it is exactly what reading again would
//! return. Any commit makes every kept entry stale, so a workload that writes as often as it
//! reads pays one pragma per read and gains nothing; a read-mostly one skips the copy.
//!
//! Bounded per reader: submodels whose JSON is larger than [`MAX_KEPT`] are not kept, and the
//! entries kept hold at most [`MAX_KEPT_TOTAL`] bytes (past it, all are dropped).

use std::collections::HashMap;

use bytes::Bytes;

/// Submodels whose JSON is larger are read from the database at every GET.
pub const MAX_KEPT: usize = 1 << 20;

/// The most one reader keeps, in bytes: the JSON, the ids and [`ENTRY_COST`] per entry.
pub const MAX_KEPT_TOTAL: usize = 8 << 20;

/// What an entry costs beyond its JSON and id, counted against [`MAX_KEPT_TOTAL`]: the
/// hash map's slot and the shared buffer's header, rounded up.
const ENTRY_COST: usize = 128;

/// One reader's kept JSON, valid at one `data_version` of its connection.
#[derive(Debug, Default)]
pub(super) struct ReadCache {
    version: i64,
    entries: HashMap<String, Bytes>,
    bytes: usize,
}

impl ReadCache {
    /// Drops everything when the connection's `data_version` is no longer the one the entries
    /// were read at.
    fn at(&mut self, version: i64) {
        if version != self.version {
            self.entries.clear();
            self.bytes = 0;
            self.version = version;
        }
    }

    /// The JSON of `id` kept at `version`, the connection's `data_version` now.
    pub(super) fn get(&mut self, version: i64, id: &str) -> Option<Bytes> {
        self.at(version);
        self.entries.get(id).cloned()
    }

    /// Keeps `json`, read after the connection reported `version`.
    pub(super) fn keep(&mut self, version: i64, id: &str, json: &Bytes) {
        self.at(version);
        if json.len() > MAX_KEPT {
            return;
        }
        let cost = |id: &str, json: &Bytes| id.len() + json.len() + ENTRY_COST;
        if let Some(old) = self.entries.remove(id) {
            self.bytes -= cost(id, &old);
        }
        if self.bytes + cost(id, json) > MAX_KEPT_TOTAL {
            self.entries.clear();
            self.bytes = 0;
        }
        self.entries.insert(id.to_owned(), json.clone());
        self.bytes += cost(id, json);
    }

    /// The bytes kept.
    #[cfg(test)]
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::storage::sqlite::{Database, SqliteRepository, StorageOptions};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// A repository on a file in a temp dir (kept alive by the returned dir), holding the
    /// submodel `urn:sm:1` named `id_short`; and the file's path.
    fn repository_with(
        id_short: &str,
    ) -> Result<(tempfile::TempDir, std::path::PathBuf, SqliteRepository), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("repository.sqlite");
        let database = Arc::new(Database::open(&path, StorageOptions::default())?);
        let repository = SqliteRepository::on(database);
        repository.put_submodel(&submodel("urn:sm:1", id_short), &|_| Vec::new())?;
        Ok((dir, path, repository))
    }

    fn submodel(id: &str, id_short: &str) -> aas_model::Submodel {
        let mut submodel = aas_model::Submodel::new(id);
        submodel.id_short = Some(id_short.into());
        submodel
    }

    /// What a GET answers is what the database holds: after a commit by this server's writer,
    /// and after one by another connection to the file (another process), the next read
    /// returns the new JSON; while nothing commits, the kept bytes are served.
    #[test]
    fn a_kept_json_is_served_until_anything_commits() -> TestResult {
        let (_dir, path, repository) = repository_with("First")?;
        let read = |repository: &SqliteRepository| -> Result<Bytes, Box<dyn std::error::Error>> {
            Ok(repository.submodel_json("urn:sm:1")?.ok_or("no submodel")?)
        };
        let (first, again) = (read(&repository)?, read(&repository)?);
        assert!(String::from_utf8_lossy(&first).contains("First"));
        assert_eq!(
            first.as_ptr(),
            again.as_ptr(),
            "the second read is served from memory"
        );

        repository.put_submodel(&submodel("urn:sm:1", "Second"), &|_| Vec::new())?;
        let second = read(&repository)?;
        assert!(
            String::from_utf8_lossy(&second).contains("Second"),
            "{second:?}"
        );

        // Another connection to the file: at SQLite's level what another process would be.
        let other = rusqlite::Connection::open(&path)?;
        other.execute(
            "UPDATE submodels SET json = replace(json, 'Second', 'Third') WHERE id = ?1",
            ["urn:sm:1"],
        )?;
        let third = read(&repository)?;
        assert!(
            String::from_utf8_lossy(&third).contains("Third"),
            "{third:?}"
        );

        // An unrelated commit makes the kept entries stale too: read again, same content.
        repository.put_submodel(&submodel("urn:sm:2", "Other"), &|_| Vec::new())?;
        let fourth = read(&repository)?;
        assert_eq!(fourth, third);
        assert_ne!(fourth.as_ptr(), third.as_ptr(), "read again after a commit");
        Ok(())
    }

    /// The version is read before the JSON: a commit between the two leaves the JSON read
    /// kept under the version from before it, so the next read reads again. (Read the other
    /// way round, the old JSON would be kept under the new version and served stale.)
    #[test]
    fn a_commit_between_the_version_and_the_json_is_not_served_stale() -> TestResult {
        let (_dir, path, repository) = repository_with("Before")?;
        let other = rusqlite::Connection::open(&path)?;
        let commit = || {
            other
                .execute(
                    "UPDATE submodels SET json = replace(json, 'Before', 'After') WHERE id = ?1",
                    ["urn:sm:1"],
                )
                .map(|_| ())
        };
        let mut committed = Ok(());
        repository.submodel_json_reading_between("urn:sm:1", || committed = commit())?;
        committed?;
        let json = repository.submodel_json("urn:sm:1")?.ok_or("no submodel")?;
        assert!(String::from_utf8_lossy(&json).contains("After"), "{json:?}");
        Ok(())
    }

    #[test]
    fn a_reader_keeps_at_most_max_kept_total_bytes_and_no_json_over_max_kept() {
        let mut cache = ReadCache::default();
        let big = Bytes::from(vec![b'x'; MAX_KEPT + 1]);
        cache.keep(1, "big", &big);
        assert_eq!(cache.get(1, "big"), None);
        let part = Bytes::from(vec![b'x'; MAX_KEPT]);
        for n in 0..(3 * MAX_KEPT_TOTAL / MAX_KEPT) {
            cache.keep(1, &n.to_string(), &part);
            assert!(
                cache.bytes() <= MAX_KEPT_TOTAL,
                "{} bytes kept",
                cache.bytes()
            );
        }
        cache.keep(1, "same", &part);
        cache.keep(1, "same", &part);
        assert!(cache.bytes() <= MAX_KEPT_TOTAL);
        assert!(cache.get(1, "same").is_some());
        assert_eq!(
            cache.get(2, "same"),
            None,
            "another data_version: nothing kept"
        );
        assert_eq!(cache.bytes(), 0);
    }
}
