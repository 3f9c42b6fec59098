//! `/query` and `/queryAll`: a parsed SOQL query (see `soql.rs`) checked against the schema the
//! way Salesforce checks it (unknown fields and objects, filter values of the wrong type,
//! unfilterable fields, positions in the message), run over an org's records, and paged with
//! query locators: `nextRecordsUrl` = `/services/data/vXX.X/query/<cursor>-<offset>`, the cursor
//! remembering its rows and page size for 15 minutes.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as Days, Utc};
use serde::Serialize;
use serde_json::Value;

use super::errors::SfError;
use super::ids::{base62, suffix};
use super::model::{Obj, Org, Record, Val};
use super::schema::{FieldDef, FieldType, SObject};
use super::soql::{self, CmpOp, Expr, Literal, RelativeDate, Select, Spanned};

pub const DEFAULT_BATCH: usize = 2000;
pub const MIN_BATCH: usize = 200;
const MAX_OFFSET: u64 = 2000;
const CURSOR_IDLE: Duration = Duration::from_secs(15 * 60);
const MAX_CURSORS: usize = 50;

/// Where a selected or filtered value comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    Field(u16),
    /// A parent's field through a lookup: `Account.Name`.
    Parent {
        via: u16,
        relationship: &'static str,
        field: &'static str,
    },
}

#[derive(Clone, Debug, PartialEq)]
enum Operand {
    Null,
    Text(String),
    Id(String),
    Num(f64),
    Bool(bool),
    Instant(DateTime<Utc>),
    /// A relative date literal: from (inclusive) to (exclusive).
    Range(DateTime<Utc>, DateTime<Utc>),
}

#[derive(Clone, Debug, PartialEq)]
enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Cmp(Column, CmpOp, Operand),
    In(Column, Vec<Operand>, bool),
    Like(Column, String),
}

#[derive(Clone, Debug, PartialEq)]
struct Sort {
    column: Column,
    descending: bool,
    nulls_first: bool,
}

/// A query checked against the schema, ready to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub object: SObject,
    pub count: bool,
    pub columns: Vec<Column>,
    filter: Option<Cond>,
    order: Vec<Sort>,
    limit: Option<u64>,
    offset: u64,
}

#[derive(Debug)]
struct Cursor {
    object: SObject,
    rows: Vec<u64>,
    columns: Arc<Vec<Column>>,
    page_size: usize,
    last_used: Instant,
}

/// An org's open query cursors.
#[derive(Debug, Default)]
pub struct Cursors {
    open: HashMap<String, Cursor>,
    next: u64,
}

impl Cursors {
    pub fn len(&self) -> usize {
        self.open.len()
    }

    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    fn expire(&mut self) {
        self.open.retain(|_, c| c.last_used.elapsed() < CURSOR_IDLE);
        while self.open.len() >= MAX_CURSORS {
            let Some(oldest) = self
                .open
                .iter()
                .min_by_key(|(_, c)| c.last_used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            self.open.remove(&oldest);
        }
    }
}

/// One page of results, as Salesforce orders the keys.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    pub total_size: usize,
    pub done: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_records_url: Option<String>,
    pub records: Vec<Obj>,
}

fn at(soql: &str, pos: usize, code: &'static str, message: impl AsRef<str>) -> SfError {
    SfError::new(400, code, soql::describe_error(soql, pos, message.as_ref()))
}

fn no_such_column(soql: &str, name: &Spanned<String>, object: SObject) -> SfError {
    at(
        soql,
        name.pos,
        "INVALID_FIELD",
        format!(
            "No such column '{}' on entity '{}'. If you are attempting to use a custom field, be sure to append \
             the '__c' after the custom field name. Please reference your WSDL or the describe call for the \
             appropriate names.",
            name.value.rsplit('.').next().unwrap_or(&name.value),
            object.name()
        ),
    )
}

