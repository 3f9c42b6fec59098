//! End-to-end tests of the mapping module: whole configs applied to whole records, validation
//! against metadata, previews, hashes, and tables of cases per transform.

use serde_json::{Value, json};

use super::*;
use crate::connectors::{FieldMeta, FieldType, ObjectKind, ObjectMeta, PicklistOption};

fn config(value: Value) -> MappingConfig {
    serde_json::from_value(value).expect("a valid mapping config")
}

/// One rule reading `source` with `transforms`, applied to `{"v": input}`.
fn transform_once(transforms: Value, input: Value) -> Result<Value, FieldError> {
    let config = config(json!({
        "object": "test",
        "fields": [{"target": "out", "source": "v", "transforms": transforms}],
        "value_tables": {
            "stages": {"entries": [{"from": ["appointmentscheduled", "qualifiedtobuy"], "to": "open"},
                                   {"from": ["closedwon"], "to": "won"}], "default": "open"},
            "strict_stages": {"entries": [{"from": ["closedwon"], "to": "won"}]}
        }
    }));
    apply(&config, &json!({ "v": input }))
        .map(|out| out.get("out").cloned().unwrap_or(Value::Null))
        .map_err(|mut errors| errors.remove(0))
}

fn field(name: &str, field_type: FieldType) -> FieldMeta {
    FieldMeta {
        name: name.to_string(),
        label: name.to_string(),
        field_type,
        required: false,
        read_only: false,
        unique: false,
        custom: false,
        options: Vec::new(),
    }
}

fn with_options(mut meta: FieldMeta, options: &[&str]) -> FieldMeta {
    meta.options = options
        .iter()
        .map(|o| PicklistOption {
            value: o.to_string(),
            label: o.to_string(),
            active: !o.starts_with("old_"),
        })
        .collect();
    meta
}

/// HubSpot-like contact metadata for the benchmark mapping's target fields.
fn contact_meta() -> ObjectMeta {
    let mut lastname = field("lastname", FieldType::Text);
    lastname.required = true;
    let mut created = field("createdate", FieldType::DateTime);
    created.read_only = true;
    let mut fields = vec![
        field("email", FieldType::Email),
        field("firstname", FieldType::Text),
        lastname,
        field("phone", FieldType::Phone),
        field("mobilephone", FieldType::Phone),
        field("jobtitle", FieldType::Text),
        field("company", FieldType::Text),
        with_options(
            field("lifecyclestage", FieldType::Picklist),
            &["subscriber", "lead", "salesqualifiedlead", "customer", "old_evangelist"],
        ),
        field("city", FieldType::Text),
        field("zip", FieldType::Text),
        field("address", FieldType::Text),
        field("country", FieldType::Text),
        field("full_name", FieldType::Text),
        with_options(field("hs_language", FieldType::Picklist), &["de", "en"]),
        field("date_of_birth", FieldType::Date),
        field("last_purchase_date", FieldType::DateTime),
        field("lifetime_value", FieldType::Number),
        field("discount_rate", FieldType::Percent),
        with_options(field("preferred_currency", FieldType::Picklist), &["EUR", "CHF", "USD"]),
        field("newsletter_opt_in", FieldType::Bool),
        created,
    ];
    fields.push(with_options(
        field("interests", FieldType::MultiPicklist),
        &["crm", "erp"],
    ));
    ObjectMeta {
        kind: ObjectKind::Contact,
        crm_name: "contacts".to_string(),
        fields,
    }
}

fn codes(errors: &[FieldError]) -> Vec<(&str, FieldErrorCode)> {
    errors.iter().map(|e| (e.field.as_str(), e.code)).collect()
}

fn config_codes(errors: &[ConfigError]) -> Vec<(&str, ConfigErrorCode)> {
    errors.iter().map(|e| (e.field.as_str(), e.code)).collect()
}

// ---------------------------------------------------------------------------------------------
// Whole records

#[test]
fn the_benchmark_contact_maps_completely() {
    let mapping = Mapping::with_target(&bench::twenty_field_contact_config(), &contact_meta());
    let target = mapping.apply(&bench::sample_contact(7)).expect("maps");
    assert_eq!(
        target,
        json!({
            "email": "alan.hopper7@example.com",
            "firstname": "Alan",
            "lastname": "Hopper",
            "phone": "+49301000007",
            "mobilephone": "+491712000007",
            "jobtitle": "Head of Engineering",
            "company": "Analytical Engines GmbH",
            "lifecyclestage": "customer",
            "city": "Berlin",
            "zip": "10117",
            "address": "Unter den Linden 1",
            "country": "Austria",
            "full_name": "Alan Hopper",
            "hs_language": "de",
            "date_of_birth": "1957-08-08",
            // 2024-08-08T07:15:00 in Berlin (summer time) is 05:15 UTC.
            "last_purchase_date": 1_723_094_100_000_i64,
            "lifetime_value": "107.01",
            "discount_rate": "7",
            "preferred_currency": "CHF",
            "newsletter_opt_in": false
        })
    );
    assert_eq!(mapping.target_fields().len(), 20);
    assert_eq!(
        mapping.source_fields(),
        [
            "address",
            "company_name",
            "custom",
            "email",
            "first_name",
            "job_title",
            "last_name",
            "mobile",
            "phone",
            "status"
        ]
    );
}

#[test]
fn the_benchmark_mapping_is_valid_and_maps_every_sample() {
    let config = bench::twenty_field_contact_config();
    assert_eq!(validate(&config, &contact_meta(), None), Vec::new());
    let mapping = Mapping::with_target(&config, &contact_meta());
    for n in 0..2_000 {
        let source = bench::sample_contact(n);
        if let Err(errors) = mapping.apply(&source) {
            panic!("sample {n}: {errors:#?}");
        }
    }
}

