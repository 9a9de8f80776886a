//! The HTTP routes of the ticket service, one module per audience; each exposes its router and
//! `app` merges them (with the OpenAPI document's own route) into the service.
//!
//! - [`orders`]: booking and the buyer's own orders (list, show, cancel);
//! - [`availability`]: seats left per ticket type, for anyone.
//!
//! Handlers stay thin: [`crate::input`] turns the request into domain values, the step modules
//! ([`crate::booking`], the store's transitions) do the work, [`crate::view`] builds the answer.
//! Routes for another audience get a module of their own here, merged in [`router`]: the
//! organizer's back office (an event's orders, its attendees, its summary, refunding an order)
//! belongs in an `organizer` module, not in `orders`, which is the buyer's side. Each handler
//! is listed in `crate::openapi` as well.

use axum::Router;

use crate::state::AppState;

pub(crate) mod availability;
pub(crate) mod orders;

/// Every route of the service's own API.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(orders::router())
        .merge(availability::router())
}
