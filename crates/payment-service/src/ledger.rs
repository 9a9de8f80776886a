//! The rules that change payments once the gateway or the order's fate is known, as pure
//! functions. Both store adapters run them *inside* their transactions, on the rows they just
//! read, and write back exactly what they return (the payment rows and the outbox messages), so
//! the rules live in one place and every decision is made on a consistent snapshot.

use chrono::{DateTime, Utc};
use contracts::orders::CancelReason;
use platform::StoreError;
use platform::outbox::OutboxMessage;

use crate::domain::{GatewayResponse, OrderRecord, Payment, PaymentStatus, REFUND_REASON, Refund};
use crate::facts;
use crate::gateway::{self, Charge};

/// The `reason` of the refund a cancellation causes: the order's cancel reason when the order
/// was cancelled to refund its sale (`event_cancelled`, `organizer_refund`, `buyer_refund`),
/// [`REFUND_REASON`] for any other (or unknown) reason.
pub fn refund_reason(cause: Option<CancelReason>) -> &'static str {
    match cause {
        Some(
            reason @ (CancelReason::EventCancelled
            | CancelReason::OrganizerRefund
            | CancelReason::BuyerRefund),
        ) => reason.as_str(),
        Some(CancelReason::PaymentFailed | CancelReason::Expired | CancelReason::UserCancelled)
        | None => REFUND_REASON,
    }
}

/// What settling a payment changes.
#[derive(Debug)]
pub struct Settlement {
    /// The payment as it must be stored: `completed`, `failed`, or `refunded` when its order was
    /// already cancelled.
    pub payment: Payment,
    pub facts: Vec<OutboxMessage>,
}

/// Records the gateway's decision on a `processing` payment. `None` when the payment is no longer
/// processing (the stale-payment sweep gave up on it first): nothing changes then.
///
/// A payment that completes for an order the projection knows is cancelled is refunded in the
/// same step: the buyer never keeps paying for an order without seats.
pub fn settle(
    mut payment: Payment,
    order: Option<&OrderRecord>,
    charge: &Charge,
    at: DateTime<Utc>,
    traceparent: &str,
) -> Result<Option<Settlement>, StoreError> {
    if payment
        .settle(charge.approved, charge.response.clone(), at)
        .is_err()
    {
        return Ok(None);
    }
    let mut facts = vec![facts::settled(&payment, traceparent)?];
    if let Some(order) = order.filter(|o| o.is_cancelled())
        && payment.status == PaymentStatus::Completed
    {
        refund(&mut payment, order.cancel_reason, at);
        facts.push(facts::refunded(&payment, traceparent)?);
    }
    Ok(Some(Settlement { payment, facts }))
}

fn refund(payment: &mut Payment, cause: Option<CancelReason>, at: DateTime<Utc>) -> bool {
    payment
        .refund(Refund {
            transaction_id: gateway::refund(),
            reason: refund_reason(cause).to_string(),
            order_cancel_reason: cause,
            refunded_at: at,
        })
        .is_ok()
}

/// The refunds an order's cancellation causes: every `completed` payment of it (there is at most
/// one) becomes `refunded` with its `payments.refunded`. Already refunded payments are left
/// alone, so a second cancellation fact refunds nothing.
pub fn refunds_for(
    order: &OrderRecord,
    payments: Vec<Payment>,
    at: DateTime<Utc>,
    traceparent: &str,
) -> Result<(Vec<Payment>, Vec<OutboxMessage>), StoreError> {
    let mut changed = Vec::new();
    let mut out = Vec::new();
    if !order.is_cancelled() {
        return Ok((changed, out));
    }
    for mut p in payments {
        if p.status == PaymentStatus::Completed && refund(&mut p, order.cancel_reason, at) {
            out.push(facts::refunded(&p, traceparent)?);
            changed.push(p);
        }
    }
    Ok((changed, out))
}

