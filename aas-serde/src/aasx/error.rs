//! Errors of reading and writing AASX packages.

/// Why a package could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a ZIP archive, or the archive is damaged.
    #[error("not a readable ZIP/OPC package: {0}")]
    Zip(#[source] zip::result::ZipError),
    /// The data of a part cannot be read from the archive (not an I/O error).
    #[error("not a readable ZIP/OPC package: part {part:?}: {source}")]
    ZipPart {
        /// The part name, e.g. `/aasx/data.xml`.
        part: String,
        /// What the ZIP reader refused.
        #[source]
        source: zip::result::ZipError,
    },
    /// Reading or writing failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// More entries than the limit allows.
    #[error("the package has {count} entries; the limit is {max}")]
    TooManyEntries {
        /// The number of entries in the ZIP central directory.
        count: usize,
        /// [`Limits::max_entries`](super::Limits::max_entries).
        max: usize,
    },
    /// More uncompressed data than the limit allows (declared or found while reading).
    #[error("the package holds more than {max} bytes uncompressed")]
    TooLarge {
        /// [`Limits::max_total_size`](super::Limits::max_total_size), in bytes.
        max: u64,
    },
    /// A part compresses far better than real data does: a zip bomb.
    #[error("part {part:?} expands {ratio}x when decompressed; the limit is {max}x (zip bomb?)")]
    CompressionRatio {
        /// The entry's name as the archive spells it.
        part: String,
        /// Uncompressed size divided by compressed size (rounded down).
        ratio: u64,
        /// [`Limits::max_compression_ratio`](super::Limits::max_compression_ratio).
        max: u64,
    },
    /// A part larger than may be loaded into memory (spec parts are parsed whole).
    #[error("part {part:?} has {size} bytes; parts parsed in memory may have at most {max}")]
    PartTooLarge {
        /// The part name.
        part: String,
        /// Its size in bytes: as declared, or, when the declaration lied, as far as it was
        /// read (one byte past `max`).
        size: u64,
        /// The limit in bytes: [`Limits::max_part_size`](super::Limits::max_part_size), or the
        /// smaller limit of the part's kind.
        max: u64,
    },
    /// A relationships part (`_rels/*.rels`) larger than
    /// [`Limits::max_relationships_part_size`](super::Limits::max_relationships_part_size).
    #[error(
        "relationships part {part:?} holds more than {max} bytes uncompressed; the limit for relationships parts (max_relationships_part_size) is {max}"
    )]
    RelationshipsPartTooLarge {
        /// The relationships part's name, e.g. `/_rels/.rels`.
        part: String,
        /// The limit in bytes.
        max: u64,
    },
    /// A relationships part with more relationships than
    /// [`Limits::max_relationships_per_part`](super::Limits::max_relationships_per_part).
    #[error(
        "relationships part {part:?} holds more than {max} relationships; the limit per part (max_relationships_per_part) is {max}"
    )]
    TooManyRelationshipsInPart {
        /// The relationships part's name.
        part: String,
        /// The limit, in `Relationship` elements.
        max: usize,
    },
    /// More relationships in all the relationships parts read than
    /// [`Limits::max_relationships`](super::Limits::max_relationships).
    #[error(
        "relationships part {part:?} takes the package over {max} relationships in all; the limit (max_relationships) is {max}"
    )]
    TooManyRelationships {
        /// The relationships part that went over the limit.
        part: String,
        /// The limit, in `Relationship` elements of all parts read.
        max: usize,
    },
    /// `[Content_Types].xml` larger than
    /// [`Limits::max_content_types_size`](super::Limits::max_content_types_size).
    #[error(
        "content types part {part:?} holds more than {max} bytes uncompressed; the limit (max_content_types_size) is {max}"
    )]
    ContentTypesTooLarge {
        /// The part's name as found (`/[Content_Types].xml`).
        part: String,
        /// The limit in bytes.
        max: u64,
    },
    /// A part's data could not be read: damaged, or larger than its entry declares.
    #[error("part {part:?} cannot be read: {source}")]
    PartData {
        /// The part name.
        part: String,
        /// The error of the decompressing reader.
        source: std::io::Error,
    },
    /// An entry name that could escape a directory if extracted (`..`, drive letters).
    #[error("unsafe entry name {name:?}: {reason}")]
    UnsafeName {
        /// The entry name as the archive spells it.
        name: String,
        /// Why it is unsafe, e.g. ``it contains a `..` segment``.
        reason: &'static str,
    },
    /// Two entries with the same part name (exactly the same, or the same as OPC compares
    /// names: case-insensitive, percent-decoded).
    #[error("duplicate part name {0:?}")]
    DuplicatePart(String),
    /// No `aasx-origin` relationship from the package root.
    #[error("no aasx-origin relationship in /_rels/.rels: this is not an AASX package")]
    NoOrigin,
    /// The origin names no `aas-spec` part.
    #[error("the package has no aas-spec part (no environment)")]
    NoSpec,
    /// A relationship or name points to a part that does not exist.
    #[error("part {part:?} (referenced by {referenced_by}) is not in the package")]
    MissingPart {
        /// The part name looked for.
        part: String,
        /// Who named it: `the origin` (an aas-spec part its relationship names) or `the
        /// caller` (a part asked for by [`AasxReader::open`](super::AasxReader::open)).
        referenced_by: String,
    },
    /// A relationship target that leaves the package.
    #[error("relationship target {0:?} points outside the package")]
    TargetOutside(String),
    /// A part that should be XML (relationships, content types) is not well-formed.
    #[error("part {part:?} is not well-formed XML: {message}")]
    PartXml {
        /// The part name.
        part: String,
        /// What the XML parser found wrong, with its position.
        message: String,
    },
    /// The format of an aas-spec part is neither XML nor JSON.
    #[error("aas-spec part {part:?} is neither XML nor JSON (content type {content_type:?})")]
    UnknownSpecFormat {
        /// The aas-spec part's name.
        part: String,
        /// The content type `[Content_Types].xml` gives it.
        content_type: String,
    },
    /// The JSON of an aas-spec part does not read.
    #[error("{part}: {source}")]
    SpecJson {
        /// The aas-spec part's name.
        part: String,
        /// The JSON reader's error (path, line and column within the part).
        source: Box<crate::json::Error>,
    },
    /// The XML of an aas-spec part does not read.
    #[error("{part}: {source}")]
    SpecXml {
        /// The aas-spec part's name.
        part: String,
        /// The XML reader's error (element path, line and column within the part).
        source: Box<crate::xml::Error>,
    },
    /// Two XML aas-spec parts of different metamodel versions (namespaces): the package has
    /// no one version.
    #[error(
        "aas-spec parts of different AAS versions: {first_part} is V{first_version}, {part} is V{version}"
    )]
    MixedVersions {
        /// The first XML aas-spec part read.
        first_part: String,
        /// Its version, by its namespace.
        first_version: aas_model::Version,
        /// The XML aas-spec part of another version.
        part: String,
        /// That part's version.
        version: aas_model::Version,
    },
    /// The environment cannot be written as XML.
    #[error("{0}")]
    XmlWrite(#[from] crate::xml::WriteError),
    /// The writer was used out of order (e.g. two environments).
    #[error("{0}")]
    Usage(&'static str),
}

impl From<zip::result::ZipError> for Error {
    fn from(e: zip::result::ZipError) -> Self {
        match e {
            zip::result::ZipError::Io(e) => Error::Io(e),
            other => Error::Zip(other),
        }
    }
}
