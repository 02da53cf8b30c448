//! The runner: advances cases by time. Each tick reads the clock once, fires every due timer
//! through the store (the same step and transaction as a person's command) and delivers the
//! notifications that are ready. Between ticks it sleeps until the earliest due timer, at most
//! `poll` long, and wakes at once on shutdown.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use swakelola_core::state::Notification;
use swakelola_store::{Fired, OutboxMessage, SqlStore, Store};

use crate::messages::{self, Rendered};

/// Where "now" comes from. The daemon reads the system clock; the demo and tests move a
/// manual one.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self(Mutex::new(start))
    }

    pub fn set(&self, now: Timestamp) {
        *self.0.lock().expect("clock") = now;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().expect("clock")
    }
}

use crate::delivery::{Email, RetryPolicy, Webhooks};

/// What one tick did.
#[derive(Debug, Default)]
pub struct Tick {
    pub fired: usize,
    pub stale: usize,
    pub delivered: Vec<OutboxMessage>,
    pub failed: usize,
}

pub struct Runner {
    pub store: Arc<SqlStore>,
    /// Leases are measured on this clock at the moment of each claim, not at the start of the
    /// tick: a long tick must not hand out leases that have already run out.
    pub clock: Arc<dyn Clock>,
    pub owner: String,
    pub lease: SignedDuration,
    pub batch: u32,
    /// The webhook channel; without it webhook messages wait in the outbox.
    pub webhooks: Option<Webhooks>,
    /// The email channel; without it email messages wait in the outbox.
    pub email: Option<Email>,
    pub retry: RetryPolicy,
    /// Notified by the HTTP API in the same process after each command, so new work (a
    /// timer that is already due, a notification) is picked up without waiting for the poll.
    pub wake: Option<Arc<tokio::sync::Notify>>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("owner", &self.owner)
            .field("lease", &self.lease)
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

impl Runner {
    pub fn new(store: Arc<SqlStore>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            owner: format!("runner-{}", process_and_start()),
            lease: SignedDuration::from_secs(60),
            batch: 100,
            webhooks: None,
            email: None,
            retry: RetryPolicy::default(),
            wake: None,
        }
    }

