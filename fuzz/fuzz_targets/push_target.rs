//! Push target configurations and job requests as users send them, and container SAS URLs: an error, or a
//! parsed target whose shown forms hide the signature. Nothing connects: only parsing and the
//! client construction run.
#![no_main]
use libfuzzer_sys::fuzz_target;
use push_core::{BlobSasUrl, REDACTED, TargetConfig, TargetKind, TargetOptions};

/// Every `sig` of a shown URL (decoded, as Azure reads it) is the placeholder.
fn assert_hidden(shown: &str) {
    if let Ok(url) = url::Url::parse(shown) {
        for (key, value) in url.query_pairs() {
            assert!(
                key != "sig" || value == REDACTED,
                "signature shown: {shown:?}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for allow_insecure in [false, true] {
        let options = TargetOptions {
            allow_insecure,
            ..TargetOptions::default()
        };
        if let Ok(url) = BlobSasUrl::parse(text, &options) {
            assert_hidden(&url.redacted());
            assert_hidden(&url.to_string());
            let _ = url.object_store();
        }
    }
    if let Ok(config) = serde_json::from_slice::<TargetConfig>(data)
        && let TargetKind::AzureBlobStorage { blob_sas_url } = &config.redacted().kind
    {
        assert_hidden(blob_sas_url);
    }
    let _ = serde_json::from_slice::<push_core::PushRequest>(data);
    let _ = push_core::target::object_path(text);
});
