//! The waitlist's rules, as pure functions. A buyer who cannot get the seats they want of a
//! ticket type joins its waitlist (one open entry per buyer and type). When seats of that type
//! come free, the store runs [`offers`] in the same atomic unit that freed them, so nobody else
//! can book them in between:
//!
//! ```text
//! join ──> waiting ──seats fit──> offered ──accept──> accepted (a pending order holds the seats)
//!             │                      │
//!             └──leave──> left       ├──decline──> declined ┐ the held seats are released and
//!                                    ├──leave────> left     │ offered again, to the next
//!                                    └──expiry───> lapsed   ┘ entries they fit
//!
//! waiting or offered ──the event is cancelled──> event_cancelled (an offer's seats are released,
//!                                                 offered to nobody: the event sells nothing)
//! ```
//!
//! Two transitions publish, from the outbox in the unit that writes them, so each happens once
//! per entry: an offer (`tickets.waitlist_offered`, the buyer is mailed what is held and until
//! when) and a close (`tickets.waitlist_closed`, the buyer is told their place, or the offer
//! they held, ended with the event). The buyer's own steps and a lapse publish nothing.
//!
//! Who gets an offer: the entries still waiting, in join order; each one whose quantity fits the
//! seats left gets them, and one that does not fit is *skipped* and keeps its place (it is first
//! again next time seats come free). Skipping rather than stopping means a request for four
//! never keeps a single freed seat from the buyers behind it who want one; seats that fit nobody
//! stay on sale. An offer holds its seats for the entry's offer time (`WAITLIST_OFFER_SECS` when
//! it joined); the seats stay `held` in the stock, so `sold + held <= capacity` covers offers
//! as it covers pending orders, and accepting moves the hold to the new order unchanged.
//!
//! The organizer can turn an event's waitlist off ([`Line::of`]): joining is refused and freed
//! seats go back on sale; entries already waiting keep their place and are offered seats again
//! once the waitlist is back on.

use chrono::{DateTime, Duration, Utc};
use contracts::Envelope;
use contracts::subjects;
use contracts::tickets::{WaitlistClosed, WaitlistOffered, WaitlistPlace};
use platform::outbox::OutboxMessage;
use uuid::Uuid;

pub use api_types::waitlist::WaitlistStatus as EntryStatus;

use crate::event_status::EventStatus;
use crate::facts::SOURCE;
use crate::lifecycle::{self, Placement, StockChange};
use crate::order::Order;

/// One buyer's place in the waitlist of one ticket type.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: Uuid,
    pub event_id: Uuid,
    /// Snapshot when joining, for the offer's mail.
    pub event_title: String,
    pub ticket_type: String,
    pub user_id: Uuid,
    pub email: String,
    pub first_name: String,
    pub quantity: u32,
    /// How long an offer to this entry holds its seats.
    pub offer_secs: u32,
    pub status: EntryStatus,
    /// Join order is `(joined_at, id)`; ids are time-ordered (v7) too.
    pub joined_at: DateTime<Utc>,
    pub offer_expires_at: Option<DateTime<Utc>>,
    pub order_id: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

/// What a new entry asks for; the rest is filled in by [`Entry::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct Joining {
    pub event_id: Uuid,
    pub event_title: String,
    pub ticket_type: String,
    pub user_id: Uuid,
    pub email: String,
    pub first_name: String,
    pub quantity: u32,
    pub offer_secs: u32,
}

impl Entry {
    pub fn new(j: Joining, now: DateTime<Utc>) -> Self {
        Self {
            id: Uuid::now_v7(),
            event_id: j.event_id,
            event_title: j.event_title,
            ticket_type: j.ticket_type,
            user_id: j.user_id,
            email: j.email,
            first_name: j.first_name,
            quantity: j.quantity,
            offer_secs: j.offer_secs,
            status: EntryStatus::Waiting,
            joined_at: now,
            offer_expires_at: None,
            order_id: None,
            updated_at: now,
        }
    }

    /// The seats of this entry's type, `held` of them.
    fn seats(&self, held: i64) -> StockChange {
        StockChange {
            event_id: self.event_id,
            ticket_type: self.ticket_type.clone(),
            held,
            sold: 0,
        }
    }
}

/// The entry as it must be stored, written only while the stored one still has status `from`.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryUpdate {
    pub entry: Entry,
    pub from: EntryStatus,
}

