//! Findings of verification, printed the way the CLI reports them.

use std::io::Write;
use std::path::Path;

use aas_model::Finding;

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
