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
