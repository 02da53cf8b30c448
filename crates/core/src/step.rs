//! The one function that decides what happens to a case: [`step`].
//!
//! `step(workflow, case state, command, now, calendar)` either returns an [`Outcome`] —
//! the new state, the event to append, the timers to schedule and cancel, the
//! notifications to send and the case's next due instant — or a [`Rejection`] saying why
//! the command may not happen. A rejection never changes anything: the caller keeps the
//! state it had.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;

use crate::Calendar;
use crate::duration::Duration;
use crate::model::{
    Anchor, Comparison, Condition, Deadline, Due, FollowUp, Period, Recurring, ReminderWhen, Rule,
    SYSTEM_ROLE, Stage, Transition, Workflow,
};
use crate::state::{
    Actor, Approval, CaseState, ContactEntry, DocumentRecord, Event, EventKind, LateEntry,
    MovedDeadline, Notification, NotificationKind, Obligation, ObligationSource, Timer,
    TimerEffect, TimerKind,
};
use crate::value::{FieldValue, ValueError};

pub mod migrate;

/// Longest comment accepted on a transition.
pub const MAX_COMMENT_CHARS: usize = 4_000;
/// Longest document file name accepted.
pub const MAX_FILE_NAME_CHARS: usize = 255;

/// A command: who acts, and what they ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub actor: Actor,
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open a new case with initial field values (as typed; parsed by field type) and the
    /// organisations of its parties, lead first.
    Open {
        fields: Vec<(String, String)>,
        parties: BTreeMap<String, Vec<String>>,
    },
    /// Fire a transition out of the current stage.
    Fire {
        transition: String,
        comment: Option<String>,
    },
    /// Record an attached document (its bytes are the caller's business).
    Attach {
        document_type: String,
        file_name: String,
        sha256: String,
        size: u64,
    },
    /// Set a field from text as typed by a person.
    SetField { field: String, value: String },
    /// Decline a joint sign-off with a reason: the approvals given so far are cleared.
    Decline { transition: String, comment: String },
    /// Add a record of a kind the workflow declares, its fields as typed by a person.
    AddRecord {
        record: String,
        values: Vec<(String, String)>,
    },
    /// Add an organisation to a party of the case (a coalition member). Which organisations
    /// are already members is the caller's to check: the core keeps no directory of them.
    AddMember { party: String, organisation: String },
    /// Withdraw an organisation from a party of the case, with a reason.
    WithdrawMember {
        party: String,
        organisation: String,
        reason: String,
    },
    /// Link the case to another one (the caller has found it and may see it).
    Link {
        link: crate::state::LinkKind,
        case_id: String,
        business_key: String,
    },
    /// A pending timer is due; only the system role fires timers.
    FireTimer { key: String },
    /// Replace the people notified for `role` (empty: nobody, the log channel). Allowed to
    /// the role itself and to the roles of the same party, never to the system.
    SetContacts {
        role: String,
        contacts: Vec<ContactEntry>,
    },
    /// The calendar changed (a holiday added or moved): recompute the due dates of the
    /// case's open obligations that are not yet due, and tell the people responsible for
    /// each one that moved. System role only; refused with `NothingToRecompute` when no
    /// due date changes, so an unaffected case records nothing.
    RecomputeDeadlines { reason: String },
}

/// Everything a successful step produces. The caller applies all of it in one
/// transaction, or none of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub state: CaseState,
    pub event: Event,
    /// Timers that are new or moved, to (re)schedule.
    pub schedule: Vec<Timer>,
    /// Keys of timers no longer pending (fired by this step or cancelled by it).
    pub cancel: Vec<String>,
    pub notifications: Vec<Notification>,
    /// The earliest pending timer after this step.
    pub next_due_at: Option<Timestamp>,
}

/// Why a guard of a transition is not met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardFailure {
    MissingDocument { id: String, label: String },
    MissingField { id: String, label: String },
    CommentRequired,
    Condition { condition: Condition },
}

impl std::fmt::Display for GuardFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GuardFailure::MissingDocument { id, label } => {
                write!(f, "document `{id}` ({label}) is not attached")
            }
            GuardFailure::MissingField { id, label } => {
                write!(f, "field `{id}` ({label}) is not set")
            }
            GuardFailure::CommentRequired => f.write_str("a comment is required"),
            GuardFailure::Condition { condition } => {
                write!(
                    f,
                    "condition {} does not hold",
                    describe_condition(condition)
                )
            }
        }
    }
}

/// Why a command was refused. The message says what went wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the case is already open; act on it with its existing id instead of opening it again")]
    AlreadyOpen,
    #[error("the case has not been opened; open it before acting on it")]
    NotOpened,
    #[error("the case is closed (stage `{stage}`) and accepts no more commands")]
    Closed { stage: String },
    #[error("the actor's name is empty; say who is acting")]
    MissingActor,
    #[error("role `{role}` is not defined in this workflow; known roles: {}", .known.join(", "))]
    UnknownRole { role: String, known: Vec<String> },
    #[error("role `{role}` may not {act}; allowed: {}", list_or_none(.allowed))]
    RoleNotAllowed {
        role: String,
        act: Act,
        allowed: Vec<String>,
    },
    #[error("there is no transition `{transition}` in this workflow; from stage `{stage}` you can fire: {}", list_or_none(.allowed))]
    UnknownTransition {
        transition: String,
        stage: String,
        allowed: Vec<String>,
    },
    #[error("cannot fire `{transition}` from stage `{stage}`; allowed: {}", list_or_none(.allowed))]
    WrongStage {
        transition: String,
        stage: String,
        allowed: Vec<String>,
    },
    #[error("cannot fire `{transition}` yet: {}; fix that and try again", join_failures(.failures))]
    GuardsNotMet {
        transition: String,
        failures: Vec<GuardFailure>,
    },
    #[error("a comment may have at most {MAX_COMMENT_CHARS} characters")]
    CommentTooLong,
    #[error("there is no document type `{document_type}` in this workflow; known: {}", .known.join(", "))]
    UnknownDocumentType {
        document_type: String,
        known: Vec<String>,
    },
    #[error("the document cannot be recorded: {problem}")]
    InvalidDocument { problem: DocumentProblem },
    #[error("there is no field `{field}` in this workflow; known: {}", .known.join(", "))]
    UnknownField { field: String, known: Vec<String> },
    #[error("field `{field}` is given twice; give each field once")]
    DuplicateField { field: String },
    #[error("invalid value for field `{field}`: {error}")]
    InvalidFieldValue { field: String, error: ValueError },
    #[error("these fields are required to open a case: {}; give them with their values", .fields.join(", "))]
    MissingRequiredFields { fields: Vec<String> },
    #[error("timer `{key}` is not pending (it already fired or was cancelled); nothing to do")]
    TimerNotPending { key: String },
    #[error("timer `{key}` is not due before {due_at}")]
    TimerNotDue { key: String, due_at: Timestamp },
    #[error("a date computed for this case falls outside the supported range (years 1–9999)")]
    DateOutOfRange,
    #[error("no pending deadline of this case moves with the new calendar; nothing to do")]
    NothingToRecompute,
    #[error("`{role}` has already approved `{transition}`; the other roles still have to")]
    AlreadyApproved { transition: String, role: String },
    #[error("`{transition}` takes effect by itself; only a joint sign-off can be declined")]
    NotJoint { transition: String },
    #[error("there is no kind of record `{record}` in this workflow; known: {}", list_or_none(.known))]
    UnknownRecord { record: String, known: Vec<String> },
    #[error("there is no party `{party}` in this workflow; known: {}", list_or_none(.known))]
    UnknownParty { party: String, known: Vec<String> },
    #[error(
        "the organisations of party `{party}` are fixed when a case is opened; the workflow names no role that may change them (`members_by`)"
    )]
    MembersFixed { party: String },
    #[error("a reason is required to withdraw an organisation")]
    ReasonRequired,
    #[error("`{organisation}` is already in party `{party}`")]
    AlreadyMember { party: String, organisation: String },
    #[error("`{organisation}` is not in party `{party}`")]
    NotAMember { party: String, organisation: String },
    #[error(
        "`{organisation}` leads party `{party}` and cannot be withdrawn; a party keeps its lead"
    )]
    LeadStays { party: String, organisation: String },
    #[error(
        "a member of the coalition `{party}` signs `{transition}` for its organisation; say which organisation you act for"
    )]
    OrganisationNeeded { party: String, transition: String },
    #[error("`{organisation}` is not a member of `{party}`, whose members sign `{transition}`")]
    NotASigner {
        party: String,
        organisation: String,
        transition: String,
    },
    #[error("this would break the rule `{rule}` ({}); change the values so that it holds", describe_condition(.condition))]
    RuleBroken {
        rule: String,
        /// Boxed: a rejection travels in every error, and most are small.
        condition: Box<Condition>,
    },
}

