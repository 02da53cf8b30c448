//! Durations of the workflow language: `10 working days`, `3 days`, `2 weeks`, `1 month`
//! (Indonesian also accepted: `10 hari kerja`, `3 hari`, `2 minggu`, `1 bulan`).
//!
//! Month arithmetic clamps to the end of the month: 31 January + 1 month = 28 (or 29)
//! February.

use std::fmt;
use std::str::FromStr;

use jiff::ToSpan;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::Calendar;

/// A length of time counted on civil dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Duration {
    Days(u32),
    WorkingDays(u32),
    Weeks(u32),
    Months(u32),
}

/// Why a duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error(
        "`{text}` is not a duration; write a whole number and a unit: `10 working days` (also `10 workdays`, `10 hari kerja`), `3 days` (`3 hari`), `2 weeks` (`2 minggu`, `2 pekan`) or `1 month` (`1 bulan`)"
    )]
    Unreadable { text: String },
    #[error(
        "`{text}` is not a duration: at most {MAX_COUNT} of a unit (about 27 years in days) is accepted, so this is surely a typo"
    )]
    TooLong { text: String },
}

/// The largest count accepted, about 27 years in days: anything larger is a typo.
pub const MAX_COUNT: u32 = 10_000;

impl Duration {
    /// `date` moved forward by this duration; working days follow
    /// [`Calendar::add_working_days`].
    pub fn add_to(self, date: Date, calendar: &Calendar) -> Option<Date> {
        match self {
            Duration::WorkingDays(n) => calendar.add_working_days(date, n),
            Duration::Days(n) => date.checked_add(i64::from(n).days()).ok(),
            Duration::Weeks(n) => date.checked_add(i64::from(n).weeks()).ok(),
            Duration::Months(n) => date.checked_add(i64::from(n).months()).ok(),
        }
    }

    /// `date` moved back by this duration; working days follow
    /// [`Calendar::subtract_working_days`].
    pub fn subtract_from(self, date: Date, calendar: &Calendar) -> Option<Date> {
        match self {
            Duration::WorkingDays(n) => calendar.subtract_working_days(date, n),
            Duration::Days(n) => date.checked_sub(i64::from(n).days()).ok(),
            Duration::Weeks(n) => date.checked_sub(i64::from(n).weeks()).ok(),
            Duration::Months(n) => date.checked_sub(i64::from(n).months()).ok(),
        }
    }

    /// The shortest and longest span in calendar days this duration can cover. Working days
    /// are bounded by weekends only (a long holiday break makes them longer still, so the
    /// upper bound is loose); static checks use these bounds to compare durations.
    pub fn calendar_days_bounds(self) -> (u64, u64) {
        match self {
            Duration::Days(n) => (n.into(), n.into()),
            Duration::WorkingDays(n) => {
                let n = u64::from(n);
                (n, n * 7 / 5 + 30)
            }
            Duration::Weeks(n) => (u64::from(n) * 7, u64::from(n) * 7),
            Duration::Months(n) => (u64::from(n) * 28, u64::from(n) * 31),
        }
    }

    pub fn is_zero(self) -> bool {
        matches!(
            self,
            Duration::Days(0) | Duration::WorkingDays(0) | Duration::Weeks(0) | Duration::Months(0)
        )
    }
}

impl FromStr for Duration {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || ParseError::Unreadable {
            text: text.to_owned(),
        };
        let mut words = text.split_whitespace();
        let count: u64 = words
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or_else(error)?;
        let count = u32::try_from(count)
            .ok()
            .filter(|n| *n <= MAX_COUNT)
            .ok_or_else(|| ParseError::TooLong {
                text: text.to_owned(),
            })?;
        let unit: Vec<String> = words.map(str::to_lowercase).collect();
        let unit: Vec<&str> = unit.iter().map(String::as_str).collect();
        let duration = match unit.as_slice() {
            ["working", "day" | "days"] | ["workday" | "workdays"] | ["hari", "kerja"] => {
                Duration::WorkingDays(count)
            }
            ["day" | "days"] | ["calendar", "day" | "days"] | ["hari"] => Duration::Days(count),
            ["week" | "weeks"] | ["minggu"] | ["pekan"] => Duration::Weeks(count),
            ["month" | "months"] | ["bulan"] => Duration::Months(count),
            _ => return Err(error()),
        };
        Ok(duration)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (n, one, many) = match *self {
            Duration::Days(n) => (n, "day", "days"),
            Duration::WorkingDays(n) => (n, "working day", "working days"),
            Duration::Weeks(n) => (n, "week", "weeks"),
            Duration::Months(n) => (n, "month", "months"),
        };
        write!(f, "{n} {}", if n == 1 { one } else { many })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::indonesia_2025;
    use jiff::civil::date;

    #[test]
    fn reads_english_and_indonesian_units() {
        let cases = [
            ("10 working days", Duration::WorkingDays(10)),
            ("1 working day", Duration::WorkingDays(1)),
            ("15 hari kerja", Duration::WorkingDays(15)),
            ("3 days", Duration::Days(3)),
            ("3 calendar days", Duration::Days(3)),
            ("7 hari", Duration::Days(7)),
            ("2 weeks", Duration::Weeks(2)),
            ("1 month", Duration::Months(1)),
            ("2 bulan", Duration::Months(2)),
            ("  4   Working   Days ", Duration::WorkingDays(4)),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<Duration>(), Ok(expected), "{text}");
        }
    }

    #[test]
    fn refuses_malformed_durations() {
        for text in [
            "",
            "ten days",
            "10",
            "-3 days",
            "3 fortnights",
            "1.5 days",
            "3 days later",
        ] {
            let err = text.parse::<Duration>().unwrap_err();
            assert!(
                err.to_string()
                    .contains("`10 working days` (also `10 workdays`, `10 hari kerja`)"),
                "{text}: {err}"
            );
        }
        for text in ["10001 days", "99999999999 hari kerja"] {
            let err = text.parse::<Duration>().unwrap_err();
            assert!(
                err.to_string().contains("at most 10000 of a unit"),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn display_round_trips() {
        for d in [
            Duration::Days(1),
            Duration::WorkingDays(10),
            Duration::Weeks(2),
            Duration::Months(1),
        ] {
            assert_eq!(d.to_string().parse::<Duration>(), Ok(d));
        }
    }

    #[test]
    fn months_clamp_to_the_end_of_the_month() {
        let calendar = indonesia_2025();
        assert_eq!(
            Duration::Months(1).add_to(date(2025, 1, 31), &calendar),
            Some(date(2025, 2, 28))
        );
        assert_eq!(
            Duration::Months(1).subtract_from(date(2025, 3, 31), &calendar),
            Some(date(2025, 2, 28))
        );
    }
}
