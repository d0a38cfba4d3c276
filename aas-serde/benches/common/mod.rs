//! The benchmark input shared by the bench targets: `make_big_env.py`'s 20 MB environment.

use std::path::PathBuf;
use std::process::Command;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The benchmark file with the given extension (`json` or `xml`), generated when missing;
/// `AAS_BENCH_JSON` / `AAS_BENCH_XML` name other files.
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
            .expect("run setup.sh");
        assert!(
            setup.status.success(),
            "oracle setup failed: {}",
            String::from_utf8_lossy(&setup.stderr)
        );
        let python = String::from_utf8_lossy(&setup.stdout).trim().to_owned();
        std::fs::create_dir_all(prefix.parent().unwrap()).unwrap();
        let status = Command::new(python)
            .arg(tools.join("bench/make_big_env.py"))
            .args(["--size-mb", "20", "--out"])
            .arg(&prefix)
            .status()
            .expect("run make_big_env.py");
        assert!(status.success(), "make_big_env.py failed");
    }
    file
}
