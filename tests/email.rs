//! Email to a real SMTP server (a minimal one in this test, on loopback): each reminder or
//! escalation reaches the contacts of its roles, with a `Message-ID` derived from the
//! message's deterministic key.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use swakelola_tests::{Session, terminate};

#[derive(Debug, Clone, Default)]
struct Mail {
    to: Vec<String>,
    data: String,
}

/// Speaks just enough SMTP (RFC 5321) to accept mail, and records it.
fn smtp_server(listener: TcpListener, mails: Arc<Mutex<Vec<Mail>>>) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            stream.write_all(b"220 localhost ESMTP test\r\n").unwrap();
            let mut mail = Mail::default();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let command = line.trim_end().to_ascii_uppercase();
                let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
                    b"250 localhost\r\n"
                } else if command.starts_with("RCPT TO:") {
                    mail.to.push(
                        line.trim_end()[8..]
                            .trim()
                            .trim_matches(['<', '>'])
                            .to_owned(),
                    );
                    b"250 OK\r\n"
                } else if command == "DATA" {
                    stream
                        .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        .unwrap();
                    loop {
                        let mut data = String::new();
                        reader.read_line(&mut data).unwrap();
                        if data == ".\r\n" {
                            break;
                        }
                        mail.data.push_str(&data);
                    }
                    mails.lock().unwrap().push(std::mem::take(&mut mail));
                    b"250 OK queued\r\n"
                } else if command == "QUIT" {
                    stream.write_all(b"221 Bye\r\n").unwrap();
                    break;
                } else {
                    b"250 OK\r\n"
                };
                stream.write_all(reply).unwrap();
            }
        }
    });
}

#[test]
fn reminders_and_escalations_are_emailed_to_the_contacts_of_their_roles() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    smtp_server(listener, mails.clone());

    let session = Session::sqlite("swakelola-email");
    let id = session.case_with_due_work(&[
        "ppk=email:budi@dp3a.example",
        "pimpinan_ormas=email:siti@yayasan.example",
    ]);
    let daemon = session.spawn(
        &["run", "--poll", "1"],
        &[
            ("SWAKELOLA_SMTP_URL", &format!("smtp://127.0.0.1:{port}")),
            (
                "SWAKELOLA_SMTP_FROM",
                "swakelola DP3A <swakelola@dp3a.example>",
            ),
        ],
    );
    let started = Instant::now();
    while mails.lock().unwrap().len() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "mail did not arrive: {:?}",
            mails.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    terminate(daemon);

    let mails = mails.lock().unwrap().clone();
    let escalation = mails
        .iter()
        .find(|m| m.to == ["budi@dp3a.example"])
        .expect("mail to the PPK");
    // Long headers are folded onto continuation lines.
    let unfolded = escalation.data.replace("\r\n ", " ").replace("\n ", " ");
    assert!(
        unfolded.contains(
            "Subject: [swakelola] Eskalasi: tahap Penyusunan KAK dan RAB, tenggat 31 Agustus 2025"
        ),
        "{}",
        escalation.data
    );
    assert!(
        escalation
            .data
            .contains("From: \"swakelola DP3A\" <swakelola@dp3a.example>"),
        "{}",
        escalation.data
    );
    let message_id = format!(
        "Message-ID: <{id}.timer.deadline.penyusunan_kak.3.escalation.0.email.budi.dp3a.example@swakelola>"
    );
    assert!(
        escalation.data.contains(&message_id),
        "{message_id} not in:\n{}",
        escalation.data
    );
    // The Ormas hears of the deadline passing (and gets the first overdue reminder).
    let overdue = mails
        .iter()
        .find(|m| m.to == ["siti@yayasan.example"] && m.data.contains("Tenggat terlewati"))
        .expect("mail to the Ormas");
    assert!(
        overdue.data.contains("Tenggat terlewati"),
        "{}",
        overdue.data
    );
    // The body is the built-in Indonesian template filled with the case's facts (the
    // deadline of FY 2026's KAK, 31 August 2025, long past on the real clock).
    for expected in [
        "Tenggat: 31 Agustus 2025 (akhir hari, WIB) =E2=80=94 terlambat",
        "Tahap: Penyusunan KAK dan RAB",
    ] {
        assert!(
            escalation.data.contains(expected)
                || escalation
                    .data
                    .contains(&expected.replace("=E2=80=94", "—")),
            "`{expected}` not in:\n{}",
            escalation.data
        );
    }
    let sent: serde_json::Value =
        serde_json::from_str(&session.ok(&["outbox", "list", "--json"])).unwrap();
    let emails: Vec<_> = sent
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["channel"] == "email")
        .collect();
    assert!(
        emails.len() >= 2 && emails.iter().all(|m| m["state"] == "sent"),
        "{sent}"
    );
}

#[test]
fn the_link_to_set_a_password_is_emailed_when_smtp_is_set_and_printed_when_sending_fails() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    smtp_server(listener, mails.clone());
    let session = Session::sqlite("swakelola-invite");
    session.ok(&["db", "migrate"]);
    let smtp = format!("smtp://127.0.0.1:{port}");
    let out = session.ok(&[
        "user",
        "create",
        "--name",
        "Andi Wijaya",
        "--email",
        "andi@dp3a.example",
        "--organisation",
        "dp3a-palembang",
        "--role",
        "ppk",
        "--public-url",
        "https://swakelola.dp3a.example",
        "--smtp-url",
        &smtp,
    ]);
    assert!(out.contains("sudah dikirim ke andi@dp3a.example"), "{out}");
    assert!(
        !out.contains("/sandi/"),
        "the secret is not printed when it was sent: {out}"
    );
    let mails = mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, ["andi@dp3a.example"]);
    let body = mails[0].data.replace("=\r\n", "");
    assert!(
        body.contains("https://swakelola.dp3a.example/sandi/"),
        "{body}"
    );

    // No server listening: the link is printed instead, the account kept.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let output = session.run(&[
        "user",
        "reset",
        "andi@dp3a.example",
        "--smtp-url",
        &format!("smtp://127.0.0.1:{closed_port}"),
    ]);
    assert!(output.status.success());
    let printed = swakelola_tests::stdout(&output);
    assert!(printed.starts_with("/sandi/"), "{printed}");
    assert!(
        swakelola_tests::stderr(&output).contains("gagal terkirim"),
        "{}",
        swakelola_tests::stderr(&output)
    );
}
