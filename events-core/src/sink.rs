//! Where events go: the [`EventSink`] trait, implemented by the MQTT sink
//! (`MqttSink`, feature `mqtt`) and by [`MemorySink`] for tests.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;

use crate::message::EventMessage;

/// A destination of event messages. `publish` returns `Ok` only once the message is safely
/// delivered (for MQTT: the broker's PUBACK), so a caller can keep an outbox and delete an
/// entry only then.
#[async_trait]
pub trait EventSink: Send + Sync {
    /// Delivers one message; on `Err`, it may or may not have arrived (publish it again).
    async fn publish(&self, message: &EventMessage) -> Result<(), SinkError>;
}

/// Why a message was not (known to be) delivered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The sink was closed, or its connection task ended.
    #[error("the sink is closed")]
    Closed,
    /// The broker started a new session, dropping messages that were not yet acknowledged.
    #[error("the broker lost the session before acknowledging the message; publish it again")]
    SessionLost,
    /// More messages are waiting for acknowledgement than the sink allows.
    #[error("too many messages waiting for acknowledgement")]
    Busy,
}

/// A sink that keeps what it is given, in order: for tests of code that publishes events.
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    messages: Arc<Mutex<Vec<EventMessage>>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// The messages published so far.
    pub fn messages(&self) -> Vec<EventMessage> {
        self.messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl EventSink for MemorySink {
    async fn publish(&self, message: &EventMessage) -> Result<(), SinkError> {
        self.messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(message.clone());
        Ok(())
    }
}
