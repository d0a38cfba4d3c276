//! What stands in for secrets, and SAS URLs with their signature hidden: needed by every
//! build (a configuration of any kind is shown redacted, whichever backends are compiled in).

/// What stands in for a secret.
pub const REDACTED: &str = "REDACTED";

/// A SAS URL with its signature (`sig`) replaced by `REDACTED`; text that is not a URL is
/// replaced whole.
pub(crate) fn redact_sas(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => {
            let mut redacted = parsed.clone();
            let pairs: Vec<(String, String)> = parsed
                .query_pairs()
                .map(|(k, v)| {
                    let v = if k == "sig" {
                        REDACTED.to_owned()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            if !pairs.is_empty() {
                redacted.query_pairs_mut().clear().extend_pairs(pairs);
            }
            redacted.to_string()
        }
        // Not a URL: nothing in it can be shown safely.
        Err(_) => REDACTED.into(),
    }
}
