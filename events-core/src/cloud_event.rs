//! CloudEvents 1.0 (structured JSON) of shell and submodel changes, as the AAS async API and
//! twinsphere consumers expect them: type `io.admin-shell.events.v1.<kind>`, source the REST
//! URL of the element, the element as `data` (none on `deleted`), `semanticid` for submodels,
//! `aasversion` (`3.0` or `3.1`: the AAS version of the data and of the element at `source`).

use std::io::Read;

use aas_model::{AssetAdministrationShell, HasSemantics, Submodel};
use chrono::{DateTime, Utc};
use cloudevents::{AttributesReader, Data, Event, EventBuilder, EventBuilderV10};
use flate2::read::GzDecoder;

use crate::event::{ChangeEvent, SerializedElement, SerializedEvent};
use crate::gzip::{self, Deflated};
use crate::message::CloudEventError;
use crate::topic::{ElementType, EventKind, decode_id, encode_id};

/// The prefix of the CloudEvent `type` of AAS change events, followed by the
/// [`EventKind`]: `io.admin-shell.events.v1.created`, `.updated`, `.deleted`.
pub const CLOUD_EVENT_TYPE_PREFIX: &str = "io.admin-shell.events.v1.";
/// The prefix of a CloudEvent's `dataschema`, followed by the class name of the element in
/// `data` (`AssetAdministrationShell` or `Submodel`): the definitions of the AAS JSON schema.
pub const CLOUD_EVENT_DATA_SCHEMA_PREFIX: &str = "https://raw.githubusercontent.com/admin-shell-io/aas-specs-metamodel/refs/heads/master/schemas/json/aas.json#/definitions/";

/// The element of a CloudEvent's `data`, read as AAS JSON of the type its `source` names.
#[derive(Debug, Clone, PartialEq)]
pub enum Element {
    /// An Asset Administration Shell (`source` under `shells/`).
    Shell(Box<AssetAdministrationShell>),
    /// A submodel (`source` under `submodels/`).
    Submodel(Box<Submodel>),
}

/// A change as a CloudEvent carries it: the element is absent on `deleted`.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudChange {
    /// What happened, from the `type` (`io.admin-shell.events.v1.<kind>`).
    pub kind: EventKind,
    /// Shell or submodel, from the collection level of `source`.
    pub element_type: ElementType,
    /// The element's identifier, decoded from the last level of `source` (base64url).
    pub id: String,
    /// The CloudEvent `time`; `None` when the event has none (it is optional): such an event
    /// cannot be ordered, so it is never taken for a duplicate or a late arrival.
    pub timestamp: Option<DateTime<Utc>>,
    /// The CloudEvent `id`.
    pub event_id: String,
    /// The element from `data`; `None` on `deleted` and in reference-only events.
    pub element: Option<Element>,
}

/// The CloudEvents extension attribute that names the AAS version of the event's element
/// (`3.0` or `3.1`): the version of the AAS JSON in `data` and of the element at `source`.
pub const AAS_VERSION_EXTENSION: &str = "aasversion";

/// Encodes and decodes CloudEvents 1.0 (structured JSON) of shell and submodel changes for a
/// server at a base URL: `source` is the element's REST URL under it.
///
/// ```
/// use aas_model::Submodel;
/// use events_core::{ChangeEvent, CloudEventCodec, EventKind};
///
/// let codec = CloudEventCodec::new("https://aas.example.com/api/v3");
/// let event = ChangeEvent::Submodel {
///     kind: EventKind::Updated,
///     timestamp: chrono::Utc::now(),
///     submodel: Box::new(Submodel::new("urn:sm:1")),
///     affected_shell_ids: Vec::new(),
/// };
/// let message = codec.encode(&event)?;
/// let json: serde_json::Value = serde_json::from_slice(&message)?;
/// assert_eq!(json["type"], "io.admin-shell.events.v1.updated");
/// assert_eq!(json["source"], "https://aas.example.com/api/v3/submodels/dXJuOnNtOjE");
/// assert_eq!(codec.decode(&message, 1 << 20)?.id, "urn:sm:1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct CloudEventCodec {
    base_url: String,
    gzip: bool,
    aas_version: aas_model::Version,
}

