//! Running a scenario — open a case at a date, act, let time pass — on an in-memory database
//! with a manual clock, printing the timeline of every transition, deadline, reminder and
//! escalation with real working-day dates, and checking the scenario's expectations.
//! `swakelola simulate` runs a scenario file; `swakelola demo` runs the shipped seed
//! partnership.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::DateTime;
use serde::Deserialize;
use swakelola_core::format::{self, Language};
use swakelola_core::state::{LateEntry, Notification, NotificationKind, ObligationSource};
use swakelola_core::step::Action;
use swakelola_core::{Actor, Calendar, Workflow};
use swakelola_store::{
    CaseCommand, Contact, OpenCase, Origin, Parties, SqlStore, Store, sha256_hex,
};
use swakelola_view::catalogue;

use crate::runner::{Clock, ManualClock, Runner};

/// A scenario file: a clock start, the first case (or none), then dated steps. A step may
/// open another case (`open:`), acts on the case it names (`case:`, a business key of this
/// scenario) or else on the last one opened.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// When the clock starts, local time (`2024-12-10T10:00`); the first case opens then.
    pub start: String,
    pub open: Option<OpenStep>,
    #[serde(default)]
    pub steps: Vec<Step>,
    /// Notification kinds that must not go out at all during the run (a timely case:
    /// `[overdue, overdue_reminder, escalation, late_entry]`).
    #[serde(default)]
    pub never_notified: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenStep {
    #[serde(rename = "as")]
    pub role: String,
    pub actor: String,
    #[serde(default = "default_key")]
    pub key: String,
    #[serde(default = "default_organisation")]
    pub organisation: String,
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Party → its organisations, the lead first (`ormas: [yayasan-a, perkumpulan-b]`).
    #[serde(default)]
    pub parties: BTreeMap<String, Vec<String>>,
    /// Role → who is told (`ppk: [{name: Budi, address: "email:budi@example.org"}]`).
    #[serde(default)]
    pub contacts: BTreeMap<String, Vec<Contact>>,
    /// The business key of an earlier case of the scenario this one continues.
    pub follows: Option<String>,
    /// The business key of an earlier case of the scenario this one replicates.
    pub replicates: Option<String>,
    /// Fields taken over from `follows`/`replicates` when not given.
    #[serde(default)]
    pub carry: Vec<String>,
}

fn default_key() -> String {
    "SIMULASI-1".to_owned()
}

fn default_organisation() -> String {
    "simulasi".to_owned()
}

/// One step: at a local time, optionally a new case and actions, optionally expectations.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub at: String,
    pub open: Option<OpenStep>,
    /// The business key of the case acted on; the last one opened when not given.
    pub case: Option<String>,
    #[serde(rename = "as")]
    pub role: Option<String>,
    pub actor: Option<String>,
    /// The organisation the actor signs for (a coalition member's joint sign-off).
    #[serde(rename = "for")]
    pub for_organisation: Option<String>,
    pub attach: Option<String>,
    pub set: Option<BTreeMap<String, String>>,
    pub record: Option<RecordStep>,
    /// An organisation joins a party of the case (`{party: ormas, organisation: …}`).
    pub join: Option<Membership>,
    pub fire: Option<String>,
    pub comment: Option<String>,
    pub expect: Option<Expect>,
}

/// A record added to the case (`{kind: pembayaran, values: {termin: "1", jumlah: …}}`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordStep {
    pub kind: String,
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Membership {
    pub party: String,
    pub organisation: String,
}

/// What must hold after a step.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The case's stage after the step.
    pub stage: Option<String>,
    /// Notification kinds (`reminder`, `overdue_reminder`, `overdue`, `escalation`,
    /// `late_entry`) that went out since the previous step, this step's own included.
    #[serde(default)]
    pub notified: Vec<String>,
    pub closed: Option<bool>,
    /// The step's action must be refused with this code (`rule_broken`,
    /// `missing_requirements`, …), leaving the case exactly as it was.
    pub refused: Option<String>,
}

