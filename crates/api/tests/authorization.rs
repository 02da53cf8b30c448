//! The authorization matrix: every endpoint of the OpenAPI document × {no token, revoked,
//! expired, another organisation, a role that may not, the right caller}, with the status
//! each must answer — and no answer to another organisation ever mentions the case.

#[macro_use]
mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::json;
use swakelola_store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Nobody,
    Revoked,
    Expired,
    OtherOrganisation,
    WrongRole,
    Right,
}

const CALLERS: [Caller; 6] = [
    Caller::Nobody,
    Caller::Revoked,
    Caller::Expired,
    Caller::OtherOrganisation,
    Caller::WrongRole,
    Caller::Right,
];

/// Who is "right" for an endpoint.
#[derive(Debug, Clone, Copy)]
enum RightCaller {
    Agency,
    Ormas,
    Admin,
    Operator,
}

struct Row {
    method: Method,
    /// The path as in the OpenAPI document.
    template: &'static str,
    right: RightCaller,
    /// Expected statuses for: other organisation, wrong role, right caller.
    other: u16,
    wrong_role: u16,
    ok: u16,
    /// `None` for public endpoints (everyone gets `ok`).
    authenticated: bool,
}

fn rows() -> Vec<Row> {
    let row = |method: Method, template: &'static str, right, other, wrong_role, ok| Row {
        method,
        template,
        right,
        other,
        wrong_role,
        ok,
        authenticated: true,
    };
    use RightCaller::*;
    vec![
        Row {
            authenticated: false,
            ..row(Method::GET, "/healthz", Agency, 200, 200, 200)
        },
        Row {
            authenticated: false,
            ..row(Method::GET, "/readyz", Agency, 200, 200, 200)
        },
        row(Method::GET, "/metrics", Operator, 403, 403, 200),
        row(Method::GET, "/openapi.json", Agency, 200, 200, 200),
        row(Method::GET, "/v1/workflows", Agency, 200, 200, 200),
        row(Method::POST, "/v1/workflows", Operator, 403, 403, 200),
        // The fixture deploys one version: the operator's plan is read and refused (422,
        // nothing to move to); anyone else is refused before the plan is read.
        row(Method::POST, "/v1/migrations", Operator, 403, 403, 422),
        row(Method::GET, "/v1/workflows/{id}", Agency, 200, 200, 200),
        row(
            Method::GET,
            "/v1/workflows/{id}/diagram",
            Agency,
            200,
            200,
            200,
        ),
        row(Method::GET, "/v1/cases", Agency, 200, 200, 200),
        row(Method::POST, "/v1/cases", Agency, 403, 403, 201),
        row(Method::GET, "/v1/cases/{id}", Agency, 404, 200, 200),
        row(
            Method::POST,
            "/v1/cases/{id}/transitions/{transition}",
            Ormas,
            404,
            403,
            200,
        ),
        row(
            Method::PUT,
            "/v1/cases/{id}/fields/{field}",
            Agency,
            404,
            403,
            200,
        ),
        // The fixture's transition (catat_audiensi) is not a joint sign-off: those who may
        // fire it are told so (422); anyone else is refused as for firing.
        row(
            Method::POST,
            "/v1/cases/{id}/transitions/{transition}/decline",
            Ormas,
            404,
            403,
            422,
        ),
        row(
            Method::POST,
            "/v1/cases/{id}/records/{record}",
            Agency,
            404,
            403,
            201,
        ),
        // The PPK records an organisation joining the Ormas coalition; the supervisor may not.
        row(
            Method::POST,
            "/v1/cases/{id}/parties/{party}/members",
            Agency,
            404,
            403,
            200,
        ),
        // The fixture's Ormas leads its party, so the PPK is told a lead cannot be withdrawn
        // (422); the supervisor is refused as for adding.
        row(
            Method::POST,
            "/v1/cases/{id}/parties/{party}/members/{organisation}/withdraw",
            Agency,
            404,
            403,
            422,
        ),
        // Any role of the case may mark it related to another it sees: the supervisor links it
        // to the first matrix case, so the PPK then finds the two linked already (422).
        row(Method::POST, "/v1/cases/{id}/links", Agency, 404, 200, 422),
        row(Method::GET, "/v1/partnerships/{id}", Agency, 404, 200, 200),
        // Any role of the agency may replace its PPK's contacts (the supervisors included);
        // the Ormas may not (see `contacts_are_changed_by_their_own_side`).
        row(
            Method::PUT,
            "/v1/cases/{id}/contacts/{role}",
            Agency,
            404,
            200,
            200,
        ),
        row(
            Method::POST,
            "/v1/cases/{id}/documents",
            Ormas,
            404,
            403,
            201,
        ),
        row(
            Method::GET,
            "/v1/cases/{id}/documents/{sha256}",
            Agency,
            404,
            200,
            200,
        ),
        row(Method::GET, "/v1/cases/{id}/history", Agency, 404, 200, 200),
        row(Method::GET, "/v1/cases/{id}/verify", Agency, 404, 200, 200),
        row(Method::GET, "/v1/agenda", Agency, 200, 200, 200),
        row(Method::GET, "/v1/invitations", Agency, 200, 200, 200),
        // Accepting is the invited organisation's: everyone else (and the Ormas, which has
        // accepted already in this fixture) finds no invitation.
        row(
            Method::POST,
            "/v1/invitations/{id}/accept",
            Ormas,
            404,
            404,
            404,
        ),
        row(Method::GET, "/v1/outbox", Admin, 403, 403, 200),
        row(Method::GET, "/v1/tokens", Admin, 403, 403, 200),
        row(Method::POST, "/v1/tokens", Admin, 403, 403, 201),
        row(Method::DELETE, "/v1/tokens/{id}", Admin, 403, 403, 200),
    ]
}

