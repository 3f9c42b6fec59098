//! The daily reconciliation (PRODUCT.md flow 15): proves that every record of each CRM side a
//! pipeline reads has been read — or finds what was not, and delivers it.
//!
//! After the run's ordinary passes, for each CRM side: the records Tandem has read (`sync_seen`,
//! one row per record with its modification time as last read) are cut into ranges of
//! modification times holding about as many records each, and each range's count is compared
//! with the CRM's own count of live records in it (one call a range). A range whose counts
//! differ is cut finer while only a few records are amiss in many, and otherwise read again
//! page by page (sides small enough are read again whole: a change missed inside one range
//! keeps its counts equal): records found unread (or read at an older version) are processed as any
//! change; records Tandem holds as live in the range that the re-read did not find are asked
//! for by id — changed since (processed) or gone (a deletion never seen, processed as one).
//! Finally the run reads what changed meanwhile and compares the totals; they must match.
//!
//! The work goes on over as many slices as it needs: its progress is stored with the run
//! (`sync_runs.reconciliation`), and replaced by the report when it ends.

use std::collections::HashSet;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tandem_shared::api::pipelines::Flow;
use tandem_shared::api::runs::{Reconciliation, ReconciliationOutcome, SideReconciliation};

use super::engine::{PassEnd, RunRef, SyncEngine};
use super::outcome::Incoming;
use super::page::Abort;
use super::plan::{CrmSide, Plan};
use super::reader::Position;
use super::writes;
use crate::connectors::{ChangeCursor, catalogue};
use crate::repo::{RepoError, now_ms, sync_history, sync_seen};

/// Ranges the first comparison cuts the records read into.
const RANGES: i64 = 16;
/// Ranges a differing range is cut into, when cut finer.
const SPLIT: i64 = 8;
/// A differing range with at most this many records is read again whole rather than cut finer.
const REREAD_AT_MOST: u64 = 2_000;
/// How many times a range may be cut finer.
const MAX_DEPTH: u32 = 3;
/// Final comparisons (each after reading what changed meanwhile) before the side is unproven.
const FINAL_TRIES: u32 = 3;
/// Records asked for by id at once.
const BY_ID: usize = 100;

/// Modification times `[from, to)` in ms, open where `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Range {
    from: Option<i64>,
    to: Option<i64>,
    depth: u32,
}

impl Range {
    const ALL: Range = Range {
        from: None,
        to: None,
        depth: 0,
    };

    fn contains(&self, ms: i64) -> bool {
        self.from.is_none_or(|f| ms >= f) && self.to.is_none_or(|t| ms < t)
    }
}

/// A range being read again.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Reread {
    range: Range,
    position: Option<ChangeCursor>,
    /// Records read before this are the ones the re-read has not found (yet).
    started_ms: i64,
}

/// One side's progress.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct SideWork {
    flow: Flow,
    started: bool,
    pending: Vec<Range>,
    reread: Option<Reread>,
    final_tries: u32,
    done: bool,
    /// Nothing had been noted as read on this side yet (a pipeline older than the notes): its
    /// re-reads build them, and find nothing "missed".
    #[serde(default)]
    first: bool,
    report: SideReconciliation,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Progress {
    sides: Vec<SideWork>,
}

