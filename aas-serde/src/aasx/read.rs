//! Reading AASX packages from a seekable source, tolerating what real packages do wrong and
//! reporting each repair.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{Read, Seek, SeekFrom};

use aas_model::{Environment, Version};
use zip::ZipArchive;

use super::error::Error;
use super::opc::{self, ContentTypes, Relationship};
use crate::Format;

/// Safety limits for reading packages from untrusted sources.
///
/// Each is checked before the data it bounds is held in memory: declared sizes first, then
/// the bytes actually read, through a reader that stops one byte past the limit (declared
/// sizes can lie). The defaults are [`Limits::DEFAULT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most ZIP entries a package may have.
    pub max_entries: usize,
    /// Most bytes all entries may hold uncompressed (declared, and counted while reading).
    pub max_total_size: u64,
    /// Most bytes an aas-spec, relationship or content-types part may hold (they are read into
    /// memory; supplementary files are streamed and only count toward the total).
    pub max_part_size: u64,
    /// Highest ratio of uncompressed to compressed size of a part larger than 1 MiB.
    pub max_compression_ratio: u64,
    /// Most bytes a relationships part (`_rels/*.rels`) may hold uncompressed (real ones hold
    /// a few KiB; a relationship bomb compresses too little for the ratio check to catch it).
    pub max_relationships_part_size: u64,
    /// Most `Relationship` elements one relationships part may hold.
    pub max_relationships_per_part: usize,
    /// Most `Relationship` elements all the relationships parts read may hold together (the
    /// root's, the origin's and every aas-spec part's).
    pub max_relationships: usize,
    /// Most bytes `[Content_Types].xml` may hold uncompressed.
    pub max_content_types_size: u64,
}

impl Limits {
    /// 10,000 entries, 16 GiB in all, 1 GiB per parsed part, ratio 100; relationships parts
    /// of at most 16 MiB and 100,000 relationships each, 200,000 in all; content types of at
    /// most 16 MiB.
    pub const DEFAULT: Limits = Limits {
        max_entries: 10_000,
        max_total_size: 16 << 30,
        max_part_size: 1 << 30,
        max_compression_ratio: 100,
        max_relationships_part_size: 16 << 20,
        max_relationships_per_part: 100_000,
        max_relationships: 200_000,
        max_content_types_size: 16 << 20,
    };
}

impl Default for Limits {
    /// [`Limits::DEFAULT`].
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The parts read whole into memory, each with its own size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InMemory {
    Spec,
    Relationships,
    ContentTypes,
}

/// Something the reader had to repair to read the package, with the part concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// The part (or entry) concerned.
    pub part: String,
    /// What was wrong and how it was read anyway.
    pub message: String,
}

impl fmt::Display for Repair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.part, self.message)
    }
}

/// An aas-spec part: the file holding (part of) the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecPart {
    /// Part name, e.g. `/aasx/data.xml`.
    pub name: String,
    /// Its format, JSON or XML: by its content type, or by its extension when the content
    /// type is neither.
    pub format: Format,
}

/// A ZIP entry: its index and its part name (with a leading `/`, `\` turned to `/`).
#[derive(Debug, Clone)]
struct Entry {
    index: usize,
    name: String,
    size: u64,
}

/// A package opened for reading.
///
/// Parts are found as OPC compares names (case-insensitive, percent-decoded); the
/// environment is read by [`AasxReader::environment`], supplementary files by
/// [`AasxReader::open`] one at a time, streaming.
pub struct AasxReader<R: Read + Seek> {
    archive: ZipArchive<R>,
    limits: Limits,
    entries: HashMap<String, Entry>,
    spec_parts: Vec<SpecPart>,
    supplementary: Vec<String>,
    thumbnail: Option<String>,
    core_properties: Option<String>,
    repairs: Vec<Repair>,
    /// `Relationship` elements read so far, in all relationships parts.
    relationships_read: usize,
    /// The version JSON parts are read as when the package has no XML part (XML parts go by
    /// their namespace, and JSON parts beside them by theirs).
    json_version: Version,
    /// The version of the environment read (`None` before [`AasxReader::environment`]).
    version: Option<Version>,
}

