//! Does firing due timers cost what is due, or what exists?
//!
//! `cargo bench -p swakelola-store --bench scale` fills a SQLite database with N open
//! "background" cases, each with one pending timer due far in the future, plus 5 000 cases
//! whose two timers (a reminder and the deadline) are due, then drains the 10 000 due timers
//! the way `swakelola run` does (claim 100 with a lease, fire each through `execute`). It
//! compares N = 10 000 with N = 1 000 000 (`SWAKELOLA_BENCH_BACKGROUND` overrides the large
//! N). Background rows are inserted directly (they are never loaded), due cases are copies of
//! a case opened through the store.
//!
//! If `target/release/swakelola` exists, the real runner is also started on both databases
//! and its peak resident memory (VmHWM) is reported, and lateness is measured: 5 000 timers
//! among 100 000 open cases fall due at real instants spread over 20 seconds while the runner
//! (one on SQLite; three on PostgreSQL when `SWAKELOLA_TEST_POSTGRES_URL` is set) is running;
//! lateness is the time from a timer's due instant to the `now` of the event that fired it.

// Benchmarks measure wall time: the clock rule of this crate (clippy.toml) does not apply.
#![allow(clippy::disallowed_methods)]

mod common;

use std::sync::Arc;
use std::time::Instant;

use jiff::Timestamp;
use sqlx::AssertSqlSafe;
use swakelola_core::Actor;
use swakelola_store::{OpenCase, Parties, SqlStore, Store};

fn t0() -> Timestamp {
    "2025-03-24T02:00:00Z".parse().unwrap()
}

/// Reminder (8 April 08:00 WIB) and deadline (10 April 00:00 WIB) are due; the first overdue
/// repeat (11 April) is not.
fn later() -> Timestamp {
    "2025-04-10T02:00:00Z".parse().unwrap()
}

async fn fill(url: &str, background: usize, due_cases: usize) -> SqlStore {
    let store = SqlStore::connect(url).await.unwrap();
    common::deploy_generic_workflow(&store, t0()).await;
    let template = store
        .open(
            &OpenCase {
                origin: None,
                workflow_id: "persetujuan-dokumen".into(),
                organisation: "bench".into(),
                business_key: "template".into(),
                actor: Actor::new("bench", "penyusun"),
                fields: vec![("judul".into(), "Laporan".into())],
                parties: Parties::default(),
            },
            t0(),
        )
        .await
        .unwrap()
        .case;
    let (state, last_hash): (String, String) =
        sqlx::query_as("SELECT state, last_hash FROM cases WHERE id = $1")
            .bind(template.id.as_str())
            .fetch_one(store.pool())
            .await
            .unwrap();
    let timers: Vec<(String, i64, String, String)> =
        sqlx::query_as("SELECT key, due_at, kind, payload FROM timers WHERE case_id = $1")
            .bind(template.id.as_str())
            .fetch_all(store.pool())
            .await
            .unwrap();
    let future = Timestamp::from_second(1_900_000_000)
        .unwrap()
        .as_millisecond();
    let insert = |first: usize, count: usize, due: bool| {
        let mut cases = String::from(
            "INSERT INTO cases (id, workflow_id, workflow_version, organisation, business_key, open_request_hash, stage, revision, state, parties, next_due_at, opened_at, last_hash) VALUES ",
        );
        let mut timer_rows =
            String::from("INSERT INTO timers (case_id, key, due_at, kind, payload) VALUES ");
        for n in first..first + count {
            let id = format!("{}-{n:08}", if due { "due" } else { "bg" });
            let body = if due {
                state.replace('\'', "''")
            } else {
                "{}".to_owned()
            };
            let sep = if n == first { "" } else { "," };
            cases.push_str(&format!(
                "{sep}('{id}', 'persetujuan-dokumen', 1, 'bench', '{id}', '', 'penyusunan', 1, '{body}', '{{\"organisations\":{{}},\"contacts\":{{}}}}', {}, {}, '{last_hash}')",
                if due { later().as_millisecond() } else { future },
                t0().as_millisecond()
            ));
            if due {
                for (k, (key, due_at, kind, payload)) in timers.iter().enumerate() {
                    let sep = if n == first && k == 0 { "" } else { "," };
                    timer_rows.push_str(&format!(
                        "{sep}('{id}', '{key}', {due_at}, '{kind}', '{}')",
                        payload.replace('\'', "''")
                    ));
                }
            } else {
                timer_rows.push_str(&format!(
                    "{sep}('{id}', 'deadline:penyusunan:1:due', {future}, 'due', '{{}}')"
                ));
            }
        }
        (cases, timer_rows)
    };
    let chunk = 500;
    for (total, due) in [(background, false), (due_cases, true)] {
        let mut first = 0;
        while first < total {
            let count = chunk.min(total - first);
            let (cases, timer_rows) = insert(first, count, due);
            let mut tx = store.begin().await.unwrap();
            sqlx::query(AssertSqlSafe(cases))
                .execute(&mut *tx)
                .await
                .unwrap();
            sqlx::query(AssertSqlSafe(timer_rows))
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            first += count;
        }
    }
    // The template's own timers are not part of the measurement.
    sqlx::query("DELETE FROM timers WHERE case_id = $1")
        .bind(template.id.as_str())
        .execute(store.pool())
        .await
        .unwrap();
    store
}

