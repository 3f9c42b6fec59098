//! The shape and contents of a new account: HubSpot's standard properties (plus a few custom
//! ones, as real portals have), the deal pipelines, a small realistic data set, and a generator
//! for large data sets.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};

use super::model::{
    Account, Association, ModificationMetadata, ObjectType, Pipeline, PipelineStage, Property, PropertyOption,
    PropertyType, Record, default_association_type,
};
use crate::clock::iso;

struct Def {
    name: &'static str,
    label: &'static str,
    property_type: PropertyType,
    field_type: &'static str,
    options: &'static [(&'static str, &'static str)],
    unique: bool,
    read_only: bool,
    custom: bool,
}

const fn text(name: &'static str, label: &'static str) -> Def {
    Def {
        name,
        label,
        property_type: PropertyType::String,
        field_type: "text",
        options: &[],
        unique: false,
        read_only: false,
        custom: false,
    }
}

const fn number(name: &'static str, label: &'static str) -> Def {
    Def {
        property_type: PropertyType::Number,
        field_type: "number",
        ..text(name, label)
    }
}

const fn datetime(name: &'static str, label: &'static str) -> Def {
    Def {
        property_type: PropertyType::Datetime,
        field_type: "date",
        ..text(name, label)
    }
}

const fn select(name: &'static str, label: &'static str, options: &'static [(&'static str, &'static str)]) -> Def {
    Def {
        property_type: PropertyType::Enumeration,
        field_type: "select",
        options,
        ..text(name, label)
    }
}

const fn read_only(def: Def) -> Def {
    Def { read_only: true, ..def }
}

const fn custom(def: Def) -> Def {
    Def { custom: true, ..def }
}

const LIFECYCLE: &[(&str, &str)] = &[
    ("subscriber", "Subscriber"),
    ("lead", "Lead"),
    ("marketingqualifiedlead", "Marketing Qualified Lead"),
    ("salesqualifiedlead", "Sales Qualified Lead"),
    ("opportunity", "Opportunity"),
    ("customer", "Customer"),
    ("evangelist", "Evangelist"),
    ("other", "Other"),
];
const LEAD_STATUS: &[(&str, &str)] = &[
    ("NEW", "New"),
    ("OPEN", "Open"),
    ("IN_PROGRESS", "In Progress"),
    ("OPEN_DEAL", "Open Deal"),
    ("UNQUALIFIED", "Unqualified"),
    ("ATTEMPTED_TO_CONTACT", "Attempted to Contact"),
    ("CONNECTED", "Connected"),
    ("BAD_TIMING", "Bad Timing"),
];
const TIERS: &[(&str, &str)] = &[("gold", "Gold"), ("silver", "Silver"), ("bronze", "Bronze")];
const INDUSTRIES: &[(&str, &str)] = &[
    ("COMPUTER_SOFTWARE", "Computer Software"),
    ("LOGISTICS_AND_SUPPLY_CHAIN", "Logistics and Supply Chain"),
    ("HOSPITALITY", "Hospitality"),
    ("MACHINERY", "Machinery"),
    ("RENEWABLES_ENVIRONMENT", "Renewables & Environment"),
    ("FOOD_PRODUCTION", "Food Production"),
    ("RETAIL", "Retail"),
];
const CURRENCIES: &[(&str, &str)] = &[
    ("EUR", "Euro"),
    ("USD", "US Dollar"),
    ("GBP", "British Pound"),
    ("CHF", "Swiss Franc"),
    ("SEK", "Swedish Krona"),
];
const DEAL_TYPES: &[(&str, &str)] = &[
    ("newbusiness", "New Business"),
    ("existingbusiness", "Existing Business"),
];
const DIRECTIONS: &[(&str, &str)] = &[("INBOUND", "Inbound"), ("OUTBOUND", "Outbound")];
const EMAIL_DIRECTIONS: &[(&str, &str)] = &[
    ("EMAIL", "Logged email"),
    ("INCOMING_EMAIL", "Incoming email"),
    ("FORWARDED_EMAIL", "Forwarded email"),
];