/// A field path: the column and the definition of the field it ends at.
fn resolve_column(soql: &str, object: SObject, path: &Spanned<String>) -> Result<(Column, &'static FieldDef), SfError> {
    let def = object.def();
    let parts: Vec<&str> = path.value.split('.').collect();
    let parts = match parts.as_slice() {
        [first, rest @ ..] if !rest.is_empty() && first.eq_ignore_ascii_case(object.name()) => rest.to_vec(),
        _ => parts,
    };
    match parts.as_slice() {
        [name] => {
            let (index, field) = def.field(name).ok_or_else(|| no_such_column(soql, path, object))?;
            Ok((Column::Field(index), field))
        }
        [relationship, name] => {
            let (via, lookup) = def.relationship(relationship).ok_or_else(|| {
                at(
                    soql,
                    path.pos,
                    "INVALID_FIELD",
                    format!(
                        "Didn't understand relationship '{relationship}' in field path. If you are attempting to use \
                         a custom relationship, be sure to append the '__r' after the custom relationship name. \
                         Please reference your WSDL or the describe call for the appropriate names."
                    ),
                )
            })?;
            // A polymorphic lookup (`What`) offers the fields of any of its objects.
            let field = lookup
                .reference_to
                .iter()
                .find_map(|t| t.def().field(name).map(|(_, f)| f))
                .ok_or_else(|| no_such_column(soql, path, lookup.reference_to[0]))?;
            Ok((
                Column::Parent {
                    via,
                    relationship: lookup.relationship_name.unwrap_or(lookup.name),
                    field: field.name,
                },
                field,
            ))
        }
        _ => Err(at(
            soql,
            path.pos,
            "INVALID_FIELD",
            format!(
                "Didn't understand relationship '{}' in field path. This sandbox follows one level of parent \
                 relationships.",
                parts.get(1).unwrap_or(&"")
            ),
        )),
    }
}

fn type_name(field: &FieldDef) -> &'static str {
    match field.ftype {
        FieldType::Id | FieldType::Reference => "id",
        FieldType::Double | FieldType::Currency | FieldType::Percent => "double",
        FieldType::Int => "int",
        FieldType::Boolean => "boolean",
        FieldType::Date => "date",
        FieldType::DateTime => "dateTime",
        _ => "string",
    }
}

fn midnight(date: chrono::NaiveDate) -> DateTime<Utc> {
    date.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or_default()
}

fn relative_range(relative: RelativeDate, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let today = midnight(now.date_naive());
    let day = Days::days(1);
    match relative {
        RelativeDate::Today => (today, today + day),
        RelativeDate::Yesterday => (today - day, today),
        RelativeDate::Tomorrow => (today + day, today + day + day),
        RelativeDate::LastNDays(n) => (today - Days::days(i64::from(n)), today + day),
        RelativeDate::NextNDays(n) => (today + day, today + day + Days::days(i64::from(n))),
    }
}

/// Removes the `\%` and `\_` escapes that only LIKE patterns use.
fn unescape(text: &str) -> String {
    text.replace("\\%", "%").replace("\\_", "_")
}

fn operand(soql: &str, field: &FieldDef, literal: &Spanned<Literal>) -> Result<Operand, SfError> {
    let quoted = matches!(field.ftype, t if t.is_text() || t.is_id());
    let wrong_type = || {
        at(
            soql,
            literal.pos,
            "INVALID_FIELD",
            format!(
                "value of filter criterion for field '{}' must be of type {} and should {}be enclosed in quotes",
                field.name,
                type_name(field),
                if quoted { "" } else { "not " }
            ),
        )
    };
    Ok(match (&literal.value, field.ftype) {
        (Literal::Null, _) => Operand::Null,
        (Literal::Str(s), t) if t.is_text() => Operand::Text(unescape(s)),
        (Literal::Str(s), t) if t.is_id() => match super::ids::parse_id(s) {
            Some(id) => Operand::Id(id.id18),
            None => {
                return Err(at(
                    soql,
                    literal.pos,
                    "INVALID_QUERY_FILTER_OPERATOR",
                    format!("invalid ID field: {s}"),
                ));
            }
        },
        (Literal::Num(n), t) if t.is_number() => Operand::Num(*n),
        (Literal::Bool(b), FieldType::Boolean) => Operand::Bool(*b),
        (Literal::Date(d), FieldType::Date) => Operand::Instant(midnight(*d)),
        (Literal::DateTime(t), FieldType::DateTime) => Operand::Instant(*t),
        (Literal::Relative(r), FieldType::Date | FieldType::DateTime) => {
            let (from, to) = relative_range(*r, Utc::now());
            Operand::Range(from, to)
        }
        _ => return Err(wrong_type()),
    })
}

