//! Reading and writing whole files in the format their extension names.

use std::fs;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use aas_model::Version;
use aas_serde::aasx::{self, AasxReader, AasxWriter, Repair};
use aas_serde::{Document, Format, json, xml};

/// Why a file could not be read or written; `Display` is the one line the CLI prints.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}: unsupported file extension (supported: {supported})")]
    UnknownFormat { path: String, supported: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Json {
        path: String,
        source: Box<json::Error>,
    },
    #[error("{path}: {source}")]
    Xml {
        path: String,
        source: Box<xml::Error>,
    },
    #[error("{path}: {source}")]
    XmlWrite {
        path: String,
        source: xml::WriteError,
    },
    #[error("{path}: {source}")]
    Aasx {
        path: String,
        source: Box<aasx::Error>,
    },
    #[error("{path}: an event payload cannot go into an AASX package (only an environment can)")]
    PayloadInPackage { path: String },
}

/// A document read from a file, with the AAS version it was read as, what the reader had to
/// repair and, for packages, the package itself (so that its supplementary files can be
/// carried over).
#[derive(Debug)]
pub struct Loaded {
    pub document: Document,
    /// XML and XML parts of packages: the version their namespace names; JSON: the version
    /// the caller read it as.
    pub version: Version,
    pub repairs: Vec<Repair>,
    pub package: Option<PathBuf>,
}

/// How to write: indentation, the format of a package's spec part, and the AAS version (the
/// XML namespace; JSON has no marker).
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    pub pretty: bool,
    pub spec_format: Format,
    pub version: Version,
}

fn unknown_format(path: &Path) -> FileError {
    FileError::UnknownFormat {
        path: path.display().to_string(),
        supported: Format::ALL
            .iter()
            .map(|f| format!(".{}", f.extension()))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn format_of(path: &Path) -> Result<Format, FileError> {
    Format::from_path(path).ok_or_else(|| unknown_format(path))
}

/// Reads a file: an environment or an event payload, or the environment of a package. JSON
/// (also a package's JSON part) is read as `json_version`; XML goes by its namespace.
pub fn read(path: &Path, json_version: Version) -> Result<Loaded, FileError> {
    let format = format_of(path)?;
    let name = || path.display().to_string();
    let io_error = |source| FileError::Io {
        path: name(),
        source,
    };
    let aasx_error = |source: aasx::Error| FileError::Aasx {
        path: name(),
        source: Box::new(source),
    };
    let (document, version) = match format {
        Format::Aasx => {
            let file = fs::File::open(path).map_err(io_error)?;
            let mut package = AasxReader::new(BufReader::new(file))
                .map_err(aasx_error)?
                .with_json_version(json_version);
            let env = package.environment().map_err(aasx_error)?;
            let repairs = package.repairs().to_vec();
            return Ok(Loaded {
                document: Document::Environment(env),
                version: package.version().unwrap_or(json_version),
                repairs,
                package: Some(path.to_owned()),
            });
        }
        Format::Json => {
            let bytes = fs::read(path).map_err(io_error)?;
            let document =
                json::from_slice_as(&bytes, json_version).map_err(|source| FileError::Json {
                    path: name(),
                    source: Box::new(source),
                })?;
            (document, json_version)
        }
        Format::Xml => {
            let bytes = fs::read(path).map_err(io_error)?;
            xml::from_slice_versioned(&bytes).map_err(|source| FileError::Xml {
                path: name(),
                source: Box::new(source),
            })?
        }
        _ => return Err(unknown_format(path)),
    };
    Ok(Loaded {
        document,
        version,
        repairs: Vec::new(),
        package: None,
    })
}

/// Writes a document in the format of `path`'s extension. The file appears only when the
/// whole document was written (a temporary file beside it is renamed at the end).
pub fn write(path: &Path, loaded: &Loaded, options: WriteOptions) -> Result<(), FileError> {
    let format = format_of(path)?;
    let name = || path.display().to_string();
    let io_error = |source| FileError::Io {
        path: name(),
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
                    path: name(),
                    source,
                })?
            }
            Format::Aasx => {
                write_package(&mut out, loaded, options).map_err(|source| match source {
                    PackageError::Payload => FileError::PayloadInPackage { path: name() },
                    PackageError::Aasx(source) => FileError::Aasx {
                        path: name(),
                        source: Box::new(source),
                    },
                })?
            }
            _ => return Err(unknown_format(path)),
        }
        out.flush().map_err(io_error)?;
        fs::rename(&temporary, path).map_err(io_error)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result
}

enum PackageError {
    Payload,
    Aasx(aasx::Error),
}

impl From<aasx::Error> for PackageError {
    fn from(e: aasx::Error) -> Self {
        PackageError::Aasx(e)
    }
}

/// Writes a package; supplementary files and the thumbnail of a source package are streamed
/// over under their part names.
fn write_package(
    out: impl Write,
    loaded: &Loaded,
    options: WriteOptions,
) -> Result<(), PackageError> {
    let Document::Environment(env) = &loaded.document else {
        return Err(PackageError::Payload);
    };
    let mut writer = AasxWriter::new(out, options.spec_format).with_version(options.version);
    writer.write_environment(env)?;
    if let Some(source) = &loaded.package {
        let file = fs::File::open(source).map_err(aasx::Error::Io)?;
        let mut package = AasxReader::new(BufReader::new(file))?;
        for part in package.supplementary_files().to_vec() {
            let content_type = aas_serde::content_type_of_file(&part);
            writer.add_supplementary_file(&part, content_type, package.open(&part)?)?;
        }
        if let Some(thumbnail) = package.thumbnail().map(str::to_owned) {
            let content_type = aas_serde::content_type_of_file(&thumbnail);
            writer.set_thumbnail(&thumbnail, content_type, package.open(&thumbnail)?)?;
        }
    }
    writer.finish()?;
    Ok(())
}

fn temporary_beside(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.partial", std::process::id()));
    path.with_file_name(name)
}