#[test]
fn every_field_error_is_collected_not_just_the_first() {
    let mut source = bench::sample_contact(1);
    source["email"] = json!("grace@localhost");
    source["last_name"] = json!("  ");
    source["phone"] = json!("12");
    source["custom"]["birthday"] = json!("1990-02-31");
    source["custom"]["lifetime_value"] = json!("1.234,50");
    source["custom"]["currency"] = json!("€");
    source["custom"]["newsletter"] = json!("perhaps");
    let errors = apply(&bench::twenty_field_contact_config(), &source).expect_err("seven errors");
    assert_eq!(
        codes(&errors),
        [
            ("email", FieldErrorCode::InvalidEmail),
            ("lastname", FieldErrorCode::MissingRequired),
            ("phone", FieldErrorCode::InvalidPhone),
            ("date_of_birth", FieldErrorCode::InvalidDate),
            ("lifetime_value", FieldErrorCode::NotANumber),
            ("preferred_currency", FieldErrorCode::UnknownCurrency),
            ("newsletter_opt_in", FieldErrorCode::NotABool),
        ]
    );
    let by_field = |f: &str| errors.iter().find(|e| e.field == f).expect("error");
    assert_eq!(
        by_field("email").message,
        "email: \"grace@localhost\" is not a valid email address: the domain needs a dot (like example.com)"
    );
    assert_eq!(by_field("email").source_field.as_deref(), Some("email"));
    assert_eq!(
        by_field("lastname").message,
        "lastname: required, but last_name is empty"
    );
    assert_eq!(
        by_field("date_of_birth").source_field.as_deref(),
        Some("custom.birthday")
    );
    assert!(
        by_field("phone").message.starts_with("phone: \"12\""),
        "{}",
        by_field("phone").message
    );
    assert!(
        by_field("preferred_currency")
            .message
            .contains("\"€\" is not an ISO 4217 currency code"),
        "{}",
        by_field("preferred_currency").message
    );
}

#[test]
fn empty_values_are_left_out_cleared_or_required() {
    let config = config(json!({
        "object": "contact",
        "fields": [
            {"target": "a", "source": "a"},
            {"target": "b", "source": "b", "clear_if_empty": true},
            {"target": "c", "source": "c", "required": true},
            {"target": "d", "source": "d", "transforms": [{"kind": "default", "value": "n/a"}], "required": true},
            {"target": "nested.e", "source": "e"}
        ]
    }));
    let errors = apply(&config, &json!({"a": null, "b": "", "c": []})).expect_err("c is required");
    assert_eq!(codes(&errors), [("c", FieldErrorCode::MissingRequired)]);
    let target = apply(&config, &json!({"b": " ", "c": "x", "e": 0})).expect("maps");
    assert_eq!(target, json!({"b": null, "c": "x", "d": "n/a", "nested": {"e": 0}}));
}

#[test]
fn copies_keep_json_types() {
    let config = config(json!({"object": "x", "fields": [
        {"target": "n", "source": "n"}, {"target": "b", "source": "b"}, {"target": "o", "source": "o"},
        {"target": "l", "source": "l"}
    ]}));
    let source = json!({"n": 1.5, "b": false, "o": {"k": "v"}, "l": ["x", "y"], "ignored": 1});
    assert_eq!(
        apply(&config, &source).expect("maps"),
        json!({"n": 1.5, "b": false, "o": {"k": "v"}, "l": ["x", "y"]})
    );
}

// ---------------------------------------------------------------------------------------------
// Deals with CPQ line items

fn deal_config() -> MappingConfig {
    config(json!({
        "object": "deal",
        "direction": "app_to_crm",
        "fields": [
            {"target": "dealname", "source": "name", "required": true},
            {"target": "dealstage", "source": "status", "transforms": [{"kind": "value_table", "table": "stages"}]},
            {"target": "amount", "source": "amount", "transforms": [{"kind": "decimal", "scale": 2}]},
            {"target": "deal_currency_code", "source": "currency", "transforms": [{"kind": "currency"}]},
            {"target": "closedate", "source": "close_date",
             "transforms": [{"kind": "datetime", "from": "date", "to": "epoch_ms"}]},
            {"target": "line_items", "source": "line_items", "items": [
                {"target": "hs_sku", "source": "product_number", "required": true,
                 "transforms": [{"kind": "trim"}, {"kind": "value_table", "table": "products"}]},
                {"target": "name", "source": "name"},
                {"target": "quantity", "source": "quantity", "transforms": [{"kind": "decimal"}], "required": true},
                {"target": "price", "source": "unit_price", "transforms": [{"kind": "decimal", "scale": 2}],
                 "required": true},
                {"target": "amount", "source": ["unit_price", "quantity"],
                 "transforms": [{"kind": "multiply", "scale": 2}]},
                {"target": "hs_line_item_currency_code", "source": "currency",
                 "transforms": [{"kind": "currency"}]},
                {"target": "hs_discount_percentage", "source": "discount_percent",
                 "transforms": [{"kind": "percent"}, {"kind": "default", "value": "0"}]},
                {"target": "tax_rate", "source": "tax_percent",
                 "transforms": [{"kind": "percent", "from": "percent", "to": "fraction"}]}
            ]}
        ],
        "value_tables": {
            "stages": {"entries": [{"from": ["open", "offered"], "to": "presentationscheduled"},
                                   {"from": ["won"], "to": "closedwon"}, {"from": ["lost"], "to": "closedlost"}]},
            "products": {"entries": [{"from": ["A-100", "A100"], "to": "SKU-A100"},
                                     {"from": ["B-200"], "to": "SKU-B200"}]}
        }
    }))
}

fn sample_deal() -> Value {
    json!({
        "name": "Engines for Babbage & Co",
        "status": "offered",
        "amount": "137.93",
        "currency": "eur",
        "close_date": "2024-06-30",
        "line_items": [
            {"product_number": "A100", "name": "Difference engine", "quantity": 3, "unit_price": "19.99",
             "currency": "EUR", "discount_percent": "10", "tax_percent": "19"},
            {"product_number": " B-200 ", "quantity": "2.5", "unit_price": 31.17, "currency": "eur",
             "tax_percent": "7%"},
            {"product_number": "A-100", "quantity": "1000", "unit_price": "19.99"}
        ]
    })
}

