//! Health, readiness, metrics, the OpenAPI document, and administration (tokens, outbox).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use swakelola_store::{ApiToken, OPERATOR_ROLE};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::{Admin, Operator, Principal};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}

/// The process is up (no authentication).
#[utoipa::path(get, path = "/healthz", tag = "system", security(()),
    responses((status = 200, body = Health)))]
pub async fn healthz() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok".into(),
    })
}

/// The database answers (no authentication); 503 when it does not.
#[utoipa::path(get, path = "/readyz", tag = "system", security(()),
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<axum::Json<Health>> {
    // A database that does not answer within two seconds is not ready, whatever the pool's
    // own timeout: load balancers want a quick answer.
    match tokio::time::timeout(std::time::Duration::from_secs(2), state.store.ping()).await {
        Ok(result) => result?,
        Err(_) => {
            return Err(ApiError::localized(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "api-database-slow",
                &[],
            ));
        }
    }
    Ok(axum::Json(Health {
        status: "ready".into(),
    }))
}

/// Prometheus metrics (the operator).
#[utoipa::path(get, path = "/metrics", tag = "admin",
    responses((status = 200, content_type = "text/plain", body = String), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody, description = "metrics are not enabled")))]
pub async fn metrics(State(state): State<AppState>, _operator: Operator) -> ApiResult<String> {
    match &state.metrics {
        Some(handle) => Ok(handle.render()),
        None => Err(ApiError::localized(
            StatusCode::NOT_FOUND,
            "metrics_disabled",
            "api-metrics-disabled",
            &[],
        )),
    }
}

/// This API's OpenAPI 3.1 description.
#[utoipa::path(get, path = "/openapi.json", tag = "system",
    responses((status = 200, body = Object), (status = 401, body = ErrorBody)))]
pub async fn openapi_json(
    _principal: Principal,
    axum::Extension(openapi): axum::Extension<Arc<utoipa::openapi::OpenApi>>,
) -> Response {
    axum::Json(openapi.as_ref().clone()).into_response()
}

/// A method the path does not take answers with the API's JSON error.
pub async fn method_not_allowed(method: axum::http::Method, uri: Uri) -> ApiError {
    ApiError::localized(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "api-method-not-allowed",
        &[
            ("path", &format!("`{}`", uri.path())),
            ("method", method.as_str()),
        ],
    )
}

