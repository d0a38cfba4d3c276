//! Writing AASX packages as a stream: no `Seek`, so a package can go straight into an upload.

use std::collections::HashSet;
use std::fmt;
use std::io::{self, Read, Write};

use quick_xml::escape::escape;
use zip::write::{SimpleFileOptions, StreamWriter};
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::error::Error;
use super::opc;
use aas_model::Version;

use crate::Format;

const ORIGIN: &str = "/aasx/aasx-origin";

/// Writes a package part by part: the environment, then any supplementary files and a
/// thumbnail (each streamed from a reader), then [`AasxWriter::finish`] adds the
/// relationships and content types. Part names are fixed (`/aasx/data.xml` or
/// `/aasx/data.json`, `/aasx/aasx-origin`) and every entry has the same timestamp, so the same
/// input gives the same bytes.
pub struct AasxWriter<W: Write> {
    zip: ZipWriter<StreamWriter<W>>,
    format: Format,
    spec: Option<String>,
    /// Supplementary files: part name (encoded) and content type.
    supplementary: Vec<(String, String)>,
    thumbnail: Option<(String, String)>,
    keys: HashSet<String>,
    version: Version,
}

impl<W: Write> fmt::Debug for AasxWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AasxWriter")
            .field("format", &self.format)
            .field("spec", &self.spec)
            .field("supplementary", &self.supplementary)
            .field("thumbnail", &self.thumbnail)
            .finish_non_exhaustive()
    }
}

fn options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
}

/// Copies a reader into the zip entry in chunks (never the whole file in memory).
fn copy<W: Write>(zip: &mut ZipWriter<StreamWriter<W>>, mut reader: impl Read) -> io::Result<u64> {
    io::copy(&mut reader, zip)
}

impl<W: Write> AasxWriter<W> {
    /// A writer whose aas-spec part will have the given format (JSON or XML).
    pub fn new(out: W, format: Format) -> Self {
        Self {
            zip: ZipWriter::new_stream(out),
            format,
            spec: None,
            supplementary: Vec::new(),
            thumbnail: None,
            keys: [opc::key(ORIGIN)].into_iter().collect(),
            version: Version::LATEST,
        }
    }