impl<R: Read + Seek> fmt::Debug for AasxReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AasxReader")
            .field("spec_parts", &self.spec_parts)
            .field("supplementary", &self.supplementary)
            .field("thumbnail", &self.thumbnail)
            .field("repairs", &self.repairs)
            .finish_non_exhaustive()
    }
}

fn is_aasx_type(type_: &str, name: &str) -> Option<bool> {
    // Some(legacy?) when the type names `name` in either namespace.
    if type_.strip_prefix(opc::AASX_REL_NS) == Some(name) {
        Some(false)
    } else if type_.strip_prefix(opc::AASX_REL_NS_LEGACY) == Some(name) {
        Some(true)
    } else {
        None
    }
}

fn format_of_content_type(content_type: &str) -> Option<Format> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "text/xml" | "application/xml" => Some(Format::Xml),
        "application/json" | "text/json" => Some(Format::Json),
        e if e.ends_with("+xml") => Some(Format::Xml),
        e if e.ends_with("+json") => Some(Format::Json),
        _ => None,
    }
}

/// A file a package carries for an element ([`AasxReader::element_files`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementFile {
    /// The shell or File element that names the file.
    pub owner: FileOwner,
    /// The element's content type, else `application/octet-stream`.
    pub content_type: String,
    /// The last segment of the name the element gives.
    pub file_name: String,
    /// The file's whole content, as stored in the package.
    pub bytes: Vec<u8>,
}

/// The element a package's file belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOwner {
    /// The default thumbnail of the shell with this id.
    Thumbnail(String),
    /// The File element at this idShort path of the submodel with this id.
    File(String, String),
}

impl<R: Read + Seek> AasxReader<R> {
    /// Opens a package with the default [`Limits`].
    pub fn new(source: R) -> Result<Self, Error> {
        Self::with_limits(source, Limits::default())
    }

    /// Opens a package: reads its directory, content types and relationships (not the
    /// environment yet), checking the limits.
    pub fn with_limits(source: R, limits: Limits) -> Result<Self, Error> {
        let archive = ZipArchive::new(source)?;
        if archive.has_duplicate_names() {
            // The zip reader keeps only the last of entries with the same name: walk the
            // central directory again to name it.
            let start = archive.central_directory_start();
            let mut source = archive.into_inner();
            let name = first_repeated_name(&mut source, start)
                .map_or_else(|| "(unknown)".to_owned(), |name| name.replace('\\', "/"));
            return Err(Error::DuplicatePart(format!(
                "/{}",
                name.trim_start_matches('/')
            )));
        }
        let mut archive = archive;
        if archive.len() > limits.max_entries {
            return Err(Error::TooManyEntries {
                count: archive.len(),
                max: limits.max_entries,
            });
        }
        let mut repairs = Vec::new();
        let entries = scan_entries(&mut archive, &limits, &mut repairs)?;
        let mut reader = AasxReader {
            archive,
            limits,
            entries,
            spec_parts: Vec::new(),
            supplementary: Vec::new(),
            thumbnail: None,
            core_properties: None,
            repairs,
            relationships_read: 0,
            json_version: Version::LATEST,
            version: None,
        };
        reader.read_structure()?;
        Ok(reader)
    }

    fn repair(&mut self, part: &str, message: impl Into<String>) {
        self.repairs.push(Repair {
            part: part.to_owned(),
            message: message.into(),
        });
    }

    /// The entry of a part name, noting a repair when it matched only case-insensitively or
    /// after percent-decoding.
    fn find(&mut self, part: &str) -> Option<Entry> {
        let entry = self.entries.get(&opc::key(part))?.clone();
        if entry.name != part {
            let why = if opc::percent_decode(&entry.name) == opc::percent_decode(part) {
                "percent-encoding differs"
            } else {
                "part names differ in case"
            };
            self.repair(part, format!("found as {:?} ({why})", entry.name));
        }
        Some(entry)
    }

