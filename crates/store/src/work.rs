//! Work for the runner: claiming due timers and outbox messages with a lease, completing them
//! fenced on that lease, and retrying with backoff.
//!
//! A claim is one statement: PostgreSQL uses `FOR UPDATE SKIP LOCKED` so that several runners
//! never wait on each other's rows; SQLite serialises writers, so `UPDATE … WHERE … IN
//! (SELECT … LIMIT n) RETURNING` is enough. A lease that expires (its runner died) makes the
//! row claimable again. Firing a timer twice is harmless: the core refuses a timer that is no
//! longer pending, so the history records each timer once.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;
use sqlx::AssertSqlSafe;

use crate::sql::{Dialect, SqlStore};
use crate::{CaseRecord, Engine, Error, Invalid, Result, Store};

/// A timer claimed by one runner until `lease_until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimedTimer {
    pub case_id: String,
    pub key: String,
    pub due_at: Timestamp,
    /// How often it has been claimed, this claim included.
    pub attempts: u32,
}

/// What happened to a claimed timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fired {
    /// The timer fired; its event is in the case's history.
    Fired,
    /// The case no longer had it pending (already fired, or cancelled): the row was removed.
    Stale,
    /// Another runner holds the lease now; nothing was done.
    LeaseLost,
}

/// A timer as operators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimerRecord {
    pub case_id: String,
    pub key: String,
    pub due_at: Timestamp,
    /// `pending` or `dead` (set aside after failing).
    pub state: String,
    /// How often it was claimed.
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// An outbox message claimed for delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxMessage {
    pub key: String,
    pub case_id: String,
    pub channel: String,
    pub recipient: String,
    pub payload: serde_json::Value,
    pub attempts: u32,
    pub state: String,
    pub last_error: Option<String>,
}

fn ms(instant: Timestamp) -> i64 {
    instant.as_millisecond()
}

impl SqlStore {
    /// Claims up to `limit` timers due at `now` for `owner` until `lease_until`, earliest first.
    pub async fn claim_due_timers(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ClaimedTimer>> {
        let sql = match self.dialect() {
            Dialect::Postgres => {
                "WITH due AS (
                     SELECT case_id, key FROM timers
                     WHERE state = 'pending' AND due_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
                     ORDER BY due_at, case_id, key
                     LIMIT $2
                     FOR UPDATE SKIP LOCKED)
                 UPDATE timers SET lease_owner = $3, lease_until = $4, attempts = timers.attempts + 1
                 FROM due WHERE timers.case_id = due.case_id AND timers.key = due.key
                 RETURNING timers.case_id, timers.key, timers.due_at, timers.attempts"
            }
            Dialect::Sqlite => {
                "UPDATE timers SET lease_owner = $3, lease_until = $4, attempts = attempts + 1
                 WHERE (case_id, key) IN (
                     SELECT case_id, key FROM timers
                     WHERE state = 'pending' AND due_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
                     ORDER BY due_at, case_id, key
                     LIMIT $2)
                 RETURNING case_id, key, due_at, attempts"
            }
        };
        let mut tx = self.begin().await?;
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(sql)
            .bind(ms(now))
            .bind(i64::from(limit))
            .bind(owner)
            .bind(ms(lease_until))
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut claimed: Vec<ClaimedTimer> = rows
            .into_iter()
            .map(|(case_id, key, due_at, attempts)| ClaimedTimer {
                case_id,
                key,
                due_at: Timestamp::from_millisecond(due_at).unwrap_or(Timestamp::UNIX_EPOCH),
                attempts: attempts as u32,
            })
            .collect();
        claimed.sort_by(|a, b| (a.due_at, &a.case_id, &a.key).cmp(&(b.due_at, &b.case_id, &b.key)));
        Ok(claimed)
    }

    /// Fires one claimed timer, unless `owner` has lost its lease: a batch of one (see
    /// [`SqlStore::fire_timers`]), so the lease is checked inside the transaction that fires.
    pub async fn fire_timer(
        &self,
        owner: &str,
        timer: &ClaimedTimer,
        now: Timestamp,
    ) -> Result<Fired> {
        self.fire_timers(owner, std::slice::from_ref(timer), now)
            .await?
            .pop()
            .expect("one result for one timer")
    }

