//! The test support of the whole workspace: where the conformance corpus is and which files it
//! holds, the peer oracles, free loopback ports, and the real services the tests start
//! ([`azurite`], [`mosquitto`], [`postgres`]), and the benchmarks' input ([`bench_input`]); every crate's tests use it as a dev-dependency instead of
//! including each other's files.
//!
//! The corpus root is `$AAS_CORPUS_DIR` when set, else `../shared/corpus` beside the workspace.
//! A missing corpus or service is a test failure with a message saying where it was looked
//! for: these tests never skip.

pub mod azurite;
pub mod bench_input;
pub mod mosquitto;
pub mod postgres;

/// What a test that fails with an error returns.
pub type TestResult = Result<(), Box<dyn std::error::Error>>;

use std::path::{Path, PathBuf};

pub use aas_model::Version;

/// An HTTP client for the tests' own requests (to Azurite and moto), with
/// ring installed as the process's crypto provider first (reqwest is built here without one
/// of its own: see this crate's Cargo.toml).
pub fn http_client() -> reqwest::Client {
    // Err only when a provider is installed already: then that one is used.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

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
    Corpus::V3_0.testgen(format)
}

/// What the judge of a corpus (aas-core of the corpus's version) says of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// De-serializes and verifies.
    Ok,
    /// De-serializes, fails verification.
    Invalid,
    /// Does not de-serialize.
    Unserializable,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [Verdict::Ok, Verdict::Invalid, Verdict::Unserializable];

    /// The verdict a corpus folder stands for (`Expected`, `Unexpected/Invalid`,
    /// `Unexpected/Unserializable`).
    pub fn folder(self) -> &'static str {
        match self {
            Verdict::Ok => "Expected",
            Verdict::Invalid => "Unexpected/Invalid",
            Verdict::Unserializable => "Unexpected/Unserializable",
        }
    }

    fn parse(text: &str) -> Option<Verdict> {
        match text {
            "OK" => Some(Verdict::Ok),
            "INVALID" => Some(Verdict::Invalid),
            "UNSERIALIZABLE" => Some(Verdict::Unserializable),
            _ => None,
        }
    }
}

/// One of the aas-core testgen corpora: aas-core3.0-testgen (read as V3.0) or
/// aas-core3.1-testgen (read as V3.1), with the same layout. Tests walk either through this,
/// so that one test body checks both versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corpus {
    /// The version its files are read as, and the oracles judge by.
    pub version: Version,
}

impl Corpus {
    pub const V3_0: Corpus = Corpus {
        version: Version::V3_0,
    };
    pub const V3_1: Corpus = Corpus {
        version: Version::V3_1,
    };

    /// The corpus folder (panics when absent: these tests never skip).
    pub fn dir(self) -> PathBuf {
        let name = match self.version {
            Version::V3_0 => "aas-core3.0-testgen",
            _ => "aas-core3.1-testgen",
        };
        let dir = corpus_root().join(name);
        assert!(
            dir.is_dir(),
            "{name} not found in {} (AAS_CORPUS_DIR)",
            dir.display()
        );
        dir
    }

    /// The folder of one format (`Json` or `Xml`).
    pub fn testgen(self, format: &str) -> PathBuf {
        self.dir().join(format)
    }

    /// The files of one folder category (`Expected`, `Unexpected/Invalid`,
    /// `Unexpected/Unserializable`) of one format, from both `ContainedInEnvironment` and
    /// `SelfContained`.
    pub fn category(self, format: &str, category: &str) -> Vec<PathBuf> {
        let extension = format.to_ascii_lowercase();
        let mut files = Vec::new();
        for container in ["ContainedInEnvironment", "SelfContained"] {
            files.extend(files_below(
                &self.testgen(format).join(container).join(category),
                &extension,
            ));
        }
        files
    }

    /// The verdicts that override the folder (`VERDICTS.tsv`: the files on which the folder
    /// and the judge disagree), by absolute path. None for a corpus without that file.
    pub fn overrides(self) -> std::collections::HashMap<PathBuf, Verdict> {
        let dir = self.dir();
        let Ok(text) = std::fs::read_to_string(dir.join("VERDICTS.tsv")) else {
            return Default::default();
        };
        text.lines()
            .skip(1)
            .map(|line| {
                let fields: Vec<&str> = line.split('\t').collect();
                let verdict = fields
                    .get(2)
                    .and_then(|v| Verdict::parse(v))
                    .unwrap_or_else(|| panic!("VERDICTS.tsv: no verdict in {line:?}"));
                (dir.join(fields[0]), verdict)
            })
            .collect()
    }

