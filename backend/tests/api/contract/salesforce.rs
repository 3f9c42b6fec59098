//! The connector contract for Salesforce: against the Salesforce sandbox, and against a real org
//! when `TANDEM_CONTRACT_SALESFORCE_INSTANCE_URL` and `TANDEM_CONTRACT_SALESFORCE_TOKEN` are set
//! (a session or OAuth access token; the org needs a `Tandem_Id__c` External ID field on
//! Contact); the real run creates test contacts and deletes them.

use std::collections::BTreeSet;
use std::sync::Arc;

use tandem::connectors::{ChangeCursor, Connector, ObjectKind};

use secrecy::SecretString;
use tandem::connectors::salesforce::SalesforceConnector;
use tandem::connectors::{Credential, Fields, http_client};

use super::{Facts, SandboxAccount, Subject, fields};
use crate::helpers::{SandboxServer, spawn_sandbox};

fn facts() -> Facts {
    Facts {
        contact: |email| fields(&[("LastName", "Lovelace"), ("FirstName", "Ada"), ("Email", email)]),
        email_field: "Email",
        text_field: "Title",
        refused_contact: || {
            (
                fields(&[("LastName", "Broken"), ("Email", "not-an-email")]) as Fields,
                "Email",
            )
        },
        missing_id: "003000000000000AAA",
        picklist: ("LeadSource", "Web"),
    }
}

fn subject(credential: Credential) -> Subject {
    Subject {
        connector: Arc::new(SalesforceConnector::new(http_client().unwrap())),
        credential,
        facts: facts(),
    }
}

pub async fn sandbox_subject<'a>(server: &'a SandboxServer, account: &str) -> (Subject, SandboxAccount<'a>) {
    let credential = server.salesforce_credential(account).await;
    (
        subject(credential),
        SandboxAccount {
            server,
            crm: "salesforce",
            account: account.into(),
        },
    )
}

pub fn real_subject() -> Option<Subject> {
    let (Ok(instance), Ok(token)) = (
        std::env::var("TANDEM_CONTRACT_SALESFORCE_INSTANCE_URL"),
        std::env::var("TANDEM_CONTRACT_SALESFORCE_TOKEN"),
    ) else {
        eprintln!(
            "SKIPPED: set TANDEM_CONTRACT_SALESFORCE_INSTANCE_URL and TANDEM_CONTRACT_SALESFORCE_TOKEN to run the \
             Salesforce contract against a real org (it needs a Tandem_Id__c External ID field on Contact)"
        );
        return None;
    };
    Some(subject(Credential {
        access_token: SecretString::from(token),
        base_url: instance,
        kind: tandem::connectors::TokenKind::OAuth,
    }))
}

crate::contract_tests!("salesforce", sandbox_subject, real_subject);

// What Salesforce alone needs proven: reads from the start of a second.

async fn read_all_changes(
    connector: &SalesforceConnector,
    credential: &Credential,
    since: Option<ChangeCursor>,
    page_size: usize,
) -> (BTreeSet<String>, Option<ChangeCursor>) {
    let mut cursor = since;
    let mut seen = BTreeSet::new();
    for _ in 0..1000 {
        let page = connector
            .changes(
                credential,
                ObjectKind::Contact,
                cursor.as_ref(),
                &["Email".into()],
                page_size,
            )
            .await
            .expect("changes");
        assert!(page.cursor >= cursor, "the cursor never moves back");
        seen.extend(page.records.iter().map(|r| r.id.clone()));
        cursor = page.cursor;
        if !page.more {
            return (seen, cursor);
        }
    }
    panic!("paging does not end");
}

/// What a complete read and a reconciliation rely on: a read from the start of a second (before
/// every id at it), counts that agree with what the reads return, deletions left out of counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_from_the_start_of_a_second_and_counts_agree_with_them() {
    let sandbox = spawn_sandbox().await;
    let connector = SalesforceConnector::new(http_client().unwrap());
    let credential = sandbox.salesforce_credential("counts").await;
    sandbox
        .control(
            "POST",
            "/salesforce/accounts/counts/generate",
            serde_json::json!({ "contacts": 450, "timestamps": "shared" }),
        )
        .await;
    let total = connector
        .count(&credential, ObjectKind::Contact, None, None)
        .await
        .expect("count")
        .expect("Salesforce counts");
    // `queryAll` reads deletions too (the sample data has one); the count is of live records.
    let page = connector
        .changes(&credential, ObjectKind::Contact, None, &[], 2000)
        .await
        .expect("changes");
    assert!(!page.more);
    assert_eq!(total as usize, page.records.iter().filter(|r| !r.deleted).count());
    // The 450 share one second: a read from its start returns them all.
    let shared = page.records.last().expect("records").modified_at;
    let (from_start, _) = read_all_changes(&connector, &credential, Some(ChangeCursor::start_of(shared)), 100).await;
    assert!(from_start.len() >= 450, "{}", from_start.len());
    let in_second = connector
        .count(
            &credential,
            ObjectKind::Contact,
            Some(shared),
            Some(shared + chrono::Duration::seconds(1)),
        )
        .await
        .expect("count")
        .expect("a count");
    assert!(in_second >= 450, "{in_second}");
    let deleted: Vec<String> = from_start.iter().take(2).cloned().collect();
    connector
        .delete(&credential, ObjectKind::Contact, &deleted)
        .await
        .expect("delete");
    let after = connector
        .count(&credential, ObjectKind::Contact, None, None)
        .await
        .expect("count")
        .expect("a count");
    assert_eq!(after, total - 2, "deleted records are not counted");
}
