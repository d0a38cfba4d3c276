//! Environment export: the elements a selection names, the concept descriptions their semantic
//! ids refer to, and the files they carry, written as JSON, XML or an AASX package. Push jobs
//! and the reference server's `GET /serialization` both export through here.
//!
//! ```text
//! Export::gather(source, shell ids, submodel ids, concept descriptions, files?) -> Export
//! export.write(format, version)                                                -> bytes
//! ```

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use aas_model::convert::{ConversionReport, Convertible};
use aas_model::{
    AssetAdministrationShell, ConceptDescription, HasSemantics, Submodel, SubmodelElement, Version,
};
use aas_serde::EnvironmentRef;
use aas_serde::aasx::AasxWriter;
use bytes::Bytes;

use crate::job::{SerializationFormat, Source, SourceError};

/// A file an exported element refers to (a shell's thumbnail, a `File` element's value), as a
/// [`Source`] hands it out through [`Source::files`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFile {
    /// The path inside the package, as the element names it (`/aasx/files/manual.pdf`).
    pub path: String,
    /// The file's MIME type (`application/pdf`), written as the part's content type.
    pub content_type: String,
    /// The file's content.
    pub bytes: Bytes,
    /// Whether it is a shell's default thumbnail (the first of them becomes the package's
    /// thumbnail, the others supplementary files).
    pub thumbnail: bool,
}

impl ExportFile {
    /// A shell's stored thumbnail, under the path the shell's default thumbnail gives; `None`
    /// when the shell has no default thumbnail (nothing in the package would name the file).
    pub fn thumbnail_of(
        shell: &AssetAdministrationShell,
        content_type: String,
        bytes: Bytes,
    ) -> Option<ExportFile> {
        let thumbnail = shell.asset_information.default_thumbnail.as_ref()?;
        Some(ExportFile {
            path: thumbnail.path.clone(),
            content_type,
            bytes,
            thumbnail: true,
        })
    }

    /// A submodel's stored file of the `File` element at idShort path `element`, under the
    /// element's value; `None` when no File is there or its value is no package path (does not
    /// start with `/`: a URL or a relative path names no part of the package).
    pub fn of_file_element(
        submodel: &Submodel,
        element: &str,
        content_type: String,
        bytes: Bytes,
    ) -> Option<ExportFile> {
        let element = submodel.element(&element.parse().ok()?)?;
        let SubmodelElement::File(file) = element else {
            return None;
        };
        let path = file.value.filter(|value| value.starts_with('/'))?;
        Some(ExportFile {
            path,
            content_type,
            bytes,
            thumbnail: false,
        })
    }
}

/// Which concept descriptions an export holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ConceptDescriptions {
    /// None.
    #[default]
    None,
    /// Those the first keys of the submodels' and their elements' semantic ids name (those the
    /// source does not have are left out: a semantic id need not name one of its concept
    /// descriptions).
    Referenced,
    /// These, in this order (those the source does not have are left out).
    These(Vec<String>),
}

impl From<bool> for ConceptDescriptions {
    /// `true`: [`ConceptDescriptions::Referenced`], as push requests and `/serialization` mean
    /// `includeConceptDescriptions`.
    fn from(include: bool) -> Self {
        if include {
            ConceptDescriptions::Referenced
        } else {
            ConceptDescriptions::None
        }
    }
}

/// The elements of an export, shared as the source handed them out, and their files.
#[derive(Debug, Clone, Default)]
pub struct Export {
    /// The shells (the environment's `assetAdministrationShells`), in the order of the ids
    /// asked for.
    pub shells: Vec<Arc<AssetAdministrationShell>>,
    /// The submodels (`submodels`), in the order of the ids asked for.
    pub submodels: Vec<Arc<Submodel>>,
    /// The concept descriptions (`conceptDescriptions`), as [`ConceptDescriptions`] chose
    /// them.
    pub concept_descriptions: Vec<Arc<ConceptDescription>>,
    /// Only AASX packages carry them; empty unless [`Export::gather`] was asked for them.
    pub files: Vec<ExportFile>,
}

