//! Fixtures for the mapping throughput benchmark (`cargo bench -p tandem --bench mapping`): a
//! realistic 20-field contact mapping (app → HubSpot) and sample records for it.

use serde_json::{Value, json};
use tandem_shared::api::mappings::MappingConfig;

/// A contact mapping of 20 fields that uses most transforms: email, names, E.164 phones, value
/// tables, dates across time zones, decimals, percentages, currency and booleans.
pub fn twenty_field_contact_config() -> MappingConfig {
    let config = json!({
        "object": "contact",
        "direction": "app_to_crm",
        "email_rules": "hubspot",
        "fields": [
            {"target": "email", "source": "email", "transforms": [{"kind": "email"}], "required": true},
            {"target": "firstname", "source": "first_name", "transforms": [{"kind": "trim"}]},
            {"target": "lastname", "source": "last_name", "transforms": [{"kind": "trim"}], "required": true},
            {"target": "phone", "source": "phone", "transforms": [{"kind": "phone_e164", "default_region": "DE"}]},
            {"target": "mobilephone", "source": "mobile",
             "transforms": [{"kind": "phone_e164", "default_region": "DE"}]},
            {"target": "jobtitle", "source": "job_title",
             "transforms": [{"kind": "trim"}, {"kind": "truncate", "max_chars": 100}]},
            {"target": "company", "source": "company_name", "transforms": [{"kind": "trim"}]},
            {"target": "lifecyclestage", "source": "status",
             "transforms": [{"kind": "value_table", "table": "statuses"}]},
            {"target": "city", "source": "address.city", "transforms": [{"kind": "trim"}, {"kind": "case", "to": "title"}]},
            {"target": "zip", "source": "address.postal_code", "transforms": [{"kind": "trim"}]},
            {"target": "address", "source": "address.street", "transforms": [{"kind": "trim"}]},
            {"target": "country", "source": "address.country",
             "transforms": [{"kind": "case", "to": "upper"}, {"kind": "value_table", "table": "countries"}]},
            {"target": "full_name", "source": ["first_name", "last_name"],
             "transforms": [{"kind": "join", "separator": " "}]},
            {"target": "hs_language", "transforms": [{"kind": "constant", "value": "de"}]},
            {"target": "date_of_birth", "source": "custom.birthday",
             "transforms": [{"kind": "datetime", "from": "%d.%m.%Y", "to": "date"}]},
            {"target": "last_purchase_date", "source": "custom.last_purchase",
             "transforms": [{"kind": "datetime", "to": "epoch_ms", "source_time_zone": "Europe/Berlin"}]},
            {"target": "lifetime_value", "source": "custom.lifetime_value",
             "transforms": [{"kind": "decimal", "scale": 2}]},
            {"target": "discount_rate", "source": "custom.discount",
             "transforms": [{"kind": "percent", "from": "fraction", "to": "percent"}]},
            {"target": "preferred_currency", "source": "custom.currency",
             "transforms": [{"kind": "default", "value": "EUR"}, {"kind": "currency"}]},
            {"target": "newsletter_opt_in", "source": "custom.newsletter",
             "transforms": [{"kind": "bool"}, {"kind": "default", "value": false}]}
        ],
        "value_tables": {
            "statuses": {
                "entries": [
                    {"from": ["new", "open", "contacted"], "to": "lead"},
                    {"from": ["qualified"], "to": "salesqualifiedlead"},
                    {"from": ["customer", "won"], "to": "customer"}
                ],
                "default": "subscriber",
                "case_insensitive": true
            },
            "countries": {
                "entries": [
                    {"from": ["DE", "GERMANY", "DEUTSCHLAND"], "to": "Germany"},
                    {"from": ["AT", "AUSTRIA", "ÖSTERREICH"], "to": "Austria"},
                    {"from": ["CH", "SWITZERLAND", "SCHWEIZ"], "to": "Switzerland"}
                ]
            }
        }
    });
    serde_json::from_value(config).unwrap_or_else(|e| unreachable!("the benchmark mapping is valid: {e}"))
}

/// The `n`-th sample contact, as the app pushes it; values vary with `n`.
pub fn sample_contact(n: usize) -> Value {
    const FIRST: [&str; 5] = ["Ada", "Grace", "Alan", "Hedy", "Konrad"];
    const LAST: [&str; 5] = ["Lovelace", "Hopper", "Turing", "Lamarr", "Zuse"];
    const STATUS: [&str; 5] = ["new", "Qualified", "customer", "won", "churned"];
    const COUNTRY: [&str; 3] = ["de", "Österreich", "CH"];
    let first = FIRST[n % FIRST.len()];
    let last = LAST[(n / 5) % LAST.len()];
    json!({
        "email": format!("  {first}.{last}{n}@Example.com "),
        "first_name": format!(" {first}"),
        "last_name": last,
        "phone": format!("030 {:07}", 1_000_000 + n % 9_000_000),
        "mobile": format!("+49 171 {:07}", 2_000_000 + n % 7_000_000),
        "job_title": "  Head of Engineering ",
        "company_name": "Analytical Engines GmbH",
        "status": STATUS[n % STATUS.len()],
        "address": {
            "street": "Unter den Linden 1",
            "postal_code": "10117",
            "city": "berlin",
            "country": COUNTRY[n % COUNTRY.len()]
        },
        "custom": {
            "birthday": format!("{:02}.{:02}.19{:02}", 1 + n % 28, 1 + n % 12, 50 + n % 50),
            "last_purchase": format!("2024-{:02}-{:02}T{:02}:15:00", 1 + n % 12, 1 + n % 28, n % 24),
            "lifetime_value": format!("{}.{:03}", 100 + n % 10_000, n % 1000),
            "discount": format!("0.{:02}", n % 100),
            "currency": if n.is_multiple_of(2) { "eur" } else { "CHF" },
            "newsletter": if n.is_multiple_of(3) { "yes" } else { "no" }
        }
    })
}
