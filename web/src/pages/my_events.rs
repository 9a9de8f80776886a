//! The organizer's events: status, sold/capacity per ticket type, revenue; edit, publish, cancel,
//! and the way to each event's dashboard.

use api_types::events::{EventView, Status};
use dioxus::prelude::*;

use crate::Route;
use crate::api::{self, ApiError};
use crate::components::{Empty, StatusBadge, in_flight};
use crate::format;
use crate::pages::event_dashboard::CancelEvent;
use crate::session::{RequireLogin, signed_in_answer};

#[component]
pub fn MyEvents() -> Element {
    rsx! { RequireLogin { EventsOfOrganizer {} } }
}

#[component]
fn EventsOfOrganizer() -> Element {
    format::set_title("My events");
    let mut events = use_resource(|| async { api::events::mine().await });
    rsx! {
        section { class: "page",
            div { class: "page-head",
                h1 { "My events" }
                Link { class: "btn btn-primary", to: Route::CreateEvent {}, "Create event" }
            }
            div { aria_live: "polite",
                {signed_in_answer(events, "Loading your events…", |list| if list.is_empty() {
                    rsx! {
                        Empty { title: "You have not created any events yet.",
                            p { Link { to: Route::CreateEvent {}, "Create your first event" } "." }
                        }
                    }
                } else {
                    rsx! {
                        ul { class: "manage-list",
                            for ev in list.clone() {
                                ManagedEvent { key: "{ev.id}-{ev.version}", event: ev, reload: move |_| events.restart() }
                            }
                        }
                    }
                })}
            }
        }
    }
}

#[component]
fn ManagedEvent(event: EventView, reload: EventHandler<()>) -> Element {
    let id = event.id.to_string();
    let is_draft = event.status == Status::Draft;
    let availability = use_resource(move || {
        let id = id.clone();
        async move {
            if is_draft {
                return None;
            }
            api::tickets::availability(&id).await.ok()
        }
    });
    let mut error = use_signal(|| None::<ApiError>);
    let busy = use_signal(|| false);
    let mut notice = use_signal(|| None::<String>);

    let publish = move |id: String| async move {
        let result = in_flight(busy, error, api::events::publish(&id)).await;
        match result {
            Ok(e) => {
                notice.set(Some(format!(
                    "\u{201c}{}\u{201d} is now {}.",
                    e.title,
                    e.status.as_str()
                )));
                reload.call(());
            }
            Err(e) => error.set(Some(e)),
        }
    };
    let id_publish = event.id.to_string();

    let stock = availability.read().clone().flatten();
    let revenue: i64 = event
        .ticket_types
        .iter()
        .map(|t| {
            let sold = stock
                .as_ref()
                .and_then(|a| a.of(&t.name))
                .map(|s| s.sold)
                .unwrap_or(0);
            t.price_minor * i64::from(sold)
        })
        .sum();

    rsx! {
        li { class: "card manage-card", "data-testid": "my-event",
            div { class: "order-card-head",
                h2 { class: "h3", Link { to: Route::EventDetail { id: event.id.to_string() }, "{event.title}" } }
                StatusBadge { status: event.status.as_str() }
            }
            p { class: "event-meta", "{format::when(&event.date_time)} · {event.venue.name}, {event.venue.city}" }
            table { class: "stock-table",
                caption { class: "sr-only", "Tickets sold for {event.title}" }
                thead { tr { th { scope: "col", "Ticket type" } th { scope: "col", "Price" } th { scope: "col", "Sold / capacity" } th { scope: "col", "Held" } } }
                tbody {
                    for t in event.ticket_types.clone() {
                        {
                            let s = stock.as_ref().and_then(|a| a.of(&t.name).cloned());
                            rsx! {
                                tr { key: "{t.name}",
                                    th { scope: "row", "{t.name}" }
                                    td { "{format::price(t.price_minor, &event.currency)}" }
                                    td {
                                        match &s {
                                            Some(s) => rsx! {
                                                "{s.sold} / {s.capacity}"
                                                meter { class: "meter", min: "0", max: "{s.capacity}", value: "{s.sold}", aria_label: "{s.sold} of {s.capacity} sold" }
                                            },
                                            None => rsx! { "0 / {t.quantity}" },
                                        }
                                    }
                                    td { "{s.as_ref().map(|s| s.held).unwrap_or(0)}" }
                                }
                            }
                        }
                    }
                }
            }
            p { class: "revenue", "Revenue: " strong { "{format::money(revenue, &event.currency)}" } }
            div { class: "actions",
                if event.status != Status::Cancelled {
                    Link { class: "btn btn-secondary", to: Route::EditEvent { id: event.id.to_string() }, "Edit" }
                }
                if is_draft {
                    button { class: "btn btn-primary", r#type: "button", disabled: busy(),
                        onclick: move |_| publish(id_publish.clone()), "Publish" }
                } else {
                    Link { class: "btn btn-primary", to: Route::EventDashboard { id: event.id.to_string() },
                        "data-testid": "open-dashboard", "Dashboard" }
                }
            }
            if event.status != Status::Cancelled {
                CancelEvent { event: event.clone(), on_cancelled: move |_| reload.call(()) }
            }
            div { aria_live: "polite",
                if let Some(e) = error() { p { class: "field-error", role: "alert", "{e.message}" } }
                if let Some(n) = notice() { p { class: "notice", "{n}" } }
            }
        }
    }
}
