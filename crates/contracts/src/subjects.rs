//! Subjects name the fact in the past tense. The scheme is `<stream>.<fact>`; consumers filter
//! on these exact subjects.

pub mod streams {
    pub const ORDERS: &str = "ORDERS";
    pub const PAYMENTS: &str = "PAYMENTS";
    pub const CATALOG: &str = "CATALOG";
    pub const TICKETS: &str = "TICKETS";
    pub const DEAD_LETTERS: &str = "DEAD_LETTERS";
}

pub const ORDERS_CREATED: &str = "orders.created";
pub const ORDERS_CONFIRMED: &str = "orders.confirmed";
pub const ORDERS_CANCELLED: &str = "orders.cancelled";

pub const PAYMENTS_COMPLETED: &str = "payments.completed";
pub const PAYMENTS_FAILED: &str = "payments.failed";
pub const PAYMENTS_REFUNDED: &str = "payments.refunded";

pub const CATALOG_EVENT_PUBLISHED: &str = "catalog.events.published";
pub const CATALOG_EVENT_UPDATED: &str = "catalog.events.updated";
pub const CATALOG_EVENT_CANCELLED: &str = "catalog.events.cancelled";
pub const CATALOG_EVENT_STAFF_CHANGED: &str = "catalog.events.staff_changed";

pub const TICKETS_CHECKED_IN: &str = "tickets.checked_in";

pub const TICKETS_WAITLIST_OFFERED: &str = "tickets.waitlist_offered";
pub const TICKETS_WAITLIST_CLOSED: &str = "tickets.waitlist_closed";

/// Where a consumer parks a message it gave up on: `dlq.<consumer>`.
pub fn dead_letter(consumer: &str) -> String {
    format!("dlq.{consumer}")
}

/// Header names used on every published event.
pub mod headers {
    /// JetStream de-duplicates on it; always the envelope id.
    pub const MSG_ID: &str = "Nats-Msg-Id";
    /// W3C trace context, so one trace spans HTTP and the broker.
    pub const TRACEPARENT: &str = "traceparent";
    /// Why a message was dead-lettered.
    pub const DLQ_REASON: &str = "Dlq-Reason";
    /// The subject a dead-lettered message was first published on.
    pub const DLQ_ORIGINAL_SUBJECT: &str = "Dlq-Original-Subject";
    /// Its sequence in the stream it came from.
    pub const DLQ_STREAM_SEQUENCE: &str = "Dlq-Stream-Sequence";
}
