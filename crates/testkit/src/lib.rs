//! Test support shared by every crate's tests: where the PostgreSQL tests find their server.
//!
//! One rule, written once: PostgreSQL tests run wherever PostgreSQL can run. With
//! `SWAKELOLA_TEST_POSTGRES_URL` they use that server; without it, and with the server
//! binaries installed (`/usr/lib/postgresql/*/bin`), the first test that asks starts a
//! throw-away cluster for the whole test process, which a watchdog stops and removes when the
//! process ends. Only `SWAKELOLA_SKIP_POSTGRES=1` skips them, and then every skipped test says
//! so on stderr. A machine that has neither a URL nor the binaries fails the tests with a
//! message that says how to give them one.
//!
//! This crate must never be a dependency of anything but tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The URL of a PostgreSQL server's `postgres` database for tests to create their scratch
/// databases on, or `None` when the tests were told to skip PostgreSQL.
pub fn postgres_admin_url() -> Option<String> {
    static SHARED: OnceLock<Option<String>> = OnceLock::new();
    if let Ok(url) = std::env::var("SWAKELOLA_TEST_POSTGRES_URL") {
        return Some(url);
    }
    if std::env::var("SWAKELOLA_SKIP_POSTGRES").as_deref() == Ok("1") {
        assert!(
            std::env::var("SWAKELOLA_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "SWAKELOLA_REQUIRE_POSTGRES=1 and SWAKELOLA_SKIP_POSTGRES=1 contradict each other"
        );
        skipped();
        return None;
    }
    SHARED
        .get_or_init(|| {
            let cluster = PgCluster::start().unwrap_or_else(|problem| {
                panic!(
                    "the PostgreSQL tests need a server: {problem}. Install PostgreSQL (apt-get install postgresql), \
                     set SWAKELOLA_TEST_POSTGRES_URL=postgres://user@host:port/postgres, \
                     or skip them explicitly with SWAKELOLA_SKIP_POSTGRES=1"
                )
            });
            let url = cluster.url();
            eprintln!(
                "PostgreSQL for this test process: {url} (a throw-away cluster in {})",
                cluster.dir.display()
            );
            cluster.stop_when_process_ends();
            Some(url)
        })
        .clone()
}

/// A new empty folder for one test's files, under a folder of this test process that a
/// watchdog removes when the process ends (tests that fail or are killed leave nothing behind
/// either).
pub fn scratch_dir(prefix: &str) -> PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let root = ROOT.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("swakelola-scratch-{}", std::process::id()));
        std::fs::create_dir_all(&root).expect("create the scratch folder");
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; rm -rf '{root}'",
            pid = std::process::id(),
            root = root.display(),
        );
        run_after_this_process(&script);
        root
    });
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = root.join(format!("{prefix}-{n}"));
    std::fs::create_dir_all(&dir).expect("create a scratch folder");
    dir
}

/// Says that a PostgreSQL test was skipped, on the real stderr: the test harness captures
/// `eprintln!` of passing tests, and a skip must be visible in every run.
fn skipped() {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: a PostgreSQL test did not run (SWAKELOLA_SKIP_POSTGRES=1)"
    );
}

/// A PostgreSQL cluster of a test's own (to stop or restart it), or `None` when PostgreSQL
/// tests are skipped explicitly; fails the test when no cluster can be started.
pub fn own_postgres_cluster() -> Option<PgCluster> {
    if std::env::var("SWAKELOLA_SKIP_POSTGRES").as_deref() == Ok("1") {
        skipped();
        return None;
    }
    Some(PgCluster::start().unwrap_or_else(|problem| {
        panic!("this test needs a PostgreSQL server of its own: {problem}; or skip it with SWAKELOLA_SKIP_POSTGRES=1")
    }))
}

/// A throw-away PostgreSQL cluster, for the shared test server and for tests that must stop
/// or restart their server (which a shared one cannot allow). Runs as the `postgres` user
/// (the server refuses to run as root) on a free loopback port; stopped and removed on drop.
#[derive(Debug)]
pub struct PgCluster {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
    /// Stopped by the watchdog instead of on drop.
    detached: bool,
}

impl PgCluster {
    /// The newest PostgreSQL server binaries on this machine, if any.
    pub fn binaries() -> Option<PathBuf> {
        let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let version = e.file_name().to_str()?.parse().ok()?;
                let bin = e.path().join("bin");
                (bin.join("initdb").exists() && bin.join("pg_ctl").exists())
                    .then_some((version, bin))
            })
            .collect();
        found.sort();
        found.pop().map(|(_, bin)| bin)
    }

    /// Starts a cluster, or says why it cannot.
    pub fn start() -> Result<Self, String> {
        let bin =
            Self::binaries().ok_or("no PostgreSQL server binaries under /usr/lib/postgresql")?;
        let dir = std::env::temp_dir().join(format!(
            "swakelola-pg-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let cluster = Self {
            bin,
            dir,
            port,
            detached: false,
        };
        let _ = Command::new("chown")
            .arg("postgres")
            .arg(&cluster.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let initdb = format!(
            "'{}/initdb' -D '{}/data' -U postgres --auth=trust -E UTF8 >'{}/initdb.log' 2>&1",
            cluster.bin.display(),
            cluster.dir.display(),
            cluster.dir.display()
        );
        if !as_postgres(&initdb) {
            return Err(format!(
                "initdb as the `postgres` user failed (tests must run as root, and the user must exist; see {}/initdb.log)",
                cluster.dir.display()
            ));
        }
        if !cluster.pg_ctl("start") {
            return Err(format!(
                "the server did not start; see {}/server.log",
                cluster.dir.display()
            ));
        }
        Ok(cluster)
    }

    fn pg_ctl(&self, action: &str) -> bool {
        as_postgres(&self.pg_ctl_script(action))
    }

    fn pg_ctl_script(&self, action: &str) -> String {
        format!(
            "'{bin}/pg_ctl' -D '{dir}/data' -l '{dir}/server.log' -w -m fast -o \"-p {port} -k '{dir}' -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off\" {action} >/dev/null 2>&1",
            bin = self.bin.display(),
            dir = self.dir.display(),
            port = self.port,
        )
    }

    /// The URL of the `postgres` database (for creating scratch databases).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn stop(&self) {
        assert!(self.pg_ctl("stop"), "pg_ctl stop failed");
    }

    pub fn restart(&self) {
        assert!(self.pg_ctl("restart"), "pg_ctl restart failed");
    }

    /// Hands the cluster to a watchdog that stops and removes it once this process has
    /// ended, however it ends (a static lives as long as the process, so nothing can drop it).
    fn stop_when_process_ends(mut self) {
        self.detached = true;
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; su postgres -s /bin/sh -c {stop}; rm -rf '{dir}'",
            pid = std::process::id(),
            stop = shell_quote(&self.pg_ctl_script("stop")),
            dir = self.dir.display(),
        );
        run_after_this_process(&script);
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if !self.detached {
            let _ = self.pg_ctl("stop");
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Starts a shell `script` that outlives this process (it waits for it to end first), with no
/// inherited pipes, so that `cargo test` does not wait for it.
fn run_after_this_process(script: &str) {
    let _ = Command::new("sh")
        .args(["-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

fn as_postgres(script: &str) -> bool {
    Command::new("su")
        .args(["postgres", "-s", "/bin/sh", "-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
