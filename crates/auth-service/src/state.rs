//! What every request handler shares.

use std::sync::Arc;

use crate::config::AuthConfig;
use crate::records::SessionRecords;
use crate::store::AuthStore;
use crate::throttle::Throttle;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn AuthStore>,
    pub config: Arc<AuthConfig>,
    /// A hash of a random password, verified against when the email is unknown.
    pub dummy_hash: Arc<str>,
    pub throttles: Arc<Throttles>,
    /// The copy of the sessions the other services check against.
    pub records: SessionRecords,
}

/// Failed sign-ins per account and per client address, sign-ups per address.
#[derive(Debug)]
pub struct Throttles {
    pub login_per_account: Throttle,
    pub login_per_address: Throttle,
    pub registrations_per_address: Throttle,
}

impl Throttles {
    pub fn new(config: &AuthConfig) -> Self {
        Self {
            login_per_account: Throttle::new(config.login_per_account),
            login_per_address: Throttle::new(config.login_per_address),
            registrations_per_address: Throttle::new(config.registrations_per_address),
        }
    }
}
