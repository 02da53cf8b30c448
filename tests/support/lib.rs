//! Shared helpers for the end-to-end tests in tests/: find (or build) the real `swakelola`
//! binary and run it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `swakelola` binary Cargo built for these tests. The tests belong to the runner crate,
/// so `cargo test` builds the binary before it runs them and it sits next to their
/// `deps/` folder (the path Cargo also passes as `CARGO_BIN_EXE_swakelola`); nothing is built
/// here.
pub fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        // Test executables live in target/<profile>/deps/; binaries one level up.
        let exe = std::env::current_exe().expect("test executable path");
        let binary = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>")
            .join(format!("swakelola{}", std::env::consts::EXE_SUFFIX));
        assert!(
            binary.exists(),
            "{} is missing; run the tests with `cargo test` (which builds it first)",
            binary.display()
        );
        binary
    })
}

/// Runs `swakelola ARGS` from the repository root.
pub fn swakelola(args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .current_dir(root())
        .output()
        .expect("run swakelola")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs `swakelola ARGS` against the database at `url`, from `dir`.
pub fn swakelola_in(dir: &Path, url: &str, args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .current_dir(dir)
        .env("SWAKELOLA_DATABASE_URL", url)
        .output()
        .expect("run swakelola")
}

/// A fresh, empty PostgreSQL database (see `swakelola_testkit::postgres_admin_url` for where
/// the server comes from), or `None` when PostgreSQL tests are skipped explicitly.
pub fn fresh_postgres_database() -> Option<String> {
    let admin_url = swakelola_testkit::postgres_admin_url()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    Some(
        runtime
            .block_on(swakelola_store::SqlStore::create_scratch_database(
                &admin_url,
            ))
            .expect("create a PostgreSQL test database"),
    )
}

/// A new empty folder, removed when the test process ends (see
/// `swakelola_testkit::scratch_dir`).
pub fn temp_dir(prefix: &str) -> PathBuf {
    swakelola_testkit::scratch_dir(prefix)
}

/// A folder and a database the binary runs against.
#[derive(Debug)]
pub struct Session {
    pub dir: PathBuf,
    pub url: String,
    /// Environment every command of this session gets.
    pub env: Vec<(String, String)>,
}

impl Session {
    /// A fresh SQLite database in a new folder.
    pub fn sqlite(prefix: &str) -> Self {
        let dir = temp_dir(prefix);
        let url = format!("sqlite://{}", dir.join("swakelola.db").display());
        Self {
            dir,
            url,
            env: Vec::new(),
        }
    }

    /// Lets webhook contacts point to this machine (test receivers listen on loopback,
    /// which the default policy refuses).
    pub fn allowing_loopback_webhooks(mut self) -> Self {
        self.env
            .push(("SWAKELOLA_WEBHOOK_ALLOW".into(), "127.0.0.0/8".into()));
        self
    }

    /// A fresh PostgreSQL database (see [`fresh_postgres_database`]).
    pub fn postgres(prefix: &str) -> Option<Self> {
        let url = fresh_postgres_database()?;
        Some(Self {
            dir: temp_dir(prefix),
            url,
            env: Vec::new(),
        })
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(binary())
            .args(args)
            .current_dir(&self.dir)
            .env("SWAKELOLA_DATABASE_URL", &self.url)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("run swakelola")
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "swakelola {args:?} failed:\n{}",
            stderr(&output)
        );
        stdout(&output)
    }

    /// Starts `swakelola ARGS` in the background (stdout and stderr captured).
    pub fn spawn(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Child {
        Command::new(binary())
            .args(args)
            .current_dir(&self.dir)
            .env("SWAKELOLA_DATABASE_URL", &self.url)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start swakelola")
    }

    /// Deploys the Swakelola workflow and opens a fiscal-year-2026 case with `contacts`
    /// (`ROLE=ADDRESS`) whose audience was recorded on Friday 29 August 2025, two days before
    /// the KAK deadline (31 August 2025). That deadline (to pimpinan_ormas, fasilitator), its
    /// escalation (to tim_persiapan, ppk) and the first overdue reminder (to pimpinan_ormas,
    /// fasilitator, tim_persiapan) are due at once. The CLI always acts now, so the past
    /// commands go through the store. Returns the case id.
    pub fn case_with_due_work(&self, contacts: &[&str]) -> String {
        use swakelola_store::{Contact, Parties, SqlStore};

        let workflow = root().join("workflows/swakelola-tipe-3.yaml");
        self.ok(&["workflow", "deploy", workflow.to_str().unwrap()]);
        let mut parties = Parties::default();
        for contact in contacts {
            let (role, address) = contact.split_once('=').expect("ROLE=ADDRESS");
            parties
                .contacts
                .entry(role.to_owned())
                .or_default()
                .push(Contact {
                    name: String::new(),
                    address: address.to_owned(),
                });
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let allowed: Vec<&str> = self
                .env
                .iter()
                .filter(|(name, _)| name == "SWAKELOLA_WEBHOOK_ALLOW")
                .map(|(_, value)| value.as_str())
                .collect();
            let policy = swakelola_store::input::WebhookPolicy::from_allow_list(&allowed).unwrap();
            let store = SqlStore::connect(&self.url)
                .await
                .unwrap()
                .with_webhook_policy(policy);
            overdue_kak_case(&store, "K-1", parties).await
        })
    }
}

