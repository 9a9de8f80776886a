//! One event: details, live availability, quantity pickers and booking.

use std::collections::BTreeMap;

use api_types::events::{EventView, Status};
use api_types::orders::{Availability, CustomerInfo};
use chrono::{DateTime, Utc};
use dioxus::prelude::*;

use crate::Route;
use crate::api::{self, ApiError};
use crate::components::{ErrorBox, FieldError, Loading, StatusBadge};
use crate::format;
use crate::live::{LiveMode, use_live_availability};
use crate::model::MAX_PER_ORDER;
use crate::pages::waiting_room::{self, QueueNotice};
use crate::pages::waitlist::WaitlistPanel;
use crate::session::{to_login, use_session};

#[component]
pub fn EventDetail(id: String) -> Element {
    let mut event = use_resource(use_reactive!(|id| async move {
        api::events::get_one(&id).await
    }));
    let read = event.read();
    match &*read {
        None => rsx! { Loading { label: "Loading the event…" } },
        Some(Err(e)) if e.status == 404 => rsx! {
            section { class: "page",
                h1 { "Event not found" }
                p { "This event does not exist or is not published." }
                Link { class: "btn btn-primary", to: Route::home(), "Browse events" }
            }
        },
        Some(Err(e)) => rsx! { ErrorBox { error: e.clone(), retry: move |_| event.restart() } },
        Some(Ok(ev)) => rsx! { EventArticle { key: "{ev.id}", event: ev.clone() } },
    }
}

#[component]
fn EventArticle(event: EventView) -> Element {
    format::set_title(&event.title);
    let live = use_live_availability(event.id.to_string());
    let signed_in = use_session().user.read().is_some();
    let availability = (live.availability)();
    rsx! {
        article { class: "page event-detail",
            nav { class: "breadcrumbs", aria_label: "Breadcrumb",
                Link { to: Route::home(), "Events" } " / " span { "{event.category.as_str()}" }
            }
            header { class: "event-head",
                h1 { id: "event-title", "{event.title}" }
                if event.status != Status::Published {
                    StatusBadge { status: event.status.as_str() }
                }
                dl { class: "facts",
                    div { dt { "When" } dd { time { datetime: format::iso(&event.date_time), "{format::when(&event.date_time)}" } " · {event.duration} min" } }
                    div { dt { "Where" } dd { "{event.venue.name}, {event.venue.address}, {event.venue.city}" } }
                    div { dt { "Category" } dd { "{event.category.as_str()}" } }
                    div { dt { "Organizer" } dd { "{event.organizer.name} · " a { href: "mailto:{event.organizer.email}", "{event.organizer.email}" }
                        if let Some(phone) = &event.organizer.phone { " · {phone}" } } }
                    div { dt { "Capacity" } dd { "{event.venue.capacity} people" } }
                    div { dt { "Refunds" } dd { "data-testid": "refund-policy", "{refund_policy_text(&event)}" } }
                    if let Some(opens) = event.sale.on_sale_at {
                        div { dt { "On sale" } dd { "data-testid": "on-sale-at", time { datetime: format::iso(&opens), "{format::when(&opens)}" } } }
                    }
                }
            }
            if !event.description.is_empty() {
                section { class: "description", aria_labelledby: "about-h",
                    h2 { id: "about-h", "About" }
                    for para in event.description.split("\n\n").map(str::to_string) {
                        p { "{para}" }
                    }
                }
            }
            Booking { event: event.clone(), availability: availability.clone(), mode: (live.mode)() }
            if event.status == Status::Published && signed_in {
                WaitlistPanel { event_id: event.id.to_string(), sold_out: sold_out_types(availability.as_ref()) }
            }
            // Nothing to join any more; the buyer still learns their place in line ended.
            if event.status == Status::Cancelled && signed_in {
                WaitlistPanel { event_id: event.id.to_string(), sold_out: Vec::new() }
            }
        }
    }
}

