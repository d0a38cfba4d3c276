//! What every backend does the same when it writes an element, so that SQLite and
//! PostgreSQL store the same things: the depth bound, decoding what is stored, applying a
//! change, the defaults of an attached file, which files follow their elements, the blob-free
//! view of a submodel, and fitting stored data to another AAS version. Backends do the SQL.

use aas_model::Submodel;

use super::{Attachment, Change, Collection, StorageError, VersionChange, VersionProblem};

/// The deepest JSON an element may be stored as: what the readers accept, less the environment
/// (`{"submodels": [...]}`) a serialization wraps around it and the extra level XML gives
/// leaf values. Elements inserted at deep idShort paths could otherwise build a model that is
/// stored but never reads back.
pub(super) const MAX_STORED_DEPTH: usize = aas_serde::json::MAX_DEPTH - 4;

/// Whether a write may replace the element stored under its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    CreateOrReplace,
    CreateOnly,
}

/// Refuses JSON nested deeper than [`MAX_STORED_DEPTH`].
pub(super) fn check_depth(id: &str, json: &str) -> Result<(), StorageError> {
    if aas_serde::json::first_deeper_than(json.as_bytes(), MAX_STORED_DEPTH).is_some() {
        return Err(StorageError::TooDeep {
            id: id.to_owned(),
            max: MAX_STORED_DEPTH,
        });
    }
    Ok(())
}

/// The element stored as `json` under `id`.
pub(super) fn decode<T: aas_serde::json::FromJson>(
    id: &str,
    json: &str,
) -> Result<T, StorageError> {
    aas_serde::json::from_str(json).map_err(|source| StorageError::Corrupt {
        id: id.to_owned(),
        source,
    })
}

/// Applies `change` to the element `id`, which it may refuse but not give another id.
pub(super) fn apply<T: aas_model::Identifiable>(
    element: &mut T,
    id: &str,
    change: &mut dyn FnMut(&mut T) -> Change<()>,
) -> Result<(), StorageError> {
    change(element).map_err(StorageError::Refused)?;
    if element.id() != id {
        return Err(StorageError::Refused(
            "a change may not alter the id".into(),
        ));
    }
    Ok(())
}

/// The file to store under the File at `path` of `submodel`: an empty content type takes the
/// File's `contentType`, an empty file name the name its value ends with.
pub(super) fn attachment_at(
    submodel: &Submodel,
    path: &str,
    attachment: &Attachment,
) -> Attachment {
    let mut attachment = attachment.clone();
    if attachment.content_type.is_empty() {
        attachment.content_type = submodel
            .file_at(path)
            .and_then(|file| file.content_type)
            .unwrap_or_else(|| aas_serde::OCTET_STREAM.into());
    }
    if attachment.file_name.is_empty() {
        attachment.file_name = submodel
            .file_at(path)
            .and_then(|file| file.value)
            .map(|value| aas_model::file_name_of(&value).to_owned())
            .unwrap_or_default();
    }
    attachment
}

/// What becomes of the stored files of one owner (`rows`: path and file name) after a write:
/// for each file no longer held where it is, the path it moves to, or `None` (dropped). A file
/// is held by the File at its idShort path whose value names it (`holds`); one no longer held
/// there moves to the one File elsewhere that names it and holds no other file (`holders`: a
/// list element shifted by a deletion, a renamed idShort); otherwise it is dropped (its element
/// or value is gone: a deleted collection takes its Files' bytes along). Empty when every file
/// is held. Backends park the files listed out of the way first (a move may go where another
/// listed file sits), then put each in place.
pub(super) fn unheld_files(
    rows: Vec<(String, String)>,
    holds: &dyn Fn(&str, &str) -> bool,
    holders: &dyn Fn(&str) -> Vec<String>,
) -> Vec<(String, Option<String>)> {
    let (held, unheld): (Vec<_>, Vec<_>) =
        rows.into_iter().partition(|(path, name)| holds(path, name));
    let mut taken: std::collections::HashSet<String> =
        held.into_iter().map(|(path, _)| path).collect();
    unheld
        .into_iter()
        .map(|(path, name)| {
            let free: Vec<String> = holders(&name)
                .into_iter()
                .filter(|candidate| !taken.contains(candidate))
                .collect();
            let to = match <[String; 1]>::try_from(free) {
                Ok([to]) => {
                    taken.insert(to.clone());
                    Some(to)
                }
                Err(_) => None,
            };
            (path, to)
        })
        .collect()
}

