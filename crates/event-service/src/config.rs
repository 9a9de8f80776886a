//! Event service settings, all from environment variables (see the README).

use std::time::Duration;

use platform::config::{self, BaseConfig, ConfigError, LinksConfig, ports, services};
use platform::money::Currency;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct EventConfig {
    /// `HOST`, `EVENT_PORT` (default 3002); `MONGODB_URI` (database `event_db`), else SQLite
    /// `<DATA_DIR>/event.db`.
    pub base: BaseConfig,
    /// `NATS_URL`, `AUTH_SERVICE_URL` and their timeouts.
    pub links: LinksConfig,
    /// `TICKET_SERVICE_URL`, default `http://127.0.0.1:3003`: asked how many paid orders a
    /// cancellation refunds.
    pub ticket_url: String,
    /// `TICKET_TIMEOUT_MS`, default 2000: bound of that question; past it the count is unknown
    /// and the cancellation goes ahead without it.
    pub ticket_timeout: Duration,
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
            base: BaseConfig::from_env(&services::EVENT)?,
            links: LinksConfig::from_env()?,
            ticket_url: config::service_url("TICKET_SERVICE_URL", ports::TICKET),
            ticket_timeout: config::millis_or("TICKET_TIMEOUT_MS", Duration::from_millis(2000))?,
            currency: config::currency()?,
            demo,
        })
    }
}
