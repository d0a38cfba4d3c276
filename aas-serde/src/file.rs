//! Reading and writing whole files in the format their extension names: [`read_file`],
//! [`write_file`] (re-exported at the crate root, feature `aasx`).

use std::fs;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use aas_model::Version;

use crate::aasx::{self, AasxReader, AasxWriter, Repair};
use crate::{Document, Format, json, xml};

/// Why a file could not be read or written. Every variant names the file; `Display` is one
/// line, `<path>: <what went wrong>`, fit for a command line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The extension names no format this build supports.
    #[error("{}: unsupported file extension (supported: {})", .path.display(), supported())]
    UnknownFormat {
        /// The file, as the caller named it.
        path: PathBuf,
    },
    /// Opening, reading, writing or renaming the file failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file read or written, or the package whose files were being carried over
        /// ([`LoadedFile::package`]).
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a readable JSON document.
    #[error("{}: {source}", .path.display())]
    Json {
        /// The file, as the caller named it.
        path: PathBuf,
        /// The JSON reader's error: JSON path, line and column.
        #[source]
        source: Box<json::Error>,
    },
    /// The file is not a readable XML document.
    #[error("{}: {source}", .path.display())]
    Xml {
        /// The file, as the caller named it.
        path: PathBuf,
        /// The XML reader's error: element path, line and column.
        #[source]
        source: Box<xml::Error>,
    },
    /// The document holds what XML cannot carry.
    #[error("{}: {source}", .path.display())]
    XmlWrite {
        /// The file, as the caller named it.
        path: PathBuf,
        /// The element path and the character XML 1.0 cannot carry.
        #[source]
        source: xml::WriteError,
    },
    /// The package (read, or written, or the source package whose files are carried over)
    /// is broken.
    #[error("{}: {source}", .path.display())]
    Aasx {
        /// The file read or written, or the package whose files were being carried over
        /// ([`LoadedFile::package`]).
        path: PathBuf,
        /// What is wrong with the package.
        #[source]
        source: Box<aasx::Error>,
    },
    /// Packages hold environments; an event payload has no place in one.
    #[error("{}: an event payload cannot go into an AASX package (only an environment can)", .path.display())]
    PayloadInPackage {
        /// The package that was to be written.
        path: PathBuf,
    },
}

impl FileError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            FileError::UnknownFormat { path }
            | FileError::Io { path, .. }
            | FileError::Json { path, .. }
            | FileError::Xml { path, .. }
            | FileError::XmlWrite { path, .. }
            | FileError::Aasx { path, .. }
            | FileError::PayloadInPackage { path } => path,
        }
    }
}

