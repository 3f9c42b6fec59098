//! Request metrics, one log line per request, and the Prometheus scrape endpoint.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

use crate::state::AppState;
use crate::telemetry::{HTTP_DURATION, HTTP_REQUESTS, process_collector};

/// Middleware: counts requests by method, route pattern (not the raw path, so ids do not
/// explode the label set) and status, and records their latency.
pub async fn track(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = request.method().to_string();
    let response = next.call(request).await?;
    let elapsed = started.elapsed();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let status = response.status().as_u16();
    metrics::counter!(HTTP_REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!(HTTP_DURATION, "method" => method.clone(), "route" => route.clone())
        .record(elapsed.as_secs_f64());
    tracing::info!(%method, %route, status, duration_ms = elapsed.as_millis() as u64, "request finished");
    Ok(response)
}

/// `GET /metrics` in the Prometheus text format.
pub async fn serve(state: web::Data<AppState>) -> HttpResponse {
    process_collector().collect();
    state.metrics.run_upkeep();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}
