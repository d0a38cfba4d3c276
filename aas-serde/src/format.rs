//! Which serialization a file or HTTP body uses, by extension or MIME type.

use std::path::Path;

/// Every MIME type AASX packages are sent as (Part 2 names the spec part's format in the
/// suffix; Part 5 and the newer `application/aas+zip` do not).
pub const AASX_MIME_TYPES: &[&str] = &[
    "application/asset-administration-shell-package+xml",
    "application/asset-administration-shell-package+json",
    "application/asset-administration-shell-package",
    "application/aasx+xml",
    "application/aas+zip",
];

/// The content type of bytes of no known type (RFC 2046): the fallback wherever a file or body
/// comes without one.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// The content type of a file by the extension of its name (case-insensitive), as packages
/// record their supplementary files: `mime_guess`'s table, except `.xml`, which is
/// `application/xml` (RFC 7303; the XML mapping's type) rather than its `text/xml`;
/// [`OCTET_STREAM`] for extensions it does not know.
pub fn content_type_of_file(name: &str) -> &'static str {
    let Some((_, extension)) = name.rsplit_once('.') else {
        return OCTET_STREAM;
    };
    if extension.eq_ignore_ascii_case("xml") {
        return "application/xml";
    }
    mime_guess::from_ext(extension)
        .first_raw()
        .unwrap_or(OCTET_STREAM)
}

/// A serialization format of AAS models: a file or HTTP body holds one of these. Known
/// whatever the features of the build: reading and writing a format takes its feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// The JSON mapping (`application/json`, `.json`).
    Json,
    /// The XML mapping (`application/xml`, `.xml`).
    Xml,
    /// An AASX package (`application/asset-administration-shell-package+xml`, `.aasx`).
    Aasx,
}

impl Format {
    /// Every format: JSON, XML, AASX, in this order (also when a feature is off: the formats
    /// are named, not read, here).
    pub const ALL: &'static [Format] = &[Format::Json, Format::Xml, Format::Aasx];

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
        if AASX_MIME_TYPES
            .iter()
            .any(|m| m.eq_ignore_ascii_case(essence))
        {
            return Some(Format::Aasx);
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
            Format::Aasx => "aasx",
        }
    }

    /// The MIME type a body of the format is sent as: `application/json`, `application/xml`
    /// and, for packages, Part 2's `application/asset-administration-shell-package+xml`
    /// ([`AASX_MIME_TYPES`] lists the other names packages come under).
    pub const fn mime_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Xml => "application/xml",
            Format::Aasx => "application/asset-administration-shell-package+xml",
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
        assert_eq!(Format::from_path("a.AASX"), Some(Format::Aasx));
        assert_eq!(
            Format::from_mime_type("application/asset-administration-shell-package+json"),
            Some(Format::Aasx)
        );
    }

    #[test]
    fn files_get_a_content_type_by_extension_and_octet_stream_otherwise() {
        assert_eq!(
            content_type_of_file("/aasx/files/Manual.PDF"),
            "application/pdf"
        );
        assert_eq!(content_type_of_file("thumb.jpeg"), "image/jpeg");
        assert_eq!(content_type_of_file("data.bin"), OCTET_STREAM);
        assert_eq!(content_type_of_file("no-extension"), OCTET_STREAM);
        // The types the hand-written table had, unchanged.
        for (name, content_type) in [
            ("a.pdf", "application/pdf"),
            ("a.PNG", "image/png"),
            ("a.jpg", "image/jpeg"),
            ("a.gif", "image/gif"),
            ("a.svg", "image/svg+xml"),
            ("a.txt", "text/plain"),
            ("a.XML", "application/xml"),
            ("a.json", "application/json"),
            ("a.zip", "application/zip"),
            ("a.step", "application/step"),
            ("a.stp", "application/step"),
            ("a.unknown-extension", OCTET_STREAM),
            ("dir.d/file", OCTET_STREAM),
            // Now known too.
            ("a.csv", "text/csv"),
            ("a.html", "text/html"),
        ] {
            assert_eq!(content_type_of_file(name), content_type, "{name}");
        }
    }
}
