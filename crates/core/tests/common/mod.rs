//! Drives cases of the shipped workflows through `step`, the way a store would.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::LazyLock;

use jiff::Timestamp;
use jiff::civil::Date;
use swakelola_core::step::{Action, Command, Outcome, Rejection, step};
use swakelola_core::{Actor, Calendar, CaseState, Event, Workflow};

pub struct Engine {
    pub workflow: Workflow,
    pub calendar: Calendar,
}

/// A shipped workflow with its calendar, loaded once per test binary.
pub fn engine(id: &str) -> &'static Engine {
    static SHIPPED: LazyLock<Vec<Engine>> = LazyLock::new(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../workflows");
        let bundle = swakelola_definition::load(&[dir]).expect("the shipped workflows load");
        assert!(!bundle.has_errors(), "{:?}", bundle.diagnostics);
        bundle
            .workflows
            .iter()
            .map(|d| Engine {
                workflow: d.workflow.clone(),
                calendar: bundle.calendars[&d.workflow.calendar].clone(),
            })
            .collect()
    });
    SHIPPED
        .iter()
        .find(|e| e.workflow.id == id)
        .expect("shipped workflow")
}

/// `hour`:00 WIB on the given day.
pub fn wib(year: i16, month: i8, day: i8, hour: i8) -> Timestamp {
    jiff::civil::date(year, month, day)
        .at(hour, 0, 0, 0)
        .to_zoned_datetime(jiff::tz::TimeZone::fixed(jiff::tz::offset(7)))
        .unwrap()
        .timestamp()
}

pub fn date(text: &str) -> Date {
    text.parse().unwrap()
}

