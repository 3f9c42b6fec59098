use super::FieldError;

/// A short URL-safe name: lower-case letters, digits and single dashes, 2-48 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub fn parse(field: &str, raw: &str) -> Result<Slug, FieldError> {
        let slug = raw.trim();
        if slug.len() < 2 || slug.len() > 48 {
            return Err(FieldError::new(field, "must be 2 to 48 characters"));
        }
        let valid_chars = slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid_chars || slug.starts_with('-') || slug.ends_with('-') || slug.contains("--") {
            return Err(FieldError::new(
                field,
                format!("{slug:?} may contain only lower-case letters, digits and single dashes inside"),
            ));
        }
        Ok(Slug(slug.to_string()))
    }

    /// The slug a name suggests: `Müller & Söhne GmbH` becomes `m-ller-s-hne-gmbh`.
    pub fn from_name(name: &str) -> Option<Slug> {
        let mut slug = String::new();
        for c in name.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.ends_with('-') && !slug.is_empty() {
                slug.push('-');
            }
            if slug.len() >= 48 {
                break;
            }
        }
        Slug::parse("slug", slug.trim_end_matches('-')).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_from_names() {
        assert_eq!(Slug::from_name("Acme GmbH").expect("slug").as_str(), "acme-gmbh");
        assert_eq!(
            Slug::from_name("  Demo -- Company!! ").expect("slug").as_str(),
            "demo-company"
        );
        assert!(Slug::from_name("!!").is_none());
    }

    #[test]
    fn rejects_bad_slugs() {
        for bad in ["a", "Upper", "with space", "-lead", "trail-", "dou--ble", "ümlaut"] {
            assert!(Slug::parse("slug", bad).is_err(), "{bad}");
        }
        assert!(Slug::parse("slug", "acme-2").is_ok());
    }
}
