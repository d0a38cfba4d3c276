//! The rules in which AAS V3.1 differs from V3.0, as aas-core3.1 checks them: each model is
//! verified under both versions, and the findings name the version they come from.

use aas_model::value_matches_type_as;
use aas_model::*;

fn rules_as<'a>(root: impl Into<Node<'a>>, version: Version) -> Vec<&'static str> {
    verify_as(root, version).map(|f| f.rule()).collect()
}

fn findings_as<'a>(root: impl Into<Node<'a>>, version: Version) -> Vec<String> {
    verify_as(root, version).map(|f| f.to_string()).collect()
}

fn property(id_short: &str) -> Property {
    Property::new(DataTypeDefXsd::String).with_id_short(id_short)
}

fn submodel(elements: Vec<SubmodelElement>) -> Submodel {
    let mut sm = Submodel::new("urn:sm");
    sm.submodel_elements = Some(elements);
    sm
}

fn list(type_: AasSubmodelElements, items: Vec<SubmodelElement>) -> SubmodelElementList {
    let mut l = SubmodelElementList::new(type_).with_id_short("List");
    l.value = Some(items);
    l
}

fn entity(entity_type: Option<EntityType>) -> Entity {
    Entity {
        entity_type,
        ..Entity::new(EntityType::SelfManagedEntity).with_id_short("Robot")
    }
}

#[test]
fn verify_checks_the_newest_version_v3_1() {
    assert_eq!(Version::LATEST, Version::V3_1);
    let one_character = property("P");
    let found: Vec<_> = verify(&one_character).collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule(), "AASd-002");
    assert_eq!(found[0].version(), Version::V3_1);
    assert!(verify_as(&one_character, Version::V3_0).next().is_none());
}

#[test]
fn v3_1_id_shorts_may_have_hyphens_not_last_and_have_at_least_two_characters() {
    for valid in ["max-speed", "a-b-c", "ab", "a_", "A1"] {
        assert!(
            rules_as(&property(valid), Version::V3_1).is_empty(),
            "{valid}"
        );
    }
    for invalid in ["a", "speed-", "-speed", "1st", "a b", "a--", "ä-b"] {
        assert_eq!(
            rules_as(&property(invalid), Version::V3_1),
            ["AASd-002"],
            "{invalid}"
        );
    }
    // Hyphens are V3.1's; one character is V3.0's.
    assert_eq!(
        rules_as(&property("max-speed"), Version::V3_0),
        ["AASd-002"]
    );
    assert!(rules_as(&property("a"), Version::V3_0).is_empty());
}

#[test]
fn messages_of_rules_that_differ_name_their_version() {
    let v31 = findings_as(&property("a"), Version::V3_1);
    assert_eq!(
        v31,
        [
            "idShort (a): AASd-002: idShort \"a\" must have at least two characters, start with a letter, hold only letters, digits, '_' and '-', and not end with '-' (AAS V3.1)"
        ]
    );
    let v30 = findings_as(&property("a-b"), Version::V3_0);
    assert_eq!(
        v30,
        [
            "idShort (a-b): AASd-002: idShort \"a-b\" must start with a letter and hold only letters, digits and '_' (AAS V3.0)"
        ]
    );
    // A rule both versions share keeps its message, without a version.
    let duplicate = Property {
        qualifiers: Some(vec![
            Qualifier::new("q", DataTypeDefXsd::String),
            Qualifier::new("q", DataTypeDefXsd::String),
        ]),
        ..property("Speed")
    };
    for version in Version::ALL.iter().copied() {
        let found: Vec<_> = verify_as(&duplicate, version).collect();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].version(), version);
        assert_eq!(
            found[0].message(),
            "qualifier type \"q\" is used twice; keep one qualifier per type"
        );
    }
}

