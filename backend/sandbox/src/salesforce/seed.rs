//! What a new org contains: its users, the standard price book with products and prices in
//! three currencies, a handful of companies with their people, opportunities with line items,
//! meetings, and one contact in the recycle bin. Deterministic for an org key, so that a reset
//! always gives the same records (and ids). Plus a generator for large contact sets.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::model::{Org, Record, Val};
use super::ops::{Tx, parse_fields};
use super::schema::{SObject, STAGES};

const COMPANIES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "Nordlicht Logistik GmbH",
        "nordlicht-logistik.de",
        "Transportation",
        "Hamburg",
        "Germany",
    ),
    (
        "Alpenblick Hotels AG",
        "alpenblick-hotels.ch",
        "Hospitality",
        "Luzern",
        "Switzerland",
    ),
    (
        "Rheinwerk Maschinenbau KG",
        "rheinwerk-mb.de",
        "Machinery",
        "Düsseldorf",
        "Germany",
    ),
    (
        "Brightwater Analytics Ltd",
        "brightwater.co.uk",
        "Technology",
        "London",
        "United Kingdom",
    ),
    ("Helios Solar BV", "heliossolar.nl", "Energy", "Utrecht", "Netherlands"),
    ("Kvarn Software AB", "kvarn.se", "Technology", "Göteborg", "Sweden"),
    ("Atlas Freight SAS", "atlas-freight.fr", "Shipping", "Lyon", "France"),
    (
        "Blue Harbor Foods Inc",
        "blueharborfoods.com",
        "Food & Beverage",
        "Portland",
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
const TITLES: &[&str] = &[
    "Head of Sales",
    "CFO",
    "Operations Manager",
    "IT Director",
    "Purchasing Lead",
    "CEO",
];
/// Code, name, family, list price in EUR.
const PRODUCTS: &[(&str, &str, &str, f64)] = &[
    ("TND-1001", "Fleet Tracker Pro licence", "Software", 49.0),
    ("TND-1002", "Route Optimiser add-on", "Software", 19.5),
    ("TND-2001", "Onboarding package", "Services", 1200.0),
    ("TND-2002", "Premium support (yearly)", "Services", 2400.0),
    ("TND-3001", "Telematics box", "Hardware", 189.0),
    ("TND-3002", "Installation per vehicle", "Services", 75.0),
];
/// Currencies with a price book entry per product, and their rate from EUR.
const PRICED_IN: &[(&str, f64)] = &[("EUR", 1.0), ("USD", 1.08), ("GBP", 0.86)];
/// The sales team: first name, last name, title.
const REPS: &[(&str, &str, &str)] = &[
    ("Mia", "Lindqvist", "Account Executive"),
    ("Jonas", "Weber", "Account Executive"),
    ("Priya", "Nair", "Sales Manager"),
];

fn currency_of(country: &str) -> &'static str {
    match country {
        "United States" => "USD",
        "United Kingdom" => "GBP",
        _ => "EUR",
    }
}

struct Seeder<'a> {
    org: &'a mut Org,
    admin: String,
    start: DateTime<Utc>,
    step: i64,
    /// Records whose times are set back once everything exists.
    stamped: Vec<(SObject, u64, DateTime<Utc>)>,
}

