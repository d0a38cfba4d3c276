//! The repository service: each change with its events in one transaction, announced once
//! committed.
//!
//! # The write path
//!
//! An element is serialized once per change: the JSON stored is the JSON every event encoding
//! carries ([`SerializedElement`]). What costs in proportion to the element (serializing,
//! escaping it as the envelope's payload string, compressing) is done *before* the storage's
//! writer lock is taken ([`Encoding::prepare`]); under the lock, inside the transaction, only
//! the small rest is added ([`events_core::PreparedMessage::finish`]): the timestamp, taken
//! there so that timestamps increase in commit order (consumers drop an event not newer than
//! the last they processed: a later commit with an earlier timestamp would be lost), and
//! `affectedShellIds`, which is what the transaction sees. Neither needs the element to be
//! compressed again: the envelope's gzip is framed around the prepared payload.
//!
//! Changes that read the stored element first (`modify_*`, deletions) make their events
//! under the lock: the element only exists there.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use aas_model::{
    AssetAdministrationShell, ConceptDescription, Environment, HasSemantics, Submodel,
};
use chrono::{DateTime, Utc};
use events_core::{
    Encoding, EventClock, EventKind, PreparedMessage, SerializedElement, SerializedEvent,
};
use tokio::sync::broadcast;

use crate::config::SemanticIdFilter;
use crate::storage::{
    Attachment, Change, Event, Finish, MakeEvents, Repository, StorageError, Written,
};

/// Who made a change: the twin service answers changes made by others, not its own writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A client of the repository API.
    Api,
    /// The twin service writing values read from a platform.
    Twin,
    /// Files loaded at start.
    Load,
}

/// A change that was committed, as subscribers learn of it ([`RepositoryService::subscribe`]).
/// Elements are shared, not copied, between the subscribers.
#[derive(Debug, Clone)]
pub enum CommittedChange {
    /// A shell was created, replaced or deleted (then its last state).
    Shell {
        kind: EventKind,
        origin: Origin,
        shell: Arc<AssetAdministrationShell>,
    },
    /// A submodel was created, replaced or deleted (then its last state).
    Submodel {
        kind: EventKind,
        origin: Origin,
        submodel: Arc<Submodel>,
    },
    /// A concept description was created, replaced or deleted.
    ConceptDescription {
        kind: EventKind,
        origin: Origin,
        id: String,
    },
}

impl CommittedChange {
    /// What happened.
    pub fn kind(&self) -> EventKind {
        match self {
            CommittedChange::Shell { kind, .. }
            | CommittedChange::Submodel { kind, .. }
            | CommittedChange::ConceptDescription { kind, .. } => *kind,
        }
    }

    /// Who made the change.
    pub fn origin(&self) -> Origin {
        match self {
            CommittedChange::Shell { origin, .. }
            | CommittedChange::Submodel { origin, .. }
            | CommittedChange::ConceptDescription { origin, .. } => *origin,
        }
    }

    /// The identifier of the element changed.
    pub fn id(&self) -> &str {
        match self {
            CommittedChange::Shell { shell, .. } => &shell.id,
            CommittedChange::Submodel { submodel, .. } => &submodel.id,
            CommittedChange::ConceptDescription { id, .. } => id,
        }
    }
}

/// How changes are announced as events.
#[derive(Debug, Clone, Default)]
pub struct EventSettings {
    /// The contracts events are written in (none: no events).
    pub encodings: Vec<Encoding>,
    /// Which submodels announce their changes.
    pub submodel_filter: SemanticIdFilter,
    /// The largest message published complete; a larger one is published reference-only
    /// (the event feed keeps it complete).
    pub max_event_size: usize,
}

/// How many committed changes wait for a slow subscriber before it misses the oldest (it is
/// told how many: [`broadcast::error::RecvError::Lagged`]).
const ANNOUNCED: usize = 4096;

/// Changes of the repository with their events; see the module documentation.
pub struct RepositoryService {
    repository: Arc<dyn Repository>,
    aas_version: aas_model::Version,
    shared: Arc<Shared>,
}

/// What the events closures use: storage runs them under its writer lock, on a thread of its
/// own, so they own it.
struct Shared {
    events: EventSettings,
    clock: Mutex<EventClock>,
    committed: broadcast::Sender<CommittedChange>,
    /// The next place in the commit order ([`Place`]).
    places: AtomicU64,
    /// The next place to announce, and the changes (or gaps: failed changes) after it that
    /// returned first.
    announcing: Mutex<(u64, BTreeMap<u64, Option<CommittedChange>>)>,
}

