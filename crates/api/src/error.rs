//! The one error type of the API and its mapping onto HTTP statuses.
//!
//! Every error body has the same shape: `{"error": {"code", "message", "details"?,
//! "request_id"}}`. Messages say what to do next. Server-side failures (500, 503) answer
//! with a generic message; the detail goes to the log only, tagged with the request id.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use swakelola_core::step::{GuardFailure, Rejection};
use swakelola_store::{Error as StoreError, TokenRefused};
use utoipa::ToSchema;

/// One problem with a part of the request, named by its path (`fields.pagu`,
/// `documents.kak`, `body.role`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code, e.g. `guards_not_met`, `conflict`, `unauthorized`.
    pub code: String,
    /// What went wrong and what to do, for people.
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Problem>,
    /// The `x-request-id` of the request, to quote when asking for help.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub details: Vec<Problem>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_owned(),
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unprocessable(path: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError {
            details: vec![Problem {
                path: path.to_owned(),
                message: message.clone(),
            }],
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message)
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// The same answer for a case that does not exist and one the caller may not see, so
    /// that a response never reveals another organisation's case.
    /// The id is not echoed back either: the same body whatever was asked.
    pub fn case_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "case_not_found",
            "the case does not exist or is not shared with your organisation; list yours with GET /v1/cases",
        )
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    }

    /// A failure on our side: the body stays generic, the detail is logged.
    pub fn internal(detail: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed to handle the request; it was logged with this request id",
        )
    }
}

impl From<TokenRefused> for ApiError {
    fn from(refused: TokenRefused) -> Self {
        ApiError::unauthorized(refused.to_string())
    }
}

/// A failed guard as a problem with the path of what is missing.
pub(crate) fn guard_problem(failure: &GuardFailure) -> Problem {
    let path = match failure {
        GuardFailure::MissingDocument { id, .. } => format!("documents.{id}"),
        GuardFailure::MissingField { id, .. } => format!("fields.{id}"),
        GuardFailure::CommentRequired => "comment".to_owned(),
        GuardFailure::Condition { .. } => "fields".to_owned(),
    };
    Problem {
        path,
        message: failure.to_string(),
    }
}

/// What a transition still needs, as a problem at the path the API uses for it (the text in
/// the caller's language, from the view).
pub(crate) fn need_problem(need: &swakelola_view::Need) -> Problem {
    let path = match (need.kind, &need.id) {
        ("document", Some(id)) => format!("documents.{id}"),
        ("field", Some(id)) => format!("fields.{id}"),
        ("comment", _) => "comment".to_owned(),
        _ => "fields".to_owned(),
    };
    Problem {
        path,
        message: need.text.clone(),
    }
}

fn rejection(rejection: Rejection) -> ApiError {
    let code = rejection.code();
    let message = rejection.to_string();
    let (status, details) = match &rejection {
        Rejection::RoleNotAllowed { .. } => (StatusCode::FORBIDDEN, Vec::new()),
        Rejection::Closed { .. }
        | Rejection::WrongStage { .. }
        | Rejection::AlreadyOpen
        | Rejection::TimerNotPending { .. }
        | Rejection::TimerNotDue { .. }
        | Rejection::NothingToRecompute => (StatusCode::CONFLICT, Vec::new()),
        Rejection::GuardsNotMet { failures, .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            failures.iter().map(guard_problem).collect(),
        ),
        Rejection::InvalidFieldValue { field, .. }
        | Rejection::UnknownField { field, .. }
        | Rejection::DuplicateField { field } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![Problem {
                path: format!("fields.{field}"),
                message: message.clone(),
            }],
        ),
        Rejection::MissingRequiredFields { fields } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            fields
                .iter()
                .map(|field| Problem {
                    path: format!("fields.{field}"),
                    message: "required to open a case".to_owned(),
                })
                .collect(),
        ),
        Rejection::UnknownRole { .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![Problem {
                path: "role".to_owned(),
                message: message.clone(),
            }],
        ),
        Rejection::CommentTooLong => (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![Problem {
                path: "comment".to_owned(),
                message: message.clone(),
            }],
        ),
        Rejection::UnknownTransition { .. }
        | Rejection::UnknownDocumentType { .. }
        | Rejection::InvalidDocument { .. }
        | Rejection::MissingActor
        | Rejection::NotOpened
        | Rejection::DateOutOfRange => (StatusCode::UNPROCESSABLE_ENTITY, Vec::new()),
    };
    ApiError {
        status,
        code: code.to_owned(),
        message,
        details,
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Rejected(r) => rejection(r),
            StoreError::CaseNotFound(_) => ApiError::case_not_found(),
            StoreError::AmbiguousCase { .. } => {
                ApiError::new(StatusCode::CONFLICT, error.code(), error.to_string())
            }
            StoreError::WorkflowNotFound(_) | StoreError::DocumentNotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, error.code(), error.to_string())
            }
            StoreError::InvalidWorkflow(ref diagnostics) => ApiError {
                details: diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .map(|d| Problem {
                        path: "source".to_owned(),
                        message: d.to_string(),
                    })
                    .collect(),
                ..ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    error.code(),
                    "the workflow has errors and was not deployed",
                )
            },
            StoreError::Conflict(_) => {
                ApiError::new(StatusCode::CONFLICT, error.code(), error.to_string())
            }
            StoreError::InvalidInput { path, message } => ApiError::unprocessable(&path, message),
            StoreError::InvalidRequest(message) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message)
            }
            StoreError::Database(_) => {
                tracing::error!(error = %error, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_unavailable",
                    "the database is unavailable; try again shortly",
                )
            }
            StoreError::Corrupt(_) | StoreError::Migration(_) | StoreError::Query(_) => {
                ApiError::internal(&error)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unauthorized = self.status == StatusCode::UNAUTHORIZED;
        let mut response = (
            self.status,
            axum::Json(ErrorBody {
                error: ErrorDetail {
                    code: self.code,
                    message: self.message,
                    details: self.details,
                    // Filled in by the request-id middleware, which sees the request.
                    request_id: None,
                },
            }),
        )
            .into_response();
        if unauthorized {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"swakelola\""),
            );
        }
        response
    }
}