fn supported() -> String {
    Format::ALL
        .iter()
        .map(|f| format!(".{}", f.extension()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A document read from a file, with the AAS version it was read as, what the reader had to
/// repair and, for packages, the package itself (so that its supplementary files can be
/// carried over when it is written as a package again).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedFile {
    /// The environment (of a package too) or event payload read.
    pub document: Document,
    /// XML and XML parts of packages: the version their namespace names; JSON: the version
    /// the caller read it as.
    pub version: Version,
    /// What the package reader had to repair (always empty for JSON and XML).
    pub repairs: Vec<Repair>,
    /// The package the document was read from, if any.
    pub package: Option<PathBuf>,
}

impl From<Document> for LoadedFile {
    /// A document made in memory: of the newest version, from no package.
    fn from(document: Document) -> Self {
        LoadedFile {
            document,
            version: Version::LATEST,
            repairs: Vec::new(),
            package: None,
        }
    }
}

/// How [`write_file`] writes: indentation, the format of a package's spec part, and the AAS version (the
/// XML namespace; JSON has no marker). Writing does not convert: convert first
/// (`aas_model::convert::convert`) when the document's version is another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOptions {
    /// Indented JSON and XML (a package's spec part is written compact either way).
    pub pretty: bool,
    /// The format of a package's spec part (JSON or XML).
    pub spec_format: Format,
    /// The AAS version written: XML's namespace (of a package's XML part too); JSON has no
    /// version marker and is written the same for either.
    pub version: Version,
}

fn format_of(path: &Path) -> Result<Format, FileError> {
    Format::from_path(path).ok_or_else(|| FileError::UnknownFormat {
        path: path.to_owned(),
    })
}

/// Reads a file in the format its extension names (`.json`, `.xml`, `.aasx`,
/// case-insensitive): an environment or an event payload, or the environment of a package.
/// JSON (also a package's JSON part) is read as `json_version`; XML goes by its namespace.
///
/// The [`LoadedFile`] holds the AAS version the document was read as and, for packages, what
/// the reader repaired and where the package is, so that [`write_file`] can carry its
/// supplementary files and thumbnail over into a new package.
///
/// ```
/// use aas_model::{Environment, Submodel, Version};
/// use aas_serde::{Document, Format, LoadedFile, WriteOptions, read_file, write_file};
///
/// let dir = std::env::temp_dir().join(format!("aas-serde-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let mut env = Environment::default();
/// env.submodels = Some(vec![Submodel::new("urn:example:sm:1")]);
/// let options = WriteOptions { pretty: true, spec_format: Format::Xml, version: Version::V3_0 };
/// write_file(&dir.join("env.xml"), &LoadedFile::from(Document::from(env.clone())), options)?;
///
/// // XML is read as the version its namespace names, whatever JSON would be read as.
/// let loaded = read_file(&dir.join("env.xml"), Version::V3_1)?;
/// assert_eq!((loaded.document, loaded.version), (Document::from(env), Version::V3_0));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// A [`FileError`] naming the file: an extension of no supported format, the file not
/// readable, or its content not a document of its format.
pub fn read_file(path: &Path, json_version: Version) -> Result<LoadedFile, FileError> {
    let io_error = |source| FileError::Io {
        path: path.to_owned(),
        source,
    };
    let (document, version) = match format_of(path)? {
        Format::Aasx => return read_package(path, json_version),
        Format::Json => {
            let bytes = fs::read(path).map_err(io_error)?;
            let document =
                json::from_slice_as(&bytes, json_version).map_err(|source| FileError::Json {
                    path: path.to_owned(),
                    source: Box::new(source),
                })?;
            (document, json_version)
        }
        Format::Xml => {
            let bytes = fs::read(path).map_err(io_error)?;
            xml::from_slice_versioned(&bytes).map_err(|source| FileError::Xml {
                path: path.to_owned(),
                source: Box::new(source),
            })?
        }
    };
    Ok(LoadedFile {
        document,
        version,
        repairs: Vec::new(),
        package: None,
    })
}

fn read_package(path: &Path, json_version: Version) -> Result<LoadedFile, FileError> {
    let aasx_error = |source: aasx::Error| FileError::Aasx {
        path: path.to_owned(),
        source: Box::new(source),
    };
    let file = fs::File::open(path).map_err(|source| FileError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut package = AasxReader::new(BufReader::new(file))
        .map_err(aasx_error)?
        .with_json_version(json_version);
    let env = package.environment().map_err(aasx_error)?;
    Ok(LoadedFile {
        document: Document::Environment(env),
        // A package of JSON parts only carries no version: it was read as the one asked for.
        version: package.version().unwrap_or(json_version),
        repairs: package.repairs().to_vec(),
        package: Some(path.to_owned()),
    })
}

/// Writes a document in the format of `path`'s extension. A package gets the supplementary
/// files and thumbnail of the package `loaded` was read from. The file appears only when the
/// whole document was written (a temporary file beside it is renamed at the end), so a failed
/// write leaves an existing file as it was.
///
/// # Errors
///
/// A [`FileError`] naming the file: an extension of no supported format, an I/O error
/// (also of the source package whose files are carried over), a string XML 1.0 cannot carry,
/// or an event payload to be written as a package.
pub fn write_file(
    path: &Path,
    loaded: &LoadedFile,
    options: WriteOptions,
) -> Result<(), FileError> {
    let format = format_of(path)?;
    let io_error = |source| FileError::Io {
        path: path.to_owned(),
        source,
    };
    let temporary = temporary_beside(path);
    let result = (|| {
        let mut out = BufWriter::new(fs::File::create(&temporary).map_err(io_error)?);
        match format {
            Format::Json if options.pretty => {
                json::to_writer_pretty(&mut out, &loaded.document).map_err(io_error)?
            }
            Format::Json => json::to_writer(&mut out, &loaded.document).map_err(io_error)?,
            Format::Xml => {
                let written = if options.pretty {
                    xml::to_writer_pretty_as(&mut out, &loaded.document, options.version)
                } else {
                    xml::to_writer_as(&mut out, &loaded.document, options.version)
                };
                written.map_err(|source| FileError::XmlWrite {
                    path: path.to_owned(),
                    source,
                })?
            }
            Format::Aasx => write_package(path, &mut out, loaded, options)?,
        }
        out.flush().map_err(io_error)?;
        // On disk before it replaces the old file: a crash then leaves one or the other whole.
        out.get_ref().sync_all().map_err(io_error)?;
        fs::rename(&temporary, path).map_err(io_error)
    })();
    if result.is_err() {
        // Best effort: the error that matters is the one returned.
        let _ = fs::remove_file(&temporary);
    }
    result
}

/// Writes a package; supplementary files and the thumbnail of a source package are streamed
/// over under their part names. Errors of the source package name the source.
fn write_package(
    path: &Path,
    out: impl Write,
    loaded: &LoadedFile,
    options: WriteOptions,
) -> Result<(), FileError> {
    let Document::Environment(env) = &loaded.document else {
        return Err(FileError::PayloadInPackage {
            path: path.to_owned(),
        });
    };
    let written = |source: aasx::Error| FileError::Aasx {
        path: path.to_owned(),
        source: Box::new(source),
    };
    let mut writer = AasxWriter::new(out, options.spec_format).with_version(options.version);
    writer.write_environment(env).map_err(written)?;
    if let Some(source) = &loaded.package {
        let read = |error: aasx::Error| FileError::Aasx {
            path: source.clone(),
            source: Box::new(error),
        };
        let file = fs::File::open(source).map_err(|error| FileError::Io {
            path: source.clone(),
            source: error,
        })?;
        let mut package = AasxReader::new(BufReader::new(file)).map_err(read)?;
        for part in package.supplementary_files().to_vec() {
            let content_type = crate::content_type_of_file(&part);
            let reader = package.open(&part).map_err(read)?;
            writer
                .add_supplementary_file(&part, content_type, reader)
                .map_err(written)?;
        }
        if let Some(thumbnail) = package.thumbnail().map(str::to_owned) {
            let content_type = crate::content_type_of_file(&thumbnail);
            let reader = package.open(&thumbnail).map_err(read)?;
            writer
                .set_thumbnail(&thumbnail, content_type, reader)
                .map_err(written)?;
        }
    }
    writer.finish().map_err(written)?;
    Ok(())
}

/// A name beside `path` that no other writer of the same file uses (another process, or
/// another thread of this one).
fn temporary_beside(path: &Path) -> PathBuf {
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let write = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.{write}.partial", std::process::id()));
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use aas_model::{Environment, EventPayload, Reference, ReferenceTypes, Submodel};

    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn environment() -> Environment {
        Environment {
            submodels: Some(vec![Submodel::new("urn:example:sm:1")]),
            ..Environment::default()
        }
    }

    fn options(spec_format: Format) -> WriteOptions {
        WriteOptions {
            pretty: false,
            spec_format,
            version: Version::LATEST,
        }
    }

    #[test]
    fn writes_of_one_file_from_many_threads_do_not_share_a_temporary_file() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("env.json");
        let loaded = LoadedFile::from(crate::Document::Environment(environment()));
        std::thread::scope(|scope| {
            let writers: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| write_file(&path, &loaded, options(Format::Json))))
                .collect();
            writers
                .into_iter()
                .map(|writer| writer.join().map_err(|_| "a writer panicked"))
                .collect::<Result<Vec<_>, _>>()
        })?
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
        let read = read_file(&path, Version::LATEST)?;
        assert!(matches!(read.document, crate::Document::Environment(_)));
        assert_eq!(
            std::fs::read_dir(dir.path())?.count(),
            1,
            "no temporary file left"
        );
        Ok(())
    }

    #[test]
    fn every_format_written_reads_back_as_the_same_document() -> TestResult {
        let dir = tempfile::tempdir()?;
        let loaded = LoadedFile::from(Document::from(environment()));
        for name in ["env.json", "env.XML", "env.aasx"] {
            let path = dir.path().join(name);
            for pretty in [false, true] {
                let options = WriteOptions {
                    pretty,
                    ..options(Format::Json)
                };
                write_file(&path, &loaded, options)?;
                let again = read_file(&path, Version::LATEST)?;
                assert_eq!(again.document, loaded.document, "{name}");
                assert_eq!(again.package.is_some(), name.ends_with(".aasx"), "{name}");
            }
        }
        Ok(())
    }

    #[test]
    fn json_is_read_as_the_version_asked_for_and_xml_as_its_namespace_says() -> TestResult {
        let dir = tempfile::tempdir()?;
        let loaded = LoadedFile::from(Document::from(environment()));
        let v30 = WriteOptions {
            version: Version::V3_0,
            ..options(Format::Xml)
        };
        write_file(&dir.path().join("env.json"), &loaded, v30)?;
        write_file(&dir.path().join("env.xml"), &loaded, v30)?;
        let json = read_file(&dir.path().join("env.json"), Version::V3_1)?;
        let xml = read_file(&dir.path().join("env.xml"), Version::V3_1)?;
        assert_eq!((json.version, xml.version), (Version::V3_1, Version::V3_0));
        Ok(())
    }

    #[test]
    fn an_unknown_extension_is_an_error_naming_the_file_and_the_supported_ones() {
        let path = Path::new("some/env.txt");
        let error = read_file(path, Version::LATEST).unwrap_err();
        assert_eq!(error.path(), path);
        assert_eq!(
            error.to_string(),
            "some/env.txt: unsupported file extension (supported: .json, .xml, .aasx)"
        );
        let loaded = LoadedFile::from(Document::from(environment()));
        let error = write_file(path, &loaded, options(Format::Json)).unwrap_err();
        assert!(matches!(error, FileError::UnknownFormat { .. }), "{error}");
    }

    #[test]
    fn an_unreadable_file_is_an_error_naming_it_with_its_cause() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("broken.json");
        fs::write(&path, "{\"submodels\": 1}")?;
        let error = read_file(&path, Version::LATEST).unwrap_err();
        assert!(matches!(error, FileError::Json { .. }), "{error}");
        assert!(error.to_string().starts_with(&path.display().to_string()));
        assert!(std::error::Error::source(&error).is_some());
        let missing = dir.path().join("missing.aasx");
        let error = read_file(&missing, Version::LATEST).unwrap_err();
        assert!(matches!(error, FileError::Io { .. }), "{error}");
        assert_eq!(error.path(), missing);
        Ok(())
    }

    #[test]
    fn an_event_payload_is_refused_in_a_package_and_a_failed_write_leaves_the_old_file()
    -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("out.aasx");
        fs::write(&path, b"old")?;
        let reference = Reference::new(ReferenceTypes::ModelReference, Vec::new());
        let payload = EventPayload::new(reference.clone(), reference, "2026-12-05T00:00:00Z");
        let loaded = LoadedFile::from(Document::from(payload));
        let error = write_file(&path, &loaded, options(Format::Json)).unwrap_err();
        assert!(
            matches!(error, FileError::PayloadInPackage { .. }),
            "{error}"
        );
        assert_eq!(fs::read(&path)?, b"old");
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path())?.count(), 1);
        Ok(())
    }

    #[test]
    fn a_package_written_from_a_package_carries_its_files_and_thumbnail_over() -> TestResult {
        let dir = tempfile::tempdir()?;
        let source = dir.path().join("source.aasx");
        let mut writer = AasxWriter::new(fs::File::create(&source)?, Format::Xml);
        writer.write_environment(&environment())?;
        writer.add_supplementary_file("/aasx/files/manual.pdf", "application/pdf", &b"%PDF"[..])?;
        writer.set_thumbnail("/thumbnail.png", "image/png", &b"png"[..])?;
        writer.finish()?;

        let loaded = read_file(&source, Version::LATEST)?;
        assert_eq!(loaded.package.as_deref(), Some(source.as_path()));
        let copy = dir.path().join("copy.aasx");
        write_file(&copy, &loaded, options(Format::Json))?;
        let mut package = AasxReader::new(BufReader::new(fs::File::open(&copy)?))?;
        assert_eq!(package.supplementary_files(), ["/aasx/files/manual.pdf"]);
        assert_eq!(package.thumbnail(), Some("/thumbnail.png"));
        let mut manual = Vec::new();
        std::io::Read::read_to_end(&mut package.open("/aasx/files/manual.pdf")?, &mut manual)?;
        assert_eq!(manual, b"%PDF");
        Ok(())
    }
}
