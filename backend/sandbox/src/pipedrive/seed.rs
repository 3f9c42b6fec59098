//! A Pipedrive account's field definitions, pipeline and sample data, and generated persons.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use super::model::{Account, Entity, FieldDef, FieldOption, Item, Stage};

const FIRST: &[&str] = &[
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Frances", "Dennis",
];
const LAST: &[&str] = &[
    "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson", "Allen", "Ritchie",
];

/// Every new Pipedrive account has these person and organization labels.
pub const LABELS: &[(u64, &str)] = &[(1, "Customer"), (2, "Hot lead"), (3, "Warm lead"), (4, "Cold lead")];

fn standard(id: u64, key: &str, name: &str, field_type: &'static str) -> FieldDef {
    FieldDef {
        id,
        key: key.to_string(),
        name: name.to_string(),
        field_type,
        options: Vec::new(),
        edit_flag: false,
        mandatory: false,
    }
}

fn with_options(mut def: FieldDef, options: &[(u64, &str)]) -> FieldDef {
    def.options = options
        .iter()
        .map(|(id, label)| FieldOption {
            id: *id,
            label: (*label).to_string(),
        })
        .collect();
    def
}

fn mandatory(mut def: FieldDef) -> FieldDef {
    def.mandatory = true;
    def
}

pub fn define_schema(account: &mut Account) {
    let times = |base: u64| {
        [
            standard(base + 90, "add_time", "Person created", "date"),
            standard(base + 91, "update_time", "Update time", "date"),
        ]
    };
    let mut persons = vec![
        mandatory(standard(9001, "name", "Name", "varchar")),
        standard(9002, "first_name", "First name", "varchar"),
        standard(9003, "last_name", "Last name", "varchar"),
        standard(9004, "email", "Email", "varchar"),
        standard(9005, "phone", "Phone", "phone"),
        standard(9006, "org_id", "Organization", "org"),
        standard(9007, "owner_id", "Owner", "user"),
        with_options(standard(9008, "label_ids", "Labels", "set"), LABELS),
        standard(9009, "visible_to", "Visible to", "visible_to"),
    ];
    persons.extend(times(9000));
    let mut organizations = vec![
        mandatory(standard(9101, "name", "Name", "varchar")),
        standard(9102, "owner_id", "Owner", "user"),
        standard(9103, "address", "Address", "address"),
        with_options(standard(9104, "label_ids", "Labels", "set"), LABELS),
    ];
    organizations.extend(times(9100));
    let stages: Vec<(u64, &str)> = STAGES.iter().map(|(id, name, _)| (*id, *name)).collect();
    let mut deals = vec![
        mandatory(standard(9201, "title", "Title", "varchar")),
        standard(9202, "value", "Value", "monetary"),
        standard(9203, "currency", "Currency", "varchar"),
        with_options(
            standard(9204, "status", "Status", "status"),
            &[(1, "open"), (2, "won"), (3, "lost"), (4, "deleted")],
        ),
        with_options(standard(9205, "stage_id", "Stage", "stage"), &stages),
        standard(9206, "pipeline_id", "Pipeline", "double"),
        standard(9207, "owner_id", "Owner", "user"),
        standard(9208, "person_id", "Contact person", "people"),
        standard(9209, "org_id", "Organization", "org"),
        standard(9210, "expected_close_date", "Expected close date", "date"),
        standard(9211, "probability", "Probability", "double"),
        standard(9212, "lost_reason", "Lost reason", "varchar"),
        standard(9213, "won_time", "Won time", "date"),
        standard(9214, "close_time", "Deal closed on", "date"),
    ];
    deals.extend(times(9200));
    let mut products = vec![
        mandatory(standard(9301, "name", "Name", "varchar")),
        standard(9302, "code", "Product code", "varchar"),
        standard(9303, "description", "Description", "text"),
        standard(9304, "unit", "Unit", "varchar"),
        standard(9305, "tax", "Tax", "double"),
        standard(9306, "prices", "Price", "monetary"),
        standard(9307, "owner_id", "Owner", "user"),
    ];
    products.extend(times(9300));
    let mut activities = vec![
        mandatory(standard(9401, "subject", "Subject", "varchar")),
        with_options(
            standard(9402, "type", "Type", "enum"),
            &[
                (1, "call"),
                (2, "meeting"),
                (3, "task"),
                (4, "deadline"),
                (5, "email"),
                (6, "lunch"),
            ],
        ),
        standard(9403, "due_date", "Due date", "date"),
        standard(9404, "due_time", "Due time", "time"),
        standard(9405, "duration", "Duration", "time"),
        standard(9406, "done", "Done", "enum"),
        standard(9407, "person_id", "Contact person", "people"),
        standard(9408, "org_id", "Organization", "org"),
        standard(9409, "deal_id", "Deal", "double"),
        standard(9410, "owner_id", "Assigned to user", "user"),
        standard(9411, "note", "Note", "text"),
        standard(9412, "location", "Location", "varchar"),
    ];
    activities.extend(times(9400));
    account.fields.insert(Entity::Persons, persons);
    account.fields.insert(Entity::Organizations, organizations);
    account.fields.insert(Entity::Deals, deals);
    account.fields.insert(Entity::Products, products);
    account.fields.insert(Entity::Activities, activities);
    account.add_custom_field(
        Entity::Persons,
        "Lead source",
        "enum",
        &["Web", "Referral", "Event", "Partner"],
    );
    account.add_custom_field(Entity::Persons, "Birthday", "date", &[]);
    account.add_custom_field(
        Entity::Organizations,
        "Industry",
        "enum",
        &["Software", "Retail", "Finance", "Health"],
    );
    account.add_custom_field(Entity::Organizations, "Employees", "double", &[]);
    account.add_custom_field(
        Entity::Deals,
        "Source channel",
        "enum",
        &["Inbound", "Outbound", "Partner"],
    );
    account.stages = STAGES
        .iter()
        .enumerate()
        .map(|(i, (id, name, probability))| Stage {
            id: *id,
            name: (*name).to_string(),
            pipeline_id: 1,
            order_nr: i as u64 + 1,
            deal_probability: *probability,
        })
        .collect();
}

