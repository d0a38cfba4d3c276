//! The push store's rows (tables `push_targets` and `push_jobs`, see the `push` migrations),
//! as [`crate::push::PushStore`] keeps them: texts it made and reads itself (JSON, sealed
//! configurations), so that only this module knows the tables and their SQL.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::{SqliteRepository, row_exists, write_transaction};
use crate::storage::{Check, PushRecords, StoreError};

/// The texts of `name`'s row in `push_targets`, in `column`.
fn target_text(
    repository: &SqliteRepository,
    column: &str,
    name: &str,
) -> Result<Option<String>, StoreError> {
    let sql = format!("SELECT {column} FROM push_targets WHERE name = ?1");
    let connection = repository.database.reader();
    Ok(connection
        .query_row(&sql, [name], |row| row.get(0))
        .optional()?)
}

/// Every row of `push_targets` (its name, and `column`), by name.
fn targets(
    repository: &SqliteRepository,
    column: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    let connection = repository.database.reader();
    let sql = format!("SELECT name, {column} FROM push_targets ORDER BY name");
    let mut statement = connection.prepare_cached(&sql)?;
    let rows = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

#[async_trait]
impl PushRecords for SqliteRepository {
    async fn push_targets_shown(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.run(|this| targets(this, "redacted")).await
    }

    async fn push_target_shown(&self, name: &str) -> Result<Option<String>, StoreError> {
        let name = name.to_owned();
        self.run(move |this| target_text(this, "redacted", &name))
            .await
    }

    async fn put_push_target(
        &self,
        name: &str,
        redacted: &str,
        sealed: &str,
        check: Check<bool>,
    ) -> Result<bool, StoreError> {
        let texts = [name, redacted, sealed].map(str::to_owned);
        self.run(move |this| {
            let [name, redacted, sealed] = texts;
            let mut connection = this.database.writer();
            let tx = write_transaction(&mut connection)?;
            let existed = row_exists(&tx, "SELECT 1 FROM push_targets WHERE name = ?1", &name)?;
            check(existed)?;
            tx.execute(
                "INSERT INTO push_targets (name, redacted, sealed) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(name) DO UPDATE SET redacted = excluded.redacted, \
                 sealed = excluded.sealed",
                params![name, redacted, sealed],
            )?;
            tx.commit()?;
            Ok(existed)
        })
        .await
    }

    async fn delete_push_target(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.run(move |this| {
            let writer = this.database.writer();
            Ok(writer.execute("DELETE FROM push_targets WHERE name = ?1", [name])? > 0)
        })
        .await
    }

    async fn push_target_sealed(&self, name: &str) -> Result<Option<String>, StoreError> {
        let name = name.to_owned();
        self.run(move |this| target_text(this, "sealed", &name))
            .await
    }

    async fn push_targets_sealed(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.run(|this| targets(this, "sealed")).await
    }

    async fn push_job(&self, identifier: &str) -> Result<Option<String>, StoreError> {
        let identifier = identifier.to_owned();
        self.run(move |this| {
            Ok(this
                .database
                .reader()
                .query_row(
                    "SELECT json FROM push_jobs WHERE identifier = ?1",
                    [identifier],
                    |row| row.get(0),
                )
                .optional()?)
        })
        .await
    }

    async fn push_jobs(
        &self,
        rows: usize,
        before: Option<i64>,
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        self.run(move |this| {
            let connection = this.database.reader();
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
        })
        .await
    }

    async fn claim_unfinished_push_jobs(
        &self,
        limit: usize,
    ) -> Result<Vec<(String, String)>, StoreError> {
        self.run(move |this| {
            let connection = this.database.reader();
            let mut statement = connection.prepare(
                "SELECT identifier, json FROM push_jobs WHERE state = 'processing' \
                 ORDER BY sequence LIMIT ?1",
            )?;
            let rows = statement
                .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn renew_push_job_leases(&self, _running: &[String]) -> Result<(), StoreError> {
        Ok(())
    }

    async fn save_push_job(
        &self,
        identifier: &str,
        state: &str,
        json: &str,
    ) -> Result<(), StoreError> {
        let texts = [identifier, state, json].map(str::to_owned);
        self.run(move |this| {
            this.database.writer().execute(
                "INSERT INTO push_jobs (identifier, state, json) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(identifier) DO UPDATE SET state = excluded.state, \
                 json = excluded.json",
                params![texts[0], texts[1], texts[2]],
            )?;
            Ok(())
        })
        .await
    }
}
