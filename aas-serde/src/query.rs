//! The encoded query parameters and path segments of Part 2 (the AAS API, feature
//! `value-only`): identifiers as base64url, the `assetIds` of a shell listing, the
//! `semanticId` of a submodel listing and the selection of `GET /serialization`; the values
//! those filters find an element by ([`FilterKeys`]).
//!
//! ```
//! use aas_serde::query::{asset_id, decode_id, semantic_id};
//!
//! assert_eq!(decode_id("dXJuOmV4OjE")?, "urn:ex:1");
//! assert_eq!(aas_serde::query::encode_id("urn:ex:1"), "dXJuOmV4OjE");
//! // {"name":"serial","value":"42"}
//! let asset = asset_id("eyJuYW1lIjoic2VyaWFsIiwidmFsdWUiOiI0MiJ9")?;
//! assert_eq!(asset, ("serial".to_owned(), "42".to_owned()));
//! assert_eq!(semantic_id("dXJuOnNlbTox")?, Some("urn:sem:1".to_owned()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// Why an encoded identifier does not decode (the two ways base64url text can fail to be an
/// id: exhaustive, so callers can map it onto errors of their own).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The text holds characters outside the base64url alphabet (`A`–`Z`, `a`–`z`, `0`–`9`,
    /// `-`, `_`), or its length is impossible for base64.
    #[error("{encoded:?} is not base64url: {source}")]
    Base64 {
        /// The text as given.
        encoded: String,
        /// Where the decoder stopped and why.
        #[source]
        source: base64::DecodeError,
    },
    /// The text decodes to bytes that are not UTF-8, so to no identifier (identifiers are
    /// strings).
    #[error("{encoded:?} does not decode to UTF-8: {source}")]
    Utf8 {
        /// The text as given.
        encoded: String,
        /// The decoded bytes and where they stop being UTF-8.
        #[source]
        source: std::string::FromUtf8Error,
    },
}

/// Why an `assetIds` value is refused; messages name the parameter, as answers show them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssetIdError {
    /// The value does not decode as an identifier does ([`decode_id`]).
    #[error("assetIds is not base64url: {value:?}")]
    NotBase64Url {
        /// The value as given (one of the comma-separated ones).
        value: String,
        /// Why it does not decode.
        #[source]
        source: IdError,
    },
    /// The value decodes, but not to JSON.
    #[error("assetIds {value:?}: not JSON: {source}")]
    NotJson {
        /// The value as given (still encoded).
        value: String,
        /// The JSON parser's error on the decoded text.
        #[source]
        source: serde_json::Error,
    },
    /// The value's JSON lacks a string `name` or a string `value` (the two attributes of a
    /// SpecificAssetId a listing filters by).
    #[error("assetIds {value:?}: needs name and value")]
    NoNameOrValue {
        /// The value as given (still encoded).
        value: String,
    },
}

/// Why a `semanticId` value is refused.
#[derive(Debug, thiserror::Error)]
#[error("semanticId is not base64url: {value:?}")]
pub struct SemanticIdError {
    value: String,
    #[source]
    source: IdError,
}

/// Why a `GET /serialization` query is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectionError {
    /// An id of `aasIds` or `submodelIds` (the key) is not base64url.
    #[error("{key}: {value:?} is not base64url")]
    NotBase64Url {
        /// The query parameter, `aasIds` or `submodelIds`.
        key: String,
        /// The id as given (one of the comma-separated ones).
        value: String,
        /// Why it does not decode.
        #[source]
        source: IdError,
    },
    /// `includeConceptDescriptions` is neither `true` nor `false` (compared
    /// case-insensitively); the value as given, lowercased.
    #[error("includeConceptDescriptions {0:?} is not true or false")]
    NotABoolean(String),
}

/// What `GET /serialization` selects: `aasIds` and `submodelIds` (repeated or
/// comma-separated, base64url), `includeConceptDescriptions` (default true). Other keys are
/// not the selection's and are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The shells' ids, each once, in the order first named.
    pub shells: Vec<String>,
    /// The submodels' ids, each once, in the order first named.
    pub submodels: Vec<String>,
    /// `includeConceptDescriptions`: whether the environment also holds every concept
    /// description (true when the query does not say).
    pub concept_descriptions: bool,
}

impl Selection {
    /// The selection of a query's decoded `(key, value)` pairs.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, SelectionError> {
        let mut selection = Selection {
            shells: Vec::new(),
            submodels: Vec::new(),
            concept_descriptions: true,
        };
        for (key, value) in pairs {
            let (key, value) = (key.as_ref(), value.as_ref());
            let ids = || -> Result<Vec<String>, SelectionError> {
                (value.split(',').filter(|v| !v.is_empty()))
                    .map(|v| {
                        decode_id(v).map_err(|source| SelectionError::NotBase64Url {
                            key: key.to_owned(),
                            value: v.to_owned(),
                            source,
                        })
                    })
                    .collect()
            };
            match key {
                "aasIds" => selection.shells.extend(ids()?),
                "submodelIds" => selection.submodels.extend(ids()?),
                "includeConceptDescriptions" => {
                    selection.concept_descriptions = match value.to_ascii_lowercase().as_str() {
                        "true" => true,
                        "false" => false,
                        other => return Err(SelectionError::NotABoolean(other.to_owned())),
                    }
                }
                _ => {}
            }
        }
        // Each id once: a URL naming one large submodel thousands of times asked for gigabytes.
        let mut seen = std::collections::HashSet::new();
        selection.shells.retain(|id| seen.insert(id.clone()));
        seen.clear();
        selection.submodels.retain(|id| seen.insert(id.clone()));
        Ok(selection)
    }
}

