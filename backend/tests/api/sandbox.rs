//! The sandbox CRMs as mounted in `tandem serve`: HubSpot's OAuth round trip through the consent
//! page, limits with their headers, injected faults, and errors in HubSpot's shape, not Tandem's.

use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::db_tests;
use crate::helpers::{Backend, TestApp, spawn_app};

db_tests!(
    hubspot_oauth_round_trip_through_the_consent_page,
    hubspot_limits_faults_and_error_shapes
);

const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

async fn register_app(app: &TestApp) {
    let response = reqwest::Client::new()
        .put(format!("{}/sandbox/_control/hubspot/apps/test-app", app.address))
        .json(&json!({ "client_secret": "test-secret", "name": "Test App", "redirect_uris": [REDIRECT] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

fn query_param(location: &str, name: &str) -> Option<String> {
    let query = location.split_once('?')?.1;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

async fn hubspot_oauth_round_trip_through_the_consent_page(backend: Backend) {
    let app = spawn_app(backend).await;
    register_app(&app).await;
    let http = no_redirects();
    let account = format!("{}/sandbox/hubspot/portal-a", app.address);
    let query = [
        ("client_id", "test-app"),
        ("redirect_uri", REDIRECT),
        ("scope", "crm.objects.contacts.read oauth"),
        ("state", "s-123"),
    ];

    let page = http
        .get(format!("{account}/oauth/authorize"))
        .query(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Test App") && html.contains("crm.objects.contacts.read") && html.contains("Approve"),
        "{html}"
    );

    // Approve: a code comes back with the state.
    let mut form: Vec<(&str, &str)> = query.to_vec();
    form.push(("decision", "approve"));
    let approved = http
        .post(format!("{account}/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), StatusCode::FOUND);
    let location = approved.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(query_param(&location, "state").as_deref(), Some("s-123"));
    let code = query_param(&location, "code").unwrap();

    let token = |grant: Vec<(&'static str, String)>| {
        let http = http.clone();
        let url = format!("{account}/oauth/v1/token");
        async move { http.post(url).form(&grant).send().await.unwrap() }
    };
    let exchange = || {
        vec![
            ("grant_type", "authorization_code".to_string()),
            ("client_id", "test-app".to_string()),
            ("client_secret", "test-secret".to_string()),
            ("redirect_uri", REDIRECT.to_string()),
            ("code", code.clone()),
        ]
    };
    let tokens: Value = token(exchange()).await.json().await.unwrap();
    assert_eq!(tokens["expires_in"], 1800);
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();

    // The code works once.
    let replay = token(exchange()).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert_eq!(replay.json::<Value>().await.unwrap()["status"], "BAD_AUTH_CODE");

    let contacts = http
        .get(format!("{account}/crm/v3/objects/contacts"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(contacts.status(), StatusCode::OK);
    let info: Value = http
        .get(format!("{account}/oauth/v1/access-tokens/{access}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["user"], "owner@portal-a.sandbox.hubspot.test");
    assert!(info["hub_id"].as_u64().unwrap() > 0);

    // Expired access token: 401 EXPIRED_AUTHENTICATION; a refresh brings a new one.
    http.post(format!(
        "{}/sandbox/_control/hubspot/accounts/portal-a/tokens/expire",
        app.address
    ))
    .send()
    .await
    .unwrap();
    let expired = http
        .get(format!("{account}/crm/v3/objects/contacts"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        expired.json::<Value>().await.unwrap()["category"],
        "EXPIRED_AUTHENTICATION"
    );
    let refreshed: Value = token(vec![
        ("grant_type", "refresh_token".to_string()),
        ("client_id", "test-app".to_string()),
        ("client_secret", "test-secret".to_string()),
        ("refresh_token", refresh.clone()),
    ])
    .await
    .json()
    .await
    .unwrap();
    let renewed = refreshed["access_token"].as_str().unwrap();
    let ok = http
        .get(format!("{account}/crm/v3/objects/contacts"))
        .bearer_auth(renewed)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);

    // Revoking the refresh token ends the grant.
    let revoked = http
        .delete(format!("{account}/oauth/v1/refresh-tokens/{refresh}"))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let after = http
        .get(format!("{account}/crm/v3/objects/contacts"))
        .bearer_auth(renewed)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);

    // Deny: back to the app with access_denied; an unregistered redirect never leaves HubSpot.
    let mut form: Vec<(&str, &str)> = query.to_vec();
    form.push(("decision", "deny"));
    let denied = http
        .post(format!("{account}/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let location = denied.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(query_param(&location, "error").as_deref(), Some("access_denied"));
    let evil = http
        .get(format!("{account}/oauth/authorize"))
        .query(&[
            ("client_id", "test-app"),
            ("redirect_uri", "http://evil.example/cb"),
            ("state", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), StatusCode::BAD_REQUEST);
    assert!(evil.headers().get("location").is_none());
}

async fn hubspot_limits_faults_and_error_shapes(backend: Backend) {
    let app = spawn_app(backend).await;
    let http = reqwest::Client::new();
    let control = format!("{}/sandbox/_control/hubspot/accounts/portal-b", app.address);
    let token: Value = http
        .post(format!("{control}/tokens/static"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_string();
    let contacts = format!("{}/sandbox/hubspot/portal-b/crm/v3/objects/contacts", app.address);

    // HubSpot's error shape survives Tandem's middleware.
    let unauthenticated: Value = http.get(&contacts).send().await.unwrap().json().await.unwrap();
    assert_eq!(unauthenticated["category"], "INVALID_AUTHENTICATION");
    assert!(unauthenticated.get("request_id").is_none());

    let limits = json!({ "per_window": 2, "window_ms": 60_000, "daily": 1000 });
    assert!(
        http.put(format!("{control}/limits"))
            .json(&limits)
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );
    for remaining in ["1", "0"] {
        let response = http.get(&contacts).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-hubspot-ratelimit-remaining"], remaining);
        assert_eq!(response.headers()["x-hubspot-ratelimit-max"], "2");
    }
    let limited = http.get(&contacts).bearer_auth(&token).send().await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["x-hubspot-ratelimit-interval-milliseconds"], "60000");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(
        (body["errorType"].as_str(), body["policyName"].as_str()),
        (Some("RATE_LIMIT"), Some("TEN_SECONDLY_ROLLING"))
    );

    let limits = json!({ "per_window": 0, "window_ms": 10_000, "daily": 0 });
    http.put(format!("{control}/limits"))
        .json(&limits)
        .send()
        .await
        .unwrap();
    let faults = json!({ "seed": 1, "error_rates": { "503": 1.0 } });
    assert!(
        http.put(format!("{control}/faults"))
            .json(&faults)
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );
    assert_eq!(
        http.get(&contacts).bearer_auth(&token).send().await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let faults = json!({ "drop_rate": 1.0 });
    http.put(format!("{control}/faults"))
        .json(&faults)
        .send()
        .await
        .unwrap();
    let dropped = match http.get(&contacts).bearer_auth(&token).send().await {
        Err(error) => error.is_request(),
        Ok(response) => response.bytes().await.is_err(),
    };
    assert!(dropped, "the connection was dropped before a complete response");
    let bad = http
        .put(format!("{control}/faults"))
        .json(&json!({ "drop_rate": 2.0 }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    http.delete(format!("{control}/faults")).send().await.unwrap();
    assert_eq!(
        http.get(&contacts).bearer_auth(&token).send().await.unwrap().status(),
        StatusCode::OK
    );
}
