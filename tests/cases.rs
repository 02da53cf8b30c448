//! The seed partnership driven through the built binary, from audience to closed: Yayasan
//! Intan Maharani and DP3A Kota Palembang, fiscal year 2025, pagu Rp34.500.000 — on SQLite
//! and on PostgreSQL.

use swakelola_tests::{Session, root, stderr, stdout, swakelola_in};

/// Each step of the partnership as the people involved would type it (after `case`).
/// `{}` is replaced by the case id; documents are small files written by the test.
const STEPS: &[&[&str]] = &[
    &[
        "attach",
        "{}",
        "notulen_audiensi",
        "notulen.pdf",
        "--as",
        "fasilitator",
        "--actor",
        "Rina (OPSI)",
    ],
    &[
        "fire",
        "{}",
        "catat_audiensi",
        "--as",
        "pimpinan_ormas",
        "--actor",
        "Siti Aminah",
    ],
    &[
        "attach",
        "{}",
        "kak",
        "kak.pdf",
        "--as",
        "pimpinan_ormas",
        "--actor",
        "Siti Aminah",
    ],
    &[
        "attach",
        "{}",
        "rab",
        "rab.xlsx",
        "--as",
        "pimpinan_ormas",
        "--actor",
        "Siti Aminah",
    ],
    &[
        "set",
        "{}",
        "nilai_estimasi=34.500.000",
        "--as",
        "pimpinan_ormas",
        "--actor",
        "Siti Aminah",
    ],
    &[
        "fire",
        "{}",
        "serahkan_kak",
        "--as",
        "pimpinan_ormas",
        "--actor",
        "Siti Aminah",
    ],
    // The Tim Persiapan that reviews the KAK is assigned first.
    &[
        "attach",
        "{}",
        "penugasan_tim_persiapan",
        "penugasan.pdf",
        "--as",
        "pa_kpa",
        "--actor",
        "Kepala DP3A",
    ],
    &[
        "fire",
        "{}",
        "terima_kak",
        "--as",
        "ppk",
        "--actor",
        "Budi Santoso",
    ],
    &[
        "attach",
        "{}",
        "mou",
        "mou.pdf",
        "--as",
        "pa_kpa",
        "--actor",
        "Kepala DP3A",
    ],
    // The agency and the yayasan (the Ormas side's only organisation here) both sign.
    &[
        "fire",
        "{}",
        "tandatangani_mou",
        "--as",
        "pa_kpa",
        "--actor",
        "Kepala DP3A",
    ],
    &[
        "fire",
        "{}",
        "tandatangani_mou",
        "--as",
        "pimpinan_ormas",
        "--actor",
        "Siti Aminah",
        "--for",
        "yayasan-intan-maharani",
    ],
    &[
        "attach",
        "{}",
        "rka",
        "rka.pdf",
        "--as",
        "perencana",
        "--actor",
        "Dewi",
    ],
    &[
        "set",
        "{}",
        "pagu=Rp34.500.000",
        "--as",
        "perencana",
        "--actor",
        "Dewi",
    ],
    &[
        "set",
        "{}",
        "sumber_dana=apbd",
        "--as",
        "perencana",
        "--actor",
        "Dewi",
    ],
    &[
        "fire",
        "{}",
        "masuk_apbd",
        "--as",
        "perencana",
        "--actor",
        "Dewi",
    ],
    &[
        "attach",
        "{}",
        "dpa",
        "dppa.pdf",
        "--as",
        "perencana",
        "--actor",
        "Dewi",
    ],
    &[
        "set",
        "{}",
        "kode_anggaran=2.08.01.2.01.0001",
        "--as",
        "perencana",
        "--actor",
        "Dewi",
    ],
    &[
        "fire",
        "{}",
        "sahkan_dpa",
        "--as",
        "perencana",
        "--actor",
        "Dewi",
    ],
    &[
        "attach",
        "{}",
        "pengumuman_rup",
        "rup.pdf",
        "--as",
        "ppk",
        "--actor",
        "Budi Santoso",
    ],
    &[
        "set",
        "{}",
        "kode_rup=52719384",
        "--as",
        "ppk",
        "--actor",
        "Budi Santoso",
    ],
    &[
        "fire",
        "{}",
        "umumkan_rup",
        "--as",
        "ppk",
        "--actor",
        "Budi Santoso",
    ],
    &[
        "attach",
        "{}",
        "sk_tim",
        "sk-tim.pdf",
        "--as",
        "pa_kpa",
        "--actor",
        "Kepala DP3A",
    ],
    &[
        "attach",
        "{}",
        "surat_permintaan_kesediaan",
        "permintaan.pdf",
        "--as",
        "pa_kpa",
        "--actor",
        "Kepala DP3A",
    ],
    &[
        "set",
        "{}",
        "rute_penetapan=permintaan_kesediaan",
        "--as",
        "pa_kpa",
        "--actor",
        "Kepala DP3A",
    ],
    &[
        "fire",
        "{}",
        "kirim_permintaan_kesediaan",
        "--as",
        "pa_kpa",
        "--actor",
        "Kepala DP3A",
    ],
    &[
        "attach",
        "{}",
        "pernyataan_kesediaan",
        "kesediaan.pdf",
        "--as",
        "pimpinan_ormas",
        "--actor",
        "Siti Aminah",
    ],
    &[
        "attach",
        "{}",
        "legalitas_ormas",
        "akta.pdf",
        "--as",
        "pimpinan_ormas",
        "--actor",
        "Siti Aminah",
    ],
    &[
        "fire",
        "{}",
        "nyatakan_kesediaan",
        "--as",
        "pimpinan_ormas",
        "--actor",
        "Siti Aminah",
    ],
    &[
        "attach",
        "{}",
        "surat_penetapan",
        "penetapan.pdf",
        "--as",
        "pa_kpa",
        "--actor",
        "Kepala DP3A",
    ],
    &[
        "fire",
        "{}",
        "tetapkan_ormas",
        "--as",
        "pa_kpa",
        "--actor",
        "Kepala DP3A",
    ],
    &[
        "attach",
        "{}",
        "sk_tim_pelaksana",
        "sk-pelaksana.pdf",
        "--as",
        "pimpinan_ormas",
        "--actor",
        "Siti Aminah",
    ],
    &[
        "attach",
        "{}",
        "proposal",
        "proposal.pdf",
        "--as",
        "pimpinan_ormas",
        "--actor",
        "Siti Aminah",
    ],
    &[
        "fire",
        "{}",
        "ajukan_proposal",
        "--as",
        "pimpinan_ormas",
        "--actor",
        "Siti Aminah",
    ],
    &[
        "attach",
        "{}",
        "berita_acara_reviu",
        "reviu.pdf",
        "--as",
        "ppk",
        "--actor",
        "Budi Santoso",
    ],
    &[
        "fire",
        "{}",
        "setujui_proposal",
        "--as",
        "ppk",
        "--actor",
        "Budi Santoso",
    ],
    &[
        "attach",
        "{}",
        "kontrak",
        "kontrak.pdf",
        "--as",
        "ppk",
        "--actor",
        "Budi Santoso",
    ],
    &[
        "set",
        "{}",
        "nomor_kontrak=027/KTR/DP3A/2025",
        "--as",
        "ppk",
        "--actor",
        "Budi Santoso",
    ],
    &[
        "set",
        "{}",
        "nilai_kontrak=34500000",
        "--as",
        "ppk",
        "--actor",
        "Budi Santoso",
    ],
    &[
        "set",
        "{}",
        "tanggal_kontrak=2025-07-01",
        "--as",
        "ppk",
        "--actor",
        "Budi Santoso",
    ],
    &[
        "set",
        "{}",
        "tanggal_selesai=2025-11-28",
        "--as",
        "ppk",
        "--actor",
        "Budi Santoso",
    ],
    &[
        "fire",
        "{}",
        "tandatangani_kontrak",
        "--as",
        "ppk",
        "--actor",
        "Budi Santoso",
    ],
    // A joint sign-off: the contract takes effect when the yayasan's head signs too.
    &[
        "fire",
        "{}",
        "tandatangani_kontrak",
        "--as",
        "pimpinan_ormas",
        "--actor",
        "Siti Aminah",
    ],
    &[
        "attach",
        "{}",
        "laporan_awal",
        "laporan-awal.pdf",
        "--as",
        "tim_pelaksana",
        "--actor",
        "Tim Yayasan",
    ],
    &[
        "attach",
        "{}",
        "laporan_kemajuan",
        "kemajuan-juli.pdf",
        "--as",
        "tim_pelaksana",
        "--actor",
        "Tim Yayasan",
    ],
    &[
        "fire",
        "{}",
        "serahkan_hasil",
        "--as",
        "pimpinan_ormas",
        "--actor",
        "Siti Aminah",
    ],
    &[
        "attach",
        "{}",
        "bast",
        "bast.pdf",
        "--as",
        "ppk",
        "--actor",
        "Budi Santoso",
    ],
    &[
        "fire",
        "{}",
        "tandatangani_bast",
        "--as",
        "ppk",
        "--actor",
        "Budi Santoso",
    ],
    &[
        "attach",
        "{}",
        "bast_pa",
        "bast-pa.pdf",
        "--as",
        "ppk",
        "--actor",
        "Budi Santoso",
    ],
    &[
        "fire",
        "{}",
        "serahkan_ke_pa",
        "--as",
        "ppk",
        "--actor",
        "Budi Santoso",
    ],
    &[
        "attach",
        "{}",
        "laporan_akhir",
        "laporan-akhir.pdf",
        "--as",
        "pimpinan_ormas",
        "--actor",
        "Siti Aminah",
    ],
    &[
        "attach",
        "{}",
        "laporan_keuangan",
        "keuangan.pdf",
        "--as",
        "pimpinan_ormas",
        "--actor",
        "Siti Aminah",
    ],
    &[
        "attach",
        "{}",
        "permohonan_pembayaran",
        "pembayaran.pdf",
        "--as",
        "pimpinan_ormas",
        "--actor",
        "Siti Aminah",
    ],
    &[
        "fire",
        "{}",
        "ajukan_laporan_akhir",
        "--as",
        "pimpinan_ormas",
        "--actor",
        "Siti Aminah",
    ],
    &[
        "attach",
        "{}",
        "pencatatan_spse",
        "spse.pdf",
        "--as",
        "ppk",
        "--actor",
        "Budi Santoso",
    ],
    &[
        "set",
        "{}",
        "nilai_realisasi=34500000",
        "--as",
        "ppk",
        "--actor",
        "Budi Santoso",
    ],
    &[
        "fire",
        "{}",
        "tutup",
        "--as",
        "ppk",
        "--actor",
        "Budi Santoso",
        "--comment",
        "Laporan diterima",
    ],
];

