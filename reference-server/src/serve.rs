//! `serve`: opens the storage, loads files, starts the broker and the event publisher, and
//! serves the repository API until Ctrl-C or SIGTERM.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aas_model::Environment;
use aas_serde::aasx::FileOwner;
use events_core::{Encoding, MqttConfig, MqttTls};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::Outcome;
use crate::config::{Broker, Settings};
use crate::connections::CappedListener;
use crate::http::{AppState, OperationsState, PushState, RepositoryState, SdtState, router};
use crate::service::{EventSettings, RepositoryService};
use crate::storage::{
    Attachment, Database, PgOptions, PgRepository, PushRecords, Repository, SqliteRepository,
    StorageError, TwinLeases, TwinRecords,
};
use crate::{broker, mqtt_front, publisher};
use sdt_core::operation::Invoker;

/// Why the server could not start.
pub type Failure = Box<dyn std::error::Error + Send + Sync>;

/// An error at a place (a file, an address): the error is the source.
#[derive(Debug, thiserror::Error)]
#[error("{place}: {source}")]
pub struct AtPlace {
    pub place: String,
    #[source]
    pub source: std::io::Error,
}

/// Names the place of an I/O error.
fn at(place: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> AtPlace {
    let place = place.to_string();
    move |source| AtPlace { place, source }
}

pub fn run(settings: Settings) -> Outcome {
    match serve(settings) {
        Ok(()) => Outcome::Ok,
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("reference-server: {error}");
            Outcome::Unreadable
        }
    }
}

