//! One conformance suite, run against SQLite and against a real PostgreSQL.
//!
//! Each PostgreSQL test gets a fresh database on the server `swakelola_testkit` provides
//! (`SWAKELOLA_TEST_POSTGRES_URL`, or a throw-away cluster it starts); only
//! `SWAKELOLA_SKIP_POSTGRES=1` skips them, saying so.

use std::path::PathBuf;
use std::sync::Arc;

use jiff::Timestamp;
use swakelola_core::Actor;
use swakelola_core::LinkKind;

#[path = "support/walk.rs"]
mod walk;
use swakelola_core::step::Action;
use swakelola_store::{
    CaseCommand, CaseFilter, CaseRecord, Contact, Error, Fired, Invalid, OpenCase, Origin, Parties,
    SqlStore, Store,
};
use walk::{attach, command, force, prepare_contract};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn now() -> Timestamp {
    "2025-03-24T02:00:00Z".parse().unwrap()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap()
}

fn calendars() -> Vec<(String, String)> {
    ["indonesia-2025.yaml", "indonesia-2026.yaml"]
        .iter()
        .map(|f| (f.to_string(), read(&format!("workflows/calendars/{f}"))))
        .collect()
}

async fn sqlite() -> SqlStore {
    let dir = swakelola_testkit::scratch_dir("swakelola-test");
    let url = format!("sqlite://{}", dir.join("test.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    store
}

/// A fresh PostgreSQL database, or `None` (with a note) when no server is configured.
async fn postgres() -> Option<SqlStore> {
    let admin_url = swakelola_testkit::postgres_admin_url()?;
    let url = SqlStore::create_scratch_database(&admin_url)
        .await
        .expect("create a PostgreSQL test database");
    let store = SqlStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    Some(store)
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(std::sync::Arc::new(super::sqlite().await)).await;
                }
            )*
        }
        mod postgres_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(store) = super::postgres().await {
                        super::$name(std::sync::Arc::new(store)).await;
                    }
                }
            )*
        }
    };
}

conformance!(
    deploying_is_versioned_and_idempotent,
    the_seed_partnership_runs_to_closed,
    opening_twice_returns_the_same_case,
    bad_commands_change_nothing,
    idempotency_keys_apply_a_request_once,
    concurrent_fires_one_wins_the_rest_conflict,
    concurrent_opens_create_one_case,
    tampering_is_detected,
    timers_and_outbox_follow_the_case,
    listing_filters_cases,
    open_cases_keep_their_workflow_version,
    due_timers_fire_exactly_once_across_runners,
    an_expired_lease_is_taken_over,
    input_that_cannot_be_stored_is_refused_with_its_path,
    a_deploy_whose_calendars_clash_is_refused_and_cases_still_load,
    every_process_counts_on_the_newest_calendars,
    failing_timers_back_off_then_wait_dead_for_an_operator,
    outbox_and_timers_listings_respect_organisations,
    a_new_holiday_moves_pending_deadlines_once,
    the_calendar_of_a_new_year_settles_provisional_deadlines,
    people_sign_in_with_a_password_set_through_a_one_time_link,
    an_organisations_cases_come_most_urgent_first_and_are_counted,
    records_are_kept_and_a_rule_over_their_sum_refuses_an_excess,
    two_signers_at_once_fire_the_joint_sign_off_exactly_once,
    a_coalition_member_sees_the_case_until_it_is_withdrawn,
    access_always_equals_the_members_of_the_parties,
    a_partnership_continues_year_after_year_and_is_replicated,
    a_batch_commits_the_cases_that_fire_whatever_the_others_do,
    a_migration_applies_what_its_dry_run_showed_and_runs_once,
    a_case_changed_during_a_migration_keeps_the_change,
);

async fn deploy(store: &SqlStore) {
    store
        .deploy(
            "swakelola-tipe-3.yaml",
            &read("workflows/swakelola-tipe-3.yaml"),
            &calendars(),
            now(),
        )
        .await
        .unwrap();
}

fn seed_request(key: &str) -> OpenCase {
    OpenCase {
        origin: None,
        workflow_id: "swakelola-tipe-3".into(),
        organisation: "dp3a-palembang".into(),
        business_key: key.into(),
        actor: Actor::new("Siti Aminah", "pimpinan_ormas"),
        fields: vec![
            (
                "nama_kegiatan".into(),
                "Pendampingan korban kekerasan".into(),
            ),
            ("instansi".into(), "DP3A Kota Palembang".into()),
            ("ormas".into(), "Yayasan Intan Maharani".into()),
            ("tahun_anggaran".into(), "2025".into()),
        ],
        parties: Parties {
            organisations: [
                ("instansi".into(), "dp3a-palembang".into()),
                ("ormas".into(), "yayasan-intan-maharani".into()),
            ]
            .into_iter()
            .collect(),
            members: Default::default(),
            contacts: [(
                "ppk".to_owned(),
                vec![Contact {
                    name: "Budi".into(),
                    address: "email:budi@dp3a.example".into(),
                }],
            )]
            .into_iter()
            .collect(),
        },
    }
}

/// Opens the seed partnership under `key` and returns the case id.
async fn open_seed(store: &SqlStore, key: &str) -> String {
    store.open(&seed_request(key), now()).await.unwrap().case.id
}

/// Everything a command could change, to compare before and after a refused one.
async fn snapshot(store: &SqlStore, case_id: &str) -> (String, usize, i64, i64, i64) {
    let record = store.case(case_id).await.unwrap();
    let history = store.history(case_id).await.unwrap();
    let count = |table: &'static str| async move {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
            .fetch_one(store.pool())
            .await
            .unwrap()
    };
    (
        serde_json::to_string(&record).unwrap(),
        history.len(),
        count("timers").await,
        count("outbox").await,
        count("idempotency").await + count("documents").await + count("blobs").await,
    )
}

async fn deploying_is_versioned_and_idempotent(store: Arc<SqlStore>) {
    let source = read("workflows/persetujuan-dokumen.yaml");
    let first = store
        .deploy("a.yaml", &source, &calendars(), now())
        .await
        .unwrap();
    assert!(first.created);
    assert_eq!(first.workflow.version, 1);
    let again = store
        .deploy("a.yaml", &source, &calendars(), now())
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.workflow.version, 1);
    let changed = source.replace("after: 5 working days", "after: 6 working days");
    let second = store
        .deploy("a.yaml", &changed, &calendars(), now())
        .await
        .unwrap();
    assert_eq!((second.workflow.version, second.created), (2, true));
    let broken = source.replace("to: pemeriksaan", "to: nowhere");
    let err = store
        .deploy("a.yaml", &broken, &calendars(), now())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidWorkflow(_)), "{err}");
    assert!(err.to_string().contains("unknown stage `nowhere`"), "{err}");
    let versions: Vec<u32> = store
        .workflows()
        .await
        .unwrap()
        .iter()
        .map(|w| w.version)
        .collect();
    assert_eq!(versions, [1, 2]);
}

async fn the_seed_partnership_runs_to_closed(store: Arc<SqlStore>) {
    deploy(&store).await;
    let opened = store
        .open(&seed_request("DP3A-2025-001"), now())
        .await
        .unwrap();
    assert!(opened.created);
    let id = opened.case.id.clone();
    for transition in walk::TO_CONTRACT.into_iter().chain([
        "tandatangani_kontrak",
        "serahkan_hasil",
        "tandatangani_bast",
        "serahkan_ke_pa",
        "ajukan_laporan_akhir",
        "tutup",
    ]) {
        force(&store, &id, transition).await;
    }
    let record = store.case(&id).await.unwrap();
    assert_eq!(record.state.stage, "selesai");
    assert!(record.state.is_closed());
    let history = store.history(&id).await.unwrap();
    assert_eq!(history.len() as u64, record.state.revision);
    let verification = store.verify(&id).await.unwrap();
    assert_eq!(verification.first_tampered, None);
    assert_eq!(verification.events, record.state.revision);
    // Documents are stored and retrievable by digest.
    let kak = record
        .state
        .documents
        .iter()
        .find(|d| d.document_type == "kak")
        .unwrap();
    assert_eq!(store.document(&kak.sha256).await.unwrap(), b"isi kak");
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM timers")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(pending, 0, "a closed case has no timers");
}

async fn opening_twice_returns_the_same_case(store: Arc<SqlStore>) {
    deploy(&store).await;
    let first = store.open(&seed_request("K-1"), now()).await.unwrap();
    let second = store.open(&seed_request("K-1"), now()).await.unwrap();
    assert_eq!(first.case.id, second.case.id);
    assert!(!second.created && second.event.is_none());
    let mut different = seed_request("K-1");
    different.fields[3].1 = "2026".into();
    let err = store.open(&different, now()).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err}");
    let mut unknown = seed_request("K-2");
    unknown.workflow_id = "tidak-ada".into();
    assert!(matches!(
        store.open(&unknown, now()).await.unwrap_err(),
        Error::WorkflowNotFound(_)
    ));
    let mut invalid = seed_request("K-3");
    invalid.fields[3].1 = "dua ribu".into();
    assert_eq!(
        store.open(&invalid, now()).await.unwrap_err().code(),
        "invalid_field_value"
    );
    let cases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(cases, 1);
}

