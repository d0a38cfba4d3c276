//! The twin store's rows (tables `sdt_platforms` and `sdt_twins`, see the `twins`
//! migrations), as [`crate::sync::SdtStore`] keeps them: JSON texts and sealed credentials it
//! made and reads itself, so that only this module knows the tables and their SQL.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::{Database, SqliteRepository, row_exists, write_transaction};
use crate::storage::{Check, StoreError, TwinRecords};

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

#[async_trait]
impl TwinRecords for SqliteRepository {
    async fn sdt_platforms(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.run(|this| all(&this.database, "sdt_platforms", "name"))
            .await
    }

    async fn sdt_platform(&self, name: &str) -> Result<Option<String>, StoreError> {
        let name = name.to_owned();
        self.run(move |this| platform_in(&this.database.reader(), &name))
            .await
    }

    async fn put_sdt_platform(
        &self,
        name: &str,
        json: &str,
        check: Check<bool>,
    ) -> Result<(), StoreError> {
        let (name, json) = (name.to_owned(), json.to_owned());
        self.run(move |this| {
            let mut connection = this.database.writer();
            let tx = write_transaction(&mut connection)?;
            let exists = row_exists(&tx, "SELECT 1 FROM sdt_platforms WHERE name = ?1", &name)?;
            check(exists)?;
            tx.execute(
                "INSERT INTO sdt_platforms (name, json) VALUES (?1, ?2) \
                 ON CONFLICT(name) DO UPDATE SET json = excluded.json",
                params![name, json],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// The count and the deletion are one transaction, so a binding made meanwhile cannot be
    /// left without its platform.
    async fn delete_sdt_platform(&self, name: &str, check: Check<i64>) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.run(move |this| {
            let mut connection = this.database.writer();
            let tx = write_transaction(&mut connection)?;
            let twins: i64 = tx.query_row(
                "SELECT COUNT(*) FROM sdt_twins WHERE json ->> '$.platform' = ?1",
                [&name],
                |row| row.get(0),
            )?;
            check(twins)?;
            if tx.execute("DELETE FROM sdt_platforms WHERE name = ?1", [&name])? == 0 {
                return Ok(false);
            }
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn sdt_twins(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.run(|this| all(&this.database, "sdt_twins", "submodel_id"))
            .await
    }

    async fn sdt_twin(&self, submodel_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .sdt_twin_sealed(submodel_id)
            .await?
            .map(|(json, _)| json))
    }

    async fn sdt_twin_ids(&self) -> Result<Vec<String>, StoreError> {
        self.run(|this| {
            let connection = this.database.reader();
            let mut statement =
                connection.prepare("SELECT submodel_id FROM sdt_twins ORDER BY 1")?;
            let ids = statement
                .query_map([], |row| row.get(0))?
                .collect::<Result<_, _>>()?;
            Ok(ids)
        })
        .await
    }

    async fn sdt_twins_sealed(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        self.run(|this| {
            let connection = this.database.reader();
            let mut statement =
                connection.prepare("SELECT submodel_id, json, sealed FROM sdt_twins ORDER BY 1")?;
            let rows = statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn sdt_twin_sealed(
        &self,
        submodel_id: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let submodel_id = submodel_id.to_owned();
        self.run(move |this| {
            Ok(this
                .database
                .reader()
                .query_row(
                    "SELECT json, sealed FROM sdt_twins WHERE submodel_id = ?1",
                    [submodel_id],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?)
        })
        .await
    }

    async fn put_sdt_twin(
        &self,
        ids: (&str, &str),
        texts: (&str, &str),
        check_platform: Check<Option<String>>,
        check_existing: Check<bool>,
    ) -> Result<(), StoreError> {
        let [submodel_id, platform, json, sealed] =
            [ids.0, ids.1, texts.0, texts.1].map(str::to_owned);
        self.run(move |this| {
            let mut connection = this.database.writer();
            let tx = write_transaction(&mut connection)?;
            check_platform(platform_in(&tx, &platform)?)?;
            let exists = row_exists(
                &tx,
                "SELECT 1 FROM sdt_twins WHERE submodel_id = ?1",
                &submodel_id,
            )?;
            check_existing(exists)?;
            tx.execute(
                "INSERT INTO sdt_twins (submodel_id, json, sealed) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(submodel_id) DO UPDATE SET json = excluded.json, \
                 sealed = excluded.sealed",
                params![submodel_id, json, sealed],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn delete_sdt_twin(&self, submodel_id: &str) -> Result<bool, StoreError> {
        let submodel_id = submodel_id.to_owned();
        self.run(move |this| {
            let writer = this.database.writer();
            Ok(writer.execute(
                "DELETE FROM sdt_twins WHERE submodel_id = ?1",
                [submodel_id],
            )? > 0)
        })
        .await
    }
}

#[cfg(test)]
mod test_calls {
    impl super::Database {
        /// Runs `sql` as it is on the writer (tests that put rows no store would write).
        pub(crate) fn execute_script(&self, sql: &str) -> Result<(), super::StoreError> {
            Ok(self.writer().execute_batch(sql)?)
        }
    }
}
