//! The HTTP client of Azure and S3 targets, built here rather than by object_store so that
//! nothing but the configured address is ever contacted: no redirect is followed (object_store's
//! own client keeps reqwest's default of up to 10, sending `Referer` with the SAS signature of
//! the previous URL to the next one), no proxy is used (also not one named by `HTTP_PROXY`,
//! `HTTPS_PROXY` or `ALL_PROXY`: a proxy resolves names itself, past the resolver), and host
//! names go through [`crate::TargetOptions::dns_resolver`].

//!
//! [`RedirectNotFollowed`] is compiled into every build: [`crate::PushError::Redirected`] is
//! part of the API whichever backends are there.

#[cfg(any(feature = "azure", feature = "s3"))]
use std::fmt;
#[cfg(any(feature = "azure", feature = "s3"))]
use std::sync::Arc;

#[cfg(any(feature = "azure", feature = "s3"))]
use async_trait::async_trait;
#[cfg(any(feature = "azure", feature = "s3"))]
use object_store::ClientOptions;
#[cfg(any(feature = "azure", feature = "s3"))]
use object_store::client::{
    DnsResolver, HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest, HttpResponse,
    HttpService,
};
#[cfg(any(feature = "azure", feature = "s3"))]
use url::{Origin, Url};

#[cfg(any(feature = "azure", feature = "s3"))]
use crate::target::{CONNECT_TIMEOUT, REQUEST_TIMEOUT};

/// Says who is asking; object_store's default names object_store, the client is push-core's.
#[cfg(any(feature = "azure", feature = "s3"))]
const USER_AGENT: &str = concat!("push-core/", env!("CARGO_PKG_VERSION"));

/// Makes the HTTP client of one Azure or S3 store (object_store calls it when the store is
/// built).
#[cfg(any(feature = "azure", feature = "s3"))]
pub(crate) struct Connector {
    /// Plain http as well as https: only for a target whose URL is plain http, which
    /// [`crate::target::check_transport`] accepts only to a loopback host.
    allow_http: bool,
    resolver: Option<Arc<dyn DnsResolver>>,
}

#[cfg(any(feature = "azure", feature = "s3"))]
impl Connector {
    pub(crate) fn new(allow_http: bool, resolver: Option<Arc<dyn DnsResolver>>) -> Self {
        Self {
            allow_http,
            resolver,
        }
    }
}

#[cfg(any(feature = "azure", feature = "s3"))]
impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("allow_http", &self.allow_http)
            .field("resolver", &self.resolver.is_some())
            .finish()
    }
}

#[cfg(any(feature = "azure", feature = "s3"))]
impl HttpConnector for Connector {
    /// The `options` object_store passes are ignored: every setting that matters is fixed
    /// here. The builders derive options of their own for credential endpoints (allowing
    /// plain http to cloud metadata addresses such as 169.254.169.254); push-core's targets
    /// always carry their credentials and never need those, and must not get such a client.
    fn connect(&self, _options: &ClientOptions) -> object_store::Result<HttpClient> {
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            // An answer must not send a request elsewhere: a 3xx is turned into an error by
            // `NoRedirects`, and no Referer could carry the SAS to another origin anyway.
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            // Without this, reqwest reads HTTP(S)_PROXY and ALL_PROXY from the environment.
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            // As object_store does: a decompressed answer no longer matches its
            // Content-Length, which object_store reads as the object's size.
            .no_gzip()
            .no_brotli()
            .no_zstd()
            .no_deflate()
            .https_only(!self.allow_http);
        if let Some(resolver) = &self.resolver {
            builder = builder.dns_resolver(Arc::new(Resolver(resolver.clone())));
        }
        let client = builder
            .tls_backend_preconfigured(tls_config()?)
            .build()
            .map_err(|e| object_store::Error::Generic {
                store: "push-core",
                source: Box::new(e),
            })?;
        Ok(HttpClient::new(NoRedirects(client)))
    }
}

/// The TLS configuration of the targets' client: what reqwest's `rustls` feature builds (the
/// platform's root certificates and verifier, TLS 1.2 and 1.3, ALPN `h2` then `http/1.1`),
/// but with ring as the crypto provider, the workspace's one, instead of aws-lc-rs (a C build
/// needing cmake). Given to reqwest built, so that no process-wide default provider has to be
/// installed (reqwest's `rustls-no-provider` panics without one).
#[cfg(any(feature = "azure", feature = "s3"))]
fn tls_config() -> object_store::Result<rustls::ClientConfig> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_platform_verifier())
        .map_err(|e| object_store::Error::Generic {
            store: "push-core",
            source: Box::new(e),
        })?
        .with_no_client_auth();
    // A built configuration is used as it is: reqwest sets ALPN only on the ones it builds.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// A [`DnsResolver`] as reqwest's resolver (object_store's own adapter is private).