/// A change's place in the commit order, taken inside its transaction (in the events closure,
/// which storage runs under its writer lock, changes one after another in the order they
/// commit). With group commit the writers of a group return in any order; their changes are
/// announced in the order of their places, so subscribers (the twin service compares each
/// change with the one before) see them as committed. A place not announced (the change failed,
/// or panicked) is given up when the last of the closure's and the caller's handles is dropped,
/// so later changes are not held back.
struct Place {
    shared: Arc<Shared>,
    /// The place, with the change when the closure knows it (a deletion's last state).
    taken: Mutex<Option<(u64, Option<CommittedChange>)>>,
}

impl Place {
    fn new(shared: &Arc<Shared>) -> Arc<Self> {
        Arc::new(Place {
            shared: shared.clone(),
            taken: Mutex::new(None),
        })
    }

    /// Takes the next place (once; called under the writer lock), with the change to announce
    /// when known there.
    fn take(&self, change: Option<CommittedChange>) {
        let mut taken = self.taken.lock().unwrap_or_else(PoisonError::into_inner);
        let place =
            taken.get_or_insert_with(|| (self.shared.places.fetch_add(1, Ordering::SeqCst), None));
        place.1 = change.or(place.1.take());
    }

    /// Announces the committed change (`change`, else the one taken with the place) at this
    /// place, at once if it took none (a change without events closure).
    fn announce(&self, change: Option<CommittedChange>) {
        match self
            .taken
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            Some((place, taken)) => self.shared.announce_at(place, change.or(taken)),
            None => change
                .into_iter()
                .for_each(|change| self.shared.send(change)),
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let taken = self.taken.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some((place, _)) = taken.take() {
            self.shared.announce_at(place, None);
        }
    }
}

impl std::fmt::Debug for RepositoryService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RepositoryService")
            .field("events", &self.shared.events)
            .field("aas_version", &self.aas_version)
            .finish_non_exhaustive()
    }
}

/// An element's messages prepared in each encoding.
type Prepared<'a> = Vec<(&'a Encoding, PreparedMessage<'a>)>;

/// A write's events ([`MakeEvents`]): `element` (none: the filter leaves it out) prepared
/// before the writer lock, the events made and the place taken under it.
struct WriteEvents {
    shared: Arc<Shared>,
    element: Option<SerializedElement>,
    place: Arc<Place>,
}

impl MakeEvents for WriteEvents {
    fn prepare(&self) -> Finish<'_> {
        let prepared = (self.element.iter())
            .flat_map(|element| self.shared.prepare(element))
            .collect();
        Box::new(move |written, affected| {
            self.place.take(None);
            self.shared.finish(&prepared, kind_of(written), affected)
        })
    }
}

fn kind_of(written: Written) -> EventKind {
    match written {
        Written::Created => EventKind::Created,
        Written::Replaced => EventKind::Updated,
    }
}

impl Shared {
    fn send(&self, change: CommittedChange) {
        // An error means nobody subscribed: then nobody is to be told.
        let _ = self.committed.send(change);
    }

    /// Announces `change` (`None`: a failed change's place) once every place before it is.
    fn announce_at(&self, place: u64, change: Option<CommittedChange>) {
        let mut announcing = self
            .announcing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (next, waiting) = &mut *announcing;
        waiting.insert(place, change);
        while let Some(change) = waiting.remove(next) {
            if let Some(change) = change {
                self.send(change);
            }
            *next += 1;
        }
    }

    fn timestamp(&self) -> DateTime<Utc> {
        self.clock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .next_timestamp()
    }

    /// Whether changes of `submodel` make events (the semantic-id filter).
    fn announces(&self, submodel: &Submodel) -> bool {
        let semantic_id = submodel
            .semantic_id()
            .and_then(|reference| reference.keys.first())
            .map(|key| key.value.as_str());
        self.events.submodel_filter.admits(semantic_id)
    }