async fn bad_commands_change_nothing(store: Arc<SqlStore>) {
    deploy(&store).await;
    let id = open_seed(&store, "K-1").await;
    let before = snapshot(&store, &id).await;
    let fire = |role: &str, transition: &str| {
        command(
            &id,
            role,
            Action::Fire {
                transition: transition.into(),
                comment: None,
            },
        )
    };
    let bad = [
        (fire("ppk", "terima_kak"), "wrong_stage"),
        (fire("ppk", "catat_audiensi"), "role_not_allowed"),
        (fire("pimpinan_ormas", "catat_audiensi"), "guards_not_met"),
        (
            command(
                &id,
                "ppk",
                Action::SetField {
                    field: "pagu".into(),
                    value: "banyak".into(),
                },
            ),
            "invalid_field_value",
        ),
        (
            CaseCommand {
                idempotency_key: Some("bukan kunci!".into()),
                ..fire("pimpinan_ormas", "catat_audiensi")
            },
            "invalid_request",
        ),
        (
            CaseCommand {
                content: Some(b"other bytes".to_vec()),
                ..attach(&id, "fasilitator", "notulen_audiensi", b"notulen")
            },
            "invalid_request",
        ),
        (
            CaseCommand {
                content: None,
                ..attach(&id, "fasilitator", "notulen_audiensi", b"notulen")
            },
            "invalid_request",
        ),
        (
            CaseCommand {
                case_id: "tidak-ada".into(),
                ..fire("ppk", "batalkan")
            },
            "case_not_found",
        ),
        (
            CaseCommand {
                expected_revision: Some(7),
                ..fire("ppk", "batalkan")
            },
            "conflict",
        ),
    ];
    for (bad, code) in bad {
        let err = store.execute(&bad, now()).await.unwrap_err();
        assert_eq!(err.code(), code, "{err}");
        assert_eq!(snapshot(&store, &id).await, before, "after {code}");
    }
    let err = store.case("tidak-ada").await.unwrap_err();
    assert!(
        matches!(&err, Error::CaseNotFound(reference) if reference == "tidak-ada"),
        "{err}"
    );
}

async fn idempotency_keys_apply_a_request_once(store: Arc<SqlStore>) {
    deploy(&store).await;
    let id = open_seed(&store, "K-1").await;
    let mut request = attach(&id, "fasilitator", "notulen_audiensi", b"notulen rapat");
    request.idempotency_key = Some("0192b1c4-attach-1".into());
    let first = store.execute(&request, now()).await.unwrap();
    assert!(first.created);
    let again = store.execute(&request, now()).await.unwrap();
    assert!(!again.created && again.event.is_none());
    assert_eq!(store.history(&id).await.unwrap().len(), 2);
    let mut other = command(
        &id,
        "ppk",
        Action::SetField {
            field: "pagu".into(),
            value: "1000".into(),
        },
    );
    other.idempotency_key = request.idempotency_key.clone();
    assert_eq!(
        store.execute(&other, now()).await.unwrap_err().code(),
        "conflict"
    );
}

