//! Exact decimals (never floats), JSON numbers, percentages, products and booleans.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Number, Value};
use tandem_shared::api::mappings::{FieldErrorCode, PercentForm};

use super::{Fail, Outcome};
use crate::mapping::value::{is_empty, number_to_decimal, show, text_to_decimal};

/// The largest scale `rust_decimal` represents.
pub const MAX_SCALE: u32 = 28;

/// A JSON number or decimal text as an exact decimal. With `decimal_comma`, `,` is the decimal
/// separator and `.`, spaces and `'` group thousands (`1.234,5`).
pub fn read_decimal(value: &Value, decimal_comma: bool) -> Result<Decimal, Fail> {
    let parsed = match value {
        Value::Number(n) => number_to_decimal(n),
        Value::String(s) if decimal_comma => {
            let plain: String = s
                .trim()
                .chars()
                .filter(|c| !matches!(c, '.' | ' ' | '\'' | '\u{a0}' | '\u{202f}'))
                .map(|c| if c == ',' { '.' } else { c })
                .collect();
            text_to_decimal(&plain)
        }
        Value::String(s) => text_to_decimal(s.trim()),
        Value::Null | Value::Bool(_) | Value::Array(_) | Value::Object(_) => None,
    };
    parsed.ok_or_else(|| Fail::new(FieldErrorCode::NotANumber, format!("{} is not a number", show(value))))
}

/// Rounds half away from zero (commercial rounding) and pads to exactly `scale` places.
pub fn with_scale(value: Decimal, scale: Option<u32>) -> Decimal {
    match scale {
        Some(scale) => {
            let mut rounded = value.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero);
            rounded.rescale(scale);
            rounded
        }
        None => value,
    }
}

pub fn decimal(value: Value, scale: Option<u32>, decimal_comma: bool) -> Outcome {
    let parsed = read_decimal(&value, decimal_comma)?;
    Ok(Value::String(with_scale(parsed, scale).to_string()))
}

/// A JSON number, only where JSON's double can carry the decimal exactly.
pub fn number(value: Value) -> Outcome {
    let parsed = read_decimal(&value, false)?;
    let normal = parsed.normalize();
    if normal.scale() == 0
        && let Some(i) = normal.to_i64()
    {
        return Ok(Value::from(i));
    }
    let exact = normal
        .to_f64()
        .and_then(Number::from_f64)
        .filter(|n| number_to_decimal(n) == Some(normal));
    exact.map(Value::Number).ok_or_else(|| {
        Fail::new(
            FieldErrorCode::PrecisionLoss,
            format!(
                "{} has too many digits to be sent as a JSON number exactly",
                show(&value)
            ),
        )
    })
}

pub fn percent(value: Value, from: PercentForm, to: PercentForm) -> Outcome {
    let (value_form, number) = match &value {
        Value::String(s) if s.trim().ends_with('%') => {
            let digits = s.trim().trim_end_matches('%');
            (PercentForm::Percent, Value::String(digits.to_string()))
        }
        _ => (from, value.clone()),
    };
    let parsed = read_decimal(&number, false).map_err(|_| {
        Fail::new(
            FieldErrorCode::NotANumber,
            format!("{} is not a percentage", show(&value)),
        )
    })?;
    let hundred = Decimal::ONE_HUNDRED;
    let converted = match (value_form, to) {
        (PercentForm::Percent, PercentForm::Fraction) => parsed / hundred,
        (PercentForm::Fraction, PercentForm::Percent) => parsed * hundred,
        _ => parsed,
    };
    Ok(Value::String(converted.normalize().to_string()))
}

/// The exact product of a list of decimals; empty when one factor is empty.
pub fn multiply(value: Value, scale: Option<u32>) -> Outcome {
    let factors = match value {
        Value::Array(items) => items,
        single => vec![single],
    };
    if factors.iter().any(is_empty) {
        return Ok(Value::Null);
    }
    let mut product = Decimal::ONE;
    for factor in &factors {
        let factor = read_decimal(factor, false)?;
        product = product.checked_mul(factor).ok_or_else(|| {
            Fail::new(
                FieldErrorCode::NotANumber,
                "the product is too large for a decimal".to_string(),
            )
        })?;
    }
    Ok(Value::String(with_scale(product, scale).to_string()))
}

pub fn boolean(value: Value) -> Outcome {
    let parsed = match &value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => number_to_decimal(n).and_then(|d| {
            if d.is_zero() {
                Some(false)
            } else if d == Decimal::ONE {
                Some(true)
            } else {
                None
            }
        }),
        Value::String(s) => match s.trim().to_lowercase().as_str() {
            "true" | "yes" | "y" | "on" | "1" => Some(true),
            "false" | "no" | "n" | "off" | "0" => Some(false),
            _ => None,
        },
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    };
    parsed.map(Value::Bool).ok_or_else(|| {
        Fail::new(
            FieldErrorCode::NotABool,
            format!("{} is not true or false", show(&value)),
        )
    })
}

