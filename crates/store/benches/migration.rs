//! Cases migrated per second onto a new workflow version, next to plain transitions and the
//! raw commit rate of the same database, measured in the same run.
//!
//! `cargo bench -p swakelola-store --bench migration` measures SQLite (a file in the
//! temporary directory, WAL, synchronous=NORMAL) and, when `SWAKELOLA_TEST_POSTGRES_URL`
//! names a server, PostgreSQL (a fresh database). Each of three interleaved rounds deploys
//! the generic `persetujuan-dokumen` workflow as a new version, opens `SWAKELOLA_BENCH_OPS`
//! cases on it (default 2000, half of them in review), deploys a version whose deadlines are
//! longer, and measures, one client each:
//! - thin client: one single-row INSERT per transaction through `rusqlite` or
//!   `tokio-postgres` (the database's own limit), and the same through the store's pool;
//! - transitions: `ajukan` / `minta_revisi` through `Store::execute`, one case after another;
//! - migration: `SqlStore::run_migration` moving every case of the round onto the new
//!   version (load, `migrate_case`, event, case update, timers, notices, one commit each),
//!   deadlines recomputed so each case in review has one that moves.
//!
//! The table gives each round's rates and the medians, and migrations ÷ transitions.

// Benchmarks measure wall time: the clock rule of this crate (clippy.toml) does not apply.
#![allow(clippy::disallowed_methods)]

mod common;
mod thin;

use std::time::Instant;

use jiff::Timestamp;
use sqlx::Executor;
use swakelola_core::Actor;
use swakelola_store::{MigrationMode, SqlStore, Store};

fn now() -> Timestamp {
    "2025-03-24T02:00:00Z".parse().unwrap()
}

const ROUNDS: usize = 3;

async fn deploy_version(store: &SqlStore, round: usize, longer: bool) -> u32 {
    let source = common::repo_file("workflows/persetujuan-dokumen.yaml");
    let source = if longer {
        source.replacen("after: 3 working days", "after: 6 working days", 1)
    } else {
        source
    };
    // A distinct text per round and kind, so each deploy is a new version.
    let source = format!("{source}\n# bench round {round} {longer}\n");
    store
        .deploy(
            "persetujuan-dokumen.yaml",
            &source,
            &common::calendars(),
            now(),
        )
        .await
        .unwrap()
        .workflow
        .version
}

async fn baseline(store: &SqlStore, first_id: i64, ops: usize) -> f64 {
    let started = Instant::now();
    for n in 0..ops as i64 {
        let mut tx = store.begin().await.unwrap();
        sqlx::query("INSERT INTO bench_baseline (id, payload) VALUES ($1, $2)")
            .bind(first_id + n)
            .bind("payload of a similar size to an event row's hash and actor")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    ops as f64 / started.elapsed().as_secs_f64()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

async fn bench(name: &str, store: SqlStore, ops: usize) {
    store.migrate().await.unwrap();
    store
        .pool()
        .execute("CREATE TABLE IF NOT EXISTS bench_baseline (id BIGINT PRIMARY KEY, payload TEXT NOT NULL)")
        .await
        .unwrap();
    let (mut thins, mut bases) = (Vec::new(), Vec::new());
    let (mut fires, mut moves) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let from = deploy_version(&store, round, false).await;
        let mut cases = Vec::with_capacity(ops);
        for n in 0..ops {
            let id = common::ready_case(&store, &format!("r{round}-{n}"), now()).await;
            if n.is_multiple_of(2) {
                store
                    .execute(&common::loop_step(&id, 0), now())
                    .await
                    .unwrap();
            }
            cases.push(id);
        }
        let to = deploy_version(&store, round, true).await;
        let base = baseline(&store, (round * 10_000_000) as i64, ops).await;
        let thin = thin::commits(&store, ops).await;
        // Transitions on this round's cases (still on `from`): each case in review is sent
        // back, each in drafting is submitted, so the count matches the cases migrated.
        let started = Instant::now();
        for (n, id) in cases.iter().enumerate() {
            let step = if n.is_multiple_of(2) { 1 } else { 0 };
            store
                .execute(&common::loop_step(id, step), now())
                .await
                .unwrap();
        }
        let fired = ops as f64 / started.elapsed().as_secs_f64();
        let text = format!(
            "migration: bench-{round}\nworkflow: persetujuan-dokumen\nfrom: [{from}]\nto: {to}\n"
        );
        let checked = store
            .check_migration_plan("bench.yaml", &text)
            .await
            .unwrap();
        let started = Instant::now();
        let mut migrated = 0;
        let actor = Actor::new("bench", swakelola_store::OPERATOR_ROLE);
        store
            .run_migration(
                &checked.plan,
                &actor,
                now(),
                MigrationMode::Apply,
                |_, _, _, result| {
                    assert!(
                        matches!(result, Ok(swakelola_store::CaseMigrated::Migrated(_))),
                        "{result:?}"
                    );
                    migrated += 1;
                },
            )
            .await
            .unwrap();
        let moved = migrated as f64 / started.elapsed().as_secs_f64();
        assert_eq!(migrated, ops);
        println!(
            "| {name} | {} | {ops} | {thin:>8.0} | {base:>8.0} | {fired:>8.0} | {moved:>8.0} | {:.2} | {:.2} |",
            round + 1,
            moved / thin,
            moved / fired
        );
        thins.push(thin);
        bases.push(base);
        fires.push(fired);
        moves.push(moved);
    }
    let (thin, base) = (median(&mut thins), median(&mut bases));
    let (fired, moved) = (median(&mut fires), median(&mut moves));
    println!(
        "| {name} | median | {ops} | {thin:>8.0} | {base:>8.0} | {fired:>8.0} | {moved:>8.0} | {:.2} | **{:.2}** |",
        moved / thin,
        moved / fired
    );
}

#[tokio::main]
async fn main() {
    let ops = common::ops();
    println!(
        "| database | round | cases | thin-client commits/s | same-pool commits/s | transitions/s | cases migrated/s | migrated ÷ thin | migrated ÷ transitions |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let (sqlite, dir) = common::temp_sqlite().await;
    bench("SQLite (WAL, synchronous=NORMAL)", sqlite, ops).await;
    std::fs::remove_dir_all(&dir).ok();
    if let Ok(admin_url) = std::env::var("SWAKELOLA_TEST_POSTGRES_URL") {
        let url = SqlStore::create_scratch_database(&admin_url).await.unwrap();
        bench("PostgreSQL 15", SqlStore::connect(&url).await.unwrap(), ops).await;
    } else {
        println!("(PostgreSQL not measured: set SWAKELOLA_TEST_POSTGRES_URL)");
    }
}