    /// The whole content of a part that is parsed in memory, within the limits of its kind
    /// (and never more than `max_part_size`).
    fn read_part(&mut self, entry: &Entry, kind: InMemory) -> Result<Vec<u8>, Error> {
        let general = self.limits.max_part_size;
        let special = match kind {
            InMemory::Spec => general,
            InMemory::Relationships => self.limits.max_relationships_part_size,
            InMemory::ContentTypes => self.limits.max_content_types_size,
        };
        let max = special.min(general);
        let too_large = |size: u64| {
            let part = entry.name.clone();
            match kind {
                InMemory::Relationships if special <= general => {
                    Error::RelationshipsPartTooLarge { part, max }
                }
                InMemory::ContentTypes if special <= general => {
                    Error::ContentTypesTooLarge { part, max }
                }
                _ => Error::PartTooLarge { part, size, max },
            }
        };
        if entry.size > max {
            return Err(too_large(entry.size));
        }
        let file = self
            .archive
            .by_index(entry.index)
            .map_err(|e| part_error(&entry.name, e))?;
        let mut bytes = Vec::with_capacity(usize::try_from(entry.size).unwrap_or(0));
        // Declared sizes can lie: never read more than the limit allows (the zip reader also
        // stops at the declared size, with an error that this names the part of).
        file.take(max.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|source| Error::PartData {
                part: entry.name.clone(),
                source,
            })?;
        if bytes.len() as u64 > max {
            return Err(too_large(bytes.len() as u64));
        }
        Ok(bytes)
    }

    fn read_text_part(&mut self, entry: &Entry, kind: InMemory) -> Result<String, Error> {
        let bytes = self.read_part(entry, kind)?;
        String::from_utf8(bytes).map_err(|e| Error::PartXml {
            part: entry.name.clone(),
            message: e.to_string(),
        })
    }

    /// The relationships of a part (`None` when it has no relationships part).
    fn relationships_of(
        &mut self,
        part: &str,
    ) -> Result<Option<(String, Vec<Relationship>)>, Error> {
        let rels_name = opc::rels_part_of(part);
        let Some(entry) = self.find(&rels_name) else {
            return Ok(None);
        };
        let text = self.read_text_part(&entry, InMemory::Relationships)?;
        let per_part = self.limits.max_relationships_per_part;
        let in_all = self.limits.max_relationships;
        let left = in_all.saturating_sub(self.relationships_read);
        let (relationships, count) =
            match opc::parse_relationships(&text, &entry.name, per_part.min(left)) {
                Err(Error::TooManyRelationshipsInPart { part, .. }) if left < per_part => {
                    return Err(Error::TooManyRelationships { part, max: in_all });
                }
                other => other?,
            };
        self.relationships_read += count;
        Ok(Some((entry.name, relationships)))
    }

    /// Resolves a relationship target of `source` to an existing part; a dangling target is
    /// a repair, not an error.
    fn target(
        &mut self,
        source: &str,
        relationship: &Relationship,
        rels_part: &str,
    ) -> Result<Option<Entry>, Error> {
        let part = opc::resolve(source, &relationship.target)?;
        match self.find(&part) {
            Some(entry) => Ok(Some(entry)),
            None => {
                self.repair(
                    rels_part,
                    format!(
                        "target {:?} is not in the package; ignored",
                        relationship.target
                    ),
                );
                Ok(None)
            }
        }
    }

