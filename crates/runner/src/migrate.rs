//! `swakelola workflow migrate PLAN`: checks a migration plan against the deployed versions,
//! then previews (`--dry-run`) or applies it case by case, printing what happens to each.
//!
//! Every case is computed by the same store call in both modes, so the preview is what the
//! apply does to a case that nobody changes in between.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::json;
use swakelola_core::Actor;
use swakelola_core::format::Language;
use swakelola_definition::Diagnostic;
use swakelola_definition::migration::{Plan, check_plan, parse_plan};
use swakelola_store::{Engine, Error, MigrationMode, OPERATOR_ROLE, SqlStore, Store};
use swakelola_view::catalogue;
use swakelola_view::migration::{CaseMigrationView, Versions};

/// How often progress is reported on stderr, in cases.
const PROGRESS_EVERY: usize = 100;

/// What a run of a plan came to.
pub struct MigrationRun {
    pub cases: Vec<CaseMigrationView>,
    /// Set when the run stopped early (the database went away): re-running the plan
    /// continues where it stopped.
    pub stopped: Option<Error>,
}

/// Reads and checks the plan at `path`; `Err` with its diagnostics when it has errors.
pub async fn checked_plan(
    store: &SqlStore,
    path: &Path,
    text: &str,
) -> Result<(Plan, BTreeMap<u32, Arc<Engine>>, Vec<Diagnostic>), PlanProblem> {
    let file = path.display().to_string();
    let (raw, mut diagnostics) = parse_plan(&file, text);
    let Some(raw) = raw.filter(|_| !diagnostics.iter().any(Diagnostic::is_error)) else {
        return Err(PlanProblem::Invalid(diagnostics));
    };
    let mut engines = BTreeMap::new();
    for deployed in store
        .workflows()
        .await
        .map_err(PlanProblem::Store)?
        .into_iter()
        .filter(|w| w.id == raw.workflow.value)
    {
        let engine = store
            .engine_for(&deployed.id, deployed.version)
            .await
            .map_err(PlanProblem::Store)?;
        engines.insert(deployed.version, engine);
    }
    let workflows: BTreeMap<u32, &swakelola_core::Workflow> =
        engines.iter().map(|(v, e)| (*v, &e.workflow)).collect();
    let (plan, found) = check_plan(&file, &raw, &workflows);
    diagnostics.extend(found);
    match plan {
        Some(plan) => Ok((plan, engines, diagnostics)),
        None => Err(PlanProblem::Invalid(diagnostics)),
    }
}

pub enum PlanProblem {
    Invalid(Vec<Diagnostic>),
    Store(Error),
}

/// Runs `plan` over the open cases it takes, in order, one transaction per case.
#[allow(clippy::too_many_arguments)]
pub async fn run_plan(
    store: &SqlStore,
    plan: &Plan,
    engines: &BTreeMap<u32, Arc<Engine>>,
    actor: &Actor,
    mode: MigrationMode,
    now: Timestamp,
    language: Language,
    progress: bool,
) -> Result<MigrationRun, Error> {
    let candidates = store.migration_candidates(plan).await?;
    let target = &engines[&plan.rules.to_version];
    let mut run = MigrationRun {
        cases: Vec::with_capacity(candidates.len()),
        stopped: None,
    };
    for (done, candidate) in candidates.iter().enumerate() {
        let result = store
            .migrate_case(&candidate.id, plan, actor, now, mode)
            .await;
        if let Err(error @ (Error::Database(_) | Error::Migration(_))) = result {
            run.stopped = Some(error);
            break;
        }
        let source = engines.get(&candidate.version).unwrap_or(target);
        run.cases.push(CaseMigrationView::build(
            candidate,
            &result,
            Versions {
                source: &source.workflow,
                target: &target.workflow,
                calendar: &target.calendar,
            },
            mode == MigrationMode::Apply,
            language,
        ));
        if progress && ((done + 1) % PROGRESS_EVERY == 0) && done + 1 < candidates.len() {
            eprintln!(
                "{}",
                catalogue::message(
                    language,
                    "migrate-progress",
                    &[
                        ("done", &(done + 1).to_string()),
                        ("total", &candidates.len().to_string())
                    ]
                )
            );
        }
    }
    Ok(run)
}