const OUTCOMES: &[(&str, &str)] = &[
    ("SCHEDULED", "Scheduled"),
    ("COMPLETED", "Completed"),
    ("RESCHEDULED", "Rescheduled"),
    ("NO_SHOW", "No Show"),
    ("CANCELED", "Canceled"),
];
const OWNERS: &[(&str, &str)] = &[
    ("71000001", "Mia Lindqvist"),
    ("71000002", "Jonas Weber"),
    ("71000003", "Priya Nair"),
];
const STAGES: &[(&str, &str)] = &[
    ("appointmentscheduled", "Appointment Scheduled"),
    ("qualifiedtobuy", "Qualified To Buy"),
    ("presentationscheduled", "Presentation Scheduled"),
    ("decisionmakerboughtin", "Decision Maker Bought-In"),
    ("contractsent", "Contract Sent"),
    ("closedwon", "Closed Won"),
    ("closedlost", "Closed Lost"),
    ("renewal_open", "Renewal Open"),
    ("renewal_won", "Renewal Won"),
    ("renewal_lost", "Renewal Lost"),
];
const PIPELINES: &[(&str, &str)] = &[("default", "Sales Pipeline"), ("renewals", "Renewals")];

fn schema(object: ObjectType) -> Vec<Def> {
    let owner = select("hubspot_owner_id", "Contact owner", OWNERS);
    let mut defs = match object {
        ObjectType::Contacts => vec![
            Def {
                unique: true,
                ..text("email", "Email")
            },
            text("firstname", "First Name"),
            text("lastname", "Last Name"),
            Def {
                field_type: "phonenumber",
                ..text("phone", "Phone Number")
            },
            Def {
                field_type: "phonenumber",
                ..text("mobilephone", "Mobile Phone Number")
            },
            text("company", "Company Name"),
            text("jobtitle", "Job Title"),
            text("address", "Street Address"),
            text("city", "City"),
            text("zip", "Postal Code"),
            text("country", "Country/Region"),
            select("lifecyclestage", "Lifecycle Stage", LIFECYCLE),
            select("hs_lead_status", "Lead Status", LEAD_STATUS),
            owner,
            read_only(datetime("lastmodifieddate", "Last Modified Date")),
            read_only(number("num_contacted_notes", "Number of Sales Activities")),
            custom(select("customer_tier", "Customer tier", TIERS)),
            custom(Def {
                property_type: PropertyType::Bool,
                field_type: "booleancheckbox",
                ..text("newsletter_opt_in", "Newsletter opt-in")
            }),
            custom(text("external_customer_number", "External customer number")),
        ],
        ObjectType::Companies => vec![
            text("name", "Company name"),
            text("domain", "Company Domain Name"),
            Def {
                field_type: "phonenumber",
                ..text("phone", "Phone Number")
            },
            text("website", "Website URL"),
            select("industry", "Industry", INDUSTRIES),
            text("city", "City"),
            text("country", "Country/Region"),
            number("numberofemployees", "Number of Employees"),
            number("annualrevenue", "Annual Revenue"),
            owner,
            read_only(datetime("hs_lastmodifieddate", "Last Modified Date")),
            custom(text("vat_id", "VAT ID")),
            custom(text("registration_number", "Registration number")),
        ],
        ObjectType::Deals => vec![
            text("dealname", "Deal Name"),
            number("amount", "Amount"),
            select("dealstage", "Deal Stage", STAGES),
            select("pipeline", "Pipeline", PIPELINES),
            datetime("closedate", "Close Date"),
            select("deal_currency_code", "Currency", CURRENCIES),
            select("dealtype", "Deal Type", DEAL_TYPES),
            text("description", "Deal Description"),
            owner,
            read_only(datetime("hs_lastmodifieddate", "Last Modified Date")),
            custom(text("order_number", "Order number")),
        ],
        ObjectType::Products => vec![
            text("name", "Name"),
            number("price", "Unit price"),
            text("hs_sku", "SKU"),
            text("description", "Description"),
            number("hs_cost_of_goods_sold", "Unit cost"),
            read_only(datetime("hs_lastmodifieddate", "Last Modified Date")),
        ],
        ObjectType::LineItems => vec![
            text("name", "Name"),
            text("hs_product_id", "Product ID"),
            number("quantity", "Quantity"),
            number("price", "Unit price"),
            number("amount", "Net price"),
            number("discount", "Unit discount"),
            number("hs_discount_percentage", "Discount Percentage"),
            text("hs_sku", "SKU"),
            select("hs_line_item_currency_code", "Currency", CURRENCIES),
            custom(number("tax_rate_percent", "Tax rate (%)")),
            read_only(datetime("hs_lastmodifieddate", "Last Modified Date")),
        ],
        ObjectType::Meetings => vec![
            text("hs_meeting_title", "Meeting name"),
            text("hs_meeting_body", "Meeting description"),
            datetime("hs_meeting_start_time", "Start time"),
            datetime("hs_meeting_end_time", "End time"),
            datetime("hs_timestamp", "Activity date"),
            text("hs_meeting_location", "Location"),
            select("hs_meeting_outcome", "Meeting outcome", OUTCOMES),
            owner,
            read_only(datetime("hs_lastmodifieddate", "Last Modified Date")),
        ],
        ObjectType::Calls => vec![
            text("hs_call_title", "Call title"),
            text("hs_call_body", "Call notes"),
            number("hs_call_duration", "Call duration (ms)"),
            select("hs_call_direction", "Call direction", DIRECTIONS),
            datetime("hs_timestamp", "Activity date"),
            owner,
            read_only(datetime("hs_lastmodifieddate", "Last Modified Date")),
        ],
        ObjectType::Emails => vec![
            text("hs_email_subject", "Email subject"),
            text("hs_email_text", "Email body"),
            select("hs_email_direction", "Email direction", EMAIL_DIRECTIONS),
            datetime("hs_timestamp", "Activity date"),
            owner,
            read_only(datetime("hs_lastmodifieddate", "Last Modified Date")),
        ],
    };
    defs.push(read_only(number("hs_object_id", "Record ID")));
    defs.push(datetime(object.created_property(), "Create Date"));
    defs
}

