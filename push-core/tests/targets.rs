//! Target configurations: SAS URLs refused at creation with a precise message, secrets
//! redacted, and the local directory confined.

use chrono::{TimeZone, Utc};
use push_core::{BlobSasUrl, PushError, PushTarget, TargetConfig, TargetError, TargetOptions};

fn options(allow_insecure: bool) -> TargetOptions {
    TargetOptions {
        allow_insecure,
        now: Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default(),
    }
}

const GOOD: &str = "https://acct.blob.core.windows.net/twins?sp=racwdl&st=2025-01-01T00:00:00Z&se=2027-01-01T00:00:00Z&spr=https&sv=2022-11-02&sr=c&sig=c2VjcmV0%2Bc2lnbmF0dXJl";

fn refusal(url: &str, allow_insecure: bool) -> String {
    match BlobSasUrl::parse(url, &options(allow_insecure)) {
        Ok(parsed) => panic!("{url} must be refused, got {parsed:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn container_sas_urls_of_both_host_forms_parse_into_account_and_container()
-> Result<(), TargetError> {
    let azure = BlobSasUrl::parse(GOOD, &options(false))?;
    assert_eq!(
        (azure.account(), azure.container(), azure.permissions()),
        ("acct", "twins", "racwdl")
    );
    let emulator = BlobSasUrl::parse(
        "http://127.0.0.1:10000/devstoreaccount1/twins?sp=cw&se=2027-01-01&sr=c&sv=2022-11-02&sig=abc",
        &options(true),
    )?;
    assert_eq!(
        (emulator.account(), emulator.container()),
        ("devstoreaccount1", "twins")
    );
    Ok(())
}

#[test]
fn unusable_sas_urls_are_refused_saying_what_is_wrong() {
    let cases = [
        ("not a url", false, "not a URL"),
        (&GOOD.replace("https://", "http://"), false, "not https"),
        (&GOOD.replace("https://", "ftp://"), false, "not https"),
        (
            &GOOD.replace("&sig=c2VjcmV0%2Bc2lnbmF0dXJl", ""),
            false,
            "no SAS signature",
        ),
        (
            &GOOD.replace("/twins?", "/twins/a/b.json?"),
            false,
            "names a blob (\"a/b.json\")",
        ),
        (&GOOD.replace("sr=c", "sr=b"), false, "not a container"),
        (
            &GOOD.replace("se=2027", "se=2025"),
            false,
            "expired at 2025-01-01",
        ),
        (
            &GOOD.replace("se=2027-01-01T00:00:00Z", "se=tomorrow"),
            false,
            "is not a date",
        ),
        (
            &GOOD.replace("sp=racwdl", "sp=rl"),
            false,
            "neither write (w) nor create (c)",
        ),
        (
            "https://acct.blob.core.windows.net/?sig=x&sp=w",
            false,
            "names no container",
        ),
        (
            "http://127.0.0.1:10000/devstoreaccount1?sig=x&sp=w",
            true,
            "names no container",
        ),
    ];
    for (url, insecure, expected) in cases {
        let message = refusal(url, insecure);
        assert!(
            message.contains(expected),
            "{url}: {message:?} should say {expected:?}"
        );
        assert!(
            !message.contains("c2VjcmV0"),
            "the signature leaked: {message}"
        );
    }
}

#[test]
fn secrets_never_show_in_debug_or_redacted_views() -> Result<(), Box<dyn std::error::Error>> {
    let config: TargetConfig = serde_json::from_str(&format!(
        r#"{{"name": "prod", "type": "azure-blob-storage", "configuration": {{"blobContainerSasUrl": "{GOOD}"}}}}"#
    ))?;
    let debug = format!("{config:?}");
    let redacted = serde_json::to_string(&config.redacted())?;
    for shown in [
        &debug,
        &redacted,
        &format!("{:?}", BlobSasUrl::parse(GOOD, &options(false))?),
    ] {
        assert!(!shown.contains("c2VjcmV0"), "signature shown: {shown}");
        assert!(shown.contains("REDACTED"), "{shown}");
    }
    // Stored form keeps the secret (the server encrypts it at rest) and uses the main field name.
    assert!(serde_json::to_string(&config)?.contains("\"blobSasUrl\""));
    let s3: TargetConfig = serde_json::from_str(
        r#"{"name": "s3", "type": "s3", "configuration": {"bucket": "b", "accessKeyId": "AKIA", "secretAccessKey": "topsecret"}}"#,
    )?;
    assert!(!format!("{s3:?}").contains("topsecret"));
    assert!(!serde_json::to_string(&s3.redacted())?.contains("topsecret"));
    Ok(())
}

#[test]
fn unknown_target_types_and_fields_are_refused() {
    for text in [
        r#"{"name": "x", "type": "ftp", "configuration": {}}"#,
        r#"{"name": "x", "type": "local-directory", "configuration": {"path": "/tmp", "extra": 1}}"#,
        r#"{"name": "x", "type": "azure-blob-storage", "configuration": {}}"#,
    ] {
        assert!(
            serde_json::from_str::<TargetConfig>(text).is_err(),
            "{text}"
        );
    }
}

#[tokio::test]
async fn local_directory_refuses_names_that_would_leave_it()
-> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let inner = dir.path().join("target");
    let config: TargetConfig = serde_json::from_value(serde_json::json!({
        "name": "dev", "type": "local-directory", "configuration": {"path": inner}
    }))?;
    let target = config.build(&TargetOptions::default())?;
    for name in [
        "../escape.json",
        "a/../../escape.json",
        "/etc/passwd",
        "",
        "a//b",
        "a\\..\\b",
        "./x",
    ] {
        let refused = target.upload(name, "{}".into(), "application/json").await;
        assert!(
            matches!(refused, Err(PushError::BadName { .. })),
            "{name:?}: {refused:?}"
        );
    }
    assert!(!dir.path().join("escape.json").exists());
    let uploaded = target
        .upload("sub/dir/ok.json", "{}".into(), "application/json")
        .await?;
    assert_eq!(uploaded.size, 2);
    assert_eq!(std::fs::read(inner.join("sub/dir/ok.json"))?, b"{}");
    target.check().await?;
    Ok(())
}
