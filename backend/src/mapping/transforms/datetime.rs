//! Dates and times between formats and time zones, with daylight-saving gaps and overlaps handled
//! explicitly.

use std::fmt::Write as _;

use chrono::format::{Item, StrftimeItems};
use chrono::offset::LocalResult;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::Value;
use tandem_shared::api::mappings::FieldErrorCode;

use super::{Fail, Outcome};
use crate::mapping::value::show;

/// How a date or time is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimeFormat {
    Iso,
    EpochMs,
    EpochS,
    Date,
    Pattern {
        pattern: String,
        has_time: bool,
        has_offset: bool,
    },
}

impl TimeFormat {
    /// `iso`, `epoch_ms`, `epoch_s`, `date`, or a `strftime` pattern chrono understands.
    pub fn parse(spec: &str) -> Result<TimeFormat, String> {
        Ok(match spec {
            "iso" => TimeFormat::Iso,
            "epoch_ms" => TimeFormat::EpochMs,
            "epoch_s" => TimeFormat::EpochS,
            "date" => TimeFormat::Date,
            pattern => {
                let items: Vec<Item<'_>> = StrftimeItems::new(pattern).collect();
                if pattern.trim().is_empty() || items.iter().any(|item| matches!(item, Item::Error)) {
                    return Err(format!(
                        "{pattern:?} is not a date format (iso, epoch_ms, epoch_s, date or a strftime pattern)"
                    ));
                }
                let spec_chars = |chars: &[char]| chars.iter().any(|c| pattern.contains(&format!("%{c}")));
                TimeFormat::Pattern {
                    pattern: pattern.to_string(),
                    has_time: spec_chars(&['H', 'I', 'k', 'l', 'M', 'S', 'T', 'R', 'X', 'r', 'c', 's', '+']),
                    has_offset: spec_chars(&['z', '+', 's']) || pattern.contains("%:z"),
                }
            }
        })
    }
}

/// An IANA time zone name (`Europe/Berlin`, `UTC`).
pub fn time_zone(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>()
        .map_err(|_| format!("{name:?} is not a time zone (use an IANA name like Europe/Berlin)"))
}

/// A point in time, or a calendar date that belongs to no time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Moment {
    Instant(DateTime<Utc>),
    Date(NaiveDate),
}

#[derive(Clone, Debug)]
pub struct DatetimeStep {
    pub from: TimeFormat,
    pub to: TimeFormat,
    /// Where output is written.
    pub zone: Tz,
    /// How times without an offset are read.
    pub source_zone: Tz,
}

impl DatetimeStep {
    pub fn run(&self, value: Value) -> Outcome {
        let moment = self.read(&value).map_err(|why| {
            Fail::new(
                FieldErrorCode::InvalidDate,
                format!("{} is not a valid date or time: {why}", show(&value)),
            )
        })?;
        self.write(moment).map_err(|fail| {
            Fail::new(
                FieldErrorCode::InvalidDate,
                format!("{} cannot be written: {}", show(&value), fail.reason),
            )
        })
    }

    fn read(&self, value: &Value) -> Result<Moment, String> {
        match &self.from {
            TimeFormat::EpochMs => epoch(value, 1).map(Moment::Instant),
            TimeFormat::EpochS => epoch(value, 1000).map(Moment::Instant),
            other => {
                let Value::String(text) = value else {
                    return Err("expected text (use from: epoch_ms for numbers)".to_string());
                };
                self.read_text(other, text.trim())
            }
        }
    }