struct Story<'a> {
    workflow: &'a Workflow,
    calendar: &'a Calendar,
    language: Language,
}

impl Story<'_> {
    fn when(&self, instant: Timestamp) -> String {
        let local = self.calendar.time_zone().to_datetime(instant);
        format!(
            "{:>17} {:02}.{:02}",
            format::date(local.date(), self.language),
            local.hour(),
            local.minute()
        )
    }

    fn labels(&self) -> swakelola_view::Labels<'_> {
        swakelola_view::Labels::new(self.workflow, self.language)
    }

    fn stage(&self, id: &str) -> String {
        self.labels().stage(id).label
    }

    /// `Siti Aminah (Pimpinan Ormas)`.
    fn who(&self, actor: &swakelola_core::Actor) -> String {
        format!("{} ({})", actor.name, self.labels().role(&actor.role).label)
    }

    fn deadline(&self, state: &swakelola_core::CaseState) -> String {
        state
            .obligations
            .values()
            .filter(|o| matches!(o.source, ObligationSource::StageDeadline { .. }))
            .map(|o| {
                let date = format::date(o.due_date, self.language);
                let deadline =
                    catalogue::message(self.language, "deadline-on", &[("date", date.as_str())]);
                if o.provisional {
                    format!(" · {deadline} ({})", self.labels().provisional_note())
                } else {
                    format!(" · {deadline}")
                }
            })
            .next()
            .unwrap_or_default()
    }

    /// The line telling `notification` (none for a transition notice: the transition's own
    /// line tells it).
    fn notification(&self, notification: &Notification) -> Option<String> {
        let icon = match notification.kind {
            NotificationKind::Reminder => "🔔",
            NotificationKind::OverdueReminder => "⏰",
            NotificationKind::Overdue => "⚠️ ",
            NotificationKind::Escalation => "📣",
            NotificationKind::DeadlineMoved => "📅",
            NotificationKind::LateEntry => "↪️ ",
            NotificationKind::Transitioned => return None,
        };
        let labels = self.labels();
        let what = labels.notification(notification.kind);
        // The workflow's own name for the obligation: "Laporan kemajuan Oktober 2025",
        // "Tenggat tahap «Reviu KAK»".
        let subject = match &notification.obligation {
            Some(obligation) => labels.obligation(&obligation.source),
            None => catalogue::message(
                self.language,
                "simulate-stage",
                &[("stage", &self.stage(&notification.stage))],
            ),
        };
        let due = notification
            .obligation
            .as_ref()
            .map(|o| {
                let due = format::date(o.due_date, self.language);
                let line = catalogue::message(self.language, "agenda-line-due", &[("due", &due)]);
                match o.late_entry() {
                    // Begun after its day: say which day had passed, and what counts now.
                    Some(LateEntry::InWindow { passed }) => {
                        let passed = format::date(passed, self.language);
                        let reason = catalogue::message(
                            self.language,
                            "simulate-late-window",
                            &[("passed", &passed)],
                        );
                        format!(" {reason}; {line}")
                    }
                    Some(LateEntry::Routed { passed }) => {
                        let passed = format::date(passed, self.language);
                        format!(
                            " {}",
                            catalogue::message(
                                self.language,
                                "simulate-late-routed",
                                &[("passed", &passed)],
                            )
                        )
                    }
                    None => format!(" {line}"),
                }
            })
            .unwrap_or_default();
        let to: Vec<String> = notification
            .to
            .iter()
            .map(|role| labels.role(role).label)
            .collect();
        Some(format!("{icon} {what}: {subject}{due} → {}", to.join(", ")))
    }

    /// A field's definition: of the case, or of a kind of record (`pembayaran.jumlah`).
    fn field_def(&self, field: &str) -> Option<&swakelola_core::model::FieldDef> {
        match field.split_once('.') {
            Some((record, field)) => self.workflow.record(record)?.field(field),
            None => self.workflow.field(field),
        }
    }

    /// A value as people write it (`Rp34.500.000`), whatever was typed.
    fn shown(&self, field: &str, value: &str) -> String {
        self.field_def(field)
            .and_then(|f| f.field_type.parse(value).ok())
            .map_or_else(
                || value.to_owned(),
                |parsed| self.labels().value(field, &parsed),
            )
    }

    /// `Jumlah Rp20.700.000` for a field of a record.
    fn record_value(&self, record: &str, field: &str, value: &str) -> String {
        let path = format!("{record}.{field}");
        let label = self
            .field_def(&path)
            .map_or_else(|| field.to_owned(), |f| self.labels().text(&f.label));
        format!("{label} {}", self.shown(&path, value))
    }
}