impl Seeder<'_> {
    fn at(&mut self) -> DateTime<Utc> {
        self.step += 1;
        self.start + Duration::hours(self.step * 2)
    }

    fn add(&mut self, object: SObject, body: Value) -> Option<(u64, String)> {
        let changes = parse_fields(object, body.as_object()?, &[]).ok()?;
        let mut tx = Tx::default();
        match self.org.insert(&mut tx, object, &changes, &self.admin) {
            Ok(seq) => {
                let at = self.at();
                self.stamped.push((object, seq, at));
                Some((seq, self.org.id_of(object, seq)))
            }
            Err(error) => {
                tracing::warn!(%error, object = object.name(), "sandbox seed record rejected");
                None
            }
        }
    }

    fn user(&mut self, first: &str, last: &str, username: &str, title: &str) -> u64 {
        let def = SObject::User.def();
        let seq = self.org.allocate();
        let mut record = Record::new(seq);
        let text = |s: &str| Some(Val::Str(s.to_string()));
        record.set(def.idx("Username"), text(username));
        record.set(def.idx("FirstName"), text(first));
        record.set(def.idx("LastName"), text(last));
        record.set(def.idx("Name"), text(&format!("{first} {last}")));
        record.set(def.idx("Email"), text(username));
        let alias: String = first.chars().take(1).chain(last.chars().take(4)).collect();
        record.set(def.idx("Alias"), text(&alias.to_lowercase()));
        record.set(def.idx("Title"), text(title));
        record.set(def.idx("IsActive"), Some(Val::Bool(true)));
        record.set(def.idx("TimeZoneSidKey"), text("Europe/Berlin"));
        record.set(def.idx("LanguageLocaleKey"), text("en_US"));
        self.org.table_mut(SObject::User).put(record);
        let at = self.start;
        self.stamped.push((SObject::User, seq, at));
        seq
    }

    /// Sets the audit times of every seeded record to its place in the org's history.
    fn backdate(&mut self) {
        // Every seeded record is in the past, or reads "changed since the last record" miss
        // what is made now.
        debug_assert!(
            self.stamped
                .iter()
                .all(|(_, _, at)| *at + Duration::hours(2) < Utc::now()),
            "the seed's history runs into the future: start earlier or step less"
        );
        let admin = self.org.admin_id();
        for (object, seq, at) in std::mem::take(&mut self.stamped) {
            let def = object.def();
            let Some(mut record) = self.org.record(object, seq).cloned() else {
                continue;
            };
            for field in ["CreatedDate", "LastModifiedDate", "SystemModstamp"] {
                record.set(def.idx(field), Some(Val::DateTime(at)));
            }
            if record.deleted_at.is_some() {
                record.deleted_at = Some(at + Duration::hours(2));
                record.set(def.idx("SystemModstamp"), Some(Val::DateTime(at + Duration::hours(2))));
            }
            for field in ["CreatedById", "LastModifiedById"] {
                record.set(def.idx(field), Some(Val::Str(admin.clone())));
            }
            self.org.table_mut(object).put(record);
        }
    }
}

