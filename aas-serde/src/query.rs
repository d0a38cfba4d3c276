//! The encoded query parameters and path segments of Part 2 (the AAS API, feature
//! `value-only`): identifiers as base64url, the `assetIds` of a shell listing and the
//! `semanticId` of a submodel listing.
//!
//! ```
//! use aas_serde::query::{asset_id, decode_id, semantic_id};
//!
//! assert_eq!(decode_id("dXJuOmV4OjE")?, "urn:ex:1");
//! // {"name":"serial","value":"42"}
//! let asset = asset_id("eyJuYW1lIjoic2VyaWFsIiwidmFsdWUiOiI0MiJ9")?;
//! assert_eq!(asset, ("serial".to_owned(), "42".to_owned()));
//! assert_eq!(semantic_id("dXJuOnNlbTox")?, Some("urn:sem:1".to_owned()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// Why an encoded identifier does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    #[error("{encoded:?} is not base64url: {source}")]
    Base64 {
        encoded: String,
        #[source]
        source: base64::DecodeError,
    },
    #[error("{encoded:?} does not decode to UTF-8: {source}")]
    Utf8 {
        encoded: String,
        #[source]
        source: std::string::FromUtf8Error,
    },
}

/// Why an `assetIds` value is refused; messages name the parameter, as answers show them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssetIdError {
    #[error("assetIds is not base64url: {value:?}")]
    NotBase64Url {
        value: String,
        #[source]
        source: IdError,
    },
    #[error("assetIds {value:?}: not JSON: {source}")]
    NotJson {
        value: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("assetIds {value:?}: needs name and value")]
    NoNameOrValue { value: String },
}

/// Why a `semanticId` value is refused.
#[derive(Debug, thiserror::Error)]
#[error("semanticId is not base64url: {value:?}")]
pub struct SemanticIdError {
    value: String,
    #[source]
    source: IdError,
}

/// An identifier from its base64url encoding (Part 2: without padding; padding is tolerated,
/// as clients add it).
pub fn decode_id(encoded: &str) -> Result<String, IdError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded.trim_end_matches('='))
        .map_err(|source| IdError::Base64 {
            encoded: encoded.to_owned(),
            source,
        })?;
    String::from_utf8(bytes).map_err(|source| IdError::Utf8 {
        encoded: encoded.to_owned(),
        source,
    })
}

/// The `(name, value)` an `assetIds` value of `GET /shells` asks for: the base64url JSON of a
/// SpecificAssetId (the name `globalAssetId` asks for the shell's global asset id).
pub fn asset_id(value: &str) -> Result<(String, String), AssetIdError> {
    let text = decode_id(value).map_err(|source| AssetIdError::NotBase64Url {
        value: value.to_owned(),
        source,
    })?;
    let json: Value = serde_json::from_str(&text).map_err(|source| AssetIdError::NotJson {
        value: value.to_owned(),
        source,
    })?;
    match (
        json.get("name").and_then(Value::as_str),
        json.get("value").and_then(Value::as_str),
    ) {
        (Some(name), Some(id)) => Ok((name.to_owned(), id.to_owned())),
        _ => Err(AssetIdError::NoNameOrValue {
            value: value.to_owned(),
        }),
    }
}

/// The semantic id a `semanticId` value of `GET /submodels` asks for: the base64url of the id
/// (3.0) or of a Reference's JSON (3.1, its first key's value; `None` for a Reference without
/// keys, which asks for nothing).
pub fn semantic_id(value: &str) -> Result<Option<String>, SemanticIdError> {
    let text = decode_id(value).map_err(|source| SemanticIdError {
        value: value.to_owned(),
        source,
    })?;
    if let Ok(reference) = crate::json::from_str::<aas_model::Reference>(&text) {
        return Ok(reference.keys.first().map(|k| k.value.clone()));
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(text: &str) -> String {
        URL_SAFE_NO_PAD.encode(text)
    }

    #[test]
    fn ids_decode_with_or_without_padding_and_must_be_utf8() {
        assert_eq!(decode_id("YQ"), Ok("a".to_owned()));
        assert_eq!(decode_id("YQ=="), Ok("a".to_owned()));
        assert!(matches!(decode_id("a+b/"), Err(IdError::Base64 { .. })));
        assert!(matches!(decode_id("_w"), Err(IdError::Utf8 { .. })));
    }

    #[test]
    fn an_asset_id_needs_base64url_json_with_name_and_value() {
        let message = |v: &str| asset_id(v).err().map(|e| e.to_string());
        assert_eq!(
            message("%%").as_deref(),
            Some(r#"assetIds is not base64url: "%%""#)
        );
        assert!(message(&encode("{")).is_some_and(|m| m.contains(": not JSON: ")));
        let unnamed = encode(r#"{"value": "42"}"#);
        assert_eq!(
            message(&unnamed),
            Some(format!("assetIds {unnamed:?}: needs name and value"))
        );
    }

    #[test]
    fn a_semantic_id_is_an_id_or_the_first_key_of_a_reference() -> Result<(), SemanticIdError> {
        assert_eq!(semantic_id(&encode("urn:sem"))?, Some("urn:sem".to_owned()));
        let reference = r#"{"type": "ExternalReference",
            "keys": [{"type": "GlobalReference", "value": "urn:sem:2"}]}"#;
        assert_eq!(
            semantic_id(&encode(reference))?,
            Some("urn:sem:2".to_owned())
        );
        assert!(semantic_id("%%").is_err());
        Ok(())
    }
}
