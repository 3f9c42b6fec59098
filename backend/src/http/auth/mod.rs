pub mod login;
pub mod logout;
pub mod session;

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time};

use crate::auth::session::SESSION_COOKIE;
use crate::configuration::Settings;

/// The session cookie: HttpOnly, SameSite=Strict, and Secure whenever Tandem is reached over
/// https (directly, through the configured public URL, or behind a proxy that says so).
fn session_cookie(
    req: &HttpRequest,
    settings: &Settings,
    value: String,
    max_age: Option<time::Duration>,
) -> Cookie<'static> {
    let secure = req.connection_info().scheme() == "https"
        || settings
            .server
            .public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://"));
    let mut cookie = Cookie::build(SESSION_COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish();
    match max_age {
        Some(age) => cookie.set_max_age(age),
        None => cookie.make_removal(),
    }
    cookie
}
