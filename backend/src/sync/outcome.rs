//! What processing one page of changes produces, before it is written in one transaction:
//! links, per-record events, failures, conflicts, deletions seen, writes into the app's store,
//! and the run's counters.

use serde_json::{Value, json};
use tandem_shared::api::changes::ChangeKind;
use tandem_shared::api::failed_records::FailureReason;
use tandem_shared::api::pipelines::Flow;
use tandem_shared::api::runs::RecordOutcome;

use super::crm::CallError;
use crate::connectors::ConnectorError;
use crate::repo::failed_records::NewFailure;
use crate::repo::sync_history::{NewConflict, NewEvent, NewHeldDelete, RunDelta};
use crate::repo::sync_links::Link;
use crate::repo::sync_seen::Seen;

/// A record read from one side.
#[derive(Clone, Debug, PartialEq)]
pub struct Incoming {
    pub id: String,
    /// The side's own field names: the app's model, or the CRM's properties.
    pub fields: Value,
    pub modified_at: i64,
    pub deleted: bool,
    /// The app record's version, when read from the app.
    pub app_version: Option<i64>,
}

impl Incoming {
    pub fn email(&self) -> Option<String> {
        ["email", "Email"]
            .iter()
            .find_map(|f| self.fields.get(*f).and_then(Value::as_str))
            .map(|e| e.trim().to_lowercase())
    }
}

/// A record to write into the app's store (and announce on the change feed).
#[derive(Clone, Debug, PartialEq)]
pub struct AppWrite {
    pub external_id: String,
    pub crm_id: String,
    pub provider: String,
    /// The whole app record, validated; `None` for a deletion.
    pub payload: Option<Value>,
    pub hash: String,
    pub change: ChangeKind,
    /// The link (by source id) to give the written version to.
    pub link_source_id: Option<String>,
}

#[derive(Default)]
pub struct PageOutput {
    pub delta: RunDelta,
    pub links: Vec<Link>,
    pub events: Vec<NewEvent>,
    pub failures: Vec<NewFailure>,
    /// Records (by their id on the side read) that synced: their open failures are resolved.
    pub resolved: Vec<(Flow, String)>,
    pub pending_deletes: Vec<NewHeldDelete>,
    pub conflicts: Vec<NewConflict>,
    pub app_writes: Vec<AppWrite>,
    /// The CRM records the page read, as read (for the reconciliation's comparison).
    pub seen: Vec<Seen>,
}

impl PageOutput {
    pub fn event(
        &mut self,
        flow: Flow,
        source: Option<&str>,
        target: Option<&str>,
        outcome: RecordOutcome,
        detail: Value,
    ) {
        self.events.push(NewEvent {
            flow,
            source_id: source.map(str::to_string),
            target_id: target.map(str::to_string),
            outcome,
            detail,
        });
    }

    pub fn unchanged(&mut self) {
        self.delta.counts.unchanged += 1;
        self.delta.progress_done += 1;
    }

    pub fn created(&mut self, flow: Flow, source: &str, target: &str, detail: Value) {
        self.delta.counts.created += 1;
        self.delta.progress_done += 1;
        self.event(flow, Some(source), Some(target), RecordOutcome::Created, detail);
    }

    pub fn updated(&mut self, flow: Flow, source: &str, target: &str, detail: Value) {
        self.delta.counts.updated += 1;
        self.delta.progress_done += 1;
        self.event(flow, Some(source), Some(target), RecordOutcome::Updated, detail);
    }

    /// Left out by a rule: an event says which, nothing is retried.
    pub fn skipped(&mut self, flow: Flow, source: &str, target: Option<&str>, reason: &str, detail: Value) {
        self.delta.counts.skipped += 1;
        self.delta.progress_done += 1;
        let mut detail = detail;
        if let Some(map) = detail.as_object_mut() {
            map.insert("reason".into(), json!(reason));
        }
        self.event(flow, Some(source), target, RecordOutcome::Skipped, detail);
    }

    /// A failed record, kept with its payloads and reason, and an event.
    pub fn failed(&mut self, flow: Flow, record: &Incoming, mapped: Option<Value>, reason: FailureReason) {
        self.delta.counts.failed += 1;
        self.delta.progress_done += 1;
        self.event(
            flow,
            Some(&record.id),
            None,
            RecordOutcome::Failed,
            json!({ "kind": reason.kind, "field": reason.field, "message": reason.message }),
        );
        self.failures.push(NewFailure {
            flow,
            record_id: record.id.clone(),
            record_email: record.email(),
            source_payload: record.fields.clone(),
            mapped_payload: mapped,
            reason,
        });
    }
}

/// A failure reason from a CRM's classified error.
pub fn reason_from_connector(error: &ConnectorError) -> FailureReason {
    let (field, crm_error) = match error {
        ConnectorError::Validation { field, code, message } => (
            field.clone(),
            json!({ "code": code, "message": message, "field": field }),
        ),
        ConnectorError::Conflict { message, existing_id } => {
            (None, json!({ "message": message, "existing_id": existing_id }))
        }
        ConnectorError::Rejected { status, message } => (None, json!({ "status": status, "message": message })),
        ConnectorError::Retryable { status, message } => (None, json!({ "status": status, "message": message })),
        other => (None, json!({ "message": other.to_string() })),
    };
    FailureReason {
        kind: error.kind().to_string(),
        field,
        message: error.to_string(),
        crm_error: Some(crm_error),
    }
}

/// A failure reason for a whole call that failed (every record in it fails with it).
pub fn reason_from_call(error: &CallError) -> FailureReason {
    match error {
        CallError::Exhausted(inner, attempts) => FailureReason {
            kind: "retries_exhausted".into(),
            field: None,
            message: format!("{inner} — still failing after {attempts} attempts"),
            crm_error: reason_from_connector(inner).crm_error,
        },
        CallError::Refused(inner) => reason_from_connector(inner),
        other => FailureReason {
            kind: "call".into(),
            field: None,
            message: other.to_string(),
            crm_error: None,
        },
    }
}