impl CloudEventCodec {
    /// A codec whose `source` URLs start with `base_url` (e.g. `https://aas.example.com/api/v3`).
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            gzip: false,
            aas_version: aas_model::Version::LATEST,
        }
    }

    /// The AAS version of the elements encoded (default: the newest): carried as the
    /// extension `aasversion`. The JSON of `data` is the same in every version; the caller
    /// hands over elements that are valid in it (a server stores its version's data).
    pub fn with_aas_version(mut self, version: aas_model::Version) -> Self {
        self.aas_version = version;
        self
    }

    /// The AAS version of the elements encoded.
    pub fn aas_version(&self) -> aas_model::Version {
        self.aas_version
    }

    /// Gzip-compresses encoded events (decoding detects compression either way).
    pub fn with_gzip(mut self, gzip: bool) -> Self {
        self.gzip = gzip;
        self
    }

    /// The `source` of an element: `<base URL>/<shells|submodels>/<base64url id>`.
    pub fn source(&self, element: ElementType, id: &str) -> String {
        format!(
            "{}/{}/{}",
            self.base_url,
            element.collection(),
            encode_id(id)
        )
    }

    /// The CloudEvent of a change (a new UUID as its id), as a `cloudevents-sdk` event.
    ///
    /// # Errors
    ///
    /// [`CloudEventError::Build`] if the SDK refuses the attributes.
    pub fn event(&self, change: &ChangeEvent) -> Result<Event, CloudEventError> {
        self.build(change, true)
    }

    /// The reference-only CloudEvent of a change, for when the complete one is too large for
    /// the transport: no `data`, `datacontenttype` or `dataschema`, and the extension
    /// `referenceonly: true`; the consumer reads the element from `source`.
    pub fn reference_event(&self, change: &ChangeEvent) -> Result<Event, CloudEventError> {
        self.build(change, false)
    }

    fn build(&self, change: &ChangeEvent, with_data: bool) -> Result<Event, CloudEventError> {
        let (element_type, id) = change.element();
        let mut builder = EventBuilderV10::new()
            .id(uuid::Uuid::new_v4().to_string())
            .source(self.source(element_type, id))
            .ty(format!("{CLOUD_EVENT_TYPE_PREFIX}{}", change.kind()))
            .time(change.timestamp())
            .extension(AAS_VERSION_EXTENSION, self.aas_version.as_str());
        if !with_data {
            builder = builder.extension("referenceonly", true);
        } else if change.kind() != EventKind::Deleted {
            let (class, json) = match change {
                ChangeEvent::Shell { shell, .. } => (
                    "AssetAdministrationShell",
                    aas_serde::json::to_vec(shell.as_ref()),
                ),
                ChangeEvent::Submodel { submodel, .. } => {
                    ("Submodel", aas_serde::json::to_vec(submodel.as_ref()))
                }
            };
            let data: serde_json::Value =
                serde_json::from_slice(&json).map_err(|e| CloudEventError::Build(e.to_string()))?;
            builder = builder.data_with_schema(
                "application/json",
                format!("{CLOUD_EVENT_DATA_SCHEMA_PREFIX}{class}"),
                data,
            );
        }
        if let ChangeEvent::Submodel { submodel, .. } = change
            && let Some(key) = submodel.semantic_id().and_then(|s| s.keys.first())
        {
            builder = builder.extension("semanticid", key.value.as_str());
        }
        builder
            .build()
            .map_err(|e| CloudEventError::Build(e.to_string()))
    }

    /// The message of a change: the CloudEvent as JSON, gzip-compressed if configured.
    /// Serializes the element: with its JSON at hand, use
    /// [`CloudEventCodec::encode_serialized`].
    pub fn encode(&self, change: &ChangeEvent) -> Result<Vec<u8>, CloudEventError> {
        self.encode_serialized(&change.serialized())
    }

    /// The reference-only message of a change ([`CloudEventCodec::reference_event`]).
    pub fn encode_reference(&self, change: &ChangeEvent) -> Result<Vec<u8>, CloudEventError> {
        self.encode_reference_serialized(&change.serialized())
    }

    /// The message of a change whose element is serialized already: its JSON becomes `data`
    /// as it is (not parsed and written again).
    pub fn encode_serialized(&self, change: &SerializedEvent) -> Result<Vec<u8>, CloudEventError> {
        self.prepare(&change.element)
            .finish(change.kind, change.timestamp)
    }

    /// The reference-only message of a change whose element is serialized already.
    pub fn encode_reference_serialized(
        &self,
        change: &SerializedEvent,
    ) -> Result<Vec<u8>, CloudEventError> {
        let event = self.attributes(&change.element, change.kind, change.timestamp, true)?;
        self.serialize(&event)
    }

    /// The CloudEvents of `element`'s changes with the costly part done (the data compressed,
    /// when compressing); see [`crate::envelope::PreparedEnvelope`] for why.
    pub fn prepare(&self, element: &SerializedElement) -> PreparedCloudEvent<'_> {
        PreparedCloudEvent {
            codec: self,
            element: element.clone(),
            data: self.gzip.then(|| Deflated::new(element.json.as_bytes())),
        }
    }

    /// The CloudEvent of a change without data: its attributes and extensions.
    fn attributes(
        &self,
        element: &SerializedElement,
        kind: EventKind,
        timestamp: DateTime<Utc>,
        reference_only: bool,
    ) -> Result<Event, CloudEventError> {
        let mut builder = EventBuilderV10::new()
            .id(uuid::Uuid::new_v4().to_string())
            .source(self.source(element.element, &element.id))
            .ty(format!("{CLOUD_EVENT_TYPE_PREFIX}{kind}"))
            .time(timestamp)
            .extension(AAS_VERSION_EXTENSION, self.aas_version.as_str());
        if reference_only {
            builder = builder.extension("referenceonly", true);
        }
        if let Some(semantic_id) = &element.semantic_id {
            builder = builder.extension("semanticid", semantic_id.as_str());
        }
        builder
            .build()
            .map_err(|e| CloudEventError::Build(e.to_string()))
    }

    fn serialize(&self, event: &Event) -> Result<Vec<u8>, CloudEventError> {
        let json = serde_json::to_vec(event).map_err(CloudEventError::Json)?;
        Ok(if self.gzip { gzip::whole(&json) } else { json })
    }

    /// Reads a message (plain or gzip JSON, at most `max_size` bytes once expanded).
    ///
    /// # Errors
    ///
    /// [`CloudEventError`] when the message is too large, not (gzip) JSON of a CloudEvent, or
    /// not an AAS change event of a shell or submodel.
    pub fn decode(&self, message: &[u8], max_size: u64) -> Result<CloudChange, CloudEventError> {
        let json = if message.starts_with(&[0x1f, 0x8b]) {
            let mut json = Vec::new();
            GzDecoder::new(message)
                .take(max_size + 1)
                .read_to_end(&mut json)
                .map_err(CloudEventError::NotGzip)?;
            json
        } else {
            message.to_vec()
        };
        if json.len() as u64 > max_size {
            return Err(CloudEventError::TooLarge { max: max_size });
        }
        let event: Event = serde_json::from_slice(&json).map_err(CloudEventError::Json)?;
        read_change(&event)
    }
}

