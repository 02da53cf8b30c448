//! The runner: advances cases by time. Each round reads the clock once and fires every due
//! timer through the store (the same step and transaction as a person's command); a separate
//! loop delivers the notifications that are ready, so a slow receiver never delays a
//! deadline. Between rounds each loop sleeps until its earliest due work, at most `poll`
//! long, and wakes at once on new work and on shutdown.
//!
//! Failures are isolated: a timer or message that fails is retried with backoff and then set
//! aside as dead (visible, retryable by an operator); a case that fires without end is set
//! aside. Neither ever stops the round for other cases. This module must never decide a
//! transition itself: it only asks the store to fire what is due.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use swakelola_core::state::Notification;
use swakelola_store::{ClaimedTimer, Fired, OutboxMessage, SqlStore, Store};

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

/// What one round of firing did.
#[derive(Debug, Default)]
pub struct FireRound {
    pub fired: usize,
    pub stale: usize,
    /// Timers that failed and wait to be retried, or were set aside as dead.
    pub failed: usize,
    /// Cases set aside because they fired more than the per-case limit at one instant.
    pub set_aside: Vec<String>,
}

/// What one round of delivery did.
#[derive(Debug, Default)]
pub struct DeliveryRound {
    pub delivered: Vec<OutboxMessage>,
    pub failed: usize,
}

/// What one tick (a round of firing, then a round of delivery) did.
#[derive(Debug, Default)]
pub struct Tick {
    pub fired: FireRound,
    pub delivery: DeliveryRound,
}

