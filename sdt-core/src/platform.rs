use std::fmt;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use crate::jsonpath::JsonPath;
use crate::outbound::{OutboundError, OutboundPolicy, OutboundReason};
use crate::python_format::PythonTemplate;

/// A platform definition, shared by the twins bound to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    /// The platform's name, which twin bindings refer to (`TwinRecord::platform`).
    pub name: String,
    /// Free text for people.
    #[serde(default)]
    pub description: Option<String>,
    /// The `http` or `https` URL every request starts with (`http://iot.example:8080`); every
    /// URL the client builds must stay in its origin.
    pub base_url: String,
    /// What follows `base_url` before the device id in the data URL (GET).
    #[serde(default)]
    pub data_get_prefix: String,
    /// What follows the device id in the data URL.
    #[serde(default)]
    pub data_get_suffix: String,
    /// What follows `base_url` before the command id in the command URL (POST).
    #[serde(default)]
    pub command_prefix: String,
    /// What follows the command id in the command URL.
    #[serde(default)]
    pub command_suffix: String,
    /// How requests are authenticated; the credentials come with each binding.
    pub authentication: Authentication,
    /// The header carrying the key or token; `Bearer` means `Authorization: Bearer <token>`.
    #[serde(default)]
    pub token_header: Option<String>,
    /// `login_password`: the login request's path after `base_url` (POST).
    #[serde(default)]
    pub auth_path: Option<String>,
    /// `login_password`: the login body, a Python format template over `login` and `password`;
    /// `Basic`: HTTP Basic authentication on every request, no login request.
    #[serde(default)]
    pub auth_template: Option<String>,
    /// `login_password`: the JSONPath of the token in the login answer.
    #[serde(default)]
    pub auth_response: Option<String>,
    /// Extra headers of the login request.
    #[serde(default)]
    pub auth_headers: Option<Map<String, Value>>,
}

impl Platform {
    /// A definition from a JSON body, sent to the platform `name` when the path names one (the
    /// body then names the same platform, or none); not yet [checked](Platform::check).
    pub fn from_json(body: &[u8], name: Option<&str>) -> Result<Self, crate::twin::RecordError> {
        crate::twin::named_record(body, "name", name, ("platform", "platform"))
    }

    /// Checks the definition as a client would use it, before any binding brings its
    /// credentials: the name, the base URL (also against `outbound`) and what the
    /// authentication needs (the login template, with placeholder credentials of its kind).
    pub fn check(&self, outbound: &OutboundPolicy) -> Result<(), PlatformError> {
        let placeholder = || "check".to_owned();
        let credentials = match self.authentication {
            Authentication::None => Credentials::None,
            Authentication::ApiKey => Credentials::ApiKey(placeholder()),
            Authentication::LoginPassword => Credentials::LoginPassword {
                login: placeholder(),
                password: placeholder(),
            },
        };
        let options = ClientOptions {
            outbound: outbound.clone(),
            ..ClientOptions::default()
        };
        PlatformClient::new(self.clone(), credentials, options).map(drop)
    }
}

/// How requests are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Authentication {
    /// No authentication (`none`).
    None,
    /// An API key in the `token_header` (`api_key`).
    ApiKey,
    /// A login and password (`login_password`): a login request whose answer holds a token
    /// for the `token_header`, or HTTP Basic on every request when `auth_template` is `Basic`.
    LoginPassword,
}

