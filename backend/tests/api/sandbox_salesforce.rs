//! The Salesforce sandbox as mounted in `tandem serve`: the OAuth web-server flow with PKCE
//! through the consent page, tokens that expire and are revoked, the daily API allocation with
//! `Sforce-Limit-Info`, injected faults, and errors in Salesforce's shape, not Tandem's.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::db_tests;
use crate::helpers::{Backend, TestApp, spawn_app};

db_tests!(
    salesforce_oauth_round_trip_with_pkce_through_the_consent_page,
    salesforce_limits_faults_and_error_shapes
);

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const SECRET: &str = "sf-test-secret";
const VERIFIER: &str = "a-pkce-code-verifier-that-is-long-enough-0123456789-abcdefghij";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

async fn register_app(app: &TestApp) {
    let response = reqwest::Client::new()
        .put(format!("{}/sandbox/_control/salesforce/apps/sf-app", app.address))
        .json(&json!({ "client_secret": SECRET, "name": "Tandem Sync", "redirect_uris": [REDIRECT] }))
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

fn content_type(response: &reqwest::Response) -> String {
    response.headers()["content-type"].to_str().unwrap().to_string()
}

async fn salesforce_oauth_round_trip_with_pkce_through_the_consent_page(backend: Backend) {
    let app = spawn_app(backend).await;
    register_app(&app).await;
    let http = no_redirects();
    let instance = format!("{}/sandbox/salesforce/org-a", app.address);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    let query = [
        ("response_type", "code"),
        ("client_id", "sf-app"),
        ("redirect_uri", REDIRECT),
        ("scope", "api refresh_token"),
        ("state", "s-42"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let authorize = format!("{instance}/services/oauth2/authorize");

    let page = http.get(&authorize).query(&query).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Tandem Sync") && html.contains("refresh_token") && html.contains("Approve"),
        "{html}"
    );
    assert!(
        html.contains("org-a (sandbox)") && html.contains(&challenge),
        "the org and the PKCE challenge"
    );

    let approve = || {
        let mut form: Vec<(&str, &str)> = query.to_vec();
        form.push(("decision", "approve"));
        let http = http.clone();
        let authorize = authorize.clone();
        async move {
            let approved = http.post(&authorize).form(&form).send().await.unwrap();
            assert_eq!(approved.status(), StatusCode::FOUND);
            let location = approved.headers()["location"].to_str().unwrap().to_string();
            assert!(location.starts_with(REDIRECT), "{location}");
            assert_eq!(query_param(&location, "state").as_deref(), Some("s-42"));
            query_param(&location, "code").unwrap()
        }
    };
    let token = |form: Vec<(&'static str, String)>| {
        let http = http.clone();
        let url = format!("{instance}/services/oauth2/token");
        async move { http.post(url).form(&form).send().await.unwrap() }
    };
    let exchange = |code: &str, verifier: &str| {
        vec![
            ("grant_type", "authorization_code".to_string()),
            ("client_id", "sf-app".to_string()),
            ("client_secret", SECRET.to_string()),
            ("redirect_uri", REDIRECT.to_string()),
            ("code", code.to_string()),
            ("code_verifier", verifier.to_string()),
        ]
    };

    // A wrong verifier fails (and uses the code up).
    let code = approve().await;
    let wrong = token(exchange(&code, "not-the-verifier")).await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        wrong.json::<Value>().await.unwrap(),
        json!({ "error": "invalid_grant", "error_description": "invalid code verifier" })
    );

    let code = approve().await;
    let response = token(exchange(&code, VERIFIER)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(content_type(&response).starts_with("application/json"));
    let tokens: Value = response.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    assert!(access.starts_with("00D") && access.contains('!'), "{access}");
    assert_eq!(tokens["instance_url"], instance);
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(
        tokens.get("expires_in").is_none(),
        "Salesforce does not say when tokens expire"
    );
    let id = tokens["id"].as_str().unwrap();
    assert!(id.starts_with(&format!("{instance}/id/00D")), "{id}");
    let issued_at = tokens["issued_at"].as_str().unwrap();
    assert!(issued_at.parse::<i64>().unwrap() > 1_700_000_000_000);
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{id}{issued_at}").as_bytes());
    assert_eq!(tokens["signature"], STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(tokens["scope"], "api refresh_token");

    // The code works once.
    let replay = token(exchange(&code, VERIFIER)).await;
    assert_eq!(replay.json::<Value>().await.unwrap()["error"], "invalid_grant");

    let api = format!("{instance}/services/data/v62.0/sobjects/Contact/describe");
    let described = http.get(&api).bearer_auth(&access).send().await.unwrap();
    assert_eq!(described.status(), StatusCode::OK);
    assert!(described.headers().contains_key("sforce-limit-info"));
    let identity: Value = http
        .get(id)
        .query(&[("format", "json"), ("oauth_token", access.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(identity["id"], id);
    assert_eq!(identity["username"], "admin@org-a.sandbox.salesforce.test");
    assert!(identity["user_id"].as_str().unwrap().starts_with("005"));
    let userinfo: Value = http
        .get(format!("{instance}/services/oauth2/userinfo"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["user_id"], identity["user_id"]);

    // An expired session: 401 INVALID_SESSION_ID; a refresh brings a new token (and no new
    // refresh token: Salesforce does not rotate them).
    let expired = http
        .post(format!(
            "{}/sandbox/_control/salesforce/accounts/org-a/tokens/expire",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), StatusCode::OK);
    let refused = http.get(&api).bearer_auth(&access).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.json::<Value>().await.unwrap(),
        json!([{ "message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID" }])
    );
    let refresh_form = || {
        vec![
            ("grant_type", "refresh_token".to_string()),
            ("client_id", "sf-app".to_string()),
            ("client_secret", SECRET.to_string()),
            ("refresh_token", refresh.clone()),
        ]
    };
    let refreshed: Value = token(refresh_form()).await.json().await.unwrap();
    assert!(refreshed.get("refresh_token").is_none());
    assert_eq!(refreshed["instance_url"], instance);
    let renewed = refreshed["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        http.get(&api).bearer_auth(&renewed).send().await.unwrap().status(),
        StatusCode::OK
    );

    let basic = http
        .post(format!("{instance}/services/oauth2/token"))
        .basic_auth("sf-app", Some(SECRET))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        basic.status(),
        StatusCode::OK,
        "client credentials in HTTP Basic, as OAuth libraries send them"
    );

    // Revoking the refresh token ends the grant: refreshing is invalid_grant, sessions end.
    let revoked = http
        .post(format!("{instance}/services/oauth2/revoke"))
        .form(&[("token", refresh.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let again = token(refresh_form()).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        json!({ "error": "invalid_grant", "error_description": "expired access/refresh token" })
    );
    assert_eq!(
        http.get(&api).bearer_auth(&renewed).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    // Client errors at the token endpoint, in Salesforce's words.
    let mut form = refresh_form();
    form[2].1 = "wrong".into();
    assert_eq!(
        token(form).await.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let mut form = refresh_form();
    form[1].1 = "nobody".into();
    assert_eq!(
        token(form).await.json::<Value>().await.unwrap()["error"],
        "invalid_client_id"
    );
    let mut form = refresh_form();
    form[0].1 = "password".into();
    assert_eq!(
        token(form).await.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
    let code = approve().await;
    let mut form = exchange(&code, VERIFIER);
    form[3].1 = "http://127.0.0.1:9/elsewhere".into();
    assert_eq!(
        token(form).await.json::<Value>().await.unwrap()["error"],
        "redirect_uri_mismatch"
    );

    // Deny goes back with access_denied; an unregistered redirect never leaves Salesforce.
    let mut form: Vec<(&str, &str)> = query.to_vec();
    form.push(("decision", "deny"));
    let denied = http.post(&authorize).form(&form).send().await.unwrap();
    let location = denied.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(query_param(&location, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&location, "state").as_deref(), Some("s-42"));
    let evil = http
        .get(&authorize)
        .query(&[
            ("response_type", "code"),
            ("client_id", "sf-app"),
            ("redirect_uri", "http://evil.example/cb"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), StatusCode::BAD_REQUEST);
    assert!(evil.headers().get("location").is_none());
}

async fn salesforce_limits_faults_and_error_shapes(backend: Backend) {
    let app = spawn_app(backend).await;
    let http = reqwest::Client::new();
    let control = format!("{}/sandbox/_control/salesforce/accounts/org-b", app.address);
    let token: Value = http
        .post(format!("{control}/tokens/static"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_string();
    let instance = format!("{}/sandbox/salesforce/org-b", app.address);
    let data = format!("{instance}/services/data/v62.0");
    let contacts = format!("{data}/query?q=SELECT+Id+FROM+Contact+LIMIT+5");

    // Salesforce's error shape survives Tandem's middleware.
    let unauthenticated = http.get(&contacts).send().await.unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(content_type(&unauthenticated), "application/json;charset=UTF-8");
    assert_eq!(
        unauthenticated.json::<Value>().await.unwrap(),
        json!([{ "message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID" }])
    );
    let other_org: Value = http
        .post(format!(
            "{}/sandbox/_control/salesforce/accounts/org-c/tokens/static",
            app.address
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let foreign = http
        .get(&contacts)
        .bearer_auth(other_org["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::UNAUTHORIZED, "another org's token");

    let invalid = http
        .post(format!("{data}/sobjects/Contact"))
        .bearer_auth(&token)
        .json(&json!({ "LastName": "Test", "Email": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        invalid.json::<Value>().await.unwrap(),
        json!([{ "message": "Email: invalid email address: x", "errorCode": "INVALID_EMAIL_ADDRESS", "fields": ["Email"] }])
    );
    let missing = http
        .get(format!("{data}/sobjects/Contact/003000000000000AAA"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json::<Value>().await.unwrap(),
        json!([{ "message": "The requested resource does not exist", "errorCode": "NOT_FOUND" }])
    );
    let malformed: Value = http
        .get(format!("{data}/query?q=SELECT+Id+FORM+Contact"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(malformed[0]["errorCode"], "MALFORMED_QUERY");
    assert!(
        malformed[0]["message"]
            .as_str()
            .unwrap()
            .contains("ERROR at Row:1:Column:11")
    );

    // The version list is public and not counted; everything else carries the usage.
    let versions = http.get(format!("{instance}/services/data/")).send().await.unwrap();
    assert_eq!(versions.status(), StatusCode::OK);
    assert!(versions.headers().get("sforce-limit-info").is_none());
    let versions: Value = versions.json().await.unwrap();
    assert!(versions.as_array().unwrap().iter().any(|v| v["version"] == "64.0"));

    let limits = json!({ "per_window": 0, "window_ms": 0, "daily": 5 });
    assert!(
        http.put(format!("{control}/limits"))
            .json(&limits)
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );
    // Three requests were counted above (not the unauthenticated one, the foreign one or the
    // version list).
    for used in ["api-usage=4/5", "api-usage=5/5"] {
        let response = http.get(&contacts).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["sforce-limit-info"], used);
    }
    let limited = http.get(&contacts).bearer_auth(&token).send().await.unwrap();
    assert_eq!(limited.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        limited.headers()["sforce-limit-info"],
        "api-usage=5/5",
        "refusals do not count"
    );
    assert_eq!(
        limited.json::<Value>().await.unwrap(),
        json!([{ "message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED" }])
    );

    let limits = json!({ "per_window": 0, "window_ms": 0, "daily": 100_000 });
    http.put(format!("{control}/limits"))
        .json(&limits)
        .send()
        .await
        .unwrap();
    let remaining: Value = http
        .get(format!("{data}/limits"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(remaining["DailyApiRequests"]["Max"], 100_000);
    assert_eq!(remaining["DailyApiRequests"]["Remaining"], 100_000 - 6);

    // Injected faults, in Salesforce's shapes.
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
    let unavailable = http.get(&contacts).bearer_auth(&token).send().await.unwrap();
    assert_eq!(unavailable.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        unavailable.json::<Value>().await.unwrap()[0]["errorCode"],
        "SERVER_UNAVAILABLE"
    );
    http.put(format!("{control}/faults"))
        .json(&json!({ "rate_limit_burst": 1 }))
        .send()
        .await
        .unwrap();
    let burst = http.get(&contacts).bearer_auth(&token).send().await.unwrap();
    assert_eq!(
        burst.status(),
        StatusCode::FORBIDDEN,
        "Salesforce's rate limit is a 403"
    );
    assert_eq!(
        burst.json::<Value>().await.unwrap()[0]["errorCode"],
        "REQUEST_LIMIT_EXCEEDED"
    );
    assert_eq!(
        http.get(&contacts).bearer_auth(&token).send().await.unwrap().status(),
        StatusCode::OK,
        "the burst is over"
    );
    http.put(format!("{control}/faults"))
        .json(&json!({ "drop_rate": 1.0 }))
        .send()
        .await
        .unwrap();
    let dropped = match http.get(&contacts).bearer_auth(&token).send().await {
        Err(error) => error.is_request(),
        Ok(response) => response.bytes().await.is_err(),
    };
    assert!(dropped, "the connection was dropped before a complete response");
    http.delete(format!("{control}/faults")).send().await.unwrap();
    assert_eq!(
        http.get(&contacts).bearer_auth(&token).send().await.unwrap().status(),
        StatusCode::OK
    );

    let summary: Value = http.get(&control).send().await.unwrap().json().await.unwrap();
    assert_eq!(summary["records"]["Contact"], 24);
    assert!(summary["organization_id"].as_str().unwrap().starts_with("00D"));
}
