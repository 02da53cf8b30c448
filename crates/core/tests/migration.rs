//! Migrating a running case onto another version of its workflow (`migrate_case`), on random
//! case states of the shipped workflow and random new versions made by mutating it: the
//! migrated case keeps every core invariant, the function is deterministic (so a dry run and
//! the apply agree), and the case runs on afterwards under the new rules.

mod common;

use std::collections::BTreeMap;

use common::{Case, Engine, HAPPY_PATH, engine, seed_fields, wib};
use jiff::{Span, Timestamp};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use swakelola_core::duration::Duration;
use swakelola_core::model::Due;
use swakelola_core::state::{ObligationSource, TimerKind};
use swakelola_core::step::migrate::{
    CaseMigration, DeadlinePolicy, MigrationRefusal, MigrationRules, migrate_case,
};
use swakelola_core::{Actor, CaseState, EventKind, FieldType, Workflow};

/// One change a new version makes.
#[derive(Debug, Clone)]
enum Mutation {
    /// Rename a stage (the plan maps the old id onto the new one).
    RenameStage(usize),
    /// A stage's relative deadline gets `days` more working days (or fewer, never below one).
    Retime(usize, i64),
    /// A transition newly requires a document.
    RequireDocument(usize, usize),
    /// A text field becomes an integer; with a default in the plan or without one.
    Retype(usize, bool),
    /// A field nothing else reads is removed.
    DropField(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0..64usize).prop_map(Mutation::RenameStage),
        (0..64usize, -8i64..15).prop_map(|(s, d)| Mutation::Retime(s, d)),
        (0..64usize, 0..64usize).prop_map(|(t, d)| Mutation::RequireDocument(t, d)),
        (0..32usize, any::<bool>()).prop_map(|(f, d)| Mutation::Retype(f, d)),
        (0..32usize).prop_map(Mutation::DropField),
    ]
}

/// The new version and the plan's rules for it.
fn mutate(workflow: &Workflow, mutations: &[Mutation], keep: bool) -> (Workflow, MigrationRules) {
    let mut next = workflow.clone();
    let mut rules = MigrationRules {
        plan: "uji".into(),
        to_version: 2,
        deadlines: if keep {
            DeadlinePolicy::Keep
        } else {
            DeadlinePolicy::Recompute
        },
        ..MigrationRules::default()
    };
    for mutation in mutations {
        match *mutation {
            Mutation::RenameStage(index) => {
                let stage = &mut next.stages[index % workflow.stages.len()];
                if stage.id.ends_with("_baru") {
                    continue;
                }
                let old = stage.id.clone();
                let new = format!("{old}_baru");
                stage.id = new.clone();
                for transition in &mut next.transitions {
                    for from in &mut transition.from {
                        if *from == old {
                            from.clone_from(&new);
                        }
                    }
                    if transition.to == old {
                        transition.to.clone_from(&new);
                    }
                }
                // A stage renamed twice over the mutations maps from its first id.
                let source = rules
                    .stages
                    .iter()
                    .find(|(_, to)| **to == old)
                    .map(|(from, _)| from.clone())
                    .unwrap_or(old);
                rules.stages.insert(source, new);
            }
            Mutation::Retime(index, days) => {
                let count = next.stages.len();
                if let Some(deadline) = &mut next.stages[index % count].deadline
                    && let Due::After { offset, .. } = &mut deadline.due
                    && let Duration::WorkingDays(n) = offset
                {
                    *n = (i64::from(*n) + days).max(1) as u32;
                }
            }
            Mutation::RequireDocument(transition, document) => {
                let document = next.documents[document % next.documents.len()].id.clone();
                let count = next.transitions.len();
                let guard = &mut next.transitions[transition % count].guard;
                if !guard.documents.contains(&document) {
                    guard.documents.push(document);
                }
            }
            Mutation::Retype(index, with_default) => {
                let count = next.fields.len();
                let field = &next.fields[index % count];
                if field.field_type == FieldType::Text && unreferenced(&next, &field.id) {
                    let field = &mut next.fields[index % count];
                    field.field_type = FieldType::Integer;
                    if with_default {
                        rules.defaults.insert(field.id.clone(), "7".into());
                    }
                }
            }
            Mutation::DropField(index) => {
                let id = next.fields[index % next.fields.len()].id.clone();
                if unreferenced(&next, &id) && !rules.defaults.contains_key(&id) {
                    next.fields.retain(|f| f.id != id);
                }
            }
        }
    }
    (next, rules)
}

