//! The fixed-seed differential batch: 20,000 generated paths and templates through sdt-core and
//! through jsonpath-ng 1.16.0 / CPython 3.11 (`differential/harness.rs`; an open-ended batch:
//! `scripts/sdt-differential.sh`). Needs the test venv's python: `SDT_ORACLE_PYTHON`, or the
//! venv `scripts/test-venv.sh` creates; without one the test fails saying so.

#[path = "differential/harness.rs"]
mod harness;

use harness::{Oracle, Outcome};

const SEED: u64 = 1;
const CASES: u64 = 20_000;

#[test]
fn generated_paths_and_templates_give_what_jsonpath_ng_and_cpython_give() -> Result<(), String> {
    let mut oracle = Oracle::start(&Oracle::python()?)?;
    let report = harness::run_batch(&mut oracle, SEED, CASES)?;
    let mut kinds = String::new();
    for (kind, (cases, differ)) in &report.kinds {
        kinds.push_str(&format!("\n  {kind:<40} {cases:>7} {differ:>5}"));
    }
    eprintln!(
        "{} cases, {} differ, {} only RFC 9535 reads; per construct kind (cases, differ):{kinds}",
        report.cases,
        report.differences.len(),
        report.rfc_only
    );
    // A generator that stopped producing a construct would pass without testing it.
    for kind in [
        "name: digits",
        "name: with -",
        "name: with @",
        "name: non-ASCII",
        "name: quoted with tab",
        "ext: `len`",
        "ext: `this`",
        "root: @",
        "field list",
        "whitespace",
        "filter: bare path",
        "filter: bare word",
        "filter: single =",
        "filter: ! negation",
        "filter: two fields",
        "filter: | or",
        "filter: & and",
        "number: i64 edge",
        "malformed",
        "format: 0 flag on a string",
        "format: attribute of a number",
        "format: conversion with spec",
    ] {
        let cases = report.kinds.get(kind).map_or(0, |(cases, _)| *cases);
        assert!(cases >= 50, "only {cases} cases of {kind:?}");
    }
    let mut reproductions = Vec::new();
    for difference in report.differences.iter().take(10) {
        let shrunk = harness::shrink(&mut oracle, &difference.case, difference.class)?;
        let answer = oracle.run(&[&shrunk])?.pop().unwrap_or(Outcome::Skip);
        reproductions.push(format!(
            "[{}] case {}: {}",
            difference.class,
            difference.index,
            harness::describe(&shrunk, &answer)
        ));
    }
    // Deliberate differences (documented limits) do not occur in generated cases either.
    assert!(
        report.differences.is_empty(),
        "{} of {} cases differ; the first, shrunk:\n{}",
        report.differences.len(),
        report.cases,
        reproductions.join("\n")
    );
    Ok(())
}
