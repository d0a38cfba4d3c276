//! Delivering an outbox of event messages to an [`EventSink`]: the policy of a transactional
//! outbox, independent of where the outbox is stored.
//!
//! A program that writes its events in the same transaction as its changes implements
//! [`Outbox`] over its storage and runs [`drain_outbox`]; then a broker that is down, or a program
//! that is killed, only delays events: they wait in the outbox. Entries go out in order, in
//! batches, and each is acknowledged (removed from the outbox) only after the sink delivered
//! it, so delivery is at least once; subscribers drop duplicates (`crate::Deduplicator`).
//!
//! One entry that cannot be sent does not hold up the others:
//! - a message larger than [`Delivery::max_event_size`] is never handed to the sink, and an
//!   entry without a message cannot be sent: both become dead letters at once;
//! - an entry that fails is tried again **alone**; if it fails alone while the next entry, also
//!   sent alone, is delivered, the sink works and this entry is the problem: the failure
//!   counts, the entry waits out a back-off (doubling from [`Delivery::back_off`]) while later
//!   entries go on, and after [`Delivery::max_attempts`] counted failures it becomes a dead
//!   letter. Failures while the sink accepts nothing (an outage) count against no entry.
//!
//! Errors of the outbox itself are logged (`tracing`) and the drain goes on: what was not
//! recorded as delivered is sent again.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::future::join_all;

use crate::backoff::Backoff;
use crate::message::EventMessage;
use crate::sink::{EventSink, SinkError};

/// How many entries one round publishes at once; sinks pipeline them.
const BATCH: usize = 256;
/// How long the drain sleeps when nothing wakes it (a safety net: additions wake it).
const IDLE: Duration = Duration::from_secs(5);
/// The waits between rounds while the sink accepts nothing: 100 ms after the first such
/// round, doubled up to 5 s.
const OUTAGE: Backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));

/// One message waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The entry's place in the outbox: increasing in the order entries were added.
    pub sequence: i64,
    /// The MQTT topic to publish to.
    pub topic: String,
    /// What to publish; `None` if the message is gone (the entry cannot be sent).
    pub payload: Option<Vec<u8>>,
    /// Counted failures so far.
    pub attempts: u32,
}

/// Where the entries wait: implemented over a program's storage. Every method may fail; the
/// drain logs the error and goes on.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Why storage failed.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Up to `limit` entries, in sequence order, leaving out those whose back-off (the
    /// `retry_at` of [`Outbox::record_failure`]) has not passed.
    async fn due(&self, limit: usize) -> Result<Vec<OutboxEntry>, Self::Error>;

    /// When the first entry left out by [`Outbox::due`] for its back-off is due, if any.
    async fn next_due(&self) -> Result<Option<DateTime<Utc>>, Self::Error>;

    /// Returns when an entry was added, or after `timeout`. An entry added since the previous
    /// call must end the wait at once (a wake-up is never lost, e.g. a `tokio::sync::Notify`
    /// permit), or it waits out the timeout.
    async fn added(&self, timeout: Duration);

    /// Removes delivered entries.
    async fn acknowledge(&self, sequences: &[i64]) -> Result<(), Self::Error>;

    /// Counts a failure of the entry (one more attempt) with its error, and leaves it out of
    /// [`Outbox::due`] until `retry_at`.
    async fn record_failure(
        &self,
        sequence: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), Self::Error>;

    /// Moves the entry out of the outbox to the dead letters, with the reason.
    async fn dead_letter(&self, sequence: i64, reason: &str) -> Result<(), Self::Error>;
}

/// What the drain does with messages it cannot send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// Larger messages are not handed to the sink (they become dead letters at once).
    pub max_event_size: usize,
    /// Counted failures after which an entry becomes a dead letter (at least 1).
    pub max_attempts: u32,
    /// How long one publish may wait for the sink's acknowledgement.
    pub publish_timeout: Duration,
    /// The wait after an entry's first counted failure; doubled after each further one.
    pub back_off: Duration,
    /// The longest wait between two attempts of an entry.
    pub max_back_off: Duration,
}

