//! Which serialization a file or HTTP body uses, by extension or MIME type.

use std::path::Path;

/// A serialization format of AAS models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// The JSON mapping (`application/json`, `.json`).
    Json,
}

impl Format {
    /// Every format this build supports.
    pub const ALL: &'static [Format] = &[Format::Json];

    /// The format of a file name by its extension (case-insensitive), if one is supported.
    pub fn from_path(path: impl AsRef<Path>) -> Option<Format> {
        let extension = path.as_ref().extension()?.to_str()?;
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.extension().eq_ignore_ascii_case(extension))
    }

    /// The format of a MIME type (parameters such as `; charset=utf-8` are ignored).
    pub fn from_mime_type(mime_type: &str) -> Option<Format> {
        let essence = mime_type.split(';').next()?.trim();
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.mime_type().eq_ignore_ascii_case(essence))
    }

    /// The usual file extension, without the dot.
    pub const fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
        }
    }

    /// The MIME type.
    pub const fn mime_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_found_by_extension_and_mime_type() {
        assert_eq!(Format::from_path("a/b/env.JSON"), Some(Format::Json));
        assert_eq!(Format::from_path("env.txt"), None);
        assert_eq!(Format::from_path("env"), None);
        assert_eq!(
            Format::from_mime_type("application/json; charset=utf-8"),
            Some(Format::Json)
        );
        assert_eq!(Format::from_mime_type("text/plain"), None);
    }
}
