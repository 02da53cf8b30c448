//! How fast definitions load and cases step.
//!
//! `cargo bench -p swakelola-definition` — divan prints the time per operation; ops/s is its
//! inverse. Baselines measured in the same run: parsing the same YAML into an untyped value
//! (`parse_only`) and cloning a case state (`clone_state`), the floor any step pays.

use std::path::PathBuf;

use jiff::Timestamp;
use swakelola_core::step::{Action, Command, step};
use swakelola_core::{Actor, Calendar, CaseState, Workflow};
use swakelola_definition::{CalendarFile, load_sources};

fn main() {
    divan::main();
}

fn workflows_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../workflows")
}

fn shipped_text() -> String {
    std::fs::read_to_string(workflows_dir().join("swakelola-tipe-3.yaml")).unwrap()
}

fn calendars() -> Vec<CalendarFile> {
    ["indonesia-2025.yaml", "indonesia-2026.yaml"]
        .into_iter()
        .map(|name| CalendarFile {
            file: name.into(),
            text: std::fs::read_to_string(workflows_dir().join("calendars").join(name)).unwrap(),
        })
        .collect()
}

/// Parse + validate of the shipped Swakelola Tipe III workflow and its two calendars.
#[divan::bench]
fn parse_and_validate_shipped_workflow(bencher: divan::Bencher) {
    let text = shipped_text();
    let calendars = calendars();
    let workflows = [("swakelola-tipe-3.yaml".to_owned(), text)];
    bencher.bench(|| {
        let bundle = load_sources(divan::black_box(&workflows), &calendars);
        assert!(!bundle.has_errors());
        bundle
    });
}

/// Baseline: the YAML parser alone over the same text, into an untyped value.
#[divan::bench]
fn parse_only_baseline(bencher: divan::Bencher) {
    let text = shipped_text();
    bencher.bench(|| {
        serde_saphyr::from_str::<serde::de::IgnoredAny>(divan::black_box(&text)).unwrap()
    });
}

struct Setup {
    workflow: Workflow,
    calendar: Calendar,
    opened: CaseState,
}

fn setup() -> Setup {
    let text = shipped_text();
    let bundle = load_sources(&[("swakelola-tipe-3.yaml".into(), text)], &calendars());
    let workflow = bundle.workflows[0].workflow.clone();
    let calendar = bundle.calendars["indonesia"].clone();
    let opened = step(&workflow, None, &open_command(), now(), &calendar)
        .unwrap()
        .state;
    Setup {
        workflow,
        calendar,
        opened,
    }
}

fn now() -> Timestamp {
    "2025-03-24T02:00:00Z".parse().unwrap()
}

fn open_command() -> Command {
    Command {
        actor: Actor::new("Siti", "pimpinan_ormas"),
        action: Action::Open {
            fields: vec![
                ("nama_kegiatan".into(), "Pendampingan korban".into()),
                ("instansi".into(), "DP3A Kota Palembang".into()),
                ("ormas".into(), "Yayasan Intan Maharani".into()),
                ("tahun_anggaran".into(), "2025".into()),
            ],
            parties: Default::default(),
        },
    }
}

/// Opening a case: parse fields, enter the initial stage, schedule its timers.
#[divan::bench]
fn step_open_case(bencher: divan::Bencher) {
    let s = setup();
    let command = open_command();
    bencher.bench(|| {
        step(
            &s.workflow,
            None,
            divan::black_box(&command),
            now(),
            &s.calendar,
        )
        .unwrap()
    });
}

/// Attaching a document (metadata only).
#[divan::bench]
fn step_attach_document(bencher: divan::Bencher) {
    let s = setup();
    let command = Command {
        actor: Actor::new("Siti", "fasilitator"),
        action: Action::Attach {
            document_type: "notulen_audiensi".into(),
            file_name: "notulen.pdf".into(),
            sha256: "ab".repeat(32),
            size: 2048,
        },
    };
    bencher.bench(|| {
        step(
            &s.workflow,
            Some(&s.opened),
            divan::black_box(&command),
            now(),
            &s.calendar,
        )
        .unwrap()
    });
}

/// Firing a transition: guards, leaving a stage, entering the next with its deadline.
#[divan::bench]
fn step_fire_transition(bencher: divan::Bencher) {
    let s = setup();
    let attach = Command {
        actor: Actor::new("Siti", "fasilitator"),
        action: Action::Attach {
            document_type: "notulen_audiensi".into(),
            file_name: "notulen.pdf".into(),
            sha256: "ab".repeat(32),
            size: 2048,
        },
    };
    let ready = step(&s.workflow, Some(&s.opened), &attach, now(), &s.calendar)
        .unwrap()
        .state;
    let fire = Command {
        actor: Actor::new("Siti", "pimpinan_ormas"),
        action: Action::Fire {
            transition: "catat_audiensi".into(),
            comment: None,
        },
    };
    bencher.bench(|| {
        step(
            &s.workflow,
            Some(&ready),
            divan::black_box(&fire),
            now(),
            &s.calendar,
        )
        .unwrap()
    });
}

