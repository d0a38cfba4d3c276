//! The JSON Schema of the AAS classes' JSON mapping, for a metamodel version: for OpenAPI
//! documents, form generators and validators outside Rust. [`api_definitions`] and [`paged`]
//! add the schemas of Part 2's own payloads (results, operation invocation, pages), which an
//! API's document places beside them.
//!
//! The V3.0 schema is aas-core3.0-testgen's (`json_schema/aas-schema.json`, MIT licensed:
//! `json_schema/LICENSE-aas-schema`); V3.1's is made from it by V3.1's changes: `AssetKind`
//! `Role`; `entityType`, `first`/`second`, `contentType` and `valueId` optional; idShorts with
//! hyphens (at least two characters); 2048 characters for identifiers, 128 for content types.
//!
//! The patterns are rewritten into ECMA-262's dialect, which JSON Schema uses: the schema's
//! XML character ranges name code points with Python's `\U0010FFFF`, which ECMA-262 lacks and
//! request generators cannot build strings from, so they become the negated class of the
//! excluded characters (the same strings: a test compares every code point); and Python's
//! `{,2}` ("at most 2"), a literal text in ECMA-262, becomes `{0,2}`.
//!
//! ```
//! use aas_model::Version;
//! use aas_serde::json_schema;
//!
//! let v31 = json_schema::definitions(Version::V3_1, "#/components/schemas/");
//! assert!(v31["AssetKind"]["enum"].as_array().is_some_and(|kinds| kinds.contains(&"Role".into())));
//! let v30 = json_schema::definitions(Version::V3_0, "#/definitions/");
//! assert!(!v30["AssetKind"]["enum"].as_array().is_some_and(|kinds| kinds.contains(&"Role".into())));
//! ```

use aas_model::Version;
use serde_json::{Map, Value, json};

const AAS_SCHEMA: &str = include_str!("json_schema/aas-schema.json");
/// The pattern of XML characters as the AAS schema writes it (JSON-escaped), and its equivalent.
const XML_CHARACTERS: &str =
    r#""^[\\x09\\x0A\\x0D\\x20-\\uD7FF\\uE000-\\uFFFD\\U00010000-\\U0010FFFF]*$""#;
const XML_CHARACTERS_NEGATED: &str =
    r#""^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\uD800-\\uDFFF\\uFFFE\\uFFFF]*$""#;