/// The base64url encoding of an identifier, without padding, as Part 2 puts ids into paths.
pub fn encode_id(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(id)
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

/// The `(name, value)` pairs of one `assetIds` parameter: comma-separated values, each as
/// [`asset_id`] reads it (empty ones are skipped).
pub fn asset_ids(values: &str) -> Result<Vec<(String, String)>, AssetIdError> {
    values
        .split(',')
        .filter(|v| !v.is_empty())
        .map(asset_id)
        .collect()
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

/// The values the Part 2 listing filters find an element by, as (kind, value) pairs: `idShort`
/// (any element); for a shell `asset:globalAssetId` and `asset:<name>` of each specific asset
/// id (`assetIds`); for a submodel `semanticId`, the first key's value of its semantic id and
/// of each supplemental one; for a concept description `isCaseOf` and `dataSpecification`
/// (`dataSpecificationRef`), the first key's value of each. A server keeps them beside an
/// element as an index, computed from the model it writes rather than read back from JSON.
///
/// ```
/// use aas_model::{AssetAdministrationShell, AssetInformation, AssetKind};
/// use aas_serde::query::FilterKeys;
///
/// let mut info = AssetInformation::new(AssetKind::Instance);
/// info.global_asset_id = Some("urn:asset:1".into());
/// let mut shell = AssetAdministrationShell::new("urn:aas:1", info);
/// shell.id_short = Some("Press".into());
/// assert_eq!(shell.filter_keys(), [
///     ("asset:globalAssetId".to_owned(), "urn:asset:1".to_owned()),
///     ("idShort".to_owned(), "Press".to_owned()),
/// ]);
/// ```
pub trait FilterKeys {
    /// The (kind, value) pairs, in the order above; a value once per place it stands.
    fn filter_keys(&self) -> Vec<(String, String)>;
}

/// The value of a reference's first key, what the filters compare with.
fn first_value(reference: &aas_model::Reference) -> Option<String> {
    reference.keys.first().map(|key| key.value.clone())
}

fn with_id_short(
    id_short: &Option<String>,
    mut keys: Vec<(String, String)>,
) -> Vec<(String, String)> {
    keys.extend(
        id_short
            .iter()
            .map(|name| ("idShort".to_owned(), name.clone())),
    );
    keys
}

impl FilterKeys for aas_model::AssetAdministrationShell {
    fn filter_keys(&self) -> Vec<(String, String)> {
        let info = &self.asset_information;
        let global = info.global_asset_id.iter();
        let specific = info.specific_asset_ids.iter().flatten();
        with_id_short(
            &self.id_short,
            global
                .map(|id| ("asset:globalAssetId".to_owned(), id.clone()))
                .chain(specific.map(|a| (format!("asset:{}", a.name), a.value.clone())))
                .collect(),
        )
    }
}

impl FilterKeys for aas_model::Submodel {
    fn filter_keys(&self) -> Vec<(String, String)> {
        let semantic = self.semantic_id.iter();
        let supplemental = self.supplemental_semantic_ids.iter().flatten();
        with_id_short(
            &self.id_short,
            semantic
                .chain(supplemental)
                .filter_map(first_value)
                .map(|value| ("semanticId".to_owned(), value))
                .collect(),
        )
    }
}

impl FilterKeys for aas_model::ConceptDescription {
    fn filter_keys(&self) -> Vec<(String, String)> {
        let cases = self.is_case_of.iter().flatten().filter_map(first_value);
        let specifications = self.embedded_data_specifications.iter().flatten();
        with_id_short(
            &self.id_short,
            cases
                .map(|value| ("isCaseOf".to_owned(), value))
                .chain(
                    specifications
                        .filter_map(|s| first_value(&s.data_specification))
                        .map(|value| ("dataSpecification".to_owned(), value)),
                )
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(text: &str) -> String {
        URL_SAFE_NO_PAD.encode(text)
    }

    #[test]
    fn ids_decode_with_or_without_padding_and_must_be_utf8() {
        assert_eq!(decode_id(&encode_id("urn:x?y")), Ok("urn:x?y".to_owned()));
        assert!(!encode_id("a").contains('='));
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
        let (a, b) = (
            encode(r#"{"name":"a","value":"1"}"#),
            encode(r#"{"name":"b","value":"2"}"#),
        );
        let both = asset_ids(&format!("{a},,{b}")).map_err(|e| e.to_string());
        assert_eq!(
            both,
            Ok(vec![("a".into(), "1".into()), ("b".into(), "2".into())])
        );
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

    #[test]
    fn a_selection_names_each_id_once_and_takes_concept_descriptions_by_default()
    -> Result<(), SelectionError> {
        let (a, b) = (encode("urn:a"), encode("urn:b"));
        let pairs = [
            ("aasIds", format!("{a},{b}")),
            ("aasIds", a.clone()),
            ("other", "x".into()),
        ];
        let selection = Selection::from_pairs(pairs)?;
        assert_eq!(selection.shells, ["urn:a", "urn:b"]);
        assert!(selection.submodels.is_empty());
        assert!(selection.concept_descriptions);
        let without = Selection::from_pairs([("includeConceptDescriptions", "FALSE")])?;
        assert!(!without.concept_descriptions);
        Ok(())
    }

    #[test]
    fn a_selection_refuses_ids_that_are_not_base64url_and_flags_that_are_not_booleans() {
        let refused =
            |pairs: [(&str, &str); 1]| Selection::from_pairs(pairs).map_err(|e| e.to_string());
        assert_eq!(
            refused([("submodelIds", "%%")]),
            Err(r#"submodelIds: "%%" is not base64url"#.to_owned())
        );
        assert_eq!(
            refused([("includeConceptDescriptions", "yes")]),
            Err(r#"includeConceptDescriptions "yes" is not true or false"#.to_owned())
        );
    }
}
