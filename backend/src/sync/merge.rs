//! Two-way sync as a three-way merge, field by field, in the app's model: the app's record, the
//! CRM's record mapped back into the app's model, and the base (both as they were at the last
//! sync). A field one side changed since the base takes that side's value; a field both changed
//! to different values is a conflict the pipeline's policy decides, and every decision is kept.
//!
//! This is also what makes echoes harmless: Tandem's own write coming back from the CRM equals
//! the base, so nothing changed on the CRM side and nothing is written anywhere.

use serde_json::{Map, Value};
use tandem_shared::api::pipelines::{ConflictPolicy, Side};
use tandem_shared::api::runs::ConflictField;

use crate::mapping::content_hash;

/// Whether two values are the same content (`"19.90"` and `19.9`, a missing value and `""`).
pub fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    let wrap = |v: Option<&Value>| {
        let mut map = Map::new();
        if let Some(v) = v {
            map.insert("v".into(), v.clone());
        }
        content_hash(&Value::Object(map), ["v"])
    };
    match (a, b) {
        (Some(a), Some(b)) if a == b => true,
        _ => wrap(a) == wrap(b),
    }
}

/// What the merge needs besides the records.
pub struct MergeRules<'a> {
    pub policy: &'a ConflictPolicy,
    /// Which side of the pipeline the app is.
    pub app_side: Side,
    /// Each side's own modification time (ms), for last-writer-wins.
    pub app_modified_at: i64,
    pub crm_modified_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Merged {
    /// The app's record with the values that won.
    pub record: Value,
    /// Fields both sides changed, and who won.
    pub conflicts: Vec<ConflictField>,
    /// The app's record must change (the CRM won somewhere).
    pub app_changed: bool,
    /// The CRM's record must change (the app won somewhere).
    pub crm_changed: bool,
}

/// A readable name of the policy, for history.
pub fn policy_name(policy: &ConflictPolicy) -> String {
    match policy {
        ConflictPolicy::Leading { side } => format!("leading:{}", side.as_str()),
        ConflictPolicy::LastWriterWins => "last_writer_wins".into(),
        ConflictPolicy::FieldOwnership { .. } => "field_ownership".into(),
    }
}

fn winner(field: &str, rules: &MergeRules<'_>) -> Side {
    let crm_side = rules.app_side.other();
    match rules.policy {
        ConflictPolicy::Leading { side } => *side,
        ConflictPolicy::LastWriterWins => {
            use std::cmp::Ordering::*;
            match rules.app_modified_at.cmp(&rules.crm_modified_at) {
                Greater => rules.app_side,
                Less => crm_side,
                Equal => Side::Source,
            }
        }
        ConflictPolicy::FieldOwnership { fields, otherwise } => fields.get(field).copied().unwrap_or(*otherwise),
    }
}

