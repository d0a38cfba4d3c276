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
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in entries {
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
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
    let owned: Vec<(String, Vec<u8>)> = entries
        .into_iter()
        .map(|(n, c)| (n.to_owned(), c))
        .collect();
    let borrowed: Vec<(&str, Vec<u8>)> =
        owned.iter().map(|(n, c)| (n.as_str(), c.clone())).collect();
    zip(&borrowed)
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
