//! Cases over HTTP: the whole seed partnership driven by two tokens, racing clients,
//! idempotent retries, and bad input of every kind leaving the case exactly as it was.

#[macro_use]
mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use serde_json::json;
use swakelola_api::Limits;

/// The seed partnership, step by step: (what, argument, value, role). Who acts follows from
/// the role: the Ormas's token for the CSO's roles, the agency's for the rest.
/// Transitions of the shipped workflow that both sides approve (`requires_all`, and the MoU
/// signed by the agency and every organisation of the Ormas side).
const JOINT_SIGN_OFFS: &[&str] = &["tandatangani_mou", "tandatangani_kontrak"];

const STEPS: &[(&str, &str, &str, &str)] = &[
    (
        "attach",
        "notulen_audiensi",
        "notulen.pdf",
        "pimpinan_ormas",
    ),
    ("fire", "catat_audiensi", "", "pimpinan_ormas"),
    ("attach", "kak", "kak.pdf", "pimpinan_ormas"),
    ("attach", "rab", "rab.xlsx", "pimpinan_ormas"),
    ("set", "nilai_estimasi", "34.500.000", "pimpinan_ormas"),
    ("fire", "serahkan_kak", "", "pimpinan_ormas"),
    (
        "attach",
        "penugasan_tim_persiapan",
        "penugasan.pdf",
        "pa_kpa",
    ),
    ("fire", "terima_kak", "", "ppk"),
    ("attach", "mou", "mou.pdf", "pa_kpa"),
    ("fire", "tandatangani_mou", "", "pa_kpa"),
    // The yayasan signs the MoU for itself.
    ("fire", "tandatangani_mou", "", "pimpinan_ormas"),
    ("attach", "rka", "rka.pdf", "perencana"),
    ("set", "pagu", "Rp34.500.000", "perencana"),
    ("set", "sumber_dana", "apbd", "perencana"),
    ("fire", "masuk_apbd", "", "perencana"),
    ("attach", "dpa", "dppa.pdf", "perencana"),
    ("set", "kode_anggaran", "2.08.01.2.01.0001", "perencana"),
    ("fire", "sahkan_dpa", "", "perencana"),
    ("attach", "pengumuman_rup", "rup.pdf", "ppk"),
    ("set", "kode_rup", "52719384", "ppk"),
    ("fire", "umumkan_rup", "", "ppk"),
    ("attach", "sk_tim", "sk-tim.pdf", "pa_kpa"),
    (
        "attach",
        "surat_permintaan_kesediaan",
        "permintaan.pdf",
        "pa_kpa",
    ),
    ("set", "rute_penetapan", "permintaan_kesediaan", "pa_kpa"),
    ("fire", "kirim_permintaan_kesediaan", "", "pa_kpa"),
    (
        "attach",
        "pernyataan_kesediaan",
        "kesediaan.pdf",
        "pimpinan_ormas",
    ),
    ("attach", "legalitas_ormas", "akta.pdf", "pimpinan_ormas"),
    ("fire", "nyatakan_kesediaan", "", "pimpinan_ormas"),
    ("attach", "surat_penetapan", "penetapan.pdf", "pa_kpa"),
    ("fire", "tetapkan_ormas", "", "pa_kpa"),
    (
        "attach",
        "sk_tim_pelaksana",
        "sk-pelaksana.pdf",
        "pimpinan_ormas",
    ),
    ("attach", "proposal", "proposal.pdf", "pimpinan_ormas"),
    ("fire", "ajukan_proposal", "", "pimpinan_ormas"),
    ("attach", "berita_acara_reviu", "reviu.pdf", "ppk"),
    ("fire", "setujui_proposal", "", "ppk"),
    ("attach", "kontrak", "kontrak.pdf", "ppk"),
    ("set", "nomor_kontrak", "027/KTR/DP3A/2025", "ppk"),
    ("set", "nilai_kontrak", "34500000", "ppk"),
    ("set", "tanggal_kontrak", "2025-07-01", "ppk"),
    ("set", "tanggal_selesai", "2025-11-28", "ppk"),
    ("fire", "tandatangani_kontrak", "", "ppk"),
    // A joint sign-off: both sides sign.
    ("fire", "tandatangani_kontrak", "", "pimpinan_ormas"),
    (
        "attach",
        "laporan_awal",
        "laporan-awal.pdf",
        "tim_pelaksana",
    ),
    (
        "attach",
        "laporan_kemajuan",
        "kemajuan-juli.pdf",
        "tim_pelaksana",
    ),
    ("fire", "serahkan_hasil", "", "pimpinan_ormas"),
    ("attach", "bast", "bast.pdf", "ppk"),
    ("fire", "tandatangani_bast", "", "ppk"),
    ("attach", "bast_pa", "bast-pa.pdf", "ppk"),
    ("fire", "serahkan_ke_pa", "", "ppk"),
    (
        "attach",
        "laporan_akhir",
        "laporan-akhir.pdf",
        "pimpinan_ormas",
    ),
    (
        "attach",
        "laporan_keuangan",
        "keuangan.pdf",
        "pimpinan_ormas",
    ),
    (
        "attach",
        "permohonan_pembayaran",
        "pembayaran.pdf",
        "pimpinan_ormas",
    ),
    ("fire", "ajukan_laporan_akhir", "", "pimpinan_ormas"),
    ("attach", "pencatatan_spse", "spse.pdf", "ppk"),
    ("set", "nilai_realisasi", "34500000", "ppk"),
    ("fire", "tutup", "Laporan diterima", "ppk"),
];

