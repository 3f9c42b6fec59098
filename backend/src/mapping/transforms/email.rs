//! Email syntax as each CRM checks it, so a bad address fails before any call.

use serde_json::Value;
use tandem_shared::api::mappings::{EmailRules, FieldErrorCode};

use super::{Fail, Outcome};
use crate::mapping::value::show;

/// Trims, lower-cases and checks an address.
pub fn email(value: Value, rules: EmailRules) -> Outcome {
    let Value::String(raw) = &value else {
        return Err(Fail::new(
            FieldErrorCode::InvalidEmail,
            format!("{} is not an email address", show(&value)),
        ));
    };
    let address = raw.trim().to_lowercase();
    check(&address, rules).map_err(|why| {
        Fail::new(
            FieldErrorCode::InvalidEmail,
            format!("{} is not a valid email address: {why}", show(&value)),
        )
    })?;
    Ok(Value::String(address))
}

/// Why `address` would be rejected under `rules`, if it would.
pub fn check(address: &str, rules: EmailRules) -> Result<(), String> {
    if address.len() > 254 {
        return Err("it is longer than 254 characters".to_string());
    }
    match rules {
        EmailRules::Hubspot => hubspot(address),
        EmailRules::Salesforce => salesforce(address),
        EmailRules::Strict => hubspot(address).and_then(|()| salesforce(address)),
    }
}

/// HubSpot: one `@`, something before it, a domain with an inner dot, no whitespace.
fn hubspot(address: &str) -> Result<(), String> {
    if address.chars().any(char::is_whitespace) {
        return Err("it contains whitespace".to_string());
    }
    let (local, domain) = address.split_once('@').ok_or("it has no @")?;
    if domain.contains('@') {
        return Err("it has more than one @".to_string());
    }
    if local.is_empty() {
        return Err("nothing comes before the @".to_string());
    }
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return Err("the domain needs a dot (like example.com)".to_string());
    }
    Ok(())
}

/// Salesforce: a local part of letters, digits and ``!#$%&'*+/=?^_`{|}~.-`` without a leading,
/// trailing or double dot; a domain of dot-separated labels of letters, digits and hyphens; at
/// most 80 characters (the length of its Email fields).
fn salesforce(address: &str) -> Result<(), String> {
    if address.chars().count() > 80 {
        return Err("it is longer than 80 characters".to_string());
    }
    let (local, domain) = address.rsplit_once('@').ok_or("it has no @")?;
    if local.is_empty() {
        return Err("nothing comes before the @".to_string());
    }
    if let Some(c) = local
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c)))
    {
        return Err(format!("the part before the @ contains {c:?}"));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err("the part before the @ has a misplaced dot".to_string());
    }
    if !domain.contains('.') {
        return Err("the domain needs a dot (like example.com)".to_string());
    }
    let label_ok = |label: &str| !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !domain.split('.').all(label_ok) {
        return Err(format!("the domain {domain:?} is not a valid host name"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn normalises_valid_addresses() {
        assert_eq!(
            email(json!("  Ada.Lovelace+CRM@Example.co.UK "), EmailRules::Strict).ok(),
            Some(json!("ada.lovelace+crm@example.co.uk"))
        );
    }

    #[test]
    fn each_crm_rejects_what_it_rejects() {
        use EmailRules::{Hubspot, Salesforce, Strict};
        // (address, hubspot accepts, salesforce accepts)
        let cases = [
            ("a@b.de", true, true),
            ("a@localhost", false, false),
            ("a b@c.de", false, false),
            ("a@b c.de", false, false),
            ("no-at.de", false, false),
            ("@b.de", false, false),
            ("a@@b.de", false, false),
            ("a@b.de.", false, false),
            ("a@.b.de", false, false),
            ("ä@b.de", true, false),
            ("a..b@c.de", true, false),
            (".a@c.de", true, false),
            ("a@b_c.de", true, false),
            ("a(b)@c.de", true, false),
            ("o'neil@c.de", true, true),
        ];
        for (address, hubspot, salesforce) in cases {
            assert_eq!(check(address, Hubspot).is_ok(), hubspot, "hubspot {address}");
            assert_eq!(check(address, Salesforce).is_ok(), salesforce, "salesforce {address}");
            assert_eq!(
                check(address, Strict).is_ok(),
                hubspot && salesforce,
                "strict {address}"
            );
        }
        let long = format!("{}@example.com", "a".repeat(70));
        assert!(check(&long, Hubspot).is_ok() && check(&long, Salesforce).is_err());
    }

    #[test]
    fn says_why_and_which_value() {
        let fail = email(json!("ada@localhost"), EmailRules::Hubspot).expect_err("invalid");
        assert_eq!(fail.code, FieldErrorCode::InvalidEmail);
        assert_eq!(
            fail.reason,
            "\"ada@localhost\" is not a valid email address: the domain needs a dot (like example.com)"
        );
        assert!(email(json!(42), EmailRules::Strict).is_err());
    }
}
