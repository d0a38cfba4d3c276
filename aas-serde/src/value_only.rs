//! The ValueOnly JSON of submodel elements (IDTA Part 2 `$value`): only the values, keyed by
//! idShort, typed as the table "Mapping of Data Types in ValueOnly" says — booleans and
//! numbers as JSON booleans and numbers, everything else as strings.
//!
//! ```
//! use aas_model::{DataTypeDefXsd, Property, SubmodelElement};
//! use aas_serde::value_only;
//!
//! let mut speed = Property::new(DataTypeDefXsd::Double).with_id_short("Speed");
//! speed.value = Some("5000".into());
//! let mut element = SubmodelElement::from(speed);
//! assert_eq!(value_only::to_value(&element, false), Some(serde_json::json!(5000)));
//!
//! value_only::apply(&mut element, &serde_json::json!(4200.5))?;
//! assert!(matches!(&element, SubmodelElement::Property(p) if p.value.as_deref() == Some("4200.5")));
//! # Ok::<(), value_only::ValueOnlyError>(())
//! ```
//!
//! Numbers outside what `serde_json` holds without its `arbitrary_precision` feature (beyond
//! `u64`/`i64` integers and `f64`) are written as strings rather than rounded.

use std::str::FromStr;

use aas_model::{DataTypeDefXsd, EntityType, LangString, Reference, Submodel, SubmodelElement};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

/// Why a ValueOnly value does not fit an element.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ValueOnlyError {
    /// Where in the value, as a JSON path (`$.Group.Count`).
    pub path: String,
    /// What does not fit, e.g. `expected an object` or `no element with this idShort`.
    pub message: String,
}

/// ValueOnly JSON nested deeper than this (arrays and objects) is refused by [`from_slice`]
/// before it is parsed: `serde_json`'s own limit, so that the error says what is wrong.
/// [`apply`] and [`to_value`] recurse along the element tree, as deep as the model (which
/// the JSON and XML readers bound).
pub const MAX_DEPTH: usize = 127;

/// Reads a ValueOnly JSON value (a request body), refusing nesting deeper than
/// [`MAX_DEPTH`] with an error naming the limit; the scan is one pass without recursion.
pub fn from_slice(bytes: &[u8]) -> Result<Value, ValueOnlyError> {
    if let Some(at) = crate::json::first_deeper_than(bytes, MAX_DEPTH) {
        return Err(error(
            "$",
            format!("nested deeper than {MAX_DEPTH} levels (at byte {at}; value_only::MAX_DEPTH)"),
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| error("$", format!("not JSON: {e}")))
}

fn error(path: &str, message: impl Into<String>) -> ValueOnlyError {
    ValueOnlyError {
        path: path.to_owned(),
        message: message.into(),
    }
}

/// The ValueOnly value of a submodel: an object keyed by the idShorts of its elements.
pub fn submodel_value(submodel: &Submodel, with_blob_value: bool) -> Value {
    Value::Object(named_values(
        submodel.submodel_elements.iter().flatten(),
        with_blob_value,
    ))
}

fn named_values<'a>(
    elements: impl IntoIterator<Item = &'a SubmodelElement>,
    with_blob_value: bool,
) -> Map<String, Value> {
    elements
        .into_iter()
        .filter_map(|element| {
            let id_short = element.id_short()?;
            Some((id_short.to_owned(), to_value(element, with_blob_value)?))
        })
        .collect()
}

fn is_boolean(value_type: DataTypeDefXsd) -> bool {
    value_type == DataTypeDefXsd::Boolean
}

fn is_number(value_type: DataTypeDefXsd) -> bool {
    use DataTypeDefXsd as T;
    matches!(
        value_type,
        T::Decimal
            | T::Double
            | T::Float
            | T::Integer
            | T::Long
            | T::Int
            | T::Short
            | T::Byte
            | T::NegativeInteger
            | T::NonNegativeInteger
            | T::NonPositiveInteger
            | T::PositiveInteger
            | T::UnsignedLong
            | T::UnsignedInt
            | T::UnsignedShort
            | T::UnsignedByte
    )
}

/// A lexical value as ValueOnly types it.
fn typed(value_type: DataTypeDefXsd, lexical: &str) -> Value {
    if is_boolean(value_type) {
        match lexical {
            "true" | "1" => return Value::Bool(true),
            "false" | "0" => return Value::Bool(false),
            _ => {}
        }
    } else if is_number(value_type) {
        // xs:decimal allows `+1`, `.5` and `5.`: JSON does not.
        let trimmed = lexical.strip_prefix('+').unwrap_or(lexical);
        let mut normal = String::with_capacity(trimmed.len() + 2);
        let (sign, digits) = match trimmed.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", trimmed),
        };
        normal.push_str(sign);
        if digits.starts_with('.') {
            normal.push('0');
        }
        normal.push_str(digits);
        if normal.ends_with('.') {
            normal.push('0');
        }
        let integer_text = normal
            .trim_start_matches('-')
            .bytes()
            .all(|b| b.is_ascii_digit());
        if let Ok(number) = serde_json::Number::from_str(&normal) {
            // An integer beyond 64 bits would come back rounded: its text is kept instead.
            if !(integer_text && number.is_f64()) {
                return Value::Number(number);
            }
        }
    }
    Value::String(lexical.to_owned())
}