    fn read_text(&self, format: &TimeFormat, text: &str) -> Result<Moment, String> {
        match format {
            TimeFormat::Iso => self.read_iso(text),
            TimeFormat::Date => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Moment::Date)
                .map_err(|_| "expected a date like 2024-05-01".to_string()),
            TimeFormat::Pattern {
                pattern, has_offset, ..
            } => {
                if *has_offset {
                    return DateTime::parse_from_str(text, pattern)
                        .map(|t| Moment::Instant(t.to_utc()))
                        .map_err(|e| format!("it does not match {pattern:?} ({e})"));
                }
                match NaiveDateTime::parse_from_str(text, pattern) {
                    Ok(local) => self.local(local).map(Moment::Instant),
                    Err(_) => NaiveDate::parse_from_str(text, pattern)
                        .map(Moment::Date)
                        .map_err(|e| format!("it does not match {pattern:?} ({e})")),
                }
            }
            TimeFormat::EpochMs | TimeFormat::EpochS => Err("expected a number".to_string()),
        }
    }

    /// RFC 3339, Salesforce's `+0000` offsets, local times without an offset, and plain dates.
    fn read_iso(&self, text: &str) -> Result<Moment, String> {
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Ok(Moment::Instant(t.to_utc()));
        }
        if let Ok(t) = DateTime::<FixedOffset>::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z") {
            return Ok(Moment::Instant(t.to_utc()));
        }
        for pattern in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
            if let Ok(local) = NaiveDateTime::parse_from_str(text, pattern) {
                return self.local(local).map(Moment::Instant);
            }
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Moment::Date)
            .map_err(|_| "expected ISO 8601 like 2024-05-01T10:00:00Z or 2024-05-01".to_string())
    }

    /// A wall-clock time in the source zone. Skipped times (spring forward) fail; repeated times
    /// (fall back) are read as the earlier of the two.
    fn local(&self, local: NaiveDateTime) -> Result<DateTime<Utc>, String> {
        match self.source_zone.from_local_datetime(&local) {
            LocalResult::Single(t) => Ok(t.to_utc()),
            LocalResult::Ambiguous(earlier, _) => Ok(earlier.to_utc()),
            LocalResult::None => Err(format!(
                "{local} does not exist in {} (the clocks skip it for daylight saving time)",
                self.source_zone.name()
            )),
        }
    }

    fn write(&self, moment: Moment) -> Outcome {
        match (moment, &self.to) {
            (Moment::Date(date), TimeFormat::Date) => Ok(Value::String(date.format("%Y-%m-%d").to_string())),
            (Moment::Date(date), TimeFormat::Pattern { has_time: false, .. }) => {
                self.render(date.and_hms_opt(0, 0, 0).map(|t| t.and_utc().with_timezone(&Tz::UTC)))
            }
            (Moment::Date(date), _) => {
                let midnight = date
                    .and_hms_opt(0, 0, 0)
                    .ok_or_else(|| Fail::invalid_date("no midnight"))?;
                let instant = self.local(midnight).map_err(Fail::invalid_date)?;
                self.write(Moment::Instant(instant))
            }
            (Moment::Instant(instant), format) => {
                let zoned = instant.with_timezone(&self.zone);
                match format {
                    TimeFormat::Iso => Ok(Value::String(zoned.to_rfc3339_opts(SecondsFormat::AutoSi, true))),
                    TimeFormat::EpochMs => Ok(Value::from(instant.timestamp_millis())),
                    TimeFormat::EpochS => Ok(Value::from(instant.timestamp())),
                    TimeFormat::Date => Ok(Value::String(zoned.date_naive().format("%Y-%m-%d").to_string())),
                    TimeFormat::Pattern { .. } => self.render(Some(zoned)),
                }
            }
        }
    }

    fn render(&self, time: Option<DateTime<Tz>>) -> Outcome {
        let (Some(time), TimeFormat::Pattern { pattern, .. }) = (time, &self.to) else {
            return Err(Fail::invalid_date("no pattern"));
        };
        let mut out = String::new();
        write!(out, "{}", time.format(pattern)).map_err(|_| Fail::invalid_date(format!("cannot write {pattern:?}")))?;
        Ok(Value::String(out))
    }
}

/// Whether `text` is a date and time a CRM reads: RFC 3339, Salesforce's `+0000` offsets, or a
/// local time without offset.
pub fn is_datetime_text(text: &str) -> bool {
    DateTime::parse_from_rfc3339(text).is_ok()
        || DateTime::<FixedOffset>::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z").is_ok()
        || NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
}

