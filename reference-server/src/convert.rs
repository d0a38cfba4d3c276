//! `convert <IN> <OUT>`.

use std::path::Path;

use crate::{Outcome, document_io, findings};

pub fn run(input: &Path, output: &Path, pretty: bool, verify: bool) -> Outcome {
    let document = match document_io::read(input) {
        Ok(document) => document,
        Err(e) => {
            eprintln!("error: {e}");
            return Outcome::Unreadable;
        }
    };
    if verify {
        let found = findings::of(&document);
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
    match document_io::write(output, &document, pretty) {
        Ok(()) => Outcome::Ok,
        Err(e) => {
            eprintln!("error: {e}");
            Outcome::Unreadable
        }
    }
}