fn reference_value(reference: &Reference) -> Value {
    serde_json::from_slice(&crate::json::to_vec(reference)).unwrap_or(Value::Null)
}

fn lang_strings(strings: &[LangString]) -> Value {
    Value::Array(
        strings
            .iter()
            .map(|s| {
                let mut object = Map::new();
                object.insert(s.language.clone(), Value::String(s.text.clone()));
                Value::Object(object)
            })
            .collect(),
    )
}

/// The ValueOnly value of one element; `None` for elements that have none (operations,
/// capabilities) and data elements without a value inside containers.
pub fn to_value(element: &SubmodelElement, with_blob_value: bool) -> Option<Value> {
    Some(match element {
        SubmodelElement::Property(p) => typed(p.value_type, p.value.as_deref()?),
        SubmodelElement::MultiLanguageProperty(p) => lang_strings(p.value.as_deref()?),
        SubmodelElement::Range(r) => {
            let mut object = Map::new();
            if let Some(min) = &r.min {
                object.insert("min".into(), typed(r.value_type, min));
            }
            if let Some(max) = &r.max {
                object.insert("max".into(), typed(r.value_type, max));
            }
            Value::Object(object)
        }
        SubmodelElement::ReferenceElement(r) => reference_value(r.value.as_ref()?),
        SubmodelElement::File(f) => {
            let mut object = Map::new();
            if let Some(content_type) = &f.content_type {
                object.insert("contentType".into(), Value::String(content_type.clone()));
            }
            if let Some(value) = &f.value {
                object.insert("value".into(), Value::String(value.clone()));
            }
            Value::Object(object)
        }
        SubmodelElement::Blob(b) => {
            let mut object = Map::new();
            if let Some(content_type) = &b.content_type {
                object.insert("contentType".into(), Value::String(content_type.clone()));
            }
            if let (true, Some(value)) = (with_blob_value, &b.value) {
                object.insert("value".into(), Value::String(STANDARD.encode(value)));
            }
            Value::Object(object)
        }
        SubmodelElement::SubmodelElementCollection(c) => {
            Value::Object(named_values(c.value.iter().flatten(), with_blob_value))
        }
        SubmodelElement::SubmodelElementList(l) => Value::Array(
            l.value
                .iter()
                .flatten()
                .filter_map(|e| to_value(e, with_blob_value))
                .collect(),
        ),
        SubmodelElement::Entity(e) => {
            let mut object = Map::new();
            object.insert(
                "statements".into(),
                Value::Object(named_values(e.statements.iter().flatten(), with_blob_value)),
            );
            if let Some(entity_type) = e.entity_type {
                object.insert(
                    "entityType".into(),
                    Value::String(entity_type.as_str().into()),
                );
            }
            if let Some(id) = &e.global_asset_id {
                object.insert("globalAssetId".into(), Value::String(id.clone()));
            }
            if let Some(ids) = &e.specific_asset_ids {
                let json: Value =
                    serde_json::from_slice(&crate::json::to_vec(ids)).unwrap_or(Value::Null);
                object.insert("specificAssetIds".into(), json);
            }
            Value::Object(object)
        }
        SubmodelElement::RelationshipElement(r) => {
            let mut object = Map::new();
            if let Some(first) = &r.first {
                object.insert("first".into(), reference_value(first));
            }
            if let Some(second) = &r.second {
                object.insert("second".into(), reference_value(second));
            }
            Value::Object(object)
        }
        SubmodelElement::AnnotatedRelationshipElement(r) => {
            let mut object = Map::new();
            if let Some(first) = &r.first {
                object.insert("first".into(), reference_value(first));
            }
            if let Some(second) = &r.second {
                object.insert("second".into(), reference_value(second));
            }
            let annotations: Vec<SubmodelElement> = r
                .annotations
                .iter()
                .flatten()
                .cloned()
                .map(SubmodelElement::from)
                .collect();
            object.insert(
                "annotations".into(),
                Value::Array(
                    named_values(annotations.iter(), with_blob_value)
                        .into_iter()
                        .map(|(k, v)| Value::Object(Map::from_iter([(k, v)])))
                        .collect(),
                ),
            );
            Value::Object(object)
        }
        SubmodelElement::BasicEventElement(e) => {
            let mut object = Map::new();
            object.insert("observed".into(), reference_value(&e.observed));
            Value::Object(object)
        }
        SubmodelElement::Operation(_) | SubmodelElement::Capability(_) => return None,
    })
}

