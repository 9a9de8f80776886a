//! One order: the pending hold with its countdown and the payment form, then the result
//! (tickets with QR codes, or the decline reason and a retry); a paid order shows the event's
//! refund policy and, while it allows, "Cancel and refund"; a refunded one its refund.

use std::collections::BTreeMap;

use api_types::orders::{CancelReason, OrderDetailsView, OrderStatus};
use api_types::payments::{
    CardInput, PaymentDetailsInput, PaymentMethod, PaymentStatus, PaypalInput,
};
use dioxus::prelude::*;
use uuid::Uuid;

use crate::Route;
use crate::api::{self, ApiError};
use crate::components::{
    Countdown, ErrorBox, FieldError, Loading, StatusBadge, TicketList, in_flight,
};
use crate::format;
use crate::pages::event_detail::{TextField, refund_deadline, refund_policy_text};
use crate::session::{RequireLogin, to_login};

#[component]
pub fn OrderPage(id: String) -> Element {
    rsx! { RequireLogin { OrderLoader { id } } }
}

#[component]
fn OrderLoader(id: String) -> Element {
    format::set_title("Your order");
    let mut order = use_resource(use_reactive!(
        |id| async move { api::tickets::order(&id).await }
    ));
    let read = order.read();
    match &*read {
        None => rsx! { Loading { label: "Loading your order…" } },
        Some(Err(e)) if e.is_unauthorized() => {
            to_login();
            rsx! {}
        }
        Some(Err(e)) if e.status == 404 => rsx! {
            section { class: "page",
                h1 { "Order not found" }
                p { "There is no such order in your account." }
                Link { class: "btn btn-primary", to: Route::MyOrders {}, "My orders" }
            }
        },
        Some(Err(e)) => rsx! { ErrorBox { error: e.clone(), retry: move |_| order.restart() } },
        Some(Ok(o)) => rsx! { OrderView { order: o.clone(), reload: move |_| order.restart() } },
    }
}

/// Where the payment stands in this view.
#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Form,
    /// Approved; waiting for the ticket service to confirm the order and issue the tickets.
    Confirming,
    Declined(String),
}

