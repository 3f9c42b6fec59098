//! Deals (PRODUCT.md flow 7): amounts as exact decimals, ISO-4217 currency
//! codes, and the app's statuses mapped onto HubSpot's deal stages and back — several stages
//! onto one status where the models differ — through the pipeline's value tables; and their
//! line items, with products matched by their number.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem::connectors::hubspot::HubSpotConnector;
use tandem::connectors::salesforce::SalesforceConnector;
use tandem::connectors::{Connector, Credential, ObjectKind, Record};
use tandem_shared::api::failed_records::FailedRecord;
use tandem_shared::api::runs::{RecordEvent, RunStatus};

use crate::db_tests;
use crate::helpers::{Backend, crm_records, expect_json, spawn_app};
use crate::sync::Synced;

db_tests!(deal_stages_map_to_statuses_both_ways_with_exact_amounts);

async fn deal_stages_map_to_statuses_both_ways_with_exact_amounts(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Deals", "hubspot").await;
    t.push(
        "deal",
        json!([
            { "external_id": "d-won", "data": { "name": "Big order", "status": "won", "amount": "1234.5",
                "currency": "eur", "close_date": "2026-11-30" } },
            { "external_id": "d-quote", "data": { "name": "Quoted", "status": "quote_sent", "amount": "99.99",
                "currency": "USD", "close_date": "2026-12-24" } },
        ]),
    )
    .await;
    // The currency is checked when the app pushes it.
    let refused: Value = expect_json(
        t.app_post(
            "records/deal/batch",
            &json!({ "records": [{ "external_id": "d-bad", "data": { "name": "Bad", "currency": "EURO" } }] }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(refused["invalid"], 1, "{refused}");
    assert!(refused.to_string().contains("ISO-4217"), "{refused}");

    let pipeline = t
        .create_pipeline(json!({
            "name": "Deals both ways",
            "environment": "sandbox",
            "object": "deal",
            "source": { "kind": "app" },
            "target": { "kind": "connection", "connection_id": t.connection.id },
            "direction": "two_way",
        }))
        .await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert_eq!(run.counts.failed, 0, "{run:?}");

    // In HubSpot: the stage from the status table, the amount exact, the currency's code.
    let credential = t.hubspot().await;
    let hubspot = HubSpotConnector::new(reqwest::Client::new());
    let fields = ["dealname", "dealstage", "amount", "deal_currency_code"].map(String::from);
    let twin = |external: &'static str| {
        let (admin, path) = (&t.admin, t.path(&format!("record-history/{external}")));
        async move {
            let history: Vec<RecordEvent> = admin.get_ok(&path).await;
            history[0].target_id.clone().expect("written to HubSpot")
        }
    };
    let won = hubspot
        .get(&credential, ObjectKind::Deal, &twin("d-won").await, &fields)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(won.fields["dealstage"], "closedwon");
    assert_eq!(won.fields["amount"], "1234.50");
    assert_eq!(won.fields["deal_currency_code"], "EUR");
    let quoted = hubspot
        .get(&credential, ObjectKind::Deal, &twin("d-quote").await, &fields)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(quoted.fields["dealstage"], "contractsent");

    // HubSpot's own deals reach the app: several open stages onto `open`.
    let all = crm_records(
        &hubspot,
        &credential,
        ObjectKind::Deal,
        &fields.each_ref().map(String::as_str),
    )
    .await;
    let mut statuses: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for deal in all.iter().filter(|d| d.id != won.id && d.id != quoted.id) {
        let stored: Value = expect_json(
            t.app_get(&format!("records/deal/hubspot-{}", deal.id)).await,
            StatusCode::OK,
        )
        .await;
        let stage = deal.fields["dealstage"].as_str().unwrap().to_string();
        let status = stored["data"]["status"].as_str().unwrap().to_string();
        let expected = match stage.as_str() {
            "closedwon" => "won",
            "closedlost" => "lost",
            _ => "open",
        };
        assert_eq!(status, expected, "{stage}");
        statuses.entry(status).or_default().push(stage);
        if let Some(amount) = deal.fields.get("amount").and_then(Value::as_str) {
            let ours = stored["data"]["amount"].as_str().unwrap();
            assert_eq!(
                ours.parse::<rust_decimal::Decimal>().unwrap(),
                amount.parse::<rust_decimal::Decimal>().unwrap(),
                "exact amounts"
            );
        }
    }
    let open_stages: std::collections::BTreeSet<&String> = statuses.get("open").into_iter().flatten().collect();
    assert!(open_stages.len() >= 2, "several stages onto one status: {statuses:?}");

    // A stage moved in HubSpot comes back as the app's status.
    let open = all
        .iter()
        .find(|d| d.fields["dealstage"] != "closedwon" && d.fields["dealstage"] != "closedlost")
        .unwrap();
    hubspot
        .update(
            &credential,
            ObjectKind::Deal,
            &[(
                open.id.clone(),
                BTreeMap::from([("dealstage".to_string(), json!("closedwon"))]),
            )],
        )
        .await
        .unwrap()
        .remove(0)
        .unwrap();
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    let stored: Value = expect_json(
        t.app_get(&format!("records/deal/hubspot-{}", open.id)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stored["data"]["status"], "won");
}

db_tests!(deal_line_items_sync_both_ways_with_products_by_number);

/// HubSpot's line items of one deal, oldest first, with the fields named.
async fn hubspot_line_items(t: &Synced, deal_id: &str) -> Vec<Record> {
    let credential = t.hubspot().await;
    let hubspot = HubSpotConnector::new(reqwest::Client::new());
    let fields = [
        "hs_sku",
        "hs_product_id",
        "name",
        "quantity",
        "price",
        "hs_discount_percentage",
        "hs_line_item_currency_code",
        "amount",
    ]
    .map(String::from);
    let mut deal = vec![Record {
        id: deal_id.to_string(),
        fields: BTreeMap::new(),
        modified_at: chrono::Utc::now(),
        deleted: false,
    }];
    hubspot
        .with_line_items(&credential, ObjectKind::Deal, &mut deal, &fields)
        .await
        .unwrap();
    serde_json::from_value::<Vec<BTreeMap<String, Value>>>(deal[0].fields["line_items"].clone())
        .unwrap()
        .into_iter()
        .map(|fields| Record {
            id: String::new(),
            fields,
            modified_at: chrono::Utc::now(),
            deleted: false,
        })
        .collect()
}

async fn deal_line_items_sync_both_ways_with_products_by_number(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Orders", "hubspot").await;
    let item = |sku: &str, quantity: &str, price: &str, discount: &str| {
        json!({ "product_number": sku, "name": format!("Item {sku}"), "quantity": quantity,
                "unit_price": price, "currency": "EUR", "discount_percent": discount })
    };
    let mut orders: Vec<Value> = (0..40)
        .map(|n| {
            json!({ "external_id": format!("o-{n}"), "data": {
                "name": format!("Order {n}"), "status": "won", "amount": "1000", "currency": "EUR",
                "close_date": "2026-11-30",
                "line_items": [item("TND-1001", "3", "49.00", "10"), item("TND-3002", "12.5", "75.00", "0")],
            } })
        })
        .collect();
    // A product HubSpot does not have fails that order alone, naming the line item.
    orders.push(json!({ "external_id": "o-unknown", "data": {
        "name": "Unknown product", "status": "open", "currency": "EUR",
        "line_items": [item("TND-1001", "1", "49", "0"), item("NOPE-1", "1", "5", "0")],
    } }));
    t.push("deal", Value::Array(orders)).await;

    let pipeline = t
        .create_pipeline(json!({
            "name": "Orders to HubSpot",
            "environment": "sandbox",
            "object": "deal",
            "source": { "kind": "app" },
            "target": { "kind": "connection", "connection_id": t.connection.id },
            "direction": "one_way",
        }))
        .await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!(run.counts.created, 40, "{run:?}");
    assert_eq!(run.counts.failed, 1, "{run:?}");
    // 41 deals and their 82 line items: a handful of calls, not one per record.
    assert!(
        run.api_calls <= 10,
        "{} calls for 41 deals with line items: {run:?}",
        run.api_calls
    );

    let failed: Vec<FailedRecord> = t.admin.get_ok(&t.path("failed-records")).await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].record_id, "o-unknown");
    assert_eq!(
        failed[0].reason.field.as_deref(),
        Some("line_items[1].hs_sku"),
        "{failed:?}"
    );
    assert!(failed[0].reason.message.contains("NOPE-1"), "{failed:?}");

    let twin = |external: &'static str| {
        let (admin, path) = (&t.admin, t.path(&format!("record-history/{external}")));
        async move {
            let history: Vec<RecordEvent> = admin.get_ok(&path).await;
            history
                .iter()
                .find_map(|e| e.target_id.clone())
                .expect("written to HubSpot")
        }
    };
    let deal_id = twin("o-7").await;
    let items = hubspot_line_items(&t, &deal_id).await;
    assert_eq!(items.len(), 2);
    let first = &items[0].fields;
    assert_eq!(first["hs_sku"], "TND-1001");
    assert_eq!(first["quantity"], "3");
    assert_eq!(first["price"], "49.00");
    assert_eq!(first["hs_discount_percentage"], "10");
    assert_eq!(first["hs_line_item_currency_code"], "EUR");
    assert_eq!(
        first["amount"], "132.30",
        "HubSpot's own net price of 3 × 49.00 less 10 %"
    );
    assert!(
        first["hs_product_id"].as_str().is_some_and(|p| !p.is_empty()),
        "linked to the product"
    );
    assert_eq!(items[1].fields["quantity"], "12.5");

    // The app changes an order's line items: HubSpot ends up with exactly the new ones.
    t.push(
        "deal",
        json!([{ "external_id": "o-7", "data": {
            "name": "Order 7", "status": "won", "amount": "1000", "currency": "EUR", "close_date": "2026-11-30",
            "line_items": [item("TND-2001", "1", "1200.00", "5")],
        } }]),
    )
    .await;
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!(run.counts.updated, 1, "{run:?}");
    // The deal, a product search, the old items, the new ones, archiving the old.
    assert!(run.api_calls <= 5, "{run:?}");
    let items = hubspot_line_items(&t, &deal_id).await;
    assert_eq!(items.len(), 1, "the old line items are gone: {items:?}");
    assert_eq!(items[0].fields["hs_sku"], "TND-2001");
    assert_eq!(items[0].fields["amount"], "1140.00");

    // HubSpot's own deals come to the app with their line items, amounts exact.
    let back = t
        .create_pipeline(json!({
            "name": "Orders from HubSpot",
            "environment": "sandbox",
            "object": "deal",
            "source": { "kind": "connection", "connection_id": t.connection.id },
            "target": { "kind": "app" },
            "direction": "one_way",
        }))
        .await;
    app.run_jobs().await;
    let run = t.last_run(&back).await;
    assert_eq!(run.counts.failed, 0, "{run:?}");
    let credential = t.hubspot().await;
    let hubspot = HubSpotConnector::new(reqwest::Client::new());
    let seeded = crm_records(&hubspot, &credential, ObjectKind::Deal, &["dealname", "tandem_id"]).await;
    let seeded: Vec<&Record> = seeded
        .iter()
        .filter(|d| d.fields.get("tandem_id").is_none_or(Value::is_null))
        .collect();
    assert!(!seeded.is_empty());
    let mut with_items = 0;
    for deal in seeded {
        let theirs = hubspot_line_items(&t, &deal.id).await;
        let ours: Value = expect_json(
            t.app_get(&format!("records/deal/hubspot-{}", deal.id)).await,
            StatusCode::OK,
        )
        .await;
        let ours = ours["data"]["line_items"].as_array().cloned().unwrap_or_default();
        assert_eq!(ours.len(), theirs.len(), "{ours:?}");
        for (mine, their) in ours.iter().zip(&theirs) {
            assert_eq!(mine["product_number"], their.fields["hs_sku"]);
            let decimal = |v: &Value| v.as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap();
            assert_eq!(
                decimal(&mine["unit_price"]),
                decimal(&their.fields["price"]),
                "exact prices"
            );
            assert_eq!(decimal(&mine["quantity"]), decimal(&their.fields["quantity"]));
            assert_eq!(
                decimal(&mine["discount_percent"]),
                decimal(&their.fields["hs_discount_percentage"])
            );
            assert_eq!(mine["currency"], their.fields["hs_line_item_currency_code"]);
        }
        with_items += usize::from(!theirs.is_empty());
    }
    assert!(with_items >= 3, "the seeded deals carry line items");
}

