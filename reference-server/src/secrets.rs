//! Secrets at rest (SAS URLs, platform passwords and tokens): XChaCha20-Poly1305 under a
//! 256-bit key from `AAS_SERVER_SECRET_KEY` (base64) or from `<data>/secret.key`, created on
//! first start with mode 0600. Each secret is bound to what it belongs to (the associated
//! data), so a stored secret cannot be moved to another record.
//!
//! Stored form: `xc1:` + base64url(nonce ‖ ciphertext ‖ tag). Without the right key nothing
//! decrypts; the server then says so and refuses to use the records that need it.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use ring::rand::{SecureRandom, SystemRandom};

const PREFIX: &str = "xc1:";
const KEY_FILE: &str = "secret.key";
/// The environment variable that holds the key instead of the key file.
pub const KEY_VARIABLE: &str = "AAS_SERVER_SECRET_KEY";

/// Why a secret could not be kept or read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the secret key file {path}: {source}")]
    KeyFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the secret key file {path}: not 32 bytes")]
    KeyLength { path: String },
    #[error("{KEY_VARIABLE} is not 32 bytes in base64")]
    KeyVariable,
    #[error(
        "with a database URL (PostgreSQL mode) every replica must use the same secret key: give \
         it in {KEY_VARIABLE} (32 bytes in base64) or as a 32-byte file with --secret-key-file \
         (AAS_SERVER_SECRET_KEY_FILE); a replica without it does not start"
    )]
    NotGiven,
    #[error("no random numbers from the system")]
    Random,
    #[error(
        "a stored secret cannot be read with this server's secret key (was the key file \
         replaced or removed?); give the record its secret again"
    )]
    WrongKey,
    #[error("a stored secret is damaged")]
    Damaged,
}

/// The key secrets are kept under.
#[derive(Clone)]
pub struct SecretKey {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

fn random<const N: usize>() -> Result<[u8; N], SecretError> {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| SecretError::Random)?;
    Ok(bytes)
}

impl SecretKey {
    /// From `AAS_SERVER_SECRET_KEY`, else from the key file in `data` (made if missing).
    #[cfg(test)]
    pub fn load(data: &Path) -> Result<Self, SecretError> {
        Self::for_server(data, None, false)
    }

    /// The server's key: from `AAS_SERVER_SECRET_KEY`, else from `file` (which must exist),
    /// else, unless the key must be `given`, from the key file in `data` (made if missing).
    /// PostgreSQL mode needs it given: every replica must open what another sealed, so none
    /// may make a key of its own.
    pub fn for_server(data: &Path, file: Option<&Path>, given: bool) -> Result<Self, SecretError> {
        if let Ok(text) = std::env::var(KEY_VARIABLE) {
            let bytes = STANDARD
                .decode(text.trim())
                .map_err(|_| SecretError::KeyVariable)?;
            return Self::from_bytes(&bytes).ok_or(SecretError::KeyVariable);
        }
        let (path, make) = match file {
            Some(file) => (file.to_owned(), false),
            None if given => return Err(SecretError::NotGiven),
            None => (data.join(KEY_FILE), true),
        };
        let key_error = |source: std::io::Error| SecretError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        let wrong_length = || SecretError::KeyLength {
            path: path.display().to_string(),
        };
        match std::fs::read(&path) {
            Ok(bytes) => Self::from_bytes(&bytes).ok_or_else(wrong_length),
            Err(error) if make && error.kind() == std::io::ErrorKind::NotFound => {
                let bytes: [u8; 32] = random()?;
                write_private(&path, &bytes).map_err(key_error)?;
                tracing::info!("made a new secret key: {}", path.display());
                Self::from_bytes(&bytes).ok_or_else(wrong_length)
            }
            Err(error) => Err(key_error(error)),
        }
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        (bytes.len() == 32).then(|| Self {
            cipher: XChaCha20Poly1305::new(Key::from_slice(bytes)),
        })
    }

    /// Encrypts `secret`, bound to `context` (e.g. `target:<name>`).
    pub fn seal(&self, context: &str, secret: &str) -> Result<String, SecretError> {
        let nonce: [u8; 24] = random()?;
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Damaged)?;
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Decrypts what [`SecretKey::seal`] made for the same `context`.
    pub fn open(&self, context: &str, stored: &str) -> Result<String, SecretError> {
        let bytes = stored
            .strip_prefix(PREFIX)
            .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
            .filter(|b| b.len() > 24)
            .ok_or(SecretError::Damaged)?;
        let (nonce, sealed) = bytes.split_at(24);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| SecretError::Damaged)
    }
}

/// Writes a file only its owner can read (0600), atomically.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let temporary = path.with_extension("key.new");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let _ = std::fs::remove_file(&temporary);
    let mut file = options.open(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_open_only_with_their_key_and_context() -> Result<(), SecretError> {
        let dir = std::env::temp_dir().join(format!("aas-secrets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|_| SecretError::Random)?;
        let key = SecretKey::load(&dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE))
                .map_err(|_| SecretError::Random)?
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let sealed = key.seal("target:a", "sig=secret")?;
        assert!(!sealed.contains("secret"));
        assert_eq!(key.open("target:a", &sealed)?, "sig=secret");
        assert!(matches!(
            key.open("target:b", &sealed),
            Err(SecretError::WrongKey)
        ));
        assert_eq!(
            SecretKey::load(&dir)?.open("target:a", &sealed)?,
            "sig=secret",
            "same key file"
        );
        std::fs::remove_file(dir.join(KEY_FILE)).map_err(|_| SecretError::Random)?;
        let other = SecretKey::load(&dir)?;
        assert!(matches!(
            other.open("target:a", &sealed),
            Err(SecretError::WrongKey)
        ));
        assert!(matches!(
            other.open("target:a", "xc1:AAAA"),
            Err(SecretError::Damaged)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