/// The secrets of one binding; `Debug` shows none of them.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// No secret, for [`Authentication::None`].
    None,
    /// The API key, for [`Authentication::ApiKey`].
    ApiKey(String),
    /// For [`Authentication::LoginPassword`].
    LoginPassword {
        /// The login (user name).
        login: String,
        /// Its password.
        password: String,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::ApiKey(_) => f.write_str("ApiKey(<redacted>)"),
            Credentials::LoginPassword { login, .. } => f
                .debug_struct("LoginPassword")
                .field("login", login)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

/// The error that caused a [`PlatformError::Config`] or [`PlatformError::Login`], if any.
type Cause = Option<Box<dyn std::error::Error + Send + Sync>>;

/// Why the platform could not be used; never holds a secret. The error that caused it, if
/// any, is the [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlatformError {
    /// The definition (with these credentials) cannot be used; `message` says what is wrong
    /// and where (`auth_template: ...`).
    #[error("platform {platform}: {message}")]
    Config {
        /// The platform's name.
        platform: String,
        /// What is wrong, and in which member of the definition.
        message: String,
        /// The parser's error behind it, if any (a URL's, a template's).
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The platform answered with a status other than 2xx (after the one new login a 401
    /// brings).
    #[error("{url}: HTTP {status}")]
    Status {
        /// The URL requested.
        url: String,
        /// The HTTP status code.
        status: u16,
    },
    /// Not answered; `message` holds the request error with its whole chain of causes.
    #[error("{url}: {message}")]
    Unreachable {
        /// The URL requested.
        url: String,
        /// The request error with its causes, in words (connection refused, timed out...).
        message: String,
        /// The request error.
        #[source]
        source: reqwest::Error,
    },
    /// The answer's body is larger than `ClientOptions::max_response_bytes`; the rest of it
    /// was not read.
    #[error("{url}: the answer is larger than {max} bytes")]
    TooLarge {
        /// The URL requested.
        url: String,
        /// The limit, in bytes.
        max: usize,
    },
    /// The data URL's answer is not JSON.
    #[error("{url}: the answer is not JSON: {source}")]
    NotJson {
        /// The URL requested.
        url: String,
        /// Where and why it does not parse.
        #[source]
        source: serde_json::Error,
    },
    /// The login request of a `login_password` platform failed, or its answer holds no token
    /// at `auth_response`.
    #[error("login to {url} failed: {message}")]
    Login {
        /// The login URL.
        url: String,
        /// What went wrong, in words.
        message: String,
        /// The error behind it, if any (the request's, the JSON parser's).
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The outbound policy refused the request (before it was sent, on a redirect, or when
    /// the host name resolved); nothing was sent to the refused address.
    #[error(transparent)]
    Refused(#[from] OutboundError),
    /// The URL built from the definition and an id does not parse.
    #[error("{url}: not a URL: {source}")]
    BadUrl {
        /// The text that does not parse as a URL.
        url: String,
        /// The `url` crate's reason.
        #[source]
        source: url::ParseError,
    },
    /// A device or command id is `.` or `..`, which URL parsers resolve as a path step even
    /// percent-encoded.
    #[error("the id {id:?} is a dot segment: it would name another path")]
    DotSegment {
        /// The id.
        id: String,
    },
}

/// Limits of the client, and where it may connect.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// How long one request may take, from connecting to the end of the body (default 10 s).
    pub timeout: Duration,
    /// The largest answer read, in bytes (default 4 MiB); a larger one is
    /// [`PlatformError::TooLarge`].
    pub max_response_bytes: usize,
    /// Where requests may go (default: everything but the addresses always refused).
    pub outbound: OutboundPolicy,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_response_bytes: 4 << 20,
            outbound: OutboundPolicy::default(),
        }
    }
}

/// What is percent-encoded in an id: all but RFC 3986's unreserved characters, so that an id
/// stays one path segment (no `/`, `?`, `#`, `@` or `:` of its own).
const ID: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// IoT platforms: their definition (URL parts, authentication) and a client that fetches a
/// device's data and sends commands, with the three authentication modes, token caching and
/// one new login when a request answers 401, timeouts and a response size limit.
///
/// Every request goes through an [`OutboundPolicy`] ([`ClientOptions::outbound`]): the base
/// URL is checked when the client is made, each URL before its request, each redirect hop, and
/// each address a host name resolves to when connecting. Device and command ids are
/// percent-encoded into the path (all but `A-Z a-z 0-9 - . _ ~`), and a URL whose origin is
/// not the base URL's is refused, so an id such as `@other-host/x` cannot send the request or
/// its credentials elsewhere.
pub struct PlatformClient {
    platform: Platform,
    /// `base_url`, parsed: every URL built must have its origin.
    base: Url,
    credentials: Credentials,
    http: reqwest::Client,
    options: ClientOptions,
    login: Option<Login>,
    token: Mutex<Option<String>>,
}

impl fmt::Debug for PlatformClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformClient")
            .field("platform", &self.platform.name)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

/// The login request of `login_password` platforms (not `Basic`).
struct Login {
    url: Url,
    body: String,
    token: JsonPath,
}

impl PlatformClient {
    /// Checks the definition against the credentials and prepares the login.
    pub fn new(
        platform: Platform,
        credentials: Credentials,
        options: ClientOptions,
    ) -> Result<Self, PlatformError> {
        let config = |message: String| PlatformError::Config {
            platform: platform.name.clone(),
            message,
            source: None,
        };
        let caused = |message: String, source: Box<dyn std::error::Error + Send + Sync>| {
            PlatformError::Config {
                platform: platform.name.clone(),
                message,
                source: Some(source),
            }
        };
        if platform.name.is_empty() || platform.name.contains(char::is_whitespace) {
            return Err(config(
                "the name must be non-empty and without spaces".into(),
            ));
        }
        let base = Url::parse(&platform.base_url)
            .map_err(|e| caused(format!("base_url {:?}: {e}", platform.base_url), e.into()))?;
        options.outbound.check_url(&base)?;
        let mut login = None;
        match (platform.authentication, &credentials) {
            (Authentication::None, _) => {}
            (Authentication::ApiKey, Credentials::ApiKey(_)) => {
                if platform.token_header.is_none() {
                    return Err(config("api_key authentication needs token_header".into()));
                }
            }
            (
                Authentication::LoginPassword,
                Credentials::LoginPassword {
                    login: user,
                    password,
                },
            ) => {
                if platform.auth_template.as_deref() != Some("Basic") {
                    let path = platform
                        .auth_path
                        .as_deref()
                        .ok_or_else(|| config("login_password needs auth_path".into()))?;
                    let template = platform
                        .auth_template
                        .as_deref()
                        .ok_or_else(|| config("login_password needs auth_template".into()))?;
                    let template = PythonTemplate::parse(template)
                        .map_err(|e| caused(format!("auth_template: {e}"), e.into()))?;
                    let mut variables = Map::new();
                    variables.insert("login".into(), Value::String(user.clone()));
                    variables.insert("password".into(), Value::String(password.clone()));
                    let body = template
                        .render(&variables)
                        .map_err(|e| caused(format!("auth_template: {e}"), e.into()))?;
                    let token = platform
                        .auth_response
                        .as_deref()
                        .ok_or_else(|| config("login_password needs auth_response".into()))?;
                    let token = JsonPath::parse(token)
                        .map_err(|e| caused(format!("auth_response: {e}"), e.into()))?;
                    if platform.token_header.is_none() {
                        return Err(config("login_password needs token_header".into()));
                    }
                    login = Some(Login {
                        url: within(
                            &base,
                            &options.outbound,
                            format!("{}{path}", platform.base_url),
                        )?,
                        body,
                        token,
                    });
                }
            }
            (kind, _) => {
                return Err(config(format!(
                    "{kind:?} authentication needs matching credentials"
                )));
            }
        }
        let http = options
            .outbound
            .client_builder()
            .timeout(options.timeout)
            .build()
            .map_err(|e| caused(format!("HTTP client: {e}"), e.into()))?;
        Ok(Self {
            platform,
            base,
            credentials,
            http,
            options,
            login,
            token: Mutex::new(None),
        })
    }

    /// The data URL of a device: `base_url + data_get_prefix + id + data_get_suffix`, the id
    /// percent-encoded; an error if it leaves the base URL's origin or the policy refuses it.
    pub fn data_url(&self, device_id: &str) -> Result<Url, PlatformError> {
        let p = &self.platform;
        self.url(&p.data_get_prefix, device_id, &p.data_get_suffix)
    }

    /// The command URL of a device: `base_url + command_prefix + id + command_suffix`, as
    /// [`Self::data_url`].
    pub fn command_url(&self, command_id: &str) -> Result<Url, PlatformError> {
        let p = &self.platform;
        self.url(&p.command_prefix, command_id, &p.command_suffix)
    }

    fn url(&self, prefix: &str, id: &str, suffix: &str) -> Result<Url, PlatformError> {
        // `.` and `..` stay what they are when encoded (`%2E` is a dot to URL parsers).
        if id == "." || id == ".." {
            return Err(PlatformError::DotSegment { id: id.to_owned() });
        }
        let id = utf8_percent_encode(id, ID);
        within(
            &self.base,
            &self.options.outbound,
            format!("{}{prefix}{id}{suffix}", self.platform.base_url),
        )
    }

    /// The platform's answer for a device, from [`Self::data_url`].
    pub async fn fetch(&self, device_id: &str) -> Result<Value, PlatformError> {
        let url = self.data_url(device_id)?;
        let body = self.send(reqwest::Method::GET, &url, None).await?;
        serde_json::from_slice(&body).map_err(|source| PlatformError::NotJson {
            url: url.into(),
            source,
        })
    }

    /// POSTs a command to [`Self::command_url`], the JSON body.
    pub async fn send_command(&self, command_id: &str, body: &Value) -> Result<(), PlatformError> {
        let url = self.command_url(command_id)?;
        self.send(reqwest::Method::POST, &url, Some(body))
            .await
            .map(drop)
    }

    /// Sends with authentication; on 401 with a cached token, logs in once more and repeats.
    async fn send(
        &self,
        method: reqwest::Method,
        url: &Url,
        body: Option<&Value>,
    ) -> Result<Vec<u8>, PlatformError> {
        let mut relogged = false;
        loop {
            // Checked before each request: an IP-literal host never reaches the resolver.
            self.options.outbound.check_url(url)?;
            let mut request = self.http.request(method.clone(), url.clone());
            if let Some(body) = body {
                request = request.json(body);
            }
            request = self.authenticate(request).await?;
            let response = request.send().await.map_err(|e| unreachable(url, e))?;
            let status = response.status();
            if status == reqwest::StatusCode::UNAUTHORIZED && self.login.is_some() && !relogged {
                *self.token.lock().await = None;
                relogged = true;
                continue;
            }
            if !status.is_success() {
                return Err(PlatformError::Status {
                    url: url.to_string(),
                    status: status.as_u16(),
                });
            }
            return self.read_limited(url, response).await;
        }
    }

    async fn authenticate(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, PlatformError> {
        match &self.credentials {
            Credentials::ApiKey(key) if self.platform.authentication == Authentication::ApiKey => {
                Ok(self.token_header(request, key))
            }
            Credentials::LoginPassword { login, password }
                if self.platform.authentication == Authentication::LoginPassword =>
            {
                if self.login.is_none() {
                    return Ok(request.basic_auth(login, Some(password)));
                }
                let token = self.token().await?;
                Ok(self.token_header(request, &token))
            }
            _ => Ok(request),
        }
    }

    fn token_header(
        &self,
        request: reqwest::RequestBuilder,
        secret: &str,
    ) -> reqwest::RequestBuilder {
        match self.platform.token_header.as_deref() {
            Some("Bearer") | None => request.bearer_auth(secret),
            Some(header) => request.header(header, secret),
        }
    }

    /// The cached token, or a new one from the login request.
    async fn token(&self) -> Result<String, PlatformError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref() {
            return Ok(token.clone());
        }
        let Some(login) = &self.login else {
            return Err(PlatformError::Login {
                url: String::new(),
                message: "no login configured".into(),
                source: None,
            });
        };
        let failed = |message: String, source: Cause| PlatformError::Login {
            url: login.url.to_string(),
            message,
            source,
        };
        self.options.outbound.check_url(&login.url)?;
        let mut request = self.http.post(login.url.clone()).body(login.body.clone());
        let mut content_type = false;
        for (name, value) in self.platform.auth_headers.iter().flatten() {
            content_type |= name.eq_ignore_ascii_case("content-type");
            request = request.header(
                name,
                value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned),
            );
        }
        if !content_type {
            request = request.header("content-type", "application/json");
        }
        let response = request
            .send()
            .await
            .map_err(|e| match unreachable(&login.url, e) {
                PlatformError::Unreachable {
                    message, source, ..
                } => failed(message, Some(source.into())),
                refused => refused,
            })?;
        if !response.status().is_success() {
            return Err(failed(format!("HTTP {}", response.status().as_u16()), None));
        }
        let body = self.read_limited(&login.url, response).await?;
        let answer: Value = serde_json::from_slice(&body)
            .map_err(|e| failed(format!("the answer is not JSON: {e}"), Some(e.into())))?;
        let found = login
            .token
            .query(&answer)
            .map_err(|e| failed(format!("auth_response: {e}"), Some(e.into())))?;
        let token = match found.as_slice() {
            [Value::String(token)] => token.clone(),
            [other] => other.to_string(),
            found => {
                return Err(failed(
                    format!("auth_response matched {} values, not one", found.len()),
                    None,
                ));
            }
        };
        *cached = Some(token.clone());
        Ok(token)
    }

    async fn read_limited(
        &self,
        url: &Url,
        response: reqwest::Response,
    ) -> Result<Vec<u8>, PlatformError> {
        let max = self.options.max_response_bytes;
        crate::outbound::read_limited(response, max)
            .await
            .map_err(|e| unreachable(url, e))?
            .ok_or_else(|| PlatformError::TooLarge {
                url: url.to_string(),
                max,
            })
    }
}

/// A URL made from the definition: it must parse, keep `base`'s origin and pass the policy.
fn within(base: &Url, policy: &OutboundPolicy, text: String) -> Result<Url, PlatformError> {
    let url = Url::parse(&text).map_err(|source| PlatformError::BadUrl {
        url: text.clone(),
        source,
    })?;
    if url.origin() != base.origin() {
        return Err(PlatformError::Refused(OutboundError {
            target: text,
            reason: OutboundReason::LeavesOrigin {
                base: base.origin().ascii_serialization(),
            },
        }));
    }
    policy.check_url(&url)?;
    Ok(url)
}

/// The request failed: refused by the policy (at connect time or on a redirect), or not
/// answered; the message holds the whole chain of causes.
fn unreachable(url: &Url, error: reqwest::Error) -> PlatformError {
    if let Some(refused) = OutboundError::find_in(&error) {
        return PlatformError::Refused(OutboundError {
            target: url.to_string(),
            reason: refused.reason.clone(),
        });
    }
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    PlatformError::Unreachable {
        url: url.to_string(),
        message,
        source: error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform(authentication: Authentication) -> Platform {
        Platform {
            name: "iot".into(),
            description: None,
            base_url: "https://iot.example.com/api".into(),
            data_get_prefix: String::new(),
            data_get_suffix: String::new(),
            command_prefix: String::new(),
            command_suffix: String::new(),
            authentication,
            token_header: None,
            auth_path: None,
            auth_template: None,
            auth_response: None,
            auth_headers: None,
        }
    }

    #[test]
    fn a_definition_is_checked_for_what_its_authentication_needs_without_credentials() {
        let anywhere = OutboundPolicy::default();
        assert!(platform(Authentication::None).check(&anywhere).is_ok());
        let error = platform(Authentication::ApiKey).check(&anywhere);
        assert!(error.is_err_and(|e| e.to_string().contains("needs token_header")));
        let error = platform(Authentication::LoginPassword).check(&anywhere);
        assert!(error.is_err_and(|e| e.to_string().contains("needs auth_path")));
        let mut basic = platform(Authentication::LoginPassword);
        basic.auth_template = Some("Basic".into());
        assert!(basic.check(&anywhere).is_ok());
    }

    #[test]
    fn a_base_url_the_outbound_policy_refuses_fails_the_check() {
        let mut local = platform(Authentication::None);
        local.base_url = "http://127.0.0.1:1/api".into();
        assert!(matches!(
            local.check(&OutboundPolicy::new().private_networks(false)),
            Err(PlatformError::Refused(_))
        ));
    }
}
