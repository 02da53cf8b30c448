//! `swakelola demo`: the seed partnership — Yayasan Intan Maharani and DP3A Kota Palembang,
//! audience on 10 December 2024, pagu Rp34.500.000 — through its whole life in under a
//! second: the shipped workflow and scenario (`workflows/scenarios/seed-partnership.yaml`)
//! run by [`crate::simulate`] on an in-memory database with an accelerated clock.

use swakelola_core::format::Language;
use swakelola_view::catalogue;

const WORKFLOW: &str = include_str!("../../../workflows/swakelola-tipe-3.yaml");
const SCENARIO: &str = include_str!("../../../workflows/scenarios/seed-partnership.yaml");
pub async fn run(language: Language) -> anyhow::Result<()> {
    let text = |id: &str| catalogue::message(language, id, &[]);
    let scenario: crate::simulate::Scenario =
        swakelola_definition::parse::parse("seed-partnership.yaml", SCENARIO)
            .map_err(|d| anyhow::anyhow!("{d}"))?;
    let calendars: Vec<(String, String)> = swakelola_definition::built_in_calendars()
        .into_iter()
        .map(|c| (c.file, c.text))
        .collect();
    println!("{}", text("demo-title"));
    println!("{}\n", text("demo-note"));
    let failures = crate::simulate::simulate(
        "swakelola-tipe-3.yaml",
        WORKFLOW,
        &calendars,
        &scenario,
        language,
    )
    .await?;
    anyhow::ensure!(
        failures.is_empty(),
        "the demo scenario failed: {}",
        failures.join("; ")
    );
    println!("{}", text("demo-try"));
    Ok(())
}