/// A concrete request for a row: path, body, whether the body is a file.
fn request(
    row: &Row,
    case: &str,
    sha256: &str,
    victim_token: &str,
    key: &str,
) -> (String, Option<serde_json::Value>, Option<Vec<u8>>) {
    let path = row
        .template
        .replace(
            "{id}",
            if row.template.starts_with("/v1/workflows") {
                WORKFLOW
            } else if row.template.starts_with("/v1/tokens") {
                victim_token
            } else {
                case
            },
        )
        .replace("{transition}", "catat_audiensi")
        .replace("{field}", "pagu")
        .replace("{record}", "pembayaran")
        .replace("{role}", "ppk")
        .replace("{party}", "ormas")
        .replace("{organisation}", ORMAS)
        .replace("{sha256}", sha256);
    match (row.method.as_str(), row.template) {
        ("POST", "/v1/workflows") => (
            path,
            Some(json!({
                "file": "swakelola-tipe-3.yaml",
                "source": read("workflows/swakelola-tipe-3.yaml"),
                "calendars": calendars().into_iter().collect::<std::collections::BTreeMap<_, _>>(),
            })),
            None,
        ),
        ("POST", "/v1/migrations") => (
            path,
            Some(json!({
                "file": "plan.yaml",
                "plan": "migration: uji\nworkflow: swakelola-tipe-3\nfrom: [1]\nto: 2\n",
                "dry_run": true,
            })),
            None,
        ),
        ("POST", "/v1/cases") => (path, Some(open_body(key)), None),
        ("POST", "/v1/cases/{id}/transitions/{transition}") => (path, Some(json!({})), None),
        ("PUT", "/v1/cases/{id}/fields/{field}") => {
            (path, Some(json!({"value": "Rp34.500.000"})), None)
        }
        ("POST", "/v1/cases/{id}/transitions/{transition}/decline") => {
            (path, Some(json!({"comment": "Belum sesuai"})), None)
        }
        ("POST", "/v1/cases/{id}/records/{record}") => (
            path,
            Some(
                json!({"values": {"termin": "1", "jumlah": "Rp1.000.000", "tanggal_sp2d": "2025-05-20"}}),
            ),
            None,
        ),
        ("POST", "/v1/cases/{id}/parties/{party}/members") => (
            path,
            Some(json!({"organisation": "perkumpulan-sumsel-peduli"})),
            None,
        ),
        ("POST", "/v1/cases/{id}/parties/{party}/members/{organisation}/withdraw") => {
            (path, Some(json!({"reason": "Mengundurkan diri"})), None)
        }
        ("POST", "/v1/cases/{id}/links") => (path, Some(json!({"case": "MATRIX-0"})), None),
        ("PUT", "/v1/cases/{id}/contacts/{role}") => (
            path,
            Some(
                json!({"contacts": [{"name": "Andi Wijaya", "address": "email:andi@dp3a.example"}]}),
            ),
            None,
        ),
        ("POST", "/v1/cases/{id}/documents") => (
            format!("{path}?document_type=kak&file_name=kak.pdf"),
            None,
            Some(b"%PDF-1.4 KAK".to_vec()),
        ),
        ("POST", "/v1/tokens") => (
            path,
            Some(json!({"name": "Dewi", "organisation": AGENCY, "roles": ["perencana"]})),
            None,
        ),
        ("GET", "/v1/workflows/{id}/diagram") => (format!("{path}?format=dot"), None, None),
        _ => (path, None, None),
    }
}

