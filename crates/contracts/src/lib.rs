//! What the services tell each other over NATS JetStream: stream names, subjects, the event
//! envelope, and the stream/consumer definitions of `nats/` (compiled in, so the files stay the
//! single source of truth for both the services and the NATS CLI), and the AsyncAPI document
//! generated from all of it (`asyncapi::document()`, committed as `docs/asyncapi.json`).

pub mod asyncapi;
pub mod catalog;
pub mod envelope;
pub mod jetstream;
pub mod orders;
pub mod payments;
pub mod subjects;
pub mod tickets;

pub use envelope::Envelope;
