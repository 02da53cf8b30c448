//! The pages of an organisation's administrator (role `admin`): accounts of its staff, its API
//! tokens, and the messages to its cases that could not be delivered. The rules are the
//! API's own (`swakelola_api::system::may_grant`, `revoke_own_token`, `retry_own_message`):
//! an administrator manages its own organisation only and never grants `operator`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use swakelola_api::AppState;
use swakelola_api::system::{may_grant, retry_own_message, revoke_own_token};
use swakelola_core::format::Language;
use swakelola_store::Store;
use swakelola_store::people::LINK_VALIDITY;
use swakelola_view::Labels;
use swakelola_view::people::{token_status, user_status};

use crate::pages::{
    api_refusal, error_page, forged, localized_message, person_context, store_failure, text,
};
use crate::render::page;
use crate::session::{Person, Posted};
use crate::{WebConfig, password_link};

fn admin_only(person: &Person) -> Option<Response> {
    (!person.principal.0.is_admin()).then(|| {
        error_page(
            StatusCode::FORBIDDEN,
            person.language,
            Some(person),
            &text(person.language, "api-admin-only", &[]),
            None,
            Some("/"),
        )
    })
}

/// The posted form of an administrator's page: refused unless the person is an
/// administrator and the form carries the session's token.
fn admin_form(person: &Person, body: &Bytes) -> Result<Posted, Box<Response>> {
    if let Some(refused) = admin_only(person) {
        return Err(Box::new(refused));
    }
    let form = Posted::parse(body);
    if !person.form_token_matches(&form.one("csrf")) {
        return Err(Box::new(forged(person)));
    }
    Ok(form)
}

/// A store refusal of what was typed (an address taken, a malformed name) as a problem on
/// the page (422); anything else (the database is down) as its error page.
fn bad_input(person: &Person, error: &swakelola_store::Error) -> Result<Said, Box<Response>> {
    let language = person.language;
    let answer = swakelola_api::error::store_error(
        swakelola_view::refusal::Names::new(language, None),
        error,
    );
    if answer.status.is_server_error() {
        return Err(Box::new(store_failure(language, Some(person), error)));
    }
    Ok(Said {
        status: Some(StatusCode::UNPROCESSABLE_ENTITY),
        problem: Some(localized_message(&answer, language)),
        ..Said::default()
    })
}

/// The roles an administrator can give: every role of the deployed workflows (newest
/// version of each), by label, and `admin` itself.
async fn role_choices(state: &AppState, language: Language) -> BTreeMap<String, String> {
    let mut roles: BTreeMap<String, String> = BTreeMap::new();
    // The newest loadable version of each workflow names its roles.
    let mut newest: BTreeMap<String, (u32, std::sync::Arc<swakelola_store::Engine>)> =
        BTreeMap::new();
    let engines = state.store.deployed_engines().await.unwrap_or_default();
    for ((id, version), engine) in engines {
        if let Ok(engine) = engine
            && newest.get(&id).is_none_or(|(v, _)| *v < version)
        {
            newest.insert(id, (version, engine));
        }
    }
    for (_, engine) in newest.values() {
        let labels = Labels::new(&engine.workflow, language);
        for role in &engine.workflow.roles {
            roles
                .entry(role.id.clone())
                .or_insert_with(|| labels.text(&role.label));
        }
    }
    roles.insert(
        swakelola_store::ADMIN_ROLE.to_owned(),
        text(language, "web-role-admin", &[]),
    );
    roles
}