#[test]
fn deals_map_with_their_line_items_and_exact_amounts() {
    let target = apply(&deal_config(), &sample_deal()).expect("maps");
    assert_eq!(
        target,
        json!({
            "dealname": "Engines for Babbage & Co",
            "dealstage": "presentationscheduled",
            "amount": "137.93",
            "deal_currency_code": "EUR",
            "closedate": 1_719_705_600_000_i64,
            "line_items": [
                {"hs_sku": "SKU-A100", "name": "Difference engine", "quantity": "3", "price": "19.99",
                 "amount": "59.97", "hs_line_item_currency_code": "EUR", "hs_discount_percentage": "10",
                 "tax_rate": "0.19"},
                {"hs_sku": "SKU-B200", "quantity": "2.5", "price": "31.17", "amount": "77.93",
                 "hs_line_item_currency_code": "EUR", "hs_discount_percentage": "0", "tax_rate": "0.07"},
                // 1000 × 19.99 is 19989.999999999996 in floating point.
                {"hs_sku": "SKU-A100", "quantity": "1000", "price": "19.99", "amount": "19990.00",
                 "hs_discount_percentage": "0"}
            ]
        })
    );
}

#[test]
fn line_item_errors_name_the_element() {
    let mut deal = sample_deal();
    deal["line_items"][0]["unit_price"] = json!("19,99");
    deal["line_items"][2]["product_number"] = json!("Z-999");
    deal["line_items"][2]["currency"] = json!("Euro");
    deal["status"] = json!("stalled");
    let errors = apply(&deal_config(), &deal).expect_err("errors");
    assert_eq!(
        codes(&errors),
        [
            ("dealstage", FieldErrorCode::UnknownValue),
            ("line_items[0].price", FieldErrorCode::NotANumber),
            ("line_items[0].amount", FieldErrorCode::NotANumber),
            ("line_items[2].hs_sku", FieldErrorCode::UnknownValue),
            (
                "line_items[2].hs_line_item_currency_code",
                FieldErrorCode::UnknownCurrency
            ),
        ]
    );
    assert_eq!(errors[1].source_field.as_deref(), Some("line_items[0].unit_price"));
    assert_eq!(
        errors[2].source_field.as_deref(),
        Some("line_items[0].unit_price, line_items[0].quantity")
    );
    assert_eq!(
        errors[3].message,
        "line_items[2].hs_sku: \"Z-999\" is not in value table \"products\", which has no default"
    );
    assert_eq!(
        errors[0].message,
        "dealstage: \"stalled\" is not in value table \"stages\", which has no default"
    );
}

#[test]
fn line_item_lists_must_be_lists_of_objects() {
    let mut deal = sample_deal();
    deal["line_items"] = json!({"product_number": "A100"});
    let errors = apply(&deal_config(), &deal).expect_err("not a list");
    assert_eq!(codes(&errors), [("line_items", FieldErrorCode::NotAList)]);

    deal["line_items"] = json!([{"product_number": "A100", "quantity": 1, "unit_price": 1}, "A100", {}]);
    let errors = apply(&deal_config(), &deal).expect_err("not objects");
    assert_eq!(
        codes(&errors),
        [
            ("line_items[1]", FieldErrorCode::NotAnObject),
            ("line_items[2].hs_sku", FieldErrorCode::MissingRequired),
            ("line_items[2].quantity", FieldErrorCode::MissingRequired),
            ("line_items[2].price", FieldErrorCode::MissingRequired),
        ]
    );
    assert_eq!(
        errors[3].message,
        "line_items[2].price: required, but line_items[2].unit_price is empty"
    );

    deal["line_items"] = json!([]);
    let target = apply(&deal_config(), &deal).expect("no items");
    assert!(target.get("line_items").is_none());
}

// ---------------------------------------------------------------------------------------------
// Value tables

#[test]
fn value_tables_map_many_to_one_with_and_without_default() {
    assert_eq!(
        transform_once(
            json!([{"kind": "value_table", "table": "stages"}]),
            json!("qualifiedtobuy")
        )
        .ok(),
        Some(json!("open"))
    );
    assert_eq!(
        transform_once(
            json!([{"kind": "value_table", "table": "stages"}]),
            json!("appointmentscheduled")
        )
        .ok(),
        Some(json!("open"))
    );
    // Unknown: the default.
    assert_eq!(
        transform_once(
            json!([{"kind": "value_table", "table": "stages"}]),
            json!("negotiation")
        )
        .ok(),
        Some(json!("open"))
    );
    // Unknown without a default: an error naming the value and the table.
    let error = transform_once(
        json!([{"kind": "value_table", "table": "strict_stages"}]),
        json!("negotiation"),
    )
    .expect_err("unknown");
    assert_eq!(error.code, FieldErrorCode::UnknownValue);
    assert_eq!(
        error.message,
        "out: \"negotiation\" is not in value table \"strict_stages\", which has no default"
    );
}

// ---------------------------------------------------------------------------------------------
// Target checks from live metadata

#[test]
fn target_metadata_catches_what_the_crm_would_reject() {
    let config = config(json!({
        "object": "contact",
        "email_rules": "salesforce",
        "fields": [
            {"target": "email", "source": "email"},
            {"target": "lifecyclestage", "source": "stage"},
            {"target": "interests", "source": "interests"},
            {"target": "lifetime_value", "source": "ltv"},
            {"target": "newsletter_opt_in", "source": "newsletter"},
            {"target": "date_of_birth", "source": "born"},
            {"target": "custom_unknown", "source": "x"}
        ]
    }));
    let mapping = Mapping::with_target(&config, &contact_meta());
    let good = json!({"email": "ada@example.com", "stage": "lead", "interests": ["crm", "erp"], "ltv": 12.5,
                      "newsletter": true, "born": "1815-12-10", "x": "anything"});
    let target = mapping.apply(&good).expect("valid");
    assert_eq!(target["interests"], json!("crm;erp"));

    let bad = json!({"email": "ada lovelace@example.com", "stage": "old_evangelist", "interests": "crm;hr",
                     "ltv": "lots", "newsletter": "yes", "born": "10.12.1815", "x": 1});
    let errors = mapping.apply(&bad).expect_err("invalid");
    assert_eq!(
        codes(&errors),
        [
            ("email", FieldErrorCode::InvalidEmail),
            ("lifecyclestage", FieldErrorCode::UnknownValue),
            ("interests", FieldErrorCode::UnknownValue),
            ("lifetime_value", FieldErrorCode::NotANumber),
            ("newsletter_opt_in", FieldErrorCode::NotABool),
            ("date_of_birth", FieldErrorCode::InvalidDate),
        ]
    );
    assert_eq!(
        errors[1].message,
        "lifecyclestage: \"old_evangelist\" is not an option of lifecyclestage (subscriber, lead, \
         salesqualifiedlead, customer)"
    );
    assert!(errors[0].message.contains("contains ' '"), "{}", errors[0].message);
    // Without metadata the same record maps: the checks come from the target.
    assert!(Mapping::new(&config).apply(&bad).is_ok());
}

