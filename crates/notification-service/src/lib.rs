//! The notification service: reads the facts already on JetStream (orders, payments, the
//! catalogue), keeps its own small projection of events and orders built only from them, and
//! mails buyers and ticket holders what happened: exactly one mail per (fact, recipient),
//! through SMTP (`SMTP_URL`) or as `.eml` files under `DATA_DIR/mail/`. It publishes nothing.
//! `GET /api/notifications/mine` lists what was sent to the caller.

pub mod app;
pub mod calendar;
pub mod config;
pub mod consumer;
pub mod deliver;
pub mod domain;
pub mod error;
pub mod letters;
pub mod mailer;
pub mod openapi;
pub mod plan;
pub mod qr;
pub mod reminders;
mod routes;
pub mod state;
pub mod store;
pub mod templates;

pub use app::{App, build, build_with, run};
pub use config::NotificationConfig;
pub use consumer::{apply, handle};
pub use openapi::openapi;
pub use reminders::sweep;
pub use state::AppState;
#[cfg(feature = "testing")]
pub mod testing;
