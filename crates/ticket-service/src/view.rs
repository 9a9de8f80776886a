//! Orders as clients see them: the seed's camelCase fields, amounts as JSON numbers (`25.5`) with
//! their exact minor units beside them.

use platform::money::{Currency, Money};
use serde_json::{Value, json};

use crate::order::{Order, OrderDetails};
use crate::store::EventStock;

fn amount(minor: i64, currency: &str) -> serde_json::Number {
    Money::from_minor_units(minor, Currency::parse(currency).unwrap_or(Currency::USD)).to_json()
}

/// The seed's `tickets` array: one entry per ticket type with its price and subtotal.
fn lines(order: &Order) -> Value {
    order
        .lines
        .iter()
        .map(|l| {
            json!({
                "ticketType": { "name": l.ticket_type, "price": amount(l.unit_price, &order.currency) },
                "quantity": l.quantity,
                "subtotal": amount(l.subtotal, &order.currency),
            })
        })
        .collect()
}

pub fn order(o: &Order) -> Value {
    json!({
        "id": o.id,
        "orderId": o.id,
        "userId": o.user_id,
        "eventId": o.event_id,
        "event": { "id": o.event_id, "title": o.event_title, "dateTime": o.event_date_time },
        "bookingReference": o.booking_reference,
        "status": o.status,
        "cancelReason": o.cancel_reason,
        "tickets": lines(o),
        "totalAmount": amount(o.total_amount, &o.currency),
        "totalAmountMinor": o.total_amount,
        "currency": o.currency,
        "customerInfo": o.customer,
        "paymentId": o.payment_id,
        "failedPayments": o.failed_payments,
        "expiresAt": o.expires_at,
        "createdAt": o.created_at,
        "updatedAt": o.updated_at,
    })
}

pub fn order_details(d: &OrderDetails) -> Value {
    let mut v = order(&d.order);
    v["paymentAttempts"] = json!(d.attempts);
    v["issuedTickets"] = json!(d.tickets);
    v
}

/// The `201` answer of a booking: the seed's fields first, then the whole order.
pub fn booking(o: &Order) -> Value {
    json!({
        "orderId": o.id,
        "bookingReference": o.booking_reference,
        "totalAmount": amount(o.total_amount, &o.currency),
        "totalAmountMinor": o.total_amount,
        "currency": o.currency,
        "status": o.status,
        "expiresAt": o.expires_at,
        "tickets": lines(o),
        "order": order(o),
    })
}

pub fn availability(s: &EventStock) -> Value {
    json!({
        "eventId": s.event.id,
        "status": s.event.status,
        "currency": s.event.currency,
        "ticketTypes": s.stock.iter().map(|t| json!({
            "name": t.ticket_type,
            "price": amount(t.price, &s.event.currency),
            "capacity": t.capacity,
            "sold": t.sold,
            "held": t.held,
            "available": t.available(),
        })).collect::<Vec<_>>(),
    })
}
