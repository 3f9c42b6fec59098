//! The app's model seen as a CRM object, so that mappings into the app are validated like
//! mappings into a CRM (fields exist, types fit) and mappings from the app name real fields.

use tandem_shared::model::AppObject;

use crate::connectors::{FieldMeta, FieldType, ObjectMeta};
use crate::sync::plan::object_kind;

fn field(name: &str, field_type: FieldType) -> FieldMeta {
    FieldMeta {
        name: name.to_string(),
        label: name.replace('_', " "),
        field_type,
        required: false,
        read_only: false,
        unique: false,
        custom: false,
        options: Vec::new(),
    }
}

/// The fields of one object of the app's model (top-level names; `address` and `custom` hold
/// nested values).
pub fn meta(object: AppObject) -> ObjectMeta {
    use FieldType::*;
    let fields = match object {
        AppObject::Contact => vec![
            field("first_name", Text),
            field("last_name", Text),
            field("email", Email),
            field("email_confirmed", Bool),
            field("phone", Phone),
            field("mobile", Phone),
            field("job_title", Text),
            field("company_id", Text),
            field("company_name", Text),
            field("status", Text),
            field("owner", Text),
            field("address", Text),
            field("custom", Text),
        ],
        AppObject::Company => vec![
            field("name", Text),
            field("vat_id", Text),
            field("registration_number", Text),
            field("domain", Text),
            field("phone", Phone),
            field("industry", Text),
            field("address", Text),
            field("custom", Text),
        ],
        AppObject::Deal => vec![
            field("name", Text),
            field("status", Text),
            field("amount", Currency),
            field("currency", Text),
            field("close_date", Date),
            field("company_id", Text),
            field("contact_id", Text),
            field("line_items", Text),
            field("custom", Text),
        ],
        AppObject::Appointment => vec![
            field("title", Text),
            field("customer_name", Text),
            field("email", Email),
            field("phone", Phone),
            field("start", DateTime),
            field("end", DateTime),
            field("owner", Text),
            field("location", Text),
            field("contact_id", Text),
            field("custom", Text),
        ],
    };
    ObjectMeta {
        kind: object_kind(object),
        crm_name: format!("the app's {}", object.as_str()),
        fields,
    }
}

/// The app model's top-level field names, as mapping sources.
pub fn field_names(object: AppObject) -> Vec<String> {
    meta(object).fields.into_iter().map(|f| f.name).collect()
}
