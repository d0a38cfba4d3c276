//! A real Azurite (npm package, installed by `scripts/test-all.sh` into
//! `${AAS_RS_CACHE:-~/.cache/aas-rs}/azurite`) on a free 127.0.0.1 port per test, killed by PID;
//! container SAS tokens signed here with the emulator's well-known key; moto's S3 server; and
//! [`fake_http`], a fake HTTP server that counts requests.

#![allow(dead_code)]

pub mod fake_http;

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use std::sync::Arc;

use aas_conformance_tests::free_loopback_port as free_port;
use aas_model::{AssetAdministrationShell, ConceptDescription, Environment, Submodel};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use push_core::{PushTarget, Source, SourceError, Targets};

pub const ACCOUNT: &str = "devstoreaccount1";
pub const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const VERSION: &str = "2022-11-02";

fn azurite_binary() -> PathBuf {
    let cache = std::env::var_os("AAS_RS_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/aas-rs")))
        .unwrap_or_else(|| PathBuf::from(".cache/aas-rs"));
    let binary = cache.join("azurite/node_modules/.bin/azurite-blob");
    assert!(
        binary.exists(),
        "Azurite not found at {}: `bash scripts/test-all.sh` installs it (npm install azurite)",
        binary.display()
    );
    binary
}

pub struct Azurite {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Azurite {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let mut azurite = Self {
            child: None,
            port: 0,
            dir,
        };
        let mut last_error = String::new();
        for _ in 0..5 {
            azurite.port = free_port();
            match azurite.spawn() {
                Ok(()) => return azurite,
                Err(e) => last_error = e.to_string(),
            }
        }
        panic!("Azurite did not start: {last_error}");
    }

    /// An Azurite started elsewhere (benchmarks), on 127.0.0.1.
    pub fn at_port(port: u16) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        Self {
            child: None,
            port,
            dir,
        }
    }

    fn spawn(&mut self) -> Result<(), Box<dyn std::error::Error>> {
        let child = Command::new(azurite_binary())
            .args([
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                &self.port.to_string(),
                "--location",
            ])
            .arg(self.dir.path())
            .args(["--disableTelemetry", "--skipApiVersionCheck", "--silent"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn azurite: {e}"))?;
        self.child = Some(child);
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(format!("exited with {status}").into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.stop();
        Err("did not listen within 10 s".into())
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}/{ACCOUNT}", self.port)
    }

    /// Creates a container (with an account SAS signed here).
    pub async fn create_container(&self, name: &str) -> Result<(), Box<dyn std::error::Error>> {
        let expiry = Utc::now() + chrono::Duration::hours(1);
        let se = expiry.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let to_sign = format!("{ACCOUNT}\nc\nb\nc\n\n{se}\n\n\n{VERSION}\n\n");
        let sig = sign(&to_sign);
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("restype", "container")
            .append_pair("sv", VERSION)
            .append_pair("ss", "b")
            .append_pair("srt", "c")
            .append_pair("sp", "c")
            .append_pair("se", &se)
            .append_pair("sig", &sig)
            .finish();
        let response = reqwest::Client::new()
            .put(format!("{}/{name}?{query}", self.base()))
            .header("content-length", "0")
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(format!(
                "create container {name}: {} {}",
                response.status(),
                response.text().await?
            )
            .into());
        }
        Ok(())
    }

    /// A container SAS URL with these permissions and expiry.
    pub fn sas_url(&self, container: &str, permissions: &str, expiry: DateTime<Utc>) -> String {
        let se = expiry.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let to_sign = format!(
            "{permissions}\n\n{se}\n/blob/{ACCOUNT}/{container}\n\n\n\n{VERSION}\nc\n\n\n\n\n\n\n"
        );
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("sp", permissions)
            .append_pair("se", &se)
            .append_pair("sv", VERSION)
            .append_pair("sr", "c")
            .append_pair("sig", &sign(&to_sign))
            .finish();
        format!("{}/{container}?{query}", self.base())
    }

    /// Reads a blob back (with a read SAS).
    pub async fn get(
        &self,
        container: &str,
        name: &str,
    ) -> Result<(Vec<u8>, String), Box<dyn std::error::Error>> {
        let url = self.sas_url(container, "r", Utc::now() + chrono::Duration::hours(1));
        let (base, query) = url.split_once('?').ok_or("no query")?;
        let response = reqwest::Client::new()
            .get(format!("{base}/{name}?{query}"))
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(format!("get {name}: {}", response.status()).into());
        }
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Ok((response.bytes().await?.to_vec(), content_type))
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        self.stop();
    }
}

fn sign(text: &str) -> String {
    let key_bytes = STANDARD.decode(KEY).unwrap_or_default();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key_bytes);
    STANDARD.encode(ring::hmac::sign(&key, text.as_bytes()).as_ref())
}

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
        let response = reqwest::Client::new()
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
