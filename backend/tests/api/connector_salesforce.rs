//! The Salesforce connector's contract, run against the Salesforce sandbox — and against a real
//! org when `TANDEM_CONTRACT_SALESFORCE_INSTANCE_URL` and `TANDEM_CONTRACT_SALESFORCE_TOKEN` are
//! set (a session or OAuth access token); the real run creates a few test contacts and deletes them.

use std::collections::BTreeSet;

use secrecy::SecretString;
use serde_json::{Value, json};
use tandem::connectors::salesforce::SalesforceConnector;
use tandem::connectors::{
    ChangeCursor, Connector, ConnectorError, Credential, FieldType, Fields, ObjectKind, http_client,
};

use crate::helpers::spawn_sandbox;

fn fields(pairs: &[(&str, &str)]) -> Fields {
    pairs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect()
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

async fn contract(connector: &SalesforceConnector, credential: &Credential) {
    let identity = connector.identity(credential).await.expect("identity");
    assert!(identity.account_id.starts_with("00D"), "{identity:?}");

    let meta = connector
        .describe(credential, ObjectKind::Contact)
        .await
        .expect("describe");
    assert_eq!(meta.crm_name, "Contact");
    assert_eq!(meta.field("Email").expect("Email").field_type, FieldType::Email);
    assert!(meta.field("LastName").expect("LastName").required);
    let key = meta.field("Tandem_Id__c").expect("the external id field");
    assert!(key.unique && key.custom);

    let (a, b, c) = (unique("a"), unique("b"), unique("c"));
    let created = connector
        .create(
            credential,
            ObjectKind::Contact,
            &[
                fields(&[("LastName", "Lovelace"), ("FirstName", "Ada"), ("Tandem_Id__c", &a)]),
                fields(&[("LastName", "Broken"), ("Email", "not-an-email")]),
                fields(&[("FirstName", "No last name")]),
                fields(&[("LastName", "Babbage"), ("Tandem_Id__c", &b)]),
            ],
        )
        .await
        .expect("create");
    let first = created[0].clone().expect("first created");
    match &created[1] {
        Err(ConnectorError::Validation { field, code, .. }) => {
            assert_eq!(
                (field.as_deref(), code.as_str()),
                (Some("Email"), "INVALID_EMAIL_ADDRESS")
            );
        }
        other => panic!("expected an invalid email, got {other:?}"),
    }
    assert!(
        matches!(&created[2], Err(ConnectorError::Validation { code, .. }) if code == "REQUIRED_FIELD_MISSING"),
        "{:?}",
        created[2]
    );
    let fourth = created[3].clone().expect("fourth created");

    let fetched = connector
        .get(
            credential,
            ObjectKind::Contact,
            &first.id,
            &["FirstName".into(), "LastName".into()],
        )
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(fetched.fields["FirstName"], json!("Ada"));

    let missing = "003000000000000AAA".to_string();
    let updated = connector
        .update(
            credential,
            ObjectKind::Contact,
            &[
                (first.id.clone(), fields(&[("Title", "Countess")])),
                (missing, fields(&[("Title", "X")])),
            ],
        )
        .await
        .expect("update");
    assert!(matches!(updated[0], Ok(ref w) if w.id == first.id && !w.created));
    assert!(
        matches!(updated[1], Err(ConnectorError::NotFound { .. })),
        "{:?}",
        updated[1]
    );

    let upserted = connector
        .upsert(
            credential,
            ObjectKind::Contact,
            "Tandem_Id__c",
            &[
                fields(&[("Tandem_Id__c", &b), ("LastName", "Babbage-Upserted")]),
                fields(&[("Tandem_Id__c", &c), ("LastName", "New")]),
            ],
        )
        .await
        .expect("upsert");
    assert!(
        matches!(upserted[0], Ok(ref w) if w.id == fourth.id && !w.created),
        "{:?}",
        upserted[0]
    );
    let fifth = upserted[1].clone().expect("created by upsert");
    assert!(fifth.created);

    connector
        .delete(
            credential,
            ObjectKind::Contact,
            &[first.id.clone(), fourth.id.clone(), fifth.id.clone()],
        )
        .await
        .expect("delete");
    assert!(
        connector
            .get(credential, ObjectKind::Contact, &first.id, &[])
            .await
            .expect("get")
            .is_none()
    );
    // Deleting what is already gone succeeds.
    connector
        .delete(credential, ObjectKind::Contact, std::slice::from_ref(&first.id))
        .await
        .expect("delete again");
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contract_holds_against_the_salesforce_sandbox() {
    let sandbox = spawn_sandbox().await;
    let connector = SalesforceConnector::new(http_client().unwrap());
    contract(&connector, &sandbox.salesforce_credential("contract").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_and_deletions_are_read_completely_through_timestamp_ties() {
    let sandbox = spawn_sandbox().await;
    let connector = SalesforceConnector::new(http_client().unwrap());
    let credential = sandbox.salesforce_credential("ties").await;
    let (initial, cursor) = read_all_changes(&connector, &credential, None, 7).await;
    assert!(initial.len() > 10, "the sample data set: {}", initial.len());
    // Salesforce stamps to the second: these 23 records share a handful of timestamps.
    let batch: Vec<Fields> = (0..23).map(|i| fields(&[("LastName", &format!("Tie {i}"))])).collect();
    let created: BTreeSet<String> = connector
        .create(&credential, ObjectKind::Contact, &batch)
        .await
        .expect("create")
        .into_iter()
        .map(|r| r.expect("ok").id)
        .collect();
    let deleted: Vec<String> = created.iter().take(3).cloned().collect();
    connector
        .delete(&credential, ObjectKind::Contact, &deleted)
        .await
        .expect("delete");

    let (seen, last) = read_all_changes(&connector, &credential, cursor.clone(), 5).await;
    assert!(
        created.is_subset(&seen),
        "missed {:?}",
        created.difference(&seen).collect::<Vec<_>>()
    );
    let page = connector
        .changes(&credential, ObjectKind::Contact, cursor.as_ref(), &[], 2000)
        .await
        .expect("changes");
    let gone: BTreeSet<String> = page
        .records
        .iter()
        .filter(|r| r.deleted)
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(gone, deleted.into_iter().collect(), "deletions are changes too");
    let (again, _) = read_all_changes(&connector, &credential, last, 5).await;
    assert!(again.is_empty(), "nothing new after the last cursor: {again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salesforce_errors_are_classified() {
    let sandbox = spawn_sandbox().await;
    let connector = SalesforceConnector::new(http_client().unwrap());
    let credential = sandbox.salesforce_credential("errors").await;
    let describe = || connector.describe(&credential, ObjectKind::Contact);

    sandbox
        .control(
            "PUT",
            "/salesforce/accounts/errors/faults",
            json!({ "rate_limit_burst": 1 }),
        )
        .await;
    assert!(matches!(
        describe().await,
        Err(ConnectorError::RateLimited { daily: true, .. })
    ));
    sandbox
        .control(
            "PUT",
            "/salesforce/accounts/errors/faults",
            json!({ "error_rates": { "503": 1.0 } }),
        )
        .await;
    assert!(matches!(
        describe().await,
        Err(ConnectorError::Retryable { status: Some(503), .. })
    ));
    sandbox
        .control("DELETE", "/salesforce/accounts/errors/faults", Value::Null)
        .await;
    assert!(describe().await.is_ok());
    let stranger = Credential {
        access_token: SecretString::from("00Dx!nope"),
        base_url: credential.base_url.clone(),
    };
    assert!(matches!(
        connector.describe(&stranger, ObjectKind::Contact).await,
        Err(ConnectorError::Unauthorized { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contract_holds_against_a_real_salesforce_org() {
    let (Ok(instance), Ok(token)) = (
        std::env::var("TANDEM_CONTRACT_SALESFORCE_INSTANCE_URL"),
        std::env::var("TANDEM_CONTRACT_SALESFORCE_TOKEN"),
    ) else {
        eprintln!(
            "SKIPPED: set TANDEM_CONTRACT_SALESFORCE_INSTANCE_URL and TANDEM_CONTRACT_SALESFORCE_TOKEN to run the Salesforce \
             contract against a real org (it needs a Tandem_Id__c external id field on Contact)"
        );
        return;
    };
    let credential = Credential {
        access_token: SecretString::from(token),
        base_url: instance,
    };
    contract(&SalesforceConnector::new(http_client().unwrap()), &credential).await;
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
