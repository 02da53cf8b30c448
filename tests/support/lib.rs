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