/// Why an export failed. The texts are those push jobs report as their `message`.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The source failed (not "it does not exist": that is [`ExportError::UnknownIds`]).
    #[error("reading the elements failed: {0}")]
    Read(#[source] SourceError),
    /// The source answered a different number of elements than it was asked for (the export
    /// would hold the wrong elements).
    #[error(
        "reading the elements failed: asked for {asked} {what}s, the source answered {answered}"
    )]
    Miscounted {
        /// `shell` or `submodel`.
        what: &'static str,
        /// How many ids were asked for.
        asked: usize,
        /// How many answers came back.
        answered: usize,
    },
    /// Ids the source does not have, each as `shell "<id>"` or `submodel "<id>"`.
    #[error("unknown ids: {}", .0.join(", "))]
    UnknownIds(Vec<String>),
    /// Converting to another AAS version would lose something (and loss was not allowed):
    /// what, per element.
    #[error(
        "converting to AAS {to} would lose: {} (allowLoss: true writes anyway, applying the \
         rules listed)",
        .refused.join("; ")
    )]
    Lossy {
        /// The version the elements were to be converted to.
        to: Version,
        /// What each element would lose, one line per loss
        /// (`<shell|submodel|concept description> "<id>": <path>: <problem>`), at most
        /// [`MAX_CONVERSION_LINES`] and then one saying how many more.
        refused: Vec<String>,
    },
    /// Writing the XML environment failed.
    #[error("serializing the elements failed: {0}")]
    Xml(#[source] aas_serde::xml::WriteError),
    /// Writing the AASX package failed.
    #[error("serializing the elements failed: {0}")]
    Aasx(#[source] aas_serde::aasx::Error),
}

/// At most this many lines of a conversion report go into a job's message or metadata; a last
/// line says how many more there were.
pub const MAX_CONVERSION_LINES: usize = 100;

/// The elements found; the ids of the others go to `missing`. An error when the source
/// answered a different number of ids than asked.
pub(crate) fn keep_found<T>(
    found: Vec<Option<T>>,
    ids: &[&str],
    what: &'static str,
    missing: &mut Vec<String>,
) -> Result<Vec<T>, ExportError> {
    if found.len() != ids.len() {
        return Err(ExportError::Miscounted {
            what,
            asked: ids.len(),
            answered: found.len(),
        });
    }
    let mut kept = Vec::with_capacity(found.len());
    for (element, id) in found.into_iter().zip(ids) {
        match element {
            Some(element) => kept.push(element),
            None => missing.push(format!("{what} {id:?}")),
        }
    }
    Ok(kept)
}

/// The first key values of every semantic id of the submodels and their elements (shells have
/// none), each once, sorted.
pub(crate) fn semantic_ids(submodels: &[Arc<Submodel>]) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut add = |reference: Option<&aas_model::Reference>| {
        if let Some(key) = reference.and_then(|r| r.keys.first()) {
            ids.insert(key.value.clone());
        }
    };
    for submodel in submodels {
        add(submodel.semantic_id());
        let mut stack: Vec<&SubmodelElement> =
            submodel.submodel_elements.iter().flatten().collect();
        while let Some(element) = stack.pop() {
            add(element.semantic_id());
            stack.extend(element.children());
        }
    }
    ids
}

impl Export {
    /// Gathers what a selection names from `source`: the shells and submodels of the ids (each id
    /// once is the caller's business; an unknown one fails the export, all of them listed in
    /// [`ExportError::UnknownIds`]), the concept descriptions `concept_descriptions` says, and,
    /// with `files` (only AASX packages carry them), the files of the shells and submodels from
    /// [`Source::files`]. Naming nothing gathers an empty export.
    pub async fn gather(
        source: &dyn Source,
        shell_ids: &[&str],
        submodel_ids: &[&str],
        concept_descriptions: impl Into<ConceptDescriptions>,
        files: bool,
    ) -> Result<Export, ExportError> {
        let found_shells = source.shells(shell_ids).await.map_err(ExportError::Read)?;
        let found_submodels = source
            .submodels(submodel_ids)
            .await
            .map_err(ExportError::Read)?;
        let mut missing = Vec::new();
        let shells = keep_found(found_shells, shell_ids, "shell", &mut missing)?;
        let submodels = keep_found(found_submodels, submodel_ids, "submodel", &mut missing)?;
        if !missing.is_empty() {
            return Err(ExportError::UnknownIds(missing));
        }
        let wanted: Vec<String> = match concept_descriptions.into() {
            ConceptDescriptions::None => Vec::new(),
            ConceptDescriptions::Referenced => semantic_ids(&submodels).into_iter().collect(),
            ConceptDescriptions::These(ids) => ids,
        };
        let concept_descriptions = if wanted.is_empty() {
            Vec::new()
        } else {
            let ids: Vec<&str> = wanted.iter().map(String::as_str).collect();
            source
                .concept_descriptions(&ids)
                .await
                .map_err(ExportError::Read)?
                .into_iter()
                .flatten()
                .collect()
        };
        let files = if files {
            source
                .files(&shells, &submodels)
                .await
                .map_err(ExportError::Read)?
        } else {
            Vec::new()
        };
        Ok(Export {
            shells,
            submodels,
            concept_descriptions,
            files,
        })
    }

