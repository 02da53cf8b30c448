//! Moving a running case onto another version of its workflow.
//!
//! [`migrate_case`] is pure, like [`crate::step`]: the dry run and the apply call it with the
//! same inputs, so what an administrator previews is what happens. It maps the case's stage,
//! carries its fields (with defaults for what the new version needs), rebuilds its
//! obligations and timers under the new rules, and says what that changes for the case.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use super::{
    Context, GuardFailure, Outcome, Rejection, deadline_key, finish, guard_failures, owned,
    period_timer_key, recurring_key,
};
use crate::Calendar;
use crate::model::{Stage, Workflow};
use crate::state::{
    Actor, CaseState, EventKind, MovedDeadline, Notification, NotificationKind, Obligation,
    ObligationSource, Timer, TimerKind,
};
use crate::value::{FieldValue, ValueError};

/// What happens to the due dates of the obligations a case carries over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DeadlinePolicy {
    /// Compute them under the new version's rules, from when the stage began.
    #[default]
    Recompute,
    /// Keep the due dates the case already has; only obligations the new version adds are
    /// computed.
    Keep,
}

/// The part of a migration plan the core needs: everything about one case's move.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationRules {
    /// The plan's name, recorded in each migrated case's history.
    pub plan: String,
    /// The version the case moves to.
    pub to_version: u32,
    /// Stages renamed, split or removed: the source stage → the target stage. A stage not
    /// listed keeps its id.
    pub stages: BTreeMap<String, String>,
    /// Values, as people type them, for fields the case has not set (or whose value no
    /// longer fits the field's new type).
    pub defaults: BTreeMap<String, String>,
    pub deadlines: DeadlinePolicy,
}

/// Why one case cannot be migrated. Nothing is changed for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationRefusal {
    /// The case is closed; closed cases keep the version they ran on.
    Closed,
    /// The case's stage (after mapping) is not a stage of the new version.
    StageNotInTarget { stage: String },
    /// The mapping would move an open case into a terminal stage.
    TerminalTarget { stage: String },
    /// A field's value does not fit its type in the new version, and the plan gives no
    /// default for it.
    FieldTypeChanged {
        field: String,
        value: FieldValue,
        to: String,
    },
    /// The plan's default for a field is not a value of the field.
    InvalidDefault { field: String, error: ValueError },
    /// The plan gives a default for a field the new version does not declare.
    UnknownDefault { field: String },
    /// The case has organisations in a party the new version does not have.
    PartyNotInTarget { party: String },
    /// A due date of the new rules falls outside the supported range.
    DateOutOfRange,
}

impl MigrationRefusal {
    /// A stable code for tools (`--json`) and messages.
    pub fn code(&self) -> &'static str {
        match self {
            MigrationRefusal::Closed => "closed",
            MigrationRefusal::StageNotInTarget { .. } => "stage_not_in_target",
            MigrationRefusal::TerminalTarget { .. } => "terminal_target",
            MigrationRefusal::FieldTypeChanged { .. } => "field_type_changed",
            MigrationRefusal::InvalidDefault { .. } => "invalid_default",
            MigrationRefusal::UnknownDefault { .. } => "unknown_default",
            MigrationRefusal::PartyNotInTarget { .. } => "party_not_in_target",
            MigrationRefusal::DateOutOfRange => "date_out_of_range",
        }
    }
}

impl std::fmt::Display for MigrationRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MigrationRefusal::Closed => write!(f, "the case is closed"),
            MigrationRefusal::StageNotInTarget { stage } => {
                write!(f, "stage `{stage}` is not in the new version; map it")
            }
            MigrationRefusal::TerminalTarget { stage } => {
                write!(
                    f,
                    "stage `{stage}` is terminal; an open case cannot move there"
                )
            }
            MigrationRefusal::FieldTypeChanged { field, to, .. } => write!(
                f,
                "field `{field}` is now of type {to}; give a default for it in the plan"
            ),
            MigrationRefusal::InvalidDefault { field, error } => {
                write!(f, "the default for `{field}` is not valid: {error}")
            }
            MigrationRefusal::UnknownDefault { field } => {
                write!(
                    f,
                    "the new version has no field `{field}` to give a default"
                )
            }
            MigrationRefusal::PartyNotInTarget { party } => {
                write!(f, "party `{party}` is not in the new version")
            }
            MigrationRefusal::DateOutOfRange => write!(f, "a due date is out of range"),
        }
    }
}

impl std::error::Error for MigrationRefusal {}