fn run_partnership(session: &Session) {
    let ok = |args: &[&str]| session.ok(args);
    let workflow = root().join("workflows/swakelola-tipe-3.yaml");
    let out = ok(&["workflow", "deploy", workflow.to_str().unwrap()]);
    assert!(
        out.contains("`swakelola-tipe-3` versi 1 terpasang"),
        "{out}"
    );
    let open = [
        "case",
        "open",
        "--workflow",
        "swakelola-tipe-3",
        "--key",
        "DP3A-2025-001",
        "--organisation",
        "dp3a-palembang",
        "--field",
        "nama_kegiatan=Pendampingan perempuan dan anak korban kekerasan",
        "--field",
        "instansi=DP3A Kota Palembang",
        "--field",
        "ormas=Yayasan Intan Maharani",
        "--field",
        "tahun_anggaran=2025",
        "--party",
        "instansi=dp3a-palembang",
        "--party",
        "ormas=yayasan-intan-maharani",
        "--contact",
        "ppk=email:budi@dp3a.example",
        "--as",
        "pimpinan_ormas",
        "--actor",
        "Siti Aminah",
        "--json",
    ];
    let opened: serde_json::Value = serde_json::from_str(&ok(&open)).unwrap();
    let id = opened["case"]["id"].as_str().unwrap().to_owned();
    // Opening again with the same key and details returns the same case.
    let again: serde_json::Value = serde_json::from_str(&ok(&open)).unwrap();
    assert_eq!(again["case"]["id"], opened["case"]["id"]);
    assert_eq!(again["created"], false);

    // People call a case by its business key, or a short prefix of its id.
    let by_key: serde_json::Value =
        serde_json::from_str(&ok(&["case", "show", "DP3A-2025-001", "--json"])).unwrap();
    assert_eq!(
        by_key["case"]["id"].as_str().or(by_key["id"].as_str()),
        Some(id.as_str())
    );
    let by_prefix: serde_json::Value =
        serde_json::from_str(&ok(&["case", "show", &id[..13], "--json"])).unwrap();
    assert_eq!(by_prefix, by_key);
    // The same key opened by another organisation: the key alone is ambiguous, and says so.
    let mut other = open.to_vec();
    other[7] = "dinsos-palembang";
    other[11] = "instansi=Dinas Sosial Kota Palembang";
    other[17] = "instansi=dinsos-palembang";
    let other: serde_json::Value = serde_json::from_str(&ok(&other)).unwrap();
    let other_id = other["case"]["id"].as_str().unwrap().to_owned();
    let ambiguous = session.run(&["case", "show", "DP3A-2025-001"]);
    assert_eq!(ambiguous.status.code(), Some(1));
    for candidate in [&id, &other_id] {
        assert!(
            stderr(&ambiguous).contains(candidate.as_str()),
            "{}",
            stderr(&ambiguous)
        );
    }
    assert!(
        stderr(&ambiguous).contains("berikan id lengkapnya"),
        "{}",
        stderr(&ambiguous)
    );

    // A step out of order is refused with the allowed steps, and changes nothing.
    let refused = session.run(&[
        "case",
        "fire",
        &id,
        "terima_kak",
        "--as",
        "ppk",
        "--actor",
        "Budi Santoso",
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains(
            "Langkah «Terima KAK ke rencana kerja» tidak bisa dilakukan dari tahap «Audiensi»; yang bisa: «Catat hasil audiensi», «Batalkan»."
        ),
        "{}",
        stderr(&refused)
    );

    // The list reads as people write: stage labels and working days, in the reader's language.
    let listed = ok(&["case", "list"]);
    assert!(
        listed.contains("Audiensi") && listed.contains("hari kerja lagi"),
        "{listed}"
    );
    let listed = ok(&["case", "list", "--lang", "en"]);
    assert!(
        listed.contains("working days left") && !listed.contains("hari kerja"),
        "{listed}"
    );

    for step in STEPS {
        if step[0] == "attach" {
            std::fs::write(session.dir.join(step[3]), format!("isi {}", step[3])).unwrap();
        }
        let mut args = vec!["case"];
        args.extend(
            step.iter()
                .map(|a| if *a == "{}" { id.as_str() } else { a }),
        );
        let printed = ok(&args);
        assert!(
            printed.starts_with("DP3A-2025-001: ") && printed.contains(" — tahap: "),
            "{printed}"
        );
    }

    let shown = ok(&["case", "show", &id]);
    assert!(shown.contains("Tahap: Selesai · revisi"), "{shown}");
    assert!(shown.contains("DITUTUP"), "{shown}");
    assert!(shown.contains("Pagu anggaran: Rp34.500.000"), "{shown}");
    let history: serde_json::Value =
        serde_json::from_str(&ok(&["case", "history", &id, "--json"])).unwrap();
    assert_eq!(history.as_array().unwrap().len(), STEPS.len() + 1);
    assert!(ok(&["case", "verify", &id]).contains("rantai hash tidak berubah"));
    assert!(ok(&["case", "verify", &id, "--lang", "en"]).contains("hash chain unchanged"));
    let closed = session.run(&[
        "case",
        "fire",
        &id,
        "batalkan",
        "--as",
        "ppk",
        "--actor",
        "Budi",
        "--comment",
        "x",
    ]);
    assert_eq!(closed.status.code(), Some(1));
    assert!(
        stderr(&closed).contains("Kasus sudah ditutup (tahap «Selesai»)"),
        "{}",
        stderr(&closed)
    );
    let listed = ok(&["case", "list", "--stage", "selesai"]);
    assert!(listed.contains("DP3A-2025-001"), "{listed}");
}

#[test]
fn the_seed_partnership_from_audience_to_closed_on_sqlite() {
    run_partnership(&Session::sqlite("swakelola-e2e"));
}

#[test]
fn the_seed_partnership_from_audience_to_closed_on_postgres() {
    let Some(session) = Session::postgres("swakelola-e2e-pg") else {
        return;
    };
    run_partnership(&session);
}

#[test]
fn bad_input_is_refused_with_a_hint_and_nothing_is_written() {
    let session = Session::sqlite("swakelola-e2e-bad");
    let run = |args: &[&str]| session.run(args);
    let output = run(&["case", "show", "no-such-case"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("Kasus `no-such-case` tidak ditemukan"),
        "{}",
        stderr(&output)
    );
    let output = run(&[
        "case",
        "open",
        "--workflow",
        "swakelola-tipe-3",
        "--key",
        "K",
        "--organisation",
        "o",
        "--as",
        "ppk",
        "--actor",
        "B",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("workflow deploy"),
        "{}",
        stderr(&output)
    );
    // Malformed arguments are refused before anything is written.
    let workflow = root().join("workflows/persetujuan-dokumen.yaml");
    session.ok(&["workflow", "deploy", workflow.to_str().unwrap()]);
    let open = |extra: &[&str]| {
        let mut args = vec![
            "case",
            "open",
            "--workflow",
            "persetujuan-dokumen",
            "--key",
            "D-1",
            "--organisation",
            "o",
            "--as",
            "penyusun",
            "--actor",
            "Siti",
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let output = open(&["--field", "judul"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("`judul` bukan --field yang sah; tulis sebagai NAMA=NILAI"),
        "{}",
        stderr(&output)
    );
    let output = open(&[
        "--field",
        "judul=Laporan",
        "--contact",
        "penyusun=siti@example.org",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("harus diawali `email:` atau `webhook:`"),
        "{}",
        stderr(&output)
    );
    // Inputs the workflow cannot hold, each refused with its reason.
    for (extra, message) in [
        (
            vec!["--contact", "kepala=email:kepala@example.org"],
            "`contacts.kepala`: bukan peran dalam alur kerja `persetujuan-dokumen`",
        ),
        (
            vec!["--party", "ormas=yayasan-x"],
            "`parties.ormas`: bukan pihak dalam alur kerja `persetujuan-dokumen`",
        ),
        (
            vec!["--party", "pemeriksa=a", "--party", "pemeriksa=a"],
            "`a` sudah termasuk pihak `pemeriksa`",
        ),
        (
            vec!["--contact", "penyusun=email:siti"],
            "`siti` bukan alamat email",
        ),
        (
            vec!["--contact", "penyusun=webhook:http://hooks.example.org/x"],
            "webhook harus memakai https",
        ),
        (
            vec!["--contact", "penyusun=webhook:https://10.0.0.5/x"],
            "alamat privat, loopback atau link-local",
        ),
    ] {
        let mut args = vec!["--field", "judul=Laporan"];
        args.extend(extra);
        let output = open(&args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&output).contains(message),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    // A value that breaks a rule of the workflow, at open and when set: refused with the
    // rule's label, nothing written.
    let output = open(&[
        "--field",
        "judul=Laporan",
        "--field",
        "berlaku_mulai=2025-03-01",
        "--field",
        "berlaku_sampai=2025-02-01",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains(
            "melanggar aturan «Masa berlaku berakhir setelah dimulai»: harus «Berlaku sampai» ≥ «Berlaku mulai»"
        ),
        "{}",
        stderr(&output)
    );
    assert!(
        stdout(&run(&["case", "list"])).contains("tidak ada kasus"),
        "nothing was opened"
    );
    let opened = open(&[
        "--field",
        "judul=Laporan",
        "--field",
        "berlaku_mulai=2025-03-01",
    ]);
    assert!(opened.status.success(), "{}", stderr(&opened));
    let set = |value: &str| {
        run(&[
            "case",
            "set",
            "D-1",
            &format!("berlaku_sampai={value}"),
            "--as",
            "penyusun",
            "--actor",
            "Siti",
        ])
    };
    let refused = set("2025-02-28");
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("«Masa berlaku berakhir setelah dimulai»"),
        "{}",
        stderr(&refused)
    );
    assert!(!stdout(&run(&["case", "show", "D-1"])).contains("Berlaku sampai"));
    assert!(set("2025-12-31").status.success());
    assert!(stdout(&run(&["case", "show", "D-1"])).contains("31 Desember 2025"));
    // A record of a kind the workflow does not have, and declines it cannot take: each
    // refused with its reason (exit 1), the history unchanged.
    let events = || stdout(&run(&["case", "history", "D-1"])).lines().count();
    let before = events();
    for (args, message) in [
        (
            vec!["case", "add-record", "D-1", "pembayaran", "jumlah=Rp1.000"],
            "Tidak ada jenis catatan `pembayaran` di alur kerja ini",
        ),
        (
            vec!["case", "add-record", "D-1", "pembayaran", "jumlah"],
            "`jumlah` bukan FIELD=VALUE yang sah",
        ),
        (
            vec!["case", "decline", "D-1", "tarik", "--comment", "tidak"],
            "berlaku tanpa persetujuan bersama",
        ),
        (
            vec!["case", "decline", "D-1", "setujui", "--comment", "tidak"],
            "Langkah «Setujui» tidak bisa dilakukan dari tahap «Penyusunan»",
        ),
    ] {
        let mut args = args;
        args.extend(["--as", "penyusun", "--actor", "Siti"]);
        let output = run(&args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&output).contains(message),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    assert_eq!(events(), before, "nothing was written");
    let broken = root().join("tests/fixtures/invalid/e011-unknown-stage.yaml");
    let output = run(&["workflow", "deploy", broken.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("unknown stage `finished`"),
        "{}",
        stderr(&output)
    );
    assert!(
        !stdout(&run(&["workflow", "list"])).contains("fixture"),
        "the broken workflow was not deployed"
    );
    let output = swakelola_in(&session.dir, "mysql://localhost/x", &["case", "list"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("Alamat basis data `mysql://localhost/x` tidak didukung"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn case_verify_names_the_first_event_changed_behind_the_engines_back() {
    let session = Session::sqlite("swakelola-e2e-tamper");
    let ok = |args: &[&str]| session.ok(args);
    let workflow = root().join("workflows/persetujuan-dokumen.yaml");
    ok(&["workflow", "deploy", workflow.to_str().unwrap()]);
    let opened: serde_json::Value = serde_json::from_str(&ok(&[
        "case",
        "open",
        "--workflow",
        "persetujuan-dokumen",
        "--key",
        "DOC-1",
        "--organisation",
        "dp3a-palembang",
        "--field",
        "judul=Laporan triwulan",
        "--as",
        "penyusun",
        "--actor",
        "Siti",
        "--json",
    ]))
    .unwrap();
    let id = opened["case"]["id"].as_str().unwrap().to_owned();
    std::fs::write(session.dir.join("draf.pdf"), "draf").unwrap();
    ok(&[
        "case", "attach", &id, "draf", "draf.pdf", "--as", "penyusun", "--actor", "Siti",
    ]);
    ok(&[
        "case", "fire", &id, "ajukan", "--as", "penyusun", "--actor", "Siti",
    ]);
    assert!(ok(&["case", "verify", &id]).contains("utuh: 3 peristiwa"));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = swakelola_store::SqlStore::connect(&session.url)
            .await
            .unwrap();
        sqlx::query("UPDATE events SET actor = 'Orang lain' WHERE case_id = $1 AND seq = 2")
            .bind(id.as_str())
            .execute(store.pool())
            .await
            .unwrap();
    });
    let output = session.run(&["case", "verify", &id]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("DIUBAH DI LUAR SISTEM: peristiwa #2"),
        "{}",
        stdout(&output)
    );
}

/// An official changes post: the contacts of a role on a running case are replaced by that
/// role (or its side), and the history says so in words.
#[test]
fn contacts_of_a_running_case_are_replaced_and_recorded() {
    let session = Session::sqlite("swakelola-e2e-contacts");
    let workflow = root().join("workflows/persetujuan-dokumen.yaml");
    session.ok(&["workflow", "deploy", workflow.to_str().unwrap()]);
    session.ok(&[
        "case",
        "open",
        "--workflow",
        "persetujuan-dokumen",
        "--key",
        "SURAT-1",
        "--organisation",
        "dp3a-palembang",
        "--field",
        "judul=Laporan",
        "--contact",
        "penyusun=Siti <email:siti@dp3a.example>",
        "--as",
        "penyusun",
        "--actor",
        "Siti",
    ]);
    let replace = |role: &str| {
        session.run(&[
            "case",
            "contacts",
            "SURAT-1",
            "penyusun",
            "--contact",
            "Rina Sari <email:rina@dp3a.example>",
            "--as",
            role,
            "--actor",
            "Kepala",
        ])
    };
    let refused = replace("pemeriksa");
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("tidak boleh mengganti kontak «Penyusun»"),
        "{}",
        stderr(&refused)
    );
    let done = replace("penyusun");
    assert!(done.status.success(), "{}", stderr(&done));
    let history = session.ok(&["case", "history", "SURAT-1"]);
    assert!(
        history.contains("kontak diganti untuk «Penyusun»: Rina Sari <email:rina@dp3a.example>"),
        "{history}"
    );
    let _ = std::fs::remove_dir_all(&session.dir);
}

/// An official changes post: `case reassign` replaces them on every open case of their
/// organisation where they are the contact — each case in its own transaction, recorded in
/// its history — leaves other organisations' cases alone, refuses a role that may not, and
/// changes nothing more when run again.
#[test]
fn an_official_is_replaced_on_every_open_case_of_the_organisation() {
    let session = Session::sqlite("swakelola-e2e-reassign");
    let workflow = root().join("workflows/persetujuan-dokumen.yaml");
    session.ok(&["workflow", "deploy", workflow.to_str().unwrap()]);
    let open = |key: &str, organisation: &str, contact: &str| {
        session.ok(&[
            "case",
            "open",
            "--workflow",
            "persetujuan-dokumen",
            "--key",
            key,
            "--organisation",
            organisation,
            "--field",
            "judul=Laporan",
            "--contact",
            contact,
            "--as",
            "penyusun",
            "--actor",
            "Siti",
        ]);
    };
    open(
        "SURAT-1",
        "dp3a-palembang",
        "penyusun=Siti <email:siti@dp3a.example>",
    );
    open(
        "SURAT-2",
        "dp3a-palembang",
        "penyusun=Siti <email:siti@dp3a.example>",
    );
    open(
        "SURAT-3",
        "dp3a-palembang",
        "penyusun=Dewi <email:dewi@dp3a.example>",
    );
    open(
        "SURAT-4",
        "dinsos-palembang",
        "penyusun=Siti <email:siti@dp3a.example>",
    );
    let reassign = |role: &str| {
        session.run(&[
            "case",
            "reassign",
            "penyusun",
            "--organisation",
            "dp3a-palembang",
            "--replacing",
            "email:siti@dp3a.example",
            "--contact",
            "Rina Sari <email:rina@dp3a.example>",
            "--as",
            role,
            "--actor",
            "Kepala",
        ])
    };
    let before = session.ok(&["case", "history", "SURAT-1", "--json"]);
    let refused = reassign("pemeriksa");
    assert_eq!(refused.status.code(), Some(1), "{}", stdout(&refused));
    assert_eq!(
        stderr(&refused)
            .matches("tidak boleh mengganti kontak «Penyusun»")
            .count(),
        2,
        "{}",
        stderr(&refused)
    );
    assert!(
        stdout(&refused).contains("0 dari 3 kasus"),
        "{}",
        stdout(&refused)
    );
    assert_eq!(
        session.ok(&["case", "history", "SURAT-1", "--json"]),
        before
    );

    let done = reassign("penyusun");
    assert!(done.status.success(), "{}", stderr(&done));
    assert!(
        stdout(&done).contains("2 dari 3 kasus diganti kontaknya, 0 menolak"),
        "{}",
        stdout(&done)
    );
    for (key, contact) in [
        ("SURAT-1", "Rina Sari <email:rina@dp3a.example>"),
        ("SURAT-2", "Rina Sari <email:rina@dp3a.example>"),
    ] {
        let history = session.ok(&["case", "history", key]);
        assert!(
            history.contains(&format!("kontak diganti untuk «Penyusun»: {contact}")),
            "{key}: {history}"
        );
    }
    for key in ["SURAT-3", "SURAT-4"] {
        let history = session.ok(&["case", "history", key]);
        assert!(!history.contains("kontak diganti"), "{key}: {history}");
    }
    let again = reassign("penyusun");
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("0 dari 3 kasus"),
        "{}",
        stdout(&again)
    );
    let _ = std::fs::remove_dir_all(&session.dir);
}

/// A coalition from the command line: naming a party twice makes the first organisation its
/// lead and the second a member (nothing is silently dropped), `case show` lists both, and
/// the PPK adds and withdraws members — each recorded — while refusals change nothing.
#[test]
fn a_coalition_is_named_at_opening_and_changed_by_the_ppk() {
    let session = Session::sqlite("swakelola-e2e-coalition");
    let workflow = root().join("workflows/swakelola-tipe-3.yaml");
    session.ok(&["workflow", "deploy", workflow.to_str().unwrap()]);
    session.ok(&[
        "case",
        "open",
        "--workflow",
        "swakelola-tipe-3",
        "--key",
        "KOALISI-1",
        "--organisation",
        "dp3a-palembang",
        "--field",
        "nama_kegiatan=Pendampingan perempuan dan anak",
        "--field",
        "instansi=DP3A Kota Palembang",
        "--field",
        "ormas=Koalisi OMS Palembang",
        "--field",
        "tahun_anggaran=2025",
        "--party",
        "instansi=dp3a-palembang",
        "--party",
        "ormas=yayasan-intan-maharani",
        "--party",
        "ormas=perkumpulan-sumsel-peduli",
        "--as",
        "ppk",
        "--actor",
        "Budi",
    ]);
    let shown = session.ok(&["case", "show", "KOALISI-1"]);
    assert!(
        shown.contains(
            "Organisasi kemasyarakatan (pelaksana): yayasan-intan-maharani (pemimpin) (diundang, belum menerima), perkumpulan-sumsel-peduli (diundang, belum menerima)"
        ),
        "{shown}"
    );
    let member = |verb: &str, organisation: &str, role: &str| {
        let mut args = vec![
            "case",
            verb,
            "KOALISI-1",
            "ormas",
            organisation,
            "--as",
            role,
            "--actor",
            "Budi",
        ];
        if verb == "withdraw-member" {
            // Withdrawing a member takes a reason; a blank one is refused.
            let reason = if organisation == "lbh-palembang" {
                "  "
            } else {
                "Mengundurkan diri dari koalisi"
            };
            args.extend(["--reason", reason]);
        }
        session.run(&args)
    };
    let added = member("add-member", "lbh-palembang", "ppk");
    assert!(added.status.success(), "{}", stderr(&added));
    let before = session.ok(&["case", "history", "KOALISI-1"]);
    for (verb, organisation, role, says) in [
        ("add-member", "lbh-palembang", "ppk", "sudah termasuk pihak"),
        (
            "withdraw-member",
            "yayasan-intan-maharani",
            "ppk",
            "tidak dapat dikeluarkan",
        ),
        ("withdraw-member", "org-lain", "ppk", "tidak termasuk pihak"),
        (
            "add-member",
            "org-lain",
            "pimpinan_ormas",
            "tidak boleh mengubah organisasi anggota",
        ),
        ("withdraw-member", "lbh-palembang", "ppk", "Tuliskan alasan"),
    ] {
        let refused = member(verb, organisation, role);
        assert_eq!(refused.status.code(), Some(1), "{verb} {organisation}");
        assert!(stderr(&refused).contains(says), "{}", stderr(&refused));
    }
    assert_eq!(session.ok(&["case", "history", "KOALISI-1"]), before);
    let withdrawn = member("withdraw-member", "perkumpulan-sumsel-peduli", "ppk");
    assert!(withdrawn.status.success(), "{}", stderr(&withdrawn));
    let history = session.ok(&["case", "history", "KOALISI-1"]);
    assert!(
        history.contains(
            "organisasi bergabung dengan «Organisasi kemasyarakatan (pelaksana)»: lbh-palembang"
        ),
        "{history}"
    );
    assert!(
        history.contains(
            "organisasi keluar dari «Organisasi kemasyarakatan (pelaksana)»: perkumpulan-sumsel-peduli — “Mengundurkan diri dari koalisi”"
        ),
        "{history}"
    );
    let shown = session.ok(&["case", "show", "KOALISI-1"]);
    assert!(!shown.contains("perkumpulan-sumsel-peduli"), "{shown}");
    assert!(shown.contains("lbh-palembang"), "{shown}");
    let _ = std::fs::remove_dir_all(&session.dir);
}

/// Next year's partnership opened as the continuation of this year's: linked both ways, the
/// partners and chosen fields taken over, and `partnership show` compares the years.
#[test]
fn next_years_partnership_follows_this_years_and_the_series_shows_the_growth() {
    let session = Session::sqlite("swakelola-e2e-series");
    let workflow = root().join("workflows/swakelola-tipe-3.yaml");
    session.ok(&["workflow", "deploy", workflow.to_str().unwrap()]);
    let open = |key: &str, extra: &[&str]| {
        let mut args = vec![
            "case",
            "open",
            "--workflow",
            "swakelola-tipe-3",
            "--key",
            key,
            "--organisation",
            "dp3a-palembang",
            "--as",
            "ppk",
            "--actor",
            "Budi",
        ];
        args.extend(extra);
        session.run(&args)
    };
    let first = open(
        "DP3A-2024-001",
        &[
            "--field",
            "nama_kegiatan=Pendampingan perempuan dan anak",
            "--field",
            "instansi=DP3A Kota Palembang",
            "--field",
            "ormas=Yayasan Intan Maharani",
            "--field",
            "tahun_anggaran=2024",
            "--field",
            "pagu=Rp34.500.000",
            "--party",
            "ormas=yayasan-intan-maharani",
        ],
    );
    assert!(first.status.success(), "{}", stderr(&first));
    // A field to carry that the first year lacks: refused, nothing opened.
    let refused = open(
        "DP3A-2025-001",
        &["--follows", "DP3A-2024-001", "--carry", "nilai_kontrak"],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("belum diisi pada `DP3A-2024-001`"),
        "{}",
        stderr(&refused)
    );
    let second = open(
        "DP3A-2025-001",
        &[
            "--follows",
            "DP3A-2024-001",
            "--carry",
            "nama_kegiatan",
            "--carry",
            "instansi",
            "--carry",
            "ormas",
            "--field",
            "tahun_anggaran=2025",
            "--field",
            "pagu=Rp50.000.000",
        ],
    );
    assert!(second.status.success(), "{}", stderr(&second));
    let shown = session.ok(&["case", "show", "DP3A-2025-001"]);
    assert!(shown.contains("Lanjutan dari: DP3A-2024-001"), "{shown}");
    assert!(
        shown.contains("Organisasi kemasyarakatan (pelaksana): yayasan-intan-maharani"),
        "the partners are taken over: {shown}"
    );
    let earlier = session.ok(&["case", "show", "DP3A-2024-001"]);
    assert!(
        earlier.contains("Dilanjutkan oleh: DP3A-2025-001"),
        "{earlier}"
    );
    let series = session.ok(&["partnership", "show", "DP3A-2024-001"]);
    assert!(series.starts_with("Kemitraan: 2 tahun"), "{series}");
    assert!(
        series.contains("2024 · DP3A-2024-001 (dp3a-palembang) · ")
            && series.contains("Pagu anggaran Rp34.500.000"),
        "{series}"
    );
    assert!(
        series.contains("Pagu anggaran Rp50.000.000 (+44,9 %)"),
        "{series}"
    );
    // Carrying fields without saying from where, and the series of a case that does not
    // exist: refused with what to do, nothing opened.
    let alone = open("DP3A-2026-001", &["--carry", "nama_kegiatan"]);
    assert_eq!(alone.status.code(), Some(1));
    assert!(
        stderr(&alone).contains("sebutkan juga kasus yang dilanjutkan"),
        "{}",
        stderr(&alone)
    );
    let nowhere = session.run(&["partnership", "show", "TIDAK-ADA-001"]);
    assert_eq!(nowhere.status.code(), Some(1));
    assert!(
        !session.ok(&["case", "list"]).contains("DP3A-2026-001"),
        "nothing was opened"
    );
    // The operator sees how many open cases the version still carries.
    let listed = session.ok(&["workflow", "list"]);
    let line = listed
        .lines()
        .find(|l| l.starts_with("swakelola-tipe-3"))
        .unwrap_or_default();
    assert!(line.ends_with("2 kasus terbuka"), "{listed}");
    let _ = std::fs::remove_dir_all(&session.dir);
}

/// `workflow diff` names what changed between two deployed versions, and nothing when
/// nothing did.
#[test]
fn workflow_diff_names_what_changed_between_versions() {
    let session = Session::sqlite("swakelola-e2e-diff");
    let shipped = root().join("workflows/swakelola-tipe-3.yaml");
    session.ok(&["workflow", "deploy", shipped.to_str().unwrap()]);
    let text = std::fs::read_to_string(&shipped).unwrap();
    let changed = text
        .replacen(
            "    label: Reviu KAK oleh instansi\n",
            "    label: Reviu KAK oleh Tim Persiapan\n",
            1,
        )
        .replacen("notify_at: \"08:00\"", "notify_at: \"09:00\"", 1);
    assert_ne!(changed, text, "the edits apply");
    let folder = session.dir.join("v2");
    std::fs::create_dir_all(folder.join("calendars")).unwrap();
    for entry in std::fs::read_dir(root().join("workflows/calendars")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(
            entry.path(),
            folder.join("calendars").join(entry.file_name()),
        )
        .unwrap();
    }
    std::fs::write(folder.join("swakelola-tipe-3.yaml"), changed).unwrap();
    session.ok(&[
        "workflow",
        "deploy",
        folder.join("swakelola-tipe-3.yaml").to_str().unwrap(),
    ]);
    let diff = session.ok(&["workflow", "diff", "swakelola-tipe-3", "1", "2"]);
    assert!(diff.contains("Pengaturan: ~ notify_at"), "{diff}");
    assert!(diff.contains("Tahap:\n    ~ reviu_kak (label)"), "{diff}");
    assert!(!diff.contains("Langkah:"), "{diff}");
    let same = session.ok(&["workflow", "diff", "swakelola-tipe-3", "1", "1"]);
    assert!(same.contains("tidak ada perbedaan"), "{same}");
    let missing = session.run(&["workflow", "diff", "swakelola-tipe-3", "1", "9"]);
    assert_eq!(missing.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&session.dir);
}

/// An administrator deploys version 2 while cases run, previews the example plan (nothing
/// changes), is stopped by a broken plan and by a missing name, applies it, and finds the
/// move in each case's history; running it again does nothing.
#[test]
fn an_administrator_previews_then_migrates_the_running_cases() {
    let session = Session::sqlite("swakelola-e2e-migrate");
    let shipped = root().join("workflows/swakelola-tipe-3.yaml");
    session.ok(&["workflow", "deploy", shipped.to_str().unwrap()]);
    for key in ["DP3A-2027-001", "DP3A-2027-002"] {
        session.ok(&[
            "case",
            "open",
            "--workflow",
            "swakelola-tipe-3",
            "--key",
            key,
            "--organisation",
            "dp3a-palembang",
            "--field",
            "nama_kegiatan=Pendampingan perempuan dan anak",
            "--field",
            "instansi=DP3A Kota Palembang",
            "--field",
            "ormas=Yayasan Intan Maharani",
            "--field",
            "tahun_anggaran=2027",
            "--party",
            "instansi=dp3a-palembang",
            "--party",
            "ormas=yayasan-intan-maharani",
            "--as",
            "pimpinan_ormas",
            "--actor",
            "Siti Aminah",
        ]);
    }
    let v2 = root().join("workflows/migrations/swakelola-tipe-3-v2.yaml");
    session.ok(&["workflow", "deploy", v2.to_str().unwrap()]);
    let plan = root().join("workflows/migrations/plans/2027-v1-ke-v2.yaml");
    let plan = plan.to_str().unwrap();

    // A plan naming a version that is not deployed: diagnosed, nothing changes.
    let broken = session.dir.join("rusak.yaml");
    std::fs::write(
        &broken,
        "migration: ke-tiga\nworkflow: swakelola-tipe-3\nfrom: [1]\nto: 3\n",
    )
    .unwrap();
    let refused = session.run(&["workflow", "migrate", broken.to_str().unwrap(), "--dry-run"]);
    assert_eq!(refused.status.code(), Some(1));
    let text = stderr(&refused);
    assert!(text.contains("rusak.yaml:4:5: error[E060]"), "{text}");
    assert!(text.contains("tidak ada kasus yang diubah"), "{text}");

    // A plan that cannot be read, or is not YAML: refused the same way, nothing changes.
    let missing = session.run(&["workflow", "migrate", "tidak-ada.yaml", "--dry-run"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("tidak ada yang diubah"),
        "{}",
        stderr(&missing)
    );
    std::fs::write(&broken, "migration: [tidak\n").unwrap();
    let garbled = session.run(&["workflow", "migrate", broken.to_str().unwrap(), "--dry-run"]);
    assert_eq!(garbled.status.code(), Some(1));
    assert!(
        stderr(&garbled).contains("error[E001]"),
        "{}",
        stderr(&garbled)
    );

    // The preview: per case, the deadline that moves and the guard newly unmet.
    let preview = session.ok(&["workflow", "migrate", plan, "--dry-run"]);
    assert!(preview.contains("Belum ada yang diubah"), "{preview}");
    assert!(
        preview.contains("DP3A-2027-001 (dp3a-palembang) «Audiensi»: akan dipindahkan"),
        "{preview}"
    );
    assert!(preview.contains("(+5 hari kerja)"), "{preview}");
    assert!(
        preview.contains("syarat baru belum dipenuhi: «Catat hasil audiensi»: «Surat permohonan audiensi dari Ormas» belum dilampirkan"),
        "{preview}"
    );
    assert!(preview.contains("2 kasus: 2 akan dipindahkan"), "{preview}");
    let listed = session.ok(&["workflow", "list"]);
    assert!(
        listed.contains("v1") && listed.contains("2 kasus terbuka"),
        "{listed}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&session.ok(&["workflow", "migrate", plan, "--dry-run", "--json"]))
            .unwrap();
    assert_eq!(json["cases"][0]["outcome"], "would_migrate");
    assert_eq!(json["cases"][0]["moved"][0]["working_days"], 5);
    assert_eq!(json["summary"]["migrated"], 2);

    // Applying needs a name for the history.
    let anonymous = session.run(&["workflow", "migrate", plan]);
    assert_eq!(anonymous.status.code(), Some(2));
    assert!(stderr(&anonymous).contains("--actor"));

    let applied = session.ok(&["workflow", "migrate", plan, "--actor", "Admin Kota"]);
    assert!(applied.contains("2 kasus: 2 dipindahkan"), "{applied}");
    let history = session.ok(&["case", "history", "DP3A-2027-001"]);
    assert!(
        history.contains("Admin Kota (operator sistem)  dipindahkan dari versi 1 ke versi 2 alur kerja (rencana v1-ke-v2-2027)"),
        "{history}"
    );
    let shown = session.ok(&["case", "show", "DP3A-2027-001"]);
    assert!(shown.contains("(versi 2)"), "{shown}");
    let listed = session.ok(&["workflow", "list"]);
    assert!(
        listed
            .lines()
            .any(|l| l.contains(" v2 ") && l.contains("2 kasus terbuka")),
        "{listed}"
    );
    let again = session.ok(&["workflow", "migrate", plan, "--actor", "Admin Kota"]);
    assert!(
        again.contains("Tidak ada kasus terbuka yang diambil rencana ini."),
        "{again}"
    );
    let _ = std::fs::remove_dir_all(&session.dir);
}