/// What a role was refused to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Act {
    #[error("open a case")]
    Open,
    #[error("fire `{transition}`")]
    Fire { transition: String },
    #[error("attach `{document}`")]
    Attach { document: String },
    #[error("set `{field}`")]
    SetField { field: String },
    #[error("add a `{record}` record")]
    AddRecord { record: String },
    #[error("link the case to another")]
    Link,
    #[error("change the members of party `{party}`")]
    ChangeMembers { party: String },
    #[error("change the contacts of `{role}`")]
    SetContacts { role: String },
    #[error("fire timers")]
    FireTimers,
    #[error("recompute deadlines")]
    RecomputeDeadlines,
}

/// Why a document record cannot be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DocumentProblem {
    #[error("the file name is empty")]
    EmptyName,
    #[error("the file name is longer than {MAX_FILE_NAME_CHARS} characters")]
    NameTooLong,
    #[error("the file name must be a plain name without folders or control characters")]
    NotAPlainName,
    #[error("the file is empty")]
    EmptyFile,
    #[error("the SHA-256 digest must be 64 lower-case hex digits")]
    BadDigest,
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        items.join(", ")
    }
}

fn join_failures(failures: &[GuardFailure]) -> String {
    failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Rejection {
    /// A stable, machine-readable code for APIs and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::AlreadyOpen => "already_open",
            Rejection::NotOpened => "not_opened",
            Rejection::Closed { .. } => "case_closed",
            Rejection::MissingActor => "missing_actor",
            Rejection::UnknownRole { .. } => "unknown_role",
            Rejection::RoleNotAllowed { .. } => "role_not_allowed",
            Rejection::UnknownTransition { .. } => "unknown_transition",
            Rejection::WrongStage { .. } => "wrong_stage",
            Rejection::GuardsNotMet { .. } => "guards_not_met",
            Rejection::CommentTooLong => "comment_too_long",
            Rejection::UnknownDocumentType { .. } => "unknown_document_type",
            Rejection::InvalidDocument { .. } => "invalid_document",
            Rejection::UnknownField { .. } => "unknown_field",
            Rejection::DuplicateField { .. } => "duplicate_field",
            Rejection::InvalidFieldValue { .. } => "invalid_field_value",
            Rejection::MissingRequiredFields { .. } => "missing_required_fields",
            Rejection::TimerNotPending { .. } => "timer_not_pending",
            Rejection::TimerNotDue { .. } => "timer_not_due",
            Rejection::DateOutOfRange => "date_out_of_range",
            Rejection::NothingToRecompute => "nothing_to_recompute",
            Rejection::RuleBroken { .. } => "rule_broken",
            Rejection::UnknownRecord { .. } => "unknown_record",
            Rejection::AlreadyApproved { .. } => "already_approved",
            Rejection::NotJoint { .. } => "not_joint",
            Rejection::UnknownParty { .. } => "unknown_party",
            Rejection::MembersFixed { .. } => "members_fixed",
            Rejection::ReasonRequired => "reason_required",
            Rejection::AlreadyMember { .. } => "already_member",
            Rejection::NotAMember { .. } => "not_a_member",
            Rejection::LeadStays { .. } => "is_lead",
            Rejection::OrganisationNeeded { .. } => "organisation_needed",
            Rejection::NotASigner { .. } => "not_a_signer",
        }
    }
}

/// Applies `command` to the case `state` (`None` before the case is opened) at `now`.
pub fn step(
    workflow: &Workflow,
    state: Option<&CaseState>,
    command: &Command,
    now: Timestamp,
    calendar: &Calendar,
) -> Result<Outcome, Rejection> {
    let ctx = Context::new(workflow, calendar, now);
    if command.actor.name.trim().is_empty() {
        return Err(Rejection::MissingActor);
    }
    let state = match (state, &command.action) {
        (None, Action::Open { fields, parties }) => {
            return ctx.open(&command.actor, fields, parties);
        }
        (Some(_), Action::Open { .. }) => return Err(Rejection::AlreadyOpen),
        (None, _) => return Err(Rejection::NotOpened),
        (Some(state), _) => state,
    };
    if state.is_closed() {
        return Err(Rejection::Closed {
            stage: state.stage.clone(),
        });
    }
    let mut next = state.clone();
    next.revision += 1;
    let mut notifications = Vec::new();
    let actor = &command.actor;
    let kind = match &command.action {
        Action::Open { .. } => unreachable!("handled above"),
        Action::Fire {
            transition,
            comment,
        } => ctx.fire(
            &mut next,
            actor,
            transition,
            comment.as_deref(),
            &mut notifications,
        )?,
        Action::Attach {
            document_type,
            file_name,
            sha256,
            size,
        } => {
            let document = DocumentRecord {
                document_type: document_type.clone(),
                file_name: file_name.clone(),
                sha256: sha256.clone(),
                size: *size,
                attached_at: now,
                attached_by: actor.clone(),
            };
            ctx.attach(&mut next, document)?
        }
        Action::SetField { field, value } => {
            ctx.set_field(&mut next, actor, field, value, &mut notifications)?
        }
        Action::AddRecord { record, values } => ctx.add_record(&mut next, actor, record, values)?,
        Action::Decline {
            transition,
            comment,
        } => ctx.decline(&mut next, actor, transition, comment)?,
        Action::FireTimer { key } => ctx.fire_timer(&mut next, actor, key, &mut notifications)?,
        Action::SetContacts { role, contacts } => ctx.set_contacts(actor, role, contacts)?,
        Action::Link {
            link,
            case_id,
            business_key,
        } => {
            // Any role of the case may record a relation; the system never does.
            ctx.check_role(actor, &[], Act::Link)?;
            EventKind::Linked {
                link: *link,
                case_id: case_id.clone(),
                business_key: business_key.clone(),
            }
        }
        Action::AddMember {
            party,
            organisation,
        } => {
            ctx.check_members_by(actor, party)?;
            let members = next.parties.entry(party.clone()).or_default();
            if members.contains(organisation) {
                return Err(Rejection::AlreadyMember {
                    party: party.clone(),
                    organisation: organisation.clone(),
                });
            }
            // An organisation joining a party nobody leads yet leads it.
            members.push(organisation.clone());
            EventKind::MemberAdded {
                party: party.clone(),
                organisation: organisation.clone(),
            }
        }
        Action::WithdrawMember {
            party,
            organisation,
            reason,
        } => {
            ctx.check_members_by(actor, party)?;
            if reason.trim().is_empty() {
                return Err(Rejection::ReasonRequired);
            }
            if reason.chars().count() > MAX_COMMENT_CHARS {
                return Err(Rejection::CommentTooLong);
            }
            let members = next.parties.entry(party.clone()).or_default();
            match members.iter().position(|m| m == organisation) {
                None => {
                    return Err(Rejection::NotAMember {
                        party: party.clone(),
                        organisation: organisation.clone(),
                    });
                }
                Some(0) => {
                    return Err(Rejection::LeadStays {
                        party: party.clone(),
                        organisation: organisation.clone(),
                    });
                }
                Some(index) => {
                    members.remove(index);
                }
            }
            // Approvals this organisation gave no longer count: it is not a member any more.
            let signer = crate::state::member_signer(organisation);
            for approvals in next.approvals.values_mut() {
                approvals.remove(&signer);
            }
            EventKind::MemberWithdrawn {
                party: party.clone(),
                organisation: organisation.clone(),
                reason: reason.clone(),
            }
        }
        Action::RecomputeDeadlines { reason } => {
            ctx.recompute_deadlines(&mut next, actor, reason, &mut notifications)?
        }
    };
    Ok(finish(state, next, actor, kind, notifications, now))
}

