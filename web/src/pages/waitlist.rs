//! The waitlist on the event page (join a sold-out type, your place in line, an offer with its
//! countdown, Accept or Decline) and its length per type on the organizer's dashboard.

use api_types::waitlist::{WaitlistEntryView, WaitlistStatus};
use dioxus::prelude::*;

use crate::Route;
use crate::api::{self, ApiError};
use crate::components::Countdown;
use crate::session::to_login;

/// How often the buyer's entries are asked for again, so an offer shows up by itself.
const REFRESH_MS: u32 = 3_000;

/// The signed-in buyer's waitlist of the event: a "Join the waitlist" button for every sold-out
/// type they are not in line for, each open entry (waiting, or offered with its countdown), and
/// each entry the event's cancellation ended.
#[component]
pub fn WaitlistPanel(event_id: String, sold_out: Vec<String>) -> Element {
    let mut tick = use_signal(|| 0u32);
    use_hook(move || {
        spawn(async move {
            loop {
                gloo_timers::future::TimeoutFuture::new(REFRESH_MS).await;
                tick += 1;
            }
        });
    });
    let id_for_entries = event_id.clone();
    let entries = use_resource(move || {
        let _ = tick();
        let id = id_for_entries.clone();
        async move { api::waitlist::mine(&id).await }
    });
    let mut error = use_signal(|| None::<ApiError>);
    let mut busy = use_signal(|| false);

    let open: Vec<WaitlistEntryView> = match &*entries.read() {
        Some(Ok(all)) => all.iter().filter(|e| e.status.is_open()).cloned().collect(),
        _ => Vec::new(),
    };
    let called_off: Vec<WaitlistEntryView> = match &*entries.read() {
        Some(Ok(all)) => all
            .iter()
            .filter(|e| e.status == WaitlistStatus::EventCancelled)
            .cloned()
            .collect(),
        _ => Vec::new(),
    };
    let joinable: Vec<String> = sold_out
        .iter()
        .filter(|t| !open.iter().any(|e| &e.ticket_type == *t))
        .cloned()
        .collect();
    if open.is_empty() && joinable.is_empty() && called_off.is_empty() {
        return rsx! {};
    }

    let mut run = move |result: Result<(), ApiError>| match result {
        Ok(()) => {
            error.set(None);
            tick += 1;
        }
        Err(e) if e.is_unauthorized() => to_login(),
        Err(e) => {
            error.set(Some(e));
            tick += 1;
        }
    };

    rsx! {
        section { class: "waitlist card", aria_labelledby: "waitlist-h", "data-testid": "waitlist",
            h2 { id: "waitlist-h", "Waitlist" }
            if called_off.is_empty() {
                p { class: "hint", "When seats of a sold-out type come back, they are held for the first people in line, in order." }
            }
            for entry in open.iter().cloned() {
                div { key: "{entry.id}", class: "waitlist-entry", "data-testid": "waitlist-entry",
                    if entry.status == WaitlistStatus::Offered {
                        p { class: "offer", "data-testid": "waitlist-offer",
                            strong { "{entry.quantity} × {entry.ticket_type}" } " held for you. "
                            if let Some(until) = entry.offer_expires_at {
                                Countdown { expires_at: until, on_expired: move |_| tick += 1 }
                            }
                        }
                        div { class: "actions",
                            button { class: "btn btn-primary", r#type: "button", disabled: busy(),
                                "data-testid": "accept-offer",
                                onclick: {
                                    let id = entry.id.to_string();
                                    move |_| {
                                        let id = id.clone();
                                        async move {
                                            busy.set(true);
                                            let result = api::waitlist::accept(&id).await;
                                            busy.set(false);
                                            match result {
                                                Ok(booked) => {
                                                    navigator().push(Route::OrderPage { id: booked.order_id.to_string() });
                                                }
                                                Err(e) => run(Err(e)),
                                            }
                                        }
                                    }
                                },
                                "Accept and book" }
                            button { class: "btn btn-ghost", r#type: "button", disabled: busy(),
                                "data-testid": "decline-offer",
                                onclick: {
                                    let id = entry.id.to_string();
                                    move |_| {
                                        let id = id.clone();
                                        async move { run(api::waitlist::decline(&id).await.map(drop)) }
                                    }
                                },
                                "Decline" }
                        }
                    } else {
                        p { "data-testid": "waitlist-position",
                            "You are number "
                            strong { "{entry.position.unwrap_or(1)}" }
                            " in line for {entry.quantity} × {entry.ticket_type}."
                        }
                        button { class: "btn btn-ghost", r#type: "button", disabled: busy(),
                            "data-testid": "leave-waitlist",
                            onclick: {
                                let event_id = event_id.clone();
                                move |_| {
                                    let event_id = event_id.clone();
                                    async move { run(api::waitlist::leave(&event_id).await) }
                                }
                            },
                            "Leave the waitlist" }
                    }
                }
            }
            for entry in called_off {
                p { key: "{entry.id}", class: "waitlist-entry", "data-testid": "waitlist-cancelled",
                    "Your place in line for {entry.quantity} × {entry.ticket_type} ended: the event was cancelled."
                }
            }
            for t in joinable {
                div { key: "join-{t}", class: "waitlist-join",
                    button { class: "btn btn-secondary", r#type: "button", disabled: busy(),
                        "data-testid": "join-waitlist",
                        onclick: {
                            let (event_id, t) = (event_id.clone(), t.clone());
                            move |_| {
                                let (event_id, t) = (event_id.clone(), t.clone());
                                async move {
                                    busy.set(true);
                                    let result = api::waitlist::join(&event_id, &t, 1).await;
                                    busy.set(false);
                                    run(result.map(drop));
                                }
                            }
                        },
                        "Join the waitlist for {t}" }
                }
            }
            div { aria_live: "assertive",
                if let Some(e) = error() {
                    div { class: "alert alert-error", role: "alert", p { "{e.message}" } }
                }
            }
        }
    }
}

/// The organizer's view: people waiting (and the seats they want) and offers out, per type.
#[component]
pub fn WaitlistLengthsView(event_id: String) -> Element {
    let lengths = use_resource(move || {
        let id = event_id.clone();
        async move { api::waitlist::lengths(&id).await }
    });
    let read = lengths.read();
    let Some(Ok(l)) = &*read else {
        return rsx! {};
    };
    rsx! {
        section { class: "card", aria_labelledby: "waitlist-lengths-h", "data-testid": "waitlist-lengths",
            h2 { id: "waitlist-lengths-h", "Waitlist" }
            table {
                thead { tr { th { scope: "col", "Ticket type" } th { scope: "col", "Waiting" } th { scope: "col", "Seats wanted" } th { scope: "col", "Offers out" } } }
                tbody {
                    for t in l.ticket_types.iter() {
                        tr { key: "{t.ticket_type}",
                            th { scope: "row", "{t.ticket_type}" }
                            td { "{t.waiting}" }
                            td { "{t.waiting_seats}" }
                            td { "{t.offered}" }
                        }
                    }
                }
            }
        }
    }
}