#[test]
fn hubspot_and_salesforce_email_rules_differ_before_any_call() {
    let rules_config = |rules: &str| {
        config(json!({"object": "contact", "email_rules": rules,
                      "fields": [{"target": "email", "source": "email", "transforms": [{"kind": "email"}]}]}))
    };
    let address = json!({"email": "jörg@example.de"});
    assert!(apply(&rules_config("hubspot"), &address).is_ok());
    let error = apply(&rules_config("salesforce"), &address).expect_err("salesforce rejects");
    assert_eq!(codes(&error), [("email", FieldErrorCode::InvalidEmail)]);
    let error = apply(&rules_config("strict"), &json!({"email": "a@b"})).expect_err("no dot");
    assert!(
        error[0].message.contains("the domain needs a dot"),
        "{}",
        error[0].message
    );
}

// ---------------------------------------------------------------------------------------------
// Validation against metadata

#[test]
fn validation_names_each_field_and_reason() {
    let config = config(json!({
        "object": "contact",
        "fields": [
            {"target": "emial", "source": "email"},
            {"target": "createdate", "source": "created"},
            {"target": "lifecyclestage", "source": "status", "transforms": [{"kind": "value_table", "table": "statuses"}]},
            {"target": "hs_language", "transforms": [{"kind": "constant", "value": "fr"}]},
            {"target": "preferred_currency", "source": "currency",
             "transforms": [{"kind": "currency"}, {"kind": "default", "value": "GBP"}]},
            {"target": "lifetime_value", "source": "name", "transforms": [{"kind": "split_name", "part": "last"}]},
            {"target": "date_of_birth", "source": "born", "transforms": [{"kind": "datetime", "to": "iso"}]},
            {"target": "newsletter_opt_in", "source": "n", "transforms": [{"kind": "decimal"}]},
            {"target": "phone", "source": "phone", "transforms": [{"kind": "phone_e164", "default_region": "Germany"}]},
            {"target": "city", "source": "city", "transforms": [{"kind": "value_table", "table": "cities"}]},
            {"target": "zip", "source": ["zip", "postcode"]},
            {"target": "zip", "source": "zip"},
            {"target": "address"},
            {"target": "firstname", "source": "first_nmae"},
            {"target": "country", "source": "country", "transforms": [{"kind": "datetime", "time_zone": "Europe/Berlln"}]},
            {"target": "jobtitle", "source": "title", "transforms": [{"kind": "truncate", "max_chars": 0}]},
            {"target": "mobilephone.number", "source": "mobile"},
            {"target": "company[0]", "source": "company"}
        ],
        "value_tables": {
            "statuses": {"entries": [{"from": ["new"], "to": "lead"}, {"from": ["won"], "to": "customerr"},
                                     {"from": ["New"], "to": "subscriber"}],
                         "default": "old_evangelist"},
            "dupes": {"entries": [{"from": ["a"], "to": "x"}, {"from": ["A"], "to": "y"}], "case_insensitive": true}
        }
    }));
    let sources: Vec<String> = [
        "email",
        "created",
        "status",
        "currency",
        "name",
        "born",
        "n",
        "phone",
        "city",
        "zip",
        "postcode",
        "first_name",
        "country",
        "title",
        "mobile",
        "company",
    ]
    .map(String::from)
    .to_vec();
    let errors = validate(&config, &contact_meta(), Some(&sources));
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        config_codes(&errors),
        [
            ("value_tables.dupes", ConfigErrorCode::AmbiguousValueTable),
            ("emial", ConfigErrorCode::UnknownField),
            ("createdate", ConfigErrorCode::ReadOnlyField),
            ("lifecyclestage", ConfigErrorCode::UnknownOption),
            ("lifecyclestage", ConfigErrorCode::UnknownOption),
            ("hs_language", ConfigErrorCode::UnknownOption),
            ("preferred_currency", ConfigErrorCode::UnknownOption),
            ("lifetime_value", ConfigErrorCode::IncompatibleType),
            ("date_of_birth", ConfigErrorCode::IncompatibleType),
            ("newsletter_opt_in", ConfigErrorCode::IncompatibleType),
            ("phone", ConfigErrorCode::InvalidRegion),
            ("city", ConfigErrorCode::UnknownValueTable),
            ("zip", ConfigErrorCode::SourcesNotCombined),
            ("zip", ConfigErrorCode::DuplicateTarget),
            ("address", ConfigErrorCode::NoSource),
            ("firstname", ConfigErrorCode::UnknownSourceField),
            ("country", ConfigErrorCode::InvalidTimeZone),
            ("jobtitle", ConfigErrorCode::InvalidTransform),
            ("company[0]", ConfigErrorCode::InvalidPath),
            ("lastname", ConfigErrorCode::RequiredFieldUnmapped),
        ],
        "{messages:#?}"
    );
    let message = |code: ConfigErrorCode| {
        errors
            .iter()
            .find(|e| e.code == code)
            .map(|e| e.message.as_str())
            .expect("present")
    };
    assert_eq!(
        message(ConfigErrorCode::UnknownField),
        "emial: contacts has no field \"emial\" (did you mean \"email\"?)"
    );
    assert_eq!(
        message(ConfigErrorCode::ReadOnlyField),
        "createdate: createdate is read-only in contacts"
    );
    assert_eq!(
        errors[3].message,
        "lifecyclestage: value table \"statuses\": \"customerr\" is not an option of lifecyclestage (subscriber, \
         lead, salesqualifiedlead, customer)"
    );
    assert!(
        errors[4].message.contains("\"old_evangelist\""),
        "{}",
        errors[4].message
    );
    assert!(message(ConfigErrorCode::AmbiguousValueTable).contains("\"A\" maps to both \"x\" and \"y\""));
    assert_eq!(
        errors[7].message,
        "lifetime_value: the transforms produce text, but lifetime_value is a number field"
    );
    assert_eq!(
        message(ConfigErrorCode::UnknownSourceField),
        "firstname: the source has no field \"first_nmae\" (did you mean \"first_name\"?)"
    );
    assert_eq!(
        message(ConfigErrorCode::RequiredFieldUnmapped),
        "lastname: contacts requires lastname, but no rule writes it"
    );
}