fn serve(mut settings: Settings) -> Result<(), Failure> {
    fit_connections_to_file_limit(&mut settings);
    // Storage is async from here on, loading included.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let stores = open_stores(&runtime, &settings)?;
    let repository = stores.repository.clone();
    let mut encodings = Vec::new();
    if settings.twinsphere_events {
        encodings.push(Encoding::twinsphere().with_aas_version(settings.aas_version));
    }
    if let Some(base_url) = &settings.cloud_events {
        encodings
            .push(Encoding::cloud_events(base_url.clone()).with_aas_version(settings.aas_version));
    }
    let key = crate::secrets::SecretKey::for_server(
        &settings.data,
        settings.secret_key_file.as_deref(),
        settings.database_url.is_some(),
    )?;
    let push_store = Arc::new(
        crate::push::PushStore::new(stores.push, key.clone(), settings.allow_insecure_targets)
            .with_outbound(
                settings.outbound.clone(),
                settings.local_target_root.clone(),
            ),
    );
    let unreadable = runtime.block_on(push_store.unreadable_targets())?;
    if !unreadable.is_empty() {
        tracing::error!(
            "the secret key does not open the stored secrets of the push targets {unreadable:?}: \
             they cannot be used until they are given again (was the key file replaced?)"
        );
    }
    let service = Arc::new(RepositoryService::new(
        repository.clone(),
        EventSettings {
            encodings,
            submodel_filter: settings.submodel_filter.clone(),
            max_event_size: settings.max_event_size,
        },
        settings.aas_version,
    ));
    let sdt_store = Arc::new(crate::sync::SdtStore::new(stores.twins));
    let mut loaded = LoadedIds::default();
    for path in &settings.load {
        load(
            &runtime,
            &service,
            path,
            settings.convert_stored_data,
            &mut loaded,
        )?;
    }
    let mut embedded = None;
    let mqtt = match &settings.broker {
        Broker::Embedded(listen) => {
            let started = broker::start(*listen, &settings.client_id)?;
            // The publisher goes straight to the broker: it must never wait behind the cap,
            // and it is the one client that may publish under the server's topics.
            let config = MqttConfig::new(
                started.internal.ip().to_string(),
                started.internal.port(),
                &settings.client_id,
            )
            .with_credentials(started.publisher.username(), started.publisher.password());
            embedded = Some(started);
            tracing::info!("embedded MQTT broker on mqtt://{listen}");
            config
        }
        Broker::External(url) => {
            let mut config = MqttConfig::from_url(url, &settings.client_id)?;
            if let Some(ca_file) = &settings.ca_file {
                let pem = std::fs::read(ca_file).map_err(at(ca_file.display()))?;
                config = config.with_tls(MqttTls::with_ca_pem(&pem)?);
            }
            config
        }
    };
    runtime.block_on(async move {
        // The engine resumes jobs left `processing`: it needs the runtime.
        let synchronizer = crate::sync::Synchronizer::new(
            sdt_store,
            key,
            service.clone(),
            settings.outbound.clone(),
            stores.twin_leases.clone(),
        );
        synchronizer.start_all().await;
        if stores.twin_leases.is_some() {
            synchronizer.keep_twins_shared(TWIN_ROUND);
        }
        synchronizer.watch();
        let resume = match settings.database_url {
            None => usize::MAX,
            Some(_) => crate::push::UNFINISHED_PER_CLAIM,
        };
        let version = settings.aas_version;
        let engine =
            crate::push::engine(repository.clone(), push_store.clone(), version, resume).await?;
        if settings.database_url.is_some() {
            let every = crate::storage::DEFAULT_JOB_LEASE / 3;
            tokio::spawn(crate::push::keep_jobs_leased(
                engine.clone(),
                push_store.clone(),
                every,
            ));
        }
        let state = AppState {
            repository: RepositoryState {
                repository: repository.clone(),
                service: service.clone(),
                aas_version: settings.aas_version,
            },
            push: PushState(Some(Arc::new(crate::http::push_api::PushContext {
                engine: engine.clone(),
                store: push_store.clone(),
            }))),
            sdt: SdtState(Some(synchronizer)),
            operations: OperationsState(Arc::new(Invoker::new(
                &settings.outbound,
                settings.aas_version,
                settings.request_timeout,
            )?)),
        };
        if let Some(broker) = embedded {
            let rules = Arc::new(mqtt_front::Front::new(
                broker.internal,
                broker.fronts,
                settings.client_id.clone(),
                events_core::Encoding::publishing_roots(service.encodings()),
            ));
            let permits = Arc::new(tokio::sync::Semaphore::new(settings.mqtt_max_connections));
            let front = tokio::net::TcpListener::from_std(broker.front)?;
            let front = CappedListener::with_permits(front, permits.clone(), "mqtt");
            tokio::spawn(mqtt_front::serve_plain(front, rules.clone()));
            if let Some(tls) = &settings.mqtt_tls {
                crate::mqtt_tls::start(tls, rules, permits).await?;
            }
        }
        tokio::spawn(publisher::prune(
            repository.clone(),
            settings.event_retention,
        ));
        if settings.hold_events {
            tracing::warn!("AAS_SERVER_HOLD_EVENTS=1: change events stay in the outbox");
        } else {
            let delivery =
                publisher::Delivery::new(settings.max_event_size, settings.event_max_attempts);
            tokio::spawn(publisher::run(repository, mqtt, delivery));
        }
        let shutdown = shutdown_signal();
        let listener = tokio::net::TcpListener::bind(settings.bind)
            .await
            .map_err(at(settings.bind))?;
        tracing::info!("listening on http://{}", listener.local_addr()?);
        if settings.api_keys.is_empty() {
            tracing::warn!(
                "no API key configured: serving without authentication, on loopback only"
            );
        }
        let app = router(state, &settings.api_keys)
            .layer(RequestBodyLimitLayer::new(settings.body_limit))
            // The `Bytes` and `Multipart` extractors have axum's own 2 MiB default: the
            // configured limit is the only one.
            .layer(axum::extract::DefaultBodyLimit::max(settings.body_limit))
            .layer(TimeoutLayer::with_status_code(
                axum::http::StatusCode::REQUEST_TIMEOUT,
                settings.request_timeout,
            ))
            .layer(axum::middleware::from_fn(crate::http::part2_errors));
        let listener = CappedListener::new(listener, settings.http_limits.max_connections, "http");
        crate::connections::serve_http(listener, app, settings.http_limits, shutdown).await;
        tracing::info!("stopped");
        Ok::<_, Failure>(())
    })
}

