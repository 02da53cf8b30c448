//! A stateful fuzz test of the whole router: random sequences of requests from four callers
//! (the agency, the Ormas, another organisation, an administrator) — with control
//! characters, odd Unicode, huge and negative numbers, duplicated JSON keys, malformed bodies
//! and wrong content types — against one database that keeps its state between sequences.
//! Every answer must be a status the OpenAPI document lists for that operation (or 404 for
//! a path no route matches), never a 5xx; and afterwards every case's hash chain must still
//! verify.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;
use swakelola_store::Store;

/// Strings people and programs send: ordinary, empty, long, control characters, odd Unicode.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9 .,:/_-]{0,24}",
        1 => Just(String::new()),
        1 => Just("a\u{0}b".to_owned()),
        1 => Just("\u{1b}[31mmerah\u{7}".to_owned()),
        1 => Just("x".repeat(300)),
        1 => Just("Rp-99.999.999.999.999.999.999".to_owned()),
        1 => Just("\u{202e}kebalik \u{feff}\u{fffd} 🇮🇩 ﷽".to_owned()),
        1 => Just("9223372036854775808".to_owned()),
        1 => Just("-1".to_owned()),
        1 => Just("2025-02-30".to_owned()),
        1 => Just("Rp34.500.000".to_owned()),
        1 => Just("2025".to_owned()),
        1 => Just("../../etc/passwd".to_owned()),
        1 => "\\PC{0,12}",
    ]
}

/// Names of things in the workflow, mixed with names that do not exist.
fn name(known: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(known).prop_map(str::to_owned),
        1 => text(),
    ]
}

const TRANSITIONS: &[&str] = &[
    "catat_audiensi",
    "serahkan_kak",
    "batalkan",
    "terima_kak",
    "minta_revisi_kak",
];
const FIELDS: &[&str] = &[
    "pagu",
    "tahun_anggaran",
    "nilai_kontrak",
    "tanggal_mulai",
    "nama_kegiatan",
];
const DOCUMENTS: &[&str] = &["notulen_audiensi", "kak", "rab", "mou"];
const ROLES: &[&str] = &["ppk", "pimpinan_ormas", "fasilitator", "perencana", "admin"];

