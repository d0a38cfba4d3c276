#[cfg(feature = "client")]
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[cfg(feature = "client")]
use crate::description::DescriptionError;
use crate::description::SyncDescription;
#[cfg(feature = "client")]
use crate::engine::TwinBinding;
#[cfg(feature = "client")]
use crate::platform::{ClientOptions, Credentials, Platform, PlatformClient, PlatformError};

/// A twin binding as users send it (secrets included) and as it is shown (secrets left out):
/// which submodel follows which device on which platform, with what description and
/// credentials; [`TwinRecord::binding`] (feature `client`) checks it into the `TwinBinding`
/// the engine polls.
///
/// The credentials travel with the record when it is sent but are never shown: serializing a
/// [`TwinRecord`] leaves them out, and [`TwinRecord::take_secrets`] splits them off so that a
/// program can store them apart (sealed) from the rest.
///
/// ```
/// use sdt_core::TwinRecord;
/// use serde_json::json;
///
/// let mut record: TwinRecord = serde_json::from_value(json!({
///     "submodel_id": "urn:example:sm:1", "platform": "lab", "uuid_on_platform": "dev-1",
///     "synchronization": {"iot_attributes": [], "thingin_attributes": []},
///     "api_key": "k3y"
/// }))?;
/// assert!(!serde_json::to_string(&record)?.contains("k3y"));
/// let _sealed_apart = serde_json::to_string(&record.take_secrets())?;
/// assert_eq!(record.api_key, None);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwinRecord {
    /// The twin: the submodel kept in step.
    pub submodel_id: String,
    /// The name of the platform definition the device is on.
    pub platform: String,
    /// The device id for data.
    pub uuid_on_platform: String,
    /// The device id for commands, when it is not `uuid_on_platform`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_id_on_platform: Option<String>,
    /// The Thing'in type of the avatar (`DT:type`).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The Thing'in description of the avatar (`DT:description`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The synchronization description.
    pub synchronization: SyncDescription,
    /// An API key; never serialized.
    #[serde(default, skip_serializing)]
    pub api_key: Option<String>,
    /// A login, with `password`; never serialized.
    #[serde(default, skip_serializing)]
    pub login: Option<String>,
    /// The password of `login`; never serialized.
    #[serde(default, skip_serializing)]
    pub password: Option<String>,
}

/// The secret part of a binding, as it is kept apart from the record (e.g. sealed); `Debug`
/// shows none of it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwinSecrets {
    api_key: Option<String>,
    login: Option<String>,
    password: Option<String>,
}

impl std::fmt::Debug for TwinSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TwinSecrets(<redacted>)")
    }
}

#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
impl TwinSecrets {
    /// The credentials they give: an API key wins; a login needs its password, else none.
    pub fn credentials(&self) -> Credentials {
        match (&self.api_key, &self.login, &self.password) {
            (Some(key), _, _) => Credentials::ApiKey(key.clone()),
            (None, Some(login), Some(password)) => Credentials::LoginPassword {
                login: login.clone(),
                password: password.clone(),
            },
            _ => Credentials::None,
        }
    }
}

#[cfg(feature = "client")]
/// Why a binding cannot be polled; the error that stopped it is the
/// [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TwinError {
    /// The synchronization description does not compile.
    #[error("{0}")]
    Description(#[source] DescriptionError),
    /// The platform (with these credentials and ids) cannot be used.
    #[error("{0}")]
    Platform(#[source] PlatformError),
}

/// Why a record sent as a JSON body (a binding, a platform) is refused; each message says
/// what is wrong in words, the parser's error is the [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The body does not parse as JSON.
    #[error("not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    /// The body is JSON but not an object.
    #[error("the {what} is not a JSON object")]
    NotAnObject {
        /// What the body should have been (`twin`, `platform`).
        what: &'static str,
    },
    /// The body names another record than the path it was sent to.
    #[error("the body's {key} {body:?} is not the path's {path:?}")]
    OtherName {
        /// The member that names the record (`submodel_id`, `name`).
        key: &'static str,
        /// The name in the body.
        body: String,
        /// The name in the path.
        path: String,
    },
    /// The object is not a valid record: a member is missing, unknown or of the wrong type.
    #[error("not a {what}: {source}")]
    Invalid {
        /// What the body should have been (`twin binding`, `platform`).
        what: &'static str,
        /// What serde found wrong.
        #[source]
        source: serde_json::Error,
    },
}

