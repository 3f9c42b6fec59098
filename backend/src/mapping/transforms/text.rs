//! Text transforms: trim, case, truncate, name splitting, joining and coalescing.

use serde_json::Value;
use tandem_shared::api::mappings::{FieldErrorCode, LetterCase, NamePart};

use super::{Fail, Outcome};
use crate::mapping::value::{is_empty, scalar_text, show};

/// Applies `f` to a string, to each string of a list, and leaves numbers and booleans alone.
pub fn map_strings(value: Value, f: &impl Fn(&str) -> String) -> Outcome {
    match value {
        Value::String(s) => Ok(Value::String(f(&s))),
        Value::Array(items) => items
            .into_iter()
            .map(|item| map_strings(item, f))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        Value::Object(_) => Err(Fail::new(FieldErrorCode::UnexpectedType, "is an object, not text")),
        scalar => Ok(scalar),
    }
}

pub fn trim(value: Value) -> Outcome {
    map_strings(value, &|s| s.trim().to_string())
}

pub fn change_case(value: Value, to: LetterCase) -> Outcome {
    match to {
        LetterCase::Lower => map_strings(value, &str::to_lowercase),
        LetterCase::Upper => map_strings(value, &str::to_uppercase),
        LetterCase::Title => map_strings(value, &title_case),
    }
}

/// First letter of each word upper case, the rest lower case; word breaks are whitespace,
/// hyphens and apostrophes (`anne-marie o'neil` → `Anne-Marie O'Neil`).
fn title_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at_word_start = true;
    for c in text.chars() {
        if at_word_start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        at_word_start = c.is_whitespace() || c == '-' || c == '\'';
    }
    out
}

pub fn truncate(value: Value, max_chars: usize) -> Outcome {
    map_strings(value, &|s| match s.char_indices().nth(max_chars) {
        Some((cut, _)) => s[..cut].to_string(),
        None => s.to_string(),
    })
}

pub fn split_name(value: Value, part: NamePart) -> Outcome {
    let Some(text) = scalar_text(&value) else {
        return Err(Fail::new(
            FieldErrorCode::UnexpectedType,
            format!("{} is not a name", show(&value)),
        ));
    };
    let (first, last) = split_full_name(&text);
    let chosen = match part {
        NamePart::First => first,
        NamePart::Last => last,
    };
    Ok(if chosen.is_empty() {
        Value::Null
    } else {
        Value::String(chosen)
    })
}

/// Words that belong to the last name when they precede it.
const PARTICLES: &[&str] = &[
    "al", "bin", "da", "dal", "das", "de", "del", "della", "den", "der", "di", "do", "dos", "du", "la", "le", "st.",
    "te", "ten", "ter", "van", "vom", "von", "zu", "zum", "zur",
];

/// `(first, last)` of a full name: `Lovelace, Ada` is last-name-first; otherwise the last word,
/// with any particles before it, is the last name, and a single word is a last name (CRMs
/// usually require the last name).
pub fn split_full_name(full: &str) -> (String, String) {
    if let Some((last, first)) = full.split_once(',') {
        return (collapse(first), collapse(last));
    }
    let words: Vec<&str> = full.split_whitespace().collect();
    match words.len() {
        0 => (String::new(), String::new()),
        1 => (String::new(), words[0].to_string()),
        n => {
            let mut start = n - 1;
            while start > 1 && PARTICLES.contains(&words[start - 1].to_lowercase().as_str()) {
                start -= 1;
            }
            (words[..start].join(" "), words[start..].join(" "))
        }
    }
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The non-empty values of a list, as text, joined; a single value stays as it is.
pub fn join(value: Value, separator: &str) -> Outcome {
    let Value::Array(items) = value else {
        return Ok(value);
    };
    let mut parts = Vec::with_capacity(items.len());
    for item in items.iter().filter(|item| !is_empty(item)) {
        let text = scalar_text(item).ok_or_else(|| {
            Fail::new(
                FieldErrorCode::UnexpectedType,
                format!("{} cannot be joined as text", show(item)),
            )
        })?;
        parts.push(text.trim().to_string());
    }
    Ok(if parts.is_empty() {
        Value::Null
    } else {
        Value::String(parts.join(separator))
    })
}

/// The first non-empty value of a list; a single value stays as it is.
pub fn coalesce(value: Value) -> Outcome {
    match value {
        Value::Array(items) => Ok(items.into_iter().find(|item| !is_empty(item)).unwrap_or(Value::Null)),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn trims_strings_and_lists_and_leaves_numbers() {
        assert_eq!(trim(json!("  Ada \n")).ok(), Some(json!("Ada")));
        assert_eq!(trim(json!([" a", "b "])).ok(), Some(json!(["a", "b"])));
        assert_eq!(trim(json!(42)).ok(), Some(json!(42)));
        assert_eq!(
            trim(json!({"a": 1})).err().map(|f| f.code),
            Some(FieldErrorCode::UnexpectedType)
        );
    }

    #[test]
    fn changes_case() {
        assert_eq!(change_case(json!("ÄdA"), LetterCase::Lower).ok(), Some(json!("äda")));
        assert_eq!(
            change_case(json!("straße"), LetterCase::Upper).ok(),
            Some(json!("STRASSE"))
        );
        assert_eq!(
            change_case(json!("anne-marie o'NEIL  smith"), LetterCase::Title).ok(),
            Some(json!("Anne-Marie O'Neil  Smith"))
        );
    }

    #[test]
    fn truncates_on_character_boundaries() {
        assert_eq!(truncate(json!("Müller"), 2).ok(), Some(json!("Mü")));
        assert_eq!(truncate(json!("abc"), 10).ok(), Some(json!("abc")));
    }

    #[test]
    fn splits_names() {
        let cases = [
            ("Ada Lovelace", "Ada", "Lovelace"),
            ("  Ada   Lovelace ", "Ada", "Lovelace"),
            ("Lovelace, Ada", "Ada", "Lovelace"),
            ("Lovelace,  Ada  King", "Ada King", "Lovelace"),
            ("Johann Sebastian Bach", "Johann Sebastian", "Bach"),
            ("Ludwig van Beethoven", "Ludwig", "van Beethoven"),
            ("Otto von der Heide", "Otto", "von der Heide"),
            ("Dick Van Dyke", "Dick", "Van Dyke"),
            ("Van Morrison", "Van", "Morrison"),
            ("Cher", "", "Cher"),
            ("", "", ""),
        ];
        for (full, first, last) in cases {
            assert_eq!(split_full_name(full), (first.to_string(), last.to_string()), "{full}");
        }
        assert_eq!(split_name(json!("Cher"), NamePart::First).ok(), Some(Value::Null));
        assert_eq!(split_name(json!("Cher"), NamePart::Last).ok(), Some(json!("Cher")));
    }

    #[test]
    fn joins_non_empty_parts() {
        assert_eq!(
            join(json!(["Ada", null, " ", "Lovelace "]), " ").ok(),
            Some(json!("Ada Lovelace"))
        );
        assert_eq!(join(json!(["Main St", 12]), " ").ok(), Some(json!("Main St 12")));
        assert_eq!(join(json!([null, ""]), " ").ok(), Some(Value::Null));
        assert_eq!(join(json!("single"), " ").ok(), Some(json!("single")));
        assert!(join(json!([{"a": 1}]), " ").is_err());
    }

    #[test]
    fn coalesces_to_the_first_non_empty() {
        assert_eq!(coalesce(json!([null, "", "+49 30", "x"])).ok(), Some(json!("+49 30")));
        assert_eq!(coalesce(json!([null, ""])).ok(), Some(Value::Null));
    }
}
