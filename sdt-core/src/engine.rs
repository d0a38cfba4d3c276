use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value};
use tokio::task::JoinHandle;

use crate::description::{CompiledDescription, RenderError};
use crate::platform::{PlatformClient, PlatformError};

/// Why a [`TwinSink`] could not write: the sink's own error, whatever its type (the engine
/// logs it with its chain of sources and tries again next tick).
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Where synchronized values go: the twin's storage.
#[async_trait]
pub trait TwinSink: Send + Sync {
    /// Writes `value` as the property `property` (a `thingin_attributes` name) of the twin
    /// `twin` (the binding's twin id). An error is logged as a [`WriteError`]; the engine
    /// remembers only successful writes, so the property is written again at its next tick.
    async fn write(&self, twin: &str, property: &str, value: &Value) -> Result<(), SinkError>;
}

/// A write of the engine that its [`TwinSink`] refused: which twin and property, and the
/// sink's error as the [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
#[error("writing property {property:?} of twin {twin:?} failed: {source}")]
pub struct WriteError {
    /// The twin (submodel) id.
    pub twin: String,
    /// The property's name, as the description's `thingin_attributes` name it.
    pub property: String,
    /// The sink's error.
    #[source]
    pub source: SinkError,
}

/// A twin kept in step with a device.
#[derive(Debug, Clone)]
pub struct TwinBinding {
    /// The twin (submodel) id.
    pub twin: String,
    /// The platform the device is on, with the binding's credentials.
    pub platform: Arc<PlatformClient>,
    /// The device id for data.
    pub device: String,
    /// The device id for commands (defaults to `device`).
    pub command_device: Option<String>,
    /// What to read from the device's data and which properties to write.
    pub description: Arc<CompiledDescription>,
}

/// What happened to a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandOutcome {
    /// The value is the one the engine wrote last: no command (no echo).
    OwnWrite,
    /// The property has no `command_value` (or the twin is not synchronized).
    NoCommand,
    /// Sent: the rendered `command_value`, the JSON body POSTed to the command URL.
    Sent(Value),
    /// Not sent: `command_value` could not be rendered (a template passed a rendering limit).
    NotRendered(RenderError),
}

/// The synchronization engine: one task per (twin, frequency) fetches the platform once per
/// tick and writes the properties due, only those whose value changed, through a
/// [`TwinSink`]. A failed fetch or render is logged and tried again next tick. Changes made to
/// the twin from outside become commands; values the engine wrote itself never echo back.
pub struct SyncEngine {
    sink: Arc<dyn TwinSink>,
    twins: Mutex<HashMap<String, Running>>,
    /// The values written or seen last, per twin and property: changes only, and no echoes.
    written: Arc<Mutex<HashMap<(String, String), Value>>>,
}

impl std::fmt::Debug for SyncEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let twins = self
            .twins
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("SyncEngine")
            .field("twins", &twins)
            .finish_non_exhaustive()
    }
}

struct Running {
    binding: TwinBinding,
    tasks: Vec<JoinHandle<()>>,
    /// Started to poll (its tasks may still be none: nothing of it is polled).
    polled: bool,
}

impl Drop for Running {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl SyncEngine {
    /// An engine with no twins that writes through `sink`; its tasks run on the current tokio
    /// runtime (started by [`SyncEngine::start`], which must be called inside one).
    pub fn new(sink: Arc<dyn TwinSink>) -> Arc<Self> {
        Arc::new(Self {
            sink,
            twins: Mutex::default(),
            written: Arc::default(),
        })
    }

    /// Starts (or restarts with a new description, leaving other twins alone) a binding.
    pub fn start(&self, binding: TwinBinding) {
        let frequencies: BTreeSet<u64> = binding
            .description
            .properties()
            .map(|(_, f)| f)
            .filter(|f| *f > 0)
            .collect();
        let tasks = frequencies
            .into_iter()
            .map(|frequency| {
                let (binding, sink, written) =
                    (binding.clone(), self.sink.clone(), self.written.clone());
                tokio::spawn(async move { poll(binding, frequency, sink, written).await })
            })
            .collect();
        self.install(Running {
            binding,
            tasks,
            polled: true,
        });
    }

    /// Puts `running` in place of the twin's earlier binding, whose tasks end when dropped
    /// (outside the lock).
    fn install(&self, running: Running) {
        let twin = running.binding.twin.clone();
        let previous = self
            .twins
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(twin, running);
        drop(previous);
    }

    /// Keeps a binding for its commands ([`SyncEngine::twin_changed`]) without polling its
    /// device (stopping the polling of an earlier binding of the twin): another process polls
    /// it, e.g. another replica of a server that shares its twins.
    pub fn register(&self, binding: TwinBinding) {
        self.install(Running {
            binding,
            tasks: Vec::new(),
            polled: false,
        });
    }

    /// The twins bound, each with whether this engine polls its device ([`SyncEngine::start`])
    /// or only sends its commands ([`SyncEngine::register`]).
    pub fn twins(&self) -> Vec<(String, bool)> {
        let twins = self.twins.lock().unwrap_or_else(PoisonError::into_inner);
        twins
            .iter()
            .map(|(twin, running)| (twin.clone(), running.polled))
            .collect()
    }