/// Whether nothing but its own declaration names the field (no guard, rule, anchor, record).
fn unreferenced(workflow: &Workflow, field: &str) -> bool {
    let text = serde_json::to_string(workflow).unwrap();
    text.matches(&format!("\"{field}\"")).count() == 1
        && workflow.fiscal_year_field.as_deref() != Some(field)
}

/// A case of the shipped workflow walked `steps` along the happy path, with `gaps` hours
/// between the steps (its timers firing meanwhile).
fn walked(steps: usize, gaps: &[u32], start_day: i64) -> Case<'static> {
    let engine = engine("swakelola-tipe-3");
    let start = wib(2024, 3, 1, 9)
        .checked_add(Span::new().hours(24 * start_day))
        .unwrap();
    let mut case = Case::new(engine, start);
    case.open(seed_fields());
    for (index, transition) in HAPPY_PATH.iter().take(steps).enumerate() {
        let hours = gaps.get(index).copied().unwrap_or(0);
        let later = case
            .now
            .checked_add(Span::new().hours(i64::from(hours)))
            .unwrap();
        case.advance_to(later);
        let t = engine.workflow.transition(transition).unwrap();
        if case.state().is_closed() || !t.from.contains(&case.state().stage) {
            break;
        }
        case.force(transition);
    }
    case
}

/// The core invariants, for a state of `workflow`.
fn check_invariants(workflow: &Workflow, state: &CaseState) -> Result<(), TestCaseError> {
    let stage = workflow.stage(&state.stage);
    prop_assert!(
        stage.is_some(),
        "stage {} is not in the workflow",
        state.stage
    );
    let stage = stage.unwrap();
    prop_assert!(!stage.terminal && !state.is_closed());
    for (key, obligation) in &state.obligations {
        prop_assert_eq!(key, &obligation.key);
        match &obligation.source {
            ObligationSource::StageDeadline { stage: of } => {
                prop_assert_eq!(of, &state.stage);
                prop_assert!(stage.deadline.is_some());
            }
            ObligationSource::Recurring { rule, .. } => {
                prop_assert!(stage.recurring.iter().any(|r| &r.id == rule));
            }
        }
        let in_stage = key.split(':').nth(1) == Some(state.stage.as_str());
        prop_assert!(
            in_stage,
            "obligation {} is not of stage {}",
            key,
            state.stage
        );
    }
    for timer in state.timers.values() {
        match &timer.kind {
            TimerKind::Reminder { obligation, .. }
            | TimerKind::Due { obligation }
            | TimerKind::Escalation { obligation, .. } => {
                prop_assert!(
                    state.obligations.contains_key(obligation),
                    "timer {} without its obligation",
                    timer.key
                );
            }
            TimerKind::PeriodStart { rule, .. } => {
                prop_assert!(stage.recurring.iter().any(|r| &r.id == rule));
            }
        }
    }
    for (field, value) in &state.fields {
        let def = workflow.field(field);
        prop_assert!(def.is_some(), "field {} is not in the workflow", field);
        prop_assert!(def.unwrap().field_type.admits(value));
    }
    Ok(())
}

fn migrate(
    case: &Case<'_>,
    target: &Workflow,
    rules: &MigrationRules,
    now: Timestamp,
) -> Result<CaseMigration, MigrationRefusal> {
    migrate_case(
        &case.engine.workflow,
        1,
        target,
        rules,
        case.state(),
        &Actor::new("Admin", "operator"),
        now,
        &case.engine.calendar,
    )
}