fn resolve_cond(soql: &str, object: SObject, expr: &Expr) -> Result<Cond, SfError> {
    let filterable = |path: &Spanned<String>| -> Result<(Column, &'static FieldDef), SfError> {
        let (column, field) = resolve_column(soql, object, path)?;
        if !field.filterable() {
            return Err(at(
                soql,
                path.pos,
                "INVALID_FIELD",
                format!("field '{}' can not be filtered in a query call", field.name),
            ));
        }
        Ok((column, field))
    };
    Ok(match expr {
        Expr::And(parts) => Cond::And(
            parts
                .iter()
                .map(|p| resolve_cond(soql, object, p))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Or(parts) => Cond::Or(
            parts
                .iter()
                .map(|p| resolve_cond(soql, object, p))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Not(inner) => Cond::Not(Box::new(resolve_cond(soql, object, inner)?)),
        Expr::Cmp { field, op, value } => {
            let (column, def) = filterable(field)?;
            let operand = operand(soql, def, value)?;
            if matches!(operand, Operand::Bool(_) | Operand::Null) && !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                return Err(at(
                    soql,
                    value.pos,
                    "INVALID_QUERY_FILTER_OPERATOR",
                    format!("invalid operator on {} field", type_name(def)),
                ));
            }
            Cond::Cmp(column, *op, operand)
        }
        Expr::In { field, values, negated } => {
            let (column, def) = filterable(field)?;
            let operands = values.iter().map(|v| operand(soql, def, v)).collect::<Result<_, _>>()?;
            Cond::In(column, operands, *negated)
        }
        Expr::Like { field, pattern } => {
            let (column, def) = filterable(field)?;
            if def.ftype.is_id() {
                return Err(at(
                    soql,
                    field.pos,
                    "INVALID_QUERY_FILTER_OPERATOR",
                    "invalid operator on id field",
                ));
            }
            match (&pattern.value, def.ftype.is_text()) {
                (Literal::Str(p), true) => Cond::Like(column, p.clone()),
                _ => {
                    return Err(operand(soql, def, pattern).err().unwrap_or_else(|| {
                        at(
                            soql,
                            pattern.pos,
                            "INVALID_FIELD",
                            format!("invalid operator on {} field", type_name(def)),
                        )
                    }));
                }
            }
        }
    })
}

/// Parses and checks a query.
pub fn plan(soql: &str) -> Result<Plan, SfError> {
    let query = soql::parse(soql).map_err(|e| at(soql, e.pos, "MALFORMED_QUERY", e.message))?;
    let object = SObject::parse(&query.from.value).ok_or_else(|| {
        at(
            soql,
            query.from.pos,
            "INVALID_TYPE",
            format!(
                "sObject type '{}' is not supported. If you are attempting to use a custom object, be sure to append \
                 the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate \
                 names.",
                query.from.value
            ),
        )
    })?;
    let (count, columns) = match &query.select {
        Select::Count => (true, Vec::new()),
        Select::Fields(paths) => {
            let mut columns = Vec::new();
            for path in paths {
                let (column, _) = resolve_column(soql, object, path)?;
                if columns.contains(&column) {
                    return Err(at(
                        soql,
                        path.pos,
                        "MALFORMED_QUERY",
                        format!("duplicate field selected: {}", path.value),
                    ));
                }
                columns.push(column);
            }
            (false, columns)
        }
    };
    let filter = query
        .filter
        .as_ref()
        .map(|f| resolve_cond(soql, object, f))
        .transpose()?;
    let mut order = Vec::new();
    for item in &query.order {
        let (column, field) = resolve_column(soql, object, &item.field)?;
        if !field.sortable() {
            return Err(at(
                soql,
                item.field.pos,
                "INVALID_FIELD",
                format!("field '{}' can not be sorted in a query call", field.name),
            ));
        }
        order.push(Sort {
            column,
            descending: item.descending,
            nulls_first: item.nulls_first.unwrap_or(!item.descending),
        });
    }
    if let Some(offset) = &query.offset
        && offset.value > MAX_OFFSET
    {
        return Err(at(
            soql,
            offset.pos,
            "NUMBER_OUTSIDE_VALID_RANGE",
            format!("Maximum SOQL offset allowed is {MAX_OFFSET}"),
        ));
    }
    Ok(Plan {
        object,
        count,
        columns,
        filter,
        order,
        limit: query.limit.map(|l| l.value),
        offset: query.offset.map_or(0, |o| o.value),
    })
}

fn column_value<'a>(org: &'a Org, object: SObject, record: &'a Record, column: &Column) -> Option<Val> {
    match column {
        Column::Field(index) => org.value(object, record, *index).map(std::borrow::Cow::into_owned),
        Column::Parent { via, field, .. } => {
            let (target, seq) = org.locate(record.str(*via)?)?;
            let parent = org.record(target, seq)?;
            let (index, _) = target.def().field(field)?;
            org.value(target, parent, index).map(std::borrow::Cow::into_owned)
        }
    }
}

