//! `POST /crm/v3/objects/{object}/search`: filter groups (ORed) of filters (ANDed), one or more
//! sorts, `limit` up to 200, offset paging through `after`, and no paging past 10,000 results.

use std::collections::HashSet;

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::HubSpot;
use super::errors::HsError;
use super::gate::{AuthedAccount, object_type, parse_body};
use super::model::{Account, ObjectType, PropertyType, Record, parse_datetime, value_to_string};
use super::objects::ok;
use super::ops::record_json;

pub const MAX_RESULTS: usize = 10_000;
const MAX_LIMIT: i64 = 200;
const MAX_GROUPS: usize = 5;
const MAX_FILTERS_PER_GROUP: usize = 10;
const MAX_FILTERS: usize = 25;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchRequest {
    #[serde(default)]
    pub filter_groups: Vec<FilterGroup>,
    /// `["prop"]` or `[{"propertyName": "prop", "direction": "DESCENDING"}]`: both are sent.
    #[serde(default)]
    pub sorts: Vec<Value>,
    #[serde(default)]
    pub properties: Option<Vec<String>>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub after: Option<Value>,
    #[serde(default)]
    pub query: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct FilterGroup {
    #[serde(default)]
    pub filters: Vec<Filter>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    pub property_name: String,
    pub operator: String,
    #[serde(default)]
    pub value: Option<Value>,
    #[serde(default)]
    pub high_value: Option<Value>,
    #[serde(default)]
    pub values: Option<Vec<Value>>,
}

/// A value in the form that compares correctly for its property type.
#[derive(Debug, PartialEq, PartialOrd)]
enum Key {
    Number(f64),
    Text(String),
}

fn key(property_type: PropertyType, raw: &str) -> Key {
    match property_type {
        PropertyType::Number => raw
            .trim()
            .parse()
            .map(Key::Number)
            .unwrap_or_else(|_| Key::Text(raw.to_lowercase())),
        PropertyType::Date | PropertyType::Datetime => parse_datetime(raw)
            .map(|t| Key::Number(t.timestamp_millis() as f64))
            .unwrap_or_else(|| Key::Text(raw.to_lowercase())),
        _ => Key::Text(raw.to_lowercase()),
    }
}

fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        if i == 0 && !pattern.starts_with('*') {
            let Some(stripped) = rest.strip_prefix(part) else {
                return false;
            };
            rest = stripped;
        } else if let Some(found) = rest.find(part) {
            rest = &rest[found + part.len()..];
        } else {
            return false;
        }
    }
    pattern.ends_with('*') || parts.last().is_none_or(|last| last.is_empty() || text.ends_with(last))
}

fn contains_token(value: &str, pattern: &str) -> bool {
    let value = value.to_lowercase();
    let pattern = pattern.to_lowercase();
    if pattern.contains('*') {
        return glob(&pattern, &value);
    }
    value == pattern
        || value
            .split(|c: char| !c.is_alphanumeric())
            .any(|token| token == pattern)
}

fn property_type(account: &Account, object: ObjectType, name: &str) -> Result<PropertyType, HsError> {
    if name == "hs_object_id" {
        return Ok(PropertyType::Number);
    }
    account
        .property(object, name)
        .map(|p| p.property_type)
        .ok_or_else(|| HsError::bad_request(format!("Invalid property name in filter or sort: {name}")))
}

/// A filter checked and with its values in comparable form, once per search rather than once
/// per record (accounts hold up to a million records).
struct Compiled<'a> {
    name: &'a str,
    operator: &'a str,
    kind: PropertyType,
    wanted: Option<Key>,
    high: Option<Key>,
    /// `IN`/`NOT_IN` values: text ones in a set, the others (numbers, dates) in a list.
    texts: HashSet<String>,
    others: Vec<Key>,
    token: String,
}

fn compile<'a>(account: &Account, object: ObjectType, filter: &'a Filter) -> Result<Compiled<'a>, HsError> {
    let kind = property_type(account, object, &filter.property_name)?;
    let wanted = filter.value.as_ref().and_then(value_to_string);
    let need = |v: Option<String>| {
        v.ok_or_else(|| {
            HsError::bad_request(format!(
                "Filter on {} with {} needs a value",
                filter.property_name, filter.operator
            ))
        })
    };
    let mut compiled = Compiled {
        name: &filter.property_name,
        operator: &filter.operator,
        kind,
        wanted: None,
        high: None,
        texts: HashSet::new(),
        others: Vec::new(),
        token: String::new(),
    };
    match filter.operator.as_str() {
        "HAS_PROPERTY" | "NOT_HAS_PROPERTY" => {}
        "EQ" | "LT" | "LTE" | "GT" | "GTE" => compiled.wanted = Some(key(kind, &need(wanted)?)),
        "NEQ" => compiled.wanted = Some(key(kind, &wanted.unwrap_or_default())),
        "BETWEEN" => {
            compiled.wanted = Some(key(kind, &need(wanted)?));
            compiled.high = Some(key(kind, &need(filter.high_value.as_ref().and_then(value_to_string))?));
        }
        "IN" | "NOT_IN" => {
            for value in filter.values.iter().flatten().filter_map(value_to_string) {
                match key(kind, &value) {
                    Key::Text(text) => {
                        compiled.texts.insert(text);
                    }
                    other => compiled.others.push(other),
                }
            }
        }
        "CONTAINS_TOKEN" | "NOT_CONTAINS_TOKEN" => compiled.token = wanted.unwrap_or_default(),
        other => {
            return Err(HsError::bad_request(format!("Unknown filter operator {other}")));
        }
    }
    Ok(compiled)
}