/// How far a slice got.
pub enum Reconciled {
    OutOfTime,
    Done(Reconciliation),
}

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl SyncEngine {
    /// Compares and repairs each CRM side read by `flows` (see the module documentation), until
    /// done or `deadline`.
    pub(super) async fn reconcile(
        &self,
        plan: &Plan,
        run: RunRef,
        flows: &[Flow],
        deadline: Instant,
    ) -> Result<Reconciled, Abort> {
        let db = self.db();
        let stored = sync_history::reconciliation_state(db.pool(), run.id).await?;
        let mut progress: Progress = stored
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_else(|| Progress {
                sides: flows
                    .iter()
                    .filter_map(|&flow| {
                        let crm = plan.side(flow.from_side()).crm()?;
                        let provider =
                            catalogue::provider(crm.client.provider()).map_or(crm.client.provider(), |p| p.name);
                        Some(SideWork {
                            flow,
                            started: false,
                            pending: Vec::new(),
                            reread: None,
                            final_tries: 0,
                            done: false,
                            first: false,
                            report: SideReconciliation {
                                side: flow.from_side().as_str().to_string(),
                                provider: provider.to_string(),
                                ..SideReconciliation::default()
                            },
                        })
                    })
                    .collect(),
            });
        for i in 0..progress.sides.len() {
            if progress.sides[i].done {
                continue;
            }
            let outcome = self.reconcile_side(plan, run, &mut progress.sides[i], deadline).await;
            // Whatever happened, what was done is kept for the next slice.
            let saved = serde_json::to_value(&progress).unwrap_or(Value::Null);
            sync_history::set_reconciliation(db.pool(), run.id, &saved).await?;
            if !outcome? {
                return Ok(Reconciled::OutOfTime);
            }
        }
        let report = Reconciliation {
            sides: progress.sides.into_iter().map(|s| s.report).collect(),
        };
        sync_history::set_reconciliation(db.pool(), run.id, &json!(report)).await?;
        Ok(Reconciled::Done(report))
    }

    /// One side's work; whether it is done.
    async fn reconcile_side(
        &self,
        plan: &Plan,
        run: RunRef,
        work: &mut SideWork,
        deadline: Instant,
    ) -> Result<bool, Abort> {
        let side = work.flow.from_side();
        let pipeline_id = plan.stored.pipeline.id;
        let pool = self.db().pool();
        let Some(crm) = plan.side(side).crm() else {
            work.done = true;
            return Ok(true);
        };
        if !work.started {
            work.report.seen_before = sync_seen::count(pool, pipeline_id, side, None, None).await?.max(0) as u64;
            work.first = work.report.seen_before == 0;
            // Small sides are read again whole, once from first record to last, even where the
            // counts match: a change missed inside one range keeps its counts equal, and only
            // reading the records shows it (50,000 HubSpot contacts: 250 searches, under a minute
            // at its limit). Larger ones are compared by counts, range by range, which show every
            // record never read and every deletion never seen.
            work.report.read_whole = work.report.seen_before <= self.config().reconcile_read_whole_up_to;
            work.pending = if work.report.read_whole {
                vec![Range::ALL]
            } else {
                self.ranges(plan, work.flow, Range::ALL, RANGES).await?
            };
            work.started = true;
        }
        loop {
            if Instant::now() >= deadline {
                return Ok(false);
            }
            if let Some(reread) = work.reread.as_mut() {
                if self
                    .reread_page(plan, run, work.flow, reread, &mut work.report, work.first)
                    .await?
                {
                    work.reread = None;
                    work.report.ranges_reread += 1;
                }
                continue;
            }
            if let Some(range) = work.pending.pop() {
                work.report.ranges_compared += 1;
                let Some(theirs) = crm_count(crm, range).await? else {
                    return Ok(self.unproven(work, format!("{} cannot count its records", work.report.provider)));
                };
                let ours = sync_seen::count(pool, pipeline_id, side, range.from, range.to)
                    .await?
                    .max(0) as u64;
                if theirs == ours && !work.report.read_whole {
                    continue;
                }
                if theirs != ours {
                    tracing::info!(?range, theirs, ours, "reconciliation: a range's counts differ");
                }
                let larger = theirs.max(ours);
                if !work.report.read_whole
                    && range.depth < MAX_DEPTH
                    && larger > REREAD_AT_MOST
                    && theirs.abs_diff(ours) * 4 < larger
                {
                    let finer = self.ranges(plan, work.flow, range, SPLIT).await?;
                    if finer.len() > 1 {
                        work.pending.extend(finer);
                        continue;
                    }
                }
                work.reread = Some(Reread {
                    range,
                    position: range.from.map(|from| ChangeCursor::start_of(time(from))),
                    started_ms: now_ms(),
                });
                continue;
            }
            // Every range compared: read what changed meanwhile, then the totals.
            let caught_up = RunRef { fresh: false, ..run };
            match self.pass(plan, caught_up, work.flow, deadline).await? {
                PassEnd::OutOfTime => return Ok(false),
                PassEnd::Stalled(reason) => return Ok(self.unproven(work, reason)),
                PassEnd::CaughtUp => {}
            }
            let Some(theirs) = crm_count(crm, Range::ALL).await? else {
                return Ok(self.unproven(work, format!("{} cannot count its records", work.report.provider)));
            };
            let ours = sync_seen::count(pool, pipeline_id, side, None, None).await?.max(0) as u64;
            work.report.crm_count = theirs;
            work.report.seen_after = ours;
            if theirs == ours {
                let report = &mut work.report;
                let found = report.recovered > 0 || report.deletions_found > 0;
                report.outcome = if work.first || !found {
                    ReconciliationOutcome::Proven
                } else {
                    ReconciliationOutcome::Repaired
                };
                if work.first {
                    report.note = Some(format!(
                        "the first reconciliation of this pipeline: it read every record of {} once to note what is read",
                        report.provider
                    ));
                }
                work.done = true;
                return Ok(true);
            }
            work.final_tries += 1;
            if work.final_tries >= FINAL_TRIES {
                let note = format!(
                    "{} holds {theirs} live records and Tandem has read {ours}, after re-reading every range that \
                     differed {} times",
                    work.report.provider, FINAL_TRIES
                );
                return Ok(self.unproven(work, note));
            }
            // Records changed while the comparison ran, or a range still differs: again, by counts.
            work.report.read_whole = false;
            work.pending = self.ranges(plan, work.flow, Range::ALL, RANGES).await?;
        }
    }

    fn unproven(&self, work: &mut SideWork, note: String) -> bool {
        work.report.outcome = ReconciliationOutcome::Unproven;
        work.report.note = Some(note);
        work.done = true;
        true
    }

    /// `within` cut into up to `parts` ranges holding about as many of the records read each.
    async fn ranges(&self, plan: &Plan, flow: Flow, within: Range, parts: i64) -> Result<Vec<Range>, RepoError> {
        let (pool, pipeline_id, side) = (self.db().pool(), plan.stored.pipeline.id, flow.from_side());
        let total = sync_seen::count(pool, pipeline_id, side, within.from, within.to).await?;
        let mut cuts: Vec<i64> = Vec::new();
        for i in 1..parts {
            let Some(at) =
                sync_seen::time_at(pool, pipeline_id, side, within.from, within.to, total * i / parts).await?
            else {
                break;
            };
            if Some(at) != within.from && cuts.last() != Some(&at) {
                cuts.push(at);
            }
        }
        let depth = if within == Range::ALL { 0 } else { within.depth + 1 };
        let mut bounds = vec![within.from];
        bounds.extend(cuts.into_iter().map(Some));
        bounds.push(within.to);
        Ok(bounds
            .windows(2)
            .map(|w| Range {
                from: w[0],
                to: w[1],
                depth,
            })
            .collect())
    }

    /// Reads one page of a range again; whether the range is done.
    async fn reread_page(
        &self,
        plan: &Plan,
        run: RunRef,
        flow: Flow,
        reread: &mut Reread,
        report: &mut SideReconciliation,
        first: bool,
    ) -> Result<bool, Abort> {
        let (pool, pipeline_id, side) = (self.db().pool(), plan.stored.pipeline.id, flow.from_side());
        let at = reread.position.clone().map(Position::Crm);
        let (records, cursor, more) = self.read_page(plan, flow, at.as_ref()).await?;
        let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
        let known = sync_seen::modified_of(pool, pipeline_id, side, &ids).await?;
        if !first {
            report.recovered += records
                .iter()
                .filter(|r| {
                    !r.deleted && reread.range.contains(r.modified_at) && known.get(&r.id) != Some(&r.modified_at)
                })
                .count() as u64;
        }
        let output = self.process_read(plan, flow, records).await?;
        self.commit(plan, run.id, output, None).await?;
        let next = match cursor {
            Some(Position::Crm(cursor)) => Some(cursor),
            _ => None,
        };
        let progressed = next.is_some() && next > reread.position;
        if progressed {
            reread.position = next;
        }
        let past_end = match (&reread.position, reread.range.to) {
            (Some(position), Some(to)) => position.modified_at.timestamp_millis() >= to,
            _ => false,
        };
        if more && progressed && !past_end {
            return Ok(false);
        }
        // What Tandem holds as live in the range that the re-read did not find there.
        let range = reread.range;
        let missing = sync_seen::unread_since(pool, pipeline_id, side, range.from, range.to, reread.started_ms).await?;
        let Some(crm) = plan.side(side).crm() else {
            return Ok(true);
        };
        for chunk in missing.chunks(BY_ID) {
            let found = get_many(crm, &self.read_fields(plan, flow), chunk).await?;
            let found = crm.with_related(plan.mapping(flow), found).await?;
            let present: HashSet<String> = found.iter().map(|r| r.id.clone()).collect();
            report.recovered += found.len() as u64;
            let mut incoming: Vec<Incoming> = found.into_iter().map(writes::incoming_from_crm).collect();
            for id in chunk.iter().filter(|id| !present.contains(*id)) {
                report.deletions_found += 1;
                incoming.push(Incoming {
                    id: id.clone(),
                    fields: json!({}),
                    modified_at: now_ms(),
                    deleted: true,
                    app_version: None,
                });
            }
            let output = self.process_read(plan, flow, incoming).await?;
            self.commit(plan, run.id, output, None).await?;
        }
        Ok(true)
    }
}

/// The CRM's count of live records in `range`.
async fn crm_count(crm: &CrmSide, range: Range) -> Result<Option<u64>, Abort> {
    let kind = crm.kind;
    let (from, to) = (range.from.map(time), range.to.map(time));
    Ok(crm
        .client
        .call(|credential| {
            let connector = crm.client.connector.clone();
            async move { connector.count(&credential, kind, from, to).await }
        })
        .await?)
}

async fn get_many(crm: &CrmSide, fields: &[String], ids: &[String]) -> Result<Vec<crate::connectors::Record>, Abort> {
    let kind = crm.kind;
    Ok(crm
        .client
        .call(|credential| {
            let connector = crm.client.connector.clone();
            let (ids, fields) = (ids.to_vec(), fields.to_vec());
            async move { connector.get_many(&credential, kind, &ids, &fields).await }
        })
        .await?)
}