    /// The files of one format the judge gives `verdict`: its folder's, unless `VERDICTS.tsv`
    /// says otherwise. Sorted.
    pub fn files(self, format: &str, verdict: Verdict) -> Vec<PathBuf> {
        let overrides = self.overrides();
        let mut files: Vec<PathBuf> = Verdict::ALL
            .into_iter()
            .flat_map(|folder| {
                self.category(format, folder.folder())
                    .into_iter()
                    .map(move |path| (path, folder))
            })
            .filter(|(path, folder)| *overrides.get(path).unwrap_or(folder) == verdict)
            .map(|(path, _)| path)
            .collect();
        files.sort();
        files
    }

    /// The files of one format that de-serialize (verdict OK or INVALID). Sorted.
    pub fn readable(self, format: &str) -> Vec<PathBuf> {
        let mut files = self.files(format, Verdict::Ok);
        files.extend(self.files(format, Verdict::Invalid));
        files.sort();
        files
    }

    /// Reads a JSON file of the corpus as its version, as the class its folder names.
    pub fn read_json(self, path: &Path) -> Result<aas_serde::Document, aas_serde::json::Error> {
        let bytes = std::fs::read(path).map_err(aas_serde::json::Error::from)?;
        if is_event_payload(path) {
            aas_serde::json::from_slice_as::<aas_model::EventPayload>(&bytes, self.version)
                .map(Into::into)
        } else {
            aas_serde::json::from_slice_as::<aas_model::Environment>(&bytes, self.version)
                .map(Into::into)
        }
    }

    /// Reads an XML file of the corpus as the class its folder names; panics when its
    /// namespace is not the corpus's version (a corpus set up wrongly, not a reader error).
    pub fn read_xml(self, path: &Path) -> Result<aas_serde::Document, aas_serde::xml::Error> {
        let bytes = std::fs::read(path).map_err(aas_serde::xml::Error::from)?;
        let (document, version) = if is_event_payload(path) {
            aas_serde::xml::from_slice_versioned::<aas_model::EventPayload>(&bytes)
                .map(|(payload, version)| (payload.into(), version))?
        } else {
            aas_serde::xml::from_slice_versioned::<aas_model::Environment>(&bytes)
                .map(|(env, version)| (env.into(), version))?
        };
        assert_eq!(
            version,
            self.version,
            "{}: the namespace is not the corpus's version",
            path.display()
        );
        Ok(document)
    }

    /// The JSON twin of an XML file of the corpus: same relative path, class folder in
    /// PascalCase (the folder after `Expected`, or after the violation kind).
    pub fn json_twin(self, xml_path: &Path) -> PathBuf {
        let xml_root = self.testgen("Xml");
        let relative = xml_path.strip_prefix(&xml_root).unwrap_or_else(|_| {
            panic!("{} is not below {}", xml_path.display(), xml_root.display())
        });
        let components: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let class_folder = components
            .iter()
            .position(|c| c == "Expected")
            .map(|i| i + 1)
            .or_else(|| {
                components
                    .iter()
                    .position(|c| c == "Unexpected")
                    .map(|i| i + 3)
            });
        let mut out = self.testgen("Json");
        for (i, part) in components.iter().enumerate() {
            if Some(i) == class_folder {
                let mut chars = part.chars();
                let pascal: String = chars
                    .next()
                    .map(|f| f.to_ascii_uppercase())
                    .into_iter()
                    .chain(chars)
                    .collect();
                out.push(pascal);
            } else if i == components.len() - 1 {
                out.push(part.replace(".xml", ".json"));
            } else {
                out.push(part);
            }
        }
        out
    }

    /// The `aas_core_check.py` arguments that make it read JSON as this version.
    fn check_args(self) -> Vec<&'static str> {
        match self.version {
            Version::V3_0 => vec![],
            _ => vec!["--meta", "3.1"],
        }
    }
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

/// The aas-core3.0-testgen files of one category (`Expected`, `Unexpected/Invalid`,
/// `Unexpected/Unserializable`) of one format, from both `ContainedInEnvironment` and
/// `SelfContained`.
pub fn category(format: &str, category: &str) -> Vec<PathBuf> {
    Corpus::V3_0.category(format, category)
}