fn migrates_consistently(
    steps: usize,
    gaps: &[u32],
    start_day: i64,
    mutations: &[Mutation],
    keep: bool,
    later_days: i64,
) -> Result<(), TestCaseError> {
    let case = walked(steps, gaps, start_day);
    let source = &case.engine.workflow;
    let (target, rules) = mutate(source, mutations, keep);
    let now = case
        .now
        .checked_add(Span::new().hours(24 * later_days))
        .unwrap();
    let before = case.state().clone();
    let first = migrate(&case, &target, &rules, now);
    // Pure: the dry run and the apply (the same call) cannot disagree.
    prop_assert_eq!(&first, &migrate(&case, &target, &rules, now));
    prop_assert_eq!(case.state(), &before, "the case itself is untouched");
    let migration = match first {
        Err(MigrationRefusal::Closed) => {
            prop_assert!(before.is_closed());
            return Ok(());
        }
        Err(MigrationRefusal::FieldTypeChanged { field, .. }) => {
            prop_assert!(!rules.defaults.contains_key(&field));
            return Ok(());
        }
        Err(other) => return Err(TestCaseError::fail(format!("refused: {other}"))),
        Ok(migration) => migration,
    };
    let state = &migration.outcome.state;
    check_invariants(&target, state)?;
    prop_assert_eq!(state.revision, before.revision + 1);
    prop_assert_eq!(migration.outcome.event.revision, state.revision);
    let recorded = matches!(migration.outcome.event.kind, EventKind::Migrated { .. });
    prop_assert!(recorded);
    prop_assert_eq!(migration.outcome.next_due_at, state.next_due_at());
    let expected_stage = rules.stages.get(&before.stage).unwrap_or(&before.stage);
    prop_assert_eq!(&state.stage, expected_stage);
    // The timer difference is exactly what the store applies.
    let mut timers = before.timers.clone();
    for key in &migration.outcome.cancel {
        timers.remove(key);
    }
    for timer in &migration.outcome.schedule {
        timers.insert(timer.key.clone(), timer.clone());
    }
    prop_assert_eq!(&timers, &state.timers);
    // Nothing of the case's data is lost: a field it no longer carries is in the event.
    for (field, value) in &before.fields {
        let kept = state.fields.get(field) == Some(value)
            || migration.dropped_fields().get(field) == Some(value)
            || migration.defaulted().contains_key(field);
        prop_assert!(kept, "field {} lost", field);
    }
    prop_assert_eq!(&state.documents, &before.documents);
    // Keeping due dates keeps them.
    if keep {
        prop_assert!(migration.moved().is_empty(), "{:?}", migration.moved());
    }
    // The case runs on under the new rules: every timer fires cleanly for two months.
    let engine: &'static Engine = Box::leak(Box::new(Engine {
        workflow: target.clone(),
        calendar: case.engine.calendar.clone(),
    }));
    let mut events = case.events.clone();
    events.push(migration.outcome.event.clone());
    let mut after = Case {
        engine,
        state: Some(state.clone()),
        events,
        now,
        last: None,
    };
    after.advance_to(now.checked_add(Span::new().hours(24 * 60)).unwrap());
    prop_assert_eq!(
        after.state().revision,
        after.events.len() as u64,
        "revision = events"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random states × random new versions: migrated cases keep every invariant.
    #[test]
    fn a_migrated_case_keeps_every_invariant_and_runs_on(
        steps in 0..HAPPY_PATH.len(),
        gaps in proptest::collection::vec(0u32..24 * 40, 0..HAPPY_PATH.len()),
        start_day in 0i64..600,
        mutations in proptest::collection::vec(mutation(), 0..6),
        keep in any::<bool>(),
        later_days in 0i64..120,
    ) {
        migrates_consistently(steps, &gaps, start_day, &mutations, keep, later_days)?;
    }

    /// Onto an identical version, recomputing moves no deadline and sends nothing again.
    #[test]
    fn migrating_onto_the_same_rules_changes_no_deadline_and_resends_nothing(
        steps in 0..HAPPY_PATH.len(),
        gaps in proptest::collection::vec(0u32..24 * 40, 0..HAPPY_PATH.len()),
        start_day in 0i64..600,
        later_days in 0i64..60,
    ) {
        let case = walked(steps, &gaps, start_day);
        prop_assume!(!case.state().is_closed());
        let now = case.now.checked_add(Span::new().hours(24 * later_days)).unwrap();
        let rules = MigrationRules { plan: "sama".into(), to_version: 2, ..MigrationRules::default() };
        let migration = migrate(&case, &case.engine.workflow, &rules, now).unwrap();
        prop_assert!(migration.moved().is_empty(), "{:?}", migration.moved());
        prop_assert!(migration.added.is_empty() && migration.dropped.is_empty());
        let before = case.state();
        let due_before: BTreeMap<_, _> = before.obligations.iter().map(|(k, o)| (k.clone(), (o.due_date, o.overdue))).collect();
        let due_after: BTreeMap<_, _> = migration.outcome.state.obligations.iter().map(|(k, o)| (k.clone(), (o.due_date, o.overdue))).collect();
        prop_assert_eq!(due_before, due_after);
        // What goes out at once was already waiting to go out.
        for timer in &migration.at_once {
            let waiting = before.timers.get(&timer.key).is_some_and(|t| t.due_at <= now);
            prop_assert!(waiting, "{} would go out again", timer.key);
        }
    }
}

