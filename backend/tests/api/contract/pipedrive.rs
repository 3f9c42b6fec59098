//! The connector contract for Pipedrive: against the Pipedrive sandbox (with the user's API
//! token), and against a real company when `TANDEM_CONTRACT_PIPEDRIVE_DOMAIN` (its
//! `https://<company>.pipedrive.com`) and `TANDEM_CONTRACT_PIPEDRIVE_TOKEN` (a personal API
//! token) are set; the real run creates clearly named test persons, a "Tandem ID" person field
//! if there is none, and deletes the persons again.

use std::sync::Arc;

use secrecy::SecretString;
use tandem::connectors::pipedrive::PipedriveConnector;
use tandem::connectors::{Credential, Fields, TokenKind, http_client};

use super::{Facts, SandboxAccount, Subject, fields};
use crate::helpers::SandboxServer;

fn facts() -> Facts {
    Facts {
        contact: |email| fields(&[("name", "Ada Lovelace"), ("first_name", "Ada"), ("email", email)]),
        email_field: "email",
        text_field: "last_name",
        // Pipedrive takes any text as an email; it refuses a link to an organization that
        // does not exist.
        refused_contact: || {
            (
                fields(&[("name", "Broken"), ("org_id", "999999999")]) as Fields,
                "org_id",
            )
        },
        missing_id: "999999999",
        picklist: ("label_ids", "Customer"),
    }
}

fn subject(credential: Credential) -> Subject {
    Subject {
        connector: Arc::new(PipedriveConnector::new(http_client().unwrap())),
        credential,
        facts: facts(),
    }
}

pub async fn sandbox_subject<'a>(server: &'a SandboxServer, account: &str) -> (Subject, SandboxAccount<'a>) {
    let token = server
        .control(
            "POST",
            &format!("/pipedrive/accounts/{account}/tokens/static"),
            serde_json::Value::Null,
        )
        .await;
    let credential = Credential {
        access_token: SecretString::from(token["access_token"].as_str().unwrap().to_string()),
        base_url: format!("{}/pipedrive/{account}", server.base),
        kind: TokenKind::ApiToken,
    };
    (
        subject(credential),
        SandboxAccount {
            server,
            crm: "pipedrive",
            account: account.into(),
        },
    )
}

pub fn real_subject() -> Option<Subject> {
    let (Ok(domain), Ok(token)) = (
        std::env::var("TANDEM_CONTRACT_PIPEDRIVE_DOMAIN"),
        std::env::var("TANDEM_CONTRACT_PIPEDRIVE_TOKEN"),
    ) else {
        eprintln!(
            "SKIPPED: set TANDEM_CONTRACT_PIPEDRIVE_DOMAIN (https://<company>.pipedrive.com) and \
             TANDEM_CONTRACT_PIPEDRIVE_TOKEN (a personal API token) to run the Pipedrive contract against a real company"
        );
        return None;
    };
    Some(subject(Credential {
        access_token: SecretString::from(token),
        base_url: domain,
        kind: TokenKind::ApiToken,
    }))
}

crate::contract_tests!("pipedrive", sandbox_subject, real_subject);

// What Pipedrive alone needs proven.

/// 1,500 persons on one second (an import): `updated_since` is to the second, so the reader
/// walks the group through the listing's cursor; every person is read, none lost at a page edge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_persons_on_one_second_are_all_read() {
    let server = crate::helpers::spawn_sandbox().await;
    let (subject, sandbox) = sandbox_subject(&server, "one-second").await;
    sandbox
        .control(
            "PUT",
            "limits",
            serde_json::json!({ "per_window": 0, "window_ms": 2000, "daily": 0, "search": { "per_window": 0, "window_ms": 2000 } }),
        )
        .await;
    sandbox
        .control(
            "POST",
            "generate",
            serde_json::json!({ "contacts": 1_500, "timestamps": "shared" }),
        )
        .await;
    let (read, _) = super::read_all(&subject, None, 200, None).await;
    let ids: std::collections::BTreeSet<&str> = read.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 1_520, "the 20 sample persons and the 1,500 generated ones");
}

/// Webhooks v2 as Pipedrive sends them: subscribed through the API with HTTP Basic credentials,
/// then one request per event carrying `{meta, data, previous}`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_arrive_with_their_basic_credentials() {
    use base64::Engine;
    let server = crate::helpers::spawn_sandbox().await;
    let (subject, _) = sandbox_subject(&server, "webhooks").await;
    let sink = crate::helpers::WebhookSink::start().await;
    let token = secrecy::ExposeSecret::expose_secret(&subject.credential.access_token).to_string();
    let subscribed = reqwest::Client::new()
        .post(format!("{}/api/v1/webhooks", subject.credential.base_url))
        .header("x-api-token", &token)
        .json(&serde_json::json!({
            "subscription_url": sink.url, "event_action": "*", "event_object": "person",
            "http_auth_user": "tandem", "http_auth_password": "s3cret",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(subscribed.status(), reqwest::StatusCode::CREATED);
    let listed: serde_json::Value = subscribed.json().await.unwrap();
    assert_eq!(listed["data"]["http_auth_password"], "******", "never shown back");

    let created = subject
        .connector
        .create(
            &subject.credential,
            tandem::connectors::ObjectKind::Contact,
            &[fields(&[("name", "Hooked Person"), ("email", "hooked@example.com")])],
        )
        .await
        .unwrap()
        .remove(0)
        .unwrap();
    let mut delivered = Vec::new();
    for _ in 0..50 {
        delivered = sink.received();
        if !delivered.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(delivered.len(), 1, "one request per event");
    let body: serde_json::Value = serde_json::from_slice(&delivered[0].body).unwrap();
    assert_eq!(body["meta"]["action"], "create");
    assert_eq!(body["meta"]["entity"], "person");
    assert_eq!(body["meta"]["entity_id"], created.id);
    assert_eq!(body["meta"]["version"], "2.0");
    assert_eq!(body["data"]["name"], "Hooked Person");
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("tandem:s3cret")
    );
    assert_eq!(delivered[0].headers.get("authorization"), Some(&expected));
}