/// A CloudEvent of an element with the costly part done ([`CloudEventCodec::prepare`]).
#[derive(Debug, Clone)]
pub struct PreparedCloudEvent<'a> {
    codec: &'a CloudEventCodec,
    element: SerializedElement,
    /// The element's JSON deflated, when the codec compresses.
    data: Option<Deflated>,
}

impl PreparedCloudEvent<'_> {
    /// The message of the change `kind` at `timestamp` (no data on `deleted`).
    pub fn finish(
        &self,
        kind: EventKind,
        timestamp: DateTime<Utc>,
    ) -> Result<Vec<u8>, CloudEventError> {
        let event = self
            .codec
            .attributes(&self.element, kind, timestamp, false)?;
        if kind == EventKind::Deleted {
            return self.codec.serialize(&event);
        }
        // The attributes as the SDK writes them, then the data attributes with the element's
        // JSON as it is: `{…attributes…,"datacontenttype":…,"dataschema":…,"data":<JSON>}`.
        let mut head = serde_json::to_vec(&event).map_err(CloudEventError::Json)?;
        if head.pop() != Some(b'}') {
            return Err(CloudEventError::Build(
                "the CloudEvent's attributes are not a JSON object".into(),
            ));
        }
        let class = match self.element.element {
            ElementType::Shell => "AssetAdministrationShell",
            ElementType::Submodel => "Submodel",
        };
        head.extend_from_slice(b",\"datacontenttype\":\"application/json\",\"dataschema\":");
        serde_json::to_writer(
            &mut head,
            &format!("{CLOUD_EVENT_DATA_SCHEMA_PREFIX}{class}"),
        )
        .map_err(CloudEventError::Json)?;
        head.extend_from_slice(b",\"data\":");
        Ok(match &self.data {
            Some(data) => gzip::around(&head, data, b"}"),
            None => {
                head.extend_from_slice(self.element.json.as_bytes());
                head.push(b'}');
                head
            }
        })
    }
}

