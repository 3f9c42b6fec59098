//! Reading HubSpot's changes through its search API, which sorts by one property only (ties in
//! no stated order) and pages no further than 10,000 results. So no read ever pages by offset:
//! every page is a fresh search from the cursor — `(modified = t AND id > i) OR modified > t`,
//! oldest first — and the cursor only moves past timestamps whose records were all seen. A
//! page filled by one timestamp is walked by id (`modified = t AND id > i`, sorted by id), and
//! the cursor says it stopped inside that group (`tied`) so that the next page goes straight on
//! with the walk: a group of any size costs one search per page, plus one where it begins.
//!
//! Generic over the search call so that the property tests run this exact code against the
//! sandbox's search in memory.

use std::future::Future;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{id_number, modified_property};
use crate::connectors::{ChangeCursor, ChangePage, ConnectorError, ObjectKind, Record};

/// The most a search returns per call.
pub const SEARCH_MAX: usize = 200;

/// A record's place in the read order.
fn key(record: &Record) -> (DateTime<Utc>, u64) {
    (record.modified_at, record.id.parse::<u64>().unwrap_or(0))
}

/// One page of changes after `since`: `search` sends one search request body and returns its
/// results. Archived records are not here (search never returns them): see `deletions`.
pub async fn read<F, Fut>(
    search: F,
    kind: ObjectKind,
    since: Option<&ChangeCursor>,
    properties: &[String],
    page_size: usize,
) -> Result<ChangePage, ConnectorError>
where
    F: Fn(Value) -> Fut,
    Fut: Future<Output = Result<Vec<Record>, ConnectorError>>,
{
    let limit = page_size.clamp(1, SEARCH_MAX);
    let modified = modified_property(kind);
    // Inside a group of records sharing a timestamp: walk on by id.
    if let Some(cursor) = since.filter(|c| c.tied) {
        let walked = walk(
            &search,
            kind,
            cursor.modified_at,
            id_number(&cursor.id)?,
            properties,
            limit,
        )
        .await?;
        if !walked.records.is_empty() {
            return Ok(walked);
        }
        // The group's other records changed meanwhile: ask what follows instead.
    }
    let after_cursor = match since {
        None => json!([]),
        Some(cursor) => {
            let at = cursor.modified_at.timestamp_millis().to_string();
            json!([
                {"filters": [
                    {"propertyName": modified, "operator": "EQ", "value": at},
                    {"propertyName": "hs_object_id", "operator": "GT", "value": id_number(&cursor.id)?.to_string()},
                ]},
                {"filters": [{"propertyName": modified, "operator": "GT", "value": at}]},
            ])
        }
    };
    let body = json!({
        "filterGroups": after_cursor,
        "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
        "properties": properties,
        "limit": limit,
    });
    let records = search(body).await?;
    if records.len() < limit {
        let cursor = records.iter().max_by_key(|r| key(r)).map(ChangeCursor::of);
        return Ok(ChangePage {
            cursor: cursor.or_else(|| since.cloned()),
            records,
            more: false,
        });
    }
    let first = records.first().map(|r| r.modified_at);
    let last = records.last().map(|r| r.modified_at);
    if let (Some(at), true) = (first, first == last) {
        // One timestamp fills the page: walk it by id, which orders it completely.
        let after_id = match since {
            Some(cursor) if cursor.modified_at == at => id_number(&cursor.id)?,
            _ => 0,
        };
        return walk(&search, kind, at, after_id, properties, limit).await;
    }
    // The last timestamp may go on past this page: move the cursor only over the complete
    // ones. Its records are read again next time, and recognised by their content.
    let cursor = records
        .iter()
        .filter(|r| Some(r.modified_at) != last)
        .max_by_key(|r| key(r))
        .map(ChangeCursor::of);
    Ok(ChangePage {
        cursor,
        records,
        more: true,
    })
}

/// The records modified at `at` after id `after_id`, by id: a full page says the group may go
/// on (`tied`); a short one that it is over, and more may follow after it.
async fn walk<F, Fut>(
    search: &F,
    kind: ObjectKind,
    at: DateTime<Utc>,
    after_id: u64,
    properties: &[String],
    limit: usize,
) -> Result<ChangePage, ConnectorError>
where
    F: Fn(Value) -> Fut,
    Fut: Future<Output = Result<Vec<Record>, ConnectorError>>,
{
    let body = json!({
        "filterGroups": [{"filters": [
            {"propertyName": modified_property(kind), "operator": "EQ", "value": at.timestamp_millis().to_string()},
            {"propertyName": "hs_object_id", "operator": "GT", "value": after_id.to_string()},
        ]}],
        "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
        "properties": properties,
        "limit": limit,
    });
    let records = search(body).await?;
    let full = records.len() >= limit;
    let cursor = records.last().map(|r| {
        let cursor = ChangeCursor {
            modified_at: at,
            id: r.id.clone(),
            tied: false,
        };
        if full { cursor.within_tie() } else { cursor }
    });
    Ok(ChangePage {
        cursor,
        records,
        more: true,
    })
}

