//! Reader and writer behaviour the conformance corpus does not exercise.

use aas_model::*;
use aas_serde::{Document, json};

fn env_with(element: &str) -> String {
    format!(
        r#"{{"submodels":[{{"modelType":"Submodel","id":"urn:sm","submodelElements":[{element}]}}]}}"#
    )
}

fn first_element(env: &Environment) -> &SubmodelElement {
    &env.submodels.as_ref().unwrap()[0]
        .submodel_elements
        .as_ref()
        .unwrap()[0]
}

#[test]
fn model_type_last_is_read_in_one_pass_for_every_value_shape() {
    let cases = [
        r#"{"idShort":"p","valueType":"xs:int","value":"1","modelType":"Property"}"#,
        r#"{"idShort":"b","contentType":"a/b","value":"AAEC","modelType":"Blob"}"#,
        r#"{"idShort":"r","value":{"type":"ExternalReference","keys":[{"type":"GlobalReference","value":"x"}]},"modelType":"ReferenceElement"}"#,
        r#"{"idShort":"m","value":[{"language":"en","text":"t"}],"modelType":"MultiLanguageProperty"}"#,
        r#"{"idShort":"c","value":[{"idShort":"p","valueType":"xs:int","modelType":"Property"}],"modelType":"SubmodelElementCollection"}"#,
        // A lang string whose keys come in the other order, and an empty list.
        r#"{"idShort":"m","value":[{"text":"t","language":"en"}],"modelType":"MultiLanguageProperty"}"#,
        r#"{"idShort":"c","value":[],"modelType":"SubmodelElementCollection"}"#,
    ];
    for case in cases {
        let env: Environment =
            json::from_str(&env_with(case)).unwrap_or_else(|e| panic!("{case}: {e}"));
        // modelType first (as we write it) reads to the same output.
        let again: Environment = json::from_slice(&json::to_vec(&env)).unwrap();
        assert_eq!(json::to_vec(&again), json::to_vec(&env), "{case}");
    }
    let blob: Environment = json::from_str(&env_with(cases[1])).unwrap();
    match first_element(&blob) {
        SubmodelElement::Blob(b) => assert_eq!(b.value.as_deref(), Some(&[0u8, 1, 2][..])),
        other => panic!("read as {other:?}"),
    }
    let mlp: Environment = json::from_str(&env_with(cases[5])).unwrap();
    match first_element(&mlp) {
        SubmodelElement::MultiLanguageProperty(m) => {
            assert_eq!(m.value, Some(vec![LangString::new("en", "t")]))
        }
        other => panic!("read as {other:?}"),
    }
}

#[test]
fn a_wrong_guess_of_value_is_read_again_and_reported_as_the_class_wants_it() {
    // An array that looks like elements, in an MLP: the error must speak of lang strings.
    let mlp = r#"{"value":[{"modelType":"Property","valueType":"xs:int"}],"modelType":"MultiLanguageProperty"}"#;
    let err = json::from_str::<Environment>(&env_with(mlp)).unwrap_err();
    assert_eq!(
        err.path_string(),
        "$.submodels[0].submodelElements[0].value[0].modelType"
    );
    assert!(
        err.to_string()
            .contains("unexpected property \"modelType\" for LangString"),
        "{err}"
    );

    // An object value in a Property: a type error at value.
    let prop = r#"{"value":{"a":1},"valueType":"xs:int","modelType":"Property"}"#;
    let err = json::from_str::<Environment>(&env_with(prop)).unwrap_err();
    assert_eq!(
        err.path_string(),
        "$.submodels[0].submodelElements[0].value"
    );
    assert!(
        err.to_string()
            .contains("expected a string, found an object"),
        "{err}"
    );

    // Invalid base64 in a Blob whose modelType comes last.
    let blob = r#"{"value":"not base64!","contentType":"a/b","modelType":"Blob"}"#;
    let err = json::from_str::<Environment>(&env_with(blob)).unwrap_err();
    assert!(
        matches!(err.kind(), json::ErrorKind::InvalidBase64(_)),
        "{err}"
    );
    assert_eq!(
        err.path_string(),
        "$.submodels[0].submodelElements[0].value"
    );
}

