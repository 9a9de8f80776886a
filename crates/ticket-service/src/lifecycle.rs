//! The rules of an order's life, as pure functions:
//!
//! ```text
//! booked ──> pending ──payment completed──> confirmed    held seats sold, one ticket per seat
//!              │ ▲                              │
//!              │ └─payment failed (below the    └──cancel for a refund──> cancelled
//!              │   limit): attempt counted,        (event_cancelled | organizer_refund |
//!              │   seats stay held                  buyer_refund): sold seats released,
//!              │                                    tickets void      │
//!              ├──payment failed (the limit)──> cancelled             │ the confirming
//!              │                                (payment_failed)      │ payment refunded
//!              └──cancel──────────────────────> cancelled             ▼
//!                 (user_cancelled | expired |   held seats          refunded
//!                  event_cancelled)             released
//! ```
//!
//! Every step that ends an order publishes its fact (`orders.confirmed`, `orders.cancelled`);
//! the payment service refunds the payment of an order cancelled after it was paid and says so
//! with `payments.refunded`, which marks the order refunded. A payment result for an order that
//! is no longer pending is only noted (the payment service refunds it when it sees the order
//! cancelled). Whether a buyer may still cancel a paid order is [`buyer_refund`].
//!
//! Both store adapters run these rules *inside* their transaction, on the order they just read,
//! and write back exactly what comes out: the order (only while it still has the status it was
//! read in), the stock changes (only while `0 <= held`, `0 <= sold` and `sold + held <=
//! capacity` hold), the tickets (new ones, or all of the order's made void), the payment
//! attempt and the outbox rows. A new state is a new [`Command`] or a new arm here; the adapters
//! need no change unless it writes something new.

use api_types::events::RefundPolicy;
use chrono::{DateTime, Utc};
use platform::money::Money;
use platform::outbox::OutboxMessage;
use uuid::Uuid;

use crate::facts;
use crate::order::{CancelReason, IssuedTicket, Order, OrderStatus, PaymentAttempt, Refund};

/// What asks an order to change.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Ends the order for `reason` when that reason may end it ([`may_end`]): the buyer, the
    /// expiry sweep and the event's cancellation end a pending order; a refund (the organizer's,
    /// the buyer's, the event's cancellation) ends a confirmed one.
    Cancel(CancelReason),
    /// A completed payment (`payments.completed`).
    Confirm(PaymentAttempt),
    /// A declined payment (`payments.failed`); the order survives `max_failures - 1` of them.
    RecordFailure {
        attempt: PaymentAttempt,
        max_failures: u32,
    },
    /// A refunded payment (`payments.refunded`) of `amount`: the confirming payment of an order
    /// cancelled after it was paid makes the order refunded; any other refund (a payment that
    /// came in after its order had ended) is only recorded.
    RecordRefund {
        attempt: PaymentAttempt,
        amount: Money,
    },
}

/// What a command did to the order.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    /// The order changed status (confirmed, cancelled, refunded); the order as it is now.
    Applied(Order),
    /// The payment was recorded and the order kept its status (a declined payment below the
    /// limit, a refund that is not the order's); the order as it is now.
    Recorded(Order),
    /// The order had left `pending` already (or, for an event's cancellation, had ended);
    /// nothing changed but the payment's record.
    NotPending(Order),
    /// A refund of an order that is not confirmed (still pending, or ended already); nothing
    /// changed.
    NotConfirmed(Order),
    NotFound,
    /// This message was processed before; nothing changed.
    Duplicate,
}

/// Seats of one ticket type moving between available, `held` and `sold`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockChange {
    pub event_id: Uuid,
    pub ticket_type: String,
    pub held: i64,
    pub sold: i64,
}

impl StockChange {
    /// Seats this change takes from the available ones (negative: gives back).
    pub fn taken(&self) -> i64 {
        self.held + self.sold
    }
}

/// The order as it must be stored, written only while the stored one still has status `from`.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderUpdate {
    pub order: Order,
    pub from: OrderStatus,
}

