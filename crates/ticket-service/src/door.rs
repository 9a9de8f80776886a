//! The steps of check-in at the door: who may scan an event, its signing keys (made on first
//! need), signing the tickets an order shows, and running one scan. The rules are
//! [`crate::checkin`]'s; this module loads what they need and stores what they decide.

use api_types::checkin::CheckinResponse;
use platform::AuthUser;
use rand::Rng;
use uuid::Uuid;

use crate::checkin::{self, Scan, ScanTarget};
use crate::error::TicketError;
use crate::input::ScanInput;
use crate::order::OrderDetails;
use crate::state::AppState;
use crate::store::{EventInfo, EventStock, StoredKey};
use crate::{catalog, input};

/// Whether `user` may work the door of `event`: its organizer, an admin, or check-in staff the
/// organizer named (by email, as the catalogue said; emails compare case-insensitively).
pub fn may_scan(event: &EventInfo, staff: &[String], user: &AuthUser) -> bool {
    user.is_admin()
        || event.organizer_id == Some(user.id)
        || staff.iter().any(|s| s.eq_ignore_ascii_case(&user.email))
}

/// The event if the caller may work its door; 404 otherwise, so ids don't leak.
pub async fn door_event(
    state: &AppState,
    user: &AuthUser,
    event_id: Uuid,
) -> Result<EventStock, TicketError> {
    let stock = catalog::event_stock(state, event_id).await?;
    let staff = state.store.event_staff(event_id).await?;
    if may_scan(&stock.event, &staff, user) {
        Ok(stock)
    } else {
        Err(TicketError::EventNotFound)
    }
}

/// [`door_event`] for an id from a path (a malformed one is a 404 like an unknown one).
pub async fn door_event_at(
    state: &AppState,
    user: &AuthUser,
    raw_id: &str,
) -> Result<EventStock, TicketError> {
    door_event(state, user, input::event_id(raw_id)?).await
}

/// The event's keys, its first key pair made now if it has none (32 random secret bytes).
pub async fn keys(state: &AppState, event_id: Uuid) -> Result<Vec<StoredKey>, TicketError> {
    // Read first: showing an order must not take the store's write lock once keys exist.
    let keys = state.store.event_keys(event_id).await?;
    if !keys.is_empty() {
        return Ok(keys);
    }
    let mut secret = [0_u8; 32];
    rand::rng().fill(&mut secret);
    Ok(state.store.ensure_event_key(event_id, secret).await?)
}

/// Gives every ticket of the order that still admits someone its signed code (what the QR code
/// shows). Signing is deterministic, so the same ticket always shows the same code.
pub async fn sign_tickets(state: &AppState, details: &mut OrderDetails) -> Result<(), TicketError> {
    if details.tickets.iter().all(|t| t.void) {
        return Ok(());
    }
    let keys = keys(state, details.order.event_id).await?;
    let Some(key) = checkin::signing_key(&keys) else {
        return Ok(());
    };
    for t in details.tickets.iter_mut().filter(|t| !t.void) {
        t.signed_code = Some(key.sign(details.order.event_id, &t.code, &t.ticket_type));
    }
    Ok(())
}

/// Runs one scan by `user`, who may work the door of the scan's event.
pub async fn scan(
    state: &AppState,
    user: &AuthUser,
    input: ScanInput,
    traceparent: Option<String>,
) -> Result<CheckinResponse, TicketError> {
    let event = door_event(state, user, input.event_id).await?.event;
    let target = if ticket_code::is_signed(&input.code) {
        // The keys of the event the code claims: a genuine code of another event is told
        // apart from a forged one.
        match ticket_code::read(&input.code) {
            Ok(claim) => {
                let keys = state.store.event_keys(claim.event_id).await?;
                checkin::identify(&input.code, event.id, &keys)
            }
            Err(_) => ScanTarget::Refused(api_types::checkin::CheckinResult::Invalid),
        }
    } else {
        checkin::identify(&input.code, event.id, &[])
    };
    let scan = Scan {
        event_id: event.id,
        nonce: input.nonce,
        target,
        scanned_at: input.scanned_at,
        gate: input.gate,
        direction: input.direction,
        scanned_by: user.id,
        traceparent,
    };
    let scanned = state.store.scan(&scan).await?;
    // A replayed nonce is the same scan again: counted once, and its fact was written once.
    if let Some(result) = scanned.decision() {
        platform::metrics::counter!(
            platform::metrics::names::CHECKINS,
            "result" => result.as_str()
        )
        .increment(1);
        if result.admits() {
            state.outbox_wake.notify_one();
        }
    }
    Ok(scanned.into_answer())
}
