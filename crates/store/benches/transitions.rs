//! Committed transitions per second, next to the raw commit rate of the same database.
//!
//! `cargo bench -p swakelola-store --bench transitions` measures SQLite (a file in the
//! temporary directory, WAL, synchronous=NORMAL) and, when `SWAKELOLA_TEST_POSTGRES_URL`
//! names a server, PostgreSQL (a fresh database, default durability). For each it measures,
//! in the same run:
//! - thin client: one single-row INSERT per transaction through `rusqlite` (same file
//!   settings) or `tokio-postgres` (same server): the database's own limit;
//! - same pool: the same INSERT through the store's sqlx pool (what the driver stack costs);
//! - store: `case fire` of a transition through `Store::execute` — load, step, event with
//!   hash, case update, timer replacement, outbox rows, one commit.
//!
//! Both run with 1 client and with 4 concurrent clients (each on its own case).
//!
//! A second table measures firing due timers the way `swakelola run` does (claim a batch
//! with a lease, fire the batch in one transaction), with 1 and 3 runners draining the same
//! due timers, next to the same baseline.
//! `SWAKELOLA_BENCH_OPS` sets the operations per measurement (default 2000).

// Benchmarks measure wall time: the clock rule of this crate (clippy.toml) does not apply.
#![allow(clippy::disallowed_methods)]

mod common;
mod thin;

use std::sync::Arc;
use std::time::Instant;

use jiff::Timestamp;
use sqlx::Executor;
use swakelola_store::{SqlStore, Store};

fn now() -> Timestamp {
    "2025-03-24T02:00:00Z".parse().unwrap()
}

async fn prepare(store: &SqlStore) {
    common::deploy_generic_workflow(store, now()).await;
    store
        .pool()
        .execute("CREATE TABLE IF NOT EXISTS bench_baseline (id BIGINT PRIMARY KEY, payload TEXT NOT NULL)")
        .await
        .unwrap();
}

async fn ready_case(store: &SqlStore, key: &str) -> String {
    common::ready_case(store, key, now()).await
}

async fn transitions(store: &SqlStore, case_id: &str, ops: usize) {
    for n in 0..ops {
        store
            .execute(&common::loop_step(case_id, n), now())
            .await
            .unwrap();
    }
}

async fn baseline(store: &SqlStore, first_id: i64, ops: usize) {
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
}

/// Operations per second with `clients` concurrent clients doing `ops` in total.
async fn measure<F, Fut>(clients: usize, ops: usize, work: F) -> f64
where
    F: Fn(usize, usize) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| tokio::spawn(work(c, ops / clients)))
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    ops as f64 / started.elapsed().as_secs_f64()
}

async fn bench(name: &str, store: SqlStore, ops: usize) {
    prepare(&store).await;
    let store = Arc::new(store);
    let mut cases = Vec::new();
    for c in 0..4 {
        cases.push(ready_case(&store, &format!("bench-{c}")).await);
    }
    // Warm up both paths.
    transitions(&store, &cases[0], 20).await;
    baseline(&store, 10_000_000, 20).await;
    for clients in [1, 4] {
        let s = store.clone();
        let base = measure(clients, ops, move |c, n| {
            let s = s.clone();
            async move { baseline(&s, (clients * 1_000_000 + c * 100_000) as i64, n).await }
        })
        .await;
        let s = store.clone();
        let cases = cases.clone();
        let fired = measure(clients, ops, move |c, n| {
            let s = s.clone();
            let case = cases[c].clone();
            async move { transitions(&s, &case, n).await }
        })
        .await;
        let thin = thin::commits(&store, ops).await;
        println!(
            "| {name} | {clients} | {thin:>8.0} | {base:>8.0} | {fired:>8.0} | {:.2} | {:.2} |",
            fired / thin,
            fired / base
        );
    }
}

/// `cases` documents in review whose review deadline and escalation are due at `later`.
async fn due_timers(store: &SqlStore, prefix: &str, cases: usize) {
    for n in 0..cases {
        let id = ready_case(store, &format!("{prefix}-{n}")).await;
        transitions(store, &id, 1).await;
    }
}

