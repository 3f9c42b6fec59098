//! Checking that a webhook request really comes from HubSpot: signature v3 (HMAC-SHA256 over
//! method + URI + body + timestamp, keyed by the app's client secret, Base64), compared in
//! constant time, and refused when the timestamp is more than five minutes old.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::connectors::ObjectKind;

/// HubSpot's clients reject timestamps older than this (Python: 300 s; Node: 300,000 ms).
pub const MAX_AGE_MS: i64 = 5 * 60 * 1000;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp header is missing")]
    MissingHeader,
    #[error("the request timestamp is not a number")]
    BadTimestamp,
    #[error("the request is too old ({age_ms} ms)")]
    Stale { age_ms: i64 },
    #[error("the signature does not match")]
    BadSignature,
}

pub fn verify_v3(
    client_secret: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    now_ms: i64,
) -> Result<(), WebhookError> {
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(WebhookError::MissingHeader);
    };
    let sent_ms: i64 = timestamp.trim().parse().map_err(|_| WebhookError::BadTimestamp)?;
    let age_ms = now_ms - sent_ms;
    if age_ms > MAX_AGE_MS {
        return Err(WebhookError::Stale { age_ms });
    }
    let presented = BASE64
        .decode(signature.trim())
        .map_err(|_| WebhookError::BadSignature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(client_secret.as_bytes()).map_err(|_| WebhookError::BadSignature)?;
    mac.update(method.as_bytes());
    mac.update(uri.as_bytes());
    mac.update(body);
    mac.update(timestamp.trim().as_bytes());
    // `verify_slice` compares in constant time.
    mac.verify_slice(&presented).map_err(|_| WebhookError::BadSignature)
}

/// One event of a webhook request, as far as Tandem needs it: which account and object changed.
/// Webhooks are hints: the engine reads the record itself, so the property values are not kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookEvent {
    pub event_id: u64,
    /// The HubSpot account (`portalId`, the connection's account id).
    pub portal_id: String,
    /// `None` for subscriptions Tandem does not sync (associations, say).
    pub object: Option<ObjectKind>,
    pub object_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireEvent {
    #[serde(default)]
    event_id: u64,
    portal_id: u64,
    subscription_type: String,
    #[serde(default)]
    object_id: Option<serde_json::Value>,
}

/// The events of a webhook request body (a JSON array, up to 100 events).
pub fn parse_events(body: &[u8]) -> Result<Vec<WebhookEvent>, String> {
    let events: Vec<WireEvent> =
        serde_json::from_slice(body).map_err(|e| format!("not a HubSpot webhook event array: {e}"))?;
    Ok(events
        .into_iter()
        .map(|e| {
            let object = match e.subscription_type.split('.').next() {
                Some("contact") => Some(ObjectKind::Contact),
                Some("company") => Some(ObjectKind::Company),
                Some("deal") => Some(ObjectKind::Deal),
                Some("meeting") => Some(ObjectKind::Appointment),
                _ => None,
            };
            let object_id = match e.object_id {
                Some(serde_json::Value::String(s)) => s,
                Some(other) => other.to_string(),
                None => String::new(),
            };
            WebhookEvent {
                event_id: e.event_id,
                portal_id: e.portal_id.to_string(),
                object,
                object_id,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    const URI: &str = "https://www.example.com/webhook_uri";
    const BODY: &[u8] = br#"{"example_field":"example_value"}"#;
    // From the documented algorithm (crm-apis.md §2.8).
    const SIGNATURE: &str = "rQEKkaNUiu+1qGF//O/pw4BCzstSqO1PyUnGICmf+7o=";
    const SENT: i64 = 1_700_000_000_000;

    #[test]
    fn the_documented_vector_verifies() {
        assert_eq!(
            verify_v3(
                SECRET,
                "POST",
                URI,
                BODY,
                Some("1700000000000"),
                Some(SIGNATURE),
                SENT + 1_000
            ),
            Ok(())
        );
    }

    #[test]
    fn events_name_their_account_and_object() {
        let body = br#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":123,"propertyName":"email","propertyValue":"a@b.com","changeSource":"CRM","changeFlag":"NEW"},
            {"eventId":2,"portalId":62515,"subscriptionType":"contact.associationChange","objectId":5}]"#;
        let events = parse_events(body).expect("parses");
        assert_eq!(
            events[0],
            WebhookEvent {
                event_id: 1,
                portal_id: "62515".into(),
                object: Some(ObjectKind::Contact),
                object_id: "123".into()
            }
        );
        assert_eq!(events[1].object, Some(ObjectKind::Contact));
        assert!(parse_events(b"{}").is_err());
        assert!(
            parse_events(br#"[{"eventId":1}]"#).is_err(),
            "an event without its account"
        );
    }

    #[test]
    fn anything_changed_fails() {
        let check = |secret, method, uri, body: &[u8], ts| {
            verify_v3(secret, method, uri, body, Some(ts), Some(SIGNATURE), SENT)
        };
        assert_eq!(
            check("other-secret", "POST", URI, BODY, "1700000000000"),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            check(SECRET, "GET", URI, BODY, "1700000000000"),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            check(SECRET, "POST", "https://evil.example.com/x", BODY, "1700000000000"),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            check(SECRET, "POST", URI, b"{}", "1700000000000"),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            check(SECRET, "POST", URI, BODY, "1700000000001"),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_v3(SECRET, "POST", URI, BODY, None, Some(SIGNATURE), SENT),
            Err(WebhookError::MissingHeader)
        );
        assert_eq!(
            verify_v3(
                SECRET,
                "POST",
                URI,
                BODY,
                Some("1700000000000"),
                Some(SIGNATURE),
                SENT + MAX_AGE_MS + 1
            ),
            Err(WebhookError::Stale { age_ms: MAX_AGE_MS + 1 })
        );
    }
}
