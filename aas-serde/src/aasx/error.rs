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
        part: String,
        #[source]
        source: zip::result::ZipError,
    },
    /// Reading or writing failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// More entries than the limit allows.
    #[error("the package has {count} entries; the limit is {max}")]
    TooManyEntries { count: usize, max: usize },
    /// More uncompressed data than the limit allows (declared or found while reading).
    #[error("the package holds more than {max} bytes uncompressed")]
    TooLarge { max: u64 },
    /// A part compresses far better than real data does: a zip bomb.
    #[error("part {part:?} expands {ratio}x when decompressed; the limit is {max}x (zip bomb?)")]
    CompressionRatio { part: String, ratio: u64, max: u64 },
    /// A part larger than may be loaded into memory (spec parts are parsed whole).
    #[error("part {part:?} has {size} bytes; parts parsed in memory may have at most {max}")]
    PartTooLarge { part: String, size: u64, max: u64 },
    /// A relationships part (`_rels/*.rels`) larger than
    /// [`Limits::max_relationships_part_size`](super::Limits::max_relationships_part_size).
    #[error(
        "relationships part {part:?} holds more than {max} bytes uncompressed; the limit for relationships parts (max_relationships_part_size) is {max}"
    )]
    RelationshipsPartTooLarge { part: String, max: u64 },
    /// A relationships part with more relationships than
    /// [`Limits::max_relationships_per_part`](super::Limits::max_relationships_per_part).
    #[error(
        "relationships part {part:?} holds more than {max} relationships; the limit per part (max_relationships_per_part) is {max}"
    )]
    TooManyRelationshipsInPart { part: String, max: usize },
    /// More relationships in all the relationships parts read than
    /// [`Limits::max_relationships`](super::Limits::max_relationships).
    #[error(
        "relationships part {part:?} takes the package over {max} relationships in all; the limit (max_relationships) is {max}"
    )]
    TooManyRelationships { part: String, max: usize },
    /// `[Content_Types].xml` larger than
    /// [`Limits::max_content_types_size`](super::Limits::max_content_types_size).
    #[error(
        "content types part {part:?} holds more than {max} bytes uncompressed; the limit (max_content_types_size) is {max}"
    )]
    ContentTypesTooLarge { part: String, max: u64 },
    /// A part's data could not be read: damaged, or larger than its entry declares.
    #[error("part {part:?} cannot be read: {source}")]
    PartData {
        part: String,
        source: std::io::Error,
    },
    /// An entry name that could escape a directory if extracted (`..`, drive letters).
    #[error("unsafe entry name {name:?}: {reason}")]
    UnsafeName { name: String, reason: &'static str },
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
    MissingPart { part: String, referenced_by: String },
    /// A relationship target that leaves the package.
    #[error("relationship target {0:?} points outside the package")]
    TargetOutside(String),
    /// A part that should be XML (relationships, content types) is not well-formed.
    #[error("part {part:?} is not well-formed XML: {message}")]
    PartXml { part: String, message: String },
    /// The format of an aas-spec part is neither XML nor JSON.
    #[error("aas-spec part {part:?} is neither XML nor JSON (content type {content_type:?})")]
    UnknownSpecFormat { part: String, content_type: String },
    /// The JSON of an aas-spec part does not read.
    #[error("{part}: {source}")]
    SpecJson {
        part: String,
        source: Box<crate::json::Error>,
    },
    /// The XML of an aas-spec part does not read.
    #[error("{part}: {source}")]
    SpecXml {
        part: String,
        source: Box<crate::xml::Error>,
    },
    /// Two XML aas-spec parts of different metamodel versions (namespaces): the package has
    /// no one version.
    #[error(
        "aas-spec parts of different AAS versions: {first_part} is V{first_version}, {part} is V{version}"
    )]
    MixedVersions {
        first_part: String,
        first_version: aas_model::Version,
        part: String,
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