fn local(text: &str, calendar: &Calendar, language: Language) -> anyhow::Result<Timestamp> {
    let civil: DateTime = text.parse().map_err(|_| {
        anyhow::anyhow!(catalogue::message(
            language,
            "simulate-bad-time",
            &[("text", text)]
        ))
    })?;
    Ok(civil
        .to_zoned_datetime(calendar.time_zone().clone())?
        .timestamp())
}

fn kind_name(kind: NotificationKind) -> &'static str {
    match kind {
        NotificationKind::Reminder => "reminder",
        NotificationKind::OverdueReminder => "overdue_reminder",
        NotificationKind::Overdue => "overdue",
        NotificationKind::Escalation => "escalation",
        NotificationKind::Transitioned => "transitioned",
        NotificationKind::DeadlineMoved => "deadline_moved",
        NotificationKind::LateEntry => "late_entry",
    }
}

/// The cases of a running scenario: business key → case id, in the order opened, and each
/// one's last stage seen (to print automatic moves).
#[derive(Default)]
struct Cases {
    opened: Vec<(String, String)>,
    stages: BTreeMap<String, String>,
}

impl Cases {
    fn id(&self, key: &str, language: Language) -> anyhow::Result<String> {
        self.opened
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, id)| id.clone())
            .ok_or_else(|| {
                anyhow::anyhow!(catalogue::message(
                    language,
                    "simulate-unknown-case",
                    &[("case", key)]
                ))
            })
    }

    fn key<'a>(&'a self, id: &'a str) -> &'a str {
        self.opened
            .iter()
            .find(|(_, i)| i == id)
            .map_or(id, |(k, _)| k.as_str())
    }
}

/// What one run of a scenario keeps between steps.
struct Run<'a> {
    story: Story<'a>,
    store: Arc<SqlStore>,
    clock: Arc<ManualClock>,
    runner: Runner,
    cases: Cases,
    /// More than one case: each line says which.
    tagged: bool,
    /// Notification kinds delivered since the last expectations, and over the whole run
    /// (with the line that told it).
    notified: Vec<&'static str>,
    all_notified: Vec<(&'static str, String)>,
}

