//! Push targets: the configurations users send, and [`PushTarget`], implemented once over
//! `object_store` for every kind.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
#[cfg(any(feature = "azure", feature = "s3"))]
use object_store::RetryConfig;
#[cfg(any(feature = "azure", feature = "s3"))]
use object_store::client::DnsResolver;
use object_store::path::Path as ObjectPath;
use object_store::{
    Attribute, Attributes, ObjectStore, ObjectStoreExt, PutOptions, PutPayload, WriteMultipart,
};
use regex::Regex;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt};
use url::Url;

#[cfg(feature = "azure")]
use crate::azure::BlobSasUrl;
#[cfg(feature = "s3")]
use crate::client::Connector;
#[cfg(any(feature = "azure", feature = "s3"))]
use crate::error::TransportError;
use crate::error::{PushError, TargetError};
use crate::redact::{REDACTED, redact_sas};

/// `text` with the secrets of target configurations replaced by `***`: the value right after
/// `sig` (a SAS URL's signature) or `secretAccessKey` (an S3 key) and `=` or `:`, the name and
/// the value each optionally quoted (also with an escaped quote, as inside a JSON string: the
/// JSON key form `"secretAccessKey": "…"` included), up to the next `&`, quote, backslash,
/// space, `,` or `}`; names matched case-insensitively. For messages that may quote what a user
/// sent, such as the errors of reading a configuration; configurations redact their own.
pub fn redact_secrets(text: &str) -> String {
    static SECRET: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r"(?i)(sig|secretAccessKey)(\\?\x22?\s*[=:]\s*\\?\x22?)[^&\x22\s,}\\]*").ok()
    });
    match SECRET.as_ref() {
        Some(pattern) => pattern.replace_all(text, "${1}${2}***").into_owned(),
        // The pattern is a constant that compiles (tested); without it nothing can be shown.
        None => REDACTED.to_owned(),
    }
}

/// How target configurations are checked and connected when a target is built.
///
/// Build it from [`TargetOptions::default`] (or [`TargetOptions::new`]) with the `with_`
/// methods: it is `#[non_exhaustive]`, so fields can be added without breaking callers.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TargetOptions {
    /// Accept plain `http` to a loopback host (127.0.0.0/8, `::1`, `localhost`: emulators on
    /// the same machine) for SAS URLs and S3 endpoints. Other hosts need https even with it.
    /// Off by default.
    pub allow_insecure: bool,
    /// The time expiries are compared with.
    pub now: DateTime<Utc>,
    /// The directory `local-directory` targets must stay inside. `None` (the default):
    /// `local-directory` targets are refused.
    pub local_root: Option<PathBuf>,
    /// Resolves the host names of Azure and S3 targets when connecting, so the caller can
    /// refuse addresses (return [`crate::AddressNotAllowed`] to fail the push without
    /// retries). Hosts written as IP addresses are not resolved and never reach it: check
    /// them in [`TargetConfig::target_url`]. `None`: the system resolver.
    #[cfg(any(feature = "azure", feature = "s3"))]
    #[cfg_attr(docsrs, doc(cfg(any(feature = "azure", feature = "s3"))))]
    pub dns_resolver: Option<Arc<dyn DnsResolver>>,
}

impl Default for TargetOptions {
    fn default() -> Self {
        Self {
            allow_insecure: false,
            now: Utc::now(),
            local_root: None,
            #[cfg(any(feature = "azure", feature = "s3"))]
            dns_resolver: None,
        }
    }
}

impl TargetOptions {
    /// The defaults: https only, now, no local-directory targets, the system resolver.
    pub fn new() -> Self {
        Self::default()
    }

    /// See [`TargetOptions::allow_insecure`].
    #[must_use]
    pub fn with_allow_insecure(mut self, allow_insecure: bool) -> Self {
        self.allow_insecure = allow_insecure;
        self
    }

    /// See [`TargetOptions::now`].
    #[must_use]
    pub fn with_now(mut self, now: DateTime<Utc>) -> Self {
        self.now = now;
        self
    }

    /// See [`TargetOptions::local_root`].
    #[must_use]
    pub fn with_local_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.local_root = Some(root.into());
        self
    }

    /// See [`TargetOptions::dns_resolver`].
    #[cfg(any(feature = "azure", feature = "s3"))]
    #[cfg_attr(docsrs, doc(cfg(any(feature = "azure", feature = "s3"))))]
    #[must_use]
    pub fn with_dns_resolver(mut self, resolver: Arc<dyn DnsResolver>) -> Self {
        self.dns_resolver = Some(resolver);
        self
    }
}

