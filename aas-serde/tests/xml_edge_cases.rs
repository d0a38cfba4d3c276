//! XML reader and writer behaviour the conformance corpus does not exercise.

use aas_model::*;
use aas_serde::{Document, xml};

const NS: &str = "https://admin-shell.io/aas/3/0";

fn env_with(element: &str) -> String {
    format!(
        r#"<environment xmlns="{NS}"><submodels><submodel><id>urn:sm</id><submodelElements>{element}</submodelElements></submodel></submodels></environment>"#
    )
}

fn first_element(env: &Environment) -> &SubmodelElement {
    &env.submodels.as_ref().unwrap()[0]
        .submodel_elements
        .as_ref()
        .unwrap()[0]
}

fn property(value: &str) -> Environment {
    let mut p = Property::new(DataTypeDefXsd::String).with_id_short("P");
    p.value = Some(value.into());
    let mut sm = Submodel::new("urn:sm");
    sm.submodel_elements = Some(vec![p.into()]);
    Environment {
        submodels: Some(vec![sm]),
        ..Environment::new()
    }
}

#[test]
fn prolog_comments_prefixes_cdata_and_entities_are_read() {
    let text = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- head -->\n<?pi data?>\n<a:environment xmlns:a=\"{NS}\">\
         <a:submodels><!-- c --><a:submodel><a:id><![CDATA[urn:<x>]]>&amp;&#x41;&#66;</a:id></a:submodel></a:submodels>\
         </a:environment>\n<!-- tail -->"
    );
    let env: Environment = xml::from_str(&text).unwrap();
    assert_eq!(env.submodels.unwrap()[0].id, "urn:<x>&AB");
}

#[test]
fn elements_may_come_in_any_order_and_are_written_in_xsd_order() {
    let text = env_with(
        "<property><valueType>xs:int</valueType><idShort>P</idShort><value>1</value></property>",
    );
    let env: Environment = xml::from_str(&text).unwrap();
    let written = xml::to_string(&env).unwrap();
    assert!(
        written.contains(
            "<property><idShort>P</idShort><valueType>xs:int</valueType><value>1</value></property>"
        ),
        "{written}"
    );
}