/// The read path as a whole — this module's paging and the engine's passes (`sync::reader`) —
/// against HubSpot's search as the sandbox emulates it, in memory: random timestamp
/// distributions (many records on one time, ids crossing a digit boundary), page sizes, runs cut
/// into slices, and writes landing between pages, on times the read has already passed.
#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use chrono::{DateTime, Utc};
    use futures_util::FutureExt;
    use proptest::prelude::*;
    use serde_json::Value;
    use tandem_sandbox::clock::iso;
    use tandem_sandbox::hubspot::model::Record as HsRecord;
    use tandem_sandbox::hubspot::{Account, ObjectType, ops, search, seed};

    use super::read;
    use crate::connectors::{ConnectorError, ObjectKind, Record};
    use crate::sync::reader::{Fresh, Pass, Position, ReadState, Step};

    /// An in-memory HubSpot account whose clock the test moves.
    struct Crm {
        account: Account,
        base: DateTime<Utc>,
        clock_ms: i64,
        /// Timestamps are rounded down to this: writes in one tick share a time.
        tick_ms: i64,
        version: u64,
    }

    impl Crm {
        fn new(first_id: u64, tick_ms: i64) -> Crm {
            let mut account = Account::empty("props");
            seed::define_schema(&mut account);
            account.next_id = first_id;
            Crm {
                account,
                // In the past, so that the sandbox's search shows every record; on a whole
                // minute, so that ticks fall where HubSpot's times would.
                base: DateTime::from_timestamp_millis(
                    (Utc::now() - chrono::Duration::days(30)).timestamp_millis() / 60_000 * 60_000,
                )
                .unwrap_or_default(),
                clock_ms: 0,
                tick_ms,
                version: 0,
            }
        }

        fn now(&self) -> DateTime<Utc> {
            self.base + chrono::Duration::milliseconds(self.clock_ms)
        }

        /// Writes a record (a new one when `id` is none) `advance_ms` after the last write.
        fn write(&mut self, id: Option<u64>, advance_ms: i64) {
            self.clock_ms += advance_ms;
            let stamp_ms = self.clock_ms - self.clock_ms.rem_euclid(self.tick_ms);
            let stamp = self.base + chrono::Duration::milliseconds(stamp_ms);
            self.version += 1;
            let id = id.unwrap_or_else(|| {
                self.account.next_id += 1;
                self.account.next_id - 1
            });
            let created = self
                .account
                .records(ObjectType::Contacts)
                .get(&id)
                .map_or(stamp, |r| r.created_at);
            let properties = BTreeMap::from([
                ("hs_object_id".to_string(), id.to_string()),
                ("firstname".to_string(), format!("v{}", self.version)),
                ("createdate".to_string(), iso(created)),
                ("lastmodifieddate".to_string(), iso(stamp)),
            ]);
            self.account.put_record(
                ObjectType::Contacts,
                HsRecord {
                    id,
                    properties,
                    created_at: created,
                    updated_at: stamp,
                    archived_at: None,
                },
            );
        }

        fn ids(&self) -> Vec<u64> {
            self.account.records(ObjectType::Contacts).keys().copied().collect()
        }

        /// One search, answered as the sandbox answers it over HTTP.
        fn search(&self, body: &Value) -> Result<Vec<Record>, ConnectorError> {
            let request: search::SearchRequest = serde_json::from_value(body.clone()).expect("a search request");
            let (_, page, _) = search::run(&self.account, ObjectType::Contacts, &request)
                .map_err(|e| ConnectorError::protocol(e.message))?;
            page.iter()
                .map(|r| {
                    let json = ops::record_json(ObjectType::Contacts, r, request.properties.as_deref(), &self.account);
                    super::super::to_record(&json, ObjectKind::Contact)
                })
                .collect()
        }
    }

    #[derive(Clone, Debug)]
    enum Op {
        /// Read one page (starting a run when none is going).
        Page,
        /// The slice ends: the run goes on in the next one, from what was stored.
        Slice,
        /// Changes a record (by index into the existing ones) `advance` ms after the last write.
        Update(usize, i64),
        /// Creates `count` records in one burst, `advance` ms after the last write.
        Create(usize, i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => Just(Op::Page),
            1 => Just(Op::Slice),
            3 => (any::<usize>(), prop_oneof![Just(0i64), Just(1), 0..3_000i64]).prop_map(|(i, a)| Op::Update(i, a)),
            1 => (1..40usize, prop_oneof![Just(0i64), 0..3_000i64]).prop_map(|(n, a)| Op::Create(n, a)),
        ]
    }

    struct Reader {
        stored: Option<ReadState>,
        pass: Option<Pass>,
        delivered: HashMap<String, DateTime<Utc>>,
        lookback: chrono::Duration,
        page_size: usize,
        pages: usize,
    }

    impl Reader {
        /// One page, as the engine reads it; whether the run is over.
        fn page(&mut self, crm: &Crm) -> Result<bool, String> {
            let (stored, lookback, now) = (self.stored.clone(), self.lookback, crm.now());
            let pass = self
                .pass
                .get_or_insert_with(|| Pass::start(stored, Some(Fresh { now, lookback })));
            let since = match pass.position() {
                Some(Position::Crm(cursor)) => Some(cursor.clone()),
                _ => None,
            };
            let properties = vec![
                "firstname".to_string(),
                "hs_object_id".into(),
                "lastmodifieddate".into(),
            ];
            let page = read(
                |body| std::future::ready(crm.search(&body)),
                ObjectKind::Contact,
                since.as_ref(),
                &properties,
                self.page_size,
            )
            .now_or_never()
            .expect("in-memory searches answer at once")
            .map_err(|e| e.to_string())?;
            self.pages += 1;
            for record in &page.records {
                self.delivered.insert(record.id.clone(), record.modified_at);
            }
            let step = pass.advance(page.cursor.map(Position::Crm), page.more);
            if let Some(state) = step.state() {
                self.stored = Some(state.clone());
            }
            match step {
                Step::Next(_) => Ok(false),
                Step::CaughtUp(_) => {
                    self.pass = None;
                    Ok(true)
                }
                Step::Stalled(state) => Err(format!("the read stalled at {state:?}")),
            }
        }

        fn end_slice(&mut self) {
            if self.pass.take().is_some() {
                self.pass = Some(Pass::start(self.stored.clone(), None));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        #[test]
        fn every_change_arrives_and_the_final_state_is_the_crms(
            first_id in prop_oneof![Just(1u64), Just(95), Just(990), Just(9_990)],
            tick_ms in prop_oneof![Just(1i64), Just(1_000), Just(60_000)],
            initial in prop::collection::vec((1..300usize, prop_oneof![Just(0i64), 0..5_000i64]), 0..4),
            page_size in 1..40usize,
            ops in prop::collection::vec(op(), 0..80),
        ) {
            let mut crm = Crm::new(first_id, tick_ms);
            for (count, advance) in initial {
                for i in 0..count {
                    crm.write(None, if i == 0 { advance } else { 0 });
                }
            }
            let mut reader = Reader {
                stored: None,
                pass: None,
                delivered: HashMap::new(),
                // At least the clock's granularity (the engine's default, 5 s, is above a
                // second's: Salesforce's).
                lookback: chrono::Duration::milliseconds(tick_ms),
                page_size,
                pages: 0,
            };
            for op in ops {
                match op {
                    Op::Page => { reader.page(&crm).map_err(TestCaseError::fail)?; }
                    Op::Slice => reader.end_slice(),
                    Op::Update(index, advance) => {
                        let ids = crm.ids();
                        if !ids.is_empty() {
                            crm.write(Some(ids[index % ids.len()]), advance);
                        }
                    }
                    Op::Create(count, advance) => {
                        for i in 0..count {
                            crm.write(None, if i == 0 { advance } else { 0 });
                        }
                    }
                }
            }
            // The writes stop; a run after a moment reads to the end.
            crm.clock_ms += 1;
            reader.end_slice();
            reader.pass = None;
            let mut finished = false;
            for _ in 0..100_000 {
                if reader.page(&crm).map_err(TestCaseError::fail)? {
                    finished = true;
                    break;
                }
            }
            prop_assert!(finished, "the final run did not catch up");
            for record in crm.account.records(ObjectType::Contacts).values() {
                let delivered = reader.delivered.get(&record.id.to_string());
                prop_assert_eq!(
                    delivered,
                    Some(&record.updated_at),
                    "record {} (modified {}) after {} pages",
                    record.id,
                    record.updated_at,
                    reader.pages
                );
            }
        }
    }
}