/// How long connecting to a target may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one HTTP request to a target may take, from connecting to the end of the answer
/// (a single-request upload of up to 32 MiB, or one 8 MiB part of a larger one).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Checks the scheme and host of a target URL: https, or plain http to a loopback host when
/// `allow_insecure`. `Ok(true)` for plain http. The error completes "the URL ...".
#[cfg(any(feature = "azure", feature = "s3"))]
pub(crate) fn check_transport(url: &Url, allow_insecure: bool) -> Result<bool, TransportError> {
    match url.scheme() {
        "https" => Ok(false),
        "http" if !allow_insecure => Err(TransportError::InsecureNotAllowed),
        "http" if is_loopback(url) => Ok(true),
        "http" => Err(TransportError::NotLoopback {
            host: url.host_str().unwrap_or("no host").to_owned(),
        }),
        other => Err(TransportError::Scheme(other.to_owned())),
    }
}

/// Whether the URL's host is a loopback address or `localhost`.
#[cfg(any(feature = "azure", feature = "s3"))]
fn is_loopback(url: &Url) -> bool {
    use url::Host;
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        // The URL parser lowercases domains of http(s) URLs.
        Some(Host::Domain(domain)) => domain == "localhost",
        None => false,
    }
}

/// A named target as users configure it:
/// `{"name": "...", "type": "azure-blob-storage", "configuration": {"blobSasUrl": "https://..."}}`.
///
/// `Serialize` writes the secrets (to be stored encrypted); `Debug` and [`TargetConfig::redacted`]
/// hide them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetConfig {
    /// The name push requests give as `pushTargetName`; not empty.
    pub name: String,
    /// The kind of target and its configuration (`type` and `configuration`).
    #[serde(flatten)]
    pub kind: TargetKind,
}

/// The kinds of targets and their configuration.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    content = "configuration",
    rename_all = "kebab-case",
    deny_unknown_fields
)]
#[non_exhaustive]
pub enum TargetKind {
    /// A container given by its SAS URL.
    AzureBlobStorage {
        /// The container's SAS URL (`blobSasUrl`, also read as `blobContainerSasUrl`):
        /// `https://<account>.blob.core.windows.net/<container>?<SAS>`, or path style
        /// `http(s)://host[:port]/<account>/<container>?<SAS>` for an emulator. A secret.
        #[serde(rename = "blobSasUrl", alias = "blobContainerSasUrl")]
        blob_sas_url: String,
    },
    /// A directory on the server, inside [`TargetOptions::local_root`] (a relative path is
    /// taken relative to the root); object names cannot leave it.
    LocalDirectory {
        /// The directory (`path`): relative to the root, or absolute inside it; created when
        /// the target is built.
        path: PathBuf,
    },
    /// An S3 bucket (AWS or compatible).
    S3 {
        /// The bucket's name (`bucket`): letters, digits, `.`, `-`, `_`.
        bucket: String,
        /// The region (`region`), default `us-east-1`: letters, digits, `-`, `_`.
        #[serde(default)]
        region: Option<String>,
        /// For S3-compatible servers, e.g. `http://127.0.0.1:9000`.
        #[serde(default)]
        endpoint: Option<String>,
        /// The access key id (`accessKeyId`); shown in redacted views.
        #[serde(rename = "accessKeyId")]
        access_key_id: String,
        /// The secret access key (`secretAccessKey`). A secret: never shown.
        #[serde(rename = "secretAccessKey")]
        secret_access_key: String,
    },
}

/// Why a target sent as a JSON body is refused; no message shows a secret of the body
/// (parser messages quote it: they are passed through [`redact_secrets`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetBodyError {
    /// Not JSON; the parser's message, redacted.
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    /// JSON, but not an object.
    #[error("the body is not a JSON object")]
    NotAnObject,
    /// The body names another target than the path it was sent to.
    #[error("the body's name {body:?} is not the path's {path:?}")]
    OtherName {
        /// The body's `name`.
        body: String,
        /// The name the path gives.
        path: String,
    },
    /// Neither the body nor the path names the target.
    #[error("the target has no name")]
    NoName,
    /// Not a target configuration; the parser's message, redacted.
    #[error("not a push target: {0}")]
    Invalid(String),
}