fn text_cmp(a: &str, b: &str) -> Ordering {
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
}

fn compare(value: &Val, operand: &Operand) -> Option<Ordering> {
    match (value, operand) {
        (Val::Str(a), Operand::Text(b)) => Some(text_cmp(a, b)),
        (Val::Str(a), Operand::Id(b)) => Some(a.as_str().cmp(b.as_str())),
        (v, Operand::Num(b)) => v.as_f64()?.partial_cmp(b),
        (Val::Bool(a), Operand::Bool(b)) => Some(a.cmp(b)),
        (v, Operand::Instant(b)) => Some(v.as_instant()?.cmp(b)),
        _ => None,
    }
}

fn holds(op: CmpOp, ordering: Ordering) -> bool {
    match op {
        CmpOp::Eq => ordering == Ordering::Equal,
        CmpOp::Ne => ordering != Ordering::Equal,
        CmpOp::Lt => ordering == Ordering::Less,
        CmpOp::Le => ordering != Ordering::Greater,
        CmpOp::Gt => ordering == Ordering::Greater,
        CmpOp::Ge => ordering != Ordering::Less,
    }
}

fn matches_cmp(value: Option<&Val>, op: CmpOp, operand: &Operand) -> bool {
    match operand {
        Operand::Null => match op {
            CmpOp::Eq => value.is_none(),
            CmpOp::Ne => value.is_some(),
            _ => false,
        },
        Operand::Range(from, to) => {
            let Some(time) = value.and_then(Val::as_instant) else {
                return op == CmpOp::Ne;
            };
            match op {
                CmpOp::Eq => *from <= time && time < *to,
                CmpOp::Ne => !(*from <= time && time < *to),
                CmpOp::Lt => time < *from,
                CmpOp::Le => time < *to,
                CmpOp::Gt => time >= *to,
                CmpOp::Ge => time >= *from,
            }
        }
        _ => match value {
            None => op == CmpOp::Ne,
            Some(value) => compare(value, operand).is_some_and(|o| holds(op, o)),
        },
    }
}

/// SOQL LIKE: case-insensitive, `%` any run, `_` one character, `\%` and `\_` literal.
pub fn like(pattern: &str, text: &str) -> bool {
    enum P {
        Any,
        One,
        Char(char),
    }
    let mut parts = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        parts.push(match c {
            '%' => P::Any,
            '_' => P::One,
            '\\' => P::Char(chars.next().unwrap_or('\\')),
            c => P::Char(c),
        });
    }
    let text: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    // matched[j]: the pattern so far matches text[..j].
    let mut matched = vec![false; text.len() + 1];
    matched[0] = true;
    for part in &parts {
        let mut next = vec![false; text.len() + 1];
        match part {
            P::Any => {
                let mut reachable = false;
                for j in 0..=text.len() {
                    reachable |= matched[j];
                    next[j] = reachable;
                }
            }
            P::One => {
                next[1..].copy_from_slice(&matched[..text.len()]);
            }
            P::Char(c) => {
                let lower: Vec<char> = c.to_lowercase().collect();
                for j in 1..=text.len() {
                    next[j] = matched[j - 1] && lower.first() == Some(&text[j - 1]);
                }
            }
        }
        matched = next;
    }
    matched[text.len()]
}

