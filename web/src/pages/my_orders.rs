//! The buyer's orders: pending ones with their countdown, Pay now and Cancel; confirmed ones with
//! their tickets; cancelled and refunded ones with what happened.

use api_types::orders::{OrderStatus, OrderView};
use dioxus::prelude::*;

use crate::Route;
use crate::api::{self, ApiError};
use crate::components::{Countdown, Empty, ErrorBox, Loading, StatusBadge, TicketList};
use crate::format;
use crate::pages::order::{cancel_pending, cancel_reason};
use crate::session::{RequireLogin, signed_in_answer};

#[component]
pub fn MyOrders() -> Element {
    rsx! { RequireLogin { OrdersList {} } }
}

#[component]
fn OrdersList() -> Element {
    format::set_title("My orders");
    let mut orders = use_resource(|| async { api::tickets::orders().await });
    rsx! {
        section { class: "page",
            div { class: "page-head", h1 { "My orders" } }
            div { aria_live: "polite",
                {signed_in_answer(orders, "Loading your orders…", |list| if list.is_empty() {
                    rsx! {
                        Empty { title: "You have no orders yet.",
                            p { Link { to: Route::home(), "Find an event" } " and book your first tickets." }
                        }
                    }
                } else {
                    rsx! {
                        ul { class: "order-list",
                            for o in list.clone() {
                                OrderCard { key: "{o.id}", order: o, reload: move |_| orders.restart() }
                            }
                        }
                    }
                })}
            }
        }
    }
}

#[component]
fn OrderCard(order: OrderView, reload: EventHandler<()>) -> Element {
    let error = use_signal(|| None::<ApiError>);
    let busy = use_signal(|| false);
    let id = order.id.to_string();
    let cancel = move |_| cancel_pending(id.clone(), busy, error, reload);
    let lines = format::lines(&order.tickets);
    rsx! {
        li { class: "card order-card", "data-testid": "order-card", "data-status": order.status.as_str(),
            div { class: "order-card-head",
                h2 { class: "h3", Link { to: Route::EventDetail { id: order.event_id.to_string() }, "{order.event.title}" } }
                StatusBadge { status: order.status.as_str() }
            }
            p { class: "event-meta", "{format::when(&order.event.date_time)}" }
            dl { class: "facts facts-inline",
                div { dt { "Reference" } dd { strong { class: "ref", "{order.booking_reference}" } } }
                div { dt { "Tickets" } dd { "{lines}" } }
                div { dt { "Total" } dd { "{format::money(order.total_amount_minor, &order.currency)}" } }
                div { dt { "Booked" } dd { "{format::when(&order.created_at)}" } }
            }
            match order.status {
                OrderStatus::Pending => rsx! {
                    p { Countdown { expires_at: order.expires_at, on_expired: move |_| reload.call(()) } }
                    div { class: "actions",
                        Link { class: "btn btn-primary", to: Route::OrderPage { id: order.id.to_string() }, "Pay now" }
                        button { class: "btn btn-ghost", r#type: "button", disabled: busy(), onclick: cancel, "Cancel" }
                    }
                    if let Some(e) = error() { p { class: "field-error", role: "alert", "{e.message}" } }
                },
                OrderStatus::Confirmed => rsx! {
                    details { class: "tickets-details", open: true,
                        summary { "Show tickets ({order.seat_count()})" }
                        OrderTickets { id: order.id.to_string() }
                    }
                    p { class: "secondary-actions", Link { to: Route::OrderPage { id: order.id.to_string() }, "Order details and refunds" } }
                },
                OrderStatus::Cancelled | OrderStatus::Refunded => rsx! {
                    p { class: "muted", "{cancel_reason(order.cancel_reason)}" }
                    p { class: "secondary-actions", Link { to: Route::OrderPage { id: order.id.to_string() }, "Order details" } }
                },
            }
        }
    }
}

/// The issued tickets of one order (the list endpoint does not carry them).
#[component]
fn OrderTickets(id: String) -> Element {
    let mut details = use_resource(use_reactive!(
        |id| async move { api::tickets::order(&id).await }
    ));
    match &*details.read() {
        None => rsx! { Loading { label: "Loading tickets…" } },
        Some(Err(e)) => rsx! { ErrorBox { error: e.clone(), retry: move |_| details.restart() } },
        Some(Ok(o)) => rsx! { TicketList { tickets: o.issued_tickets.clone() } },
    }
}
