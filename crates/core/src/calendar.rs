//! Working-day calendar: weekends, national holidays and collective leave as data, a time
//! zone, and the date arithmetic every deadline is built on.
//!
//! Semantics (all on civil dates in the calendar's time zone):
//! - a *working day* is a day that is neither a weekend day nor a listed holiday
//!   (national holiday or collective leave);
//! - [`Calendar::add_working_days`]`(d, n)` is the n-th working day strictly after `d`
//!   (`d` itself never counts, whether or not it is a working day); `n = 0` gives
//!   [`Calendar::working_day_on_or_after`]`(d)`;
//! - [`Calendar::subtract_working_days`]`(d, n)` is the n-th working day strictly before `d`;
//! - something *due on* day `d` is due until the end of that day: its due instant is
//!   [`Calendar::end_of_day`]`(d)`, the first instant of the following day, and it is
//!   overdue from that instant on.
//!
//! Years that no calendar file covers count weekends only; [`Calendar::covers`] tells
//! callers when to warn about that.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// Why a day is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolidayKind {
    /// *Libur nasional* — a national public holiday.
    National,
    /// *Cuti bersama* — collective leave for civil servants.
    CollectiveLeave,
}

/// One listed day off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    pub date: Date,
    pub kind: HolidayKind,
    pub name: String,
    /// `false` when the date was announced as provisional (e.g. waiting for a moon sighting).
    pub confirmed: bool,
}

/// Error building a calendar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("every day of the week is a weekend day, so no day could ever be a working day")]
    NoWorkingWeekday,
    #[error("{date} is listed twice (as `{first}` and as `{second}`)")]
    DuplicateHoliday {
        date: Date,
        first: String,
        second: String,
    },
}

/// A working-day calendar in one time zone.
#[derive(Debug, Clone)]
pub struct Calendar {
    id: String,
    time_zone: TimeZone,
    /// Indexed by days from Monday.
    weekend: [bool; 7],
    holidays: BTreeMap<Date, Holiday>,
    covered_years: BTreeSet<i16>,
}

impl Calendar {
    /// A calendar with a Saturday–Sunday weekend and no holidays yet.
    pub fn new(id: impl Into<String>, time_zone: TimeZone) -> Self {
        Self {
            id: id.into(),
            time_zone,
            weekend: [false, false, false, false, false, true, true],
            holidays: BTreeMap::new(),
            covered_years: BTreeSet::new(),
        }
    }

    /// Replaces the weekend days.
    pub fn with_weekend(
        mut self,
        weekend: impl IntoIterator<Item = Weekday>,
    ) -> Result<Self, Error> {
        self.weekend = [false; 7];
        for day in weekend {
            self.weekend[weekday_index(day)] = true;
        }
        if self.weekend.iter().all(|off| *off) {
            return Err(Error::NoWorkingWeekday);
        }
        Ok(self)
    }

    /// Lists a day off. A date may be listed once.
    pub fn add_holiday(&mut self, holiday: Holiday) -> Result<(), Error> {
        if let Some(existing) = self.holidays.get(&holiday.date) {
            return Err(Error::DuplicateHoliday {
                date: holiday.date,
                first: existing.name.clone(),
                second: holiday.name,
            });
        }
        self.holidays.insert(holiday.date, holiday);
        Ok(())
    }

    /// Records that the holidays of `year` are listed completely.
    pub fn mark_year_covered(&mut self, year: i16) {
        self.covered_years.insert(year);
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }

    /// Whether the holidays of `year` are known (otherwise only weekends count).
    pub fn covers(&self, year: i16) -> bool {
        self.covered_years.contains(&year)
    }

