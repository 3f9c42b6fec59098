//! The Leptos frontend: static assets from `server.ui_dir`, and `index.html` for every other GET
//! so that client-side routes survive a reload.

use actix_files::NamedFile;
use actix_web::http::Method;
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};
use tandem_shared::ErrorCode;

use super::error::ApiError;
use crate::state::AppState;

pub async fn fallback(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    // A known address with another method: the router matched no guard, so say so.
    if req.resource_map().has_resource(path) {
        return Err(ApiError::new(
            ErrorCode::MethodNotAllowed,
            "this HTTP method is not supported at this address",
        ));
    }
    if path.starts_with("/api/") || path == "/api" || path == "/metrics" || path.starts_with("/pkg/") {
        return Err(ApiError::new(ErrorCode::NotFound, "there is nothing at this address"));
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return Err(ApiError::new(
            ErrorCode::MethodNotAllowed,
            "this HTTP method is not supported at this address",
        ));
    }
    let index = state.settings.server.ui_dir.join("index.html");
    match NamedFile::open(&index) {
        Ok(file) => {
            let mut response = file.into_response(&req);
            response.headers_mut().insert(
                actix_web::http::header::CACHE_CONTROL,
                CacheControl(vec![CacheDirective::NoCache])
                    .to_string()
                    .parse()
                    .map_err(|e| ApiError::internal(&e))?,
            );
            Ok(response)
        }
        Err(_) => Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(format!(
                "<!doctype html><title>Tandem</title><h1>Tandem is running</h1>\
             <p>The web UI is not built (no {}). Run <code>./scripts/run</code>, which builds it, or \
             use the API at <a href=\"/api/openapi.json\">/api/openapi.json</a>.</p>",
                index.display()
            ))),
    }
}
