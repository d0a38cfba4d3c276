//! Conversion between AAS V3.0 and V3.1: one test per rule of the module docs' table, the
//! refusal without `allow_loss`, and round trips.

use aas_model::convert::{ConversionEntry, ConversionReport, check, convert};
use aas_model::*;

const V30: Version = Version::V3_0;
const V31: Version = Version::V3_1;

fn property(id_short: &str) -> Property {
    Property::new(DataTypeDefXsd::String).with_id_short(id_short)
}

fn env_of(elements: Vec<SubmodelElement>) -> Environment {
    let mut sm = Submodel::new("urn:sm");
    sm.id_short = Some("Data".into());
    sm.submodel_elements = Some(elements);
    Environment {
        submodels: Some(vec![sm]),
        ..Environment::new()
    }
}

fn elements(env: &Environment) -> &[SubmodelElement] {
    env.submodels.as_ref().unwrap()[0]
        .submodel_elements
        .as_deref()
        .unwrap_or_default()
}

/// Converts down with loss allowed, after checking that `check` reports the same without
/// changing the model and that `convert` without `allow_loss` refuses and changes nothing.
fn down(env: &mut Environment) -> ConversionReport {
    let before = env.clone();
    let checked = check(env, V31, V30);
    assert_eq!(*env, before, "check changes nothing");
    if !checked.is_lossless() {
        let refused = convert(env, V31, V30, false).unwrap_err();
        assert_eq!(refused.report, checked);
        assert_eq!(*env, before, "a refused conversion changes nothing");
    }
    let report = convert(env, V31, V30, true).unwrap();
    assert_eq!(report, checked);
    report
}

fn entry(report: &ConversionReport, path: &str) -> ConversionEntry {
    report
        .entries
        .iter()
        .find(|e| e.path == path)
        .unwrap_or_else(|| panic!("no entry at {path}: {report}"))
        .clone()
}

/// After a lossy down-conversion, what V3.0 still finds is exactly what the report lists as
/// kept (`rule: None`).
fn assert_only_kept_findings_remain(env: &Environment, report: &ConversionReport) {
    let mut found: Vec<String> = verify_as(env, V30).map(|f| f.path().to_owned()).collect();
    let mut kept: Vec<String> = report
        .entries
        .iter()
        .filter(|e| e.rule.is_none())
        .map(|e| e.path.clone())
        .collect();
    found.sort();
    kept.sort();
    assert_eq!(found, kept, "{report}");
}

#[test]
fn converting_to_the_same_version_changes_nothing_and_reports_nothing() {
    let mut env = env_of(vec![property("a-b").into()]);
    let before = env.clone();
    for version in Version::ALL.iter().copied() {
        let report = convert(&mut env, version, version, false).unwrap();
        assert!(report.is_lossless());
        assert_eq!(env, before);
    }
}

#[test]
fn up_to_v3_1_keeps_the_model_and_lists_what_v3_1_refuses() {
    let link = Property {
        value: Some("https://example.com/straße".into()),
        ..Property::new(DataTypeDefXsd::AnyUri).with_id_short("Link")
    };
    let mut env = env_of(vec![
        property("P").into(),
        link.into(),
        property("1st").into(),
    ]);
    assert_eq!(verify_as(&env, V30).count(), 1, "1st is invalid in both");
    let before = env.clone();
    let report = check(&env, V30, V31);
    let paths: Vec<&str> = report.entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "submodels[0].submodelElements[0].idShort",
            "submodels[0].submodelElements[1].value"
        ],
        "{report}"
    );
    assert!(report.entries.iter().all(|e| e.rule.is_none()));
    assert!(report.entries[0].problem.contains("AAS V3.1"), "{report}");
    assert!(convert(&mut env, V30, V31, false).is_err());
    assert_eq!(convert(&mut env, V30, V31, true).unwrap(), report);
    assert_eq!(env, before, "going up changes nothing");
}