/// Standard and custom properties of every object, and the deal pipelines.
pub fn define_schema(account: &mut Account) {
    let now = Utc::now();
    for object in ObjectType::ALL {
        let properties = schema(object)
            .into_iter()
            .enumerate()
            .map(|(i, def)| Property {
                name: def.name.into(),
                label: def.label.into(),
                property_type: def.property_type,
                field_type: def.field_type.into(),
                group_name: format!("{}information", object.singular()),
                description: String::new(),
                options: def
                    .options
                    .iter()
                    .enumerate()
                    .map(|(order, (value, label))| PropertyOption {
                        label: (*label).into(),
                        value: (*value).into(),
                        display_order: order as i32,
                        hidden: false,
                    })
                    .collect(),
                display_order: i as i32,
                has_unique_value: def.unique,
                hidden: false,
                form_field: !def.read_only,
                hubspot_defined: !def.custom,
                calculated: def.read_only,
                modification_metadata: ModificationMetadata {
                    archivable: def.custom,
                    read_only_definition: !def.custom,
                    read_only_value: def.read_only,
                },
                created_at: now,
                updated_at: now,
            })
            .collect();
        account.properties.insert(object, properties);
    }
    let stage = |(id, label): (&str, &str), order: i32, probability: &str, closed: bool| PipelineStage {
        id: id.into(),
        label: label.into(),
        display_order: order,
        metadata: BTreeMap::from([
            ("probability".into(), probability.into()),
            ("isClosed".into(), closed.to_string()),
        ]),
        archived: false,
    };
    let sales = [
        ("0.2", false),
        ("0.4", false),
        ("0.6", false),
        ("0.8", false),
        ("0.9", false),
        ("1.0", true),
        ("0.0", true),
    ];
    let renewals = [("0.5", false), ("1.0", true), ("0.0", true)];
    account.pipelines = vec![
        Pipeline {
            id: "default".into(),
            label: "Sales Pipeline".into(),
            display_order: 0,
            stages: STAGES[..7]
                .iter()
                .zip(sales)
                .enumerate()
                .map(|(i, (s, (p, c)))| stage(*s, i as i32, p, c))
                .collect(),
            archived: false,
        },
        Pipeline {
            id: "renewals".into(),
            label: "Renewals".into(),
            display_order: 1,
            stages: STAGES[7..]
                .iter()
                .zip(renewals)
                .enumerate()
                .map(|(i, (s, (p, c)))| stage(*s, i as i32, p, c))
                .collect(),
            archived: false,
        },
    ];
}

pub fn owners() -> &'static [(&'static str, &'static str)] {
    OWNERS
}

