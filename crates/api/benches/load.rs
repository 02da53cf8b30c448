//! HTTP load: requests per second and latency percentiles for reading a case and for firing
//! a transition, on SQLite and (when `SWAKELOLA_TEST_POSTGRES_URL` names a server) PostgreSQL.
//!
//! `cargo bench -p swakelola-api --bench load`. The server runs in this process on a
//! loopback port (tokio, 2 worker threads) and the load generator shares the same 2 cores,
//! keep-alive connections, one per client. For firing, the same run also measures the store's
//! own transition rate (`Store::execute` directly, same clients, same database) so the ratio
//! HTTP ÷ store is measured, not assumed. `SWAKELOLA_BENCH_OPS` sets the requests per
//! measurement (default 4000 reads, half that for fires).

#[path = "../../store/benches/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use swakelola_api::AppState;
use swakelola_core::Actor;
use swakelola_core::step::Action;
use swakelola_store::{CaseCommand, SqlStore, Store};

fn now() -> Timestamp {
    "2025-03-24T02:00:00Z".parse().unwrap()
}

async fn prepare(store: &SqlStore) -> String {
    common::deploy_generic_workflow(store, now()).await;
    store
        .create_token(
            "bench",
            "bench",
            &["penyusun".to_owned(), "pemeriksa".to_owned()],
            None,
            now(),
        )
        .await
        .unwrap()
        .1
}

async fn ready_case(store: &SqlStore, key: &str) -> String {
    common::ready_case(store, key, now()).await
}

fn step(n: usize) -> (&'static str, &'static str, Option<&'static str>) {
    if n.is_multiple_of(2) {
        ("penyusun", "ajukan", None)
    } else {
        ("pemeriksa", "minta_revisi", Some("perbaiki"))
    }
}

struct Measured {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// Runs `clients` concurrent loops of `ops / clients` requests; each returns its latencies.
async fn measure<F, Fut>(clients: usize, ops: usize, work: F) -> Measured
where
    F: Fn(usize, usize) -> Fut,
    Fut: std::future::Future<Output = Vec<Duration>> + Send + 'static,
{
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| tokio::spawn(work(c, ops / clients)))
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Measured {
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

async fn bench(name: &str, store: SqlStore, ops: usize) {
    let token = prepare(&store).await;
    let store = Arc::new(store);
    let mut cases = Vec::new();
    for c in 0..8 {
        cases.push(ready_case(&store, &format!("bench-{c}")).await);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let state = AppState {
        clock: now,
        ..AppState::new(store.clone())
    };
    tokio::spawn(swakelola_api::serve(
        listener,
        state,
        std::future::pending(),
    ));
    let base = format!("http://{address}");
    let bearer = format!("Bearer {token}");

    // Reading a case.
    for clients in [1, 8] {
        let (cases, base, bearer) = (cases.clone(), base.clone(), bearer.clone());
        let read = measure(clients, ops, move |c, n| {
            let url = format!("{base}/v1/cases/{}", cases[c]);
            let bearer = bearer.clone();
            async move {
                let client = reqwest::Client::new();
                let mut latencies = Vec::with_capacity(n);
                for _ in 0..n {
                    let started = Instant::now();
                    let response = client
                        .get(&url)
                        .header("authorization", &bearer)
                        .send()
                        .await
                        .unwrap();
                    assert!(response.status().is_success());
                    response.bytes().await.unwrap();
                    latencies.push(started.elapsed());
                }
                latencies
            }
        })
        .await;
        println!(
            "| {name} | read a case | {clients} | {:.0} | {} | {} | |",
            read.per_second,
            ms(read.p50),
            ms(read.p99)
        );
    }

    // Firing transitions: the store directly, then the same over HTTP.
    let fires = ops / 2;
    for clients in [1, 4] {
        let (s, cases_for_store) = (store.clone(), cases.clone());
        let direct = measure(clients, fires, move |c, n| {
            let s = s.clone();
            let case = cases_for_store[c].clone();
            async move {
                let mut latencies = Vec::with_capacity(n);
                for i in 0..n {
                    let (role, transition, comment) = step(i);
                    let started = Instant::now();
                    s.execute(
                        &CaseCommand {
                            case_id: case.clone(),
                            actor: Actor::new("bench", role),
                            action: Action::Fire {
                                transition: transition.into(),
                                comment: comment.map(str::to_owned),
                            },
                            expected_revision: None,
                            idempotency_key: None,
                            content: None,
                        },
                        now(),
                    )
                    .await
                    .unwrap();
                    latencies.push(started.elapsed());
                }
                latencies
            }
        })
        .await;
        // Each case has had an even number of fires, so it is back in `penyusunan`.
        let (cases, base, bearer) = (cases.clone(), base.clone(), bearer.clone());
        let http = measure(clients, fires, move |c, n| {
            let case = cases[c].clone();
            let (base, bearer) = (base.clone(), bearer.clone());
            async move {
                let client = reqwest::Client::new();
                let mut latencies = Vec::with_capacity(n);
                for i in 0..n {
                    let (role, transition, comment) = step(i);
                    let started = Instant::now();
                    let response = client
                        .post(format!("{base}/v1/cases/{case}/transitions/{transition}"))
                        .header("authorization", &bearer)
                        .json(&serde_json::json!({"role": role, "comment": comment}))
                        .send()
                        .await
                        .unwrap();
                    let status = response.status();
                    let body = response.text().await.unwrap();
                    assert!(status.is_success(), "{body}");
                    latencies.push(started.elapsed());
                }
                latencies
            }
        })
        .await;
        println!(
            "| {name} | fire: store directly (baseline) | {clients} | {:.0} | {} | {} | |",
            direct.per_second,
            ms(direct.p50),
            ms(direct.p99)
        );
        println!(
            "| {name} | fire over HTTP | {clients} | {:.0} | {} | {} | {:.2} |",
            http.per_second,
            ms(http.p50),
            ms(http.p99),
            http.per_second / direct.per_second
        );
    }
}

fn main() {
    let ops: usize = std::env::var("SWAKELOLA_BENCH_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!("| database | request | clients | requests/s | p50 ms | p99 ms | HTTP ÷ store |");
        println!("|---|---|---|---|---|---|---|");
        let dir = std::env::temp_dir().join(format!("swakelola-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("load.db").display());
        bench("SQLite", SqlStore::connect(&url).await.unwrap(), ops).await;
        if let Ok(admin) = std::env::var("SWAKELOLA_TEST_POSTGRES_URL") {
            let url = SqlStore::create_scratch_database(&admin).await.unwrap();
            bench("PostgreSQL 15", SqlStore::connect(&url).await.unwrap(), ops).await;
        }
        let _ = std::fs::remove_dir_all(&dir);
    });
}