impl From<Rejection> for MigrationRefusal {
    fn from(rejection: Rejection) -> Self {
        match rejection {
            Rejection::InvalidFieldValue { field, error } => {
                MigrationRefusal::InvalidDefault { field, error }
            }
            Rejection::UnknownField { field, .. } => MigrationRefusal::UnknownDefault { field },
            _ => MigrationRefusal::DateOutOfRange,
        }
    }
}

/// One case's migration: the outcome to persist and what it changes, for the dry run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseMigration {
    /// The new state, the `Migrated` event, the timers to schedule and cancel and the
    /// notices (moved deadlines) — applied like any step's outcome.
    /// Its event records the stages, the deadlines moved and the fields defaulted or
    /// dropped: read them with the methods below.
    pub outcome: Outcome,
    /// Obligations the new version adds (none before).
    pub added: Vec<Obligation>,
    /// Obligations the new version no longer has.
    pub dropped: Vec<Obligation>,
    /// Timers already due: they fire as soon as a runner looks (a reminder or an overdue
    /// notice at once, because a new due date has already passed).
    pub at_once: Vec<Timer>,
    /// Guards out of the new stage that the case met before and no longer meets, by
    /// transition.
    pub unmet: Vec<(String, GuardFailure)>,
}

/// What the `Migrated` event of a migration records.
struct Recorded<'m> {
    from_stage: &'m str,
    to_stage: &'m str,
    moved: &'m [MovedDeadline],
    defaulted: &'m BTreeMap<String, FieldValue>,
    dropped: &'m BTreeMap<String, FieldValue>,
}

impl CaseMigration {
    fn recorded(&self) -> Recorded<'_> {
        let EventKind::Migrated {
            from_stage,
            to_stage,
            moved,
            defaulted,
            dropped,
            ..
        } = &self.outcome.event.kind
        else {
            unreachable!("a migration's event is `Migrated`")
        };
        Recorded {
            from_stage,
            to_stage,
            moved,
            defaulted,
            dropped,
        }
    }

    pub fn from_stage(&self) -> &str {
        self.recorded().from_stage
    }

    pub fn to_stage(&self) -> &str {
        self.recorded().to_stage
    }

    /// Obligations carried over whose due date changed.
    pub fn moved(&self) -> &[MovedDeadline] {
        self.recorded().moved
    }

    /// Fields set from the plan's defaults.
    pub fn defaulted(&self) -> &BTreeMap<String, FieldValue> {
        self.recorded().defaulted
    }

    /// Fields the new version no longer declares (kept in the history).
    pub fn dropped_fields(&self) -> &BTreeMap<String, FieldValue> {
        self.recorded().dropped
    }
}

