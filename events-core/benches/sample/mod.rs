//! Benchmark events made from `make_big_env.py`'s 20 MB environment (shared with aas-serde's
//! benches, generated into `target/bench/` on first use).

#![allow(dead_code)]

use aas_model::{Environment, Submodel, SubmodelElement, SubmodelElementCollection};

#[path = "../../../aas-serde/benches/common/mod.rs"]
mod common;

fn environment() -> Environment {
    let bytes = std::fs::read(common::input("json")).expect("benchmark input");
    aas_serde::json::from_slice(&bytes).expect("benchmark input reads")
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
