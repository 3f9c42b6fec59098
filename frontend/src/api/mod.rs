//! The only place that builds URLs and talks to the backend.
//!
//! Every function is typed and returns `Result<T, ApiFailure>`. Writes made with the session
//! cookie carry the CSRF token remembered from login or from `GET /auth/session`. A 401 on any
//! call except the login and the initial session probe is reported to the handler the app
//! registers with [`on_unauthorized`], which ends the local session and sends the person to the
//! login page.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod connections;
pub mod demo;
pub mod docs;
pub mod environments;
pub mod support;
pub mod sync;
pub mod tenants;
pub mod users;
pub mod webhooks;

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tandem_shared::api::auth::CSRF_HEADER;
use tandem_shared::{ErrorBody, ErrorCode};

pub const API: &str = "/api/v1";

/// Why a call failed.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiFailure {
    /// The server answered with an error body.
    Api {
        status: u16,
        body: ErrorBody,
        /// From `Retry-After`, for 429.
        retry_after_secs: Option<u64>,
    },
    /// The request did not get an answer (server down, network gone).
    Network(String),
    /// The server answered with something this UI cannot read.
    Unreadable(String),
}

impl ApiFailure {
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ApiFailure::Api { body, .. } => Some(body.code),
            _ => None,
        }
    }

    /// The field the server blamed, if any (`email`, `role` …).
    pub fn field(&self) -> Option<&str> {
        match self {
            ApiFailure::Api { body, .. } => body.field.as_deref(),
            _ => None,
        }
    }

    /// The server's own explanation, without a leading `field: ` it may carry.
    pub fn detail(&self) -> String {
        match self {
            ApiFailure::Api { body, .. } => match body.field.as_deref() {
                Some(field) => body
                    .message
                    .strip_prefix(&format!("{field}: "))
                    .unwrap_or(&body.message)
                    .to_string(),
                None => body.message.clone(),
            },
            ApiFailure::Network(message) | ApiFailure::Unreadable(message) => message.clone(),
        }
    }

    pub fn request_id(&self) -> Option<&str> {
        match self {
            ApiFailure::Api { body, .. } if !body.request_id.is_empty() => Some(&body.request_id),
            _ => None,
        }
    }

    /// A sentence a person can act on: what the code means plus what the server said.
    pub fn message(&self) -> String {
        match self {
            ApiFailure::Api {
                body, retry_after_secs, ..
            } => {
                if body.code == ErrorCode::TooManyRequests
                    && let Some(secs) = retry_after_secs
                {
                    return format!(
                        "Too many attempts. Wait {secs} {} and try again.",
                        if *secs == 1 { "second" } else { "seconds" }
                    );
                }
                let mut text = body.code.user_message().to_string();
                let detail = self.detail();
                if !detail.is_empty() && body.code != ErrorCode::InvalidCredentials {
                    text.push_str(" (");
                    text.push_str(&capitalise(&detail));
                    text.push(')');
                }
                if body.code == ErrorCode::Internal
                    && let Some(id) = self.request_id()
                {
                    text.push_str(&format!(" Request id: {id}."));
                }
                text
            }
            ApiFailure::Network(message) => {
                format!("Tandem could not be reached ({message}). Check your connection and try again.")
            }
            ApiFailure::Unreadable(message) => {
                format!("Tandem sent an answer this page cannot read ({message}). Reload the page.")
            }
        }
    }
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// `must be …` → `Must be …`.
pub fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

type Handler = Rc<dyn Fn(&ApiFailure)>;

thread_local! {
    static CSRF_TOKEN: RefCell<Option<String>> = const { RefCell::new(None) };
    static ON_UNAUTHORIZED: RefCell<Option<Handler>> = const { RefCell::new(None) };
}

/// Remembers (or forgets) the CSRF token sent with every write.
pub fn set_csrf_token(token: Option<String>) {
    CSRF_TOKEN.with(|slot| *slot.borrow_mut() = token);
}

/// Called whenever a session-authenticated call answers 401.
pub fn on_unauthorized(handler: impl Fn(&ApiFailure) + 'static) {
    ON_UNAUTHORIZED.with(|slot| *slot.borrow_mut() = Some(Rc::new(handler)));
}

