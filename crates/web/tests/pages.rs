//! The web pages over HTTP, on SQLite and PostgreSQL: signing in, acting on a case through
//! its forms, and what must never work — a form without its token, another organisation's
//! case, a stale form, script in a value, a session after sign-out or after the account was
//! disabled, guessing passwords.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use swakelola_api::AppState;
use swakelola_store::{SqlStore, Store};
use tower::ServiceExt;

mod common;

use common::{AGENCY, OTHER, PASSWORD, now, postgres, sqlite};

/// The API and the pages over one store, with a fixed clock.
struct Site {
    app: axum::Router,
    store: Arc<SqlStore>,
}

/// A browser: keeps its cookies, follows nothing.
struct Browser<'a> {
    site: &'a Site,
    cookies: BTreeMap<String, String>,
}

struct Page {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The value of the first hidden form token on the page.
    fn csrf(&self) -> String {
        let start = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a form token")
            + 19;
        self.body[start..start + 64].to_owned()
    }

    fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }
}

impl<'a> Browser<'a> {
    fn new(site: &'a Site) -> Self {
        Browser {
            site,
            cookies: BTreeMap::new(),
        }
    }

    async fn send(&mut self, request: axum::http::request::Builder, body: Body) -> Page {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let request = request.header(header::COOKIE, cookie).body(body).unwrap();
        let response = self.site.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body =
            String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes())
                .into_owned()
                // The templates escape `/` too; the tests read paths as written.
                .replace("&#x2f;", "/");
        for set in headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Page {
            status,
            headers,
            body,
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        self.send(Request::builder().uri(path), Body::empty()).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            Request::builder()
                .method(Method::POST)
                .uri(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            Body::from(body),
        )
        .await
    }