    /// The channels this runner delivers. Messages for a channel it is not configured for
    /// stay pending in the outbox until a runner that delivers them picks them up.
    pub fn channels(&self) -> Vec<&'static str> {
        let mut channels = vec!["log"];
        if self.email.is_some() {
            channels.push("email");
        }
        if self.webhooks.is_some() {
            channels.push("webhook");
        }
        channels
    }

    fn lease_until(&self) -> Timestamp {
        let now = self.clock.now();
        now.checked_add(self.lease).unwrap_or(now)
    }

    /// Fires everything due at `now` and hands each ready `log` message to `deliver` before
    /// marking it sent (so a crash in between delivers it again rather than never).
    pub async fn tick(
        &self,
        now: Timestamp,
        deliver: &mut (dyn FnMut(&OutboxMessage) + Send),
    ) -> swakelola_store::Result<Tick> {
        let mut tick = Tick::default();
        loop {
            let claimed = self
                .store
                .claim_due_timers(&self.owner, now, self.lease_until(), self.batch)
                .await?;
            if claimed.is_empty() {
                break;
            }
            for timer in &claimed {
                match self.store.fire_timer(&self.owner, timer, now).await {
                    Ok(Fired::Fired) => {
                        tick.fired += 1;
                        metrics::counter!("swakelola_timers_fired_total").increment(1);
                        let late = now.duration_since(timer.due_at).as_secs_f64().max(0.0);
                        metrics::histogram!("swakelola_timer_lateness_seconds").record(late);
                    }
                    Ok(Fired::Stale | Fired::LeaseLost) => tick.stale += 1,
                    // Another runner changed the same case at the same moment: the timer was
                    // released and is claimed again on the next round.
                    Err(swakelola_store::Error::Conflict(_)) => tick.stale += 1,
                    Err(other) => return Err(other),
                }
            }
        }
        // A claimed message is reserved for one lease; if this runner dies before marking it
        // sent, another delivers it again after that.
        let channels = self.channels();
        loop {
            let messages = self
                .store
                .claim_outbox(&channels, now, self.lease_until(), self.batch)
                .await?;
            if messages.is_empty() {
                break;
            }
            for message in messages {
                let result = match (message.channel.as_str(), &self.webhooks) {
                    ("log", _) => {
                        deliver(&message);
                        Ok(())
                    }
                    ("webhook", Some(webhooks)) => match self.render(&message, now).await {
                        Ok(text) => webhooks.deliver(&message, &text, now).await,
                        Err(error) => Err(error),
                    },
                    ("email", _) => match (&self.email, self.render(&message, now).await) {
                        (Some(email), Ok(text)) => email.deliver(&message, &text).await,
                        (Some(_), Err(error)) => Err(error),
                        (None, _) => Err("email is not configured on this runner".to_owned()),
                    },
                    (other, _) => Err(format!("channel `{other}` is not delivered by this runner")),
                };
                match result {
                    Ok(()) => {
                        self.store.outbox_sent(&message.key).await?;
                        metrics::counter!("swakelola_outbox_sent_total", "channel" => message.channel.clone())
                            .increment(1);
                        tick.delivered.push(message);
                    }
                    Err(error) => {
                        let retry_at = self.retry.next_attempt(&message.key, message.attempts, now);
                        self.store
                            .outbox_failed(&message.key, &error, retry_at)
                            .await?;
                        let counter = if retry_at.is_some() {
                            "swakelola_outbox_failed_total"
                        } else {
                            "swakelola_outbox_dead_total"
                        };
                        metrics::counter!(counter, "channel" => message.channel.clone())
                            .increment(1);
                        tracing::warn!(
                            event = "delivery_failed",
                            key = %message.key,
                            attempts = message.attempts,
                            error = %error,
                            retry_at = retry_at.map(|t| t.to_string()),
                            dead = retry_at.is_none(),
                            "delivery failed"
                        );
                        tick.failed += 1;
                    }
                }
            }
        }
        Ok(tick)
    }

    /// Ticks until `shutdown` resolves; sleeps until the next due timer, at most `poll`.
    pub async fn run(
        &self,
        poll: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> swakelola_store::Result<()> {
        tokio::pin!(shutdown);
        // PostgreSQL tells us when other processes create work; SQLite is polled.
        let mut listener = self.store.work_listener().await?;
        loop {
            let now = self.clock.now();
            let tick = match self.tick(now, &mut deliver_to_log).await {
                Ok(tick) => tick,
                Err(error) => {
                    // A database that is down or busy must not stop the daemon: say so, wait,
                    // and try again. Claimed work is released by its lease.
                    tracing::error!(event = "tick_failed", code = error.code(), error = %error, "tick failed");
                    tokio::select! {
                        () = &mut shutdown => return Ok(()),
                        () = tokio::time::sleep(poll) => {}
                    }
                    continue;
                }
            };
            if tick.fired + tick.delivered.len() + tick.failed > 0 {
                tracing::info!(
                    event = "tick",
                    timers_fired = tick.fired,
                    stale = tick.stale,
                    delivered = tick.delivered.len(),
                    failed = tick.failed,
                    "tick"
                );
            }
            // Work that is due and not yet done (about 0 while runners keep up).
            if let Ok(backlog) = self.store.count_timers_due(now).await {
                metrics::gauge!("swakelola_timers_overdue").set(backlog as f64);
            }
            // Errors here only shorten the sleep: the next tick reports them.
            let next_timer = self.store.next_timer_due().await.unwrap_or(None);
            let next_message = self
                .store
                .next_outbox_attempt(&self.channels())
                .await
                .unwrap_or(None);
            let wait = match next_timer.into_iter().chain(next_message).min() {
                Some(next) if next > now => Duration::try_from(next.duration_since(now))
                    .unwrap_or(poll)
                    .min(poll),
                // Due already: look again right away, but never spin.
                Some(_) => Duration::from_millis(10),
                None => poll,
            };
            let woken = async {
                match listener.as_mut() {
                    Some(listener) => {
                        // A lost listener connection is re-established by sqlx; a failure
                        // here only means we fall back to the poll.
                        if listener.recv().await.is_err() {
                            std::future::pending::<()>().await;
                        }
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            // Commands served by this process (the HTTP API) wake the runner directly.
            let woken_here = async {
                match &self.wake {
                    Some(wake) => wake.notified().await,
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                () = tokio::time::sleep(wait) => {}
                () = woken => {}
                () = woken_here => {}
            }
        }
    }
}

impl Runner {
    /// The text of a message, from the case as it is now and its workflow's templates.
    async fn render(&self, message: &OutboxMessage, now: Timestamp) -> Result<Rendered, String> {
        let case = self
            .store
            .case(&message.case_id)
            .await
            .map_err(|e| e.to_string())?;
        let engine = self
            .store
            .engine_for(&case.workflow_id, case.workflow_version)
            .await
            .map_err(|e| e.to_string())?;
        let notification: Notification =
            serde_json::from_value(message.payload["notification"].clone())
                .map_err(|e| format!("the stored notification is unreadable: {e}"))?;
        Ok(messages::render(
            &engine,
            &case,
            &notification,
            &message.recipient,
            now,
        ))
    }
}

/// The `log` channel: one JSON line per message on stdout.
fn deliver_to_log(message: &OutboxMessage) {
    println!(
        "{}",
        serde_json::json!({
            "event": "notification",
            "key": message.key,
            "case_id": message.case_id,
            "recipient": message.recipient,
            "notification": message.payload["notification"],
        })
    );
}

/// Unique enough to tell runners apart in leases and logs: process id and start time.
fn process_and_start() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        Timestamp::now().as_millisecond()
    )
}