/// Gives up on a payment left `pending` or `processing` by a process that died. A `pending` one
/// never reached the gateway and fails silently; a `processing` one fails with `gateway_timeout`
/// and `payments.failed`, as the ticket service counts it as an attempt. The simulated gateway
/// runs in-process, so no money can have moved for it.
pub fn abandon(
    mut payment: Payment,
    at: DateTime<Utc>,
    traceparent: &str,
) -> Result<Option<(Payment, Option<OutboxMessage>)>, StoreError> {
    let (code, message, publish) = match payment.status {
        PaymentStatus::Pending => (
            "abandoned",
            "The payment was interrupted before it reached the gateway.",
            false,
        ),
        PaymentStatus::Processing => (
            "gateway_timeout",
            "The gateway did not answer in time; no money was taken.",
            true,
        ),
        _ => return Ok(None),
    };
    let response = GatewayResponse {
        transaction_id: String::new(),
        response_code: code.into(),
        response_message: message.into(),
    };
    // pending -> failed and processing -> failed are both allowed transitions.
    if payment.settle(false, response, at).is_err() {
        return Ok(None);
    }
    let fact = if publish {
        Some(facts::settled(&payment, traceparent)?)
    } else {
        None
    };
    Ok(Some((payment, fact)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{OrderSource, OrderStatus};
    use crate::testing::{new_payment, pending_order};
    use contracts::Envelope;
    use uuid::Uuid;

    const TP: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    /// A 25.50 card payment of a new order, now `status`.
    fn payment(status: PaymentStatus) -> Payment {
        Payment {
            status,
            ..new_payment(&pending_order(Uuid::new_v4(), 2550))
        }
    }

    fn order(p: &Payment, status: OrderStatus) -> OrderRecord {
        OrderRecord {
            id: p.order_id,
            user_id: p.user_id,
            event_id: None,
            booking_reference: None,
            amount: Some(p.amount),
            status,
            cancel_reason: (status == OrderStatus::Cancelled).then_some(CancelReason::Expired),
            expires_at: None,
            source: OrderSource::Events,
            updated_at: p.created_at,
        }
    }

    fn approved() -> Charge {
        Charge {
            approved: true,
            response: GatewayResponse {
                transaction_id: "txn_1".into(),
                response_code: "approved".into(),
                response_message: "ok".into(),
            },
        }
    }

    /// An approved charge of a processing payment whose order is `status` in the projection.
    fn approved_for(status: OrderStatus) -> Settlement {
        let p = payment(PaymentStatus::Processing);
        let o = order(&p, status);
        settle(p, Some(&o), &approved(), platform::time::now(), TP)
            .unwrap()
            .unwrap()
    }

    fn subjects(facts: &[OutboxMessage]) -> Vec<&str> {
        facts.iter().map(|f| f.subject.as_str()).collect()
    }

    #[test]
    fn an_approved_charge_completes_the_payment_and_publishes_it() {
        let s = approved_for(OrderStatus::Pending);
        assert_eq!(s.payment.status, PaymentStatus::Completed);
        assert_eq!(subjects(&s.facts), ["payments.completed"]);
        assert_eq!(s.facts[0].traceparent.as_deref(), Some(TP));
        let envelope: Envelope<serde_json::Value> =
            serde_json::from_slice(&s.facts[0].payload).unwrap();
        assert_eq!(envelope.subject, Some(s.payment.order_id.to_string()));
        assert_eq!(envelope.data["amount"]["minorUnits"], 2550);
    }

    #[test]
    fn a_payment_completing_for_a_cancelled_order_is_refunded_in_the_same_step() {
        let s = approved_for(OrderStatus::Cancelled);
        assert_eq!(s.payment.status, PaymentStatus::Refunded);
        assert_eq!(
            subjects(&s.facts),
            ["payments.completed", "payments.refunded"]
        );
        assert_eq!(
            s.payment.refund.unwrap().order_cancel_reason,
            Some(CancelReason::Expired)
        );
    }

    #[test]
    fn a_payment_completing_for_an_order_already_refunded_is_refunded_too() {
        let s = approved_for(OrderStatus::Refunded);
        assert_eq!(s.payment.status, PaymentStatus::Refunded);
    }

    #[test]
    fn a_payment_that_is_no_longer_processing_is_not_settled() {
        let p = payment(PaymentStatus::Failed);
        assert!(
            settle(p, None, &approved(), platform::time::now(), TP)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_cancellation_refunds_completed_payments_once() {
        let done = payment(PaymentStatus::Completed);
        let o = order(&done, OrderStatus::Cancelled);
        let (changed, out) =
            refunds_for(&o, vec![done.clone()], platform::time::now(), TP).unwrap();
        assert_eq!(changed.len(), 1);
        assert_eq!(subjects(&out), ["payments.refunded"]);
        let (again, none) = refunds_for(&o, changed, platform::time::now(), TP).unwrap();
        assert!(again.is_empty() && none.is_empty());
        let pending = order(&done, OrderStatus::Pending);
        assert!(
            refunds_for(&pending, vec![done], platform::time::now(), TP)
                .unwrap()
                .0
                .is_empty()
        );
    }

    fn refund_reason_published(payment: &Payment, facts: &[OutboxMessage]) -> (String, String) {
        let envelope: Envelope<serde_json::Value> =
            serde_json::from_slice(&facts.last().unwrap().payload).unwrap();
        (
            payment.refund.as_ref().unwrap().reason.clone(),
            envelope.data["reason"].as_str().unwrap().to_string(),
        )
    }

    #[test]
    fn a_refund_for_a_cancelled_sale_gives_the_orders_cancel_reason_and_any_other_order_not_pending()
     {
        let cases = [
            (Some(CancelReason::EventCancelled), "event_cancelled"),
            (Some(CancelReason::OrganizerRefund), "organizer_refund"),
            (Some(CancelReason::BuyerRefund), "buyer_refund"),
            (Some(CancelReason::Expired), "order_not_pending"),
            (Some(CancelReason::UserCancelled), "order_not_pending"),
            (Some(CancelReason::PaymentFailed), "order_not_pending"),
            (None, "order_not_pending"),
        ];
        for (cause, expected) in cases {
            assert_eq!(refund_reason(cause), expected);
            // Given a completed payment, when its order is cancelled for `cause`, then the
            // payment and its `payments.refunded` carry the reason.
            let done = payment(PaymentStatus::Completed);
            let o = OrderRecord {
                cancel_reason: cause,
                ..order(&done, OrderStatus::Cancelled)
            };
            let (changed, out) = refunds_for(&o, vec![done], platform::time::now(), TP).unwrap();
            let published = refund_reason_published(&changed[0], &out);
            assert_eq!(published, (expected.into(), expected.into()), "{cause:?}");
            assert_eq!(
                changed[0].refund.as_ref().unwrap().order_cancel_reason,
                cause
            );
            // The same when the payment completes for an order already known cancelled.
            let late = payment(PaymentStatus::Processing);
            let o = OrderRecord {
                cancel_reason: cause,
                ..order(&late, OrderStatus::Cancelled)
            };
            let s = settle(late, Some(&o), &approved(), platform::time::now(), TP)
                .unwrap()
                .unwrap();
            let published = refund_reason_published(&s.payment, &s.facts);
            assert_eq!(published, (expected.into(), expected.into()), "{cause:?}");
        }
    }

    #[test]
    fn an_interrupted_payment_fails_and_only_a_processing_one_is_published() {
        let (p, fact) = abandon(payment(PaymentStatus::Pending), platform::time::now(), TP)
            .unwrap()
            .unwrap();
        assert_eq!(p.status, PaymentStatus::Failed);
        assert!(fact.is_none());
        let (p, fact) = abandon(
            payment(PaymentStatus::Processing),
            platform::time::now(),
            TP,
        )
        .unwrap()
        .unwrap();
        assert_eq!(p.status, PaymentStatus::Failed);
        assert_eq!(fact.unwrap().subject, "payments.failed");
        assert!(
            abandon(payment(PaymentStatus::Completed), platform::time::now(), TP)
                .unwrap()
                .is_none()
        );
    }
}
