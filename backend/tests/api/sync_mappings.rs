//! Mappings through the API: validated against the CRM's live fields (line items against its
//! line item object) with every error naming its field; saved as versions, an invalid one
//! refused with nothing lost; previewed on a real recent record, from the app or from the CRM
//! (with its line items), with the result or the field errors.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tandem_shared::api::mappings::{ConfigErrorCode, MappingFields, MappingValidation, PreviewResult};
use tandem_shared::api::pipelines::MappingVersion;

use crate::db_tests;
use crate::helpers::{Backend, expect_error, spawn_app};
use crate::sync::Synced;

db_tests!(
    mappings_validate_version_and_preview_on_real_records,
    mapping_fields_list_both_sides_live
);

async fn mappings_validate_version_and_preview_on_real_records(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Mappings", "hubspot").await;
    t.push(
        "deal",
        json!([{ "external_id": "d-1", "data": { "name": "Fleet order", "status": "won", "amount": "1234.50",
            "currency": "EUR", "close_date": "2026-12-15",
            "line_items": [{ "product_number": " TND-1001 ", "quantity": "3", "unit_price": "49", "discount_percent": "10" }] } }]),
    )
    .await;
    let pipeline = t
        .create_pipeline(json!({
            "name": "Deals to HubSpot",
            "environment": "sandbox",
            "object": "deal",
            "source": { "kind": "app" },
            "target": { "kind": "connection", "connection_id": t.connection.id },
            "direction": "one_way",
        }))
        .await;
    let base = t.path(&format!("pipelines/{}/mappings/forward", pipeline.id));
    let good = pipeline.forward_mapping.clone().unwrap().config;

    // Validation names every field at fault, line items against HubSpot's line item object.
    let mut bad = serde_json::to_value(&good).unwrap();
    let fields = bad["fields"].as_array_mut().unwrap();
    fields.push(json!({ "target": "dealnme", "source": "name" }));
    fields.push(json!({ "target": "dealtype", "transforms": [{ "kind": "constant", "value": "megadeal" }] }));
    let items = fields.iter_mut().find(|f| f["target"] == "line_items").unwrap();
    items["items"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "target": "hs_skuu", "source": "product_number" }));
    let validation: MappingValidation = t
        .admin
        .post_ok(&format!("{base}/validate"), &json!({ "config": bad }))
        .await;
    assert!(!validation.valid);
    let found: Vec<(&str, ConfigErrorCode)> = validation.errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
    assert!(found.contains(&("dealnme", ConfigErrorCode::UnknownField)), "{found:?}");
    assert!(
        found.contains(&("line_items[].hs_skuu", ConfigErrorCode::UnknownField)),
        "{found:?}"
    );
    let dealtype = validation
        .errors
        .iter()
        .find(|e| e.field == "dealtype")
        .expect("picklist");
    assert!(dealtype.message.contains("megadeal"), "{dealtype:?}");
    let hint = validation.errors.iter().find(|e| e.field == "dealnme").unwrap();
    assert!(hint.message.contains("dealname"), "a suggestion: {hint:?}");

    // Saving it is refused, naming the first field; the version in force stays.
    let refused = t
        .admin
        .request(Method::PUT, &base, Some(&json!({ "config": bad })))
        .await;
    let error = expect_error(refused, StatusCode::BAD_REQUEST, "invalid_field").await;
    assert_eq!(error.field.as_deref(), Some("config.line_items[].hs_skuu"), "{error:?}");
    assert!(
        error.message.contains("dealnme") && error.message.contains("megadeal"),
        "all listed: {error:?}"
    );
    let history: Vec<MappingVersion> = t.admin.get_ok(&base).await;
    assert_eq!(history.len(), 1);

    // A good change is a new version; the old one stays readable.
    let mut changed = serde_json::to_value(&good).unwrap();
    changed["fields"].as_array_mut().unwrap().push(
        json!({ "target": "description", "source": "status", "transforms": [{ "kind": "case", "to": "upper" }] }),
    );
    let response = t
        .admin
        .request(Method::PUT, &base, Some(&json!({ "config": changed })))
        .await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    let history: Vec<MappingVersion> = t.admin.get_ok(&base).await;
    let versions: Vec<i64> = history.iter().map(|v| v.version).collect();
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert!(history.iter().any(|v| v.config == good), "the first version is kept");

    // Preview: the app's most recent deal, mapped, line items and all.
    let preview: PreviewResult = t
        .admin
        .post_ok(&format!("{base}/preview"), &json!({ "config": changed }))
        .await;
    assert!(preview.errors.is_empty(), "{preview:?}");
    let target = preview.target.unwrap();
    assert_eq!(target["dealname"], "Fleet order");
    assert_eq!(target["dealstage"], "closedwon");
    assert_eq!(target["description"], "WON");
    assert_eq!(target["line_items"][0]["hs_sku"], "TND-1001");
    assert_eq!(target["line_items"][0]["price"], "49.00");
    // … or the field errors, for a mapping that does not fit the record.
    let mut strict = changed.clone();
    strict["fields"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "target": "hubspot_owner_id", "source": "custom.owner", "required": true }));
    let preview: PreviewResult = t
        .admin
        .post_ok(
            &format!("{base}/preview"),
            &json!({ "config": strict, "record_id": "d-1" }),
        )
        .await;
    assert!(preview.target.is_none());
    assert_eq!(preview.errors[0].field, "hubspot_owner_id", "{preview:?}");
    let unknown = t
        .admin
        .request(
            Method::POST,
            &format!("{base}/preview"),
            Some(&json!({ "config": changed, "record_id": "nope" })),
        )
        .await;
    let error = expect_error(unknown, StatusCode::BAD_REQUEST, "invalid_field").await;
    assert_eq!(error.field.as_deref(), Some("record_id"));

    // From HubSpot: a real deal as a run reads it, with its line items.
    let inbound = t
        .create_pipeline(json!({
            "name": "Deals from HubSpot",
            "environment": "sandbox",
            "object": "deal",
            "source": { "kind": "connection", "connection_id": t.connection.id },
            "target": { "kind": "app" },
            "direction": "one_way",
        }))
        .await;
    let config = inbound.forward_mapping.unwrap().config;
    let preview: PreviewResult = t
        .admin
        .post_ok(
            &t.path(&format!("pipelines/{}/mappings/forward/preview", inbound.id)),
            &json!({ "config": config }),
        )
        .await;
    assert!(preview.errors.is_empty(), "{preview:?}");
    let source_items = preview.source["line_items"]
        .as_array()
        .expect("read with its line items");
    let target: Value = preview.target.unwrap();
    let target_items = target["line_items"].as_array().cloned().unwrap_or_default();
    assert_eq!(source_items.len(), target_items.len());
    for (theirs, ours) in source_items.iter().zip(&target_items) {
        assert_eq!(ours["product_number"], theirs["hs_sku"]);
    }
}

