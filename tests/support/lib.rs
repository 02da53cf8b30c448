//! Shared helpers for the end-to-end tests in tests/: find (or build) the real `swakelola`
//! binary and run it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `swakelola` binary of this build profile, built first if `cargo test` did not.
pub fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        // Test executables live in target/<profile>/deps/; binaries one level up.
        let exe = std::env::current_exe().expect("test executable path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>");
        let binary = profile_dir.join(format!("swakelola{}", std::env::consts::EXE_SUFFIX));
        let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        build.args(["build", "--quiet", "-p", "swakelola", "--bin", "swakelola"]);
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build.current_dir(root()).status().expect("run cargo build");
        assert!(status.success(), "building the swakelola binary failed");
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

/// A fresh, empty PostgreSQL database on the server named by `SWAKELOLA_TEST_POSTGRES_URL`,
/// or `None` (with a note on stderr) when none is configured. With
/// `SWAKELOLA_REQUIRE_POSTGRES=1` a missing server is a test failure, not a skip.
pub fn fresh_postgres_database() -> Option<String> {
    let Ok(admin_url) = std::env::var("SWAKELOLA_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("SWAKELOLA_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "SWAKELOLA_REQUIRE_POSTGRES=1 but SWAKELOLA_TEST_POSTGRES_URL is not set"
        );
        eprintln!("PostgreSQL test did not run: set SWAKELOLA_TEST_POSTGRES_URL to run it");
        return None;
    };
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

/// A new empty folder under the system's temporary directory.
pub fn temp_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
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

    /// Deploys the Swakelola workflow and opens a fiscal-year-2025 case with `contacts`
    /// (`ROLE=ADDRESS`), then records its audience. The KAK deadline of FY 2025 (31 August
    /// 2024) has long passed, so the deadline (to pimpinan_ormas, fasilitator) and its
    /// escalation (to tim_persiapan, ppk) are due at once. Returns the case id.
    pub fn case_with_due_work(&self, contacts: &[&str]) -> String {
        let workflow = root().join("workflows/swakelola-tipe-3.yaml");
        self.ok(&["workflow", "deploy", workflow.to_str().unwrap()]);
        let mut open = vec![
            "case",
            "open",
            "--workflow",
            "swakelola-tipe-3",
            "--key",
            "K-1",
            "--organisation",
            "dp3a-palembang",
            "--field",
            "nama_kegiatan=Pendampingan",
            "--field",
            "instansi=DP3A Kota Palembang",
            "--field",
            "ormas=Yayasan Intan Maharani",
            "--field",
            "tahun_anggaran=2025",
            "--as",
            "pimpinan_ormas",
            "--actor",
            "Siti",
            "--json",
        ];
        for contact in contacts {
            open.extend(["--contact", contact]);
        }
        let opened: serde_json::Value = serde_json::from_str(&self.ok(&open)).unwrap();
        let id = opened["case"]["id"].as_str().unwrap().to_owned();
        std::fs::write(self.dir.join("notulen.pdf"), "notulen").unwrap();
        self.ok(&[
            "case",
            "attach",
            &id,
            "notulen_audiensi",
            "notulen.pdf",
            "--as",
            "fasilitator",
            "--actor",
            "Rina",
        ]);
        self.ok(&[
            "case",
            "fire",
            &id,
            "catat_audiensi",
            "--as",
            "pimpinan_ormas",
            "--actor",
            "Siti",
        ]);
        id
    }
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

/// A throw-away PostgreSQL cluster of our own, for tests that must stop or restart the
/// server (which a shared server cannot allow). Started as the `postgres` user (the server
/// refuses to run as root) on a free loopback port; stopped and removed on drop.
#[derive(Debug)]
pub struct PgCluster {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
}

impl PgCluster {
    /// The newest PostgreSQL server binaries on this machine, if any.
    pub fn binaries() -> Option<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
            .collect();
        found.sort_by_key(|p| {
            p.parent()
                .and_then(|v| v.file_name())
                .and_then(|v| v.to_str())
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0)
        });
        found.pop()
    }

    /// Starts a cluster, or `None` (with a note) when this machine has no server binaries or
    /// cannot run them as `postgres`. With `SWAKELOLA_REQUIRE_POSTGRES=1` that is a failure.
    pub fn start() -> Option<Self> {
        let required = std::env::var("SWAKELOLA_REQUIRE_POSTGRES").as_deref() == Ok("1");
        let Some(bin) = Self::binaries() else {
            assert!(
                !required,
                "SWAKELOLA_REQUIRE_POSTGRES=1 but no PostgreSQL server binaries are installed"
            );
            eprintln!("PostgreSQL test did not run: no server binaries under /usr/lib/postgresql");
            return None;
        };
        let dir = temp_dir("swakelola-pgcluster");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Self { bin, dir, port };
        let _ = Command::new("chown")
            .arg("postgres")
            .arg(&cluster.dir)
            .status();
        let initdb = cluster.as_postgres(&format!(
            "'{}/initdb' -D '{}/data' -U postgres --auth=trust -E UTF8 >'{}/initdb.log' 2>&1",
            cluster.bin.display(),
            cluster.dir.display(),
            cluster.dir.display()
        ));
        if !initdb {
            assert!(
                !required,
                "SWAKELOLA_REQUIRE_POSTGRES=1 but initdb failed (see {})",
                cluster.dir.display()
            );
            eprintln!("PostgreSQL test did not run: initdb as `postgres` failed");
            return None;
        }
        assert!(
            cluster.pg_ctl("start"),
            "pg_ctl start failed: {}",
            cluster.dir.display()
        );
        Some(cluster)
    }

    fn as_postgres(&self, script: &str) -> bool {
        Command::new("su")
            .args(["postgres", "-s", "/bin/sh", "-c", script])
            .status()
            .is_ok_and(|s| s.success())
    }

    fn pg_ctl(&self, action: &str) -> bool {
        self.as_postgres(&format!(
            "'{bin}/pg_ctl' -D '{dir}/data' -l '{dir}/server.log' -w -m fast -o \"-p {port} -k '{dir}' -c listen_addresses=127.0.0.1 -c max_connections=200\" {action} >/dev/null",
            bin = self.bin.display(),
            dir = self.dir.display(),
            port = self.port,
        ))
    }

    /// The URL of the `postgres` database (for creating scratch databases).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn stop(&self) {
        assert!(self.pg_ctl("stop"), "pg_ctl stop failed");
    }

    pub fn restart(&self) {
        assert!(self.pg_ctl("restart"), "pg_ctl restart failed");
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self.pg_ctl("stop");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
