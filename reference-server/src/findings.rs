//! Verification of a read document, printed the way the CLI reports findings.

use std::io::Write;
use std::path::Path;

use aas_model::verify::Finding;
use aas_serde::Document;

/// Every finding of a document.
pub fn of(document: &Document) -> Vec<Finding> {
    match document {
        Document::Environment(env) => aas_model::verify(env).collect(),
        Document::EventPayload(payload) => aas_model::verify(payload).collect(),
    }
}

/// Prints findings to stdout as `FILE: PATH: CONSTRAINT: message`. Stops quietly when stdout
/// is closed (`validate … | head`).
pub fn print(file: &Path, findings: &[Finding]) {
    let mut out = std::io::stdout().lock();
    for finding in findings {
        if writeln!(out, "{}: {finding}", file.display()).is_err() {
            return;
        }
    }
}
