//! `convert <IN> <OUT>`.

use std::path::Path;

use aas_model::Version;
use aas_model::convert::{ConversionEntry, ConversionReport};
use aas_serde::Document;

use aas_serde::file;

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

pub fn run(
    input: &Path,
    output: &Path,
    write: file::WriteOptions,
    options: ConvertOptions,
) -> Outcome {
    let mut loaded = match file::read_file(input, options.json_version) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {e}");
            return Outcome::Unreadable;
        }
    };
    if options.verify {
        let found = findings::of(&loaded.document, loaded.version);
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
    let lossy_report = match converted(&mut loaded.document, loaded.version, to, options.lossy) {
        Ok(report) if report.is_lossless() => None,
        Ok(report) => Some(report),
        Err(report) => {
            eprintln!(
                "error: {}: {report}\nnothing written (--lossy writes anyway, applying the rules listed)",
                input.display()
            );
            return Outcome::Findings;
        }
    };
    let write = file::WriteOptions {
        version: to,
        ..write
    };
    match file::write_file(output, &loaded, write) {
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

/// Converts an environment from `from` to `to` with aas-model's rules. An event payload holds
/// only references, a time stamp and bytes: it is written as it is, and what verification
/// finds under `to` but not under `from` (a key value longer than V3.0 allows) is its report.
/// `Err`: the report of a conversion that would lose something, refused (the document is
/// unchanged).
fn converted(
    document: &mut Document,
    from: Version,
    to: Version,
    lossy: bool,
) -> Result<ConversionReport, ConversionReport> {
    match document {
        Document::Environment(env) => {
            aas_model::convert::convert(env, from, to, lossy).map_err(|refused| refused.report)
        }
        Document::EventPayload(payload) => {
            // Findings are told apart by path and rule, as aas-model's conversion does: their
            // messages name the version verified under, so the same finding never reads the
            // same in both.
            let before: std::collections::HashSet<(String, &'static str)> =
                aas_model::verify_as(&*payload, from)
                    .map(|finding| (finding.path().to_owned(), finding.rule()))
                    .collect();
            let entries: Vec<ConversionEntry> = aas_model::verify_as(&*payload, to)
                .filter(|finding| !before.contains(&(finding.path().to_owned(), finding.rule())))
                .map(|finding| ConversionEntry {
                    path: finding.path().to_owned(),
                    problem: format!(
                        "invalid in AAS {to}: {}: {}",
                        finding.rule(),
                        finding.message()
                    ),
                    rule: None,
                })
                .collect();
            let report = ConversionReport { from, to, entries };
            if report.is_lossless() || lossy {
                Ok(report)
            } else {
                Err(report)
            }
        }
    }
}