async fn matrix(api: Api) {
    let agency = api
        .token("Budi Santoso", AGENCY, &["ppk", "pa_kpa", "perencana"])
        .await;
    let ormas = api
        .token("Siti Aminah", ORMAS, &["pimpinan_ormas", "tim_pelaksana"])
        .await;
    let admin = api.token("Admin DP3A", AGENCY, &["admin"]).await;
    let operator = api.token("Operator", AGENCY, &["operator"]).await;
    // Another organisation holding every role of the workflow: still sees nothing of ours.
    let other = api
        .token(
            "Orang lain",
            OTHER,
            &[
                "ppk",
                "pa_kpa",
                "perencana",
                "pimpinan_ormas",
                "tim_pelaksana",
                "fasilitator",
                "tim_persiapan",
                "tim_pengawas",
            ],
        )
        .await;
    let wrong_role = api.token("Pengawas", AGENCY, &["tim_pengawas"]).await;
    let revoked = api.token("Mantan pegawai", AGENCY, &["ppk", "admin"]).await;
    let revoked_id = api.store.tokens().await.unwrap().last().unwrap().id.clone();
    api.store.revoke_token(&revoked_id, now()).await.unwrap();
    let expired = api
        .store
        .create_token(
            "Kontrak lama",
            AGENCY,
            &["ppk".to_owned(), "admin".to_owned()],
            Some("2024-06-30T17:00:00Z".parse().unwrap()),
            "2024-01-02T00:00:00Z".parse().unwrap(),
        )
        .await
        .unwrap()
        .1;

    // The table covers exactly the operations of the OpenAPI document.
    let document = serde_json::to_value(swakelola_api::openapi()).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let mut documented: Vec<(String, String)> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, operations)| {
            operations
                .as_object()
                .unwrap()
                .keys()
                .filter(|m| ["get", "post", "put", "delete", "patch"].contains(&m.as_str()))
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    documented.sort();
    let mut tested: Vec<(String, String)> = rows()
        .iter()
        .map(|r| (r.method.to_string(), r.template.to_owned()))
        .collect();
    tested.sort();
    assert_eq!(
        documented, tested,
        "every documented operation is in the matrix"
    );

    for (index, row) in rows().iter().enumerate() {
        // A fresh case per endpoint, with the audience minutes attached.
        let case = api.open_case(&agency, &format!("MATRIX-{index}")).await;
        let sha256 = api.attach_minutes(&case, &ormas).await;
        // A token for the admin to revoke.
        api.token("Sementara", AGENCY, &["ppk"]).await;
        let victim_id = api.store.tokens().await.unwrap().last().unwrap().id.clone();
        let before = api.snapshot(&case).await;
        for caller in CALLERS {
            let token = match caller {
                Caller::Nobody => None,
                Caller::Revoked => Some(revoked.as_str()),
                Caller::Expired => Some(expired.as_str()),
                Caller::OtherOrganisation => Some(other.as_str()),
                Caller::WrongRole => Some(wrong_role.as_str()),
                Caller::Right => Some(match row.right {
                    RightCaller::Agency => agency.as_str(),
                    RightCaller::Ormas => ormas.as_str(),
                    RightCaller::Admin => admin.as_str(),
                    RightCaller::Operator => operator.as_str(),
                }),
            };
            let key = format!("MATRIX-{index}-{caller:?}");
            let (path, body, file) = request(row, &case, &sha256, &victim_id, &key);
            let reply = match file {
                Some(bytes) => match token {
                    Some(token) => api.upload(&path, token, bytes).await,
                    None => api.call(row.method.clone(), &path, None, None).await,
                },
                None => api.call(row.method.clone(), &path, token, body).await,
            };
            let expected = match caller {
                _ if !row.authenticated => row.ok,
                Caller::Nobody | Caller::Revoked | Caller::Expired => 401,
                Caller::OtherOrganisation => row.other,
                Caller::WrongRole => row.wrong_role,
                Caller::Right => row.ok,
            };
            assert_eq!(
                reply.status.as_u16(),
                expected,
                "{} {path} as {caller:?}: {}",
                row.method,
                reply.text()
            );
            if reply.status == StatusCode::UNAUTHORIZED {
                assert!(reply.headers.contains_key("www-authenticate"));
            }
            if caller == Caller::OtherOrganisation && row.other == 404 {
                // Exactly what a case that does not exist gets, request id aside.
                let unknown_path = path.replace(&case, "0190a000-0000-7000-8000-000000000000");
                let (_, unknown_body, unknown_file) = request(
                    row,
                    "0190a000-0000-7000-8000-000000000000",
                    &sha256,
                    &victim_id,
                    &key,
                );
                let unknown = match unknown_file {
                    Some(bytes) => api.upload(&unknown_path, token.unwrap(), bytes).await,
                    None => {
                        api.call(row.method.clone(), &unknown_path, token, unknown_body)
                            .await
                    }
                };
                assert_eq!(
                    without_request_id(&reply),
                    without_request_id(&unknown),
                    "{path}: another organisation's case answers unlike a missing one"
                );
            }
            if caller == Caller::OtherOrganisation {
                let text = reply.text();
                assert!(
                    !text.contains(&case),
                    "{path}: the other organisation saw the case id"
                );
                assert!(
                    !text.contains(&format!("MATRIX-{index}\"")),
                    "{path}: it saw the business key"
                );
                assert!(!text.contains(ORMAS), "{path}: it saw the parties");
            }
            // A refused request, or any read, changes nothing.
            if (caller != Caller::Right && expected >= 400) || row.method == Method::GET {
                assert_eq!(
                    api.snapshot(&case).await,
                    before,
                    "{} {path} as {caller:?} changed the case",
                    row.method
                );
            }
        }
    }
}