/// Sets the values of a submodel's elements from an object keyed by idShort.
pub fn apply_to_submodel(submodel: &mut Submodel, value: &Value) -> Result<(), ValueOnlyError> {
    apply_named(
        submodel.submodel_elements.get_or_insert_with(Vec::new),
        value,
        "$",
    )
}

/// Sets an element's value (and its children's) from its ValueOnly JSON.
pub fn apply(element: &mut SubmodelElement, value: &Value) -> Result<(), ValueOnlyError> {
    apply_at(element, value, "$")
}

/// [`apply`] to the body of Part 2's `PATCH …/$value` of one element: the value named by the
/// element's idShort (`{"Speed": 42}`, as `$value` answers), or the bare value.
pub fn apply_patch(element: &mut SubmodelElement, value: &Value) -> Result<(), ValueOnlyError> {
    let unwrapped = match (value, element.id_short()) {
        (Value::Object(map), Some(id_short)) if map.len() == 1 && map.contains_key(id_short) => {
            &map[id_short]
        }
        _ => value,
    };
    apply(element, unwrapped)
}

fn lexical(value: &Value, path: &str) -> Result<String, ValueOnlyError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(error(path, "expected a string, number or boolean")),
    }
}

fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, ValueOnlyError> {
    value
        .as_object()
        .ok_or_else(|| error(path, "expected an object"))
}

fn reference_from(value: &Value, path: &str) -> Result<Reference, ValueOnlyError> {
    let text = value.to_string();
    crate::json::from_str(&text).map_err(|e| error(path, format!("not a reference: {e}")))
}

fn apply_named(
    elements: &mut [SubmodelElement],
    value: &Value,
    path: &str,
) -> Result<(), ValueOnlyError> {
    for (key, item) in object(value, path)? {
        let child_path = format!("{path}.{key}");
        let element = elements
            .iter_mut()
            .find(|e| e.id_short() == Some(key.as_str()))
            .ok_or_else(|| error(&child_path, "no element with this idShort"))?;
        apply_at(element, item, &child_path)?;
    }
    Ok(())
}

