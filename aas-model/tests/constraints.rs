//! One test per constraint and rule of AAS V3.0: a minimal model that breaks it, and the same
//! model mended, which must have no finding at all. Verified as V3.0 explicitly (the models use
//! one-character idShorts, which V3.1 forbids); the V3.1 rules are in `v3_1.rs`.

use aas_model::*;

fn verify<'a>(root: impl Into<Node<'a>>) -> Findings<'a> {
    verify_as(root, Version::V3_0)
}

fn rules<'a>(root: impl Into<Node<'a>>) -> Vec<&'static str> {
    verify(root).map(|f| f.rule()).collect()
}

/// `broken` reports `rule`; `mended` reports nothing.
macro_rules! constraint {
    ($name:ident, $rule:literal, broken: $broken:expr, mended: $mended:expr $(,)?) => {
        #[test]
        fn $name() {
            let broken = $broken;
            let found = rules(&broken);
            assert!(
                found.contains(&$rule),
                "{} not reported; found {:?}",
                $rule,
                found
            );
            let mended = $mended;
            let left: Vec<String> = verify(&mended).map(|f| f.to_string()).collect();
            assert!(
                left.is_empty(),
                "mended model still has findings: {left:#?}"
            );
        }
    };
}

fn global(value: &str) -> Reference {
    Reference::global(value)
}

fn property(id_short: &str) -> Property {
    Property::new(DataTypeDefXsd::String).with_id_short(id_short)
}

fn submodel(elements: Vec<SubmodelElement>) -> Submodel {
    let mut sm = Submodel::new("urn:sm");
    sm.submodel_elements = Some(elements);
    sm
}

fn qualifier(kind: QualifierKind) -> Qualifier {
    let mut q = Qualifier::new("q", DataTypeDefXsd::String);
    q.kind = Some(kind);
    q
}

fn list(type_: AasSubmodelElements, items: Vec<SubmodelElement>) -> SubmodelElementList {
    let mut l = SubmodelElementList::new(type_).with_id_short("L");
    l.value = Some(items);
    l
}

fn no_id_short(p: Property) -> SubmodelElement {
    let mut p = p;
    p.id_short = None;
    p.into()
}

fn shell(info: AssetInformation) -> AssetAdministrationShell {
    AssetAdministrationShell::new("urn:aas", info)
}

fn iec(preferred: &str) -> DataSpecificationIec61360 {
    DataSpecificationIec61360::new(vec![LangString::new(preferred, "name")])
}

fn concept(category: &str, content: DataSpecificationIec61360) -> ConceptDescription {
    let mut cd = ConceptDescription::new("urn:cd");
    cd.category = Some(category.into());
    cd.embedded_data_specifications = Some(vec![EmbeddedDataSpecification {
        data_specification: global(
            "https://admin-shell.io/DataSpecificationTemplates/DataSpecificationIEC61360/3/0",
        ),
        data_specification_content: content.into(),
    }]);
    cd
}

fn with_definition(mut c: DataSpecificationIec61360) -> DataSpecificationIec61360 {
    c.definition = Some(vec![LangString::new("en", "what it is")]);
    c
}

fn with_type(c: DataSpecificationIec61360, t: DataTypeIec61360) -> DataSpecificationIec61360 {
    let mut c = with_definition(c);
    c.data_type = Some(t);
    c
}

fn keys(type_: ReferenceTypes, keys: &[(KeyTypes, &str)]) -> Reference {
    Reference::new(type_, keys.iter().map(|(t, v)| Key::new(*t, *v)).collect())
}

use KeyTypes as K;
use ReferenceTypes::{ExternalReference as Ext, ModelReference as Model};

constraint!(aasd_002_id_short_pattern, "AASd-002", broken: property("1st"), mended: property("first"));

constraint!(aasd_005_revision_needs_version, "AASd-005",
    broken: AdministrativeInformation { revision: Some("1".into()), ..Default::default() },
    mended: AdministrativeInformation { revision: Some("1".into()), version: Some("2".into()), ..Default::default() });

