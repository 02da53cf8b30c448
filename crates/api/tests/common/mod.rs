//! Drives the API's router in process (no socket), on SQLite or PostgreSQL, with a fixed
//! clock: 10 December 2024, 09:00 WIB, the day of the seed partnership's audience.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use jiff::Timestamp;
use serde_json::Value;
use swakelola_api::{AppState, Limits};
use swakelola_store::{SqlStore, Store};
use tower::ServiceExt;

pub const AGENCY: &str = "dp3a-palembang";
pub const ORMAS: &str = "yayasan-intan-maharani";
pub const OTHER: &str = "yayasan-lain";
pub const WORKFLOW: &str = "swakelola-tipe-3";

pub fn now() -> Timestamp {
    "2024-12-10T02:00:00Z".parse().unwrap()
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap()
}

pub fn calendars() -> Vec<(String, String)> {
    ["indonesia-2025.yaml", "indonesia-2026.yaml"]
        .iter()
        .map(|f| (f.to_string(), read(&format!("workflows/calendars/{f}"))))
        .collect()
}

pub async fn sqlite() -> SqlStore {
    let dir = swakelola_testkit::scratch_dir("swakelola-api");
    let url = format!("sqlite://{}", dir.join("api.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    store
}

/// Runs each `test => scenario` pair as two tests, `sqlite::test` and `postgres::test`; the
/// scenario takes an [`Api`] over a fresh store.
#[allow(unused_macros)]
macro_rules! on_both_stores {
    ($($test:ident => $scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$scenario(super::Api::new(super::sqlite().await).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if let Some(store) = super::postgres().await {
                        super::$scenario(super::Api::new(store).await).await;
                    }
                }
            )*
        }
    };
}

/// A fresh PostgreSQL database (see `swakelola_testkit`), or `None` when PostgreSQL tests are
/// skipped explicitly.
pub async fn postgres() -> Option<SqlStore> {
    let admin_url = swakelola_testkit::postgres_admin_url()?;
    let url = SqlStore::create_scratch_database(&admin_url)
        .await
        .expect("create a PostgreSQL test database");
    let store = SqlStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    Some(store)
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

pub struct Api {
    pub app: Router,
    pub store: Arc<SqlStore>,
}

impl Api {
    pub async fn new(store: SqlStore) -> Self {
        Self::with_limits(store, Limits::default()).await
    }

    pub async fn with_limits(store: SqlStore, limits: Limits) -> Self {
        let store = Arc::new(store);
        store
            .deploy(
                "swakelola-tipe-3.yaml",
                &read("workflows/swakelola-tipe-3.yaml"),
                &calendars(),
                now(),
            )
            .await
            .unwrap();
        let state = AppState {
            clock: now,
            limits,
            metrics: Some(
                metrics_exporter_prometheus::PrometheusBuilder::new()
                    .build_recorder()
                    .handle(),
            ),
            ..AppState::new(store.clone())
        };
        Api {
            app: swakelola_api::router(state),
            store,
        }
    }

    pub async fn token(&self, name: &str, organisation: &str, roles: &[&str]) -> String {
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        self.store
            .create_token(name, organisation, &roles, None, now())
            .await
            .unwrap()
            .1
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Reply {
            status,
            headers,
            bytes,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(value) => {
                request = request.header("content-type", "application/json");
                Body::from(serde_json::to_vec(&value).unwrap())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).unwrap()).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn upload(&self, path: &str, token: &str, bytes: Vec<u8>) -> Reply {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/octet-stream")
            .body(Body::from(bytes))
            .unwrap();
        self.send(request).await
    }

    /// Opens a case between the agency and the Ormas as the agency's PPK, with contacts.
    pub async fn open_case(&self, agency_token: &str, key: &str) -> String {
        let reply = self
            .call(
                Method::POST,
                "/v1/cases",
                Some(agency_token),
                Some(open_body(key)),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
        let id = reply.json()["case"]["id"].as_str().unwrap().to_owned();
        // The Ormas was named by the agency: someone of the Ormas accepts.
        self.store
            .accept_invitation(&id, ORMAS, "Siti Aminah", now())
            .await
            .unwrap();
        id
    }

    /// Attaches the audience minutes as the Ormas and returns the document's SHA-256.
    pub async fn attach_minutes(&self, case: &str, ormas_token: &str) -> String {
        let attached = self
            .upload(
                &format!("/v1/cases/{case}/documents?document_type=notulen_audiensi&file_name=notulen.pdf"),
                ormas_token,
                b"%PDF-1.4 notulen".to_vec(),
            )
            .await;
        assert_eq!(attached.status, StatusCode::CREATED, "{}", attached.text());
        attached.json()["case"]["documents"][0]["sha256"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// What a case looks like in the store, to prove that refused requests changed nothing.
    pub async fn snapshot(&self, case: &str) -> (Value, usize) {
        let record = self.store.case(case).await.unwrap();
        let history = self.store.history(case).await.unwrap();
        (serde_json::to_value(&record).unwrap(), history.len())
    }
}

/// A reply's status and body with the request id blanked, to compare two answers.
pub fn without_request_id(reply: &Reply) -> (StatusCode, Value) {
    let mut value = reply.json();
    value["error"]["request_id"] = Value::Null;
    (reply.status, value)
}

pub fn open_body(key: &str) -> Value {
    serde_json::json!({
        "workflow": WORKFLOW,
        "business_key": key,
        "role": "ppk",
        "fields": {
            "nama_kegiatan": "Pendampingan perempuan dan anak korban kekerasan",
            "instansi": "DP3A Kota Palembang",
            "ormas": "Yayasan Intan Maharani",
            "tahun_anggaran": "2025"
        },
        "parties": {"instansi": AGENCY, "ormas": ORMAS},
        "contacts": {"ppk": [{"name": "Budi Santoso", "address": "email:budi@dp3a.example"}]}
    })
}
