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
use swakelola_core::state::{Notification, NotificationKind, ObligationSource};
use swakelola_core::step::Action;
use swakelola_core::{Actor, Calendar, Workflow};
use swakelola_store::{CaseCommand, OpenCase, OutboxMessage, Parties, SqlStore, Store, sha256_hex};
use swakelola_view::catalogue;

use crate::runner::{Clock, ManualClock, Runner};

/// A scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// When the case is opened, local time (`2024-12-10T10:00`).
    pub start: String,
    pub open: OpenStep,
    #[serde(default)]
    pub steps: Vec<Step>,
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
}

fn default_key() -> String {
    "SIMULASI-1".to_owned()
}

fn default_organisation() -> String {
    "simulasi".to_owned()
}

/// One step: at a local time, optionally one action, optionally expectations.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub at: String,
    #[serde(rename = "as")]
    pub role: Option<String>,
    pub actor: Option<String>,
    pub attach: Option<String>,
    pub set: Option<BTreeMap<String, String>>,
    pub fire: Option<String>,
    pub comment: Option<String>,
    pub expect: Option<Expect>,
}

/// What must hold after a step.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The case's stage after the step.
    pub stage: Option<String>,
    /// Notification kinds (`reminder`, `overdue_reminder`, `overdue`, `escalation`) that went
    /// out since the previous step.
    #[serde(default)]
    pub notified: Vec<String>,
    pub closed: Option<bool>,
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
            let icon = match notification.kind {
                NotificationKind::Reminder => "🔔",
                NotificationKind::OverdueReminder => "⏰",
                NotificationKind::Overdue => "⚠️ ",
                NotificationKind::Escalation => "📣",
                NotificationKind::DeadlineMoved => "📅",
                NotificationKind::Transitioned => continue,
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
                    format!(
                        " {}",
                        catalogue::message(self.language, "agenda-line-due", &[("due", &due)])
                    )
                })
                .unwrap_or_default();
            let to: Vec<String> = notification
                .to
                .iter()
                .map(|role| labels.role(role).label)
                .collect();
            println!(
                "{}  {icon} {what}: {subject}{due} → {}",
                self.when(at),
                to.join(", ")
            );
        }
    }
}

