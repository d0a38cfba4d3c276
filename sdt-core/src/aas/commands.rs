//! The other half of the twin ↔ submodel mapping (features `aas` and `client`): changes of a
//! bound twin's submodel made by others than the engine become platform commands, one task
//! per twin sending them in order.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use aas_model::Submodel;
use async_trait::async_trait;
use serde_json::{Map, Value};

use super::property_values;
use crate::{CommandOutcome, PlatformError, SyncEngine};

/// Changes whose commands may wait per twin. Past that the platform is far behind: later
/// changes are folded into the last one waiting, so memory stays bounded whatever the platform
/// does and the platform still ends with each property's latest value.
pub const PENDING_CHANGES_PER_TWIN: usize = 256;

/// The commands one committed change makes for a twin.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Commands {
    /// Every synchronized property's value after the change (templates may use them all).
    pub(crate) values: Map<String, Value>,
    /// The properties the change set to a new value, in the description's order.
    pub(crate) changed: Vec<(String, Value)>,
}

impl Commands {
    /// Folds a later change into this one: its values, and the latest value of each property
    /// either changed (what a platform far behind needs: where each property ends up).
    pub(crate) fn merge(&mut self, later: Commands) {
        self.values = later.values;
        for (name, value) in later.changed {
            match self
                .changed
                .iter_mut()
                .find(|(changed, _)| *changed == name)
            {
                Some((_, old)) => *old = value,
                None => self.changed.push((name, value)),
            }
        }
    }
}

/// Where a twin's commands go: [`SyncEngine`] renders and sends them
/// ([`SyncEngine::twin_changed`]).
#[async_trait]
pub trait CommandSender: Send + Sync + 'static {
    /// The twin's `property` changed to `value` from outside; `values` are all its
    /// synchronized properties' values now.
    async fn send(
        &self,
        twin: &str,
        property: &str,
        value: &Value,
        values: &Map<String, Value>,
    ) -> Result<CommandOutcome, PlatformError>;
}

#[async_trait]
impl CommandSender for SyncEngine {
    async fn send(
        &self,
        twin: &str,
        property: &str,
        value: &Value,
        values: &Map<String, Value>,
    ) -> Result<CommandOutcome, PlatformError> {
        self.twin_changed(twin, property, value, values).await
    }
}

/// A twin's waiting commands and the task sending them.
#[derive(Debug)]
struct CommandQueue {
    pending: Arc<Mutex<VecDeque<Commands>>>,
    ready: Arc<tokio::sync::Notify>,
    /// Aborted when the twin is forgotten: its waiting commands are for a binding that is gone.
    task: tokio::task::AbortHandle,
}

impl Drop for CommandQueue {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The commands of bound twins' submodel changes, for any program that keeps the submodels:
/// it is told of each twin it follows ([`TwinCommands::follow`]) and of each submodel after a
/// committed change ([`TwinCommands::changed`]); each synchronized property whose value
/// changed, compared with the values last seen, becomes a command. Each twin's commands are
/// sent in order by a task of the twin's own: a slow or hanging platform delays its own twins
/// only, and at most [`PENDING_CHANGES_PER_TWIN`] changes wait per twin.
pub struct TwinCommands {
    sender: Arc<dyn CommandSender>,
    /// The synchronized property names of each twin followed.
    names: Mutex<HashMap<String, Vec<String>>>,
    /// The last values of each twin's synchronized properties, as committed: what a change
    /// is compared with to find the properties it changed.
    last: Mutex<HashMap<String, Map<String, Value>>>,
    /// Each twin's commands waiting for its platform, sent in order by a task of the twin's
    /// own ([`TwinCommands::queue`]).
    queues: Mutex<HashMap<String, CommandQueue>>,
}

impl std::fmt::Debug for TwinCommands {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwinCommands").finish_non_exhaustive()
    }
}

impl TwinCommands {
    /// Commands of no twin yet, sent through `sender` (a [`SyncEngine`]).
    pub fn new(sender: Arc<dyn CommandSender>) -> Self {
        Self {
            sender,
            names: Mutex::default(),
            last: Mutex::default(),
            queues: Mutex::default(),
        }
    }

    /// Follows (or follows again, with new names) `twin`: the names of its synchronized
    /// properties, and its submodel now if it could be read (its values are what the next
    /// change is compared with; without it, the values seen before stay).
    pub fn follow(&self, twin: &str, names: Vec<String>, submodel: Option<&Submodel>) {
        if let Some(submodel) = submodel {
            self.last
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(twin.to_owned(), property_values(submodel, &names));
        }
        self.names
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(twin.to_owned(), names);
    }

    /// Takes `submodel`'s values as those its twin's next change is compared with (the names
    /// followed stay): the twin changed without this process being told (another process
    /// polls it). The caller makes sure no change it will be told of is in `submodel` yet.
    pub fn rebase(&self, submodel: &Submodel) {
        let names = (self.names.lock().unwrap_or_else(PoisonError::into_inner))
            .get(&submodel.id)
            .cloned();
        let Some(names) = names else { return };
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(submodel.id.clone(), property_values(submodel, &names));
    }

    /// Stops following `twin`: its values are forgotten and its task stops, with what waits
    /// (it was for the binding that is gone).
    pub fn forget(&self, twin: &str) {
        self.names
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(twin);
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(twin);
        self.queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(twin);
    }

    /// The twins followed (their submodel ids).
    pub fn twins(&self) -> Vec<String> {
        (self.names.lock().unwrap_or_else(PoisonError::into_inner))
            .keys()
            .cloned()
            .collect()
    }

