//! What connectors exchange with the rest of Tandem: records with the CRM's own field names,
//! field metadata, change cursors and per-record write results.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ConnectorError;

/// The kinds of record Tandem syncs, whatever each CRM calls them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Contact,
    Company,
    Deal,
    Product,
    LineItem,
    Appointment,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 6] = [
        ObjectKind::Contact,
        ObjectKind::Company,
        ObjectKind::Deal,
        ObjectKind::Product,
        ObjectKind::LineItem,
        ObjectKind::Appointment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Contact => "contact",
            ObjectKind::Company => "company",
            ObjectKind::Deal => "deal",
            ObjectKind::Product => "product",
            ObjectKind::LineItem => "line_item",
            ObjectKind::Appointment => "appointment",
        }
    }
}

/// How a connector reaches one connected account: its API base and a valid access token.
#[derive(Clone, Debug)]
pub struct Credential {
    pub access_token: SecretString,
    /// `https://api.hubapi.com`, a Salesforce `instance_url`, or a sandbox account's URL.
    pub base_url: String,
    pub kind: TokenKind,
}

/// What the token is, which decides how it is presented.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// An OAuth access token (`Authorization: Bearer`), refreshed by the token manager.
    #[default]
    OAuth,
    /// A token the admin entered, which does not expire (Pipedrive's personal API token,
    /// sent as `x-api-token`).
    ApiToken,
}

impl Credential {
    pub fn oauth(access_token: SecretString, base_url: impl Into<String>) -> Credential {
        Credential {
            access_token,
            base_url: base_url.into(),
            kind: TokenKind::OAuth,
        }
    }
}

/// Who the token belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountIdentity {
    /// HubSpot hub id, Salesforce organization id.
    pub account_id: String,
    pub account_name: String,
    pub user: Option<String>,
}

/// A record as the CRM holds it: field names and values are the CRM's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub fields: BTreeMap<String, Value>,
    pub modified_at: DateTime<Utc>,
    pub deleted: bool,
}

/// Where a changed-since read stands: everything up to (modified_at, id), in that order, has
/// been read. Records sharing a timestamp are told apart by id, so none is skipped.
///
/// Cursors order by time, then by id as CRMs order ids: numeric ids by their value (`"9999"`
/// before `"10000"`: HubSpot, Pipedrive, Zoho, NetSuite), any other id as text (Salesforce's
/// fixed-length ids); the empty id comes before every id (see [`ChangeCursor::start_of`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeCursor {
    pub modified_at: DateTime<Utc>,
    pub id: String,
    /// The read stopped inside a group of records sharing `modified_at`: more of them may follow
    /// `id`. A connector that must page such a group apart (HubSpot's search orders by one
    /// property only) goes straight on with it instead of asking again what comes next.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tied: bool,
}

impl ChangeCursor {
    /// Before every record modified at `at` (and after every earlier one).
    pub fn start_of(at: DateTime<Utc>) -> ChangeCursor {
        ChangeCursor {
            modified_at: at,
            id: String::new(),
            tied: false,
        }
    }

    /// The cursor of a record.
    pub fn of(record: &Record) -> ChangeCursor {
        ChangeCursor {
            modified_at: record.modified_at,
            id: record.id.clone(),
            tied: false,
        }
    }

    /// This cursor, inside a group of records sharing its time.
    pub fn within_tie(mut self) -> ChangeCursor {
        self.tied = true;
        self
    }
}

/// How an id sorts: the empty id first, then numeric ids by value, then the others as text.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum IdKey<'a> {
    Empty,
    /// Digits without leading zeros, compared by length first (that is, by value); the raw
    /// text breaks the tie between `"7"` and `"007"`.
    Number(usize, &'a str, &'a str),
    Text(&'a str),
}

