//! Phone numbers to E.164 with the `phonenumber` crate (libphonenumber's metadata).

use phonenumber::Mode;
use phonenumber::country::Id;
use serde_json::Value;
use tandem_shared::api::mappings::FieldErrorCode;

use super::{Fail, Outcome};
use crate::mapping::value::{scalar_text, show};

/// A region code (`DE`, `us`) as the library knows it.
pub fn region(code: &str) -> Option<Id> {
    code.trim().to_uppercase().parse().ok()
}

pub fn phone_e164(value: Value, default_region: Option<Id>) -> Outcome {
    let text = match &value {
        Value::String(_) | Value::Number(_) => scalar_text(&value).unwrap_or_default(),
        _ => {
            return Err(Fail::new(
                FieldErrorCode::InvalidPhone,
                format!("{} is not a phone number", show(&value)),
            ));
        }
    };
    let text = text.trim();
    let international = text.starts_with('+') || text.starts_with("00");
    if default_region.is_none() && !international {
        return Err(Fail::new(
            FieldErrorCode::InvalidPhone,
            format!(
                "{} has no country code (like +49) and the mapping sets no default region",
                show(&value)
            ),
        ));
    }
    let number = phonenumber::parse(default_region, text).map_err(|_| {
        Fail::new(
            FieldErrorCode::InvalidPhone,
            format!("{} is not a phone number", show(&value)),
        )
    })?;
    if !phonenumber::is_valid(&number) {
        let region = number
            .country()
            .id()
            .map(|id| format!(" in {}", id.as_ref()))
            .unwrap_or_default();
        return Err(Fail::new(
            FieldErrorCode::InvalidPhone,
            format!("{} is not a valid phone number{region}", show(&value)),
        ));
    }
    Ok(Value::String(number.format().mode(Mode::E164).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn e164(raw: &str, region_code: Option<&str>) -> Result<String, Fail> {
        phone_e164(json!(raw), region_code.and_then(region)).map(|v| v.as_str().unwrap_or_default().to_string())
    }

    #[test]
    fn formats_numbers_of_several_countries() {
        let cases = [
            ("030 1234567", "DE", "+49301234567"),
            ("+49 (0)30 123 4567", "DE", "+49301234567"),
            ("0049 30 1234567", "DE", "+49301234567"),
            ("0171 2345678", "DE", "+491712345678"),
            ("(650) 253-0000", "US", "+16502530000"),
            ("+1 650-253-0000", "DE", "+16502530000"),
            ("020 7946 0958", "GB", "+442079460958"),
            ("01 42 68 53 00", "FR", "+33142685300"),
            ("044 668 18 00", "CH", "+41446681800"),
            ("01 5123456", "AT", "+4315123456"),
            ("03-1234-5678", "JP", "+81312345678"),
            ("tel:+44-20-7946-0958", "DE", "+442079460958"),
        ];
        for (raw, region_code, expected) in cases {
            assert_eq!(
                e164(raw, Some(region_code)).ok().as_deref(),
                Some(expected),
                "{raw} in {region_code}"
            );
        }
        assert_eq!(e164("+49 30 1234567", None).ok().as_deref(), Some("+49301234567"));
        // Numbers arrive as JSON numbers too (without the leading zero).
        assert_eq!(
            phone_e164(json!(301234567), Some(Id::DE)).ok(),
            Some(json!("+49301234567"))
        );
    }

    #[test]
    fn rejects_numbers_that_do_not_exist() {
        for (raw, region_code) in [
            ("123", Some("DE")),
            ("not a number", Some("DE")),
            ("+49 1", None),
            ("+1 555 0100 99999", None),
            ("(650) 253-000", Some("US")),
            ("030 1234567", None),
        ] {
            let fail = e164(raw, region_code).expect_err(raw);
            assert_eq!(fail.code, FieldErrorCode::InvalidPhone, "{raw}");
            assert!(fail.reason.contains(raw), "{raw}: {}", fail.reason);
        }
        assert!(
            e164("030 1234567", None)
                .expect_err("no region")
                .reason
                .contains("no country code")
        );
    }

    #[test]
    fn knows_region_codes() {
        assert_eq!(region("de"), Some(Id::DE));
        assert_eq!(region("XX"), None);
    }
}