async fn concurrent_fires_one_wins_the_rest_conflict(store: Arc<SqlStore>) {
    deploy(&store).await;
    let id = open_seed(&store, "K-1").await;
    let revision = store.case(&id).await.unwrap().state.revision;
    let mut tasks = Vec::new();
    for n in 0..12 {
        let store = store.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            let mut request = command(
                &id,
                "ppk",
                Action::SetField {
                    field: "pagu".into(),
                    value: format!("{}", 1000 + n),
                },
            );
            request.expected_revision = Some(revision);
            store.execute(&request, now()).await
        }));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(Error::Conflict(_)) => {}
            Err(other) => panic!("expected success or conflict, got {other}"),
        }
    }
    assert_eq!(won, 1);
    // Without an expected revision every command applies, one after the other.
    let mut tasks = Vec::new();
    for n in 0..12 {
        let store = store.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            let request = command(
                &id,
                "ppk",
                Action::SetField {
                    field: "pagu".into(),
                    value: format!("{}", 2000 + n),
                },
            );
            loop {
                match store.execute(&request, now()).await {
                    Err(Error::Conflict(_)) => continue,
                    other => break other,
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let history = store.history(&id).await.unwrap();
    let seqs: Vec<u64> = history.iter().map(|e| e.event.revision).collect();
    assert_eq!(seqs, (1..=14).collect::<Vec<_>>());
    assert_eq!(store.verify(&id).await.unwrap().first_tampered, None);
}

async fn concurrent_opens_create_one_case(store: Arc<SqlStore>) {
    deploy(&store).await;
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.open(&seed_request("SAME"), now()).await
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap().unwrap().case.id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let cases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(cases, 1);
}

async fn tampering_is_detected(store: Arc<SqlStore>) {
    deploy(&store).await;
    let id = open_seed(&store, "K-1").await;
    force(&store, &id, "catat_audiensi").await;
    force(&store, &id, "serahkan_kak").await;
    let events = store.verify(&id).await.unwrap().events;
    assert!(events >= 5);
    sqlx::query("UPDATE events SET actor = 'penyusup' WHERE case_id = $1 AND seq = 3")
        .bind(id.as_str())
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(store.verify(&id).await.unwrap().first_tampered, Some(3));
    // Removing the newest event leaves a shorter, internally consistent chain: the case's
    // revision still gives it away.
    let other = open_seed(&store, "K-2").await;
    force(&store, &other, "catat_audiensi").await;
    let revision = store.case(&other).await.unwrap().state.revision as i64;
    sqlx::query("DELETE FROM events WHERE case_id = $1 AND seq = $2")
        .bind(other.as_str())
        .bind(revision)
        .execute(store.pool())
        .await
        .unwrap();
    let verification = store.verify(&other).await.unwrap();
    assert_eq!(verification.first_tampered, Some(revision as u64));
    assert_eq!(verification.events, revision as u64 - 1);

    // A middle event removed: the gap is named.
    let third = open_seed(&store, "K-3").await;
    force(&store, &third, "catat_audiensi").await;
    force(&store, &third, "serahkan_kak").await;
    assert_eq!(store.verify(&third).await.unwrap().first_tampered, None);
    sqlx::query("DELETE FROM events WHERE case_id = $1 AND seq = 2")
        .bind(third.as_str())
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(store.verify(&third).await.unwrap().first_tampered, Some(2));

    // An event appended behind the engine's back, even one that copies the chain correctly
    // (its hash computed from the last one): the case row's revision and head give it away.
    let fourth = open_seed(&store, "K-4").await;
    force(&store, &fourth, "catat_audiensi").await;
    let (seq, hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM events WHERE case_id = $1 ORDER BY seq DESC LIMIT 1")
            .bind(fourth.as_str())
            .fetch_one(store.pool())
            .await
            .unwrap();
    sqlx::query(
        "INSERT INTO events (case_id, seq, at, actor, role, kind, payload, prev_hash, hash)
         SELECT case_id, $2, at, actor, role, kind, payload, $3, hash FROM events
          WHERE case_id = $1 AND seq = $4",
    )
    .bind(fourth.as_str())
    .bind(seq + 1)
    .bind(hash.as_str())
    .bind(seq)
    .execute(store.pool())
    .await
    .unwrap();
    let appended = store.verify(&fourth).await.unwrap();
    assert_eq!(appended.first_tampered, Some(seq as u64 + 1));
    assert_eq!(appended.events, seq as u64 + 1);
}

async fn timers_and_outbox_follow_the_case(store: Arc<SqlStore>) {
    deploy(&store).await;
    let id = open_seed(&store, "K-1").await;
    let keys = |store: Arc<SqlStore>| async move {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT key, due_at FROM timers ORDER BY key")
                .fetch_all(store.pool())
                .await
                .unwrap();
        rows
    };
    let record = store.case(&id).await.unwrap();
    let timers = keys(store.clone()).await;
    assert_eq!(timers.len(), record.state.timers.len());
    assert!(
        timers
            .iter()
            .all(|(k, _)| k.starts_with("deadline:audiensi:1"))
    );
    let next_due: Option<i64> = sqlx::query_scalar("SELECT next_due_at FROM cases WHERE id = $1")
        .bind(id.as_str())
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(
        next_due,
        record.state.next_due_at().map(|t| t.as_millisecond())
    );
    force(&store, &id, "catat_audiensi").await;
    let timers = keys(store.clone()).await;
    assert!(
        timers
            .iter()
            .all(|(k, _)| k.starts_with("deadline:penyusunan_kak")),
        "{timers:?}"
    );
    // catat_audiensi notifies tim_persiapan and fasilitator; and the KAK stage, begun after
    // the main 2025 budget's window (31 August 2024), tells its responsible roles (the head
    // of the Ormas and the facilitator) once that the revised budget's window now counts.
    // No contacts, so log rows.
    let outbox: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT channel, recipient, payload FROM outbox ORDER BY recipient, payload",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let mut kinds: Vec<(&str, &str, String)> = outbox
        .iter()
        .map(|(channel, recipient, payload)| {
            let payload: serde_json::Value = serde_json::from_str(payload).unwrap();
            let kind = payload["notification"]["kind"].as_str().unwrap().to_owned();
            (channel.as_str(), recipient.as_str(), kind)
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("log", "role:fasilitator", "late_entry".to_owned()),
            ("log", "role:fasilitator", "transitioned".into()),
            ("log", "role:pimpinan_ormas", "late_entry".into()),
            ("log", "role:tim_persiapan", "transitioned".into()),
        ]
    );
    // serahkan_kak notifies the PPK, who has an email contact.
    force(&store, &id, "serahkan_kak").await;
    let emails: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE channel = 'email' AND recipient = 'email:budi@dp3a.example'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(emails, 1);
}

async fn listing_filters_cases(store: Arc<SqlStore>) {
    deploy(&store).await;
    let a = open_seed(&store, "A").await;
    let mut other = seed_request("B");
    other.organisation = "dinsos-palembang".into();
    other.fields[3].1 = "2026".into();
    let b = store.open(&other, now()).await.unwrap().case.id;
    force(&store, &a, "catat_audiensi").await;
    let all = store.cases(&CaseFilter::default()).await.unwrap();
    assert_eq!(all.len(), 2);
    let first = store
        .cases(&CaseFilter {
            limit: 1,
            ..CaseFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        first.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [a.as_str()],
        "oldest first, limited"
    );
    let by_stage = store
        .cases(&CaseFilter {
            stage: Some("penyusunan_kak".into()),
            ..CaseFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        by_stage.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [a.as_str()]
    );
    let by_org = store
        .cases(&CaseFilter {
            organisation: Some("dinsos-palembang".into()),
            ..CaseFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(by_org.len(), 1);
    // Text search: the key, the organisation, a field value; any case; `%` is literal.
    for (text, expected) in [
        ("dinsos", 1),
        ("b", 2),
        ("  ", 2),
        ("YAYASAN INTAN", 2),
        ("%", 0),
    ] {
        let found = store
            .cases(&CaseFilter {
                text: Some(text.into()),
                ..CaseFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(found.len(), expected, "search {text:?}");
    }
    let by_year = store
        .cases(&CaseFilter {
            fiscal_year: Some(2026),
            ..CaseFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(by_year.len(), 1);
    // The 2025 case's KAK stage began after its main-budget day (31 Aug 2024), so the
    // revised budget's window (30 June 2025) counts: by mid-July it has passed; the 2026
    // case's (31 Aug 2025) has not.
    force(&store, &b, "catat_audiensi").await;
    let overdue = store
        .cases(&CaseFilter {
            overdue_at: Some("2025-07-15T00:00:00Z".parse().unwrap()),
            ..CaseFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        overdue.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [a.as_str()]
    );
}

async fn open_cases_keep_their_workflow_version(store: Arc<SqlStore>) {
    let v1 = read("workflows/persetujuan-dokumen.yaml");
    store
        .deploy("doc.yaml", &v1, &calendars(), now())
        .await
        .unwrap();
    let old = store
        .open(&document_request("OLD"), now())
        .await
        .unwrap()
        .case;
    assert_eq!(old.workflow_version, 1);
    // Version 2 lets the author submit without attaching a draft.
    let v2 = v1.replace("    requires:\n      documents: [draf]\n", "");
    assert_ne!(v1, v2);
    assert_eq!(
        store
            .deploy("doc.yaml", &v2, &calendars(), now())
            .await
            .unwrap()
            .workflow
            .version,
        2
    );
    let new = store
        .open(&document_request("NEW"), now())
        .await
        .unwrap()
        .case;
    assert_eq!(new.workflow_version, 2);
    let submit = |id: &str| {
        command(
            id,
            "penyusun",
            Action::Fire {
                transition: "ajukan".into(),
                comment: None,
            },
        )
    };
    store.execute(&submit(&new.id), now()).await.unwrap();
    let err = store.execute(&submit(&old.id), now()).await.unwrap_err();
    assert_eq!(
        err.code(),
        "guards_not_met",
        "the old case still follows version 1: {err}"
    );
}

/// Opening a `persetujuan-dokumen` case for business key `key`.
fn document_request(key: &str) -> OpenCase {
    OpenCase {
        origin: None,
        workflow_id: "persetujuan-dokumen".into(),
        organisation: "dp3a-palembang".into(),
        business_key: key.into(),
        actor: Actor::new("Siti", "penyusun"),
        fields: vec![("judul".into(), "Laporan".into())],
        parties: Parties::default(),
    }
}

async fn open_documents(store: &SqlStore, count: usize) -> Vec<String> {
    store
        .deploy(
            "doc.yaml",
            &read("workflows/persetujuan-dokumen.yaml"),
            &calendars(),
            now(),
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    for n in 0..count {
        let request = OpenCase {
            origin: None,
            fields: vec![("judul".into(), format!("Dokumen {n}"))],
            ..document_request(&format!("DOC-{n}"))
        };
        ids.push(store.open(&request, now()).await.unwrap().case.id);
    }
    ids
}

async fn due_timers_fire_exactly_once_across_runners(store: Arc<SqlStore>) {
    let cases = open_documents(&store, 15).await;
    // Six weeks later every deadline, reminder and repeat of the drafting stage is due.
    let later: Timestamp = "2025-05-05T02:00:00Z".parse().unwrap();
    let mut runners = Vec::new();
    for runner in 0..3 {
        let store = store.clone();
        runners.push(tokio::spawn(async move {
            let owner = format!("runner-{runner}");
            let mut fired = Vec::new();
            loop {
                let lease = later
                    .checked_add(jiff::SignedDuration::from_secs(30))
                    .unwrap();
                let claimed = store
                    .claim_due_timers(&owner, later, lease, 4)
                    .await
                    .unwrap();
                if claimed.is_empty() {
                    break fired;
                }
                for timer in claimed {
                    match store.fire_timer(&owner, &timer, later).await {
                        Ok(Fired::Fired) => fired.push((timer.case_id.clone(), timer.key.clone())),
                        Ok(_) => {}
                        // Two runners changed the same case at once: the loser's timer was
                        // released and is claimed again, exactly as `swakelola run` does.
                        Err(swakelola_store::Error::Conflict(_)) => {}
                        Err(other) => panic!("firing {timer:?}: {other}"),
                    }
                }
            }
        }));
    }
    let mut all = Vec::new();
    for runner in runners {
        all.extend(runner.await.unwrap());
    }
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), total, "a timer fired twice");
    // Every fired timer is in its case's history exactly once, and nothing due is left.
    let mut in_history = 0;
    for id in &cases {
        for stored in store.history(id).await.unwrap() {
            if let swakelola_core::EventKind::TimerFired { timer, .. } = &stored.event.kind {
                assert!(
                    all.contains(&(id.clone(), timer.clone())),
                    "{timer} fired outside the runners"
                );
                in_history += 1;
            }
        }
        assert_eq!(store.verify(id).await.unwrap().first_tampered, None);
        let state = store.case(id).await.unwrap().state;
        assert!(
            state.timers.values().all(|t| t.due_at > later),
            "a due timer was left behind"
        );
    }
    assert_eq!(in_history, total);
    // Per case: reminder (1 working day before), due, and the first overdue repeat.
    assert!(total >= cases.len() * 3, "only {total} timers fired");
}

async fn an_expired_lease_is_taken_over(store: Arc<SqlStore>) {
    open_documents(&store, 2).await;
    let later: Timestamp = "2025-05-05T02:00:00Z".parse().unwrap();
    let seconds = |n: i64| {
        later
            .checked_add(jiff::SignedDuration::from_secs(n))
            .unwrap()
    };
    let claimed = store
        .claim_due_timers("dies", later, seconds(10), 100)
        .await
        .unwrap();
    assert!(!claimed.is_empty());
    // While the lease holds, nobody else gets them.
    assert!(
        store
            .claim_due_timers("other", seconds(5), seconds(40), 100)
            .await
            .unwrap()
            .is_empty()
    );
    // After it expires, they are taken over, and the first runner is fenced off.
    let taken = store
        .claim_due_timers("other", seconds(11), seconds(40), 100)
        .await
        .unwrap();
    assert_eq!(taken.len(), claimed.len());
    assert_eq!(
        store
            .fire_timer("dies", &claimed[0], seconds(11))
            .await
            .unwrap(),
        Fired::LeaseLost
    );
    assert_eq!(
        store
            .fire_timer("other", &taken[0], seconds(11))
            .await
            .unwrap(),
        Fired::Fired
    );
    // Released timers are claimable at once.
    store.release_timer("other", &taken[1]).await.unwrap();
    let again = store
        .claim_due_timers("third", seconds(12), seconds(40), 100)
        .await
        .unwrap();
    assert!(
        again
            .iter()
            .any(|t| t.key == taken[1].key && t.case_id == taken[1].case_id)
    );
}

async fn input_that_cannot_be_stored_is_refused_with_its_path(store: Arc<SqlStore>) {
    deploy(&store).await;
    let cases_before = store.cases(&CaseFilter::default()).await.unwrap().len();
    let mut nul_contact = seed_request("NUL-1");
    nul_contact.parties.contacts.get_mut("ppk").unwrap()[0].address =
        "email:a\u{0}b@example.org".into();
    let mut nul_party = seed_request("NUL-2");
    nul_party
        .parties
        .organisations
        .insert("ormas".into(), "yayasan\u{0}x".into());
    let mut long_party = seed_request("NUL-3");
    long_party
        .parties
        .organisations
        .insert("ormas".into(), "y".repeat(300));
    let mut control_field = seed_request("NUL-4");
    control_field.fields[0].1 = "Pendampingan\u{1b}[31m".into();
    let mut internal_hook = seed_request("NUL-5");
    internal_hook.parties.contacts.get_mut("ppk").unwrap()[0].address =
        "webhook:http://169.254.169.254/latest/meta-data".into();
    for (request, path) in [
        (nul_contact, "contacts.ppk[0].address"),
        (nul_party, "parties.ormas"),
        (long_party, "parties.ormas"),
        (control_field, "fields.nama_kegiatan"),
        (internal_hook, "contacts.ppk[0].address"),
    ] {
        match store.open(&request, now()).await {
            Err(swakelola_store::Error::InvalidInput { path: got, .. }) => assert_eq!(got, path),
            other => panic!("{path}: expected a refusal, got {other:?}"),
        }
    }
    assert_eq!(
        store.cases(&CaseFilter::default()).await.unwrap().len(),
        cases_before,
        "a refused open stored a case"
    );
    // The same on commands: a comment with a NUL changes nothing.
    let case = store
        .open(&seed_request("NUL-OK"), now())
        .await
        .unwrap()
        .case;
    let before = snapshot(&store, &case.id).await;
    let refused = store
        .execute(
            &command(
                &case.id,
                "pimpinan_ormas",
                Action::Fire {
                    transition: "batalkan".into(),
                    comment: Some("batal\u{0}".into()),
                },
            ),
            now(),
        )
        .await;
    assert!(
        matches!(refused, Err(swakelola_store::Error::InvalidInput { ref path, .. }) if path == "comment"),
        "{refused:?}"
    );
    assert_eq!(snapshot(&store, &case.id).await, before);
}

async fn a_deploy_whose_calendars_clash_is_refused_and_cases_still_load(store: Arc<SqlStore>) {
    deploy(&store).await;
    let case = store
        .open(&seed_request("CAL-1"), now())
        .await
        .unwrap()
        .case;
    // The same calendar in another time zone: it would clash with the stored files.
    let clash = read("workflows/calendars/indonesia-2026.yaml")
        .replace("year: 2026", "year: 2027")
        .replace("2026-", "2027-")
        .replace("Asia/Jakarta", "Asia/Makassar");
    let refused = store
        .deploy(
            "doc.yaml",
            &read("workflows/persetujuan-dokumen.yaml"),
            &[("indonesia-2027.yaml".into(), clash)],
            now(),
        )
        .await;
    match refused {
        Err(swakelola_store::Error::InvalidWorkflow(diagnostics)) => assert!(
            diagnostics
                .iter()
                .any(|d| format!("{:?}", d.code) == "E054"),
            "{diagnostics:?}"
        ),
        other => panic!("expected the clash to be refused, got {other:?}"),
    }
    // Nothing was written: the stored workflow still loads and its case still moves.
    assert_eq!(store.workflows().await.unwrap().len(), 1);
    let fresh = SqlStore::connect(store.url()).await.unwrap();
    fresh.engine_for("swakelola-tipe-3", 1).await.unwrap();
    fresh
        .execute(
            &attach(&case.id, "fasilitator", "notulen_audiensi", b"notulen"),
            now(),
        )
        .await
        .unwrap();
    // Without calendars, a deploy uses the stored ones.
    store
        .deploy(
            "doc.yaml",
            &read("workflows/persetujuan-dokumen.yaml"),
            &[],
            now(),
        )
        .await
        .unwrap();
}

async fn every_process_counts_on_the_newest_calendars(store: Arc<SqlStore>) {
    deploy(&store).await;
    // Another process (the runner, say) has loaded the workflow and its calendars.
    let other = SqlStore::connect(store.url()).await.unwrap();
    let before = other.engine_for("swakelola-tipe-3", 1).await.unwrap();
    let added: jiff::civil::Date = "2025-08-19".parse().unwrap();
    assert!(before.calendar.is_working_day(added));
    // A holiday is added during the year (as 18 August 2025 was, during 2025).
    let changed = read("workflows/calendars/indonesia-2025.yaml").replace(
        "holidays:\n",
        "holidays:\n  - date: 2025-08-19\n    kind: collective_leave\n    name: Cuti bersama tambahan\n",
    );
    store
        .deploy(
            "swakelola-tipe-3.yaml",
            &read("workflows/swakelola-tipe-3.yaml"),
            &[("indonesia-2025.yaml".into(), changed)],
            now(),
        )
        .await
        .unwrap();
    let after = other.engine_for("swakelola-tipe-3", 1).await.unwrap();
    assert!(
        !after.calendar.is_working_day(added),
        "the other process still counts on the old calendar"
    );
}

async fn failing_timers_back_off_then_wait_dead_for_an_operator(store: Arc<SqlStore>) {
    open_documents(&store, 1).await;
    let later: Timestamp = "2025-05-05T02:00:00Z".parse().unwrap();
    let at = |seconds: i64| {
        later
            .checked_add(jiff::SignedDuration::from_secs(seconds))
            .unwrap()
    };
    let claimed = store.claim_due_timers("r", later, at(30), 1).await.unwrap();
    let timer = claimed[0].clone();
    assert_eq!(timer.attempts, 1);
    // A failure with a retry time: not claimable before it, the earliest wake-up moves there.
    store
        .timer_failed("r", &timer, "boom", Some(at(600)))
        .await
        .unwrap();
    let others = store
        .claim_due_timers("r", at(1), at(30), 100)
        .await
        .unwrap();
    assert!(!others.iter().any(|t| t.key == timer.key));
    for other in &others {
        store.release_timer("r", other).await.unwrap();
    }
    let listed = store.timers(true, 100).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_error.as_deref(), Some("boom"));
    assert_eq!(listed[0].state, "pending");
    let again = store
        .claim_due_timers("r", at(601), at(700), 100)
        .await
        .unwrap();
    let retried = again.iter().find(|t| t.key == timer.key).unwrap();
    assert_eq!(retried.attempts, 2);
    // Spent: dead, never claimed again, until an operator retries it.
    store
        .timer_failed("r", retried, "boom again", None)
        .await
        .unwrap();
    for other in again.iter().filter(|t| t.key != timer.key) {
        store.release_timer("r", other).await.unwrap();
    }
    let dead = store.timers(true, 100).await.unwrap();
    assert_eq!(dead[0].state, "dead");
    assert!(
        !store
            .claim_due_timers("r", at(10_000), at(10_030), 100)
            .await
            .unwrap()
            .iter()
            .any(|t| t.key == timer.key)
    );
    store.timer_retry(&timer.case_id, &timer.key).await.unwrap();
    assert!(
        store
            .claim_due_timers("r", at(10_001), at(10_030), 100)
            .await
            .unwrap()
            .iter()
            .any(|t| t.key == timer.key && t.attempts == 1)
    );
    // Retrying what did not fail is refused.
    assert!(store.timer_retry(&timer.case_id, "no-such").await.is_err());
    // A case set aside: every pending timer dead with the reason.
    let aside = store
        .set_case_aside(&timer.case_id, "runaway")
        .await
        .unwrap();
    assert!(aside >= 1);
    assert!(
        store
            .claim_due_timers("r", at(20_000), at(20_030), 100)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn outbox_and_timers_listings_respect_organisations(store: Arc<SqlStore>) {
    deploy(&store).await;
    let case = store
        .open(&seed_request("ORG-1"), now())
        .await
        .unwrap()
        .case;
    store
        .execute(
            &attach(&case.id, "fasilitator", "notulen_audiensi", b"notulen"),
            now(),
        )
        .await
        .unwrap();
    store
        .execute(
            &command(
                &case.id,
                "pimpinan_ormas",
                Action::Fire {
                    transition: "catat_audiensi".into(),
                    comment: None,
                },
            ),
            now(),
        )
        .await
        .unwrap();
    let all = store.outbox(None, false, None).await.unwrap();
    assert!(!all.is_empty());
    // The yayasan was named by the agency: nothing of the case until it accepts.
    assert!(
        store
            .outbox(None, false, Some("yayasan-intan-maharani"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.case(&case.id).await.unwrap().pending_organisations,
        vec!["yayasan-intan-maharani".to_owned()]
    );
    assert_eq!(
        store
            .invitations("yayasan-intan-maharani")
            .await
            .unwrap()
            .len(),
        1
    );
    store
        .accept_invitation(&case.id, "yayasan-intan-maharani", "Siti", now())
        .await
        .unwrap();
    assert!(
        store
            .case(&case.id)
            .await
            .unwrap()
            .pending_organisations
            .is_empty()
    );
    assert_eq!(
        store
            .outbox(None, false, Some("yayasan-intan-maharani"))
            .await
            .unwrap()
            .len(),
        all.len()
    );
    assert!(
        store
            .outbox(None, false, Some("org-x"))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_new_holiday_moves_pending_deadlines_once(store: Arc<SqlStore>) {
    let ids = open_documents(&store, 1).await;
    let case = &ids[0];
    let before = store.case(case).await.unwrap().state;
    let obligation = before.obligations.values().next().unwrap().clone();
    let revision = before.revision;
    // The due day itself becomes a holiday (a decree published during the year).
    let holiday = obligation.due_date;
    let calendar = format!("indonesia-{}.yaml", holiday.year());
    let changed = read(&format!("workflows/calendars/{calendar}")).replace(
        "holidays:\n",
        &format!("holidays:\n  - date: {holiday}\n    kind: collective_leave\n    name: Cuti bersama tambahan\n"),
    );
    let deployed = store
        .deploy(
            "doc.yaml",
            &read("workflows/persetujuan-dokumen.yaml"),
            &[(calendar.clone(), changed.clone())],
            now(),
        )
        .await
        .unwrap();
    assert_eq!(deployed.rescheduled, 1);
    let after = store.case(case).await.unwrap().state;
    let moved = after.obligations.get(&obligation.key).unwrap();
    assert!(moved.due_date > holiday, "{moved:?}");
    assert_eq!(after.revision, revision + 1);
    // In the history, by the system, with the dates before and after.
    let history = store.history(case).await.unwrap();
    match &history.last().unwrap().event.kind {
        swakelola_core::EventKind::DeadlinesMoved {
            moved: dates,
            reason,
            ..
        } => {
            assert_eq!(dates.len(), 1);
            assert_eq!((dates[0].from, dates[0].to), (holiday, moved.due_date));
            assert!(reason.contains(&calendar), "{reason}");
        }
        other => panic!("expected the deadlines to move, got {other:?}"),
    }
    assert_eq!(store.verify(case).await.unwrap().first_tampered, None);
    // The timers moved with it, and the people responsible were told.
    let due_timer = after
        .timers
        .values()
        .find(|t| matches!(t.kind, swakelola_core::state::TimerKind::Due { .. }))
        .unwrap();
    assert_eq!(due_timer.due_at, moved.due_at);
    let notices = store.outbox(Some(case), false, None).await.unwrap();
    assert!(
        notices
            .iter()
            .any(|m| m.payload["notification"]["kind"] == "deadline_moved"),
        "{notices:?}"
    );
    // Once: the same calendar again moves nothing.
    let again = store
        .deploy(
            "doc.yaml",
            &read("workflows/persetujuan-dokumen.yaml"),
            &[(calendar, changed)],
            now(),
        )
        .await
        .unwrap();
    assert_eq!(again.rescheduled, 0);
    assert_eq!(store.case(case).await.unwrap().state.revision, revision + 1);
    // Another process computes on the same calendars: a case opened there now gets the
    // same due date for the same entry day.
    let other = SqlStore::connect(store.url()).await.unwrap();
    let twin = other
        .open(&document_request("DOC-TWIN"), now())
        .await
        .unwrap()
        .case;
    assert_eq!(
        twin.state.obligations.values().next().unwrap().due_date,
        moved.due_date
    );
}

async fn the_calendar_of_a_new_year_settles_provisional_deadlines(store: Arc<SqlStore>) {
    open_documents(&store, 0).await;
    let opened_at: Timestamp = "2026-12-28T02:00:00Z".parse().unwrap();
    let case = store
        .open(&document_request("DOC-2027"), opened_at)
        .await
        .unwrap()
        .case;
    let before = case.state.obligations.values().next().unwrap().clone();
    assert!(before.provisional, "{before:?}");
    assert_eq!(before.due_date.to_string(), "2027-01-04");
    // The 2027 decree arrives: 1 January is a holiday after all.
    let calendar_2027 = "calendar: indonesia\nyear: 2027\ntime_zone: Asia/Jakarta\nweekend: [saturday, sunday]\nholidays:\n  - date: 2027-01-01\n    kind: national\n    name: Tahun Baru Masehi\n";
    let deployed = store
        .deploy(
            "doc.yaml",
            &read("workflows/persetujuan-dokumen.yaml"),
            &[("indonesia-2027.yaml".into(), calendar_2027.into())],
            opened_at,
        )
        .await
        .unwrap();
    assert_eq!(deployed.rescheduled, 1);
    let after = store.case(&case.id).await.unwrap().state;
    let settled = after.obligations.get(&before.key).unwrap();
    assert_eq!(settled.due_date.to_string(), "2027-01-05");
    assert!(!settled.provisional, "{settled:?}");
}

/// Accounts: a one-time link sets the password; sign-in opens a session the pages find by
/// its cookie; failed sign-ins are throttled per account and per address; a disabled
/// account's sessions end at once; a reset link ends every session.
async fn people_sign_in_with_a_password_set_through_a_one_time_link(store: Arc<SqlStore>) {
    use swakelola_store::people::{MAX_FAILED_SIGN_INS, SESSION_IDLE};
    let roles = vec!["ppk".to_owned()];
    let (user, link) = store
        .create_user(
            "Budi Santoso",
            "Budi@DP3A.example ",
            "dp3a-palembang",
            &roles,
            now(),
        )
        .await
        .unwrap();
    assert_eq!(user.email, "budi@dp3a.example");
    assert!(!user.active);
    let taken = store
        .create_user("Budi", "budi@dp3a.example", "dp3a-palembang", &roles, now())
        .await
        .unwrap_err();
    assert!(
        matches!(taken, Error::InvalidRequest(Invalid::EmailTaken { .. })),
        "{taken}"
    );
    // Nobody signs in before a password is set.
    let early = store
        .sign_in("budi@dp3a.example", "", "10.0.0.1", now())
        .await
        .unwrap_err();
    assert!(
        matches!(early, Error::InvalidRequest(Invalid::SignInRefused)),
        "{early}"
    );
    let short = store
        .set_password(&link, "pendek", now())
        .await
        .unwrap_err();
    assert!(matches!(
        short,
        Error::InvalidRequest(Invalid::PasswordTooShort { .. })
    ));
    let user = store
        .set_password(&link, "sandi-yang-panjang", now())
        .await
        .unwrap();
    assert!(user.active);
    let used = store
        .set_password(&link, "sandi-yang-lain-lagi", now())
        .await
        .unwrap_err();
    assert!(
        matches!(used, Error::InvalidRequest(Invalid::LinkNotValid)),
        "{used}"
    );

    let (cookie, session) = store
        .sign_in("BUDI@dp3a.example", "sandi-yang-panjang", "10.0.0.1", now())
        .await
        .unwrap();
    assert_eq!(session.user.id, user.id);
    assert_eq!(session.csrf.len(), 64);
    let found = store.session(&cookie, now()).await.unwrap().unwrap();
    assert_eq!(found, session);
    assert!(
        store
            .session("not-a-cookie", now())
            .await
            .unwrap()
            .is_none()
    );
    // Idle too long: the session is gone for good.
    let later = now()
        .checked_add(SESSION_IDLE)
        .unwrap()
        .checked_add(jiff::SignedDuration::from_secs(1))
        .unwrap();
    assert!(store.session(&cookie, later).await.unwrap().is_none());
    assert!(store.session(&cookie, now()).await.unwrap().is_none());

    // Throttling: after the allowed failures even the right password waits.
    for _ in 0..MAX_FAILED_SIGN_INS {
        let wrong = store
            .sign_in("budi@dp3a.example", "salah", "10.0.0.2", now())
            .await
            .unwrap_err();
        assert!(matches!(
            wrong,
            Error::InvalidRequest(Invalid::SignInRefused)
        ));
    }
    let throttled = store
        .sign_in("budi@dp3a.example", "sandi-yang-panjang", "10.0.0.3", now())
        .await
        .unwrap_err();
    assert!(
        matches!(
            throttled,
            Error::InvalidRequest(Invalid::TooManySignIns { .. })
        ),
        "{throttled}"
    );
    let window_later = now()
        .checked_add(jiff::SignedDuration::from_mins(16))
        .unwrap();
    let (cookie, _) = store
        .sign_in(
            "budi@dp3a.example",
            "sandi-yang-panjang",
            "10.0.0.3",
            window_later,
        )
        .await
        .unwrap();
    assert!(
        store
            .session(&cookie, window_later)
            .await
            .unwrap()
            .is_some()
    );

    // Disabled: sessions end at once, and no new one.
    store
        .disable_user("budi@dp3a.example", window_later)
        .await
        .unwrap();
    assert!(
        store
            .session(&cookie, window_later)
            .await
            .unwrap()
            .is_none()
    );
    let disabled = store
        .sign_in(
            "budi@dp3a.example",
            "sandi-yang-panjang",
            "10.0.0.4",
            window_later,
        )
        .await
        .unwrap_err();
    assert!(matches!(
        disabled,
        Error::InvalidRequest(Invalid::SignInRefused)
    ));
    // A reset enables the account again through a new link.
    let (_, link) = store
        .reset_user("budi@dp3a.example", window_later)
        .await
        .unwrap();
    store
        .set_password(&link, "sandi-baru-yang-panjang", window_later)
        .await
        .unwrap();
    let (cookie, session) = store
        .sign_in(
            "budi@dp3a.example",
            "sandi-baru-yang-panjang",
            "10.0.0.4",
            window_later,
        )
        .await
        .unwrap();
    assert_eq!(
        store.sign_out_everywhere(&session.user.id).await.unwrap(),
        1
    );
    assert!(
        store
            .session(&cookie, window_later)
            .await
            .unwrap()
            .is_none()
    );
    let listed = store.users().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].active && listed[0].disabled_at.is_none());
}

async fn an_organisations_cases_come_most_urgent_first_and_are_counted(store: Arc<SqlStore>) {
    deploy(&store).await;
    let early = open_seed(&store, "K-1").await;
    let later = open_seed(&store, "K-2").await;
    let cancelled = open_seed(&store, "K-3").await;
    // K-2 moves on to a stage with another deadline; K-3 closes.
    force(&store, &later, "catat_audiensi").await;
    force(&store, &cancelled, "batalkan").await;
    let due = |id: &str| {
        let store = store.clone();
        let id = id.to_owned();
        async move { store.case(&id).await.unwrap().state.attention_at().unwrap() }
    };
    let (mut first_due, mut second_due) = (due(&early).await, due(&later).await);
    let mut order = ["K-1", "K-2"];
    if second_due < first_due {
        order.reverse();
        std::mem::swap(&mut first_due, &mut second_due);
    }
    assert_ne!(first_due, second_due);

    let ids = |cases: Vec<swakelola_store::CaseRecord>| {
        cases
            .into_iter()
            .map(|c| c.business_key)
            .collect::<Vec<_>>()
    };
    let listed = store
        .cases_by_urgency("dp3a-palembang", 0, 10)
        .await
        .unwrap();
    assert_eq!(
        ids(listed),
        order,
        "most urgent first; closed cases are not listed"
    );
    let second_page = store
        .cases_by_urgency("dp3a-palembang", 1, 1)
        .await
        .unwrap();
    assert_eq!(ids(second_page), [order[1]]);
    // The Ormas has not accepted its invitation: it sees nothing yet.
    let invited = store
        .cases_by_urgency("yayasan-intan-maharani", 0, 10)
        .await
        .unwrap();
    assert!(invited.is_empty());
    store
        .accept_invitation(&early, "yayasan-intan-maharani", "Siti", now())
        .await
        .unwrap();
    let accepted = store
        .cases_by_urgency("yayasan-intan-maharani", 0, 10)
        .await
        .unwrap();
    assert_eq!(ids(accepted), ["K-1"]);

    let soon = |until: Timestamp| {
        vec![swakelola_store::SoonUntil {
            workflow_id: "swakelola-tipe-3".into(),
            workflow_version: 1,
            until,
        }]
    };
    let counts = |at: Timestamp, soon: Vec<swakelola_store::SoonUntil>| {
        let store = store.clone();
        async move {
            store
                .urgency_counts("dp3a-palembang", at, &soon)
                .await
                .unwrap()
        }
    };
    let before = first_due - jiff::SignedDuration::from_secs(1);
    let c = counts(before, soon(first_due)).await;
    assert_eq!((c.overdue, c.soon, c.open), (0, 1, 2), "{c:?}");
    let c = counts(before, soon(second_due)).await;
    assert_eq!((c.overdue, c.soon, c.open), (0, 2, 2), "{c:?}");
    // A version without a "soon" instant never counts as soon.
    let c = counts(before, Vec::new()).await;
    assert_eq!((c.overdue, c.soon, c.open), (0, 0, 2), "{c:?}");
    let c = counts(first_due, soon(second_due)).await;
    assert_eq!((c.overdue, c.soon, c.open), (1, 1, 2), "{c:?}");
    let c = counts(second_due, soon(second_due)).await;
    assert_eq!((c.overdue, c.soon, c.open), (2, 0, 2), "{c:?}");
}

async fn records_are_kept_and_a_rule_over_their_sum_refuses_an_excess(store: Arc<SqlStore>) {
    deploy(&store).await;
    let id = open_seed(&store, "K-1").await;
    let set = |field: &str, value: &str| {
        command(
            &id,
            "ppk",
            Action::SetField {
                field: field.into(),
                value: value.into(),
            },
        )
    };
    store
        .execute(&set("nilai_kontrak", "Rp34.500.000"), now())
        .await
        .unwrap();
    let pay = |termin: &str, amount: &str| {
        command(
            &id,
            "ppk",
            Action::AddRecord {
                record: "pembayaran".into(),
                values: vec![
                    ("termin".into(), termin.into()),
                    ("jumlah".into(), amount.into()),
                    ("tanggal_sp2d".into(), "2025-05-20".into()),
                ],
            },
        )
    };
    let first = store
        .execute(&pay("1", "Rp20.000.000"), now())
        .await
        .unwrap();
    assert!(matches!(
        first.event.as_ref().map(|e| &e.kind),
        Some(swakelola_core::EventKind::RecordAdded { number: 1, .. })
    ));
    let before = snapshot(&store, &id).await;
    let refused = store.execute(&pay("2", "Rp20.000.000"), now()).await;
    assert!(
        matches!(
            refused,
            Err(Error::Rejected {
                rejection: swakelola_core::Rejection::RuleBroken { .. },
                ..
            })
        ),
        "{refused:?}"
    );
    assert_eq!(snapshot(&store, &id).await, before, "nothing written");
    store
        .execute(&pay("2", "Rp14.500.000"), now())
        .await
        .unwrap();
    // Read back from the database: both records, in order, with typed values; the state
    // keeps their count and total.
    let entries = store.records_of(&id).await.unwrap();
    let payments = &entries["pembayaran"];
    assert_eq!(payments.len(), 2);
    assert_eq!(
        payments[1].fields["jumlah"],
        swakelola_core::FieldValue::Rupiah(14_500_000)
    );
    assert_eq!(payments[0].added_by, "ppk");
    let totals = &store.case(&id).await.unwrap().state.records["pembayaran"];
    assert_eq!(totals.count, 2);
    let first_amount = match payments[0].fields["jumlah"] {
        swakelola_core::FieldValue::Rupiah(n) => n,
        ref other => panic!("{other:?}"),
    };
    assert_eq!(totals.sums["jumlah"], first_amount + 14_500_000);
    assert_eq!(store.verify(&id).await.unwrap().first_tampered, None);
    // Only the PPK adds payments.
    let by_ormas = CaseCommand {
        actor: Actor::new("Siti", "pimpinan_ormas"),
        ..pay("3", "Rp1")
    };
    assert!(store.execute(&by_ormas, now()).await.is_err());
}

async fn two_signers_at_once_fire_the_joint_sign_off_exactly_once(store: Arc<SqlStore>) {
    deploy(&store).await;
    for round in 0..5 {
        let id = open_seed(&store, &format!("K-{round}")).await;
        for transition in walk::TO_CONTRACT {
            force(&store, &id, transition).await;
        }
        prepare_contract(&store, &id).await;
        // The PPK and the head of the yayasan sign at the same moment; a conflict is retried
        // as a person would (reload, sign again).
        let sign = |role: &'static str| {
            let store = store.clone();
            let id = id.clone();
            tokio::spawn(async move {
                let request = command(
                    &id,
                    role,
                    Action::Fire {
                        transition: "tandatangani_kontrak".into(),
                        comment: None,
                    },
                );
                loop {
                    match store.execute(&request, now()).await {
                        Err(Error::Conflict(_)) => continue,
                        other => break other,
                    }
                }
            })
        };
        let (a, b) = (sign("ppk"), sign("pimpinan_ormas"));
        a.await.unwrap().unwrap();
        b.await.unwrap().unwrap();
        let record = store.case(&id).await.unwrap();
        assert_eq!(record.state.stage, "pelaksanaan", "no approval was lost");
        let history = store.history(&id).await.unwrap();
        let approvals = history
            .iter()
            .filter(|e| {
                matches!(&e.event.kind, swakelola_core::EventKind::Approved { transition, .. } if transition == "tandatangani_kontrak")
            })
            .count();
        let fired = history
            .iter()
            .filter(|e| {
                matches!(&e.event.kind, swakelola_core::EventKind::Transitioned { transition, .. } if transition == "tandatangani_kontrak")
            })
            .count();
        assert_eq!((approvals, fired), (1, 1), "one approval, then one firing");
    }
}

/// The organisations that may see `case_id` (accepted or invited), as the store keeps them.
async fn access_rows(store: &SqlStore, case_id: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT organisation FROM case_organisations WHERE case_id = $1 ORDER BY organisation",
    )
    .bind(case_id)
    .fetch_all(store.pool())
    .await
    .unwrap()
}

async fn visible_to(store: &SqlStore, organisation: &str) -> Vec<String> {
    store
        .cases(&CaseFilter {
            visible_to: Some(organisation.into()),
            limit: 50,
            ..CaseFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.business_key)
        .collect()
}

fn member_change(case_id: &str, role: &str, add: bool, organisation: &str) -> CaseCommand {
    let action = if add {
        Action::AddMember {
            party: "ormas".into(),
            organisation: organisation.into(),
        }
    } else {
        Action::WithdrawMember {
            party: "ormas".into(),
            organisation: organisation.into(),
            reason: "Mengundurkan diri dari koalisi".into(),
        }
    };
    command(case_id, role, action)
}

async fn a_coalition_member_sees_the_case_until_it_is_withdrawn(store: Arc<SqlStore>) {
    deploy(&store).await;
    let mut request = seed_request("KOALISI-1");
    request.parties.name("ormas", "perkumpulan-sumsel-peduli");
    let case = store.open(&request, now()).await.unwrap().case;
    assert_eq!(
        case.parties.organisations["ormas"],
        "yayasan-intan-maharani"
    );
    assert_eq!(
        case.parties.members["ormas"],
        vec!["perkumpulan-sumsel-peduli".to_owned()]
    );
    // Named, but invited: nothing of the case until one of its staff accepts.
    assert!(
        visible_to(&store, "perkumpulan-sumsel-peduli")
            .await
            .is_empty()
    );
    store
        .accept_invitation(&case.id, "perkumpulan-sumsel-peduli", "Rahma", now())
        .await
        .unwrap();
    assert_eq!(
        visible_to(&store, "perkumpulan-sumsel-peduli").await,
        vec!["KOALISI-1".to_owned()]
    );

    // The PPK adds a third organisation: recorded, and invited.
    let added = store
        .execute(
            &member_change(&case.id, "ppk", true, "lbh-palembang"),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(
        added.case.parties.members["ormas"],
        vec![
            "perkumpulan-sumsel-peduli".to_owned(),
            "lbh-palembang".to_owned()
        ]
    );
    assert!(
        added
            .case
            .pending_organisations
            .contains(&"lbh-palembang".to_owned())
    );
    let revision = added.case.state.revision;

    // Refusals change nothing: a member added twice, the lead withdrawn, a stranger
    // withdrawn, and a role the workflow does not let change members.
    for (role, add, organisation, refusal) in [
        ("ppk", true, "lbh-palembang", "already_member"),
        ("ppk", false, "yayasan-intan-maharani", "is_lead"),
        ("ppk", false, "org-lain", "not_a_member"),
        ("pimpinan_ormas", true, "org-lain", "role_not_allowed"),
    ] {
        let error = store
            .execute(&member_change(&case.id, role, add, organisation), now())
            .await
            .unwrap_err();
        let code = match &error {
            Error::InvalidInput { problem, .. } => problem.code(),
            other => other.code(),
        };
        assert_eq!(code, refusal, "{error}");
        assert_eq!(store.case(&case.id).await.unwrap().state.revision, revision);
    }

    // Withdrawn: no longer sees the case, at once; the history says who and why.
    store
        .execute(
            &member_change(&case.id, "ppk", false, "perkumpulan-sumsel-peduli"),
            now(),
        )
        .await
        .unwrap();
    assert!(
        visible_to(&store, "perkumpulan-sumsel-peduli")
            .await
            .is_empty()
    );
    assert!(
        store
            .invitations("perkumpulan-sumsel-peduli")
            .await
            .unwrap()
            .is_empty()
    );
    let history = store.history(&case.id).await.unwrap();
    assert!(history.iter().any(|e| matches!(
        &e.event.kind,
        swakelola_core::EventKind::MemberWithdrawn { organisation, reason, .. }
            if organisation == "perkumpulan-sumsel-peduli" && reason.contains("Mengundurkan")
    )));
    assert_eq!(store.verify(&case.id).await.unwrap().first_tampered, None);
}

/// Random additions and withdrawals, accepted or refused: after each, the organisations with
/// access to the case are exactly its opener and the members of its parties.
async fn access_always_equals_the_members_of_the_parties(store: Arc<SqlStore>) {
    deploy(&store).await;
    let id = open_seed(&store, "KOALISI-ACAK").await;
    let candidates = [
        "yayasan-intan-maharani",
        "dp3a-palembang",
        "perkumpulan-a",
        "perkumpulan-b",
        "perkumpulan-c",
    ];
    // A fixed xorshift sequence: reproducible, yet not a hand-picked order.
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut accepted = 0;
    for _ in 0..40 {
        let add = next() % 2 == 0;
        let organisation = candidates[(next() % candidates.len() as u64) as usize];
        let before = store.case(&id).await.unwrap();
        let result = store
            .execute(&member_change(&id, "ppk", add, organisation), now())
            .await;
        let after = store.case(&id).await.unwrap();
        match result {
            Ok(_) => {
                accepted += 1;
                assert_eq!(after.state.revision, before.state.revision + 1);
            }
            Err(error) => {
                assert_eq!(after, before, "a refusal ({error}) changed the case");
            }
        }
        let mut expected: Vec<String> = after
            .parties
            .all_organisations()
            .into_iter()
            .map(str::to_owned)
            .chain([after.organisation.clone()])
            .collect();
        expected.sort();
        expected.dedup();
        assert_eq!(access_rows(&store, &id).await, expected);
        let mut pending = after.pending_organisations.clone();
        pending.retain(|o| !expected.contains(o));
        assert!(pending.is_empty(), "an invitation outlived its membership");
    }
    assert!(
        accepted >= 10,
        "the sequence exercised changes ({accepted})"
    );
    assert_eq!(store.verify(&id).await.unwrap().first_tampered, None);
}

async fn a_partnership_continues_year_after_year_and_is_replicated(store: Arc<SqlStore>) {
    deploy(&store).await;
    let mut first = seed_request("DP3A-2024-001");
    first.fields.retain(|(f, _)| f != "tahun_anggaran");
    first.fields.push(("tahun_anggaran".into(), "2024".into()));
    first.fields.push(("pagu".into(), "Rp34.500.000".into()));
    let first = store.open(&first, now()).await.unwrap().case;

    // 2025 follows 2024: linked, parties taken over, chosen fields carried, others given.
    let mut second = seed_request("DP3A-2025-001");
    second.parties = Parties::default();
    second.fields.retain(|(f, _)| f == "tahun_anggaran");
    second.fields.push(("pagu".into(), "Rp50.000.000".into()));
    second.origin = Some(Origin {
        link: LinkKind::Follows,
        case_id: first.id.clone(),
        carry: vec!["nama_kegiatan".into(), "instansi".into(), "ormas".into()],
    });
    let opened = store.open(&second, now()).await.unwrap();
    let second = opened.case;
    assert_eq!(
        second.parties, first.parties,
        "a continuation keeps its partners"
    );
    assert_eq!(
        second.state.fields["nama_kegiatan"],
        first.state.fields["nama_kegiatan"]
    );
    assert_eq!(second.state.revision, 2, "opened, then linked");
    let history = store.history(&second.id).await.unwrap();
    assert!(matches!(
        &history[1].event.kind,
        swakelola_core::EventKind::Linked { link: LinkKind::Follows, business_key, .. }
            if business_key == "DP3A-2024-001"
    ));
    assert_eq!(store.verify(&second.id).await.unwrap().first_tampered, None);

    // Seen from both ends.
    let forward = store.links(&second.id).await.unwrap();
    assert_eq!(forward.len(), 1);
    assert!(forward[0].outgoing && forward[0].case.id == first.id);
    let backward = store.links(&first.id).await.unwrap();
    assert_eq!(backward.len(), 1);
    assert!(!backward[0].outgoing && backward[0].case.id == second.id);

    // Another agency replicates the 2025 partnership.
    let mut copy = seed_request("DINSOS-2025-001");
    copy.organisation = "dinsos-palembang".into();
    copy.parties
        .organisations
        .insert("instansi".into(), "dinsos-palembang".into());
    copy.origin = Some(Origin {
        link: LinkKind::Replicates,
        case_id: second.id.clone(),
        carry: vec![],
    });
    let copy = store.open(&copy, now()).await.unwrap().case;

    // The series from any of its cases: the years in order, the replication apart.
    for from in [&first.id, &second.id, &copy.id] {
        let series = store.series(from).await.unwrap();
        let keys: Vec<&str> = series
            .chain
            .iter()
            .map(|c| c.business_key.as_str())
            .collect();
        if *from == copy.id {
            // A replication starts its own series.
            assert_eq!(keys, ["DINSOS-2025-001"]);
        } else {
            assert_eq!(keys, ["DP3A-2024-001", "DP3A-2025-001"]);
            assert_eq!(series.replications.len(), 1);
            assert_eq!(series.replications[0].id, copy.id);
        }
    }

    // A carried field the origin lacks, a link to itself, a second link to the same case and
    // a continuation made on a running case are refused; nothing is written.
    let mut lacking = seed_request("DP3A-2026-001");
    lacking.origin = Some(Origin {
        link: LinkKind::Follows,
        case_id: second.id.clone(),
        carry: vec!["nilai_kontrak".into()],
    });
    let error = store.open(&lacking, now()).await.unwrap_err();
    assert!(
        matches!(&error, Error::InvalidInput { path, .. } if path == "carry.nilai_kontrak"),
        "{error}"
    );
    assert!(store.resolve_case("DP3A-2026-001", None).await.is_err());
    let revision = store.case(&first.id).await.unwrap().state.revision;
    let link = |target: &CaseRecord, kind: LinkKind| {
        command(
            &first.id,
            "ppk",
            Action::Link {
                link: kind,
                case_id: target.id.clone(),
                business_key: target.business_key.clone(),
            },
        )
    };
    for (target, kind, problem) in [
        (&first, LinkKind::Related, "link_to_itself"),
        (&second, LinkKind::Related, "already_linked"),
        (&copy, LinkKind::Follows, "only_at_opening"),
    ] {
        match store.execute(&link(target, kind), now()).await {
            Err(Error::InvalidInput { problem: p, .. }) => assert_eq!(p.code(), problem),
            other => panic!("expected {problem}, got {other:?}"),
        }
        assert_eq!(
            store.case(&first.id).await.unwrap().state.revision,
            revision
        );
    }
    // Related: recorded on the first case, seen from both.
    store
        .execute(&link(&copy, LinkKind::Related), now())
        .await
        .unwrap();
    assert!(
        store
            .links(&copy.id)
            .await
            .unwrap()
            .iter()
            .any(|l| l.link == LinkKind::Related && !l.outgoing && l.case.id == first.id)
    );
}

/// The example's version 2 over the shipped version 1 (cases opened before keep version 1;
/// new ones take version 2), and the example plan checked against both.
async fn deploy_v2_and_plan(store: &SqlStore) -> swakelola_definition::migration::Plan {
    use swakelola_definition::migration::{check_plan, parse_plan};
    store
        .deploy(
            "swakelola-tipe-3-v2.yaml",
            &read("workflows/migrations/swakelola-tipe-3-v2.yaml"),
            &calendars(),
            now(),
        )
        .await
        .unwrap();
    let v1 = store.engine_for("swakelola-tipe-3", 1).await.unwrap();
    let v2 = store.engine_for("swakelola-tipe-3", 2).await.unwrap();
    let text = read("workflows/migrations/plans/2027-v1-ke-v2.yaml");
    let (raw, _) = parse_plan("plan.yaml", &text);
    let deployed = [(1, &v1.workflow), (2, &v2.workflow)].into_iter().collect();
    let (plan, diagnostics) = check_plan("plan.yaml", &raw.unwrap(), &deployed);
    plan.unwrap_or_else(|| panic!("{diagnostics:?}"))
}

fn operator() -> Actor {
    Actor::new("Admin Kota", swakelola_store::OPERATOR_ROLE)
}

/// Cases at every stage of the way to the contract (one cancelled) move onto version 2: each
/// apply writes exactly what its dry run computed, the history records it and still
/// verifies, the case runs on under version 2, and running the plan again changes nothing.
async fn a_migration_applies_what_its_dry_run_showed_and_runs_once(store: Arc<SqlStore>) {
    use swakelola_store::{CaseMigrated, MigrationMode};
    deploy(&store).await;
    let mut ids = Vec::new();
    for steps in 0..=walk::TO_CONTRACT.len() {
        let id = open_seed(&store, &format!("MIG-{steps:02}")).await;
        for transition in &walk::TO_CONTRACT[..steps] {
            force(&store, &id, transition).await;
        }
        ids.push(id);
    }
    let cancelled = open_seed(&store, "MIG-BATAL").await;
    store
        .execute(
            &command(
                &cancelled,
                "ppk",
                Action::Fire {
                    transition: "batalkan".into(),
                    comment: Some("tidak jadi".into()),
                },
            ),
            now(),
        )
        .await
        .unwrap();
    let plan = deploy_v2_and_plan(&store).await;
    let later: Timestamp = "2025-04-21T03:00:00Z".parse().unwrap();
    let candidates = store.migration_candidates(&plan).await.unwrap();
    let listed: Vec<&str> = candidates.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        listed, ids,
        "the open cases on version 1, oldest first; not the cancelled one"
    );
    let mut renamed = 0;
    let mut moved = 0;
    for candidate in &candidates {
        let before = store.case(&candidate.id).await.unwrap();
        let events_before = store.history(&candidate.id).await.unwrap().len();
        let dry = store
            .migrate_case(
                &candidate.id,
                &plan,
                &operator(),
                later,
                MigrationMode::DryRun,
            )
            .await
            .unwrap();
        // A dry run writes nothing.
        assert_eq!(store.case(&candidate.id).await.unwrap(), before);
        let applied = store
            .migrate_case(
                &candidate.id,
                &plan,
                &operator(),
                later,
                MigrationMode::Apply,
            )
            .await
            .unwrap();
        assert_eq!(
            dry, applied,
            "{}: the apply differs from its dry run",
            candidate.business_key
        );
        let CaseMigrated::Migrated(migration) = applied else {
            panic!("{}: not migrated: {applied:?}", candidate.business_key)
        };
        renamed += usize::from(migration.from_stage() != migration.to_stage());
        moved += migration.moved().len();
        let after = store.case(&candidate.id).await.unwrap();
        assert_eq!(after.workflow_version, 2);
        let versions: Vec<i64> = sqlx::query_scalar(
            "SELECT workflow_version FROM case_organisations WHERE case_id = $1",
        )
        .bind(candidate.id.as_str())
        .fetch_all(store.pool())
        .await
        .unwrap();
        assert!(
            !versions.is_empty() && versions.iter().all(|v| *v == 2),
            "{versions:?}"
        );
        assert_eq!(after.state, migration.outcome.state);
        let history = store.history(&candidate.id).await.unwrap();
        assert_eq!(history.len(), events_before + 1);
        assert!(matches!(
            history.last().unwrap().event.kind,
            swakelola_core::EventKind::Migrated {
                from_version: 1,
                to_version: 2,
                ..
            }
        ));
        assert_eq!(
            store.verify(&candidate.id).await.unwrap().first_tampered,
            None
        );
        // Again: nothing to do.
        assert_eq!(
            store
                .migrate_case(
                    &candidate.id,
                    &plan,
                    &operator(),
                    later,
                    MigrationMode::Apply
                )
                .await
                .unwrap(),
            CaseMigrated::AlreadyMigrated
        );
    }
    assert_eq!(
        renamed, 1,
        "the case in `reviu_kak` moved to `reviu_kak_instansi`"
    );
    assert!(
        moved >= 1,
        "the audience's deadline moved to 15 working days"
    );
    assert!(store.migration_candidates(&plan).await.unwrap().is_empty());
    assert_eq!(
        store
            .migrate_case(&cancelled, &plan, &operator(), later, MigrationMode::Apply)
            .await
            .unwrap(),
        CaseMigrated::NotTaken
    );
    // The case in the audience runs on under version 2, which needs the request letter.
    let audience = &ids[0];
    force(&store, audience, "catat_audiensi").await;
    let record = store.case(audience).await.unwrap();
    assert_eq!(record.state.stage, "penyusunan_kak");
    assert!(record.state.has_document("surat_permohonan_audiensi"));
    // The renamed stage's case is reviewed under its new id.
    let reviewed = &ids[2];
    assert_eq!(
        store.case(reviewed).await.unwrap().state.stage,
        "reviu_kak_instansi"
    );
    force(&store, reviewed, "terima_kak").await;
    assert_eq!(store.case(reviewed).await.unwrap().state.stage, "mou");
}

/// A command that lands on a case while it migrates is never lost: whichever commits first,
/// the case ends on version 2 with the document attached, and its history verifies.
async fn a_case_changed_during_a_migration_keeps_the_change(store: Arc<SqlStore>) {
    use swakelola_store::{CaseMigrated, MigrationMode};
    deploy(&store).await;
    let mut ids = Vec::new();
    for round in 0..6 {
        ids.push(open_seed(&store, &format!("RACE-{round}")).await);
    }
    let plan = Arc::new(deploy_v2_and_plan(&store).await);
    for (round, id) in ids.into_iter().enumerate() {
        let migrating = {
            let (store, plan, id) = (store.clone(), plan.clone(), id.clone());
            tokio::spawn(async move {
                store
                    .migrate_case(&id, &plan, &operator(), now(), MigrationMode::Apply)
                    .await
            })
        };
        let attaching = {
            let (store, id) = (store.clone(), id.clone());
            tokio::spawn(async move {
                let request = attach(&id, "pimpinan_ormas", "notulen_audiensi", b"notulen");
                loop {
                    match store.execute(&request, now()).await {
                        Err(swakelola_store::Error::Conflict(
                            swakelola_store::Conflict::ChangedMeanwhile,
                        )) => continue,
                        other => break other,
                    }
                }
            })
        };
        let migrated = migrating.await.unwrap().unwrap();
        attaching.await.unwrap().unwrap();
        assert!(
            matches!(migrated, CaseMigrated::Migrated(_)),
            "{migrated:?}"
        );
        let record = store.case(&id).await.unwrap();
        assert_eq!(record.workflow_version, 2);
        assert!(
            record.state.has_document("notulen_audiensi"),
            "round {round}: the attachment was lost"
        );
        let kinds: Vec<String> = store
            .history(&id)
            .await
            .unwrap()
            .iter()
            .map(|e| {
                format!("{:?}", e.event.kind)
                    .split([' ', '{'])
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert!(
            kinds.contains(&"Migrated".to_owned())
                && kinds.contains(&"DocumentAttached".to_owned()),
            "{kinds:?}"
        );
        assert_eq!(store.verify(&id).await.unwrap().first_tampered, None);
    }
}

/// One batch (one transaction) with four cases: one that fires, one changed by a command
/// after the claim (its timers are no longer pending), one whose stored state cannot be read
/// and one whose step is refused. The first commits; each other fails alone and is left for
/// the runner to retry or set aside.
async fn a_batch_commits_the_cases_that_fire_whatever_the_others_do(store: Arc<SqlStore>) {
    let ids = open_documents(&store, 3).await;
    let (healthy, changed, corrupt) = (&ids[0], &ids[1], &ids[2]);
    // A case whose timers fall due in June, while its rows (bad data) say they are due now.
    let june: Timestamp = "2025-06-02T02:00:00Z".parse().unwrap();
    let refused = store
        .open(&document_request("DOC-JUNI"), june)
        .await
        .unwrap()
        .case
        .id;
    sqlx::query("UPDATE timers SET due_at = 0 WHERE case_id = $1")
        .bind(refused.as_str())
        .execute(store.pool())
        .await
        .unwrap();
    let later: Timestamp = "2025-05-05T02:00:00Z".parse().unwrap();
    let lease = later
        .checked_add(jiff::SignedDuration::from_secs(60))
        .unwrap();
    let claimed = store
        .claim_due_timers("batch", later, lease, 100)
        .await
        .unwrap();
    for id in [healthy, changed, corrupt, &refused] {
        assert!(
            claimed.iter().any(|t| &t.case_id == id),
            "nothing claimed of {id}"
        );
    }
    // After the claim: a command moves one case on, and another case's data is damaged.
    store
        .execute(&attach(changed, "penyusun", "draf", b"draf"), later)
        .await
        .unwrap();
    store
        .execute(
            &command(
                changed,
                "penyusun",
                Action::Fire {
                    transition: "ajukan".into(),
                    comment: None,
                },
            ),
            later,
        )
        .await
        .unwrap();
    sqlx::query("UPDATE cases SET state = 'rusak' WHERE id = $1")
        .bind(corrupt.as_str())
        .execute(store.pool())
        .await
        .unwrap();
    let before_changed = store.history(changed).await.unwrap().len();
    let results = store.fire_timers("batch", &claimed, later).await.unwrap();
    assert_eq!(results.len(), claimed.len());
    let mut fired = 0;
    for (timer, result) in claimed.iter().zip(&results) {
        let case = &timer.case_id;
        if case == healthy {
            assert!(matches!(result, Ok(Fired::Fired)), "{timer:?}: {result:?}");
            fired += 1;
        } else if case == changed {
            assert!(matches!(result, Ok(Fired::Stale)), "{timer:?}: {result:?}");
        } else if case == corrupt {
            assert!(
                matches!(result, Err(Error::Corrupt(_))),
                "{timer:?}: {result:?}"
            );
        } else if case == &refused {
            assert!(
                matches!(
                    result,
                    Err(Error::Rejected {
                        rejection: swakelola_core::Rejection::TimerNotDue { .. },
                        ..
                    })
                ),
                "{timer:?}: {result:?}"
            );
        }
    }
    // The healthy case's timers are in its history, once each, and its chain holds.
    let history = store.history(healthy).await.unwrap();
    let timer_events = history
        .iter()
        .filter(|e| matches!(e.event.kind, swakelola_core::EventKind::TimerFired { .. }))
        .count();
    assert_eq!(timer_events, fired);
    assert_eq!(store.verify(healthy).await.unwrap().first_tampered, None);
    assert!(
        store
            .case(healthy)
            .await
            .unwrap()
            .state
            .timers
            .values()
            .all(|t| t.due_at > later),
        "a due timer of the healthy case was left"
    );
    // The changed case kept the command's change and fired nothing.
    assert_eq!(store.history(changed).await.unwrap().len(), before_changed);
    assert_eq!(
        store.case(changed).await.unwrap().state.stage,
        "pemeriksaan"
    );
    // The failing cases' timers are still there, held by the runner for its retry policy.
    for id in [corrupt, &refused] {
        let held: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM timers WHERE case_id = $1 AND lease_owner = 'batch'",
        )
        .bind(id.as_str())
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert!(held > 0, "{id}: its timers are gone");
    }
}
