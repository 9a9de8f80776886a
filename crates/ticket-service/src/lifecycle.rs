//! The rules of an order's life, as pure functions:
//!
//! ```text
//! booked ──> pending ──payment completed──> confirmed    held seats sold, one ticket per seat
//!              │ ▲
//!              │ └─payment failed (below the limit)      attempt counted, seats stay held
//!              ├──payment failed (the limit)──> cancelled (payment_failed)
//!              └──cancel──────────────────────> cancelled (user_cancelled | expired |
//!                                                          event_cancelled), seats released
//! ```
//!
//! Every step that leaves `pending` publishes its fact (`orders.confirmed`, `orders.cancelled`);
//! a payment result for an order that is no longer pending is only noted (the payment service
//! refunds it when it sees the order cancelled).
//!
//! Both store adapters run these rules *inside* their transaction, on the order they just read,
//! and write back exactly what comes out: the order (only while it still has the status it was
//! read in), the stock changes (only while `0 <= held`, `0 <= sold` and `sold + held <=
//! capacity` hold), the tickets, the payment attempt and the outbox rows. A new state is a new
//! [`Command`] or a new arm here; the adapters need no change unless it writes something new.

use chrono::{DateTime, Utc};
use platform::outbox::OutboxMessage;
use uuid::Uuid;

use crate::facts;
use crate::order::{CancelReason, IssuedTicket, Order, OrderStatus, PaymentAttempt};

/// What asks an order to change.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// The buyer, the expiry sweep or the event's cancellation ends a pending order.
    Cancel(CancelReason),
    /// A completed payment (`payments.completed`).
    Confirm(PaymentAttempt),
    /// A declined payment (`payments.failed`); the order survives `max_failures - 1` of them.
    RecordFailure {
        attempt: PaymentAttempt,
        max_failures: u32,
    },
    /// A payment fact that changes no state (`payments.refunded`): recorded on the order.
    Note(PaymentAttempt),
}

/// What a command did to the order.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    /// The order changed status (confirmed, cancelled); the order as it is now.
    Applied(Order),
    /// The payment was recorded and the order kept its status (a declined payment below the
    /// limit, a note); the order as it is now.
    Recorded(Order),
    /// The order had left `pending` already; nothing changed but the payment's record.
    NotPending(Order),
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
    pub tickets: Vec<IssuedTicket>,
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
        Command::Note(attempt) => {
            Decision::only(Transition::Recorded(order), Some(attempt.clone()))
        }
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
    if order.status != OrderStatus::Pending {
        return Decision::only(Transition::NotPending(order), attempt);
    }
    let from = order.status;
    let cancelled = Order {
        status: OrderStatus::Cancelled,
        cancel_reason: Some(reason),
        updated_at: now,
        ..order
    };
    Decision {
        stock: seats(&cancelled, |q| (-q, 0)),
        tickets: Vec::new(),
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
        updated_at: now,
        ..order
    };
    Decision {
        stock: seats(&confirmed, |q| (-q, q)),
        tickets: issue_tickets(&confirmed),
        attempt: Some(attempt.clone()),
        facts: vec![facts::confirmed(&confirmed, traceparent)],
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

/// One ticket per seat of the order, each with a fresh unguessable code.
fn issue_tickets(order: &Order) -> Vec<IssuedTicket> {
    order
        .lines
        .iter()
        .flat_map(|l| {
            (0..l.quantity).map(|_| IssuedTicket {
                code: crate::codes::ticket_code(),
                ticket_type: l.ticket_type.clone(),
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
        d.update.is_none() && d.stock.is_empty() && d.tickets.is_empty() && d.facts.is_empty()
    }

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
        let update = d.update.as_ref().unwrap();
        assert_eq!(
            (&update.order, update.from),
            (confirmed, OrderStatus::Pending)
        );
        assert_eq!(moves(&d.stock), [("General", -2, 2), ("VIP", -1, 1)]);
        assert!(d.stock.iter().all(|s| s.taken() == 0));
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
        for status in [OrderStatus::Confirmed, OrderStatus::Cancelled] {
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
            let d = decide(
                Some(pending()),
                &Command::Cancel(reason),
                platform::time::now(),
                Some(TP),
            );
            let cancelled = applied(&d);
            assert_eq!(cancelled.status, OrderStatus::Cancelled);
            assert_eq!(cancelled.cancel_reason, Some(reason));
            assert_eq!(moves(&d.stock), [("General", -2, 0), ("VIP", -1, 0)]);
            assert!(d.attempt.is_none() && d.tickets.is_empty());
            assert_eq!(subjects(&d.facts), ["orders.cancelled"]);
            assert_eq!(data(&d.facts[0])["reason"], reason.as_str());
        }
    }

    #[test]
    fn an_order_that_left_pending_cannot_be_cancelled() {
        for status in [OrderStatus::Confirmed, OrderStatus::Cancelled] {
            let order = with_status(status);
            let d = decide(
                Some(order.clone()),
                &Command::Cancel(CancelReason::Expired),
                platform::time::now(),
                None,
            );
            assert_eq!(d.transition, Transition::NotPending(order));
            assert!(changes_nothing(&d) && d.attempt.is_none());
        }
    }

    #[test]
    fn a_note_records_the_payment_on_any_order_and_changes_nothing_else() {
        for status in [
            OrderStatus::Pending,
            OrderStatus::Confirmed,
            OrderStatus::Cancelled,
        ] {
            let order = with_status(status);
            let refund = attempt(AttemptStatus::Refunded);
            let d = decide(
                Some(order.clone()),
                &Command::Note(refund.clone()),
                platform::time::now(),
                None,
            );
            assert_eq!(d.transition, Transition::Recorded(order));
            assert!(changes_nothing(&d));
            assert_eq!(d.attempt, Some(refund));
        }
    }

    #[test]
    fn a_command_for_an_unknown_order_writes_nothing() {
        for command in [
            Command::Cancel(CancelReason::UserCancelled),
            Command::Confirm(attempt(AttemptStatus::Completed)),
            failure(3),
            Command::Note(attempt(AttemptStatus::Refunded)),
        ] {
            let d = decide(None, &command, platform::time::now(), None);
            assert_eq!(d.transition, Transition::NotFound);
            assert!(changes_nothing(&d) && d.attempt.is_none());
        }
    }
}