/// A record of kind `what` (`object` as the object is named, `record` as the record) from a
/// JSON `body` whose member `key` names it: when sent to the path of `name`, the body names the
/// same one or takes that name.
pub(crate) fn named_record<T: DeserializeOwned>(
    body: &[u8],
    key: &'static str,
    name: Option<&str>,
    (object, record): (&'static str, &'static str),
) -> Result<T, RecordError> {
    let mut json: Value = serde_json::from_slice(body).map_err(RecordError::NotJson)?;
    let members = json
        .as_object_mut()
        .ok_or(RecordError::NotAnObject { what: object })?;
    match (members.get(key).and_then(Value::as_str), name) {
        (Some(body), Some(path)) if body != path => {
            return Err(RecordError::OtherName {
                key,
                body: body.to_owned(),
                path: path.to_owned(),
            });
        }
        (None, Some(path)) => {
            members.insert(key.into(), Value::String(path.to_owned()));
        }
        _ => {}
    }
    serde_json::from_value(json).map_err(|source| RecordError::Invalid {
        what: record,
        source,
    })
}

/// The access statements a synchronized twin needs: the synchronization user may update the
/// twin's data properties (elements and extensions) and read the twin; the owner may do
/// everything.
pub fn acl_statements() -> Value {
    serde_json::json!([
        {
            "condition": {"user": "synchronization", "twin": "synchronized"},
            "rules": [
                {"effect": "allow", "action": ["Update"],
                 "resources": ["/submodels/{twin}/submodel-elements/{dataProperty}", "/submodels/{twin}#extensions/{dataProperty}"]},
                {"effect": "allow", "action": ["Read"], "resources": ["/submodels/{twin}"]}
            ]
        },
        {
            "condition": {"user": "owner"},
            "rules": [
                {"effect": "allow", "action": ["Read", "Update", "Delete"], "resources": ["*"]}
            ]
        }
    ])
}

impl TwinRecord {
    /// A binding from a JSON body, sent to the twin `submodel_id` when the path names one
    /// (the body then names the same submodel, or none).
    pub fn from_json(body: &[u8], submodel_id: Option<&str>) -> Result<Self, RecordError> {
        named_record(body, "submodel_id", submodel_id, ("twin", "twin binding"))
    }

    /// Takes the secrets out of the record, leaving none in it.
    pub fn take_secrets(&mut self) -> TwinSecrets {
        TwinSecrets {
            api_key: self.api_key.take(),
            login: self.login.take(),
            password: self.password.take(),
        }
    }

    /// The names of the synchronized properties (the description's `thingin_attributes`).
    pub fn property_names(&self) -> Vec<String> {
        self.synchronization
            .thingin_attributes
            .iter()
            .map(|a| a.name.clone())
            .collect()
    }

    #[cfg(feature = "client")]
    #[cfg_attr(docsrs, doc(cfg(feature = "client")))]
    /// Checks the binding on `platform` and makes what polling it needs: the compiled
    /// description and a client with `secrets`' credentials. The device ids' URLs are checked
    /// now, so an id that would leave the platform's origin is refused before anything runs.
    pub fn binding(
        &self,
        platform: Platform,
        secrets: &TwinSecrets,
        options: ClientOptions,
    ) -> Result<TwinBinding, TwinError> {
        let compiled = self
            .synchronization
            .compile()
            .map_err(TwinError::Description)?;
        let client = PlatformClient::new(platform, secrets.credentials(), options)
            .map_err(TwinError::Platform)?;
        let command_id = self
            .command_id_on_platform
            .as_deref()
            .unwrap_or(&self.uuid_on_platform);
        client
            .data_url(&self.uuid_on_platform)
            .and(client.command_url(command_id))
            .map_err(TwinError::Platform)?;
        Ok(TwinBinding {
            twin: self.submodel_id.clone(),
            platform: Arc::new(client),
            device: self.uuid_on_platform.clone(),
            command_device: self.command_id_on_platform.clone(),
            description: Arc::new(compiled),
        })
    }
}

#[cfg(test)]
mod body_tests {
    use super::*;

