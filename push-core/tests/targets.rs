//! Target configurations: SAS URLs and S3 endpoints refused at creation with a precise message
//! (https, or plain http to loopback only), secrets redacted, local directories confined to
//! the configured root, and the URL a target connects to.

use chrono::{TimeZone, Utc};
use push_core::{
    BlobSasUrl, PushError, PushTarget, TargetConfig, TargetError, TargetKind, TargetOptions,
};

fn options(allow_insecure: bool) -> TargetOptions {
    TargetOptions::default()
        .with_allow_insecure(allow_insecure)
        .with_now(
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .unwrap_or_default(),
        )
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
        (
            // Path segments are percent-decoded; `+` stays a plus.
            &GOOD.replace("/twins?", "/twins/a%20b+c%26d%2F.json?"),
            false,
            "names a blob (\"a b+c&d/.json\")",
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
    let target = config.build(&TargetOptions::default().with_local_root(dir.path()))?;
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

fn local(path: impl Into<std::path::PathBuf>) -> TargetConfig {
    TargetConfig {
        name: "dev".into(),
        kind: TargetKind::LocalDirectory { path: path.into() },
    }
}

fn refusal_of(config: &TargetConfig, options: &TargetOptions) -> TargetError {
    match config.build(options) {
        Ok(target) => panic!("{config:?} must be refused, got {target:?}"),
        Err(error) => error,
    }
}

#[test]
fn local_directory_targets_are_refused_without_a_root() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let wanted = dir.path().join("out");
    let error = refusal_of(&local(&wanted), &TargetOptions::default());
    assert!(matches!(error, TargetError::LocalDisabled), "{error:?}");
    assert_eq!(
        error.to_string(),
        "local-directory targets are disabled: no root is configured"
    );
    assert!(!wanted.exists(), "nothing is created");
    Ok(())
}

#[test]
fn a_local_directory_leaving_the_root_through_dotdot_is_refused()
-> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("root");
    std::fs::create_dir(&root)?;
    std::fs::write(dir.path().join("secret.key"), "key")?;
    let options = TargetOptions::default().with_local_root(&root);
    for path in [
        std::path::PathBuf::from(".."),
        "../escape".into(),
        "a/../../escape".into(),
        root.join("../escape"),
        dir.path().to_owned(),
        "/".into(),
    ] {
        let error = refusal_of(&local(&path), &options);
        assert!(
            matches!(error, TargetError::OutsideRoot { .. }),
            "{path:?}: {error:?}"
        );
    }
    let message = refusal_of(&local("../escape"), &options).to_string();
    assert!(
        message.contains("../escape")
            && message.contains(&root.canonicalize()?.display().to_string()),
        "names the path and the root: {message}"
    );
    assert!(
        !dir.path().join("escape").exists(),
        "nothing created outside"
    );
    assert!(
        !root.join("a").exists(),
        "nothing created for a refused path"
    );
    Ok(())
}

#[cfg(unix)]
#[test]
fn a_symlink_inside_the_root_pointing_outside_is_refused() -> Result<(), Box<dyn std::error::Error>>
{
    let dir = tempfile::tempdir()?;
    let (root, outside) = (dir.path().join("root"), dir.path().join("outside"));
    std::fs::create_dir(&root)?;
    std::fs::create_dir(&outside)?;
    std::os::unix::fs::symlink(&outside, root.join("link"))?;
    let options = TargetOptions::default().with_local_root(&root);
    for path in [
        std::path::PathBuf::from("link"),
        "link/sub".into(),
        root.join("link/sub/deeper"),
    ] {
        let error = refusal_of(&local(&path), &options);
        assert!(
            matches!(error, TargetError::OutsideRoot { .. }),
            "{path:?}: {error:?}"
        );
    }
    assert!(
        !outside.join("sub").exists(),
        "nothing created through the link"
    );
    // A symlink that stays inside the root is followed.
    std::fs::create_dir(root.join("real"))?;
    std::os::unix::fs::symlink(root.join("real"), root.join("inner-link"))?;
    local("inner-link/sub").build(&options)?;
    assert!(root.join("real/sub").is_dir());
    Ok(())
}

