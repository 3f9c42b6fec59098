//! Records the operator's app pushed, per tenant environment.

use serde_json::Value;
use tandem_shared::api::records::StoredRecord;
use tandem_shared::ids::{EnvironmentId, TenantId};
use tandem_shared::model::AppObject;

use super::{Exec, RepoError, to_datetime};

#[derive(sqlx::FromRow)]
struct Row {
    object: String,
    external_id: String,
    payload: String,
    content_hash: String,
    version: i64,
    deleted_at: Option<i64>,
    updated_at: i64,
}

impl TryFrom<Row> for StoredRecord {
    type Error = RepoError;
    fn try_from(row: Row) -> Result<Self, RepoError> {
        Ok(StoredRecord {
            object: AppObject::parse(&row.object)
                .ok_or_else(|| RepoError::Corrupt(format!("object {:?}", row.object)))?,
            external_id: row.external_id,
            data: serde_json::from_str(&row.payload).map_err(|e| RepoError::Corrupt(format!("record payload: {e}")))?,
            content_hash: row.content_hash,
            version: row.version,
            deleted: row.deleted_at.is_some(),
            updated_at: to_datetime(row.updated_at),
        })
    }
}

pub async fn get<'c>(
    exec: impl Exec<'c>,
    environment_id: EnvironmentId,
    object: AppObject,
    external_id: &str,
) -> Result<Option<StoredRecord>, RepoError> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT object, external_id, payload, content_hash, version, deleted_at, updated_at FROM app_records \
         WHERE environment_id = $1 AND object = $2 AND external_id = $3",
    )
    .bind(environment_id.to_string())
    .bind(object.as_str())
    .bind(external_id)
    .fetch_optional(exec)
    .await?;
    row.map(StoredRecord::try_from).transpose()
}

pub struct Upsert<'a> {
    pub tenant_id: TenantId,
    pub environment_id: EnvironmentId,
    pub object: AppObject,
    pub external_id: &'a str,
    pub payload: &'a Value,
    pub content_hash: &'a str,
    /// From `change_sequences::take` earlier in the same transaction.
    pub change_seq: i64,
    pub now_ms: i64,
}

/// Stores the record if its content changed (or it was deleted). Returns the new version, or
/// `None` when the content was already there and nothing was written.
pub async fn upsert_if_changed<'c>(exec: impl Exec<'c>, record: Upsert<'_>) -> Result<Option<i64>, RepoError> {
    let version: Option<i64> = sqlx::query_scalar(
        "INSERT INTO app_records (tenant_id, environment_id, object, external_id, payload, content_hash, version, \
                                  change_seq, deleted_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 1, $8, NULL, $7, $7) \
         ON CONFLICT (environment_id, object, external_id) DO UPDATE SET \
           payload = excluded.payload, content_hash = excluded.content_hash, version = app_records.version + 1, \
           change_seq = excluded.change_seq, deleted_at = NULL, updated_at = excluded.updated_at \
         WHERE app_records.content_hash <> excluded.content_hash OR app_records.deleted_at IS NOT NULL \
         RETURNING version",
    )
    .bind(record.tenant_id.to_string())
    .bind(record.environment_id.to_string())
    .bind(record.object.as_str())
    .bind(record.external_id)
    .bind(record.payload.to_string())
    .bind(record.content_hash)
    .bind(record.now_ms)
    .bind(record.change_seq)
    .fetch_optional(exec)
    .await?;
    Ok(version)
}

/// Marks the record deleted (it stays, so the deletion can be synced); returns its new version,
/// or `None` if there is no such live record.
pub async fn mark_deleted<'c>(
    exec: impl Exec<'c>,
    environment_id: EnvironmentId,
    object: AppObject,
    external_id: &str,
    change_seq: i64,
    now_ms: i64,
) -> Result<Option<i64>, RepoError> {
    Ok(sqlx::query_scalar(
        "UPDATE app_records SET deleted_at = $1, updated_at = $1, version = version + 1, change_seq = $5 \
         WHERE environment_id = $2 AND object = $3 AND external_id = $4 AND deleted_at IS NULL RETURNING version",
    )
    .bind(now_ms)
    .bind(environment_id.to_string())
    .bind(object.as_str())
    .bind(external_id)
    .bind(change_seq)
    .fetch_optional(exec)
    .await?)
}