/// Merges field by field over `fields` (the top-level app fields the CRM holds).
///
///
/// `crm_base` is the CRM's copy as of the last sync, in the app's model: with a lossy mapping
/// (several app values onto one CRM value, a default) it differs from `base`, and a CRM value
/// equal to it is no change on the CRM's side. Fields it lacks are judged against `base`.
pub fn merge(
    app: &Value,
    crm: &Value,
    base: Option<&Value>,
    crm_base: Option<&Value>,
    fields: &[&str],
    rules: &MergeRules<'_>,
) -> Merged {
    let mut record = app.as_object().cloned().unwrap_or_default();
    let mut conflicts = Vec::new();
    let (mut app_changed, mut crm_changed) = (false, false);
    for &field in fields {
        let a = app.get(field);
        let c = crm.get(field);
        if same(a, c) {
            continue;
        }
        let b = base.map(|b| b.get(field));
        let app_moved = b.is_none_or(|b| !same(a, b));
        let crm_moved = match crm_base.and_then(|cb| cb.get(field)) {
            Some(last_seen) => !same(c, Some(last_seen)),
            None => b.is_none_or(|b| !same(c, b)),
        };
        let take_crm = match (app_moved, crm_moved) {
            // Only the mapping differs: the CRM holds what it was last given.
            (false, false) => continue,
            (true, false) => false,
            (false, true) => true,
            _ => {
                let won = winner(field, rules);
                conflicts.push(ConflictField {
                    field: field.to_string(),
                    source_value: if rules.app_side == Side::Source { a } else { c }
                        .cloned()
                        .unwrap_or(Value::Null),
                    target_value: if rules.app_side == Side::Source { c } else { a }
                        .cloned()
                        .unwrap_or(Value::Null),
                    winner: won,
                });
                won != rules.app_side
            }
        };
        if take_crm {
            app_changed = true;
            match c {
                Some(value) if !value.is_null() => {
                    record.insert(field.to_string(), value.clone());
                }
                _ => {
                    record.remove(field);
                }
            }
        } else {
            crm_changed = true;
        }
    }
    Merged {
        record: Value::Object(record),
        conflicts,
        app_changed,
        crm_changed,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use serde_json::json;

    fn rules(policy: &ConflictPolicy) -> MergeRules<'_> {
        MergeRules {
            policy,
            app_side: Side::Source,
            app_modified_at: 1_000,
            crm_modified_at: 2_000,
        }
    }

    const FIELDS: &[&str] = &["email", "phone", "status"];

    #[test]
    fn a_change_on_one_side_flows_to_the_other() {
        let base = json!({"email": "a@x.co", "phone": "+491", "status": "lead"});
        let app = json!({"email": "a@x.co", "phone": "+492", "status": "lead", "owner": "kim"});
        let crm = json!({"email": "a@x.co", "phone": "+491", "status": "customer"});
        let policy = ConflictPolicy::default();
        let merged = merge(&app, &crm, Some(&base), None, FIELDS, &rules(&policy));
        assert_eq!(
            merged.record,
            json!({"email": "a@x.co", "phone": "+492", "status": "customer", "owner": "kim"})
        );
        assert!(merged.conflicts.is_empty());
        assert!(merged.app_changed && merged.crm_changed);
    }

    #[test]
    fn tandems_own_write_coming_back_changes_nothing() {
        let synced = json!({"email": "a@x.co", "phone": "+491", "status": "lead"});
        // HubSpot gives numbers back as text; empty and missing are the same.
        let crm = json!({"email": "a@x.co", "phone": "+491", "status": "lead", "owner": ""});
        let policy = ConflictPolicy::default();
        let merged = merge(&synced, &crm, Some(&synced), None, FIELDS, &rules(&policy));
        assert!(!merged.app_changed && !merged.crm_changed && merged.conflicts.is_empty());
        assert!(same(Some(&json!("19.90")), Some(&json!(19.9))));
        assert!(!same(Some(&json!("01234")), Some(&json!("1234"))));
    }

    #[test]
    fn conflicts_follow_the_policy_and_are_recorded() {
        let base = json!({"phone": "+491", "status": "lead"});
        let app = json!({"phone": "+492", "status": "customer"});
        let crm = json!({"phone": "+493", "status": "opportunity"});

        let leading_target = ConflictPolicy::Leading { side: Side::Target };
        let merged = merge(&app, &crm, Some(&base), None, FIELDS, &rules(&leading_target));
        assert_eq!(merged.record, json!({"phone": "+493", "status": "opportunity"}));
        assert_eq!(merged.conflicts.len(), 2);
        assert_eq!(merged.conflicts[0].source_value, json!("+492"));
        assert_eq!(merged.conflicts[0].winner, Side::Target);

        // The CRM wrote last (2,000 > 1,000).
        let last_writer = ConflictPolicy::LastWriterWins;
        assert_eq!(
            merge(&app, &crm, Some(&base), None, FIELDS, &rules(&last_writer)).record,
            json!({"phone": "+493", "status": "opportunity"})
        );

        let ownership = ConflictPolicy::FieldOwnership {
            fields: BTreeMap::from([("status".to_string(), Side::Source)]),
            otherwise: Side::Target,
        };
        let merged = merge(&app, &crm, Some(&base), None, FIELDS, &rules(&ownership));
        assert_eq!(merged.record, json!({"phone": "+493", "status": "customer"}));
        assert!(merged.app_changed && merged.crm_changed);
    }

    #[test]
    fn without_a_base_every_difference_is_a_conflict() {
        let app = json!({"phone": "+492"});
        let crm = json!({"phone": "+493", "status": "lead"});
        let policy = ConflictPolicy::Leading { side: Side::Source };
        let merged = merge(&app, &crm, None, None, FIELDS, &rules(&policy));
        assert_eq!(merged.record, json!({"phone": "+492"}));
        assert_eq!(
            merged.conflicts.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
            ["phone", "status"]
        );
        assert!(!merged.app_changed && merged.crm_changed);
    }

    #[test]
    fn a_lossy_mapping_read_back_is_no_change_but_a_real_edit_is() {
        // The app's `vip` went to the CRM as `lead` (the table's default) and reads back as `lead`.
        let base = json!({"email": "a@x.co", "status": "vip"});
        let crm_base = json!({"email": "a@x.co", "status": "lead"});
        let policy = ConflictPolicy::default();
        let unchanged = json!({"email": "a@x.co", "status": "lead"});
        let merged = merge(&base, &unchanged, Some(&base), Some(&crm_base), FIELDS, &rules(&policy));
        assert!(!merged.app_changed && !merged.crm_changed && merged.conflicts.is_empty());
        assert_eq!(merged.record, base);

        // Someone makes the contact a customer in the CRM: that comes to the app.
        let edited = json!({"email": "a@x.co", "status": "customer"});
        let merged = merge(&base, &edited, Some(&base), Some(&crm_base), FIELDS, &rules(&policy));
        assert!(merged.app_changed && !merged.crm_changed);
        assert_eq!(merged.record["status"], "customer");
    }
}
