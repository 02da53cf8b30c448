//! Moving open cases onto another version of their workflow, one case per transaction.
//!
//! The decision is the core's ([`migrate_case`]); this module finds the cases a plan takes,
//! loads each one inside its transaction, and persists the outcome through the same path as
//! every command — so a case changed meanwhile is migrated from its new state, never
//! overwritten, and a case already on the target version is left alone (re-running a plan
//! after a crash finishes it).

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use swakelola_core::Actor;
use swakelola_core::step::migrate::{CaseMigration, migrate_case};
use swakelola_definition::Diagnostic;
use swakelola_definition::migration::{Plan, check_plan, parse_plan};

use super::{
    Before, CASE_COLUMNS_BY_ID_WITH_CALENDAR, CaseRowWithCalendar, SqlStore, placeholders,
};
use crate::error::Conflict;
use crate::{Engine, Error, Result, Store};

/// A case a migration plan takes, as listed before migrating it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationCandidate {
    pub id: String,
    pub business_key: String,
    pub organisation: String,
    pub stage: String,
    pub version: u32,
}

/// What became of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseMigrated {
    /// Migrated (or, in a dry run, would be) as described.
    Migrated(Box<CaseMigration>),
    /// Already on the plan's target version: nothing to do.
    AlreadyMigrated,
    /// Closed, or on a version (or workflow) the plan does not move.
    NotTaken,
}

/// Whether a migration writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationMode {
    DryRun,
    Apply,
}

/// How often a case that keeps changing under a migration is tried before it is reported.
const ATTEMPTS: usize = 5;

/// A plan checked against the deployed versions of its workflow, with those versions.
#[derive(Debug, Clone)]
pub struct CheckedPlan {
    pub plan: Plan,
    /// Every deployed version of the plan's workflow, by version.
    pub engines: BTreeMap<u32, Arc<Engine>>,
    /// Warnings (a plan with errors is `Error::InvalidPlan`).
    pub warnings: Vec<Diagnostic>,
}

impl CheckedPlan {
    /// The version a case moves to.
    pub fn target(&self) -> &Arc<Engine> {
        &self.engines[&self.plan.rules.to_version]
    }

    /// The version a case on `version` moves from (the target when it is not deployed).
    pub fn source(&self, version: u32) -> &Arc<Engine> {
        self.engines.get(&version).unwrap_or_else(|| self.target())
    }
}

impl SqlStore {
    /// Reads the plan `text` (from `file`) and checks it against the deployed versions of
    /// its workflow; `Error::InvalidPlan` with every diagnostic when it has errors.
    pub async fn check_migration_plan(&self, file: &str, text: &str) -> Result<CheckedPlan> {
        let (raw, mut diagnostics) = parse_plan(file, text);
        let Some(raw) = raw.filter(|_| !diagnostics.iter().any(Diagnostic::is_error)) else {
            return Err(Error::InvalidPlan(diagnostics));
        };
        let mut engines = BTreeMap::new();
        for deployed in self.workflows().await? {
            if deployed.id == raw.workflow.value {
                let engine = self.engine_for(&deployed.id, deployed.version).await?;
                engines.insert(deployed.version, engine);
            }
        }
        let workflows: BTreeMap<u32, &swakelola_core::Workflow> =
            engines.iter().map(|(v, e)| (*v, &e.workflow)).collect();
        let (plan, found) = check_plan(file, &raw, &workflows);
        diagnostics.extend(found);
        match plan {
            Some(plan) => Ok(CheckedPlan {
                plan,
                engines,
                warnings: diagnostics,
            }),
            None => Err(Error::InvalidPlan(diagnostics)),
        }
    }

    /// Runs `plan` over the open cases it takes, oldest first, one transaction per case,
    /// telling `each` (with the count done and the total) what became of every case. A case
    /// that cannot move is reported and the others go on; the run stops only when the
    /// database fails (re-running the plan then continues where it stopped).
    pub async fn run_migration(
        &self,
        plan: &Plan,
        actor: &Actor,
        now: Timestamp,
        mode: MigrationMode,
        mut each: impl FnMut(usize, usize, &MigrationCandidate, Result<CaseMigrated>),
    ) -> Result<()> {
        let candidates = self.migration_candidates(plan).await?;
        let total = candidates.len();
        for (done, candidate) in candidates.iter().enumerate() {
            let result = self
                .migrate_case(&candidate.id, plan, actor, now, mode)
                .await;
            if let Err(error @ (Error::Database(_) | Error::Migration(_))) = result {
                return Err(error);
            }
            each(done + 1, total, candidate, result);
        }
        Ok(())
    }

