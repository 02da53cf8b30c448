//! What a workflow migration does to each case, as an administrator reads it before
//! (`--dry-run`) and after applying it: the stage before → after, deadlines that move (in
//! working days), notices that go out at once, guards the case no longer meets, and why a
//! case cannot move.

use jiff::civil::Date;
use serde::Serialize;
use swakelola_core::format::Language;
use swakelola_core::state::TimerKind;
use swakelola_core::step::migrate::CaseMigration;
use swakelola_core::{Calendar, Workflow};
use swakelola_store::{CaseMigrated, CheckedPlan, Error, MigrationCandidate};

use crate::refusal::{self, Names};
use crate::{Labels, Named, catalogue, local_time};

/// One case's line of a migration report.
#[derive(Debug, Clone, Serialize)]
pub struct CaseMigrationView {
    pub case_id: String,
    pub business_key: String,
    pub organisation: String,
    /// `would_migrate` (dry run), `migrated`, `already_migrated`, `not_taken` or `refused`.
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_stage: Option<Named>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_stage: Option<Named>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub moved: Vec<MovedView>,
    /// Obligations the new version adds, with their due dates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<String>,
    /// Obligations the new version no longer has.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<String>,
    /// Reminders, overdue notices and escalations that go out as soon as a runner looks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub at_once: Vec<String>,
    /// Guards the case met before and no longer meets: `«transition»: what it needs`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unmet: Vec<String>,
    /// Fields set from the plan's defaults: `«label» = value`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub defaulted: Vec<String>,
    /// Fields the new version no longer declares (kept in the case's history).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dropped_fields: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<RefusalView>,
}

/// A deadline that moves: old date → new date, and by how many working days.
#[derive(Debug, Clone, Serialize)]
pub struct MovedView {
    pub obligation: String,
    pub from: Date,
    pub to: Date,
    pub working_days: i64,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RefusalView {
    pub code: &'static str,
    pub message: String,
}

/// How many cases a run took, moved, found moved already and could not move.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Summary {
    pub total: usize,
    /// Moved (or, in a dry run, would move).
    pub migrated: usize,
    pub already_migrated: usize,
    pub refused: usize,
}

impl Summary {
    pub fn of(cases: &[CaseMigrationView]) -> Self {
        let count = |outcomes: &[&str]| {
            cases
                .iter()
                .filter(|c| outcomes.contains(&c.outcome))
                .count()
        };
        Self {
            total: cases.len(),
            migrated: count(&["migrated", "would_migrate"]),
            already_migrated: count(&["already_migrated"]),
            refused: count(&["refused"]),
        }
    }

    /// `2 kasus: 2 dipindahkan, 0 sudah di versi baru, 0 tidak dapat dipindahkan.`
    pub fn text(&self, dry_run: bool, language: Language) -> String {
        let id = if dry_run {
            "migrate-summary-dry-run"
        } else {
            "migrate-summary"
        };
        catalogue::message(
            language,
            id,
            &[
                ("total", &self.total.to_string()),
                ("migrated", &self.migrated.to_string()),
                ("already", &self.already_migrated.to_string()),
                ("refused", &self.refused.to_string()),
            ],
        )
    }
}

/// The two versions a case moves between, with the new version's calendar.
#[derive(Debug, Clone, Copy)]
struct Versions<'w> {
    source: &'w Workflow,
    target: &'w Workflow,
    calendar: &'w Calendar,
}

impl CaseMigrationView {
    /// The line for `candidate`, whose migration gave `result` (`applied`: written, not a
    /// dry run).
    pub fn build(
        candidate: &MigrationCandidate,
        result: &Result<CaseMigrated, Error>,
        plan: &CheckedPlan,
        applied: bool,
        language: Language,
    ) -> Self {
        let target = plan.target();
        let versions = Versions {
            source: &plan.source(candidate.version).workflow,
            target: &target.workflow,
            calendar: &target.calendar,
        };
        let mut view = Self {
            case_id: candidate.id.clone(),
            business_key: candidate.business_key.clone(),
            organisation: candidate.organisation.clone(),
            outcome: "not_taken",
            from_stage: None,
            to_stage: None,
            moved: Vec::new(),
            added: Vec::new(),
            dropped: Vec::new(),
            at_once: Vec::new(),
            unmet: Vec::new(),
            defaulted: Vec::new(),
            dropped_fields: Vec::new(),
            refusal: None,
        };
        let old = Labels::new(versions.source, language);
        let new = Labels::new(versions.target, language);
        match result {
            Ok(CaseMigrated::Migrated(migration)) => {
                view.outcome = if applied { "migrated" } else { "would_migrate" };
                view.describe(migration, versions, old, new, language);
            }
            Ok(CaseMigrated::AlreadyMigrated) => view.outcome = "already_migrated",
            Ok(CaseMigrated::NotTaken) => view.outcome = "not_taken",
            Err(error) => {
                view.outcome = "refused";
                view.from_stage = Some(old.stage(&candidate.stage));
                let names = Names::new(language, Some(new));
                view.refusal = Some(RefusalView {
                    code: error.code(),
                    message: match error {
                        Error::MigrationRefused { refusal, .. } => {
                            refusal::migration_refusal(names, refusal)
                        }
                        other => refusal::error(names, other),
                    },
                });
            }
        }
        view
    }