    fn read_structure(&mut self) -> Result<(), Error> {
        let content_types = match self.find("/[Content_Types].xml") {
            Some(entry) => {
                let text = self.read_text_part(&entry, InMemory::ContentTypes)?;
                ContentTypes::parse(&text, &entry.name)?
            }
            None => {
                self.repair(
                    "/[Content_Types].xml",
                    "missing; content types taken from file extensions",
                );
                ContentTypes::default()
            }
        };

        let (root_rels_part, root_rels) = match self.relationships_of("/")? {
            Some(found) => found,
            None if self.entries.contains_key(&opc::key("/aasx/aasx-origin")) => {
                self.repair(
                    "/_rels/.rels",
                    "missing; using the conventional origin /aasx/aasx-origin",
                );
                let origin = Relationship {
                    type_: format!("{}{}", opc::AASX_REL_NS, opc::REL_ORIGIN),
                    target: "/aasx/aasx-origin".into(),
                    external: false,
                };
                ("/_rels/.rels".to_owned(), vec![origin])
            }
            None => return Err(Error::NoOrigin),
        };

        let mut origin = None;
        let mut legacy_noted = false;
        for rel in root_rels.iter().filter(|r| !r.external) {
            if let Some(legacy) = is_aasx_type(&rel.type_, opc::REL_ORIGIN) {
                if legacy && !std::mem::replace(&mut legacy_noted, true) {
                    self.repair(&root_rels_part, "aasx-origin uses the legacy namespace http://www.admin-shell.io/aasx/relationships/");
                }
                if origin.is_none() {
                    origin = self.target("/", rel, &root_rels_part)?;
                }
            } else if rel.type_ == opc::REL_THUMBNAIL {
                self.thumbnail = self.target("/", rel, &root_rels_part)?.map(|e| e.name);
            } else if rel.type_ == opc::REL_CORE_PROPERTIES {
                self.core_properties = self.target("/", rel, &root_rels_part)?.map(|e| e.name);
            }
        }
        if origin.is_none() {
            // Some packages (two IDTA V3.1 submodel templates among them) mark the origin
            // relationship `TargetMode="External"` although it names a part of the package.
            // A part the package holds is read as the origin, noted as a repair.
            for rel in root_rels.iter().filter(|r| r.external) {
                if is_aasx_type(&rel.type_, opc::REL_ORIGIN).is_none() {
                    continue;
                }
                let Ok(part) = opc::resolve("/", &rel.target) else {
                    continue;
                };
                if let Some(entry) = self.find(&part) {
                    self.repair(
                        &root_rels_part,
                        format!(
                            "aasx-origin is marked TargetMode=\"External\" but names the package's part {:?}; read as that part",
                            entry.name
                        ),
                    );
                    origin = Some(entry);
                    break;
                }
            }
        }
        let origin = origin.ok_or(Error::NoOrigin)?;

        let (origin_rels_part, origin_rels) =
            self.relationships_of(&origin.name)?.ok_or(Error::NoSpec)?;
        let (mut legacy_noted, mut split_noted) = (false, false);
        let mut spec_names = HashSet::new();
        for rel in origin_rels.iter().filter(|r| !r.external) {
            let kind = is_aasx_type(&rel.type_, opc::REL_SPEC)
                .map(|legacy| (legacy, false))
                .or_else(|| {
                    is_aasx_type(&rel.type_, opc::REL_SPEC_SPLIT).map(|legacy| (legacy, true))
                });
            let Some((legacy, split)) = kind else {
                continue;
            };
            if legacy && !std::mem::replace(&mut legacy_noted, true) {
                self.repair(&origin_rels_part, "aas-spec uses the legacy namespace http://www.admin-shell.io/aasx/relationships/");
            }
            if split && !std::mem::replace(&mut split_noted, true) {
                self.repair(
                    &origin_rels_part,
                    "aas-spec-split (AASX V2) read as aas-spec",
                );
            }
            let Some(spec) = self.target(&origin.name, rel, &origin_rels_part)? else {
                continue;
            };
            let format = match content_types
                .of(&spec.name)
                .and_then(format_of_content_type)
            {
                Some(format) => format,
                None => {
                    let declared = content_types.of(&spec.name).unwrap_or("none").to_owned();
                    let by_extension = Format::from_path(&spec.name)
                        .filter(|f| matches!(f, Format::Json | Format::Xml));
                    let Some(format) = by_extension else {
                        return Err(Error::UnknownSpecFormat {
                            part: spec.name,
                            content_type: declared,
                        });
                    };
                    self.repair(
                        &spec.name,
                        format!("content type {declared:?} is not XML or JSON; read as {} by its extension", format.extension()),
                    );
                    format
                }
            };
            if spec_names.insert(spec.name.clone()) {
                self.spec_parts.push(SpecPart {
                    name: spec.name,
                    format,
                });
            }
        }
        if self.spec_parts.is_empty() {
            return Err(Error::NoSpec);
        }

        let spec_names: Vec<String> = self.spec_parts.iter().map(|p| p.name.clone()).collect();
        let mut supplementary = HashSet::new();
        for spec in spec_names {
            let Some((rels_part, rels)) = self.relationships_of(&spec)? else {
                continue;
            };
            let mut legacy_noted = false;
            for rel in rels.iter().filter(|r| !r.external) {
                let Some(legacy) = is_aasx_type(&rel.type_, opc::REL_SUPPL) else {
                    continue;
                };
                if legacy && !std::mem::replace(&mut legacy_noted, true) {
                    self.repair(&rels_part, "aas-suppl uses the legacy namespace http://www.admin-shell.io/aasx/relationships/");
                }
                if let Some(entry) = self.target(&spec, rel, &rels_part)?
                    && supplementary.insert(entry.name.clone())
                {
                    self.supplementary.push(entry.name);
                }
            }
        }
        Ok(())
    }

