//! One read or write of `bench/versions.sh`, timed: built once against 542e431's crates (V3.0
//! only) and once against the current tree with the feature `v31` (which has the versioned
//! API), so that the two builds run the same code path side by side.
//!
//! ```text
//! versions OP FILE REPS
//! ```
//!
//! OP is `json-read-3.0`, `json-write`, `xml-read-3.0`, `xml-write-3.0`, and with `v31` also
//! `json-read-3.1`, `xml-read-3.1`, `xml-write-3.1`. FILE is the JSON environment (JSON ops
//! and writes, which write the model read from it) or the XML one (XML reads). After one
//! unmeasured run, prints one line: `OP<TAB>CHECK<TAB>WALL...<TAB>CPU...` with the seconds of
//! each of REPS runs, as elapsed and as CPU time of the thread (which a shared machine's other
//! processes disturb less: time spent descheduled does not count), and CHECK, the length and
//! FNV-1a hash of what a write wrote (or the number of submodels read), so that the script can
//! tell that both builds did the same work.

use std::hint::black_box;
use std::time::Instant;

use aas_model::Environment;
#[cfg(feature = "v31")]
use aas_model::Version;
use aas_serde::{json, xml};

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn json_read_v30(bytes: &[u8]) -> Environment {
    #[cfg(feature = "v31")]
    return json::from_slice_as(bytes, Version::V3_0).expect("JSON reads as V3.0");
    #[cfg(not(feature = "v31"))]
    return json::from_slice(bytes).expect("JSON reads");
}

#[cfg(feature = "v31")]
fn json_read_v31(bytes: &[u8]) -> Environment {
    json::from_slice_as(bytes, Version::V3_1).expect("JSON reads as V3.1")
}

fn xml_write_v30(env: &Environment) -> Vec<u8> {
    #[cfg(feature = "v31")]
    return xml::to_vec_as(env, Version::V3_0).expect("XML writes");
    #[cfg(not(feature = "v31"))]
    return xml::to_vec(env).expect("XML writes");
}

/// CPU time of this thread, in seconds.
fn thread_cpu() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec to write into; the clock id is a constant of Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// Runs `op` once unmeasured, then `reps` times; returns the last result's check and the wall
/// and CPU seconds of each run.
fn time<T>(
    reps: usize,
    mut op: impl FnMut() -> T,
    check: impl Fn(&T) -> String,
) -> (String, Vec<f64>, Vec<f64>) {
    let first = op();
    let checked = check(&first);
    drop(first);
    let (mut wall, mut cpu) = (Vec::with_capacity(reps), Vec::with_capacity(reps));
    for _ in 0..reps {
        let (start, start_cpu) = (Instant::now(), thread_cpu());
        let out = black_box(op());
        cpu.push(thread_cpu() - start_cpu);
        wall.push(start.elapsed().as_secs_f64());
        // Freeing the result is not part of the read or write.
        drop(out);
    }
    (checked, wall, cpu)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, op, file, reps] = &args[..] else {
        panic!("usage: versions OP FILE REPS");
    };
    let reps: usize = reps.parse().expect("REPS is a number");
    let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let submodels =
        |env: &Environment| format!("{} submodels", env.submodels.as_ref().map_or(0, Vec::len));
    let written = |out: &Vec<u8>| format!("{} bytes, fnv {:016x}", out.len(), fnv(out));
    let (check, wall, cpu) = match op.as_str() {
        "json-read-3.0" => time(reps, || json_read_v30(black_box(&bytes)), submodels),
        #[cfg(feature = "v31")]
        "json-read-3.1" => time(reps, || json_read_v31(black_box(&bytes)), submodels),
        "json-write" => {
            let env = json_read_v30(&bytes);
            time(reps, || json::to_vec(black_box(&env)), written)
        }
        "xml-read-3.0" => time(
            reps,
            || xml::from_slice::<Environment>(black_box(&bytes)).expect("XML reads"),
            submodels,
        ),
        #[cfg(feature = "v31")]
        "xml-read-3.1" => time(
            reps,
            || {
                let (env, version) =
                    xml::from_slice_versioned::<Environment>(black_box(&bytes)).expect("XML reads");
                assert_eq!(version, Version::V3_1, "the V3.1 input");
                env
            },
            submodels,
        ),
        "xml-write-3.0" => {
            let env = json_read_v30(&bytes);
            time(reps, || xml_write_v30(black_box(&env)), written)
        }
        #[cfg(feature = "v31")]
        "xml-write-3.1" => {
            let env = json_read_v31(&bytes);
            time(
                reps,
                || xml::to_vec_as(black_box(&env), Version::V3_1).expect("XML writes"),
                written,
            )
        }
        other => panic!("unknown operation {other} for this build"),
    };
    let list = |seconds: Vec<f64>| {
        let text: Vec<String> = seconds.iter().map(|s| format!("{s:.6}")).collect();
        text.join(" ")
    };
    println!("{op}\t{check}\t{}\t{}", list(wall), list(cpu));
}
