//! ISO 4217 currency codes.

use serde_json::Value;
use tandem_shared::api::mappings::FieldErrorCode;

use super::{Fail, Outcome};
use crate::mapping::value::show;

/// Active ISO 4217 codes (list 2025), including funds and precious metals, without the testing
/// code `XTS` and "no currency" `XXX`. Sorted, for binary search.
const CODES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
    "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CLF",
    "CLP", "CNY", "COP", "COU", "CRC", "CUC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB",
    "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR",
    "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD",
    "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR",
    "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK",
    "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP",
    "SLE", "SLL", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD",
    "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF",
    "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG", "XDR", "XOF", "XPD", "XPF", "XPT", "XSU", "XUA", "YER",
    "ZAR", "ZMW", "ZWG", "ZWL",
];

pub fn is_currency_code(code: &str) -> bool {
    CODES.binary_search(&code).is_ok()
}

pub fn currency(value: Value) -> Outcome {
    let code = value.as_str().map(|s| s.trim().to_ascii_uppercase());
    match code {
        Some(code) if is_currency_code(&code) => Ok(Value::String(code)),
        _ => Err(Fail::new(
            FieldErrorCode::UnknownCurrency,
            format!(
                "{} is not an ISO 4217 currency code (map other spellings with a value table)",
                show(&value)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_list_is_sorted_and_unique() {
        assert!(CODES.windows(2).all(|w| w[0] < w[1]));
        assert!(
            CODES
                .iter()
                .all(|c| c.len() == 3 && c.chars().all(|c| c.is_ascii_uppercase()))
        );
    }

    #[test]
    fn normalises_codes_and_rejects_the_rest() {
        assert_eq!(currency(json!(" eur ")).ok(), Some(json!("EUR")));
        assert_eq!(currency(json!("CHF")).ok(), Some(json!("CHF")));
        for bad in [
            json!("€"),
            json!("EURO"),
            json!("XXX"),
            json!("ABC"),
            json!(978),
            json!("DEM"),
        ] {
            let fail = currency(bad.clone()).expect_err("unknown");
            assert_eq!(fail.code, FieldErrorCode::UnknownCurrency, "{bad}");
        }
    }
}
