//! Push targets: the configurations users send, and [`PushTarget`], implemented once over
//! `object_store` for every kind.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use object_store::path::Path as ObjectPath;
use object_store::{
    Attribute, Attributes, BackoffConfig, ObjectStore, ObjectStoreExt, PutOptions, PutPayload,
    RetryConfig, WriteMultipart,
};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::azure::{BlobSasUrl, REDACTED, TargetOptions, redact_sas};
use crate::error::{PushError, TargetError};

/// A named target as users configure it:
/// `{"name": "...", "type": "azure-blob-storage", "configuration": {"blobSasUrl": "https://..."}}`.
///
/// `Serialize` writes the secrets (to be stored encrypted); `Debug` and [`TargetConfig::redacted`]
/// hide them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetConfig {
    pub name: String,
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
        #[serde(rename = "blobSasUrl", alias = "blobContainerSasUrl")]
        blob_sas_url: String,
    },
    /// A directory on the server (development and tests); names cannot leave it.
    LocalDirectory { path: PathBuf },
    /// An S3 bucket (AWS or compatible).
    S3 {
        bucket: String,
        #[serde(default)]
        region: Option<String>,
        /// For S3-compatible servers, e.g. `http://127.0.0.1:9000`.
        #[serde(default)]
        endpoint: Option<String>,
        #[serde(rename = "accessKeyId")]
        access_key_id: String,
        #[serde(rename = "secretAccessKey")]
        secret_access_key: String,
    },
}

impl TargetConfig {
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

    /// Checks the configuration and connects a target (no request is made yet).
    pub fn build(&self, options: &TargetOptions) -> Result<ObjectStoreTarget, TargetError> {
        if self.name.trim().is_empty() {
            return Err(TargetError::Invalid {
                field: "name",
                message: "is empty".into(),
            });
        }
        let store_error = |e: object_store::Error| TargetError::Store(e.to_string());
        let mut expiry = None;
        let (store, description): (Arc<dyn ObjectStore>, String) = match &self.kind {
            TargetKind::AzureBlobStorage { blob_sas_url } => {
                let url = BlobSasUrl::parse(blob_sas_url, options)?;
                expiry = url.expiry();
                let store = url.object_store()?;
                (
                    Arc::new(store),
                    format!("Azure container {} of {}", url.container(), url.account()),
                )
            }
            TargetKind::LocalDirectory { path } => {
                std::fs::create_dir_all(path).map_err(|e| TargetError::Invalid {
                    field: "path",
                    message: format!("{}: {e}", path.display()),
                })?;
                let store = object_store::local::LocalFileSystem::new_with_prefix(path)
                    .map_err(store_error)?;
                (Arc::new(store), format!("directory {}", path.display()))
            }
            TargetKind::S3 {
                bucket,
                region,
                endpoint,
                access_key_id,
                secret_access_key,
            } => {
                let mut builder = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region.clone().unwrap_or_else(|| "us-east-1".into()))
                    .with_access_key_id(access_key_id)
                    .with_secret_access_key(secret_access_key)
                    .with_retry(retry());
                if let Some(endpoint) = endpoint {
                    let insecure = endpoint.starts_with("http://");
                    if insecure && !options.allow_insecure {
                        return Err(TargetError::Invalid {
                            field: "endpoint",
                            message: "is http, not https (only accepted when the server allows insecure targets)".into(),
                        });
                    }
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(insecure)
                        .with_virtual_hosted_style_request(false);
                }
                let store = builder.build().map_err(store_error)?;
                (Arc::new(store), format!("S3 bucket {bucket}"))
            }
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

/// Transient failures (connection refused, timeouts, 5xx) are retried a few times within 15 s;
/// 4xx never.
pub(crate) fn retry() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            base: 2.0,
        },
        max_retries: 3,
        retry_timeout: Duration::from_secs(15),
    }
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
    pub name: String,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e_tag: Option<String>,
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
                    let _ = writer.abort().await;
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
