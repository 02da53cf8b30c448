//! `swakelola db|workflow|case …`: the commands staff use on stored cases.
//!
//! Each command reads the clock once, opens the store (applying migrations), and either
//! prints its result — Indonesian first, or JSON with `--json` — or an error that says what
//! to do. Nothing here decides anything about a case: that is `swakelola_core::step`, called
//! by the store.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use jiff::Timestamp;
use serde_json::json;
use swakelola_core::format::Language;
use swakelola_core::step::Action;
use swakelola_core::{Actor, Calendar, LinkKind};
use swakelola_store::{
    Applied, CaseCommand, CaseFilter, CaseRecord, Contact, Error, InputProblem, Invalid, OpenCase,
    Origin, Parties, SqlStore, Store, sha256_hex,
};
use swakelola_view::{
    AgendaEntry, CaseView, HistoryLine, Labels, LinkLine, SeriesView, catalogue, local_time,
    refusal,
};

/// A language people read swakelola in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Id,
    En,
}

impl From<Lang> for Language {
    fn from(lang: Lang) -> Self {
        match lang {
            Lang::Id => Language::Id,
            Lang::En => Language::En,
        }
    }
}

/// Where cases live.
#[derive(Debug, Clone, Args)]
pub struct Database {
    /// Database URL: sqlite://FILE (created if missing) or postgres://USER@HOST/DB.
    #[arg(
        long,
        global = true,
        env = "SWAKELOLA_DATABASE_URL",
        default_value = "sqlite://swakelola.db",
        value_name = "URL"
    )]
    pub database_url: String,
    /// Print results as JSON for scripts instead of text for people.
    #[arg(long, global = true)]
    pub json: bool,
    /// Language of what people read: `id` (Indonesian, the default) or `en`.
    #[arg(long, global = true, env = "SWAKELOLA_LANG", value_enum, default_value_t = Lang::Id)]
    pub lang: Lang,
    /// Networks (CIDR, comma-separated) that webhook contacts may reach although they are
    /// private, loopback or link-local, also over plain http; by default webhooks must be
    /// https to public addresses. E.g. `127.0.0.1/32` for a receiver on this machine.
    #[arg(
        long,
        global = true,
        env = "SWAKELOLA_WEBHOOK_ALLOW",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    pub webhook_allow: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum PartnershipCommand {
    /// A partnership year by year: each year's case (linked with `case open --follows`), its
    /// stage and amounts (pagu, contract value, realisation …) and their growth from the year
    /// before, then the replications by other agencies.
    ///
    /// Example: swakelola partnership show DP3A-2025-001
    Show {
        /// Any case of the partnership: its business key (e.g. DP3A-2025-001), its id, or a
        /// unique prefix of the id.
        #[arg(value_name = "CASE")]
        case: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply pending schema migrations (also done automatically by every command).
    Migrate,
}

#[derive(Debug, Subcommand)]
pub enum WorkflowCommand {
    /// Validate a workflow and store it as a new version (identical content changes nothing).
    ///
    /// The calendars in the calendars/ folder next to the file are deployed with it.
    Deploy {
        /// The workflow file; the calendars/ folder beside it is deployed too (the built-in
        /// calendars when there is none and nothing is deployed yet).
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// List deployed workflow versions.
    List,
    /// What changed between two deployed versions of a workflow: stages, transitions, rules,
    /// fields, documents, records, roles and parties added (+), removed (−) or changed (~,
    /// with the keys that differ).
    ///
    /// Example: swakelola workflow diff swakelola-tipe-3 1 2
    Diff {
        /// The workflow's id (see `swakelola workflow list`).
        #[arg(value_name = "WORKFLOW")]
        workflow: String,
        /// The earlier version.
        #[arg(value_name = "FROM")]
        from: u32,
        /// The later version.
        #[arg(value_name = "TO")]
        to: u32,
    },
    /// Move open cases onto another deployed version of their workflow, by a migration plan
    /// (a YAML file; see workflows/migrations/). Preview with --dry-run first: it prints what
    /// happens to each case and changes nothing.
    ///
    /// Each case moves in its own transaction and records a `migrated` event in its history.
    /// Running the plan again (after an interruption, say) leaves cases already moved as
    /// they are. Example: swakelola workflow migrate workflows/migrations/plans/2027-v1-ke-v2.yaml --dry-run
    Migrate {
        /// The migration plan.
        #[arg(value_name = "PLAN")]
        plan: PathBuf,
        /// Show what would happen to each case; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Your name, recorded in each migrated case's history (needed unless --dry-run).
        #[arg(long, value_name = "NAME")]
        actor: Option<String>,
    },
}

/// Who is acting.
#[derive(Debug, Clone, Args)]
pub struct Acting {
    /// The role you act in (e.g. ppk, pimpinan_ormas).
    #[arg(long = "as", value_name = "ROLE")]
    pub role: String,
    /// Your name, recorded in the history.
    #[arg(long, value_name = "NAME")]
    pub actor: String,
    /// The organisation you act for; needed to sign as a member of a coalition whose every
    /// member signs (e.g. the MoU).
    #[arg(long = "for", value_name = "ORG")]
    pub acting_for: Option<String>,
}

impl Acting {
    fn actor(&self) -> Actor {
        let actor = Actor::new(self.actor.clone(), self.role.clone());
        match &self.acting_for {
            Some(organisation) => actor.for_organisation(organisation),
            None => actor,
        }
    }
}

/// Options every changing command takes.
#[derive(Debug, Clone, Args)]
pub struct Change {
    /// A retried command with the same key is applied only once.
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Refuse (conflict) unless the case is still at this revision.
    #[arg(long, value_name = "N")]
    pub expected_revision: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum CaseCommandLine {
    /// Open a case (or get the existing one with the same business key and details).
    ///
    /// Example: swakelola case open --workflow swakelola-tipe-3 --key DP3A-2025-001
    /// --organisation dp3a-palembang --field nama_kegiatan="Pendampingan perempuan dan anak"
    /// --field tahun_anggaran=2025 --party ormas=yayasan-intan-maharani --contact 'ppk=Budi
    /// Santoso <email:budi@dp3a.example>' --as ppk --actor "Budi Santoso"
    ///
    /// The fields required at opening (`required: true`), the parties and the roles are those
    /// of the workflow file; a wrong one is refused with the list of those that exist, and
    /// nothing is stored.
    Open {
        /// The deployed workflow's id, e.g. swakelola-tipe-3 (see `swakelola workflow list`).
        #[arg(long, value_name = "WORKFLOW")]
        workflow: String,
        /// Business key, unique per workflow and organisation (e.g. DP3A-2025-001).
        #[arg(long, value_name = "KEY")]
        key: String,
        /// The organisation opening the case (e.g. dp3a-palembang).
        #[arg(long, value_name = "ORG")]
        organisation: String,
        /// A field value, FIELD=VALUE (repeat).
        #[arg(long = "field", value_name = "FIELD=VALUE")]
        fields: Vec<String>,
        /// A party of the partnership, PARTY=ORG (repeat), e.g. ormas=yayasan-intan-maharani;
        /// naming a party again adds a coalition member, the first named leads it.
        #[arg(long = "party", value_name = "PARTY=ORG")]
        parties: Vec<String>,
        /// Who to notify for a role (repeat): ROLE="Name <email:ADDRESS>" or
        /// ROLE="Name <webhook:https://…>"; without a name the role's label greets them, e.g.
        /// --contact 'ppk=Budi Santoso <email:budi@dp3a.example>'.
        #[arg(long = "contact", value_name = "ROLE=NAME <ADDRESS>")]
        contacts: Vec<String>,
        /// The case this one continues (next year's partnership after this year's): linked to
        /// it, and without --party its parties and contacts are taken over.
        #[arg(long, value_name = "CASE", conflicts_with = "replicates")]
        follows: Option<String>,
        /// The template case this one replicates (the same partnership with another agency).
        #[arg(long, value_name = "CASE")]
        replicates: Option<String>,
        /// A field taken over from the case followed or replicated unless given with --field
        /// (repeat), e.g. --carry nama_kegiatan --carry ormas.
        #[arg(long = "carry", value_name = "FIELD")]
        carry: Vec<String>,
        #[command(flatten)]
        acting: Acting,
    },
    /// List cases.
    List {
        /// Only cases of this workflow (its id).
        #[arg(long)]
        workflow: Option<String>,
        /// Only cases in this stage (its id, as `case show --json` gives it).
        #[arg(long)]
        stage: Option<String>,
        /// Only cases opened by this organisation.
        #[arg(long)]
        organisation: Option<String>,
        /// Only cases of this fiscal year (tahun anggaran).
        #[arg(long, value_name = "YEAR")]
        fiscal_year: Option<i16>,
        /// Only cases with something past due.
        #[arg(long)]
        overdue: bool,
        /// At most this many cases.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Show a case: stage, fields, deadlines, and what can happen next.
    Show {
        /// The case: its business key (e.g. DP3A-2025-001), its id, or a unique prefix of the id.
        #[arg(value_name = "CASE")]
        case: String,
        /// Show the transitions this role may fire, and what each still needs.
        #[arg(long = "as", value_name = "ROLE")]
        role: Option<String>,
    },
    /// Fire a transition.
    Fire {
        /// The case: its business key (e.g. DP3A-2025-001), its id, or a unique prefix of the id.
        #[arg(value_name = "CASE")]
        case: String,
        /// The transition's id, as `case show` lists it after the label (e.g. catat_audiensi).
        transition: String,
        /// Why: required by some transitions (a cancellation, a revision request).
        #[arg(long)]
        comment: Option<String>,
        #[command(flatten)]
        acting: Acting,
        #[command(flatten)]
        change: Change,
    },
    /// Attach a document (the file's content is stored by its SHA-256).
    Attach {
        /// The case: its business key (e.g. DP3A-2025-001), its id, or a unique prefix of the id.
        #[arg(value_name = "CASE")]
        case: String,
        /// The document type's id, e.g. kak or notulen_audiensi (`case show` names what is missing).
        document_type: String,
        /// The file to attach (at most 25 MiB); its name is kept, its content stored by SHA-256.
        file: PathBuf,
        #[command(flatten)]
        acting: Acting,
        #[command(flatten)]
        change: Change,
    },
    /// Set a field, FIELD=VALUE (e.g. pagu=Rp34.500.000).
    Set {
        /// The case: its business key (e.g. DP3A-2025-001), its id, or a unique prefix of the id.
        #[arg(value_name = "CASE")]
        case: String,
        /// The field and its value as people write it, e.g. pagu=Rp34.500.000 or
        /// tanggal_kontrak=2025-07-01.
        #[arg(value_name = "FIELD=VALUE")]
        assignment: String,
        #[command(flatten)]
        acting: Acting,
        #[command(flatten)]
        change: Change,
    },
    /// Decline a joint sign-off with a reason: the approvals given so far no longer count.
    ///
    /// Example: swakelola case decline DP3A-2025-001 tandatangani_kontrak --comment "Nilai
    /// kontrak belum sesuai RAB" --as pimpinan_ormas --actor "Siti Aminah"
    Decline {
        /// The case: its business key (e.g. DP3A-2025-001), its id, or a unique prefix of the id.
        #[arg(value_name = "CASE")]
        case: String,
        /// The transition whose sign-off is declined (e.g. tandatangani_kontrak).
        #[arg(value_name = "TRANSITION")]
        transition: String,
        /// Why (required); recorded in the history.
        #[arg(long)]
        comment: String,
        #[command(flatten)]
        acting: Acting,
        #[command(flatten)]
        change: Change,
    },
    /// Add a record to a case (a termin payment, …): RECORD then its FIELD=VALUE pairs.
    ///
    /// Example: swakelola case add-record DP3A-2025-001 pembayaran termin=1
    /// jumlah=Rp10.350.000 tanggal_sp2d=2025-05-20 nomor_sp2d=00123/SP2D/2025 --as ppk
    /// --actor "Budi Santoso"
    AddRecord {
        /// The case: its business key (e.g. DP3A-2025-001), its id, or a unique prefix of the id.
        #[arg(value_name = "CASE")]
        case: String,
        /// The kind of record, as the workflow names it (e.g. pembayaran).
        #[arg(value_name = "RECORD")]
        record: String,
        /// The record's fields as people write them, e.g. jumlah=Rp10.350.000.
        #[arg(value_name = "FIELD=VALUE", required = true)]
        values: Vec<String>,
        #[command(flatten)]
        acting: Acting,
        #[command(flatten)]
        change: Change,
    },
    /// Add an organisation to a party of a running case (a coalition grows); recorded in the
    /// history. The organisation is invited and sees the case once one of its staff accepts.
    ///
    /// Example: swakelola case add-member DP3A-2025-001 ormas perkumpulan-sumsel-peduli --as
    /// ppk --actor "Budi Santoso"
    AddMember {
        /// The case: its business key (e.g. DP3A-2025-001), its id, or a unique prefix of the id.
        #[arg(value_name = "CASE")]
        case: String,
        /// The party it joins, e.g. ormas.
        #[arg(value_name = "PARTY")]
        party: String,
        /// The organisation joining, e.g. perkumpulan-sumsel-peduli.
        #[arg(value_name = "ORG")]
        member: String,
        #[command(flatten)]
        acting: Acting,
        #[command(flatten)]
        change: Change,
    },
    /// Withdraw an organisation from a party of a running case, with a reason; recorded in
    /// the history. Unless it is in another party, it no longer sees the case, at once. A
    /// party's lead cannot be withdrawn.
    ///
    /// Example: swakelola case withdraw-member DP3A-2025-001 ormas perkumpulan-sumsel-peduli
    /// --reason "Mengundurkan diri dari koalisi" --as ppk --actor "Budi Santoso"
    WithdrawMember {
        /// The case: its business key (e.g. DP3A-2025-001), its id, or a unique prefix of the id.
        #[arg(value_name = "CASE")]
        case: String,
        /// The party it leaves, e.g. ormas.
        #[arg(value_name = "PARTY")]
        party: String,
        /// The organisation leaving.
        #[arg(value_name = "ORG")]
        member: String,
        /// Why (required); recorded in the history.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        acting: Acting,
        #[command(flatten)]
        change: Change,
    },
    /// Mark two cases as related (seen from both); recorded in the history of the first.
    /// Continuations and replications are linked when opened (`case open --follows`,
    /// `--replicates`).
    ///
    /// Example: swakelola case link DINSOS-2025-004 DP3A-2025-001 --as ppk --actor "Budi Santoso"
    Link {
        /// The case: its business key (e.g. DP3A-2025-001), its id, or a unique prefix of the id.
        #[arg(value_name = "CASE")]
        case: String,
        /// The related case, named the same ways.
        #[arg(value_name = "OTHER")]
        other: String,
        #[command(flatten)]
        acting: Acting,
        #[command(flatten)]
        change: Change,
    },
    /// Replace the people notified for a role on a running case (an official changed post);
    /// recorded in the history. Allowed to that role and the roles of the same side.
    ///
    /// Example: swakelola case contacts DP3A-2025-001 ppk --contact 'Andi Wijaya
    /// <email:andi@dp3a.example>' --as pa_kpa --actor "Kepala DP3A"
    Contacts {
        /// The case: its business key (e.g. DP3A-2025-001), its id, or a unique prefix of the id.
        #[arg(value_name = "CASE")]
        case: String,
        /// The role whose contacts are replaced, e.g. ppk.
        #[arg(value_name = "ROLE")]
        target_role: String,
        /// The new contacts (repeat): "Name <email:ADDRESS>" or "Name <webhook:https://…>";
        /// none at all leaves the role with no contact (its notices go to the log).
        #[arg(long = "contact", value_name = "NAME <ADDRESS>")]
        contacts: Vec<String>,
        #[command(flatten)]
        acting: Acting,
        #[command(flatten)]
        change: Change,
    },
    /// Replace the people notified for a role on every open case of an organisation (the PPK
    /// of a Dinas changed post); each case changes in its own transaction, recorded in its
    /// history, and a case that refuses does not stop the others.
    ///
    /// Example: swakelola case reassign ppk --organisation dp3a-palembang --replacing
    /// email:budi@dp3a.example --contact 'Andi Wijaya <email:andi@dp3a.example>' --as pa_kpa
    /// --actor "Kepala DP3A"
    ///
    /// Running the same command again changes nothing more. Exit 1 when any case refused.
    Reassign {
        /// The role whose contacts are replaced, e.g. ppk.
        #[arg(value_name = "ROLE")]
        target_role: String,
        /// The organisation whose open cases change (the one that opened them).
        #[arg(long, value_name = "ORG")]
        organisation: String,
        /// Only cases of this workflow (its id).
        #[arg(long, value_name = "WORKFLOW")]
        workflow: Option<String>,
        /// Only cases where the role's contacts include this address (the person leaving),
        /// e.g. email:budi@dp3a.example.
        #[arg(long, value_name = "ADDRESS")]
        replacing: Option<String>,
        /// The new contacts (repeat): "Name <email:ADDRESS>" or "Name <webhook:https://…>".
        #[arg(long = "contact", value_name = "NAME <ADDRESS>", required = true)]
        contacts: Vec<String>,
        #[command(flatten)]
        acting: Acting,
    },
    /// Show a case's full history.
    History {
        /// The case: its business key (e.g. DP3A-2025-001), its id, or a unique prefix of the id.
        #[arg(value_name = "CASE")]
        case: String,
    },
    /// Recompute a case's hash chain; exit 1 and name the first tampered event if broken.
    Verify {
        /// The case: its business key (e.g. DP3A-2025-001), its id, or a unique prefix of the id.
        #[arg(value_name = "CASE")]
        case: String,
    },
}

/// Reports `error` in the language asked for — with the labels of `workflow` when the error
/// was decided under it — and returns the exit code: 1 refused or not found, 3 database
/// unavailable.
pub(crate) fn fail(
    error: &Error,
    database: &Database,
    workflow: Option<&swakelola_core::Workflow>,
) -> ExitCode {
    let language: Language = database.lang.into();
    let labels = workflow.map(|workflow| Labels::new(workflow, language));
    let message = refusal::error(refusal::Names::new(language, labels), error);
    if database.json {
        eprintln!(
            "{}",
            json!({ "error": { "code": error.code(), "message": message } })
        );
    } else {
        eprintln!(
            "{}: {message}",
            catalogue::message(language, "error-prefix", &[])
        );
    }
    match error {
        Error::Database(_) | Error::Migration(_) => ExitCode::from(3),
        _ => ExitCode::FAILURE,
    }
}

/// The workflow a rejection was decided under, to name things by their labels.
async fn workflow_of(store: &SqlStore, error: &Error) -> Option<Arc<swakelola_store::Engine>> {
    match error {
        Error::Rejected {
            workflow: Some(workflow),
            ..
        } => store.engine_for(&workflow.id, workflow.version).await.ok(),
        _ => None,
    }
}

pub(crate) async fn open_store(database: &Database) -> Result<SqlStore, Error> {
    let policy = swakelola_store::input::WebhookPolicy::from_allow_list(&database.webhook_allow)
        .map_err(|problem| Error::InvalidInput {
            path: "--webhook-allow".into(),
            problem,
        })?;
    let store = SqlStore::connect(&database.database_url)
        .await?
        .with_webhook_policy(policy);
    store.migrate().await?;
    Ok(store)
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// How `swakelola run` behaves.
#[derive(Debug)]
pub struct DaemonOptions {
    pub poll: std::time::Duration,
    pub lease: jiff::SignedDuration,
    pub batch: u32,
    pub webhooks: Option<crate::delivery::Webhooks>,
    pub email: Option<crate::delivery::Email>,
    pub metrics: Option<std::net::SocketAddr>,
    pub retry: crate::delivery::RetryPolicy,
    /// Runaway protection (see `runner::MAX_FIRES_PER_CASE`).
    pub max_fires_per_case: u32,
    /// Base URL of the web pages, for links in notifications.
    pub public_url: Option<String>,
    /// How long shutdown waits for work in flight.
    pub grace: std::time::Duration,
    /// Serve the HTTP API on this address as well.
    pub api: Option<std::net::SocketAddr>,
}

/// A multi-threaded runtime for the long-running services (HTTP requests use both cores).
fn service_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Installs the Prometheus recorder; with an address, also serves it there on its own.
/// Upper bounds, in seconds, of the timer lateness histogram: from a prompt runner (a few
/// milliseconds) to one that was down for minutes.
const LATENESS_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

fn install_metrics(
    address: Option<std::net::SocketAddr>,
) -> Result<metrics_exporter_prometheus::PrometheusHandle, String> {
    // Lateness as a true histogram, not a summary: buckets add up across runners, the
    // quantiles of a summary cannot.
    let mut builder = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full("swakelola_timer_lateness_seconds".into()),
            &LATENESS_BUCKETS,
        )
        .map_err(|e| format!("cannot set up metrics: {e}"))?;
    if let Some(address) = address {
        builder = builder.with_http_listener(address);
    }
    let (recorder, exporter) = builder
        .build()
        .map_err(|e| format!("cannot set up metrics: {e}"))?;
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|e| format!("cannot set up metrics: {e}"))?;
    if let Some(address) = address {
        tokio::spawn(async move {
            if let Err(error) = exporter.await {
                tracing::error!(%address, error = ?error, "the metrics listener stopped");
            }
        });
    }
    Ok(handle)
}

/// Resolves on the first SIGINT or SIGTERM. The handlers are installed before this returns,
/// so a signal sent right after start is never missed.
fn shutdown_signal() -> Result<tokio::sync::watch::Receiver<bool>, String> {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut terminate), Ok(mut interrupt)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return Err("cannot install signal handlers".into());
    };
    let (sender, receiver) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        let _ = sender.send(true);
    });
    Ok(receiver)
}

