//! Reading one side's changes completely (SYNC-DESIGN.md, "Reading changes").
//!
//! A pass reads pages after a position until the side answers that nothing follows. Two
//! positions are kept per side: `done`, up to which everything has been read (the high-water
//! mark), and `reading`, where an unfinished pass goes on. They differ while a run re-reads
//! behind `done` and while a pass is cut into slices. A pass is over only when the side says
//! nothing follows its position: never because a page did not move past `done`, which is how a
//! look-back window holding more than a page used to end every run "caught up" without reading
//! a single new change.
//!
//! **Where a run starts.** A record can be stamped with a time the read has already passed: a
//! search index shows it seconds after its time (HubSpot), or a coarse clock gives a write the
//! same second as records already read, and a lower id (Salesforce's whole seconds, imports).
//! Either can only happen to a record stamped after the moment its pass began, less the
//! look-back (which covers the index lag and a clock's granularity). So each pass notes that
//! moment (`unsure_from`), and the next run starts from the beginning of the earlier of that
//! time and `done`'s: it re-reads what changed while the last pass ran, not a fixed window
//! behind `done` — a window that misses such a record as soon as later changes carry `done`
//! past it. Records read again cost nothing: their content is what was last synced.
//!
//! This is a state machine with no I/O, so that the engine and the property tests drive the
//! same code.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::connectors::ChangeCursor;

/// Where a read stands on one side.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Position {
    /// The app's store: its change sequence number, one per accepted change, committed in order
    /// (the counter's row lock orders the commits).
    App { seq: i64 },
    /// A CRM: the (modified time, id) of the last record read, in the CRM's order.
    Crm(ChangeCursor),
}

impl Position {
    fn time(&self) -> Option<DateTime<Utc>> {
        match self {
            Position::Crm(cursor) => Some(cursor.modified_at),
            Position::App { .. } => None,
        }
    }
}

/// A side's stored read state (`sync_cursors.cursor`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadState {
    pub done: Position,
    /// Where an unfinished pass goes on; none between passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reading: Option<Position>,
    /// CRM sides: records stamped from here on may have been missed by the last pass (see the
    /// module documentation); the next run reads them again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsure_from: Option<DateTime<Utc>>,
    /// CRMs that keep deletions apart (`Connector::deletions`): the time up to which they were
    /// read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_after: Option<DateTime<Utc>>,
}

impl ReadState {
    /// The stored form, also reading the single positions stored before passes kept more.
    pub fn from_json(value: &Value) -> Option<ReadState> {
        if value.is_null() {
            return None;
        }
        if value.get("done").is_some() {
            return serde_json::from_value(value.clone()).ok();
        }
        serde_json::from_value(value.clone()).ok().map(|done| ReadState {
            done,
            reading: None,
            unsure_from: None,
            deleted_after: None,
        })
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// A new run's start: now, and how far before it a record may be stamped and still show late
/// (the search index's lag, the clock's granularity, the clocks' skew).
#[derive(Clone, Copy, Debug)]
pub struct Fresh {
    pub now: DateTime<Utc>,
    pub lookback: chrono::Duration,
}

/// Pages in a row that may leave the position where it was (a record moved between the two
/// searches of one page, say) before the pass is called stalled.
const MAX_STALLS: u32 = 3;

/// What to do after a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Read on from `position()`; store the state with the page's output.
    Next(Option<ReadState>),
    /// The side has nothing after the position: the pass is over.
    CaughtUp(Option<ReadState>),
    /// The side says more follows, but its pages stopped moving the position: the pass cannot
    /// prove it has read everything. The state still says where it stands.
    Stalled(Option<ReadState>),
}

impl Step {
    pub fn state(&self) -> Option<&ReadState> {
        match self {
            Step::Next(state) | Step::CaughtUp(state) | Step::Stalled(state) => state.as_ref(),
        }
    }
}

/// One pass over a side's changes.
#[derive(Clone, Debug)]
pub struct Pass {
    done: Option<Position>,
    at: Option<Position>,
    stalls: u32,
    unsure_from: Option<DateTime<Utc>>,
    deleted_after: Option<DateTime<Utc>>,
}

impl Pass {
    /// A new run's pass (`fresh`): from the start of the earlier of `done`'s time and the last
    /// pass's `unsure_from` (or, before passes noted it, the look-back before `done`), and
    /// never after where an unfinished pass stopped. Otherwise (the next slice of a run) it goes
    /// on where the pass stopped.
    pub fn start(stored: Option<ReadState>, fresh: Option<Fresh>) -> Pass {
        let Some(stored) = stored else {
            return Pass {
                done: None,
                at: None,
                stalls: 0,
                unsure_from: fresh.map(|f| f.now - f.lookback),
                deleted_after: None,
            };
        };
        let Some(fresh) = fresh else {
            return Pass {
                at: Some(stored.reading.unwrap_or_else(|| stored.done.clone())),
                done: Some(stored.done),
                stalls: 0,
                unsure_from: stored.unsure_from,
                deleted_after: stored.deleted_after,
            };
        };
        let from = match &stored.done {
            Position::Crm(cursor) => {
                let unsure = stored.unsure_from.unwrap_or(cursor.modified_at - fresh.lookback);
                Position::Crm(ChangeCursor::start_of(cursor.modified_at.min(unsure)))
            }
            app => app.clone(),
        };
        let at = match stored.reading {
            Some(reading) => reading.min(from),
            None => from,
        };
        let since = fresh.now - fresh.lookback;
        Pass {
            unsure_from: Some(at.time().map_or(since, |t| t.max(since))),
            at: Some(at),
            done: Some(stored.done),
            stalls: 0,
            deleted_after: stored.deleted_after,
        }
    }

