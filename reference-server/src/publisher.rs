//! Drains the outbox to the MQTT broker, and keeps the event log to its retention period.
//!
//! The delivery policy (batches, an entry that fails tried alone, back-off, dead letters,
//! outages told apart from refusals) is `events_core::drain_outbox`; this module implements its
//! [`Outbox`] over the server's storage and connects the sink.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
pub use events_core::Delivery;
use events_core::{Backoff, EventSink, MqttConfig, MqttSink, Outbox, OutboxEntry as Entry};
use tokio::sync::Notify;

use crate::storage::{Repository, StorageError};

/// What an MQTT PUBLISH adds to its payload, at most (fixed header, packet id, the topic:
/// at most 64 KiB), with room to spare.
pub const PACKET_HEADROOM: usize = 128 << 10;
/// The default largest event: the embedded broker's limit less [`PACKET_HEADROOM`].
pub const DEFAULT_MAX_EVENT_SIZE: usize = crate::broker::MAX_PAYLOAD - PACKET_HEADROOM;
/// The default number of counted failures before an entry becomes a dead letter.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;
/// How long the event feed keeps events by default.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// The waits between attempts to reach the broker at start: 200 ms, doubled up to 10 s.
const BROKER_RETRY: Backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));

/// Connects to the broker, retrying until it answers, then publishes forever.
pub async fn run(repository: Arc<dyn Repository>, config: MqttConfig, delivery: Delivery) {
    // The client must not refuse what the settings let through.
    let config = config.with_max_packet_size(
        (16 << 20).max(delivery.max_event_size.saturating_add(PACKET_HEADROOM)),
    );
    let mut retry = BROKER_RETRY.retry();
    let sink = loop {
        match MqttSink::connect(&config).await {
            Ok(sink) => break sink,
            Err(error) => {
                tracing::warn!(%error, "MQTT broker not reachable; events wait in the outbox");
                tokio::time::sleep(retry.failed()).await;
            }
        }
    };
    tracing::info!(broker = %config.broker(), "publishing change events");
    drain(repository, &sink, delivery).await;
}

/// The outbox table of the server's storage.
struct StoredOutbox {
    repository: Arc<dyn Repository>,
    /// Taken once: a change committed between a read and the wait leaves a permit.
    signal: Arc<Notify>,
}

#[async_trait]
impl Outbox for StoredOutbox {
    type Error = StorageError;

    async fn due(&self, limit: usize) -> Result<Vec<Entry>, Self::Error> {
        let entries = self.repository.outbox(limit).await?;
        Ok(entries
            .into_iter()
            .map(|e| Entry {
                sequence: e.sequence,
                topic: e.topic,
                payload: e.payload,
                attempts: e.attempts,
            })
            .collect())
    }

    async fn next_due(&self) -> Result<Option<DateTime<Utc>>, Self::Error> {
        self.repository.outbox_next_due().await
    }

    async fn added(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.signal.notified()).await;
    }

    async fn acknowledge(&self, sequences: &[i64]) -> Result<(), Self::Error> {
        self.repository.acknowledge(sequences).await
    }

    async fn record_failure(
        &self,
        sequence: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), Self::Error> {
        (self
            .repository
            .record_failure(sequence, error, retry_at)
            .await)
            .map(drop)
    }

    async fn dead_letter(&self, sequence: i64, reason: &str) -> Result<(), Self::Error> {
        self.repository.dead_letter(sequence, reason).await
    }
}

/// Publishes outbox entries as they come, forever.
pub async fn drain(repository: Arc<dyn Repository>, sink: &dyn EventSink, delivery: Delivery) {
    let signal = repository.outbox_signal();
    let outbox = StoredOutbox { repository, signal };
    events_core::drain_outbox(&outbox, sink, delivery).await;
}

