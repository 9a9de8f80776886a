//! Create and edit an event: every field, ticket types as rows, the event service's rules checked
//! in the browser first, and the server's field errors shown next to their fields.

use std::collections::BTreeMap;

use api_types::events::{Category, EventView, RefundPolicy, Status};
use api_types::queue::QueueSettings;
use dioxus::prelude::*;

use crate::Route;
use crate::api::{self, ApiError};
use crate::components::{ErrorBox, FieldError, Loading};
use crate::format;
use crate::model::{
    EventInput, MAX_ADMIT_PER_MINUTE, MAX_REFUND_HOURS, OrganizerInput, TicketTypeInput, VenueInput,
};
use crate::session::{RequireLogin, to_login, use_session};

#[component]
pub fn CreateEvent() -> Element {
    format::set_title("Create event");
    rsx! { RequireLogin { EventForm { existing: None } } }
}

#[component]
pub fn EditEvent(id: String) -> Element {
    format::set_title("Edit event");
    rsx! { RequireLogin { EditLoader { id } } }
}

#[component]
fn EditLoader(id: String) -> Element {
    let mut event = use_resource(use_reactive!(|id| async move {
        api::events::get_one(&id).await
    }));
    match &*event.read() {
        None => rsx! { Loading { label: "Loading the event…" } },
        Some(Err(e)) => rsx! { ErrorBox { error: e.clone(), retry: move |_| event.restart() } },
        Some(Ok(ev)) => rsx! { EventForm { key: "{ev.id}", existing: Some(ev.clone()) } },
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
struct TicketRow {
    key: u32,
    name: String,
    price: String,
    quantity: String,
    description: String,
}

const MAX_TYPES: usize = 20;

type Errors = BTreeMap<String, String>;

fn chars(v: &str) -> usize {
    v.trim().chars().count()
}

fn between(errors: &mut Errors, key: &str, v: &str, min: usize, max: usize, what: &str) {
    let n = chars(v);
    if n < min {
        errors.insert(
            key.into(),
            if min <= 1 {
                format!("{what} is required.")
            } else {
                format!("{what} must be at least {min} characters.")
            },
        );
    } else if n > max {
        errors.insert(
            key.into(),
            format!("{what} must be at most {max} characters."),
        );
    }
}

fn whole(
    errors: &mut Errors,
    key: &str,
    v: &str,
    min: i64,
    max: i64,
    message: &str,
) -> Option<i64> {
    match v.trim().parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            errors.insert(key.into(), message.into());
            None
        }
    }
}

fn email_ok(v: &str) -> bool {
    let v = v.trim();
    match v.split_once('@') {
        Some((a, b)) => {
            !a.is_empty()
                && b.contains('.')
                && !b.starts_with('.')
                && !b.ends_with('.')
                && !v.contains(' ')
                && v.len() <= 254
        }
        None => false,
    }
}

#[derive(Clone, Copy)]
struct Fields {
    title: Signal<String>,
    description: Signal<String>,
    category: Signal<String>,
    venue_name: Signal<String>,
    address: Signal<String>,
    city: Signal<String>,
    capacity: Signal<String>,
    date_time: Signal<String>,
    duration: Signal<String>,
    org_name: Signal<String>,
    org_email: Signal<String>,
    org_phone: Signal<String>,
    rows: Signal<Vec<TicketRow>>,
    refund_allowed: Signal<bool>,
    refund_hours: Signal<String>,
    on_sale_at: Signal<String>,
    queue_enabled: Signal<bool>,
    admit_per_minute: Signal<String>,
    waitlist_enabled: Signal<bool>,
}

