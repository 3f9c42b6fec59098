//! Login, sessions, CSRF, throttling and logout.

use reqwest::StatusCode;
use serde_json::json;
use tandem_shared::api::auth::SessionInfo;

use crate::db_tests;
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, expect_error, expect_json, spawn_app, spawn_app_with};

db_tests!(
    login_sets_a_protected_cookie_and_logout_ends_the_session,
    wrong_email_and_wrong_password_look_the_same,
    repeated_failures_are_throttled_with_retry_after,
    writes_need_the_csrf_token,
    expired_and_idle_sessions_are_refused,
    cookies_are_secure_behind_https,
);

async fn login_sets_a_protected_cookie_and_logout_ends_the_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut client = app.client();
    let response = client.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("tandem_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http must not set Secure: {cookie}");
    let session: SessionInfo = expect_json(response, StatusCode::OK).await;
    assert_eq!(session.user.email, ADMIN_EMAIL);
    assert_eq!(session.user.role, tandem_shared::Role::OperatorAdmin);
    client.csrf = Some(session.csrf_token.clone());

    let current: SessionInfo = client.get_ok("/api/v1/auth/session").await;
    assert_eq!(current.user.id, session.user.id);
    assert_eq!(current.csrf_token, session.csrf_token);

    // Keep the raw cookie to replay it after logout, like a stolen cookie would be.
    let token = cookie.split(';').next().unwrap().to_string();
    let response = client.post("/api/v1/auth/logout", &json!({})).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cleared = response.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cleared.contains("Max-Age=0") || cleared.contains("expires=Thu, 01 Jan 1970"),
        "{cleared}"
    );

    let replay = reqwest::Client::new()
        .get(format!("{}/api/v1/auth/session", app.address))
        .header("cookie", token)
        .send()
        .await
        .unwrap();
    expect_error(replay, StatusCode::UNAUTHORIZED, "session_expired").await;
}

async fn wrong_email_and_wrong_password_look_the_same(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut client = app.client();
    let wrong_password = expect_error(
        client.login(ADMIN_EMAIL, "not-the-password").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let wrong_email = expect_error(
        client.login("nobody@tandem.test", ADMIN_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let not_an_email = expect_error(
        client.login("nobody", ADMIN_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_eq!(wrong_password.message, wrong_email.message);
    assert_eq!(wrong_email.message, not_an_email.message);
    assert!(wrong_password.field.is_none() && wrong_email.field.is_none());
    // Case and spaces in the email do not matter.
    client.login_ok("  ADMIN@tandem.test ", ADMIN_PASSWORD).await;
}

async fn repeated_failures_are_throttled_with_retry_after(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.auth.login_max_failures = 3;
        s.auth.login_lockout_seconds = 120;
    })
    .await;
    let mut client = app.client();
    for _ in 0..3 {
        expect_error(
            client.login(ADMIN_EMAIL, "wrong-password").await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    // Locked: even the right password is refused until the lockout ends.
    let response = client.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let retry_after: i64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((100..=120).contains(&retry_after), "{retry_after}");
    let body = expect_error(response, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
    assert!(body.message.contains("seconds"));

    // Another account from the same address can still log in: the address allows more failures.
    let support = app.staff("support").await;
    let _: SessionInfo = support.get_ok("/api/v1/auth/session").await;
}

async fn writes_need_the_csrf_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut client = app.admin().await;
    let tenants = "/api/v1/tenants";
    let csrf = client.csrf.take();
    expect_error(
        client.post(tenants, &json!({ "name": "No Token" })).await,
        StatusCode::FORBIDDEN,
        "csrf_token_mismatch",
    )
    .await;
    client.csrf = Some("forged-token".into());
    expect_error(
        client.post(tenants, &json!({ "name": "Forged" })).await,
        StatusCode::FORBIDDEN,
        "csrf_token_mismatch",
    )
    .await;
    // Reads need no token.
    let _: Vec<serde_json::Value> = client.get_ok(tenants).await;
    client.csrf = csrf;
    let _: serde_json::Value = client.post_ok(tenants, &json!({ "name": "With Token" })).await;
    let all: Vec<serde_json::Value> = client.get_ok(tenants).await;
    assert_eq!(
        all.iter()
            .filter(|t| t["name"] == "No Token" || t["name"] == "Forged")
            .count(),
        0
    );
}

async fn expired_and_idle_sessions_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = app.admin().await;
    let _: SessionInfo = client.get_ok("/api/v1/auth/session").await;
    // Past the absolute lifetime.
    sqlx::query("UPDATE sessions SET expires_at = $1")
        .bind(tandem::repo::now_ms() - 1)
        .execute(app.db().pool())
        .await
        .unwrap();
    expect_error(
        client.get("/api/v1/auth/session").await,
        StatusCode::UNAUTHORIZED,
        "session_expired",
    )
    .await;

    let client = app.admin().await;
    let idle = app.settings.auth.session_idle_minutes * 60_000;
    sqlx::query("UPDATE sessions SET last_seen_at = $1")
        .bind(tandem::repo::now_ms() - idle - 1)
        .execute(app.db().pool())
        .await
        .unwrap();
    expect_error(
        client.get("/api/v1/auth/session").await,
        StatusCode::UNAUTHORIZED,
        "session_expired",
    )
    .await;
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(app.db().pool())
        .await
        .unwrap();
    assert_eq!(left, 0, "expired sessions are deleted when met");
}

async fn cookies_are_secure_behind_https(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.server.public_url = Some("https://tandem.example.com".into())
    })
    .await;
    let response = app.client().login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
    // A proxy that terminated TLS says so with X-Forwarded-Proto.
    let app = spawn_app(backend).await;
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", app.address))
        .header("x-forwarded-proto", "https")
        .json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert!(response.headers()["set-cookie"].to_str().unwrap().contains("Secure"));
}