/// The roles that take part in a joint sign-off: those in `requires_all`, and the roles of
/// the party whose every member signs (among the transition's `roles`).
pub fn signer_roles(workflow: &Workflow, transition: &Transition) -> Vec<String> {
    let mut roles = transition.requires_all.clone();
    if let Some(party) = &transition.requires_each_member_of {
        roles.extend(
            transition
                .roles
                .iter()
                .filter(|r| {
                    workflow
                        .role(r)
                        .is_some_and(|role| role.party.as_ref() == Some(party))
                })
                .filter(|r| !transition.requires_all.contains(r))
                .cloned(),
        );
    }
    roles
}

/// Every signer a joint sign-off waits for in this case: its roles, then `@organisation` for
/// each organisation of the party whose members all sign.
pub fn signers(state: &CaseState, transition: &Transition) -> Vec<String> {
    let mut signers = transition.requires_all.clone();
    if let Some(party) = &transition.requires_each_member_of {
        signers.extend(
            state
                .parties
                .get(party)
                .into_iter()
                .flatten()
                .map(|o| crate::state::member_signer(o)),
        );
    }
    signers
}

/// The signer `actor`'s approval counts as: their role when it is one of `requires_all`,
/// otherwise their organisation as a member of the signing party.
fn signer_of(
    state: &CaseState,
    transition: &Transition,
    actor: &Actor,
) -> Result<String, Rejection> {
    if transition.requires_all.contains(&actor.role) {
        return Ok(actor.role.clone());
    }
    let party = transition
        .requires_each_member_of
        .as_ref()
        .expect("the role check admits only signer roles");
    let Some(organisation) = &actor.organisation else {
        return Err(Rejection::OrganisationNeeded {
            party: party.clone(),
            transition: transition.id.clone(),
        });
    };
    if !state
        .parties
        .get(party)
        .is_some_and(|members| members.contains(organisation))
    {
        return Err(Rejection::NotASigner {
            party: party.clone(),
            organisation: organisation.clone(),
            transition: transition.id.clone(),
        });
    }
    Ok(crate::state::member_signer(organisation))
}

/// Transitions `role` could fire from the case's current stage, whether or not their
/// guards hold yet.
pub fn transitions_for<'a>(
    workflow: &'a Workflow,
    state: &'a CaseState,
    role: &'a str,
) -> impl Iterator<Item = &'a Transition> {
    workflow
        .transitions_from(&state.stage)
        .filter(move |t| t.roles.iter().any(|r| r == role))
}

/// What stops `transition` from firing in `state` (empty when its guards hold).
pub fn guard_failures(
    workflow: &Workflow,
    state: &CaseState,
    transition: &Transition,
    comment: Option<&str>,
) -> Vec<GuardFailure> {
    let guard = &transition.guard;
    let mut failures = Vec::new();
    for document in &guard.documents {
        if !state.has_document(document) {
            failures.push(GuardFailure::MissingDocument {
                id: document.clone(),
                label: workflow
                    .document(document)
                    .map_or_else(|| document.clone(), |d| d.label.id.clone()),
            });
        }
    }
    for field in &guard.fields {
        if !state.fields.contains_key(field) {
            failures.push(GuardFailure::MissingField {
                id: field.clone(),
                label: workflow
                    .field(field)
                    .map_or_else(|| field.clone(), |f| f.label.id.clone()),
            });
        }
    }
    if guard.comment && comment.is_none_or(|c| c.trim().is_empty()) {
        failures.push(GuardFailure::CommentRequired);
    }
    for condition in &guard.conditions {
        if !condition_holds(condition, &state.fields, &state.records) {
            failures.push(GuardFailure::Condition {
                condition: condition.clone(),
            });
        }
    }
    failures
}

/// Document types required by transitions out of the current stage and not yet attached.
pub fn missing_documents<'a>(workflow: &'a Workflow, state: &'a CaseState) -> Vec<&'a str> {
    let mut missing: Vec<&str> = Vec::new();
    for transition in workflow.transitions_from(&state.stage) {
        for document in &transition.guard.documents {
            if !state.has_document(document) && !missing.contains(&document.as_str()) {
                missing.push(document);
            }
        }
    }
    missing
}

/// Whether `condition` holds for a case with these fields. A comparison whose either side
/// is unset does not hold (a guard cannot be met by a value nobody gave).
pub fn condition_holds(
    condition: &Condition,
    fields: &BTreeMap<String, FieldValue>,
    records: &crate::state::Records,
) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let value = fields.get(&condition.field);
    let expected = match (&condition.value, &condition.value_of) {
        (Some(constant), _) => Some(constant.clone()),
        (None, Some(operand)) => operand.resolve(fields, records),
        (None, None) => None,
    };
    match (condition.op, value, expected.as_ref()) {
        (Comparison::IsSet, value, _) => value.is_some(),
        (Comparison::IsUnset, value, _) => value.is_none(),
        (op, Some(value), Some(expected)) => match (op, value.compare(expected)) {
            (_, None) => false,
            (Comparison::Eq, Some(order)) => order == Equal,
            (Comparison::Ne, Some(order)) => order != Equal,
            (Comparison::Lt, Some(order)) => order == Less,
            (Comparison::Le, Some(order)) => order != Greater,
            (Comparison::Gt, Some(order)) => order == Greater,
            (Comparison::Ge, Some(order)) => order != Less,
            (Comparison::IsSet | Comparison::IsUnset, _) => unreachable!("matched above"),
        },
        _ => false,
    }
}

fn describe_condition(condition: &Condition) -> String {
    match (&condition.value, &condition.value_of) {
        (Some(value), _) => format!("`{} {} {value}`", condition.field, condition.op.symbol()),
        (None, Some(operand)) => {
            format!("`{} {} {operand}`", condition.field, condition.op.symbol())
        }
        (None, None) => format!("`{} {}`", condition.field, condition.op.symbol()),
    }
}

/// The rules reading one of `changed` (fields, or kinds of record) that the case's values no
/// longer meet. A rule with a side still unset holds.
pub fn broken_rules<'a>(
    workflow: &'a Workflow,
    fields: &'a BTreeMap<String, FieldValue>,
    records: &'a crate::state::Records,
    changed: &'a [&'a str],
) -> impl Iterator<Item = &'a Rule> + 'a {
    workflow.rules.iter().filter(move |rule| {
        let condition = &rule.condition;
        let complete = fields.contains_key(&condition.field)
            && condition
                .value_of
                .as_ref()
                .is_none_or(|o| o.resolve(fields, records).is_some());
        changed.iter().any(|f| rule.reads(f))
            && complete
            && !condition_holds(condition, fields, records)
    })
}

/// Builds the outcome: the event, the timer difference and the next due instant.
fn finish(
    before: &CaseState,
    after: CaseState,
    actor: &Actor,
    kind: EventKind,
    notifications: Vec<Notification>,
    now: Timestamp,
) -> Outcome {
    let schedule = after
        .timers
        .values()
        .filter(|t| before.timers.get(&t.key) != Some(t))
        .cloned()
        .collect();
    let cancel = before
        .timers
        .keys()
        .filter(|k| !after.timers.contains_key(*k))
        .cloned()
        .collect();
    let event = Event {
        revision: after.revision,
        at: now,
        actor: actor.clone(),
        kind,
    };
    let next_due_at = after.next_due_at();
    Outcome {
        state: after,
        event,
        schedule,
        cancel,
        notifications,
        next_due_at,
    }
}

struct Context<'a> {
    workflow: &'a Workflow,
    calendar: &'a Calendar,
    now: Timestamp,
    /// Set when working days were counted through a year the calendar has no holidays for
    /// (weekends only there): the obligation being computed is provisional.
    uncovered: std::cell::Cell<bool>,
    /// When the current stage began, if not `now`: a migration recomputes a stage's
    /// deadline as of its entry, so a day that passed during the stage is lateness, not a
    /// late entry.
    entered_at: Option<Timestamp>,
}

