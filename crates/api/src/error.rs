//! The one error type of the API and its mapping onto HTTP statuses.
//!
//! Every error body has the same shape: `{"error": {"code", "message", "details"?,
//! "request_id"}}`. Messages say what to do next. Server-side failures (500, 503) answer
//! with a generic message; the detail goes to the log only, tagged with the request id.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::sync::Arc;

use swakelola_core::format::Language;
use swakelola_core::step::{Act, GuardFailure, Rejection};
use swakelola_store::{Error as StoreError, TokenRefused, WorkflowRef};
use swakelola_view::catalogue;
use swakelola_view::refusal::{self, Names};
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
    /// In Indonesian; rendered again in the caller's language on the way out when
    /// `localize` says how.
    pub message: String,
    pub details: Vec<Problem>,
    pub localize: Option<Box<Localize>>,
}

/// How to render an error's message in the caller's language, carried from the handler to
/// the localising middleware (which knows the language and can load the workflow's labels).
#[derive(Debug, Clone)]
pub enum Localize {
    Store(Arc<StoreError>),
    Message {
        id: &'static str,
        args: Vec<(&'static str, Arg)>,
        /// The part of the request it is about, for a one-problem error.
        path: Option<String>,
        /// The workflow whose labels name roles and actions.
        workflow: Option<WorkflowRef>,
    },
}

/// An argument of a catalogue message, rendered in the caller's language.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    /// What a role was refused to do (`melakukan langkah «Catat hasil audiensi»`).
    Act(Act),
    /// Roles, by label when the workflow is known.
    Roles(Vec<String>),
}

impl Localize {
    /// The workflow to load labels from, if any.
    pub fn workflow(&self) -> Option<&WorkflowRef> {
        match self {
            Localize::Store(error) => match error.as_ref() {
                StoreError::Rejected { workflow, .. } => workflow.as_ref(),
                _ => None,
            },
            Localize::Message { workflow, .. } => workflow.as_ref(),
        }
    }

    /// The error in `language`, naming things by the labels of the workflow it concerns when
    /// that workflow can be loaded.
    pub async fn render_for(&self, state: &crate::AppState, language: Language) -> ApiError {
        use swakelola_store::Store;
        let engine = match self.workflow() {
            Some(workflow) => state
                .store
                .engine_for(&workflow.id, workflow.version)
                .await
                .ok(),
            None => None,
        };
        let labels = engine
            .as_ref()
            .map(|engine| swakelola_view::Labels::new(&engine.workflow, language));
        self.render(Names::new(language, labels))
    }

