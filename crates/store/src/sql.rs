//! The SQL store. One implementation serves SQLite and PostgreSQL through sqlx's `Any`
//! driver: the statements are written in the SQL both dialects share (`$n` parameters,
//! `ON CONFLICT`, `RETURNING`), and [`Dialect`] covers the differences (how a write
//! transaction starts, migrations, connection settings).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, AssertSqlSafe, Connection, Executor, Transaction};
use swakelola_core::state::{EventKind, Notification};
use swakelola_core::step::{Action, Command, Outcome, step};
use swakelola_core::{Actor, CaseState, Event, Timer};
use swakelola_definition::{CalendarFile, load_sources};

use crate::error::{Conflict, Invalid};
use crate::hash::{self, GENESIS};
use crate::input::WebhookPolicy;
use crate::{
    Applied, CaseCommand, CaseFilter, CaseRecord, DeployedWorkflow, Deployment, Engine, Error,
    MAX_DOCUMENT_BYTES, MAX_IDEMPOTENCY_KEY_CHARS, OpenCase, Parties, Result, SoonUntil, Store,
    StoredEvent, UrgencyCounts, Verification,
};

mod firing;
pub mod migration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A case as it was before a step: the head of its hash chain and its state (none when the
/// case is being opened).
struct Before<'a> {
    hash: &'a str,
    state: Option<&'a CaseState>,
}

/// Loaded engines by workflow id and version, each with the calendar version it was loaded for.
type EngineCache = HashMap<(String, u32), (Arc<Engine>, i64)>;

/// SQLite or PostgreSQL, chosen by the database URL.
#[derive(Debug)]
pub struct SqlStore {
    pool: AnyPool,
    dialect: Dialect,
    /// Kept for PostgreSQL's LISTEN connection, which the `Any` pool cannot provide.
    url: String,
    /// Loaded workflows, each with the calendar version it was loaded for.
    engines: Mutex<EngineCache>,
    /// Where webhook contacts may point; checked when contacts are given.
    webhook_policy: WebhookPolicy,
}

pub(crate) fn millis(instant: Timestamp) -> i64 {
    instant.as_millisecond()
}

pub(crate) fn instant(millis: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(millis)
        .map_err(|e| Error::Corrupt(format!("bad instant {millis}: {e}")))
}

pub(crate) fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("store types serialise")
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::Corrupt(format!("{what}: {e}")))
}

