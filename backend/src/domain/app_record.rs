//! A record pushed by the operator's app, parsed into the unified model and normalised: strings
//! trimmed, currencies upper-case ISO-4217, decimals without trailing zeros. Every problem is
//! reported with its field path; the content hash is over the normalised form, so the same
//! content always hashes the same.

use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tandem_shared::api::records::RecordFieldError;
use tandem_shared::model::{Address, AppObject, Appointment, Company, Contact, Deal, LineItem};

use super::Email;

#[derive(Clone, Debug, PartialEq)]
pub enum AppRecord {
    Contact(Contact),
    Company(Company),
    Deal(Deal),
    Appointment(Appointment),
}

type Errors = Vec<RecordFieldError>;

fn error(errors: &mut Errors, field: impl Into<String>, message: impl Into<String>) {
    errors.push(RecordFieldError {
        field: field.into(),
        message: message.into(),
    });
}

fn deserialize<T: DeserializeOwned>(data: &Value) -> Result<T, Errors> {
    serde_path_to_error::deserialize(data).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.inner().to_string();
        let field = inner
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .map(|missing| {
                if path == "." {
                    missing.to_string()
                } else {
                    format!("{path}.{missing}")
                }
            })
            .unwrap_or_else(|| if path == "." { "data".into() } else { path });
        vec![RecordFieldError { field, message: inner }]
    })
}

/// Trims a text field and drops it when nothing is left.
fn tidy(value: &mut Option<String>) {
    if let Some(text) = value {
        let trimmed = text.trim();
        *value = if trimmed.is_empty() {
            None
        } else {
            Some(trimmed.to_string())
        };
    }
}

fn check_email(errors: &mut Errors, field: &str, email: &mut Option<String>) {
    tidy(email);
    if let Some(value) = email.as_deref()
        && let Err(e) = Email::parse(field, value)
    {
        error(errors, field, e.message);
    }
}

fn check_currency(errors: &mut Errors, field: &str, currency: &mut Option<String>) {
    tidy(currency);
    if let Some(code) = currency.as_mut() {
        *code = code.to_uppercase();
        if iso_currency::Currency::from_code(code).is_none() {
            error(
                errors,
                field,
                format!("{code:?} is not an ISO-4217 currency code (like EUR, USD, GBP)"),
            );
        }
    }
}

fn check_percent(errors: &mut Errors, field: &str, value: &mut Option<Decimal>) {
    if let Some(percent) = value.as_mut() {
        *percent = percent.normalize();
        if *percent < Decimal::ZERO || *percent > Decimal::ONE_HUNDRED {
            error(
                errors,
                field,
                format!("{percent} is not a percentage between 0 and 100"),
            );
        }
    }
}

fn check_country(errors: &mut Errors, field: &str, address: &mut Option<Address>) {
    let Some(address) = address else { return };
    tidy(&mut address.street);
    tidy(&mut address.postal_code);
    tidy(&mut address.city);
    tidy(&mut address.country);
    if let Some(country) = address.country.as_mut() {
        *country = country.to_uppercase();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
            error(
                errors,
                field,
                format!("{country:?} is not an ISO 3166 two-letter country code (like DE)"),
            );
        }
    }
}

fn check_line_item(errors: &mut Errors, index: usize, item: &mut LineItem, deal_currency: Option<&str>) {
    let field = |name: &str| format!("line_items.{index}.{name}");
    item.product_number = item.product_number.trim().to_string();
    if item.product_number.is_empty() {
        error(
            errors,
            field("product_number"),
            "is required: products are matched by their number",
        );
    }
    tidy(&mut item.name);
    item.quantity = item.quantity.normalize();
    item.unit_price = item.unit_price.normalize();
    if item.quantity <= Decimal::ZERO {
        error(
            errors,
            field("quantity"),
            format!("{} is not a positive quantity", item.quantity),
        );
    }
    if item.unit_price < Decimal::ZERO {
        error(errors, field("unit_price"), format!("{} is negative", item.unit_price));
    }
    check_currency(errors, &field("currency"), &mut item.currency);
    if let (Some(own), Some(deal)) = (item.currency.as_deref(), deal_currency)
        && own != deal
    {
        error(
            errors,
            field("currency"),
            format!("{own} differs from the deal's currency {deal}"),
        );
    }
    check_percent(errors, &field("discount_percent"), &mut item.discount_percent);
    check_percent(errors, &field("tax_percent"), &mut item.tax_percent);
}