#[test]
fn down_asset_kind_role_becomes_not_applicable() {
    let shell = AssetAdministrationShell::new(
        "urn:aas",
        AssetInformation {
            global_asset_id: Some("urn:asset".into()),
            ..AssetInformation::new(AssetKind::Role)
        },
    );
    let mut env = Environment {
        asset_administration_shells: Some(vec![shell]),
        ..Environment::new()
    };
    let report = down(&mut env);
    let e = entry(
        &report,
        "assetAdministrationShells[0].assetInformation.assetKind",
    );
    assert_eq!(e.rule.as_deref(), Some("set to NotApplicable"));
    assert_eq!(
        env.asset_administration_shells.unwrap()[0]
            .asset_information
            .asset_kind,
        AssetKind::NotApplicable
    );
}

#[test]
fn down_a_missing_content_type_becomes_application_octet_stream() {
    let file = File {
        content_type: None,
        ..File::new("x/y").with_id_short("Manual")
    };
    let blob = Blob {
        content_type: None,
        ..Blob::new("x/y").with_id_short("Data")
    };
    let mut env = env_of(vec![file.into(), blob.into()]);
    let report = down(&mut env);
    assert_eq!(report.entries.len(), 2, "{report}");
    let e = entry(&report, "submodels[0].submodelElements[0].contentType");
    assert_eq!(
        e.rule.as_deref(),
        Some("set to \"application/octet-stream\"")
    );
    match elements(&env) {
        [SubmodelElement::File(f), SubmodelElement::Blob(b)] => {
            assert_eq!(f.content_type.as_deref(), Some("application/octet-stream"));
            assert_eq!(b.content_type.as_deref(), Some("application/octet-stream"));
        }
        other => panic!("{other:?}"),
    }
    assert!(verify_as(&env, V30).next().is_none());
}

#[test]
fn down_a_missing_entity_type_is_self_managed_with_asset_ids_else_co_managed() {
    let untyped = |global: Option<&str>| Entity {
        entity_type: None,
        global_asset_id: global.map(Into::into),
        ..Entity::new(EntityType::CoManagedEntity).with_id_short("Part")
    };
    let mut env = env_of(vec![
        untyped(Some("urn:asset")).into(),
        Entity {
            id_short: Some("Other".into()),
            ..untyped(None)
        }
        .into(),
    ]);
    let report = down(&mut env);
    let e = entry(&report, "submodels[0].submodelElements[0].entityType");
    assert_eq!(
        e.rule.as_deref(),
        Some("set to SelfManagedEntity (it has asset ids)")
    );
    let types: Vec<_> = elements(&env)
        .iter()
        .map(|e| match e {
            SubmodelElement::Entity(e) => e.entity_type,
            _ => None,
        })
        .collect();
    assert_eq!(
        types,
        [
            Some(EntityType::SelfManagedEntity),
            Some(EntityType::CoManagedEntity)
        ]
    );
    assert!(verify_as(&env, V30).next().is_none());
}

#[test]
fn down_a_relationship_element_without_first_or_second_is_removed_and_said_so() {
    let loose = RelationshipElement {
        second: None,
        ..RelationshipElement::new(Reference::global("urn:a"), Reference::global("urn:b"))
            .with_id_short("Loose")
    };
    let mut collection = SubmodelElementCollection::new().with_id_short("Only");
    collection.value = Some(vec![loose.clone().into()]);
    let mut operation = Operation::new().with_id_short("Run");
    operation.input_variables = Some(vec![OperationVariable::new(loose.clone())]);
    let mut env = env_of(vec![
        property("Before").into(),
        loose.into(),
        collection.into(),
        operation.into(),
        property("After").into(),
    ]);
    let report = down(&mut env);
    assert_eq!(report.entries.len(), 3, "{report}");
    let e = entry(&report, "submodels[0].submodelElements[1]");
    assert!(e.problem.contains("without second"), "{e}");
    assert_eq!(
        e.rule.as_deref(),
        Some("the relationship element is removed")
    );
    let e = entry(
        &report,
        "submodels[0].submodelElements[3].inputVariables[0].value",
    );
    assert!(
        e.rule
            .as_deref()
            .is_some_and(|r| r.ends_with("with the operation variable holding it")),
        "{e}"
    );
    let names: Vec<_> = elements(&env).iter().map(|e| e.id_short()).collect();
    assert_eq!(
        names,
        [Some("Before"), Some("Only"), Some("Run"), Some("After")]
    );
    match elements(&env) {
        [
            _,
            SubmodelElement::SubmodelElementCollection(c),
            SubmodelElement::Operation(o),
            _,
        ] => {
            assert_eq!(c.value, None, "the emptied collection value is removed");
            assert_eq!(o.input_variables, None);
        }
        other => panic!("{other:?}"),
    }
    assert!(verify_as(&env, V30).next().is_none());
}