#[component]
fn OrderView(order: OrderDetailsView, reload: EventHandler<()>) -> Element {
    let mut phase = use_signal(|| Phase::Form);
    let cancel_error = use_signal(|| None::<ApiError>);
    let cancelling = use_signal(|| false);
    let OrderDetailsView {
        order,
        issued_tickets,
        ..
    } = order;
    let paid_at = order.paid_at;
    let refund = order.refund.clone();
    let order_id = order.id.to_string();

    // After an approval, follow the order until the ticket service confirmed it.
    let id_for_wait = order_id.clone();
    let wait_for_confirmation = move || {
        let id = id_for_wait.clone();
        spawn(async move {
            for _ in 0..60 {
                gloo_timers::future::TimeoutFuture::new(500).await;
                if let Ok(o) = api::tickets::order(&id).await
                    && o.order.status != OrderStatus::Pending
                {
                    break;
                }
            }
            reload.call(());
        });
    };

    let on_paid = move |outcome: Result<(), String>| match outcome {
        Ok(()) => {
            phase.set(Phase::Confirming);
            wait_for_confirmation();
        }
        Err(reason) => {
            phase.set(Phase::Declined(reason));
            format::focus("payment-result");
        }
    };

    let id_for_cancel = order_id.clone();
    let cancel = move |_| cancel_pending(id_for_cancel.clone(), cancelling, cancel_error, reload);

    let lines = format::lines(&order.tickets);
    let total = format::money(order.total_amount_minor, &order.currency);

    rsx! {
        section { class: "page order-page",
            div { class: "page-head",
                h1 { id: "order-title",
                    match order.status {
                        OrderStatus::Confirmed => "You're going!",
                        OrderStatus::Cancelled => "Order cancelled",
                        OrderStatus::Refunded => "Order refunded",
                        OrderStatus::Pending => "Complete your booking",
                    }
                }
                StatusBadge { status: order.status.as_str() }
            }
            div { class: "card order-summary",
                h2 { class: "h3", Link { to: Route::EventDetail { id: order.event_id.to_string() }, "{order.event.title}" } }
                p { class: "event-meta", "{format::when(&order.event.date_time)}" }
                dl { class: "facts",
                    div { dt { "Booking reference" } dd { strong { class: "ref", "data-testid": "booking-reference", "{order.booking_reference}" } } }
                    div { dt { "Tickets" } dd { "{lines}" } }
                    div { dt { "Total" } dd { "{total}" } }
                    div { dt { "Buyer" } dd { "{order.customer_info.first_name} {order.customer_info.last_name} · {order.customer_info.email}" } }
                    if let Some(at) = paid_at {
                        div { dt { "Paid" } dd { "{format::when(&at)}" } }
                    }
                }
                if order.status == OrderStatus::Pending {
                    p { class: "hold", Countdown { expires_at: order.expires_at, on_expired: move |_| reload.call(()) } }
                }
            }
            div { id: "payment-result", tabindex: "-1", aria_live: "polite",
                match (order.status, phase()) {
                    (OrderStatus::Confirmed, _) => rsx! {
                        div { class: "alert alert-success", role: "status", "data-testid": "payment-success",
                            p { strong { "Payment approved." } " Your booking reference is " strong { "{order.booking_reference}" } ". Show a ticket's QR code at the entrance." }
                        }
                        h2 { "Your tickets" }
                        if issued_tickets.is_empty() {
                            Loading { label: "Issuing your tickets…" }
                        } else {
                            TicketList { tickets: issued_tickets.clone() }
                        }
                        BuyerRefund { order_id: order_id.clone(), event_id: order.event_id.to_string(), total: total.clone(), on_done: move |_| reload.call(()) }
                    },
                    (OrderStatus::Cancelled | OrderStatus::Refunded, _) => rsx! {
                        // A paid order that was cancelled is being (or was) refunded: news, not an error.
                        div { class: if paid_at.is_some() { "alert alert-info" } else { "alert alert-error" }, role: "status",
                            p { "{cancel_reason(order.cancel_reason)}" }
                            match (&refund, paid_at) {
                                (Some(r), _) => rsx! {
                                    p { "data-testid": "refund",
                                        strong { "Refunded {format::money(r.amount_minor, &order.currency)}" }
                                        " on {format::when(&r.refunded_at)} ({refund_reason(r.reason)})."
                                    }
                                },
                                (None, Some(_)) => rsx! {
                                    RefundPending { order_id: order_id.clone(), total: total.clone(), on_refunded: move |_| reload.call(()) }
                                },
                                (None, None) => rsx! {},
                            }
                            if order.cancel_reason != Some(CancelReason::EventCancelled) {
                                Link { class: "btn btn-primary", to: Route::EventDetail { id: order.event_id.to_string() }, "Book again" }
                            }
                        }
                    },
                    (_, Phase::Confirming) => rsx! {
                        div { class: "alert alert-success", role: "status",
                            p { strong { "Payment approved." } " Issuing your tickets…" }
                        }
                        Loading { label: "Confirming your order…" }
                    },
                    (_, Phase::Declined(reason)) => rsx! {
                        div { class: "alert alert-error", role: "alert", "data-testid": "payment-declined",
                            p { strong { "Payment declined. " } "{reason}" }
                            p { "Your seats are still held. You can try again with another card or PayPal." }
                            button { class: "btn btn-primary", r#type: "button", onclick: move |_| {
                                    phase.set(Phase::Form);
                                    // The decline may have cancelled the order (too many attempts).
                                    reload.call(());
                                },
                                "data-testid": "retry", "Try again" }
                        }
                    },
                    (_, Phase::Form) => rsx! {
                        PaymentForm { order_id: order.id, amount: total.clone(), on_done: on_paid }
                        div { class: "secondary-actions",
                            button { class: "btn btn-ghost", r#type: "button", disabled: cancelling(), onclick: cancel, "Cancel order" }
                            if let Some(e) = cancel_error() { p { class: "field-error", role: "alert", "{e.message}" } }
                        }
                    },
                }
            }
        }
    }
}

