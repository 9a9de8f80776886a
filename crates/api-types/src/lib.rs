//! The JSON shapes of the HTTP API: one definition per shape. The services serialize their
//! answers with these types (and, with the `openapi` feature, derive the OpenAPI schema from
//! them); the web app and the inter-service clients deserialize the same types. Serde only, so
//! the wasm build stays small: no service code, no I/O.

pub mod auth;
pub mod back_office;
pub mod checkin;
pub mod events;
mod names;
pub mod notifications;
pub mod orders;
pub mod payments;
pub mod queue;
pub mod waitlist;