/// Lists and the agenda of another organisation hold none of our cases, while ours do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_show_only_the_callers_cases() {
    let api = Api::new(sqlite().await).await;
    let agency = api.token("Budi", AGENCY, &["ppk"]).await;
    let ormas = api.token("Siti", ORMAS, &["pimpinan_ormas"]).await;
    let other = api.token("Lain", OTHER, &["ppk"]).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(api.open_case(&agency, &format!("LIST-{n}")).await);
    }
    // The other organisation opens a case of its own (as its own agency).
    let mut body = open_body("LAIN-1");
    body["parties"] = json!({"instansi": OTHER});
    let own = api
        .call(Method::POST, "/v1/cases", Some(&other), Some(body))
        .await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.text());
    let own_id = own.json()["case"]["id"].as_str().unwrap().to_owned();

    let listed = |reply: &Reply| -> Vec<String> {
        reply.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        listed(&api.get("/v1/cases", &other).await),
        vec![own_id.clone()]
    );
    assert_eq!(listed(&api.get("/v1/cases", &ormas).await), ids);
    // Pages of two, following `next`, give every case once.
    let mut paged = Vec::new();
    let mut path = "/v1/cases?limit=2".to_owned();
    loop {
        let reply = api.get(&path, &agency).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        paged.extend(listed(&reply));
        match reply.json()["next"].as_str() {
            Some(next) => path = format!("/v1/cases?limit=2&after={next}"),
            None => break,
        }
    }
    assert_eq!(paged, ids);
    // Someone else's case is not a valid cursor.
    assert_eq!(
        api.get(&format!("/v1/cases?after={own_id}"), &agency)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let agenda = api.get("/v1/agenda?days=30", &other).await;
    let items = agenda.json().as_array().unwrap().clone();
    // Its own case is there (so the check below looks at something), and only that.
    assert!(!items.is_empty(), "{}", agenda.text());
    assert!(
        items.iter().all(|item| item["case_id"] == own_id.as_str()),
        "{}",
        agenda.text()
    );
    let agenda = api.get("/v1/agenda?days=30", &agency).await;
    let mut seen: Vec<String> = agenda
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["case_id"].as_str().unwrap().to_owned())
        .collect();
    seen.sort();
    seen.dedup();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(seen, expected, "{}", agenda.text());
}

