//! Firing a runner's claimed timers in one transaction: set-based, fenced on the lease.
//!
//! The pure core makes this natural: every decision for a batch of due timers is computed in
//! memory before anything is written. One transaction checks which timers the runner still
//! holds, loads their cases in one query (locked on PostgreSQL, in id order, so two runners
//! never deadlock), steps each case through its due timers in order, and writes every
//! event, case, timer and outbox row with a handful of multi-row statements, then commits
//! once and notifies once. A timer the case no longer has pending is removed; a case whose
//! step is refused or whose data cannot be read fails only its own timers.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use sqlx::{Any, AssertSqlSafe, Transaction};
use swakelola_core::step::{Action, Command, Outcome, Rejection, step};
use swakelola_core::{Actor, CaseState};

use super::{
    CaseRow, ChainedEvent, Dialect, SqlStore, WORK_CHANNEL, fiscal_year, json, millis, outbox_rows,
    placeholders,
};
use crate::work::{ClaimedTimer, Fired};
use crate::{CaseRecord, Engine, Error, Result};

/// An event row as inserted: case, seq, at, actor, role, kind, payload, previous hash, hash.
type EventRow = (
    String,
    i64,
    i64,
    String,
    String,
    &'static str,
    String,
    String,
    String,
);

/// A case of the batch with the outcomes of its timers, in firing order.
struct Stepped {
    record: CaseRecord,
    prev_hash: String,
    before: CaseState,
    outcomes: Vec<Outcome>,
}

