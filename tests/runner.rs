//! `swakelola run` as a real process: it fires due timers, delivers notifications to the log
//! channel, and stops cleanly on SIGTERM.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use swakelola_tests::{binary, root, stderr, stdout, swakelola_in, temp_dir};

#[test]
fn the_daemon_fires_due_timers_and_stops_on_sigterm() {
    let dir = temp_dir("swakelola-run");
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
    // The KAK deadline of fiscal year 2025 (31 August 2024) is long past: due at once.
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

    // Before any runner: the agenda shows what is already due (marked `!`) and who hears of it.
    let agenda = ok(&["agenda", "--days", "30"]);
    assert!(agenda.contains("! "), "{agenda}");
    assert!(
        agenda.contains(
            "eskalasi: Penyusunan KAK dan RAB (jatuh tempo 31 Agustus 2024) → tim_persiapan, ppk"
        ),
        "{agenda}"
    );
    let pending: serde_json::Value =
        serde_json::from_str(&ok(&["outbox", "list", "--json"])).unwrap();
    assert!(
        pending
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["state"] == "pending")
    );

    let daemon = Command::new(binary())
        .args(["run", "--poll", "1"])
        .current_dir(&dir)
        .env("SWAKELOLA_DATABASE_URL", &url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let fired = loop {
        let history: serde_json::Value =
            serde_json::from_str(&ok(&["case", "history", &id, "--json"])).unwrap();
        let timers: Vec<String> = history
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event"]["kind"]["type"] == "timer_fired")
            .map(|e| e["event"]["kind"]["timer"].as_str().unwrap().to_owned())
            .collect();
        if timers.len() >= 2 || Instant::now() > deadline {
            break timers;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let status = Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = daemon.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "graceful shutdown exits 0:\n{}",
        stderr(&output)
    );
    assert!(
        fired.contains(&"deadline:penyusunan_kak:3:due".to_owned()),
        "{fired:?}"
    );
    assert!(
        fired.contains(&"deadline:penyusunan_kak:3:escalation:0".to_owned()),
        "{fired:?}"
    );
    let log = stdout(&output);
    assert!(log.contains("\"kind\":\"escalation\""), "{log}");
    assert!(log.contains("role:ppk"), "{log}");
    assert!(
        stderr(&output).contains("\"event\":\"stopped\""),
        "{}",
        stderr(&output)
    );
    let messages: serde_json::Value =
        serde_json::from_str(&ok(&["outbox", "list", "--json"])).unwrap();
    let messages = messages.as_array().unwrap();
    assert!(messages.len() >= 6, "{messages:?}");
    assert!(
        messages.iter().all(|m| m["state"] == "sent"),
        "{messages:?}"
    );
    assert!(
        !ok(&["agenda", "--days", "1"]).contains("! "),
        "nothing is left overdue"
    );
    // Each timer fired once.
    let mut unique = fired.clone();
    unique.dedup();
    assert_eq!(unique.len(), fired.len());
}

#[test]
fn on_postgres_the_daemon_wakes_at_once_when_new_work_appears() {
    let Some(url) = swakelola_tests::fresh_postgres_database() else {
        return;
    };
    let dir = temp_dir("swakelola-listen");
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
    // Nothing to do yet, and a poll far longer than the test may take.
    let daemon = Command::new(binary())
        .args(["run", "--poll", "300"])
        .current_dir(&dir)
        .env("SWAKELOLA_DATABASE_URL", &url)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
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
    let fired_at = Instant::now();
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
    loop {
        let history = ok(&["case", "history", &id, "--json"]);
        if history.contains("timer_fired") {
            break;
        }
        assert!(
            fired_at.elapsed() < Duration::from_secs(20),
            "the runner did not wake up on NOTIFY"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .unwrap();
    let output = daemon.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}
