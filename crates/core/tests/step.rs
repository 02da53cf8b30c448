//! The step function on the shipped Swakelola Tipe III workflow, with real dates.

mod common;

use common::{Case, HAPPY_PATH, date, engine, seed_fields, wib};
use swakelola_core::state::{
    EventKind, NotificationKind, ObligationSource, TimerEffect, TimerKind,
};
use swakelola_core::step::{GuardFailure, Rejection};

#[test]
fn opening_the_seed_case_schedules_the_audience_deadline_in_working_days() {
    let engine = engine("swakelola-tipe-3");
    // Monday 24 March 2025, 09:00 WIB: ten working days skip the Nyepi and Idul Fitri break.
    let mut case = Case::new(engine, wib(2025, 3, 24, 9));
    let outcome = case.open(seed_fields()).clone();
    assert_eq!(outcome.state.stage, "audiensi");
    assert_eq!(outcome.event.revision, 1);
    let obligation = outcome.state.obligations.values().next().unwrap();
    // 25, 26, 27 Mar; 28 Mar – 7 Apr off; 8, 9, 10, 11, 14, 15, 16 Apr → the tenth is 16 April.
    assert_eq!(obligation.due_date, date("2025-04-16"));
    assert_eq!(obligation.due_at, wib(2025, 4, 17, 0));
    let reminder = outcome
        .schedule
        .iter()
        .find(|t| matches!(t.kind, TimerKind::Reminder { reminder: 0, .. }))
        .unwrap();
    // Two working days before 16 April: 14 April, at 08:00 WIB.
    assert_eq!(reminder.due_at, wib(2025, 4, 14, 8));
    assert_eq!(outcome.next_due_at, Some(wib(2025, 4, 14, 8)));
    assert!(outcome.cancel.is_empty());
}

#[test]
fn a_transition_from_the_wrong_stage_is_refused_with_the_allowed_ones() {
    let engine = engine("swakelola-tipe-3");
    let mut case = Case::new(engine, wib(2025, 3, 24, 9));
    case.open(seed_fields());
    let before = case.state().clone();
    let err = case.fire("ppk", "terima_kak", None).unwrap_err();
    assert_eq!(err.code(), "wrong_stage");
    assert_eq!(
        err.to_string(),
        "cannot fire `terima_kak` from stage `audiensi`; allowed: catat_audiensi, batalkan"
    );
    assert_eq!(case.state(), &before);
}