/// The seed partnership's opening fields.
pub fn seed_fields() -> Vec<(String, String)> {
    [
        (
            "nama_kegiatan",
            "Pendampingan korban kekerasan terhadap perempuan dan anak",
        ),
        ("instansi", "DP3A Kota Palembang"),
        ("ormas", "Yayasan Intan Maharani"),
        ("tahun_anggaran", "2025"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A case being driven, with its history.
pub struct Case<'e> {
    pub engine: &'e Engine,
    pub state: Option<CaseState>,
    pub events: Vec<Event>,
    pub now: Timestamp,
    pub last: Option<Outcome>,
}

impl<'e> Case<'e> {
    pub fn new(engine: &'e Engine, now: Timestamp) -> Self {
        Self {
            engine,
            state: None,
            events: Vec::new(),
            now,
            last: None,
        }
    }

    pub fn state(&self) -> &CaseState {
        self.state.as_ref().expect("opened")
    }

    /// Runs one command; on success the outcome is applied, on rejection nothing changes.
    pub fn run(&mut self, role: &str, action: Action) -> Result<&Outcome, Rejection> {
        let actor = if role == "system" {
            Actor::system()
        } else {
            Actor::new(format!("staf {role}"), role)
        };
        let command = Command { actor, action };
        let outcome = step(
            &self.engine.workflow,
            self.state.as_ref(),
            &command,
            self.now,
            &self.engine.calendar,
        )?;
        self.state = Some(outcome.state.clone());
        self.events.push(outcome.event.clone());
        self.last = Some(outcome);
        Ok(self.last.as_ref().unwrap())
    }

    pub fn open(&mut self, fields: Vec<(String, String)>) -> &Outcome {
        let role = self
            .engine
            .workflow
            .open_by
            .first()
            .cloned()
            .unwrap_or_else(|| self.engine.workflow.roles[0].id.clone());
        self.run(
            &role,
            Action::Open {
                fields,
                parties: Default::default(),
            },
        )
        .expect("opens")
    }

    pub fn attach(&mut self, role: &str, document_type: &str) -> Result<&Outcome, Rejection> {
        let size = self.events.len() as u64 + 1;
        self.run(
            role,
            Action::Attach {
                document_type: document_type.to_owned(),
                file_name: format!("{document_type}.pdf"),
                sha256: format!("{:064x}", size),
                size,
            },
        )
    }

    pub fn set(&mut self, role: &str, field: &str, value: &str) -> Result<&Outcome, Rejection> {
        self.run(
            role,
            Action::SetField {
                field: field.to_owned(),
                value: value.to_owned(),
            },
        )
    }

    pub fn fire(
        &mut self,
        role: &str,
        transition: &str,
        comment: Option<&str>,
    ) -> Result<&Outcome, Rejection> {
        self.run(
            role,
            Action::Fire {
                transition: transition.to_owned(),
                comment: comment.map(str::to_owned),
            },
        )
    }

    pub fn decline(
        &mut self,
        role: &str,
        transition: &str,
        comment: &str,
    ) -> Result<&Outcome, Rejection> {
        self.run(
            role,
            Action::Decline {
                transition: transition.to_owned(),
                comment: comment.to_owned(),
            },
        )
    }

    pub fn fire_timer(&mut self, key: &str) -> Result<&Outcome, Rejection> {
        self.run(
            "system",
            Action::FireTimer {
                key: key.to_owned(),
            },
        )
    }

    /// Fires every timer due at `now`, earliest first; returns the keys fired.
    pub fn advance_to(&mut self, now: Timestamp) -> Vec<String> {
        self.now = now;
        let mut fired = Vec::new();
        loop {
            let due = self
                .state()
                .timers
                .values()
                .filter(|t| t.due_at <= now)
                .min_by_key(|t| (t.due_at, t.key.clone()))
                .map(|t| t.key.clone());
            let Some(key) = due else { break };
            self.fire_timer(&key).expect("a due timer fires");
            fired.push(key);
        }
        fired
    }

    /// Meets every guard of `transition` (attaching documents, setting fields) and fires it
    /// as the first role allowed to.
    pub fn force(&mut self, transition: &str) {
        let workflow = &self.engine.workflow;
        let t = workflow.transition(transition).expect("transition").clone();
        for document in &t.guard.documents {
            if !self.state().has_document(document) {
                let allowed = &workflow.document(document).unwrap().attach_by;
                let role = allowed.first().unwrap_or(&t.roles[0]).clone();
                self.attach(&role, document).expect("attach");
            }
        }
        let mut fields: Vec<String> = t.guard.fields.clone();
        fields.extend(t.guard.conditions.iter().map(|c| c.field.clone()));
        for field in fields {
            if !self.state().fields.contains_key(&field) {
                let def = workflow.field(&field).unwrap();
                let role = def.set_by.first().unwrap_or(&t.roles[0]).clone();
                let year = match self.state().fields.get("tahun_anggaran") {
                    Some(swakelola_core::FieldValue::FiscalYear(year)) => Some(*year),
                    _ => None,
                };
                let value = default_value(&field, self.engine.calendar.date_of(self.now), year);
                self.set(&role, &field, &value).expect("set");
            }
        }
        // A joint sign-off takes every role's approval; otherwise one role fires it.
        let roles = if t.requires_all.is_empty() {
            vec![t.roles[0].clone()]
        } else {
            t.requires_all.clone()
        };
        for role in roles {
            self.fire(&role, transition, Some("catatan")).expect("fire");
        }
    }
}

/// A value for `field` that meets the workflow's rules: a contract is signed within its
/// fiscal year (from 2 January when the case is ahead of it) and ends three months later.
fn default_value(field: &str, today: Date, fiscal_year: Option<i16>) -> String {
    let signed = match fiscal_year {
        Some(year) if today.year() < year => Date::new(year, 1, 2).unwrap(),
        _ => today,
    };
    match field {
        "pagu" | "nilai_kontrak" | "nilai_realisasi" | "nilai_estimasi" => "34500000".into(),
        "sumber_dana" => "apbd".into(),
        "kode_anggaran" => "2.08.01.2.01".into(),
        "kode_rup" => "52719384".into(),
        "rute_penetapan" => "permintaan_kesediaan".into(),
        "nomor_kontrak" => "027/KTR/DP3A/2025".into(),
        "tanggal_kontrak" => signed.to_string(),
        "tanggal_selesai" => signed
            .checked_add(jiff::Span::new().months(3))
            .unwrap()
            .to_string(),
        other => format!("nilai {other}"),
    }
}

/// The path of the seed partnership from audience to closed (direct designation, no negotiation).
pub const HAPPY_PATH: &[&str] = &[
    "catat_audiensi",
    "serahkan_kak",
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
];
