//! `convert <IN> <OUT>`.

use std::path::Path;

use crate::{Outcome, document_io, findings};

pub fn run(
    input: &Path,
    output: &Path,
    options: document_io::WriteOptions,
    verify: bool,
) -> Outcome {
    let loaded = match document_io::read(input) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {e}");
            return Outcome::Unreadable;
        }
    };
    if verify {
        let found = findings::of(&loaded.document);
        if !found.is_empty() {
            findings::print(input, &found);
            eprintln!(
                "error: {}: {} finding(s); nothing written",
                input.display(),
                found.len()
            );
            return Outcome::Findings;
        }
    }
    match document_io::write(output, &loaded, options) {
        Ok(()) => Outcome::Ok,
        Err(e) => {
            eprintln!("error: {e}");
            Outcome::Unreadable
        }
    }
}
