//! Suggested mappings, per CRM and object, between the app's model and the CRM's standard
//! fields: what a new pipeline starts from when its creator gives none. Statuses and stages go
//! through value tables with defaults, so an unknown spelling never fails a record.

use serde_json::{Value, json};
use tandem_shared::api::mappings::MappingConfig;
use tandem_shared::model::AppObject;

/// Which way a suggested mapping goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    AppToCrm,
    CrmToApp,
}

fn config(value: Value) -> MappingConfig {
    serde_json::from_value(value).expect("the suggested mappings are valid configurations")
}

/// The suggested mapping, or `None` where Tandem has none (CRM to CRM: map by hand).
pub fn suggested(provider: &str, object: AppObject, way: Way) -> Option<MappingConfig> {
    let value = match (provider, object, way) {
        ("hubspot", AppObject::Contact, Way::AppToCrm) => json!({
            "object": "contact", "direction": "app_to_crm", "email_rules": "hubspot",
            "fields": [
                {"target": "email", "source": "email", "transforms": [{"kind": "email"}]},
                {"target": "firstname", "source": "first_name"},
                {"target": "lastname", "source": "last_name"},
                {"target": "phone", "source": "phone", "transforms": [{"kind": "phone_e164", "default_region": "DE"}]},
                {"target": "mobilephone", "source": "mobile", "transforms": [{"kind": "phone_e164", "default_region": "DE"}]},
                {"target": "jobtitle", "source": "job_title"},
                {"target": "company", "source": "company_name"},
                {"target": "address", "source": "address.street"},
                {"target": "city", "source": "address.city"},
                {"target": "zip", "source": "address.postal_code"},
                {"target": "country", "source": "address.country"},
                {"target": "lifecyclestage", "source": "status", "transforms": [{"kind": "value_table", "table": "statuses"}]}
            ],
            "value_tables": {"statuses": {"entries": [
                {"from": ["lead", "new"], "to": "lead"},
                {"from": ["prospect", "opportunity"], "to": "opportunity"},
                {"from": ["customer", "active"], "to": "customer"}
            ], "default": "lead", "case_insensitive": true}}
        }),
        ("hubspot", AppObject::Contact, Way::CrmToApp) => json!({
            "object": "contact", "direction": "crm_to_app",
            "fields": [
                {"target": "email", "source": "email", "transforms": [{"kind": "trim"}, {"kind": "case", "to": "lower"}]},
                {"target": "first_name", "source": "firstname"},
                {"target": "last_name", "source": "lastname"},
                {"target": "phone", "source": "phone"},
                {"target": "mobile", "source": "mobilephone"},
                {"target": "job_title", "source": "jobtitle"},
                {"target": "company_name", "source": "company"},
                {"target": "address.street", "source": "address"},
                {"target": "address.city", "source": "city"},
                {"target": "address.postal_code", "source": "zip"},
                {"target": "status", "source": "lifecyclestage", "transforms": [{"kind": "value_table", "table": "stages"}]}
            ],
            "value_tables": {"stages": {"entries": [
                {"from": ["customer", "evangelist"], "to": "customer"},
                {"from": ["opportunity", "salesqualifiedlead"], "to": "prospect"}
            ], "default": "lead"}}
        }),
        ("hubspot", AppObject::Company, Way::AppToCrm) => json!({
            "object": "company", "direction": "app_to_crm",
            "fields": [
                {"target": "name", "source": "name", "required": true},
                {"target": "domain", "source": "domain"},
                {"target": "phone", "source": "phone", "transforms": [{"kind": "phone_e164", "default_region": "DE"}]},
                {"target": "city", "source": "address.city"},
                {"target": "country", "source": "address.country"},
                {"target": "vat_id", "source": "vat_id"},
                {"target": "registration_number", "source": "registration_number"}
            ]
        }),
        ("hubspot", AppObject::Company, Way::CrmToApp) => json!({
            "object": "company", "direction": "crm_to_app",
            "fields": [
                {"target": "name", "source": "name"},
                {"target": "domain", "source": "domain"},
                {"target": "phone", "source": "phone"},
                {"target": "industry", "source": "industry"},
                {"target": "address.city", "source": "city"},
                {"target": "vat_id", "source": "vat_id"},
                {"target": "registration_number", "source": "registration_number"}
            ]
        }),
        ("hubspot", AppObject::Deal, Way::AppToCrm) => json!({
            "object": "deal", "direction": "app_to_crm",
            "fields": [
                {"target": "dealname", "source": "name", "required": true},
                {"target": "amount", "source": "amount", "transforms": [{"kind": "decimal", "scale": 2}]},
                {"target": "deal_currency_code", "source": "currency", "transforms": [{"kind": "currency"}]},
                {"target": "closedate", "source": "close_date", "transforms": [{"kind": "datetime", "from": "date", "to": "iso"}]},
                {"target": "pipeline", "transforms": [{"kind": "constant", "value": "default"}]},
                {"target": "dealstage", "source": "status", "transforms": [{"kind": "value_table", "table": "stages"}]},
                {"target": "line_items", "source": "line_items", "items": [
                    {"target": "hs_sku", "source": "product_number", "required": true, "transforms": [{"kind": "trim"}]},
                    {"target": "name", "source": "name"},
                    {"target": "quantity", "source": "quantity", "required": true, "transforms": [{"kind": "decimal"}]},
                    {"target": "price", "source": "unit_price", "required": true, "transforms": [{"kind": "decimal", "scale": 2}]},
                    {"target": "hs_line_item_currency_code", "source": "currency", "transforms": [{"kind": "currency"}]},
                    {"target": "hs_discount_percentage", "source": "discount_percent", "transforms": [{"kind": "percent"}]}
                ]}
            ],
            "value_tables": {"stages": {"entries": [
                {"from": ["won", "closed_won"], "to": "closedwon"},
                {"from": ["lost", "closed_lost"], "to": "closedlost"},
                {"from": ["qualified"], "to": "qualifiedtobuy"},
                {"from": ["proposal", "quote_sent"], "to": "contractsent"}
            ], "default": "appointmentscheduled", "case_insensitive": true}}
        }),
        ("hubspot", AppObject::Deal, Way::CrmToApp) => json!({
            "object": "deal", "direction": "crm_to_app",
            "fields": [
                {"target": "name", "source": "dealname"},
                {"target": "amount", "source": "amount", "transforms": [{"kind": "decimal"}]},
                {"target": "currency", "source": "deal_currency_code"},
                {"target": "close_date", "source": "closedate", "transforms": [{"kind": "datetime", "from": "iso", "to": "date"}]},
                {"target": "status", "source": "dealstage", "transforms": [{"kind": "value_table", "table": "stages"}]},
                {"target": "line_items", "source": "line_items", "items": [
                    {"target": "product_number", "source": "hs_sku"},
                    {"target": "name", "source": "name"},
                    {"target": "quantity", "source": "quantity", "transforms": [{"kind": "decimal"}]},
                    {"target": "unit_price", "source": "price", "transforms": [{"kind": "decimal"}]},
                    {"target": "currency", "source": "hs_line_item_currency_code"},
                    {"target": "discount_percent", "source": "hs_discount_percentage", "transforms": [{"kind": "decimal"}]}
                ]}
            ],
            "value_tables": {"stages": {"entries": [
                {"from": ["closedwon"], "to": "won"},
                {"from": ["closedlost"], "to": "lost"}
            ], "default": "open"}}
        }),
        ("hubspot", AppObject::Appointment, Way::AppToCrm) => json!({
            "object": "appointment", "direction": "app_to_crm",
            "fields": [
                {"target": "hs_meeting_title", "source": "title", "transforms": [{"kind": "default", "value": "Appointment"}]},
                {"target": "hs_timestamp", "source": "start", "required": true},
                {"target": "hs_meeting_start_time", "source": "start"},
                {"target": "hs_meeting_end_time", "source": "end"},
                {"target": "hs_meeting_location", "source": "location"}
            ]
        }),
        ("hubspot", AppObject::Appointment, Way::CrmToApp) => json!({
            "object": "appointment", "direction": "crm_to_app",
            "fields": [
                {"target": "title", "source": "hs_meeting_title"},
                {"target": "start", "source": ["hs_meeting_start_time", "hs_timestamp"], "transforms": [{"kind": "coalesce"}, {"kind": "datetime"}]},
                {"target": "end", "source": "hs_meeting_end_time", "transforms": [{"kind": "datetime"}]},
                {"target": "location", "source": "hs_meeting_location"},
                {"target": "owner", "source": "hubspot_owner_id"},
                {"target": "customer_name", "source": ["contact.first_name", "contact.last_name"], "transforms": [{"kind": "join", "separator": " "}]},
                {"target": "email", "source": "contact.email"},
                {"target": "phone", "source": "contact.phone"}
            ]
        }),
        ("salesforce", AppObject::Contact, Way::AppToCrm) => json!({
            "object": "contact", "direction": "app_to_crm", "email_rules": "salesforce",
            "fields": [
                {"target": "Email", "source": "email", "transforms": [{"kind": "email"}]},
                {"target": "FirstName", "source": "first_name"},
                {"target": "LastName", "source": "last_name", "required": true},
                {"target": "Phone", "source": "phone", "transforms": [{"kind": "phone_e164", "default_region": "DE"}]},
                {"target": "MobilePhone", "source": "mobile", "transforms": [{"kind": "phone_e164", "default_region": "DE"}]},
                {"target": "Title", "source": "job_title"},
                {"target": "MailingStreet", "source": "address.street"},
                {"target": "MailingCity", "source": "address.city"},
                {"target": "MailingPostalCode", "source": "address.postal_code"},
                {"target": "MailingCountry", "source": "address.country"}
            ]
        }),
        ("salesforce", AppObject::Contact, Way::CrmToApp) => json!({
            "object": "contact", "direction": "crm_to_app",
            "fields": [
                {"target": "email", "source": "Email", "transforms": [{"kind": "trim"}, {"kind": "case", "to": "lower"}]},
                {"target": "first_name", "source": "FirstName"},
                {"target": "last_name", "source": "LastName"},
                {"target": "phone", "source": "Phone"},
                {"target": "mobile", "source": "MobilePhone"},
                {"target": "job_title", "source": "Title"},
                {"target": "address.street", "source": "MailingStreet"},
                {"target": "address.city", "source": "MailingCity"},
                {"target": "address.postal_code", "source": "MailingPostalCode"}
            ]
        }),
        ("salesforce", AppObject::Company, Way::AppToCrm) => json!({
            "object": "company", "direction": "app_to_crm",
            "fields": [
                {"target": "Name", "source": "name", "required": true},
                {"target": "Phone", "source": "phone", "transforms": [{"kind": "phone_e164", "default_region": "DE"}]},
                {"target": "Website", "source": "domain"},
                {"target": "BillingStreet", "source": "address.street"},
                {"target": "BillingCity", "source": "address.city"},
                {"target": "BillingPostalCode", "source": "address.postal_code"},
                {"target": "BillingCountry", "source": "address.country"}
            ]
        }),
        ("salesforce", AppObject::Company, Way::CrmToApp) => json!({
            "object": "company", "direction": "crm_to_app",
            "fields": [
                {"target": "name", "source": "Name"},
                {"target": "phone", "source": "Phone"},
                {"target": "domain", "source": "Website"},
                {"target": "industry", "source": "Industry"},
                {"target": "address.street", "source": "BillingStreet"},
                {"target": "address.city", "source": "BillingCity"},
                {"target": "address.postal_code", "source": "BillingPostalCode"}
            ]
        }),
        ("salesforce", AppObject::Deal, Way::AppToCrm) => json!({
            "object": "deal", "direction": "app_to_crm",
            "fields": [
                {"target": "Name", "source": "name", "required": true},
                {"target": "Amount", "source": "amount", "transforms": [{"kind": "decimal", "scale": 2}, {"kind": "number"}]},
                {"target": "CloseDate", "source": "close_date", "required": true},
                {"target": "StageName", "source": "status",
                 "transforms": [{"kind": "default", "value": "open"}, {"kind": "value_table", "table": "stages"}]},
                {"target": "line_items", "source": "line_items", "items": [
                    {"target": "ProductCode", "source": "product_number", "required": true, "transforms": [{"kind": "trim"}]},
                    {"target": "Description", "source": "name"},
                    {"target": "Quantity", "source": "quantity", "required": true, "transforms": [{"kind": "decimal"}, {"kind": "number"}]},
                    {"target": "UnitPrice", "source": "unit_price", "required": true, "transforms": [{"kind": "decimal", "scale": 2}, {"kind": "number"}]},
                    {"target": "Discount", "source": "discount_percent", "transforms": [{"kind": "percent"}, {"kind": "number"}]}
                ]}
            ],
            "value_tables": {"stages": {"entries": [
                {"from": ["won", "closed_won"], "to": "Closed Won"},
                {"from": ["lost", "closed_lost"], "to": "Closed Lost"},
                {"from": ["qualified"], "to": "Qualification"},
                {"from": ["proposal", "quote_sent"], "to": "Proposal/Price Quote"}
            ], "default": "Prospecting", "case_insensitive": true}}
        }),
        ("salesforce", AppObject::Deal, Way::CrmToApp) => json!({
            "object": "deal", "direction": "crm_to_app",
            "fields": [
                {"target": "name", "source": "Name"},
                {"target": "amount", "source": "Amount", "transforms": [{"kind": "decimal"}]},
                {"target": "close_date", "source": "CloseDate"},
                {"target": "status", "source": "StageName", "transforms": [{"kind": "value_table", "table": "stages"}]},
                {"target": "line_items", "source": "line_items", "items": [
                    {"target": "product_number", "source": "ProductCode"},
                    {"target": "name", "source": "Description"},
                    {"target": "quantity", "source": "Quantity", "transforms": [{"kind": "decimal"}]},
                    {"target": "unit_price", "source": "UnitPrice", "transforms": [{"kind": "decimal"}]},
                    {"target": "currency", "source": "CurrencyIsoCode"},
                    {"target": "discount_percent", "source": "Discount", "transforms": [{"kind": "decimal"}]}
                ]}
            ],
            "value_tables": {"stages": {"entries": [
                {"from": ["Closed Won"], "to": "won"},
                {"from": ["Closed Lost"], "to": "lost"}
            ], "default": "open"}}
        }),
        ("salesforce", AppObject::Appointment, Way::AppToCrm) => json!({
            "object": "appointment", "direction": "app_to_crm",
            "fields": [
                {"target": "Subject", "source": "title", "transforms": [{"kind": "default", "value": "Appointment"}]},
                {"target": "StartDateTime", "source": "start", "required": true},
                {"target": "EndDateTime", "source": "end", "required": true},
                {"target": "Location", "source": "location"}
            ]
        }),
        ("salesforce", AppObject::Appointment, Way::CrmToApp) => json!({
            "object": "appointment", "direction": "crm_to_app",
            "fields": [
                {"target": "title", "source": "Subject"},
                {"target": "start", "source": "StartDateTime", "transforms": [{"kind": "datetime"}]},
                {"target": "end", "source": "EndDateTime", "transforms": [{"kind": "datetime"}]},
                {"target": "location", "source": "Location"},
                {"target": "owner", "source": "OwnerId"},
                {"target": "customer_name", "source": ["contact.first_name", "contact.last_name"], "transforms": [{"kind": "join", "separator": " "}]},
                {"target": "email", "source": "contact.email"},
                {"target": "phone", "source": "contact.phone"}
            ]
        }),
        ("pipedrive", AppObject::Contact, Way::AppToCrm) => json!({
            "object": "contact", "direction": "app_to_crm",
            "fields": [
                {"target": "name", "source": ["first_name", "last_name"], "required": true, "transforms": [{"kind": "join", "separator": " "}]},
                {"target": "first_name", "source": "first_name"},
                {"target": "last_name", "source": "last_name"},
                {"target": "email", "source": "email", "transforms": [{"kind": "email"}]},
                {"target": "phone", "source": "phone", "transforms": [{"kind": "phone_e164", "default_region": "DE"}]},
                {"target": "label_ids", "source": "status", "transforms": [{"kind": "value_table", "table": "labels"}]}
            ],
            "value_tables": {"labels": {"entries": [
                {"from": ["customer", "active"], "to": "1"},
                {"from": ["prospect", "opportunity"], "to": "2"},
                {"from": ["lead", "new"], "to": "3"}
            ], "default": "3", "case_insensitive": true}}
        }),
        ("pipedrive", AppObject::Contact, Way::CrmToApp) => json!({
            "object": "contact", "direction": "crm_to_app",
            "fields": [
                {"target": "email", "source": "email", "transforms": [{"kind": "trim"}, {"kind": "case", "to": "lower"}]},
                {"target": "first_name", "source": "first_name"},
                {"target": "last_name", "source": "last_name"},
                {"target": "phone", "source": "phone"}
            ]
        }),
        ("pipedrive", AppObject::Company, Way::AppToCrm) => json!({
            "object": "company", "direction": "app_to_crm",
            "fields": [
                {"target": "name", "source": "name", "required": true}
            ]
        }),
        ("pipedrive", AppObject::Company, Way::CrmToApp) => json!({
            "object": "company", "direction": "crm_to_app",
            "fields": [
                {"target": "name", "source": "name"}
            ]
        }),
        ("pipedrive", AppObject::Deal, Way::AppToCrm) => json!({
            "object": "deal", "direction": "app_to_crm",
            "fields": [
                {"target": "title", "source": "name", "required": true},
                {"target": "value", "source": "amount", "transforms": [{"kind": "decimal", "scale": 2}, {"kind": "number"}]},
                {"target": "currency", "source": "currency", "transforms": [{"kind": "currency"}]},
                {"target": "expected_close_date", "source": "close_date", "transforms": [{"kind": "datetime", "from": "date", "to": "date"}]},
                {"target": "status", "source": "status", "transforms": [{"kind": "value_table", "table": "statuses"}]},
                {"target": "stage_id", "source": "status", "transforms": [{"kind": "value_table", "table": "stages"}]},
                {"target": "line_items", "source": "line_items", "items": [
                    {"target": "product_code", "source": "product_number", "required": true, "transforms": [{"kind": "trim"}]},
                    {"target": "quantity", "source": "quantity", "required": true, "transforms": [{"kind": "decimal"}, {"kind": "number"}]},
                    {"target": "item_price", "source": "unit_price", "required": true, "transforms": [{"kind": "decimal", "scale": 2}, {"kind": "number"}]},
                    {"target": "discount", "source": "discount_percent", "transforms": [{"kind": "percent"}, {"kind": "number"}]}
                ]}
            ],
            "value_tables": {
                "statuses": {"entries": [
                    {"from": ["won", "closed_won"], "to": "won"},
                    {"from": ["lost", "closed_lost"], "to": "lost"}
                ], "default": "open", "case_insensitive": true},
                "stages": {"entries": [
                    {"from": ["qualified"], "to": "1"},
                    {"from": ["contacted"], "to": "2"},
                    {"from": ["demo"], "to": "3"},
                    {"from": ["proposal", "quote_sent"], "to": "4"},
                    {"from": ["negotiation", "won", "closed_won", "lost", "closed_lost"], "to": "5"}
                ], "default": "1", "case_insensitive": true}
            }
        }),
        ("pipedrive", AppObject::Deal, Way::CrmToApp) => json!({
            "object": "deal", "direction": "crm_to_app",
            "fields": [
                {"target": "name", "source": "title"},
                {"target": "amount", "source": "value", "transforms": [{"kind": "decimal"}]},
                {"target": "currency", "source": "currency"},
                {"target": "close_date", "source": "expected_close_date"},
                {"target": "status", "source": "status", "transforms": [{"kind": "value_table", "table": "statuses"}]},
                {"target": "line_items", "source": "line_items", "items": [
                    {"target": "product_number", "source": "product_code"},
                    {"target": "name", "source": "name"},
                    {"target": "quantity", "source": "quantity", "transforms": [{"kind": "decimal"}]},
                    {"target": "unit_price", "source": "item_price", "transforms": [{"kind": "decimal"}]},
                    {"target": "discount_percent", "source": "discount", "transforms": [{"kind": "decimal"}]}
                ]}
            ],
            "value_tables": {"statuses": {"entries": [
                {"from": ["won"], "to": "won"},
                {"from": ["lost"], "to": "lost"}
            ], "default": "open"}}
        }),
        ("pipedrive", AppObject::Appointment, Way::AppToCrm) => json!({
            "object": "appointment", "direction": "app_to_crm",
            "fields": [
                {"target": "subject", "source": "title", "transforms": [{"kind": "default", "value": "Appointment"}]},
                {"target": "type", "transforms": [{"kind": "constant", "value": "meeting"}]},
                {"target": "due_date", "source": "start", "required": true, "transforms": [{"kind": "datetime", "to": "date"}]},
                {"target": "due_time", "source": "start", "transforms": [{"kind": "datetime", "to": "%H:%M"}]},
                {"target": "location", "source": "location"}
            ]
        }),
        ("pipedrive", AppObject::Appointment, Way::CrmToApp) => json!({
            "object": "appointment", "direction": "crm_to_app",
            "fields": [
                {"target": "title", "source": "subject"},
                {"target": "start", "source": ["due_date", "due_time"],
                 "transforms": [{"kind": "join", "separator": " "}, {"kind": "datetime", "from": "%Y-%m-%d %H:%M"}]},
                {"target": "location", "source": "location"},
                {"target": "owner", "source": "owner_id"},
                {"target": "customer_name", "source": ["contact.first_name", "contact.last_name"], "transforms": [{"kind": "join", "separator": " "}]},
                {"target": "email", "source": "contact.email"},
                {"target": "phone", "source": "contact.phone"}
            ]
        }),
        _ => return None,
    };
    Some(config(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_suggestion_parses() {
        for provider in ["hubspot", "salesforce", "pipedrive"] {
            for object in AppObject::ALL {
                for way in [Way::AppToCrm, Way::CrmToApp] {
                    assert!(
                        suggested(provider, object, way).is_some(),
                        "{provider} {object:?} {way:?}"
                    );
                }
            }
        }
        assert!(suggested("zoho", AppObject::Contact, Way::AppToCrm).is_none());
    }
}
