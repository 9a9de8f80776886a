//! What the payment service counts for its operators (see `platform::metrics::names`).

use platform::metrics::{counter, names};

use crate::domain::Payment;

/// A payment came back from the gateway: `completed`, `failed`, or `refunded` (completed for
/// an order that had ended meanwhile, and refunded in the same step).
pub fn settled(payment: &Payment) {
    counter!(names::PAYMENTS, "outcome" => payment.status.as_str()).increment(1);
    refunded(payment);
}

/// Counts the payment's refund, if it has one, by its published reason.
pub fn refunded(payment: &Payment) {
    if let Some(refund) = &payment.refund {
        counter!(names::REFUNDS, "reason" => refund.reason.clone()).increment(1);
    }
}
