//! Case endpoints: open, list, show, fire, set a field, attach and download documents,
//! history, verify, agenda; invitations to cases and accepting them.

use std::collections::BTreeMap;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use swakelola_core::step::Action;
use swakelola_core::{Actor, LinkKind};
use swakelola_store::{
    Applied, CaseCommand, CaseFilter, CaseRecord, Contact, OpenCase, Origin, Parties, Store,
    sha256_hex,
};
use utoipa::{IntoParams, ToSchema};

use swakelola_view::{AgendaEntry, CaseView, Labels, LinkLine, SeriesView};

use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Arg, ErrorBody, Problem, need_problem};
use crate::extract::{IdempotencyKey, Json, Path, Query, read_limited};
use swakelola_core::step::Act;
use swakelola_store::WorkflowRef;

/// A case in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseSummary {
    pub id: String,
    pub workflow: String,
    pub workflow_version: u32,
    pub business_key: String,
    /// The organisation that opened the case.
    pub organisation: String,
    /// Party (e.g. `instansi`, `ormas`) → organisation (for a coalition, its lead).
    pub parties: BTreeMap<String, String>,
    /// Party → the coalition's other member organisations, besides the lead.
    pub members: BTreeMap<String, Vec<String>>,
    pub stage: String,
    pub stage_label: String,
    /// Number of events so far; send it back as `expected_revision` to act only on what you saw.
    pub revision: u64,
    pub closed: bool,
    pub next_due_at: Option<String>,
}

/// A case with everything needed to decide the next step.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub summary: CaseSummary,
    /// Field values as typed values (rupiah as whole numbers, dates as YYYY-MM-DD).
    #[schema(value_type = Object)]
    pub fields: serde_json::Value,
    /// Records by kind (e.g. `pembayaran`), oldest first, each with its typed values.
    #[schema(value_type = Object)]
    pub records: serde_json::Value,
    pub documents: Vec<DocumentView>,
    pub obligations: Vec<ObligationView>,
    /// The roles your token can act in on this case.
    pub your_roles: Vec<String>,
    /// Transitions out of the current stage that you can fire, with what each still needs.
    pub next: Vec<NextStep>,
    /// Documents required by transitions out of this stage and not yet attached.
    pub missing_documents: Vec<String>,
    /// Cases linked to this one, both ways — only those you may see.
    pub links: Vec<LinkView>,
}