constraint!(aasd_014_self_managed_entity_needs_an_asset_id, "AASd-014",
    broken: Entity::new(EntityType::SelfManagedEntity).with_id_short("E"),
    mended: Entity { global_asset_id: Some("urn:asset".into()), ..Entity::new(EntityType::SelfManagedEntity).with_id_short("E") });

constraint!(aasd_014_co_managed_entity_has_no_asset_id, "AASd-014",
    broken: Entity { global_asset_id: Some("urn:asset".into()), ..Entity::new(EntityType::CoManagedEntity).with_id_short("E") },
    mended: Entity::new(EntityType::CoManagedEntity).with_id_short("E"));

constraint!(aasd_020_qualifier_value_matches_its_type, "AASd-020",
    broken: Qualifier { value: Some("x".into()), ..Qualifier::new("q", DataTypeDefXsd::Int) },
    mended: Qualifier { value: Some("7".into()), ..Qualifier::new("q", DataTypeDefXsd::Int) });

constraint!(aasd_021_one_qualifier_per_type, "AASd-021",
    broken: Property { qualifiers: Some(vec![Qualifier::new("q", DataTypeDefXsd::String), Qualifier::new("q", DataTypeDefXsd::String)]), ..property("P") },
    mended: Property { qualifiers: Some(vec![Qualifier::new("q", DataTypeDefXsd::String), Qualifier::new("r", DataTypeDefXsd::String)]), ..property("P") });

constraint!(aasd_022_id_shorts_unique_among_siblings, "AASd-022",
    broken: submodel(vec![property("A").into(), property("A").into()]),
    mended: submodel(vec![property("A").into(), property("B").into()]));

constraint!(aasd_077_extension_names_unique, "AASd-077",
    broken: Property { extensions: Some(vec![Extension::new("x"), Extension::new("x")]), ..property("P") },
    mended: Property { extensions: Some(vec![Extension::new("x"), Extension::new("y")]), ..property("P") });

constraint!(aasd_090_data_element_category, "AASd-090",
    broken: Property { category: Some("CONSTANTLY".into()), ..property("P") },
    mended: Property { category: Some("CONSTANT".into()), ..property("P") });

constraint!(aasd_107_list_items_carry_the_list_semantic_id, "AASd-107",
broken: SubmodelElementList {
    semantic_id_list_element: Some(global("urn:a")),
    ..list(AasSubmodelElements::Capability, vec![Capability { semantic_id: Some(global("urn:b")), ..Capability::new() }.into()])
},
mended: SubmodelElementList {
    semantic_id_list_element: Some(global("urn:a")),
    ..list(AasSubmodelElements::Capability, vec![Capability { semantic_id: Some(global("urn:a")), ..Capability::new() }.into()])
});

constraint!(aasd_108_list_items_have_the_list_type, "AASd-108",
    broken: list(AasSubmodelElements::Capability, vec![Operation::new().into()]),
    mended: list(AasSubmodelElements::Capability, vec![Capability::new().into()]));

constraint!(aasd_109_property_lists_name_and_share_a_value_type, "AASd-109",
broken: list(AasSubmodelElements::Property, vec![no_id_short(property("x"))]),
mended: SubmodelElementList {
    value_type_list_element: Some(DataTypeDefXsd::String),
    ..list(AasSubmodelElements::Property, vec![no_id_short(property("x"))])
});

constraint!(aasd_114_list_items_share_their_semantic_id, "AASd-114",
broken: list(AasSubmodelElements::Capability, vec![
    Capability { semantic_id: Some(global("urn:a")), ..Capability::new() }.into(),
    Capability { semantic_id: Some(global("urn:b")), ..Capability::new() }.into(),
]),
mended: list(AasSubmodelElements::Capability, vec![
    Capability { semantic_id: Some(global("urn:a")), ..Capability::new() }.into(),
    Capability { semantic_id: Some(global("urn:a")), ..Capability::new() }.into(),
]));

