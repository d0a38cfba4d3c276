//! Helpers shared by the conformance tests: where the corpus is, which files it holds.
//!
//! The corpus root is `$AAS_CORPUS_DIR` when set, else `../shared/corpus` beside the workspace.
//! A missing corpus is a test failure with a message saying where it was looked for: these
//! tests never skip.

use std::path::{Path, PathBuf};

/// The corpus root (`AAS_CORPUS_DIR` or `<workspace>/../shared/corpus`); panics when absent.
pub fn corpus_root() -> PathBuf {
    let root = match std::env::var_os("AAS_CORPUS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
    };
    assert!(
        root.join("aas-core3.0-testgen").is_dir(),
        "conformance corpus not found at {} (set AAS_CORPUS_DIR to the folder holding aas-core3.0-testgen)",
        root.display()
    );
    root
}

/// The aas-core3.0-testgen folder of one format (`Json` or `Xml`).
pub fn testgen(format: &str) -> PathBuf {
    corpus_root().join("aas-core3.0-testgen").join(format)
}

/// Every file with the given extension below `dir`, sorted.
pub fn files_below(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot list {}: {e}", d.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", d.display()))
                .path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == extension) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The corpus files of one category (`Expected`, `Unexpected/Invalid`, `Unexpected/Unserializable`)
/// of one format, from both `ContainedInEnvironment` and `SelfContained`.
pub fn category(format: &str, category: &str) -> Vec<PathBuf> {
    let extension = format.to_ascii_lowercase();
    let mut files = Vec::new();
    for container in ["ContainedInEnvironment", "SelfContained"] {
        files.extend(files_below(
            &testgen(format).join(container).join(category),
            &extension,
        ));
    }
    files
}

/// Reads an XML corpus file as the class its folder names: an `EventPayload` for
/// `SelfContained/.../eventPayload`, else an `Environment`.
pub fn read_xml_corpus_file(path: &Path) -> Result<aas_serde::Document, aas_serde::xml::Error> {
    let bytes = std::fs::read(path).map_err(aas_serde::xml::Error::from)?;
    if is_event_payload(path) {
        aas_serde::xml::from_slice::<aas_model::EventPayload>(&bytes).map(Into::into)
    } else {
        aas_serde::xml::from_slice::<aas_model::Environment>(&bytes).map(Into::into)
    }
}

/// Runs `check` on every file; fails with one line per file that did not pass.
pub fn assert_each(files: &[PathBuf], check: impl Fn(&Path) -> Result<(), String>) {
    let failures: Vec<String> = files
        .iter()
        .filter_map(|f| check(f).err().map(|e| format!("{}: {e}", f.display())))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

/// Whether a corpus file has an `EventPayload` root (else an `Environment`).
pub fn is_event_payload(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "SelfContained")
        && path
            .components()
            .any(|c| c.as_os_str() == "EventPayload" || c.as_os_str() == "eventPayload")
}

/// Reads a JSON corpus file as the class its folder names: an `EventPayload` for
/// `SelfContained/.../EventPayload`, else an `Environment`.
pub fn read_json_corpus_file(path: &Path) -> Result<aas_serde::Document, aas_serde::json::Error> {
    let bytes = std::fs::read(path).map_err(aas_serde::json::Error::from)?;
    if is_event_payload(path) {
        aas_serde::json::from_slice::<aas_model::EventPayload>(&bytes).map(Into::into)
    } else {
        aas_serde::json::from_slice::<aas_model::Environment>(&bytes).map(Into::into)
    }
}

/// The shared tools folder (`AAS_TOOLS_DIR`, else `<workspace>/../shared/tools`).
pub fn tools_dir() -> PathBuf {
    match std::env::var_os("AAS_TOOLS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools"),
    }
}

/// The python of the oracle venv (`oracles/setup.sh` of the tools folder, which creates it once).
pub fn oracle_python() -> PathBuf {
    python_of(
        &tools_dir().join("oracles/setup.sh"),
        "needs python3 and PyPI",
    )
}

/// The python of a venv with the CloudEvents Python SDK (created once by
/// `scripts/test-venv.sh`), which also has moto's S3 server.
pub fn test_python() -> PathBuf {
    python_of(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/test-venv.sh"),
        "needs python3 and PyPI",
    )
}

