//! Reading and writing whole files in the format their extension names.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

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
    Json { path: String, source: json::Error },
    #[error("{path}: {source}")]
    Xml { path: String, source: xml::Error },
    #[error("{path}: {source}")]
    XmlWrite {
        path: String,
        source: xml::WriteError,
    },
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

/// Reads a file: an environment, or an event payload.
pub fn read(path: &Path) -> Result<Document, FileError> {
    let format = format_of(path)?;
    let name = || path.display().to_string();
    let bytes = fs::read(path).map_err(|source| FileError::Io {
        path: name(),
        source,
    })?;
    match format {
        Format::Json => json::from_slice(&bytes).map_err(|source| FileError::Json {
            path: name(),
            source,
        }),
        Format::Xml => xml::from_slice(&bytes).map_err(|source| FileError::Xml {
            path: name(),
            source,
        }),
        _ => Err(unknown_format(path)),
    }
}

/// Writes a document in the format of `path`'s extension. The file appears only when the
/// whole document was written (a temporary file beside it is renamed at the end).
pub fn write(path: &Path, document: &Document, pretty: bool) -> Result<(), FileError> {
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
            Format::Json if pretty => {
                json::to_writer_pretty(&mut out, document).map_err(io_error)?
            }
            Format::Json => json::to_writer(&mut out, document).map_err(io_error)?,
            Format::Xml => {
                let written = if pretty {
                    xml::to_writer_pretty(&mut out, document)
                } else {
                    xml::to_writer(&mut out, document)
                };
                written.map_err(|source| FileError::XmlWrite {
                    path: name(),
                    source,
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

fn temporary_beside(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.partial", std::process::id()));
    path.with_file_name(name)
}