#[test]
fn down_a_value_reference_pair_without_value_id_is_removed_and_an_emptied_value_list_too() {
    let pair = |value: &str, id: Option<&str>| ValueReferencePair {
        value: value.into(),
        value_id: id.map(Reference::global),
    };
    let iec = |pairs: Vec<ValueReferencePair>| {
        let mut content = DataSpecificationIec61360::new(vec![LangString::new("en", "Colour")]);
        content.definition = Some(vec![LangString::new("en", "The colour")]);
        content.value_list = Some(ValueList {
            value_reference_pairs: pairs,
        });
        EmbeddedDataSpecification {
            data_specification: Reference::global(
                "https://admin-shell.io/DataSpecificationTemplates/DataSpecificationIec61360/3/1",
            ),
            data_specification_content: content.into(),
        }
    };
    let mut cd = ConceptDescription::new("urn:cd");
    cd.embedded_data_specifications = Some(vec![
        iec(vec![pair("red", Some("urn:red")), pair("blue", None)]),
        iec(vec![pair("green", None)]),
    ]);
    let mut env = Environment {
        concept_descriptions: Some(vec![cd]),
        ..Environment::new()
    };
    let report = down(&mut env);
    assert_eq!(report.entries.len(), 2, "{report}");
    let e = entry(
        &report,
        "conceptDescriptions[0].embeddedDataSpecifications[1].dataSpecificationContent.valueList.valueReferencePairs[0]",
    );
    assert!(
        e.rule
            .as_deref()
            .is_some_and(|r| r.contains("the valueList it leaves empty")),
        "{e}"
    );
    let specs = env.concept_descriptions.unwrap()[0]
        .embedded_data_specifications
        .clone()
        .unwrap();
    let lists: Vec<_> = specs
        .iter()
        .map(|s| match &s.data_specification_content {
            DataSpecificationContent::DataSpecificationIec61360(c) => {
                c.value_list.as_ref().map(|l| l.value_reference_pairs.len())
            }
        })
        .collect();
    assert_eq!(lists, [Some(1), None]);
}

#[test]
fn down_hyphens_in_id_shorts_become_underscores_and_collisions_are_reported() {
    let mut env = env_of(vec![
        property("max-speed").into(),
        property("min_speed").into(),
        property("min-speed").into(),
    ]);
    let report = down(&mut env);
    let e = entry(&report, "submodels[0].submodelElements[0].idShort");
    assert_eq!(
        e.rule.as_deref(),
        Some("'-' replaced by '_': \"max_speed\"")
    );
    let e = entry(&report, "submodels[0].submodelElements[2].idShort");
    assert!(
        e.rule
            .as_deref()
            .is_some_and(|r| r.contains("which a sibling already has")),
        "{e}"
    );
    // The collision itself stays invalid in V3.0 and is listed as kept.
    let kept: Vec<_> = report.entries.iter().filter(|e| e.rule.is_none()).collect();
    assert_eq!(kept.len(), 1, "{report}");
    assert!(kept[0].problem.starts_with("AASd-022"), "{report}");
    let names: Vec<_> = elements(&env).iter().map(|e| e.id_short()).collect();
    assert_eq!(
        names,
        [Some("max_speed"), Some("min_speed"), Some("min_speed")]
    );
    assert_only_kept_findings_remain(&env, &report);
}

#[test]
fn down_id_shorts_of_list_items_are_removed() {
    let mut list =
        SubmodelElementList::new(AasSubmodelElements::Capability).with_id_short("Skills");
    list.value = Some(vec![
        Capability::new().with_id_short("Weld").into(),
        Capability::new().into(),
    ]);
    let mut env = env_of(vec![list.into()]);
    let report = down(&mut env);
    assert_eq!(report.entries.len(), 1, "{report}");
    let e = entry(&report, "submodels[0].submodelElements[0].value[0].idShort");
    assert_eq!(e.rule.as_deref(), Some("idShort removed"));
    assert!(e.problem.contains("AASd-120"));
    assert!(verify_as(&env, V30).next().is_none());
}

