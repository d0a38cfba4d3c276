//! The push store's rows (tables `push_targets` and `push_jobs`, see the `push` migrations),
//! as [`crate::push::PushStore`] keeps them: texts it made and reads itself (JSON, sealed
//! configurations), so that only this module knows the tables and their SQL.

use rusqlite::{OptionalExtension, params};

use super::{Database, row_exists, write_transaction};
use crate::storage::StoreError;

impl Database {
    /// The name and shown (redacted) JSON of every push target, by name.
    pub(crate) fn push_targets_shown(&self) -> Result<Vec<(String, String)>, StoreError> {
        let connection = self.reader();
        let mut statement =
            connection.prepare_cached("SELECT name, redacted FROM push_targets ORDER BY name")?;
        let rows = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// The shown (redacted) JSON of one push target.
    pub(crate) fn push_target_shown(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .reader()
            .query_row(
                "SELECT redacted FROM push_targets WHERE name = ?1",
                [name],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Stores a push target's shown and sealed texts, once `check` (told whether one of that
    /// name exists) allows it, in the transaction that writes: the check holds until the write
    /// commits. `true` if it replaced one.
    pub(crate) fn put_push_target(
        &self,
        name: &str,
        redacted: &str,
        sealed: &str,
        check: &dyn Fn(bool) -> Result<(), StoreError>,
    ) -> Result<bool, StoreError> {
        let mut connection = self.writer();
        let tx = write_transaction(&mut connection)?;
        let existed = row_exists(&tx, "SELECT 1 FROM push_targets WHERE name = ?1", name)?;
        check(existed)?;
        tx.execute(
            "INSERT INTO push_targets (name, redacted, sealed) VALUES (?1, ?2, ?3) \
             ON CONFLICT(name) DO UPDATE SET redacted = excluded.redacted, sealed = excluded.sealed",
            params![name, redacted, sealed],
        )?;
        tx.commit()?;
        Ok(existed)
    }

    /// Deletes a push target; `false` if there was none.
    pub(crate) fn delete_push_target(&self, name: &str) -> Result<bool, StoreError> {
        let deleted = self
            .writer()
            .execute("DELETE FROM push_targets WHERE name = ?1", [name])?;
        Ok(deleted > 0)
    }

    /// A push target's sealed configuration.
    pub(crate) fn push_target_sealed(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .reader()
            .query_row(
                "SELECT sealed FROM push_targets WHERE name = ?1",
                [name],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// The name and sealed configuration of every push target.
    pub(crate) fn push_targets_sealed(&self) -> Result<Vec<(String, String)>, StoreError> {
        let connection = self.reader();
        let mut statement = connection.prepare("SELECT name, sealed FROM push_targets")?;
        let rows = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// A push job's JSON.
    pub(crate) fn push_job(&self, identifier: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .reader()
            .query_row(
                "SELECT json FROM push_jobs WHERE identifier = ?1",
                [identifier],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Push jobs newest first: the sequence, identifier and JSON of at most `rows` jobs before
    /// sequence `before` (`None`: the newest).
    pub(crate) fn push_jobs(
        &self,
        rows: usize,
        before: Option<i64>,
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        let connection = self.reader();
        let mut statement = connection.prepare_cached(
            "SELECT sequence, identifier, json FROM push_jobs WHERE sequence < ?1 \
             ORDER BY sequence DESC LIMIT ?2",
        )?;
        let rows = statement
            .query_map(params![before.unwrap_or(i64::MAX), rows as i64], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// The identifier and JSON of the push jobs in state `processing`, oldest first.
    pub(crate) fn processing_push_jobs(&self) -> Result<Vec<(String, String)>, StoreError> {
        let connection = self.reader();
        let mut statement = connection.prepare(
            "SELECT identifier, json FROM push_jobs WHERE state = 'processing' ORDER BY sequence",
        )?;
        let rows = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Creates or replaces a push job's row (`state` is what `processing_push_jobs` selects).
    pub(crate) fn save_push_job(
        &self,
        identifier: &str,
        state: &str,
        json: &str,
    ) -> Result<(), StoreError> {
        self.writer().execute(
            "INSERT INTO push_jobs (identifier, state, json) VALUES (?1, ?2, ?3) \
             ON CONFLICT(identifier) DO UPDATE SET state = excluded.state, json = excluded.json",
            params![identifier, state, json],
        )?;
        Ok(())
    }
}
