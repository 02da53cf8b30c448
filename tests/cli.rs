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
        // The 2025 partnership follows the 2024 one: the audience on Tuesday 10 December 2024.
        "10 Desember 2024 10.00  [DP3A-2025-001]  ▶ Rina (OPSI) (Fasilitator (mis. OPSI)): kasus dibuka (lanjutan dari DP3A-2024-001) → «Audiensi»",
        // The KAK came after the main 2025 budget closed: routed to the revised budget and told
        // why, never escalated.
        "10 Desember 2024 10.31  [DP3A-2025-001]  ↪️  Tahap dimulai setelah tenggatnya lewat: Tenggat tahap «Penyusunan KAK dan RAB» (tanggal 31 Agustus 2024 sudah lewat sebelum tahap dimulai; berlaku jendela berikutnya); jatuh tempo 30 Juni 2025",
        // Every member of the coalition signs the MoU for itself.
        "Tandatangani MoU: disetujui, menunggu «perkumpulan-mitra-perempuan», «yayasan-peduli-anak-sumsel»",
        "(atas nama yayasan-peduli-anak-sumsel): Tandatangani MoU → «Penganggaran (RKA-SKPD → APBD)»",
        "[DP3A-2025-001]  ⏩ Otomatis: «Penganggaran (RKA-SKPD → APBD)» → «Penganggaran melalui APBD Perubahan» · tenggat 30 September 2025",
        // The DPPA follows the APBD-P: no overdue notice weeks after entering it.
        "Kegiatan masuk APBD Perubahan → «Pengesahan DPPA» · tenggat 31 Oktober 2025",
        // The October report is late: reminders, then escalation to the PPK and supervisors.
        "12 November 2025 08.00  [DP3A-2025-001]  📣 Eskalasi: Laporan kemajuan bulanan Oktober 2025 jatuh tempo 7 November 2025 → Pejabat Pembuat Komitmen (PPK), Tim Pengawas",
        // A termin above the contract is refused.
        "Termin ke- 2, Jumlah Rp30.000.000, Tanggal SP2D 12 Desember 2025, Nomor SP2D 02310/SP2D/LS/2025: ditolak, sesuai harapan",
        "[DP3A-2025-001] 78 peristiwa tercatat, rantai hash utuh; tahap akhir «Selesai».",
        // Another OPD replicates the partnership.
        "[DINSOS-2027-001]  ▶ Staf Dinas Sosial (Tim Persiapan): kasus dibuka (replikasi dari DP3A-2025-001)",
        // The partnership year on year, with its growth, and the replication.
        "Kemitraan: 2 tahun",
        "2024 · DP3A-2024-001 (dp3a-palembang) · Selesai · Perkiraan nilai dalam KAK Rp34.500.000 · Pagu anggaran Rp34.500.000",
        "2025 · DP3A-2025-001 (dp3a-palembang) · Selesai · Perkiraan nilai dalam KAK Rp48.000.000 (+39,1 %) · Pagu anggaran Rp48.000.000 (+39,1 %)",
        "2027 · DINSOS-2027-001 (dinsos-palembang) · Audiensi",
    ] {
        assert!(story.contains(line), "missing `{line}` in:\n{story}");
    }
    // Nothing about a window that closed before the work began is escalated.
    for stage in [
        "«Penyusunan KAK dan RAB»",
        "«Penganggaran (RKA-SKPD → APBD)»",
    ] {
        assert!(
            !story.lines().any(|l| l.contains(stage)
                && (l.contains("Eskalasi") || l.contains("Tenggat terlewati"))),
            "{story}"
        );
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
    // Christmas 2024 (25 December, and the collective leave on the 26th) are days off: the
    // MoU stage begun on 20 December is due 15 working days later, on 15 January 2025.
    assert!(
        story.contains("«Nota kesepahaman (opsional)» · tenggat 15 Januari 2025"),
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
fn every_shipped_scenario_meets_its_expectations() {
    let dir = swakelola_tests::root().join("workflows/scenarios");
    let mut scenarios: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    scenarios.sort();
    assert!(scenarios.len() >= 2, "{scenarios:?}");
    for scenario in &scenarios {
        let output = swakelola(&[
            "simulate",
            "workflows/swakelola-tipe-3.yaml",
            scenario.to_str().unwrap(),
        ]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}: {}",
            scenario.display(),
            stderr(&output)
        );
        assert!(stdout(&output).contains("semua harapan terpenuhi"));
    }
}

#[test]
fn a_timely_fiscal_year_is_never_chased_and_money_and_legality_are_guarded() {
    let output = swakelola(&[
        "simulate",
        "workflows/swakelola-tipe-3.yaml",
        "workflows/scenarios/tepat-waktu-2026.yaml",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let story = stdout(&output);
    // The scenario's `never_notified` already fails the run on one such notice; the text
    // says the same in words.
    for chased in [
        "Eskalasi",
        "Tenggat terlewati",
        "sudah lewat tenggat",
        "Tahap dimulai setelah",
    ] {
        assert!(
            !story.contains(chased),
            "`{chased}` in a timely case:\n{story}"
        );
    }
    for refusal in [
        // Route (b): the Ormas is chosen in the process, bound to the case by the PPK.
        "➕ Budi Santoso (Pejabat Pembuat Komitmen (PPK)): yayasan-intan-maharani bergabung ke «Organisasi kemasyarakatan (pelaksana)»",
        // Route (b): no designation before the legal file and the willingness statement.
        "Evaluasi pemilihan selesai: ditolak, sesuai harapan — Langkah «Evaluasi pemilihan selesai» belum bisa dilakukan: «Dokumen legalitas Ormas",
        // A contract above the pagu.
        "«Nilai kontrak» = Rp60.000.000: ditolak, sesuai harapan — Ditolak karena melanggar aturan «Nilai kontrak tidak melebihi pagu anggaran»",
        // A contract running past 31 December of the fiscal year.
        "«Batas akhir pelaksanaan kontrak» = 15 Januari 2027: ditolak, sesuai harapan — Ditolak karena melanggar aturan «Pelaksanaan selesai dalam tahun anggaran»",
        // Termin payments above the contract.
        "Termin ke- 3, Jumlah Rp12.000.000, Tanggal SP2D 10 September 2026, Nomor SP2D 01980/SP2D/LS/2026: ditolak, sesuai harapan",
        // The contract is not in force on the PPK's signature alone.
        "Tandatangani kontrak: disetujui, menunggu «Pimpinan Ormas»",
        // The DPA is due in January of the fiscal year.
        "Kegiatan masuk APBD → «Pengesahan DPA» · tenggat 31 Januari 2026",
        // A budget cut: the pagu may not drop below the contract before the addendum.
        "«Pagu anggaran» = Rp50.000.000: ditolak, sesuai harapan — Ditolak karena melanggar aturan «Nilai kontrak tidak melebihi pagu anggaran»",
        "Lanjutkan pelaksanaan dengan pagu baru → «Pelaksanaan pekerjaan»",
        // An APIP audit before closing.
        "Minta audit APIP → «Audit APIP sebelum penutupan»",
        "Tutup setelah audit → «Selesai»",
    ] {
        assert!(story.contains(refusal), "missing `{refusal}` in:\n{story}");
    }
    assert_eq!(story.matches("🚫").count(), 5, "{story}");
}

#[test]
fn a_scenario_reports_a_refusal_that_did_not_happen_and_a_notice_it_forbids() {
    let dir = swakelola_tests::temp_dir("swakelola-simulate-refusal");
    let scenario = dir.join("scenario.yaml");
    std::fs::write(
        &scenario,
        "start: 2025-03-24T09:00\nnever_notified: [reminder]\nopen:\n  as: penyusun\n  actor: Siti\n  fields: {judul: Laporan}\nsteps:\n  - at: 2025-04-15T09:00\n    as: penyusun\n    actor: Siti\n    attach: draf\n    expect:\n      refused: guards_not_met\n",
    )
    .unwrap();
    let workflow = swakelola_tests::root().join("workflows/persetujuan-dokumen.yaml");
    let output = swakelola(&[
        "simulate",
        workflow.to_str().unwrap(),
        scenario.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("langkah 1 (2025-04-15T09:00): diharapkan ditolak dengan kode `guards_not_met`, tetapi tidak ditolak"),
        "{err}"
    );
    assert!(
        err.contains(
            "pemberitahuan `reminder` terkirim, padahal skenario menyatakan tidak boleh ada"
        ),
        "{err}"
    );
}

#[test]
fn a_scenario_that_names_cases_wrongly_is_refused_with_the_reason() {
    let dir = swakelola_tests::temp_dir("swakelola-simulate-cases");
    let workflow = swakelola_tests::root().join("workflows/persetujuan-dokumen.yaml");
    let open = "    open:\n      as: penyusun\n      actor: Siti\n      key: B\n      fields: {judul: Laporan}\n";
    for (name, text, reason) in [
        (
            "unknown",
            format!("start: 2025-03-24T09:00\nsteps:\n  - at: 2025-03-25T09:00\n{open}      follows: A\n"),
            "tidak ada kasus `A` yang dibuka lebih dulu dalam skenario ini",
        ),
        (
            "both",
            format!("start: 2025-03-24T09:00\nsteps:\n  - at: 2025-03-25T09:00\n{open}      follows: A\n      replicates: A\n"),
            "kasus `B` tidak bisa sekaligus melanjutkan dan mereplikasi kasus lain",
        ),
        (
            "none",
            "start: 2025-03-24T09:00\nsteps:\n  - at: 2025-03-25T09:00\n    as: penyusun\n    attach: draf\n".to_owned(),
            "langkah 1 (2025-03-25T09:00) bertindak sebelum ada kasus yang dibuka",
        ),
        (
            "time",
            "start: 24 Maret 2025\n".to_owned(),
            "`24 Maret 2025` bukan tanggal dan jam setempat seperti 2025-03-24T09:00",
        ),
    ] {
        let scenario = dir.join(format!("{name}.yaml"));
        std::fs::write(&scenario, text).unwrap();
        let output = swakelola(&[
            "simulate",
            workflow.to_str().unwrap(),
            scenario.to_str().unwrap(),
        ]);
        assert_ne!(output.status.code(), Some(0), "{name}");
        assert!(stderr(&output).contains(reason), "{name}: {}", stderr(&output));
    }
}

#[test]
fn the_demo_can_keep_its_cases_for_partnership_show() {
    let dir = swakelola_tests::temp_dir("swakelola-demo-save");
    let file = dir.join("demo.db");
    let output = swakelola(&["demo", "--save", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let url = format!("sqlite://{}", file.display());
    let shown = swakelola(&[
        "--database-url",
        &url,
        "partnership",
        "show",
        "DP3A-2025-001",
    ]);
    assert_eq!(shown.status.code(), Some(0), "{}", stderr(&shown));
    let text = stdout(&shown);
    for line in [
        "2024 · DP3A-2024-001 (dp3a-palembang) · Selesai",
        "Pagu anggaran Rp48.000.000 (+39,1 %)",
        "2027 · DINSOS-2027-001 (dinsos-palembang) · Audiensi",
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    // Never into a file that exists: its cases would mix with the demo's.
    let again = swakelola(&["demo", "--save", file.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1), "{}", stdout(&again));
    assert!(
        stderr(&again).contains("sudah ada; demo hanya menulis ke berkas baru"),
        "{}",
        stderr(&again)
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
