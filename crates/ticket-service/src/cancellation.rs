//! Ending an order on a person's request: its buyer's cancellation (an unpaid order outright, a
//! paid one for a refund while the event's refund policy allows it) and the organizer's refund.
//! Which reason ends what is [`crate::lifecycle`]'s rule; this runs it on the stored order and
//! says what came of it.

use contracts::orders::CancelReason;

use crate::catalog;
use crate::error::TicketError;
use crate::lifecycle::{self, Transition};
use crate::order::{Order, OrderDetails, OrderStatus};
use crate::state::AppState;

/// Cancels `order` for its buyer: `user_cancelled` when unpaid, `buyer_refund` when paid and the
/// event's refund policy still allows it. The reason it ended for and the order as it is now.
pub async fn by_buyer(
    state: &AppState,
    order: &Order,
    traceparent: &str,
) -> Result<(CancelReason, OrderDetails), TicketError> {
    let reason = buyer_reason(state, order).await?;
    match end(state, order.id, reason, traceparent).await? {
        Ok(details) => Ok((reason, details)),
        // Paid while its buyer asked to cancel it: decided again on the paid order.
        Err(now)
            if reason == CancelReason::UserCancelled && now.status == OrderStatus::Confirmed =>
        {
            let reason = buyer_reason(state, &now).await?;
            match end(state, now.id, reason, traceparent).await? {
                Ok(details) => Ok((reason, details)),
                Err(now) => Err(TicketError::OrderNotPending(now.status.as_str())),
            }
        }
        Err(now) => Err(TicketError::OrderNotPending(now.status.as_str())),
    }
}

/// Why the buyer's cancellation would end `order` now, or why it may not.
async fn buyer_reason(state: &AppState, order: &Order) -> Result<CancelReason, TicketError> {
    let event = catalog::event_stock(state, order.event_id).await?.event;
    lifecycle::buyer_cancel_reason(
        order.status,
        &event.refund_policy,
        event.date_time,
        platform::time::now(),
    )
    .map_err(TicketError::RefundNotAllowed)
}

/// Cancels the confirmed order `order_id` for its organizer (`organizer_refund`): its seats go
/// back on sale, its tickets are void and the payment service refunds it. The order as it is now.
pub async fn by_organizer(
    state: &AppState,
    order_id: uuid::Uuid,
    traceparent: &str,
) -> Result<OrderDetails, TicketError> {
    end(state, order_id, CancelReason::OrganizerRefund, traceparent)
        .await?
        .map_err(|now| TicketError::OrderNotConfirmed(now.status.as_str()))
}

/// Ends the order for `reason`: the order as it is now, or (`Err`) as it stands when the reason
/// may not end it.
async fn end(
    state: &AppState,
    order_id: uuid::Uuid,
    reason: CancelReason,
    traceparent: &str,
) -> Result<Result<OrderDetails, Order>, TicketError> {
    match state
        .store
        .cancel(order_id, reason, Some(traceparent))
        .await?
    {
        Transition::Applied(order) => {
            state.order_changed(&order);
            let details = state
                .store
                .order(order_id)
                .await?
                .ok_or(TicketError::OrderNotFound)?;
            Ok(Ok(details))
        }
        Transition::NotPending(now) | Transition::NotConfirmed(now) | Transition::Recorded(now) => {
            Ok(Err(now))
        }
        Transition::NotFound | Transition::Duplicate => Err(TicketError::OrderNotFound),
    }
}
