//! A real Mosquitto broker on 127.0.0.1 for the tests, one per test on its own free port,
//! killed by its PID when dropped; and test certificates made with rcgen.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running Mosquitto.
pub struct Mosquitto {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    config: String,
}

fn mosquitto_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("MOSQUITTO") {
        return PathBuf::from(path);
    }
    for candidate in [
        "/usr/sbin/mosquitto",
        "/usr/local/sbin/mosquitto",
        "/usr/bin/mosquitto",
    ] {
        if Path::new(candidate).exists() {
            return PathBuf::from(candidate);
        }
    }
    panic!(
        "mosquitto not found (looked at $MOSQUITTO, /usr/sbin, /usr/local/sbin, /usr/bin): \
         install the Debian package `mosquitto`; `bash scripts/test-all.sh` does"
    );
}

use crate::free_loopback_port as free_port;

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"))
}

impl Mosquitto {
    /// A plain listener, anonymous clients allowed.
    pub fn plain() -> Self {
        Self::start(temp_dir(), "allow_anonymous true\n")
    }

    /// A plain listener whose sessions and queued messages survive [`Mosquitto::restart`]
    /// after a graceful [`Mosquitto::terminate`] (persistence on).
    pub fn persistent() -> Self {
        let dir = temp_dir();
        let config = format!(
            "allow_anonymous true\npersistence true\npersistence_location {}/\n",
            dir.path().display()
        );
        Self::start(dir, &config)
    }

    /// A TLS listener that requires a client certificate signed by `certs`' CA.
    pub fn mutual_tls(certs: &TestCertificates) -> Self {
        let dir = temp_dir();
        let write = |name: &str, content: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, content).unwrap_or_else(|e| panic!("write {name}: {e}"));
            path.display().to_string()
        };
        let ca = write("ca.pem", &certs.ca_pem);
        let cert = write("server.pem", &certs.server_pem);
        let key = write("server.key", &certs.server_key_pem);
        let config = format!(
            "allow_anonymous true\ncafile {ca}\ncertfile {cert}\nkeyfile {key}\n\
             require_certificate true\nuse_identity_as_username true\n"
        );
        Self::start(dir, &config)
    }

    fn start(dir: tempfile::TempDir, listener_config: &str) -> Self {
        let mut broker = Self {
            child: None,
            port: 0,
            dir,
            config: listener_config.to_owned(),
        };
        let mut last_error = String::new();
        // A port picked as free can be taken before the broker binds it: try a few.
        for _ in 0..5 {
            broker.port = free_port();
            match broker.spawn() {
                Ok(()) => return broker,
                Err(error) => last_error = error.to_string(),
            }
        }
        panic!("mosquitto did not start: {last_error}");
    }

    fn spawn(&mut self) -> Result<(), Box<dyn std::error::Error>> {
        let config_path = self.dir.path().join("mosquitto.conf");
        let log_path = self.dir.path().join("mosquitto.log");
        let config = format!(
            "# Keep root when started as root (otherwise it drops to user mosquitto, which cannot\n\
             # read the temp dir).\nuser root\nmax_queued_messages 100000\n\
             max_inflight_messages 100\nlog_dest stderr\nlog_type error\nlog_type warning\n\
             listener {} 127.0.0.1\n{}",
            self.port, self.config
        );
        std::fs::write(&config_path, config).map_err(|e| format!("write config: {e}"))?;
        let log = std::fs::File::create(&log_path).map_err(|e| format!("log file: {e}"))?;
        let child = Command::new(mosquitto_binary())
            .arg("-c")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("spawn mosquitto: {e}"))?;
        self.child = Some(child);
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(format!("exited with {status}: {log}").into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.stop();
        Err(format!("port {} did not open within 5 s", self.port).into())
    }

    /// Kills the broker (by its PID) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the broker with SIGTERM (a persistent one saves its sessions) and waits for it.
    pub fn terminate(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            for _ in 0..200 {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port (sessions are gone unless it is persistent and was
    /// terminated gracefully).
    pub fn restart(&mut self) {
        self.stop();
        let mut last_error = String::new();
        for _ in 0..20 {
            match self.spawn() {
                Ok(()) => return,
                Err(error) => last_error = error.to_string(),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "mosquitto did not restart on port {}: {last_error}",
            self.port
        );
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A CA, a server certificate for 127.0.0.1, and two client certificates: one signed by the
/// CA, one by another CA the broker does not trust.
pub struct TestCertificates {
    pub ca_pem: String,
    pub server_pem: String,
    pub server_key_pem: String,
    pub client_pem: String,
    pub client_key_pem: String,
    pub stranger_pem: String,
    pub stranger_key_pem: String,
}

impl TestCertificates {
    pub fn generate() -> Result<Self, rcgen::Error> {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
        let ca_params = |name: &str| -> Result<CertificateParams, rcgen::Error> {
            let mut params = CertificateParams::new(Vec::<String>::new())?;
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.distinguished_name.push(DnType::CommonName, name);
            Ok(params)
        };
        let ca = CertifiedIssuer::self_signed(ca_params("aas-rs test CA")?, KeyPair::generate()?)?;
        let stranger_ca =
            CertifiedIssuer::self_signed(ca_params("untrusted CA")?, KeyPair::generate()?)?;
        let leaf = |name: &str, sans: Vec<String>, issuer: &CertifiedIssuer<'_, KeyPair>| {
            let key = KeyPair::generate()?;
            let mut params = CertificateParams::new(sans)?;
            params.distinguished_name.push(DnType::CommonName, name);
            let certificate = params.signed_by(&key, issuer)?;
            Ok::<_, rcgen::Error>((certificate.pem(), key.serialize_pem()))
        };
        let (server_pem, server_key_pem) = leaf(
            "127.0.0.1",
            vec!["127.0.0.1".into(), "localhost".into()],
            &ca,
        )?;
        let (client_pem, client_key_pem) = leaf("publisher", vec![], &ca)?;
        let (stranger_pem, stranger_key_pem) = leaf("stranger", vec![], &stranger_ca)?;
        Ok(Self {
            ca_pem: ca.pem(),
            server_pem,
            server_key_pem,
            client_pem,
            client_key_pem,
            stranger_pem,
            stranger_key_pem,
        })
    }
}
