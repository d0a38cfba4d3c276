//! The JSON Schema of push-core's payloads, for API documents ([`json_schemas`]).

use serde_json::{Map, Value, json};

/// The JSON Schemas of the payloads users send and read: `PushTarget` (a [`TargetConfig`]'s
/// JSON, the secrets as answers redact them) and `PushTargets`, `PushRequest`
/// ([`PushRequest`]) and `PushJob` ([`PushJob`], with its metadata), with references to each
/// other written as `ref_prefix` and the name (`#/components/schemas/` in an OpenAPI document).
/// They live beside the serde types they describe, so that both change together.
///
/// [`TargetConfig`]: crate::TargetConfig
/// [`PushRequest`]: crate::PushRequest
/// [`PushJob`]: crate::PushJob
pub fn json_schemas(ref_prefix: &str) -> Map<String, Value> {
    let mut schemas = Map::new();
    let sas = json!({"type": "string", "description": "Container SAS URL (answers show sig=***)"});
    schemas.insert("PushTarget".into(), json!({"type": "object", "required": ["type", "configuration"], "properties": {
        "name": {"type": "string"},
        "type": {"type": "string", "enum": ["azure-blob-storage", "local-directory", "s3"]},
        "configuration": {"type": "object", "properties": {
            "blobSasUrl": sas, "blobContainerSasUrl": sas, "path": {"type": "string"},
            "bucket": {"type": "string"}, "region": {"type": "string"}, "endpoint": {"type": "string"},
            "accessKeyId": {"type": "string"}, "secretAccessKey": {"type": "string"}}}}}));
    schemas.insert(
        "PushTargets".into(),
        json!({"type": "array", "items": {"$ref": format!("{ref_prefix}PushTarget")}}),
    );
    let formats = json!({"type": "string", "enum": ["application/json", "application/xml",
        "application/asset-administration-shell-package+json", "application/asset-administration-shell-package+xml"]});
    let ids = json!({"type": "array", "items": {"type": "string"}});
    let aas_version = json!({"type": "string", "enum": ["3.0", "3.1"],
        "description": "The AAS version written (default: the engine's version, a server's aas-version); elements are converted to it"});
    let allow_loss = json!({"type": "boolean",
        "description": "Write even when the conversion to aasVersion loses something (metadata.conversion lists it); without it such a job fails"});
    schemas.insert("PushRequest".into(), json!({"type": "object", "required": ["pushTargetName", "serializationFormat"], "properties": {
        "pushTargetName": {"type": "string"}, "serializationFormat": formats, "shellIds": ids, "submodelIds": ids,
        "includeConceptDescriptions": {"type": "boolean"}, "blobName": {"type": "string"},
        "aasVersion": aas_version, "allowLoss": allow_loss}}));
    schemas.insert("PushJob".into(), json!({"type": "object", "required": ["identifier", "state", "createdOn", "updatedOn"], "properties": {
        "identifier": {"type": "string"}, "state": {"type": "string", "enum": ["processing", "completed", "failed"]},
        "createdOn": {"type": "string", "format": "date-time"}, "updatedOn": {"type": "string", "format": "date-time"},
        "message": {"type": "string"}, "pushTargetName": {"type": "string"}, "serializationFormat": formats,
        "shellIds": ids, "submodelIds": ids, "includeConceptDescriptions": {"type": "boolean"}, "blobName": {"type": "string"},
        "aasVersion": aas_version, "allowLoss": allow_loss,
        "metadata": {"type": "object", "properties": {
            "uploads": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "size": {"type": "integer"}, "eTag": {"type": "string"}, "contentType": {"type": "string"}}}},
            "durationMs": {"type": "integer"}, "shells": {"type": "integer"}, "submodels": {"type": "integer"},
            "conceptDescriptions": {"type": "integer"}, "aasVersion": {"type": "string", "enum": ["3.0", "3.1"]},
            "conversion": {"type": "array", "items": {"type": "string"}}}}}}));
    schemas
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PushJob, PushRequest};

    /// Every member a job's JSON has is in the schema, and the schema's references resolve.
    #[test]
    fn a_jobs_json_has_only_members_the_schema_describes() -> Result<(), Box<dyn std::error::Error>>
    {
        let schemas = json_schemas("#/components/schemas/");
        let request: PushRequest = serde_json::from_str(
            r#"{"pushTargetName": "t", "serializationFormat": "application/json",
                "submodelIds": ["urn:x"], "aasVersion": "3.0", "allowLoss": true}"#,
        )?;
        let job = serde_json::to_value(PushJob::new(request.clone()))?;
        for (name, value) in [
            ("PushJob", job),
            ("PushRequest", serde_json::to_value(request)?),
        ] {
            let properties = &schemas[name]["properties"];
            for member in value.as_object().ok_or("not an object")?.keys() {
                assert!(properties.get(member).is_some(), "{name}.{member}");
            }
        }
        assert_eq!(
            schemas["PushTargets"]["items"]["$ref"],
            "#/components/schemas/PushTarget"
        );
        Ok(())
    }
}
