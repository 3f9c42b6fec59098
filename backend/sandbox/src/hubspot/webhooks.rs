//! Webhooks as HubSpot sends them: every change in an account where an app with a webhook URL is
//! installed becomes an event (`contact.creation`, `deal.propertyChange`, …); events are
//! batched (up to 100 per request), signed (v3, plus the older v1 header) with the app's client
//! secret, and retried with backoff and an increasing `attemptNumber` until they are accepted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::HubSpot;
use super::model::ObjectType;

const MAX_EVENTS_PER_REQUEST: usize = 100;
/// The sandbox compresses HubSpot's day of retries into minutes.
const MAX_ATTEMPTS: u32 = 10;

#[derive(Clone, Debug)]
struct Delivery {
    url: String,
    secret: String,
    events: Vec<Value>,
    attempt: u32,
    not_before: Instant,
}

#[derive(Default)]
pub struct Outbox {
    queue: Mutex<Vec<Delivery>>,
    next_event_id: AtomicU64,
    /// Deliveries accepted by the receiver, and given up after the last attempt.
    pub delivered: AtomicU64,
    pub abandoned: AtomicU64,
}

/// `X-HubSpot-Signature-v3`: Base64 HMAC-SHA256, keyed by the client secret, of
/// method + URI + body + timestamp.
pub fn sign_v3(secret: &str, method: &str, uri: &str, body: &str, timestamp_ms: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(method.as_bytes());
    mac.update(uri.as_bytes());
    mac.update(body.as_bytes());
    mac.update(timestamp_ms.to_string().as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// `X-HubSpot-Signature` (v1): hex SHA-256 of client secret + body.
pub fn sign_v1(secret: &str, body: &str) -> String {
    Sha256::digest(format!("{secret}{body}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn subscribed(object: ObjectType) -> bool {
    !matches!(object, ObjectType::Meetings | ObjectType::Calls | ObjectType::Emails)
}

impl HubSpot {
    /// Turns every account's pending changes into deliveries for the apps installed there.
    pub fn collect_webhook_events(&self) {
        for key in self.account_keys() {
            let installed: Vec<(String, String, u64)> = self
                .oauth
                .installed_apps(&key)
                .into_iter()
                .filter_map(|client_id| self.oauth.app(&client_id))
                .filter_map(|app| {
                    app.webhook_url.clone().map(|url| {
                        (
                            url,
                            app.client_secret.clone(),
                            super::model::hub_id_for(&app.client_id) % 10_000_000,
                        )
                    })
                })
                .collect();
            let (events, portal) =
                self.with_account(&key, |account| (std::mem::take(&mut account.events), account.hub_id));
            if installed.is_empty() || events.is_empty() {
                continue;
            }
            for (url, secret, app_id) in installed {
                let payloads: Vec<Value> = events
                    .iter()
                    .filter(|e| subscribed(e.object))
                    .map(|event| {
                        let mut payload = json!({
                            "eventId": self.webhooks.next_event_id.fetch_add(1, Ordering::Relaxed) + 1,
                            "subscriptionId": 1000 + event.object as u64,
                            "portalId": portal,
                            "appId": app_id,
                            "occurredAt": event.occurred_at.timestamp_millis(),
                            "subscriptionType": format!("{}.{}", event.object.singular(), event.kind),
                            "attemptNumber": 0,
                            "objectId": event.object_id,
                            "changeSource": "CRM",
                            "changeFlag": match event.kind { "creation" => "NEW", "deletion" => "DELETED", _ => "UPDATED" },
                        });
                        if let Some((name, value)) = &event.property {
                            payload["propertyName"] = json!(name);
                            payload["propertyValue"] = json!(value);
                        }
                        payload
                    })
                    .collect();
                let mut queue = self.webhooks.queue.lock().unwrap_or_else(PoisonError::into_inner);
                for chunk in payloads.chunks(MAX_EVENTS_PER_REQUEST) {
                    queue.push(Delivery {
                        url: url.clone(),
                        secret: secret.clone(),
                        events: chunk.to_vec(),
                        attempt: 0,
                        not_before: Instant::now(),
                    });
                }
            }
        }
    }

    fn due_deliveries(&self) -> Vec<Delivery> {
        let now = Instant::now();
        let mut queue = self.webhooks.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let (due, later): (Vec<Delivery>, Vec<Delivery>) = queue.drain(..).partition(|d| d.not_before <= now);
        *queue = later;
        due
    }

    fn requeue(&self, delivery: Delivery) {
        self.webhooks
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(delivery);
    }

    pub fn pending_webhook_deliveries(&self) -> usize {
        self.webhooks.queue.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

async fn send(http: &reqwest::Client, delivery: &Delivery) -> Result<(), String> {
    let events: Vec<Value> = delivery
        .events
        .iter()
        .cloned()
        .map(|mut e| {
            e["attemptNumber"] = json!(delivery.attempt);
            e
        })
        .collect();
    let body = Value::Array(events).to_string();
    let timestamp = chrono::Utc::now().timestamp_millis();
    let response = http
        .post(&delivery.url)
        .header("content-type", "application/json")
        .header(
            "user-agent",
            "HubSpot Connect 2.0 (http://dev.hubspot.com/) (Tandem sandbox)",
        )
        .header("x-hubspot-signature", sign_v1(&delivery.secret, &body))
        .header("x-hubspot-signature-version", "v1")
        .header(
            "x-hubspot-signature-v3",
            sign_v3(&delivery.secret, "POST", &delivery.url, &body, timestamp),
        )
        .header("x-hubspot-request-timestamp", timestamp.to_string())
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", response.status()))
    }
}

/// Delivers webhooks until the process ends: collects events every `every`, sends what is
/// due, and schedules failed deliveries again with exponential backoff.
pub async fn run(hubspot: Arc<HubSpot>, every: Duration) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap_or_default();
    let mut interval = tokio::time::interval(every);
    loop {
        interval.tick().await;
        hubspot.collect_webhook_events();
        for mut delivery in hubspot.due_deliveries() {
            match send(&http, &delivery).await {
                Ok(()) => {
                    hubspot.webhooks.delivered.fetch_add(1, Ordering::Relaxed);
                }
                Err(error) if delivery.attempt + 1 < MAX_ATTEMPTS => {
                    delivery.attempt += 1;
                    let wait = Duration::from_millis(500 * 2u64.pow(delivery.attempt.min(7)));
                    tracing::debug!(url = %delivery.url, attempt = delivery.attempt, %error, "webhook delivery failed; retrying");
                    delivery.not_before = Instant::now() + wait;
                    hubspot.requeue(delivery);
                }
                Err(error) => {
                    hubspot.webhooks.abandoned.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(url = %delivery.url, %error, "webhook delivery abandoned after the last attempt");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // HubSpot's published test vector for v1 (client secret yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy),
    // and our v3 vector from the documented algorithm (see ../shared/docs/crm-apis.md §2.8).
    const SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";

    #[test]
    fn signatures_match_the_published_vectors() {
        let body = r#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
        assert_eq!(
            sign_v1(SECRET, body),
            "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
        );
        assert_eq!(
            sign_v3(
                SECRET,
                "POST",
                "https://www.example.com/webhook_uri",
                r#"{"example_field":"example_value"}"#,
                1_700_000_000_000
            ),
            "rQEKkaNUiu+1qGF//O/pw4BCzstSqO1PyUnGICmf+7o="
        );
    }
}
