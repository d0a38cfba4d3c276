//! AASX packages as real tools write them (each quirk read, with its repair listed), hostile
//! packages (each limit refused with its error), and the writer's promises.

use std::io::{Cursor, Read, Write};

use aas_model::*;
use aas_serde::aasx::{AasxReader, AasxWriter, Error, Limits};
use aas_serde::{Format, xml};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const OPC_RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const V3: &str = "http://admin-shell.io/aasx/relationships/";
const LEGACY: &str = "http://www.admin-shell.io/aasx/relationships/";

fn environment() -> Environment {
    let mut file = aas_model::File::new("application/pdf").with_id_short("Manual");
    file.value = Some("/aasx/suppl/a%20b.pdf".into());
    let mut submodel = Submodel::new("urn:sm");
    submodel.submodel_elements = Some(vec![file.into()]);
    Environment {
        submodels: Some(vec![submodel]),
        ..Environment::new()
    }
}

fn rels(items: &[(&str, &str)]) -> String {
    let mut s = format!(r#"<?xml version="1.0"?><Relationships xmlns="{OPC_RELS}">"#);
    for (i, (type_, target)) in items.iter().enumerate() {
        s.push_str(&format!(
            r#"<Relationship Id="r{i}" Type="{type_}" Target="{target}"/>"#
        ));
    }
    s + "</Relationships>"
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="text/xml"/><Default Extension="pdf" ContentType="application/pdf"/></Types>"#;

/// A ZIP with exactly these entries, stored as given.
fn zip(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    zip_with(entries, CompressionMethod::Deflated)
}

/// A ZIP with exactly these entries, compressed with `method`.
fn zip_with(entries: &[(&str, Vec<u8>)], method: CompressionMethod) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in entries {
        let options = SimpleFileOptions::default().compression_method(method);
        writer.start_file(*name, options).unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// A well-formed package whose pieces a test can change: namespace, names, content types.
struct Layout<'a> {
    ns: &'a str,
    data_entry: &'a str,
    spec_target: &'a str,
    suppl_entry: &'a str,
    suppl_target: &'a str,
    content_types: Option<&'a str>,
}

impl Default for Layout<'_> {
    fn default() -> Self {
        Layout {
            ns: V3,
            data_entry: "aasx/data.xml",
            spec_target: "/aasx/data.xml",
            suppl_entry: "aasx/suppl/a%20b.pdf",
            suppl_target: "/aasx/suppl/a%20b.pdf",
            content_types: Some(CONTENT_TYPES),
        }
    }
}

fn package(layout: Layout<'_>) -> Vec<u8> {
    zip_owned(&package_entries(layout), CompressionMethod::Deflated)
}

/// The entries of [`package`], to add to or change before zipping.
fn package_entries(layout: Layout<'_>) -> Vec<(String, Vec<u8>)> {
    let data_rels_entry = format!(
        "{}/_rels/{}.rels",
        "aasx",
        layout.data_entry.rsplit(['/', '\\']).next().unwrap()
    );
    let mut entries = vec![
        (
            "_rels/.rels",
            rels(&[(&format!("{}aasx-origin", layout.ns), "/aasx/aasx-origin")]).into_bytes(),
        ),
        ("aasx/aasx-origin", b"Intentionally empty.".to_vec()),
        (
            "aasx/_rels/aasx-origin.rels",
            rels(&[(&format!("{}aas-spec", layout.ns), layout.spec_target)]).into_bytes(),
        ),
        (layout.data_entry, xml::to_vec(&environment()).unwrap()),
        (
            data_rels_entry.as_str(),
            rels(&[(&format!("{}aas-suppl", layout.ns), layout.suppl_target)]).into_bytes(),
        ),
        (layout.suppl_entry, b"%PDF".to_vec()),
    ];
    if let Some(types) = layout.content_types {
        entries.push(("[Content_Types].xml", types.as_bytes().to_vec()));
    }
    entries
        .into_iter()
        .map(|(n, c)| (n.to_owned(), c))
        .collect()
}

fn zip_owned(entries: &[(String, Vec<u8>)], method: CompressionMethod) -> Vec<u8> {
    let borrowed: Vec<(&str, Vec<u8>)> = entries
        .iter()
        .map(|(n, c)| (n.as_str(), c.clone()))
        .collect();
    zip_with(&borrowed, method)
}

/// Reads a package, checks its environment and supplementary file, and returns the repairs.
fn read_ok(bytes: Vec<u8>) -> Vec<String> {
    let mut reader = AasxReader::new(Cursor::new(bytes)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reader.environment().unwrap(), environment());
    let part = reader
        .resolve("/aasx/suppl/a%20b.pdf")
        .expect("the supplementary file is found");
    let mut content = Vec::new();
    reader
        .open(&part)
        .unwrap()
        .read_to_end(&mut content)
        .unwrap();
    assert_eq!(content, b"%PDF");
    reader.repairs().iter().map(ToString::to_string).collect()
}

fn assert_repaired(repairs: &[String], expected: &str) {
    assert!(
        repairs.iter().any(|r| r.contains(expected)),
        "no repair {expected:?} in {repairs:#?}"
    );
}

#[test]
fn a_clean_package_needs_no_repair() {
    assert!(read_ok(package(Layout::default())).is_empty());
}

#[test]
fn the_legacy_relationship_namespace_is_read() {
    let repairs = read_ok(package(Layout {
        ns: LEGACY,
        ..Layout::default()
    }));
    assert_repaired(&repairs, "aasx-origin uses the legacy namespace");
    assert_repaired(&repairs, "aas-spec uses the legacy namespace");
    assert_repaired(&repairs, "aas-suppl uses the legacy namespace");
}

/// Two IDTA V3.1 submodel templates mark their aasx-origin relationship external although it
/// names a part of the package: it is read, with a repair saying so.
#[test]
fn an_origin_marked_external_that_names_a_part_of_the_package_is_read() {
    let mut entries = package_entries(Layout::default());
    let marked = format!(
        r#"<?xml version="1.0"?><Relationships xmlns="{OPC_RELS}"><Relationship Id="r0" Type="{V3}aasx-origin" Target="/aasx/aasx-origin" TargetMode="External"/></Relationships>"#
    );
    for (name, content) in &mut entries {
        if name == "_rels/.rels" {
            *content = marked.clone().into_bytes();
        }
    }
    let repairs = read_ok(zip_owned(&entries, CompressionMethod::Deflated));
    assert_repaired(&repairs, "marked TargetMode=\"External\"");
    // An external origin naming nothing in the package is still no origin.
    let elsewhere = marked.replace("/aasx/aasx-origin", "https://example.com/aasx-origin");
    for (name, content) in &mut entries {
        if name == "_rels/.rels" {
            *content = elsewhere.clone().into_bytes();
        }
    }
    let bytes = zip_owned(&entries, CompressionMethod::Deflated);
    assert!(matches!(
        AasxReader::new(Cursor::new(bytes)).and_then(|mut r| r.environment().map(drop)),
        Err(Error::NoOrigin)
    ));
}

#[test]
fn backslashes_in_entry_names_are_read() {
    let repairs = read_ok(package(Layout {
        data_entry: "aasx\\data.xml",
        suppl_entry: "aasx\\suppl\\a%20b.pdf",
        ..Layout::default()
    }));
    assert_repaired(&repairs, "entry name uses backslashes");
}

#[test]
fn part_names_differing_in_case_are_read() {
    let repairs = read_ok(package(Layout {
        spec_target: "/AASX/Data.XML",
        ..Layout::default()
    }));
    assert_repaired(&repairs, "part names differ in case");
}

#[test]
fn percent_encoding_differences_are_read() {
    let repairs = read_ok(package(Layout {
        suppl_entry: "aasx/suppl/a b.pdf",
        ..Layout::default()
    }));
    assert_repaired(&repairs, "percent-encoding differs");
}

#[test]
fn missing_content_types_are_taken_from_extensions() {
    let repairs = read_ok(package(Layout {
        content_types: None,
        ..Layout::default()
    }));
    assert_repaired(
        &repairs,
        "missing; content types taken from file extensions",
    );
    let text_plain = CONTENT_TYPES.replace("text/xml", "text/plain");
    let repairs = read_ok(package(Layout {
        content_types: Some(&text_plain),
        ..Layout::default()
    }));
    assert_repaired(&repairs, "read as xml by its extension");
}

#[test]
fn a_leading_slash_in_entry_names_is_read() {
    let repairs = read_ok(package(Layout {
        data_entry: "/aasx/data.xml",
        ..Layout::default()
    }));
    assert_repaired(&repairs, "entry name starts with /");
}

#[test]
fn dangling_targets_are_reported_not_fatal() {
    let repairs = read_ok(package(Layout::default()));
    assert!(repairs.is_empty());
    let mut reader = AasxReader::new(Cursor::new(package(Layout {
        suppl_target: "/aasx/suppl/gone.pdf",
        ..Layout::default()
    })))
    .unwrap();
    assert_eq!(reader.environment().unwrap(), environment());
    assert!(
        reader
            .repairs()
            .iter()
            .any(|r| r.message.contains("is not in the package"))
    );
}

#[test]
fn zip_bombs_are_refused() {
    let bomb = zip(&[("aasx/bomb.bin", vec![0u8; 50 << 20])]);
    assert!(bomb.len() < 200_000, "the test bomb compresses well");
    match AasxReader::new(Cursor::new(bomb)) {
        Err(Error::CompressionRatio { ratio, .. }) => assert!(ratio > 100),
        other => panic!("expected a compression ratio error, got {other:?}"),
    }
}

#[test]
fn unsafe_entry_names_are_refused() {
    for name in [
        "../evil",
        "aasx/../../evil",
        "C:/Windows/evil",
        "aasx\\..\\..\\evil",
    ] {
        match AasxReader::new(Cursor::new(zip(&[(name, b"x".to_vec())]))) {
            Err(Error::UnsafeName { .. }) => {}
            other => panic!("{name}: expected an unsafe name error, got {other:?}"),
        }
    }
}

#[test]
fn duplicate_part_names_are_refused() {
    let bytes = zip(&[
        ("aasx/data.xml", b"a".to_vec()),
        ("AASX/DATA.XML", b"b".to_vec()),
    ]);
    assert!(matches!(
        AasxReader::new(Cursor::new(bytes)),
        Err(Error::DuplicatePart(_))
    ));
}

#[test]
fn size_and_count_limits_are_enforced() {
    let bytes = package(Layout::default());
    let strict = |limits: Limits| AasxReader::with_limits(Cursor::new(bytes.clone()), limits);
    assert!(matches!(
        strict(Limits {
            max_entries: 3,
            ..Limits::default()
        }),
        Err(Error::TooManyEntries { count: 7, max: 3 })
    ));
    assert!(matches!(
        strict(Limits {
            max_total_size: 100,
            ..Limits::default()
        }),
        Err(Error::TooLarge { max: 100 })
    ));
    // Parts parsed in memory (content types, relationships, the environment) are bounded.
    let too_large = strict(Limits {
        max_part_size: 50,
        ..Limits::default()
    })
    .and_then(|mut r| r.environment().map(drop));
    assert!(
        matches!(too_large, Err(Error::PartTooLarge { .. })),
        "{too_large:?}"
    );
}

#[test]
fn not_a_package_is_a_clear_error() {
    assert!(matches!(
        AasxReader::new(Cursor::new(b"not a zip".to_vec())),
        Err(Error::Zip(_))
    ));
    let no_rels = zip(&[("aasx/data.xml", b"<environment/>".to_vec())]);
    assert!(matches!(
        AasxReader::new(Cursor::new(no_rels)),
        Err(Error::NoOrigin)
    ));
}

/// A sink that refuses to seek: the writer must stream.
struct NoSeek(Vec<u8>);

impl Write for NoSeek {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn write_package() -> Vec<u8> {
    let mut writer = AasxWriter::new(NoSeek(Vec::new()), Format::Json);
    writer.write_environment(&environment()).unwrap();
    writer
        .add_supplementary_file("/aasx/suppl/a b.pdf", "application/pdf", &b"%PDF"[..])
        .unwrap();
    writer
        .set_thumbnail("/aasx/thumbnail.png", "image/png", &b"\x89PNG"[..])
        .unwrap();
    writer.finish().unwrap().0
}

#[test]
fn the_writer_streams_deterministically_and_reads_back() {
    let first = write_package();
    assert_eq!(
        first,
        write_package(),
        "the same input gives the same bytes"
    );
    let mut reader = AasxReader::new(Cursor::new(first)).unwrap();
    assert!(reader.repairs().is_empty(), "{:?}", reader.repairs());
    assert_eq!(reader.spec_parts()[0].name, "/aasx/data.json");
    assert_eq!(reader.environment().unwrap(), environment());
    assert_eq!(reader.supplementary_files(), ["/aasx/suppl/a%20b.pdf"]);
    assert_eq!(reader.thumbnail(), Some("/aasx/thumbnail.png"));
    let mut thumbnail = Vec::new();
    reader
        .open("/aasx/thumbnail.png")
        .unwrap()
        .read_to_end(&mut thumbnail)
        .unwrap();
    assert_eq!(thumbnail, b"\x89PNG");
}

#[test]
fn the_writer_refuses_misuse() {
    let mut writer = AasxWriter::new(Vec::new(), Format::Xml);
    assert!(matches!(
        writer.add_supplementary_file("../evil", "x/y", &b""[..]),
        Err(Error::UnsafeName { .. })
    ));
    assert!(matches!(
        writer.add_supplementary_file("/_rels/.rels", "x/y", &b""[..]),
        Err(Error::Usage(_))
    ));
    writer
        .add_supplementary_file("/aasx/suppl/x.pdf", "application/pdf", &b""[..])
        .unwrap();
    assert!(matches!(
        writer.add_supplementary_file("/AASX/suppl/X.pdf", "application/pdf", &b""[..]),
        Err(Error::DuplicatePart(_))
    ));
    assert!(matches!(
        AasxWriter::new(Vec::new(), Format::Xml).finish(),
        Err(Error::Usage(_))
    ));
}

// ---- relationship bombs, duplicate entries, entries that lie about their size ------------

/// The package with its entry `name` replaced by `content`.
fn with_entry(name: &str, content: Vec<u8>) -> Vec<(String, Vec<u8>)> {
    let mut entries = package_entries(Layout::default());
    let entry = entries
        .iter_mut()
        .find(|(n, _)| n == name)
        .expect("the package has the entry");
    entry.1 = content;
    entries
}

/// Root relationships: the origin, then `extra` more of a type the reader ignores.
fn root_rels_with(extra: usize) -> Vec<u8> {
    let mut s = format!(
        r#"<?xml version="1.0"?><Relationships xmlns="{OPC_RELS}"><Relationship Id="o" Type="{V3}aasx-origin" Target="/aasx/aasx-origin"/>"#
    );
    for i in 0..extra {
        s.push_str(&format!(
            "<Relationship Id=\"x{i}\" Type=\"urn:other\" Target=\"/x/{i}\"/>\n"
        ));
    }
    (s + "</Relationships>").into_bytes()
}

fn open_with(bytes: Vec<u8>, limits: Limits) -> Result<AasxReader<Cursor<Vec<u8>>>, Error> {
    AasxReader::with_limits(Cursor::new(bytes), limits)
}

#[test]
fn the_default_limits_are_the_documented_ones() {
    let limits = Limits::default();
    assert_eq!(limits, Limits::DEFAULT);
    assert_eq!(limits.max_entries, 10_000);
    assert_eq!(limits.max_total_size, 16 << 30);
    assert_eq!(limits.max_part_size, 1 << 30);
    assert_eq!(limits.max_compression_ratio, 100);
    assert_eq!(limits.max_relationships_part_size, 16 << 20);
    assert_eq!(limits.max_relationships_per_part, 100_000);
    assert_eq!(limits.max_relationships, 200_000);
    assert_eq!(limits.max_content_types_size, 16 << 20);
}

#[test]
fn a_relationship_part_over_the_size_limit_is_refused_naming_the_part() {
    // Stored, so that the compression-ratio check does not see it first: a relationship bomb
    // of varied relationships compresses only ~50x, under that limit.
    let mut rels = root_rels_with(0);
    let padding = vec![b' '; (16 << 20) + 1 - rels.len()];
    let end = rels.len() - "</Relationships>".len();
    rels.splice(end..end, padding);
    assert_eq!(rels.len(), (16 << 20) + 1);
    let bytes = zip_owned(&with_entry("_rels/.rels", rels), CompressionMethod::Stored);
    match open_with(bytes, Limits::default()) {
        Err(e @ Error::RelationshipsPartTooLarge { .. }) => {
            let message = e.to_string();
            assert!(message.contains("\"/_rels/.rels\""), "{message}");
            assert!(message.contains("max_relationships_part_size"), "{message}");
            assert!(message.contains(&(16u64 << 20).to_string()), "{message}");
        }
        other => panic!("expected the relationships size limit, got {other:?}"),
    }
    // At the limit (the largest relationships part of the package) it reads.
    let (largest, size) = package_entries(Layout::default())
        .into_iter()
        .filter(|(name, _)| name.ends_with(".rels"))
        .map(|(name, content)| (name, content.len() as u64))
        .max_by_key(|(_, size)| *size)
        .unwrap();
    let limits = |max| Limits {
        max_relationships_part_size: max,
        ..Limits::default()
    };
    assert!(open_with(package(Layout::default()), limits(size)).is_ok());
    assert!(matches!(
        open_with(package(Layout::default()), limits(size - 1)),
        Err(Error::RelationshipsPartTooLarge { part, .. }) if part == format!("/{largest}")
    ));
}

#[test]
fn a_relationship_part_with_too_many_relationships_is_refused_naming_the_part() {
    let bytes = zip_owned(
        &with_entry("_rels/.rels", root_rels_with(100_000)),
        CompressionMethod::Stored,
    );
    match open_with(bytes, Limits::default()) {
        Err(e @ Error::TooManyRelationshipsInPart { .. }) => {
            let message = e.to_string();
            assert!(message.contains("\"/_rels/.rels\""), "{message}");
            assert!(message.contains("max_relationships_per_part"), "{message}");
            assert!(message.contains("100000"), "{message}");
        }
        other => panic!("expected the relationship count limit, got {other:?}"),
    }
    // Exactly at the limit it reads.
    let at_limit = zip_owned(
        &with_entry("_rels/.rels", root_rels_with(2)),
        CompressionMethod::Deflated,
    );
    let limits = |max| Limits {
        max_relationships_per_part: max,
        ..Limits::default()
    };
    assert!(open_with(at_limit.clone(), limits(3)).is_ok());
    assert!(matches!(
        open_with(at_limit, limits(2)),
        Err(Error::TooManyRelationshipsInPart { part, max: 2 }) if part == "/_rels/.rels"
    ));
}

#[test]
fn relationships_over_the_limit_in_all_parts_are_refused_naming_the_last_part() {
    // Root, origin and data.xml relationships: one each.
    let limits = |max| Limits {
        max_relationships: max,
        ..Limits::default()
    };
    assert!(open_with(package(Layout::default()), limits(3)).is_ok());
    match open_with(package(Layout::default()), limits(2)) {
        Err(e @ Error::TooManyRelationships { .. }) => {
            let message = e.to_string();
            assert!(
                message.contains("\"/aasx/_rels/data.xml.rels\""),
                "{message}"
            );
            assert!(message.contains("max_relationships)"), "{message}");
        }
        other => panic!("expected the total relationship limit, got {other:?}"),
    }
}

#[test]
fn content_types_over_the_size_limit_are_refused_naming_the_part() {
    let limits = |max| Limits {
        max_content_types_size: max,
        ..Limits::default()
    };
    let size = CONTENT_TYPES.len() as u64;
    assert!(open_with(package(Layout::default()), limits(size)).is_ok());
    match open_with(package(Layout::default()), limits(size - 1)) {
        Err(e @ Error::ContentTypesTooLarge { .. }) => {
            let message = e.to_string();
            assert!(message.contains("\"/[Content_Types].xml\""), "{message}");
            assert!(message.contains("max_content_types_size"), "{message}");
        }
        other => panic!("expected the content types size limit, got {other:?}"),
    }
}

/// Replaces every occurrence of `from` with `to` (same length) in the raw ZIP bytes: the
/// local header and the central directory name of an entry.
fn patch(bytes: &mut [u8], from: &[u8], to: &[u8]) -> usize {
    assert_eq!(from.len(), to.len());
    let mut count = 0;
    let mut i = 0;
    while i + from.len() <= bytes.len() {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
            count += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    count
}

#[test]
fn a_package_with_two_entries_of_the_same_name_is_refused() {
    // A second data.xml, with another environment: the zip writer refuses the same name, so
    // it is written as data.xmZ and renamed in the bytes.
    let mut entries = package_entries(Layout::default());
    entries.push((
        "aasx/data.xmZ".into(),
        xml::to_vec(&Environment::new()).unwrap(),
    ));
    let mut bytes = zip_owned(&entries, CompressionMethod::Deflated);
    assert_eq!(patch(&mut bytes, b"aasx/data.xmZ", b"aasx/data.xml"), 2);
    match AasxReader::new(Cursor::new(bytes)) {
        Err(Error::DuplicatePart(name)) => assert_eq!(name, "/aasx/data.xml"),
        Err(other) => panic!("expected a duplicate part error, got {other}"),
        Ok(mut reader) => panic!(
            "read with one of the copies: {:?}",
            reader.environment().map(|e| e.submodels.is_some())
        ),
    }
}

/// Sets the declared uncompressed size of entry `name` to `size`, in its local header
/// (size at offset 22, name at 30) and its central directory header (24 and 46).
fn declare_size(bytes: &mut [u8], name: &str, size: u32) {
    let name = name.as_bytes();
    let mut patched = 0;
    for at in 0..bytes.len().saturating_sub(name.len()) {
        if &bytes[at..at + name.len()] != name {
            continue;
        }
        let (signature, offset) = if at >= 30 && bytes[at - 30..at - 26] == *b"PK\x03\x04" {
            (at - 30, 22)
        } else if at >= 46 && bytes[at - 46..at - 42] == *b"PK\x01\x02" {
            (at - 46, 24)
        } else {
            continue;
        };
        bytes[signature + offset..signature + offset + 4].copy_from_slice(&size.to_le_bytes());
        patched += 1;
    }
    assert_eq!(patched, 2, "local and central header patched");
}

#[test]
fn an_entry_larger_than_it_declares_is_refused_naming_the_part() {
    // The environment, read whole.
    let mut bytes = package(Layout::default());
    declare_size(&mut bytes, "aasx/data.xml", 10);
    let mut reader = AasxReader::new(Cursor::new(bytes)).unwrap();
    match reader.environment() {
        Err(e @ Error::PartData { .. }) => {
            let message = e.to_string();
            assert!(message.contains("\"/aasx/data.xml\""), "{message}");
            assert!(message.contains("declared"), "{message}");
        }
        other => panic!("expected a part data error, got {other:?}"),
    }
    // A relationships part, read when the package is opened.
    let mut bytes = package(Layout::default());
    declare_size(&mut bytes, "aasx/_rels/aasx-origin.rels", 10);
    match AasxReader::new(Cursor::new(bytes)) {
        Err(e @ Error::PartData { .. }) => {
            assert!(
                e.to_string().contains("\"/aasx/_rels/aasx-origin.rels\""),
                "{e}"
            );
        }
        other => panic!("expected a part data error, got {other:?}"),
    }
    // A supplementary file, streamed.
    let mut bytes = package(Layout::default());
    declare_size(&mut bytes, "aasx/suppl/a%20b.pdf", 2);
    let mut reader = AasxReader::new(Cursor::new(bytes)).unwrap();
    let mut content = Vec::new();
    let error = reader
        .open("/aasx/suppl/a%20b.pdf")
        .unwrap()
        .read_to_end(&mut content)
        .unwrap_err();
    assert!(
        error.to_string().contains("/aasx/suppl/a%20b.pdf"),
        "{error}"
    );
}

#[test]
fn element_files_are_the_thumbnails_and_file_values_the_package_carries()
-> Result<(), Box<dyn std::error::Error>> {
    use aas_serde::aasx::{ElementFile, FileOwner};
    let mut info = AssetInformation::new(AssetKind::Instance);
    info.default_thumbnail = Some(Resource::new("/aasx/thumb.png"));
    let shell = AssetAdministrationShell::new("urn:aas", info);
    let mut manual = File::new("application/pdf").with_id_short("Manual");
    manual.value = Some("/aasx/suppl/manual.pdf".into());
    let mut site = File::new("text/html").with_id_short("Site");
    site.value = Some("https://example.com/".into());
    let mut submodel = Submodel::new("urn:sm");
    submodel.submodel_elements = Some(vec![manual.into(), site.into()]);
    let environment = Environment {
        asset_administration_shells: Some(vec![shell]),
        submodels: Some(vec![submodel]),
        ..Default::default()
    };

    let mut writer = AasxWriter::new(Cursor::new(Vec::new()), Format::Xml);
    writer.write_environment(&environment)?;
    writer.add_supplementary_file("/aasx/suppl/manual.pdf", "application/pdf", &b"%PDF"[..])?;
    writer.set_thumbnail("/aasx/thumb.png", "image/png", &b"png"[..])?;
    let bytes = writer.finish()?.into_inner();

    let mut reader = AasxReader::new(Cursor::new(bytes))?;
    let mut files = Vec::new();
    let count = reader.element_files(&environment, |file| {
        files.push(file);
        Ok::<_, Error>(())
    })?;
    assert_eq!(count, 2, "the URL names no part");
    assert_eq!(
        files,
        [
            ElementFile {
                owner: FileOwner::Thumbnail("urn:aas".into()),
                content_type: "application/octet-stream".into(),
                file_name: "thumb.png".into(),
                bytes: b"png".to_vec(),
            },
            ElementFile {
                owner: FileOwner::File("urn:sm".into(), "Manual".into()),
                content_type: "application/pdf".into(),
                file_name: "manual.pdf".into(),
                bytes: b"%PDF".to_vec(),
            },
        ]
    );
    Ok(())
}