/// The submodel's JSON without blob values (Part 2's default answer), when it differs from
/// the submodel (`json`, as stored).
pub(super) fn blob_free_view(submodel: &Submodel, json: &str) -> Option<String> {
    // Looked for before copying: most submodels hold no blob value, and copying one to find
    // out costs about as much as serializing it, under the writer lock. A Blob is always
    // written with `"modelType":"Blob"`, so JSON without `"Blob"` holds none: a scan of the
    // bytes instead of a walk over every element (the walk was 1.6 % of a 50 KB PUT's CPU in
    // a profile), which is left for the submodels that name a Blob.
    if !json.contains("\"Blob\"")
        || !submodel
            .submodel_elements
            .iter()
            .flatten()
            .any(aas_model::SubmodelElement::holds_blob_value)
    {
        return None;
    }
    let mut view = submodel.clone();
    let mut dropped = false;
    for element in view.submodel_elements.iter_mut().flatten() {
        dropped |= element.drop_blob_values();
    }
    dropped.then(|| aas_serde::json::to_string(&view))
}

/// The key of the AAS version in the `metadata` table.
pub(super) const VERSION_KEY: &str = "aas-version";

/// The version a `metadata` record names (`None`: `absent`).
pub(super) fn recorded_version(
    recorded: Option<String>,
    absent: aas_model::Version,
) -> Result<aas_model::Version, StorageError> {
    match recorded {
        Some(text) => text.parse().map_err(|aas_model::UnknownVersion(recorded)| {
            StorageError::UnknownRecordedVersion { recorded }
        }),
        None => Ok(absent),
    }
}

/// Checks one stored element (`json` under `id`) for `to`, converting from `from`; records
/// what does not fit in `change`. The converted element when it is to be rewritten: it
/// differs from the stored one, and fits or `allow_loss` (the caller counts the rewrite).
pub(super) fn fit_element<T>(
    collection: Collection,
    (id, json): (&str, &str),
    (from, to): (aas_model::Version, aas_model::Version),
    allow_loss: bool,
    change: &mut VersionChange,
) -> Result<Option<T>, StorageError>
where
    T: aas_serde::json::FromJson + aas_model::convert::Convertible + PartialEq + Clone,
    for<'a> &'a T: Into<aas_model::Node<'a>>,
{
    let stored: T = decode(id, json)?;
    let mut converted = stored.clone();
    // Always converted by the rules (the report is the same as a refusal's), so that the
    // findings are those of the element as it would be stored; without `allow_loss` it is not
    // rewritten. Verifying the unconverted element instead listed each report entry twice.
    let report = match aas_model::convert::convert(&mut converted, from, to, true) {
        Ok(report) => report,
        Err(refused) => refused.report,
    };
    let findings = beyond_report(&report, aas_model::verify_as(&converted, to));
    let fits = report.is_lossless() && findings.is_empty();
    if !fits {
        change.problems.push(VersionProblem {
            element: format!("{} {id:?}", collection.noun()),
            report,
            findings,
        });
    }
    Ok((converted != stored && (fits || allow_loss)).then_some(converted))
}

/// The findings the report does not already list: data that was invalid before the
/// conversion too (the report leaves it out). An entry the conversion kept (`rule: None`)
/// names its finding's path and starts with its rule.
fn beyond_report(
    report: &aas_model::convert::ConversionReport,
    findings: impl Iterator<Item = aas_model::Finding>,
) -> Vec<String> {
    findings
        .filter(|finding| {
            !report.entries.iter().any(|entry| {
                entry.path == finding.path()
                    && entry
                        .problem
                        .strip_prefix(finding.rule())
                        .is_some_and(|rest| rest.starts_with(':'))
            })
        })
        .map(|finding| finding.to_string())
        .collect()
}