/// Everything one command writes, in one atomic unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub transition: Transition,
    pub update: Option<OrderUpdate>,
    pub stock: Vec<StockChange>,
    /// New tickets to issue.
    pub tickets: Vec<IssuedTicket>,
    /// Every ticket of the order becomes void.
    pub void_tickets: bool,
    /// Recorded once per payment and outcome.
    pub attempt: Option<PaymentAttempt>,
    pub facts: Vec<OutboxMessage>,
}

impl Decision {
    fn only(transition: Transition, attempt: Option<PaymentAttempt>) -> Self {
        Self {
            transition,
            update: None,
            stock: Vec::new(),
            tickets: Vec::new(),
            void_tickets: false,
            attempt,
            facts: Vec::new(),
        }
    }
}

/// A new order as a booking stores it, with its holds and its fact.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// Pending, nothing paid or failed yet.
    pub order: Order,
    /// One hold per line; a booking is all of them or nothing.
    pub stock: Vec<StockChange>,
    pub facts: Vec<OutboxMessage>,
}

/// Places a booked order: pending until paid or `expires_at`, every line's seats held,
/// `orders.created` published.
pub fn place(order: &Order, traceparent: Option<&str>) -> Placement {
    let order = Order {
        status: OrderStatus::Pending,
        cancel_reason: None,
        payment_id: None,
        failed_payments: 0,
        updated_at: order.created_at,
        paid_at: None,
        cancelled_at: None,
        refund: None,
        ..order.clone()
    };
    Placement {
        stock: seats(&order, |q| (q, 0)),
        facts: vec![facts::created(&order, traceparent)],
        order,
    }
}

/// What `command` does to `order` (as just read, `None` when it does not exist) at `now`.
/// `traceparent` goes on the facts it publishes.
pub fn decide(
    order: Option<Order>,
    command: &Command,
    now: DateTime<Utc>,
    traceparent: Option<&str>,
) -> Decision {
    let Some(order) = order else {
        return Decision::only(Transition::NotFound, None);
    };
    match command {
        Command::Cancel(reason) => cancel(order, *reason, None, now, traceparent),
        Command::Confirm(attempt) => confirm(order, attempt, now, traceparent),
        Command::RecordFailure {
            attempt,
            max_failures,
        } => record_failure(order, attempt, *max_failures, now, traceparent),
        Command::RecordRefund { attempt, amount } => record_refund(order, attempt, *amount, now),
    }
}

/// Whether a cancellation for `reason` may end an order in `status`. An unpaid order ends for
/// any reason but a refund; a paid one only for a refund (which cancelling the event is too);
/// an ended one never again.
pub fn may_end(reason: CancelReason, status: OrderStatus) -> bool {
    let refund_only = is_refund_only(reason);
    match status {
        OrderStatus::Pending => !refund_only,
        OrderStatus::Confirmed => refund_only || reason == CancelReason::EventCancelled,
        OrderStatus::Cancelled | OrderStatus::Refunded => false,
    }
}

/// Reasons that only ever end a paid order.
fn is_refund_only(reason: CancelReason) -> bool {
    matches!(
        reason,
        CancelReason::OrganizerRefund | CancelReason::BuyerRefund
    )
}

/// Why a buyer may not cancel a paid order for a refund. The message is the one the buyer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RefundRefusal {
    #[error("Refunds are not offered for this event.")]
    NotOffered,
    #[error(
        "Refunds for this event were possible until {} UTC.",
        .deadline.format("%Y-%m-%d %H:%M")
    )]
    Closed { deadline: DateTime<Utc> },
}

/// Whether the buyer of a paid order may cancel it for a refund (`buyer_refund`) at `now`: only
/// when the event's refund policy offers refunds, and until its deadline (inclusive).
pub fn buyer_refund(
    policy: &RefundPolicy,
    event_starts: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), RefundRefusal> {
    match policy.deadline(event_starts) {
        None => Err(RefundRefusal::NotOffered),
        Some(deadline) if now > deadline => Err(RefundRefusal::Closed { deadline }),
        Some(_) => Ok(()),
    }
}

