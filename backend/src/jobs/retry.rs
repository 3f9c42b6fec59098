//! How long a job waits after a retryable error.

use std::time::Duration;

use rand::Rng;

/// The first retry waits up to this long…
pub const BASE_DELAY: Duration = Duration::from_secs(1);
/// …doubling with each attempt, up to this.
pub const MAX_DELAY: Duration = Duration::from_secs(5 * 60);

/// The upper bound of the wait after `attempt` failed attempts (1-based): 1 s, 2 s, 4 s, … 5 min.
pub fn backoff_ceiling(attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(30);
    BASE_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
}

/// The wait after `attempt` failed attempts: exponential backoff with *full* jitter, a uniformly
/// random time between zero and `backoff_ceiling(attempt)` ("Exponential Backoff And Jitter", AWS
/// Architecture Blog), so that jobs that failed together (a CRM outage) do not retry together.
///
/// Written out rather than taken from `backon::ExponentialBuilder` for two reasons: backon's
/// jitter adds a random amount *on top of* the delay (a wait between d and 2d), which is not full
/// jitter; and its backoff is an iterator that carries the attempt count in memory, while here the
/// attempt count lives in the database and a different process may run the next attempt.
pub fn retry_delay(attempt: u32) -> Duration {
    let ceiling = u64::try_from(backoff_ceiling(attempt).as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::rng().random_range(0..=ceiling))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_from_one_second_to_five_minutes() {
        let ceilings: Vec<u64> = (1..=11).map(|n| backoff_ceiling(n).as_secs()).collect();
        assert_eq!(ceilings, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(backoff_ceiling(0), BASE_DELAY);
        assert_eq!(backoff_ceiling(u32::MAX), MAX_DELAY);
    }

    #[test]
    fn delays_spread_over_the_whole_range() {
        for attempt in [1, 4, 12] {
            let ceiling = backoff_ceiling(attempt);
            let delays: Vec<Duration> = (0..2000).map(|_| retry_delay(attempt)).collect();
            assert!(delays.iter().all(|d| *d <= ceiling));
            // Full jitter: waits near zero and near the ceiling both occur.
            assert!(delays.iter().any(|d| *d < ceiling / 10), "attempt {attempt}");
            assert!(delays.iter().any(|d| *d > ceiling * 9 / 10), "attempt {attempt}");
        }
    }
}