impl<'a> Context<'a> {
    fn new(workflow: &'a Workflow, calendar: &'a Calendar, now: Timestamp) -> Self {
        Self {
            workflow,
            calendar,
            now,
            uncovered: std::cell::Cell::new(false),
            entered_at: None,
        }
    }

    /// The moment a stage's fixed day is compared with to tell a late entry.
    fn entry_moment(&self) -> Timestamp {
        self.entered_at.unwrap_or(self.now)
    }

    /// `date` moved forward by `duration`, noting a count through an uncovered year.
    fn add(&self, duration: Duration, date: Date) -> Result<Date, Rejection> {
        let result = add(duration, date, self.calendar)?;
        self.note_coverage(duration, date, result);
        Ok(result)
    }

    fn subtract(&self, duration: Duration, date: Date) -> Result<Date, Rejection> {
        let result = subtract(duration, date, self.calendar)?;
        self.note_coverage(duration, result, date);
        Ok(result)
    }

    fn note_coverage(&self, duration: Duration, from: Date, to: Date) {
        if matches!(duration, Duration::WorkingDays(_))
            && (from.year()..=to.year()).any(|year| !self.calendar.covers(year))
        {
            self.uncovered.set(true);
        }
    }

    /// Starts counting whether a due date passes through an uncovered year.
    fn begin_count(&self) {
        self.uncovered.set(false);
    }

    /// Whether the due date counted since [`Self::begin_count`] passed through a year the
    /// calendar does not cover. Reminders and escalations around a final due date do not make
    /// it provisional: only the due date itself counts.
    fn counted_uncovered(&self) -> bool {
        self.uncovered.get()
    }

    fn mark_provisional(state: &mut CaseState, key: &str, provisional: bool) {
        if let Some(obligation) = state.obligations.get_mut(key) {
            obligation.provisional = provisional;
        }
    }

    /// Refuses unknown roles, the system role (except where `system_only`) and roles not in
    /// `allowed` (an empty `allowed` admits every declared role).
    fn check_role(&self, actor: &Actor, allowed: &[String], act: Act) -> Result<(), Rejection> {
        if actor.role == SYSTEM_ROLE {
            return Err(Rejection::RoleNotAllowed {
                role: actor.role.clone(),
                act,
                allowed: allowed.to_vec(),
            });
        }
        if self.workflow.role(&actor.role).is_none() {
            return Err(Rejection::UnknownRole {
                role: actor.role.clone(),
                known: self.workflow.roles.iter().map(|r| r.id.clone()).collect(),
            });
        }
        if !allowed.is_empty() && !allowed.contains(&actor.role) {
            return Err(Rejection::RoleNotAllowed {
                role: actor.role.clone(),
                act,
                allowed: allowed.to_vec(),
            });
        }
        Ok(())
    }

    fn open(
        &self,
        actor: &Actor,
        given: &[(String, String)],
        parties: &BTreeMap<String, Vec<String>>,
    ) -> Result<Outcome, Rejection> {
        for party in parties.keys() {
            if self.workflow.party(party).is_none() {
                return Err(Rejection::UnknownParty {
                    party: party.clone(),
                    known: self.workflow.parties.iter().map(|p| p.id.clone()).collect(),
                });
            }
        }
        self.check_role(actor, &self.workflow.open_by, Act::Open)?;
        let mut fields = BTreeMap::new();
        for (id, text) in given {
            let value = self.parse_field(id, text)?;
            if fields.insert(id.clone(), value).is_some() {
                return Err(Rejection::DuplicateField { field: id.clone() });
            }
        }
        let missing: Vec<String> = self
            .workflow
            .fields
            .iter()
            .filter(|f| f.required && !fields.contains_key(&f.id))
            .map(|f| f.id.clone())
            .collect();
        if !missing.is_empty() {
            return Err(Rejection::MissingRequiredFields { fields: missing });
        }
        let given_ids: Vec<&str> = fields.keys().map(String::as_str).collect();
        let no_records = BTreeMap::new();
        if let Some(rule) = broken_rules(self.workflow, &fields, &no_records, &given_ids).next() {
            return Err(Rejection::RuleBroken {
                rule: rule.id.clone(),
                condition: Box::new(rule.condition.clone()),
            });
        }
        let initial = self
            .workflow
            .initial_stage()
            .expect("a checked workflow has exactly one initial stage");
        let mut state = CaseState {
            stage: initial.id.clone(),
            revision: 1,
            opened_at: self.now,
            closed_at: None,
            stage_entered_at: self.now,
            stage_entered_revision: 1,
            fields: fields.clone(),
            documents: Vec::new(),
            obligations: BTreeMap::new(),
            timers: BTreeMap::new(),
            records: BTreeMap::new(),
            parties: parties.clone(),
            approvals: BTreeMap::new(),
        };
        let mut notifications = Vec::new();
        self.enter_stage(&mut state, initial, &mut notifications)?;
        let kind = EventKind::Opened {
            stage: initial.id.clone(),
            fields,
            parties: parties.clone(),
        };
        let empty = CaseState {
            timers: BTreeMap::new(),
            ..state.clone()
        };
        Ok(finish(&empty, state, actor, kind, notifications, self.now))
    }

    fn parse_field(&self, id: &str, text: &str) -> Result<FieldValue, Rejection> {
        let field = self
            .workflow
            .field(id)
            .ok_or_else(|| Rejection::UnknownField {
                field: id.to_owned(),
                known: self.workflow.fields.iter().map(|f| f.id.clone()).collect(),
            })?;
        field
            .field_type
            .parse(text)
            .map_err(|error| Rejection::InvalidFieldValue {
                field: id.to_owned(),
                error,
            })
    }