#[test]
fn required_target_fields_need_a_rule_that_cannot_be_empty() {
    let optional = config(json!({"object": "contact", "fields": [{"target": "lastname", "source": "last_name"}]}));
    let errors = validate(&optional, &contact_meta(), None);
    assert_eq!(
        config_codes(&errors),
        [("lastname", ConfigErrorCode::RequiredFieldMayBeEmpty)]
    );
    assert!(
        errors[0].message.contains("mark the rule required or add a default"),
        "{}",
        errors[0].message
    );
    for covered in [
        json!({"target": "lastname", "source": "last_name", "required": true}),
        json!({"target": "lastname", "source": "last_name", "transforms": [{"kind": "default", "value": "Unknown"}]}),
        json!({"target": "lastname", "transforms": [{"kind": "constant", "value": "Imported"}]}),
    ] {
        let config = config(json!({"object": "contact", "fields": [covered.clone()]}));
        assert_eq!(validate(&config, &contact_meta(), None), Vec::new(), "{covered}");
    }
}

#[test]
fn line_item_rules_are_validated_with_their_path() {
    let mut deal = deal_config();
    let meta = ObjectMeta {
        kind: ObjectKind::Deal,
        crm_name: "deals".to_string(),
        fields: [
            "dealname",
            "dealstage",
            "amount",
            "deal_currency_code",
            "closedate",
            "line_items",
        ]
        .into_iter()
        .map(|name| field(name, FieldType::Text))
        .collect(),
    };
    assert_eq!(validate(&deal, &meta, None), Vec::new());
    let items = &mut deal.fields[5];
    items.transforms.push(Transform::Trim);
    items.items[0].transforms.push(Transform::ValueTable {
        table: "skus".to_string(),
    });
    items.items[1].source = None;
    items.items[2].target = "price".to_string();
    let errors = validate(&deal, &meta, None);
    assert_eq!(
        config_codes(&errors),
        [
            ("line_items", ConfigErrorCode::TransformsOnList),
            ("line_items[].hs_sku", ConfigErrorCode::UnknownValueTable),
            ("line_items[].name", ConfigErrorCode::NoSource),
            ("line_items[].price", ConfigErrorCode::DuplicateTarget),
        ]
    );
    assert_eq!(
        errors[1].message,
        "line_items[].hs_sku: there is no value table \"skus\""
    );
}

#[test]
fn value_tables_into_number_and_bool_fields_must_hold_numbers_and_booleans() {
    let config = config(json!({
        "object": "contact",
        "fields": [
            {"target": "lifetime_value", "source": "tier", "transforms": [{"kind": "value_table", "table": "tiers"}]},
            {"target": "newsletter_opt_in", "source": "consent",
             "transforms": [{"kind": "value_table", "table": "consent"}]},
            {"target": "lastname", "source": "last_name", "required": true}
        ],
        "value_tables": {
            "tiers": {"entries": [{"from": ["gold"], "to": "1000.00"}, {"from": ["silver"], "to": "lots"}]},
            "consent": {"entries": [{"from": ["y"], "to": "true"}], "default": "no"}
        }
    }));
    let errors = validate(&config, &contact_meta(), None);
    assert_eq!(
        config_codes(&errors),
        [
            ("lifetime_value", ConfigErrorCode::IncompatibleType),
            ("newsletter_opt_in", ConfigErrorCode::IncompatibleType),
        ]
    );
    assert_eq!(
        errors[0].message,
        "lifetime_value: value table \"tiers\": \"lots\" is not a number, which lifetime_value needs"
    );
}

#[test]
fn a_broken_rule_fails_its_field_and_the_rest_still_maps() {
    let config = config(json!({"object": "x", "fields": [
        {"target": "a", "source": "a", "transforms": [{"kind": "value_table", "table": "missing"}]},
        {"target": "b", "source": "b", "transforms": [{"kind": "datetime", "time_zone": "Nowhere/Town"}]},
        {"target": "c", "source": "c", "transforms": [{"kind": "decimal"}]}
    ]}));
    let errors = apply(&config, &json!({"a": 1, "b": "2024-01-01", "c": "x"})).expect_err("broken");
    assert_eq!(
        codes(&errors),
        [
            ("a", FieldErrorCode::InvalidMapping),
            ("b", FieldErrorCode::InvalidMapping),
            ("c", FieldErrorCode::NotANumber),
        ]
    );
    assert_eq!(
        errors[0].message,
        "a: the mapping is broken: there is no value table \"missing\""
    );
}

// ---------------------------------------------------------------------------------------------
// Preview and hashes