/// A rejected command (wrong stage): the cheapest path through `step`.
#[divan::bench]
fn step_rejected_command(bencher: divan::Bencher) {
    let s = setup();
    let command = Command {
        actor: Actor::new("Budi", "ppk"),
        action: Action::Fire {
            transition: "terima_kak".into(),
            comment: None,
        },
    };
    bencher.bench(|| {
        step(
            &s.workflow,
            Some(&s.opened),
            divan::black_box(&command),
            now(),
            &s.calendar,
        )
        .unwrap_err()
    });
}

/// Baseline: cloning the opened case's state, which every accepted step does once.
#[divan::bench]
fn clone_state_baseline(bencher: divan::Bencher) {
    let s = setup();
    bencher.bench(|| divan::black_box(&s.opened).clone());
}

/// The opened case moved to the contract stage, its contract complete, the PPK's signature
/// given, and `payments` termin payments recorded (their sum within the contract value).
fn contract_awaiting_the_ormas(s: &Setup, payments: usize) -> CaseState {
    use std::collections::BTreeMap;
    use swakelola_core::FieldValue;
    use swakelola_core::state::{Approval, DocumentRecord, RecordTotals};
    let mut state = s.opened.clone();
    state.stage = "penyusunan_kontrak".into();
    for (field, value) in [
        (
            "nomor_kontrak",
            FieldValue::Text("027/KTR/DP3A/2025".into()),
        ),
        ("nilai_kontrak", FieldValue::Rupiah(34_500_000)),
        ("pagu", FieldValue::Rupiah(34_500_000)),
        (
            "tanggal_kontrak",
            FieldValue::Date("2025-07-01".parse().unwrap()),
        ),
        (
            "tanggal_selesai",
            FieldValue::Date("2025-11-28".parse().unwrap()),
        ),
    ] {
        state.fields.insert(field.into(), value);
    }
    state.documents.push(DocumentRecord {
        document_type: "kontrak".into(),
        file_name: "kontrak.pdf".into(),
        sha256: "ab".repeat(32),
        size: 2048,
        attached_at: now(),
        attached_by: Actor::new("Budi", "ppk"),
    });
    let mut totals = RecordTotals::default();
    for n in 0..payments {
        totals.add(&BTreeMap::from([
            ("termin".into(), FieldValue::Integer(n as i64 + 1)),
            ("jumlah".into(), FieldValue::Rupiah(100_000)),
            (
                "tanggal_sp2d".into(),
                FieldValue::Date("2025-08-01".parse().unwrap()),
            ),
        ]));
    }
    state.records.insert("pembayaran".into(), totals);
    state.approvals.insert(
        "tandatangani_kontrak".into(),
        BTreeMap::from([(
            "ppk".into(),
            Approval {
                actor: "Budi".into(),
                at: now(),
                comment: None,
            },
        )]),
    );
    state
}

/// The last approval of a joint sign-off (the Ormas signs the contract the PPK signed), on a
/// case holding 100 termin payments: compare with `step_fire_transition`.
#[divan::bench]
fn step_joint_sign_off_last_approval_with_100_records(bencher: divan::Bencher) {
    let s = setup();
    let state = contract_awaiting_the_ormas(&s, 100);
    let sign = Command {
        actor: Actor::new("Siti", "pimpinan_ormas"),
        action: Action::Fire {
            transition: "tandatangani_kontrak".into(),
            comment: None,
        },
    };
    bencher.bench(|| {
        let outcome = step(
            &s.workflow,
            Some(&state),
            divan::black_box(&sign),
            now(),
            &s.calendar,
        )
        .unwrap();
        assert_eq!(outcome.state.stage, "pelaksanaan");
        outcome
    });
}

/// Baseline for the one above: the same contract signed as a plain transition (the workflow's
/// `requires_all` removed) on the same case without any record — the same stages left and
/// entered, so the difference is the sign-off and the records.
#[divan::bench]
fn step_same_transition_plain_without_records(bencher: divan::Bencher) {
    let s = setup();
    let mut workflow = s.workflow.clone();
    for transition in &mut workflow.transitions {
        transition.requires_all.clear();
    }
    let mut state = contract_awaiting_the_ormas(&s, 0);
    state.records.clear();
    state.approvals.clear();
    let sign = Command {
        actor: Actor::new("Budi", "ppk"),
        action: Action::Fire {
            transition: "tandatangani_kontrak".into(),
            comment: None,
        },
    };
    bencher.bench(|| {
        let outcome = step(
            &workflow,
            Some(&state),
            divan::black_box(&sign),
            now(),
            &s.calendar,
        )
        .unwrap();
        assert_eq!(outcome.state.stage, "pelaksanaan");
        outcome
    });
}

/// Adding the 101st termin payment: the rule `nilai_kontrak >= sum(pembayaran.jumlah)` adds
/// up 101 amounts before the record is accepted.
#[divan::bench]
fn step_add_record_with_a_rule_over_100_records(bencher: divan::Bencher) {
    let s = setup();
    let state = contract_awaiting_the_ormas(&s, 100);
    let pay = Command {
        actor: Actor::new("Budi", "ppk"),
        action: Action::AddRecord {
            record: "pembayaran".into(),
            values: vec![
                ("termin".into(), "101".into()),
                ("jumlah".into(), "Rp100.000".into()),
                ("tanggal_sp2d".into(), "2025-08-02".into()),
            ],
        },
    };
    bencher.bench(|| {
        step(
            &s.workflow,
            Some(&state),
            divan::black_box(&pay),
            now(),
            &s.calendar,
        )
        .unwrap()
    });
}
