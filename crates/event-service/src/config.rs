//! Event service settings, all from environment variables (see the README).

use std::time::Duration;

use platform::config::{self, ConfigError, HttpConfig, StoreConfig, ports};
use uuid::Uuid;

use platform::money::Currency;

#[derive(Debug, Clone)]
pub struct EventConfig {
    /// `HOST`, `EVENT_PORT` (default 3002).
    pub http: HttpConfig,
    /// `MONGODB_URI` (database `event_db`), else SQLite `<DATA_DIR>/event.db`.
    pub store: StoreConfig,
    /// `NATS_URL`, default `nats://127.0.0.1:4222`.
    pub nats_url: String,
    /// `NATS_CONNECT_TIMEOUT_SECS`, default 30: how long start-up waits for NATS.
    pub nats_connect_timeout: Duration,
    /// `AUTH_SERVICE_URL`, default `http://127.0.0.1:3001`.
    pub auth_url: String,
    /// `AUTH_TIMEOUT_MS`, default 2000.
    pub auth_timeout: Duration,
    /// `CURRENCY`, default `USD`: the currency of every price this service stores.
    pub currency: Currency,
    /// `DEMO_DATA=true`: load the demo catalogue into an empty database at start-up.
    pub demo: Option<DemoOrganizer>,
}

/// Who owns the demo catalogue: an auth-service account the launcher registers.
#[derive(Debug, Clone)]
pub struct DemoOrganizer {
    /// `DEMO_ORGANIZER_ID`; without it a fixed id is used (the events then have no owner who can
    /// sign in).
    pub id: Uuid,
    /// `DEMO_ORGANIZER_NAME`, default `Demo Organizer`.
    pub name: String,
    /// `DEMO_ORGANIZER_EMAIL`, default `organizer@demo.local`.
    pub email: String,
}

/// The owner of the demo events when `DEMO_ORGANIZER_ID` is not set.
pub const FALLBACK_DEMO_ORGANIZER_ID: Uuid =
    Uuid::from_u128(0x00000000_0000_4000_8000_0000000de300);

impl EventConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let currency_raw = config::var_or("CURRENCY", "USD");
        let currency = Currency::parse(&currency_raw).map_err(|reason| ConfigError {
            name: "CURRENCY".into(),
            value: currency_raw.clone(),
            reason: reason.into(),
        })?;
        let demo = if config::bool_or("DEMO_DATA", false)? {
            Some(DemoOrganizer {
                id: config::parse_or("DEMO_ORGANIZER_ID", FALLBACK_DEMO_ORGANIZER_ID)?,
                name: config::var_or("DEMO_ORGANIZER_NAME", "Demo Organizer"),
                email: config::var_or("DEMO_ORGANIZER_EMAIL", "organizer@demo.local"),
            })
        } else {
            None
        };
        Ok(Self {
            http: HttpConfig::from_env("EVENT_PORT", ports::EVENT)?,
            store: StoreConfig::from_env("event_db", "event.db"),
            nats_url: config::nats_url(),
            nats_connect_timeout: config::secs_or(
                "NATS_CONNECT_TIMEOUT_SECS",
                Duration::from_secs(30),
            )?,
            auth_url: config::auth_service_url(),
            auth_timeout: Duration::from_millis(config::parse_or("AUTH_TIMEOUT_MS", 2000)?),
            currency,
            demo,
        })
    }
}
