//! A real Azurite (npm package, installed by `scripts/test-all.sh` into
//! `${AAS_RS_CACHE:-~/.cache/aas-rs}/azurite`) on a free 127.0.0.1 port per test, killed by PID;
//! container SAS tokens signed here with the emulator's well-known key.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};

use crate::free_loopback_port as free_port;

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
            // Azurite's own answer, not only an open port: another test's probe for a free
            // port can hold this one for a moment, and Azurite, finding it taken, exits.
            if self.answers_http() {
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

    /// Whether an HTTP request to the port gets an HTTP answer while the child runs.
    fn answers_http(&mut self) -> bool {
        use std::io::{Read, Write};
        let running = self
            .child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)));
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let request = format!(
            "GET /{ACCOUNT}?comp=list HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        );
        let mut answer = [0u8; 8];
        running
            && stream.write_all(request.as_bytes()).is_ok()
            && stream.read_exact(&mut answer).is_ok()
            && answer.starts_with(b"HTTP/1.")
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
        let response = crate::http_client()
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
        let response = crate::http_client()
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
