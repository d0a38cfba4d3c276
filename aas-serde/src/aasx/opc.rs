//! The OPC layer of AASX (ECMA-376 Part 2): part names, relationships, content types.

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::error::Error;

pub(crate) const REL_ORIGIN: &str = "aasx-origin";
pub(crate) const REL_SPEC: &str = "aas-spec";
pub(crate) const REL_SPEC_SPLIT: &str = "aas-spec-split";
pub(crate) const REL_SUPPL: &str = "aas-suppl";
/// The namespace of the AASX relationship types, as V3 writes it.
pub(crate) const AASX_REL_NS: &str = "http://admin-shell.io/aasx/relationships/";
/// The same as older tools (V2, Package Explorer before 2024, AAS4J) wrote it.
pub(crate) const AASX_REL_NS_LEGACY: &str = "http://www.admin-shell.io/aasx/relationships/";
pub(crate) const REL_THUMBNAIL: &str =
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail";
pub(crate) const REL_CORE_PROPERTIES: &str =
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties";
pub(crate) const RELATIONSHIPS_NS: &str =
    "http://schemas.openxmlformats.org/package/2006/relationships";
pub(crate) const CONTENT_TYPES_NS: &str =
    "http://schemas.openxmlformats.org/package/2006/content-types";
pub(crate) const RELATIONSHIPS_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-package.relationships+xml";

/// The comparison key of a part name: percent-decoded, `\` as `/`, one leading `/`, ASCII
/// lower case (OPC compares part names case-insensitively).
pub(crate) fn key(name: &str) -> String {
    let name = percent_decode(&name.replace('\\', "/"));
    let trimmed = name.trim_start_matches('/');
    format!("/{}", trimmed.to_ascii_lowercase())
}

/// Decodes `%XX` escapes (invalid escapes stay as written; bytes that are not UTF-8 once
/// decoded become U+FFFD).
pub(crate) fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// What a part name's URI path may not hold raw: everything but the unreserved characters,
/// the sub-delimiters, `:`, `@` and `/` (RFC 3986 `pchar` and the segment separator).
const PART_NAME: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// Encodes what a URI path may not hold raw (space, `%`, non-ASCII, …); `/` stays.
pub(crate) fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, PART_NAME).to_string()
}

/// Checks an entry name for what could escape a directory when extracted.
pub(crate) fn check_entry_name(name: &str) -> Result<(), Error> {
    let unsafe_name = |reason| {
        Err(Error::UnsafeName {
            name: name.to_owned(),
            reason,
        })
    };
    let normalized = name.replace('\\', "/");
    if normalized.split('/').any(|segment| segment == "..") {
        return unsafe_name("it contains a `..` segment");
    }
    let bytes = normalized.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return unsafe_name("it starts with a drive letter");
    }
    if normalized.starts_with("//") {
        return unsafe_name("it is a network path");
    }
    if name.contains('\0') {
        return unsafe_name("it contains a NUL character");
    }
    Ok(())
}

/// The folder of a part name (`/aasx/data.xml` → `/aasx/`).
fn folder(part: &str) -> &str {
    match part.rfind('/') {
        Some(i) => &part[..=i],
        None => "/",
    }
}

/// Resolves a relationship target (relative to the source part's folder, or absolute) to a
/// part name; `..` may not climb above the package root.
pub(crate) fn resolve(source_part: &str, target: &str) -> Result<String, Error> {
    let target = target.replace('\\', "/");
    let target = target.split(['#', '?']).next().unwrap_or_default();
    let joined = if target.starts_with('/') {
        target.to_owned()
    } else {
        format!("{}{target}", folder(source_part))
    };
    let mut segments: Vec<&str> = Vec::new();
    for segment in joined.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if segments.pop().is_none() {
                    return Err(Error::TargetOutside(target.to_owned()));
                }
            }
            s => segments.push(s),
        }
    }
    Ok(format!("/{}", segments.join("/")))
}

/// The relationships part of a part: `/aasx/data.xml` → `/aasx/_rels/data.xml.rels`;
/// the package root `/` → `/_rels/.rels`.
pub(crate) fn rels_part_of(part: &str) -> String {
    let name = part.rsplit('/').next().unwrap_or_default();
    format!("{}_rels/{name}.rels", folder(part))
}

/// One relationship.
#[derive(Debug, Clone)]
pub(crate) struct Relationship {
    pub(crate) type_: String,
    pub(crate) target: String,
    pub(crate) external: bool,
}

/// The attributes of an element by local name, unescaped.
fn attributes(
    start: &quick_xml::events::BytesStart<'_>,
    part: &str,
) -> Result<Vec<(String, String)>, Error> {
    let bad = |message: String| Error::PartXml {
        part: part.to_owned(),
        message,
    };
    let mut out = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| bad(e.to_string()))?;
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::default())
            .map_err(|e| bad(e.to_string()))?;
        out.push((
            attribute.key.local_name().into_inner().to_owned(),
            value.into_owned(),
        ));
    }
    Ok(out)
}

fn get<'v>(attributes: &'v [(String, String)], name: &str) -> Option<&'v str> {
    attributes
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Calls `f` with the local name and attributes of every element of a small XML part; an
/// error from `f` stops the reading. (The elements are read one after the other, as a flat
/// list: nesting costs no stack.)
fn for_each_element(
    text: &str,
    part: &str,
    mut f: impl FnMut(&str, &[(String, String)]) -> Result<(), Error>,
) -> Result<(), Error> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut reader = Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                let name = e.local_name().into_inner().to_owned();
                f(&name, &attributes(&e, part)?)?;
            }
            Ok(Event::Eof) => return Ok(()),
            Ok(_) => {}
            Err(e) => {
                return Err(Error::PartXml {
                    part: part.to_owned(),
                    message: e.to_string(),
                });
            }
        }
    }
}

