//! The connector contract: what every CRM connector must do, written once and run unchanged for
//! each of them, against its sandbox CRM always and against a real account when that CRM's
//! environment variables are set (a visible `SKIPPED` otherwise). A connector's own file says
//! only what differs between CRMs: its field names, a record it refuses, its credentials.
//!
//! What only a sandbox allows (ties made with a coarse clock, injected faults, expired and
//! revoked grants) runs against the sandbox alone.

pub mod hubspot;
pub mod pipedrive;
pub mod salesforce;

use std::collections::BTreeSet;
use std::sync::Arc;

use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};
use tandem::connectors::callout::CallScope;
use tandem::connectors::{
    ChangeCursor, Connector, ConnectorError, Credential, FieldType, Fields, ObjectKind, Record, WriteResults,
};
use tandem::sync::budget::Budget;
use tandem_shared::api::connections::{ConnectionCheck, ConnectionStatus};
use tandem_shared::ids::ConnectionId;

use crate::helpers::{Backend, SandboxServer, approve_consent, connect_sandbox, spawn_app};

/// What differs between CRMs, as data.
pub struct Facts {
    /// A valid new contact whose email is `email`.
    pub contact: fn(email: &str) -> Fields,
    /// The contact field holding its email, as the CRM names it.
    pub email_field: &'static str,
    /// A text field of contacts that any contact may change.
    pub text_field: &'static str,
    /// A contact the CRM refuses, and the field it names in its refusal.
    pub refused_contact: fn() -> (Fields, &'static str),
    /// An id shaped like the CRM's that no record has.
    pub missing_id: &'static str,
    /// A picklist field of contacts and one of its values (or that value's label).
    pub picklist: (&'static str, &'static str),
}

/// One connector pointed at one account.
pub struct Subject {
    pub connector: Arc<dyn Connector>,
    pub credential: Credential,
    pub facts: Facts,
}

/// The sandbox account behind a subject, for what only a sandbox can do.
pub struct SandboxAccount<'a> {
    pub server: &'a SandboxServer,
    /// The emulator's path segment (`hubspot`).
    pub crm: &'static str,
    pub account: String,
}

impl SandboxAccount<'_> {
    pub async fn control(&self, method: &str, what: &str, body: Value) -> Value {
        self.server
            .control(method, &format!("/{}/accounts/{}/{what}", self.crm, self.account), body)
            .await
    }
}

/// A unique email, so that runs against real accounts never collide.
pub fn unique_email(prefix: &str) -> String {
    format!("{prefix}-{}@contract.tandem.test", uuid::Uuid::new_v4().simple())
}

pub fn fields(pairs: &[(&str, &str)]) -> Fields {
    pairs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect()
}

/// Retries what the CRM asks to wait for, as the sync engine does (search limits are low).
async fn patiently<T, F, Fut>(mut call: F) -> Result<T, ConnectorError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ConnectorError>>,
{
    for _ in 0..20 {
        match call().await {
            Err(ConnectorError::RateLimited { wait, daily: false, .. }) => {
                tokio::time::sleep(wait.min(std::time::Duration::from_secs(11))).await;
            }
            other => return other,
        }
    }
    call().await
}

fn ok_ids(results: &WriteResults) -> Vec<String> {
    results
        .iter()
        .map(|r| r.as_ref().expect("written").id.clone())
        .collect()
}

/// Calls paced at the CRM's default limits, as the sync engine makes them (a batch of a CRM
/// without batch writes is many calls at once).
fn paced(connector: &dyn Connector) -> CallScope {
    let limits = tandem::sync::plan::limits_of(connector.provider(), Default::default());
    let budget = Budget::new(ConnectionId(uuid::Uuid::new_v4()), limits, 0);
    CallScope::new(Some(Arc::new(budget)))
}

/// Everything that holds against any account: the sandbox's and a real one alike.
pub async fn run(subject: &Subject) {
    paced(&*subject.connector)
        .run(async {
            identity_and_description(subject).await;
            reads_and_writes(subject).await;
        })
        .await;
}

