//! Faults on demand: error statuses at given rates, added latency, a burst of rate-limit
//! refusals, dropped connections. Decisions come from a seeded random source, so that the same
//! plan and the same sequence of requests fail the same way every time.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultPlan {
    /// Seed of the random source: the same seed repeats the same failures.
    #[serde(default)]
    pub seed: u64,
    /// `{status: probability}`: e.g. `{"500": 0.1, "503": 0.05}`.
    #[serde(default)]
    pub error_rates: std::collections::BTreeMap<u16, f64>,
    /// Added latency, uniformly between the two bounds, in milliseconds.
    #[serde(default)]
    pub latency_ms: Option<(u64, u64)>,
    /// The next N requests are refused as rate-limited, whatever the real counters say.
    #[serde(default)]
    pub rate_limit_burst: u32,
    /// Probability that the connection is dropped before a complete response.
    #[serde(default)]
    pub drop_rate: f64,
}

impl FaultPlan {
    pub fn validate(&self) -> Result<(), String> {
        let probabilities = self.error_rates.values().chain(std::iter::once(&self.drop_rate));
        if probabilities.clone().any(|p| !(0.0..=1.0).contains(p)) {
            return Err("error_rates and drop_rate are probabilities between 0 and 1".into());
        }
        if probabilities.sum::<f64>() > 1.0 {
            return Err("error_rates and drop_rate together must not exceed 1".into());
        }
        if let Some(status) = self.error_rates.keys().find(|s| !(400..=599).contains(*s)) {
            return Err(format!("error_rates: {status} is not an error status (400-599)"));
        }
        if let Some((low, high)) = self.latency_ms
            && low > high
        {
            return Err("latency_ms: the first bound must not exceed the second".into());
        }
        Ok(())
    }
}

/// What to do to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultDecision {
    pub delay_ms: u64,
    pub outcome: FaultOutcome,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultOutcome {
    Proceed,
    Status(u16),
    RateLimited,
    Drop,
}

#[derive(Debug)]
pub struct Faults {
    plan: FaultPlan,
    rng: StdRng,
    burst_left: u32,
}

impl Default for Faults {
    fn default() -> Self {
        Faults::new(FaultPlan::default())
    }
}

impl Faults {
    pub fn new(plan: FaultPlan) -> Faults {
        Faults {
            rng: StdRng::seed_from_u64(plan.seed),
            burst_left: plan.rate_limit_burst,
            plan,
        }
    }

    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    pub fn decide(&mut self) -> FaultDecision {
        let delay_ms = match self.plan.latency_ms {
            Some((low, high)) if high > 0 => self.rng.random_range(low..=high),
            _ => 0,
        };
        if self.burst_left > 0 {
            self.burst_left -= 1;
            return FaultDecision {
                delay_ms,
                outcome: FaultOutcome::RateLimited,
            };
        }
        if self.plan.error_rates.is_empty() && self.plan.drop_rate == 0.0 {
            return FaultDecision {
                delay_ms,
                outcome: FaultOutcome::Proceed,
            };
        }
        let roll: f64 = self.rng.random();
        let mut threshold = self.plan.drop_rate;
        if roll < threshold {
            return FaultDecision {
                delay_ms,
                outcome: FaultOutcome::Drop,
            };
        }
        for (status, probability) in &self.plan.error_rates {
            threshold += probability;
            if roll < threshold {
                return FaultDecision {
                    delay_ms,
                    outcome: FaultOutcome::Status(*status),
                };
            }
        }
        FaultDecision {
            delay_ms,
            outcome: FaultOutcome::Proceed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(plan: &FaultPlan, n: usize) -> Vec<FaultOutcome> {
        let mut faults = Faults::new(plan.clone());
        (0..n).map(|_| faults.decide().outcome).collect()
    }

    #[test]
    fn the_same_seed_repeats_the_same_failures() {
        let plan = FaultPlan {
            seed: 7,
            error_rates: [(500, 0.2), (503, 0.1)].into(),
            drop_rate: 0.05,
            ..FaultPlan::default()
        };
        let first = outcomes(&plan, 500);
        assert_eq!(first, outcomes(&plan, 500));
        let failures = first.iter().filter(|o| **o != FaultOutcome::Proceed).count();
        assert!((120..=200).contains(&failures), "about 35% fail: {failures}");
        assert!(first.contains(&FaultOutcome::Status(500)) && first.contains(&FaultOutcome::Drop));
        let other = FaultPlan { seed: 8, ..plan };
        assert_ne!(first, outcomes(&other, 500));
    }

    #[test]
    fn a_burst_of_rate_limits_comes_first_then_stops() {
        let plan = FaultPlan {
            rate_limit_burst: 3,
            ..FaultPlan::default()
        };
        let seen = outcomes(&plan, 5);
        assert_eq!(&seen[..3], &[FaultOutcome::RateLimited; 3]);
        assert_eq!(&seen[3..], &[FaultOutcome::Proceed; 2]);
    }

    #[test]
    fn bad_plans_are_explained() {
        let too_much = FaultPlan {
            error_rates: [(500, 0.8)].into(),
            drop_rate: 0.5,
            ..FaultPlan::default()
        };
        assert!(too_much.validate().unwrap_err().contains("exceed 1"));
        let not_an_error = FaultPlan {
            error_rates: [(200, 0.1)].into(),
            ..FaultPlan::default()
        };
        assert!(not_an_error.validate().unwrap_err().contains("200"));
        let latency = FaultPlan {
            latency_ms: Some((100, 10)),
            ..FaultPlan::default()
        };
        assert!(latency.validate().is_err());
    }
}
