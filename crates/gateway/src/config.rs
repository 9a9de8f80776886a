use std::path::PathBuf;
use std::time::Duration;

use platform::config::{self, ConfigError, HttpConfig, ports};

#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub http: HttpConfig,
    pub auth_url: String,
    pub event_url: String,
    pub ticket_url: String,
    pub payment_url: String,
    pub notification_url: String,
    /// `WEB_DIST_DIR`, default `web/dist`: the built browser app.
    pub web_dist: PathBuf,
    /// `UPSTREAM_TIMEOUT_MS`, default 10000: how long the gateway waits for a service's answer
    /// to begin (a streamed answer may then last); past it the client gets 503 `upstream_timeout`.
    pub upstream_timeout: Duration,
}

fn local(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

impl GatewayConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            http: HttpConfig::from_env("WEB_PORT", ports::WEB)?,
            auth_url: config::auth_service_url(),
            event_url: config::var_or("EVENT_SERVICE_URL", &local(ports::EVENT)),
            ticket_url: config::var_or("TICKET_SERVICE_URL", &local(ports::TICKET)),
            payment_url: config::var_or("PAYMENT_SERVICE_URL", &local(ports::PAYMENT)),
            notification_url: config::var_or(
                "NOTIFICATION_SERVICE_URL",
                &local(ports::NOTIFICATION),
            ),
            web_dist: config::var_or("WEB_DIST_DIR", "web/dist").into(),
            upstream_timeout: config::millis_or("UPSTREAM_TIMEOUT_MS", Duration::from_secs(10))?,
        })
    }
}
