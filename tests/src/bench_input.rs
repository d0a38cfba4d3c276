//! The input every benchmark shares: `make_big_env.py`'s 20 MB environment (generated into
//! `target/bench/` on first use with the oracle venv's python), and submodels cut from it.

use std::path::PathBuf;
use std::process::Command;

use aas_model::{Environment, Submodel, SubmodelElement, SubmodelElementCollection};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The benchmark file with the given extension (`json` or `xml`), generated when missing;
/// `AAS_BENCH_JSON` / `AAS_BENCH_XML` name other files. Panics (a benchmark cannot run
/// without it) with what failed.
pub fn input(extension: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(format!("AAS_BENCH_{}", extension.to_ascii_uppercase())) {
        return PathBuf::from(path);
    }
    let prefix = workspace().join("target/bench/env-20mb");
    let file = prefix.with_extension(extension);
    if !file.exists() {
        let tools = workspace().join("../shared/tools");
        let setup = Command::new("bash")
            .arg(tools.join("oracles/setup.sh"))
            .output()
            .unwrap_or_else(|e| panic!("run setup.sh: {e}"));
        assert!(
            setup.status.success(),
            "oracle setup failed: {}",
            String::from_utf8_lossy(&setup.stderr)
        );
        let python = String::from_utf8_lossy(&setup.stdout).trim().to_owned();
        if let Some(dir) = prefix.parent() {
            std::fs::create_dir_all(dir)
                .unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        }
        let status = Command::new(python)
            .arg(tools.join("bench/make_big_env.py"))
            .args(["--size-mb", "20", "--out"])
            .arg(&prefix)
            .status()
            .unwrap_or_else(|e| panic!("run make_big_env.py: {e}"));
        assert!(status.success(), "make_big_env.py failed");
    }
    file
}

/// The benchmark environment, read from [`input`]`("json")`.
pub fn environment() -> Environment {
    let path = input("json");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    aas_serde::json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A submodel of at least `bytes` of JSON: the environment's submodels in order, the elements of
/// each in a collection of its own (so idShorts stay unique).
pub fn submodel_of_size(bytes: usize) -> Submodel {
    let mut merged = Submodel::new("https://example.com/bench/submodel");
    merged.semantic_id = None;
    let mut parts = Vec::new();
    for (n, submodel) in environment().submodels.into_iter().flatten().enumerate() {
        if merged.semantic_id.is_none() {
            merged.semantic_id = submodel.semantic_id.clone();
        }
        let mut part = SubmodelElementCollection::new().with_id_short(format!("part{n}"));
        part.value = submodel.submodel_elements;
        parts.push(SubmodelElement::SubmodelElementCollection(part));
        merged.submodel_elements = Some(parts.clone());
        if aas_serde::json::to_vec(&merged).len() >= bytes {
            break;
        }
    }
    merged
}

/// The environment's submodel of median JSON size: a typical event.
pub fn typical_submodel() -> Submodel {
    let mut submodels: Vec<_> = environment().submodels.into_iter().flatten().collect();
    submodels.sort_by_key(|s| aas_serde::json::to_vec(s).len());
    submodels.swap_remove(submodels.len() / 2)
}
