//! Synchronized digital twins: keep a twin in step with a device on an IoT platform by polling
//! it, extracting values with JSONPath and rendering data properties with templates.
//!
//! [`description`] compiles a synchronization description (JSONPaths in [`jsonpath`], templates
//! in [`python_format`] and [`mustache`]); [`platform`] talks to the IoT platform; [`engine`]
//! polls, writes changed values through a [`engine::TwinSink`] and sends commands back;
//! [`twin`] is a binding as users send it (which submodel follows which device, credentials
//! kept apart) and checks it into what the engine polls.
//!
//! ```
//! use sdt_core::description::SyncDescription;
//! use serde_json::json;
//!
//! // The position example of the contract: a filter in the jsonpath-ng dialect, a Python template.
//! let description: SyncDescription = serde_json::from_value(json!({
//!     "iot_attributes": [
//!         {"name": "x", "value": "$[?value.addr='3ef8'].value.position[0]"},
//!         {"name": "y", "value": "$[?value.addr='3ef8'].value.position[1]"}],
//!     "thingin_attributes": [
//!         {"name": "DT:data", "value": "{{\"coordX\":{x},\"coordY\":{y}}}", "frequency_sec": 30}]
//! }))?;
//! let answer = json!([{"value": {"addr": "3ef8", "position": [1.5, 2, 3]}}]);
//! let run = description.compile()?.dry_run(&answer);
//! assert_eq!(run.values["DT:data"], json!(r#"{"coordX":1.5,"coordY":2}"#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Limits
//!
//! Descriptions, templates and playground requests come from users over the network, so every
//! parser and renderer is bounded. Inputs are measured before they are parsed; a rendering stops
//! as soon as it passes a limit. Going over one is an error naming it
//! ([`limits::LimitExceeded`], e.g. "JSONPath nesting depth 10000 exceeds the limit of 64
//! (sdt_core::jsonpath::MAX_DEPTH)"); nothing panics, overflows the stack or runs on.
//!
//! | limit | value | what it bounds |
//! |---|---|---|
//! | [`jsonpath::MAX_LENGTH`] | 4096 bytes | a JSONPath, before parsing ([`jsonpath::JsonPath::parse`] and `parse_rfc9535`) |
//! | [`jsonpath::MAX_DEPTH`] | 64 | nesting of `[` and `(` in a JSONPath, outside quoted strings, before parsing |
//! | [`jsonpath::MAX_STEPS`] | 96 | how deeply evaluating a jsonpath-ng path recurses (filters, comparisons, `!`, `+ - * /`, sort keys; not steps joined by `.`, `..`, `\|`, `where`), after parsing |
//! | [`jsonpath::MAX_WORK`] | 10000000 steps | one JSONPath evaluation: each node visited, selected, tested or compared is a step, also inside filters and descendant walks; long strings and regular expressions cost more (see the constant) |
//! | [`jsonpath::MAX_RESULT_BYTES`] | 33554432 bytes | the results of one JSONPath evaluation, 16 bytes per JSON value plus the bytes of strings and member names, measured before anything is copied out of the document |
//! | [`jsonpath::MAX_REGEX_SIZE`] | 1048576 bytes | a compiled regular expression: in `match()`/`search()` a larger one matches nothing, a larger `=~` pattern is an error naming the limit |
//! | [`jsonpath::MAX_REGEX_BACKTRACK`] | 100000 | how often one `=~` match may backtrack (only patterns with back-references, look-around, atomic groups, conditionals, `\b`, `\B` or a `$` something follows backtrack) |
//! | [`jsonpath::MAX_REGEX_NESTING`] | 20 | nesting of groups in a `=~` pattern, while parsing it |
//! | [`mustache::MAX_TEMPLATE_LENGTH`] | 16384 bytes | a mustache template, before parsing |
//! | [`mustache::MAX_SECTION_DEPTH`] | 16 | nesting of mustache sections, before ramhorns parses the template |
//! | [`mustache::MAX_WORK`] | 1000000 steps | one mustache rendering: each tag looked up and each pass through a section is a step |
//! | [`mustache::MAX_OUTPUT`] | 1048576 bytes | the text of one mustache rendering |
//! | [`python_format::MAX_TEMPLATE_LENGTH`] | 16384 bytes | a Python `str.format` template, before parsing |
//! | [`python_format::MAX_OUTPUT`] | 1048576 bytes | the text of one Python rendering |
//! | [`python_format::MAX_DIGITS_VALUE`] | 10000 | a width or precision in a Python format spec |
//!
//! Python format specs nest once, as in CPython (`{x:{y}}`; one level more is CPython's
//! "Max string recursion exceeded"). The platform's answers are bounded by
//! `platform::ClientOptions::max_response_bytes` (feature `client`).
//!
//! A JSONPath evaluation stops as soon as it passes [`jsonpath::MAX_WORK`], so `$..*..*..*` on a
//! deep document or `[0,0,0,0,0,0,0,0]` repeated on nested arrays is an error after a fraction
//! of a second, not billions of nodes; its call stack grows with the depth of the path's syntax
//! tree only ([`jsonpath::MAX_STEPS`], [`jsonpath::MAX_DEPTH`]), never with the document's depth.
//!
//! JSON values are not limited here: values parsed by `serde_json` nest at most 128 deep (its
//! recursion limit), and rendering them (`repr`, `str`, mustache) recurses once per level,
//! which is safe at that depth. A `serde_json::Value` built in code can nest deeper; such
//! a value overflows the stack in `serde_json` itself (dropping, printing or serializing it
//! recurses too), so check the depth of values you build before handing them to this crate.
//!
//! # Security: outbound requests
//!
//! Platform definitions come from users too, and the client sends a binding's credentials to
//! them, so where a request may go is a policy, `outbound::OutboundPolicy` (feature `client`),
//! passed in `platform::ClientOptions::outbound`:
//!
//! - only `http` and `https` URLs;
//! - the configured host is the one contacted: device and command ids are percent-encoded into
//!   the path, and a URL whose origin is not `base_url`'s (`base_url` of `http://a` and an id of
//!   `@b/x`) is refused;
//! - redirects are followed within the first request's origin only, at most
//!   `outbound::MAX_REDIRECTS` of them; a redirect to another origin is an error, so the
//!   token header never goes to another host;
//! - link-local (`169.254.0.0/16`, `fe80::/10`), cloud metadata (`169.254.169.254`,
//!   `fd00:ec2::254`, `100.100.100.200`), unspecified, broadcast, multicast and reserved
//!   addresses are always refused; IPv4-mapped and NAT64 IPv6 addresses are checked as the
//!   IPv4 address they carry, and odd IPv4 spellings (`http://0x7f.1/`, `http://2130706433/`)
//!   as the address they parse to;
//! - loopback and private ranges are allowed unless the policy refuses them
//!   (`private_networks(false)`), and `allow_only` restricts requests to listed hosts;
//! - IP-literal hosts are checked on the URL before every request and on every redirect hop;
//!   host names when they resolve, by the client's resolver, which drops refused addresses
//!   (and refuses the name when none remain), so DNS cannot point a name past the rules.
//!   Proxies are off: one from the environment would resolve names in the client's stead.
//!
//! A refusal is `platform::PlatformError::Refused`, naming the URL and the reason
//! ("http://169.254.169.254/: 169.254.169.254 is link-local: refused").
//!
//! # Dependencies
//!
//! - `serde_json`: the platform's answers and template variables are JSON values.
//! - `jsonpath-rust`: RFC 9535 JSONPath parsing (our translator turns the jsonpath-ng dialect
//!   into it); [`jsonpath`] evaluates the parsed query itself, with a work budget.
//! - `regex`: I-Regexp for `match()` and `search()` (the crate jsonpath-rust uses).
//! - `fancy-regex`: Python `re` patterns of jsonpath-ng's `=~` (our port of Python's parser
//!   writes them in its syntax): back-references, look-around, atomic groups and conditionals,
//!   which Python has and `regex` lacks; it hands patterns without them to `regex` whole.
//! - `unicode-ident`: group names in `=~` patterns are Python identifiers (`XID_Start`,
//!   `XID_Continue`).
//! - `ramhorns`: mustache parsing and rendering (our `Content` over `serde_json::Value`).
//! - `serde`: descriptions and platform definitions as users write them.
//! - feature `client` (default): `reqwest` (rustls): the platform client; `tokio`: polling tasks, timers, name resolution; `async-trait`: the
//!   object-safe [`engine::TwinSink`]; `tracing`: failed fetches and skipped properties;
//!   `url`: URLs compared by origin, allowed hosts parsed as URL hosts; `percent-encoding`:
//!   ids in URL paths.
//! - `thiserror`: typed errors.
//! - feature `aas`: `aas-model`: synchronized values written into AAS submodels, and the
//!   Thing'in marks of a bound submodel ([`aas`]).

#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

#[cfg(feature = "aas")]
pub mod aas;
pub mod description;
#[cfg(feature = "client")]
pub mod engine;
pub mod jsonpath;
pub mod limits;
pub mod mustache;
#[cfg(feature = "client")]
pub mod outbound;
#[cfg(feature = "client")]
pub mod platform;
pub mod playground;
pub mod python_format;
pub mod twin;