#[tokio::test]
async fn a_path_inside_the_root_is_accepted_and_uploads_land_there()
-> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("root");
    std::fs::create_dir(&root)?;
    let options = TargetOptions::default().with_local_root(&root);
    let absolute = local(root.join("absolute/out")).build(&options)?;
    absolute
        .upload("a.json", "{}".into(), "application/json")
        .await?;
    assert_eq!(std::fs::read(root.join("absolute/out/a.json"))?, b"{}");
    // Relative paths are taken relative to the root, not to the working directory.
    let relative = local("relative/../relative/out").build(&options)?;
    relative
        .upload("b.json", "[]".into(), "application/json")
        .await?;
    assert_eq!(std::fs::read(root.join("relative/out/b.json"))?, b"[]");
    // The root itself is allowed.
    local("").build(&options)?;
    // A root that does not exist is refused, naming it.
    let missing = dir.path().join("missing");
    let error = refusal_of(
        &local("x"),
        &TargetOptions::default().with_local_root(&missing),
    );
    assert!(matches!(error, TargetError::LocalRoot { .. }), "{error:?}");
    assert!(error.to_string().contains("missing"), "{error}");
    Ok(())
}

fn s3_with_endpoint(endpoint: &str) -> TargetConfig {
    TargetConfig {
        name: "s3".into(),
        kind: TargetKind::S3 {
            bucket: "twins".into(),
            region: Some("us-east-1".into()),
            endpoint: Some(endpoint.into()),
            access_key_id: "AKIA".into(),
            secret_access_key: "topsecret".into(),
        },
    }
}

const EMULATOR_QUERY: &str = "sp=cw&se=2027-01-01&sr=c&sv=2022-11-02&sig=c2VjcmV0";

#[test]
fn plain_http_is_accepted_only_to_loopback_hosts() {
    let loopback = [
        "127.0.0.1:10000",
        "127.8.9.10:10000",
        "[::1]:10000",
        "localhost:10000",
        "LOCALHOST:10000",
    ];
    let elsewhere = [
        "10.0.0.1:10000",
        "192.168.1.20",
        "0.0.0.0:10000",
        "[::ffff:127.0.0.1]:10000",
        "[fe80::1]:10000",
        "example.com",
        "localhost.example.com",
        "127.0.0.1.nip.io",
    ];
    for host in loopback {
        let sas = format!("http://{host}/devstoreaccount1/twins?{EMULATOR_QUERY}");
        assert!(BlobSasUrl::parse(&sas, &options(true)).is_ok(), "{sas}");
        assert!(
            refusal(&sas, false).contains("not https"),
            "without the flag: {sas}"
        );
        let endpoint = format!("http://{host}");
        assert!(
            s3_with_endpoint(&endpoint).build(&options(true)).is_ok(),
            "{endpoint}"
        );
        let error = refusal_of(&s3_with_endpoint(&endpoint), &options(false)).to_string();
        assert!(error.contains("not https"), "{endpoint}: {error}");
    }
    for host in elsewhere {
        let sas = format!("http://{host}/devstoreaccount1/twins?{EMULATOR_QUERY}");
        let message = refusal(&sas, true);
        assert!(
            message.contains("only accepted to a loopback host"),
            "{sas}: {message}"
        );
        let endpoint = format!("http://{host}");
        let error = refusal_of(&s3_with_endpoint(&endpoint), &options(true)).to_string();
        assert!(
            error.starts_with("endpoint:") && error.contains("only accepted to a loopback host"),
            "{endpoint}: {error}"
        );
        // https to the same hosts is fine.
        let https = endpoint.replacen("http:", "https:", 1);
        assert!(
            s3_with_endpoint(&https).build(&options(false)).is_ok(),
            "{https}"
        );
    }
}