    /// The environment of the export in `format`, its XML namespace (XML and AASX) that of
    /// `version`, written from the shared elements (no copies). An AASX package carries the files:
    /// the first thumbnail as the package's thumbnail, every other file as a supplementary file,
    /// each path once (the first file of a path wins).
    pub fn write(
        &self,
        format: SerializationFormat,
        version: Version,
    ) -> Result<Vec<u8>, ExportError> {
        let shells: Vec<&AssetAdministrationShell> =
            self.shells.iter().map(AsRef::as_ref).collect();
        let submodels: Vec<&Submodel> = self.submodels.iter().map(AsRef::as_ref).collect();
        let concept_descriptions: Vec<&ConceptDescription> = self
            .concept_descriptions
            .iter()
            .map(AsRef::as_ref)
            .collect();
        let env = EnvironmentRef {
            asset_administration_shells: &shells,
            submodels: &submodels,
            concept_descriptions: &concept_descriptions,
        };
        let spec = match format {
            SerializationFormat::Json => return Ok(aas_serde::json::to_vec(&env)),
            SerializationFormat::Xml => {
                return aas_serde::xml::to_vec_as(&env, version).map_err(ExportError::Xml);
            }
            SerializationFormat::AasxJson => aas_serde::Format::Json,
            SerializationFormat::AasxXml => aas_serde::Format::Xml,
        };
        let mut writer = AasxWriter::new(Vec::new(), spec).with_version(version);
        writer.write_environment(&env).map_err(ExportError::Aasx)?;
        let mut written = HashSet::new();
        let thumbnail = self.files.iter().find(|file| file.thumbnail);
        if let Some(file) = thumbnail {
            written.insert(file.path.as_str());
            writer
                .set_thumbnail(&file.path, &file.content_type, file.bytes.as_ref())
                .map_err(ExportError::Aasx)?;
        }
        // Thumbnails first (as shells come before submodels), then the other files.
        let (thumbnails, others): (Vec<&ExportFile>, Vec<&ExportFile>) =
            self.files.iter().partition(|file| file.thumbnail);
        for file in thumbnails.into_iter().chain(others) {
            if written.insert(file.path.as_str()) {
                writer
                    .add_supplementary_file(&file.path, &file.content_type, file.bytes.as_ref())
                    .map_err(ExportError::Aasx)?;
            }
        }
        writer.finish().map_err(ExportError::Aasx)
    }

    /// How many shells, submodels and concept descriptions it holds.
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.shells.len(),
            self.submodels.len(),
            self.concept_descriptions.len(),
        )
    }

    /// Converts every element from `from` to `to` (copies: the source's stay as they are):
    /// what was lost (with `allow_loss`, at most [`MAX_CONVERSION_LINES`] lines), or
    /// [`ExportError::Lossy`] listing what each element would lose.
    pub fn convert(
        &mut self,
        from: Version,
        to: Version,
        allow_loss: bool,
    ) -> Result<Vec<String>, ExportError> {
        let how = (from, to, allow_loss);
        let (mut lost, mut refused) = (Vec::new(), Vec::new());
        for shell in &mut self.shells {
            let id = shell.id.clone();
            convert_one(shell, "shell", &id, how, &mut lost, &mut refused);
        }
        for submodel in &mut self.submodels {
            let id = submodel.id.clone();
            convert_one(submodel, "submodel", &id, how, &mut lost, &mut refused);
        }
        for cd in &mut self.concept_descriptions {
            let id = cd.id.clone();
            convert_one(cd, "concept description", &id, how, &mut lost, &mut refused);
        }
        if refused.is_empty() {
            Ok(capped(lost))
        } else {
            Err(ExportError::Lossy {
                to,
                refused: capped(refused),
            })
        }
    }
}