    pub fn covered_years(&self) -> impl Iterator<Item = i16> + '_ {
        self.covered_years.iter().copied()
    }

    pub fn holidays(&self) -> impl Iterator<Item = &Holiday> {
        self.holidays.values()
    }

    pub fn holiday(&self, date: Date) -> Option<&Holiday> {
        self.holidays.get(&date)
    }

    pub fn is_weekend(&self, date: Date) -> bool {
        self.weekend[weekday_index(date.weekday())]
    }

    pub fn is_working_day(&self, date: Date) -> bool {
        !self.is_weekend(date) && !self.holidays.contains_key(&date)
    }

    /// `date` if it is a working day, otherwise the next working day.
    /// `None` only at the edge of the supported date range (year 9999).
    pub fn working_day_on_or_after(&self, mut date: Date) -> Option<Date> {
        // Terminates: at least one weekday is not a weekend and holidays are finite.
        while !self.is_working_day(date) {
            date = date.tomorrow().ok()?;
        }
        Some(date)
    }

    /// `date` if it is a working day, otherwise the working day before it.
    /// `None` only at the edge of the supported date range (year 1).
    pub fn working_day_on_or_before(&self, mut date: Date) -> Option<Date> {
        while !self.is_working_day(date) {
            date = date.yesterday().ok()?;
        }
        Some(date)
    }

    /// The `n`-th working day strictly after `date`; `n = 0` is
    /// [`working_day_on_or_after`](Self::working_day_on_or_after).
    pub fn add_working_days(&self, date: Date, n: u32) -> Option<Date> {
        if n == 0 {
            return self.working_day_on_or_after(date);
        }
        let mut current = date;
        let mut left = n;
        while left > 0 {
            current = current.tomorrow().ok()?;
            if self.is_working_day(current) {
                left -= 1;
            }
        }
        Some(current)
    }

    /// The `n`-th working day strictly before `date`; `n = 0` gives `date` itself when it is
    /// a working day, otherwise the working day before it.
    pub fn subtract_working_days(&self, date: Date, n: u32) -> Option<Date> {
        let mut current = date;
        if n == 0 {
            while !self.is_working_day(current) {
                current = current.yesterday().ok()?;
            }
            return Some(current);
        }
        let mut left = n;
        while left > 0 {
            current = current.yesterday().ok()?;
            if self.is_working_day(current) {
                left -= 1;
            }
        }
        Some(current)
    }

    /// Working days in the half-open range `(from, to]`; negative when `to < from`.
    pub fn working_days_between(&self, from: Date, to: Date) -> i64 {
        let (low, high, sign) = if from <= to {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        let mut count = 0;
        let mut current = low;
        while current < high {
            match current.tomorrow() {
                Ok(next) => current = next,
                Err(_) => break,
            }
            if self.is_working_day(current) {
                count += 1;
            }
        }
        sign * count
    }

    /// The civil date of `instant` in this calendar's time zone.
    pub fn date_of(&self, instant: Timestamp) -> Date {
        self.time_zone.to_datetime(instant).date()
    }

    /// The instant at which `date` shows `time` on local clocks (the earlier one when a
    /// clock change makes it ambiguous, the later side of a gap).
    pub fn instant_at(&self, date: Date, time: Time) -> Option<Timestamp> {
        self.time_zone
            .to_ambiguous_timestamp(date.to_datetime(time))
            .compatible()
            .ok()
    }

    /// The first instant of `date`.
    pub fn start_of_day(&self, date: Date) -> Option<Timestamp> {
        self.instant_at(date, Time::midnight())
    }

    /// The end of `date`: the first instant of the following day. Something due on `date`
    /// becomes overdue at this instant.
    pub fn end_of_day(&self, date: Date) -> Option<Timestamp> {
        self.start_of_day(date.tomorrow().ok()?)
    }
}

fn weekday_index(day: Weekday) -> usize {
    usize::try_from(day.to_monday_zero_offset()).unwrap_or(0)
}

