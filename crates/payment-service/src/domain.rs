//! The payment record (the seed's model), its life cycle, and the service's projection of orders.

use chrono::{DateTime, Utc};
use contracts::orders::CancelReason;
use platform::money::Money;
use uuid::Uuid;

use crate::card::CardBrand;

/// How a payment was made and where it stands are words of the API; the rules of its life cycle
/// are [`Lifecycle`].
pub use api_types::payments::{PaymentMethod, PaymentStatus};

/// The payment life cycle: `pending -> processing -> completed | failed`, and
/// `completed -> refunded`.
pub trait Lifecycle: Copy {
    fn can_become(self, next: Self) -> bool;

    /// Every payment but a failed one holds its order: the store allows at most one such payment
    /// per order, which is what makes a double charge impossible.
    fn holds_order(self) -> bool;
}

impl Lifecycle for PaymentStatus {
    fn can_become(self, next: PaymentStatus) -> bool {
        use PaymentStatus::*;
        matches!(
            (self, next),
            (Pending, Processing)
                | (Pending, Failed)
                | (Processing, Completed)
                | (Processing, Failed)
                | (Completed, Refunded)
        )
    }

    fn holds_order(self) -> bool {
        self != PaymentStatus::Failed
    }
}

/// What was used to pay; never a full card number, never a CVC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentDetails {
    Card { last4: String, brand: CardBrand },
    Paypal { email: String },
}

/// The gateway's answer, as the seed stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayResponse {
    pub transaction_id: String,
    pub response_code: String,
    pub response_message: String,
}

/// The `reason` of a `payments.refunded` for money that came in for an order that could no
/// longer be sold (it expired, its buyer cancelled it before paying, ...); a refund of a sale
/// cancelled for a refund gives the order's cancel reason instead (`ledger::refund_reason`).
pub const REFUND_REASON: &str = "order_not_pending";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// The gateway's id of the refund.
    pub transaction_id: String,
    /// As published in `payments.refunded`, e.g. `order_not_pending`.
    pub reason: String,
    /// Why the order was cancelled, when a cancellation caused the refund.
    pub order_cancel_reason: Option<CancelReason>,
    pub refunded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: Uuid,
    pub order_id: Uuid,
    pub user_id: Uuid,
    pub amount: Money,
    pub method: PaymentMethod,
    pub status: PaymentStatus,
    pub details: PaymentDetails,
    pub gateway_response: Option<GatewayResponse>,
    pub refund: Option<Refund>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} payment cannot become {to}")]
pub struct TransitionError {
    pub from: &'static str,
    pub to: &'static str,
}

impl Payment {
    fn transition(&mut self, to: PaymentStatus, at: DateTime<Utc>) -> Result<(), TransitionError> {
        if !self.status.can_become(to) {
            return Err(TransitionError {
                from: self.status.as_str(),
                to: to.as_str(),
            });
        }
        self.status = to;
        self.updated_at = at;
        Ok(())
    }

    pub fn begin_processing(&mut self, at: DateTime<Utc>) -> Result<(), TransitionError> {
        self.transition(PaymentStatus::Processing, at)
    }

    /// Records the gateway's decision.
    pub fn settle(
        &mut self,
        approved: bool,
        response: GatewayResponse,
        at: DateTime<Utc>,
    ) -> Result<(), TransitionError> {
        let to = if approved {
            PaymentStatus::Completed
        } else {
            PaymentStatus::Failed
        };
        self.transition(to, at)?;
        self.gateway_response = Some(response);
        Ok(())
    }

    pub fn refund(&mut self, refund: Refund) -> Result<(), TransitionError> {
        self.transition(PaymentStatus::Refunded, refund.refunded_at)?;
        self.refund = Some(refund);
        Ok(())
    }
}

/// An order's status as the payment service knows it from `orders.*`.
pub use api_types::orders::OrderStatus;

/// Orders only move forward (a confirmed order may still be cancelled, e.g. when its event is; a
/// cancelled one never comes back, and a refunded one was cancelled first), so facts delivered
/// out of order merge by taking the later status.
fn progress(status: OrderStatus) -> u8 {
    match status {
        OrderStatus::Pending => 0,
        OrderStatus::Confirmed => 1,
        OrderStatus::Cancelled => 2,
        OrderStatus::Refunded => 3,
    }
}

/// Where the projection learned an order from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderSource {
    /// The `orders.*` events (the normal way).
    Events,
    /// `GET /api/tickets/orders/:id`, when a payment overtook `orders.created`.
    TicketService,
}

impl OrderSource {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderSource::Events => "events",
            OrderSource::TicketService => "ticket_service",
        }
    }

    pub fn parse(s: &str) -> Self {
        if s == "ticket_service" {
            OrderSource::TicketService
        } else {
            OrderSource::Events
        }
    }
}

/// One order of the projection. Fields a fact does not carry (`orders.cancelled` has no amount)
/// stay `None` until another fact brings them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub event_id: Option<Uuid>,
    pub booking_reference: Option<String>,
    pub amount: Option<Money>,
    pub status: OrderStatus,
    pub cancel_reason: Option<CancelReason>,
    pub expires_at: Option<DateTime<Utc>>,
    pub source: OrderSource,
    pub updated_at: DateTime<Utc>,
}

/// Why an order cannot be paid now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotPayable {
    Confirmed,
    Cancelled,
    Expired,
    /// Only a cancellation has been seen so far; cannot happen for a pending order.
    AmountUnknown,
}