#[test]
fn down_categories_v3_0_does_not_allow_on_data_elements_are_removed() {
    let mut env = env_of(vec![
        Property {
            category: Some("SETTING".into()),
            ..property("Speed")
        }
        .into(),
        Property {
            category: Some("PARAMETER".into()),
            ..property("Torque")
        }
        .into(),
    ]);
    let report = down(&mut env);
    assert_eq!(report.entries.len(), 1, "{report}");
    let e = entry(&report, "submodels[0].submodelElements[0].category");
    assert_eq!(e.rule.as_deref(), Some("category removed"));
    let categories: Vec<_> = elements(&env)
        .iter()
        .map(|e| match e {
            SubmodelElement::Property(p) => p.category.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(categories, [None, Some("PARAMETER".into())]);
}

#[test]
fn down_long_identifiers_and_content_types_are_kept_and_reported_as_staying_invalid() {
    let long_id = format!("urn:{}", "x".repeat(2040));
    let file = File::new(format!("application/{}", "x".repeat(110))).with_id_short("Manual");
    let co_managed = Entity {
        global_asset_id: Some("urn:asset".into()),
        ..Entity::new(EntityType::CoManagedEntity).with_id_short("Part")
    };
    let mut env = env_of(vec![file.into(), co_managed.into()]);
    if let Some(submodels) = &mut env.submodels {
        submodels[0].id = long_id.clone();
    }
    assert!(verify_as(&env, V31).next().is_none());
    let before = env.clone();
    let report = down(&mut env);
    assert_eq!(env, before, "kept as they are");
    let paths: Vec<&str> = report.entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "submodels[0].id",
            "submodels[0].submodelElements[0].contentType",
            "submodels[0].submodelElements[1]"
        ],
        "{report}"
    );
    assert!(report.entries.iter().all(|e| e.rule.is_none()));
    assert!(
        report.entries[0]
            .problem
            .contains("stays invalid in AAS V3.0"),
        "{report}"
    );
    assert_only_kept_findings_remain(&env, &report);
}

#[test]
fn down_every_rule_at_once_leaves_only_what_the_report_keeps() {
    let mut list =
        SubmodelElementList::new(AasSubmodelElements::RelationshipElement).with_id_short("Links");
    list.value = Some(vec![
        RelationshipElement {
            first: None,
            ..RelationshipElement::new(Reference::global("urn:a"), Reference::global("urn:b"))
                .with_id_short("Half")
        }
        .into(),
    ]);
    let mut entity = Entity {
        entity_type: None,
        ..Entity::new(EntityType::CoManagedEntity).with_id_short("the-part")
    };
    entity.statements = Some(vec![
        File {
            content_type: None,
            category: Some("DOC".into()),
            ..File::new("x/y").with_id_short("manual-pdf")
        }
        .into(),
        list.into(),
    ]);
    let mut env = env_of(vec![entity.into(), property("x").into()]);
    let report = down(&mut env);
    assert!(report.entries.len() >= 6, "{report}");
    assert_only_kept_findings_remain(&env, &report);
    let text = report.to_string();
    assert!(text.starts_with("AAS 3.1 -> 3.0: "), "{text}");
}

#[test]
fn a_valid_v3_0_model_survives_3_0_to_3_1_to_3_0_unchanged() {
    let file = File {
        value: Some("/aasx/manual.pdf".into()),
        ..File::new("application/pdf").with_id_short("Manual")
    };
    let entity = Entity {
        global_asset_id: Some("urn:asset".into()),
        ..Entity::new(EntityType::SelfManagedEntity).with_id_short("Motor")
    };
    let relationship =
        RelationshipElement::new(Reference::global("urn:a"), Reference::global("urn:b"))
            .with_id_short("Drives");
    let mut list = SubmodelElementList::new(AasSubmodelElements::Property).with_id_short("Values");
    list.value_type_list_element = Some(DataTypeDefXsd::Int);
    list.value = Some(vec![
        Property {
            value: Some("7".into()),
            ..Property::new(DataTypeDefXsd::Int)
        }
        .into(),
    ]);
    // One-character idShorts: valid in V3.0, reported going up, and kept.
    let mut env = env_of(vec![
        file.into(),
        entity.into(),
        relationship.into(),
        list.into(),
        property("P").into(),
    ]);
    env.asset_administration_shells = Some(vec![AssetAdministrationShell::new(
        "urn:aas",
        AssetInformation {
            global_asset_id: Some("urn:asset".into()),
            ..AssetInformation::new(AssetKind::Instance)
        },
    )]);
    assert!(verify_as(&env, V30).next().is_none());
    let original = env.clone();
    let up = convert(&mut env, V30, V31, true).unwrap();
    assert_eq!(up.entries.len(), 1, "{up}");
    let down = convert(&mut env, V31, V30, false).unwrap();
    assert!(down.is_lossless(), "{down}");
    assert_eq!(env, original);
}

