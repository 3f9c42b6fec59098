//! A reconciliation's outcome in words: on the pipeline (its last one) and on the run that did it.
//! "HubSpot holds 10,024 records; every one was read." says what people need to trust a sync.

use leptos::prelude::*;
use tandem_shared::api::runs::{Reconciliation, ReconciliationOutcome, ReconciliationSummary, SideReconciliation};

use super::connection_limits::grouped;
use crate::components::{browser_now, format_time, relative_time};

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", grouped(n), if n == 1 { one } else { many })
}

/// One side's outcome as a sentence.
pub fn side_sentence(side: &SideReconciliation) -> String {
    match side.outcome {
        ReconciliationOutcome::Proven => format!(
            "{} holds {}; every one was read.",
            side.provider,
            plural(side.crm_count, "record", "records")
        ),
        ReconciliationOutcome::Repaired => {
            let mut found = Vec::new();
            if side.recovered > 0 {
                found.push(plural(side.recovered, "missed change", "missed changes"));
            }
            if side.deletions_found > 0 {
                found.push(plural(side.deletions_found, "missed deletion", "missed deletions"));
            }
            let found = if found.is_empty() {
                "ranges that differed".to_string()
            } else {
                found.join(" and ")
            };
            format!(
                "{}: found {found} and delivered them; all {} are read now.",
                side.provider,
                plural(side.crm_count, "record", "records")
            )
        }
        ReconciliationOutcome::Unproven => format!(
            "{}: not proven complete{}.",
            side.provider,
            side.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()
        ),
    }
}

/// Every side's outcome, one sentence each.
pub fn sentence(report: &Reconciliation) -> String {
    report.sides.iter().map(side_sentence).collect::<Vec<_>>().join(" ")
}

/// The pipeline's last reconciliation, for its header.
#[component]
pub fn LastReconciliation(last: ReconciliationSummary) -> impl IntoView {
    let proven = last.reconciliation.proven();
    let class = if proven {
        "reconciliation muted small"
    } else {
        "reconciliation field-error small"
    };
    view! {
        <p class=class data-testid="last-reconciliation" data-proven=proven.to_string()>
            <span title=format_time(&last.finished_at)>
                {format!("Reconciled {}: ", relative_time(&last.finished_at, &browser_now()))}
            </span>
            {sentence(&last.reconciliation)}
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(outcome: ReconciliationOutcome) -> SideReconciliation {
        SideReconciliation {
            side: "source".into(),
            provider: "HubSpot".into(),
            crm_count: 10_024,
            seen_before: 10_023,
            seen_after: 10_024,
            outcome,
            ..SideReconciliation::default()
        }
    }

    #[test]
    fn outcomes_read_as_sentences() {
        assert_eq!(
            side_sentence(&side(ReconciliationOutcome::Proven)),
            "HubSpot holds 10,024 records; every one was read."
        );
        let repaired = SideReconciliation {
            recovered: 1,
            deletions_found: 2,
            ..side(ReconciliationOutcome::Repaired)
        };
        assert_eq!(
            side_sentence(&repaired),
            "HubSpot: found 1 missed change and 2 missed deletions and delivered them; all 10,024 records are read now."
        );
        let unproven = SideReconciliation {
            note: Some("HubSpot holds 25 live records and Tandem has read 24".into()),
            ..side(ReconciliationOutcome::Unproven)
        };
        assert_eq!(
            side_sentence(&unproven),
            "HubSpot: not proven complete (HubSpot holds 25 live records and Tandem has read 24)."
        );
    }
}
