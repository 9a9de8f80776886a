//! `cargo xtask bench --processes`: the booking benchmark against the stack as a user runs it,
//! nats-server and every service in its own process (release build, file-backed SQLite, free
//! ports, a fresh data directory). The load itself is the `load` binary of the e2e crate; this
//! side starts and stops the processes and reports what each one holds in memory at the end.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::sync::atomic::AtomicBool;

use anyhow::{Context, bail};

use crate::stack::{SERVICES, Stack, wait_healthy, wait_port};
use crate::target_dir;
use crate::{cargo, nats, tools};

/// A port nobody listens on right now.
fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

pub fn run() -> anyhow::Result<ExitCode> {
    let nats_bin = tools::nats_server()?;
    // BENCH_BIN_DIR runs the services of another build (e.g. the main branch's) under the same
    // load, so two builds are compared on the same machine in the same minutes.
    let bin_dir = match std::env::var_os("BENCH_BIN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            println!("xtask: building the services and the load generator (release)");
            let mut build = cargo();
            build.args(["build", "--release", "--bins"]);
            for s in SERVICES {
                build.args(["-p", s.bin]);
            }
            if !build.args(["-p", "e2e"]).status()?.success() {
                bail!("build failed");
            }
            target_dir()?.join("release")
        }
    };
    let load_bin = target_dir()?.join("release/load");
    if !load_bin.is_file() {
        bail!(
            "{} is missing: cargo build --release -p e2e --bin load",
            load_bin.display()
        );
    }

    let data_dir = std::env::temp_dir().join(format!("xtask-bench-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir)?;
    let result = measure(&nats_bin, &bin_dir, &load_bin, &data_dir);
    let _ = std::fs::remove_dir_all(&data_dir);
    result
}

fn measure(
    nats_bin: &std::path::Path,
    bin_dir: &std::path::Path,
    load_bin: &std::path::Path,
    data_dir: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let never = AtomicBool::new(false);
    let mut stack = Stack(Vec::new());
    let nodes = nats::nodes(false, free_port()?, free_port()?, 0);
    stack.spawn(
        "nats",
        nats::command(nats_bin, data_dir, &nodes[0], &nodes)?,
    )?;
    wait_port(nodes[0].port, &mut stack, "nats")?;
    let nats_url = nats::url(&nodes);

    let mut env: Vec<(String, String)> = vec![
        ("DATA_DIR".into(), data_dir.display().to_string()),
        ("NATS_URL".into(), nats_url.clone()),
        ("RUST_LOG".into(), "warn".into()),
        // Every buyer signs up from this machine's one address.
        ("REGISTRATIONS_PER_ADDRESS".into(), "1000".into()),
    ];
    let mut ports = Vec::new();
    for s in SERVICES {
        let p = free_port()?;
        env.push((s.port_var.into(), p.to_string()));
        env.push((s.url_var.into(), format!("http://127.0.0.1:{p}")));
        ports.push(p);
    }
    for (s, p) in SERVICES.iter().zip(&ports) {
        let bin = bin_dir.join(s.bin);
        if !bin.is_file() {
            bail!("{} is missing", bin.display());
        }
        let mut cmd = Command::new(&bin);
        cmd.current_dir(crate::root()).envs(env.iter().cloned());
        stack.spawn(s.name, cmd)?;
        wait_healthy(&mut stack, s.name, *p, &never)?;
    }

    // The load generator reads each process's CPU time around every phase (`/proc/<pid>/stat`).
    let pids: Vec<String> = stack
        .0
        .iter()
        .map(|r| format!("{}={}", r.name, r.child.id()))
        .collect();
    let status = Command::new(load_bin)
        .envs(env.iter().cloned())
        .env("BENCH_PIDS", pids.join(","))
        .status()
        .context("running the load generator")?;
    if let Some(why) = stack.exited() {
        bail!("{why} during the benchmark");
    }
    println!("memory at the end (resident now / peak):");
    for r in &stack.0 {
        let (now, peak) = rss(r.child.id())?;
        println!(
            "  {:>12}: {:>6.1} MB / {:>6.1} MB",
            r.name,
            mb(now),
            mb(peak)
        );
    }
    stack.stop();
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// Resident and peak resident memory of a process, in kB (`VmRSS`, `VmHWM` of /proc).
fn rss(pid: u32) -> anyhow::Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}