/// Opens a fiscal-year-2026 case `key` of the deployed Swakelola workflow with `parties`, and
/// records its audience on Friday 29 August 2025, two days before the KAK deadline (31 August
/// 2025): on the real clock that deadline, its escalation and the first overdue reminder are
/// due. Through the store, since the CLI always acts now. Returns the case id.
pub async fn overdue_kak_case(
    store: &swakelola_store::SqlStore,
    key: &str,
    parties: swakelola_store::Parties,
) -> String {
    use swakelola_core::Actor;
    use swakelola_core::step::Action;
    use swakelola_store::{CaseCommand, OpenCase, Store};

    let entered: jiff::Timestamp = "2025-08-29T03:00:00Z".parse().unwrap();
    let fields = [
        ("nama_kegiatan", "Pendampingan"),
        ("instansi", "DP3A Kota Palembang"),
        ("ormas", "Yayasan Intan Maharani"),
        ("tahun_anggaran", "2026"),
    ];
    let id = store
        .open(
            &OpenCase {
                origin: None,
                workflow_id: "swakelola-tipe-3".into(),
                organisation: "dp3a-palembang".into(),
                business_key: key.into(),
                actor: Actor::new("Siti", "pimpinan_ormas"),
                fields: fields
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
                parties,
            },
            entered,
        )
        .await
        .unwrap()
        .case
        .id;
    let content = b"notulen".to_vec();
    let command = |actor: Actor, action: Action, content: Option<Vec<u8>>| CaseCommand {
        case_id: id.clone(),
        actor,
        action,
        expected_revision: None,
        idempotency_key: None,
        content,
    };
    let attach = Action::Attach {
        document_type: "notulen_audiensi".into(),
        file_name: "notulen.pdf".into(),
        sha256: swakelola_store::sha256_hex(&content),
        size: content.len() as u64,
    };
    store
        .execute(
            &command(Actor::new("Rina", "fasilitator"), attach, Some(content)),
            entered,
        )
        .await
        .unwrap();
    let fire = Action::Fire {
        transition: "catat_audiensi".into(),
        comment: None,
    };
    store
        .execute(
            &command(Actor::new("Siti", "pimpinan_ormas"), fire, None),
            entered,
        )
        .await
        .unwrap();
    id
}

/// Reads the child's JSON log lines until `event` appears; returns that line.
pub fn wait_for_event(lines: &mpsc::Receiver<String>, event: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no `{event}` log line within 30 s"));
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&line)
            && value["event"] == event
        {
            return value;
        }
    }
}

pub fn log_lines(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let stderr = child.stderr.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    receiver
}

/// Stops a background `swakelola run` with SIGTERM; it must exit 0.
pub fn terminate(child: std::process::Child) -> Output {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "graceful shutdown exits 0:\n{}",
        stderr(&output)
    );
    output
}

pub use swakelola_testkit::{PgCluster, own_postgres_cluster};
