//! The server's configuration: a TOML file (`--config`), environment variables and flags, in
//! rising precedence, over embedded defaults that need nothing installed.
//!
//! ```toml
//! bind = "127.0.0.1:8080"        # HTTP
//! data = "data"                  # SQLite database and secret key
//! # database-url = "postgres://aas@db.plant.local/aas"   # PostgreSQL instead of SQLite (replicas; see docs/deploy.md)
//! # secret-key-file = "/run/secrets/aas.key"   # 32 bytes; instead of <data>/secret.key (required with database-url unless AAS_SERVER_SECRET_KEY is set)
//! # replica-id = "aas-1"         # with database-url: makes this replica's MQTT client id unique [default: host name and process id]
//! load = ["plant.aasx"]          # loaded at start (JSON, XML, AASX)
//! body-limit = 67108864          # largest request body, bytes
//! request-timeout-secs = 60      # a request's whole handling, body included
//! max-connections = 4096         # open HTTP connections; more wait until one closes
//! header-read-timeout-secs = 10  # from a request's first byte until its headers are complete
//! idle-timeout-secs = 30         # a kept-alive connection with no request in flight
//! durability = "full"            # "normal": faster commits, but a power loss can undo the last acknowledged writes
//! # max-database-size = 10737418240   # bytes; writes past it answer 507 like a full disk
//! aas-version = "3.1"            # "3.0": a strict V3.0 server (verification, XML namespace, AASX, events, push jobs)
//! convert-stored-data = false    # true: data stored under the other version is converted at start (else: refused)
//!
//! [mqtt]
//! listen = "127.0.0.1:1883"      # the embedded broker (loopback only)
//! # url = "mqtts://user:password@broker:8883"   # an external broker instead
//! # ca-file = "ca.pem"           # roots for an external mqtts:// broker
//! client-id = "aas-reference-server"  # embedded broker: no other client may use it
//! max-connections = 1024         # embedded broker: open MQTT connections, plain and TLS together
//!
//! [mqtt.tls]                     # mutual TLS in front of the embedded broker
//! listen = "0.0.0.0:8883"
//! cert-file = "server.pem"
//! key-file = "server.key"
//! clients = [{ thumbprint = "<SHA-256 or SHA-1 of the client certificate, hex>", username = "line3" }]
//!
//! [events]
//! twinsphere = true              # twinsphere/... topics with the gzip JSON envelope
//! # cloud-events = "https://aas.example.com"   # also aas-events/... CloudEvents, sources under this URL
//! # submodel-semantic-ids = ["https://admin-shell.io/idta/nameplate/3/0/Nameplate", "$regex=^urn:acme:"]
//! retention = "24h"              # how long the event feed (GET /events) keeps events
//! max-size = 16646144            # larger messages are published reference-only, bytes
//! max-attempts = 10              # failed publishes before an event becomes a dead letter
//!
//! [[api-keys]]                   # without keys: no authentication, loopback only
//! sha256 = "<64 hex digits from `reference-server new-api-key`>"
//! role = "write"                 # read | write | admin
//! name = "line 3 gateway"
//!
//! [outbound]                     # where platform requests, push uploads and operation delegations may go
//! private-networks = true        # false: loopback, 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7 refused too
//! # allowed-hosts = ["iot.plant.local", "10.0.0.5"]   # when set, only these hosts (any port)
//! # local-target-root = "/srv/push"   # local-directory push targets only under it; none without it
//! # resolve = { "iot.plant.local" = "10.0.0.7" }     # like curl --resolve; the rules still apply
//! ```
//!
//! Link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10, 169.254.169.254,
//! fd00:ec2::254, 100.100.100.200), unspecified, broadcast and multicast addresses are refused
//! whatever `[outbound]` says (sdt-core's `OutboundPolicy` has the rules).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use events_core::SemanticIdFilter;
use serde::Deserialize;