impl TargetConfig {
    /// A target from a JSON body, sent to the target `name` when the path names one (the body
    /// then names the same target, or none and takes that name).
    pub fn from_json(body: &[u8], name: Option<&str>) -> Result<Self, TargetBodyError> {
        let redacted = |e: serde_json::Error| redact_secrets(&e.to_string());
        let mut json: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| TargetBodyError::NotJson(redacted(e)))?;
        let object = json.as_object_mut().ok_or(TargetBodyError::NotAnObject)?;
        match (object.get("name").and_then(serde_json::Value::as_str), name) {
            (Some(body), Some(path)) if body != path => {
                return Err(TargetBodyError::OtherName {
                    body: body.to_owned(),
                    path: path.to_owned(),
                });
            }
            (None, Some(path)) => {
                object.insert("name".into(), serde_json::Value::String(path.to_owned()));
            }
            (None, None) => return Err(TargetBodyError::NoName),
            _ => {}
        }
        serde_json::from_value(json).map_err(|e| TargetBodyError::Invalid(redacted(e)))
    }

    /// The target as APIs answer it: [`TargetConfig::redacted`] with `***` for each secret
    /// (twinsphere's answers), and for Azure both names of the SAS URL field (`blobSasUrl`
    /// and the older `blobContainerSasUrl`, which clients of either still read).
    pub fn shown(&self) -> Result<serde_json::Value, serde_json::Error> {
        let text = serde_json::to_string(&self.redacted())?
            .replace(&format!("sig={REDACTED}"), "sig=***")
            .replace(&format!("\"{REDACTED}\""), "\"***\"");
        let mut json: serde_json::Value = serde_json::from_str(&text)?;
        if let Some(configuration) = json
            .get_mut("configuration")
            .and_then(serde_json::Value::as_object_mut)
            && let Some(url) = configuration.get("blobSasUrl").cloned()
        {
            configuration.insert("blobContainerSasUrl".into(), url);
        }
        Ok(json)
    }

    /// The configuration with every secret replaced by `REDACTED` (SAS signature, secret key):
    /// what APIs show.
    pub fn redacted(&self) -> TargetConfig {
        let kind = match &self.kind {
            TargetKind::AzureBlobStorage { blob_sas_url } => TargetKind::AzureBlobStorage {
                blob_sas_url: redact_sas(blob_sas_url),
            },
            TargetKind::S3 {
                bucket,
                region,
                endpoint,
                access_key_id,
                ..
            } => TargetKind::S3 {
                bucket: bucket.clone(),
                region: region.clone(),
                endpoint: endpoint.clone(),
                access_key_id: access_key_id.clone(),
                secret_access_key: REDACTED.into(),
            },
            other => other.clone(),
        };
        TargetConfig {
            name: self.name.clone(),
            kind,
        }
    }

    /// The URL the target will contact: the container URL of a SAS URL (without the SAS) or
    /// the bucket URL of an S3 target (its endpoint, or AWS's
    /// `https://s3.<region>.amazonaws.com`, followed by the bucket); `None` for a
    /// local directory. For callers that check where targets connect: IP-address hosts do not
    /// go through [`TargetOptions::dns_resolver`], so check them here. It checks only what it
    /// needs to compose the URL; [`TargetConfig::build`] checks the rest (scheme, expiry, ...).
    pub fn target_url(&self) -> Result<Option<Url>, TargetError> {
        match &self.kind {
            TargetKind::AzureBlobStorage { blob_sas_url } => {
                let mut url = Url::parse(blob_sas_url.trim())
                    .map_err(|e| TargetError::SasUrl(format!("not a URL ({e})")))?;
                url.set_query(None);
                url.set_fragment(None);
                // Credentials in the URL are not used, but they are secrets all the same.
                // (Both setters only fail for URLs that cannot have them: nothing to remove.)
                let _ = url.set_username("");
                let _ = url.set_password(None);
                Ok(Some(url))
            }
            TargetKind::LocalDirectory { .. } => Ok(None),
            TargetKind::S3 {
                bucket,
                region,
                endpoint,
                ..
            } => Ok(Some(
                S3Location::parse(bucket, region, endpoint)?.bucket_url,
            )),
        }
    }

    /// Checks the configuration and connects a target (no request is made yet).
    pub fn build(&self, options: &TargetOptions) -> Result<ObjectStoreTarget, TargetError> {
        if self.name.trim().is_empty() {
            return Err(TargetError::Invalid {
                field: "name",
                message: "is empty".into(),
            });
        }
        let (store, description, expiry) = match &self.kind {
            TargetKind::AzureBlobStorage { blob_sas_url } => azure_store(blob_sas_url, options)?,
            TargetKind::LocalDirectory { path } => local_store(path, options)?,
            TargetKind::S3 {
                bucket,
                region,
                endpoint,
                access_key_id,
                secret_access_key,
            } => s3_store(
                (bucket, region, endpoint),
                access_key_id,
                secret_access_key,
                options,
            )?,
        };
        let target = ObjectStoreTarget::new(store, description);
        let keeps_content_types = !matches!(self.kind, TargetKind::LocalDirectory { .. });
        Ok(ObjectStoreTarget {
            content_types: keeps_content_types,
            expiry,
            ..target
        })
    }
}

