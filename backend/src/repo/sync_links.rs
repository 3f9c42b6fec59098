//! Links: which record on the target side is which on the source side, and what was last synced
//! between them. Also the pipelines' change cursors.

use std::collections::HashMap;

use serde_json::Value;
use sqlx::AssertSqlSafe;
use tandem_shared::api::pipelines::Side;
use tandem_shared::ids::{PipelineId, TenantId};

use super::{Exec, RepoError, Tx};

#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub source_id: String,
    pub target_id: String,
    pub forward_hash: Option<String>,
    pub reverse_hash: Option<String>,
    pub base: Option<Value>,
    /// Two-way only: the CRM's copy as of the last sync, in the app's model.
    pub crm_base: Option<Value>,
    pub app_version: Option<i64>,
    pub source_modified_at: Option<i64>,
    pub target_modified_at: Option<i64>,
    pub deleted_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    source_id: String,
    target_id: String,
    forward_hash: Option<String>,
    reverse_hash: Option<String>,
    base: Option<String>,
    crm_base: Option<String>,
    app_version: Option<i64>,
    source_modified_at: Option<i64>,
    target_modified_at: Option<i64>,
    deleted_at: Option<i64>,
}

impl TryFrom<LinkRow> for Link {
    type Error = RepoError;
    fn try_from(row: LinkRow) -> Result<Self, RepoError> {
        Ok(Link {
            source_id: row.source_id,
            target_id: row.target_id,
            forward_hash: row.forward_hash,
            reverse_hash: row.reverse_hash,
            base: row
                .base
                .map(|b| serde_json::from_str(&b))
                .transpose()
                .map_err(|e| RepoError::Corrupt(format!("link base: {e}")))?,
            crm_base: row
                .crm_base
                .map(|b| serde_json::from_str(&b))
                .transpose()
                .map_err(|e| RepoError::Corrupt(format!("link crm_base: {e}")))?,
            app_version: row.app_version,
            source_modified_at: row.source_modified_at,
            target_modified_at: row.target_modified_at,
            deleted_at: row.deleted_at,
        })
    }
}

const COLUMNS: &str = "source_id, target_id, forward_hash, reverse_hash, base, crm_base, app_version, source_modified_at, \
                       target_modified_at, deleted_at";

/// The links of the given ids on one side, by that side's id.
pub async fn by_ids<'c>(
    exec: impl Exec<'c>,
    pipeline_id: PipelineId,
    side: Side,
    ids: &[String],
) -> Result<HashMap<String, Link>, RepoError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let column = match side {
        Side::Source => "source_id",
        Side::Target => "target_id",
    };
    let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM sync_links WHERE pipeline_id = $1 AND {column} IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as::<_, LinkRow>(AssertSqlSafe(sql)).bind(pipeline_id.to_string());
    for id in ids {
        query = query.bind(id);
    }
    let rows = query.fetch_all(exec).await?;
    let mut links = HashMap::with_capacity(rows.len());
    for row in rows {
        let link = Link::try_from(row)?;
        let key = match side {
            Side::Source => link.source_id.clone(),
            Side::Target => link.target_id.clone(),
        };
        links.insert(key, link);
    }
    Ok(links)
}