fn id_key(id: &str) -> IdKey<'_> {
    if id.is_empty() {
        IdKey::Empty
    } else if id.bytes().all(|b| b.is_ascii_digit()) {
        let digits = id.trim_start_matches('0');
        IdKey::Number(digits.len(), digits, id)
    } else {
        IdKey::Text(id)
    }
}

impl Ord for ChangeCursor {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.modified_at
            .cmp(&other.modified_at)
            .then_with(|| id_key(&self.id).cmp(&id_key(&other.id)))
            // Only for a total order: the same place, whatever the connector notes about it.
            .then_with(|| self.tied.cmp(&other.tied))
    }
}

impl PartialOrd for ChangeCursor {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// One page of changes. `records` may repeat records read before (never skip any): callers
/// recognise repeats by content.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangePage {
    pub records: Vec<Record>,
    /// Resume from here; `None` when nothing was read.
    pub cursor: Option<ChangeCursor>,
    /// Whether more changes may be waiting.
    pub more: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    Email,
    Phone,
    Number,
    Currency,
    Percent,
    Date,
    DateTime,
    Bool,
    Picklist,
    MultiPicklist,
    Reference,
    Id,
}

impl FieldType {
    /// The name the API and the mapping editor use (as serialised).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Number => "number",
            FieldType::Currency => "currency",
            FieldType::Percent => "percent",
            FieldType::Date => "date",
            FieldType::DateTime => "date_time",
            FieldType::Bool => "bool",
            FieldType::Picklist => "picklist",
            FieldType::MultiPicklist => "multi_picklist",
            FieldType::Reference => "reference",
            FieldType::Id => "id",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PicklistOption {
    pub value: String,
    pub label: String,
    pub active: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMeta {
    pub name: String,
    pub label: String,
    pub field_type: FieldType,
    pub required: bool,
    pub read_only: bool,
    pub unique: bool,
    pub custom: bool,
    pub options: Vec<PicklistOption>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    pub kind: ObjectKind,
    /// The CRM's name for the object (`contacts`, `Contact`).
    pub crm_name: String,
    pub fields: Vec<FieldMeta>,
}

impl ObjectMeta {
    pub fn field(&self, name: &str) -> Option<&FieldMeta> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// What a write did to one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub id: String,
    pub created: bool,
}

/// One result per input, in input order: a batch can partly fail.
pub type WriteResults = Vec<Result<Written, ConnectorError>>;

/// Fields to write, with the CRM's names.
pub type Fields = BTreeMap<String, Value>;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(id: &str) -> ChangeCursor {
        ChangeCursor {
            modified_at: DateTime::from_timestamp_millis(1_000).unwrap_or_default(),
            id: id.into(),
            tied: false,
        }
    }

    #[test]
    fn numeric_ids_order_by_value_and_the_empty_id_comes_first() {
        assert!(at("9999") < at("10000"), "the order a HubSpot id walk goes in");
        assert!(at("") < at("0") && at("") < at("003A00000000001AAA"));
        assert!(at("003A00000000001AAA") < at("003A00000000002AAA"));
        assert_eq!(at("10000").max(at("9999")), at("10000"));
        assert!(at("007") != at("7") && at("007") < at("8") && at("7") < at("8"));
        let later = ChangeCursor::start_of(DateTime::from_timestamp_millis(1_001).unwrap_or_default());
        assert!(at("99999999") < later, "time first");
    }

    proptest! {
        /// A total order (sorting and `max` rely on it): antisymmetric and transitive over any
        /// mix of empty, numeric and text ids.
        #[test]
        fn cursor_order_is_total(ids in proptest::collection::vec("(|[0-9]{1,6}|[0-9A-Za-z]{1,6})", 3)) {
            let (a, b, c) = (at(&ids[0]), at(&ids[1]), at(&ids[2]));
            prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
            prop_assert_eq!(a.cmp(&b) == std::cmp::Ordering::Equal, a == b);
            if a <= b && b <= c {
                prop_assert!(a <= c);
            }
        }
    }
}