/// The mapping editor's field lists: the app's model on one side, HubSpot's live properties on
/// the other (custom ones marked, picklists with their values, read-only ones marked), and the
/// reverse flow with the sides swapped; a one-way pipeline has no reverse flow.
async fn mapping_fields_list_both_sides_live(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Fields", "hubspot").await;
    let two_way = t
        .create_pipeline(json!({
            "name": "Contacts both ways",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "app" },
            "target": { "kind": "connection", "connection_id": t.connection.id },
            "direction": "two_way",
        }))
        .await;
    let forward: MappingFields = t
        .admin
        .get_ok(&t.path(&format!("pipelines/{}/mappings/forward/fields", two_way.id)))
        .await;
    assert_eq!(forward.source.system, "Tandem app");
    assert!(
        forward.target.system.starts_with("HubSpot ("),
        "{}",
        forward.target.system
    );
    assert_eq!(forward.target.object, "contacts");
    let target = |name: &str| forward.target.fields.iter().find(|f| f.name == name).cloned();
    let stage = target("lifecyclestage").expect("HubSpot's lifecycle stage");
    assert_eq!(stage.field_type, "picklist");
    assert!(
        stage.options.iter().any(|o| o.value == "customer"),
        "{:?}",
        stage.options
    );
    let tier = target("customer_tier").expect("the portal's custom property");
    assert!(tier.custom && !tier.options.is_empty());
    assert!(!target("email").unwrap().custom);
    assert!(target("lastmodifieddate").is_some_and(|f| f.read_only));
    assert!(forward.source.fields.iter().any(|f| f.name == "email"));

    let reverse: MappingFields = t
        .admin
        .get_ok(&t.path(&format!("pipelines/{}/mappings/reverse/fields", two_way.id)))
        .await;
    assert_eq!(reverse.source.object, "contacts");
    assert_eq!(reverse.target.system, "Tandem app");

    let one_way = t
        .create_pipeline(json!({
            "name": "Contacts one way",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "app" },
            "target": { "kind": "connection", "connection_id": t.connection.id },
            "direction": "one_way",
        }))
        .await;
    let response = t
        .admin
        .get(&t.path(&format!("pipelines/{}/mappings/reverse/fields", one_way.id)))
        .await;
    let body = expect_error(response, StatusCode::BAD_REQUEST, "invalid_field").await;
    assert_eq!(body.field.as_deref(), Some("flow"));
}
