use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::Url;
use url::Host;

/// Redirects followed within the origin of the first request; one more is an error.
pub const MAX_REDIRECTS: usize = 5;

/// What kind of address an IP address is, as far as the policy cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddressClass {
    /// Globally routable, or at least not one of the classes below.
    Public,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`.
    Private,
    /// `100.64.0.0/10` (carrier-grade NAT).
    SharedAddressSpace,
    /// `fc00::/7`.
    UniqueLocal,
    /// `0.0.0.0/8`, `::` (connecting to `0.0.0.0` reaches the local host on Linux).
    Unspecified,
    /// `169.254.0.0/16` (with `169.254.169.254`, the metadata service of most clouds), `fe80::/10`.
    LinkLocal,
    /// `fd00:ec2::254` (AWS over IPv6), `100.100.100.200` (Alibaba Cloud).
    CloudMetadata,
    /// `255.255.255.255`.
    Broadcast,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `240.0.0.0/4`, the deprecated IPv4-compatible `::/96` and site-local `fec0::/10`.
    Reserved,
}

impl AddressClass {
    /// Refused whatever the configuration says.
    pub fn always_refused(self) -> bool {
        matches!(
            self,
            Self::Unspecified
                | Self::LinkLocal
                | Self::CloudMetadata
                | Self::Broadcast
                | Self::Multicast
                | Self::Reserved
        )
    }

    /// Allowed unless private networks are refused.
    pub fn is_private(self) -> bool {
        matches!(
            self,
            Self::Loopback | Self::Private | Self::SharedAddressSpace | Self::UniqueLocal
        )
    }
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Public => "public",
            Self::Loopback => "loopback",
            Self::Private => "private",
            Self::SharedAddressSpace => "shared address space (100.64.0.0/10)",
            Self::UniqueLocal => "unique local (fc00::/7)",
            Self::Unspecified => "unspecified",
            Self::LinkLocal => "link-local",
            Self::CloudMetadata => "a cloud metadata address",
            Self::Broadcast => "broadcast",
            Self::Multicast => "multicast",
            Self::Reserved => "reserved",
        })
    }
}

/// The address as the network treats it: an IPv4-mapped or NAT64 IPv6 address becomes the
/// IPv4 address it carries, so that `::ffff:169.254.169.254` is checked as `169.254.169.254`.
pub(crate) fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let segments = v6.segments();
            // 64:ff9b::/96, the well-known NAT64 prefix (RFC 6052): a NAT64 gateway connects to
            // the IPv4 address in the last 32 bits.
            let [.., a, b, c, d] = v6.octets();
            let last = Ipv4Addr::new(a, b, c, d);
            if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return IpAddr::V4(last);
            }
            // The other IPv6 forms that carry an IPv4 address a gateway on the way may connect
            // to: local-use NAT64 64:ff9b:1::/48 (RFC 8215, the address in the last 32 bits),
            // SIIT ::ffff:0:0:0/96 (RFC 7915), 6to4 2002::/16 (RFC 3056, bits 16-48) and
            // Teredo 2001::/32 (RFC 4380, the client's address inverted in the last 32 bits).
            if segments[..3] == [0x64, 0xff9b, 1] || segments[..6] == [0, 0, 0, 0, 0xffff, 0] {
                return IpAddr::V4(last);
            }
            if segments[0] == 0x2002 {
                let [_, _, a, b, c, d, ..] = v6.octets();
                return IpAddr::V4(Ipv4Addr::new(a, b, c, d));
            }
            if segments[..2] == [0x2001, 0] {
                return IpAddr::V4(Ipv4Addr::from(!u32::from(last)));
            }
            address
        }
        IpAddr::V4(_) => address,
    }
}

/// The class of an address, after [`canonical`].
pub(crate) fn classify(address: IpAddr) -> AddressClass {
    match canonical(address) {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(v4: Ipv4Addr) -> AddressClass {
    let [a, b, ..] = v4.octets();
    if a == 0 {
        AddressClass::Unspecified
    } else if v4.is_broadcast() {
        AddressClass::Broadcast
    } else if v4.is_link_local() {
        AddressClass::LinkLocal
    } else if v4 == Ipv4Addr::new(100, 100, 100, 200) {
        AddressClass::CloudMetadata
    } else if v4.is_multicast() {
        AddressClass::Multicast
    } else if a >= 240 {
        AddressClass::Reserved
    } else if v4.is_loopback() {
        AddressClass::Loopback
    } else if v4.is_private() {
        AddressClass::Private
    } else if a == 100 && (64..128).contains(&b) {
        AddressClass::SharedAddressSpace
    } else {
        AddressClass::Public
    }
}

fn classify_v6(v6: Ipv6Addr) -> AddressClass {
    let segments = v6.segments();
    if v6.is_unspecified() {
        AddressClass::Unspecified
    } else if v6.is_loopback() {
        AddressClass::Loopback
    } else if segments[..6] == [0; 6] {
        // ::/96 other than :: and ::1: IPv4-compatible addresses, deprecated (RFC 4291).
        AddressClass::Reserved
    } else if v6.is_multicast() {
        AddressClass::Multicast
    } else if v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        AddressClass::CloudMetadata
    } else if segments[0] & 0xffc0 == 0xfe80 {
        AddressClass::LinkLocal
    } else if segments[0] & 0xffc0 == 0xfec0 {
        AddressClass::Reserved
    } else if segments[0] & 0xfe00 == 0xfc00 {
        AddressClass::UniqueLocal
    } else {
        AddressClass::Public
    }
}

/// Why a request may not go out, or where it could not go.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OutboundReason {
    /// The URL's scheme (held here) is not `http` or `https`.
    #[error("the scheme {0:?} is refused: only http and https")]
    Scheme(String),
    /// The URL has no host (`file:`, `data:` URLs).
    #[error("the URL has no host")]
    NoHost,
    /// The URL's host is an IP address the policy refuses.
    #[error("{address} is {class}: refused")]
    Address {
        /// The address, as checked (an IPv4 address an IPv6 one carries).
        address: IpAddr,
        /// What kind of address it is.
        class: AddressClass,
    },
    /// Every address the host name resolved to is refused; this is the first.
    #[error("{host} resolves to {address}, which is {class}: refused")]
    Resolved {
        /// The host name.
        host: String,
        /// The first refused address it resolved to.
        address: IpAddr,
        /// What kind of address that is.
        class: AddressClass,
    },
    /// The policy lists allowed hosts and this one is not among them.
    #[error("{host} is not one of the allowed hosts: refused")]
    NotAllowed {
        /// The host, as compared (lower case, no trailing dot).
        host: String,
    },
    /// A redirect leads out of the first request's origin.
    #[error(
        "the redirect to {to} leaves the origin {origin}: refused, the request's credentials would go with it"
    )]
    CrossOriginRedirect {
        /// The first request's origin (`http://a:8080`).
        origin: String,
        /// The redirect's target URL.
        to: String,
    },
    /// More than [`MAX_REDIRECTS`] redirects in a row.
    #[error("more than {max} redirects: refused")]
    TooManyRedirects {
        /// The limit, [`MAX_REDIRECTS`].
        max: usize,
    },
    /// A URL built from a platform definition and an id is not in `base_url`'s origin.
    #[error("the URL leaves the origin of {base} (the configured base URL)")]
    LeavesOrigin {
        /// The configured base URL.
        base: String,
    },
    /// The host name did not resolve (not refused: nothing to connect to).
    #[error("{host} did not resolve: {message}")]
    Unresolved {
        /// The host name.
        host: String,
        /// The resolver's error, in words.
        message: String,
    },
}