/// The default pipeline's stages: (id, name, deal probability).
pub const STAGES: &[(u64, &str, u64)] = &[
    (1, "Qualified", 10),
    (2, "Contact Made", 20),
    (3, "Demo Scheduled", 40),
    (4, "Proposal Made", 60),
    (5, "Negotiations Started", 80),
];

fn contact_list(value: &str, label: &str) -> Value {
    json!([{ "value": value, "primary": true, "label": label }])
}

fn put(account: &mut Account, entity: Entity, at: DateTime<Utc>, fields: Value) -> u64 {
    let id = account.take_id();
    let Value::Object(fields) = fields else { return id };
    account.table_mut(entity).insert(
        id,
        Item {
            id,
            add_time: at,
            update_time: at,
            deleted_at: None,
            fields,
            custom: Default::default(),
        },
    );
    id
}

pub fn populate(account: &mut Account) {
    let now = account.clock.tick();
    let owner = account.user_id;
    let orgs = [
        "Initech",
        "Globex",
        "Umbrella",
        "Hooli",
        "Stark Industries",
        "Wayne Enterprises",
    ];
    let org_ids: Vec<u64> = orgs
        .iter()
        .enumerate()
        .map(|(i, name)| {
            put(
                account,
                Entity::Organizations,
                now - Duration::days(60 - i as i64),
                json!({ "name": name, "owner_id": owner, "address": null, "label_ids": [], "visible_to": 3 }),
            )
        })
        .collect();
    let mut person_ids = Vec::new();
    for i in 0..20usize {
        let (first, last) = (FIRST[i % FIRST.len()], LAST[(i * 3) % LAST.len()]);
        let id = put(
            account,
            Entity::Persons,
            now - Duration::days(40 - i as i64),
            json!({
                "name": format!("{first} {last}"),
                "first_name": first,
                "last_name": last,
                "emails": contact_list(&format!("{}.{}{i}@example.com", first.to_lowercase(), last.to_lowercase()), "work"),
                "phones": contact_list(&format!("+1555010{i:04}"), "work"),
                "org_id": org_ids[i % org_ids.len()],
                "owner_id": owner,
                "label_ids": if i % 4 == 0 { json!([1]) } else { json!([]) },
                "visible_to": 3,
            }),
        );
        person_ids.push(id);
    }
    let products = [
        ("Seat licence", "SEAT", 49.0),
        ("Onboarding", "ONB", 1500.0),
        ("Support plan", "SUP", 990.0),
    ];
    let product_ids: Vec<u64> = products
        .iter()
        .map(|(name, code, price)| {
            put(
                account,
                Entity::Products,
                now - Duration::days(90),
                json!({
                    "name": name, "code": code, "description": null, "unit": "each", "tax": 0,
                    "prices": [{ "price": price, "currency": "USD", "cost": 0, "overhead_cost": 0 }],
                    "owner_id": owner, "is_linkable": true, "visible_to": 3,
                }),
            )
        })
        .collect();
    for i in 0..10usize {
        let stage = STAGES[i % STAGES.len()];
        let status = match i {
            7 => "won",
            8 => "lost",
            _ => "open",
        };
        let deal = put(
            account,
            Entity::Deals,
            now - Duration::days(20 - i as i64),
            json!({
                "title": format!("{} deal {}", orgs[i % orgs.len()], i + 1),
                "value": 1000 * (i + 1),
                "currency": "USD",
                "status": status,
                "stage_id": stage.0,
                "pipeline_id": 1,
                "owner_id": owner,
                "person_id": person_ids[i],
                "org_id": org_ids[i % org_ids.len()],
                "expected_close_date": (now + Duration::days(30)).format("%Y-%m-%d").to_string(),
                "probability": stage.2,
                "lost_reason": if status == "lost" { json!("Price") } else { Value::Null },
                "won_time": null,
                "close_time": null,
                "visible_to": 3,
            }),
        );
        if i < 4 {
            let product = product_ids[i % product_ids.len()];
            let attachment = account.take_id();
            account.deal_products.insert(
                deal,
                vec![json!({
                    "id": attachment, "deal_id": deal, "product_id": product, "name": products[i % products.len()].0,
                    "item_price": products[i % products.len()].2, "quantity": 1 + i, "discount": 0,
                    "discount_type": "percentage", "tax": 0, "tax_method": "inclusive", "is_enabled": true,
                    "sum": products[i % products.len()].2 * (1 + i) as f64, "currency": "USD", "comments": null,
                    "add_time": super::model::rfc3339(now), "update_time": super::model::rfc3339(now),
                })],
            );
        }
    }
    for i in 0..6usize {
        let due = now + Duration::days(i as i64 - 2);
        put(
            account,
            Entity::Activities,
            now - Duration::days(5),
            json!({
                "subject": format!("{} with {}", if i % 2 == 0 { "Demo" } else { "Call" }, FIRST[i]),
                "type": if i % 2 == 0 { "meeting" } else { "call" },
                "due_date": due.format("%Y-%m-%d").to_string(),
                "due_time": "15:00",
                "duration": "00:30",
                "done": i < 2,
                "person_id": person_ids[i],
                "org_id": org_ids[i % org_ids.len()],
                "deal_id": null,
                "owner_id": owner,
                "note": null,
                "location": null,
                "participants": [{ "person_id": person_ids[i], "primary": true }],
            }),
        );
    }
}