#[test]
fn carriage_returns_survive_a_round_trip() {
    let env = property("line 1\r\nline 2\rend");
    let written = xml::to_string(&env).unwrap();
    assert!(written.contains("line 1&#xD;\nline 2&#xD;end"), "{written}");
    assert_eq!(xml::from_str::<Environment>(&written).unwrap(), env);
    // A raw CR in the document is normalized to LF, as XML 1.0 requires.
    let raw = env_with(
        "<property><idShort>P</idShort><valueType>xs:string</valueType><value>a\r\nb</value></property>",
    );
    match first_element(&xml::from_str(&raw).unwrap()) {
        SubmodelElement::Property(p) => assert_eq!(p.value.as_deref(), Some("a\nb")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn markup_characters_are_escaped() {
    let env = property("<a> & \"b\" 'c' ]]>");
    let written = xml::to_string(&env).unwrap();
    assert!(
        written.contains("&lt;a&gt; &amp; \"b\" 'c' ]]&gt;"),
        "{written}"
    );
    assert_eq!(xml::from_str::<Environment>(&written).unwrap(), env);
}

#[test]
fn characters_xml_forbids_are_a_write_error_naming_the_element() {
    for bad in ["nul\u{0}", "bell\u{7}", "nonchar\u{FFFE}"] {
        let err = xml::to_vec(&property(bad)).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "/environment/submodels/submodel/submodelElements/property/value: character U+"
            ),
            "{err}"
        );
    }
    // Written as character references they are not well-formed either.
    let text = env_with(
        "<property><idShort>P</idShort><valueType>xs:string</valueType><value>&#x1;</value></property>",
    );
    let err = xml::from_str::<Environment>(&text).unwrap_err();
    assert!(
        matches!(err.kind(), xml::ErrorKind::ForbiddenCharacter(1)),
        "{err}"
    );
}

#[test]
fn empty_blob_values_are_left_out_and_empty_strings_written() {
    let mut blob = Blob::new("application/octet-stream").with_id_short("B");
    blob.value = Some(vec![]);
    let mut sm = Submodel::new("urn:sm");
    sm.submodel_elements = Some(vec![
        blob.into(),
        Property {
            value: Some(String::new()),
            ..Property::new(DataTypeDefXsd::String).with_id_short("P")
        }
        .into(),
    ]);
    let env = Environment {
        submodels: Some(vec![sm]),
        ..Environment::new()
    };
    let written = xml::to_string(&env).unwrap();
    assert!(
        written.contains(
            "<blob><idShort>B</idShort><contentType>application/octet-stream</contentType></blob>"
        ),
        "{written}"
    );
    assert!(
        written.contains("<valueType>xs:string</valueType><value></value>"),
        "{written}"
    );
    let again: Environment = xml::from_str(&written).unwrap();
    match &again.submodels.as_ref().unwrap()[0]
        .submodel_elements
        .as_ref()
        .unwrap()[1]
    {
        SubmodelElement::Property(p) => assert_eq!(p.value.as_deref(), Some("")),
        other => panic!("{other:?}"),
    }
    // `<value/>` for a Blob (basyx writes it) reads as empty bytes.
    let empty: Environment = xml::from_str(&env_with(
        "<blob><idShort>B</idShort><value/><contentType>a/b</contentType></blob>",
    ))
    .unwrap();
    match first_element(&empty) {
        SubmodelElement::Blob(b) => assert_eq!(b.value.as_deref(), Some(&[][..])),
        other => panic!("{other:?}"),
    }
}

#[test]
fn empty_lists_read_as_empty_and_are_never_written() {
    let env: Environment = xml::from_str(&format!(
        r#"<environment xmlns="{NS}"><submodels/></environment>"#
    ))
    .unwrap();
    assert_eq!(env.submodels, Some(vec![]));
    assert!(
        xml::to_string_as(&env, Version::V3_0)
            .unwrap()
            .ends_with(&format!(r#"<environment xmlns="{NS}"></environment>"#))
    );
}

#[test]
fn strict_reading_refuses_what_the_mapping_does_not_allow() {
    let cases: &[(&str, &str)] = &[
        (
            r#"<environment xmlns="urn:other"/>"#,
            "not in https://admin-shell.io/aas/3/0",
        ),
        ("<environment/>", "in no namespace"),
        (
            &format!(r#"<environment xmlns="{NS}" version="1"/>"#),
            "unexpected attribute \"version\"",
        ),
        (
            &format!(r#"<environment xmlns="{NS}">text</environment>"#),
            "unexpected text \"text\"",
        ),
        (
            &format!(r#"<environment xmlns="{NS}"><shells/></environment>"#),
            "unexpected element <shells> in Environment",
        ),
        (
            &format!(r#"<!DOCTYPE x [<!ENTITY e "x">]><environment xmlns="{NS}"/>"#),
            "document type declarations are not supported",
        ),
        (
            &format!(r#"<submodel xmlns="{NS}"><id>x</id></submodel>"#),
            "root element <submodel> is not <environment>",
        ),
        (
            &env_with(
                "<property><idShort>P</idShort><idShort>Q</idShort><valueType>xs:int</valueType></property>",
            ),
            "duplicate element <idShort>",
        ),
        (
            &env_with("<property><idShort><b/></idShort><valueType>xs:int</valueType></property>"),
            "expected text, found element <b>",
        ),
        (
            &env_with("<property><valueType>xs:integer </valueType></property>"),
            "\"xs:integer \" is not a literal of DataTypeDefXsd",
        ),
        (
            &env_with(
                "<submodelElementList><orderRelevant>yes</orderRelevant><typeValueListElement>Property</typeValueListElement></submodelElementList>",
            ),
            "\"yes\" is not a boolean",
        ),
        (
            &env_with("<unknownElement/>"),
            "unexpected element <unknownElement> in submodel element",
        ),
        (
            &format!(r#"<environment xmlns="{NS}"></environment><x/>"#),
            "content after the root element",
        ),
        (
            &format!(r#"<environment xmlns="{NS}"><submodels>"#),
            "unexpected end",
        ),
        (
            &format!(r#"<environment xmlns="{NS}"><submodels></environment>"#),
            "malformed XML",
        ),
    ];
    for (text, expected) in cases {
        let err = xml::from_str::<Environment>(text).unwrap_err();
        assert!(
            err.to_string().contains(expected),
            "{text}\n  gave: {err}\n  expected: {expected}"
        );
        assert!(err.line() > 0, "{err}");
    }
}

#[test]
fn booleans_accept_the_xsd_forms_and_whitespace() {
    let text = env_with(
        "<submodelElementList><orderRelevant> 1 </orderRelevant><typeValueListElement>Property</typeValueListElement></submodelElementList>",
    );
    match first_element(&xml::from_str(&text).unwrap()) {
        SubmodelElement::SubmodelElementList(l) => assert_eq!(l.order_relevant, Some(true)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 5_000;
    let open = "<submodelElementCollection><value>".repeat(depth);
    let close = "</value></submodelElementCollection>".repeat(depth);
    let err = xml::from_str::<Environment>(&env_with(&format!("{open}{close}"))).unwrap_err();
    assert!(matches!(err.kind(), xml::ErrorKind::TooDeep(_)), "{err}");
}

#[test]
fn documents_and_single_classes_are_roots() {
    let payload = format!(
        r#"<eventPayload xmlns="{NS}"><source><type>ExternalReference</type><keys><key><type>GlobalReference</type><value>s</value></key></keys></source><observableReference><type>ExternalReference</type><keys><key><type>GlobalReference</type><value>o</value></key></keys></observableReference><timeStamp>2024-01-01T00:00:00Z</timeStamp></eventPayload>"#
    );
    assert!(matches!(
        xml::from_str::<Document>(&payload).unwrap(),
        Document::EventPayload(_)
    ));
    let submodel: Submodel = xml::from_str(&format!(
        r#"<submodel xmlns="{NS}"><id>urn:x</id></submodel>"#
    ))
    .unwrap();
    assert_eq!(submodel, Submodel::new("urn:x"));
    assert_eq!(
        xml::to_string_as(&submodel, Version::V3_0).unwrap(),
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><submodel xmlns="{NS}"><id>urn:x</id></submodel>"#
        )
    );
}

#[test]
fn mutated_documents_give_errors_not_panics() {
    let base = xml::to_string(&property("value & <more>")).unwrap();
    let bytes = base.as_bytes();
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    for i in 0..3000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut m = bytes[..bytes.len() - (i % bytes.len())].to_vec();
        if !m.is_empty() {
            let at = (seed as usize) % m.len();
            m[at] = b"<>/&;\"= ax\x00\xff"[(seed >> 32) as usize % 12];
        }
        if let Ok(doc) = xml::from_slice::<Document>(&m)
            && let Ok(written) = xml::to_vec(&doc)
        {
            assert_eq!(xml::from_slice::<Document>(&written).unwrap(), doc);
        }
    }
}

#[test]
fn collections_nested_100_000_deep_are_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let open = "<submodelElementCollection><value>".repeat(depth);
    let close = "</value></submodelElementCollection>".repeat(depth);
    let text = env_with(&format!("{open}{close}"));
    let err = xml::from_str::<Environment>(&text).unwrap_err();
    assert!(
        matches!(err.kind(), xml::ErrorKind::TooDeep(xml::MAX_DEPTH)),
        "{err}"
    );
    assert!(
        err.to_string().contains("nested deeper than 128 levels"),
        "{err}"
    );
    assert!(xml::from_str::<Document>(&text).is_err());
}

#[test]
fn collections_nested_to_the_depth_limit_are_read_and_written() {
    assert_eq!(xml::MAX_DEPTH, 128);
    let nested = |depth: usize| {
        let open = "<submodelElementCollection><idShort>c</idShort><value>".repeat(depth - 1);
        let close = "</value></submodelElementCollection>".repeat(depth - 1);
        env_with(&format!(
            "{open}<submodelElementCollection><idShort>c</idShort></submodelElementCollection>{close}"
        ))
    };
    // Elements above the first collection: environment, submodels, submodel,
    // submodelElements; each collection is an element and its value another; the innermost
    // collection's idShort is the deepest element.
    let deepest = (xml::MAX_DEPTH - 6) / 2 + 1;
    let env: Environment =
        xml::from_str(&nested(deepest)).unwrap_or_else(|e| panic!("{deepest} levels: {e}"));
    assert_eq!(
        xml::from_slice::<Environment>(&xml::to_vec(&env).unwrap()).unwrap(),
        env
    );
    let err = xml::from_str::<Environment>(&nested(deepest + 1)).unwrap_err();
    assert!(matches!(err.kind(), xml::ErrorKind::TooDeep(_)), "{err}");
}

/// Documents of other AAS versions say which version they are, instead of failing on their
/// first difference (a V2.0 file used to get `unexpected attribute "xsi:schemaLocation"`).
#[test]
fn documents_of_other_aas_versions_are_refused_by_name() {
    for (document, version) in [
        (
            r#"<aas:aasenv xmlns:aas="http://www.admin-shell.io/aas/2/0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.admin-shell.io/aas/2/0 AAS.xsd"/>"#,
            "AAS V2.0 is not supported",
        ),
        (
            r#"<aas:aasenv xsi:schemaLocation="x" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:aas="http://www.admin-shell.io/aas/1/0"/>"#,
            "AAS V1.0 is not supported",
        ),
        (
            r#"<environment xmlns="https://admin-shell.io/aas/3/2"/>"#,
            "AAS V3.2 is not supported",
        ),
    ] {
        let message = match xml::from_str::<Environment>(document) {
            Err(error) => error.to_string(),
            Ok(_) => panic!("read: {document}"),
        };
        assert!(message.contains(version), "{message}");
        assert!(message.contains("reads AAS V3.0"), "{message}");
        assert!(message.contains("and V3.1"), "{message}");
    }
    // The two supported versions read.
    for namespace in [
        "https://admin-shell.io/aas/3/0",
        "https://admin-shell.io/aas/3/1",
    ] {
        let document = format!(r#"<environment xmlns="{namespace}"/>"#);
        assert!(
            xml::from_str::<Environment>(&document).is_ok(),
            "{document}"
        );
    }
}
