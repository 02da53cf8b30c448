//! The runner's promise under failure: killed with SIGKILL again and again while it works
//! through many due timers, every timer still fires exactly once and every notification is
//! delivered at least once; three runners on one PostgreSQL share the work, and the work of a
//! runner that dies mid-lease is taken over.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use swakelola_store::{Parties, SqlStore, Store};
use swakelola_tests::{binary, fresh_postgres_database, own_postgres_cluster, root, temp_dir};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `cases` partnerships for fiscal year 2026 whose KAK stage began on Friday 29 August 2025,
/// two days before its deadline (31 August 2025): the deadline, its escalation and the first
/// overdue reminder are due now — three due timers each (the reminder's next repeat is then
/// scheduled ahead of now, not due).
async fn seed(url: &str, cases: usize) -> SqlStore {
    let store = SqlStore::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let read = |p: &str| std::fs::read_to_string(root().join(p)).unwrap();
    let calendars: Vec<(String, String)> = ["indonesia-2025.yaml", "indonesia-2026.yaml"]
        .iter()
        .map(|f| (f.to_string(), read(&format!("workflows/calendars/{f}"))))
        .collect();
    let now = Timestamp::now();
    store
        .deploy(
            "swakelola-tipe-3.yaml",
            &read("workflows/swakelola-tipe-3.yaml"),
            &calendars,
            now,
        )
        .await
        .unwrap();
    for n in 0..cases {
        swakelola_tests::overdue_kak_case(&store, &format!("K-{n}"), Parties::default()).await;
    }
    store
}

fn spawn_runner(dir: &Path, url: &str, log: &str) -> Child {
    spawn_runner_with(dir, url, log, &[])
}

fn spawn_runner_with(dir: &Path, url: &str, log: &str, extra: &[&str]) -> Child {
    let stdout = std::fs::File::create(dir.join(format!("{log}.out"))).unwrap();
    let stderr = std::fs::File::create(dir.join(format!("{log}.err"))).unwrap();
    Command::new(binary())
        .args(["run", "--poll", "1", "--lease", "2", "--batch", "5"])
        .args(extra)
        .current_dir(dir)
        .env("SWAKELOLA_DATABASE_URL", url)
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr))
        .spawn()
        .unwrap()
}

fn terminate(mut child: Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "a runner did not stop cleanly");
}

/// Due timers and undelivered log messages left in the database, outside the case `except`.
async fn remaining_except(store: &SqlStore, except: &str) -> (i64, i64) {
    let now = Timestamp::now().as_millisecond();
    let timers: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM timers WHERE due_at <= $1 AND case_id <> $2")
            .bind(now)
            .bind(except)
            .fetch_one(store.pool())
            .await
            .unwrap();
    let messages: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE channel = 'log' AND state <> 'sent' AND case_id <> $1",
    )
    .bind(except)
    .fetch_one(store.pool())
    .await
    .unwrap();
    (timers, messages)
}

/// Timers fired so far, over all cases.
async fn fired_so_far(store: &SqlStore) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE kind = 'timer_fired'")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

async fn remaining(store: &SqlStore) -> (i64, i64) {
    remaining_except(store, "").await
}

async fn wait_until_done(store: &SqlStore, limit: Duration) {
    wait_until_done_except(store, "", limit).await;
}