    /// Writes the aas-spec part as `version` (default: the newest): the namespace of an XML
    /// part (a JSON part carries no version: its bytes are the same for both). Writing does not
    /// convert: convert a model holding what the version cannot carry first
    /// (`aas_model::convert::convert`).
    pub fn with_version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }

    /// A part name as written: with a leading `/`, percent-encoded as OPC wants, checked and
    /// unique.
    fn claim(&mut self, part: &str) -> Result<String, Error> {
        let decoded = opc::percent_decode(&part.replace('\\', "/"));
        opc::check_entry_name(&decoded)?;
        let name = opc::percent_encode(&format!("/{}", decoded.trim_start_matches('/')));
        let reserved =
            name.ends_with(".rels") || opc::key(&name) == opc::key("/[Content_Types].xml");
        if reserved || name.len() < 2 || name.ends_with('/') {
            return Err(Error::Usage(
                "supplementary file names must name a file and not a reserved OPC part",
            ));
        }
        if !self.keys.insert(opc::key(&name)) {
            return Err(Error::DuplicatePart(name));
        }
        Ok(name)
    }

    fn start(&mut self, part: &str) -> Result<(), Error> {
        self.zip
            .start_file(part.trim_start_matches('/'), options())?;
        Ok(())
    }

    /// Writes the environment (an [`aas_model::Environment`] or an [`crate::EnvironmentRef`]) as the
    /// package's aas-spec part. Once per package.
    pub fn write_environment<E>(&mut self, env: &E) -> Result<(), Error>
    where
        E: crate::json::ToJson + crate::xml::ToXmlRoot + ?Sized,
    {
        if self.spec.is_some() {
            return Err(Error::Usage(
                "a package holds one environment; write_environment was called twice",
            ));
        }
        let name = match self.format {
            Format::Json => "/aasx/data.json",
            _ => "/aasx/data.xml",
        };
        self.keys.insert(opc::key(name));
        self.start(name)?;
        match self.format {
            Format::Json => crate::json::to_writer(&mut self.zip, env)?,
            _ => crate::xml::to_writer_as(&mut self.zip, env, self.version)?,
        }
        self.spec = Some(name.to_owned());
        Ok(())
    }

    /// Adds a supplementary file under `part` (e.g. `/aasx/suppl/manual.pdf`, the value its
    /// `File` element holds), streamed from `content`. Returns the part name as written.
    pub fn add_supplementary_file(
        &mut self,
        part: &str,
        content_type: &str,
        content: impl Read,
    ) -> Result<String, Error> {
        let name = self.claim(part)?;
        self.start(&name)?;
        copy(&mut self.zip, content)?;
        self.supplementary
            .push((name.clone(), content_type.to_owned()));
        Ok(name)
    }

    /// Sets the package thumbnail (e.g. `/aasx/thumbnail.png`), streamed from `content`.
    pub fn set_thumbnail(
        &mut self,
        part: &str,
        content_type: &str,
        content: impl Read,
    ) -> Result<String, Error> {
        if self.thumbnail.is_some() {
            return Err(Error::Usage(
                "a package has one thumbnail; set_thumbnail was called twice",
            ));
        }
        let name = self.claim(part)?;
        self.start(&name)?;
        copy(&mut self.zip, content)?;
        self.thumbnail = Some((name.clone(), content_type.to_owned()));
        Ok(name)
    }

    fn write_text(&mut self, part: &str, text: &str) -> Result<(), Error> {
        self.start(part)?;
        self.zip.write_all(text.as_bytes())?;
        Ok(())
    }

    /// Writes the origin, the relationships and the content types, and ends the ZIP.
    pub fn finish(mut self) -> Result<W, Error> {
        let spec = self
            .spec
            .clone()
            .ok_or(Error::Usage("write_environment must come before finish"))?;
        self.write_text(ORIGIN, "Intentionally empty.")?;

        let mut root = vec![(
            format!("{}{}", opc::AASX_REL_NS, opc::REL_ORIGIN),
            ORIGIN.to_owned(),
        )];
        if let Some((thumbnail, _)) = &self.thumbnail {
            root.push((opc::REL_THUMBNAIL.to_owned(), thumbnail.clone()));
        }
        self.write_text("/_rels/.rels", &relationships(&root))?;
        let spec_rel = [(
            format!("{}{}", opc::AASX_REL_NS, opc::REL_SPEC),
            spec.clone(),
        )];
        self.write_text(&opc::rels_part_of(ORIGIN), &relationships(&spec_rel))?;
        if !self.supplementary.is_empty() {
            let suppl: Vec<(String, String)> = self
                .supplementary
                .iter()
                .map(|(name, _)| {
                    (
                        format!("{}{}", opc::AASX_REL_NS, opc::REL_SUPPL),
                        name.clone(),
                    )
                })
                .collect();
            self.write_text(&opc::rels_part_of(&spec), &relationships(&suppl))?;
        }

        let mut types = String::from(r#"<?xml version="1.0" encoding="utf-8"?>"#);
        types.push_str(&format!(r#"<Types xmlns="{}">"#, opc::CONTENT_TYPES_NS));
        types.push_str(&format!(
            r#"<Default Extension="rels" ContentType="{}"/>"#,
            opc::RELATIONSHIPS_CONTENT_TYPE
        ));
        types.push_str(r#"<Default Extension="xml" ContentType="text/xml"/>"#);
        types.push_str(r#"<Default Extension="json" ContentType="application/json"/>"#);
        types.push_str(&format!(
            r#"<Override PartName="{ORIGIN}" ContentType="text/plain"/>"#
        ));
        for (name, content_type) in self.supplementary.iter().chain(self.thumbnail.iter()) {
            types.push_str(&format!(
                r#"<Override PartName="{}" ContentType="{}"/>"#,
                escape(name),
                escape(content_type)
            ));
        }
        types.push_str("</Types>");
        self.write_text("/[Content_Types].xml", &types)?;
        Ok(self.zip.finish()?.into_inner())
    }
}

/// A relationships part with ids `R1`, `R2`, … in order (attribute values escaped by
/// `quick_xml::escape::escape`: `&`, `<`, `>`, `"`, `'` and `\r`).
fn relationships(items: &[(String, String)]) -> String {
    let mut xml = String::from(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    xml.push_str(&format!(
        r#"<Relationships xmlns="{}">"#,
        opc::RELATIONSHIPS_NS
    ));
    for (i, (type_, target)) in items.iter().enumerate() {
        xml.push_str(&format!(
            r#"<Relationship Type="{}" Target="{}" Id="R{}"/>"#,
            escape(type_),
            escape(target),
            i + 1
        ));
    }
    xml.push_str("</Relationships>");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relationship_attributes_are_escaped() {
        let xml = relationships(&[("t&<>".into(), "/a\"b'c.pdf".into())]);
        assert!(
            xml.contains(
                r#"<Relationship Type="t&amp;&lt;&gt;" Target="/a&quot;b&apos;c.pdf" Id="R1"/>"#
            ),
            "{xml}"
        );
    }
}