    /// The aas-spec parts, in the order of the origin's relationships.
    pub fn spec_parts(&self) -> &[SpecPart] {
        &self.spec_parts
    }

    /// Part names of the supplementary files (`aas-suppl` targets), e.g. `/aasx/suppl/a.pdf`.
    pub fn supplementary_files(&self) -> &[String] {
        &self.supplementary
    }

    /// Part name of the package thumbnail, if the package has one.
    pub fn thumbnail(&self) -> Option<&str> {
        self.thumbnail.as_deref()
    }

    /// Part name of the OPC core properties (title, creator, dates), if present.
    pub fn core_properties(&self) -> Option<&str> {
        self.core_properties.as_deref()
    }

    /// Reads JSON aas-spec parts as `version` (default: the newest) when the package has no XML
    /// aas-spec part; XML parts are read as the version their namespace names, and JSON parts
    /// beside them as that version.
    pub fn with_json_version(mut self, version: Version) -> Self {
        self.json_version = version;
        self
    }

    /// The version of the environment [`AasxReader::environment`] read: that of its XML parts,
    /// or, in a package without XML parts, the one given for JSON parts
    /// ([`AasxReader::with_json_version`]). `None` before it was read.
    pub fn version(&self) -> Option<Version> {
        self.version
    }

    /// What had to be repaired to read the package so far.
    pub fn repairs(&self) -> &[Repair] {
        &self.repairs
    }

    /// Reads the environment: every aas-spec part, merged into one (a part whose content
    /// equals one already read, such as the JSON twin of an XML part, is not added twice).
    ///
    /// The package's version is that of its XML parts (their namespace), which must agree
    /// ([`Error::MixedVersions`] otherwise); JSON parts, which carry no version, are read as
    /// that version, or as [`AasxReader::with_json_version`] says when the package has no
    /// XML part. [`AasxReader::version`] reports it.
    pub fn environment(&mut self) -> Result<Environment, Error> {
        let spec_parts = self.spec_parts.clone();
        // Parts are kept whole and merged by moving at the end: no model is ever copied.
        let mut read: Vec<Option<Environment>> = Vec::with_capacity(spec_parts.len());
        // XML parts first: they decide the version the JSON parts are read as.
        let mut xml_version: Option<(Version, &str)> = None;
        for spec in &spec_parts {
            if spec.format == Format::Json {
                read.push(None);
                continue;
            }
            let bytes = self.spec_bytes(spec)?;
            let (env, version) =
                crate::xml::from_slice_versioned(&bytes).map_err(|source| Error::SpecXml {
                    part: spec.name.clone(),
                    source: Box::new(source),
                })?;
            match xml_version {
                Some((first, first_part)) if first != version => {
                    return Err(Error::MixedVersions {
                        first_part: first_part.to_owned(),
                        first_version: first,
                        part: spec.name.clone(),
                        version,
                    });
                }
                Some(_) => {}
                None => xml_version = Some((version, &spec.name)),
            }
            read.push(Some(env));
        }
        let version = xml_version.map_or(self.json_version, |(version, _)| version);
        for (spec, slot) in spec_parts.iter().zip(read.iter_mut()) {
            if spec.format != Format::Json {
                continue;
            }
            let bytes = self.spec_bytes(spec)?;
            let env =
                crate::json::from_slice_as(&bytes, version).map_err(|source| Error::SpecJson {
                    part: spec.name.clone(),
                    source: Box::new(source),
                })?;
            *slot = Some(env);
        }
        self.version = Some(version);
        let mut parts: Vec<Environment> = Vec::with_capacity(read.len());
        for (spec, env) in spec_parts.iter().zip(read) {
            let Some(env) = env else { continue };
            if parts.contains(&env) {
                self.repair(
                    &spec.name,
                    "same content as an earlier aas-spec part; read once",
                );
                continue;
            }
            parts.push(env);
        }
        let mut parts = parts.into_iter();
        let mut merged = parts.next().unwrap_or_default();
        for env in parts {
            append(
                &mut merged.asset_administration_shells,
                env.asset_administration_shells,
            );
            append(&mut merged.submodels, env.submodels);
            append(&mut merged.concept_descriptions, env.concept_descriptions);
        }
        Ok(merged)
    }

