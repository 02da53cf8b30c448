//! What does a claim cost when a large backlog falls due at one instant?
//!
//! `cargo bench -p swakelola-store --bench claims` (with `SWAKELOLA_TEST_POSTGRES_URL` for
//! PostgreSQL too). Every stage deadline of a day falls due at the same instant (the end of the
//! day, WIB), so a backlog of N due timers shares one `due_at`. The runner claims 100 at a
//! time, in `(due_at, case_id, key)` order. The bench fills N pending timers due at one
//! instant (inserted directly, on one case: the claim never reads the case), then times a claim
//! of 100 (and its release, so every round sees the same backlog) with the claim-order index
//! of migration 0008 and, in the same run and on the same rows, with the index on `due_at`
//! alone that it replaced. N = 20 000 and 1 000 000 (`SWAKELOLA_BENCH_BACKLOG` overrides the
//! large one). Medians of 30 claims.

// Benchmarks measure wall time: the clock rule of this crate (clippy.toml) does not apply.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Instant;

use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use swakelola_store::{Dialect, SqlStore};

const ROUNDS: usize = 30;
const BATCH: u32 = 100;

fn now() -> Timestamp {
    "2025-04-10T02:00:00Z".parse().unwrap()
}

/// N pending timers on one case, all due at the same instant (end of 9 April 2025, WIB).
async fn fill(store: &SqlStore, backlog: usize) {
    common::deploy_generic_workflow(store, now()).await;
    let case_id = common::ready_case(store, "backlog", now()).await;
    sqlx::query("DELETE FROM timers")
        .execute(store.pool())
        .await
        .unwrap();
    let due_at = "2025-04-09T17:00:00Z"
        .parse::<Timestamp>()
        .unwrap()
        .as_millisecond();
    let sql = match store.dialect() {
        Dialect::Postgres => format!(
            "INSERT INTO timers (case_id, key, due_at, kind, payload)
             SELECT '{case_id}', 'deadline:bench:' || lpad(n::text, 8, '0'), {due_at}, 'due', '{{}}'
               FROM generate_series(1, {backlog}) AS n"
        ),
        Dialect::Sqlite => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {backlog})
             INSERT INTO timers (case_id, key, due_at, kind, payload)
             SELECT '{case_id}', 'deadline:bench:' || printf('%08d', i), {due_at}, 'due', '{{}}' FROM n"
        ),
    };
    sqlx::query(AssertSqlSafe(sql))
        .execute(store.pool())
        .await
        .unwrap();
    let analyze = match store.dialect() {
        Dialect::Postgres => "ANALYZE timers",
        Dialect::Sqlite => "ANALYZE",
    };
    sqlx::query(analyze).execute(store.pool()).await.unwrap();
}

/// Median milliseconds of a claim of 100 (its release not counted).
async fn claim_ms(store: &SqlStore) -> f64 {
    let lease_until = now()
        .checked_add(jiff::SignedDuration::from_secs(60))
        .unwrap();
    let mut times = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let claimed = store
            .claim_due_timers("bench", now(), lease_until, BATCH)
            .await
            .unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(claimed.len(), BATCH as usize);
        sqlx::query(
            "UPDATE timers SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = 'bench'",
        )
        .execute(store.pool())
        .await
        .unwrap();
    }
    times.sort_by(f64::total_cmp);
    times[ROUNDS / 2]
}

async fn measure(name: &str, store: &SqlStore, backlog: usize) {
    fill(store, backlog).await;
    let with_claim_index = claim_ms(store).await;
    // The index it replaced, on the same rows in the same run.
    for sql in [
        "DROP INDEX timers_claim",
        "CREATE INDEX timers_pending ON timers (due_at) WHERE state = 'pending'",
    ] {
        sqlx::query(sql).execute(store.pool()).await.unwrap();
    }
    let with_due_index = claim_ms(store).await;
    println!(
        "| {name} | {backlog} | {with_due_index:.2} | {with_claim_index:.2} | {:.0}× |",
        with_due_index / with_claim_index
    );
}

#[tokio::main]
async fn main() {
    let large: usize = std::env::var("SWAKELOLA_BENCH_BACKLOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    println!(
        "| database | due timers (one instant) | claim of 100, index on due_at (ms) | claim of 100, claim-order index (ms) | faster |"
    );
    println!("|---|---|---|---|---|");
    for backlog in [20_000, large] {
        let (store, dir) = common::temp_sqlite().await;
        measure("SQLite", &store, backlog).await;
        store.pool().close().await;
        std::fs::remove_dir_all(&dir).ok();
        if let Ok(admin_url) = std::env::var("SWAKELOLA_TEST_POSTGRES_URL") {
            let url = SqlStore::create_scratch_database(&admin_url).await.unwrap();
            let store = SqlStore::connect(&url).await.unwrap();
            measure("PostgreSQL 15", &store, backlog).await;
            store.pool().close().await;
        }
    }
}