/// The event's refund policy under a paid order and, while it allows, "Cancel and refund" with
/// a confirmation. The ticket service decides; its refusal (`refund_not_allowed`, with the
/// deadline) is shown as it says it.
#[component]
fn BuyerRefund(
    order_id: String,
    event_id: String,
    total: String,
    on_done: EventHandler<()>,
) -> Element {
    let event = use_resource(use_reactive!(|event_id| async move {
        api::events::get_one(&event_id).await.ok()
    }));
    let mut confirming = use_signal(|| false);
    let busy = use_signal(|| false);
    let mut error = use_signal(|| None::<ApiError>);
    let Some(Some(event)) = event.read().clone() else {
        return rsx! {};
    };
    let open = refund_deadline(&event)
        .is_some_and(|deadline| format::now_millis() <= deadline.timestamp_millis() as f64);
    let confirm = move |_| {
        let id = order_id.clone();
        async move {
            let result = in_flight(busy, error, api::tickets::cancel(&id)).await;
            match result {
                Ok(_) => on_done.call(()),
                Err(e) if e.is_unauthorized() => to_login(),
                Err(e) => {
                    confirming.set(false);
                    error.set(Some(e));
                    format::focus("buyer-refund-error");
                }
            }
        }
    };
    rsx! {
        section { class: "card refund-policy", aria_labelledby: "refund-h",
            h2 { id: "refund-h", class: "h3", "Refunds" }
            p { "data-testid": "refund-policy", "{refund_policy_text(&event)}" }
            if open && !confirming() {
                button { class: "btn btn-danger", r#type: "button", "data-testid": "cancel-refund",
                    onclick: move |_| { confirming.set(true); error.set(None); },
                    "Cancel and refund" }
            }
            if confirming() {
                div { class: "confirm", role: "group", aria_labelledby: "cancel-refund-q",
                    p { id: "cancel-refund-q", strong { "Cancel this order?" } " Your tickets stop working and {total} is refunded to your payment method. This cannot be undone." }
                    div { class: "actions",
                        button { class: "btn btn-danger", r#type: "button", disabled: busy(), "data-testid": "cancel-refund-confirm",
                            onclick: confirm, if busy() { "Cancelling…" } else { "Yes, cancel and refund" } }
                        button { class: "btn btn-ghost", r#type: "button", disabled: busy(), "data-testid": "cancel-refund-keep",
                            onclick: move |_| confirming.set(false), "Keep my tickets" }
                    }
                }
            }
            div { id: "buyer-refund-error", tabindex: "-1", aria_live: "assertive",
                if let Some(e) = error() {
                    p { class: "field-error", role: "alert", "data-testid": "cancel-refund-error", "{e.message}" }
                }
            }
        }
    }
}

/// A paid order that was cancelled and whose refund has not come back yet: says so, and looks
/// again for a while so the refund shows when it lands.
#[component]
fn RefundPending(order_id: String, total: String, on_refunded: EventHandler<()>) -> Element {
    use_hook(move || {
        spawn(async move {
            for _ in 0..20 {
                gloo_timers::future::TimeoutFuture::new(2_000).await;
                if let Ok(o) = api::tickets::order(&order_id).await
                    && o.order.refund.is_some()
                {
                    on_refunded.call(());
                    break;
                }
            }
        });
    });
    rsx! {
        p { "data-testid": "refund-pending", "A refund of {total} is on its way to your payment method." }
    }
}