const COMPANIES: &[(&str, &str, &str, &str)] = &[
    (
        "Nordlicht Logistik GmbH",
        "nordlicht-logistik.de",
        "LOGISTICS_AND_SUPPLY_CHAIN",
        "Germany",
    ),
    (
        "Alpenblick Hotels AG",
        "alpenblick-hotels.ch",
        "HOSPITALITY",
        "Switzerland",
    ),
    ("Rheinwerk Maschinenbau KG", "rheinwerk-mb.de", "MACHINERY", "Germany"),
    (
        "Brightwater Analytics Ltd",
        "brightwater.co.uk",
        "COMPUTER_SOFTWARE",
        "United Kingdom",
    ),
    (
        "Helios Solar BV",
        "heliossolar.nl",
        "RENEWABLES_ENVIRONMENT",
        "Netherlands",
    ),
    ("Kvarn Software AB", "kvarn.se", "COMPUTER_SOFTWARE", "Sweden"),
    (
        "Atlas Freight SAS",
        "atlas-freight.fr",
        "LOGISTICS_AND_SUPPLY_CHAIN",
        "France",
    ),
    (
        "Blue Harbor Foods Inc",
        "blueharborfoods.com",
        "FOOD_PRODUCTION",
        "United States",
    ),
];
const FIRST: &[&str] = &[
    "Anna", "Lukas", "Sofia", "Jonas", "Emma", "Noah", "Lea", "Elias", "Mia", "Felix", "Clara", "Oskar", "Ines",
    "Mateo", "Freya", "Karim",
];
const LAST: &[&str] = &[
    "Schmidt", "Meier", "Rossi", "Novak", "Jensen", "Dubois", "Garcia", "Kowalski", "Lindberg", "Brown", "Hoffmann",
    "Silva",
];
const JOBS: &[&str] = &[
    "Head of Sales",
    "CFO",
    "Operations Manager",
    "IT Director",
    "Purchasing Lead",
    "CEO",
];
const PRODUCTS: &[(&str, &str, &str)] = &[
    ("TND-1001", "Fleet Tracker Pro licence", "49.00"),
    ("TND-1002", "Route Optimiser add-on", "19.50"),
    ("TND-2001", "Onboarding package", "1200.00"),
    ("TND-2002", "Premium support (yearly)", "2400.00"),
    ("TND-3001", "Telematics box", "189.00"),
    ("TND-3002", "Installation per vehicle", "75.00"),
];

