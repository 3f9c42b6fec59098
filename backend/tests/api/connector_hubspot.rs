//! The HubSpot connector's contract, run against the HubSpot sandbox — and against a real
//! HubSpot account when `TANDEM_CONTRACT_HUBSPOT_TOKEN` (a private app token) is set; the real
//! run creates a few clearly named test contacts and archives them again.

use std::collections::BTreeSet;

use secrecy::SecretString;
use serde_json::{Value, json};
use tandem::connectors::hubspot::HubSpotConnector;
use tandem::connectors::{
    ChangeCursor, Connector, ConnectorError, Credential, FieldType, Fields, ObjectKind, http_client,
};

use crate::helpers::spawn_sandbox;

fn fields(pairs: &[(&str, &str)]) -> Fields {
    pairs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect()
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}@contract.tandem.test", uuid::Uuid::new_v4().simple())
}

/// Everything a HubSpot connector must do, against any HubSpot account.
async fn contract(connector: &HubSpotConnector, credential: &Credential) {
    let identity = connector.identity(credential).await.expect("identity");
    assert!(!identity.account_id.is_empty());

    let meta = connector
        .describe(credential, ObjectKind::Contact)
        .await
        .expect("describe");
    let email = meta.field("email").expect("email field");
    assert_eq!(email.field_type, FieldType::Email);
    assert!(email.unique);
    let lifecycle = meta.field("lifecyclestage").expect("lifecycle stage");
    assert_eq!(lifecycle.field_type, FieldType::Picklist);
    assert!(lifecycle.options.iter().any(|o| o.value == "customer"));

    let (a, b) = (unique("a"), unique("b"));
    let created = connector
        .create(
            credential,
            ObjectKind::Contact,
            &[
                fields(&[("email", &a), ("firstname", "Ada")]),
                fields(&[("email", "not-an-email")]),
                fields(&[("email", &b)]),
            ],
        )
        .await
        .expect("create");
    assert_eq!(created.len(), 3);
    let first = created[0].clone().expect("first created");
    assert!(first.created);
    match &created[1] {
        Err(ConnectorError::Validation { field, .. }) => assert_eq!(field.as_deref(), Some("email")),
        other => panic!("expected a validation error, got {other:?}"),
    }
    let third = created[2].clone().expect("third created");

    let fetched = connector
        .get(
            credential,
            ObjectKind::Contact,
            &first.id,
            &["email".into(), "firstname".into()],
        )
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(fetched.fields["firstname"], json!("Ada"));

    let updated = connector
        .update(
            credential,
            ObjectKind::Contact,
            &[
                (first.id.clone(), fields(&[("lastname", "Lovelace")])),
                ("999999999999".into(), fields(&[("lastname", "X")])),
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

    let c = unique("c");
    let upserted = connector
        .upsert(
            credential,
            ObjectKind::Contact,
            "email",
            &[
                fields(&[("email", &b), ("lastname", "Upserted")]),
                fields(&[("email", &c)]),
            ],
        )
        .await
        .expect("upsert");
    assert!(
        matches!(upserted[0], Ok(ref w) if w.id == third.id && !w.created),
        "{:?}",
        upserted[0]
    );
    let fourth = upserted[1].clone().expect("created by upsert");
    assert!(fourth.created);

    connector
        .delete(
            credential,
            ObjectKind::Contact,
            &[first.id.clone(), third.id.clone(), fourth.id.clone()],
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
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contract_holds_against_the_hubspot_sandbox() {
    let sandbox = spawn_sandbox().await;
    let connector = HubSpotConnector::new(http_client().unwrap());
    let credential = sandbox.hubspot_credential("contract").await;
    contract(&connector, &credential).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_are_read_completely_even_when_many_share_a_timestamp() {
    let sandbox = spawn_sandbox().await;
    let connector = HubSpotConnector::new(http_client().unwrap());
    let credential = sandbox.hubspot_credential("ties").await;

    let (initial, cursor, _) = read_all_changes(&connector, &credential, None, 7).await;
    assert_eq!(initial.len(), 24, "the sample data set");
    // From now on every write in a minute shares one timestamp.
    sandbox
        .control(
            "PUT",
            "/hubspot/accounts/ties/clock",
            json!({ "granularity_ms": 60_000 }),
        )
        .await;
    let batch: Vec<Fields> = (0..23)
        .map(|i| fields(&[("email", &format!("tie{i}@example.com"))]))
        .collect();
    let created = connector
        .create(&credential, ObjectKind::Contact, &batch)
        .await
        .expect("create");
    let created: BTreeSet<String> = created.into_iter().map(|r| r.expect("created").id).collect();

    // Pages of 5 cut through the group of 23 records with one timestamp.
    let (seen, last, pages) = read_all_changes(&connector, &credential, cursor, 5).await;
    assert!(
        created.is_subset(&seen),
        "missed {:?}",
        created.difference(&seen).collect::<Vec<_>>()
    );
    assert!(pages >= 5);
    let (again, _, _) = read_all_changes(&connector, &credential, last, 5).await;
    assert!(again.is_empty(), "nothing new after the last cursor: {again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_classified_as_the_caller_needs_them() {
    let sandbox = spawn_sandbox().await;
    let connector = HubSpotConnector::new(http_client().unwrap());
    let credential = sandbox.hubspot_credential("errors").await;
    let list = || connector.get(&credential, ObjectKind::Contact, "1001", &[]);

    sandbox
        .control(
            "PUT",
            "/hubspot/accounts/errors/faults",
            json!({ "rate_limit_burst": 1 }),
        )
        .await;
    match list().await {
        Err(ConnectorError::RateLimited { wait, daily: false, .. }) => assert_eq!(wait.as_secs(), 10),
        other => panic!("expected a rate limit, got {other:?}"),
    }
    sandbox
        .control(
            "PUT",
            "/hubspot/accounts/errors/faults",
            json!({ "error_rates": { "503": 1.0 } }),
        )
        .await;
    assert!(matches!(
        list().await,
        Err(ConnectorError::Retryable { status: Some(503), .. })
    ));
    sandbox
        .control("PUT", "/hubspot/accounts/errors/faults", json!({ "drop_rate": 1.0 }))
        .await;
    assert!(matches!(
        list().await,
        Err(ConnectorError::Retryable { status: None, .. })
    ));
    sandbox
        .control("DELETE", "/hubspot/accounts/errors/faults", Value::Null)
        .await;
    assert!(list().await.is_ok());

    let stranger = Credential {
        access_token: SecretString::from("CO-not-a-token"),
        base_url: credential.base_url.clone(),
    };
    assert!(matches!(
        connector.get(&stranger, ObjectKind::Contact, "1001", &[]).await,
        Err(ConnectorError::Unauthorized { .. })
    ));
    assert!(matches!(
        connector.identity(&stranger).await,
        Err(ConnectorError::Unauthorized { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contract_holds_against_a_real_hubspot_account() {
    let Ok(token) = std::env::var("TANDEM_CONTRACT_HUBSPOT_TOKEN") else {
        eprintln!(
            "SKIPPED: set TANDEM_CONTRACT_HUBSPOT_TOKEN (a private app token) to run the HubSpot contract against a real account"
        );
        return;
    };
    let credential = Credential {
        access_token: SecretString::from(token),
        base_url: "https://api.hubapi.com".into(),
    };
    contract(&HubSpotConnector::new(http_client().unwrap()), &credential).await;
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
