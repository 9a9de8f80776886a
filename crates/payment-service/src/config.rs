//! Payment service settings, all from environment variables (see the README's table).

use std::time::Duration;

use platform::config::{self, ConfigError, HttpConfig, StoreConfig, ports};
use platform::money::Currency;

#[derive(Debug, Clone)]
pub struct PaymentConfig {
    /// `HOST`, `PAYMENT_PORT` (default 3004).
    pub http: HttpConfig,
    /// `MONGODB_URI` (database `payment_db`), else SQLite `<DATA_DIR>/payment.db`.
    pub store: StoreConfig,
    /// `NATS_URL`, default `nats://127.0.0.1:4222`.
    pub nats_url: String,
    /// `NATS_CONNECT_TIMEOUT_SECS`, default 30: how long start-up waits for NATS.
    pub nats_connect_timeout: Duration,
    /// `AUTH_SERVICE_URL`, default `http://127.0.0.1:3001`.
    pub auth_url: String,
    /// `AUTH_TIMEOUT_MS`, default 2000.
    pub auth_timeout: Duration,
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
    /// `CURRENCY`, default `USD`: assumed when the ticket service's answer names none.
    pub currency: Currency,
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
        let currency_raw = config::var_or("CURRENCY", "USD");
        let currency = Currency::parse(&currency_raw).map_err(|reason| ConfigError {
            name: "CURRENCY".into(),
            value: currency_raw.clone(),
            reason: reason.into(),
        })?;
        let success_rate: f64 = config::parse_or("PAYMENT_SUCCESS_RATE", 0.9)?;
        if !(0.0..=1.0).contains(&success_rate) {
            return Err(ConfigError {
                name: "PAYMENT_SUCCESS_RATE".into(),
                value: success_rate.to_string(),
                reason: "expected a number from 0 to 1".into(),
            });
        }
        Ok(Self {
            http: HttpConfig::from_env("PAYMENT_PORT", ports::PAYMENT)?,
            store: StoreConfig::from_env("payment_db", "payment.db"),
            nats_url: config::nats_url(),
            nats_connect_timeout: config::secs_or(
                "NATS_CONNECT_TIMEOUT_SECS",
                Duration::from_secs(30),
            )?,
            auth_url: config::auth_service_url(),
            auth_timeout: Duration::from_millis(config::parse_or("AUTH_TIMEOUT_MS", 2000)?),
            ticket_url: config::var_or(
                "TICKET_SERVICE_URL",
                &format!("http://127.0.0.1:{}", ports::TICKET),
            ),
            ticket_timeout: Duration::from_millis(config::parse_or("TICKET_TIMEOUT_MS", 2000)?),
            order_wait: Duration::from_millis(config::parse_or("ORDER_WAIT_MS", 2000)?),
            success_rate,
            currency,
            consumer_concurrency: config::parse_or("CONSUMER_CONCURRENCY", 16usize)?.max(1),
            stale_after: config::secs_or("PAYMENT_STALE_SECS", Duration::from_secs(60))?,
            idempotency_ttl: config::secs_or(
                "IDEMPOTENCY_KEY_TTL_SECS",
                Duration::from_secs(86_400),
            )?,
        })
    }
}
