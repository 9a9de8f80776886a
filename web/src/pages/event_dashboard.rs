//! The organizer's dashboard of one event (from My events): seats per ticket type, orders by
//! status, gross/refunded/net revenue, sales per day as a chart, the orders with search, status
//! filter, paging and refunds, the attendee list as CSV, cancelling the event, the way to the
//! check-in scanner and the check-in staff the organizer names.

use api_types::back_office::{
    CheckinSummary, EventOrderView, EventSummary, MAX_REFUND_REASON_CHARS, OrdersByStatus,
};
use api_types::events::{CancelledEventResponse, EventView, Status};
use api_types::orders::OrderStatus;
use dioxus::prelude::*;

use crate::Route;
use crate::api::tickets::OrdersFilter;
use crate::api::{self, ApiError};
use crate::chart::SalesChart;
use crate::components::{Empty, ErrorBox, Loading, StatusBadge, in_flight};
use crate::format;
use crate::pages::checkin_staff::CheckinStaff;
use crate::pages::waitlist::WaitlistLengthsView;
use crate::session::{RequireLogin, signed_in_answer, to_login};

#[component]
pub fn EventDashboard(id: String) -> Element {
    rsx! { RequireLogin { Dashboard { key: "{id}", id } } }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[component]
fn Dashboard(id: String) -> Element {
    let id_for_event = id.clone();
    let mut event = use_resource(move || {
        let id = id_for_event.clone();
        async move { api::events::get_one(&id).await }
    });
    // Bumped after a refund or a cancellation: the summary and the orders load again.
    let mut refresh = use_signal(|| 0u32);
    let id_for_summary = id.clone();
    let summary = use_resource(move || {
        refresh();
        let id = id_for_summary.clone();
        async move { api::tickets::summary(&id).await }
    });
    let mut notice = use_signal(|| None::<String>);
    let mut reload_all = move || {
        event.restart();
        refresh += 1;
    };

    let read = event.read();
    let ev = match &*read {
        None => return rsx! { Loading { label: "Loading the event…" } },
        Some(Err(e)) if e.is_unauthorized() => {
            to_login();
            return rsx! {};
        }
        Some(Err(e)) if e.status == 404 => return not_yours(),
        Some(Err(e)) => {
            return rsx! { ErrorBox { error: e.clone(), retry: move |_| event.restart() } };
        }
        Some(Ok(ev)) => ev.clone(),
    };
    format::set_title(&format!("Dashboard · {}", ev.title));
    let summary_now = summary.read().clone();
    if let Some(Err(e)) = &summary_now
        && e.status == 404
        && ev.status != Status::Draft
    {
        return not_yours();
    }

    rsx! {
        section { class: "page dashboard",
            nav { class: "breadcrumbs", aria_label: "Breadcrumb",
                Link { to: Route::MyEvents {}, "My events" } " / " span { "Dashboard" }
            }
            div { class: "page-head",
                h1 { id: "dashboard-title", "{ev.title}" }
                StatusBadge { status: ev.status.as_str() }
            }
            p { class: "event-meta", "{format::when(&ev.date_time)} · {ev.venue.name}, {ev.venue.city}" }
            div { class: "actions dashboard-actions",
                Link { class: "btn btn-ghost", to: Route::EventDetail { id: ev.id.to_string() }, "Event page" }
                if ev.status != Status::Cancelled {
                    Link { class: "btn btn-ghost", to: Route::EditEvent { id: ev.id.to_string() }, "Edit" }
                }
                if ev.status != Status::Draft {
                    a { class: "btn btn-secondary", href: api::tickets::attendees_csv_url(&ev.id.to_string()),
                        download: "attendees-{ev.id}.csv", "data-testid": "attendees-csv",
                        "Download attendees (CSV)" }
                }
                if ev.status == Status::Published {
                    Link { class: "btn btn-secondary", to: Route::CheckinPage { id: ev.id.to_string() },
                        "data-testid": "open-scanner", "Check-in scanner" }
                }
                button { class: "btn btn-ghost", r#type: "button", "data-testid": "dashboard-refresh",
                    onclick: move |_| reload_all(), "Refresh" }
            }
            if ev.status != Status::Cancelled {
                CancelEvent { event: ev.clone(), on_cancelled: move |c: CancelledEventResponse| {
                    let refunded = c.orders_to_refund.map(|n| format!(" {} being refunded.", plural(n, "paid order is", "paid orders are"))).unwrap_or_default();
                    notice.set(Some(format!("\u{201c}{}\u{201d} is cancelled.{refunded}", c.event.title)));
                    reload_all();
                } }
            }
            div { aria_live: "polite",
                if let Some(n) = notice() { p { class: "notice", "data-testid": "dashboard-notice", "{n}" } }
            }
            if ev.status == Status::Draft {
                Empty { title: "This event is a draft.",
                    p { "It has no orders until it is published." }
                }
            } else {
                match summary_now {
                    None => rsx! { Loading { label: "Loading the summary…" } },
                    Some(Err(e)) => rsx! { ErrorBox { error: e, retry: move |_| refresh += 1 } },
                    Some(Ok(s)) => rsx! { SummaryView { summary: s } },
                }
                WaitlistLengthsView { event_id: ev.id.to_string() }
                Orders { event_id: ev.id.to_string(), refresh,
                    on_refunded: move |n: String| { notice.set(Some(n)); refresh += 1; } }
            }
            if ev.status != Status::Cancelled {
                CheckinStaff { event_id: ev.id.to_string() }
            }
        }
    }
}

fn not_yours() -> Element {
    rsx! {
        section { class: "page",
            h1 { "Dashboard not found" }
            p { "Only the event's organizer (or an admin) sees its dashboard." }
            Link { class: "btn btn-primary", to: Route::MyEvents {}, "My events" }
        }
    }
}

#[component]
fn SummaryView(summary: EventSummary) -> Element {
    let s = summary;
    let money = |minor: i64| format::money(minor, &s.currency);
    let by = s.orders_by_status;
    let days = s.sales_every_day();
    rsx! {
        div { class: "summary-grid",
            section { class: "card", aria_labelledby: "revenue-h", "data-testid": "revenue",
                h2 { id: "revenue-h", class: "h3", "Revenue" }
                dl { class: "figures",
                    div { dt { "Gross" } dd { "data-testid": "gross", "{money(s.gross_minor)}" } }
                    div { dt { "Refunded" } dd { "data-testid": "refunded", "{money(s.refunded_minor)}" } }
                    div { dt { "Net" } dd { class: "figure-main", "data-testid": "net", "{money(s.net_minor)}" } }
                }
            }
            section { class: "card", aria_labelledby: "orders-by-status-h", "data-testid": "orders-by-status",
                h2 { id: "orders-by-status-h", class: "h3", "Orders" }
                dl { class: "figures",
                    for status in OrderStatus::ALL {
                        div { key: "{status.as_str()}",
                            dt { StatusBadge { status: status.as_str() } }
                            dd { "data-testid": "orders-{status.as_str()}", "{by.of(status)}" }
                        }
                    }
                }
            }
        }
        section { class: "card", aria_labelledby: "seats-h",
            h2 { id: "seats-h", class: "h3", "Tickets" }
            table { class: "stock-table", "data-testid": "ticket-type-sales",
                caption { class: "sr-only", "Seats per ticket type" }
                thead { tr {
                    th { scope: "col", "Ticket type" } th { scope: "col", "Capacity" } th { scope: "col", "Sold" }
                    th { scope: "col", "Held" } th { scope: "col", "Available" }
                } }
                tbody {
                    for t in s.ticket_types.clone() {
                        tr { key: "{t.name}",
                            th { scope: "row", "{t.name}" }
                            td { "{t.capacity}" }
                            td { "{t.sold}"
                                meter { class: "meter", min: "0", max: "{t.capacity}", value: "{t.sold}", aria_label: "{t.sold} of {t.capacity} sold" }
                            }
                            td { "{t.held}" }
                            td { "{t.available}" }
                        }
                    }
                }
            }
        }
        CheckinFigures { check_ins: s.check_ins.clone(), sold: s.ticket_types.iter().map(|t| u64::from(t.sold)).sum::<u64>() }
        section { class: "card", aria_labelledby: "sales-h",
            h2 { id: "sales-h", class: "h3", "Sales per day" }
            SalesChart { days: days.clone(), currency: s.currency.clone() }
            if !s.sales_per_day.is_empty() {
                details { class: "chart-table",
                    summary { "Sales per day as a table" }
                    table { class: "stock-table",
                        thead { tr {
                            th { scope: "col", "Day (UTC)" } th { scope: "col", "Orders" } th { scope: "col", "Tickets" } th { scope: "col", "Amount" }
                        } }
                        tbody {
                            for d in s.sales_per_day.clone() {
                                tr { key: "{d.date}",
                                    th { scope: "row", "{format::day_long(d.date)}" }
                                    td { "{d.orders}" } td { "{d.tickets}" } td { "{money(d.amount_minor)}" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Who came in at the door: in total, per ticket type, per gate and per minute.
#[component]
fn CheckinFigures(check_ins: CheckinSummary, sold: u64) -> Element {
    let c = check_ins;
    rsx! {
        section { class: "card", aria_labelledby: "checkins-h", "data-testid": "checkins",
            h2 { id: "checkins-h", class: "h3", "Check-in" }
            dl { class: "figures",
                div { dt { "Checked in" } dd { class: "figure-main", "data-testid": "checked-in", "{c.checked_in} / {sold}" } }
                for t in c.by_ticket_type.clone() {
                    div { key: "{t.ticket_type}", dt { "{t.ticket_type}" } dd { "{t.checked_in}" } }
                }
            }
            if !c.by_gate.is_empty() {
                CountTable { testid: "checkins-by-gate", caption: "Check-ins per gate", label: "Gate",
                    rows: c.by_gate.iter().map(|g| (g.gate.clone().unwrap_or_else(|| "No gate named".into()), g.checked_in)).collect::<Vec<_>>() }
            }
            if !c.per_minute.is_empty() {
                details { class: "chart-table",
                    summary { "Check-ins per minute" }
                    CountTable { testid: "checkins-per-minute", caption: "Check-ins per minute (first entries)", label: "Minute",
                        rows: c.per_minute.iter().map(|m| (format::short_when(&m.minute), m.checked_in)).collect::<Vec<_>>() }
                }
            }
        }
    }
}

/// Check-ins counted by `label` (a gate, a minute), one row each.
#[component]
fn CountTable(testid: String, caption: String, label: String, rows: Vec<(String, u64)>) -> Element {
    rsx! {
        table { class: "stock-table", "data-testid": "{testid}",
            caption { class: "sr-only", "{caption}" }
            thead { tr { th { scope: "col", "{label}" } th { scope: "col", "Checked in" } } }
            tbody {
                for (name, n) in rows {
                    tr { key: "{name}", th { scope: "row", "{name}" } td { "{n}" } }
                }
            }
        }
    }
}

/// The event's orders: search, status filter, pages, and a refund per paid order.
#[component]
fn Orders(event_id: String, refresh: Signal<u32>, on_refunded: EventHandler<String>) -> Element {
    let mut filter = use_signal(|| OrdersFilter {
        page: 1,
        ..Default::default()
    });
    let mut typed = use_signal(String::new);
    let id = event_id.clone();
    let orders = use_resource(move || {
        refresh();
        let f = filter();
        let id = id.clone();
        async move { api::tickets::event_orders(&id, &f).await }
    });
    // The order whose refund is being confirmed (under the table, so a wide table never hides it).
    let mut confirming = use_signal(|| None::<EventOrderView>);

    let search = move |e: FormEvent| {
        e.prevent_default();
        let q = typed.peek().trim().to_string();
        confirming.set(None);
        filter.with_mut(|f| {
            f.q = q;
            f.page = 1;
        });
    };
    let mut go_to = move |page: u32| {
        confirming.set(None);
        filter.with_mut(|f| f.page = page.max(1));
    };
    let current = filter();
    rsx! {
        section { class: "card", aria_labelledby: "orders-h",
            h2 { id: "orders-h", class: "h3", "Orders" }
            form { class: "filters orders-filters", role: "search", onsubmit: search,
                div { class: "field",
                    label { r#for: "orders-q", "Name, email or reference" }
                    input { id: "orders-q", r#type: "search", value: "{typed}", "data-testid": "orders-q",
                        oninput: move |e: FormEvent| typed.set(e.value()) }
                }
                div { class: "field",
                    label { r#for: "orders-status", "Status" }
                    select { id: "orders-status", "data-testid": "orders-status",
                        onchange: move |e: FormEvent| {
                            let status = OrderStatus::parse(&e.value());
                            confirming.set(None);
                            filter.with_mut(|f| { f.status = status; f.page = 1; });
                        },
                        option { value: "", selected: current.status.is_none(), "All statuses" }
                        for s in OrderStatus::ALL {
                            option { value: "{s.as_str()}", selected: current.status == Some(s), "{status_label(s)}" }
                        }
                    }
                }
                div { class: "field field-actions",
                    button { class: "btn btn-primary", r#type: "submit", "data-testid": "orders-search", "Search" }
                }
            }
            div { aria_live: "polite",
                {signed_in_answer(orders, "Loading orders…", |page| if page.orders.is_empty() {
                    rsx! {
                        Empty { title: if current.q.is_empty() && current.status.is_none() { "No orders yet." } else { "No orders match." } }
                    }
                } else {
                    let pages = page.page_count();
                    let on_page = page.page;
                    rsx! {
                        p { class: "result-count", "data-testid": "orders-total", "{plural(page.total, \"order\", \"orders\")}" }
                        table { class: "stock-table orders-table", "data-testid": "orders-table",
                            caption { class: "sr-only", "Orders, newest first" }
                            thead { tr {
                                th { scope: "col", "Reference" } th { scope: "col", "Buyer" } th { scope: "col", "Tickets" }
                                th { scope: "col", "Total" } th { scope: "col", "Status" } th { scope: "col", "Booked" }
                                th { scope: "col", aria_label: "Actions" }
                            } }
                            tbody {
                                for o in page.orders.clone() {
                                    OrderRow { key: "{o.id}", order: o.clone(),
                                        on_refund: move |o: EventOrderView| {
                                            confirming.set(Some(o));
                                            format::focus("refund-confirmation");
                                        } }
                                }
                            }
                        }
                        if let Some(o) = confirming() {
                            RefundConfirmation { key: "{o.id}", order: o,
                                on_keep: move |_| confirming.set(None),
                                on_refunded: move |n: String| { confirming.set(None); on_refunded.call(n); } }
                        }
                        nav { class: "pagination", aria_label: "Order pages",
                            button { class: "btn btn-ghost", r#type: "button", disabled: on_page <= 1, "data-testid": "orders-prev",
                                onclick: move |_| go_to(on_page.saturating_sub(1)), "Previous" }
                            span { "data-testid": "orders-page", "Page {on_page} of {pages}" }
                            button { class: "btn btn-ghost", r#type: "button", disabled: u64::from(on_page) >= pages, "data-testid": "orders-next",
                                onclick: move |_| go_to(on_page + 1), "Next" }
                        }
                    }
                })}
            }
        }
    }
}

fn status_label(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Pending => "Awaiting payment",
        OrderStatus::Confirmed => "Confirmed",
        OrderStatus::Cancelled => "Cancelled",
        OrderStatus::Refunded => "Refunded",
    }
}

/// One order of the table; a paid one has Refund.
#[component]
fn OrderRow(order: EventOrderView, on_refund: EventHandler<EventOrderView>) -> Element {
    let total = format::money(order.total_amount_minor, &order.currency);
    let this = order.clone();
    rsx! {
        tr { "data-testid": "order-row", "data-reference": "{order.booking_reference}", "data-status": order.status.as_str(),
            td { strong { class: "ref", "{order.booking_reference}" } }
            td { "{order.buyer_name}" br {} span { class: "muted", "{order.buyer_email}" } }
            td { "{format::lines(&order.lines)}" }
            td { "{total}" }
            td {
                StatusBadge { status: order.status.as_str() }
                if let Some(at) = order.paid_at {
                    br {} span { class: "muted", "paid {format::short_when(&at)}" }
                }
                if let Some(at) = order.refunded_at {
                    br {} span { class: "muted", "refunded {format::short_when(&at)}" }
                }
                if order.status == OrderStatus::Cancelled && order.paid_at.is_some() {
                    br {} span { class: "muted", "refund pending" }
                }
            }
            td { "{format::short_when(&order.created_at)}" }
            td {
                if order.status == OrderStatus::Confirmed {
                    button { class: "btn btn-danger btn-small", r#type: "button", "data-testid": "refund",
                        aria_label: "Refund {order.booking_reference}",
                        onclick: move |_| on_refund.call(this.clone()), "Refund" }
                }
            }
        }
    }
}

/// Asks before refunding one paid order, with an optional reason kept with it.
#[component]
fn RefundConfirmation(
    order: EventOrderView,
    on_keep: EventHandler<()>,
    on_refunded: EventHandler<String>,
) -> Element {
    let mut reason = use_signal(String::new);
    let busy = use_signal(|| false);
    let mut error = use_signal(|| None::<ApiError>);
    let total = format::money(order.total_amount_minor, &order.currency);
    let id = order.id.to_string();
    let reference = order.booking_reference.clone();
    let total_for_notice = total.clone();
    let refund = move |_| {
        let id = id.clone();
        let reference = reference.clone();
        let total = total_for_notice.clone();
        async move {
            let why = reason.peek().trim().to_string();
            let result = in_flight(
                busy,
                error,
                api::tickets::refund(&id, Some(why).filter(|r| !r.is_empty())),
            )
            .await;
            match result {
                Ok(_) => on_refunded.call(format!(
                    "Refund of {total} for {reference} started; the order reads refunded once the payment is returned."
                )),
                Err(e) if e.is_unauthorized() => to_login(),
                Err(e) => error.set(Some(e)),
            }
        }
    };
    let seats = plural(
        u64::from(order.seat_count()),
        "ticket stops",
        "tickets stop",
    );
    rsx! {
        div { id: "refund-confirmation", class: "confirm", role: "group", tabindex: "-1",
            aria_labelledby: "refund-q", "data-testid": "refund-confirmation",
            p { id: "refund-q",
                strong { "Refund {total} to {order.buyer_name}?" }
                " Order {order.booking_reference} ({format::lines(&order.lines)}) is cancelled, its {seats} working and the payment is returned. This cannot be undone."
            }
            div { class: "field",
                label { r#for: "refund-reason", "Reason (optional, kept with the order)" }
                input { id: "refund-reason", r#type: "text", maxlength: "{MAX_REFUND_REASON_CHARS}", value: "{reason}",
                    "data-testid": "refund-reason", oninput: move |e: FormEvent| reason.set(e.value()) }
            }
            div { class: "actions",
                button { class: "btn btn-danger", r#type: "button", disabled: busy(), "data-testid": "refund-confirm",
                    onclick: refund, if busy() { "Refunding…" } else { "Refund {total}" } }
                button { class: "btn btn-ghost", r#type: "button", disabled: busy(), "data-testid": "refund-keep",
                    onclick: move |_| on_keep.call(()), "Keep the order" }
            }
            if let Some(e) = error() {
                p { class: "field-error", role: "alert", "data-testid": "refund-error", "{e.message}" }
            }
        }
    }
}

/// "Cancel event" with an inline confirmation that says how many paid orders will be refunded:
/// the confirmed orders of the event's summary, counted when the organizer asks.
#[component]
pub fn CancelEvent(
    event: EventView,
    on_cancelled: EventHandler<CancelledEventResponse>,
) -> Element {
    let mut asking = use_signal(|| false);
    // `None` while counting; `Some(None)` when the count is unknown (a draft, or no answer).
    let mut counts = use_signal(|| None::<Option<OrdersByStatus>>);
    let busy = use_signal(|| false);
    let mut error = use_signal(|| None::<ApiError>);
    let is_draft = event.status == Status::Draft;
    let id_for_count = event.id.to_string();
    let ask = move |_| {
        let id = id_for_count.clone();
        async move {
            asking.set(true);
            error.set(None);
            counts.set(None);
            let known = if is_draft {
                None
            } else {
                api::tickets::summary(&id)
                    .await
                    .ok()
                    .map(|s| s.orders_by_status)
            };
            counts.set(Some(known));
            format::focus("cancel-event-confirm");
        }
    };
    let id = event.id.to_string();
    let confirm = move |_| {
        let id = id.clone();
        async move {
            let result = in_flight(busy, error, api::events::cancel(&id)).await;
            match result {
                Ok(c) => {
                    asking.set(false);
                    on_cancelled.call(c);
                }
                Err(e) if e.is_unauthorized() => to_login(),
                Err(e) => error.set(Some(e)),
            }
        }
    };
    let question = match counts() {
        None => "Counting the orders…".to_string(),
        Some(None) if is_draft => format!(
            "Cancel \u{201c}{}\u{201d}? It has no orders. This cannot be undone.",
            event.title
        ),
        Some(None) => format!(
            "Cancel \u{201c}{}\u{201d}? Its pending orders are cancelled and its paid orders refunded. This cannot be undone.",
            event.title
        ),
        Some(Some(c)) => format!(
            "Cancel \u{201c}{}\u{201d}? {} will be refunded and {} cancelled. This cannot be undone.",
            event.title,
            plural(c.confirmed, "paid order", "paid orders"),
            plural(c.pending, "pending order", "pending orders"),
        ),
    };
    rsx! {
        div { class: "cancel-event",
            if !asking() {
                button { class: "btn btn-danger", r#type: "button", "data-testid": "cancel-event", onclick: ask, "Cancel event" }
            } else {
                div { class: "confirm", role: "group", aria_labelledby: "cancel-event-q",
                    p { id: "cancel-event-q", "data-testid": "cancel-event-question", "{question}" }
                    div { class: "actions",
                        button { id: "cancel-event-confirm", class: "btn btn-danger", r#type: "button",
                            disabled: busy() || counts().is_none(), "data-testid": "cancel-event-confirm",
                            onclick: confirm, if busy() { "Cancelling…" } else { "Yes, cancel the event" } }
                        button { class: "btn btn-ghost", r#type: "button", disabled: busy(), "data-testid": "cancel-event-keep",
                            onclick: move |_| asking.set(false), "Keep the event" }
                    }
                }
            }
            if let Some(e) = error() {
                p { class: "field-error", role: "alert", "data-testid": "cancel-event-error", "{e.message}" }
            }
        }
    }
}