#[test]
fn each_identifiable_converts_on_its_own() {
    let mut submodel = Submodel::new("urn:sm");
    submodel.submodel_elements = Some(vec![property("a-b").into()]);
    let report = convert(&mut submodel, V31, V30, true).unwrap();
    assert_eq!(report.entries[0].path, "submodelElements[0].idShort");

    let mut shell = AssetAdministrationShell::new(
        "urn:aas",
        AssetInformation {
            global_asset_id: Some("urn:asset".into()),
            ..AssetInformation::new(AssetKind::Role)
        },
    );
    let report = convert(&mut shell, V31, V30, true).unwrap();
    assert_eq!(report.entries[0].path, "assetInformation.assetKind");

    let mut cd = ConceptDescription::new("urn:cd");
    cd.id_short = Some("my-concept".into());
    let report = check(&cd, V31, V30);
    assert_eq!(report.entries[0].path, "idShort");
    assert!(convert(&mut cd, V31, V30, false).is_err());
    assert_eq!(cd.id_short.as_deref(), Some("my-concept"));
}

fn without_second(id_short: &str) -> RelationshipElement {
    RelationshipElement {
        second: None,
        ..RelationshipElement::new(Reference::global("urn:a"), Reference::global("urn:b"))
            .with_id_short(id_short)
    }
}

#[test]
fn down_fifty_thousand_hyphenated_siblings_among_removed_ones_are_all_renamed_and_one_collision_found()
 {
    // Collision checks and removals used to be quadratic in the number of siblings; this
    // size took minutes then.
    const N: usize = 50_000;
    let mut siblings: Vec<SubmodelElement> = Vec::with_capacity(N + N / 10 + 1);
    for i in 0..N {
        siblings.push(property(&format!("p-{i}")).into());
        if i % 10 == 0 {
            siblings.push(without_second(&format!("r-{i}")).into());
        }
    }
    siblings.push(property("p_7").into());
    let mut env = env_of(siblings);
    let report = down(&mut env);

    let renames = report
        .entries
        .iter()
        .filter(|e| e.path.ends_with(".idShort"))
        .count();
    assert_eq!(renames, N);
    let removals = report
        .entries
        .iter()
        .filter(|e| e.rule.as_deref() == Some("the relationship element is removed"))
        .count();
    assert_eq!(removals, N / 10);
    let colliding: Vec<&ConversionEntry> = report
        .entries
        .iter()
        .filter(|e| {
            e.rule
                .as_deref()
                .is_some_and(|r| r.contains("which a sibling already has"))
        })
        .collect();
    assert_eq!(colliding.len(), 1);
    assert!(colliding[0].problem.contains("\"p-7\""), "{}", colliding[0]);
    let kept: Vec<&ConversionEntry> = report.entries.iter().filter(|e| e.rule.is_none()).collect();
    assert_eq!(kept.len(), 1);
    assert!(kept[0].problem.starts_with("AASd-022"), "{}", kept[0]);

    let names: Vec<Option<&str>> = elements(&env).iter().map(|e| e.id_short()).collect();
    assert_eq!(names.len(), N + 1);
    for (i, name) in names.iter().take(N).enumerate() {
        assert_eq!(*name, Some(format!("p_{i}").as_str()));
    }
    assert_only_kept_findings_remain(&env, &report);
}

