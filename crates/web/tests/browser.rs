//! The pages in a real browser: headless Chromium driven through chromedriver (WebDriver).
//! Two people of two organisations, each in their own browser session, take the seed case from
//! audience to closed: the yayasan records the audience and hands over its terms of
//! reference, the agency asks for a revision with a reason, and so on to the final report —
//! each step first seen on *Tugas saya*, its documents attached and fields filled through the
//! page's forms, one step done with the keyboard alone. Refusals, another organisation's case
//! and a stale form show what they must. Screenshots at desktop and phone width are written
//! to `target/tmp/screenshots/`.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium chromium-driver`).
//! Without them the test says SKIPPED and passes, unless `SWAKELOLA_REQUIRE_BROWSER` is set
//! (as `.ci/run` does), when it fails.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use swakelola_api::AppState;
use swakelola_store::Store;

use common::{AGENCY, ORMAS, OTHER, PASSWORD, now};

fn tool(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_driver(chromedriver: &Path) -> Driver {
    let port = free_port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Driver { child, port }
}

async fn browser(driver: &Driver, chromium: &Path) -> Client {
    // Installed once per process; a second install only reports that one is there.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000", "--lang=id"],
            // People of a Dinas read Indonesian: the browser asks for it first.
            "prefs": {"intl.accept_languages": "id-ID,id"},
        }),
    );
    ClientBuilder::rustls()
        .expect("a TLS setup")
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a browser session")
}

struct Person<'a> {
    client: Client,
    base: &'a str,
}

