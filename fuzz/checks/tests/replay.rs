//! Replays the committed fuzz inputs through the checks of the fuzz targets, in the test
//! command's dev build (no cargo-fuzz, no sanitizer): every file of `fuzz/seeds/<target>/`
//! (hand-written and generated seeds, deep ones among them) and of `fuzz/regressions/<target>/`
//! (minimized corpora of the long runs, and every input that once made a target fail).
//!
//! Each input runs on a thread of its own named `<dir>/<target>/<file>`, with a stack as large as
//! the fuzzer's main thread: a panic is collected and reported with the input's name; a stack
//! overflow aborts the test binary (Rust cannot catch it), which fails the test run just as
//! loudly, and the runtime's message ("thread '<dir>/<target>/<file>' has overflowed its
//! stack") names the input.

use std::path::{Path, PathBuf};

use aas_rs_fuzz_checks::{Check, TARGETS};

/// The stack of each input's thread: 8 MiB, the main thread's stack under libFuzzer (and
/// Linux's default), so that the dev build replays what the fuzzer ran.
const STACK: usize = 8 << 20;

/// The directories of committed inputs, each with one subdirectory per target.
const INPUT_DIRS: [&str; 2] = ["seeds", "regressions"];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the checks crate lives in fuzz/")
        .to_path_buf()
}

/// What a replay found.
struct Replay {
    inputs: usize,
    /// `<dir>/<target>/<file>: <panic message>`, one per failed input.
    failures: Vec<String>,
}

/// Every committed input of `target` (sorted, so that runs compare).
fn inputs(root: &Path, target: &str) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    for dir in INPUT_DIRS {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("a readable directory entry").path();
            if path.is_file() {
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                found.push((format!("{dir}/{target}/{name}"), path.clone()));
            }
        }
    }
    found.sort();
    found
}

/// Runs `check` on every committed input of `target`.
fn replay(root: &Path, target: &str, check: Check) -> Replay {
    let inputs = inputs(root, target);
    let mut failures = Vec::new();
    for (name, path) in &inputs {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let outcome = std::thread::Builder::new()
            .name(name.clone())
            .stack_size(STACK)
            .spawn(move || check(&data))
            .expect("a thread for the input")
            .join();
        if let Err(payload) = outcome {
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("(a panic without a message)");
            failures.push(format!("{name}: {message}"));
        }
    }
    Replay {
        inputs: inputs.len(),
        failures,
    }
}

/// Replays `target` from the committed inputs and fails, naming every failed input, unless all
/// of them hold the property.
fn assert_holds(target: &str) {
    let (_, check) = TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no check named {target}"));
    let replay = replay(&fuzz_dir(), target, *check);
    assert!(
        replay.inputs > 0,
        "no committed inputs for {target} in fuzz/seeds/{target}/ or fuzz/regressions/{target}/"
    );
    assert!(
        replay.failures.is_empty(),
        "{} of {} committed inputs of {target} fail its check (reproduce one with \
         `RUSTC_BOOTSTRAP=1 cargo fuzz run -O {target} <file>` from fuzz/):\n{}",
        replay.failures.len(),
        replay.inputs,
        replay.failures.join("\n")
    );
}

mod committed_inputs_hold_the_property_of {
    use super::assert_holds;

    /// A test per target, and the list of the targets it was written for.
    macro_rules! targets {
        ($($target:ident),* $(,)?) => {
            pub(super) const REPLAYED: &[&str] = &[$(stringify!($target)),*];
            $(
                #[test]
                fn $target() {
                    assert_holds(stringify!($target));
                }
            )*
        };
    }

    targets!(
        json_read,
        xml_read,
        aasx_read,
        verify,
        envelope_decode,
        cloud_event_decode,
        topic_parse,
        jsonpath,
        python_format,
        mustache,
        sync_description,
        verify_arbitrary,
        push_target,
        server_requests,
    );
}

#[test]
fn every_cargo_fuzz_target_has_a_check_and_a_replay() {
    let mut binaries: Vec<String> = std::fs::read_dir(fuzz_dir().join("fuzz_targets"))
        .expect("fuzz/fuzz_targets/")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .map(|path| {
            path.file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into()
        })
        .collect();
    binaries.sort();
    let mut checks: Vec<String> = TARGETS.iter().map(|(name, _)| name.to_string()).collect();
    checks.sort();
    assert_eq!(binaries, checks, "fuzz/fuzz_targets/*.rs against TARGETS");
    let mut replayed: Vec<String> = committed_inputs_hold_the_property_of::REPLAYED
        .iter()
        .map(|name| name.to_string())
        .collect();
    replayed.sort();
    assert_eq!(
        replayed, checks,
        "the targets! list of this file against TARGETS"
    );
}

#[test]
fn a_failing_input_is_reported_by_name_with_its_message() {
    let root = std::env::temp_dir().join(format!("aas-rs-replay-{}", std::process::id()));
    let dir = root.join("regressions").join("demo");
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    std::fs::write(dir.join("good"), b"fine").expect("write");
    std::fs::write(dir.join("bad"), b"boom").expect("write");
    let replay = replay(&root, "demo", |data| {
        assert_ne!(data, b"boom", "the check refuses boom");
    });
    std::fs::remove_dir_all(&root).expect("clean up");
    assert_eq!(replay.inputs, 2);
    assert_eq!(replay.failures.len(), 1, "{:?}", replay.failures);
    assert!(
        replay.failures[0].starts_with("regressions/demo/bad: ")
            && replay.failures[0].contains("the check refuses boom"),
        "{:?}",
        replay.failures
    );
}
