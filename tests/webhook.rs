//! Webhooks to a real local HTTP server: signed per Standard Webhooks, retried with backoff
//! while the endpoint answers 503, dead after the last attempt, and delivered after
//! `swakelola outbox retry` once it is back — nothing lost.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use swakelola_tests::{Session, terminate};

const SECRET_B64: &str = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map_or("", |(_, v)| v.as_str())
    }
}

/// A minimal HTTP/1.1 server that records every request and answers 204 while `up`, and 503
/// while not (the receiver is down for maintenance).
fn serve(listener: TcpListener, received: Arc<Mutex<Vec<Received>>>, up: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let mut headers = Vec::new();
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                let (name, value) = header.split_once(':').unwrap();
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
            let length: usize = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .map_or(0, |(_, v)| v.parse().unwrap());
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            if !up.load(Ordering::SeqCst) {
                let _ = stream.write_all(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                continue;
            }
            received.lock().unwrap().push(Received {
                headers,
                body: String::from_utf8(body).unwrap(),
            });
            stream
                .write_all(
                    b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .unwrap();
        }
    });
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn webhooks_are_signed_retried_and_never_lost() {
    let session = Session::sqlite("swakelola-webhook").allowing_loopback_webhooks();
    // The receiver listens all along (no port is given up and taken again) but answers 503
    // until it is back.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let up = Arc::new(AtomicBool::new(false));
    serve(listener, received.clone(), up.clone());
    let endpoint = format!("ppk=webhook:http://127.0.0.1:{port}/swakelola");
    let id = session.case_with_due_work(&[&endpoint]);
    let secret = format!("whsec_{SECRET_B64}");
    let daemon = session.spawn(
        &[
            "run",
            "--poll",
            "1",
            "--max-attempts",
            "3",
            "--retry-base",
            "1",
        ],
        &[("SWAKELOLA_WEBHOOK_SECRET", &secret)],
    );

    // Down: three attempts (about 1 s and 2 s apart), then a dead message.
    let dead = || -> Vec<serde_json::Value> {
        let list: serde_json::Value =
            serde_json::from_str(&session.ok(&["outbox", "list", "--failed", "--json"])).unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .filter(|m| m["state"] == "dead")
            .cloned()
            .collect()
    };
    wait_for("a dead webhook message", Duration::from_secs(30), || {
        !dead().is_empty()
    });
    let message = dead()[0].clone();
    assert_eq!(message["channel"], "webhook");
    assert_eq!(message["attempts"], 3);
    assert!(
        message["last_error"].as_str().unwrap().contains("HTTP 503"),
        "{message}"
    );
    let key = message["key"].as_str().unwrap().to_owned();

    // Up again, and retried by hand: delivered once, signed.
    up.store(true, Ordering::SeqCst);
    session.ok(&["outbox", "retry", &key]);
    wait_for("the webhook delivery", Duration::from_secs(30), || {
        received
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.header("webhook-id") == key)
    });
    let output = terminate(daemon);
    assert!(String::from_utf8_lossy(&output.stderr).contains("\"event\":\"delivery_failed\""));

    let requests = received.lock().unwrap().clone();
    let request = requests
        .iter()
        .find(|r| r.header("webhook-id") == key)
        .unwrap();
    let secret = base64::engine::general_purpose::STANDARD
        .decode(SECRET_B64)
        .unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&secret).unwrap();
    mac.update(
        format!(
            "{}.{}.{}",
            key,
            request.header("webhook-timestamp"),
            request.body
        )
        .as_bytes(),
    );
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    assert_eq!(request.header("webhook-signature"), expected);
    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["type"], "swakelola.notification");
    assert_eq!(body["data"]["case_id"], id.as_str());
    // The text a messaging bot can forward as is, from the same templates as email.
    let subject = body["data"]["subject"].as_str().unwrap();
    assert!(subject.starts_with("[swakelola] "), "{subject}");
    assert!(
        body["data"]["text"].as_str().unwrap().contains("Tahap: "),
        "{body}"
    );
    let sent: serde_json::Value =
        serde_json::from_str(&session.ok(&["outbox", "list", "--json"])).unwrap();
    assert!(
        sent.as_array()
            .unwrap()
            .iter()
            .all(|m| m["state"] == "sent"),
        "{sent}"
    );
}
