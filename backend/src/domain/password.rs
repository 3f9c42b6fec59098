use secrecy::{ExposeSecret, SecretString};
use tandem_shared::api::users::MIN_PASSWORD_LEN;

use super::FieldError;

/// A password someone chose, long enough to be accepted. Never printed.
pub struct NewPassword(SecretString);

impl NewPassword {
    pub fn parse(field: &str, raw: SecretString) -> Result<NewPassword, FieldError> {
        let length = raw.expose_secret().chars().count();
        if length < MIN_PASSWORD_LEN {
            return Err(FieldError::new(
                field,
                format!("must be at least {MIN_PASSWORD_LEN} characters (it has {length})"),
            ));
        }
        if length > 1024 {
            return Err(FieldError::new(field, "must be at most 1024 characters"));
        }
        Ok(NewPassword(raw))
    }

    /// A random password of 24 characters from an unambiguous alphabet.
    pub fn generate() -> NewPassword {
        const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let mut bytes = [0u8; 24];
        // The OS random source failing is unrecoverable for anything security-related.
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        let text: String = bytes
            .iter()
            .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
            .collect();
        NewPassword(SecretString::from(text))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_passwords_are_rejected_with_their_length() {
        let err = NewPassword::parse("password", SecretString::from("short"))
            .err()
            .expect("too short");
        assert_eq!(err.field, "password");
        assert!(err.message.contains("it has 5"));
        assert!(NewPassword::parse("password", SecretString::from("a-long-enough-one")).is_ok());
    }

    #[test]
    fn generated_passwords_are_long_and_differ() {
        let a = NewPassword::generate();
        let b = NewPassword::generate();
        assert_eq!(a.secret().expose_secret().len(), 24);
        assert_ne!(a.secret().expose_secret(), b.secret().expose_secret());
    }
}