#[test]
fn v3_1_identifiers_and_paths_may_have_2048_characters_content_types_128() {
    let id = |n: usize| format!("urn:{}", "x".repeat(n - 4));
    let at_2048 = Submodel::new(id(2048));
    assert!(rules_as(&at_2048, Version::V3_1).is_empty());
    assert_eq!(rules_as(&at_2048, Version::V3_0), ["maxLength"]);
    let over = findings_as(&Submodel::new(id(2049)), Version::V3_1);
    assert_eq!(
        over,
        ["id: maxLength: id has 2049 characters; shorten it to at most 2048 (AAS V3.1)"]
    );

    let content_type = format!("application/{}", "x".repeat(128 - 12));
    let file = File {
        value: Some(format!("/aasx/{}", "a".repeat(2048 - 6))),
        content_type: Some(content_type.clone()),
        ..File::new("text/plain").with_id_short("Manual")
    };
    assert!(rules_as(&file, Version::V3_1).is_empty());
    assert_eq!(rules_as(&file, Version::V3_0), ["maxLength", "maxLength"]);
    let over = File {
        content_type: Some(format!("{content_type}x")),
        ..file
    };
    assert_eq!(rules_as(&over, Version::V3_1), ["maxLength"]);

    let pair = ValueReferencePair {
        value: "v".repeat(2048),
        value_id: None,
    };
    assert!(rules_as(&pair, Version::V3_1).is_empty());
    assert_eq!(rules_as(&pair, Version::V3_0), ["maxLength", "required"]);
}

#[test]
fn file_values_and_resource_paths_are_rfc_2396_uris_in_both_versions() {
    for path in ["/aasx/a b.pdf", "/aasx/Ä.pdf"] {
        let file = File {
            value: Some(path.into()),
            ..File::new("application/pdf").with_id_short("Manual")
        };
        for version in Version::ALL.iter().copied() {
            assert_eq!(rules_as(&file, version), ["pattern"], "{path} {version}");
        }
    }
    let escaped = File {
        value: Some("/aasx/a%20b.pdf".into()),
        ..File::new("application/pdf").with_id_short("Manual")
    };
    assert!(rules_as(&escaped, Version::V3_1).is_empty());
    let resource = Resource::new("file:///a b.png");
    assert_eq!(rules_as(&resource, Version::V3_1), ["pattern"]);
}

#[test]
fn v3_1_any_uri_values_are_ascii_uris() {
    let iri = "https://example.com/straße";
    let value = Property {
        value: Some(iri.into()),
        ..Property::new(DataTypeDefXsd::AnyUri).with_id_short("Link")
    };
    assert!(rules_as(&value, Version::V3_0).is_empty());
    let found: Vec<_> = verify_as(&value, Version::V3_1).collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rule(), "valueType");
    assert!(found[0].message().ends_with("(AAS V3.1)"), "{}", found[0]);

    let extension = Extension {
        value_type: Some(DataTypeDefXsd::AnyUri),
        value: Some(iri.into()),
        ..Extension::new("link")
    };
    assert_eq!(rules_as(&extension, Version::V3_1), ["valueType"]);
    assert!(rules_as(&extension, Version::V3_0).is_empty());
    let qualifier = Qualifier {
        value: Some(iri.into()),
        ..Qualifier::new("link", DataTypeDefXsd::AnyUri)
    };
    assert_eq!(rules_as(&qualifier, Version::V3_1), ["AASd-020"]);
    let range = Range {
        min: Some(iri.into()),
        ..Range::new(DataTypeDefXsd::AnyUri).with_id_short("Links")
    };
    assert_eq!(rules_as(&range, Version::V3_1), ["valueType"]);

    // RFC 2732: IPv6 literals are URIs; percent-encoded non-ASCII is fine.
    for uri in ["http://[::1]:8080/a", "https://example.com/stra%C3%9Fe", ""] {
        assert!(
            value_matches_type_as(uri, DataTypeDefXsd::AnyUri, Version::V3_1),
            "{uri}"
        );
    }
    assert!(!value_matches_type_as(
        "a b",
        DataTypeDefXsd::AnyUri,
        Version::V3_1
    ));
    assert!(value_matches_type_as(
        iri,
        DataTypeDefXsd::AnyUri,
        Version::V3_0
    ));
}

