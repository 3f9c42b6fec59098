//! Content hashes over the mapped fields only, normalised, so that a record whose mapped content
//! did not change hashes the same (skip unchanged records; recognise Tandem's own writes coming
//! back as echoes).
//!
//! Normal form: fields and object keys sorted; a missing field, `null`, a blank string and an
//! empty list are all "empty" and left out; numbers are written as canonical decimal text, and
//! decimal text (`-12.50`) loses the trailing zeros of its fraction, so `19.9`, `"19.9"` and
//! `"19.90"` are equal: HubSpot returns every property as text, Salesforce returns numbers for
//! what Tandem wrote as text. Other strings, including leading zeros (`"01234"`), are compared
//! exactly.

use rust_decimal::Decimal;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::rules::Mapping;
use super::value::{is_empty, number_to_decimal};

/// SHA-256, in hex, of the normal form of `fields` of `record`.
pub fn content_hash<'f>(record: &Value, fields: impl IntoIterator<Item = &'f str>) -> String {
    let mut fields: Vec<&str> = fields.into_iter().collect();
    fields.sort_unstable();
    fields.dedup();
    let mut canonical = String::with_capacity(256);
    canonical.push('{');
    let mut first = true;
    for field in fields {
        let Some(value) = record.get(field).filter(|v| !is_empty(v)) else {
            continue;
        };
        if !first {
            canonical.push(',');
        }
        first = false;
        write_string(&mut canonical, field);
        canonical.push(':');
        write_value(&mut canonical, value);
    }
    canonical.push('}');
    hex(&Sha256::digest(canonical.as_bytes()))
}

impl Mapping {
    /// The content hash of a record this mapping produced (or of a record read back from the
    /// target), over the fields this mapping writes.
    pub fn content_hash(&self, target: &Value) -> String {
        content_hash(target, self.target_fields())
    }
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match number_to_decimal(n) {
            Some(d) => write_string(out, &canonical_decimal(d)),
            None => write_string(out, &n.to_string()),
        },
        Value::String(s) => write_string(out, trim_fraction_zeros(s)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.iter().filter(|(_, v)| !is_empty(v)).map(|(k, _)| k).collect();
            keys.sort_unstable();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, &map[key]);
            }
            out.push('}');
        }
    }
}

/// `12.50` → `12.5`, `12.00` → `12`; anything but plain decimal text with a fraction unchanged.
fn trim_fraction_zeros(s: &str) -> &str {
    let Some((whole, fraction)) = s.split_once('.') else {
        return s;
    };
    let digits = whole.strip_prefix('-').unwrap_or(whole);
    let plain = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !plain(digits) || !plain(fraction) {
        return s;
    }
    let trimmed = s.trim_end_matches('0');
    trimmed.strip_suffix('.').unwrap_or(trimmed)
}

fn canonical_decimal(d: Decimal) -> String {
    d.normalize().to_string()
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A JSON string literal (quotes and escapes), so that no value can imitate a separator.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let byte = u32::from(c) as usize;
                out.push_str("\\u00");
                out.push(HEX[byte >> 4] as char);
                out.push(HEX[byte & 0xf] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hash(record: Value) -> String {
        content_hash(&record, ["email", "amount", "tags", "address", "status"])
    }

    #[test]
    fn equal_content_hashes_equal() {
        let a = hash(json!({"email": "a@b.de", "amount": 19.9, "address": {"city": "Berlin", "zip": "10115"}}));
        let b = hash(
            json!({"address": {"zip": "10115", "city": "Berlin", "street": null}, "amount": "19.90",
                            "email": "a@b.de", "status": "", "tags": [], "unmapped": "changed"}),
        );
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn different_content_hashes_differ() {
        let base = hash(json!({"email": "a@b.de", "amount": "19.90"}));
        for changed in [
            json!({"email": "A@b.de", "amount": "19.90"}),
            json!({"email": "a@b.de", "amount": "19.91"}),
            json!({"email": "a@b.de"}),
            json!({"email": "a@b.de", "amount": "19.90", "status": "won"}),
            json!({"email": "a@b.de", "amount": ["19.90"]}),
            json!({"email": "a@b.de", "amount": "19.90", "tags": ["x"]}),
        ] {
            assert_ne!(hash(changed.clone()), base, "{changed}");
        }
        // A value cannot imitate the structure around it.
        assert_ne!(
            content_hash(&json!({"a": "1\",\"b\":\"2"}), ["a", "b"]),
            content_hash(&json!({"a": "1", "b": "2"}), ["a", "b"])
        );
    }

    #[test]
    fn decimal_text_loses_only_trailing_fraction_zeros() {
        let cases = [
            ("12.50", "12.5"),
            ("12.00", "12"),
            ("-0.10", "-0.1"),
            ("100", "100"),
            ("01234", "01234"),
            ("1.2.0", "1.2.0"),
            ("v1.10", "v1.10"),
            (".50", ".50"),
            ("5.", "5."),
        ];
        for (text, canonical) in cases {
            assert_eq!(trim_fraction_zeros(text), canonical, "{text}");
        }
    }

    #[test]
    fn unmapped_fields_cost_nothing() {
        let fields = ["email"];
        assert_eq!(
            content_hash(&json!({"email": "a@b.de", "lastmodifieddate": "1"}), fields),
            content_hash(&json!({"email": "a@b.de", "lastmodifieddate": "2"}), fields)
        );
    }

    #[test]
    fn the_hash_is_stable_across_releases() {
        // Stored hashes must keep matching: changing the normal form re-syncs every record.
        assert_eq!(
            content_hash(&json!({"email": "a@b.de", "amount": 19.9}), ["email", "amount"]),
            hex(&Sha256::digest(br#"{"amount":"19.9","email":"a@b.de"}"#))
        );
    }
}