    /// The part of `element`'s messages that costs in proportion to it.
    fn prepare(&self, element: &SerializedElement) -> Prepared<'_> {
        self.events
            .encodings
            .iter()
            .map(|encoding| (encoding, encoding.prepare(element)))
            .collect()
    }

    /// The events of a change, made while it commits (see the module documentation).
    fn finish(&self, prepared: &Prepared<'_>, kind: EventKind, affected: &[String]) -> Vec<Event> {
        if prepared.is_empty() {
            return Vec::new();
        }
        let timestamp = self.timestamp();
        let mut events = Vec::with_capacity(prepared.len());
        for (encoding, message) in prepared {
            let complete = match message.finish(kind, timestamp, affected) {
                Ok(complete) => complete,
                Err(error) => {
                    tracing::error!(%error, id = %message.element().id, "no event in one encoding");
                    continue;
                }
            };
            let mut logged = Event::new(complete.topic, complete.payload, timestamp);
            if logged.payload.len() > self.events.max_event_size {
                let event = SerializedEvent {
                    kind,
                    timestamp,
                    element: message.element().clone(),
                    affected_shell_ids: affected.to_vec(),
                };
                match encoding.encode_reference_serialized(&event) {
                    Ok(reference) => logged.published = Some(reference.payload),
                    Err(error) => tracing::error!(%error, "no reference-only event"),
                }
            }
            events.push(logged);
        }
        events
    }

    /// The events of a change made under the lock, element and all (deletions, `modify_*`).
    fn events_now(
        &self,
        element: &SerializedElement,
        kind: EventKind,
        affected: &[String],
    ) -> Vec<Event> {
        self.finish(&self.prepare(element), kind, affected)
    }
}

impl RepositoryService {
    /// The service over `repository`, whose data is of `aas_version`.
    pub fn new(
        repository: Arc<dyn Repository>,
        events: EventSettings,
        aas_version: aas_model::Version,
    ) -> Self {
        let (committed, _) = broadcast::channel(ANNOUNCED);
        let shared = Shared {
            events,
            clock: Mutex::new(EventClock::new()),
            committed,
            places: AtomicU64::new(0),
            announcing: Mutex::new((0, BTreeMap::new())),
        };
        Self {
            repository,
            aas_version,
            shared: Arc::new(shared),
        }
    }

    /// The storage, for reads.
    pub fn repository(&self) -> &Arc<dyn Repository> {
        &self.repository
    }

    /// The contracts events are written in.
    pub fn encodings(&self) -> &[Encoding] {
        &self.shared.events.encodings
    }

    /// The AAS version of the data.
    pub fn aas_version(&self) -> aas_model::Version {
        self.aas_version
    }