/// A small, realistic data set: companies, their people, deals with line items, meetings.
/// Deterministic for an account key, so a reset always gives the same records.
pub fn populate(account: &mut Account) {
    let salt = account.hub_id as usize;
    let start = Utc::now() - Duration::days(30);
    // Three hours apart: some 240 records before the history reaches now, which reads
    // "changed since the last record" rely on.
    let at = |step: i64| start + Duration::hours(step * 3);
    let mut step = 0;
    let mut insert = |account: &mut Account, object: ObjectType, properties: Vec<(&str, String)>| -> u64 {
        step += 1;
        let time = at(step);
        let id = account.allocate_id();
        let mut map: BTreeMap<String, String> = properties.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        map.insert("hs_object_id".into(), id.to_string());
        map.insert(object.created_property().into(), iso(time));
        map.insert(object.modified_property().into(), iso(time));
        account.put_record(
            object,
            Record {
                id,
                properties: map,
                created_at: time,
                updated_at: time,
                archived_at: None,
            },
        );
        id
    };
    let owner = |i: usize| OWNERS[(i + salt) % OWNERS.len()].0.to_string();

    let products: Vec<u64> = PRODUCTS
        .iter()
        .map(|(sku, name, price)| {
            insert(
                account,
                ObjectType::Products,
                vec![
                    ("name", (*name).into()),
                    ("hs_sku", (*sku).into()),
                    ("price", (*price).into()),
                ],
            )
        })
        .collect();
    let mut contacts = Vec::new();
    for (c, (name, domain, industry, country)) in COMPANIES.iter().enumerate() {
        let company = insert(
            account,
            ObjectType::Companies,
            vec![
                ("name", (*name).into()),
                ("domain", (*domain).into()),
                ("industry", (*industry).into()),
                ("country", (*country).into()),
                ("numberofemployees", ((c + 1) * 37).to_string()),
                ("hubspot_owner_id", owner(c)),
                ("vat_id", format!("EU{:09}", 100_000_000 + c * 7_919 + salt % 1000)),
            ],
        );
        for p in 0..3 {
            let i = c * 3 + p;
            let first = FIRST[(i + salt) % FIRST.len()];
            let last = LAST[(i * 5 + salt) % LAST.len()];
            let email = format!("{}.{}@{domain}", first.to_lowercase(), last.to_lowercase());
            // Phone numbers as people type them, not normalised.
            let phone = match i % 3 {
                0 => format!("+49 30 {:07}", 1_000_000 + i * 4_321),
                1 => format!("(0{}) {} {}", 40 + i, 555, 1000 + i),
                _ => format!("+44 20 7946 {:04}", i * 37 % 10_000),
            };
            let contact = insert(
                account,
                ObjectType::Contacts,
                vec![
                    ("email", email),
                    ("firstname", first.into()),
                    ("lastname", last.into()),
                    ("phone", phone),
                    ("company", (*name).into()),
                    ("jobtitle", JOBS[i % JOBS.len()].into()),
                    ("country", (*country).into()),
                    ("lifecyclestage", ["lead", "opportunity", "customer"][i % 3].into()),
                    ("customer_tier", TIERS[i % TIERS.len()].0.into()),
                    ("hubspot_owner_id", owner(i)),
                ],
            );
            associate(
                account,
                (ObjectType::Contacts, contact),
                (ObjectType::Companies, company),
            );
            contacts.push((contact, company));
        }
        let stage = STAGES[(c * 2) % 7].0;
        let currency = if *country == "United States" {
            "USD"
        } else if *country == "United Kingdom" {
            "GBP"
        } else {
            "EUR"
        };
        let deal = insert(
            account,
            ObjectType::Deals,
            vec![
                (
                    "dealname",
                    format!("{} – fleet rollout", name.split_whitespace().next().unwrap_or(name)),
                ),
                ("pipeline", "default".into()),
                ("dealstage", stage.into()),
                ("deal_currency_code", currency.into()),
                ("closedate", iso(Utc::now() + Duration::days(14 + c as i64 * 9))),
                ("dealtype", "newbusiness".into()),
                ("hubspot_owner_id", owner(c)),
                ("order_number", format!("SO-{}", 24_000 + c)),
            ],
        );
        associate(account, (ObjectType::Deals, deal), (ObjectType::Companies, company));
        associate(
            account,
            (ObjectType::Deals, deal),
            (ObjectType::Contacts, contacts[c * 3].0),
        );
        let mut total = 0.0;
        for (n, product) in products.iter().enumerate().filter(|(n, _)| (n + c) % 3 == 0) {
            let (sku, product_name, price) = PRODUCTS[n];
            let quantity = 2 + (c + n) % 9;
            let discount = [0, 5, 10][(c + n) % 3];
            let amount = quantity as f64 * price.parse::<f64>().unwrap_or(0.0) * (1.0 - f64::from(discount) / 100.0);
            total += amount;
            let item = insert(
                account,
                ObjectType::LineItems,
                vec![
                    ("name", product_name.into()),
                    ("hs_product_id", product.to_string()),
                    ("hs_sku", sku.into()),
                    ("quantity", quantity.to_string()),
                    ("price", price.into()),
                    ("hs_discount_percentage", discount.to_string()),
                    ("amount", format!("{amount:.2}")),
                    ("hs_line_item_currency_code", currency.into()),
                    ("tax_rate_percent", if currency == "EUR" { "19" } else { "20" }.into()),
                ],
            );
            associate(account, (ObjectType::LineItems, item), (ObjectType::Deals, deal));
        }
        if let Some(record) = account.records_mut(ObjectType::Deals).get_mut(&deal) {
            record.properties.insert("amount".into(), format!("{total:.2}"));
        }
        if c % 2 == 0 {
            let (contact, _) = contacts[c * 3 + 1];
            let begins = Utc::now() + Duration::days(c as i64 + 1) + Duration::hours(9);
            let meeting = insert(
                account,
                ObjectType::Meetings,
                vec![
                    ("hs_meeting_title", format!("Demo with {name}")),
                    ("hs_meeting_start_time", iso(begins)),
                    ("hs_meeting_end_time", iso(begins + Duration::minutes(45))),
                    ("hs_timestamp", iso(begins)),
                    ("hs_meeting_location", "Video call".into()),
                    ("hs_meeting_outcome", "SCHEDULED".into()),
                    ("hubspot_owner_id", owner(c)),
                ],
            );
            associate(
                account,
                (ObjectType::Meetings, meeting),
                (ObjectType::Contacts, contact),
            );
            associate(account, (ObjectType::Meetings, meeting), (ObjectType::Deals, deal));
        }
    }
    // Touch-points: a few logged emails and calls per contact, none for some.
    for (i, (contact, _)) in contacts.iter().enumerate() {
        let when = |n: usize| iso(Utc::now() - Duration::days((i * 3 + n) as i64 + 1));
        for n in 0..(i + salt) % 4 {
            let email = insert(
                account,
                ObjectType::Emails,
                vec![
                    ("hs_email_subject", format!("Follow-up {}", n + 1)),
                    ("hs_email_direction", ["EMAIL", "INCOMING_EMAIL"][n % 2].into()),
                    ("hs_timestamp", when(n)),
                    ("hubspot_owner_id", owner(i)),
                ],
            );
            associate(account, (ObjectType::Emails, email), (ObjectType::Contacts, *contact));
        }
        for n in 0..(i * 2 + salt) % 3 {
            let call = insert(
                account,
                ObjectType::Calls,
                vec![
                    ("hs_call_title", format!("Call {}", n + 1)),
                    ("hs_call_direction", ["OUTBOUND", "INBOUND"][n % 2].into()),
                    ("hs_call_duration", ((n + 1) * 180_000).to_string()),
                    ("hs_timestamp", when(n)),
                    ("hubspot_owner_id", owner(i)),
                ],
            );
            associate(account, (ObjectType::Calls, call), (ObjectType::Contacts, *contact));
        }
    }
    debug_assert!(at(step) < Utc::now(), "the seed's history runs into the future");
}

