//! Extractors: who is calling (session or API key), request bodies and query strings parsed with
//! errors that name the field, and the request id for audit entries.

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use tandem_shared::ErrorCode;
use tandem_shared::api::auth::CSRF_HEADER;
use tracing_actix_web::{RequestId, RootSpan};

use super::error::ApiError;
use crate::auth::session::SESSION_COOKIE;
use crate::auth::{self, AppPrincipal, Principal};
use crate::services::audit::Actor;
use crate::state::AppState;

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(&"application state is not configured"))
}

fn root_span(req: &HttpRequest) -> Option<RootSpan> {
    req.extensions().get::<RootSpan>().cloned()
}

pub fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<RequestId>().map(ToString::to_string)
}

/// Records the tenant a request is about in the request's log span.
fn record_tenant(req: &HttpRequest, tenant: Option<String>) {
    let tenant = tenant.or_else(|| req.match_info().get("tenant_id").map(str::to_string));
    if let (Some(span), Some(tenant)) = (root_span(req), tenant) {
        span.record("tenant_id", tenant.as_str());
    }
}

/// A person with a valid session. Requests other than GET/HEAD/OPTIONS must carry the session's
/// CSRF token in `X-CSRF-Token`.
impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = state(&req)?;
            let cookie = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
            let csrf = req
                .headers()
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let is_write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
            let principal = auth::principal::authenticate(
                &state.db,
                &state.settings.auth,
                cookie.as_deref(),
                csrf.as_deref(),
                is_write,
            )
            .await?;
            if let Some(span) = root_span(&req) {
                span.record("user_id", principal.session.user.id.to_string().as_str());
            }
            record_tenant(&req, principal.home_tenant().map(|t| t.to_string()));
            Ok(principal)
        })
    }
}

/// The operator's app, authenticated by `Authorization: Bearer <tenant API key>`.
impl FromRequest for AppPrincipal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = state(&req)?;
            let header = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
            let Some(token) = header.and_then(|h| h.strip_prefix("Bearer ")).map(str::trim) else {
                return Err(ApiError::new(
                    ErrorCode::Unauthenticated,
                    "send the tenant API key as `Authorization: Bearer <key>`",
                ));
            };
            let app = auth::api_key::authenticate(&state.db, token).await?;
            record_tenant(&req, Some(app.tenant_id.to_string()));
            Ok(app)
        })
    }
}

/// The author of a change made in this request, for the audit log.
pub fn actor(req: &HttpRequest, principal: &Principal) -> Actor {
    Actor::user(principal, request_id(req))
}

/// A JSON body. Unlike `web::Json`, a value of the wrong type names its field
/// (`role: unknown variant "owner", expected "admin" or "viewer"`).
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .mime_type()
            .ok()
            .flatten()
            .is_some_and(|mime| mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON));
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "send the body as JSON with `Content-Type: application/json`",
                ));
            }
            let bytes = body.await.map_err(|error| match error.as_error::<PayloadError>() {
                Some(PayloadError::Overflow) => ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    "the request body is larger than the server accepts",
                ),
                _ => ApiError::new(
                    ErrorCode::MalformedBody,
                    format!("the request body could not be read: {error}"),
                ),
            })?;
            parse_json(&bytes).map(JsonBody)
        })
    }
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let inner = error.inner();
        // Broken JSON has no field at fault; a value of the wrong shape does.
        let field = match inner.classify() {
            serde_json::error::Category::Data => field_of(&error.path().to_string(), &inner.to_string()),
            _ => None,
        };
        match field {
            Some(field) => ApiError::new(ErrorCode::InvalidField, format!("{field}: {inner}")).with_field(field),
            None => ApiError::new(
                ErrorCode::MalformedBody,
                format!("the body is not valid JSON for this request: {inner}"),
            ),
        }
    })
}

/// The dotted path of the field at fault. serde reports a missing field at its parent, naming
/// the field only in the message ("missing field `email`").
fn field_of(path: &str, message: &str) -> Option<String> {
    let parent = if path == "." || path.is_empty() {
        None
    } else {
        Some(path.to_string())
    };
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
        .map(str::to_string);
    match (parent, missing) {
        (Some(parent), Some(missing)) => Some(format!("{parent}.{missing}")),
        (None, Some(missing)) => Some(missing),
        (parent, None) => parent,
    }
}

/// A query string, with errors that name the parameter.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for QueryParams<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(form_urlencoded::parse(
            req.query_string().as_bytes(),
        )))
        .map(QueryParams)
        .map_err(|error| {
            let field = field_of(&error.path().to_string(), &error.inner().to_string());
            let message = format!("{}: {}", field.as_deref().unwrap_or("query"), error.inner());
            let api_error = ApiError::new(ErrorCode::InvalidParameter, message);
            match field {
                Some(field) => api_error.with_field(field),
                None => api_error,
            }
        });
        std::future::ready(parsed)
    }
}

/// Path parameters that do not parse: name the first id segment that is not a UUID.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error, req| {
        let bad = req
            .match_info()
            .iter()
            .find(|(name, value)| name.ends_with("_id") && uuid::Uuid::parse_str(value).is_err())
            .map(|(name, _)| name.to_string());
        let api_error = match bad {
            Some(name) => ApiError::new(
                ErrorCode::InvalidParameter,
                format!("{name}: is not a valid id (a UUID)"),
            )
            .with_field(name),
            None => ApiError::new(ErrorCode::InvalidParameter, format!("invalid path parameter: {error}")),
        };
        api_error.into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Outer {
        email: String,
        inner: Inner,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    #[test]
    fn errors_name_the_field_at_fault() {
        let err = parse_json::<Outer>(br#"{"inner": {"count": 1}}"#).expect_err("missing");
        assert_eq!(err.field.as_deref(), Some("email"));
        let err = parse_json::<Outer>(br#"{"email": "a@b.c", "inner": {"count": "x"}}"#).expect_err("type");
        assert_eq!(err.field.as_deref(), Some("inner.count"));
        assert_eq!(err.code, ErrorCode::InvalidField);
        let err = parse_json::<Outer>(br#"{"email": "a@b.c", "inner": {}}"#).expect_err("nested missing");
        assert_eq!(err.field.as_deref(), Some("inner.count"));
        let err = parse_json::<Outer>(b"{not json").expect_err("syntax");
        assert_eq!(err.code, ErrorCode::MalformedBody);
        assert!(err.field.is_none());
    }
}
