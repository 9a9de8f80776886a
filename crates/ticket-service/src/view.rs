//! Orders and seats as clients see them: conversions from the domain (orders, their details, an
//! event's stock, its orders and summary for the organizer) to the answer types of
//! `api_types::orders` and `api_types::back_office`, which serialize the answers and describe
//! them in the OpenAPI document. Amounts become JSON numbers (`25.5`) with their exact
//! minor units beside them.

use api_types::back_office::{
    self, CheckinSummary, EventOrderView, EventOrdersResponse, EventSummary, GateCheckins,
    MinuteCheckins, OrdersByStatus, TicketTypeCheckins, TicketTypeSales,
};
use api_types::orders::{
    Availability, BookingResponse, LineTicketType, OrderDetailsView, OrderEvent, OrderLineView,
    OrderRefund, OrderView, PaymentAttempt, Stock,
};

use crate::order::{self, Order, OrderDetails};
use crate::sales::{OrderPage, OrderQuery};
use crate::store::EventStock;
use crate::summary::{CheckIns, Summary};

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

fn attempt(a: &order::PaymentAttempt) -> PaymentAttempt {
    PaymentAttempt {
        payment_id: a.payment_id,
        status: a.status.as_str().to_string(),
        response_code: a.response_code.clone(),
        response_message: a.response_message.clone(),
        at: a.at,
    }
}

fn refund(r: &order::Refund) -> OrderRefund {
    OrderRefund {
        amount_minor: r.amount.minor_units(),
        refunded_at: r.refunded_at,
        reason: r.reason,
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
        customer_info: o.customer.clone(),
        payment_id: o.payment_id,
        failed_payments: o.failed_payments,
        expires_at: o.expires_at,
        created_at: o.created_at,
        updated_at: o.updated_at,
        paid_at: o.paid_at,
        cancelled_at: o.cancelled_at,
        refund: o.refund.as_ref().map(refund),
    }
}

pub fn order_details(d: &OrderDetails) -> OrderDetailsView {
    OrderDetailsView {
        order: order(&d.order),
        payment_attempts: d.attempts.iter().map(attempt).collect(),
        issued_tickets: d.tickets.clone(),
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

/// One order as its event's organizer sees it in the back office.
pub fn event_order(o: &Order) -> EventOrderView {
    EventOrderView {
        id: o.id,
        booking_reference: o.booking_reference.clone(),
        buyer_name: o.customer.full_name(),
        buyer_email: o.customer.email.clone(),
        lines: lines(o),
        total_amount: o.total_amount.to_json(),
        total_amount_minor: o.total_amount.minor_units(),
        currency: o.currency().as_str().to_string(),
        status: o.status,
        created_at: o.created_at,
        paid_at: o.paid_at,
        refunded_at: o.refund.as_ref().map(|r| r.refunded_at),
    }
}

/// The page of an event's orders `query` asked for, with the paging it was served with.
pub fn event_orders(page: &OrderPage, query: &OrderQuery) -> EventOrdersResponse {
    EventOrdersResponse {
        orders: page.orders.iter().map(event_order).collect(),
        total: page.total,
        page: query.page,
        limit: query.limit,
    }
}

pub fn summary(s: &Summary) -> EventSummary {
    let counts = &s.orders_by_status;
    EventSummary {
        event_id: s.event_id,
        currency: s.currency.as_str().to_string(),
        ticket_types: s
            .ticket_types
            .iter()
            .map(|t| TicketTypeSales {
                name: t.ticket_type.clone(),
                capacity: t.capacity,
                sold: t.sold,
                held: t.held,
                available: t.available(),
            })
            .collect(),
        orders_by_status: OrdersByStatus {
            pending: counts.pending,
            confirmed: counts.confirmed,
            cancelled: counts.cancelled,
            refunded: counts.refunded,
        },
        gross_minor: s.gross.minor_units(),
        refunded_minor: s.refunded.minor_units(),
        net_minor: s.net.minor_units(),
        sales_per_day: s
            .sales_per_day
            .iter()
            .map(|d| back_office::DaySales {
                date: d.date,
                orders: d.orders,
                tickets: d.tickets,
                amount_minor: d.amount.minor_units(),
            })
            .collect(),
        check_ins: check_ins(&s.check_ins),
    }
}

fn check_ins(c: &CheckIns) -> CheckinSummary {
    CheckinSummary {
        checked_in: c.total,
        by_ticket_type: c
            .by_ticket_type
            .iter()
            .map(|(ticket_type, checked_in)| TicketTypeCheckins {
                ticket_type: ticket_type.clone(),
                checked_in: *checked_in,
            })
            .collect(),
        by_gate: c
            .by_gate
            .iter()
            .map(|(gate, checked_in)| GateCheckins {
                gate: gate.clone(),
                checked_in: *checked_in,
            })
            .collect(),
        per_minute: c
            .per_minute
            .iter()
            .map(|(minute, checked_in)| MinuteCheckins {
                minute: *minute,
                checked_in: *checked_in,
            })
            .collect(),
    }
}