/// The counts of a run: (total, moved or would move, already moved, refused).
pub fn counts(cases: &[CaseMigrationView]) -> (usize, usize, usize, usize) {
    let count = |outcomes: &[&str]| {
        cases
            .iter()
            .filter(|c| outcomes.contains(&c.outcome))
            .count()
    };
    (
        cases.len(),
        count(&["migrated", "would_migrate"]),
        count(&["already_migrated"]),
        count(&["refused"]),
    )
}

/// The CLI command: exit 0 when every case taken moved (or would), 1 when the plan has errors
/// or a case cannot move, 3 when the database is unavailable.
pub async fn command(
    store: &SqlStore,
    plan_path: &Path,
    text: &str,
    dry_run: bool,
    actor: Option<&str>,
    language: Language,
    as_json: bool,
) -> Result<ExitCode, Error> {
    let msg = |id: &str, args: &[(&str, &str)]| catalogue::message(language, id, args);
    let actor = match (dry_run, actor.map(str::trim)) {
        (_, Some(name)) if !name.is_empty() => Actor::new(name, OPERATOR_ROLE),
        (true, _) => Actor::new("dry-run", OPERATOR_ROLE),
        (false, _) => {
            eprintln!("{}", msg("migrate-actor-needed", &[]));
            return Ok(ExitCode::from(2));
        }
    };
    let (plan, engines, diagnostics) = match checked_plan(store, plan_path, text).await {
        Ok(checked) => checked,
        Err(PlanProblem::Store(error)) => return Err(error),
        Err(PlanProblem::Invalid(diagnostics)) => {
            if as_json {
                println!("{}", json!({ "valid": false, "diagnostics": diagnostics }));
            } else {
                let mut stderr = std::io::stderr().lock();
                for diagnostic in &diagnostics {
                    let _ = writeln!(stderr, "{diagnostic}");
                }
                let _ = writeln!(stderr, "{}", msg("migrate-plan-invalid", &[]));
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    if !as_json {
        let mut stderr = std::io::stderr().lock();
        for diagnostic in &diagnostics {
            let _ = writeln!(stderr, "{diagnostic}");
        }
    }
    let mode = if dry_run {
        MigrationMode::DryRun
    } else {
        MigrationMode::Apply
    };
    let from: Vec<String> = plan.from.iter().map(u32::to_string).collect();
    let heading_args = [
        ("plan", plan.rules.plan.as_str()),
        ("workflow", plan.workflow.as_str()),
        ("from", &from.join(", ")),
        ("to", &plan.rules.to_version.to_string()),
    ];
    if !as_json {
        let heading = if dry_run {
            "migrate-heading-dry-run"
        } else {
            "migrate-heading-apply"
        };
        println!("{}", msg(heading, &heading_args));
    }
    let run = run_plan(
        store,
        &plan,
        &engines,
        &actor,
        mode,
        Timestamp::now(),
        language,
        !as_json,
    )
    .await?;
    let (total, moved, already, refused) = counts(&run.cases);
    if as_json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "valid": true,
                "dry_run": dry_run,
                "plan": plan.rules.plan,
                "workflow": plan.workflow,
                "from": plan.from,
                "to": plan.rules.to_version,
                "diagnostics": diagnostics,
                "cases": run.cases,
                "summary": { "total": total, "migrated": moved, "already_migrated": already, "refused": refused },
            }))
            .expect("a report serialises")
        );
    } else {
        if run.cases.is_empty() && run.stopped.is_none() {
            println!("{}", msg("migrate-nothing", &[]));
        }
        for case in &run.cases {
            print!("{}", case.text(language));
        }
        let summary = if dry_run {
            "migrate-summary-dry-run"
        } else {
            "migrate-summary"
        };
        println!(
            "{}",
            msg(
                summary,
                &[
                    ("total", &total.to_string()),
                    ("migrated", &moved.to_string()),
                    ("already", &already.to_string()),
                    ("refused", &refused.to_string()),
                ]
            )
        );
    }
    if let Some(error) = run.stopped {
        return Err(error);
    }
    Ok(if refused > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
