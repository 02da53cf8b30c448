//! Properties of the step function and the working-day calendar, on random inputs: deep
//! random walks through the shipped workflow (with the coverage they reached asserted), and
//! the working-day arithmetic.

mod common;

use std::collections::BTreeSet;

use common::{Case, HAPPY_PATH, engine, seed_fields, wib};
use jiff::civil::Date;
use jiff::{Span, Timestamp};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use swakelola_core::model::{Comparison, Condition, Transition};
use swakelola_core::state::TimerEffect;
use swakelola_core::step::{Action, Command, GuardFailure, Outcome, guard_failures, step};
use swakelola_core::{Actor, CaseState, EventKind, FieldType, FieldValue, Workflow};

/// One random command, described by indices into the workflow's lists so that most of them
/// are plausible and many are still wrong.
#[derive(Debug, Clone)]
enum Pick {
    Fire {
        transition: usize,
        role: usize,
        comment: bool,
    },
    Attach {
        document: usize,
        role: usize,
    },
    Set {
        field: usize,
        role: usize,
        value: usize,
    },
    Timer {
        nth: usize,
    },
    /// Decline a transition's sign-off (most of them are not joint: refused).
    Decline {
        transition: usize,
        role: usize,
    },
    /// Link the case to another (any role of the case may; the system may not).
    Link {
        role: usize,
        kind: usize,
    },
    /// Add an organisation to a party, or withdraw one (allowed to `members_by` only).
    Member {
        party: usize,
        role: usize,
        add: bool,
    },
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        4 => (0..64usize, 0..16usize, any::<bool>()).prop_map(|(transition, role, comment)| Pick::Fire { transition, role, comment }),
        3 => (0..64usize, 0..16usize).prop_map(|(document, role)| Pick::Attach { document, role }),
        2 => (0..32usize, 0..16usize, 0..VALUES.len()).prop_map(|(field, role, value)| Pick::Set { field, role, value }),
        2 => (0..8usize).prop_map(|nth| Pick::Timer { nth }),
        1 => (0..64usize, 0..16usize).prop_map(|(transition, role)| Pick::Decline { transition, role }),
        3 => (0..8usize, 0..16usize, any::<bool>()).prop_map(|(party, role, add)| Pick::Member { party, role, add }),
        1 => (0..16usize, 0..3usize).prop_map(|(role, kind)| Pick::Link { role, kind }),
    ]
}

const VALUES: [&str; 11] = [
    "34500000",
    "2025-06-30",
    "2026",
    "apbd",
    "pemilihan",
    "permintaan_kesediaan",
    "",
    "teks",
    // Values that break the workflow's rules against the ones above: more than the pagu,
    // a date before the contract and one after the fiscal year.
    "50000000",
    "2024-12-01",
    "2030-01-15",
];

/// Checks what must hold of every state a case can be in.
/// Returns how many rules had all their values set (and so were checked).
fn check_invariants(case: &Case, state: &CaseState) -> usize {
    let mut rules_checked = 0;
    let workflow = &case.engine.workflow;
    let stage = workflow.stage(&state.stage).expect("the stage is declared");
    assert_eq!(state.is_closed(), stage.terminal);
    if state.is_closed() {
        assert!(state.timers.is_empty() && state.obligations.is_empty());
    }
    assert_eq!(
        state.next_due_at(),
        state.timers.values().map(|t| t.due_at).min()
    );
    for timer in state.timers.values() {
        use swakelola_core::state::TimerKind;
        match &timer.kind {
            TimerKind::Reminder { obligation, .. }
            | TimerKind::Due { obligation }
            | TimerKind::Escalation { obligation, .. } => {
                assert!(
                    state.obligations.contains_key(obligation),
                    "timer {} without its obligation",
                    timer.key
                );
            }
            TimerKind::PeriodStart { rule, .. } => {
                assert!(stage.recurring.iter().any(|r| &r.id == rule))
            }
        }
    }
    for (field, value) in &state.fields {
        assert!(workflow.field(field).unwrap().field_type.admits(value));
    }
    // Every rule whose values are all set holds, whatever commands were accepted.
    for rule in &workflow.rules {
        let condition = &rule.condition;
        let complete = state.fields.contains_key(&condition.field)
            && condition
                .value_of
                .as_ref()
                .is_none_or(|o| o.resolve(&state.fields, &state.records).is_some());
        if complete {
            rules_checked += 1;
            assert!(
                swakelola_core::step::condition_holds(condition, &state.fields, &state.records),
                "rule {} is broken: {:?}",
                rule.id,
                state.fields
            );
        }
    }
    assert_eq!(state.revision, case.events.len() as u64);
    // A joint sign-off never takes effect with an approval missing, and its approvals exist
    // only while the case is in a stage it leaves from.
    if let Some(swakelola_core::EventKind::Transitioned {
        transition,
        approved_by,
        ..
    }) = case.events.last().map(|e| &e.kind)
    {
        let t = workflow.transition(transition).unwrap();
        // The roles of `requires_all`, and every member organisation when each signs.
        let mut needed = swakelola_core::step::signers(state, t);
        needed.sort();
        let mut given = approved_by.clone();
        given.sort();
        assert_eq!(given, needed, "{transition} fired without every approval");
    }
    for (transition, approvals) in &state.approvals {
        let t = workflow.transition(transition).unwrap();
        assert!(t.from.contains(&state.stage));
        let signers = swakelola_core::step::signers(state, t);
        assert!(approvals.keys().all(|r| signers.contains(r)));
        assert!(approvals.len() < signers.len());
    }
    rules_checked
}

