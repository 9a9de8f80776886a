//! The ticket service: inventory per ticket type, atomic booking with holds that expire, orders,
//! e-tickets, and the order side of the saga (payment results in, order facts out).

pub mod app;
pub mod attendees;
mod booking;
mod cancellation;
pub mod cascade;
pub mod catalog;
pub mod catalog_client;
pub mod checkin;
pub mod codes;
pub mod config;
pub mod door;
pub mod error;
pub mod event_status;
pub mod expiry;
pub mod facts;
mod input;
pub mod lifecycle;
pub mod live;
pub mod openapi;
pub mod order;
mod routes;
pub mod saga;
pub mod sales;
pub mod state;
pub mod store;
pub mod summary;
#[cfg(feature = "testing")]
pub mod testing;
mod view;
pub mod waiting_room;
pub mod waitlist;
pub mod waitlist_steps;

pub use app::{App, build, build_with_store, run};
pub use config::TicketConfig;
pub use openapi::openapi;
pub use state::AppState;
