//! The event service end to end: HTTP routes, the catalogue, the life cycle of an event, its
//! facts on the broker and the store contract.

mod broker;
mod catalogue;
mod create;
mod demo;
mod lifecycle;
mod ready;
mod refunds;
mod sale_start;
mod staff;
mod store_contract;
mod support;
