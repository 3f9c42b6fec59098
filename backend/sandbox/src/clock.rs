//! Server-assigned timestamps, monotonic per account. A coarse granularity can be set so that
//! several records share one timestamp: connectors must prove their cursors handle the ties.

use chrono::{DateTime, TimeZone, Utc};

#[derive(Debug)]
pub struct Clock {
    last_ms: i64,
    /// Timestamps are rounded down to a multiple of this (1 = milliseconds).
    pub granularity_ms: i64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            last_ms: 0,
            granularity_ms: 1,
        }
    }
}

impl Clock {
    /// The time of a write: now, rounded to the granularity, never before the previous write.
    pub fn tick(&mut self) -> DateTime<Utc> {
        let now = Utc::now().timestamp_millis();
        let granularity = self.granularity_ms.max(1);
        let rounded = now - now.rem_euclid(granularity);
        self.last_ms = self.last_ms.max(rounded);
        Utc.timestamp_millis_opt(self.last_ms).single().unwrap_or_default()
    }
}

/// ISO-8601 with milliseconds and `Z`, as HubSpot and Salesforce both print times.
pub fn iso(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_never_go_back_and_coarse_clocks_tie() {
        let mut clock = Clock {
            granularity_ms: 60_000,
            ..Clock::default()
        };
        let a = clock.tick();
        let b = clock.tick();
        assert_eq!(a, b, "a one-minute granularity gives ties");
        assert_eq!(a.timestamp_millis() % 60_000, 0);
        let mut fine = Clock::default();
        let c = fine.tick();
        let d = fine.tick();
        assert!(d >= c);
        assert_eq!(iso(Utc.timestamp_millis_opt(0).unwrap()), "1970-01-01T00:00:00.000Z");
    }
}
