//! Webhooks as Pipedrive sends them (version 2.0): one request per event, `{meta, data,
//! previous}`, with HTTP Basic credentials where the subscription set them (Pipedrive signs
//! nothing); retried a few times with backoff.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::Pipedrive;
use super::model::rfc3339;

const ATTEMPTS: u32 = 3;

struct Delivery {
    account: String,
    webhook_id: u64,
    url: String,
    basic: Option<(String, String)>,
    body: Value,
}

impl Pipedrive {
    fn due_deliveries(&self) -> Vec<Delivery> {
        let mut out = Vec::new();
        for key in self.account_keys() {
            self.with_account(&key, |account| {
                let events = std::mem::take(&mut account.events);
                for event in events {
                    for webhook in account.webhooks.iter().filter(|w| {
                        (w.event_object == "*" || w.event_object == event.entity.singular())
                            && (w.event_action == "*" || w.event_action == event.action)
                    }) {
                        let body = json!({
                            "meta": {
                                "action": event.action,
                                "entity": event.entity.singular(),
                                "entity_id": event.id.to_string(),
                                "id": uuid::Uuid::new_v4().to_string(),
                                "company_id": account.company_id.to_string(),
                                "user_id": account.user_id.to_string(),
                                "correlation_id": uuid::Uuid::new_v4().to_string(),
                                "is_bulk_edit": false,
                                "timestamp": rfc3339(event.at),
                                "type": "general",
                                "webhook_id": webhook.id.to_string(),
                                "webhook_owner_id": account.user_id.to_string(),
                                "change_source": "api",
                                "version": "2.0",
                                "attempt": 1,
                                "host": format!("{}.pipedrive.com", account.key),
                            },
                            "data": event.data,
                            "previous": event.previous,
                        });
                        out.push(Delivery {
                            account: key.clone(),
                            webhook_id: webhook.id,
                            url: webhook.subscription_url.clone(),
                            basic: webhook
                                .http_auth_user
                                .clone()
                                .map(|user| (user, webhook.http_auth_password.clone().unwrap_or_default())),
                            body,
                        });
                    }
                }
            });
        }
        out
    }
}

async fn send(http: &reqwest::Client, delivery: &Delivery, attempt: u32) -> Result<u16, String> {
    let mut body = delivery.body.clone();
    body["meta"]["attempt"] = json!(attempt);
    let mut request = http.post(&delivery.url).json(&body);
    if let Some((user, password)) = &delivery.basic {
        request = request.basic_auth(user, Some(password));
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    if response.status().is_success() {
        Ok(status)
    } else {
        Err(format!("HTTP {status}"))
    }
}

pub async fn run(pipedrive: Arc<Pipedrive>, every: Duration) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap_or_default();
    let mut interval = tokio::time::interval(every);
    loop {
        interval.tick().await;
        for delivery in pipedrive.due_deliveries() {
            let mut status = 0;
            for attempt in 1..=ATTEMPTS {
                match send(&http, &delivery, attempt).await {
                    Ok(code) => {
                        status = code;
                        break;
                    }
                    Err(error) => {
                        tracing::debug!(url = %delivery.url, attempt, %error, "Pipedrive webhook delivery failed");
                        tokio::time::sleep(every * 2u32.pow(attempt)).await;
                    }
                }
            }
            pipedrive.with_account(&delivery.account, |a| {
                if let Some(webhook) = a.webhooks.iter_mut().find(|w| w.id == delivery.webhook_id) {
                    webhook.last_delivery = Some((chrono::Utc::now(), status));
                }
            });
        }
    }
}