/// Why the configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Toml {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error(transparent)]
    Filter(#[from] events_core::FilterError),
    #[error(transparent)]
    Key(#[from] crate::auth::KeyError),
    #[error(
        "[mqtt.tls] is a listener of the embedded broker: it cannot go with an external broker"
    )]
    TlsWithExternalBroker,
    #[error(
        "no API key is configured, so the server serves without authentication and only on a \
         loopback address, not {0}; configure keys (`reference-server new-api-key`) or bind to 127.0.0.1"
    )]
    Unprotected(SocketAddr),
    #[error("{key} must be at least 1")]
    Zero { key: &'static str },
    #[error("[outbound] allowed-hosts: {0}")]
    AllowedHost(#[from] sdt_core::InvalidHost),
    #[error("[outbound] local-target-root {0:?} must be an absolute path")]
    RelativeTargetRoot(PathBuf),
    #[error("database-url must be a PostgreSQL URL (postgres://user@host/database), not {0}")]
    NotPostgres(DatabaseUrl),
    #[error(
        "with database-url (PostgreSQL mode, for replicas) events go to an external broker: \
         set [mqtt] url (--mqtt-url, AAS_SERVER_MQTT_URL); the embedded broker serves one \
         process only"
    )]
    EmbeddedBrokerWithReplicas,
}

/// A database URL, which may hold a password: shown without it (`Debug` and `Display`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The URL as given, password included: for connecting, never for messages.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DatabaseUrl {
    /// The scheme and host part with any user information left out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Anything else (libpq's `key=value` form) may hold a password anywhere.
        let Some((scheme, rest)) = self.0.split_once("://") else {
            return f.write_str("a text that is not a URL");
        };
        let after_user = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
        let host = after_user.split(['/', '?']).next().unwrap_or_default();
        write!(f, "{scheme}://…@{host}/…")
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = std::convert::Infallible;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(text.to_owned()))
    }
}

/// The configuration file, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    pub bind: Option<SocketAddr>,
    pub data: Option<PathBuf>,
    pub database_url: Option<DatabaseUrl>,
    pub secret_key_file: Option<PathBuf>,
    pub replica_id: Option<String>,
    pub load: Vec<PathBuf>,
    pub body_limit: Option<usize>,
    pub request_timeout_secs: Option<u64>,
    pub max_connections: Option<usize>,
    pub header_read_timeout_secs: Option<u64>,
    pub idle_timeout_secs: Option<u64>,
    pub durability: Option<crate::storage::Durability>,
    pub max_database_size: Option<u64>,
    #[serde(deserialize_with = "aas_version")]
    pub aas_version: Option<aas_model::Version>,
    pub convert_stored_data: bool,
    pub mqtt: MqttSection,
    pub events: EventsSection,
    pub api_keys: Vec<crate::auth::ApiKey>,
    pub allow_insecure_targets: bool,
    pub outbound: OutboundSection,
}

/// `aas-version = "3.0"`: a string, as `--aas-version` takes it.
fn aas_version<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<aas_model::Version>, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse().map(Some).map_err(serde::de::Error::custom)
}

/// `[outbound]`: where the server's own requests (platforms, push targets, operation
/// delegates) may go.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct OutboundSection {
    /// `false` refuses loopback and private ranges; allowed when absent.
    pub private_networks: Option<bool>,
    /// When present (even empty), only these hosts.
    pub allowed_hosts: Option<Vec<String>>,
    /// Local-directory push targets must lie under it; refused when absent.
    pub local_target_root: Option<PathBuf>,
    /// Host names answered with this address instead of DNS (the address is still checked).
    pub resolve: std::collections::BTreeMap<String, std::net::IpAddr>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct MqttSection {
    pub listen: Option<SocketAddr>,
    pub url: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub client_id: Option<String>,
    pub max_connections: Option<usize>,
    /// The mutual-TLS listener of the embedded broker.
    pub tls: Option<crate::mqtt_tls::TlsListenerConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct EventsSection {
    pub twinsphere: bool,
    pub cloud_events: Option<String>,
    pub submodel_semantic_ids: Vec<String>,
    pub retention: Option<crate::duration::DurationSetting>,
    pub max_size: Option<usize>,
    pub max_attempts: Option<u32>,
}

impl Default for EventsSection {
    fn default() -> Self {
        Self {
            twinsphere: true,
            cloud_events: None,
            submodel_semantic_ids: Vec::new(),
            retention: None,
            max_size: None,
            max_attempts: None,
        }
    }
}

impl ConfigFile {
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::File {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Toml {
            path: path.to_owned(),
            source,
        })
    }
}

/// Where events go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broker {
    /// The embedded broker, listening on this loopback address.
    Embedded(SocketAddr),
    /// An external broker, by URL.
    External(String),
}