impl Run<'_> {
    fn text(&self, id: &str, args: &[(&str, &str)]) -> String {
        catalogue::message(self.story.language, id, args)
    }

    /// `10 Desember 2024 10.00  [DP3A-2025-001]` when the scenario has several cases.
    fn prefix(&self, at: Timestamp, case_id: &str) -> String {
        if self.tagged {
            format!("{}  [{}]", self.story.when(at), self.cases.key(case_id))
        } else {
            self.story.when(at)
        }
    }

    async fn open(&mut self, open: &OpenStep, workflow_id: &str) -> anyhow::Result<()> {
        let now = self.clock.now();
        let mut parties = Parties::default();
        for (party, organisations) in &open.parties {
            for organisation in organisations {
                parties.name(party, organisation);
            }
        }
        parties.contacts = open.contacts.clone();
        let origin = match (&open.follows, &open.replicates) {
            (Some(_), Some(_)) => anyhow::bail!(self.text(
                "simulate-follows-and-replicates",
                &[("case", open.key.as_str())]
            )),
            (Some(key), None) => Some((swakelola_core::LinkKind::Follows, key)),
            (None, Some(key)) => Some((swakelola_core::LinkKind::Replicates, key)),
            (None, None) => None,
        };
        let origin = origin
            .map(|(link, key)| {
                Ok::<_, anyhow::Error>(Origin {
                    link,
                    case_id: self.cases.id(key, self.story.language)?,
                    carry: open.carry.clone(),
                })
            })
            .transpose()?;
        let actor = Actor::new(open.actor.clone(), open.role.clone());
        let opened = self
            .store
            .open(
                &OpenCase {
                    origin,
                    workflow_id: workflow_id.to_owned(),
                    organisation: open.organisation.clone(),
                    business_key: open.key.clone(),
                    actor: actor.clone(),
                    fields: open.fields.clone().into_iter().collect(),
                    parties,
                },
                now,
            )
            .await?;
        let id = opened.case.id.clone();
        self.cases.opened.push((open.key.clone(), id.clone()));
        self.cases
            .stages
            .insert(id.clone(), opened.case.state.stage.clone());
        let origin = open
            .follows
            .as_ref()
            .map(|key| self.text("simulate-follows", &[("case", key)]))
            .or_else(|| {
                open.replicates
                    .as_ref()
                    .map(|key| self.text("simulate-replicates", &[("case", key)]))
            })
            .map(|text| format!(" ({text})"))
            .unwrap_or_default();
        println!(
            "{}  ▶ {}: {}{origin} → «{}»{}",
            self.prefix(now, &id),
            self.story.who(&actor),
            self.text("simulate-opened", &[]),
            self.story.stage(&opened.case.state.stage),
            self.story.deadline(&opened.case.state)
        );
        Ok(())
    }

    /// Lets time pass up to `at`: every timer due by then fires at its own instant, in
    /// order; then what is waiting in the outbox goes out at `at`.
    async fn advance(&mut self, at: Timestamp) -> anyhow::Result<()> {
        while let Some(next) = self.store.next_timer_due().await? {
            if next > at {
                break;
            }
            // Already past due when it was scheduled? The runner notices it at once.
            let now = next.max(self.clock.now());
            self.tick(now).await?;
        }
        let now = at.max(self.clock.now());
        self.tick(now).await
    }

    async fn tick(&mut self, now: Timestamp) -> anyhow::Result<()> {
        self.clock.set(now);
        let tick = self.runner.tick(now, &mut |_| {}).await?;
        for case in &tick.fired.set_aside {
            println!(
                "{}  ⛔ {}",
                self.story.when(now),
                self.text(
                    "simulate-set-aside",
                    &[
                        ("case", self.cases.key(case)),
                        ("limit", &self.runner.max_fires_per_case.to_string())
                    ]
                )
            );
        }
        let delivered = tick.delivery.delivered;
        let mut seen: Vec<(String, String)> = Vec::new();
        for message in &delivered {
            let Ok(notification) =
                serde_json::from_value::<Notification>(message.payload["notification"].clone())
            else {
                continue;
            };
            // One line per notice, however many people it went to.
            let once = (message.case_id.clone(), notification.key.clone());
            if seen.contains(&once) {
                continue;
            }
            seen.push(once);
            let kind = kind_name(notification.kind);
            self.notified.push(kind);
            if let Some(line) = self.story.notification(&notification) {
                let line = format!("{}  {line}", self.prefix(now, &message.case_id));
                println!("{line}");
                self.all_notified.push((kind, line));
            }
        }
        // Only a fired timer moves a case by itself (`on_expiry`).
        let moved = if tick.fired.fired == 0 {
            Vec::new()
        } else {
            self.cases.opened.clone()
        };
        for (_, id) in moved {
            let state = self.store.case(&id).await?.state;
            let last = self.cases.stages.get(&id).cloned().unwrap_or_default();
            if state.stage != last {
                println!(
                    "{}  ⏩ {}: «{}» → «{}»{}",
                    self.prefix(now, &id),
                    self.text("simulate-automatic", &[]),
                    self.story.stage(&last),
                    self.story.stage(&state.stage),
                    self.story.deadline(&state)
                );
                self.cases.stages.insert(id, state.stage);
            }
        }
        Ok(())
    }

    /// The actions of `step`, each with the line that tells it.
    fn actions(
        &self,
        step: &Step,
        case_key: &str,
        actor: &Actor,
    ) -> Vec<(Action, Option<Vec<u8>>, String)> {
        let story = &self.story;
        let labels = story.labels();
        let mut actions = Vec::new();
        if let Some(document) = &step.attach {
            let content = format!("{document} — {case_key}").into_bytes();
            actions.push((
                Action::Attach {
                    document_type: document.clone(),
                    file_name: format!("{document}.pdf"),
                    sha256: sha256_hex(&content),
                    size: content.len() as u64,
                },
                Some(content),
                format!(
                    "📎 {}: {} «{}»",
                    story.who(actor),
                    self.text("simulate-attach", &[]),
                    labels.document(document).label
                ),
            ));
        }
        for (field, value) in step.set.iter().flatten() {
            actions.push((
                Action::SetField {
                    field: field.clone(),
                    value: value.clone(),
                },
                None,
                format!(
                    "✎ {}: «{}» = {}",
                    story.who(actor),
                    labels.field(field).label,
                    story.shown(field, value)
                ),
            ));
        }
        if let Some(record) = &step.record {
            // In the order the workflow declares the record's fields.
            let declared: Vec<&str> = story
                .workflow
                .record(&record.kind)
                .map(|r| r.fields.iter().map(|f| f.id.as_str()).collect())
                .unwrap_or_default();
            let mut given: Vec<(&String, &String)> = record.values.iter().collect();
            given.sort_by_key(|(field, _)| {
                declared
                    .iter()
                    .position(|d| d == field)
                    .unwrap_or(usize::MAX)
            });
            let values: Vec<String> = given
                .into_iter()
                .map(|(field, value)| story.record_value(&record.kind, field, value))
                .collect();
            actions.push((
                Action::AddRecord {
                    record: record.kind.clone(),
                    values: record.values.clone().into_iter().collect(),
                },
                None,
                format!(
                    "🧾 {}: «{}» {}",
                    story.who(actor),
                    labels.record(&record.kind).label,
                    values.join(", ")
                ),
            ));
        }
        if let Some(join) = &step.join {
            actions.push((
                Action::AddMember {
                    party: join.party.clone(),
                    organisation: join.organisation.clone(),
                },
                None,
                format!(
                    "➕ {}: {}",
                    story.who(actor),
                    self.text(
                        "simulate-joins",
                        &[
                            ("organisation", &join.organisation),
                            ("party", &labels.party(&join.party).label)
                        ]
                    )
                ),
            ));
        }
        if let Some(transition) = &step.fire {
            let label = labels.transition(transition).label;
            let signing = step
                .for_organisation
                .as_ref()
                .map(|o| format!(" ({})", self.text("simulate-for", &[("organisation", o)])))
                .unwrap_or_default();
            actions.push((
                Action::Fire {
                    transition: transition.clone(),
                    comment: step.comment.clone(),
                },
                None,
                format!("▶ {}{signing}: {label}", story.who(actor)),
            ));
        }
        actions
    }
}