    async fn upload(&mut self, path: &str, fields: &[(&str, &str)], file: (&str, &[u8])) -> Page {
        let boundary = "swakelola-batas";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
            );
        }
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: application/pdf\r\n\r\n", file.0).as_bytes(),
        );
        body.extend_from_slice(file.1);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.send(
            Request::builder().method(Method::POST).uri(path).header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            ),
            Body::from(body),
        )
        .await
    }

    /// Signs in as `email` and lands on `/`.
    async fn sign_in(&mut self, email: &str) {
        let form = self.get("/masuk").await;
        assert_eq!(form.status, StatusCode::OK);
        let token = form.csrf();
        let signed = self
            .post(
                "/masuk",
                &[
                    ("email", email),
                    ("password", PASSWORD),
                    ("csrf", &token),
                    ("lanjut", "/"),
                ],
            )
            .await;
        assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
        assert_eq!(signed.location(), "/");
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

async fn site(store: SqlStore) -> Site {
    let store = common::prepare(store).await;
    let state = AppState {
        clock: now,
        ..AppState::new(store.clone())
    };
    Site {
        app: swakelola_api::router_with(
            state,
            swakelola_web::pages(swakelola_web::WebConfig::default()),
        ),
        store,
    }
}

async fn open_case(site: &Site, key: &str, title: &str, organisation: &str) -> String {
    common::open_case(&site.store, key, title, organisation).await
}

async fn snapshot(site: &Site, id: &str) -> (u64, usize) {
    let case = site.store.case(id).await.unwrap();
    (
        case.state.revision,
        site.store.history(id).await.unwrap().len(),
    )
}

async fn acting_through_the_pages(site: Site) {
    let id = open_case(
        &site,
        "DP3A-2025-001",
        "Pendampingan perempuan dan anak",
        AGENCY,
    )
    .await;
    let mut siti = Browser::new(&site);
    // Not signed in: the sign-in page, coming back afterwards.
    let away = siti.get("/kasus/DP3A-2025-001").await;
    assert_eq!(away.status, StatusCode::SEE_OTHER);
    assert_eq!(away.location(), "/masuk?lanjut=/kasus/DP3A-2025-001");
    siti.sign_in("siti@yayasan.example").await;
    let session_cookie = siti.cookies["swk_sesi"].clone();

    let tasks = siti.get("/").await;
    assert_eq!(tasks.status, StatusCode::OK);
    assert!(tasks.body.contains("Tugas saya"), "{}", tasks.body);
    assert!(tasks.body.contains("DP3A-2025-001"), "{}", tasks.body);
    for header in [
        "content-security-policy",
        "x-content-type-options",
        "referrer-policy",
        "x-frame-options",
    ] {
        assert!(tasks.headers.contains_key(header), "{header} missing");
    }
    assert!(
        !tasks.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("unsafe-inline")
    );

    let page = siti.get("/kasus/DP3A-2025-001").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("/kasus/DP3A-2025-001/langkah/catat_audiensi"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains(">None</textarea>"),
        "an empty comment box is empty"
    );
    let token = page.csrf();
    let before = snapshot(&site, &id).await;

    // A form without this session's token is refused and changes nothing.
    let forged = siti
        .post(
            "/kasus/DP3A-2025-001/langkah/catat_audiensi",
            &[("csrf", "0"), ("comment", "x")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(
        forged.body.contains("Formulir ini sudah kedaluwarsa"),
        "{}",
        forged.body
    );
    assert_eq!(snapshot(&site, &id).await, before);

    // A step whose document is missing: refused on the case page, the comment kept.
    let refused = siti
        .post(
            "/kasus/DP3A-2025-001/langkah/catat_audiensi",
            &[
                ("csrf", &token),
                ("revision", "1"),
                ("comment", "Audiensi selesai"),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("«Notulen dan daftar hadir audiensi» belum dilampirkan"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains(">Audiensi selesai</textarea>"),
        "{}",
        refused.body
    );
    assert_eq!(snapshot(&site, &id).await, before);

    // Attach it, then take the step.
    let attached = siti
        .upload(
            "/kasus/DP3A-2025-001/dokumen",
            &[
                ("csrf", &token),
                ("revision", "1"),
                ("document_type", "notulen_audiensi"),
            ],
            ("notulen.pdf", b"%PDF-1.4 notulen audiensi"),
        )
        .await;
    assert_eq!(attached.status, StatusCode::SEE_OTHER, "{}", attached.body);
    let done = siti
        .post(
            "/kasus/DP3A-2025-001/langkah/catat_audiensi",
            &[
                ("csrf", &token),
                ("revision", "2"),
                ("comment", "Audiensi selesai"),
                ("kunci", "k-1"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        site.store.case(&id).await.unwrap().state.stage,
        "penyusunan_kak"
    );
    let after = siti.get(done.location()).await;
    assert!(after.body.contains("Tersimpan."), "{}", after.body);
    assert!(after.body.contains("notulen.pdf"), "{}", after.body);
    // The same form sent twice (a double click) takes the step once.
    let again = siti
        .post(
            "/kasus/DP3A-2025-001/langkah/catat_audiensi",
            &[
                ("csrf", &token),
                ("revision", "2"),
                ("comment", "Audiensi selesai"),
                ("kunci", "k-1"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    let moved = snapshot(&site, &id).await;
    assert_eq!(moved.0, 3);

    // A stale form after someone else's change: the conflict page, the text kept, nothing changed.
    let stale = siti
        .post(
            "/kasus/DP3A-2025-001/langkah/batalkan",
            &[
                ("csrf", &token),
                ("revision", "2"),
                ("comment", "Alasan yang panjang"),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(stale.body.contains("Alasan yang panjang"), "{}", stale.body);
    assert_eq!(snapshot(&site, &id).await, moved);

    // Another organisation's case answers exactly like a missing one.
    open_case(&site, "DINSOS-2025-001", "Kasus lain", OTHER).await;
    let mut budi = Browser::new(&site);
    budi.sign_in("budi@dp3a.example").await;
    let theirs = budi.get("/kasus/DINSOS-2025-001").await;
    let missing = budi.get("/kasus/TIDAK-ADA").await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(theirs.body, missing.body);
    // So does its diagram; ours is an SVG image, the current stage among its labels.
    let their_diagram = budi.get("/kasus/DINSOS-2025-001/alur.svg").await;
    assert_eq!(their_diagram.status, StatusCode::NOT_FOUND);
    assert_eq!(
        their_diagram.body,
        budi.get("/kasus/TIDAK-ADA/alur.svg").await.body
    );
    // The case page's one script (upload progress) is embedded, content-addressed, cached.
    let case_page = budi.get("/kasus/DP3A-2025-001").await;
    let script = case_page
        .body
        .split("<script src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the upload script")
        .to_owned();
    assert!(
        script.starts_with("/aset/upload-") && script.ends_with(".js"),
        "{script}"
    );
    let served = budi.get(&script).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(
        served.headers[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert!(
        served.headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert_eq!(
        budi.get("/aset/upload-0000000000000000.js").await.status,
        StatusCode::NOT_FOUND
    );
    let ours = budi.get("/kasus/DP3A-2025-001/alur.svg").await;
    assert_eq!(ours.status, StatusCode::OK, "{}", ours.body);
    assert_eq!(
        ours.headers[header::CONTENT_TYPE],
        "image/svg+xml; charset=utf-8"
    );
    assert!(ours.body.contains("<svg") && ours.body.contains("#cfe2f3"));
    assert!(
        budi.get("/kasus/DP3A-2025-001")
            .await
            .body
            .contains("/kasus/DP3A-2025-001/alur.svg")
    );

    // English on request, remembered.
    let english = budi.get("/?lang=en").await;
    assert!(english.body.contains("My tasks"), "{}", english.body);
    assert!(budi.get("/").await.body.contains("My tasks"));

    // The agenda of the organisation: what falls due and who hears of it. The KAK stage
    // began in December 2024, after the main 2025 budget's day, so its deadline is the
    // revised budget's window (30 June 2025), with reminders from May.
    let agenda = budi.get("/agenda?hari=200&lang=id").await;
    assert_eq!(agenda.status, StatusCode::OK);
    assert!(agenda.body.contains("DP3A-2025-001"), "{}", agenda.body);
    assert!(
        agenda
            .body
            .contains("Tenggat tahap «Penyusunan KAK dan RAB»"),
        "{}",
        agenda.body
    );

    // Signing out everywhere ends every session of the account.
    let mut budi_phone = Browser::new(&site);
    budi_phone.sign_in("budi@dp3a.example").await;
    let token = budi.get("/").await.csrf();
    let everywhere = budi
        .post("/keluar", &[("csrf", &token), ("everywhere", "1")])
        .await;
    assert_eq!(everywhere.status, StatusCode::SEE_OTHER);
    assert_eq!(budi_phone.get("/").await.status, StatusCode::SEE_OTHER);
    budi.sign_in("budi@dp3a.example").await;

    // Signing out ends the session on the server: the old cookie no longer works.
    let token = siti.get("/").await.csrf();
    let out = siti.post("/keluar", &[("csrf", &token)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let mut thief = Browser::new(&site);
    thief.cookies.insert("swk_sesi".into(), session_cookie);
    assert_eq!(thief.get("/").await.status, StatusCode::SEE_OTHER);

    // A disabled account's session stops at once.
    site.store
        .disable_user("budi@dp3a.example", now())
        .await
        .unwrap();
    let stopped = budi.get("/").await;
    assert_eq!(stopped.status, StatusCode::SEE_OTHER);
}

/// A termin payment through the case page's record form.
async fn pay(person: &mut Browser<'_>, token: &str, termin: &str, amount: &str) -> Page {
    let fields = [
        ("csrf", token),
        ("isi_termin", termin),
        ("isi_jumlah", amount),
        ("isi_tanggal_sp2d", "2025-05-20"),
        ("isi_nomor_sp2d", ""),
    ];
    person
        .post("/kasus/DP3A-2025-002/catatan/pembayaran", &fields)
        .await
}

async fn what_must_not_work(site: Site) {
    let id = open_case(
        &site,
        "DP3A-2025-002",
        "<script>alert('kasus')</script>",
        AGENCY,
    )
    .await;
    let mut budi = Browser::new(&site);
    // The session cookie is HttpOnly and SameSite=Lax.
    let form = budi.get("/masuk").await;
    let signed = budi
        .post(
            "/masuk",
            &[
                ("email", "budi@dp3a.example"),
                ("password", PASSWORD),
                ("csrf", &form.csrf()),
                ("lanjut", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(signed.location(), "/", "only local paths are followed");
    let session = signed
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("swk_sesi="))
        .unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );

    // Script in a value renders inert.
    let page = budi.get("/kasus/DP3A-2025-002").await;
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    assert!(page.body.contains("&lt;script&gt;alert("), "{}", page.body);
    let token = page.csrf();
    let before = snapshot(&site, &id).await;
    // A field set without the token changes nothing.
    let forged = budi
        .post(
            "/kasus/DP3A-2025-002/data",
            &[("field", "pagu"), ("value", "1"), ("csrf", "")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(snapshot(&site, &id).await, before);
    // Payments in instalments through the record form: shown in a table with their total;
    // one that would take the total above the contract value is refused with the rule.
    let contract = budi
        .post(
            "/kasus/DP3A-2025-002/data",
            &[
                ("field", "nilai_kontrak"),
                ("value", "Rp34.500.000"),
                ("csrf", &token),
            ],
        )
        .await;
    assert_eq!(contract.status, StatusCode::SEE_OTHER, "{}", contract.body);
    let form = budi.get("/kasus/DP3A-2025-002").await;
    assert!(
        form.body
            .contains("action=\"/kasus/DP3A-2025-002/catatan/pembayaran\""),
        "{}",
        form.body
    );
    let paid = pay(&mut budi, &token, "1", "Rp20.000.000").await;
    assert_eq!(paid.status, StatusCode::SEE_OTHER, "{}", paid.body);
    let shown = budi.get("/kasus/DP3A-2025-002").await;
    assert!(
        shown
            .body
            .contains("<h2 id=\"catatan-pembayaran\">Pembayaran termin</h2>"),
        "{}",
        shown.body
    );
    assert!(
        shown.body.contains("Total Jumlah: Rp20.000.000"),
        "{}",
        shown.body
    );
    // What is left of the contract after the payment (the rule bounding their sum).
    assert!(
        shown.body.contains("Sisa Nilai kontrak: Rp14.500.000"),
        "{}",
        shown.body
    );
    let before_excess = snapshot(&site, &id).await;
    let excess = pay(&mut budi, &token, "2", "Rp20.000.000").await;
    assert_eq!(
        excess.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        excess.body
    );
    assert!(
        excess
            .body
            .contains("Jumlah pembayaran termin tidak melebihi nilai kontrak"),
        "{}",
        excess.body
    );
    assert_eq!(snapshot(&site, &id).await, before_excess);
    let before = snapshot(&site, &id).await;
    // A value that is not a rupiah amount, and a document type the workflow does not know:
    // each refused on the case page with its reason, nothing written.
    let bad_value = budi
        .post(
            "/kasus/DP3A-2025-002/data",
            &[
                ("field", "pagu"),
                ("value", "tiga puluh juta"),
                ("csrf", &token),
            ],
        )
        .await;
    assert_eq!(
        bad_value.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad_value.body
    );
    assert!(
        bad_value.body.contains("bukan jumlah rupiah utuh"),
        "{}",
        bad_value.body
    );
    assert!(
        bad_value.body.contains("tiga puluh juta"),
        "the refusal quotes the value typed"
    );
    let bad_type = budi
        .upload(
            "/kasus/DP3A-2025-002/dokumen",
            &[("csrf", &token), ("document_type", "surat_sakti")],
            ("sakti.pdf", b"%PDF-1.4"),
        )
        .await;
    assert_eq!(
        bad_type.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad_type.body
    );
    assert!(bad_type.body.contains("`surat_sakti`"), "{}", bad_type.body);
    let empty = budi
        .upload(
            "/kasus/DP3A-2025-002/dokumen",
            &[("csrf", &token), ("document_type", "kak")],
            ("kosong.pdf", b""),
        )
        .await;
    assert_eq!(
        empty.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        empty.body
    );
    assert!(empty.body.contains("dokumennya kosong"), "{}", empty.body);
    assert_eq!(snapshot(&site, &id).await, before);

    // The sign-in form without its cookie token is refused.
    let mut stranger = Browser::new(&site);
    let refused = stranger
        .post(
            "/masuk",
            &[
                ("email", "budi@dp3a.example"),
                ("password", PASSWORD),
                ("csrf", "abc"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // Guessing: after five wrong passwords even the right one waits.
    let mut guesser = Browser::new(&site);
    for _ in 0..5 {
        let form = guesser.get("/masuk").await;
        let wrong = guesser
            .post(
                "/masuk",
                &[
                    ("email", "siti@yayasan.example"),
                    ("password", "salah-salah"),
                    ("csrf", &form.csrf()),
                ],
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(
            wrong.body.contains("Email atau sandi salah."),
            "{}",
            wrong.body
        );
    }
    let form = guesser.get("/masuk").await;
    let throttled = guesser
        .post(
            "/masuk",
            &[
                ("email", "siti@yayasan.example"),
                ("password", PASSWORD),
                ("csrf", &form.csrf()),
            ],
        )
        .await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        throttled.body.contains("Terlalu banyak percobaan masuk"),
        "{}",
        throttled.body
    );

    // Administering workflows is the operator's.
    let admin = budi.get("/admin/alur").await;
    assert_eq!(admin.status, StatusCode::FORBIDDEN);
    assert!(admin.body.contains("operator"), "{}", admin.body);
    let diagram = budi.get("/admin/alur/swakelola-tipe-3/1/alur.svg").await;
    assert_eq!(diagram.status, StatusCode::FORBIDDEN);

    // A used or unknown password link.
    let link = budi.get("/sandi/tidak-ada").await;
    assert_eq!(link.status, StatusCode::NOT_FOUND);
}

async fn listing_cases(site: Site) {
    for n in 1..=27 {
        let title = if n == 7 {
            "Pelatihan kader posyandu"
        } else {
            "Pendampingan"
        };
        open_case(&site, &format!("DP3A-2025-{n:03}"), title, AGENCY).await;
    }
    open_case(&site, "DINSOS-2025-001", "Kasus Dinsos", OTHER).await;
    let mut budi = Browser::new(&site);
    budi.sign_in("budi@dp3a.example").await;
    let first = budi.get("/kasus").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(
        first.body.matches("<tr>").count() - 1,
        25,
        "a page of 25 rows"
    );
    assert!(
        !first.body.contains("DINSOS-2025-001"),
        "only cases of my organisation"
    );
    let next = first
        .body
        .split("href=\"")
        .find(|part| part.starts_with("/kasus?"))
        .and_then(|part| part.split('"').next())
        .expect("a link to the next page")
        .replace("&amp;", "&");
    let second = budi.get(&next).await;
    assert_eq!(
        second.body.matches("<tr>").count() - 1,
        2,
        "{}",
        second.body
    );
    assert!(second.body.contains("DP3A-2025-027"));
    let found = budi.get("/kasus?cari=posyandu").await;
    assert_eq!(found.body.matches("<tr>").count() - 1, 1, "{}", found.body);
    assert!(found.body.contains("DP3A-2025-007"));
    let by_stage = budi
        .get("/kasus?alur=swakelola-tipe-3&tahap=penyusunan_kak")
        .await;
    assert!(
        by_stage.body.contains("tidak ada kasus yang cocok"),
        "{}",
        by_stage.body
    );
    assert!(
        by_stage
            .body
            .contains("<option value=\"penyusunan_kak\" selected>"),
        "{}",
        by_stage.body
    );
    // Tugas saya shows the most urgent cases 50 at a time and counts them all.
    let first = budi.get("/").await;
    assert!(!first.body.contains("halaman=2"), "{}", first.body);
    let before = first.body.matches("class=\"card\"").count();
    for n in 28..=80 {
        open_case(&site, &format!("DP3A-2025-{n:03}"), "Pendampingan", AGENCY).await;
    }
    let first = budi.get("/").await;
    assert_eq!(
        first.body.matches("class=\"card\"").count(),
        50,
        "{}",
        first.body
    );
    assert!(
        first.body.contains("href=\"/?halaman=2\""),
        "{}",
        first.body
    );
    let second = budi.get("/?halaman=2").await;
    assert!(
        second.body.contains("Halaman sebelumnya"),
        "{}",
        second.body
    );
    assert!(!second.body.contains("halaman=3"), "{}", second.body);
    assert_eq!(
        second.body.matches("class=\"card\"").count(),
        before + 53 - 50,
        "every task is on one of the pages"
    );
}

async fn administering(site: Site) {
    let store = site.store.clone();
    let mut budi = Browser::new(&site);
    budi.sign_in("budi@dp3a.example").await;
    for page in ["/admin/pengguna", "/admin/token", "/admin/kotak-keluar"] {
        let refused = budi.get(page).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{page}");
        assert!(refused.body.contains("administrator"), "{}", refused.body);
    }
    let mut rina = Browser::new(&site);
    rina.sign_in("rina@dp3a.example").await;
    let people = rina.get("/admin/pengguna").await;
    assert_eq!(people.status, StatusCode::OK, "{}", people.body);
    assert!(people.body.contains("budi@dp3a.example"));
    assert!(
        !people.body.contains("siti@yayasan.example"),
        "own organisation only"
    );
    let csrf = people.csrf();
    let accounts = || {
        let store = store.clone();
        async move { store.users().await.unwrap().len() }
    };
    let before = accounts().await;

    // A new account with two roles: the page shows the link to set a password.
    let created = rina
        .post(
            "/admin/pengguna/baru",
            &[
                ("csrf", &csrf),
                ("nama", "Andi Wijaya"),
                ("email", "andi@dp3a.example"),
                ("peran", "ppk"),
                ("peran", "pa_kpa"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(created.body.contains("/sandi/"), "{}", created.body);
    let andi = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email == "andi@dp3a.example")
        .unwrap();
    assert_eq!(andi.organisation, AGENCY);
    assert_eq!(andi.roles, ["pa_kpa", "ppk"]);
    // The same address again, the operator's role, a missing form token: refused, nothing made.
    let again = rina
        .post(
            "/admin/pengguna/baru",
            &[
                ("csrf", &csrf),
                ("nama", "Andi"),
                ("email", "andi@dp3a.example"),
                ("peran", "ppk"),
            ],
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.body
    );
    let operator = rina
        .post(
            "/admin/pengguna/baru",
            &[
                ("csrf", &csrf),
                ("nama", "X"),
                ("email", "x@dp3a.example"),
                ("peran", "operator"),
            ],
        )
        .await;
    assert_eq!(operator.status, StatusCode::FORBIDDEN, "{}", operator.body);
    let forged = rina
        .post(
            "/admin/pengguna/baru",
            &[("nama", "Y"), ("email", "y@dp3a.example"), ("peran", "ppk")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(accounts().await, before + 1);

    // Disabling: only an account of my organisation.
    let foreign = rina
        .post(
            "/admin/pengguna/nonaktifkan",
            &[("csrf", &csrf), ("email", "siti@yayasan.example")],
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.body);
    let disabled = rina
        .post(
            "/admin/pengguna/nonaktifkan",
            &[("csrf", &csrf), ("email", "andi@dp3a.example")],
        )
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
    let users = store.users().await.unwrap();
    assert!(
        users
            .iter()
            .any(|u| u.email == "andi@dp3a.example" && u.disabled_at.is_some())
    );
    assert!(
        users
            .iter()
            .any(|u| u.email == "siti@yayasan.example" && u.disabled_at.is_none())
    );

    // Tokens: the secret shown once; a bad validity refused; revoked on request.
    let issued = rina
        .post(
            "/admin/token/baru",
            &[
                ("csrf", &csrf),
                ("nama", "sistem keuangan"),
                ("peran", "ppk"),
                ("hari", "30"),
            ],
        )
        .await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.body);
    assert!(issued.body.contains("swk_"), "{}", issued.body);
    // Its roles by label, as on the accounts page.
    assert!(
        issued
            .body
            .contains("<td>Pejabat Pembuat Komitmen (PPK)</td>"),
        "{}",
        issued.body
    );
    let bad = rina
        .post(
            "/admin/token/baru",
            &[
                ("csrf", &csrf),
                ("nama", "x"),
                ("peran", "ppk"),
                ("hari", "0"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let tokens = store.organisation_tokens(AGENCY).await.unwrap();
    assert_eq!(tokens.len(), 1);
    assert!(tokens[0].expires_at.is_some());
    let (other, _) = store
        .create_token("dinsos", OTHER, &["ppk".to_owned()], None, now())
        .await
        .unwrap();
    let theirs = rina
        .post("/admin/token/cabut", &[("csrf", &csrf), ("id", &other.id)])
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let revoked = rina
        .post(
            "/admin/token/cabut",
            &[("csrf", &csrf), ("id", &tokens[0].id)],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    assert!(
        store
            .token(&tokens[0].id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    assert!(
        store
            .token(&other.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none()
    );

    // A message set aside after failed deliveries: listed with its error, sent again on request.
    let ours = open_case(&site, "DP3A-2025-050", "Pendampingan", AGENCY).await;
    let theirs = open_case(&site, "DINSOS-2025-050", "Lain", OTHER).await;
    for (key, case, channel, recipient) in [
        ("pesan-kami", &ours, "email", "email:budi@dp3a.example"),
        ("pesan-peran", &ours, "log", "role:ppk"),
        ("pesan-mereka", &theirs, "email", "email:budi@dp3a.example"),
    ] {
        sqlx::query(
            "INSERT INTO outbox (key, case_id, channel, recipient, payload, state, attempts, next_attempt_at, last_error, created_at)
             VALUES ($1, $2, $3, $4, '{}', 'dead', 8, 0, 'mailbox unavailable', 0)",
        )
        .bind(key)
        .bind(case.as_str())
        .bind(channel)
        .bind(recipient)
        .execute(store.pool())
        .await
        .unwrap();
    }
    let messages = rina.get("/admin/kotak-keluar").await;
    assert_eq!(messages.status, StatusCode::OK);
    assert!(
        messages.body.contains("DP3A-2025-050") && messages.body.contains("mailbox unavailable")
    );
    assert!(
        !messages.body.contains("DINSOS-2025-050"),
        "own organisation's cases only"
    );
    // A role without a contact by its label, never `role:ppk`.
    assert!(
        messages.body.contains("Pejabat Pembuat Komitmen (PPK)")
            && messages.body.contains("tanpa kontak")
            && !messages.body.contains("role:ppk"),
        "{}",
        messages.body
    );
    let foreign = rina
        .post(
            "/admin/kotak-keluar/ulang",
            &[("csrf", &csrf), ("key", "pesan-mereka")],
        )
        .await;
    assert!(foreign.status.is_client_error(), "{}", foreign.status);
    let retried = rina
        .post(
            "/admin/kotak-keluar/ulang",
            &[("csrf", &csrf), ("key", "pesan-kami")],
        )
        .await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.body);
    let state = |key: &'static str| {
        let store = store.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT state FROM outbox WHERE key = $1")
                .bind(key)
                .fetch_one(store.pool())
                .await
                .unwrap()
        }
    };
    assert_eq!(state("pesan-kami").await, "pending");
    assert_eq!(state("pesan-mereka").await, "dead");
}

macro_rules! on_both_stores {
    ($($test:ident => $scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$scenario(super::site(super::sqlite().await).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if let Some(store) = super::postgres().await {
                        super::$scenario(super::site(store).await).await;
                    }
                }
            )*
        }
    };
}

on_both_stores!(
    people_act_on_a_case_through_its_pages => acting_through_the_pages,
    forged_forms_foreign_cases_script_and_guessing_get_nowhere => what_must_not_work,
    the_case_list_filters_searches_and_pages => listing_cases,
    an_administrator_manages_people_tokens_and_messages => administering,
);