fn report_unauthorized(failure: &ApiFailure) {
    let handler = ON_UNAUTHORIZED.with(|slot| slot.borrow().clone());
    if let Some(handler) = handler {
        handler(failure);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

/// How a 401 is treated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum On401 {
    /// The session ended: tell the app, which sends the person to the login page.
    EndSession,
    /// Expected (wrong password, no session yet): just return it.
    Return,
}

fn url(path: &str) -> String {
    format!("{API}{path}")
}

fn builder(method: Method, url: &str) -> RequestBuilder {
    let builder = match method {
        Method::Get => Request::get(url),
        Method::Post => Request::post(url),
        Method::Put => Request::put(url),
        Method::Patch => Request::patch(url),
        Method::Delete => Request::delete(url),
    };
    let builder = builder.header("Accept", "application/json");
    if method == Method::Get {
        builder
    } else {
        match CSRF_TOKEN.with(|slot| slot.borrow().clone()) {
            Some(token) => builder.header(CSRF_HEADER, &token),
            None => builder,
        }
    }
}

async fn send<B: Serialize>(
    method: Method,
    url: &str,
    body: Option<&B>,
    on_401: On401,
) -> Result<Response, ApiFailure> {
    let builder = builder(method, url);
    let request = match body {
        Some(body) => builder.json(body).map_err(|e| ApiFailure::Unreadable(e.to_string()))?,
        None => builder.build().map_err(|e| ApiFailure::Unreadable(e.to_string()))?,
    };
    let response = request.send().await.map_err(|e| ApiFailure::Network(e.to_string()))?;
    if response.ok() {
        return Ok(response);
    }
    let failure = failure_from(&response).await;
    if response.status() == 401 && on_401 == On401::EndSession {
        report_unauthorized(&failure);
    }
    Err(failure)
}

async fn failure_from(response: &Response) -> ApiFailure {
    let status = response.status();
    let retry_after_secs = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.trim().parse::<u64>().ok());
    let body = match response.json::<ErrorBody>().await {
        Ok(body) => body,
        Err(_) => ErrorBody {
            code: ErrorCode::for_status(status),
            message: format!("HTTP {status} {}", response.status_text()),
            field: None,
            request_id: String::new(),
        },
    };
    ApiFailure::Api {
        status,
        body,
        retry_after_secs,
    }
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ApiFailure> {
    response
        .json::<T>()
        .await
        .map_err(|e| ApiFailure::Unreadable(e.to_string()))
}

const NO_BODY: Option<&()> = None;

async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiFailure> {
    decode(send(Method::Get, &url(path), NO_BODY, On401::EndSession).await?).await
}

async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiFailure> {
    decode(send(Method::Post, &url(path), Some(body), On401::EndSession).await?).await
}

/// A POST without a body (revoke, logout).
async fn post_empty<T: DeserializeOwned>(path: &str) -> Result<T, ApiFailure> {
    decode(send(Method::Post, &url(path), NO_BODY, On401::EndSession).await?).await
}

async fn put<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiFailure> {
    decode(send(Method::Put, &url(path), Some(body), On401::EndSession).await?).await
}

async fn patch<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiFailure> {
    decode(send(Method::Patch, &url(path), Some(body), On401::EndSession).await?).await
}

async fn delete(path: &str) -> Result<(), ApiFailure> {
    send(Method::Delete, &url(path), NO_BODY, On401::EndSession).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: ErrorCode, message: &str, field: Option<&str>, retry_after_secs: Option<u64>) -> ApiFailure {
        ApiFailure::Api {
            status: code.http_status(),
            body: ErrorBody {
                code,
                message: message.to_string(),
                field: field.map(str::to_string),
                request_id: "req-1".to_string(),
            },
            retry_after_secs,
        }
    }

    #[test]
    fn messages_combine_the_code_meaning_and_the_server_detail() {
        let forbidden = failure(
            ErrorCode::Forbidden,
            "the viewer role may not make changes here",
            None,
            None,
        );
        assert_eq!(
            forbidden.message(),
            "Your role does not allow this. Ask an administrator. (The viewer role may not make changes here)"
        );
        let wrong = failure(
            ErrorCode::InvalidCredentials,
            "email or password is incorrect",
            None,
            None,
        );
        assert_eq!(wrong.message(), "Email or password is incorrect.");
        let internal = failure(ErrorCode::Internal, "an internal error occurred", None, None);
        assert!(internal.message().ends_with("Request id: req-1."));
    }

    #[test]
    fn throttling_says_how_long_to_wait() {
        let throttled = failure(ErrorCode::TooManyRequests, "too many failed logins", None, Some(42));
        assert_eq!(throttled.message(), "Too many attempts. Wait 42 seconds and try again.");
        let one = failure(ErrorCode::TooManyRequests, "too many failed logins", None, Some(1));
        assert_eq!(one.message(), "Too many attempts. Wait 1 second and try again.");
    }

    #[test]
    fn field_errors_drop_the_field_prefix() {
        let short = failure(
            ErrorCode::InvalidField,
            "password: must be at least 12 characters (it has 5)",
            Some("password"),
            None,
        );
        assert_eq!(short.field(), Some("password"));
        assert_eq!(short.detail(), "must be at least 12 characters (it has 5)");
    }
}
