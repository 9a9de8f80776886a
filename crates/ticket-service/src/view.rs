//! Orders as clients see them: the seed's camelCase fields, amounts as JSON numbers (`25.5`) with
//! their exact minor units beside them.

use serde_json::{Value, json};

use crate::order::{Order, OrderDetails};
use crate::store::EventStock;

/// The seed's `tickets` array: one entry per ticket type with its price and subtotal.
fn lines(order: &Order) -> Value {
    order
        .lines
        .iter()
        .map(|l| {
            json!({
                "ticketType": { "name": l.ticket_type, "price": l.unit_price.to_json() },
                "quantity": l.quantity,
                "subtotal": l.subtotal.to_json(),
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
        "totalAmount": o.total_amount.to_json(),
        "totalAmountMinor": o.total_amount.minor_units(),
        "currency": o.currency().as_str(),
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
        "totalAmount": o.total_amount.to_json(),
        "totalAmountMinor": o.total_amount.minor_units(),
        "currency": o.currency().as_str(),
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
        "currency": s.event.currency.as_str(),
        "ticketTypes": s.stock.iter().map(|t| json!({
            "name": t.ticket_type,
            "price": t.price.to_json(),
            "capacity": t.capacity,
            "sold": t.sold,
            "held": t.held,
            "available": t.available(),
        })).collect::<Vec<_>>(),
    })
}
