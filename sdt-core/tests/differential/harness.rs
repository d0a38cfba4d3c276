//! The differential harness: paths and templates generated from a grammar of the jsonpath-ng
//! "ext" dialect, RFC 9535 and CPython's format strings, over documents shaped like IoT
//! platforms' answers, run through sdt-core and through Python (`oracle.py`, one process per
//! batch), every difference shrunk to a minimal reproduction.
//!
//! Shared by the example `differential` (open-ended batches, `scripts/sdt-differential.sh`)
//! and by the integration tests; a fixed seed gives the same cases on every machine.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use sdt_core::jsonpath::{Dialect, JsonPath, JsonPathError};
use sdt_core::python_format::{self, ErrorKind, PythonTemplate};
use serde_json::{Map, Value, json};

/// The oracle script, written next to the build's temporary files when the harness starts.
pub const ORACLE_SCRIPT: &str = include_str!("oracle.py");

/// The environment variable naming the test venv's python (`bash scripts/test-venv.sh`).
pub const PYTHON_VAR: &str = "SDT_ORACLE_PYTHON";

/// The jsonpath-ng the dialect follows (pinned in scripts/test-venv.sh).
pub const JSONPATH_NG: &str = "1.16.0";

/// The CPython whose `str.format` the templates follow.
pub const CPYTHON: &str = "3.11.";

// --- random numbers ---------------------------------------------------------------------------

/// splitmix64: small, seedable, the same sequence on every platform (no dependency needed).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x5851_f42d_4c95_7f2d)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// True with probability `percent` / 100.
    pub fn percent(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

// --- cases ------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub enum Case {
    Path {
        path: String,
        document: Value,
    },
    Format {
        template: String,
        variables: Map<String, Value>,
    },
}

impl Case {
    fn to_line(&self) -> String {
        match self {
            Case::Path { path, document } => json!({"p": path, "d": document}).to_string(),
            Case::Format {
                template,
                variables,
            } => json!({"t": template, "v": variables}).to_string(),
        }
    }
}

/// A generated case and the construct kinds it exercises.
#[derive(Debug, Clone)]
pub struct Generated {
    pub case: Case,
    pub kinds: Vec<&'static str>,
}

/// What one side answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Values(Vec<Value>),
    Text(String),
    /// The class of the error (Python's exception class; ours mapped to it for templates,
    /// `error` for paths: jsonpath-ng's exception classes have no counterpart worth comparing).
    Error(String),
    /// The answer has no JSON form (NaN, a Python object): not compared.
    Skip,
    /// Ours only: a path jsonpath-ng rejects and RFC 9535 reads (equal when Python fails).
    Rfc9535Only,
}

pub fn ours(case: &Case) -> Outcome {
    match case {
        Case::Path { path, document } => match JsonPath::parse(path) {
            // Syntax only RFC 9535 has stays accepted: not a difference where jsonpath-ng fails.
            Ok(parsed) if parsed.dialect() == Dialect::Rfc9535 => Outcome::Rfc9535Only,
            Ok(parsed) => match parsed.query(document) {
                Ok(values) => Outcome::Values(values),
                Err(JsonPathError::Limit(_)) => Outcome::Error(LIMIT.into()),
                Err(e) if e.reason().ends_with(" is not supported") => {
                    Outcome::Error(UNSUPPORTED.into())
                }
                Err(_) => Outcome::Error("error".into()),
            },
            Err(JsonPathError::Limit(_)) => Outcome::Error(LIMIT.into()),
            Err(_) => Outcome::Error("error".into()),
        },
        Case::Format {
            template,
            variables,
        } => {
            // The engine parses once (rejecting what always fails) and renders per tick;
            // `format` is `str.format` in one call. Both must agree, up to the error's class
            // (parse reports the syntax error, Python may first fail on an earlier field).
            let direct = python_format::format(template, variables);
            let staged = PythonTemplate::parse(template).and_then(|t| t.render(variables));
            match (&direct, &staged) {
                (Ok(a), Ok(b)) if a == b => {}
                (Err(_), Err(_)) => {}
                _ => return Outcome::Error("parse+render differ from format".into()),
            }
            match direct {
                Ok(text) => Outcome::Text(text),
                Err(e) if matches!(e.kind, ErrorKind::LimitExceeded(_)) => {
                    Outcome::Error(LIMIT.into())
                }
                Err(e) => Outcome::Error(e.kind.to_string()),
            }
        }
    }
}

fn theirs(case: &Case, answer: &Value) -> Outcome {
    if let Some(ok) = answer.get("ok") {
        return match (case, ok) {
            (Case::Path { .. }, Value::Array(values)) => Outcome::Values(values.clone()),
            (Case::Format { .. }, Value::String(text)) => Outcome::Text(text.clone()),
            _ => Outcome::Skip,
        };
    }
    match (case, answer.get("err").and_then(Value::as_str)) {
        (Case::Path { .. }, Some("RecursionError")) => Outcome::Error("RecursionError".into()),
        (Case::Path { .. }, Some(_)) => Outcome::Error("error".into()),
        (Case::Format { .. }, Some(class)) => Outcome::Error(class.to_owned()),
        _ => Outcome::Skip,
    }
}

/// Our error when a documented limit stopped us.
const LIMIT: &str = "limit";

/// Our error for a construct the crate docs list as not supported.
const UNSUPPORTED: &str = "unsupported";

/// Differences that are deliberate (listed in the crate docs): we stop at a documented limit
/// where Python goes on, we go on where Python's recursion limit stops it, or we refuse a
/// construct the docs list as not supported.
pub const DELIBERATE: [&str; 3] = [
    "we stop at a documented limit",
    "Python stops at its recursion limit",
    "we refuse a construct documented as unsupported",
];

/// How the two sides differ: the first part of a difference's kind.
pub fn outcome_class(ours: &Outcome, theirs: &Outcome) -> Option<&'static str> {
    match (ours, theirs) {
        (_, Outcome::Skip) => None,
        (a, b) if a == b => None,
        (Outcome::Error(ours), Outcome::Error(_)) if ours == LIMIT => None,
        (Outcome::Error(ours), _) if ours == LIMIT => Some(DELIBERATE[0]),
        (Outcome::Error(ours), Outcome::Error(_)) if ours == UNSUPPORTED => None,
        (Outcome::Error(ours), _) if ours == UNSUPPORTED => Some(DELIBERATE[2]),
        (Outcome::Error(_), Outcome::Error(theirs)) if theirs == "RecursionError" => None,
        (_, Outcome::Error(theirs)) if theirs == "RecursionError" => Some(DELIBERATE[1]),
        (Outcome::Rfc9535Only, Outcome::Error(_)) => None,
        (Outcome::Rfc9535Only, _) => Some("RFC 9535 reading, Python answers"),
        (Outcome::Error(_), Outcome::Error(_)) => Some("different error class"),
        (Outcome::Error(_), _) => Some("we fail, Python answers"),
        (_, Outcome::Error(_)) => Some("we answer, Python fails"),
        _ => Some("different answers"),
    }
}

// --- the oracle -------------------------------------------------------------------------------