/// The configuration in effect.
#[derive(Debug)]
pub struct Settings {
    pub bind: SocketAddr,
    pub data: PathBuf,
    /// PostgreSQL instead of SQLite under `data`: replicas share it.
    pub database_url: Option<DatabaseUrl>,
    /// The secret key's file instead of `<data>/secret.key` (must exist).
    pub secret_key_file: Option<PathBuf>,
    pub load: Vec<PathBuf>,
    pub body_limit: usize,
    pub request_timeout: Duration,
    pub http_limits: crate::connections::HttpLimits,
    /// How the repository's database commits, and how large it may grow.
    pub storage: crate::storage::StorageOptions,
    /// The AAS version the server verifies, reads JSON as and writes (XML namespace, AASX,
    /// events, push jobs, `/description`).
    pub aas_version: aas_model::Version,
    /// Data stored under the other version is converted at start (with the report logged)
    /// instead of refused.
    pub convert_stored_data: bool,
    /// The embedded broker's cap on open connections (plain and TLS listeners together).
    pub mqtt_max_connections: usize,
    pub broker: Broker,
    pub ca_file: Option<PathBuf>,
    pub mqtt_tls: Option<crate::mqtt_tls::TlsListenerConfig>,
    pub client_id: String,
    pub twinsphere_events: bool,
    pub cloud_events: Option<String>,
    pub submodel_filter: SemanticIdFilter,
    /// How long the event feed keeps events.
    pub event_retention: Duration,
    /// The largest message published complete; larger ones are published reference-only.
    pub max_event_size: usize,
    /// Failed publishes before an event becomes a dead letter.
    pub event_max_attempts: u32,
    pub api_keys: crate::auth::ApiKeys,
    /// Push targets may use `http` (emulators on loopback).
    pub allow_insecure_targets: bool,
    /// Where platform requests and push uploads may go (`[outbound]`).
    pub outbound: sdt_core::OutboundPolicy,
    /// Local-directory push targets must lie under it; none are accepted without it.
    pub local_target_root: Option<PathBuf>,
    /// Keep events in the outbox instead of publishing them (`AAS_SERVER_HOLD_EVENTS=1`; for
    /// tests that show nothing is lost when the server dies before publishing).
    pub hold_events: bool,
}