/// Writes links (insert or replace by source id), a hundred per statement. A record can be
/// re-linked (its twin was deleted and created again): the old pairings of each target id go
/// first, so that the unique target id never blocks the new one. Within one call the last link
/// of a source or a target wins, as if they were written one by one.
pub async fn upsert(
    tx: &mut Tx,
    tenant_id: TenantId,
    pipeline_id: PipelineId,
    links: &[Link],
    now_ms: i64,
) -> Result<(), RepoError> {
    let mut kept: Vec<&Link> = Vec::with_capacity(links.len());
    for (i, link) in links.iter().enumerate() {
        let superseded = links[i + 1..]
            .iter()
            .any(|later| later.source_id == link.source_id || later.target_id == link.target_id);
        if !superseded {
            kept.push(link);
        }
    }
    for chunk in kept.chunks(100) {
        // Which targets are paired with another source now (both lookups by index; an OR of
        // pairs would scan the pipeline's links).
        let targets: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT source_id, target_id FROM sync_links WHERE pipeline_id = $1 AND target_id IN ({})",
            targets.join(", ")
        );
        let mut query = sqlx::query_as::<_, (String, String)>(AssertSqlSafe(sql)).bind(pipeline_id.to_string());
        for link in chunk {
            query = query.bind(&link.target_id);
        }
        let stale: Vec<String> = query
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .filter(|(source, target)| {
                chunk
                    .iter()
                    .any(|link| &link.target_id == target && &link.source_id != source)
            })
            .map(|(source, _)| source)
            .collect();
        if !stale.is_empty() {
            let sources: Vec<String> = (0..stale.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "DELETE FROM sync_links WHERE pipeline_id = $1 AND source_id IN ({})",
                sources.join(", ")
            );
            let mut delete = sqlx::query(AssertSqlSafe(sql)).bind(pipeline_id.to_string());
            for source in &stale {
                delete = delete.bind(source);
            }
            delete.execute(&mut **tx).await?;
        }

        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p: Vec<String> = (1..=13).map(|c| format!("${}", i * 13 + c)).collect();
                format!("({}, {})", p.join(", "), p[12])
            })
            .collect();
        let sql = format!(
            "INSERT INTO sync_links (tenant_id, pipeline_id, source_id, target_id, forward_hash, reverse_hash, base, \
                                     crm_base, app_version, source_modified_at, target_modified_at, deleted_at, \
                                     created_at, last_synced_at) \
             VALUES {} \
             ON CONFLICT (pipeline_id, source_id) DO UPDATE SET target_id = excluded.target_id, \
               forward_hash = excluded.forward_hash, reverse_hash = excluded.reverse_hash, base = excluded.base, \
               crm_base = excluded.crm_base, \
               app_version = excluded.app_version, source_modified_at = excluded.source_modified_at, \
               target_modified_at = excluded.target_modified_at, deleted_at = excluded.deleted_at, \
               last_synced_at = excluded.last_synced_at",
            values.join(", ")
        );
        let mut insert = sqlx::query(AssertSqlSafe(sql));
        for link in chunk {
            insert = insert
                .bind(tenant_id.to_string())
                .bind(pipeline_id.to_string())
                .bind(&link.source_id)
                .bind(&link.target_id)
                .bind(&link.forward_hash)
                .bind(&link.reverse_hash)
                .bind(link.base.as_ref().map(Value::to_string))
                .bind(link.crm_base.as_ref().map(Value::to_string))
                .bind(link.app_version)
                .bind(link.source_modified_at)
                .bind(link.target_modified_at)
                .bind(link.deleted_at)
                .bind(now_ms);
        }
        insert.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Live links of a pipeline (for the share of deletions a run may apply).
pub async fn count_live<'c>(exec: impl Exec<'c>, pipeline_id: PipelineId) -> Result<i64, RepoError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM sync_links WHERE pipeline_id = $1 AND deleted_at IS NULL")
            .bind(pipeline_id.to_string())
            .fetch_one(exec)
            .await?,
    )
}

/// One page of a pipeline's live links, by source id, after `after`.
pub async fn page<'c>(
    exec: impl Exec<'c>,
    pipeline_id: PipelineId,
    after: &str,
    limit: i64,
) -> Result<Vec<Link>, RepoError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM sync_links WHERE pipeline_id = $1 AND deleted_at IS NULL AND source_id > $2 \
         ORDER BY source_id LIMIT $3"
    );
    let rows: Vec<LinkRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(pipeline_id.to_string())
        .bind(after)
        .bind(limit)
        .fetch_all(exec)
        .await?;
    rows.into_iter().map(Link::try_from).collect()
}

/// Where a pipeline's change read on `side` stands.
pub async fn cursor<'c>(exec: impl Exec<'c>, pipeline_id: PipelineId, side: Side) -> Result<Option<Value>, RepoError> {
    let text: Option<String> =
        sqlx::query_scalar("SELECT cursor FROM sync_cursors WHERE pipeline_id = $1 AND side = $2")
            .bind(pipeline_id.to_string())
            .bind(side.as_str())
            .fetch_optional(exec)
            .await?;
    text.map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|e| RepoError::Corrupt(format!("sync cursor: {e}")))
}

pub async fn set_cursor<'c>(
    exec: impl Exec<'c>,
    pipeline_id: PipelineId,
    side: Side,
    cursor: &Value,
    now_ms: i64,
) -> Result<(), RepoError> {
    sqlx::query(
        "INSERT INTO sync_cursors (pipeline_id, side, cursor, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (pipeline_id, side) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
    )
    .bind(pipeline_id.to_string())
    .bind(side.as_str())
    .bind(cursor.to_string())
    .bind(now_ms)
    .execute(exec)
    .await?;
    Ok(())
}