/// The relationships of a `.rels` part and the number of `Relationship` elements it holds
/// (those without a type or target are not kept); more than `max` elements are an error,
/// found before the next one is kept, so a relationship bomb costs no more than `max`.
pub(crate) fn parse_relationships(
    text: &str,
    part: &str,
    max: usize,
) -> Result<(Vec<Relationship>, usize), Error> {
    let mut out = Vec::new();
    let mut count = 0usize;
    for_each_element(text, part, |name, attrs| {
        if name != "Relationship" {
            return Ok(());
        }
        count += 1;
        if count > max {
            return Err(Error::TooManyRelationshipsInPart {
                part: part.to_owned(),
                max,
            });
        }
        if let (Some(type_), Some(target)) = (get(attrs, "Type"), get(attrs, "Target")) {
            out.push(Relationship {
                type_: type_.trim().to_owned(),
                target: target.trim().to_owned(),
                external: get(attrs, "TargetMode")
                    .is_some_and(|m| m.eq_ignore_ascii_case("External")),
            });
        }
        Ok(())
    })?;
    Ok((out, count))
}

/// `[Content_Types].xml`: defaults by extension (lower case) and overrides by part key.
/// Lookups are hashed: a hostile part with many entries costs no time per part looked up.
#[derive(Debug, Default)]
pub(crate) struct ContentTypes {
    defaults: HashMap<String, String>,
    overrides: HashMap<String, String>,
}

impl ContentTypes {
    pub(crate) fn parse(text: &str, part: &str) -> Result<Self, Error> {
        let mut types = ContentTypes::default();
        // The first entry for an extension or part wins, as before.
        for_each_element(text, part, |name, attrs| {
            match name {
                "Default" => {
                    if let (Some(ext), Some(ct)) =
                        (get(attrs, "Extension"), get(attrs, "ContentType"))
                    {
                        types
                            .defaults
                            .entry(ext.to_ascii_lowercase())
                            .or_insert_with(|| ct.to_owned());
                    }
                }
                "Override" => {
                    if let (Some(part), Some(ct)) =
                        (get(attrs, "PartName"), get(attrs, "ContentType"))
                    {
                        types
                            .overrides
                            .entry(key(part))
                            .or_insert_with(|| ct.to_owned());
                    }
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(types)
    }

    /// The content type of a part: its override, else the default of its extension.
    pub(crate) fn of(&self, part: &str) -> Option<&str> {
        if let Some(ct) = self.overrides.get(&key(part)) {
            return Some(ct);
        }
        let extension = part
            .rsplit('/')
            .next()?
            .rsplit_once('.')?
            .1
            .to_ascii_lowercase();
        self.defaults
            .get(&extension)
            .map(String::as_str)
            .filter(|ct| !ct.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names_compare_as_opc_does() {
        assert_eq!(key("aasx\\Suppl\\A%20B.pdf"), key("/aasx/suppl/a b.pdf"));
        assert_eq!(key("/AASX/data.XML"), "/aasx/data.xml");
    }

    #[test]
    fn targets_resolve_against_the_source_folder() -> Result<(), Error> {
        assert_eq!(resolve("/aasx/aasx-origin", "data.xml")?, "/aasx/data.xml");
        assert_eq!(
            resolve("/aasx/data.xml", "/aasx/suppl/x.pdf")?,
            "/aasx/suppl/x.pdf"
        );
        assert_eq!(
            resolve("/aasx/data.xml", "suppl/../suppl/./x.pdf")?,
            "/aasx/suppl/x.pdf"
        );
        assert_eq!(resolve("/", "aasx/aasx-origin")?, "/aasx/aasx-origin");
        assert!(resolve("/aasx/data.xml", "../../etc/passwd").is_err());
        assert_eq!(rels_part_of("/aasx/data.xml"), "/aasx/_rels/data.xml.rels");
        assert_eq!(rels_part_of("/"), "/_rels/.rels");
        Ok(())
    }

    #[test]
    fn unsafe_entry_names_are_refused() {
        assert!(check_entry_name("../evil").is_err());
        assert!(check_entry_name("aasx\\..\\..\\evil").is_err());
        assert!(check_entry_name("C:/Windows/x").is_err());
        assert!(check_entry_name("aasx/suppl/a..b.pdf").is_ok());
        assert!(check_entry_name("/aasx/data.xml").is_ok());
    }

    #[test]
    fn percent_encoding_round_trips() {
        assert_eq!(
            percent_encode("/aasx/suppl/a b ä.pdf"),
            "/aasx/suppl/a%20b%20%C3%A4.pdf"
        );
        assert_eq!(
            percent_decode("/aasx/suppl/a%20b%20%C3%A4.pdf"),
            "/aasx/suppl/a b ä.pdf"
        );
        assert_eq!(percent_decode("100%"), "100%");
        // Invalid escapes stay; escapes of bytes that are not UTF-8 decode lossily.
        assert_eq!(percent_decode("a%zz%4"), "a%zz%4");
        assert_eq!(percent_decode("%2fx%2F%41"), "/x/A");
        assert_eq!(percent_decode("%FF."), "\u{FFFD}.");
        // Unreserved, sub-delimiters, `:` and `@` stay raw; `%`, `#`, `?`, `\\` are escaped.
        assert_eq!(
            percent_encode("/a-._~!$&'()*+,;=:@/%#?\\"),
            "/a-._~!$&'()*+,;=:@/%25%23%3F%5C"
        );
    }
}
