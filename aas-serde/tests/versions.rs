//! The two metamodel versions, V3.0 and V3.1: how each format tells which one it reads (the XML
//! namespace, the caller for JSON, the XML parts of an AASX package), what each version accepts
//! (`AssetKind` `Role` and the attributes V3.0 requires), and which version is written.

use std::io::{Cursor, Write};

use aas_model::*;
use aas_serde::aasx::{AasxReader, AasxWriter, Error as AasxError};
use aas_serde::{Format, json, xml};
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

const NS30: &str = "https://admin-shell.io/aas/3/0";
const NS31: &str = "https://admin-shell.io/aas/3/1";

const REFERENCE: &str =
    r#"{"type":"ExternalReference","keys":[{"type":"GlobalReference","value":"urn:x"}]}"#;

fn env_with(element: &str) -> String {
    format!(
        r#"{{"submodels":[{{"modelType":"Submodel","id":"urn:sm","submodelElements":[{element}]}}]}}"#
    )
}

fn shell_of_kind(kind: &str) -> String {
    format!(
        r#"{{"assetAdministrationShells":[{{"modelType":"AssetAdministrationShell","id":"urn:aas","assetInformation":{{"assetKind":"{kind}"}}}}]}}"#
    )
}

/// Environments (JSON) that lack one attribute V3.0 requires, with that attribute's name.
fn lacking_a_v30_attribute() -> Vec<(String, &'static str)> {
    let value_list = format!(
        r#"{{"conceptDescriptions":[{{"modelType":"ConceptDescription","id":"urn:cd","embeddedDataSpecifications":[{{"dataSpecification":{REFERENCE},"dataSpecificationContent":{{"modelType":"DataSpecificationIec61360","preferredName":[{{"language":"en","text":"x"}}],"valueList":{{"valueReferencePairs":[{{"value":"v"}}]}}}}}}]}}]}}"#
    );
    vec![
        (
            env_with(r#"{"modelType":"Entity","idShort":"e"}"#),
            "entityType",
        ),
        (
            env_with(&format!(
                r#"{{"modelType":"RelationshipElement","idShort":"r","second":{REFERENCE}}}"#
            )),
            "first",
        ),
        (
            env_with(&format!(
                r#"{{"modelType":"RelationshipElement","idShort":"r","first":{REFERENCE}}}"#
            )),
            "second",
        ),
        (
            env_with(&format!(
                r#"{{"modelType":"AnnotatedRelationshipElement","idShort":"r","first":{REFERENCE}}}"#
            )),
            "second",
        ),
        (
            env_with(r#"{"modelType":"File","idShort":"f"}"#),
            "contentType",
        ),
        (
            env_with(r#"{"modelType":"Blob","idShort":"b","value":"AAEC"}"#),
            "contentType",
        ),
        (value_list, "valueId"),
    ]
}

#[test]
fn json_is_read_as_the_newest_version_unless_told() {
    let role = shell_of_kind("Role");
    let env: Environment = json::from_str(&role).unwrap();
    assert_eq!(
        env.asset_administration_shells.unwrap()[0]
            .asset_information
            .asset_kind,
        AssetKind::Role
    );
    assert!(json::from_str_as::<Environment>(&role, Version::V3_1).is_ok());
    assert!(json::from_slice_as::<Environment>(role.as_bytes(), Version::V3_0).is_err());
    assert!(json::from_reader_as::<Environment, _>(role.as_bytes(), Version::V3_0).is_err());
    assert!(json::from_reader::<Environment, _>(role.as_bytes()).is_ok());
}

#[test]
fn role_read_as_v30_is_refused_with_its_path_and_the_version_that_has_it() {
    let role = shell_of_kind("Role");
    let err = json::from_str_as::<Environment>(&role, Version::V3_0).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            json::ErrorKind::LiteralNotInVersion {
                literal: "Role",
                version: Version::V3_0,
                since: Version::V3_1,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.path_string(),
        "$.assetAdministrationShells[0].assetInformation.assetKind"
    );
    assert!(
        err.to_string()
            .contains("\"Role\" of AssetKind is AAS V3.1 only; the input is read as V3.0"),
        "{err}"
    );
    // The other literals are V3.0's.
    for kind in ["Type", "Instance", "NotApplicable"] {
        json::from_str_as::<Environment>(&shell_of_kind(kind), Version::V3_0).unwrap();
    }

    // XML: a V3.0 document (by its namespace) cannot hold Role; a V3.1 one can.
    let env: Environment = json::from_str(&role).unwrap();
    let as_v30 = xml::to_string_as(&env, Version::V3_0).unwrap();
    let err = xml::from_str::<Environment>(&as_v30).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            xml::ErrorKind::LiteralNotInVersion {
                literal: "Role",
                version: Version::V3_0,
                since: Version::V3_1,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.path_string(),
        "/environment/assetAdministrationShells/assetAdministrationShell[0]/assetInformation/assetKind"
    );
    assert!(err.to_string().contains("is AAS V3.1 only"), "{err}");
    let as_v31 = xml::to_string_as(&env, Version::V3_1).unwrap();
    assert_eq!(
        xml::from_str_versioned::<Environment>(&as_v31).unwrap(),
        (env, Version::V3_1)
    );
}

#[test]
fn attributes_v30_requires_are_required_as_v30_and_optional_as_v31() {
    for (text, attribute) in lacking_a_v30_attribute() {
        // JSON read as V3.0: refused, naming the attribute, its class and the version.
        let err = json::from_str_as::<Environment>(&text, Version::V3_0).unwrap_err();
        assert!(
            matches!(err.kind(), json::ErrorKind::MissingInVersion { property, version: Version::V3_0, .. } if *property == attribute),
            "{attribute}: {err}"
        );
        assert!(err.path().count() > 0 && err.line() > 0, "{err}");
        assert!(err.to_string().contains("AAS V3.0 requires it"), "{err}");

        // JSON read as V3.1: read, and written without it.
        let env: Environment = json::from_str_as(&text, Version::V3_1).unwrap();
        let written = json::to_vec(&env);
        assert!(
            !String::from_utf8_lossy(&written).contains(&format!("\"{attribute}\"")),
            "{attribute} written"
        );
        assert_eq!(json::from_slice::<Environment>(&written).unwrap(), env);

        // XML: the same by the namespace.
        let as_v30 = xml::to_string_as(&env, Version::V3_0).unwrap();
        let err = xml::from_str::<Environment>(&as_v30).unwrap_err();
        assert!(
            matches!(err.kind(), xml::ErrorKind::MissingInVersion { element, version: Version::V3_0, .. } if *element == attribute),
            "{attribute}: {err}"
        );
        assert!(err.path_string().len() > 1 && err.line() > 0, "{err}");
        let as_v31 = xml::to_string_as(&env, Version::V3_1).unwrap();
        assert!(!as_v31.contains(&format!("<{attribute}>")), "{as_v31}");
        assert_eq!(
            xml::from_str_versioned::<Environment>(&as_v31).unwrap(),
            (env, Version::V3_1)
        );
    }
}

fn xml_submodel(namespace: &str) -> String {
    format!(r#"<submodel xmlns="{namespace}"><id>urn:x</id></submodel>"#)
}

#[test]
fn xml_is_read_as_the_version_its_root_namespace_names() {
    for (namespace, version) in [(NS30, Version::V3_0), (NS31, Version::V3_1)] {
        let text = xml_submodel(namespace);
        assert_eq!(
            xml::from_str_versioned::<Submodel>(&text).unwrap(),
            (Submodel::new("urn:x"), version)
        );
        assert_eq!(
            xml::from_slice_versioned::<Submodel>(text.as_bytes()).unwrap(),
            (Submodel::new("urn:x"), version)
        );
        // Any prefix.
        let prefixed = format!(
            r#"<aas:submodel xmlns:aas="{namespace}"><aas:id>urn:x</aas:id></aas:submodel>"#
        );
        assert_eq!(
            xml::from_str_versioned::<Submodel>(&prefixed).unwrap().1,
            version
        );
    }
}

#[test]
fn an_element_outside_the_namespace_of_the_root_is_refused_with_its_path() {
    for (root, other) in [(NS31, NS30), (NS30, NS31)] {
        let text = format!(
            r#"<environment xmlns="{root}" xmlns:o="{other}"><submodels><o:submodel><id>urn:x</id></o:submodel></submodels></environment>"#
        );
        let err = xml::from_str::<Environment>(&text).unwrap_err();
        assert!(
            matches!(err.kind(), xml::ErrorKind::WrongNamespace { expected, .. } if *expected == root),
            "{err}"
        );
        assert_eq!(err.path_string(), "/environment/submodels/submodel");
        assert!(
            err.to_string()
                .contains(&format!("in the namespace \"{other}\", not in {root}")),
            "{err}"
        );
    }
}

#[test]
fn xml_is_written_in_the_namespace_of_the_version_asked_for() {
    let submodel = Submodel::new("urn:x");
    for (version, namespace) in [(Version::V3_0, NS30), (Version::V3_1, NS31)] {
        let tag = format!(r#"<submodel xmlns="{namespace}">"#);
        assert!(
            xml::to_string_as(&submodel, version)
                .unwrap()
                .contains(&tag)
        );
        let pretty = xml::to_vec_pretty_as(&submodel, version).unwrap();
        assert!(String::from_utf8_lossy(&pretty).contains(&tag));
        let mut out = Vec::new();
        xml::to_writer_as(&mut out, &submodel, version).unwrap();
        assert_eq!(
            xml::from_slice_versioned::<Submodel>(&out).unwrap(),
            (submodel.clone(), version)
        );
        let mut out = Vec::new();
        xml::to_writer_pretty_as(&mut out, &submodel, version).unwrap();
        assert_eq!(out, pretty);
        assert_eq!(
            xml::to_vec_as(&submodel, version).unwrap().len(),
            xml::to_string_as(&submodel, version).unwrap().len()
        );
    }
    // Not told: the newest.
    let tag = format!(r#"<submodel xmlns="{NS31}">"#);
    assert!(xml::to_string(&submodel).unwrap().contains(&tag));
    assert!(String::from_utf8_lossy(&xml::to_vec_pretty(&submodel).unwrap()).contains(&tag));
}

/// A concept description whose embedded data specification has its two children in `order`.
fn embedded_data_specification(namespace: &str, content_first: bool) -> String {
    let specification = "<dataSpecification><type>ExternalReference</type><keys><key><type>GlobalReference</type><value>https://admin-shell.io/DataSpecificationTemplates/DataSpecificationIec61360/3</value></key></keys></dataSpecification>";
    let content = "<dataSpecificationContent><dataSpecificationIec61360><preferredName><langStringPreferredNameTypeIec61360><language>en</language><text>x</text></langStringPreferredNameTypeIec61360></preferredName></dataSpecificationIec61360></dataSpecificationContent>";
    let children = if content_first {
        format!("{content}{specification}")
    } else {
        format!("{specification}{content}")
    };
    format!(
        r#"<environment xmlns="{namespace}"><conceptDescriptions><conceptDescription><id>urn:cd</id><embeddedDataSpecifications><embeddedDataSpecification>{children}</embeddedDataSpecification></embeddedDataSpecifications></conceptDescription></conceptDescriptions></environment>"#
    )
}

#[test]
fn both_orders_of_embedded_data_specification_children_read_and_the_v311_order_is_written() {
    // v3.1.1 (and V3.0) order: dataSpecification first; the v3.1.0 XSD had them swapped.
    let v311: Environment = xml::from_str(&embedded_data_specification(NS31, false)).unwrap();
    let v310: Environment = xml::from_str(&embedded_data_specification(NS31, true)).unwrap();
    assert_eq!(v310, v311);
    let written = xml::to_string(&v310).unwrap();
    assert!(
        written.contains("<embeddedDataSpecification><dataSpecification><type>"),
        "{written}"
    );
    // V3.0 documents read their children in any order, as before (and as aas-core reads them).
    let v30: Environment = xml::from_str(&embedded_data_specification(NS30, true)).unwrap();
    assert_eq!(v30, v311);
}

// AASX

const OPC_RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const AASX_RELS: &str = "http://admin-shell.io/aasx/relationships/";
const CONTENT_TYPES: &str = r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="text/xml"/><Default Extension="json" ContentType="application/json"/></Types>"#;

/// A package whose origin names each `(part, content)` as an aas-spec part.
fn package_with_spec_parts(parts: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let rels = |items: &[(String, &str)]| {
        let mut s = format!(r#"<?xml version="1.0"?><Relationships xmlns="{OPC_RELS}">"#);
        for (i, (type_, target)) in items.iter().enumerate() {
            s.push_str(&format!(
                r#"<Relationship Id="r{i}" Type="{type_}" Target="{target}"/>"#
            ));
        }
        s + "</Relationships>"
    };
    let specs: Vec<(String, &str)> = parts
        .iter()
        .map(|(name, _)| (format!("{AASX_RELS}aas-spec"), *name))
        .collect();
    let mut entries = vec![
        (
            "_rels/.rels".to_owned(),
            rels(&[(format!("{AASX_RELS}aasx-origin"), "/aasx/aasx-origin")]).into_bytes(),
        ),
        (
            "aasx/aasx-origin".to_owned(),
            b"Intentionally empty.".to_vec(),
        ),
        (
            "aasx/_rels/aasx-origin.rels".to_owned(),
            rels(&specs).into_bytes(),
        ),
        (
            "[Content_Types].xml".to_owned(),
            CONTENT_TYPES.as_bytes().to_vec(),
        ),
    ];
    for (name, content) in parts {
        entries.push((name.trim_start_matches('/').to_owned(), content.clone()));
    }
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in entries {
        writer
            .start_file(name, SimpleFileOptions::default())
            .unwrap();
        writer.write_all(&content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn submodel_env(id: &str) -> Environment {
    Environment {
        submodels: Some(vec![Submodel::new(id)]),
        ..Environment::new()
    }
}

#[test]
fn a_package_is_written_as_the_version_asked_for_and_read_as_the_version_of_its_xml() {
    let env = submodel_env("urn:sm");
    for version in [Version::V3_0, Version::V3_1] {
        let mut writer = AasxWriter::new(Vec::new(), Format::Xml).with_version(version);
        writer.write_environment(&env).unwrap();
        let package = writer.finish().unwrap();
        // Told a JSON version that differs: the XML part decides.
        let other = if version == Version::V3_0 {
            Version::V3_1
        } else {
            Version::V3_0
        };
        let mut reader = AasxReader::new(Cursor::new(package))
            .unwrap()
            .with_json_version(other);
        assert_eq!(reader.version(), None, "nothing read yet");
        assert_eq!(reader.environment().unwrap(), env);
        assert_eq!(reader.version(), Some(version));
    }
    // Not told: the newest.
    let mut writer = AasxWriter::new(Vec::new(), Format::Xml);
    writer.write_environment(&env).unwrap();
    let mut reader = AasxReader::new(Cursor::new(writer.finish().unwrap())).unwrap();
    reader.environment().unwrap();
    assert_eq!(reader.version(), Some(Version::V3_1));
}

#[test]
fn json_parts_are_read_as_the_version_given_or_the_newest() {
    let env: Environment = json::from_str(&shell_of_kind("Role")).unwrap();
    let mut writer = AasxWriter::new(Vec::new(), Format::Json);
    writer.write_environment(&env).unwrap();
    let package = writer.finish().unwrap();

    let mut reader = AasxReader::new(Cursor::new(package.clone())).unwrap();
    assert_eq!(reader.environment().unwrap(), env);
    assert_eq!(reader.version(), Some(Version::V3_1));

    let mut reader = AasxReader::new(Cursor::new(package))
        .unwrap()
        .with_json_version(Version::V3_0);
    let err = reader.environment().unwrap_err();
    assert!(matches!(err, AasxError::SpecJson { .. }), "{err}");
    assert!(
        err.to_string().starts_with("/aasx/data.json: $.assetAdministrationShells[0].assetInformation.assetKind: \"Role\" of AssetKind is AAS V3.1 only"),
        "{err}"
    );
}

#[test]
fn json_parts_beside_xml_parts_are_read_as_the_version_of_the_xml() {
    let role: Environment = json::from_str(&shell_of_kind("Role")).unwrap();
    let package = package_with_spec_parts(&[
        (
            "/aasx/aas.xml",
            xml::to_vec_as(&submodel_env("urn:a"), Version::V3_0).unwrap(),
        ),
        ("/aasx/aas.json", json::to_vec(&role)),
    ]);
    // Role in a V3.0 package: refused, although JSON alone would be read as V3.1.
    let mut reader = AasxReader::new(Cursor::new(package)).unwrap();
    let err = reader.environment().unwrap_err();
    assert!(
        err.to_string().starts_with("/aasx/aas.json: ") && err.to_string().contains("read as V3.0"),
        "{err}"
    );

    let package = package_with_spec_parts(&[
        (
            "/aasx/aas.xml",
            xml::to_vec_as(&submodel_env("urn:a"), Version::V3_1).unwrap(),
        ),
        ("/aasx/aas.json", json::to_vec(&role)),
    ]);
    let mut reader = AasxReader::new(Cursor::new(package))
        .unwrap()
        .with_json_version(Version::V3_0);
    let env = reader.environment().unwrap();
    assert_eq!(reader.version(), Some(Version::V3_1));
    assert_eq!(env.submodels, submodel_env("urn:a").submodels);
    assert_eq!(
        env.asset_administration_shells,
        role.asset_administration_shells
    );
}

#[test]
fn spec_parts_named_as_part_5_v31_allows_are_read() {
    let env = submodel_env("urn:a");
    for (name, bytes) in [
        (
            "/aasx/aas.xml",
            xml::to_vec_as(&env, Version::V3_1).unwrap(),
        ),
        ("/aasx/aas.json", json::to_vec(&env)),
    ] {
        let mut reader =
            AasxReader::new(Cursor::new(package_with_spec_parts(&[(name, bytes)]))).unwrap();
        assert_eq!(reader.spec_parts()[0].name, name);
        assert_eq!(reader.environment().unwrap(), env);
        assert_eq!(reader.version(), Some(Version::V3_1));
        assert!(reader.repairs().is_empty(), "{:?}", reader.repairs());
    }
}

#[test]
fn xml_parts_of_different_versions_are_an_error_naming_both() {
    let package = package_with_spec_parts(&[
        (
            "/aasx/a.xml",
            xml::to_vec_as(&submodel_env("urn:a"), Version::V3_0).unwrap(),
        ),
        (
            "/aasx/b.xml",
            xml::to_vec_as(&submodel_env("urn:b"), Version::V3_1).unwrap(),
        ),
    ]);
    let mut reader = AasxReader::new(Cursor::new(package)).unwrap();
    let err = reader.environment().unwrap_err();
    assert!(
        matches!(
            &err,
            AasxError::MixedVersions { first_part, first_version: Version::V3_0, part, version: Version::V3_1 }
                if first_part == "/aasx/a.xml" && part == "/aasx/b.xml"
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "aas-spec parts of different AAS versions: /aasx/a.xml is V3.0, /aasx/b.xml is V3.1"
    );

    // Parts of one version merge.
    let package = package_with_spec_parts(&[
        (
            "/aasx/a.xml",
            xml::to_vec_as(&submodel_env("urn:a"), Version::V3_0).unwrap(),
        ),
        (
            "/aasx/b.xml",
            xml::to_vec_as(&submodel_env("urn:b"), Version::V3_0).unwrap(),
        ),
    ]);
    let mut reader = AasxReader::new(Cursor::new(package)).unwrap();
    assert_eq!(
        reader.environment().unwrap().submodels.map(|s| s.len()),
        Some(2)
    );
    assert_eq!(reader.version(), Some(Version::V3_0));
}

#[test]
fn reading_does_not_verify_a_v31_id_short_reads_as_v30_and_verification_reports_it() {
    let text = env_with(r#"{"modelType":"Property","idShort":"a-b","valueType":"xs:int"}"#);
    let env: Environment = json::from_str_as(&text, Version::V3_0).unwrap();
    assert!(
        aas_model::verify_as(&env, Version::V3_0).count() > 0,
        "V3.0 allows no hyphen in an idShort"
    );
    let as_v30 = xml::to_string_as(&env, Version::V3_0).unwrap();
    assert_eq!(xml::from_str::<Environment>(&as_v30).unwrap(), env);
}

#[test]
fn a_package_of_another_aas_version_is_refused_by_name() {
    let v20 = br#"<?xml version="1.0"?><aas:aasenv xmlns:aas="http://www.admin-shell.io/aas/2/0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.admin-shell.io/aas/2/0 AAS.xsd"><aas:assetAdministrationShells/></aas:aasenv>"#;
    let package = package_with_spec_parts(&[("/aasx/data.xml", v20.to_vec())]);
    let err = AasxReader::new(Cursor::new(package))
        .unwrap()
        .environment()
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("/aasx/data.xml: /aasenv: AAS V2.0 is not supported"),
        "{err}"
    );
}