fn local(text: &str, calendar: &Calendar) -> anyhow::Result<Timestamp> {
    let civil: DateTime = text.parse().map_err(|e| {
        anyhow::anyhow!("`{text}` is not a local date and time like 2025-03-24T09:00: {e}")
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
    }
}

/// Runs `scenario` against `workflow` (with its calendar files) and prints the timeline.
/// Returns the expectations that failed.
pub async fn simulate(
    workflow_file: &str,
    workflow: &str,
    calendars: &[(String, String)],
    scenario: &Scenario,
    language: Language,
) -> anyhow::Result<Vec<String>> {
    let text = |id: &str, args: &[(&str, &str)]| catalogue::message(language, id, args);
    let store = Arc::new(SqlStore::connect("sqlite::memory:").await?);
    store.migrate().await?;
    let deployed = store
        .deploy(workflow_file, workflow, calendars, Timestamp::UNIX_EPOCH)
        .await?;
    let engine = store
        .engine_for(&deployed.workflow.id, deployed.workflow.version)
        .await?;
    let story = Story {
        workflow: &engine.workflow,
        calendar: &engine.calendar,
        language,
    };
    let start = local(&scenario.start, &engine.calendar)?;
    let clock = Arc::new(ManualClock::new(start));
    let runner = Runner::new(store.clone(), clock.clone());
    let opened = store
        .open(
            &OpenCase {
                origin: None,
                workflow_id: deployed.workflow.id.clone(),
                organisation: scenario.open.organisation.clone(),
                business_key: scenario.open.key.clone(),
                actor: Actor::new(scenario.open.actor.clone(), scenario.open.role.clone()),
                fields: scenario.open.fields.clone().into_iter().collect(),
                parties: Parties::default(),
            },
            start,
        )
        .await?;
    let case_id = opened.case.id.clone();
    println!(
        "{}  ▶ {}: {} → «{}»{}",
        story.when(start),
        story.who(&swakelola_core::Actor::new(
            scenario.open.actor.clone(),
            scenario.open.role.clone()
        )),
        text("simulate-opened", &[]),
        story.stage(&opened.case.state.stage),
        story.deadline(&opened.case.state)
    );
    let mut last_stage = opened.case.state.stage.clone();
    let mut failures = Vec::new();

    for (number, step) in scenario.steps.iter().enumerate() {
        let at = local(&step.at, &engine.calendar)?;
        let mut notified: Vec<&'static str> = Vec::new();
        // Let time pass: every timer due before `at` fires at its own instant, in order.
        while let Some(next) = store.next_timer_due().await? {
            if next > at {
                break;
            }
            // Already past due when it was scheduled? The runner notices it at once.
            let now = next.max(clock.now());
            clock.set(now);
            let tick = runner.tick(now, &mut |_| {}).await?;
            let delivered: Vec<OutboxMessage> = tick.delivery.delivered;
            for case in &tick.fired.set_aside {
                println!(
                    "{}  ⛔ {}",
                    story.when(now),
                    text(
                        "simulate-set-aside",
                        &[
                            ("case", case),
                            ("limit", &runner.max_fires_per_case.to_string())
                        ]
                    )
                );
            }
            for message in &delivered {
                if let Ok(n) =
                    serde_json::from_value::<Notification>(message.payload["notification"].clone())
                {
                    notified.push(kind_name(n.kind));
                }
            }
            story.notifications(now, &delivered);
            let state = store.case(&case_id).await?.state;
            if state.stage != last_stage {
                println!(
                    "{}  ⏩ {}: «{}» → «{}»{}",
                    story.when(now),
                    text("simulate-automatic", &[]),
                    story.stage(&last_stage),
                    story.stage(&state.stage),
                    story.deadline(&state)
                );
                last_stage = state.stage.clone();
            }
        }
        clock.set(at.max(clock.now()));
        let actor = Actor::new(
            step.actor.clone().unwrap_or_else(|| "simulasi".to_owned()),
            step.role.clone().unwrap_or_default(),
        );
        let mut actions: Vec<(Action, Option<Vec<u8>>, String)> = Vec::new();
        if let Some(document) = &step.attach {
            let content = format!("{document} — {}", scenario.open.key).into_bytes();
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
                    story.who(&actor),
                    text("simulate-attach", &[]),
                    story.labels().document(document).label
                ),
            ));
        }
        for (field, value) in step.set.iter().flatten() {
            // The value as people write it (`Rp34.500.000`), whatever was typed.
            let shown = engine
                .workflow
                .field(field)
                .and_then(|f| f.field_type.parse(value).ok())
                .map_or_else(
                    || value.clone(),
                    |parsed| story.labels().value(field, &parsed),
                );
            actions.push((
                Action::SetField {
                    field: field.clone(),
                    value: value.clone(),
                },
                None,
                format!(
                    "✎ {}: «{}» = {shown}",
                    story.who(&actor),
                    story.labels().field(field).label
                ),
            ));
        }
        if let Some(transition) = &step.fire {
            let label = story.labels().transition(transition).label;
            actions.push((
                Action::Fire {
                    transition: transition.clone(),
                    comment: step.comment.clone(),
                },
                None,
                format!("▶ {}: {label}", story.who(&actor)),
            ));
        }
        for (action, content, line) in actions {
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
                    clock.now(),
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
                        let waiting: Vec<String> = outstanding
                            .iter()
                            .map(|r| format!("«{}»", story.labels().role(r).label))
                            .collect();
                        println!(
                            "{}  {line}: {} {}",
                            story.when(clock.now()),
                            text("simulate-approved-waiting", &[]),
                            waiting.join(", ")
                        );
                    } else if matches!(action, Action::Fire { .. }) {
                        println!(
                            "{}  {line} → «{}»{}",
                            story.when(clock.now()),
                            story.stage(&state.stage),
                            story.deadline(state)
                        );
                        last_stage = state.stage.clone();
                    } else {
                        println!("{}  {line}", story.when(clock.now()));
                    }
                }
                Err(error) => {
                    let error = swakelola_view::refusal::error(
                        swakelola_view::refusal::Names::new(language, Some(story.labels())),
                        &error,
                    );
                    println!("{}  ✗ {line}: {error}", story.when(clock.now()));
                    failures.push(text(
                        "simulate-step-failed",
                        &[
                            ("step", &(number + 1).to_string()),
                            ("at", &step.at),
                            ("error", &error),
                        ],
                    ));
                }
            }
        }
        if let Some(expect) = &step.expect {
            let state = store.case(&case_id).await?.state;
            if let Some(stage) = &expect.stage
                && &state.stage != stage
            {
                failures.push(text(
                    "simulate-expected-stage",
                    &[
                        ("step", &(number + 1).to_string()),
                        ("at", &step.at),
                        ("expected", &format!("`{stage}`")),
                        ("actual", &format!("`{}`", state.stage)),
                    ],
                ));
            }
            if let Some(closed) = expect.closed
                && closed != state.is_closed()
            {
                failures.push(text(
                    if closed {
                        "simulate-expected-closed"
                    } else {
                        "simulate-expected-open"
                    },
                    &[("step", &(number + 1).to_string()), ("at", &step.at)],
                ));
            }
            for kind in &expect.notified {
                if !notified.contains(&kind.as_str()) {
                    let got = if notified.is_empty() {
                        text("none", &[])
                    } else {
                        notified.join(", ")
                    };
                    failures.push(text(
                        "simulate-expected-notification",
                        &[
                            ("step", &(number + 1).to_string()),
                            ("at", &step.at),
                            ("kind", &format!("`{kind}`")),
                            ("got", &got),
                        ],
                    ));
                }
            }
        }
    }
    let verification = store.verify(&case_id).await?;
    let record = store.case(&case_id).await?;
    println!(
        "\n{}",
        text(
            if verification.first_tampered.is_none() {
                "simulate-summary-intact"
            } else {
                "simulate-summary-tampered"
            },
            &[
                ("events", &verification.events.to_string()),
                ("stage", &format!("«{}»", story.stage(&record.state.stage))),
            ],
        )
    );
    Ok(failures)
}