fn eval(org: &Org, object: SObject, record: &Record, cond: &Cond) -> bool {
    match cond {
        Cond::And(parts) => parts.iter().all(|p| eval(org, object, record, p)),
        Cond::Or(parts) => parts.iter().any(|p| eval(org, object, record, p)),
        Cond::Not(inner) => !eval(org, object, record, inner),
        Cond::Cmp(column, op, operand) => {
            let value = column_value(org, object, record, column);
            matches_cmp(value.as_ref(), *op, operand)
        }
        Cond::In(column, operands, negated) => {
            let value = column_value(org, object, record, column);
            let found = operands.iter().any(|o| matches_cmp(value.as_ref(), CmpOp::Eq, o));
            found != *negated
        }
        Cond::Like(column, pattern) => match column_value(org, object, record, column) {
            Some(Val::Str(text)) => like(pattern, &text),
            _ => false,
        },
    }
}

/// A sort key that compares like Salesforce orders values.
#[derive(Clone, Debug, PartialEq, PartialOrd)]
enum Key {
    Text(String),
    Num(f64),
    Time(DateTime<Utc>),
    Bool(bool),
}

fn key_of(value: Val, id_like: bool) -> Key {
    match value {
        Val::Str(s) if id_like => Key::Text(s),
        Val::Str(s) => Key::Text(s.to_lowercase()),
        Val::Num(n) => Key::Num(n),
        Val::Int(i) => Key::Num(i as f64),
        Val::Bool(b) => Key::Bool(b),
        other => other.as_instant().map_or(Key::Bool(false), Key::Time),
    }
}

/// The matching rows, ordered, offset and limited.
pub fn execute(org: &Org, plan: &Plan, include_deleted: bool) -> Vec<u64> {
    let object = plan.object;
    let records = org
        .table(object)
        .records
        .values()
        .filter(|r| include_deleted || !r.is_deleted())
        .filter(|r| plan.filter.as_ref().is_none_or(|f| eval(org, object, r, f)));
    let mut rows: Vec<u64> = if plan.order.is_empty() {
        records.map(|r| r.seq).collect()
    } else {
        let id_like: Vec<bool> = plan
            .order
            .iter()
            .map(|s| match &s.column {
                Column::Field(i) => object.def().get(*i).is_some_and(|f| f.ftype.is_id()),
                Column::Parent { .. } => false,
            })
            .collect();
        let mut keyed: Vec<(Vec<Option<Key>>, u64)> = records
            .map(|r| {
                let keys = plan
                    .order
                    .iter()
                    .zip(&id_like)
                    .map(|(s, id)| column_value(org, object, r, &s.column).map(|v| key_of(v, *id)))
                    .collect();
                (keys, r.seq)
            })
            .collect();
        keyed.sort_by(|(a, _), (b, _)| {
            for ((x, y), sort) in a.iter().zip(b).zip(&plan.order) {
                let ordering = match (x, y) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) if sort.nulls_first => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (Some(_), None) if sort.nulls_first => Ordering::Greater,
                    (Some(_), None) => Ordering::Less,
                    (Some(x), Some(y)) => {
                        let o = x.partial_cmp(y).unwrap_or(Ordering::Equal);
                        if sort.descending { o.reverse() } else { o }
                    }
                };
                if ordering != Ordering::Equal {
                    return ordering;
                }
            }
            Ordering::Equal
        });
        keyed.into_iter().map(|(_, seq)| seq).collect()
    };
    let offset = (plan.offset as usize).min(rows.len());
    rows.drain(..offset);
    if let Some(limit) = plan.limit {
        rows.truncate(limit as usize);
    }
    rows
}