/// Adds `count` persons with realistic (or one shared) modification times.
pub fn generate_persons(account: &mut Account, count: usize, timestamps: crate::generate::Timestamps) {
    let now = account.clock.tick();
    let base = account.next_id;
    let times = crate::generate::times(
        timestamps,
        count,
        now,
        account.clock.granularity_ms,
        crate::salesforce::seed::seed_of(&account.key, base),
    );
    let owner = account.user_id;
    let table = account.items.entry(Entity::Persons).or_default();
    for (i, (created, modified)) in times.into_iter().enumerate() {
        let id = base + i as u64;
        let (first, last) = (FIRST[i % FIRST.len()], LAST[(i / FIRST.len()) % LAST.len()]);
        let mut fields = Map::new();
        fields.insert("name".into(), json!(format!("{first} {last}")));
        fields.insert("first_name".into(), json!(first));
        fields.insert("last_name".into(), json!(last));
        fields.insert(
            "emails".into(),
            contact_list(
                &format!(
                    "{}.{}.{id}@generated.example.com",
                    first.to_lowercase(),
                    last.to_lowercase()
                ),
                "work",
            ),
        );
        fields.insert(
            "phones".into(),
            contact_list(&format!("+4930{:08}", id % 100_000_000), "work"),
        );
        fields.insert("owner_id".into(), json!(owner));
        fields.insert("org_id".into(), Value::Null);
        fields.insert("label_ids".into(), json!([]));
        fields.insert("visible_to".into(), json!(3));
        table.insert(
            id,
            Item {
                id,
                add_time: created,
                update_time: modified,
                deleted_at: None,
                fields,
                custom: Default::default(),
            },
        );
    }
    account.next_id = base + count as u64;
}