async fn drain(store: &SqlStore) -> (usize, f64) {
    let started = Instant::now();
    let mut fired = 0;
    loop {
        let lease = later()
            .checked_add(jiff::SignedDuration::from_secs(60))
            .unwrap();
        let claimed = store
            .claim_due_timers("bench", later(), lease, 100)
            .await
            .unwrap();
        if claimed.is_empty() {
            break;
        }
        for timer in &claimed {
            if store.fire_timer("bench", timer, later()).await.unwrap()
                == swakelola_store::Fired::Fired
            {
                fired += 1;
            }
        }
    }
    (fired, started.elapsed().as_secs_f64())
}

fn runner_binary() -> Option<std::path::PathBuf> {
    let binary =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/swakelola");
    binary.exists().then_some(binary)
}

/// Spreads the due timers over the next `seconds`, runs `runners` real runners until all of
/// them fired, and returns (p50, p99, max) lateness in milliseconds.
async fn lateness(
    store: &SqlStore,
    url: &str,
    dir: &std::path::Path,
    runners: usize,
    seconds: i64,
) -> Option<(i64, i64, i64)> {
    let binary = runner_binary()?;
    let keys: Vec<(String, String)> = sqlx::query_as(
        "SELECT case_id, key FROM timers WHERE case_id LIKE 'due-%' ORDER BY case_id, key",
    )
    .fetch_all(store.pool())
    .await
    .ok()?;
    let start = Timestamp::now().as_millisecond() + 2_000;
    let span = seconds * 1000;
    let mut due = std::collections::HashMap::new();
    let mut tx = store.begin().await.ok()?;
    for (n, (case_id, key)) in keys.iter().enumerate() {
        let at = start + (n as i64 * span) / keys.len() as i64;
        sqlx::query("UPDATE timers SET due_at = $1 WHERE case_id = $2 AND key = $3")
            .bind(at)
            .bind(case_id.as_str())
            .bind(key.as_str())
            .execute(&mut *tx)
            .await
            .ok()?;
        due.insert((case_id.clone(), key.clone()), at);
    }
    tx.commit().await.ok()?;
    let children: Vec<_> = (0..runners)
        .map(|_| {
            std::process::Command::new(&binary)
                .args(["run", "--poll", "1"])
                .current_dir(dir)
                .env("SWAKELOLA_DATABASE_URL", url)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    loop {
        let left: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM timers WHERE case_id LIKE 'due-%' AND due_at <= $1",
        )
        .bind(start + span)
        .fetch_one(store.pool())
        .await
        .ok()?;
        if left == 0 && Timestamp::now().as_millisecond() > start + span {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    for mut child in children {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let _ = child.wait();
    }
    let fired: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT case_id, at, payload FROM events WHERE kind = 'timer_fired' AND case_id LIKE 'due-%'")
            .fetch_all(store.pool())
            .await
            .ok()?;
    let mut late: Vec<i64> = fired
        .iter()
        .filter_map(|(case_id, at, payload)| {
            let value: serde_json::Value = serde_json::from_str(payload).ok()?;
            let key = value["timer"].as_str()?.to_owned();
            due.get(&(case_id.clone(), key)).map(|d| at - d)
        })
        .collect();
    late.sort_unstable();
    let pick = |q: f64| late[((late.len() as f64 - 1.0) * q).round() as usize];
    (!late.is_empty()).then(|| (pick(0.5), pick(0.99), *late.last().unwrap()))
}

/// Starts the real runner on `url`, waits until it has fired every due timer, and returns its
/// peak and current resident memory in KiB.
async fn peak_rss_of_runner(
    store: &SqlStore,
    url: &str,
    dir: &std::path::Path,
) -> Option<(u64, u64)> {
    let binary =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/swakelola");
    if !binary.exists() {
        return None;
    }
    let mut child = std::process::Command::new(binary)
        .args(["run", "--poll", "1"])
        .current_dir(dir)
        .env("SWAKELOLA_DATABASE_URL", url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let status = format!("/proc/{}/status", child.id());
    let read = |field: &str| -> u64 {
        std::fs::read_to_string(&status)
            .ok()
            .and_then(|s| {
                s.lines().find(|l| l.starts_with(field)).map(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .unwrap_or("0")
                        .parse()
                        .unwrap_or(0)
                })
            })
            .unwrap_or(0)
    };
    loop {
        let due: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM timers WHERE due_at <= $1")
            .bind(Timestamp::now().as_millisecond())
            .fetch_one(store.pool())
            .await
            .ok()?;
        if due == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (hwm, rss) = (read("VmHWM:"), read("VmRSS:"));
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    Some((hwm, rss))
}

#[tokio::main]
async fn main() {
    let large: usize = std::env::var("SWAKELOLA_BENCH_BACKGROUND")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let due_cases = 5_000;
    println!("| open background cases | due timers | fired | seconds | timers/s |");
    println!("|---|---|---|---|---|");
    let mut results = Vec::new();
    for background in [10_000, large] {
        let dir = std::env::temp_dir().join(format!("swakelola-scale-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("scale.db").display());
        let fill_started = Instant::now();
        let store = Arc::new(fill(&url, background, due_cases).await);
        let filled = fill_started.elapsed().as_secs_f64();
        let (fired, seconds) = drain(&store).await;
        println!(
            "| {background} | {} | {fired} | {seconds:.2} | {:.0} |",
            due_cases * 2,
            fired as f64 / seconds
        );
        eprintln!("(filled in {filled:.1} s)");
        results.push(seconds);
        store.pool().close().await;
        std::fs::remove_dir_all(&dir).ok();
    }
    println!(
        "\ncost ratio (large / small): {:.2}",
        results[1] / results[0]
    );

    // The real runner doing the same work on fresh copies: its memory must not grow with the
    // number of open cases.
    println!("\n| open background cases | swakelola run peak RSS (MiB) |");
    println!("|---|---|");
    for background in [10_000, large] {
        let dir = std::env::temp_dir().join(format!("swakelola-scale-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("scale.db").display());
        let store = fill(&url, background, due_cases).await;
        match peak_rss_of_runner(&store, &url, &dir).await {
            Some((hwm, _)) => println!("| {background} | {:.1} |", hwm as f64 / 1024.0),
            None => {
                println!("| {background} | not measured: build target/release/swakelola first |")
            }
        }
        store.pool().close().await;
        std::fs::remove_dir_all(&dir).ok();
    }

    println!(
        "\n| database | open cases | runners | timers | lateness p50 (ms) | p99 (ms) | max (ms) |"
    );
    println!("|---|---|---|---|---|---|---|");
    let dir = std::env::temp_dir().join(format!("swakelola-late-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("late.db").display());
    let store = fill(&url, 100_000, 2_500).await;
    match lateness(&store, &url, &dir, 1, 20).await {
        Some((p50, p99, max)) => println!("| SQLite | 100000 | 1 | 5000 | {p50} | {p99} | {max} |"),
        None => println!(
            "| SQLite | 100000 | 1 | 5000 | not measured: build target/release/swakelola first | | |"
        ),
    }
    store.pool().close().await;
    std::fs::remove_dir_all(&dir).ok();
    if let Ok(admin_url) = std::env::var("SWAKELOLA_TEST_POSTGRES_URL") {
        let url = SqlStore::create_scratch_database(&admin_url).await.unwrap();
        let store = fill(&url, 100_000, 2_500).await;
        let dir = std::env::temp_dir();
        if let Some((p50, p99, max)) = lateness(&store, &url, &dir, 3, 20).await {
            println!("| PostgreSQL 15 | 100000 | 3 | 5000 | {p50} | {p99} | {max} |");
        }
    }
}