/// Asks the buyer, then cancels a pending order (its seats go back): `busy` while it runs, the
/// refusal in `error`, `done` once cancelled.
pub async fn cancel_pending(
    id: String,
    mut busy: Signal<bool>,
    mut error: Signal<Option<ApiError>>,
    done: EventHandler<()>,
) {
    let ok = web_sys::window()
        .and_then(|w| {
            w.confirm_with_message("Cancel this order and release the seats?")
                .ok()
        })
        .unwrap_or(false);
    if !ok {
        return;
    }
    busy.set(true);
    match api::tickets::cancel(&id).await {
        Ok(_) => done.call(()),
        Err(e) => error.set(Some(e)),
    }
    busy.set(false);
}

/// What happened to a cancelled or refunded order, as the buyer reads it.
pub fn cancel_reason(reason: Option<CancelReason>) -> &'static str {
    match reason {
        Some(CancelReason::Expired) => {
            "The hold on these seats expired before payment, so they were released."
        }
        Some(CancelReason::PaymentFailed) => {
            "The payment was declined too many times, so the order was cancelled and the seats released."
        }
        Some(CancelReason::UserCancelled) => "You cancelled this order; the seats were released.",
        Some(CancelReason::EventCancelled) => {
            "The organizer cancelled the event. Any payment is refunded."
        }
        Some(CancelReason::OrganizerRefund) => {
            "The organizer cancelled this order; its payment is refunded."
        }
        Some(CancelReason::BuyerRefund) => {
            "You cancelled this order; its payment is refunded and the tickets no longer admit anyone."
        }
        None => "This order was cancelled.",
    }
}

/// Why a refund was made, in a few words.
fn refund_reason(reason: CancelReason) -> &'static str {
    match reason {
        CancelReason::EventCancelled => "the event was cancelled",
        CancelReason::OrganizerRefund => "refunded by the organizer",
        CancelReason::BuyerRefund => "you cancelled the order",
        CancelReason::UserCancelled | CancelReason::Expired | CancelReason::PaymentFailed => {
            "the order was cancelled"
        }
    }
}

const METHODS: [(PaymentMethod, &str); 3] = [
    (PaymentMethod::CreditCard, "Credit card"),
    (PaymentMethod::DebitCard, "Debit card"),
    (PaymentMethod::Paypal, "PayPal"),
];

fn current_year() -> i32 {
    js_sys::Date::new_0().get_full_year() as i32
}

fn current_month() -> u32 {
    js_sys::Date::new_0().get_month() + 1
}

struct CardForm {
    name: String,
    number: String,
    month: String,
    year: String,
    cvc: String,
}

/// The same rules as the payment service, so most mistakes are caught before a round trip.
fn validate_card(f: &CardForm) -> BTreeMap<&'static str, String> {
    let mut e = BTreeMap::new();
    if f.name.trim().is_empty() {
        e.insert("cardholderName", "Enter the name on the card.".into());
    } else if f.name.trim().chars().count() > 100 {
        e.insert(
            "cardholderName",
            "The name on the card is at most 100 characters.".into(),
        );
    }
    let digits: String = f
        .number
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    if digits.is_empty() {
        e.insert("cardNumber", "Enter the card number.".into());
    } else if !digits.chars().all(|c| c.is_ascii_digit()) {
        e.insert("cardNumber", "A card number has digits only.".into());
    } else if !(12..=19).contains(&digits.len()) {
        e.insert("cardNumber", "A card number has 12 to 19 digits.".into());
    } else if !format::luhn(&digits) {
        e.insert(
            "cardNumber",
            "This card number is not valid; check it for typing mistakes.".into(),
        );
    }
    let month: Option<u32> = f.month.parse().ok().filter(|m| (1..=12).contains(m));
    let year: Option<i32> = f.year.parse().ok();
    if month.is_none() {
        e.insert("expiryMonth", "Choose the expiry month.".into());
    }
    if year.is_none() {
        e.insert("expiryYear", "Choose the expiry year.".into());
    }
    if let (Some(m), Some(y)) = (month, year)
        && (y < current_year() || (y == current_year() && m < current_month()))
    {
        e.insert("expiryMonth", "This card has expired.".into());
    }
    let cvc = f.cvc.trim();
    if cvc.is_empty() {
        e.insert("cvc", "Enter the security code (CVC).".into());
    } else if !(3..=4).contains(&cvc.len()) || !cvc.chars().all(|c| c.is_ascii_digit()) {
        e.insert("cvc", "The security code is 3 or 4 digits.".into());
    }
    e
}