/// A built store, what it is (for messages, no secrets), and when its credentials expire.
type Store = (Arc<dyn ObjectStore>, String, Option<DateTime<Utc>>);

/// The store of an `azure-blob-storage` target.
#[cfg(feature = "azure")]
fn azure_store(blob_sas_url: &str, options: &TargetOptions) -> Result<Store, TargetError> {
    let url = BlobSasUrl::parse(blob_sas_url, options)?;
    let store = url
        .builder(options.dns_resolver.clone())
        .with_retry(no_retries())
        .build()
        .map_err(TargetError::Store)?;
    let description = format!("Azure container {} of {}", url.container(), url.account());
    Ok((Arc::new(store), description, url.expiry()))
}

#[cfg(not(feature = "azure"))]
fn azure_store(_: &str, _: &TargetOptions) -> Result<Store, TargetError> {
    Err(TargetError::BackendNotEnabled {
        kind: "azure-blob-storage",
        feature: "azure",
    })
}

/// The store of a `local-directory` target.
#[cfg(feature = "local")]
fn local_store(path: &Path, options: &TargetOptions) -> Result<Store, TargetError> {
    let directory = confined_directory(path, options.local_root.as_deref())?;
    let store = object_store::local::LocalFileSystem::new_with_prefix(&directory)
        .map_err(TargetError::Store)?;
    let description = format!("directory {}", directory.display());
    Ok((Arc::new(store), description, None))
}

#[cfg(not(feature = "local"))]
fn local_store(_: &Path, _: &TargetOptions) -> Result<Store, TargetError> {
    Err(TargetError::BackendNotEnabled {
        kind: "local-directory",
        feature: "local",
    })
}

/// The store of an `s3` target at `location`.
#[cfg(feature = "s3")]
/// The store of an S3 target: bucket, region and endpoint as configured (checked here, so
/// that without the feature `s3` every S3 target is refused alike, as not enabled).
fn s3_store(
    (bucket, region, endpoint): (&str, &Option<String>, &Option<String>),
    access_key_id: &str,
    secret_access_key: &str,
    options: &TargetOptions,
) -> Result<Store, TargetError> {
    let location = S3Location::parse(bucket, region, endpoint)?;
    // AWS itself (no endpoint) is https.
    let mut allow_http = false;
    let mut builder = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(&location.region)
        .with_access_key_id(access_key_id)
        .with_secret_access_key(secret_access_key)
        .with_retry(no_retries());
    if let Some(endpoint) = &location.endpoint {
        let insecure = check_transport(endpoint, options.allow_insecure).map_err(|source| {
            TargetError::Transport {
                field: "endpoint",
                source,
            }
        })?;
        allow_http = insecure;
        builder = builder
            .with_endpoint(endpoint.as_str().trim_end_matches('/'))
            .with_virtual_hosted_style_request(false);
    }
    let connector = Connector::new(allow_http, options.dns_resolver.clone());
    let store = builder
        .with_allow_http(allow_http)
        .with_http_connector(connector)
        .build()
        .map_err(TargetError::Store)?;
    Ok((Arc::new(store), format!("S3 bucket {bucket}"), None))
}

#[cfg(not(feature = "s3"))]
fn s3_store(
    _: (&str, &Option<String>, &Option<String>),
    _: &str,
    _: &str,
    _: &TargetOptions,
) -> Result<Store, TargetError> {
    Err(TargetError::BackendNotEnabled {
        kind: "s3",
        feature: "s3",
    })
}

/// object_store's own retries, off: the push engine's [`crate::RetryPolicy`] is the only retry
/// layer, so one attempt of a single-request upload is exactly one request and the documented
/// count and time bound are what happens (with both layers, each of the engine's 3 attempts
/// made up to 4 requests).
#[cfg(any(feature = "azure", feature = "s3"))]
fn no_retries() -> RetryConfig {
    RetryConfig {
        max_retries: 0,
        ..RetryConfig::default()
    }
}

