//! Envelopes and CloudEvents: what they hold on the wire, round trips, and bad input.

use std::io::{Read, Write};

use aas_model::*;
use chrono::{DateTime, Utc};
use events_core::envelope::EnvelopeError;
use events_core::*;
use flate2::read::GzDecoder;

const LIMIT: u64 = 16 << 20;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn shell() -> AssetAdministrationShell {
    let mut info = AssetInformation::new(AssetKind::Instance);
    info.global_asset_id = Some("urn:asset:1".into());
    AssetAdministrationShell::new("https://example.com/aas/1", info)
}

fn submodel() -> Submodel {
    let mut sm = Submodel::new("https://example.com/sm/1");
    sm.semantic_id = Some(Reference::global(
        "https://admin-shell.io/idta/nameplate/3/0",
    ));
    sm.submodel_elements = Some(vec![
        Property::new(DataTypeDefXsd::Int)
            .with_id_short("Speed")
            .into(),
    ]);
    sm
}

fn events() -> Vec<ChangeEvent> {
    let mut out = Vec::new();
    for kind in [EventKind::Created, EventKind::Updated, EventKind::Deleted] {
        out.push(ChangeEvent::Shell {
            kind,
            timestamp: at("2024-05-01T12:00:00.123456Z"),
            shell: Box::new(shell()),
        });
        out.push(ChangeEvent::Submodel {
            kind,
            timestamp: at("2024-05-01T12:00:01Z"),
            submodel: Box::new(submodel()),
            affected_shell_ids: vec!["https://example.com/aas/1".into()],
        });
    }
    out
}

fn gunzip(bytes: &[u8]) -> serde_json::Value {
    let mut json = Vec::new();
    GzDecoder::new(bytes).read_to_end(&mut json).unwrap();
    serde_json::from_slice(&json).unwrap()
}

#[test]
fn envelopes_round_trip_for_every_kind_and_element() {
    let scheme = TopicScheme::twinsphere();
    for event in events() {
        let (element, id) = event.element();
        let topic = scheme
            .parse(&scheme.topic(element, id, event.kind()))
            .unwrap();
        let message = envelope::encode(&event);
        assert_eq!(envelope::decode(&topic, &message, LIMIT).unwrap(), event);
    }
}

