//! `cargo xtask up`: nats-server, every service and the gateway, as child processes of this one.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::{cargo, http, nats, root, target_dir, tools};

/// A process of the stack, in start-up order (the seed's: auth, event, ticket, payment,
/// notification, web).
pub(crate) struct Service {
    pub name: &'static str,
    pub bin: &'static str,
    pub port_var: &'static str,
    default_port: u16,
    pub url_var: &'static str,
}

pub(crate) const SERVICES: &[Service] = &[
    Service {
        name: "auth",
        bin: "auth-service",
        port_var: "AUTH_PORT",
        default_port: 3001,
        url_var: "AUTH_SERVICE_URL",
    },
    Service {
        name: "event",
        bin: "event-service",
        port_var: "EVENT_PORT",
        default_port: 3002,
        url_var: "EVENT_SERVICE_URL",
    },
    Service {
        name: "ticket",
        bin: "ticket-service",
        port_var: "TICKET_PORT",
        default_port: 3003,
        url_var: "TICKET_SERVICE_URL",
    },
    Service {
        name: "payment",
        bin: "payment-service",
        port_var: "PAYMENT_PORT",
        default_port: 3004,
        url_var: "PAYMENT_SERVICE_URL",
    },
    Service {
        name: "notification",
        bin: "notification-service",
        port_var: "NOTIFICATION_PORT",
        default_port: 3005,
        url_var: "NOTIFICATION_SERVICE_URL",
    },
    Service {
        name: "web",
        bin: "gateway",
        port_var: "WEB_PORT",
        default_port: 3000,
        url_var: "WEB_URL",
    },
];

/// The demo accounts `up` creates (the README lists them).
pub const DEMO_ORGANIZER: (&str, &str) = ("organizer@demo.local", "demo-organizer-1");
pub const DEMO_BUYER: (&str, &str) = ("buyer@demo.local", "demo-buyer-1");

fn port(var: &str, default: u16) -> anyhow::Result<u16> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .with_context(|| format!("{var}={v:?} is not a port")),
        _ => Ok(default),
    }
}

fn ensure_free(port: u16, what: &str, var: &str) -> anyhow::Result<()> {
    if let Err(e) = TcpListener::bind(("0.0.0.0", port)) {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            bail!(
                "port {port} ({what}) is already in use. Is `cargo xtask up` already running? \
                 Stop it, or choose another port with {var}=..."
            );
        }
        bail!("cannot use port {port} ({what}): {e}");
    }
    Ok(())
}

pub(crate) struct Running {
    pub name: String,
    pub child: Child,
}

/// Children in start order; stopped in reverse order on drop.
pub(crate) struct Stack(pub Vec<Running>);

impl Stack {
    pub fn spawn(&mut self, name: &str, mut cmd: Command) -> anyhow::Result<()> {
        // Own process group: Ctrl-C reaches only us, and we stop the children in order.
        cmd.process_group(0)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().with_context(|| format!("starting {name}"))?;
        let label = format!("{name:>12} |");
        if let Some(out) = child.stdout.take() {
            pipe(label.clone(), out);
        }
        if let Some(err) = child.stderr.take() {
            pipe(label, err);
        }
        self.0.push(Running {
            name: name.to_string(),
            child,
        });
        Ok(())
    }

    /// The first child that has exited, if any.
    pub fn exited(&mut self) -> Option<String> {
        self.0.iter_mut().find_map(|r| match r.child.try_wait() {
            Ok(Some(status)) => Some(format!("{} exited ({status})", r.name)),
            _ => None,
        })
    }

    pub fn stop(&mut self) {
        while let Some(mut r) = self.0.pop() {
            // SIGTERM lets each process finish in-flight work; SIGKILL only after 10 s.
            unsafe { libc::kill(r.child.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                match r.child.try_wait() {
                    Ok(Some(_)) => break,
                    _ if Instant::now() > deadline => {
                        let _ = r.child.kill();
                        let _ = r.child.wait();
                        break;
                    }
                    _ => std::thread::sleep(Duration::from_millis(50)),
                }
            }
            println!("xtask: {} stopped", r.name);
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop();
    }
}

fn pipe(label: String, stream: impl std::io::Read + Send + 'static) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            println!("{label} {line}");
        }
    });
}