    /// Where the next page is read after (none: from the beginning).
    pub fn position(&self) -> Option<&Position> {
        self.at.as_ref()
    }

    /// The high-water mark so far.
    pub fn done(&self) -> Option<&Position> {
        self.done.as_ref()
    }

    /// Up to when deletions were read (CRMs that keep them apart).
    pub fn deleted_after(&self) -> Option<DateTime<Utc>> {
        self.deleted_after
    }

    /// Deletions were read up to `at`: the state to store.
    pub fn deletions_read(&mut self, at: DateTime<Utc>) -> Option<ReadState> {
        self.deleted_after = Some(at);
        self.state(false)
    }

    fn state(&self, reading: bool) -> Option<ReadState> {
        let done = self.done.clone()?;
        Some(ReadState {
            reading: if reading { self.at.clone() } else { None },
            unsure_from: if done.time().is_some() { self.unsure_from } else { None },
            done,
            deleted_after: self.deleted_after,
        })
    }

    /// Takes in a page's answer: where the side says it read up to (none when it read nothing),
    /// and whether more may follow.
    pub fn advance(&mut self, cursor: Option<Position>, more: bool) -> Step {
        let progressed = cursor.is_some() && cursor > self.at;
        if progressed {
            self.at = cursor;
            self.stalls = 0;
            if self.at > self.done {
                self.done = self.at.clone();
            }
        }
        if !more {
            return Step::CaughtUp(self.state(false));
        }
        if !progressed {
            self.stalls += 1;
            if self.stalls >= MAX_STALLS {
                return Step::Stalled(self.state(true));
            }
        }
        Step::Next(self.state(true))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn time(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).unwrap_or_default()
    }

    fn crm(ms: i64, id: &str) -> Position {
        Position::Crm(ChangeCursor {
            modified_at: time(ms),
            id: id.into(),
            tied: false,
        })
    }

    fn fresh(now_ms: i64) -> Option<Fresh> {
        Some(Fresh {
            now: time(now_ms),
            lookback: chrono::Duration::seconds(5),
        })
    }

    fn state(done: Position) -> ReadState {
        ReadState {
            done,
            reading: None,
            unsure_from: None,
            deleted_after: None,
        }
    }

    #[test]
    fn old_single_positions_still_read() {
        let crm_cursor = json!({ "modified_at": "2026-01-01T00:00:00Z", "id": "17" });
        let stored = ReadState::from_json(&crm_cursor).expect("a CRM cursor");
        assert_eq!(stored, state(crm(1_767_225_600_000, "17")));
        let app = ReadState::from_json(&json!({ "seq": 42 })).expect("an app cursor");
        assert_eq!(app, state(Position::App { seq: 42 }));
        assert_eq!(ReadState::from_json(&Value::Null), None);
        let full = ReadState {
            done: crm(9_000, "9"),
            reading: Some(crm(3_000, "3")),
            unsure_from: Some(time(2_000)),
            deleted_after: Some(time(5)),
        };
        assert_eq!(ReadState::from_json(&full.to_json()), Some(full));
    }