/// One offer, as the store writes it with the release that made room for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    /// The entry, now offered (written only while it is still waiting).
    pub update: EntryUpdate,
    /// Its seats, held from the available ones.
    pub hold: StockChange,
    pub fact: OutboxMessage,
}

/// Whether an event's lines take entries and get offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    Open,
    /// The organizer turned the waitlist off.
    Off,
    /// The event is unknown or not on sale (draft, cancelled).
    NotOnSale,
}

impl Line {
    /// The line of an event with `status` (`None`: unknown) and its organizer's switch.
    pub fn of(status: Option<EventStatus>, waitlist_enabled: bool) -> Self {
        match status {
            Some(s) if s.is_on_sale() && waitlist_enabled => Line::Open,
            Some(s) if s.is_on_sale() => Line::Off,
            _ => Line::NotOnSale,
        }
    }
}

/// Who gets an offer when `available` seats of one type are free: the `waiting` entries of that
/// type, in join order, each whose quantity fits what is left (see the module's notes). Nobody,
/// unless the line is open: then the seats stay on sale.
pub fn offers(line: Line, available: u32, waiting: &[Entry], now: DateTime<Utc>) -> Vec<Offer> {
    if line != Line::Open {
        return Vec::new();
    }
    let mut left = available;
    let mut offers = Vec::new();
    for entry in waiting {
        if left == 0 {
            break;
        }
        if entry.status != EntryStatus::Waiting || entry.quantity > left {
            continue;
        }
        left -= entry.quantity;
        let offered = Entry {
            status: EntryStatus::Offered,
            offer_expires_at: Some(now + Duration::seconds(i64::from(entry.offer_secs))),
            updated_at: now,
            ..entry.clone()
        };
        offers.push(Offer {
            hold: offered.seats(i64::from(offered.quantity)),
            fact: offered_fact(&offered),
            update: EntryUpdate {
                entry: offered,
                from: EntryStatus::Waiting,
            },
        });
    }
    offers
}

/// The entry as the waitlist facts name it.
fn place_of(entry: &Entry) -> WaitlistPlace {
    WaitlistPlace {
        entry_id: entry.id,
        event_id: entry.event_id,
        event_title: entry.event_title.clone(),
        user_id: entry.user_id,
        email: entry.email.clone(),
        first_name: entry.first_name.clone(),
        ticket_type: entry.ticket_type.clone(),
        quantity: entry.quantity,
    }
}

/// `tickets.waitlist_offered`, about the entry.
fn offered_fact(entry: &Entry) -> OutboxMessage {
    let data = WaitlistOffered {
        place: place_of(entry),
        expires_at: entry.offer_expires_at.unwrap_or(entry.updated_at),
    };
    fact_about(entry, subjects::TICKETS_WAITLIST_OFFERED, data)
}

/// What asks an entry to change.
#[derive(Debug, Clone, PartialEq)]
pub enum EntryCommand {
    /// The buyer takes the offer: `order` (built from the entry, one line of its type and
    /// quantity) becomes a pending order holding the offered seats.
    Accept(Box<Order>),
    /// The buyer turns the offer down.
    Decline { user_id: Uuid },
    /// The buyer leaves the waitlist (and gives back an offer they hold).
    Leave { user_id: Uuid },
    /// The offer ran out (the sweep, at `now` past `offerExpiresAt`).
    Lapse,
    /// The event was cancelled (the cancellation cascade): an open entry ends, an offer with it.
    Close,
}

/// What a command did to the entry.
#[derive(Debug, Clone, PartialEq)]
pub enum EntryOutcome {
    /// The entry changed; the entry as it is now.
    Applied(Entry),
    /// Accept or decline of an entry that holds no offer (still waiting, or ended), or a lapse
    /// of one whose offer has not run out (or was answered); nothing changed.
    NoOffer(Entry),
    /// The offer ran out; the sweep is about to pass it on. Nothing changed.
    Expired(Entry),
    /// Leaving or closing an entry that has ended already; nothing changed.
    Ended(Entry),
    /// No such entry, or not the caller's.
    NotFound,
}

/// Everything one entry command writes, in one atomic unit. When `release` gives seats back,
/// the store runs [`offers`] for that type right after, in the same unit.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryDecision {
    pub outcome: EntryOutcome,
    pub update: Option<EntryUpdate>,
    /// The offered seats given back.
    pub release: Option<StockChange>,
    /// The pending order an accepted offer becomes; its seats are the offer's, already held.
    pub placement: Option<Placement>,
    /// Facts about the entry's change, for the outbox in the same unit (a close's).
    pub facts: Vec<OutboxMessage>,
}

