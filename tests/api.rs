//! The HTTP API through the built binary over real TCP: `swakelola serve` and
//! `swakelola run --api`, with tokens issued and revoked by the CLI.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use swakelola_tests::{Session, log_lines, root, stderr, terminate, wait_for_event};

/// `swakelola serve` on a free port: the process, its log lines and the API's base URL.
fn serve_on_free_port(session: &Session) -> (std::process::Child, mpsc::Receiver<String>, String) {
    let mut server = session.spawn(&["serve", "--listen", "127.0.0.1:0"], &[]);
    let lines = log_lines(&mut server);
    let address = wait_for_event(&lines, "serving")["address"]
        .as_str()
        .unwrap()
        .to_owned();
    (server, lines, format!("http://{address}"))
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn token(session: &Session, name: &str, organisation: &str, roles: &[&str]) -> (String, String) {
    let mut args = vec![
        "token",
        "create",
        "--name",
        name,
        "--organisation",
        organisation,
        "--json",
    ];
    for role in roles {
        args.extend(["--role", role]);
    }
    let created: serde_json::Value = serde_json::from_str(&session.ok(&args)).unwrap();
    (
        created["token"]["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn serve_answers_tokens_from_the_cli_and_stops_on_sigterm() {
    let session = Session::sqlite("api-serve");
    let workflow = root().join("workflows/swakelola-tipe-3.yaml");
    session.ok(&["workflow", "deploy", workflow.to_str().unwrap()]);
    let (id, secret) = token(&session, "Budi Santoso", "dp3a-palembang", &["ppk"]);
    // The secret is stored only as a hash.
    let listed = session.ok(&["token", "list"]);
    assert!(
        listed.contains("Budi Santoso") && !listed.contains(&secret),
        "{listed}"
    );

    // The address comes from a config file (port 0: any free port, logged at start).
    let config = session.dir.join("swakelola.yaml");
    std::fs::write(&config, "listen: 127.0.0.1:0\n").unwrap();
    let mut child = session.spawn(&["serve", "--config", config.to_str().unwrap()], &[]);
    let lines = log_lines(&mut child);
    let serving = wait_for_event(&lines, "serving");
    let base = format!("http://{}", serving["address"].as_str().unwrap());
    let agent = agent();

    let health = agent.get(format!("{base}/healthz")).call().unwrap();
    assert_eq!(health.status(), 200);
    let mut anonymous = agent.get(format!("{base}/v1/workflows")).call().unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("x-request-id"));
    let body: serde_json::Value = anonymous.body_mut().read_json().unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    let authorised = agent
        .get(format!("{base}/v1/workflows"))
        .header("authorization", format!("Bearer {secret}"))
        .call()
        .unwrap();
    assert_eq!(authorised.status(), 200);
    let openapi: serde_json::Value = agent
        .get(format!("{base}/openapi.json"))
        .header("authorization", format!("Bearer {secret}"))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(openapi["openapi"], "3.1.0");

    // The operator reads the metrics, counted per route template and status.
    let (_, admin) = token(&session, "Operator", "dp3a-palembang", &["operator"]);
    let metrics = agent
        .get(format!("{base}/metrics"))
        .header("authorization", format!("Bearer {admin}"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        metrics.contains(
            r#"swakelola_http_requests_total{method="GET",route="/v1/workflows",status="200"} 1"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"route="/v1/workflows",status="401""#),
        "{metrics}"
    );

    // Revoked on the command line, refused by the running server at once.
    session.ok(&["token", "revoke", &id]);
    let revoked = agent
        .get(format!("{base}/v1/workflows"))
        .header("authorization", format!("Bearer {secret}"))
        .call()
        .unwrap();
    assert_eq!(revoked.status(), 401);
    // Requests are logged with their request id.
    let logged = wait_for_event_field(&lines, "request_id");
    assert!(logged.is_string());
    terminate(child);
}

/// The first log line that carries `field` (in its span); returns the value.
fn wait_for_event_field(lines: &mpsc::Receiver<String>, field: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Ok(line) = lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&line)
            && !value["span"][field].is_null()
        {
            return value["span"][field].clone();
        }
    }
    panic!("no log line with `{field}`");
}

/// `run --api`: a command over HTTP that makes work due wakes the runner in the same
/// process at once, although it would otherwise sleep for an hour.
#[test]
fn run_with_api_fires_work_created_over_http_without_waiting_for_the_poll() {
    let session = Session::sqlite("api-run");
    let workflow = root().join("workflows/swakelola-tipe-3.yaml");
    session.ok(&["workflow", "deploy", workflow.to_str().unwrap()]);
    let (_, ormas) = token(
        &session,
        "Siti Aminah",
        "yayasan-intan-maharani",
        &["pimpinan_ormas"],
    );
    let mut child = session.spawn(
        &["run", "--api", "--listen", "127.0.0.1:0", "--poll", "3600"],
        &[],
    );
    let lines = log_lines(&mut child);
    let started = wait_for_event(&lines, "started");
    let base = format!("http://{}", started["api"].as_str().unwrap());
    let agent = agent();
    let bearer = format!("Bearer {ormas}");
    let mut opened = agent
        .post(format!("{base}/v1/cases"))
        .header("authorization", &bearer)
        .send_json(serde_json::json!({
            "workflow": "swakelola-tipe-3",
            "business_key": "YIM-2025-01",
            "fields": {"nama_kegiatan": "Pendampingan", "instansi": "DP3A Kota Palembang",
                       "ormas": "Yayasan Intan Maharani", "tahun_anggaran": "2025"},
            "parties": {"instansi": "dp3a-palembang", "ormas": "yayasan-intan-maharani"}
        }))
        .unwrap();
    assert_eq!(opened.status(), 201);
    let case: serde_json::Value = opened.body_mut().read_json().unwrap();
    let id = case["case"]["id"].as_str().unwrap().to_owned();
    let attached = agent
        .post(format!(
            "{base}/v1/cases/{id}/documents?document_type=notulen_audiensi&file_name=notulen.pdf"
        ))
        .header("authorization", &bearer)
        .header("content-type", "application/octet-stream")
        .send(&b"notulen"[..])
        .unwrap();
    assert_eq!(attached.status(), 201);
    // Entering KAK drafting for FY 2025 starts a deadline (31 August 2024) long past.
    let fired = agent
        .post(format!("{base}/v1/cases/{id}/transitions/catat_audiensi"))
        .header("authorization", &bearer)
        .send_json(serde_json::json!({}))
        .unwrap();
    assert_eq!(fired.status(), 200);
    let tick = wait_for_event(&lines, "tick");
    assert!(tick["timers_fired"].as_u64().unwrap() >= 1, "{tick}");
    let history: serde_json::Value = agent
        .get(format!("{base}/v1/cases/{id}/history"))
        .header("authorization", &bearer)
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert!(
        history["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"]["kind"]["type"] == "timer_fired"),
        "{history}"
    );
    terminate(child);
}

/// Token commands refuse bad input with exit 1 and a message, and write nothing.
#[test]
fn token_commands_refuse_bad_input() {
    let session = Session::sqlite("api-token-cli");
    for (args, message) in [
        (
            vec![
                "token",
                "create",
                "--name",
                "Budi",
                "--organisation",
                "dp3a-palembang",
                "--role",
                "ppk",
                "--expires-in",
                "0",
            ],
            "Masa berlaku harus di masa depan",
        ),
        (
            vec![
                "token",
                "create",
                "--name",
                " ",
                "--organisation",
                "dp3a-palembang",
                "--role",
                "ppk",
            ],
            "`name`: tidak boleh kosong",
        ),
        (
            vec!["token", "revoke", "no-such-token"],
            "Tidak ada token `no-such-token`",
        ),
    ] {
        let output = session.run(&args);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(message),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    // Without a role clap refuses the command line itself.
    let no_role = session.run(&[
        "token",
        "create",
        "--name",
        "Budi",
        "--organisation",
        "dp3a-palembang",
    ]);
    assert_eq!(no_role.status.code(), Some(2));
    let listed: serde_json::Value =
        serde_json::from_str(&session.ok(&["token", "list", "--json"])).unwrap();
    assert_eq!(
        listed,
        serde_json::json!([]),
        "a refused command wrote a token"
    );
}

/// With its database gone, the API says so at once: `/readyz` and a case request answer 503
/// within the readiness bound (2 s) rather than waiting out the pool, and answer again once
/// the server is back.
#[test]
fn an_unavailable_database_answers_503_quickly() {
    let Some(cluster) = swakelola_tests::own_postgres_cluster() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = runtime
        .block_on(swakelola_store::SqlStore::create_scratch_database(
            &cluster.url(),
        ))
        .unwrap();
    let session = Session {
        dir: swakelola_tests::temp_dir("api-outage"),
        url,
        env: Vec::new(),
    };
    let (_, secret) = token(&session, "Budi", "dp3a-palembang", &["ppk"]);
    let (server, _lines, base) = serve_on_free_port(&session);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        // Past this the answer was not "quick": the pool alone waits 3 s.
        .timeout_global(Some(Duration::from_secs(6)))
        .build()
        .into();
    assert_eq!(
        agent.get(format!("{base}/readyz")).call().unwrap().status(),
        200
    );
    cluster.stop();
    let ready = agent.get(format!("{base}/readyz")).call().unwrap();
    assert_eq!(ready.status(), 503);
    let cases = agent
        .get(format!("{base}/v1/cases"))
        .header("authorization", format!("Bearer {secret}"))
        .call()
        .unwrap();
    assert_eq!(cases.status(), 503);
    terminate(server);
    let _ = std::fs::remove_dir_all(&session.dir);
}

/// Every request is logged with the id of the token that made it (never its secret).
#[test]
fn request_logs_name_the_token() {
    let session = Session::sqlite("api-token-log");
    let (id, secret) = token(&session, "Budi", "dp3a-palembang", &["ppk"]);
    let (server, lines, base) = serve_on_free_port(&session);
    let reply = agent()
        .get(format!("{base}/v1/cases"))
        .header("authorization", format!("Bearer {secret}"))
        .call()
        .unwrap();
    assert_eq!(reply.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    let logged = loop {
        let line = lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("no request log line naming the token");
        if line.contains(&id) {
            break line;
        }
    };
    assert!(logged.contains("/v1/cases"), "{logged}");
    assert!(!logged.contains(&secret), "the secret was logged: {logged}");
    terminate(server);
}
