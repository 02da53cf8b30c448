//! `swakelola workflow migrate PLAN`: checks a migration plan against the deployed versions,
//! then previews (`--dry-run`) or applies it case by case, printing what happens to each.
//!
//! Both modes go through the same store call per case (`SqlStore::run_migration`), so the
//! preview is what the apply does to a case that nobody changes in between.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use jiff::Timestamp;
use serde_json::json;
use swakelola_core::Actor;
use swakelola_core::format::Language;
use swakelola_store::{CheckedPlan, Error, MigrationMode, OPERATOR_ROLE, SqlStore};
use swakelola_view::catalogue;
use swakelola_view::migration::{CaseMigrationView, Summary};

/// How often progress is reported on stderr, in cases.
const PROGRESS_EVERY: usize = 100;

/// The CLI command: exit 0 when every case taken moved (or would), 1 when the plan has errors
/// or a case cannot move, 2 without `--actor` for an apply, 3 when the database is unavailable.
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
    let checked = match store
        .check_migration_plan(&plan_path.display().to_string(), text)
        .await
    {
        Ok(checked) => checked,
        Err(Error::InvalidPlan(diagnostics)) => {
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
        Err(error) => return Err(error),
    };
    if !as_json {
        let mut stderr = std::io::stderr().lock();
        for diagnostic in &checked.warnings {
            let _ = writeln!(stderr, "{diagnostic}");
        }
        println!("{}", heading(&checked, dry_run, language));
    }
    let mode = if dry_run {
        MigrationMode::DryRun
    } else {
        MigrationMode::Apply
    };
    let mut cases = Vec::new();
    let outcome = store
        .run_migration(
            &checked.plan,
            &actor,
            Timestamp::now(),
            mode,
            |done, total, candidate, result| {
                let view =
                    CaseMigrationView::build(candidate, &result, &checked, !dry_run, language);
                if as_json {
                    cases.push(view);
                    return;
                }
                // Printed as it goes: a long run shows its progress, and what was done is on
                // the screen if it stops.
                print!("{}", view.text(language));
                if done % PROGRESS_EVERY == 0 && done < total {
                    let (done, total) = (done.to_string(), total.to_string());
                    eprintln!(
                        "{}",
                        msg("migrate-progress", &[("done", &done), ("total", &total)])
                    );
                }
                cases.push(view);
            },
        )
        .await;
    let summary = Summary::of(&cases);
    if as_json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "valid": true,
                "dry_run": dry_run,
                "plan": checked.plan.rules.plan,
                "workflow": checked.plan.workflow,
                "from": checked.plan.from,
                "to": checked.plan.rules.to_version,
                "diagnostics": checked.warnings,
                "cases": cases,
                "summary": summary,
            }))
            .expect("a report serialises")
        );
    } else {
        if cases.is_empty() && outcome.is_ok() {
            println!("{}", msg("migrate-nothing", &[]));
        }
        println!("{}", summary.text(dry_run, language));
    }
    outcome?;
    Ok(if summary.refused > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn heading(checked: &CheckedPlan, dry_run: bool, language: Language) -> String {
    let plan = &checked.plan;
    let from: Vec<String> = plan.from.iter().map(u32::to_string).collect();
    let id = if dry_run {
        "migrate-heading-dry-run"
    } else {
        "migrate-heading-apply"
    };
    catalogue::message(
        language,
        id,
        &[
            ("plan", plan.rules.plan.as_str()),
            ("workflow", plan.workflow.as_str()),
            ("from", &from.join(", ")),
            ("to", &plan.rules.to_version.to_string()),
        ],
    )
}