/// Reads an XML file of aas-core3.0-testgen as the class its folder names: an `EventPayload`
/// for `SelfContained/.../eventPayload`, else an `Environment`.
pub fn read_xml_corpus_file(path: &Path) -> Result<aas_serde::Document, aas_serde::xml::Error> {
    Corpus::V3_0.read_xml(path)
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

/// Reads a JSON file of aas-core3.0-testgen as V3.0 (JSON carries no version: the corpus
/// says which), as the class its folder names: an `EventPayload` for
/// `SelfContained/.../EventPayload`, else an `Environment`.
pub fn read_json_corpus_file(path: &Path) -> Result<aas_serde::Document, aas_serde::json::Error> {
    Corpus::V3_0.read_json(path)
}

/// The shared tools folder (`AAS_TOOLS_DIR`, else `<workspace>/../shared/tools`).
pub fn tools_dir() -> PathBuf {
    match std::env::var_os("AAS_TOOLS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools"),
    }
}

/// The shared documents folder (`AAS_DOCS_DIR`, else `<workspace>/../shared/docs`): design
/// notes and specifications, among them IDTA's Part 2 OpenAPI profile documents
/// ([`openapi_profiles_dir`]).
pub fn docs_dir() -> PathBuf {
    match std::env::var_os("AAS_DOCS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/docs"),
    }
}

/// IDTA's Part 2 OpenAPI documents (`spec/openapi` of [`docs_dir`]: `v3.0.4/` and `v3.1.2/`,
/// one YAML per service specification profile); panics when absent.
pub fn openapi_profiles_dir() -> PathBuf {
    let dir = docs_dir().join("spec/openapi");
    assert!(
        dir.join("v3.0.4").is_dir() && dir.join("v3.1.2").is_dir(),
        "IDTA's Part 2 OpenAPI documents not found at {} (set AAS_DOCS_DIR to the folder holding spec/openapi/v3.0.4 and v3.1.2)",
        dir.display()
    );
    dir
}

/// The python of the oracle venv (`oracles/setup.sh` of the tools folder, which creates it once).
pub fn oracle_python() -> PathBuf {
    python_of(
        &tools_dir().join("oracles/setup.sh"),
        "needs python3 and PyPI",
    )
}

/// The python of the project's test venv (created once by `scripts/test-venv.sh`): the
/// CloudEvents Python SDK, moto's S3 server, jsonpath-ng and BaSyx Python 2.2 (V3.1).
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

/// Fails unless aas-core3.0-python (`aas_core_check.py`) reads and verifies every file (JSON
/// as V3.0, XML by its namespace).
pub fn assert_aas_core_accepts(files: &[PathBuf]) {
    assert_aas_core_accepts_as(Corpus::V3_0, files);
}

