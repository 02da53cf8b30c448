//! Workflow endpoints: list, show, diagram, deploy and migrate open cases (the operator).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use swakelola_store::Store;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::{Operator, Principal};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowVersion {
    pub id: String,
    pub version: u32,
    pub content_hash: String,
    pub deployed_at: String,
}

impl From<swakelola_store::DeployedWorkflow> for WorkflowVersion {
    fn from(w: swakelola_store::DeployedWorkflow) -> Self {
        WorkflowVersion {
            id: w.id,
            version: w.version,
            content_hash: w.content_hash,
            deployed_at: w.deployed_at.to_string(),
        }
    }
}

/// Deployed workflow versions.
#[utoipa::path(get, path = "/v1/workflows", tag = "workflows", operation_id = "list_workflows",
    responses((status = 200, body = Vec<WorkflowVersion>), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _principal: Principal,
) -> ApiResult<axum::Json<Vec<WorkflowVersion>>> {
    let workflows = state.store.workflows().await?;
    Ok(axum::Json(workflows.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeployRequest {
    /// A name for the source in diagnostics, e.g. `swakelola-tipe-3.yaml`.
    pub file: String,
    /// The workflow YAML.
    pub source: String,
    /// Calendar file name → YAML; each replaces the stored calendar file of the same name
    /// (others stay). Without any, the stored calendars are used. A change that clashes with
    /// the stored files or breaks a stored workflow is refused (422) and nothing is written.
    #[serde(default)]
    pub calendars: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeploymentView {
    pub workflow: WorkflowVersion,
    /// False when identical content was already deployed.
    pub created: bool,
    /// Open cases whose pending deadlines moved because the calendars changed (each has a
    /// `deadlines_moved` event and the people responsible were told).
    pub rescheduled: u64,
}

/// Deploy a workflow version (the operator). Cases keep the version they were opened with.
#[utoipa::path(post, path = "/v1/workflows", tag = "workflows", request_body = DeployRequest,
    responses((status = 201, body = DeploymentView), (status = 200, body = DeploymentView, description = "identical content was already deployed"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn deploy(
    State(state): State<AppState>,
    _operator: Operator,
    Json(request): Json<DeployRequest>,
) -> ApiResult<Response> {
    let calendars: Vec<(String, String)> = request.calendars.into_iter().collect();
    let deployment = state
        .store
        .deploy(&request.file, &request.source, &calendars, state.now())
        .await?;
    let status = if deployment.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        axum::Json(DeploymentView {
            workflow: deployment.workflow.into(),
            created: deployment.created,
            rescheduled: deployment.rescheduled,
        }),
    )
        .into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrationRequest {
    /// A name for the plan in diagnostics, e.g. `2027-v1-ke-v2.yaml`.
    pub file: String,
    /// The migration plan YAML (see `workflows/migrations/` and `docs/diagnostics.md`).
    pub plan: String,
    /// Preview only: what would happen to each case; nothing is written.
    #[serde(default)]
    pub dry_run: bool,
}

/// Move open cases onto another deployed version of their workflow by a migration plan (the
/// operator), or preview it with `dry_run`. Each case moves in its own transaction and
/// records a `migrated` event, by the token's name; a case already moved is left as it is,
/// so the same request can be sent again after an interruption. A plan with errors is
/// refused (422, the diagnostics in `details`) and nothing is written; a case that cannot
/// move is listed as `refused` and the others still move. For thousands of cases prefer
/// `swakelola workflow migrate`, which reports progress as it goes.
#[utoipa::path(post, path = "/v1/migrations", tag = "workflows", request_body = MigrationRequest,
    responses((status = 200, body = Object, description = "per case: outcome (`would_migrate`, `migrated`, `already_migrated`, `refused`), stage before and after, deadlines moved, notices due at once, guards newly unmet; and a summary"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn migrate(
    State(state): State<AppState>,
    Operator(token, language): Operator,
    Json(request): Json<MigrationRequest>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    use swakelola_store::{MigrationMode, OPERATOR_ROLE};
    use swakelola_view::migration::{CaseMigrationView, Summary};
    let checked = state
        .store
        .check_migration_plan(&request.file, &request.plan)
        .await?;
    let mode = if request.dry_run {
        MigrationMode::DryRun
    } else {
        MigrationMode::Apply
    };
    let actor = swakelola_core::Actor::new(token.name.clone(), OPERATOR_ROLE);
    let mut cases = Vec::new();
    state
        .store
        .run_migration(
            &checked.plan,
            &actor,
            state.now(),
            mode,
            |_, _, candidate, result| {
                cases.push(CaseMigrationView::build(
                    candidate,
                    &result,
                    &checked,
                    !request.dry_run,
                    language,
                ));
            },
        )
        .await?;
    let summary = Summary::of(&cases);
    Ok(axum::Json(serde_json::json!({
        "dry_run": request.dry_run,
        "plan": checked.plan.rules.plan,
        "workflow": checked.plan.workflow,
        "from": checked.plan.from,
        "to": checked.plan.rules.to_version,
        "warnings": checked.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "cases": cases,
        "summary": summary,
    })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VersionQuery {
    /// A deployed version; the newest by default.
    version: Option<u32>,
}

async fn engine(
    state: &AppState,
    id: &str,
    version: Option<u32>,
) -> ApiResult<(u32, std::sync::Arc<swakelola_store::Engine>)> {
    let version = match version {
        Some(version) => version,
        None => state.store.latest_version(id).await?,
    };
    match state.store.engine_for(id, version).await {
        Ok(engine) => Ok((version, engine)),
        Err(swakelola_store::Error::WorkflowNotFound(_)) => Err(ApiError::localized(
            StatusCode::NOT_FOUND,
            "workflow_not_found",
            "api-workflow-version-not-deployed",
            &[
                ("workflow", &format!("`{id}`")),
                ("version", &version.to_string()),
            ],
        )),
        Err(error) => Err(error.into()),
    }
}

/// A deployed workflow: stages, transitions, roles, documents, fields and time rules.
#[utoipa::path(get, path = "/v1/workflows/{id}", tag = "workflows", operation_id = "show_workflow", params(("id" = String, Path), VersionQuery),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    _principal: Principal,
    Path(id): Path<String>,
    Query(query): Query<VersionQuery>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let (version, engine) = engine(&state, &id, query.version).await?;
    Ok(axum::Json(
        serde_json::json!({ "version": version, "definition": engine.workflow }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DiagramQuery {
    /// `mermaid` (default) or `dot`.
    #[param(inline)]
    format: Option<DiagramFormat>,
    version: Option<u32>,
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DiagramFormat {
    Mermaid,
    Dot,
}

/// The workflow as a Mermaid or Graphviz DOT diagram (text/plain).
#[utoipa::path(get, path = "/v1/workflows/{id}/diagram", tag = "workflows", params(("id" = String, Path), DiagramQuery),
    responses((status = 200, content_type = "text/plain", body = String), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn diagram(
    State(state): State<AppState>,
    _principal: Principal,
    Path(id): Path<String>,
    Query(query): Query<DiagramQuery>,
) -> ApiResult<Response> {
    let draw = match query.format.unwrap_or(DiagramFormat::Mermaid) {
        DiagramFormat::Mermaid => swakelola_definition::graph::mermaid,
        DiagramFormat::Dot => swakelola_definition::graph::dot,
    };
    let (_, engine) = engine(&state, &id, query.version).await?;
    let mut response = draw(&engine.workflow).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(response)
}
