//! API limits per connection (PRODUCT.md flow 12): an admin sets a connection's rate and daily
//! quota over the API; a large initial sync stops when Tandem's share of the day is spent (never a
//! call more), says how far it is and when it will finish, and goes on when the quota allows.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem_shared::api::connections::Connection;
use tandem_shared::api::runs::RunStatus;

use crate::db_tests;
use crate::helpers::{Backend, expect_error, expect_json, spawn_app};
use crate::sync::Synced;

db_tests!(a_daily_quota_spreads_an_initial_sync_and_is_never_exceeded);

async fn a_daily_quota_spreads_an_initial_sync_and_is_never_exceeded(backend: Backend) {
    let app = spawn_app(backend).await;
    let t = Synced::new(&app, "Acme Quota", "hubspot").await;
    let connection_path = t.path(&format!("connections/{}", t.connection.id));
    assert_eq!(t.connection.limits.requests_per_second, 11.0, "HubSpot's default");
    assert_eq!(t.connection.limits.daily_quota, 650_000);
    assert_eq!(t.connection.limits.requests_per_second_override, None);

    // Bad limits are refused, naming the field; viewers may not change them.
    for (body, field) in [
        (json!({ "requests_per_second": 0 }), "requests_per_second"),
        (json!({ "requests_per_second": 5000 }), "requests_per_second"),
        (json!({ "daily_quota": 0 }), "daily_quota"),
    ] {
        let error = expect_error(
            t.admin.patch(&connection_path, &body).await,
            StatusCode::BAD_REQUEST,
            "invalid_field",
        )
        .await;
        assert_eq!(error.field.as_deref(), Some(field), "{error:?}");
    }
    let unknown = expect_error(
        t.admin.patch(&connection_path, &json!({ "burst": 3 })).await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(unknown.field.as_deref(), Some("burst"));
    let viewer = app.user_in(t.tenant.id, "viewer").await;
    let refused = viewer.patch(&connection_path, &json!({ "daily_quota": 6 })).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let limited: Connection = expect_json(
        t.admin
            .patch(
                &connection_path,
                &json!({ "requests_per_second": 50, "daily_quota": 6 }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (
            limited.limits.requests_per_second,
            limited.limits.daily_quota,
            limited.limits.daily_quota_override
        ),
        (50.0, 6, Some(6))
    );
    assert_eq!(
        (
            limited.limits.default_requests_per_second,
            limited.limits.default_daily_quota
        ),
        (11.0, 650_000),
        "HubSpot's defaults are still told, for going back to them"
    );
    let audit: Value = t.admin.get_ok(&t.path("audit")).await;
    assert!(audit.to_string().contains("connection.limits_changed"));

    for half in [0..500, 500..1_000] {
        let records: Vec<Value> = half
            .map(|i| json!({ "external_id": format!("q-{i}"), "data": { "email": format!("q{i}@quota.example"), "last_name": format!("Quota{i}") } }))
            .collect();
        assert_eq!(t.push("contact", Value::Array(records)).await["created"], 500);
    }
    let account = format!("/hubspot/accounts/{}", t.account);
    let before: Value = t.sandbox.control("GET", &account, Value::Null).await;
    let pipeline = t
        .create_pipeline(json!({
            "name": "Contacts to HubSpot",
            "environment": "sandbox",
            "object": "contact",
            "source": { "kind": "app" },
            "target": { "kind": "connection", "connection_id": t.connection.id },
            "direction": "one_way",
            "settings": { "matching": { "fuzzy_threshold": null } },
        }))
        .await;
    app.run_jobs().await;

    // Six calls, then the run waits for the next quota window: still running, part done, with
    // an estimated finish days away (the rest needs more calls than a day allows).
    let run = t.last_run(&pipeline).await;
    assert_eq!(run.status, RunStatus::Running, "{run:?}");
    // Reading HubSpot's fields to check the mapping, when the pipeline was created, counts too.
    assert_eq!(run.api_calls, 5, "the quota, less that one call: {run:?}");
    assert_eq!(run.progress.total, Some(1_000));
    assert!(run.progress.done > 0 && run.progress.done < 1_000, "{:?}", run.progress);
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let finish = run.progress.estimated_finish_at.expect("an estimate");
    // It says it is waiting, and until when: the next UTC day.
    let waiting_until = run.progress.waiting_until.expect("waiting for the quota");
    assert!(
        (waiting_until - tomorrow).num_seconds().abs() <= 5,
        "waits until {waiting_until}, not until the quota resets at {tomorrow}"
    );
    assert!(
        finish >= tomorrow,
        "{finish} is not after the quota resets at {tomorrow}"
    );
    let connections: Vec<Connection> = t.admin.get_ok(&t.path("connections")).await;
    assert_eq!(connections[0].limits.used_today, 6);
    let after: Value = t.sandbox.control("GET", &account, Value::Null).await;
    let crm_counted = after["used_today"].as_i64().unwrap() - before["used_today"].as_i64().unwrap();
    assert!(crm_counted <= 6, "HubSpot counted {crm_counted} calls");

    // A bigger share of the day: the waiting run goes on at once and finishes.
    let raised: Connection = expect_json(
        t.admin.patch(&connection_path, &json!({ "daily_quota": 1_000 })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        raised.limits.requests_per_second, 11.0,
        "a limit left out goes back to the default"
    );
    app.run_jobs().await;
    let finished = t.last_run(&pipeline).await;
    assert_eq!(finished.id, run.id, "the same run went on");
    assert_eq!(finished.status, RunStatus::Succeeded, "{finished:?}");
    // A batch written just before the quota stopped the page is written again (an upsert by
    // Tandem's key: HubSpot answers "updated"), never doubled.
    assert_eq!(finished.counts.created + finished.counts.updated, 1_000, "{finished:?}");
    assert_eq!(finished.progress.done, 1_000);
    assert_eq!(finished.progress.waiting_until, None, "no longer waiting");
    let summary: Value = t.sandbox.control("GET", &account, Value::Null).await;
    assert_eq!(summary["records"]["contacts"], 24 + 1_000, "{summary}");
    let connections: Vec<Connection> = t.admin.get_ok(&t.path("connections")).await;
    assert_eq!(connections[0].limits.used_today as i64, finished.api_calls + 1);
    // That call is in the connection's callout history, outside any run.
    let callouts: Vec<Value> = t
        .admin
        .get_ok(&t.path(&format!("connections/{}/callouts", t.connection.id)))
        .await;
    let describe: Vec<&Value> = callouts.iter().filter(|c| c["run_id"].is_null()).collect();
    assert_eq!(describe.len(), 1, "{callouts:?}");
    assert!(
        describe[0]["path"]
            .as_str()
            .unwrap()
            .starts_with("/crm/v3/properties/contacts"),
        "{describe:?}"
    );
    assert_eq!(callouts.len() as i64, finished.api_calls + 1);
}
