//! The local nats-server(s) of `cargo xtask up`: one node, or with `--nats-cluster` three nodes
//! clustered on loopback. Every node runs with the settings of `nats/server.conf` (fsync on every
//! write among them); only its name, ports and store directory differ.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use crate::root;

/// Ports of one node.
pub struct Node {
    pub name: String,
    pub port: u16,
    pub monitor_port: u16,
    /// The route port, on a cluster.
    pub cluster_port: Option<u16>,
}

/// The nodes to start: one, or three on consecutive ports from the given ones.
pub fn nodes(cluster: bool, port: u16, monitor_port: u16, cluster_port: u16) -> Vec<Node> {
    if !cluster {
        return vec![Node {
            name: "ticketing-local".into(),
            port,
            monitor_port,
            cluster_port: None,
        }];
    }
    (0..3)
        .map(|i| Node {
            name: format!("ticketing-local-{}", i + 1),
            port: port + i,
            monitor_port: monitor_port + i,
            cluster_port: Some(cluster_port + i),
        })
        .collect()
}

/// `NATS_URL` for the services: every node, so start-up does not depend on one.
pub fn url(nodes: &[Node]) -> String {
    nodes
        .iter()
        .map(|n| format!("nats://127.0.0.1:{}", n.port))
        .collect::<Vec<_>>()
        .join(",")
}

/// `nats/server.conf` with the store directory moved under the data dir, written next to it.
fn config_file(data_dir: &Path, node: &Node, store_dir: &Path) -> anyhow::Result<PathBuf> {
    let source = root().join("nats/server.conf");
    let text = std::fs::read_to_string(&source)
        .with_context(|| format!("reading {}", source.display()))?;
    let mut replaced = false;
    let text: Vec<String> = text
        .lines()
        .map(|line| match line.trim_start().starts_with("store_dir:") {
            true => {
                replaced = true;
                format!("  store_dir: {:?}", store_dir.display().to_string())
            }
            false => line.to_string(),
        })
        .collect();
    anyhow::ensure!(replaced, "{} has no store_dir line", source.display());
    let path = data_dir.join(format!("{}.conf", node.name));
    std::fs::write(&path, text.join("\n") + "\n")?;
    Ok(path)
}

/// The command that starts `node` (command-line ports override the file's).
pub fn command(bin: &Path, data_dir: &Path, node: &Node, all: &[Node]) -> anyhow::Result<Command> {
    // One node keeps the store where earlier versions kept it (`data/nats`).
    let store_dir = match node.cluster_port {
        None => data_dir.join("nats"),
        Some(_) => data_dir.join(&node.name),
    };
    let config = config_file(data_dir, node, &store_dir)?;
    let mut cmd = Command::new(bin);
    cmd.arg("-c")
        .arg(config)
        .args(["-js", "-n", &node.name, "-a", "127.0.0.1"])
        .args(["-p", &node.port.to_string()])
        .args(["-m", &node.monitor_port.to_string()]);
    if let Some(cluster_port) = node.cluster_port {
        let routes = all
            .iter()
            .filter_map(|n| n.cluster_port)
            .filter(|p| *p != cluster_port)
            .map(|p| format!("nats://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",");
        cmd.args(["--cluster_name", "ticketing-local"])
            .args(["--cluster", &format!("nats://127.0.0.1:{cluster_port}")])
            .args(["--routes", &routes]);
    }
    Ok(cmd)
}
