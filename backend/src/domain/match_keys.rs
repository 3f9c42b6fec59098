//! The keys that say two records are the same thing (PRODUCT.md, flow 8): contacts by their
//! normalised email; companies by VAT id, else registration number, else name and country.
//! Keys are computed from records in the app's model, whichever side they come from, and are
//! ordered strongest first.

use serde_json::Value;
use tandem_shared::model::AppObject;

/// What a key is made of; the prefix of its text form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    Email,
    VatId,
    RegistrationNumber,
    NameAndCountry,
}

impl KeyKind {
    pub fn prefix(self) -> &'static str {
        match self {
            KeyKind::Email => "email",
            KeyKind::VatId => "vat",
            KeyKind::RegistrationNumber => "reg",
            KeyKind::NameAndCountry => "name",
        }
    }

    /// The app-model fields a key of this kind is made from.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            KeyKind::Email => &["email"],
            KeyKind::VatId => &["vat_id"],
            KeyKind::RegistrationNumber => &["registration_number"],
            KeyKind::NameAndCountry => &["name", "address.country"],
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MatchKey {
    pub kind: KeyKind,
    /// The normalised value, without the prefix.
    pub value: String,
}

impl MatchKey {
    /// `email:ada@example.com`, as stored.
    pub fn text(&self) -> String {
        format!("{}:{}", self.kind.prefix(), self.value)
    }
}

fn text<'a>(record: &'a Value, path: &str) -> Option<&'a str> {
    let mut value = record;
    for part in path.split('.') {
        value = value.get(part)?;
    }
    value.as_str().map(str::trim).filter(|s| !s.is_empty())
}

/// An email as compared: trimmed, lower case.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Tax and register numbers as compared: letters and digits only, upper case (`DE 123.456.789`
/// and `de123456789` are one number).
pub fn normalise_number(number: &str) -> String {
    number
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A company or person name as compared: lower case, single spaces, without a trailing legal
/// form's punctuation.
pub fn normalise_name(name: &str) -> String {
    name.split_whitespace()
        .map(|word| word.trim_matches(|c: char| c == ',' || c == '.').to_lowercase())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The record's keys, strongest first. Deals and appointments have none: they are matched only
/// through their links.
pub fn match_keys(object: AppObject, record: &Value) -> Vec<MatchKey> {
    let mut keys = Vec::new();
    let mut push = |kind: KeyKind, value: String| {
        if !value.is_empty() {
            keys.push(MatchKey { kind, value });
        }
    };
    match object {
        AppObject::Contact => {
            if let Some(email) = text(record, "email") {
                push(KeyKind::Email, normalise_email(email));
            }
        }
        AppObject::Company => {
            if let Some(vat) = text(record, "vat_id") {
                push(KeyKind::VatId, normalise_number(vat));
            }
            if let Some(registration) = text(record, "registration_number") {
                push(KeyKind::RegistrationNumber, normalise_number(registration));
            }
            if let Some(name) = text(record, "name") {
                let country = text(record, "address.country").unwrap_or_default().to_uppercase();
                push(KeyKind::NameAndCountry, format!("{}|{country}", normalise_name(name)));
            }
        }
        AppObject::Deal | AppObject::Appointment => {}
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn contacts_match_by_normalised_email() {
        let keys = match_keys(
            AppObject::Contact,
            &json!({"email": "  Ada@Example.COM ", "last_name": "L"}),
        );
        assert_eq!(
            keys.iter().map(MatchKey::text).collect::<Vec<_>>(),
            ["email:ada@example.com"]
        );
        assert!(match_keys(AppObject::Contact, &json!({"last_name": "L"})).is_empty());
    }

    #[test]
    fn companies_match_by_vat_then_register_then_name_and_country() {
        let keys = match_keys(
            AppObject::Company,
            &json!({"name": "Acme  GmbH.", "vat_id": "de 123.456.789", "registration_number": "HRB 1234",
                    "address": {"country": "de"}}),
        );
        assert_eq!(
            keys.iter().map(MatchKey::text).collect::<Vec<_>>(),
            ["vat:DE123456789", "reg:HRB1234", "name:acme gmbh|DE"]
        );
        let no_country = match_keys(AppObject::Company, &json!({"name": "Acme"}));
        assert_eq!(no_country[0].text(), "name:acme|");
        assert!(match_keys(AppObject::Deal, &json!({"name": "x"})).is_empty());
    }
}