db_tests!(opportunity_line_items_sync_with_products_by_code);

/// Salesforce's line items of one opportunity, oldest first.
async fn salesforce_line_items(credential: &Credential, opportunity: &str) -> Vec<Value> {
    let salesforce = SalesforceConnector::new(reqwest::Client::new());
    let fields = [
        "ProductCode",
        "Quantity",
        "UnitPrice",
        "Discount",
        "TotalPrice",
        "Product2Id",
    ]
    .map(String::from);
    let mut deal = vec![Record {
        id: opportunity.to_string(),
        fields: BTreeMap::new(),
        modified_at: chrono::Utc::now(),
        deleted: false,
    }];
    salesforce
        .with_line_items(credential, ObjectKind::Deal, &mut deal, &fields)
        .await
        .unwrap();
    deal[0].fields["line_items"].as_array().unwrap().clone()
}

async fn opportunity_line_items_sync_with_products_by_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Opportunities", "salesforce").await;
    let item = |code: &str, quantity: &str, price: &str, discount: &str| json!({ "product_number": code, "quantity": quantity, "unit_price": price, "discount_percent": discount });
    t.push(
        "deal",
        json!([
            { "external_id": "o-1", "data": { "name": "Fleet order", "status": "won", "close_date": "2026-12-15",
                "line_items": [item("TND-1001", "3", "49.00", "10"), item("TND-3001", "2", "189.00", "0")] } },
            { "external_id": "o-bad", "data": { "name": "Unknown product", "status": "open", "close_date": "2026-12-15",
                "line_items": [item("NOPE-1", "1", "5", "0")] } },
        ]),
    )
    .await;
    let pipeline = t
        .create_pipeline(json!({
            "name": "Orders to Salesforce",
            "environment": "sandbox",
            "object": "deal",
            "source": { "kind": "app" },
            "target": { "kind": "connection", "connection_id": t.connection.id },
            "direction": "one_way",
        }))
        .await;
    app.run_jobs().await;
    let run = t.last_run(&pipeline).await;
    assert_eq!((run.counts.created, run.counts.failed), (1, 1), "{run:?}");
    let failed: Vec<FailedRecord> = t.admin.get_ok(&t.path("failed-records")).await;
    assert_eq!(
        failed[0].reason.field.as_deref(),
        Some("line_items[0].ProductCode"),
        "{failed:?}"
    );

    let history: Vec<RecordEvent> = t.admin.get_ok(&t.path("record-history/o-1")).await;
    let opportunity = history.iter().find_map(|e| e.target_id.clone()).unwrap();
    let credential = t.sandbox.salesforce_credential(&t.account).await;
    let items = salesforce_line_items(&credential, &opportunity).await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0]["ProductCode"], "TND-1001");
    let number = |v: &Value| v.as_f64().unwrap();
    assert_eq!(number(&items[0]["Quantity"]), 3.0);
    assert_eq!(number(&items[0]["UnitPrice"]), 49.0);
    assert_eq!(number(&items[0]["Discount"]), 10.0);
    assert_eq!(
        number(&items[0]["TotalPrice"]),
        132.3,
        "Salesforce's own total of 3 × 49.00 less 10 %"
    );

    // New line items replace the old ones.
    t.push(
        "deal",
        json!([{ "external_id": "o-1", "data": { "name": "Fleet order", "status": "won", "close_date": "2026-12-15",
            "line_items": [item("TND-2002", "1", "2400.00", "0")] } }]),
    )
    .await;
    t.run_now(&pipeline).await;
    app.run_jobs().await;
    assert_eq!(t.last_run(&pipeline).await.counts.updated, 1);
    let items = salesforce_line_items(&credential, &opportunity).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["ProductCode"], "TND-2002");

    // Salesforce's own opportunities come to the app with their line items.
    let back = t
        .create_pipeline(json!({
            "name": "Orders from Salesforce",
            "environment": "sandbox",
            "object": "deal",
            "source": { "kind": "connection", "connection_id": t.connection.id },
            "target": { "kind": "app" },
            "direction": "one_way",
        }))
        .await;
    app.run_jobs().await;
    let run = t.last_run(&back).await;
    assert_eq!(run.counts.failed, 0, "{run:?}");
    let salesforce = SalesforceConnector::new(reqwest::Client::new());
    let seeded = crm_records(&salesforce, &credential, ObjectKind::Deal, &["Tandem_Id__c"]).await;
    let mut with_items = 0;
    for deal in seeded
        .iter()
        .filter(|d| d.fields["Tandem_Id__c"].is_null() && !d.deleted)
    {
        let theirs = salesforce_line_items(&credential, &deal.id).await;
        let ours: Value = expect_json(
            t.app_get(&format!("records/deal/salesforce-{}", deal.id)).await,
            StatusCode::OK,
        )
        .await;
        let ours = ours["data"]["line_items"].as_array().cloned().unwrap_or_default();
        assert_eq!(ours.len(), theirs.len(), "{ours:?}");
        for (mine, their) in ours.iter().zip(&theirs) {
            assert_eq!(mine["product_number"], their["ProductCode"]);
            let decimal = |v: &Value| v.as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap();
            let number = |v: &Value| rust_decimal::Decimal::try_from(v.as_f64().unwrap()).unwrap();
            assert_eq!(decimal(&mine["unit_price"]), number(&their["UnitPrice"]));
            assert_eq!(decimal(&mine["quantity"]), number(&their["Quantity"]));
        }
        with_items += usize::from(!theirs.is_empty());
    }
    assert!(with_items >= 3, "the seeded opportunities carry line items");
}
