//! Joint sign-offs and records through the store, next to plain commands in the same run.
//!
//! `cargo bench -p swakelola-store --bench partnership` (SQLite in the temporary directory;
//! PostgreSQL too when `SWAKELOLA_TEST_POSTGRES_URL` names a server). One client; each row is
//! `SWAKELOLA_BENCH_OPS` commands (default 2000) through `Store::execute`:
//! - plain transitions: `ajukan` ↔ `minta_revisi` of the generic workflow (the baseline);
//! - joint sign-off: on a document in review, the reviewer approves `setujui` (an approval
//!   event) and the supervisor declines it with a reason (clearing it), in turn;
//! - plain field: the shipped workflow's `kode_rup` set on a case without records (baseline);
//! - record under a rule: 100 termin payments added to a case already holding 100, the rule
//!   `nilai_kontrak >= sum(pembayaran.jumlah)` summing them all each time;
//! - the contract's joint sign-off: the last approval, firing `tandatangani_kontrak`, on
//!   cases holding 100 payments, next to the same on cases without any.

// Benchmarks measure wall time: the clock rule of this crate (clippy.toml) does not apply.
#![allow(clippy::disallowed_methods)]

mod common;
#[path = "../tests/support/walk.rs"]
mod walk;

use std::time::Instant;

use jiff::Timestamp;
use swakelola_core::Actor;
use swakelola_core::step::Action;
use swakelola_store::{CaseCommand, OpenCase, Parties, SqlStore, Store};

fn now() -> Timestamp {
    "2025-03-24T02:00:00Z".parse().unwrap()
}

async fn run(store: &SqlStore, case_id: &str, role: &str, action: Action) {
    store
        .execute(
            &CaseCommand {
                case_id: case_id.to_owned(),
                actor: Actor::new("bench", role),
                action,
                expected_revision: None,
                idempotency_key: None,
                content: None,
            },
            now(),
        )
        .await
        .unwrap();
}

/// Commands per second of `ops` commands made by `command(n)`.
async fn rate<F, Fut>(ops: usize, command: F) -> f64
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let started = Instant::now();
    for n in 0..ops {
        command(n).await;
    }
    ops as f64 / started.elapsed().as_secs_f64()
}

fn fire(transition: &str, comment: Option<&str>) -> Action {
    Action::Fire {
        transition: transition.into(),
        comment: comment.map(str::to_owned),
    }
}

async fn bench(name: &str, store: SqlStore, ops: usize) {
    common::deploy_generic_workflow(&store, now()).await;
    store
        .deploy(
            "swakelola-tipe-3.yaml",
            &common::repo_file("workflows/swakelola-tipe-3.yaml"),
            &common::calendars(),
            now(),
        )
        .await
        .unwrap();

    // Generic workflow: a plain loop, and a joint sign-off approved and declined in turn.
    let plain_case = common::ready_case(&store, "plain", now()).await;
    let joint_case = common::ready_case(&store, "joint", now()).await;
    run(&store, &joint_case, "penyusun", fire("ajukan", None)).await;
    let plain = rate(ops, |n| {
        let (role, action) = if n % 2 == 0 {
            ("penyusun", fire("ajukan", None))
        } else {
            ("pemeriksa", fire("minta_revisi", Some("perbaiki")))
        };
        let (store, case) = (&store, &plain_case);
        async move { run(store, case, role, action).await }
    })
    .await;
    let joint = rate(ops, |n| {
        let (role, action) = if n % 2 == 0 {
            ("pemeriksa", fire("setujui", None))
        } else {
            (
                "atasan",
                Action::Decline {
                    transition: "setujui".into(),
                    comment: "belum".into(),
                },
            )
        };
        let (store, case) = (&store, &joint_case);
        async move { run(store, case, role, action).await }
    })
    .await;

    // Shipped workflow: a plain field on a case without records, and payments on a case
    // that already holds 100.
    let field_case = store
        .open(&open_request("field"), now())
        .await
        .unwrap()
        .case
        .id;
    let record_case = store
        .open(&open_request("records"), now())
        .await
        .unwrap()
        .case
        .id;
    for n in 0..100 {
        run(&store, &record_case, "ppk", payment(n)).await;
    }
    let field = rate(ops, |n| {
        let action = Action::SetField {
            field: "kode_rup".into(),
            value: format!("5271{n:04}"),
        };
        let (store, case) = (&store, &field_case);
        async move { run(store, case, "ppk", action).await }
    })
    .await;
    // A contract has tens of payments, not thousands: add 100 more, from 100 to 200, so the
    // row measures a rule over about a hundred records (the state grows with each one).
    let added = ops.min(100);
    let records = rate(added, |n| {
        let action = payment(100 + n);
        let (store, case) = (&store, &record_case);
        async move { run(store, case, "ppk", action).await }
    })
    .await;
    // The measure: the last approval of the contract's joint sign-off, which fires
    // `tandatangani_kontrak`, on cases holding 100 termin payments (each added under the rule
    // summing them), next to the same on cases without payments. Each case signs once, so
    // the cases are walked to the contract first (not timed).
    let signing_cases = (ops / 10).clamp(10, 200);
    let signed_with_payments = sign(&store, "dengan", signing_cases, 100).await;
    let signed_plain = sign(&store, "tanpa", signing_cases, 0).await;
    println!("| {name} | plain transitions (baseline) | {plain:.0} | |");
    println!(
        "| {name} | joint sign-off: approve / decline in turn | {joint:.0} | {:.2} |",
        joint / plain
    );
    println!("| {name} | set a field, no records (baseline) | {field:.0} | |");
    println!(
        "| {name} | add a payment, rule over 100–{} payments | {records:.0} | {:.2} |",
        100 + added,
        records / field
    );
    println!(
        "| {name} | last approval fires the contract, no payments (baseline) | {signed_plain:.0} | |"
    );
    println!(
        "| {name} | last approval fires the contract, 100 payments under the rule | {signed_with_payments:.0} | {:.2} (÷ plain transitions {:.2}) |",
        signed_with_payments / signed_plain,
        signed_with_payments / plain
    );
}

