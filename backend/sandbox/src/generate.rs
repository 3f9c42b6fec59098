//! When generated records were created and last modified (`POST …/generate`).
//!
//! A real account's records do not share one time: people create and edit them one by one over
//! months, and now and then an import or a workflow stamps hundreds in the same moment. `Spread`
//! gives that shape, the same for the same account and count; `Shared` stamps every record with
//! one time, the hardest case for a changed-since reader, for tests.

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timestamps {
    /// Over the last 180 days; about one record in six in bursts of 20 to 500 sharing a time.
    #[default]
    Spread,
    /// Every record created and modified at the same moment (now).
    Shared,
}

/// How far back generated records begin.
const HISTORY_DAYS: i64 = 180;

/// (created, last modified) for `count` records, in creation order (ids follow it, as a CRM's
/// do), rounded down to `granularity_ms`; none after `now`. `seed` makes them reproducible.
pub fn times(
    shape: Timestamps,
    count: usize,
    now: DateTime<Utc>,
    granularity_ms: i64,
    seed: u64,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let round = |t: DateTime<Utc>| {
        let ms = t.timestamp_millis();
        DateTime::from_timestamp_millis(ms - ms.rem_euclid(granularity_ms.max(1))).unwrap_or(t)
    };
    if shape == Timestamps::Shared {
        return vec![(round(now), round(now)); count];
    }
    let mut rng = StdRng::seed_from_u64(seed ^ count as u64);
    let start = now - Duration::days(HISTORY_DAYS);
    let span_ms = (now - start).num_milliseconds().max(1);
    let mut created: Vec<DateTime<Utc>> = Vec::with_capacity(count);
    while created.len() < count {
        let at = start + Duration::milliseconds(rng.random_range(0..span_ms));
        // One record in six comes in a burst (of 260 on average: one burst per 1,300 single
        // records): an import stamps them all alike.
        if rng.random_ratio(1, 1_300) {
            let burst = rng.random_range(20..=500).min(count - created.len());
            created.extend(std::iter::repeat_n(at, burst));
        } else {
            created.push(at);
        }
    }
    created.sort();
    let mut times: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::with_capacity(count);
    let mut i = 0;
    while i < created.len() {
        // Records created together are edited together (a workflow) or not at all, as often
        // as not; the others each on their own, most within weeks, some never.
        let group = created[i..].iter().take_while(|t| **t == created[i]).count();
        let left_ms = (now - created[i]).num_milliseconds().max(0);
        if group > 1 {
            let modified = if rng.random_bool(0.5) || left_ms == 0 {
                created[i]
            } else {
                created[i] + Duration::milliseconds(rng.random_range(0..=left_ms))
            };
            times.extend(std::iter::repeat_n((round(created[i]), round(modified)), group));
        } else {
            let modified = if rng.random_ratio(1, 4) || left_ms == 0 {
                created[i]
            } else {
                // Skewed towards soon after creation.
                let share: f64 = rng.random::<f64>().powi(3);
                created[i] + Duration::milliseconds((left_ms as f64 * share) as i64)
            };
            times.push((round(created[i]), round(modified)));
        }
        i += group;
    }
    times
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_times_look_like_an_account_and_shared_ones_are_one() {
        let now = Utc::now();
        let times = times(Timestamps::Spread, 20_000, now, 1, 7);
        assert_eq!(times.len(), 20_000);
        assert!(times.windows(2).all(|w| w[0].0 <= w[1].0), "in creation order");
        assert!(times.iter().all(|(c, m)| c <= m && *m <= now));
        let mut modified: Vec<_> = times.iter().map(|t| t.1).collect();
        modified.sort();
        modified.dedup();
        assert!(modified.len() > 10_000, "mostly distinct: {}", modified.len());
        assert!(modified.len() < 19_900, "some bursts share a time: {}", modified.len());
        assert_eq!(
            super::times(Timestamps::Spread, 20_000, now, 1, 7),
            times,
            "reproducible"
        );
        let seconds = super::times(Timestamps::Spread, 100, now, 1_000, 7);
        assert!(
            seconds
                .iter()
                .all(|(c, m)| c.timestamp_subsec_millis() == 0 && m.timestamp_subsec_millis() == 0)
        );
        let shared = super::times(Timestamps::Shared, 5, now, 1, 7);
        assert!(shared.iter().all(|t| *t == shared[0]));
    }
}