    /// The values of `twin`'s synchronized properties seen last: what its next change is
    /// compared with.
    pub fn values(&self, twin: &str) -> Option<Map<String, Value>> {
        (self.last.lock().unwrap_or_else(PoisonError::into_inner))
            .get(twin)
            .cloned()
    }

    /// A submodel after a committed change: if it is a followed twin's, each synchronized
    /// property whose value changed makes a command, unless `own_write` (the change is the
    /// engine's own write of the platform's values); every change updates the values later
    /// changes are compared with. Must be called inside a tokio runtime (it may start the
    /// twin's task).
    pub fn changed(&self, submodel: &Submodel, own_write: bool) {
        let names = (self.names.lock().unwrap_or_else(PoisonError::into_inner))
            .get(&submodel.id)
            .cloned();
        let Some(names) = names else { return };
        let values = property_values(submodel, &names);
        let before = self
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(submodel.id.clone(), values.clone());
        if own_write {
            return;
        }
        let changed: Vec<(String, Value)> = values
            .iter()
            .filter(|(name, value)| before.as_ref().and_then(|b| b.get(*name)) != Some(*value))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        if !changed.is_empty() {
            self.queue(&submodel.id, Commands { values, changed });
        }
    }

    /// Hands a change's commands to the twin's task, starting it on the twin's first change;
    /// past [`PENDING_CHANGES_PER_TWIN`] waiting, they are merged into the last one. Must be
    /// called inside a tokio runtime.
    pub(crate) fn queue(&self, twin: &str, commands: Commands) {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        if queues
            .get(twin)
            .is_some_and(|queue| queue.task.is_finished())
        {
            // Its task ended (the runtime is shutting down): a new one, for what waits.
            queues.remove(twin);
        }
        let queue = queues
            .entry(twin.to_owned())
            .or_insert_with(|| self.send_commands(twin));
        let mut pending = queue.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let full = pending.len() >= PENDING_CHANGES_PER_TWIN;
        match pending.back_mut() {
            Some(last) if full => {
                tracing::debug!(twin, "the twin's platform is far behind: a change merged");
                last.merge(commands);
            }
            _ => pending.push_back(commands),
        }
        drop(pending);
        queue.ready.notify_one();
    }

    /// The task that sends `twin`'s commands, one change after the other, until the twin is
    /// forgotten (its queue dropped) or these commands are.
    fn send_commands(&self, twin: &str) -> CommandQueue {
        let pending: Arc<Mutex<VecDeque<Commands>>> = Arc::default();
        let ready = Arc::new(tokio::sync::Notify::new());
        let sender = self.sender.clone();
        let twin = twin.to_owned();
        let (waiting, woken) = (pending.clone(), ready.clone());
        let task = tokio::spawn(async move {
            loop {
                let next = waiting
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .pop_front();
                let Some(commands) = next else {
                    woken.notified().await;
                    continue;
                };
                for (name, value) in &commands.changed {
                    match sender.send(&twin, name, value, &commands.values).await {
                        Ok(outcome) => {
                            tracing::debug!(%twin, property = %name, ?outcome, "twin changed")
                        }
                        Err(error) => {
                            tracing::warn!(%twin, property = %name, "command failed: {error}")
                        }
                    }
                }
            }
        });
        CommandQueue {
            pending,
            ready,
            task: task.abort_handle(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A platform that never answers: every command waits forever.
    struct Hanging;

    #[async_trait]
    impl CommandSender for Hanging {
        async fn send(
            &self,
            _: &str,
            _: &str,
            _: &Value,
            _: &Map<String, Value>,
        ) -> Result<CommandOutcome, PlatformError> {
            std::future::pending().await
        }
    }

    /// Changes pile up behind a hanging platform up to the bound the README states; the later
    /// ones are folded into the last waiting, which ends with the latest value; forgetting
    /// the twin stops its task.
    #[tokio::test]
    async fn changes_behind_a_hanging_platform_are_bounded_and_merged()
    -> Result<(), Box<dyn std::error::Error>> {
        let commands = TwinCommands::new(Arc::new(Hanging));
        for n in 0..300 {
            let values: Map<String, Value> =
                [("temp".to_owned(), Value::from(n))].into_iter().collect();
            let changed = values.clone().into_iter().collect();
            commands.queue("urn:sm:slow", Commands { values, changed });
            // The task takes the first change and hangs on it.
            tokio::task::yield_now().await;
        }
        let task = {
            let queues = commands
                .queues
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let slow = queues
                .get("urn:sm:slow")
                .ok_or("no queue of the slow twin")?;
            let pending = slow.pending.lock().unwrap_or_else(PoisonError::into_inner);
            assert_eq!(pending.len(), 256);
            let last = pending.back().ok_or("nothing waits")?;
            assert_eq!(last.changed, [("temp".to_owned(), Value::from(299))]);
            slow.task.clone()
        };
        assert_eq!(PENDING_CHANGES_PER_TWIN, 256);
        commands.forget("urn:sm:slow");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(task.is_finished(), "the forgotten twin's task was stopped");
        Ok(())
    }

    #[test]
    fn a_merge_keeps_the_latest_value_of_each_property_in_first_change_order() {
        let of = |pairs: &[(&str, i64)]| -> Vec<(String, Value)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
                .collect()
        };
        let mut first = Commands {
            values: Map::new(),
            changed: of(&[("a", 1), ("b", 1)]),
        };
        let later_values: Map<String, Value> =
            [("c".to_owned(), Value::from(3))].into_iter().collect();
        first.merge(Commands {
            values: later_values.clone(),
            changed: of(&[("c", 3), ("a", 2)]),
        });
        assert_eq!(first.changed, of(&[("a", 2), ("b", 1), ("c", 3)]));
        assert_eq!(first.values, later_values);
    }
}