/// One Python process answering batches of cases over pipes.
pub struct Oracle {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Oracle {
    /// Starts `python` on the oracle script. The error says what to set when Python is missing.
    pub fn start(python: &str) -> Result<Self, String> {
        let script = std::env::temp_dir().join(format!("sdt-oracle-{}.py", std::process::id()));
        std::fs::write(&script, ORACLE_SCRIPT)
            .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
        let mut child = Command::new(python)
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start the oracle python {python:?}: {e} (set {PYTHON_VAR} to the \
                     python printed by `bash scripts/test-venv.sh`, which has jsonpath-ng 1.16.0)"
                )
            })?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut hello = String::new();
        stdout
            .read_line(&mut hello)
            .map_err(|e| format!("reading the oracle: {e}"))?;
        let hello: Value = serde_json::from_str(&hello).map_err(|e| {
            format!("the oracle {python:?} did not start (is jsonpath-ng installed?): {e}")
        })?;
        let (ng, cpython) = (hello["jsonpath_ng"].as_str(), hello["python"].as_str());
        if ng != Some(JSONPATH_NG) || !cpython.is_some_and(|v| v.starts_with(CPYTHON)) {
            return Err(format!(
                "the oracle {python:?} runs jsonpath-ng {ng:?} on Python {cpython:?}; the \
                 harness compares with jsonpath-ng {JSONPATH_NG} on CPython {CPYTHON} (the venv \
                 of scripts/test-venv.sh)"
            ));
        }
        Ok(Self {
            child,
            stdin,
            stdout,
        })
    }

    /// The python to compare with: [`PYTHON_VAR`] (scripts/test-all.sh sets it), else the
    /// venv scripts/test-venv.sh creates, else an error saying how to get one.
    pub fn python() -> Result<String, String> {
        if let Ok(python) = std::env::var(PYTHON_VAR) {
            return Ok(python);
        }
        let cache = std::env::var_os("AAS_RS_CACHE")
            .map(std::path::PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cache/aas-rs"))
            });
        if let Some(python) = cache
            .map(|c| c.join("venv-tests/bin/python"))
            .filter(|p| p.exists())
        {
            return Ok(python.to_string_lossy().into_owned());
        }
        Err(format!(
            "no Python to compare with: {PYTHON_VAR} is not set and the test venv does not exist; \
             run `bash scripts/test-venv.sh` (or set {PYTHON_VAR} to a python with jsonpath-ng \
             {JSONPATH_NG})"
        ))
    }

    /// Python's outcome for each case, in order.
    pub fn run(&mut self, cases: &[&Case]) -> Result<Vec<Outcome>, String> {
        let lines: Vec<String> = cases.iter().map(|c| c.to_line()).collect();
        let stdin = &mut self.stdin;
        let stdout = &mut self.stdout;
        std::thread::scope(|scope| {
            // Written from a second thread: a batch is larger than the pipes' buffers.
            let writer = scope.spawn(move || -> std::io::Result<()> {
                for line in &lines {
                    stdin.write_all(line.as_bytes())?;
                    stdin.write_all(b"\n")?;
                }
                stdin.flush()
            });
            let mut outcomes = Vec::with_capacity(cases.len());
            let mut line = String::new();
            for case in cases {
                line.clear();
                let read = stdout
                    .read_line(&mut line)
                    .map_err(|e| format!("reading the oracle: {e}"))?;
                if read == 0 {
                    return Err("the oracle stopped (see its stderr)".to_owned());
                }
                let answer: Value = serde_json::from_str(&line)
                    .map_err(|e| format!("the oracle answered {line:?}: {e}"))?;
                outcomes.push(theirs(case, &answer));
            }
            writer
                .join()
                .map_err(|_| "the writer thread panicked".to_owned())?
                .map_err(|e| format!("writing to the oracle: {e}"))?;
            Ok(outcomes)
        })
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// --- documents --------------------------------------------------------------------------------

const PLAIN: &[&str] = &[
    "value", "addr", "position", "state", "on", "bri", "sat", "xy", "name", "type", "temp",
    "readings", "ts", "id", "data", "lights", "unit", "battery", "a", "b",
];
const DIGIT_NAMES: &[&str] = &["1", "2", "3", "10", "0", "007"];
const DASH_NAMES: &[&str] = &["device-id", "x-y", "last-seen", "a-1"];
const AT_NAMES: &[&str] = &["@id", "@type", "a@b"];
const UNICODE_NAMES: &[&str] = &["température", "温度", "Größe", "ключ", "naïve"];
const ODD_NAMES: &[&str] = &[
    "with space",
    "tab\there",
    "quote'in",
    "dq\"in",
    "dot.in",
    "br[a]",
    "",
    "true",
    "null",
    "where",
    "len",
];
const WORDS: &[&str] = &[
    "3ef8",
    "Hue 1\n",
    "ab\n\n",
    "x_y ²",
    "e\u{301}",
    "\u{212a}",
    "ffff",
    "on",
    "off",
    "Hue 1",
    "température",
    "",
    "a",
    "A",
    "1",
    "true",
    "null",
];

fn any_name(rng: &mut Rng) -> &'static str {
    match rng.below(10) {
        0..=4 => rng.pick(PLAIN),
        5 => rng.pick(DIGIT_NAMES),
        6 => rng.pick(DASH_NAMES),
        7 => rng.pick(AT_NAMES),
        8 => rng.pick(UNICODE_NAMES),
        _ => rng.pick(ODD_NAMES),
    }
}

const EDGE_INTS: &[i64] = &[
    0,
    1,
    -1,
    2,
    3,
    144,
    254,
    -42,
    i64::MAX,
    i64::MIN,
    9_007_199_254_740_993,
    1 << 53,
];
const EDGE_FLOATS: &[f64] = &[
    0.0,
    -0.0,
    1.5,
    0.3,
    2.0,
    -2.5,
    1e16,
    1.5e-7,
    f64::MAX,
    5e-324,
    9.223372036854776e18,
    0.1,
];

fn leaf(rng: &mut Rng) -> Value {
    match rng.below(9) {
        0 | 1 => json!(rng.pick(EDGE_INTS)),
        2 => json!(rng.below(300) as i64 - 20),
        3 | 4 => json!(rng.pick(EDGE_FLOATS)),
        5 | 6 => json!(rng.pick(WORDS)),
        7 => json!(rng.percent(50)),
        _ => Value::Null,
    }
}

fn light(rng: &mut Rng) -> Value {
    json!({
        "state": {"on": rng.percent(50), "bri": rng.below(255), "xy": [0.3127, leaf(rng)],
                  "reachable": true},
        "name": format!("Hue {}", rng.below(5)),
        "type": "Extended color light",
    })
}

fn reading(rng: &mut Rng) -> Value {
    json!({
        "value": {"addr": rng.pick(&["3ef8", "ffff", "aaaa"]), "position": [leaf(rng), 2, 3.0]},
        "ts": rng.below(2_000_000_000),
    })
}

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    if depth == 0 || rng.percent(35) {
        return leaf(rng);
    }
    if rng.percent(45) {
        let n = rng.below(4);
        Value::Array((0..n).map(|_| random_value(rng, depth - 1)).collect())
    } else {
        let n = 1 + rng.below(4);
        let mut map = Map::new();
        for _ in 0..n {
            map.insert(any_name(rng).to_owned(), random_value(rng, depth - 1));
        }
        Value::Object(map)
    }
}

