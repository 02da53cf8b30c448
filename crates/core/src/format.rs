//! How money and dates are shown to people: `Rp34.500.000`, `10 Desember 2024`.

use jiff::civil::Date;

/// A display language. Indonesian is the default everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    Id,
    En,
}

/// Whole rupiah with dots between thousands: `Rp34.500.000`, `-Rp1.000`.
pub fn rupiah(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 + 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    let sign = if amount < 0 { "-" } else { "" };
    format!("{sign}Rp{grouped}")
}

const BULAN: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `10 Desember 2024` (Indonesian) or `10 December 2024` (English).
pub fn date(date: Date, language: Language) -> String {
    let names = match language {
        Language::Id => &BULAN,
        Language::En => &MONTHS,
    };
    let month = names[usize::try_from(date.month() - 1).unwrap_or(0)];
    format!("{} {} {}", date.day(), month, date.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rupiah_groups_thousands_with_dots() {
        assert_eq!(rupiah(34_500_000), "Rp34.500.000");
        assert_eq!(rupiah(0), "Rp0");
        assert_eq!(rupiah(999), "Rp999");
        assert_eq!(rupiah(1000), "Rp1.000");
        assert_eq!(rupiah(-1000), "-Rp1.000");
        assert_eq!(rupiah(i64::MIN), "-Rp9.223.372.036.854.775.808");
    }

    #[test]
    fn dates_in_indonesian_and_english() {
        let d = jiff::civil::date(2024, 12, 10);
        assert_eq!(date(d, Language::Id), "10 Desember 2024");
        assert_eq!(date(d, Language::En), "10 December 2024");
    }
}