/// A row as a query returns it: `attributes`, then the selected fields in order, parents as
/// nested records (or null).
pub fn render_row(org: &Org, object: SObject, record: &Record, columns: &[Column], version: &str) -> Obj {
    let def = object.def();
    let mut row = Obj::new().with("attributes", org.attributes(object, record.seq, version));
    for column in columns {
        match column {
            Column::Field(index) => {
                let name = def.get(*index).map_or("", |f| f.name);
                let value = column_value(org, object, record, column).map_or(Value::Null, |v| v.to_json());
                row.push(name, value);
            }
            Column::Parent {
                via,
                relationship,
                field,
            } => {
                let parent = record
                    .str(*via)
                    .and_then(|id| org.locate(id))
                    .and_then(|(t, seq)| org.record(t, seq).map(|r| (t, r)));
                let Some((target, parent)) = parent else {
                    if row.get(relationship).is_none() {
                        row.push(relationship, Value::Null);
                    }
                    continue;
                };
                let value = target
                    .def()
                    .field(field)
                    .and_then(|(i, _)| org.value(target, parent, i))
                    .map_or(Value::Null, |v| v.to_json());
                match row.get_mut(relationship) {
                    Some(super::model::Node::Obj(nested)) => nested.push(field, value),
                    _ => row.push(
                        relationship,
                        Obj::new()
                            .with("attributes", org.attributes(target, parent.seq, version))
                            .with(field, value),
                    ),
                }
            }
        }
    }
    row
}

fn locator_id(org: &Org, n: u64) -> String {
    let id15 = format!("01g{}0{}", org.pod, base62(n, 9));
    let suffix = suffix(&id15);
    id15 + &suffix
}

fn page_of(org: &mut Org, key: &str, from: usize, version: &str) -> Option<Page> {
    let cursor = org.cursors.open.get_mut(key)?;
    cursor.last_used = Instant::now();
    let total = cursor.rows.len();
    let end = (from + cursor.page_size).min(total);
    let object = cursor.object;
    let rows: Vec<u64> = cursor.rows[from.min(end)..end].to_vec();
    let columns = cursor.columns.clone();
    let records = rows
        .iter()
        .filter_map(|seq| org.record(object, *seq))
        .map(|r| render_row(org, object, r, &columns, version))
        .collect();
    let done = end >= total;
    if done {
        org.cursors.open.remove(key);
    }
    Some(Page {
        total_size: total,
        done,
        next_records_url: (!done).then(|| format!("/services/data/v{version}/query/{key}-{end}")),
        records,
    })
}

/// The first page of a query.
pub fn run(org: &mut Org, soql: &str, include_deleted: bool, page_size: usize, version: &str) -> Result<Page, SfError> {
    let plan = plan(soql)?;
    let rows = execute(org, &plan, include_deleted);
    if plan.count {
        return Ok(Page {
            total_size: rows.len(),
            done: true,
            next_records_url: None,
            records: Vec::new(),
        });
    }
    let page_size = page_size.clamp(MIN_BATCH, DEFAULT_BATCH);
    org.cursors.expire();
    org.cursors.next += 1;
    let key = locator_id(org, org.cursors.next);
    org.cursors.open.insert(
        key.clone(),
        Cursor {
            object: plan.object,
            rows,
            columns: Arc::new(plan.columns),
            page_size,
            last_used: Instant::now(),
        },
    );
    page_of(org, &key, 0, version).ok_or_else(invalid_locator)
}

