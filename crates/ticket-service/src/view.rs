//! Orders and seats as clients see them: conversions from the domain (orders, their details, an
//! event's stock) to the answer types of `api_types::orders`, which serialize the answers and
//! describe them in the OpenAPI document. Amounts become JSON numbers (`25.5`) with their exact
//! minor units beside them.

use api_types::orders::{
    Availability, BookingResponse, CustomerInfo, IssuedTicket, LineTicketType, OrderDetailsView,
    OrderEvent, OrderLineView, OrderView, PaymentAttempt, Stock,
};

use crate::order::{self, Order, OrderDetails};
use crate::store::EventStock;

/// The seed's `tickets` array: one entry per ticket type with its price and subtotal.
fn lines(order: &Order) -> Vec<OrderLineView> {
    order
        .lines
        .iter()
        .map(|l| OrderLineView {
            ticket_type: LineTicketType {
                name: l.ticket_type.clone(),
                price: l.unit_price.to_json(),
            },
            quantity: l.quantity,
            subtotal: l.subtotal.to_json(),
        })
        .collect()
}

fn customer(c: &order::CustomerInfo) -> CustomerInfo {
    CustomerInfo {
        first_name: c.first_name.clone(),
        last_name: c.last_name.clone(),
        email: c.email.clone(),
        phone: c.phone.clone(),
    }
}

fn attempt(a: &order::PaymentAttempt) -> PaymentAttempt {
    PaymentAttempt {
        payment_id: a.payment_id,
        status: a.status.as_str().to_string(),
        response_code: a.response_code.clone(),
        response_message: a.response_message.clone(),
        at: a.at,
    }
}

fn ticket(t: &order::IssuedTicket) -> IssuedTicket {
    IssuedTicket {
        code: t.code.clone(),
        ticket_type: t.ticket_type.clone(),
    }
}

pub fn order(o: &Order) -> OrderView {
    OrderView {
        id: o.id,
        order_id: o.id,
        user_id: o.user_id,
        event_id: o.event_id,
        event: OrderEvent {
            id: o.event_id,
            title: o.event_title.clone(),
            date_time: o.event_date_time,
        },
        booking_reference: o.booking_reference.clone(),
        status: o.status,
        cancel_reason: o.cancel_reason,
        tickets: lines(o),
        total_amount: o.total_amount.to_json(),
        total_amount_minor: o.total_amount.minor_units(),
        currency: o.currency().as_str().to_string(),
        customer_info: customer(&o.customer),
        payment_id: o.payment_id,
        failed_payments: o.failed_payments,
        expires_at: o.expires_at,
        created_at: o.created_at,
        updated_at: o.updated_at,
    }
}

pub fn order_details(d: &OrderDetails) -> OrderDetailsView {
    OrderDetailsView {
        order: order(&d.order),
        payment_attempts: d.attempts.iter().map(attempt).collect(),
        issued_tickets: d.tickets.iter().map(ticket).collect(),
    }
}

/// The `201` answer of a booking: the seed's fields first, then the whole order.
pub fn booking(o: &Order) -> BookingResponse {
    BookingResponse {
        order_id: o.id,
        booking_reference: o.booking_reference.clone(),
        total_amount: o.total_amount.to_json(),
        total_amount_minor: o.total_amount.minor_units(),
        currency: o.currency().as_str().to_string(),
        status: o.status,
        expires_at: o.expires_at,
        tickets: lines(o),
        order: order(o),
    }
}

pub fn availability(s: &EventStock) -> Availability {
    Availability {
        event_id: s.event.id,
        status: s.event.status.as_str().to_string(),
        currency: s.event.currency.as_str().to_string(),
        ticket_types: s
            .stock
            .iter()
            .map(|t| Stock {
                name: t.ticket_type.clone(),
                price: t.price.to_json(),
                capacity: t.capacity,
                sold: t.sold,
                held: t.held,
                available: t.available(),
            })
            .collect(),
    }
}
