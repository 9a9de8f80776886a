//! Small view pieces shared by the pages.

use api_types::orders::IssuedTicket;
use chrono::{DateTime, Utc};
use dioxus::prelude::*;
use qrcode::QrCode;
use qrcode::render::svg;

use crate::api::{ApiError, ApiResult};
use crate::format;

/// One user action against the API: while it runs its button shows busy and the last error is
/// cleared; the answer is handed back for the page to act on.
pub async fn in_flight<T>(
    mut busy: Signal<bool>,
    mut error: Signal<Option<ApiError>>,
    call: impl Future<Output = ApiResult<T>>,
) -> ApiResult<T> {
    busy.set(true);
    error.set(None);
    let result = call.await;
    busy.set(false);
    result
}

#[component]
pub fn Loading(#[props(default = "Loading…".to_string())] label: String) -> Element {
    rsx! {
        div { class: "state state-loading", role: "status", aria_live: "polite",
            span { class: "spinner", aria_hidden: "true" }
            span { "{label}" }
        }
    }
}

#[component]
pub fn ErrorBox(error: ApiError, retry: Option<EventHandler<()>>) -> Element {
    rsx! {
        div { class: "state state-error", role: "alert",
            p { strong { "Something went wrong. " } "{error.message}" }
            if let Some(retry) = retry {
                button { class: "btn btn-secondary", r#type: "button", onclick: move |_| retry.call(()), "Try again" }
            }
        }
    }
}

#[component]
pub fn Empty(title: String, children: Element) -> Element {
    rsx! {
        div { class: "state state-empty",
            p { class: "state-title", "{title}" }
            {children}
        }
    }
}

/// The inline message under a form field; `id` is what the input's `aria-describedby` names.
#[component]
pub fn FieldError(id: String, message: Option<String>) -> Element {
    rsx! {
        if let Some(m) = message {
            p { class: "field-error", id: "{id}", "{m}" }
        }
    }
}

#[component]
pub fn StatusBadge(status: String) -> Element {
    let label = match status.as_str() {
        "pending" => "Awaiting payment",
        "confirmed" => "Confirmed",
        "cancelled" => "Cancelled",
        "refunded" => "Refunded",
        "draft" => "Draft",
        "published" => "Published",
        other => other,
    };
    rsx! { span { class: "badge badge-{status}", "{label}" } }
}

/// Time left until `expires_at`, ticking every second; calls `on_expired` once at zero.
#[component]
pub fn Countdown(expires_at: DateTime<Utc>, on_expired: Option<EventHandler<()>>) -> Element {
    let deadline = expires_at.timestamp_millis() as f64;
    let mut now = use_signal(format::now_millis);
    use_hook(move || {
        spawn(async move {
            loop {
                gloo_timers::future::TimeoutFuture::new(1_000).await;
                now.set(format::now_millis());
            }
        });
    });
    let mut fired = use_signal(|| false);
    use_effect(move || {
        if deadline - now() <= 0.0 && !*fired.peek() {
            fired.set(true);
            if let Some(h) = on_expired {
                h.call(());
            }
        }
    });
    let left = deadline - now();
    let urgent = left < 120_000.0;
    rsx! {
        span { class: if urgent { "countdown countdown-urgent" } else { "countdown" },
            if left > 0.0 {
                "Seats held for "
                span { role: "timer", "data-testid": "countdown", "{format::countdown(left)}" }
            } else {
                span { role: "status", "The hold has expired" }
            }
        }
    }
}

/// A QR code as inline SVG, drawn in Rust; `label` names it for screen readers (the data of a
/// signed code means nothing read aloud).
#[component]
pub fn QrSvg(data: String, label: String) -> Element {
    let svg = QrCode::new(data.as_bytes())
        .map(|code| {
            code.render::<svg::Color>()
                .min_dimensions(148, 148)
                .dark_color(svg::Color("#111827"))
                .light_color(svg::Color("#ffffff"))
                .build()
        })
        .unwrap_or_default();
    // The renderer writes an XML declaration first; inline SVG does not want it.
    let svg = match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg,
    };
    rsx! {
        div { class: "qr", role: "img", aria_label: "{label}", "data-testid": "ticket-qr", "data-qr": "{data}",
            dangerous_inner_html: "{svg}" }
    }
}

#[component]
pub fn TicketList(tickets: Vec<IssuedTicket>) -> Element {
    rsx! {
        ul { class: "ticket-list", "data-testid": "tickets",
            for t in tickets {
                li { key: "{t.code}", class: "ticket",
                    // The signed code when the ticket has one, so scanners can check it offline.
                    QrSvg { data: t.signed_code.clone().unwrap_or_else(|| t.code.clone()),
                        label: "QR code for ticket {t.code}" }
                    div { class: "ticket-meta",
                        span { class: "ticket-kind", "{t.ticket_type}" }
                        code { class: "ticket-code", "data-testid": "ticket-code", "{t.code}" }
                    }
                }
            }
        }
    }
}