#[test]
fn properties_of_another_class_are_rejected_where_they_stand() {
    let e = r#"{"idShort":"p","min":"1","valueType":"xs:int","modelType":"Property"}"#;
    let text = env_with(e);
    let err = json::from_str::<Environment>(&text).unwrap_err();
    assert_eq!(err.path_string(), "$.submodels[0].submodelElements[0].min");
    assert!(
        err.to_string()
            .contains("unexpected property \"min\" for Property"),
        "{err}"
    );
    let value_of_min = text.find(r#""1""#).unwrap() + 1;
    assert_eq!(
        (err.line(), err.column()),
        (1, value_of_min),
        "points at the value of min"
    );
}

#[test]
fn data_element_positions_refuse_other_elements() {
    let are = r#"{"modelType":"AnnotatedRelationshipElement","first":{"type":"ExternalReference","keys":[{"type":"GlobalReference","value":"a"}]},"second":{"type":"ExternalReference","keys":[{"type":"GlobalReference","value":"b"}]},"annotations":[{"modelType":"Capability"}]}"#;
    let err = json::from_str::<Environment>(&env_with(are)).unwrap_err();
    assert_eq!(
        err.path_string(),
        "$.submodels[0].submodelElements[0].annotations[0].modelType"
    );
    assert!(
        err.to_string().contains("expected a data element class"),
        "{err}"
    );
}

#[test]
fn duplicate_properties_and_trailing_data_are_errors() {
    let dup = r#"{"submodels":[{"modelType":"Submodel","id":"a","id":"b"}]}"#;
    let err = json::from_str::<Environment>(dup).unwrap_err();
    assert!(
        matches!(err.kind(), json::ErrorKind::DuplicateProperty(p) if p == "id"),
        "{err}"
    );
    let dup_model_type = env_with(r#"{"modelType":"Capability","modelType":"Capability"}"#);
    assert!(json::from_str::<Environment>(&dup_model_type).is_err());
    assert!(json::from_str::<Environment>("{} {}").is_err());
    assert!(json::from_str::<Environment>("").is_err());
}

#[test]
fn strings_with_escapes_and_a_byte_order_mark_read_and_round_trip() {
    let text = "\u{feff}{\"submodels\":[{\"modelType\":\"Submodel\",\"id\":\"a\\\"b\\\\c\\n\\u00e9\\ud83d\\ude00\\t\\u0001\"}]}";
    let env: Environment = json::from_str(text).unwrap();
    let id = &env.submodels.as_ref().unwrap()[0].id;
    assert_eq!(id, "a\"b\\c\né😀\t\u{1}");
    let written = json::to_string(&env);
    assert!(written.contains(r#""a\"b\\c\né😀\t\u0001""#), "{written}");
    assert_eq!(json::from_str::<Environment>(&written).unwrap(), env);
    // A lone surrogate is not a character.
    assert!(
        json::from_str::<Environment>(r#"{"submodels":[{"modelType":"Submodel","id":"\ud800"}]}"#)
            .is_err()
    );
    // Raw control characters are not allowed in JSON strings.
    assert!(
        json::from_str::<Environment>(
            "{\"submodels\":[{\"modelType\":\"Submodel\",\"id\":\"a\u{1}\"}]}"
        )
        .is_err()
    );
}

#[test]
fn invalid_utf8_is_an_error_with_a_position() {
    let text = br#"{"submodels":[{"modelType":"Submodel","id":"ab"}]}"#;
    let mut bytes = text.to_vec();
    let at = text.windows(4).position(|w| w == b"\"ab\"").unwrap() + 1;
    bytes[at] = 0xFF;
    let err = json::from_slice::<Environment>(&bytes).unwrap_err();
    assert!(matches!(err.kind(), json::ErrorKind::InvalidUtf8), "{err}");
    assert_eq!((err.line(), err.column()), (1, at + 1));
}

/// After an escape the string is decoded into a buffer: the position of a bad byte is still
/// that of the input (an escape is longer than what it decodes to).
#[test]
fn invalid_utf8_after_an_escape_is_an_error_at_its_input_position() {
    let text = br#"{"submodels":[{"modelType":"Submodel","id":"\u00e9\n\u0041ab"}]}"#;
    let mut bytes = text.to_vec();
    let at = text.windows(3).position(|w| w == b"ab\"").unwrap();
    bytes[at] = 0xFF;
    let err = json::from_slice::<Environment>(&bytes).unwrap_err();
    assert!(matches!(err.kind(), json::ErrorKind::InvalidUtf8), "{err}");
    assert_eq!((err.line(), err.column()), (1, at + 1), "{err}");
}

#[test]
fn empty_optional_lists_are_read_and_never_written() {
    let env: Environment = json::from_str(r#"{"submodels":[],"conceptDescriptions":[]}"#).unwrap();
    assert_eq!(env.submodels, Some(vec![]));
    assert_eq!(json::to_string(&env), "{}");
}

#[test]
fn single_classes_and_documents_are_roots() {
    let p: Property = json::from_str(r#"{"valueType":"xs:int","modelType":"Property"}"#).unwrap();
    assert_eq!(p, Property::new(DataTypeDefXsd::Int));
    let err =
        json::from_str::<Property>(r#"{"modelType":"Range","valueType":"xs:int"}"#).unwrap_err();
    assert!(err.to_string().contains("expected Property"), "{err}");
    let r: Reference = json::from_str(
        r#"{"type":"ExternalReference","keys":[{"type":"GlobalReference","value":"x"}]}"#,
    )
    .unwrap();
    assert_eq!(r, Reference::global("x"));

    let payload = r#"{"source":{"type":"ExternalReference","keys":[{"type":"GlobalReference","value":"s"}]},"observableReference":{"type":"ExternalReference","keys":[{"type":"GlobalReference","value":"o"}]},"timeStamp":"2024-01-01T00:00:00Z"}"#;
    assert!(matches!(
        json::from_str::<Document>(payload).unwrap(),
        Document::EventPayload(_)
    ));
    assert!(matches!(
        json::from_str::<Document>("{}").unwrap(),
        Document::Environment(_)
    ));
    // Neither: the environment's error is reported.
    let err = json::from_str::<Document>(r#"{"foo":1}"#).unwrap_err();
    assert!(
        err.to_string()
            .contains("unexpected property \"foo\" for Environment"),
        "{err}"
    );
}

#[test]
fn pretty_output_is_indented_by_two_spaces() {
    let env = Environment {
        submodels: Some(vec![Submodel::new("urn:x")]),
        ..Environment::new()
    };
    assert_eq!(
        json::to_string_pretty(&env),
        "{\n  \"submodels\": [\n    {\n      \"modelType\": \"Submodel\",\n      \"id\": \"urn:x\"\n    }\n  ]\n}"
    );
}

#[test]
fn writing_to_a_failing_writer_returns_the_error() {
    struct Broken;
    impl std::io::Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let err = json::to_writer(Broken, &Environment::new()).unwrap_err();
    assert_eq!(err.to_string(), "disk full");
}

/// `depth` submodel element collections, each in the `value` of the one above; `modelType`
/// first or last.
fn nested_collections(depth: usize, model_type_last: bool) -> String {
    let (open, innermost) = if model_type_last {
        (
            r#"{"idShort":"c","value":["#,
            r#"{"idShort":"c","modelType":"SubmodelElementCollection"}"#,
        )
    } else {
        (
            r#"{"modelType":"SubmodelElementCollection","idShort":"c","value":["#,
            r#"{"modelType":"SubmodelElementCollection","idShort":"c"}"#,
        )
    };
    let close = if model_type_last {
        r#"],"modelType":"SubmodelElementCollection"}"#
    } else {
        "]}"
    };
    let mut text = open.repeat(depth - 1);
    text.push_str(innermost);
    text.push_str(&close.repeat(depth - 1));
    env_with(&text)
}

#[test]
fn collections_nested_100_000_deep_are_an_error_not_a_stack_overflow() {
    for model_type_last in [false, true] {
        let text = nested_collections(100_000, model_type_last);
        let err = json::from_str::<Environment>(&text).unwrap_err();
        assert!(
            matches!(err.kind(), json::ErrorKind::TooDeep(json::MAX_DEPTH)),
            "{err}"
        );
        assert!(
            err.to_string().contains("nesting deeper than 128 levels"),
            "{err}"
        );
        assert!(json::from_str::<Document>(&text).is_err());
    }
    // Raw arrays and objects too (skipped values are nested as well).
    let arrays = env_with(&format!(
        r#"{{"modelType":"Property","idShort":"p","valueType":"xs:int","x":{}}}"#,
        "[".repeat(100_000)
    ));
    assert!(json::from_str::<Environment>(&arrays).is_err());
}

#[test]
fn collections_nested_to_the_depth_limit_are_read_and_written() {
    assert_eq!(json::MAX_DEPTH, 128);
    // Nesting levels above the first collection: environment, submodels, submodel,
    // submodelElements; each collection is an object and its value an array.
    let deepest = (json::MAX_DEPTH - 5) / 2 + 1;
    for model_type_last in [false, true] {
        let env: Environment = json::from_str(&nested_collections(deepest, model_type_last))
            .unwrap_or_else(|e| panic!("{deepest} levels: {e}"));
        assert_eq!(
            json::from_slice::<Environment>(&json::to_vec(&env)).unwrap(),
            env
        );
        let err = json::from_str::<Environment>(&nested_collections(deepest + 1, model_type_last))
            .unwrap_err();
        assert!(matches!(err.kind(), json::ErrorKind::TooDeep(_)), "{err}");
    }
}

#[test]
fn first_deeper_than_finds_the_first_byte_past_the_depth_and_skips_strings() {
    use aas_serde::json::first_deeper_than;
    assert_eq!(first_deeper_than(b"1", 0), None);
    let text = br#"{"a":[{"b":"[[{{\"]]"}]}"#;
    assert_eq!(first_deeper_than(text, 3), None);
    assert_eq!(first_deeper_than(text, 2), Some(6));
    // An escaped backslash ends before the quote that closes the string.
    let text = br#"["a\\",["\"[",[1]]]"#;
    assert_eq!(first_deeper_than(text, 2), Some(14));
    assert_eq!(first_deeper_than(text, 3), None);
    // An unterminated string, or one ending in a backslash, hides nothing deeper.
    assert_eq!(first_deeper_than(br#"[["[[[\"#, 2), None);
    assert_eq!(first_deeper_than(br#"["\"#, 0), Some(0));
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(first_deeper_than(deep.as_bytes(), 128), Some(128));
}
