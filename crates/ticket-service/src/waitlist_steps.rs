//! The waitlist's steps as the routes and the offer sweep run them: the request is checked
//! against the catalogue's event here, the rules are [`crate::waitlist`]'s and run inside the
//! store's atomic unit.

use api_types::waitlist::{WaitlistEntryView, WaitlistLength};
use futures::future::BoxFuture;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use platform::{ApiError, AuthUser, FieldErrors, StoreError};

use crate::booking::{self, bookable};
use crate::catalog;
use crate::error::TicketError;
use crate::input::{BookingRequest, push};
use crate::order::{CustomerInfo, Order};
use crate::state::AppState;
use crate::store::{JoinResult, TypeLength};
use crate::waitlist::{Entry, EntryCommand, EntryOutcome, EntryStatus, Joining};

/// Joining the waitlist of a sold-out ticket type.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JoinBody {
    /// A ticket type of the event, any case.
    #[serde(default)]
    #[schema(required = true, min_length = 1, example = "General")]
    ticket_type: String,
    /// Seats wanted, 1 to `MAX_TICKETS_PER_ORDER` (10); an offer is for all of them.
    #[serde(default)]
    #[schema(required = true, minimum = 1, example = 2)]
    quantity: i64,
}

/// The entry as the caller sees it.
pub fn view(entry: &Entry, position: Option<u32>) -> WaitlistEntryView {
    WaitlistEntryView {
        id: entry.id,
        event_id: entry.event_id,
        ticket_type: entry.ticket_type.clone(),
        quantity: entry.quantity,
        status: entry.status,
        position,
        offer_expires_at: entry.offer_expires_at,
        order_id: entry.order_id,
        joined_at: entry.joined_at,
    }
}

pub fn length(l: TypeLength) -> WaitlistLength {
    WaitlistLength {
        ticket_type: l.ticket_type,
        waiting: l.waiting,
        waiting_seats: l.waiting_seats,
        offered: l.offered,
    }
}

/// Joins `user` to the waitlist of the body's ticket type: the new entry (`true`) or the one
/// they have already (`false`), with its position.
pub async fn join(
    state: &AppState,
    user: &AuthUser,
    event_id: Uuid,
    body: JoinBody,
) -> Result<(WaitlistEntryView, bool), TicketError> {
    let stock = catalog::event_stock(state, event_id).await?;
    bookable(&stock.event, platform::time::now())?;
    let max = state.config.max_tickets_per_order;
    let mut fields = FieldErrors::new();
    let name = body.ticket_type.trim();
    let ticket_type = stock
        .stock
        .iter()
        .find(|s| s.ticket_type.eq_ignore_ascii_case(name))
        .map(|s| s.ticket_type.clone());
    if ticket_type.is_none() {
        push(
            &mut fields,
            "ticketType",
            format!("This event has no ticket type \"{name}\"."),
        );
    }
    if !(1..=i64::from(max)).contains(&body.quantity) {
        push(
            &mut fields,
            "quantity",
            format!("Choose 1 to {max} tickets."),
        );
    }
    let Some(ticket_type) = ticket_type.filter(|_| fields.is_empty()) else {
        return Err(ApiError::validation(fields).into());
    };
    let entry = Entry::new(
        Joining {
            event_id,
            event_title: stock.event.title.clone(),
            ticket_type,
            user_id: user.id,
            email: user.email.to_lowercase(),
            first_name: user.first_name.clone(),
            quantity: body.quantity as u32,
            offer_secs: u32::try_from(state.config.waitlist_offer.as_secs()).unwrap_or(u32::MAX),
        },
        platform::time::now(),
    );
    match state.store.join_waitlist(&entry).await? {
        JoinResult::Joined(entry, position) => Ok((view(&entry, Some(position)), true)),
        JoinResult::AlreadyIn(entry, position) => Ok((view(&entry, position), false)),
        JoinResult::NotSoldOut { available } => Err(TicketError::NotSoldOut { available }),
        JoinResult::Off => Err(TicketError::WaitlistOff),
        JoinResult::NotOnSale => Err(TicketError::EventNotBookable(
            "This event is no longer on sale.",
        )),
    }
}

/// The caller's entry, or 404 (someone else's entry does not exist for them).
async fn own_entry(state: &AppState, user: &AuthUser, raw: &str) -> Result<Entry, TicketError> {
    let id = Uuid::parse_str(raw).map_err(|_| TicketError::EntryNotFound)?;
    match state.store.waitlist_entry(id).await? {
        Some(e) if e.user_id == user.id => Ok(e),
        _ => Err(TicketError::EntryNotFound),
    }
}

fn refused(outcome: EntryOutcome) -> TicketError {
    match outcome {
        EntryOutcome::Expired(_) => TicketError::NoOffer("This offer has run out."),
        EntryOutcome::NoOffer(e) if e.status == EntryStatus::EventCancelled => {
            TicketError::NoOffer("The event was cancelled: this entry holds no offer.")
        }
        EntryOutcome::NotFound => TicketError::EntryNotFound,
        _ => TicketError::NoOffer("This waitlist entry holds no offer."),
    }
}