/// A document in one of the shapes IoT platforms answer.
pub fn document(rng: &mut Rng) -> Value {
    match rng.below(5) {
        // Philips Hue: lights keyed by number.
        0 => {
            let mut map = Map::new();
            for key in ["1", "2", "3"].iter().take(1 + rng.below(3)) {
                map.insert((*key).to_owned(), light(rng));
            }
            Value::Object(map)
        }
        // A stream of readings.
        1 => Value::Array((0..1 + rng.below(3)).map(|_| reading(rng)).collect()),
        2 => json!({"lights": {"1": light(rng)}, "readings": [reading(rng), reading(rng)],
                    "température": leaf(rng), "device-id": "a-1", "@id": leaf(rng)}),
        _ => {
            let mut map = Map::new();
            for _ in 0..2 + rng.below(4) {
                map.insert(any_name(rng).to_owned(), random_value(rng, 3));
            }
            Value::Object(map)
        }
    }
}

// --- paths ------------------------------------------------------------------------------------

struct Builder<'r> {
    rng: &'r mut Rng,
    text: String,
    kinds: Vec<&'static str>,
    /// Where the path written so far leads in the document (`Null` once it is lost): names,
    /// indices and filter operands are taken from it often, so that paths find something.
    cursor: Value,
    /// Inside a filter: the value of a member of a candidate, a literal that may match.
    member_value: Option<Value>,
    /// Steps as descriptions write them (names, indices, filters along the document), no
    /// extensions, no breakage: these paths mostly find values.
    realistic: bool,
}