#[test]
fn v3_1_list_items_may_have_id_shorts_which_are_unique_within_the_list() {
    let named = list(
        AasSubmodelElements::Capability,
        vec![
            Capability::new().with_id_short("First").into(),
            Capability::new().with_id_short("Second").into(),
        ],
    );
    assert!(rules_as(&named, Version::V3_1).is_empty());
    assert_eq!(
        rules_as(&named, Version::V3_0),
        ["AASd-120", "AASd-120"],
        "AASd-120 is V3.0's"
    );
    let twice = list(
        AasSubmodelElements::Capability,
        vec![
            Capability::new().with_id_short("Same").into(),
            Capability::new().into(),
            Capability::new().with_id_short("Same").into(),
        ],
    );
    let found = findings_as(&twice, Version::V3_1);
    assert_eq!(
        found,
        [
            "value[2] (List): AASd-022: idShort \"Same\" is used twice in this list; rename one of them (AAS V3.1)"
        ]
    );
}

#[test]
fn v3_1_has_no_constraint_on_the_category_of_data_elements() {
    let categorized = Property {
        category: Some("SETTING".into()),
        ..property("Speed")
    };
    assert!(rules_as(&categorized, Version::V3_1).is_empty());
    assert_eq!(rules_as(&categorized, Version::V3_0), ["AASd-090"]);
}

#[test]
fn v3_1_co_managed_entities_may_carry_asset_ids_self_managed_ones_still_need_one() {
    let co_managed = Entity {
        global_asset_id: Some("urn:asset".into()),
        ..entity(Some(EntityType::CoManagedEntity))
    };
    assert!(rules_as(&co_managed, Version::V3_1).is_empty());
    assert_eq!(rules_as(&co_managed, Version::V3_0), ["AASd-014"]);
    let self_managed = entity(Some(EntityType::SelfManagedEntity));
    for version in Version::ALL.iter().copied() {
        assert_eq!(rules_as(&self_managed, version), ["AASd-014"]);
    }
    let untyped = Entity {
        global_asset_id: Some("urn:asset".into()),
        specific_asset_ids: Some(vec![SpecificAssetId::new("serial", "1")]),
        ..entity(None)
    };
    assert!(rules_as(&untyped, Version::V3_1).is_empty());
    assert_eq!(rules_as(&untyped, Version::V3_0), ["required"]);
}

#[test]
fn v3_1_asks_for_value_type_list_element_only_when_the_list_has_items() {
    let empty = SubmodelElementList::new(AasSubmodelElements::Property).with_id_short("Values");
    assert!(rules_as(&empty, Version::V3_1).is_empty());
    assert_eq!(rules_as(&empty, Version::V3_0), ["AASd-109"]);
    let mut with_items = empty.clone();
    with_items.value = Some(vec![Property::new(DataTypeDefXsd::String).into()]);
    for version in Version::ALL.iter().copied() {
        assert_eq!(rules_as(&with_items, version), ["AASd-109"], "{version}");
    }
}

#[test]
fn v3_1_makes_entity_type_first_second_content_type_and_value_id_optional() {
    let sm = submodel(vec![
        entity(None).into(),
        RelationshipElement {
            first: None,
            second: None,
            ..RelationshipElement::new(Reference::global("urn:a"), Reference::global("urn:b"))
                .with_id_short("Link")
        }
        .into(),
        File {
            content_type: None,
            ..File::new("text/plain").with_id_short("Manual")
        }
        .into(),
        Blob {
            content_type: None,
            ..Blob::new("text/plain").with_id_short("Data")
        }
        .into(),
    ]);
    // The entity without a type has no asset ids: fine in V3.1 (AASd-014 is about self-managed).
    assert!(findings_as(&sm, Version::V3_1).is_empty());
    let v30 = rules_as(&sm, Version::V3_0);
    assert_eq!(
        v30,
        ["required"; 5],
        "{:?}",
        findings_as(&sm, Version::V3_0)
    );
}

#[test]
fn asset_kind_role_is_new_in_v3_1() {
    let info = AssetInformation {
        global_asset_id: Some("urn:asset".into()),
        ..AssetInformation::new(AssetKind::Role)
    };
    assert!(rules_as(&info, Version::V3_1).is_empty());
    assert_eq!(rules_as(&info, Version::V3_0), ["assetKind"]);
}