/// Where the server keeps its data.
struct Stores {
    repository: Arc<dyn Repository>,
    push: Arc<dyn PushRecords>,
    twins: Arc<dyn TwinRecords>,
    /// With replicas: which twins this one polls.
    twin_leases: Option<Arc<dyn TwinLeases>>,
}

/// With replicas, how often each looks for twins bound, rebound or unbound elsewhere and for
/// twins whose replica is gone (the most a twin goes unpolled after its replica died, plus
/// the time the database takes to notice).
const TWIN_ROUND: std::time::Duration = std::time::Duration::from_secs(1);

/// Opens SQLite under `data`, or PostgreSQL at `database-url`, and makes the server's AAS
/// version that of the stored data.
fn open_stores(runtime: &tokio::runtime::Runtime, settings: &Settings) -> Result<Stores, Failure> {
    let (to, allow_loss) = (settings.aas_version, settings.convert_stored_data);
    let Some(url) = &settings.database_url else {
        std::fs::create_dir_all(&settings.data).map_err(at(settings.data.display()))?;
        keep_private(&settings.data).map_err(at(settings.data.display()))?;
        // One database for the repository and the push and twin stores: their writes share
        // its writer connection instead of contending for the file's lock.
        let database = Arc::new(Database::open(
            &settings.data.join("repository.sqlite"),
            settings.storage,
        )?);
        let sqlite = Arc::new(SqliteRepository::on(database));
        report_version(&sqlite.adopt_version(to, allow_loss)?);
        return Ok(Stores {
            repository: sqlite.clone(),
            push: sqlite.clone(),
            twins: sqlite,
            twin_leases: None,
        });
    };
    let pg = runtime.block_on(async {
        let pg = PgRepository::open(url.expose(), &PgOptions::default()).await?;
        report_version(&pg.adopt_version(to, allow_loss).await?);
        Ok::<_, Failure>(Arc::new(pg))
    })?;
    tracing::info!("storage: PostgreSQL at {url}");
    Ok(Stores {
        repository: pg.clone(),
        push: pg.clone(),
        twin_leases: Some(Arc::new(pg.twin_leases())),
        twins: pg,
    })
}

/// Logs how the stored data was fitted to the server's AAS version: data verified under the
/// other version is checked under this one, and the server refuses to start with the report
/// when something does not fit, unless told to convert (then the report is logged).
fn report_version(change: &crate::storage::VersionChange) {
    if change.from != change.to {
        if change.problems.is_empty() {
            tracing::info!(
                "stored data verified under AAS {} fits AAS {} ({} element(s) rewritten)",
                change.from,
                change.to,
                change.rewritten
            );
        } else {
            tracing::warn!(
                "{change}\nconverted as told (--convert-stored-data): {} element(s) rewritten",
                change.rewritten
            );
        }
    }
}

/// The data directory holds the secret key and every stored model: only the server's user may
/// enter it (0700), and the database is created 0600 (SQLite gives its WAL and shared-memory
/// files the database's mode), also when an older version made it 0644.
fn keep_private(data: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::set_permissions(data, std::fs::Permissions::from_mode(0o700))?;
        let database = data.join("repository.sqlite");
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&database)?;
        std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// File descriptors kept for the server itself beyond its connections: the database and its
/// journal, the broker's internals, outbound requests, logs.
const RESERVED_FILES: u64 = 256;

