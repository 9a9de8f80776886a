//! The ticket service: inventory per ticket type, atomic booking with holds that expire, orders,
//! e-tickets, and the order side of the saga (payment results in, order facts out).

pub mod app;
pub mod catalog;
pub mod codes;
pub mod config;
pub mod error;
pub mod expiry;
pub mod facts;
pub mod lifecycle;
pub mod live;
pub mod openapi;
pub mod order;
mod routes;
pub mod saga;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod view;

pub use app::{App, AppState, build, build_with_store, router, run};
pub use config::TicketConfig;
pub use openapi::openapi;