#[test]
fn roles_documents_comments_and_values_are_checked_and_named() {
    let engine = engine("swakelola-tipe-3");
    let mut case = Case::new(engine, wib(2025, 3, 24, 9));
    case.open(seed_fields());
    let before = case.state().clone();

    let err = case.fire("ppk", "catat_audiensi", None).unwrap_err();
    assert_eq!(err.code(), "role_not_allowed");
    assert!(
        err.to_string()
            .contains("pimpinan_ormas, fasilitator, tim_persiapan"),
        "{err}"
    );

    let err = case.fire("bupati", "catat_audiensi", None).unwrap_err();
    assert_eq!(err.code(), "unknown_role");

    let err = case
        .fire("pimpinan_ormas", "catat_audiensi", None)
        .unwrap_err();
    let Rejection::GuardsNotMet { failures, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(
        failures,
        &[GuardFailure::MissingDocument {
            id: "notulen_audiensi".into(),
            label: "Notulen dan daftar hadir audiensi".into()
        }]
    );
    assert!(err.to_string().contains(
        "document `notulen_audiensi` (Notulen dan daftar hadir audiensi) is not attached"
    ));

    let err = case.fire("ppk", "batalkan", Some("   ")).unwrap_err();
    assert!(
        matches!(&err, Rejection::GuardsNotMet { failures, .. } if failures == &[GuardFailure::CommentRequired])
    );

    let err = case.set("ppk", "pagu", "34.500.000,50").unwrap_err();
    assert_eq!(err.code(), "invalid_field_value");
    let err = case.set("pimpinan_ormas", "pagu", "34500000").unwrap_err();
    assert_eq!(err.code(), "role_not_allowed");
    let err = case.attach("pimpinan_ormas", "sk_tim").unwrap_err();
    assert_eq!(err.code(), "role_not_allowed");
    let err = case.attach("pimpinan_ormas", "foto").unwrap_err();
    assert_eq!(err.code(), "unknown_document_type");
    let err = case.fire("system", "catat_audiensi", None).unwrap_err();
    assert_eq!(err.code(), "role_not_allowed");
    let err = case.fire_timer("audiensi:nothing").unwrap_err();
    assert_eq!(err.code(), "timer_not_pending");

    assert_eq!(case.state(), &before, "rejections change nothing");
}

#[test]
fn attachments_must_name_a_plain_file_with_a_digest() {
    use swakelola_core::step::Action;
    let engine = engine("swakelola-tipe-3");
    let mut case = Case::new(engine, wib(2025, 3, 24, 9));
    case.open(seed_fields());
    for (file_name, sha256, size) in [
        ("../../etc/passwd", "a".repeat(64), 10),
        ("", "a".repeat(64), 10),
        ("kak.pdf", "A".repeat(64), 10),
        ("kak.pdf", "a".repeat(63), 10),
        ("kak.pdf", "a".repeat(64), 0),
    ] {
        let err = case
            .run(
                "pimpinan_ormas",
                Action::Attach {
                    document_type: "kak".into(),
                    file_name: file_name.into(),
                    sha256,
                    size,
                },
            )
            .unwrap_err();
        assert_eq!(err.code(), "invalid_document", "{file_name}");
    }
}

#[test]
fn opening_checks_fields() {
    use swakelola_core::step::Action;
    let engine = engine("swakelola-tipe-3");
    let mut case = Case::new(engine, wib(2025, 3, 24, 9));
    let err = case
        .run(
            "pimpinan_ormas",
            Action::Open {
                fields: seed_fields()[..2].to_vec(),
                parties: Default::default(),
            },
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "these fields are required to open a case: ormas, tahun_anggaran; give them with their values"
    );
    let mut fields = seed_fields();
    fields.push(("tahun_anggaran".into(), "2026".into()));
    assert_eq!(
        case.run(
            "pimpinan_ormas",
            Action::Open {
                fields,
                parties: Default::default(),
            }
        )
        .unwrap_err()
        .code(),
        "duplicate_field"
    );
    let mut fields = seed_fields();
    fields[3].1 = "dua ribu".into();
    assert_eq!(
        case.run(
            "pimpinan_ormas",
            Action::Open {
                fields,
                parties: Default::default(),
            }
        )
        .unwrap_err()
        .code(),
        "invalid_field_value"
    );
    assert!(case.state.is_none());
    case.open(seed_fields());
    assert_eq!(
        case.run(
            "pimpinan_ormas",
            Action::Open {
                fields: seed_fields(),
                parties: Default::default(),
            }
        )
        .unwrap_err(),
        Rejection::AlreadyOpen
    );
}

#[test]
fn the_seed_partnership_runs_from_audience_to_closed() {
    let engine = engine("swakelola-tipe-3");
    let mut case = Case::new(engine, wib(2024, 12, 10, 10));
    case.open(seed_fields());
    for transition in HAPPY_PATH {
        case.force(transition);
    }
    let state = case.state();
    assert_eq!(state.stage, "selesai");
    assert!(state.is_closed());
    assert!(state.timers.is_empty() && state.obligations.is_empty());
    assert_eq!(state.fields["pagu"].to_string(), "Rp34.500.000");
    let revisions: Vec<u64> = case.events.iter().map(|e| e.revision).collect();
    assert_eq!(
        revisions,
        (1..=case.events.len() as u64).collect::<Vec<_>>()
    );
    assert_eq!(state.revision, case.events.len() as u64);
    let err = case.fire("ppk", "batalkan", Some("terlambat")).unwrap_err();
    assert_eq!(err.code(), "case_closed");
}

#[test]
fn the_30_november_budget_deadline_moves_a_late_case_to_the_revision_budget() {
    let engine = engine("swakelola-tipe-3");
    // The seed case: audience and KAK in December 2024, after the 2025 APBD was approved.
    let mut case = Case::new(engine, wib(2024, 12, 10, 10));
    case.open(seed_fields());
    for transition in &HAPPY_PATH[..4] {
        case.force(transition);
    }
    assert_eq!(case.state().stage, "penganggaran");
    // 30 November 2024 has passed and no later window is left: the deadline is due at once,
    // with no reminder or escalation scheduled — only the routing timer.
    let obligation = case.state().obligations.values().next().unwrap().clone();
    assert_eq!(obligation.due_date, date("2024-11-30"));
    assert_eq!(case.state().next_due_at(), Some(wib(2024, 12, 1, 0)));
    let timers: Vec<&String> = case.state().timers.keys().collect();
    assert_eq!(
        timers,
        ["deadline:penganggaran:11:due"],
        "only the routing timer"
    );
    let fired = case.advance_to(case.now);
    assert_eq!(fired, ["deadline:penganggaran:11:due"]);
    // It says why, as a late entry, not as someone's overdue work.
    let kinds: Vec<NotificationKind> = case
        .last
        .as_ref()
        .unwrap()
        .notifications
        .iter()
        .map(|n| n.kind)
        .collect();
    assert!(kinds.contains(&NotificationKind::LateEntry), "{kinds:?}");
    assert!(!kinds.contains(&NotificationKind::Overdue), "{kinds:?}");
    assert_eq!(case.state().stage, "penganggaran_perubahan");
    let expired = case
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::TimerFired {
                effect: TimerEffect::Expired { transition, .. },
                ..
            } => Some(transition.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(expired, "alihkan_ke_apbd_perubahan");
    // The revised budget is due by 30 September of the fiscal year.
    let obligation = case.state().obligations.values().next().unwrap();
    assert_eq!(obligation.due_date, date("2025-09-30"));
}

#[test]
fn monthly_progress_reports_fall_due_after_each_month_and_stop_when_met() {
    let engine = engine("swakelola-tipe-3");
    let mut case = Case::new(engine, wib(2025, 3, 10, 9));
    case.open(seed_fields());
    for transition in &HAPPY_PATH[..13] {
        case.force(transition);
    }
    assert_eq!(case.state().stage, "pelaksanaan");
    let report = |case: &Case| {
        case.state()
            .obligations
            .values()
            .filter(|o| matches!(o.source, ObligationSource::Recurring { .. }))
            .cloned()
            .collect::<Vec<_>>()
    };
    let march = report(&case);
    assert_eq!(march.len(), 1);
    // March ends on 31 March (Idul Fitri); five working days later, past the collective
    // leave of 2–7 April: 8, 9, 10, 11, 14 April.
    assert_eq!(march[0].due_date, date("2025-04-14"));

    // 1 April 00:00 WIB opens April's report.
    case.advance_to(wib(2025, 4, 1, 0));
    let open = report(&case);
    assert_eq!(open.len(), 2);
    assert_eq!(
        open[1].due_date,
        date("2025-05-08"),
        "April ends 30 Apr; 2, 5, 6, 7, 8 May"
    );

    // Reminder two working days before 14 April (10 April), then due, then overdue reminders.
    let fired = case.advance_to(wib(2025, 4, 10, 8));
    assert!(
        fired.iter().any(|k| k.contains(":reminder:0:0")),
        "{fired:?}"
    );
    let reminder = case.last.as_ref().unwrap().notifications[0].clone();
    assert_eq!(reminder.kind, NotificationKind::Reminder);
    assert_eq!(reminder.to, ["tim_pelaksana", "pimpinan_ormas"]);

    case.advance_to(wib(2025, 4, 15, 0));
    assert!(report(&case)[0].overdue);
    // Overdue reminders every two working days: 16 April 08:00.
    let fired = case.advance_to(wib(2025, 4, 16, 8));
    assert!(
        fired.iter().any(|k| k.contains(":reminder:2:0")),
        "{fired:?}"
    );
    assert_eq!(
        case.last.as_ref().unwrap().notifications[0].kind,
        NotificationKind::OverdueReminder
    );
    let next_repeat: Vec<_> = case
        .state()
        .timers
        .keys()
        .filter(|k| k.contains(":reminder:2:1"))
        .cloned()
        .collect();
    assert_eq!(next_repeat.len(), 1);
    assert_eq!(
        case.state().timers[&next_repeat[0]].due_at,
        wib(2025, 4, 21, 8),
        "18 April is Good Friday"
    );

    // Attaching the report meets March (the earliest open period) and cancels its timers.
    let march_key = march[0].key.clone();
    let outcome = case
        .attach("tim_pelaksana", "laporan_kemajuan")
        .unwrap()
        .clone();
    let EventKind::DocumentAttached { met, .. } = &outcome.event.kind else {
        panic!()
    };
    assert_eq!(met, std::slice::from_ref(&march_key));
    assert!(outcome.cancel.iter().any(|k| k.starts_with(&march_key)));
    assert!(
        case.state()
            .timers
            .values()
            .all(|t| !t.key.starts_with(&march_key))
    );
    assert_eq!(report(&case).len(), 1);

    // Leaving the stage cancels everything that belonged to it.
    let pending: Vec<String> = case.state().timers.keys().cloned().collect();
    case.attach("pimpinan_ormas", "laporan_awal").unwrap();
    let outcome = case
        .fire("pimpinan_ormas", "serahkan_hasil", None)
        .unwrap()
        .clone();
    for key in pending {
        assert!(outcome.cancel.contains(&key), "{key} not cancelled");
    }
    assert!(
        case.state()
            .obligations
            .values()
            .all(|o| matches!(o.source, ObligationSource::StageDeadline { .. }))
    );
}

#[test]
fn a_timer_fires_once_and_not_before_it_is_due() {
    let engine = engine("persetujuan-dokumen");
    let mut case = Case::new(engine, wib(2025, 3, 24, 9));
    case.open(vec![("judul".into(), "Laporan".into())]);
    let (key, due_at) = {
        let timer = case
            .state()
            .timers
            .values()
            .min_by_key(|t| t.due_at)
            .unwrap();
        (timer.key.clone(), timer.due_at)
    };
    let err = case.fire_timer(&key).unwrap_err();
    assert!(matches!(err, Rejection::TimerNotDue { .. }), "{err}");
    case.now = due_at;
    case.fire_timer(&key).unwrap();
    let err = case.fire_timer(&key).unwrap_err();
    assert_eq!(err, Rejection::TimerNotPending { key });
}

#[test]
fn escalations_go_to_their_roles_after_the_deadline() {
    let engine = engine("persetujuan-dokumen");
    // Friday 21 March 2025: review due 3 working days later = 26 March; escalation 2 working
    // days after that = 28 March is collective leave, so 8 April.
    let mut case = Case::new(engine, wib(2025, 3, 21, 9));
    case.open(vec![("judul".into(), "Laporan".into())]);
    case.attach("penyusun", "draf").unwrap();
    case.fire("penyusun", "ajukan", None).unwrap();
    assert_eq!(
        case.last.as_ref().unwrap().notifications[0].kind,
        NotificationKind::Transitioned
    );
    let escalation = case
        .state()
        .timers
        .values()
        .find(|t| matches!(t.kind, TimerKind::Escalation { .. }))
        .unwrap()
        .clone();
    assert_eq!(escalation.due_at, wib(2025, 4, 8, 8));
    case.advance_to(escalation.due_at);
    let notification = &case.last.as_ref().unwrap().notifications[0];
    assert_eq!(notification.kind, NotificationKind::Escalation);
    assert_eq!(notification.to, ["penyusun"]);
}

#[test]
fn moving_the_contract_end_date_moves_the_implementation_deadline() {
    let engine = engine("swakelola-tipe-3");
    let mut case = Case::new(engine, wib(2025, 3, 10, 9));
    case.open(seed_fields());
    for transition in &HAPPY_PATH[..13] {
        case.force(transition);
    }
    let deadline = |case: &Case| {
        case.state()
            .obligations
            .values()
            .find(|o| matches!(o.source, ObligationSource::StageDeadline { .. }))
            .unwrap()
            .due_date
    };
    assert_eq!(deadline(&case), date("2025-06-10"));
    let outcome = case
        .set("ppk", "tanggal_selesai", "2025-08-29")
        .unwrap()
        .clone();
    assert_eq!(deadline(&case), date("2025-08-29"));
    // Same keys, new instants: the timers are rescheduled, none is cancelled.
    let due = outcome
        .schedule
        .iter()
        .find(|t| t.key.ends_with(":due") && t.key.starts_with("deadline:"))
        .unwrap();
    assert_eq!(due.due_at, wib(2025, 8, 30, 0));
    assert!(outcome.cancel.is_empty(), "{:?}", outcome.cancel);
}

#[test]
fn the_same_inputs_give_the_same_outcome() {
    let engine = engine("swakelola-tipe-3");
    let run = || {
        let mut case = Case::new(engine, wib(2025, 1, 6, 9));
        case.open(seed_fields());
        for transition in &HAPPY_PATH[..6] {
            case.force(transition);
        }
        (case.state().clone(), case.events.clone())
    };
    assert_eq!(run(), run());
}

/// A deadline counted in working days into a year the calendar has no holidays for is
/// provisional (weekends only there), never silently final; one inside covered years is not.
#[test]
fn deadlines_counted_through_an_uncovered_year_are_provisional() {
    let engine = engine("persetujuan-dokumen");
    let open = |now| {
        let mut case = Case::new(engine, now);
        case.open(vec![("judul".into(), "Laporan".into())]);
        case.state().obligations.values().next().unwrap().clone()
    };
    // 5 working days after 28 December 2026 run into 2027, which no shipped file covers (1
    // January 2027 counts as a working day there, although it will surely be a holiday).
    let late = open(wib(2026, 12, 28, 9));
    assert!(late.due_date.year() == 2027, "{late:?}");
    assert!(late.provisional, "{late:?}");
    // Inside 2026 the count is final, even with reminders and escalations reaching 2027.
    let early = open(wib(2026, 12, 21, 9));
    assert_eq!(early.due_date, date("2026-12-30"));
    assert!(!early.provisional, "{early:?}");
}

#[test]
fn rules_refuse_money_and_dates_that_break_them_and_hold_while_a_side_is_unset() {
    let engine = engine("swakelola-tipe-3");
    let mut case = Case::new(engine, wib(2025, 3, 24, 9));
    case.open(seed_fields());
    // Nothing to compare with yet: a contract value without a pagu is accepted.
    case.set("ppk", "nilai_kontrak", "Rp50.000.000").unwrap();
    // Now the pagu would make the contract exceed it: refused, nothing changed.
    let before = case.state().clone();
    let err = case.set("ppk", "pagu", "Rp34.500.000").unwrap_err();
    match &err {
        Rejection::RuleBroken { rule, condition } => {
            assert_eq!(rule, "kontrak_dalam_pagu");
            assert_eq!(condition.field, "nilai_kontrak");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(case.state(), &before);
    case.set("ppk", "nilai_kontrak", "Rp34.500.000").unwrap();
    case.set("ppk", "pagu", "Rp34.500.000").unwrap();
    // Above the ceiling, and a realisation above the contract: refused.
    assert!(matches!(
        case.set("ppk", "nilai_kontrak", "Rp34.500.001"),
        Err(Rejection::RuleBroken { .. })
    ));
    assert!(matches!(
        case.set("ppk", "nilai_realisasi", "Rp35.000.000"),
        Err(Rejection::RuleBroken { rule, .. }) if rule == "realisasi_dalam_kontrak"
    ));
    case.set("ppk", "nilai_realisasi", "Rp34.000.000").unwrap();
    // Dates: the end before the start, or after 31 December of the fiscal year (2025).
    case.set("ppk", "tanggal_kontrak", "2025-03-24").unwrap();
    assert!(matches!(
        case.set("ppk", "tanggal_selesai", "2025-03-01"),
        Err(Rejection::RuleBroken { rule, .. }) if rule == "selesai_setelah_kontrak"
    ));
    assert!(matches!(
        case.set("ppk", "tanggal_selesai", "2026-01-05"),
        Err(Rejection::RuleBroken { rule, .. }) if rule == "selesai_dalam_tahun_anggaran"
    ));
    case.set("ppk", "tanggal_selesai", "2025-12-31").unwrap();
    // Moving the fiscal year back would leave the dates outside it: refused too.
    let err = case.set("ppk", "tahun_anggaran", "2024").unwrap_err();
    assert!(matches!(err, Rejection::RuleBroken { .. }), "{err:?}");
    assert_eq!(err.code(), "rule_broken");
}

#[test]
fn a_case_cannot_be_opened_with_values_that_break_a_rule() {
    let engine = engine("swakelola-tipe-3");
    let mut fields = seed_fields();
    fields.push(("pagu".into(), "Rp34.500.000".into()));
    fields.push(("nilai_kontrak".into(), "Rp50.000.000".into()));
    let command = swakelola_core::step::Command {
        actor: swakelola_core::Actor::new("Budi", "ppk"),
        action: swakelola_core::step::Action::Open {
            fields,
            parties: Default::default(),
        },
    };
    let err = swakelola_core::step::step(
        &engine.workflow,
        None,
        &command,
        wib(2025, 3, 24, 9),
        &engine.calendar,
    )
    .unwrap_err();
    assert!(matches!(err, Rejection::RuleBroken { .. }), "{err:?}");
}

#[test]
fn a_joint_sign_off_fires_with_the_last_approval_and_a_decline_resets_it() {
    let engine = engine("swakelola-tipe-3");
    let mut case = Case::new(engine, wib(2025, 3, 24, 9));
    case.open(seed_fields());
    for transition in &HAPPY_PATH[..HAPPY_PATH
        .iter()
        .position(|t| *t == "tandatangani_kontrak")
        .unwrap()]
    {
        case.force(transition);
    }
    // Meet the contract's guards, then let the PPK sign.
    case.attach("ppk", "kontrak").unwrap();
    for (field, value) in [
        ("nomor_kontrak", "027/KTR/DP3A/2025"),
        ("nilai_kontrak", "34500000"),
        ("tanggal_kontrak", "2025-07-01"),
        ("tanggal_selesai", "2025-11-28"),
    ] {
        case.set("ppk", field, value).unwrap();
    }
    // A role outside the sign-off may not approve.
    assert!(matches!(
        case.fire("tim_pelaksana", "tandatangani_kontrak", None),
        Err(Rejection::RoleNotAllowed { .. })
    ));
    let approved = case
        .fire("ppk", "tandatangani_kontrak", Some("Sudah saya teken"))
        .unwrap();
    match &approved.event.kind {
        EventKind::Approved { outstanding, .. } => assert_eq!(outstanding, &["pimpinan_ormas"]),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        case.state().stage,
        "penyusunan_kontrak",
        "not yet in effect"
    );
    // The same role twice is refused and changes nothing.
    let before = case.state().clone();
    assert!(matches!(
        case.fire("ppk", "tandatangani_kontrak", None),
        Err(Rejection::AlreadyApproved { .. })
    ));
    assert_eq!(case.state(), &before);
    // A decline needs a reason, and clears the approvals given.
    assert!(
        case.decline("pimpinan_ormas", "tandatangani_kontrak", " ")
            .is_err()
    );
    let declined = case
        .decline(
            "pimpinan_ormas",
            "tandatangani_kontrak",
            "Nilai belum sesuai RAB",
        )
        .unwrap();
    match &declined.event.kind {
        EventKind::Declined { cleared, .. } => assert_eq!(cleared, &["ppk"]),
        other => panic!("{other:?}"),
    }
    assert!(case.state().approvals.is_empty());
    // A transition of one role cannot be declined.
    assert!(matches!(
        case.decline("ppk", "batalkan", "x"),
        Err(Rejection::NotJoint { .. })
    ));
    // Both sign again: the second approval fires the transition, naming both.
    case.fire("pimpinan_ormas", "tandatangani_kontrak", None)
        .unwrap();
    let fired = case.fire("ppk", "tandatangani_kontrak", None).unwrap();
    match &fired.event.kind {
        EventKind::Transitioned {
            to, approved_by, ..
        } => {
            assert_eq!(to, "pelaksanaan");
            assert_eq!(approved_by, &["ppk", "pimpinan_ormas"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(case.state().approvals.is_empty(), "cleared with the stage");
}

/// A memorandum every organisation of a coalition signs, beside the agency's head: each
/// member signs once for its organisation, the last signature fires it, a withdrawn member's
/// signature no longer counts, and one who is not a member cannot sign.
#[test]
fn every_member_of_a_coalition_signs_before_the_memorandum_takes_effect() {
    use swakelola_core::step::{Action, Command, step};
    use swakelola_core::{Actor, EventKind};
    let yaml = r#"
id: koalisi
label: Koalisi
calendar: indonesia
parties:
  - { id: instansi, label: Instansi }
  - { id: ormas, label: Ormas, members_by: [kepala] }
roles:
  - { id: kepala, label: Kepala Dinas, party: instansi }
  - { id: pimpinan, label: Pimpinan Ormas, party: ormas }
stages:
  - { id: mou, label: MoU, initial: true, deadline: { after: 10 working days } }
  - { id: berlaku, label: Berlaku, terminal: true }
transitions:
  - id: tandatangani
    label: Tandatangani
    from: [mou]
    to: berlaku
    roles: [kepala, pimpinan]
    requires_all: [kepala]
    requires_each_member_of: ormas
"#;
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../workflows/calendars");
    let calendars: Vec<_> = ["indonesia-2025.yaml"]
        .iter()
        .map(|f| swakelola_definition::CalendarFile {
            file: (*f).into(),
            text: std::fs::read_to_string(dir.join(f)).unwrap(),
        })
        .collect();
    let bundle =
        swakelola_definition::load_sources(&[("koalisi.yaml".into(), yaml.into())], &calendars);
    assert!(!bundle.has_errors(), "{:?}", bundle.diagnostics);
    let workflow = &bundle.workflows[0].workflow;
    let calendar = &bundle.calendars["indonesia"];
    let now = wib(2025, 3, 24, 9);
    let act = |state: Option<&swakelola_core::CaseState>, actor: Actor, action: Action| {
        step(workflow, state, &Command { actor, action }, now, calendar)
    };
    let head = |org: &str| Actor::new(format!("Pimpinan {org}"), "pimpinan").for_organisation(org);
    let sign = Action::Fire {
        transition: "tandatangani".into(),
        comment: None,
    };
    let mut state = act(
        None,
        Actor::new("Kepala", "kepala"),
        Action::Open {
            fields: Vec::new(),
            parties: [
                ("instansi".to_owned(), vec!["dinas".to_owned()]),
                (
                    "ormas".to_owned(),
                    vec![
                        "yayasan-a".to_owned(),
                        "perkumpulan-b".to_owned(),
                        "lbh-c".to_owned(),
                    ],
                ),
            ]
            .into_iter()
            .collect(),
        },
    )
    .unwrap()
    .state;
    // Signatures in any order; each one recorded, none fires it early.
    for actor in [
        head("perkumpulan-b"),
        Actor::new("Kepala", "kepala"),
        head("yayasan-a"),
    ] {
        let outcome = act(Some(&state), actor, sign.clone()).unwrap();
        let EventKind::Approved { outstanding, .. } = &outcome.event.kind else {
            panic!("fired early: {:?}", outcome.event.kind);
        };
        assert!(
            outstanding.contains(&"@lbh-c".to_owned()),
            "{outstanding:?}"
        );
        state = outcome.state;
    }
    // The same member twice, a member without its organisation, a stranger: refused.
    for (actor, code) in [
        (head("yayasan-a"), "already_approved"),
        (Actor::new("Seseorang", "pimpinan"), "organisation_needed"),
        (head("org-lain"), "not_a_signer"),
    ] {
        assert_eq!(
            act(Some(&state), actor, sign.clone()).unwrap_err().code(),
            code
        );
    }
    // A member withdrawn takes its signature with it; the coalition then needs one fewer.
    let withdrawn = act(
        Some(&state),
        Actor::new("Kepala", "kepala"),
        Action::WithdrawMember {
            party: "ormas".into(),
            organisation: "perkumpulan-b".into(),
            reason: "mengundurkan diri".into(),
        },
    )
    .unwrap()
    .state;
    assert!(!withdrawn.approvals["tandatangani"].contains_key("@perkumpulan-b"));
    let last = act(Some(&withdrawn), head("lbh-c"), sign.clone()).unwrap();
    match &last.event.kind {
        EventKind::Transitioned { approved_by, .. } => assert_eq!(
            approved_by,
            &["kepala", "@yayasan-a", "@lbh-c"]
                .map(String::from)
                .to_vec()
        ),
        other => panic!("expected the memorandum to take effect, got {other:?}"),
    }
    assert_eq!(last.state.stage, "berlaku");
}

/// Nobody reads a notice sent on a Saturday: a reminder ahead of a deadline that falls on a
/// day off comes on the working day before, an escalation after it on the working day after.
#[test]
fn notices_that_fall_on_a_day_off_move_to_a_working_day() {
    use swakelola_core::state::TimerKind;
    use swakelola_core::step::{Action, Command, step};
    let yaml = r#"
id: akhir-pekan
label: Akhir pekan
calendar: indonesia
notify_at: "08:00"
roles:
  - { id: staf, label: Staf }
stages:
  - id: kerja
    label: Kerja
    initial: true
    deadline:
      after: 7 days
      reminders:
        - before: 2 days
      escalate:
        - after: 5 days
          to: [staf]
  - { id: selesai, label: Selesai, terminal: true }
transitions:
  - { id: selesaikan, label: Selesaikan, from: [kerja], to: selesai, roles: [staf] }
"#;
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../workflows/calendars");
    let calendars = vec![swakelola_definition::CalendarFile {
        file: "indonesia-2025.yaml".into(),
        text: std::fs::read_to_string(dir.join("indonesia-2025.yaml")).unwrap(),
    }];
    let bundle =
        swakelola_definition::load_sources(&[("akhir-pekan.yaml".into(), yaml.into())], &calendars);
    assert!(!bundle.has_errors(), "{:?}", bundle.diagnostics);
    let workflow = &bundle.workflows[0].workflow;
    let calendar = &bundle.calendars["indonesia"];
    // Opened Monday 10 March 2025: due Monday 17 March.
    let opened = step(
        workflow,
        None,
        &Command {
            actor: swakelola_core::Actor::new("Staf", "staf"),
            action: Action::Open {
                fields: Vec::new(),
                parties: Default::default(),
            },
        },
        wib(2025, 3, 10, 9),
        calendar,
    )
    .unwrap();
    let at = |kind: &str| {
        opened
            .state
            .timers
            .values()
            .find(|t| {
                matches!(
                    (&t.kind, kind),
                    (TimerKind::Reminder { .. }, "reminder")
                        | (TimerKind::Escalation { .. }, "escalation")
                )
            })
            .map(|t| t.due_at)
            .unwrap()
    };
    // Two days before is Saturday 15 March: the reminder comes on Friday 14 March.
    assert_eq!(at("reminder"), wib(2025, 3, 14, 8));
    // Five days after is Saturday 22 March: the escalation comes on Monday 24 March.
    assert_eq!(at("escalation"), wib(2025, 3, 24, 8));
}

/// A contract is terminated only after a written warning: the termination letter alone does
/// not do.
#[test]
fn termination_needs_a_prior_warning_letter() {
    let mut case = Case::new(engine("swakelola-tipe-3"), wib(2024, 12, 10, 9));
    case.open(seed_fields());
    for transition in HAPPY_PATH.iter().take_while(|t| **t != "serahkan_hasil") {
        case.force(transition);
    }
    assert_eq!(case.state().stage, "pelaksanaan");
    case.attach("ppk", "surat_pemutusan").unwrap();
    let refused = case
        .fire("ppk", "putus_kontrak", Some("Tidak ada kemajuan"))
        .unwrap_err();
    assert!(
        matches!(&refused, Rejection::GuardsNotMet { failures, .. }
            if failures == &[GuardFailure::MissingDocument { id: "surat_peringatan".into(), label: "Surat peringatan".into() }]),
        "{refused:?}"
    );
    case.attach("ppk", "surat_peringatan").unwrap();
    case.fire(
        "ppk",
        "putus_kontrak",
        Some("Tidak ada kemajuan setelah peringatan"),
    )
    .unwrap();
    assert_eq!(case.state().stage, "diputus");
}

/// On the selection route the chosen Ormas is designated only once its legal file and its
/// willingness statement are in, as on the direct route.
#[test]
fn the_selection_route_checks_the_chosen_ormas_legal_file_before_designation() {
    let mut case = Case::new(engine("swakelola-tipe-3"), wib(2024, 12, 10, 9));
    case.open(seed_fields());
    for transition in HAPPY_PATH
        .iter()
        .take_while(|t| **t != "kirim_permintaan_kesediaan")
    {
        case.force(transition);
    }
    case.set("pa_kpa", "rute_penetapan", "pemilihan").unwrap();
    case.force("undang_pemilihan");
    assert_eq!(case.state().stage, "pemilihan_ormas");
    case.attach("pimpinan_ormas", "portofolio").unwrap();
    case.attach("tim_persiapan", "berita_acara_evaluasi")
        .unwrap();
    let refused = case.fire("ppk", "selesaikan_evaluasi", None).unwrap_err();
    let Rejection::GuardsNotMet { failures, .. } = &refused else {
        panic!("{refused:?}");
    };
    let missing: Vec<&str> = failures
        .iter()
        .filter_map(|f| match f {
            GuardFailure::MissingDocument { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(missing, ["legalitas_ormas", "pernyataan_kesediaan"]);
    case.attach("pimpinan_ormas", "legalitas_ormas").unwrap();
    case.attach("pimpinan_ormas", "pernyataan_kesediaan")
        .unwrap();
    case.fire("ppk", "selesaikan_evaluasi", None).unwrap();
    assert_eq!(case.state().stage, "penetapan_ormas");
}

#[test]
fn a_stage_begun_after_its_budget_day_is_routed_once_and_never_escalated() {
    let engine = engine("swakelola-tipe-3");
    // Tuesday 10 December 2024: the main 2025 budget's KAK day (31 August 2024) has passed.
    let mut case = Case::new(engine, wib(2024, 12, 10, 10));
    case.open(seed_fields());
    case.force("catat_audiensi");
    let told: Vec<_> = case.last.as_ref().unwrap().notifications.iter().collect();
    let late: Vec<_> = told
        .iter()
        .filter(|n| n.kind == NotificationKind::LateEntry)
        .collect();
    assert_eq!(late.len(), 1, "{told:?}");
    let kak = &case.state().obligations["deadline:penyusunan_kak:3"];
    // The revised budget's window counts instead, with its ordinary follow-up.
    assert_eq!(kak.due_date, date("2025-06-30"));
    assert_eq!(kak.passed_at_entry, Some(date("2024-08-31")));
    assert_eq!(late[0].obligation.as_ref(), Some(kak));
    // A calendar change recomputes deadlines: the window stays the window (it used to fall
    // back to the passed day, overdue and escalated).
    let recomputed = case.run(
        "system",
        swakelola_core::step::Action::RecomputeDeadlines {
            reason: "kalender diperbarui".into(),
        },
    );
    assert_eq!(recomputed.unwrap_err().code(), "nothing_to_recompute");
    assert_eq!(
        case.state().obligations["deadline:penyusunan_kak:3"].due_date,
        date("2025-06-30")
    );
    // Nothing fires before that window's own reminders in May.
    assert!(case.advance_to(wib(2025, 5, 1, 0)).is_empty());
}

#[test]
fn deadlines_after_the_contract_end_within_the_fiscal_year() {
    let engine = engine("swakelola-tipe-3");
    let mut case = Case::new(engine, wib(2025, 3, 24, 9));
    case.open(seed_fields());
    for transition in HAPPY_PATH
        .iter()
        .take_while(|t| **t != "ajukan_laporan_akhir")
    {
        case.force(transition);
    }
    // The reports arrive on Monday 22 December 2025: ten working days later would be in
    // January 2026, past the fiscal year; the verification is due on its last working day.
    case.now = wib(2025, 12, 22, 10);
    case.force("ajukan_laporan_akhir");
    let verification = case
        .state()
        .obligations
        .values()
        .find(|o| o.key.starts_with("deadline:verifikasi_laporan"))
        .unwrap();
    assert_eq!(verification.due_date, date("2025-12-31"));
}