/// Moves the case `state` of workflow `from` onto `to` (its version `rules.to_version`) at
/// `now`, on `calendar` (the new version's), as `actor` (the administrator).
#[allow(clippy::too_many_arguments)]
pub fn migrate_case(
    from: &Workflow,
    from_version: u32,
    to: &Workflow,
    rules: &MigrationRules,
    state: &CaseState,
    actor: &Actor,
    now: Timestamp,
    calendar: &Calendar,
) -> Result<CaseMigration, MigrationRefusal> {
    if state.is_closed() {
        return Err(MigrationRefusal::Closed);
    }
    let to_stage_id = rules
        .stages
        .get(&state.stage)
        .cloned()
        .unwrap_or_else(|| state.stage.clone());
    let stage = to
        .stage(&to_stage_id)
        .ok_or_else(|| MigrationRefusal::StageNotInTarget {
            stage: to_stage_id.clone(),
        })?;
    if stage.terminal {
        return Err(MigrationRefusal::TerminalTarget {
            stage: to_stage_id.clone(),
        });
    }
    if let Some(party) = state
        .parties
        .iter()
        .find(|(party, members)| !members.is_empty() && to.party(party).is_none())
        .map(|(party, _)| party.clone())
    {
        return Err(MigrationRefusal::PartyNotInTarget { party });
    }
    let ctx = Context::new(to, calendar, now);
    let mut next = state.clone();
    next.revision += 1;
    next.stage = to_stage_id.clone();

    // Fields: kept when they still fit, else the plan's default; gone ones stay in history.
    let mut dropped_fields = BTreeMap::new();
    let mut defaulted = BTreeMap::new();
    for (id, value) in &state.fields {
        match to.field(id) {
            None => {
                next.fields.remove(id);
                dropped_fields.insert(id.clone(), value.clone());
            }
            Some(field) if field.field_type.admits(value) => {}
            Some(field) => {
                let Some(text) = rules.defaults.get(id) else {
                    return Err(MigrationRefusal::FieldTypeChanged {
                        field: id.clone(),
                        value: value.clone(),
                        to: field.field_type.name().to_owned(),
                    });
                };
                let value = ctx.parse_field(id, text)?;
                next.fields.insert(id.clone(), value.clone());
                defaulted.insert(id.clone(), value);
            }
        }
    }
    for (id, text) in &rules.defaults {
        if !next.fields.contains_key(id) {
            let value = ctx.parse_field(id, text)?;
            next.fields.insert(id.clone(), value.clone());
            defaulted.insert(id.clone(), value);
        }
    }
    // Kinds of record the new version no longer has do not count in its decisions.
    next.records.retain(|kind, _| to.record(kind).is_some());
    // Approvals count only for joint sign-offs still out of the stage.
    next.approvals.retain(|transition, _| {
        to.transition(transition)
            .is_some_and(|t| t.from.iter().any(|s| s == &to_stage_id))
    });

    let mut notifications = Vec::new();
    rebuild_obligations(&ctx, rules, state, &mut next, stage, &mut notifications)?;

    // What the move changes, obligation by obligation.
    let counterpart = |old: &Obligation| new_key(old, &to_stage_id, state.stage_entered_revision);
    let mut moved = Vec::new();
    let mut dropped = Vec::new();
    let mut carried = BTreeSet::new();
    for old in state.obligations.values() {
        let key = counterpart(old);
        match next.obligations.get(&key) {
            Some(new) => {
                carried.insert(key.clone());
                if new.due_date != old.due_date {
                    moved.push(MovedDeadline {
                        obligation: key,
                        from: old.due_date,
                        to: new.due_date,
                    });
                }
            }
            None => dropped.push(old.clone()),
        }
    }
    let added: Vec<Obligation> = next
        .obligations
        .values()
        .filter(|o| !carried.contains(&o.key))
        .cloned()
        .collect();
    for change in &moved {
        let (obligation, follow_up) = ctx.obligation_and_rules(&next, stage, &change.obligation);
        let to_roles = follow_up.responsible.clone();
        notifications.push(Notification {
            key: format!("migrate:{}:{}", next.revision, change.obligation),
            kind: NotificationKind::DeadlineMoved,
            to: to_roles,
            stage: next.stage.clone(),
            obligation: Some(obligation),
            missing_documents: owned(super::missing_documents(to, &next)),
            transition: None,
            by: Some(actor.name.clone()),
        });
    }
    let at_once: Vec<Timer> = next
        .timers
        .values()
        .filter(|t| t.due_at <= now)
        .cloned()
        .collect();
    // A comment is given when a transition fires, never held by the case: the guards are
    // compared as if one were given, so a required comment is not reported as unmet.
    let mut unmet = Vec::new();
    for transition in to.transitions_from(&to_stage_id) {
        let before: Vec<GuardFailure> = match from.transition(&transition.id) {
            Some(old) if old.from.iter().any(|s| s == &state.stage) => {
                guard_failures(from, state, old, Some("-"))
            }
            // A transition new to this stage: nothing was met before.
            _ => continue,
        };
        for failure in guard_failures(to, &next, transition, Some("-")) {
            if !before.contains(&failure) {
                unmet.push((transition.id.clone(), failure));
            }
        }
    }
    let kind = EventKind::Migrated {
        plan: rules.plan.clone(),
        from_version,
        to_version: rules.to_version,
        from_stage: state.stage.clone(),
        to_stage: to_stage_id,
        moved,
        defaulted,
        dropped: dropped_fields,
    };
    let outcome = finish(state, next, actor, kind, notifications, now);
    Ok(CaseMigration {
        outcome,
        added,
        dropped,
        at_once,
        unmet,
    })
}

/// The key an obligation of the old stage has in the new one: the same deadline or period,
/// under the new stage's id.
fn new_key(old: &Obligation, stage: &str, entered_revision: u64) -> String {
    match &old.source {
        ObligationSource::StageDeadline { .. } => deadline_key(stage, entered_revision),
        ObligationSource::Recurring {
            rule, period_start, ..
        } => recurring_key(stage, entered_revision, rule, *period_start),
    }
}