    /// Gives a claimed timer back (e.g. on shutdown) so another runner may take it at once.
    pub async fn release_timer(&self, owner: &str, timer: &ClaimedTimer) -> Result<()> {
        sqlx::query(
            "UPDATE timers SET lease_owner = NULL, lease_until = NULL
             WHERE case_id = $1 AND key = $2 AND lease_owner = $3",
        )
        .bind(timer.case_id.as_str())
        .bind(timer.key.as_str())
        .bind(owner)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The earliest instant a pending timer may be claimed, for the runner to sleep until: its
    /// due time, or later while it is leased or backing off after a failure.
    pub async fn next_timer_due(&self) -> Result<Option<Timestamp>> {
        let next: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(CASE WHEN lease_until > due_at THEN lease_until ELSE due_at END)
             FROM timers WHERE state = 'pending'",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(next.and_then(|ms| Timestamp::from_millisecond(ms).ok()))
    }

    /// Records that firing a claimed timer failed: it may be claimed again from `retry_at`,
    /// or, with `None`, it is set aside as dead. Fenced on the lease like every completion.
    pub async fn timer_failed(
        &self,
        owner: &str,
        timer: &ClaimedTimer,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<()> {
        let (state, until) = match retry_at {
            Some(at) => ("pending", Some(ms(at))),
            None => ("dead", None),
        };
        sqlx::query(
            "UPDATE timers SET state = $1, lease_owner = NULL, lease_until = $2, last_error = $3
             WHERE case_id = $4 AND key = $5 AND lease_owner = $6",
        )
        .bind(state)
        .bind(until)
        .bind(error)
        .bind(timer.case_id.as_str())
        .bind(timer.key.as_str())
        .bind(owner)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Sets every pending timer of a case aside as dead with `reason`, so that a case that
    /// runs away (or whose data cannot be stored) stops taking the runners' time. Returns how
    /// many timers were set aside.
    pub async fn set_case_aside(&self, case_id: &str, reason: &str) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE timers SET state = 'dead', lease_owner = NULL, lease_until = NULL, last_error = $1
             WHERE case_id = $2 AND state = 'pending'",
        )
        .bind(reason)
        .bind(case_id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// Timers as operators see them: all pending and dead ones, or (`failed_only`) those that
    /// failed at least once; earliest first, at most `limit`.
    pub async fn timers(&self, failed_only: bool, limit: u32) -> Result<Vec<TimerRecord>> {
        let rows: Vec<(String, String, i64, String, i64, Option<String>)> = sqlx::query_as(
            "SELECT case_id, key, due_at, state, attempts, last_error FROM timers
             WHERE ($1 = 0 OR state = 'dead' OR last_error IS NOT NULL)
             ORDER BY due_at, case_id, key LIMIT $2",
        )
        .bind(i64::from(failed_only))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(case_id, key, due_at, state, attempts, last_error)| TimerRecord {
                    case_id,
                    key,
                    due_at: Timestamp::from_millisecond(due_at).unwrap_or(Timestamp::UNIX_EPOCH),
                    state,
                    attempts: attempts as u32,
                    last_error,
                },
            )
            .collect())
    }

    /// Makes a dead or failing timer pending again, claimable at once, with a fresh count of
    /// attempts.
    pub async fn timer_retry(&self, case_id: &str, key: &str) -> Result<()> {
        let updated = sqlx::query(
            "UPDATE timers SET state = 'pending', lease_owner = NULL, lease_until = NULL,
                               attempts = 0, last_error = NULL
             WHERE case_id = $1 AND key = $2 AND (state = 'dead' OR last_error IS NOT NULL)",
        )
        .bind(case_id)
        .bind(key)
        .execute(self.pool())
        .await?;
        if updated.rows_affected() == 0 {
            return Err(Error::InvalidRequest(Invalid::NoFailedTimer {
                case_id: case_id.to_owned(),
                key: key.to_owned(),
            }));
        }
        Ok(())
    }

    /// Claims up to `limit` outbox messages of `channels` ready at `now`.
    pub async fn claim_outbox(
        &self,
        channels: &[&str],
        now: Timestamp,
        retry_at: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>> {
        if channels.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = (0..channels.len()).map(|i| format!("${}", i + 4)).collect();
        let lock = match self.dialect() {
            Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        // Only numbered placeholders are formatted in; channel names are bound.
        let sql = format!(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $3
             WHERE key IN (
                 SELECT key FROM outbox
                 WHERE state = 'pending' AND next_attempt_at <= $1 AND channel IN ({})
                 ORDER BY next_attempt_at, key
                 LIMIT $2 {lock})
             RETURNING key, case_id, channel, recipient, payload, attempts, state, last_error",
            list.join(", ")
        );
        let mut query = sqlx::query_as::<
            _,
            (
                String,
                String,
                String,
                String,
                String,
                i64,
                String,
                Option<String>,
            ),
        >(AssertSqlSafe(sql))
        .bind(ms(now))
        .bind(i64::from(limit))
        .bind(ms(retry_at));
        for channel in channels {
            query = query.bind(*channel);
        }
        let mut tx = self.begin().await?;
        let rows = query.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        rows.into_iter().map(message).collect()
    }

    /// Marks a message delivered.
    pub async fn outbox_sent(&self, key: &str) -> Result<()> {
        self.outbox_sent_all(&[key]).await
    }

    /// Marks messages delivered, one statement for them all (a commit per message would cost
    /// as much as the firing that wrote them).
    pub async fn outbox_sent_all(&self, keys: &[&str]) -> Result<()> {
        for chunk in keys.chunks(300) {
            let sql = format!(
                "UPDATE outbox SET state = 'sent', last_error = NULL WHERE key IN ({})",
                crate::sql::placeholders(1, chunk.len(), 1)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for key in chunk {
                query = query.bind(*key);
            }
            query.execute(self.pool()).await?;
        }
        Ok(())
    }

    /// Records a failed attempt: retry at `retry_at`, or mark the message dead.
    pub async fn outbox_failed(
        &self,
        key: &str,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<()> {
        let (state, next) = match retry_at {
            Some(at) => ("pending", ms(at)),
            None => ("dead", 0),
        };
        sqlx::query(
            "UPDATE outbox SET state = $1, last_error = $2,
                               next_attempt_at = CASE WHEN $1 = 'dead' THEN next_attempt_at ELSE $3 END
             WHERE key = $4",
        )
        .bind(state)
        .bind(error)
        .bind(next)
        .bind(key)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Messages of a case (all of them when `case_id` is `None`), oldest first. With
    /// `visible_to`, only messages of cases where that organisation is a party.
    pub async fn outbox(
        &self,
        case_id: Option<&str>,
        failed_only: bool,
        visible_to: Option<&str>,
    ) -> Result<Vec<OutboxMessage>> {
        let rows: Vec<MessageRow> = sqlx::query_as(
            "SELECT key, case_id, channel, recipient, payload, attempts, state, last_error FROM outbox
             WHERE ($1 = '' OR case_id = $1) AND ($2 = 0 OR state = 'dead' OR last_error IS NOT NULL)
               AND ($3 = '' OR EXISTS (SELECT 1 FROM case_organisations p
                                        WHERE p.case_id = outbox.case_id AND p.organisation = $3
                                          AND p.accepted_at IS NOT NULL))
             ORDER BY created_at, key",
        )
        .bind(case_id.unwrap_or(""))
        .bind(i64::from(failed_only))
        .bind(visible_to.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(message).collect()
    }
}

type MessageRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
);

fn message(
    (key, case_id, channel, recipient, payload, attempts, state, last_error): MessageRow,
) -> Result<OutboxMessage> {
    Ok(OutboxMessage {
        payload: serde_json::from_str(&payload)
            .map_err(|e| Error::Corrupt(format!("outbox payload: {e}")))?,
        key,
        case_id,
        channel,
        recipient,
        attempts: attempts as u32,
        state,
        last_error,
    })
}

impl SqlStore {
    /// Pending timers due before `until` (overdue ones included), earliest first.
    /// With `visible_to`, only timers of cases where that organisation is a party.
    pub async fn timers_due_before(
        &self,
        until: Timestamp,
        limit: u32,
        visible_to: Option<&str>,
    ) -> Result<Vec<ClaimedTimer>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT case_id, key, due_at FROM timers WHERE state = 'pending' AND due_at <= $1
               AND ($3 = '' OR EXISTS (SELECT 1 FROM case_organisations p
                                        WHERE p.case_id = timers.case_id AND p.organisation = $3
                                          AND p.accepted_at IS NOT NULL))
             ORDER BY due_at, case_id, key LIMIT $2",
        )
        .bind(ms(until))
        .bind(i64::from(limit))
        .bind(visible_to.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(case_id, key, due_at)| ClaimedTimer {
                case_id,
                key,
                due_at: Timestamp::from_millisecond(due_at).unwrap_or(Timestamp::UNIX_EPOCH),
                attempts: 0,
            })
            .collect())
    }

    /// The agenda: pending timers due before `until` (at most `limit`; with `visible_to`,
    /// only that organisation's cases), each with its case and the engine it runs on — every
    /// case and every workflow version loaded once, however many of its timers are due.
    pub async fn agenda(
        &self,
        until: Timestamp,
        limit: u32,
        visible_to: Option<&str>,
    ) -> Result<Vec<(ClaimedTimer, Arc<CaseRecord>, Arc<Engine>)>> {
        let timers = self.timers_due_before(until, limit, visible_to).await?;
        let mut cases: HashMap<String, Arc<CaseRecord>> = HashMap::new();
        for timer in &timers {
            if let Entry::Vacant(slot) = cases.entry(timer.case_id.clone()) {
                slot.insert(Arc::new(self.case(&timer.case_id).await?));
            }
        }
        let records: Vec<&CaseRecord> = cases.values().map(Arc::as_ref).collect();
        let engines = self.engines_of(records).await?;
        Ok(timers
            .into_iter()
            .map(|timer| {
                let case = cases[&timer.case_id].clone();
                let engine = engines[&(case.workflow_id.clone(), case.workflow_version)].clone();
                (timer, case, engine)
            })
            .collect())
    }

    /// The engines `cases` run on, by workflow id and version: each version loaded once and
    /// the calendars' version read once, for lists that render many cases.
    pub async fn engines_of<'c>(
        &self,
        cases: impl IntoIterator<Item = &'c CaseRecord>,
    ) -> Result<HashMap<(String, u32), Arc<Engine>>> {
        let calendar_version = self.calendar_version().await?;
        let mut engines = HashMap::new();
        for case in cases {
            let key = (case.workflow_id.clone(), case.workflow_version);
            if let Entry::Vacant(slot) = engines.entry(key) {
                let engine = self
                    .engine_at(&case.workflow_id, case.workflow_version, calendar_version)
                    .await?;
                slot.insert(engine);
            }
        }
        Ok(engines)
    }

    /// Every deployed workflow version's engine on today's calendars (one query for the
    /// calendar version, the rest from the cache), each with its own result: a version that
    /// no longer loads must not stop a page that lists every other case. An unavailable
    /// database is the call's error.
    pub async fn deployed_engines(&self) -> Result<HashMap<(String, u32), Result<Arc<Engine>>>> {
        let calendar_version = self.calendar_version().await?;
        let mut engines = HashMap::new();
        for deployed in self.workflows().await? {
            let engine = self
                .engine_at(&deployed.id, deployed.version, calendar_version)
                .await;
            if let Err(error @ (Error::Database(_) | Error::Query(_))) = engine {
                return Err(error);
            }
            engines.insert((deployed.id, deployed.version), engine);
        }
        Ok(engines)
    }

    /// The earliest time a pending message of `channels` may be attempted.
    pub async fn next_outbox_attempt(&self, channels: &[&str]) -> Result<Option<Timestamp>> {
        if channels.is_empty() {
            return Ok(None);
        }
        let list: Vec<String> = (0..channels.len()).map(|i| format!("${}", i + 1)).collect();
        // Only numbered placeholders are formatted in; channel names are bound.
        let sql = format!(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending' AND channel IN ({})",
            list.join(", ")
        );
        let mut query = sqlx::query_scalar::<_, Option<i64>>(AssertSqlSafe(sql));
        for channel in channels {
            query = query.bind(*channel);
        }
        let next = query.fetch_one(self.pool()).await?;
        Ok(next.and_then(|ms| Timestamp::from_millisecond(ms).ok()))
    }

    /// Pending messages per channel, for channels outside `delivered` (messages no runner
    /// of this configuration will ever send, such as email without SMTP).
    pub async fn pending_outbox_outside(&self, delivered: &[&str]) -> Result<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT channel, COUNT(*) FROM outbox WHERE state = 'pending' GROUP BY channel ORDER BY channel",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .filter(|(channel, _)| !delivered.contains(&channel.as_str()))
            .map(|(channel, count)| (channel, count as u64))
            .collect())
    }

