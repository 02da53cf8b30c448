//! What the page tests share: a store with the shipped workflow, three people of three
//! organisations with their passwords set, and the seed case.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use jiff::Timestamp;
use swakelola_core::Actor;
use swakelola_store::{OpenCase, Parties, SqlStore, Store};

pub const AGENCY: &str = "dp3a-palembang";
pub const ORMAS: &str = "yayasan-intan-maharani";
pub const OTHER: &str = "dinsos-palembang";
pub const PASSWORD: &str = "sandi-yang-panjang";

pub fn now() -> Timestamp {
    "2024-12-12T02:00:00Z".parse().unwrap()
}

pub fn read(path: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read_to_string(root.join(path)).unwrap()
}

pub async fn sqlite() -> SqlStore {
    let dir = swakelola_testkit::scratch_dir("swakelola-web");
    let store = SqlStore::connect(&format!("sqlite://{}", dir.join("web.db").display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store
}

pub async fn postgres() -> Option<SqlStore> {
    let admin = swakelola_testkit::postgres_admin_url()?;
    let url = SqlStore::create_scratch_database(&admin).await.unwrap();
    let store = SqlStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    Some(store)
}

/// Deploys the shipped workflow and creates Budi (DP3A), Siti (the yayasan) and Dewi (Dinsos),
/// each with [`PASSWORD`].
pub async fn prepare(store: SqlStore) -> Arc<SqlStore> {
    let store = Arc::new(store);
    let calendars: Vec<(String, String)> = ["indonesia-2024.yaml", "indonesia-2025.yaml"]
        .iter()
        .map(|f| (f.to_string(), read(&format!("workflows/calendars/{f}"))))
        .collect();
    store
        .deploy(
            "swakelola-tipe-3.yaml",
            &read("workflows/swakelola-tipe-3.yaml"),
            &calendars,
            now(),
        )
        .await
        .unwrap();
    for (name, email, organisation, roles) in [
        (
            "Budi Santoso",
            "budi@dp3a.example",
            AGENCY,
            // One person holds every agency role the seed story needs, so that two people
            // of two organisations can take it from audience to closed.
            vec!["ppk", "tim_persiapan", "pa_kpa", "perencana"],
        ),
        (
            "Siti Aminah",
            "siti@yayasan.example",
            ORMAS,
            vec!["pimpinan_ormas", "fasilitator"],
        ),
        ("Dewi", "dewi@dinsos.example", OTHER, vec!["ppk"]),
        (
            "Operator",
            "operator@swakelola.example",
            "swakelola",
            vec!["operator"],
        ),
        ("Rina Marlina", "rina@dp3a.example", AGENCY, vec!["admin"]),
    ] {
        let roles: Vec<String> = roles.into_iter().map(str::to_owned).collect();
        let (_, link) = store
            .create_user(name, email, organisation, &roles, now())
            .await
            .unwrap();
        store.set_password(&link, PASSWORD, now()).await.unwrap();
    }
    store
}

/// Opens the seed case between DP3A and the yayasan (accepted by the yayasan).
pub async fn open_case(store: &SqlStore, key: &str, title: &str, organisation: &str) -> String {
    let mut parties = Parties::default();
    parties
        .organisations
        .insert("instansi".into(), organisation.into());
    parties.organisations.insert("ormas".into(), ORMAS.into());
    let opened = store
        .open(
            &OpenCase {
                origin: None,
                workflow_id: "swakelola-tipe-3".into(),
                organisation: organisation.into(),
                business_key: key.into(),
                actor: Actor::new("Budi Santoso", "ppk"),
                fields: vec![
                    ("nama_kegiatan".into(), title.into()),
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
    store
        .accept_invitation(&opened.case.id, ORMAS, "Siti Aminah", now())
        .await
        .unwrap();
    opened.case.id
}