/// A random child of a value (`Null` if it has none).
fn some_child(rng: &mut Rng, value: &Value) -> Value {
    match value {
        Value::Array(items) if !items.is_empty() => items[rng.below(items.len())].clone(),
        Value::Object(map) if !map.is_empty() => map
            .values()
            .nth(rng.below(map.len()))
            .cloned()
            .unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// A random member name found anywhere under a value.
fn some_key(rng: &mut Rng, value: &Value) -> Option<(String, Value)> {
    let mut found = Vec::new();
    let mut pending = vec![value];
    while let Some(v) = pending.pop() {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    found.push((k, child));
                    pending.push(child);
                }
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    if found.is_empty() {
        return None;
    }
    let (k, v) = found[rng.below(found.len())];
    Some((k.clone(), v.clone()))
}

fn plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Builder<'_> {
    fn kind(&mut self, kind: &'static str) {
        if !self.kinds.contains(&kind) {
            self.kinds.push(kind);
        }
    }
    /// Whitespace between tokens, sometimes.
    fn gap(&mut self) {
        if self.rng.percent(6) {
            self.kind("whitespace");
            self.text
                .push_str(if self.rng.percent(80) { " " } else { "\t" });
        }
    }
    fn push(&mut self, token: &str) {
        self.text.push_str(token);
    }

    fn quoted(&mut self, name: &str) -> String {
        let quote = if self.rng.percent(60) { '\'' } else { '"' };
        let mut out = String::from(quote);
        for c in name.chars() {
            if c == quote || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push(quote);
        if name.contains('\t') {
            self.kind("name: quoted with tab");
        }
        out
    }

    /// A member name as a dotted step (`.name`, `.'name'`, `."name"`): one of the cursor's
    /// members more often than not.
    fn dotted_name(&mut self) {
        let existing: Vec<String> = match &self.cursor {
            Value::Object(map) => map.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let follow = if self.realistic { 92 } else { 65 };
        if !existing.is_empty() && self.rng.percent(follow) {
            let name = existing[self.rng.below(existing.len())].clone();
            self.cursor = self.cursor[name.as_str()].clone();
            self.name_as_written(&name);
            return;
        }
        self.cursor = Value::Null;
        let (name, kind) = match self.rng.below(12) {
            0..=5 => (self.rng.pick(PLAIN), None),
            6 => (self.rng.pick(DIGIT_NAMES), Some("name: digits")),
            7 => (self.rng.pick(DASH_NAMES), Some("name: with -")),
            8 => (self.rng.pick(AT_NAMES), Some("name: with @")),
            9 => (self.rng.pick(UNICODE_NAMES), Some("name: non-ASCII")),
            _ => (self.rng.pick(ODD_NAMES), Some("name: quoted")),
        };
        if let Some(kind) = kind {
            self.kind(kind);
        }
        if kind == Some("name: quoted") || self.rng.percent(12) {
            self.kind("name: quoted");
            let q = self.quoted(name);
            self.push(&q);
        } else {
            self.push(name);
        }
    }

    /// A name the document has, written as its shape allows (quoted when it must be, and
    /// sometimes when it need not be; now and then unquoted when it should not be).
    fn name_as_written(&mut self, name: &str) {
        if name.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty() {
            self.kind("name: digits");
        } else if name.contains('-') {
            self.kind("name: with -");
        } else if name.contains('@') {
            self.kind("name: with @");
        } else if !name.is_ascii() {
            self.kind("name: non-ASCII");
        }
        let unquoted_ok = plain_identifier(name)
            || name.bytes().all(|b| b.is_ascii_digit())
            || name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-@".contains(c));
        if (!unquoted_ok && self.rng.percent(90)) || self.rng.percent(12) {
            self.kind("name: quoted");
            let q = self.quoted(name);
            self.push(&q);
        } else {
            self.push(name);
        }
    }

    fn bracket_names(&mut self) {
        self.push("[");
        let mut next = Value::Null;
        let n = if self.rng.percent(25) { 2 } else { 1 };
        for i in 0..n {
            if i > 0 {
                self.kind("field list");
                self.push(",");
                self.gap();
            }
            let existing: Vec<String> = match &self.cursor {
                Value::Object(map) => map.keys().cloned().collect(),
                _ => Vec::new(),
            };
            let name = if !existing.is_empty() && self.rng.percent(70) {
                existing[self.rng.below(existing.len())].clone()
            } else {
                any_name(self.rng).to_owned()
            };
            if !name.is_ascii() {
                self.kind("name: non-ASCII");
            }
            let q = self.quoted(&name);
            self.push(&q);
            next = self.cursor.get(&name).cloned().unwrap_or(Value::Null);
        }
        self.push("]");
        self.cursor = next;
    }

    fn int(&mut self, small: bool) -> String {
        if small || self.rng.percent(85) {
            (self.rng.below(7) as i64 - 3).to_string()
        } else {
            self.kind("number: i64 edge");
            self.rng.pick(EDGE_INTS).to_string()
        }
    }

    fn bracket_index(&mut self) {
        self.push("[");
        let items = self.cursor.as_array().cloned().unwrap_or_default();
        let child = some_child(self.rng, &self.cursor);
        self.cursor = child;
        match self.rng.below(10) {
            0..=4 => {
                let i = if !items.is_empty() && self.rng.percent(60) {
                    let i = self.rng.below(items.len());
                    self.cursor = items[i].clone();
                    i.to_string()
                } else {
                    self.int(false)
                };
                self.push(&i);
                if self.rng.percent(15) {
                    self.kind("index list");
                    self.push(",");
                    let j = self.int(true);
                    self.push(&j);
                }
            }
            5 => self.push("*"),
            _ => {
                self.kind("slice");
                let (a, b) = (self.int(true), self.int(true));
                if self.rng.percent(70) {
                    self.push(&a);
                }
                self.push(":");
                if self.rng.percent(70) {
                    self.push(&b);
                }
                if self.rng.percent(25) {
                    self.kind("rfc: slice step");
                    self.push(":");
                    let c = self.int(true);
                    self.push(&c);
                }
            }
        }
        self.push("]");
    }

    fn literal(&mut self) {
        if let Some(value) = self.member_value.clone()
            && self.rng.percent(45)
        {
            match value {
                Value::String(text) => {
                    if plain_identifier(&text) && self.rng.percent(40) {
                        self.kind("filter: bare word");
                        self.push(&text);
                    } else {
                        let q = self.quoted(&text);
                        self.push(&q);
                    }
                    return;
                }
                Value::Number(n) => {
                    if n.is_f64() {
                        self.kind("number: float");
                        if n.as_f64()
                            .is_some_and(|f| f.abs() >= 1e15 || (f != 0.0 && f.abs() < 1e-6))
                        {
                            self.kind("number: f64 edge");
                        }
                    }
                    if n.as_i64().is_some_and(|i| i.unsigned_abs() > 1 << 53) {
                        self.kind("number: i64 edge");
                    }
                    self.push(&n.to_string());
                    return;
                }
                Value::Bool(b) => {
                    self.push(if b { "true" } else { "false" });
                    return;
                }
                Value::Null => {
                    self.push("null");
                    return;
                }
                _ => {}
            }
        }
        match self.rng.below(12) {
            0 | 1 => {
                let i = self.int(false);
                self.push(&i);
            }
            2 | 3 => {
                self.kind("number: float");
                let f = self.rng.pick(EDGE_FLOATS);
                let text = match self.rng.below(5) {
                    0 => format!("{f:?}"),
                    1 => "0.0".to_owned(),
                    // The full decimal form: jsonpath-ng lexes it as one FLOAT.
                    2 => format!("{f:.1}"),
                    3 => {
                        let edge =
                            self.rng
                                .pick(&[1e16, 1.5e-7, f64::MAX, 5e-324, 9.223372036854776e18]);
                        if self.rng.percent(50) {
                            format!("{edge:?}")
                        } else {
                            format!("{edge:.1}")
                        }
                    }
                    _ => format!("{}.5", self.rng.below(300)),
                };
                if text.contains('e') || text.len() > 16 {
                    self.kind("number: f64 edge");
                }
                self.push(&text);
            }
            4 | 5 => {
                let word = self.rng.pick(WORDS);
                let q = self.quoted(word);
                self.push(&q);
            }
            6 | 7 => {
                self.kind("filter: bare word");
                let word = self
                    .rng
                    .pick(&["ffff", "on", "off", "aaaa", "Hue", "abc", "x-y"]);
                self.push(word);
            }
            8 => {
                let word = self.rng.pick(&["true", "false", "null"]);
                self.push(word);
            }
            9 | 10 => {
                self.kind("filter: two fields");
                self.query_operand();
            }
            _ => {
                self.kind("filter: $ query");
                self.push("$.");
                let candidate = std::mem::replace(&mut self.cursor, Value::Null);
                self.dotted_name();
                self.cursor = candidate;
            }
        }
    }

    /// The left side of a comparison, or an existence test: relative to the filter's
    /// candidate, whose member's value then serves as a literal that may match.
    fn query_operand(&mut self) {
        let candidate = self.cursor.clone();
        self.query_operand_text();
        self.member_value = match &self.cursor {
            Value::Null if !matches!(candidate, Value::Null) => None,
            value => Some(value.clone()),
        };
        self.cursor = candidate;
    }

    fn query_operand_text(&mut self) {
        match self.rng.below(10) {
            0..=3 => {
                self.kind("filter: bare path");
                self.dotted_name();
                if self.rng.percent(40) {
                    self.push(".");
                    self.dotted_name();
                }
            }
            4..=6 => {
                self.push("@.");
                self.dotted_name();
                if self.rng.percent(30) {
                    self.bracket_index();
                }
            }
            7 => self.push("@"),
            8 => {
                self.kind("ext: `this`");
                self.push("`this`");
                if self.rng.percent(50) {
                    self.push(".");
                    self.dotted_name();
                }
            }
            _ => {
                self.kind("ext: `len`");
                self.push("@.");
                self.dotted_name();
                self.push(".`len`");
            }
        }
    }

    fn comparison(&mut self) {
        match self.rng.below(14) {
            0 | 1 => {
                self.kind("filter: existence");
                self.query_operand();
            }
            2 => {
                self.kind("filter: ! negation");
                self.push("!");
                self.gap();
                self.query_operand();
            }
            3 => {
                self.kind("rfc: function");
                let f = self.rng.below(5);
                match f {
                    0 => self.push("length(@.name) > 1"),
                    1 => self.push("count(@.*) == 2"),
                    2 => self.push("match(@.addr, '3e.*')"),
                    3 => self.push("search(@.name, 'u')"),
                    _ => self.push("value(@..on) == true"),
                }
            }
            4 | 12 | 13 => {
                self.kind("filter: =~");
                self.query_operand();
                self.gap();
                self.push("=~");
                self.gap();
                let re = if self.rng.percent(30) {
                    self.rng
                        .pick(&["^3", "f+", "[0-9]", "Hue.*", "x|y", "^$"])
                        .to_owned()
                } else {
                    self.python_pattern()
                };
                let q = self.quoted(&re);
                self.push(&q);
            }
            _ => {
                self.query_operand();
                self.gap();
                let op = self
                    .rng
                    .pick(&["=", "==", "==", "!=", "<", "<=", ">", ">="]);
                if op == "=" {
                    self.kind("filter: single =");
                }
                self.push(op);
                self.gap();
                self.literal();
            }
        }
    }

    /// A Python `re` pattern built from pieces that reach every branch of `re._parser`:
    /// flags, classes (ranges, `[`, `&&`, `--`, escapes), every escape letter, octal and
    /// group numbers, repeats of every form (and malformed ones), groups of every extension,
    /// back-references, conditionals, look-around, verbose whitespace and comments.
    fn python_pattern(&mut self) -> String {
        let mut out = String::new();
        if self.rng.percent(25) {
            self.kind("re: flags");
            out.push_str(self.rng.pick(&[
                "(?i)", "(?m)", "(?s)", "(?x)", "(?a)", "(?ai)", "(?u)", "(?t)", "(?L)", "(?au)",
                "(?im)", "(?x) ", "(?-i)", "(?i", "(?q)",
            ]));
        }
        for _ in 0..1 + self.rng.below(4) {
            self.pattern_piece(2, &mut out);
        }
        out
    }

    fn pattern_piece(&mut self, depth: usize, out: &mut String) {
        match self.rng.below(16) {
            0 | 1 => out.push_str(self.rng.pick(&[
                "a", "e", "H", "u", "3", "f", "ue", " ", "_", "é", "ü", "Hue", "3e", "ff", "on",
                "A", "k", "K", "\u{212a}", "²", "温", "-", "@", "\n", "\\.",
            ])),
            2 | 3 => {
                self.kind("re: escape");
                out.push_str(self.rng.pick(&[
                    "\\d",
                    "\\D",
                    "\\s",
                    "\\S",
                    "\\w",
                    "\\W",
                    "\\b",
                    "\\B",
                    "\\A",
                    "\\Z",
                    "\\z",
                    "\\n",
                    "\\t",
                    "\\x41",
                    "\\x4",
                    "\\u00e9",
                    "\\U0001F600",
                    "\\U00110000",
                    "\\0",
                    "\\01",
                    "\\101",
                    "\\400",
                    "\\8",
                    "\\.",
                    "\\-",
                    "\\é",
                    "\\p{L}",
                    "\\h",
                    "\\<",
                    "\\a",
                    "\\e",
                    "\\f",
                    "\\v",
                    "\\ ",
                    "\\#",
                    "\\ud800",
                    "\\x1c",
                    "\\",
                    "\\G",
                    "\\Q",
                ]));
            }
            4 | 5 => {
                self.kind("re: class");
                out.push('[');
                if self.rng.percent(25) {
                    out.push('^');
                }
                for _ in 0..1 + self.rng.below(3) {
                    out.push_str(self.rng.pick(&[
                        "a-z",
                        "0-9",
                        "A-F",
                        "r--",
                        "-",
                        "]",
                        "[",
                        "&&",
                        "--",
                        "~~",
                        "||",
                        "\\d",
                        "\\w-",
                        "\\]",
                        "^",
                        "a",
                        "\\b",
                        "\\s",
                        "z-a",
                        "é-ü",
                        "\\x41-\\x5a",
                        "\\n",
                        "\\d-z",
                        "a-\\d",
                        "\\W",
                        "\\S",
                        "\\D",
                        "\\A",
                        "\\8",
                        "\\07",
                        "\\777",
                        " ",
                        "[:alpha:]",
                        "\\ud800-\\ue000",
                        "3",
                        "e",
                        "f",
                    ]));
                }
                if self.rng.percent(92) {
                    out.push(']');
                }
            }
            6 => out.push('.'),
            7 => out.push_str(self.rng.pick(&["^", "$", "$", "\\Z"])),
            8 | 9 => {
                self.kind("re: repeat");
                out.push_str(self.rng.pick(&[
                    "*",
                    "+",
                    "?",
                    "*?",
                    "+?",
                    "??",
                    "*+",
                    "++",
                    "?+",
                    "{2}",
                    "{1,}",
                    "{,2}",
                    "{1,2}",
                    "{2,1}",
                    "{",
                    "{}",
                    "{x}",
                    "{1,2",
                    "**",
                    "{4294967295}",
                    "{0}",
                    "{,}",
                    "{1,2}?",
                    "{1,2}+",
                    "+*",
                ]));
            }
            10 | 11 if depth > 0 => {
                self.kind("re: group, look-around, back-reference");
                let open = self.rng.pick(&[
                    "(", "(", "(?:", "(?P<g>", "(?P<g>", "(?i:", "(?-i:", "(?s:", "(?m:", "(?x:",
                    "(?a:", "(?>", "(?=", "(?!", "(?<=", "(?<!", "(?#c", "(?(1)", "(?(g)", "(?(0)",
                    "(?P<1>", "(?<g>", "(?", "(?P", "(?L:", "(?i-i:", "(?u:", "(?(+1)",
                ]);
                out.push_str(open);
                for _ in 0..self.rng.below(3) {
                    self.pattern_piece(depth - 1, out);
                }
                if self.rng.percent(30) {
                    out.push('|');
                    self.pattern_piece(depth - 1, out);
                }
                if self.rng.percent(93) {
                    out.push(')');
                }
            }
            12 => {
                self.kind("re: group, look-around, back-reference");
                out.push_str(self.rng.pick(&["\\1", "\\1", "(?P=g)", "\\2", "\\10"]));
            }
            13 => out.push('|'),
            14 => out.push_str(self.rng.pick(&[" ", " # c\n", "\t", "{", "}", ")", "#"])),
            _ => {
                // A literal from the documents' words, so that patterns find something.
                let word = self.rng.pick(WORDS);
                for c in word.chars().take(3) {
                    out.push(c);
                }
            }
        }
    }

    fn filter_expression(&mut self, depth: usize) {
        if depth > 0 && self.rng.percent(15) {
            self.kind("filter: parentheses");
            self.push("(");
            self.filter_expression(depth - 1);
            self.push(")");
        } else {
            self.comparison();
        }
        if depth > 0 && self.rng.percent(25) {
            self.gap();
            let op = self.rng.pick(&["&", "|", "&&", "||"]);
            self.kind(match op {
                "&" => "filter: & and",
                "|" => "filter: | or",
                _ => "rfc: && ||",
            });
            self.push(op);
            self.gap();
            self.filter_expression(depth - 1);
        }
    }

    fn filter(&mut self) {
        // The candidates are the cursor's children: one stands for all of them.
        let candidate = some_child(self.rng, &self.cursor);
        self.cursor = candidate.clone();
        self.member_value = None;
        self.push("[?");
        self.gap();
        if self.rng.percent(25) {
            self.push("(");
            self.filter_expression(2);
            self.push(")");
        } else {
            self.filter_expression(2);
        }
        self.gap();
        self.push("]");
        self.cursor = candidate;
        self.member_value = None;
    }

    fn step(&mut self) {
        if !self.realistic && self.rng.percent(5) {
            self.rarer_step();
            return;
        }
        let choice = if self.realistic {
            self.rng.pick(&[0, 0, 0, 0, 0, 7, 9, 9, 14, 14, 12])
        } else {
            self.rng.below(20)
        };
        match choice {
            0..=6 => {
                self.push(".");
                self.gap();
                self.dotted_name();
                if self.rng.percent(8) {
                    self.kind("field list");
                    self.push(",");
                    self.dotted_name();
                }
            }
            7 | 8 => self.bracket_names(),
            9..=11 => self.bracket_index(),
            12 => {
                self.push(".*");
                self.cursor = some_child(self.rng, &self.cursor);
            }
            13 => {
                self.kind("descendants");
                self.push("..");
                if self.rng.percent(30) {
                    self.push("*");
                    self.cursor = some_child(self.rng, &self.cursor);
                } else if let Some((name, value)) = some_key(self.rng, &self.cursor)
                    && self.rng.percent(65)
                {
                    self.name_as_written(&name);
                    self.cursor = value;
                } else {
                    self.dotted_name();
                }
            }
            14..=16 => {
                self.kind("filter");
                if self.rng.percent(10) {
                    self.kind("descendants");
                    self.push("..");
                }
                self.filter();
            }
            17 => {
                self.kind("ext: `this`");
                self.push(".`this`");
            }
            _ => {
                let (ext, kind) = self.rng.pick(&[
                    ("`len`", "ext: `len`"),
                    ("`len`", "ext: `len`"),
                    ("`keys`", "ext: `keys` `sorted` `str()`"),
                    ("`sorted`", "ext: `keys` `sorted` `str()`"),
                    ("`str()`", "ext: `keys` `sorted` `str()`"),
                ]);
                self.kind(kind);
                self.push(".");
                self.push(ext);
                self.cursor = Value::Null;
            }
        }
    }

    /// jsonpath-ng constructs outside the list: `where`, `|` between paths,
    /// arithmetic, sort keys, `` `parent` ``, parentheses.
    fn rarer_step(&mut self) {
        self.kind("ext: where | arithmetic sort parent");
        self.cursor = Value::Null;
        match self.rng.below(8) {
            0 => {
                let word = if self.rng.percent(50) {
                    " where "
                } else {
                    " wherenot "
                };
                self.push(word);
                self.dotted_name();
            }
            1 => {
                self.push(" | $.");
                self.dotted_name();
            }
            2 => self.push(".`parent`"),
            3 => {
                self.push("[");
                for i in 0..1 + self.rng.below(2) {
                    if i > 0 {
                        self.push(",");
                    }
                    let direction = self.rng.pick(&["/", "\\"]);
                    self.push(direction);
                    self.dotted_name();
                }
                self.push("]");
            }
            4 => {
                let op = self.rng.pick(&[" + ", " - ", " * ", " / ", "+", "*"]);
                self.push(op);
                match self.rng.below(3) {
                    0 => {
                        let i = self.int(true);
                        self.push(&i);
                    }
                    1 => self.push("$.a"),
                    _ => self.dotted_name(),
                }
            }
            5 => {
                self.push(".(");
                self.dotted_name();
                self.push(")");
            }
            6 => self.push("..[0]"),
            _ => {
                self.push("[?@.");
                self.dotted_name();
                self.push(" == $.");
                self.dotted_name();
                self.push("]");
            }
        }
    }
}

const MALFORMED: &[&str] = &[
    "", " ", "$.[0]", "$.a b", "$..", "$[", "$.a.", "$[?]", "$[?(@.a]", "$.a[0", "$['a]", "$.",
    "$a", "$$", "$.a..", "[?a=1]", "$[0]]", "$.`nope`", "$.a=1", "@@", "$[:::]", "$.a,",
];

/// A path of the dialect (or RFC 9535), sometimes broken on purpose.
pub fn path(rng: &mut Rng, document: &Value) -> (String, Vec<&'static str>) {
    let mut b = Builder {
        rng,
        text: String::new(),
        kinds: Vec::new(),
        cursor: document.clone(),
        member_value: None,
        realistic: false,
    };
    b.realistic = b.rng.percent(40);
    if b.realistic {
        b.kind("realistic");
        b.push("$");
        for _ in 0..1 + b.rng.below(4) {
            b.step();
        }
        return (b.text, b.kinds);
    }
    match b.rng.below(20) {
        0 => {
            b.kind("root: none");
            b.dotted_name();
        }
        1 => {
            b.kind("root: @");
            b.push("@");
        }
        2 => {
            b.kind("ext: `this`");
            b.kind("root: `this`");
            b.push("`this`");
        }
        _ => b.push("$"),
    }
    b.gap();
    for _ in 0..1 + b.rng.below(4) {
        b.step();
        b.gap();
    }
    if b.rng.percent(8) {
        b.kind("malformed");
        if b.rng.percent(40) {
            b.text = (b.rng.pick(MALFORMED)).to_owned();
        } else {
            let chars: Vec<char> = b.text.chars().collect();
            let at = b.rng.below(chars.len() + 1);
            let mut text: String = chars[..at].iter().collect();
            if b.rng.percent(50) {
                text.push(
                    b.rng
                        .pick(&['.', '[', ']', '\'', '?', '@', '$', ' ', ',', '*', '(']),
                );
                text.extend(&chars[at..]);
            } else {
                text.extend(chars.iter().skip(at + 1));
            }
            b.text = text;
        }
    }
    (b.text, b.kinds)
}

// --- templates --------------------------------------------------------------------------------

/// The variables every template sees: one of each kind, values drawn anew per case.
pub fn variables(rng: &mut Rng) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("s".into(), json!(rng.pick(WORDS)));
    map.insert(
        "u".into(),
        json!(rng.pick(&["héllo ✓", "温度", "a\tb", "it's", "x\"y"])),
    );
    map.insert("i".into(), json!(rng.pick(EDGE_INTS)));
    map.insert("n".into(), json!(rng.below(2000) as i64 - 1000));
    map.insert("f".into(), json!(rng.pick(EDGE_FLOATS)));
    map.insert("b".into(), json!(rng.percent(50)));
    map.insert("z".into(), Value::Null);
    map.insert("l".into(), json!([leaf(rng), "a", 2.5]));
    map.insert("d".into(), json!({"k": leaf(rng), "1": "one", "on": true}));
    map.insert("w".into(), json!(rng.below(12)));
    map.insert("p".into(), json!(rng.below(6)));
    map
}

const ATTRIBUTES: &[&str] = &["real", "imag", "numerator", "denominator", "foo"];

fn spec(rng: &mut Rng, kinds: &mut Vec<&'static str>, variable: &str) -> String {
    let mut s = String::new();
    if rng.percent(25) {
        if rng.percent(50) {
            s.push(rng.pick(&['*', '0', ' ', '-', '✓', '=']));
        }
        s.push(rng.pick(&['<', '>', '^', '=']));
    }
    if rng.percent(20) {
        s.push(rng.pick(&['+', '-', ' ']));
    }
    if rng.percent(5) {
        s.push('z');
    }
    if rng.percent(12) {
        s.push('#');
    }
    if rng.percent(25) {
        s.push('0');
        if matches!(variable, "s" | "u") {
            kinds.push("format: 0 flag on a string");
        }
    }
    if rng.percent(45) {
        if rng.percent(15) {
            kinds.push("format: nested field in spec");
            s.push_str("{w}");
        } else {
            s.push_str(&rng.below(14).to_string());
        }
    }
    if rng.percent(12) {
        s.push(rng.pick(&[',', '_']));
    }
    if rng.percent(30) {
        s.push('.');
        if rng.percent(15) {
            kinds.push("format: nested field in spec");
            s.push_str("{p}");
        } else {
            s.push_str(&rng.below(8).to_string());
        }
    }
    if rng.percent(60) {
        s.push(rng.pick(&[
            's', 'd', 'b', 'o', 'x', 'X', 'c', 'n', 'e', 'E', 'f', 'F', 'g', 'G', '%',
        ]));
    }
    s
}

fn field(rng: &mut Rng, kinds: &mut Vec<&'static str>) -> String {
    let names = ["s", "u", "i", "n", "f", "b", "z", "l", "d", "w", "p"];
    let variable = rng.pick(&names);
    let mut out = String::from("{");
    match rng.below(30) {
        0 => {
            kinds.push("format: unknown or positional field");
            out.push_str(rng.pick(&["missing", "0", ""]));
        }
        _ => out.push_str(variable),
    }
    match rng.below(10) {
        0 | 1 => {
            let attribute = rng.pick(ATTRIBUTES);
            if matches!(variable, "i" | "n" | "f" | "b" | "w" | "p") {
                kinds.push("format: attribute of a number");
            } else {
                kinds.push("format: attribute");
            }
            out.push('.');
            out.push_str(attribute);
        }
        2 => {
            kinds.push("format: index");
            out.push('[');
            out.push_str(rng.pick(&["0", "1", "-1", "k", "on", "x"]));
            out.push(']');
        }
        _ => {}
    }
    let conversion = rng.percent(20);
    if conversion {
        kinds.push("format: conversion");
        out.push('!');
        out.push(rng.pick(&['r', 's', 'a']));
    }
    if rng.percent(65) {
        let s = spec(rng, kinds, variable);
        if conversion && !s.is_empty() {
            kinds.push("format: conversion with spec");
        }
        if !s.is_empty() {
            kinds.push("format: spec");
        }
        out.push(':');
        out.push_str(&s);
    }
    out.push('}');
    out
}

const TEMPLATE_MALFORMED: &[&str] = &[
    "{",
    "}",
    "{s",
    "{s!}",
    "{s!x}",
    "{s:{w:{p}}}",
    "{s!r:",
    "{{}",
    "{[0]}",
    "{s[}",
    "{s.}",
    "{0[}",
];

/// A template over [`variables`], sometimes broken on purpose.
pub fn template(rng: &mut Rng) -> (String, Vec<&'static str>) {
    let mut kinds = Vec::new();
    let mut text = String::new();
    for _ in 0..1 + rng.below(3) {
        match rng.below(6) {
            0 => {
                kinds.push("format: literal braces");
                text.push_str(rng.pick(&["{{", "}}", "{{\"x\":", " = ", "a"]));
            }
            1 => text.push_str(rng.pick(&[" ", "x", "é", ","])),
            _ => text.push_str(&field(rng, &mut kinds)),
        }
    }
    if rng.percent(6) {
        kinds.push("format: malformed");
        if rng.percent(50) {
            text = (rng.pick(TEMPLATE_MALFORMED)).to_owned();
        } else {
            let chars: Vec<char> = text.chars().collect();
            let at = rng.below(chars.len() + 1);
            let mut broken: String = chars[..at].iter().collect();
            broken.push(rng.pick(&['{', '}', '!', ':', '[', ']', '.']));
            broken.extend(&chars[at..]);
            text = broken;
        }
    }
    kinds.sort_unstable();
    kinds.dedup();
    (text, kinds)
}

/// Case number `index` of the batch with `seed`: the same case whatever the batch size.
/// Strings `=~` patterns are searched in: the documents' words and what tells Python's `re`
/// from the `regex` crate (final newlines, combining marks, `²`, the Kelvin sign, U+001C).
const SUBJECTS: &[&str] = &[
    "Hue 1",
    "Hue 1\n",
    "ab\n\n",
    "3ef8",
    "ffff",
    "",
    "a",
    "A",
    "\n",
    "x_y ²",
    "e\u{301}",
    "\u{212a}",
    "k",
    "K",
    "é",
    "É",
    "température",
    "温度",
    "\u{1c}",
    "a b",
    "aa",
    "aaa",
    "{1}",
    "[2]||]",
    "&",
    "-",
    "\u{0}",
    "A\nB",
    "on",
    "off",
    "ue",
];

/// `$.objects[?name=~'pattern']` over objects whose names are [`SUBJECTS`]: every generated
/// pattern is compiled and searched (jsonpath-ng calls `re.search` on strings only).
fn regex_search(rng: &mut Rng) -> (String, Value, Vec<&'static str>) {
    let mut b = Builder {
        rng,
        text: String::new(),
        kinds: Vec::new(),
        cursor: Value::Null,
        member_value: None,
        realistic: false,
    };
    b.kind("re: search");
    let pattern = b.python_pattern();
    let quoted = b.quoted(&pattern);
    let objects: Vec<Value> = (0..1 + b.rng.below(4))
        .map(|_| json!({"name": b.rng.pick(SUBJECTS)}))
        .collect();
    let path = format!("$.objects[?name=~{quoted}].name");
    (path, json!({ "objects": objects }), b.kinds)
}

pub fn generate(seed: u64, index: u64) -> Generated {
    let mut rng = Rng::new(seed.wrapping_mul(0x1000_0000_01b3).wrapping_add(index));
    if rng.percent(4) {
        let (path, document, mut kinds) = regex_search(&mut rng);
        kinds.push("jsonpath");
        return Generated {
            case: Case::Path { path, document },
            kinds,
        };
    }
    if rng.percent(70) {
        let document = document(&mut rng);
        let (path, mut kinds) = path(&mut rng, &document);
        kinds.push("jsonpath");
        Generated {
            case: Case::Path { path, document },
            kinds,
        }
    } else {
        let (template, mut kinds) = template(&mut rng);
        kinds.push("str.format");
        Generated {
            case: Case::Format {
                template,
                variables: variables(&mut rng),
            },
            kinds,
        }
    }
}

// --- shrinking --------------------------------------------------------------------------------

/// Texts with one run of characters removed, longest runs first.
fn shorter_texts(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut size = chars.len() / 2;
    while size >= 1 {
        for start in 0..=chars.len() - size {
            let candidate: String = chars[..start]
                .iter()
                .chain(&chars[start + size..])
                .collect();
            out.push(candidate);
        }
        size /= 2;
    }
    out
}

/// Documents with one member or element removed, or one subtree replaced by a leaf.
fn smaller_values(value: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    match value {
        Value::Array(items) => {
            for i in 0..items.len() {
                let mut fewer = items.clone();
                fewer.remove(i);
                out.push(Value::Array(fewer));
            }
            for (i, item) in items.iter().enumerate() {
                for smaller in smaller_values(item) {
                    let mut changed = items.clone();
                    changed[i] = smaller;
                    out.push(Value::Array(changed));
                }
            }
        }
        Value::Object(map) => {
            for key in map.keys() {
                let mut fewer = map.clone();
                fewer.shift_remove(key);
                out.push(Value::Object(fewer));
            }
            for (key, item) in map {
                for smaller in smaller_values(item) {
                    let mut changed = map.clone();
                    changed.insert(key.clone(), smaller);
                    out.push(Value::Object(changed));
                }
            }
        }
        _ => {}
    }
    out
}

fn smaller_cases(case: &Case) -> Vec<Case> {
    match case {
        Case::Path { path, document } => {
            let mut out: Vec<Case> = smaller_values(document)
                .into_iter()
                .take(400)
                .map(|document| Case::Path {
                    path: path.clone(),
                    document,
                })
                .collect();
            out.extend(shorter_texts(path).into_iter().map(|path| Case::Path {
                path,
                document: document.clone(),
            }));
            out
        }
        Case::Format {
            template,
            variables,
        } => {
            let mut out: Vec<Case> = variables
                .keys()
                .map(|key| {
                    let mut fewer = variables.clone();
                    fewer.shift_remove(key);
                    Case::Format {
                        template: template.clone(),
                        variables: fewer,
                    }
                })
                .collect();
            out.extend(
                shorter_texts(template)
                    .into_iter()
                    .map(|template| Case::Format {
                        template,
                        variables: variables.clone(),
                    }),
            );
            out
        }
    }
}

/// The smallest case found, by greedy steps, that still differs in the same way.
pub fn shrink(oracle: &mut Oracle, case: &Case, class: &str) -> Result<Case, String> {
    // Fuzz inputs can be long and slow on both sides: shrinking stops after this long with
    // the smallest case found so far.
    const BUDGET: std::time::Duration = std::time::Duration::from_secs(20);
    let started = std::time::Instant::now();
    let mut current = case.clone();
    for _ in 0..200 {
        if started.elapsed() > BUDGET {
            break;
        }
        let mut candidates = smaller_cases(&current);
        candidates.truncate(600);
        if candidates.is_empty() {
            break;
        }
        let refs: Vec<&Case> = candidates.iter().collect();
        let answers = oracle.run(&refs)?;
        let next = candidates
            .iter()
            .zip(&answers)
            .find(|(candidate, answer)| outcome_class(&ours(candidate), answer) == Some(class));
        match next {
            Some((candidate, _)) => current = candidate.clone(),
            None => break,
        }
    }
    Ok(current)
}

// --- batches ----------------------------------------------------------------------------------

/// One difference, as found and as shrunk.
#[derive(Debug, Clone)]
pub struct Difference {
    pub index: u64,
    pub class: &'static str,
    pub kinds: Vec<&'static str>,
    pub case: Case,
    pub ours: Outcome,
    pub theirs: Outcome,
}

#[derive(Debug, Default)]
pub struct Report {
    pub cases: u64,
    pub skipped: u64,
    /// Paths jsonpath-ng rejects and RFC 9535 reads.
    pub rfc_only: u64,
    /// What Python answered, by domain: a generator whose cases all fail or all find nothing
    /// would compare little.
    pub python: BTreeMap<(&'static str, &'static str), u64>,
    /// Construct kind → (cases, differences).
    pub kinds: BTreeMap<&'static str, (u64, u64)>,
    pub differences: Vec<Difference>,
}

impl Report {
    /// Differences that are not deliberate.
    pub fn unexpected(&self) -> impl Iterator<Item = &Difference> {
        self.differences
            .iter()
            .filter(|d| !DELIBERATE.contains(&d.class))
    }

    /// Differences by (domain, how they differ).
    pub fn classes(&self) -> BTreeMap<(String, &'static str), u64> {
        let mut out = BTreeMap::new();
        for d in &self.differences {
            let domain = match d.case {
                Case::Path { .. } => "jsonpath",
                Case::Format { .. } => "str.format",
            };
            *out.entry((domain.to_owned(), d.class)).or_insert(0) += 1;
        }
        out
    }
}

/// Runs cases `first..first + count` of `seed` in chunks through both sides.
pub fn run_batch(oracle: &mut Oracle, seed: u64, count: u64) -> Result<Report, String> {
    const CHUNK: u64 = 4000;
    let mut report = Report::default();
    let mut start = 0;
    while start < count {
        let end = (start + CHUNK).min(count);
        let generated: Vec<Generated> = (start..end).map(|i| generate(seed, i)).collect();
        compare(oracle, &mut report, start, generated)?;
        start = end;
    }
    Ok(report)
}

/// Runs the given cases (a fuzz corpus, for one) through both sides.
pub fn run_cases(oracle: &mut Oracle, cases: Vec<Generated>) -> Result<Report, String> {
    let mut report = Report::default();
    let mut start = 0;
    let mut cases = cases.into_iter().peekable();
    while cases.peek().is_some() {
        let chunk: Vec<Generated> = cases.by_ref().take(4000).collect();
        let n = chunk.len() as u64;
        compare(oracle, &mut report, start, chunk)?;
        start += n;
    }
    Ok(report)
}

fn compare(
    oracle: &mut Oracle,
    report: &mut Report,
    start: u64,
    generated: Vec<Generated>,
) -> Result<(), String> {
    let refs: Vec<&Case> = generated.iter().map(|g| &g.case).collect();
    let answers = oracle.run(&refs)?;
    for (offset, (g, theirs)) in generated.into_iter().zip(answers).enumerate() {
        report.cases += 1;
        if theirs == Outcome::Skip {
            report.skipped += 1;
        }
        let answer = match &theirs {
            Outcome::Values(v) if v.is_empty() => ("jsonpath", "finds nothing"),
            Outcome::Values(_) => ("jsonpath", "finds values"),
            Outcome::Text(_) => ("str.format", "renders"),
            Outcome::Error(_) if matches!(g.case, Case::Path { .. }) => ("jsonpath", "raises"),
            Outcome::Error(_) => ("str.format", "raises"),
            Outcome::Skip | Outcome::Rfc9535Only => ("any", "not compared"),
        };
        *report.python.entry(answer).or_insert(0) += 1;
        let ours = ours(&g.case);
        if ours == Outcome::Rfc9535Only {
            report.rfc_only += 1;
        }
        let class = outcome_class(&ours, &theirs);
        for kind in &g.kinds {
            let entry = report.kinds.entry(kind).or_insert((0, 0));
            entry.0 += 1;
            if class.is_some() {
                entry.1 += 1;
            }
        }
        if let Some(class) = class {
            report.differences.push(Difference {
                index: start + offset as u64,
                class,
                kinds: g.kinds,
                case: g.case,
                ours,
                theirs,
            });
        }
    }
    Ok(())
}

/// The committed fuzz inputs of the `jsonpath` and `python_format` targets (`fuzz/seeds/` and
/// `fuzz/regressions/` under `fuzz`) as cases: each path on the fuzz check's document and on
/// two generated ones, each template on the fuzz check's variables and on generated ones.
/// Returns the cases and how many inputs were not UTF-8 (both sides refuse those unread).
pub fn corpus_cases(fuzz: &std::path::Path) -> Result<(Vec<Generated>, usize), String> {
    let read_dir = |kind: &str| -> Result<Vec<Vec<u8>>, String> {
        let mut inputs = Vec::new();
        for folder in ["seeds", "regressions"] {
            let dir = fuzz.join(folder).join(kind);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            for path in paths {
                if path.is_file() {
                    inputs.push(
                        std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?,
                    );
                }
            }
        }
        Ok(inputs)
    };
    let fuzz_document = json!({
        "a": [1, "two", {"b": [true, null, 2.5]}], "c": {"d": "e", "f": [[], {}]},
        "objects": [{"cow": 2, "name": "x"}, {"cow": 1, "name": "y"}]
    });
    let fuzz_variables = json!({
        "s": "héllo", "i": -42, "big": 12345678901234567890u64, "f": 3.25, "t": true, "n": null,
        "l": [1, "a", null], "o": {"k": [1, 2]}, "w": 8, "p": 3
    });
    let mut rng = Rng::new(0xc0ffee);
    let (mut cases, mut not_utf8) = (Vec::new(), 0);
    for input in read_dir("jsonpath")? {
        let Ok(path) = String::from_utf8(input) else {
            not_utf8 += 1;
            continue;
        };
        for document in [
            fuzz_document.clone(),
            document(&mut rng),
            document(&mut rng),
        ] {
            cases.push(Generated {
                case: Case::Path {
                    path: path.clone(),
                    document,
                },
                kinds: vec!["jsonpath", "fuzz corpus: jsonpath"],
            });
        }
    }
    for input in read_dir("python_format")? {
        let Ok(template) = String::from_utf8(input) else {
            not_utf8 += 1;
            continue;
        };
        let mut generated = variables(&mut rng);
        if let Some(fixed) = fuzz_variables.as_object() {
            for (k, v) in fixed {
                generated.entry(k.clone()).or_insert(v.clone());
            }
        }
        for variables in [
            fuzz_variables.as_object().cloned().unwrap_or_default(),
            generated,
        ] {
            cases.push(Generated {
                case: Case::Format {
                    template: template.clone(),
                    variables,
                },
                kinds: vec!["str.format", "fuzz corpus: python_format"],
            });
        }
    }
    Ok((cases, not_utf8))
}

/// A reproduction as text: the case and both answers.
pub fn describe(case: &Case, oracle_outcome: &Outcome) -> String {
    let ours = ours(case);
    match case {
        Case::Path { path, document } => format!(
            "jsonpath_ng.ext.parse({path:?}).find({document})\n    python: {oracle_outcome:?}\n    ours:   {ours:?}"
        ),
        Case::Format {
            template,
            variables,
        } => format!(
            "{template:?}.format(**{})\n    python: {oracle_outcome:?}\n    ours:   {ours:?}",
            Value::Object(variables.clone())
        ),
    }
}