impl AppRecord {
    pub fn parse(object: AppObject, data: &Value) -> Result<AppRecord, Vec<RecordFieldError>> {
        if !data.is_object() {
            return Err(vec![RecordFieldError {
                field: "data".into(),
                message: "must be a JSON object".into(),
            }]);
        }
        let mut errors = Errors::new();
        let record = match object {
            AppObject::Contact => {
                let mut c: Contact = deserialize(data)?;
                for text in [
                    &mut c.first_name,
                    &mut c.last_name,
                    &mut c.phone,
                    &mut c.mobile,
                    &mut c.job_title,
                ] {
                    tidy(text);
                }
                for text in [&mut c.company_id, &mut c.company_name, &mut c.status, &mut c.owner] {
                    tidy(text);
                }
                check_email(&mut errors, "email", &mut c.email);
                check_country(&mut errors, "address.country", &mut c.address);
                if c.email.is_none() && c.first_name.is_none() && c.last_name.is_none() && c.phone.is_none() {
                    error(
                        &mut errors,
                        "email",
                        "a contact needs at least an email, a name or a phone number",
                    );
                }
                AppRecord::Contact(c)
            }
            AppObject::Company => {
                let mut c: Company = deserialize(data)?;
                for text in [
                    &mut c.name,
                    &mut c.vat_id,
                    &mut c.registration_number,
                    &mut c.domain,
                    &mut c.phone,
                    &mut c.industry,
                ] {
                    tidy(text);
                }
                if let Some(vat) = c.vat_id.as_mut() {
                    *vat = vat.replace([' ', '.', '-'], "").to_uppercase();
                }
                check_country(&mut errors, "address.country", &mut c.address);
                if c.name.is_none() && c.vat_id.is_none() && c.registration_number.is_none() {
                    error(
                        &mut errors,
                        "name",
                        "a company needs a name, a VAT id or a registration number",
                    );
                }
                AppRecord::Company(c)
            }
            AppObject::Deal => {
                let mut d: Deal = deserialize(data)?;
                for text in [&mut d.name, &mut d.status, &mut d.company_id, &mut d.contact_id] {
                    tidy(text);
                }
                check_currency(&mut errors, "currency", &mut d.currency);
                if let Some(amount) = d.amount.as_mut() {
                    *amount = amount.normalize();
                    if *amount < Decimal::ZERO {
                        error(&mut errors, "amount", format!("{amount} is negative"));
                    }
                }
                let currency = d.currency.clone();
                for (index, item) in d.line_items.iter_mut().enumerate() {
                    check_line_item(&mut errors, index, item, currency.as_deref());
                }
                AppRecord::Deal(d)
            }
            AppObject::Appointment => {
                let mut a: Appointment = deserialize(data)?;
                for text in [
                    &mut a.title,
                    &mut a.customer_name,
                    &mut a.phone,
                    &mut a.owner,
                    &mut a.location,
                    &mut a.contact_id,
                ] {
                    tidy(text);
                }
                check_email(&mut errors, "email", &mut a.email);
                if let (Some(start), Some(end)) = (a.start, a.end)
                    && end < start
                {
                    error(&mut errors, "end", "is before start");
                }
                AppRecord::Appointment(a)
            }
        };
        if errors.is_empty() { Ok(record) } else { Err(errors) }
    }

    /// The normalised record as JSON: what is stored, returned and hashed.
    pub fn to_json(&self) -> Value {
        fn json<T: Serialize>(value: &T) -> Value {
            serde_json::to_value(value).unwrap_or(Value::Null)
        }
        match self {
            AppRecord::Contact(c) => json(c),
            AppRecord::Company(c) => json(c),
            AppRecord::Deal(d) => json(d),
            AppRecord::Appointment(a) => json(a),
        }
    }

    /// SHA-256 of the normalised JSON (object keys in a fixed order), in hex.
    pub fn content_hash(&self) -> String {
        let digest = Sha256::digest(self.to_json().to_string().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn contacts_are_normalised_and_hash_the_same_for_the_same_content() {
        let a = AppRecord::parse(
            AppObject::Contact,
            &json!({"email": " ada@example.com ", "first_name": "Ada "}),
        )
        .expect("ok");
        let b = AppRecord::parse(
            AppObject::Contact,
            &json!({"first_name": "Ada", "email": "ada@example.com"}),
        )
        .expect("ok");
        assert_eq!(a, b);
        assert_eq!(a.content_hash(), b.content_hash());
        let c = AppRecord::parse(
            AppObject::Contact,
            &json!({"first_name": "Ada", "email": "ada@example.org"}),
        )
        .expect("ok");
        assert_ne!(a.content_hash(), c.content_hash());
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let errors = AppRecord::parse(
            AppObject::Deal,
            &json!({
                "name": "Fleet",
                "currency": "EURO",
                "amount": "-5",
                "line_items": [
                    {"product_number": "TND-1", "quantity": "2", "unit_price": "49.90"},
                    {"product_number": " ", "quantity": "0", "unit_price": "1", "discount_percent": "120", "currency": "usd"}
                ]
            }),
        )
        .expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "currency",
                "amount",
                "line_items.1.product_number",
                "line_items.1.quantity",
                "line_items.1.currency",
                "line_items.1.discount_percent"
            ]
        );
        let unknown =
            AppRecord::parse(AppObject::Contact, &json!({"email": "a@b.co", "colour": "red"})).expect_err("unknown");
        assert!(unknown[0].message.contains("unknown field `colour`"), "{unknown:?}");
        let typed = AppRecord::parse(AppObject::Deal, &json!({"amount": "lots"})).expect_err("type");
        assert_eq!(typed[0].field, "amount");
        let nested = AppRecord::parse(
            AppObject::Deal,
            &json!({"line_items": [{"quantity": "1", "unit_price": "1"}]}),
        )
        .expect_err("missing");
        assert_eq!(nested[0].field, "line_items[0].product_number");
        assert!(
            AppRecord::parse(AppObject::Contact, &json!({})).is_err(),
            "an empty contact says what it needs"
        );
        assert!(AppRecord::parse(AppObject::Contact, &json!("x")).is_err());
    }

    #[test]
    fn decimals_stay_exact_and_trailing_zeros_do_not_change_the_hash() {
        let one = AppRecord::parse(AppObject::Deal, &json!({"amount": "1499.90", "currency": "eur"})).expect("ok");
        let two = AppRecord::parse(AppObject::Deal, &json!({"amount": "1499.9", "currency": "EUR"})).expect("ok");
        assert_eq!(one.content_hash(), two.content_hash());
        assert_eq!(one.to_json()["amount"], "1499.9");
        assert_eq!(one.to_json()["currency"], "EUR");
    }

    #[test]
    fn appointments_end_after_they_start() {
        let errors = AppRecord::parse(
            AppObject::Appointment,
            &json!({"start": "2026-12-01T10:00:00Z", "end": "2026-12-01T09:00:00Z", "email": "nope"}),
        )
        .expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "end"]);
    }
}
