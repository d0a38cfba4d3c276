//! The JSON Schema of sdt-core's payloads, for API documents ([`json_schemas`]).

use serde_json::{Map, Value, json};

/// The JSON Schemas of the payloads users send and read: the playground's `Evaluation`
/// ([`Evaluation`](crate::Evaluation)) and `DryRun` ([`DryRunRequest`](crate::DryRunRequest))
/// with their results (`EvaluationResult`, `DryRunResult`), `Platform` (and `Platforms`),
/// `TwinBinding` ([`TwinRecord`](crate::TwinRecord); credentials write-only, and
/// `TwinBindings`) and `AclStatements` ([`acl_statements`](crate::acl_statements)), with
/// references to each other written as `ref_prefix` and the name (`#/components/schemas/` in
/// an OpenAPI document). They live beside the serde types they describe, so that both change
/// together.
pub fn json_schemas(ref_prefix: &str) -> Map<String, Value> {
    let mut schemas = Map::new();
    schemas.insert("Evaluation".into(), json!({"type": "object", "required": ["kind"], "properties": {
        "kind": {"type": "string", "enum": ["jsonpath", "format", "mustache", "json_mustache"]},
        "doc": {}, "path": {"type": "string"}, "template": {"type": "string"}, "vars": {"type": "object"}}}));
    schemas.insert("DryRun".into(), json!({"type": "object", "required": ["description", "sample"], "properties": {
        "description": {"type": "object", "properties": {"iot_attributes": {"type": "array"}, "thingin_attributes": {"type": "array"}}},
        "sample": {}}}));
    schemas.insert("Platform".into(), json!({"type": "object", "required": ["name", "base_url", "authentication"], "properties": {
        "name": {"type": "string"}, "description": {"type": "string"}, "base_url": {"type": "string"},
        "data_get_prefix": {"type": "string"}, "data_get_suffix": {"type": "string"},
        "command_prefix": {"type": "string"}, "command_suffix": {"type": "string"},
        "authentication": {"type": "string", "enum": ["none", "api_key", "login_password"]},
        "token_header": {"type": "string"}, "auth_path": {"type": "string"}, "auth_template": {"type": "string"},
        "auth_response": {"type": "string"}, "auth_headers": {"type": "object"}}}));
    schemas.insert("TwinBinding".into(), json!({"type": "object", "required": ["submodel_id", "platform", "uuid_on_platform", "synchronization"], "properties": {
        "submodel_id": {"type": "string"}, "platform": {"type": "string"}, "uuid_on_platform": {"type": "string"},
        "command_id_on_platform": {"type": "string"}, "type": {"type": "string"}, "description": {"type": "string"},
        "api_key": {"type": "string", "writeOnly": true}, "login": {"type": "string", "writeOnly": true},
        "password": {"type": "string", "writeOnly": true},
        "synchronization": {"type": "object", "properties": {"iot_attributes": {"type": "array"}, "thingin_attributes": {"type": "array"}}}}}));
    schemas.insert("EvaluationResult".into(), json!({"type": "object", "required": ["result"],
        "properties": {"result": {"description": "Every JSONPath match in order (array), the rendered string, or the JSON value of json_mustache"}}}));
    schemas.insert("DryRunResult".into(), json!({"type": "object", "required": ["variables", "values", "skipped"], "properties": {
        "variables": {"type": "object", "description": "Each iot_attribute's value extracted from the sample"},
        "values": {"type": "object", "description": "Each data property's rendered value"},
        "skipped": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Why a property got no value"}}}));
    let statement = json!({"type": "object", "required": ["condition", "rules"], "properties": {
        "condition": {"type": "object"},
        "rules": {"type": "array", "items": {"type": "object", "required": ["effect", "action", "resources"], "properties": {
            "effect": {"type": "string", "enum": ["allow", "deny"]},
            "action": {"type": "array", "items": {"type": "string", "enum": ["Read", "Update", "Delete", "Create", "Execute"]}},
            "resources": {"type": "array", "items": {"type": "string"}}}}}}});
    schemas.insert(
        "AclStatements".into(),
        json!({"type": "array", "items": statement}),
    );
    schemas.insert(
        "Platforms".into(),
        json!({"type": "array", "items": {"$ref": format!("{ref_prefix}Platform")}}),
    );
    schemas.insert(
        "TwinBindings".into(),
        json!({"type": "array", "items": {"$ref": format!("{ref_prefix}TwinBinding")}}),
    );
    schemas
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TwinRecord;

    /// Every member a binding's JSON has is in the schema, and the schema's references resolve.
    #[test]
    fn a_bindings_json_has_only_members_the_schema_describes()
    -> Result<(), Box<dyn std::error::Error>> {
        let schemas = json_schemas("#/components/schemas/");
        let record = TwinRecord::from_json(
            br#"{"submodel_id": "urn:sm:1", "platform": "p", "uuid_on_platform": "d",
                 "synchronization": {"iot_attributes": [], "thingin_attributes": []}}"#,
            None,
        )?;
        let properties = &schemas["TwinBinding"]["properties"];
        for member in (serde_json::to_value(record)?
            .as_object()
            .ok_or("not an object")?)
        .keys()
        {
            assert!(properties.get(member).is_some(), "TwinBinding.{member}");
        }
        for (list, item) in [("Platforms", "Platform"), ("TwinBindings", "TwinBinding")] {
            let reference = format!("#/components/schemas/{item}");
            assert_eq!(schemas[list]["items"]["$ref"], reference.as_str());
            assert!(schemas.contains_key(item));
        }
        Ok(())
    }
}