/// One step of a walk.
#[derive(Debug, Clone)]
enum Step {
    /// Meet the guards of a transition out of the current stage and fire it. Exits (into a
    /// terminal stage that is not the end of the happy path) only when `exit` is drawn, so
    /// that walks go deep before they end.
    Progress {
        choice: usize,
        role: usize,
        exit: bool,
    },
    /// Let time pass and fire every timer that falls due meanwhile, in order.
    Wait { hours: u32 },
    /// Any command at all, most of them wrong: they must be refused and change nothing.
    Noise(Pick),
}

fn walk_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        10 => (0..64usize, 0..16usize, proptest::bool::weighted(0.04)).prop_map(|(choice, role, exit)| Step::Progress { choice, role, exit }),
        4 => prop_oneof![1..48u32, 48..2000u32, 2000..9000u32].prop_map(|hours| Step::Wait { hours }),
        3 => pick().prop_map(Step::Noise),
    ]
}

/// What the walks reached, checked against the whole workflow at the end.
#[derive(Debug, Default)]
struct Coverage {
    walks: usize,
    stages: BTreeSet<String>,
    transitions: BTreeSet<String>,
    timer_kinds: BTreeSet<&'static str>,
    effects: BTreeSet<&'static str>,
    notifications: BTreeSet<String>,
    rejections: usize,
    /// States in which a rule had all its values set, so its invariant was really checked.
    rules_checked: usize,
}

impl Coverage {
    fn record(&mut self, before: Option<&CaseState>, outcome: &Outcome) {
        self.stages.insert(outcome.state.stage.clone());
        match &outcome.event.kind {
            EventKind::Transitioned { transition, .. } => {
                self.transitions.insert(transition.clone());
            }
            EventKind::TimerFired { timer, effect } => {
                if let Some(fired) = before.and_then(|b| b.timers.get(timer)) {
                    self.timer_kinds.insert(fired.kind.name());
                }
                self.effects.insert(match effect {
                    TimerEffect::Reminded { .. } => "reminded",
                    TimerEffect::BecameOverdue { .. } => "became_overdue",
                    TimerEffect::Expired { transition, .. } => {
                        self.transitions.insert(transition.clone());
                        "expired"
                    }
                    TimerEffect::Escalated { .. } => "escalated",
                    TimerEffect::PeriodOpened { .. } => "period_opened",
                });
            }
            _ => {}
        }
        for notification in &outcome.notifications {
            self.notifications
                .insert(format!("{:?}", notification.kind));
        }
    }
}

/// The text a person would type for `value`.
fn typed(value: &FieldValue) -> String {
    match value {
        FieldValue::Text(text) | FieldValue::Enum(text) => text.clone(),
        FieldValue::Integer(n) | FieldValue::Rupiah(n) => n.to_string(),
        FieldValue::Date(date) => date.to_string(),
        FieldValue::FiscalYear(year) => year.to_string(),
    }
}