/// A renamed stage carries its deadline under the new id; a longer deadline moves, and the
/// notice of the move goes to the people responsible.
#[test]
fn a_renamed_stage_keeps_its_deadline_and_a_longer_one_moves() {
    let case = walked(2, &[1, 1], 30);
    assert_eq!(case.state().stage, "reviu_kak");
    let source = &case.engine.workflow;
    let (mut target, rules) = mutate(source, &[Mutation::RenameStage(0)], false);
    // Rename `reviu_kak` itself.
    let index = target
        .stages
        .iter()
        .position(|s| s.id == "reviu_kak")
        .unwrap();
    let (target_renamed, rules_renamed) = mutate(source, &[Mutation::RenameStage(index)], false);
    let migration = migrate(&case, &target_renamed, &rules_renamed, case.now).unwrap();
    assert_eq!(migration.to_stage(), "reviu_kak_baru");
    assert!(migration.moved().is_empty(), "{:?}", migration.moved());
    let old_due: Vec<_> = case
        .state()
        .obligations
        .values()
        .map(|o| o.due_date)
        .collect();
    let new_due: Vec<_> = migration
        .outcome
        .state
        .obligations
        .values()
        .map(|o| o.due_date)
        .collect();
    assert_eq!(old_due, new_due);
    assert!(
        migration
            .outcome
            .state
            .obligations
            .keys()
            .all(|k| k.starts_with("deadline:reviu_kak_baru:"))
    );
    // Five more working days for the review: the deadline moves by five, and is told.
    let stage = target
        .stages
        .iter_mut()
        .find(|s| s.id == "reviu_kak")
        .unwrap();
    if let Some(deadline) = &mut stage.deadline
        && let Due::After {
            offset: Duration::WorkingDays(n),
            ..
        } = &mut deadline.due
    {
        *n += 5;
    } else {
        panic!("reviu_kak has a relative deadline");
    }
    let migration = migrate(&case, &target, &rules, case.now).unwrap();
    let [moved] = migration.moved() else {
        panic!("{:?}", migration.moved())
    };
    assert_eq!(
        case.engine
            .calendar
            .working_days_between(moved.from, moved.to),
        5
    );
    let notice = &migration.outcome.notifications[0];
    assert_eq!(
        notice.kind,
        swakelola_core::state::NotificationKind::DeadlineMoved
    );
    assert!(!notice.to.is_empty());
}

/// What a plan cannot do is refused, and says what to do.
#[test]
fn a_case_that_cannot_move_is_refused_with_the_reason() {
    let case = walked(0, &[], 10);
    let source = &case.engine.workflow;
    // A stage the new version lacks, unmapped.
    let mut target = source.clone();
    target.stages.retain(|s| s.id != "audiensi");
    let refusal = migrate(&case, &target, &MigrationRules::default(), case.now).unwrap_err();
    assert_eq!(
        refusal,
        MigrationRefusal::StageNotInTarget {
            stage: "audiensi".into()
        }
    );
    // Mapped into a terminal stage.
    let rules = MigrationRules {
        stages: [("audiensi".to_owned(), "selesai".to_owned())].into(),
        ..MigrationRules::default()
    };
    assert_eq!(
        migrate(&case, source, &rules, case.now).unwrap_err().code(),
        "terminal_target"
    );
    // A field whose type changed, without a default; then with one that does not parse.
    let mut retyped = source.clone();
    let field = retyped
        .fields
        .iter_mut()
        .find(|f| f.id == "nama_kegiatan")
        .unwrap();
    field.field_type = FieldType::Integer;
    assert_eq!(
        migrate(&case, &retyped, &MigrationRules::default(), case.now)
            .unwrap_err()
            .code(),
        "field_type_changed"
    );
    let rules = MigrationRules {
        defaults: [("nama_kegiatan".to_owned(), "bukan angka".to_owned())].into(),
        ..MigrationRules::default()
    };
    assert_eq!(
        migrate(&case, &retyped, &rules, case.now)
            .unwrap_err()
            .code(),
        "invalid_default"
    );
    let rules = MigrationRules {
        defaults: [("tidak_ada".to_owned(), "12".to_owned())].into(),
        ..MigrationRules::default()
    };
    assert_eq!(
        migrate(&case, source, &rules, case.now).unwrap_err(),
        MigrationRefusal::UnknownDefault {
            field: "tidak_ada".into()
        }
    );
    let rules = MigrationRules {
        defaults: [("nama_kegiatan".to_owned(), "12".to_owned())].into(),
        ..MigrationRules::default()
    };
    let migration = migrate(&case, &retyped, &rules, case.now).unwrap();
    assert_eq!(
        migration.defaulted()["nama_kegiatan"],
        swakelola_core::FieldValue::Integer(12)
    );
}