/// The event service's creation rules; returns the body to send when there is no error.
fn validate(f: &Fields, editing: bool) -> Result<EventInput, Errors> {
    let mut e = Errors::new();
    between(&mut e, "title", &f.title.peek(), 3, 200, "Title");
    between(
        &mut e,
        "description",
        &f.description.peek(),
        0,
        5000,
        "Description",
    );
    let category = f.category.peek().clone();
    if Category::parse(&category).is_none() {
        e.insert("category".into(), "Choose a category.".into());
    }
    between(
        &mut e,
        "venue.name",
        &f.venue_name.peek(),
        1,
        200,
        "Venue name",
    );
    between(
        &mut e,
        "venue.address",
        &f.address.peek(),
        1,
        300,
        "Address",
    );
    between(&mut e, "venue.city", &f.city.peek(), 1, 100, "City");
    let capacity = whole(
        &mut e,
        "venue.capacity",
        &f.capacity.peek(),
        1,
        1_000_000,
        "Capacity must be between 1 and 1000000.",
    );
    let date_time = format::local_input_to_rfc3339(&f.date_time.peek());
    match &date_time {
        None => {
            e.insert("dateTime".into(), "Date and time are required.".into());
        }
        Some(dt) if format::millis(dt) <= format::now_millis() => {
            e.insert(
                "dateTime".into(),
                "The event must start in the future.".into(),
            );
        }
        _ => {}
    }
    let duration = whole(
        &mut e,
        "duration",
        &f.duration.peek(),
        1,
        10_080,
        "Duration must be between 1 and 10080 minutes (one week).",
    );
    let rows = f.rows.peek().clone();
    if rows.is_empty() {
        e.insert(
            "ticketTypes".into(),
            "At least one ticket type is required.".into(),
        );
    } else if rows.len() > MAX_TYPES {
        e.insert(
            "ticketTypes".into(),
            "An event has 1 to 20 ticket types.".into(),
        );
    }
    let mut types = Vec::new();
    let mut total: i64 = 0;
    for (i, r) in rows.iter().enumerate() {
        let k = |f: &str| format!("ticketTypes[{i}].{f}");
        between(&mut e, &k("name"), &r.name, 1, 100, "Ticket type name");
        if rows[..i]
            .iter()
            .any(|o| o.name.trim().to_lowercase() == r.name.trim().to_lowercase())
            && !r.name.trim().is_empty()
        {
            e.insert(
                k("name"),
                format!(
                    "Ticket type names must be unique; \"{}\" appears twice.",
                    r.name.trim()
                ),
            );
        }
        let price = match format::parse_price(&r.price) {
            Ok(c) => Some(c),
            Err(m) => {
                e.insert(k("price"), m.into());
                None
            }
        };
        let quantity = whole(
            &mut e,
            &k("quantity"),
            &r.quantity,
            1,
            100_000,
            "Quantity must be between 1 and 100000.",
        );
        between(
            &mut e,
            &k("description"),
            &r.description,
            0,
            500,
            "Ticket type description",
        );
        if let Some(q) = quantity {
            total += q;
        }
        if let (Some(cents), Some(q)) = (price, quantity) {
            let number: serde_json::Number = if cents % 100 == 0 {
                (cents / 100).into()
            } else {
                serde_json::from_str(&format!("{}.{:02}", cents / 100, cents % 100))
                    .unwrap_or_else(|_| 0.into())
            };
            types.push(TicketTypeInput {
                name: r.name.trim().into(),
                price: number,
                quantity: q,
                description: r.description.trim().into(),
            });
        }
    }
    if let Some(c) = capacity
        && total > c
        && !e.keys().any(|k| k.starts_with("ticketTypes"))
    {
        e.insert(
            "ticketTypes".into(),
            format!(
                "The ticket quantities add up to {total}, more than the venue capacity of {c}."
            ),
        );
    }
    let org_name = f.org_name.peek().trim().to_string();
    let org_email = f.org_email.peek().trim().to_string();
    let org_phone = f.org_phone.peek().trim().to_string();
    if chars(&org_name) > 100 {
        e.insert(
            "organizer.name".into(),
            "Organizer name must be at most 100 characters.".into(),
        );
    }
    if !org_email.is_empty() && !email_ok(&org_email) {
        e.insert(
            "organizer.email".into(),
            "Enter a valid email address.".into(),
        );
    }
    if !org_phone.is_empty() {
        let digits = org_phone.chars().filter(char::is_ascii_digit).count();
        let allowed = org_phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
        if !allowed || !(5..=20).contains(&digits) || org_phone.len() > 30 {
            e.insert(
                "organizer.phone".into(),
                "Enter a phone number of 5 to 20 digits (spaces, +, -, ( ) allowed).".into(),
            );
        }
    }
    let refund_allowed = *f.refund_allowed.peek();
    let refund_hours = if refund_allowed {
        whole(
            &mut e,
            "refundPolicy.untilHoursBefore",
            &f.refund_hours.peek(),
            0,
            i64::from(MAX_REFUND_HOURS),
            &format!("Enter a whole number of hours from 0 to {MAX_REFUND_HOURS}."),
        )
    } else {
        Some(0)
    };
    let (on_sale_at, queue) = sale_start(f, date_time.as_deref(), &mut e);
    if !e.is_empty() {
        return Err(e);
    }
    let _ = editing;
    Ok(EventInput {
        title: f.title.peek().trim().into(),
        description: f.description.peek().trim().into(),
        category,
        venue: VenueInput {
            name: f.venue_name.peek().trim().into(),
            address: f.address.peek().trim().into(),
            city: f.city.peek().trim().into(),
            capacity: capacity.unwrap_or(0),
        },
        date_time: date_time.unwrap_or_default(),
        duration: duration.unwrap_or(0),
        ticket_types: types,
        organizer: OrganizerInput {
            name: Some(org_name).filter(|n| !n.is_empty()),
            email: Some(org_email).filter(|n| !n.is_empty()),
            phone: org_phone,
        },
        refund_policy: RefundPolicy {
            allowed: refund_allowed,
            until_hours_before: refund_hours
                .and_then(|h| u32::try_from(h).ok())
                .unwrap_or(0),
        },
        on_sale_at,
        queue,
        waitlist_enabled: *f.waitlist_enabled.peek(),
        status: None,
    })
}