#[test]
fn down_a_rename_does_not_collide_with_what_is_removed() {
    // The model: the variable whose idShort the rename would collide with goes.
    let mut operation = Operation::new().with_id_short("op");
    operation.input_variables = Some(vec![OperationVariable::new(RelationshipElement {
        first: None,
        second: None,
        ..RelationshipElement::new(Reference::global("urn:a"), Reference::global("urn:b"))
            .with_id_short("in-1")
    })]);
    operation.output_variables = Some(vec![OperationVariable::new(property("in_1"))]);
    // The same among siblings: the removed one is not renamed, nor is it a sibling.
    let mut env = env_of(vec![
        operation.into(),
        without_second("a-b").into(),
        property("a_b").into(),
    ]);
    let report = down(&mut env);
    let paths: Vec<&str> = report.entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "submodels[0].submodelElements[0].inputVariables[0].value",
            "submodels[0].submodelElements[1]"
        ],
        "{report}"
    );
    assert!(
        report
            .entries
            .iter()
            .all(|e| e.rule.as_deref().is_some_and(|r| r.contains("is removed"))),
        "{report}"
    );
    assert!(verify_as(&env, V30).next().is_none());
}

#[test]
fn down_entries_with_a_rule_name_the_input_place_and_kept_entries_the_output_place() {
    let mut entity = Entity {
        entity_type: None,
        ..Entity::new(EntityType::CoManagedEntity).with_id_short("the-part")
    };
    entity.statements = Some(vec![
        File::new(format!("application/{}", "x".repeat(110)))
            .with_id_short("Manual")
            .into(),
    ]);
    let mut env = env_of(vec![
        property("Before").into(),
        without_second("Loose").into(),
        property("Middle").into(),
        entity.into(),
    ]);
    let report = down(&mut env);
    let paths: Vec<(&str, bool)> = report
        .entries
        .iter()
        .map(|e| (e.path.as_str(), e.rule.is_some()))
        .collect();
    assert_eq!(
        paths,
        [
            ("submodels[0].submodelElements[1]", true),
            ("submodels[0].submodelElements[3].idShort", true),
            ("submodels[0].submodelElements[3].entityType", true),
            (
                "submodels[0].submodelElements[2].statements[0].contentType",
                false
            ),
        ],
        "{report}"
    );
    assert_eq!(elements(&env)[2].id_short(), Some("the_part"));
    assert_only_kept_findings_remain(&env, &report);
}

#[test]
fn down_what_the_input_already_broke_is_not_listed_as_kept_after_a_removal_either() {
    let count = Property {
        value: Some("many".into()),
        ..Property::new(DataTypeDefXsd::Int).with_id_short("Count")
    };
    let mut env = env_of(vec![without_second("Loose").into(), count.into()]);
    assert!(
        verify_as(&env, V31).any(|f| f.path() == "submodels[0].submodelElements[1].value"),
        "invalid in V3.1 already"
    );
    let report = down(&mut env);
    assert_eq!(report.entries.len(), 1, "{report}");
    assert_eq!(report.entries[0].path, "submodels[0].submodelElements[0]");
    let found: Vec<String> = verify_as(&env, V30).map(|f| f.path().to_owned()).collect();
    assert_eq!(found, ["submodels[0].submodelElements[0].value"]);
}

/// An event payload has no rule to apply: it is written as it is, and what only the target
/// version finds (a key value longer than V3.0's 2000 characters) is the report; what both
/// versions find is no loss.
#[test]
fn an_event_payload_converts_unchanged_with_what_becomes_invalid_reported() {
    let reference = |value: String| Reference::model(vec![Key::new(KeyTypes::Submodel, value)]);
    let long = format!("urn:{}", "x".repeat(2010));
    let mut payload = EventPayload::new(
        reference(long),
        reference("urn:sm".into()),
        "2024-01-01T00:00:00Z",
    );
    let before = payload.clone();
    let refused = convert(&mut payload, V31, V30, false).unwrap_err();
    assert_eq!(refused.report.entries.len(), 1, "{}", refused.report);
    assert_eq!(refused.report.entries[0].path, "source.keys[0].value");
    assert_eq!(refused.report.entries[0].rule, None);
    let report = convert(&mut payload, V31, V30, true).unwrap();
    assert_eq!((payload, report.entries.len()), (before, 1));

    let too_long = format!("urn:{}", "x".repeat(3000));
    let mut payload = EventPayload::new(
        reference(too_long),
        reference("urn:sm".into()),
        "2024-01-01T00:00:00Z",
    );
    assert!(
        convert(&mut payload, V30, V31, false)
            .unwrap()
            .is_lossless()
    );
}