    fn fire(
        &self,
        state: &mut CaseState,
        actor: &Actor,
        id: &str,
        comment: Option<&str>,
        notifications: &mut Vec<Notification>,
    ) -> Result<EventKind, Rejection> {
        let from_here = || {
            self.workflow
                .transitions_from(&state.stage)
                .map(|t| t.id.clone())
                .collect::<Vec<_>>()
        };
        let Some(transition) = self.workflow.transition(id) else {
            return Err(Rejection::UnknownTransition {
                transition: id.to_owned(),
                stage: state.stage.clone(),
                allowed: from_here(),
            });
        };
        if !transition.from.contains(&state.stage) {
            return Err(Rejection::WrongStage {
                transition: id.to_owned(),
                stage: state.stage.clone(),
                allowed: from_here(),
            });
        }
        // A joint sign-off is approved by each of its signers; otherwise one of `roles` fires.
        let allowed = if transition.is_joint() {
            signer_roles(self.workflow, transition)
        } else {
            transition.roles.clone()
        };
        self.check_role(
            actor,
            &allowed,
            Act::Fire {
                transition: id.to_owned(),
            },
        )?;
        if comment.is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS) {
            return Err(Rejection::CommentTooLong);
        }
        let failures = guard_failures(self.workflow, state, transition, comment);
        if !failures.is_empty() {
            return Err(Rejection::GuardsNotMet {
                transition: id.to_owned(),
                failures,
            });
        }
        let comment = comment
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
        let mut approved_by = Vec::new();
        if transition.is_joint() {
            // A joint sign-off: record this signer's approval; the last one fires it.
            let signer = signer_of(state, transition, actor)?;
            let signers = signers(state, transition);
            let approvals = state.approvals.entry(id.to_owned()).or_default();
            if approvals.contains_key(&signer) {
                return Err(Rejection::AlreadyApproved {
                    transition: id.to_owned(),
                    role: signer,
                });
            }
            approvals.insert(
                signer,
                Approval {
                    actor: actor.name.clone(),
                    at: self.now,
                    comment: comment.clone(),
                },
            );
            let outstanding: Vec<String> = signers
                .iter()
                .filter(|s| !approvals.contains_key(*s))
                .cloned()
                .collect();
            if !outstanding.is_empty() {
                return Ok(EventKind::Approved {
                    transition: id.to_owned(),
                    comment,
                    outstanding,
                });
            }
            approved_by = signers;
        }
        let from = state.stage.clone();
        self.move_to(state, transition, actor, notifications)?;
        Ok(EventKind::Transitioned {
            transition: id.to_owned(),
            from,
            to: transition.to.clone(),
            comment,
            approved_by,
        })
    }

    fn decline(
        &self,
        state: &mut CaseState,
        actor: &Actor,
        id: &str,
        comment: &str,
    ) -> Result<EventKind, Rejection> {
        let Some(transition) = self
            .workflow
            .transition(id)
            .filter(|t| t.from.contains(&state.stage))
        else {
            return Err(Rejection::WrongStage {
                transition: id.to_owned(),
                stage: state.stage.clone(),
                allowed: self
                    .workflow
                    .transitions_from(&state.stage)
                    .filter(|t| t.is_joint())
                    .map(|t| t.id.clone())
                    .collect(),
            });
        };
        if !transition.is_joint() {
            return Err(Rejection::NotJoint {
                transition: id.to_owned(),
            });
        }
        self.check_role(
            actor,
            &signer_roles(self.workflow, transition),
            Act::Fire {
                transition: id.to_owned(),
            },
        )?;
        let comment = comment.trim();
        if comment.is_empty() {
            return Err(Rejection::GuardsNotMet {
                transition: id.to_owned(),
                failures: vec![GuardFailure::CommentRequired],
            });
        }
        if comment.chars().count() > MAX_COMMENT_CHARS {
            return Err(Rejection::CommentTooLong);
        }
        let cleared = state
            .approvals
            .remove(id)
            .map(|approvals| approvals.into_keys().collect())
            .unwrap_or_default();
        Ok(EventKind::Declined {
            transition: id.to_owned(),
            comment: comment.to_owned(),
            cleared,
        })
    }

    /// Leaves the current stage through `transition` and enters its target.
    fn move_to(
        &self,
        state: &mut CaseState,
        transition: &Transition,
        actor: &Actor,
        notifications: &mut Vec<Notification>,
    ) -> Result<(), Rejection> {
        let target = self
            .workflow
            .stage(&transition.to)
            .expect("a checked workflow's transitions lead to declared stages");
        state.stage_entered_revision = state.revision;
        // Approvals are for the transitions out of the stage being left.
        state.approvals.clear();
        self.enter_stage(state, target, notifications)?;
        if !transition.notify.is_empty() {
            notifications.push(Notification {
                key: format!("event:{}:{}", state.revision, transition.id),
                kind: NotificationKind::Transitioned,
                to: transition.notify.clone(),
                stage: state.stage.clone(),
                obligation: None,
                missing_documents: owned(missing_documents(self.workflow, state)),
                transition: Some(transition.id.clone()),
                by: Some(actor.name.clone()),
            });
        }
        Ok(())
    }

    /// Enters `stage`: drops the obligations and timers of the stage left, closes the case
    /// at a terminal stage, otherwise schedules the stage's deadline and recurring
    /// obligations. `state.stage_entered_revision` must already be set.
    fn enter_stage(
        &self,
        state: &mut CaseState,
        stage: &Stage,
        notifications: &mut Vec<Notification>,
    ) -> Result<(), Rejection> {
        state.obligations.clear();
        state.timers.clear();
        state.stage = stage.id.clone();
        state.stage_entered_at = self.now;
        if stage.terminal {
            state.closed_at = Some(self.now);
            return Ok(());
        }
        self.schedule_stage_deadline(state, stage, notifications)?;
        let today = self.calendar.date_of(self.now);
        for rule in &stage.recurring {
            self.open_period(state, stage, rule, period_bounds(rule.period, today).0)?;
        }
        Ok(())
    }

    fn deadline_key(state: &CaseState) -> String {
        deadline_key(&state.stage, state.stage_entered_revision)
    }

    /// (Re)computes the deadline of the current stage. Without its anchor (an unset date
    /// or fiscal-year field) the stage has no deadline until the field is set.
    ///
    /// A fixed day of the budget calendar that has already passed (the stage began late, or
    /// the fiscal year was changed) is nobody's overdue work: the later window
    /// (`late_entry`) counts instead, or, without one still ahead, the deadline falls due at
    /// once without reminders or escalations, so that `on_expiry` routes the case. Either
    /// way the responsible roles hear it once, with the reason.
    fn schedule_stage_deadline(
        &self,
        state: &mut CaseState,
        stage: &Stage,
        notifications: &mut Vec<Notification>,
    ) -> Result<(), Rejection> {
        let key = Self::deadline_key(state);
        remove_obligation(state, &key);
        let Some(deadline) = &stage.deadline else {
            return Ok(());
        };
        self.begin_count();
        let Some(first) = self.stage_due_date(state, deadline, false)? else {
            return Ok(());
        };
        let source = ObligationSource::StageDeadline {
            stage: stage.id.clone(),
        };
        let entered = self.entry_moment();
        let passed = matches!(deadline.due, Due::OnDate { .. }) && self.end_of(first)? <= entered;
        // Begun after its day: the later window when one is still ahead, else that day.
        let due_date = match self.stage_due_date(state, deadline, true)? {
            Some(window) if passed && self.end_of(window)? > entered => window,
            _ => first,
        };
        let provisional = self.counted_uncovered();
        let mut obligation = self.obligation(key.clone(), source, due_date)?;
        obligation.passed_at_entry = passed.then_some(first);
        if passed && due_date == first {
            // No window left: due now, so the runner routes the case (`on_expiry`) or marks
            // it overdue at once, with the late-entry notice instead of an overdue one; no
            // reminders, no escalations.
            insert_timer(
                state,
                format!("{key}:due"),
                obligation.due_at,
                TimerKind::Due {
                    obligation: key.clone(),
                },
            );
            state.obligations.insert(key.clone(), obligation);
        } else {
            if passed {
                notifications.push(Notification {
                    key: format!("late-entry:{key}"),
                    kind: NotificationKind::LateEntry,
                    to: deadline.follow_up.responsible.clone(),
                    stage: state.stage.clone(),
                    obligation: Some(obligation.clone()),
                    missing_documents: owned(missing_documents(self.workflow, state)),
                    transition: None,
                    by: None,
                });
            }
            self.schedule_follow_up(state, obligation, &deadline.follow_up)?;
        }
        Self::mark_provisional(state, &key, provisional);
        Ok(())
    }

    /// The due date of a stage's `deadline` — in its later window (`late_entry`) when
    /// `late` — capped at the fiscal year's last working day when it says so. `None` while
    /// its anchor is unset (or, when `late`, without a later window).
    fn stage_due_date(
        &self,
        state: &CaseState,
        deadline: &Deadline,
        late: bool,
    ) -> Result<Option<Date>, Rejection> {
        let due = if late {
            deadline.late_entry.as_ref()
        } else {
            Some(&deadline.due)
        };
        let Some(mut date) = due
            .map(|due| self.due_date(state, due))
            .transpose()?
            .flatten()
        else {
            return Ok(None);
        };
        if deadline.within_fiscal_year
            && let Some(last) = self.last_working_day_of_fiscal_year(state)
        {
            date = date.min(last);
        }
        Ok(Some(date))
    }

    /// The instant a day ends, when an obligation due that day falls due.
    fn end_of(&self, date: Date) -> Result<Timestamp, Rejection> {
        self.calendar
            .end_of_day(date)
            .ok_or(Rejection::DateOutOfRange)
    }

    /// The last working day on or before 31 December of the case's fiscal year, once set.
    fn last_working_day_of_fiscal_year(&self, state: &CaseState) -> Option<Date> {
        let field = self.workflow.fiscal_year_field.as_ref()?;
        let Some(FieldValue::FiscalYear(year)) = state.fields.get(field) else {
            return None;
        };
        self.calendar
            .working_day_on_or_before(Date::new(*year, 12, 31).ok()?)
    }

    fn due_date(&self, state: &CaseState, due: &Due) -> Result<Option<Date>, Rejection> {
        match due {
            Due::After { anchor, offset } => {
                let from = match anchor {
                    Anchor::StageEntered => self.calendar.date_of(state.stage_entered_at),
                    Anchor::Field(field) => match state.fields.get(field) {
                        Some(FieldValue::Date(date)) => *date,
                        _ => return Ok(None),
                    },
                };
                self.add(*offset, from).map(Some)
            }
            Due::OnDate {
                month,
                day,
                year_offset,
            } => {
                let fiscal_year = self
                    .workflow
                    .fiscal_year_field
                    .as_ref()
                    .and_then(|f| state.fields.get(f));
                let Some(FieldValue::FiscalYear(year)) = fiscal_year else {
                    return Ok(None);
                };
                let year = year
                    .checked_add(*year_offset)
                    .ok_or(Rejection::DateOutOfRange)?;
                Date::new(year, *month, *day)
                    .map(Some)
                    .map_err(|_| Rejection::DateOutOfRange)
            }
        }
    }

    fn obligation(
        &self,
        key: String,
        source: ObligationSource,
        due_date: Date,
    ) -> Result<Obligation, Rejection> {
        Ok(Obligation {
            key,
            source,
            due_date,
            due_at: self.end_of(due_date)?,
            overdue: false,
            provisional: false,
            passed_at_entry: None,
        })
    }

    fn at_notify_time(&self, date: Date) -> Result<Timestamp, Rejection> {
        self.calendar
            .instant_at(date, self.workflow.notify_at)
            .ok_or(Rejection::DateOutOfRange)
    }

    /// When a notice meant for `date` goes out: nobody reads one sent on a Sunday or a
    /// holiday, so a reminder ahead of a deadline comes on the working day before (`early`),
    /// and a notice after it (an overdue repeat, an escalation) on the working day after.
    fn on_a_working_day(&self, date: Date, early: bool) -> Result<Timestamp, Rejection> {
        let day = if early {
            self.calendar.working_day_on_or_before(date)
        } else {
            self.calendar.working_day_on_or_after(date)
        };
        self.at_notify_time(day.ok_or(Rejection::DateOutOfRange)?)
    }

    /// Records `obligation` and schedules its reminders, its due timer and escalations.
    /// Reminders whose moment has already passed are skipped; escalations that are already
    /// late fire at once (a case that is long overdue must still be escalated).
    fn schedule_follow_up(
        &self,
        state: &mut CaseState,
        obligation: Obligation,
        follow_up: &FollowUp,
    ) -> Result<(), Rejection> {
        let key = obligation.key.clone();
        for (index, reminder) in follow_up.reminders.iter().enumerate() {
            let kind = TimerKind::Reminder {
                obligation: key.clone(),
                reminder: index,
                occurrence: 0,
            };
            let at = match reminder.when {
                ReminderWhen::Before(duration) => {
                    let date = self.subtract(duration, obligation.due_date)?;
                    self.on_a_working_day(date, true)?
                }
                ReminderWhen::AtDue => self.on_a_working_day(obligation.due_date, true)?,
                ReminderWhen::EveryAfterDue(every) => {
                    self.next_repeat(every, obligation.due_date, obligation.due_at)?
                }
            };
            if at > self.now || matches!(reminder.when, ReminderWhen::EveryAfterDue(_)) {
                insert_timer(state, format!("{key}:reminder:{index}:0"), at, kind);
            }
        }
        insert_timer(
            state,
            format!("{key}:due"),
            obligation.due_at,
            TimerKind::Due {
                obligation: key.clone(),
            },
        );
        for (index, escalation) in follow_up.escalations.iter().enumerate() {
            let date = self.add(escalation.after, obligation.due_date)?;
            let at = self.on_a_working_day(date, false)?.max(obligation.due_at);
            insert_timer(
                state,
                format!("{key}:escalation:{index}"),
                at,
                TimerKind::Escalation {
                    obligation: key.clone(),
                    escalation: index,
                },
            );
        }
        state.obligations.insert(key, obligation);
        Ok(())
    }

    /// The next moment for a repeating overdue reminder: `every` after `from`, but never
    /// before the due instant nor in the past (a late runner sends one, not a burst).
    fn next_repeat(
        &self,
        every: Duration,
        from: Date,
        due_at: Timestamp,
    ) -> Result<Timestamp, Rejection> {
        let today = self.calendar.date_of(self.now);
        let start = from.max(today);
        let date = self.add(every, start)?;
        Ok(self.on_a_working_day(date, false)?.max(due_at))
    }

    /// Opens the period of `rule` that starts on `period_start`: its obligation, and a
    /// timer for the start of the following period.
    fn open_period(
        &self,
        state: &mut CaseState,
        stage: &Stage,
        rule: &Recurring,
        period_start: Date,
    ) -> Result<String, Rejection> {
        let (start, end) = period_bounds(rule.period, period_start);
        self.begin_count();
        let due_date = self.add(rule.due_after_period, end)?;
        let provisional = self.counted_uncovered();
        let key = recurring_key(&stage.id, state.stage_entered_revision, &rule.id, start);
        let obligation = self.obligation(
            key.clone(),
            ObligationSource::Recurring {
                rule: rule.id.clone(),
                period_start: start,
                period_end: end,
                document: rule.document.clone(),
            },
            due_date,
        )?;
        self.schedule_follow_up(state, obligation, &rule.follow_up)?;
        Self::mark_provisional(state, &key, provisional);
        let next_start = end.tomorrow().map_err(|_| Rejection::DateOutOfRange)?;
        insert_timer(
            state,
            period_timer_key(
                &stage.id,
                state.stage_entered_revision,
                &rule.id,
                next_start,
            ),
            self.calendar
                .start_of_day(next_start)
                .ok_or(Rejection::DateOutOfRange)?,
            TimerKind::PeriodStart {
                rule: rule.id.clone(),
                period_start: next_start,
            },
        );
        Ok(key)
    }

    fn attach(
        &self,
        state: &mut CaseState,
        document: DocumentRecord,
    ) -> Result<EventKind, Rejection> {
        let document_type = self
            .workflow
            .document(&document.document_type)
            .ok_or_else(|| Rejection::UnknownDocumentType {
                document_type: document.document_type.clone(),
                known: self
                    .workflow
                    .documents
                    .iter()
                    .map(|d| d.id.clone())
                    .collect(),
            })?;
        self.check_role(
            &document.attached_by,
            &document_type.attach_by,
            Act::Attach {
                document: document_type.id.clone(),
            },
        )?;
        check_document(&document)?;
        // The earliest open period waiting for this document type is met.
        let met: Vec<String> = state
            .obligations
            .values()
            .filter_map(|o| match &o.source {
                ObligationSource::Recurring {
                    document: wanted,
                    period_start,
                    ..
                } if *wanted == document.document_type => Some((*period_start, o.key.clone())),
                _ => None,
            })
            .min()
            .map(|(_, key)| key)
            .into_iter()
            .collect();
        for key in &met {
            remove_obligation(state, key);
        }
        state.documents.push(document.clone());
        Ok(EventKind::DocumentAttached { document, met })
    }

    /// Whether `actor` may change which organisations make up `party`.
    fn check_members_by(&self, actor: &Actor, party: &str) -> Result<(), Rejection> {
        let Some(def) = self.workflow.party(party) else {
            return Err(Rejection::UnknownParty {
                party: party.to_owned(),
                known: self.workflow.parties.iter().map(|p| p.id.clone()).collect(),
            });
        };
        if def.members_by.is_empty() {
            return Err(Rejection::MembersFixed {
                party: party.to_owned(),
            });
        }
        self.check_role(
            actor,
            &def.members_by,
            Act::ChangeMembers {
                party: party.to_owned(),
            },
        )
    }

    fn set_contacts(
        &self,
        actor: &Actor,
        role: &str,
        contacts: &[ContactEntry],
    ) -> Result<EventKind, Rejection> {
        let Some(same_side) = self.workflow.roles_on_the_side_of(role) else {
            return Err(Rejection::UnknownRole {
                role: role.to_owned(),
                known: self.workflow.roles.iter().map(|r| r.id.clone()).collect(),
            });
        };
        self.check_role(
            actor,
            &same_side,
            Act::SetContacts {
                role: role.to_owned(),
            },
        )?;
        Ok(EventKind::ContactsChanged {
            role: role.to_owned(),
            contacts: contacts.to_vec(),
        })
    }

    fn set_field(
        &self,
        state: &mut CaseState,
        actor: &Actor,
        id: &str,
        text: &str,
        notifications: &mut Vec<Notification>,
    ) -> Result<EventKind, Rejection> {
        let value = self.parse_field(id, text)?;
        let field = self.workflow.field(id).expect("parse_field found it");
        self.check_role(
            actor,
            &field.set_by,
            Act::SetField {
                field: id.to_owned(),
            },
        )?;
        let previous = state.fields.insert(id.to_owned(), value.clone());
        if let Some(rule) = broken_rules(self.workflow, &state.fields, &state.records, &[id]).next()
        {
            return Err(Rejection::RuleBroken {
                rule: rule.id.clone(),
                condition: Box::new(rule.condition.clone()),
            });
        }
        // A deadline anchored to this field moves with it.
        let stage = self
            .workflow
            .stage(&state.stage)
            .expect("a case's stage is declared in its workflow");
        if let Some(deadline) = &stage.deadline {
            let anchored = match &deadline.due {
                Due::After {
                    anchor: Anchor::Field(anchor),
                    ..
                } => anchor == id,
                Due::OnDate { .. } => self.workflow.fiscal_year_field.as_deref() == Some(id),
                Due::After { .. } => false,
            };
            if anchored && previous.as_ref() != Some(&value) {
                self.schedule_stage_deadline(state, stage, notifications)?;
            }
        }
        Ok(EventKind::FieldSet {
            field: id.to_owned(),
            previous,
            value,
        })
    }

    fn add_record(
        &self,
        state: &mut CaseState,
        actor: &Actor,
        id: &str,
        given: &[(String, String)],
    ) -> Result<EventKind, Rejection> {
        let record = self
            .workflow
            .record(id)
            .ok_or_else(|| Rejection::UnknownRecord {
                record: id.to_owned(),
                known: self.workflow.records.iter().map(|r| r.id.clone()).collect(),
            })?;
        self.check_role(
            actor,
            &record.add_by,
            Act::AddRecord {
                record: id.to_owned(),
            },
        )?;
        // A record's fields are named `record.field` in refusals, so that the reader can tell
        // them from the case's own fields.
        let path = |field: &str| format!("{id}.{field}");
        let mut fields = BTreeMap::new();
        for (field, text) in given {
            let def = record.field(field).ok_or_else(|| Rejection::UnknownField {
                field: path(field),
                known: record.fields.iter().map(|f| path(&f.id)).collect(),
            })?;
            let value =
                def.field_type
                    .parse(text)
                    .map_err(|error| Rejection::InvalidFieldValue {
                        field: path(field),
                        error,
                    })?;
            if fields.insert(field.clone(), value).is_some() {
                return Err(Rejection::DuplicateField { field: path(field) });
            }
        }
        let missing: Vec<String> = record
            .fields
            .iter()
            .filter(|f| f.required && !fields.contains_key(&f.id))
            .map(|f| path(&f.id))
            .collect();
        if !missing.is_empty() {
            return Err(Rejection::MissingRequiredFields { fields: missing });
        }
        let totals = state.records.entry(id.to_owned()).or_default();
        totals.add(&fields);
        let number = totals.count;
        if let Some(rule) = broken_rules(self.workflow, &state.fields, &state.records, &[id]).next()
        {
            return Err(Rejection::RuleBroken {
                rule: rule.id.clone(),
                condition: Box::new(rule.condition.clone()),
            });
        }
        Ok(EventKind::RecordAdded {
            record: id.to_owned(),
            number,
            fields,
        })
    }

    fn fire_timer(
        &self,
        state: &mut CaseState,
        actor: &Actor,
        key: &str,
        notifications: &mut Vec<Notification>,
    ) -> Result<EventKind, Rejection> {
        if actor.role != SYSTEM_ROLE {
            return Err(Rejection::RoleNotAllowed {
                role: actor.role.clone(),
                act: Act::FireTimers,
                allowed: vec![SYSTEM_ROLE.to_owned()],
            });
        }
        let timer = state
            .timers
            .get(key)
            .cloned()
            .ok_or_else(|| Rejection::TimerNotPending {
                key: key.to_owned(),
            })?;
        if timer.due_at > self.now {
            return Err(Rejection::TimerNotDue {
                key: key.to_owned(),
                due_at: timer.due_at,
            });
        }
        state.timers.remove(key);
        let stage = self
            .workflow
            .stage(&state.stage)
            .expect("a case's stage is declared in its workflow");
        let effect = match timer.kind {
            TimerKind::Reminder {
                obligation,
                reminder,
                occurrence,
            } => {
                let (record, follow_up) = self.obligation_and_rules(state, stage, &obligation);
                let rule = &follow_up.reminders[reminder];
                let kind = match rule.when {
                    ReminderWhen::EveryAfterDue(every) => {
                        let next = occurrence + 1;
                        let at = self.next_repeat(every, record.due_date, record.due_at)?;
                        insert_timer(
                            state,
                            format!("{obligation}:reminder:{reminder}:{next}"),
                            at,
                            TimerKind::Reminder {
                                obligation: obligation.clone(),
                                reminder,
                                occurrence: next,
                            },
                        );
                        NotificationKind::OverdueReminder
                    }
                    ReminderWhen::Before(_) | ReminderWhen::AtDue => NotificationKind::Reminder,
                };
                let to = recipients(&rule.to, follow_up);
                notifications.push(self.notification(state, key, kind, to, record));
                TimerEffect::Reminded { obligation }
            }
            TimerKind::Due { obligation } => {
                let (record, follow_up) = self.obligation_and_rules(state, stage, &obligation);
                let expiry = match &record.source {
                    ObligationSource::StageDeadline { .. } => stage
                        .deadline
                        .as_ref()
                        .and_then(|d| d.on_expiry.as_deref())
                        .and_then(|t| self.workflow.transition(t)),
                    ObligationSource::Recurring { .. } => None,
                };
                let to = follow_up.responsible.clone();
                // Due at once because the stage began after its day: told as such, not as
                // someone's lateness.
                let kind = if matches!(record.late_entry(), Some(LateEntry::Routed { .. })) {
                    NotificationKind::LateEntry
                } else {
                    NotificationKind::Overdue
                };
                if let Some(transition) = expiry {
                    let from = state.stage.clone();
                    notifications.push(self.notification(state, key, kind, to, record));
                    self.move_to(state, transition, &Actor::system(), notifications)?;
                    TimerEffect::Expired {
                        obligation,
                        transition: transition.id.clone(),
                        from,
                        to: transition.to.clone(),
                    }
                } else {
                    if let Some(open) = state.obligations.get_mut(&obligation) {
                        open.overdue = true;
                    }
                    let record = state.obligations[&obligation].clone();
                    notifications.push(self.notification(state, key, kind, to, record));
                    TimerEffect::BecameOverdue { obligation }
                }
            }
            TimerKind::Escalation {
                obligation,
                escalation,
            } => {
                let (record, follow_up) = self.obligation_and_rules(state, stage, &obligation);
                let to = follow_up.escalations[escalation].to.clone();
                notifications.push(self.notification(
                    state,
                    key,
                    NotificationKind::Escalation,
                    to,
                    record,
                ));
                TimerEffect::Escalated { obligation }
            }
            TimerKind::PeriodStart { rule, period_start } => {
                let recurring = stage
                    .recurring
                    .iter()
                    .find(|r| r.id == rule)
                    .expect("period timers belong to a rule of the current stage");
                let obligation = self.open_period(state, stage, recurring, period_start)?;
                TimerEffect::PeriodOpened { obligation }
            }
        };
        Ok(EventKind::TimerFired {
            timer: key.to_owned(),
            effect,
        })
    }

    /// An open obligation of the current stage and the follow-up rules it was scheduled
    /// with. Timers are removed with their obligation, so a pending timer always finds it.
    fn recompute_deadlines(
        &self,
        state: &mut CaseState,
        actor: &Actor,
        reason: &str,
        notifications: &mut Vec<Notification>,
    ) -> Result<EventKind, Rejection> {
        if actor.role != SYSTEM_ROLE {
            return Err(Rejection::RoleNotAllowed {
                role: actor.role.clone(),
                act: Act::RecomputeDeadlines,
                allowed: vec![SYSTEM_ROLE.to_owned()],
            });
        }
        let stage = self
            .workflow
            .stage(&state.stage)
            .expect("a case's stage is declared in its workflow");
        let mut moved = Vec::new();
        // Only obligations still ahead move: one already due stays as it fell due.
        let pending: Vec<Obligation> = state
            .obligations
            .values()
            .filter(|o| o.due_at > self.now)
            .cloned()
            .collect();
        let mut confirmed = Vec::new();
        for obligation in pending {
            self.begin_count();
            let (due_date, follow_up) = match &obligation.source {
                ObligationSource::StageDeadline { .. } => {
                    let Some(deadline) = &stage.deadline else {
                        continue;
                    };
                    // An obligation in its later window stays in it.
                    let late = matches!(obligation.late_entry(), Some(LateEntry::InWindow { .. }));
                    let Some(date) = self.stage_due_date(state, deadline, late)? else {
                        continue;
                    };
                    (date, &deadline.follow_up)
                }
                ObligationSource::Recurring {
                    rule, period_end, ..
                } => {
                    let Some(rule) = stage.recurring.iter().find(|r| &r.id == rule) else {
                        continue;
                    };
                    (
                        self.add(rule.due_after_period, *period_end)?,
                        &rule.follow_up,
                    )
                }
            };
            let provisional = self.counted_uncovered();
            if due_date == obligation.due_date {
                // Same date, but now counted on a calendar that covers its years: no longer
                // provisional.
                if obligation.provisional && !provisional {
                    if let Some(held) = state.obligations.get_mut(&obligation.key) {
                        held.provisional = false;
                    }
                    confirmed.push(obligation.key.clone());
                }
                continue;
            }
            // Drop the obligation's timers and schedule them anew from the new due date.
            let key = obligation.key.clone();
            remove_obligation(state, &key);
            let mut renewed = self.obligation(key.clone(), obligation.source.clone(), due_date)?;
            renewed.passed_at_entry = obligation.passed_at_entry;
            self.schedule_follow_up(state, renewed.clone(), follow_up)?;
            Self::mark_provisional(state, &key, provisional);
            let renewed = state.obligations.get(&key).cloned().unwrap_or(renewed);
            notifications.push(Notification {
                key: format!("recompute:{}:{key}", state.revision),
                kind: NotificationKind::DeadlineMoved,
                to: follow_up.responsible.clone(),
                stage: state.stage.clone(),
                obligation: Some(renewed),
                missing_documents: owned(missing_documents(self.workflow, state)),
                transition: None,
                by: None,
            });
            moved.push(MovedDeadline {
                obligation: key,
                from: obligation.due_date,
                to: due_date,
            });
        }
        if moved.is_empty() && confirmed.is_empty() {
            return Err(Rejection::NothingToRecompute);
        }
        Ok(EventKind::DeadlinesMoved {
            reason: reason.to_owned(),
            moved,
            confirmed,
        })
    }

    fn obligation_and_rules<'s>(
        &self,
        state: &CaseState,
        stage: &'s Stage,
        key: &str,
    ) -> (Obligation, &'s FollowUp) {
        let record = state
            .obligations
            .get(key)
            .cloned()
            .expect("a pending timer's obligation is open");
        let follow_up = match &record.source {
            ObligationSource::StageDeadline { .. } => {
                &stage
                    .deadline
                    .as_ref()
                    .expect("a stage deadline obligation comes from the stage's deadline")
                    .follow_up
            }
            ObligationSource::Recurring { rule, .. } => {
                &stage
                    .recurring
                    .iter()
                    .find(|r| &r.id == rule)
                    .expect("a recurring obligation comes from a rule of its stage")
                    .follow_up
            }
        };
        (record, follow_up)
    }

    fn notification(
        &self,
        state: &CaseState,
        timer_key: &str,
        kind: NotificationKind,
        to: Vec<String>,
        obligation: Obligation,
    ) -> Notification {
        Notification {
            key: format!("timer:{timer_key}"),
            kind,
            to,
            stage: state.stage.clone(),
            obligation: Some(obligation),
            missing_documents: owned(missing_documents(self.workflow, state)),
            transition: None,
            by: None,
        }
    }
}

