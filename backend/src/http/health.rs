use actix_web::{HttpResponse, get, web};
use tandem_shared::api::health::Readiness;
use tandem_shared::{ErrorBody, ErrorCode};

use super::error::ApiError;
use crate::state::AppState;

/// Alive: the process answers. Says nothing about the database.
#[utoipa::path(tag = "operations", responses((status = 200, description = "The process is alive")))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// Ready: the database answers and every migration is applied.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, body = Readiness),
        (status = 503, description = "Not ready; the message says why", body = ErrorBody),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<web::Json<Readiness>, ApiError> {
    let (applied, expected) = state.db.migration_status().await.map_err(|error| {
        ApiError::new(
            ErrorCode::Unavailable,
            format!("the database cannot be reached: {error}"),
        )
    })?;
    if applied < expected {
        return Err(ApiError::new(
            ErrorCode::Unavailable,
            format!(
                "{} of {expected} migrations are not applied; run `tandem migrate`",
                expected - applied
            ),
        ));
    }
    Ok(web::Json(Readiness {
        ready: true,
        database: state.db.backend().as_str().to_string(),
        migrations_applied: applied,
        migrations_expected: expected,
    }))
}