    /// Committed changes from now on, in commit order (of shells and submodels; a concept
    /// description's is announced when it returns).
    /// How many changes took their place in the commit order, and how many of them were
    /// announced since (equal: no change made through this service is between its commit and
    /// its announcement). A reader of stored data compares the two before and after it
    /// reads: unchanged and equal, what it read holds no change it has not been told of.
    pub fn change_positions(&self) -> (u64, u64) {
        let announced = (self.shared.announcing.lock())
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        (self.shared.places.load(Ordering::SeqCst), announced)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<CommittedChange> {
        self.shared.committed.subscribe()
    }

    // ---- shells ----------------------------------------------------------------------------

    /// Creates or replaces a shell.
    pub async fn put_shell(
        &self,
        shell: AssetAdministrationShell,
        origin: Origin,
    ) -> Result<Written, StorageError> {
        let (written, _) = self.write_shell(shell, false, origin).await?;
        Ok(written)
    }

    /// Creates or replaces a shell; whether it created it, and its JSON as stored (a PUT that
    /// creates answers with it).
    pub async fn replace_shell(
        &self,
        shell: AssetAdministrationShell,
        origin: Origin,
    ) -> Result<(Written, Arc<str>), StorageError> {
        self.write_shell(shell, false, origin).await
    }

    /// Creates a shell; [`StorageError::Exists`] if its id is taken. Its JSON as stored.
    pub async fn create_shell(
        &self,
        shell: AssetAdministrationShell,
        origin: Origin,
    ) -> Result<Arc<str>, StorageError> {
        Ok(self.write_shell(shell, true, origin).await?.1)
    }

    async fn write_shell(
        &self,
        shell: AssetAdministrationShell,
        create_only: bool,
        origin: Origin,
    ) -> Result<(Written, Arc<str>), StorageError> {
        let json: Arc<str> = aas_serde::json::to_string(&shell).into();
        let element = Some(SerializedElement::shell_with_json(&shell, json.clone()));
        let (shared, place) = (self.shared.clone(), Place::new(&self.shared));
        let events = Box::new(WriteEvents {
            shared,
            element,
            place: place.clone(),
        });
        let (shell, repository) = (Arc::new(shell), &self.repository);
        let written = if create_only {
            let json = json.clone();
            repository
                .create_shell_serialized(shell.clone(), json, events)
                .await?;
            Written::Created
        } else {
            repository
                .put_shell_serialized(shell.clone(), json.clone(), events)
                .await?
        };
        let kind = kind_of(written);
        place.announce(Some(CommittedChange::Shell {
            kind,
            origin,
            shell,
        }));
        Ok((written, json))
    }

    /// Deletes a shell; [`StorageError::NotFound`] if there is none.
    pub async fn delete_shell(&self, id: &str, origin: Origin) -> Result<(), StorageError> {
        let (place, shared) = (Place::new(&self.shared), self.shared.clone());
        let taken = place.clone();
        let events = Box::new(move |shell: &AssetAdministrationShell| {
            let kind = EventKind::Deleted;
            let change = CommittedChange::Shell {
                kind,
                origin,
                shell: Arc::new(shell.clone()),
            };
            taken.take(Some(change));
            shared.events_now(&SerializedElement::shell(shell), kind, &[])
        });
        self.repository.delete_shell(id, events).await?;
        place.announce(None);
        Ok(())
    }

    /// Changes a stored shell in one transaction (`change` may refuse), storing `thumbnail`
    /// with it when given; the shell as changed.
    pub async fn modify_shell(
        &self,
        id: &str,
        thumbnail: Option<Attachment>,
        change: impl FnMut(&mut AssetAdministrationShell) -> Change<()> + Send + 'static,
        origin: Origin,
    ) -> Result<Arc<AssetAdministrationShell>, StorageError> {
        let (place, shared) = (Place::new(&self.shared), self.shared.clone());
        let taken = place.clone();
        let events = Box::new(move |shell: &AssetAdministrationShell, json: &str| {
            taken.take(None);
            let element = SerializedElement::shell_with_json(shell, json.into());
            shared.events_now(&element, EventKind::Updated, &[])
        });
        let shell = self
            .repository
            .modify_shell(id, thumbnail, Box::new(change), events)
            .await?;
        let shell = Arc::new(shell);
        place.announce(Some(CommittedChange::Shell {
            kind: EventKind::Updated,
            origin,
            shell: shell.clone(),
        }));
        Ok(shell)
    }

    // ---- submodels -------------------------------------------------------------------------

    /// Creates or replaces a submodel.
    pub async fn put_submodel(
        &self,
        submodel: Submodel,
        origin: Origin,
    ) -> Result<Written, StorageError> {
        let (written, _) = self.write_submodel(submodel, false, origin).await?;
        Ok(written)
    }

    /// Creates or replaces a submodel; whether it created it, and its JSON as stored (a PUT
    /// that creates answers with it).
    pub async fn replace_submodel(
        &self,
        submodel: Submodel,
        origin: Origin,
    ) -> Result<(Written, Arc<str>), StorageError> {
        self.write_submodel(submodel, false, origin).await
    }

    /// Creates a submodel; [`StorageError::Exists`] if its id is taken. Its JSON as stored.
    pub async fn create_submodel(
        &self,
        submodel: Submodel,
        origin: Origin,
    ) -> Result<Arc<str>, StorageError> {
        Ok(self.write_submodel(submodel, true, origin).await?.1)
    }

    async fn write_submodel(
        &self,
        submodel: Submodel,
        create_only: bool,
        origin: Origin,
    ) -> Result<(Written, Arc<str>), StorageError> {
        let json: Arc<str> = aas_serde::json::to_string(&submodel).into();
        let element = (self.shared.announces(&submodel))
            .then(|| SerializedElement::submodel_with_json(&submodel, json.clone()));
        let (shared, place) = (self.shared.clone(), Place::new(&self.shared));
        let events = Box::new(WriteEvents {
            shared,
            element,
            place: place.clone(),
        });
        let (submodel, repository) = (Arc::new(submodel), &self.repository);
        let change = if create_only {
            let json = json.clone();
            repository
                .create_submodel_serialized(submodel.clone(), json, events)
                .await?
        } else {
            repository
                .put_submodel_serialized(submodel.clone(), json.clone(), events)
                .await?
        };
        let kind = kind_of(change.written);
        place.announce(Some(CommittedChange::Submodel {
            kind,
            origin,
            submodel,
        }));
        Ok((change.written, json))
    }

    /// Deletes a submodel; [`StorageError::NotFound`] if there is none.
    pub async fn delete_submodel(&self, id: &str, origin: Origin) -> Result<(), StorageError> {
        let (place, shared) = (Place::new(&self.shared), self.shared.clone());
        let taken = place.clone();
        let events = Box::new(move |submodel: &Submodel, affected: &[String]| {
            let (kind, announced) = (EventKind::Deleted, Arc::new(submodel.clone()));
            let change = CommittedChange::Submodel {
                kind,
                origin,
                submodel: announced,
            };
            taken.take(Some(change));
            if !shared.announces(submodel) {
                return Vec::new();
            }
            shared.events_now(&SerializedElement::submodel(submodel), kind, affected)
        });
        self.repository.delete_submodel(id, events).await?;
        place.announce(None);
        Ok(())
    }

    /// Deletes a submodel and the shell's reference to it (Part 2's DELETE under
    /// `/shells/{aas}/submodels/{sm}`): [`StorageError::NotFound`] if the shell does not refer
    /// to it or either is missing. Two transactions, each with its events (the shell's
    /// `updated`, the submodel's `deleted`): the reference goes first, so that a failure
    /// between them leaves a submodel no shell refers to (as `POST /submodels` makes one), never
    /// a shell referring to a deleted submodel.
    pub async fn delete_submodel_of_shell(
        &self,
        shell_id: &str,
        submodel_id: &str,
        origin: Origin,
    ) -> Result<(), StorageError> {
        if self.repository.submodel(submodel_id).await?.is_none() {
            return Err(StorageError::NotFound(format!("submodel {submodel_id:?}")));
        }
        let (referred, shell) = (submodel_id.to_owned(), shell_id.to_owned());
        let unrefer = move |stored: &mut AssetAdministrationShell| -> Change<()> {
            if stored.remove_submodel_reference(&referred) {
                return Ok(());
            }
            Err(Box::new(StorageError::NotFound(format!(
                "a reference of shell {shell:?} to submodel {referred:?}"
            ))))
        };
        self.modify_shell(shell_id, None, unrefer, origin).await?;
        self.delete_submodel(submodel_id, origin).await
    }

    /// Changes a stored submodel in one transaction (`change` may refuse), storing the File
    /// bytes `attach` gives (idShort path, file) with it; the submodel as changed.
    pub async fn modify_submodel(
        &self,
        id: &str,
        attach: Option<(String, Attachment)>,
        change: impl FnMut(&mut Submodel) -> Change<()> + Send + 'static,
        origin: Origin,
    ) -> Result<Arc<Submodel>, StorageError> {
        let (place, shared) = (Place::new(&self.shared), self.shared.clone());
        let taken = place.clone();
        let events = Box::new(
            move |submodel: &Submodel, json: &str, outcome: &crate::storage::SubmodelChange| {
                taken.take(None);
                if !shared.announces(submodel) {
                    return Vec::new();
                }
                let element = SerializedElement::submodel_with_json(submodel, json.into());
                shared.events_now(&element, EventKind::Updated, &outcome.affected_shell_ids)
            },
        );
        let submodel = self
            .repository
            .modify_submodel(id, attach, Box::new(change), events)
            .await?;
        place.announce(Some(CommittedChange::Submodel {
            kind: EventKind::Updated,
            origin,
            submodel: submodel.clone(),
        }));
        Ok(submodel)
    }

    // ---- concept descriptions --------------------------------------------------------------

    /// Creates or replaces a concept description (they make no events).
    pub async fn put_concept_description(
        &self,
        cd: &ConceptDescription,
        origin: Origin,
    ) -> Result<Written, StorageError> {
        let written = self.repository.put_concept_description(cd).await?;
        self.shared.send(CommittedChange::ConceptDescription {
            kind: kind_of(written),
            origin,
            id: cd.id.clone(),
        });
        Ok(written)
    }

    /// Creates a concept description; [`StorageError::Exists`] if its id is taken. Its JSON.
    pub async fn create_concept_description(
        &self,
        cd: ConceptDescription,
        origin: Origin,
    ) -> Result<Arc<str>, StorageError> {
        self.repository.create_concept_description(&cd).await?;
        self.shared.send(CommittedChange::ConceptDescription {
            kind: EventKind::Created,
            origin,
            id: cd.id.clone(),
        });
        // Concept descriptions are small and serialized by storage: written again here.
        Ok(aas_serde::json::to_string(&cd).into())
    }

    /// Deletes a concept description; [`StorageError::NotFound`] if there is none.
    pub async fn delete_concept_description(
        &self,
        id: &str,
        origin: Origin,
    ) -> Result<(), StorageError> {
        self.repository.delete_concept_description(id).await?;
        self.shared.send(CommittedChange::ConceptDescription {
            kind: EventKind::Deleted,
            origin,
            id: id.to_owned(),
        });
        Ok(())
    }

    // ---- loading at start ------------------------------------------------------------------

    /// Stores a loaded shell unless it is stored the same already (`false`).
    pub async fn load_shell(&self, shell: &AssetAdministrationShell) -> Result<bool, StorageError> {
        if self.repository.shell(&shell.id).await?.as_ref() == Some(shell) {
            return Ok(false);
        }
        self.put_shell(shell.clone(), Origin::Load).await?;
        Ok(true)
    }

    /// Stores a loaded submodel unless it is stored the same already (`false`).
    pub async fn load_submodel(&self, submodel: &Submodel) -> Result<bool, StorageError> {
        if self.repository.submodel(&submodel.id).await?.as_ref() == Some(submodel) {
            return Ok(false);
        }
        self.put_submodel(submodel.clone(), Origin::Load).await?;
        Ok(true)
    }

    /// Stores a loaded concept description unless it is stored the same already (`false`).
    pub async fn load_concept_description(
        &self,
        cd: &ConceptDescription,
    ) -> Result<bool, StorageError> {
        if self.repository.concept_description(&cd.id).await?.as_ref() == Some(cd) {
            return Ok(false);
        }
        self.put_concept_description(cd, Origin::Load).await?;
        Ok(true)
    }

    /// Every element of `environment`; how many were stored (not already the same).
    /// Committed together (see [`Repository::in_one_transaction`]): one commit per element
    /// made loading 100,000 shells take 2.5 times as long.
    pub async fn load_environment(&self, environment: &Environment) -> Result<usize, StorageError> {
        let load = async {
            let mut count = 0;
            for shell in environment.asset_administration_shells.iter().flatten() {
                count += usize::from(self.load_shell(shell).await?);
            }
            for submodel in environment.submodels.iter().flatten() {
                count += usize::from(self.load_submodel(submodel).await?);
            }
            for cd in environment.concept_descriptions.iter().flatten() {
                count += usize::from(self.load_concept_description(cd).await?);
            }
            Ok(count)
        };
        self.repository.in_one_transaction(Box::pin(load)).await
    }
}

#[cfg(test)]
mod tests {
    use aas_model::{AssetInformation, AssetKind, Reference};
    use events_core::{ChangeEvent, TopicScheme, envelope};