async fn identity_and_description(subject: &Subject) {
    let Subject {
        connector,
        credential,
        facts,
    } = subject;
    let identity = connector.identity(credential).await.expect("identity");
    assert!(!identity.account_id.is_empty(), "{identity:?}");
    assert!(!identity.account_name.is_empty(), "{identity:?}");

    let key = connector
        .prepare_sync_key(credential, ObjectKind::Contact)
        .await
        .expect("the sync key field");
    let meta = connector
        .describe(credential, ObjectKind::Contact)
        .await
        .expect("describe");
    assert!(!meta.crm_name.is_empty());
    let email = meta.field(facts.email_field).expect("the email field");
    assert_eq!(email.field_type, FieldType::Email, "{email:?}");
    let (picklist, option) = facts.picklist;
    let picklist = meta.field(picklist).expect("the picklist field");
    assert!(
        matches!(picklist.field_type, FieldType::Picklist | FieldType::MultiPicklist),
        "{picklist:?}"
    );
    assert!(
        picklist
            .options
            .iter()
            .any(|o| (o.value == option || o.label == option) && !o.value.is_empty()),
        "{picklist:?}"
    );
    let key = meta.field(&key).expect("the sync key is described");
    assert!(key.custom && key.unique, "{key:?}");
    for kind in [ObjectKind::Company, ObjectKind::Deal] {
        let meta = connector.describe(credential, kind).await.expect("describe");
        assert!(!meta.fields.is_empty(), "{kind:?} has fields");
    }
}

async fn reads_and_writes(subject: &Subject) {
    let Subject {
        connector,
        credential,
        facts,
    } = subject;
    let contact = ObjectKind::Contact;
    let batch_max = connector.provider().capabilities.batch_max;
    let read: Vec<String> = vec![facts.email_field.into(), facts.text_field.into()];

    // A batch one past the CRM's maximum, with a refused record among them: only it fails.
    let emails: Vec<String> = (0..batch_max).map(|i| unique_email(&format!("c{i}"))).collect();
    let (refused, refused_field) = (facts.refused_contact)();
    let mut inputs: Vec<Fields> = emails.iter().map(|e| (facts.contact)(e)).collect();
    let refused_at = batch_max / 2;
    inputs.insert(refused_at, refused);
    let created = connector.create(credential, contact, &inputs).await.expect("create");
    assert_eq!(created.len(), inputs.len(), "one result per input");
    match &created[refused_at] {
        Err(ConnectorError::Validation { field, .. }) => assert_eq!(field.as_deref(), Some(refused_field)),
        other => panic!("expected the CRM to refuse {refused_field}, got {other:?}"),
    }
    let mut created = created;
    let _refused = created.remove(refused_at);
    assert!(created.iter().all(|r| matches!(r, Ok(w) if w.created)), "{created:?}");
    let ids = ok_ids(&created);
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), ids.len(), "distinct ids");

    let first = connector
        .get(credential, contact, &ids[0], &read)
        .await
        .expect("get")
        .expect("the record exists");
    assert_eq!(first.fields[facts.email_field], json!(emails[0]));
    let mut wanted: Vec<String> = ids.iter().take(3).cloned().collect();
    wanted.push(facts.missing_id.into());
    let many = connector
        .get_many(credential, contact, &wanted, &read)
        .await
        .expect("get_many");
    assert_eq!(
        many.iter().map(|r| r.id.clone()).collect::<BTreeSet<_>>(),
        ids.iter().take(3).cloned().collect(),
        "records that do not exist are left out"
    );
    let sought = [
        emails[1].clone(),
        emails[2].clone(),
        "nobody@contract.tandem.test".into(),
    ];
    let found = patiently(|| connector.find_by(credential, contact, facts.email_field, &sought, &read))
        .await
        .expect("find_by");
    assert_eq!(
        found.iter().map(|r| r.id.clone()).collect::<BTreeSet<_>>(),
        [ids[1].clone(), ids[2].clone()].into_iter().collect()
    );

    let updated = connector
        .update(
            credential,
            contact,
            &[
                (ids[0].clone(), fields(&[(facts.text_field, "Lovelace")])),
                (facts.missing_id.into(), fields(&[(facts.text_field, "Nobody")])),
            ],
        )
        .await
        .expect("update");
    assert!(
        matches!(updated[0], Ok(ref w) if w.id == ids[0] && !w.created),
        "{updated:?}"
    );
    assert!(
        matches!(updated[1], Err(ConnectorError::NotFound { .. })),
        "{updated:?}"
    );
    let changed = connector
        .get(credential, contact, &ids[0], &read)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(changed.fields[facts.text_field], json!("Lovelace"));

    // Upserts by the sync key: a key seen before updates its record, a new one creates.
    let key = connector
        .prepare_sync_key(credential, contact)
        .await
        .expect("the sync key field");
    let (old_key, new_key) = (uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4().to_string());
    let with_key = |email: &str, key_value: &str| {
        let mut record = (facts.contact)(email);
        record.insert(key.clone(), json!(key_value));
        record
    };
    let keyed = connector
        .upsert(credential, contact, &key, &[with_key(&unique_email("keyed"), &old_key)])
        .await
        .expect("upsert");
    let keyed_id = keyed[0].clone().expect("created by upsert");
    assert!(keyed_id.created);
    let second = [
        with_key(&unique_email("keyed-again"), &old_key),
        with_key(&unique_email("fresh"), &new_key),
    ];
    let upserted = patiently(|| connector.upsert(credential, contact, &key, &second))
        .await
        .expect("upsert");
    assert!(
        matches!(upserted[0], Ok(ref w) if w.id == keyed_id.id && !w.created),
        "{upserted:?}"
    );
    let fresh = upserted[1].clone().expect("created by upsert");
    assert!(fresh.created);

    let mut all = ids.clone();
    all.extend([keyed_id.id.clone(), fresh.id.clone()]);
    connector.delete(credential, contact, &all).await.expect("delete");
    assert!(
        connector
            .get(credential, contact, &ids[0], &[])
            .await
            .expect("get")
            .is_none(),
        "deleted"
    );
    connector
        .delete(credential, contact, &ids[..1])
        .await
        .expect("deleting what is gone succeeds");
}

