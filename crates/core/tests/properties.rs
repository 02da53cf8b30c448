//! Properties of the step function and the working-day calendar, on random inputs.

mod common;

use common::{Case, engine, seed_fields, wib};
use jiff::civil::Date;
use jiff::{Span, Timestamp};
use proptest::prelude::*;
use swakelola_core::step::{Action, Command, step};
use swakelola_core::{Actor, CaseState};

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
    Wait {
        hours: u32,
    },
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        4 => (0..64usize, 0..16usize, any::<bool>()).prop_map(|(transition, role, comment)| Pick::Fire { transition, role, comment }),
        3 => (0..64usize, 0..16usize).prop_map(|(document, role)| Pick::Attach { document, role }),
        2 => (0..32usize, 0..16usize, 0..8usize).prop_map(|(field, role, value)| Pick::Set { field, role, value }),
        2 => (0..8usize).prop_map(|nth| Pick::Timer { nth }),
        1 => (1..2000u32).prop_map(|hours| Pick::Wait { hours }),
    ]
}

const VALUES: [&str; 8] = [
    "34500000",
    "2025-06-30",
    "2026",
    "apbd",
    "pemilihan",
    "permintaan_kesediaan",
    "",
    "teks",
];

/// Checks what must hold of every state a case can be in.
fn check_invariants(case: &Case, state: &CaseState) {
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
    assert_eq!(state.revision, case.events.len() as u64);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_commands_keep_every_case_consistent(picks in proptest::collection::vec(pick(), 1..60)) {
        let engine = engine("swakelola-tipe-3");
        let workflow = &engine.workflow;
        let mut case = Case::new(engine, wib(2025, 1, 6, 9));
        case.open(seed_fields());
        let roles: Vec<String> = workflow.roles.iter().map(|r| r.id.clone()).chain(["system".into(), "tamu".into()]).collect();
        for pick in picks {
            let role = |i: usize| roles[i % roles.len()].clone();
            let (actor, action) = match pick {
                Pick::Fire { transition, role: r, comment } => {
                    // Favour transitions out of the current stage, but keep some impossible ones.
                    let here: Vec<_> = workflow.transitions_from(&case.state().stage).collect();
                    let id = if transition % 4 != 0 && !here.is_empty() {
                        let t = here[transition % here.len()];
                        (t.id.clone(), t.roles[r % t.roles.len()].clone())
                    } else {
                        (workflow.transitions[transition % workflow.transitions.len()].id.clone(), role(r))
                    };
                    (Actor::new("staf", id.1), Action::Fire { transition: id.0, comment: comment.then(|| "catatan".to_owned()) })
                }
                Pick::Attach { document, role: r } => {
                    let d = &workflow.documents[document % workflow.documents.len()];
                    let role = d.attach_by.get(r % d.attach_by.len().max(1)).cloned().unwrap_or_else(|| role(r));
                    (Actor::new("staf", role), Action::Attach { document_type: d.id.clone(), file_name: "berkas.pdf".into(), sha256: "ab".repeat(32), size: 1 })
                }
                Pick::Set { field, role: r, value } => {
                    let f = &workflow.fields[field % workflow.fields.len()];
                    let role = f.set_by.get(r % f.set_by.len().max(1)).cloned().unwrap_or_else(|| role(r));
                    (Actor::new("staf", role), Action::SetField { field: f.id.clone(), value: VALUES[value].into() })
                }
                Pick::Timer { nth } => {
                    let keys: Vec<String> = case.state().timers.keys().cloned().collect();
                    let key = if keys.is_empty() { "none".to_owned() } else { keys[nth % keys.len()].clone() };
                    (Actor::system(), Action::FireTimer { key })
                }
                Pick::Wait { hours } => {
                    case.now = case.now.checked_add(Span::new().hours(i64::from(hours))).unwrap();
                    continue;
                }
            };
            let before = case.state().clone();
            let events_before = case.events.len();
            let command = Command { actor, action };
            let result = step(workflow, Some(&before), &command, case.now, &engine.calendar);
            // Determinism: the same inputs give the same answer.
            prop_assert_eq!(&result, &step(workflow, Some(&before), &command, case.now, &engine.calendar));
            match result {
                Ok(outcome) => {
                    prop_assert_eq!(outcome.event.revision, before.revision + 1);
                    prop_assert_eq!(outcome.next_due_at, outcome.state.next_due_at());
                    for key in &outcome.cancel {
                        prop_assert!(before.timers.contains_key(key) && !outcome.state.timers.contains_key(key));
                    }
                    for timer in &outcome.schedule {
                        prop_assert_eq!(outcome.state.timers.get(&timer.key), Some(timer));
                    }
                    case.events.push(outcome.event.clone());
                    case.state = Some(outcome.state);
                }
                Err(_) => {
                    // A rejected command changes nothing.
                    prop_assert_eq!(case.state(), &before);
                    prop_assert_eq!(case.events.len(), events_before);
                }
            }
            check_invariants(&case, case.state());
        }
        let revisions: Vec<u64> = case.events.iter().map(|e| e.revision).collect();
        prop_assert_eq!(revisions, (1..=case.events.len() as u64).collect::<Vec<_>>());
    }

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