impl Delivery {
    /// A policy with these limits: 30 s per publish, back-off from 1 s to 5 min (10 attempts
    /// take about 8 minutes).
    pub fn new(max_event_size: usize, max_attempts: u32) -> Self {
        Self {
            max_event_size,
            max_attempts: max_attempts.max(1),
            publish_timeout: Duration::from_secs(30),
            back_off: Duration::from_secs(1),
            max_back_off: Duration::from_secs(300),
        }
    }

    /// The wait after the `attempts`-th counted failure: [`Delivery::back_off`] doubled after
    /// each failure but the first, at most [`Delivery::max_back_off`].
    pub fn back_off_after(&self, attempts: u32) -> Duration {
        Backoff::new(self.back_off, self.max_back_off).after(attempts)
    }

    /// Why the entry can never be sent, if it cannot.
    fn unsendable(&self, entry: &OutboxEntry) -> Option<String> {
        match &entry.payload {
            None => Some("its message is no longer in the event log".to_owned()),
            Some(payload) if payload.len() > self.max_event_size => Some(format!(
                "its message has {} bytes, more than the largest event ({} bytes)",
                payload.len(),
                self.max_event_size
            )),
            Some(_) => None,
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
    /// Entries without a message go to the dead letters before they are published; this
    /// guards the publish itself.
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

/// The value of an outbox call, or `None` after logging its error.
fn logged<T, E: std::error::Error>(result: Result<T, E>, what: &'static str) -> Option<T> {
    result
        .inspect_err(|error| tracing::error!(%error, "{what}"))
        .ok()
}

/// Publishes the outbox's entries to `sink` as they come, forever (drop or abort the future
/// to stop), under the policy `delivery`: batches in order, a failing entry tried alone,
/// back-off and dead letters for entries the sink refuses, outages counted against none (see
/// [`Outbox`]). Errors of the outbox are logged with `tracing` and the drain goes on.
pub async fn drain_outbox<O: Outbox + ?Sized>(
    outbox: &O,
    sink: &dyn EventSink,
    delivery: Delivery,
) {
    let mut outage = OUTAGE.retry();
    // An entry that failed: the next round sends it alone.
    let mut suspect: Option<i64> = None;
    loop {
        let Some(entries) = logged(outbox.due(BATCH).await, "cannot read the outbox") else {
            tokio::time::sleep(IDLE).await;
            continue;
        };
        if entries.is_empty() {
            let next_due = logged(outbox.next_due().await, "cannot read the outbox").flatten();
            let wait = next_due
                .and_then(|due| (due - Utc::now()).to_std().ok())
                .map_or(IDLE, |wait| wait.min(IDLE));
            outbox.added(wait).await;
            continue;
        }
        let entries = unsendable_to_dead_letters(outbox, &delivery, entries).await;
        if entries.is_empty() {
            continue;
        }
        if let Some(sequence) = suspect.take()
            && let Some(entry) = entries.iter().find(|e| e.sequence == sequence)
        {
            match isolate(outbox, sink, &delivery, entry, &entries).await {
                Isolated::Delivered | Isolated::Blamed => outage.succeeded(),
                Isolated::SinkTrouble => {
                    suspect = Some(sequence);
                    tokio::time::sleep(outage.failed()).await;
                }
            }
            continue;
        }
        // Started in order, so the sink receives them in order.
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
            // Not acknowledged means sent again later: subscribers drop duplicates.
            logged(
                outbox.acknowledge(&delivered).await,
                "cannot delete published events",
            );
        }
        if let Some((sequence, error)) = failure {
            tracing::warn!(%error, sequence, "event not acknowledged; trying it alone");
            suspect = Some(sequence);
            if !any_delivered {
                tokio::time::sleep(outage.failed()).await;
            }
        } else {
            outage.succeeded();
        }
    }
}

/// Entries that can never be sent become dead letters; the others are returned.
async fn unsendable_to_dead_letters<O: Outbox + ?Sized>(
    outbox: &O,
    delivery: &Delivery,
    entries: Vec<OutboxEntry>,
) -> Vec<OutboxEntry> {
    let mut sendable = Vec::with_capacity(entries.len());
    for entry in entries {
        let Some(reason) = delivery.unsendable(&entry) else {
            sendable.push(entry);
            continue;
        };
        tracing::error!(sequence = entry.sequence, topic = %entry.topic, "dead letter: {reason}");
        logged(
            outbox.dead_letter(entry.sequence, &reason).await,
            "cannot move an event to the dead letters",
        );
    }
    sendable
}

enum Isolated {
    /// The suspect went through alone.
    Delivered,
    /// It failed alone while another entry went through: its failure counted.
    Blamed,
    /// Neither went through (or there was no other to try): nothing counted.
    SinkTrouble,
}

/// Sends `suspect` alone; if it fails, sends another entry alone to learn whether the sink
/// works, and if it does, counts the suspect's failure.
async fn isolate<O: Outbox + ?Sized>(
    outbox: &O,
    sink: &dyn EventSink,
    delivery: &Delivery,
    suspect: &OutboxEntry,
    entries: &[OutboxEntry],
) -> Isolated {
    let sequence = suspect.sequence;
    let error = match publish(sink, delivery, suspect).await {
        Ok(()) => {
            logged(
                outbox.acknowledge(&[sequence]).await,
                "cannot delete published events",
            );
            return Isolated::Delivered;
        }
        Err(error) => error.to_string(),
    };
    let Some(probe) = entries.iter().find(|e| e.sequence != sequence) else {
        return Isolated::SinkTrouble;
    };
    if publish(sink, delivery, probe).await.is_err() {
        return Isolated::SinkTrouble;
    }
    logged(
        outbox.acknowledge(&[probe.sequence]).await,
        "cannot delete published events",
    );
    let attempts = suspect.attempts.saturating_add(1);
    if attempts >= delivery.max_attempts {
        tracing::error!(sequence, topic = %suspect.topic, attempts, %error, "dead letter");
        let reason = format!("{attempts} attempts failed; the last: {error}");
        // The failure is recorded first so that the dead letter counts this attempt.
        if logged(
            outbox.record_failure(sequence, &error, Utc::now()).await,
            "cannot move an event to the dead letters",
        )
        .is_some()
        {
            logged(
                outbox.dead_letter(sequence, &reason).await,
                "cannot move an event to the dead letters",
            );
        }
    } else {
        let wait = delivery.back_off_after(attempts);
        tracing::warn!(sequence, topic = %suspect.topic, attempts, %error, "event refused; trying it again in {wait:?}");
        // A wait too long for a date: never again before the dead letters take it.
        let retry_at = chrono::Duration::from_std(wait)
            .ok()
            .and_then(|wait| Utc::now().checked_add_signed(wait))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        logged(
            outbox.record_failure(sequence, &error, retry_at).await,
            "cannot record a failed publish",
        );
    }
    Isolated::Blamed
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex, PoisonError};

    use tokio::sync::Notify;

    use super::*;

    /// An outbox in memory, with its dead letters (sequence, reason, attempts).
    #[derive(Default)]
    struct Memory {
        entries: Mutex<BTreeMap<i64, (OutboxEntry, DateTime<Utc>)>>,
        dead: Mutex<Vec<(i64, String, u32)>>,
        added: Notify,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("never")]
    struct Never;

    impl Memory {
        fn add(&self, topic: &str, payload: Option<Vec<u8>>) {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            let sequence = entries.keys().next_back().map_or(1, |last| last + 1);
            let entry = OutboxEntry {
                sequence,
                topic: topic.to_owned(),
                payload,
                attempts: 0,
            };
            entries.insert(sequence, (entry, DateTime::<Utc>::MIN_UTC));
            self.added.notify_one();
        }

        fn waiting(&self) -> Vec<OutboxEntry> {
            let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            entries.values().map(|(entry, _)| entry.clone()).collect()
        }

        fn dead_letters(&self) -> Vec<(i64, String, u32)> {
            self.dead
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        }
    }

    #[async_trait]
    impl Outbox for Memory {
        type Error = Never;

        async fn due(&self, limit: usize) -> Result<Vec<OutboxEntry>, Never> {
            let now = Utc::now();
            let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            Ok(entries
                .values()
                .filter(|(_, retry_at)| *retry_at <= now)
                .map(|(entry, _)| entry.clone())
                .take(limit)
                .collect())
        }

        async fn next_due(&self) -> Result<Option<DateTime<Utc>>, Never> {
            let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            Ok(entries.values().map(|(_, retry_at)| *retry_at).min())
        }

        async fn added(&self, timeout: Duration) {
            let _ = tokio::time::timeout(timeout, self.added.notified()).await;
        }

        async fn acknowledge(&self, sequences: &[i64]) -> Result<(), Never> {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            for sequence in sequences {
                entries.remove(sequence);
            }
            Ok(())
        }

        async fn record_failure(
            &self,
            sequence: i64,
            _: &str,
            retry_at: DateTime<Utc>,
        ) -> Result<(), Never> {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((entry, due)) = entries.get_mut(&sequence) {
                entry.attempts += 1;
                *due = retry_at;
            }
            Ok(())
        }

        async fn dead_letter(&self, sequence: i64, reason: &str) -> Result<(), Never> {
            let removed = self
                .entries
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&sequence);
            if let Some((entry, _)) = removed {
                self.dead
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((sequence, reason.to_owned(), entry.attempts));
            }
            Ok(())
        }
    }

