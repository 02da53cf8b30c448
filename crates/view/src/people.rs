//! What people read about accounts and API tokens: their status, in one place for the
//! command line and the admin pages.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use swakelola_core::format::{self, Language};
use swakelola_store::ApiToken;
use swakelola_store::people::User;

use crate::catalogue;

/// `aktif`, `diundang` (no password set yet) or `nonaktif`.
pub fn user_status(user: &User, language: Language) -> String {
    let id = if user.disabled_at.is_some() {
        "user-disabled"
    } else if user.active {
        "user-active"
    } else {
        "user-invited"
    };
    catalogue::message(language, id, &[])
}

/// `dicabut`, `kedaluwarsa`, `aktif` or `aktif sampai 10 Desember 2025`.
pub fn token_status(token: &ApiToken, now: Timestamp, language: Language) -> String {
    if token.revoked_at.is_some() {
        return catalogue::message(language, "token-revoked", &[]);
    }
    match token.expires_at {
        Some(at) if at <= now => catalogue::message(language, "token-expired", &[]),
        Some(at) => {
            // A token belongs to no calendar: its expiry is told as a UTC date.
            let date = format::date(TimeZone::UTC.to_datetime(at).date(), language);
            catalogue::message(language, "token-active-until", &[("at", &date)])
        }
        None => catalogue::message(language, "token-active", &[]),
    }
}