/// Where an S3 target connects, checked.
struct S3Location {
    #[cfg_attr(not(feature = "s3"), allow(dead_code))]
    region: String,
    /// The configured endpoint, parsed; `None`: AWS.
    #[cfg_attr(not(feature = "s3"), allow(dead_code))]
    endpoint: Option<Url>,
    /// The URL objects are uploaded under.
    bucket_url: Url,
}

impl S3Location {
    fn parse(
        bucket: &str,
        region: &Option<String>,
        endpoint: &Option<String>,
    ) -> Result<Self, TargetError> {
        let invalid = |field, message: String| TargetError::Invalid { field, message };
        // object_store puts the bucket into the URL path and, without an endpoint, the region
        // into the host (`s3.<region>.amazonaws.com`): characters such as `/`, `@` or `#`
        // could move the request elsewhere.
        let plain = |text: &str, extra: &[char]| {
            !text.is_empty()
                && text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || extra.contains(&c))
        };
        if !plain(bucket, &['.', '_']) {
            return Err(invalid(
                "bucket",
                format!("{bucket:?} is not a bucket name (letters, digits, '.', '-', '_')"),
            ));
        }
        let region = region.clone().unwrap_or_else(|| "us-east-1".into());
        if !plain(&region, &['_']) {
            return Err(invalid(
                "region",
                format!("{region:?} is not a region name (letters, digits, '-', '_')"),
            ));
        }
        let (endpoint, base) = match endpoint {
            Some(text) => {
                let url = Url::parse(text.trim())
                    .map_err(|e| invalid("endpoint", format!("not a URL ({e})")))?;
                if url.host().is_none()
                    || url.query().is_some()
                    || url.fragment().is_some()
                    || !url.username().is_empty()
                    || url.password().is_some()
                {
                    return Err(invalid(
                        "endpoint",
                        format!(
                            "{:?} is not of the form http(s)://host[:port][/path]",
                            url.as_str()
                        ),
                    ));
                }
                let base = url.as_str().trim_end_matches('/').to_owned();
                (Some(url), base)
            }
            None => (None, format!("https://s3.{region}.amazonaws.com")),
        };
        let bucket_url = Url::parse(&format!("{base}/{bucket}"))
            .map_err(|e| invalid("endpoint", format!("no bucket URL ({e})")))?;
        Ok(Self {
            region,
            endpoint,
            bucket_url,
        })
    }
}

/// The directory of a `local-directory` target: `path` (relative to the root, or absolute)
/// resolved (`..`, symlinks) and created, refused unless it stays inside `root`.
///
/// The part of `path` that exists is resolved before anything is created, so a path through
/// a symlink (or `..`) that leaves the root creates nothing outside it; the directory made is
/// resolved again afterwards, in case the file system changed in between (a directory
/// replaced by a symlink meanwhile may still see directories created outside: whoever can do
/// that can write there anyway).
#[cfg(feature = "local")]
fn confined_directory(path: &Path, root: Option<&Path>) -> Result<PathBuf, TargetError> {
    use std::path::Component;
    let root = root.ok_or(TargetError::LocalDisabled)?;
    let root_error = |source| TargetError::LocalRoot {
        root: root.to_owned(),
        source,
    };
    let canonical_root = root.canonicalize().map_err(root_error)?;
    if !canonical_root.is_dir() {
        return Err(root_error(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            "not a directory",
        )));
    }
    let path_error = |source| TargetError::LocalPath {
        path: path.to_owned(),
        source,
    };
    let outside = |resolved: PathBuf| TargetError::OutsideRoot {
        path: path.to_owned(),
        resolved,
        root: canonical_root.clone(),
    };
    let wanted = canonical_root.join(path);
    let components: Vec<Component<'_>> = wanted.components().collect();
    // The longest prefix that exists, resolved; the rest is created below it.
    let mut existing = None;
    for end in (1..=components.len()).rev() {
        let prefix: PathBuf = components[..end].iter().collect();
        match prefix.canonicalize() {
            Ok(resolved) => {
                existing = Some((resolved, &components[end..]));
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(path_error(e)),
        }
    }
    // The file system root always exists; this is only reached when it cannot be read.
    let (base, rest) = existing.ok_or_else(|| {
        path_error(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no part of the path exists",
        ))
    })?;
    // The rest does not exist yet, so it holds no symlinks: its `..` are resolved by name.
    // `base` is resolved, so a `..` reaching into it is resolved correctly too.
    let mut directory = base;
    for component in rest {
        match component {
            Component::ParentDir => {
                directory.pop();
            }
            Component::Normal(name) => directory.push(name),
            // Only ever first (and the start of an absolute path always exists).
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    if !directory.starts_with(&canonical_root) {
        return Err(outside(directory));
    }
    std::fs::create_dir_all(&directory).map_err(path_error)?;
    let resolved = directory.canonicalize().map_err(path_error)?;
    if !resolved.starts_with(&canonical_root) {
        return Err(outside(resolved));
    }
    Ok(resolved)
}

impl fmt::Debug for TargetConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = self.redacted();
        f.debug_struct("TargetConfig")
            .field("name", &redacted.name)
            .field("kind", &redacted.kind)
            .finish()
    }
}