#[test]
fn the_envelope_is_gzip_json_with_the_payload_as_a_string() {
    let [shell_event, submodel_event] = [&events()[0], &events()[1]];
    let json = gunzip(&envelope::encode(shell_event));
    assert_eq!(json["version"], "1.0");
    assert_eq!(json["timestamp"], "2024-05-01T12:00:00.123456Z");
    let payload: AssetAdministrationShell =
        aas_serde::json::from_str(json["payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload, shell());
    assert!(
        json.get("affectedShellIds").is_none(),
        "only submodel envelopes carry affectedShellIds"
    );
    let json = gunzip(&envelope::encode(submodel_event));
    assert_eq!(json["timestamp"], "2024-05-01T12:00:01Z");
    assert_eq!(
        json["affectedShellIds"],
        serde_json::json!(["https://example.com/aas/1"])
    );
}

#[test]
fn bad_envelopes_are_typed_errors() {
    let scheme = TopicScheme::twinsphere();
    let shell_topic = scheme
        .parse(&scheme.topic(
            ElementType::Shell,
            "https://example.com/aas/1",
            EventKind::Updated,
        ))
        .unwrap();
    let gz = |text: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(text).unwrap();
        e.finish().unwrap()
    };
    assert!(matches!(
        envelope::decode(&shell_topic, b"{}", LIMIT),
        Err(EnvelopeError::NotGzip(_))
    ));
    assert!(matches!(
        envelope::decode(&shell_topic, &gz(b"not json"), LIMIT),
        Err(EnvelopeError::Json(_))
    ));
    assert!(matches!(
        envelope::decode(&shell_topic, &gz(br#"{"version":"1.0"}"#), LIMIT),
        Err(EnvelopeError::Json(_))
    ));
    let wrong_payload =
        br#"{"version":"1.0","timestamp":"2024-01-01T00:00:00Z","payload":"{\"foo\":1}"}"#;
    assert!(matches!(
        envelope::decode(&shell_topic, &gz(wrong_payload), LIMIT),
        Err(EnvelopeError::Payload { .. })
    ));
    let bad_time = br#"{"version":"1.0","timestamp":"yesterday","payload":"{}"}"#;
    assert!(matches!(
        envelope::decode(&shell_topic, &gz(bad_time), LIMIT),
        Err(EnvelopeError::Timestamp(_))
    ));
    let other = scheme
        .parse(&scheme.topic(ElementType::Shell, "urn:other", EventKind::Updated))
        .unwrap();
    assert!(matches!(
        envelope::decode(&other, &envelope::encode(&events()[0]), LIMIT),
        Err(EnvelopeError::IdMismatch { .. })
    ));
    // A gzip bomb: 100 MB of zeros.
    let bomb = gz(&vec![0u8; 100 << 20]);
    assert!(bomb.len() < 1_000_000, "expands more than 100x");
    assert!(matches!(
        envelope::decode(&shell_topic, &bomb, LIMIT),
        Err(EnvelopeError::TooLarge { .. })
    ));
}

#[test]
fn cloud_events_carry_the_attributes_consumers_expect() {
    let codec = CloudEventCodec::new("https://aas.example.com/api/v3/");
    let submodel_updated = &events()[3];
    let json: serde_json::Value =
        serde_json::from_slice(&codec.encode(submodel_updated).unwrap()).unwrap();
    assert_eq!(json["specversion"], "1.0");
    assert_eq!(json["type"], "io.admin-shell.events.v1.updated");
    assert_eq!(
        json["source"],
        "https://aas.example.com/api/v3/submodels/aHR0cHM6Ly9leGFtcGxlLmNvbS9zbS8x"
    );
    assert_eq!(json["datacontenttype"], "application/json");
    assert_eq!(
        json["dataschema"],
        "https://raw.githubusercontent.com/admin-shell-io/aas-specs-metamodel/refs/heads/master/schemas/json/aas.json#/definitions/Submodel"
    );
    assert_eq!(json["time"], "2024-05-01T12:00:01Z");
    assert_eq!(
        json["semanticid"],
        "https://admin-shell.io/idta/nameplate/3/0"
    );
    assert_eq!(
        json["data"]["id"], "https://example.com/sm/1",
        "data is the element itself, not a string"
    );
    assert_eq!(json["id"].as_str().unwrap().len(), 36, "a UUID");

    let shell_deleted = &events()[4];
    let json: serde_json::Value =
        serde_json::from_slice(&codec.encode(shell_deleted).unwrap()).unwrap();
    assert_eq!(json["type"], "io.admin-shell.events.v1.deleted");
    assert!(
        json.get("data").is_none() && json.get("dataschema").is_none(),
        "no data on deleted"
    );
}

#[test]
fn cloud_events_round_trip_plain_and_gzip() {
    for gzip in [false, true] {
        let codec = CloudEventCodec::new("https://aas.example.com").with_gzip(gzip);
        for event in events() {
            let message = codec.encode(&event).unwrap();
            assert_eq!(message.starts_with(&[0x1f, 0x8b]), gzip);
            let change = codec.decode(&message, LIMIT).unwrap();
            let (element_type, id) = event.element();
            assert_eq!(
                (change.kind, change.element_type, change.id.as_str()),
                (event.kind(), element_type, id)
            );
            assert_eq!(change.timestamp, Some(event.timestamp()));
            let expected = match (&event, event.kind()) {
                (_, EventKind::Deleted) => None,
                (ChangeEvent::Shell { shell, .. }, _) => Some(Element::Shell(shell.clone())),
                (ChangeEvent::Submodel { submodel, .. }, _) => {
                    Some(Element::Submodel(submodel.clone()))
                }
            };
            assert_eq!(change.element, expected);
        }
    }
}

#[test]
fn bad_cloud_events_are_typed_errors() {
    let codec = CloudEventCodec::new("https://aas.example.com");
    assert!(matches!(
        codec.decode(b"not json", LIMIT),
        Err(CloudEventError::Json(_))
    ));
    let base = r#"{"specversion":"1.0","id":"1","source":"https://aas.example.com/shells/YQ","type":"io.admin-shell.events.v1.created"}"#;
    assert!(codec.decode(base.as_bytes(), LIMIT).is_ok());
    let wrong_type = base.replace("v1.created", "v1.moved");
    assert!(matches!(
        codec.decode(wrong_type.as_bytes(), LIMIT),
        Err(CloudEventError::Type(_))
    ));
    let wrong_source = base.replace("/shells/YQ", "/things/YQ");
    assert!(matches!(
        codec.decode(wrong_source.as_bytes(), LIMIT),
        Err(CloudEventError::Source(_))
    ));
    let bad_data = base.replace(
        "}",
        r#","datacontenttype":"application/json","data":{"foo":1}}"#,
    );
    assert!(matches!(
        codec.decode(bad_data.as_bytes(), LIMIT),
        Err(CloudEventError::Data { .. })
    ));
}

#[test]
fn reference_only_messages_name_the_element_without_carrying_it() {
    let envelope = Encoding::twinsphere();
    let cloud = Encoding::cloud_events("https://aas.example.com/api");
    for event in events() {
        let (element, id) = event.element();
        let full = envelope.encode(&event).unwrap();
        let reference = envelope.encode_reference(&event).unwrap();
        assert_eq!(reference.topic, full.topic, "the same topic");
        let json = gunzip(&reference.payload);
        assert_eq!(json["referenceOnly"], true);
        assert_eq!(json["id"], id);
        assert_eq!(json["kind"], event.kind().as_str());
        assert_eq!(json["version"], "1.0");
        assert!(json.get("payload").is_none(), "{json}");
        assert_eq!(
            json.get("affectedShellIds").is_some(),
            element == ElementType::Submodel
        );
        assert_eq!(
            envelope::to_json(&reference.payload, LIMIT).unwrap(),
            json,
            "to_json expands the envelope"
        );
        let received = envelope
            .decode(&reference.topic, &reference.payload, LIMIT)
            .unwrap();
        assert_eq!(received, ReceivedEvent::Reference(event.reference()));
        assert_eq!(
            (received.element(), received.kind(), received.timestamp()),
            (event.element(), event.kind(), Some(event.timestamp()))
        );
        let topic = envelope.topics().parse(&reference.topic).unwrap();
        assert!(matches!(
            envelope::decode(&topic, &reference.payload, LIMIT),
            Err(EnvelopeError::ReferenceOnly(_))
        ));

        let slim = cloud.encode_reference(&event).unwrap();
        let json = envelope::to_json(&slim.payload, LIMIT).unwrap();
        assert_eq!(json["referenceonly"], true);
        assert!(json.get("data").is_none() && json.get("dataschema").is_none());
        match cloud.decode(&slim.topic, &slim.payload, LIMIT).unwrap() {
            ReceivedEvent::CloudEvent(change) => {
                assert_eq!((change.kind, change.id.as_str()), (event.kind(), id));
                assert_eq!(change.timestamp, Some(event.timestamp()));
                assert!(change.element.is_none());
            }
            other => panic!("{other:?}"),
        }
    }
    // A payload-less envelope must say it is reference-only.
    let topic = envelope
        .topics()
        .parse(
            &envelope
                .topics()
                .topic(ElementType::Shell, "urn:x", EventKind::Updated),
        )
        .unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder
        .write_all(br#"{"version":"1.0","timestamp":"2024-01-01T00:00:00Z"}"#)
        .unwrap();
    assert!(matches!(
        envelope::decode_any(&topic, &encoder.finish().unwrap(), LIMIT),
        Err(EnvelopeError::Json(_))
    ));
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder
        .write_all(br#"{"version":"1.0","timestamp":"2024-01-01T00:00:00Z","referenceOnly":true,"id":"urn:y"}"#)
        .unwrap();
    assert!(matches!(
        envelope::decode_any(&topic, &encoder.finish().unwrap(), LIMIT),
        Err(EnvelopeError::IdMismatch { .. })
    ));
}

/// `time` is optional in CloudEvents. An event without it has no timestamp (not 1970), and
/// the de-duplicator lets every such event through instead of dropping all but the first.
#[test]
fn cloud_events_without_a_time_have_none_and_are_never_taken_for_duplicates() {
    let codec = CloudEventCodec::new("https://aas.example.com");
    let timeless = r#"{"specversion":"1.0","id":"1","source":"https://aas.example.com/submodels/YQ","type":"io.admin-shell.events.v1.updated"}"#;
    let mut seen = Deduplicator::new(16);
    for n in 0..3 {
        let change = codec
            .decode(timeless.as_bytes(), LIMIT)
            .unwrap_or_else(|e| panic!("event {n}: {e}"));
        assert_eq!(change.timestamp, None);
        assert!(
            seen.accept(change.element_type, &change.id, change.timestamp),
            "time-less event {n} was dropped"
        );
    }
    let timed = timeless.replace("}", r#","time":"2024-05-01T12:00:00Z"}"#);
    let change = codec
        .decode(timed.as_bytes(), LIMIT)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(change.timestamp, Some(at("2024-05-01T12:00:00Z")));
    assert!(seen.accept(change.element_type, &change.id, change.timestamp));
    assert!(!seen.accept(change.element_type, &change.id, change.timestamp));
}

#[test]
fn the_encoder_takes_the_aas_version_cloud_events_name_it_and_envelopes_are_unchanged() {
    let submodel_updated = &events()[3];
    for (version, named) in [(Version::V3_0, "3.0"), (Version::V3_1, "3.1")] {
        let encoding = Encoding::cloud_events("https://aas.example.com").with_aas_version(version);
        let message = encoding.encode(submodel_updated).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
        assert_eq!(json[AAS_VERSION_EXTENSION], named, "{version}");
        assert_eq!(json["data"]["id"], "https://example.com/sm/1");
        let reference = encoding.encode_reference(submodel_updated).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&reference.payload).unwrap();
        assert_eq!(
            json[AAS_VERSION_EXTENSION], named,
            "reference-only too: the element at source is in it"
        );
    }
    assert_eq!(
        CloudEventCodec::new("https://a").aas_version(),
        Version::V3_1,
        "the newest by default"
    );
    // The envelope's JSON is the same in both versions (JSON has no version marker).
    let envelope = |version| {
        let message = Encoding::twinsphere()
            .with_aas_version(version)
            .encode(submodel_updated)
            .unwrap();
        gunzip(&message.payload)
    };
    assert_eq!(envelope(Version::V3_0), envelope(Version::V3_1));
}

#[test]
fn an_element_serialized_once_makes_the_same_messages_as_the_model() {
    let plain = Encoding::cloud_events("https://aas.example.com");
    let gzip = Encoding::CloudEvents {
        topics: TopicScheme::cloud_events(),
        codec: CloudEventCodec::new("https://aas.example.com").with_gzip(true),
    };
    for encoding in [Encoding::twinsphere(), plain, gzip] {
        for event in events() {
            let serialized = event.serialized();
            let (element, id) = event.element();
            assert_eq!(
                (serialized.element.element, serialized.element.id.as_str()),
                (element, id)
            );
            let from_model = encoding.encode(&event).unwrap();
            let from_json = encoding.encode_serialized(&serialized).unwrap();
            assert_eq!(from_json.topic, from_model.topic);
            let received = encoding
                .decode(&from_json.topic, &from_json.payload, LIMIT)
                .unwrap();
            match received {
                ReceivedEvent::Envelope(decoded) => assert_eq!(decoded, event),
                ReceivedEvent::CloudEvent(change) => {
                    assert_eq!(change.timestamp, Some(event.timestamp()));
                    let expected = match &event {
                        _ if event.kind() == EventKind::Deleted => None,
                        ChangeEvent::Shell { shell, .. } => Some(Element::Shell(shell.clone())),
                        ChangeEvent::Submodel { submodel, .. } => {
                            Some(Element::Submodel(submodel.clone()))
                        }
                    };
                    assert_eq!(change.element, expected);
                }
                other => panic!("{other:?}"),
            }
        }
    }
}

#[test]
fn the_envelope_of_a_serialized_element_carries_its_json_as_given() {
    let event = &events()[1];
    let mut serialized = event.serialized();
    // The JSON handed over is what the payload says, byte for byte (it is not written again).
    let json = aas_serde::json::to_string(&submodel());
    serialized.element.json = json.clone().into();
    let wire = gunzip(&envelope::encode_serialized(&serialized));
    assert_eq!(wire["payload"].as_str(), Some(json.as_str()));
    let mut raw = Vec::new();
    GzDecoder::new(&envelope::encode_serialized(&serialized)[..])
        .read_to_end(&mut raw)
        .unwrap();
    let text = String::from_utf8(raw).unwrap();
    assert!(
        text.starts_with(
            "{\"version\":\"1.0\",\"timestamp\":\"2024-05-01T12:00:01Z\",\"payload\":"
        ),
        "{text}"
    );
    assert!(
        text.ends_with(",\"affectedShellIds\":[\"https://example.com/aas/1\"]}"),
        "{text}"
    );
}

#[test]
fn a_prepared_message_is_finished_with_each_events_time_and_shells() {
    let scheme = TopicScheme::twinsphere();
    let element = SerializedElement::submodel(&submodel());
    let encoding = Encoding::twinsphere();
    let prepared = encoding.prepare(&element);
    for (kind, time, affected) in [
        (EventKind::Created, "2024-05-01T12:00:01Z", vec![]),
        (
            EventKind::Updated,
            "2024-05-01T12:00:02.5Z",
            vec!["urn:aas:a".to_owned(), "urn:aas:b".to_owned()],
        ),
    ] {
        let message = prepared.finish(kind, at(time), &affected).unwrap();
        let topic = scheme.parse(&message.topic).unwrap();
        assert_eq!(topic.kind, kind);
        let decoded = envelope::decode(&topic, &message.payload, LIMIT).unwrap();
        assert_eq!(
            decoded,
            ChangeEvent::Submodel {
                kind,
                timestamp: at(time),
                submodel: Box::new(submodel()),
                affected_shell_ids: affected,
            }
        );
    }
}

#[test]
fn payload_strings_are_escaped_exactly_and_each_message_deflates_on_its_own() {
    let event = &events()[1];
    let mut submodel = submodel();
    submodel.id_short = Some("Quotes".into());
    submodel.category = Some("say \"hi\" \\ back\n\té😀 \u{1}".into());
    let compact = aas_serde::json::to_string(&submodel);
    let pretty = String::from_utf8(aas_serde::json::to_vec_pretty(&submodel)).unwrap();
    // Compact JSON escapes its control characters; pretty JSON has raw newlines between
    // members. Messages made one after another on one thread share its compressor.
    for json in [compact.clone(), pretty, compact.repeat(2000), String::new()] {
        let mut serialized = event.serialized();
        serialized.element.json = json.clone().into();
        let wire = gunzip(&envelope::encode_serialized(&serialized));
        assert_eq!(wire["payload"].as_str(), Some(json.as_str()));
    }
}
