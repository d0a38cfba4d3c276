//! REST security: API keys sent as `Authorization: Bearer <key>`, configured only as SHA-256
//! hashes, each with a role, checked by the route group a request reaches ([`Access`]). `read` may GET (the event feed too), `write` may also change the
//! repository, `admin` may do everything (the push and synchronization administration, and the
//! dead letters of the event publisher, too).
//!
//! Without any key configured the server serves without authentication, and therefore only on
//! a loopback address.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};
use serde::Deserialize;
use subtle::ConstantTimeEq;

/// What a key may do; each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Read,
    Write,
    Admin,
}

/// A configured key: the SHA-256 of the key (64 hex digits) and its role.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    pub sha256: String,
    pub role: Role,
    /// Who holds it (for logs).
    #[serde(default)]
    pub name: Option<String>,
}

/// Why an API key entry is unusable.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("API key hash {0:?} is not 64 hexadecimal digits (SHA-256)")]
    BadHash(String),
    #[error("API key {0:?} is not ROLE:SHA256 (role read, write or admin)")]
    BadFlag(String),
}

impl ApiKey {
    /// `ROLE:SHA256HEX`, as the `--api-key` flag takes it.
    pub fn from_flag(text: &str) -> Result<Self, KeyError> {
        let (role, hash) = text
            .split_once(':')
            .ok_or_else(|| KeyError::BadFlag(text.to_owned()))?;
        let role = match role {
            "read" => Role::Read,
            "write" => Role::Write,
            "admin" => Role::Admin,
            _ => return Err(KeyError::BadFlag(text.to_owned())),
        };
        Self {
            sha256: hash.to_owned(),
            role,
            name: None,
        }
        .checked()
    }

    pub fn checked(mut self) -> Result<Self, KeyError> {
        self.sha256 = self.sha256.to_ascii_lowercase();
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(KeyError::BadHash(self.sha256));
        }
        Ok(self)
    }
}

/// The SHA-256 of a key, as lowercase hex.
pub fn hash_key(key: &str) -> String {
    hex::encode(digest(&SHA256, key.as_bytes()))
}

/// A new random key (32 bytes, base64url) and its hash.
pub fn new_key() -> Result<(String, String), ring::error::Unspecified> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes)?;
    let key = format!(
        "aas_{}",
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
    );
    let hash = hash_key(&key);
    Ok((key, hash))
}

/// The configured keys.
#[derive(Debug, Clone, Default)]
pub struct ApiKeys {
    keys: Arc<Vec<ApiKey>>,
}

impl ApiKeys {
    pub fn new(keys: Vec<ApiKey>) -> Self {
        Self {
            keys: Arc::new(keys),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The role of a presented key. Every configured hash is compared in full and in constant
    /// time (`subtle`), so timing tells neither how much of a hash matched nor which one did.
    pub fn role_of(&self, key: &str) -> Option<Role> {
        let presented = hash_key(key);
        let mut found = None;
        for entry in self.keys.iter() {
            if bool::from(entry.sha256.as_bytes().ct_eq(presented.as_bytes())) {
                found = found.max(Some(entry.role));
            }
        }
        found
    }
}

/// Who may call a group of routes. The router attaches one to each group of routes
/// ([`guarded`]), so a route's role is decided where the route is declared: a new admin route
/// is added to the admin group and cannot be reached with a lesser key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads (GET, HEAD, OPTIONS) need `read`, changes `write`: the repository, the event feed.
    Repository,
    /// Everything needs `admin`: push and synchronization administration, dead letters.
    Admin,
}

impl Access {
    /// The role a request with `method` needs.
    pub fn role_for(self, method: &Method) -> Role {
        match self {
            Access::Admin => Role::Admin,
            Access::Repository
                if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) =>
            {
                Role::Read
            }
            Access::Repository => Role::Write,
        }
    }
}

/// The keys and the access of one route group.
#[derive(Debug, Clone)]
struct Guard {
    keys: ApiKeys,
    access: Access,
}

/// `router` with every one of its routes (not its fallback) behind `access`. Without
/// configured keys everything passes (the server then listens on loopback only).
pub fn guarded<S>(router: axum::Router<S>, keys: &ApiKeys, access: Access) -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router.route_layer(axum::middleware::from_fn_with_state(
        Guard {
            keys: keys.clone(),
            access,
        },
        require_role,
    ))
}

fn refusal(status: StatusCode, text: &str) -> Response {
    let body = serde_json::json!({"messages": [{
        "code": status.as_u16().to_string(), "messageType": "Error", "text": text,
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }]});
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    response
}

/// The middleware: passes requests whose key has the role their route group needs.
async fn require_role(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let keys = &guard.keys;
    if keys.is_empty() {
        return next.run(request).await;
    }
    let needed = guard.access.role_for(request.method());
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token);
    match presented.map(|key| keys.role_of(key)) {
        None => refusal(
            StatusCode::UNAUTHORIZED,
            "an API key is required: Authorization: Bearer <key>",
        ),
        Some(None) => refusal(StatusCode::UNAUTHORIZED, "the API key is not known"),
        Some(Some(role)) if role < needed => refusal(
            StatusCode::FORBIDDEN,
            &format!("the API key's role {role:?} may not do this ({needed:?} needed)"),
        ),
        Some(Some(_)) => next.run(request).await,
    }
}

/// The token of a `Bearer` credential. The scheme is case-insensitive (RFC 9110 §11.1), and
/// one or more spaces separate it from the token.
fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim_start().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        for header in ["Bearer k1", "bearer k1", "BEARER  k1", "BeArEr k1 "] {
            assert_eq!(bearer_token(header), Some("k1"), "{header:?}");
        }
        for header in ["Basic k1", "Bearerk1", "Bearer ", "k1"] {
            assert_eq!(bearer_token(header), None, "{header:?}");
        }
    }

    #[test]
    fn keys_are_known_by_their_hash_and_roles_include_lower_ones()
    -> Result<(), Box<dyn std::error::Error>> {
        let (key, hash) = new_key().map_err(|_| "no random numbers from the system")?;
        assert_eq!(hash, hash_key(&key));
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let keys = ApiKeys::new(vec![ApiKey::from_flag(&format!("write:{hash}"))?]);
        assert_eq!(keys.role_of(&key), Some(Role::Write));
        assert_eq!(keys.role_of("other"), None);
        // Every entry is compared; the same hash listed twice counts with its highest role.
        let keys = ApiKeys::new(vec![
            ApiKey::from_flag(&format!("read:{}", hash_key("other")))?,
            ApiKey::from_flag(&format!("admin:{}", hash.to_ascii_uppercase()))?,
            ApiKey::from_flag(&format!("read:{hash}"))?,
        ]);
        assert_eq!(keys.role_of(&key), Some(Role::Admin));
        assert_eq!(keys.role_of("other"), Some(Role::Read));
        assert_eq!(keys.role_of(""), None);
        assert!(Role::Admin > Role::Write && Role::Write > Role::Read);
        assert!(ApiKey::from_flag("owner:00").is_err());
        assert!(ApiKey::from_flag("read:xyz").is_err());
        assert_eq!(Access::Repository.role_for(&Method::GET), Role::Read);
        assert_eq!(Access::Repository.role_for(&Method::HEAD), Role::Read);
        assert_eq!(Access::Repository.role_for(&Method::PUT), Role::Write);
        assert_eq!(Access::Repository.role_for(&Method::DELETE), Role::Write);
        assert_eq!(Access::Admin.role_for(&Method::GET), Role::Admin);
        Ok(())
    }
}
