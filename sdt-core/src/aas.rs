//! Synchronized values in submodels (feature `aas`): how the properties of a synchronization
//! description map to a submodel's elements and extensions, for any Rust program that keeps
//! AAS submodels (the reference server's twins use it).
//!
//! With feature `client` too, the other half: `TwinCommands` turns changes of a bound
//! twin's submodel made by others into platform commands sent through the `SyncEngine`
//! (only properties whose value changed since the values last seen; one task per twin, in
//! order, at most `PENDING_CHANGES_PER_TWIN` changes waiting).
//!
//! A property name that is an idShort path (`Speed`, `Axis.Position`) names an element: its
//! value is a Property's value, and a missing top-level Property is created. Any other name
//! (`DT:state`, `temperature (°C)`) names an extension of the submodel.
//!
//! ```
//! use aas_model::{Submodel, Version};
//! use sdt_core::aas::{apply_property, property_value};
//! use serde_json::json;
//!
//! let mut submodel = Submodel::new("urn:example:sm:twin");
//! apply_property(&mut submodel, "Speed", &json!(42), Version::V3_1)?;
//! apply_property(&mut submodel, "DT:state", &json!("on"), Version::V3_1)?;
//! assert_eq!(property_value(&submodel, "Speed"), Some(json!("42")));
//! assert_eq!(property_value(&submodel, "DT:state"), Some(json!("on")));
//! # Ok::<(), sdt_core::aas::ApplyError>(())
//! ```

use aas_model::{
    DataTypeDefXsd, Extension, Finding, IdShortPath, InsertError, PathStep, Property, Submodel,
    SubmodelElement,
};
use serde_json::{Map, Value};

use crate::description::SyncDescription;
use crate::twin::TwinRecord;

#[cfg(feature = "client")]
mod commands;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use commands::{CommandSender, PENDING_CHANGES_PER_TWIN, TwinCommands};

/// A property of a synchronization description that names an element by an idShort the
/// server's AAS version refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "property {property:?} names an element, but {id_short:?} is not an idShort of AAS \
     {version}: {finding}"
)]
pub struct PropertyNameError {
    /// The property's name in the description's `thingin_attributes`.
    pub property: String,
    /// The step of the property's idShort path that is not a valid idShort.
    pub id_short: String,
    /// The AAS version whose idShort rule (AASd-002 and the length limit) it breaks.
    pub version: aas_model::Version,
    /// What aas-model's verification found wrong with the idShort.
    pub finding: Box<Finding>,
}

/// Why a synchronized value was not written into the submodel; each names the property.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// The value does not fit the Property, or the Property it would create is not valid
    /// under the server's version.
    #[error("{name}: {finding}")]
    Invalid {
        /// The property's name.
        name: String,
        /// What aas-model's verification found wrong.
        finding: Finding,
    },
    /// The name's idShort path leads to an element that is not a Property (a collection, a
    /// range, ...), which has no single value to write.
    #[error("{name} is a {element_type}, not a Property")]
    NotAProperty {
        /// The property's name.
        name: String,
        /// The model type of the element found, as the metamodel names it
        /// (`SubmodelElementCollection`).
        element_type: &'static str,
    },
    /// The name is an idShort path of more than one step and no element is there: only
    /// top-level Properties are created.
    #[error("{name}: no such element, and only top-level Properties are created")]
    NoSuchElement {
        /// The property's name.
        name: String,
    },
    /// The submodel refused the Property created for the name.
    #[error("{name}: {source}")]
    Insert {
        /// The property's name.
        name: String,
        /// Why the submodel refused it.
        #[source]
        source: InsertError,
    },
}

