//! What one connection may spend on CRM calls: a per-second rate (governor, evenly spaced, so a
//! CRM's rolling window is never overrun) and a daily quota counted in the CRM's window (UTC
//! days here), kept in the database so that a restart does not forget the day's spending.
//!
//! The sync engine hands a connection's `Budget` to connectors as their call admission (see
//! `connectors::callout`): every request waits for a slot, and once the day's quota is spent the
//! request is refused with the time until the window resets, so the run can pause until then.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Days, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tandem_shared::ids::ConnectionId;

use crate::connectors::ConnectorError;
use crate::connectors::callout::{Admission, CallKind};
use crate::repo::{Db, RepoError, connection_usage};

/// A little under the CRM's rate, so that requests spaced by our clock still fit the CRM's
/// window when the network delivers two of them closer together than they were sent.
const RATE_MARGIN: f64 = 0.97;

/// The limits in force for a connection.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    pub requests_per_second: f64,
    pub requests_per_day: u64,
    /// The CRM's search API's own rate, where lower.
    pub search_per_second: Option<f64>,
}

pub struct Budget {
    connection_id: ConnectionId,
    limits: Limits,
    limiter: DefaultDirectRateLimiter,
    search_limiter: Option<DefaultDirectRateLimiter>,
    /// Start (ms) of the quota window `used` counts in.
    window_start: AtomicI64,
    used: AtomicU64,
    /// Calls counted but not yet written to the database.
    unsaved: AtomicU64,
}

/// A limiter that lets one request through every 1/rate seconds, with no burst.
fn evenly_spaced(per_second: f64) -> DefaultDirectRateLimiter {
    let rate = (per_second * RATE_MARGIN).max(0.01);
    let period = Duration::from_secs_f64(1.0 / rate);
    let quota = Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::MIN);
    RateLimiter::direct(quota)
}

/// The start (ms) of the quota window `now` falls in: the UTC day.
pub fn window_start(now: DateTime<Utc>) -> i64 {
    now.date_naive()
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
        .timestamp_millis()
}

fn next_window(start_ms: i64) -> i64 {
    DateTime::<Utc>::from_timestamp_millis(start_ms)
        .and_then(|d| d.checked_add_days(Days::new(1)))
        .map_or(start_ms + 86_400_000, |d| d.timestamp_millis())
}

impl Budget {
    /// A connection's budget with `used_today` calls spent (`Budgets::get` makes the shared one).
    pub fn new(connection_id: ConnectionId, limits: Limits, used_today: u64) -> Budget {
        Budget {
            connection_id,
            limits,
            limiter: evenly_spaced(limits.requests_per_second),
            search_limiter: limits.search_per_second.map(evenly_spaced),
            window_start: AtomicI64::new(window_start(Utc::now())),
            used: AtomicU64::new(used_today),
            unsaved: AtomicU64::new(0),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Calls made in the current window.
    pub fn used_today(&self) -> u64 {
        self.roll_window();
        self.used.load(Ordering::SeqCst)
    }

    pub fn remaining_today(&self) -> u64 {
        self.limits.requests_per_day.saturating_sub(self.used_today())
    }

    /// When the current quota window ends.
    pub fn window_resets_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(next_window(self.window_start.load(Ordering::SeqCst))).unwrap_or_default()
    }

    fn roll_window(&self) {
        let current = window_start(Utc::now());
        let previous = self.window_start.load(Ordering::SeqCst);
        if current != previous
            && self
                .window_start
                .compare_exchange(previous, current, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            self.used.store(0, Ordering::SeqCst);
        }
    }

    /// Writes the calls counted since the last save to the database.
    pub async fn save(&self, db: &Db) -> Result<(), RepoError> {
        let calls = self.unsaved.swap(0, Ordering::SeqCst);
        if calls == 0 {
            return Ok(());
        }
        let window = self.window_start.load(Ordering::SeqCst);
        if let Err(error) = connection_usage::add(db.pool(), self.connection_id, window, calls as i64).await {
            self.unsaved.fetch_add(calls, Ordering::SeqCst);
            return Err(error);
        }
        Ok(())
    }
}

#[async_trait]
impl Admission for Budget {
    async fn admit(&self, kind: CallKind) -> Result<(), ConnectorError> {
        self.roll_window();
        // Count first, so that concurrent callers cannot both take the last call of the day.
        let before = self.used.fetch_add(1, Ordering::SeqCst);
        // A daily quota of 0: the CRM keeps none Tandem can count (Pipedrive's token budget
        // depends on plan, seats and each endpoint's cost); its 429 says when it is spent.
        if self.limits.requests_per_day > 0 && before >= self.limits.requests_per_day {
            self.used.fetch_sub(1, Ordering::SeqCst);
            let wait = (self.window_resets_at() - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO);
            return Err(ConnectorError::RateLimited {
                wait,
                daily: true,
                message: format!(
                    "Tandem's daily share of this connection's API quota ({} calls) is spent",
                    self.limits.requests_per_day
                ),
            });
        }
        self.unsaved.fetch_add(1, Ordering::SeqCst);
        // A search waits for its own, lower rate too (whether the CRM also counts it against the
        // general rate is not documented: assume it does).
        if let (CallKind::Search, Some(search)) = (kind, &self.search_limiter) {
            search.until_ready().await;
        }
        self.limiter.until_ready().await;
        Ok(())
    }
}

/// One `Budget` per connection for the whole process, so that every run on a connection shares
/// its rate.
#[derive(Clone, Default)]
pub struct Budgets {
    budgets: Arc<Mutex<std::collections::HashMap<ConnectionId, Arc<Budget>>>>,
}

impl Budgets {
    /// The connection's budget; created with the day's spending read from the database, and
    /// replaced when its limits changed.
    pub async fn get(&self, db: &Db, connection_id: ConnectionId, limits: Limits) -> Result<Arc<Budget>, RepoError> {
        if let Some(budget) = self.lookup(connection_id)
            && budget.limits == limits
        {
            return Ok(budget);
        }
        let used = connection_usage::get(db.pool(), connection_id, window_start(Utc::now())).await?;
        let budget = Arc::new(Budget::new(connection_id, limits, used.max(0) as u64));
        self.budgets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(connection_id, budget.clone());
        Ok(budget)
    }