async fn sigterm() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            terminate.recv().await;
        }
        Err(_) => std::future::pending::<()>().await,
    }
}

async fn stopped(mut receiver: tokio::sync::watch::Receiver<bool>) {
    let _ = receiver.wait_for(|stop| *stop).await;
}

/// Binds the API's address, or says why not.
async fn bind_api(address: std::net::SocketAddr) -> Result<tokio::net::TcpListener, ExitCode> {
    match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => Ok(listener),
        Err(error) => {
            tracing::error!(%address, %error, "cannot listen for the HTTP API; choose another address with --listen");
            Err(ExitCode::from(2))
        }
    }
}

/// What `run` and `serve` share at start: the migrated store, the metrics recorder and the
/// shutdown signal — or the exit code that says why they could not start.
async fn start_service(
    database: &Database,
    metrics: Option<std::net::SocketAddr>,
) -> Result<
    (
        std::sync::Arc<SqlStore>,
        metrics_exporter_prometheus::PrometheusHandle,
        tokio::sync::watch::Receiver<bool>,
    ),
    ExitCode,
> {
    let store = match open_store(database).await {
        Ok(store) => std::sync::Arc::new(store),
        Err(error) => return Err(fail(&error, database, None)),
    };
    let handle = install_metrics(metrics).map_err(|error| {
        tracing::error!(%error, "cannot start");
        ExitCode::from(2)
    })?;
    let shutdown = shutdown_signal().map_err(|error| {
        tracing::error!(%error, "cannot start");
        ExitCode::FAILURE
    })?;
    Ok((store, handle, shutdown))
}

