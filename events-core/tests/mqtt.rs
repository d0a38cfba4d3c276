//! The MQTT sink and subscriber against a real Mosquitto on 127.0.0.1 (the Debian package,
//! installed by `scripts/test-all.sh`): QoS 1 delivery, persistent sessions, duplicates,
//! reconnection, mutual TLS.

use std::time::Duration;

use aas_conformance_tests::TestResult;
use aas_conformance_tests::mosquitto::{Mosquitto, TestCertificates};
use aas_model::{AssetAdministrationShell, AssetInformation, AssetKind, Submodel};
use chrono::{DateTime, Utc};
use events_core::{
    Backoff, ChangeEvent, Encoding, EventClock, EventKind, EventSink, MqttConfig, MqttError,
    MqttSink, MqttSubscriber, MqttTls, ReceivedEvent, Subscription,
};

const WAIT: Duration = Duration::from_secs(10);

fn shell_event(id: &str, kind: EventKind, timestamp: DateTime<Utc>) -> ChangeEvent {
    let mut info = AssetInformation::new(AssetKind::Instance);
    info.global_asset_id = Some(format!("{id}/asset"));
    ChangeEvent::Shell {
        kind,
        timestamp,
        shell: Box::new(AssetAdministrationShell::new(id, info)),
    }
}

fn submodel_event(id: &str, kind: EventKind, timestamp: DateTime<Utc>) -> ChangeEvent {
    ChangeEvent::Submodel {
        kind,
        timestamp,
        submodel: Box::new(Submodel::new(id)),
        affected_shell_ids: vec!["urn:aas:1".into(), "urn:aas:2".into()],
    }
}

fn config(broker: &Mosquitto, client_id: &str) -> MqttConfig {
    MqttConfig::new("127.0.0.1", broker.port, client_id)
        .with_connect_timeout(Duration::from_secs(5))
        .with_backoff(Backoff {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(500),
        })
}

async fn next_event(
    subscriber: &mut MqttSubscriber,
) -> Result<ReceivedEvent, Box<dyn std::error::Error>> {
    match tokio::time::timeout(WAIT, subscriber.next()).await {
        Err(_) => Err("no event within 10 s".into()),
        Ok(None) => Err("the subscriber's connection ended".into()),
        Ok(Some(received)) => Ok(received?),
    }
}

fn every_kind(clock: &mut EventClock) -> Vec<ChangeEvent> {
    let mut events = Vec::new();
    for kind in [EventKind::Created, EventKind::Updated, EventKind::Deleted] {
        events.push(shell_event(
            "https://example.com/aas/1",
            kind,
            clock.next_timestamp(),
        ));
        events.push(submodel_event(
            "https://example.com/sm/1",
            kind,
            clock.next_timestamp(),
        ));
    }
    events
}

async fn delivers_every_kind(encoding: Encoding) -> TestResult {
    let broker = Mosquitto::plain();
    let mut subscriber = MqttSubscriber::connect(
        &config(&broker, "kinds-subscriber"),
        Subscription::new(encoding.clone()),
    )
    .await?;
    let sink = MqttSink::connect(&config(&broker, "kinds-publisher")).await?;
    let events = every_kind(&mut EventClock::new());
    for event in &events {
        sink.publish(&encoding.encode(event)?).await?;
    }
    for event in &events {
        let received = next_event(&mut subscriber).await?;
        match (&received, event) {
            (ReceivedEvent::Envelope(received), _) => assert_eq!(received, event),
            (ReceivedEvent::Reference(reference), _) => {
                return Err(format!("a reference-only event: {reference:?}").into());
            }
            (ReceivedEvent::CloudEvent(change), _) => {
                assert_eq!(
                    (change.kind, change.element_type, change.id.as_str()),
                    (event.kind(), event.element().0, event.element().1)
                );
                assert_eq!(change.timestamp, Some(event.timestamp()));
                assert_eq!(
                    change.element.is_none(),
                    event.kind() == EventKind::Deleted,
                    "data absent exactly on deleted"
                );
            }
            (other, _) => return Err(format!("an event of another kind: {other:?}").into()),
        }
    }
    sink.close().await;
    subscriber.disconnect().await;
    Ok(())
}

#[tokio::test]
async fn qos1_delivers_created_updated_deleted_of_shells_and_submodels_in_envelopes() -> TestResult
{
    delivers_every_kind(Encoding::twinsphere()).await
}

#[tokio::test]
async fn qos1_delivers_created_updated_deleted_of_shells_and_submodels_as_cloud_events()
-> TestResult {
    delivers_every_kind(Encoding::cloud_events("https://aas.example.com/api/v3.0")).await
}

#[tokio::test]
async fn persistent_subscriber_receives_what_was_published_while_it_was_offline() -> TestResult {
    let broker = Mosquitto::plain();
    let encoding = Encoding::twinsphere();
    let subscriber_config = config(&broker, "offline-subscriber");
    // Connect once to create the session and its subscription, then go offline.
    MqttSubscriber::connect(&subscriber_config, Subscription::new(encoding.clone()))
        .await?
        .disconnect()
        .await;

    let sink = MqttSink::connect(&config(&broker, "offline-publisher")).await?;
    let mut clock = EventClock::new();
    let events: Vec<_> = (0..50)
        .map(|n| {
            submodel_event(
                &format!("urn:sm:{n}"),
                EventKind::Updated,
                clock.next_timestamp(),
            )
        })
        .collect();
    for event in &events {
        sink.publish(&encoding.encode(event)?).await?;
    }

    let mut subscriber =
        MqttSubscriber::connect(&subscriber_config, Subscription::new(encoding)).await?;
    for event in &events {
        assert_eq!(
            next_event(&mut subscriber).await?,
            ReceivedEvent::Envelope(event.clone())
        );
    }
    Ok(())
}