/// Raises the soft limit on open files to the hard limit, and lowers the connection caps when
/// even that cannot hold them: at the caps the server must still have descriptors left, or
/// accepting fails and every listener stalls. An embedded-broker connection takes three (the
/// client's, the front's to rumqttd, and rumqttd's).
fn fit_connections_to_file_limit(settings: &mut Settings) {
    #[cfg(unix)]
    {
        let limit = match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(limit) => limit,
            Err(error) => {
                tracing::warn!(%error, "cannot read the limit on open files");
                return;
            }
        };
        let mqtt_files = match settings.broker {
            Broker::Embedded(_) => 3 * settings.mqtt_max_connections as u64,
            Broker::External(_) => 0,
        };
        let wanted = settings.http_limits.max_connections as u64 + mqtt_files;
        let available = limit.saturating_sub(RESERVED_FILES);
        if wanted > available {
            let scale = |n: usize| ((n as u64 * available / wanted.max(1)) as usize).max(1);
            settings.http_limits.max_connections = scale(settings.http_limits.max_connections);
            settings.mqtt_max_connections = scale(settings.mqtt_max_connections);
            tracing::warn!(
                open_files = limit,
                http = settings.http_limits.max_connections,
                mqtt = settings.mqtt_max_connections,
                "the limit on open files cannot hold the configured connection caps: lowered"
            );
        }
    }
}

/// The HTTP API over a new SQLite repository in memory holding `environment`: no port, no
/// broker, no push engine and no twins (their APIs answer 503), so nothing it is asked can
/// reach the network or the disk; changes stay in the outbox. What the fuzz harness drives
/// with arbitrary requests, a fresh one per input so that a finding replays.
pub fn in_memory_router(environment: Environment) -> Result<axum::Router, Failure> {
    Ok(in_memory_api(environment)?.0)
}

/// [`in_memory_router`] with a view of its outbox, for tests that look at the events requests
/// made.
pub fn in_memory_api(environment: Environment) -> Result<(axum::Router, Outbox), Failure> {
    let repository: Arc<dyn Repository> = Arc::new(SqliteRepository::in_memory()?);
    let service = Arc::new(RepositoryService::new(
        repository.clone(),
        EventSettings {
            encodings: vec![Encoding::twinsphere()],
            submodel_filter: Default::default(),
            max_event_size: publisher::DEFAULT_MAX_EVENT_SIZE,
        },
        aas_model::Version::LATEST,
    ));
    // A thread and a runtime of its own: callers may or may not run in a runtime, whose
    // threads must not block.
    std::thread::scope(|scope| {
        let load = || -> Result<usize, Failure> {
            let runtime = tokio::runtime::Builder::new_current_thread().build()?;
            Ok(runtime.block_on(service.load_environment(&environment))?)
        };
        scope.spawn(load).join().map_err(|_| "loading panicked")?
    })?;
    let state = AppState {
        repository: RepositoryState {
            repository: repository.clone(),
            service,
            aas_version: aas_model::Version::LATEST,
        },
        push: PushState(None),
        sdt: SdtState(None),
        operations: OperationsState(Arc::new(Invoker::new(
            &Default::default(),
            aas_model::Version::LATEST,
            std::time::Duration::from_secs(60),
        )?)),
    };
    // No keys: every route is open (this router is only called in process).
    let router = router(state, &crate::auth::ApiKeys::default())
        .layer(axum::middleware::from_fn(crate::http::part2_errors));
    Ok((router, Outbox(repository)))
}

/// The outbox of an in-process API ([`in_memory_api`]): nothing publishes it there.
pub struct Outbox(Arc<dyn Repository>);

impl Outbox {
    /// The topics of the events waiting, oldest first.
    pub async fn topics(&self) -> Result<Vec<String>, Failure> {
        Ok((self.0.outbox(usize::MAX).await?)
            .into_iter()
            .map(|entry| entry.topic)
            .collect())
    }
}

/// Ctrl-C or SIGTERM. The handlers are installed when this is called (inside the runtime),
/// not when the future is first polled: a SIGTERM that arrives as soon as the ports are open
/// must stop the server cleanly, not kill it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let mut terminate = match tokio::signal::unix::signal(
        tokio::signal::unix::SignalKind::terminate(),
    ) {
        Ok(signal) => Some(signal),
        Err(error) => {
            tracing::warn!(%error, "SIGTERM cannot be handled: only Ctrl-C stops the server cleanly");
            None
        }
    };
    let interrupt = tokio::signal::ctrl_c();
    async move {
        #[cfg(unix)]
        {
            let terminated = async {
                match terminate.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = interrupt => {}
                _ = terminated => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = interrupt.await;
        }
    }
}