impl fmt::Debug for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only ever called on redacted copies (see TargetConfig's Debug), but redact again so a
        // TargetKind printed on its own leaks nothing either.
        match self {
            TargetKind::AzureBlobStorage { blob_sas_url } => f
                .debug_struct("AzureBlobStorage")
                .field("blob_sas_url", &redact_sas(blob_sas_url))
                .finish(),
            TargetKind::LocalDirectory { path } => f
                .debug_struct("LocalDirectory")
                .field("path", path)
                .finish(),
            TargetKind::S3 {
                bucket,
                region,
                endpoint,
                access_key_id,
                ..
            } => f
                .debug_struct("S3")
                .field("bucket", bucket)
                .field("region", region)
                .field("endpoint", endpoint)
                .field("access_key_id", access_key_id)
                .field("secret_access_key", &REDACTED)
                .finish(),
        }
    }
}

/// What was uploaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadedObject {
    /// The object name (blob name, S3 key, or file name under the directory).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// The entity tag the store answered (`eTag`), if it gave one (a local directory's is
    /// derived from the file's metadata).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e_tag: Option<String>,
    /// The content type it was uploaded with (a local directory keeps none).
    pub content_type: String,
}

impl UploadedObject {
    fn new(name: &str, size: u64, e_tag: Option<String>, content_type: &str) -> Self {
        Self {
            name: name.to_owned(),
            size,
            e_tag,
            content_type: content_type.to_owned(),
        }
    }
}

/// Where push jobs upload to.
#[async_trait]
pub trait PushTarget: Send + Sync + fmt::Debug {
    /// Uploads an object from bytes (replacing one of the same name).
    async fn upload(
        &self,
        name: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<UploadedObject, PushError>;

    /// Uploads an object from a reader in parts (multipart / block list), holding at most a
    /// few parts in memory.
    async fn upload_stream(
        &self,
        name: &str,
        reader: &mut (dyn AsyncRead + Unpin + Send),
        content_type: &str,
    ) -> Result<UploadedObject, PushError>;

    /// Checks that the target answers and accepts the credentials.
    async fn check(&self) -> Result<(), PushError>;
}

/// A target that cannot be used, standing in for one whose stored configuration does not
/// build (its sealed secret does not open, the outbound policy refuses it, ...): every upload
/// and check fails at once with the error's message ([`PushError::Other`], not retried), so a
/// job naming it fails saying why; a [`crate::Targets`] returning `None` instead would say
/// that there is no target of that name.
#[derive(Debug)]
pub struct UnusableTarget(Box<dyn std::error::Error + Send + Sync>);

impl UnusableTarget {
    /// A target that fails with `error`.
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(error.into())
    }

    fn error(&self) -> PushError {
        PushError::Other {
            name: String::new(),
            detail: self.0.to_string(),
        }
    }
}

#[async_trait]
impl PushTarget for UnusableTarget {
    async fn upload(
        &self,
        _name: &str,
        _bytes: Bytes,
        _content_type: &str,
    ) -> Result<UploadedObject, PushError> {
        Err(self.error())
    }

    async fn upload_stream(
        &self,
        _name: &str,
        _reader: &mut (dyn AsyncRead + Unpin + Send),
        _content_type: &str,
    ) -> Result<UploadedObject, PushError> {
        Err(self.error())
    }

    async fn check(&self) -> Result<(), PushError> {
        Err(self.error())
    }
}

/// A [`PushTarget`] over any `object_store` store.
#[derive(Debug, Clone)]
pub struct ObjectStoreTarget {
    store: Arc<dyn ObjectStore>,
    description: String,
    part_size: usize,
    multipart_threshold: usize,
    /// Whether the store keeps a content type (a local directory does not).
    content_types: bool,
    /// When the credentials expire (a SAS's `se`), to say so when the store refuses access.
    expiry: Option<chrono::DateTime<chrono::Utc>>,
}

