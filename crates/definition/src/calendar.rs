//! Calendar files → core [`Calendar`]s. One file lists the days off of one year; files
//! naming the same `calendar` are merged.

use std::collections::BTreeMap;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use swakelola_core::{Calendar, Holiday, HolidayKind};

use crate::diagnostic::{Code, Diagnostic};
use crate::parse::parse_reporting_all;
use crate::raw;

/// A calendar file's name and text.
#[derive(Debug, Clone)]
pub struct CalendarFile {
    pub file: String,
    pub text: String,
}

/// Parses and checks calendar files, merging those of one calendar id. Calendars with
/// errors are left out.
pub fn load_calendars(files: &[CalendarFile]) -> (BTreeMap<String, Calendar>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut calendars: BTreeMap<String, (Calendar, String, Vec<raw::Weekday>)> = BTreeMap::new();
    let mut broken: Vec<String> = Vec::new();
    for file in files {
        let errors_before = error_count(&diagnostics);
        let (parsed, structural) = parse_reporting_all::<raw::CalendarYear>(&file.file, &file.text);
        diagnostics.extend(structural);
        let Some(parsed) = parsed else { continue };
        let mut report =
            |at: serde_saphyr::Location, code: Code, message: String, hint: Option<String>| {
                diagnostics.push(Diagnostic {
                    severity: code.severity(),
                    code,
                    file: file.file.clone(),
                    line: at.line(),
                    column: at.column(),
                    message,
                    hint,
                });
            };
        let id = parsed.calendar.value.clone();
        let zone_name = parsed.time_zone.value.clone();
        let time_zone = match TimeZone::get(&zone_name) {
            Ok(zone) => zone,
            Err(_) => {
                report(
                    parsed.time_zone.referenced,
                    Code::E053,
                    format!("unknown time zone `{zone_name}`"),
                    Some("use an IANA name such as `Asia/Jakarta` (WIB), `Asia/Makassar` (WITA) or `Asia/Jayapura` (WIT)".into()),
                );
                broken.push(id);
                continue;
            }
        };
        let weekend: Vec<Weekday> = parsed.weekend.value.iter().map(|d| weekday(*d)).collect();
        let entry = match calendars.get_mut(&id) {
            Some(entry) => {
                if entry.1 != zone_name || entry.2 != parsed.weekend.value {
                    report(
                        parsed.time_zone.referenced,
                        Code::E054,
                        format!(
                            "calendar `{id}` is declared with another time zone or weekend in another file"
                        ),
                        Some(
                            "give every file of one calendar the same `time_zone` and `weekend`"
                                .into(),
                        ),
                    );
                }
                entry
            }
            None => {
                let calendar = match Calendar::new(id.clone(), time_zone).with_weekend(weekend) {
                    Ok(calendar) => calendar,
                    Err(error) => {
                        report(
                            parsed.weekend.referenced,
                            Code::E055,
                            error.to_string(),
                            Some("list only the days offices close every week".into()),
                        );
                        broken.push(id);
                        continue;
                    }
                };
                calendars.entry(id.clone()).or_insert((
                    calendar,
                    zone_name,
                    parsed.weekend.value.clone(),
                ))
            }
        };
        let year = parsed.year.value;
        if entry.0.covers(year) {
            report(
                parsed.year.referenced,
                Code::E054,
                format!("the year {year} of calendar `{id}` is listed by more than one file"),
                Some("keep one file per calendar and year".into()),
            );
        }
        entry.0.mark_year_covered(year);
        for holiday in &parsed.holidays {
            let text = &holiday.value.date;
            let Some(date) = text
                .value
                .trim()
                .parse::<Date>()
                .ok()
                .filter(|_| text.value.trim().len() == 10)
            else {
                report(
                    text.referenced,
                    Code::E031,
                    format!("`{}` is not a date", text.value),
                    Some("write it as YYYY-MM-DD, e.g. 2025-03-31".into()),
                );
                continue;
            };
            if date.year() != year {
                report(
                    text.referenced,
                    Code::E050,
                    format!("{date} is not in {year}, the year this file lists"),
                    Some(format!("move it to the file for {}", date.year())),
                );
                continue;
            }
            let kind = match holiday.value.kind {
                raw::HolidayKind::National => HolidayKind::National,
                raw::HolidayKind::CollectiveLeave => HolidayKind::CollectiveLeave,
            };
            if !holiday.value.confirmed {
                report(
                    text.referenced,
                    Code::W002,
                    format!("{date} ({}) is not confirmed yet", holiday.value.name),
                    Some(
                        "check the latest SKB 3 Menteri and set `confirmed: true` once it is"
                            .into(),
                    ),
                );
            }
            if let Err(error) = entry.0.add_holiday(Holiday {
                date,
                kind,
                name: holiday.value.name.clone(),
                confirmed: holiday.value.confirmed,
            }) {
                report(
                    text.referenced,
                    Code::E052,
                    error.to_string(),
                    Some("list each day once".into()),
                );
            }
        }
        if error_count(&diagnostics) > errors_before {
            broken.push(id);
        }
    }
    let calendars = calendars
        .into_iter()
        .filter(|(id, _)| !broken.contains(id))
        .map(|(id, (calendar, _, _))| (id, calendar))
        .collect();
    (calendars, diagnostics)
}

fn error_count(diagnostics: &[Diagnostic]) -> usize {
    diagnostics.iter().filter(|d| d.is_error()).count()
}

fn weekday(day: raw::Weekday) -> Weekday {
    match day {
        raw::Weekday::Monday => Weekday::Monday,
        raw::Weekday::Tuesday => Weekday::Tuesday,
        raw::Weekday::Wednesday => Weekday::Wednesday,
        raw::Weekday::Thursday => Weekday::Thursday,
        raw::Weekday::Friday => Weekday::Friday,
        raw::Weekday::Saturday => Weekday::Saturday,
        raw::Weekday::Sunday => Weekday::Sunday,
    }
}
