use super::FieldError;

/// A display name: trimmed, not empty, at most 200 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn parse(field: &str, raw: &str) -> Result<Name, FieldError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        if trimmed.chars().count() > 200 {
            return Err(FieldError::new(field, "is longer than 200 characters"));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(FieldError::new(field, "contains control characters"));
        }
        Ok(Name(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_rejects_empty_long_and_control() {
        assert_eq!(Name::parse("name", "  Acme GmbH ").expect("ok").as_str(), "Acme GmbH");
        assert_eq!(Name::parse("name", " ").expect_err("empty").message, "is required");
        assert!(Name::parse("name", &"x".repeat(201)).is_err());
        assert!(Name::parse("name", "a\u{0}b").is_err());
    }
}
