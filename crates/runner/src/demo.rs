//! `swakelola demo`: the seed partnership — Yayasan Intan Maharani and DP3A Kota Palembang,
//! audience on 10 December 2024, pagu Rp34.500.000 — through its whole life in a few seconds,
//! on a temporary SQLite database with a manual clock. Everything goes through the real
//! store and runner; only time is accelerated.

use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::DateTime;
use swakelola_core::format::{self, Language};
use swakelola_core::state::{Notification, NotificationKind, ObligationSource};
use swakelola_core::step::Action;
use swakelola_core::{Actor, Calendar, Workflow};
use swakelola_store::{
    CaseCommand, Engine, OpenCase, OutboxMessage, Parties, SqlStore, Store, sha256_hex,
};

use crate::runner::{Clock, ManualClock, Runner};

const WORKFLOW: &str = include_str!("../../../workflows/swakelola-tipe-3.yaml");
const CALENDARS: &[(&str, &str)] = &[
    (
        "indonesia-2025.yaml",
        include_str!("../../../workflows/calendars/indonesia-2025.yaml"),
    ),
    (
        "indonesia-2026.yaml",
        include_str!("../../../workflows/calendars/indonesia-2026.yaml"),
    ),
];

enum Op {
    Attach(&'static str),
    Set(&'static str, &'static str),
    Fire(&'static str, Option<&'static str>),
}

/// (local time WIB, role, person, what they do).
const SCRIPT: &[(&str, &str, &str, Op)] = &[
    (
        "2024-12-12T09:00",
        "fasilitator",
        "Rina (OPSI)",
        Op::Attach("notulen_audiensi"),
    ),
    (
        "2024-12-12T09:05",
        "pimpinan_ormas",
        "Siti Aminah",
        Op::Fire("catat_audiensi", None),
    ),
    (
        "2024-12-20T10:00",
        "pimpinan_ormas",
        "Siti Aminah",
        Op::Attach("kak"),
    ),
    (
        "2024-12-20T10:01",
        "pimpinan_ormas",
        "Siti Aminah",
        Op::Attach("rab"),
    ),
    (
        "2024-12-20T10:02",
        "pimpinan_ormas",
        "Siti Aminah",
        Op::Set("nilai_estimasi", "34500000"),
    ),
    (
        "2024-12-20T10:03",
        "pimpinan_ormas",
        "Siti Aminah",
        Op::Fire("serahkan_kak", None),
    ),
    (
        "2025-01-08T10:00",
        "ppk",
        "Budi Santoso",
        Op::Fire("terima_kak", None),
    ),
    (
        "2025-01-08T10:30",
        "pa_kpa",
        "Kepala DP3A",
        Op::Fire("lewati_mou", Some("MoU tidak diperlukan")),
    ),
    ("2025-07-15T09:00", "perencana", "Dewi", Op::Attach("rka")),
    (
        "2025-07-15T09:01",
        "perencana",
        "Dewi",
        Op::Set("pagu", "Rp34.500.000"),
    ),
    (
        "2025-07-15T09:02",
        "perencana",
        "Dewi",
        Op::Set("sumber_dana", "apbd_perubahan"),
    ),
    (
        "2025-07-15T09:03",
        "perencana",
        "Dewi",
        Op::Fire("masuk_apbd_perubahan", None),
    ),
    ("2025-08-21T09:00", "perencana", "Dewi", Op::Attach("dpa")),
    (
        "2025-08-21T09:01",
        "perencana",
        "Dewi",
        Op::Set("kode_anggaran", "2.08.01.2.01.0001"),
    ),
    (
        "2025-08-21T09:02",
        "perencana",
        "Dewi",
        Op::Fire("sahkan_dpa", None),
    ),
    (
        "2025-08-22T09:00",
        "ppk",
        "Budi Santoso",
        Op::Attach("pengumuman_rup"),
    ),
    (
        "2025-08-22T09:01",
        "ppk",
        "Budi Santoso",
        Op::Set("kode_rup", "52719384"),
    ),
    (
        "2025-08-22T09:02",
        "ppk",
        "Budi Santoso",
        Op::Fire("umumkan_rup", None),
    ),
    (
        "2025-08-27T09:00",
        "pa_kpa",
        "Kepala DP3A",
        Op::Attach("sk_tim"),
    ),
    (
        "2025-08-27T09:01",
        "pa_kpa",
        "Kepala DP3A",
        Op::Attach("surat_permintaan_kesediaan"),
    ),
    (
        "2025-08-27T09:02",
        "pa_kpa",
        "Kepala DP3A",
        Op::Set("rute_penetapan", "permintaan_kesediaan"),
    ),
    (
        "2025-08-27T09:03",
        "pa_kpa",
        "Kepala DP3A",
        Op::Fire("kirim_permintaan_kesediaan", None),
    ),
    (
        "2025-09-01T10:00",
        "pimpinan_ormas",
        "Siti Aminah",
        Op::Attach("pernyataan_kesediaan"),
    ),
    (
        "2025-09-01T10:01",
        "pimpinan_ormas",
        "Siti Aminah",
        Op::Attach("legalitas_ormas"),
    ),
    (
        "2025-09-01T10:02",
        "pimpinan_ormas",
        "Siti Aminah",
        Op::Fire("nyatakan_kesediaan", None),
    ),
    (
        "2025-09-02T09:00",
        "pa_kpa",
        "Kepala DP3A",
        Op::Attach("surat_penetapan"),
    ),
    (
        "2025-09-02T09:01",
        "pa_kpa",
        "Kepala DP3A",
        Op::Fire("tetapkan_ormas", None),
    ),
    (
        "2025-09-08T10:00",
        "pimpinan_ormas",
        "Siti Aminah",
        Op::Attach("sk_tim_pelaksana"),
    ),
    (
        "2025-09-08T10:01",
        "pimpinan_ormas",
        "Siti Aminah",
        Op::Attach("proposal"),
    ),
    (
        "2025-09-08T10:02",
        "pimpinan_ormas",
        "Siti Aminah",
        Op::Fire("ajukan_proposal", None),
    ),
    (
        "2025-09-10T09:00",
        "ppk",
        "Budi Santoso",
        Op::Attach("berita_acara_reviu"),
    ),
    (
        "2025-09-10T09:01",
        "ppk",
        "Budi Santoso",
        Op::Fire("setujui_proposal", None),
    ),
    (
        "2025-09-15T09:00",
        "ppk",
        "Budi Santoso",
        Op::Attach("kontrak"),
    ),
    (
        "2025-09-15T09:01",
        "ppk",
        "Budi Santoso",
        Op::Set("nomor_kontrak", "027/KTR/DP3A/2025"),
    ),
    (
        "2025-09-15T09:02",
        "ppk",
        "Budi Santoso",
        Op::Set("nilai_kontrak", "Rp34.500.000"),
    ),
    (
        "2025-09-15T09:03",
        "ppk",
        "Budi Santoso",
        Op::Set("tanggal_kontrak", "2025-09-15"),
    ),
    (
        "2025-09-15T09:04",
        "ppk",
        "Budi Santoso",
        Op::Set("tanggal_selesai", "2025-11-28"),
    ),
    (
        "2025-09-15T09:05",
        "ppk",
        "Budi Santoso",
        Op::Fire("tandatangani_kontrak", None),
    ),
    (
        "2025-09-22T10:00",
        "tim_pelaksana",
        "Tim Yayasan",
        Op::Attach("laporan_awal"),
    ),
    (
        "2025-10-06T10:00",
        "tim_pelaksana",
        "Tim Yayasan",
        Op::Attach("laporan_kemajuan"),
    ),
    (
        "2025-11-13T10:00",
        "tim_pelaksana",
        "Tim Yayasan",
        Op::Attach("laporan_kemajuan"),
    ),
    (
        "2025-11-26T10:00",
        "pimpinan_ormas",
        "Siti Aminah",
        Op::Fire("serahkan_hasil", None),
    ),
    (
        "2025-11-28T10:00",
        "ppk",
        "Budi Santoso",
        Op::Attach("bast"),
    ),
    (
        "2025-11-28T10:01",
        "ppk",
        "Budi Santoso",
        Op::Fire("tandatangani_bast", None),
    ),
    (
        "2025-12-01T10:00",
        "ppk",
        "Budi Santoso",
        Op::Attach("bast_pa"),
    ),
    (
        "2025-12-01T10:01",
        "ppk",
        "Budi Santoso",
        Op::Fire("serahkan_ke_pa", None),
    ),
    (
        "2025-12-10T10:00",
        "pimpinan_ormas",
        "Siti Aminah",
        Op::Attach("laporan_akhir"),
    ),
    (
        "2025-12-10T10:01",
        "pimpinan_ormas",
        "Siti Aminah",
        Op::Attach("laporan_keuangan"),
    ),
    (
        "2025-12-10T10:02",
        "pimpinan_ormas",
        "Siti Aminah",
        Op::Attach("permohonan_pembayaran"),
    ),
    (
        "2025-12-10T10:03",
        "pimpinan_ormas",
        "Siti Aminah",
        Op::Fire("ajukan_laporan_akhir", None),
    ),
    (
        "2025-12-17T10:00",
        "ppk",
        "Budi Santoso",
        Op::Attach("pencatatan_spse"),
    ),
    (
        "2025-12-17T10:01",
        "ppk",
        "Budi Santoso",
        Op::Set("nilai_realisasi", "Rp34.500.000"),
    ),
    (
        "2025-12-17T10:02",
        "ppk",
        "Budi Santoso",
        Op::Fire("tutup", Some("Laporan diterima, realisasi dicatat di SPSE")),
    ),
];

struct Story<'a> {
    workflow: &'a Workflow,
    calendar: &'a Calendar,
}