#[test]
fn only_http_and_https_schemes_are_accepted() {
    for scheme in ["file", "gopher", "ftp", "ws", "unix"] {
        let sas = format!("{scheme}://127.0.0.1/devstoreaccount1/twins?{EMULATOR_QUERY}");
        let message = refusal(&sas, true);
        assert!(message.contains(&format!("scheme {scheme:?}")), "{message}");
        for endpoint in [
            format!("{scheme}://127.0.0.1:9000"),
            format!("{scheme}:///tmp/bucket"),
        ] {
            let error = refusal_of(&s3_with_endpoint(&endpoint), &options(true)).to_string();
            assert!(error.starts_with("endpoint:"), "{endpoint}: {error}");
        }
    }
}

#[test]
fn s3_names_that_could_move_the_request_elsewhere_are_refused() {
    for (bucket, region, field) in [
        ("twins", "x@10.0.0.1/", "region"),
        ("twins", "eu.evil.example", "region"),
        ("twins", "", "region"),
        ("a/../b", "us-east-1", "bucket"),
        ("b?x=1", "us-east-1", "bucket"),
        ("", "us-east-1", "bucket"),
    ] {
        let config = TargetConfig {
            name: "s3".into(),
            kind: TargetKind::S3 {
                bucket: bucket.into(),
                region: Some(region.into()),
                endpoint: None,
                access_key_id: "AKIA".into(),
                secret_access_key: "topsecret".into(),
            },
        };
        let error = refusal_of(&config, &options(false)).to_string();
        assert!(error.starts_with(field), "{bucket:?} {region:?}: {error}");
        assert!(config.target_url().is_err());
    }
    for endpoint in [
        "http://user:pass@127.0.0.1:9000",
        "http://127.0.0.1:9000/?x=1",
        "http://127.0.0.1:9000/#x",
    ] {
        let error = refusal_of(&s3_with_endpoint(endpoint), &options(true)).to_string();
        assert!(error.contains("is not of the form"), "{endpoint}: {error}");
    }
}

#[test]
fn target_url_is_where_the_target_connects_without_secrets()
-> Result<(), Box<dyn std::error::Error>> {
    let azure = TargetConfig {
        name: "a".into(),
        kind: TargetKind::AzureBlobStorage {
            blob_sas_url: GOOD.into(),
        },
    };
    let url = azure.target_url()?.map(String::from);
    assert_eq!(
        url.as_deref(),
        Some("https://acct.blob.core.windows.net/twins")
    );
    // The same target builds (no request is made).
    azure.build(&options(false))?;
    let with_user = TargetConfig {
        name: "a".into(),
        kind: TargetKind::AzureBlobStorage {
            blob_sas_url: GOOD.replace("https://", "https://user:pw@"),
        },
    };
    assert_eq!(
        with_user.target_url()?.map(String::from).as_deref(),
        Some("https://acct.blob.core.windows.net/twins")
    );
    let emulator = s3_with_endpoint("http://127.0.0.1:9000/");
    assert_eq!(
        emulator.target_url()?.map(String::from).as_deref(),
        Some("http://127.0.0.1:9000/twins")
    );
    let aws = TargetConfig {
        name: "aws".into(),
        kind: TargetKind::S3 {
            bucket: "twins".into(),
            region: Some("eu-west-1".into()),
            endpoint: None,
            access_key_id: "AKIA".into(),
            secret_access_key: "topsecret".into(),
        },
    };
    let url = aws.target_url()?.ok_or("no URL")?;
    assert_eq!(url.as_str(), "https://s3.eu-west-1.amazonaws.com/twins");
    assert_eq!(url.host_str(), Some("s3.eu-west-1.amazonaws.com"));
    assert_eq!(local("/anywhere").target_url()?, None);
    Ok(())
}