const ORMAS_ROLES: [&str; 2] = ["pimpinan_ormas", "tim_pelaksana"];
const AGENCY_ROLES: [&str; 3] = ["ppk", "pa_kpa", "perencana"];

async fn seed_partnership(api: Api) {
    let agency = api.token("Budi Santoso", AGENCY, &AGENCY_ROLES).await;
    let ormas = api.token("Siti Aminah", ORMAS, &ORMAS_ROLES).await;
    // A CSO's token that claims an agency role must still not act for the agency.
    let impostor = api
        .token("Siti Aminah", ORMAS, &["pimpinan_ormas", "ppk"])
        .await;
    let id = api.open_case(&agency, "DP3A-2025-001").await;
    let definition = api
        .get(&format!("/v1/workflows/{WORKFLOW}"), &agency)
        .await
        .json()["definition"]
        .clone();
    let mut refused = 0;
    for (index, (what, argument, value, role)) in STEPS.iter().enumerate() {
        let (mine, theirs) = if ORMAS_ROLES.contains(role) {
            (&ormas, &agency)
        } else {
            (&agency, &ormas)
        };
        let before = api.snapshot(&id).await;
        let send = |token: &str, role: Option<&str>| {
            let token = token.to_owned();
            let role = role.map(str::to_owned);
            let api = &api;
            let id = &id;
            async move {
                match *what {
                    "attach" => {
                        let role = role.map(|r| format!("&role={r}")).unwrap_or_default();
                        api.upload(
                            &format!("/v1/cases/{id}/documents?document_type={argument}&file_name={value}{role}"),
                            &token,
                            format!("{argument} — {value}").into_bytes(),
                        )
                        .await
                    }
                    "set" => {
                        api.call(
                            Method::PUT,
                            &format!("/v1/cases/{id}/fields/{argument}"),
                            Some(&token),
                            Some(json!({"value": value, "role": role})),
                        )
                        .await
                    }
                    _ => {
                        let comment = (!value.is_empty()).then_some(*value);
                        api.call(
                            Method::POST,
                            &format!("/v1/cases/{id}/transitions/{argument}"),
                            Some(&token),
                            Some(json!({"role": role, "comment": comment})),
                        )
                        .await
                    }
                }
            }
        };
        // The other side cannot take this step, in its own roles or by naming ours — except
        // a joint sign-off, which both sides take in turn (each its own approval).
        if !(*what == "fire" && JOINT_SIGN_OFFS.contains(argument)) {
            let reply = send(theirs, None).await;
            if reply.status == StatusCode::FORBIDDEN {
                refused += 1;
            } else {
                // Some documents and fields are open to both sides (a BAST is signed by both);
                // then the workflow must say so, and the step is done.
                let their_roles: &[&str] = if ORMAS_ROLES.contains(role) {
                    &AGENCY_ROLES
                } else {
                    &ORMAS_ROLES
                };
                let (list, restriction) = match *what {
                    "attach" => ("documents", "attach_by"),
                    "set" => ("fields", "set_by"),
                    _ => panic!(
                        "step {index}: the other side fired {argument}: {}",
                        reply.text()
                    ),
                };
                let open_to_all = definition[list].as_array().unwrap().iter().any(|d| {
                    d["id"] == *argument
                        && d[restriction].as_array().is_some_and(|allowed| {
                            allowed.is_empty()
                                || allowed
                                    .iter()
                                    .any(|r| their_roles.contains(&r.as_str().unwrap()))
                        })
                });
                assert!(
                    open_to_all,
                    "step {index}: {argument} is not theirs but the other side did it"
                );
                assert!(reply.status.is_success(), "step {index}: {}", reply.text());
                continue;
            }
            assert_eq!(send(theirs, Some(role)).await.status, StatusCode::FORBIDDEN);
            assert_eq!(
                api.snapshot(&id).await,
                before,
                "step {index}: a refused request changed the case"
            );
        }
        if *role == "ppk" {
            let reply = send(&impostor, Some("ppk")).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "step {index}: {}",
                reply.text()
            );
        }
        let reply = send(mine, Some(role)).await;
        assert!(
            reply.status.is_success(),
            "step {index} ({what} {argument} as {role}): {}",
            reply.text()
        );
        let event = &reply.json()["event"];
        assert_eq!(
            event["actor"]["role"],
            *role,
            "step {index}: {}",
            reply.text()
        );
    }
    let case = api.get(&format!("/v1/cases/{id}"), &ormas).await.json();
    assert_eq!(case["stage"], "selesai", "{case}");
    assert_eq!(case["closed"], true);
    assert!(
        refused > 30,
        "only {refused} steps were tried by the wrong side"
    );
    let verify = api
        .get(&format!("/v1/cases/{id}/verify"), &agency)
        .await
        .json();
    assert_eq!(verify["intact"], true);
    let history = api
        .get(&format!("/v1/cases/{id}/history"), &agency)
        .await
        .json();
    // Opening plus one event per step, each with the token holder as actor.
    assert_eq!(history["events"].as_array().unwrap().len(), STEPS.len() + 1);
    // A document comes back byte for byte.
    let sha = case["documents"][0]["sha256"].as_str().unwrap();
    let download = api
        .get(&format!("/v1/cases/{id}/documents/{sha}"), &agency)
        .await;
    assert_eq!(download.bytes, "notulen_audiensi — notulen.pdf".as_bytes());
    assert_eq!(
        download.headers["content-disposition"],
        "attachment; filename=\"notulen.pdf\""
    );
}

