//! The queue's idea of now. Production uses the system clock; tests use a manual clock so that
//! backoff, leases and pruning can be exercised without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use super::millis;

/// Where the queue reads the time (Unix milliseconds).
#[derive(Clone, Debug, Default)]
pub enum Clock {
    #[default]
    System,
    Manual(ManualClock),
}

impl Clock {
    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::System => crate::repo::now_ms(),
            Clock::Manual(manual) => manual.now_ms(),
        }
    }
}

/// A clock that moves only when told to. Clones share the same time.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// Starts at the current system time.
    pub fn new() -> ManualClock {
        ManualClock(Arc::new(AtomicI64::new(crate::repo::now_ms())))
    }

    pub fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }

    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(millis(by), Ordering::SeqCst);
    }

    pub fn set_ms(&self, now_ms: i64) {
        self.0.store(now_ms, Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl From<ManualClock> for Clock {
    fn from(manual: ManualClock) -> Clock {
        Clock::Manual(manual)
    }
}
