use std::time::Duration;

use actix_web::http::header::{CacheControl, CacheDirective, ContentEncoding};
use actix_web::{HttpResponse, get, web};
use tandem_shared::ErrorBody;
use tandem_shared::ids::{PipelineId, TenantId};

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::services::sync_history;
use crate::state::AppState;

/// How many runs each event carries: the latest ones, as `…/runs?limit=20` lists them.
const RUNS: i64 = 20;
/// How often the runs are read again.
const EVERY: Duration = Duration::from_secs(1);
/// A comment line this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE_TICKS: u32 = 15;
/// The stream ends after this many ticks (five minutes); the browser's EventSource connects
/// again by itself, which also checks the session again.
const MAX_TICKS: u32 = 300;

struct Feed {
    state: web::Data<AppState>,
    principal: Principal,
    tenant_id: TenantId,
    pipeline_id: PipelineId,
    last: String,
    ticks: u32,
}

/// The pipeline's latest runs as server-sent events, for live progress without reloading:
/// `event: runs` with the same JSON as `…/runs?limit=20`, sent at once and whenever a run's
/// counts, progress or status change (checked every second).
#[utoipa::path(
    tag = "history",
    security(("session" = [])),
    params(("tenant_id" = TenantId, Path), ("pipeline_id" = PipelineId, Path)),
    responses(
        (status = 200, content_type = "text/event-stream", description = "`event: runs`, `data: [Run, …]`"),
        (status = 404, body = ErrorBody)
    )
)]
#[get("/tenants/{tenant_id}/pipelines/{pipeline_id}/runs/stream")]
pub async fn stream_runs(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(TenantId, PipelineId)>,
) -> Result<HttpResponse, ApiError> {
    let (tenant_id, pipeline_id) = path.into_inner();
    // Checked before the stream starts, so that a wrong id is a plain 404.
    sync_history::runs(&state, &principal, tenant_id, pipeline_id, Some(RUNS)).await?;
    let feed = Feed {
        state,
        principal,
        tenant_id,
        pipeline_id,
        last: String::new(),
        ticks: 0,
    };
    let events = futures_util::stream::unfold(feed, |mut feed| async move {
        loop {
            if feed.ticks >= MAX_TICKS {
                return None;
            }
            if feed.ticks > 0 {
                tokio::time::sleep(EVERY).await;
            }
            feed.ticks += 1;
            // Access lost (the pipeline deleted, say): the stream ends.
            let runs = sync_history::runs(
                &feed.state,
                &feed.principal,
                feed.tenant_id,
                feed.pipeline_id,
                Some(RUNS),
            )
            .await
            .ok()?;
            let json = serde_json::to_string(&runs).ok()?;
            let chunk = if json != feed.last {
                let chunk = format!("retry: 2000\nevent: runs\ndata: {json}\n\n");
                feed.last = json;
                chunk
            } else if feed.ticks % KEEP_ALIVE_TICKS == 0 {
                ": still here\n\n".to_string()
            } else {
                continue;
            };
            return Some((Ok::<_, actix_web::Error>(web::Bytes::from(chunk)), feed));
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(CacheControl(vec![CacheDirective::NoCache]))
        // Compressing would hold events back until a buffer fills.
        .insert_header(ContentEncoding::Identity)
        .streaming(events))
}