#[cfg(test)]
pub(crate) use tests::indonesia_2025;

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    /// The 2025 Indonesian days off from the domain notes (national holidays and
    /// collective leave).
    pub(crate) fn indonesia_2025() -> Calendar {
        let mut calendar = Calendar::new("indonesia", TimeZone::fixed(jiff::tz::offset(7)));
        let days: &[(i8, i8, HolidayKind)] = &[
            (1, 1, HolidayKind::National),
            (1, 27, HolidayKind::National),
            (1, 28, HolidayKind::CollectiveLeave),
            (1, 29, HolidayKind::National),
            (3, 28, HolidayKind::CollectiveLeave),
            (3, 29, HolidayKind::National),
            (3, 31, HolidayKind::National),
            (4, 1, HolidayKind::National),
            (4, 2, HolidayKind::CollectiveLeave),
            (4, 3, HolidayKind::CollectiveLeave),
            (4, 4, HolidayKind::CollectiveLeave),
            (4, 7, HolidayKind::CollectiveLeave),
            (4, 18, HolidayKind::National),
            (4, 20, HolidayKind::National),
            (5, 1, HolidayKind::National),
            (5, 12, HolidayKind::National),
            (5, 13, HolidayKind::CollectiveLeave),
            (5, 29, HolidayKind::National),
            (5, 30, HolidayKind::CollectiveLeave),
            (6, 1, HolidayKind::National),
            (6, 6, HolidayKind::National),
            (6, 9, HolidayKind::CollectiveLeave),
            (6, 27, HolidayKind::National),
            (8, 17, HolidayKind::National),
            (8, 18, HolidayKind::CollectiveLeave),
            (9, 5, HolidayKind::National),
            (12, 25, HolidayKind::National),
            (12, 26, HolidayKind::CollectiveLeave),
        ];
        for &(month, day, kind) in days {
            calendar
                .add_holiday(Holiday {
                    date: date(2025, month, day),
                    kind,
                    name: format!("libur {month}-{day}"),
                    confirmed: true,
                })
                .unwrap();
        }
        calendar.mark_year_covered(2025);
        calendar
    }

    #[test]
    fn five_working_days_after_24_march_2025_skip_the_idul_fitri_break() {
        let calendar = indonesia_2025();
        // Mon 24 Mar → 25, 26, 27 (3), then 28 Mar – 7 Apr are all off, → 8 (4), 9 (5).
        assert_eq!(
            calendar.add_working_days(date(2025, 3, 24), 5),
            Some(date(2025, 4, 9))
        );
        for day in 28..=31 {
            assert!(!calendar.is_working_day(date(2025, 3, day)));
        }
        for day in 1..=7 {
            assert!(!calendar.is_working_day(date(2025, 4, day)), "April {day}");
        }
        assert!(calendar.is_working_day(date(2025, 4, 8)));
    }

    #[test]
    fn zero_working_days_means_the_day_itself_or_the_next_working_day() {
        let calendar = indonesia_2025();
        assert_eq!(
            calendar.add_working_days(date(2025, 3, 27), 0),
            Some(date(2025, 3, 27))
        );
        assert_eq!(
            calendar.add_working_days(date(2025, 3, 28), 0),
            Some(date(2025, 4, 8))
        );
    }

    #[test]
    fn subtracting_working_days_skips_backwards_over_holidays() {
        let calendar = indonesia_2025();
        assert_eq!(
            calendar.subtract_working_days(date(2025, 4, 8), 1),
            Some(date(2025, 3, 27))
        );
        assert_eq!(
            calendar.subtract_working_days(date(2025, 4, 6), 0),
            Some(date(2025, 3, 27))
        );
    }

    #[test]
    fn independence_day_collective_leave_added_in_august_2025_counts() {
        let calendar = indonesia_2025();
        // Fri 15 Aug + 1 working day: 16/17 weekend+holiday, 18 collective leave → 19 Aug.
        assert_eq!(
            calendar.add_working_days(date(2025, 8, 15), 1),
            Some(date(2025, 8, 19))
        );
    }

    #[test]
    fn counting_working_days_between_dates() {
        let calendar = indonesia_2025();
        assert_eq!(
            calendar.working_days_between(date(2025, 3, 24), date(2025, 4, 9)),
            5
        );
        assert_eq!(
            calendar.working_days_between(date(2025, 4, 9), date(2025, 3, 24)),
            -5
        );
        assert_eq!(
            calendar.working_days_between(date(2025, 4, 9), date(2025, 4, 9)),
            0
        );
    }

    #[test]
    fn end_of_day_is_midnight_wib_of_the_next_day() {
        let calendar = indonesia_2025();
        let end = calendar.end_of_day(date(2024, 11, 30)).unwrap();
        assert_eq!(end.to_string(), "2024-11-30T17:00:00Z");
        assert_eq!(calendar.date_of(end), date(2024, 12, 1));
    }

    #[test]
    fn a_week_without_working_days_is_refused_and_duplicates_are_named() {
        let all = [
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
            Weekday::Saturday,
            Weekday::Sunday,
        ];
        let refused = Calendar::new("x", TimeZone::UTC).with_weekend(all);
        assert_eq!(refused.unwrap_err(), Error::NoWorkingWeekday);

        let mut calendar = indonesia_2025();
        let err = calendar
            .add_holiday(Holiday {
                date: date(2025, 1, 1),
                kind: HolidayKind::National,
                name: "again".into(),
                confirmed: true,
            })
            .unwrap_err();
        assert!(err.to_string().contains("2025-01-01"), "{err}");
    }
}
