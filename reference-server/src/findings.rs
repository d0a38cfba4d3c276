//! Verification of a read document, printed the way the CLI reports findings.

use std::io::Write;
use std::path::Path;

use aas_model::verify::Finding;
use aas_serde::Document;

/// Every finding of a document, by the rules of `version`.
pub fn of(document: &Document, version: aas_model::Version) -> Vec<Finding> {
    match document {
        Document::Environment(env) => aas_model::verify_as(env, version).collect(),
        Document::EventPayload(payload) => aas_model::verify_as(payload, version).collect(),
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