/// `onSaleAt` (empty: on sale at once) and the waiting room, by the event service's rules: the
/// sale opens before the event starts, and a queue needs the opening moment it admits from.
fn sale_start(f: &Fields, starts: Option<&str>, e: &mut Errors) -> (String, QueueSettings) {
    let typed = f.on_sale_at.peek().clone();
    let on_sale_at = format::local_input_to_rfc3339(&typed);
    if let (Some(at), Some(starts)) = (&on_sale_at, starts)
        && format::millis(at) >= format::millis(starts)
    {
        e.insert(
            "onSaleAt".into(),
            "The sale must open before the event starts.".into(),
        );
    }
    let enabled = *f.queue_enabled.peek();
    if enabled && on_sale_at.is_none() {
        e.insert(
            "queue.enabled".into(),
            "A waiting room needs the moment the sale opens.".into(),
        );
    }
    let admit = if enabled {
        whole(
            e,
            "queue.admitPerMinute",
            &f.admit_per_minute.peek(),
            1,
            i64::from(MAX_ADMIT_PER_MINUTE),
            &format!("Admit 1 to {MAX_ADMIT_PER_MINUTE} visitors per minute."),
        )
        .and_then(|n| u32::try_from(n).ok())
    } else {
        f.admit_per_minute.peek().trim().parse().ok()
    };
    (
        on_sale_at.unwrap_or_default(),
        QueueSettings {
            enabled,
            admit_per_minute: admit
                .filter(|n| (1..=MAX_ADMIT_PER_MINUTE).contains(n))
                .unwrap_or(QueueSettings::DEFAULT_ADMIT_PER_MINUTE),
        },
    )
}

