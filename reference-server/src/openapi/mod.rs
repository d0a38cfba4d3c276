//! The server's OpenAPI 3.1 document (`/openapi.json`, shown by Swagger UI at
//! `/swagger/index.html`): every route with its parameters, request body and responses.
//!
//! Operations are built with utoipa's builders from the route table the router is built from
//! (`crate::http::routes`); the schemas of the AAS classes are the AAS JSON Schema of the
//! server's version (`aas_serde::json_schema`: aas-core3.0-testgen's V3.0 schema, with V3.1's
//! changes for a server of AAS V3.1), placed under `components/schemas`. The document names its version in
//! `info.description` and `info.x-aas-version`.

use aas_serde::json_schema;
use serde_json::{Value, json};

use crate::http::routes::{Route, SDT_TAG, operations};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, OpenApiBuilder, Paths, Ref, Required, ResponseBuilder,
};

fn parameter_description(name: &str) -> &'static str {
    match name {
        "aas" => "The shell's id, base64url-encoded",
        "sm" => "The submodel's id, base64url-encoded",
        "cd" => "The concept description's id, base64url-encoded",
        "path" => "idShort path, URL-encoded (e.g. Group.List%5B0%5D)",
        "limit" => "Most results in a page (at least 1)",
        "cursor" => "Where the page starts (from paging_metadata.cursor)",
        "level" => "deep (default) or core",
        "extent" => "withoutBlobValue (default) or withBlobValue",
        "aasIds" | "submodelIds" => "Ids, base64url-encoded (repeated or comma-separated)",
        "assetIds" => "base64url of a SpecificAssetId's JSON (repeated: all must match)",
        "semanticId" | "isCaseOf" | "dataSpecificationRef" => {
            "base64url of an id or of a Reference's JSON"
        }
        "includeConceptDescriptions" => "true (default) or false",
        "idShort" => "Only elements with this idShort",
        "name" => "The push target's name",
        "identifier" => "The push job's identifier",
        "twin" => "The bound submodel's id, base64url-encoded",
        "since" => "RFC 3339 date and time with offset: events at or after it",
        "sequence" => "The dead letter's sequence number",
        "handleId" => "The handle of an asynchronous invocation (from invoke-async)",
        "async" => "true: invoke asynchronously (V3.0, deprecated; as invoke-async)",
        _ => "",
    }
}

fn parameter_schema(name: &str) -> Value {
    match name {
        "limit" => json!({"type": "integer", "minimum": 1}),
        "level" => json!({"type": "string", "enum": ["deep", "core"]}),
        "extent" => json!({"type": "string", "enum": ["withoutBlobValue", "withBlobValue"]}),
        "includeConceptDescriptions" | "async" => json!({"type": "boolean"}),
        "since" => json!({"type": "string", "format": "date-time"}),
        "aasIds" | "submodelIds" | "assetIds" => {
            json!({"type": "array", "items": {"type": "string"}})
        }
        _ => json!({"type": "string"}),
    }
}

fn method_name(method: &HttpMethod) -> &'static str {
    match method {
        HttpMethod::Get => "get",
        HttpMethod::Post => "post",
        HttpMethod::Put => "put",
        HttpMethod::Patch => "patch",
        HttpMethod::Delete => "delete",
        _ => "other",
    }
}

fn schema_ref(name: &str) -> Ref {
    Ref::from_schema_name(name)
}

fn content(name: &str) -> (String, utoipa::openapi::Content) {
    let media = match name {
        "Bytes" => aas_serde::OCTET_STREAM,
        "Multipart" => "multipart/form-data",
        _ => "application/json",
    };
    let schema = match name
        .strip_prefix("Paged<")
        .and_then(|n| n.strip_suffix('>'))
    {
        Some(item) => schema_ref(&format!("Paged_{item}")),
        None => schema_ref(name),
    };
    (
        media.to_owned(),
        ContentBuilder::new().schema(Some(schema)).build(),
    )
}

