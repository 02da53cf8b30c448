//! Pages per second: *Tugas saya* and a case page, next to the API's JSON read of the same
//! case, on SQLite holding `SWAKELOLA_BENCH_CASES` cases (default 10 000) of one organisation.
//!
//! `cargo bench -p swakelola-web --bench pages`. The server runs in this process on a loopback
//! port (tokio, 2 worker threads) and the load generator (reqwest, one keep-alive connection
//! per client) shares the same 2 cores. The baseline is `GET /v1/cases/{id}` of the same case
//! with a bearer token, in the same run, with the same clients: the page ÷ API ratio is
//! measured, not assumed. `SWAKELOLA_BENCH_OPS` sets the requests per measurement (default
//! 2000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use swakelola_api::AppState;
use swakelola_core::Actor;
use swakelola_store::{OpenCase, Parties, SqlStore, Store};

fn now() -> Timestamp {
    "2024-12-12T02:00:00Z".parse().unwrap()
}

fn read(path: &str) -> String {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read_to_string(root.join(path)).unwrap()
}

struct Measured {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

async fn measure(
    clients: usize,
    ops: usize,
    url: String,
    header: (&'static str, String),
) -> Measured {
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (url, header) = (url.clone(), header.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut latencies = Vec::with_capacity(ops / clients);
                for _ in 0..ops / clients {
                    let started = Instant::now();
                    let response = client
                        .get(&url)
                        .header(header.0, &header.1)
                        .send()
                        .await
                        .unwrap();
                    assert!(response.status().is_success(), "{}", response.status());
                    response.bytes().await.unwrap();
                    latencies.push(started.elapsed());
                }
                latencies
            })
        })
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

fn main() {
    let ops: usize = std::env::var("SWAKELOLA_BENCH_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let cases: usize = std::env::var("SWAKELOLA_BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = std::env::temp_dir().join(format!("swakelola-pages-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = SqlStore::connect(&format!("sqlite://{}", dir.join("pages.db").display()))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let calendars: Vec<(String, String)> = ["indonesia-2024.yaml", "indonesia-2025.yaml"]
            .iter()
            .map(|f| (f.to_string(), read(&format!("workflows/calendars/{f}"))))
            .collect();
        store
            .deploy("swakelola-tipe-3.yaml", &read("workflows/swakelola-tipe-3.yaml"), &calendars, now())
            .await
            .unwrap();
        let opened = Instant::now();
        let mut first = String::new();
        for n in 0..cases {
            let mut parties = Parties::default();
            parties.organisations.insert("instansi".into(), "dp3a-palembang".into());
            let case = store
                .open(
                    &OpenCase {
                        origin: None,
                        workflow_id: "swakelola-tipe-3".into(),
                        organisation: "dp3a-palembang".into(),
                        business_key: format!("DP3A-2025-{n:05}"),
                        actor: Actor::new("Budi Santoso", "ppk"),
                        fields: vec![
                            ("nama_kegiatan".into(), format!("Kegiatan {n}")),
                            ("instansi".into(), "DP3A Kota Palembang".into()),
                            ("ormas".into(), "Yayasan Intan Maharani".into()),
                            ("tahun_anggaran".into(), "2025".into()),
                        ],
                        parties,
                    },
                    now(),
                )
                .await
                .unwrap();
            if n == 0 {
                first = case.case.id.clone();
            }
        }
        eprintln!("{cases} cases opened in {:.1} s", opened.elapsed().as_secs_f64());
        let roles = vec!["ppk".to_owned(), "tim_persiapan".to_owned()];
        let (_, link) = store
            .create_user("Budi Santoso", "budi@dp3a.example", "dp3a-palembang", &roles, now())
            .await
            .unwrap();
        store.set_password(&link, "sandi-yang-panjang", now()).await.unwrap();
        let (cookie, _) = store
            .sign_in("budi@dp3a.example", "sandi-yang-panjang", "127.0.0.1", now())
            .await
            .unwrap();
        let (_, token) = store
            .create_token("bench", "dp3a-palembang", &roles, None, now())
            .await
            .unwrap();
        let store = Arc::new(store);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = AppState {
            clock: now,
            ..AppState::new(store.clone())
        };
        tokio::spawn(swakelola_api::serve_with(
            listener,
            state,
            swakelola_web::pages(swakelola_web::WebConfig::default()),
            std::future::pending(),
        ));
        println!("| cases | request | clients | requests/s | p50 ms | p99 ms | ÷ API read |");
        println!("|---|---|---|---|---|---|---|");
        let session = ("cookie", format!("swk_sesi={cookie}"));
        let bearer = ("authorization", format!("Bearer {token}"));
        for clients in [1, 4] {
            let api = measure(clients, ops, format!("{base}/v1/cases/{first}"), bearer.clone()).await;
            println!(
                "| {cases} | API: GET /v1/cases/{{id}} (baseline) | {clients} | {:.0} | {} | {} | |",
                api.per_second,
                ms(api.p50),
                ms(api.p99)
            );
            for (name, path) in [
                ("case page /kasus/{key}", "/kasus/DP3A-2025-00000".to_owned()),
                ("Tugas saya /", "/".to_owned()),
            ] {
                let page = measure(clients, ops, format!("{base}{path}"), session.clone()).await;
                println!(
                    "| {cases} | {name} | {clients} | {:.0} | {} | {} | {:.2} |",
                    page.per_second,
                    ms(page.p50),
                    ms(page.p99),
                    page.per_second / api.per_second
                );
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    });
}
