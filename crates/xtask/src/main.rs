//! Developer commands: `cargo xtask up` starts the whole local stack, `cargo xtask test` runs
//! every test. Both install what is missing first.

mod http;
mod nats;
mod processes;
mod stack;
mod tools;
mod web;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context as _, bail};

const USAGE: &str = "usage:
  cargo xtask up [--release] [--no-demo] [--no-web] [--nats-cluster]
                                           start NATS, every service and the web UI on :3000
                                           (--no-web: skip building the web app;
                                           --nats-cluster: three NATS nodes, streams with 3 replicas)
  cargo xtask test [ARGS...]               run every test (ARGS go to `cargo test`), then the
                                           browser test (SKIP_BROWSER_TEST=1 skips it)
  cargo xtask web                          build the web app (release) into web/dist
  cargo xtask bench                        booking throughput and latency, release build
  cargo xtask bench --processes            the same against every service in its own process
                                           (BENCH_BIN_DIR: the services of another build)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("up") => stack::up(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("bench") if args.get(1).is_some_and(|a| a == "--processes") => processes::run(),
        Some("bench") => bench(),
        Some("web") => web::build().map(|_| ExitCode::SUCCESS),
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
    // `cargo run` sets CARGO_MANIFEST_DIR for the process: prefer it to the compile-time value,
    // because two checkouts sharing one CARGO_TARGET_DIR also share the `target/debug/xtask`
    // binary, and the compiled-in path may be the other checkout's.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
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

/// The workspace's target directory.
pub(crate) fn target_dir() -> anyhow::Result<PathBuf> {
    target_dir_of(None)
}

/// The target directory of the workspace whose manifest is `manifest` (this one when `None`),
/// as cargo reports it.
pub(crate) fn target_dir_of(manifest: Option<&Path>) -> anyhow::Result<PathBuf> {
    let mut metadata = cargo();
    metadata.args(["metadata", "--format-version", "1", "--no-deps"]);
    if let Some(manifest) = manifest {
        metadata.arg("--manifest-path").arg(manifest);
    }
    let out = metadata.output()?;
    if !out.status.success() {
        bail!("cargo metadata failed");
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    Ok(PathBuf::from(
        v["target_directory"]
            .as_str()
            .context("no target_directory")?,
    ))
}

fn bench() -> anyhow::Result<ExitCode> {
    let nats = tools::nats_server()?;
    let run = |metrics: &str, args: &[&str]| {
        cargo()
            .args([
                "run",
                "--release",
                "--quiet",
                "-p",
                "e2e",
                "--bin",
                "bench",
                "--",
            ])
            .args(args)
            .env("NATS_SERVER_BIN", &nats)
            .env("RUST_LOG", "warn")
            .env("METRICS", metrics)
            .status()
    };
    // The booking figures without metrics first, then everything as in production: the
    // difference between the two booking runs is what recording metrics costs.
    let status = run("off", &["--bookings-only"])?;
    let status = if status.success() {
        run("on", &[])?
    } else {
        status
    };
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The browser test's name: skipped in the workspace run, run on its own once the bundle is built.
const BROWSER_TEST: &str = "web_ui_in_headless_chromium";

fn test(extra: &[String]) -> anyhow::Result<ExitCode> {
    let nats = tools::nats_server()?;
    println!("xtask: nats-server at {}", nats.display());
    let mut args: Vec<String> = extra.to_vec();
    if !args.iter().any(|a| a == "--") {
        args.push("--".into());
    }
    args.extend(["--skip".into(), BROWSER_TEST.into()]);
    let status = cargo()
        .args(["test", "--workspace", "--all-targets"])
        .args(&args)
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
    if !status.success() {
        return Ok(ExitCode::FAILURE);
    }
    browser_test(&nats)
}

/// Builds the web bundle and drives it in headless Chromium through the whole system.
fn browser_test(nats: &Path) -> anyhow::Result<ExitCode> {
    let mut cmd = cargo();
    // `--workspace` keeps the features of the workspace run, so nothing is compiled again.
    cmd.args([
        "test",
        "--workspace",
        "--test",
        "browser",
        "--",
        "--nocapture",
    ])
    .env("NATS_SERVER_BIN", nats);
    if std::env::var("SKIP_BROWSER_TEST").as_deref() == Ok("1") {
        println!("xtask: SKIP_BROWSER_TEST=1: not building the web app nor installing a browser");
    } else {
        let bundle = web::build()?;
        let browser = web::ensure_browser()?;
        cmd.env("WEB_DIST_DIR", &bundle.dist)
            .env("CHROME_BIN", &browser.chrome)
            .env("CHROMEDRIVER", &browser.driver);
    }
    Ok(if cmd.status()?.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