#[derive(Debug, Clone)]
enum Op {
    Open {
        clean: bool,
        key: String,
        field: String,
        value: String,
        party: String,
        address: String,
    },
    Fire {
        case: usize,
        transition: String,
        comment: Option<String>,
        revision: Option<i64>,
    },
    Set {
        case: usize,
        field: String,
        value: String,
    },
    Attach {
        case: usize,
        document: String,
        file_name: String,
        bytes: Vec<u8>,
    },
    Show {
        case: usize,
    },
    List {
        query: String,
    },
    Agenda {
        days: String,
    },
    Accept {
        case: usize,
    },
    Token {
        name: String,
        organisation: String,
        role: String,
    },
    /// A body that is not what the endpoint wants: duplicated keys, not JSON, wrong type.
    Raw {
        case: usize,
        body: String,
        content_type: String,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let case = 0usize..8;
    prop_oneof![
        2 => ("[A-Z]{3}-[0-9]{1,4}", name(FIELDS), text(), text(), text()).prop_map(|(key, field, value, party, address)| Op::Open { clean: true, key, field, value, party, address }),
        1 => (text(), name(FIELDS), text(), text(), text()).prop_map(|(key, field, value, party, address)| Op::Open { clean: false, key, field, value, party, address }),
        3 => (case.clone(), name(TRANSITIONS), proptest::option::of(text()), proptest::option::of(prop_oneof![Just(-1i64), Just(i64::MAX), 0i64..5])).prop_map(|(case, transition, comment, revision)| Op::Fire { case, transition, comment, revision }),
        2 => (case.clone(), name(FIELDS), text()).prop_map(|(case, field, value)| Op::Set { case, field, value }),
        2 => (case.clone(), name(DOCUMENTS), text(), proptest::collection::vec(any::<u8>(), 0..64)).prop_map(|(case, document, file_name, bytes)| Op::Attach { case, document, file_name, bytes }),
        1 => case.clone().prop_map(|case| Op::Show { case }),
        1 => prop_oneof![
            Just("limit=0".to_owned()), Just("limit=501".to_owned()), Just("limit=-1".to_owned()),
            Just("fiscal_year=99999".to_owned()), Just("fiscal_year=2025&overdue=true".to_owned()),
            Just("after=nope".to_owned()), Just("bogus=1".to_owned()), Just("limit=2".to_owned()),
            Just("limit=%00".to_owned()), Just("stage=%E2%80%AE".to_owned()),
        ].prop_map(|query| Op::List { query }),
        1 => prop_oneof![Just("0"), Just("1"), Just("366"), Just("367"), Just("4294967296"), Just("-5"), Just("x")].prop_map(|d| Op::Agenda { days: d.to_owned() }),
        1 => case.clone().prop_map(|case| Op::Accept { case }),
        1 => (text(), prop_oneof![Just(AGENCY.to_owned()), Just(OTHER.to_owned()), text()], name(ROLES)).prop_map(|(name, organisation, role)| Op::Token { name, organisation, role }),
        2 => (case, prop_oneof![
            Just(r#"{"comment": "a", "comment": "b"}"#.to_owned()),
            Just(r#"{"value": "Rp1", "value": "Rp2"}"#.to_owned()),
            Just(r#"{"expected_revision": 1e400}"#.to_owned()),
            Just(r#"{"expected_revision": -1}"#.to_owned()),
            Just(r#"{"role": null, "extra": true}"#.to_owned()),
            Just("not json".to_owned()),
            Just("[1, 2, 3]".to_owned()),
            Just(r#"{"value": "\u0000"}"#.to_owned()),
            Just(format!(r#"{{"comment": "{}"}}"#, "é".repeat(40_000))),
        ], prop_oneof![Just("application/json".to_owned()), Just("text/plain".to_owned())]).prop_map(|(case, body, content_type)| Op::Raw { case, body, content_type }),
    ]
}

/// The statuses the OpenAPI document lists, per (method, path template).
fn documented() -> BTreeMap<(String, String), BTreeSet<u16>> {
    let document = serde_json::to_value(swakelola_api::openapi()).unwrap();
    let mut out = BTreeMap::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let statuses = operation["responses"]
                .as_object()
                .map(|r| r.keys().filter_map(|k| k.parse().ok()).collect())
                .unwrap_or_default();
            out.insert((method.to_uppercase(), path.clone()), statuses);
        }
    }
    out
}

struct Fuzz {
    api: Api,
    tokens: Vec<(String, String)>,
    cases: std::sync::Mutex<Vec<String>>,
    documented: BTreeMap<(String, String), BTreeSet<u16>>,
    requests: AtomicUsize,
    statuses: std::sync::Mutex<BTreeMap<u16, usize>>,
}

impl Fuzz {
    fn case(&self, index: usize) -> String {
        let cases = self.cases.lock().unwrap();
        if cases.is_empty() {
            "0190a000-0000-7000-8000-000000000000".to_owned()
        } else {
            cases[index % cases.len()].clone()
        }
    }

    async fn send(
        &self,
        caller: usize,
        method: Method,
        template: &str,
        path: String,
        body: Body,
        content_type: Option<&str>,
    ) -> (StatusCode, serde_json::Value) {
        let (_, token) = &self.tokens[caller % self.tokens.len()];
        let mut request = Request::builder()
            .method(method.clone())
            .uri(path.replace(' ', "%20"))
            .header("authorization", format!("Bearer {token}"));
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let Ok(request) = request.body(body) else {
            // Not even a valid HTTP request (e.g. a control character in the path).
            return (StatusCode::BAD_REQUEST, json!(null));
        };
        let reply = self.api.send(request).await;
        self.requests.fetch_add(1, Ordering::Relaxed);
        *self
            .statuses
            .lock()
            .unwrap()
            .entry(reply.status.as_u16())
            .or_default() += 1;
        let status = reply.status.as_u16();
        assert!(
            status < 500,
            "{method} {template}: {status} {}",
            reply.text()
        );
        // Only "no such endpoint" is generic: every other status must be documented.
        let generic = [404];
        let allowed = self
            .documented
            .get(&(method.to_string(), template.to_owned()))
            .unwrap_or_else(|| panic!("{method} {template} is not documented"));
        assert!(
            allowed.contains(&status) || generic.contains(&status),
            "{method} {template}: {status} is not documented ({allowed:?}): {}",
            reply.text()
        );
        let value = serde_json::from_slice(&reply.bytes).unwrap_or(json!(null));
        (reply.status, value)
    }

    async fn json(
        &self,
        caller: usize,
        method: Method,
        template: &str,
        path: String,
        body: serde_json::Value,
    ) -> (StatusCode, serde_json::Value) {
        self.send(
            caller,
            method,
            template,
            path,
            Body::from(body.to_string()),
            Some("application/json"),
        )
        .await
    }

    async fn apply(&self, caller: usize, op: Op) {
        let path_part = |s: &str| {
            s.replace('%', "%25")
                .replace('/', "%2F")
                .replace('?', "%3F")
                .replace('#', "%23")
                .replace('&', "%26")
        };
        match op {
            Op::Open {
                clean,
                key,
                field,
                value,
                party,
                address,
            } => {
                let mut body = open_body(&key);
                // A clean open is the agency's, with the seed's values: it makes the cases the
                // other requests act on. Otherwise anybody, with hostile values.
                let caller = if clean { 0 } else { caller };
                if !clean {
                    body["fields"][field] = json!(value);
                    body["parties"]["ormas"] = json!(party);
                    body["contacts"]["ppk"][0]["address"] = json!(format!("email:{address}"));
                }
                let (status, reply) = self
                    .json(caller, Method::POST, "/v1/cases", "/v1/cases".into(), body)
                    .await;
                if status == StatusCode::CREATED
                    && let Some(id) = reply["case"]["id"].as_str()
                {
                    self.cases.lock().unwrap().push(id.to_owned());
                }
            }
            Op::Fire {
                case,
                transition,
                comment,
                revision,
            } => {
                let mut body = json!({});
                if let Some(comment) = comment {
                    body["comment"] = json!(comment);
                }
                if let Some(revision) = revision {
                    body["expected_revision"] = json!(revision);
                }
                let path = format!(
                    "/v1/cases/{}/transitions/{}",
                    self.case(case),
                    path_part(&transition)
                );
                self.json(
                    caller,
                    Method::POST,
                    "/v1/cases/{id}/transitions/{transition}",
                    path,
                    body,
                )
                .await;
            }
            Op::Set { case, field, value } => {
                let path = format!("/v1/cases/{}/fields/{}", self.case(case), path_part(&field));
                self.json(
                    caller,
                    Method::PUT,
                    "/v1/cases/{id}/fields/{field}",
                    path,
                    json!({"value": value}),
                )
                .await;
            }
            Op::Attach {
                case,
                document,
                file_name,
                bytes,
            } => {
                let path = format!(
                    "/v1/cases/{}/documents?document_type={}&file_name={}",
                    self.case(case),
                    path_part(&document),
                    path_part(&file_name)
                );
                self.send(
                    caller,
                    Method::POST,
                    "/v1/cases/{id}/documents",
                    path,
                    Body::from(bytes),
                    Some("application/octet-stream"),
                )
                .await;
            }
            Op::Show { case } => {
                self.send(
                    caller,
                    Method::GET,
                    "/v1/cases/{id}",
                    format!("/v1/cases/{}", self.case(case)),
                    Body::empty(),
                    None,
                )
                .await;
            }
            Op::List { query } => {
                self.send(
                    caller,
                    Method::GET,
                    "/v1/cases",
                    format!("/v1/cases?{query}"),
                    Body::empty(),
                    None,
                )
                .await;
            }
            Op::Agenda { days } => {
                self.send(
                    caller,
                    Method::GET,
                    "/v1/agenda",
                    format!("/v1/agenda?days={days}"),
                    Body::empty(),
                    None,
                )
                .await;
            }
            Op::Accept { case } => {
                self.send(
                    caller,
                    Method::POST,
                    "/v1/invitations/{id}/accept",
                    format!("/v1/invitations/{}/accept", self.case(case)),
                    Body::empty(),
                    None,
                )
                .await;
            }
            Op::Token {
                name,
                organisation,
                role,
            } => {
                self.json(
                    caller,
                    Method::POST,
                    "/v1/tokens",
                    "/v1/tokens".into(),
                    json!({"name": name, "organisation": organisation, "roles": [role]}),
                )
                .await;
            }
            Op::Raw {
                case,
                body,
                content_type,
            } => {
                let case = self.case(case);
                let (template, path, method) = if body.contains("value") {
                    (
                        "/v1/cases/{id}/fields/{field}",
                        format!("/v1/cases/{case}/fields/pagu"),
                        Method::PUT,
                    )
                } else {
                    (
                        "/v1/cases/{id}/transitions/{transition}",
                        format!("/v1/cases/{case}/transitions/batalkan"),
                        Method::POST,
                    )
                };
                self.send(
                    caller,
                    method,
                    template,
                    path,
                    Body::from(body),
                    Some(&content_type),
                )
                .await;
            }
        }
    }
}

async fn fuzz(api: Api, cases: u32) {
    let tokens = vec![
        (
            "agency".to_owned(),
            api.token("Budi", AGENCY, &["ppk", "pa_kpa", "perencana"])
                .await,
        ),
        (
            "ormas".to_owned(),
            api.token("Siti", ORMAS, &["pimpinan_ormas", "tim_pelaksana"])
                .await,
        ),
        (
            "other".to_owned(),
            api.token("Lain", OTHER, &["ppk", "pimpinan_ormas"]).await,
        ),
        (
            "admin".to_owned(),
            api.token("Admin", AGENCY, &["admin", "fasilitator"]).await,
        ),
    ];
    let fuzz = std::sync::Arc::new(Fuzz {
        api,
        tokens,
        cases: std::sync::Mutex::new(Vec::new()),
        documented: documented(),
        requests: AtomicUsize::new(0),
        statuses: std::sync::Mutex::new(BTreeMap::new()),
    });
    let handle = tokio::runtime::Handle::current();
    let runner_fuzz = fuzz.clone();
    tokio::task::spawn_blocking(move || {
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(
                &proptest::collection::vec((0usize..4, op()), 1..25),
                |ops| {
                    handle.block_on(async {
                        for (caller, op) in ops {
                            runner_fuzz.apply(caller, op).await;
                        }
                    });
                    Ok(())
                },
            )
            .unwrap();
    })
    .await
    .unwrap();
    // Every case the fuzzer made still verifies.
    let ids: Vec<String> = fuzz.cases.lock().unwrap().clone();
    for id in &ids {
        assert_eq!(
            fuzz.api.store.verify(id).await.unwrap().first_tampered,
            None,
            "{id}"
        );
    }
    eprintln!(
        "fuzz: {} requests, {} cases opened, statuses {:?}",
        fuzz.requests.load(Ordering::Relaxed),
        ids.len(),
        fuzz.statuses.lock().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_requests_get_documented_answers_sqlite() {
    fuzz(Api::new(sqlite().await).await, 256).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_requests_get_documented_answers_postgres() {
    if let Some(store) = postgres().await {
        fuzz(Api::new(store).await, 128).await;
    }
}
