//! Synchronized twins in the server: a twin is a submodel bound to a device on a platform.
//! sdt-core's engine polls and renders; this module stores the bindings (credentials sealed),
//! writes the engine's values into the submodel (an element when the property name is an
//! idShort path, else an extension of that name), marks bound submodels the way Thing'in marks
//! avatars, and turns changes made through the repository API into commands: it subscribes to
//! the repository service's committed changes ([`Synchronizer::watch`]), so a command is sent
//! after the change commits, outside the request that made it.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use aas_model::{
    DataTypeDefXsd, Extension, IdShortPath, PathStep, Property, Submodel, SubmodelElement,
};
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use sdt_core::description::SyncDescription;
use sdt_core::engine::{SyncEngine, TwinBinding, TwinSink};
use sdt_core::outbound::OutboundPolicy;
use sdt_core::platform::{ClientOptions, Credentials, Platform, PlatformClient};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::secrets::SecretKey;
use crate::service::{CommittedChange, Origin, RepositoryService};
use crate::storage::Write;

/// The extensions that mark a bound submodel.
pub const MARKS: [&str; 4] = [
    "DT:uuid",
    "DT:type",
    "DT:description",
    "SynchronizedDigitalTwin",
];

/// A binding as users send it (secrets included) and as it is shown (secrets left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwinRecord {
    pub submodel_id: String,
    pub platform: String,
    pub uuid_on_platform: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_id_on_platform: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The synchronization description.
    pub synchronization: SyncDescription,
    #[serde(default, skip_serializing)]
    pub api_key: Option<String>,
    #[serde(default, skip_serializing)]
    pub login: Option<String>,
    #[serde(default, skip_serializing)]
    pub password: Option<String>,
}

/// The sealed part of a binding.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Secrets {
    api_key: Option<String>,
    login: Option<String>,
    password: Option<String>,
}

impl TwinRecord {
    fn credentials(secrets: &Secrets) -> Credentials {
        match (&secrets.api_key, &secrets.login, &secrets.password) {
            (Some(key), _, _) => Credentials::ApiKey(key.clone()),
            (None, Some(login), Some(password)) => Credentials::LoginPassword {
                login: login.clone(),
                password: password.clone(),
            },
            _ => Credentials::None,
        }
    }
}

/// Why a binding cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] SdtStoreError),
    /// The disk (or `max-database-size`) is full: nothing was stored.
    #[error("the server's disk is full: {0}")]
    DiskFull(String),
}

fn internal(error: impl std::fmt::Display) -> BindError {
    BindError::Internal(error.to_string())
}

/// Why the store of platforms and bindings failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SdtStoreError {
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    /// A stored row that no longer reads (what the push store calls corrupt too).
    #[error("the stored {what} no longer reads: {message}")]
    Corrupt { what: String, message: String },
    #[error("{0} cannot be stored: {1}")]
    Unserializable(String, String),
    /// A create found one of that name; checked in the write's transaction.
    #[error("{0} exists")]
    Exists(String),
    /// A replacement, a binding's platform or a deletion found none.
    #[error("{0} not found")]
    NotFound(String),
    #[error("platform {platform:?} has {twins} twins bound to it")]
    InUse { platform: String, twins: i64 },
}

/// Platforms and bindings in the repository's database file.
pub struct SdtStore {
    connection: Mutex<Connection>,
}

impl std::fmt::Debug for SdtStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SdtStore").finish_non_exhaustive()
    }
}

fn corrupt(what: String, error: impl std::fmt::Display) -> SdtStoreError {
    SdtStoreError::Corrupt {
        what,
        message: error.to_string(),
    }
}

/// A write transaction that takes the file's write lock at once, so the checks it makes hold
/// until it commits (other stores write to the same file).
fn immediate(connection: &mut Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
}

