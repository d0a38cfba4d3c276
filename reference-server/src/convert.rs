//! `convert <IN> <OUT>`.

use std::path::Path;

use aas_model::Version;

use aas_serde::{WriteOptions, read_file, write_file};

use crate::{Outcome, findings};

/// What `convert` is asked to do beyond reading and writing.
#[derive(Debug, Clone, Copy)]
pub struct ConvertOptions {
    /// The version JSON input is read as (XML and packages go by their namespace).
    pub json_version: Version,
    /// The version to write; `None`: the input's.
    pub to: Option<Version>,
    /// Write even when the conversion to `to` loses something (the report is still printed).
    pub lossy: bool,
    /// Verify the input by its version first and write nothing when it has findings.
    pub verify: bool,
}

pub fn run(input: &Path, output: &Path, write: WriteOptions, options: ConvertOptions) -> Outcome {
    let mut loaded = match read_file(input, options.json_version) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {e}");
            return Outcome::Unreadable;
        }
    };
    if options.verify {
        let found = loaded.document.verify_as(loaded.version);
        if !found.is_empty() {
            findings::print(input, &found);
            eprintln!(
                "error: {}: {} finding(s) under AAS {}; nothing written",
                input.display(),
                found.len(),
                loaded.version
            );
            return Outcome::Findings;
        }
    }
    let to = options.to.unwrap_or(loaded.version);
    // The report of a lossy conversion is printed once the output is written: a failed write
    // must not be announced as "written anyway".
    let lossy_report = match loaded.document.convert(loaded.version, to, options.lossy) {
        Ok(report) if report.is_lossless() => None,
        Ok(report) => Some(report),
        Err(refused) => {
            let report = refused.report;
            eprintln!(
                "error: {}: {report}\nnothing written (--lossy writes anyway, applying the rules listed)",
                input.display()
            );
            return Outcome::Findings;
        }
    };
    let write = WriteOptions {
        version: to,
        ..write
    };
    match write_file(output, &loaded, write) {
        Ok(()) => {
            if let Some(report) = lossy_report {
                eprintln!(
                    "warning: {}: {report}\n(written anyway: --lossy)",
                    input.display()
                );
            }
            Outcome::Ok
        }
        Err(e) => {
            eprintln!("error: {e}");
            Outcome::Unreadable
        }
    }
}
