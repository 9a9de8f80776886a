//! Payment service settings, all from environment variables (see the README's table).

use std::time::Duration;

use platform::config::{self, BaseConfig, ConfigError, LinksConfig, ports, services};

#[derive(Debug, Clone)]
pub struct PaymentConfig {
    /// `HOST`, `PAYMENT_PORT` (default 3004); `MONGODB_URI` (database `payment_db`), else SQLite
    /// `<DATA_DIR>/payment.db`.
    pub base: BaseConfig,
    /// `NATS_URL`, `AUTH_SERVICE_URL` and their timeouts.
    pub links: LinksConfig,
    /// `TICKET_SERVICE_URL`, default `http://127.0.0.1:3003`: asked for an order only when its
    /// `orders.created` has not reached the projection in time.
    pub ticket_url: String,
    /// `TICKET_TIMEOUT_MS`, default 2000: bound of that fallback call.
    pub ticket_timeout: Duration,
    /// `ORDER_WAIT_MS`, default 2000: how long a payment waits for an order's `orders.created`
    /// before asking the ticket service.
    pub order_wait: Duration,
    /// `PAYMENT_SUCCESS_RATE`, default 0.9 (the seed's): the share of ordinary payments the
    /// simulated gateway approves. The documented test cards ignore it.
    pub success_rate: f64,
    /// `CONSUMER_CONCURRENCY`, default 16: order events handled at once.
    pub consumer_concurrency: usize,
    /// `PAYMENT_STALE_SECS`, default 60: a payment still `pending`/`processing` this long after
    /// its last change was interrupted (the process died mid-charge) and is marked failed; an
    /// unanswered `Idempotency-Key` may be retried after the same time.
    pub stale_after: Duration,
    /// `IDEMPOTENCY_KEY_TTL_SECS`, default 86400: how long a key's first answer is replayed.
    pub idempotency_ttl: Duration,
}

impl PaymentConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let success_rate: f64 = config::parse_or("PAYMENT_SUCCESS_RATE", 0.9)?;
        if !(0.0..=1.0).contains(&success_rate) {
            return Err(ConfigError {
                name: "PAYMENT_SUCCESS_RATE".into(),
                value: success_rate.to_string(),
                reason: "expected a number from 0 to 1".into(),
            });
        }
        Ok(Self {
            base: BaseConfig::from_env(&services::PAYMENT)?,
            links: LinksConfig::from_env()?,
            ticket_url: config::service_url("TICKET_SERVICE_URL", ports::TICKET),
            ticket_timeout: config::millis_or("TICKET_TIMEOUT_MS", Duration::from_millis(2000))?,
            order_wait: config::millis_or("ORDER_WAIT_MS", Duration::from_millis(2000))?,
            success_rate,
            consumer_concurrency: config::consumer_concurrency(16)?,
            stale_after: config::secs_or("PAYMENT_STALE_SECS", Duration::from_secs(60))?,
            idempotency_ttl: config::secs_or(
                "IDEMPOTENCY_KEY_TTL_SECS",
                Duration::from_secs(86_400),
            )?,
        })
    }
}