/// Roles by label, as people read them: `PA/KPA (Kepala Dinas atau kuasanya), …`.
fn role_labels(choices: &BTreeMap<String, String>, roles: &[String]) -> String {
    roles
        .iter()
        .map(|r| choices.get(r).cloned().unwrap_or_else(|| r.clone()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A notice, or a problem with the status it answers.
#[derive(Default)]
struct Said {
    status: Option<StatusCode>,
    notice: Option<String>,
    problem: Option<String>,
    secret: Option<String>,
}

async fn people_page(state: &AppState, person: &Person, said: Said) -> Response {
    let language = person.language;
    let organisation = &person.principal.0.organisation;
    let users = match state.store.organisation_users(organisation).await {
        Ok(users) => users,
        Err(error) => return store_failure(language, Some(person), &error),
    };
    let choices = role_choices(state, language).await;
    let rows: Vec<minijinja::Value> = users
        .iter()
        .map(|u| {
            context! {
                name => u.name,
                email => u.email,
                roles => role_labels(&choices, &u.roles),
                status => user_status(u, language),
                disabled => u.disabled_at.is_some(),
            }
        })
        .collect();
    page(
        said.status.unwrap_or(StatusCode::OK),
        "admin-pengguna.html",
        language,
        context! {
            users => rows,
            roles => choices.iter().map(|(id, label)| context! { id, label }).collect::<Vec<_>>(),
            organisation,
            notice => said.notice,
            problem => said.problem,
            link => said.secret,
            ..person_context(person)
        },
    )
}

/// *Admin · Pengguna*: the accounts of my organisation.
pub async fn people(State(state): State<AppState>, person: Person) -> Response {
    if let Some(refused) = admin_only(&person) {
        return refused;
    }
    people_page(&state, &person, Said::default()).await
}

/// Sends the link to set a password by email when the server can send email; otherwise
/// (or when sending fails) the page shows it, to be passed on. Nothing is lost either way.
async fn hand_over_link(
    config: &WebConfig,
    language: Language,
    name: &str,
    email: &str,
    secret: &str,
) -> Said {
    let link = password_link(config.public_url.as_deref(), secret);
    let hours = LINK_VALIDITY.as_hours().to_string();
    if let Some(mailer) = &config.mailer {
        let subject = text(language, "invite-subject", &[]);
        let body = text(
            language,
            "invite-body",
            &[("name", name), ("link", &link), ("hours", &hours)],
        );
        match mailer.send(name, email, &subject, &body).await {
            Ok(()) => {
                return Said {
                    notice: Some(text(language, "web-link-sent", &[("email", email)])),
                    ..Said::default()
                };
            }
            Err(error) => {
                tracing::warn!(%email, %error, "the password link could not be emailed");
                return Said {
                    notice: Some(text(
                        language,
                        "web-link-not-sent",
                        &[("email", email), ("hours", &hours)],
                    )),
                    secret: Some(link),
                    ..Said::default()
                };
            }
        }
    }
    Said {
        notice: Some(text(
            language,
            "web-link-show",
            &[("name", name), ("email", email), ("hours", &hours)],
        )),
        secret: Some(link),
        ..Said::default()
    }
}

/// Creates an account in my organisation, disables one, or gives one a new password link.
pub async fn people_post(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<WebConfig>,
    person: Person,
    axum::extract::Path(what): axum::extract::Path<String>,
    body: Bytes,
) -> Response {
    let form = match admin_form(&person, &body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let language = person.language;
    let admin = &person.principal.0;
    let now = state.now();
    let refused = |status: StatusCode, message: String| Said {
        status: Some(status),
        problem: Some(message),
        ..Said::default()
    };
    let said = match what.as_str() {
        "baru" => {
            let roles = form.all("peran");
            if let Err(answer) = may_grant(admin, &admin.organisation, &roles) {
                return api_refusal(&person, &answer);
            }
            let (name, email) = (form.one("nama"), form.one("email"));
            match state
                .store
                .create_user(&name, &email, &admin.organisation, &roles, now)
                .await
            {
                Ok((user, secret)) => {
                    hand_over_link(&config, language, &user.name, &user.email, &secret).await
                }
                Err(error) => match bad_input(&person, &error) {
                    Ok(said) => said,
                    Err(page) => return *page,
                },
            }
        }
        "nonaktifkan" | "tautan" => {
            let email = form.one("email");
            // Another organisation's account answers like one that does not exist.
            let ours = match state.store.organisation_users(&admin.organisation).await {
                Ok(users) => users.into_iter().any(|u| u.email == email),
                Err(error) => return store_failure(language, Some(&person), &error),
            };
            if !ours {
                refused(
                    StatusCode::NOT_FOUND,
                    text(language, "web-no-such-user", &[("email", &email)]),
                )
            } else if what == "nonaktifkan" {
                match state.store.disable_user(&email, now).await {
                    Ok(user) => Said {
                        notice: Some(text(
                            language,
                            "user-disabled-now",
                            &[("email", &user.email)],
                        )),
                        ..Said::default()
                    },
                    Err(error) => return store_failure(language, Some(&person), &error),
                }
            } else {
                match state.store.reset_user(&email, now).await {
                    Ok((user, secret)) => {
                        hand_over_link(&config, language, &user.name, &user.email, &secret).await
                    }
                    Err(error) => return store_failure(language, Some(&person), &error),
                }
            }
        }
        _ => {
            return error_page(
                StatusCode::NOT_FOUND,
                language,
                Some(&person),
                &text(language, "web-page-missing", &[]),
                None,
                Some("/admin/pengguna"),
            );
        }
    };
    people_page(&state, &person, said).await
}

async fn tokens_page(state: &AppState, person: &Person, said: Said) -> Response {
    let language = person.language;
    let organisation = &person.principal.0.organisation;
    let tokens = match state.store.organisation_tokens(organisation).await {
        Ok(tokens) => tokens,
        Err(error) => return store_failure(language, Some(person), &error),
    };
    let now = state.now();
    let choices = role_choices(state, language).await;
    let rows: Vec<minijinja::Value> = tokens
        .iter()
        .map(|t| {
            context! {
                id => t.id,
                name => t.name,
                roles => role_labels(&choices, &t.roles),
                status => token_status(t, now, language),
                revocable => t.revoked_at.is_none(),
            }
        })
        .collect();
    page(
        said.status.unwrap_or(StatusCode::OK),
        "admin-token.html",
        language,
        context! {
            tokens => rows,
            roles => choices.iter().map(|(id, label)| context! { id, label }).collect::<Vec<_>>(),
            organisation,
            notice => said.notice,
            problem => said.problem,
            secret => said.secret,
            ..person_context(person)
        },
    )
}

/// *Admin · Token API*: my organisation's tokens.
pub async fn tokens(State(state): State<AppState>, person: Person) -> Response {
    if let Some(refused) = admin_only(&person) {
        return refused;
    }
    tokens_page(&state, &person, Said::default()).await
}

/// Issues a token (its secret shown once) or revokes one.
pub async fn tokens_post(
    State(state): State<AppState>,
    person: Person,
    axum::extract::Path(what): axum::extract::Path<String>,
    body: Bytes,
) -> Response {
    let form = match admin_form(&person, &body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let language = person.language;
    let admin = &person.principal.0;
    let now = state.now();
    let said = if what == "baru" {
        let roles = form.all("peran");
        if let Err(answer) = may_grant(admin, &admin.organisation, &roles) {
            return api_refusal(&person, &answer);
        }
        let days = form.one("hari");
        let expires_at = match days.parse::<i64>() {
            _ if days.is_empty() => None,
            Ok(days @ 1..=3660) => now
                .checked_add(jiff::SignedDuration::from_hours(24 * days))
                .ok(),
            _ => {
                let said = Said {
                    status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                    problem: Some(text(language, "web-token-days", &[])),
                    ..Said::default()
                };
                return tokens_page(&state, &person, said).await;
            }
        };
        match state
            .store
            .create_token(
                &form.one("nama"),
                &admin.organisation,
                &roles,
                expires_at,
                now,
            )
            .await
        {
            Ok((token, secret)) => Said {
                notice: Some(text(
                    language,
                    "web-token-created",
                    &[("name", &token.name)],
                )),
                secret: Some(secret),
                ..Said::default()
            },
            Err(error) => match bad_input(&person, &error) {
                Ok(said) => said,
                Err(page) => return *page,
            },
        }
    } else {
        match revoke_own_token(&state, admin, &form.one("id")).await {
            Ok(token) => Said {
                notice: Some(text(
                    language,
                    "token-revoked-now",
                    &[("id", &token.id), ("name", &token.name)],
                )),
                ..Said::default()
            },
            Err(answer) => return api_refusal(&person, &answer),
        }
    };
    tokens_page(&state, &person, said).await
}

async fn outbox_page(state: &AppState, person: &Person, said: Said) -> Response {
    let language = person.language;
    let organisation = person.principal.0.organisation.as_str();
    let messages = match state.store.outbox(None, true, Some(organisation)).await {
        Ok(messages) => messages,
        Err(error) => return store_failure(language, Some(person), &error),
    };
    // Each message's case once (its business key, and its workflow to name a role).
    let mut cases: BTreeMap<String, swakelola_store::CaseRecord> = BTreeMap::new();
    for message in &messages {
        if !cases.contains_key(&message.case_id)
            && let Ok(case) = state.store.case(&message.case_id).await
        {
            cases.insert(message.case_id.clone(), case);
        }
    }
    let engines = match state.store.engines_of(cases.values()).await {
        Ok(engines) => engines,
        Err(error) => return store_failure(language, Some(person), &error),
    };
    let mut rows = Vec::new();
    for message in &messages {
        let case = cases.get(&message.case_id);
        let business_key = case.map_or(message.case_id.as_str(), |c| c.business_key.as_str());
        // `role:ppk` (a role without a contact) by its label; an address as it is.
        let recipient = match message.recipient.split_once(':') {
            Some(("role", role)) => case
                .and_then(|c| engines.get(&(c.workflow_id.clone(), c.workflow_version)))
                .map_or_else(
                    || role.to_owned(),
                    |engine| Labels::new(&engine.workflow, language).role(role).label,
                ),
            Some((_, address)) => address.to_owned(),
            None => message.recipient.clone(),
        };
        let channel = match message.channel.as_str() {
            "email" => text(language, "web-channel-email", &[]),
            "webhook" => text(language, "web-channel-webhook", &[]),
            _ => text(language, "web-channel-log", &[]),
        };
        let state_text = if message.state == "dead" {
            "web-message-dead"
        } else {
            "web-message-retrying"
        };
        rows.push(context! {
            key => message.key,
            case => business_key,
            case_href => format!("/kasus/{}", crate::session::url_escape(business_key)),
            recipient,
            channel,
            attempts => message.attempts,
            dead => message.state == "dead",
            state => text(language, state_text, &[]),
            error => message.last_error,
        });
    }
    page(
        said.status.unwrap_or(StatusCode::OK),
        "admin-kotak-keluar.html",
        language,
        context! {
            messages => rows,
            notice => said.notice,
            ..person_context(person)
        },
    )
}

/// *Admin · Kotak keluar*: messages to my organisation's cases that failed or were set aside.
pub async fn outbox(State(state): State<AppState>, person: Person) -> Response {
    if let Some(refused) = admin_only(&person) {
        return refused;
    }
    outbox_page(&state, &person, Said::default()).await
}

/// Sends a failed or set-aside message again.
pub async fn outbox_retry(State(state): State<AppState>, person: Person, body: Bytes) -> Response {
    let form = match admin_form(&person, &body) {
        Ok(form) => form,
        Err(refused) => return *refused,
    };
    let key = form.one("key");
    if let Err(answer) = retry_own_message(&state, &person.principal.0, &key).await {
        return api_refusal(&person, &answer);
    }
    let said = Said {
        notice: Some(text(person.language, "outbox-retried", &[("key", &key)])),
        ..Said::default()
    };
    outbox_page(&state, &person, said).await
}