/// Reads every change after `since` in pages of `page_size`, checking that the cursor only
/// moves on; `between` runs after the first page (a write while the read is under way).
pub async fn read_all(
    subject: &Subject,
    since: Option<ChangeCursor>,
    page_size: usize,
    mut between: Option<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + '_>>>,
) -> (Vec<Record>, Option<ChangeCursor>) {
    let fields = vec![
        subject.facts.email_field.to_string(),
        subject.facts.text_field.to_string(),
    ];
    let mut cursor = since;
    let mut read = Vec::new();
    for _ in 0..2_000 {
        let page = patiently(|| {
            subject.connector.changes(
                &subject.credential,
                ObjectKind::Contact,
                cursor.as_ref(),
                &fields,
                page_size,
            )
        })
        .await
        .expect("changes");
        assert!(page.records.len() <= page_size, "at most a page");
        assert!(
            page.cursor >= cursor,
            "the cursor never moves back: {:?} after {cursor:?} ({} records, more: {})",
            page.cursor,
            page.records.len(),
            page.more
        );
        read.extend(page.records);
        cursor = page.cursor;
        if let Some(write) = between.take() {
            write.await;
        }
        if !page.more {
            return (read, cursor);
        }
    }
    panic!("paging does not end");
}

/// Ties across page boundaries, a write while the read is under way, and deletions: every
/// change is read, the last state of each record among them.
pub async fn changes_are_read_completely(subject: &Subject, sandbox: &SandboxAccount<'_>) {
    paced(&*subject.connector).run(read_completely(subject, sandbox)).await;
}

