//! Which serialization a file or HTTP body uses, by extension or MIME type.

use std::path::Path;

/// A serialization format of AAS models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// The JSON mapping (`application/json`, `.json`).
    Json,
    /// The XML mapping (`application/xml`, `.xml`).
    Xml,
}

impl Format {
    /// Every format this build supports.
    pub const ALL: &'static [Format] = &[Format::Json, Format::Xml];

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
        // `text/xml` is the older name of `application/xml` (RFC 7303), still widely sent.
        if essence.eq_ignore_ascii_case("text/xml") {
            return Some(Format::Xml);
        }
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.mime_type().eq_ignore_ascii_case(essence))
    }

    /// The usual file extension, without the dot.
    pub const fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Xml => "xml",
        }
    }

    /// The MIME type.
    pub const fn mime_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Xml => "application/xml",
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
        assert_eq!(Format::from_path("env.xml"), Some(Format::Xml));
        assert_eq!(Format::from_mime_type("text/xml"), Some(Format::Xml));
    }
}
