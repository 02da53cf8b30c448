//! `swakelola`: the command administrators and staff use.
//!
//! This binary is a thin shell: it parses the command line, calls the definition loader, the
//! store and the core, reads the clock once per command, and prints results for people (Indonesian first) or for machines (`--format
//! json`). It must never decide anything about a case itself: every rule lives in
//! `swakelola-core`.

mod cases;
mod delivery;
mod demo;
mod help;
mod messages;
mod migrate;
mod runner;
mod simulate;
mod users;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use swakelola_core::format::Language;
use swakelola_definition::{Bundle, Diagnostic, diagnostic, graph, load};
use swakelola_view::catalogue;

/// Swakelola Tipe III workflow engine: keeps government–civil-society partnerships on time.
///
/// Workflows are YAML files (see workflows/ and the README). Start with
/// `swakelola validate workflows/` to check them, `swakelola workflow deploy FILE` to store
/// one, then `swakelola case open …`, `case show`, `case fire`. Cases live in SQLite
/// (`swakelola.db` in this folder) unless --database-url says otherwise.
///
/// Exit codes: 0 done, 1 refused / invalid / not found, 2 wrong usage, 3 database unavailable.
#[derive(Debug, Parser)]
#[command(name = "swakelola", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    database: cases::Database,
    /// A YAML file with defaults for options not given as flags or environment variables
    /// (keys as the long flags with `_`: database_url, lang, webhook_allow, poll, lease, batch,
    /// smtp_url, smtp_from, webhook_secret, metrics, max_attempts, retry_base, api, listen,
    /// delivery_timeout, grace, max_fires_per_case, public_url).
    #[arg(long, global = true, env = "SWAKELOLA_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log format of `run` and `serve` (on stderr): one JSON object per line, or text for
    /// people. The level comes from SWAKELOLA_LOG (default `info`), e.g. `debug`.
    #[arg(long, global = true, env = "SWAKELOLA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Json,
    Text,
}

/// Logs go to stderr, so that stdout stays for results (and for the `log` channel).
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWAKELOLA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        LogFormat::Text => builder.with_ansi(false).init(),
    }
}

/// The optional configuration file.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    database_url: Option<String>,
    lang: Option<cases::Lang>,
    webhook_allow: Option<Vec<String>>,
    public_url: Option<String>,
    delivery_timeout: Option<u64>,
    grace: Option<u64>,
    max_fires_per_case: Option<u32>,
    poll: Option<u64>,
    lease: Option<u64>,
    batch: Option<u32>,
    smtp_url: Option<String>,
    smtp_from: Option<String>,
    webhook_secret: Option<String>,
    metrics: Option<std::net::SocketAddr>,
    max_attempts: Option<u32>,
    retry_base: Option<u64>,
    api: Option<bool>,
    listen: Option<std::net::SocketAddr>,
}

