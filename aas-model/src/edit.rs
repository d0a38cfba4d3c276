//! Changes to shells and submodels as the repository API (IDTA Part 2) makes them: a shell's
//! references to submodels, an element replaced at its idShort path, and the attachments of
//! `File` and `Blob` elements.

use std::collections::HashSet;

use crate::classes::{AssetAdministrationShell, File, Reference, Submodel};
use crate::enums::AasSubmodelElements;
use crate::id_short_path::IdShortPath;
use crate::submodel_element::SubmodelElement;

/// Where the files of `File` elements go, as in AASX packages.
pub const ATTACHMENT_FOLDER: &str = "/aasx/files/";

impl AssetAdministrationShell {
    /// Whether one of the shell's submodel references names the submodel (by its first key).
    pub fn refers_to_submodel(&self, submodel_id: &str) -> bool {
        self.submodels
            .iter()
            .flatten()
            .any(|r| r.keys.first().is_some_and(|k| k.value == submodel_id))
    }

    /// Adds a submodel reference; `false` (and nothing added) when the shell has it already.
    ///
    /// ```
    /// use aas_model::{AssetAdministrationShell, AssetInformation, AssetKind, Reference};
    ///
    /// let info = AssetInformation::new(AssetKind::Instance);
    /// let mut shell = AssetAdministrationShell::new("urn:aas", info);
    /// assert!(shell.add_submodel_reference(Reference::to_submodel("urn:sm")));
    /// assert!(!shell.add_submodel_reference(Reference::to_submodel("urn:sm")));
    /// assert!(shell.refers_to_submodel("urn:sm"));
    /// ```
    pub fn add_submodel_reference(&mut self, reference: Reference) -> bool {
        let references = self.submodels.get_or_insert_with(Vec::new);
        if references.contains(&reference) {
            return false;
        }
        references.push(reference);
        true
    }

    /// Removes every reference to the submodel; `false` when there was none. A shell left
    /// without references gets no list at all (the metamodel allows no empty lists).
    pub fn remove_submodel_reference(&mut self, submodel_id: &str) -> bool {
        if !self.refers_to_submodel(submodel_id) {
            return false;
        }
        if let Some(references) = self.submodels.as_mut() {
            references.retain(|r| r.keys.first().is_none_or(|k| k.value != submodel_id));
            if references.is_empty() {
                self.submodels = None;
            }
        }
        true
    }
}

/// Why an element could not be replaced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplaceError {
    /// No element of the submodel has the given idShort path.
    #[error("no element at that idShort path")]
    NotFound,
    /// A replacement keeps the idShort: it is the element's name in its path.
    #[error("the new element's idShort {new:?} is not the element's {old:?}")]
    IdShortChanged {
        /// The idShort of the element at the path (`None` for an item of a list without one).
        old: Option<String>,
        /// The idShort of the replacement that differs from it.
        new: Option<String>,
    },
}

/// Why an attachment could not be set or removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttachmentError {
    /// No element of the submodel has the given idShort path.
    #[error("no element at that idShort path")]
    NotFound,
    /// The element at the path is of this class, which has no attachment (only `File` and
    /// `Blob` have one).
    #[error("a {} has no attachment (only File and Blob)", .0.as_str())]
    NotAnAttachment(AasSubmodelElements),
    /// The file name given for a `File` has no last segment to name the file by (it is empty
    /// or ends with `/`).
    #[error("the file name is empty")]
    EmptyFileName,
}

/// The last segment of a path or URI (`/aasx/files/a.pdf` → `a.pdf`): the name a File's
/// value or a thumbnail's path keeps its file under.
pub fn file_name_of(value: &str) -> &str {
    value.rsplit('/').next().unwrap_or(value)
}

impl AssetAdministrationShell {
    /// Whether the shell's default thumbnail names the file `name` (by its last segment).
    pub fn thumbnail_names(&self, name: &str) -> bool {
        self.asset_information
            .default_thumbnail
            .as_ref()
            .is_some_and(|thumbnail| file_name_of(&thumbnail.path) == name)
    }
}

