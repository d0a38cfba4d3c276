//! Azure Blob Storage targets given by a container SAS URL.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::client::DnsResolver;
use url::Url;

use crate::client::Connector;
use crate::error::TargetError;
use crate::redact::redact_sas;
use crate::target::{TargetOptions, check_transport};

/// A container SAS URL, parsed and checked: account, container and the SAS token.
///
/// `Debug` and `Display` show it with the signature redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct BlobSasUrl {
    url: Url,
    account: String,
    container: String,
    /// Path style (`http://host:port/<account>/<container>`), as emulators use.
    path_style: bool,
    expiry: Option<DateTime<Utc>>,
    permissions: String,
}

const AZURE_HOST_SUFFIX: &str = ".blob.core.windows.net";

impl BlobSasUrl {
    /// Parses and checks a container SAS URL: refused when it is not a URL, not https (plain
    /// http only to a loopback host with `allow_insecure`), has no `sig`, names a blob rather
    /// than a container, has expired, or grants neither write (`w`) nor create (`c`)
    /// permission.
    pub fn parse(text: &str, options: &TargetOptions) -> Result<Self, TargetError> {
        let sas = |why: String| TargetError::SasUrl(why);
        let url = Url::parse(text.trim()).map_err(|e| sas(format!("not a URL ({e})")))?;
        check_transport(&url, options.allow_insecure).map_err(|source| TargetError::Transport {
            field: "blobSasUrl",
            source,
        })?;
        let host = url
            .host_str()
            .ok_or_else(|| sas("the URL has no host".into()))?
            .to_owned();
        let segments: Vec<String> = url
            .path_segments()
            .map(|s| s.filter(|s| !s.is_empty()).map(percent_decode).collect())
            .unwrap_or_default();
        let (account, container, path_style) = match host.strip_suffix(AZURE_HOST_SUFFIX) {
            Some(account) => match segments.as_slice() {
                [container] => (account.to_owned(), container.clone(), false),
                [] => return Err(sas("the URL names no container (expected https://<account>.blob.core.windows.net/<container>?<SAS>)".into())),
                _ => return Err(sas(blob_instead_of_container(&segments[1..]))),
            },
            None => match segments.as_slice() {
                [account, container] => (account.clone(), container.clone(), true),
                [_] | [] => return Err(sas("the URL names no container (expected http(s)://<host>/<account>/<container>?<SAS> for an emulator, or https://<account>.blob.core.windows.net/<container>?<SAS>)".into())),
                _ => return Err(sas(blob_instead_of_container(&segments[2..]))),
            },
        };
        let query = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        if query("sig").is_none_or(|sig| sig.is_empty()) {
            return Err(sas("the URL has no SAS signature (sig); copy the container's SAS URL, not its plain URL".into()));
        }
        if let Some(resource) = query("sr")
            && resource != "c"
        {
            return Err(sas(format!(
                "the SAS is for resource {resource:?}, not a container (sr=c): create the SAS on the container, not on a blob"
            )));
        }
        let expiry = match query("se") {
            None => None,
            Some(se) => Some(
                parse_sas_time(&se)
                    .ok_or_else(|| sas(format!("the expiry se={se:?} is not a date and time")))?,
            ),
        };
        if let Some(expiry) = expiry
            && expiry <= options.now
        {
            return Err(sas(format!(
                "the SAS expired at {} (se)",
                expiry.to_rfc3339()
            )));
        }
        let permissions = query("sp").unwrap_or_default();
        if !permissions.contains('w') && !permissions.contains('c') {
            return Err(sas(format!(
                "the SAS grants {permissions:?} (sp) but neither write (w) nor create (c) permission"
            )));
        }
        Ok(Self {
            url,
            account,
            container,
            path_style,
            expiry,
            permissions,
        })
    }

    /// The storage account: the first label of `<account>.blob.core.windows.net`, or the
    /// first path segment of an emulator's path-style URL (`http://host:port/<account>/...`).
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The container the SAS is for, percent-decoded.
    pub fn container(&self) -> &str {
        &self.container
    }

    /// When the SAS expires (`se`), if it says.
    pub fn expiry(&self) -> Option<DateTime<Utc>> {
        self.expiry
    }

    /// The permissions (`sp`).
    pub fn permissions(&self) -> &str {
        &self.permissions
    }

    /// The URL as given, signature included: for storage (encrypted) only.
    pub fn expose(&self) -> &str {
        self.url.as_str()
    }

    /// The URL with the signature replaced by `REDACTED`.
    pub fn redacted(&self) -> String {
        redact_sas(self.url.as_str())
    }

    /// An object_store client of the container, authorized by the SAS, for uses beyond push
    /// jobs: it has object_store's own retries (up to 10 within 3 minutes) and no DNS
    /// resolver, unlike the targets of [`crate::TargetConfig::build`]. Like them, it follows
    /// no redirect (which would carry the SAS signature in `Referer` to another origin) and
    /// uses no proxy.
    pub fn object_store(&self) -> Result<object_store::azure::MicrosoftAzure, TargetError> {
        self.builder(None).build().map_err(TargetError::Store)
    }

    /// An object_store builder for the container, authorized by the SAS, with push-core's
    /// HTTP client resolving through `resolver` (plain http allowed when the URL is http:
    /// parse only accepts that to a loopback host).
    pub(crate) fn builder(&self, resolver: Option<Arc<dyn DnsResolver>>) -> MicrosoftAzureBuilder {
        let token = self.url.query().unwrap_or_default().to_owned();
        let allow_http = self.url.scheme() == "http";
        let mut builder = MicrosoftAzureBuilder::new()
            .with_account(&self.account)
            .with_container_name(&self.container)
            .with_config(AzureConfigKey::SasKey, token)
            // The connector decides; set here too so object_store's options say the same.
            .with_allow_http(allow_http)
            .with_http_connector(Connector::new(allow_http, resolver));
        if self.path_style {
            // object_store reads the account from the host unless told the endpoint.
            let mut endpoint = self.url.clone();
            endpoint.set_query(None);
            endpoint.set_fragment(None);
            endpoint.set_path(&self.account);
            builder = builder.with_endpoint(endpoint.to_string().trim_end_matches('/').to_owned());
        }
        builder
    }
}

fn blob_instead_of_container(blob: &[String]) -> String {
    format!(
        "the URL names a blob ({:?}), not a container: use the container's SAS URL",
        blob.join("/")
    )
}

/// A path segment's `%XX` escapes decoded (`+` is a plus in a path, not a space).
fn percent_decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// SAS times: `2025-12-31T00:00:00Z`, with fractions or offsets, or a bare date.
fn parse_sas_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

impl fmt::Debug for BlobSasUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BlobSasUrl").field(&self.redacted()).finish()
    }
}

impl fmt::Display for BlobSasUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}