#[cfg(any(feature = "azure", feature = "s3"))]
struct Resolver(Arc<dyn DnsResolver>);

#[cfg(any(feature = "azure", feature = "s3"))]
impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolving = self.0.resolve(name.as_str());
        Box::pin(async move {
            let ips = resolving.await?;
            // Port 0: reqwest puts the URL's port (or the scheme's) in its place.
            let addresses: reqwest::dns::Addrs =
                Box::new(ips.into_iter().map(|ip| std::net::SocketAddr::new(ip, 0)));
            Ok(addresses)
        })
    }
}

/// reqwest's client, with every 3xx answer turned into a [`RedirectNotFollowed`] error.
///
/// Without it, object_store reports a 3xx as any other unexpected status, not saying that it
/// was a redirect, nor where to.
#[cfg(any(feature = "azure", feature = "s3"))]
#[derive(Debug)]
struct NoRedirects(reqwest::Client);

#[cfg(any(feature = "azure", feature = "s3"))]
#[async_trait]
impl HttpService for NoRedirects {
    async fn call(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let url = request.uri().to_string();
        let response = HttpService::call(&self.0, request).await?;
        let status = response.status();
        if !status.is_redirection() {
            return Ok(response);
        }
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok());
        let redirect = RedirectNotFollowed {
            status: status.as_u16(),
            to: location.and_then(|location| origin_of(&url, location)),
        };
        // Unknown: object_store retries nothing of this kind, and push-core's classification
        // finds the `RedirectNotFollowed` under it.
        Err(HttpError::new(HttpErrorKind::Unknown, redirect))
    }
}

/// A target answered with a redirect (3xx), which was not followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the target answered HTTP {status}, a redirect {}, which is not followed",
    destination(.to)
)]
pub(crate) struct RedirectNotFollowed {
    pub(crate) status: u16,
    /// The origin of the `Location` (`scheme://host[:port]`: no path, query or credentials,
    /// so a SAS signature in it never shows); `None` when there was no usable `Location`.
    pub(crate) to: Option<String>,
}

/// Where a redirect pointed, for messages.
pub(crate) fn destination(to: &Option<String>) -> String {
    match to {
        Some(origin) => format!("to {origin}"),
        None => "without a usable location".into(),
    }
}

/// The origin of `location` (absolute, or relative to `request_url`), for messages.
#[cfg(any(feature = "azure", feature = "s3"))]
fn origin_of(request_url: &str, location: &str) -> Option<String> {
    let target = match Url::parse(request_url) {
        Ok(base) => base.join(location).ok()?,
        Err(_) => Url::parse(location).ok()?,
    };
    Some(match target.origin() {
        origin @ Origin::Tuple(..) => origin.ascii_serialization(),
        // `data:`, `file:` and the like have no host to name.
        Origin::Opaque(_) => format!("a {}: URL", target.scheme()),
    })
}

#[cfg(all(test, any(feature = "azure", feature = "s3")))]
mod tests {
    use super::*;

    const REQUEST: &str = "http://127.0.0.1:10000/devstoreaccount1/twins/x.json?sv=1&sig=secret";

    #[test]
    fn a_redirects_destination_is_only_its_origin_without_path_query_or_credentials() {
        let cases = [
            (
                "https://user:pw@Evil.Example:8443/c/x?sv=1&sig=secret#f",
                "https://evil.example:8443",
            ),
            (
                "http://169.254.169.254/latest/meta-data/",
                "http://169.254.169.254",
            ),
            // Relative to the request: the same origin.
            (
                "/devstoreaccount1/other?sig=secret",
                "http://127.0.0.1:10000",
            ),
            ("//127.0.0.3:81/x", "http://127.0.0.3:81"),
            ("file:///etc/passwd", "a file: URL"),
        ];
        for (location, origin) in cases {
            assert_eq!(
                origin_of(REQUEST, location).as_deref(),
                Some(origin),
                "{location}"
            );
        }
        assert_eq!(origin_of(REQUEST, "http://[::1"), None);
    }

    /// reqwest's `rustls-no-provider` panics when a client is built without a process-wide
    /// crypto provider; the connector hands it a configuration built with ring instead.
    #[test]
    fn the_client_builds_with_ring_and_offers_h2_then_http_1_1()
    -> Result<(), Box<dyn std::error::Error>> {
        let config = tls_config()?;
        assert_eq!(
            config.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        let ring = rustls::crypto::ring::default_provider();
        assert_eq!(config.crypto_provider().cipher_suites, ring.cipher_suites);
        Connector::new(false, None).connect(&ClientOptions::new())?;
        Ok(())
    }

    #[test]
    fn a_redirect_without_a_location_says_so() {
        let redirect = RedirectNotFollowed {
            status: 302,
            to: None,
        };
        assert_eq!(
            redirect.to_string(),
            "the target answered HTTP 302, a redirect without a usable location, which is not followed"
        );
    }
}
