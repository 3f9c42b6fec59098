//! The connector contract for HubSpot: against the HubSpot sandbox, and against a real account
//! when `TANDEM_CONTRACT_HUBSPOT_TOKEN` (a private app token with the CRM scopes) is set; the
//! real run creates clearly named test contacts and archives them again.

use std::collections::BTreeSet;
use std::sync::Arc;

use tandem::connectors::{ChangeCursor, Connector, ConnectorError, ObjectKind};

use secrecy::SecretString;
use serde_json::json;
use tandem::connectors::hubspot::HubSpotConnector;
use tandem::connectors::{Credential, Fields, http_client};

use super::{Facts, SandboxAccount, Subject, fields};
use crate::helpers::{SandboxServer, spawn_sandbox};

fn facts() -> Facts {
    Facts {
        contact: |email| fields(&[("email", email), ("firstname", "Ada")]),
        email_field: "email",
        text_field: "lastname",
        refused_contact: || (fields(&[("email", "not-an-email")]) as Fields, "email"),
        missing_id: "999999999999",
        picklist: ("lifecyclestage", "customer"),
    }
}

fn subject(credential: Credential) -> Subject {
    Subject {
        connector: Arc::new(HubSpotConnector::new(http_client().unwrap())),
        credential,
        facts: facts(),
    }
}

pub async fn sandbox_subject<'a>(server: &'a SandboxServer, account: &str) -> (Subject, SandboxAccount<'a>) {
    let credential = server.hubspot_credential(account).await;
    (
        subject(credential),
        SandboxAccount {
            server,
            crm: "hubspot",
            account: account.into(),
        },
    )
}

pub fn real_subject() -> Option<Subject> {
    let Ok(token) = std::env::var("TANDEM_CONTRACT_HUBSPOT_TOKEN") else {
        eprintln!(
            "SKIPPED: set TANDEM_CONTRACT_HUBSPOT_TOKEN (a private app token) to run the HubSpot contract against a real account"
        );
        return None;
    };
    Some(subject(Credential {
        access_token: SecretString::from(token),
        base_url: "https://api.hubapi.com".into(),
        kind: tandem::connectors::TokenKind::OAuth,
    }))
}

crate::contract_tests!("hubspot", sandbox_subject, real_subject);

// What HubSpot alone needs proven: reads past its search cap.

/// Reads every change from `since` in pages of `page_size`, checking the cursor only moves on.
async fn read_all_changes(
    connector: &HubSpotConnector,
    credential: &Credential,
    since: Option<ChangeCursor>,
    page_size: usize,
) -> (BTreeSet<String>, Option<ChangeCursor>, usize) {
    let mut cursor = since;
    let mut seen = BTreeSet::new();
    let mut pages = 0;
    loop {
        // Search has its own low limit (5 a second): wait as told, as the sync engine does.
        let page = match connector
            .changes(
                credential,
                ObjectKind::Contact,
                cursor.as_ref(),
                &["email".into()],
                page_size,
            )
            .await
        {
            Err(ConnectorError::RateLimited { wait, .. }) => {
                tokio::time::sleep(wait).await;
                continue;
            }
            other => other.expect("changes"),
        };
        pages += 1;
        assert!(page.cursor >= cursor, "the cursor never moves back");
        seen.extend(page.records.iter().map(|r| r.id.clone()));
        cursor = page.cursor;
        if !page.more {
            return (seen, cursor, pages);
        }
        assert!(pages < 500, "paging does not end");
    }
}

/// What a complete read and a reconciliation rely on, at HubSpot's search cap: more than 10,000
/// records after one cursor (all on one timestamp) read through, counts that agree with the
/// reads, a read from the start of a timestamp, and archived records through `deletions`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_go_past_the_search_cap_and_counts_agree_with_them() {
    let sandbox = spawn_sandbox().await;
    let connector = HubSpotConnector::new(http_client().unwrap());
    let credential = sandbox.hubspot_credential("cap").await;
    sandbox
        .control(
            "PUT",
            "/hubspot/accounts/cap/limits",
            json!({ "per_window": 0, "window_ms": 10_000, "daily": 0, "search": { "per_window": 0, "window_ms": 1_000 } }),
        )
        .await;
    sandbox
        .control(
            "POST",
            "/hubspot/accounts/cap/generate",
            json!({ "contacts": 10_100, "timestamps": "shared" }),
        )
        .await;
    let (all, _, pages) = read_all_changes(&connector, &credential, None, 200).await;
    assert_eq!(all.len(), 10_124, "past the 10,000 a search can page to");
    assert!(
        pages <= 10_124 / 200 + 4,
        "a search a page, plus one where the group begins: {pages}"
    );
    let total = connector
        .count(&credential, ObjectKind::Contact, None, None)
        .await
        .expect("count")
        .expect("HubSpot counts");
    assert_eq!(total, 10_124);

    let first = connector
        .changes(&credential, ObjectKind::Contact, None, &[], 200)
        .await
        .expect("changes");
    let shared = first.records.last().expect("records").modified_at;
    let at_shared = connector
        .count(
            &credential,
            ObjectKind::Contact,
            Some(shared),
            Some(shared + chrono::Duration::milliseconds(1)),
        )
        .await
        .expect("count")
        .expect("a count");
    assert_eq!(at_shared, 10_100);
    let (from_start, _, _) = read_all_changes(&connector, &credential, Some(ChangeCursor::start_of(shared)), 200).await;
    assert_eq!(from_start.len(), 10_100, "from before every id at that time");

    let before = chrono::Utc::now();
    let archived: Vec<String> = all.iter().take(3).cloned().collect();
    connector
        .delete(&credential, ObjectKind::Contact, &archived)
        .await
        .expect("archive");
    let deletions = connector
        .deletions(&credential, ObjectKind::Contact, before)
        .await
        .expect("deletions");
    let gone: BTreeSet<String> = deletions.iter().filter(|r| r.deleted).map(|r| r.id.clone()).collect();
    assert_eq!(gone, archived.iter().cloned().collect());
    let (after, _, _) = read_all_changes(&connector, &credential, None, 200).await;
    assert_eq!(after.len(), 10_121, "search leaves archived records out");
    let counted = connector
        .count(&credential, ObjectKind::Contact, None, None)
        .await
        .expect("count")
        .expect("a count");
    assert_eq!(counted, 10_121);
}