/// Unknown paths answer with the API's JSON error.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::localized(
        StatusCode::NOT_FOUND,
        "not_found",
        "api-no-endpoint",
        &[("path", &format!("`{}`", uri.path()))],
    )
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    /// Only messages that failed at least once or are dead.
    #[serde(default)]
    failed: bool,
    /// Only messages of this case.
    case: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxView {
    pub key: String,
    pub case_id: String,
    pub channel: String,
    pub recipient: String,
    /// `pending`, `sent` or `dead`.
    pub state: String,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// Notification messages of your organisation's cases and their delivery state
/// (administrators).
#[utoipa::path(get, path = "/v1/outbox", tag = "admin", params(OutboxQuery),
    responses((status = 200, body = Vec<OutboxView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn outbox(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Query(query): Query<OutboxQuery>,
) -> ApiResult<axum::Json<Vec<OutboxView>>> {
    let messages = state
        .store
        .outbox(
            query.case.as_deref(),
            query.failed,
            Some(admin.organisation.as_str()),
        )
        .await?;
    Ok(axum::Json(
        messages
            .into_iter()
            .map(|m| OutboxView {
                key: m.key,
                case_id: m.case_id,
                channel: m.channel,
                recipient: m.recipient,
                state: m.state,
                attempts: m.attempts,
                last_error: m.last_error,
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub organisation: String,
    pub roles: Vec<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl From<swakelola_store::ApiToken> for TokenView {
    fn from(t: swakelola_store::ApiToken) -> Self {
        TokenView {
            id: t.id,
            name: t.name,
            organisation: t.organisation,
            roles: t.roles,
            created_at: t.created_at.to_string(),
            expires_at: t.expires_at.map(|t| t.to_string()),
            revoked_at: t.revoked_at.map(|t| t.to_string()),
        }
    }
}

/// Your organisation's tokens, without their secrets (administrators).
#[utoipa::path(get, path = "/v1/tokens", tag = "admin",
    responses((status = 200, body = Vec<TokenView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> ApiResult<axum::Json<Vec<TokenView>>> {
    let tokens = state.store.organisation_tokens(&admin.organisation).await?;
    Ok(axum::Json(tokens.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// Who holds it; recorded as the actor of every command made with it.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub organisation: String,
    #[schema(min_items = 1)]
    pub roles: Vec<String>,
    /// Expiry instant (RFC 3339), e.g. `2026-12-31T17:00:00Z`.
    pub expires_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: TokenView,
    /// The bearer secret. It is shown only now and cannot be recovered.
    pub secret: String,
}

/// Issue a token for your organisation (administrators). `operator` is granted only on the
/// command line.
#[utoipa::path(post, path = "/v1/tokens", tag = "admin", request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedToken), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Json(request): Json<CreateTokenRequest>,
) -> ApiResult<Response> {
    may_grant(&admin, &request.organisation, &request.roles)?;
    let expires_at = request
        .expires_at
        .as_deref()
        .map(|text| {
            text.parse::<Timestamp>().map_err(|e| {
                ApiError::unprocessable_localized(
                    "body.expires_at",
                    "api-not-an-instant",
                    &[("detail", &e.to_string())],
                )
            })
        })
        .transpose()?;
    let (token, secret) = state
        .store
        .create_token(
            &request.name,
            &request.organisation,
            &request.roles,
            expires_at,
            state.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedToken {
            token: token.into(),
            secret,
        }),
    )
        .into_response())
}

/// Revoke a token of your organisation (administrators); it stops working at once.
#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = TokenView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<TokenView>> {
    Ok(axum::Json(
        revoke_own_token(&state, &admin, &id).await?.into(),
    ))
}

/// What an organisation's administrator may grant, to tokens and to accounts alike: staff of
/// their own organisation, in any role but `operator` (granted only on the command line).
pub fn may_grant(admin: &ApiToken, organisation: &str, roles: &[String]) -> ApiResult<()> {
    if organisation != admin.organisation {
        return Err(ApiError::localized(
            StatusCode::FORBIDDEN,
            "forbidden",
            "api-own-organisation-only",
            &[("organisation", &format!("`{}`", admin.organisation))],
        ));
    }
    if roles.iter().any(|r| r == OPERATOR_ROLE) {
        return Err(ApiError::localized(
            StatusCode::FORBIDDEN,
            "forbidden",
            "api-operator-on-server",
            &[],
        ));
    }
    Ok(())
}

/// Revokes a token of the administrator's organisation; another organisation's token
/// answers exactly like one that does not exist.
pub async fn revoke_own_token(
    state: &AppState,
    admin: &ApiToken,
    id: &str,
) -> ApiResult<swakelola_store::ApiToken> {
    let ours = state
        .store
        .token(id)
        .await?
        .is_some_and(|token| token.organisation == admin.organisation);
    let revoked = match ours {
        true => state.store.revoke_token(id, state.now()).await?,
        false => None,
    };
    revoked.ok_or_else(|| {
        ApiError::localized(
            StatusCode::NOT_FOUND,
            "token_not_found",
            "api-no-token",
            &[("id", &format!("`{id}`"))],
        )
    })
}

/// Makes a failed message of one of the administrator's organisation's cases pending
/// again; another organisation's message answers exactly like one that does not exist.
pub async fn retry_own_message(state: &AppState, admin: &ApiToken, key: &str) -> ApiResult<()> {
    let ours = state
        .store
        .outbox(None, true, Some(admin.organisation.as_str()))
        .await?
        .iter()
        .any(|m| m.key == key);
    if !ours {
        return Err(swakelola_store::Error::InvalidRequest(
            swakelola_store::Invalid::NoOutboxMessage {
                key: key.to_owned(),
            },
        )
        .into());
    }
    state.store.outbox_retry(key, state.now()).await?;
    Ok(())
}
