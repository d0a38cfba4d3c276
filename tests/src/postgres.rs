//! A real PostgreSQL for the tests: a private cluster made with `initdb` in a temp dir, its
//! `postgres` started on a free 127.0.0.1 port and stopped by the postmaster's PID when dropped.
//!
//! `postgres` runs as a child of the test, not through `pg_ctl start`: `pg_ctl` puts the
//! server in a session of its own, so an interrupted test run (Ctrl-C, a harness killing the
//! process group) would leave it running; as a child it stays in the tests' process group.
//!
//! `initdb` and `postgres` refuse to run as root: when the tests run as root, the cluster
//! belongs to the `postgres` user (made by the Debian package) and the commands run through
//! `runuser`. Connections are trusted (no password): the cluster listens only on 127.0.0.1 and
//! on a socket in its own directory, and lives as long as the test.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::free_loopback_port as free_port;

/// Where `initdb`, `postgres` and `psql` are: `$PG_BIN`, else the newest
/// `/usr/lib/postgresql/<major>/bin` (Debian's layout).
pub fn postgres_bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return PathBuf::from(dir);
    }
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((major, bin))
        })
        .max_by_key(|(major, _)| *major);
    match newest {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL not found (looked at $PG_BIN and /usr/lib/postgresql/*/bin/initdb): \
             install the Debian package `postgresql`; `bash scripts/test-all.sh` does"
        ),
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// A running private cluster.
pub struct Postgres {
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    dir: tempfile::TempDir,
    /// `postgres` (or `runuser` running it), in the tests' process group.
    child: Option<Child>,
    /// The postmaster's PID (from `postmaster.pid`: under `runuser` it is not the child's).
    pid: Option<u32>,
    as_postgres: bool,
}

impl Postgres {
    /// A new cluster, started: `initdb` (about a second), then `postgres`.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let as_postgres = running_as_root();
        let mut cluster = Self {
            port: 0,
            dir,
            child: None,
            pid: None,
            as_postgres,
        };
        if as_postgres {
            // The temp dir is root's: hand it to the user the cluster runs as.
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(cluster.dir.path())
                .status()
                .unwrap_or_else(|e| panic!("chown the cluster dir: {e}"));
            assert!(
                status.success(),
                "chown postgres {}",
                cluster.dir.path().display()
            );
        }
        let data = cluster.data_dir();
        let out = cluster.run(
            "initdb",
            &[
                "-D",
                &data.display().to_string(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        assert!(
            out.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut last_error = String::new();
        // A port picked as free can be taken before the postmaster binds it: try a few.
        for _ in 0..5 {
            cluster.port = free_port();
            match cluster.spawn() {
                Ok(()) => return cluster,
                Err(error) => last_error = error,
            }
        }
        panic!("PostgreSQL did not start: {last_error}");
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// One of the cluster's programs, to run as `postgres` when the tests run as root, in the
    /// cluster's directory, without standard input.
    fn command(&self, program: &str) -> Command {
        let program = postgres_bin_dir().join(program);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        command.current_dir(self.dir.path()).stdin(Stdio::null());
        command
    }

    /// Runs one of the cluster's programs to its end.
    fn run(&self, program: &str, args: &[&str]) -> Output {
        self.command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"))
    }

    fn spawn(&mut self) -> Result<(), String> {
        let data = self.data_dir();
        let log_path = self.dir.path().join("postgres.log");
        let log = std::fs::File::create(&log_path).map_err(|e| format!("log file: {e}"))?;
        let child = self
            .command("postgres")
            .arg("-D")
            .arg(&data)
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(self.dir.path())
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .args(["-c", "max_connections=200"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("spawn postgres: {e}"))?;
        self.child = Some(child);
        for _ in 0..200 {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(format!("postgres exited with {status}: {log}"));
            }
            // The postmaster writes its PID on the first line of `postmaster.pid`, and its
            // state on the eighth: it accepts TCP before it is "ready", and a connection made
            // meanwhile is refused with "the database system is starting up".
            let status = std::fs::read_to_string(data.join("postmaster.pid")).unwrap_or_default();
            if self.pid.is_none() {
                self.pid = status
                    .lines()
                    .next()
                    .and_then(|pid| pid.trim().parse().ok());
            }
            let ready = status
                .lines()
                .nth(7)
                .is_some_and(|state| state.trim() == "ready");
            if self.pid.is_some() && ready && TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.stop();
        Err(format!("port {} did not open within 10 s", self.port))
    }

    /// The URL of the cluster's `postgres` database as its superuser.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The postmaster's PID, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Runs `sql` with `psql` against the cluster; its standard output (unaligned, tuples only).
    pub fn psql(&self, sql: &str) -> Result<String, String> {
        let psql = [
            postgres_bin_dir().join("psql"),
            PathBuf::from("/usr/bin/psql"),
        ]
        .into_iter()
        .find(|path| path.exists())
        .ok_or("psql not found")?;
        let out = Command::new(psql)
            .args([
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                &self.url(),
                "-c",
                sql,
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("run psql: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Stops the cluster: SIGINT to the postmaster (PostgreSQL's fast shutdown), then SIGKILL
    /// if it is still there after 10 s; then waits for the child.
    pub fn stop(&mut self) {
        if let Some(pid) = self.pid.take() {
            // Gone, or a zombie not reaped yet.
            let alive = |pid: u32| {
                std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                    stat.rsplit_once(") ")
                        .is_some_and(|(_, rest)| !rest.starts_with('Z'))
                })
            };
            let _ = Command::new("kill")
                .args(["-INT", &pid.to_string()])
                .status();
            let mut stopped = false;
            for _ in 0..400 {
                if !alive(pid) {
                    stopped = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            if !stopped {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
        if let Some(mut child) = self.child.take() {
            for _ in 0..400 {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}