async fn wait_until_done_except(store: &SqlStore, except: &str, limit: Duration) {
    let started = Instant::now();
    loop {
        // A restarting server may refuse a query or two: look again.
        let left =
            tokio::time::timeout(Duration::from_secs(5), remaining_except(store, except)).await;
        if let Ok((0, 0)) = left {
            break;
        }
        assert!(
            started.elapsed() < limit,
            "work left after {limit:?}: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Checks the history and the delivered log; returns (timers fired, duplicate deliveries).
async fn check_exactly_once(store: &SqlStore, dir: &Path, cases: usize) -> (usize, usize) {
    check_exactly_once_except(store, dir, cases, "").await
}

/// Like [`check_exactly_once`], leaving the case `except` out.
async fn check_exactly_once_except(
    store: &SqlStore,
    dir: &Path,
    cases: usize,
    except: &str,
) -> (usize, usize) {
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM cases WHERE id <> $1")
        .bind(except)
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(ids.len(), cases);
    let mut fired = 0;
    for id in &ids {
        let mut timers: Vec<String> = store
            .history(id)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|e| match e.event.kind {
                swakelola_core::EventKind::TimerFired { timer, .. } => Some(timer),
                _ => None,
            })
            .collect();
        let count = timers.len();
        timers.sort();
        timers.dedup();
        assert_eq!(timers.len(), count, "case {id}: a timer fired twice");
        assert_eq!(
            timers,
            [
                "deadline:penyusunan_kak:3:due",
                "deadline:penyusunan_kak:3:escalation:0",
                "deadline:penyusunan_kak:3:reminder:3:0",
            ],
            "case {id}"
        );
        fired += count;
        assert_eq!(store.verify(id).await.unwrap().first_tampered, None);
    }
    // Every stored log message was printed by some runner at least once.
    let keys: Vec<String> =
        sqlx::query_scalar("SELECT key FROM outbox WHERE channel = 'log' AND case_id <> $1")
            .bind(except)
            .fetch_all(store.pool())
            .await
            .unwrap();
    let mut printed: BTreeMap<String, usize> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) == Some("out") {
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                // A SIGKILL may cut the last line of a log short.
                if let Ok(value) = serde_json::from_str::<serde_json::Value>(line) {
                    *printed
                        .entry(value["key"].as_str().unwrap_or_default().to_owned())
                        .or_default() += 1;
                }
            }
        }
    }
    for key in &keys {
        assert!(
            printed.contains_key(key),
            "message {key} was never delivered"
        );
    }
    let duplicates = printed.values().map(|n| n - 1).sum();
    (fired, duplicates)
}

