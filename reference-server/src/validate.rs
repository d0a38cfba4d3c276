//! `validate <FILE>...`.

use std::path::PathBuf;

use crate::{Outcome, document_io, findings};

pub fn run(files: &[PathBuf]) -> Outcome {
    let mut worst = Outcome::Ok;
    for file in files {
        match document_io::read(file) {
            Ok(loaded) => {
                for repair in &loaded.repairs {
                    eprintln!("warning: {}: {repair}", file.display());
                }
                let found = findings::of(&loaded.document);
                if !found.is_empty() {
                    findings::print(file, &found);
                    worst = worst.max(Outcome::Findings);
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                worst = worst.max(Outcome::Unreadable);
            }
        }
    }
    worst
}
