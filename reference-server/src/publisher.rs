//! Drains the outbox to the event sink, and keeps the event log to its retention period.
//!
//! Entries go out in order, in batches, and each is deleted only after the broker acknowledged
//! it. A broker that is down, or a server that is killed, only delays events: they wait in the
//! outbox, which was written with the changes themselves.
//!
//! One entry that cannot be sent does not hold up the others:
//! - a message larger than the largest event ([`Delivery::max_event_size`]) is never handed to
//!   the broker: it becomes a dead letter at once (the write side publishes the reference-only
//!   message of such events, so this only happens when the setting was lowered since);
//! - an entry that fails is tried again **alone**; if it fails alone while the next entry, also
//!   sent alone, is acknowledged, the broker works and this entry is the problem: the failure
//!   counts, the entry waits out a back-off (doubling from [`Delivery::back_off`]) while later
//!   entries go on, and after [`Delivery::max_attempts`] counted failures it becomes a dead
//!   letter. Failures while the broker accepts nothing (an outage) count against no entry.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use events_core::mqtt::{MqttConfig, MqttSink};
use events_core::{Encoding, EventMessage, EventSink, SinkError, TopicScheme};
use futures_util::future::join_all;

use crate::storage::{OutboxEntry, Repository, StorageError};

/// How many entries one round publishes at once; the sink pipelines them.
const BATCH: usize = 256;
/// How long the publisher sleeps when nothing wakes it (a safety net: changes wake it).
const IDLE: Duration = Duration::from_secs(5);
/// What an MQTT PUBLISH adds to its payload, at most (fixed header, packet id, the topic:
/// at most 64 KiB), with room to spare.
pub const PACKET_HEADROOM: usize = 128 << 10;
/// The default largest event: the embedded broker's limit less [`PACKET_HEADROOM`].
pub const DEFAULT_MAX_EVENT_SIZE: usize = crate::broker::MAX_PAYLOAD - PACKET_HEADROOM;
/// The default number of counted failures before an entry becomes a dead letter.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;
/// How long the event feed keeps events by default.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// What the publisher does with messages it cannot send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// Larger messages are not handed to the broker (they become dead letters at once).
    pub max_event_size: usize,
    /// Counted failures after which an entry becomes a dead letter (at least 1).
    pub max_attempts: u32,
    /// How long one publish may wait for the broker's acknowledgement.
    pub publish_timeout: Duration,
    /// The wait after an entry's first counted failure; doubled after each further one.
    pub back_off: Duration,
    /// The longest wait between two attempts of an entry.
    pub max_back_off: Duration,
}

impl Delivery {
    /// The server's policy with these limits: 30 s per publish, back-off from 1 s to 5 min
    /// (10 attempts take about 8 minutes).
    pub fn new(max_event_size: usize, max_attempts: u32) -> Self {
        Self {
            max_event_size,
            max_attempts: max_attempts.max(1),
            publish_timeout: Duration::from_secs(30),
            back_off: Duration::from_secs(1),
            max_back_off: Duration::from_secs(300),
        }
    }

    /// The wait after the `attempts`-th counted failure.
    fn back_off_after(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(20);
        self.back_off
            .saturating_mul(1 << doublings)
            .min(self.max_back_off)
    }
}

impl Default for Delivery {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_EVENT_SIZE, DEFAULT_MAX_ATTEMPTS)
    }
}

/// The topic roots the server publishes under, which only it may publish under on the
/// embedded broker: those of the configured encodings, and those of every encoding the server
/// has, since the outbox can hold events of an encoding configured before a restart (and a
/// consumer of the other encoding must not get forged events either).
pub fn topic_roots(encodings: &[Encoding]) -> Vec<String> {
    let mut roots: Vec<String> = encodings
        .iter()
        .map(|encoding| encoding.topics().root())
        .chain([
            TopicScheme::twinsphere().root(),
            TopicScheme::cloud_events().root(),
        ])
        .map(str::to_owned)
        .collect();
    roots.sort();
    roots.dedup();
    roots
}

