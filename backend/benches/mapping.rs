//! Mapping throughput: records per second on one core for a 20-field contact mapping.
//!
//! `cargo bench -p tandem --bench mapping`. A plain `std::time::Instant` loop rather than
//! criterion: the figure wanted is one throughput number, and the mapping is pure, single-threaded
//! code with no warm-up effects beyond the first few thousand records (which are run first and
//! not counted).

use std::hint::black_box;
use std::time::{Duration, Instant};

use tandem::mapping::{Mapping, MappingConfig, bench, content_hash};

const RECORDS: usize = 200_000;
/// Distinct sample records, cycled: enough variety that no value repeats in a tight loop.
const DISTINCT: usize = 1_000;

fn main() {
    let config = bench::twenty_field_contact_config();
    let mapping = Mapping::new(&config);
    let samples: Vec<_> = (0..DISTINCT).map(bench::sample_contact).collect();
    let fields = mapping.target_fields();

    // Warm up (and prove the samples map).
    for sample in &samples {
        if let Err(errors) = mapping.apply(sample) {
            panic!("a benchmark sample does not map: {errors:?}");
        }
    }

    let (elapsed, _) = run(RECORDS, |i| mapping.apply(&samples[i % DISTINCT]).is_ok());
    report("apply (compiled mapping, 20 fields)", elapsed);

    let (elapsed, _) = run(RECORDS, |i| {
        mapping
            .apply(&samples[i % DISTINCT])
            .map(|target| content_hash(&target, fields.iter().copied()))
            .is_ok()
    });
    report("apply + content hash", elapsed);

    let (elapsed, _) = run(RECORDS, |i| {
        tandem::mapping::apply(&config, &samples[i % DISTINCT]).is_ok()
    });
    report("mapping::apply (compiles the config per record)", elapsed);

    // Where the time goes: each rule alone (including the per-record overhead of a mapping).
    println!("per rule, alone ({} records each):", RECORDS / 10);
    for rule in &config.fields {
        let mut single: MappingConfig = config.clone();
        single.fields = vec![rule.clone()];
        let mapping = Mapping::new(&single);
        let (elapsed, _) = run(RECORDS / 10, |i| mapping.apply(&samples[i % DISTINCT]).is_ok());
        let micros = elapsed.as_secs_f64() * 1e6 / (RECORDS / 10) as f64;
        println!("  {:<20} {micros:>6.2} µs", rule.target);
    }
}

/// Runs `f` for `records` records on this thread: the time taken.
fn run(records: usize, mut f: impl FnMut(usize) -> bool) -> (Duration, usize) {
    let start = Instant::now();
    let mut ok = 0;
    for i in 0..records {
        if black_box(f(black_box(i))) {
            ok += 1;
        }
    }
    let elapsed = start.elapsed();
    assert_eq!(ok, records, "every record maps");
    (elapsed, ok)
}

fn report(what: &str, elapsed: Duration) {
    let per_second = RECORDS as f64 / elapsed.as_secs_f64();
    let micros = elapsed.as_secs_f64() * 1e6 / RECORDS as f64;
    println!(
        "{what}: {RECORDS} records in {elapsed:.2?} = {per_second:.0} records/s ({micros:.2} µs/record, one thread)"
    );
}
