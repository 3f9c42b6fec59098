//! Runs pipelines, one slice at a time.
//!
//! A run reads the changes of each side it syncs from (source, and target for two-way pipelines)
//! page by page after that side's cursor, processes each page (`page`) and commits everything the
//! page produced — links, events, failed records, writes into the app's store and the change feed,
//! callouts, counters and the new cursor — in one transaction. A crash between pages loses
//! nothing (the page is read again) and doubles nothing (CRM writes are idempotent, app writes are
//! keyed). A run lasts as many job slices as it needs: each slice stops after `slice` so that
//! other tenants' jobs get their turn, and the run goes on in the next slice (`active_run_id`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tandem_shared::api::changes::{Change, ChangeKind};
use tandem_shared::api::pipelines::{Flow, InitialLoad, MappingWarning, PipelineStatus, Side};
use tandem_shared::api::runs::{
    HeldDeleteStatus, Reconciliation, ReconciliationOutcome, RecordOutcome, RunStatus, RunTrigger, SideReconciliation,
};
use tandem_shared::ids::{ConnectionId, PipelineId, RunId};
use tracing::Instrument;

use super::budget::Budgets;
use super::crm::{CallError, RetryPolicy};
use super::notify;
use super::outcome::{AppWrite, Incoming, PageOutput};
use super::page::{self, Abort, PageCtx};
use super::plan::{Loader, Plan, PlanError, SideHandle};
use super::reader::{Fresh, Pass, Position, ReadState, Step};
use super::reconcile::Reconciled;
use super::writes;
use crate::connectors::ChangeCursor;
use crate::domain::match_keys::match_keys;
use crate::jobs::Queue;
use crate::oauth::CrmAccess;
use crate::repo::app_records::{self, Upsert};
use crate::repo::change_feed::{self, NewChange};
use crate::repo::failed_records::DuplicateChoice;
use crate::repo::sync_history::{self, StoredHeldDelete};
use crate::repo::sync_seen::Seen;
use crate::repo::{
    Db, RepoError, change_sequences, failed_records, now_ms, pipelines, sync_links, sync_seen, webhooks,
};

#[derive(Clone, Copy, Debug)]
pub struct EngineConfig {
    /// Records read per page (and written per batch, up to the CRM's maximum).
    pub page_size: usize,
    /// How long one job slice may run before it hands over.
    pub slice: Duration,
    pub retry: RetryPolicy,
    /// How late a CRM may show a change (search indexes lag writes by seconds; coarse clocks):
    /// each run reads again what changed from this long before the last run began.
    pub lookback: Duration,
    /// CRM sides with at most this many records are read again whole by a reconciliation.
    pub reconcile_read_whole_up_to: u64,
    /// How often a pipeline's mappings are checked against its CRMs' live fields (schema drift),
    /// at the start of a run.
    pub schema_check_every: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            page_size: 200,
            slice: Duration::from_secs(20),
            retry: RetryPolicy::default(),
            lookback: Duration::from_secs(5),
            reconcile_read_whole_up_to: 50_000,
            schema_check_every: Duration::from_secs(3600),
        }
    }
}

/// How a slice ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slice {
    /// The run is over (or there was nothing to run).
    Finished,
    /// More to do: run the next slice as soon as it is this tenant's turn.
    Continue,
    /// Wait this long first (the daily quota is spent).
    Wait(Duration),
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// Worth another try later (the token endpoint is down, the CRM kept failing a read).
    #[error("{0}")]
    Retry(String),
}