constraint!(aasd_116_global_asset_id_key_equals_the_global_asset_id, "AASd-116",
broken: AssetInformation {
    global_asset_id: Some("urn:a".into()),
    specific_asset_ids: Some(vec![SpecificAssetId::new("globalAssetId", "urn:b")]),
    ..AssetInformation::new(AssetKind::Instance)
},
mended: AssetInformation {
    global_asset_id: Some("urn:a".into()),
    specific_asset_ids: Some(vec![SpecificAssetId::new("globalAssetId", "urn:a")]),
    ..AssetInformation::new(AssetKind::Instance)
});

constraint!(aasd_117_children_outside_lists_need_an_id_short, "AASd-117",
    broken: submodel(vec![no_id_short(property("x"))]),
    mended: submodel(vec![property("x").into()]));

constraint!(aasd_117_operation_variables_need_an_id_short, "AASd-117",
    broken: Operation { input_variables: Some(vec![OperationVariable::new(no_id_short(property("x")))]), ..Operation::new().with_id_short("Op") },
    mended: Operation { input_variables: Some(vec![OperationVariable::new(property("x"))]), ..Operation::new().with_id_short("Op") });

constraint!(aasd_118_supplemental_semantic_ids_need_a_semantic_id, "AASd-118",
    broken: Property { supplemental_semantic_ids: Some(vec![global("urn:s")]), ..property("P") },
    mended: Property { semantic_id: Some(global("urn:m")), supplemental_semantic_ids: Some(vec![global("urn:s")]), ..property("P") });

constraint!(aasd_119_template_qualifier_needs_a_template, "AASd-119",
    broken: Submodel { qualifiers: Some(vec![qualifier(QualifierKind::TemplateQualifier)]), ..Submodel::new("urn:sm") },
    mended: Submodel { qualifiers: Some(vec![qualifier(QualifierKind::TemplateQualifier)]), kind: Some(ModellingKind::Template), ..Submodel::new("urn:sm") });

constraint!(aasd_120_list_items_have_no_id_short, "AASd-120",
    broken: list(AasSubmodelElements::Capability, vec![Capability::new().with_id_short("C").into()]),
    mended: list(AasSubmodelElements::Capability, vec![Capability::new().into()]));

constraint!(aasd_121_first_key_globally_identifiable, "AASd-121",
    broken: keys(Model, &[(K::Property, "p")]),
    mended: keys(Model, &[(K::Submodel, "urn:sm"), (K::Property, "p")]));

constraint!(aasd_122_external_reference_starts_with_a_global_reference, "AASd-122",
    broken: keys(Ext, &[(K::Submodel, "urn:sm")]),
    mended: keys(Ext, &[(K::GlobalReference, "urn:x")]));

constraint!(aasd_123_model_reference_starts_with_an_identifiable, "AASd-123",
    broken: keys(Model, &[(K::GlobalReference, "urn:x")]),
    mended: keys(Model, &[(K::ConceptDescription, "urn:cd")]));

constraint!(aasd_124_external_reference_ends_in_global_or_fragment, "AASd-124",
    broken: keys(Ext, &[(K::GlobalReference, "urn:x"), (K::Property, "p")]),
    mended: keys(Ext, &[(K::GlobalReference, "urn:x"), (K::FragmentReference, "#p")]));

constraint!(aasd_125_model_reference_continues_with_fragment_keys, "AASd-125",
    broken: keys(Model, &[(K::Submodel, "urn:sm"), (K::Submodel, "urn:other")]),
    mended: keys(Model, &[(K::Submodel, "urn:sm"), (K::SubmodelElementCollection, "c")]));

constraint!(aasd_126_fragment_reference_only_last, "AASd-126",
    broken: keys(Model, &[(K::Submodel, "urn:sm"), (K::FragmentReference, "f"), (K::Property, "p")]),
    mended: keys(Model, &[(K::Submodel, "urn:sm"), (K::File, "f"), (K::FragmentReference, "p")]));

