//! `convert <IN> <OUT>`.

use std::path::Path;

use crate::Outcome;
use crate::document_io;

pub fn run(input: &Path, output: &Path, pretty: bool) -> Outcome {
    let result =
        document_io::read(input).and_then(|document| document_io::write(output, &document, pretty));
    match result {
        Ok(()) => Outcome::Ok,
        Err(e) => {
            eprintln!("error: {e}");
            Outcome::Unreadable
        }
    }
}