#[tokio::test]
async fn subscriber_drops_redeliveries_and_late_events_and_reports_bad_messages() -> TestResult {
    let broker = Mosquitto::plain();
    let encoding = Encoding::twinsphere();
    let mut subscriber = MqttSubscriber::connect(
        &config(&broker, "dedup-subscriber"),
        Subscription::new(encoding.clone()),
    )
    .await?;
    let sink = MqttSink::connect(&config(&broker, "dedup-publisher")).await?;
    let mut clock = EventClock::new();
    let older = submodel_event("urn:sm:1", EventKind::Updated, clock.next_timestamp());
    let first = submodel_event("urn:sm:1", EventKind::Updated, clock.next_timestamp());
    let newest = submodel_event("urn:sm:1", EventKind::Deleted, clock.next_timestamp());
    let marker = shell_event("urn:aas:marker", EventKind::Created, clock.next_timestamp());
    let first_message = encoding.encode(&first)?;
    sink.publish(&first_message).await?;
    sink.publish(&first_message).await?; // a redelivery
    sink.publish(&encoding.encode(&older)?).await?; // arrives late
    sink.publish_bytes(&first_message.topic, b"not gzip".to_vec())
        .await?;
    sink.publish(&encoding.encode(&newest)?).await?;
    sink.publish(&encoding.encode(&marker)?).await?;

    assert_eq!(
        next_event(&mut subscriber).await?,
        ReceivedEvent::Envelope(first)
    );
    let bad = tokio::time::timeout(WAIT, subscriber.next())
        .await?
        .ok_or("connection ended")?;
    let error = bad
        .err()
        .ok_or("a message that is not gzip must be an error")?;
    assert!(error.to_string().contains("not gzip"), "{error}");
    assert_eq!(
        next_event(&mut subscriber).await?,
        ReceivedEvent::Envelope(newest)
    );
    assert_eq!(
        next_event(&mut subscriber).await?,
        ReceivedEvent::Envelope(marker)
    );
    Ok(())
}

#[tokio::test]
async fn publish_during_a_broker_outage_completes_after_the_broker_is_back() -> TestResult {
    let mut broker = Mosquitto::plain();
    let encoding = Encoding::twinsphere();
    let sink = MqttSink::connect(&config(&broker, "outage-publisher")).await?;
    broker.stop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let event = shell_event(
        "urn:aas:outage",
        EventKind::Created,
        EventClock::new().next_timestamp(),
    );
    let message = encoding.encode(&event)?;
    let publishing = tokio::spawn(async move { sink.publish(&message).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !publishing.is_finished(),
        "publish must wait for the PUBACK, not return while the broker is down"
    );
    broker.restart();
    tokio::time::timeout(WAIT, publishing).await???;
    Ok(())
}

#[tokio::test]
async fn mutual_tls_connects_with_a_client_certificate_and_refuses_clients_without_one()
-> TestResult {
    let certs = TestCertificates::generate()?;
    let broker = Mosquitto::mutual_tls(&certs);
    let trusted = || -> Result<MqttTls, MqttError> {
        MqttTls::with_ca_pem(certs.ca_pem.as_bytes())?
            .with_client_auth(certs.client_pem.as_bytes(), certs.client_key_pem.as_bytes())
    };
    let encoding = Encoding::twinsphere();
    let mut subscriber = MqttSubscriber::connect(
        &config(&broker, "tls-subscriber").with_tls(trusted()?),
        Subscription::new(encoding.clone()),
    )
    .await?;
    let sink = MqttSink::connect(
        &config(&broker, "tls-publisher")
            .with_tls(trusted()?)
            .with_credentials("publisher", ""),
    )
    .await?;
    let event = shell_event(
        "urn:aas:tls",
        EventKind::Created,
        EventClock::new().next_timestamp(),
    );
    sink.publish(&encoding.encode(&event)?).await?;
    assert_eq!(
        next_event(&mut subscriber).await?,
        ReceivedEvent::Envelope(event)
    );

    let without_certificate = MqttTls::with_ca_pem(certs.ca_pem.as_bytes())?;
    let refused =
        MqttSink::connect(&config(&broker, "tls-anonymous").with_tls(without_certificate)).await;
    assert!(
        matches!(refused, Err(MqttError::Connect { .. })),
        "no client certificate: {refused:?}"
    );
    assert!(
        format!("{refused:?}").contains("CertificateRequired"),
        "{refused:?}"
    );

    let untrusted = MqttTls::with_ca_pem(certs.ca_pem.as_bytes())?.with_client_auth(
        certs.stranger_pem.as_bytes(),
        certs.stranger_key_pem.as_bytes(),
    )?;
    let refused = MqttSink::connect(&config(&broker, "tls-stranger").with_tls(untrusted)).await;
    assert!(
        matches!(refused, Err(MqttError::Connect { .. })),
        "certificate of an unknown CA: {refused:?}"
    );
    assert!(format!("{refused:?}").contains("UnknownCA"), "{refused:?}");

    let plain = MqttSink::connect(&config(&broker, "tls-plain")).await;
    assert!(
        plain.is_err(),
        "a plain connection to the TLS listener must fail"
    );
    Ok(())
}

#[tokio::test]
async fn connecting_to_a_closed_port_fails_with_the_broker_named() -> TestResult {
    let broker = Mosquitto::plain();
    let mut config = config(&broker, "nobody");
    drop(broker);
    config = config.with_connect_timeout(Duration::from_secs(2));
    let error = MqttSink::connect(&config)
        .await
        .err()
        .ok_or("connecting to a stopped broker must fail")?;
    assert!(error.to_string().contains("127.0.0.1:"), "{error}");
    Ok(())
}