/// Fills an empty org with its sample data.
pub fn populate(org: &mut Org) {
    let salt = super::model::org_hash(&org.key) as usize;
    let key = org.key.clone();
    let mut seed = Seeder {
        org,
        admin: String::new(),
        start: Utc::now() - Duration::days(20),
        step: 0,
        stamped: Vec::new(),
    };
    seed.org.created_at = seed.start;
    let admin = seed.user(
        "Sandbox",
        "Admin",
        &format!("admin@{key}.sandbox.salesforce.test"),
        "System Administrator",
    );
    seed.org.admin_user = admin;
    seed.admin = seed.org.admin_id();
    let reps: Vec<String> = REPS
        .iter()
        .map(|(first, last, title)| {
            let username = format!(
                "{}.{}@{key}.sandbox.salesforce.test",
                first.to_lowercase(),
                last.to_lowercase()
            );
            let seq = seed.user(first, last, &username, title);
            seed.org.id_of(SObject::User, seq)
        })
        .collect();
    let owner = |i: usize| reps[(i + salt) % reps.len()].clone();

    // The standard price book: system-created, so written directly.
    let pricebook = {
        let def = SObject::Pricebook2.def();
        let seq = seed.org.allocate();
        let mut record = Record::new(seq);
        record.set(def.idx("Name"), Some(Val::Str("Standard Price Book".into())));
        record.set(def.idx("IsActive"), Some(Val::Bool(true)));
        record.set(def.idx("IsStandard"), Some(Val::Bool(true)));
        seed.org.table_mut(SObject::Pricebook2).put(record);
        let at = seed.start;
        seed.stamped.push((SObject::Pricebook2, seq, at));
        seed.org.id_of(SObject::Pricebook2, seq)
    };
    let mut products = Vec::new();
    for (code, name, family, price) in PRODUCTS {
        let Some((_, product)) = seed.add(
            SObject::Product2,
            json!({ "Name": name, "ProductCode": code, "Family": family, "IsActive": true }),
        ) else {
            continue;
        };
        for (currency, rate) in PRICED_IN {
            seed.add(
                SObject::PricebookEntry,
                json!({
                    "Pricebook2Id": pricebook,
                    "Product2Id": product,
                    "UnitPrice": (price * rate * 100.0).round() / 100.0,
                    "IsActive": true,
                    "CurrencyIsoCode": currency,
                }),
            );
        }
        products.push((product, *price));
    }

    for (c, (name, domain, industry, city, country)) in COMPANIES.iter().enumerate() {
        let currency = currency_of(country);
        let Some((_, account)) = seed.add(
            SObject::Account,
            json!({
                "Name": name,
                "Type": if c % 3 == 0 { "Prospect" } else { "Customer - Direct" },
                "Industry": industry,
                "Website": format!("https://www.{domain}"),
                "Phone": format!("+49 40 {:07}", 3_000_000 + c * 1_234),
                "BillingCity": city,
                "BillingCountry": country,
                "NumberOfEmployees": (c + 1) * 37,
                "AnnualRevenue": ((c + 2) * 1_250_000) as f64,
                "OwnerId": owner(c),
                "CurrencyIsoCode": currency,
                "VAT_Id__c": format!("EU{:09}", 100_000_000 + c * 7_919 + salt % 1000),
                "Customer_Tier__c": (["Gold", "Silver", "Bronze"][(c + salt) % 3]),
            }),
        ) else {
            continue;
        };
        let mut people = Vec::new();
        for p in 0..3 {
            let i = c * 3 + p;
            let first = FIRST[(i + salt) % FIRST.len()];
            let last = LAST[(i * 5 + salt) % LAST.len()];
            // Phone numbers as people type them, not normalised.
            let phone = match i % 3 {
                0 => format!("+49 30 {:07}", 1_000_000 + i * 4_321),
                1 => format!("(0{}) {} {}", 40 + i, 555, 1000 + i),
                _ => format!("+44 20 7946 {:04}", i * 37 % 10_000),
            };
            // Two contacts share a legacy id: an upsert on Legacy_Id__c = LEG-SHARED answers 300.
            let legacy = if i == 4 || i == 5 {
                "LEG-SHARED".to_string()
            } else {
                format!("LEG-{:04}", 1000 + i)
            };
            if let Some((_, contact)) = seed.add(
                SObject::Contact,
                json!({
                    "Salutation": if i % 2 == 0 { "Ms." } else { "Mr." },
                    "FirstName": first,
                    "LastName": last,
                    "Email": format!("{}.{}@{domain}", first.to_lowercase(), last.to_lowercase()),
                    "Phone": phone,
                    "Title": TITLES[i % TITLES.len()],
                    "AccountId": account,
                    "MailingCity": city,
                    "MailingCountry": country,
                    "LeadSource": (["Web", "Partner Referral", "Phone Inquiry"][i % 3]),
                    "OwnerId": owner(i),
                    "CurrencyIsoCode": currency,
                    "Legacy_Id__c": legacy,
                    "Newsletter_Opt_In__c": i % 4 == 0,
                }),
            ) {
                people.push(contact);
            }
        }
        let stage = STAGES[(c * 2) % STAGES.len()].0;
        let close = (Utc::now() + Duration::days(14 + c as i64 * 9)).date_naive();
        let short = name.split_whitespace().next().unwrap_or(name);
        let Some((_, opportunity)) = seed.add(
            SObject::Opportunity,
            json!({
                "Name": format!("{short} – fleet rollout"),
                "AccountId": account,
                "StageName": stage,
                "CloseDate": close.format("%Y-%m-%d").to_string(),
                "Type": "New Customer",
                "LeadSource": "Partner Referral",
                "OwnerId": owner(c),
                "CurrencyIsoCode": currency,
                "Order_Number__c": format!("SO-{}", 24_000 + c),
            }),
        ) else {
            continue;
        };
        let rate = PRICED_IN
            .iter()
            .find(|(code, _)| *code == currency)
            .map_or(1.0, |(_, r)| *r);
        for (n, (product, price)) in products.iter().enumerate().filter(|(n, _)| (n + c) % 3 == 0) {
            seed.add(
                SObject::OpportunityLineItem,
                json!({
                    "OpportunityId": opportunity,
                    "Product2Id": product,
                    "Quantity": 2 + (c + n) % 9,
                    "UnitPrice": (price * rate * 100.0).round() / 100.0,
                    "Discount": ([0, 5, 10][(c + n) % 3]),
                }),
            );
        }
        if c % 2 == 0
            && let Some(who) = people.get(1)
        {
            let begins = (Utc::now() + Duration::days(c as i64 + 1)).date_naive();
            seed.add(
                SObject::Event,
                json!({
                    "Subject": format!("Demo with {name}"),
                    "StartDateTime": format!("{}T09:00:00.000+0000", begins.format("%Y-%m-%d")),
                    "DurationInMinutes": 45,
                    "WhoId": who,
                    "WhatId": opportunity,
                    "Location": "Video call",
                    "OwnerId": owner(c),
                }),
            );
        }
        // Touch-points: logged emails and calls on the account's people, none on some.
        for (p, who) in people.iter().enumerate() {
            let i = c * 3 + p;
            for n in 0..(i + 1) % 4 {
                seed.add(
                    SObject::Task,
                    json!({
                        "Subject": format!("Email: Follow-up {}", n + 1),
                        "TaskSubtype": "Email",
                        "Status": "Completed",
                        "ActivityDate": (Utc::now() - Duration::days((i + n) as i64 + 1)).format("%Y-%m-%d").to_string(),
                        "WhoId": who,
                        "OwnerId": owner(c),
                    }),
                );
            }
            for n in 0..(i * 2 + 1) % 3 {
                seed.add(
                    SObject::Task,
                    json!({
                        "Subject": "Call",
                        "TaskSubtype": "Call",
                        "Status": "Completed",
                        "CallType": (["Outbound", "Inbound"][n % 2]),
                        "CallDurationInSeconds": (n + 1) * 180,
                        "WhoId": who,
                        "OwnerId": owner(c),
                    }),
                );
            }
            // A to-do is no touch-point.
            if i % 5 == 0 {
                seed.add(
                    SObject::Task,
                    json!({ "Subject": "Send Letter/Quote", "TaskSubtype": "Task", "WhoId": who, "OwnerId": owner(c) }),
                );
            }
        }
        if c == 0 {
            // Someone who left: in the recycle bin, for queryAll and getDeleted.
            if let Some((seq, _)) = seed.add(
                SObject::Contact,
                json!({ "FirstName": "Former", "LastName": "Employee", "AccountId": account, "Email": format!("former.employee@{domain}") }),
            ) {
                let admin = seed.admin.clone();
                let mut tx = Tx::default();
                let _ = seed.org.delete(&mut tx, SObject::Contact, seq, &admin);
            }
        }
    }
    seed.backdate();
}

