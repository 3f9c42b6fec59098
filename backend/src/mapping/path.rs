//! Field paths: `email`, `address.city`, `emails[0].value`.

use serde_json::{Map, Value};

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// A parsed field path. Sources may index lists; targets may only name nested object fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldPath {
    raw: String,
    segments: Vec<Segment>,
}

impl FieldPath {
    /// A path to read from: keys separated by dots, each optionally followed by `[n]`.
    pub fn source(raw: &str) -> Result<FieldPath, String> {
        Self::parse(raw, true)
    }

    /// A path to write to: keys separated by dots.
    pub fn target(raw: &str) -> Result<FieldPath, String> {
        Self::parse(raw, false)
    }

    fn parse(raw: &str, allow_index: bool) -> Result<FieldPath, String> {
        if raw.trim().is_empty() {
            return Err("the field name is empty".to_string());
        }
        let mut segments = Vec::new();
        for part in raw.split('.') {
            // `name`, then any number of `[n]`.
            let (key, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
            if key.is_empty() || key.contains(']') {
                return Err(format!("{raw:?} has an empty or malformed part"));
            }
            segments.push(Segment::Key(key.to_string()));
            while let Some(indexed) = rest.strip_prefix('[') {
                if !allow_index {
                    return Err(format!("{raw:?} indexes a list; a target can only name object fields"));
                }
                let (index, after) = indexed
                    .split_once(']')
                    .ok_or_else(|| format!("{raw:?} has a `[` without `]`"))?;
                let index = index
                    .parse::<usize>()
                    .map_err(|_| format!("{raw:?} has a list index that is not a number"))?;
                segments.push(Segment::Index(index));
                rest = after;
            }
            if !rest.is_empty() {
                return Err(format!("{raw:?} has text after a list index"));
            }
        }
        Ok(FieldPath {
            raw: raw.to_string(),
            segments,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The top-level field.
    pub fn root(&self) -> &str {
        match self.segments.first() {
            Some(Segment::Key(key)) => key,
            _ => &self.raw,
        }
    }

    pub fn is_nested(&self) -> bool {
        self.segments.len() > 1
    }

    /// The value at this path. A top-level key spelled exactly like the whole path (`Account.Name`
    /// in a flattened record) wins over walking into nested objects.
    pub fn get<'v>(&self, record: &'v Value) -> Option<&'v Value> {
        if self.is_nested()
            && let Some(value) = record.get(&self.raw)
        {
            return Some(value);
        }
        self.segments.iter().try_fold(record, |value, segment| match segment {
            Segment::Key(key) => value.get(key),
            Segment::Index(index) => value.get(index),
        })
    }

    /// Writes `value` at this path, creating nested objects on the way.
    pub fn set(&self, record: &mut Map<String, Value>, value: Value) {
        let mut keys = self.segments.iter().filter_map(|segment| match segment {
            Segment::Key(key) => Some(key),
            Segment::Index(_) => None,
        });
        let Some(mut key) = keys.next() else { return };
        let mut object = record;
        for next in keys {
            let slot = object.entry(key.clone()).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            let Value::Object(inner) = slot else { return };
            object = inner;
            key = next;
        }
        object.insert(key.clone(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_nested_objects_and_lists() {
        let record = json!({"email": "a@b.de", "address": {"city": "Berlin"}, "emails": [{"value": "x@y.de"}],
                            "Account.Name": "Flat", "Account": {"Name": "Nested"}});
        let get = |p: &str| FieldPath::source(p).expect("path").get(&record).cloned();
        assert_eq!(get("email"), Some(json!("a@b.de")));
        assert_eq!(get("address.city"), Some(json!("Berlin")));
        assert_eq!(get("emails[0].value"), Some(json!("x@y.de")));
        assert_eq!(get("emails[1].value"), None);
        assert_eq!(get("address.zip"), None);
        assert_eq!(get("Account.Name"), Some(json!("Flat")));
        assert_eq!(
            FieldPath::source("m[1][0]")
                .expect("path")
                .get(&json!({"m": [[1], [2]]})),
            Some(&json!(2))
        );
    }

    #[test]
    fn writes_nested_objects() {
        let mut out = Map::new();
        FieldPath::target("address.city")
            .expect("path")
            .set(&mut out, json!("Berlin"));
        FieldPath::target("address.zip")
            .expect("path")
            .set(&mut out, json!("10115"));
        FieldPath::target("email").expect("path").set(&mut out, json!("a@b.de"));
        assert_eq!(
            Value::Object(out),
            json!({"address": {"city": "Berlin", "zip": "10115"}, "email": "a@b.de"})
        );
    }

    #[test]
    fn rejects_malformed_paths() {
        for bad in ["", " ", "a..b", ".a", "a.", "a[", "a[x]", "a[0]b", "a]"] {
            assert!(FieldPath::source(bad).is_err(), "{bad}");
        }
        assert!(FieldPath::target("emails[0].value").is_err());
        assert_eq!(FieldPath::source("a.b[2]").expect("path").root(), "a");
    }
}
