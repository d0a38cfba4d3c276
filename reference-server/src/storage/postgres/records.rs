//! The push and twin records on PostgreSQL: the tables and rules of the SQLite backend
//! (`storage/sqlite/push.rs`, `twins.rs`), each check made in the transaction that writes, on
//! the row it locks.

use async_trait::async_trait;

use super::repository::{DB_NOW_US, PgRepository, execute, micros_of, query, query_opt};
use crate::storage::{Check, PushRecords, StoreError, TwinRecords};

impl PgRepository {
    /// The text in `column` of `name`'s push target.
    async fn target_text(&self, column: &str, name: &str) -> Result<Option<String>, StoreError> {
        let client = self.database.connection().await?;
        let sql = format!("SELECT {column} FROM push_targets WHERE name = $1");
        Ok(query_opt(&client, &sql, &[&name])
            .await?
            .map(|row| row.get(0)))
    }

    /// Every row (its key and `columns`) of `table`, ordered bytewise by `key`.
    async fn all(
        &self,
        table: &str,
        key: &str,
        column: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let client = self.database.connection().await?;
        let sql = format!("SELECT {key}, {column} FROM {table} ORDER BY {key} COLLATE \"C\"");
        let rows = query(&client, &sql, &[]).await?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }
}

#[async_trait]
impl PushRecords for PgRepository {
    async fn push_targets_shown(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.all("push_targets", "name", "redacted").await
    }

    async fn push_target_shown(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.target_text("redacted", name).await
    }

    async fn put_push_target(
        &self,
        name: &str,
        redacted: &str,
        sealed: &str,
        check: Check<bool>,
    ) -> Result<bool, StoreError> {
        let mut client = self.database.connection().await?;
        let tx = client.transaction().await?;
        let existed = write_checked(
            &tx,
            [
                "SELECT 1 FROM push_targets WHERE name = $1 FOR UPDATE",
                "INSERT INTO push_targets (name, redacted, sealed) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO NOTHING",
                "UPDATE push_targets SET redacted = $2, sealed = $3 WHERE name = $1",
            ],
            &[&name, &redacted, &sealed],
            check,
        )
        .await?;
        tx.commit().await?;
        Ok(existed)
    }

    async fn delete_push_target(&self, name: &str) -> Result<bool, StoreError> {
        let client = self.database.connection().await?;
        let sql = "DELETE FROM push_targets WHERE name = $1";
        Ok(execute(&client, sql, &[&name]).await? > 0)
    }

    async fn push_target_sealed(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.target_text("sealed", name).await
    }

    async fn push_targets_sealed(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.all("push_targets", "name", "sealed").await
    }

    async fn push_job(&self, identifier: &str) -> Result<Option<String>, StoreError> {
        let client = self.database.connection().await?;
        let sql = "SELECT json FROM push_jobs WHERE identifier = $1";
        Ok(query_opt(&client, sql, &[&identifier])
            .await?
            .map(|row| row.get(0)))
    }

    async fn push_jobs(
        &self,
        rows: usize,
        before: Option<i64>,
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        let client = self.database.connection().await?;
        let rows = i64::try_from(rows).unwrap_or(i64::MAX);
        let found = query(
            &client,
            "SELECT sequence, identifier, json FROM push_jobs WHERE sequence < $1 \
             ORDER BY sequence DESC LIMIT $2",
            &[&before.unwrap_or(i64::MAX), &rows],
        )
        .await?;
        Ok(found
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect())
    }

    async fn claim_unfinished_push_jobs(
        &self,
        limit: usize,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let client = self.database.connection().await?;
        let rows = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql = format!(
            "UPDATE push_jobs SET owner = $1, lease_until_us = {DB_NOW_US} + $2 \
             WHERE sequence IN (SELECT sequence FROM push_jobs \
             WHERE state = 'processing' AND lease_until_us < {DB_NOW_US} \
             ORDER BY sequence LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING sequence, identifier, json"
        );
        let lease = micros_of(self.leases.job);
        let mut found = query(&client, &sql, &[&&*self.leases.replica, &lease, &rows]).await?;
        found.sort_by_key(|row| row.get::<_, i64>(0));
        Ok(found.iter().map(|row| (row.get(1), row.get(2))).collect())
    }