/// The schema's definitions (one per class, enum and primitive, by the names of the schema:
/// `Submodel`, `SubmodelElement_choice`, …) for `version`, with references among them written
/// as `ref_prefix` and the name (`#/definitions/` as in the schema file,
/// `#/components/schemas/` in an OpenAPI document).
pub fn definitions(version: Version, ref_prefix: &str) -> Map<String, Value> {
    // The prefix goes into the schema's JSON strings: escaped as their content, whatever it is.
    let quoted = serde_json::to_string(ref_prefix).unwrap_or_default();
    let escaped = quoted
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or_default();
    let text = AAS_SCHEMA
        .replace("#/definitions/", escaped)
        .replace(XML_CHARACTERS, XML_CHARACTERS_NEGATED)
        .replace("{,2}", "{0,2}");
    // The embedded schema is JSON (a test reads it) and the prefix is escaped: this reads.
    let schema: Value = serde_json::from_str(&text).unwrap_or_default();
    let mut definitions = schema["definitions"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    if version != Version::V3_0 {
        v3_1_delta(&mut definitions);
    }
    definitions
}

/// The schemas of Part 2's (the AAS API's) own payloads, to place beside [`definitions`] under
/// the same `ref_prefix`: `Result` (its `messages`), `ServiceDescription`, `Base64UrlId` (an
/// identifier in a path), and the operation invocation's `BaseOperationResult`,
/// `OperationRequest`, `OperationResult` (each also as `...ValueOnly`) and `OperationHandle`
/// (the payloads `crate::operation` reads and writes, feature `value-only`).
pub fn api_definitions(ref_prefix: &str) -> Map<String, Value> {
    let mut schemas = Map::new();
    let message = json!({"type": "object", "properties": {
        "code": {"type": "string"}, "correlationId": {"type": "string"},
        "messageType": {"type": "string", "enum": ["Undefined", "Info", "Warning", "Error", "Exception"]},
        "text": {"type": "string"}, "timestamp": {"type": "string"}}});
    schemas.insert(
        "Result".into(),
        json!({"type": "object", "properties": {"messages": {"type": "array", "items": message}}}),
    );
    schemas.insert(
        "ServiceDescription".into(),
        json!({"type": "object", "required": ["profiles"],
        "properties": {"profiles": {"type": "array", "items": {"type": "string"}}}}),
    );
    schemas.insert(
        "Base64UrlId".into(),
        json!({"type": "string", "pattern": "^[A-Za-z0-9_-]+=*$",
               "description": "An identifier, base64url-encoded (padding optional)"}),
    );
    let result = json!({"allOf": [{"$ref": format!("{ref_prefix}Result")}, {"properties": {
        "executionState": {"type": "string",
            "enum": ["Initiated", "Running", "Completed", "Canceled", "Failed", "Timeout"]},
        "success": {"type": "boolean"}}}]});
    schemas.insert("BaseOperationResult".into(), result);
    let timeout = json!({"type": "string", "description": "xs:duration, e.g. PT30S"});
    let variables =
        json!({"type": "array", "items": {"$ref": format!("{ref_prefix}OperationVariable")}});
    let values = json!({"type": "object", "description": "ValueOnly values keyed by idShort"});
    for (suffix, arguments) in [("", variables), ("ValueOnly", values)] {
        schemas.insert(
            format!("OperationRequest{suffix}"),
            json!({"type": "object", "properties": {
            "inputArguments": arguments, "inoutputArguments": arguments,
            "clientTimeoutDuration": timeout}}),
        );
        schemas.insert(
            format!("OperationResult{suffix}"),
            json!({"allOf": [
            {"$ref": format!("{ref_prefix}BaseOperationResult")}, {"properties": {
            "outputArguments": arguments, "inoutputArguments": arguments}}]}),
        );
    }
    schemas.insert(
        "OperationHandle".into(),
        json!({"type": "object", "properties": {
        "handleId": {"type": "string", "maxLength": 128}}}),
    );
    schemas
}

/// The schema of a Part 2 page of `item`s (`paging_metadata` with the `cursor` of the next
/// page, `result` with the items), the item's schema referred to as `ref_prefix` and `item`.
pub fn paged(item: &str, ref_prefix: &str) -> Value {
    json!({"type": "object", "required": ["paging_metadata", "result"], "properties": {
        "paging_metadata": {"type": "object", "properties": {"cursor": {"type": "string"}}},
        "result": {"type": "array", "items": {"$ref": format!("{ref_prefix}{item}")}}}})
}

fn v3_1_delta(schemas: &mut Map<String, Value>) {
    if let Some(kinds) = schemas
        .get_mut("AssetKind")
        .and_then(|kind| kind["enum"].as_array_mut())
    {
        kinds.push(json!("Role"));
    }
    // Required in V3.0, optional in V3.1.
    let optional = [
        ("Entity", "entityType"),
        ("RelationshipElement_abstract", "first"),
        ("RelationshipElement_abstract", "second"),
        ("Blob", "contentType"),
        ("File", "contentType"),
        ("ValueReferencePair", "valueId"),
    ];
    for (class, property) in optional {
        let Some(definition) = schemas.get_mut(class) else {
            continue;
        };
        let drop_required = |schema: &mut Value| {
            if let Some(names) = schema.get_mut("required").and_then(Value::as_array_mut) {
                names.retain(|name| name != property);
            }
        };
        drop_required(definition);
        if let Some(parts) = definition.get_mut("allOf").and_then(Value::as_array_mut) {
            parts.iter_mut().for_each(drop_required);
        }
    }
    // Lengths and the idShort pattern, wherever they occur.
    fn rewrite(value: &mut Value) {
        match value {
            Value::Object(object) => {
                match object.get("maxLength").and_then(Value::as_u64) {
                    Some(2000) => {
                        object.insert("maxLength".into(), json!(2048));
                    }
                    Some(100) => {
                        object.insert("maxLength".into(), json!(128));
                    }
                    _ => {}
                }
                if object.get("pattern").and_then(Value::as_str) == Some("^[a-zA-Z][a-zA-Z0-9_]*$")
                {
                    object.insert(
                        "pattern".into(),
                        json!("^[a-zA-Z][a-zA-Z0-9_-]*[a-zA-Z0-9_]+$"),
                    );
                }
                object.values_mut().for_each(rewrite);
            }
            Value::Array(items) => items.iter_mut().for_each(rewrite),
            _ => {}
        }
    }
    schemas.values_mut().for_each(rewrite);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_payloads_refer_only_to_schemas_placed_beside_them() {
        let prefix = "#/components/schemas/";
        let mut schemas = definitions(Version::V3_1, prefix);
        schemas.extend(api_definitions(prefix));
        schemas.insert("Paged_Submodel".into(), paged("Submodel", prefix));
        let text = Value::Object(schemas.clone()).to_string();
        let references: Vec<&str> = text
            .split("\"$ref\":\"#/components/schemas/")
            .skip(1)
            .filter_map(|piece| piece.split('"').next())
            .collect();
        assert!(references.contains(&"OperationVariable"), "{references:?}");
        for name in references {
            assert!(
                schemas.contains_key(name),
                "{name} is referred to, not defined"
            );
        }
        let states = &schemas["BaseOperationResult"]["allOf"][1]["properties"]["executionState"];
        assert_eq!(states["enum"].as_array().map(Vec::len), Some(6));
    }

    #[test]
    fn the_embedded_schema_is_json_with_a_definition_of_every_class() {
        let schema: Result<Value, _> = serde_json::from_str(AAS_SCHEMA);
        assert!(schema.is_ok_and(|s| s["definitions"]["Submodel"].is_object()));
        assert!(definitions(Version::V3_0, "#/definitions/").len() > 60);
    }

    #[test]
    fn any_reference_prefix_is_written_verbatim_into_the_references() {
        let prefix = r#"#/odd "quoted" \ prefix/"#;
        let schemas = definitions(Version::V3_1, prefix);
        assert!(
            schemas.len() > 60,
            "a prefix with quotes and backslashes breaks nothing"
        );
        let reference = schemas["Submodel"].to_string();
        assert!(
            reference.contains(
                &serde_json::to_string(&format!("{prefix}Identifiable")).unwrap_or_default()
            ),
            "{reference}"
        );
    }

    #[test]
    fn the_negated_xml_characters_pattern_accepts_exactly_the_same_characters() {
        // Both patterns in Rust's syntax; surrogates are no `char`, so they need no check.
        let given = regex::Regex::new(
            r"^[\x09\x0A\x0D\x20-\x{D7FF}\x{E000}-\x{FFFD}\x{10000}-\x{10FFFF}]$",
        );
        let negated = regex::Regex::new(r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]$");
        let (Ok(given), Ok(negated)) = (given, negated) else {
            panic!("both patterns compile");
        };
        let mut buffer = [0u8; 4];
        let differing: Vec<u32> = (0..=0x10FFFFu32)
            .filter_map(char::from_u32)
            .filter(|c| {
                let text = c.encode_utf8(&mut buffer);
                given.is_match(text) != negated.is_match(text)
            })
            .map(u32::from)
            .collect();
        assert!(differing.is_empty(), "{differing:x?}");
        assert!(XML_CHARACTERS_NEGATED.contains(r"\\uD800-\\uDFFF"));
    }

    #[test]
    fn patterns_are_ecma_262_and_every_reference_resolves_under_the_prefix() {
        let definitions = definitions(Version::V3_0, "#/components/schemas/");
        let text = Value::Object(definitions.clone()).to_string();
        assert!(!text.contains("U0010FFFF") && !text.contains("{,2}"));
        assert!(text.contains("(-[a-zA-Z]{3}){0,2}"));
        assert!(text.contains(&XML_CHARACTERS_NEGATED[1..40]));
        let missing: Vec<&str> = text
            .split("\"$ref\":\"#/components/schemas/")
            .skip(1)
            .filter_map(|piece| piece.split('"').next())
            .filter(|name| !definitions.contains_key(*name))
            .collect();
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn v3_1_makes_role_valid_attributes_optional_and_lengths_longer() {
        let v3_1 = definitions(Version::V3_1, "#/definitions/");
        let v3_0 = definitions(Version::V3_0, "#/definitions/");
        let has_role = |d: &Map<String, Value>| {
            d["AssetKind"]["enum"]
                .as_array()
                .is_some_and(|kinds| kinds.contains(&json!("Role")))
        };
        assert!(has_role(&v3_1) && !has_role(&v3_0));
        let text = |d: &Map<String, Value>| Value::Object(d.clone()).to_string();
        assert!(!text(&v3_1).contains("\"maxLength\":2000"));
        assert!(text(&v3_0).contains("\"maxLength\":2000"));
        let file_required = |d: &Map<String, Value>| d["File"]["allOf"][1]["required"].to_string();
        assert!(!file_required(&v3_1).contains("contentType"));
        assert!(file_required(&v3_0).contains("contentType"));
    }
}
