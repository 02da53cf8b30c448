//! The web pages of swakelola, served by `swakelola serve` and `run --api` beside the HTTP API:
//! people sign in, see what is due for their roles (*Tugas saya*), open a case at
//! `/kasus/<business key>` and act on it — take a step with its reason, attach a document,
//! fill in a field — in Indonesian or English; see the workflow's diagram; and, as their
//! organisation's administrator, manage its accounts, API tokens and undelivered messages.
//!
//! Server-rendered HTML that works without JavaScript; a stylesheet and one small script
//! (upload progress, an enhancement only) embedded in the binary under content-hashed names;
//! diagrams drawn server-side as SVG. Templates escape every value. What a person sees of a case
//! comes from `swakelola-view`, and who may do what from the API's `Principal` — the same
//! code, so the API's authorization holds for the pages too. Every state-changing form
//! carries the session's form token.
//!
//! This crate must never decide a transition (the store and the core do), never read or
//! write the database except through the store, and never serve a page to someone who is
//! not signed in, except the sign-in and password pages.

mod admin;
mod diagram;
mod pages;
mod render;
mod session;

use axum::Router;
use axum::routing::{get, post};
use swakelola_api::AppState;

/// How the pages are served.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Where people open the pages (`https://…` makes the session cookie `Secure`).
    pub public_url: Option<String>,
    /// Sends the links to set a password by email; without it the admin page shows them.
    pub mailer: Option<std::sync::Arc<dyn Mailer>>,
}

/// Sends one email (the server passes its SMTP delivery when SMTP is configured).
#[async_trait::async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug {
    async fn send(&self, name: &str, email: &str, subject: &str, body: &str) -> Result<(), String>;
}

/// Where a person sets their password: `<public_url>/sandi/<secret>`, or the path alone.
pub fn password_link(public_url: Option<&str>, secret: &str) -> String {
    format!(
        "{}/sandi/{secret}",
        public_url.unwrap_or_default().trim_end_matches('/')
    )
}

impl WebConfig {
    fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://"))
    }
}

/// The pages, to merge beside the API (`swakelola_api::router_with`).
pub fn pages(config: WebConfig) -> Router<AppState> {
    // Templates compile now, so that a broken one stops the server at start, not a request.
    std::sync::LazyLock::force(&render::TEMPLATES);
    Router::new()
        .route("/", get(pages::my_tasks))
        .route("/masuk", get(pages::sign_in_form).post(pages::sign_in))
        .route("/keluar", post(pages::sign_out))
        .route(
            "/sandi/{link}",
            get(pages::password_form).post(pages::set_password),
        )
        .route("/kasus", get(pages::case_list))
        .route("/agenda", get(pages::agenda))
        .route(
            "/admin/alur",
            get(pages::admin_workflows).post(pages::admin_upload),
        )
        .route(
            "/admin/alur/{workflow}/{version}/alur.svg",
            get(pages::workflow_diagram),
        )
        .route("/admin/pengguna", get(admin::people))
        .route("/admin/pengguna/{what}", post(admin::people_post))
        .route("/admin/token", get(admin::tokens))
        .route("/admin/token/{what}", post(admin::tokens_post))
        .route("/admin/kotak-keluar", get(admin::outbox))
        .route("/admin/kotak-keluar/ulang", post(admin::outbox_retry))
        .route("/kasus/{key}", get(pages::case_page))
        .route("/kasus/{key}/alur.svg", get(pages::case_diagram))
        .route("/kasus/{key}/langkah/{transition}", post(pages::take_step))
        .route("/kasus/{key}/tolak/{transition}", post(pages::decline_step))
        .route("/kasus/{key}/dokumen", post(pages::attach))
        .route("/kasus/{key}/dokumen/{sha256}", get(pages::download))
        .route("/kasus/{key}/data", post(pages::set_field))
        .route("/kasus/{key}/catatan/{record}", post(pages::add_record))
        .route(render::ASSET_ROUTE, get(render::asset))
        .layer(axum::middleware::from_fn(render::security_headers))
        .layer(axum::Extension(config))
}

#[cfg(test)]
mod tests {
    use super::password_link;

    #[test]
    fn links_are_full_urls_when_the_address_is_known() {
        assert_eq!(
            password_link(Some("https://swakelola.example/"), "abc"),
            "https://swakelola.example/sandi/abc"
        );
        assert_eq!(password_link(None, "abc"), "/sandi/abc");
    }
}
