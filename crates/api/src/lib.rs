//! The swakelola HTTP API: every case operation of the CLI as JSON over HTTP, for agency and
//! CSO staff and for other systems (a regional dashboard, a messaging bot).
//!
//! Every request except `/healthz` and `/readyz` is authenticated with a bearer token (see
//! [`auth`]); a caller sees only cases its organisation is a party to, and acts only in roles
//! its token holds and the workflow gives its side. Handlers translate HTTP into store
//! commands and back — they never decide a transition themselves (that is
//! `swakelola-core`'s job, run inside the store's transaction) and never hold a write
//! transaction across network IO. The OpenAPI document is generated from the handlers'
//! annotations, so routes and documentation cannot drift apart.

pub mod auth;
pub mod cases;
pub mod error;
pub mod extract;
pub mod system;
mod workflows;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use jiff::Timestamp;
use metrics_exporter_prometheus::PrometheusHandle;
use swakelola_store::SqlStore;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::{ApiError, ApiResult};

/// Limits on what a request may carry and how long it may take.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest JSON body, in bytes.
    pub json_bytes: usize,
    /// Largest uploaded document, in bytes (never more than the store accepts).
    pub upload_bytes: usize,
    /// Longest a request may take before it is answered with 408.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            json_bytes: 64 * 1024,
            upload_bytes: swakelola_store::MAX_DOCUMENT_BYTES,
            timeout: Duration::from_secs(60),
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<SqlStore>,
    /// The clock commands are stamped with (tests use a fixed one).
    pub clock: fn() -> Timestamp,
    /// Renders `/metrics` when a Prometheus recorder is installed.
    pub metrics: Option<PrometheusHandle>,
    pub limits: Limits,
    /// Notified after each successful command, to wake a runner in the same process.
    pub work: Option<Arc<tokio::sync::Notify>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("limits", &self.limits)
            .field("metrics", &self.metrics.is_some())
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(store: Arc<SqlStore>) -> Self {
        AppState {
            store,
            clock: Timestamp::now,
            metrics: None,
            limits: Limits::default(),
            work: None,
        }
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// Tells a runner in this process that a command may have created due work.
    pub(crate) fn new_work(&self) {
        if let Some(work) = &self.work {
            work.notify_one();
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "swakelola",
        description = "Swakelola Tipe III workflow engine: cases, workflows and documents of government–civil-society partnerships. Authenticate with `Authorization: Bearer swk_…` (tokens from `swakelola token create`). Mutating requests accept an `Idempotency-Key` header.",
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "cases", description = "Open, inspect and move cases"),
        (name = "workflows", description = "Deployed workflow versions"),
        (name = "admin", description = "Your organisation's tokens and outbox (the `admin` role); metrics (the `operator` role)"),
        (name = "system", description = "Health and the API description"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("swk_<64 hex digits>")
                        .build(),
                ),
            );
    }
}

/// The routes with their OpenAPI description.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(system::healthz))
        .routes(routes!(system::readyz))
        .routes(routes!(system::metrics))
        .routes(routes!(system::openapi_json))
        .routes(routes!(workflows::list, workflows::deploy))
        .routes(routes!(workflows::migrate))
        .routes(routes!(workflows::show))
        .routes(routes!(workflows::diagram))
        .routes(routes!(cases::list, cases::open))
        .routes(routes!(cases::show))
        .routes(routes!(cases::fire))
        .routes(routes!(cases::set_field))
        .routes(routes!(cases::add_record))
        .routes(routes!(cases::decline))
        .routes(routes!(cases::add_member))
        .routes(routes!(cases::withdraw_member))
        .routes(routes!(cases::link))
        .routes(routes!(cases::partnership))
        .routes(routes!(cases::set_contacts))
        .routes(routes!(cases::attach))
        .routes(routes!(cases::download))
        .routes(routes!(cases::history))
        .routes(routes!(cases::verify))
        .routes(routes!(cases::agenda))
        .routes(routes!(cases::invitations))
        .routes(routes!(cases::accept))
        .routes(routes!(system::outbox))
        .routes(routes!(system::list_tokens, system::create_token))
        .routes(routes!(system::revoke_token))
}

/// The OpenAPI 3.1 document of this API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut openapi = routes().split_for_parts().1;
    document_common_errors(&mut openapi);
    openapi
}