pub(crate) fn wait_healthy(
    stack: &mut Stack,
    name: &str,
    port: u16,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok((200, _)) = http::request(port, "GET", "/health", None) {
            return Ok(());
        }
        if let Some(why) = stack.exited() {
            bail!("{why} while starting {name}");
        }
        if stop.load(Ordering::SeqCst) {
            bail!("interrupted");
        }
        if Instant::now() > deadline {
            bail!("{name} did not become healthy on port {port} within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub(crate) fn wait_port(port: u16, stack: &mut Stack, name: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(why) = stack.exited() {
            bail!("{why} while starting {name}");
        }
        if Instant::now() > deadline {
            bail!("{name} is not listening on port {port}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Registers a demo account, or signs in when it exists; returns the user id.
fn demo_account(
    auth_port: u16,
    (email, password): (&str, &str),
    first: &str,
    last: &str,
) -> anyhow::Result<String> {
    let register = serde_json::json!({"email": email, "password": password, "firstName": first, "lastName": last});
    let (status, body) = http::request(
        auth_port,
        "POST",
        "/api/auth/register",
        Some(&register.to_string()),
    )?;
    let (status, body) = if status == 409 {
        let login = serde_json::json!({"email": email, "password": password});
        http::request(
            auth_port,
            "POST",
            "/api/auth/login",
            Some(&login.to_string()),
        )?
    } else {
        (status, body)
    };
    if !(200..300).contains(&status) {
        bail!("demo account {email}: HTTP {status}: {body}");
    }
    let v: serde_json::Value = serde_json::from_str(&body)?;
    v["user"]["id"]
        .as_str()
        .map(str::to_string)
        .context("no user id in the answer")
}

fn absolute(p: PathBuf) -> PathBuf {
    if p.is_absolute() { p } else { root().join(p) }
}

pub fn up(args: &[String]) -> anyhow::Result<ExitCode> {
    let release = args.iter().any(|a| a == "--release");
    let demo = !args.iter().any(|a| a == "--no-demo");
    let web = !args.iter().any(|a| a == "--no-web");
    let cluster = args.iter().any(|a| a == "--nats-cluster");
    if let Some(unknown) = args.iter().find(|a| {
        !matches!(
            a.as_str(),
            "--release" | "--no-demo" | "--no-web" | "--nats-cluster"
        )
    }) {
        bail!("unknown option {unknown}");
    }

    // Check every port before building anything, so a second `up` fails fast and clearly.
    let external_nats = std::env::var("NATS_URL").ok().filter(|v| !v.is_empty());
    let nats_port = port("NATS_PORT", 4222)?;
    let monitor_port = port("NATS_MONITOR_PORT", 8222)?;
    let nats_nodes = nats::nodes(
        cluster,
        nats_port,
        monitor_port,
        port("NATS_CLUSTER_PORT", 6222)?,
    );
    if external_nats.is_none() {
        for node in &nats_nodes {
            ensure_free(node.port, "NATS", "NATS_PORT")?;
            ensure_free(node.monitor_port, "NATS monitoring", "NATS_MONITOR_PORT")?;
            if let Some(p) = node.cluster_port {
                ensure_free(p, "NATS cluster routes", "NATS_CLUSTER_PORT")?;
            }
        }
    }
    let mut ports = Vec::new();
    for s in SERVICES {
        let p = port(s.port_var, s.default_port)?;
        ensure_free(p, s.name, s.port_var)?;
        ports.push(p);
    }

    let nats_bin = if external_nats.is_none() {
        Some(tools::nats_server()?)
    } else {
        None
    };

    println!(
        "xtask: building the services{}",
        if release { " (release)" } else { "" }
    );
    let mut build = cargo();
    build.args(["build", "--workspace", "--bins", "--exclude", "xtask"]);
    if release {
        build.arg("--release");
    }
    if !build.status()?.success() {
        bail!("build failed");
    }
    let bin_dir = target_dir()?.join(if release { "release" } else { "debug" });
    if web {
        crate::web::build()?;
    }

    let data_dir = absolute(PathBuf::from(
        std::env::var("DATA_DIR")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "data".into()),
    ));
    std::fs::create_dir_all(&data_dir)?;
    let nats_url = external_nats
        .clone()
        .unwrap_or_else(|| nats::url(&nats_nodes));

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst))?;
    }

    let mut stack = Stack(Vec::new());
    if let Some(bin) = &nats_bin {
        for node in &nats_nodes {
            let label = match node.cluster_port {
                Some(_) => format!("nats-{}", node.port - nats_port + 1),
                None => "nats".into(),
            };
            stack.spawn(&label, nats::command(bin, &data_dir, node, &nats_nodes)?)?;
        }
        for node in &nats_nodes {
            wait_port(node.port, &mut stack, "nats")?;
        }
    }

    let mut env: Vec<(String, String)> = vec![
        ("DATA_DIR".into(), data_dir.display().to_string()),
        ("NATS_URL".into(), nats_url.clone()),
        (
            "WEB_DIST_DIR".into(),
            root().join("web/dist").display().to_string(),
        ),
    ];
    if cluster {
        env.push(("NATS_STREAM_REPLICAS".into(), "3".into()));
    }
    for (s, p) in SERVICES.iter().zip(&ports) {
        env.push((s.port_var.into(), p.to_string()));
        env.push((s.url_var.into(), format!("http://127.0.0.1:{p}")));
    }

    let mut started = Vec::new();
    for (s, p) in SERVICES.iter().zip(&ports) {
        let bin = bin_dir.join(s.bin);
        if !bin.is_file() {
            continue;
        }
        let mut cmd = Command::new(&bin);
        cmd.current_dir(root()).envs(env.iter().cloned());
        if s.name == "event" && demo {
            let organizer = demo_account(ports[0], DEMO_ORGANIZER, "Demo", "Organizer")?;
            cmd.env("DEMO_DATA", "true")
                .env("DEMO_ORGANIZER_ID", organizer);
        }
        stack.spawn(s.name, cmd)?;
        wait_healthy(&mut stack, s.name, *p, &stop)?;
        if s.name == "auth" && demo {
            demo_account(*p, DEMO_BUYER, "Demo", "Buyer")?;
        }
        started.push(format!(
            "{:>12}  http://localhost:{p}  (metrics http://localhost:{p}/metrics)",
            s.name
        ));
    }

    print_summary(
        &started,
        &nats_url,
        monitor_port,
        nats_bin.is_some(),
        demo,
        &data_dir,
        ports[SERVICES.len() - 1],
    );

    loop {
        if stop.load(Ordering::SeqCst) {
            println!("\nxtask: stopping");
            stack.stop();
            return Ok(ExitCode::SUCCESS);
        }
        if let Some(why) = stack.exited() {
            eprintln!("xtask: {why}; stopping the rest");
            stack.stop();
            return Ok(ExitCode::FAILURE);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn print_summary(
    started: &[String],
    nats_url: &str,
    monitor_port: u16,
    local_nats: bool,
    demo: bool,
    data_dir: &Path,
    web_port: u16,
) {
    println!("\n  The stack is up. Open http://localhost:{web_port}\n");
    for line in started {
        println!("  {line}");
    }
    if local_nats {
        println!("          nats  {nats_url} (monitoring from http://localhost:{monitor_port})");
    } else {
        println!("          nats  {nats_url} (external)");
    }
    println!("          data  {}", data_dir.display());
    // The notification service mails SMTP_URL when set, else writes files a mail client opens.
    match std::env::var("SMTP_URL").ok().filter(|v| !v.is_empty()) {
        Some(url) => println!(
            "          mail  SMTP {}",
            url.split('@').next_back().unwrap_or("")
        ),
        None => println!(
            "          mail  {} (one .eml file per message)",
            data_dir.join("mail").display()
        ),
    }
    if demo {
        println!(
            "\n  Demo accounts: {} / {}  and  {} / {}",
            DEMO_ORGANIZER.0, DEMO_ORGANIZER.1, DEMO_BUYER.0, DEMO_BUYER.1
        );
    }
    println!("\n  Ctrl-C stops everything.\n");
}
