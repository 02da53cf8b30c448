//! Typed case fields: the types a workflow may declare and the values a case holds.
//!
//! Money is always integer rupiah (`i64`), never a float.

use std::cmp::Ordering;
use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::format;

/// The type of a case field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    Integer,
    Date,
    /// An amount of money in whole rupiah.
    Rupiah,
    /// A fiscal year (*tahun anggaran*), equal to the calendar year in Indonesia.
    FiscalYear,
    /// One of a fixed list of values.
    Enum(Vec<String>),
}

/// A value held by a case field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldValue {
    Text(String),
    Integer(i64),
    Date(Date),
    Rupiah(i64),
    FiscalYear(i16),
    Enum(String),
}

/// Limits that keep field values sane.
pub const MAX_TEXT_CHARS: usize = 10_000;
pub const FISCAL_YEARS: std::ops::RangeInclusive<i16> = 2000..=2100;

/// Why a value does not fit its field type; the message says what would.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("a text value must not be empty")]
    EmptyText,
    #[error("a text value may have at most {MAX_TEXT_CHARS} characters")]
    TextTooLong,
    #[error("`{0}` is not a whole number")]
    NotAnInteger(String),
    #[error("`{0}` is not a date; write it as YYYY-MM-DD, e.g. 2025-03-24")]
    NotADate(String),
    #[error(
        "`{0}` is not an amount in whole rupiah; write e.g. 34500000, 34.500.000, Rp34.500.000 or Rp34.500.000,00 (no sen other than ,00, not negative)"
    )]
    NotRupiah(String),
    #[error("`{0}` is not a fiscal year between 2000 and 2100")]
    NotAFiscalYear(String),
    #[error("`{value}` is not one of: {}", .allowed.join(", "))]
    NotInEnum { value: String, allowed: Vec<String> },
}

impl FieldType {
    /// Reads a value of this type from text as typed by a person.
    pub fn parse(&self, text: &str) -> Result<FieldValue, ValueError> {
        let trimmed = text.trim();
        match self {
            FieldType::Text => {
                if trimmed.is_empty() {
                    Err(ValueError::EmptyText)
                } else if text.chars().count() > MAX_TEXT_CHARS {
                    Err(ValueError::TextTooLong)
                } else {
                    Ok(FieldValue::Text(trimmed.to_owned()))
                }
            }
            FieldType::Integer => trimmed
                .parse()
                .map(FieldValue::Integer)
                .map_err(|_| ValueError::NotAnInteger(text.to_owned())),
            FieldType::Date => trimmed
                .parse::<Date>()
                .ok()
                .filter(|_| trimmed.len() == 10)
                .map(FieldValue::Date)
                .ok_or_else(|| ValueError::NotADate(text.to_owned())),
            FieldType::Rupiah => parse_rupiah(trimmed)
                .map(FieldValue::Rupiah)
                .ok_or_else(|| ValueError::NotRupiah(text.to_owned())),
            FieldType::FiscalYear => trimmed
                .parse::<i16>()
                .ok()
                .filter(|year| FISCAL_YEARS.contains(year))
                .map(FieldValue::FiscalYear)
                .ok_or_else(|| ValueError::NotAFiscalYear(text.to_owned())),
            FieldType::Enum(allowed) => {
                if allowed.iter().any(|a| a == trimmed) {
                    Ok(FieldValue::Enum(trimmed.to_owned()))
                } else {
                    Err(ValueError::NotInEnum {
                        value: text.to_owned(),
                        allowed: allowed.clone(),
                    })
                }
            }
        }
    }

    /// Whether `value` is of this type (and, for enums, one of the allowed values).
    pub fn admits(&self, value: &FieldValue) -> bool {
        match (self, value) {
            (FieldType::Enum(allowed), FieldValue::Enum(v)) => allowed.contains(v),
            (FieldType::Text, FieldValue::Text(_))
            | (FieldType::Integer, FieldValue::Integer(_))
            | (FieldType::Date, FieldValue::Date(_))
            | (FieldType::Rupiah, FieldValue::Rupiah(_))
            | (FieldType::FiscalYear, FieldValue::FiscalYear(_)) => true,
            _ => false,
        }
    }

    /// A short name for messages: `text`, `integer`, `date`, `rupiah`, `fiscal_year`, `enum`.
    pub fn name(&self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Integer => "integer",
            FieldType::Date => "date",
            FieldType::Rupiah => "rupiah",
            FieldType::FiscalYear => "fiscal_year",
            FieldType::Enum(_) => "enum",
        }
    }
}

