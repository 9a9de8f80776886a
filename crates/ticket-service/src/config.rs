//! Ticket service settings, all from environment variables (see the README's table).

use std::time::Duration;

use platform::config::{self, ConfigError, HttpConfig, StoreConfig, ports};

#[derive(Debug, Clone)]
pub struct TicketConfig {
    pub http: HttpConfig,
    pub store: StoreConfig,
    pub nats_url: String,
    /// `NATS_CONNECT_TIMEOUT_SECS`, default 30: how long start-up waits for NATS.
    pub nats_connect_timeout: Duration,
    pub auth_url: String,
    /// `AUTH_TIMEOUT_MS`, default 2000.
    pub auth_timeout: Duration,
    /// `EVENT_SERVICE_URL`: asked for an event the first time it is booked.
    pub event_url: String,
    /// `HOLD_SECS`, default 900: how long seats stay held for an unpaid order.
    pub hold: Duration,
    /// `MAX_TICKETS_PER_ORDER`, default 10 (also the per-line limit).
    pub max_tickets_per_order: u32,
    /// `MAX_FAILED_PAYMENTS`, default 3: declines before the order is cancelled.
    pub max_failed_payments: u32,
    /// `EXPIRY_SWEEP_MS`, default 1000: how often due holds are looked for.
    pub expiry_sweep: Duration,
    /// `CONSUMER_CONCURRENCY`, default 32: messages handled at once per consumer.
    pub consumer_concurrency: usize,
}

impl TicketConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            http: HttpConfig::from_env("TICKET_PORT", ports::TICKET)?,
            store: StoreConfig::from_env("ticket_db", "ticket.db"),
            nats_url: config::nats_url(),
            nats_connect_timeout: config::secs_or(
                "NATS_CONNECT_TIMEOUT_SECS",
                Duration::from_secs(30),
            )?,
            auth_url: config::auth_service_url(),
            auth_timeout: Duration::from_millis(config::parse_or("AUTH_TIMEOUT_MS", 2000)?),
            event_url: config::var_or(
                "EVENT_SERVICE_URL",
                &format!("http://127.0.0.1:{}", ports::EVENT),
            ),
            hold: config::secs_or("HOLD_SECS", Duration::from_secs(15 * 60))?,
            max_tickets_per_order: config::parse_or("MAX_TICKETS_PER_ORDER", 10)?,
            max_failed_payments: config::parse_or("MAX_FAILED_PAYMENTS", 3)?,
            expiry_sweep: Duration::from_millis(config::parse_or("EXPIRY_SWEEP_MS", 1000)?),
            consumer_concurrency: config::parse_or("CONSUMER_CONCURRENCY", 32usize)?.max(1),
        })
    }
}
