//! [`PgTwinLeases`]: a twin's lease is a session advisory lock on a connection of the
//! replica's own (outside the pool), keyed by the twin's id. PostgreSQL releases every lock
//! of a session when its connection ends, so the leases of a replica that dies (killed,
//! crashed, cut off) are free again as soon as the database notices, and another replica's
//! next round takes them.

use std::collections::HashSet;

use async_trait::async_trait;

use super::PgDatabase;
use crate::storage::TwinLeases;

/// The first key of the twins' advisory locks (the second is `hashtext` of the twin's id):
/// apart from every other lock of the server ("astw").
const TWIN_LOCK_CLASS: i32 = 0x6173_7477;

/// How long [`TwinLeases::held`] waits for the lease connection to answer.
const LIVENESS_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The twins' leases of one replica.
pub struct PgTwinLeases {
    config: tokio_postgres::Config,
    state: tokio::sync::Mutex<Held>,
}

impl std::fmt::Debug for PgTwinLeases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTwinLeases").finish_non_exhaustive()
    }
}

/// The lease connection and what this replica holds on it.
#[derive(Default)]
struct Held {
    client: Option<tokio_postgres::Client>,
    twins: HashSet<String>,
}

impl Held {
    /// Forgets a broken connection, and with it every lease.
    fn check(&mut self) {
        if self
            .client
            .as_ref()
            .is_some_and(tokio_postgres::Client::is_closed)
        {
            self.client = None;
            self.twins.clear();
        }
    }
}

impl PgTwinLeases {
    /// Leases on the database `database` connects to (a connection of their own, made when
    /// first needed).
    pub fn new(database: &PgDatabase) -> Self {
        Self {
            config: database.config.clone(),
            state: tokio::sync::Mutex::default(),
        }
    }
}

#[async_trait]
impl TwinLeases for PgTwinLeases {
    async fn take(&self, twin: &str) -> bool {
        let mut held = self.state.lock().await;
        held.check();
        if held.twins.contains(twin) {
            return true;
        }
        if held.client.is_none() {
            match self.config.connect(tokio_postgres::NoTls).await {
                Ok((client, connection)) => {
                    tokio::spawn(async move {
                        if let Err(error) = connection.await {
                            tracing::warn!(%error, "the twin lease connection broke");
                        }
                    });
                    held.client = Some(client);
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot connect for twin leases");
                    return false;
                }
            }
        }
        let Some(client) = held.client.as_ref() else {
            return false;
        };
        let taken = client
            .query_one(
                "SELECT pg_try_advisory_lock($1, hashtext($2))",
                &[&TWIN_LOCK_CLASS, &twin],
            )
            .await;
        match taken {
            Ok(row) if row.get::<_, bool>(0) => {
                held.twins.insert(twin.to_owned());
                true
            }
            Ok(_) => false,
            Err(error) => {
                tracing::warn!(%error, twin, "cannot take a twin's lease");
                false
            }
        }
    }

    async fn release(&self, twin: &str) {
        let mut held = self.state.lock().await;
        held.check();
        if !held.twins.remove(twin) {
            return;
        }
        if let Some(client) = held.client.as_ref() {
            let released = client
                .execute(
                    "SELECT pg_advisory_unlock($1, hashtext($2))",
                    &[&TWIN_LOCK_CLASS, &twin],
                )
                .await;
            if let Err(error) = released {
                tracing::warn!(%error, twin, "cannot release a twin's lease");
            }
        }
    }

    /// Asks the lease connection first (a peer that vanished without closing it, or a
    /// database that failed over, holds none of these locks any more): on no answer within
    /// [`LIVENESS_WAIT`] every lease counts as lost.
    async fn held(&self) -> HashSet<String> {
        let mut held = self.state.lock().await;
        held.check();
        if let Some(client) = held.client.as_ref() {
            let answer = tokio::time::timeout(LIVENESS_WAIT, client.simple_query("SELECT 1")).await;
            if !matches!(answer, Ok(Ok(_))) {
                tracing::warn!("the twin lease connection does not answer: its leases are lost");
                held.client = None;
                held.twins.clear();
            }
        }
        held.twins.clone()
    }
}

#[cfg(test)]
mod tests {
    use aas_conformance_tests::postgres::Postgres;

    use super::*;
    use crate::storage::PgOptions;

    type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_twin_is_leased_to_one_replica_until_it_releases_it_or_its_connection_ends()
    -> TestResult {
        let cluster = Postgres::start();
        let database = PgDatabase::open(&cluster.url(), &PgOptions::default(), &[]).await?;
        let (first, second) = (PgTwinLeases::new(&database), PgTwinLeases::new(&database));
        assert!(first.take("urn:sm:1").await);
        assert!(first.take("urn:sm:1").await, "taken again by its holder");
        assert!(!second.take("urn:sm:1").await);
        assert!(second.take("urn:sm:2").await);
        first.release("urn:sm:1").await;
        assert!(second.take("urn:sm:1").await);
        assert_eq!(second.held().await.len(), 2);
        // The holder's connection ends (its replica died): the lease is free at once.
        drop(second);
        let mut taken = false;
        for _ in 0..50 {
            if first.take("urn:sm:2").await {
                taken = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(taken, "the dead holder's lease was not released within 5 s");
        Ok(())
    }
}