/// Connects to the broker, retrying until it answers, then publishes forever.
pub async fn run(repository: Arc<dyn Repository>, config: MqttConfig, delivery: Delivery) {
    // The client must not refuse what the settings let through.
    let config = config.with_max_packet_size(
        (16 << 20).max(delivery.max_event_size.saturating_add(PACKET_HEADROOM)),
    );
    let mut delay = Duration::from_millis(200);
    let sink = loop {
        match MqttSink::connect(&config).await {
            Ok(sink) => break sink,
            Err(error) => {
                tracing::warn!(%error, "MQTT broker not reachable; events wait in the outbox");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    };
    tracing::info!(broker = %config.broker(), "publishing change events");
    drain(repository, &sink, delivery).await;
}

/// Runs blocking storage work off the async threads; errors are logged (the publisher goes
/// on: what was not recorded is sent again).
async fn stored<T: Send + 'static>(
    repository: &Arc<dyn Repository>,
    what: &'static str,
    work: impl FnOnce(&dyn Repository) -> Result<T, StorageError> + Send + 'static,
) -> Option<T> {
    let repository = repository.clone();
    match tokio::task::spawn_blocking(move || work(repository.as_ref())).await {
        Ok(Ok(value)) => Some(value),
        Ok(Err(error)) => {
            tracing::error!(%error, "{what}");
            None
        }
        Err(error) => {
            tracing::error!(%error, "{what}");
            None
        }
    }
}

/// Why one publish failed.
#[derive(Debug, thiserror::Error)]
enum PublishError {
    #[error("{0}")]
    Sink(#[source] SinkError),
    #[error("no acknowledgement within {} s", .0.as_secs_f32())]
    Timeout(Duration),
    /// The entry's event log entry is gone (such entries go to the dead letters unsent).
    #[error("its event log entry is gone: there is nothing to send")]
    NoPayload,
}

/// One publish, bounded by the timeout.
async fn publish(
    sink: &dyn EventSink,
    delivery: &Delivery,
    entry: &OutboxEntry,
) -> Result<(), PublishError> {
    let message = EventMessage {
        topic: entry.topic.clone(),
        payload: entry.payload.clone().ok_or(PublishError::NoPayload)?,
    };
    match tokio::time::timeout(delivery.publish_timeout, sink.publish(&message)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(PublishError::Sink(error)),
        Err(_) => Err(PublishError::Timeout(delivery.publish_timeout)),
    }
}

/// Publishes outbox entries as they come, forever.
pub async fn drain(repository: Arc<dyn Repository>, sink: &dyn EventSink, delivery: Delivery) {
    let signal = repository.outbox_signal();
    // The wait after a round in which the broker accepted nothing.
    let mut delay = Duration::from_millis(100);
    // An entry that failed: the next round sends it alone.
    let mut suspect: Option<i64> = None;
    loop {
        let Some(entries) =
            stored(&repository, "cannot read the outbox", |r| r.outbox(BATCH)).await
        else {
            tokio::time::sleep(IDLE).await;
            continue;
        };
        if entries.is_empty() {
            // Until a change commits (a change committed after the read above left a permit:
            // no wake-up is lost), or an entry waiting out its back-off is due.
            let next_due = stored(&repository, "cannot read the outbox", |r| {
                r.outbox_next_due()
            })
            .await
            .flatten();
            let wait = next_due
                .and_then(|due| (due - Utc::now()).to_std().ok())
                .map_or(IDLE, |wait| wait.min(IDLE));
            let _ = tokio::time::timeout(wait, signal.notified()).await;
            continue;
        }
        let entries = unsendable_to_dead_letters(&repository, &delivery, entries).await;
        if entries.is_empty() {
            continue;
        }
        if let Some(sequence) = suspect.take()
            && let Some(entry) = entries.iter().find(|e| e.sequence == sequence)
        {
            match isolate(&repository, sink, &delivery, entry, &entries).await {
                Isolated::Delivered => delay = Duration::from_millis(100),
                Isolated::Blamed => delay = Duration::from_millis(100),
                Isolated::BrokerTrouble => {
                    suspect = Some(sequence);
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
            continue;
        }
        // Started in order, so the broker receives them in order.
        let outcomes = join_all(entries.iter().map(|entry| publish(sink, &delivery, entry))).await;
        let mut delivered = Vec::with_capacity(entries.len());
        let mut failure = None;
        for (entry, outcome) in entries.iter().zip(outcomes) {
            match outcome {
                Ok(()) => delivered.push(entry.sequence),
                Err(error) => {
                    if failure.is_none() {
                        failure = Some((entry.sequence, error));
                    }
                }
            }
        }
        let any_delivered = !delivered.is_empty();
        if any_delivered {
            // Not deleted means sent again later: subscribers drop duplicates.
            stored(&repository, "cannot delete published events", move |r| {
                r.acknowledge(&delivered)
            })
            .await;
        }
        if let Some((sequence, error)) = failure {
            tracing::warn!(%error, sequence, "event not acknowledged; trying it alone");
            suspect = Some(sequence);
            if !any_delivered {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        } else {
            delay = Duration::from_millis(100);
        }
    }
}

/// Entries that can never be sent (too large, or their message is gone) become dead letters;
/// the others are returned.
async fn unsendable_to_dead_letters(
    repository: &Arc<dyn Repository>,
    delivery: &Delivery,
    entries: Vec<OutboxEntry>,
) -> Vec<OutboxEntry> {
    let mut sendable = Vec::with_capacity(entries.len());
    for entry in entries {
        let reason = match &entry.payload {
            None => "its message is no longer in the event log".to_owned(),
            Some(payload) if payload.len() > delivery.max_event_size => format!(
                "its message has {} bytes, more than the largest event ({} bytes)",
                payload.len(),
                delivery.max_event_size
            ),
            Some(_) => {
                sendable.push(entry);
                continue;
            }
        };
        tracing::error!(sequence = entry.sequence, topic = %entry.topic, "dead letter: {reason}");
        let sequence = entry.sequence;
        stored(
            repository,
            "cannot move an event to the dead letters",
            move |r| r.dead_letter(sequence, &reason),
        )
        .await;
    }
    sendable
}

enum Isolated {
    /// The suspect went through alone.
    Delivered,
    /// It failed alone while another entry went through: its failure counted.
    Blamed,
    /// Neither went through (or there was no other to try): nothing counted.
    BrokerTrouble,
}

/// Sends `suspect` alone; if it fails, sends another entry alone to learn whether the broker
/// works, and if it does, counts the suspect's failure.
async fn isolate(
    repository: &Arc<dyn Repository>,
    sink: &dyn EventSink,
    delivery: &Delivery,
    suspect: &OutboxEntry,
    entries: &[OutboxEntry],
) -> Isolated {
    let error = match publish(sink, delivery, suspect).await {
        Ok(()) => {
            let sequence = suspect.sequence;
            stored(repository, "cannot delete published events", move |r| {
                r.acknowledge(&[sequence])
            })
            .await;
            return Isolated::Delivered;
        }
        Err(error) => error.to_string(),
    };
    let Some(probe) = entries.iter().find(|e| e.sequence != suspect.sequence) else {
        return Isolated::BrokerTrouble;
    };
    if publish(sink, delivery, probe).await.is_err() {
        return Isolated::BrokerTrouble;
    }
    let (sequence, probe_sequence) = (suspect.sequence, probe.sequence);
    stored(repository, "cannot delete published events", move |r| {
        r.acknowledge(&[probe_sequence])
    })
    .await;
    let attempts = suspect.attempts.saturating_add(1);
    if attempts >= delivery.max_attempts {
        tracing::error!(sequence, topic = %suspect.topic, attempts, %error, "dead letter");
        let reason = format!("{attempts} attempts failed; the last: {error}");
        stored(
            repository,
            "cannot move an event to the dead letters",
            move |r| {
                r.record_failure(sequence, &error, Utc::now())?;
                r.dead_letter(sequence, &reason)
            },
        )
        .await;
    } else {
        let wait = delivery.back_off_after(attempts);
        tracing::warn!(sequence, topic = %suspect.topic, attempts, %error, "event refused; trying it again in {wait:?}");
        // A wait too long for a date: never again before the dead letters take it.
        let retry_at = chrono::Duration::from_std(wait)
            .ok()
            .and_then(|wait| Utc::now().checked_add_signed(wait))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        stored(repository, "cannot record a failed publish", move |r| {
            r.record_failure(sequence, &error, retry_at)
        })
        .await;
    }
    Isolated::Blamed
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
        if let Some(before) = before
            && let Some(removed) = stored(&repository, "cannot prune the event log", move |r| {
                r.prune_events(before)
            })
            .await
            && removed > 0
        {
            tracing::debug!(removed, "events past the retention period pruned");
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use aas_model::Submodel;
    use async_trait::async_trait;
    use events_core::SinkError;

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

    fn change(repository: &SqliteRepository, topic: &str) -> Result<(), StorageError> {
        repository.put_submodel(&Submodel::new(format!("urn:sm:{topic}")), &|_| {
            vec![Event::new(topic, topic.as_bytes().to_vec(), Utc::now())]
        })?;
        Ok(())
    }

    #[test]
    fn the_servers_topic_roots_are_those_of_every_encoding_configured_or_not() {
        assert_eq!(topic_roots(&[]), ["aas-events", "twinsphere"]);
        assert_eq!(
            topic_roots(&[Encoding::twinsphere()]),
            ["aas-events", "twinsphere"]
        );
    }

    #[tokio::test]
    async fn a_refused_event_blocks_nothing_and_becomes_a_dead_letter()
    -> Result<(), Box<dyn std::error::Error>> {
        let repository = Arc::new(SqliteRepository::in_memory()?);
        for topic in ["before", "refused", "after"] {
            change(&repository, topic)?;
        }
        let sink = Arc::new(Refusing {
            refused: "refused".into(),
            delivered: Mutex::new(Vec::new()),
        });
        let delivery = Delivery {
            max_attempts: 3,
            back_off: Duration::from_millis(20),
            ..Delivery::default()
        };
        let drained: Arc<dyn Repository> = repository.clone();
        let publishing = sink.clone();
        let publisher =
            tokio::spawn(async move { drain(drained, publishing.as_ref(), delivery).await });
        // Later changes keep coming; each lets the publisher tell a refusal from an outage.
        let mut n = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while repository.dead_letters(10, None)?.items.is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "no dead letter");
            change(&repository, &format!("later-{n}"))?;
            n += 1;
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        // Whatever was written is delivered, the refused event aside.
        while !repository.outbox(10)?.is_empty() {
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
        assert!(repository.outbox(10)?.is_empty());
        let letters = repository.dead_letters(10, None)?.items;
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
    async fn an_outage_counts_against_no_event() -> Result<(), Box<dyn std::error::Error>> {
        /// Refuses everything: a broker that is down.
        struct Down;
        #[async_trait]
        impl EventSink for Down {
            async fn publish(&self, _: &EventMessage) -> Result<(), SinkError> {
                Err(SinkError::Closed)
            }
        }
        let repository = Arc::new(SqliteRepository::in_memory()?);
        for topic in ["a", "b", "c"] {
            change(&repository, topic)?;
        }
        let delivery = Delivery {
            max_attempts: 1,
            ..Delivery::default()
        };
        let drained: Arc<dyn Repository> = repository.clone();
        let publisher = tokio::spawn(async move { drain(drained, &Down, delivery).await });
        tokio::time::sleep(Duration::from_millis(1500)).await;
        publisher.abort();
        assert!(repository.dead_letters(10, None)?.items.is_empty());
        let waiting = repository.outbox(10)?;
        assert_eq!(waiting.len(), 3);
        assert!(waiting.iter().all(|entry| entry.attempts == 0));
        Ok(())
    }

    #[tokio::test]
    async fn a_message_over_the_largest_event_becomes_a_dead_letter_at_once()
    -> Result<(), Box<dyn std::error::Error>> {
        let repository = Arc::new(SqliteRepository::in_memory()?);
        change(&repository, "small")?;
        repository.put_submodel(&Submodel::new("urn:sm:big"), &|_| {
            vec![Event::new("big", vec![b'x'; 100], Utc::now())]
        })?;
        change(&repository, "small-too")?;
        let sink = Arc::new(Refusing {
            refused: String::new(),
            delivered: Mutex::new(Vec::new()),
        });
        let delivery = Delivery {
            max_event_size: 50,
            ..Delivery::default()
        };
        let drained: Arc<dyn Repository> = repository.clone();
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
        let letters = repository.dead_letters(10, None)?.items;
        assert_eq!((letters.len(), letters[0].size), (1, 100));
        assert!(
            letters[0].error.contains("100 bytes"),
            "{}",
            letters[0].error
        );
        Ok(())
    }

    #[test]
    fn back_off_doubles_up_to_its_ceiling() {
        let delivery = Delivery::default();
        assert_eq!(delivery.back_off_after(1), Duration::from_secs(1));
        assert_eq!(delivery.back_off_after(3), Duration::from_secs(4));
        assert_eq!(delivery.back_off_after(30), Duration::from_secs(300));
    }
}