    const BODY: &str = r#"{"platform": "lab", "uuid_on_platform": "d",
        "synchronization": {"iot_attributes": [], "thingin_attributes": []}}"#;

    #[test]
    fn a_body_sent_to_a_twins_path_takes_its_id_or_must_name_the_same() -> Result<(), RecordError> {
        let record = TwinRecord::from_json(BODY.as_bytes(), Some("urn:sm:1"))?;
        assert_eq!(record.submodel_id, "urn:sm:1");
        let other = BODY.replacen('{', r#"{"submodel_id": "urn:sm:2","#, 1);
        let refused = TwinRecord::from_json(other.as_bytes(), Some("urn:sm:1"));
        assert_eq!(
            refused.map_err(|e| e.to_string()).err().as_deref(),
            Some(r#"the body's submodel_id "urn:sm:2" is not the path's "urn:sm:1""#)
        );
        Ok(())
    }

    #[test]
    fn a_body_that_is_no_binding_says_what_it_is_instead() {
        let message = |body: &str| {
            TwinRecord::from_json(body.as_bytes(), None)
                .err()
                .map(|e| e.to_string())
        };
        assert!(message("{").is_some_and(|m| m.starts_with("not JSON: ")));
        assert_eq!(
            message("[]").as_deref(),
            Some("the twin is not a JSON object")
        );
        assert!(BODY.contains("platform"));
        assert!(
            message(BODY).is_some_and(|m| m.starts_with("not a twin binding: ")),
            "no submodel_id"
        );
    }

    #[test]
    fn the_acl_lets_the_synchronization_user_update_and_read_the_twin_only() {
        let statements = acl_statements();
        assert_eq!(statements[0]["condition"]["user"], "synchronization");
        assert_eq!(
            statements[0]["rules"][1]["action"],
            serde_json::json!(["Read"])
        );
        assert_eq!(
            statements[1]["rules"][0]["resources"],
            serde_json::json!(["*"])
        );
    }
}

#[cfg(all(test, feature = "client"))]
mod tests {
    use serde_json::json;

    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn record(extra: serde_json::Value) -> Result<TwinRecord, serde_json::Error> {
        let mut value = json!({
            "submodel_id": "urn:sm:1", "platform": "lab", "uuid_on_platform": "dev-1",
            "synchronization": {"iot_attributes": [],
                "thingin_attributes": [{"name": "Speed", "value": "1"}]}
        });
        if let (Some(target), Some(extra)) = (value.as_object_mut(), extra.as_object()) {
            target.extend(extra.clone());
        }
        serde_json::from_value(value)
    }

    #[test]
    fn an_api_key_wins_over_a_login_and_a_login_without_password_gives_none() -> TestResult {
        let both = record(json!({"api_key": "k", "login": "l", "password": "p"}))?.take_secrets();
        assert_eq!(both.credentials(), Credentials::ApiKey("k".into()));
        let login = record(json!({"login": "l", "password": "p"}))?.take_secrets();
        assert_eq!(
            login.credentials(),
            Credentials::LoginPassword {
                login: "l".into(),
                password: "p".into()
            }
        );
        let half = record(json!({"login": "l"}))?.take_secrets();
        assert_eq!(half.credentials(), Credentials::None);
        Ok(())
    }

    #[test]
    fn taking_the_secrets_leaves_none_in_the_record_and_none_are_serialized() -> TestResult {
        let mut with = record(json!({"api_key": "k3y", "password": "pw"}))?;
        assert!(!serde_json::to_string(&with)?.contains("k3y"));
        let secrets = with.take_secrets();
        assert_eq!((with.api_key, with.password), (None, None));
        assert!(!format!("{secrets:?}").contains("k3y"));
        Ok(())
    }

    #[test]
    fn unknown_fields_of_a_record_are_refused() {
        assert!(record(json!({"apiKey": "k"})).is_err());
    }

    #[test]
    fn the_property_names_are_the_thingin_attributes_names() -> TestResult {
        assert_eq!(record(json!({}))?.property_names(), ["Speed"]);
        Ok(())
    }

    fn lab() -> Result<Platform, serde_json::Error> {
        serde_json::from_value(json!({
            "name": "lab", "base_url": "https://iot.example/api/",
            "data_get_prefix": "devices/", "command_prefix": "commands/",
            "authentication": "none"
        }))
    }

    #[test]
    fn a_command_id_that_is_a_dot_segment_is_refused_before_polling() -> TestResult {
        let bad = record(json!({"command_id_on_platform": ".."}))?;
        let result = bad.binding(lab()?, &TwinSecrets::default(), ClientOptions::default());
        assert!(matches!(result, Err(TwinError::Platform(_))), "{result:?}");
        Ok(())
    }

    #[test]
    fn a_description_that_does_not_compile_is_refused() -> TestResult {
        let bad = record(json!({"synchronization": {
            "iot_attributes": [{"name": "x", "value": "$[?"}], "thingin_attributes": []}}))?;
        let result = bad.binding(lab()?, &TwinSecrets::default(), ClientOptions::default());
        assert!(
            matches!(result, Err(TwinError::Description(_))),
            "{result:?}"
        );
        Ok(())
    }

    #[test]
    fn a_valid_binding_polls_the_data_device_and_commands_the_command_device() -> TestResult {
        let good = record(json!({"command_id_on_platform": "cmd-1"}))?;
        let binding = good.binding(lab()?, &TwinSecrets::default(), ClientOptions::default())?;
        assert_eq!(
            (binding.twin.as_str(), binding.device.as_str()),
            ("urn:sm:1", "dev-1")
        );
        assert_eq!(binding.command_device.as_deref(), Some("cmd-1"));
        Ok(())
    }
}