    /// Refuses every message on one topic (or every message), keeps the others.
    #[derive(Default)]
    struct Refusing {
        refused: Option<String>,
        delivered: Mutex<Vec<String>>,
    }

    impl Refusing {
        fn delivered(&self) -> Vec<String> {
            self.delivered
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        }
    }

    #[async_trait]
    impl EventSink for Refusing {
        async fn publish(&self, message: &EventMessage) -> Result<(), SinkError> {
            if self.refused.as_deref().is_some_and(|t| t == message.topic) {
                return Err(SinkError::SessionLost);
            }
            self.delivered
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(message.topic.clone());
            Ok(())
        }
    }

    /// Refuses everything: a broker that is down.
    struct Down;

    #[async_trait]
    impl EventSink for Down {
        async fn publish(&self, _: &EventMessage) -> Result<(), SinkError> {
            Err(SinkError::Closed)
        }
    }

    fn draining(
        outbox: &Arc<Memory>,
        sink: Arc<dyn EventSink>,
        delivery: Delivery,
    ) -> tokio::task::JoinHandle<()> {
        let outbox = outbox.clone();
        tokio::spawn(async move { drain_outbox(outbox.as_ref(), sink.as_ref(), delivery).await })
    }

    #[tokio::test]
    async fn entries_are_delivered_in_order_and_acknowledged() {
        let outbox = Arc::new(Memory::default());
        for topic in ["a", "b", "c"] {
            outbox.add(topic, Some(topic.as_bytes().to_vec()));
        }
        let sink = Arc::new(Refusing::default());
        let drainer = draining(&outbox, sink.clone(), Delivery::new(1 << 20, 3));
        // An entry added while the drain waits wakes it.
        tokio::time::sleep(Duration::from_millis(100)).await;
        outbox.add("d", Some(b"d".to_vec()));
        tokio::time::sleep(Duration::from_millis(300)).await;
        drainer.abort();
        assert_eq!(sink.delivered(), ["a", "b", "c", "d"]);
        assert!(outbox.waiting().is_empty());
    }