impl Story<'_> {
    fn when(&self, instant: Timestamp) -> String {
        let local = self.calendar.time_zone().to_datetime(instant);
        format!(
            "{:>17} {:02}.{:02}",
            format::date(local.date(), Language::Id),
            local.hour(),
            local.minute()
        )
    }

    fn stage(&self, id: &str) -> String {
        self.workflow
            .stage(id)
            .map_or(id.to_owned(), |s| s.label.id.clone())
    }

    fn deadline(&self, state: &swakelola_core::CaseState) -> String {
        state
            .obligations
            .values()
            .filter(|o| matches!(o.source, ObligationSource::StageDeadline { .. }))
            .map(|o| format!(" · tenggat {}", format::date(o.due_date, Language::Id)))
            .next()
            .unwrap_or_default()
    }

    /// One line for each notification (its recipients grouped).
    fn notifications(&self, at: Timestamp, messages: &[OutboxMessage]) {
        let mut seen: Vec<String> = Vec::new();
        for message in messages {
            let Ok(notification) =
                serde_json::from_value::<Notification>(message.payload["notification"].clone())
            else {
                continue;
            };
            if seen.contains(&notification.key) {
                continue;
            }
            seen.push(notification.key.clone());
            let (icon, what) = match notification.kind {
                NotificationKind::Reminder => ("🔔", "Pengingat"),
                NotificationKind::OverdueReminder => ("⏰", "Pengingat (terlambat)"),
                NotificationKind::Overdue => ("⚠️ ", "Tenggat terlewati"),
                NotificationKind::Escalation => ("📣", "Eskalasi"),
                NotificationKind::Transitioned => continue,
            };
            let subject = match notification.obligation.as_ref().map(|o| &o.source) {
                Some(ObligationSource::Recurring { period_start, .. }) => format!(
                    "laporan kemajuan {} ",
                    format::date(*period_start, Language::Id)
                        .split_once(' ')
                        .map_or(String::new(), |(_, month)| month.to_owned())
                ),
                _ => format!("tahap «{}» ", self.stage(&notification.stage)),
            };
            let due = notification
                .obligation
                .as_ref()
                .map(|o| format!("jatuh tempo {}", format::date(o.due_date, Language::Id)))
                .unwrap_or_default();
            println!(
                "{}  {icon} {what}: {subject}{due} → {}",
                self.when(at),
                notification.to.join(", ")
            );
        }
    }
}