/// `swakelola run`: the daemon until Ctrl-C or SIGTERM; in-flight work finishes, then exit 0.
pub fn run_daemon(database: &Database, options: DaemonOptions) -> ExitCode {
    service_runtime().block_on(async {
        // A runner started before its database (a reboot, a failover) waits for it rather
        // than exit: log each failed attempt and try again, until stopped.
        let mut delay = std::time::Duration::from_secs(1);
        loop {
            match open_store(database).await {
                Ok(_) => break,
                Err(error @ (Error::Database(_) | Error::Migration(_))) => {
                    tracing::error!(
                        event = "database_unavailable",
                        database = %redact(&database.database_url),
                        error = %error,
                        retry_seconds = delay.as_secs(),
                        "the database is not available yet; retrying"
                    );
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => return ExitCode::SUCCESS,
                        () = sigterm() => return ExitCode::SUCCESS,
                        () = tokio::time::sleep(delay) => {}
                    }
                    delay = (delay * 2).min(std::time::Duration::from_secs(30));
                }
                Err(error) => return fail(&error, database, None),
            }
        }
        let (store, handle, shutdown) = match start_service(database, options.metrics).await {
            Ok(started) => started,
            Err(code) => return code,
        };
        let wake = std::sync::Arc::new(tokio::sync::Notify::new());
        // The pages email the links to set a password through the same SMTP server.
        let mailer = options
            .email
            .clone()
            .map(|email| std::sync::Arc::new(email) as std::sync::Arc<dyn swakelola_web::Mailer>);
        let runner = crate::runner::Runner {
            lease: options.lease,
            batch: options.batch,
            webhooks: options.webhooks,
            email: options.email,
            retry: options.retry,
            max_fires_per_case: options.max_fires_per_case,
            grace: options.grace,
            public_url: options.public_url,
            wake: Some(wake.clone()),
            ..crate::runner::Runner::new(
                store.clone(),
                std::sync::Arc::new(crate::runner::SystemClock),
            )
        };
        let api = match options.api {
            Some(address) => match bind_api(address).await {
                Ok(listener) => Some(listener),
                Err(code) => return code,
            },
            None => None,
        };
        tracing::info!(
            event = "started",
            database = %redact(&database.database_url),
            runner = %runner.owner,
            channels = ?runner.channels(),
            poll_seconds = options.poll.as_secs(),
            metrics = options.metrics.map(|a| a.to_string()),
            api = api.as_ref().and_then(|l| l.local_addr().ok()).map(|a| a.to_string()),
            "runner started"
        );
        let pages = swakelola_web::pages(swakelola_web::WebConfig {
            public_url: runner.public_url.clone(),
            mailer,
        });
        let api_task = api.map(|listener| {
            let state = swakelola_api::AppState {
                metrics: Some(handle),
                work: Some(wake),
                ..swakelola_api::AppState::new(store)
            };
            tokio::spawn(swakelola_api::serve_with(
                listener,
                state,
                pages,
                stopped(shutdown.clone()),
            ))
        });
        let result = runner.run(options.poll, stopped(shutdown)).await;
        if let Some(task) = api_task
            && let Ok(Err(error)) = task.await
        {
            tracing::error!(%error, "the HTTP API stopped with an error");
        }
        match result {
            Ok(()) => {
                tracing::info!(event = "stopped", runner = %runner.owner, "runner stopped");
                ExitCode::SUCCESS
            }
            Err(error) => fail(&error, database, None),
        }
    })
}

/// `swakelola serve`: the HTTP API without the timer loop.
pub fn serve(
    database: &Database,
    listen: std::net::SocketAddr,
    public_url: Option<String>,
    mailer: Option<crate::delivery::Email>,
) -> ExitCode {
    service_runtime().block_on(async {
        let (store, handle, shutdown) = match start_service(database, None).await {
            Ok(started) => started,
            Err(code) => return code,
        };
        let listener = match bind_api(listen).await {
            Ok(listener) => listener,
            Err(code) => return code,
        };
        tracing::info!(
            event = "serving",
            database = %redact(&database.database_url),
            address = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            "HTTP API listening"
        );
        let state = swakelola_api::AppState {
            metrics: Some(handle),
            ..swakelola_api::AppState::new(store)
        };
        let pages = swakelola_web::pages(swakelola_web::WebConfig {
            public_url,
            mailer: mailer
                .map(|m| std::sync::Arc::new(m) as std::sync::Arc<dyn swakelola_web::Mailer>),
        });
        match swakelola_api::serve_with(listener, state, pages, stopped(shutdown)).await {
            Ok(()) => {
                tracing::info!(event = "stopped", "HTTP API stopped");
                ExitCode::SUCCESS
            }
            Err(error) => {
                tracing::error!(%error, "the HTTP API failed");
                ExitCode::FAILURE
            }
        }
    })
}

pub fn db(database: &Database, command: &DbCommand) -> ExitCode {
    runtime().block_on(async {
        match command {
            DbCommand::Migrate => match open_store(database).await {
                Ok(_) => {
                    println!(
                        "database is up to date ({})",
                        redact(&database.database_url)
                    );
                    ExitCode::SUCCESS
                }
                Err(error) => fail(&error, database, None),
            },
        }
    })
}