    fn describe(
        &mut self,
        migration: &CaseMigration,
        versions: Versions<'_>,
        old: Labels<'_>,
        new: Labels<'_>,
        language: Language,
    ) {
        self.from_stage = Some(old.stage(migration.from_stage()));
        self.to_stage = Some(new.stage(migration.to_stage()));
        let state = &migration.outcome.state;
        self.moved = migration
            .moved()
            .iter()
            .map(|m| {
                let working_days = versions.calendar.working_days_between(m.from, m.to);
                let obligation = new.obligation_key(&m.obligation);
                let text = catalogue::message(
                    language,
                    "migrate-moved",
                    &[
                        ("obligation", &obligation),
                        ("from", &new.date(m.from)),
                        ("to", &new.date(m.to)),
                        ("days", &format!("{working_days:+}")),
                    ],
                );
                MovedView {
                    obligation,
                    from: m.from,
                    to: m.to,
                    working_days,
                    text,
                }
            })
            .collect();
        let due = |o: &swakelola_core::Obligation| {
            format!(
                "{} ({})",
                new.obligation(&o.source),
                catalogue::message(language, "migrate-due", &[("due", &new.date(o.due_date))])
            )
        };
        self.added = migration.added.iter().map(due).collect();
        self.dropped = migration
            .dropped
            .iter()
            .map(|o| {
                format!(
                    "{} ({})",
                    old.obligation(&o.source),
                    catalogue::message(language, "migrate-due", &[("due", &old.date(o.due_date))])
                )
            })
            .collect();
        self.at_once = migration
            .at_once
            .iter()
            .map(|timer| {
                let (notice, obligation) = match &timer.kind {
                    TimerKind::Reminder { obligation, .. } => ("notice-reminder", Some(obligation)),
                    TimerKind::Due { obligation } => ("notice-overdue", Some(obligation)),
                    TimerKind::Escalation { obligation, .. } => {
                        ("notice-escalation", Some(obligation))
                    }
                    TimerKind::PeriodStart { .. } => ("period-opened", None),
                };
                let about = obligation
                    .and_then(|key| state.obligations.get(key))
                    .map(|o| format!("{} — ", new.obligation(&o.source)))
                    .unwrap_or_default();
                format!(
                    "{about}{} ({})",
                    new.msg(notice),
                    local_time(timer.due_at, versions.calendar, language)
                )
            })
            .collect();
        self.unmet = migration
            .unmet
            .iter()
            .map(|(transition, failure)| {
                format!(
                    "«{}»: {}",
                    new.transition(transition).label,
                    refusal::guard_failure(Names::new(language, Some(new)), failure)
                )
            })
            .collect();
        self.defaulted = migration
            .defaulted()
            .iter()
            .map(|(field, value)| {
                format!("«{}» = {}", new.field(field).label, new.value(field, value))
            })
            .collect();
        self.dropped_fields = migration
            .dropped_fields()
            .iter()
            .map(|(field, value)| {
                format!("«{}» = {}", old.field(field).label, old.value(field, value))
            })
            .collect();
    }

    /// The line and its details as text, indented under the case.
    pub fn text(&self, language: Language) -> String {
        use std::fmt::Write as _;
        let msg = |id: &str, args: &[(&str, &str)]| catalogue::message(language, id, args);
        let mut out = String::new();
        let stages = match (&self.from_stage, &self.to_stage) {
            (Some(from), Some(to)) if from.id == to.id => format!("«{}»", to.label),
            (Some(from), Some(to)) => format!("«{}» → «{}»", from.label, to.label),
            (Some(from), None) => format!("«{}»", from.label),
            _ => String::new(),
        };
        let outcome = match self.outcome {
            "refused" => msg(
                "migrate-case-refused",
                &[(
                    "reason",
                    self.refusal.as_ref().map_or("", |r| r.message.as_str()),
                )],
            ),
            other => msg(&format!("migrate-case-{}", other.replace('_', "-")), &[]),
        };
        let _ = writeln!(
            out,
            "{} ({}) {stages}: {outcome}",
            self.business_key, self.organisation
        );
        for moved in &self.moved {
            let _ = writeln!(out, "  {}", moved.text);
        }
        let mut section = |label: &str, lines: &[String]| {
            for line in lines {
                let _ = writeln!(out, "  {}: {line}", msg(label, &[]));
            }
        };
        section("migrate-added", &self.added);
        section("migrate-dropped", &self.dropped);
        section("migrate-at-once", &self.at_once);
        section("migrate-unmet", &self.unmet);
        section("migrate-defaulted", &self.defaulted);
        section("migrate-dropped-fields", &self.dropped_fields);
        out
    }
}
