//! The twin store's rows (tables `sdt_platforms` and `sdt_twins`, see the `twins`
//! migrations), as [`crate::sync::SdtStore`] keeps them: JSON texts and sealed credentials it
//! made and reads itself, so that only this module knows the tables and their SQL.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Database, row_exists, write_transaction};
use crate::storage::StoreError;

/// Every row of `table` (its key column `key`, and `json`), by key.
fn all(database: &Database, table: &str, key: &str) -> Result<Vec<(String, String)>, StoreError> {
    let connection = database.reader();
    let mut statement =
        connection.prepare(&format!("SELECT {key}, json FROM {table} ORDER BY 1"))?;
    let rows = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

fn platform_in(connection: &Connection, name: &str) -> Result<Option<String>, StoreError> {
    Ok(connection
        .query_row(
            "SELECT json FROM sdt_platforms WHERE name = ?1",
            [name],
            |row| row.get(0),
        )
        .optional()?)
}

impl Database {
    /// The name and JSON of every platform, by name.
    pub(crate) fn sdt_platforms(&self) -> Result<Vec<(String, String)>, StoreError> {
        all(self, "sdt_platforms", "name")
    }

    /// A platform's JSON.
    pub(crate) fn sdt_platform(&self, name: &str) -> Result<Option<String>, StoreError> {
        platform_in(&self.reader(), name)
    }

    /// Creates or replaces a platform's JSON, once `check` (told whether one of that name
    /// exists) allows it, in the transaction that writes.
    pub(crate) fn put_sdt_platform(
        &self,
        name: &str,
        json: &str,
        check: &dyn Fn(bool) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut connection = self.writer();
        let tx = write_transaction(&mut connection)?;
        let exists = row_exists(&tx, "SELECT 1 FROM sdt_platforms WHERE name = ?1", name)?;
        check(exists)?;
        tx.execute(
            "INSERT INTO sdt_platforms (name, json) VALUES (?1, ?2) \
             ON CONFLICT(name) DO UPDATE SET json = excluded.json",
            params![name, json],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Deletes a platform once `check` (told how many twins are bound to it) allows it; the
    /// count and the deletion are one transaction, so a binding made meanwhile cannot be left
    /// without its platform. `false` if there was none.
    pub(crate) fn delete_sdt_platform(
        &self,
        name: &str,
        check: &dyn Fn(i64) -> Result<(), StoreError>,
    ) -> Result<bool, StoreError> {
        let mut connection = self.writer();
        let tx = write_transaction(&mut connection)?;
        let twins: i64 = tx.query_row(
            "SELECT COUNT(*) FROM sdt_twins WHERE json ->> '$.platform' = ?1",
            [name],
            |row| row.get(0),
        )?;
        check(twins)?;
        if tx.execute("DELETE FROM sdt_platforms WHERE name = ?1", [name])? == 0 {
            return Ok(false);
        }
        tx.commit()?;
        Ok(true)
    }

    /// The submodel id and JSON of every binding, by submodel id.
    pub(crate) fn sdt_twins(&self) -> Result<Vec<(String, String)>, StoreError> {
        all(self, "sdt_twins", "submodel_id")
    }

    /// A binding's JSON.
    pub(crate) fn sdt_twin(&self, submodel_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .reader()
            .query_row(
                "SELECT json FROM sdt_twins WHERE submodel_id = ?1",
                [submodel_id],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// The submodel ids of every binding.
    pub(crate) fn sdt_twin_ids(&self) -> Result<Vec<String>, StoreError> {
        let connection = self.reader();
        let mut statement = connection.prepare("SELECT submodel_id FROM sdt_twins ORDER BY 1")?;
        let ids = statement
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// A binding's JSON and sealed credentials.
    pub(crate) fn sdt_twin_sealed(
        &self,
        submodel_id: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        Ok(self
            .reader()
            .query_row(
                "SELECT json, sealed FROM sdt_twins WHERE submodel_id = ?1",
                [submodel_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?)
    }

    /// Stores a binding of `submodel_id` to `platform`, once `check_platform` (given the
    /// platform's JSON, if stored) and `check_existing` (told whether the submodel is bound)
    /// allow it, both in the transaction that writes.
    pub(crate) fn put_sdt_twin(
        &self,
        (submodel_id, platform): (&str, &str),
        (json, sealed): (&str, &str),
        check_platform: &dyn Fn(Option<String>) -> Result<(), StoreError>,
        check_existing: &dyn Fn(bool) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut connection = self.writer();
        let tx = write_transaction(&mut connection)?;
        check_platform(platform_in(&tx, platform)?)?;
        let exists = row_exists(
            &tx,
            "SELECT 1 FROM sdt_twins WHERE submodel_id = ?1",
            submodel_id,
        )?;
        check_existing(exists)?;
        tx.execute(
            "INSERT INTO sdt_twins (submodel_id, json, sealed) VALUES (?1, ?2, ?3) \
             ON CONFLICT(submodel_id) DO UPDATE SET json = excluded.json, sealed = excluded.sealed",
            params![submodel_id, json, sealed],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Deletes a binding; `false` if there was none.
    pub(crate) fn delete_sdt_twin(&self, submodel_id: &str) -> Result<bool, StoreError> {
        Ok(self.writer().execute(
            "DELETE FROM sdt_twins WHERE submodel_id = ?1",
            [submodel_id],
        )? > 0)
    }

    /// Runs `sql` as it is on the writer (tests that put rows no store would write).
    #[cfg(test)]
    pub(crate) fn execute_script(&self, sql: &str) -> Result<(), StoreError> {
        Ok(self.writer().execute_batch(sql)?)
    }
}