fn invalid_locator() -> SfError {
    SfError::new(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
}

/// A later page: `query/<cursor>-<offset>`.
pub fn more(org: &mut Org, locator: &str, version: &str) -> Result<Page, SfError> {
    let (key, offset) = locator.rsplit_once('-').ok_or_else(invalid_locator)?;
    let offset = offset.parse::<usize>().map_err(|_| invalid_locator())?;
    page_of(org, key, offset, version).ok_or_else(invalid_locator)
}

/// `Sforce-Query-Options: batchSize=N`.
pub fn batch_size(header: Option<&str>) -> usize {
    header
        .into_iter()
        .flat_map(|h| h.split(','))
        .filter_map(|option| option.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("batchSize"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(DEFAULT_BATCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::salesforce::ops::{Tx, parse_fields};
    use crate::salesforce::seed;

    fn org() -> Org {
        let mut org = Org::empty("query-test");
        seed::populate(&mut org);
        org
    }

    fn ids(page: &Page) -> Vec<String> {
        page.records
            .iter()
            .map(|r| r.to_value()["Id"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn filters_orders_and_selects_parents() {
        let mut org = org();
        let page = run(
            &mut org,
            "SELECT Id, LastName, Account.Name, Account.Industry FROM Contact WHERE Account.Name LIKE 'nord%' \
             ORDER BY LastName DESC",
            false,
            2000,
            "62.0",
        )
        .expect("query");
        assert_eq!(page.total_size, 3);
        assert!(page.done && page.next_records_url.is_none());
        let first = page.records[0].to_value();
        assert_eq!(first["attributes"]["type"], "Contact");
        assert!(
            first["attributes"]["url"]
                .as_str()
                .unwrap()
                .starts_with("/services/data/v62.0/sobjects/Contact/003")
        );
        assert_eq!(first["Account"]["Name"], "Nordlicht Logistik GmbH");
        assert_eq!(first["Account"]["attributes"]["type"], "Account");
        let names: Vec<String> = page
            .records
            .iter()
            .map(|r| r.to_value()["LastName"].as_str().unwrap().to_string())
            .collect();
        let mut sorted = names.clone();
        sorted.sort_by_key(|n| std::cmp::Reverse(n.to_lowercase()));
        assert_eq!(names, sorted);
        let keys: Vec<&str> = page.records[0].0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["attributes", "Id", "LastName", "Account"], "selected order");

        let count = run(&mut org, "SELECT COUNT() FROM Contact", false, 2000, "62.0").expect("count");
        let live = org.table(SObject::Contact).live().count();
        assert_eq!((count.total_size, count.records.len()), (live, 0));
        let all = run(&mut org, "SELECT COUNT() FROM Contact", true, 2000, "62.0").expect("count all");
        assert!(all.total_size > live, "queryAll sees the recycle bin");
        let deleted = run(
            &mut org,
            "SELECT Id, IsDeleted FROM Contact WHERE IsDeleted = true",
            true,
            2000,
            "62.0",
        )
        .expect("deleted");
        assert_eq!(deleted.records[0].to_value()["IsDeleted"], true);
    }

    #[test]
    fn incremental_cursors_with_ties_and_paging() {
        let mut org = Org::empty("paging");
        seed::populate(&mut org);
        seed::generate_contacts(&mut org, 450, crate::generate::Timestamps::Shared);
        let page = run(
            &mut org,
            "SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp >= 2000-01-01T00:00:00Z ORDER BY \
             SystemModstamp, Id",
            false,
            200,
            "50.0",
        )
        .expect("query");
        assert!(page.total_size > 450 && !page.done);
        let next = page.next_records_url.clone().unwrap();
        assert!(
            next.starts_with("/services/data/v50.0/query/01g") && next.ends_with("-200"),
            "{next}"
        );
        let locator = next.rsplit('/').next().unwrap();
        assert!(!locator.contains('/'));
        let second = more(&mut org, locator, "50.0").expect("second page");
        assert_eq!(second.records.len(), 200);
        let third = more(
            &mut org,
            second.next_records_url.as_ref().unwrap().rsplit('/').next().unwrap(),
            "50.0",
        )
        .expect("third");
        assert!(third.done && third.next_records_url.is_none());
        let mut all = ids(&page);
        all.extend(ids(&second));
        all.extend(ids(&third));
        assert_eq!(all.len(), page.total_size);
        let mut unique = all.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), all.len(), "no row twice");
        assert_eq!(
            more(&mut org, "01gbogus-200", "50.0").unwrap_err().code,
            "INVALID_QUERY_LOCATOR"
        );
        assert_eq!(batch_size(Some("batchSize=500")), 500);
        assert_eq!(batch_size(None), 2000);
    }

    #[test]
    fn errors_look_like_salesforces() {
        let mut org = org();
        let err = run(&mut org, "SELECT Id, Nme FROM Contact", false, 2000, "62.0").unwrap_err();
        assert_eq!(err.code, "INVALID_FIELD");
        assert!(err.message.starts_with("\nSELECT Id, Nme FROM Contact\n           ^\nERROR at Row:1:Column:12\nNo such column 'Nme' on entity 'Contact'."), "{}", err.message);
        assert_eq!(
            run(&mut org, "SELECT Id FROM Contct", false, 2000, "62.0")
                .unwrap_err()
                .code,
            "INVALID_TYPE"
        );
        assert_eq!(
            run(&mut org, "SELECT Id FORM Contact", false, 2000, "62.0")
                .unwrap_err()
                .code,
            "MALFORMED_QUERY"
        );
        let err = run(
            &mut org,
            "SELECT Id FROM Contact WHERE LastName = 5",
            false,
            2000,
            "62.0",
        )
        .unwrap_err();
        assert!(err.message.ends_with(
            "value of filter criterion for field 'LastName' must be of type string and should be enclosed in quotes"
        ));
        let err = run(
            &mut org,
            "SELECT Id FROM Contact WHERE CreatedDate > '2024-01-01'",
            false,
            2000,
            "62.0",
        )
        .unwrap_err();
        assert!(
            err.message
                .ends_with("must be of type dateTime and should not be enclosed in quotes")
        );
        let err = run(&mut org, "SELECT Id FROM Contact WHERE Id = 'abc'", false, 2000, "62.0").unwrap_err();
        assert_eq!(err.code, "INVALID_QUERY_FILTER_OPERATOR");
        let err = run(
            &mut org,
            "SELECT Id FROM Contact WHERE Description = 'x'",
            false,
            2000,
            "62.0",
        )
        .unwrap_err();
        assert!(
            err.message
                .ends_with("field 'Description' can not be filtered in a query call")
        );
        let err = run(&mut org, "SELECT Id, id FROM Contact", false, 2000, "62.0").unwrap_err();
        assert!(err.message.ends_with("duplicate field selected: id"));
        let err = run(&mut org, "SELECT Id FROM Contact OFFSET 2001", false, 2000, "62.0").unwrap_err();
        assert_eq!(err.code, "NUMBER_OUTSIDE_VALID_RANGE");
    }

    #[test]
    fn comparisons_follow_soql() {
        let mut org = org();
        let user = org.admin_id();
        let mut tx = Tx::default();
        let body = serde_json::json!({ "LastName": "Zed", "Email": null, "Tandem_Id__c": "K-1" });
        let changes = parse_fields(SObject::Contact, body.as_object().unwrap(), &[]).unwrap();
        let seq = org.insert(&mut tx, SObject::Contact, &changes, &user).unwrap();
        let id = org.id_of(SObject::Contact, seq);
        let count = |org: &mut Org, soql: &str| run(org, soql, false, 2000, "62.0").expect(soql).total_size;
        assert_eq!(
            count(&mut org, "SELECT COUNT() FROM Contact WHERE lastname = 'ZED'"),
            1,
            "case-insensitive"
        );
        assert_eq!(
            count(
                &mut org,
                &format!("SELECT COUNT() FROM Contact WHERE Id = '{}'", &id[..15])
            ),
            1
        );
        assert_eq!(
            count(
                &mut org,
                &format!("SELECT COUNT() FROM Contact WHERE Id IN ('{id}', '{id}')")
            ),
            1
        );
        assert_eq!(
            count(
                &mut org,
                "SELECT COUNT() FROM Contact WHERE LastName = 'Zed' AND Email = null"
            ),
            1
        );
        assert_eq!(
            count(
                &mut org,
                "SELECT COUNT() FROM Contact WHERE LastName = 'Zed' AND Email != 'a@b.c'"
            ),
            1,
            "null is not equal to a value"
        );
        assert_eq!(
            count(
                &mut org,
                "SELECT COUNT() FROM Contact WHERE LastName = 'Zed' AND CreatedDate = TODAY"
            ),
            1
        );
        assert_eq!(
            count(
                &mut org,
                "SELECT COUNT() FROM Contact WHERE LastName = 'Zed' AND CreatedDate < YESTERDAY"
            ),
            0
        );
        assert_eq!(
            count(
                &mut org,
                "SELECT COUNT() FROM Contact WHERE (LastName = 'Zed' OR LastName = 'Nobody') AND NOT Tandem_Id__c = null"
            ),
            1
        );
        assert_eq!(
            count(&mut org, "SELECT COUNT() FROM Contact WHERE LastName = 'Zed' LIMIT 0"),
            0
        );
        assert!(like("100\\%", "100%") && !like("100\\%", "1000"));
        assert!(like("a_c%", "ABCdef") && !like("a_c", "abcd") && like("%", ""));
    }
}
