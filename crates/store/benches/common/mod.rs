//! What the store and API benchmarks share: the generic document-approval workflow deployed
//! with the Indonesian calendars, and a case ready to loop `ajukan` ↔ `minta_revisi`.
//! (Included by path from crates/api/benches too.)

#![allow(dead_code)]

use jiff::Timestamp;
use swakelola_core::Actor;
use swakelola_core::step::Action;
use swakelola_store::{CaseCommand, OpenCase, Parties, SqlStore, Store};

/// A file of the repository (both including crates sit two levels below its root).
pub fn repo_file(path: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(path),
    )
    .unwrap()
}

/// Commands per measurement: `SWAKELOLA_BENCH_OPS`, 2000 by default.
pub fn ops() -> usize {
    std::env::var("SWAKELOLA_BENCH_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

/// A store on a fresh SQLite file in the temporary directory, and that directory (for the
/// caller to remove when done).
pub async fn temp_sqlite() -> (SqlStore, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("swakelola-bench-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqlStore::connect(&format!("sqlite://{}", dir.join("bench.db").display()))
        .await
        .unwrap();
    (store, dir)
}

/// The 2025–2026 calendar files.
pub fn calendars() -> Vec<(String, String)> {
    ["indonesia-2025.yaml", "indonesia-2026.yaml"]
        .iter()
        .map(|f| {
            (
                f.to_string(),
                repo_file(&format!("workflows/calendars/{f}")),
            )
        })
        .collect()
}

/// Migrates and deploys `persetujuan-dokumen` with the 2025–2026 calendars.
pub async fn deploy_generic_workflow(store: &SqlStore, now: Timestamp) {
    store.migrate().await.unwrap();
    store
        .deploy(
            "persetujuan-dokumen.yaml",
            &repo_file("workflows/persetujuan-dokumen.yaml"),
            &calendars(),
            now,
        )
        .await
        .unwrap();
}

/// A case of organisation `bench` in `penyusunan` with its draft attached.
pub async fn ready_case(store: &SqlStore, key: &str, now: Timestamp) -> String {
    let id = store
        .open(
            &OpenCase {
                origin: None,
                workflow_id: "persetujuan-dokumen".into(),
                organisation: "bench".into(),
                business_key: key.into(),
                actor: Actor::new("bench", "penyusun"),
                fields: vec![("judul".into(), "Laporan".into())],
                parties: Parties::default(),
            },
            now,
        )
        .await
        .unwrap()
        .case
        .id;
    let content = b"draf".to_vec();
    store
        .execute(
            &CaseCommand {
                case_id: id.clone(),
                actor: Actor::new("bench", "penyusun"),
                action: Action::Attach {
                    document_type: "draf".into(),
                    file_name: "draf.pdf".into(),
                    sha256: swakelola_store::sha256_hex(&content),
                    size: content.len() as u64,
                },
                expected_revision: None,
                idempotency_key: None,
                content: Some(content),
            },
            now,
        )
        .await
        .unwrap();
    id
}

/// The `n`th step of the loop the benchmarks drive a case through: `ajukan` by the drafter
/// (even `n`), `minta_revisi` by the reviewer (odd `n`).
pub fn loop_step(case_id: &str, n: usize) -> CaseCommand {
    let (role, transition, comment) = if n.is_multiple_of(2) {
        ("penyusun", "ajukan", None)
    } else {
        ("pemeriksa", "minta_revisi", Some("perbaiki".to_owned()))
    };
    CaseCommand {
        case_id: case_id.to_owned(),
        actor: Actor::new("bench", role),
        action: Action::Fire {
            transition: transition.into(),
            comment,
        },
        expected_revision: None,
        idempotency_key: None,
        content: None,
    }
}