/// Fills options that were neither given on the command line nor in the environment from
/// the configuration file: flags and environment win, then the file, then the defaults.
fn apply_config(cli: &mut Cli, matches: &clap::ArgMatches) -> anyhow::Result<()> {
    let Some(path) = &cli.config else {
        return Ok(());
    };
    let text = cases::read_text_bounded(path)
        .map_err(|e| anyhow::anyhow!("cannot use the config file: {e}"))?;
    let config: ConfigFile = swakelola_definition::parse::parse(&path.display().to_string(), &text)
        .map_err(|diagnostic| anyhow::anyhow!("{diagnostic}"))?;
    let unset = |m: &clap::ArgMatches, id: &str| {
        !matches!(
            m.value_source(id),
            Some(clap::parser::ValueSource::CommandLine | clap::parser::ValueSource::EnvVariable)
        )
    };
    if unset(matches, "database_url")
        && let Some(url) = config.database_url
    {
        cli.database.database_url = url;
    }
    if unset(matches, "webhook_allow")
        && let Some(allow) = config.webhook_allow
    {
        cli.database.webhook_allow = allow;
    }
    if unset(matches, "lang")
        && let Some(lang) = config.lang
    {
        cli.database.lang = lang;
    }
    if let (
        Command::Run {
            poll,
            lease,
            batch,
            webhook_secret,
            smtp_url,
            smtp_from,
            metrics,
            max_attempts,
            retry_base,
            api,
            listen,
            delivery_timeout,
            grace,
            max_fires_per_case,
            public_url,
        },
        Some(run),
    ) = (&mut cli.command, matches.subcommand_matches("run"))
    {
        fn fill<T>(target: &mut T, unset: bool, value: Option<T>) {
            if let (true, Some(value)) = (unset, value) {
                *target = value;
            }
        }
        fill(poll, unset(run, "poll"), config.poll);
        fill(lease, unset(run, "lease"), config.lease);
        fill(batch, unset(run, "batch"), config.batch);
        fill(smtp_from, unset(run, "smtp_from"), config.smtp_from);
        fill(
            max_attempts,
            unset(run, "max_attempts"),
            config.max_attempts,
        );
        fill(retry_base, unset(run, "retry_base"), config.retry_base);
        fill(
            webhook_secret,
            unset(run, "webhook_secret"),
            config.webhook_secret.map(Some),
        );
        fill(smtp_url, unset(run, "smtp_url"), config.smtp_url.map(Some));
        fill(metrics, unset(run, "metrics"), config.metrics.map(Some));
        fill(api, unset(run, "api"), config.api);
        fill(listen, unset(run, "listen"), config.listen);
        fill(
            delivery_timeout,
            unset(run, "delivery_timeout"),
            config.delivery_timeout,
        );
        fill(grace, unset(run, "grace"), config.grace);
        fill(
            public_url,
            unset(run, "public_url"),
            config.public_url.map(Some),
        );
        fill(
            max_fires_per_case,
            unset(run, "max_fires_per_case"),
            config.max_fires_per_case,
        );
    } else if let (
        Command::Serve {
            listen,
            public_url,
            smtp_url,
            smtp_from,
        },
        Some(serve),
    ) = (&mut cli.command, matches.subcommand_matches("serve"))
    {
        if unset(serve, "smtp_url")
            && let Some(url) = config.smtp_url
        {
            *smtp_url = Some(url);
        }
        if unset(serve, "smtp_from")
            && let Some(from) = config.smtp_from
        {
            *smtp_from = from;
        }
        if unset(serve, "listen")
            && let Some(address) = config.listen
        {
            *listen = address;
        }
        if unset(serve, "public_url")
            && let Some(url) = config.public_url
        {
            *public_url = Some(url);
        }
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check workflow files (and the calendars next to them); exit 1 if any has errors.
    ///
    /// Give files or folders. A folder's *.yaml/*.yml files are workflows and its
    /// calendars/ folder holds the working-day calendars they use.
    Validate {
        /// Workflow files or folders of workflows.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Output format: readable text on stderr, or one JSON document on stdout.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Treat warnings as errors (exit 1 when there are any).
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Draw a workflow as a Mermaid or Graphviz DOT diagram on stdout.
    ///
    /// Render DOT with: swakelola graph FILE --format dot | dot -Tsvg > workflow.svg
    Graph {
        /// The workflow file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// `mermaid` (renders in GitHub and GitLab markdown) or `dot` (Graphviz).
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
    },
    /// Explain a diagnostic code, e.g. `swakelola explain E023`.
    Explain {
        /// A diagnostic code as `validate` prints it, e.g. E023 or W002.
        #[arg(value_name = "CODE")]
        code: String,
    },
    /// Watch the seed partnership run from audience to closed, in a few seconds.
    ///
    /// Uses a temporary SQLite database and an accelerated clock; nothing is left behind
    /// unless `--save` names a new file to keep it in.
    Demo {
        /// Keep the demo's cases in this new SQLite file (it must not exist yet), to look at
        /// them afterwards with `case`, `partnership show` or `serve`.
        #[arg(long, value_name = "FILE")]
        save: Option<PathBuf>,
    },
    /// Run the daemon: fire due deadlines, reminders and escalations and deliver notifications
    /// until stopped with Ctrl-C or SIGTERM.
    Run {
        /// Longest sleep between two looks at the database, in seconds.
        #[arg(long, default_value_t = 30, value_name = "SECONDS")]
        poll: u64,
        /// How long a claimed timer or message stays reserved for this runner; if the runner
        /// dies, another takes the work over after this long.
        #[arg(long, default_value_t = 60, value_name = "SECONDS")]
        lease: u64,
        /// Timers claimed together and fired in one transaction (one commit for the batch).
        #[arg(long, default_value_t = 100, value_name = "N")]
        batch: u32,
        /// Secret that signs webhook deliveries (`whsec_<base64>`); without it webhook
        /// messages wait in the outbox.
        #[arg(
            long,
            env = "SWAKELOLA_WEBHOOK_SECRET",
            hide_env_values = true,
            value_name = "SECRET"
        )]
        webhook_secret: Option<String>,
        /// SMTP server for email: smtp://user:pass@host:587?tls=required (STARTTLS),
        /// smtps://…:465 (TLS) or smtp://host:25 (a local relay). Without it email messages
        /// wait in the outbox.
        #[arg(
            long,
            env = "SWAKELOLA_SMTP_URL",
            hide_env_values = true,
            value_name = "URL"
        )]
        smtp_url: Option<String>,
        /// Sender of notification emails.
        #[arg(
            long,
            env = "SWAKELOLA_SMTP_FROM",
            default_value = "swakelola <swakelola@localhost>"
        )]
        smtp_from: String,
        /// Serve Prometheus metrics on this address (e.g. 127.0.0.1:9464) at /metrics.
        #[arg(long, env = "SWAKELOLA_METRICS_ADDR", value_name = "ADDR")]
        metrics: Option<std::net::SocketAddr>,
        /// Delivery attempts before a message is dead.
        #[arg(long, default_value_t = 8, value_name = "N")]
        max_attempts: u32,
        /// Wait after a first failed delivery, in seconds; doubles with each failure (≤ 1 h).
        #[arg(long, default_value_t = 30, value_name = "SECONDS")]
        retry_base: u64,
        /// Serve the HTTP API too (see `swakelola serve`), on --listen.
        #[arg(long, env = "SWAKELOLA_API")]
        api: bool,
        /// Address of the HTTP API.
        #[arg(
            long,
            env = "SWAKELOLA_LISTEN",
            default_value = "127.0.0.1:8080",
            value_name = "ADDR"
        )]
        listen: std::net::SocketAddr,
        /// Longest wait for one webhook delivery (connect, send, answer), in seconds. A
        /// receiver that does not answer only delays its own messages.
        #[arg(long, default_value_t = 10, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=300))]
        delivery_timeout: u64,
        /// On SIGTERM or Ctrl-C, how long to wait for work in flight before exiting, in
        /// seconds; what is left is taken over by another runner when its lease ends.
        #[arg(long, default_value_t = 10, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(0..=3600))]
        grace: u64,
        /// Most timers one case may fire at one instant; a case beyond it (a workflow whose
        /// automatic moves loop) is set aside, listed by `swakelola timer list --failed`.
        #[arg(long, default_value_t = 100, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
        max_fires_per_case: u32,
        /// Base URL where people open cases in a browser, e.g. https://swakelola.dp3a.example;
        /// notifications then link to `<URL>/kasus/<business key>`.
        #[arg(long, env = "SWAKELOLA_PUBLIC_URL", value_name = "URL", value_parser = parse_public_url)]
        public_url: Option<String>,
    },
    /// Serve the HTTP API (without firing timers; run `swakelola run` for those, or
    /// `swakelola run --api` for both in one process).
    ///
    /// Every request needs `Authorization: Bearer <token>` (from `swakelola token create`)
    /// except /healthz and /readyz. The API is described at /openapi.json.
    Serve {
        /// Address to listen on; port 0 picks a free port (logged at start).
        #[arg(
            long,
            env = "SWAKELOLA_LISTEN",
            default_value = "127.0.0.1:8080",
            value_name = "ADDR"
        )]
        listen: std::net::SocketAddr,
        /// Base URL where people open the web pages, e.g. https://swakelola.dp3a.example;
        /// with https the session cookie is sent over https only.
        #[arg(long, env = "SWAKELOLA_PUBLIC_URL", value_name = "URL", value_parser = parse_public_url)]
        public_url: Option<String>,
        /// SMTP server through which the pages email the links to set a password (as for
        /// `run`); without it the admin page shows the link to pass on.
        #[arg(
            long,
            env = "SWAKELOLA_SMTP_URL",
            hide_env_values = true,
            value_name = "URL"
        )]
        smtp_url: Option<String>,
        /// Sender of those emails.
        #[arg(
            long,
            env = "SWAKELOLA_SMTP_FROM",
            default_value = "swakelola <swakelola@localhost>"
        )]
        smtp_from: String,
    },
    /// Issue, list and revoke the bearer tokens of the HTTP API.
    #[command(subcommand)]
    Token(cases::TokenCommand),
    /// Create, list, disable and reset the accounts of people who sign in to the web pages.
    #[command(subcommand)]
    User(users::UserCommand),
    /// Run a scenario against a workflow with a virtual clock and print the timeline; exit 1
    /// when an expectation in the scenario fails.
    ///
    /// Nothing is stored: the database is in memory. See workflows/scenarios/ for the format.
    Simulate {
        /// The workflow file (its calendars/ folder is used).
        #[arg(value_name = "WORKFLOW")]
        workflow: PathBuf,
        /// The scenario file.
        #[arg(value_name = "SCENARIO")]
        scenario: PathBuf,
    },
    /// What falls due, and which reminders and escalations go out, in the coming days.
    ///
    /// Lines marked `!` are already due and wait for a runner (`swakelola run`).
    Agenda {
        /// How many days ahead to look (1–366).
        #[arg(long, default_value_t = 14, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=366))]
        days: u32,
    },
    /// Inspect and retry notification messages.
    #[command(subcommand)]
    Outbox(cases::OutboxCommand),
    /// Inspect timers, and retry those that failed or were set aside.
    #[command(subcommand)]
    Timer(cases::TimerCommand),
    /// Database maintenance.
    #[command(subcommand)]
    Db(cases::DbCommand),
    /// Deploy, list and compare workflow versions, and move running cases onto a new one.
    #[command(subcommand)]
    Workflow(cases::WorkflowCommand),
    /// Open, inspect and move cases.
    #[command(subcommand)]
    Case(cases::CaseCommandLine),
    /// Partnerships over the years: the cases that continue one another.
    #[command(subcommand)]
    Partnership(cases::PartnershipCommand),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GraphFormat {
    Mermaid,
    Dot,
}

