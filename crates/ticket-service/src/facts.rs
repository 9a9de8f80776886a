//! The order facts this service publishes, built from an order as the store holds it, so the
//! outbox row is written in the same transaction as the state change.

use contracts::Envelope;
use contracts::orders::{CancelReason, OrderCancelled, OrderConfirmed, OrderCreated};
use contracts::subjects;
use platform::money::{Currency, Money};
use platform::outbox::OutboxMessage;

use crate::order::Order;

pub const SOURCE: &str = "ticket-service";

fn money(minor: i64, currency: &str) -> contracts::catalog::Price {
    Money::from_minor_units(minor, Currency::parse(currency).unwrap_or(Currency::USD)).to_price()
}

fn message<T: serde::Serialize>(
    subject: &str,
    order: &Order,
    data: T,
    traceparent: Option<&str>,
) -> OutboxMessage {
    let envelope = Envelope::new(subject, SOURCE, Some(order.id.to_string()), data);
    OutboxMessage::from_envelope(&envelope)
        .expect("order facts always serialise")
        .with_traceparent(traceparent.map(str::to_string))
}

pub fn created(order: &Order, traceparent: Option<&str>) -> OutboxMessage {
    let data = OrderCreated {
        order_id: order.id,
        booking_reference: order.booking_reference.clone(),
        user_id: order.user_id,
        event_id: order.event_id,
        lines: order
            .lines
            .iter()
            .map(|l| contracts::orders::OrderLine {
                ticket_type: l.ticket_type.clone(),
                quantity: l.quantity,
                unit_price: money(l.unit_price, &order.currency),
                subtotal: money(l.subtotal, &order.currency),
            })
            .collect(),
        total_amount: money(order.total_amount, &order.currency),
        expires_at: order.expires_at,
    };
    message(subjects::ORDERS_CREATED, order, data, traceparent)
}

pub fn confirmed(order: &Order, traceparent: Option<&str>) -> OutboxMessage {
    let data = OrderConfirmed {
        order_id: order.id,
        booking_reference: order.booking_reference.clone(),
        user_id: order.user_id,
        event_id: order.event_id,
        payment_id: order.payment_id.unwrap_or_default(),
        total_amount: money(order.total_amount, &order.currency),
        ticket_count: order.seat_count(),
    };
    message(subjects::ORDERS_CONFIRMED, order, data, traceparent)
}

pub fn cancelled(order: &Order, reason: CancelReason, traceparent: Option<&str>) -> OutboxMessage {
    let data = OrderCancelled {
        order_id: order.id,
        booking_reference: order.booking_reference.clone(),
        user_id: order.user_id,
        event_id: order.event_id,
        reason,
    };
    message(subjects::ORDERS_CANCELLED, order, data, traceparent)
}