/// Associates two records both ways with HubSpot's default association types.
pub fn associate(account: &mut Account, from: (ObjectType, u64), to: (ObjectType, u64)) {
    for (a, b) in [(from, to), (to, from)] {
        if let Some(type_id) = default_association_type(a.0, b.0) {
            let association = Association {
                from: a,
                to: b,
                type_id,
            };
            if !account.associations.contains(&association) {
                account.associations.push(association);
            }
        }
    }
}

/// Adds `count` generated contacts quickly (no validation, no events), for benchmarks and tests,
/// created and modified as `timestamps` says. The same account and count always give the same
/// records.
pub fn generate_contacts(account: &mut Account, count: usize, timestamps: crate::generate::Timestamps) {
    let now = account.clock.tick();
    let base = account.next_id;
    let times = crate::generate::times(
        timestamps,
        count,
        now,
        account.clock.granularity_ms,
        crate::salesforce::seed::seed_of(&account.key, base),
    );
    for (i, (created, modified)) in times.into_iter().enumerate() {
        let id = base + i as u64;
        let first = FIRST[i % FIRST.len()];
        let last = LAST[(i / FIRST.len()) % LAST.len()];
        let properties = BTreeMap::from([
            (
                "email".to_string(),
                format!(
                    "{}.{}.{id}@generated.example.com",
                    first.to_lowercase(),
                    last.to_lowercase()
                ),
            ),
            ("firstname".to_string(), first.to_string()),
            ("lastname".to_string(), last.to_string()),
            ("phone".to_string(), format!("+4930{:08}", id % 100_000_000)),
            ("hs_object_id".to_string(), id.to_string()),
            ("createdate".to_string(), iso(created)),
            ("lastmodifieddate".to_string(), iso(modified)),
        ]);
        account.put_record(
            ObjectType::Contacts,
            Record {
                id,
                properties,
                created_at: created,
                updated_at: modified,
                archived_at: None,
            },
        );
    }
    account.next_id = base + count as u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_data_is_consistent_and_deterministic() {
        let build = || {
            let mut account = Account::empty("acct-1");
            define_schema(&mut account);
            populate(&mut account);
            account
        };
        let one = build();
        let two = build();
        assert_eq!(one.records(ObjectType::Contacts).len(), 24);
        assert_eq!(one.records(ObjectType::Companies).len(), 8);
        assert_eq!(one.records(ObjectType::Deals).len(), 8);
        assert!(!one.records(ObjectType::LineItems).is_empty() && !one.records(ObjectType::Meetings).is_empty());
        let emails = |a: &Account| {
            a.records(ObjectType::Contacts)
                .values()
                .map(|r| r.properties["email"].clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(emails(&one), emails(&two));
        let mut unique = emails(&one);
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 24, "emails are unique");
        // Every stored value passes the account's own validation.
        for object in ObjectType::ALL {
            for record in one.records(object).values() {
                for name in record.properties.keys() {
                    assert!(
                        one.property(object, name).is_some(),
                        "{} has no property {name}",
                        object.name()
                    );
                }
            }
        }
    }

    #[test]
    fn generating_contacts_is_fast_and_unique() {
        let mut account = Account::empty("big");
        define_schema(&mut account);
        let started = std::time::Instant::now();
        generate_contacts(&mut account, 100_000, crate::generate::Timestamps::Spread);
        assert_eq!(account.records(ObjectType::Contacts).len(), 100_000);
        assert!(started.elapsed().as_secs() < 10);
    }
}
