//! `validate <FILE>...`.

use std::io::Write;
use std::path::PathBuf;

use aas_model::Version;

use crate::{Outcome, findings};

/// Reads each file (JSON as `json_version`, XML and packages by their namespace), verifies it
/// by the rules of the version it was read as, prints its findings and then one line
/// `FILE: AAS <version>: valid` or `FILE: AAS <version>: <n> finding(s)`.
pub fn run(files: &[PathBuf], json_version: Version) -> Outcome {
    let mut worst = Outcome::Ok;
    for file in files {
        match aas_serde::read_file(file, json_version) {
            Ok(loaded) => {
                for repair in &loaded.repairs {
                    eprintln!("warning: {}: {repair}", file.display());
                }
                let found = loaded.document.verify_as(loaded.version);
                findings::print(file, &found);
                let verdict = if found.is_empty() {
                    "valid".to_owned()
                } else {
                    worst = worst.max(Outcome::Findings);
                    format!("{} finding(s)", found.len())
                };
                // A closed stdout (`validate … | head`) ends the output quietly.
                let _ = writeln!(
                    std::io::stdout().lock(),
                    "{}: AAS {}: {verdict}",
                    file.display(),
                    loaded.version
                );
            }
            Err(e) => {
                eprintln!("error: {e}");
                worst = worst.max(Outcome::Unreadable);
            }
        }
    }
    worst
}