/// Replaces the record's match keys (none for a deleted record).
pub async fn set_keys(
    tx: &mut super::Tx,
    environment_id: EnvironmentId,
    object: AppObject,
    external_id: &str,
    keys: &[String],
) -> Result<(), RepoError> {
    sqlx::query("DELETE FROM app_record_keys WHERE environment_id = $1 AND object = $2 AND external_id = $3")
        .bind(environment_id.to_string())
        .bind(object.as_str())
        .bind(external_id)
        .execute(&mut **tx)
        .await?;
    for key in keys {
        sqlx::query(
            "INSERT INTO app_record_keys (environment_id, object, match_key, external_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(environment_id.to_string())
        .bind(object.as_str())
        .bind(key)
        .bind(external_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Replaces the match keys of several records (none for a deleted one) in three statements
/// per few hundred records.
pub async fn set_keys_many(
    tx: &mut super::Tx,
    environment_id: EnvironmentId,
    object: AppObject,
    records: &[(String, Vec<String>)],
) -> Result<(), RepoError> {
    for chunk in records.chunks(200) {
        let ids: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "DELETE FROM app_record_keys WHERE environment_id = $1 AND object = $2 AND external_id IN ({})",
            ids.join(", ")
        );
        let mut delete = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(environment_id.to_string())
            .bind(object.as_str());
        for (external_id, _) in chunk {
            delete = delete.bind(external_id);
        }
        delete.execute(&mut **tx).await?;
        let pairs: Vec<(&String, &String)> = chunk
            .iter()
            .flat_map(|(id, keys)| keys.iter().map(move |k| (id, k)))
            .collect();
        for rows in pairs.chunks(200) {
            let values: Vec<String> = (0..rows.len())
                .map(|i| format!("($1, $2, ${}, ${})", i * 2 + 3, i * 2 + 4))
                .collect();
            let sql = format!(
                "INSERT INTO app_record_keys (environment_id, object, match_key, external_id) VALUES {} \
                 ON CONFLICT DO NOTHING",
                values.join(", ")
            );
            let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(environment_id.to_string())
                .bind(object.as_str());
            for (external_id, key) in rows {
                insert = insert.bind(*key).bind(*external_id);
            }
            insert.execute(&mut **tx).await?;
        }
    }
    Ok(())
}

/// The live records that have any of `keys`: (key, external id) pairs.
pub async fn find_by_keys<'c>(
    exec: impl Exec<'c>,
    environment_id: EnvironmentId,
    object: AppObject,
    keys: &[String],
) -> Result<Vec<(String, String)>, RepoError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (0..keys.len()).map(|i| format!("${}", i + 3)).collect();
    let sql = format!(
        "SELECT match_key, external_id FROM app_record_keys WHERE environment_id = $1 AND object = $2 \
         AND match_key IN ({}) ORDER BY match_key, external_id",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(environment_id.to_string())
        .bind(object.as_str());
    for key in keys {
        query = query.bind(key);
    }
    Ok(query.fetch_all(exec).await?)
}

/// A record as the sync engine reads it: with its change number.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangedRecord {
    pub record: StoredRecord,
    pub change_seq: i64,
}

#[derive(sqlx::FromRow)]
struct ChangedRow {
    object: String,
    external_id: String,
    payload: String,
    content_hash: String,
    version: i64,
    deleted_at: Option<i64>,
    updated_at: i64,
    change_seq: i64,
}

fn changed(row: ChangedRow) -> Result<ChangedRecord, RepoError> {
    let change_seq = row.change_seq;
    let record = StoredRecord::try_from(Row {
        object: row.object,
        external_id: row.external_id,
        payload: row.payload,
        content_hash: row.content_hash,
        version: row.version,
        deleted_at: row.deleted_at,
        updated_at: row.updated_at,
    })?;
    Ok(ChangedRecord { record, change_seq })
}

/// Records of `object` changed after change number `after_seq`, in change order.
pub async fn changed_after<'c>(
    exec: impl Exec<'c>,
    environment_id: EnvironmentId,
    object: AppObject,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<ChangedRecord>, RepoError> {
    let rows: Vec<ChangedRow> = sqlx::query_as(
        "SELECT object, external_id, payload, content_hash, version, deleted_at, updated_at, change_seq \
         FROM app_records WHERE environment_id = $1 AND object = $2 AND change_seq > $3 \
         ORDER BY change_seq LIMIT $4",
    )
    .bind(environment_id.to_string())
    .bind(object.as_str())
    .bind(after_seq)
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.into_iter().map(changed).collect()
}

/// The change number of the object's latest change in the environment (0: none yet).
pub async fn latest_seq<'c>(
    exec: impl Exec<'c>,
    environment_id: EnvironmentId,
    object: AppObject,
) -> Result<i64, RepoError> {
    let latest: Option<i64> =
        sqlx::query_scalar("SELECT MAX(change_seq) FROM app_records WHERE environment_id = $1 AND object = $2")
            .bind(environment_id.to_string())
            .bind(object.as_str())
            .fetch_one(exec)
            .await?;
    Ok(latest.unwrap_or(0))
}

/// Several records by the app's ids (deleted ones included).
pub async fn get_many<'c>(
    exec: impl Exec<'c>,
    environment_id: EnvironmentId,
    object: AppObject,
    external_ids: &[String],
) -> Result<Vec<ChangedRecord>, RepoError> {
    if external_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (0..external_ids.len()).map(|i| format!("${}", i + 3)).collect();
    let sql = format!(
        "SELECT object, external_id, payload, content_hash, version, deleted_at, updated_at, change_seq \
         FROM app_records WHERE environment_id = $1 AND object = $2 AND external_id IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as::<_, ChangedRow>(sqlx::AssertSqlSafe(sql))
        .bind(environment_id.to_string())
        .bind(object.as_str());
    for id in external_ids {
        query = query.bind(id);
    }
    query.fetch_all(exec).await?.into_iter().map(changed).collect()
}

/// How many live records of `object` the environment has (the size of an initial load).
pub async fn count_live<'c>(
    exec: impl Exec<'c>,
    environment_id: EnvironmentId,
    object: AppObject,
) -> Result<i64, RepoError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM app_records WHERE environment_id = $1 AND object = $2 AND deleted_at IS NULL",
    )
    .bind(environment_id.to_string())
    .bind(object.as_str())
    .fetch_one(exec)
    .await?)
}
