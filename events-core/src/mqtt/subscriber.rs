//! Receiving events: subscribe, decode, drop duplicates, acknowledge once handled.

use rumqttc::{
    AsyncClient, Event, EventLoop, Packet, Publish, QoS, SubscribeFilter, SubscribeReasonCode,
};
use tokio::sync::{mpsc, oneshot};

use super::{ConnectionTask, EventHandler, MqttConfig, MqttError, start};
use crate::dedup::Deduplicator;
use crate::message::{DecodeError, Encoding, ReceivedEvent};

/// What to subscribe to and how to read it.
#[derive(Debug, Clone)]
pub struct Subscription {
    encoding: Encoding,
    filters: Vec<String>,
    max_message_size: u64,
    dedup_capacity: usize,
}

impl Subscription {
    /// Every event of the encoding's topics (`<root>/+/+/+`), at most 16 MiB expanded per
    /// message, duplicates remembered for 100,000 elements.
    pub fn new(encoding: Encoding) -> Self {
        let all = encoding.topics().filter(None, None);
        Self {
            encoding,
            filters: vec![all],
            max_message_size: 16 << 20,
            dedup_capacity: 100_000,
        }
    }

    /// Subscribes to these filters instead (see [`crate::TopicScheme::filter`]).
    pub fn with_filters(mut self, filters: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.filters = filters.into_iter().map(Into::into).collect();
        self
    }

    /// The largest message accepted once expanded (gzip bombs stop here).
    pub fn with_max_message_size(mut self, bytes: u64) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// How many elements the de-duplication remembers (least recently seen forgotten first).
    pub fn with_dedup_capacity(mut self, elements: usize) -> Self {
        self.dedup_capacity = elements;
        self
    }
}

/// A message that arrived on a subscribed topic but is not a valid event.
#[derive(Debug, thiserror::Error)]
#[error("a message was not a valid event: {0}")]
pub struct ReceiveError(#[from] pub DecodeError);

/// Receives events of a [`Subscription`] in a persistent session: what is published while the
/// subscriber is offline arrives when it connects again with the same client id.
///
/// Each message is acknowledged (PUBACK) when the next one is asked for, that is once the caller
/// has handled it: a crash in between means a redelivery, not a loss. Redeliveries and events
/// older than one already yielded for the same element are dropped.
#[derive(Debug)]
pub struct MqttSubscriber {
    client: AsyncClient,
    received: mpsc::Receiver<Publish>,
    subscription: Subscription,
    dedup: Deduplicator,
    unacknowledged: Option<Publish>,
    task: ConnectionTask,
}

impl MqttSubscriber {
    /// Connects and subscribes (again after every reconnection).
    pub async fn connect(
        config: &MqttConfig,
        subscription: Subscription,
    ) -> Result<Self, MqttError> {
        let (forward, received) = mpsc::channel(256);
        let filters = subscription
            .filters
            .iter()
            .map(|filter| SubscribeFilter::new(filter.clone(), QoS::AtLeastOnce))
            .collect();
        let (granted, subscribed) = oneshot::channel();
        let handler = Forwarder {
            forward,
            filters,
            granted: Some(granted),
        };
        let (client, task) = start(config, true, 64, handler).await?;
        let broker = config.broker();
        match tokio::time::timeout(config.connect_timeout, subscribed).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(refused))) => {
                return Err(MqttError::Subscribe {
                    broker,
                    filters: refused,
                });
            }
            Ok(Err(_)) => {
                return Err(MqttError::Connect {
                    broker,
                    source: "the connection task ended".into(),
                });
            }
            Err(_) => {
                return Err(MqttError::Timeout {
                    broker,
                    after: config.connect_timeout,
                });
            }
        }
        let dedup = Deduplicator::new(subscription.dedup_capacity);
        Ok(Self {
            client,
            received,
            subscription,
            dedup,
            unacknowledged: None,
            task,
        })
    }

    /// The next new event; `None` once the connection task has ended. A message that is not a
    /// valid event is an `Err` (and acknowledged, so it does not come back).
    pub async fn next(&mut self) -> Option<Result<ReceivedEvent, ReceiveError>> {
        loop {
            self.acknowledge().await;
            let publish = self.received.recv().await?;
            let decoded = self.subscription.encoding.decode(
                &publish.topic,
                &publish.payload,
                self.subscription.max_message_size,
            );
            self.unacknowledged = Some(publish);
            match decoded {
                Err(error) => return Some(Err(error.into())),
                Ok(event) => {
                    let (element, id) = event.element();
                    if self.dedup.accept(element, id, event.timestamp()) {
                        return Some(Ok(event));
                    }
                }
            }
        }
    }

    /// Acknowledges the last message and disconnects; the broker keeps the session (and
    /// queues what is published meanwhile) for the next connection with this client id.
    pub async fn disconnect(mut self) {
        self.acknowledge().await;
        let _ = self.client.disconnect().await;
        self.task.finish().await;
    }

    async fn acknowledge(&mut self) {
        if let Some(publish) = self.unacknowledged.take() {
            let _ = self.client.ack(&publish).await;
        }
    }
}

struct Forwarder {
    forward: mpsc::Sender<Publish>,
    filters: Vec<SubscribeFilter>,
    /// Told the outcome of the first SUBACK: the filters the broker refused, if any.
    granted: Option<oneshot::Sender<Result<(), Vec<String>>>>,
}

impl EventHandler for Forwarder {
    async fn on_event(&mut self, event: Event, client: &AsyncClient) {
        match event {
            Event::Incoming(Packet::Publish(publish)) => {
                // Waiting here holds back the connection: backpressure from a slow consumer.
                let _ = self.forward.send(publish).await;
            }
            Event::Incoming(Packet::SubAck(ack)) => {
                let refused: Vec<String> = ack
                    .return_codes
                    .iter()
                    .zip(&self.filters)
                    .filter(|(code, _)| matches!(code, SubscribeReasonCode::Failure))
                    .map(|(_, filter)| filter.path.clone())
                    .collect();
                if let Some(granted) = self.granted.take() {
                    let _ = granted.send(if refused.is_empty() {
                        Ok(())
                    } else {
                        Err(refused)
                    });
                } else if !refused.is_empty() {
                    tracing::warn!(
                        ?refused,
                        "MQTT broker refused subscriptions after reconnecting"
                    );
                }
            }
            // Also when the broker kept the session: the filters may have changed since.
            Event::Incoming(Packet::ConnAck(_)) => {
                if let Err(error) = client.try_subscribe_many(self.filters.clone()) {
                    tracing::warn!(%error, "MQTT subscription could not be requested");
                }
            }
            _ => {}
        }
    }

    fn on_connection_lost(&mut self, _event_loop: &EventLoop) {}
}