    use super::*;
    use crate::storage::{Collection, LoggedEvent, SqliteRepository};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn service() -> Result<RepositoryService, StorageError> {
        Ok(RepositoryService::new(
            Arc::new(SqliteRepository::in_memory()?),
            EventSettings {
                encodings: vec![Encoding::twinsphere()],
                submodel_filter: SemanticIdFilter::default(),
                max_event_size: 1 << 20,
            },
            aas_model::Version::LATEST,
        ))
    }

    fn shell_referring_to(id: &str, submodel: &str) -> AssetAdministrationShell {
        let mut info = AssetInformation::new(AssetKind::Instance);
        info.global_asset_id = Some("urn:asset:1".into());
        let mut shell = AssetAdministrationShell::new(id, info);
        shell.submodels = Some(vec![Reference::to_submodel(submodel)]);
        shell
    }

    async fn logged(service: &RepositoryService) -> Result<Vec<LoggedEvent>, StorageError> {
        let repository = service.repository();
        Ok(repository
            .events(None, 10_000, usize::MAX, None)
            .await?
            .items)
    }

    fn decoded(event: &LoggedEvent) -> Result<ChangeEvent, Box<dyn std::error::Error>> {
        let topic = TopicScheme::twinsphere().parse(&event.topic)?;
        Ok(envelope::decode(&topic, &event.payload, 1 << 26)?)
    }

