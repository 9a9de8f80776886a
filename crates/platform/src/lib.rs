//! Shared building blocks of every service: configuration, telemetry, the JSON error shape,
//! request extractors (`Idempotency-Key` among them), the HTTP server scaffolding, storage helpers
//! (SQLite and MongoDB conversions, the MongoDB transaction runner), NATS set-up, the client that
//! asks another service as the caller, the supervisor of
//! background work, the life of a service process ([`service::Service`]) and test support (the store-contract runner among it).

pub mod auth;
pub mod background;
pub mod client_address;
pub mod config;
pub mod consumer;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod health;
pub mod http;
pub mod idempotency;
pub mod metrics;
pub mod money;
pub mod mongo;
pub mod nats;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod outbox;
pub mod peer;
pub mod query;
pub mod service;
pub mod shutdown;
pub mod sqlite;
pub mod state;
pub mod store;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;
pub mod trace;

pub use auth::{AuthClient, AuthUser, MaybeAuthUser, Role, VerifiedUser};
pub use error::{ApiError, FieldErrors};
pub use extract::ValidatedJson;
pub use idempotency::IdempotencyKey;
pub use store::StoreError;