impl Submodel {
    /// A copy of the `File` element at idShort path `path` (given as text, as attachments are
    /// keyed); `None` when the path does not parse, names nothing, or names another kind of
    /// element.
    pub fn file_at(&self, path: &str) -> Option<File> {
        match self.element(&path.parse::<IdShortPath>().ok()?)? {
            SubmodelElement::File(file) => Some(file),
            _ => None,
        }
    }

    /// Whether the element at `path` is a File whose value names the file `name` (by its last
    /// segment): whether a file kept for that element under that name is still held.
    pub fn holds_file_named(&self, path: &str, name: &str) -> bool {
        self.file_at(path)
            .and_then(|file| file.value)
            .is_some_and(|value| file_name_of(&value) == name)
    }

    /// The idShort paths of the Files whose value names the file `name`.
    pub fn files_named(&self, name: &str) -> Vec<String> {
        self.id_short_paths()
            .into_iter()
            .filter(|path| self.holds_file_named(path, name))
            .collect()
    }

    /// Replaces the element at `path` as a whole and returns the old one; the new element
    /// must have the same idShort.
    pub fn replace_element(
        &mut self,
        path: &IdShortPath,
        element: SubmodelElement,
    ) -> Result<SubmodelElement, ReplaceError> {
        self.element_mut(path, |old| {
            if old.id_short() != element.id_short() {
                return Err(ReplaceError::IdShortChanged {
                    old: old.id_short().map(str::to_owned),
                    new: element.id_short().map(str::to_owned),
                });
            }
            Ok(std::mem::replace(old, element))
        })
        .ok_or(ReplaceError::NotFound)?
    }