fn apply_at(
    element: &mut SubmodelElement,
    value: &Value,
    path: &str,
) -> Result<(), ValueOnlyError> {
    match element {
        SubmodelElement::Property(p) => {
            p.value = match value {
                Value::Null => None,
                other => Some(lexical(other, path)?),
            }
        }
        SubmodelElement::MultiLanguageProperty(p) => {
            let items = value
                .as_array()
                .ok_or_else(|| error(path, "expected an array of {\"<language>\": \"<text>\"}"))?;
            let mut strings = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                let map = object(item, &item_path)?;
                let (language, text) = match (map.len(), map.iter().next()) {
                    (1, Some((language, Value::String(text)))) => (language, text),
                    _ => return Err(error(&item_path, "expected one language and its text")),
                };
                strings.push(LangString {
                    language: language.clone(),
                    text: text.clone(),
                });
            }
            p.value = Some(strings);
        }
        SubmodelElement::Range(r) => {
            let map = object(value, path)?;
            for key in map.keys() {
                if key != "min" && key != "max" {
                    return Err(error(
                        &format!("{path}.{key}"),
                        "a range has only min and max",
                    ));
                }
            }
            r.min = map
                .get("min")
                .map(|v| lexical(v, &format!("{path}.min")))
                .transpose()?;
            r.max = map
                .get("max")
                .map(|v| lexical(v, &format!("{path}.max")))
                .transpose()?;
        }
        SubmodelElement::ReferenceElement(r) => {
            r.value = match value {
                Value::Null => None,
                other => Some(reference_from(other, path)?),
            }
        }
        SubmodelElement::File(f) => {
            let map = object(value, path)?;
            if let Some(content_type) = map.get("contentType") {
                f.content_type = Some(lexical(content_type, &format!("{path}.contentType"))?);
            }
            f.value = map
                .get("value")
                .map(|v| lexical(v, &format!("{path}.value")))
                .transpose()?;
        }
        SubmodelElement::Blob(b) => {
            let map = object(value, path)?;
            if let Some(content_type) = map.get("contentType") {
                b.content_type = Some(lexical(content_type, &format!("{path}.contentType"))?);
            }
            if let Some(encoded) = map.get("value") {
                let text = lexical(encoded, &format!("{path}.value"))?;
                b.value =
                    Some(STANDARD.decode(text).map_err(|e| {
                        error(&format!("{path}.value"), format!("not base64: {e}"))
                    })?);
            }
        }
        SubmodelElement::SubmodelElementCollection(c) => {
            apply_named(c.value.get_or_insert_with(Vec::new), value, path)?
        }
        SubmodelElement::SubmodelElementList(l) => {
            let items = value
                .as_array()
                .ok_or_else(|| error(path, "expected an array"))?;
            let elements = l.value.get_or_insert_with(Vec::new);
            if items.len() != elements.len() {
                return Err(error(
                    path,
                    format!(
                        "the list has {} elements, not {}",
                        elements.len(),
                        items.len()
                    ),
                ));
            }
            for (i, (element, item)) in elements.iter_mut().zip(items).enumerate() {
                apply_at(element, item, &format!("{path}[{i}]"))?;
            }
        }
        SubmodelElement::Entity(e) => {
            let map = object(value, path)?;
            if let Some(statements) = map.get("statements") {
                apply_named(
                    e.statements.get_or_insert_with(Vec::new),
                    statements,
                    &format!("{path}.statements"),
                )?;
            }
            if let Some(kind) = map.get("entityType") {
                let text = lexical(kind, &format!("{path}.entityType"))?;
                e.entity_type =
                    Some(EntityType::from_literal(&text).ok_or_else(|| {
                        error(&format!("{path}.entityType"), "not an entity type")
                    })?);
            }
            if let Some(id) = map.get("globalAssetId") {
                e.global_asset_id = Some(lexical(id, &format!("{path}.globalAssetId"))?);
            }
        }
        SubmodelElement::RelationshipElement(r) => {
            let map = object(value, path)?;
            if let Some(first) = map.get("first") {
                r.first = Some(reference_from(first, &format!("{path}.first"))?);
            }
            if let Some(second) = map.get("second") {
                r.second = Some(reference_from(second, &format!("{path}.second"))?);
            }
        }
        SubmodelElement::AnnotatedRelationshipElement(r) => {
            let map = object(value, path)?;
            if let Some(first) = map.get("first") {
                r.first = Some(reference_from(first, &format!("{path}.first"))?);
            }
            if let Some(second) = map.get("second") {
                r.second = Some(reference_from(second, &format!("{path}.second"))?);
            }
        }
        SubmodelElement::BasicEventElement(e) => {
            let map = object(value, path)?;
            if let Some(observed) = map.get("observed") {
                e.observed = reference_from(observed, &format!("{path}.observed"))?;
            }
        }
        SubmodelElement::Operation(_) | SubmodelElement::Capability(_) => {
            return Err(error(path, "operations and capabilities have no value"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use aas_model::{
        AasSubmodelElements, MultiLanguageProperty, Property, Range, SubmodelElementCollection,
        SubmodelElementList,
    };
    use serde_json::json;

    use super::*;

    fn property(value_type: DataTypeDefXsd, value: &str) -> SubmodelElement {
        let mut p = Property::new(value_type).with_id_short("P");
        p.value = Some(value.into());
        p.into()
    }

    #[test]
    fn property_values_are_typed_by_their_value_type() {
        use DataTypeDefXsd as T;
        let cases = [
            (T::Boolean, "true", json!(true)),
            (T::Boolean, "0", json!(false)),
            (T::Int, "42", json!(42)),
            (T::Decimal, "+.5", json!(0.5)),
            (T::Decimal, "5.", json!(5.0)),
            (T::Double, "-1.25E3", json!(-1250.0)),
            (T::Double, "INF", json!("INF")),
            (
                T::Integer,
                "123456789012345678901234567890",
                json!("123456789012345678901234567890"),
            ),
            (T::String, "42", json!("42")),
            (T::Date, "2024-01-01", json!("2024-01-01")),
        ];
        for (value_type, lexical, expected) in cases {
            assert_eq!(
                to_value(&property(value_type, lexical), false),
                Some(expected),
                "{lexical}"
            );
        }
    }

    #[test]
    fn containers_map_children_by_id_short_and_values_apply_back() -> Result<(), ValueOnlyError> {
        let mut list = SubmodelElementList::new(AasSubmodelElements::Property).with_id_short("L");
        list.value = Some(vec![
            property(DataTypeDefXsd::Int, "1"),
            property(DataTypeDefXsd::Int, "2"),
        ]);
        let mut mlp = MultiLanguageProperty::new().with_id_short("M");
        mlp.value = Some(vec![LangString {
            language: "en".into(),
            text: "hi".into(),
        }]);
        let mut range = Range::new(DataTypeDefXsd::Int).with_id_short("R");
        range.min = Some("1".into());
        let mut group = SubmodelElementCollection::new().with_id_short("G");
        group.value = Some(vec![list.into(), mlp.into(), range.into()]);
        let mut element = SubmodelElement::from(group);
        assert_eq!(
            to_value(&element, false),
            Some(json!({"L": [1, 2], "M": [{"en": "hi"}], "R": {"min": 1}}))
        );
        apply(
            &mut element,
            &json!({"L": [3, 4], "M": [{"de": "hallo"}], "R": {"min": 0, "max": 9}}),
        )?;
        assert_eq!(
            to_value(&element, false),
            Some(json!({"L": [3, 4], "M": [{"de": "hallo"}], "R": {"min": 0, "max": 9}}))
        );
        let wrong = apply(&mut element, &json!({"L": [1]}));
        assert_eq!(wrong.map_err(|e| e.path), Err("$.L".to_owned()));
        let unknown = apply(&mut element, &json!({"X": 1}));
        assert_eq!(unknown.map_err(|e| e.path), Err("$.X".to_owned()));
        Ok(())
    }

    #[test]
    fn arrays_nested_100_000_deep_are_an_error_not_a_stack_overflow() {
        for text in [
            "[".repeat(100_000),
            format!("{{\"a\":{}", "[".repeat(100_000)),
        ] {
            let err = from_slice(text.as_bytes()).unwrap_err();
            assert!(
                err.message.contains("nested deeper than 127 levels"),
                "{err}"
            );
        }
    }

    #[test]
    fn values_nested_to_the_depth_limit_are_read() {
        assert_eq!(MAX_DEPTH, 127);
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(from_slice(nested(MAX_DEPTH).as_bytes()).is_ok());
        assert!(from_slice(nested(MAX_DEPTH + 1).as_bytes()).is_err());
        // Brackets in strings do not count; escaped quotes do not end them.
        let in_string = format!("{{\"a\\\"\":\"{}\"}}", "[".repeat(1000));
        assert!(from_slice(in_string.as_bytes()).is_ok(), "{in_string}");
        let err = from_slice(b"{\"a\":").unwrap_err();
        assert!(err.message.starts_with("not JSON"), "{err}");
    }

    #[test]
    fn a_patch_takes_the_value_named_by_the_id_short_or_the_bare_value() {
        let mut p = property(DataTypeDefXsd::Int, "1");
        assert_eq!(apply_patch(&mut p, &json!({"P": 2})), Ok(()));
        assert_eq!(to_value(&p, false), Some(json!(2)));
        assert_eq!(apply_patch(&mut p, &json!(3)), Ok(()));
        assert_eq!(to_value(&p, false), Some(json!(3)));
        assert!(apply_patch(&mut p, &json!({"Other": 4})).is_err());
    }
}
