//! Email to a real SMTP server (a minimal one in this test, on loopback): each reminder or
//! escalation reaches the contacts of its roles, with a `Message-ID` derived from the
//! message's deterministic key.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use swakelola_tests::{binary, root, stderr, stdout, swakelola_in, temp_dir};

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

    let dir = temp_dir("swakelola-email");
    let url = format!("sqlite://{}", dir.join("swakelola.db").display());
    let ok = |args: &[&str]| {
        let output = swakelola_in(&dir, &url, args);
        assert!(
            output.status.success(),
            "swakelola {args:?} failed:\n{}",
            stderr(&output)
        );
        stdout(&output)
    };
    let workflow = root().join("workflows/swakelola-tipe-3.yaml");
    ok(&["workflow", "deploy", workflow.to_str().unwrap()]);
    let opened: serde_json::Value = serde_json::from_str(&ok(&[
        "case",
        "open",
        "--workflow",
        "swakelola-tipe-3",
        "--key",
        "K-1",
        "--organisation",
        "dp3a-palembang",
        "--field",
        "nama_kegiatan=Pendampingan",
        "--field",
        "instansi=DP3A Kota Palembang",
        "--field",
        "ormas=Yayasan Intan Maharani",
        "--field",
        "tahun_anggaran=2025",
        "--contact",
        "ppk=email:budi@dp3a.example",
        "--contact",
        "pimpinan_ormas=email:siti@yayasan.example",
        "--as",
        "pimpinan_ormas",
        "--actor",
        "Siti",
        "--json",
    ]))
    .unwrap();
    let id = opened["case"]["id"].as_str().unwrap().to_owned();
    std::fs::write(dir.join("notulen.pdf"), "notulen").unwrap();
    ok(&[
        "case",
        "attach",
        &id,
        "notulen_audiensi",
        "notulen.pdf",
        "--as",
        "fasilitator",
        "--actor",
        "Rina",
    ]);
    // Past its KAK deadline at once: overdue to the Ormas, escalation to the PPK.
    ok(&[
        "case",
        "fire",
        &id,
        "catat_audiensi",
        "--as",
        "pimpinan_ormas",
        "--actor",
        "Siti",
    ]);

    let daemon = Command::new(binary())
        .args(["run", "--poll", "1"])
        .current_dir(&dir)
        .env("SWAKELOLA_DATABASE_URL", &url)
        .env("SWAKELOLA_SMTP_URL", format!("smtp://127.0.0.1:{port}"))
        .env(
            "SWAKELOLA_SMTP_FROM",
            "swakelola DP3A <swakelola@dp3a.example>",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while mails.lock().unwrap().len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "mail did not arrive: {:?}",
            mails.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .unwrap();
    let output = daemon.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let mails = mails.lock().unwrap().clone();
    let escalation = mails
        .iter()
        .find(|m| m.to == ["budi@dp3a.example"])
        .expect("mail to the PPK");
    assert!(
        escalation.data.contains(
            "Subject: [swakelola] Eskalasi: tahap penyusunan_kak, tenggat 31 Agustus 2024"
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
    let overdue = mails
        .iter()
        .find(|m| m.to == ["siti@yayasan.example"])
        .expect("mail to the Ormas");
    assert!(
        overdue.data.contains("Tenggat terlewati"),
        "{}",
        overdue.data
    );
    let sent: serde_json::Value = serde_json::from_str(&ok(&["outbox", "list", "--json"])).unwrap();
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
