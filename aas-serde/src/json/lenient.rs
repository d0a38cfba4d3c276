//! The leniency for empty lists ([`without_empty_lists`]), on `serde_json` values (feature
//! `value-only`).

use serde_json::Value;

/// A JSON text with its empty lists (`"specificAssetIds": []`) left out, for a reader that
/// wants to take an empty optional list as absent: a documented leniency, not the strict
/// reading. BaSyx Python 2.1 and 2.2 write an empty list into every Entity, and clients built
/// on them could store no submodel with an Entity on a server that reads strictly. The readers
/// of this module stay strict (an empty list reads as one, which verification reports); a
/// server that applies this to request bodies before reading them (the reference server does)
/// accepts those clients. What is really invalid is still refused: an empty list where one is
/// required (`"keys": []`) is then missing, which the reader reports.
///
/// Only a text with `[` and `]` with nothing but blank space between them is rewritten (the
/// check is a scan; a client that writes no empty list pays nothing more); one that is not
/// JSON, or has an object with a member twice (which `serde_json` would hide by keeping the
/// last one), is returned as it is, so the strict reader reports where it is wrong.
///
/// ```
/// use aas_model::Submodel;
/// use aas_serde::json;
///
/// let body = br#"{"modelType": "Submodel", "id": "urn:x", "submodelElements": []}"#;
/// let submodel: Submodel = json::from_slice(&json::without_empty_lists(body))?;
/// assert_eq!(submodel, Submodel::new("urn:x"));
/// // A duplicate member is left for the strict reader to refuse.
/// let twice = br#"{"id": "urn:x", "id": "urn:y", "submodelElements": []}"#;
/// assert_eq!(&*json::without_empty_lists(twice), &twice[..]);
/// # Ok::<(), json::Error>(())
/// ```
pub fn without_empty_lists(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    // Jumping from `[` to `[` (memchr) rather than looking at every byte: the byte loop was
    // 4 % of the server's CPU for a PUT of 50 KB without any empty list. Linear either way:
    // the blank space after one `[` ends before the next.
    let has_empty_list = memchr::memchr_iter(b'[', body).any(|at| {
        body[at + 1..]
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|&next| next == b']')
    });
    if !has_empty_list {
        return std::borrow::Cow::Borrowed(body);
    }
    // A body with a member twice is left to the strict reader, which refuses it: serde_json
    // would keep the last one and hide the duplicate.
    let Ok(UniqueMembers(mut value)) = serde_json::from_slice::<UniqueMembers>(body) else {
        return std::borrow::Cow::Borrowed(body);
    };
    drop_empty_lists(&mut value);
    match serde_json::to_vec(&value) {
        Ok(rewritten) => std::borrow::Cow::Owned(rewritten),
        Err(_) => std::borrow::Cow::Borrowed(body),
    }
}

/// A JSON value read by serde_json, refused when an object has a member twice.
struct UniqueMembers(Value);

impl<'de> serde::Deserialize<'de> for UniqueMembers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = UniqueMembers;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, v: bool) -> Result<UniqueMembers, E> {
                Ok(UniqueMembers(Value::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<UniqueMembers, E> {
                Ok(UniqueMembers(Value::from(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<UniqueMembers, E> {
                Ok(UniqueMembers(Value::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<UniqueMembers, E> {
                Ok(UniqueMembers(Value::from(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<UniqueMembers, E> {
                Ok(UniqueMembers(Value::from(v)))
            }
            fn visit_string<E>(self, v: String) -> Result<UniqueMembers, E> {
                Ok(UniqueMembers(Value::String(v)))
            }
            fn visit_unit<E>(self) -> Result<UniqueMembers, E> {
                Ok(UniqueMembers(Value::Null))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<UniqueMembers, A::Error> {
                let mut items = Vec::new();
                while let Some(UniqueMembers(item)) = seq.next_element()? {
                    items.push(item);
                }
                Ok(UniqueMembers(Value::Array(items)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<UniqueMembers, A::Error> {
                let mut members = serde_json::Map::new();
                while let Some((key, UniqueMembers(value))) = map.next_entry::<String, _>()? {
                    if members.contains_key(&key) {
                        return Err(serde::de::Error::custom(format!(
                            "duplicate member {key:?}"
                        )));
                    }
                    members.insert(key, value);
                }
                Ok(UniqueMembers(Value::Object(members)))
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

/// Removes every member whose value is an empty array, at every depth (serde_json's parser
/// bounds the depth at 128).
fn drop_empty_lists(value: &mut Value) {
    match value {
        Value::Object(members) => {
            members.retain(|_, member| !matches!(member, Value::Array(items) if items.is_empty()));
            members.values_mut().for_each(drop_empty_lists);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_empty_lists),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    #[test]
    fn empty_lists_go_at_every_depth_and_other_texts_stay_as_sent() {
        let rewritten =
            without_empty_lists(br#"{"a": [ ], "b": [{"c": [], "d": [1]}], "e": "[]"}"#);
        assert_eq!(&*rewritten, br#"{"b":[{"d":[1]}],"e":"[]"}"#);
        // No empty list, not JSON, a member twice: as sent.
        for kept in [
            &br#"{"a": [1]}"#[..],
            b"not json []",
            br#"{"a": [], "a": 1}"#,
        ] {
            assert!(
                matches!(without_empty_lists(kept), Cow::Borrowed(_)),
                "{kept:?}"
            );
        }
    }
}
