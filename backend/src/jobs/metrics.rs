//! Metric names. Labels: `kind` everywhere, `outcome` (see `Finished::label`) on finishes.

pub const JOBS_CLAIMED: &str = "jobs_claimed_total";
pub const JOBS_FINISHED: &str = "jobs_finished_total";
pub const JOBS_LEASES_EXPIRED: &str = "jobs_leases_expired_total";
pub const JOBS_QUEUED: &str = "jobs_queued";
pub const JOB_DURATION: &str = "job_duration_seconds";

/// Help texts for the scrape endpoint. Harmless to call more than once.
pub fn describe() {
    metrics::describe_counter!(JOBS_CLAIMED, "Jobs claimed by a worker, by kind");
    metrics::describe_counter!(
        JOBS_FINISHED,
        "Claimed jobs by kind and outcome (succeeded, rescheduled, retrying, failed, dead, released, lease_lost)"
    );
    metrics::describe_counter!(
        JOBS_LEASES_EXPIRED,
        "Running jobs taken back because their worker stopped renewing the lease"
    );
    metrics::describe_gauge!(JOBS_QUEUED, "Queued jobs (due or scheduled) by kind, as last counted");
    metrics::describe_histogram!(JOB_DURATION, metrics::Unit::Seconds, "How long job runs took, by kind");
}
