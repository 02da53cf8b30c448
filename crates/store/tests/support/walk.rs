//! Walking a case of the shipped workflow to where a test or a benchmark needs it: commands
//! as a role, attachments, and firing a transition after meeting its guards. Shared by the
//! conformance suite and the partnership benchmark (`#[path]`), so both walk the same way.

use jiff::Timestamp;
use swakelola_core::Actor;
use swakelola_core::step::Action;
use swakelola_store::{CaseCommand, SqlStore, Store};

/// The seed partnership's path from audience to a contract ready to sign (route b, by
/// request of willingness).
pub const TO_CONTRACT: [&str; 12] = [
    "catat_audiensi",
    "serahkan_kak",
    "terima_kak",
    "tandatangani_mou",
    "masuk_apbd",
    "sahkan_dpa",
    "umumkan_rup",
    "kirim_permintaan_kesediaan",
    "nyatakan_kesediaan",
    "tetapkan_ormas",
    "ajukan_proposal",
    "setujui_proposal",
];

fn now() -> Timestamp {
    "2025-03-24T02:00:00Z".parse().unwrap()
}

pub fn command(case_id: &str, role: &str, action: Action) -> CaseCommand {
    CaseCommand {
        case_id: case_id.into(),
        actor: Actor::new(format!("staf {role}"), role),
        action,
        expected_revision: None,
        idempotency_key: None,
        content: None,
    }
}

pub fn attach(case_id: &str, role: &str, document_type: &str, content: &[u8]) -> CaseCommand {
    use sha2::Digest;
    CaseCommand {
        content: Some(content.to_vec()),
        ..command(
            case_id,
            role,
            Action::Attach {
                document_type: document_type.into(),
                file_name: format!("{document_type}.pdf"),
                sha256: hex::encode(sha2::Sha256::digest(content)),
                size: content.len() as u64,
            },
        )
    }
}

/// Meets the guards of `transition` and fires it, as the workflow's first allowed roles.
pub async fn force(store: &SqlStore, case_id: &str, transition: &str) {
    let record = store.case(case_id).await.unwrap();
    let engine = store
        .engine_for(&record.workflow_id, record.workflow_version)
        .await
        .unwrap();
    let t = engine.workflow.transition(transition).unwrap().clone();
    for document in &t.guard.documents {
        if !store
            .case(case_id)
            .await
            .unwrap()
            .state
            .has_document(document)
        {
            let role = engine
                .workflow
                .document(document)
                .unwrap()
                .attach_by
                .first()
                .unwrap_or(&t.roles[0])
                .clone();
            store
                .execute(
                    &attach(
                        case_id,
                        &role,
                        document,
                        format!("isi {document}").as_bytes(),
                    ),
                    now(),
                )
                .await
                .unwrap();
        }
    }
    let mut fields = t.guard.fields.clone();
    fields.extend(t.guard.conditions.iter().map(|c| c.field.clone()));
    for field in fields {
        if store
            .case(case_id)
            .await
            .unwrap()
            .state
            .fields
            .contains_key(&field)
        {
            continue;
        }
        let value = match field.as_str() {
            "sumber_dana" => "apbd",
            "rute_penetapan" => "permintaan_kesediaan",
            "tanggal_kontrak" => "2025-03-24",
            "tanggal_selesai" => "2025-06-30",
            "pagu" | "nilai_kontrak" | "nilai_realisasi" | "nilai_estimasi" => "Rp34.500.000",
            _ => "027/2025",
        };
        let role = engine
            .workflow
            .field(&field)
            .unwrap()
            .set_by
            .first()
            .unwrap_or(&t.roles[0])
            .clone();
        store
            .execute(
                &command(
                    case_id,
                    &role,
                    Action::SetField {
                        field: field.clone(),
                        value: value.into(),
                    },
                ),
                now(),
            )
            .await
            .unwrap();
    }
    // A joint sign-off takes every signer's approval (each role of `requires_all`, and each
    // member organisation through a role of its party); otherwise one role fires it.
    let state = store.case(case_id).await.unwrap().state;
    let signers = swakelola_core::step::signers(&state, &t);
    let signers = if signers.is_empty() {
        vec![t.roles[0].clone()]
    } else {
        signers
    };
    for signer in signers {
        let fire = Action::Fire {
            transition: transition.into(),
            comment: Some("ok".into()),
        };
        let command = match swakelola_core::state::signer_organisation(&signer) {
            None => command(case_id, &signer, fire),
            Some(organisation) => {
                let party = t.requires_each_member_of.as_deref();
                let role = t
                    .roles
                    .iter()
                    .filter_map(|r| engine.workflow.role(r))
                    .find(|r| r.party.as_deref() == party && !r.lead_only)
                    .expect("a role of the signing party")
                    .id
                    .clone();
                let mut command = command(case_id, &role, fire);
                command.actor = command.actor.for_organisation(organisation);
                command
            }
        };
        store.execute(&command, now()).await.unwrap();
    }
}

/// Attaches the contract and sets its fields, as the PPK, without signing it.
pub async fn prepare_contract(store: &SqlStore, id: &str) {
    store
        .execute(&attach(id, "ppk", "kontrak", b"isi kontrak"), now())
        .await
        .unwrap();
    for (field, value) in [
        ("nomor_kontrak", "027/2025"),
        ("nilai_kontrak", "Rp34.500.000"),
        ("tanggal_kontrak", "2025-03-24"),
        ("tanggal_selesai", "2025-06-30"),
    ] {
        store
            .execute(
                &command(
                    id,
                    "ppk",
                    Action::SetField {
                        field: field.into(),
                        value: value.into(),
                    },
                ),
                now(),
            )
            .await
            .unwrap();
    }
}
