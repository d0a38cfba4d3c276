//! The mutual-TLS listener of the embedded broker: certificates admitted by thumbprint, the
//! CONNECT username bound to the certificate, at most three sessions per username, takeover
//! by client id.

use std::time::Duration;

use events_core::{
    Encoding, MqttConfig, MqttSink, MqttSubscriber, MqttTls, ReceivedEvent, Subscription,
};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::json;

mod support;

use aas_conformance_tests::mosquitto::TestCertificates;
use support::{DataDir, Failure, Launch, Server, TestResult};

fn sha256_thumbprint(pem: &str) -> Result<String, Failure> {
    let der = CertificateDer::from_pem_slice(pem.as_bytes())?;
    Ok(ring::digest::digest(&ring::digest::SHA256, der.as_ref())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}:"))
        .collect::<String>()
        .trim_end_matches(':')
        .to_owned())
}

fn client(port: u16, id: &str, username: &str, tls: MqttTls) -> MqttConfig {
    MqttConfig::new("127.0.0.1", port, id)
        .with_tls(tls)
        .with_credentials(username, "")
        .with_connect_timeout(Duration::from_secs(5))
}

#[tokio::test]
async fn listed_certificates_connect_as_their_username_with_at_most_three_sessions() -> TestResult {
    let certs = TestCertificates::generate()?;
    let data = DataDir::new("mqtt-tls");
    std::fs::create_dir_all(&data.0)?;
    let write = |name: &str, content: &str| -> Result<String, Failure> {
        let path = data.0.join(name);
        std::fs::write(&path, content)?;
        Ok(path.display().to_string())
    };
    let tls_port = support::free_port();
    let config = format!(
        "[mqtt.tls]\nlisten = \"127.0.0.1:{tls_port}\"\ncert-file = \"{}\"\nkey-file = \"{}\"\n\
         clients = [{{ thumbprint = \"{}\", username = \"alice\" }}]\n",
        write("server.pem", &certs.server_pem)?,
        write("server.key", &certs.server_key_pem)?,
        sha256_thumbprint(&certs.client_pem)?,
    );
    let config_path = write("server.toml", &config)?;
    let server = Server::launch(&data, &Launch::default().arg("--config").arg(config_path))?;
    let ca = certs.ca_pem.as_bytes();
    let alice = || {
        MqttTls::with_ca_pem(ca)?
            .with_client_auth(certs.client_pem.as_bytes(), certs.client_key_pem.as_bytes())
    };

    // A listed certificate with its username: connected, and events flow through.
    let mut subscriber = MqttSubscriber::connect(
        &client(tls_port, "alice-watch", "alice", alice()?),
        Subscription::new(Encoding::twinsphere()),
    )
    .await?;
    let submodel = json!({"id": "urn:sm:tls", "modelType": "Submodel"});
    let created = reqwest::Client::new()
        .post(server.url("/submodels"))
        .header("content-type", "application/json")
        .body(submodel.to_string())
        .send()
        .await?;
    assert_eq!(created.status().as_u16(), 201);
    let event = tokio::time::timeout(Duration::from_secs(10), subscriber.next()).await?;
    assert!(
        matches!(event, Some(Ok(ReceivedEvent::Envelope(_)))),
        "{event:?}"
    );
    subscriber.disconnect().await;

    // Refused: a certificate not on the list, no certificate, another username.
    let stranger = MqttTls::with_ca_pem(ca)?.with_client_auth(
        certs.stranger_pem.as_bytes(),
        certs.stranger_key_pem.as_bytes(),
    )?;
    assert!(
        MqttSink::connect(&client(tls_port, "s", "alice", stranger))
            .await
            .is_err()
    );
    assert!(
        MqttSink::connect(&client(tls_port, "n", "alice", MqttTls::with_ca_pem(ca)?))
            .await
            .is_err()
    );
    assert!(
        MqttSink::connect(&client(tls_port, "m", "mallory", alice()?))
            .await
            .is_err()
    );

    // Three sessions of alice; a fourth is refused; the same client id takes one over.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut open = Vec::new();
    for id in ["a1", "a2", "a3"] {
        open.push(MqttSink::connect(&client(tls_port, id, "alice", alice()?)).await?);
    }
    let fourth = MqttSink::connect(&client(tls_port, "a4", "alice", alice()?)).await;
    assert!(fourth.is_err(), "a fourth concurrent session is refused");
    let takeover = MqttSink::connect(&client(tls_port, "a1", "alice", alice()?)).await;
    assert!(
        takeover.is_ok(),
        "a new connection with a known client id replaces the old one: {:?}",
        takeover.err()
    );
    Ok(())
}