fn capped(mut lines: Vec<String>) -> Vec<String> {
    if lines.len() > MAX_CONVERSION_LINES {
        let more = lines.len() - MAX_CONVERSION_LINES;
        lines.truncate(MAX_CONVERSION_LINES);
        lines.push(format!("and {more} more"));
    }
    lines
}

/// Converts one element (a copy: the source's stays as it is); the report's entries go to
/// `lost` as lines naming the element, a refused conversion's to `refused`.
fn convert_one<T: Convertible + Clone>(
    element: &mut Arc<T>,
    what: &str,
    id: &str,
    (from, to, allow_loss): (Version, Version, bool),
    lost: &mut Vec<String>,
    refused: &mut Vec<String>,
) {
    let mut copy = T::clone(element);
    let report: ConversionReport =
        match aas_model::convert::convert(&mut copy, from, to, allow_loss) {
            Ok(report) => report,
            Err(refusal) => {
                refused.extend(
                    refusal
                        .report
                        .entries
                        .iter()
                        .map(|entry| format!("{what} {id:?}: {entry}")),
                );
                return;
            }
        };
    lost.extend(
        report
            .entries
            .iter()
            .map(|entry| format!("{what} {id:?}: {entry}")),
    );
    *element = Arc::new(copy);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, thumbnail: bool, bytes: &'static [u8]) -> ExportFile {
        ExportFile {
            path: path.into(),
            content_type: "application/octet-stream".into(),
            bytes: Bytes::from_static(bytes),
            thumbnail,
        }
    }

    #[test]
    fn a_package_carries_the_first_thumbnail_and_every_path_once()
    -> Result<(), Box<dyn std::error::Error>> {
        let export = Export {
            files: vec![
                file("/aasx/files/manual.pdf", false, b"first"),
                file("/thumb.png", true, b"thumb"),
                file("/other-thumb.png", true, b"other"),
                file("/aasx/files/manual.pdf", false, b"second"),
            ],
            ..Export::default()
        };
        let bytes = export.write(SerializationFormat::AasxXml, Version::LATEST)?;
        let mut package = aas_serde::aasx::AasxReader::new(std::io::Cursor::new(bytes))?;
        assert_eq!(package.thumbnail(), Some("/thumb.png"));
        let mut supplementary = package.supplementary_files().to_vec();
        supplementary.sort();
        assert_eq!(
            supplementary,
            ["/aasx/files/manual.pdf", "/other-thumb.png"]
        );
        let mut manual = Vec::new();
        std::io::Read::read_to_end(&mut package.open("/aasx/files/manual.pdf")?, &mut manual)?;
        assert_eq!(manual, b"first");
        Ok(())
    }

    #[test]
    fn stored_files_go_under_the_path_their_element_names_if_it_is_a_package_path() {
        let mut submodel = Submodel::new("urn:sm");
        let mut inside = aas_model::File::new("application/pdf").with_id_short("Manual");
        inside.value = Some("/aasx/files/manual.pdf".into());
        let mut outside = aas_model::File::new("text/html").with_id_short("Site");
        outside.value = Some("https://example.com/".into());
        submodel.submodel_elements = Some(vec![inside.into(), outside.into()]);
        let of = |at: &str| ExportFile::of_file_element(&submodel, at, "t".into(), Bytes::new());
        assert_eq!(
            of("Manual").map(|f| (f.path, f.thumbnail)),
            Some(("/aasx/files/manual.pdf".to_owned(), false))
        );
        assert_eq!(of("Site"), None, "a URL names no part of the package");
        assert_eq!(of("Missing"), None);

        let info = aas_model::AssetInformation::new(aas_model::AssetKind::Instance);
        let mut shell = AssetAdministrationShell::new("urn:aas", info);
        assert_eq!(
            ExportFile::thumbnail_of(&shell, "t".into(), Bytes::new()),
            None
        );
        shell.asset_information.default_thumbnail = Some(aas_model::Resource::new("/pic.png"));
        let thumbnail = ExportFile::thumbnail_of(&shell, "image/png".into(), Bytes::new());
        assert_eq!(
            thumbnail.map(|f| (f.path, f.thumbnail)),
            Some(("/pic.png".to_owned(), true))
        );
    }
}