fn price_text(minor: i64) -> String {
    if minor % 100 == 0 {
        (minor / 100).to_string()
    } else {
        format!("{}.{:02}", minor / 100, minor % 100)
    }
}

/// A text field's first value: the event's when editing, `new` when creating one.
fn initial(ex: Option<&EventView>, new: &str, value: impl FnOnce(&EventView) -> String) -> String {
    ex.map(value).unwrap_or_else(|| new.to_string())
}

#[component]
fn EventForm(existing: Option<EventView>) -> Element {
    let session = use_session();
    let editing = existing.is_some();
    let ex = existing.clone();
    let f = Fields {
        title: use_signal(|| initial(ex.as_ref(), "", |e| e.title.clone())),
        description: use_signal(|| initial(ex.as_ref(), "", |e| e.description.clone())),
        category: use_signal(|| initial(ex.as_ref(), "", |e| e.category.as_str().to_string())),
        venue_name: use_signal(|| initial(ex.as_ref(), "", |e| e.venue.name.clone())),
        address: use_signal(|| initial(ex.as_ref(), "", |e| e.venue.address.clone())),
        city: use_signal(|| initial(ex.as_ref(), "", |e| e.venue.city.clone())),
        capacity: use_signal(|| initial(ex.as_ref(), "", |e| e.venue.capacity.to_string())),
        date_time: use_signal(|| initial(ex.as_ref(), "", |e| format::local_input(&e.date_time))),
        duration: use_signal(|| initial(ex.as_ref(), "120", |e| e.duration.to_string())),
        org_name: use_signal(|| initial(ex.as_ref(), "", |e| e.organizer.name.clone())),
        org_email: use_signal(|| initial(ex.as_ref(), "", |e| e.organizer.email.clone())),
        org_phone: use_signal(|| {
            initial(ex.as_ref(), "", |e| {
                e.organizer.phone.clone().unwrap_or_default()
            })
        }),
        rows: use_signal(|| match &ex {
            Some(e) => e
                .ticket_types
                .iter()
                .enumerate()
                .map(|(i, t)| TicketRow {
                    key: i as u32,
                    name: t.name.clone(),
                    price: price_text(t.price_minor),
                    quantity: t.quantity.to_string(),
                    description: t.description.clone(),
                })
                .collect(),
            None => vec![TicketRow {
                key: 0,
                name: "General admission".into(),
                ..Default::default()
            }],
        }),
        refund_allowed: use_signal(|| ex.as_ref().is_some_and(|e| e.refund_policy.allowed)),
        refund_hours: use_signal(|| {
            initial(ex.as_ref(), "48", |e| {
                e.refund_policy.until_hours_before.to_string()
            })
        }),
        on_sale_at: use_signal(|| {
            ex.as_ref()
                .and_then(|e| e.sale.on_sale_at)
                .map(|t| format::local_input(&t))
                .unwrap_or_default()
        }),
        queue_enabled: use_signal(|| ex.as_ref().is_some_and(|e| e.sale.queue.enabled)),
        admit_per_minute: use_signal(|| {
            ex.as_ref()
                .map_or(QueueSettings::DEFAULT_ADMIT_PER_MINUTE, |e| {
                    e.sale.queue.admit_per_minute
                })
                .to_string()
        }),
        waitlist_enabled: use_signal(|| ex.as_ref().is_none_or(|e| e.waitlist_enabled)),
    };
    let mut next_key = use_signal(|| 1000u32);
    let mut errors = use_signal(Errors::new);
    let mut server = use_signal(|| None::<ApiError>);
    let mut busy = use_signal(|| false);
    let mut tried = use_signal(|| false);
    let is_published = existing
        .as_ref()
        .map(|e| e.status == Status::Published)
        .unwrap_or(false);
    let event_id = use_signal(|| existing.as_ref().map(|e| e.id.to_string()));

    let save = move |status: Option<&'static str>| {
        let event_id = event_id.peek().clone();
        async move {
            tried.set(true);
            let input = match validate(&f, editing) {
                Ok(i) => i,
                Err(e) => {
                    let first = e.keys().min_by_key(|k| form_order(k)).cloned();
                    errors.set(e);
                    server.set(None);
                    if let Some(k) = first {
                        format::focus(&input_id(&k));
                    }
                    return;
                }
            };
            errors.set(Errors::new());
            busy.set(true);
            server.set(None);
            let result = match &event_id {
                Some(id) => api::events::update(id, &input).await,
                None => {
                    api::events::create(&EventInput {
                        status: status.map(str::to_string),
                        ..input
                    })
                    .await
                }
            };
            busy.set(false);
            match result {
                Ok(_) => {
                    navigator().push(Route::MyEvents {});
                }
                Err(e) if e.is_unauthorized() => to_login(),
                Err(e) => {
                    let first = e.fields.keys().min_by_key(|k| form_order(k)).cloned();
                    server.set(Some(e));
                    match first {
                        Some(k) => format::focus(&input_id(&k)),
                        None => format::focus("form-error"),
                    }
                }
            }
        }
    };
    let revalidate = use_callback(move |_: ()| {
        if *tried.peek() {
            errors.set(validate(&f, editing).err().unwrap_or_default());
        }
    });

    let errs = errors();
    let srv = server();
    let err = move |key: &str| -> Option<String> {
        errs.get(key).cloned().or_else(|| {
            srv.as_ref()
                .and_then(|e| e.fields.get(key).map(|m| m.join(" ")))
        })
    };
    let count = errors().len() + server().map(|e| e.fields.len()).unwrap_or(0);
    let user_name = session
        .user
        .read()
        .as_ref()
        .map(|u| u.full_name())
        .unwrap_or_default();
    let user_email = session
        .user
        .read()
        .as_ref()
        .map(|u| u.email.clone())
        .unwrap_or_default();
    let rows = (f.rows)();
    let mut rows_sig = f.rows;

    rsx! {
        section { class: "page",
            div { class: "page-head",
                h1 { if editing { "Edit event" } else { "Create an event" } }
            }
            form { class: "event-form", novalidate: true,
                onsubmit: move |e: FormEvent| { e.prevent_default(); save(Some("published")) },
                div { id: "form-error", tabindex: "-1", aria_live: "assertive",
                    if let Some(e) = server() {
                        div { class: "alert alert-error", role: "alert",
                            p { "{e.message}" }
                            for (k, m) in e.fields.iter().filter(|(k, _)| !is_shown_field(k)) {
                                p { key: "{k}", "{m.join(\" \")}" }
                            }
                        }
                    } else if count > 0 {
                        div { class: "alert alert-error", role: "alert",
                            p { "Please correct {count} field" if count != 1 { "s" } " below." }
                        }
                    }
                }
                fieldset { class: "card",
                    legend { "The event" }
                    Input { id: "ev-title", label: "Title", value: f.title, required: true, error: err("title"), changed: revalidate }
                    div { class: if err("description").is_some() { "field has-error" } else { "field" },
                        label { r#for: "ev-description", "Description" }
                        textarea { id: "ev-description", rows: "5", value: "{f.description}", aria_describedby: "ev-description-error",
                            aria_invalid: err("description").is_some(),
                            oninput: move |e: FormEvent| { let mut s = f.description; s.set(e.value()); revalidate.call(()); } }
                        FieldError { id: "ev-description-error", message: err("description") }
                    }
                    div { class: "grid-3",
                        div { class: if err("category").is_some() { "field has-error" } else { "field" },
                            label { r#for: "ev-category", "Category" span { class: "req", aria_hidden: "true", " *" } }
                            select { id: "ev-category", required: true, aria_describedby: "ev-category-error", aria_invalid: err("category").is_some(),
                                onchange: move |e: FormEvent| { let mut s = f.category; s.set(e.value()); revalidate.call(()); },
                                option { value: "", selected: (f.category)().is_empty(), "Choose…" }
                                for c in Category::ALL.map(Category::as_str) {
                                    option { value: "{c}", selected: (f.category)().eq_ignore_ascii_case(c), "{c}" }
                                }
                            }
                            FieldError { id: "ev-category-error", message: err("category") }
                        }
                        Input { id: "ev-dateTime", label: "Starts", kind: "datetime-local", value: f.date_time, required: true, error: err("dateTime"), changed: revalidate }
                        Input { id: "ev-duration", label: "Duration (minutes)", kind: "number", value: f.duration, required: true, error: err("duration"), changed: revalidate }
                    }
                }
                fieldset { class: "card",
                    legend { "Venue" }
                    div { class: "grid-2",
                        Input { id: "ev-venue-name", label: "Venue name", value: f.venue_name, required: true, error: err("venue.name"), changed: revalidate }
                        Input { id: "ev-venue-city", label: "City", value: f.city, required: true, error: err("venue.city"), changed: revalidate, autocomplete: "address-level2" }
                        Input { id: "ev-venue-address", label: "Address", value: f.address, required: true, error: err("venue.address"), changed: revalidate, autocomplete: "street-address" }
                        Input { id: "ev-venue-capacity", label: "Capacity", kind: "number", value: f.capacity, required: true, error: err("venue.capacity"), changed: revalidate }
                    }
                }
                fieldset { class: "card",
                    legend { "Ticket types" }
                    if is_published {
                        p { class: "hint", "This event is on sale: ticket types can be added or increased, not removed or reduced." }
                    }
                    FieldError { id: "ev-ticketTypes-error", message: err("ticketTypes") }
                    ol { class: "ticket-rows", id: "ev-ticketTypes", tabindex: "-1",
                        for (i, row) in rows.iter().cloned().enumerate() {
                            li { key: "{row.key}", class: "ticket-row",
                                div { class: "grid-4",
                                    RowInput { id: "ev-tt-{i}-name", label: "Name", i, field: "name", value: row.name.clone(), rows: f.rows, error: err(&format!("ticketTypes[{i}].name")), changed: revalidate }
                                    RowInput { id: "ev-tt-{i}-price", label: "Price ({currency_hint(&existing)})", i, field: "price", value: row.price.clone(), rows: f.rows, kind: "text", inputmode: "decimal", error: err(&format!("ticketTypes[{i}].price")), changed: revalidate }
                                    RowInput { id: "ev-tt-{i}-quantity", label: "Quantity", i, field: "quantity", value: row.quantity.clone(), rows: f.rows, kind: "number", error: err(&format!("ticketTypes[{i}].quantity")), changed: revalidate }
                                    RowInput { id: "ev-tt-{i}-description", label: "Description (optional)", i, field: "description", value: row.description.clone(), rows: f.rows, error: err(&format!("ticketTypes[{i}].description")), changed: revalidate }
                                }
                                button { class: "btn btn-ghost btn-small", r#type: "button", disabled: rows.len() <= 1,
                                    aria_label: "Remove ticket type {i + 1}",
                                    onclick: move |_| { rows_sig.write().remove(i); revalidate.call(()); },
                                    "Remove" }
                            }
                        }
                    }
                    button { class: "btn btn-secondary", r#type: "button", disabled: rows.len() >= MAX_TYPES,
                        onclick: move |_| {
                            let k = next_key();
                            next_key.set(k + 1);
                            rows_sig.write().push(TicketRow { key: k, ..Default::default() });
                        },
                        "+ Add ticket type" }
                }
                fieldset { class: "card",
                    legend { "Refunds" }
                    label { class: "checkbox",
                        input { id: "ev-refundPolicy-allowed", r#type: "checkbox", checked: (f.refund_allowed)(),
                            onchange: move |e: FormEvent| { let mut s = f.refund_allowed; s.set(e.checked()); revalidate.call(()); } }
                        " Buyers may cancel a paid order for a full refund"
                    }
                    if (f.refund_allowed)() {
                        div { class: "grid-3",
                            Input { id: "ev-refundPolicy-untilHoursBefore", label: "Until how many hours before the start", kind: "number",
                                value: f.refund_hours, error: err("refundPolicy.untilHoursBefore"), changed: revalidate }
                        }
                    } else {
                        p { class: "hint", "Buyers cannot cancel once they paid; cancelling the event still refunds every paid order." }
                    }
                }
                fieldset { class: "card",
                    legend { "On-sale" }
                    div { class: "grid-3",
                        Input { id: "ev-onSaleAt", label: "Sale opens (empty: at once)", kind: "datetime-local",
                            value: f.on_sale_at, error: err("onSaleAt"), changed: revalidate }
                    }
                    label { class: "checkbox",
                        input { id: "ev-queue-enabled", r#type: "checkbox", checked: (f.queue_enabled)(),
                            aria_describedby: "ev-queue-enabled-error",
                            onchange: move |e: FormEvent| { let mut s = f.queue_enabled; s.set(e.checked()); revalidate.call(()); } }
                        " Waiting room: visitors who arrive before the sale opens get a random place in line"
                    }
                    FieldError { id: "ev-queue-enabled-error", message: err("queue.enabled") }
                    if (f.queue_enabled)() {
                        div { class: "grid-3",
                            Input { id: "ev-queue-admitPerMinute", label: "Visitors admitted per minute", kind: "number",
                                value: f.admit_per_minute, error: err("queue.admitPerMinute"), changed: revalidate }
                        }
                    }
                    label { class: "checkbox",
                        input { id: "ev-waitlistEnabled", r#type: "checkbox", checked: (f.waitlist_enabled)(),
                            onchange: move |e: FormEvent| { let mut s = f.waitlist_enabled; s.set(e.checked()); revalidate.call(()); } }
                        " Waitlist: buyers can queue for a sold-out ticket type and are offered seats that come free"
                    }
                    if !(f.waitlist_enabled)() {
                        p { class: "hint", "Seats that come free go back on sale; buyers already on the waitlist keep their place." }
                    }
                }
                fieldset { class: "card",
                    legend { "Organizer" }
                    p { class: "hint", "Leave name and email empty to use yours ({user_name}, {user_email})." }
                    div { class: "grid-3",
                        Input { id: "ev-organizer-name", label: "Name", value: f.org_name, error: err("organizer.name"), changed: revalidate }
                        Input { id: "ev-organizer-email", label: "Email", kind: "email", value: f.org_email, error: err("organizer.email"), changed: revalidate }
                        Input { id: "ev-organizer-phone", label: "Phone", kind: "tel", value: f.org_phone, error: err("organizer.phone"), changed: revalidate }
                    }
                }
                div { class: "form-actions",
                    if editing {
                        button { class: "btn btn-primary btn-lg", r#type: "submit", disabled: busy(), if busy() { "Saving…" } else { "Save changes" } }
                    } else {
                        button { class: "btn btn-primary btn-lg", r#type: "submit", disabled: busy(), "data-testid": "publish", if busy() { "Saving…" } else { "Publish" } }
                        button { class: "btn btn-secondary btn-lg", r#type: "button", disabled: busy(),
                            onclick: move |_| save(Some("draft")), "Save as draft" }
                    }
                    Link { class: "btn btn-ghost", to: Route::MyEvents {}, "Cancel" }
                }
            }
        }
    }
}

/// Where a field comes in the form, so focus goes to the first error a person would meet.
fn form_order(key: &str) -> (usize, String) {
    const ORDER: [&str; 16] = [
        "title",
        "description",
        "category",
        "dateTime",
        "duration",
        "venue.name",
        "venue.city",
        "venue.address",
        "venue.capacity",
        "ticketTypes",
        "refundPolicy.untilHoursBefore",
        "onSaleAt",
        "queue.enabled",
        "queue.admitPerMinute",
        "organizer.name",
        "organizer.email",
    ];
    let rank = ORDER
        .iter()
        .position(|k| key == *k || (*k == "ticketTypes" && key.starts_with("ticketTypes")))
        .unwrap_or(ORDER.len());
    (rank, key.to_string())
}

fn currency_hint(existing: &Option<EventView>) -> String {
    existing
        .as_ref()
        .map(|e| e.currency.clone())
        .unwrap_or_else(|| "USD".into())
}

/// Server keys the form shows next to a field; others go to the summary.
fn is_shown_field(key: &str) -> bool {
    matches!(
        key,
        "title"
            | "description"
            | "category"
            | "dateTime"
            | "duration"
            | "ticketTypes"
            | "onSaleAt"
            | "queue.enabled"
            | "queue.admitPerMinute"
    ) || key.starts_with("venue.")
        || key.starts_with("organizer.")
        || key.starts_with("refundPolicy.")
        || (key.starts_with("ticketTypes[")
            && ["name", "price", "quantity", "description"]
                .iter()
                .any(|f| key.ends_with(&format!(".{f}"))))
}

/// The input that shows the error of a server field key.
fn input_id(key: &str) -> String {
    if let Some(rest) = key.strip_prefix("ticketTypes[") {
        if let Some((i, field)) = rest.split_once("].") {
            return format!("ev-tt-{i}-{field}");
        }
        return "ev-ticketTypes".into();
    }
    match key {
        "ticketTypes" => "ev-ticketTypes".into(),
        other => format!("ev-{}", other.replace('.', "-")),
    }
}

#[component]
fn Input(
    id: String,
    label: String,
    value: Signal<String>,
    #[props(default = "text".to_string())] kind: String,
    #[props(default)] required: bool,
    #[props(default)] autocomplete: String,
    error: Option<String>,
    changed: Callback<()>,
) -> Element {
    let err_id = format!("{id}-error");
    let mut value = value;
    rsx! {
        div { class: if error.is_some() { "field has-error" } else { "field" },
            label { r#for: "{id}", "{label}" if required { span { class: "req", aria_hidden: "true", " *" } } }
            input { id: "{id}", r#type: "{kind}", value: "{value}", required, autocomplete: "{autocomplete}",
                aria_invalid: error.is_some(), aria_describedby: "{err_id}",
                oninput: move |e: FormEvent| { value.set(e.value()); changed.call(()); } }
            FieldError { id: err_id.clone(), message: error.clone() }
        }
    }
}

#[component]
fn RowInput(
    id: String,
    label: String,
    i: usize,
    field: &'static str,
    value: String,
    rows: Signal<Vec<TicketRow>>,
    #[props(default = "text".to_string())] kind: String,
    #[props(default)] inputmode: String,
    error: Option<String>,
    changed: Callback<()>,
) -> Element {
    let err_id = format!("{id}-error");
    let mut rows = rows;
    rsx! {
        div { class: if error.is_some() { "field has-error" } else { "field" },
            label { r#for: "{id}", "{label}" }
            input { id: "{id}", r#type: "{kind}", value: "{value}", inputmode: "{inputmode}",
                aria_invalid: error.is_some(), aria_describedby: "{err_id}",
                oninput: move |e: FormEvent| {
                    if let Some(r) = rows.write().get_mut(i) {
                        match field {
                            "name" => r.name = e.value(),
                            "price" => r.price = e.value(),
                            "quantity" => r.quantity = e.value(),
                            _ => r.description = e.value(),
                        }
                    }
                    changed.call(());
                } }
            FieldError { id: err_id.clone(), message: error.clone() }
        }
    }
}