fn main() -> ExitCode {
    use clap::{CommandFactory, FromArgMatches};
    exit_quietly_on_closed_stdout();
    let args: Vec<String> = std::env::args().collect();
    let language = help::requested_language(&args, std::env::var("SWAKELOLA_LANG").ok().as_deref());
    let args = match language {
        swakelola_core::format::Language::Id => help::help_subcommand(args),
        swakelola_core::format::Language::En => args,
    };
    let matches = help::prepared(Cli::command(), language).get_matches_from(args);
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let Err(error) = apply_config(&mut cli, &matches) {
        eprintln!(
            "{}: {error:#}",
            catalogue::message(language, "error-prefix", &[])
        );
        return ExitCode::from(2);
    }
    if matches!(cli.command, Command::Run { .. } | Command::Serve { .. }) {
        init_logging(cli.log_format);
    }
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!(
                "{}: {error:#}",
                catalogue::message(language, "error-prefix", &[])
            );
            ExitCode::from(2)
        }
    }
}

/// An http(s) URL with a host, for links people click.
fn parse_public_url(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text).map_err(|e| format!("`{text}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("`{text}` is not an http(s) URL with a host"));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

/// `swakelola demo | head -2`: when the reader of stdout goes away, `println!` panics with a
/// broken pipe. Leave as a Unix filter does on SIGPIPE (exit status 141), without a panic
/// message; every other panic is reported as usual.
fn exit_quietly_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let language: Language = cli.database.lang.into();
    // `--json` is honoured by every command that prints a result, and refused (not ignored)
    // by those that print a story or run until stopped.
    if cli.database.json {
        let name = match &cli.command {
            Command::Demo { .. } => "demo",
            Command::Simulate { .. } => "simulate",
            Command::Graph { .. } => "graph",
            Command::Explain { .. } => "explain",
            Command::Run { .. } => "run",
            Command::Serve { .. } => "serve",
            _ => "",
        };
        if !name.is_empty() && !help::uses_global(name, "json") {
            eprintln!(
                "{}: {}",
                catalogue::message(language, "error-prefix", &[]),
                catalogue::message(
                    language,
                    "error-no-json",
                    &[("command", &format!("`swakelola {name}`"))]
                )
            );
            return Ok(ExitCode::from(2));
        }
    }
    match cli.command {
        Command::Validate {
            paths,
            format,
            deny_warnings,
        } => {
            let format = if cli.database.json {
                Format::Json
            } else {
                format
            };
            validate(&paths, format, deny_warnings, language)
        }
        Command::Graph { file, format } => draw(&file, format, language),
        Command::Explain { code } => Ok(explain(&code, language)),
        Command::Demo { save } => {
            cases::runtime().block_on(demo::run(cli.database.lang.into(), save.as_deref()))
        }
        Command::Run {
            poll,
            lease,
            batch,
            webhook_secret,
            smtp_url,
            smtp_from,
            metrics,
            max_attempts,
            retry_base,
            api,
            listen,
            delivery_timeout,
            grace,
            max_fires_per_case,
            public_url,
        } => Ok(cases::run_daemon(
            &cli.database,
            cases::DaemonOptions {
                poll: std::time::Duration::from_secs(poll.max(1)),
                lease: jiff::SignedDuration::from_secs(lease.max(1) as i64),
                batch: batch.max(1),
                webhooks: webhook_secret.as_deref().map(|secret| {
                    delivery::Webhooks::new(
                        secret,
                        std::time::Duration::from_secs(delivery_timeout),
                    )
                }),
                email: match smtp_url {
                    Some(url) => Some(
                        delivery::Email::new(&url, &smtp_from).map_err(|e| anyhow::anyhow!(e))?,
                    ),
                    None => None,
                },
                metrics,
                retry: delivery::RetryPolicy {
                    max_attempts: max_attempts.max(1),
                    base: jiff::SignedDuration::from_secs(retry_base.max(1) as i64),
                },
                api: api.then_some(listen),
                max_fires_per_case,
                grace: std::time::Duration::from_secs(grace),
                public_url,
            },
        )),
        Command::Serve {
            listen,
            public_url,
            smtp_url,
            smtp_from,
        } => {
            let mailer = match smtp_url {
                Some(url) => {
                    Some(delivery::Email::new(&url, &smtp_from).map_err(|e| anyhow::anyhow!(e))?)
                }
                None => None,
            };
            Ok(cases::serve(&cli.database, listen, public_url, mailer))
        }
        Command::Token(command) => Ok(cases::token(&cli.database, &command)),
        Command::User(command) => Ok(users::user(&cli.database, &command)),
        Command::Simulate { workflow, scenario } => {
            simulate_files(&workflow, &scenario, cli.database.lang.into())
        }
        Command::Agenda { days } => Ok(cases::agenda(&cli.database, days)),
        Command::Outbox(command) => Ok(cases::outbox(&cli.database, &command)),
        Command::Timer(command) => Ok(cases::timer(&cli.database, &command)),
        Command::Db(command) => Ok(cases::db(&cli.database, &command)),
        Command::Workflow(command) => Ok(cases::workflow(&cli.database, &command)),
        Command::Case(command) => Ok(cases::case(&cli.database, &command)),
        Command::Partnership(command) => Ok(cases::partnership(&cli.database, &command)),
    }
}

fn validate(
    paths: &[PathBuf],
    format: Format,
    deny_warnings: bool,
    language: Language,
) -> anyhow::Result<ExitCode> {
    let bundle = load(paths)?;
    let failed = bundle.has_errors() || (deny_warnings && !bundle.diagnostics.is_empty());
    match format {
        Format::Json => {
            let report = serde_json::json!({
                "valid": !failed,
                "workflows": bundle.workflows.iter().map(|d| serde_json::json!({
                    "file": d.file,
                    "id": d.workflow.id,
                    "stages": d.workflow.stages.len(),
                    "transitions": d.workflow.transitions.len(),
                })).collect::<Vec<_>>(),
                "calendars": bundle.calendars.iter().map(|(id, c)| serde_json::json!({
                    "id": id,
                    "years": c.covered_years().collect::<Vec<_>>(),
                    "days_off": c.holidays().count(),
                })).collect::<Vec<_>>(),
                "diagnostics": bundle.diagnostics,
            });
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Format::Text => {
            print_diagnostics(&bundle.diagnostics);
            print_summary(&bundle, language);
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print_diagnostics(diagnostics: &[Diagnostic]) {
    let mut stderr = std::io::stderr().lock();
    for diagnostic in diagnostics {
        let _ = writeln!(stderr, "{diagnostic}");
    }
}

fn print_summary(bundle: &Bundle, language: Language) {
    let text = |id: &str, args: &[(&str, &str)]| catalogue::message(language, id, args);
    for definition in &bundle.workflows {
        let workflow = &definition.workflow;
        let label = match language {
            Language::Id => &workflow.label.id,
            Language::En => workflow.label.en.as_ref().unwrap_or(&workflow.label.id),
        };
        println!(
            "ok  {}",
            text(
                "validate-workflow",
                &[
                    ("file", &definition.file),
                    ("workflow", &format!("`{}`", workflow.id)),
                    ("label", label),
                    ("stages", &workflow.stages.len().to_string()),
                    ("transitions", &workflow.transitions.len().to_string()),
                ]
            )
        );
    }
    for (id, calendar) in &bundle.calendars {
        let years: Vec<String> = calendar.covered_years().map(|y| y.to_string()).collect();
        println!(
            "ok  {}",
            text(
                "validate-calendar",
                &[
                    ("calendar", &format!("`{id}`")),
                    (
                        "zone",
                        calendar.time_zone().iana_name().unwrap_or("UTC offset")
                    ),
                    ("days", &calendar.holidays().count().to_string()),
                    ("years", &years.join(", ")),
                ]
            )
        );
    }
    let errors = bundle.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = bundle.diagnostics.len() - errors;
    println!(
        "{}",
        text(
            "validate-summary",
            &[
                ("workflows", &bundle.workflow_files.to_string()),
                ("calendars", &bundle.calendar_files.to_string()),
                ("errors", &errors.to_string()),
                ("warnings", &warnings.to_string()),
            ]
        )
    );
    if errors > 0 {
        let code = bundle
            .diagnostics
            .iter()
            .find(|d| d.is_error())
            .map(|d| d.code)
            .unwrap_or(swakelola_definition::Code::E001);
        println!(
            "{}",
            text("validate-explain", &[("code", &format!("{code:?}"))])
        );
    }
}

fn draw(file: &PathBuf, format: GraphFormat, language: Language) -> anyhow::Result<ExitCode> {
    if file.is_dir() {
        anyhow::bail!(
            "`{}` is a folder; give one workflow file, e.g. workflows/swakelola-tipe-3.yaml",
            file.display()
        );
    }
    let bundle = load(std::slice::from_ref(file))?;
    let Some(definition) = bundle.workflows.first() else {
        print_diagnostics(&bundle.diagnostics);
        eprintln!(
            "{}",
            catalogue::message(
                language,
                "graph-errors-first",
                &[("file", &file.display().to_string())]
            )
        );
        return Ok(ExitCode::FAILURE);
    };
    let text = match format {
        GraphFormat::Mermaid => graph::mermaid(&definition.workflow),
        GraphFormat::Dot => graph::dot(&definition.workflow),
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn explain(code: &str, language: Language) -> ExitCode {
    match diagnostic::explain(code) {
        Some(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        None => {
            eprintln!(
                "{}: {}",
                catalogue::message(language, "error-prefix", &[]),
                catalogue::message(
                    language,
                    "explain-unknown-code",
                    &[
                        ("code", &format!("`{code}`")),
                        ("known", &diagnostic::documented_codes().join(", "))
                    ]
                )
            );
            ExitCode::from(2)
        }
    }
}

fn simulate_files(
    workflow: &std::path::Path,
    scenario: &std::path::Path,
    language: swakelola_core::format::Language,
) -> anyhow::Result<ExitCode> {
    use swakelola_view::catalogue;
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", path.display()))
    };
    let source = read(workflow)?;
    let scenario_text = read(scenario)?;
    let parsed: simulate::Scenario =
        match swakelola_definition::parse::parse(&scenario.display().to_string(), &scenario_text) {
            Ok(parsed) => parsed,
            Err(diagnostic) => {
                eprintln!("{diagnostic}");
                return Ok(ExitCode::FAILURE);
            }
        };
    let calendars = cases::calendar_files(workflow)?;
    let failures = cases::runtime()
        .block_on(async {
            let store = simulate::memory_store().await?;
            simulate::simulate(
                store,
                &workflow.display().to_string(),
                &source,
                &calendars,
                &parsed,
                language,
            )
            .await
        })?
        .failures;
    if failures.is_empty() {
        println!("{}", catalogue::message(language, "simulate-all-met", &[]));
        Ok(ExitCode::SUCCESS)
    } else {
        for failure in &failures {
            eprintln!(
                "{}",
                catalogue::message(language, "simulate-failed", &[("failure", failure)])
            );
        }
        Ok(ExitCode::FAILURE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every command says what it does and every argument what it takes: the help teaches.
    #[test]
    fn every_subcommand_and_argument_is_described() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let here = format!("{path} {}", command.get_name()).trim().to_owned();
            if command.get_about().is_none() && !command.is_hide_set() {
                missing.push(format!("`{here}` has no description"));
            }
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if arg.is_hide_set() || id == "help" || id == "version" {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("`{here}`: argument `{id}` has no description"));
                }
            }
            for sub in command.get_subcommands() {
                if sub.get_name() != "help" {
                    walk(sub, &here, missing);
                }
            }
        }
        // clap's own checks of every subcommand (unique argument names, …), which otherwise
        // run only when that subcommand is used.
        Cli::command().debug_assert();
        let mut missing = Vec::new();
        walk(&Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }

    /// The Indonesian help covers every command and argument the English one describes, and
    /// holds nothing for commands or arguments that no longer exist.
    #[test]
    fn the_help_is_complete_in_indonesian_too() {
        fn walk(
            command: &clap::Command,
            path: &[&str],
            missing: &mut Vec<String>,
            used: &mut std::collections::BTreeSet<String>,
        ) {
            let id = help::command_id(path);
            match swakelola_view::catalogue::help(&id) {
                Some(_) => {
                    used.insert(id.clone());
                }
                None => missing.push(id.clone()),
            }
            for arg in command.get_arguments() {
                let name = arg.get_id().as_str();
                if name == "help" || name == "version" || (arg.is_global_set() && !path.is_empty())
                {
                    continue;
                }
                let own = format!("{id}--{name}");
                let shared = format!("help-arg--{name}");
                match help::argument_text(&id, name) {
                    Some(_) => {
                        used.insert(if swakelola_view::catalogue::help(&own).is_some() {
                            own
                        } else {
                            shared
                        });
                    }
                    None => missing.push(own),
                }
            }
            for sub in command.get_subcommands() {
                let mut path = path.to_vec();
                path.push(sub.get_name());
                walk(sub, &path, missing, used);
            }
        }
        let mut missing = Vec::new();
        let mut used = std::collections::BTreeSet::new();
        walk(&Cli::command(), &[], &mut missing, &mut used);
        assert!(missing.is_empty(), "no Indonesian help for: {missing:?}");
        // clap's own words (headings, --help, --version) are used by every page of help.
        for id in swakelola_view::catalogue::ids(swakelola_view::catalogue::HELP_INDONESIAN) {
            if id.starts_with("help-clap-") {
                assert!(swakelola_view::catalogue::help(&id).is_some());
                used.insert(id);
            }
        }
        let defined = swakelola_view::catalogue::ids(swakelola_view::catalogue::HELP_INDONESIAN);
        let stale: Vec<_> = defined.difference(&used).collect();
        assert!(stale.is_empty(), "Indonesian help for nothing: {stale:?}");
        assert!(used.len() > 100, "{}", used.len());
    }

    /// Global options appear only in the help of the commands that use them, in both
    /// languages, and `swakelola help …` works in Indonesian.
    #[test]
    fn help_shows_only_the_options_a_command_uses() {
        use swakelola_core::format::Language;
        let render = |language: Language, args: &[&str]| {
            let args: Vec<String> = std::iter::once("swakelola")
                .chain(args.iter().copied())
                .map(str::to_owned)
                .collect();
            let args = match language {
                Language::Id => help::help_subcommand(args),
                Language::En => args,
            };
            help::prepared(Cli::command(), language)
                .try_get_matches_from(args)
                .unwrap_err()
                .to_string()
        };
        for language in [Language::Id, Language::En] {
            let validate = render(language, &["validate", "--help"]);
            assert!(!validate.contains("--database-url"), "{validate}");
            assert!(!validate.contains("--log-format"), "{validate}");
            assert!(validate.contains("--lang"), "{validate}");
            let run = render(language, &["run", "--help"]);
            assert!(
                run.contains("--database-url") && run.contains("--log-format"),
                "{run}"
            );
            assert!(!run.contains("--json"), "{run}");
            let open = render(language, &["case", "open", "--help"]);
            assert!(
                open.contains("--database-url") && !open.contains("--log-format"),
                "{open}"
            );
        }
        // clap's own words are Indonesian too, on the top page and below.
        for args in [
            &["--help"][..],
            &["case", "--help"],
            &["case", "open", "--help"],
        ] {
            let page = render(Language::Id, args);
            assert!(page.contains("Cara pakai: swakelola"), "{args:?}: {page}");
            assert!(
                !page.contains("Usage:") && !page.contains("Options:"),
                "{args:?}: {page}"
            );
        }
        assert!(render(Language::Id, &["--help"]).contains("Perintah:"));
        let open = render(Language::Id, &["help", "case", "open"]);
        assert!(open.starts_with("Buka kasus"), "{open}");
        assert!(open.contains("Contoh: swakelola case open"), "{open}");
        assert!(!open.contains("Print help"), "{open}");
        let open = render(Language::En, &["case", "open", "--help"]);
        assert!(open.contains("Example: swakelola case open"), "{open}");
        // Hidden, not refused: a command line may carry every global option.
        let parsed = help::prepared(Cli::command(), Language::Id).try_get_matches_from([
            "swakelola",
            "validate",
            "--database-url",
            "sqlite://x.db",
            "--log-format",
            "text",
            "workflows/",
        ]);
        assert!(parsed.is_ok(), "{parsed:?}");
    }
}