/// Timers claimed and fired per transaction: `SWAKELOLA_BENCH_BATCH`, 100 by default (the
/// runner's `--batch`).
fn batch() -> u32 {
    std::env::var("SWAKELOLA_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

fn later() -> Timestamp {
    "2025-06-02T02:00:00Z".parse().unwrap()
}

async fn drain(store: Arc<SqlStore>, runners: usize) -> usize {
    let tasks: Vec<_> = (0..runners)
        .map(|r| {
            let store = store.clone();
            tokio::spawn(async move {
                let owner = format!("bench-runner-{r}");
                let mut fired = 0;
                loop {
                    let lease = later()
                        .checked_add(jiff::SignedDuration::from_secs(60))
                        .unwrap();
                    let claimed = store
                        .claim_due_timers(&owner, later(), lease, batch())
                        .await
                        .unwrap();
                    if claimed.is_empty() {
                        break fired;
                    }
                    // As `swakelola run` does: the whole claim in one transaction.
                    for result in store.fire_timers(&owner, &claimed, later()).await.unwrap() {
                        if matches!(result, Ok(swakelola_store::Fired::Fired)) {
                            fired += 1;
                        }
                    }
                }
            })
        })
        .collect();
    let mut fired = 0;
    for task in tasks {
        fired += task.await.unwrap();
    }
    fired
}

/// Timers with more than one `timer_fired` event in their case's history (by event key:
/// case and timer), over everything fired so far in this database.
async fn fired_twice(store: &SqlStore) -> usize {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT case_id, payload FROM events WHERE kind = 'timer_fired'")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let mut seen = std::collections::HashSet::new();
    rows.into_iter()
        .filter(|(case_id, payload)| {
            let payload: serde_json::Value = serde_json::from_str(payload).unwrap();
            let timer = payload["timer"].as_str().unwrap().to_owned();
            !seen.insert((case_id.clone(), timer))
        })
        .count()
}

async fn bench_timers(name: &str, store: SqlStore, cases: usize) {
    prepare(&store).await;
    let store = Arc::new(store);
    for runners in [1, 3] {
        let base = measure(1, 1000, {
            let s = store.clone();
            move |_, n| {
                let s = s.clone();
                async move { baseline(&s, 50_000_000 + runners as i64 * 1_000_000, n).await }
            }
        })
        .await;
        due_timers(&store, &format!("timers-{runners}"), cases).await;
        let started = Instant::now();
        let fired = drain(store.clone(), runners).await;
        let rate = fired as f64 / started.elapsed().as_secs_f64();
        let twice = fired_twice(&store).await;
        assert_eq!(twice, 0, "a timer fired twice");
        let thin = thin::commits(&store, 1000).await;
        println!(
            "| {name} | {runners} | {fired} | {twice} | {thin:>8.0} | {base:>8.0} | {rate:>8.0} | {:.2} | {:.2} |",
            rate / thin,
            rate / base
        );
    }
}

#[tokio::main]
async fn main() {
    let ops = common::ops();
    println!(
        "| database | clients | thin-client commits/s | same-pool commits/s | transitions/s | ÷ thin | ÷ same pool |"
    );
    println!("|---|---|---|---|---|---|---|");
    let (sqlite, dir) = common::temp_sqlite().await;
    bench("SQLite (WAL, synchronous=NORMAL)", sqlite, ops).await;
    std::fs::remove_dir_all(&dir).ok();
    let postgres = std::env::var("SWAKELOLA_TEST_POSTGRES_URL").ok();
    if let Some(admin_url) = &postgres {
        let url = SqlStore::create_scratch_database(admin_url).await.unwrap();
        bench(
            "PostgreSQL 15 (fsync on, synchronous_commit on)",
            SqlStore::connect(&url).await.unwrap(),
            ops,
        )
        .await;
    } else {
        println!("(PostgreSQL not measured: set SWAKELOLA_TEST_POSTGRES_URL)");
    }

    // Cases with three due timers each: `SWAKELOLA_BENCH_TIMER_CASES`, half the operations
    // by default.
    let cases = std::env::var("SWAKELOLA_BENCH_TIMER_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ops / 2);
    println!(
        "\n| database | runners | timers fired | fired twice | thin-client commits/s | same-pool commits/s | timers fired/s | ÷ thin | ÷ same pool |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let dir = std::env::temp_dir().join(format!("swakelola-bench-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = SqlStore::connect(&format!("sqlite://{}", dir.join("timers.db").display()))
        .await
        .unwrap();
    bench_timers("SQLite", sqlite, cases).await;
    std::fs::remove_dir_all(&dir).ok();
    if let Some(admin_url) = &postgres {
        let url = SqlStore::create_scratch_database(admin_url).await.unwrap();
        bench_timers(
            "PostgreSQL 15",
            SqlStore::connect(&url).await.unwrap(),
            cases,
        )
        .await;
    }
}