// The deterministic keys of obligations and timers (ARCHITECTURE.md): a stage's deadline and
// each period of a recurring rule belong to one visit of the stage (the revision that entered
// it). Written here once, for entering a stage and for migrating a case into one.

/// The key of a stage's deadline obligation.
fn deadline_key(stage: &str, entered_revision: u64) -> String {
    format!("deadline:{stage}:{entered_revision}")
}

/// The key of the obligation of one period of a recurring rule.
fn recurring_key(stage: &str, entered_revision: u64, rule: &str, period_start: Date) -> String {
    format!("recurring:{stage}:{entered_revision}:{rule}:{period_start}")
}

/// The key of the timer that opens a recurring rule's period starting on `period_start`.
fn period_timer_key(stage: &str, entered_revision: u64, rule: &str, period_start: Date) -> String {
    format!("period:{stage}:{entered_revision}:{rule}:{period_start}")
}

fn owned(items: Vec<&str>) -> Vec<String> {
    items.into_iter().map(str::to_owned).collect()
}

fn recipients(to: &[String], follow_up: &FollowUp) -> Vec<String> {
    if to.is_empty() {
        follow_up.responsible.clone()
    } else {
        to.to_vec()
    }
}

fn add(duration: Duration, date: Date, calendar: &Calendar) -> Result<Date, Rejection> {
    duration
        .add_to(date, calendar)
        .ok_or(Rejection::DateOutOfRange)
}