/// Adds the error answers the shared extractors and middleware give, so that the document
/// lists every status an operation can answer: 400 for a malformed query, path or
/// `Idempotency-Key`, 401 without a valid token, 413/415/422 for bodies that are too large,
/// not JSON or of the wrong shape.
fn document_common_errors(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
    };
    for (path, item) in openapi.paths.paths.iter_mut() {
        let operations = [
            (&mut item.get, false),
            (&mut item.post, true),
            (&mut item.put, true),
            (&mut item.delete, true),
        ];
        for (operation, changes) in operations {
            let Some(operation) = operation.as_mut() else {
                continue;
            };
            use utoipa::openapi::path::ParameterIn;
            use utoipa::openapi::security::SecurityRequirement;
            // `security(())` in a handler's annotation: no token needed.
            let anonymous = operation
                .security
                .as_ref()
                .is_some_and(|s| s.iter().all(|r| *r == SecurityRequirement::default()));
            let has_parameters = operation.parameters.as_ref().is_some_and(|p| {
                p.iter()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Query | ParameterIn::Path))
            });
            let body = operation
                .request_body
                .as_ref()
                .map(|b| b.content.keys().any(|c| c == "application/json"));
            let mut add = Vec::new();
            if !anonymous {
                add.push(("401", "no, unknown, revoked or expired token"));
            }
            if has_parameters || changes {
                add.push(("400", "a malformed query, path or header"));
            }
            if path.starts_with("/v1/cases/{id}") {
                add.push((
                    "409",
                    "the business key or id prefix fits several of your cases; give the full id",
                ));
            }
            match body {
                Some(true) => add.extend([
                    ("400", "the body is not valid JSON"),
                    ("413", "the body is larger than 64 KiB"),
                    ("415", "the body is not `application/json`"),
                    ("422", "the body has the wrong shape or a refused value"),
                ]),
                Some(false) => add.extend([
                    ("413", "the upload is larger than 25 MiB"),
                    ("422", "a refused value"),
                ]),
                None => {}
            }
            // The handlers that take an Idempotency-Key declare it; say what a valid one is.
            if let Some(header) = operation
                .parameters
                .iter_mut()
                .flatten()
                .find(|p| p.name.eq_ignore_ascii_case("Idempotency-Key"))
            {
                header.description =
                    Some("A retried request with the same key (per token) is applied once".into());
                header.schema = Some(
                    utoipa::openapi::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::schema::Type::String)
                        .min_length(Some(1))
                        .max_length(Some(128))
                        .pattern(Some("^[!-~]+$"))
                        .into(),
                );
            }
            for (status, description) in add {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| error(description).into());
            }
        }
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The application: routes, authentication, limits, request ids and request logs.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// The application with `pages` (the web app) beside the API: the same state, limits, request
/// ids, logs and metrics; the API's JSON 404 for everything neither of them serves.
pub fn router_with(state: AppState, pages: Router<AppState>) -> Router {
    let timeout = state.limits.timeout;
    let state_for_errors = state.clone();
    let (router, mut openapi) = routes().split_for_parts();
    document_common_errors(&mut openapi);
    router
        .layer(axum::Extension(Arc::new(openapi)))
        .merge(pages)
        .fallback(system::not_found)
        .method_not_allowed_fallback(system::method_not_allowed)
        .with_state(state)
        // Body limits are enforced by our own extractors, which answer with JSON errors.
        .layer(DefaultBodyLimit::disable())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(middleware::from_fn_with_state(state_for_errors, finish_errors))
        .layer(middleware::from_fn(record_metrics))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let id = request
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id, token = tracing::field::Empty)
            })
            .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO))
            .on_failure(tower_http::trace::DefaultOnFailure::new().level(tracing::Level::WARN)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Counts requests by route template (not by path, so case ids do not multiply the series)
/// and status, and records how long they took.
async fn record_metrics(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("swakelola_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("swakelola_http_request_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Finishes error responses: renders the message (and the details) in the caller's language,
/// with the workflow's labels when the error names a workflow, and copies the request id into
/// the body so that a person reporting an error can quote it.
async fn finish_errors(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (parts, body) = request.into_parts();
    let language = extract::language_of(&parts);
    let response = next.run(Request::from_parts(parts, body)).await;
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(is_json && (response.status().is_client_error() || response.status().is_server_error())) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Error bodies are small and built by us; anything else passes unchanged.
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    if !value["error"].is_object() {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    }
    if let Some(localize) = parts.extensions.remove::<error::Localize>() {
        let rendered = localize.render_for(&state, language).await;
        value["error"]["message"] = serde_json::Value::String(rendered.message);
        if !rendered.details.is_empty() {
            value["error"]["details"] = serde_json::json!(rendered.details);
        }
    }
    if let Some(id) = id {
        value["error"]["request_id"] = serde_json::Value::String(id);
    }
    let text = serde_json::to_vec(&value).unwrap_or_else(|_| bytes.to_vec());
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(text))
}

/// Serves the API on `listener` until `shutdown` resolves; requests in flight finish first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, Router::new(), shutdown).await
}

/// Serves the API and `pages` on `listener` until `shutdown` resolves.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    state: AppState,
    pages: Router<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router_with(state, pages).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