/// Runs a venv set-up script (it creates the venv once) and returns the python it prints.
fn python_of(script: &Path, needs: &str) -> PathBuf {
    let output = std::process::Command::new("bash")
        .arg(script)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        output.status.success(),
        "{} failed ({needs}): {}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

/// Runs an oracle script of `oracles/` over files (in batches, many files per call) and
/// returns its verdict per file: `OK`, or the status and its message.
pub fn oracle_verdicts(
    script: &str,
    extra: &[&str],
    files: &[PathBuf],
) -> std::collections::HashMap<PathBuf, String> {
    let mut out = std::collections::HashMap::new();
    for batch in files.chunks(800) {
        let output = std::process::Command::new(oracle_python())
            .arg(tools_dir().join("oracles").join(script))
            .args(extra)
            .args(batch)
            .output()
            .unwrap_or_else(|e| panic!("run {script}: {e}"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        // One file: the scripts answer `STATUS[: message]` without the file name.
        if let [file] = batch
            && !stdout.contains('\t')
        {
            let first = stdout.lines().next().unwrap_or_default();
            let (status, message) = first.split_once(": ").unwrap_or((first, ""));
            let verdict = match status {
                "OK" => "OK".to_owned(),
                other => format!("{other} {message}"),
            };
            out.insert(file.clone(), verdict);
            continue;
        }
        for line in stdout.lines() {
            let mut fields = line.split('\t');
            if let (Some(file), Some(status)) = (fields.next(), fields.next()) {
                let status = status.split_whitespace().next().unwrap_or_default();
                let verdict = match fields.next() {
                    Some(message) if status != "OK" => format!("{status} {message}"),
                    _ => status.to_owned(),
                };
                out.insert(PathBuf::from(file), verdict);
            }
        }
    }
    assert_eq!(
        out.len(),
        files.len(),
        "{script} gave a verdict for every file"
    );
    out
}

/// Fails unless aas-core3.0-python (`aas_core_check.py`) reads and verifies every file.
pub fn assert_aas_core_accepts(files: &[PathBuf]) {
    let not_ok: Vec<String> = oracle_verdicts("aas_core_check.py", &[], files)
        .into_iter()
        .filter(|(_, verdict)| verdict != "OK")
        .map(|(file, verdict)| format!("{}: {verdict}", file.display()))
        .collect();
    assert!(
        not_ok.is_empty(),
        "{} of {} not accepted:\n{}",
        not_ok.len(),
        files.len(),
        not_ok.join("\n")
    );
}

/// Checks with `aas_core_equiv.py --pairs` that each pair of files holds the same model;
/// returns the lines of pairs that are not `EQUAL` (empty when all are).
pub fn oracle_unequal_pairs(pairs: &[(PathBuf, PathBuf)], scratch: &Path) -> Vec<String> {
    let list: String = pairs
        .iter()
        .map(|(a, b)| format!("{}\t{}\n", a.display(), b.display()))
        .collect();
    std::fs::write(scratch, list).unwrap_or_else(|e| panic!("write {}: {e}", scratch.display()));
    let output = std::process::Command::new(oracle_python())
        .arg(tools_dir().join("oracles/aas_core_equiv.py"))
        .arg("--pairs")
        .arg(scratch)
        .output()
        .unwrap_or_else(|e| panic!("run aas_core_equiv.py: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut bad: Vec<String> = stdout
        .lines()
        .filter(|l| l.contains('\t') && l.split('\t').nth(2) != Some("EQUAL"))
        .map(str::to_owned)
        .collect();
    let summary = format!("{} passed, 0 failed", pairs.len());
    if !stdout.contains(&summary) {
        bad.push(format!(
            "expected {summary:?}; stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    bad
}

/// A small deterministic pseudo-random generator (xorshift64*), so that the mutation tests
/// see the same inputs on every run.
#[derive(Debug, Clone)]
pub struct Xorshift(u64);

impl Xorshift {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// The READMEs' Rust examples compile (and run, where they need no files).
#[doc = include_str!("../../README.md")]
#[doc = include_str!("../../aas-model/README.md")]
#[doc = include_str!("../../aas-serde/README.md")]
mod readme_examples {}

const UNPACK_ENVELOPES: &str = r#"
import gzip, json, sys
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        envelope = json.loads(gzip.decompress(f.read()))
    assert set(envelope) <= {"version", "timestamp", "payload", "affectedShellIds"}, envelope.keys()
    assert envelope["version"] == "1.0" and envelope["timestamp"].endswith("Z")
    kind = "submodels" if "affectedShellIds" in envelope else "assetAdministrationShells"
    element = json.loads(envelope["payload"])
    target = path + ".json"
    with open(target, "w", encoding="utf-8") as f:
        json.dump({kind: [element]}, f)
    print(target)
"#;

/// Opens twinsphere envelopes (gzip files) with nothing but Python's `gzip` and `json`, checks
/// their fields, and writes each payload beside it as an environment (`<file>.json`) for the
/// oracles: the files written, in order. Panics when Python cannot read one.
pub fn python_unpack_envelopes(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut written = Vec::with_capacity(files.len());
    for batch in files.chunks(800) {
        let output = std::process::Command::new(oracle_python())
            .arg("-c")
            .arg(UNPACK_ENVELOPES)
            .args(batch)
            .output()
            .unwrap_or_else(|e| panic!("run python: {e}"));
        assert!(
            output.status.success(),
            "Python could not read an envelope: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        written.extend(
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .map(PathBuf::from),
        );
    }
    assert_eq!(written.len(), files.len(), "one payload per envelope");
    written
}

/// A free TCP port on 127.0.0.1 for a service a test starts, never one this process handed
/// out before: a port is only known free until its service binds it, and tests running side
/// by side could otherwise be given the same one in that window (the later service then fails
/// to bind, and a check that connects reaches the other test's service).
pub fn free_loopback_port() -> u16 {
    static HANDED_OUT: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut handed_out = HANDED_OUT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for _ in 0..1000 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .unwrap_or_else(|e| panic!("no free port on 127.0.0.1: {e}"));
        if !handed_out.contains(&port) {
            handed_out.push(port);
            return port;
        }
    }
    panic!("no port on 127.0.0.1 that this process has not handed out already")
}
