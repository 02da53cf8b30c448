//! Who is calling, and what they may do.
//!
//! A caller is a token: one organisation and the roles its holder acts in. A case is visible
//! to the organisations that are parties to it (the opener and each named party); a role
//! can be used on a case only when the token holds it and, if the workflow ties the role to
//! a party, the caller's organisation is that party on this case — so a CSO's staff can
//! never act as the agency's PPK, whatever their token says.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use swakelola_core::Workflow;
use swakelola_core::model::Role;
use swakelola_store::{ApiToken, CaseRecord, Parties, Store, TOKEN_PREFIX};

use crate::AppState;
use crate::error::{ApiError, ApiResult, Arg};
use axum::http::StatusCode;
use swakelola_core::step::Act;

/// An authenticated caller, and the language they read (from `Accept-Language`).
#[derive(Debug, Clone)]
pub struct Principal(pub ApiToken, pub swakelola_core::format::Language);

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| {
                ApiError::localized(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "api-token-missing",
                    &[],
                )
            })?
            .to_str()
            .map_err(|_| {
                ApiError::localized(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "api-token-not-text",
                    &[],
                )
            })?;
        let secret = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|s| s.starts_with(TOKEN_PREFIX))
            .ok_or_else(|| {
                ApiError::localized(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "api-token-malformed",
                    &[("prefix", TOKEN_PREFIX)],
                )
            })?;
        let token = state.store.authenticate(secret, (state.clock)()).await??;
        tracing::Span::current().record("token", tracing::field::display(&token.id));
        let crate::extract::Lang(language) = crate::extract::Lang::from_request_parts(parts, state)
            .await
            .unwrap_or_default();
        Ok(Principal(token, language))
    }
}

/// An authenticated caller holding the `admin` role: an administrator of its own
/// organisation only.
#[derive(Debug, Clone)]
pub struct Admin(pub ApiToken);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let Principal(token, _) = Principal::from_request_parts(parts, state).await?;
        if !token.is_admin() {
            return Err(ApiError::localized(
                StatusCode::FORBIDDEN,
                "forbidden",
                "api-admin-only",
                &[],
            ));
        }
        Ok(Admin(token))
    }
}

/// An authenticated caller holding the installation-wide `operator` role (deploying
/// workflows and calendars, metrics).
#[derive(Debug, Clone)]
pub struct Operator(pub ApiToken, pub swakelola_core::format::Language);

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let Principal(token, language) = Principal::from_request_parts(parts, state).await?;
        if !token.is_operator() {
            return Err(ApiError::localized(
                StatusCode::FORBIDDEN,
                "forbidden",
                "api-operator-only",
                &[],
            ));
        }
        Ok(Operator(token, language))
    }
}

impl Principal {
    pub fn language(&self) -> swakelola_core::format::Language {
        self.1
    }

    pub fn organisation(&self) -> &str {
        &self.0.organisation
    }

    /// Whether the caller's organisation is a party to the case and has accepted (an
    /// organisation that was only invited sees nothing until one of its staff accepts).
    pub fn sees(&self, case: &CaseRecord) -> bool {
        let mine = self.0.organisation.as_str();
        let named = case.organisation == mine || case.parties.all_organisations().contains(&mine);
        named && !case.pending_organisations.iter().any(|o| o == mine)
    }

    /// Loads a case the caller may see, by id, id prefix or business key; any other case is
    /// "not found", exactly like one that does not exist.
    pub async fn case(&self, state: &AppState, reference: &str) -> ApiResult<CaseRecord> {
        let id = match state
            .store
            .resolve_case(reference, Some(&self.0.organisation))
            .await
        {
            Ok(id) => id,
            Err(swakelola_store::Error::CaseNotFound(_)) => {
                return Err(ApiError::case_not_found());
            }
            Err(error) => return Err(error.into()),
        };
        match state.store.case(&id).await {
            Ok(case) if self.sees(&case) => Ok(case),
            Ok(_) | Err(swakelola_store::Error::CaseNotFound(_)) => Err(ApiError::case_not_found()),
            Err(error) => Err(error.into()),
        }
    }

    /// Whether the caller may act in `role` on a case with these parties: a role of a party
    /// is held by staff of any of its organisations, or of its lead only when the workflow
    /// says `lead_only`.
    pub fn may_act_as(
        &self,
        workflow: &Workflow,
        parties: &Parties,
        opener: &str,
        role: &str,
    ) -> bool {
        if !self.0.roles.iter().any(|r| r == role) {
            return false;
        }
        let mine = self.0.organisation.as_str();
        match workflow.role(role) {
            Some(Role {
                party: Some(party),
                lead_only,
                ..
            }) => {
                if *lead_only {
                    parties.organisations.get(party).is_some_and(|o| o == mine)
                } else {
                    parties.has_member(party, mine)
                }
            }
            // A role that belongs to no party: any party organisation of the case.
            _ => opener == mine || parties.all_organisations().contains(&mine),
        }
    }

    /// The roles the caller may act in on this case, in the workflow's order.
    pub fn roles_on<'a>(&self, workflow: &'a Workflow, case: &CaseRecord) -> Vec<&'a str> {
        workflow
            .roles
            .iter()
            .filter(|r| {
                self.sees(case)
                    && self.may_act_as(workflow, &case.parties, &case.organisation, &r.id)
            })
            .map(|r| r.id.as_str())
            .collect()
    }

    /// The role to act in: the requested one if the caller may use it on this case,
    /// otherwise the first of `allowed` (all roles when empty) that the caller may use.
    pub fn acting_role(
        &self,
        workflow: &Workflow,
        case: &CaseRecord,
        requested: Option<&str>,
        allowed: &[String],
        what: &Act,
    ) -> ApiResult<String> {
        let usable = self.roles_on(workflow, case);
        if let Some(role) = requested {
            if usable.contains(&role) {
                return Ok(role.to_owned());
            }
            return Err(ApiError::localized_with(
                StatusCode::FORBIDDEN,
                "forbidden",
                "api-role-not-yours",
                vec![
                    ("role", Arg::Roles(vec![role.to_owned()])),
                    ("usable", Arg::Roles(owned(&usable))),
                ],
                None,
                Some(reference(case)),
            ));
        }
        usable
            .iter()
            .find(|r| allowed.is_empty() || allowed.iter().any(|a| a == *r))
            .map(|r| (*r).to_owned())
            .ok_or_else(|| {
                ApiError::localized_with(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "api-no-role-may",
                    vec![
                        ("usable", Arg::Roles(owned(&usable))),
                        ("act", Arg::Act(what.clone())),
                        ("allowed", Arg::Roles(allowed.to_vec())),
                    ],
                    None,
                    Some(reference(case)),
                )
            })
    }
}

fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

/// The workflow version a case runs on, to name its roles by label in a refusal.
fn reference(case: &CaseRecord) -> swakelola_store::WorkflowRef {
    swakelola_store::WorkflowRef {
        id: case.workflow_id.clone(),
        version: case.workflow_version,
    }
}