impl SqlStore {
    /// Connects to `url` (`sqlite://path.db`, `sqlite::memory:`, `postgres://…`). A SQLite
    /// file is created if missing. Runs no migrations; call [`Store::migrate`].
    pub async fn connect(url: &str) -> Result<Self> {
        install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            return Err(Error::InvalidRequest(Invalid::UnsupportedDatabaseUrl {
                url: url.to_owned(),
            }));
        };
        let (url, connections) = match dialect {
            // One connection: every connection to `:memory:` would be its own database.
            Dialect::Sqlite if url.contains(":memory:") => (url.to_owned(), 1),
            Dialect::Sqlite if !url.contains("mode=") => {
                let separator = if url.contains('?') { '&' } else { '?' };
                (format!("{url}{separator}mode=rwc"), 4)
            }
            Dialect::Sqlite => (url.to_owned(), 4),
            Dialect::Postgres => (url.to_owned(), 8),
        };
        // One connection first, outside the pool: a refused port or a file that is not a
        // database answers at once with its own error, instead of after the pool's timeout.
        if !url.contains(":memory:") {
            let probe = async {
                let mut probe = sqlx::AnyConnection::connect(&url).await?;
                if dialect == Dialect::Sqlite {
                    probe.execute("PRAGMA schema_version").await?;
                }
                probe.close().await
            };
            match tokio::time::timeout(std::time::Duration::from_secs(5), probe).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) if dialect == Dialect::Sqlite => {
                    return Err(Error::InvalidRequest(Invalid::UnusableSqlite {
                        detail: error.to_string(),
                    }));
                }
                Ok(Err(error)) => return Err(Error::Database(error)),
                Err(_) => return Err(Error::Database(sqlx::Error::PoolTimedOut)),
            }
        }
        let pool = AnyPoolOptions::new()
            .max_connections(connections)
            // A request waits this long for a connection before it answers "unavailable"
            // (HTTP 503): long enough for a burst, short enough for a health check.
            .acquire_timeout(std::time::Duration::from_secs(3))
            // No ping on every checkout: it was a round trip per command. A connection the
            // server dropped (a restart) fails its first statement, sqlx discards it, and the
            // caller's retry gets a fresh one; `/readyz` and `ping` check the server apart.
            .test_before_acquire(false)
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        // WAL lets readers run beside the writer. synchronous=NORMAL in WAL
                        // mode keeps the database consistent after a crash; a power loss may
                        // drop the last commits (documented in ARCHITECTURE.md).
                        connection.execute("PRAGMA journal_mode = WAL").await?;
                        connection.execute("PRAGMA synchronous = NORMAL").await?;
                        connection.execute("PRAGMA busy_timeout = 10000").await?;
                        connection.execute("PRAGMA foreign_keys = ON").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(Error::Database)?;
        Ok(Self {
            pool,
            dialect,
            url,
            engines: Mutex::new(HashMap::new()),
            webhook_policy: WebhookPolicy::default(),
        })
    }

    /// Creates an empty PostgreSQL database with a unique name on the server at `admin_url`
    /// and returns its URL. For tests and benchmarks, which need a clean database each.
    pub async fn create_scratch_database(admin_url: &str) -> Result<String> {
        let admin = Self::connect(admin_url).await?;
        if admin.dialect != Dialect::Postgres {
            return Err(Error::InvalidRequest(Invalid::ScratchNeedsPostgres));
        }
        let name = format!("swk_{}", uuid::Uuid::now_v7().simple());
        // The name is generated above from hex digits only.
        admin
            .pool
            .execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await?;
        admin.pool.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url, |(base, _)| base);
        Ok(format!("{base}/{name}"))
    }

    /// On PostgreSQL, a listener woken whenever a transaction schedules timers or writes
    /// outbox messages, so runners need not wait for their next poll. `None` on SQLite.
    pub async fn work_listener(&self) -> Result<Option<sqlx::postgres::PgListener>> {
        if self.dialect != Dialect::Postgres {
            return Ok(None);
        }
        let mut listener = sqlx::postgres::PgListener::connect(&self.url).await?;
        listener.listen(WORK_CHANNEL).await?;
        Ok(Some(listener))
    }

    /// Sets where webhook contacts may point (by default: https to public addresses only).
    pub fn with_webhook_policy(mut self, policy: WebhookPolicy) -> Self {
        self.webhook_policy = policy;
        self
    }

    /// The URL this store connected to. It may hold a password: never log it as it is.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn webhook_policy(&self) -> &WebhookPolicy {
        &self.webhook_policy
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction. SQLite must take the write lock up front
    /// (`BEGIN IMMEDIATE`): a read-then-write transaction that upgrades later fails at once
    /// with "database is locked" under concurrency, whatever the busy timeout.
    pub async fn begin(&self) -> Result<Transaction<'static, Any>> {
        Ok(match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Dialect::Postgres => self.pool.begin().await?,
        })
    }

    /// Whether the database answers (for readiness checks).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The newest deployed version of a workflow.
    /// The deployed calendar files (the built-in ones when none is deployed yet), to check a
    /// workflow before deploying it exactly as the deploy will.
    pub async fn calendar_files(&self) -> Result<Vec<CalendarFile>> {
        let stored: Vec<(String, String)> =
            sqlx::query_as("SELECT file, source FROM calendar_files ORDER BY file")
                .fetch_all(&self.pool)
                .await?;
        if stored.is_empty() {
            return Ok(swakelola_definition::built_in_calendars());
        }
        Ok(stored
            .into_iter()
            .map(|(file, text)| CalendarFile { file, text })
            .collect())
    }

    pub async fn latest_version(&self, workflow_id: &str) -> Result<u32> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM workflows WHERE id = $1")
                .bind(workflow_id)
                .fetch_one(&self.pool)
                .await?;
        version
            .map(|v| v as u32)
            .ok_or_else(|| Error::WorkflowNotFound(workflow_id.to_owned()))
    }

    pub(crate) async fn record(&self, id: &str) -> Result<CaseRecord> {
        let row: Option<CaseRow> = sqlx::query_as(CASE_COLUMNS_BY_ID)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.ok_or_else(|| Error::CaseNotFound(id.to_owned()))?
            .into_record()
    }

    /// How often the installation's calendars have changed; engines cached for an older
    /// count are reloaded.
    pub(crate) async fn calendar_version(&self) -> Result<i64> {
        let value: Option<String> =
            sqlx::query_scalar("SELECT value FROM installation WHERE key = 'calendar_version'")
                .fetch_optional(&self.pool)
                .await?;
        Ok(value.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// The engine of a workflow version if the cache holds it for `calendar_version`: what a
    /// write transaction may use without a query of its own.
    pub(crate) fn cached_engine(
        &self,
        workflow_id: &str,
        version: u32,
        calendar_version: i64,
    ) -> Option<Arc<Engine>> {
        self.engines
            .lock()
            .expect("engine cache")
            .get(&(workflow_id.to_owned(), version))
            .filter(|(_, loaded_for)| *loaded_for == calendar_version)
            .map(|(engine, _)| engine.clone())
    }

    /// The engine of a workflow version on the calendars of `calendar_version`, from the
    /// cache when it was loaded for that version.
    pub(crate) async fn engine_at(
        &self,
        workflow_id: &str,
        version: u32,
        calendar_version: i64,
    ) -> Result<Arc<Engine>> {
        if let Some(engine) = self.cached_engine(workflow_id, version, calendar_version) {
            return Ok(engine);
        }
        let key = (workflow_id.to_owned(), version);
        let source: Option<String> =
            sqlx::query_scalar("SELECT source FROM workflows WHERE id = $1 AND version = $2")
                .bind(workflow_id)
                .bind(i64::from(version))
                .fetch_optional(&self.pool)
                .await?;
        let source =
            source.ok_or_else(|| Error::WorkflowNotFound(format!("{workflow_id} v{version}")))?;
        let calendars: Vec<(String, String)> =
            sqlx::query_as("SELECT file, source FROM calendar_files ORDER BY file")
                .fetch_all(&self.pool)
                .await?;
        let calendars: Vec<CalendarFile> = calendars
            .into_iter()
            .map(|(file, text)| CalendarFile { file, text })
            .collect();
        let bundle = load_sources(&[(format!("{workflow_id}@{version}"), source)], &calendars);
        let definition = bundle.workflows.first().ok_or_else(|| {
            Error::Corrupt(format!(
                "deployed workflow {workflow_id} v{version} no longer loads"
            ))
        })?;
        let calendar = bundle
            .calendar_for(&definition.workflow)
            .cloned()
            .ok_or_else(|| {
                Error::Corrupt(format!(
                    "calendar `{}` is not deployed",
                    definition.workflow.calendar
                ))
            })?;
        let engine = Arc::new(Engine {
            workflow: definition.workflow.clone(),
            calendar,
        });
        self.engines
            .lock()
            .expect("engine cache")
            .insert(key, (engine.clone(), calendar_version));
        Ok(engine)
    }

    /// Appends the outcome's event and applies everything else it carries, in `tx`.
    async fn persist(
        &self,
        tx: &mut Transaction<'static, Any>,
        case_id: &str,
        before: Before<'_>,
        parties: &Parties,
        outcome: &Outcome,
        content: Option<&[u8]>,
    ) -> Result<String> {
        let prev_hash = before.hash;
        let event = &outcome.event;
        let ChainedEvent {
            seq,
            at,
            kind,
            payload,
            hash,
        } = ChainedEvent::of(case_id, prev_hash, event);
        sqlx::query(
            "INSERT INTO events (case_id, seq, at, actor, role, kind, payload, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(case_id)
        .bind(seq)
        .bind(at)
        .bind(event.actor.name.as_str())
        .bind(event.actor.role.as_str())
        .bind(kind)
        .bind(payload)
        .bind(prev_hash)
        .bind(hash.as_str())
        .execute(&mut **tx)
        .await?;

        let state = &outcome.state;
        let updated = sqlx::query(
            "UPDATE cases SET stage = $1, revision = $2, state = $3, next_due_at = $4, closed_at = $5,
                              fiscal_year = $6, last_hash = $9
             WHERE id = $7 AND revision = $8",
        )
        .bind(state.stage.as_str())
        .bind(seq)
        .bind(json(state))
        .bind(outcome.next_due_at.map(millis))
        .bind(state.closed_at.map(millis))
        .bind(fiscal_year(state))
        .bind(case_id)
        .bind(seq - 1)
        .bind(hash.as_str())
        .execute(&mut **tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Err(Error::Conflict(Conflict::ChangedMeanwhile));
        }
        // Each organisation's view of the case's urgency (*Tugas saya*), kept beside its
        // access so listing and counting never touch the cases themselves. Most steps
        // (reminders, documents) change neither: no statement then.
        let urgency = |s: &CaseState| (s.attention_at(), s.closed_at);
        if before.state.map(urgency) != Some(urgency(state)) {
            sqlx::query(
                "UPDATE case_organisations SET attention_at = $1, closed_at = $2 WHERE case_id = $3",
            )
            .bind(state.attention_at().map(millis))
            .bind(state.closed_at.map(millis))
            .bind(case_id)
            .execute(&mut **tx)
            .await?;
        }

        // One statement per kind of change, not one per row: round trips dominate the cost
        // of a transition (BENCHMARKS.md).
        if !outcome.cancel.is_empty() {
            let sql = format!(
                "DELETE FROM timers WHERE case_id = $1 AND key IN ({})",
                placeholders(2, outcome.cancel.len(), 1)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(case_id);
            for key in &outcome.cancel {
                query = query.bind(key.as_str());
            }
            query.execute(&mut **tx).await?;
        }
        let scheduled: Vec<(&str, &Timer)> =
            outcome.schedule.iter().map(|t| (case_id, t)).collect();
        self.upsert_timers(tx, &scheduled).await?;
        let messages = outbox_rows(case_id, &outcome.notifications, parties, at);
        let messages_empty = messages.is_empty();
        self.insert_outbox(tx, &messages).await?;
        if self.dialect == Dialect::Postgres && (!outcome.schedule.is_empty() || !messages_empty) {
            // Delivered to listening runners when this transaction commits.
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(WORK_CHANNEL)
                .execute(&mut **tx)
                .await?;
        }
        if let EventKind::ContactsChanged { role, contacts } = &event.kind {
            // The contacts live beside the state (the core never reads them); they change
            // with the event that records the change, in this transaction.
            let mut changed = parties.clone();
            let people: Vec<crate::Contact> = contacts
                .iter()
                .map(|c| crate::Contact {
                    name: c.name.clone(),
                    address: c.address.clone(),
                })
                .collect();
            if people.is_empty() {
                changed.contacts.remove(role);
            } else {
                changed.contacts.insert(role.clone(), people);
            }
            sqlx::query("UPDATE cases SET parties = $1 WHERE id = $2")
                .bind(json(&changed))
                .bind(case_id)
                .execute(&mut **tx)
                .await?;
        }
        if matches!(
            event.kind,
            EventKind::MemberAdded { .. } | EventKind::MemberWithdrawn { .. }
        ) {
            self.change_members(tx, case_id, parties, &event.kind, state)
                .await?;
        }
        if let (EventKind::DocumentAttached { document, .. }, Some(content)) =
            (&event.kind, content)
        {
            sqlx::query("INSERT INTO blobs (sha256, content) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING")
                .bind(document.sha256.as_str())
                .bind(content.to_vec())
                .execute(&mut **tx)
                .await?;
            sqlx::query(
                "INSERT INTO documents (case_id, seq, document_type, file_name, size, sha256, attached_at, attached_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(case_id)
            .bind(seq)
            .bind(document.document_type.as_str())
            .bind(document.file_name.as_str())
            .bind(document.size as i64)
            .bind(document.sha256.as_str())
            .bind(at)
            .bind(document.attached_by.name.as_str())
            .execute(&mut **tx)
            .await?;
        }
        if let EventKind::RecordAdded {
            record,
            number,
            fields,
        } = &event.kind
        {
            // The record itself lives in its own row; the state keeps only the totals.
            let entry = swakelola_core::state::RecordEntry {
                fields: fields.clone(),
                added_at: event.at,
                added_by: event.actor.role.clone(),
            };
            sqlx::query(
                "INSERT INTO case_records (case_id, kind, number, entry) VALUES ($1, $2, $3, $4)",
            )
            .bind(case_id)
            .bind(record.as_str())
            .bind(*number as i64)
            .bind(json(&entry))
            .execute(&mut **tx)
            .await?;
        }
        if let EventKind::Linked {
            link,
            case_id: target,
            ..
        } = &event.kind
        {
            sqlx::query(
                "INSERT INTO case_links (case_id, kind, target_id, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(case_id)
            .bind(link.name())
            .bind(target.as_str())
            .bind(at)
            .execute(&mut **tx)
            .await?;
        }
        Ok(hash)
    }

    async fn find_open(&self, request: &OpenCase) -> Result<Option<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT id, open_request_hash FROM cases
             WHERE workflow_id = $1 AND organisation = $2 AND business_key = $3",
        )
        .bind(request.workflow_id.as_str())
        .bind(request.organisation.as_str())
        .bind(request.business_key.as_str())
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn existing_open(
        &self,
        id: &str,
        stored_hash: &str,
        request_hash: &str,
        key: &str,
    ) -> Result<Applied> {
        if stored_hash != request_hash {
            return Err(Error::Conflict(Conflict::BusinessKeyTaken {
                business_key: key.to_owned(),
                case_id: id.to_owned(),
            }));
        }
        Ok(Applied {
            case: self.record(id).await?,
            event: None,
            created: false,
        })
    }
}

/// Where a notification goes: each contact of each role, or a `log` line for a role without
/// contacts (so that nothing is silently dropped).
fn recipients(notification: &Notification, parties: &Parties) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for role in &notification.to {
        match parties.contacts.get(role).filter(|c| !c.is_empty()) {
            Some(contacts) => {
                for contact in contacts {
                    // Addresses were checked when the case was opened; one stored before
                    // that check existed and no longer parses goes to the log instead.
                    match crate::input::Address::parse(&contact.address) {
                        Ok(address) => out.push((address.channel(), contact.address.clone())),
                        Err(_) => out.push(("log", format!("role:{role}"))),
                    }
                }
            }
            None => out.push(("log", format!("role:{role}"))),
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `($first, …), (…)` for `rows` rows of `columns` numbered placeholders; with one column,
/// a plain list `$first, $first+1, …`.
pub(crate) fn placeholders(first: usize, rows: usize, columns: usize) -> String {
    let mut next = first;
    let mut groups = Vec::with_capacity(rows);
    for _ in 0..rows {
        let row: Vec<String> = (0..columns)
            .map(|_| {
                next += 1;
                format!("${}", next - 1)
            })
            .collect();
        groups.push(if columns == 1 {
            row.join(", ")
        } else {
            format!("({})", row.join(", "))
        });
    }
    groups.join(", ")
}

fn fiscal_year(state: &CaseState) -> Option<i64> {
    state.fields.values().find_map(|v| match v {
        swakelola_core::FieldValue::FiscalYear(year) => Some(i64::from(*year)),
        _ => None,
    })
}

/// One notification's row in the outbox for one recipient.
pub(crate) struct OutboxRow {
    key: String,
    case_id: String,
    channel: &'static str,
    recipient: String,
    payload: String,
    at: i64,
}

/// The outbox rows of `notifications` of case `case_id` written at `at`: one per recipient,
/// keyed by case, notification and recipient so that a repeat is dropped.
pub(crate) fn outbox_rows(
    case_id: &str,
    notifications: &[Notification],
    parties: &Parties,
    at: i64,
) -> Vec<OutboxRow> {
    notifications
        .iter()
        .flat_map(|notification| {
            recipients(notification, parties)
                .into_iter()
                .map(move |(channel, recipient)| OutboxRow {
                    key: format!("{case_id}/{}/{recipient}", notification.key),
                    case_id: case_id.to_owned(),
                    channel,
                    recipient,
                    payload: json(
                        &serde_json::json!({ "case_id": case_id, "notification": notification }),
                    ),
                    at,
                })
        })
        .collect()
}

/// Rows per multi-row statement on PostgreSQL, where each statement is a round trip to the
/// server: well under its 65 535 parameters.
const ROWS_PER_STATEMENT: usize = 500;

/// Parameters per statement on SQLite, where a statement costs no network round trip but
/// preparing and binding one grows faster than its parameter count (measured: 500 event rows
/// in one statement took 58 ms, in statements of 32 rows 4 ms in all).
const SQLITE_PARAMETERS_PER_STATEMENT: usize = 300;

impl SqlStore {
    /// How many rows of `columns` parameters one multi-row statement carries.
    pub(crate) fn rows_per_statement(&self, columns: usize) -> usize {
        match self.dialect {
            Dialect::Postgres => ROWS_PER_STATEMENT,
            Dialect::Sqlite => (SQLITE_PARAMETERS_PER_STATEMENT / columns).max(1),
        }
    }

    /// Schedules timers (of any cases): new ones are inserted, moved ones replace the row and
    /// are pending again, unleased and with no error.
    pub(crate) async fn upsert_timers(
        &self,
        tx: &mut Transaction<'static, Any>,
        timers: &[(&str, &Timer)],
    ) -> Result<()> {
        for chunk in timers.chunks(self.rows_per_statement(5)) {
            let sql = format!(
                "INSERT INTO timers (case_id, key, due_at, kind, payload) VALUES {}
                 ON CONFLICT (case_id, key) DO UPDATE SET
                     due_at = excluded.due_at, kind = excluded.kind, payload = excluded.payload,
                     state = 'pending', lease_owner = NULL, lease_until = NULL, attempts = 0,
                     last_error = NULL",
                placeholders(1, chunk.len(), 5)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for (case_id, timer) in chunk {
                query = query
                    .bind(*case_id)
                    .bind(timer.key.as_str())
                    .bind(millis(timer.due_at))
                    .bind(timer.kind.name())
                    .bind(json(&timer.kind));
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Writes outbox rows; a row whose key is already there is a repeat and is dropped.
    pub(crate) async fn insert_outbox(
        &self,
        tx: &mut Transaction<'static, Any>,
        rows: &[OutboxRow],
    ) -> Result<()> {
        for chunk in rows.chunks(self.rows_per_statement(7)) {
            let sql = format!(
                "INSERT INTO outbox (key, case_id, channel, recipient, payload, next_attempt_at, created_at) VALUES {}
                 ON CONFLICT (key) DO NOTHING",
                placeholders(1, chunk.len(), 7)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for row in chunk {
                query = query
                    .bind(row.key.as_str())
                    .bind(row.case_id.as_str())
                    .bind(row.channel)
                    .bind(row.recipient.as_str())
                    .bind(row.payload.as_str())
                    .bind(row.at)
                    .bind(row.at);
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }
}

/// An event's columns as stored, with the hash that chains it to the case's previous event.
pub(crate) struct ChainedEvent {
    pub seq: i64,
    pub at: i64,
    pub kind: &'static str,
    pub payload: String,
    pub hash: String,
}

impl ChainedEvent {
    pub(crate) fn of(case_id: &str, prev_hash: &str, event: &Event) -> Self {
        let seq = event.revision as i64;
        let kind = event_kind_name(&event.kind);
        let payload = json(&event.kind);
        let at = millis(event.at);
        let hash = hash::chain(
            prev_hash,
            &hash::Row {
                case_id,
                seq,
                at,
                actor: &event.actor.name,
                role: &event.actor.role,
                kind,
                payload: &payload,
            },
        );
        Self {
            seq,
            at,
            kind,
            payload,
            hash,
        }
    }
}

fn event_kind_name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::Opened { .. } => "opened",
        EventKind::Transitioned { .. } => "transitioned",
        EventKind::DocumentAttached { .. } => "document_attached",
        EventKind::FieldSet { .. } => "field_set",
        EventKind::TimerFired { .. } => "timer_fired",
        EventKind::DeadlinesMoved { .. } => "deadlines_moved",
        EventKind::ContactsChanged { .. } => "contacts_changed",
        EventKind::RecordAdded { .. } => "record_added",
        EventKind::Approved { .. } => "approved",
        EventKind::Declined { .. } => "declined",
        EventKind::MemberAdded { .. } => "member_added",
        EventKind::MemberWithdrawn { .. } => "member_withdrawn",
        EventKind::Linked { .. } => "linked",
        EventKind::Migrated { .. } => "migrated",
    }
}

/// What makes two requests "the same" for an idempotency key: a SHA-256 over a JSON document
/// whose shape is fixed here (not the Rust types' `Debug` or serde output, which change with
/// the code), so a retry sent across an upgrade is still recognised. Version 1:
/// `{"v":1,"case":…,"actor":…,"role":…,"expected_revision":n|null,"action":{"type":…,…}}`
/// with actions `fire {transition, comment}`, `attach {document_type, file_name, sha256,
/// size}`, `set_field {field, value}`, `add_record {record, values: [[name, value]…]}`,
/// `decline {transition, comment}`, `add_member {party, organisation}`,
/// `withdraw_member {party, organisation, reason}`, `link {link, case_id}`, `fire_timer {key}` and `open {fields: [[name, value]…]}`.
fn request_identity(command: &CaseCommand) -> String {
    let action = match &command.action {
        Action::Open { fields, .. } => serde_json::json!({"type": "open", "fields": fields}),
        Action::Fire {
            transition,
            comment,
        } => serde_json::json!({"type": "fire", "transition": transition, "comment": comment}),
        Action::Attach {
            document_type,
            file_name,
            sha256,
            size,
        } => serde_json::json!({
            "type": "attach", "document_type": document_type, "file_name": file_name,
            "sha256": sha256, "size": size,
        }),
        Action::SetField { field, value } => {
            serde_json::json!({"type": "set_field", "field": field, "value": value})
        }
        Action::AddRecord { record, values } => {
            serde_json::json!({"type": "add_record", "record": record, "values": values})
        }
        Action::Decline {
            transition,
            comment,
        } => serde_json::json!({"type": "decline", "transition": transition, "comment": comment}),
        Action::AddMember {
            party,
            organisation,
        } => {
            serde_json::json!({"type": "add_member", "party": party, "organisation": organisation})
        }
        Action::WithdrawMember {
            party,
            organisation,
            reason,
        } => serde_json::json!({
            "type": "withdraw_member", "party": party, "organisation": organisation, "reason": reason,
        }),
        Action::Link { link, case_id, .. } => {
            serde_json::json!({"type": "link", "link": link.name(), "case_id": case_id})
        }
        Action::FireTimer { key } => serde_json::json!({"type": "fire_timer", "key": key}),
        Action::RecomputeDeadlines { reason } => {
            serde_json::json!({"type": "recompute_deadlines", "reason": reason})
        }
        Action::SetContacts { role, contacts } => serde_json::json!({
            "type": "set_contacts",
            "role": role,
            "contacts": contacts
                .iter()
                .map(|c| serde_json::json!({"name": c.name, "address": c.address}))
                .collect::<Vec<_>>(),
        }),
    };
    // serde_json's maps are sorted by key, so the encoding is canonical.
    let identity = serde_json::json!({
        "v": 1,
        "case": command.case_id,
        "actor": command.actor.name,
        "role": command.actor.role,
        "expected_revision": command.expected_revision,
        "action": action,
    });
    hash::sha256_hex(identity.to_string().as_bytes())
}

fn check_idempotency_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.chars().count() <= MAX_IDEMPOTENCY_KEY_CHARS
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidRequest(Invalid::MalformedIdempotencyKey {
            key: key.to_owned(),
            max: MAX_IDEMPOTENCY_KEY_CHARS,
        }))
    }
}

/// The PostgreSQL notification channel for new timers and messages.
pub const WORK_CHANNEL: &str = "swakelola_work";

const CASE_COLUMNS_BY_ID: &str =
    "SELECT id, workflow_id, workflow_version, organisation, business_key, parties, state, last_hash, pending_organisations
                                  FROM cases WHERE id = $1";

/// The case row and, in the same round trip, the installation's calendar version.
const CASE_COLUMNS_BY_ID_WITH_CALENDAR: &str =
    "SELECT id, workflow_id, workflow_version, organisation, business_key, parties, state, last_hash, pending_organisations,
            (SELECT value FROM installation WHERE key = 'calendar_version') AS calendar_version
       FROM cases WHERE id = $1";

#[derive(sqlx::FromRow)]
struct CaseRowWithCalendar {
    #[sqlx(flatten)]
    case: CaseRow,
    calendar_version: String,
}

#[derive(sqlx::FromRow)]
struct CaseRow {
    id: String,
    workflow_id: String,
    workflow_version: i64,
    organisation: String,
    business_key: String,
    parties: String,
    state: String,
    last_hash: String,
    pending_organisations: String,
}

impl CaseRow {
    fn into_record(self) -> Result<CaseRecord> {
        Ok(CaseRecord {
            parties: parse_json(&self.parties, "case parties")?,
            state: parse_json(&self.state, "case state")?,
            pending_organisations: parse_json(
                &self.pending_organisations,
                "case pending organisations",
            )?,
            id: self.id,
            workflow_id: self.workflow_id,
            workflow_version: self.workflow_version as u32,
            organisation: self.organisation,
            business_key: self.business_key,
        })
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn migrate(&self) -> Result<()> {
        match self.dialect {
            Dialect::Sqlite => {
                sqlx::migrate!("../../migrations/sqlite")
                    .run(&self.pool)
                    .await?
            }
            Dialect::Postgres => {
                sqlx::migrate!("../../migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }

    async fn deploy(
        &self,
        file: &str,
        source: &str,
        calendars: &[(String, String)],
        now: Timestamp,
    ) -> Result<Deployment> {
        // Checked inside the write transaction, against the calendars as they will be after
        // this deploy (stored ones, replaced file by file by those given): a deploy that
        // would make a stored workflow fail to load, or whose calendars clash with stored
        // ones, is refused with the problem named, and nothing is written.
        let mut tx = self.begin().await?;
        let stored: Vec<(String, String)> =
            sqlx::query_as("SELECT file, source FROM calendar_files ORDER BY file")
                .fetch_all(&mut *tx)
                .await?;
        let mut merged: std::collections::BTreeMap<String, String> = stored.into_iter().collect();
        // A first deploy that brings no calendars uses the ones built into swakelola.
        let built_in: Vec<(String, String)>;
        let calendars = if merged.is_empty() && calendars.is_empty() {
            built_in = swakelola_definition::built_in_calendars()
                .into_iter()
                .map(|c| (c.file, c.text))
                .collect();
            &built_in[..]
        } else {
            calendars
        };
        let mut calendars_changed = false;
        for (file, text) in calendars {
            if merged.get(file) != Some(text) {
                calendars_changed = true;
                merged.insert(file.clone(), text.clone());
            }
        }
        let calendar_files: Vec<CalendarFile> = merged
            .iter()
            .map(|(file, text)| CalendarFile {
                file: file.clone(),
                text: text.clone(),
            })
            .collect();
        let bundle = load_sources(&[(file.to_owned(), source.to_owned())], &calendar_files);
        if bundle.has_errors() {
            return Err(Error::InvalidWorkflow(bundle.diagnostics));
        }
        if calendars_changed {
            let deployed: Vec<(String, i64, String)> =
                sqlx::query_as("SELECT id, version, source FROM workflows ORDER BY id, version")
                    .fetch_all(&mut *tx)
                    .await?;
            let sources: Vec<(String, String)> = deployed
                .into_iter()
                .map(|(id, version, source)| (format!("{id}@{version} (deployed)"), source))
                .collect();
            let mut problems = Vec::new();
            for one in sources {
                let check = load_sources(std::slice::from_ref(&one), &calendar_files);
                if check.has_errors() {
                    problems.extend(check.diagnostics.into_iter().filter(|d| d.is_error()));
                }
            }
            if !problems.is_empty() {
                return Err(Error::InvalidWorkflow(problems));
            }
        }
        let id = bundle.workflows[0].workflow.id.clone();
        let content_hash = hash::sha256_hex(source.as_bytes());
        if calendars_changed {
            for (file, text) in calendars {
                sqlx::query(
                    "INSERT INTO calendar_files (file, source, deployed_at) VALUES ($1, $2, $3)
                     ON CONFLICT (file) DO UPDATE SET source = excluded.source, deployed_at = excluded.deployed_at",
                )
                .bind(file.as_str())
                .bind(text.as_str())
                .bind(millis(now))
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "UPDATE installation SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)
                 WHERE key = 'calendar_version'",
            )
            .execute(&mut *tx)
            .await?;
        }
        // Open cases' pending deadlines move with the calendars, in this same transaction:
        // every process sees the new calendars and the moved deadlines together or neither.
        let rescheduled = if calendars_changed {
            let changed: Vec<&str> = calendars.iter().map(|(file, _)| file.as_str()).collect();
            self.recompute_open_cases(&mut tx, &calendar_files, &changed, now)
                .await?
        } else {
            0
        };
        let existing: Option<(i64, i64)> = sqlx::query_as(
            "SELECT version, deployed_at FROM workflows WHERE id = $1 AND content_hash = $2",
        )
        .bind(id.as_str())
        .bind(content_hash.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let (version, deployed_at, created) = match existing {
            Some((version, deployed_at)) => (version, deployed_at, false),
            None => {
                let latest: Option<i64> =
                    sqlx::query_scalar("SELECT MAX(version) FROM workflows WHERE id = $1")
                        .bind(id.as_str())
                        .fetch_one(&mut *tx)
                        .await?;
                let version = latest.unwrap_or(0) + 1;
                sqlx::query(
                    "INSERT INTO workflows (id, version, source, content_hash, deployed_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id.as_str())
                .bind(version)
                .bind(source)
                .bind(content_hash.as_str())
                .bind(millis(now))
                .execute(&mut *tx)
                .await?;
                (version, millis(now), true)
            }
        };
        tx.commit().await?;
        Ok(Deployment {
            workflow: DeployedWorkflow {
                id,
                version: version as u32,
                content_hash,
                deployed_at: instant(deployed_at)?,
            },
            created,
            rescheduled,
        })
    }

    async fn workflows(&self) -> Result<Vec<DeployedWorkflow>> {
        let rows: Vec<(String, i64, String, i64)> = sqlx::query_as(
            "SELECT id, version, content_hash, deployed_at FROM workflows ORDER BY id, version",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, version, content_hash, deployed_at)| {
                Ok(DeployedWorkflow {
                    id,
                    version: version as u32,
                    content_hash,
                    deployed_at: instant(deployed_at)?,
                })
            })
            .collect()
    }

    async fn engine_for(&self, workflow_id: &str, version: u32) -> Result<Arc<Engine>> {
        let calendar_version = self.calendar_version().await?;
        self.engine_at(workflow_id, version, calendar_version).await
    }

    async fn open(&self, request: &OpenCase, now: Timestamp) -> Result<Applied> {
        crate::input::check_open(request, &self.webhook_policy)?;
        let identity = (
            &request.workflow_id,
            &request.organisation,
            &request.business_key,
            &request.fields,
            &request.parties,
        );
        // A request without an origin hashes as it always did, so a retried open still
        // finds its case across this upgrade.
        let request_hash = hash::sha256_hex(
            match &request.origin {
                None => json(&identity),
                Some(origin) => json(&(identity, origin)),
            }
            .as_bytes(),
        );
        if let Some((id, stored)) = self.find_open(request).await? {
            return self
                .existing_open(&id, &stored, &request_hash, &request.business_key)
                .await;
        }
        let (expanded, origin) = self.with_origin(request).await?;
        let request = &expanded;
        let version = self.latest_version(&request.workflow_id).await?;
        let engine = self.engine_for(&request.workflow_id, version).await?;
        crate::input::check_open_against(request, &engine.workflow)?;
        let command = Command {
            actor: request.actor.clone(),
            action: Action::Open {
                fields: request.fields.clone(),
                parties: request.parties.as_lists(),
            },
        };
        let outcome = step(&engine.workflow, None, &command, now, &engine.calendar)
            .map_err(|rejection| Error::rejected_under(rejection, &request.workflow_id, version))?;
        let case_id = uuid::Uuid::now_v7().to_string();
        let invited: Vec<String> = request
            .parties
            .all_organisations()
            .into_iter()
            .filter(|o| *o != request.organisation)
            .map(str::to_owned)
            .collect();
        let attempt: Result<()> = async {
            let mut tx = self.begin().await?;
            sqlx::query(
                "INSERT INTO cases (id, workflow_id, workflow_version, organisation, business_key, open_request_hash,
                                    stage, revision, state, parties, fiscal_year, next_due_at, opened_at, closed_at,
                                    pending_organisations)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, NULL, NULL, $10, NULL, $11)",
            )
            .bind(case_id.as_str())
            .bind(request.workflow_id.as_str())
            .bind(i64::from(version))
            .bind(request.organisation.as_str())
            .bind(request.business_key.as_str())
            .bind(request_hash.as_str())
            .bind(outcome.state.stage.as_str())
            .bind(json(&outcome.state))
            .bind(json(&request.parties))
            .bind(millis(now))
            .bind(json(&invited))
            .execute(&mut *tx)
            .await?;
            // The opener is in; every other organisation named is invited and involved only
            // once one of its staff accepts.
            sqlx::query(
                "INSERT INTO case_organisations (case_id, organisation, accepted_at, accepted_by,
                                                 workflow_id, workflow_version)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(case_id.as_str())
            .bind(request.organisation.as_str())
            .bind(millis(now))
            .bind(request.actor.name.as_str())
            .bind(request.workflow_id.as_str())
            .bind(i64::from(version))
            .execute(&mut *tx)
            .await?;
            for organisation in &invited {
                sqlx::query(
                    "INSERT INTO case_organisations (case_id, organisation, workflow_id, workflow_version)
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(case_id.as_str())
                .bind(organisation.as_str())
                .bind(request.workflow_id.as_str())
                .bind(i64::from(version))
                .execute(&mut *tx)
                .await?;
            }
            let opened_hash = self
                .persist(
                    &mut tx,
                    &case_id,
                    Before {
                        hash: GENESIS,
                        state: None,
                    },
                    &request.parties,
                    &outcome,
                    None,
                )
                .await?;
            // Opened as the continuation or replication of another case: the link is the
            // case's second event, in the same transaction.
            if let Some(origin) = &origin {
                let link = Command {
                    actor: request.actor.clone(),
                    action: Action::Link {
                        link: origin.link,
                        case_id: origin.case.id.clone(),
                        business_key: origin.case.business_key.clone(),
                    },
                };
                let linked = step(&engine.workflow, Some(&outcome.state), &link, now, &engine.calendar)
                    .map_err(|rejection| Error::rejected_under(rejection, &request.workflow_id, version))?;
                self.persist(
                    &mut tx,
                    &case_id,
                    Before {
                        hash: &opened_hash,
                        state: Some(&outcome.state),
                    },
                    &request.parties,
                    &linked,
                    None,
                )
                .await?;
            }
            tx.commit().await?;
            Ok(())
        }
        .await;
        match attempt {
            Ok(()) => Ok(Applied {
                case: self.record(&case_id).await?,
                event: Some(outcome.event),
                created: true,
            }),
            // Another request opened the same business key first: answer with that case.
            Err(Error::Conflict(_)) => match self.find_open(request).await? {
                Some((id, stored)) => {
                    self.existing_open(&id, &stored, &request_hash, &request.business_key)
                        .await
                }
                None => Err(Error::Conflict(Conflict::ChangedMeanwhile)),
            },
            Err(other) => Err(other),
        }
    }

    async fn execute(&self, command: &CaseCommand, now: Timestamp) -> Result<Applied> {
        crate::input::check_command(command, &self.webhook_policy)?;
        if let Some(key) = &command.idempotency_key {
            check_idempotency_key(key)?;
        }
        if let Action::Attach { sha256, size, .. } = &command.action {
            let content = command
                .content
                .as_deref()
                .ok_or(Error::InvalidRequest(Invalid::AttachmentWithoutContent))?;
            if content.len() > MAX_DOCUMENT_BYTES {
                return Err(Error::InvalidRequest(Invalid::DocumentTooLarge {
                    bytes: content.len(),
                    max: MAX_DOCUMENT_BYTES,
                }));
            }
            if *size != content.len() as u64 || *sha256 != hash::sha256_hex(content) {
                return Err(Error::InvalidRequest(Invalid::DocumentMismatch));
            }
        }
        let request_hash = request_identity(command);
        loop {
            let mut tx = self.begin().await?;
            if let Some(key) = &command.idempotency_key {
                let earlier: Option<(String, String)> =
                    sqlx::query_as("SELECT case_id, request_hash FROM idempotency WHERE key = $1")
                        .bind(key.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                if let Some((case_id, stored)) = earlier {
                    tx.rollback().await?;
                    if case_id != command.case_id || stored != request_hash {
                        return Err(Error::Conflict(Conflict::IdempotencyKeyReused {
                            key: key.clone(),
                        }));
                    }
                    return Ok(Applied {
                        case: self.record(&case_id).await?,
                        event: None,
                        created: false,
                    });
                }
            }
            let row: CaseRowWithCalendar = sqlx::query_as(CASE_COLUMNS_BY_ID_WITH_CALENDAR)
                .bind(command.case_id.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| Error::CaseNotFound(command.case_id.clone()))?;
            let calendar_version: i64 = row.calendar_version.parse().unwrap_or(0);
            let row = row.case;
            let cached = self.cached_engine(
                &row.workflow_id,
                row.workflow_version as u32,
                calendar_version,
            );
            let Some(engine) = cached else {
                // Loading a workflow takes queries of its own: never while holding the write
                // lock. Load it (on the calendars as they are now), then start again.
                tx.rollback().await?;
                self.engine_at(
                    &row.workflow_id,
                    row.workflow_version as u32,
                    calendar_version,
                )
                .await?;
                continue;
            };
            let prev_hash = row.last_hash.clone();
            let record = row.into_record()?;
            return self
                .apply(tx, &engine, record, &prev_hash, command, &request_hash, now)
                .await;
        }
    }

    async fn case(&self, id: &str) -> Result<CaseRecord> {
        self.record(id).await
    }

    async fn cases(&self, filter: &CaseFilter) -> Result<Vec<CaseRecord>> {
        let mut sql = String::from(
            "SELECT id, workflow_id, workflow_version, organisation, business_key, parties, state, last_hash, pending_organisations FROM cases WHERE 1 = 1",
        );
        let mut values: Vec<String> = Vec::new();
        let mut condition = |column: &str, value: String| {
            values.push(value);
            sql.push_str(&format!(" AND {column} = ${}", values.len()));
        };
        if let Some(workflow) = &filter.workflow_id {
            condition("workflow_id", workflow.clone());
        }
        if let Some(stage) = &filter.stage {
            condition("stage", stage.clone());
        }
        if let Some(organisation) = &filter.organisation {
            condition("organisation", organisation.clone());
        }
        if let Some(year) = filter.fiscal_year {
            condition("CAST(fiscal_year AS TEXT)", year.to_string());
        }
        if let Some(organisation) = &filter.visible_to {
            values.push(organisation.clone());
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM case_organisations p WHERE p.case_id = cases.id AND p.organisation = ${} AND p.accepted_at IS NOT NULL)",
                values.len()
            ));
        }
        if let Some(text) = filter
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            // `%` and `_` typed by a person are literal characters, not wildcards.
            let escaped = text
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            values.push(format!("%{escaped}%"));
            let n = values.len();
            sql.push_str(&format!(
                " AND (LOWER(business_key) LIKE ${n} ESCAPE '\\' OR LOWER(organisation) LIKE ${n} ESCAPE '\\' OR LOWER(state) LIKE ${n} ESCAPE '\\')"
            ));
        }
        if let Some(after) = &filter.after {
            // Keyset pagination: case ids are UUIDv7, so (opened_at, id) of the cursor case is
            // a stable position even while new cases are opened.
            values.push(after.clone());
            let n = values.len();
            sql.push_str(&format!(
                " AND (opened_at, id) > (SELECT opened_at, id FROM cases WHERE id = ${n})"
            ));
        }
        sql.push_str(" ORDER BY opened_at, id");
        // Without the overdue filter (applied to the loaded state below) the database can stop
        // at the limit instead of returning every case.
        if filter.overdue_at.is_none() && filter.limit > 0 {
            sql.push_str(&format!(" LIMIT {}", filter.limit));
        }
        // Only fixed column names and numbered placeholders are formatted in; every value is bound.
        let mut query = sqlx::query_as::<_, CaseRow>(AssertSqlSafe(sql));
        for value in values {
            query = query.bind(value);
        }
        let rows = query.fetch_all(&self.pool).await?;
        let mut records = Vec::new();
        for row in rows {
            let record = row.into_record()?;
            if let Some(at) = filter.overdue_at
                && !record.state.obligations.values().any(|o| o.due_at <= at)
            {
                continue;
            }
            records.push(record);
            if filter.limit > 0 && records.len() >= filter.limit as usize {
                break;
            }
        }
        Ok(records)
    }

    async fn cases_by_urgency(
        &self,
        organisation: &str,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<CaseRecord>> {
        // Walks `case_organisations_by_urgency` (migration 0005) in order: the ORDER BY
        // repeats the index's expression; the sentinel puts cases with nothing due last.
        let rows: Vec<CaseRow> = sqlx::query_as(
            "SELECT c.id, c.workflow_id, c.workflow_version, c.organisation, c.business_key, c.parties,
                    c.state, c.last_hash, c.pending_organisations
             FROM case_organisations p JOIN cases c ON c.id = p.case_id
             WHERE p.organisation = $1 AND p.closed_at IS NULL AND p.accepted_at IS NOT NULL
             ORDER BY COALESCE(p.attention_at, 9000000000000000), p.case_id
             LIMIT $2 OFFSET $3",
        )
        .bind(organisation)
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(CaseRow::into_record).collect()
    }

    async fn urgency_counts(
        &self,
        organisation: &str,
        now: Timestamp,
        soon_until: &[SoonUntil],
    ) -> Result<UrgencyCounts> {
        // Each workflow version has its own "soon" instant (its calendar's working days):
        // one CASE arm per version, every value bound.
        let mut soon = String::from("CASE");
        for n in 0..soon_until.len() {
            let first = 3 + 3 * n;
            soon.push_str(&format!(
                " WHEN workflow_id = ${} AND workflow_version = ${} THEN ${}",
                first,
                first + 1,
                first + 2
            ));
        }
        soon.push_str(" ELSE $2 END");
        if soon_until.is_empty() {
            // Nothing is ever soon: `attention_at > $2 AND attention_at <= $2`.
            soon = "$2".to_owned();
        }
        // Both counts read only the index's range of deadlines up to the latest "soon"
        // instant; the open count reads the organisation's part of the index.
        let latest = soon_until
            .iter()
            .map(|s| s.until)
            .max()
            .unwrap_or(now)
            .max(now);
        let sql = format!(
            "SELECT (SELECT COUNT(*) FROM case_organisations
                     WHERE organisation = $1 AND closed_at IS NULL AND accepted_at IS NOT NULL),
                    COALESCE(SUM(CASE WHEN attention_at <= $2 THEN 1 ELSE 0 END), 0),
                    COALESCE(SUM(CASE WHEN attention_at > $2 AND attention_at <= {soon} THEN 1 ELSE 0 END), 0)
             FROM case_organisations
             WHERE organisation = $1 AND closed_at IS NULL AND accepted_at IS NOT NULL
               AND COALESCE(attention_at, 9000000000000000) <= ${}",
            3 + 3 * soon_until.len()
        );
        // Only numbered placeholders are formatted in; every value is bound.
        let mut query = sqlx::query_as::<_, (i64, i64, i64)>(AssertSqlSafe(sql))
            .bind(organisation.to_owned())
            .bind(millis(now));
        for entry in soon_until {
            query = query
                .bind(entry.workflow_id.clone())
                .bind(i64::from(entry.workflow_version))
                .bind(millis(entry.until));
        }
        let query = query.bind(millis(latest));
        let (open, overdue, soon) = query.fetch_one(&self.pool).await?;
        Ok(UrgencyCounts {
            overdue: overdue as u64,
            soon: soon as u64,
            open: open as u64,
        })
    }

    async fn history(&self, id: &str) -> Result<Vec<StoredEvent>> {
        self.record(id).await?;
        let rows: Vec<(i64, i64, String, String, String, String, String)> = sqlx::query_as(
            "SELECT seq, at, actor, role, payload, prev_hash, hash FROM events WHERE case_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(seq, at, actor, role, payload, prev_hash, hash)| {
                Ok(StoredEvent {
                    event: Event {
                        revision: seq as u64,
                        at: instant(at)?,
                        actor: Actor::new(actor, role),
                        kind: parse_json(&payload, &format!("event {seq}"))?,
                    },
                    prev_hash,
                    hash,
                })
            })
            .collect()
    }

    async fn verify(&self, id: &str) -> Result<Verification> {
        let head: Option<(i64, String)> =
            sqlx::query_as("SELECT revision, last_hash FROM cases WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let (revision, last_hash) = head.ok_or_else(|| Error::CaseNotFound(id.to_owned()))?;
        let rows: Vec<(i64, i64, String, String, String, String, String, String)> = sqlx::query_as(
            "SELECT seq, at, actor, role, kind, payload, prev_hash, hash FROM events WHERE case_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let mut previous = GENESIS.to_owned();
        let count = rows.len() as u64;
        for (index, (seq, at, actor, role, kind, payload, prev_hash, stored_hash)) in
            rows.into_iter().enumerate()
        {
            let expected_seq = index as i64 + 1;
            let recomputed = hash::chain(
                &previous,
                &hash::Row {
                    case_id: id,
                    seq,
                    at,
                    actor: &actor,
                    role: &role,
                    kind: &kind,
                    payload: &payload,
                },
            );
            let payload_ok = serde_json::from_str::<EventKind>(&payload).is_ok();
            if seq != expected_seq
                || prev_hash != previous
                || recomputed != stored_hash
                || !payload_ok
            {
                return Ok(Verification {
                    events: count,
                    first_tampered: Some(expected_seq.min(seq) as u64),
                });
            }
            previous = stored_hash;
        }
        // A removed tail leaves the chain intact but shorter than the case's revision, and its
        // head no longer the hash the case recorded last.
        let revision = revision as u64;
        let first_tampered = if count < revision {
            Some(count + 1)
        } else if count > revision {
            Some(revision + 1)
        } else if previous != last_hash {
            Some(count.max(1))
        } else {
            None
        };
        Ok(Verification {
            events: count,
            first_tampered,
        })
    }

    async fn document(&self, sha256: &str) -> Result<Vec<u8>> {
        let content: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT content FROM blobs WHERE sha256 = $1")
                .bind(sha256)
                .fetch_optional(&self.pool)
                .await?;
        content.ok_or_else(|| Error::DocumentNotFound(sha256.to_owned()))
    }
}

impl SqlStore {
    /// Recomputes, inside `tx`, the pending deadlines of every open case on the calendars in
    /// `calendar_files`; each case whose due dates move gets a `deadlines_moved` event and
    /// notices to the people responsible. Returns how many cases changed.
    async fn recompute_open_cases(
        &self,
        tx: &mut Transaction<'static, Any>,
        calendar_files: &[CalendarFile],
        changed: &[&str],
        now: Timestamp,
    ) -> Result<u64> {
        let rows: Vec<CaseRow> = sqlx::query_as(
            "SELECT id, workflow_id, workflow_version, organisation, business_key, parties, state, last_hash, pending_organisations
               FROM cases WHERE closed_at IS NULL ORDER BY id",
        )
        .fetch_all(&mut **tx)
        .await?;
        let mut engines: HashMap<(String, i64), Option<Engine>> = HashMap::new();
        let reason = format!("calendar updated: {}", changed.join(", "));
        let mut rescheduled = 0;
        for row in rows {
            let key = (row.workflow_id.clone(), row.workflow_version);
            if !engines.contains_key(&key) {
                let source: Option<String> = sqlx::query_scalar(
                    "SELECT source FROM workflows WHERE id = $1 AND version = $2",
                )
                .bind(row.workflow_id.as_str())
                .bind(row.workflow_version)
                .fetch_optional(&mut **tx)
                .await?;
                let engine = source.and_then(|source| {
                    let bundle = load_sources(
                        &[(
                            format!("{}@{}", row.workflow_id, row.workflow_version),
                            source,
                        )],
                        calendar_files,
                    );
                    let workflow = bundle.workflows.first()?.workflow.clone();
                    let calendar = bundle.calendar_for(&workflow)?.clone();
                    Some(Engine { workflow, calendar })
                });
                engines.insert(key.clone(), engine);
            }
            let Some(engine) = engines.get(&key).and_then(Option::as_ref) else {
                continue;
            };
            let prev_hash = row.last_hash.clone();
            let record = row.into_record()?;
            let command = Command {
                actor: Actor::system(),
                action: Action::RecomputeDeadlines {
                    reason: reason.clone(),
                },
            };
            match step(
                &engine.workflow,
                Some(&record.state),
                &command,
                now,
                &engine.calendar,
            ) {
                Ok(outcome) => {
                    self.persist(
                        tx,
                        &record.id,
                        Before {
                            hash: &prev_hash,
                            state: Some(&record.state),
                        },
                        &record.parties,
                        &outcome,
                        None,
                    )
                    .await?;
                    rescheduled += 1;
                }
                Err(swakelola_core::Rejection::NothingToRecompute) => {}
                Err(rejection) => {
                    return Err(Error::rejected_under(
                        rejection,
                        &record.workflow_id,
                        record.workflow_version,
                    ));
                }
            }
        }
        Ok(rescheduled)
    }

    /// The locked part of [`Store::execute`]: step, persist, record the idempotency key.
    #[allow(clippy::too_many_arguments)]
    async fn apply(
        &self,
        mut tx: Transaction<'static, Any>,
        engine: &Engine,
        record: CaseRecord,
        prev_hash: &str,
        command: &CaseCommand,
        request_hash: &str,
        now: Timestamp,
    ) -> Result<Applied> {
        if let Some(expected) = command.expected_revision
            && expected != record.state.revision
        {
            return Err(Error::Conflict(Conflict::StaleRevision {
                current: record.state.revision,
                expected,
            }));
        }
        let core_command = Command {
            actor: command.actor.clone(),
            action: command.action.clone(),
        };
        // A case opened before the core kept its parties learns them from the store's.
        let mut state = std::borrow::Cow::Borrowed(&record.state);
        if state.parties.is_empty() && !record.parties.organisations.is_empty() {
            state.to_mut().parties = record.parties.as_lists();
        }
        let outcome = step(
            &engine.workflow,
            Some(&state),
            &core_command,
            now,
            &engine.calendar,
        )
        .map_err(|rejection| {
            Error::rejected_under(rejection, &record.workflow_id, record.workflow_version)
        })?;
        self.check_link(&record.id, &command.action).await?;
        self.persist(
            &mut tx,
            &record.id,
            Before {
                hash: prev_hash,
                state: Some(&record.state),
            },
            &record.parties,
            &outcome,
            command.content.as_deref(),
        )
        .await?;
        if let Some(key) = &command.idempotency_key {
            sqlx::query(
                "INSERT INTO idempotency (key, case_id, request_hash, revision, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(key.as_str())
            .bind(record.id.as_str())
            .bind(request_hash)
            .bind(outcome.event.revision as i64)
            .bind(millis(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        let case = if matches!(
            outcome.event.kind,
            EventKind::ContactsChanged { .. }
                | EventKind::MemberAdded { .. }
                | EventKind::MemberWithdrawn { .. }
        ) {
            // The parties changed with the event: read them back as stored.
            self.record(&record.id).await?
        } else {
            CaseRecord {
                state: outcome.state,
                ..record
            }
        };
        Ok(Applied {
            case,
            event: Some(outcome.event),
            created: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request identity is part of the stored data: it must not change with the code.
    #[test]
    fn request_identity_is_stable() {
        let command = CaseCommand {
            case_id: "01a2263d-6078-71e1-9397-b41c84738e30".into(),
            actor: Actor::new("Siti Aminah", "pimpinan_ormas"),
            action: Action::Fire {
                transition: "catat_audiensi".into(),
                comment: Some("Audiensi 10 Desember 2024".into()),
            },
            expected_revision: Some(3),
            idempotency_key: Some("k-1".into()),
            content: None,
        };
        assert_eq!(
            request_identity(&command),
            hash::sha256_hex(
                br#"{"action":{"comment":"Audiensi 10 Desember 2024","transition":"catat_audiensi","type":"fire"},"actor":"Siti Aminah","case":"01a2263d-6078-71e1-9397-b41c84738e30","expected_revision":3,"role":"pimpinan_ormas","v":1}"#
            )
        );
        // The key itself and the content are not part of what the request asks for.
        let same = CaseCommand {
            idempotency_key: Some("k-2".into()),
            ..command.clone()
        };
        assert_eq!(request_identity(&same), request_identity(&command));
    }
}