/// An outbound request refused (or unresolvable): the URL or host name, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{target}: {reason}")]
pub struct OutboundError {
    /// The URL refused, or the host name when only that is known (at connect time).
    pub target: String,
    /// Why it was refused, or could not be resolved.
    pub reason: OutboundReason,
}

impl OutboundError {
    fn new(target: impl Into<String>, reason: OutboundReason) -> Self {
        Self {
            target: target.into(),
            reason,
        }
    }

    /// The refusal somewhere in an error's source chain (a `reqwest` error from the resolver
    /// or the redirect policy carries it there).
    pub fn find_in<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a OutboundError> {
        let mut current = Some(error);
        while let Some(error) = current {
            if let Some(found) = error.downcast_ref::<OutboundError>() {
                return Some(found);
            }
            current = error.source();
        }
        None
    }
}

/// An entry of the allowed hosts that is not a host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "allowed host {entry:?} is not a host name or IP address (no scheme, port or path): {message}"
)]
pub struct InvalidHost {
    /// The entry as given.
    pub entry: String,
    /// What is wrong with it (the `url` crate's host parser's message, or what it holds
    /// besides a host).
    pub message: String,
}

/// Which hosts outbound requests may reach: a policy checked on every URL before a request
/// (and on each redirect hop) and on every resolved address at connect time.
///
/// The default allows private networks and lists no hosts: everything but the addresses that
/// are always refused.
///
/// Platform definitions and push targets come from users over the network, and the server
/// sends credentials to them, so a URL must not be able to reach the machine's cloud metadata
/// service, another process on a link-local address, or a host other than the configured one.
/// The rules, always:
///
/// - only `http` and `https`;
/// - unspecified (`0.0.0.0/8`, `::`), broadcast, multicast, reserved (`240.0.0.0/4`, the
///   deprecated IPv4-compatible `::/96` and site-local `fec0::/10`), link-local
///   (`169.254.0.0/16`, `fe80::/10`) and cloud metadata addresses (`169.254.169.254`,
///   `fd00:ec2::254`, `100.100.100.200`) are refused;
/// - an IPv6 address carrying an IPv4 address is checked as that IPv4 address: IPv4-mapped
///   (`::ffff:0:0/96`), NAT64 (`64:ff9b::/96`, local-use `64:ff9b:1::/48`), SIIT
///   (`::ffff:0:0:0/96`), 6to4 (`2002::/16`) and Teredo (`2001::/32`, the client address).
///   Odd IPv4 spellings (`0x7f.1`, `2130706433`, `0251.0376.0251.0376`) are IPv4 addresses
///   already once the `url` crate has parsed them.
///
/// Configurable ([`OutboundPolicy::private_networks`], [`OutboundPolicy::allow_only`]):
///
/// - loopback and private ranges (`127.0.0.0/8`, `10.0.0.0/8`, `172.16.0.0/12`,
///   `192.168.0.0/16`, the shared `100.64.0.0/10`, `::1`, `fc00::/7`) are allowed by default,
///   as IoT platforms live on plant networks; they can be refused;
/// - a list of allowed hosts (names or IP addresses, any port): when set, only those. The list
///   narrows what the other rules allow; it never widens it.
///
/// IP-literal hosts are checked on the URL ([`OutboundPolicy::check_url`]); host names are
/// checked again when they are resolved ([`OutboundPolicy::resolve`], which the client uses as
/// its resolver), so a name that resolves to a refused address (DNS rebinding, a name in
/// `/etc/hosts`) connects nowhere: refused addresses are dropped and the name is refused when
/// none remain. [`OutboundPolicy::client_builder`] gives a `reqwest` client builder with that
/// resolver, without proxies (an environment proxy would resolve the name instead of us) and
/// with a redirect policy that follows at most [`MAX_REDIRECTS`] redirects within the
/// original origin and refuses any other, so credentials never go to another host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    refuse_private: bool,
    allowed_hosts: Option<Vec<Host>>,
    resolved: BTreeMap<String, Vec<IpAddr>>,
}