    /// The open cases `plan` takes now, oldest first: on one of its source versions and
    /// selected by its filters.
    pub async fn migration_candidates(&self, plan: &Plan) -> Result<Vec<MigrationCandidate>> {
        if plan.from.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, business_key, organisation, stage, workflow_version, fiscal_year FROM cases
              WHERE workflow_id = $1 AND closed_at IS NULL AND workflow_version IN ({})
              ORDER BY opened_at, id",
            placeholders(2, plan.from.len(), 1)
        );
        let mut query = sqlx::query_as::<_, (String, String, String, String, i64, Option<i64>)>(
            sqlx::AssertSqlSafe(sql),
        )
        .bind(plan.workflow.as_str());
        for version in &plan.from {
            query = query.bind(i64::from(*version));
        }
        let rows = query.fetch_all(self.pool()).await?;
        Ok(rows
            .into_iter()
            .filter(|(_, key, organisation, stage, _, year)| {
                plan.selection.takes(stage, *year, organisation, key)
            })
            .map(
                |(id, business_key, organisation, stage, version, _)| MigrationCandidate {
                    id,
                    business_key,
                    organisation,
                    stage,
                    version: version as u32,
                },
            )
            .collect())
    }

    /// Migrates case `case_id` by `plan` as `actor` at `now`, in its own transaction — or,
    /// in a dry run, computes the same thing and writes nothing. A case whose migration the
    /// core refuses is left as it was (`Error::MigrationRefused`).
    pub async fn migrate_case(
        &self,
        case_id: &str,
        plan: &Plan,
        actor: &Actor,
        now: Timestamp,
        mode: MigrationMode,
    ) -> Result<CaseMigrated> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.try_migrate(case_id, plan, actor, now, mode).await {
                Err(Error::Conflict(Conflict::ChangedMeanwhile)) if attempts < ATTEMPTS => {
                    // Someone changed the case between our read and our write: migrate the
                    // state they left, so their change is kept.
                    continue;
                }
                other => return other,
            }
        }
    }

    async fn try_migrate(
        &self,
        case_id: &str,
        plan: &Plan,
        actor: &Actor,
        now: Timestamp,
        mode: MigrationMode,
    ) -> Result<CaseMigrated> {
        loop {
            let mut tx = self.begin().await?;
            let row: CaseRowWithCalendar = sqlx::query_as(CASE_COLUMNS_BY_ID_WITH_CALENDAR)
                .bind(case_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| Error::CaseNotFound(case_id.to_owned()))?;
            let calendar_version: i64 = row.calendar_version.parse().unwrap_or(0);
            let row = row.case;
            let version = row.workflow_version as u32;
            if row.workflow_id != plan.workflow {
                tx.rollback().await?;
                return Ok(CaseMigrated::NotTaken);
            }
            if version == plan.rules.to_version {
                tx.rollback().await?;
                return Ok(CaseMigrated::AlreadyMigrated);
            }
            if !plan.from.contains(&version) {
                tx.rollback().await?;
                return Ok(CaseMigrated::NotTaken);
            }
            let cached = |version| self.cached_engine(&plan.workflow, version, calendar_version);
            let (Some(source), Some(target)) = (cached(version), cached(plan.rules.to_version))
            else {
                // Loading a workflow takes queries of its own: never while holding the write
                // lock. Load both, then start again.
                tx.rollback().await?;
                self.engine_at(&plan.workflow, version, calendar_version)
                    .await?;
                self.engine_at(&plan.workflow, plan.rules.to_version, calendar_version)
                    .await?;
                continue;
            };
            let prev_hash = row.last_hash.clone();
            let record = row.into_record()?;
            // A case opened before the core kept its parties learns them from the store's.
            let mut state = std::borrow::Cow::Borrowed(&record.state);
            if state.parties.is_empty() && !record.parties.organisations.is_empty() {
                state.to_mut().parties = record.parties.as_lists();
            }
            if state.is_closed() {
                tx.rollback().await?;
                return Ok(CaseMigrated::NotTaken);
            }
            let migration = migrate_case(
                &source.workflow,
                version,
                &target.workflow,
                &plan.rules,
                &state,
                actor,
                now,
                &target.calendar,
            )
            .map_err(|refusal| Error::MigrationRefused {
                case_id: record.id.clone(),
                refusal,
            })?;
            if mode == MigrationMode::DryRun {
                tx.rollback().await?;
                return Ok(CaseMigrated::Migrated(Box::new(migration)));
            }
            self.persist(
                &mut tx,
                &record.id,
                Before {
                    hash: &prev_hash,
                    state: Some(&record.state),
                },
                &record.parties,
                &migration.outcome,
                None,
            )
            .await?;
            // The version rides along in each organisation's row too (*Tugas saya* reads
            // how soon is "soon" per version from there).
            for table in [
                "UPDATE cases SET workflow_version = $1 WHERE id = $2",
                "UPDATE case_organisations SET workflow_version = $1 WHERE case_id = $2",
            ] {
                sqlx::query(table)
                    .bind(i64::from(plan.rules.to_version))
                    .bind(record.id.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            return Ok(CaseMigrated::Migrated(Box::new(migration)));
        }
    }
}