fn operation(
    route: &Route,
    full_path: &str,
    version: aas_model::Version,
) -> utoipa::openapi::path::Operation {
    let mut builder = OperationBuilder::new()
        .summary(Some(route.summary))
        .tag(route.tag)
        .operation_id(Some(format!(
            "{}{}",
            method_name(&route.method),
            full_path.replace(['/', '{', '}', '$', '-'], "_")
        )));
    for name in full_path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
    {
        builder = builder.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(parameter_description(name)))
                .schema(Some(schema_ref(match name {
                    "aas" | "sm" | "cd" | "twin" => "Base64UrlId",
                    _ => "String",
                }))),
        );
    }
    for name in route.query {
        builder = builder.parameter(
            ParameterBuilder::new()
                .name(*name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(parameter_description(name)))
                .schema(Some(schema_ref(&format!("Query_{name}")))),
        );
    }
    if let Some(body) = route.body {
        let (media, content) = content(body);
        builder = builder.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(media, content)
                .build(),
        ));
    }
    // The other success answers are Part 2 V3.1's (see `Route::more`).
    let more = if crate::http::answers_created(version) {
        route.more
    } else {
        &[]
    };
    for (code, answer) in std::iter::once(&route.answer).chain(more) {
        let mut success = ResponseBuilder::new().description(match code {
            201 => "Created",
            _ => "Success",
        });
        if let Some(name) = answer {
            let (media, content) = content(name);
            success = success.content(media, content);
            // `/serialization` answers what `Accept` asks for: XML and AASX besides JSON.
            if *name == "Environment" {
                for media in [
                    "application/xml",
                    "application/asset-administration-shell-package+xml",
                ] {
                    let bytes = ContentBuilder::new().schema(Some(schema_ref("Bytes")));
                    success = success.content(media, bytes.build());
                }
            }
        }
        builder = builder.response(code.to_string(), success.build());
    }
    for (code, why) in [
        (
            "400",
            "Bad request: malformed id, path, parameter or body; verification findings",
        ),
        ("401", "No or an unknown API key"),
        ("403", "The API key's role may not do this"),
        ("404", "Not found"),
        ("409", "Conflict: the id or idShort exists"),
    ] {
        // The SDT API answers errors as `{"error": ...}` (its contract), the rest as Part 2.
        let error = if route.tag == SDT_TAG {
            "SdtError"
        } else {
            "Result"
        };
        let (media, content) = content(error);
        builder = builder.response(
            code,
            ResponseBuilder::new()
                .description(why)
                .content(media, content)
                .build(),
        );
    }
    builder.build()
}

/// Where the schemas are placed, as references name them.
const PREFIX: &str = "#/components/schemas/";

/// The schemas: the AAS JSON Schema's definitions (with V3.1's changes for `version` 3.1), the
/// Part 2 result, operation payloads and pages (aas-serde's), the server's own payloads, and
/// the parameters' types.
fn schemas(version: aas_model::Version) -> serde_json::Map<String, Value> {
    let mut schemas = json_schema::definitions(version, PREFIX);
    // Part 2's own payloads (results, service descriptions, operation invocation).
    schemas.extend(json_schema::api_definitions(PREFIX));
    schemas.insert("Value".into(), json!({}));
    schemas.insert("String".into(), json!({"type": "string"}));
    schemas.insert(
        "Strings".into(),
        json!({"type": "array", "items": {"type": "string"}}),
    );
    schemas.insert(
        "Bytes".into(),
        json!({"type": "string", "format": "binary"}),
    );
    schemas.insert(
        "Multipart".into(),
        json!({"type": "object", "required": ["file"], "properties": {
        "fileName": {"type": "string"}, "file": {"type": "string", "format": "binary"}}}),
    );
    // sdt-core's payloads (the playground, platforms, bindings, access statements).
    schemas.extend(sdt_core::json_schemas(PREFIX));
    schemas.insert(
        "SdtError".into(),
        json!({"type": "object", "required": ["error"],
        "properties": {"error": {"type": "string", "description": "What is wrong"}}}),
    );
    // push-core's payloads (targets, requests, jobs).
    schemas.extend(push_core::json_schemas(PREFIX));
    schemas.insert("FeedEvent".into(), json!({"type": "object",
        "required": ["sequence", "topic", "timestamp", "referenceOnly", "message"], "properties": {
        "sequence": {"type": "integer", "description": "Increasing in commit order; stable"},
        "topic": {"type": "string", "description": "The MQTT topic it was published on"},
        "timestamp": {"type": "string", "format": "date-time", "description": "The event's time (what since compares with)"},
        "referenceOnly": {"type": "boolean", "description": "Too large for the transport: subscribers received its reference-only message"},
        "message": {"description": "The complete message, decoded: the twinsphere envelope expanded from gzip, or the CloudEvent"},
        "error": {"type": "string", "description": "Why the message could not be decoded (message is then null)"}}}));
    schemas.insert("DeadLetter".into(), json!({"type": "object",
        "required": ["sequence", "topic", "attempts", "error", "failedAt", "size"], "properties": {
        "sequence": {"type": "integer", "description": "What the retry route takes"},
        "eventSequence": {"type": ["integer", "null"], "description": "The event in the feed, if it is still there"},
        "topic": {"type": "string"}, "attempts": {"type": "integer"},
        "error": {"type": "string", "description": "Why it was given up"},
        "failedAt": {"type": "string", "format": "date-time"},
        "size": {"type": "integer", "description": "The message's size, bytes"}}}));
    for item in [
        "FeedEvent",
        "DeadLetter",
        "AssetAdministrationShell",
        "Submodel",
        "ConceptDescription",
        "Reference",
        "SubmodelElement_choice",
        "Value",
        "String",
        "PushJob",
    ] {
        schemas.insert(format!("Paged_{item}"), json_schema::paged(item, PREFIX));
    }
    for (_, _, route) in operations() {
        for name in route.query {
            schemas.insert(format!("Query_{name}"), parameter_schema(name));
        }
    }
    schemas
}

