//! Developer commands: `cargo xtask up` starts the whole local stack, `cargo xtask test` runs
//! every test. Both install what is missing first.

mod http;
mod stack;
mod tools;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "usage:
  cargo xtask up [--release] [--no-demo]   start NATS, every service and the web UI on :3000
  cargo xtask test [ARGS...]               run every test (ARGS go to `cargo test`)
  cargo xtask bench                        booking throughput and latency, release build";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("up") => stack::up(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("bench") => bench(),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root, whatever directory cargo was called from.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("xtask lives in crates/xtask")
        .to_path_buf()
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

fn bench() -> anyhow::Result<ExitCode> {
    let nats = tools::nats_server()?;
    let status = cargo()
        .args(["run", "--release", "--quiet", "-p", "e2e", "--bin", "bench"])
        .env("NATS_SERVER_BIN", &nats)
        .env("RUST_LOG", "warn")
        .status()?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn test(extra: &[String]) -> anyhow::Result<ExitCode> {
    let nats = tools::nats_server()?;
    println!("xtask: nats-server at {}", nats.display());
    let status = cargo()
        .args(["test", "--workspace", "--all-targets"])
        .args(extra)
        .env("NATS_SERVER_BIN", &nats)
        .status()?;
    if !status.success() {
        return Ok(ExitCode::FAILURE);
    }
    // Doc tests are not part of --all-targets.
    let status = cargo()
        .args(["test", "--workspace", "--doc"])
        .env("NATS_SERVER_BIN", &nats)
        .status()?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