    /// The bytes of an aas-spec part.
    fn spec_bytes(&mut self, spec: &SpecPart) -> Result<Vec<u8>, Error> {
        let entry = self.find(&spec.name).ok_or_else(|| Error::MissingPart {
            part: spec.name.clone(),
            referenced_by: "the origin".into(),
        })?;
        self.read_part(&entry, InMemory::Spec)
    }

    /// The part a `File` value or thumbnail path names, if it is in the package: an absolute
    /// part name, a path relative to an aas-spec part or to the package root, or the name of
    /// a supplementary file. `None` for absolute URIs (`https:` …) and unknown names.
    pub fn resolve(&self, path: &str) -> Option<String> {
        if path.contains("://") || path.starts_with("//") || path.is_empty() {
            return None;
        }
        let mut candidates = vec![path.to_owned()];
        candidates.extend(
            self.spec_parts
                .iter()
                .filter_map(|spec| opc::resolve(&spec.name, path).ok()),
        );
        candidates.extend(opc::resolve("/", path).ok());
        if let Some(entry) = candidates
            .iter()
            .find_map(|c| self.entries.get(&opc::key(c)))
        {
            return Some(entry.name.clone());
        }
        let wanted = opc::key(path);
        let file_name = wanted.rsplit('/').next()?;
        self.supplementary
            .iter()
            .find(|s| opc::key(s).rsplit('/').next() == Some(file_name))
            .cloned()
    }

    /// Hands `take` each file the package carries for `environment`'s elements, one at a time
    /// (a package's files need not fit in memory together): each shell's default thumbnail and
    /// each submodel File element's value that [resolves](Self::resolve) to a part. Names that
    /// resolve to nothing (URLs, files the package lacks) are left out. The number handed.
    pub fn element_files<E: From<Error>>(
        &mut self,
        environment: &Environment,
        mut take: impl FnMut(ElementFile) -> Result<(), E>,
    ) -> Result<usize, E> {
        let mut count = 0;
        let mut hand = |reader: &mut Self, owner, name: &str, content_type: &Option<String>| {
            let Some(part) = reader.resolve(name) else {
                return Ok(());
            };
            let mut bytes = Vec::new();
            reader
                .open(&part)?
                .read_to_end(&mut bytes)
                .map_err(Error::Io)?;
            count += 1;
            take(ElementFile {
                owner,
                content_type: content_type
                    .clone()
                    .unwrap_or_else(|| crate::OCTET_STREAM.into()),
                file_name: aas_model::file_name_of(name).to_owned(),
                bytes,
            })
        };
        for shell in environment.asset_administration_shells.iter().flatten() {
            if let Some(thumbnail) = &shell.asset_information.default_thumbnail {
                let owner = FileOwner::Thumbnail(shell.id.clone());
                hand(self, owner, &thumbnail.path, &thumbnail.content_type)?;
            }
        }
        for submodel in environment.submodels.iter().flatten() {
            for path in submodel.id_short_paths() {
                if let Some(file) = submodel.file_at(&path)
                    && let Some(value) = &file.value
                {
                    let owner = FileOwner::File(submodel.id.clone(), path);
                    hand(self, owner, value, &file.content_type)?;
                }
            }
        }
        Ok(count)
    }

    /// Opens a part for reading, streaming (a supplementary file, the thumbnail, …). The
    /// reader fails rather than yield more bytes than the entry declares.
    pub fn open(&mut self, part: &str) -> Result<PartReader<'_, R>, Error> {
        let entry = self.find(part).ok_or_else(|| Error::MissingPart {
            part: part.to_owned(),
            referenced_by: "the caller".into(),
        })?;
        let file = self
            .archive
            .by_index(entry.index)
            .map_err(|e| part_error(&entry.name, e))?;
        Ok(PartReader {
            file,
            left: entry.size,
            name: entry.name,
        })
    }
}