/// Parts of multipart uploads, and how many are uploaded at once.
const PART_SIZE: usize = 8 << 20;
const PARTS_IN_FLIGHT: usize = 4;

impl ObjectStoreTarget {
    /// A target over `store`; `description` names it in messages (no secrets).
    pub fn new(store: Arc<dyn ObjectStore>, description: impl Into<String>) -> Self {
        Self {
            store,
            description: description.into(),
            part_size: PART_SIZE,
            multipart_threshold: 4 * PART_SIZE,
            content_types: true,
            expiry: None,
        }
    }

    /// What the target is (no secrets), for messages.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Objects larger than this go up in parts of `part_size` (defaults 32 MiB and 8 MiB).
    pub fn with_multipart(mut self, threshold: usize, part_size: usize) -> Self {
        self.multipart_threshold = threshold;
        self.part_size = part_size.max(5 << 20);
        self
    }
}

/// Checks an object name: relative, no empty, `.` or `..` segments, no backslashes.
pub fn object_path(name: &str) -> Result<ObjectPath, PushError> {
    let bad = |why| PushError::BadName {
        name: name.to_owned(),
        why,
    };
    if name.is_empty() {
        return Err(bad("it is empty"));
    }
    if name.starts_with('/') {
        return Err(bad("it is absolute"));
    }
    if name.contains('\\') {
        return Err(bad("it contains a backslash"));
    }
    if name.len() > 1024 {
        return Err(bad("it is longer than 1024 bytes"));
    }
    if name
        .split('/')
        .any(|segment| segment.is_empty() || segment == "." || segment == "..")
    {
        return Err(bad("it has an empty, '.' or '..' segment"));
    }
    if name.chars().any(char::is_control) {
        return Err(bad("it contains a control character"));
    }
    ObjectPath::parse(name).map_err(|_| bad("the store does not accept it"))
}

impl ObjectStoreTarget {
    fn error(&self, name: &str, error: object_store::Error) -> PushError {
        match PushError::from_store(name, error) {
            PushError::AccessDenied { name } => match self.expiry {
                Some(expiry) if expiry <= chrono::Utc::now() => PushError::Expired {
                    name,
                    expired_at: expiry.to_rfc3339(),
                },
                _ => PushError::AccessDenied { name },
            },
            other => other,
        }
    }

    fn attributes(&self, content_type: &str) -> Attributes {
        let mut attributes = Attributes::new();
        if self.content_types {
            attributes.insert(Attribute::ContentType, content_type.to_owned().into());
        }
        attributes
    }
}

#[async_trait]
impl PushTarget for ObjectStoreTarget {
    async fn upload(
        &self,
        name: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<UploadedObject, PushError> {
        if bytes.len() > self.multipart_threshold {
            let mut reader: &[u8] = &bytes;
            return self.upload_stream(name, &mut reader, content_type).await;
        }
        let path = object_path(name)?;
        let size = bytes.len() as u64;
        let result = self
            .store
            .put_opts(
                &path,
                PutPayload::from_bytes(bytes),
                PutOptions {
                    attributes: self.attributes(content_type),
                    ..PutOptions::default()
                },
            )
            .await
            .map_err(|e| self.error(name, e))?;
        Ok(UploadedObject::new(name, size, result.e_tag, content_type))
    }

    async fn upload_stream(
        &self,
        name: &str,
        reader: &mut (dyn AsyncRead + Unpin + Send),
        content_type: &str,
    ) -> Result<UploadedObject, PushError> {
        let path = object_path(name)?;
        let upload = self
            .store
            .put_multipart_opts(
                &path,
                object_store::PutMultipartOptions {
                    attributes: self.attributes(content_type),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| self.error(name, e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, self.part_size);
        let mut buffer = vec![0; 1 << 20];
        let mut size = 0u64;
        loop {
            let read = match reader.read(&mut buffer).await {
                Ok(0) => break,
                Ok(read) => read,
                Err(e) => {
                    if let Err(abort) = writer.abort().await {
                        // The upload is left to the store's expiry of unfinished uploads.
                        let error = PushError::from_store(name, abort);
                        tracing::warn!(object = name, %error, "aborting the multipart upload failed");
                    }
                    return Err(PushError::Read(e.to_string()));
                }
            };
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                return Err(self.error(name, e));
            }
            writer.write(&buffer[..read]);
            size += read as u64;
        }
        let result = writer.finish().await.map_err(|e| self.error(name, e))?;
        Ok(UploadedObject::new(name, size, result.e_tag, content_type))
    }

    async fn check(&self) -> Result<(), PushError> {
        let probe = ObjectPath::from(format!(".push-check-{}", uuid::Uuid::new_v4()));
        match self.store.head(&probe).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(PushError::from_store(probe.as_ref(), e)),
        }
    }
}

#[cfg(test)]
mod redaction_tests {
    use super::redact_secrets;