/// Why a buyer's cancellation ends their order in `status`: a paid order for a refund
/// (`buyer_refund`) while the event's refund policy allows it ([`buyer_refund`]), any other one
/// as `user_cancelled` (which [`decide`] refuses for an order that has ended already).
pub fn buyer_cancel_reason(
    status: OrderStatus,
    policy: &RefundPolicy,
    event_starts: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<CancelReason, RefundRefusal> {
    if status == OrderStatus::Confirmed {
        buyer_refund(policy, event_starts, now).map(|()| CancelReason::BuyerRefund)
    } else {
        Ok(CancelReason::UserCancelled)
    }
}

/// The stock change of every line: `(held, sold)` for a quantity.
fn seats(order: &Order, change: impl Fn(i64) -> (i64, i64)) -> Vec<StockChange> {
    order
        .lines
        .iter()
        .map(|l| {
            let (held, sold) = change(i64::from(l.quantity));
            StockChange {
                event_id: order.event_id,
                ticket_type: l.ticket_type.clone(),
                held,
                sold,
            }
        })
        .collect()
}

fn cancel(
    order: Order,
    reason: CancelReason,
    attempt: Option<PaymentAttempt>,
    now: DateTime<Utc>,
    traceparent: Option<&str>,
) -> Decision {
    if !may_end(reason, order.status) {
        let refused = if is_refund_only(reason) {
            Transition::NotConfirmed(order)
        } else {
            Transition::NotPending(order)
        };
        return Decision::only(refused, attempt);
    }
    let from = order.status;
    let paid = from == OrderStatus::Confirmed;
    let cancelled = Order {
        status: OrderStatus::Cancelled,
        cancel_reason: Some(reason),
        cancelled_at: Some(now),
        updated_at: now,
        ..order
    };
    Decision {
        // Held seats of an unpaid order, sold ones of a paid order, go back on sale.
        stock: if paid {
            seats(&cancelled, |q| (0, -q))
        } else {
            seats(&cancelled, |q| (-q, 0))
        },
        tickets: Vec::new(),
        void_tickets: paid,
        attempt,
        facts: vec![facts::cancelled(&cancelled, reason, traceparent)],
        update: Some(OrderUpdate {
            order: cancelled.clone(),
            from,
        }),
        transition: Transition::Applied(cancelled),
    }
}

fn confirm(
    order: Order,
    attempt: &PaymentAttempt,
    now: DateTime<Utc>,
    traceparent: Option<&str>,
) -> Decision {
    if order.status != OrderStatus::Pending {
        return Decision::only(Transition::NotPending(order), Some(attempt.clone()));
    }
    let from = order.status;
    let confirmed = Order {
        status: OrderStatus::Confirmed,
        payment_id: Some(attempt.payment_id),
        paid_at: Some(now),
        updated_at: now,
        ..order
    };
    let tickets = issue_tickets(&confirmed);
    Decision {
        stock: seats(&confirmed, |q| (-q, q)),
        facts: vec![facts::confirmed(&confirmed, &tickets, traceparent)],
        tickets,
        void_tickets: false,
        attempt: Some(attempt.clone()),
        update: Some(OrderUpdate {
            order: confirmed.clone(),
            from,
        }),
        transition: Transition::Applied(confirmed),
    }
}

fn record_failure(
    order: Order,
    attempt: &PaymentAttempt,
    max_failures: u32,
    now: DateTime<Utc>,
    traceparent: Option<&str>,
) -> Decision {
    if order.status != OrderStatus::Pending {
        return Decision::only(Transition::NotPending(order), Some(attempt.clone()));
    }
    let counted = Order {
        failed_payments: order.failed_payments + 1,
        updated_at: now,
        ..order
    };
    if counted.failed_payments >= max_failures {
        return cancel(
            counted,
            CancelReason::PaymentFailed,
            Some(attempt.clone()),
            now,
            traceparent,
        );
    }
    Decision {
        update: Some(OrderUpdate {
            order: counted.clone(),
            from: OrderStatus::Pending,
        }),
        ..Decision::only(Transition::Recorded(counted), Some(attempt.clone()))
    }
}

fn record_refund(
    order: Order,
    attempt: &PaymentAttempt,
    amount: Money,
    now: DateTime<Utc>,
) -> Decision {
    let of_the_sale =
        order.status == OrderStatus::Cancelled && order.payment_id == Some(attempt.payment_id);
    let reason = order.cancel_reason.filter(|_| of_the_sale);
    let Some(reason) = reason else {
        return Decision::only(Transition::Recorded(order), Some(attempt.clone()));
    };
    let refunded = Order {
        status: OrderStatus::Refunded,
        refund: Some(Refund {
            amount,
            refunded_at: attempt.at,
            reason,
        }),
        updated_at: now,
        ..order
    };
    Decision {
        update: Some(OrderUpdate {
            order: refunded.clone(),
            from: OrderStatus::Cancelled,
        }),
        ..Decision::only(Transition::Applied(refunded), Some(attempt.clone()))
    }
}

/// One ticket per seat of the order, each with a fresh unguessable code.
fn issue_tickets(order: &Order) -> Vec<IssuedTicket> {
    order
        .lines
        .iter()
        .flat_map(|l| {
            (0..l.quantity).map(|_| IssuedTicket {
                code: crate::codes::ticket_code(),
                ticket_type: l.ticket_type.clone(),
                void: false,
                signed_code: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono::Duration;
    use contracts::Envelope;
    use platform::money::{Currency, Money};

    use super::*;
    use crate::order::{AttemptStatus, OrderLine};

    const TP: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    fn usd(minor: i64) -> Money {
        Money::from_minor_units(minor, Currency::USD)
    }

    /// A pending order of 2 General (25.50) and 1 VIP (100.00).
    fn pending() -> Order {
        let lines = vec![
            OrderLine::new("General".into(), usd(2550), 2).unwrap(),
            OrderLine::new("VIP".into(), usd(10_000), 1).unwrap(),
        ];
        crate::order::sample(
            Uuid::new_v4(),
            lines,
            platform::time::now() - Duration::minutes(1),
        )
    }

    fn with_status(status: OrderStatus) -> Order {
        Order {
            status,
            ..pending()
        }
    }

    fn attempt(status: AttemptStatus) -> PaymentAttempt {
        PaymentAttempt {
            payment_id: Uuid::new_v4(),
            status,
            response_code: Some("code".into()),
            response_message: Some("message".into()),
            at: platform::time::now(),
        }
    }

    fn failure(max_failures: u32) -> Command {
        Command::RecordFailure {
            attempt: attempt(AttemptStatus::Failed),
            max_failures,
        }
    }

    fn subjects(facts: &[OutboxMessage]) -> Vec<&str> {
        facts.iter().map(|f| f.subject.as_str()).collect()
    }

    fn data(fact: &OutboxMessage) -> serde_json::Value {
        serde_json::from_slice::<Envelope<serde_json::Value>>(&fact.payload)
            .unwrap()
            .data
    }

    /// `(ticket type, held, sold)` per stock change.
    fn moves(d: &[StockChange]) -> Vec<(&str, i64, i64)> {
        d.iter()
            .map(|s| (s.ticket_type.as_str(), s.held, s.sold))
            .collect()
    }

    fn applied(d: &Decision) -> &Order {
        match &d.transition {
            Transition::Applied(o) => o,
            other => panic!("not applied: {other:?}"),
        }
    }

    /// Nothing written but (maybe) the payment's record.
    fn changes_nothing(d: &Decision) -> bool {
        d.update.is_none()
            && d.stock.is_empty()
            && d.tickets.is_empty()
            && !d.void_tickets
            && d.facts.is_empty()
    }

    /// A pending order confirmed by `decide`, and the payment that confirmed it.
    fn confirmed() -> (Order, PaymentAttempt) {
        let paid = attempt(AttemptStatus::Completed);
        let d = decide(
            Some(pending()),
            &Command::Confirm(paid.clone()),
            platform::time::now(),
            None,
        );
        (applied(&d).clone(), paid)
    }

    /// A confirmed order cancelled by `decide` for `reason`, and its confirming payment.
    fn cancelled_after_payment(reason: CancelReason) -> (Order, PaymentAttempt) {
        let (order, paid) = confirmed();
        let d = decide(
            Some(order),
            &Command::Cancel(reason),
            platform::time::now(),
            None,
        );
        (applied(&d).clone(), paid)
    }

    fn refund_of(payment: &PaymentAttempt, amount: i64) -> Command {
        Command::RecordRefund {
            attempt: PaymentAttempt {
                payment_id: payment.payment_id,
                status: AttemptStatus::Refunded,
                response_code: Some("refunded".into()),
                response_message: Some("organizer_refund".into()),
                at: platform::time::now() + Duration::seconds(5),
            },
            amount: usd(amount),
        }
    }

    const REFUNDS: [CancelReason; 3] = [
        CancelReason::EventCancelled,
        CancelReason::OrganizerRefund,
        CancelReason::BuyerRefund,
    ];

    #[test]
    fn a_booked_order_is_placed_pending_with_every_line_held_and_published() {
        let booked = Order {
            failed_payments: 2,
            ..pending()
        };
        let p = place(&booked, Some(TP));
        assert_eq!(p.order.status, OrderStatus::Pending);
        assert_eq!(p.order.failed_payments, 0);
        assert_eq!(moves(&p.stock), [("General", 2, 0), ("VIP", 1, 0)]);
        assert!(p.stock.iter().all(|s| s.event_id == booked.event_id));
        assert_eq!(subjects(&p.facts), ["orders.created"]);
        assert_eq!(p.facts[0].traceparent.as_deref(), Some(TP));
        assert_eq!(data(&p.facts[0])["totalAmount"]["minorUnits"], 15_100);
    }

    #[test]
    fn a_completed_payment_confirms_a_pending_order_sells_its_seats_and_issues_one_ticket_per_seat()
    {
        let order = pending();
        let paid = attempt(AttemptStatus::Completed);
        let now = platform::time::now();
        let d = decide(
            Some(order.clone()),
            &Command::Confirm(paid.clone()),
            now,
            Some(TP),
        );
        let confirmed = applied(&d);
        assert_eq!(confirmed.status, OrderStatus::Confirmed);
        assert_eq!(confirmed.payment_id, Some(paid.payment_id));
        assert_eq!(confirmed.updated_at, now);
        assert_eq!(confirmed.paid_at, Some(now));
        let update = d.update.as_ref().unwrap();
        assert_eq!(
            (&update.order, update.from),
            (confirmed, OrderStatus::Pending)
        );
        assert_eq!(moves(&d.stock), [("General", -2, 2), ("VIP", -1, 1)]);
        assert!(d.stock.iter().all(|s| s.taken() == 0));
        assert!(!d.void_tickets);
        let types: Vec<&str> = d.tickets.iter().map(|t| t.ticket_type.as_str()).collect();
        assert_eq!(types, ["General", "General", "VIP"]);
        let codes: HashSet<&str> = d.tickets.iter().map(|t| t.code.as_str()).collect();
        assert_eq!(codes.len(), 3);
        assert_eq!(d.attempt, Some(paid.clone()));
        assert_eq!(subjects(&d.facts), ["orders.confirmed"]);
        assert_eq!(d.facts[0].traceparent.as_deref(), Some(TP));
        let fact = data(&d.facts[0]);
        assert_eq!(fact["paymentId"], paid.payment_id.to_string());
        assert_eq!(fact["ticketCount"], 3);
    }

    #[test]
    fn a_payment_for_an_order_that_left_pending_is_only_noted() {
        for status in [
            OrderStatus::Confirmed,
            OrderStatus::Cancelled,
            OrderStatus::Refunded,
        ] {
            let order = with_status(status);
            for command in [
                Command::Confirm(attempt(AttemptStatus::Completed)),
                failure(1),
            ] {
                let d = decide(Some(order.clone()), &command, platform::time::now(), None);
                assert_eq!(d.transition, Transition::NotPending(order.clone()));
                assert!(changes_nothing(&d), "{status:?} {command:?}");
                assert!(d.attempt.is_some());
            }
        }
    }

    #[test]
    fn declined_payments_are_counted_and_the_order_stays_pending_below_the_limit() {
        let order = Order {
            failed_payments: 1,
            ..pending()
        };
        let now = platform::time::now();
        let d = decide(Some(order), &failure(3), now, Some(TP));
        let Transition::Recorded(counted) = &d.transition else {
            panic!("not recorded: {:?}", d.transition);
        };
        assert_eq!(counted.status, OrderStatus::Pending);
        assert_eq!(counted.failed_payments, 2);
        assert_eq!(counted.updated_at, now);
        assert_eq!(d.update.as_ref().unwrap().order, *counted);
        assert!(d.stock.is_empty() && d.facts.is_empty() && d.tickets.is_empty());
        assert_eq!(d.attempt.unwrap().status, AttemptStatus::Failed);
    }

    #[test]
    fn the_last_allowed_declined_payment_cancels_the_order_and_releases_its_seats() {
        let order = Order {
            failed_payments: 2,
            ..pending()
        };
        let d = decide(Some(order), &failure(3), platform::time::now(), Some(TP));
        let cancelled = applied(&d);
        assert_eq!(cancelled.status, OrderStatus::Cancelled);
        assert_eq!(cancelled.cancel_reason, Some(CancelReason::PaymentFailed));
        assert_eq!(cancelled.failed_payments, 3);
        assert_eq!(d.update.as_ref().unwrap().from, OrderStatus::Pending);
        assert_eq!(moves(&d.stock), [("General", -2, 0), ("VIP", -1, 0)]);
        assert!(d.tickets.is_empty());
        assert!(d.attempt.is_some());
        assert_eq!(subjects(&d.facts), ["orders.cancelled"]);
        assert_eq!(data(&d.facts[0])["reason"], "payment_failed");
    }

    #[test]
    fn cancelling_a_pending_order_releases_its_held_seats_and_publishes_the_reason() {
        for reason in [
            CancelReason::UserCancelled,
            CancelReason::Expired,
            CancelReason::EventCancelled,
        ] {
            let now = platform::time::now();
            let d = decide(Some(pending()), &Command::Cancel(reason), now, Some(TP));
            let cancelled = applied(&d);
            assert_eq!(cancelled.status, OrderStatus::Cancelled);
            assert_eq!(cancelled.cancel_reason, Some(reason));
            assert_eq!(cancelled.cancelled_at, Some(now));
            assert_eq!(d.update.as_ref().unwrap().from, OrderStatus::Pending);
            assert_eq!(moves(&d.stock), [("General", -2, 0), ("VIP", -1, 0)]);
            assert!(d.attempt.is_none() && d.tickets.is_empty() && !d.void_tickets);
            assert_eq!(subjects(&d.facts), ["orders.cancelled"]);
            assert_eq!(data(&d.facts[0])["reason"], reason.as_str());
        }
    }

    #[test]
    fn cancelling_a_paid_order_for_a_refund_releases_its_sold_seats_voids_its_tickets_and_publishes_the_reason()
     {
        for reason in REFUNDS {
            let (order, paid) = confirmed();
            let now = platform::time::now();
            let d = decide(Some(order.clone()), &Command::Cancel(reason), now, Some(TP));
            let cancelled = applied(&d);
            assert_eq!(cancelled.status, OrderStatus::Cancelled);
            assert_eq!(cancelled.cancel_reason, Some(reason));
            assert_eq!(cancelled.cancelled_at, Some(now));
            // Still the sale it was: paid then, by that payment, refund to come.
            assert_eq!(cancelled.paid_at, order.paid_at);
            assert_eq!(cancelled.payment_id, Some(paid.payment_id));
            assert_eq!(cancelled.refund, None);
            assert_eq!(d.update.as_ref().unwrap().from, OrderStatus::Confirmed);
            assert_eq!(moves(&d.stock), [("General", 0, -2), ("VIP", 0, -1)]);
            assert!(d.void_tickets && d.tickets.is_empty() && d.attempt.is_none());
            assert_eq!(subjects(&d.facts), ["orders.cancelled"]);
            assert_eq!(d.facts[0].traceparent.as_deref(), Some(TP));
            assert_eq!(data(&d.facts[0])["reason"], reason.as_str());
        }
    }

    /// A cancellation for `reason` of an order in `status` that the reason may not end: it
    /// writes nothing. The order as it was and the transition.
    fn refused(status: OrderStatus, reason: CancelReason) -> (Order, Transition) {
        let order = with_status(status);
        let d = decide(
            Some(order.clone()),
            &Command::Cancel(reason),
            platform::time::now(),
            None,
        );
        assert!(
            changes_nothing(&d) && d.attempt.is_none(),
            "{status:?} {reason:?}"
        );
        (order, d.transition)
    }

    #[test]
    fn reasons_that_end_unpaid_orders_leave_paid_and_ended_ones_alone() {
        for status in [
            OrderStatus::Confirmed,
            OrderStatus::Cancelled,
            OrderStatus::Refunded,
        ] {
            for reason in [
                CancelReason::UserCancelled,
                CancelReason::Expired,
                CancelReason::PaymentFailed,
            ] {
                let (order, transition) = refused(status, reason);
                assert_eq!(transition, Transition::NotPending(order));
            }
        }
    }

    #[test]
    fn a_refund_of_an_order_that_is_not_confirmed_changes_nothing() {
        for status in [
            OrderStatus::Pending,
            OrderStatus::Cancelled,
            OrderStatus::Refunded,
        ] {
            for reason in [CancelReason::OrganizerRefund, CancelReason::BuyerRefund] {
                let (order, transition) = refused(status, reason);
                assert_eq!(transition, Transition::NotConfirmed(order), "{status:?}");
            }
        }
    }

    #[test]
    fn an_events_cancellation_ends_pending_and_paid_orders_but_not_ended_ones() {
        assert!(may_end(CancelReason::EventCancelled, OrderStatus::Pending));
        assert!(may_end(
            CancelReason::EventCancelled,
            OrderStatus::Confirmed
        ));
        for status in [OrderStatus::Cancelled, OrderStatus::Refunded] {
            let (order, transition) = refused(status, CancelReason::EventCancelled);
            assert_eq!(transition, Transition::NotPending(order));
        }
    }

    #[test]
    fn the_refund_of_the_confirming_payment_marks_the_cancelled_order_refunded_with_its_reason() {
        for reason in REFUNDS {
            let (order, paid) = cancelled_after_payment(reason);
            let command = refund_of(&paid, 15_100);
            let Command::RecordRefund { attempt, .. } = &command else {
                unreachable!()
            };
            let now = platform::time::now();
            let d = decide(Some(order.clone()), &command, now, Some(TP));
            let refunded = applied(&d);
            assert_eq!(refunded.status, OrderStatus::Refunded);
            assert_eq!(
                refunded.refund,
                Some(Refund {
                    amount: usd(15_100),
                    refunded_at: attempt.at,
                    reason,
                })
            );
            assert_eq!(refunded.cancel_reason, Some(reason));
            assert_eq!(refunded.paid_at, order.paid_at);
            assert_eq!(refunded.updated_at, now);
            let update = d.update.as_ref().unwrap();
            assert_eq!(
                (&update.order, update.from),
                (refunded, OrderStatus::Cancelled)
            );
            assert_eq!(d.attempt.as_ref(), Some(attempt));
            // Seats went back and tickets went void at the cancellation; nothing is published.
            assert!(d.stock.is_empty() && d.tickets.is_empty() && !d.void_tickets);
            assert!(d.facts.is_empty());
        }
    }

    #[test]
    fn any_other_refund_is_only_recorded() {
        let (cancelled, paid) = cancelled_after_payment(CancelReason::OrganizerRefund);
        let (still_confirmed, its_payment) = confirmed();
        let refunded = {
            let d = decide(
                Some(cancelled.clone()),
                &refund_of(&paid, 15_100),
                platform::time::now(),
                None,
            );
            applied(&d).clone()
        };
        let late_payment = attempt(AttemptStatus::Completed);
        let cases = [
            // A payment that came in after the order had ended (never confirmed it).
            (cancelled, refund_of(&late_payment, 15_100)),
            (
                with_status(OrderStatus::Cancelled),
                refund_of(&paid, 15_100),
            ),
            // The order was not cancelled.
            (still_confirmed, refund_of(&its_payment, 15_100)),
            (pending(), refund_of(&late_payment, 15_100)),
            // Refunded already.
            (refunded, refund_of(&paid, 15_100)),
        ];
        for (order, command) in cases {
            let d = decide(Some(order.clone()), &command, platform::time::now(), None);
            assert_eq!(d.transition, Transition::Recorded(order));
            assert!(changes_nothing(&d));
            assert_eq!(d.attempt.unwrap().status, AttemptStatus::Refunded);
        }
    }

    #[test]
    fn a_buyer_may_cancel_a_paid_order_until_the_policys_deadline_and_not_after() {
        let starts = platform::time::now() + Duration::days(10);
        let policy = RefundPolicy {
            allowed: true,
            until_hours_before: 48,
        };
        let deadline = starts - Duration::hours(48);
        assert_eq!(
            buyer_refund(&policy, starts, deadline - Duration::days(3)),
            Ok(())
        );
        assert_eq!(buyer_refund(&policy, starts, deadline), Ok(()));
        let late = buyer_refund(&policy, starts, deadline + Duration::seconds(1));
        assert_eq!(late, Err(RefundRefusal::Closed { deadline }));
        let message = late.unwrap_err().to_string();
        assert!(
            message.contains(&deadline.format("%Y-%m-%d %H:%M").to_string()),
            "{message}"
        );
    }

    #[test]
    fn a_buyer_may_not_cancel_a_paid_order_when_the_event_offers_no_refunds() {
        let starts = platform::time::now() + Duration::days(10);
        let none = RefundPolicy::default();
        let refusal = buyer_refund(&none, starts, platform::time::now());
        assert_eq!(refusal, Err(RefundRefusal::NotOffered));
        assert_eq!(
            refusal.unwrap_err().to_string(),
            "Refunds are not offered for this event."
        );
    }

    #[test]
    fn a_buyer_cancels_an_unpaid_order_outright_and_a_paid_one_only_for_a_refund_the_policy_allows()
    {
        let starts = platform::time::now() + Duration::days(10);
        let now = platform::time::now();
        let open = RefundPolicy {
            allowed: true,
            until_hours_before: 24,
        };
        let closed = RefundPolicy::default();
        for policy in [&open, &closed] {
            for status in [
                OrderStatus::Pending,
                OrderStatus::Cancelled,
                OrderStatus::Refunded,
            ] {
                assert_eq!(
                    buyer_cancel_reason(status, policy, starts, now),
                    Ok(CancelReason::UserCancelled)
                );
            }
        }
        assert_eq!(
            buyer_cancel_reason(OrderStatus::Confirmed, &open, starts, now),
            Ok(CancelReason::BuyerRefund)
        );
        assert_eq!(
            buyer_cancel_reason(OrderStatus::Confirmed, &closed, starts, now),
            Err(RefundRefusal::NotOffered)
        );
        let too_late = starts - Duration::hours(23);
        assert!(matches!(
            buyer_cancel_reason(OrderStatus::Confirmed, &open, starts, too_late),
            Err(RefundRefusal::Closed { .. })
        ));
    }

    #[test]
    fn a_command_for_an_unknown_order_writes_nothing() {
        for command in [
            Command::Cancel(CancelReason::UserCancelled),
            Command::Confirm(attempt(AttemptStatus::Completed)),
            failure(3),
            refund_of(&attempt(AttemptStatus::Completed), 100),
        ] {
            let d = decide(None, &command, platform::time::now(), None);
            assert_eq!(d.transition, Transition::NotFound);
            assert!(changes_nothing(&d) && d.attempt.is_none());
        }
    }
}
