//! The pages and the forms they post to.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{ConnectInfo, Multipart, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, RequestExt};
use minijinja::context;
use serde::Deserialize;
use swakelola_api::AppState;
use swakelola_api::cases::{Target, acting_on, execute, perform, visible_link_lines};
use swakelola_api::error::{ApiError, store_error};
use swakelola_api::extract::IdempotencyKey;
use swakelola_core::format::Language;
use swakelola_core::step::Action;
use swakelola_store::{
    CaseFilter, CaseRecord, Conflict, Engine, Error as StoreError, Invalid, Store,
};
use swakelola_view::refusal::{self, Names};
use swakelola_view::{CaseView, HistoryLine, Labels, NextDeadline, catalogue};

use crate::WebConfig;
use crate::render::page;
use crate::session::{
    LANGUAGE_COOKIE, Person, SESSION_COOKIE, SIGN_IN_COOKIE, constant_time_eq, cookie, language,
    language_choice, local_path, set_cookie,
};

/// Largest document the upload form accepts.
const MAX_UPLOAD_BYTES: usize = swakelola_store::MAX_DOCUMENT_BYTES;

pub(crate) fn text(language: Language, id: &str, args: &[(&str, &str)]) -> String {
    catalogue::message(language, id, args)
}

pub(crate) fn person_context(person: &Person) -> minijinja::Value {
    context! {
        person => context! {
            name => person.session.user.name,
            organisation => person.session.user.organisation,
            operator => person.principal.0.is_operator(),
            admin => person.principal.0.is_admin(),
        },
        csrf => person.session.csrf,
    }
}

/// An error page: the status, a heading and what to do.
pub(crate) fn error_page(
    status: StatusCode,
    language: Language,
    person: Option<&Person>,
    message: &str,
    kept: Option<&str>,
    back: Option<&str>,
) -> Response {
    let heading = match status {
        StatusCode::NOT_FOUND => text(language, "web-not-found", &[]),
        StatusCode::FORBIDDEN => text(language, "web-forbidden", &[]),
        StatusCode::CONFLICT => text(language, "web-conflict", &[]),
        s if s.is_server_error() => text(language, "web-server-error", &[]),
        _ => text(language, "web-refused", &[]),
    };
    let base = person.map(person_context).unwrap_or_default();
    page(
        status,
        "galat.html",
        language,
        context! { heading, message, kept, back, ..base },
    )
}

/// The page for a refusal the API would answer (its status, its message).
pub(crate) fn api_refusal(person: &Person, answer: &ApiError) -> Response {
    let message = localized_message(answer, person.language);
    error_page(
        answer.status,
        person.language,
        Some(person),
        &message,
        None,
        None,
    )
}

/// The page for a store error that is not about the form (the database is down, …).
pub fn store_failure(language: Language, person: Option<&Person>, error: &StoreError) -> Response {
    let answer = store_error(Names::new(language, None), error);
    let message = localized_message(&answer, language);
    error_page(answer.status, language, person, &message, None, None)
}

/// An API answer's message in `language` (the API renders it in its middleware; here the
/// page does).
pub(crate) fn localized_message(answer: &ApiError, language: Language) -> String {
    match &answer.localize {
        Some(localize) => localize.render(Names::new(language, None)).message,
        None => answer.message.clone(),
    }
}

/// Remembers a language chosen with `?lang=` for the next pages.
fn with_language(mut response: Response, choice: Option<Language>, config: &WebConfig) -> Response {
    if let Some(language) = choice {
        let value = match language {
            Language::Id => "id",
            Language::En => "en",
        };
        if let Ok(cookie) = HeaderValue::from_str(&set_cookie(
            LANGUAGE_COOKIE,
            value,
            config.secure_cookies(),
            Some(365 * 24 * 3600),
        )) {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
    }
    response
}

/// A fresh unguessable token for a form.
fn random_token() -> Result<String, StoreError> {
    swakelola_store::random_secret()
}

#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    lanjut: Option<String>,
    sandi: Option<String>,
}

pub async fn sign_in_form(
    Extension(config): Extension<WebConfig>,
    Query(query): Query<SignInQuery>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let language = language(&parts);
    let token = match random_token() {
        Ok(token) => token,
        Err(error) => return store_failure(language, None, &error),
    };
    let notice = query
        .sandi
        .is_some()
        .then(|| text(language, "web-password-saved", &[]));
    let mut response = page(
        StatusCode::OK,
        "masuk.html",
        language,
        context! {
            csrf => token,
            next => local_path(query.lanjut.as_deref().unwrap_or("/")),
            notice,
        },
    );
    if let Ok(cookie) = HeaderValue::from_str(&set_cookie(
        SIGN_IN_COOKIE,
        &token,
        config.secure_cookies(),
        None,
    )) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    with_language(response, language_choice(&parts), &config)
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
    csrf: String,
    #[serde(default)]
    lanjut: String,
}

