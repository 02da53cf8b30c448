//! `swakelola run` as a real process: it fires due timers, delivers notifications to the log
//! channel, stops cleanly on SIGTERM, and on PostgreSQL wakes at once when work appears.

use std::time::{Duration, Instant};

use swakelola_tests::{Session, log_lines, stdout, terminate, wait_for_event};

#[test]
fn the_daemon_fires_due_timers_and_stops_on_sigterm() {
    let session = Session::sqlite("swakelola-run");
    let id = session.case_with_due_work(&[]);
    // Before any runner: the agenda shows what is already due (marked `!`) and who hears of it.
    let agenda = session.ok(&["agenda", "--days", "30"]);
    assert!(agenda.contains("! "), "{agenda}");
    assert!(
        agenda.contains(
            "eskalasi: Tenggat tahap «Penyusunan KAK dan RAB» (jatuh tempo 31 Agustus 2025) → Tim Persiapan, Pejabat Pembuat Komitmen (PPK)"
        ),
        "{agenda}"
    );
    let pending: serde_json::Value =
        serde_json::from_str(&session.ok(&["outbox", "list", "--json"])).unwrap();
    assert!(
        pending
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["state"] == "pending")
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let daemon = session.spawn(&["run", "--poll", "1", "--metrics", &address], &[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let fired = loop {
        let history: serde_json::Value =
            serde_json::from_str(&session.ok(&["case", "history", &id, "--json"])).unwrap();
        let timers: Vec<String> = history
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event"]["kind"]["type"] == "timer_fired")
            .map(|e| e["event"]["kind"]["timer"].as_str().unwrap().to_owned())
            .collect();
        if timers.len() >= 3 || Instant::now() > deadline {
            break timers;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // The tick that fired the timers may still be finishing: scrape until it has.
    let expected = [
        // The deadline, its escalation and the first overdue reminder.
        "swakelola_timers_fired_total 3",
        "swakelola_outbox_sent_total{channel=\"log\"}",
        "swakelola_timer_lateness_seconds_count 3",
        "swakelola_timers_overdue 0",
    ];
    let started = Instant::now();
    loop {
        let metrics = scrape(&address);
        if expected.iter().all(|line| metrics.contains(line)) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "metrics incomplete:\n{metrics}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Delivery runs beside firing: wait until every message of the case has gone out.
    let started = Instant::now();
    while !serde_json::from_str::<serde_json::Value>(&session.ok(&["outbox", "list", "--json"]))
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["state"] == "sent")
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "messages were not delivered"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = terminate(daemon);
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
    assert!(String::from_utf8_lossy(&output.stderr).contains("\"event\":\"stopped\""));
    let messages: serde_json::Value =
        serde_json::from_str(&session.ok(&["outbox", "list", "--json"])).unwrap();
    let messages = messages.as_array().unwrap();
    assert!(messages.len() >= 6, "{messages:?}");
    assert!(
        messages.iter().all(|m| m["state"] == "sent"),
        "{messages:?}"
    );
    assert!(
        !session.ok(&["agenda", "--days", "1"]).contains("! "),
        "nothing is left overdue"
    );
    // Each timer fired once.
    let mut unique = fired.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), fired.len());
}

#[test]
fn on_postgres_the_daemon_wakes_at_once_when_new_work_appears() {
    let Some(session) = Session::postgres("swakelola-listen") else {
        return;
    };
    session.ok(&["db", "migrate"]);
    // Nothing to do yet, and a poll far longer than the test may take. Wait until the runner
    // has looked once and gone to sleep: from then on only NOTIFY can wake it in time.
    let mut daemon = session.spawn(&["run", "--poll", "300"], &[("SWAKELOLA_LOG", "debug")]);
    let lines = log_lines(&mut daemon);
    wait_for_event(&lines, "timers_idle");
    let created = Instant::now();
    let id = session.case_with_due_work(&[]);
    loop {
        if session
            .ok(&["case", "history", &id, "--json"])
            .contains("timer_fired")
        {
            break;
        }
        assert!(
            created.elapsed() < Duration::from_secs(20),
            "the runner did not wake up on NOTIFY"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    terminate(daemon);
}

/// GET /metrics over plain HTTP/1.1, retried until the exporter answers.
fn scrape(address: &str) -> String {
    use std::io::{Read, Write};
    let started = Instant::now();
    loop {
        if let Ok(mut stream) = std::net::TcpStream::connect(address) {
            stream
                .write_all(
                    format!(
                        "GET /metrics HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
                    )
                    .as_bytes(),
                )
                .unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).unwrap();
            if response.starts_with("HTTP/1.1 200") {
                return response;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no metrics served on {address}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A runner started while its database is down waits for it (logging each attempt) instead
/// of exiting, and still stops cleanly on SIGTERM.
#[test]
fn a_runner_waits_for_its_database() {
    let session = swakelola_tests::Session::sqlite("swakelola-wait");
    let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = refused.local_addr().unwrap().port();
    drop(refused);
    let url = format!("postgres://postgres@127.0.0.1:{port}/nowhere");
    let mut daemon = session.spawn(
        &["run", "--poll", "1"],
        &[("SWAKELOLA_DATABASE_URL", url.as_str())],
    );
    // Two attempts take 1 s + 2 s of backoff; it must still be running after them.
    std::thread::sleep(Duration::from_secs(4));
    assert!(daemon.try_wait().unwrap().is_none(), "the runner gave up");
    let output = terminate(daemon);
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        log.matches("\"event\":\"database_unavailable\"").count() >= 2,
        "{log}"
    );
    let _ = std::fs::remove_dir_all(&session.dir);
}

/// A message for a channel this runner does not deliver (email without SMTP) does not wait
/// silently: the runner says which channel and how many messages.
#[test]
fn messages_for_an_unconfigured_channel_are_reported() {
    let session = Session::sqlite("swakelola-no-smtp");
    session.case_with_due_work(&["ppk=email:budi@dp3a.example"]);
    let daemon = session.spawn(&["run", "--poll", "1"], &[]);
    let started = Instant::now();
    // Wait until the runner has fired the due work, so the escalation email exists.
    loop {
        let outbox: serde_json::Value =
            serde_json::from_str(&session.ok(&["outbox", "list", "--json"])).unwrap();
        if outbox
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["channel"] == "email")
        {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{outbox}");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let output = terminate(daemon);
    let log = String::from_utf8_lossy(&output.stderr);
    let warning = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["event"] == "channel_not_configured")
        .unwrap_or_else(|| panic!("no warning about the email channel:\n{log}"));
    assert_eq!(warning["channel"], "email");
    assert!(warning["pending"].as_u64().unwrap() >= 1);
    let _ = std::fs::remove_dir_all(&session.dir);
}

/// Ctrl-C stops the daemon as cleanly as SIGTERM.
#[test]
fn sigint_stops_the_daemon_cleanly() {
    let session = Session::sqlite("swakelola-sigint");
    session.ok(&["db", "migrate"]);
    let mut daemon = session.spawn(&["run", "--poll", "300"], &[("SWAKELOLA_LOG", "debug")]);
    let lines = log_lines(&mut daemon);
    wait_for_event(&lines, "timers_idle");
    let status = std::process::Command::new("kill")
        .args(["-INT", &daemon.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = daemon.wait().unwrap();
    assert_eq!(exit.code(), Some(0));
    wait_for_event(&lines, "stopped");
}

/// Options come from flags, then the environment, then the config file, then defaults.
#[test]
fn flags_and_environment_override_the_config_file() {
    use std::process::Command;
    let session = Session::sqlite("swakelola-config");
    let in_file = session.dir.join("dari-berkas.db");
    let from_env = session.dir.join("dari-env.db");
    let from_flag = session.dir.join("dari-flag.db");
    let config = session.dir.join("swakelola.yaml");
    std::fs::write(
        &config,
        format!("database_url: sqlite://{}\n", in_file.display()),
    )
    .unwrap();
    let run = |flag: Option<&std::path::Path>, env: Option<&std::path::Path>| {
        let mut command = Command::new(swakelola_tests::binary());
        command
            .current_dir(&session.dir)
            .env_remove("SWAKELOLA_DATABASE_URL")
            .args(["--config", config.to_str().unwrap(), "db", "migrate"]);
        if let Some(path) = flag {
            command.args(["--database-url", &format!("sqlite://{}", path.display())]);
        }
        if let Some(path) = env {
            command.env(
                "SWAKELOLA_DATABASE_URL",
                format!("sqlite://{}", path.display()),
            );
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            swakelola_tests::stderr(&output)
        );
    };
    run(None, None);
    assert!(in_file.exists(), "the config file's database was not used");
    run(None, Some(&from_env));
    assert!(
        from_env.exists(),
        "the environment did not override the file"
    );
    run(Some(&from_flag), Some(&from_env));
    assert!(
        from_flag.exists(),
        "the flag did not override the environment"
    );
    // A misspelt key is refused with its place in the file.
    std::fs::write(&config, "databse_url: sqlite://x.db\n").unwrap();
    let output = Command::new(swakelola_tests::binary())
        .current_dir(&session.dir)
        .args(["--config", config.to_str().unwrap(), "case", "list"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        swakelola_tests::stderr(&output).contains("1:1"),
        "{}",
        swakelola_tests::stderr(&output)
    );
}
