//! Environments (PRODUCT.md flow 13): pipelines and mappings built in the sandbox environment are
//! promoted to production through an API that first returns the plan — what is created or
//! changed, by path, and what blocks a pipeline — and then applies exactly that plan.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem_shared::api::pipelines::{Pipeline, PipelineStatus};
use tandem_shared::api::promotion::{PromotionAction, PromotionPlan, PromotionResult};
use tandem_shared::api::tenants::{EnvironmentKind, Tenant};

use crate::db_tests;
use crate::helpers::{Backend, connect_sandbox, expect_error, expect_json, spawn_app};

db_tests!(a_sandbox_pipeline_is_promoted_to_production_after_its_plan);

async fn a_sandbox_pipeline_is_promoted_to_production_after_its_plan(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    // A demo tenant: both its environments reach the sandbox CRMs.
    let tenant: Tenant = admin
        .post_ok("/api/v1/tenants", &json!({ "name": "Acme Stages", "is_demo": true }))
        .await;
    let path = |rest: &str| format!("/api/v1/tenants/{}/{rest}", tenant.id);
    let sandbox_hubspot = connect_sandbox(&admin, tenant.id, "hubspot", "sandbox").await;
    let pipeline: Pipeline = admin
        .post_ok(
            &path("pipelines"),
            &json!({
                "name": "Contacts to HubSpot",
                "environment": "sandbox",
                "object": "contact",
                "source": { "kind": "app" },
                "target": { "kind": "connection", "connection_id": sandbox_hubspot.id },
                "direction": "one_way",
            }),
        )
        .await;

    // Without a production HubSpot connection the pipeline is blocked, saying why.
    let plan: PromotionPlan = admin.get_ok(&path("promotion")).await;
    assert_eq!(plan.pipelines.len(), 1);
    assert_eq!(plan.pipelines[0].action, PromotionAction::Blocked);
    assert!(
        plan.pipelines[0].problems[0].contains("connect HubSpot in production"),
        "{plan:?}"
    );
    let refused = expect_error(
        admin
            .post(
                &path("promotion"),
                &json!({ "fingerprint": plan.fingerprint, "pipelines": ["Contacts to HubSpot"] }),
            )
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    )
    .await;
    assert_eq!(refused.field.as_deref(), Some("pipelines"));

    // Connected in production: the plan creates it, with every setting and mapping rule shown.
    let production_hubspot = connect_sandbox(&admin, tenant.id, "hubspot", "production").await;
    let plan: PromotionPlan = admin.get_ok(&path("promotion")).await;
    let planned = &plan.pipelines[0];
    assert_eq!(planned.action, PromotionAction::Create, "{planned:?}");
    assert!(
        planned
            .changes
            .iter()
            .any(|c| c.path == "mapping.forward.fields.email.source" && c.sandbox == "email" && c.production.is_null()),
        "{planned:?}"
    );
    assert!(
        planned
            .changes
            .iter()
            .any(|c| c.path == "settings.trigger.poll_every_minutes")
    );
    let stale = expect_error(
        admin
            .post(&path("promotion"), &json!({ "fingerprint": "not-the-plan" }))
            .await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert_eq!(stale.field.as_deref(), Some("fingerprint"));
    let viewer = app.user_in(tenant.id, "viewer").await;
    let forbidden = viewer
        .post(&path("promotion"), &json!({ "fingerprint": plan.fingerprint }))
        .await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);

    let done: PromotionResult = admin
        .post_ok(&path("promotion"), &json!({ "fingerprint": plan.fingerprint }))
        .await;
    assert_eq!((done.created.len(), done.updated.len()), (1, 0));
    let promoted: Pipeline = admin.get_ok(&path(&format!("pipelines/{}", done.created[0]))).await;
    assert_eq!(promoted.environment, EnvironmentKind::Production);
    assert_eq!(promoted.status, PipelineStatus::Active);
    assert_eq!(
        promoted.target,
        tandem_shared::api::pipelines::Endpoint::Connection {
            connection_id: production_hubspot.id
        },
        "production's own connection"
    );
    assert_eq!(
        promoted.forward_mapping.as_ref().unwrap().config,
        pipeline.forward_mapping.as_ref().unwrap().config
    );

    // Changed in the sandbox: a setting and a mapping rule. The plan shows both, by path.
    let _: Value = expect_json(
        admin
            .patch(
                &path(&format!("pipelines/{}", pipeline.id)),
                &json!({ "settings": { "trigger": { "poll_every_minutes": 15 } } }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let mut config = pipeline.forward_mapping.clone().unwrap().config;
    config.fields.retain(|f| f.target != "jobtitle");
    let saved = admin
        .request(
            reqwest::Method::PUT,
            &path(&format!("pipelines/{}/mappings/forward", pipeline.id)),
            Some(&json!({ "config": config })),
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK, "{}", saved.text().await.unwrap());
    let plan: PromotionPlan = admin.get_ok(&path("promotion")).await;
    let planned = &plan.pipelines[0];
    assert_eq!(planned.action, PromotionAction::Update, "{planned:?}");
    assert_eq!(planned.production_pipeline_id, Some(promoted.id));
    let paths: Vec<(&str, &Value, &Value)> = planned
        .changes
        .iter()
        .map(|c| (c.path.as_str(), &c.production, &c.sandbox))
        .collect();
    assert!(
        paths.contains(&("settings.trigger.poll_every_minutes", &json!(5), &json!(15))),
        "{paths:?}"
    );
    assert!(
        paths.contains(&(
            "mapping.forward.fields.jobtitle.source",
            &json!("job_title"),
            &Value::Null
        )),
        "{paths:?}"
    );
    let done: PromotionResult = admin
        .post_ok(&path("promotion"), &json!({ "fingerprint": plan.fingerprint }))
        .await;
    assert_eq!(done.updated, vec![promoted.id]);
    let promoted: Pipeline = admin.get_ok(&path(&format!("pipelines/{}", promoted.id))).await;
    assert_eq!(promoted.settings.trigger.poll_every_minutes, 15);
    let mapping = promoted.forward_mapping.unwrap();
    assert_eq!(mapping.version, 2);
    assert!(mapping.config.fields.iter().all(|f| f.target != "jobtitle"));

    let plan: PromotionPlan = admin.get_ok(&path("promotion")).await;
    assert_eq!(plan.pipelines[0].action, PromotionAction::Unchanged, "{plan:?}");
    let audit: Value = admin.get_ok(&path("audit")).await;
    assert_eq!(audit.to_string().matches("environment.promoted").count(), 2);
}