constraint!(aasd_127_fragment_reference_follows_file_or_blob, "AASd-127",
    broken: keys(Model, &[(K::Submodel, "urn:sm"), (K::Property, "p"), (K::FragmentReference, "f")]),
    mended: keys(Model, &[(K::Submodel, "urn:sm"), (K::Blob, "b"), (K::FragmentReference, "f")]));

constraint!(aasd_128_list_keys_are_followed_by_an_index, "AASd-128",
    broken: keys(Model, &[(K::Submodel, "urn:sm"), (K::SubmodelElementList, "l"), (K::Property, "first")]),
    mended: keys(Model, &[(K::Submodel, "urn:sm"), (K::SubmodelElementList, "l"), (K::Property, "0")]));

constraint!(aasd_129_template_qualified_elements_need_a_template_submodel, "AASd-129",
broken: submodel(vec![Property { qualifiers: Some(vec![qualifier(QualifierKind::TemplateQualifier)]), ..property("P") }.into()]),
mended: Submodel {
    kind: Some(ModellingKind::Template),
    ..submodel(vec![Property { qualifiers: Some(vec![qualifier(QualifierKind::TemplateQualifier)]), ..property("P") }.into()])
});

constraint!(aasd_130_strings_hold_only_xml_characters, "AASd-130",
    broken: Property { value: Some("bell\u{7}".into()), ..property("P") },
    mended: Property { value: Some("bell".into()), ..property("P") });

constraint!(aasd_131_asset_needs_an_id, "AASd-131",
    broken: AssetInformation::new(AssetKind::Type),
    mended: AssetInformation { global_asset_id: Some("urn:asset".into()), ..AssetInformation::new(AssetKind::Type) });

constraint!(aasd_133_external_subject_id_is_external, "AASd-133",
    broken: SpecificAssetId { external_subject_id: Some(Reference::to_submodel("urn:sm")), ..SpecificAssetId::new("serial", "1") },
    mended: SpecificAssetId { external_subject_id: Some(global("urn:company")), ..SpecificAssetId::new("serial", "1") });

constraint!(aasd_134_operation_variable_id_shorts_unique, "AASd-134",
broken: Operation {
    input_variables: Some(vec![OperationVariable::new(property("x"))]),
    output_variables: Some(vec![OperationVariable::new(property("x"))]),
    ..Operation::new().with_id_short("Op")
},
mended: Operation {
    input_variables: Some(vec![OperationVariable::new(property("x"))]),
    output_variables: Some(vec![OperationVariable::new(property("y"))]),
    ..Operation::new().with_id_short("Op")
});

constraint!(aasc_3a_002_preferred_name_in_english, "AASc-3a-002", broken: iec("de"), mended: iec("en-US"));

constraint!(aasc_3a_004_property_concepts_have_a_value_data_type, "AASc-3a-004",
    broken: concept("PROPERTY", with_type(iec("en"), DataTypeIec61360::Blob)),
    mended: concept("PROPERTY", with_type(iec("en"), DataTypeIec61360::Boolean)));

constraint!(aasc_3a_005_reference_concepts_have_a_reference_data_type, "AASc-3a-005",
    broken: concept("REFERENCE", with_type(iec("en"), DataTypeIec61360::Boolean)),
    mended: concept("REFERENCE", with_type(iec("en"), DataTypeIec61360::Iri)));

constraint!(aasc_3a_006_document_concepts_have_a_document_data_type, "AASc-3a-006",
    broken: concept("DOCUMENT", with_type(iec("en"), DataTypeIec61360::String)),
    mended: concept("DOCUMENT", with_type(iec("en"), DataTypeIec61360::Html)));

constraint!(aasc_3a_007_qualifier_type_concepts_have_a_data_type, "AASc-3a-007",
    broken: concept("QUALIFIER_TYPE", with_definition(iec("en"))),
    mended: concept("QUALIFIER_TYPE", with_type(iec("en"), DataTypeIec61360::String)));

constraint!(aasc_3a_008_definition_in_english, "AASc-3a-008",
    broken: concept("APPLICATION_CLASS", iec("en")),
    mended: concept("APPLICATION_CLASS", with_definition(iec("en"))));