/// Adds `count` generated contacts quickly (no validation), for benchmarks and paging, created
/// and modified as `timestamps` says. The same org and count always give the same records.
pub fn generate_contacts(org: &mut Org, count: usize, timestamps: crate::generate::Timestamps) {
    let def = SObject::Contact.def();
    let now = org.clock.tick();
    let times = crate::generate::times(timestamps, count, now, 1_000, seed_of(&org.key, org.next_seq));
    let admin = org.admin_id();
    let base = org.next_seq;
    let [
        first_name,
        last_name,
        name,
        email,
        phone,
        owner,
        currency,
        opted_out,
        newsletter,
    ] = [
        "FirstName",
        "LastName",
        "Name",
        "Email",
        "Phone",
        "OwnerId",
        "CurrencyIsoCode",
        "HasOptedOutOfEmail",
        "Newsletter_Opt_In__c",
    ]
    .map(|f| def.idx(f));
    let stamps = ["CreatedDate", "LastModifiedDate", "SystemModstamp"].map(|f| def.idx(f));
    let by = ["CreatedById", "LastModifiedById"].map(|f| def.idx(f));
    let table = org.table_mut(SObject::Contact);
    for (i, (created, modified)) in times.into_iter().enumerate() {
        let seq = base + i as u64;
        let first = FIRST[i % FIRST.len()];
        let last = LAST[(i / FIRST.len()) % LAST.len()];
        let mut fields = vec![
            (first_name, Val::Str(first.to_string())),
            (last_name, Val::Str(last.to_string())),
            (name, Val::Str(format!("{first} {last}"))),
            (
                email,
                Val::Str(format!(
                    "{}.{}.{seq}@generated.example.com",
                    first.to_lowercase(),
                    last.to_lowercase()
                )),
            ),
            (phone, Val::Str(format!("+4930{:08}", seq % 100_000_000))),
            (owner, Val::Str(admin.clone())),
            (currency, Val::Str("EUR".into())),
            (opted_out, Val::Bool(false)),
            (newsletter, Val::Bool(false)),
        ];
        fields.push((stamps[0], Val::DateTime(created)));
        fields.extend(stamps[1..].iter().map(|f| (*f, Val::DateTime(modified))));
        fields.extend(by.iter().map(|f| (*f, Val::Str(admin.clone()))));
        fields.sort_by_key(|(i, _)| *i);
        table.put(Record {
            seq,
            fields,
            deleted_at: None,
        });
    }
    org.next_seq = base + count as u64;
}