/// Fails unless aas-core of the corpus's version reads and verifies every file (JSON as that
/// version, XML by its namespace).
pub fn assert_aas_core_accepts_as(corpus: Corpus, files: &[PathBuf]) {
    let not_ok: Vec<String> = oracle_verdicts("aas_core_check.py", &corpus.check_args(), files)
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

/// `aas_core_equiv.py --pairs`, comparing the models without empty lists as its README says
/// it does (its `drop_empty_lists` is not applied by the script itself): readers keep `[]`
/// (verification flags it) and our writers never write one, so what we write of an invalid
/// input that holds `[]` is the same model but for it. Arguments: the oracles folder, the
/// pairs file.
const EQUIV_WITHOUT_EMPTY_LISTS: &str = r#"
import sys
sys.path.insert(0, sys.argv[1])
import aas_core_equiv as equiv
load = equiv.load
equiv.load = lambda path: equiv.drop_empty_lists(load(path))
sys.exit(equiv._pairs(sys.argv[2]))
"#;

/// Checks with `aas_core_equiv.py --pairs` that each pair of files holds the same model (JSON
/// read as V3.0, empty lists ignored); returns the lines of pairs that are not `EQUAL` (empty
/// when all are).
pub fn oracle_unequal_pairs(pairs: &[(PathBuf, PathBuf)], scratch: &Path) -> Vec<String> {
    oracle_unequal_pairs_as(Corpus::V3_0, pairs, scratch)
}

/// [`oracle_unequal_pairs`] with JSON read as the corpus's version (`AAS_META`) by aas-core of
/// that version.
pub fn oracle_unequal_pairs_as(
    corpus: Corpus,
    pairs: &[(PathBuf, PathBuf)],
    scratch: &Path,
) -> Vec<String> {
    let list: String = pairs
        .iter()
        .map(|(a, b)| format!("{}\t{}\n", a.display(), b.display()))
        .collect();
    std::fs::write(scratch, list).unwrap_or_else(|e| panic!("write {}: {e}", scratch.display()));
    let output = std::process::Command::new(oracle_python())
        .arg("-c")
        .arg(EQUIV_WITHOUT_EMPTY_LISTS)
        .arg(tools_dir().join("oracles"))
        .arg(scratch)
        .env("AAS_META", corpus.version.as_str())
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

/// What [`write_each`] wrote: `(input, output)` pairs, and the inputs the writer refused,
/// with its error.
#[derive(Debug, Default)]
pub struct Written {
    pub pairs: Vec<(PathBuf, PathBuf)>,
    pub refused: Vec<(PathBuf, String)>,
}

impl Written {
    /// Fails unless every refused input is one the corpus calls invalid and the error says
    /// `why` (an invalid model may hold what a format cannot carry; a valid one never does).
    pub fn assert_only_invalid_refused(&self, corpus: Corpus, why: &str) {
        let invalid: std::collections::HashSet<PathBuf> = ["Json", "Xml"]
            .into_iter()
            .flat_map(|format| corpus.files(format, Verdict::Invalid))
            .collect();
        let wrong: Vec<String> = self
            .refused
            .iter()
            .filter(|(input, error)| !invalid.contains(input) || !error.contains(why))
            .map(|(input, error)| format!("{}: {error}", input.display()))
            .collect();
        assert!(
            wrong.is_empty(),
            "{} refused otherwise than for {why:?}:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }
}

/// Writes each input's model (read as the corpus's version, by the reader its extension names)
/// with `write` below `out_dir`, at the input's path relative to its format folder with the
/// extension `extension`. Panics when an input does not read: the inputs are files the corpus
/// says de-serialize.
pub fn write_each(
    corpus: Corpus,
    inputs: &[PathBuf],
    out_dir: &Path,
    extension: &str,
    write: impl Fn(&aas_serde::Document) -> Result<Vec<u8>, String>,
) -> Written {
    let mut written = Written::default();
    for input in inputs {
        {
            let is_xml = input.extension().is_some_and(|e| e == "xml");
            let (document, root) = if is_xml {
                (
                    corpus.read_xml(input).map_err(|e| e.to_string()),
                    corpus.testgen("Xml"),
                )
            } else {
                (
                    corpus.read_json(input).map_err(|e| e.to_string()),
                    corpus.testgen("Json"),
                )
            };
            let document = document.unwrap_or_else(|e| panic!("{}: {e}", input.display()));
            let relative = input
                .strip_prefix(&root)
                .unwrap_or_else(|_| panic!("{} is not in the corpus", input.display()));
            let out = out_dir.join(relative).with_extension(extension);
            let bytes = match write(&document) {
                Ok(bytes) => bytes,
                Err(error) => {
                    written.refused.push((input.clone(), error));
                    continue;
                }
            };
            if let Some(parent) = out.parent() {
                std::fs::create_dir_all(parent)
                    .unwrap_or_else(|e| panic!("create {}: {e}", parent.display()));
            }
            std::fs::write(&out, bytes).unwrap_or_else(|e| panic!("write {}: {e}", out.display()));
            written.pairs.push((input.clone(), out));
        }
    }
    written
}

/// Fails unless aas-core of the corpus's version finds each pair the same model and accepts
/// (reads and verifies) the outputs of the inputs it calls OK: what we write of a corpus file
/// is that file, for a peer.
pub fn assert_written_as_read(corpus: Corpus, pairs: &[(PathBuf, PathBuf)], scratch: &Path) {
    let unequal = oracle_unequal_pairs_as(corpus, pairs, scratch);
    assert!(
        unequal.is_empty(),
        "{} of {} differ:\n{}",
        unequal.len(),
        pairs.len(),
        unequal.join("\n")
    );
    let valid: std::collections::HashSet<PathBuf> = ["Json", "Xml"]
        .into_iter()
        .flat_map(|format| corpus.files(format, Verdict::Ok))
        .collect();
    let outputs_of_valid: Vec<PathBuf> = pairs
        .iter()
        .filter(|(input, _)| valid.contains(input))
        .map(|(_, output)| output.clone())
        .collect();
    assert!(
        !outputs_of_valid.is_empty(),
        "no valid input among the pairs"
    );
    assert_aas_core_accepts_as(corpus, &outputs_of_valid);
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