fn matches(record: &Record, filter: &Compiled<'_>) -> bool {
    let stored = record.properties.get(filter.name).filter(|v| !v.is_empty());
    let have = || stored.map(|s| key(filter.kind, s));
    match filter.operator {
        "HAS_PROPERTY" => stored.is_some(),
        "NOT_HAS_PROPERTY" => stored.is_none(),
        "EQ" => have().is_some_and(|h| Some(&h) == filter.wanted.as_ref()),
        "NEQ" => have().is_none_or(|h| Some(&h) != filter.wanted.as_ref()),
        "LT" | "LTE" | "GT" | "GTE" => {
            let (Some(have), Some(wanted)) = (have(), filter.wanted.as_ref()) else {
                return false;
            };
            match filter.operator {
                "LT" => have < *wanted,
                "LTE" => have <= *wanted,
                "GT" => have > *wanted,
                _ => have >= *wanted,
            }
        }
        "BETWEEN" => {
            let (Some(have), Some(low), Some(high)) = (have(), filter.wanted.as_ref(), filter.high.as_ref()) else {
                return false;
            };
            have >= *low && have <= *high
        }
        "IN" | "NOT_IN" => {
            let found = have().is_some_and(|h| match &h {
                Key::Text(text) => filter.texts.contains(text),
                other => filter.others.contains(other),
            });
            if filter.operator == "IN" { found } else { !found }
        }
        "CONTAINS_TOKEN" => stored.is_some_and(|s| contains_token(s, &filter.token)),
        "NOT_CONTAINS_TOKEN" => stored.is_none_or(|s| !contains_token(s, &filter.token)),
        _ => false,
    }
}

/// Runs a search: (total, the page of records, the offset of the next page).
pub fn run(
    account: &Account,
    object: ObjectType,
    request: &SearchRequest,
) -> Result<(usize, Vec<Record>, Option<usize>), HsError> {
    let filter_count: usize = request.filter_groups.iter().map(|g| g.filters.len()).sum();
    if request.filter_groups.len() > MAX_GROUPS
        || request
            .filter_groups
            .iter()
            .any(|g| g.filters.len() > MAX_FILTERS_PER_GROUP)
        || filter_count > MAX_FILTERS
    {
        return Err(HsError::bad_request(format!(
            "A search may have up to {MAX_GROUPS} filterGroups of up to {MAX_FILTERS_PER_GROUP} filters, {MAX_FILTERS} filters in all"
        )));
    }
    let limit = request.limit.unwrap_or(10);
    if !(0..=MAX_LIMIT).contains(&limit) {
        return Err(HsError::bad_request(format!(
            "limit must be between 0 and {MAX_LIMIT}, got {limit}"
        )));
    }
    let limit = limit as usize;
    let offset = match &request.after {
        None => 0,
        Some(value) => value_to_string(value)
            .and_then(|v| v.parse::<usize>().ok())
            .ok_or_else(|| HsError::bad_request("after must be a number (the offset of the next page)"))?,
    };
    if offset + limit > MAX_RESULTS {
        return Err(HsError::bad_request(format!(
            "Search results are limited to {MAX_RESULTS}: after ({offset}) plus limit ({limit}) is past the end. \
             Narrow the filters (for example by the last modified date) to read further."
        )));
    }
    let visible_before = Utc::now().timestamp_millis() - account.search_lag_ms;
    let query = request
        .query
        .as_ref()
        .map(|q| q.to_lowercase())
        .filter(|q| !q.is_empty());
    let groups: Vec<Vec<Compiled<'_>>> = request
        .filter_groups
        .iter()
        .map(|g| g.filters.iter().map(|f| compile(account, object, f)).collect())
        .collect::<Result<_, _>>()?;
    let mut hits = Vec::new();
    for record in account.records(object).values() {
        if record.archived_at.is_some() || record.updated_at.timestamp_millis() > visible_before {
            continue;
        }
        if let Some(query) = &query {
            let found = object.searchable_properties().iter().any(|p| {
                record
                    .properties
                    .get(*p)
                    .is_some_and(|v| v.to_lowercase().contains(query.as_str()))
            });
            if !found {
                continue;
            }
        }
        let selected = groups.is_empty() || groups.iter().any(|group| group.iter().all(|f| matches(record, f)));
        if selected {
            hits.push(record);
        }
    }
    let mut sorts = Vec::new();
    for sort in &request.sorts {
        let (name, descending) = match sort {
            Value::String(name) => match name.strip_prefix('-') {
                Some(name) => (name.to_string(), true),
                None => (name.clone(), false),
            },
            Value::Object(map) => (
                map.get("propertyName")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                map.get("direction").and_then(Value::as_str) == Some("DESCENDING"),
            ),
            _ => continue,
        };
        sorts.push((property_type(account, object, &name)?, name, descending));
    }
    // Each hit's sort keys once, not once per comparison.
    let mut keyed: Vec<(Vec<Option<Key>>, &Record)> = hits
        .into_iter()
        .map(|record| {
            let keys = sorts
                .iter()
                .map(|(kind, name, _)| record.properties.get(name).map(|v| key(*kind, v)))
                .collect();
            (keys, record)
        })
        .collect();
    keyed.sort_by(|(a_keys, a), (b_keys, b)| {
        for ((left, right), (_, _, descending)) in a_keys.iter().zip(b_keys).zip(&sorts) {
            let ordering = left.partial_cmp(right).unwrap_or(std::cmp::Ordering::Equal);
            let ordering = if *descending { ordering.reverse() } else { ordering };
            if ordering != std::cmp::Ordering::Equal {
                return ordering;
            }
        }
        a.id.cmp(&b.id)
    });
    let total = keyed.len();
    let page: Vec<Record> = keyed
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|(_, r)| r.clone())
        .collect();
    let next = (offset + limit < total).then_some(offset + limit);
    Ok((total, page, next))
}

