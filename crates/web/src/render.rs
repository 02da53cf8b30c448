//! Templates, the stylesheet and the headers every page carries.

use std::sync::LazyLock;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use minijinja::value::Kwargs;
use minijinja::{Environment, State, Value};
use sha2::{Digest, Sha256};
use swakelola_core::format::Language;
use swakelola_view::catalogue;

const STYLESHEET: &str = include_str!("../assets/app.css");
const UPLOAD_SCRIPT: &str = include_str!("../assets/upload.js");

/// The route of the embedded assets; each URL carries a hash of its content, so it can be
/// cached for good.
pub const ASSET_ROUTE: &str = "/aset/{name}";

fn hashed(stem: &str, extension: &str, content: &str) -> String {
    let hash = hex::encode(Sha256::digest(content.as_bytes()));
    format!("/aset/{stem}-{}.{extension}", &hash[..16])
}

static STYLESHEET_URL: LazyLock<String> = LazyLock::new(|| hashed("app", "css", STYLESHEET));
static UPLOAD_SCRIPT_URL: LazyLock<String> =
    LazyLock::new(|| hashed("upload", "js", UPLOAD_SCRIPT));

pub async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let path = format!("/aset/{name}");
    let (content_type, content) = if path == *STYLESHEET_URL {
        ("text/css; charset=utf-8", STYLESHEET)
    } else if path == *UPLOAD_SCRIPT_URL {
        ("text/javascript; charset=utf-8", UPLOAD_SCRIPT)
    } else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        content,
    )
        .into_response()
}

/// `t("id", name=value, …)`: a message of the catalogue in the page's language.
fn translate(state: &State, id: &str, kwargs: Kwargs) -> Result<String, minijinja::Error> {
    let language = match state.lookup("lang").as_ref().and_then(Value::as_str) {
        Some("en") => Language::En,
        _ => Language::Id,
    };
    let mut args: Vec<(String, String)> = Vec::new();
    for name in kwargs.args() {
        let value: Value = kwargs.get(name)?;
        args.push((name.to_owned(), value.to_string()));
    }
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Ok(catalogue::message(language, id, &args))
}

pub static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // `.html` templates escape every value (minijinja's default for that extension); this
    // states it rather than relying on the file names.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    macro_rules! templates {
        ($($name:literal),* $(,)?) => {
            [$(($name, include_str!(concat!("../templates/", $name)))),*]
        };
    }
    for (name, source) in templates![
        "base.html",
        "masuk.html",
        "sandi.html",
        "tugas.html",
        "kasus.html",
        "galat.html",
        "daftar.html",
        "admin-alur.html",
        "agenda.html",
        "admin-pengguna.html",
        "admin-token.html",
        "admin-kotak-keluar.html",
    ] {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name} does not compile: {e}"));
    }
    env.add_function("t", translate);
    env
});

/// A page: `template` rendered with `context` plus what every page needs.
pub fn page(status: StatusCode, template: &str, language: Language, context: Value) -> Response {
    let (lang, other) = match language {
        Language::Id => ("id", "en"),
        Language::En => ("en", "id"),
    };
    let context = minijinja::context! {
        lang => lang,
        other_lang => other,
        css => STYLESHEET_URL.as_str(),
        upload_js => UPLOAD_SCRIPT_URL.as_str(),
        ..context
    };
    match TEMPLATES
        .get_template(template)
        .and_then(|t| t.render(context))
    {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, template, "a page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html(catalogue::message(language, "error-internal", &[])),
            )
                .into_response()
        }
    }
}

/// Headers that keep the pages from being framed, sniffed or made to run foreign scripts.
pub async fn security_headers(request: Request<Body>, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (
            "content-security-policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("x-frame-options", "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file in `templates/` is compiled into the binary (a page whose template was
    /// forgotten would answer 500).
    #[test]
    fn every_template_is_registered() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut names = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                TEMPLATES.get_template(&name).is_ok(),
                "{name} is not registered"
            );
            names += 1;
        }
        assert!(names >= 9);
    }
}