    #[tokio::test]
    async fn a_write_stores_the_json_its_event_carries_and_announces_the_committed_change()
    -> TestResult {
        let service = service()?;
        let mut committed = service.subscribe();
        let shell = shell_referring_to("urn:aas:1", "urn:sm:1");
        service.put_shell(shell, Origin::Api).await?;
        let mut submodel = Submodel::new("urn:sm:1");
        submodel.id_short = Some("first".into());
        assert_eq!(
            service.put_submodel(submodel.clone(), Origin::Api).await?,
            Written::Created
        );
        let repository = service.repository();
        let stored = repository
            .stored_json(Collection::Submodels, "urn:sm:1")
            .await?;
        assert_eq!(stored, Some(aas_serde::json::to_string(&submodel)));
        let events = logged(&service).await?;
        assert_eq!(events.len(), 2);
        assert_eq!(
            decoded(&events[1])?,
            ChangeEvent::Submodel {
                kind: EventKind::Created,
                timestamp: events[1].timestamp,
                submodel: Box::new(submodel.clone()),
                affected_shell_ids: vec!["urn:aas:1".into()],
            },
            "affectedShellIds as the transaction saw them"
        );
        match committed.try_recv()? {
            CommittedChange::Shell {
                kind,
                origin,
                shell,
            } => {
                assert_eq!(
                    (kind, origin, shell.id.as_str()),
                    (EventKind::Created, Origin::Api, "urn:aas:1")
                );
            }
            other => return Err(format!("{other:?}").into()),
        }
        match committed.try_recv()? {
            CommittedChange::Submodel {
                kind,
                origin,
                submodel: announced,
            } => {
                assert_eq!((kind, origin), (EventKind::Created, Origin::Api));
                assert_eq!(*announced, submodel);
            }
            other => return Err(format!("{other:?}").into()),
        }
        // A refused change commits nothing and announces nothing.
        let refuse = |_: &mut Submodel| Err("no".into());
        let refused = (service.modify_submodel("urn:sm:1", None, refuse, Origin::Api)).await;
        assert!(
            matches!(refused, Err(StorageError::Refused(_))),
            "{refused:?}"
        );
        assert!(committed.try_recv().is_err());
        assert_eq!(logged(&service).await?.len(), 2);
        Ok(())
    }