    /// How many pending timers are due at `now` (the backlog runners have not fired yet).
    pub async fn count_timers_due(&self, now: Timestamp) -> Result<u64> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM timers WHERE state = 'pending' AND due_at <= $1",
        )
        .bind(ms(now))
        .fetch_one(self.pool())
        .await?;
        Ok(count as u64)
    }

    /// Makes a failed or dead message pending again, to be delivered at `now`.
    pub async fn outbox_retry(&self, key: &str, now: Timestamp) -> Result<()> {
        let updated = sqlx::query(
            "UPDATE outbox SET state = 'pending', next_attempt_at = $1, last_error = NULL
             WHERE key = $2 AND (state = 'dead' OR last_error IS NOT NULL)",
        )
        .bind(ms(now))
        .bind(key)
        .execute(self.pool())
        .await?;
        if updated.rows_affected() == 0 {
            let exists: Option<String> =
                sqlx::query_scalar("SELECT state FROM outbox WHERE key = $1")
                    .bind(key)
                    .fetch_optional(self.pool())
                    .await?;
            return Err(match exists {
                None => Error::InvalidRequest(Invalid::NoOutboxMessage {
                    key: key.to_owned(),
                }),
                Some(state) => Error::InvalidRequest(Invalid::OutboxNotFailed {
                    key: key.to_owned(),
                    state,
                }),
            });
        }
        Ok(())
    }
}
