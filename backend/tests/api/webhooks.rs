//! HubSpot's webhooks from the sandbox: changes in an account where the app is installed arrive
//! at the app's webhook URL in batches, signed (v3) with the app's client secret, and failed
//! deliveries come again with a higher `attemptNumber`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use tandem::connectors::hubspot::webhook::verify_v3;

use crate::helpers::spawn_sandbox;

#[derive(Clone, Debug)]
struct Delivery {
    signature: Option<String>,
    timestamp: Option<String>,
    body: String,
}

#[derive(Default)]
struct Receiver {
    deliveries: Mutex<Vec<Delivery>>,
    /// Answer 500 to this many deliveries first.
    fail_first: Mutex<usize>,
}

async fn receive(req: HttpRequest, body: web::Bytes, receiver: web::Data<Arc<Receiver>>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    receiver.deliveries.lock().unwrap().push(Delivery {
        signature: header("x-hubspot-signature-v3"),
        timestamp: header("x-hubspot-request-timestamp"),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let mut fail = receiver.fail_first.lock().unwrap();
    if *fail > 0 {
        *fail -= 1;
        return HttpResponse::InternalServerError().finish();
    }
    HttpResponse::NoContent().finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_arrive_batched_signed_and_retried() {
    let receiver = Arc::new(Receiver {
        fail_first: Mutex::new(1),
        ..Receiver::default()
    });
    let data = web::Data::new(receiver.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/hooks/hubspot", web::post().to(receive))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    let hook_url = format!("http://127.0.0.1:{port}/hooks/hubspot");

    let sandbox = spawn_sandbox().await;
    let secret = "webhook-test-secret";
    sandbox
        .control(
            "PUT",
            "/hubspot/apps/hook-app",
            json!({ "client_secret": secret, "name": "Hook App", "redirect_uris": ["http://127.0.0.1:9/cb"], "webhook_url": hook_url }),
        )
        .await;
    // Install the app in the account through the consent page and a code exchange.
    let account = format!("{}/hubspot/hooks", sandbox.base);
    let authorize = format!(
        "{account}/oauth/authorize?client_id=hook-app&redirect_uri={}&scope=crm.objects.contacts.read&state=s",
        "http%3A%2F%2F127.0.0.1%3A9%2Fcb"
    );
    let location = crate::helpers::approve_consent(&authorize, "approve").await;
    let code = location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let tokens: Value = reqwest::Client::new()
        .post(format!("{account}/oauth/v1/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "hook-app"),
            ("client_secret", secret),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
            ("code", &code),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = tokens["access_token"].as_str().unwrap().to_string();

    // Three changes: two creations and an update.
    let http = reqwest::Client::new();
    let contacts = format!("{account}/crm/v3/objects/contacts");
    let mut ids = Vec::new();
    for email in ["hook1@example.com", "hook2@example.com"] {
        let created: Value = http
            .post(&contacts)
            .bearer_auth(&token)
            .json(&json!({ "properties": { "email": email } }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(created["id"].as_str().unwrap().to_string());
    }
    http.patch(format!("{contacts}/{}", ids[0]))
        .bearer_auth(&token)
        .json(&json!({ "properties": { "firstname": "Hook" } }))
        .send()
        .await
        .unwrap();

    // The first delivery is refused; the retry carries the same events with attemptNumber 1.
    // Changes are collected every 100 ms, so on a busy machine the three may come in two
    // batches: what counts is that every change arrives, batched, and the refused batch again.
    let events = |d: &Delivery| serde_json::from_str::<Vec<Value>>(&d.body).unwrap();
    let first_attempts = |delivered: &[Delivery]| -> Vec<Value> {
        delivered
            .iter()
            .flat_map(events)
            .filter(|e| e["attemptNumber"] == 0)
            .collect()
    };
    let mut delivered = Vec::new();
    for _ in 0..150 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        delivered = receiver.deliveries.lock().unwrap().clone();
        let retried = delivered.iter().skip(1).any(|d| events(d)[0]["attemptNumber"] == 1);
        if retried && first_attempts(&delivered).len() >= 3 {
            break;
        }
    }
    assert!(delivered.len() >= 2, "a delivery and its retry arrived: {delivered:?}");
    let now = chrono::Utc::now().timestamp_millis();
    for delivery in &delivered {
        let verified = verify_v3(
            secret,
            "POST",
            &hook_url,
            delivery.body.as_bytes(),
            delivery.timestamp.as_deref(),
            delivery.signature.as_deref(),
            now,
        );
        assert_eq!(verified, Ok(()), "signature of {}", delivery.body);
    }
    let first = first_attempts(&delivered);
    assert_eq!(first.len(), 3, "the three changes: {first:?}");
    assert!(
        delivered.iter().any(|d| events(d).len() >= 2),
        "changes come batched: {delivered:?}"
    );
    let types: Vec<&str> = first.iter().map(|e| e["subscriptionType"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["contact.creation", "contact.creation", "contact.propertyChange"]
    );
    assert_eq!(first[2]["propertyName"], "firstname");
    assert_eq!(first[2]["propertyValue"], "Hook");
    assert_eq!(first[0]["objectId"].to_string(), ids[0]);
    let refused = events(&delivered[0]);
    let retry = delivered
        .iter()
        .skip(1)
        .map(events)
        .find(|batch| batch[0]["attemptNumber"] == 1)
        .expect("the refused batch came again");
    assert!(retry.iter().all(|e| e["attemptNumber"] == 1));
    assert_eq!(
        refused.iter().map(|e| e["eventId"].clone()).collect::<Vec<_>>(),
        retry.iter().map(|e| e["eventId"].clone()).collect::<Vec<_>>(),
        "the retry repeats the same events"
    );
    // A signature made with another secret does not verify.
    let forged = verify_v3(
        "other",
        "POST",
        &hook_url,
        delivered[0].body.as_bytes(),
        delivered[0].timestamp.as_deref(),
        delivered[0].signature.as_deref(),
        now,
    );
    assert!(forged.is_err());
}