struct Inner {
    db: Db,
    queue: Queue,
    access: Arc<CrmAccess>,
    budgets: Budgets,
    config: EngineConfig,
    /// Sync-key fields already prepared, per connection and object.
    sync_keys: Mutex<HashMap<(ConnectionId, &'static str), String>>,
    /// When each pipeline's mappings were last checked against the CRMs' fields.
    schema_checked: Mutex<HashMap<PipelineId, Instant>>,
}

#[derive(Clone)]
pub struct SyncEngine {
    inner: Arc<Inner>,
}

pub(super) enum PassEnd {
    CaughtUp,
    OutOfTime,
    /// The side's pages stopped moving the read on (the reason, for people).
    Stalled(String),
}

/// A page as read: its records, where the side says it read up to, and whether more follow.
type ReadPage = (Vec<Incoming>, Option<Position>, bool);

/// A read position as people read it.
fn describe_position(position: &Position) -> String {
    match position {
        Position::App { seq } => format!("change {seq}"),
        Position::Crm(cursor) => format!("{} (record {})", cursor.modified_at.to_rfc3339(), cursor.id),
    }
}

/// The run a slice works on.
#[derive(Clone, Copy)]
pub(super) struct RunRef {
    pub id: RunId,
    pub trigger: RunTrigger,
    /// Started in this slice.
    pub fresh: bool,
}

impl SyncEngine {
    pub fn new(db: Db, queue: Queue, access: Arc<CrmAccess>, config: EngineConfig) -> SyncEngine {
        SyncEngine {
            inner: Arc::new(Inner {
                db,
                queue,
                access,
                budgets: Budgets::default(),
                config,
                sync_keys: Mutex::new(HashMap::new()),
                schema_checked: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub fn queue(&self) -> &Queue {
        &self.inner.queue
    }

    pub fn config(&self) -> EngineConfig {
        self.inner.config
    }

    pub fn budgets(&self) -> &Budgets {
        &self.inner.budgets
    }

    /// A client for calls a person is waiting for (reading a CRM's fields, a preview): within
    /// the connection's budget like a run's, retried briefly.
    pub async fn interactive_client(
        &self,
        tenant: &tandem_shared::api::tenants::Tenant,
        connection: crate::repo::connections::StoredConnection,
    ) -> Result<super::crm::CrmClient, PlanError> {
        let loader = Loader {
            db: &self.inner.db,
            access: &self.inner.access,
            budgets: &self.inner.budgets,
            retry: RetryPolicy {
                attempts: 2,
                first_delay: Duration::from_millis(200),
                max_delay: Duration::from_secs(2),
            },
        };
        loader.client(tenant, connection).await
    }

    /// Runs one slice of the pipeline's current run (starting a run if none is going).
    pub async fn run_slice(&self, pipeline_id: PipelineId) -> Result<Slice, SyncError> {
        let span = tracing::info_span!("sync", pipeline.id = %pipeline_id, tenant.id = tracing::field::Empty, run.id = tracing::field::Empty);
        self.slice(pipeline_id, span.clone()).instrument(span).await
    }

    async fn slice(&self, pipeline_id: PipelineId, span: tracing::Span) -> Result<Slice, SyncError> {
        let db = &self.inner.db;
        let Some(stored) = pipelines::get_any(db.pool(), pipeline_id).await? else {
            return Ok(Slice::Finished);
        };
        span.record("tenant.id", tracing::field::display(stored.pipeline.tenant_id));
        if stored.pipeline.status != PipelineStatus::Active {
            let (active, _) = sync_history::active_run(db.pool(), pipeline_id).await?;
            if let Some(run) = active {
                let reason = format!("the pipeline is {}", stored.pipeline.status.as_str().replace('_', " "));
                sync_history::finish_run(db.pool(), run, RunStatus::Failed, Some(&reason), now_ms()).await?;
                sync_history::set_active_run(db.pool(), pipeline_id, None, None).await?;
            }
            return Ok(Slice::Finished);
        }
        let environment_id = stored.environment_id;
        let tenant_id = stored.pipeline.tenant_id;
        let loader = Loader {
            db,
            access: &self.inner.access,
            budgets: &self.inner.budgets,
            retry: self.inner.config.retry,
        };
        let mut plan = match loader.load(stored).await {
            Ok(plan) => plan,
            Err(PlanError::Gone) => return Ok(Slice::Finished),
            Err(PlanError::Repo(error)) => return Err(error.into()),
            Err(PlanError::Broken(reason)) => {
                self.pause(pipeline_id, tenant_id, environment_id, "pipeline_broken", &reason)
                    .await?;
                return Ok(Slice::Finished);
            }
        };

        let run = self.current_run(&plan).await?;
        span.record("run.id", tracing::field::display(run.id));
        sync_history::interrupt_stale_runs(db.pool(), pipeline_id, Some(run.id), now_ms()).await?;

        match self.slice_body(&mut plan, run).await {
            Ok(slice) => Ok(slice),
            Err(abort) => self.aborted(&plan, run, abort).await,
        }
    }

    async fn slice_body(&self, plan: &mut Plan, run: RunRef) -> Result<Slice, Abort> {
        let deadline = Instant::now() + self.inner.config.slice;
        if let Some(reason) = self.prepare_sync_keys(plan).await? {
            let p = &plan.stored;
            self.pause(
                p.pipeline.id,
                p.pipeline.tenant_id,
                p.environment_id,
                "sync_key_missing",
                &reason,
            )
            .await?;
            sync_history::finish_run(self.inner.db.pool(), run.id, RunStatus::Failed, Some(&reason), now_ms()).await?;
            sync_history::set_active_run(self.inner.db.pool(), p.pipeline.id, None, None).await?;
            return Ok(Slice::Finished);
        }
        if run.fresh {
            self.start_progress(plan, run).await?;
            self.check_schema(plan, run).await?;
        }
        let mut flows = vec![Flow::Forward];
        if plan.two_way() {
            flows.push(Flow::Reverse);
        }
        for &flow in &flows {
            self.replay(plan, run, flow).await?;
        }
        let mut unproven = Vec::new();
        for &flow in &flows {
            match self.pass(plan, run, flow, deadline).await? {
                PassEnd::CaughtUp => {}
                PassEnd::OutOfTime => {
                    tracing::info!("the run goes on in a next slice (other tenants' work first)");
                    self.update_estimate(plan, run).await?;
                    return Ok(Slice::Continue);
                }
                PassEnd::Stalled(reason) => {
                    tracing::warn!(%reason, "a read stalled");
                    unproven.push(reason);
                }
            }
        }
        // A reconciliation checks what runs read of CRMs (the app's side is read by its change
        // numbers, which leave no gap); a pipeline that reads no CRM has nothing more to check.
        let reads_a_crm = flows.iter().any(|f| plan.side(f.from_side()).crm().is_some());
        if run.trigger == RunTrigger::Reconciliation && reads_a_crm && unproven.is_empty() {
            match self.reconcile(plan, run, &flows, deadline).await? {
                Reconciled::OutOfTime => {
                    tracing::info!("the reconciliation goes on in a next slice");
                    return Ok(Slice::Continue);
                }
                Reconciled::Done(report) => {
                    for side in &report.sides {
                        tracing::info!(
                            side = side.side,
                            outcome = side.outcome.as_str(),
                            crm = side.crm_count,
                            seen = side.seen_after,
                            recovered = side.recovered,
                            deletions = side.deletions_found,
                            "reconciliation"
                        );
                        if let Some(note) = side
                            .note
                            .clone()
                            .filter(|_| side.outcome == ReconciliationOutcome::Unproven)
                        {
                            unproven.push(format!(
                                "the reconciliation could not prove every record was read: {note}"
                            ));
                        }
                    }
                    self.reconciliation_alert(plan, run, &report).await?;
                }
            }
        }
        let incomplete = (!unproven.is_empty()).then(|| unproven.join("; "));
        self.end_run(plan, run, incomplete).await
    }

    /// The run this slice continues, or a new one.
    async fn current_run(&self, plan: &Plan) -> Result<RunRef, SyncError> {
        let db = &self.inner.db;
        let pipeline = &plan.stored.pipeline;
        let (active, next_trigger) = sync_history::active_run(db.pool(), pipeline.id).await?;
        if let Some(id) = active
            && let Some(run) = sync_history::get_run(db.pool(), pipeline.tenant_id, id).await?
            && run.status == RunStatus::Running
        {
            if run.progress.waiting_until.is_some() {
                sync_history::set_waiting(db.pool(), id, None).await?;
            }
            return Ok(RunRef {
                id,
                trigger: run.trigger,
                fresh: false,
            });
        }
        let first_run = sync_links::cursor(db.pool(), pipeline.id, Side::Source)
            .await?
            .is_none();
        let trigger = match next_trigger {
            Some(RunTrigger::Reconciliation) => RunTrigger::Reconciliation,
            _ if first_run => RunTrigger::Initial,
            Some(trigger) => trigger,
            None => RunTrigger::Poll,
        };
        let id = sync_history::start_run(db.pool(), pipeline.tenant_id, pipeline.id, trigger, now_ms()).await?;
        sync_history::set_active_run(db.pool(), pipeline.id, Some(id), None).await?;
        if first_run && pipeline.settings.initial_load == InitialLoad::ChangesOnly {
            self.start_from_now(plan).await?;
        }
        tracing::info!(run.id = %id, trigger = trigger.as_str(), "run started");
        Ok(RunRef {
            id,
            trigger,
            fresh: true,
        })
    }

    /// Checks the mappings against the CRMs' live fields (at most every `schema_check_every`): a
    /// mapped field deleted or a picklist value removed since the mapping was saved becomes a
    /// warning on the pipeline and an alert, and records writing that field fail with the reason
    /// (see `writes::to_crm`) instead of being refused by the CRM or losing the value silently.
    async fn check_schema(&self, plan: &mut Plan, run: RunRef) -> Result<(), Abort> {
        let pipeline_id = plan.stored.pipeline.id;
        if plan.crm_clients().next().is_none() {
            return Ok(());
        }
        {
            let checked = self.inner.schema_checked.lock().unwrap_or_else(PoisonError::into_inner);
            if checked
                .get(&pipeline_id)
                .is_some_and(|at| at.elapsed() < self.inner.config.schema_check_every)
            {
                return Ok(());
            }
        }
        let mut flows = vec![Flow::Forward];
        if plan.two_way() {
            flows.push(Flow::Reverse);
        }
        let now = chrono::Utc::now();
        let mut found = Vec::new();
        for flow in flows {
            let (from, to) = (flow.from_side(), flow.from_side().other());
            let target = self.side_meta(plan, to).await?;
            let source = self.side_meta(plan, from).await?;
            let source_names: Vec<String> = source.fields.iter().map(|f| f.name.clone()).collect();
            let Some(mapping) = plan.mapping(flow) else { continue };
            for error in crate::mapping::validate(&mapping.config, &target, Some(&source_names)) {
                found.push(MappingWarning {
                    flow,
                    field: error.field,
                    message: error.message,
                    detected_at: now,
                });
            }
        }
        self.inner
            .schema_checked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(pipeline_id, Instant::now());
        let known = &plan.stored.pipeline.warnings;
        let same =
            |a: &MappingWarning, b: &MappingWarning| a.flow == b.flow && a.field == b.field && a.message == b.message;
        let fresh: Vec<&MappingWarning> = found.iter().filter(|w| !known.iter().any(|k| same(k, w))).collect();
        let gone = known.iter().any(|k| !found.iter().any(|w| same(k, w)));
        if fresh.is_empty() && !gone {
            return Ok(());
        }
        // Warnings seen before keep the time they were first seen.
        let warnings: Vec<MappingWarning> = found
            .iter()
            .map(|w| known.iter().find(|k| same(k, w)).cloned().unwrap_or_else(|| w.clone()))
            .collect();
        let pipeline = &plan.stored.pipeline;
        let mut tx = self.inner.db.begin().await?;
        pipelines::set_warnings(&mut *tx, pipeline_id, &warnings, now_ms()).await?;
        if !fresh.is_empty() {
            let message = format!(
                "the CRM's fields changed since the mapping was saved: {}; records writing these fields fail until the \
                 mapping is fixed and saved",
                fresh.iter().map(|w| w.message.as_str()).collect::<Vec<_>>().join("; ")
            );
            notify::alert(
                &mut tx,
                &self.inner.queue,
                pipeline.tenant_id,
                plan.stored.environment_id,
                Some(pipeline_id),
                "schema_drift",
                &message,
                json!({ "run_id": run.id, "warnings": fresh }),
                now_ms(),
            )
            .await?;
        }
        tx.commit().await.map_err(RepoError::from)?;
        tracing::warn!(
            warnings = warnings.len(),
            "schema drift: the mapping no longer fits the CRM"
        );
        plan.stored.pipeline.warnings = warnings;
        Ok(())
    }

    /// One side's live fields: the app's model, or the CRM's (one call).
    async fn side_meta(&self, plan: &Plan, side: Side) -> Result<crate::connectors::ObjectMeta, Abort> {
        match plan.side(side) {
            SideHandle::App(_) => Ok(super::app_model::meta(plan.stored.pipeline.object)),
            SideHandle::Crm(crm) => {
                let kind = crm.kind;
                Ok(crm
                    .client
                    .call(|credential| {
                        let connector = crm.client.connector.clone();
                        async move { connector.describe(&credential, kind).await }
                    })
                    .await?)
            }
        }
    }

    /// Places the cursor of every side the pipeline reads at the present, so that its first run
    /// reads only what changes from now on.
    async fn start_from_now(&self, plan: &Plan) -> Result<(), RepoError> {
        let db = &self.inner.db;
        let mut sides = vec![Side::Source];
        if plan.two_way() {
            sides.push(Side::Target);
        }
        for side in sides {
            let cursor = match plan.side(side) {
                SideHandle::App(app) => {
                    let seq =
                        app_records::latest_seq(db.pool(), app.environment_id, plan.stored.pipeline.object).await?;
                    json!({ "seq": seq })
                }
                SideHandle::Crm(_) => json!(ChangeCursor::start_of(chrono::Utc::now())),
            };
            sync_links::set_cursor(db.pool(), plan.stored.pipeline.id, side, &cursor, now_ms()).await?;
        }
        Ok(())
    }

    /// Makes sure every CRM that records are created in has Tandem's sync-key field. A reason to
    /// stop when one cannot have it.
    async fn prepare_sync_keys(&self, plan: &mut Plan) -> Result<Option<String>, Abort> {
        let two_way = plan.two_way();
        let sides: Vec<&mut SideHandle> = if two_way {
            vec![&mut plan.target, &mut plan.source]
        } else {
            vec![&mut plan.target]
        };
        for side in sides {
            let Some(crm) = side.crm_mut() else { continue };
            let key = (crm.client.connection.connection.id, crm.kind.as_str());
            let known = self
                .inner
                .sync_keys
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&key)
                .cloned();
            if let Some(field) = known {
                crm.sync_key = Some(field);
                continue;
            }
            let kind = crm.kind;
            let result = crm
                .client
                .call(|credential| {
                    let connector = crm.client.connector.clone();
                    async move { connector.prepare_sync_key(&credential, kind).await }
                })
                .await;
            match result {
                Ok(field) => {
                    self.inner
                        .sync_keys
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(key, field.clone());
                    crm.sync_key = Some(field);
                }
                Err(CallError::Refused(error)) => return Ok(Some(error.to_string())),
                Err(other) => return Err(other.into()),
            }
        }
        Ok(None)
    }

    /// Reads one pass's changes page by page until the side has nothing more, or out of time
    /// (see `reader`). A new run's pass on a CRM first reads again what changed while the last
    /// pass ran.
    pub(super) async fn pass(&self, plan: &Plan, run: RunRef, flow: Flow, deadline: Instant) -> Result<PassEnd, Abort> {
        let db = &self.inner.db;
        let from = flow.from_side();
        let stored = sync_links::cursor(db.pool(), plan.stored.pipeline.id, from)
            .await?
            .and_then(|c| ReadState::from_json(&c));
        let started_at = chrono::Utc::now();
        let fresh = run.fresh.then(|| Fresh {
            now: started_at,
            lookback: chrono::Duration::from_std(self.inner.config.lookback).unwrap_or_default(),
        });
        let mut pass = Pass::start(stored, fresh);
        // The next page, read while this one is processed: the CRM's limiter, not the engine,
        // sets the pace (SYNC-DESIGN, "keep the pipe full").
        let mut ahead: Option<ReadPage> = None;
        loop {
            // A page already read is processed even past the deadline: its call is spent.
            let (records, cursor, more) = match ahead.take() {
                Some(page) => page,
                None if Instant::now() >= deadline => return Ok(PassEnd::OutOfTime),
                None => self.read_page(plan, flow, pass.position()).await?,
            };
            let step = pass.advance(cursor, more);
            let (output, next) = if matches!(step, Step::Next(_)) && Instant::now() < deadline {
                let position = pass.position().cloned();
                let (output, next) = tokio::join!(
                    self.process_read(plan, flow, records),
                    self.read_page(plan, flow, position.as_ref())
                );
                (output?, Some(next))
            } else {
                (self.process_read(plan, flow, records).await?, None)
            };
            let state = step.state().map(|s| (from, s.to_json()));
            self.commit(plan, run.id, output, state).await?;
            // A next page that could not be read stops the slice only now, with this one kept.
            ahead = next.transpose()?;
            match step {
                Step::Next(_) => {}
                Step::CaughtUp(_) => {
                    self.pass_deletions(plan, run, flow, &mut pass, started_at).await?;
                    return Ok(PassEnd::CaughtUp);
                }
                Step::Stalled(_) => {
                    let side = match plan.side(from) {
                        SideHandle::Crm(crm) => {
                            let id = crm.client.provider();
                            crate::connectors::catalogue::provider(id)
                                .map_or(id, |p| p.name)
                                .to_string()
                        }
                        SideHandle::App(_) => "the app".to_string(),
                    };
                    return Ok(PassEnd::Stalled(format!(
                        "{side} kept answering that more changes follow, but its pages stopped moving past {}: \
                         the run cannot prove it read everything; the next run reads on from there",
                        pass.position()
                            .map_or_else(|| "the start".to_string(), describe_position)
                    )));
                }
            }
        }
    }

    /// Processes records read from `flow`'s side, noting the CRM's ones as read.
    pub(super) async fn process_read(
        &self,
        plan: &Plan,
        flow: Flow,
        records: Vec<Incoming>,
    ) -> Result<PageOutput, Abort> {
        let from = flow.from_side();
        let seen: Vec<Seen> = if plan.side(from).crm().is_some() {
            records
                .iter()
                .map(|r| Seen {
                    side: from,
                    record_id: r.id.clone(),
                    modified_at: r.modified_at,
                    deleted: r.deleted,
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut output = if records.is_empty() {
            PageOutput::default()
        } else {
            let ctx = PageCtx {
                db: &self.inner.db,
                plan,
                flow,
                now_ms: now_ms(),
                decisions: None,
            };
            page::process(&ctx, records).await?
        };
        output.seen = seen;
        Ok(output)
    }

    /// After a pass caught up on a CRM that keeps deletions apart from its changes: the records
    /// deleted since the last check (since the pass began, on a first pass; since the read's
    /// last time, on a cursor stored before deletions had one of their own).
    async fn pass_deletions(
        &self,
        plan: &Plan,
        run: RunRef,
        flow: Flow,
        pass: &mut Pass,
        started_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), Abort> {
        let SideHandle::Crm(crm) = plan.side(flow.from_side()) else {
            return Ok(());
        };
        let since = pass
            .deleted_after()
            .or_else(|| match pass.done() {
                Some(Position::Crm(cursor)) => Some(cursor.modified_at),
                _ => None,
            })
            .unwrap_or(started_at)
            .min(started_at);
        // Everything deleted before now is in this answer (the connector looks back a little
        // before `since` for deletions that show late).
        let until = chrono::Utc::now();
        let kind = crm.kind;
        let deleted = crm
            .client
            .call(|credential| {
                let connector = crm.client.connector.clone();
                async move { connector.deletions(&credential, kind, since).await }
            })
            .await?;
        let output = self
            .process_read(plan, flow, deleted.into_iter().map(writes::incoming_from_crm).collect())
            .await?;
        let state = pass.deletions_read(until).map(|s| (flow.from_side(), s.to_json()));
        self.commit(plan, run.id, output, state).await?;
        Ok(())
    }

    /// One page of changes after `position` on the side `flow` reads: the records, where the
    /// side says it read up to (none when it read nothing), and whether more may follow.
    pub(super) async fn read_page(
        &self,
        plan: &Plan,
        flow: Flow,
        position: Option<&Position>,
    ) -> Result<ReadPage, Abort> {
        let page_size = self.inner.config.page_size;
        match plan.side(flow.from_side()) {
            SideHandle::App(app) => {
                let after = match position {
                    Some(Position::App { seq }) => *seq,
                    _ => 0,
                };
                let rows = app_records::changed_after(
                    self.inner.db.pool(),
                    app.environment_id,
                    plan.stored.pipeline.object,
                    after,
                    page_size as i64,
                )
                .await?;
                let cursor = rows.last().map(|r| Position::App { seq: r.change_seq });
                let more = rows.len() == page_size;
                Ok((rows.iter().map(writes::incoming_from_app).collect(), cursor, more))
            }
            SideHandle::Crm(crm) => {
                let since = match position {
                    Some(Position::Crm(cursor)) => Some(cursor.clone()),
                    _ => None,
                };
                let fields = self.read_fields(plan, flow);
                let kind = crm.kind;
                let page = crm
                    .client
                    .call(|credential| {
                        let connector = crm.client.connector.clone();
                        let (since, fields) = (since.clone(), fields.clone());
                        async move {
                            connector
                                .changes(&credential, kind, since.as_ref(), &fields, page_size)
                                .await
                        }
                    })
                    .await?;
                let records = crm.with_related(plan.mapping(flow), page.records).await?;
                let records = records.into_iter().map(writes::incoming_from_crm).collect();
                Ok((records, page.cursor.map(Position::Crm), page.more))
            }
        }
    }

    /// The CRM fields a read on `flow`'s side asks for: what its mapping reads, and (two-way)
    /// what the other mapping writes there, to compare.
    pub(super) fn read_fields(&self, plan: &Plan, flow: Flow) -> Vec<String> {
        let mut fields: Vec<String> = plan
            .mapping(flow)
            .map(|m| m.compiled.source_fields().iter().map(|f| f.to_string()).collect())
            .unwrap_or_default();
        if let Some(other) = plan.mapping(match flow {
            Flow::Forward => Flow::Reverse,
            Flow::Reverse => Flow::Forward,
        }) {
            fields.extend(other.compiled.target_fields().iter().map(|f| f.to_string()));
        }
        fields.sort();
        fields.dedup();
        fields
    }

    /// Sends again the records of failed-record replays, before the changes.
    async fn replay(&self, plan: &Plan, run: RunRef, flow: Flow) -> Result<(), Abort> {
        let db = &self.inner.db;
        loop {
            let queued = failed_records::replaying(
                db.pool(),
                plan.stored.pipeline.id,
                flow,
                self.inner.config.page_size as i64,
            )
            .await?;
            if queued.is_empty() {
                return Ok(());
            }
            let ids: Vec<String> = queued.iter().map(|r| r.record_id.clone()).collect();
            let decisions: HashMap<String, DuplicateChoice> = queued
                .into_iter()
                .filter_map(|r| r.decision.map(|d| (r.record_id, d)))
                .collect();
            let ctx = PageCtx {
                db,
                plan,
                flow,
                now_ms: now_ms(),
                decisions: Some(&decisions),
            };
            let records = page::fetch_for_replay(&ctx, &ids).await?;
            let mut output = page::process(&ctx, records.clone()).await?;
            // Records that no longer exist fail again, saying so.
            for id in ids.iter().filter(|id| !records.iter().any(|r| &r.id == *id)) {
                let gone = Incoming {
                    id: id.clone(),
                    fields: json!({}),
                    modified_at: now_ms(),
                    deleted: true,
                    app_version: None,
                };
                output.failed(
                    flow,
                    &gone,
                    None,
                    tandem_shared::api::failed_records::FailureReason {
                        kind: "not_found".into(),
                        field: None,
                        message: "the record no longer exists on its side".into(),
                        crm_error: None,
                    },
                );
            }
            // Whatever was neither synced nor failed again (unchanged, skipped) is settled.
            for id in &ids {
                let acted =
                    output.resolved.iter().any(|(_, r)| r == id) || output.failures.iter().any(|f| &f.record_id == id);
                if !acted {
                    output.resolved.push((flow, id.clone()));
                }
            }
            self.commit(plan, run.id, output, None).await?;
        }
    }

    /// Writes what a page produced, with the cursor, in one transaction.
    pub(super) async fn commit(
        &self,
        plan: &Plan,
        run_id: RunId,
        mut output: PageOutput,
        cursor: Option<(Side, Value)>,
    ) -> Result<(), RepoError> {
        let db = &self.inner.db;
        let pipeline = &plan.stored.pipeline;
        let now = now_ms();
        let mut tx = db.begin().await?;
        if !output.app_writes.is_empty() {
            let environment_id = plan.stored.environment_id;
            let count = output.app_writes.len() as i64;
            let mut seq =
                change_sequences::take(&mut *tx, environment_id, change_sequences::APP_RECORDS, count).await? - count;
            let mut feed_seq =
                change_sequences::take(&mut *tx, environment_id, change_feed::STREAM, count).await? - count;
            // The page's writes, gathered and sent a statement per hundred records.
            let writes = std::mem::take(&mut output.app_writes);
            let mut changed: Vec<(&AppWrite, i64, Value)> = Vec::new();
            let mut keys: Vec<(String, Vec<String>)> = Vec::new();
            for write in &writes {
                seq += 1;
                let version = match self.write_app_record(&mut tx, plan, write, seq, now).await? {
                    Some((version, record, record_keys)) => {
                        keys.push((write.external_id.clone(), record_keys));
                        changed.push((write, version, record));
                        Some(version)
                    }
                    None => app_records::get(&mut *tx, environment_id, pipeline.object, &write.external_id)
                        .await?
                        .map(|current| current.version),
                };
                if let Some(version) = version {
                    for link in output
                        .links
                        .iter_mut()
                        .filter(|l| Some(&l.source_id) == write.link_source_id.as_ref())
                    {
                        link.app_version = Some(version);
                    }
                }
            }
            app_records::set_keys_many(&mut tx, environment_id, pipeline.object, &keys).await?;
            let feed: Vec<NewChange<'_>> = changed
                .iter()
                .map(|(write, _, record)| {
                    feed_seq += 1;
                    NewChange {
                        seq: feed_seq,
                        pipeline_id: pipeline.id,
                        object: pipeline.object,
                        external_id: &write.external_id,
                        provider: &write.provider,
                        crm_id: &write.crm_id,
                        change: write.change,
                        record,
                    }
                })
                .collect();
            change_feed::insert_many(&mut tx, pipeline.tenant_id, environment_id, &feed, now).await?;
            let announced: Vec<Change> = feed
                .iter()
                .map(|new| Change {
                    cursor: new.seq.to_string(),
                    object: pipeline.object,
                    external_id: new.external_id.to_string(),
                    provider: new.provider.to_string(),
                    crm_id: new.crm_id.to_string(),
                    change: new.change,
                    record: new.record.clone(),
                    pipeline_id: Some(pipeline.id),
                    occurred_at: crate::repo::to_datetime(now),
                })
                .collect();
            let endpoints = webhooks::list_endpoints(&mut *tx, environment_id).await?;
            notify::changes_to(
                &mut tx,
                &self.inner.queue,
                pipeline.tenant_id,
                &endpoints,
                &announced,
                now,
            )
            .await?;
        }
        sync_links::upsert(&mut tx, pipeline.tenant_id, pipeline.id, &output.links, now).await?;
        sync_seen::record(&mut tx, pipeline.id, &output.seen, now).await?;
        sync_history::insert_events(&mut tx, pipeline.tenant_id, pipeline.id, run_id, &output.events, now).await?;
        for failure in &output.failures {
            failed_records::record(&mut tx, pipeline.tenant_id, pipeline.id, run_id, failure, now).await?;
        }
        for flow in [Flow::Forward, Flow::Reverse] {
            let ids: Vec<String> = output
                .resolved
                .iter()
                .filter(|(f, _)| *f == flow)
                .map(|(_, id)| id.clone())
                .collect();
            failed_records::resolve(&mut tx, pipeline.id, flow, &ids, now).await?;
        }
        sync_history::insert_pending_deletes(
            &mut tx,
            pipeline.tenant_id,
            pipeline.id,
            run_id,
            &output.pending_deletes,
            now,
        )
        .await?;
        sync_history::insert_conflicts(&mut tx, pipeline.tenant_id, pipeline.id, run_id, &output.conflicts, now)
            .await?;
        for client in plan.crm_clients() {
            let callouts = client.take_callouts();
            if callouts.is_empty() {
                continue;
            }
            output.delta.api_calls += callouts.len() as i64;
            output.delta.retries += callouts.iter().filter(|c| c.attempt > 1).count() as i64;
            sync_history::insert_callouts(&mut tx, pipeline.tenant_id, Some(run_id), &callouts).await?;
        }
        sync_history::add_to_run(&mut *tx, run_id, &output.delta).await?;
        if let Some((side, cursor)) = cursor {
            sync_links::set_cursor(&mut *tx, pipeline.id, side, &cursor, now).await?;
        }
        tx.commit().await.map_err(RepoError::from)?;
        for client in plan.crm_clients() {
            if let Err(error) = client.budget.save(db).await {
                tracing::warn!(%error, "could not save the connection's API usage");
            }
        }
        Ok(())
    }

    /// Writes one record into the app's store; its new version, content and match keys (none
    /// for a deletion) when it changed.
    async fn write_app_record(
        &self,
        tx: &mut crate::repo::Tx,
        plan: &Plan,
        write: &AppWrite,
        change_seq: i64,
        now: i64,
    ) -> Result<Option<(i64, Value, Vec<String>)>, RepoError> {
        let environment_id = plan.stored.environment_id;
        let object = plan.stored.pipeline.object;
        match &write.payload {
            Some(payload) => {
                let version = app_records::upsert_if_changed(
                    &mut **tx,
                    Upsert {
                        tenant_id: plan.stored.pipeline.tenant_id,
                        environment_id,
                        object,
                        external_id: &write.external_id,
                        payload,
                        content_hash: &write.hash,
                        change_seq,
                        now_ms: now,
                    },
                )
                .await?;
                Ok(version.map(|v| {
                    let keys = match_keys(object, payload).iter().map(|k| k.text()).collect();
                    (v, payload.clone(), keys)
                }))
            }
            None => {
                let last = app_records::get(&mut **tx, environment_id, object, &write.external_id).await?;
                let version =
                    app_records::mark_deleted(&mut **tx, environment_id, object, &write.external_id, change_seq, now)
                        .await?;
                Ok(version.map(|v| (v, last.map(|r| r.data).unwrap_or(Value::Null), Vec::new())))
            }
        }
    }

    /// The end of a run: deletions under the threshold applied (or all held), status, alerts.
    /// `incomplete` says why the run cannot prove it read everything, when it cannot.
    async fn end_run(&self, plan: &Plan, run: RunRef, incomplete: Option<String>) -> Result<Slice, Abort> {
        let db = &self.inner.db;
        let pipeline = &plan.stored.pipeline;
        let pending = sync_history::run_deletes(db.pool(), run.id, "pending").await?;
        if !pending.is_empty() {
            let live = sync_links::count_live(db.pool(), pipeline.id).await?;
            let policy = &pipeline.settings.deletes;
            let count = pending.len();
            let over_count = policy.hold_above_count.is_some_and(|max| count > max as usize);
            let over_share = policy
                .hold_above_share
                .is_some_and(|share| live > 0 && count as f64 / live as f64 > share);
            if over_count || over_share {
                self.hold(plan, run, pending, live).await?;
            } else {
                self.apply_deletes(plan, run, pending).await?;
            }
        }
        let approved = sync_history::list_held(
            db.pool(),
            pipeline.tenant_id,
            pipeline.id,
            Some(HeldDeleteStatus::Approved),
        )
        .await?;
        if !approved.is_empty() {
            self.apply_deletes(plan, run, approved).await?;
        }
        self.finish(plan, run, incomplete.as_deref()).await?;
        if pipelines::take_rerun(db.pool(), pipeline.id).await? {
            return Ok(Slice::Continue);
        }
        Ok(Slice::Finished)
    }

    async fn hold(&self, plan: &Plan, run: RunRef, pending: Vec<StoredHeldDelete>, live: i64) -> Result<(), Abort> {
        let db = &self.inner.db;
        let pipeline = &plan.stored.pipeline;
        let now = now_ms();
        let mut output = PageOutput::default();
        for delete in &pending {
            sync_history::set_delete_status(db.pool(), delete.held.id, "pending", "held", None, now).await?;
            output.delta.counts.held += 1;
            output.event(
                Flow::Forward,
                Some(&delete.source_id),
                Some(&delete.target_id),
                RecordOutcome::Held,
                json!({ "deleted_on": delete.held.side }),
            );
        }
        self.commit(plan, run.id, output, None).await?;
        let message = format!(
            "{} deletions held for approval: more than this pipeline applies in one run ({} linked records)",
            pending.len(),
            live
        );
        let mut tx = db.begin().await?;
        notify::alert(
            &mut tx,
            &self.inner.queue,
            pipeline.tenant_id,
            plan.stored.environment_id,
            Some(pipeline.id),
            "held_deletes",
            &message,
            json!({ "count": pending.len(), "run_id": run.id }),
            now,
        )
        .await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(())
    }

    /// Deletes (archives) the twins of records deleted on the other side.
    async fn apply_deletes(&self, plan: &Plan, run: RunRef, deletes: Vec<StoredHeldDelete>) -> Result<(), Abort> {
        let db = &self.inner.db;
        let now = now_ms();
        for deleted_on in [Side::Source, Side::Target] {
            let batch: Vec<&StoredHeldDelete> = deletes.iter().filter(|d| d.held.side == deleted_on).collect();
            if batch.is_empty() {
                continue;
            }
            let apply_to = deleted_on.other();
            let ids: Vec<String> = batch
                .iter()
                .map(|d| match apply_to {
                    Side::Source => d.source_id.clone(),
                    Side::Target => d.target_id.clone(),
                })
                .collect();
            let flow = writes::flow_applying_delete(deleted_on);
            let mut output = PageOutput::default();
            match plan.side(apply_to) {
                SideHandle::Crm(crm) => {
                    for chunk in ids.chunks(crm.batch_max.max(1)) {
                        let kind = crm.kind;
                        crm.client
                            .call(|credential| {
                                let connector = crm.client.connector.clone();
                                let chunk = chunk.to_vec();
                                async move { connector.delete(&credential, kind, &chunk).await }
                            })
                            .await?;
                    }
                }
                SideHandle::App(_) => {
                    let provider = plan.side(deleted_on).crm().map_or("crm", |c| c.client.provider());
                    for (delete, id) in batch.iter().zip(&ids) {
                        let crm_id = match deleted_on {
                            Side::Source => &delete.source_id,
                            Side::Target => &delete.target_id,
                        };
                        output.app_writes.push(AppWrite {
                            external_id: id.clone(),
                            crm_id: crm_id.clone(),
                            provider: provider.to_string(),
                            payload: None,
                            hash: String::new(),
                            change: ChangeKind::Deleted,
                            link_source_id: None,
                        });
                    }
                }
            }
            let links = sync_links::by_ids(
                db.pool(),
                plan.stored.pipeline.id,
                Side::Source,
                &batch.iter().map(|d| d.source_id.clone()).collect::<Vec<_>>(),
            )
            .await?;
            for delete in &batch {
                sync_history::set_delete_status(
                    db.pool(),
                    delete.held.id,
                    delete.held.status.as_str(),
                    "applied",
                    None,
                    now,
                )
                .await?;
                if let Some(link) = links.get(&delete.source_id) {
                    let mut link = link.clone();
                    link.deleted_at = Some(now);
                    output.links.push(link);
                }
                output.delta.counts.deleted += 1;
                output.event(
                    flow,
                    Some(&delete.source_id),
                    Some(&delete.target_id),
                    RecordOutcome::Deleted,
                    json!({ "deleted_on": deleted_on, "applied_to": apply_to }),
                );
            }
            self.commit(plan, run.id, output, None).await?;
        }
        Ok(())
    }

    /// Closes the run, checks its failure rate and raises what needs raising. A run that cannot
    /// prove it read everything (`incomplete`, the reason) ends so, never as succeeded, and says so
    /// in an alert.
    async fn finish(&self, plan: &Plan, run: RunRef, incomplete: Option<&str>) -> Result<(), RepoError> {
        let db = &self.inner.db;
        let pipeline = &plan.stored.pipeline;
        let now = now_ms();
        let status = if incomplete.is_some() {
            RunStatus::Incomplete
        } else {
            RunStatus::Succeeded
        };
        sync_history::finish_run(db.pool(), run.id, status, incomplete, now).await?;
        sync_history::set_active_run(db.pool(), pipeline.id, None, None).await?;
        let next_poll = now + i64::from(pipeline.settings.trigger.poll_every_minutes.max(1)) * 60_000;
        pipelines::schedule(db.pool(), pipeline.id, Some(next_poll), plan.stored.next_reconcile_at).await?;
        let Some(result) = sync_history::get_run(db.pool(), pipeline.tenant_id, run.id).await? else {
            return Ok(());
        };
        let c = result.counts;
        tracing::info!(
            created = c.created,
            updated = c.updated,
            unchanged = c.unchanged,
            skipped = c.skipped,
            failed = c.failed,
            api_calls = result.api_calls,
            "run finished"
        );
        metrics::counter!("sync_runs_total", "trigger" => run.trigger.as_str()).increment(1);
        let processed = c.created + c.updated + c.unchanged + c.skipped + c.failed;
        let mut tx = db.begin().await?;
        let environment_id = plan.stored.environment_id;
        if processed >= 10 && c.failed as f64 / processed as f64 > pipeline.settings.pause_above_failure_rate {
            let message = format!(
                "{} of {} records failed in the last run: the pipeline is paused until the cause is fixed",
                c.failed, processed
            );
            pipelines::set_status(&mut *tx, pipeline.id, PipelineStatus::Paused, Some(&message), now).await?;
            notify::alert(
                &mut tx,
                &self.inner.queue,
                pipeline.tenant_id,
                environment_id,
                Some(pipeline.id),
                "failure_rate",
                &message,
                json!({ "run_id": run.id, "failed": c.failed, "processed": processed }),
                now,
            )
            .await?;
        }
        if let Some(reason) = incomplete {
            notify::alert(
                &mut tx,
                &self.inner.queue,
                pipeline.tenant_id,
                environment_id,
                Some(pipeline.id),
                "read_incomplete",
                &format!("The last run may have missed changes: {reason}"),
                json!({ "run_id": run.id }),
                now,
            )
            .await?;
        }
        let exhausted: i64 = failed_records::count_kind_in_run(&mut *tx, run.id, "retries_exhausted").await?;
        if exhausted > 0 {
            let message =
                format!("{exhausted} records failed after every retry; they are in failed records, ready to replay");
            notify::alert(
                &mut tx,
                &self.inner.queue,
                pipeline.tenant_id,
                environment_id,
                Some(pipeline.id),
                "retries_exhausted",
                &message,
                json!({ "run_id": run.id, "count": exhausted }),
                now,
            )
            .await?;
        }
        let duplicates: i64 = failed_records::count_kind_in_run(&mut *tx, run.id, "duplicate").await?;
        if duplicates > 0 {
            let message =
                format!("{duplicates} records were skipped as duplicates of existing records: decide and replay them");
            notify::alert(
                &mut tx,
                &self.inner.queue,
                pipeline.tenant_id,
                environment_id,
                Some(pipeline.id),
                "duplicates",
                &message,
                json!({ "run_id": run.id, "count": duplicates }),
                now,
            )
            .await?;
        }
        tx.commit().await.map_err(RepoError::from)?;
        Ok(())
    }

    /// A slice that stopped early: wait, pause for re-auth, or let the job retry.
    async fn aborted(&self, plan: &Plan, run: RunRef, abort: Abort) -> Result<Slice, SyncError> {
        let db = &self.inner.db;
        let pipeline = &plan.stored.pipeline;
        // The calls made before the stop happened: keep them.
        self.commit(plan, run.id, PageOutput::default(), None).await?;
        match abort {
            Abort::Wait(wait) => {
                tracing::info!(?wait, "the daily quota is spent; the run waits");
                self.update_estimate(plan, run).await.map_err(SyncError::from)?;
                let until = now_ms().saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2));
                sync_history::set_waiting(db.pool(), run.id, Some(until)).await?;
                Ok(Slice::Wait(wait))
            }
            Abort::NeedsReauth(reason) => {
                let now = now_ms();
                let mut tx = db.begin().await?;
                for client in plan.crm_clients() {
                    pipelines::pause_for_reauth(&mut *tx, client.connection.connection.id, &reason, now).await?;
                }
                notify::alert(
                    &mut tx,
                    &self.inner.queue,
                    pipeline.tenant_id,
                    plan.stored.environment_id,
                    Some(pipeline.id),
                    "needs_reauth",
                    &format!("{reason}; the connection's pipelines are paused until then"),
                    json!({ "run_id": run.id }),
                    now,
                )
                .await?;
                tx.commit().await.map_err(RepoError::from)?;
                sync_history::finish_run(db.pool(), run.id, RunStatus::Failed, Some(&reason), now).await?;
                sync_history::set_active_run(db.pool(), pipeline.id, None, None).await?;
                Ok(Slice::Finished)
            }
            Abort::Retry(reason) => Err(SyncError::Retry(reason)),
            Abort::Repo(error) => Err(SyncError::Repo(error)),
        }
    }

    /// Pauses a pipeline that cannot run, and says why.
    async fn pause(
        &self,
        pipeline_id: PipelineId,
        tenant_id: tandem_shared::ids::TenantId,
        environment_id: tandem_shared::ids::EnvironmentId,
        kind: &str,
        reason: &str,
    ) -> Result<(), RepoError> {
        let now = now_ms();
        let mut tx = self.inner.db.begin().await?;
        pipelines::set_status(&mut *tx, pipeline_id, PipelineStatus::Paused, Some(reason), now).await?;
        notify::alert(
            &mut tx,
            &self.inner.queue,
            tenant_id,
            environment_id,
            Some(pipeline_id),
            kind,
            reason,
            json!({}),
            now,
        )
        .await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(())
    }

    /// Tells people when a reconciliation found changes the runs had missed: it repaired them,
    /// but a read that misses changes needs looking into.
    async fn reconciliation_alert(&self, plan: &Plan, run: RunRef, report: &Reconciliation) -> Result<(), RepoError> {
        let repaired: Vec<&SideReconciliation> = report
            .sides
            .iter()
            .filter(|s| s.recovered > 0 || s.deletions_found > 0)
            .collect();
        if repaired.is_empty() {
            return Ok(());
        }
        let message = format!(
            "The daily reconciliation found changes earlier runs had missed, and delivered them: {}",
            repaired
                .iter()
                .map(|s| format!(
                    "{}: {} changed records, {} deletions",
                    s.provider, s.recovered, s.deletions_found
                ))
                .collect::<Vec<_>>()
                .join("; ")
        );
        let now = now_ms();
        let mut tx = self.inner.db.begin().await?;
        notify::alert(
            &mut tx,
            &self.inner.queue,
            plan.stored.pipeline.tenant_id,
            plan.stored.environment_id,
            Some(plan.stored.pipeline.id),
            "reconciliation_repaired",
            &message,
            json!({ "run_id": run.id, "reconciliation": report }),
            now,
        )
        .await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(())
    }

    /// An initial load's size, where it is known without reading it.
    async fn start_progress(&self, plan: &Plan, run: RunRef) -> Result<(), RepoError> {
        if run.trigger != RunTrigger::Initial {
            return Ok(());
        }
        if let SideHandle::App(app) = &plan.source {
            let total =
                app_records::count_live(self.inner.db.pool(), app.environment_id, plan.stored.pipeline.object).await?;
            sync_history::set_progress(self.inner.db.pool(), run.id, Some(total), None).await?;
        }
        Ok(())
    }

    /// When the run will be done at the pace it has had, within the daily quota.
    async fn update_estimate(&self, plan: &Plan, run: RunRef) -> Result<(), RepoError> {
        let db = &self.inner.db;
        let Some(current) = sync_history::get_run(db.pool(), plan.stored.pipeline.tenant_id, run.id).await? else {
            return Ok(());
        };
        let Some(total) = current.progress.total else {
            return Ok(());
        };
        let done = current.progress.done.max(1);
        let remaining = (total - current.progress.done).max(0);
        let elapsed_ms = (now_ms() - current.started_at.timestamp_millis()).max(1);
        let mut finish_ms = now_ms() + (remaining as f64 * elapsed_ms as f64 / done as f64) as i64;
        // The quota may stretch it over days.
        if let Some(client) = plan.crm_clients().next() {
            let calls_per_record = current.api_calls as f64 / done as f64;
            let calls_needed = (remaining as f64 * calls_per_record).ceil() as u64;
            let left_today = client.budget.remaining_today();
            if calls_needed > left_today {
                let daily = client.budget.limits().requests_per_day.max(1);
                let extra_days = (calls_needed - left_today).div_ceil(daily) as i64;
                let resets = client.budget.window_resets_at().timestamp_millis();
                finish_ms = finish_ms.max(resets + (extra_days - 1) * 86_400_000);
            }
        }
        sync_history::set_progress(db.pool(), run.id, Some(total), Some(finish_ms)).await
    }
}
