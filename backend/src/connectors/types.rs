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
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChangeCursor {
    pub modified_at: DateTime<Utc>,
    pub id: String,
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
