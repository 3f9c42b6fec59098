use std::fmt;
use std::str::FromStr;

use super::FieldError;

/// An email address in normalised form (trimmed, lower case), so that one person has one login.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, raw: &str) -> Result<Email, FieldError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        if trimmed.len() > 254 {
            return Err(FieldError::new(field, "is longer than 254 characters"));
        }
        let parsed = email_address::EmailAddress::from_str(trimmed)
            .map_err(|e| FieldError::new(field, format!("{trimmed:?} is not a valid email address ({e})")))?;
        // Login needs a routable address: `user@host` without a dot is almost always a typo.
        if !parsed.domain().contains('.') {
            return Err(FieldError::new(
                field,
                format!("{trimmed:?} has no domain (like example.com)"),
            ));
        }
        Ok(Email(trimmed.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_whitespace() {
        let email = Email::parse("email", "  Ada.Lovelace@Example.COM ").expect("valid");
        assert_eq!(email.as_str(), "ada.lovelace@example.com");
    }

    #[test]
    fn rejects_with_the_field_named() {
        for bad in [
            "",
            "   ",
            "no-at-sign",
            "a@",
            "@example.com",
            "two@@example.com",
            "a@localhost",
        ] {
            let err = Email::parse("email", bad).expect_err(bad);
            assert_eq!(err.field, "email", "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse("email", &long).is_err());
    }
}