/// A value for `field` that satisfies `condition`, or `None` when none can (an `is_unset`).
fn satisfying(
    workflow: &Workflow,
    condition: &Condition,
    fields: &std::collections::BTreeMap<String, FieldValue>,
    records: &swakelola_core::state::Records,
    today: Date,
) -> Option<String> {
    let field = workflow.field(&condition.field)?;
    let any = || match &field.field_type {
        FieldType::Enum(values) => values[0].clone(),
        FieldType::Date => today.to_string(),
        FieldType::FiscalYear => today.year().to_string(),
        FieldType::Text => "isi".to_owned(),
        FieldType::Integer | FieldType::Rupiah => "34500000".to_owned(),
    };
    let shifted = |value: &FieldValue, by: i64| match value {
        FieldValue::Integer(n) => Some(FieldValue::Integer(n + by)),
        FieldValue::Rupiah(n) => Some(FieldValue::Rupiah(n + by)),
        FieldValue::FiscalYear(y) => Some(FieldValue::FiscalYear(y + by as i16)),
        FieldValue::Date(d) => d
            .checked_add(Span::new().days(by))
            .ok()
            .map(FieldValue::Date),
        FieldValue::Enum(v) => match &field.field_type {
            FieldType::Enum(values) => values
                .iter()
                .find(|o| *o != v)
                .cloned()
                .map(FieldValue::Enum),
            _ => None,
        },
        FieldValue::Text(t) => Some(FieldValue::Text(format!("{t} lain"))),
    };
    // A comparison with another value of the case compares with that value as it is now.
    let expected = condition.value.clone().or_else(|| {
        condition
            .value_of
            .as_ref()
            .and_then(|operand| operand.resolve(fields, records))
    });
    match (condition.op, &expected) {
        (Comparison::IsUnset, _) => None,
        (Comparison::IsSet, _) | (_, None) => Some(any()),
        (Comparison::Eq | Comparison::Le | Comparison::Ge, Some(value)) => Some(typed(value)),
        (Comparison::Ne, Some(value)) => shifted(value, 1).map(|v| typed(&v)),
        (Comparison::Lt, Some(value)) => shifted(value, -1).map(|v| typed(&v)),
        (Comparison::Gt, Some(value)) => shifted(value, 1).map(|v| typed(&v)),
    }
}

/// Runs a command and, on success, records what it reached.
fn run(case: &mut Case, coverage: &mut Coverage, role: &str, action: Action) -> bool {
    let before = case.state.clone();
    match case.run(role, action) {
        Ok(outcome) => {
            let outcome = outcome.clone();
            coverage.record(before.as_ref(), &outcome);
            true
        }
        Err(_) => {
            coverage.rejections += 1;
            false
        }
    }
}

/// Meets what `transition` still needs — documents, fields, conditions — as the roles
/// allowed to, then fires it.
fn progress(case: &mut Case, coverage: &mut Coverage, transition: &Transition, role: usize) {
    let workflow = &case.engine.workflow;
    let today = case.engine.calendar.date_of(case.now);
    for failure in guard_failures(workflow, case.state(), transition, Some("catatan")) {
        match failure {
            GuardFailure::MissingDocument { id, .. } => {
                let allowed = &workflow.document(&id).unwrap().attach_by;
                let role = allowed.first().unwrap_or(&transition.roles[0]).clone();
                let _ = case.attach(&role, &id);
            }
            GuardFailure::MissingField { id, .. } => {
                let condition = Condition {
                    field: id.clone(),
                    op: Comparison::IsSet,
                    value: None,
                    value_of: None,
                };
                set_to_satisfy(case, coverage, &condition, today, transition);
            }
            GuardFailure::Condition { .. } | GuardFailure::CommentRequired => {}
        }
    }
    for condition in &transition.guard.conditions {
        let unmet = guard_failures(workflow, case.state(), transition, Some("catatan"))
            .iter()
            .any(|f| matches!(f, GuardFailure::Condition { .. }));
        if unmet {
            set_to_satisfy(case, coverage, condition, today, transition);
        }
    }
    let role = transition.roles[role % transition.roles.len()].clone();
    run(
        case,
        coverage,
        &role,
        Action::Fire {
            transition: transition.id.clone(),
            comment: Some("catatan".to_owned()),
        },
    );
}

fn set_to_satisfy(
    case: &mut Case,
    coverage: &mut Coverage,
    condition: &Condition,
    today: Date,
    transition: &Transition,
) {
    let workflow = &case.engine.workflow;
    let fields = case.state().fields.clone();
    let records = case.state().records.clone();
    let Some(value) = satisfying(workflow, condition, &fields, &records, today) else {
        return;
    };
    let field = workflow.field(&condition.field).unwrap();
    let role = field.set_by.first().unwrap_or(&transition.roles[0]).clone();
    run(
        case,
        coverage,
        &role,
        Action::SetField {
            field: condition.field.clone(),
            value,
        },
    );
}