impl OrderRecord {
    /// Cancelled, or cancelled and already refunded (the ticket service's answer can say so): it
    /// holds no seats, so no payment of it may keep the money.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.status, OrderStatus::Cancelled | OrderStatus::Refunded)
    }

    /// The order's amount if it can be paid at `now`: pending and before `expiresAt` (the hold
    /// is over at `expiresAt` even if `orders.cancelled` has not arrived yet).
    pub fn payable_amount(&self, now: DateTime<Utc>) -> Result<Money, NotPayable> {
        match self.status {
            OrderStatus::Confirmed => return Err(NotPayable::Confirmed),
            OrderStatus::Cancelled | OrderStatus::Refunded => return Err(NotPayable::Cancelled),
            OrderStatus::Pending => {}
        }
        if self.expires_at.is_some_and(|at| now >= at) {
            return Err(NotPayable::Expired);
        }
        self.amount.ok_or(NotPayable::AmountUnknown)
    }

    /// Merges a newly learned fact into what is known. Commutative in the status (the later of
    /// the two wins) and first-writer-wins for the fields, which never change for an order; so
    /// the projection ends the same whatever order facts (and HTTP answers) arrive in.
    pub fn merge(current: Option<OrderRecord>, incoming: OrderRecord) -> OrderRecord {
        let Some(current) = current else {
            return incoming;
        };
        let (status, cancel_reason) = if progress(incoming.status) > progress(current.status) {
            (incoming.status, incoming.cancel_reason)
        } else {
            (
                current.status,
                current.cancel_reason.or(incoming.cancel_reason),
            )
        };
        OrderRecord {
            id: current.id,
            user_id: current.user_id,
            event_id: current.event_id.or(incoming.event_id),
            booking_reference: current.booking_reference.or(incoming.booking_reference),
            amount: current.amount.or(incoming.amount),
            status,
            cancel_reason,
            expires_at: current.expires_at.or(incoming.expires_at),
            source: current.source,
            updated_at: current.updated_at.max(incoming.updated_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::money::Currency;

    fn order(status: OrderStatus) -> OrderRecord {
        OrderRecord {
            id: Uuid::nil(),
            user_id: Uuid::nil(),
            event_id: None,
            booking_reference: None,
            amount: None,
            status,
            cancel_reason: None,
            expires_at: None,
            source: OrderSource::Events,
            updated_at: DateTime::from_timestamp(1_000, 0).unwrap(),
        }
    }

    #[test]
    fn a_payment_moves_only_along_its_life_cycle() {
        use PaymentStatus::*;
        assert!(Pending.can_become(Processing));
        assert!(Processing.can_become(Completed));
        assert!(Processing.can_become(Failed));
        assert!(Completed.can_become(Refunded));
        assert!(!Failed.can_become(Refunded));
        assert!(!Refunded.can_become(Refunded));
        assert!(!Completed.can_become(Failed));
        assert!(!Pending.can_become(Completed));
        assert!(!Failed.holds_order());
        assert!(Refunded.holds_order());
    }

    #[test]
    fn order_facts_merge_to_the_same_record_in_any_order() {
        let mut created = order(OrderStatus::Pending);
        created.amount = Some(Money::from_minor_units(2550, Currency::USD));
        created.expires_at = Some(DateTime::from_timestamp(2_000, 0).unwrap());
        let mut cancelled = order(OrderStatus::Cancelled);
        cancelled.cancel_reason = Some(CancelReason::Expired);
        let a = OrderRecord::merge(Some(created.clone()), cancelled.clone());
        let b = OrderRecord::merge(Some(cancelled), created);
        assert_eq!(a, b);
        assert_eq!(a.status, OrderStatus::Cancelled);
        assert_eq!(a.cancel_reason, Some(CancelReason::Expired));
        assert_eq!(a.amount.unwrap().minor_units(), 2550);
    }

    #[test]
    fn a_cancelled_order_is_never_revived_and_a_confirmed_one_can_still_be_cancelled() {
        let merged = OrderRecord::merge(
            Some(order(OrderStatus::Cancelled)),
            order(OrderStatus::Confirmed),
        );
        assert_eq!(merged.status, OrderStatus::Cancelled);
        let merged = OrderRecord::merge(
            Some(order(OrderStatus::Confirmed)),
            order(OrderStatus::Cancelled),
        );
        assert_eq!(merged.status, OrderStatus::Cancelled);
    }

    #[test]
    fn a_refunded_order_counts_as_cancelled_and_outranks_a_late_cancellation() {
        let merged = OrderRecord::merge(
            Some(order(OrderStatus::Refunded)),
            order(OrderStatus::Cancelled),
        );
        assert_eq!(merged.status, OrderStatus::Refunded);
        assert!(merged.is_cancelled());
        let mut refunded = order(OrderStatus::Refunded);
        refunded.amount = Some(Money::from_minor_units(100, Currency::USD));
        assert_eq!(
            refunded.payable_amount(DateTime::from_timestamp(1_500, 0).unwrap()),
            Err(NotPayable::Cancelled)
        );
    }

    #[test]
    fn an_order_is_payable_only_while_pending_and_before_its_hold_ends() {
        let now = DateTime::from_timestamp(1_500, 0).unwrap();
        let mut o = order(OrderStatus::Pending);
        o.amount = Some(Money::from_minor_units(100, Currency::USD));
        o.expires_at = Some(DateTime::from_timestamp(1_501, 0).unwrap());
        assert!(o.payable_amount(now).is_ok());
        o.expires_at = Some(now);
        assert_eq!(o.payable_amount(now), Err(NotPayable::Expired));
        o.status = OrderStatus::Confirmed;
        assert_eq!(o.payable_amount(now), Err(NotPayable::Confirmed));
    }
}