#[test]
fn killed_runners_lose_nothing_and_fire_nothing_twice() {
    let dir = temp_dir("swakelola-crash");
    let url = format!("sqlite://{}", dir.join("swakelola.db").display());
    let cases = 120;
    runtime().block_on(async {
        let store = seed(&url, cases).await;
        // Kill the runner while it works: each time only after it has fired something more
        // (whatever the machine's speed), and count the kills that left work undone.
        let mut interrupted = 0;
        for round in 0..8 {
            let before = fired_so_far(&store).await;
            if remaining(&store).await == (0, 0) {
                break;
            }
            let mut child = spawn_runner(&dir, &url, &format!("killed-{round}"));
            let started = Instant::now();
            while fired_so_far(&store).await == before && remaining(&store).await != (0, 0) {
                assert!(started.elapsed() < Duration::from_secs(60), "the runner fired nothing");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            child.kill().unwrap();
            child.wait().unwrap();
            if remaining(&store).await != (0, 0) {
                interrupted += 1;
            }
        }
        assert!(
            interrupted >= 3,
            "only {interrupted} kills landed while work was left; the test did not test crashes"
        );
        let last = spawn_runner(&dir, &url, "final");
        wait_until_done(&store, Duration::from_secs(120)).await;
        terminate(last);
        let (fired, duplicates) = check_exactly_once(&store, &dir, cases).await;
        assert_eq!(fired, 3 * cases);
        eprintln!("crash test: {fired} timers fired exactly once; {duplicates} duplicate deliveries after {interrupted} SIGKILLs mid-work");
    });
}

#[test]
fn three_runners_share_one_postgres_and_take_over_a_dead_ones_work() {
    let Some(url) = fresh_postgres_database() else {
        return;
    };
    let dir = temp_dir("swakelola-scale");
    let cases = 1000;
    runtime().block_on(async {
        let store = seed(&url, cases).await;
        // A runner that claimed 50 timers and died holding them: nobody may fire them until
        // the lease runs out, then the others must.
        let now = Timestamp::now();
        let lease = now.checked_add(jiff::SignedDuration::from_secs(2)).unwrap();
        let orphaned = store
            .claim_due_timers("died-holding-leases", now, lease, 50)
            .await
            .unwrap();
        assert_eq!(orphaned.len(), 50);
        let doomed = spawn_runner(&dir, &url, "doomed");
        let runners: Vec<Child> = (0..3)
            .map(|n| spawn_runner(&dir, &url, &format!("runner-{n}")))
            .collect();
        // One runner dies mid-lease, once the work is under way; its claimed timers go to the
        // others when the lease ends.
        let started = Instant::now();
        while fired_so_far(&store).await == 0 {
            assert!(started.elapsed() < Duration::from_secs(60), "nothing fired");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut doomed = doomed;
        doomed.kill().unwrap();
        doomed.wait().unwrap();
        wait_until_done(&store, Duration::from_secs(180)).await;
        for runner in runners {
            terminate(runner);
        }
        let (fired, duplicates) = check_exactly_once(&store, &dir, cases).await;
        assert_eq!(fired, 3 * cases);
        // The work was shared: every surviving runner fired timers.
        let mut shares = Vec::new();
        for n in 0..3 {
            let log = std::fs::read_to_string(dir.join(format!("runner-{n}.err"))).unwrap();
            let share: u64 = log
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter_map(|v| v["timers_fired"].as_u64())
                .sum();
            shares.push(share);
        }
        assert!(shares.iter().all(|s| *s > 0), "work not shared: {shares:?}");
        eprintln!(
            "scale-out: {fired} timers, shares {shares:?}, {duplicates} duplicate deliveries"
        );
    });
}

/// Everything at once on PostgreSQL: a poisoned case, a runner killed with SIGKILL while it
/// works, and the database server restarted under the survivors. Every healthy timer fires
/// exactly once, every healthy message is delivered, and the poisoned case ends set aside.
#[test]
fn chaos_of_kills_restarts_and_poison_loses_nothing_healthy() {
    let Some(cluster) = own_postgres_cluster() else {
        return;
    };
    let dir = temp_dir("swakelola-chaos");
    let cases = 200;
    runtime().block_on(async {
        let url = SqlStore::create_scratch_database(&cluster.url()).await.unwrap();
        let store = seed(&url, cases + 1).await;
        let poisoned: String = sqlx::query_scalar("SELECT id FROM cases ORDER BY id LIMIT 1")
            .fetch_one(store.pool())
            .await
            .unwrap();
        sqlx::query("UPDATE cases SET state = '{\"broken\": true}' WHERE id = $1")
            .bind(poisoned.as_str())
            .execute(store.pool())
            .await
            .unwrap();
        let fast_retry = ["--retry-base", "1", "--max-attempts", "3"];
        let mut victim = spawn_runner_with(&dir, &url, "victim", &fast_retry);
        let survivor = spawn_runner_with(&dir, &url, "survivor", &fast_retry);
        // Kill only once work is under way, so the kill lands mid-work.
        let started = Instant::now();
        loop {
            let fired: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE kind = 'timer_fired'")
                    .fetch_one(store.pool())
                    .await
                    .unwrap();
            if fired > 0 {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "no timer fired");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        victim.kill().unwrap();
        victim.wait().unwrap();
        let fired_at_kill: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE kind = 'timer_fired'")
                .fetch_one(store.pool())
                .await
                .unwrap();
        // The server goes away under the survivor and comes back.
        store.pool().close().await;
        cluster.restart();
        let store = SqlStore::connect(&url).await.unwrap();
        let late = spawn_runner_with(&dir, &url, "late", &fast_retry);
        wait_until_done_except(&store, &poisoned, Duration::from_secs(180)).await;
        // The poisoned case's timers end dead, with their error, once their retries are spent.
        let started = Instant::now();
        loop {
            let failed = store.timers(true, 100).await.unwrap();
            if !failed.is_empty() && failed.iter().all(|t| t.state == "dead") {
                assert!(failed.iter().all(|t| t.case_id == poisoned), "{failed:?}");
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "{failed:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        terminate(survivor);
        terminate(late);
        let (fired, duplicates) = check_exactly_once_except(&store, &dir, cases, &poisoned).await;
        assert_eq!(fired, 3 * cases);
        assert!(
            (fired_at_kill as usize) < 3 * cases,
            "the kill landed after all the work was done"
        );
        eprintln!(
            "chaos: {fired} healthy timers fired exactly once ({fired_at_kill} before the kill), {duplicates} duplicate deliveries, poisoned case set aside"
        );
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// A workflow migration killed with SIGKILL again and again while it moves 2 000 cases onto
/// version 2: re-running the same plan finishes it, every case is migrated exactly once (one
/// `migrated` event, on version 2), a case is never half-moved, and every chain verifies.
#[test]
fn a_killed_migration_resumes_and_moves_every_case_exactly_once() {
    let dir = temp_dir("swakelola-crash-migrate");
    let url = format!("sqlite://{}", dir.join("swakelola.db").display());
    let cases = 2_000;
    runtime().block_on(async {
        let store = SqlStore::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let read = |p: &str| std::fs::read_to_string(root().join(p)).unwrap();
        let calendars: Vec<(String, String)> = ["indonesia-2025.yaml", "indonesia-2026.yaml"]
            .iter()
            .map(|f| (f.to_string(), read(&format!("workflows/calendars/{f}"))))
            .collect();
        let opened: Timestamp = "2026-11-02T03:00:00Z".parse().unwrap();
        store
            .deploy("v1.yaml", &read("workflows/swakelola-tipe-3.yaml"), &calendars, opened)
            .await
            .unwrap();
        // Audiences: version 2 gives them 15 working days instead of 10.
        for n in 0..cases {
            let request = swakelola_store::OpenCase {
                origin: None,
                workflow_id: "swakelola-tipe-3".into(),
                organisation: "dp3a-palembang".into(),
                business_key: format!("M-{n:04}"),
                actor: swakelola_core::Actor::new("Siti", "pimpinan_ormas"),
                fields: [
                    ("nama_kegiatan", "Pendampingan"),
                    ("instansi", "DP3A Kota Palembang"),
                    ("ormas", "Yayasan Intan Maharani"),
                    ("tahun_anggaran", "2027"),
                ]
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
                parties: Parties::default(),
            };
            store.open(&request, opened).await.unwrap();
        }
        store
            .deploy(
                "v2.yaml",
                &read("workflows/migrations/swakelola-tipe-3-v2.yaml"),
                &calendars,
                opened,
            )
            .await
            .unwrap();
        let plan = root().join("workflows/migrations/plans/2027-v1-ke-v2.yaml");
        let plan = plan.to_str().unwrap();
        let migrated = || async {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM events WHERE kind = 'migrated'")
                .fetch_one(store.pool())
                .await
                .unwrap()
        };
        let spawn = |log: &str| {
            let stdout = std::fs::File::create(dir.join(format!("{log}.out"))).unwrap();
            Command::new(binary())
                .args(["workflow", "migrate", plan, "--actor", "Admin Kota"])
                .current_dir(&dir)
                .env("SWAKELOLA_DATABASE_URL", &url)
                .stdout(Stdio::from(stdout))
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        let mut interrupted = 0;
        for round in 0..4 {
            let before = migrated().await;
            let mut child = spawn(&format!("killed-{round}"));
            let started = Instant::now();
            // Kill only once it has moved more cases, so the kill lands mid-work.
            while migrated().await < before + 50 {
                assert!(started.elapsed() < Duration::from_secs(120), "the migration moved nothing");
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            child.kill().unwrap();
            child.wait().unwrap();
            if migrated().await < cases as i64 {
                interrupted += 1;
            }
        }
        assert!(
            interrupted >= 3,
            "only {interrupted} kills landed mid-migration; the test did not test crashes"
        );
        let status = spawn("final").wait().unwrap();
        assert_eq!(status.code(), Some(0));
        // Exactly once, and never half: the version moved with the event.
        let per_case: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT c.id, c.workflow_version, (SELECT COUNT(*) FROM events e WHERE e.case_id = c.id AND e.kind = 'migrated')
               FROM cases c",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        assert_eq!(per_case.len(), cases);
        for (id, version, events) in &per_case {
            assert_eq!((*version, *events), (2, 1), "case {id}");
            assert_eq!(store.verify(id).await.unwrap().first_tampered, None, "case {id}");
        }
        // Once more: nothing left to do.
        let again = swakelola_tests::swakelola_in(&dir, &url, &["workflow", "migrate", plan, "--actor", "Admin Kota"]);
        assert_eq!(again.status.code(), Some(0));
        assert!(swakelola_tests::stdout(&again).contains("Tidak ada kasus terbuka"));
        eprintln!("migration crash test: {cases} cases migrated exactly once after {interrupted} SIGKILLs mid-migration");
    });
}
