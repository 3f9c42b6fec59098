//! Checking that a webhook request really comes from HubSpot: signature v3 (HMAC-SHA256 over
//! method + URI + body + timestamp, keyed by the app's client secret, Base64), compared in
//! constant time, and refused when the timestamp is more than five minutes old.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

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