fn validate_paypal(email: &str) -> BTreeMap<&'static str, String> {
    let mut e = BTreeMap::new();
    let email = email.trim();
    if email.is_empty() {
        e.insert("email", "Enter the email of your PayPal account.".into());
    } else if !email.contains('@')
        || email.starts_with('@')
        || email.ends_with('@')
        || email.contains(' ')
    {
        e.insert("email", "Enter a valid email address.".into());
    }
    e
}

#[component]
fn PaymentForm(
    order_id: Uuid,
    amount: String,
    on_done: EventHandler<Result<(), String>>,
) -> Element {
    let mut method = use_signal(|| PaymentMethod::CreditCard);
    let name = use_signal(String::new);
    let number = use_signal(String::new);
    let mut month = use_signal(String::new);
    let mut year = use_signal(String::new);
    let cvc = use_signal(String::new);
    let paypal = use_signal(String::new);
    let mut client_errors = use_signal(BTreeMap::<&'static str, String>::new);
    let mut touched = use_signal(|| false);
    let mut server_error = use_signal(|| None::<ApiError>);
    let busy = use_signal(|| false);

    let is_card = method().is_card();
    let mut check = move || {
        let errors = if method.peek().is_card() {
            validate_card(&CardForm {
                name: name.peek().clone(),
                number: number.peek().clone(),
                month: month.peek().clone(),
                year: year.peek().clone(),
                cvc: cvc.peek().clone(),
            })
        } else {
            validate_paypal(&paypal.peek())
        };
        client_errors.set(errors.clone());
        errors
    };
    // Once the user tried to submit, errors follow their typing.
    let mut revalidate = move |_: ()| {
        if *touched.peek() {
            check();
        }
    };

    let submit = move |e: FormEvent| {
        e.prevent_default();
        async move {
            touched.set(true);
            if !check().is_empty() {
                let first = client_errors
                    .peek()
                    .keys()
                    .next()
                    .map(|k| format!("pay-{k}"));
                if let Some(id) = first {
                    format::focus(&id);
                }
                return;
            }
            let m = *method.peek();
            let details = if m.is_card() {
                PaymentDetailsInput::Card(CardInput {
                    card_number: number.peek().trim().to_string(),
                    expiry_month: month.peek().parse().unwrap_or(0),
                    expiry_year: year.peek().parse().unwrap_or(0),
                    cvc: cvc.peek().trim().to_string(),
                    cardholder_name: name.peek().trim().to_string(),
                })
            } else {
                PaymentDetailsInput::Paypal(PaypalInput {
                    email: paypal.peek().trim().to_string(),
                })
            };
            let result = in_flight(
                busy,
                server_error,
                api::payments::process(order_id, m, details, &api::new_key()),
            )
            .await;
            match result {
                Ok(r) if r.payment.status == PaymentStatus::Completed => on_done.call(Ok(())),
                Ok(r) => {
                    let reason = r
                        .payment
                        .gateway_response
                        .map(|g| g.response_message)
                        .filter(|m| !m.is_empty())
                        .unwrap_or(r.message);
                    on_done.call(Err(reason));
                }
                Err(e) if e.is_unauthorized() => to_login(),
                Err(e) => {
                    server_error.set(Some(e));
                    format::focus("pay-server-error");
                }
            }
        }
    };

    let ce = client_errors();
    let se = server_error();
    let err = |key: &'static str| -> Option<String> {
        ce.get(key).cloned().or_else(|| {
            se.as_ref()
                .and_then(|e| e.field(&format!("paymentDetails.{key}")))
        })
    };
    let this_year = current_year();

    rsx! {
        form { class: "card payment-form", onsubmit: submit, novalidate: true, aria_labelledby: "pay-h",
            h2 { id: "pay-h", "Pay {amount}" }
            fieldset { class: "methods",
                legend { "Payment method" }
                for (value, label) in METHODS {
                    label { class: "radio",
                        input { r#type: "radio", name: "method", value: value.as_str(), checked: method() == value,
                            onchange: move |_| { method.set(value); client_errors.set(BTreeMap::new()); } }
                        " {label}"
                    }
                }
            }
            if is_card {
                div { class: "test-hint", id: "card-hint",
                    "Test cards: " code { "4242 4242 4242 4242" } " is always approved, "
                    code { "4000 0000 0000 0002" } " is always declined. Any future expiry date and any 3-digit CVC."
                }
                TextField { id: "pay-cardholderName", label: "Name on card", value: name, autocomplete: "cc-name",
                    required: true, error: err("cardholderName"), onblur: revalidate }
                TextField { id: "pay-cardNumber", label: "Card number", value: number, autocomplete: "cc-number",
                    required: true, hint: "Spaces are fine.".to_string(), error: err("cardNumber"), onblur: revalidate }
                div { class: "grid-3",
                    div { class: if err("expiryMonth").is_some() { "field has-error" } else { "field" },
                        label { r#for: "pay-expiryMonth", "Expiry month" }
                        select { id: "pay-expiryMonth", autocomplete: "cc-exp-month", aria_invalid: err("expiryMonth").is_some(),
                            aria_describedby: "pay-expiryMonth-error",
                            onchange: move |e: FormEvent| { month.set(e.value()); revalidate(()); },
                            option { value: "", selected: month().is_empty(), "Month" }
                            for m in 1..=12u32 {
                                option { value: "{m}", selected: month() == m.to_string(), "{m:02}" }
                            }
                        }
                        FieldError { id: "pay-expiryMonth-error", message: err("expiryMonth") }
                    }
                    div { class: if err("expiryYear").is_some() { "field has-error" } else { "field" },
                        label { r#for: "pay-expiryYear", "Expiry year" }
                        select { id: "pay-expiryYear", autocomplete: "cc-exp-year", aria_invalid: err("expiryYear").is_some(),
                            aria_describedby: "pay-expiryYear-error",
                            onchange: move |e: FormEvent| { year.set(e.value()); revalidate(()); },
                            option { value: "", selected: year().is_empty(), "Year" }
                            for y in this_year..this_year + 16 {
                                option { value: "{y}", selected: year() == y.to_string(), "{y}" }
                            }
                        }
                        FieldError { id: "pay-expiryYear-error", message: err("expiryYear") }
                    }
                    TextField { id: "pay-cvc", label: "CVC", value: cvc, autocomplete: "cc-csc", required: true,
                        error: err("cvc"), onblur: revalidate }
                }
            } else {
                div { class: "test-hint", "Test accounts: any address at " code { "approve.test" } " is approved, at " code { "decline.test" } " declined." }
                TextField { id: "pay-email", label: "PayPal email", value: paypal, kind: "email", autocomplete: "email",
                    required: true, error: err("email"), onblur: revalidate }
            }
            div { id: "pay-server-error", tabindex: "-1", aria_live: "assertive",
                if let Some(e) = se.as_ref() {
                    div { class: "alert alert-error", role: "alert", p { "{e.message}" } }
                }
            }
            button { class: "btn btn-primary btn-lg", r#type: "submit", disabled: busy(), "data-testid": "pay",
                if busy() { "Processing…" } else { "Pay {amount}" }
            }
        }
    }
}
