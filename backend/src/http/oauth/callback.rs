use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::http::extract::request_id;
use crate::oauth::flow::{self, CallbackError, CallbackParams};
use crate::services::connections;
use crate::state::AppState;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A page, not a redirect: after a cross-site consent page the browser withholds the
/// SameSite=Strict session cookie from redirects, but sends it on the navigation this page starts.
fn page(status: actix_web::http::StatusCode, title: &str, message: &str, next: &str, automatic: bool) -> HttpResponse {
    let refresh = if automatic {
        format!("<meta http-equiv=\"refresh\" content=\"0;url={}\">", escape(next))
    } else {
        String::new()
    };
    HttpResponse::build(status).content_type("text/html; charset=utf-8").insert_header(("Cache-Control", "no-store")).body(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · Tandem</title>{refresh}\
         <link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/assets/style.css\"></head>\
         <body class=\"callback\"><main class=\"callback-card\" data-testid=\"oauth-result\"><h1>{title}</h1><p>{message}</p>\
         <p><a href=\"{next}\">Back to Tandem</a></p></main></body></html>",
        title = escape(title),
        message = escape(message),
        next = escape(next),
    ))
}

/// Where CRMs send the person back after their consent page.
#[utoipa::path(
    tag = "connections",
    params(
        ("state" = Option<String>, Query, description = "The state Tandem sent"),
        ("code" = Option<String>, Query),
        ("error" = Option<String>, Query),
        ("error_description" = Option<String>, Query),
    ),
    responses(
        (status = 200, description = "Connected: an HTML page that returns to Tandem", content_type = "text/html"),
        (status = 400, description = "Unknown, used or expired state; denied consent; failed exchange", content_type = "text/html"),
    )
)]
#[get("/oauth/callback")]
pub async fn oauth_callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<CallbackParams>,
) -> HttpResponse {
    let authorized = flow::callback(&state.crm, &state.db, &state.vault, query.into_inner()).await;
    let result = match authorized {
        Ok(authorized) => {
            let tenant = authorized.tenant.id;
            connections::complete(&state.db, &state.vault, authorized, request_id(&req))
                .await
                .map(|c| (tenant, c))
        }
        Err(error) => Err(error),
    };
    match result {
        Ok((tenant, connection)) => {
            tracing::info!(connection_id = %connection.id, provider = %connection.provider, "connection authorized");
            let next = format!(
                "/t/{tenant}/connections?connected={}&environment={}",
                connection.provider,
                connection.environment.as_str()
            );
            page(
                actix_web::http::StatusCode::OK,
                &format!("{} connected", connection.provider_name),
                &format!(
                    "Tandem is now connected to {} ({}). Returning to Tandem…",
                    connection.account_name, connection.provider_name
                ),
                &next,
                true,
            )
        }
        Err(error) => {
            let status = match error {
                CallbackError::Internal(_) => actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                _ => actix_web::http::StatusCode::BAD_REQUEST,
            };
            tracing::warn!(%error, "an OAuth callback failed");
            page(status, "The connection was not made", &error.to_string(), "/", false)
        }
    }
}
