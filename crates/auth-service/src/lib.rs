//! The auth service: accounts, password sign-in and server-side cookie sessions. Other services
//! ask `GET /api/auth/verify` who a cookie belongs to.

pub mod accounts;
pub mod app;
pub mod config;
pub mod domain;
pub mod error;
pub mod openapi;
pub mod passwords;
pub mod records;
mod routes;
pub mod session;
pub mod state;
pub mod store;
pub mod throttle;

pub use app::{App, build, build_with_store, run};
pub use config::AuthConfig;
pub use openapi::openapi;
pub use state::AppState;
#[cfg(feature = "testing")]
pub mod testing;
