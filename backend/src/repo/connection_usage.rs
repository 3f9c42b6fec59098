//! API calls made per connection and quota window.

use tandem_shared::ids::ConnectionId;

use super::{Exec, RepoError};

pub async fn get<'c>(exec: impl Exec<'c>, connection_id: ConnectionId, window_start: i64) -> Result<i64, RepoError> {
    let calls: Option<i64> =
        sqlx::query_scalar("SELECT calls FROM connection_usage WHERE connection_id = $1 AND window_start = $2")
            .bind(connection_id.to_string())
            .bind(window_start)
            .fetch_optional(exec)
            .await?;
    Ok(calls.unwrap_or(0))
}

pub async fn add<'c>(
    exec: impl Exec<'c>,
    connection_id: ConnectionId,
    window_start: i64,
    calls: i64,
) -> Result<(), RepoError> {
    sqlx::query(
        "INSERT INTO connection_usage (connection_id, window_start, calls) VALUES ($1, $2, $3) \
         ON CONFLICT (connection_id, window_start) DO UPDATE SET calls = connection_usage.calls + excluded.calls",
    )
    .bind(connection_id.to_string())
    .bind(window_start)
    .bind(calls)
    .execute(exec)
    .await?;
    Ok(())
}