/// Whether `text` reads as a decimal (for checks of literal values).
pub fn is_decimal_text(text: &str) -> bool {
    text_to_decimal(text.trim()).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(outcome: Outcome) -> Value {
        outcome.unwrap_or_else(|f| panic!("{}", f.reason))
    }

    #[test]
    fn decimals_are_exact_and_rounded_commercially() {
        assert_eq!(ok(decimal(json!("19.99"), None, false)), json!("19.99"));
        assert_eq!(ok(decimal(json!(19.99), None, false)), json!("19.99"));
        assert_eq!(ok(decimal(json!(" 19.9 "), Some(2), false)), json!("19.90"));
        assert_eq!(ok(decimal(json!("2.345"), Some(2), false)), json!("2.35"));
        assert_eq!(ok(decimal(json!("-2.345"), Some(2), false)), json!("-2.35"));
        assert_eq!(ok(decimal(json!("2.344"), Some(2), false)), json!("2.34"));
        assert_eq!(ok(decimal(json!(7), Some(0), false)), json!("7"));
        assert_eq!(ok(decimal(json!("1.234,56"), None, true)), json!("1234.56"));
        assert_eq!(ok(decimal(json!("1 234,5"), Some(2), true)), json!("1234.50"));
        // 0.1 + 0.2 style traps never appear: float input goes through its shortest text.
        assert_eq!(
            ok(decimal(json!(0.1), Some(20), false)),
            json!("0.10000000000000000000")
        );
        for bad in [json!("19,99"), json!("abc"), json!(true), json!([1]), json!("")] {
            assert_eq!(
                decimal(bad.clone(), None, false).expect_err("bad").code,
                FieldErrorCode::NotANumber,
                "{bad}"
            );
        }
    }

    #[test]
    fn products_stay_exact() {
        assert_eq!(ok(multiply(json!(["19.99", 3]), None)), json!("59.97"));
        assert_eq!(ok(multiply(json!([19.99, "3"]), Some(2))), json!("59.97"));
        assert_eq!(ok(multiply(json!(["0.1", "0.2"]), None)), json!("0.02"));
        // 1000 × 19.99 in floats is 19989.999999999996.
        assert_eq!(ok(multiply(json!(["19.99", "1000"]), Some(2))), json!("19990.00"));
        assert_eq!(ok(multiply(json!(["19.99", "2.5"]), Some(2))), json!("49.98"));
        assert_eq!(ok(multiply(json!(["19.99", null]), None)), Value::Null);
        assert_eq!(
            multiply(json!(["19.99", "x"]), None).expect_err("nan").code,
            FieldErrorCode::NotANumber
        );
        let huge = "79228162514264337593543950335";
        assert!(multiply(json!([huge, huge]), None).is_err());
    }

    #[test]
    fn json_numbers_only_when_exact() {
        assert_eq!(ok(number(json!("19.90"))), json!(19.9));
        assert_eq!(ok(number(json!("42.000"))), json!(42));
        assert_eq!(ok(number(json!("-7"))), json!(-7));
        assert_eq!(ok(number(json!("0.1"))), json!(0.1));
        let fail = number(json!("1234567890.123456789")).expect_err("too precise");
        assert_eq!(fail.code, FieldErrorCode::PrecisionLoss);
    }

    #[test]
    fn percentages_and_fractions() {
        use PercentForm::{Fraction, Percent};
        assert_eq!(ok(percent(json!("0.19"), Fraction, Percent)), json!("19"));
        assert_eq!(ok(percent(json!(0.075), Fraction, Percent)), json!("7.5"));
        assert_eq!(ok(percent(json!("19"), Percent, Fraction)), json!("0.19"));
        assert_eq!(ok(percent(json!("19 %"), Fraction, Fraction)), json!("0.19"));
        assert_eq!(ok(percent(json!("7.5%"), Fraction, Percent)), json!("7.5"));
        assert_eq!(ok(percent(json!(19), Percent, Percent)), json!("19"));
        assert_eq!(
            percent(json!("ten"), Percent, Percent).expect_err("nan").code,
            FieldErrorCode::NotANumber
        );
    }

    #[test]
    fn booleans() {
        for (raw, expected) in [
            (json!(true), true),
            (json!("YES"), true),
            (json!(" on "), true),
            (json!(1), true),
            (json!("0"), false),
            (json!("False"), false),
            (json!(0.0), false),
        ] {
            assert_eq!(ok(boolean(raw.clone())), json!(expected), "{raw}");
        }
        for bad in [json!("maybe"), json!(2), json!({})] {
            assert_eq!(boolean(bad).expect_err("bad").code, FieldErrorCode::NotABool);
        }
    }
}