#[test]
fn preview_shows_the_result_or_the_errors() {
    let config = bench::twenty_field_contact_config();
    let source = bench::sample_contact(3);
    let ok = preview(&config, &source);
    assert_eq!(ok.source, source);
    assert_eq!(ok.target, Some(apply(&config, &source).expect("maps")));
    assert!(ok.errors.is_empty());

    let mut bad = source.clone();
    bad["email"] = json!("nobody");
    let failed = Mapping::with_target(&config, &contact_meta()).preview(&bad);
    assert_eq!(failed.target, None);
    assert_eq!(codes(&failed.errors), [("email", FieldErrorCode::InvalidEmail)]);
    // The preview is what the API returns.
    let body = serde_json::to_value(&failed).expect("json");
    assert_eq!(body["errors"][0]["code"], json!("invalid_email"));
    assert_eq!(body["errors"][0]["source_field"], json!("email"));
}

#[test]
fn unchanged_mapped_content_hashes_equal() {
    let mapping = Mapping::new(&bench::twenty_field_contact_config());
    let source = bench::sample_contact(11);
    let first = mapping.apply(&source).expect("maps");
    // A change nobody maps, and cosmetic differences the transforms normalise, change nothing.
    let mut touched = source.clone();
    touched["unmapped"] = json!("new");
    touched["email"] = json!(touched["email"].as_str().expect("email").to_uppercase());
    touched["custom"]["lifetime_value"] =
        json!(touched["custom"]["lifetime_value"].as_str().expect("ltv").to_string() + "0");
    let second = mapping.apply(&touched).expect("maps");
    assert_eq!(mapping.content_hash(&first), mapping.content_hash(&second));
    // The record read back from HubSpot (every property text, extra system fields) is an echo.
    let mut echo: serde_json::Map<String, Value> = first.as_object().expect("object").clone();
    echo.insert(
        "last_purchase_date".into(),
        json!(first["last_purchase_date"].to_string()),
    );
    echo.insert("hs_object_id".into(), json!("901"));
    echo.insert("lastmodifieddate".into(), json!("2024-05-01T10:00:00Z"));
    assert_eq!(mapping.content_hash(&Value::Object(echo)), mapping.content_hash(&first));
    // A real change does change the hash.
    let mut moved = source;
    moved["address"]["city"] = json!("Hamburg");
    assert_ne!(
        mapping.content_hash(&mapping.apply(&moved).expect("maps")),
        mapping.content_hash(&first)
    );
}

// ---------------------------------------------------------------------------------------------
// A table of cases: every transform, its input and what comes out (or the error code)

