//! Support staff's search across every tenant: exact ids (the app's record ids, CRM ids, run ids,
//! failed record ids), emails, and tenant names. Each query is capped; nothing secret is read.

use sqlx::{AnyPool, FromRow};
use tandem_shared::api::support::{SupportHit, SupportHitKind};
use tandem_shared::api::tenants::EnvironmentKind;

use super::{RepoError, parse_id};
use crate::domain::match_keys::{KeyKind, MatchKey, normalise_email};

/// Hits per kind: a search term that matches more is too vague to be useful.
const PER_KIND: i64 = 20;

/// `%ac\%me%`: a LIKE pattern matching `text` anywhere, its own wildcards taken literally.
fn contains(text: &str) -> String {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

#[derive(FromRow)]
struct TenantRow {
    id: String,
    name: String,
    slug: String,
}

#[derive(FromRow)]
struct AppRecordRow {
    tenant_id: String,
    tenant_name: String,
    environment: String,
    object: String,
    external_id: String,
    deleted_at: Option<i64>,
}

#[derive(FromRow)]
struct LinkRow {
    tenant_id: String,
    tenant_name: String,
    environment: String,
    pipeline_id: String,
    pipeline_name: String,
    source_is_app: i64,
    source_id: String,
    target_id: String,
}

#[derive(FromRow)]
struct RunRow {
    id: String,
    tenant_id: String,
    tenant_name: String,
    environment: String,
    pipeline_id: String,
    pipeline_name: String,
    status: String,
    trigger_kind: String,
}

#[derive(FromRow)]
struct FailedRow {
    id: String,
    tenant_id: String,
    tenant_name: String,
    environment: String,
    pipeline_id: String,
    pipeline_name: String,
    run_id: Option<String>,
    record_id: String,
    record_email: Option<String>,
    status: String,
    error_kind: String,
    error_message: String,
}

/// A hit with what every kind has; the kinds add their ids.
fn hit(
    kind: SupportHitKind,
    tenant_id: &str,
    tenant_name: String,
    environment: Option<&str>,
    title: String,
    detail: String,
) -> Result<SupportHit, RepoError> {
    Ok(SupportHit {
        kind,
        tenant_id: parse_id(tenant_id, "tenant id")?,
        tenant_name,
        environment: environment.and_then(EnvironmentKind::parse),
        title,
        detail,
        pipeline_id: None,
        run_id: None,
        failed_record_id: None,
        record_id: None,
    })
}

/// Everything `term` names, across tenants: tenants first, then records, runs and failures.
pub async fn search(pool: &AnyPool, term: &str) -> Result<Vec<SupportHit>, RepoError> {
    let term = term.trim();
    let mut hits = Vec::new();
    if term.is_empty() {
        return Ok(hits);
    }

    let tenants: Vec<TenantRow> = sqlx::query_as(
        "SELECT id, name, slug FROM tenants \
         WHERE lower(name) LIKE $1 ESCAPE '\\' OR lower(slug) LIKE $1 ESCAPE '\\' OR id = $2 \
         ORDER BY name LIMIT $3",
    )
    .bind(contains(term))
    .bind(term)
    .bind(PER_KIND)
    .fetch_all(pool)
    .await?;
    for row in tenants {
        hits.push(hit(
            SupportHitKind::Tenant,
            &row.id,
            row.name.clone(),
            None,
            row.name,
            format!("slug {}", row.slug),
        )?);
    }

    let email_key = MatchKey {
        kind: KeyKind::Email,
        value: normalise_email(term),
    }
    .text();
    let records: Vec<AppRecordRow> = sqlx::query_as(
        "SELECT r.tenant_id, t.name AS tenant_name, e.kind AS environment, r.object, r.external_id, r.deleted_at \
         FROM app_records r JOIN tenants t ON t.id = r.tenant_id JOIN environments e ON e.id = r.environment_id \
         WHERE r.external_id = $1 OR EXISTS (SELECT 1 FROM app_record_keys k WHERE k.environment_id = r.environment_id \
               AND k.object = r.object AND k.external_id = r.external_id AND k.match_key = $2) \
         ORDER BY r.updated_at DESC LIMIT $3",
    )
    .bind(term)
    .bind(&email_key)
    .bind(PER_KIND)
    .fetch_all(pool)
    .await?;
    for row in records {
        let detail = if row.deleted_at.is_some() {
            "deleted in the app"
        } else {
            "in the app"
        };
        hits.push(SupportHit {
            record_id: Some(row.external_id.clone()),
            ..hit(
                SupportHitKind::AppRecord,
                &row.tenant_id,
                row.tenant_name,
                Some(&row.environment),
                format!("{} {}", row.object, row.external_id),
                detail.into(),
            )?
        });
    }

    let links: Vec<LinkRow> = sqlx::query_as(
        "SELECT l.tenant_id, t.name AS tenant_name, e.kind AS environment, l.pipeline_id, p.name AS pipeline_name, \
                CASE WHEN p.source_connection_id IS NULL THEN 1 ELSE 0 END AS source_is_app, l.source_id, l.target_id \
         FROM sync_links l JOIN pipelines p ON p.id = l.pipeline_id JOIN tenants t ON t.id = l.tenant_id \
              JOIN environments e ON e.id = p.environment_id \
         WHERE (l.source_id = $1 AND p.source_connection_id IS NOT NULL) \
            OR (l.target_id = $1 AND p.target_connection_id IS NOT NULL) \
         LIMIT $2",
    )
    .bind(term)
    .bind(PER_KIND)
    .fetch_all(pool)
    .await?;
    for row in links {
        let other = if row.source_id == term {
            &row.target_id
        } else {
            &row.source_id
        };
        let other_side = if row.source_is_app == 1 || row.target_id == term {
            "the app's"
        } else {
            "the other CRM's"
        };
        hits.push(SupportHit {
            pipeline_id: Some(parse_id(&row.pipeline_id, "pipeline id")?),
            record_id: Some(term.to_string()),
            ..hit(
                SupportHitKind::CrmRecord,
                &row.tenant_id,
                row.tenant_name,
                Some(&row.environment),
                term.to_string(),
                format!("pipeline {}: linked to {other_side} {other}", row.pipeline_name),
            )?
        });
    }

    let runs: Vec<RunRow> = sqlx::query_as(
        "SELECT r.id, r.tenant_id, t.name AS tenant_name, e.kind AS environment, r.pipeline_id, \
                p.name AS pipeline_name, r.status, r.trigger_kind \
         FROM sync_runs r JOIN pipelines p ON p.id = r.pipeline_id JOIN tenants t ON t.id = r.tenant_id \
              JOIN environments e ON e.id = p.environment_id \
         WHERE r.id = $1",
    )
    .bind(term)
    .fetch_all(pool)
    .await?;
    for row in runs {
        hits.push(SupportHit {
            pipeline_id: Some(parse_id(&row.pipeline_id, "pipeline id")?),
            run_id: Some(parse_id(&row.id, "run id")?),
            ..hit(
                SupportHitKind::Run,
                &row.tenant_id,
                row.tenant_name,
                Some(&row.environment),
                format!("Run of {}", row.pipeline_name),
                format!("{} ({})", row.status, row.trigger_kind),
            )?
        });
    }

    let failed: Vec<FailedRow> = sqlx::query_as(
        "SELECT f.id, f.tenant_id, t.name AS tenant_name, e.kind AS environment, f.pipeline_id, \
                p.name AS pipeline_name, f.run_id, f.record_id, f.record_email, f.status, f.error_kind, f.error_message \
         FROM failed_records f JOIN pipelines p ON p.id = f.pipeline_id JOIN tenants t ON t.id = f.tenant_id \
              JOIN environments e ON e.id = p.environment_id \
         WHERE f.id = $1 OR f.record_id = $1 OR lower(f.record_email) = $2 \
         ORDER BY f.updated_at DESC LIMIT $3",
    )
    .bind(term)
    .bind(normalise_email(term))
    .bind(PER_KIND)
    .fetch_all(pool)
    .await?;
    for row in failed {
        let title = format!(
            "{}{}",
            row.record_id,
            row.record_email.map(|e| format!(" ({e})")).unwrap_or_default()
        );
        let detail = format!(
            "{} in {}: {} — {}",
            row.status, row.pipeline_name, row.error_kind, row.error_message
        );
        hits.push(SupportHit {
            pipeline_id: Some(parse_id(&row.pipeline_id, "pipeline id")?),
            run_id: row.run_id.as_deref().map(|r| parse_id(r, "run id")).transpose()?,
            failed_record_id: Some(parse_id(&row.id, "failed record id")?),
            record_id: Some(row.record_id),
            ..hit(
                SupportHitKind::FailedRecord,
                &row.tenant_id,
                row.tenant_name,
                Some(&row.environment),
                title,
                detail,
            )?
        });
    }
    Ok(hits)
}
