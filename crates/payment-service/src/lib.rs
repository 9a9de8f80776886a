//! The payment service: takes payments for pending orders through a simulated gateway and
//! publishes the results (`payments.completed`, `payments.failed`, `payments.refunded`) through
//! the transactional outbox. It knows orders from the `orders.*` events (a local projection), and
//! refunds a completed payment whose order ends up cancelled.

pub mod app;
pub mod arrivals;
pub mod card;
pub mod config;
pub mod consumer;
mod counters;
pub mod domain;
pub mod error;
pub mod facts;
pub mod gateway;
pub mod idempotency;
pub mod input;
pub mod ledger;
pub mod openapi;
pub mod orders;
pub mod process;
mod routes;
pub mod state;
pub mod store;
pub mod view;

pub use app::{App, build, build_with, run, sweep};
pub use config::PaymentConfig;
pub use consumer::{apply, handle};
pub use openapi::openapi;
pub use state::AppState;
#[cfg(feature = "testing")]
pub mod testing;
