//! `validate <FILE>...`.

use std::path::PathBuf;

use crate::Outcome;
use crate::document_io;

pub fn run(files: &[PathBuf]) -> Outcome {
    let mut worst = Outcome::Ok;
    for file in files {
        if let Err(e) = document_io::read(file) {
            eprintln!("error: {e}");
            worst = worst.max(Outcome::Unreadable);
        }
    }
    worst
}