/// One walk: open the seed case on a random day, follow a random prefix of the happy path,
/// then random steps. Checks determinism and the invariants after every command.
fn walk(
    coverage: &mut Coverage,
    start_day: i64,
    prefix: usize,
    steps: &[Step],
) -> Result<(), TestCaseError> {
    let engine = engine("swakelola-tipe-3");
    let workflow = &engine.workflow;
    let start = wib(2024, 1, 2, 9)
        .checked_add(Span::new().hours(24 * start_day))
        .unwrap();
    let mut case = Case::new(engine, start);
    let opened = case.open(seed_fields()).clone();
    coverage.record(None, &opened);
    for transition in &HAPPY_PATH[..prefix.min(HAPPY_PATH.len())] {
        if case.state().is_closed() {
            break;
        }
        let Some(t) = workflow.transition(transition) else {
            continue;
        };
        if t.from.contains(&case.state().stage) {
            progress(&mut case, coverage, t, 0);
        }
    }
    let roles: Vec<String> = workflow
        .roles
        .iter()
        .map(|r| r.id.clone())
        .chain(["system".into(), "tamu".into()])
        .collect();
    for step_ in steps {
        if case.state().is_closed() {
            break;
        }
        match step_ {
            Step::Progress { choice, role, exit } => {
                let end = HAPPY_PATH
                    .last()
                    .and_then(|t| workflow.transition(t))
                    .map(|t| t.to.clone());
                let here: Vec<&Transition> = workflow
                    .transitions_from(&case.state().stage)
                    .filter(|t| {
                        let terminal = workflow.stage(&t.to).is_some_and(|s| s.terminal);
                        *exit || !terminal || Some(&t.to) == end.as_ref()
                    })
                    .collect();
                if let Some(transition) = here.get(choice % here.len().max(1)) {
                    let transition = (*transition).clone();
                    progress(&mut case, coverage, &transition, *role);
                }
            }
            Step::Wait { hours } => {
                let until = case
                    .now
                    .checked_add(Span::new().hours(i64::from(*hours)))
                    .unwrap();
                loop {
                    let due = case
                        .state()
                        .timers
                        .values()
                        .filter(|t| t.due_at <= until)
                        .min_by_key(|t| (t.due_at, t.key.clone()))
                        .map(|t| (t.key.clone(), t.due_at));
                    let Some((key, at)) = due else { break };
                    case.now = case.now.max(at);
                    let fired = run(&mut case, coverage, "system", Action::FireTimer { key });
                    prop_assert!(fired, "a due timer must fire");
                    if case.state().is_closed() {
                        break;
                    }
                }
                case.now = case.now.max(until);
            }
            Step::Noise(pick) => {
                let role = |i: usize| roles[i % roles.len()].clone();
                let (role, action) = match pick.clone() {
                    Pick::Fire {
                        transition,
                        role: r,
                        comment,
                    } => (
                        role(r),
                        Action::Fire {
                            transition: workflow.transitions
                                [transition % workflow.transitions.len()]
                            .id
                            .clone(),
                            comment: comment.then(|| "catatan".to_owned()),
                        },
                    ),
                    Pick::Decline {
                        transition,
                        role: r,
                    } => (
                        role(r),
                        Action::Decline {
                            transition: workflow.transitions
                                [transition % workflow.transitions.len()]
                            .id
                            .clone(),
                            comment: "alasan".to_owned(),
                        },
                    ),
                    Pick::Attach { document, role: r } => (
                        role(r),
                        Action::Attach {
                            document_type: workflow.documents[document % workflow.documents.len()]
                                .id
                                .clone(),
                            file_name: "berkas.pdf".into(),
                            sha256: "ab".repeat(32),
                            size: 1,
                        },
                    ),
                    Pick::Set {
                        field,
                        role: r,
                        value,
                    } => (
                        role(r),
                        Action::SetField {
                            field: workflow.fields[field % workflow.fields.len()].id.clone(),
                            value: VALUES[value].into(),
                        },
                    ),
                    Pick::Member {
                        party,
                        role: r,
                        add,
                    } => {
                        // Two organisations, so that a party gets a lead and a member.
                        let organisation = ["perkumpulan-a", "perkumpulan-b"][party / 4].to_owned();
                        let party = workflow.parties[party % workflow.parties.len()].id.clone();
                        (
                            role(r),
                            if add {
                                Action::AddMember {
                                    party,
                                    organisation,
                                }
                            } else {
                                Action::WithdrawMember {
                                    party,
                                    organisation,
                                    reason: "mengundurkan diri".into(),
                                }
                            },
                        )
                    }
                    Pick::Link { role: r, kind } => (
                        role(r),
                        Action::Link {
                            link: swakelola_core::LinkKind::ALL[kind],
                            case_id: "0190a000-0000-7000-8000-000000000000".into(),
                            business_key: "DP3A-2024-001".into(),
                        },
                    ),
                    Pick::Timer { nth } => {
                        let keys: Vec<String> = case.state().timers.keys().cloned().collect();
                        let key = if keys.is_empty() {
                            "none".to_owned()
                        } else {
                            keys[nth % keys.len()].clone()
                        };
                        ("system".to_owned(), Action::FireTimer { key })
                    }
                };
                // Determinism: the same inputs give the same answer.
                let actor = if role == "system" {
                    Actor::system()
                } else {
                    Actor::new(format!("staf {role}"), role.clone())
                };
                let command = Command {
                    actor,
                    action: action.clone(),
                };
                let first = step(
                    workflow,
                    Some(case.state()),
                    &command,
                    case.now,
                    &engine.calendar,
                );
                let second = step(
                    workflow,
                    Some(case.state()),
                    &command,
                    case.now,
                    &engine.calendar,
                );
                prop_assert_eq!(&first, &second);
                if let Action::AddMember {
                    party,
                    organisation,
                }
                | Action::WithdrawMember {
                    party,
                    organisation,
                    ..
                } = &action
                {
                    // Only the roles the workflow names change a party's members; the change
                    // touches nothing of the case but its parties (and a withdrawn member's
                    // signatures); a party keeps its lead.
                    let allowed = &workflow.party(party).unwrap().members_by;
                    let before = case.state().parties.get(party).cloned().unwrap_or_default();
                    match &first {
                        Ok(outcome) => {
                            prop_assert!(allowed.contains(&role));
                            let mut unchanged = case.state().clone();
                            unchanged.revision += 1;
                            unchanged.parties = outcome.state.parties.clone();
                            unchanged.approvals = outcome.state.approvals.clone();
                            prop_assert_eq!(&outcome.state, &unchanged);
                            prop_assert!(outcome.schedule.is_empty() && outcome.cancel.is_empty());
                            let after = &outcome.state.parties[party];
                            let adding = matches!(action, Action::AddMember { .. });
                            prop_assert_eq!(after.contains(organisation), adding);
                            prop_assert_eq!(after.first(), before.first().or(Some(organisation)));
                        }
                        Err(refusal) => prop_assert!(
                            !allowed.contains(&role)
                                || ["already_member", "not_a_member", "is_lead"]
                                    .contains(&refusal.code()),
                            "{refusal}"
                        ),
                    }
                }
                if let (Action::Link { .. }, Ok(outcome)) = (&action, &first) {
                    // A link is history only: the case itself does not change.
                    let mut unchanged = case.state().clone();
                    unchanged.revision += 1;
                    prop_assert_eq!(&outcome.state, &unchanged);
                    prop_assert!(outcome.notifications.is_empty());
                }
                if let Ok(outcome) = &first {
                    prop_assert_eq!(outcome.event.revision, case.state().revision + 1);
                    prop_assert_eq!(outcome.next_due_at, outcome.state.next_due_at());
                    for key in &outcome.cancel {
                        prop_assert!(
                            case.state().timers.contains_key(key)
                                && !outcome.state.timers.contains_key(key)
                        );
                    }
                    for timer in &outcome.schedule {
                        prop_assert_eq!(outcome.state.timers.get(&timer.key), Some(timer));
                    }
                }
                run(&mut case, coverage, &role, action);
            }
        }
        coverage.rules_checked += check_invariants(&case, case.state());
    }
    let revisions: Vec<u64> = case.events.iter().map(|e| e.revision).collect();
    prop_assert_eq!(
        revisions,
        (1..=case.events.len() as u64).collect::<Vec<_>>()
    );
    coverage.walks += 1;
    Ok(())
}

