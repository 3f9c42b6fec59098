//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` annotations as they
//! are mounted, and served at `/api/openapi.json`. The UI renders it at `/api-docs`.

use actix_web::web;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder};

pub fn base() -> OpenApi {
    let mut doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Tandem API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Tandem connects the operator's app to each tenant's CRM. People use the `session` \
                     cookie (log in at `/api/v1/auth/login`; send `X-CSRF-Token` with every write). \
                     The operator's app uses a tenant API key as `Authorization: Bearer <key>`. \
                     Every error has the body `{code, message, field?, request_id}`.",
                ))
                .build(),
        )
        .build();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::session::SESSION_COOKIE))),
    );
    components.add_security_scheme(
        "api_key",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("tdm_…")
                .build(),
        ),
    );
    doc
}

pub async fn serve(doc: web::Data<OpenApi>) -> web::Json<OpenApi> {
    web::Json(doc.get_ref().clone())
}