constraint!(aasc_3a_009_measures_have_a_unit, "AASc-3a-009",
    broken: with_type(iec("en"), DataTypeIec61360::RealMeasure),
    mended: DataSpecificationIec61360 { unit: Some("m".into()), ..with_type(iec("en"), DataTypeIec61360::RealMeasure) });

constraint!(aasc_3a_010_value_or_value_list, "AASc-3a-010",
    broken: DataSpecificationIec61360 {
        value: Some("1".into()),
        value_list: Some(ValueList { value_reference_pairs: vec![ValueReferencePair { value: "1".into(), value_id: Some(global("urn:v")) }] }),
        ..iec("en")
    },
    mended: DataSpecificationIec61360 { value: Some("1".into()), ..iec("en") });

// --- rules without a constraint id ------------------------------------------------------

constraint!(min_items_optional_lists_are_not_empty, "minItems",
    broken: Environment { submodels: Some(vec![]), ..Environment::new() },
    mended: Environment::new());

constraint!(min_length_strings_are_not_empty, "minLength",
    broken: Submodel::new(""),
    mended: Submodel::new("urn:sm"));

constraint!(max_length_of_lang_strings_depends_on_their_kind, "maxLength",
    broken: DataSpecificationIec61360 { short_name: Some(vec![LangString::new("en", "nineteen characters")]), ..iec("en") },
    mended: DataSpecificationIec61360 { short_name: Some(vec![LangString::new("en", "eighteen character")]), ..iec("en") });

constraint!(pattern_of_content_types, "pattern",
    broken: File::new("pdf").with_id_short("F"),
    mended: File::new("application/pdf").with_id_short("F"));

constraint!(pattern_of_language_tags, "pattern",
    broken: MultiLanguageProperty { value: Some(vec![LangString::new("en_US", "a")]), ..MultiLanguageProperty::new().with_id_short("M") },
    mended: MultiLanguageProperty { value: Some(vec![LangString::new("en", "a")]), ..MultiLanguageProperty::new().with_id_short("M") });

constraint!(value_type_of_property_values, "valueType",
    broken: Property { value: Some("2023-02-29".into()), ..Property::new(DataTypeDefXsd::Date).with_id_short("D") },
    mended: Property { value: Some("2024-02-29".into()), ..Property::new(DataTypeDefXsd::Date).with_id_short("D") });

constraint!(date_time_utc_days_exist, "dateTimeUtc",
    broken: EventPayload::new(Reference::model(vec![Key::new(K::Submodel, "urn:sm"), Key::new(K::BasicEventElement, "e")]), Reference::to_submodel("urn:sm"), "2023-02-29T00:00:00Z"),
    mended: EventPayload::new(Reference::model(vec![Key::new(K::Submodel, "urn:sm"), Key::new(K::BasicEventElement, "e")]), Reference::to_submodel("urn:sm"), "2024-02-29T00:00:00Z"));

constraint!(unique_languages_per_lang_string_list, "uniqueLanguages",
    broken: MultiLanguageProperty { value: Some(vec![LangString::new("en", "a"), LangString::new("en", "b")]), ..MultiLanguageProperty::new().with_id_short("M") },
    mended: MultiLanguageProperty { value: Some(vec![LangString::new("en", "a"), LangString::new("de", "b")]), ..MultiLanguageProperty::new().with_id_short("M") });

constraint!(model_reference_of_shell_submodels, "modelReference",
    broken: AssetAdministrationShell { submodels: Some(vec![global("urn:sm")]), ..shell(AssetInformation { global_asset_id: Some("urn:a".into()), ..AssetInformation::new(AssetKind::Instance) }) },
    mended: AssetAdministrationShell { submodels: Some(vec![Reference::to_submodel("urn:sm")]), ..shell(AssetInformation { global_asset_id: Some("urn:a".into()), ..AssetInformation::new(AssetKind::Instance) }) });

