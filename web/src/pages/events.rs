//! Browse events: search, category and city filters and pagination, all in the URL.

use api_types::events::{Category, EventView};
use dioxus::prelude::*;

use crate::Route;
use crate::api;
use crate::components::{Empty, ErrorBox, Loading};
use crate::format::{self, EventsQuery};

#[component]
pub fn Events(query: EventsQuery) -> Element {
    format::set_title("Events");
    let mut q = use_signal(|| query.q.clone());
    let mut category = use_signal(|| query.category.clone());
    let mut city = use_signal(|| query.city.clone());
    // Back/forward changes the URL: show its filters in the form.
    use_effect(use_reactive!(|query| {
        q.set(query.q.clone());
        category.set(query.category.clone());
        city.set(query.city.clone());
    }));
    let mut page = use_resource(use_reactive!(|query| async move {
        api::events::list(&query).await
    }));

    let go = move |page: u32| {
        navigator().push(Route::Events {
            query: EventsQuery {
                q: q(),
                category: category(),
                city: city(),
                page,
            },
        });
    };
    let has_filters = !query.q.is_empty() || !query.category.is_empty() || !query.city.is_empty();

    rsx! {
        section { class: "page",
            div { class: "page-head",
                h1 { "Upcoming events" }
            }
            form { class: "filters", role: "search", aria_label: "Find events",
                onsubmit: move |e: FormEvent| { e.prevent_default(); go(1); },
                div { class: "field",
                    label { r#for: "f-q", "Search" }
                    input { id: "f-q", r#type: "search", placeholder: "Title or description", value: "{q}",
                        oninput: move |e: FormEvent| q.set(e.value()) }
                }
                div { class: "field",
                    label { r#for: "f-category", "Category" }
                    select { id: "f-category", value: "{category}",
                        onchange: move |e: FormEvent| { category.set(e.value()); go(1); },
                        option { value: "", selected: category().is_empty(), "All categories" }
                        for c in Category::ALL.map(Category::as_str) {
                            option { value: "{c}", selected: category().eq_ignore_ascii_case(c), "{c}" }
                        }
                    }
                }
                div { class: "field",
                    label { r#for: "f-city", "City" }
                    input { id: "f-city", r#type: "text", placeholder: "Any city", value: "{city}",
                        autocomplete: "address-level2",
                        oninput: move |e: FormEvent| city.set(e.value()) }
                }
                div { class: "field field-actions",
                    button { class: "btn btn-primary", r#type: "submit", "Search" }
                    if has_filters {
                        button { class: "btn btn-ghost", r#type: "button",
                            onclick: move |_| {
                                q.set(String::new()); category.set(String::new()); city.set(String::new());
                                go(1);
                            },
                            "Clear"
                        }
                    }
                }
            }
            div { aria_live: "polite", aria_busy: page.read().is_none(),
                match &*page.read() {
                    None => rsx! { Loading { label: "Loading events…" } },
                    Some(Err(e)) => rsx! { ErrorBox { error: e.clone(), retry: move |_| page.restart() } },
                    Some(Ok(p)) if p.events.is_empty() => rsx! {
                        Empty { title: if has_filters { "No events match these filters." } else { "No upcoming events yet." },
                            if has_filters {
                                p { "Try another search, category or city." }
                            } else {
                                p { "Organizers can " Link { to: Route::CreateEvent {}, "create the first one" } "." }
                            }
                        }
                    },
                    Some(Ok(p)) => {
                        let current = p.page.max(1);
                        let pages = p.total_pages.max(1) as u32;
                        rsx! {
                            p { class: "result-count", "{p.total} event" if p.total != 1 { "s" } }
                            ul { class: "event-grid",
                                for ev in p.events.clone() {
                                    EventCard { key: "{ev.id}", event: ev }
                                }
                            }
                            if pages > 1 {
                                nav { class: "pagination", aria_label: "Pages",
                                    button { class: "btn btn-secondary", r#type: "button", disabled: current <= 1,
                                        onclick: move |_| go(current - 1), "← Previous" }
                                    span { aria_current: "page", "Page {current} of {pages}" }
                                    button { class: "btn btn-secondary", r#type: "button", disabled: current >= pages,
                                        onclick: move |_| go(current + 1), "Next →" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[component]
fn EventCard(event: EventView) -> Element {
    let id = event.id.to_string();
    let availability = use_resource(move || {
        let id = id.clone();
        async move { api::tickets::availability(&id).await.ok() }
    });
    let badge = match &*availability.read() {
        Some(Some(a)) => {
            let left = a.total_available();
            let capacity = a.total_capacity().max(1);
            if left == 0 {
                Some(("Sold out", "badge badge-soldout"))
            } else if left <= 10 || left * 10 <= capacity {
                Some(("Few left", "badge badge-few"))
            } else {
                None
            }
        }
        _ => None,
    };
    let price = lowest_price(&event).map(|p| {
        if p == 0 {
            "Free".to_string()
        } else {
            format!("From {}", format::money(p, &event.currency))
        }
    });
    rsx! {
        li { class: "event-card", "data-testid": "event-card",
            div { class: "event-card-top",
                span { class: "chip", "{event.category.as_str()}" }
                if let Some((label, class)) = badge {
                    span { class: "{class}", "{label}" }
                }
            }
            h2 { class: "event-card-title",
                Link { to: Route::EventDetail { id: event.id.to_string() }, "{event.title}" }
            }
            p { class: "event-meta",
                time { datetime: format::iso(&event.date_time), "{format::when(&event.date_time)}" }
            }
            p { class: "event-meta", "{event.venue.name}, {event.venue.city}" }
            if let Some(price) = price {
                p { class: "event-price", "{price}" }
            }
        }
    }
}

/// The cheapest ticket type's price in minor units.
fn lowest_price(event: &EventView) -> Option<i64> {
    event.ticket_types.iter().map(|t| t.price_minor).min()
}