impl CloudChange {
    /// The change a CloudEvent describes.
    ///
    /// # Errors
    ///
    /// [`CloudEventError::Type`], [`CloudEventError::Source`] or [`CloudEventError::Data`]
    /// when the event is not an AAS change event of a shell or submodel.
    pub fn from_event(event: &Event) -> Result<Self, CloudEventError> {
        read_change(event)
    }
}

fn read_change(event: &Event) -> Result<CloudChange, CloudEventError> {
    let kind = match event.ty().strip_prefix(CLOUD_EVENT_TYPE_PREFIX) {
        Some("created") => EventKind::Created,
        Some("updated") => EventKind::Updated,
        Some("deleted") => EventKind::Deleted,
        _ => return Err(CloudEventError::Type(event.ty().to_owned())),
    };
    let source = event.source().to_string();
    let bad_source = || CloudEventError::Source(source.clone());
    let mut levels = source.trim_end_matches('/').rsplitn(3, '/');
    let (id, collection) = (
        levels.next().ok_or_else(bad_source)?,
        levels.next().ok_or_else(bad_source)?,
    );
    let element_type = match collection {
        "shells" => ElementType::Shell,
        "submodels" => ElementType::Submodel,
        _ => return Err(bad_source()),
    };
    let id = decode_id(id).map_err(|_| bad_source())?;
    let element =
        match event.data() {
            None => None,
            Some(data) => {
                let text = match data {
                    Data::Json(value) => value.to_string(),
                    Data::String(s) => s.clone(),
                    Data::Binary(b) => String::from_utf8_lossy(b).into_owned(),
                };
                Some(match element_type {
                    ElementType::Shell => {
                        Element::Shell(Box::new(aas_serde::json::from_str(&text).map_err(|e| {
                            CloudEventError::Data {
                                element: "shell",
                                message: e.to_string(),
                            }
                        })?))
                    }
                    ElementType::Submodel => Element::Submodel(Box::new(
                        aas_serde::json::from_str(&text).map_err(|e| CloudEventError::Data {
                            element: "submodel",
                            message: e.to_string(),
                        })?,
                    )),
                })
            }
        };
    Ok(CloudChange {
        kind,
        element_type,
        id,
        timestamp: event.time().copied(),
        event_id: event.id().to_owned(),
        element,
    })
}