/// The URL without a password, for messages.
/// A database URL fit for logs: the password, in the user part or as a `password=` query
/// parameter, replaced by `***`.
pub fn redact(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_owned();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let secret = k.to_ascii_lowercase().contains("password");
                (
                    k.into_owned(),
                    if secret { "***".into() } else { v.into_owned() },
                )
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

/// Reads a regular file of at most `limit` bytes. Devices, FIFOs and larger files are refused
/// before anything is read: a FIFO would block and `/dev/zero` would never end.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let metadata =
        std::fs::metadata(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    if !metadata.is_file() {
        return Err(format!("`{}` is not a regular file", path.display()));
    }
    if metadata.len() > limit {
        return Err(format!(
            "`{}` is {} bytes; at most {limit} bytes are accepted",
            path.display(),
            metadata.len()
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(limit + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "`{}` grew beyond {limit} bytes while it was read",
            path.display()
        ));
    }
    Ok(bytes)
}

/// A file that cannot be read, as the error the CLI reports.
fn unreadable(detail: String) -> Error {
    Error::InvalidRequest(Invalid::UnreadableFile { detail })
}

/// A bounded text file (a workflow, a calendar, a config file).
pub fn read_text_bounded(path: &Path) -> Result<String, String> {
    let bytes = read_bounded(path, swakelola_definition::parse::MAX_FILE_BYTES as u64)?;
    String::from_utf8(bytes).map_err(|_| format!("`{}` is not UTF-8 text", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seed case after its audience was recorded, with its history, at fixed instants.
    fn seed_case() -> (
        swakelola_store::Engine,
        CaseRecord,
        Vec<swakelola_store::StoredEvent>,
    ) {
        use swakelola_core::step::{Command, step};
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../workflows");
        let bundle = swakelola_definition::load(&[dir]).unwrap();
        let definition = bundle
            .workflows
            .iter()
            .find(|d| d.workflow.id == "swakelola-tipe-3")
            .unwrap();
        let engine = swakelola_store::Engine {
            workflow: definition.workflow.clone(),
            calendar: bundle.calendar_for(&definition.workflow).unwrap().clone(),
        };
        let at = |text: &str| text.parse::<Timestamp>().unwrap();
        let mut state = None;
        let mut history = Vec::new();
        let mut run = |role: &str, name: &str, action: Action, now: Timestamp| {
            let command = Command {
                actor: Actor::new(name, role),
                action,
            };
            let outcome = step(
                &engine.workflow,
                state.as_ref(),
                &command,
                now,
                &engine.calendar,
            )
            .unwrap();
            history.push(swakelola_store::StoredEvent {
                event: outcome.event.clone(),
                prev_hash: String::new(),
                hash: String::new(),
            });
            state = Some(outcome.state);
        };
        run(
            "pimpinan_ormas",
            "Siti Aminah",
            Action::Open {
                fields: vec![
                    (
                        "nama_kegiatan".into(),
                        "Pendampingan perempuan dan anak".into(),
                    ),
                    ("instansi".into(), "DP3A Kota Palembang".into()),
                    ("ormas".into(), "Yayasan Intan Maharani".into()),
                    ("tahun_anggaran".into(), "2025".into()),
                ],
                parties: Default::default(),
            },
            at("2024-12-10T03:00:00Z"),
        );
        run(
            "fasilitator",
            "Rina",
            Action::Attach {
                document_type: "notulen_audiensi".into(),
                file_name: "notulen.pdf".into(),
                sha256: "ab".repeat(32),
                size: 7,
            },
            at("2024-12-12T02:00:00Z"),
        );
        run(
            "pimpinan_ormas",
            "Siti Aminah",
            Action::Fire {
                transition: "catat_audiensi".into(),
                comment: None,
            },
            at("2024-12-12T02:05:00Z"),
        );
        run(
            "pimpinan_ormas",
            "Siti Aminah",
            Action::SetField {
                field: "nilai_estimasi".into(),
                value: "34500000".into(),
            },
            at("2024-12-20T03:00:00Z"),
        );
        let record = CaseRecord {
            id: "01a22600-0000-7000-8000-000000000001".into(),
            workflow_id: "swakelola-tipe-3".into(),
            workflow_version: 1,
            organisation: "dp3a-palembang".into(),
            business_key: "DP3A-2025-001".into(),
            parties: Parties::default(),
            state: state.unwrap(),
            pending_organisations: Vec::new(),
        };
        (engine, record, history)
    }

    /// What people read of a case and its history, in Indonesian and in English: labels, not
    /// ids; rupiah and dates as people write them.
    #[test]
    fn what_people_read_of_a_case_in_both_languages() {
        let (engine, record, history) = seed_case();
        let now: Timestamp = "2024-12-20T05:00:00Z".parse().unwrap();
        for (language, name) in [(Language::Id, "id"), (Language::En, "en")] {
            let labels = Labels::new(&engine.workflow, language);
            let view = CaseView::build(
                labels,
                &record,
                &Default::default(),
                Some(&["pimpinan_ormas"]),
                now,
            );
            let mut text = case_text(&view, &[], labels, Some("pimpinan_ormas"));
            for stored in &history {
                let line = HistoryLine::build(labels, stored);
                text.push_str(&format!(
                    "#{} {}  {} ({})  {}\n",
                    line.revision,
                    local_time(line.at, &engine.calendar, language),
                    line.actor,
                    line.role.label,
                    line.text
                ));
            }
            // The agenda: every pending timer of the case, as `swakelola agenda` lists it
            // (soonest first).
            text.push_str("\n$ swakelola agenda\n");
            let mut timers: Vec<_> = record.state.timers.values().collect();
            timers.sort_by_key(|t| (t.due_at, t.key.clone()));
            for key in timers.iter().map(|t| &t.key) {
                if let Some(entry) = AgendaEntry::build(labels, &record, key, now) {
                    text.push_str(&agenda_line(&entry, &engine.calendar, language));
                    text.push('\n');
                }
            }
            // Refusals: a step from the wrong stage, a step whose guard is not met, a value of
            // the wrong type, a role that may not act.
            text.push_str("\n$ swakelola case fire … (refused)\n");
            let names = refusal::Names::new(language, Some(labels));
            for (role, action) in [
                (
                    "ppk",
                    Action::Fire {
                        transition: "terima_kak".into(),
                        comment: None,
                    },
                ),
                (
                    "pimpinan_ormas",
                    Action::Fire {
                        transition: "serahkan_kak".into(),
                        comment: None,
                    },
                ),
                (
                    "perencana",
                    Action::SetField {
                        field: "pagu".into(),
                        value: "tiga puluh juta".into(),
                    },
                ),
                (
                    "pimpinan_ormas",
                    Action::SetField {
                        field: "pagu".into(),
                        value: "34500000".into(),
                    },
                ),
            ] {
                let refused = swakelola_core::step::step(
                    &engine.workflow,
                    Some(&record.state),
                    &swakelola_core::step::Command {
                        actor: Actor::new("Budi", role),
                        action,
                    },
                    now,
                    &engine.calendar,
                )
                .unwrap_err();
                text.push_str(&refusal::rejection(names, &refused));
                text.push('\n');
            }
            text.push_str("\n$ swakelola case verify\n");
            for first_tampered in [None, Some(2)] {
                let verification = swakelola_store::Verification {
                    events: 3,
                    first_tampered,
                };
                text.push_str(&verification_line(&verification, language));
                text.push('\n');
            }
            insta::assert_snapshot!(format!("case_show_and_history_{name}"), text);
            for id in [
                "penyusunan_kak",
                "catat_audiensi",
                "notulen_audiensi",
                "nilai_estimasi",
            ] {
                let without_ids = text.replace(&format!("; {id})"), ")");
                assert!(
                    !without_ids.contains(id),
                    "internal id `{id}` shown:\n{text}"
                );
            }
        }
    }

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(
            redact("postgres://swk:rahasia@db.example/swakelola"),
            "postgres://swk:***@db.example/swakelola"
        );
        assert_eq!(
            redact("postgres://db.example/swakelola?user=swk&password=rahasia"),
            "postgres://db.example/swakelola?user=swk&password=***"
        );
        assert_eq!(redact("sqlite://swakelola.db"), "sqlite://swakelola.db");
    }

    #[test]
    fn reading_refuses_what_is_not_a_small_regular_file() {
        assert!(read_bounded(Path::new("/dev/zero"), 10).is_err());
        assert!(read_bounded(Path::new("/"), 10).is_err());
        let file = std::env::temp_dir().join(format!("swk-read-{}", std::process::id()));
        std::fs::write(&file, b"0123456789AB").unwrap();
        assert!(read_bounded(&file, 10).is_err());
        assert_eq!(read_bounded(&file, 12).unwrap().len(), 12);
        std::fs::remove_file(&file).unwrap();
    }
}

pub fn workflow(database: &Database, command: &WorkflowCommand) -> ExitCode {
    runtime().block_on(async {
        let result = async {
            let store = open_store(database).await?;
            match command {
                WorkflowCommand::Deploy { file } => {
                    let source = read_text_bounded(file).map_err(unreadable)?;
                    let calendars = calendar_files(file)?;
                    let deployment = store
                        .deploy(
                            &file.display().to_string(),
                            &source,
                            &calendars,
                            Timestamp::now(),
                        )
                        .await?;
                    if !database.json && deployment.rescheduled > 0 {
                        println!(
                            "{}",
                            catalogue::message(
                                Language::from(database.lang),
                                "deploy-rescheduled",
                                &[("cases", &deployment.rescheduled.to_string())]
                            )
                        );
                    }
                    if database.json {
                        println!("{}", json!(deployment));
                    } else if deployment.created {
                        println!(
                            "{}",
                            catalogue::message(
                                Language::from(database.lang),
                                "deploy-created",
                                &[
                                    ("workflow", &format!("`{}`", deployment.workflow.id)),
                                    ("version", &deployment.workflow.version.to_string())
                                ]
                            )
                        );
                    } else {
                        println!(
                            "{}",
                            catalogue::message(
                                Language::from(database.lang),
                                "deploy-unchanged",
                                &[
                                    ("workflow", &format!("`{}`", deployment.workflow.id)),
                                    ("version", &deployment.workflow.version.to_string())
                                ]
                            )
                        );
                    }
                }
                WorkflowCommand::Diff { workflow, from, to } => {
                    let before = store.engine_for(workflow, *from).await?;
                    let after = store.engine_for(workflow, *to).await?;
                    let changes =
                        swakelola_definition::diff::diff(&before.workflow, &after.workflow);
                    let language = Language::from(database.lang);
                    if database.json {
                        println!("{}", json!(changes));
                    } else {
                        print!("{}", diff_text(workflow, *from, *to, &changes, language));
                    }
                }
                WorkflowCommand::Migrate {
                    plan,
                    dry_run,
                    actor,
                } => {
                    let text = read_text_bounded(plan).map_err(unreadable)?;
                    return crate::migrate::command(
                        &store,
                        plan,
                        &text,
                        *dry_run,
                        actor.as_deref(),
                        Language::from(database.lang),
                        database.json,
                    )
                    .await;
                }
                WorkflowCommand::List => {
                    let workflows = store.workflows().await?;
                    let open = store.open_cases_by_version().await?;
                    let open_of = |w: &swakelola_store::DeployedWorkflow| {
                        open.get(&(w.id.clone(), w.version)).copied().unwrap_or(0)
                    };
                    if database.json {
                        let listed: Vec<serde_json::Value> = workflows
                            .iter()
                            .map(|w| {
                                let mut item = json!(w);
                                item["open_cases"] = json!(open_of(w));
                                item
                            })
                            .collect();
                        println!("{}", json!(listed));
                    } else if workflows.is_empty() {
                        println!(
                            "{}",
                            catalogue::message(Language::from(database.lang), "workflow-none", &[])
                        );
                    } else {
                        let language = Language::from(database.lang);
                        for w in &workflows {
                            let count = open_of(w).to_string();
                            println!(
                                "{:<24} v{:<3} {}  sha256:{}  {}",
                                w.id,
                                w.version,
                                w.deployed_at,
                                &w.content_hash[..12],
                                catalogue::message(
                                    language,
                                    "workflow-open-cases",
                                    &[("count", count.as_str())]
                                )
                            );
                        }
                    }
                }
            }
            Ok::<_, Error>(ExitCode::SUCCESS)
        }
        .await;
        match result {
            Ok(code) => code,
            Err(error) => fail(&error, database, None),
        }
    })
}

/// `workflow diff` for administrators: one line per element added, removed or changed.
fn diff_text(
    workflow: &str,
    from: u32,
    to: u32,
    changes: &swakelola_definition::diff::WorkflowDiff,
    language: Language,
) -> String {
    use std::fmt::Write as _;
    let msg = |id: &str, args: &[(&str, &str)]| catalogue::message(language, id, args);
    let mut out = String::new();
    let (from, to) = (from.to_string(), to.to_string());
    let _ = writeln!(
        out,
        "{}",
        msg(
            "diff-heading",
            &[("workflow", workflow), ("from", &from), ("to", &to)]
        )
    );
    if changes.is_empty() {
        let _ = writeln!(out, "  {}", msg("diff-none", &[]));
        return out;
    }
    if !changes.settings.is_empty() {
        let _ = writeln!(
            out,
            "  {}: ~ {}",
            msg("diff-settings", &[]),
            changes.settings.join(", ")
        );
    }
    for (kind, change) in &changes.kinds {
        let _ = writeln!(out, "  {}:", msg(&format!("diff-kind-{kind}"), &[]));
        for id in &change.added {
            let _ = writeln!(out, "    + {id}");
        }
        for id in &change.removed {
            let _ = writeln!(out, "    − {id}");
        }
        for (id, keys) in &change.changed {
            let _ = writeln!(out, "    ~ {id} ({})", keys.join(", "));
        }
    }
    out
}

/// `(file name, text)` of every calendar next to a workflow file.
pub fn calendar_files(workflow_file: &Path) -> Result<Vec<(String, String)>, Error> {
    let folder = workflow_file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("calendars");
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&folder) {
        for entry in entries.flatten() {
            let path = entry.path();
            if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                let text = read_text_bounded(&path).map_err(unreadable)?;
                files.push((
                    path.file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned(),
                    text,
                ));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// `Budi Santoso <email:budi@dp3a.example>` → (name, address); the address alone → ("", it).
fn name_and_address(value: &str) -> (&str, &str) {
    match value.trim().strip_suffix('>') {
        Some(rest) => match rest.split_once('<') {
            Some((name, address)) => (name.trim(), address.trim()),
            None => ("", value.trim()),
        },
        None => ("", value.trim()),
    }
}

fn split_pair<'a>(text: &'a str, option: &str) -> Result<(&'a str, &'a str), Error> {
    text.split_once('=')
        .filter(|(k, _)| !k.trim().is_empty())
        .map(|(k, v)| (k.trim(), v))
        .ok_or_else(|| {
            Error::InvalidRequest(Invalid::NotAPair {
                text: text.to_owned(),
                option: option.to_owned(),
            })
        })
}

pub fn case(database: &Database, command: &CaseCommandLine) -> ExitCode {
    runtime().block_on(async {
        let store = match open_store(database).await {
            Ok(store) => store,
            Err(error) => return fail(&error, database, None),
        };
        let output = Output {
            json: database.json,
            language: database.lang.into(),
        };
        match run_case(&store, output, command).await {
            Ok(code) => code,
            Err(error) => {
                let engine = workflow_of(&store, &error).await;
                fail(&error, database, engine.as_ref().map(|e| &e.workflow))
            }
        }
    })
}

async fn run_case(
    store: &SqlStore,
    output: Output,
    command: &CaseCommandLine,
) -> Result<ExitCode, Error> {
    let json_output = output.json;
    let now = Timestamp::now();
    // Every changing command on one case: find it, apply `action`, say what happened (the
    // catalogue's `what`) and show the case.
    let apply = async |case: &str,
                       acting: &Acting,
                       change: &Change,
                       action: Action,
                       content: Option<Vec<u8>>,
                       what: &str|
           -> Result<(), Error> {
        let case_id = store.resolve_case(case, None).await?;
        let command = CaseCommand {
            case_id,
            actor: acting.actor(),
            action,
            expected_revision: change.expected_revision,
            idempotency_key: change.idempotency_key.clone(),
            content,
        };
        let applied = store.execute(&command, now).await?;
        let what = catalogue::message(output.language, what, &[]);
        print_applied(store, &applied, output, &what).await
    };
    match command {
        CaseCommandLine::Open {
            workflow,
            key,
            organisation,
            fields,
            parties,
            contacts,
            follows,
            replicates,
            carry,
            acting,
        } => {
            let origin = match (follows, replicates) {
                (Some(reference), _) | (None, Some(reference)) => Some(Origin {
                    link: if follows.is_some() {
                        LinkKind::Follows
                    } else {
                        LinkKind::Replicates
                    },
                    case_id: store.resolve_case(reference, None).await?,
                    carry: carry.clone(),
                }),
                (None, None) if !carry.is_empty() => {
                    return Err(Error::InvalidInput {
                        path: "--carry".into(),
                        problem: InputProblem::CarryWithoutOrigin,
                    });
                }
                (None, None) => None,
            };
            let mut request = OpenCase {
                origin,
                workflow_id: workflow.clone(),
                organisation: organisation.clone(),
                business_key: key.clone(),
                actor: acting.actor(),
                fields: Vec::new(),
                parties: Parties::default(),
            };
            for field in fields {
                let (name, value) = split_pair(field, "--field")?;
                request.fields.push((name.to_owned(), value.to_owned()));
            }
            for party in parties {
                let (name, org) = split_pair(party, "--party")?;
                if request.parties.has_member(name, org) {
                    return Err(Error::InvalidInput {
                        path: format!("--party {name}"),
                        problem: InputProblem::AlreadyMember {
                            organisation: org.to_owned(),
                            party: name.to_owned(),
                        },
                    });
                }
                // The first organisation named for a party leads it; the others join it.
                request.parties.name(name, org);
            }
            for contact in contacts {
                let (role, value) = split_pair(contact, "--contact")?;
                let (name, address) = name_and_address(value);
                request
                    .parties
                    .contacts
                    .entry(role.to_owned())
                    .or_default()
                    .push(Contact {
                        name: name.to_owned(),
                        address: address.to_owned(),
                    });
            }
            let applied = store.open(&request, now).await?;
            let what = if applied.created {
                catalogue::message(output.language, "applied-opened", &[])
            } else {
                catalogue::message(output.language, "applied-existing", &[])
            };
            print_applied(store, &applied, output, &what).await?;
        }
        CaseCommandLine::List {
            workflow,
            stage,
            organisation,
            fiscal_year,
            overdue,
            limit,
        } => {
            let filter = CaseFilter {
                workflow_id: workflow.clone(),
                stage: stage.clone(),
                organisation: organisation.clone(),
                fiscal_year: *fiscal_year,
                overdue_at: overdue.then_some(now),
                limit: *limit,
                ..CaseFilter::default()
            };
            let cases = store.cases(&filter).await?;
            if json_output {
                println!("{}", json!(cases));
            } else if cases.is_empty() {
                println!("{}", catalogue::message(output.language, "list-empty", &[]));
            } else {
                let engines = store.engines_of(&cases).await?;
                for case in &cases {
                    let engine = &engines[&(case.workflow_id.clone(), case.workflow_version)];
                    let labels = Labels::new(&engine.workflow, output.language);
                    let stage = labels.stage(&case.state.stage).label;
                    let due = next_deadline(case, &engine.calendar, labels, now)
                        .map(|due| format!("  · {due}"))
                        .unwrap_or_default();
                    println!(
                        "{}  {:<16} {:<28} {stage}{due}",
                        case.id,
                        case.business_key,
                        labels.text(&engine.workflow.label)
                    );
                }
            }
        }
        CaseCommandLine::Show { case, role } => {
            let case = &store.resolve_case(case, None).await?;
            let record = store.case(case).await?;
            show(store, &record, role.as_deref(), output, now).await?;
        }
        CaseCommandLine::Fire {
            case,
            transition,
            comment,
            acting,
            change: options,
        } => {
            let action = Action::Fire {
                transition: transition.clone(),
                comment: comment.clone(),
            };
            apply(case, acting, options, action, None, "applied-fired").await?;
        }
        CaseCommandLine::Attach {
            case,
            document_type,
            file,
            acting,
            change: options,
        } => {
            // The file first: a FIFO or a device is refused before anything else is asked.
            let content = read_bounded(file, swakelola_store::MAX_DOCUMENT_BYTES as u64)
                .map_err(unreadable)?;
            let action = Action::Attach {
                document_type: document_type.clone(),
                file_name: file
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                sha256: sha256_hex(&content),
                size: content.len() as u64,
            };
            apply(
                case,
                acting,
                options,
                action,
                Some(content),
                "applied-attached",
            )
            .await?;
        }
        CaseCommandLine::Set {
            case,
            assignment,
            acting,
            change: options,
        } => {
            let (field, value) = split_pair(assignment, "FIELD=VALUE")?;
            let action = Action::SetField {
                field: field.to_owned(),
                value: value.to_owned(),
            };
            apply(case, acting, options, action, None, "applied-field-set").await?;
        }
        CaseCommandLine::Decline {
            case,
            transition,
            comment,
            acting,
            change: options,
        } => {
            let action = Action::Decline {
                transition: transition.clone(),
                comment: comment.clone(),
            };
            apply(case, acting, options, action, None, "applied-declined").await?;
        }
        CaseCommandLine::Link {
            case,
            other,
            acting,
            change: options,
        } => {
            let other = store.case(&store.resolve_case(other, None).await?).await?;
            let action = Action::Link {
                link: LinkKind::Related,
                case_id: other.id,
                business_key: other.business_key,
            };
            apply(case, acting, options, action, None, "applied-linked").await?;
        }
        CaseCommandLine::AddMember {
            case,
            party,
            member,
            acting,
            change: options,
        } => {
            let action = Action::AddMember {
                party: party.clone(),
                organisation: member.clone(),
            };
            apply(case, acting, options, action, None, "applied-member-added").await?;
        }
        CaseCommandLine::WithdrawMember {
            case,
            party,
            member,
            reason,
            acting,
            change: options,
        } => {
            let action = Action::WithdrawMember {
                party: party.clone(),
                organisation: member.clone(),
                reason: reason.clone(),
            };
            apply(
                case,
                acting,
                options,
                action,
                None,
                "applied-member-withdrawn",
            )
            .await?;
        }
        CaseCommandLine::AddRecord {
            case,
            record,
            values,
            acting,
            change: options,
        } => {
            let values = values
                .iter()
                .map(|pair| {
                    split_pair(pair, "FIELD=VALUE").map(|(f, v)| (f.to_owned(), v.to_owned()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let action = Action::AddRecord {
                record: record.clone(),
                values,
            };
            apply(case, acting, options, action, None, "applied-record-added").await?;
        }
        CaseCommandLine::Contacts {
            case,
            target_role,
            contacts,
            acting,
            change: options,
        } => {
            let contacts = contacts
                .iter()
                .map(|value| {
                    let (name, address) = name_and_address(value);
                    swakelola_core::state::ContactEntry {
                        name: name.to_owned(),
                        address: address.to_owned(),
                    }
                })
                .collect();
            let action = Action::SetContacts {
                role: target_role.clone(),
                contacts,
            };
            apply(
                case,
                acting,
                options,
                action,
                None,
                "applied-contacts-changed",
            )
            .await?;
        }
        CaseCommandLine::Reassign {
            target_role,
            organisation,
            workflow,
            replacing,
            contacts,
            acting,
        } => {
            return reassign(
                store,
                output,
                Reassignment {
                    role: target_role,
                    organisation,
                    workflow: workflow.as_deref(),
                    replacing: replacing.as_deref(),
                    contacts,
                    acting,
                },
                now,
            )
            .await;
        }
        CaseCommandLine::History { case } => {
            let case = &store.resolve_case(case, None).await?;
            let history = store.history(case).await?;
            if json_output {
                println!("{}", json!(history));
            } else {
                let record = store.case(case).await?;
                let engine = store
                    .engine_for(&record.workflow_id, record.workflow_version)
                    .await?;
                let labels = Labels::new(&engine.workflow, output.language);
                for stored in &history {
                    let line = HistoryLine::build(labels, stored);
                    println!(
                        "#{:<3} {}  {} ({})  {}",
                        line.revision,
                        local_time(line.at, &engine.calendar, output.language),
                        line.actor,
                        line.role.label,
                        line.text
                    );
                }
            }
        }
        CaseCommandLine::Verify { case } => {
            let case = &store.resolve_case(case, None).await?;
            let verification = store.verify(case).await?;
            if json_output {
                println!("{}", json!(verification));
            } else {
                println!("{}", verification_line(&verification, output.language));
            }
            if verification.first_tampered.is_some() {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn print_applied(
    store: &SqlStore,
    applied: &Applied,
    output: Output,
    what: &str,
) -> Result<(), Error> {
    if output.json {
        println!("{}", json!(applied));
        return Ok(());
    }
    let engine = store
        .engine_for(&applied.case.workflow_id, applied.case.workflow_version)
        .await?;
    let stage = Labels::new(&engine.workflow, output.language)
        .stage(&applied.case.state.stage)
        .label;
    let what = if applied.event.is_none() && !applied.created {
        catalogue::message(output.language, "applied-unchanged", &[("what", what)])
    } else {
        what.to_owned()
    };
    let revision = applied.case.state.revision.to_string();
    println!(
        "{}",
        catalogue::message(
            output.language,
            "applied-line",
            &[
                ("case", applied.case.business_key.as_str()),
                ("what", what.as_str()),
                ("stage", stage.as_str()),
                ("revision", revision.as_str()),
            ]
        )
    );
    Ok(())
}

/// The case's next deadline in words, with working days left or late.
fn next_deadline(
    case: &CaseRecord,
    calendar: &Calendar,
    labels: Labels<'_>,
    now: Timestamp,
) -> Option<String> {
    swakelola_view::NextDeadline::of(labels, case, calendar, now).map(|next| next.text)
}

async fn show(
    store: &SqlStore,
    record: &CaseRecord,
    role: Option<&str>,
    output: Output,
    now: Timestamp,
) -> Result<(), Error> {
    let engine = store
        .engine_for(&record.workflow_id, record.workflow_version)
        .await?;
    let labels = Labels::new(&engine.workflow, output.language);
    let roles = role.map(|r| vec![r]);
    let entries = store.records_of(&record.id).await?;
    let view = CaseView::build(labels, record, &entries, roles.as_deref(), now);
    let links = store.links(&record.id).await?;
    let others: Vec<&CaseRecord> = links.iter().map(|l| &l.case).collect();
    let engines = store.engines_of(others).await?;
    let links: Vec<LinkLine> = links
        .iter()
        .map(|l| {
            let labels = engines
                .get(&(l.case.workflow_id.clone(), l.case.workflow_version))
                .map(|e| Labels::new(&e.workflow, output.language));
            LinkLine::build(output.language, l, labels)
        })
        .collect();
    if output.json {
        let mut document = json!(view);
        document["links"] = json!(links);
        println!("{document}");
        return Ok(());
    }
    print!("{}", case_text(&view, &links, labels, role));
    Ok(())
}

/// `case show` for people: the case, its fields and deadlines, and the next steps.
pub fn case_text(
    view: &CaseView,
    links: &[LinkLine],
    labels: Labels<'_>,
    role: Option<&str>,
) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} — {} ({} {})",
        labels.msg("case"),
        view.business_key,
        view.workflow.label,
        labels.msg("version"),
        view.workflow_version
    );
    let _ = writeln!(
        out,
        "  {}: {} · id: {}",
        labels.msg("organisation"),
        view.organisation,
        view.id
    );
    let _ = writeln!(
        out,
        "  {}: {}{} · {} {}{}",
        labels.msg("stage"),
        view.stage.label,
        view.phase
            .as_ref()
            .map(|p| format!(" ({})", p.label))
            .unwrap_or_default(),
        labels.msg("revision"),
        view.revision,
        if view.closed {
            format!(" · {}", labels.msg("closed"))
        } else {
            String::new()
        }
    );
    for party in &view.parties {
        let members: Vec<String> = party
            .organisations
            .iter()
            .map(|m| {
                let mut text = m.organisation.clone();
                if m.lead && party.organisations.len() > 1 {
                    text.push_str(&format!(" ({})", labels.msg("party-lead")));
                }
                if m.invited {
                    text.push_str(&format!(" ({})", labels.msg("party-invited")));
                }
                text
            })
            .collect();
        let _ = writeln!(out, "  {}: {}", party.party.label, members.join(", "));
    }
    for link in links {
        let _ = writeln!(
            out,
            "  {}: {} ({}, {})",
            link.relation, link.business_key, link.organisation, link.stage.label
        );
    }
    for field in &view.fields {
        let _ = writeln!(out, "  {}: {}", field.field.label, field.value);
    }
    for kind in view.records.iter().filter(|k| !k.rows.is_empty()) {
        let _ = writeln!(out, "  {}:", kind.record.label);
        for (n, row) in kind.rows.iter().enumerate() {
            let values: Vec<String> = kind
                .columns
                .iter()
                .zip(row)
                .filter(|(_, value)| !value.is_empty())
                .map(|(column, value)| format!("{} {value}", column.label))
                .collect();
            let _ = writeln!(out, "    {}. {}", n + 1, values.join(" · "));
        }
        for total in &kind.totals {
            let _ = writeln!(
                out,
                "    {}: {}",
                catalogue::message(
                    labels.language,
                    "total-of",
                    &[("field", &total.field.label)]
                ),
                total.value
            );
        }
        for left in &kind.remaining {
            let _ = writeln!(
                out,
                "    {}: {}",
                catalogue::message(
                    labels.language,
                    "remaining-of",
                    &[("field", &left.field.label)]
                ),
                left.value
            );
        }
    }
    for obligation in &view.obligations {
        let status = if obligation.overdue {
            labels.msg("overdue")
        } else {
            labels.msg("pending")
        };
        let provisional = if obligation.provisional {
            format!("; {}", labels.provisional_note())
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  {}: {} ({status}{provisional})",
            obligation.label, obligation.due
        );
    }
    if !view.missing_documents.is_empty() {
        let missing: Vec<&str> = view
            .missing_documents
            .iter()
            .map(|d| d.label.as_str())
            .collect();
        let _ = writeln!(
            out,
            "  {}: {}",
            labels.msg("documents-missing"),
            missing.join(", ")
        );
    }
    let for_role = role
        .map(|r| format!(" {} {}", labels.msg("for-role"), labels.role(r).label))
        .unwrap_or_default();
    if view.actions.is_empty() {
        let _ = writeln!(out, "  {}{for_role}", labels.msg("no-next-step"));
    } else {
        let _ = writeln!(out, "  {}{for_role}:", labels.msg("next-steps"));
        for action in &view.actions {
            let mark = if action.ready {
                labels.msg("ready")
            } else {
                labels.msg("not-ready")
            };
            let roles: Vec<&str> = action.roles.iter().map(|r| r.label.as_str()).collect();
            let reason = if action.comment_required {
                format!(" · {}", labels.msg("reason-required"))
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "    [{mark}] {} → {} ({}; {}){reason}",
                action.transition.label,
                action.to.label,
                roles.join(", "),
                action.transition.id
            );
            for need in &action.needs {
                let _ = writeln!(out, "           · {}", need.text);
            }
            for approval in &action.approvals {
                let line = match &approval.approved_by {
                    Some(name) => catalogue::message(
                        labels.language,
                        "web-approved-by",
                        &[("role", &approval.role.label), ("name", name)],
                    ),
                    None => catalogue::message(
                        labels.language,
                        "web-awaiting-approval",
                        &[("role", &approval.role.label)],
                    ),
                };
                let _ = writeln!(out, "           · {line}");
            }
        }
    }
    out
}

/// How a command's result is printed.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
    pub language: Language,
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List notification messages and their delivery state.
    List {
        /// Only messages that failed or are dead.
        #[arg(long)]
        failed: bool,
        /// Only the messages of one case.
        #[arg(long, value_name = "CASE")]
        case: Option<String>,
    },
    /// Deliver a failed or dead message again.
    Retry {
        /// The message's key, as `swakelola outbox list --failed` shows it.
        #[arg(value_name = "KEY")]
        key: String,
    },
}

pub fn outbox(database: &Database, command: &OutboxCommand) -> ExitCode {
    runtime().block_on(async {
        let result = async {
            let store = open_store(database).await?;
            match command {
                OutboxCommand::List { failed, case } => {
                    let messages = store.outbox(case.as_deref(), *failed, None).await?;
                    if database.json {
                        println!("{}", json!(messages));
                    } else if messages.is_empty() {
                        println!(
                            "{}",
                            catalogue::message(Language::from(database.lang), "outbox-none", &[])
                        );
                    } else {
                        for m in messages {
                            let error =
                                m.last_error.map(|e| format!("  ({e})")).unwrap_or_default();
                            println!(
                                "{:<8} {:<8} {} {:<2} {:<40} {}{error}",
                                m.state,
                                m.channel,
                                catalogue::message(Language::from(database.lang), "attempts", &[]),
                                m.attempts,
                                m.recipient,
                                m.key
                            );
                        }
                    }
                }
                OutboxCommand::Retry { key } => {
                    store.outbox_retry(key, Timestamp::now()).await?;
                    println!(
                        "{}",
                        catalogue::message(
                            Language::from(database.lang),
                            "outbox-retried",
                            &[("key", &format!("`{key}`"))]
                        )
                    );
                }
            }
            Ok::<_, Error>(())
        }
        .await;
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => fail(&error, database, None),
        }
    })
}

#[derive(Debug, Subcommand)]
pub enum TimerCommand {
    /// List timers: when each falls due, how often it was tried, and why it failed.
    List {
        /// Only timers that failed at least once or were set aside (dead).
        #[arg(long)]
        failed: bool,
        /// At most this many timers.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
    },
    /// Make a failed or dead timer pending again once its cause is fixed; the next runner
    /// round fires it.
    Retry {
        /// The case's id (as `timer list` shows it).
        #[arg(value_name = "CASE")]
        case: String,
        /// The timer's key (as `timer list` shows it).
        #[arg(value_name = "KEY")]
        key: String,
    },
}

pub fn timer(database: &Database, command: &TimerCommand) -> ExitCode {
    runtime().block_on(async {
        let result = async {
            let store = open_store(database).await?;
            match command {
                TimerCommand::List { failed, limit } => {
                    let timers = store.timers(*failed, *limit).await?;
                    if database.json {
                        println!("{}", json!(timers));
                    } else if timers.is_empty() {
                        let id = if *failed {
                            "timer-none-failed"
                        } else {
                            "timer-none"
                        };
                        println!(
                            "{}",
                            catalogue::message(Language::from(database.lang), id, &[])
                        );
                    } else {
                        for t in timers {
                            let error = t
                                .last_error
                                .map(|e| format!("\n         {e}"))
                                .unwrap_or_default();
                            println!(
                                "{:<8} {} {} {:<2} {} {}{error}",
                                t.state,
                                t.due_at,
                                catalogue::message(Language::from(database.lang), "attempts", &[]),
                                t.attempts,
                                t.case_id,
                                t.key
                            );
                        }
                    }
                }
                TimerCommand::Retry { case, key } => {
                    store.timer_retry(case, key).await?;
                    println!(
                        "{}",
                        catalogue::message(
                            Language::from(database.lang),
                            "timer-retried",
                            &[("key", &format!("`{key}`")), ("case", case)]
                        )
                    );
                }
            }
            Ok::<_, Error>(())
        }
        .await;
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => fail(&error, database, None),
        }
    })
}

/// `swakelola agenda`: what falls due, and which reminders and escalations go out, in the
/// coming days — plus anything already overdue that no runner has handled yet.
pub fn agenda(database: &Database, days: u32) -> ExitCode {
    let language: Language = database.lang.into();
    runtime().block_on(async {
        let result = async {
            let store = open_store(database).await?;
            let now = Timestamp::now();
            let until = now
                .checked_add(jiff::SignedDuration::from_hours(24 * i64::from(days)))
                .unwrap_or(now);
            let agenda = store.agenda(until, 10_000, None).await?;
            let mut entries = Vec::new();
            let mut lines = Vec::new();
            for (timer, record, engine) in agenda {
                let labels = Labels::new(&engine.workflow, language);
                let Some(entry) = AgendaEntry::build(labels, &record, &timer.key, now) else {
                    continue;
                };
                lines.push(agenda_line(&entry, &engine.calendar, language));
                entries.push(entry);
            }
            if database.json {
                println!("{}", json!(entries));
            } else if lines.is_empty() {
                let days = days.to_string();
                println!(
                    "{}",
                    catalogue::message(language, "agenda-nothing-due", &[("days", days.as_str())])
                );
            } else {
                for line in lines {
                    println!("{line}");
                }
            }
            Ok::<_, Error>(())
        }
        .await;
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => fail(&error, database, None),
        }
    })
}

pub fn partnership(database: &Database, command: &PartnershipCommand) -> ExitCode {
    let language: Language = database.lang.into();
    let PartnershipCommand::Show { case } = command;
    runtime().block_on(async {
        let result = async {
            let store = open_store(database).await?;
            let id = store.resolve_case(case, None).await?;
            let view = series_view(&store, &id, language).await?;
            if database.json {
                println!("{}", json!(view));
            } else {
                print!("{}", series_text(&view, language));
            }
            Ok::<_, Error>(())
        }
        .await;
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => fail(&error, database, None),
        }
    })
}

/// The partnership `case_id` belongs to, year on year, and where it was replicated.
pub(crate) async fn series_view(
    store: &SqlStore,
    case_id: &str,
    language: Language,
) -> Result<SeriesView, Error> {
    let series = store.series(case_id).await?;
    let cases: Vec<&CaseRecord> = series.chain.iter().chain(&series.replications).collect();
    let engines = store.engines_of(cases).await?;
    Ok(SeriesView::build(&series, |c| {
        engines
            .get(&(c.workflow_id.clone(), c.workflow_version))
            .map(|e| Labels::new(&e.workflow, language))
    }))
}

/// `partnership show` for people: one line per year, then the replications.
pub(crate) fn series_text(view: &SeriesView, language: Language) -> String {
    use std::fmt::Write as _;
    let msg = |id: &str| catalogue::message(language, id, &[]);
    let row_text = |row: &swakelola_view::SeriesRow| {
        let mut parts = vec![
            row.fiscal_year
                .map_or_else(|| "—".to_owned(), |y| y.to_string()),
            format!("{} ({})", row.business_key, row.organisation),
            row.stage.label.clone(),
        ];
        for amount in &row.amounts {
            let mut text = format!("{} {}", amount.field.label, amount.text);
            if let Some(growth) = &amount.growth {
                text.push_str(&format!(" ({growth})"));
            }
            parts.push(text);
        }
        parts.join(" · ")
    };
    let mut out = String::new();
    let years = view.years.len().to_string();
    let _ = writeln!(
        out,
        "{}",
        catalogue::message(language, "series-heading", &[("years", years.as_str())])
    );
    for row in &view.years {
        let _ = writeln!(out, "  {}", row_text(row));
    }
    if !view.replications.is_empty() {
        let _ = writeln!(out, "{}:", msg("series-replications"));
        for row in &view.replications {
            let _ = writeln!(out, "  {}", row_text(row));
        }
    }
    out
}

/// What `case reassign` was asked to do.
struct Reassignment<'a> {
    role: &'a str,
    organisation: &'a str,
    workflow: Option<&'a str>,
    replacing: Option<&'a str>,
    contacts: &'a [String],
    acting: &'a Acting,
}

/// `case reassign`: the same contact change on every open case of an organisation, each case
/// in its own transaction. The idempotency key of each case's change is derived from the
/// request, so running the same command again (after a crash, or by mistake) changes nothing
/// more.
async fn reassign(
    store: &SqlStore,
    output: Output,
    request: Reassignment<'_>,
    now: Timestamp,
) -> Result<ExitCode, Error> {
    let contacts: Vec<swakelola_core::state::ContactEntry> = request
        .contacts
        .iter()
        .map(|value| {
            let (name, address) = name_and_address(value);
            swakelola_core::state::ContactEntry {
                name: name.to_owned(),
                address: address.to_owned(),
            }
        })
        .collect();
    let request_key = sha256_hex(
        json!({
            "role": request.role,
            "contacts": request.contacts,
            "replacing": request.replacing,
            "by": [&request.acting.role, &request.acting.actor],
        })
        .to_string()
        .as_bytes(),
    );
    let cases = store
        .cases(&CaseFilter {
            organisation: Some(request.organisation.to_owned()),
            workflow_id: request.workflow.map(str::to_owned),
            limit: 10_000,
            ..CaseFilter::default()
        })
        .await?;
    let engines = store.engines_of(&cases).await?;
    let mut changed = Vec::new();
    let mut refused = 0usize;
    for case in &cases {
        if case.state.is_closed() {
            continue;
        }
        let current = case.parties.contacts.get(request.role);
        if let Some(address) = request.replacing
            && !current.is_some_and(|contacts| contacts.iter().any(|c| c.address == address))
        {
            continue;
        }
        let command = CaseCommand {
            case_id: case.id.clone(),
            actor: Actor::new(request.acting.actor.clone(), request.acting.role.clone()),
            action: Action::SetContacts {
                role: request.role.to_owned(),
                contacts: contacts.clone(),
            },
            expected_revision: Some(case.state.revision),
            idempotency_key: Some(format!("reassign:{}:{}", &request_key[..32], case.id)),
            content: None,
        };
        let engine = engines.get(&(case.workflow_id.clone(), case.workflow_version));
        match store.execute(&command, now).await {
            Ok(applied) => {
                if applied.event.is_some() {
                    changed.push(json!({"case": case.id, "business_key": case.business_key, "revision": applied.case.state.revision}));
                }
                if !output.json {
                    let what = catalogue::message(output.language, "applied-contacts-changed", &[]);
                    print_applied(store, &applied, output, &what).await?;
                }
            }
            // An outage ends the run: the cases not reached are changed by running it again.
            Err(error @ (Error::Database(_) | Error::Migration(_))) => return Err(error),
            Err(error) => {
                refused += 1;
                let labels = engine.map(|e| Labels::new(&e.workflow, output.language));
                eprintln!(
                    "{}: {}",
                    case.business_key,
                    refusal::error(refusal::Names::new(output.language, labels), &error)
                );
            }
        }
    }
    let total = cases.iter().filter(|c| !c.state.is_closed()).count();
    let total = total.to_string();
    if output.json {
        println!("{}", json!({"changed": changed, "refused": refused}));
    } else {
        println!(
            "{}",
            catalogue::message(
                output.language,
                "reassign-summary",
                &[
                    ("changed", &changed.len().to_string()),
                    ("refused", &refused.to_string()),
                    ("total", &total),
                ],
            )
        );
    }
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// One agenda line: `! 24 Desember 2024 08.00  DP3A-2025-001    pengingat: Tenggat tahap
/// «Audiensi» (jatuh tempo 24 Desember 2024) → Pimpinan Ormas`. `!` marks what is due now.
fn agenda_line(entry: &AgendaEntry, calendar: &Calendar, language: Language) -> String {
    let recipients: Vec<&str> = entry.recipients.iter().map(|r| r.label.as_str()).collect();
    let due = entry
        .due
        .as_ref()
        .map(|due| {
            let due = due.to_string();
            let args = [("due", due.as_str())];
            let text = if entry.provisional {
                catalogue::message(language, "agenda-line-due-provisional", &args)
            } else {
                catalogue::message(language, "agenda-line-due", &args)
            };
            format!(" ({text})")
        })
        .unwrap_or_default();
    format!(
        "{} {}  {:<16} {}: {}{due} → {}",
        if entry.due_now { "!" } else { " " },
        local_time(entry.at, calendar, language),
        entry.business_key,
        entry.what,
        entry
            .obligation
            .clone()
            .unwrap_or_else(|| entry.stage.label.clone()),
        if recipients.is_empty() {
            "-".to_owned()
        } else {
            recipients.join(", ")
        },
    )
}

/// What `case verify` says of a case's hash chain.
fn verification_line(verification: &swakelola_store::Verification, language: Language) -> String {
    let events = verification.events.to_string();
    match verification.first_tampered {
        None => catalogue::message(language, "verify-intact", &[("events", events.as_str())]),
        Some(seq) => catalogue::message(
            language,
            "verify-tampered",
            &[
                ("event", seq.to_string().as_str()),
                ("events", events.as_str()),
            ],
        ),
    }
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a token; its secret is printed once and stored only as a hash.
    ///
    /// Example: swakelola token create --name "Budi Santoso" --organisation dp3a-palembang
    /// --role ppk --role pa_kpa --expires-in 90
    Create {
        /// Who holds it; recorded as the actor of everything done with it.
        #[arg(long)]
        name: String,
        /// The organisation it acts for (as named in the parties of cases).
        #[arg(long)]
        organisation: String,
        /// A workflow role it may act in, or `admin` to manage workflows and tokens; repeat
        /// for several.
        #[arg(long = "role", required = true, value_name = "ROLE")]
        roles: Vec<String>,
        /// Days until it stops working; without it, it works until revoked.
        #[arg(long, value_name = "DAYS")]
        expires_in: Option<u32>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id; it stops working at once.
    Revoke {
        /// The token's id, as `swakelola token list` shows it (never its secret).
        #[arg(value_name = "ID")]
        id: String,
    },
}

pub fn token(database: &Database, command: &TokenCommand) -> ExitCode {
    runtime().block_on(async {
        let result = async {
            let store = open_store(database).await?;
            let now = Timestamp::now();
            match command {
                TokenCommand::Create {
                    name,
                    organisation,
                    roles,
                    expires_in,
                } => {
                    let expires_at = match expires_in {
                        Some(days) if *days > 0 => Some(
                            now.checked_add(jiff::SignedDuration::from_hours(
                                24 * i64::from(*days),
                            ))
                            .map_err(|_| Error::from(swakelola_core::Rejection::DateOutOfRange))?,
                        ),
                        Some(_) => {
                            return Err(Error::InvalidRequest(Invalid::ExpiryNotInFuture));
                        }
                        None => None,
                    };
                    let (token, secret) = store
                        .create_token(name, organisation, roles, expires_at, now)
                        .await?;
                    if database.json {
                        println!("{}", json!({ "token": token, "secret": secret }));
                    } else {
                        println!("{secret}");
                        let language = Language::from(database.lang);
                        let expires = token
                            .expires_at
                            .map(|at| {
                                catalogue::message(
                                    language,
                                    "token-active-until",
                                    &[("at", &at.to_string())],
                                )
                            })
                            .unwrap_or_else(|| catalogue::message(language, "token-active", &[]));
                        eprintln!(
                            "{}",
                            catalogue::message(
                                language,
                                "token-created",
                                &[
                                    ("id", &token.id),
                                    ("name", &token.name),
                                    ("roles", &token.roles.join(", ")),
                                    ("organisation", &token.organisation),
                                    ("status", &expires),
                                ]
                            )
                        );
                    }
                }
                TokenCommand::List => {
                    let tokens = store.tokens().await?;
                    if database.json {
                        println!("{}", json!(tokens));
                    } else if tokens.is_empty() {
                        println!(
                            "{}",
                            catalogue::message(Language::from(database.lang), "token-none", &[])
                        );
                    }
                    if !database.json {
                        for t in &tokens {
                            let language = Language::from(database.lang);
                            let status = if t.revoked_at.is_some() {
                                catalogue::message(language, "token-revoked", &[])
                            } else if t.expires_at.is_some_and(|at| at <= now) {
                                catalogue::message(language, "token-expired", &[])
                            } else {
                                t.expires_at.map_or_else(
                                    || catalogue::message(language, "token-active", &[]),
                                    |at| {
                                        catalogue::message(
                                            language,
                                            "token-active-until",
                                            &[("at", &at.to_string())],
                                        )
                                    },
                                )
                            };
                            println!(
                                "{}  {}  {}  [{}]  {status}",
                                t.id,
                                t.organisation,
                                t.name,
                                t.roles.join(", ")
                            );
                        }
                    }
                }
                TokenCommand::Revoke { id } => {
                    let token = store.revoke_token(id, now).await?.ok_or_else(|| {
                        Error::InvalidRequest(Invalid::NoToken { id: id.clone() })
                    })?;
                    if database.json {
                        println!("{}", json!(token));
                    } else {
                        println!(
                            "{}",
                            catalogue::message(
                                Language::from(database.lang),
                                "token-revoked-now",
                                &[("id", &token.id), ("name", &token.name)]
                            )
                        );
                    }
                }
            }
            Ok(())
        }
        .await;
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => fail(&error, database, None),
        }
    })
}