#[test]
fn transform_cases() {
    use FieldErrorCode as E;
    let cases: Vec<(Value, Value, Result<Value, E>)> = vec![
        // copy, constant, default
        (json!([]), json!(" as is "), Ok(json!(" as is "))),
        (json!([{"kind": "constant", "value": 42}]), json!("x"), Ok(json!(42))),
        (
            json!([{"kind": "default", "value": "none"}]),
            json!(null),
            Ok(json!("none")),
        ),
        (
            json!([{"kind": "default", "value": "none"}]),
            json!("  "),
            Ok(json!("none")),
        ),
        (
            json!([{"kind": "default", "value": "none"}]),
            json!("set"),
            Ok(json!("set")),
        ),
        // trim and case
        (json!([{"kind": "trim"}]), json!("\t x \n"), Ok(json!("x"))),
        (json!([{"kind": "case", "to": "lower"}]), json!("ÖL"), Ok(json!("öl"))),
        (json!([{"kind": "case", "to": "upper"}]), json!("de"), Ok(json!("DE"))),
        (
            json!([{"kind": "case", "to": "title"}]),
            json!("MAX mustermann"),
            Ok(json!("Max Mustermann")),
        ),
        (
            json!([{"kind": "truncate", "max_chars": 3}]),
            json!("abcdef"),
            Ok(json!("abc")),
        ),
        // names
        (
            json!([{"kind": "split_name", "part": "first"}]),
            json!("Ada King Lovelace"),
            Ok(json!("Ada King")),
        ),
        (
            json!([{"kind": "split_name", "part": "last"}]),
            json!("Lovelace, Ada"),
            Ok(json!("Lovelace")),
        ),
        (
            json!([{"kind": "split_name", "part": "last"}]),
            json!({"a": 1}),
            Err(E::UnexpectedType),
        ),
        // email
        (
            json!([{"kind": "email"}]),
            json!(" Ada@Example.COM "),
            Ok(json!("ada@example.com")),
        ),
        (json!([{"kind": "email"}]), json!("ada@example"), Err(E::InvalidEmail)),
        (
            json!([{"kind": "email", "rules": "hubspot"}]),
            json!("ada@exämple.de"),
            Ok(json!("ada@exämple.de")),
        ),
        (
            json!([{"kind": "email", "rules": "salesforce"}]),
            json!("ada@exämple.de"),
            Err(E::InvalidEmail),
        ),
        // phone
        (
            json!([{"kind": "phone_e164", "default_region": "DE"}]),
            json!("(030) 901820"),
            Ok(json!("+4930901820")),
        ),
        (
            json!([{"kind": "phone_e164", "default_region": "US"}]),
            json!("212-555-0123"),
            Ok(json!("+12125550123")),
        ),
        (
            json!([{"kind": "phone_e164", "default_region": "IT"}]),
            json!("06 6982 1234"),
            Ok(json!("+390669821234")),
        ),
        (
            json!([{"kind": "phone_e164", "default_region": "NL"}]),
            json!("020 123 4567"),
            Ok(json!("+31201234567")),
        ),
        (
            json!([{"kind": "phone_e164", "default_region": "AU"}]),
            json!("(02) 9876 5432"),
            Ok(json!("+61298765432")),
        ),
        (
            json!([{"kind": "phone_e164"}]),
            json!("+44 7911 123456"),
            Ok(json!("+447911123456")),
        ),
        (
            json!([{"kind": "phone_e164", "default_region": "DE"}]),
            json!("0000"),
            Err(E::InvalidPhone),
        ),
        (
            json!([{"kind": "phone_e164", "default_region": "US"}]),
            json!("+1 999 999 9999"),
            Err(E::InvalidPhone),
        ),
        (
            json!([{"kind": "phone_e164"}]),
            json!("0171 2345678"),
            Err(E::InvalidPhone),
        ),
        // dates and times
        (
            json!([{"kind": "datetime"}]),
            json!("2024-05-01T10:00:00+02:00"),
            Ok(json!("2024-05-01T08:00:00Z")),
        ),
        (
            json!([{"kind": "datetime", "time_zone": "Europe/Berlin"}]),
            json!("2024-12-24T17:00:00Z"),
            Ok(json!("2024-12-24T18:00:00+01:00")),
        ),
        (
            json!([{"kind": "datetime", "time_zone": "America/New_York"}]),
            json!("2024-03-10T07:00:00Z"),
            Ok(json!("2024-03-10T03:00:00-04:00")),
        ),
        (
            json!([{"kind": "datetime", "time_zone": "America/New_York"}]),
            json!("2024-03-10T06:59:00Z"),
            Ok(json!("2024-03-10T01:59:00-05:00")),
        ),
        (
            json!([{"kind": "datetime", "source_time_zone": "America/New_York"}]),
            json!("2024-03-10T02:30:00"),
            Err(E::InvalidDate),
        ),
        (
            json!([{"kind": "datetime", "from": "epoch_ms", "to": "date", "time_zone": "Pacific/Auckland"}]),
            json!(1_714_557_600_000_i64),
            Ok(json!("2024-05-01")),
        ),
        (
            json!([{"kind": "datetime", "to": "%d.%m.%Y %H:%M", "time_zone": "Europe/Berlin"}]),
            json!("2024-07-01T06:30:00Z"),
            Ok(json!("01.07.2024 08:30")),
        ),
        (json!([{"kind": "datetime"}]), json!("31/12/2024"), Err(E::InvalidDate)),
        // decimals, numbers, percentages, products
        (
            json!([{"kind": "decimal", "scale": 2}]),
            json!("0.005"),
            Ok(json!("0.01")),
        ),
        (json!([{"kind": "decimal"}]), json!("1e3"), Ok(json!("1000"))),
        (json!([{"kind": "decimal"}]), json!("12 EUR"), Err(E::NotANumber)),
        (
            json!([{"kind": "decimal", "scale": 2}, {"kind": "number"}]),
            json!("19.9"),
            Ok(json!(19.9)),
        ),
        (
            json!([{"kind": "number"}]),
            json!("0.12345678901234567890"),
            Err(E::PrecisionLoss),
        ),
        (
            json!([{"kind": "percent", "from": "fraction"}]),
            json!("0.075"),
            Ok(json!("7.5")),
        ),
        (
            json!([{"kind": "percent", "to": "fraction"}]),
            json!("19 %"),
            Ok(json!("0.19")),
        ),
        (json!([{"kind": "percent"}]), json!("n/a"), Err(E::NotANumber)),
        (json!([{"kind": "multiply"}]), json!("19.99"), Ok(json!("19.99"))),
        // currency, bool
        (json!([{"kind": "currency"}]), json!("usd"), Ok(json!("USD"))),
        (json!([{"kind": "currency"}]), json!("US$"), Err(E::UnknownCurrency)),
        (json!([{"kind": "bool"}]), json!("No"), Ok(json!(false))),
        (json!([{"kind": "bool"}]), json!("ja"), Err(E::NotABool)),
        // value tables, and chains
        (
            json!([{"kind": "value_table", "table": "stages"}]),
            json!("closedwon"),
            Ok(json!("won")),
        ),
        (
            json!([{"kind": "value_table", "table": "strict_stages"}]),
            json!("open"),
            Err(E::UnknownValue),
        ),
        (
            json!([{"kind": "trim"}, {"kind": "case", "to": "lower"}, {"kind": "value_table", "table": "strict_stages"}]),
            json!(" ClosedWon "),
            Ok(json!("won")),
        ),
        (
            json!([{"kind": "trim"}, {"kind": "default", "value": "EUR"}, {"kind": "currency"}]),
            json!(" "),
            Ok(json!("EUR")),
        ),
    ];
    for (transforms, input, expected) in cases {
        let got = transform_once(transforms.clone(), input.clone()).map_err(|e| e.code);
        assert_eq!(got, expected, "{transforms} on {input}");
    }
}

// ---------------------------------------------------------------------------------------------
// Properties, checked over many generated inputs (a small deterministic generator: no extra crate)

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn property_products_are_exact_decimal_arithmetic() {
    use rust_decimal::Decimal;
    use std::str::FromStr;
    let mut rng = Lcg(7);
    for _ in 0..2_000 {
        let cents = rng.below(10_000_000);
        let price = format!("{}.{:02}", cents / 100, cents % 100);
        let quantity = rng.below(10_000);
        let got = transform_once(json!([{"kind": "multiply"}]), json!([price, quantity])).expect("product");
        let expected = Decimal::from_str(&price).expect("price") * Decimal::from(quantity);
        assert_eq!(got, json!(expected.to_string()), "{price} × {quantity}");
        // The integer cents times quantity agree: no binary fraction ever crept in.
        let as_cents = Decimal::from_str(got.as_str().expect("text")).expect("decimal") * Decimal::ONE_HUNDRED;
        assert_eq!(as_cents, Decimal::from(cents) * Decimal::from(quantity));
    }
}