/// Whether a name is written like an idShort (of either version), so that it names an element
/// rather than an extension. Whether it is a valid idShort is the server's version's rule:
/// [`id_short_problem`].
fn is_id_short(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// What aas-model's verification under `version` finds wrong with `id_short` (AASd-002's
/// pattern and the length limits differ between versions), if anything.
fn id_short_problem(id_short: &str, version: aas_model::Version) -> Option<Finding> {
    let mut property = Property::new(DataTypeDefXsd::String);
    property.id_short = Some(id_short.to_owned());
    aas_model::verify_as(&property, version).next()
}

/// Checks that the synchronized properties that name elements name them with idShorts valid
/// under `version` (the server's): the element a sync would create must be one the API can
/// write again afterwards. The error names the property.
pub fn check_property_names(
    description: &SyncDescription,
    version: aas_model::Version,
) -> Result<(), PropertyNameError> {
    for attribute in &description.thingin_attributes {
        let Some(path) = element_path(&attribute.name) else {
            continue;
        };
        for step in path.steps() {
            if let PathStep::IdShort(id_short) = step
                && let Some(finding) = id_short_problem(id_short, version)
            {
                return Err(PropertyNameError {
                    property: attribute.name.clone(),
                    id_short: id_short.clone(),
                    version,
                    finding: Box::new(finding),
                });
            }
        }
    }
    Ok(())
}

/// The element path a property name maps to, if it is an idShort path.
pub fn element_path(name: &str) -> Option<IdShortPath> {
    let path: IdShortPath = name.parse().ok()?;
    path.steps()
        .iter()
        .all(|step| match step {
            PathStep::IdShort(id_short) => is_id_short(id_short),
            PathStep::Index(_) => true,
        })
        .then_some(path)
}

fn lexical(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Writes a synchronized value into the submodel: the element at the name's idShort path
/// (a string Property is created at the top when missing), or the extension of that name. A
/// Property's new value is verified by the rules of `version` (the server's).
pub fn apply_property(
    submodel: &mut Submodel,
    name: &str,
    value: &Value,
    version: aas_model::Version,
) -> Result<(), ApplyError> {
    let text = lexical(value);
    let Some(path) = element_path(name) else {
        let extensions = submodel.extensions.get_or_insert_with(Vec::new);
        match extensions.iter_mut().find(|e| e.name == name) {
            Some(extension) => extension.value = Some(text),
            None => {
                let mut extension = Extension::new(name);
                extension.value_type = Some(DataTypeDefXsd::String);
                extension.value = Some(text);
                extensions.push(extension);
            }
        }
        return Ok(());
    };
    let written = submodel.element_mut(&path, |element| match element {
        SubmodelElement::Property(property) => {
            // A value that does not fit the element's valueType is reported, not written.
            let previous = property.value.replace(text.clone());
            if let Some(finding) = aas_model::verify_as(&*property, version).next() {
                property.value = previous;
                return Err(ApplyError::Invalid {
                    name: name.to_owned(),
                    finding,
                });
            }
            Ok(())
        }
        other => Err(ApplyError::NotAProperty {
            name: name.to_owned(),
            element_type: other.element_type().as_str(),
        }),
    });
    match written {
        Some(result) => result,
        None => {
            let mut property = Property::new(DataTypeDefXsd::String);
            property.value = Some(text);
            let (parent, id_short) = match path.steps().split_last() {
                Some((PathStep::IdShort(id_short), [])) => (None, id_short.clone()),
                _ => {
                    return Err(ApplyError::NoSuchElement {
                        name: name.to_owned(),
                    });
                }
            };
            property.id_short = Some(id_short);
            // Checked when the binding was made, and again here: a Property the server's
            // version refuses would make every later write of the submodel fail.
            if let Some(finding) = aas_model::verify_as(&property, version).next() {
                return Err(ApplyError::Invalid {
                    name: name.to_owned(),
                    finding,
                });
            }
            submodel
                .insert_element(parent, property.into())
                .map_err(|source| ApplyError::Insert {
                    name: name.to_owned(),
                    source,
                })
        }
    }
}

/// The current value of a synchronized property, as the twin stores it (a string).
pub fn property_value(submodel: &Submodel, name: &str) -> Option<Value> {
    match element_path(name) {
        Some(path) => match submodel.element(&path)? {
            SubmodelElement::Property(p) => p.value.map(Value::String),
            _ => None,
        },
        None => submodel
            .extensions
            .iter()
            .flatten()
            .find(|e| e.name == name)
            .and_then(|e| e.value.clone())
            .map(Value::String),
    }
}

/// The values of the synchronized properties `names` in `submodel` (those it has), which
/// later values are compared with to find what changed.
pub fn property_values(submodel: &Submodel, names: &[String]) -> Map<String, Value> {
    names
        .iter()
        .filter_map(|name| property_value(submodel, name).map(|v| (name.clone(), v)))
        .collect()
}

/// The extensions that mark a bound submodel the way Thing'in marks its avatars.
pub const MARKS: [&str; 4] = [
    "DT:uuid",
    "DT:type",
    "DT:description",
    "SynchronizedDigitalTwin",
];

/// Marks `submodel` as bound by `record`: replaces any [`MARKS`] it had (a rebinding leaves no
/// stale mark); an empty type or description is a mark without value.
pub fn mark(submodel: &mut Submodel, record: &TwinRecord) {
    let extensions = submodel.extensions.get_or_insert_with(Vec::new);
    extensions.retain(|e| !MARKS.contains(&e.name.as_str()));
    for (name, value, value_type) in [
        (
            "DT:uuid",
            Some(record.uuid_on_platform.clone()),
            DataTypeDefXsd::String,
        ),
        ("DT:type", record.kind.clone(), DataTypeDefXsd::String),
        (
            "DT:description",
            record.description.clone(),
            DataTypeDefXsd::String,
        ),
        (
            "SynchronizedDigitalTwin",
            Some("true".to_owned()),
            DataTypeDefXsd::Boolean,
        ),
    ] {
        let mut extension = Extension::new(name);
        extension.value_type = Some(value_type);
        extension.value = value.filter(|v| !v.is_empty());
        extensions.push(extension);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_names_map_to_elements_or_extensions() -> Result<(), Box<dyn std::error::Error>> {
        let mut submodel = Submodel::new("urn:sm:twin");
        apply_property(
            &mut submodel,
            "DT:data",
            &Value::String("{\"coordX\":1.5}".into()),
            aas_model::Version::LATEST,
        )?;
        apply_property(
            &mut submodel,
            "on",
            &Value::Bool(true),
            aas_model::Version::LATEST,
        )?;
        apply_property(
            &mut submodel,
            "on",
            &Value::String("False".into()),
            aas_model::Version::LATEST,
        )?;
        assert_eq!(
            property_value(&submodel, "DT:data"),
            Some(Value::String("{\"coordX\":1.5}".into()))
        );
        assert_eq!(
            property_value(&submodel, "on"),
            Some(Value::String("False".into()))
        );
        assert!(element_path("DT:data").is_none() && element_path("Group.on").is_some());
        assert!(
            apply_property(
                &mut submodel,
                "Missing.deep",
                &Value::Null,
                aas_model::Version::LATEST
            )
            .is_err()
        );
        assert_eq!(submodel.submodel_elements.as_ref().map(Vec::len), Some(1));
        let mut typed = Property::new(DataTypeDefXsd::Int).with_id_short("count");
        typed.value = Some("1".into());
        submodel.insert_element(None, typed.into())?;
        assert!(
            apply_property(
                &mut submodel,
                "count",
                &Value::String("many".into()),
                aas_model::Version::LATEST
            )
            .is_err()
        );
        assert_eq!(
            property_value(&submodel, "count"),
            Some(Value::String("1".into())),
            "not written"
        );
        apply_property(
            &mut submodel,
            "count",
            &serde_json::json!(2),
            aas_model::Version::LATEST,
        )?;
        assert_eq!(
            property_value(&submodel, "count"),
            Some(Value::String("2".into()))
        );
        Ok(())
    }

    #[test]
    fn a_synchronized_value_creates_no_property_the_servers_version_refuses()
    -> Result<(), Box<dyn std::error::Error>> {
        use aas_model::Version::{V3_0, V3_1};
        let value = Value::String("21.5".into());
        for (version, name) in [
            (V3_0, "max-temp"),
            (V3_1, "x"),
            (V3_0, "bad-"),
            (V3_1, "bad-"),
        ] {
            let mut submodel = Submodel::new("urn:sm:twin");
            let refused = apply_property(&mut submodel, name, &value, version);
            assert!(
                refused
                    .as_ref()
                    .is_err_and(|e| e.to_string().contains(name)),
                "{version} {name}: {refused:?}"
            );
            assert!(submodel.submodel_elements.is_none(), "{version} {name}");
        }
        for (version, name) in [(V3_1, "max-temp"), (V3_0, "x")] {
            let mut submodel = Submodel::new("urn:sm:twin");
            apply_property(&mut submodel, name, &value, version)?;
            assert_eq!(property_value(&submodel, name), Some(value.clone()));
            assert!(
                aas_model::verify_as(&submodel, version).next().is_none(),
                "{version} {name}: the submodel stays valid"
            );
        }
        Ok(())
    }

    fn twin_record(kind: Option<&str>) -> Result<TwinRecord, serde_json::Error> {
        serde_json::from_value(serde_json::json!({
            "submodel_id": "urn:sm:1", "platform": "lab", "uuid_on_platform": "dev-1",
            "type": kind, "description": "",
            "synchronization": {"iot_attributes": [], "thingin_attributes": []}
        }))
    }

    #[test]
    fn marking_again_replaces_the_marks_and_keeps_other_extensions() -> Result<(), serde_json::Error>
    {
        let mut submodel = Submodel::new("urn:sm:1");
        submodel.extensions = Some(vec![Extension::new("Other")]);
        mark(&mut submodel, &twin_record(Some("robot"))?);
        mark(&mut submodel, &twin_record(Some("arm"))?);
        let extensions = submodel.extensions.unwrap_or_default();
        let names: Vec<&str> = extensions.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Other",
                "DT:uuid",
                "DT:type",
                "DT:description",
                "SynchronizedDigitalTwin"
            ]
        );
        assert_eq!(extensions[1].value.as_deref(), Some("dev-1"));
        assert_eq!(extensions[2].value.as_deref(), Some("arm"));
        assert_eq!(
            extensions[3].value, None,
            "an empty description is a mark without value"
        );
        assert_eq!(extensions[4].value_type, Some(DataTypeDefXsd::Boolean));
        Ok(())
    }

    #[test]
    fn property_values_leave_out_the_properties_the_submodel_lacks() -> Result<(), ApplyError> {
        let mut submodel = Submodel::new("urn:sm:1");
        apply_property(
            &mut submodel,
            "DT:state",
            &Value::from("on"),
            aas_model::Version::V3_1,
        )?;
        let names = ["DT:state".to_owned(), "Missing".to_owned()];
        let values = property_values(&submodel, &names);
        assert_eq!(values.len(), 1);
        assert_eq!(values.get("DT:state"), Some(&Value::from("on")));
        Ok(())
    }
}
