//! Taking a payment: `POST /api/payment/process` behind the HTTP layer.
//!
//! 1. With an `Idempotency-Key`, claim it first (replay, 422 or 409 as the key's state says).
//! 2. Find the order (projection, bounded wait, ticket-service fallback); it must be the
//!    caller's, pending and before `expiresAt`.
//! 3. Insert the payment as `pending` with the store's conditional insert: if the order already
//!    has a payment that is not failed, stop here (409). This is what makes concurrent
//!    submissions charge at most once.
//! 4. `pending -> processing`, ask the gateway, then store its decision, the outbox message, the
//!    key's answer and any refund in one transaction, and wake the relay.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::{ApiError, VerifiedUser};
use uuid::Uuid;

use crate::domain::{Payment, PaymentStatus};
use crate::error::PaymentError;
use crate::idempotency::{ClaimOutcome, IdempotencyKey, KeyClaim, KeyRef, StoredResponse};
use crate::input::PaymentRequest;
use crate::orders;
use crate::state::AppState;
use crate::store::{Inserted, Settle, Settled};
use crate::view;

/// An answer with its exact body, fresh or replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub response: StoredResponse,
    pub replayed: bool,
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        platform::idempotency::stored_json(status, self.response.body, self.replayed)
    }
}

fn fresh(response: StoredResponse) -> Reply {
    Reply {
        response,
        replayed: false,
    }
}

fn settled_response(s: &Settled) -> StoredResponse {
    view::receipt(&s.payment, s.order_status)
}

/// Takes a payment for `user`; see the module documentation.
pub async fn submit(
    state: &AppState,
    user: &VerifiedUser,
    request: &PaymentRequest,
    traceparent: &str,
    cookie: Option<&str>,
    key: Option<IdempotencyKey>,
) -> Result<Reply, PaymentError> {
    let Some(key) = key else {
        let settled = pay(state, user, request, traceparent, cookie, None).await?;
        return Ok(fresh(settled_response(&settled)));
    };
    let key = KeyRef {
        user_id: user.id,
        key: key.as_str().to_string(),
    };
    let now = platform::time::now();
    let stale = chrono::Duration::from_std(state.config.stale_after)
        .unwrap_or(chrono::Duration::seconds(60));
    let claim = KeyClaim {
        user_id: user.id,
        key: key.key.clone(),
        fingerprint: request.fingerprint(),
        at: now,
        stale_before: now - stale,
    };
    match state.store.claim_key(&claim).await? {
        ClaimOutcome::Mismatch => Err(PaymentError::KeyReused),
        ClaimOutcome::InProgress => Err(PaymentError::KeyInUse),
        ClaimOutcome::Replay(response) => Ok(Reply {
            response,
            replayed: true,
        }),
        ClaimOutcome::Claimed => {
            match pay(state, user, request, traceparent, cookie, Some(&key)).await {
                Ok(settled) => {
                    let response = match settled.response.clone() {
                        Some(stored_with_the_payment) => stored_with_the_payment,
                        None => {
                            let response = settled_response(&settled);
                            state.store.answer_key(&key, &response).await?;
                            response
                        }
                    };
                    Ok(fresh(response))
                }
                Err(e) if e.is_final() => {
                    let api = ApiError::from(e);
                    let response = StoredResponse {
                        status: api.status.as_u16(),
                        body: serde_json::to_string(&api.body())
                            .map_err(|e| PaymentError::Internal(e.to_string()))?,
                    };
                    state.store.answer_key(&key, &response).await?;
                    Ok(fresh(response))
                }
                Err(e) => {
                    if let Err(release) = state.store.release_key(&key).await {
                        tracing::warn!(error = %platform::error::ErrorChain(&release), "idempotency key not released; it frees itself after PAYMENT_STALE_SECS");
                    }
                    Err(e)
                }
            }
        }
    }
}

async fn pay(
    state: &AppState,
    user: &VerifiedUser,
    request: &PaymentRequest,
    traceparent: &str,
    cookie: Option<&str>,
    key: Option<&KeyRef>,
) -> Result<Settled, PaymentError> {
    let order = orders::find(
        state.store.as_ref(),
        &state.arrivals,
        &state.tickets,
        state.config.order_wait,
        request.order_id,
        cookie,
    )
    .await?;
    if order.user_id != user.id {
        return Err(PaymentError::OrderNotFound);
    }
    let now = platform::time::now();
    let amount = order
        .payable_amount(now)
        .map_err(PaymentError::NotPayable)?;
    let payment = Payment {
        id: Uuid::now_v7(),
        order_id: order.id,
        user_id: user.id,
        amount,
        method: request.method,
        status: PaymentStatus::Pending,
        details: request.instrument.details(),
        gateway_response: None,
        refund: None,
        created_at: now,
        updated_at: now,
    };
    match state.store.insert_payment(&payment).await? {
        Inserted::Inserted => {}
        Inserted::OrderHeld(holder) => {
            return Err(match holder.status {
                PaymentStatus::Completed | PaymentStatus::Refunded => PaymentError::AlreadyPaid,
                _ => PaymentError::PaymentInProgress,
            });
        }
    }
    if state
        .store
        .begin_processing(payment.id, platform::time::now())
        .await?
        .is_none()
    {
        return Err(PaymentError::Internal(format!(
            "payment {} left pending before it reached the gateway",
            payment.id
        )));
    }
    let charge = state.gateway.charge(&request.instrument);
    let settled = state
        .store
        .settle(&Settle {
            payment_id: payment.id,
            charge,
            at: platform::time::now(),
            traceparent: traceparent.to_string(),
            key: key.cloned(),
        })
        .await?;
    state.wake_relay();
    crate::counters::settled(&settled.payment);
    tracing::info!(
        payment_id = %settled.payment.id,
        order_id = %settled.payment.order_id,
        method = settled.payment.method.as_str(),
        status = settled.payment.status.as_str(),
        amount = %settled.payment.amount.decimal(),
        "payment settled"
    );
    Ok(settled)
}