    async fn renew_push_job_leases(&self, running: &[String]) -> Result<(), StoreError> {
        let client = self.database.connection().await?;
        let sql = format!(
            "UPDATE push_jobs SET lease_until_us = {DB_NOW_US} + $2 \
             WHERE owner = $1 AND state = 'processing' AND identifier = ANY($3)"
        );
        let lease = micros_of(self.leases.job);
        execute(&client, &sql, &[&&*self.leases.replica, &lease, &running]).await?;
        Ok(())
    }

    /// A job `processing` is leased to this replica; a finished one to none.
    async fn save_push_job(
        &self,
        identifier: &str,
        state: &str,
        json: &str,
    ) -> Result<(), StoreError> {
        let client = self.database.connection().await?;
        let owner = (state == "processing").then_some(&*self.leases.replica);
        let sql = format!(
            "INSERT INTO push_jobs (identifier, state, json, owner, lease_until_us) \
             VALUES ($1, $2, $3, $4, CASE WHEN $4::TEXT IS NULL THEN 0 ELSE {DB_NOW_US} + $5 END) \
             ON CONFLICT (identifier) DO UPDATE SET state = excluded.state, \
             json = excluded.json, owner = excluded.owner, \
             lease_until_us = excluded.lease_until_us"
        );
        let lease = micros_of(self.leases.job);
        execute(&client, &sql, &[&identifier, &state, &json, &owner, &lease]).await?;
        Ok(())
    }
}

/// Writes a named row once `check` (told whether it exists) allows it, in `tx`: the existing
/// row is locked first (`statements[0]`, `SELECT … FOR UPDATE` of `$1`), so a concurrent
/// delete waits for this transaction, and replaced (`statements[2]`); an absent one is
/// inserted (`statements[1]`, `ON CONFLICT DO NOTHING`). One created by another replica between
/// the look and the insert is looked at again (each statement sees what committed before it).
/// Whether it existed.
async fn write_checked(
    tx: &deadpool_postgres::Transaction<'_>,
    [lock, insert, update]: [&str; 3],
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    check: Check<bool>,
) -> Result<bool, StoreError> {
    for _ in 0..3 {
        if query_opt(tx, lock, &params[..1]).await?.is_some() {
            check(true)?;
            execute(tx, update, params).await?;
            return Ok(true);
        }
        check(false)?;
        if execute(tx, insert, params).await? == 1 {
            return Ok(false);
        }
    }
    Err(StoreError::Database(crate::storage::DatabaseError::new(
        crate::storage::database_error::DatabaseErrorKind::Other,
        "the record was created and deleted by others three times over while this write ran",
    )))
}

#[async_trait]
impl TwinRecords for PgRepository {
    async fn sdt_platforms(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.all("sdt_platforms", "name", "json").await
    }

    async fn sdt_platform(&self, name: &str) -> Result<Option<String>, StoreError> {
        let client = self.database.connection().await?;
        let sql = "SELECT json FROM sdt_platforms WHERE name = $1";
        Ok(query_opt(&client, sql, &[&name])
            .await?
            .map(|row| row.get(0)))
    }