    #[tokio::test]
    async fn a_refused_event_blocks_nothing_and_becomes_a_dead_letter_after_max_attempts() {
        let outbox = Arc::new(Memory::default());
        for topic in ["before", "refused", "after"] {
            outbox.add(topic, Some(topic.as_bytes().to_vec()));
        }
        let sink = Arc::new(Refusing {
            refused: Some("refused".into()),
            ..Refusing::default()
        });
        let delivery = Delivery {
            back_off: Duration::from_millis(20),
            ..Delivery::new(1 << 20, 3)
        };
        let drainer = draining(&outbox, sink.clone(), delivery);
        // Later entries keep coming; each lets the drain tell a refusal from an outage.
        let mut n = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while outbox.dead_letters().is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "no dead letter");
            outbox.add(&format!("later-{n}"), Some(b"later".to_vec()));
            n += 1;
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        while !outbox.waiting().is_empty() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "entries left behind"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drainer.abort();
        let mut delivered = sink.delivered();
        delivered.sort();
        delivered.dedup();
        let mut expected = vec!["before".to_owned(), "after".to_owned()];
        expected.extend((0..n).map(|n| format!("later-{n}")));
        expected.sort();
        assert_eq!(delivered, expected);
        let dead = outbox.dead_letters();
        assert_eq!(dead.len(), 1);
        assert_eq!((dead[0].0, dead[0].2), (2, 3));
        assert!(dead[0].1.starts_with("3 attempts failed"), "{}", dead[0].1);
    }

    #[tokio::test]
    async fn an_outage_counts_against_no_entry() {
        let outbox = Arc::new(Memory::default());
        for topic in ["a", "b", "c"] {
            outbox.add(topic, Some(b"x".to_vec()));
        }
        let drainer = draining(&outbox, Arc::new(Down), Delivery::new(1 << 20, 1));
        tokio::time::sleep(Duration::from_millis(1500)).await;
        drainer.abort();
        assert!(outbox.dead_letters().is_empty());
        let waiting = outbox.waiting();
        assert_eq!(waiting.len(), 3);
        assert!(waiting.iter().all(|entry| entry.attempts == 0));
    }

    #[tokio::test]
    async fn an_entry_over_the_largest_event_or_without_a_message_is_a_dead_letter_at_once() {
        let outbox = Arc::new(Memory::default());
        outbox.add("small", Some(vec![b'x'; 10]));
        outbox.add("big", Some(vec![b'x'; 100]));
        outbox.add("gone", None);
        outbox.add("small-too", Some(vec![b'x'; 50]));
        let sink = Arc::new(Refusing::default());
        let drainer = draining(&outbox, sink.clone(), Delivery::new(50, 10));
        tokio::time::sleep(Duration::from_millis(300)).await;
        drainer.abort();
        assert_eq!(sink.delivered(), ["small", "small-too"]);
        let dead = outbox.dead_letters();
        assert_eq!(dead.len(), 2);
        assert!(dead[0].1.contains("100 bytes"), "{}", dead[0].1);
        assert!(dead[1].1.contains("no longer"), "{}", dead[1].1);
    }

    #[test]
    fn back_off_doubles_up_to_its_ceiling() {
        let delivery = Delivery::new(1, 10);
        assert_eq!(delivery.back_off_after(1), Duration::from_secs(1));
        assert_eq!(delivery.back_off_after(3), Duration::from_secs(4));
        assert_eq!(delivery.back_off_after(30), Duration::from_secs(300));
        assert_eq!(delivery.back_off_after(u32::MAX), Duration::from_secs(300));
    }

    #[test]
    fn at_least_one_attempt_is_made() {
        assert_eq!(Delivery::new(1, 0).max_attempts, 1);
    }
}
