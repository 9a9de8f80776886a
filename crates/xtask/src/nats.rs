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

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port")
    }

    #[test]
    fn one_node_or_three_on_consecutive_ports() {
        let one = nodes(false, 4222, 8222, 6222);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].cluster_port, None);
        assert_eq!(url(&one), "nats://127.0.0.1:4222");
        let three = nodes(true, 4222, 8222, 6222);
        let ports: Vec<_> = three
            .iter()
            .map(|n| (n.port, n.monitor_port, n.cluster_port))
            .collect();
        assert_eq!(
            ports,
            [
                (4222, 8222, Some(6222)),
                (4223, 8223, Some(6223)),
                (4224, 8224, Some(6224))
            ]
        );
        assert_eq!(
            url(&three),
            "nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224"
        );
    }

    /// The commands `up --nats-cluster` runs form one cluster, each node fsyncing every write.
    #[test]
    fn the_cluster_commands_start_three_routed_nodes_that_sync_every_write() {
        let data = std::env::temp_dir().join(format!("xtask-nats-{}", std::process::id()));
        std::fs::create_dir_all(&data).unwrap();
        let all: Vec<Node> = (1..=3)
            .map(|i| Node {
                name: format!("xtask-test-{i}"),
                port: free_port(),
                monitor_port: free_port(),
                cluster_port: Some(free_port()),
            })
            .collect();
        let bin = std::env::var("NATS_SERVER_BIN").unwrap_or_else(|_| "nats-server".into());
        let mut children: Vec<_> = all
            .iter()
            .map(|node| {
                command(Path::new(&bin), &data, node, &all)
                    .unwrap()
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .expect("nats-server on PATH")
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(20);
        let formed = loop {
            let varz = crate::http::request(all[0].monitor_port, "GET", "/varz", None);
            let routez = crate::http::request(all[0].monitor_port, "GET", "/routez", None);
            if let (Ok((200, varz)), Ok((200, routez))) = (varz, routez) {
                let varz: serde_json::Value = serde_json::from_str(&varz).unwrap();
                let routez: serde_json::Value = serde_json::from_str(&routez).unwrap();
                if routez["num_routes"].as_u64() >= Some(2) {
                    break Some(varz);
                }
            }
            if Instant::now() > deadline {
                break None;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        for child in &mut children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&data);
        let varz = formed.expect("the three nodes never routed to each other");
        assert_eq!(varz["server_name"], "xtask-test-1");
        assert_eq!(varz["jetstream"]["config"]["sync_always"], true);
        let store = varz["jetstream"]["config"]["store_dir"].as_str().unwrap();
        assert!(store.contains("xtask-test-1"), "{store}");
    }
}