fn wib(text: &str) -> Timestamp {
    let local: DateTime = text.parse().expect("script dates are valid");
    local
        .to_zoned_datetime(jiff::tz::TimeZone::fixed(jiff::tz::offset(7)))
        .expect("WIB has no gaps")
        .timestamp()
}

pub async fn run() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("swakelola-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}", dir.join("demo.db").display());
    let result = story(&url).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn story(url: &str) -> anyhow::Result<()> {
    let store = Arc::new(SqlStore::connect(url).await?);
    store.migrate().await?;
    let start = wib("2024-12-10T10:00");
    let calendars: Vec<(String, String)> = CALENDARS
        .iter()
        .map(|(f, t)| ((*f).to_owned(), (*t).to_owned()))
        .collect();
    let deployed = store
        .deploy("swakelola-tipe-3.yaml", WORKFLOW, &calendars, start)
        .await?;
    let engine: Arc<Engine> = store
        .engine_for(&deployed.workflow.id, deployed.workflow.version)
        .await?;
    let story = Story {
        workflow: &engine.workflow,
        calendar: &engine.calendar,
    };
    let clock = Arc::new(ManualClock::new(start));
    let runner = Runner::new(store.clone(), clock.clone());

    println!("swakelola demo — Yayasan Intan Maharani × DP3A Kota Palembang, tahun anggaran 2025");
    println!(
        "(basis data SQLite sementara; jam dipercepat: setiap tenggat, pengingat dan eskalasi dihitung dengan hari kerja dan libur nasional)\n"
    );
    let opened = store
        .open(
            &OpenCase {
                workflow_id: deployed.workflow.id.clone(),
                organisation: "dp3a-palembang".into(),
                business_key: "DP3A-2025-001".into(),
                actor: Actor::new("Siti Aminah", "pimpinan_ormas"),
                fields: [
                    (
                        "nama_kegiatan",
                        "Pendampingan perempuan dan anak korban kekerasan",
                    ),
                    ("instansi", "DP3A Kota Palembang"),
                    ("ormas", "Yayasan Intan Maharani"),
                    ("tahun_anggaran", "2025"),
                ]
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
                parties: Parties::default(),
            },
            start,
        )
        .await?;
    let case_id = opened.case.id.clone();
    println!(
        "{}  Audiensi: kasus dibuka oleh Siti Aminah (pimpinan_ormas){}",
        story.when(start),
        story.deadline(&opened.case.state)
    );
    let mut last_stage = opened.case.state.stage.clone();

    for (time, role, person, op) in SCRIPT {
        let at = wib(time);
        // Let time pass: every timer due before `at` fires at its own instant, in order.
        while let Some(next) = store.next_timer_due().await? {
            if next > at {
                break;
            }
            // Already past due when it was scheduled? The runner notices it at once.
            let now = next.max(clock.now());
            clock.set(now);
            let mut delivered = Vec::new();
            runner.tick(now, &mut |m| delivered.push(m.clone())).await?;
            story.notifications(now, &delivered);
            let state = store.case(&case_id).await?.state;
            if state.stage != last_stage {
                println!(
                    "{}  ⏩ Otomatis: «{}» → «{}»{}",
                    story.when(now),
                    story.stage(&last_stage),
                    story.stage(&state.stage),
                    story.deadline(&state)
                );
                last_stage = state.stage.clone();
            }
        }
        clock.set(at);
        let (action, content) = match op {
            Op::Attach(document) => {
                let content = format!("{document} — DP3A-2025-001").into_bytes();
                (
                    Action::Attach {
                        document_type: (*document).to_owned(),
                        file_name: format!("{document}.pdf"),
                        sha256: sha256_hex(&content),
                        size: content.len() as u64,
                    },
                    Some(content),
                )
            }
            Op::Set(field, value) => (
                Action::SetField {
                    field: (*field).to_owned(),
                    value: (*value).to_owned(),
                },
                None,
            ),
            Op::Fire(transition, comment) => (
                Action::Fire {
                    transition: (*transition).to_owned(),
                    comment: comment.map(str::to_owned),
                },
                None,
            ),
        };
        let applied = store
            .execute(
                &CaseCommand {
                    case_id: case_id.clone(),
                    actor: Actor::new(*person, *role),
                    action,
                    expected_revision: None,
                    idempotency_key: None,
                    content,
                },
                at,
            )
            .await?;
        let state = &applied.case.state;
        match op {
            Op::Fire(transition, _) => {
                let label = engine
                    .workflow
                    .transition(transition)
                    .map_or(*transition, |t| t.label.id.as_str());
                println!(
                    "{}  ▶ {person} ({role}): {label} → «{}»{}",
                    story.when(at),
                    story.stage(&state.stage),
                    story.deadline(state)
                );
                last_stage = state.stage.clone();
            }
            Op::Attach(document) if *document == "laporan_kemajuan" => {
                println!(
                    "{}  📎 {person}: laporan kemajuan bulanan dilampirkan",
                    story.when(at)
                );
            }
            Op::Set(field, value) if *field == "pagu" => {
                println!("{}  💰 {person}: pagu ditetapkan {value}", story.when(at));
            }
            _ => {}
        }
    }
    let record = store.case(&case_id).await?;
    let verification = store.verify(&case_id).await?;
    println!(
        "\nSelesai: {} peristiwa tercatat, rantai hash utuh: {}. Kasus ditutup pada tahap «{}».",
        verification.events,
        if verification.first_tampered.is_none() {
            "ya"
        } else {
            "TIDAK"
        },
        story.stage(&record.state.stage)
    );
    println!(
        "Coba sendiri: swakelola workflow deploy workflows/swakelola-tipe-3.yaml, lalu swakelola case open --help."
    );
    Ok(())
}
