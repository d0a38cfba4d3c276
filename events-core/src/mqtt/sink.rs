//! Publishing with QoS 1, each `publish` answered by its own PUBACK.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use rumqttc::{AsyncClient, Event, EventLoop, Outgoing, Packet, QoS, Request};
use tokio::sync::{Semaphore, oneshot};

use super::{ConnectionTask, EventHandler, MqttConfig, MqttError, start};
use crate::message::EventMessage;
use crate::sink::{EventSink, SinkError};

type Waiter = oneshot::Sender<Result<(), SinkError>>;

/// An [`EventSink`] publishing to an MQTT broker with QoS 1 in a persistent session.
///
/// `publish` returns after the broker's PUBACK for that message. Messages not yet acknowledged
/// when the connection drops are sent again after reconnecting (the broker kept the session);
/// if the broker lost the session they fail with [`SinkError::SessionLost`]. Many tasks may
/// publish at once through one sink; order is kept.
#[derive(Debug)]
pub struct MqttSink {
    client: AsyncClient,
    waiters: Arc<Mutex<Waiters>>,
    permits: Arc<Semaphore>,
    task: ConnectionTask,
}

/// Who waits for which acknowledgement. rumqttc numbers a publish only when it sends it, so
/// waiters queue in request order until the event loop reports the packet id.
#[derive(Debug, Default)]
struct Waiters {
    unsent: VecDeque<Waiter>,
    sent: HashMap<u16, Waiter>,
    /// How many of `unsent` the event loop moved into its pending list when the connection
    /// failed: those are dropped with the pending list if the broker lost the session.
    stranded: usize,
}

fn lock(waiters: &Mutex<Waiters>) -> MutexGuard<'_, Waiters> {
    waiters.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MqttSink {
    /// Connects (waiting for the broker's CONNACK): a refused or failed first connection is an
    /// error; later disconnections are retried with the configured backoff.
    pub async fn connect(config: &MqttConfig) -> Result<Self, MqttError> {
        // The request channel never fills: a permit is held per message until it is answered.
        let capacity = usize::from(config.max_in_flight).max(1) * 2;
        let waiters = Arc::new(Mutex::new(Waiters::default()));
        let handler = AckTracker {
            waiters: waiters.clone(),
        };
        let (client, task) = start(config, false, capacity, handler).await?;
        Ok(Self {
            client,
            waiters,
            permits: Arc::new(Semaphore::new(capacity)),
            task,
        })
    }

    /// Publishes raw bytes to a topic with QoS 1 and waits for the PUBACK.
    pub async fn publish_bytes(&self, topic: &str, payload: Vec<u8>) -> Result<(), SinkError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| SinkError::Closed)?;
        let (waiter, acknowledged) = oneshot::channel();
        {
            // Queue and send under one lock, so the queue's order is the channel's order.
            let mut waiters = lock(&self.waiters);
            self.client
                .try_publish(topic, QoS::AtLeastOnce, false, payload)
                .map_err(|error| match error {
                    rumqttc::ClientError::TryRequest(_) if self.task.is_finished() => {
                        SinkError::Closed
                    }
                    _ => SinkError::Busy,
                })?;
            waiters.unsent.push_back(waiter);
        }
        acknowledged.await.map_err(|_| SinkError::Closed)?
    }

    /// Sends DISCONNECT after the messages already handed over, and ends the connection.
    pub async fn close(mut self) {
        let _ = self.client.disconnect().await;
        self.task.finish().await;
    }
}

#[async_trait]
impl EventSink for MqttSink {
    async fn publish(&self, message: &EventMessage) -> Result<(), SinkError> {
        self.publish_bytes(&message.topic, message.payload.clone())
            .await
    }
}

struct AckTracker {
    waiters: Arc<Mutex<Waiters>>,
}

impl EventHandler for AckTracker {
    async fn on_event(&mut self, event: Event, _client: &AsyncClient) {
        let mut waiters = lock(&self.waiters);
        match event {
            Event::Outgoing(Outgoing::Publish(pkid)) => {
                // A packet id already waiting is a retransmission after reconnecting.
                if !waiters.sent.contains_key(&pkid)
                    && let Some(waiter) = waiters.unsent.pop_front()
                {
                    waiters.stranded = waiters.stranded.saturating_sub(1);
                    waiters.sent.insert(pkid, waiter);
                }
            }
            Event::Incoming(Packet::PubAck(ack)) => {
                if let Some(waiter) = waiters.sent.remove(&ack.pkid) {
                    let _ = waiter.send(Ok(()));
                }
            }
            Event::Incoming(Packet::ConnAck(ack)) if !ack.session_present => {
                // A new session: rumqttc dropped its pending list, so nothing in flight and
                // nothing stranded will be sent.
                for (_, waiter) in waiters.sent.drain() {
                    let _ = waiter.send(Err(SinkError::SessionLost));
                }
                let stranded = waiters.stranded.min(waiters.unsent.len());
                for waiter in waiters.unsent.drain(..stranded) {
                    let _ = waiter.send(Err(SinkError::SessionLost));
                }
                waiters.stranded = 0;
            }
            _ => {}
        }
    }

    fn on_connection_lost(&mut self, event_loop: &EventLoop) {
        // Publishes without a packet id in the pending list are the oldest unsent requests.
        let stranded = event_loop
            .pending
            .iter()
            .filter(|request| matches!(request, Request::Publish(publish) if publish.pkid == 0))
            .count();
        lock(&self.waiters).stranded = stranded;
    }
}