/// Random walks through the shipped workflow reach every stage, every transition and every
/// kind of timer, with every state consistent on the way. The seed is fixed, so the coverage
/// asserted at the end is the same on every run (change `WALKS` or the weights, and this test
/// says what is no longer reached).
#[test]
fn random_walks_reach_the_whole_workflow_and_keep_every_case_consistent() {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    const WALKS: u32 = 800;
    let coverage = std::cell::RefCell::new(Coverage::default());
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: WALKS,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = (
        0i64..900,
        0..=HAPPY_PATH.len(),
        proptest::collection::vec(walk_step(), 1..80),
    );
    runner
        .run(&strategy, |(start_day, prefix, steps)| {
            walk(&mut coverage.borrow_mut(), start_day, prefix, &steps)
        })
        .unwrap();
    let coverage = coverage.into_inner();
    let workflow = &engine("swakelola-tipe-3").workflow;
    let missing = |all: Vec<String>, reached: &BTreeSet<String>| -> Vec<String> {
        all.into_iter().filter(|x| !reached.contains(x)).collect()
    };
    let stages = missing(
        workflow.stages.iter().map(|s| s.id.clone()).collect(),
        &coverage.stages,
    );
    let transitions = missing(
        workflow.transitions.iter().map(|t| t.id.clone()).collect(),
        &coverage.transitions,
    );
    eprintln!(
        "coverage over {} walks ({} refused commands): stages {}/{}, transitions {}/{}, timer kinds {:?}, effects {:?}, notifications {:?}",
        coverage.walks,
        coverage.rejections,
        workflow.stages.len() - stages.len(),
        workflow.stages.len(),
        workflow.transitions.len() - transitions.len(),
        workflow.transitions.len(),
        coverage.timer_kinds,
        coverage.effects,
        coverage.notifications,
    );
    assert!(stages.is_empty(), "stages never reached: {stages:?}");
    assert!(
        coverage.rules_checked > 0,
        "no walk ever set both values of a rule: its invariant went unchecked"
    );
    assert!(
        transitions.is_empty(),
        "transitions never fired: {transitions:?}"
    );
    for kind in ["reminder", "due", "escalation", "period_start"] {
        assert!(
            coverage.timer_kinds.contains(kind),
            "no `{kind}` timer fired"
        );
    }
    for effect in [
        "reminded",
        "became_overdue",
        "expired",
        "escalated",
        "period_opened",
    ] {
        assert!(
            coverage.effects.contains(effect),
            "no timer had the effect `{effect}`"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn adding_working_days_lands_on_a_working_day_and_skips_every_holiday(
        offset in 0i64..(2 * 365), n in 0u32..80,
    ) {
        let engine = engine("swakelola-tipe-3");
        let calendar = &engine.calendar;
        let start = Date::constant(2025, 1, 1).checked_add(Span::new().days(offset)).unwrap();
        let end = calendar.add_working_days(start, n).unwrap();
        prop_assert!(calendar.is_working_day(end));
        if n == 0 {
            prop_assert!(end >= start);
        } else {
            prop_assert!(end > start);
            prop_assert_eq!(calendar.working_days_between(start, end), i64::from(n));
            // Monotone: one more working day is strictly later.
            prop_assert!(calendar.add_working_days(start, n + 1).unwrap() > end);
            // Back again: the start itself when it is a working day, else the one before it.
            let back = calendar.subtract_working_days(end, n).unwrap();
            if calendar.is_working_day(start) {
                prop_assert_eq!(back, start);
            } else {
                prop_assert!(back < start && calendar.is_working_day(back));
            }
        }
        // No listed holiday and no weekend day in (start, end] was counted.
        let mut day = start;
        let mut counted = 0;
        while day < end {
            day = day.tomorrow().unwrap();
            if calendar.holiday(day).is_some() || calendar.is_weekend(day) {
                prop_assert!(!calendar.is_working_day(day));
            } else {
                counted += 1;
            }
        }
        // With n = 0 the result is the start itself, or the next working day after it.
        let expected = if n == 0 { u32::from(end > start) } else { n };
        prop_assert_eq!(counted, expected);
    }

    #[test]
    fn an_instant_falls_on_the_calendar_day_of_its_wib_clock(ms in 1_700_000_000_000i64..1_800_000_000_000) {
        let engine = engine("swakelola-tipe-3");
        let calendar = &engine.calendar;
        let instant = Timestamp::from_millisecond(ms).unwrap();
        let day = calendar.date_of(instant);
        prop_assert!(calendar.start_of_day(day).unwrap() <= instant);
        prop_assert!(instant < calendar.end_of_day(day).unwrap());
    }
}