/// The whole document as served for `version`, made once (it holds the AAS JSON Schema:
/// building it costs more than most requests).
pub fn document_json(version: aas_model::Version) -> axum::body::Bytes {
    type Made = std::sync::LazyLock<axum::body::Bytes>;
    static V3_0: Made = Made::new(|| made(aas_model::Version::V3_0));
    static V3_1: Made = Made::new(|| made(aas_model::Version::V3_1));
    fn made(version: aas_model::Version) -> axum::body::Bytes {
        serde_json::to_vec(&document(version))
            .unwrap_or_default()
            .into()
    }
    match version {
        aas_model::Version::V3_0 => V3_0.clone(),
        _ => V3_1.clone(),
    }
}

/// The whole document for a server of `version`.
pub fn document(version: aas_model::Version) -> Value {
    let mut paths = Paths::new();
    for (_, path, route) in operations() {
        paths.add_path_operation(
            &path,
            vec![route.method.clone()],
            operation(route, &path, version),
        );
    }
    let openapi = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("aas-rs reference server")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(format!(
                    "AAS V{version} repository (IDTA-01002 Part 2; metamodel IDTA-01001 \
                     V{version}: bodies are read, verified and written as AAS {version}, the \
                     server's `aas-version`; 3.0 and 3.1 are supported) with change events \
                     over MQTT and an event feed (`/events`) to catch up on them. \
                     Ids in paths are base64url-encoded. With API keys configured, send \
                     `Authorization: Bearer <key>`."
                )))
                .build(),
        )
        .paths(paths)
        .build();
    let mut document = serde_json::to_value(&openapi).unwrap_or_default();
    document["components"] = json!({
        "schemas": schemas(version),
        "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
    });
    document["security"] = json!([{"apiKey": []}, {}]);
    document["info"]["x-aas-version"] = json!(version.as_str());
    document
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_3_1_document_carries_v3_1s_changes_and_a_3_0_document_v3_0s_schema() {
        let v3_1 = document(aas_model::Version::V3_1);
        let v3_0 = document(aas_model::Version::V3_0);
        let schemas = |d: &Value| d["components"]["schemas"].clone();
        assert_eq!(v3_1["info"]["x-aas-version"], "3.1");
        assert_eq!(v3_0["info"]["x-aas-version"], "3.0");
        assert!(
            v3_1["info"]["description"]
                .as_str()
                .is_some_and(|d| d.starts_with("AAS V3.1 repository"))
        );
        assert!(
            schemas(&v3_1)["AssetKind"]["enum"]
                .as_array()
                .is_some_and(|kinds| kinds.contains(&json!("Role")))
        );
        assert!(
            !schemas(&v3_0)["AssetKind"]["enum"]
                .as_array()
                .is_some_and(|kinds| kinds.contains(&json!("Role")))
        );
        let v3_1_text = v3_1.to_string();
        assert!(!v3_1_text.contains("\"maxLength\":2000"));
        assert!(v3_0.to_string().contains("\"maxLength\":2000"));
        let file_required = schemas(&v3_1)["File"]["allOf"][1]["required"].to_string();
        assert!(!file_required.contains("contentType"), "{file_required}");
        let file_required = schemas(&v3_0)["File"]["allOf"][1]["required"].to_string();
        assert!(file_required.contains("contentType"), "{file_required}");
    }

    #[test]
    fn every_reference_in_the_document_resolves() {
        let document = document(aas_model::Version::V3_0);
        assert_eq!(document["openapi"], "3.1.0");
        let text = document.to_string();
        let schemas = &document["components"]["schemas"];
        let mut missing = Vec::new();
        for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap_or_default();
            if schemas.get(name).is_none() {
                missing.push(name.to_owned());
            }
        }
        assert!(missing.is_empty(), "{missing:?}");
        assert!(document["paths"]["/shells/{aas}/submodels/{sm}/submodel-elements/{path}/$value"]["patch"].is_object());
        assert!(document["paths"]["/events"]["get"]["parameters"].is_array());
        assert!(document["paths"]["/events/dead-letters/{sequence}/retry"]["post"].is_object());
        assert!(
            !text.contains("U0010FFFF"),
            "the XML characters' pattern is rewritten"
        );
        assert_eq!(text.matches(r"^[^\\x00-\\x08\\x0B\\x0C").count(), 33);
        assert!(!text.contains("{,2}") && text.contains("(-[a-zA-Z]{3}){0,2}"));
    }
}