#[component]
fn Booking(event: EventView, availability: Option<Availability>, mode: LiveMode) -> Element {
    let session = use_session();
    let mut quantities = use_signal(BTreeMap::<String, u32>::new);
    let mut first = use_signal(String::new);
    let mut last = use_signal(String::new);
    let mut email = use_signal(String::new);
    let phone = use_signal(String::new);
    let mut error = use_signal(|| None::<ApiError>);
    let mut busy = use_signal(|| false);
    let mut key = use_signal(api::new_key);

    // Pre-fill the buyer from the signed-in user.
    use_effect(move || {
        if let Some(u) = session.user.read().as_ref() {
            if first.peek().is_empty() {
                first.set(u.first_name.clone());
            }
            if last.peek().is_empty() {
                last.set(u.last_name.clone());
            }
            if email.peek().is_empty() {
                email.set(u.email.clone());
            }
        }
    });

    let total_qty: u32 = quantities.read().values().sum();
    let total_minor: i64 = event
        .ticket_types
        .iter()
        .map(|t| t.price_minor * i64::from(*quantities.read().get(&t.name).unwrap_or(&0)))
        .sum();
    let bookable = event.status == Status::Published;
    let signed_in = session.user.read().is_some();

    let ticket_types = event.ticket_types.clone();
    let event_id = event.id.to_string();
    let book = move |e: FormEvent| {
        e.prevent_default();
        let event_id = event_id.clone();
        async move {
            if session.user.peek().is_none() {
                to_login();
                return;
            }
            let lines: Vec<(String, u32)> = quantities
                .peek()
                .iter()
                .filter(|(_, q)| **q > 0)
                .map(|(n, q)| (n.clone(), *q))
                .collect();
            if lines.is_empty() {
                error.set(Some(ApiError {
                    status: 0,
                    code: "no_tickets".into(),
                    message: "Choose at least one ticket.".into(),
                    fields: Default::default(),
                }));
                return;
            }
            let customer = CustomerInfo {
                first_name: first.peek().trim().to_string(),
                last_name: last.peek().trim().to_string(),
                email: email.peek().trim().to_string(),
                phone: Some(phone.peek().trim().to_string()).filter(|p| !p.is_empty()),
            };
            busy.set(true);
            error.set(None);
            let pass = waiting_room::stored_pass(&event_id);
            let result =
                api::tickets::book(&event_id, &lines, &customer, &key.peek(), pass.as_deref())
                    .await;
            busy.set(false);
            match result {
                Ok(booked) => {
                    navigator().push(Route::OrderPage {
                        id: booked.order_id.to_string(),
                    });
                }
                Err(e) if e.is_unauthorized() => to_login(),
                Err(e) => {
                    // A refused booking can be changed and sent again: a new request, a new key.
                    key.set(api::new_key());
                    error.set(Some(e));
                    format::focus("booking-error");
                }
            }
        }
    };

    let err = error();
    let field = |name: &str| err.as_ref().and_then(|e| e.field(name));
    let live_label = match mode {
        LiveMode::Connecting => "Connecting to live availability…",
        LiveMode::Streaming => "Availability updates live",
        LiveMode::Polling => "Availability refreshes every 5 seconds",
    };

    rsx! {
        section { class: "booking card", aria_labelledby: "tickets-h",
            h2 { id: "tickets-h", "Tickets" }
            if event.sale.queue.enabled {
                QueueNotice { event_id: event.id.to_string() }
            }
            p { class: "live-note", span { class: "live-dot live-{mode:?}", aria_hidden: "true" } "{live_label}" }
            form { onsubmit: book, novalidate: true,
                fieldset { class: "ticket-types",
                    legend { class: "sr-only", "Choose tickets (at most {MAX_PER_ORDER} per order)" }
                    for (i, t) in ticket_types.iter().cloned().enumerate() {
                        {
                            let stock = availability.as_ref().and_then(|a| a.of(&t.name).cloned());
                            let available = stock.as_ref().map(|s| s.available);
                            let qty = *quantities.read().get(&t.name).unwrap_or(&0);
                            let others = total_qty - qty;
                            let max = available.unwrap_or(MAX_PER_ORDER).min(MAX_PER_ORDER.saturating_sub(others));
                            let name = t.name.clone();
                            let name2 = t.name.clone();
                            let name3 = t.name.clone();
                            let input_id = format!("qty-{i}");
                            let avail_id = format!("avail-{i}");
                            let sold_out = available == Some(0);
                            rsx! {
                                div { key: "{t.name}", class: if sold_out { "ticket-type sold-out" } else { "ticket-type" }, "data-testid": "ticket-type",
                                    div { class: "tt-info",
                                        h3 { class: "tt-name", "{t.name}" }
                                        p { class: "tt-price", "{format::price(t.price_minor, &event.currency)}" }
                                        if !t.description.is_empty() { p { class: "tt-desc", "{t.description}" } }
                                        p { id: "{avail_id}", class: "tt-avail", aria_live: "polite",
                                            match available {
                                                None => rsx! { "Checking availability…" },
                                                Some(0) => rsx! { strong { class: "badge badge-soldout", "Sold out" } },
                                                Some(n) if n <= 10 => rsx! { strong { class: "badge badge-few", "Only {n} left" } },
                                                Some(n) => rsx! { "{n} available" },
                                            }
                                        }
                                    }
                                    if bookable {
                                        div { class: "stepper",
                                            button { r#type: "button", class: "btn btn-icon", aria_label: "One fewer {t.name}",
                                                disabled: qty == 0,
                                                onclick: move |_| { let mut q = quantities.write(); let v = q.entry(name.clone()).or_insert(0); *v = v.saturating_sub(1); },
                                                "−" }
                                            label { class: "sr-only", r#for: "{input_id}", "Number of {t.name} tickets" }
                                            input { id: "{input_id}", r#type: "number", inputmode: "numeric", min: "0", max: "{max}",
                                                value: "{qty}", aria_describedby: "{avail_id}", disabled: sold_out && qty == 0,
                                                "data-testid": "qty",
                                                oninput: move |e: FormEvent| {
                                                    let v = e.value().trim().parse::<u32>().unwrap_or(0).min(max);
                                                    quantities.write().insert(name2.clone(), v);
                                                } }
                                            button { r#type: "button", class: "btn btn-icon", aria_label: "One more {t.name}",
                                                disabled: qty >= max,
                                                onclick: move |_| { let mut q = quantities.write(); let v = q.entry(name3.clone()).or_insert(0); *v = (*v + 1).min(max); },
                                                "+" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                if !bookable {
                    p { class: "notice", "This event is not on sale." }
                } else {
                    p { class: "order-total", aria_live: "polite",
                        if total_qty == 0 { "Choose up to {MAX_PER_ORDER} tickets." }
                        else { "{total_qty} ticket" if total_qty != 1 { "s" } " · total " strong { "{format::money(total_minor, &event.currency)}" } }
                        if total_qty >= MAX_PER_ORDER { " (the limit per order)" }
                    }
                    if signed_in {
                        fieldset { class: "customer",
                            legend { "Your details" }
                            div { class: "grid-2",
                                TextField { id: "c-first", label: "First name", value: first, autocomplete: "given-name", error: field("customerInfo.firstName") }
                                TextField { id: "c-last", label: "Last name", value: last, autocomplete: "family-name", error: field("customerInfo.lastName") }
                                TextField { id: "c-email", label: "Email", value: email, kind: "email", autocomplete: "email", error: field("customerInfo.email") }
                                TextField { id: "c-phone", label: "Phone (optional)", value: phone, kind: "tel", autocomplete: "tel", error: field("customerInfo.phone") }
                            }
                        }
                    }
                    div { id: "booking-error", tabindex: "-1", aria_live: "assertive",
                        if let Some(e) = err.as_ref() {
                            div { class: "alert alert-error", role: "alert",
                                p { "{e.message}" }
                                if e.code == "sold_out" { p { "Availability above is current; change your selection and book again." } }
                                for (k, msgs) in e.fields.iter().filter(|(k, _)| k.starts_with("tickets")) {
                                    p { key: "{k}", "{msgs.join(\" \")}" }
                                }
                            }
                        }
                    }
                    if signed_in {
                        button { class: "btn btn-primary btn-lg", r#type: "submit", disabled: busy() || total_qty == 0,
                            "data-testid": "book",
                            if busy() { "Booking…" } else { "Book" }
                        }
                        p { class: "hint", "Seats are held for you while you pay; the order page shows the time left." }
                    } else {
                        p { class: "notice",
                            Link { to: Route::Login {}, "Log in" } " or " Link { to: Route::Register {}, "sign up" } " to book tickets."
                        }
                    }
                }
            }
        }
    }
}

/// The ticket types with no seat left, in the catalogue's order.
fn sold_out_types(availability: Option<&Availability>) -> Vec<String> {
    availability
        .map(|a| {
            a.ticket_types
                .iter()
                .filter(|t| t.available == 0)
                .map(|t| t.name.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// When refunds close (`None` when they are not offered).
pub fn refund_deadline(event: &EventView) -> Option<DateTime<Utc>> {
    event.refund_policy.deadline(event.date_time)
}

/// The event's refund policy in a sentence, with its deadline in the browser's time zone.
pub fn refund_policy_text(event: &EventView) -> String {
    let hours = event.refund_policy.until_hours_before;
    match refund_deadline(event) {
        None => "Refunds are not offered for this event.".into(),
        Some(_) if hours == 0 => {
            "Paid orders can be cancelled for a full refund until the event starts.".into()
        }
        Some(deadline) => format!(
            "Paid orders can be cancelled for a full refund until {} ({hours} hours before the start).",
            format::when(&deadline),
        ),
    }
}

/// A labelled text input bound to a signal, with its inline error.
#[component]
pub fn TextField(
    id: String,
    label: String,
    value: Signal<String>,
    #[props(default = "text".to_string())] kind: String,
    #[props(default)] autocomplete: String,
    #[props(default)] required: bool,
    #[props(default)] hint: Option<String>,
    error: Option<String>,
    #[props(default)] onblur: Option<EventHandler<()>>,
) -> Element {
    let err_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = match (&hint, &error) {
        (Some(_), Some(_)) => format!("{hint_id} {err_id}"),
        (Some(_), None) => hint_id.clone(),
        (None, Some(_)) => err_id.clone(),
        (None, None) => String::new(),
    };
    let mut value = value;
    rsx! {
        div { class: if error.is_some() { "field has-error" } else { "field" },
            label { r#for: "{id}", "{label}" if required { span { class: "req", aria_hidden: "true", " *" } } }
            input { id: "{id}", name: "{id}", r#type: "{kind}", value: "{value}", autocomplete: "{autocomplete}",
                required: required, aria_invalid: error.is_some(), aria_describedby: "{described}",
                oninput: move |e: FormEvent| value.set(e.value()),
                onblur: move |_| if let Some(h) = onblur { h.call(()) } }
            if let Some(h) = hint { p { class: "field-hint", id: "{hint_id}", "{h}" } }
            FieldError { id: err_id.clone(), message: error.clone() }
        }
    }
}
