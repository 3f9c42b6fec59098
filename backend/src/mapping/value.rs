//! Small helpers over JSON values that every transform shares.

use std::borrow::Cow;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;

/// Missing, `null`, a blank string or an empty list: nothing to write.
pub fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Bool(_) | Value::Number(_) | Value::Object(_) => false,
    }
}

/// A scalar as text: strings as they are, numbers and booleans as JSON writes them. Lists and
/// objects have no text form.
pub fn scalar_text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// A JSON number as an exact decimal. Integers convert exactly; a float goes through its shortest
/// decimal text (`19.99`, never `19.989999…`), so no binary rounding reaches the arithmetic.
pub fn number_to_decimal(n: &serde_json::Number) -> Option<Decimal> {
    if let Some(i) = n.as_i64() {
        return Some(Decimal::from(i));
    }
    if let Some(u) = n.as_u64() {
        return Some(Decimal::from(u));
    }
    text_to_decimal(&n.to_string())
}

/// Decimal text, plain (`-19.99`) or scientific (`1.5e3`).
pub fn text_to_decimal(text: &str) -> Option<Decimal> {
    let text = text.strip_prefix('+').unwrap_or(text);
    if text.is_empty() || text.contains('_') {
        return None;
    }
    Decimal::from_str(text).ok().or_else(|| {
        (text.contains(['e', 'E']) && !text.starts_with(['e', 'E']))
            .then(|| Decimal::from_scientific(text).ok())
            .flatten()
    })
}

/// A value for a message: strings quoted, long ones shortened, so a message stays one line.
pub fn show(value: &Value) -> String {
    const MAX: usize = 60;
    let text = match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    if text.chars().count() <= MAX {
        text
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_means_nothing_to_write() {
        for empty in [json!(null), json!(""), json!("  \t"), json!([])] {
            assert!(is_empty(&empty), "{empty}");
        }
        for full in [json!(0), json!(false), json!("x"), json!([null]), json!({})] {
            assert!(!is_empty(&full), "{full}");
        }
    }

    #[test]
    fn numbers_become_exact_decimals() {
        let n = |v: Value| number_to_decimal(v.as_number().expect("number")).expect("decimal");
        assert_eq!(n(json!(19.99)).to_string(), "19.99");
        assert_eq!(n(json!(0.1)) + n(json!(0.2)), Decimal::from_str("0.3").expect("dec"));
        assert_eq!(n(json!(42)).to_string(), "42");
        assert_eq!(n(json!(u64::MAX)).to_string(), u64::MAX.to_string());
        assert_eq!(n(json!(1e-7)).to_string(), "0.0000001");
        assert_eq!(text_to_decimal("+1.5e3"), Some(Decimal::from(1500)));
        assert_eq!(text_to_decimal("1_000"), None);
        assert_eq!(text_to_decimal("e5"), None);
        assert_eq!(text_to_decimal("abc"), None);
    }

    #[test]
    fn shows_values_briefly() {
        assert_eq!(show(&json!("a")), "\"a\"");
        assert_eq!(show(&json!(1.5)), "1.5");
        assert!(show(&json!("x".repeat(100))).ends_with('…'));
    }
}