pub async fn sign_in(
    State(state): State<AppState>,
    Extension(config): Extension<WebConfig>,
    request: Request,
) -> Response {
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
    let (parts, body) = request.into_parts();
    let language = language(&parts);
    let expected = cookie(&parts.headers, SIGN_IN_COOKIE).map(str::to_owned);
    let Ok(Form(form)) = Request::from_parts(parts, body)
        .extract::<Form<SignInForm>, _>()
        .await
    else {
        return error_page(
            StatusCode::BAD_REQUEST,
            language,
            None,
            &text(language, "web-form-broken", &[]),
            None,
            Some("/masuk"),
        );
    };
    // The sign-in form's token travels in a cookie too: another site cannot post it.
    if !expected.is_some_and(|e| constant_time_eq(e.as_bytes(), form.csrf.as_bytes())) {
        return error_page(
            StatusCode::FORBIDDEN,
            language,
            None,
            &text(language, "web-form-expired", &[]),
            None,
            Some("/masuk"),
        );
    }
    let next = local_path(&form.lanjut).to_owned();
    match state
        .store
        .sign_in(&form.email, &form.password, &address, state.now())
        .await
    {
        Ok((secret, _)) => {
            let mut response = Redirect::to(&next).into_response();
            for cookie in [
                set_cookie(SESSION_COOKIE, &secret, config.secure_cookies(), None),
                set_cookie(SIGN_IN_COOKIE, "", config.secure_cookies(), Some(0)),
            ] {
                if let Ok(value) = HeaderValue::from_str(&cookie) {
                    response.headers_mut().append(header::SET_COOKIE, value);
                }
            }
            response
        }
        Err(
            error @ StoreError::InvalidRequest(
                Invalid::SignInRefused | Invalid::TooManySignIns { .. },
            ),
        ) => {
            let status = match error {
                StoreError::InvalidRequest(Invalid::TooManySignIns { .. }) => {
                    StatusCode::TOO_MANY_REQUESTS
                }
                _ => StatusCode::UNAUTHORIZED,
            };
            let token = match random_token() {
                Ok(token) => token,
                Err(error) => return store_failure(language, None, &error),
            };
            let mut response = page(
                status,
                "masuk.html",
                language,
                context! {
                    csrf => token,
                    next => next,
                    email => form.email,
                    problem => refusal::error(Names::new(language, None), &error),
                },
            );
            if let Ok(cookie) = HeaderValue::from_str(&set_cookie(
                SIGN_IN_COOKIE,
                &token,
                config.secure_cookies(),
                None,
            )) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(error) => store_failure(language, None, &error),
    }
}

#[derive(Debug, Deserialize)]
pub struct SignOutForm {
    csrf: String,
    #[serde(default)]
    everywhere: Option<String>,
}

pub async fn sign_out(
    State(state): State<AppState>,
    Extension(config): Extension<WebConfig>,
    person: Person,
    headers: axum::http::HeaderMap,
    Form(form): Form<SignOutForm>,
) -> Response {
    if !person.form_token_matches(&form.csrf) {
        return forged(&person);
    }
    let result = match (form.everywhere.is_some(), cookie(&headers, SESSION_COOKIE)) {
        (true, _) => state
            .store
            .sign_out_everywhere(&person.session.user.id)
            .await
            .map(|_| ()),
        (false, Some(secret)) => state.store.sign_out(secret).await,
        (false, None) => Ok(()),
    };
    if let Err(error) = result {
        return store_failure(person.language, Some(&person), &error);
    }
    let mut response = Redirect::to("/masuk").into_response();
    if let Ok(value) = HeaderValue::from_str(&set_cookie(
        SESSION_COOKIE,
        "",
        config.secure_cookies(),
        Some(0),
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// A state-changing form without this session's token: refused, nothing changed.
pub(crate) fn forged(person: &Person) -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        person.language,
        Some(person),
        &text(person.language, "web-form-expired", &[]),
        None,
        Some("/"),
    )
}

pub async fn password_form(
    State(state): State<AppState>,
    Path(link): Path<String>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let language = language(&parts);
    match state.store.link_user(&link, state.now()).await {
        Ok(Some(user)) => page(
            StatusCode::OK,
            "sandi.html",
            language,
            context! {
                user => context! { name => user.name, email => user.email },
                min => swakelola_store::people::MIN_PASSWORD_CHARS,
            },
        ),
        Ok(None) => error_page(
            StatusCode::NOT_FOUND,
            language,
            None,
            &refusal::error(
                Names::new(language, None),
                &StoreError::InvalidRequest(Invalid::LinkNotValid),
            ),
            None,
            None,
        ),
        Err(error) => store_failure(language, None, &error),
    }
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    password: String,
    repeat: String,
}

pub async fn set_password(
    State(state): State<AppState>,
    Path(link): Path<String>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let language = language(&parts);
    let Ok(Form(form)) = Request::from_parts(parts, body)
        .extract::<Form<PasswordForm>, _>()
        .await
    else {
        return error_page(
            StatusCode::BAD_REQUEST,
            language,
            None,
            &text(language, "web-form-broken", &[]),
            None,
            None,
        );
    };
    let problem = if form.password != form.repeat {
        Some(text(language, "web-passwords-differ", &[]))
    } else {
        match state
            .store
            .set_password(&link, &form.password, state.now())
            .await
        {
            Ok(_) => return Redirect::to("/masuk?sandi=1").into_response(),
            Err(error @ StoreError::InvalidRequest(_)) => {
                Some(refusal::error(Names::new(language, None), &error))
            }
            Err(error) => return store_failure(language, None, &error),
        }
    };
    let user = state
        .store
        .link_user(&link, state.now())
        .await
        .ok()
        .flatten();
    page(
        StatusCode::UNPROCESSABLE_ENTITY,
        "sandi.html",
        language,
        context! {
            user => user.map(|u| context! { name => u.name, email => u.email }),
            min => swakelola_store::people::MIN_PASSWORD_CHARS,
            problem,
        },
    )
}

/// One line of *Tugas saya*.
#[derive(Debug, serde::Serialize)]
struct Task {
    href: String,
    business_key: String,
    title: String,
    stage: String,
    deadline: Option<String>,
    urgency: &'static str,
    actions: Vec<String>,
}

/// Cases per page of *Tugas saya*.
const TASK_PAGE: u32 = 50;

#[derive(Debug, Deserialize)]
pub struct TaskQuery {
    halaman: Option<u32>,
}

/// *Tugas saya*: the open cases of the person's organisation where one of their roles can act
/// or something falls due, most urgent first. The store orders and counts (an index on each
/// case's earliest due instant); the page builds the view of one page of cases only.
pub async fn my_tasks(
    State(state): State<AppState>,
    Extension(config): Extension<WebConfig>,
    person: Person,
    Query(query): Query<TaskQuery>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let language = person.language;
    let now = state.now();
    let organisation = person.session.user.organisation.clone();
    let page_number = query.halaman.unwrap_or(1).max(1);
    let cases = match state
        .store
        .cases_by_urgency(
            &organisation,
            (page_number - 1).saturating_mul(TASK_PAGE),
            TASK_PAGE,
        )
        .await
    {
        Ok(cases) => cases,
        Err(error) => return store_failure(language, Some(&person), &error),
    };
    // Every deployed version's engine: the counts need each version's "soon" (its calendar),
    // the page the engines of its cases. A version that does not load is logged and left out.
    let engines: HashMap<(String, u32), Arc<Engine>> = match state.store.deployed_engines().await {
        Ok(loaded) => loaded
            .into_iter()
            .filter_map(|(key, engine)| match engine {
                Ok(engine) => Some((key, engine)),
                Err(error) => {
                    tracing::warn!(workflow = %key.0, version = key.1, %error,
                        "a deployed workflow version does not load; its cases are left out");
                    None
                }
            })
            .collect(),
        Err(error) => return store_failure(language, Some(&person), &error),
    };
    let soon_until: Vec<swakelola_store::SoonUntil> = engines
        .iter()
        .filter_map(|((workflow_id, workflow_version), engine)| {
            Some(swakelola_store::SoonUntil {
                workflow_id: workflow_id.clone(),
                workflow_version: *workflow_version,
                until: swakelola_view::soon_until(&engine.calendar, now)?,
            })
        })
        .collect();
    let counts = match state
        .store
        .urgency_counts(&organisation, now, &soon_until)
        .await
    {
        Ok(counts) => counts,
        Err(error) => return store_failure(language, Some(&person), &error),
    };
    let mut tasks = Vec::new();
    for case in cases.iter().filter(|c| person.principal.sees(c)) {
        let Some(engine) = engines.get(&(case.workflow_id.clone(), case.workflow_version)) else {
            continue;
        };
        let labels = Labels::new(&engine.workflow, language);
        let roles = person.principal.roles_on(&engine.workflow, case);
        if roles.is_empty() {
            continue;
        }
        // The list shows no records: their rows are not read for it.
        let view = CaseView::build(labels, case, &Default::default(), Some(&roles), now);
        let next = NextDeadline::of(labels, case, &engine.calendar, now);
        let actions: Vec<String> = view
            .actions
            .iter()
            .filter(|a| a.ready)
            .map(|a| a.transition.label.clone())
            .collect();
        if actions.is_empty() && next.is_none() {
            continue;
        }
        let urgency = match &next {
            Some(n) if n.overdue => "late",
            Some(n) if n.is_soon() => "soon",
            _ => "other",
        };
        tasks.push(Task {
            href: format!("/kasus/{}", crate::session::url_escape(&case.business_key)),
            business_key: case.business_key.clone(),
            title: case_title(&engine.workflow, case),
            stage: view.stage.label.clone(),
            deadline: next.map(|n| n.text),
            urgency,
            actions,
        });
    }
    let other = counts.open.saturating_sub(counts.overdue + counts.soon);
    let counts = context! { late => counts.overdue, soon => counts.soon, other };
    let next =
        (cases.len() == TASK_PAGE as usize).then(|| format!("/?halaman={}", page_number + 1));
    let previous = (page_number > 1).then(|| format!("/?halaman={}", page_number - 1));
    let response = page(
        StatusCode::OK,
        "tugas.html",
        language,
        context! {
            tasks,
            counts,
            soon_days => swakelola_view::SOON_WORKING_DAYS,
            next,
            previous,
            ..person_context(&person)
        },
    );
    with_language(response, language_choice(&parts), &config)
}

/// A case's title: its first required text field (`nama_kegiatan`, `judul`), or its key.
fn case_title(workflow: &swakelola_core::Workflow, case: &CaseRecord) -> String {
    workflow
        .fields
        .iter()
        .find(|f| f.required && f.field_type == swakelola_core::FieldType::Text)
        .and_then(|f| case.state.fields.get(&f.id))
        .map_or_else(|| case.business_key.clone(), ToString::to_string)
}

/// What the case page shows besides the case: a notice, a refusal with what is missing, the
/// comment a person typed (kept when their step was refused).
#[derive(Debug, Default)]
struct Outcome {
    status: Option<StatusCode>,
    notice: Option<String>,
    problem: Option<String>,
    comment: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CaseQuery {
    selesai: Option<String>,
}

pub async fn case_page(
    State(state): State<AppState>,
    Extension(config): Extension<WebConfig>,
    person: Person,
    Path(key): Path<String>,
    Query(query): Query<CaseQuery>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let outcome = Outcome {
        notice: query
            .selesai
            .is_some()
            .then(|| text(person.language, "web-done", &[])),
        ..Outcome::default()
    };
    let response = render_case(&state, &person, &key, outcome).await;
    with_language(response, language_choice(&parts), &config)
}

async fn render_case(state: &AppState, person: &Person, key: &str, outcome: Outcome) -> Response {
    let language = person.language;
    let case = match person.principal.case(state, key).await {
        Ok(case) => case,
        Err(answer) => {
            return error_page(
                answer.status,
                language,
                Some(person),
                &localized_message(&answer, language),
                None,
                Some("/"),
            );
        }
    };
    let engine = match state
        .store
        .engine_for(&case.workflow_id, case.workflow_version)
        .await
    {
        Ok(engine) => engine,
        Err(error) => return store_failure(language, Some(person), &error),
    };
    let (history, verification, entries) = match (
        state.store.history(&case.id).await,
        state.store.verify(&case.id).await,
        state.store.records_of(&case.id).await,
    ) {
        (Ok(history), Ok(verification), Ok(entries)) => (history, verification, entries),
        (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => {
            return store_failure(language, Some(person), &error);
        }
    };
    let links = match related_cases(state, person, &case, language).await {
        Ok(links) => links,
        Err(error) => return store_failure(language, Some(person), &error),
    };
    let workflow = &engine.workflow;
    let labels = Labels::new(workflow, language);
    let roles = person.principal.roles_on(workflow, &case);
    let view = CaseView::build(labels, &case, &entries, Some(&roles), state.now());
    let base = format!("/kasus/{}", crate::session::url_escape(&case.business_key));
    let position = workflow
        .stages
        .iter()
        .position(|s| s.id == view.stage.id)
        .map_or(0, |i| i + 1);
    let actions: Vec<minijinja::Value> = view
        .actions
        .iter()
        .map(|a| {
            context! {
                id => a.transition.id,
                label => a.transition.label,
                to => a.to.label,
                href => format!("{base}/langkah/{}", crate::session::url_escape(&a.transition.id)),
                needs => a.needs.iter().map(|n| n.text.clone()).collect::<Vec<_>>(),
                comment_required => a.comment_required,
                ready => a.ready,
                approvals => a.approvals.iter().map(|p| context! {
                    role => p.role.label,
                    by => p.approved_by,
                }).collect::<Vec<_>>(),
                decline_href => format!("{base}/tolak/{}", crate::session::url_escape(&a.transition.id)),
                signed => a.signed,
            }
        })
        .collect();
    // What the person's roles may change, on an open case only.
    let open = !case.state.is_closed();
    let may = |allowed: &[String]| {
        open && roles
            .iter()
            .any(|r| allowed.is_empty() || allowed.iter().any(|a| a == r))
    };
    let attachable: Vec<minijinja::Value> = workflow
        .documents
        .iter()
        .filter(|d| may(&d.attach_by))
        .map(|d| context! { id => d.id, label => labels.text(&d.label) })
        .collect();
    let settable: Vec<minijinja::Value> = workflow
        .fields
        .iter()
        .filter(|f| may(&f.set_by))
        .map(|f| context! { id => f.id, label => labels.text(&f.label) })
        .collect();
    // The kinds of record this person may add, each with a form for its fields.
    let addable: Vec<minijinja::Value> = workflow
        .records
        .iter()
        .filter(|r| may(&r.add_by))
        .map(|r| {
            context! {
                id => r.id,
                label => labels.text(&r.label),
                href => format!("{base}/catatan/{}", crate::session::url_escape(&r.id)),
                fields => r.fields.iter().map(|f| context! {
                    id => f.id,
                    label => labels.text(&f.label),
                    required => f.required,
                    kind => match f.field_type {
                        swakelola_core::FieldType::Date => "date",
                        _ => "text",
                    },
                }).collect::<Vec<_>>(),
            }
        })
        .collect();
    let documents: Vec<minijinja::Value> = view
        .documents
        .iter()
        .map(|d| {
            context! {
                label => d.document.label,
                file_name => d.file_name,
                size => format_size(d.size),
                by => format!("{} ({})", d.attached_by, d.role.label),
                href => format!("{base}/dokumen/{}", d.sha256),
            }
        })
        .collect();
    let history: Vec<minijinja::Value> = history
        .iter()
        .rev()
        .map(|stored| {
            let line = HistoryLine::build(labels, stored);
            context! {
                when => swakelola_view::local_time(line.at, &engine.calendar, language),
                actor => line.actor,
                role => line.role.label,
                text => line.text,
            }
        })
        .collect();
    let form_key = match random_token() {
        Ok(key) => key,
        Err(error) => return store_failure(language, Some(person), &error),
    };
    let events = verification.events.to_string();
    let chain = match verification.first_tampered {
        None => text(language, "verify-intact", &[("events", &events)]),
        Some(seq) => text(
            language,
            "verify-tampered",
            &[("event", &seq.to_string()), ("events", &events)],
        ),
    };
    page(
        outcome.status.unwrap_or(StatusCode::OK),
        "kasus.html",
        language,
        context! {
            case => view,
            links,
            title => case_title(workflow, &case),
            position,
            stages => workflow.stages.len(),
            actions,
            attachable,
            settable,
            addable,
            documents,
            history,
            chain,
            chain_intact => verification.first_tampered.is_none(),
            upload_href => format!("{base}/dokumen"),
            diagram_href => format!("{base}/alur.svg"),
            diagram_note => diagram_note(workflow, labels),
            field_href => format!("{base}/data"),
            max_upload => format_size(MAX_UPLOAD_BYTES as u64),
            form_key => form_key,
            notice => outcome.notice,
            problem => outcome.problem,
            comment => outcome.comment.unwrap_or_default(),
            ..person_context(person)
        },
    )
}

/// The cases linked to `case` that this person may see, each with the page to open it; the
/// others show nothing of themselves, not even that they exist.
async fn related_cases(
    state: &AppState,
    person: &Person,
    case: &CaseRecord,
    language: Language,
) -> Result<Vec<minijinja::Value>, StoreError> {
    let lines = visible_link_lines(state, &person.principal, &case.id, language).await?;
    Ok(lines
        .into_iter()
        .map(|line| {
            context! {
                href => format!("/kasus/{}", crate::session::url_escape(&line.business_key)),
                relation => line.relation,
                business_key => line.business_key,
                organisation => line.organisation,
                stage => line.stage.label,
            }
        })
        .collect())
}

/// An SVG diagram as a response: never cached without asking (the case moves on).
fn svg_response(svg: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-cache"),
        ],
        svg,
    )
        .into_response()
}

/// The case's workflow as a diagram: its stage highlighted, the stages it went through shaded.
pub async fn case_diagram(
    State(state): State<AppState>,
    person: Person,
    Path(key): Path<String>,
) -> Response {
    let language = person.language;
    let case = match person.principal.case(&state, &key).await {
        Ok(case) => case,
        Err(answer) => {
            let message = localized_message(&answer, language);
            return error_page(answer.status, language, Some(&person), &message, None, None);
        }
    };
    let (engine, history) = match (
        state
            .store
            .engine_for(&case.workflow_id, case.workflow_version)
            .await,
        state.store.history(&case.id).await,
    ) {
        (Ok(engine), Ok(history)) => (engine, history),
        (Err(error), _) | (_, Err(error)) => {
            return store_failure(language, Some(&person), &error);
        }
    };
    let labels = Labels::new(&engine.workflow, language);
    let visited = crate::diagram::visited_stages(&history);
    match crate::diagram::svg(&engine.workflow, labels, Some(&case.state.stage), &visited) {
        Some(svg) => svg_response(svg),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

/// A deployed workflow version as a diagram (*Admin · Alur kerja*).
pub async fn workflow_diagram(
    State(state): State<AppState>,
    person: Person,
    Path((workflow, version)): Path<(String, u32)>,
) -> Response {
    if let Some(refused) = operator_only(&person) {
        return refused;
    }
    let engine = match state.store.engine_for(&workflow, version).await {
        Ok(engine) => engine,
        Err(error) => return store_failure(person.language, Some(&person), &error),
    };
    let labels = Labels::new(&engine.workflow, person.language);
    match crate::diagram::svg(&engine.workflow, labels, None, &Default::default()) {
        Some(svg) => svg_response(svg),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

/// What the diagram leaves out, said next to it: the stages drawn without their arrows.
fn diagram_note(workflow: &swakelola_core::Workflow, labels: Labels<'_>) -> Option<String> {
    let crowded: Vec<String> = crate::diagram::crowded_stages(workflow)
        .iter()
        .map(|s| format!("«{}»", labels.text(&s.label)))
        .collect();
    (!crowded.is_empty()).then(|| {
        text(
            labels.language,
            "web-diagram-crowded",
            &[("stages", &crowded.join(", "))],
        )
    })
}

fn format_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{} KiB", b / 1024),
        b => format!("{b} B"),
    }
}

/// After a command: back to the case on success; the case with the refusal and the typed
/// comment kept when the workflow refused; the conflict page (with the comment) when someone
/// changed the case meanwhile.
async fn after_command(
    state: &AppState,
    person: &Person,
    key: &str,
    result: Result<swakelola_store::Applied, ApiError>,
    comment: Option<String>,
) -> Response {
    let language = person.language;
    match result {
        Ok(_) => Redirect::to(&format!(
            "/kasus/{}?selesai=1",
            crate::session::url_escape(key)
        ))
        .into_response(),
        Err(answer) => {
            let back = format!("/kasus/{}", crate::session::url_escape(key));
            let changed_meanwhile = matches!(
                answer.localize.as_deref(),
                Some(swakelola_api::error::Localize::Store(error))
                    if matches!(error.as_ref(), StoreError::Conflict(Conflict::StaleRevision { .. } | Conflict::ChangedMeanwhile))
            );
            if changed_meanwhile {
                return error_page(
                    StatusCode::CONFLICT,
                    language,
                    Some(person),
                    &text(language, "web-changed-meanwhile", &[]),
                    comment.as_deref(),
                    Some(&back),
                );
            }
            // The same rendering as the API's answers: the workflow's labels, the language.
            let message = match answer.localize.as_deref() {
                Some(localize) => localize.render_for(state, language).await.message,
                None => answer.message.clone(),
            };
            // A refusal of the workflow is shown on the case, next to the forms; anything else
            // is a page of its own.
            let refused = matches!(
                answer.localize.as_deref(),
                Some(swakelola_api::error::Localize::Store(error))
                    if matches!(error.as_ref(), StoreError::Rejected { .. })
            );
            if refused || answer.status == StatusCode::UNPROCESSABLE_ENTITY {
                render_case(
                    state,
                    person,
                    key,
                    Outcome {
                        status: Some(answer.status),
                        problem: Some(message),
                        comment,
                        ..Outcome::default()
                    },
                )
                .await
            } else {
                error_page(
                    answer.status,
                    language,
                    Some(person),
                    &message,
                    comment.as_deref(),
                    Some(&back),
                )
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct StepForm {
    csrf: String,
    revision: Option<u64>,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    kunci: String,
}

/// Declines a joint sign-off with the reason typed in the step's form.
pub async fn decline_step(
    State(state): State<AppState>,
    person: Person,
    Path((key, transition)): Path<(String, String)>,
    Form(form): Form<StepForm>,
) -> Response {
    if !person.form_token_matches(&form.csrf) {
        return forged(&person);
    }
    let comment = form.comment.clone();
    let result = perform(
        &state,
        &person.principal,
        (&key, None, Target::Decline(&transition)),
        Action::Decline {
            transition: transition.clone(),
            comment: comment.clone(),
        },
        (form.revision, &IdempotencyKey(None)),
    )
    .await;
    after_command(&state, &person, &key, result, Some(comment)).await
}

pub async fn take_step(
    State(state): State<AppState>,
    person: Person,
    Path((key, transition)): Path<(String, String)>,
    Form(form): Form<StepForm>,
) -> Response {
    if !person.form_token_matches(&form.csrf) {
        return forged(&person);
    }
    let comment = (!form.comment.trim().is_empty()).then(|| form.comment.clone());
    let idempotency = IdempotencyKey((!form.kunci.is_empty()).then(|| form.kunci.clone()));
    let result = perform(
        &state,
        &person.principal,
        (&key, None, Target::Transition(&transition)),
        Action::Fire {
            transition: transition.clone(),
            comment: comment.clone(),
        },
        (form.revision, &idempotency),
    )
    .await;
    after_command(&state, &person, &key, result, comment).await
}

#[derive(Debug, Deserialize)]
pub struct FieldForm {
    csrf: String,
    revision: Option<u64>,
    field: String,
    value: String,
}

/// Adds a record of a kind (a termin payment, …) from the case page's form: its fields come
/// as `isi_<field>`.
pub async fn add_record(
    State(state): State<AppState>,
    person: Person,
    Path((key, record)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let form = crate::session::Posted::parse(&body);
    if !person.form_token_matches(&form.one("csrf")) {
        return forged(&person);
    }
    let values: Vec<(String, String)> = form
        .fields()
        .filter_map(|(name, value)| {
            let field = name.strip_prefix("isi_")?;
            // A field left empty is not given (the workflow says whether it is required).
            (!value.trim().is_empty()).then(|| (field.to_owned(), value.trim().to_owned()))
        })
        .collect();
    let revision = form.one("revision").parse().ok();
    let result = perform(
        &state,
        &person.principal,
        (&key, None, Target::Record(&record)),
        Action::AddRecord {
            record: record.clone(),
            values,
        },
        (revision, &IdempotencyKey(None)),
    )
    .await;
    after_command(&state, &person, &key, result, None).await
}

pub async fn set_field(
    State(state): State<AppState>,
    person: Person,
    Path(key): Path<String>,
    Form(form): Form<FieldForm>,
) -> Response {
    if !person.form_token_matches(&form.csrf) {
        return forged(&person);
    }
    let result = perform(
        &state,
        &person.principal,
        (&key, None, Target::Field(&form.field)),
        Action::SetField {
            field: form.field.clone(),
            value: form.value.clone(),
        },
        (form.revision, &IdempotencyKey(None)),
    )
    .await;
    after_command(&state, &person, &key, result, Some(form.value)).await
}

pub async fn attach(
    State(state): State<AppState>,
    person: Person,
    Path(key): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let language = person.language;
    let mut csrf = String::new();
    let mut revision = None;
    let mut document_type = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    language,
                    Some(&person),
                    &text(language, "web-form-broken", &[]),
                    None,
                    Some("/"),
                );
            }
        };
        match field.name().unwrap_or_default() {
            "csrf" => csrf = field.text().await.unwrap_or_default(),
            "revision" => revision = field.text().await.ok().and_then(|t| t.parse().ok()),
            "document_type" => document_type = field.text().await.unwrap_or_default(),
            "file" => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let mut bytes = Vec::new();
                let mut field = field;
                while let Ok(Some(chunk)) = field.chunk().await {
                    if bytes.len() + chunk.len() > MAX_UPLOAD_BYTES {
                        return error_page(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            language,
                            Some(&person),
                            &text(
                                language,
                                "web-file-too-large",
                                &[("max", &format_size(MAX_UPLOAD_BYTES as u64))],
                            ),
                            None,
                            Some(&format!("/kasus/{}", crate::session::url_escape(&key))),
                        );
                    }
                    bytes.extend_from_slice(&chunk);
                }
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    if !person.form_token_matches(&csrf) {
        return forged(&person);
    }
    let Some((file_name, content)) = file.filter(|(_, bytes)| !bytes.is_empty()) else {
        let answer = ApiError::unprocessable_localized("body", "api-empty-document", &[]);
        return after_command(&state, &person, &key, Err(answer), None).await;
    };
    let result = async {
        let (case, role) = acting_on(
            &state,
            &person.principal,
            &key,
            None,
            Target::Document(&document_type),
        )
        .await?;
        execute(
            &state,
            &person.principal,
            &case,
            (
                role,
                Action::Attach {
                    document_type: document_type.clone(),
                    file_name: file_name.clone(),
                    sha256: swakelola_store::sha256_hex(&content),
                    size: content.len() as u64,
                },
            ),
            revision,
            &IdempotencyKey(None),
            Some(content),
        )
        .await
    }
    .await;
    after_command(&state, &person, &key, result, None).await
}

/// A document of a case the person may see, always as a download (never shown inline, so a
/// stored HTML file cannot run in the site's origin).
pub async fn download(
    State(state): State<AppState>,
    person: Person,
    Path((key, sha256)): Path<(String, String)>,
) -> Response {
    let language = person.language;
    let case = match person.principal.case(&state, &key).await {
        Ok(case) => case,
        Err(answer) => {
            return error_page(
                answer.status,
                language,
                Some(&person),
                &localized_message(&answer, language),
                None,
                Some("/"),
            );
        }
    };
    let Some(document) = case.state.documents.iter().find(|d| d.sha256 == sha256) else {
        return error_page(
            StatusCode::NOT_FOUND,
            language,
            Some(&person),
            &text(language, "web-no-such-document", &[]),
            None,
            Some(&format!("/kasus/{}", crate::session::url_escape(&key))),
        );
    };
    match state.store.document(&sha256).await {
        Ok(bytes) => {
            let safe_name: String = document
                .file_name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            (
                [
                    (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{safe_name}\""),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        Err(error) => store_failure(language, Some(&person), &error),
    }
}

/// How many cases a page of the list shows.
const PAGE_SIZE: u32 = 25;

/// The filters of the case list, as the form sends them.
#[derive(Debug, Default, Deserialize, serde::Serialize)]
pub struct ListQuery {
    #[serde(default)]
    cari: String,
    #[serde(default)]
    alur: String,
    #[serde(default)]
    tahap: String,
    #[serde(default)]
    tahun: String,
    #[serde(default)]
    terlambat: Option<String>,
    #[serde(default)]
    setelah: Option<String>,
}

/// *Kasus*: the cases the person's organisation takes part in, filtered, a page at a time.
pub async fn case_list(
    State(state): State<AppState>,
    person: Person,
    Query(query): Query<ListQuery>,
) -> Response {
    let language = person.language;
    let now = state.now();
    let deployed = match state.store.workflows().await {
        Ok(deployed) => deployed,
        Err(error) => return store_failure(language, Some(&person), &error),
    };
    // The newest version of each workflow names it and its stages.
    let mut newest: BTreeMap<String, u32> = BTreeMap::new();
    for w in &deployed {
        let version = newest.entry(w.id.clone()).or_insert(w.version);
        *version = (*version).max(w.version);
    }
    let mut workflows = Vec::new();
    let mut stages = Vec::new();
    for (id, version) in &newest {
        let Ok(engine) = state.store.engine_for(id, *version).await else {
            continue;
        };
        let labels = Labels::new(&engine.workflow, language);
        workflows.push(context! { id => id, label => labels.text(&engine.workflow.label) });
        if *id == query.alur {
            stages = engine
                .workflow
                .stages
                .iter()
                .map(|s| context! { id => s.id, label => labels.text(&s.label) })
                .collect();
        }
    }
    let filled = |text: &str| (!text.trim().is_empty()).then(|| text.trim().to_owned());
    let filter = CaseFilter {
        visible_to: Some(person.session.user.organisation.clone()),
        workflow_id: filled(&query.alur),
        stage: filled(&query.tahap),
        fiscal_year: query.tahun.trim().parse().ok(),
        overdue_at: query.terlambat.is_some().then_some(now),
        text: filled(&query.cari),
        after: query.setelah.clone(),
        limit: PAGE_SIZE + 1,
        ..CaseFilter::default()
    };
    let mut cases = match state.store.cases(&filter).await {
        Ok(cases) => cases,
        Err(error) => return store_failure(language, Some(&person), &error),
    };
    let more = cases.len() > PAGE_SIZE as usize;
    cases.truncate(PAGE_SIZE as usize);
    let engines = match state.store.engines_of(&cases).await {
        Ok(engines) => engines,
        Err(error) => return store_failure(language, Some(&person), &error),
    };
    let rows: Vec<minijinja::Value> = cases
        .iter()
        .filter(|case| person.principal.sees(case))
        .filter_map(|case| {
            let engine = engines.get(&(case.workflow_id.clone(), case.workflow_version))?;
            let labels = Labels::new(&engine.workflow, language);
            let next = NextDeadline::of(labels, case, &engine.calendar, now);
            Some(context! {
                href => format!("/kasus/{}", crate::session::url_escape(&case.business_key)),
                business_key => case.business_key,
                title => case_title(&engine.workflow, case),
                organisation => case.organisation,
                stage => labels.stage(&case.state.stage).label,
                overdue => next.as_ref().is_some_and(|n| n.overdue),
                deadline => next.map(|n| n.text).unwrap_or_default(),
            })
        })
        .collect();
    let next = (more).then(|| cases.last()).flatten().map(|last| {
        let mut params = vec![
            ("cari", query.cari.clone()),
            ("alur", query.alur.clone()),
            ("tahap", query.tahap.clone()),
            ("tahun", query.tahun.clone()),
            ("setelah", last.id.clone()),
        ];
        if query.terlambat.is_some() {
            params.push(("terlambat", "1".to_owned()));
        }
        let encoded: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::session::url_escape(v)))
            .collect();
        format!("/kasus?{}", encoded.join("&"))
    });
    page(
        StatusCode::OK,
        "daftar.html",
        language,
        context! {
            query => context! {
                cari => query.cari,
                alur => query.alur,
                tahap => query.tahap,
                tahun => query.tahun,
                terlambat => query.terlambat.is_some(),
            },
            workflows,
            stages,
            rows,
            next,
            ..person_context(&person)
        },
    )
}

/// The administration of workflows is the installation's operator's (like deploying through
/// the API): anyone else gets the 403 page naming the role needed.
fn operator_only(person: &Person) -> Option<Response> {
    (!person.principal.0.is_operator()).then(|| {
        error_page(
            StatusCode::FORBIDDEN,
            person.language,
            Some(person),
            &text(person.language, "api-operator-only", &[]),
            None,
            Some("/"),
        )
    })
}

async fn workflows_page(
    state: &AppState,
    person: &Person,
    status: StatusCode,
    checked: Option<minijinja::Value>,
    notice: Option<String>,
) -> Response {
    let language = person.language;
    let deployed = match state.store.workflows().await {
        Ok(deployed) => deployed,
        Err(error) => return store_failure(language, Some(person), &error),
    };
    let mut rows = Vec::new();
    for w in deployed.iter().rev() {
        // Named, and its time told, the way its own calendar does.
        let (label, at) = match state.store.engine_for(&w.id, w.version).await {
            Ok(engine) => (
                Labels::new(&engine.workflow, language).text(&engine.workflow.label),
                swakelola_view::local_time(w.deployed_at, &engine.calendar, language),
            ),
            Err(_) => (w.id.clone(), w.deployed_at.to_string()),
        };
        rows.push(context! {
            diagram_href => format!(
                "/admin/alur/{}/{}/alur.svg",
                crate::session::url_escape(&w.id),
                w.version
            ),
            id => w.id,
            version => w.version,
            label => label,
            at => at,
        });
    }
    page(
        status,
        "admin-alur.html",
        language,
        context! { deployed => rows, checked, notice, ..person_context(person) },
    )
}

/// *Admin · Alur kerja*: the deployed versions, and a form to upload a workflow file.
pub async fn admin_workflows(State(state): State<AppState>, person: Person) -> Response {
    if let Some(refused) = operator_only(&person) {
        return refused;
    }
    workflows_page(&state, &person, StatusCode::OK, None, None).await
}

/// An uploaded workflow file: checked against the deployed calendars exactly as a deploy
/// would check it, its diagnostics shown with `line:column`; deployed when confirmed.
pub async fn admin_upload(
    State(state): State<AppState>,
    person: Person,
    mut multipart: Multipart,
) -> Response {
    if let Some(refused) = operator_only(&person) {
        return refused;
    }
    let language = person.language;
    let (mut csrf, mut name, mut source, mut deploy) =
        (String::new(), String::new(), String::new(), false);
    while let Ok(Some(field)) = multipart.next_field().await {
        match field.name().unwrap_or_default() {
            "csrf" => csrf = field.text().await.unwrap_or_default(),
            "name" => name = field.text().await.unwrap_or_default(),
            "deploy" => deploy = true,
            "source" => source = field.text().await.unwrap_or_default(),
            "file" => {
                name = field.file_name().unwrap_or("alur.yaml").to_owned();
                let bytes = field.bytes().await.unwrap_or_default();
                source = String::from_utf8_lossy(&bytes).into_owned();
            }
            _ => {}
        }
    }
    if !person.form_token_matches(&csrf) {
        return forged(&person);
    }
    let name = if name.trim().is_empty() {
        "alur.yaml".to_owned()
    } else {
        name
    };
    if deploy {
        return match state.store.deploy(&name, &source, &[], state.now()).await {
            Ok(deployment) => {
                let notice = text(
                    language,
                    "web-deployed",
                    &[
                        ("workflow", &deployment.workflow.id),
                        ("version", &deployment.workflow.version.to_string()),
                    ],
                );
                workflows_page(&state, &person, StatusCode::OK, None, Some(notice)).await
            }
            Err(StoreError::InvalidWorkflow(_)) | Err(StoreError::InvalidRequest(_)) => {
                check_and_show(&state, &person, &name, &source).await
            }
            Err(error) => store_failure(language, Some(&person), &error),
        };
    }
    check_and_show(&state, &person, &name, &source).await
}

async fn check_and_show(state: &AppState, person: &Person, name: &str, source: &str) -> Response {
    let calendars = match state.store.calendar_files().await {
        Ok(calendars) => calendars,
        Err(error) => return store_failure(person.language, Some(person), &error),
    };
    let bundle =
        swakelola_definition::load_sources(&[(name.to_owned(), source.to_owned())], &calendars);
    let diagnostics: Vec<minijinja::Value> = bundle
        .diagnostics
        .iter()
        .filter(|d| d.file == name)
        .map(|d| {
            context! {
                at => format!("{}:{}", d.line, d.column),
                code => format!("{:?}", d.code),
                error => d.is_error(),
                message => d.message,
                hint => d.hint,
            }
        })
        .collect();
    let valid = !bundle.has_errors();
    let workflow = bundle
        .workflows
        .first()
        .map(|d| d.workflow.id.clone())
        .unwrap_or_default();
    let status = if valid {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    workflows_page(
        state,
        person,
        status,
        Some(context! {
            file => name,
            source => source,
            diagnostics,
            valid,
            workflow,
        }),
        None,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct AgendaQuery {
    hari: Option<u32>,
}

/// *Agenda*: what falls due, and which reminders and escalations go out, for the cases of the
/// person's organisation in the coming days (14 unless `?hari=` says otherwise, at most 366).
pub async fn agenda(
    State(state): State<AppState>,
    person: Person,
    Query(query): Query<AgendaQuery>,
) -> Response {
    let language = person.language;
    let days = query.hari.unwrap_or(14).clamp(1, 366);
    let now = state.now();
    let until = now
        .checked_add(jiff::SignedDuration::from_hours(24 * i64::from(days)))
        .unwrap_or(now);
    let agenda = match state
        .store
        .agenda(until, 1000, Some(&person.session.user.organisation))
        .await
    {
        Ok(agenda) => agenda,
        Err(error) => return store_failure(language, Some(&person), &error),
    };
    let entries: Vec<minijinja::Value> = agenda
        .iter()
        .filter(|(_, case, _)| person.principal.sees(case))
        .filter_map(|(timer, case, engine)| {
            let labels = Labels::new(&engine.workflow, language);
            let entry = swakelola_view::AgendaEntry::build(labels, case, &timer.key, now)?;
            Some(context! {
                when => swakelola_view::local_time(entry.at, &engine.calendar, language),
                due_now => entry.due_now,
                href => format!("/kasus/{}", crate::session::url_escape(&entry.business_key)),
                business_key => entry.business_key,
                what => entry.what,
                obligation => entry.obligation.unwrap_or(entry.stage.label),
                due => entry.due,
                recipients => entry
                    .recipients
                    .iter()
                    .map(|r| r.label.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        })
        .collect();
    page(
        StatusCode::OK,
        "agenda.html",
        language,
        context! { entries, days, ..person_context(&person) },
    )
}
