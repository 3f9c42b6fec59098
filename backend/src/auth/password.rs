//! Argon2id password hashes (PHC strings). Hashing is slow on purpose, so it runs off the async
//! executor.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use secrecy::{ExposeSecret, SecretString};

use super::AuthError;

pub async fn hash(password: &SecretString) -> Result<String, AuthError> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| AuthError::Hashing(e.to_string()))?
}

pub fn hash_blocking(password: &SecretString) -> Result<String, AuthError> {
    Argon2::default()
        .hash_password(password.expose_secret().as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| AuthError::Hashing(e.to_string()))
}

/// Checks a password against a stored hash. With no stored hash (unknown email) it verifies
/// against a fixed dummy hash, so that an unknown email takes as long as a wrong password.
pub async fn verify(password: &SecretString, stored: Option<String>) -> Result<bool, AuthError> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
        let parsed = PasswordHash::new(&stored).map_err(|e| AuthError::Hashing(e.to_string()))?;
        let matches = Argon2::default()
            .verify_password(password.expose_secret().as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await
    .map_err(|e| AuthError::Hashing(e.to_string()))?
}

/// The Argon2id hash (default parameters) of a random string nobody knows.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Xo5Q2b0nZ6yM8Q3QWq9kq3b0JtZ0P5a1h6uJ8lP2wqQ";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn right_password_verifies_and_wrong_one_does_not() {
        let password = SecretString::from("correct horse battery");
        let stored = hash(&password).await.expect("hash");
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify(&password, Some(stored.clone())).await.expect("verify"));
        assert!(
            !verify(&SecretString::from("wrong password!"), Some(stored))
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn unknown_users_never_verify_even_with_the_dummy_hash() {
        assert!(
            !verify(&SecretString::from("anything at all"), None)
                .await
                .expect("verify")
        );
    }
}