/// What a scenario run found: the expectations that failed, and the cases it opened (ids,
/// in order).
pub struct Outcome {
    pub failures: Vec<String>,
    pub cases: Vec<String>,
}

/// A fresh in-memory database for a scenario.
pub async fn memory_store() -> anyhow::Result<Arc<SqlStore>> {
    let store = SqlStore::connect("sqlite::memory:").await?;
    store.migrate().await?;
    Ok(Arc::new(store))
}

/// Runs `scenario` against `workflow` (with its calendar files) on `store` (a migrated,
/// empty database: in memory unless the caller keeps the result) and prints the timeline.
pub async fn simulate(
    store: Arc<SqlStore>,
    workflow_file: &str,
    workflow: &str,
    calendars: &[(String, String)],
    scenario: &Scenario,
    language: Language,
) -> anyhow::Result<Outcome> {
    let deployed = store
        .deploy(workflow_file, workflow, calendars, Timestamp::UNIX_EPOCH)
        .await?;
    let engine = store
        .engine_for(&deployed.workflow.id, deployed.workflow.version)
        .await?;
    let start = local(&scenario.start, &engine.calendar, language)?;
    let clock = Arc::new(ManualClock::new(start));
    let runner = Runner::new(store.clone(), clock.clone());
    let opens = usize::from(scenario.open.is_some())
        + scenario.steps.iter().filter(|s| s.open.is_some()).count();
    let mut run = Run {
        story: Story {
            workflow: &engine.workflow,
            calendar: &engine.calendar,
            language,
        },
        store: store.clone(),
        clock,
        runner,
        cases: Cases::default(),
        tagged: opens > 1,
        notified: Vec::new(),
        all_notified: Vec::new(),
    };
    let workflow_id = deployed.workflow.id.clone();
    if let Some(open) = &scenario.open {
        run.open(open, &workflow_id).await?;
    }
    let mut failures = Vec::new();

    for (number, step) in scenario.steps.iter().enumerate() {
        let step_name = (number + 1).to_string();
        let at = local(&step.at, &engine.calendar, language)?;
        run.advance(at).await?;
        if let Some(open) = &step.open {
            run.open(open, &workflow_id).await?;
        }
        let case_id = match &step.case {
            Some(key) => run.cases.id(key, language)?,
            None => run
                .cases
                .opened
                .last()
                .map(|(_, id)| id.clone())
                .ok_or_else(|| {
                    anyhow::anyhow!(run.text(
                        "simulate-no-case-yet",
                        &[("step", &step_name), ("at", &step.at)]
                    ))
                })?,
        };
        let case_key = run.cases.key(&case_id).to_owned();
        let mut actor = Actor::new(
            step.actor.clone().unwrap_or_else(|| "simulasi".to_owned()),
            step.role.clone().unwrap_or_default(),
        );
        if let Some(organisation) = &step.for_organisation {
            actor = actor.for_organisation(organisation.clone());
        }
        let expected_refusal = step.expect.as_ref().and_then(|e| e.refused.as_deref());
        let mut refused = false;
        for (action, content, line) in run.actions(step, &case_key, &actor) {
            let now = run.clock.now();
            // Read only when a refusal is expected: it must leave the case as it was.
            let before = match expected_refusal {
                Some(_) => Some(store.case(&case_id).await?.state),
                None => None,
            };
            let result = store
                .execute(
                    &CaseCommand {
                        case_id: case_id.clone(),
                        actor: actor.clone(),
                        action: action.clone(),
                        expected_revision: None,
                        idempotency_key: None,
                        content,
                    },
                    now,
                )
                .await;
            match result {
                Ok(applied) => {
                    let state = &applied.case.state;
                    let approval = applied.event.as_ref().and_then(|e| match &e.kind {
                        swakelola_core::EventKind::Approved { outstanding, .. } => {
                            Some(outstanding.clone())
                        }
                        _ => None,
                    });
                    if let Some(outstanding) = approval {
                        // One signature of a joint sign-off: it takes effect with the last.
                        let labels = run.story.labels();
                        let waiting: Vec<String> = outstanding
                            .iter()
                            .map(|r| format!("«{}»", labels.signer(r)))
                            .collect();
                        println!(
                            "{}  {line}: {} {}",
                            run.prefix(now, &case_id),
                            run.text("simulate-approved-waiting", &[]),
                            waiting.join(", ")
                        );
                    } else if matches!(action, Action::Fire { .. }) {
                        println!(
                            "{}  {line} → «{}»{}",
                            run.prefix(now, &case_id),
                            run.story.stage(&state.stage),
                            run.story.deadline(state)
                        );
                        run.cases
                            .stages
                            .insert(case_id.clone(), state.stage.clone());
                    } else {
                        println!("{}  {line}", run.prefix(now, &case_id));
                    }
                }
                Err(error) => {
                    let code = error.code();
                    let text = swakelola_view::refusal::error(
                        swakelola_view::refusal::Names::new(language, Some(run.story.labels())),
                        &error,
                    );
                    let unchanged = match &before {
                        Some(before) => &store.case(&case_id).await?.state == before,
                        None => false,
                    };
                    if expected_refusal == Some(code) && unchanged {
                        refused = true;
                        println!(
                            "{}  🚫 {line}: {} — {text}",
                            run.prefix(now, &case_id),
                            run.text("simulate-refused-as-expected", &[])
                        );
                    } else {
                        println!("{}  ✗ {line}: {text}", run.prefix(now, &case_id));
                        failures.push(run.text(
                            "simulate-step-failed",
                            &[("step", &step_name), ("at", &step.at), ("error", &text)],
                        ));
                    }
                }
            }
        }
        // What the step's own actions caused goes out now, at the step's time.
        let now = run.clock.now();
        run.advance(now).await?;
        let Some(expect) = &step.expect else {
            continue;
        };
        let context = [("step", step_name.as_str()), ("at", step.at.as_str())];
        if let Some(code) = expected_refusal
            && !refused
        {
            failures.push(run.text(
                "simulate-expected-refusal",
                &[context[0], context[1], ("code", &format!("`{code}`"))],
            ));
        }
        let state = store.case(&case_id).await?.state;
        if let Some(stage) = &expect.stage
            && &state.stage != stage
        {
            failures.push(run.text(
                "simulate-expected-stage",
                &[
                    context[0],
                    context[1],
                    ("expected", &format!("`{stage}`")),
                    ("actual", &format!("`{}`", state.stage)),
                ],
            ));
        }
        if let Some(closed) = expect.closed
            && closed != state.is_closed()
        {
            failures.push(run.text(
                if closed {
                    "simulate-expected-closed"
                } else {
                    "simulate-expected-open"
                },
                &context,
            ));
        }
        for kind in &expect.notified {
            if !run.notified.contains(&kind.as_str()) {
                let got = if run.notified.is_empty() {
                    run.text("none", &[])
                } else {
                    run.notified.join(", ")
                };
                failures.push(run.text(
                    "simulate-expected-notification",
                    &[
                        context[0],
                        context[1],
                        ("kind", &format!("`{kind}`")),
                        ("got", &got),
                    ],
                ));
            }
        }
        run.notified.clear();
    }
    for kind in &scenario.never_notified {
        if let Some((_, line)) = run.all_notified.iter().find(|(k, _)| k == kind) {
            failures.push(run.text(
                "simulate-never-notified",
                &[("kind", &format!("`{kind}`")), ("line", line.trim())],
            ));
        }
    }
    println!();
    for (key, id) in &run.cases.opened {
        let verification = store.verify(id).await?;
        let record = store.case(id).await?;
        let summary = run.text(
            if verification.first_tampered.is_none() {
                "simulate-summary-intact"
            } else {
                "simulate-summary-tampered"
            },
            &[
                ("events", &verification.events.to_string()),
                (
                    "stage",
                    &format!("«{}»", run.story.stage(&record.state.stage)),
                ),
            ],
        );
        if run.tagged {
            println!("[{key}] {summary}");
        } else {
            println!("{summary}");
        }
    }
    Ok(Outcome {
        failures,
        cases: run.cases.opened.iter().map(|(_, id)| id.clone()).collect(),
    })
}