/// What flags and environment variables say (clap reads both); `None` leaves the file's value.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct Overrides {
    /// TOML configuration file (see the crate's README for its keys).
    #[arg(long, env = "AAS_SERVER_CONFIG")]
    pub config: Option<PathBuf>,
    /// HTTP address [default: 127.0.0.1:8080].
    #[arg(long, env = "AAS_SERVER_BIND")]
    pub bind: Option<SocketAddr>,
    /// Directory of the database and the secret key [default: data].
    #[arg(long, env = "AAS_SERVER_DATA")]
    pub data: Option<PathBuf>,
    /// A PostgreSQL database (`postgres://user[:password]@host[:port]/database`) instead of
    /// SQLite under --data: any number of replicas may serve it (needs --mqtt-url and a
    /// given secret key).
    #[arg(long, env = "AAS_SERVER_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<DatabaseUrl>,
    /// A file of 32 bytes holding the secret key, instead of `<data>/secret.key`
    /// (AAS_SERVER_SECRET_KEY, base64, wins over both).
    #[arg(long, env = "AAS_SERVER_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
    /// This replica's name, which makes its MQTT client id unique among replicas (PostgreSQL
    /// mode) [default: host name and process id].
    #[arg(long, env = "AAS_SERVER_REPLICA_ID")]
    pub replica_id: Option<String>,
    /// AAS files (JSON, XML, AASX) to load at start, added to the configuration file's.
    #[arg(long, num_args = 1..)]
    pub load: Vec<PathBuf>,
    /// Address of the embedded MQTT broker, on loopback [default: 127.0.0.1:1883].
    #[arg(long, env = "AAS_SERVER_MQTT_LISTEN")]
    pub mqtt_listen: Option<SocketAddr>,
    /// An external MQTT broker (`mqtt://` or `mqtts://`) instead of the embedded one.
    #[arg(long, env = "AAS_SERVER_MQTT_URL")]
    pub mqtt_url: Option<String>,
    /// How long the event feed (`GET /events`) keeps events: seconds, or with s, m, h or d
    /// [default: 24h].
    #[arg(long, env = "AAS_SERVER_EVENT_RETENTION", value_parser = crate::duration::parse)]
    pub event_retention: Option<Duration>,
    /// The largest event message published complete, bytes; larger ones are published
    /// reference-only [default: 16646144, the embedded broker's limit less 128 KiB].
    #[arg(long, env = "AAS_SERVER_EVENT_MAX_SIZE")]
    pub event_max_size: Option<usize>,
    /// Failed publishes of an event before it becomes a dead letter [default: 10].
    #[arg(long, env = "AAS_SERVER_EVENT_MAX_ATTEMPTS", value_parser = clap::value_parser!(u32).range(1..))]
    pub event_max_attempts: Option<u32>,
    /// API keys as ROLE:SHA256 (role read, write or admin; the hash from `new-api-key`), added
    /// to the configuration file's.
    #[arg(long = "api-key", env = "AAS_SERVER_API_KEYS", value_delimiter = ',')]
    pub api_keys: Vec<String>,
    /// Accept push targets over plain `http` to loopback hosts (emulators such as Azurite);
    /// off by default.
    #[arg(long)]
    pub allow_insecure_targets: bool,
    /// When commits are durable: `full` (every acknowledged write survives a power loss) or
    /// `normal` (faster; a power loss can undo the last acknowledged writes) [default: full].
    #[arg(long, env = "AAS_SERVER_DURABILITY", value_enum)]
    pub durability: Option<crate::storage::Durability>,
    /// The largest the database may grow, bytes; writes past it answer 507 [default: no limit].
    #[arg(long, env = "AAS_SERVER_MAX_DATABASE_SIZE")]
    pub max_database_size: Option<u64>,
    /// The AAS version served: `3.1`, or `3.0` for a strict V3.0 server (writes verified by
    /// its rules, JSON bodies read as it, XML and AASX written in it) [default: 3.1].
    #[arg(long, env = "AAS_SERVER_AAS_VERSION", value_name = "VERSION")]
    pub aas_version: Option<aas_model::Version>,
    /// When the database holds data verified under the other version: convert it (the report
    /// is logged) instead of refusing to start.
    #[arg(long, env = "AAS_SERVER_CONVERT_STORED_DATA")]
    pub convert_stored_data: bool,
}

