//! What a pipeline has read of each CRM side: every record's id and modification time as last
//! read, deletions marked. Written with each page (one statement per page); read by the daily
//! reconciliation, which compares its counts with the CRM's range by range.

use sqlx::AssertSqlSafe;
use tandem_shared::api::pipelines::Side;
use tandem_shared::ids::PipelineId;

use super::{Exec, RepoError, Tx};

/// One record as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub side: Side,
    pub record_id: String,
    pub modified_at: i64,
    pub deleted: bool,
}

/// Rows a statement writes at most (six values each: well inside both databases' limits).
const CHUNK: usize = 500;

/// Records what a page read, at `now_ms`.
pub async fn record(tx: &mut Tx, pipeline_id: PipelineId, seen: &[Seen], now_ms: i64) -> Result<(), RepoError> {
    // One row per record and side in a statement: the last reading of a record wins.
    let mut latest: std::collections::HashMap<(Side, &str), &Seen> = std::collections::HashMap::new();
    for s in seen {
        latest.insert((s.side, s.record_id.as_str()), s);
    }
    let rows: Vec<&Seen> = latest.into_values().collect();
    for chunk in rows.chunks(CHUNK) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let b = i * 6;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO sync_seen (pipeline_id, side, record_id, modified_at, deleted, read_at) VALUES {} \
             ON CONFLICT (pipeline_id, side, record_id) DO UPDATE SET modified_at = excluded.modified_at, \
             deleted = excluded.deleted, read_at = excluded.read_at",
            values.join(", ")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for s in chunk {
            query = query
                .bind(pipeline_id.to_string())
                .bind(s.side.as_str())
                .bind(&s.record_id)
                .bind(s.modified_at)
                .bind(i64::from(s.deleted))
                .bind(now_ms);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Live records read with a modification time in `[from, to)` (open where `None`).
pub async fn count<'c>(
    exec: impl Exec<'c>,
    pipeline_id: PipelineId,
    side: Side,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<i64, RepoError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM sync_seen WHERE pipeline_id = $1 AND side = $2 AND deleted = 0 \
         AND modified_at >= $3 AND modified_at < $4",
    )
    .bind(pipeline_id.to_string())
    .bind(side.as_str())
    .bind(from.unwrap_or(i64::MIN))
    .bind(to.unwrap_or(i64::MAX))
    .fetch_one(exec)
    .await?)
}

/// The modification time of the live record at `offset` in time order (to cut ranges holding
/// about as many records each).
pub async fn time_at<'c>(
    exec: impl Exec<'c>,
    pipeline_id: PipelineId,
    side: Side,
    from: Option<i64>,
    to: Option<i64>,
    offset: i64,
) -> Result<Option<i64>, RepoError> {
    Ok(sqlx::query_scalar(
        "SELECT modified_at FROM sync_seen WHERE pipeline_id = $1 AND side = $2 AND deleted = 0 \
         AND modified_at >= $3 AND modified_at < $4 ORDER BY modified_at LIMIT 1 OFFSET $5",
    )
    .bind(pipeline_id.to_string())
    .bind(side.as_str())
    .bind(from.unwrap_or(i64::MIN))
    .bind(to.unwrap_or(i64::MAX))
    .bind(offset)
    .fetch_optional(exec)
    .await?)
}

/// The live records in `[from, to)` not read since `since_ms` (a re-read of the range did not
/// find them there): deleted in the CRM without Tandem seeing it, or changed since.
pub async fn unread_since<'c>(
    exec: impl Exec<'c>,
    pipeline_id: PipelineId,
    side: Side,
    from: Option<i64>,
    to: Option<i64>,
    since_ms: i64,
) -> Result<Vec<String>, RepoError> {
    Ok(sqlx::query_scalar(
        "SELECT record_id FROM sync_seen WHERE pipeline_id = $1 AND side = $2 AND deleted = 0 \
         AND modified_at >= $3 AND modified_at < $4 AND read_at < $5 ORDER BY record_id",
    )
    .bind(pipeline_id.to_string())
    .bind(side.as_str())
    .bind(from.unwrap_or(i64::MIN))
    .bind(to.unwrap_or(i64::MAX))
    .bind(since_ms)
    .fetch_all(exec)
    .await?)
}

/// The modification times last read for these records (those read at all).
pub async fn modified_of<'c>(
    exec: impl Exec<'c>,
    pipeline_id: PipelineId,
    side: Side,
    ids: &[String],
) -> Result<std::collections::HashMap<String, i64>, RepoError> {
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 3)).collect();
    let sql = format!(
        "SELECT record_id, modified_at FROM sync_seen WHERE pipeline_id = $1 AND side = $2 AND deleted = 0 \
         AND record_id IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as::<_, (String, i64)>(AssertSqlSafe(sql))
        .bind(pipeline_id.to_string())
        .bind(side.as_str());
    for id in ids {
        query = query.bind(id);
    }
    Ok(query.fetch_all(exec).await?.into_iter().collect())
}
