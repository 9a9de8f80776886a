//! Ticket service settings, all from environment variables (see the README's table).

use std::time::Duration;

use platform::config::{self, BaseConfig, ConfigError, LinksConfig, ports, services};

#[derive(Debug, Clone)]
pub struct TicketConfig {
    /// `HOST`, `TICKET_PORT` (default 3003); `MONGODB_URI` (database `ticket_db`), else SQLite
    /// `<DATA_DIR>/ticket.db`.
    pub base: BaseConfig,
    /// `NATS_URL`, `AUTH_SERVICE_URL` and their timeouts.
    pub links: LinksConfig,
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
    /// `WAITLIST_OFFER_SECS`, default 1800: how long seats offered to a waitlist entry stay
    /// held for it (fixed for an entry when it joins).
    pub waitlist_offer: Duration,
    /// `QUEUE_PASS_SECS`, default 600: how long a waiting room's pass is good for.
    pub queue_pass: Duration,
}

impl TicketConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            base: BaseConfig::from_env(&services::TICKET)?,
            links: LinksConfig::from_env()?,
            event_url: config::service_url("EVENT_SERVICE_URL", ports::EVENT),
            hold: config::secs_or("HOLD_SECS", Duration::from_secs(15 * 60))?,
            max_tickets_per_order: config::parse_or("MAX_TICKETS_PER_ORDER", 10)?,
            max_failed_payments: config::parse_or("MAX_FAILED_PAYMENTS", 3)?,
            expiry_sweep: config::millis_or("EXPIRY_SWEEP_MS", Duration::from_millis(1000))?,
            consumer_concurrency: config::consumer_concurrency(32)?,
            waitlist_offer: config::secs_or("WAITLIST_OFFER_SECS", Duration::from_secs(30 * 60))?,
            queue_pass: config::secs_or("QUEUE_PASS_SECS", Duration::from_secs(600))?,
        })
    }
}