impl Settings {
    /// The file named by `overrides.config` (if any) under the overrides.
    pub fn resolve(overrides: Overrides) -> Result<Self, ConfigError> {
        let file = match &overrides.config {
            Some(path) => ConfigFile::read(path)?,
            None => ConfigFile::default(),
        };
        let broker = match (overrides.mqtt_url, overrides.mqtt_listen) {
            (Some(url), _) => Broker::External(url),
            (None, Some(listen)) => Broker::Embedded(listen),
            (None, None) => match (file.mqtt.url, file.mqtt.listen) {
                (Some(url), _) => Broker::External(url),
                (None, listen) => {
                    Broker::Embedded(listen.unwrap_or_else(|| ([127, 0, 0, 1], 1883).into()))
                }
            },
        };
        let mut load = file.load;
        load.extend(overrides.load);
        let mut keys = file
            .api_keys
            .into_iter()
            .map(crate::auth::ApiKey::checked)
            .collect::<Result<Vec<_>, _>>()?;
        for flag in &overrides.api_keys {
            keys.push(crate::auth::ApiKey::from_flag(flag)?);
        }
        let bind = overrides
            .bind
            .or(file.bind)
            .unwrap_or_else(|| ([127, 0, 0, 1], 8080).into());
        if file.mqtt.tls.is_some() && matches!(broker, Broker::External(_)) {
            return Err(ConfigError::TlsWithExternalBroker);
        }
        let database_url = overrides.database_url.or(file.database_url);
        if let Some(url) = &database_url {
            let scheme = url.expose().split_once("://").map(|(scheme, _)| scheme);
            if !matches!(scheme, Some("postgres" | "postgresql")) {
                return Err(ConfigError::NotPostgres(url.clone()));
            }
            if matches!(broker, Broker::Embedded(_)) {
                return Err(ConfigError::EmbeddedBrokerWithReplicas);
            }
        }
        let client_id = file
            .mqtt
            .client_id
            .unwrap_or_else(|| "aas-reference-server".to_owned());
        // Replicas publish side by side: one client id each, or the broker would hand one
        // replica's session to the other at every connect.
        let client_id = match &database_url {
            Some(_) => {
                let replica = overrides
                    .replica_id
                    .or(file.replica_id)
                    .unwrap_or_else(default_replica_id);
                format!("{client_id}-{replica}")
            }
            None => client_id,
        };
        if keys.is_empty() && !bind.ip().is_loopback() {
            return Err(ConfigError::Unprotected(bind));
        }
        let at_least_one = |value: Option<u64>, key: &'static str| match value {
            Some(0) => Err(ConfigError::Zero { key }),
            other => Ok(other),
        };
        let defaults = crate::connections::HttpLimits::default();
        let http_limits = crate::connections::HttpLimits {
            max_connections: at_least_one(
                file.max_connections.map(|n| n as u64),
                "max-connections",
            )?
            .map_or(defaults.max_connections, |n| n as usize),
            header_read_timeout: at_least_one(
                file.header_read_timeout_secs,
                "header-read-timeout-secs",
            )?
            .map_or(defaults.header_read_timeout, Duration::from_secs),
            idle_timeout: at_least_one(file.idle_timeout_secs, "idle-timeout-secs")?
                .map_or(defaults.idle_timeout, Duration::from_secs),
        };
        let mqtt_max_connections = at_least_one(
            file.mqtt.max_connections.map(|n| n as u64),
            "mqtt.max-connections",
        )?
        .map_or(crate::connections::DEFAULT_MAX_MQTT_CONNECTIONS, |n| {
            n as usize
        });
        let request_timeout = at_least_one(file.request_timeout_secs, "request-timeout-secs")?
            .map_or(Duration::from_secs(60), Duration::from_secs);
        let (outbound, local_target_root) = outbound(file.outbound)?;
        Ok(Self {
            bind,
            data: overrides
                .data
                .or(file.data)
                .unwrap_or_else(|| PathBuf::from("data")),
            database_url,
            secret_key_file: overrides.secret_key_file.or(file.secret_key_file),
            load,
            body_limit: file.body_limit.unwrap_or(64 << 20),
            request_timeout,
            http_limits,
            storage: crate::storage::StorageOptions {
                durability: overrides.durability.or(file.durability).unwrap_or_default(),
                max_size: overrides.max_database_size.or(file.max_database_size),
            },
            aas_version: overrides
                .aas_version
                .or(file.aas_version)
                .unwrap_or_default(),
            convert_stored_data: overrides.convert_stored_data || file.convert_stored_data,
            mqtt_max_connections,
            broker,
            ca_file: file.mqtt.ca_file,
            mqtt_tls: file.mqtt.tls,
            client_id,
            twinsphere_events: file.events.twinsphere,
            cloud_events: file.events.cloud_events,
            submodel_filter: SemanticIdFilter::new(&file.events.submodel_semantic_ids)?,
            event_retention: overrides
                .event_retention
                .or(file.events.retention.map(|d| d.0))
                .unwrap_or(crate::publisher::DEFAULT_RETENTION),
            max_event_size: overrides
                .event_max_size
                .or(file.events.max_size)
                .unwrap_or(crate::publisher::DEFAULT_MAX_EVENT_SIZE),
            event_max_attempts: overrides
                .event_max_attempts
                .or(file.events.max_attempts)
                .unwrap_or(crate::publisher::DEFAULT_MAX_ATTEMPTS)
                .max(1),
            api_keys: crate::auth::ApiKeys::new(keys),
            allow_insecure_targets: overrides.allow_insecure_targets || file.allow_insecure_targets,
            outbound,
            local_target_root,
            hold_events: std::env::var("AAS_SERVER_HOLD_EVENTS").is_ok_and(|v| v == "1"),
        })
    }
}

/// A replica's name when none is configured: the host name and the process id, unique
/// among the replicas running at one time.
fn default_replica_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "replica".to_owned());
    format!("{host}-{}", std::process::id())
}

