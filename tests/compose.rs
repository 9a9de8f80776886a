//! There is no Docker engine on our build machines, so this test keeps `compose.yaml` honest:
//! every service of the architecture is there, configured only with variables the code reads,
//! on the default ports, with health checks and the seed's start-up order.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn compose() -> Yaml {
    let text =
        std::fs::read_to_string(root().join("compose.yaml")).expect("compose.yaml at the root");
    YamlLoader::load_from_str(&text)
        .expect("valid YAML")
        .remove(0)
}

/// Every string literal in the services' non-test Rust sources: where env var names are read.
fn literals_in_code() -> BTreeSet<String> {
    fn walk(dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path
                    .file_name()
                    .is_some_and(|n| n != "tests" && n != "target")
                {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for piece in text.split('"').skip(1).step_by(2) {
                    out.insert(piece.to_string());
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(&root().join("crates"), &mut out);
    out
}

const APP_SERVICES: [(&str, &str, &str, u16); 6] = [
    ("auth", "auth-service", "AUTH_PORT", 3001),
    ("event", "event-service", "EVENT_PORT", 3002),
    ("ticket", "ticket-service", "TICKET_PORT", 3003),
    ("payment", "payment-service", "PAYMENT_PORT", 3004),
    (
        "notification",
        "notification-service",
        "NOTIFICATION_PORT",
        3005,
    ),
    ("web", "gateway", "WEB_PORT", 3000),
];

fn env_of(service: &Yaml) -> Vec<(String, String)> {
    service["environment"]
        .as_hash()
        .map(|h| {
            h.iter()
                .map(|(k, v)| {
                    let value = match v {
                        Yaml::String(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        Yaml::Boolean(b) => b.to_string(),
                        other => panic!("unexpected value {other:?}"),
                    };
                    (k.as_str().unwrap().to_string(), value)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_service_of_the_architecture_is_in_compose() {
    let c = compose();
    for name in [
        "mongo",
        "nats",
        "nats-box",
        "auth",
        "event",
        "ticket",
        "payment",
        "notification",
        "mailpit",
        "web",
    ] {
        assert!(
            !c["services"][name].is_badvalue(),
            "service {name} missing from compose.yaml"
        );
    }
    assert!(
        c["services"]["mongo"]["image"]
            .as_str()
            .unwrap()
            .starts_with("mongo:7")
    );
    let mongo_cmd = format!("{:?}", c["services"]["mongo"]["command"]);
    assert!(
        mongo_cmd.contains("--replSet"),
        "MongoDB must run as a replica set for transactions"
    );
    let nats_image = c["services"]["nats"]["image"].as_str().unwrap();
    let version = nats_image.split(':').nth(1).unwrap();
    assert!(
        version.starts_with("2.1") && version[2..4].parse::<u32>().unwrap() >= 12,
        "nats-server 2.12+: {nats_image}"
    );
}

#[test]
fn every_environment_variable_set_in_compose_is_read_by_the_code() {
    let c = compose();
    let code = literals_in_code();
    for (name, ..) in APP_SERVICES {
        for (var, _) in env_of(&c["services"][name]) {
            assert!(
                code.contains(&var),
                "{name} sets {var}, which no code reads"
            );
        }
    }
}

#[test]
fn services_use_mongodb_nats_and_their_default_ports() {
    let c = compose();
    for (name, bin, port_var, port) in APP_SERVICES {
        let s = &c["services"][name];
        let env = env_of(s);
        let get = |k: &str| env.iter().find(|(var, _)| var == k).map(|(_, v)| v.clone());
        assert_eq!(get(port_var), Some(port.to_string()), "{name} port");
        assert_eq!(
            s["command"][0].as_str(),
            Some(bin),
            "{name} runs its binary"
        );
        assert!(
            s["image"]
                .as_str()
                .is_some_and(|i| i.starts_with("ticketing")),
            "{name} uses the project's image"
        );
        if name != "web" {
            assert!(
                get("MONGODB_URI").is_some_and(|u| u.contains("replicaSet")),
                "{name} uses MongoDB"
            );
        }
        if matches!(
            name,
            "auth" | "event" | "ticket" | "payment" | "notification"
        ) {
            assert_eq!(
                get("NATS_URL").as_deref(),
                Some("nats://nats:4222"),
                "{name} uses NATS"
            );
        }
        if matches!(name, "event" | "ticket" | "payment" | "notification") {
            assert_eq!(get("AUTH_SERVICE_URL").as_deref(), Some("http://auth:3001"));
        }
        let health = format!("{:?}", s["healthcheck"]["test"]);
        assert!(
            health.contains(&format!("localhost:{port}/")),
            "{name} health check on its port: {health}"
        );
    }
    let auth = env_of(&c["services"]["auth"]);
    assert!(
        auth.contains(&("COOKIE_SECURE".into(), "true".into())),
        "Secure cookies in compose"
    );
    let published: Vec<String> = c["services"]
        .as_hash()
        .unwrap()
        .iter()
        .flat_map(|(_, s)| s["ports"].as_vec().cloned().unwrap_or_default())
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    assert!(published.contains(&"3000:3000".to_string()));
    for p in &published {
        assert!(
            p == "3000:3000" || p.starts_with("127.0.0.1:"),
            "only :3000 is published to the network; operator ports stay on loopback, not {p}"
        );
    }
}

#[test]
fn prometheus_scrapes_every_service_grafana_has_the_dashboard_and_jaeger_gets_the_traces() {
    let c = compose();
    for name in ["prometheus", "grafana", "nats-exporter", "jaeger"] {
        assert!(!c["services"][name].is_badvalue(), "{name} missing");
    }
    for (name, ..) in APP_SERVICES {
        let env = env_of(&c["services"][name]);
        assert!(
            env.contains(&(
                "OTEL_EXPORTER_OTLP_ENDPOINT".into(),
                "http://jaeger:4318".into()
            )),
            "{name} exports its spans to Jaeger"
        );
    }
    for name in ["prometheus", "grafana", "jaeger"] {
        assert!(
            !c["services"][name]["healthcheck"].is_badvalue(),
            "{name} has a health check"
        );
    }
    let exporter = format!("{:?}", c["services"]["nats-exporter"]["command"]);
    assert!(
        exporter.contains("http://nats:8222") && exporter.contains("-jsz"),
        "the exporter reads the NATS monitor with JetStream: {exporter}"
    );

    let text = std::fs::read_to_string(root().join("monitoring/prometheus.yml")).unwrap();
    let prometheus = YamlLoader::load_from_str(&text).unwrap().remove(0);
    let targets: BTreeSet<String> = prometheus["scrape_configs"]
        .as_vec()
        .unwrap()
        .iter()
        .flat_map(|job| job["static_configs"].as_vec().cloned().unwrap_or_default())
        .flat_map(|sc| sc["targets"].as_vec().cloned().unwrap_or_default())
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    for (name, _, _, port) in APP_SERVICES {
        assert!(
            targets.contains(&format!("{name}:{port}")),
            "{name} is scraped: {targets:?}"
        );
    }
    assert!(targets.contains("nats-exporter:7777"), "NATS is scraped");

    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("monitoring/grafana/dashboards/ticketing.json"))
            .unwrap(),
    )
    .expect("the dashboard is JSON");
    let exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().unwrap().to_string())
        .collect();
    // Every metric the platform defines has a panel.
    for metric in platform::metrics::names::ALL {
        assert!(
            exprs.iter().any(|e| e.contains(metric)),
            "no panel shows {metric}"
        );
    }
}

#[test]
fn services_start_in_the_seeds_order_once_their_dependencies_are_healthy() {
    let c = compose();
    let needs = [
        ("auth", vec!["mongo", "nats"]),
        ("event", vec!["mongo", "nats", "auth"]),
        ("ticket", vec!["mongo", "nats", "event"]),
        ("payment", vec!["mongo", "nats", "ticket"]),
        ("notification", vec!["mongo", "nats", "auth", "mailpit"]),
        (
            "web",
            vec!["auth", "event", "ticket", "payment", "notification"],
        ),
    ];
    for (name, deps) in needs {
        for dep in deps {
            let condition = &c["services"][name]["depends_on"][dep]["condition"];
            assert_eq!(
                condition.as_str(),
                Some("service_healthy"),
                "{name} waits for a healthy {dep}"
            );
            assert!(
                !c["services"][dep]["healthcheck"].is_badvalue(),
                "{dep} has a health check"
            );
        }
    }
}

#[test]
fn the_notification_service_mails_mailpit_whose_ui_is_on_8025() {
    let c = compose();
    let mailpit = &c["services"]["mailpit"];
    assert!(
        mailpit["image"]
            .as_str()
            .is_some_and(|i| i.starts_with("axllent/mailpit")),
        "Mailpit is the mail catcher"
    );
    let ports: Vec<&str> = mailpit["ports"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert_eq!(ports, ["127.0.0.1:8025:8025"], "its web UI");
    let health = format!("{:?}", mailpit["healthcheck"]["test"]);
    assert!(health.contains("localhost:8025/"), "{health}");
    let env = env_of(&c["services"]["notification"]);
    assert!(
        env.contains(&("SMTP_URL".into(), "smtp://mailpit:1025".into())),
        "the notification service sends to Mailpit's SMTP port: {env:?}"
    );
    let web = env_of(&c["services"]["web"]);
    assert!(web.contains(&(
        "NOTIFICATION_SERVICE_URL".into(),
        "http://notification:3005".into()
    )));
}