    /// The service drives storage through `Arc<dyn Repository>` from async tasks (no hop to
    /// the blocking pool of their own): writers sharing commits still log and announce their
    /// changes in commit order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writes_have_event_times_increasing_in_commit_order() -> TestResult {
        let service = Arc::new(service()?);
        let mut announced = service.subscribe();
        let writers: Vec<_> = (0..4)
            .map(|writer| {
                let service = service.clone();
                tokio::spawn(async move {
                    for n in 0..25 {
                        let mut submodel = Submodel::new("urn:sm:1");
                        submodel.id_short = Some(format!("w{writer}n{n}"));
                        service.put_submodel(submodel, Origin::Api).await?;
                        let change = move |submodel: &mut Submodel| {
                            submodel.category = Some(format!("w{writer}"));
                            Ok(())
                        };
                        (service.modify_submodel("urn:sm:1", None, change, Origin::Api)).await?;
                    }
                    Ok::<_, StorageError>(())
                })
            })
            .collect();
        for writer in writers {
            writer.await??;
        }
        let events = logged(&service).await?;
        assert_eq!(events.len(), 200);
        for pair in events.windows(2) {
            assert!(pair[0].sequence < pair[1].sequence);
            assert!(
                pair[0].timestamp < pair[1].timestamp,
                "event {} at {} committed before event {} at {}",
                pair[0].sequence,
                pair[0].timestamp,
                pair[1].sequence,
                pair[1].timestamp
            );
            let envelope = decoded(&pair[1])?;
            assert_eq!(envelope.timestamp(), pair[1].timestamp);
        }
        // Changes are announced in commit order too: as the events were logged (the writers
        // of a group return in any order).
        let mut seen = Vec::new();
        while let Ok(change) = announced.try_recv() {
            if let CommittedChange::Submodel { submodel, .. } = change {
                seen.push((submodel.id_short.clone(), submodel.category.clone()));
            }
        }
        let mut logged_order = Vec::new();
        for event in &events {
            if let ChangeEvent::Submodel { submodel, .. } = decoded(event)? {
                logged_order.push((submodel.id_short.clone(), submodel.category.clone()));
            }
        }
        assert_eq!(seen.len(), 200);
        assert!(seen == logged_order, "announced out of commit order");
        // The last event carries what is stored.
        let last = events.last().ok_or("no events")?;
        let ChangeEvent::Submodel { submodel, .. } = decoded(last)? else {
            return Err("not a submodel event".into());
        };
        assert_eq!(
            Some(*submodel),
            service.repository().submodel("urn:sm:1").await?
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_change_that_panics_after_writing_is_rolled_back_and_storage_goes_on() -> TestResult {
        let service = service()?;
        let repository = service.repository();
        let half = Submodel::new("urn:sm:half");
        let json = aas_serde::json::to_string(&half).into();
        // The events closure runs after the row is written, inside the transaction.
        let panics = Box::new(|_, _: &[String]| -> Vec<Event> { panic!("a change that panics") });
        let outcome = (repository.put_submodel_serialized(Arc::new(half), json, panics)).await;
        assert!(matches!(outcome, Err(StorageError::Task(_))), "{outcome:?}");
        assert_eq!(repository.submodel("urn:sm:half").await?, None);
        service
            .put_submodel(Submodel::new("urn:sm:after"), Origin::Api)
            .await?;
        assert!(repository.submodel("urn:sm:after").await?.is_some());
        assert_eq!(repository.submodel("urn:sm:half").await?, None);
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_refused_change_among_concurrent_ones_is_rolled_back_alone() -> TestResult {
        let service = Arc::new(service()?);
        for n in 0..8 {
            let submodel = Submodel::new(format!("urn:sm:{n}"));
            service.put_submodel(submodel, Origin::Api).await?;
        }
        let before = logged(&service).await?.len();
        // Concurrent changes share commits (group commit); the odd ones are refused after
        // changing the submodel, so only their own savepoint may be rolled back.
        let writers: Vec<_> = (0..8)
            .map(|n| {
                let service = service.clone();
                tokio::spawn(async move {
                    let mut made = 0;
                    for round in 0..20 {
                        let change = move |submodel: &mut Submodel| {
                            submodel.category = Some(format!("r{round}"));
                            if n % 2 == 1 {
                                return Err("refused".into());
                            }
                            Ok(())
                        };
                        let id = format!("urn:sm:{n}");
                        let changed = service.modify_submodel(&id, None, change, Origin::Api);
                        made += usize::from(changed.await.is_ok());
                    }
                    made
                })
            })
            .collect();
        let mut made = 0;
        for writer in writers {
            made += writer.await?;
        }
        assert_eq!(made, 4 * 20);
        assert_eq!(logged(&service).await?.len(), before + 4 * 20);
        for n in 0..8 {
            let id = format!("urn:sm:{n}");
            let stored = service.repository().submodel(&id).await?.ok_or("gone")?;
            let expected = (n % 2 == 0).then(|| "r19".to_owned());
            assert_eq!(stored.category, expected, "urn:sm:{n}");
        }
        Ok(())
    }

    #[tokio::test]
    async fn a_submodel_the_filter_leaves_out_is_stored_and_announced_without_events() -> TestResult
    {
        let mut settings = EventSettings {
            encodings: vec![Encoding::twinsphere()],
            ..EventSettings::default()
        };
        settings.submodel_filter =
            SemanticIdFilter::new(&["urn:semantic:kept".to_owned()]).map_err(|e| e.to_string())?;
        let service = RepositoryService::new(
            Arc::new(SqliteRepository::in_memory()?),
            settings,
            aas_model::Version::LATEST,
        );
        let mut committed = service.subscribe();
        service
            .put_submodel(Submodel::new("urn:sm:other"), Origin::Api)
            .await?;
        service.delete_submodel("urn:sm:other", Origin::Api).await?;
        assert!(logged(&service).await?.is_empty());
        assert!(matches!(
            committed.try_recv()?,
            CommittedChange::Submodel {
                kind: EventKind::Created,
                ..
            }
        ));
        assert!(matches!(
            committed.try_recv()?,
            CommittedChange::Submodel {
                kind: EventKind::Deleted,
                ..
            }
        ));
        Ok(())
    }
}