/// A host as compared: IP addresses canonical, names without a trailing dot.
fn normalized(host: Host<&str>) -> Host {
    match host {
        Host::Domain(name) => Host::Domain(name.trim_end_matches('.').to_ascii_lowercase()),
        Host::Ipv4(v4) => Host::Ipv4(v4),
        Host::Ipv6(v6) => match canonical(IpAddr::V6(v6)) {
            IpAddr::V4(v4) => Host::Ipv4(v4),
            IpAddr::V6(v6) => Host::Ipv6(v6),
        },
    }
}

fn name_key(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

impl OutboundPolicy {
    /// The default policy: private networks allowed, no list of hosts, so only the addresses
    /// always refused are refused.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether loopback and private ranges may be reached (default `true`).
    pub fn private_networks(mut self, allowed: bool) -> Self {
        self.refuse_private = !allowed;
        self
    }

    /// Only these hosts (names or IP addresses, without port) may be reached; an empty list
    /// allows none. IP entries are parsed as URLs' hosts are (`0x7f.1` is `127.0.0.1`).
    pub fn allow_only<I, S>(mut self, hosts: I) -> Result<Self, InvalidHost>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut allowed = Vec::new();
        for entry in hosts {
            let entry = entry.as_ref();
            let invalid = |message: String| InvalidHost {
                entry: entry.to_owned(),
                message,
            };
            // `Host::parse` takes `[::1]` for IPv6; a bare `::1` is accepted too.
            let text = match entry.parse::<Ipv6Addr>() {
                Ok(_) => format!("[{entry}]"),
                Err(_) => entry.to_owned(),
            };
            if text.is_empty() || text.contains(['/', '@', '?', '#']) {
                return Err(invalid("a host only".into()));
            }
            let host = Host::parse(&text).map_err(|e| invalid(e.to_string()))?;
            // A colon outside brackets is a port, which `Host::parse` would reject anyway.
            allowed.push(normalized(match &host {
                Host::Domain(name) => Host::Domain(name.as_str()),
                Host::Ipv4(v4) => Host::Ipv4(*v4),
                Host::Ipv6(v6) => Host::Ipv6(*v6),
            }));
        }
        self.allowed_hosts = Some(allowed);
        Ok(self)
    }

    /// Resolves `host` to these addresses instead of asking DNS (as curl's `--resolve`): for
    /// tests and for pinning a name. The addresses still pass the policy's rules.
    pub fn with_resolved(
        mut self,
        host: &str,
        addresses: impl IntoIterator<Item = IpAddr>,
    ) -> Self {
        self.resolved
            .insert(name_key(host), addresses.into_iter().collect());
        self
    }

    /// Whether loopback and private ranges are refused.
    pub fn refuses_private_networks(&self) -> bool {
        self.refuse_private
    }

    /// The allowed hosts, when only those are.
    pub fn allowed_hosts(&self) -> Option<&[Host]> {
        self.allowed_hosts.as_deref()
    }

    /// Whether an address may be connected to.
    pub fn check_address(&self, address: IpAddr) -> Result<(), OutboundReason> {
        let class = classify(address);
        if class.always_refused() || (self.refuse_private && class.is_private()) {
            return Err(OutboundReason::Address {
                address: canonical(address),
                class,
            });
        }
        Ok(())
    }

    fn check_listed(&self, host: &Host) -> Result<(), OutboundReason> {
        match &self.allowed_hosts {
            Some(allowed) if !allowed.contains(host) => Err(OutboundReason::NotAllowed {
                host: host.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// Whether a request may go to this URL: its scheme, its host against the allowed hosts,
    /// and an IP-literal host against the address rules (names are checked when resolved).
    pub fn check_url(&self, url: &Url) -> Result<(), OutboundError> {
        let refuse = |reason| OutboundError::new(url.as_str(), reason);
        if !matches!(url.scheme(), "http" | "https") {
            return Err(refuse(OutboundReason::Scheme(url.scheme().to_owned())));
        }
        let host = normalized(url.host().ok_or_else(|| refuse(OutboundReason::NoHost))?);
        self.check_listed(&host).map_err(refuse)?;
        let address = match host {
            Host::Domain(_) => return Ok(()),
            Host::Ipv4(v4) => IpAddr::V4(v4),
            Host::Ipv6(v6) => IpAddr::V6(v6),
        };
        self.check_address(address).map_err(refuse)
    }

    /// The addresses of a host name that may be connected to: its override or DNS, refused
    /// addresses dropped. An error when the name is not allowed, does not resolve, or
    /// resolves to refused addresses only.
    pub async fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, OutboundError> {
        let refuse = |reason| OutboundError::new(host, reason);
        let key = name_key(host);
        self.check_listed(&Host::Domain(key.clone()))
            .map_err(refuse)?;
        let found = match self.resolved.get(&key) {
            Some(addresses) => addresses.clone(),
            None => tokio::net::lookup_host((host, 0))
                .await
                .map_err(|e| {
                    refuse(OutboundReason::Unresolved {
                        host: host.to_owned(),
                        message: e.to_string(),
                    })
                })?
                .map(|address| address.ip())
                .collect(),
        };
        let mut first_refused = None;
        let allowed: Vec<IpAddr> = found
            .into_iter()
            .filter(|&address| match self.check_address(address) {
                Ok(()) => true,
                Err(reason) => {
                    first_refused.get_or_insert(reason);
                    false
                }
            })
            .collect();
        match (allowed.is_empty(), first_refused) {
            (false, _) => Ok(allowed),
            (true, Some(OutboundReason::Address { address, class })) => {
                Err(refuse(OutboundReason::Resolved {
                    host: host.to_owned(),
                    address,
                    class,
                }))
            }
            (true, _) => Err(refuse(OutboundReason::Unresolved {
                host: host.to_owned(),
                message: "no address".into(),
            })),
        }
    }

    /// A `reqwest` resolver applying this policy.
    pub fn resolver(&self) -> OutboundResolver {
        OutboundResolver(Arc::new(self.clone()))
    }

    /// At most [`MAX_REDIRECTS`] redirects, each within the first request's origin and passing
    /// [`Self::check_url`]; any other is an error carrying an [`OutboundError`].
    pub fn redirect_policy(&self) -> reqwest::redirect::Policy {
        let policy = self.clone();
        reqwest::redirect::Policy::custom(move |attempt| {
            let to = attempt.url().clone();
            // `previous` starts with the first request's URL.
            let Some(first) = attempt.previous().first().cloned() else {
                return attempt.error(OutboundError::new(to.as_str(), OutboundReason::NoHost));
            };
            let refuse = |reason| OutboundError::new(first.as_str(), reason);
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error(refuse(OutboundReason::TooManyRedirects {
                    max: MAX_REDIRECTS,
                }));
            }
            if to.origin() != first.origin() {
                return attempt.error(refuse(OutboundReason::CrossOriginRedirect {
                    origin: first.origin().ascii_serialization(),
                    to: to.to_string(),
                }));
            }
            match policy.check_url(&to) {
                Ok(()) => attempt.follow(),
                Err(error) => attempt.error(error),
            }
        })
    }

    /// A client builder with this policy's resolver and redirect policy, and no proxies: an
    /// HTTP proxy from the environment would resolve and connect in our stead.
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .no_proxy()
            .dns_resolver(self.resolver())
            .redirect(self.redirect_policy())
    }
}

/// A response's body, at most `max` bytes: `None` when it is larger (by its Content-Length, or
/// as it arrives), so that a peer cannot make us hold an unbounded answer.
pub async fn read_limited(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if response
        .content_length()
        .is_some_and(|length| length > max as u64)
    {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > max {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// The policy as a `reqwest` resolver ([`OutboundPolicy::resolve`]).
#[derive(Debug, Clone)]
pub struct OutboundResolver(Arc<OutboundPolicy>);

impl reqwest::dns::Resolve for OutboundResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses = policy.resolve(&host).await?;
            // Port 0: reqwest puts in the URL's port.
            let addresses: reqwest::dns::Addrs = Box::new(
                addresses
                    .into_iter()
                    .map(|address| SocketAddr::new(address, 0)),
            );
            Ok(addresses)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        match Url::parse(text) {
            Ok(url) => url,
            Err(error) => panic!("{text}: {error}"),
        }
    }

    fn refusal(policy: &OutboundPolicy, text: &str) -> Option<OutboundReason> {
        policy.check_url(&url(text)).err().map(|e| e.reason)
    }

    fn address(class: AddressClass, text: &str) -> Option<OutboundReason> {
        Some(OutboundReason::Address {
            address: text.parse().ok()?,
            class,
        })
    }

    #[test]
    fn only_http_and_https_are_allowed() {
        let policy = OutboundPolicy::new();
        for text in [
            "file:///etc/passwd",
            "gopher://127.0.0.1:70/_x",
            "ftp://example.com/",
            "ws://example.com/",
            "data:text/plain,x",
        ] {
            assert!(
                matches!(refusal(&policy, text), Some(OutboundReason::Scheme(_))),
                "{text}"
            );
        }
        assert_eq!(refusal(&policy, "http://example.com/"), None);
        assert_eq!(refusal(&policy, "https://example.com/"), None);
    }

    #[test]
    fn metadata_link_local_and_unroutable_addresses_are_always_refused() {
        let policy = OutboundPolicy::new();
        for (text, class, shown) in [
            (
                "http://169.254.169.254/latest/meta-data/",
                AddressClass::LinkLocal,
                "169.254.169.254",
            ),
            (
                "http://169.254.1.1/",
                AddressClass::LinkLocal,
                "169.254.1.1",
            ),
            ("http://[fe80::1]/", AddressClass::LinkLocal, "fe80::1"),
            (
                "http://[fd00:ec2::254]/",
                AddressClass::CloudMetadata,
                "fd00:ec2::254",
            ),
            (
                "http://100.100.100.200/",
                AddressClass::CloudMetadata,
                "100.100.100.200",
            ),
            ("http://0.0.0.0:8080/", AddressClass::Unspecified, "0.0.0.0"),
            ("http://0.1.2.3/", AddressClass::Unspecified, "0.1.2.3"),
            ("http://[::]/", AddressClass::Unspecified, "::"),
            (
                "http://255.255.255.255/",
                AddressClass::Broadcast,
                "255.255.255.255",
            ),
            ("http://224.0.0.1/", AddressClass::Multicast, "224.0.0.1"),
            ("http://[ff02::1]/", AddressClass::Multicast, "ff02::1"),
            ("http://240.0.0.1/", AddressClass::Reserved, "240.0.0.1"),
            ("http://[fec0::1]/", AddressClass::Reserved, "fec0::1"),
            (
                "http://[::a9fe:a9fe]/",
                AddressClass::Reserved,
                "::169.254.169.254",
            ),
        ] {
            assert_eq!(refusal(&policy, text), address(class, shown), "{text}");
        }
    }

    #[test]
    fn odd_ipv4_spellings_are_checked_as_the_ipv4_address_they_are() {
        let open = OutboundPolicy::new();
        let closed = OutboundPolicy::new().private_networks(false);
        for (text, class, shown) in [
            ("http://0x7f.1/", AddressClass::Loopback, "127.0.0.1"),
            ("http://2130706433/", AddressClass::Loopback, "127.0.0.1"),
            ("http://0177.0.0.1/", AddressClass::Loopback, "127.0.0.1"),
            (
                "http://[::ffff:127.0.0.1]/",
                AddressClass::Loopback,
                "127.0.0.1",
            ),
            (
                "http://[64:ff9b::a00:1]/",
                AddressClass::Private,
                "10.0.0.1",
            ),
        ] {
            assert_eq!(refusal(&open, text), None, "{text}");
            assert_eq!(refusal(&closed, text), address(class, shown), "{text}");
        }
        for text in [
            "http://[::ffff:169.254.169.254]/",
            "http://[::ffff:a9fe:a9fe]/",
            "http://0251.0376.0251.0376/",
            "http://0xa9.0xfe.0xa9.0xfe/",
            "http://0xa9fea9fe/",
            "http://2852039166/",
            "http://169.254.43518/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[64:ff9b:1::a9fe:a9fe]/",
            "http://[::ffff:0:a9fe:a9fe]/",
            "http://[2002:a9fe:a9fe::1]/",
            "http://[2001:0:4136:e378:8000:63bf:5601:5601]/",
        ] {
            assert_eq!(
                refusal(&open, text),
                address(AddressClass::LinkLocal, "169.254.169.254"),
                "{text}"
            );
        }
    }

    #[test]
    fn loopback_and_private_ranges_are_allowed_by_default_and_refused_on_request() {
        let open = OutboundPolicy::new();
        let closed = OutboundPolicy::new().private_networks(false);
        for (text, class) in [
            ("http://127.0.0.2:1/", AddressClass::Loopback),
            ("http://[::1]/", AddressClass::Loopback),
            ("http://10.1.2.3/", AddressClass::Private),
            ("http://172.16.0.1/", AddressClass::Private),
            ("http://172.31.255.255/", AddressClass::Private),
            ("http://192.168.1.1/", AddressClass::Private),
            ("http://100.64.0.1/", AddressClass::SharedAddressSpace),
            ("http://100.127.255.254/", AddressClass::SharedAddressSpace),
            ("http://[fd12::1]/", AddressClass::UniqueLocal),
            ("http://[fc00::1]/", AddressClass::UniqueLocal),
        ] {
            assert_eq!(refusal(&open, text), None, "{text}");
            assert!(
                matches!(refusal(&closed, text), Some(OutboundReason::Address { class: c, .. }) if c == class),
                "{text}"
            );
        }
        for text in [
            "http://172.32.0.1/",
            "http://100.128.0.1/",
            "http://8.8.8.8/",
            "http://[2001:db8::1]/",
            "http://example.com/",
        ] {
            assert_eq!(refusal(&closed, text), None, "{text}");
        }
    }

    #[test]
    fn allowed_hosts_admit_only_the_listed_hosts_in_any_spelling() -> Result<(), InvalidHost> {
        let policy = OutboundPolicy::new().allow_only([
            "IoT.Plant.Local.",
            "10.0.0.5",
            "::1",
            "[fd00::5]",
        ])?;
        for text in [
            "http://iot.plant.local/x",
            "https://iot.plant.local.:8443/",
            "http://10.0.0.5:1880/",
            "http://0xa.0.0.5/",
            "http://[::ffff:10.0.0.5]/",
            "http://[::1]:80/",
            "http://[fd00::5]/",
        ] {
            assert_eq!(refusal(&policy, text), None, "{text}");
        }
        for (text, host) in [
            ("http://other.plant.local/", "other.plant.local"),
            ("http://10.0.0.6/", "10.0.0.6"),
            ("http://127.0.0.1/", "127.0.0.1"),
        ] {
            assert_eq!(
                refusal(&policy, text),
                Some(OutboundReason::NotAllowed { host: host.into() }),
                "{text}"
            );
        }
        // Listing never widens: a listed link-local address stays refused.
        let listed = OutboundPolicy::new().allow_only(["169.254.169.254"])?;
        assert_eq!(
            refusal(&listed, "http://169.254.169.254/"),
            address(AddressClass::LinkLocal, "169.254.169.254")
        );
        let none = OutboundPolicy::new().allow_only(Vec::<String>::new())?;
        assert!(refusal(&none, "http://example.com/").is_some());
        for wrong in ["http://x", "x:80", "x/y", "", "a b", "u@x"] {
            assert!(
                OutboundPolicy::new().allow_only([wrong]).is_err(),
                "{wrong:?}"
            );
        }
        Ok(())
    }

    #[test]
    fn errors_name_the_url_and_why() {
        let policy = OutboundPolicy::new();
        let message = policy
            .check_url(&url("http://169.254.169.254/latest"))
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            message.as_deref(),
            Some("http://169.254.169.254/latest: 169.254.169.254 is link-local: refused")
        );
        let message = policy
            .check_url(&url("gopher://h/"))
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            message.as_deref(),
            Some("gopher://h/: the scheme \"gopher\" is refused: only http and https")
        );
    }

    #[tokio::test]
    async fn a_name_resolving_to_a_refused_range_is_refused_and_others_are_filtered() {
        let policy = OutboundPolicy::new()
            .with_resolved(
                "metadata.test",
                [IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254))],
            )
            .with_resolved(
                "Mixed.Test",
                ["169.254.169.254", "10.0.0.7", "::ffff:169.254.1.1"]
                    .into_iter()
                    .filter_map(|a| a.parse().ok()),
            );
        let refused = policy.resolve("metadata.test").await;
        assert_eq!(
            refused.err().map(|e| e.to_string()).as_deref(),
            Some(
                "metadata.test: metadata.test resolves to 169.254.169.254, which is link-local: refused"
            )
        );
        let mixed = policy.resolve("mixed.test.").await;
        assert_eq!(mixed, Ok(vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7))]));
        let closed = policy.clone().private_networks(false);
        assert!(matches!(
            closed.resolve("mixed.test").await,
            Err(OutboundError {
                reason: OutboundReason::Resolved {
                    class: AddressClass::LinkLocal,
                    ..
                },
                ..
            })
        ));
    }

    #[tokio::test]
    async fn resolution_checks_the_allowed_hosts_and_the_system_resolver_is_filtered_too()
    -> Result<(), InvalidHost> {
        let policy = OutboundPolicy::new()
            .allow_only(["listed.test"])?
            .with_resolved("listed.test", [IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))])
            .with_resolved("unlisted.test", [IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))]);
        assert!(policy.resolve("listed.test").await.is_ok());
        assert!(matches!(
            policy.resolve("unlisted.test").await,
            Err(OutboundError {
                reason: OutboundReason::NotAllowed { .. },
                ..
            })
        ));
        // `localhost` through the system resolver: loopback only, refused when private
        // networks are.
        let closed = OutboundPolicy::new().private_networks(false);
        assert!(matches!(
            closed.resolve("localhost").await,
            Err(OutboundError {
                reason: OutboundReason::Resolved {
                    class: AddressClass::Loopback,
                    ..
                },
                ..
            })
        ));
        Ok(())
    }
}
