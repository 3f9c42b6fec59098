//! Before a record is created on the other side, look for its twin there (PRODUCT.md flow 8):
//! contacts by normalised email; companies by VAT id, else registration number, else name and
//! country. A twin found is handled by the pipeline's duplicate policy — merged with one side
//! leading, or skipped and kept as a failed record of kind `duplicate` for a person to decide —
//! never merged silently. Contacts without an exact twin whose name and company are close to an
//! existing contact's (Jaro-Winkler) are created and flagged as possible duplicates.

use std::collections::HashMap;

use serde_json::{Value, json};
use tandem_shared::api::failed_records::FailureReason;
use tandem_shared::api::pipelines::DuplicatePolicy;
use tandem_shared::api::runs::RecordOutcome;
use tandem_shared::model::AppObject;

use super::outcome::PageOutput;
use super::page::{Abort, PageCtx, Pending};
use super::plan::{CrmSide, SideHandle};
use crate::connectors::Record;
use crate::domain::match_keys::{KeyKind, match_keys, normalise_email, normalise_name, normalise_number};
use crate::repo::failed_records::{DuplicateChoice, NewFailure};
use crate::repo::{app_records, sync_links};

/// A twin found for a record about to be created.
pub struct Twin {
    pub id: String,
    /// What matched, as `email:ada@example.com`.
    pub key: String,
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn normalise(kind: KeyKind, value: &str) -> String {
    match kind {
        KeyKind::Email => normalise_email(value),
        KeyKind::VatId | KeyKind::RegistrationNumber => normalise_number(value),
        KeyKind::NameAndCountry => normalise_name(value),
    }
}

/// The keys to look twins up by, as (kind, the target's field, the target's country field).
fn key_fields(ctx: &PageCtx<'_>) -> Vec<(KeyKind, String, Option<String>)> {
    let mapping = ctx.mapping();
    let from_app = ctx.plan.side(ctx.from_side()).is_app();
    let object = ctx.plan.stored.pipeline.object;
    let kinds: &[KeyKind] = match object {
        AppObject::Contact => &[KeyKind::Email],
        AppObject::Company => &[KeyKind::VatId, KeyKind::RegistrationNumber, KeyKind::NameAndCountry],
        _ => &[],
    };
    let mut fields = Vec::new();
    for &kind in kinds {
        let target = if from_app {
            mapping.target_of(kind.fields()[0]).map(str::to_string)
        } else if kind == KeyKind::Email {
            // CRM to CRM: the target's email field, whatever fills it.
            mapping
                .compiled
                .target_fields()
                .into_iter()
                .find(|f| f.eq_ignore_ascii_case("email"))
                .map(str::to_string)
        } else {
            None
        };
        let Some(target) = target else { continue };
        let country = if kind == KeyKind::NameAndCountry {
            match mapping.target_of("address.country") {
                Some(country) => Some(country.to_string()),
                // Name alone is too weak a key.
                None => continue,
            }
        } else {
            None
        };
        fields.push((kind, target, country));
    }
    fields
}

/// Finds twins for `creates`; returns the records still to create. Twins to write over join
/// `updates`; the rest are linked, skipped or flagged here.
pub async fn resolve(
    ctx: &PageCtx<'_>,
    out: &mut PageOutput,
    creates: Vec<Pending>,
    updates: &mut Vec<Pending>,
) -> Result<Vec<Pending>, Abort> {
    if creates.is_empty() {
        return Ok(creates);
    }
    // Records a person already decided about skip the look-up: linked to the twin they named,
    // or created anew.
    let mut decided_twins = Vec::new();
    let mut create_anyway = Vec::new();
    let mut creates_undecided = Vec::new();
    for pending in creates {
        match ctx.decision(&pending.record.id) {
            Some(DuplicateChoice::Link { twin_id, key, .. }) => {
                let twin = Twin {
                    id: twin_id.clone(),
                    key: key.clone(),
                };
                decided_twins.push((pending, twin));
            }
            Some(DuplicateChoice::CreateNew) => create_anyway.push(pending),
            None => creates_undecided.push(pending),
        }
    }
    let creates = creates_undecided;
    let twins: Vec<Option<Twin>> = match ctx.plan.side(ctx.to_side()) {
        SideHandle::Crm(crm) => crm_twins(ctx, crm, &creates).await?,
        SideHandle::App(app) => {
            let object = ctx.plan.stored.pipeline.object;
            let keys: Vec<Vec<String>> = creates
                .iter()
                .map(|p| match_keys(object, &p.mapped).iter().map(|k| k.text()).collect())
                .collect();
            let mut all: Vec<String> = keys.iter().flatten().cloned().collect();
            all.sort();
            all.dedup();
            let mut found: HashMap<String, String> = HashMap::new();
            for chunk in all.chunks(500) {
                for (key, id) in app_records::find_by_keys(ctx.db.pool(), app.environment_id, object, chunk).await? {
                    found.entry(key).or_insert(id);
                }
            }
            keys.iter()
                .map(|keys| {
                    keys.iter().find_map(|key| {
                        found.get(key).map(|id| Twin {
                            id: id.clone(),
                            key: key.clone(),
                        })
                    })
                })
                .collect()
        }
    };

    let mut remaining = Vec::new();
    let mut found = decided_twins;
    for (pending, twin) in creates.into_iter().zip(twins) {
        match twin {
            Some(twin) => found.push((pending, twin)),
            None => remaining.push(pending),
        }
    }
    updates.extend(settle_twins(ctx, out, found).await?);
    flag_similar(ctx, out, &remaining).await?;
    remaining.extend(create_anyway);
    Ok(remaining)
}

/// Applies the pipeline's duplicate policy to records whose twin was found on the other side:
/// skipped and kept for a person to decide, linked with the other side leading, or written over
/// the twin when this side leads (those are returned, to be written as updates). A twin already
/// linked to another record never takes a second one.
pub async fn settle_twins(
    ctx: &PageCtx<'_>,
    out: &mut PageOutput,
    found: Vec<(Pending, Twin)>,
) -> Result<Vec<Pending>, Abort> {
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let twin_ids: Vec<String> = found.iter().map(|(_, t)| t.id.clone()).collect();
    let taken = sync_links::by_ids(ctx.db.pool(), ctx.plan.stored.pipeline.id, ctx.to_side(), &twin_ids).await?;
    let pipeline_policy = ctx.plan.stored.pipeline.settings.matching.duplicates;
    let mut merges = Vec::new();
    for (mut pending, twin) in found {
        let mut info = json!({ "id": twin.id, "key": twin.key });
        // A person's "same record" decision is a merge with the side they chose leading.
        let policy = match ctx.decision(&pending.record.id) {
            Some(DuplicateChoice::Link { leading, .. }) => {
                info["decided"] = json!(true);
                DuplicatePolicy::Merge { leading: *leading }
            }
            _ => pipeline_policy,
        };
        if let Some(link) = taken.get(&twin.id).filter(|l| ctx.ids_of(l).0 != pending.record.id) {
            duplicate(
                ctx,
                out,
                pending,
                &format!(
                    "its twin {} ({}) is already linked to {}",
                    twin.id,
                    twin.key,
                    ctx.ids_of(link).0
                ),
                info,
            );
            continue;
        }
        match policy {
            DuplicatePolicy::SkipAndNotify => {
                let message = format!("a record with the same {} exists: {}", twin.key, twin.id);
                duplicate(ctx, out, pending, &message, info);
            }
            DuplicatePolicy::Merge { leading } if leading == ctx.from_side() => {
                pending.to_id = Some(twin.id);
                pending.matched = Some(info);
                merges.push(pending);
            }
            DuplicatePolicy::Merge { .. } => {
                // The other side leads: link the twins and write nothing now; later changes here
                // flow as usual.
                let mut link = ctx.link(&pending.record.id, &twin.id, pending.link.as_ref());
                ctx.synced(&mut link, &pending.record, &pending.hash);
                let (source, target) = (link.source_id.clone(), link.target_id.clone());
                out.links.push(link);
                out.resolved.push((ctx.flow, pending.record.id.clone()));
                out.delta.progress_done += 1;
                out.event(
                    ctx.flow,
                    Some(&source),
                    Some(&target),
                    RecordOutcome::Matched,
                    json!({ "matched": info, "leading": ctx.to_side() }),
                );
            }
        }
    }
    Ok(merges)
}

/// The twin a CRM named when it refused a create for a value it keeps unique (see
/// `Capabilities::unique_fields`), if that is what the refusal was.
pub fn twin_from_refusal(ctx: &PageCtx<'_>, crm: &CrmSide, pending: &Pending, existing_id: &str) -> Option<Twin> {
    // Decided to be a record of its own: the CRM's refusal is its answer, recorded as such.
    if ctx.decision(&pending.record.id) == Some(&DuplicateChoice::CreateNew) {
        return None;
    }
    key_fields(ctx).into_iter().find_map(|(kind, field, _)| {
        if !enforced(crm, &field) {
            return None;
        }
        let value = text(pending.mapped.get(&field))?;
        Some(Twin {
            id: existing_id.to_string(),
            key: format!("{}:{}", kind.prefix(), normalise(kind, &value)),
        })
    })
}

/// Whether the CRM itself refuses a second record with the same `field`.
fn enforced(crm: &CrmSide, field: &str) -> bool {
    crm.client
        .connector
        .provider()
        .capabilities
        .unique_fields
        .iter()
        .any(|(kind, unique)| *kind == crm.kind && unique.eq_ignore_ascii_case(field))
}

/// Skipped as a duplicate: counted as skipped, kept as a failed record to decide on and replay.
fn duplicate(ctx: &PageCtx<'_>, out: &mut PageOutput, pending: Pending, message: &str, info: Value) {
    out.skipped(
        ctx.flow,
        &pending.record.id,
        None,
        "duplicate",
        json!({ "twin": info.clone() }),
    );
    out.failures.push(NewFailure {
        flow: ctx.flow,
        record_id: pending.record.id.clone(),
        record_email: pending.record.email(),
        source_payload: pending.record.fields.clone(),
        mapped_payload: Some(pending.mapped),
        reason: FailureReason {
            kind: "duplicate".into(),
            field: None,
            message: format!("skipped as a duplicate: {message}; merge the records, or change the pipeline's duplicate policy, then replay"),
            crm_error: Some(info),
        },
    });
}

/// Calls a lookup sends at once when the CRM takes few values a call (Pipedrive's search takes
/// one): the connection's limiter still paces them.
const FINDS_AT_ONCE: usize = 8;

/// Records whose `field` has one of `values`, one call per batch of values (as many as the CRM
/// takes in a request): a retry then repeats one request, not every request before it.
async fn find(crm: &CrmSide, field: &str, values: Vec<String>, read: Vec<String>) -> Result<Vec<Record>, Abort> {
    use futures_util::stream::{self, StreamExt, TryStreamExt};
    let kind = crm.kind;
    let per_call = crm.client.connector.provider().capabilities.find_values_max.max(1);
    type Lookup<'a> =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<Record>, super::crm::CallError>> + Send + 'a>>;
    let mut calls: Vec<Lookup<'_>> = Vec::new();
    for chunk in values.chunks(per_call) {
        let (field, values, read) = (field.to_string(), chunk.to_vec(), read.clone());
        calls.push(Box::pin(async move {
            crm.client
                .call(|credential| {
                    let connector = crm.client.connector.clone();
                    let (field, values, read) = (field.clone(), values.clone(), read.clone());
                    async move { connector.find_by(&credential, kind, &field, &values, &read).await }
                })
                .await
        }));
    }
    let found: Vec<Vec<Record>> = stream::iter(calls).buffered(FINDS_AT_ONCE).try_collect().await?;
    Ok(found.into_iter().flatten().collect())
}

/// Twins in a CRM: one search per key field for the whole page.
async fn crm_twins(ctx: &PageCtx<'_>, crm: &CrmSide, creates: &[Pending]) -> Result<Vec<Option<Twin>>, Abort> {
    let mut twins: Vec<Option<Twin>> = creates.iter().map(|_| None).collect();
    // Values the CRM keeps unique need no search: its refusal of a create names the twin.
    for (kind, field, country) in key_fields(ctx).into_iter().filter(|(_, f, _)| !enforced(crm, f)) {
        let wanted: Vec<(usize, String)> = creates
            .iter()
            .enumerate()
            .filter(|(i, _)| twins[*i].is_none())
            .filter_map(|(i, p)| text(p.mapped.get(&field)).map(|v| (i, v)))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let mut values: Vec<String> = wanted.iter().map(|(_, v)| v.clone()).collect();
        values.sort();
        values.dedup();
        let mut read = vec![field.clone()];
        read.extend(country.clone());
        let found = find(crm, &field, values, read).await?;
        let mut by_key: HashMap<String, &Record> = HashMap::new();
        for record in &found {
            if let Some(value) = text(record.fields.get(&field)) {
                let country_value = country
                    .as_ref()
                    .map(|c| text(record.fields.get(c)).unwrap_or_default().to_uppercase());
                by_key
                    .entry((normalise(kind, &value), country_value).to_key())
                    .or_insert(record);
            }
        }
        for (i, value) in wanted {
            let country_value = country
                .as_ref()
                .map(|c| text(creates[i].mapped.get(c)).unwrap_or_default().to_uppercase());
            let key = (normalise(kind, &value), country_value.clone()).to_key();
            if let Some(record) = by_key.get(&key) {
                let mut label = format!("{}:{}", kind.prefix(), normalise(kind, &value));
                if let Some(country) = country_value {
                    label.push('|');
                    label.push_str(&country);
                }
                twins[i] = Some(Twin {
                    id: record.id.clone(),
                    key: label,
                });
            }
        }
    }
    Ok(twins)
}

trait ToKey {
    fn to_key(self) -> String;
}

impl ToKey for (String, Option<String>) {
    fn to_key(self) -> String {
        match self.1 {
            Some(country) => format!("{}|{country}", self.0),
            None => self.0,
        }
    }
}

/// A person's name and company as compared for fuzzy matching.
fn person(record: &Value, first: &str, last: &str, company: Option<&str>) -> String {
    let mut parts = vec![
        text(record.get(first)).unwrap_or_default(),
        text(record.get(last)).unwrap_or_default(),
    ];
    if let Some(company) = company {
        parts.push(text(record.get(company)).unwrap_or_default());
    }
    normalise_name(&parts.join(" "))
}

/// Flags contacts about to be created that look like an existing one (same last name, similar
/// name and company). They are still created: a person decides whether to merge them.
async fn flag_similar(ctx: &PageCtx<'_>, out: &mut PageOutput, creates: &[Pending]) -> Result<(), Abort> {
    let Some(threshold) = ctx.plan.stored.pipeline.settings.matching.fuzzy_threshold else {
        return Ok(());
    };
    let SideHandle::Crm(crm) = ctx.plan.side(ctx.to_side()) else {
        return Ok(());
    };
    if creates.is_empty()
        || ctx.plan.stored.pipeline.object != AppObject::Contact
        || !ctx.plan.side(ctx.from_side()).is_app()
    {
        return Ok(());
    }
    let mapping = ctx.mapping();
    let (Some(first), Some(last)) = (mapping.target_of("first_name"), mapping.target_of("last_name")) else {
        return Ok(());
    };
    let company = mapping.target_of("company_name");
    let mut names: Vec<String> = creates.iter().filter_map(|p| text(p.mapped.get(last))).collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Ok(());
    }
    let mut read = vec![first.to_string(), last.to_string()];
    read.extend(company.map(str::to_string));
    let candidates = find(crm, last, names, read).await?;
    for pending in creates {
        let mine = person(&pending.mapped, first, last, company);
        let best = candidates
            .iter()
            .map(|c| {
                let fields = Value::Object(c.fields.clone().into_iter().collect());
                (c, strsim::jaro_winkler(&mine, &person(&fields, first, last, company)))
            })
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((candidate, score)) = best
            && score >= threshold
        {
            out.event(
                ctx.flow,
                Some(&pending.record.id),
                None,
                RecordOutcome::PossibleDuplicate,
                json!({ "candidate": candidate.id, "score": (score * 1000.0).round() / 1000.0, "compared": mine }),
            );
        }
    }
    Ok(())
}
