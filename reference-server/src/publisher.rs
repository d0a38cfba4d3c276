//! Drains the outbox to the event sink: the entries go out in order, and each is deleted only
//! after the broker acknowledged it. A broker that is down, or a server that is killed, only
//! delays events: they wait in the outbox, which was written with the changes themselves.

use std::sync::Arc;
use std::time::Duration;

use events_core::mqtt::{MqttConfig, MqttSink};
use events_core::{EventMessage, EventSink};
use futures_util::future::join_all;

use crate::storage::Repository;

/// How many entries one round publishes at once; the sink pipelines them.
const BATCH: usize = 256;
/// How long the publisher sleeps when nothing wakes it (a safety net: changes wake it).
const IDLE: Duration = Duration::from_secs(5);

/// Connects to the broker, retrying until it answers, then publishes forever.
pub async fn run(repository: Arc<dyn Repository>, config: MqttConfig) {
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
    drain(repository, &sink).await;
}

/// Publishes outbox entries as they come, forever.
pub async fn drain(repository: Arc<dyn Repository>, sink: &dyn EventSink) {
    let signal = repository.outbox_signal();
    let mut delay = Duration::from_millis(100);
    loop {
        let reader = repository.clone();
        let entries = match tokio::task::spawn_blocking(move || reader.outbox(BATCH)).await {
            Ok(Ok(entries)) => entries,
            Ok(Err(error)) => {
                tracing::error!(%error, "cannot read the outbox");
                tokio::time::sleep(IDLE).await;
                continue;
            }
            Err(error) => {
                tracing::error!(%error, "outbox reader failed");
                continue;
            }
        };
        if entries.is_empty() {
            // A change committed after the read above left a permit: no wake-up is lost.
            let _ = tokio::time::timeout(IDLE, signal.notified()).await;
            continue;
        }
        let messages: Vec<EventMessage> = entries
            .iter()
            .map(|entry| EventMessage {
                topic: entry.topic.clone(),
                payload: entry.payload.clone(),
            })
            .collect();
        // Started in order, so the broker receives them in order.
        let outcomes = join_all(messages.iter().map(|message| sink.publish(message))).await;
        let mut delivered = Vec::with_capacity(entries.len());
        let mut failure = None;
        for (entry, outcome) in entries.iter().zip(outcomes) {
            match outcome {
                Ok(()) => delivered.push(entry.sequence),
                Err(error) => failure = Some(error),
            }
        }
        let writer = repository.clone();
        match tokio::task::spawn_blocking(move || writer.acknowledge(&delivered)).await {
            Ok(Ok(())) => {}
            // Not deleted means sent again later: subscribers drop duplicates.
            Ok(Err(error)) => tracing::error!(%error, "cannot delete published events"),
            Err(error) => tracing::error!(%error, "outbox writer failed"),
        }
        match failure {
            None => delay = Duration::from_millis(100),
            Some(error) => {
                tracing::warn!(%error, "events not acknowledged; publishing them again");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}