impl Person<'_> {
    async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
        // Every page has its content in `main`; wait for it on a slow machine.
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("main#isi"))
            .await
            .unwrap_or_else(|e| panic!("{path} did not load: {e}"));
    }

    async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        url.path().to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Clicks what `css` finds and waits until the next page has loaded (a form's POST is
    /// answered with a redirect, so the address alone does not tell).
    async fn click(&self, css: &str) {
        self.client
            .execute("document.documentElement.dataset.left = '1';", vec![])
            .await
            .unwrap();
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap();
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("html:not([data-left]) main#isi"))
            .await
            .unwrap_or_else(|e| panic!("no new page after clicking {css}: {e}"));
        loop {
            let ready = self
                .client
                .execute("return document.readyState;", vec![])
                .await
                .unwrap();
            if ready == "complete" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Clicks what `css` finds when that does not leave the page (a checkbox).
    async fn tick(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// Presses keys as a person at the keyboard would (no element is targeted).
    async fn press(&self, keys: &str) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let mut actions = KeyActions::new("keyboard".into());
        for key in keys.chars() {
            actions = actions
                .then(KeyAction::Down { value: key })
                .then(KeyAction::Up { value: key });
        }
        self.client.perform_actions(actions).await.unwrap();
    }

    /// Whether the focused element is the one `css` finds.
    async fn focused(&self, css: &str) -> bool {
        let script = format!(
            "return document.activeElement === document.querySelector({});",
            serde_json::to_string(css).unwrap()
        );
        self.client.execute(&script, vec![]).await.unwrap() == serde_json::json!(true)
    }

    /// Takes `transition` with the keyboard alone: Tab from the top of the page to the step's
    /// reason, type it, Tab to the step's button, Enter. Fails if either cannot be reached.
    async fn keyboard_step(&self, transition: &str, comment: &str) {
        use fantoccini::key::Key;
        let form = format!("form[action$='/langkah/{transition}']");
        let reason = format!("{form} textarea");
        let button = format!("{form} button");
        let tab = char::from(Key::Tab).to_string();
        let mut presses = 0;
        while !self.focused(&reason).await {
            presses += 1;
            assert!(
                presses < 400,
                "the reason of {transition} cannot be reached with Tab"
            );
            self.press(&tab).await;
        }
        self.press(comment).await;
        self.press(&tab).await;
        assert!(
            self.focused(&button).await,
            "Tab after the reason of {transition} does not reach its button"
        );
        self.client
            .execute("document.documentElement.dataset.left = '1';", vec![])
            .await
            .unwrap();
        self.press(&char::from(Key::Enter).to_string()).await;
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("html:not([data-left]) main#isi"))
            .await
            .unwrap_or_else(|e| panic!("Enter on {transition} did not send the form: {e}"));
    }

    async fn sign_in(&self, email: &str) {
        self.open("/").await;
        assert_eq!(self.path().await, "/masuk");
        self.type_into("#email", email).await;
        self.type_into("#sandi", PASSWORD).await;
        self.click("main form button[type=submit]").await;
        assert_eq!(self.path().await, "/", "{}", self.source().await);
    }

    /// Takes the step `transition` on the open case page with `comment`.
    async fn take_step(&self, transition: &str, comment: &str) {
        let form = format!("form[action$='/langkah/{transition}']");
        self.type_into(&format!("{form} textarea"), comment).await;
        self.click(&format!("{form} button")).await;
    }

    async fn attach(&self, document_type: &str, file: &Path) {
        self.client
            .find(Locator::Css("#jenis"))
            .await
            .unwrap()
            .select_by_value(document_type)
            .await
            .unwrap();
        self.choose_file(file).await;
        self.click("form[enctype='multipart/form-data'] button")
            .await;
    }

    /// Puts `file` into the page's file field (`#berkas`).
    async fn choose_file(&self, file: &Path) {
        self.client
            .find(Locator::Css("#berkas"))
            .await
            .unwrap()
            .send_keys(&file.display().to_string())
            .await
            .unwrap();
    }

    async fn set_field(&self, field: &str, value: &str) {
        self.client
            .find(Locator::Css("#data"))
            .await
            .unwrap()
            .select_by_value(field)
            .await
            .unwrap();
        self.type_into("#nilai", value).await;
        self.click("form[action$='/data'] button").await;
    }

    /// Runs axe-core in the page (when `SWAKELOLA_AXE_JS` names its file) and fails on any
    /// serious or critical violation (labels, contrast, names of controls, …).
    async fn check_accessibility(&self, page: &str) {
        if let Some(violations) = self.accessibility_violations(page).await {
            assert_eq!(violations, serde_json::json!([]), "accessibility of {page}");
        }
    }

    /// The serious and critical violations axe-core finds in the page, or `None` when the
    /// check cannot run here.
    async fn accessibility_violations(&self, page: &str) -> Option<serde_json::Value> {
        let Some(path) = std::env::var_os("SWAKELOLA_AXE_JS") else {
            assert!(
                std::env::var_os("SWAKELOLA_REQUIRE_BROWSER").is_none(),
                "SWAKELOLA_REQUIRE_BROWSER is set but SWAKELOLA_AXE_JS is not (see .ci/axe.sh)"
            );
            eprintln!(
                "SKIPPED: accessibility check of {page} (set SWAKELOLA_AXE_JS, see .ci/axe.sh)"
            );
            return None;
        };
        let axe = std::fs::read_to_string(path).expect("axe.min.js");
        self.client.execute(&axe, vec![]).await.expect("axe loads");
        let violations = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] })
                   .then(r => done(r.violations
                     .filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => v.id + ': ' + v.help + ' — ' + v.nodes.map(n => n.target.join(' ')).join(', '))));",
                vec![],
            )
            .await
            .expect("axe runs");
        Some(violations)
    }

    async fn screenshot(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        for (width, suffix) in [(1280, "desktop"), (360, "phone")] {
            self.client.set_window_size(width, 1000).await.unwrap();
            let png = self.client.screenshot().await.unwrap();
            std::fs::write(dir.join(format!("{name}-{suffix}.png")), png).unwrap();
        }
        self.client.set_window_size(1280, 1000).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_organisations_move_the_seed_case_in_two_browsers() {
    let (Some(chromium), Some(chromedriver)) = (
        tool("chromium").or_else(|| tool("chromium-browser")),
        tool("chromedriver"),
    ) else {
        assert!(
            std::env::var_os("SWAKELOLA_REQUIRE_BROWSER").is_none(),
            "SWAKELOLA_REQUIRE_BROWSER is set but chromium or chromedriver is missing"
        );
        eprintln!(
            "SKIPPED: the browser test needs chromium and chromedriver (apt-get install chromium chromium-driver)"
        );
        return;
    };
    let store = common::prepare(common::sqlite().await).await;
    let id = common::open_case(
        &store,
        "DP3A-2025-001",
        "Pendampingan perempuan dan anak",
        AGENCY,
    )
    .await;
    common::open_case(&store, "DINSOS-2025-001", "Kasus organisasi lain", OTHER).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // The clock of the seed story: two days after the audience.
    let state = AppState {
        clock: common::now,
        ..AppState::new(store.clone())
    };
    tokio::spawn(swakelola_api::serve_with(
        listener,
        state,
        swakelola_web::pages(swakelola_web::WebConfig::default()),
        std::future::pending(),
    ));
    let driver = start_driver(&chromedriver).await;
    let files = swakelola_testkit::scratch_dir("swakelola-browser");
    let file = |name: &str| {
        let path = files.join(name);
        std::fs::write(&path, format!("%PDF-1.4 {name}")).unwrap();
        path
    };

    // The yayasan's head signs in and finds the case on *Tugas saya*.
    let siti = Person {
        client: browser(&driver, &chromium).await,
        base: &base,
    };
    siti.open("/masuk").await;
    siti.check_accessibility("the sign-in page").await;
    siti.sign_in("siti@yayasan.example").await;
    let tasks = siti.source().await;
    assert!(tasks.contains("DP3A-2025-001"), "{tasks}");
    siti.check_accessibility("Tugas saya").await;
    // The check can fail: a field without a label is caught.
    siti.client
        .execute(
            "document.querySelector('main').appendChild(document.createElement('input'));",
            vec![],
        )
        .await
        .unwrap();
    if let Some(violations) = siti.accessibility_violations("a broken page").await {
        assert!(
            violations.to_string().contains("label"),
            "an unlabelled input went unnoticed: {violations}"
        );
    }
    siti.open("/").await;
    siti.screenshot("tugas-saya").await;
    siti.click("a[href='/kasus/DP3A-2025-001']").await;
    assert_eq!(siti.path().await, "/kasus/DP3A-2025-001");
    siti.check_accessibility("the case page").await;
    siti.screenshot("kasus").await;

    // A step whose document is missing is refused with the reason; the comment stays.
    siti.take_step("catat_audiensi", "Audiensi 10 Desember selesai")
        .await;
    let refused = siti.source().await;
    assert!(refused.contains("belum dilampirkan"), "{refused}");
    assert!(
        refused.contains("Audiensi 10 Desember selesai"),
        "{refused}"
    );

    // Attach the minutes, then record the audience.
    siti.attach("notulen_audiensi", &file("notulen.pdf")).await;
    let attached = siti.source().await;
    assert!(attached.contains("notulen.pdf"), "{attached}");
    siti.take_step("catat_audiensi", "Audiensi 10 Desember selesai")
        .await;
    assert!(siti.source().await.contains("Tersimpan."));
    // The terms of reference and the cost estimate, the estimate, the handover.
    siti.attach("kak", &file("kak.pdf")).await;
    siti.attach("rab", &file("rab.pdf")).await;
    siti.set_field("nilai_estimasi", "Rp34.500.000").await;
    let page = siti.source().await;
    assert!(page.contains("Rp34.500.000"), "{page}");
    siti.take_step("serahkan_kak", "KAK dan RAB terlampir")
        .await;
    assert_eq!(store.case(&id).await.unwrap().state.stage, "reviu_kak");
    // Siti keeps the page open (a form on it) while the agency decides.
    siti.open("/kasus/DP3A-2025-001").await;

    // The agency's PPK, in another browser, asks for a revision with a reason.
    let budi = Person {
        client: browser(&driver, &chromium).await,
        base: &base,
    };
    budi.sign_in("budi@dp3a.example").await;
    assert!(budi.source().await.contains("DP3A-2025-001"));
    budi.open("/kasus/DP3A-2025-001").await;
    // The reason is required: the browser does not send the form without one.
    let valid_without_reason = budi
        .client
        .execute(
            "return document.querySelector(\"form[action$='/langkah/minta_revisi_kak']\").checkValidity();",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        valid_without_reason,
        serde_json::json!(false),
        "{}",
        budi.source().await
    );
    budi.take_step("minta_revisi_kak", "Rincian RAB belum sesuai standar biaya")
        .await;
    assert_eq!(store.case(&id).await.unwrap().state.stage, "revisi_kak");

    // Siti's page is stale now: her form brings the conflict page, her text kept.
    siti.take_step("batalkan", "Kami mundur dari kegiatan ini")
        .await;
    let stale = siti.source().await;
    assert!(stale.contains("Orang lain mengubah kasus ini"), "{stale}");
    assert!(stale.contains("Kami mundur dari kegiatan ini"), "{stale}");
    assert_eq!(store.case(&id).await.unwrap().state.stage, "revisi_kak");

    // Another organisation's case looks exactly like a missing one.
    budi.open("/kasus/DINSOS-2025-001").await;
    let theirs = budi.source().await;
    budi.open("/kasus/TIDAK-ADA-001").await;
    let missing = budi.source().await;
    assert!(theirs.contains("Tidak ditemukan"), "{theirs}");
    assert_eq!(theirs, missing);

    // The case list and the agenda, as the agency sees them.
    budi.open("/kasus").await;
    assert!(budi.source().await.contains("DP3A-2025-001"));
    budi.check_accessibility("the case list").await;
    budi.screenshot("daftar-kasus").await;
    budi.open("/agenda?hari=200").await;
    assert!(budi.source().await.contains("DP3A-2025-001"));
    budi.check_accessibility("the agenda").await;
    budi.screenshot("agenda").await;

    // The history names who did what, with the reason.
    siti.open("/kasus/DP3A-2025-001").await;
    let history = siti.source().await;
    assert!(
        history.contains("Rincian RAB belum sesuai standar biaya"),
        "{history}"
    );

    // The rest of the partnership, to closed: for each step, whoever holds one of its roles
    // attaches what it needs, fills in its fields, finds the step on *Tugas saya* and takes it.
    let engine = store.engine_for("swakelola-tipe-3", 1).await.unwrap();
    let workflow = &engine.workflow;
    let people: [(&Person, &[&str]); 2] = [
        (&siti, &["pimpinan_ormas", "fasilitator"]),
        (&budi, &["ppk", "tim_persiapan", "pa_kpa", "perencana"]),
    ];
    let holder = |allowed: &[String]| {
        people
            .iter()
            .find(|(_, roles)| roles.iter().any(|r| allowed.iter().any(|a| a == r)))
            .map(|(person, _)| *person)
            .unwrap_or_else(|| panic!("nobody holds any of {allowed:?}"))
    };
    for transition in [
        "serahkan_revisi_kak",
        "terima_kak",
        "tandatangani_mou",
        "masuk_apbd",
        "sahkan_dpa",
        "umumkan_rup",
        "kirim_permintaan_kesediaan",
        "nyatakan_kesediaan",
        "tetapkan_ormas",
        "ajukan_proposal",
        "setujui_proposal",
        "tandatangani_kontrak",
        "serahkan_hasil",
        "tandatangani_bast",
        "serahkan_ke_pa",
        "ajukan_laporan_akhir",
        "tutup",
    ] {
        let t = workflow.transition(transition).unwrap();
        let mut fields = t.guard.fields.clone();
        fields.extend(t.guard.conditions.iter().map(|c| c.field.clone()));
        for field in fields {
            if store
                .case(&id)
                .await
                .unwrap()
                .state
                .fields
                .contains_key(&field)
            {
                continue;
            }
            let value = match field.as_str() {
                "sumber_dana" => "apbd",
                "rute_penetapan" => "permintaan_kesediaan",
                "tanggal_kontrak" => "2025-03-24",
                "tanggal_selesai" => "2025-06-30",
                "pagu" | "nilai_kontrak" => "Rp34.500.000",
                "nilai_realisasi" => "Rp34.000.000",
                _ => "027/2025",
            };
            let person = holder(&workflow.field(&field).unwrap().set_by);
            person.open("/kasus/DP3A-2025-001").await;
            person.set_field(&field, value).await;
            assert!(
                store
                    .case(&id)
                    .await
                    .unwrap()
                    .state
                    .fields
                    .contains_key(&field),
                "{field} not set: {}",
                person.source().await
            );
        }
        for document in &t.guard.documents {
            if store.case(&id).await.unwrap().state.has_document(document) {
                continue;
            }
            let attach_by = &workflow.document(document).unwrap().attach_by;
            let person = holder(if attach_by.is_empty() {
                &t.roles
            } else {
                attach_by
            });
            person.open("/kasus/DP3A-2025-001").await;
            person
                .attach(document, &file(&format!("{document}.pdf")))
                .await;
            assert!(
                store.case(&id).await.unwrap().state.has_document(document),
                "{document} not attached: {}",
                person.source().await
            );
        }
        let label = swakelola_view::Labels::new(workflow, swakelola_core::format::Language::Id)
            .text(&t.label);
        // A joint sign-off (the MoU, the contract) takes each signer's approval — a role's, or
        // a member organisation's through a role of its party; the last one fires it.
        let state = store.case(&id).await.unwrap().state;
        let party_roles: Vec<String> = t
            .roles
            .iter()
            .filter(|r| {
                workflow.role(r).and_then(|r| r.party.as_deref())
                    == t.requires_each_member_of.as_deref()
            })
            .cloned()
            .collect();
        let signers: Vec<&Person> = match swakelola_core::step::signers(&state, t) {
            signers if signers.is_empty() => vec![holder(&t.roles)],
            signers => signers
                .iter()
                .map(
                    |signer| match swakelola_core::state::signer_organisation(signer) {
                        Some(_) => holder(&party_roles),
                        None => holder(std::slice::from_ref(signer)),
                    },
                )
                .collect(),
        };
        for (n, person) in signers.iter().enumerate() {
            person.open("/").await;
            let tasks = person.source().await;
            assert!(
                tasks.contains("DP3A-2025-001") && tasks.contains(&label),
                "{transition} ({label}) is not on Tugas saya: {tasks}"
            );
            if transition == "tandatangani_mou" && n > 0 {
                // The agency has signed; the yayasan signs the MoU for itself and finds it
                // among its tasks.
                person.screenshot("tugas-mou-ormas").await;
            }
            person.open("/kasus/DP3A-2025-001").await;
            if transition == "terima_kak" {
                // Done with the keyboard alone: Tab to the step's reason, type it, Tab to
                // its button, Enter.
                person
                    .keyboard_step(transition, "KAK revisi sudah sesuai")
                    .await;
            } else {
                person.take_step(transition, "Sesuai").await;
            }
            if n + 1 < signers.len() {
                // Approved, not yet in effect: the page says who is still to sign.
                let waiting = person.source().await;
                assert!(waiting.contains("Menunggu persetujuan"), "{waiting}");
                person
                    .check_accessibility("a joint sign-off half done")
                    .await;
                person.screenshot("tanda-tangan-bersama").await;
                assert_eq!(store.case(&id).await.unwrap().state.stage, t.from[0]);
            }
        }
        assert_eq!(
            store.case(&id).await.unwrap().state.stage,
            t.to,
            "{transition}: {}",
            signers[signers.len() - 1].source().await
        );
        if transition == "tandatangani_kontrak" {
            // The first termin is paid: the PPK records it through the case page's form.
            budi.open("/kasus/DP3A-2025-001").await;
            budi.type_into("#isi-pembayaran-termin", "1").await;
            budi.type_into("#isi-pembayaran-jumlah", "Rp20.700.000")
                .await;
            // A date input takes the date as a person types it in their locale; set it
            // directly, as the browser would submit it.
            budi.client
                .execute(
                    "document.querySelector('#isi-pembayaran-tanggal_sp2d').value = '2025-07-15';",
                    vec![],
                )
                .await
                .unwrap();
            budi.type_into("#isi-pembayaran-nomor_sp2d", "00123/SP2D/2025")
                .await;
            budi.click("form[action$='/catatan/pembayaran'] button")
                .await;
            let paid = budi.source().await;
            assert!(paid.contains("Total Jumlah: Rp20.700.000"), "{paid}");
            assert!(paid.contains("Sisa Nilai kontrak: Rp"), "{paid}");
            assert_eq!(
                store.case(&id).await.unwrap().state.records["pembayaran"].count,
                1
            );
            budi.check_accessibility("the case page with a payment")
                .await;
            budi.client
                .execute(
                    "document.getElementById('catatan-pembayaran').scrollIntoView();",
                    vec![],
                )
                .await
                .unwrap();
            budi.screenshot("pembayaran").await;
        }
    }
    let closed = store.case(&id).await.unwrap();
    assert!(closed.state.is_closed());
    assert_eq!(store.verify(&id).await.unwrap().first_tampered, None);
    budi.open("/kasus/DP3A-2025-001").await;
    let page = budi.source().await;
    assert!(page.contains("Selesai"), "{page}");
    budi.screenshot("kasus-selesai").await;

    // Next year's partnership continues this one: linked both ways, partners taken over.
    let next_year = store
        .open(
            &swakelola_store::OpenCase {
                origin: Some(swakelola_store::Origin {
                    link: swakelola_core::LinkKind::Follows,
                    case_id: id.clone(),
                    carry: vec!["nama_kegiatan".into(), "instansi".into(), "ormas".into()],
                }),
                workflow_id: "swakelola-tipe-3".into(),
                organisation: AGENCY.into(),
                business_key: "DP3A-2026-001".into(),
                actor: swakelola_core::Actor::new("Budi Santoso", "ppk"),
                fields: vec![
                    ("tahun_anggaran".into(), "2026".into()),
                    ("pagu".into(), "Rp50.000.000".into()),
                ],
                parties: Default::default(),
            },
            now(),
        )
        .await
        .unwrap()
        .case;
    store
        .accept_invitation(&next_year.id, ORMAS, "Siti Aminah", now())
        .await
        .unwrap();
    budi.open("/kasus/DP3A-2026-001").await;
    let page = budi.source().await;
    assert!(
        page.contains("Lanjutan dari") && page.contains("href=\"/kasus/DP3A-2025-001\""),
        "{page}"
    );
    assert!(page.contains("yayasan-intan-maharani"), "{page}");
    budi.check_accessibility("a case with a related case").await;
    budi.screenshot("kasus-lanjutan").await;
    // The parties, taken over from the year before, head the facts.
    budi.client
        .execute(
            "document.querySelector('dl.facts').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    budi.screenshot("kasus-pihak").await;
    budi.click("a[href='/kasus/DP3A-2025-001']").await;
    assert!(budi.source().await.contains("Dilanjutkan oleh"));

    // The organisation's administrator: accounts, tokens, undelivered messages.
    let rina = Person {
        client: browser(&driver, &chromium).await,
        base: &base,
    };
    rina.sign_in("rina@dp3a.example").await;
    rina.open("/admin/pengguna").await;
    rina.type_into("#nama", "Andi Wijaya").await;
    rina.type_into("#email", "andi@dp3a.example").await;
    rina.tick("input[name=peran][value=pa_kpa]").await;
    rina.click("form[action='/admin/pengguna/baru'] button")
        .await;
    let created = rina.source().await;
    assert!(created.contains("/sandi/"), "{created}");
    rina.check_accessibility("the accounts page").await;
    rina.screenshot("admin-pengguna").await;
    rina.open("/admin/token").await;
    rina.type_into("#nama", "Sistem keuangan DP3A").await;
    rina.tick("input[name=peran][value=ppk]").await;
    rina.click("form[action='/admin/token/baru'] button").await;
    let issued = rina.source().await;
    assert!(issued.contains("swk_"), "{issued}");
    rina.check_accessibility("the tokens page").await;
    rina.screenshot("admin-token").await;
    rina.open("/admin/kotak-keluar").await;
    rina.check_accessibility("the undelivered messages").await;
    rina.screenshot("admin-kotak-keluar").await;

    // The installation's operator checks a first draft of a workflow: every mistake at once,
    // each at its line and column; then deploys a valid one.
    let operator = Person {
        client: browser(&driver, &chromium).await,
        base: &base,
    };
    operator.sign_in("operator@swakelola.example").await;
    operator.open("/admin/alur").await;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap();
    operator
        .choose_file(&root.join("tests/fixtures/invalid/e004-a-first-draft.yaml"))
        .await;
    operator
        .click("form[enctype='multipart/form-data'] button")
        .await;
    let checked = operator.source().await;
    for expected in [
        "23:9",
        "24:5",
        "unknown key `lable`",
        "did you mean `label`?",
        "51:9",
        "unknown stage `dnoe`",
        "52:5",
    ] {
        assert!(
            checked.contains(expected),
            "{expected} missing from {checked}"
        );
    }
    operator.check_accessibility("the workflow check").await;
    operator.screenshot("admin-alur").await;
    operator
        .choose_file(&root.join("workflows/persetujuan-dokumen.yaml"))
        .await;
    operator
        .click("form[enctype='multipart/form-data'] button")
        .await;
    operator.click("form textarea[readonly] ~ button").await;
    let deployed = operator.source().await;
    assert!(
        deployed.contains("persetujuan-dokumen versi 1 terpasang"),
        "{deployed}"
    );

    siti.client.close().await.unwrap();
    budi.client.close().await.unwrap();
    rina.client.close().await.unwrap();
    operator.client.close().await.unwrap();
}