#[test]
fn property_split_names_rejoin_to_the_name() {
    let words = [
        "Ada", "Grace", "van", "der", "Berg", "de", "la", "Cruz", "Lovelace", "Maria", "von",
    ];
    let mut rng = Lcg(11);
    for _ in 0..2_000 {
        let count = 1 + rng.below(5) as usize;
        let name: Vec<&str> = (0..count)
            .map(|_| words[rng.below(words.len() as u64) as usize])
            .collect();
        let full = name.join(" ");
        let first = transform_once(json!([{"kind": "split_name", "part": "first"}]), json!(full)).expect("first");
        let last = transform_once(json!([{"kind": "split_name", "part": "last"}]), json!(full)).expect("last");
        let rejoined = [first.as_str(), last.as_str()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(rejoined, full);
        assert!(
            last.as_str().is_some_and(|l| !l.is_empty()),
            "{full}: a last name always"
        );
    }
}

#[test]
fn property_hashes_ignore_key_order_and_number_spelling() {
    let mut rng = Lcg(13);
    for _ in 0..500 {
        let n = rng.below(100_000);
        let fields = ["a", "b", "c", "d"];
        let forward = json!({"a": n, "b": format!("x{n}"), "c": {"p": 1, "q": [n, "y"]}, "d": null});
        let mut shuffled = serde_json::Map::new();
        for key in ["c", "b", "a"] {
            shuffled.insert(key.to_string(), forward[key].clone());
        }
        shuffled.insert("a".into(), json!(format!("{n}.000")));
        assert_eq!(
            content_hash(&forward, fields),
            content_hash(&Value::Object(shuffled), fields)
        );
        let mut changed = forward.clone();
        changed["b"] = json!(format!("x{}", n + 1));
        assert_ne!(content_hash(&forward, fields), content_hash(&changed, fields));
    }
}

#[test]
fn property_mapping_is_deterministic_and_never_panics_on_odd_input() {
    let mapping = Mapping::with_target(&bench::twenty_field_contact_config(), &contact_meta());
    let odd = [
        json!(null),
        json!(""),
        json!(0),
        json!(-1.5),
        json!(true),
        json!([]),
        json!([1, "a"]),
        json!({}),
        json!({"x": [null]}),
        json!("\u{0}"),
        json!("ß".repeat(300)),
        json!(u64::MAX),
        json!(1e300),
    ];
    let mut rng = Lcg(17);
    for n in 0..3_000 {
        let mut source = bench::sample_contact(n);
        for _ in 0..3 {
            let value = odd[rng.below(odd.len() as u64) as usize].clone();
            match rng.below(4) {
                0 => source["email"] = value,
                1 => source["phone"] = value,
                2 => source["custom"]["last_purchase"] = value,
                _ => source["address"] = value,
            }
        }
        let once = mapping.apply(&source);
        assert_eq!(once, mapping.apply(&source));
        if let Err(errors) = once {
            for error in errors {
                assert!(error.message.starts_with(&error.field), "{error:?}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Line items against the CRM's line item object

fn line_item_meta() -> ObjectMeta {
    let mut quantity = field("quantity", FieldType::Number);
    quantity.required = true;
    let mut total = field("amount", FieldType::Currency);
    total.read_only = true;
    ObjectMeta {
        kind: ObjectKind::LineItem,
        crm_name: "line_items".to_string(),
        fields: vec![
            with_options(field("hs_sku", FieldType::Picklist), &["SKU-A100", "SKU-B200"]),
            field("name", FieldType::Text),
            quantity,
            field("price", FieldType::Currency),
            total,
            with_options(
                field("hs_line_item_currency_code", FieldType::Picklist),
                &["EUR", "USD"],
            ),
            field("hs_discount_percentage", FieldType::Percent),
            field("tax_rate", FieldType::Number),
        ],
    }
}

fn deal_meta() -> ObjectMeta {
    ObjectMeta {
        kind: ObjectKind::Deal,
        crm_name: "deals".to_string(),
        fields: ["dealname", "dealstage", "amount", "deal_currency_code", "closedate"]
            .into_iter()
            .map(|name| field(name, FieldType::Text))
            .collect(),
    }
}

#[test]
fn line_items_validate_against_their_own_object() {
    let lists = std::collections::BTreeMap::from([("line_items".to_string(), line_item_meta())]);
    // The list itself is no field of the deal, and is not reported as unknown.
    assert_eq!(validate(&deal_config(), &deal_meta(), None), Vec::new());
    let errors = validate_with_lists(&deal_config(), &deal_meta(), &lists, None);
    assert_eq!(
        config_codes(&errors),
        [("line_items[].amount", ConfigErrorCode::ReadOnlyField)]
    );

    let mut config = deal_config();
    config.fields[5]
        .items
        .retain(|rule| rule.target != "amount" && rule.target != "quantity");
    config.value_tables.get_mut("products").expect("table").entries[1].to = "SKU-C300".to_string();
    let errors = validate_with_lists(&config, &deal_meta(), &lists, None);
    assert_eq!(
        config_codes(&errors),
        [
            ("line_items[].hs_sku", ConfigErrorCode::UnknownOption),
            ("line_items[].quantity", ConfigErrorCode::RequiredFieldUnmapped),
        ]
    );
    assert_eq!(
        errors[0].message,
        "line_items[].hs_sku: value table \"products\": \"SKU-C300\" is not an option of hs_sku (SKU-A100, SKU-B200)"
    );
}

#[test]
fn line_item_values_are_checked_against_their_object() {
    let lists = std::collections::BTreeMap::from([("line_items".to_string(), line_item_meta())]);
    let mut deal = sample_deal();
    deal["line_items"][1]["currency"] = json!("CHF");
    let errors = Mapping::with_targets(&deal_config(), &deal_meta(), &lists)
        .apply(&deal)
        .expect_err("CHF is no option");
    assert_eq!(
        codes(&errors),
        [("line_items[1].hs_line_item_currency_code", FieldErrorCode::UnknownValue)]
    );
    // Without the line item metadata, CHF is a fine ISO code.
    assert!(Mapping::with_target(&deal_config(), &deal_meta()).apply(&deal).is_ok());
}

// ---------------------------------------------------------------------------------------------
// The configuration's OpenAPI schema (what the UI and API reference show)

#[test]
fn config_types_have_openapi_schemas_with_the_transform_docs() {
    use utoipa::{PartialSchema, ToSchema};
    let mut schemas = Vec::new();
    MappingConfig::schemas(&mut schemas);
    let names: Vec<&str> = schemas.iter().map(|(name, _)| name.as_str()).collect();
    for expected in ["FieldRule", "Transform", "ValueTable", "Source"] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    let transform = serde_json::to_string(&Transform::schema()).expect("json");
    for documented in [
        "E.164",
        "value_table",
        "rounds half away",
        "daylight-saving",
        "ISO 4217",
    ] {
        assert!(transform.contains(documented), "{documented} documented");
    }
}