fn subtract(duration: Duration, date: Date, calendar: &Calendar) -> Result<Date, Rejection> {
    duration
        .subtract_from(date, calendar)
        .ok_or(Rejection::DateOutOfRange)
}

fn insert_timer(state: &mut CaseState, key: String, due_at: Timestamp, kind: TimerKind) {
    state
        .timers
        .insert(key.clone(), Timer { key, due_at, kind });
}

/// Removes an obligation and every timer that serves it.
fn remove_obligation(state: &mut CaseState, key: &str) {
    if state.obligations.remove(key).is_some() {
        state.timers.retain(|_, timer| match &timer.kind {
            TimerKind::Reminder { obligation, .. }
            | TimerKind::Due { obligation }
            | TimerKind::Escalation { obligation, .. } => obligation != key,
            TimerKind::PeriodStart { .. } => true,
        });
    }
}

/// The first and last day of the period of kind `period` that contains `date`
/// (weeks run Monday to Sunday; quarters start in January, April, July and October).
pub fn period_bounds(period: Period, date: Date) -> (Date, Date) {
    match period {
        Period::Week => {
            let back = i64::from(date.weekday().to_monday_zero_offset());
            let start = date
                .checked_sub(jiff::Span::new().days(back))
                .unwrap_or(date);
            let end = start.checked_add(jiff::Span::new().days(6)).unwrap_or(date);
            (start, end)
        }
        Period::Month => (date.first_of_month(), date.last_of_month()),
        Period::Quarter => {
            let first_month = (date.month() - 1) / 3 * 3 + 1;
            let start = Date::new(date.year(), first_month, 1).unwrap_or(date);
            let end = Date::new(date.year(), first_month + 2, 1)
                .map(Date::last_of_month)
                .unwrap_or(date);
            (start, end)
        }
    }
}

fn check_document(document: &DocumentRecord) -> Result<(), Rejection> {
    let invalid = |problem| Err(Rejection::InvalidDocument { problem });
    let name = &document.file_name;
    if name.trim().is_empty() {
        return invalid(DocumentProblem::EmptyName);
    }
    if name.chars().count() > MAX_FILE_NAME_CHARS {
        return invalid(DocumentProblem::NameTooLong);
    }
    if name.contains(['/', '\\'])
        || name == "."
        || name == ".."
        || name.chars().any(char::is_control)
    {
        return invalid(DocumentProblem::NotAPlainName);
    }
    if document.size == 0 {
        return invalid(DocumentProblem::EmptyFile);
    }
    let is_hex = document.sha256.len() == 64
        && document
            .sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !is_hex {
        return invalid(DocumentProblem::BadDigest);
    }
    Ok(())
}
