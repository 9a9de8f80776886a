//! What every request handler shares.

use std::sync::Arc;

use crate::config::AuthConfig;
use crate::store::AuthStore;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn AuthStore>,
    pub config: Arc<AuthConfig>,
    /// A hash of a random password, verified against when the email is unknown.
    pub dummy_hash: Arc<str>,
}