impl EntryDecision {
    fn only(outcome: EntryOutcome) -> Self {
        Self {
            outcome,
            update: None,
            release: None,
            placement: None,
            facts: Vec::new(),
        }
    }
}

/// What `command` does to `entry` (as just read, `None` when it does not exist) at `now`.
pub fn decide(
    entry: Option<Entry>,
    command: &EntryCommand,
    now: DateTime<Utc>,
    traceparent: Option<&str>,
) -> EntryDecision {
    let Some(entry) = entry else {
        return EntryDecision::only(EntryOutcome::NotFound);
    };
    let owner = match command {
        EntryCommand::Accept(order) => Some(order.user_id),
        EntryCommand::Decline { user_id } | EntryCommand::Leave { user_id } => Some(*user_id),
        EntryCommand::Lapse | EntryCommand::Close => None,
    };
    if owner.is_some_and(|u| u != entry.user_id) {
        return EntryDecision::only(EntryOutcome::NotFound);
    }
    let running =
        entry.status == EntryStatus::Offered && entry.offer_expires_at.is_some_and(|end| now < end);
    match command {
        EntryCommand::Accept(order) => {
            if entry.status != EntryStatus::Offered {
                EntryDecision::only(EntryOutcome::NoOffer(entry))
            } else if !running {
                EntryDecision::only(EntryOutcome::Expired(entry))
            } else {
                accept(entry, order, now, traceparent)
            }
        }
        EntryCommand::Decline { .. } if !running => {
            EntryDecision::only(if entry.status == EntryStatus::Offered {
                EntryOutcome::Expired(entry)
            } else {
                EntryOutcome::NoOffer(entry)
            })
        }
        EntryCommand::Decline { .. } => end(entry, EntryStatus::Declined, now),
        EntryCommand::Leave { .. } if !entry.status.is_open() => {
            EntryDecision::only(EntryOutcome::Ended(entry))
        }
        EntryCommand::Leave { .. } => end(entry, EntryStatus::Left, now),
        EntryCommand::Lapse if entry.status != EntryStatus::Offered || running => {
            EntryDecision::only(EntryOutcome::NoOffer(entry))
        }
        EntryCommand::Lapse => end(entry, EntryStatus::Lapsed, now),
        EntryCommand::Close if !entry.status.is_open() => {
            EntryDecision::only(EntryOutcome::Ended(entry))
        }
        EntryCommand::Close => {
            let held_offer = entry.status == EntryStatus::Offered;
            let mut d = end(entry, EntryStatus::EventCancelled, now);
            if let EntryOutcome::Applied(closed) = &d.outcome {
                d.facts.push(closed_fact(closed, held_offer));
            }
            d
        }
    }
}

/// `tickets.waitlist_closed`, about the entry the event's cancellation ended.
fn closed_fact(entry: &Entry, held_offer: bool) -> OutboxMessage {
    let data = WaitlistClosed {
        place: place_of(entry),
        held_offer,
    };
    fact_about(entry, subjects::TICKETS_WAITLIST_CLOSED, data)
}

/// The outbox row of a fact about `entry` (the envelope's `subject` is the entry id).
fn fact_about<T: serde::Serialize>(entry: &Entry, subject: &str, data: T) -> OutboxMessage {
    let envelope = Envelope::new(subject, SOURCE, Some(entry.id.to_string()), data);
    OutboxMessage::from_envelope(&envelope).expect("waitlist facts always serialise")
}

fn accept(
    entry: Entry,
    order: &Order,
    now: DateTime<Utc>,
    traceparent: Option<&str>,
) -> EntryDecision {
    let fits = matches!(order.lines.as_slice(),
        [line] if line.ticket_type == entry.ticket_type && line.quantity == entry.quantity)
        && order.event_id == entry.event_id;
    if !fits {
        // The service builds the order from the entry; any other order is a bug, refused.
        return EntryDecision::only(EntryOutcome::NoOffer(entry));
    }
    let mut placement = lifecycle::place(order, traceparent);
    // The offer's seats are held already: they move to the order as they are.
    placement.stock.clear();
    let accepted = Entry {
        status: EntryStatus::Accepted,
        order_id: Some(order.id),
        updated_at: now,
        ..entry
    };
    EntryDecision {
        outcome: EntryOutcome::Applied(accepted.clone()),
        update: Some(EntryUpdate {
            entry: accepted,
            from: EntryStatus::Offered,
        }),
        release: None,
        placement: Some(placement),
        facts: Vec::new(),
    }
}