/// Stores a file's shells, submodels and concept descriptions; elements stored the same already
/// are left alone, so loading the same file at every start announces nothing.
///
/// JSON is read as the server's version, XML and packages as their namespace says; a file of
/// the other version is converted to the server's, and refused with the conversion report when
/// that would lose something (unless `convert-stored-data` allows loss: then the report is
/// logged).
fn load(
    runtime: &tokio::runtime::Runtime,
    service: &RepositoryService,
    path: &Path,
    allow_loss: bool,
    earlier: &mut LoadedIds,
) -> Result<(), Failure> {
    let loaded = aas_serde::read_file(path, service.aas_version())?;
    let aas_serde::Document::Environment(mut environment) = loaded.document else {
        return Err(format!("{}: not an environment", path.display()).into());
    };
    if loaded.version != service.aas_version() {
        let report = aas_model::convert::convert(
            &mut environment,
            loaded.version,
            service.aas_version(),
            allow_loss,
        )
        .map_err(|refused| {
            // Entries without a rule stay invalid after conversion, so the flag would not help:
            // the verification below would refuse the file again.
            let advice = if refused.report.entries.iter().all(|e| e.rule.is_some()) {
                "start with --convert-stored-data to load it converted"
            } else {
                "some of it stays invalid in the server's version even converted: fix the file"
            };
            format!(
                "{}: {}\n(refused: {advice})",
                path.display(),
                refused.report
            )
        })?;
        if !report.is_lossless() {
            tracing::warn!("{}: {report}", path.display());
        }
    }
    verify_loaded(path, &environment, service.aas_version())?;
    if let Some(package) = &loaded.package {
        let count = store_package_files(runtime, service, package, &environment, (earlier, path))?;
        if count > 0 {
            tracing::info!("{}: {count} files stored", path.display());
        }
    }
    runtime.block_on(earlier.warn_of_conflicts(service, path, &environment))?;
    let count = runtime.block_on(service.load_environment(&environment))?;
    tracing::info!("{}: {count} elements stored", path.display());
    Ok(())
}

/// The ids each file given to `--load` brought in, in this start, so that a later file with an
/// element of the same id and other content is reported: it replaces the earlier file's
/// (later wins), which whoever loads a set of real packages may not expect: some share ids
/// with other content. Only ids are kept; the earlier content is the stored element, read only
/// for an id seen before.
#[derive(Debug, Default)]
struct LoadedIds {
    shells: HashMap<String, PathBuf>,
    submodels: HashMap<String, PathBuf>,
    concept_descriptions: HashMap<String, PathBuf>,
}

impl LoadedIds {
    /// Logs a warning for each element of `environment` (from `path`) whose id an earlier file
    /// brought in with other content; records its ids.
    async fn warn_of_conflicts(
        &mut self,
        service: &RepositoryService,
        path: &Path,
        environment: &Environment,
    ) -> Result<(), StorageError> {
        let repository = service.repository();
        for shell in environment.asset_administration_shells.iter().flatten() {
            if let Some(earlier) = self.shells.get(&shell.id)
                && earlier != path
                && repository.shell(&shell.id).await?.as_ref() != Some(shell)
            {
                conflict("shell", &shell.id, earlier, path);
            }
            self.shells.insert(shell.id.clone(), path.to_owned());
        }
        for submodel in environment.submodels.iter().flatten() {
            if let Some(earlier) = self.submodels.get(&submodel.id)
                && earlier != path
                && repository.submodel(&submodel.id).await?.as_ref() != Some(submodel)
            {
                conflict("submodel", &submodel.id, earlier, path);
            }
            self.submodels.insert(submodel.id.clone(), path.to_owned());
        }
        for cd in environment.concept_descriptions.iter().flatten() {
            if let Some(earlier) = self.concept_descriptions.get(&cd.id)
                && earlier != path
                && repository.concept_description(&cd.id).await?.as_ref() != Some(cd)
            {
                conflict("concept description", &cd.id, earlier, path);
            }
            let path = path.to_owned();
            self.concept_descriptions.insert(cd.id.clone(), path);
        }
        Ok(())
    }
}

