//! An account's API limits as the CRM enforces them: a rolling window of requests (HubSpot: 190
//! per 10 seconds) and a daily allowance (reset at midnight UTC here; HubSpot uses the account's
//! time zone). Written here because this *is* the CRM's limiter being emulated, with its exact
//! window semantics and counters for the response headers.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitSettings {
    /// Requests allowed per rolling window; 0 switches the window off.
    pub per_window: u32,
    pub window_ms: u64,
    /// Requests allowed per day; 0 switches the daily limit off.
    pub daily: u64,
}

/// A rolling window alone (a search API's own limit, which has no daily allowance of its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSettings {
    pub per_window: u32,
    pub window_ms: u64,
}

impl From<WindowSettings> for LimitSettings {
    /// A search API's own window: no daily allowance of its own.
    fn from(window: WindowSettings) -> LimitSettings {
        LimitSettings {
            per_window: window.per_window,
            window_ms: window.window_ms,
            daily: 0,
        }
    }
}

#[derive(Debug)]
pub struct Limits {
    pub settings: LimitSettings,
    window: VecDeque<Instant>,
    day: NaiveDate,
    pub used_today: u64,
}

/// The outcome of counting one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// The rolling window is full; it frees a slot after this long.
    WindowExceeded {
        retry_after: Duration,
    },
    DailyExceeded,
}

/// What the response headers report after a request was counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    pub window_max: u32,
    pub window_remaining: u32,
    pub window_ms: u64,
    pub daily_max: u64,
    pub daily_remaining: u64,
    pub used_today: u64,
}

impl Limits {
    pub fn new(settings: LimitSettings) -> Limits {
        Limits {
            settings,
            window: VecDeque::new(),
            day: Utc::now().date_naive(),
            used_today: 0,
        }
    }

    /// Counts a request if it is allowed. Refused requests do not count.
    pub fn check(&mut self) -> Verdict {
        let now = Instant::now();
        let today = Utc::now().date_naive();
        if today != self.day {
            self.day = today;
            self.used_today = 0;
        }
        if self.settings.daily > 0 && self.used_today >= self.settings.daily {
            return Verdict::DailyExceeded;
        }
        let window = Duration::from_millis(self.settings.window_ms);
        while self.window.front().is_some_and(|t| now.duration_since(*t) >= window) {
            self.window.pop_front();
        }
        if self.settings.per_window > 0 && self.window.len() >= self.settings.per_window as usize {
            let oldest = self.window.front().copied().unwrap_or(now);
            return Verdict::WindowExceeded {
                retry_after: window.saturating_sub(now.duration_since(oldest)),
            };
        }
        self.window.push_back(now);
        self.used_today += 1;
        Verdict::Allowed
    }

    pub fn usage(&self) -> Usage {
        Usage {
            window_max: self.settings.per_window,
            window_remaining: self.settings.per_window.saturating_sub(self.window.len() as u32),
            window_ms: self.settings.window_ms,
            daily_max: self.settings.daily,
            daily_remaining: self.settings.daily.saturating_sub(self.used_today),
            used_today: self.used_today,
        }
    }

    pub fn set(&mut self, settings: LimitSettings) {
        self.settings = settings;
        self.window.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_refuses_the_request_after_the_limit_and_frees_up() {
        let mut limits = Limits::new(LimitSettings {
            per_window: 3,
            window_ms: 200,
            daily: 0,
        });
        for _ in 0..3 {
            assert_eq!(limits.check(), Verdict::Allowed);
        }
        let Verdict::WindowExceeded { retry_after } = limits.check() else {
            panic!("expected a refusal")
        };
        assert!(retry_after <= Duration::from_millis(200));
        assert_eq!(limits.usage().window_remaining, 0);
        std::thread::sleep(Duration::from_millis(210));
        assert_eq!(limits.check(), Verdict::Allowed);
    }

    #[test]
    fn the_daily_allowance_runs_out() {
        let mut limits = Limits::new(LimitSettings {
            per_window: 0,
            window_ms: 10_000,
            daily: 2,
        });
        assert_eq!(limits.check(), Verdict::Allowed);
        assert_eq!(limits.check(), Verdict::Allowed);
        assert_eq!(limits.check(), Verdict::DailyExceeded);
        assert_eq!(limits.usage().daily_remaining, 0);
        assert_eq!(limits.usage().used_today, 2);
    }
}
