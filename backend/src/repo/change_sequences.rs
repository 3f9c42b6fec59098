//! Gap-tolerant, commit-ordered change numbers per environment and stream (see the
//! `change_sequences` table). Call first in a transaction: the row stays locked until commit.

use tandem_shared::ids::EnvironmentId;

use super::{Exec, RepoError};

/// The change stream of records the app pushed.
pub const APP_RECORDS: &str = "app_records";

/// Takes `count` numbers and returns the last; the block is `last - count + 1 ..= last`.
pub async fn take<'c>(
    exec: impl Exec<'c>,
    environment_id: EnvironmentId,
    stream: &str,
    count: i64,
) -> Result<i64, RepoError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO change_sequences (environment_id, stream, last_seq) VALUES ($1, $2, $3) \
         ON CONFLICT (environment_id, stream) DO UPDATE SET last_seq = change_sequences.last_seq + excluded.last_seq \
         RETURNING last_seq",
    )
    .bind(environment_id.to_string())
    .bind(stream)
    .bind(count)
    .fetch_one(exec)
    .await?)
}