async fn read_completely(subject: &Subject, sandbox: &SandboxAccount<'_>) {
    let (connector, credential, facts) = (&subject.connector, &subject.credential, &subject.facts);
    let (_, cursor) = read_all(subject, None, 50, None).await;

    // From now on every write in a minute shares one timestamp.
    sandbox
        .control("PUT", "clock", json!({ "granularity_ms": 60_000 }))
        .await;
    let batch: Vec<Fields> = (0..23)
        .map(|i| (facts.contact)(&unique_email(&format!("tie{i}"))))
        .collect();
    let created = connector
        .create(credential, ObjectKind::Contact, &batch)
        .await
        .expect("create");
    let ids = ok_ids(&created);
    sandbox.control("DELETE", "clock", Value::Null).await;

    // Pages of 5 cut through the group of 23; after the first page one of them changes.
    let changed_id = ids[0].clone();
    let write = Box::pin(async {
        // Past the CRM's timestamp granularity (Salesforce: a second): a change stamped with the
        // time the reader has passed is the engine's look-back's to catch, not a connector's.
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        let updated = connector
            .update(
                credential,
                ObjectKind::Contact,
                &[(changed_id.clone(), fields(&[(facts.text_field, "Changed mid-read")]))],
            )
            .await
            .expect("update");
        assert!(updated[0].is_ok(), "{updated:?}");
    });
    let (read, last) = read_all(subject, cursor.clone(), 5, Some(write)).await;
    let seen: BTreeSet<String> = read.iter().map(|r| r.id.clone()).collect();
    let missed: Vec<&String> = ids.iter().filter(|id| !seen.contains(*id)).collect();
    assert!(missed.is_empty(), "missed {missed:?}");
    let final_state = read.iter().rev().find(|r| r.id == changed_id).expect("read");
    assert_eq!(
        final_state.fields[facts.text_field],
        json!("Changed mid-read"),
        "the record changed during the read is read again, changed"
    );
    let (again, _) = read_all(subject, last.clone(), 5, None).await;
    assert!(again.is_empty(), "nothing new after the last cursor: {again:?}");

    // Deletions arrive through `changes` or `deletions`, whichever the CRM keeps them in (past
    // the last read's timestamp, as above).
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    let deleted: BTreeSet<String> = ids.iter().take(3).cloned().collect();
    connector
        .delete(
            credential,
            ObjectKind::Contact,
            &deleted.iter().cloned().collect::<Vec<_>>(),
        )
        .await
        .expect("delete");
    let (after, _) = read_all(subject, last, 50, None).await;
    let mut gone: BTreeSet<String> = after.iter().filter(|r| r.deleted).map(|r| r.id.clone()).collect();
    let kept_apart = connector
        .deletions(credential, ObjectKind::Contact, before)
        .await
        .expect("deletions");
    gone.extend(kept_apart.iter().filter(|r| r.deleted).map(|r| r.id.clone()));
    assert!(deleted.is_subset(&gone), "deletions read: {gone:?}");

    // Where the CRM counts, the count agrees with what a whole read returns.
    if let Some(total) = patiently(|| connector.count(credential, ObjectKind::Contact, None, None))
        .await
        .expect("count")
    {
        let (everything, _) = read_all(subject, None, 200, None).await;
        let mut live: BTreeSet<String> = BTreeSet::new();
        for record in &everything {
            if record.deleted {
                live.remove(&record.id);
            } else {
                live.insert(record.id.clone());
            }
        }
        assert_eq!(total as usize, live.len(), "the count agrees with the read");
    }
}

/// Each failure arrives classified as the caller must treat it.
pub async fn errors_are_classified(subject: &Subject, sandbox: &SandboxAccount<'_>) {
    let (connector, credential) = (&subject.connector, &subject.credential);
    let call = || connector.describe(credential, ObjectKind::Contact);

    sandbox.control("PUT", "faults", json!({ "rate_limit_burst": 1 })).await;
    match call().await {
        Err(ConnectorError::RateLimited { wait, .. }) => {
            assert!(
                wait > std::time::Duration::ZERO && wait <= std::time::Duration::from_secs(86_400),
                "{wait:?}"
            );
        }
        other => panic!("expected a rate limit, got {other:?}"),
    }
    sandbox
        .control("PUT", "faults", json!({ "error_rates": { "503": 1.0 } }))
        .await;
    assert!(
        matches!(call().await, Err(ConnectorError::Retryable { status: Some(503), .. })),
        "a 5xx is retryable"
    );
    sandbox.control("PUT", "faults", json!({ "drop_rate": 1.0 })).await;
    assert!(
        matches!(call().await, Err(ConnectorError::Retryable { status: None, .. })),
        "a dropped connection is retryable"
    );
    sandbox.control("DELETE", "faults", Value::Null).await;
    assert!(call().await.is_ok());

    let stranger = Credential {
        access_token: SecretString::from("not-a-token-of-this-account"),
        ..credential.clone()
    };
    assert!(matches!(
        connector.identity(&stranger).await,
        Err(ConnectorError::Unauthorized { .. })
    ));
    assert!(matches!(
        connector
            .get(&stranger, ObjectKind::Contact, subject.facts.missing_id, &[])
            .await,
        Err(ConnectorError::Unauthorized { .. })
    ));
}