pub async fn search(
    hubspot: web::Data<HubSpot>,
    authed: AuthedAccount,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, HsError> {
    let object = object_type(&path.1)?;
    let request: SearchRequest = parse_body(&body)?;
    hubspot.with_account(&authed.key, |account| {
        let (total, page, next) = run(account, object, &request)?;
        let results: Vec<Value> = page
            .iter()
            .map(|r| record_json(object, r, request.properties.as_deref(), account))
            .collect();
        let mut body = json!({ "total": total, "results": results });
        if let Some(next) = next {
            body["paging"] = json!({ "next": { "after": next.to_string() } });
        }
        Ok(ok(body))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hubspot::seed;
    use serde_json::Map;

    fn account() -> Account {
        let mut account = Account::empty("search");
        seed::define_schema(&mut account);
        for (i, (email, tier)) in [
            ("a@x.com", "gold"),
            ("b@x.com", "silver"),
            ("c@y.com", "gold"),
            ("d@y.com", "bronze"),
        ]
        .iter()
        .enumerate()
        {
            let props: Map<String, Value> = [
                ("email".to_string(), json!(email)),
                ("customer_tier".to_string(), json!(tier)),
                ("firstname".to_string(), json!(format!("Name{i}"))),
            ]
            .into_iter()
            .collect();
            account.create(ObjectType::Contacts, &props).expect("create");
        }
        account
    }

    fn request(value: Value) -> SearchRequest {
        serde_json::from_value(value).expect("request")
    }

    #[test]
    fn groups_or_filters_and_sorts_and_pages() {
        let account = account();
        let req = request(json!({
            "filterGroups": [
                {"filters": [{"propertyName": "customer_tier", "operator": "EQ", "value": "gold"},
                             {"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "*@y.com"}]},
                {"filters": [{"propertyName": "customer_tier", "operator": "IN", "values": ["silver"]}]}
            ],
            "sorts": [{"propertyName": "email", "direction": "DESCENDING"}],
            "limit": 1
        }));
        let (total, page, next) = run(&account, ObjectType::Contacts, &req).expect("search");
        assert_eq!(total, 2);
        assert_eq!(page[0].properties["email"], "c@y.com");
        assert_eq!(next, Some(1));
    }

    #[test]
    fn dates_compare_as_times_and_limits_are_enforced() {
        let account = account();
        let since = request(json!({"filterGroups": [{"filters": [
            {"propertyName": "lastmodifieddate", "operator": "GTE", "value": "0"}]}], "sorts": ["lastmodifieddate"]}));
        assert_eq!(run(&account, ObjectType::Contacts, &since).expect("ok").0, 4);
        let too_far = request(json!({"after": "9950", "limit": 100}));
        let err = run(&account, ObjectType::Contacts, &too_far).expect_err("10k cap");
        assert!(err.message.contains("10000"));
        assert!(run(&account, ObjectType::Contacts, &request(json!({"limit": 201}))).is_err());
        let unknown =
            request(json!({"filterGroups": [{"filters": [{"propertyName": "nope", "operator": "EQ", "value": "1"}]}]}));
        assert!(run(&account, ObjectType::Contacts, &unknown).is_err());
    }

    #[test]
    fn globs_and_tokens() {
        assert!(contains_token("ada@example.com", "*@example.com"));
        assert!(contains_token("Ada Lovelace", "lovelace"));
        assert!(!contains_token("Ada Lovelace", "love"));
        assert!(glob("a*c", "abc") && !glob("a*c", "abd"));
    }
}