/// `34500000`, `34.500.000`, `Rp34.500.000`, `Rp 34.500.000` → 34 500 000.
/// Dots must group thousands exactly; decimals and negatives are refused.
/// Whole rupiah as people and official documents write them: `34500000`, `34.500.000`,
/// `Rp34.500.000`, `Rp 34.500.000`, `Rp. 34.500.000`, `IDR 34.500.000`, and with the zero
/// sen or the dash of a written amount, `Rp34.500.000,00` or `Rp34.500.000,-`. Sen other
/// than zero are refused: amounts are whole rupiah.
fn parse_rupiah(text: &str) -> Option<i64> {
    let text = text.trim();
    let without_currency = ["Rp", "rp", "RP", "IDR"]
        .iter()
        .find_map(|prefix| text.strip_prefix(prefix))
        .map_or(text, |rest| rest.strip_prefix('.').unwrap_or(rest));
    let digits = without_currency.trim();
    let digits = [",00", ",0", ",-"]
        .iter()
        .find_map(|suffix| digits.strip_suffix(suffix))
        .unwrap_or(digits);
    if digits.is_empty() {
        return None;
    }
    let groups: Vec<&str> = digits.split('.').collect();
    let well_grouped = groups.len() == 1
        || (!groups[0].is_empty()
            && groups[0].len() <= 3
            && groups[1..].iter().all(|g| g.len() == 3));
    if !well_grouped || !groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    groups.concat().parse().ok()
}

impl FieldValue {
    /// Orders two values of the same type; `None` for different types.
    pub fn compare(&self, other: &FieldValue) -> Option<Ordering> {
        match (self, other) {
            (FieldValue::Text(a), FieldValue::Text(b))
            | (FieldValue::Enum(a), FieldValue::Enum(b)) => Some(a.cmp(b)),
            (FieldValue::Integer(a), FieldValue::Integer(b))
            | (FieldValue::Rupiah(a), FieldValue::Rupiah(b)) => Some(a.cmp(b)),
            (FieldValue::Date(a), FieldValue::Date(b)) => Some(a.cmp(b)),
            (FieldValue::FiscalYear(a), FieldValue::FiscalYear(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

/// Shown to people: rupiah as `Rp34.500.000`, dates as `2025-03-24`.
impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Text(s) | FieldValue::Enum(s) => f.write_str(s),
            FieldValue::Integer(n) => write!(f, "{n}"),
            FieldValue::Date(d) => write!(f, "{d}"),
            FieldValue::Rupiah(n) => f.write_str(&format::rupiah(*n)),
            FieldValue::FiscalYear(y) => write!(f, "{y}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn rupiah_accepts_the_ways_people_write_it() {
        for text in [
            "34500000",
            "34.500.000",
            "Rp34.500.000",
            "Rp 34.500.000",
            " 34500000 ",
            "Rp34.500.000,00",
            "Rp 34.500.000,00",
            "Rp. 34.500.000,-",
            "IDR 34.500.000",
            "34.500.000,00",
        ] {
            assert_eq!(
                FieldType::Rupiah.parse(text),
                Ok(FieldValue::Rupiah(34_500_000)),
                "{text}"
            );
        }
    }

    #[test]
    fn rupiah_refuses_decimals_negatives_and_bad_grouping() {
        for text in [
            "",
            "Rp",
            "-5",
            "34.500.000,50",
            "3450.0000",
            "34,500,000",
            "1e6",
            ".500",
            "Rp34.500.000,05",
            ",00",
            "Rp,-",
            "Rp34.500.000,00,00",
        ] {
            assert!(FieldType::Rupiah.parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn other_types_parse_and_refuse() {
        assert_eq!(
            FieldType::Date.parse("2025-03-24"),
            Ok(FieldValue::Date(date(2025, 3, 24)))
        );
        assert!(FieldType::Date.parse("24/03/2025").is_err());
        assert!(FieldType::Date.parse("2025-02-30").is_err());
        assert_eq!(
            FieldType::FiscalYear.parse("2025"),
            Ok(FieldValue::FiscalYear(2025))
        );
        assert!(FieldType::FiscalYear.parse("1999").is_err());
        assert_eq!(FieldType::Integer.parse("-3"), Ok(FieldValue::Integer(-3)));
        assert!(FieldType::Text.parse("   ").is_err());
        let route = FieldType::Enum(vec!["langsung".into(), "sayembara".into()]);
        assert_eq!(
            route.parse("langsung"),
            Ok(FieldValue::Enum("langsung".into()))
        );
        let err = route.parse("lelang").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`lelang` is not one of: langsung, sayembara"
        );
    }

    #[test]
    fn values_compare_only_within_their_type() {
        let a = FieldValue::Rupiah(1);
        let b = FieldValue::Rupiah(2);
        assert_eq!(a.compare(&b), Some(Ordering::Less));
        assert_eq!(a.compare(&FieldValue::Integer(1)), None);
        assert_eq!(FieldValue::Rupiah(34_500_000).to_string(), "Rp34.500.000");
    }
}