/// Rebuilds the obligations and timers of the case's (new) stage under the new rules:
/// the stage deadline and the periods of recurring rules it had carry over (due dates
/// recomputed or kept, by `rules.deadlines`); rules new to the stage open their current
/// period. A notice that already went out for an obligation whose due date stays is not
/// sent again.
fn rebuild_obligations(
    ctx: &Context<'_>,
    rules: &MigrationRules,
    old: &CaseState,
    next: &mut CaseState,
    stage: &Stage,
    notifications: &mut Vec<Notification>,
) -> Result<(), MigrationRefusal> {
    next.obligations.clear();
    next.timers.clear();
    let keep = rules.deadlines == DeadlinePolicy::Keep;
    let rev = old.stage_entered_revision;
    let old_deadline = old
        .obligations
        .values()
        .find(|o| matches!(o.source, ObligationSource::StageDeadline { .. }));
    if let Some(deadline) = &stage.deadline {
        match old_deadline {
            Some(held) if keep => {
                let obligation = Obligation {
                    key: new_key(held, &stage.id, rev),
                    source: ObligationSource::StageDeadline {
                        stage: stage.id.clone(),
                    },
                    ..held.clone()
                };
                ctx.schedule_follow_up(next, obligation, &deadline.follow_up)?;
            }
            _ => {
                let entered = Context {
                    entered_at: Some(old.stage_entered_at),
                    ..Context::new(ctx.workflow, ctx.calendar, ctx.now)
                };
                entered.schedule_stage_deadline(next, stage, notifications)?;
            }
        }
    }
    for rule in &stage.recurring {
        let periods: Vec<&Obligation> = old
            .obligations
            .values()
            .filter(|o| matches!(&o.source, ObligationSource::Recurring { rule: r, .. } if r == &rule.id))
            .collect();
        let period_timer = old
            .timers
            .values()
            .find(|t| matches!(&t.kind, TimerKind::PeriodStart { rule: r, .. } if r == &rule.id));
        if periods.is_empty() && period_timer.is_none() {
            let today = ctx.calendar.date_of(ctx.now);
            ctx.open_period(
                next,
                stage,
                rule,
                super::period_bounds(rule.period, today).0,
            )?;
            continue;
        }
        for held in periods {
            let ObligationSource::Recurring {
                period_start,
                period_end,
                ..
            } = &held.source
            else {
                continue;
            };
            let due_date = if keep {
                held.due_date
            } else {
                ctx.add(rule.due_after_period, *period_end)?
            };
            let mut obligation = ctx.obligation(
                new_key(held, &stage.id, rev),
                ObligationSource::Recurring {
                    rule: rule.id.clone(),
                    period_start: *period_start,
                    period_end: *period_end,
                    document: rule.document.clone(),
                },
                due_date,
            )?;
            if due_date == held.due_date {
                obligation.overdue = held.overdue;
                obligation.provisional = held.provisional;
            }
            ctx.schedule_follow_up(next, obligation, &rule.follow_up)?;
        }
        if let Some(Timer {
            due_at,
            kind: TimerKind::PeriodStart { period_start, .. },
            ..
        }) = period_timer
        {
            super::insert_timer(
                next,
                period_timer_key(&stage.id, rev, &rule.id, *period_start),
                *due_at,
                TimerKind::PeriodStart {
                    rule: rule.id.clone(),
                    period_start: *period_start,
                },
            );
        }
    }
    forget_sent_notices(old, next, &stage.id, ctx.now);
    Ok(())
}

/// For obligations whose due date did not change, drops the rebuilt timers that are already
/// due but were no longer pending before: their reminder, overdue notice or escalation went
/// out already and must not go out twice. The overdue mark they left stays.
fn forget_sent_notices(old: &CaseState, next: &mut CaseState, stage: &str, now: Timestamp) {
    for held in old.obligations.values() {
        let key = new_key(held, stage, old.stage_entered_revision);
        let Some(new) = next.obligations.get_mut(&key) else {
            continue;
        };
        if new.due_date != held.due_date {
            continue;
        }
        new.overdue |= held.overdue;
        let pending_before: BTreeSet<&str> = old
            .timers
            .keys()
            .filter_map(|k| k.strip_prefix(held.key.as_str()))
            .filter(|suffix| suffix.starts_with(':'))
            .collect();
        next.timers.retain(|timer_key, timer| {
            let Some(suffix) = timer_key
                .strip_prefix(key.as_str())
                .filter(|suffix| suffix.starts_with(':'))
            else {
                return true;
            };
            timer.due_at > now || pending_before.contains(suffix)
        });
    }
}