/// Ends an open entry with `status`, giving back the seats of an offer it holds.
fn end(entry: Entry, status: EntryStatus, now: DateTime<Utc>) -> EntryDecision {
    let from = entry.status;
    let release = (from == EntryStatus::Offered).then(|| entry.seats(-i64::from(entry.quantity)));
    let ended = Entry {
        status,
        updated_at: now,
        ..entry
    };
    EntryDecision {
        outcome: EntryOutcome::Applied(ended.clone()),
        update: Some(EntryUpdate { entry: ended, from }),
        release,
        placement: None,
        facts: Vec::new(),
    }
}

/// The ticket types whose seats `stock` gives back (an order's cancellation or refund, an
/// offer's end): each gets [`offers`] in the same atomic unit.
pub fn freed(stock: &[StockChange]) -> Vec<(Uuid, String)> {
    let mut types: Vec<(Uuid, String)> = Vec::new();
    for c in stock.iter().filter(|c| c.taken() < 0) {
        if !types
            .iter()
            .any(|(e, t)| *e == c.event_id && *t == c.ticket_type)
        {
            types.push((c.event_id, c.ticket_type.clone()));
        }
    }
    types
}

/// 1-based place of each waiting entry among `waiting` (one type, join order).
pub fn position(entry: &Entry, waiting: &[Entry]) -> Option<u32> {
    if entry.status != EntryStatus::Waiting {
        return None;
    }
    waiting
        .iter()
        .filter(|e| e.status == EntryStatus::Waiting)
        .position(|e| e.id == entry.id)
        .map(|i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use platform::money::{Currency, Money};

    use super::*;
    use crate::order::OrderLine;

    fn now() -> DateTime<Utc> {
        platform::time::now()
    }

    fn waiting(quantity: u32, joined: DateTime<Utc>) -> Entry {
        Entry::new(
            Joining {
                event_id: Uuid::from_u128(1),
                event_title: "Rust Fest".into(),
                ticket_type: "General".into(),
                user_id: Uuid::new_v4(),
                email: "ada@example.com".into(),
                first_name: "Ada".into(),
                quantity,
                offer_secs: 1800,
            },
            joined,
        )
    }

    fn line_of(entry: &Entry) -> Vec<OrderLine> {
        let price = Money::from_minor_units(2500, Currency::USD);
        vec![OrderLine::new(entry.ticket_type.clone(), price, entry.quantity).unwrap()]
    }

    fn order_for(entry: &Entry) -> Order {
        Order {
            user_id: entry.user_id,
            ..crate::order::sample(entry.event_id, line_of(entry), now())
        }
    }

    fn offered(entry: Entry, at: DateTime<Utc>) -> Entry {
        let offer = offers(Line::Open, entry.quantity, std::slice::from_ref(&entry), at);
        offer.into_iter().next().unwrap().update.entry
    }

    #[test]
    fn freed_seats_go_to_the_first_entries_in_join_order() {
        let t = now();
        let line: Vec<Entry> = (0..5)
            .map(|i| waiting(1, t + Duration::milliseconds(i)))
            .collect();
        let made = offers(Line::Open, 3, &line, t);
        let got: Vec<Uuid> = made.iter().map(|o| o.update.entry.id).collect();
        assert_eq!(got, vec![line[0].id, line[1].id, line[2].id]);
        assert!(made.iter().all(|o| o.hold.held == 1 && o.hold.sold == 0));
        assert!(made.iter().all(|o| o.update.from == EntryStatus::Waiting));
        let first = &made[0].update.entry;
        assert_eq!(first.status, EntryStatus::Offered);
        assert_eq!(first.offer_expires_at, Some(t + Duration::seconds(1800)));
        assert_eq!(made[0].fact.subject, subjects::TICKETS_WAITLIST_OFFERED);
    }

    #[test]
    fn an_entry_too_large_for_the_freed_seats_is_skipped_and_keeps_its_place() {
        let t = now();
        let line = vec![waiting(4, t), waiting(1, t), waiting(2, t), waiting(1, t)];
        let made = offers(Line::Open, 3, &line, t);
        let got: Vec<Uuid> = made.iter().map(|o| o.update.entry.id).collect();
        assert_eq!(got, vec![line[1].id, line[2].id]);
        assert_eq!(position(&line[0], &line), Some(1));
    }

    #[test]
    fn seats_that_fit_nobody_are_not_offered() {
        let t = now();
        assert!(offers(Line::Open, 1, &[waiting(2, t)], t).is_empty());
        assert!(offers(Line::Open, 0, &[waiting(1, t)], t).is_empty());
    }

    #[test]
    fn freed_seats_are_not_offered_while_the_waitlist_is_off_and_the_line_keeps_its_order() {
        // Given a line of three on an event whose organizer turned the waitlist off
        let t = now();
        let line: Vec<Entry> = (0..3)
            .map(|i| waiting(1, t + Duration::milliseconds(i)))
            .collect();
        let off = Line::of(Some(EventStatus::Published), false);
        assert_eq!(off, Line::Off);
        // When two seats come free
        let made = offers(off, 2, &line, t);
        // Then nobody is offered them, and every entry keeps its place for when it is back on
        assert!(made.is_empty());
        assert_eq!(position(&line[0], &line), Some(1));
        let on = Line::of(Some(EventStatus::Published), true);
        let again: Vec<Uuid> = offers(on, 2, &line, t)
            .iter()
            .map(|o| o.update.entry.id)
            .collect();
        assert_eq!(again, vec![line[0].id, line[1].id]);
    }

    #[test]
    fn a_line_is_open_only_on_an_event_on_sale_with_its_waitlist_on() {
        assert_eq!(Line::of(Some(EventStatus::Published), true), Line::Open);
        assert_eq!(Line::of(Some(EventStatus::Published), false), Line::Off);
        assert_eq!(
            Line::of(Some(EventStatus::Cancelled), true),
            Line::NotOnSale
        );
        assert_eq!(Line::of(Some(EventStatus::Draft), false), Line::NotOnSale);
        assert_eq!(Line::of(None, true), Line::NotOnSale);
    }

    #[test]
    fn accepting_a_running_offer_makes_a_pending_order_of_its_held_seats() {
        let t = now();
        let entry = offered(waiting(2, t), t);
        let order = order_for(&entry);
        let d = decide(
            Some(entry.clone()),
            &EntryCommand::Accept(Box::new(order.clone())),
            t,
            None,
        );
        let EntryOutcome::Applied(accepted) = &d.outcome else {
            panic!("{:?}", d.outcome)
        };
        assert_eq!(accepted.status, EntryStatus::Accepted);
        assert_eq!(accepted.order_id, Some(order.id));
        let placement = d.placement.unwrap();
        assert!(placement.stock.is_empty(), "the offer's hold moves over");
        assert_eq!(placement.facts[0].subject, subjects::ORDERS_CREATED);
        assert_eq!(d.release, None);
    }

    #[test]
    fn an_offer_cannot_be_accepted_once_it_ran_out_nor_by_someone_else() {
        let t = now();
        let entry = offered(waiting(1, t), t);
        let late = t + Duration::seconds(1800);
        let d = decide(
            Some(entry.clone()),
            &EntryCommand::Accept(Box::new(order_for(&entry))),
            late,
            None,
        );
        assert!(matches!(d.outcome, EntryOutcome::Expired(_)));
        assert!(d.update.is_none() && d.placement.is_none());
        let stranger = Order {
            user_id: Uuid::new_v4(),
            ..order_for(&entry)
        };
        let d = decide(
            Some(entry),
            &EntryCommand::Accept(Box::new(stranger)),
            t,
            None,
        );
        assert_eq!(d.outcome, EntryOutcome::NotFound);
    }

    #[test]
    fn a_waiting_entry_has_no_offer_to_accept() {
        let t = now();
        let entry = waiting(1, t);
        let d = decide(
            Some(entry.clone()),
            &EntryCommand::Accept(Box::new(order_for(&entry))),
            t,
            None,
        );
        assert!(matches!(d.outcome, EntryOutcome::NoOffer(_)));
    }

    #[test]
    fn declining_or_lapsing_an_offer_gives_its_seats_back() {
        let t = now();
        let entry = offered(waiting(2, t), t);
        let d = decide(
            Some(entry.clone()),
            &EntryCommand::Decline {
                user_id: entry.user_id,
            },
            t,
            None,
        );
        assert_eq!(
            d.update.as_ref().unwrap().entry.status,
            EntryStatus::Declined
        );
        assert_eq!(d.release.as_ref().unwrap().held, -2);

        let early = decide(Some(entry.clone()), &EntryCommand::Lapse, t, None);
        assert!(matches!(early.outcome, EntryOutcome::NoOffer(_)));
        let late = t + Duration::seconds(1800);
        let d = decide(Some(entry), &EntryCommand::Lapse, late, None);
        assert_eq!(d.update.as_ref().unwrap().entry.status, EntryStatus::Lapsed);
        assert!(d.facts.is_empty(), "a lapse tells nobody");
        assert_eq!(d.update.unwrap().from, EntryStatus::Offered);
        assert_eq!(d.release.unwrap().held, -2);
    }

    #[test]
    fn leaving_while_waiting_frees_nothing_and_leaving_twice_changes_nothing() {
        let t = now();
        let entry = waiting(1, t);
        let leave = EntryCommand::Leave {
            user_id: entry.user_id,
        };
        let d = decide(Some(entry), &leave, t, None);
        assert_eq!(d.release, None);
        let left = d.update.unwrap().entry;
        assert_eq!(left.status, EntryStatus::Left);
        let again = decide(Some(left), &leave, t, None);
        assert!(matches!(again.outcome, EntryOutcome::Ended(_)));
    }

    /// The `data` of the one `tickets.waitlist_closed` fact a decision publishes.
    fn closed_data(d: &EntryDecision) -> WaitlistClosed {
        let [fact] = d.facts.as_slice() else {
            panic!("not one fact: {:?}", d.facts)
        };
        assert_eq!(fact.subject, subjects::TICKETS_WAITLIST_CLOSED);
        let envelope: Envelope<WaitlistClosed> = serde_json::from_slice(&fact.payload).unwrap();
        assert_eq!(
            envelope.subject,
            Some(envelope.data.place.entry_id.to_string())
        );
        envelope.data
    }

    #[test]
    fn closing_for_a_cancelled_event_ends_open_entries_once_and_gives_an_offers_seats_back() {
        // Given a waiting entry, an offered one and one that was declined before
        let t = now();
        let in_line = waiting(1, t);
        let holding = offered(waiting(2, t), t);
        let declined = Entry {
            status: EntryStatus::Declined,
            ..waiting(1, t)
        };
        // When the event is cancelled
        let later = t + Duration::seconds(5);
        let d = decide(Some(in_line.clone()), &EntryCommand::Close, later, None);
        // Then the waiting entry ends, freeing nothing, and its buyer is told their place ended
        let told = closed_data(&d);
        assert_eq!(told.place.entry_id, in_line.id);
        assert_eq!(
            (told.place.email.as_str(), told.place.quantity),
            ("ada@example.com", 1)
        );
        assert!(!told.held_offer);
        let closed = d.update.unwrap();
        assert_eq!(closed.from, EntryStatus::Waiting);
        assert_eq!(closed.entry.status, EntryStatus::EventCancelled);
        assert_eq!(closed.entry.updated_at, later);
        assert_eq!(d.release, None);
        // and the offered one ends with its held seats given back
        let d = decide(Some(holding.clone()), &EntryCommand::Close, later, None);
        let told = closed_data(&d);
        assert!(told.held_offer && told.place.entry_id == holding.id && told.place.quantity == 2);
        assert_eq!(d.update.unwrap().from, EntryStatus::Offered);
        assert_eq!(d.release.unwrap().held, -2);
        // and an entry that ended before, or was closed already, is left as it is
        for ended in [declined, closed.entry] {
            let again = decide(Some(ended.clone()), &EntryCommand::Close, later, None);
            assert_eq!(again.outcome, EntryOutcome::Ended(ended));
            assert!(again.update.is_none() && again.release.is_none() && again.facts.is_empty());
        }
    }

    #[test]
    fn only_seats_given_back_call_for_offers_once_per_type() {
        let e = Uuid::from_u128(1);
        let change = |t: &str, held, sold| StockChange {
            event_id: e,
            ticket_type: t.into(),
            held,
            sold,
        };
        let stock = [
            change("General", -2, 0),
            change("VIP", -1, 1),
            change("General", 0, -1),
        ];
        assert_eq!(freed(&stock), vec![(e, "General".to_string())]);
    }
}