/// Whether `text` is a plain date, `2024-05-01`.
pub fn is_date_text(text: &str) -> bool {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

/// Seconds or milliseconds since 1970 (`unit_ms` per unit) from a JSON integer or integer text.
fn epoch(value: &Value, unit_ms: i64) -> Result<DateTime<Utc>, String> {
    let units = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .ok_or_else(|| "expected a whole number of seconds or milliseconds since 1970".to_string())?;
    units
        .checked_mul(unit_ms)
        .and_then(DateTime::from_timestamp_millis)
        .ok_or_else(|| "it is out of range".to_string())
}

impl Fail {
    fn invalid_date(why: impl Into<String>) -> Fail {
        Fail::new(FieldErrorCode::InvalidDate, why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn step(from: &str, to: &str, zone: &str, source_zone: Option<&str>) -> DatetimeStep {
        DatetimeStep {
            from: TimeFormat::parse(from).expect("from"),
            to: TimeFormat::parse(to).expect("to"),
            zone: time_zone(zone).expect("zone"),
            source_zone: time_zone(source_zone.unwrap_or(zone)).expect("source zone"),
        }
    }

    fn run(step: &DatetimeStep, value: Value) -> Value {
        step.run(value.clone())
            .unwrap_or_else(|f| panic!("{value}: {}", f.reason))
    }

    #[test]
    fn converts_utc_to_berlin_across_daylight_saving() {
        let s = step("iso", "iso", "Europe/Berlin", Some("UTC"));
        assert_eq!(
            run(&s, json!("2024-01-15T10:00:00Z")),
            json!("2024-01-15T11:00:00+01:00")
        );
        assert_eq!(
            run(&s, json!("2024-07-15T10:00:00Z")),
            json!("2024-07-15T12:00:00+02:00")
        );
        // The last instant before and the first after the spring change (2024-03-31 01:00 UTC).
        assert_eq!(
            run(&s, json!("2024-03-31T00:59:59Z")),
            json!("2024-03-31T01:59:59+01:00")
        );
        assert_eq!(
            run(&s, json!("2024-03-31T01:00:00Z")),
            json!("2024-03-31T03:00:00+02:00")
        );
        // Salesforce writes offsets without a colon; fractions survive.
        assert_eq!(
            run(&s, json!("2024-07-15T10:00:00.250+0000")),
            json!("2024-07-15T12:00:00.250+02:00")
        );
    }

    #[test]
    fn reads_local_times_in_the_source_zone() {
        let s = step("%d.%m.%Y %H:%M", "iso", "UTC", Some("Europe/Berlin"));
        assert_eq!(run(&s, json!("15.01.2024 09:30")), json!("2024-01-15T08:30:00Z"));
        assert_eq!(run(&s, json!("15.07.2024 09:30")), json!("2024-07-15T07:30:00Z"));
        let iso = step("iso", "iso", "UTC", Some("America/New_York"));
        assert_eq!(run(&iso, json!("2024-07-04T12:00:00")), json!("2024-07-04T16:00:00Z"));
    }

    #[test]
    fn a_skipped_local_time_fails_and_a_repeated_one_is_the_earlier() {
        let s = step("iso", "iso", "UTC", Some("Europe/Berlin"));
        let fail = s.run(json!("2024-03-31T02:30:00")).expect_err("gap");
        assert_eq!(fail.code, FieldErrorCode::InvalidDate);
        assert!(
            fail.reason.contains("does not exist in Europe/Berlin"),
            "{}",
            fail.reason
        );
        assert_eq!(run(&s, json!("2024-10-27T02:30:00")), json!("2024-10-27T00:30:00Z"));
        assert_eq!(run(&s, json!("2024-10-27T03:30:00")), json!("2024-10-27T02:30:00Z"));
    }

    #[test]
    fn epochs_both_ways() {
        let to_ms = step("iso", "epoch_ms", "UTC", None);
        assert_eq!(run(&to_ms, json!("2024-05-01T10:00:00Z")), json!(1_714_557_600_000_i64));
        // A plain date becomes midnight in the source zone: HubSpot wants midnight UTC.
        assert_eq!(run(&to_ms, json!("2024-05-01")), json!(1_714_521_600_000_i64));
        let from_ms = step("epoch_ms", "iso", "Europe/Berlin", None);
        assert_eq!(
            run(&from_ms, json!(1_714_557_600_000_i64)),
            json!("2024-05-01T12:00:00+02:00")
        );
        assert_eq!(
            run(&from_ms, json!("1714557600000")),
            json!("2024-05-01T12:00:00+02:00")
        );
        let from_s = step("epoch_s", "epoch_ms", "UTC", None);
        assert_eq!(run(&from_s, json!(1_714_557_600)), json!(1_714_557_600_000_i64));
        assert!(from_ms.run(json!("soon")).is_err());
        assert!(from_ms.run(json!(1.5)).is_err());
    }

    #[test]
    fn dates_stay_dates_and_instants_take_the_zones_date() {
        let s = step("iso", "date", "Europe/Berlin", Some("UTC"));
        assert_eq!(run(&s, json!("2024-05-01")), json!("2024-05-01"));
        // 23:30 UTC is already the next day in Berlin.
        assert_eq!(run(&s, json!("2024-05-01T23:30:00Z")), json!("2024-05-02"));
        let german = step("date", "%d.%m.%Y", "Europe/Berlin", None);
        assert_eq!(run(&german, json!("2024-05-01")), json!("01.05.2024"));
        let back = step("%d.%m.%Y", "date", "UTC", None);
        assert_eq!(run(&back, json!("01.05.2024")), json!("2024-05-01"));
        assert!(back.run(json!("2024-05-01")).is_err());
        assert!(step("date", "date", "UTC", None).run(json!("2024-02-30")).is_err());
    }

    #[test]
    fn patterns_with_offsets_and_times() {
        let s = step("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M %Z", "Asia/Tokyo", None);
        assert_eq!(
            run(&s, json!("2024-05-01 10:00:00 +0200")),
            json!("2024-05-01 17:00 JST")
        );
    }

    #[test]
    fn rejects_what_is_not_a_time() {
        let s = step("iso", "iso", "UTC", None);
        for bad in [
            json!("yesterday"),
            json!("2024-13-01"),
            json!(1_714_557_600_000_i64),
            json!(true),
        ] {
            let fail = s.run(bad.clone()).expect_err("invalid");
            assert_eq!(fail.code, FieldErrorCode::InvalidDate, "{bad}");
        }
    }

    #[test]
    fn checks_formats_and_zones() {
        assert_eq!(TimeFormat::parse("iso"), Ok(TimeFormat::Iso));
        assert!(TimeFormat::parse("%Q").is_err());
        assert!(TimeFormat::parse("").is_err());
        assert!(matches!(
            TimeFormat::parse("%d.%m.%Y"),
            Ok(TimeFormat::Pattern { has_time: false, .. })
        ));
        assert!(matches!(
            TimeFormat::parse("%d.%m.%Y %H:%M"),
            Ok(TimeFormat::Pattern { has_time: true, .. })
        ));
        assert!(time_zone("Europe/Berlin").is_ok());
        assert!(time_zone("Mars/Olympus").is_err());
    }
}