    #[test]
    fn secrets_are_redacted_after_equals_or_colon_whatever_their_case() {
        assert_eq!(
            redact_secrets("https://a.blob.core.windows.net/c?sv=1&sig=abc%2B&se=2"),
            "https://a.blob.core.windows.net/c?sv=1&sig=***&se=2"
        );
        assert_eq!(
            redact_secrets(r#"secretAccessKey: "k3y", region: "eu""#),
            r#"secretAccessKey: "***", region: "eu""#
        );
        assert_eq!(
            redact_secrets(r#"at "https://h/c?SIG=\"s\"""#),
            r#"at "https://h/c?SIG=\"***\"""#
        );
        assert_eq!(redact_secrets("no secret here"), "no secret here");
    }

    #[test]
    fn secrets_are_redacted_in_json_keys_and_in_json_inside_json_strings() {
        assert_eq!(
            redact_secrets(r#"{"secretAccessKey": "k3y", "region": "eu"}"#),
            r#"{"secretAccessKey": "***", "region": "eu"}"#
        );
        assert_eq!(
            redact_secrets(r#""{\"secretAccessKey\":\"k3y\"}""#),
            r#""{\"secretAccessKey\":\"***\"}""#
        );
    }
}

#[cfg(test)]
mod body_tests {
    use super::*;

    #[test]
    fn a_body_sent_to_a_targets_path_takes_its_name_or_must_name_the_same() {
        let body = br#"{"type": "local-directory", "configuration": {"path": "x"}}"#;
        assert_eq!(
            TargetConfig::from_json(body, None),
            Err(TargetBodyError::NoName)
        );
        let named = br#"{"name": "a", "type": "local-directory", "configuration": {"path": "x"}}"#;
        assert_eq!(
            TargetConfig::from_json(named, Some("b")),
            Err(TargetBodyError::OtherName {
                body: "a".into(),
                path: "b".into()
            })
        );
        assert_eq!(
            TargetConfig::from_json(b"[]", None),
            Err(TargetBodyError::NotAnObject)
        );
    }

    #[test]
    fn refused_bodies_never_quote_a_secret() {
        let body = br#"{"name": "t", "type": "s3", "configuration": {"secretAccessKey": "k3y", "bucket": 1}}"#;
        let message = TargetConfig::from_json(body, None).map(|t| t.name);
        assert!(
            matches!(&message, Err(TargetBodyError::Invalid(m)) if !m.contains("k3y")),
            "{message:?}"
        );
    }

    #[test]
    fn a_shown_azure_target_hides_the_signature_and_names_the_url_both_ways()
    -> Result<(), serde_json::Error> {
        let config: TargetConfig = serde_json::from_value(serde_json::json!({
            "name": "t", "type": "azure-blob-storage",
            "configuration": {"blobSasUrl": "https://a.blob.core.windows.net/c?sp=w&sig=s3cret"}
        }))?;
        let shown = config.shown()?;
        let url = &shown["configuration"]["blobSasUrl"];
        assert_eq!(url, &shown["configuration"]["blobContainerSasUrl"]);
        assert!(
            url.as_str().is_some_and(|u| u.contains("sig=***")),
            "{shown}"
        );
        assert!(!shown.to_string().contains("s3cret"));
        Ok(())
    }
}

#[cfg(test)]
mod unusable_tests {
    use super::*;

    #[tokio::test]
    async fn an_unusable_target_fails_every_upload_and_check_with_its_error() {
        let target = UnusableTarget::new("the sealed secret does not open");
        let upload = target
            .upload("a.json", Bytes::new(), "application/json")
            .await;
        let mut reader: &[u8] = b"";
        let stream = (target.upload_stream("a.json", &mut reader, "application/json")).await;
        for failed in [upload.err(), stream.err(), target.check().await.err()] {
            assert!(
                matches!(&failed, Some(PushError::Other { detail, .. })
                    if detail == "the sealed secret does not open"),
                "{failed:?}"
            );
        }
    }
}
