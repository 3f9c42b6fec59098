//! Connectors: each knows one CRM's wire protocol and nothing else. No database, no vault, no
//! tenants: they take a `Credential` and return typed records or classified `ConnectorError`s.
//! The provider catalogue says, as data, what each CRM is and can do.

pub mod callout;
pub mod catalogue;
mod error;
pub mod hubspot;
pub mod line_items;
pub mod pipedrive;
pub mod salesforce;
pub mod types;

use std::sync::Arc;

use async_trait::async_trait;
pub use error::ConnectorError;
use serde_json::Value;
pub use types::*;

use catalogue::Provider;

/// One CRM's API, behind one interface for all eight.
#[async_trait]
pub trait Connector: Send + Sync {
    fn provider(&self) -> &'static Provider;

    /// A credential from what an admin entered (an API token), for a CRM whose catalogue entry
    /// takes entered credentials; the caller checks it with `identity` before keeping it.
    fn credential_from(
        &self,
        _base_url: &str,
        _entered: &std::collections::BTreeMap<&'static str, secrecy::SecretString>,
    ) -> Result<Credential, ConnectorError> {
        Err(ConnectorError::Rejected {
            status: 400,
            message: format!("{} connects through its consent page only", self.provider().name),
        })
    }

    /// Who the credential belongs to (HubSpot portal, Salesforce org).
    async fn identity(&self, credential: &Credential) -> Result<AccountIdentity, ConnectorError>;

    /// The object's fields, with types and picklist values, custom fields included.
    async fn describe(&self, credential: &Credential, kind: ObjectKind) -> Result<ObjectMeta, ConnectorError>;

    /// One record by the CRM's id; `fields` names what to read (the CRM's field names).
    async fn get(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        id: &str,
        fields: &[String],
    ) -> Result<Option<Record>, ConnectorError>;

    /// Several records by id, in as few calls as the CRM allows (up to its batch maximum per
    /// call). Ids that do not exist are left out.
    async fn get_many(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        ids: &[String],
        fields: &[String],
    ) -> Result<Vec<Record>, ConnectorError>;

    /// Records whose `field` equals one of `values` (for matching duplicates before a create).
    async fn find_by(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        field: &str,
        values: &[String],
        fields: &[String],
    ) -> Result<Vec<Record>, ConnectorError>;

    /// Makes sure the object has the unique field Tandem writes its sync key into, so creates can
    /// be upserts that a retry cannot double; creates it where the CRM allows. Returns its name.
    async fn prepare_sync_key(&self, credential: &Credential, kind: ObjectKind) -> Result<String, ConnectorError>;

    /// Records changed after `since` (strictly after its (time, id), in [`ChangeCursor`]'s order),
    /// oldest first, at most `page_size` of them. The page's cursor says up to where every record
    /// was read (the page may hold records past it, read again next time); `more` is false only
    /// when nothing follows the cursor. Each page must move the cursor on while `more` is true:
    /// a read whose pages stop moving is reported as unable to prove it read everything.
    async fn changes(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        since: Option<&ChangeCursor>,
        fields: &[String],
        page_size: usize,
    ) -> Result<ChangePage, ConnectorError>;

