//! Runs an open-ended differential batch against jsonpath-ng and CPython (see
//! `tests/differential/harness.rs`; `scripts/sdt-differential.sh` sets it up):
//!
//! ```text
//! cargo run -p sdt-core --example differential -- --cases 200000 --seed 1 --python PY [--show 40] [--dump 20]
//! cargo run -p sdt-core --example differential -- --corpus fuzz [--only python_format]   # the fuzz targets' inputs
//! ```
//!
//! Prints the cases per construct kind, the differences by kind, and a shrunk reproduction of
//! the first difference of each (class, construct kinds) group; exits 1 when any differ.

#[path = "../tests/differential/harness.rs"]
mod harness;

use std::collections::BTreeSet;
use std::time::Instant;

use harness::{Oracle, Outcome};

fn main() {
    if let Err(message) = run() {
        eprintln!("error: {message}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let (mut cases, mut seed, mut python, mut show) = (20_000u64, 1u64, None, 40usize);
    let mut dump = 0u64;
    let mut corpus = None;
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--cases" => cases = value()?.parse().map_err(|e| format!("--cases: {e}"))?,
            "--seed" => seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--python" => python = Some(value()?),
            "--show" => show = value()?.parse().map_err(|e| format!("--show: {e}"))?,
            "--dump" => dump = value()?.parse().map_err(|e| format!("--dump: {e}"))?,
            "--corpus" => corpus = Some(std::path::PathBuf::from(value()?)),
            "--only" => only = Some(value()?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let python = match python {
        Some(python) => python,
        None => Oracle::python()?,
    };
    let mut oracle = Oracle::start(&python)?;
    // The first cases as generated, with Python's answers: to see what the generator makes.
    let sample: Vec<_> = (0..dump).map(|i| harness::generate(seed, i)).collect();
    let answers = oracle.run(&sample.iter().map(|g| &g.case).collect::<Vec<_>>())?;
    for (g, answer) in sample.iter().zip(answers) {
        println!("{}\n", harness::describe(&g.case, &answer));
    }
    let started = Instant::now();
    let report = match &corpus {
        Some(fuzz) => {
            let (mut cases, not_utf8) = harness::corpus_cases(fuzz)?;
            if let Some(only) = &only {
                cases.retain(|g| g.kinds.iter().any(|k| k.contains(only.as_str())));
            }
            println!(
                "fuzz corpus of {}: {} cases ({not_utf8} inputs not UTF-8, refused by both)",
                fuzz.display(),
                cases.len()
            );
            harness::run_cases(&mut oracle, cases)?
        }
        None => harness::run_batch(&mut oracle, seed, cases)?,
    };
    let elapsed = started.elapsed();
    println!(
        "{} cases (seed {seed}) in {:.1} s, {} not comparable (no JSON form in Python), {} paths \
         only RFC 9535 reads (jsonpath-ng fails), {} differ, {} differ on purpose (documented limits)",
        report.cases,
        elapsed.as_secs_f64(),
        report.skipped,
        report.rfc_only,
        report.unexpected().count(),
        report.differences.len() - report.unexpected().count()
    );
    println!("\nwhat Python answered");
    for ((domain, answer), n) in &report.python {
        println!("{domain:<12} {answer:<28} {n:>7}");
    }
    println!("\n{:<40} {:>9} {:>9}", "construct kind", "cases", "differ");
    for (kind, (n, differ)) in &report.kinds {
        println!("{kind:<40} {n:>9} {differ:>9}");
    }
    println!("\ndifferences by kind");
    for ((domain, class), n) in report.classes() {
        println!("{domain:<12} {class:<28} {n:>7}");
    }
    // Deliberate differences (documented limits) are listed as found, a few, unshrunk: they
    // are long inputs by nature and shrinking them is slow.
    for difference in report
        .differences
        .iter()
        .filter(|d| harness::DELIBERATE.contains(&d.class))
        .take(5)
    {
        let text = harness::describe(&difference.case, &difference.theirs);
        let short: String = text.chars().take(300).collect();
        println!(
            "\n[{}] case {}:\n  {short}…",
            difference.class, difference.index
        );
    }
    let mut groups = BTreeSet::new();
    let mut shown = BTreeSet::new();
    for difference in report.unexpected() {
        if shown.len() >= show {
            break;
        }
        // Corpus cases all share their kinds: each is its own group there.
        let key = if corpus.is_some() {
            difference.index
        } else {
            0
        };
        if !groups.insert((difference.class, difference.kinds.clone(), key)) {
            continue;
        }
        let shrunk = harness::shrink(&mut oracle, &difference.case, difference.class)?;
        let answer = oracle.run(&[&shrunk])?.pop().unwrap_or(Outcome::Skip);
        let text = harness::describe(&shrunk, &answer);
        if shown.insert(text.clone()) {
            println!(
                "\n[{}] case {} ({}):\n  {text}",
                difference.class,
                difference.index,
                difference.kinds.join(", ")
            );
        }
    }
    if report.unexpected().next().is_none() {
        Ok(())
    } else {
        std::process::exit(1)
    }
}