/// An administrator belongs to its organisation: the admin of `org-x` sees, issues and revokes
/// nothing of DP3A's, reads none of its messages or documents, and cannot deploy.
async fn admins_stay_in_their_organisation(api: Api) {
    let agency = api.token("Budi", AGENCY, &["ppk"]).await;
    let ormas = api.token("Siti", ORMAS, &["pimpinan_ormas"]).await;
    let agency_admin = api.token("Admin DP3A", AGENCY, &["admin"]).await;
    let other_admin = api.token("Admin X", OTHER, &["admin"]).await;
    let case = api.open_case(&agency, "ADMIN-1").await;
    let sha256 = api.attach_minutes(&case, &ormas).await;
    let fired = api
        .call(
            Method::POST,
            &format!("/v1/cases/{case}/transitions/catat_audiensi"),
            Some(&ormas),
            Some(json!({})),
        )
        .await;
    assert_eq!(fired.status, StatusCode::OK, "{}", fired.text());
    let agency_token_id = api
        .store
        .organisation_tokens(AGENCY)
        .await
        .unwrap()
        .first()
        .unwrap()
        .id
        .clone();

    // Minting a token for DP3A, or an operator token for itself: refused.
    for body in [
        json!({"name": "Palsu", "organisation": AGENCY, "roles": ["ppk"]}),
        json!({"name": "Palsu", "organisation": OTHER, "roles": ["operator"]}),
    ] {
        let minted = api
            .call(Method::POST, "/v1/tokens", Some(&other_admin), Some(body))
            .await;
        assert_eq!(minted.status, StatusCode::FORBIDDEN, "{}", minted.text());
    }
    // Its token list holds only its own organisation's tokens.
    let listed = api.get("/v1/tokens", &other_admin).await;
    assert_eq!(listed.status, StatusCode::OK);
    let organisations: Vec<String> = listed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["organisation"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(organisations, vec![OTHER], "{}", listed.text());
    // DP3A's token answers like a token that does not exist, and stays valid.
    let revoke = api
        .call(
            Method::DELETE,
            &format!("/v1/tokens/{agency_token_id}"),
            Some(&other_admin),
            None,
        )
        .await;
    let missing = api
        .call(
            Method::DELETE,
            "/v1/tokens/0190a000-0000-7000-8000-000000000000",
            Some(&other_admin),
            None,
        )
        .await;
    assert_eq!(revoke.status, StatusCode::NOT_FOUND);
    assert_eq!(
        revoke.json()["error"]["code"],
        missing.json()["error"]["code"]
    );
    assert_eq!(api.get("/v1/cases", &agency).await.status, StatusCode::OK);
    // No message or document of DP3A's case.
    let outbox = api.get("/v1/outbox", &other_admin).await;
    assert_eq!(outbox.status, StatusCode::OK);
    assert!(!outbox.text().contains(&case), "{}", outbox.text());
    let theirs = api.get("/v1/outbox", &agency_admin).await;
    assert!(theirs.text().contains(&case), "{}", theirs.text());
    let document = api
        .get(
            &format!("/v1/cases/{case}/documents/{sha256}"),
            &other_admin,
        )
        .await;
    assert_eq!(document.status, StatusCode::NOT_FOUND);
    // Deploying is the operator's.
    for admin in [&other_admin, &agency_admin] {
        let deployed = api
            .call(
                Method::POST,
                "/v1/workflows",
                Some(admin),
                Some(json!({"file": "x.yaml", "source": "id: x"})),
            )
            .await;
        assert_eq!(
            deployed.status,
            StatusCode::FORBIDDEN,
            "{}",
            deployed.text()
        );
    }
}

/// Naming an organisation as a party puts nothing in its lists until one of its staff
/// accepts; then it sees the case and acts in its roles.
async fn parties_consent_before_they_see_anything(api: Api) {
    let agency = api.token("Budi", AGENCY, &["ppk"]).await;
    let ormas = api.token("Siti", ORMAS, &["pimpinan_ormas"]).await;
    let reply = api
        .call(
            Method::POST,
            "/v1/cases",
            Some(&agency),
            Some(open_body("CONSENT-1")),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let case = reply.json()["case"]["id"].as_str().unwrap().to_owned();
    // Invited, not involved: not in its lists or agenda, and the case answers 404 …
    let missing = api
        .get("/v1/cases/0190a000-0000-7000-8000-000000000000", &ormas)
        .await;
    let hidden = api.get(&format!("/v1/cases/{case}"), &ormas).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(
        hidden.json()["error"]["code"],
        missing.json()["error"]["code"]
    );
    assert!(!api.get("/v1/cases", &ormas).await.text().contains(&case));
    assert!(
        !api.get("/v1/agenda?days=366", &ormas)
            .await
            .text()
            .contains(&case)
    );
    let fired = api
        .call(
            Method::POST,
            &format!("/v1/cases/{case}/transitions/batalkan"),
            Some(&ormas),
            Some(json!({"comment": "bukan kami"})),
        )
        .await;
    assert_eq!(fired.status, StatusCode::NOT_FOUND, "{}", fired.text());
    // … but its invitations list it, with who asked.
    let invitations = api.get("/v1/invitations", &ormas).await;
    assert_eq!(invitations.status, StatusCode::OK);
    let invitation = &invitations.json()[0];
    assert_eq!(invitation["case_id"], case.as_str());
    assert_eq!(invitation["invited_by"], AGENCY);
    assert_eq!(invitation["parties"], json!(["ormas"]));
    // Nobody else can accept for it.
    let other = api.token("Lain", OTHER, &["pimpinan_ormas"]).await;
    for token in [&other, &agency] {
        let refused = api
            .call(
                Method::POST,
                &format!("/v1/invitations/{case}/accept"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text());
    }
    // Accepted: now it sees the case and acts in its roles.
    let accepted = api
        .call(
            Method::POST,
            &format!("/v1/invitations/{case}/accept"),
            Some(&ormas),
            None,
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text());
    assert_eq!(accepted.json()["your_roles"], json!(["pimpinan_ormas"]));
    assert!(api.get("/v1/cases", &ormas).await.text().contains(&case));
    assert!(
        api.get("/v1/invitations", &ormas)
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Accepting twice finds nothing to accept.
    let again = api
        .call(
            Method::POST,
            &format!("/v1/invitations/{case}/accept"),
            Some(&ormas),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

/// A coalition: every member organisation sees the case once it accepts and acts in its
/// party's roles, except a role the workflow keeps for the lead; a withdrawn member sees
/// nothing any more, at once; another organisation never learns the members.
async fn coalition_members_act_until_withdrawn(api: Api) {
    const MEMBER: &str = "perkumpulan-sumsel-peduli";
    let agency = api.token("Budi", AGENCY, &["ppk"]).await;
    let lead = api.token("Siti", ORMAS, &["pimpinan_ormas"]).await;
    let member = api
        .token("Rahma", MEMBER, &["pimpinan_ormas", "tim_pelaksana"])
        .await;
    let other = api.token("Lain", OTHER, &["ppk", "pimpinan_ormas"]).await;
    let mut body = open_body("KOALISI-API-1");
    body["members"] = json!({"ormas": [MEMBER]});
    let reply = api
        .call(Method::POST, "/v1/cases", Some(&agency), Some(body))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let case = reply.json()["case"]["id"].as_str().unwrap().to_owned();
    assert_eq!(reply.json()["case"]["members"], json!({"ormas": [MEMBER]}));
    for (token, organisation) in [(&lead, ORMAS), (&member, MEMBER)] {
        let accepted = api
            .call(
                Method::POST,
                &format!("/v1/invitations/{case}/accept"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(
            accepted.status,
            StatusCode::OK,
            "{organisation}: {}",
            accepted.text()
        );
    }
    // The head of the Ormas signs for the coalition: only the lead's holds that role here.
    let shown = api.get(&format!("/v1/cases/{case}"), &member).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.json()["your_roles"], json!(["tim_pelaksana"]));
    assert_eq!(
        api.get(&format!("/v1/cases/{case}"), &lead).await.json()["your_roles"],
        json!(["pimpinan_ormas"])
    );
    let as_head = api
        .call(
            Method::POST,
            &format!("/v1/cases/{case}/transitions/catat_audiensi"),
            Some(&member),
            Some(json!({"role": "pimpinan_ormas"})),
        )
        .await;
    assert_eq!(as_head.status, StatusCode::FORBIDDEN, "{}", as_head.text());
    // Another organisation: the same 404 as ever, and no member named.
    let theirs = api.get(&format!("/v1/cases/{case}"), &other).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert!(!theirs.text().contains(MEMBER));
    assert!(!api.get("/v1/cases", &other).await.text().contains(MEMBER));
    // The lead may not change the coalition (the workflow gives that to the PPK).
    let by_lead = api
        .call(
            Method::POST,
            &format!("/v1/cases/{case}/parties/ormas/members/{MEMBER}/withdraw"),
            Some(&lead),
            Some(json!({"reason": "Keluar"})),
        )
        .await;
    assert_eq!(by_lead.status, StatusCode::FORBIDDEN, "{}", by_lead.text());
    let withdrawn = api
        .call(
            Method::POST,
            &format!("/v1/cases/{case}/parties/ormas/members/{MEMBER}/withdraw"),
            Some(&agency),
            Some(json!({"reason": "Mengundurkan diri dari koalisi"})),
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::OK, "{}", withdrawn.text());
    assert_eq!(withdrawn.json()["case"]["members"], json!({}));
    let gone = api.get(&format!("/v1/cases/{case}"), &member).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(!api.get("/v1/cases", &member).await.text().contains(&case));
    // Withdrawing it again: it is no longer a member (422), and nothing changes.
    let again = api
        .call(
            Method::POST,
            &format!("/v1/cases/{case}/parties/ormas/members/{MEMBER}/withdraw"),
            Some(&agency),
            Some(json!({"reason": "Lagi"})),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.text()
    );
    assert!(
        again.text().contains("tidak termasuk pihak"),
        "{}",
        again.text()
    );
}

/// A partnership continued and replicated: each organisation sees the links, the series and
/// the replications among the cases it may see, and nothing of the others — not even that
/// they exist.
async fn linked_cases_show_nothing_across_organisations(api: Api) {
    const DINSOS: &str = "dinsos-palembang";
    let agency = api.token("Budi", AGENCY, &["ppk"]).await;
    let ormas = api.token("Siti", ORMAS, &["pimpinan_ormas"]).await;
    let dinsos = api.token("Rudi", DINSOS, &["ppk"]).await;
    let first = api.open_case(&agency, "DP3A-2024-001").await;
    api.call(
        Method::POST,
        &format!("/v1/invitations/{first}/accept"),
        Some(&ormas),
        None,
    )
    .await;
    let mut body = open_body("DP3A-2025-001");
    body["follows"] = json!("DP3A-2024-001");
    body["carry"] = json!(["nama_kegiatan"]);
    body["fields"]
        .as_object_mut()
        .unwrap()
        .remove("nama_kegiatan");
    body["fields"]["pagu"] = json!("Rp50.000.000");
    let reply = api
        .call(Method::POST, "/v1/cases", Some(&agency), Some(body))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let second = reply.json()["case"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        reply.json()["case"]["links"][0]["business_key"],
        "DP3A-2024-001"
    );
    assert_eq!(reply.json()["case"]["links"][0]["direction"], "outgoing");
    api.call(
        Method::POST,
        &format!("/v1/invitations/{second}/accept"),
        Some(&ormas),
        None,
    )
    .await;
    // The Ormas carries the model to the social affairs office: a replication it opens.
    let mut body = open_body("DINSOS-2025-001");
    body["role"] = json!("pimpinan_ormas");
    body["parties"] = json!({"instansi": DINSOS, "ormas": ORMAS});
    body["replicates"] = json!("DP3A-2025-001");
    let reply = api
        .call(Method::POST, "/v1/cases", Some(&ormas), Some(body))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let copy = reply.json()["case"]["id"].as_str().unwrap().to_owned();
    api.call(
        Method::POST,
        &format!("/v1/invitations/{copy}/accept"),
        Some(&dinsos),
        None,
    )
    .await;

    // The Ormas, party to all three, sees every link and the whole partnership.
    let seen = api.get(&format!("/v1/partnerships/{second}"), &ormas).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.text());
    let partnership = seen.json();
    let years: Vec<&str> = partnership["years"]
        .as_array()
        .unwrap()
        .iter()
        .map(|y| y["business_key"].as_str().unwrap())
        .collect();
    assert_eq!(years, ["DP3A-2024-001", "DP3A-2025-001"]);
    assert_eq!(
        seen.json()["replications"][0]["business_key"],
        "DINSOS-2025-001"
    );
    let growth = &seen.json()["years"][1]["amounts"];
    assert!(growth.to_string().contains("Rp50.000.000"), "{growth}");

    // The agency: its two years, no replication, and no link to the Dinsos case.
    let agency_view = api.get(&format!("/v1/partnerships/{first}"), &agency).await;
    assert_eq!(agency_view.json()["years"].as_array().unwrap().len(), 2);
    assert_eq!(agency_view.json()["replications"], json!([]));
    let shown = api.get(&format!("/v1/cases/{second}"), &agency).await;
    assert_eq!(shown.json()["links"].as_array().unwrap().len(), 1);
    assert!(!shown.text().contains(&copy) && !shown.text().contains("DINSOS-2025-001"));

    // The Dinsos: its case, and nothing of the DP3A's.
    let theirs = api.get(&format!("/v1/cases/{copy}"), &dinsos).await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert_eq!(theirs.json()["links"], json!([]));
    assert!(!theirs.text().contains(&second) && !theirs.text().contains("DP3A-2025-001"));
    let series = api.get(&format!("/v1/partnerships/{copy}"), &dinsos).await;
    assert!(!series.text().contains("DP3A"), "{}", series.text());
    // Nor can it follow or link a case it cannot see: the same 404 as a missing one.
    let mut body = open_body("DINSOS-2026-001");
    body["parties"] = json!({"instansi": DINSOS, "ormas": ORMAS});
    body["follows"] = json!("DP3A-2025-001");
    let refused = api
        .call(Method::POST, "/v1/cases", Some(&dinsos), Some(body))
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text());
    let refused = api
        .call(
            Method::POST,
            &format!("/v1/cases/{copy}/links"),
            Some(&dinsos),
            Some(json!({"case": second})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text());
    assert!(!refused.text().contains(&second));

    // Bad origins are refused with what to do, and open nothing.
    let mut both = open_body("DP3A-2026-001");
    both["follows"] = json!("DP3A-2025-001");
    both["replicates"] = json!("DP3A-2024-001");
    let mut carry_alone = open_body("DP3A-2026-002");
    carry_alone["carry"] = json!(["nama_kegiatan"]);
    let mut unknown = open_body("DP3A-2026-003");
    unknown["follows"] = json!("TIDAK-ADA-001");
    for (body, status, says) in [
        (both, StatusCode::UNPROCESSABLE_ENTITY, "follows"),
        (carry_alone, StatusCode::UNPROCESSABLE_ENTITY, "carry"),
        (unknown, StatusCode::NOT_FOUND, "case_not_found"),
    ] {
        let reply = api
            .call(Method::POST, "/v1/cases", Some(&agency), Some(body))
            .await;
        assert_eq!(reply.status, status, "{}", reply.text());
        assert!(reply.text().contains(says), "{}", reply.text());
    }
    assert!(
        !api.get("/v1/cases", &agency)
            .await
            .text()
            .contains("DP3A-2026")
    );
}

/// Business keys address cases in paths, with the same isolation as ids: another
/// organisation's key is a 404 identical to a key that does not exist.
async fn business_keys_in_paths(api: Api) {
    let agency = api.token("Budi", AGENCY, &["ppk"]).await;
    let other = api.token("Lain", OTHER, &["ppk"]).await;
    let id = api.open_case(&agency, "KUNCI-2025-001").await;
    let by_key = api.get("/v1/cases/KUNCI-2025-001", &agency).await;
    assert_eq!(by_key.status, StatusCode::OK, "{}", by_key.text());
    assert_eq!(by_key.json()["id"], id.as_str());
    let history = api.get("/v1/cases/KUNCI-2025-001/history", &agency).await;
    assert_eq!(history.status, StatusCode::OK);
    let theirs = api.get("/v1/cases/KUNCI-2025-001", &other).await;
    let missing = api.get("/v1/cases/TIDAK-ADA-001", &other).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(without_request_id(&theirs), without_request_id(&missing));
    assert!(!theirs.text().contains(&id));
}

/// The people notified for a role are replaced by that side of the partnership only, and the
/// change is in the history.
async fn contacts_are_changed_by_their_own_side(api: Api) {
    let agency = api.token("Kepala", AGENCY, &["pa_kpa"]).await;
    let ormas = api.token("Siti", ORMAS, &["pimpinan_ormas"]).await;
    let case = api
        .open_case(&api.token("Budi", AGENCY, &["ppk"]).await, "KONTAK-1")
        .await;
    let body = json!({"contacts": [{"name": "Andi Wijaya", "address": "email:andi@dp3a.example"}]});
    let refused = api
        .call(
            Method::PUT,
            &format!("/v1/cases/{case}/contacts/ppk"),
            Some(&ormas),
            Some(body.clone()),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    let changed = api
        .call(
            Method::PUT,
            &format!("/v1/cases/{case}/contacts/ppk"),
            Some(&agency),
            Some(body),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    let record = api.store.case(&case).await.unwrap();
    assert_eq!(record.parties.contacts["ppk"][0].name, "Andi Wijaya");
    let history = api.get(&format!("/v1/cases/{case}/history"), &agency).await;
    assert!(
        history.text().contains("contacts_changed"),
        "{}",
        history.text()
    );
    // A webhook to an internal address is refused like on open.
    let internal = api
        .call(
            Method::PUT,
            &format!("/v1/cases/{case}/contacts/ppk"),
            Some(&agency),
            Some(json!({"contacts": [{"name": "X", "address": "webhook:https://127.0.0.1/x"}]})),
        )
        .await;
    assert_eq!(
        internal.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        internal.text()
    );
}

on_both_stores!(
    authorization_matrix => matrix,
    admins_stay_in_their_organisation => admins_stay_in_their_organisation,
    parties_consent_before_they_see_anything => parties_consent_before_they_see_anything,
    business_keys_in_paths => business_keys_in_paths,
    contacts_are_changed_by_their_own_side => contacts_are_changed_by_their_own_side,
    coalition_members_act_until_withdrawn => coalition_members_act_until_withdrawn,
    linked_cases_show_nothing_across_organisations => linked_cases_show_nothing_across_organisations,
);