/// Final approvals per second: `cases` seed cases walked to the contract, each holding
/// `payments` termin payments and approved by the PPK, then signed by the head of the Ormas —
/// only that last command timed.
async fn sign(store: &SqlStore, prefix: &str, cases: usize, payments: usize) -> f64 {
    let mut ids = Vec::with_capacity(cases);
    for n in 0..cases {
        let mut request = open_request(&format!("{prefix}-{n}"));
        request.fields.retain(|(field, _)| field != "nilai_kontrak");
        let id = store.open(&request, now()).await.unwrap().case.id;
        for transition in walk::TO_CONTRACT {
            walk::force(store, &id, transition).await;
        }
        walk::prepare_contract(store, &id).await;
        for p in 0..payments {
            run(store, &id, "ppk", payment(p)).await;
        }
        run(store, &id, "ppk", fire("tandatangani_kontrak", None)).await;
        ids.push(id);
    }
    let started = Instant::now();
    for id in &ids {
        run(
            store,
            id,
            "pimpinan_ormas",
            fire("tandatangani_kontrak", None),
        )
        .await;
    }
    let rate = cases as f64 / started.elapsed().as_secs_f64();
    for id in &ids {
        assert_eq!(store.case(id).await.unwrap().state.stage, "pelaksanaan");
    }
    rate
}

fn open_request(key: &str) -> OpenCase {
    OpenCase {
        origin: None,
        workflow_id: "swakelola-tipe-3".into(),
        organisation: "bench".into(),
        business_key: key.into(),
        actor: Actor::new("bench", "ppk"),
        fields: vec![
            ("nama_kegiatan".into(), "Pendampingan".into()),
            ("instansi".into(), "DP3A Kota Palembang".into()),
            ("ormas".into(), "Yayasan Intan Maharani".into()),
            ("tahun_anggaran".into(), "2025".into()),
            ("nilai_kontrak".into(), "Rp1.000.000.000.000".into()),
        ],
        parties: Parties::default(),
    }
}

/// The `n`-th termin payment, Rp100.000 each: 100 of them stay under a Rp34.500.000 contract.
fn payment(n: usize) -> Action {
    Action::AddRecord {
        record: "pembayaran".into(),
        values: vec![
            ("termin".into(), (n + 1).to_string()),
            ("jumlah".into(), "Rp100.000".into()),
            ("tanggal_sp2d".into(), "2025-08-01".into()),
        ],
    }
}

#[tokio::main]
async fn main() {
    let ops = common::ops();
    println!("| database | commands | per second | ÷ baseline |");
    println!("|---|---|---|---|");
    let (sqlite, dir) = common::temp_sqlite().await;
    bench("SQLite", sqlite, ops).await;
    std::fs::remove_dir_all(&dir).ok();
    if let Ok(admin_url) = std::env::var("SWAKELOLA_TEST_POSTGRES_URL") {
        let url = SqlStore::create_scratch_database(&admin_url).await.unwrap();
        bench("PostgreSQL 15", SqlStore::connect(&url).await.unwrap(), ops).await;
    } else {
        println!("(PostgreSQL not measured: set SWAKELOLA_TEST_POSTGRES_URL)");
    }
}
