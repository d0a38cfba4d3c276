//! Reading and writing whole files in the format their extension names.

use std::fs;
use std::io::BufWriter;
use std::path::Path;

use aas_serde::{Document, Format, json};

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
        _ => Err(unknown_format(path)),
    }
}

/// Writes a document in the format of `path`'s extension.
pub fn write(path: &Path, document: &Document, pretty: bool) -> Result<(), FileError> {
    let format = format_of(path)?;
    let io_error = |source| FileError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = fs::File::create(path).map_err(io_error)?;
    let out = BufWriter::new(file);
    match format {
        Format::Json if pretty => json::to_writer_pretty(out, document),
        Format::Json => json::to_writer(out, document),
        _ => return Err(unknown_format(path)),
    }
    .map_err(io_error)
}