/// Through Tandem, for a CRM connected with its consent page: a call whose access token the
/// CRM refuses refreshes it once and goes on; a grant revoked at the CRM makes the connection
/// need re-authorization, until it is connected again.
pub async fn grants_are_refreshed_and_revocations_noticed(backend: Backend, provider: &str) {
    let app = spawn_app(backend).await;
    let (tenant, admin) = app.tenant_with_admin("Contract Grants").await;
    let connection = connect_sandbox(&admin, tenant.id, provider, "sandbox").await;
    let base = format!("/api/v1/tenants/{}/connections/{}", tenant.id, connection.id);
    let control = format!(
        "{}/sandbox/_control/{provider}/accounts/contract-grants-sandbox",
        app.address
    );
    let sandbox = reqwest::Client::new();
    let refreshes = || async {
        let summary: Value = reqwest::get(&control).await.unwrap().json().await.unwrap();
        summary["token_refreshes"]
            .as_u64()
            .expect("the sandbox counts refreshes")
    };
    // A client as a run has it: budget, retries, token manager.
    let budgets = tandem::sync::budget::Budgets::default();
    let loader = tandem::sync::plan::Loader {
        db: app.db(),
        access: &app.state.crm,
        budgets: &budgets,
        retry: tandem::sync::crm::RetryPolicy::default(),
    };
    let stored = tandem::repo::connections::get(app.db().pool(), tenant.id, connection.id)
        .await
        .unwrap()
        .unwrap();
    let client = loader.client(&tenant, stored).await.unwrap();
    let describe = || {
        client.call(|credential| {
            let connector = client.connector.clone();
            async move { connector.describe(&credential, ObjectKind::Contact).await }
        })
    };

    let before = refreshes().await;
    let expired = sandbox.post(format!("{control}/tokens/expire")).send().await.unwrap();
    assert_eq!(expired.status(), StatusCode::OK);
    describe().await.expect("refreshed after the 401, then described");
    assert_eq!(refreshes().await, before + 1, "one refresh");

    sandbox.post(format!("{control}/tokens/revoke")).send().await.unwrap();
    match describe().await {
        Err(tandem::sync::crm::CallError::NeedsReauth(_)) => {}
        other => panic!("expected the connection to need re-authorization, got {other:?}"),
    }
    let check: ConnectionCheck = admin.post_ok(&format!("{base}/test"), &json!({})).await;
    assert!(!check.ok);
    assert_eq!(check.connection.status, ConnectionStatus::NeedsReauth, "{check:?}");

    let again: Value = admin.post_ok(&format!("{base}/reconnect"), &json!({})).await;
    let callback = approve_consent(again["authorize_url"].as_str().unwrap(), "approve").await;
    assert_eq!(reqwest::get(&callback).await.unwrap().status(), StatusCode::OK);
    let check: ConnectionCheck = admin.post_ok(&format!("{base}/test"), &json!({})).await;
    assert!(check.ok, "{}", check.message);
}

/// The contract's instances for one CRM: `contract_tests!(crm, sandbox_subject, real_subject)`
/// where `sandbox_subject(&SandboxServer, account) -> (Subject, SandboxAccount)` and
/// `real_subject() -> Option<Subject>` (None prints why it is skipped).
#[macro_export]
macro_rules! contract_tests {
    ($provider:literal, $sandbox_subject:path, $real_subject:path) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn the_contract_holds_against_the_sandbox() {
            let server = $crate::helpers::spawn_sandbox().await;
            let (subject, _) = $sandbox_subject(&server, "contract").await;
            $crate::contract::run(&subject).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn the_contract_holds_against_a_real_account() {
            if let Some(subject) = $real_subject() {
                $crate::contract::run(&subject).await;
            }
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn changes_are_read_completely() {
            let server = $crate::helpers::spawn_sandbox().await;
            let (subject, sandbox) = $sandbox_subject(&server, "changes").await;
            $crate::contract::changes_are_read_completely(&subject, &sandbox).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn errors_are_classified() {
            let server = $crate::helpers::spawn_sandbox().await;
            let (subject, sandbox) = $sandbox_subject(&server, "errors").await;
            $crate::contract::errors_are_classified(&subject, &sandbox).await;
        }

        $crate::db_tests!(grants_are_refreshed_and_revocations_noticed);

        async fn grants_are_refreshed_and_revocations_noticed(backend: $crate::helpers::Backend) {
            $crate::contract::grants_are_refreshed_and_revocations_noticed(backend, $provider).await;
        }
    };
}