/// A case linked to another, seen from one of them.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkView {
    /// `follows`, `replicates` or `related`.
    pub link: String,
    /// `outgoing` when the case shown follows (replicates) this one's `case_id`; `incoming`
    /// when `case_id` follows (replicates) the case shown.
    pub direction: String,
    /// The relation in words, e.g. `Lanjutan dari`.
    pub relation: String,
    pub case_id: String,
    pub business_key: String,
    pub organisation: String,
    pub stage: String,
    pub stage_label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentView {
    pub document_type: String,
    pub file_name: String,
    pub sha256: String,
    pub size: u64,
    pub attached_at: String,
    pub attached_by: String,
    pub role: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ObligationView {
    pub key: String,
    /// `stage_deadline` or `recurring`.
    pub kind: String,
    /// What it is, in words: "Tenggat tahap «Reviu KAK oleh instansi»", "Laporan kemajuan
    /// Oktober 2025" (`Accept-Language: en` for English).
    pub label: String,
    /// The document that meets a recurring obligation.
    pub document: Option<String>,
    pub due_date: String,
    pub due_at: String,
    pub overdue: bool,
    /// Counted without that year's holidays (the calendar does not cover it yet): the date
    /// may still move when the calendar is deployed.
    pub provisional: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NextStep {
    pub transition: String,
    pub label: String,
    /// The label of the stage `to`.
    pub to_label: String,
    pub to: String,
    /// Your roles that may fire it.
    pub roles: Vec<String>,
    /// True when nothing is missing.
    pub ready: bool,
    pub missing: Vec<Problem>,
    /// For a joint sign-off: every role whose approval is needed, and who approved so far.
    pub approvals: Vec<ApprovalView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalView {
    pub role: String,
    /// The person who approved for the role; absent while it is outstanding.
    pub approved_by: Option<String>,
}

/// The result of a command.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppliedView {
    pub case: CaseDetail,
    /// The event written; `null` when the request repeated an earlier one (same
    /// Idempotency-Key) or opened a case that already existed.
    #[schema(value_type = Option<Object>)]
    pub event: Option<serde_json::Value>,
    pub created: bool,
}

fn ts(instant: Timestamp) -> String {
    instant.to_string()
}

pub(crate) async fn detail(
    state: &AppState,
    principal: &Principal,
    case: &CaseRecord,
) -> ApiResult<CaseDetail> {
    let engine = state
        .store
        .engine_for(&case.workflow_id, case.workflow_version)
        .await?;
    let workflow = &engine.workflow;
    let labels = Labels::new(workflow, principal.language());
    let your_roles = principal.roles_on(workflow, case);
    let entries = state.store.records_of(&case.id).await?;
    let view = CaseView::build(labels, case, &entries, Some(&your_roles), state.now());
    let case_state = &case.state;
    let links = visible_links(state, principal, &case.id).await?;
    let next = view
        .actions
        .iter()
        .map(|action| {
            let missing: Vec<Problem> = action.needs.iter().map(need_problem).collect();
            NextStep {
                transition: action.transition.id.clone(),
                label: action.transition.label.clone(),
                to: action.to.id.clone(),
                to_label: action.to.label.clone(),
                roles: action.roles.iter().map(|r| r.id.clone()).collect(),
                ready: action.ready,
                missing,
                approvals: action
                    .approvals
                    .iter()
                    .map(|a| ApprovalView {
                        role: a.role.id.clone(),
                        approved_by: a.approved_by.clone(),
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(CaseDetail {
        summary: summary(case, labels),
        fields: serde_json::to_value(&case_state.fields).unwrap_or_default(),
        records: serde_json::to_value(&entries).unwrap_or_default(),
        documents: case_state
            .documents
            .iter()
            .map(|d| DocumentView {
                document_type: d.document_type.clone(),
                file_name: d.file_name.clone(),
                sha256: d.sha256.clone(),
                size: d.size,
                attached_at: ts(d.attached_at),
                attached_by: d.attached_by.name.clone(),
                role: d.attached_by.role.clone(),
            })
            .collect(),
        obligations: view
            .obligations
            .iter()
            .map(|o| ObligationView {
                key: o.key.clone(),
                kind: o.kind.to_owned(),
                label: o.label.clone(),
                document: o.document.as_ref().map(|d| d.id.clone()),
                due_date: o.due_date.to_string(),
                due_at: ts(o.due_at),
                overdue: o.overdue,
                provisional: o.provisional,
            })
            .collect(),
        your_roles: your_roles.iter().map(|r| (*r).to_owned()).collect(),
        next,
        missing_documents: view
            .missing_documents
            .iter()
            .map(|d| d.id.clone())
            .collect(),
        links,
    })
}

/// The links of a case to cases `principal` may see, in words; the others show nothing of
/// themselves, not even that they exist. Shared with the pages.
pub async fn visible_link_lines(
    state: &AppState,
    principal: &Principal,
    case_id: &str,
    language: swakelola_core::format::Language,
) -> Result<Vec<LinkLine>, swakelola_store::Error> {
    let links: Vec<_> = state
        .store
        .links(case_id)
        .await?
        .into_iter()
        .filter(|l| principal.sees(&l.case))
        .collect();
    // Collected first: a closure over the links held across the await would make the
    // handler's future not `Send`.
    let others: Vec<&CaseRecord> = links.iter().map(|l| &l.case).collect();
    let engines = state.store.engines_of(others).await?;
    Ok(links
        .iter()
        .map(|l| {
            let labels = engines
                .get(&(l.case.workflow_id.clone(), l.case.workflow_version))
                .map(|e| Labels::new(&e.workflow, language));
            LinkLine::build(language, l, labels)
        })
        .collect())
}

async fn visible_links(
    state: &AppState,
    principal: &Principal,
    case_id: &str,
) -> ApiResult<Vec<LinkView>> {
    Ok(
        visible_link_lines(state, principal, case_id, principal.language())
            .await?
            .into_iter()
            .map(|line| LinkView {
                link: line.link.name().to_owned(),
                direction: if line.outgoing {
                    "outgoing"
                } else {
                    "incoming"
                }
                .to_owned(),
                relation: line.relation,
                case_id: line.case_id,
                business_key: line.business_key,
                organisation: line.organisation,
                stage: line.stage.id,
                stage_label: line.stage.label,
            })
            .collect(),
    )
}

fn summary(case: &CaseRecord, labels: Labels<'_>) -> CaseSummary {
    CaseSummary {
        id: case.id.clone(),
        workflow: case.workflow_id.clone(),
        workflow_version: case.workflow_version,
        business_key: case.business_key.clone(),
        organisation: case.organisation.clone(),
        parties: case.parties.organisations.clone(),
        members: case.parties.members.clone(),
        stage: case.state.stage.clone(),
        stage_label: labels.stage(&case.state.stage).label,
        revision: case.state.revision,
        closed: case.state.is_closed(),
        next_due_at: case.state.next_due_at().map(ts),
    }
}

async fn applied(
    state: &AppState,
    principal: &Principal,
    applied: Applied,
    created_status: StatusCode,
) -> ApiResult<Response> {
    if applied.event.is_some() {
        state.new_work();
    }
    let status = if applied.created {
        created_status
    } else {
        StatusCode::OK
    };
    let view = AppliedView {
        case: detail(state, principal, &applied.case).await?,
        event: applied
            .event
            .as_ref()
            .map(|e| serde_json::to_value(e).unwrap_or_default()),
        created: applied.created,
    };
    Ok((status, axum::Json(view)).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only cases of this workflow.
    workflow: Option<String>,
    /// Only cases in this stage.
    stage: Option<String>,
    /// Only cases of this fiscal year.
    #[param(minimum = 1, maximum = 9999)]
    fiscal_year: Option<i16>,
    /// Only cases with an obligation past due.
    #[serde(default)]
    overdue: bool,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// The `next` cursor of the previous page.
    after: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CasePage {
    pub items: Vec<CaseSummary>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// List the cases your organisation is a party to.
#[utoipa::path(get, path = "/v1/cases", tag = "cases", operation_id = "list_cases", params(ListQuery),
    responses((status = 200, body = CasePage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "`after` is not a cursor of this list")))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<ListQuery>,
) -> ApiResult<axum::Json<CasePage>> {
    if query
        .fiscal_year
        .is_some_and(|year| !(1..=9999).contains(&year))
    {
        return Err(ApiError::localized(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "api-range",
            &[("name", "fiscal_year"), ("min", "1"), ("max", "9999")],
        ));
    }
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::localized(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "api-range",
            &[("name", "limit"), ("min", "1"), ("max", "500")],
        ));
    }
    // An empty cursor is no cursor: the first page.
    let after = query.after.filter(|after| !after.is_empty());
    if let Some(after) = &after {
        // Only the caller's own cases are valid cursors. A well-formed request naming a
        // position that is not in this list is a refused value (422), not a malformed one.
        principal
            .case(&state, after)
            .await
            .map_err(|_| ApiError::unprocessable_localized("after", "api-bad-cursor", &[]))?;
    }
    let cases = state
        .store
        .cases(&CaseFilter {
            workflow_id: query.workflow,
            stage: query.stage,
            fiscal_year: query.fiscal_year,
            overdue_at: query.overdue.then(|| state.now()),
            visible_to: Some(principal.organisation().to_owned()),
            after,
            limit: limit + 1,
            ..CaseFilter::default()
        })
        .await?;
    let more = cases.len() > limit as usize;
    let cases = &cases[..cases.len().min(limit as usize)];
    let engines = state.store.engines_of(cases).await?;
    let items: Vec<CaseSummary> = cases
        .iter()
        .map(|case| {
            let engine = &engines[&(case.workflow_id.clone(), case.workflow_version)];
            summary(case, Labels::new(&engine.workflow, principal.language()))
        })
        .collect();
    let next = more.then(|| items.last().map(|c| c.id.clone())).flatten();
    Ok(axum::Json(CasePage { items, next }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactIn {
    pub name: String,
    /// `email:someone@example.org` or `webhook:https://…`.
    pub address: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenRequest {
    pub workflow: String,
    /// Unique per workflow within your organisation, e.g. `DP3A-2025-001`; opening the same
    /// key again with the same details returns the existing case.
    #[schema(min_length = 1, max_length = 200)]
    pub business_key: String,
    /// The role you open it in (one the workflow allows to open cases).
    pub role: Option<String>,
    /// Field values as people type them, e.g. `{"pagu": "Rp34.500.000"}`.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Party → organisation, e.g. `{"instansi": "dp3a-palembang", "ormas": "yayasan-x"}`.
    /// Your organisation must be one of them.
    #[serde(default)]
    pub parties: BTreeMap<String, String>,
    /// Party → further organisations of a coalition, besides its lead named in `parties`,
    /// e.g. `{"ormas": ["perkumpulan-y"]}`. Each is invited, like every party organisation.
    #[serde(default)]
    pub members: BTreeMap<String, Vec<String>>,
    /// Role → people to notify.
    #[serde(default)]
    pub contacts: BTreeMap<String, Vec<ContactIn>>,
    /// The case this one continues (next year's partnership after this year's), by id or
    /// business key; with no `parties`, its parties and contacts are taken over.
    pub follows: Option<String>,
    /// The template case this one replicates (the same partnership with another agency).
    pub replicates: Option<String>,
    /// Fields taken over from the case followed or replicated, unless given in `fields`,
    /// e.g. `["nama_kegiatan", "ormas"]`.
    #[serde(default)]
    pub carry: Vec<String>,
}

/// Open a case (or get the existing one with the same business key).
#[utoipa::path(post, path = "/v1/cases", tag = "cases", request_body = OpenRequest,
    responses((status = 201, body = AppliedView, description = "opened"), (status = 200, body = AppliedView, description = "already open with these details"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn open(
    State(state): State<AppState>,
    principal: Principal,
    Json(request): Json<OpenRequest>,
) -> ApiResult<Response> {
    let version = state.store.latest_version(&request.workflow).await?;
    let engine = state.store.engine_for(&request.workflow, version).await?;
    let workflow = &engine.workflow;
    let allowed: Vec<String> = if workflow.open_by.is_empty() {
        workflow.roles.iter().map(|r| r.id.clone()).collect()
    } else {
        workflow.open_by.clone()
    };
    let mut parties = Parties {
        organisations: request.parties,
        members: request.members,
        contacts: BTreeMap::new(),
    };
    let usable: Vec<&str> = workflow
        .roles
        .iter()
        .map(|r| r.id.as_str())
        .filter(|r| principal.may_act_as(workflow, &parties, principal.organisation(), r))
        .collect();
    let role = match &request.role {
        Some(role) if usable.contains(&role.as_str()) => role.clone(),
        Some(role) => {
            return Err(ApiError::localized_with(
                StatusCode::FORBIDDEN,
                "forbidden",
                "api-cannot-open-as",
                vec![("role", Arg::Roles(vec![role.clone()]))],
                None,
                Some(WorkflowRef {
                    id: workflow.id.clone(),
                    version,
                }),
            ));
        }
        None => usable
            .iter()
            .find(|r| allowed.iter().any(|a| a == *r))
            .map(|r| (*r).to_owned())
            .ok_or_else(|| {
                ApiError::localized_with(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "api-no-role-may-open",
                    vec![("allowed", Arg::Roles(allowed.clone()))],
                    None,
                    Some(WorkflowRef {
                        id: workflow.id.clone(),
                        version,
                    }),
                )
            })?,
    };
    for (role, people) in request.contacts {
        for person in people {
            parties
                .contacts
                .entry(role.clone())
                .or_default()
                .push(Contact {
                    name: person.name,
                    address: person.address,
                });
        }
    }
    let origin = match (&request.follows, &request.replicates) {
        (Some(_), Some(_)) => {
            return Err(ApiError::localized(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                "api-one-origin",
                &[],
            ));
        }
        (Some(reference), None) | (None, Some(reference)) => Some(Origin {
            link: if request.follows.is_some() {
                LinkKind::Follows
            } else {
                LinkKind::Replicates
            },
            // Only a case the caller may see: any other is "not found".
            case_id: principal.case(&state, reference).await?.id,
            carry: request.carry,
        }),
        (None, None) if !request.carry.is_empty() => {
            return Err(swakelola_store::Error::InvalidInput {
                path: "carry".into(),
                problem: swakelola_store::InputProblem::CarryWithoutOrigin,
            }
            .into());
        }
        (None, None) => None,
    };
    let result = state
        .store
        .open(
            &OpenCase {
                origin,
                workflow_id: request.workflow,
                organisation: principal.organisation().to_owned(),
                business_key: request.business_key,
                actor: Actor::new(principal.0.name.clone(), role)
                    .for_organisation(principal.organisation()),
                fields: request.fields.into_iter().collect(),
                parties,
            },
            state.now(),
        )
        .await?;
    applied(&state, &principal, result, StatusCode::CREATED).await
}

/// A case with your next steps.
#[utoipa::path(get, path = "/v1/cases/{id}", tag = "cases", operation_id = "show_case", params(("id" = String, Path)),
    responses((status = 200, body = CaseDetail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<CaseDetail>> {
    let case = principal.case(&state, &id).await?;
    Ok(axum::Json(detail(&state, &principal, &case).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FireRequest {
    /// The role to act in; by default the first of yours that may fire the transition.
    pub role: Option<String>,
    pub comment: Option<String>,
    /// Refuse with 409 unless the case is still at this revision.
    #[serde(default, deserialize_with = "crate::extract::optional_revision")]
    #[schema(minimum = 0)]
    pub expected_revision: Option<u64>,
}

/// Applies a command of `principal` on `case` in `role` through the store, like every API
/// mutation.
pub async fn execute(
    state: &AppState,
    principal: &Principal,
    case: &CaseRecord,
    (role, action): (String, Action),
    expected_revision: Option<u64>,
    idempotency: &IdempotencyKey,
    content: Option<Vec<u8>>,
) -> ApiResult<Applied> {
    Ok(state
        .store
        .execute(
            &CaseCommand {
                case_id: case.id.clone(),
                actor: Actor::new(principal.0.name.clone(), role)
                    .for_organisation(principal.organisation()),
                action,
                expected_revision,
                idempotency_key: idempotency.scoped(&principal.0.id),
                content,
            },
            state.now(),
        )
        .await?)
}

/// The whole of most commands, for the API and the pages alike: the case the caller may see
/// and the role it acts in for `target`, then `action` under the expected revision and
/// idempotency key.
pub async fn perform(
    state: &AppState,
    principal: &Principal,
    (id, requested_role, target): (&str, Option<&str>, Target<'_>),
    action: Action,
    (expected_revision, idempotency): (Option<u64>, &IdempotencyKey),
) -> ApiResult<Applied> {
    let (case, role) = acting_on(state, principal, id, requested_role, target).await?;
    execute(
        state,
        principal,
        &case,
        (role, action),
        expected_revision,
        idempotency,
        None,
    )
    .await
}

/// [`perform`], answered with the case (`created` status when an event was appended).
async fn act(
    state: &AppState,
    principal: &Principal,
    on: (&str, Option<&str>, Target<'_>),
    action: Action,
    guard: (Option<u64>, &IdempotencyKey),
    created: StatusCode,
) -> ApiResult<Response> {
    let result = perform(state, principal, on, action, guard).await?;
    applied(state, principal, result, created).await
}

/// What a command acts on, which decides the roles the workflow allows for it.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Transition(&'a str),
    Field(&'a str),
    Document(&'a str),
    /// The contacts of a role: that role and the roles of its party.
    Contacts(&'a str),
    /// A new record of a kind.
    Record(&'a str),
    /// Declining a joint sign-off.
    Decline(&'a str),
    /// The organisations of a party (a coalition's members).
    Members(&'a str),
    /// A link to another case.
    Link,
}

/// The case, if the caller may see it, and the role the caller acts in on `target`.
pub async fn acting_on(
    state: &AppState,
    principal: &Principal,
    id: &str,
    requested_role: Option<&str>,
    target: Target<'_>,
) -> ApiResult<(CaseRecord, String)> {
    let case = principal.case(state, id).await?;
    let engine = state
        .store
        .engine_for(&case.workflow_id, case.workflow_version)
        .await?;
    let workflow = &engine.workflow;
    let (allowed, what) = match target {
        // A joint sign-off is approved by each of its roles once: act in one that has not
        // approved yet.
        Target::Transition(id) => (
            workflow.transition(id).map(|t| {
                if !t.is_joint() {
                    return t.roles.clone();
                }
                if t.requires_each_member_of.is_some() {
                    // Members sign for their organisation: the core tells a member that has
                    // signed already, so any signer role of the caller will do.
                    return swakelola_core::step::signer_roles(workflow, t);
                }
                let given = case.state.approvals.get(id);
                let open: Vec<String> = t
                    .requires_all
                    .iter()
                    .filter(|r| given.is_none_or(|g| !g.contains_key(*r)))
                    .cloned()
                    .collect();
                if open.is_empty() {
                    t.requires_all.clone()
                } else {
                    open
                }
            }),
            Act::Fire {
                transition: id.to_owned(),
            },
        ),
        // Those who sign decline; a transition that is not joint is refused by the workflow
        // (with why) to those who may fire it.
        Target::Decline(id) => (
            workflow.transition(id).map(|t| {
                if t.is_joint() {
                    swakelola_core::step::signer_roles(workflow, t)
                } else {
                    t.roles.clone()
                }
            }),
            Act::Fire {
                transition: id.to_owned(),
            },
        ),
        Target::Field(id) => (
            workflow.field(id).map(|f| f.set_by.clone()),
            Act::SetField {
                field: id.to_owned(),
            },
        ),
        Target::Document(id) => (
            workflow.document(id).map(|d| d.attach_by.clone()),
            Act::Attach {
                document: id.to_owned(),
            },
        ),
        Target::Contacts(id) => (
            workflow.roles_on_the_side_of(id),
            Act::SetContacts {
                role: id.to_owned(),
            },
        ),
        Target::Record(id) => (
            workflow.record(id).map(|r| r.add_by.clone()),
            Act::AddRecord {
                record: id.to_owned(),
            },
        ),
        Target::Link => (Some(Vec::new()), Act::Link),
        Target::Members(id) => (
            workflow.party(id).map(|p| p.members_by.clone()),
            Act::ChangeMembers {
                party: id.to_owned(),
            },
        ),
    };
    // An unknown transition, field or document type is left to the workflow to refuse
    // (with the list of known ones), in any role the caller may use.
    let role = principal.acting_role(
        workflow,
        &case,
        requested_role,
        &allowed.unwrap_or_default(),
        &what,
    )?;
    Ok((case, role))
}

/// Fire a transition out of the current stage.
#[utoipa::path(post, path = "/v1/cases/{id}/transitions/{transition}", tag = "cases",
    params(("id" = String, Path), ("transition" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = FireRequest,
    responses((status = 200, body = AppliedView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn fire(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, transition)): Path<(String, String)>,
    idempotency: IdempotencyKey,
    Json(request): Json<FireRequest>,
) -> ApiResult<Response> {
    act(
        &state,
        &principal,
        (
            &id,
            request.role.as_deref(),
            Target::Transition(&transition),
        ),
        Action::Fire {
            transition: transition.clone(),
            comment: request.comment,
        },
        (request.expected_revision, &idempotency),
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetFieldRequest {
    /// The value as people type it, e.g. `Rp34.500.000` or `2025-07-01`.
    pub value: String,
    pub role: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::optional_revision")]
    #[schema(minimum = 0)]
    pub expected_revision: Option<u64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetContactsRequest {
    /// The people to notify for the role from now on; an empty list leaves the role with no
    /// contact (its notices go to the log).
    pub contacts: Vec<ContactIn>,
    /// The role to act in; by default the first of yours that may (the role itself or one of
    /// the same party).
    pub role: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::optional_revision")]
    #[schema(minimum = 0)]
    pub expected_revision: Option<u64>,
}

/// Replace the people notified for a role (an official changed post); recorded in the
/// history.
#[utoipa::path(put, path = "/v1/cases/{id}/contacts/{role}", tag = "cases",
    params(("id" = String, Path), ("role" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = SetContactsRequest,
    responses((status = 200, body = AppliedView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_contacts(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, target)): Path<(String, String)>,
    idempotency: IdempotencyKey,
    Json(request): Json<SetContactsRequest>,
) -> ApiResult<Response> {
    let contacts = request
        .contacts
        .into_iter()
        .map(|c| swakelola_core::state::ContactEntry {
            name: c.name,
            address: c.address,
        })
        .collect();
    act(
        &state,
        &principal,
        (&id, request.role.as_deref(), Target::Contacts(&target)),
        Action::SetContacts {
            role: target.clone(),
            contacts,
        },
        (request.expected_revision, &idempotency),
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineRequest {
    /// Why (required): the approvals given so far are cleared and everyone sees the reason.
    #[schema(min_length = 1, max_length = 4000)]
    pub comment: String,
    pub role: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::optional_revision")]
    #[schema(minimum = 0)]
    pub expected_revision: Option<u64>,
}

/// Decline a joint sign-off (a transition with `requires_all`) with a reason: the approvals
/// given so far no longer count.
#[utoipa::path(post, path = "/v1/cases/{id}/transitions/{transition}/decline", tag = "cases",
    params(("id" = String, Path), ("transition" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = DeclineRequest,
    responses((status = 200, body = AppliedView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decline(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, transition)): Path<(String, String)>,
    idempotency: IdempotencyKey,
    Json(request): Json<DeclineRequest>,
) -> ApiResult<Response> {
    act(
        &state,
        &principal,
        (&id, request.role.as_deref(), Target::Decline(&transition)),
        Action::Decline {
            transition: transition.clone(),
            comment: request.comment,
        },
        (request.expected_revision, &idempotency),
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    /// The organisation joining the party, e.g. `perkumpulan-y`. It is invited: it sees the
    /// case once one of its staff accepts.
    #[schema(min_length = 1, max_length = 200)]
    pub organisation: String,
    pub role: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::optional_revision")]
    #[schema(minimum = 0)]
    pub expected_revision: Option<u64>,
}

/// Add an organisation to a party of the case (a coalition grows); recorded in the history.
#[utoipa::path(post, path = "/v1/cases/{id}/parties/{party}/members", tag = "cases",
    params(("id" = String, Path), ("party" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = AddMemberRequest,
    responses((status = 200, body = AppliedView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_member(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, party)): Path<(String, String)>,
    idempotency: IdempotencyKey,
    Json(request): Json<AddMemberRequest>,
) -> ApiResult<Response> {
    act(
        &state,
        &principal,
        (&id, request.role.as_deref(), Target::Members(&party)),
        Action::AddMember {
            party: party.clone(),
            organisation: request.organisation,
        },
        (request.expected_revision, &idempotency),
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawMemberRequest {
    /// Why (required); kept in the history.
    #[schema(min_length = 1, max_length = 4000)]
    pub reason: String,
    pub role: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::optional_revision")]
    #[schema(minimum = 0)]
    pub expected_revision: Option<u64>,
}

/// Withdraw an organisation from a party of the case; unless it is in another party (or
/// opened the case) it no longer sees the case, at once. A party's lead cannot be withdrawn.
#[utoipa::path(post, path = "/v1/cases/{id}/parties/{party}/members/{organisation}/withdraw", tag = "cases",
    params(("id" = String, Path), ("party" = String, Path), ("organisation" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = WithdrawMemberRequest,
    responses((status = 200, body = AppliedView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn withdraw_member(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, party, organisation)): Path<(String, String, String)>,
    idempotency: IdempotencyKey,
    Json(request): Json<WithdrawMemberRequest>,
) -> ApiResult<Response> {
    act(
        &state,
        &principal,
        (&id, request.role.as_deref(), Target::Members(&party)),
        Action::WithdrawMember {
            party: party.clone(),
            organisation,
            reason: request.reason,
        },
        (request.expected_revision, &idempotency),
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    /// The related case, by id or business key; it must be one you may see.
    #[schema(min_length = 1, max_length = 200)]
    pub case: String,
    pub role: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::optional_revision")]
    #[schema(minimum = 0)]
    pub expected_revision: Option<u64>,
}

/// Mark another case as related to this one (seen from both). Continuations and replications
/// are linked when their case is opened (`follows`, `replicates`).
#[utoipa::path(post, path = "/v1/cases/{id}/links", tag = "cases",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = LinkRequest,
    responses((status = 200, body = AppliedView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn link(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    idempotency: IdempotencyKey,
    Json(request): Json<LinkRequest>,
) -> ApiResult<Response> {
    // The other case first: one the caller may not see is "not found", whatever else.
    let other = principal.case(&state, &request.case).await?;
    act(
        &state,
        &principal,
        (&id, request.role.as_deref(), Target::Link),
        Action::Link {
            link: LinkKind::Related,
            case_id: other.id,
            business_key: other.business_key,
        },
        (request.expected_revision, &idempotency),
        StatusCode::OK,
    )
    .await
}

/// A partnership over the years: each year's case, its stage and amounts, their growth.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnershipView {
    /// The cases following one another, oldest first (those you may see).
    #[schema(value_type = Vec<Object>)]
    pub years: Vec<serde_json::Value>,
    /// Cases replicating any of them elsewhere (those you may see).
    #[schema(value_type = Vec<Object>)]
    pub replications: Vec<serde_json::Value>,
}

/// The partnership a case belongs to, year by year: stage, the amounts in rupiah (pagu,
/// contract value, realisation …) and their growth from the year before; replications by
/// other agencies. Cases you may not see are left out.
#[utoipa::path(get, path = "/v1/partnerships/{id}", tag = "cases", params(("id" = String, Path)),
    responses((status = 200, body = PartnershipView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn partnership(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<PartnershipView>> {
    let case = principal.case(&state, &id).await?;
    let mut series = state.store.series(&case.id).await?;
    series.chain.retain(|c| principal.sees(c));
    series.replications.retain(|c| principal.sees(c));
    let cases: Vec<&CaseRecord> = series.chain.iter().chain(&series.replications).collect();
    let engines = state.store.engines_of(cases).await?;
    let view = SeriesView::build(&series, |c| {
        engines
            .get(&(c.workflow_id.clone(), c.workflow_version))
            .map(|e| Labels::new(&e.workflow, principal.language()))
    });
    let json = |rows: Vec<swakelola_view::SeriesRow>| {
        rows.into_iter()
            .map(|r| serde_json::to_value(r).unwrap_or_default())
            .collect()
    };
    Ok(axum::Json(PartnershipView {
        years: json(view.years),
        replications: json(view.replications),
    }))
}

/// Set a field.
#[utoipa::path(put, path = "/v1/cases/{id}/fields/{field}", tag = "cases",
    params(("id" = String, Path), ("field" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = SetFieldRequest,
    responses((status = 200, body = AppliedView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_field(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, field)): Path<(String, String)>,
    idempotency: IdempotencyKey,
    Json(request): Json<SetFieldRequest>,
) -> ApiResult<Response> {
    act(
        &state,
        &principal,
        (&id, request.role.as_deref(), Target::Field(&field)),
        Action::SetField {
            field: field.clone(),
            value: request.value,
        },
        (request.expected_revision, &idempotency),
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddRecordRequest {
    /// The record's fields as people type them, e.g.
    /// `{"termin": "1", "jumlah": "Rp10.350.000", "tanggal_sp2d": "2025-05-20"}`.
    pub values: std::collections::BTreeMap<String, String>,
    pub role: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::optional_revision")]
    #[schema(minimum = 0)]
    pub expected_revision: Option<u64>,
}

/// Add a record of a kind the workflow declares (a termin payment, …). A record that would
/// break a rule of the workflow (payments above the contract value) is refused with 422.
#[utoipa::path(post, path = "/v1/cases/{id}/records/{record}", tag = "cases",
    params(("id" = String, Path), ("record" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = AddRecordRequest,
    responses((status = 201, body = AppliedView), (status = 200, body = AppliedView, description = "A replayed request"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_record(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, record)): Path<(String, String)>,
    idempotency: IdempotencyKey,
    Json(request): Json<AddRecordRequest>,
) -> ApiResult<Response> {
    let (case, role) = acting_on(
        &state,
        &principal,
        &id,
        request.role.as_deref(),
        Target::Record(&record),
    )
    .await?;
    let result = execute(
        &state,
        &principal,
        &case,
        (
            role,
            Action::AddRecord {
                record,
                values: request.values.into_iter().collect(),
            },
        ),
        request.expected_revision,
        &idempotency,
        None,
    )
    .await?;
    let status = if result.event.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    applied(&state, &principal, result, status).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AttachQuery {
    /// The document type, e.g. `kak`.
    document_type: String,
    /// The file's name as shown to people, e.g. `kak-2025.pdf` (no folders).
    #[param(min_length = 1, max_length = 200)]
    file_name: String,
    role: Option<String>,
    expected_revision: Option<u64>,
}

/// Checks a document's file name: a name, not a path, so it can never point outside a folder
/// when someone saves the download.
fn check_file_name(name: &str) -> ApiResult<()> {
    let problem = if name.trim().is_empty() {
        Some("api-file-name-empty")
    } else if name.chars().count() > 200 {
        Some("api-file-name-too-long")
    } else if name.contains(['/', '\\']) || name == "." || name == ".." || name.starts_with("..") {
        Some("api-file-name-not-plain")
    } else if name.chars().any(char::is_control) {
        Some("api-file-name-control")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(ApiError::unprocessable_localized("file_name", problem, &[])),
        None => Ok(()),
    }
}

/// Attach a document: the request body is the file's bytes.
#[utoipa::path(post, path = "/v1/cases/{id}/documents", tag = "cases",
    params(("id" = String, Path), AttachQuery, ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = AppliedView, description = "attached"),
        (status = 200, body = AppliedView, description = "a retry with the same Idempotency-Key: the earlier result, nothing attached again"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn attach(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(query): Query<AttachQuery>,
    idempotency: IdempotencyKey,
    request: Request,
) -> ApiResult<Response> {
    check_file_name(&query.file_name)?;
    let document_type = query.document_type;
    let (case, role) = acting_on(
        &state,
        &principal,
        &id,
        query.role.as_deref(),
        Target::Document(&document_type),
    )
    .await?;
    let content = read_limited(request, state.limits.upload_bytes).await?;
    if content.is_empty() {
        return Err(ApiError::unprocessable_localized(
            "body",
            "api-empty-document",
            &[],
        ));
    }
    let result = execute(
        &state,
        &principal,
        &case,
        (
            role,
            Action::Attach {
                document_type,
                file_name: query.file_name,
                sha256: sha256_hex(&content),
                size: content.len() as u64,
            },
        ),
        query.expected_revision,
        &idempotency,
        Some(content),
    )
    .await?;
    applied(&state, &principal, result, StatusCode::CREATED).await
}

/// Download an attached document by its SHA-256.
#[utoipa::path(get, path = "/v1/cases/{id}/documents/{sha256}", tag = "cases",
    params(("id" = String, Path), ("sha256" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, sha256)): Path<(String, String)>,
) -> ApiResult<Response> {
    let case = principal.case(&state, &id).await?;
    // Only documents attached to this case: a digest alone must not open another case's file.
    let Some(document) = case
        .state
        .documents
        .iter()
        .rev()
        .find(|d| d.sha256 == sha256)
    else {
        return Err(ApiError::localized(
            StatusCode::NOT_FOUND,
            "document_not_found",
            "api-no-such-document",
            &[("case", &format!("`{id}`")), ("sha256", &sha256)],
        ));
    };
    let bytes = state.store.document(&document.sha256).await?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    // The name was checked when attached; quotes and non-ASCII are replaced for the header.
    let safe: String = document
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// The case's history, each event with its place in the hash chain.
#[utoipa::path(get, path = "/v1/cases/{id}/history", tag = "cases", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let case = principal.case(&state, &id).await?;
    let events = state.store.history(&case.id).await?;
    Ok(axum::Json(serde_json::json!({ "events": events })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationView {
    pub events: u64,
    /// The first event whose stored content or hash does not match the chain.
    pub first_tampered: Option<u64>,
    pub intact: bool,
}

/// Recompute the case's hash chain.
#[utoipa::path(get, path = "/v1/cases/{id}/verify", tag = "cases", params(("id" = String, Path)),
    responses((status = 200, body = VerificationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<VerificationView>> {
    let case = principal.case(&state, &id).await?;
    let verification = state.store.verify(&case.id).await?;
    Ok(axum::Json(VerificationView {
        events: verification.events,
        intact: verification.first_tampered.is_none(),
        first_tampered: verification.first_tampered,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AgendaQuery {
    /// How many days ahead (1–366, default 14).
    #[param(minimum = 1, maximum = 366)]
    days: Option<u32>,
}

/// A case another organisation named yours on; accept it to see and act on the case.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    pub case_id: String,
    pub workflow: String,
    pub business_key: String,
    /// The organisation that opened the case.
    pub invited_by: String,
    /// The parties your organisation is named as.
    pub parties: Vec<String>,
    pub opened_at: String,
}

/// Cases your organisation is named on and has not accepted yet.
#[utoipa::path(get, path = "/v1/invitations", tag = "cases",
    responses((status = 200, body = Vec<InvitationView>), (status = 401, body = ErrorBody)))]
pub async fn invitations(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<axum::Json<Vec<InvitationView>>> {
    let invitations = state.store.invitations(principal.organisation()).await?;
    Ok(axum::Json(
        invitations
            .into_iter()
            .map(|i| InvitationView {
                case_id: i.case_id,
                workflow: i.workflow_id,
                business_key: i.business_key,
                invited_by: i.invited_by,
                parties: i.parties,
                opened_at: i.opened_at.to_string(),
            })
            .collect(),
    ))
}

/// Accept your organisation's part in a case (any of its staff may); from then on it sees
/// the case and acts in its roles. 404 when there is no invitation for your organisation.
#[utoipa::path(post, path = "/v1/invitations/{id}/accept", tag = "cases", params(("id" = String, Path)),
    responses((status = 200, body = CaseDetail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<CaseDetail>> {
    match state
        .store
        .accept_invitation(
            &id,
            principal.organisation(),
            &principal.0.name,
            state.now(),
        )
        .await
    {
        Ok(()) => {}
        Err(swakelola_store::Error::CaseNotFound(_)) => return Err(ApiError::case_not_found()),
        Err(error) => return Err(error.into()),
    }
    tracing::info!(
        event = "invitation_accepted",
        case_id = %id,
        organisation = %principal.organisation(),
        "an organisation accepted its part in a case"
    );
    let case = principal.case(&state, &id).await?;
    Ok(axum::Json(detail(&state, &principal, &case).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgendaItem {
    pub case_id: String,
    pub business_key: String,
    pub timer: String,
    /// `reminder`, `due`, `escalation` or `period_start`.
    pub kind: String,
    /// In words: "pengingat", "tenggat", "eskalasi", "periode laporan baru".
    pub what: String,
    pub stage: String,
    pub stage_label: String,
    /// The obligation it is about, in words.
    pub obligation: Option<String>,
    /// The obligation's due date (YYYY-MM-DD).
    pub due_date: Option<String>,
    /// Counted through a year without a holiday calendar: may still move.
    pub provisional: bool,
    /// The roles that hear of it.
    pub recipients: Vec<String>,
    pub due_at: String,
    /// Already due: waits for a runner.
    pub due: bool,
}

/// Deadlines, reminders and escalations due in the coming days on your cases.
#[utoipa::path(get, path = "/v1/agenda", tag = "cases", params(AgendaQuery),
    responses((status = 200, body = Vec<AgendaItem>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn agenda(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<AgendaQuery>,
) -> ApiResult<axum::Json<Vec<AgendaItem>>> {
    let days = query.days.unwrap_or(14);
    if !(1..=366).contains(&days) {
        return Err(ApiError::localized(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "api-range",
            &[("name", "days"), ("min", "1"), ("max", "366")],
        ));
    }
    let now = state.now();
    let until = now
        .checked_add(SignedDuration::from_hours(24 * i64::from(days)))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let agenda = state
        .store
        .agenda(until, 1000, Some(principal.organisation()))
        .await?;
    let mut items = Vec::new();
    for (timer, case, engine) in agenda {
        let labels = Labels::new(&engine.workflow, principal.language());
        let Some(entry) = AgendaEntry::build(labels, &case, &timer.key, now) else {
            continue;
        };
        items.push(AgendaItem {
            due: entry.due_now,
            case_id: entry.case_id,
            business_key: entry.business_key,
            timer: timer.key,
            kind: entry.kind.to_owned(),
            what: entry.what,
            stage: entry.stage.id,
            stage_label: entry.stage.label,
            obligation: entry.obligation,
            due_date: entry.due_date.map(|d| d.to_string()),
            provisional: entry.provisional,
            recipients: entry.recipients.into_iter().map(|r| r.id).collect(),
            due_at: ts(entry.at),
        });
    }
    Ok(axum::Json(items))
}