fn conflict(what: &str, id: &str, earlier: &Path, later: &Path) {
    tracing::warn!(
        "{}: {what} {id:?} was loaded from {} with other content; the later file's replaces it",
        later.display(),
        earlier.display()
    );
}

/// At most this many findings of a file given to `--load` are listed (all are counted).
const MAX_LISTED_LOAD_FINDINGS: usize = 20;

/// A file given to `--load` that does not verify under the server's version: nothing of it is
/// stored, and the server does not start.
#[derive(Debug, thiserror::Error)]
#[error(
    "{}: does not verify under AAS {version}, the server's version, so nothing of it was loaded \
     ({total} finding(s)):{}{}",
    file.display(),
    listed.iter().map(|line| format!("\n  {line}")).collect::<String>(),
    if *total > listed.len() { format!("\n  (and {} more)", total - listed.len()) } else { String::new() }
)]
struct LoadRefused {
    file: PathBuf,
    version: aas_model::Version,
    /// The first findings, as path (idShort path): rule: message.
    listed: Vec<String>,
    total: usize,
}

/// Verifies a file's environment (converted) under the server's version, as every write is:
/// the database records its data as verified under that version, so a file must not bring in
/// what the API would refuse (and then refuse every later write of).
fn verify_loaded(
    path: &Path,
    environment: &Environment,
    version: aas_model::Version,
) -> Result<(), LoadRefused> {
    let (first, total) = aas_model::verify_as(environment, version).first(MAX_LISTED_LOAD_FINDINGS);
    if first.is_empty() {
        return Ok(());
    }
    let listed = first.iter().map(ToString::to_string).collect();
    Err(LoadRefused {
        file: path.to_owned(),
        version,
        listed,
        total,
    })
}

/// Stores the files a package carries for its File elements and shell thumbnails, so the API
/// serves them (`.../attachment`, `.../thumbnail`) and packages made later carry them.
fn store_package_files(
    runtime: &tokio::runtime::Runtime,
    service: &RepositoryService,
    package: &Path,
    environment: &Environment,
    (earlier, loading): (&LoadedIds, &Path),
) -> Result<usize, Failure> {
    let file = std::fs::File::open(package).map_err(at(package.display()))?;
    let mut reader = aas_serde::aasx::AasxReader::new(std::io::BufReader::new(file))?;
    reader.element_files(environment, |file| -> Result<(), Failure> {
        let (owner, path, earlier_file) = match file.owner {
            FileOwner::Thumbnail(id) => {
                let from = earlier.shells.get(&id).cloned();
                (
                    format!("shell:{id}"),
                    crate::storage::THUMBNAIL.into(),
                    from,
                )
            }
            FileOwner::File(id, path) => {
                let from = earlier.submodels.get(&id).cloned();
                (format!("submodel:{id}"), path, from)
            }
        };
        let repository = service.repository();
        // The element may be the same in both files and its file not: that is a conflict too.
        if let Some(from) = earlier_file.filter(|from| from != loading)
            && let Some(stored) = runtime.block_on(repository.attachment(&owner, &path))?
            && stored.bytes != file.bytes
        {
            let what = format!("file {:?} at {path:?} of", file.file_name);
            conflict(&what, &owner, &from, loading);
        }
        let attachment = Attachment {
            content_type: file.content_type,
            file_name: file.file_name,
            bytes: file.bytes,
        };
        Ok(runtime.block_on(repository.put_attachment(&owner, &path, Some(attachment)))?)
    })
}