    /// Sets the attachment of the `File` or `Blob` at `path`: a Blob gets `bytes`; a File gets
    /// the value `/aasx/files/<name>` (its bytes are the caller's to store), where `<name>`
    /// is the last segment of `file_name`, numbered (`report-2.txt`) when another File
    /// already names it (two Files sharing a name would share one file in a package). Either
    /// gets `content_type` when one is given.
    ///
    /// ```
    /// use aas_model::{File, Submodel, SubmodelElement};
    ///
    /// let mut submodel = Submodel::new("urn:sm");
    /// let manual = File::new("application/pdf").with_id_short("Manual");
    /// submodel.submodel_elements = Some(vec![manual.into()]);
    /// let path = "Manual".parse()?;
    /// submodel.attach(&path, "docs/manual.pdf", Some("application/pdf"), &[])?;
    /// let Some(SubmodelElement::File(manual)) = submodel.element(&path) else { unreachable!() };
    /// assert_eq!(manual.value.as_deref(), Some("/aasx/files/manual.pdf"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn attach(
        &mut self,
        path: &IdShortPath,
        file_name: &str,
        content_type: Option<&str>,
        bytes: &[u8],
    ) -> Result<(), AttachmentError> {
        let name = file_name_of(file_name);
        if name.is_empty() {
            return Err(AttachmentError::EmptyFileName);
        }
        let name = self.unused_file_name(path, name);
        self.element_mut(path, |element| match element {
            SubmodelElement::File(file) => {
                if let Some(content_type) = content_type {
                    file.content_type = Some(content_type.to_owned());
                }
                file.value = Some(format!("{ATTACHMENT_FOLDER}{name}"));
                Ok(())
            }
            SubmodelElement::Blob(blob) => {
                if let Some(content_type) = content_type {
                    blob.content_type = Some(content_type.to_owned());
                }
                blob.value = Some(bytes.to_vec());
                Ok(())
            }
            other => Err(AttachmentError::NotAnAttachment(other.element_type())),
        })
        .ok_or(AttachmentError::NotFound)?
    }

    /// Removes the attachment of the `File` or `Blob` at `path` (its value).
    pub fn detach(&mut self, path: &IdShortPath) -> Result<(), AttachmentError> {
        self.element_mut(path, |element| match element {
            SubmodelElement::File(file) => {
                file.value = None;
                Ok(())
            }
            SubmodelElement::Blob(blob) => {
                blob.value = None;
                Ok(())
            }
            other => Err(AttachmentError::NotAnAttachment(other.element_type())),
        })
        .ok_or(AttachmentError::NotFound)?
    }

    /// `name`, or `name` numbered (`report-2.txt`) when a File other than the one at `path`
    /// has a value naming it.
    fn unused_file_name(&self, path: &IdShortPath, name: &str) -> String {
        let own = path.to_string();
        let taken: HashSet<String> = self
            .id_short_paths()
            .into_iter()
            .filter(|other| *other != own)
            .filter_map(|other| match self.element(&other.parse().ok()?)? {
                SubmodelElement::File(file) => {
                    file.value.as_deref().map(|v| file_name_of(v).to_owned())
                }
                _ => None,
            })
            .collect();
        if !taken.contains(name) {
            return name.to_owned();
        }
        let (stem, extension) = match name.rsplit_once('.') {
            Some((stem, extension)) if !stem.is_empty() => (stem, format!(".{extension}")),
            _ => (name, String::new()),
        };
        (2..)
            .map(|n| format!("{stem}-{n}{extension}"))
            .find(|candidate| !taken.contains(candidate))
            .unwrap_or_else(|| name.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classes::{AssetInformation, Blob, File, Property, SubmodelElementCollection};
    use crate::enums::{AssetKind, DataTypeDefXsd};

    fn path(text: &str) -> IdShortPath {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    /// Manual (File), Photo (Blob), Docs { Manual (File) }, Speed (Property)
    fn submodel() -> Submodel {
        let mut docs = SubmodelElementCollection::new().with_id_short("Docs");
        docs.value = Some(vec![
            File::new("application/pdf").with_id_short("Manual").into(),
        ]);
        let mut submodel = Submodel::new("urn:sm");
        submodel.submodel_elements = Some(vec![
            File::new("application/pdf").with_id_short("Manual").into(),
            Blob::new("image/png").with_id_short("Photo").into(),
            docs.into(),
            Property::new(DataTypeDefXsd::Int)
                .with_id_short("Speed")
                .into(),
        ]);
        submodel
    }

    fn file_value(submodel: &Submodel, at: &str) -> Option<String> {
        match submodel.element(&path(at)) {
            Some(SubmodelElement::File(file)) => file.value,
            _ => None,
        }
    }

    #[test]
    fn submodel_references_are_added_once_and_removed_to_no_list() {
        let info = AssetInformation::new(AssetKind::Instance);
        let mut shell = AssetAdministrationShell::new("urn:aas", info);
        assert!(!shell.refers_to_submodel("urn:sm"));
        assert!(shell.add_submodel_reference(Reference::to_submodel("urn:sm")));
        assert!(!shell.add_submodel_reference(Reference::to_submodel("urn:sm")));
        assert!(shell.refers_to_submodel("urn:sm"));
        assert!(shell.remove_submodel_reference("urn:sm"));
        assert_eq!(shell.submodels, None);
        assert!(!shell.remove_submodel_reference("urn:sm"));
    }

    #[test]
    fn a_replacement_keeps_the_id_short_and_returns_the_old_element() {
        let mut submodel = submodel();
        let speed = path("Speed");
        let mut new = Property::new(DataTypeDefXsd::Int).with_id_short("Speed");
        new.value = Some("3".into());
        let old = submodel.replace_element(&speed, new.clone().into());
        assert!(matches!(old, Ok(SubmodelElement::Property(p)) if p.value.is_none()));
        assert_eq!(submodel.element(&speed), Some(new.into()));
        let renamed = Property::new(DataTypeDefXsd::Int).with_id_short("Other");
        assert_eq!(
            submodel.replace_element(&speed, renamed.into()),
            Err(ReplaceError::IdShortChanged {
                old: Some("Speed".into()),
                new: Some("Other".into())
            })
        );
        let missing = Property::new(DataTypeDefXsd::Int).with_id_short("Gone");
        assert_eq!(
            submodel.replace_element(&path("Gone"), missing.into()),
            Err(ReplaceError::NotFound)
        );
    }

    #[test]
    fn a_file_gets_a_name_no_other_file_has_and_a_blob_the_bytes() -> Result<(), AttachmentError> {
        let mut submodel = submodel();
        submodel.attach(
            &path("Manual"),
            "dir/manual.pdf",
            Some("application/pdf"),
            b"x",
        )?;
        submodel.attach(&path("Docs.Manual"), "manual.pdf", None, b"y")?;
        assert_eq!(
            file_value(&submodel, "Manual").as_deref(),
            Some("/aasx/files/manual.pdf")
        );
        assert_eq!(
            file_value(&submodel, "Docs.Manual").as_deref(),
            Some("/aasx/files/manual-2.pdf")
        );
        // Attaching again under the same name keeps the File's own name.
        submodel.attach(&path("Manual"), "manual.pdf", None, b"x")?;
        assert_eq!(
            file_value(&submodel, "Manual").as_deref(),
            Some("/aasx/files/manual.pdf")
        );
        submodel.attach(&path("Photo"), "photo.png", Some("image/png"), b"png")?;
        let Some(SubmodelElement::Blob(photo)) = submodel.element(&path("Photo")) else {
            panic!("no Photo");
        };
        assert_eq!(
            (photo.value.as_deref(), photo.content_type.as_deref()),
            (Some(&b"png"[..]), Some("image/png"))
        );
        submodel.detach(&path("Manual"))?;
        assert_eq!(file_value(&submodel, "Manual"), None);
        Ok(())
    }

    #[test]
    fn only_files_and_blobs_have_attachments() {
        let mut submodel = submodel();
        assert_eq!(
            submodel.attach(&path("Speed"), "a.txt", None, b""),
            Err(AttachmentError::NotAnAttachment(
                AasSubmodelElements::Property
            ))
        );
        assert_eq!(
            submodel.detach(&path("Gone")),
            Err(AttachmentError::NotFound)
        );
        assert_eq!(
            submodel.attach(&path("Manual"), "dir/", None, b""),
            Err(AttachmentError::EmptyFileName)
        );
    }

    #[test]
    fn a_file_is_held_only_by_the_file_element_whose_value_names_it()
    -> Result<(), Box<dyn std::error::Error>> {
        let mut submodel = Submodel::new("urn:sm");
        submodel.submodel_elements = Some(vec![
            File::new("application/pdf").with_id_short("Manual").into(),
            File::new("text/plain").with_id_short("Copy").into(),
            crate::Blob::new("text/plain").with_id_short("Data").into(),
        ]);
        submodel.attach(&"Manual".parse()?, "manual.pdf", None, &[])?;
        submodel.attach(&"Copy".parse()?, "other/manual.pdf", None, &[])?;
        assert!(submodel.holds_file_named("Manual", "manual.pdf"));
        assert!(!submodel.holds_file_named("Manual", "other.pdf"));
        assert!(
            !submodel.holds_file_named("Data", "manual.pdf"),
            "a Blob holds no file"
        );
        assert!(!submodel.holds_file_named("not a path[", "manual.pdf"));
        assert_eq!(submodel.files_named("manual.pdf"), ["Manual"]);
        assert_eq!(submodel.files_named("manual-2.pdf"), ["Copy"]);
        assert_eq!(
            submodel.file_at("Manual").and_then(|f| f.content_type),
            Some("application/pdf".to_owned())
        );
        assert!(submodel.file_at("Data").is_none());
        Ok(())
    }

    #[test]
    fn a_shells_thumbnail_names_its_file_by_the_last_segment() {
        let mut information = crate::AssetInformation::new(crate::AssetKind::Instance);
        information.default_thumbnail = Some(crate::Resource::new("/aasx/files/pic.png"));
        let shell = AssetAdministrationShell::new("urn:aas", information);
        assert!(shell.thumbnail_names("pic.png"));
        assert!(!shell.thumbnail_names("aasx"));
    }

    #[test]
    fn a_blob_value_is_found_below_collections_until_it_is_dropped() -> Result<(), AttachmentError>
    {
        let mut submodel = submodel();
        let holds = |s: &Submodel| {
            s.submodel_elements
                .iter()
                .flatten()
                .any(SubmodelElement::holds_blob_value)
        };
        assert!(!holds(&submodel), "a Blob without value holds none");
        let mut docs = SubmodelElementCollection::new().with_id_short("More");
        docs.value = Some(vec![Blob::new("image/png").with_id_short("Inner").into()]);
        submodel
            .submodel_elements
            .get_or_insert_with(Vec::new)
            .push(docs.into());
        submodel.attach(&path("More.Inner"), "x.png", None, b"png")?;
        assert!(holds(&submodel));
        for element in submodel.submodel_elements.iter_mut().flatten() {
            element.drop_blob_values();
        }
        assert!(!holds(&submodel));
        Ok(())
    }
}
