//! What push-core's tests share: moto's S3 server, the elements of an environment as a job
//! source, one target by name, and [`fake_http`], a fake HTTP server that counts requests.
//! Azurite is in the workspace's test support (`aas_conformance_tests::azurite`).

#![allow(dead_code)]

pub mod fake_http;

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use std::sync::Arc;

use aas_conformance_tests::free_loopback_port as free_port;
use aas_model::{AssetAdministrationShell, ConceptDescription, Environment, Submodel};
use async_trait::async_trait;
use push_core::{PushTarget, Source, SourceError, Targets};

/// moto's S3 server (PyPI `moto[server]`, in the venv of `scripts/test-venv.sh`) on a free
/// 127.0.0.1 port, killed by PID.
pub struct MotoS3 {
    child: Option<Child>,
    pub port: u16,
}

impl MotoS3 {
    pub fn start() -> Self {
        let python = aas_conformance_tests::test_python();
        let server = python.with_file_name("moto_server");
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(&server)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {}: {e}", server.display()));
            for _ in 0..300 {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Self {
                        child: Some(child),
                        port,
                    };
                }
                if let Ok(Some(status)) = child.try_wait() {
                    last_error = format!("exited with {status}");
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("moto_server did not start: {last_error}");
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub async fn create_bucket(&self, bucket: &str) -> Result<(), Box<dyn std::error::Error>> {
        let response = aas_conformance_tests::http_client()
            .put(format!("{}/{bucket}", self.endpoint()))
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(format!("create bucket: {}", response.status()).into());
        }
        Ok(())
    }

    /// Reads an object back through object_store (moto refuses unsigned reads).
    pub async fn get(
        &self,
        bucket: &str,
        name: &str,
    ) -> Result<(Vec<u8>, String), Box<dyn std::error::Error>> {
        use object_store::{Attribute, ObjectStoreExt};
        let store = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region("us-east-1")
            .with_endpoint(self.endpoint())
            .with_allow_http(true)
            .with_access_key_id("testing")
            .with_secret_access_key("testing")
            .build()?;
        let result = store.get(&object_store::path::Path::parse(name)?).await?;
        let content_type = result
            .attributes
            .get(&Attribute::ContentType)
            .map(|v| v.to_string())
            .unwrap_or_default();
        Ok((result.bytes().await?.to_vec(), content_type))
    }
}

impl Drop for MotoS3 {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The elements of an environment as the source of push jobs.
pub struct EnvironmentSource(pub Environment);

#[async_trait]
impl Source for EnvironmentSource {
    async fn shell(&self, id: &str) -> Result<Option<Arc<AssetAdministrationShell>>, SourceError> {
        Ok(self
            .0
            .asset_administration_shells
            .iter()
            .flatten()
            .find(|s| s.id == id)
            .map(|s| Arc::new(s.clone())))
    }
    async fn submodel(&self, id: &str) -> Result<Option<Arc<Submodel>>, SourceError> {
        Ok(self
            .0
            .submodels
            .iter()
            .flatten()
            .find(|s| s.id == id)
            .map(|s| Arc::new(s.clone())))
    }
    async fn concept_description(
        &self,
        id: &str,
    ) -> Result<Option<Arc<ConceptDescription>>, SourceError> {
        Ok(self
            .0
            .concept_descriptions
            .iter()
            .flatten()
            .find(|c| c.id == id)
            .map(|c| Arc::new(c.clone())))
    }
}

/// One push target, under the name `target` (other names are unknown).
pub struct OneTarget(pub Arc<dyn PushTarget>);

#[async_trait]
impl Targets for OneTarget {
    async fn target(&self, name: &str) -> Option<Arc<dyn PushTarget>> {
        (name == "target").then(|| self.0.clone())
    }
}