/// Accepts the offer of the caller's entry: the pending order it became, priced as the
/// catalogue prices the type now and held like any booking (`HOLD_SECS`).
pub async fn accept(
    state: &AppState,
    user: &AuthUser,
    entry_id: &str,
    traceparent: Option<&str>,
) -> Result<Order, TicketError> {
    let entry = own_entry(state, user, entry_id).await?;
    let stock = catalog::event_stock(state, entry.event_id).await?;
    let request = BookingRequest {
        event_id: entry.event_id,
        lines: vec![(entry.ticket_type.clone(), entry.quantity)],
        customer: CustomerInfo {
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            email: user.email.to_lowercase(),
            phone: None,
        },
    };
    let mut tries = 0;
    loop {
        // Each try drafts a new order, with a new booking reference.
        let now = platform::time::now();
        let order = booking::new_order(
            &stock,
            request.clone(),
            user.id,
            now,
            booking::hold(&state.config),
        )?;
        let traceparent = platform::trace::continue_or_root(traceparent, order.id);
        let settled = state
            .store
            .settle_entry(
                entry.id,
                &EntryCommand::Accept(Box::new(order.clone())),
                Some(&traceparent),
            )
            .await;
        return match settled {
            Ok(EntryOutcome::Applied(_)) => {
                state.outbox_wake.notify_one();
                Ok(order)
            }
            Ok(other) => Err(refused(other)),
            // The random booking reference was taken: nothing was stored, so draw another.
            Err(StoreError::Duplicate(_)) if tries + 1 < booking::REFERENCE_TRIES => {
                tries += 1;
                continue;
            }
            Err(e) => Err(e.into()),
        };
    }
}

/// Declines the offer of the caller's entry; its seats go to the next entries.
pub async fn decline(
    state: &AppState,
    user: &AuthUser,
    entry_id: &str,
) -> Result<WaitlistEntryView, TicketError> {
    let entry = own_entry(state, user, entry_id).await?;
    let command = EntryCommand::Decline { user_id: user.id };
    match state.store.settle_entry(entry.id, &command, None).await? {
        EntryOutcome::Applied(entry) => {
            seats_moved(state, &entry);
            Ok(view(&entry, None))
        }
        other => Err(refused(other)),
    }
}

/// Takes the caller off every waitlist of the event (giving back an offer they hold); how many
/// entries ended.
pub async fn leave(
    state: &AppState,
    user: &AuthUser,
    event_id: Uuid,
) -> Result<usize, TicketError> {
    let mut left = 0;
    for (entry, _) in state.store.waitlist_of_user(event_id, user.id).await? {
        if !entry.status.is_open() {
            continue;
        }
        let command = EntryCommand::Leave { user_id: user.id };
        if let EntryOutcome::Applied(entry) =
            state.store.settle_entry(entry.id, &command, None).await?
        {
            seats_moved(state, &entry);
            left += 1;
        }
    }
    Ok(left)
}

/// Seats may have moved (an offer's end, an offer to the next entry): the outbox has facts to
/// send and live availability may have changed.
fn seats_moved(state: &AppState, entry: &Entry) {
    state.outbox_wake.notify_one();
    // No receivers is fine: nobody is watching that page.
    let _ = state.changes.send(entry.event_id);
}

/// Entries a sweep settles per round.
const BATCH: usize = 200;

/// A store call naming up to so many entries for a sweep to settle.
type ListEntries = for<'a> fn(&'a AppState, usize) -> BoxFuture<'a, Result<Vec<Uuid>, StoreError>>;

/// Runs `command` on the entries `list` names, a batch at a time, until a batch comes back
/// short (the last one) or changes nothing (the rest is racing other replicas); returns how many
/// changed.
async fn settle_each(
    state: &AppState,
    command: &EntryCommand,
    list: ListEntries,
) -> Result<usize, StoreError> {
    let mut changed = 0;
    loop {
        let ids = list(state, BATCH).await?;
        let taken = ids.len();
        let mut n = 0;
        for id in ids {
            if let EntryOutcome::Applied(entry) =
                state.store.settle_entry(id, command, None).await?
            {
                seats_moved(state, &entry);
                n += 1;
            }
        }
        changed += n;
        if taken < BATCH || n == 0 {
            return Ok(changed);
        }
    }
}

/// Ends every offer that ran out, passing its seats on; returns how many lapsed. The service
/// sweeps with the hold expiry's period, as several replicas may: each lapse is conditional.
pub async fn lapse_due(state: &AppState) -> Result<usize, StoreError> {
    let lapsed = settle_each(state, &EntryCommand::Lapse, |s, limit| {
        s.store.offers_due(platform::time::now(), limit)
    })
    .await?;
    if lapsed > 0 {
        tracing::info!(lapsed, "waitlist offers lapsed and passed on");
    }
    Ok(lapsed)
}

/// Closes the entries still waiting or offered of cancelled events ([`EntryCommand::Close`]);
/// returns how many closed. Part of the cancellation cascade, so it runs whenever a
/// cancellation wakes it, at start-up and on a timer; an entry closed already (a redelivered
/// cancellation, another replica) is left as it is.
pub async fn close_cancelled(state: &AppState) -> Result<usize, StoreError> {
    let closed = settle_each(state, &EntryCommand::Close, |s, limit| {
        s.store.entries_to_close(limit)
    })
    .await?;
    if closed > 0 {
        tracing::info!(closed, "waitlist entries of cancelled events closed");
    }
    Ok(closed)
}