/// The most timers one case may fire at one instant before the runner sets the case aside.
/// A workflow whose automatic moves lead into stages already past their deadline would
/// otherwise fire forever; 100 is far above what any honest case needs (a runner catching
/// up after days of downtime fires a case's reminders, one per obligation and interval).
pub const MAX_FIRES_PER_CASE: u32 = 100;

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
    /// Retries of failed deliveries and of timers that failed to fire.
    pub retry: RetryPolicy,
    /// Where people open a case (`<public_url>/kasus/<business key>`), linked from every
    /// notification; without it notifications carry no link.
    pub public_url: Option<String>,
    /// Runaway protection: see [`MAX_FIRES_PER_CASE`].
    pub max_fires_per_case: u32,
    /// Deliveries under way at once (one destination's messages go one after another).
    pub concurrency: usize,
    /// How long shutdown waits for work in flight before it gives up on it (its leases then
    /// hand it to another runner).
    pub grace: Duration,
    /// Notified by the HTTP API in the same process after each command, so new work (a
    /// timer that is already due, a notification) is picked up without waiting for the poll.
    pub wake: Option<Arc<tokio::sync::Notify>>,
    /// Set once shutdown begins: rounds stop claiming and give back what they hold.
    pub(crate) stop: tokio::sync::watch::Sender<bool>,
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
            public_url: None,
            max_fires_per_case: MAX_FIRES_PER_CASE,
            concurrency: 16,
            grace: Duration::from_secs(10),
            wake: None,
            stop: tokio::sync::watch::channel(false).0,
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

    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Fires everything due at `now`, then hands each ready `log` message to `deliver`
    /// before marking it sent (so a crash in between delivers it again rather than never)
    /// and delivers the other channels' messages.
    pub async fn tick(
        &self,
        now: Timestamp,
        deliver: &mut (dyn FnMut(&OutboxMessage) + Send),
    ) -> swakelola_store::Result<Tick> {
        let fired = self.fire_due(now).await?;
        let delivery = self.deliver_ready(now, deliver).await?;
        Ok(Tick { fired, delivery })
    }

    /// Fires every timer due at `now`. A timer that fails is retried later with backoff and
    /// set aside as dead after `retry.max_attempts`; a case that fires more than
    /// `max_fires_per_case` timers at this instant is set aside. Neither stops the round:
    /// one case never holds up another. Only an error that also prevents recording the
    /// failure (the database is down) ends the round.
    pub async fn fire_due(&self, now: Timestamp) -> swakelola_store::Result<FireRound> {
        let mut round = FireRound::default();
        let mut fired_per_case: HashMap<String, u32> = HashMap::new();
        while !self.stopping() {
            let claimed = self
                .store
                .claim_due_timers(&self.owner, now, self.lease_until(), self.batch)
                .await?;
            if claimed.is_empty() {
                break;
            }
            if self.stopping() {
                // Give back what this round holds, so another runner takes it now rather
                // than when the lease runs out.
                for unfired in &claimed {
                    self.store.release_timer(&self.owner, unfired).await?;
                }
                return Ok(round);
            }
            let mut batch = Vec::with_capacity(claimed.len());
            let mut runaway = Vec::new();
            for timer in claimed {
                if round.set_aside.contains(&timer.case_id) || runaway.contains(&timer.case_id) {
                    continue;
                }
                let count = fired_per_case.entry(timer.case_id.clone()).or_default();
                *count += 1;
                if *count > self.max_fires_per_case {
                    runaway.push(timer.case_id.clone());
                    continue;
                }
                batch.push(timer);
            }
            // The whole batch in one transaction; each timer's result on its own.
            let results = match self.store.fire_timers(&self.owner, &batch, now).await {
                Ok(results) => results,
                Err(swakelola_store::Error::Database(error)) => {
                    return Err(swakelola_store::Error::Database(error));
                }
                // The database refused the batch's writes (a value one case cannot store):
                // nothing was written. Fire its timers one by one, so that the case at fault
                // fails alone and the others go on.
                Err(error) => {
                    tracing::warn!(
                        event = "batch_refused",
                        timers = batch.len(),
                        code = error.code(),
                        error = %error,
                        "the database refused a batch of timers; firing them one by one"
                    );
                    let mut one_by_one = Vec::with_capacity(batch.len());
                    for timer in &batch {
                        match self.store.fire_timer(&self.owner, timer, now).await {
                            Err(swakelola_store::Error::Database(error)) => {
                                return Err(swakelola_store::Error::Database(error));
                            }
                            other => one_by_one.push(other),
                        }
                    }
                    one_by_one
                }
            };
            // A case over the limit fires what the limit allows, then is set aside.
            for case_id in runaway {
                self.set_aside(&case_id, now).await?;
                round.set_aside.push(case_id);
            }
            let committed = self.clock.now();
            for (timer, result) in batch.iter().zip(results) {
                match result {
                    Ok(Fired::Fired) => {
                        round.fired += 1;
                        metrics::counter!("swakelola_timers_fired_total").increment(1);
                        // Lateness as people feel it: from the due instant to the commit.
                        let late = committed
                            .duration_since(timer.due_at)
                            .as_secs_f64()
                            .max(0.0);
                        metrics::histogram!("swakelola_timer_lateness_seconds").record(late);
                    }
                    Ok(Fired::Stale | Fired::LeaseLost) => round.stale += 1,
                    // Another writer changed the same case at the same moment: give the
                    // timer back, it is claimed again on the next round.
                    Err(swakelola_store::Error::Conflict(_)) => {
                        self.store.release_timer(&self.owner, timer).await?;
                        round.stale += 1;
                    }
                    Err(error) => {
                        self.timer_failed(timer, &error, now).await?;
                        round.failed += 1;
                    }
                }
            }
        }
        Ok(round)
    }

    /// Records a failed timer: back off, or set it aside as dead once its attempts are spent.
    async fn timer_failed(
        &self,
        timer: &ClaimedTimer,
        error: &swakelola_store::Error,
        now: Timestamp,
    ) -> swakelola_store::Result<()> {
        let retry_at = self.retry.next_attempt(&timer.key, timer.attempts, now);
        let text = error.to_string();
        self.store
            .timer_failed(&self.owner, timer, &text, retry_at)
            .await?;
        match retry_at {
            Some(at) => {
                metrics::counter!("swakelola_timers_failed_total").increment(1);
                tracing::warn!(
                    event = "timer_failed",
                    case_id = %timer.case_id,
                    key = %timer.key,
                    attempts = timer.attempts,
                    code = error.code(),
                    error = %text,
                    retry_at = %at,
                    "a timer failed to fire; it is retried later and other cases go on"
                );
            }
            None => {
                metrics::counter!("swakelola_timers_dead_total").increment(1);
                tracing::error!(
                    event = "timer_dead",
                    case_id = %timer.case_id,
                    key = %timer.key,
                    attempts = timer.attempts,
                    code = error.code(),
                    error = %text,
                    "a timer failed too often and was set aside; see `swakelola timer list --failed`, fix the cause, then `swakelola timer retry`"
                );
            }
        }
        Ok(())
    }

    async fn set_aside(&self, case_id: &str, now: Timestamp) -> swakelola_store::Result<()> {
        let reason = format!(
            "set aside at {now}: the case fired more than {} timers at one instant (its automatic moves loop); fix the workflow, then retry its timers",
            self.max_fires_per_case
        );
        let timers = self.store.set_case_aside(case_id, &reason).await?;
        metrics::counter!("swakelola_cases_set_aside_total").increment(1);
        tracing::error!(
            event = "case_set_aside",
            case_id = %case_id,
            timers,
            limit = self.max_fires_per_case,
            "a case fired more timers at one instant than the limit allows and was set aside; see `swakelola timer list --failed`"
        );
        Ok(())
    }

    /// Delivers every message ready at `now`: `log` messages through `deliver`, the others
    /// concurrently (at most `concurrency` at once; one destination's messages one after
    /// another, and after its first failure the rest of them wait for the retry), so a slow
    /// or dead destination delays only its own messages.
    pub async fn deliver_ready(
        &self,
        now: Timestamp,
        deliver: &mut (dyn FnMut(&OutboxMessage) + Send),
    ) -> swakelola_store::Result<DeliveryRound> {
        use futures_util::StreamExt;
        use futures_util::stream::FuturesUnordered;

        let mut round = DeliveryRound::default();
        let channels = self.channels();
        let mut in_flight = FuturesUnordered::new();
        loop {
            let room = self.concurrency.max(1).saturating_sub(in_flight.len());
            if room > 0 && !self.stopping() {
                // A claimed message is reserved for one lease; if this runner dies before
                // marking it sent, another delivers it again after that.
                let messages = self
                    .store
                    .claim_outbox(
                        &channels,
                        now,
                        self.lease_until(),
                        self.batch.min(room as u32),
                    )
                    .await?;
                if !messages.is_empty() {
                    let mut by_destination: BTreeMap<String, Vec<OutboxMessage>> = BTreeMap::new();
                    let mut logged = Vec::new();
                    for message in messages {
                        if message.channel == "log" {
                            deliver(&message);
                            logged.push((message, Ok(())));
                        } else {
                            by_destination
                                .entry(message.recipient.clone())
                                .or_default()
                                .push(message);
                        }
                    }
                    self.record_all(logged, now, &mut round).await?;
                    for (_, messages) in by_destination {
                        in_flight.push(self.deliver_to_one_destination(messages, now));
                    }
                    continue;
                }
            }
            match in_flight.next().await {
                Some(results) => {
                    // A slot is free: the next turn looks for more work.
                    self.record_all(results, now, &mut round).await?;
                }
                None => break,
            }
        }
        Ok(round)
    }

    /// One destination's messages in order; after the first failure the rest are not tried
    /// (they fail with the same reason and are retried with it).
    async fn deliver_to_one_destination(
        &self,
        messages: Vec<OutboxMessage>,
        now: Timestamp,
    ) -> Vec<(OutboxMessage, Result<(), String>)> {
        let mut results = Vec::with_capacity(messages.len());
        let mut failure: Option<String> = None;
        for message in messages {
            let result = match &failure {
                Some(error) => Err(error.clone()),
                None => self.deliver_one(&message, now).await,
            };
            if let Err(error) = &result {
                failure.get_or_insert_with(|| error.clone());
            }
            results.push((message, result));
        }
        results
    }

    async fn deliver_one(&self, message: &OutboxMessage, now: Timestamp) -> Result<(), String> {
        match message.channel.as_str() {
            "webhook" => match (&self.webhooks, self.render(message, now).await) {
                (Some(webhooks), Ok(text)) => {
                    webhooks
                        .deliver(message, &text, now, self.store.webhook_policy())
                        .await
                }
                (Some(_), Err(error)) => Err(error),
                (None, _) => Err("webhooks are not configured on this runner".to_owned()),
            },
            "email" => match (&self.email, self.render(message, now).await) {
                (Some(email), Ok(text)) => email.deliver(message, &text).await,
                (Some(_), Err(error)) => Err(error),
                (None, _) => Err("email is not configured on this runner".to_owned()),
            },
            other => Err(format!("channel `{other}` is not delivered by this runner")),
        }
    }

    /// Marks a message sent, or schedules its retry (dead after `retry.max_attempts`).
    /// Records deliveries: the messages delivered marked sent in one statement, each
    /// failure on its own (each has its own retry time).
    async fn record_all(
        &self,
        results: Vec<(OutboxMessage, Result<(), String>)>,
        now: Timestamp,
        round: &mut DeliveryRound,
    ) -> swakelola_store::Result<()> {
        let sent: Vec<&str> = results
            .iter()
            .filter(|(_, result)| result.is_ok())
            .map(|(message, _)| message.key.as_str())
            .collect();
        self.store.outbox_sent_all(&sent).await?;
        for (message, result) in results {
            self.record(message, result, now, round).await?;
        }
        Ok(())
    }

    /// Counts one delivery (already marked sent when it succeeded), or records its failure.
    async fn record(
        &self,
        message: OutboxMessage,
        result: Result<(), String>,
        now: Timestamp,
        round: &mut DeliveryRound,
    ) -> swakelola_store::Result<()> {
        match result {
            Ok(()) => {
                metrics::counter!("swakelola_outbox_sent_total", "channel" => message.channel.clone())
                    .increment(1);
                round.delivered.push(message);
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
                metrics::counter!(counter, "channel" => message.channel.clone()).increment(1);
                tracing::warn!(
                    event = "delivery_failed",
                    key = %message.key,
                    attempts = message.attempts,
                    error = %error,
                    retry_at = retry_at.map(|t| t.to_string()),
                    dead = retry_at.is_none(),
                    "delivery failed"
                );
                round.failed += 1;
            }
        }
        Ok(())
    }

    /// Runs until `shutdown` resolves. Timers and deliveries are two loops, so a slow
    /// destination never delays a deadline; each sleeps until its next due work (at most
    /// `poll`) and wakes early on new work. On shutdown both stop claiming and give back
    /// what they hold; work still in flight after `grace` is abandoned to its lease.
    pub async fn run(
        &self,
        poll: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> swakelola_store::Result<()> {
        tokio::pin!(shutdown);
        let timers_kick = Arc::new(tokio::sync::Notify::new());
        let delivery_kick = Arc::new(tokio::sync::Notify::new());
        // PostgreSQL tells us when other processes create work; SQLite is polled. The API in
        // this process wakes us directly. Either way both loops hear of it.
        let listener = self.store.work_listener().await?;
        let forward = {
            let (timers_kick, delivery_kick) = (timers_kick.clone(), delivery_kick.clone());
            let wake = self.wake.clone();
            async move {
                let mut listener = listener;
                loop {
                    let from_database = async {
                        match listener.as_mut() {
                            // A lost listener connection is re-established by sqlx; a
                            // failure here only means we fall back to the poll.
                            Some(listener) => {
                                if listener.recv().await.is_err() {
                                    tokio::time::sleep(poll).await;
                                }
                            }
                            None => std::future::pending::<()>().await,
                        }
                    };
                    let from_here = async {
                        match &wake {
                            Some(wake) => wake.notified().await,
                            None => std::future::pending::<()>().await,
                        }
                    };
                    tokio::select! {
                        () = from_database => {}
                        () = from_here => {}
                    }
                    timers_kick.notify_one();
                    delivery_kick.notify_one();
                }
            }
        };
        let work = async {
            tokio::select! {
                () = forward => Ok(()),
                result = async {
                    tokio::try_join!(
                        self.timer_loop(poll, &timers_kick),
                        self.delivery_loop(poll, &delivery_kick),
                    )
                } => result.map(|_| ()),
            }
        };
        tokio::pin!(work);
        tokio::select! {
            result = &mut work => return result,
            () = &mut shutdown => {}
        }
        self.stop.send_replace(true);
        match tokio::time::timeout(self.grace, &mut work).await {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!(
                    event = "shutdown_grace_exceeded",
                    grace_seconds = self.grace.as_secs_f64(),
                    "work still in flight after the grace period is left to its lease"
                );
                Ok(())
            }
        }
    }

    /// Waits `wait`, or until kicked or stopping. Returns `false` when stopping.
    async fn pause(&self, wait: Duration, kick: &tokio::sync::Notify) -> bool {
        let mut stop = self.stop.subscribe();
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => {}
            () = tokio::time::sleep(wait) => {}
            () = kick.notified() => {}
        }
        !self.stopping()
    }

    /// How long to sleep until `next`, at most `poll`; due already: look again soon, but never
    /// spin.
    fn wait_until(next: Option<Timestamp>, now: Timestamp, poll: Duration) -> Duration {
        match next {
            Some(next) if next > now => Duration::try_from(next.duration_since(now))
                .unwrap_or(poll)
                .min(poll),
            Some(_) => Duration::from_millis(10),
            None => poll,
        }
    }

    async fn timer_loop(
        &self,
        poll: Duration,
        kick: &tokio::sync::Notify,
    ) -> swakelola_store::Result<()> {
        while !self.stopping() {
            let now = self.clock.now();
            match self.fire_due(now).await {
                Ok(round) => {
                    if round.fired + round.failed + round.set_aside.len() > 0 {
                        tracing::info!(
                            event = "tick",
                            timers_fired = round.fired,
                            stale = round.stale,
                            failed = round.failed,
                            set_aside = round.set_aside.len(),
                            "timers fired"
                        );
                    }
                }
                Err(error) => {
                    // A database that is down or busy must not stop the daemon: say so, wait,
                    // and try again. Claimed work is released by its lease.
                    tracing::error!(event = "tick_failed", code = error.code(), error = %error, "firing timers failed");
                    self.pause(poll, kick).await;
                    continue;
                }
            }
            // Work that is due and not yet done (about 0 while runners keep up).
            if let Ok(backlog) = self.store.count_timers_due(now).await {
                metrics::gauge!("swakelola_timers_overdue").set(backlog as f64);
            }
            // Errors here only shorten the sleep: the next round reports them.
            let next = self.store.next_timer_due().await.unwrap_or(None);
            let wait = Self::wait_until(next, now, poll);
            tracing::debug!(
                event = "timers_idle",
                sleep_ms = wait.as_millis() as u64,
                "nothing more is due; sleeping until the next timer, new work or the poll"
            );
            self.pause(wait, kick).await;
        }
        Ok(())
    }

    async fn delivery_loop(
        &self,
        poll: Duration,
        kick: &tokio::sync::Notify,
    ) -> swakelola_store::Result<()> {
        let channels = self.channels();
        let mut waiting_reported: Vec<(String, u64)> = Vec::new();
        while !self.stopping() {
            let now = self.clock.now();
            match self.deliver_ready(now, &mut deliver_to_log).await {
                Ok(round) => {
                    if round.delivered.len() + round.failed > 0 {
                        tracing::info!(
                            event = "delivery",
                            delivered = round.delivered.len(),
                            failed = round.failed,
                            "messages delivered"
                        );
                    }
                }
                Err(error) => {
                    tracing::error!(event = "tick_failed", code = error.code(), error = %error, "delivering messages failed");
                    self.pause(poll, kick).await;
                    continue;
                }
            }
            // Messages for a channel this runner does not deliver wait for one that does;
            // say so (once per change) instead of letting them wait silently.
            if let Ok(waiting) = self.store.pending_outbox_outside(&channels).await
                && waiting != waiting_reported
            {
                for (channel, count) in &waiting {
                    metrics::gauge!("swakelola_outbox_undeliverable", "channel" => channel.clone())
                        .set(*count as f64);
                    tracing::warn!(
                        event = "channel_not_configured",
                        channel = %channel,
                        pending = count,
                        "messages wait for a channel this runner does not deliver; configure it (email: SWAKELOLA_SMTP_URL and SWAKELOLA_SMTP_FROM; webhook: SWAKELOLA_WEBHOOK_SECRET) or run a runner that does"
                    );
                }
                waiting_reported = waiting;
            }
            let next = self
                .store
                .next_outbox_attempt(&channels)
                .await
                .unwrap_or(None);
            self.pause(Self::wait_until(next, now, poll), kick).await;
        }
        Ok(())
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
            self.public_url.as_deref(),
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

#[cfg(test)]
mod tests {
    //! The runner's promise that one case never holds up another, on SQLite and PostgreSQL.

    use super::*;
    use swakelola_core::Actor;
    use swakelola_store::{Contact, OpenCase, Parties};

    fn repo(path: &str) -> String {
        std::fs::read_to_string(format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    async fn stores() -> Vec<SqlStore> {
        let mut stores = vec![SqlStore::connect("sqlite::memory:").await.unwrap()];
        if let Some(admin) = swakelola_testkit::postgres_admin_url() {
            let url = SqlStore::create_scratch_database(&admin).await.unwrap();
            stores.push(SqlStore::connect(&url).await.unwrap());
        }
        let mut ready = Vec::new();
        for store in stores {
            let store = store.with_webhook_policy(
                swakelola_store::input::WebhookPolicy::from_allow_list(&["127.0.0.0/8"]).unwrap(),
            );
            store.migrate().await.unwrap();
            let calendars: Vec<(String, String)> = ["indonesia-2025.yaml", "indonesia-2026.yaml"]
                .iter()
                .map(|f| (f.to_string(), repo(&format!("workflows/calendars/{f}"))))
                .collect();
            store
                .deploy(
                    "doc.yaml",
                    &repo("workflows/persetujuan-dokumen.yaml"),
                    &calendars,
                    at("2025-03-24T02:00:00Z"),
                )
                .await
                .unwrap();
            ready.push(store);
        }
        ready
    }

    /// A document-approval case opened on 24 March 2025: its drafting deadline (5 working
    /// days) and reminders fall due in the following weeks.
    async fn open(store: &SqlStore, key: &str, contacts: &[&str]) -> String {
        let request = OpenCase {
            origin: None,
            workflow_id: "persetujuan-dokumen".into(),
            organisation: "dp3a-palembang".into(),
            business_key: key.into(),
            actor: Actor::new("Siti", "penyusun"),
            fields: vec![("judul".into(), format!("Dokumen {key}"))],
            parties: Parties {
                organisations: Default::default(),
                members: Default::default(),
                contacts: [(
                    "penyusun".to_owned(),
                    contacts
                        .iter()
                        .map(|address| Contact {
                            name: "Siti".into(),
                            address: (*address).into(),
                        })
                        .collect(),
                )]
                .into_iter()
                .collect(),
            },
        };
        store
            .open(&request, at("2025-03-24T02:00:00Z"))
            .await
            .unwrap()
            .case
            .id
    }

    fn fired(history: &[swakelola_store::StoredEvent]) -> usize {
        history
            .iter()
            .filter(|e| matches!(e.event.kind, swakelola_core::EventKind::TimerFired { .. }))
            .count()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_poisoned_case_is_set_aside_and_the_others_go_on() {
        for store in stores().await {
            let store = Arc::new(store);
            let poisoned = open(&store, "RACUN", &[]).await;
            let healthy = open(&store, "SEHAT", &[]).await;
            // Data that makes firing fail whatever the retry: the stored state is unreadable.
            sqlx::query("UPDATE cases SET state = '{\"broken\": true}' WHERE id = $1")
                .bind(poisoned.as_str())
                .execute(store.pool())
                .await
                .unwrap();
            let clock = Arc::new(ManualClock::new(at("2025-05-05T02:00:00Z")));
            let runner = Runner {
                retry: RetryPolicy {
                    max_attempts: 3,
                    base: SignedDuration::from_secs(10),
                },
                ..Runner::new(store.clone(), clock.clone())
            };
            let tick = runner
                .tick(clock.now(), &mut |_| {})
                .await
                .expect("a poisoned case never fails the round");
            // The healthy case's timers fired and their messages went out in the same run.
            let history = store.history(&healthy).await.unwrap();
            assert!(fired(&history) >= 3, "{tick:?}");
            assert!(tick.delivery.delivered.iter().any(|m| m.case_id == healthy));
            assert!(tick.fired.failed >= 1);
            // Each later attempt backs off; after three the poisoned timers are dead.
            for minutes in [1, 5, 30, 120] {
                let later = at("2025-05-05T02:00:00Z")
                    .checked_add(SignedDuration::from_mins(minutes))
                    .unwrap();
                clock.set(later);
                runner.tick(later, &mut |_| {}).await.unwrap();
            }
            let failed = store.timers(true, 100).await.unwrap();
            assert!(!failed.is_empty());
            assert!(failed.iter().all(|t| t.case_id == poisoned), "{failed:?}");
            assert!(failed.iter().all(|t| t.state == "dead"), "{failed:?}");
            assert!(failed.iter().all(|t| t.last_error.is_some()));
            assert_eq!(store.verify(&healthy).await.unwrap().first_tampered, None);
        }
    }

    /// A case whose rows the database refuses (a trigger stands in for a value it cannot
    /// store) would fail every batch it is in: its batch is fired again timer by timer, so
    /// the other case's timers still fire in the same round.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_case_whose_writes_the_database_refuses_fails_alone() {
        for store in stores().await {
            let store = Arc::new(store);
            let refused = open(&store, "DITOLAK", &[]).await;
            let healthy = open(&store, "SEHAT", &[]).await;
            let statements = match store.dialect() {
                swakelola_store::Dialect::Sqlite => vec![format!(
                    "CREATE TRIGGER refuse_events BEFORE INSERT ON events WHEN NEW.case_id = '{refused}'
                     BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END"
                )],
                swakelola_store::Dialect::Postgres => vec![
                    format!(
                        "CREATE FUNCTION refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$
                         BEGIN IF NEW.case_id = '{refused}' THEN RAISE EXCEPTION 'refused by a trigger'; END IF;
                         RETURN NEW; END $$"
                    ),
                    "CREATE TRIGGER refuse_events BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_event()".to_owned(),
                ],
            };
            for statement in statements {
                sqlx::query(sqlx::AssertSqlSafe(statement))
                    .execute(store.pool())
                    .await
                    .unwrap();
            }
            let now = at("2025-05-05T02:00:00Z");
            let runner = Runner::new(store.clone(), Arc::new(ManualClock::new(now)));
            let tick = runner
                .tick(now, &mut |_| {})
                .await
                .expect("a refused case never fails the round");
            assert!(
                fired(&store.history(&healthy).await.unwrap()) >= 3,
                "{tick:?}"
            );
            assert_eq!(fired(&store.history(&refused).await.unwrap()), 0);
            assert!(tick.fired.failed >= 1, "{tick:?}");
            let failed = store.timers(true, 100).await.unwrap();
            assert!(
                !failed.is_empty(),
                "the refused case's timers wait for a retry"
            );
            assert!(failed.iter().all(|t| t.case_id == refused), "{failed:?}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_case_firing_beyond_the_limit_is_set_aside() {
        for store in stores().await {
            let store = Arc::new(store);
            let busy = open(&store, "SIBUK", &[]).await;
            let quiet = open(&store, "TENANG", &[]).await;
            let now = at("2025-05-05T02:00:00Z");
            let runner = Runner {
                // Both cases have several timers due at this instant; allow only two.
                max_fires_per_case: 2,
                ..Runner::new(store.clone(), Arc::new(ManualClock::new(now)))
            };
            let tick = runner.tick(now, &mut |_| {}).await.unwrap();
            let mut aside = tick.fired.set_aside.clone();
            aside.sort();
            let mut expected = vec![busy.clone(), quiet.clone()];
            expected.sort();
            assert_eq!(aside, expected);
            for case in [&busy, &quiet] {
                assert_eq!(fired(&store.history(case).await.unwrap()), 2);
            }
            let dead = store.timers(true, 100).await.unwrap();
            assert!(!dead.is_empty());
            assert!(dead.iter().all(|t| {
                t.state == "dead"
                    && t.last_error
                        .as_deref()
                        .is_some_and(|e| e.contains("set aside"))
            }));
            // Nothing is claimable any more: the round ends instead of looping.
            assert!(
                store
                    .claim_due_timers("x", now, now, 100)
                    .await
                    .unwrap()
                    .is_empty()
            );
        }
    }

    /// Receivers that accept a connection and never answer.
    fn blackholes(count: usize) -> (Vec<std::net::TcpListener>, Vec<String>) {
        let listeners: Vec<std::net::TcpListener> = (0..count)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        let addresses = listeners
            .iter()
            .map(|l| format!("webhook:http://{}/hook", l.local_addr().unwrap()))
            .collect();
        (listeners, addresses)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dead_receivers_delay_neither_timers_nor_shutdown() {
        for store in stores().await {
            let store = Arc::new(store);
            let (_held, addresses) = blackholes(2);
            let addresses: Vec<&str> = addresses.iter().map(String::as_str).collect();
            let stuck = open(&store, "MACET", &addresses).await;
            let start = at("2025-05-05T02:00:00Z");
            let clock = Arc::new(ManualClock::new(start));
            let runner = Arc::new(Runner {
                webhooks: Some(Webhooks::new("whsec_dGVzdA==", Duration::from_secs(60))),
                grace: Duration::from_millis(200),
                ..Runner::new(store.clone(), clock.clone())
            });
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let task = {
                let runner = runner.clone();
                tokio::spawn(async move {
                    runner
                        .run(Duration::from_millis(50), async {
                            let _ = stopped.await;
                        })
                        .await
                })
            };
            // The stuck case's webhooks are in flight (claimed, not answered) …
            let in_flight = async {
                loop {
                    let messages = store.outbox(Some(&stuck), false, None).await.unwrap();
                    if messages
                        .iter()
                        .filter(|m| m.channel == "webhook" && m.attempts >= 1)
                        .count()
                        >= 2
                    {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            };
            tokio::time::timeout(Duration::from_secs(30), in_flight)
                .await
                .expect("the webhooks were never attempted");
            // … when another case opens and its timers fall due: they fire while the
            // receivers still hold their connections (the delivery timeout is a minute).
            let other = open(&store, "LANCAR", &[]).await;
            let fired_other = async {
                while fired(&store.history(&other).await.unwrap()) < 3 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            };
            tokio::time::timeout(Duration::from_secs(30), fired_other)
                .await
                .expect("the other case's timers waited for the dead receivers");
            assert!(
                store
                    .outbox(Some(&stuck), false, None)
                    .await
                    .unwrap()
                    .iter()
                    .filter(|m| m.channel == "webhook")
                    .all(|m| m.state == "pending" && m.last_error.is_none()),
                "the receivers should still be holding the deliveries"
            );
            // Shutdown does not wait for them either: it ends after the grace period.
            stop.send(()).unwrap();
            tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .expect("shutdown waited for the dead receivers")
                .unwrap()
                .unwrap();
        }
    }
}