/// Removes events older than the retention period from the event log, now and then, forever.
pub async fn prune(repository: Arc<dyn Repository>, retention: Duration) {
    // Often enough that the feed holds little more than the period.
    let every = (retention / 10).clamp(Duration::from_secs(1), Duration::from_secs(60));
    loop {
        // A retention too long for a date keeps everything.
        let before = chrono::Duration::from_std(retention)
            .ok()
            .and_then(|retention| Utc::now().checked_sub_signed(retention));
        if let Some(before) = before {
            // An error is logged; pruning goes on.
            match repository.prune_events(before).await {
                Ok(0) => {}
                Ok(removed) => tracing::debug!(removed, "events past the retention period pruned"),
                Err(error) => tracing::error!(%error, "cannot prune the event log"),
            }
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use aas_model::Submodel;
    use async_trait::async_trait;
    use events_core::{EventMessage, SinkError};

    use super::*;
    use crate::storage::{Event, SqliteRepository};

    /// Refuses every message on one topic, keeps the others.
    struct Refusing {
        refused: String,
        delivered: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl EventSink for Refusing {
        async fn publish(&self, message: &EventMessage) -> Result<(), SinkError> {
            if message.topic == self.refused {
                return Err(SinkError::SessionLost);
            }
            self.delivered
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(message.topic.clone());
            Ok(())
        }
    }

    /// A change of the submodel `urn:sm:<topic>` with one event, of `payload` (else the topic).
    async fn change(
        repository: &dyn Repository,
        topic: &str,
        payload: Option<Vec<u8>>,
    ) -> Result<(), StorageError> {
        let submodel = Submodel::new(format!("urn:sm:{topic}"));
        let json = aas_serde::json::to_string(&submodel).into();
        let (topic, payload) = (
            topic.to_owned(),
            payload.unwrap_or(topic.as_bytes().to_vec()),
        );
        let events =
            Box::new(move |_, _: &[String]| vec![Event::new(&topic, payload.clone(), Utc::now())]);
        (repository.put_submodel_serialized(Arc::new(submodel), json, events)).await?;
        Ok(())
    }

    #[tokio::test]
    async fn a_refused_event_blocks_nothing_and_becomes_a_dead_letter()
    -> Result<(), Box<dyn std::error::Error>> {
        let repository: Arc<dyn Repository> = Arc::new(SqliteRepository::in_memory()?);
        for topic in ["before", "refused", "after"] {
            change(repository.as_ref(), topic, None).await?;
        }
        let sink = Arc::new(Refusing {
            refused: "refused".into(),
            delivered: Mutex::new(Vec::new()),
        });
        let delivery = Delivery {
            max_attempts: 3,
            back_off: Duration::from_millis(20),
            ..Delivery::new(DEFAULT_MAX_EVENT_SIZE, DEFAULT_MAX_ATTEMPTS)
        };
        let drained = repository.clone();
        let publishing = sink.clone();
        let publisher =
            tokio::spawn(async move { drain(drained, publishing.as_ref(), delivery).await });
        // Later changes keep coming; each lets the publisher tell a refusal from an outage.
        let mut n = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while repository.dead_letters(10, None).await?.items.is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "no dead letter");
            change(repository.as_ref(), &format!("later-{n}"), None).await?;
            n += 1;
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        // Whatever was written is delivered, the refused event aside.
        while !repository.outbox(10).await?.is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "events left behind");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        publisher.abort();
        let delivered = sink
            .delivered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let mut expected = vec!["before".to_owned(), "after".to_owned()];
        expected.extend((0..n).map(|n| format!("later-{n}")));
        let mut sorted = delivered.clone();
        sorted.sort();
        sorted.dedup();
        expected.sort();
        assert_eq!(sorted, expected);
        assert!(repository.outbox(10).await?.is_empty());
        let letters = repository.dead_letters(10, None).await?.items;
        assert_eq!(letters.len(), 1);
        assert_eq!(
            (letters[0].topic.as_str(), letters[0].attempts),
            ("refused", 3)
        );
        assert!(
            letters[0].error.contains("3 attempts"),
            "{}",
            letters[0].error
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_message_over_the_largest_event_becomes_a_dead_letter_at_once()
    -> Result<(), Box<dyn std::error::Error>> {
        let repository: Arc<dyn Repository> = Arc::new(SqliteRepository::in_memory()?);
        change(repository.as_ref(), "small", None).await?;
        change(repository.as_ref(), "big", Some(vec![b'x'; 100])).await?;
        change(repository.as_ref(), "small-too", None).await?;
        let sink = Arc::new(Refusing {
            refused: String::new(),
            delivered: Mutex::new(Vec::new()),
        });
        let delivery = Delivery::new(50, DEFAULT_MAX_ATTEMPTS);
        let drained = repository.clone();
        let publishing = sink.clone();
        let publisher =
            tokio::spawn(async move { drain(drained, publishing.as_ref(), delivery).await });
        tokio::time::sleep(Duration::from_millis(500)).await;
        publisher.abort();
        let delivered = sink
            .delivered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        assert_eq!(delivered, ["small", "small-too"]);
        let letters = repository.dead_letters(10, None).await?.items;
        assert_eq!((letters.len(), letters[0].size), (1, 100));
        assert!(
            letters[0].error.contains("100 bytes"),
            "{}",
            letters[0].error
        );
        Ok(())
    }
}