    async fn put_sdt_platform(
        &self,
        name: &str,
        json: &str,
        check: Check<bool>,
    ) -> Result<(), StoreError> {
        let mut client = self.database.connection().await?;
        let tx = client.transaction().await?;
        write_checked(
            &tx,
            [
                "SELECT 1 FROM sdt_platforms WHERE name = $1 FOR UPDATE",
                "INSERT INTO sdt_platforms (name, json) VALUES ($1, $2) \
                 ON CONFLICT (name) DO NOTHING",
                "UPDATE sdt_platforms SET json = $2 WHERE name = $1",
            ],
            &[&name, &json],
            check,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_sdt_platform(&self, name: &str, check: Check<i64>) -> Result<bool, StoreError> {
        let mut client = self.database.connection().await?;
        let tx = client.transaction().await?;
        // Locked first: a binding made meanwhile waits for this transaction (it checks the
        // platform in its own, `FOR SHARE`), so the count stays true until the commit.
        let found = query_opt(
            &tx,
            "SELECT 1 FROM sdt_platforms WHERE name = $1 FOR UPDATE",
            &[&name],
        )
        .await?;
        if found.is_none() {
            return Ok(false);
        }
        let twins: i64 = query_opt(
            &tx,
            "SELECT COUNT(*) FROM sdt_twins WHERE json::jsonb ->> 'platform' = $1",
            &[&name],
        )
        .await?
        .map_or(0, |row| row.get(0));
        check(twins)?;
        execute(&tx, "DELETE FROM sdt_platforms WHERE name = $1", &[&name]).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn sdt_twins(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.all("sdt_twins", "submodel_id", "json").await
    }

    async fn sdt_twin(&self, submodel_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .sdt_twin_sealed(submodel_id)
            .await?
            .map(|(json, _)| json))
    }

    async fn sdt_twin_ids(&self) -> Result<Vec<String>, StoreError> {
        let client = self.database.connection().await?;
        let sql = "SELECT submodel_id FROM sdt_twins ORDER BY submodel_id COLLATE \"C\"";
        let rows = query(&client, sql, &[]).await?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    async fn sdt_twins_sealed(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        let client = self.database.connection().await?;
        let sql = "SELECT submodel_id, json, sealed FROM sdt_twins \
                   ORDER BY submodel_id COLLATE \"C\"";
        let rows = query(&client, sql, &[]).await?;
        Ok(rows
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect())
    }

    async fn sdt_twin_sealed(
        &self,
        submodel_id: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let client = self.database.connection().await?;
        let sql = "SELECT json, sealed FROM sdt_twins WHERE submodel_id = $1";
        let row = query_opt(&client, sql, &[&submodel_id]).await?;
        Ok(row.map(|row| (row.get(0), row.get(1))))
    }

    async fn put_sdt_twin(
        &self,
        ids: (&str, &str),
        texts: (&str, &str),
        check_platform: Check<Option<String>>,
        check_existing: Check<bool>,
    ) -> Result<(), StoreError> {
        let ((submodel_id, platform), (json, sealed)) = (ids, texts);
        let mut client = self.database.connection().await?;
        let tx = client.transaction().await?;
        // Shared: the platform cannot be deleted (or changed) until this binding commits.
        let platform_json = query_opt(
            &tx,
            "SELECT json FROM sdt_platforms WHERE name = $1 FOR SHARE",
            &[&platform],
        )
        .await?
        .map(|row| row.get(0));
        check_platform(platform_json)?;
        write_checked(
            &tx,
            [
                "SELECT 1 FROM sdt_twins WHERE submodel_id = $1 FOR UPDATE",
                "INSERT INTO sdt_twins (submodel_id, json, sealed) VALUES ($1, $2, $3) \
                 ON CONFLICT (submodel_id) DO NOTHING",
                "UPDATE sdt_twins SET json = $2, sealed = $3 WHERE submodel_id = $1",
            ],
            &[&submodel_id, &json, &sealed],
            check_existing,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_sdt_twin(&self, submodel_id: &str) -> Result<bool, StoreError> {
        let client = self.database.connection().await?;
        let sql = "DELETE FROM sdt_twins WHERE submodel_id = $1";
        Ok(execute(&client, sql, &[&submodel_id]).await? > 0)
    }
}