    /// The error in `names`' language.
    pub fn render(&self, names: Names<'_>) -> ApiError {
        match self {
            Localize::Store(error) => store_error(names, error),
            Localize::Message { id, args, path, .. } => {
                let args: Vec<(&str, String)> = args
                    .iter()
                    .map(|(name, arg)| {
                        let text = match arg {
                            Arg::Text(text) => text.clone(),
                            Arg::Act(act) => refusal::act(names, act),
                            Arg::Roles(roles) => names.roles(roles),
                        };
                        (*name, text)
                    })
                    .collect();
                let shown: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let message = catalogue::message(names.language, id, &shown);
                ApiError {
                    details: path
                        .iter()
                        .map(|path| Problem {
                            path: path.clone(),
                            message: message.clone(),
                        })
                        .collect(),
                    ..ApiError::new(StatusCode::OK, "", message)
                }
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_owned(),
            message: message.into(),
            details: Vec::new(),
            localize: None,
        }
    }

    /// An error whose message is the catalogue's `id` with `args`, in the caller's language.
    pub fn localized(
        status: StatusCode,
        code: &str,
        id: &'static str,
        args: &[(&'static str, &str)],
    ) -> Self {
        Self::localized_with(
            status,
            code,
            id,
            args.iter()
                .map(|(name, value)| (*name, Arg::Text((*value).to_owned())))
                .collect(),
            None,
            None,
        )
    }

    /// A localised error with arguments of any kind, the part of the request it is about,
    /// and the workflow whose labels name things.
    pub fn localized_with(
        status: StatusCode,
        code: &str,
        id: &'static str,
        args: Vec<(&'static str, Arg)>,
        path: Option<&str>,
        workflow: Option<WorkflowRef>,
    ) -> Self {
        let localize = Localize::Message {
            id,
            args,
            path: path.map(str::to_owned),
            workflow,
        };
        let shown = localize.render(Names::new(Language::Id, None));
        ApiError {
            status,
            code: code.to_owned(),
            message: shown.message,
            details: shown.details,
            localize: Some(Box::new(localize)),
        }
    }

    /// 422 about one part of the request (`file_name`, `body.expires_at`), localised.
    pub fn unprocessable_localized(
        path: &str,
        id: &'static str,
        args: &[(&'static str, &str)],
    ) -> Self {
        Self::localized_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            id,
            args.iter()
                .map(|(name, value)| (*name, Arg::Text((*value).to_owned())))
                .collect(),
            Some(path),
            None,
        )
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
        Self::localized(
            StatusCode::NOT_FOUND,
            "case_not_found",
            "error-case-not-found-api",
            &[],
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
        Self::localized(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "error-internal",
            &[],
        )
    }
}

impl From<TokenRefused> for ApiError {
    fn from(refused: TokenRefused) -> Self {
        let id = match refused {
            TokenRefused::Unknown => "api-token-unknown",
            TokenRefused::Revoked => "api-token-revoked",
            TokenRefused::Expired => "api-token-expired",
        };
        ApiError::localized(StatusCode::UNAUTHORIZED, "unauthorized", id, &[])
    }
}

/// What a failed guard needs, as a problem at the path of what is missing.
pub(crate) fn guard_problem(names: Names<'_>, failure: &GuardFailure) -> Problem {
    let path = match failure {
        GuardFailure::MissingDocument { id, .. } => format!("documents.{id}"),
        GuardFailure::MissingField { id, .. } => format!("fields.{id}"),
        GuardFailure::CommentRequired => "comment".to_owned(),
        GuardFailure::Condition { .. } => "fields".to_owned(),
    };
    Problem {
        path,
        message: refusal::guard_failure(names, failure),
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

fn rejection(names: Names<'_>, rejection: &Rejection) -> ApiError {
    let code = rejection.code();
    let message = refusal::rejection(names, rejection);
    let one = |path: &str| {
        vec![Problem {
            path: path.to_owned(),
            message: message.clone(),
        }]
    };
    let (status, details) = match rejection {
        Rejection::RoleNotAllowed { .. } => (StatusCode::FORBIDDEN, Vec::new()),
        Rejection::Closed { .. }
        | Rejection::WrongStage { .. }
        | Rejection::AlreadyOpen
        | Rejection::TimerNotPending { .. }
        | Rejection::TimerNotDue { .. }
        | Rejection::NothingToRecompute
        | Rejection::AlreadyApproved { .. } => (StatusCode::CONFLICT, Vec::new()),
        Rejection::NotJoint { .. } => (StatusCode::UNPROCESSABLE_ENTITY, Vec::new()),
        Rejection::GuardsNotMet { failures, .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            failures.iter().map(|f| guard_problem(names, f)).collect(),
        ),
        Rejection::InvalidFieldValue { field, .. }
        | Rejection::UnknownField { field, .. }
        | Rejection::DuplicateField { field } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            one(&format!("fields.{field}")),
        ),
        // The rule's first field is the one to change (the page marks it).
        Rejection::RuleBroken { condition, .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            one(&format!("fields.{}", condition.field)),
        ),
        Rejection::MissingRequiredFields { fields } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            fields
                .iter()
                .map(|field| Problem {
                    path: format!("fields.{field}"),
                    message: format!(
                        "{} {}",
                        names.field(field),
                        catalogue::message(names.language, "need-field", &[])
                    ),
                })
                .collect(),
        ),
        Rejection::UnknownRole { .. } => (StatusCode::UNPROCESSABLE_ENTITY, one("role")),
        Rejection::UnknownRecord { .. } => (StatusCode::UNPROCESSABLE_ENTITY, one("record")),
        Rejection::UnknownParty { .. } => (StatusCode::UNPROCESSABLE_ENTITY, one("party")),
        Rejection::ReasonRequired => (StatusCode::UNPROCESSABLE_ENTITY, one("reason")),
        Rejection::MembersFixed { .. } => (StatusCode::UNPROCESSABLE_ENTITY, Vec::new()),
        Rejection::AlreadyMember { .. }
        | Rejection::NotAMember { .. }
        | Rejection::LeadStays { .. } => (StatusCode::UNPROCESSABLE_ENTITY, one("organisation")),
        Rejection::OrganisationNeeded { .. } => (StatusCode::UNPROCESSABLE_ENTITY, Vec::new()),
        Rejection::NotASigner { .. } => (StatusCode::FORBIDDEN, Vec::new()),
        Rejection::CommentTooLong => (StatusCode::UNPROCESSABLE_ENTITY, one("comment")),
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
        localize: None,
    }
}

/// The answer to a store error, in words for `names` (language, and the workflow's labels when
/// known). Pure, so that the localising middleware can render it again in the caller's
/// language once it knows the workflow.
pub fn store_error(names: Names<'_>, error: &StoreError) -> ApiError {
    let text = || refusal::error(names, error);
    match error {
        StoreError::Rejected { rejection: r, .. } => rejection(names, r),
        StoreError::CaseNotFound(_) => ApiError::case_not_found(),
        StoreError::AmbiguousCase { .. } => {
            ApiError::new(StatusCode::CONFLICT, error.code(), text())
        }
        StoreError::WorkflowNotFound(_) | StoreError::DocumentNotFound(_) => {
            ApiError::new(StatusCode::NOT_FOUND, error.code(), text())
        }
        StoreError::InvalidWorkflow(diagnostics) => ApiError {
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
                catalogue::message(names.language, "error-invalid-workflow", &[]),
            )
        },
        StoreError::InvalidPlan(diagnostics) => ApiError {
            details: diagnostics
                .iter()
                .map(|d| Problem {
                    path: "plan".to_owned(),
                    message: d.to_string(),
                })
                .collect(),
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                error.code(),
                catalogue::message(names.language, "migrate-plan-invalid", &[]),
            )
        },
        StoreError::Conflict(_) => ApiError::new(StatusCode::CONFLICT, error.code(), text()),
        StoreError::MigrationRefused { .. } => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, error.code(), text())
        }
        StoreError::InvalidInput { path, problem } => {
            ApiError::unprocessable(path, refusal::input_problem(names, problem))
        }
        StoreError::InvalidRequest(_) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", text())
        }
        StoreError::Database(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            catalogue::message(names.language, "error-database-api", &[]),
        ),
        StoreError::Corrupt(_) | StoreError::Migration(_) | StoreError::Query(_) => {
            ApiError::localized(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "error-internal",
                &[],
            )
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match &error {
            StoreError::Database(_) => tracing::error!(error = %error, "database unavailable"),
            StoreError::Corrupt(_) | StoreError::Migration(_) | StoreError::Query(_) => {
                tracing::error!(error = %error, "request failed");
            }
            _ => {}
        }
        let mut answer = store_error(Names::new(Language::Id, None), &error);
        answer.localize = Some(Box::new(Localize::Store(Arc::new(error))));
        answer
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unauthorized = self.status == StatusCode::UNAUTHORIZED;
        let localize = self.localize;
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
        if let Some(localize) = localize {
            response.extensions_mut().insert(*localize);
        }
        if unauthorized {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"swakelola\""),
            );
        }
        response
    }
}