async fn races(api: Api) {
    let budi = api.token("Budi", AGENCY, &AGENCY_ROLES).await;
    let dewi = api.token("Dewi", AGENCY, &AGENCY_ROLES).await;
    let id = api.open_case(&budi, "RACE-1").await;
    let revision = api.get(&format!("/v1/cases/{id}"), &budi).await.json()["revision"]
        .as_u64()
        .unwrap();
    // Two people set the ceiling at once, each on the revision they saw.
    let field = format!("/v1/cases/{id}/fields/pagu");
    let set = |token: String, value: &'static str, expected: u64| {
        let api = &api;
        let field = &field;
        async move {
            api.call(
                Method::PUT,
                field,
                Some(&token),
                Some(json!({"value": value, "expected_revision": expected})),
            )
            .await
        }
    };
    let (first, second) = tokio::join!(
        set(budi.clone(), "Rp34.500.000", revision),
        set(dewi.clone(), "Rp35.000.000", revision)
    );
    let mut statuses = [first.status.as_u16(), second.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", first.text(), second.text());
    let loser = if first.status == StatusCode::CONFLICT {
        &first
    } else {
        &second
    };
    assert_eq!(loser.code(), "conflict");
    // The loser reloads and retries on the new revision.
    let now_at = api.get(&format!("/v1/cases/{id}"), &dewi).await.json()["revision"]
        .as_u64()
        .unwrap();
    assert_eq!(now_at, revision + 1);
    let retry = set(dewi.clone(), "Rp35.000.000", now_at).await;
    assert_eq!(retry.status, StatusCode::OK, "{}", retry.text());

    // The same request sent twice with one Idempotency-Key is applied once.
    let keyed = || {
        let request = Request::builder()
            .method(Method::PUT)
            .uri(format!("/v1/cases/{id}/fields/sumber_dana"))
            .header("authorization", format!("Bearer {budi}"))
            .header("content-type", "application/json")
            .header("idempotency-key", "3f7b1c2e-sumber-dana")
            .body(Body::from(r#"{"value": "apbd"}"#))
            .unwrap();
        api.send(request)
    };
    let (a, b) = tokio::join!(keyed(), keyed());
    let replies = [a, b];
    assert!(
        replies
            .iter()
            .all(|r| r.status == StatusCode::OK || r.status == StatusCode::CONFLICT),
        "{replies:?}"
    );
    let again = keyed().await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    assert_eq!(again.json()["created"], false, "a replay writes nothing");
    let history = api.store_history(&id).await;
    let sets = history.iter().filter(|e| e.contains("sumber_dana")).count();
    assert_eq!(sets, 1, "applied exactly once");
    // The same key from another token is a different request: no collision, no leak.
    let request = Request::builder()
        .method(Method::PUT)
        .uri(format!("/v1/cases/{id}/fields/sumber_dana"))
        .header("authorization", format!("Bearer {dewi}"))
        .header("content-type", "application/json")
        .header("idempotency-key", "3f7b1c2e-sumber-dana")
        .body(Body::from(r#"{"value": "apbd"}"#))
        .unwrap();
    let other = api.send(request).await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.text());
    assert_eq!(other.json()["created"], true);
}

impl Api {
    async fn store_history(&self, id: &str) -> Vec<String> {
        use swakelola_store::Store;
        self.store
            .history(id)
            .await
            .unwrap()
            .iter()
            .map(|e| serde_json::to_string(&e.event).unwrap())
            .collect()
    }
}

/// Malformed, mistyped, oversized and hostile requests: the right status, a JSON error with
/// a request id, and the case, its history and its documents untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_and_changes_nothing() {
    let limits = Limits {
        json_bytes: 4096,
        upload_bytes: 1024,
        ..Limits::default()
    };
    let api = Api::with_limits(sqlite().await, limits).await;
    let budi = api.token("Budi", AGENCY, &AGENCY_ROLES).await;
    let siti = api.token("Siti", ORMAS, &ORMAS_ROLES).await;
    let id = api.open_case(&budi, "BAD-1").await;
    let before = api.snapshot(&id).await;
    let raw = |method: Method, path: String, content_type: &str, body: Vec<u8>, token: &str| {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap();
        api.send(request)
    };
    let fire = format!("/v1/cases/{id}/transitions/catat_audiensi");
    let field = format!("/v1/cases/{id}/fields/pagu");
    let cases: Vec<(&str, Reply, u16, &str)> = vec![
        ("malformed JSON", raw(Method::PUT, field.clone(), "application/json", b"{\"value\": ".to_vec(), &budi).await, 400, "bad_request"),
        ("trailing garbage", raw(Method::PUT, field.clone(), "application/json", b"{\"value\": \"1\"} x".to_vec(), &budi).await, 400, "bad_request"),
        ("wrong type", raw(Method::PUT, field.clone(), "application/json", br#"{"value": 34500000}"#.to_vec(), &budi).await, 422, "invalid_body"),
        ("unknown field", raw(Method::PUT, field.clone(), "application/json", br#"{"value": "1", "approved": true}"#.to_vec(), &budi).await, 422, "invalid_body"),
        ("missing field", raw(Method::PUT, field.clone(), "application/json", b"{}".to_vec(), &budi).await, 422, "invalid_body"),
        ("not JSON at all", raw(Method::PUT, field.clone(), "text/plain", b"value=1".to_vec(), &budi).await, 415, "unsupported_media_type"),
        ("oversized JSON", raw(Method::POST, fire.clone(), "application/json", format!("{{\"comment\": \"{}\"}}", "x".repeat(5000)).into_bytes(), &siti).await, 413, "too_large"),
        ("oversized upload", raw(Method::POST, format!("/v1/cases/{id}/documents?document_type=notulen_audiensi&file_name=n.pdf"), "application/octet-stream", vec![7u8; 2048], &siti).await, 413, "too_large"),
        ("path traversal", raw(Method::POST, format!("/v1/cases/{id}/documents?document_type=notulen_audiensi&file_name=..%2F..%2Fetc%2Fpasswd"), "application/octet-stream", b"x".to_vec(), &siti).await, 422, "invalid_request"),
        ("backslash path", raw(Method::POST, format!("/v1/cases/{id}/documents?document_type=notulen_audiensi&file_name=C:%5Cwin.ini"), "application/octet-stream", b"x".to_vec(), &siti).await, 422, "invalid_request"),
        ("empty document", raw(Method::POST, format!("/v1/cases/{id}/documents?document_type=notulen_audiensi&file_name=n.pdf"), "application/octet-stream", Vec::new(), &siti).await, 422, "invalid_request"),
        ("unknown document type", raw(Method::POST, format!("/v1/cases/{id}/documents?document_type=surat_sakti&file_name=n.pdf"), "application/octet-stream", b"x".to_vec(), &siti).await, 422, "unknown_document_type"),
        ("missing query", raw(Method::POST, format!("/v1/cases/{id}/documents"), "application/octet-stream", b"x".to_vec(), &siti).await, 400, "bad_request"),
        ("invalid value", raw(Method::PUT, field.clone(), "application/json", br#"{"value": "tiga puluh juta"}"#.to_vec(), &budi).await, 422, "invalid_field_value"),
        ("guard not met", raw(Method::POST, fire.clone(), "application/json", b"{}".to_vec(), &siti).await, 422, "guards_not_met"),
        ("wrong stage", raw(Method::POST, format!("/v1/cases/{id}/transitions/terima_kak"), "application/json", b"{}".to_vec(), &budi).await, 409, "wrong_stage"),
        ("stale revision", raw(Method::PUT, field.clone(), "application/json", br#"{"value": "1", "expected_revision": 0}"#.to_vec(), &budi).await, 409, "conflict"),
        ("unknown case", raw(Method::PUT, "/v1/cases/no-such-case/fields/pagu".into(), "application/json", br#"{"value": "1"}"#.to_vec(), &budi).await, 404, "case_not_found"),
        ("unknown endpoint", raw(Method::GET, "/v1/kasus".into(), "application/json", Vec::new(), &budi).await, 404, "not_found"),
        ("bad limit", raw(Method::GET, "/v1/cases?limit=0".into(), "application/json", Vec::new(), &budi).await, 400, "bad_request"),
        ("unknown query parameter", raw(Method::GET, "/v1/cases?organisation=lain".into(), "application/json", Vec::new(), &budi).await, 400, "bad_request"),
    ];
    for (what, reply, status, code) in &cases {
        assert_eq!(reply.status.as_u16(), *status, "{what}: {}", reply.text());
        assert_eq!(reply.code(), *code, "{what}: {}", reply.text());
        let body = reply.json();
        assert!(
            body["error"]["request_id"].is_string(),
            "{what}: no request id in {body}"
        );
        assert_eq!(
            reply.headers["x-request-id"],
            body["error"]["request_id"].as_str().unwrap()
        );
    }
    // Validation failures name the offending part of the request.
    let paths = |reply: &Reply| -> Vec<String> {
        reply.json()["error"]["details"]
            .as_array()
            .map(|d| {
                d.iter()
                    .map(|p| p["path"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(paths(&cases[2].1), ["body.value"]);
    assert_eq!(paths(&cases[3].1), ["body.approved"]);
    assert_eq!(paths(&cases[8].1), ["file_name"]);
    assert_eq!(paths(&cases[13].1), ["fields.pagu"]);
    assert_eq!(paths(&cases[14].1), ["documents.notulen_audiensi"]);
    assert_eq!(
        api.snapshot(&id).await,
        before,
        "bad input changed the case"
    );
    // A bad Idempotency-Key is refused before anything happens.
    let request = Request::builder()
        .method(Method::PUT)
        .uri(&field)
        .header("authorization", format!("Bearer {budi}"))
        .header("content-type", "application/json")
        .header("idempotency-key", "x".repeat(200))
        .body(Body::from(r#"{"value": "1"}"#))
        .unwrap();
    assert_eq!(api.send(request).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(api.snapshot(&id).await, before);
}

/// A database that stops answering: /readyz and commands say 503 with a generic message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_down_is_503_with_a_generic_body() {
    let api = Api::new(sqlite().await).await;
    let budi = api.token("Budi", AGENCY, &AGENCY_ROLES).await;
    let id = api.open_case(&budi, "DOWN-1").await;
    assert_eq!(
        api.call(Method::GET, "/readyz", None, None).await.status,
        StatusCode::OK
    );
    api.store.pool().close().await;
    let ready = api.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(
        ready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        ready.text()
    );
    assert_eq!(ready.code(), "database_unavailable");
    assert!(
        !ready.text().contains("sqlite"),
        "no internals in the body: {}",
        ready.text()
    );
    assert_eq!(
        api.call(Method::GET, "/healthz", None, None).await.status,
        StatusCode::OK
    );
    let show = api.get(&format!("/v1/cases/{id}"), &budi).await;
    assert_eq!(
        show.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        show.text()
    );
}

/// Data damaged behind the engine's back: 500 with a generic body; the detail stays in the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_data_is_500_without_internals() {
    let api = Api::new(sqlite().await).await;
    let budi = api.token("Budi", AGENCY, &AGENCY_ROLES).await;
    let id = api.open_case(&budi, "CORRUPT-1").await;
    sqlx::query("UPDATE cases SET state = '{not json' WHERE id = $1")
        .bind(&id)
        .execute(api.store.pool())
        .await
        .unwrap();
    let reply = api.get(&format!("/v1/cases/{id}"), &budi).await;
    assert_eq!(
        reply.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        reply.text()
    );
    assert_eq!(reply.code(), "internal");
    let body = reply.text();
    assert!(
        !body.contains("not json") && !body.contains("case state"),
        "{body}"
    );
    assert!(reply.json()["error"]["request_id"].is_string());
}

/// Opening with a party the workflow does not have or a contact that is not an address, and
/// issuing tokens with bad details: 422 with the path, nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_open_and_token_requests_write_nothing() {
    let api = Api::new(sqlite().await).await;
    let budi = api.token("Budi", AGENCY, &AGENCY_ROLES).await;
    let admin = api.token("Admin", AGENCY, &["admin"]).await;
    let mut unknown_party = open_body("BAD-OPEN-1");
    unknown_party["parties"]["penyandang_dana"] = json!("bank-dunia");
    let mut bad_contact = open_body("BAD-OPEN-2");
    bad_contact["contacts"] = json!({"ppk": [{"name": "Budi", "address": "budi@dp3a.example"}]});
    for (body, path) in [
        (unknown_party, "parties.penyandang_dana"),
        (bad_contact, "contacts.ppk[0].address"),
    ] {
        let reply = api
            .call(Method::POST, "/v1/cases", Some(&budi), Some(body))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.text()
        );
        assert_eq!(reply.json()["error"]["details"][0]["path"], path);
    }
    let listed = api.get("/v1/cases", &budi).await.json();
    assert_eq!(listed["items"], json!([]), "a refused open wrote a case");

    let tokens_before = api.store.tokens().await.unwrap().len();
    for (body, status, path) in [
        (
            json!({"name": "Dewi", "organisation": AGENCY, "roles": ["perencana"], "expires_at": "besok"}),
            422,
            Some("body.expires_at"),
        ),
        (
            json!({"name": "Dewi", "organisation": AGENCY, "roles": ["perencana"], "expires_at": "2024-01-01T00:00:00Z"}),
            422,
            None,
        ),
        (
            json!({"name": "Dewi", "organisation": AGENCY, "roles": []}),
            422,
            None,
        ),
        (
            json!({"name": "", "organisation": AGENCY, "roles": ["perencana"]}),
            422,
            None,
        ),
        (
            json!({"name": "Dewi", "organisation": AGENCY}),
            422,
            Some("body"),
        ),
    ] {
        let reply = api
            .call(Method::POST, "/v1/tokens", Some(&admin), Some(body.clone()))
            .await;
        assert_eq!(reply.status.as_u16(), status, "{body}: {}", reply.text());
        if let Some(path) = path {
            assert_eq!(
                reply.json()["error"]["details"][0]["path"],
                path,
                "{}",
                reply.text()
            );
        }
    }
    let unknown = api
        .call(
            Method::DELETE,
            "/v1/tokens/no-such-token",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text());
    assert_eq!(unknown.code(), "token_not_found");
    assert_eq!(api.store.tokens().await.unwrap().len(), tokens_before);
}

/// A method a path does not take answers 405 in the API's error shape, not an empty body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_method_answers_405_as_json() {
    let api = Api::new(sqlite().await).await;
    let agency = api.token("Budi", AGENCY, &["ppk"]).await;
    let reply = api
        .call(Method::DELETE, "/v1/cases", Some(&agency), None)
        .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.json()["error"]["code"], "method_not_allowed");
}

/// A refusal reads in the caller's language — Indonesian by default, English with
/// `Accept-Language: en` or `?lang=en` — and names stages, steps and documents by their
/// labels; the code and the paths of the details never change.
async fn refusals_in_both_languages(api: Api) {
    let budi = api.token("Budi", AGENCY, &AGENCY_ROLES).await;
    let siti = api.token("Siti", ORMAS, &ORMAS_ROLES).await;
    let id = api.open_case(&budi, "LANG-1").await;
    let before = api.snapshot(&id).await;
    let fire = |path: String, token: &str, language: Option<&str>| {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json");
        if let Some(language) = language {
            request = request.header("accept-language", language);
        }
        api.send(request.body(Body::from("{}")).unwrap())
    };
    let wrong_stage = format!("/v1/cases/{id}/transitions/terima_kak");
    let indonesian = fire(wrong_stage.clone(), &budi, None).await;
    assert_eq!(indonesian.status, StatusCode::CONFLICT);
    assert_eq!(indonesian.code(), "wrong_stage");
    assert_eq!(
        indonesian.json()["error"]["message"],
        "Langkah «Terima KAK ke rencana kerja» tidak bisa dilakukan dari tahap «Audiensi»; yang bisa: «Catat hasil audiensi», «Batalkan»."
    );
    let english = fire(wrong_stage.clone(), &budi, Some("en-GB,en;q=0.8")).await;
    assert_eq!(
        english.json()["error"]["message"],
        "The step «Accept into the work plan» cannot be taken from stage «Audience»; possible: «Record the audience», «Cancel»."
    );
    let by_query = fire(format!("{wrong_stage}?lang=en"), &budi, Some("id")).await;
    assert_eq!(by_query.json()["error"], {
        let mut error = english.json()["error"].clone();
        error["request_id"] = by_query.json()["error"]["request_id"].clone();
        error
    });
    // What a guard still needs, per detail, in the caller's language.
    let guard = format!("/v1/cases/{id}/transitions/catat_audiensi");
    let needs = fire(guard.clone(), &siti, None).await;
    assert_eq!(needs.code(), "guards_not_met");
    assert_eq!(
        needs.json()["error"]["details"][0],
        serde_json::json!({"path": "documents.notulen_audiensi", "message": "«Notulen dan daftar hadir audiensi» belum dilampirkan"})
    );
    let needs_en = fire(guard, &siti, Some("en")).await;
    assert_eq!(
        needs_en.json()["error"]["details"][0]["message"],
        "«Audience minutes and attendance list» is not attached"
    );
    // A case that does not exist: the same 404 in the caller's language.
    let missing = api
        .send(
            Request::builder()
                .uri("/v1/cases/no-such-case?lang=en")
                .header("authorization", format!("Bearer {budi}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("The case does not exist"),
        "{}",
        missing.text()
    );
    // The API's own answers too: no token, and a role the caller does not hold on the case.
    let anonymous = api
        .send(
            Request::builder()
                .uri("/v1/cases")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert!(
        anonymous.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Titik akhir ini memerlukan `Authorization: Bearer <token>`"),
        "{}",
        anonymous.text()
    );
    let not_yours = api
        .send(
            Request::builder()
                .method(Method::POST)
                .uri(format!("/v1/cases/{id}/transitions/catat_audiensi?lang=en"))
                .header("authorization", format!("Bearer {budi}"))
                .header("content-type", "application/json")
                .body(Body::from(r#"{"role": "pimpinan_ormas"}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(
        not_yours.status,
        StatusCode::FORBIDDEN,
        "{}",
        not_yours.text()
    );
    assert!(
        not_yours.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Your token cannot act as «Head of the organisation» on this case"),
        "{}",
        not_yours.text()
    );
    assert_eq!(api.snapshot(&id).await, before, "refusals changed nothing");
}

/// The operator deploys version 2 over HTTP, previews the example plan, is refused a broken
/// one, applies it; a case's staff may not migrate.
async fn operator_migrates(api: Api) {
    use swakelola_store::Store;
    let operator = api
        .token("Admin Kota", "kota-palembang", &["operator"])
        .await;
    let agency = api.token("Budi", AGENCY, &["ppk", "admin"]).await;
    let id = api.open_case(&agency, "DP3A-MIG-001").await;
    let deployed = api
        .call(
            Method::POST,
            "/v1/workflows",
            Some(&operator),
            Some(json!({
                "file": "swakelola-tipe-3-v2.yaml",
                "source": read("workflows/migrations/swakelola-tipe-3-v2.yaml"),
            })),
        )
        .await;
    assert_eq!(deployed.status, StatusCode::CREATED, "{}", deployed.text());
    let plan = read("workflows/migrations/plans/2027-v1-ke-v2.yaml");
    let request =
        |dry_run: bool| json!({"file": "2027-v1-ke-v2.yaml", "plan": plan, "dry_run": dry_run});
    let not_operator = api
        .call(
            Method::POST,
            "/v1/migrations",
            Some(&agency),
            Some(request(true)),
        )
        .await;
    assert_eq!(
        not_operator.status,
        StatusCode::FORBIDDEN,
        "{}",
        not_operator.text()
    );
    let broken = api
        .call(
            Method::POST,
            "/v1/migrations",
            Some(&operator),
            Some(json!({"file": "rusak.yaml", "plan": "migration: x\nworkflow: swakelola-tipe-3\nfrom: [1]\nto: 7\n"})),
        )
        .await;
    assert_eq!(
        broken.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        broken.text()
    );
    assert_eq!(broken.code(), "invalid_plan");
    assert!(
        broken.text().contains("rusak.yaml:4:5: error[E060]"),
        "{}",
        broken.text()
    );
    let garbled = api
        .call(
            Method::POST,
            "/v1/migrations",
            Some(&operator),
            Some(json!({"file": "rusak.yaml", "plan": "migration: [tidak"})),
        )
        .await;
    assert_eq!(
        garbled.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        garbled.text()
    );
    assert!(garbled.text().contains("error[E001]"), "{}", garbled.text());
    let before = api.snapshot(&id).await;
    let preview = api
        .call(
            Method::POST,
            "/v1/migrations",
            Some(&operator),
            Some(request(true)),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text());
    let report = preview.json();
    assert_eq!(report["cases"][0]["business_key"], "DP3A-MIG-001");
    assert_eq!(report["cases"][0]["outcome"], "would_migrate");
    assert_eq!(report["cases"][0]["moved"][0]["working_days"], 5);
    assert_eq!(api.snapshot(&id).await, before, "a preview writes nothing");
    let applied = api
        .call(
            Method::POST,
            "/v1/migrations",
            Some(&operator),
            Some(request(false)),
        )
        .await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text());
    assert_eq!(applied.json()["summary"]["migrated"], 1);
    let record = api.store.case(&id).await.unwrap();
    assert_eq!(record.workflow_version, 2);
    let history = api.store.history(&id).await.unwrap();
    let last = &history.last().unwrap().event;
    assert_eq!(
        (last.actor.name.as_str(), last.actor.role.as_str()),
        ("Admin Kota", "operator")
    );
    let again = api
        .call(
            Method::POST,
            "/v1/migrations",
            Some(&operator),
            Some(request(false)),
        )
        .await;
    assert_eq!(again.json()["summary"]["total"], 0, "{}", again.text());
}

on_both_stores!(
    seed_partnership_over_http => seed_partnership,
    one_of_two_racing_clients_wins => races,
    refusals_read_in_the_callers_language => refusals_in_both_languages,
    the_operator_previews_and_migrates_open_cases => operator_migrates,
);