impl SdtStore {
    pub fn open(path: &std::path::Path) -> Result<Self, rusqlite::Error> {
        let connection = Connection::open(path)?;
        connection.busy_timeout(std::time::Duration::from_secs(10))?;
        connection.execute_batch(
            "CREATE TABLE IF NOT EXISTS sdt_platforms (name TEXT PRIMARY KEY NOT NULL, json TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS sdt_twins (submodel_id TEXT PRIMARY KEY NOT NULL,
                 json TEXT NOT NULL, sealed TEXT NOT NULL);",
        )?;
        Ok(Self {
            connection: Mutex::new(connection),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Bounds the database file as the repository does (`max-database-size`): the limit is
    /// SQLite's per connection, so every store's connection gets it.
    pub fn with_max_size(self, max_size: Option<u64>) -> Result<Self, rusqlite::Error> {
        crate::storage::limit_size(&self.lock(), max_size)?;
        Ok(self)
    }

    fn all(&self, table: &str, key: &str) -> Result<Vec<Value>, SdtStoreError> {
        let connection = self.lock();
        let mut statement =
            connection.prepare(&format!("SELECT {key}, json FROM {table} ORDER BY 1"))?;
        let rows = statement.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?;
        rows.map(|row| {
            let (name, text) = row?;
            serde_json::from_str(&text).map_err(|e| corrupt(format!("{table} row {name:?}"), e))
        })
        .collect()
    }

    pub fn platforms(&self) -> Result<Vec<Value>, SdtStoreError> {
        self.all("sdt_platforms", "name")
    }

    pub fn platform(&self, name: &str) -> Result<Option<Platform>, SdtStoreError> {
        read_platform(&self.lock(), name)
    }

    /// Creates or replaces a platform; `write` says which, checked in the transaction.
    pub fn put_platform(&self, platform: &Platform, write: Write) -> Result<(), SdtStoreError> {
        let what = || format!("platform {:?}", platform.name);
        let json = serde_json::to_string(platform)
            .map_err(|e| SdtStoreError::Unserializable(what(), e.to_string()))?;
        let mut connection = self.lock();
        let tx = immediate(&mut connection)?;
        let exists = tx
            .query_row(
                "SELECT 1 FROM sdt_platforms WHERE name = ?1",
                [&platform.name],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        match (write, exists) {
            (Write::Create, true) => return Err(SdtStoreError::Exists(what())),
            (Write::Replace, false) => return Err(SdtStoreError::NotFound(what())),
            _ => {}
        }
        tx.execute(
            "INSERT INTO sdt_platforms (name, json) VALUES (?1, ?2) \
             ON CONFLICT(name) DO UPDATE SET json = excluded.json",
            params![platform.name, json],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Deletes a platform no twin is bound to; the count and the deletion are one
    /// transaction, so a binding made meanwhile cannot be left without its platform.
    pub fn delete_platform(&self, name: &str) -> Result<(), SdtStoreError> {
        let mut connection = self.lock();
        let tx = immediate(&mut connection)?;
        let twins = twins_on(&tx, name)?;
        if twins > 0 {
            return Err(SdtStoreError::InUse {
                platform: name.to_owned(),
                twins,
            });
        }
        if tx.execute("DELETE FROM sdt_platforms WHERE name = ?1", [name])? == 0 {
            return Err(SdtStoreError::NotFound(format!("platform {name:?}")));
        }
        tx.commit()?;
        Ok(())
    }

    pub fn twins(&self) -> Result<Vec<Value>, SdtStoreError> {
        self.all("sdt_twins", "submodel_id")
    }

    pub fn twin(&self, submodel_id: &str) -> Result<Option<Value>, SdtStoreError> {
        let text: Option<String> = self
            .lock()
            .query_row(
                "SELECT json FROM sdt_twins WHERE submodel_id = ?1",
                [submodel_id],
                |row| row.get(0),
            )
            .optional()?;
        text.map(|t| {
            serde_json::from_str(&t).map_err(|e| corrupt(format!("twin {submodel_id:?}"), e))
        })
        .transpose()
    }

    /// The submodel ids of every binding.
    fn twin_ids(&self) -> Result<Vec<String>, SdtStoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare("SELECT submodel_id FROM sdt_twins ORDER BY 1")?;
        let ids = statement
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    fn twin_record(
        &self,
        submodel_id: &str,
    ) -> Result<Option<(TwinRecord, String)>, SdtStoreError> {
        let row: Option<(String, String)> = self
            .lock()
            .query_row(
                "SELECT json, sealed FROM sdt_twins WHERE submodel_id = ?1",
                [submodel_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        row.map(|(json, sealed)| {
            serde_json::from_str(&json)
                .map(|record| (record, sealed))
                .map_err(|e| corrupt(format!("twin {submodel_id:?}"), e))
        })
        .transpose()
    }

    /// Stores a binding: its platform must exist, and `write` says whether one for the
    /// submodel may exist; both checked in the transaction that writes it.
    fn put_twin(
        &self,
        record: &TwinRecord,
        sealed: &str,
        write: Write,
    ) -> Result<(), SdtStoreError> {
        let what = || format!("the twin of submodel {:?}", record.submodel_id);
        let json = serde_json::to_string(record)
            .map_err(|e| SdtStoreError::Unserializable(what(), e.to_string()))?;
        let mut connection = self.lock();
        let tx = immediate(&mut connection)?;
        if read_platform(&tx, &record.platform)?.is_none() {
            return Err(SdtStoreError::NotFound(format!(
                "platform {:?}",
                record.platform
            )));
        }
        let exists = tx
            .query_row(
                "SELECT 1 FROM sdt_twins WHERE submodel_id = ?1",
                [&record.submodel_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        match (write, exists) {
            (Write::Create, true) => {
                return Err(SdtStoreError::Exists(format!(
                    "submodel {:?} is bound already: a twin",
                    record.submodel_id
                )));
            }
            (Write::Replace, false) => return Err(SdtStoreError::NotFound(what())),
            _ => {}
        }
        tx.execute(
            "INSERT INTO sdt_twins (submodel_id, json, sealed) VALUES (?1, ?2, ?3) \
             ON CONFLICT(submodel_id) DO UPDATE SET json = excluded.json, sealed = excluded.sealed",
            params![record.submodel_id, json, sealed],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn delete_twin(&self, submodel_id: &str) -> Result<bool, SdtStoreError> {
        Ok(self.lock().execute(
            "DELETE FROM sdt_twins WHERE submodel_id = ?1",
            [submodel_id],
        )? > 0)
    }
}

fn read_platform(connection: &Connection, name: &str) -> Result<Option<Platform>, SdtStoreError> {
    let text: Option<String> = connection
        .query_row(
            "SELECT json FROM sdt_platforms WHERE name = ?1",
            [name],
            |row| row.get(0),
        )
        .optional()?;
    text.map(|t| serde_json::from_str(&t).map_err(|e| corrupt(format!("platform {name:?}"), e)))
        .transpose()
}

/// Twins bound to a platform.
fn twins_on(connection: &Connection, platform: &str) -> Result<i64, SdtStoreError> {
    Ok(connection.query_row(
        "SELECT COUNT(*) FROM sdt_twins WHERE json ->> '$.platform' = ?1",
        [platform],
        |row| row.get(0),
    )?)
}

/// Whether a name is written like an idShort (of either version), so that it names an element
/// rather than an extension. Whether it is a valid idShort is the server's version's rule:
/// [`id_short_problem`].
fn is_id_short(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// What aas-model's verification under `version` finds wrong with `id_short` (AASd-002's
/// pattern and the length limits differ between versions), if anything.
fn id_short_problem(id_short: &str, version: aas_model::Version) -> Option<String> {
    let mut property = Property::new(DataTypeDefXsd::String);
    property.id_short = Some(id_short.to_owned());
    aas_model::verify_as(&property, version)
        .next()
        .map(|finding| finding.to_string())
}

/// Checks that the synchronized properties that name elements name them with idShorts valid
/// under `version` (the server's): the element a sync would create must be one the API can
/// write again afterwards. The error names the property.
pub fn check_property_names(
    description: &SyncDescription,
    version: aas_model::Version,
) -> Result<(), String> {
    for attribute in &description.thingin_attributes {
        let Some(path) = element_path(&attribute.name) else {
            continue;
        };
        for step in path.steps() {
            if let PathStep::IdShort(id_short) = step
                && let Some(problem) = id_short_problem(id_short, version)
            {
                return Err(format!(
                    "property {:?} names an element, but {id_short:?} is not an idShort of AAS \
                     {version}: {problem}",
                    attribute.name
                ));
            }
        }
    }
    Ok(())
}

/// The element path a property name maps to, if it is an idShort path.
pub fn element_path(name: &str) -> Option<IdShortPath> {
    let path: IdShortPath = name.parse().ok()?;
    path.steps()
        .iter()
        .all(|step| match step {
            PathStep::IdShort(id_short) => is_id_short(id_short),
            PathStep::Index(_) => true,
        })
        .then_some(path)
}

fn lexical(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Writes a synchronized value into the submodel: the element at the name's idShort path
/// (a string Property is created at the top when missing), or the extension of that name. A
/// Property's new value is verified by the rules of `version` (the server's).
pub fn apply_property(
    submodel: &mut Submodel,
    name: &str,
    value: &Value,
    version: aas_model::Version,
) -> Result<(), String> {
    let text = lexical(value);
    let Some(path) = element_path(name) else {
        let extensions = submodel.extensions.get_or_insert_with(Vec::new);
        match extensions.iter_mut().find(|e| e.name == name) {
            Some(extension) => extension.value = Some(text),
            None => {
                let mut extension = Extension::new(name);
                extension.value_type = Some(DataTypeDefXsd::String);
                extension.value = Some(text);
                extensions.push(extension);
            }
        }
        return Ok(());
    };
    let written = submodel.element_mut(&path, |element| match element {
        SubmodelElement::Property(property) => {
            // A value that does not fit the element's valueType is reported, not written.
            let previous = property.value.replace(text.clone());
            if let Some(finding) = aas_model::verify_as(&*property, version).next() {
                property.value = previous;
                return Err(format!("{name}: {finding}"));
            }
            Ok(())
        }
        other => Err(format!(
            "{name} is a {}, not a Property",
            other.element_type().as_str()
        )),
    });
    match written {
        Some(result) => result,
        None => {
            let mut property = Property::new(DataTypeDefXsd::String);
            property.value = Some(text);
            let (parent, id_short) = match path.steps().split_last() {
                Some((PathStep::IdShort(id_short), [])) => (None, id_short.clone()),
                _ => {
                    return Err(format!(
                        "{name}: no such element, and only top-level Properties are created"
                    ));
                }
            };
            property.id_short = Some(id_short);
            // Checked when the binding was made, and again here: a Property the server's
            // version refuses would make every later write of the submodel fail.
            if let Some(finding) = aas_model::verify_as(&property, version).next() {
                return Err(format!("{name}: {finding}"));
            }
            submodel
                .insert_element(parent, property.into())
                .map_err(|e| e.to_string())
        }
    }
}

/// The current value of a synchronized property, as the twin stores it (a string).
pub fn property_value(submodel: &Submodel, name: &str) -> Option<Value> {
    match element_path(name) {
        Some(path) => match submodel.element(&path)? {
            SubmodelElement::Property(p) => p.value.map(Value::String),
            _ => None,
        },
        None => submodel
            .extensions
            .iter()
            .flatten()
            .find(|e| e.name == name)
            .and_then(|e| e.value.clone())
            .map(Value::String),
    }
}

/// Adds the marks of a bound submodel.
pub fn mark(submodel: &mut Submodel, record: &TwinRecord) {
    let extensions = submodel.extensions.get_or_insert_with(Vec::new);
    extensions.retain(|e| !MARKS.contains(&e.name.as_str()));
    for (name, value, value_type) in [
        (
            "DT:uuid",
            Some(record.uuid_on_platform.clone()),
            DataTypeDefXsd::String,
        ),
        ("DT:type", record.kind.clone(), DataTypeDefXsd::String),
        (
            "DT:description",
            record.description.clone(),
            DataTypeDefXsd::String,
        ),
        (
            "SynchronizedDigitalTwin",
            Some("true".to_owned()),
            DataTypeDefXsd::Boolean,
        ),
    ] {
        let mut extension = Extension::new(name);
        extension.value_type = Some(value_type);
        extension.value = value.filter(|v| !v.is_empty());
        extensions.push(extension);
    }
}

/// Writes the engine's values with the submodel's `updated` event.
struct RepositorySink {
    service: Arc<RepositoryService>,
}

#[async_trait]
impl TwinSink for RepositorySink {
    async fn write(&self, twin: &str, property: &str, value: &Value) -> Result<(), String> {
        let (service, twin, property, value) = (
            self.service.clone(),
            twin.to_owned(),
            property.to_owned(),
            value.clone(),
        );
        tokio::task::spawn_blocking(move || {
            let version = service.aas_version();
            service
                .modify_submodel(
                    &twin,
                    None,
                    &mut |submodel| {
                        apply_property(submodel, &property, &value, version).map_err(Into::into)
                    },
                    Origin::Twin,
                )
                .map(drop)
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

/// The server's synchronization: store, key, engine.
pub struct Synchronizer {
    pub store: Arc<SdtStore>,
    key: SecretKey,
    engine: Arc<SyncEngine>,
    service: Arc<RepositoryService>,
    descriptions: Mutex<std::collections::HashMap<String, Vec<String>>>,
    /// The last values of each twin's synchronized properties, as committed: what a change
    /// is compared with to find the properties it changed.
    last: Mutex<std::collections::HashMap<String, Map<String, Value>>>,
    /// Held from storing a binding until its polling runs, and while one is removed: a bind
    /// and an unbind of one twin racing each other leave either a stored binding that polls
    /// or neither, never a poller without its binding.
    lifecycle: Mutex<()>,
    /// Where platform clients may connect (`[outbound]`).
    outbound: OutboundPolicy,
}

impl std::fmt::Debug for Synchronizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Synchronizer").finish_non_exhaustive()
    }
}

fn context(submodel_id: &str) -> String {
    format!("sdt-twin:{submodel_id}")
}

impl Synchronizer {
    /// Twins over `service`'s submodels; they send commands once [`Synchronizer::watch`]
    /// runs.
    pub fn new(
        store: Arc<SdtStore>,
        key: SecretKey,
        service: Arc<RepositoryService>,
        outbound: OutboundPolicy,
    ) -> Arc<Self> {
        let engine = SyncEngine::new(Arc::new(RepositorySink {
            service: service.clone(),
        }));
        Arc::new(Self {
            store,
            key,
            engine,
            service,
            descriptions: Mutex::default(),
            last: Mutex::default(),
            lifecycle: Mutex::default(),
            outbound,
        })
    }

    /// The policy platform definitions and their clients are checked with.
    pub fn outbound(&self) -> &OutboundPolicy {
        &self.outbound
    }

    /// Checks a binding and makes what polling it needs; starts nothing.
    fn prepare(&self, record: &TwinRecord, secrets: &Secrets) -> Result<TwinBinding, BindError> {
        let platform = self
            .store
            .platform(&record.platform)?
            .ok_or_else(|| BindError::NotFound(format!("platform {:?}", record.platform)))?;
        let compiled = record
            .synchronization
            .compile()
            .map_err(|e| BindError::Invalid(e.to_string()))?;
        let client = PlatformClient::new(
            platform,
            TwinRecord::credentials(secrets),
            ClientOptions {
                outbound: self.outbound.clone(),
                ..ClientOptions::default()
            },
        )
        .map_err(|e| BindError::Invalid(e.to_string()))?;
        // The ids' URLs, checked now: an id that would leave the platform's origin is a 400.
        let command_id = record
            .command_id_on_platform
            .as_deref()
            .unwrap_or(&record.uuid_on_platform);
        client
            .data_url(&record.uuid_on_platform)
            .and(client.command_url(command_id))
            .map_err(|e| BindError::Invalid(e.to_string()))?;
        Ok(TwinBinding {
            twin: record.submodel_id.clone(),
            platform: Arc::new(client),
            device: record.uuid_on_platform.clone(),
            command_device: record.command_id_on_platform.clone(),
            description: Arc::new(compiled),
        })
    }

    /// Starts (or restarts) polling a prepared binding.
    fn run(&self, record: &TwinRecord, binding: TwinBinding) {
        let names: Vec<String> = record
            .synchronization
            .thingin_attributes
            .iter()
            .map(|a| a.name.clone())
            .collect();
        // The values now are what the next change is compared with.
        match self.service.repository().submodel(&record.submodel_id) {
            Ok(Some(submodel)) => {
                self.last
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(record.submodel_id.clone(), values_of(&submodel, &names));
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(
                twin = %record.submodel_id,
                %error,
                "cannot read the twin's values: its next change sends every value as a command"
            ),
        }
        self.descriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(record.submodel_id.clone(), names);
        self.engine.start(binding);
    }

    fn start(&self, record: &TwinRecord, secrets: &Secrets) -> Result<(), BindError> {
        let binding = self.prepare(record, secrets)?;
        self.run(record, binding);
        Ok(())
    }

    /// Binds (`Write::Create`) or rebinds (`Write::Replace`, restarting only this twin) a
    /// submodel: checks, stores, marks, and only then starts polling, so a poller never runs
    /// without its stored binding. A create of a bound submodel, or a replace of an unbound
    /// one, is refused by the store's transaction ([`SdtStoreError::Exists`], `NotFound`).
    pub fn bind(&self, mut record: TwinRecord, write: Write) -> Result<(), BindError> {
        let secrets = Secrets {
            api_key: record.api_key.take(),
            login: record.login.take(),
            password: record.password.take(),
        };
        self.service
            .repository()
            .submodel(&record.submodel_id)
            .map_err(internal)?
            .ok_or_else(|| BindError::NotFound(format!("submodel {:?}", record.submodel_id)))?;
        check_property_names(&record.synchronization, self.service.aas_version())
            .map_err(BindError::Invalid)?;
        let binding = self.prepare(&record, &secrets)?;
        let sealed = self
            .key
            .seal(
                &context(&record.submodel_id),
                &serde_json::to_string(&secrets).map_err(internal)?,
            )
            .map_err(internal)?;
        let _lifecycle = self
            .lifecycle
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.store.put_twin(&record, &sealed, write)?;
        let marked = self.service.modify_submodel(
            &record.submodel_id,
            None,
            &mut |submodel| {
                mark(submodel, &record);
                Ok(())
            },
            Origin::Twin,
        );
        if let Err(error) = marked {
            // The submodel went away meanwhile (its deletion unbinds): no binding is left.
            self.forget(&record.submodel_id)?;
            return Err(match error {
                crate::storage::StorageError::NotFound(what) => BindError::NotFound(what),
                full if full.is_disk_full() => BindError::DiskFull(full.to_string()),
                other => internal(other),
            });
        }
        self.run(&record, binding);
        Ok(())
    }

    /// Stops and forgets a twin; `false` if it was not bound.
    pub fn unbind(&self, submodel_id: &str) -> Result<bool, BindError> {
        let _lifecycle = self
            .lifecycle
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.forget(submodel_id)
    }

    /// [`Synchronizer::unbind`] with the lifecycle lock held.
    fn forget(&self, submodel_id: &str) -> Result<bool, BindError> {
        self.engine.stop(submodel_id);
        self.descriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(submodel_id);
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(submodel_id);
        Ok(self.store.delete_twin(submodel_id)?)
    }

    /// Starts every stored binding (at server start); those that cannot start are reported.
    pub fn start_all(&self) {
        // One by one: a corrupt binding is reported and the others still start.
        let ids = match self.store.twin_ids() {
            Ok(ids) => ids,
            Err(error) => {
                tracing::error!(%error, "cannot read the synchronized twins");
                return;
            }
        };
        for id in &ids {
            let id = id.as_str();
            let started = self
                .store
                .twin_record(id)
                .map_err(BindError::from)
                .and_then(|found| {
                    let (record, sealed) =
                        found.ok_or_else(|| BindError::NotFound(id.to_owned()))?;
                    let secrets: Secrets = self
                        .key
                        .open(&context(id), &sealed)
                        .map_err(|e| BindError::Invalid(e.to_string()))
                        .and_then(|text| serde_json::from_str(&text).map_err(internal))?;
                    self.start(&record, &secrets)
                });
            if let Err(error) = started {
                tracing::error!(twin = id, "synchronization not started: {error}");
            }
        }
    }

    /// Sends the commands of committed changes from now on, in commit order, on a task of
    /// its own (requests do not wait for platforms). A change missed because this fell
    /// behind is logged; its commands are not sent.
    pub fn watch(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let mut changes = self.service.subscribe();
        // Weak: the task ends with the synchronizer, not keeps it alive.
        let synchronizer = Arc::downgrade(self);
        tokio::spawn(async move {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                let change = match changes.recv().await {
                    Ok(change) => change,
                    Err(RecvError::Lagged(missed)) => {
                        tracing::error!(
                            missed,
                            "the twin service fell behind the repository: the commands of \
                             {missed} changes are not sent"
                        );
                        continue;
                    }
                    Err(RecvError::Closed) => return,
                };
                let Some(synchronizer) = synchronizer.upgrade() else {
                    return;
                };
                tracing::trace!(id = change.id(), kind = %change.kind(), "committed");
                synchronizer.committed(&change).await;
            }
        })
    }

    /// A committed change: a submodel changed by others than the twin service makes each
    /// synchronized property whose value changed a command (the engine drops values it wrote
    /// itself); every change of a twin updates the values later changes are compared with.
    pub async fn committed(&self, change: &CommittedChange) {
        let CommittedChange::Submodel { submodel, .. } = change else {
            return;
        };
        if change.kind() == events_core::EventKind::Deleted {
            return;
        }
        let names = self
            .descriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&submodel.id)
            .cloned();
        let Some(names) = names else { return };
        let values = values_of(submodel, &names);
        let before = self
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(submodel.id.clone(), values.clone());
        if change.origin() == Origin::Twin {
            return;
        }
        for (name, value) in &values {
            if before.as_ref().and_then(|b| b.get(name)) == Some(value) {
                continue;
            }
            match self
                .engine
                .twin_changed(&submodel.id, name, value, &values)
                .await
            {
                Ok(outcome) => {
                    tracing::debug!(twin = %submodel.id, property = %name, ?outcome, "twin changed")
                }
                Err(error) => {
                    tracing::warn!(twin = %submodel.id, property = %name, "command failed: {error}")
                }
            }
        }
    }
}

/// The values of the synchronized properties `names` in `submodel` (those it has).
fn values_of(submodel: &Submodel, names: &[String]) -> Map<String, Value> {
    names
        .iter()
        .filter_map(|name| property_value(submodel, name).map(|v| (name.clone(), v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_names_map_to_elements_or_extensions() -> Result<(), String> {
        let mut submodel = Submodel::new("urn:sm:twin");
        apply_property(
            &mut submodel,
            "DT:data",
            &Value::String("{\"coordX\":1.5}".into()),
            aas_model::Version::LATEST,
        )?;
        apply_property(
            &mut submodel,
            "on",
            &Value::Bool(true),
            aas_model::Version::LATEST,
        )?;
        apply_property(
            &mut submodel,
            "on",
            &Value::String("False".into()),
            aas_model::Version::LATEST,
        )?;
        assert_eq!(
            property_value(&submodel, "DT:data"),
            Some(Value::String("{\"coordX\":1.5}".into()))
        );
        assert_eq!(
            property_value(&submodel, "on"),
            Some(Value::String("False".into()))
        );
        assert!(element_path("DT:data").is_none() && element_path("Group.on").is_some());
        assert!(
            apply_property(
                &mut submodel,
                "Missing.deep",
                &Value::Null,
                aas_model::Version::LATEST
            )
            .is_err()
        );
        assert_eq!(submodel.submodel_elements.as_ref().map(Vec::len), Some(1));
        let mut typed = Property::new(DataTypeDefXsd::Int).with_id_short("count");
        typed.value = Some("1".into());
        submodel
            .insert_element(None, typed.into())
            .map_err(|e| e.to_string())?;
        assert!(
            apply_property(
                &mut submodel,
                "count",
                &Value::String("many".into()),
                aas_model::Version::LATEST
            )
            .is_err()
        );
        assert_eq!(
            property_value(&submodel, "count"),
            Some(Value::String("1".into())),
            "not written"
        );
        apply_property(
            &mut submodel,
            "count",
            &serde_json::json!(2),
            aas_model::Version::LATEST,
        )?;
        assert_eq!(
            property_value(&submodel, "count"),
            Some(Value::String("2".into()))
        );
        Ok(())
    }

    #[test]
    fn a_synchronized_value_creates_no_property_the_servers_version_refuses() -> Result<(), String>
    {
        use aas_model::Version::{V3_0, V3_1};
        let value = Value::String("21.5".into());
        for (version, name) in [
            (V3_0, "max-temp"),
            (V3_1, "x"),
            (V3_0, "bad-"),
            (V3_1, "bad-"),
        ] {
            let mut submodel = Submodel::new("urn:sm:twin");
            let refused = apply_property(&mut submodel, name, &value, version);
            assert!(
                refused.as_ref().is_err_and(|e| e.contains(name)),
                "{version} {name}: {refused:?}"
            );
            assert!(submodel.submodel_elements.is_none(), "{version} {name}");
        }
        for (version, name) in [(V3_1, "max-temp"), (V3_0, "x")] {
            let mut submodel = Submodel::new("urn:sm:twin");
            apply_property(&mut submodel, name, &value, version)?;
            assert_eq!(property_value(&submodel, name), Some(value.clone()));
            assert!(
                aas_model::verify_as(&submodel, version).next().is_none(),
                "{version} {name}: the submodel stays valid"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod store_tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::storage::{Repository, SqliteRepository};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn synchronizer(
        dir: &std::path::Path,
    ) -> Result<Arc<Synchronizer>, Box<dyn std::error::Error>> {
        synchronizer_as(dir, aas_model::Version::LATEST)
    }

    /// A synchronizer of a server of `version`.
    fn synchronizer_as(
        dir: &std::path::Path,
        version: aas_model::Version,
    ) -> Result<Arc<Synchronizer>, Box<dyn std::error::Error>> {
        let file = dir.join("repository.sqlite");
        let repository: Arc<dyn Repository> = Arc::new(SqliteRepository::open(&file)?);
        let service = Arc::new(RepositoryService::new(
            repository,
            crate::service::EventSettings::default(),
            version,
        ));
        let store = Arc::new(SdtStore::open(&file)?);
        Ok(Synchronizer::new(
            store,
            SecretKey::load(dir)?,
            service,
            OutboundPolicy::default(),
        ))
    }

    /// A platform on loopback that counts the connections made to it.
    async fn counting_platform() -> Result<(u16, Arc<AtomicUsize>), std::io::Error> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                seen.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        Ok((port, count))
    }

    fn record(submodel_id: &str) -> Result<TwinRecord, serde_json::Error> {
        serde_json::from_value(serde_json::json!({
            "submodel_id": submodel_id, "platform": "p", "uuid_on_platform": "d",
            "synchronization": {"iot_attributes": [{"name": "t", "value": "$.t"}],
                "thingin_attributes": [{"name": "temp", "value": "{t}", "frequency_sec": 1}]}}))
    }

    /// `record` with one output property named `name`.
    fn record_naming(submodel_id: &str, name: &str) -> Result<TwinRecord, serde_json::Error> {
        let mut record = record(submodel_id)?;
        for attribute in &mut record.synchronization.thingin_attributes {
            attribute.name = name.to_owned();
        }
        Ok(record)
    }

    #[tokio::test]
    async fn a_binding_whose_property_is_no_idshort_of_the_servers_version_is_refused_naming_it()
    -> TestResult {
        let cases = [
            (aas_model::Version::V3_0, "max-temp", false),
            (aas_model::Version::V3_0, "x", true),
            (aas_model::Version::V3_0, "bad-", false),
            (aas_model::Version::V3_1, "x", false),
            (aas_model::Version::V3_1, "Group.x", false),
            (aas_model::Version::V3_1, "bad-", false),
        ];
        for (version, name, accepted) in cases {
            let dir = tempfile::tempdir()?;
            let sync = synchronizer_as(dir.path(), version)?;
            sync.service
                .repository()
                .put_submodel(&Submodel::new("urn:sm:1"), &|_| Vec::new())?;
            // No platform is stored: a binding whose names pass goes on to fail on that.
            match sync.bind(record_naming("urn:sm:1", name)?, Write::Create) {
                Err(BindError::Invalid(message)) => {
                    assert!(!accepted, "{version} {name}: {message}");
                    assert!(
                        message.contains(&format!("{name:?}")),
                        "names the property: {message}"
                    );
                }
                Err(BindError::NotFound(what)) => {
                    assert!(accepted, "{version} {name}: got to {what}");
                    assert!(what.contains("platform"), "{what}");
                }
                other => return Err(format!("{version} {name}: {other:?}").into()),
            }
            assert!(sync.store.twin("urn:sm:1")?.is_none(), "nothing stored");
        }
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_binding_that_is_not_stored_starts_no_polling() -> TestResult {
        let dir = tempfile::tempdir()?;
        let sync = synchronizer(dir.path())?;
        let (port, connections) = counting_platform().await?;
        let platform: Platform = serde_json::from_value(serde_json::json!({
            "name": "p", "base_url": format!("http://127.0.0.1:{port}/"),
            "data_get_prefix": "data/", "authentication": "none"}))?;
        sync.store.put_platform(&platform, Write::Create)?;
        sync.service
            .repository()
            .put_submodel(&Submodel::new("urn:sm:1"), &|_| Vec::new())?;
        // A replacement of a binding that does not exist is refused by the store: nothing polls.
        let refused = sync.bind(record("urn:sm:1")?, Write::Replace);
        assert!(
            matches!(refused, Err(BindError::Store(SdtStoreError::NotFound(_)))),
            "{refused:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        assert_eq!(
            connections.load(Ordering::SeqCst),
            0,
            "a poller ran unstored"
        );
        assert!(sync.store.twin("urn:sm:1")?.is_none());
        // The same binding, created, is stored and polls (so the count above could be non-0).
        sync.bind(record("urn:sm:1")?, Write::Create)?;
        for _ in 0..40 {
            if connections.load(Ordering::SeqCst) > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(
            connections.load(Ordering::SeqCst) > 0,
            "the stored binding never polled"
        );
        assert!(sync.store.twin("urn:sm:1")?.is_some());
        sync.unbind("urn:sm:1")?;
        Ok(())
    }

    #[test]
    fn corrupt_rows_are_reported_as_corrupt_not_read_as_null_or_missing() -> TestResult {
        let dir = tempfile::tempdir()?;
        let store = SdtStore::open(&dir.path().join("repository.sqlite"))?;
        store.lock().execute_batch(
            "INSERT INTO sdt_platforms (name, json) VALUES ('broken', '{not json');
             INSERT INTO sdt_twins (submodel_id, json, sealed) VALUES ('urn:sm:broken', '', '');",
        )?;
        let corrupt = |result: Result<(), SdtStoreError>, what: &str| match result {
            Err(SdtStoreError::Corrupt { what: found, .. }) => {
                assert!(found.contains(what), "{found}")
            }
            other => panic!("{what}: {other:?}"),
        };
        corrupt(store.platform("broken").map(drop), "broken");
        corrupt(store.platforms().map(drop), "broken");
        corrupt(store.twin("urn:sm:broken").map(drop), "urn:sm:broken");
        corrupt(store.twins().map(drop), "urn:sm:broken");
        corrupt(
            store.twin_record("urn:sm:broken").map(drop),
            "urn:sm:broken",
        );
        assert_eq!(
            store.platform("missing")?,
            None,
            "a missing row is still None"
        );
        Ok(())
    }
}