    #[test]
    fn a_re_read_fuller_than_a_page_is_read_through_and_past_the_old_end() {
        // A cursor stored before passes noted when they began: five seconds back.
        let mut pass = Pass::start(Some(state(crm(10_000, "500"))), fresh(60_000));
        assert_eq!(pass.position(), Some(&crm(5_000, "")));
        // Pages behind `done`: read on.
        let step = pass.advance(Some(crm(7_000, "100")), true);
        assert_eq!(
            step,
            Step::Next(Some(ReadState {
                done: crm(10_000, "500"),
                reading: Some(crm(7_000, "100")),
                unsure_from: Some(time(55_000)),
                deleted_after: None,
            }))
        );
        assert!(matches!(pass.advance(Some(crm(10_000, "500")), true), Step::Next(_)));
        // Past the old end, then the end.
        assert!(matches!(pass.advance(Some(crm(12_000, "9")), true), Step::Next(_)));
        assert_eq!(
            pass.advance(Some(crm(12_500, "10")), false),
            Step::CaughtUp(Some(ReadState {
                done: crm(12_500, "10"),
                reading: None,
                unsure_from: Some(time(55_000)),
                deleted_after: None,
            }))
        );
    }

    #[test]
    fn a_new_run_re_reads_what_changed_while_the_last_pass_ran() {
        // The last pass began at 100 s (unsure from 95 s) and read up to 400 s: changes stamped
        // from 95 s on may have shown late. The next run starts there, not 5 s before 400 s.
        let stored = ReadState {
            unsure_from: Some(time(95_000)),
            ..state(crm(400_000, "7"))
        };
        let pass = Pass::start(Some(stored), fresh(900_000));
        assert_eq!(pass.position(), Some(&crm(95_000, "")));
        // Nothing changed for an hour: from the beginning of the last time read.
        let idle = ReadState {
            unsure_from: Some(time(3_600_000)),
            ..state(crm(400_000, "7"))
        };
        assert_eq!(
            Pass::start(Some(idle), fresh(4_000_000)).position(),
            Some(&crm(400_000, ""))
        );
    }

    #[test]
    fn an_unfinished_pass_goes_on_where_it_stopped() {
        let stored = ReadState {
            reading: Some(crm(6_000, "3")),
            unsure_from: Some(time(9_000)),
            ..state(crm(10_000, "500"))
        };
        assert_eq!(
            Pass::start(Some(stored.clone()), None).position(),
            Some(&crm(6_000, "3"))
        );
        assert_eq!(
            Pass::start(Some(stored), fresh(60_000)).position(),
            Some(&crm(6_000, "3")),
            "a new run starts no later than where the last one stopped"
        );
        let app = ReadState {
            reading: Some(Position::App { seq: 4 }),
            ..state(Position::App { seq: 9 })
        };
        assert_eq!(
            Pass::start(Some(app), fresh(60_000)).position(),
            Some(&Position::App { seq: 4 })
        );
    }

    #[test]
    fn pages_that_stop_moving_stall_the_pass_instead_of_ending_it() {
        let mut pass = Pass::start(None, None);
        assert!(matches!(pass.advance(Some(crm(1_000, "1")), true), Step::Next(_)));
        assert!(matches!(pass.advance(Some(crm(1_000, "1")), true), Step::Next(_)));
        assert!(matches!(pass.advance(Some(crm(900, "1")), true), Step::Next(_)));
        match pass.advance(None, true) {
            Step::Stalled(Some(state)) => assert_eq!(state.reading, Some(crm(1_000, "1"))),
            other => panic!("expected a stall, got {other:?}"),
        }
        // An empty side is caught up at once, with nothing to store.
        assert_eq!(Pass::start(None, None).advance(None, false), Step::CaughtUp(None));
    }
}