    /// Records deleted after `since`, where the CRM keeps deletions apart from what `changes`
    /// reads (HubSpot's archived records, which its search never returns), each with `deleted`
    /// set and stamped with its deletion time; records deleted a little before `since` may be
    /// among them (callers recognise repeats). A connector whose `changes` carries deletions
    /// already (Salesforce's `queryAll`) keeps this default: none.
    async fn deletions(
        &self,
        _credential: &Credential,
        _kind: ObjectKind,
        _since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Record>, ConnectorError> {
        Ok(Vec::new())
    }

    /// How many live records have a modification time in `[from, to)` (open where `None`), in
    /// one call, as `changes` would read them; `None` where the CRM cannot count (a
    /// reconciliation then cannot prove that every record was read).
    async fn count(
        &self,
        _credential: &Credential,
        _kind: ObjectKind,
        _from: Option<chrono::DateTime<chrono::Utc>>,
        _to: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Option<u64>, ConnectorError> {
        Ok(None)
    }

    /// Creates records: one result per input, in order.
    async fn create(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        records: &[Fields],
    ) -> Result<WriteResults, ConnectorError>;

    /// Updates records by the CRM's id.
    async fn update(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        records: &[(String, Fields)],
    ) -> Result<WriteResults, ConnectorError>;

    /// Creates or updates by a unique field (`key_field`), whose value each input carries.
    async fn upsert(
        &self,
        credential: &Credential,
        kind: ObjectKind,
        key_field: &str,
        records: &[Fields],
    ) -> Result<WriteResults, ConnectorError>;

    /// Deletes (archives) records by id. Ids already gone count as deleted.
    async fn delete(&self, credential: &Credential, kind: ObjectKind, ids: &[String]) -> Result<(), ConnectorError>;

    /// Gives appointments the details of the contact they are with, under
    /// [`APPOINTMENT_CONTACT`] (see [`contact_details`]), in as few calls as the CRM allows:
    /// a meeting rarely carries the customer's email or phone itself. Records of other kinds,
    /// and appointments without a contact, are left as they are.
    async fn with_contacts(
        &self,
        _credential: &Credential,
        _kind: ObjectKind,
        _records: &mut [Record],
    ) -> Result<(), ConnectorError> {
        Ok(())
    }

    /// Gives deals their line items under [`DEAL_LINE_ITEMS`]: a list of objects with the CRM's
    /// line item field names (`item_fields` of them), oldest first, `[]` for a deal without any.
    /// A few calls a page, whatever its size. Records of other kinds are left as they are.
    async fn with_line_items(
        &self,
        _credential: &Credential,
        _kind: ObjectKind,
        _records: &mut [Record],
        _item_fields: &[String],
    ) -> Result<(), ConnectorError> {
        Ok(())
    }

    /// Makes each deal's line items exactly the given ones (the CRM's line item field names, the
    /// product named by its number where the CRM links line items to products): one result per
    /// deal, in order. A deal whose new items cannot all be written keeps its old ones.
    async fn write_line_items(
        &self,
        _credential: &Credential,
        deals: &[(String, Vec<Fields>)],
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        let unsupported = || ConnectorError::Validation {
            field: Some(DEAL_LINE_ITEMS.into()),
            code: "UNSUPPORTED".into(),
            message: format!("Tandem does not write line items to {} yet", self.provider().name),
        };
        Ok(deals.iter().map(|_| Err(unsupported())).collect())
    }

    /// How many emails and calls the CRM has logged with each contact (by the CRM's id), in a
    /// few calls for up to hundreds of contacts. Every contact asked for is in the answer.
    async fn touch_points(
        &self,
        _credential: &Credential,
        _contact_ids: &[String],
    ) -> Result<TouchPointCounts, ConnectorError> {
        Err(ConnectorError::Rejected {
            status: 501,
            message: format!("Tandem does not read touch-points from {} yet", self.provider().name),
        })
    }
}

/// Gives records what the CRM keeps in related records, where `fields` (what a mapping reads)
/// asks for it: appointments their contact's details ([`Connector::with_contacts`]), deals their
/// line items with `item_fields` ([`Connector::with_line_items`]). What a run and a mapping
/// preview both read records through.
pub async fn fill_related(
    connector: &dyn Connector,
    credential: &Credential,
    kind: ObjectKind,
    records: &mut [Record],
    fields: &[String],
    item_fields: &[String],
) -> Result<(), ConnectorError> {
    let asks = |field: &str| fields.iter().any(|f| f == field);
    match kind {
        ObjectKind::Appointment if asks(APPOINTMENT_CONTACT) => {
            connector.with_contacts(credential, kind, records).await
        }
        ObjectKind::Deal if asks(DEAL_LINE_ITEMS) => {
            connector.with_line_items(credential, kind, records, item_fields).await
        }
        _ => Ok(()),
    }
}

/// The touch-points the CRM counts for the contacts given by its ids.
pub type TouchPointCounts = std::collections::BTreeMap<String, tandem_shared::model::TouchPoints>;

/// The field of a deal that holds its line items: a list, each element with the CRM's line item
/// field names. CRMs keep line items as records of their own; connectors read and write them
/// with the deal ([`Connector::with_line_items`], [`Connector::write_line_items`]).
pub const DEAL_LINE_ITEMS: &str = "line_items";

/// How [`DEAL_LINE_ITEMS`] appears in a deal's field list.
pub fn deal_line_items_field() -> FieldMeta {
    FieldMeta {
        name: DEAL_LINE_ITEMS.into(),
        label: "Line items (the deal's line item records, with their product's number)".into(),
        field_type: FieldType::Reference,
        required: false,
        read_only: true,
        unique: false,
        custom: false,
        options: Vec::new(),
    }
}

/// The field of an appointment that holds its contact's details, once [`Connector::with_contacts`]
/// filled it: `{"id", "email", "first_name", "last_name", "phone"}` whatever the CRM calls them.
pub const APPOINTMENT_CONTACT: &str = "contact";

/// The contact's details as appointments carry them.
pub fn contact_details(
    id: &str,
    email: Option<&Value>,
    first: Option<&Value>,
    last: Option<&Value>,
    phone: Option<&Value>,
) -> Value {
    let text = |v: Option<&Value>| {
        v.filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
            .cloned()
            .unwrap_or(Value::Null)
    };
    serde_json::json!({
        "id": id,
        "email": text(email),
        "first_name": text(first),
        "last_name": text(last),
        "phone": text(phone),
    })
}

/// How [`APPOINTMENT_CONTACT`] appears in an appointment's field list.
pub fn appointment_contact_field() -> FieldMeta {
    FieldMeta {
        name: APPOINTMENT_CONTACT.into(),
        label: "Contact (from the associated contact: id, email, first_name, last_name, phone)".into(),
        field_type: FieldType::Reference,
        required: false,
        read_only: true,
        unique: false,
        custom: false,
        options: Vec::new(),
    }
}

/// Every available connector, by provider id.
#[derive(Clone)]
pub struct Registry {
    connectors: Vec<Arc<dyn Connector>>,
}

impl Registry {
    pub fn new(http: reqwest::Client) -> Registry {
        Registry {
            connectors: vec![
                Arc::new(hubspot::HubSpotConnector::new(http.clone())),
                Arc::new(salesforce::SalesforceConnector::new(http.clone())),
                Arc::new(pipedrive::PipedriveConnector::new(http)),
            ],
        }
    }

    pub fn get(&self, provider: &str) -> Option<Arc<dyn Connector>> {
        self.connectors.iter().find(|c| c.provider().id == provider).cloned()
    }
}

/// The shared HTTP client for CRM calls: connection pooling, timeouts, no redirects.
pub fn http_client() -> Result<reqwest::Client, ConnectorError> {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Tandem/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ConnectorError::protocol(format!("cannot build the HTTP client: {e}")))
}
