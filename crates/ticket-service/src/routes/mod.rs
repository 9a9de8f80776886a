//! The HTTP routes of the ticket service, one module per audience; each exposes its router and
//! `app` merges them (with the OpenAPI document's own route) into the service.
//!
//! - [`orders`]: booking and the buyer's own orders (list, show, cancel);
//! - [`availability`]: seats left per ticket type, for anyone;
//! - [`organizer`]: the organizer's back office of an event (its orders, attendees and summary,
//!   refunding an order), for its organizer and admins (the attendee list for its check-in
//!   staff too);
//! - [`checkin`]: the door (scans and the offline bundle), for the organizer, admins and staff;
//! - [`waitlist`]: the waitlists of sold-out ticket types (the buyer's entries and offers; the
//!   lengths for the organizer).
//! - [`queue`]: the waiting room of an on-sale, for signed-in visitors.
//!
//! Handlers stay thin: [`crate::input`] turns the request into domain values, the step modules
//! ([`crate::booking`], the store's transitions) do the work, [`crate::view`] builds the answer.
//! Routes for another audience get a module of their own here, merged in [`router`]: the
//! organizer's back office lives in `organizer`, not in `orders`, which is the buyer's side.
//! Each handler is listed in `crate::openapi` as well.

use axum::Router;

use crate::state::AppState;

pub(crate) mod availability;
pub(crate) mod checkin;
pub(crate) mod orders;
pub(crate) mod organizer;
pub(crate) mod queue;
pub(crate) mod waitlist;

/// Every route of the service's own API.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(orders::router())
        .merge(availability::router())
        .merge(organizer::router())
        .merge(checkin::router())
        .merge(waitlist::router())
        .merge(queue::router())
}
