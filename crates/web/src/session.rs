//! Who is asking: the session cookie, the language of the pages, and the form token.

use std::collections::BTreeMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use swakelola_api::AppState;
use swakelola_api::auth::Principal;
use swakelola_core::format::Language;
use swakelola_store::people::Session;

/// The cookie that carries the session's secret.
pub const SESSION_COOKIE: &str = "swk_sesi";
/// The cookie that carries the form token of the sign-in form (before there is a session).
pub const SIGN_IN_COOKIE: &str = "swk_masuk";
/// The cookie that remembers the language chosen with `?lang=`.
pub const LANGUAGE_COOKIE: &str = "swk_bahasa";

/// The value of cookie `name`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, for the whole site, `Secure` when the
/// pages are served over https; `max_age` 0 removes the cookie.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> String {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        cookie.push_str("; Secure");
    }
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    cookie
}

/// The language of the pages: `?lang=` when given, else the remembered choice, else the
/// browser's first language when it is English, else Indonesian.
pub fn language(parts: &Parts) -> Language {
    let query_asked = parts.uri.query().is_some_and(|q| q.contains("lang="));
    if query_asked {
        return swakelola_api::extract::language_of(parts);
    }
    match cookie(&parts.headers, LANGUAGE_COOKIE) {
        Some("en") => Language::En,
        Some("id") => Language::Id,
        _ => swakelola_api::extract::language_of(parts),
    }
}

/// Whether this request changes the language (`?lang=`), to remember it in a cookie.
pub fn language_choice(parts: &Parts) -> Option<Language> {
    parts
        .uri
        .query()
        .is_some_and(|q| q.contains("lang="))
        .then(|| swakelola_api::extract::language_of(parts))
}

/// A signed-in person: their session and the principal they act as.
#[derive(Debug, Clone)]
pub struct Person {
    pub session: Session,
    pub principal: Principal,
    pub language: Language,
}

impl Person {
    /// Whether `token` is this session's form token (compared in constant time).
    pub fn form_token_matches(&self, token: &str) -> bool {
        constant_time_eq(self.session.csrf.as_bytes(), token.as_bytes())
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Without a live session a page answers with the sign-in page, coming back here afterwards.
impl FromRequestParts<AppState> for Person {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let language = language(parts);
        let back = parts
            .uri
            .path_and_query()
            .map_or("/".to_owned(), |p| p.as_str().to_owned());
        let to_sign_in = || {
            let back: String = url_escape(&back);
            Redirect::to(&format!("/masuk?lanjut={back}")).into_response()
        };
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_sign_in());
        };
        match state.store.session(secret, state.now()).await {
            Ok(Some(session)) => Ok(Person {
                principal: Principal(session.user.principal(), language),
                session,
                language,
            }),
            Ok(None) => Err(to_sign_in()),
            Err(error) => Err(crate::pages::store_failure(language, None, &error)),
        }
    }
}

/// Percent-escapes everything but unreserved characters and `/`.
pub fn url_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A path to go back to after signing in: only a path of this site, never another site.
pub fn local_path(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

/// A posted form whose fields may repeat (`peran=ppk&peran=pa_kpa`).
pub struct Posted(BTreeMap<String, Vec<String>>);

impl Posted {
    pub fn parse(body: &axum::body::Bytes) -> Self {
        let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in form_urlencoded::parse(body) {
            fields
                .entry(name.into_owned())
                .or_default()
                .push(value.into_owned());
        }
        Posted(fields)
    }

    pub fn one(&self, name: &str) -> String {
        self.0
            .get(name)
            .and_then(|v| v.first())
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    }

    /// Every field with its first value, by name.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .filter_map(|(name, values)| values.first().map(|v| (name.as_str(), v.as_str())))
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.get(name).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path("/kasus/DP3A-2025-001"), "/kasus/DP3A-2025-001");
        assert_eq!(local_path("//evil.example/"), "/");
        assert_eq!(local_path("https://evil.example/"), "/");
        assert_eq!(local_path("/\\evil.example"), "/");
    }

    #[test]
    fn cookies_are_http_only_and_lax() {
        assert_eq!(
            set_cookie("swk_sesi", "abc", true, None),
            "swk_sesi=abc; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