constraint!(max_interval_only_for_output_events, "maxInterval",
    broken: BasicEventElement { max_interval: Some("PT1S".into()), ..BasicEventElement::new(Reference::to_submodel("urn:sm"), Direction::Input, StateOfEvent::On).with_id_short("E") },
    mended: BasicEventElement { max_interval: Some("PT1S".into()), ..BasicEventElement::new(Reference::to_submodel("urn:sm"), Direction::Output, StateOfEvent::On).with_id_short("E") });

constraint!(range_order_min_not_above_max, "rangeOrder",
    broken: Range { min: Some("10".into()), max: Some("9".into()), ..Range::new(DataTypeDefXsd::Integer).with_id_short("R") },
    mended: Range { min: Some("9".into()), max: Some("10".into()), ..Range::new(DataTypeDefXsd::Integer).with_id_short("R") });

#[test]
fn findings_name_the_json_path_and_the_id_short_path() {
    let mut inner = list(
        AasSubmodelElements::Property,
        vec![no_id_short(Property {
            value: Some("x".into()),
            ..Property::new(DataTypeDefXsd::Int)
        })],
    );
    inner.value_type_list_element = Some(DataTypeDefXsd::Int);
    let mut collection = SubmodelElementCollection::new().with_id_short("Motor");
    collection.value = Some(vec![inner.into()]);
    let env = Environment {
        submodels: Some(vec![submodel(vec![collection.into()])]),
        ..Environment::new()
    };
    let findings: Vec<_> = verify(&env).collect();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(
        findings[0].path(),
        "submodels[0].submodelElements[0].value[0].value[0].value"
    );
    assert_eq!(findings[0].id_short_path(), Some("Motor.L[0]"));
    assert_eq!(findings[0].rule(), "valueType");
}

#[test]
fn verification_is_lazy_and_stops_when_asked() {
    let elements: Vec<SubmodelElement> = (0..1000).map(|_| property("same").into()).collect();
    let env = Environment {
        submodels: Some(vec![submodel(elements)]),
        ..Environment::new()
    };
    assert_eq!(
        verify(&env).count(),
        999,
        "one AASd-022 per repeated idShort"
    );
    assert_eq!(verify(&env).take(3).count(), 3);
}

#[test]
fn repeated_id_shorts_are_reported_at_each_repetition_in_item_order() {
    let elements: Vec<SubmodelElement> = ["b", "a", "b", "a", "c", "a"]
        .into_iter()
        .map(|name| property(name).into())
        .collect();
    let env = Environment {
        submodels: Some(vec![submodel(elements)]),
        ..Environment::new()
    };
    let paths: Vec<String> = verify(&env)
        .map(|finding| format!("{} {}", finding.path(), finding.message()))
        .collect();
    assert_eq!(
        paths,
        [
            "submodels[0].submodelElements[2] idShort \"b\" is used twice in submodelElements; rename one of them",
            "submodels[0].submodelElements[3] idShort \"a\" is used twice in submodelElements; rename one of them",
            "submodels[0].submodelElements[5] idShort \"a\" is used twice in submodelElements; rename one of them",
        ]
    );
}

#[test]
fn repeated_id_shorts_are_reported_alike_in_small_and_large_containers() {
    // Up to 16 named children are compared pairwise, more are sorted: the findings must not
    // depend on which, including a repetition whose first use is among the first 16.
    for unique in [0, 9, 10, 40] {
        let mut names: Vec<String> = ["b", "a", "b", "a", "c", "a"].map(String::from).to_vec();
        names.extend((0..unique).map(|i| format!("u{i}")));
        names.push("c".into());
        let elements: Vec<SubmodelElement> =
            names.iter().map(|name| property(name).into()).collect();
        let env = Environment {
            submodels: Some(vec![submodel(elements)]),
            ..Environment::new()
        };
        let found: Vec<String> = verify(&env).map(|f| f.path().to_owned()).collect();
        let last = names.len() - 1;
        assert_eq!(
            found,
            [2, 3, 5, last].map(|i| format!("submodels[0].submodelElements[{i}]")),
            "{} children",
            names.len()
        );
    }
}
