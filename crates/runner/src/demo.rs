//! `swakelola demo`: the seed partnership of Yayasan Intan Maharani and DP3A Kota Palembang
//! year by year — the 2024 case (Rp34.500.000), the 2025 one from the audience of 10 December
//! 2024 to closing, and another agency's replication — in a few seconds, ending with the
//! partnership's year-on-year view: the shipped workflow and scenario
//! (`workflows/scenarios/seed-partnership.yaml`)
//! run by [`crate::simulate`] on an in-memory database (or a new SQLite file, `--save`) with
//! an accelerated clock.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use swakelola_core::format::Language;
use swakelola_store::{SqlStore, Store};
use swakelola_view::catalogue;

const WORKFLOW: &str = include_str!("../../../workflows/swakelola-tipe-3.yaml");
const SCENARIO: &str = include_str!("../../../workflows/scenarios/seed-partnership.yaml");
/// Runs the seed story; with `save`, into a new SQLite file that stays for `case`,
/// `partnership show` and `serve` to look at afterwards.
/// Exit 1, with the reason, when `save` names a file that exists.
pub async fn run(language: Language, save: Option<&Path>) -> anyhow::Result<ExitCode> {
    let text = |id: &str, args: &[(&str, &str)]| catalogue::message(language, id, args);
    let scenario: crate::simulate::Scenario =
        swakelola_definition::parse::parse("seed-partnership.yaml", SCENARIO)
            .map_err(|d| anyhow::anyhow!("{d}"))?;
    let calendars: Vec<(String, String)> = swakelola_definition::built_in_calendars()
        .into_iter()
        .map(|c| (c.file, c.text))
        .collect();
    let store = match save {
        None => crate::simulate::memory_store().await?,
        Some(path) => {
            let shown = path.display().to_string();
            // Never mixed into a database that holds other cases.
            if path.exists() {
                eprintln!(
                    "{}: {}",
                    text("error-prefix", &[]),
                    text("demo-save-exists", &[("path", &shown)])
                );
                return Ok(ExitCode::FAILURE);
            }
            let store = SqlStore::connect(&format!("sqlite://{shown}")).await?;
            store.migrate().await?;
            Arc::new(store)
        }
    };
    println!("{}", text("demo-title", &[]));
    println!(
        "{}\n",
        text(
            if save.is_some() {
                "demo-note-saved"
            } else {
                "demo-note"
            },
            &[]
        )
    );
    let outcome = crate::simulate::simulate(
        store.clone(),
        "swakelola-tipe-3.yaml",
        WORKFLOW,
        &calendars,
        &scenario,
        language,
    )
    .await?;
    anyhow::ensure!(
        outcome.failures.is_empty(),
        "{}",
        text("demo-failed", &[("failures", &outcome.failures.join("; "))])
    );
    // The partnership year on year, and where it was taken up: what `partnership show` prints.
    if let Some(first) = outcome.cases.first() {
        let view = crate::cases::series_view(&store, first, language).await?;
        println!();
        print!("{}", crate::cases::series_text(&view, language));
    }
    println!();
    match save {
        Some(path) => println!(
            "{}",
            text("demo-try-saved", &[("path", &path.display().to_string())])
        ),
        None => println!("{}", text("demo-try", &[])),
    }
    Ok(ExitCode::SUCCESS)
}