    fn lookup(&self, connection_id: ConnectionId) -> Option<Arc<Budget>> {
        self.budgets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&connection_id)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(per_second: f64, per_day: u64) -> Budget {
        Budget::new(
            ConnectionId(uuid::Uuid::now_v7()),
            Limits {
                requests_per_second: per_second,
                requests_per_day: per_day,
                search_per_second: Some(per_second / 10.0),
            },
            0,
        )
    }

    #[tokio::test]
    async fn requests_are_spaced_to_the_rate() {
        let budget = budget(50.0, 1_000);
        let started = std::time::Instant::now();
        for _ in 0..11 {
            budget.admit(CallKind::Standard).await.expect("within quota");
        }
        // Ten gaps of 1/48.5 s: no burst beyond one request.
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(190), "{elapsed:?}");
        assert_eq!(budget.used_today(), 11);
    }

    #[tokio::test]
    async fn searches_keep_to_their_own_lower_rate() {
        // 100 per second in general, 10 per second for searches.
        let budget = budget(100.0, 1_000);
        let started = std::time::Instant::now();
        for _ in 0..4 {
            budget.admit(CallKind::Search).await.expect("within quota");
        }
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(300),
            "three gaps of 1/9.7 s: {elapsed:?}"
        );
        let started = std::time::Instant::now();
        for _ in 0..4 {
            budget.admit(CallKind::Standard).await.expect("within quota");
        }
        assert!(
            started.elapsed() < Duration::from_millis(150),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn the_daily_quota_is_never_exceeded() {
        let budget = budget(1_000.0, 3);
        for _ in 0..3 {
            budget.admit(CallKind::Standard).await.expect("within quota");
        }
        let refused = budget.admit(CallKind::Standard).await.expect_err("quota spent");
        let ConnectorError::RateLimited { wait, daily, .. } = refused else {
            panic!("rate limited expected");
        };
        assert!(daily);
        assert!(wait <= Duration::from_secs(86_400));
        assert_eq!(budget.used_today(), 3, "a refused request is not counted");
        assert_eq!(budget.remaining_today(), 0);
    }

    #[test]
    fn windows_are_utc_days() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T17:30:00Z")
            .expect("time")
            .to_utc();
        let start = window_start(at);
        assert_eq!(
            DateTime::from_timestamp_millis(start).expect("ms").to_rfc3339(),
            "2026-03-01T00:00:00+00:00"
        );
        assert_eq!(next_window(start) - start, 86_400_000);
    }
}