/// A reproducible seed for an account's generated records.
pub fn seed_of(account: &str, next: u64) -> u64 {
    account.bytes().fold(next ^ 0x9E37_79B9_7F4A_7C15, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::salesforce::ops::KeyMatch;

    fn build(key: &str) -> Org {
        let mut org = Org::empty(key);
        populate(&mut org);
        org
    }

    #[test]
    fn the_sample_data_is_complete_consistent_and_deterministic() {
        let one = build("acct-1");
        let two = build("acct-1");
        let live = |org: &Org, object: SObject| org.table(object).live().count();
        assert_eq!(live(&one, SObject::Account), 8);
        assert_eq!(live(&one, SObject::Contact), 24);
        assert_eq!(
            one.table(SObject::Contact).records.len(),
            25,
            "one contact in the recycle bin"
        );
        assert_eq!(live(&one, SObject::Opportunity), 8);
        assert_eq!(live(&one, SObject::Product2), 6);
        assert_eq!(live(&one, SObject::PricebookEntry), 18);
        assert_eq!(live(&one, SObject::User), 4);
        assert_eq!(live(&one, SObject::Event), 4);
        assert!(live(&one, SObject::OpportunityLineItem) >= 8);
        for object in SObject::ALL {
            let ids = |org: &Org| {
                org.table(object)
                    .records
                    .keys()
                    .map(|s| org.id_of(object, *s))
                    .collect::<Vec<_>>()
            };
            assert_eq!(ids(&one), ids(&two), "{object:?} ids are deterministic");
        }
        let opportunities = SObject::Opportunity.def();
        let with_items = one
            .table(SObject::Opportunity)
            .live()
            .filter(|r| r.get(opportunities.idx("HasOpportunityLineItem")) == Some(&Val::Bool(true)))
            .count();
        assert_eq!(with_items, 8, "every opportunity has products and a rolled-up amount");
        let legacy = SObject::Contact.def().idx("Legacy_Id__c");
        assert!(matches!(one.match_key(SObject::Contact, legacy, "leg-shared"), KeyMatch::Many(m) if m.len() == 2));
        let created = SObject::Contact.def().idx("CreatedDate");
        let oldest = one
            .table(SObject::Contact)
            .live()
            .filter_map(|r| r.get(created).and_then(Val::as_instant))
            .min()
            .unwrap();
        assert!(
            oldest < Utc::now() - Duration::days(10),
            "a history, not all created now"
        );
        assert_ne!(build("other").org_id, one.org_id);
    }

    #[test]
    fn generating_contacts_is_fast() {
        let mut org = build("big");
        let started = std::time::Instant::now();
        generate_contacts(&mut org, 100_000, crate::generate::Timestamps::Spread);
        assert_eq!(org.table(SObject::Contact).live().count(), 100_024);
        assert!(started.elapsed().as_secs() < 10);
        let next = org.next_seq;
        generate_contacts(&mut org, 1, crate::generate::Timestamps::Spread);
        assert_eq!(org.next_seq, next + 1);
    }
}