/// The policy and local target root of `[outbound]`.
fn outbound(
    section: OutboundSection,
) -> Result<(sdt_core::OutboundPolicy, Option<PathBuf>), ConfigError> {
    let mut policy =
        sdt_core::OutboundPolicy::new().private_networks(section.private_networks.unwrap_or(true));
    if let Some(hosts) = &section.allowed_hosts {
        policy = policy.allow_only(hosts)?;
    }
    for (host, address) in section.resolve {
        policy = policy.with_resolved(&host, [address]);
    }
    // Relative to what would depend on the working directory of whoever started the server.
    if let Some(root) = &section.local_target_root
        && !root.is_absolute()
    {
        return Err(ConfigError::RelativeTargetRoot(root.clone()));
    }
    Ok((policy, section.local_target_root))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = std::env::temp_dir().join(format!("aas-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("server.toml");
        std::fs::write(
            &path,
            "bind = \"127.0.0.1:9000\"\ndata = \"d\"\n[mqtt]\nurl = \"mqtt://127.0.0.1:1\"\n",
        )?;
        let from_file = Settings::resolve(Overrides {
            config: Some(path.clone()),
            ..Overrides::default()
        })?;
        assert_eq!(from_file.bind, ([127, 0, 0, 1], 9000).into());
        assert_eq!(from_file.data, PathBuf::from("d"));
        assert_eq!(
            from_file.broker,
            Broker::External("mqtt://127.0.0.1:1".into())
        );
        let flagged = Settings::resolve(Overrides {
            config: Some(path.clone()),
            bind: Some(([127, 0, 0, 1], 9001).into()),
            mqtt_listen: Some(([127, 0, 0, 1], 1999).into()),
            ..Overrides::default()
        })?;
        assert_eq!(flagged.bind, ([127, 0, 0, 1], 9001).into());
        assert_eq!(
            flagged.broker,
            Broker::Embedded(([127, 0, 0, 1], 1999).into())
        );
        std::fs::write(&path, "bnd = 1\n")?;
        let unknown = Settings::resolve(Overrides {
            config: Some(path),
            ..Overrides::default()
        });
        assert!(unknown.is_err_and(|e| e.to_string().contains("bnd")));
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    /// Settings from a configuration file with this text.
    fn with_file(name: &str, text: &str) -> Result<Settings, Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("aas-config-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("server.toml");
        std::fs::write(&path, text)?;
        let settings = Settings::resolve(Overrides {
            config: Some(path),
            ..Overrides::default()
        });
        std::fs::remove_dir_all(&dir)?;
        Ok(settings?)
    }

    #[test]
    fn aas_version_is_3_1_by_default_set_by_the_file_and_the_flag_wins()
    -> Result<(), Box<dyn std::error::Error>> {
        use aas_model::Version;
        assert_eq!(with_file("aas-default", "")?.aas_version, Version::V3_1);
        let from_file = with_file(
            "aas-file",
            "aas-version = \"3.0\"\nconvert-stored-data = true\n",
        )?;
        assert_eq!(from_file.aas_version, Version::V3_0);
        assert!(from_file.convert_stored_data);
        let refused = with_file("aas-wrong", "aas-version = \"2.0\"\n").err();
        assert!(
            refused
                .as_ref()
                .is_some_and(|e| e.to_string().contains("not supported")),
            "{refused:?}"
        );
        let flagged = Settings::resolve(Overrides {
            aas_version: Some(Version::V3_0),
            ..Overrides::default()
        })?;
        assert_eq!(flagged.aas_version, Version::V3_0);
        assert!(!flagged.convert_stored_data);
        Ok(())
    }

    /// The replica configuration of `docs/deploy.md`, as written there.
    #[test]
    fn the_replica_example_of_the_deployment_guide_selects_postgresql_and_its_broker()
    -> Result<(), Box<dyn std::error::Error>> {
        let guide = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/deploy.md"),
        )?;
        let example = guide
            .split("```toml\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .ok_or("no TOML example in docs/deploy.md")?;
        let settings = with_file("deploy-example", example)?;
        let url = settings.database_url.as_ref().ok_or("no database URL")?;
        assert_eq!(url.expose(), "postgres://aas:secret@db.plant.local/aas");
        assert_eq!(url.to_string(), "postgres://…@db.plant.local/…");
        assert!(!format!("{settings:?}").contains("secret@"), "{settings:?}");
        assert_eq!(
            settings.broker,
            Broker::External("mqtt://broker.plant.local:1883".into())
        );
        assert_eq!(settings.client_id, "aas-reference-server-aas-1");
        assert_eq!(
            settings.secret_key_file.as_deref(),
            Some(Path::new("/run/secrets/aas-secret.key"))
        );
        assert_eq!(settings.bind, ([0, 0, 0, 0], 8080).into());
        Ok(())
    }

    #[test]
    fn a_database_url_needs_postgres_and_an_external_broker_and_names_the_replica()
    -> Result<(), Box<dyn std::error::Error>> {
        let refused = |text: &str| with_file("pg-refused", text).err().map(|e| e.to_string());
        let embedded = refused("database-url = \"postgres://u:pw@h/db\"\n");
        assert!(
            embedded
                .as_deref()
                .is_some_and(|e| e.contains("external broker") && !e.contains("pw")),
            "{embedded:?}"
        );
        let key_value =
            refused("database-url = \"host=h password=pw\"\n[mqtt]\nurl = \"mqtt://b\"\n");
        assert!(
            key_value
                .as_deref()
                .is_some_and(|e| e.contains("not a URL") && !e.contains("pw")),
            "{key_value:?}"
        );
        let other = refused("database-url = \"mysql://u:pw@h/db\"\n[mqtt]\nurl = \"mqtt://b\"\n");
        assert!(
            other
                .as_deref()
                .is_some_and(|e| e.contains("PostgreSQL URL") && !e.contains("pw")),
            "{other:?}"
        );
        let unnamed = with_file(
            "pg-default-replica",
            "database-url = \"postgresql://h/db\"\n[mqtt]\nurl = \"mqtt://b\"\n",
        )?;
        let pid = format!("-{}", std::process::id());
        assert!(
            unnamed.client_id.starts_with("aas-reference-server-")
                && unnamed.client_id.ends_with(&pid),
            "{}",
            unnamed.client_id
        );
        // Without a database URL the client id is the configured one.
        assert_eq!(
            with_file("sqlite-client", "")?.client_id,
            "aas-reference-server"
        );
        Ok(())
    }

    #[test]
    fn outbound_keys_make_the_policy_and_wrong_values_are_refused()
    -> Result<(), Box<dyn std::error::Error>> {
        let check = |settings: &Settings, url: &str| -> Result<(), Box<dyn std::error::Error>> {
            Ok(settings.outbound.check_url(&url::Url::parse(url)?)?)
        };
        let defaults = with_file("outbound-default", "")?;
        assert!(check(&defaults, "http://127.0.0.1/").is_ok());
        assert!(check(&defaults, "http://169.254.169.254/").is_err());
        assert_eq!(defaults.local_target_root, None);

        let configured = with_file(
            "outbound",
            "[outbound]\nprivate-networks = false\nallowed-hosts = [\"iot.plant.local\", \"8.8.8.8\"]\n\
             local-target-root = \"/srv/push\"\nresolve = { \"iot.plant.local\" = \"10.0.0.7\" }\n",
        )?;
        assert!(check(&configured, "http://iot.plant.local/").is_ok());
        assert!(check(&configured, "http://8.8.8.8/").is_ok());
        assert!(check(&configured, "http://8.8.4.4/").is_err());
        assert!(check(&configured, "http://127.0.0.1/").is_err());
        assert_eq!(
            configured.local_target_root.as_deref(),
            Some(Path::new("/srv/push"))
        );
        assert_eq!(
            configured.outbound,
            sdt_core::OutboundPolicy::new()
                .private_networks(false)
                .allow_only(["iot.plant.local", "8.8.8.8"])?
                .with_resolved("iot.plant.local", [std::net::IpAddr::from([10, 0, 0, 7])])
        );

        for (name, text, says) in [
            ("host", "allowed-hosts = [\"http://x\"]", "allowed-hosts"),
            ("root", "local-target-root = \"push\"", "absolute"),
            ("address", "resolve = { x = \"not-an-ip\" }", "resolve"),
            ("key", "private = false", "private"),
        ] {
            let file = format!("[outbound]\n{text}\n");
            let error = with_file(&format!("outbound-{name}"), &file).err();
            assert!(
                error.as_ref().is_some_and(|e| e.to_string().contains(says)),
                "{text}: {error:?}"
            );
        }
        Ok(())
    }
}
