//! The order facts this service publishes, built from an order as the store holds it, so the
//! outbox row is written in the same transaction as the state change. Which fact a change
//! publishes is decided in `crate::lifecycle`.

use contracts::Envelope;
use contracts::orders::{OrderCancelled, OrderConfirmed, OrderCreated};
use contracts::subjects;
use contracts::tickets::TicketCheckedIn;
use platform::outbox::OutboxMessage;

use crate::order::{CancelReason, IssuedTicket, Order};

pub const SOURCE: &str = "ticket-service";

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
                unit_price: l.unit_price.to_price(),
                subtotal: l.subtotal.to_price(),
            })
            .collect(),
        total_amount: order.total_amount.to_price(),
        expires_at: order.expires_at,
        customer: Some(contracts::orders::OrderCustomer {
            first_name: order.customer.first_name.clone(),
            last_name: order.customer.last_name.clone(),
            email: order.customer.email.clone(),
        }),
    };
    message(subjects::ORDERS_CREATED, order, data, traceparent)
}

/// `tickets` are the e-tickets the confirmation issues, so the buyer's mail can carry their codes.
pub fn confirmed(
    order: &Order,
    tickets: &[IssuedTicket],
    traceparent: Option<&str>,
) -> OutboxMessage {
    let data = OrderConfirmed {
        order_id: order.id,
        booking_reference: order.booking_reference.clone(),
        user_id: order.user_id,
        event_id: order.event_id,
        payment_id: order.payment_id.unwrap_or_default(),
        total_amount: order.total_amount.to_price(),
        ticket_count: order.seat_count(),
        tickets: tickets
            .iter()
            .map(|t| contracts::orders::OrderTicket {
                ticket_type: t.ticket_type.clone(),
                code: t.code.clone(),
                signed_code: t.signed_code.clone(),
            })
            .collect(),
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

/// An accepted scan (`tickets.checked_in`); the envelope's subject is the event id, so one
/// event's door can be followed alone.
pub fn checked_in(data: TicketCheckedIn, traceparent: Option<String>) -> OutboxMessage {
    let event_id = data.event_id;
    let envelope = Envelope::new(
        subjects::TICKETS_CHECKED_IN,
        SOURCE,
        Some(event_id.to_string()),
        data,
    );
    OutboxMessage::from_envelope(&envelope)
        .expect("check-in facts always serialise")
        .with_traceparent(traceparent)
}
