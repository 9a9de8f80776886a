//! The event catalogue: organizers create and manage events, everyone browses and searches the
//! published ones, and every catalogue change reaches the other services as a JetStream event
//! through the transactional outbox.

pub mod app;
pub mod config;
pub mod demo;
pub mod domain;
pub mod error;
pub mod facts;
pub mod input;
pub mod openapi;
pub mod query;
mod routes;
pub mod staff;
pub mod state;
pub mod store;
pub mod tickets;
pub mod view;

pub use app::{App, build, build_with, run};
pub use config::EventConfig;
pub use openapi::openapi;
pub use state::AppState;