/// The error of opening a part's data, naming the part.
fn part_error(part: &str, e: zip::result::ZipError) -> Error {
    match e {
        zip::result::ZipError::Io(source) => Error::PartData {
            part: part.to_owned(),
            source,
        },
        other => Error::ZipPart {
            part: part.to_owned(),
            source: other,
        },
    }
}

/// The first name the central directory at `start` holds twice, read from the raw headers
/// (46 fixed bytes, then the name, the extra field and the comment); `None` if the directory
/// does not read.
fn first_repeated_name<R: Read + Seek>(source: &mut R, start: u64) -> Option<String> {
    const CENTRAL_HEADER: [u8; 4] = *b"PK\x01\x02";
    source.seek(SeekFrom::Start(start)).ok()?;
    let mut seen = HashSet::new();
    let mut header = [0u8; 46];
    loop {
        source.read_exact(&mut header).ok()?;
        if header[..4] != CENTRAL_HEADER {
            return None;
        }
        let field = |at: usize| u16::from_le_bytes([header[at], header[at + 1]]);
        let mut name = vec![0u8; usize::from(field(28))];
        source.read_exact(&mut name).ok()?;
        let skip = i64::from(field(30)) + i64::from(field(32));
        source.seek(SeekFrom::Current(skip)).ok()?;
        let name = String::from_utf8_lossy(&name).into_owned();
        if !seen.insert(name.clone()) {
            return Some(name);
        }
    }
}

fn append<T>(into: &mut Option<Vec<T>>, items: Option<Vec<T>>) {
    if let Some(items) = items {
        into.get_or_insert_with(Vec::new).extend(items);
    }
}

/// Reads the entries of the archive, checking names and limits.
fn scan_entries<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    limits: &Limits,
    repairs: &mut Vec<Repair>,
) -> Result<HashMap<String, Entry>, Error> {
    let mut entries = HashMap::new();
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let file = archive.by_index_raw(index)?;
        let raw_name = file.name()?.into_owned();
        let (size, compressed, is_dir) = (file.size(), file.compressed_size(), file.is_dir());
        drop(file);
        opc::check_entry_name(&raw_name)?;
        if is_dir {
            continue;
        }
        let mut name = raw_name.replace('\\', "/");
        if name != raw_name {
            repairs.push(Repair {
                part: raw_name.clone(),
                message: "entry name uses backslashes; read with /".into(),
            });
        }
        if name.starts_with('/') {
            repairs.push(Repair {
                part: raw_name.clone(),
                message: "entry name starts with /; read without it".into(),
            });
            name = name.trim_start_matches('/').to_owned();
        }
        total = total.saturating_add(size);
        if total > limits.max_total_size {
            return Err(Error::TooLarge {
                max: limits.max_total_size,
            });
        }
        if size > 1 << 20 {
            let ratio = size / compressed.max(1);
            if ratio > limits.max_compression_ratio {
                return Err(Error::CompressionRatio {
                    part: raw_name,
                    ratio,
                    max: limits.max_compression_ratio,
                });
            }
        }
        let part = format!("/{name}");
        if entries
            .insert(
                opc::key(&part),
                Entry {
                    index,
                    name: part.clone(),
                    size,
                },
            )
            .is_some()
        {
            return Err(Error::DuplicatePart(part));
        }
    }
    Ok(entries)
}

/// A part being read (from [`AasxReader::open`]).
pub struct PartReader<'a, R: Read + Seek> {
    file: zip::read::ZipFile<'a, R>,
    /// Bytes the entry declares and that are still to come.
    left: u64,
    name: String,
}

impl<R: Read + Seek> fmt::Debug for PartReader<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartReader")
            .field("name", &self.name)
            .field("left", &self.left)
            .finish()
    }
}

impl<R: Read + Seek> Read for PartReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self
            .file
            .read(buf)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", self.name)))?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: more data than the entry declares", self.name),
            )
        })?;
        Ok(n)
    }
}
