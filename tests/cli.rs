//! The `swakelola` binary as administrators use it: validate, graph, explain.

use swakelola_tests::{stderr, stdout, swakelola};

#[test]
fn validating_the_shipped_workflows_succeeds() {
    let output = swakelola(&["validate", "workflows/"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(
        out.contains("workflows/swakelola-tipe-3.yaml: `swakelola-tipe-3`"),
        "{out}"
    );
    assert!(out.contains("0 kesalahan"), "{out}");
}

#[test]
fn a_broken_workflow_fails_with_positions_on_stderr() {
    let output = swakelola(&["validate", "tests/fixtures/invalid/e011-unknown-stage.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("tests/fixtures/invalid/e011-unknown-stage.yaml:51:9: error[E011]: unknown stage `finished`"),
        "{err}"
    );
    // Fixtures have no calendars folder: the built-in calendars stand in, so no E017.
    assert!(!err.contains("error[E017]"), "{err}");
}

#[test]
fn json_output_is_one_document_for_tools() {
    let output = swakelola(&[
        "validate",
        "--format",
        "json",
        "workflows/",
        "tests/fixtures/invalid/e030-malformed-duration.yaml",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["valid"], false);
    assert_eq!(report["workflows"].as_array().unwrap().len(), 2);
    let e030 = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "E030")
        .unwrap();
    assert_eq!(
        (e030["line"].as_u64(), e030["column"].as_u64()),
        (Some(27), Some(14))
    );
    assert_eq!(e030["severity"], "error");
}

#[test]
fn warnings_fail_only_when_denied() {
    let file = "workflows/calendars/../swakelola-tipe-3.yaml";
    assert_eq!(swakelola(&["validate", file]).status.code(), Some(0));
    // The 2026 calendar lists unconfirmed dates (W002).
    assert_eq!(
        swakelola(&["validate", "--deny-warnings", file])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn missing_paths_and_empty_folders_are_explained() {
    let output = swakelola(&["validate", "no/such/workflow.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("`no/such/workflow.yaml` does not exist"),
        "{}",
        stderr(&output)
    );

    let empty = std::env::temp_dir().join(format!("swakelola-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let output = swakelola(&["validate", empty.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("holds no workflow files"),
        "{}",
        stderr(&output)
    );
    std::fs::remove_dir_all(&empty).unwrap();
}

#[test]
fn graphs_render_as_mermaid_and_dot() {
    let output = swakelola(&["graph", "workflows/persetujuan-dokumen.yaml"]);
    assert_eq!(output.status.code(), Some(0));
    let mermaid = stdout(&output);
    assert!(mermaid.contains("stateDiagram-v2"));
    assert!(
        mermaid.contains("pemeriksaan --> disetujui: Setujui [pemeriksa, atasan]"),
        "{mermaid}"
    );

    let output = swakelola(&[
        "graph",
        "workflows/swakelola-tipe-3.yaml",
        "--format",
        "dot",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let dot = stdout(&output);
    assert!(dot.starts_with("digraph \"swakelola-tipe-3\""));
    assert!(dot.contains("subgraph \"cluster_anggaran\""));
    assert!(dot.contains("\"penganggaran\" -> \"penganggaran_perubahan\""));
    assert!(dot.trim_end().ends_with('}'));

    let output = swakelola(&["graph", "tests/fixtures/invalid/e011-unknown-stage.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("tidak ada diagram: perbaiki dulu kesalahan di atas"));
}

#[test]
fn codes_are_explained() {
    let output = swakelola(&["explain", "e023"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).starts_with("E023 Dead end"));
    let output = swakelola(&["explain", "E999"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("kode yang ada: E001"));
}

#[test]
fn help_explains_the_commands() {
    let output = swakelola(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = stdout(&output);
    for command in ["validate", "graph", "explain"] {
        assert!(help.contains(command), "{help}");
    }
}

#[test]
fn the_demo_tells_the_seed_partnership_from_audience_to_closed() {
    let output = swakelola(&["demo"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let story = stdout(&output);
    for line in [
        "10 Desember 2024 10.00  ▶ Siti Aminah (Pimpinan Ormas): kasus dibuka → «Audiensi» · tenggat 24 Desember 2024",
        // The KAK arrived after the 2025 budget window: overdue and escalated at once.
        "12 Desember 2024 09.05  📣 Eskalasi: Tenggat tahap «Penyusunan KAK dan RAB» jatuh tempo 31 Agustus 2024 → Tim Persiapan, Pejabat Pembuat Komitmen (PPK)",
        // 30 November 2024 passed: the case moves to the revision budget by itself.
        "⏩ Otomatis: «Penganggaran (RKA-SKPD → APBD)» → «Penganggaran melalui APBD Perubahan» · tenggat 30 September 2025",
        // The October report is late: reminders, then escalation to the PPK and supervisors.
        "12 November 2025 08.00  📣 Eskalasi: Laporan kemajuan bulanan Oktober 2025 jatuh tempo 7 November 2025 → Pejabat Pembuat Komitmen (PPK), Tim Pengawas",
        "rantai hash utuh; tahap akhir «Selesai».",
    ] {
        assert!(story.contains(line), "missing `{line}` in:\n{story}");
    }
    // The same story in English; no internal id in either (ids with `_` are never words).
    let english = swakelola(&["--lang", "en", "demo"]);
    assert_eq!(english.status.code(), Some(0), "{}", stderr(&english));
    let english = stdout(&english);
    let workflow =
        std::fs::read_to_string(swakelola_tests::root().join("workflows/swakelola-tipe-3.yaml"))
            .unwrap();
    let ids: std::collections::BTreeSet<&str> = workflow
        .lines()
        .filter_map(|line| {
            line.trim_start()
                .strip_prefix("- id: ")
                .or_else(|| line.trim_start().strip_prefix("id: "))
        })
        .chain(
            workflow
                .lines()
                .filter_map(|line| line.trim_start().strip_prefix("values: ["))
                .flat_map(|values| values.trim_end_matches(']').split(", ")),
        )
        .filter(|id| id.contains('_'))
        .collect();
    assert!(ids.len() > 40, "{ids:?}");
    for text in [&story, &english] {
        for id in &ids {
            assert!(!text.contains(id), "internal id `{id}` shown:\n{text}");
        }
    }
    insta::assert_snapshot!("demo_id", story);
    insta::assert_snapshot!("demo_en", english);
    // Christmas 2024 (25 December, and the collective leave on the 26th) and New Year are
    // days off: the review of the KAK handed over on 20 December is due on 8 January 2025 and
    // accepted that day — no false overdue notice in between.
    assert!(
        story.contains("«Reviu KAK oleh instansi» · tenggat 8 Januari 2025"),
        "{story}"
    );
    assert!(
        !story.contains("Tenggat terlewati: tahap «Reviu KAK oleh instansi»"),
        "{story}"
    );
    assert!(
        !story.contains("kalender hari libur tahun itu belum dimuat"),
        "no date of the demo is provisional"
    );
    // Reminders stop once the report is in: none for October after 13 November 10.00.
    let after_attach = story.split("13 November 2025 10.00").nth(1).unwrap();
    assert!(
        !after_attach.contains("Laporan kemajuan bulanan Oktober"),
        "{after_attach}"
    );
}

#[test]
fn simulate_checks_a_scenario_and_reports_unmet_expectations() {
    let output = swakelola(&[
        "simulate",
        "workflows/swakelola-tipe-3.yaml",
        "workflows/scenarios/seed-partnership.yaml",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("semua harapan terpenuhi"));

    let dir = swakelola_tests::temp_dir("swakelola-simulate");
    let wrong = dir.join("wrong.yaml");
    std::fs::write(
        &wrong,
        "start: 2025-03-24T09:00\nopen:\n  as: penyusun\n  actor: Siti\n  fields: {judul: Laporan}\nsteps:\n  - at: 2025-04-15T09:00\n    expect:\n      stage: disetujui\n      notified: [escalation]\n",
    )
    .unwrap();
    let workflow = swakelola_tests::root().join("workflows/persetujuan-dokumen.yaml");
    let output = swakelola(&[
        "simulate",
        workflow.to_str().unwrap(),
        wrong.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("diharapkan tahap `disetujui`, kasus ada di `penyusunan`"),
        "{err}"
    );
    assert!(
        err.contains(
            "diharapkan pemberitahuan `escalation` sejak langkah sebelumnya; yang terkirim: reminder, overdue"
        ),
        "{err}"
    );
    // Mondays 24 March + 5 working days (Nyepi and Idul Fitri leave) = 9 April.
    assert!(
        stdout(&output).contains("tenggat 9 April 2025"),
        "{}",
        stdout(&output)
    );

    let typo = dir.join("typo.yaml");
    std::fs::write(
        &typo,
        "start: 2025-03-24T09:00\nopen:\n  as: penyusun\n  actr: Siti\n",
    )
    .unwrap();
    let output = swakelola(&[
        "simulate",
        workflow.to_str().unwrap(),
        typo.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("typo.yaml:4:3: error[E004]: unknown field `actr`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_config_file_fills_what_flags_and_environment_leave_open() {
    let dir = swakelola_tests::temp_dir("swakelola-config");
    let config = dir.join("swakelola.yaml");
    std::fs::write(
        &config,
        format!(
            "database_url: sqlite://{}/from-config.db\npoll: 2\n",
            dir.display()
        ),
    )
    .unwrap();
    let run = |env: Option<&str>, args: &[&str]| {
        let mut command = std::process::Command::new(swakelola_tests::binary());
        command
            .args(args)
            .current_dir(&dir)
            .env_remove("SWAKELOLA_DATABASE_URL");
        if let Some(url) = env {
            command.env("SWAKELOLA_DATABASE_URL", url);
        }
        command.output().unwrap()
    };
    let config_arg = config.to_str().unwrap();
    let output = run(None, &["--config", config_arg, "workflow", "list"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        dir.join("from-config.db").exists(),
        "the config file's database was not used"
    );
    // The environment wins over the file.
    let env_url = format!("sqlite://{}/from-env.db", dir.display());
    let output = run(
        Some(&env_url),
        &["--config", config_arg, "workflow", "list"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(dir.join("from-env.db").exists());
    // The language people read, from the file unless --lang says otherwise.
    std::fs::write(
        &config,
        format!(
            "database_url: sqlite://{}/from-config.db\nlang: en\n",
            dir.display()
        ),
    )
    .unwrap();
    let english = run(None, &["--config", config_arg, "case", "list"]);
    assert_eq!(
        stdout(&english).trim(),
        "no cases match",
        "{}",
        stderr(&english)
    );
    let indonesian = run(
        None,
        &["--config", config_arg, "--lang", "id", "case", "list"],
    );
    assert_eq!(stdout(&indonesian).trim(), "tidak ada kasus yang cocok");
    // A typo is refused with its position.
    std::fs::write(&config, "databse_url: sqlite://x.db\n").unwrap();
    let output = run(None, &["--config", config_arg, "workflow", "list"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("swakelola.yaml:1:1: error[E004]: unknown field `databse_url`"),
        "{}",
        stderr(&output)
    );
}

/// The small ways a command line used to go wrong: each now ends at once with a clear word.
#[test]
fn hostile_or_mistaken_input_ends_cleanly() {
    use std::process::{Command, Stdio};
    use swakelola_tests::{Session, binary};

    // `demo | head -2`: the reader leaves; no panic, the status a Unix filter gives.
    let mut demo = Command::new(binary())
        .arg("demo")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(demo.stdout.take());
    let output = demo.wait_with_output().unwrap();
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    assert_eq!(output.status.code(), Some(141));

    let session = Session::sqlite("swakelola-cli-input");
    // An agenda reaching past any sensible horizon is a usage error, not an overflow.
    let agenda = session.run(&["agenda", "--days", "4294967295"]);
    assert_eq!(agenda.status.code(), Some(2), "{}", stderr(&agenda));
    // Files that never end or would block are refused before they are read.
    for (args, message) in [
        (
            vec!["workflow", "deploy", "/dev/zero"],
            "is not a regular file",
        ),
        (
            vec!["--config", "/dev/zero", "case", "list"],
            "is not a regular file",
        ),
        (
            vec![
                "case",
                "attach",
                "any-case",
                "kak",
                "/dev/zero",
                "--as",
                "ppk",
                "--actor",
                "Budi",
            ],
            "is not a regular file",
        ),
    ] {
        let output = session.run(&args);
        assert_ne!(output.status.code(), Some(0), "{args:?}");
        assert!(
            stderr(&output).contains(message),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    // A file that is not a database is named as such, not as a server that is down.
    std::fs::write(session.dir.join("rusak.db"), "bukan basis data").unwrap();
    let broken = session.run(&[
        "--database-url",
        &format!("sqlite://{}", session.dir.join("rusak.db").display()),
        "case",
        "list",
    ]);
    assert_eq!(broken.status.code(), Some(1), "{}", stderr(&broken));
    assert!(
        stderr(&broken).contains("Basis data SQLite tidak bisa dipakai"),
        "{}",
        stderr(&broken)
    );
    // A server that refuses the connection: exit 3 at once, saying what to check.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let refused = session.run(&[
        "--database-url",
        &format!("postgres://postgres@127.0.0.1:{port}/x"),
        "case",
        "list",
    ]);
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("pastikan servernya berjalan"),
        "{}",
        stderr(&refused)
    );
    let _ = std::fs::remove_dir_all(&session.dir);
}

/// A workflow file on its own (no `calendars/` folder beside it) uses the calendars built
/// into swakelola, for `validate` and for `workflow deploy`.
#[test]
fn a_workflow_without_a_calendars_folder_uses_the_built_in_calendars() {
    let session = swakelola_tests::Session::sqlite("swakelola-builtin-calendars");
    let file = session.dir.join("persetujuan.yaml");
    std::fs::copy(
        swakelola_tests::root().join("workflows/persetujuan-dokumen.yaml"),
        &file,
    )
    .unwrap();
    let validated = swakelola(&["validate", file.to_str().unwrap()]);
    assert_eq!(validated.status.code(), Some(0), "{}", stderr(&validated));
    assert!(
        stdout(&validated).contains("2024, 2025, 2026"),
        "{}",
        stdout(&validated)
    );
    session.ok(&["workflow", "deploy", file.to_str().unwrap()]);
}

/// `--json` is honoured by every command with a result and refused, not ignored, by the rest.
#[test]
fn json_is_honoured_or_refused() {
    let validated = swakelola(&["validate", "workflows/", "--json"]);
    assert_eq!(validated.status.code(), Some(0), "{}", stderr(&validated));
    serde_json::from_str::<serde_json::Value>(&stdout(&validated)).expect("JSON on stdout");
    for args in [
        vec!["demo", "--json"],
        vec!["explain", "E023", "--json"],
        vec!["graph", "workflows/persetujuan-dokumen.yaml", "--json"],
    ] {
        let output = swakelola(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains("tidak punya keluaran JSON; hilangkan --json"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}