    /// Takes `values` (property name → value, as the twin stores them) as the values the twin
    /// holds now: the next reading is written where it differs from them, and a change to them
    /// is no echo. For twins changed where this engine is not told (another process).
    pub fn seen(&self, twin: &str, values: &Map<String, Value>) {
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        for (property, value) in values {
            written.insert((twin.to_owned(), property.clone()), value.clone());
        }
    }

    /// Stops a twin's synchronization.
    pub fn stop(&self, twin: &str) {
        let removed = self
            .twins
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(twin);
        drop(removed);
        // A binding made again later starts from nothing: a value written or seen now must not
        // make its first change look like the engine's own write.
        self.written
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(written_twin, _), _| written_twin != twin);
    }

    /// The twin's property changed from outside (repository API): renders and sends its
    /// command. `twin_values` are the twin's current data property values by name, as stored.
    pub async fn twin_changed(
        &self,
        twin: &str,
        property: &str,
        value: &Value,
        twin_values: &Map<String, Value>,
    ) -> Result<CommandOutcome, PlatformError> {
        let key = (twin.to_owned(), property.to_owned());
        {
            let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
            if written.get(&key) == Some(value) {
                return Ok(CommandOutcome::OwnWrite);
            }
            // The twin holds this value now: the engine writes only a different one.
            written.insert(key, value.clone());
        }
        let binding = {
            let twins = self.twins.lock().unwrap_or_else(PoisonError::into_inner);
            match twins.get(twin) {
                Some(running) => running.binding.clone(),
                None => return Ok(CommandOutcome::NoCommand),
            }
        };
        let mut variables = twin_values.clone();
        variables.insert(property.to_owned(), value.clone());
        let command = match binding.description.render_command(property, &variables) {
            None => return Ok(CommandOutcome::NoCommand),
            Some(Err(error)) => return Ok(CommandOutcome::NotRendered(error)),
            Some(Ok(command)) => command,
        };
        let device = binding.command_device.as_deref().unwrap_or(&binding.device);
        binding.platform.send_command(device, &command).await?;
        Ok(CommandOutcome::Sent(command))
    }
}

/// One tick per `frequency` seconds: fetch once, write what changed among the properties due.
async fn poll(
    binding: TwinBinding,
    frequency: u64,
    sink: Arc<dyn TwinSink>,
    written: Arc<Mutex<HashMap<(String, String), Value>>>,
) {
    let properties: Vec<String> = binding
        .description
        .properties()
        .filter(|(_, f)| *f == frequency)
        .map(|(name, _)| name.to_owned())
        .collect();
    let mut ticks = tokio::time::interval(Duration::from_secs(frequency));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let payload = match binding.platform.fetch(&binding.device).await {
            Ok(payload) => payload,
            Err(error) => {
                tracing::warn!(twin = %binding.twin, %error, "platform fetch failed; trying next tick");
                continue;
            }
        };
        let extracted = binding.description.extract(&payload);
        for (variable, error) in &extracted.failed {
            tracing::warn!(twin = %binding.twin, %variable, %error, "variable path failed");
        }
        for property in &properties {
            let value = match binding.description.render_extracted(property, &extracted) {
                Some(Ok(value)) => value,
                Some(Err(error)) => {
                    tracing::info!(twin = %binding.twin, %property, %error, "property skipped this tick");
                    continue;
                }
                None => continue,
            };
            let key = (binding.twin.clone(), property.clone());
            let unchanged = written
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&key)
                == Some(&value);
            if unchanged {
                continue;
            }
            match sink.write(&binding.twin, property, &value).await {
                Ok(()) => {
                    written
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(key, value);
                }
                Err(source) => {
                    let error = WriteError {
                        twin: binding.twin.clone(),
                        property: property.clone(),
                        source,
                    };
                    tracing::warn!(%error, "write failed; trying next tick")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("the disk is full")]
    struct DiskFull;

    #[test]
    fn a_write_error_names_the_twin_and_property_and_keeps_the_sinks_error() {
        let error = WriteError {
            twin: "urn:twin".into(),
            property: "on".into(),
            source: Box::new(DiskFull),
        };
        assert_eq!(
            error.to_string(),
            "writing property \"on\" of twin \"urn:twin\" failed: the disk is full"
        );
        assert!(error.source().is_some_and(|source| source.is::<DiskFull>()));
    }

    struct NoSink;

    #[async_trait::async_trait]
    impl TwinSink for NoSink {
        async fn write(&self, _: &str, _: &str, _: &Value) -> Result<(), SinkError> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_stopped_twin_forgets_its_values_so_a_new_binding_sends_the_same_value_again()
    -> Result<(), PlatformError> {
        let engine = SyncEngine::new(Arc::new(NoSink));
        let value = Value::from(21);
        let values = Map::new();
        // Not bound: no command, but the value is what the twin holds now.
        let first = engine
            .twin_changed("urn:twin", "temp", &value, &values)
            .await?;
        assert!(matches!(first, CommandOutcome::NoCommand), "{first:?}");
        let again = engine
            .twin_changed("urn:twin", "temp", &value, &values)
            .await?;
        assert!(matches!(again, CommandOutcome::OwnWrite), "{again:?}");
        engine.stop("urn:twin");
        let after = engine
            .twin_changed("urn:twin", "temp", &value, &values)
            .await?;
        assert!(matches!(after, CommandOutcome::NoCommand), "{after:?}");
        Ok(())
    }
}
