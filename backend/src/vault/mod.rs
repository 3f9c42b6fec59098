//! Credentials at rest. This is the only module that holds a master key or calls `aes-gcm`.
//!
//! * `cipher`  — AES-256-GCM sealing with associated data that binds a value to its place.
//! * `keyring` — master keys (environment or key file), the active one, reload on rotation.
//! * `store`   — put/get/delete of secrets by (tenant, owner, purpose).
//! * `rotate`  — re-encrypts every stored secret under the active key, in batches.

mod cipher;
mod keyring;
mod rotate;
mod store;

pub use keyring::{KeySource, Keyring, KeyringNotice, generate_key_line};
pub use rotate::{RotationReport, reencrypt_all};
pub use store::Vault;

use crate::repo::RepoError;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("no master key with id {0:?} is configured")]
    UnknownKey(String),
    /// AES-GCM authentication failed: the key is wrong, or the value was altered or moved to
    /// another tenant, owner or purpose. GCM cannot tell these apart, by design.
    #[error("the secret could not be opened: wrong key, or the value was tampered with or moved")]
    Unseal,
    #[error("the sealed value is malformed: {0}")]
    Malformed(&'static str),
    #[error("master keys: {0}")]
    KeyConfig(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
}