impl SqlStore {
    /// Fires the claimed `timers` of `owner` due at `now` in one transaction and says what
    /// became of each, in the order given: `Fired`, `Stale` (the case no longer has it
    /// pending; its row is removed), `LeaseLost` (another runner holds it now; nothing
    /// done), or an error for that timer alone (a refused step, a case whose data cannot be
    /// read). Only a database failure fails the whole batch, and then nothing is written.
    pub async fn fire_timers(
        &self,
        owner: &str,
        timers: &[ClaimedTimer],
        now: Timestamp,
    ) -> Result<Vec<Result<Fired>>> {
        if timers.is_empty() {
            return Ok(Vec::new());
        }
        let mut case_ids: Vec<&str> = timers.iter().map(|t| t.case_id.as_str()).collect();
        case_ids.sort_unstable();
        case_ids.dedup();
        loop {
            let mut tx = self.begin().await?;
            // The fence, inside the transaction: the rows this runner still holds.
            let sql = format!(
                "SELECT case_id, key, lease_owner FROM timers WHERE case_id IN ({})",
                placeholders(1, case_ids.len(), 1)
            );
            let mut query =
                sqlx::query_as::<_, (String, String, Option<String>)>(AssertSqlSafe(sql));
            for id in &case_ids {
                query = query.bind(*id);
            }
            let holders: HashMap<(String, String), Option<String>> = query
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|(case_id, key, holder)| ((case_id, key), holder))
                .collect();
            let mut results: Vec<Option<Result<Fired>>> = timers
                .iter()
                .map(|t| match holders.get(&(t.case_id.clone(), t.key.clone())) {
                    None => Some(Ok(Fired::Stale)),
                    Some(holder) if holder.as_deref() != Some(owner) => Some(Ok(Fired::LeaseLost)),
                    Some(_) => None,
                })
                .collect();
            let held: Vec<&str> = case_ids
                .iter()
                .copied()
                .filter(|id| {
                    timers
                        .iter()
                        .zip(&results)
                        .any(|(t, r)| r.is_none() && t.case_id == *id)
                })
                .collect();
            if held.is_empty() {
                tx.rollback().await?;
                return Ok(results.into_iter().flatten().collect());
            }
            let calendar_version: i64 = sqlx::query_scalar::<_, String>(
                "SELECT value FROM installation WHERE key = 'calendar_version'",
            )
            .fetch_optional(&mut *tx)
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
            let lock = match self.dialect() {
                // Locked in id order: two runners (or a runner and a command) never wait on
                // each other in a circle.
                Dialect::Postgres => " ORDER BY id FOR UPDATE",
                Dialect::Sqlite => "",
            };
            let sql = format!(
                "SELECT id, workflow_id, workflow_version, organisation, business_key, parties, state, last_hash, pending_organisations
                   FROM cases WHERE id IN ({}){lock}",
                placeholders(1, held.len(), 1)
            );
            let mut query = sqlx::query_as::<_, CaseRow>(AssertSqlSafe(sql));
            for id in &held {
                query = query.bind(*id);
            }
            let rows = query.fetch_all(&mut *tx).await?;
            // Every engine from the cache, or load the missing ones outside the transaction
            // and start again (loading takes queries of its own).
            let mut engines: HashMap<(String, u32), std::sync::Arc<Engine>> = HashMap::new();
            let mut missing = Vec::new();
            for row in &rows {
                let key = (row.workflow_id.clone(), row.workflow_version as u32);
                if engines.contains_key(&key) {
                    continue;
                }
                match self.cached_engine(&key.0, key.1, calendar_version) {
                    Some(engine) => {
                        engines.insert(key, engine);
                    }
                    None => missing.push(key),
                }
            }
            if !missing.is_empty() {
                tx.rollback().await?;
                for (workflow, version) in missing {
                    if let Err(error) = self.engine_at(&workflow, version, calendar_version).await {
                        // A version that no longer loads fails its cases' timers, not the
                        // batch: fire the rest without them.
                        if matches!(error, Error::Database(_)) {
                            return Err(error);
                        }
                        let failed: Vec<ClaimedTimer> = timers
                            .iter()
                            .filter(|t| {
                                rows.iter().any(|r| {
                                    r.id == t.case_id
                                        && r.workflow_id == workflow
                                        && r.workflow_version as u32 == version
                                })
                            })
                            .cloned()
                            .collect();
                        return self.fire_without(owner, timers, &failed, &error, now).await;
                    }
                }
                continue;
            }
            let mut stepped: Vec<Stepped> = Vec::new();
            let mut stale: Vec<(&str, &str)> = Vec::new();
            let mut closed: Vec<String> = Vec::new();
            for row in rows {
                let engine =
                    engines[&(row.workflow_id.clone(), row.workflow_version as u32)].clone();
                let prev_hash = row.last_hash.clone();
                let id = row.id.clone();
                let record = match row.into_record() {
                    Ok(record) => record,
                    Err(error) => {
                        for (timer, result) in timers.iter().zip(results.iter_mut()) {
                            if result.is_none() && timer.case_id == id {
                                *result = Some(Err(Error::Corrupt(error.to_string())));
                            }
                        }
                        continue;
                    }
                };
                let mut state = record.state.clone();
                if state.parties.is_empty() && !record.parties.organisations.is_empty() {
                    state.parties = record.parties.as_lists();
                }
                let mut outcomes: Vec<Outcome> = Vec::new();
                let mut order: Vec<usize> = (0..timers.len())
                    .filter(|&i| results[i].is_none() && timers[i].case_id == id)
                    .collect();
                order.sort_by(|&a, &b| {
                    (timers[a].due_at, &timers[a].key).cmp(&(timers[b].due_at, &timers[b].key))
                });
                for index in order {
                    let timer = &timers[index];
                    let current = outcomes.last().map_or(&state, |o| &o.state);
                    let command = Command {
                        actor: Actor::system(),
                        action: Action::FireTimer {
                            key: timer.key.clone(),
                        },
                    };
                    results[index] = Some(
                        match step(
                            &engine.workflow,
                            Some(current),
                            &command,
                            now,
                            &engine.calendar,
                        ) {
                            Ok(outcome) => {
                                outcomes.push(outcome);
                                Ok(Fired::Fired)
                            }
                            Err(Rejection::TimerNotPending { .. }) => {
                                stale.push((&timer.case_id, &timer.key));
                                Ok(Fired::Stale)
                            }
                            Err(Rejection::Closed { .. }) => {
                                closed.push(id.clone());
                                Ok(Fired::Stale)
                            }
                            Err(rejection) => Err(Error::rejected_under(
                                rejection,
                                &record.workflow_id,
                                record.workflow_version,
                            )),
                        },
                    );
                }
                if !outcomes.is_empty() {
                    stepped.push(Stepped {
                        before: record.state.clone(),
                        record,
                        prev_hash,
                        outcomes,
                    });
                }
            }
            self.write_batch(&mut tx, &stepped, &stale, &closed).await?;
            tx.commit().await?;
            // A timer whose case was not found (none should be: timers reference their case)
            // is reported as such rather than dropped.
            return Ok(results
                .into_iter()
                .zip(timers)
                .map(|(result, timer)| {
                    result.unwrap_or_else(|| Err(Error::CaseNotFound(timer.case_id.clone())))
                })
                .collect());
        }
    }

    /// Fires the batch without `failed` (whose workflow version cannot be loaded), which
    /// each get `error`.
    async fn fire_without(
        &self,
        owner: &str,
        timers: &[ClaimedTimer],
        failed: &[ClaimedTimer],
        error: &Error,
        now: Timestamp,
    ) -> Result<Vec<Result<Fired>>> {
        let rest: Vec<ClaimedTimer> = timers
            .iter()
            .filter(|t| !failed.contains(t))
            .cloned()
            .collect();
        let mut fired = Box::pin(self.fire_timers(owner, &rest, now))
            .await?
            .into_iter();
        Ok(timers
            .iter()
            .map(|t| {
                if failed.contains(t) {
                    Err(Error::Corrupt(error.to_string()))
                } else {
                    fired.next().expect("one result per timer")
                }
            })
            .collect())
    }

    /// Writes what a batch decided: events (hash-chained per case), cases, urgency rows,
    /// timers and outbox rows, a statement per kind of row where the dialects allow.
    async fn write_batch(
        &self,
        tx: &mut Transaction<'static, Any>,
        stepped: &[Stepped],
        stale: &[(&str, &str)],
        closed: &[String],
    ) -> Result<()> {
        // Events, chained per case.
        let mut events: Vec<EventRow> = Vec::new();
        let mut heads: BTreeMap<&str, String> = BTreeMap::new();
        for case in stepped {
            let case_id = case.record.id.as_str();
            let mut prev = case.prev_hash.clone();
            for outcome in &case.outcomes {
                let event = &outcome.event;
                let chained = ChainedEvent::of(case_id, &prev, event);
                events.push((
                    case_id.to_owned(),
                    chained.seq,
                    chained.at,
                    event.actor.name.clone(),
                    event.actor.role.clone(),
                    chained.kind,
                    chained.payload,
                    prev.clone(),
                    chained.hash.clone(),
                ));
                prev = chained.hash;
            }
            heads.insert(case_id, prev);
        }
        for chunk in events.chunks(self.rows_per_statement(9)) {
            let sql = format!(
                "INSERT INTO events (case_id, seq, at, actor, role, kind, payload, prev_hash, hash) VALUES {}",
                placeholders(1, chunk.len(), 9)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for (case_id, seq, at, actor, role, kind, payload, prev, hash) in chunk {
                query = query
                    .bind(case_id.as_str())
                    .bind(*seq)
                    .bind(*at)
                    .bind(actor.as_str())
                    .bind(role.as_str())
                    .bind(*kind)
                    .bind(payload.as_str())
                    .bind(prev.as_str())
                    .bind(hash.as_str());
            }
            query.execute(&mut **tx).await?;
        }
        // Cases, each under the revision it was read at: one statement for the batch (the
        // VALUES columns are `column1…` in both dialects; casts type them for PostgreSQL).
        for chunk in stepped.chunks(self.rows_per_statement(10)) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let p = i * 9;
                    format!(
                        "(${}, CAST(${} AS BIGINT), ${}, CAST(${} AS BIGINT), ${}, CAST(${} AS BIGINT), CAST(${} AS BIGINT), CAST(${} AS BIGINT), ${})",
                        p + 1, p + 2, p + 3, p + 4, p + 5, p + 6, p + 7, p + 8, p + 9
                    )
                })
                .collect();
            // The `id IN (…)` repeats the ids so that SQLite's planner walks the primary key
            // instead of scanning every case for each row of the VALUES list.
            let sql = format!(
                "UPDATE cases SET stage = v.column3, revision = v.column4, state = v.column5,
                        next_due_at = v.column6, closed_at = v.column7, fiscal_year = v.column8,
                        last_hash = v.column9
                 FROM (VALUES {}) AS v
                 WHERE cases.id = v.column1 AND cases.revision = v.column2 AND cases.id IN ({})",
                rows.join(", "),
                placeholders(chunk.len() * 9 + 1, chunk.len(), 1)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for case in chunk {
                let last = case.outcomes.last().expect("a stepped case has an outcome");
                let state = &last.state;
                query = query
                    .bind(case.record.id.as_str())
                    .bind(case.before.revision as i64)
                    .bind(state.stage.as_str())
                    .bind(state.revision as i64)
                    .bind(json(state))
                    .bind(last.next_due_at.map(millis))
                    .bind(state.closed_at.map(millis))
                    .bind(fiscal_year(state))
                    .bind(heads[case.record.id.as_str()].as_str());
            }
            for case in chunk {
                query = query.bind(case.record.id.as_str());
            }
            let updated = query.execute(&mut **tx).await?;
            if updated.rows_affected() != chunk.len() as u64 {
                // Read and locked in this transaction: another writer cannot have moved them.
                return Err(Error::Conflict(crate::Conflict::ChangedMeanwhile));
            }
        }
        // Each organisation's view of a case's urgency, for the cases where it changed.
        let urgency = |s: &CaseState| (s.attention_at(), s.closed_at);
        let changed: Vec<&Stepped> = stepped
            .iter()
            .filter(|c| {
                let last = &c.outcomes.last().expect("an outcome").state;
                urgency(&c.before) != urgency(last)
            })
            .collect();
        for chunk in changed.chunks(self.rows_per_statement(4)) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let p = i * 3;
                    format!(
                        "(${}, CAST(${} AS BIGINT), CAST(${} AS BIGINT))",
                        p + 1,
                        p + 2,
                        p + 3
                    )
                })
                .collect();
            let sql = format!(
                "UPDATE case_organisations SET attention_at = v.column2, closed_at = v.column3
                 FROM (VALUES {}) AS v
                 WHERE case_organisations.case_id = v.column1 AND case_organisations.case_id IN ({})",
                rows.join(", "),
                placeholders(chunk.len() * 3 + 1, chunk.len(), 1)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for case in chunk {
                let state = &case.outcomes.last().expect("an outcome").state;
                query = query
                    .bind(case.record.id.as_str())
                    .bind(state.attention_at().map(millis))
                    .bind(state.closed_at.map(millis));
            }
            for case in chunk {
                query = query.bind(case.record.id.as_str());
            }
            query.execute(&mut **tx).await?;
        }
        // Timers: the net change from the state read to the state written, per case.
        let mut gone: Vec<(&str, &str)> = stale.to_vec();
        let mut scheduled: Vec<(&str, &swakelola_core::Timer)> = Vec::new();
        for case in stepped {
            let last = &case.outcomes.last().expect("an outcome").state;
            let id = case.record.id.as_str();
            gone.extend(
                case.before
                    .timers
                    .keys()
                    .filter(|k| !last.timers.contains_key(*k))
                    .map(|k| (id, k.as_str())),
            );
            scheduled.extend(
                last.timers
                    .values()
                    .filter(|t| case.before.timers.get(&t.key) != Some(*t))
                    .map(|t| (id, t)),
            );
        }
        for chunk in gone.chunks(self.rows_per_statement(3)) {
            // As above: the case ids again, for the primary key's prefix.
            let mut cases: Vec<&str> = chunk.iter().map(|(case_id, _)| *case_id).collect();
            cases.sort_unstable();
            cases.dedup();
            let sql = format!(
                "DELETE FROM timers WHERE case_id IN ({}) AND (case_id, key) IN (VALUES {})",
                placeholders(1, cases.len(), 1),
                placeholders(cases.len() + 1, chunk.len(), 2)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for case_id in &cases {
                query = query.bind(*case_id);
            }
            for (case_id, key) in chunk {
                query = query.bind(*case_id).bind(*key);
            }
            query.execute(&mut **tx).await?;
        }
        for case_id in closed {
            // A closed case has nothing left to fire.
            sqlx::query("DELETE FROM timers WHERE case_id = $1")
                .bind(case_id.as_str())
                .execute(&mut **tx)
                .await?;
        }
        self.upsert_timers(tx, &scheduled).await?;
        // Outbox rows of every notification of every step.
        let mut messages = Vec::new();
        for case in stepped {
            for outcome in &case.outcomes {
                messages.extend(outbox_rows(
                    &case.record.id,
                    &outcome.notifications,
                    &case.record.parties,
                    millis(outcome.event.at),
                ));
            }
        }
        self.insert_outbox(tx, &messages).await?;
        if self.dialect() == Dialect::Postgres && (!scheduled.is_empty() || !messages.is_empty()) {
            // Once for the whole batch, delivered to listening runners at commit.
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(WORK_CHANNEL)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}
