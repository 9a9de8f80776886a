//! Which mails a fact causes, decided in pure code from the fact and the projection: each
//! function returns the [`FactRecord`] to store (projection changes and mails together).
//!
//! | fact | mail | to |
//! |---|---|---|
//! | `orders.confirmed` | order confirmed (QR codes, calendar file) | the buyer |
//! | `orders.cancelled` | order cancelled, unless the event's cancellation notice covers it (a paid order of a cancelled event) | the buyer |
//! | `payments.failed` | payment declined, with the hold's deadline | the buyer |
//! | `payments.refunded` | refund issued | the buyer |
//! | `catalog.events.cancelled` | event cancelled | every holder of a paid order, once per address |
//! | `catalog.events.updated` (date or venue changed) | event changed | every holder of a confirmed order, once per address |
//! | (sweep) a pending hold ending within the lead time | hold about to expire | the buyer |
//! | `tickets.waitlist_offered` | seats held for a waitlist entry, until when | the entry's buyer |
//! | `tickets.waitlist_closed` | the event was cancelled: the entry's place in line, or the seats held for it, are gone | the entry's buyer |
//!
//! A fact older than the configured age only feeds the projection: a service started on a stream
//! with history does not mail its past.

use std::collections::BTreeMap;

use api_types::notifications::NotificationKind;
use chrono::{DateTime, Utc};
use contracts::catalog::{EventCancelled, EventDetails};
use contracts::orders::{CancelReason, OrderCancelled, OrderConfirmed, OrderCreated};
use contracts::payments::{PaymentFailed, PaymentRefunded};
use contracts::tickets::{WaitlistClosed, WaitlistOffered, WaitlistPlace};
use uuid::Uuid;

use crate::domain::{
    EventRecord, FactRecord, Letter, Mail, MailKey, MailState, OrderRecord, OrderStatus,
};

/// Where a fact comes from and whether it may still cause mail.
#[derive(Debug, Clone)]
pub struct Fact {
    pub id: String,
    pub subject: String,
    /// When it was published (the envelope's time).
    pub time: DateTime<Utc>,
    /// When it is handled.
    pub now: DateTime<Utc>,
    /// Recent enough to mail about (see the module comment).
    pub fresh: bool,
}

impl Fact {
    fn record(&self) -> FactRecord {
        FactRecord {
            fact_id: self.id.clone(),
            subject: self.subject.clone(),
            at: self.now,
            event: None,
            order: None,
            mails: Vec::new(),
        }
    }

    /// A mail of this fact to `order`'s buyer; none when the order does not name one.
    fn mail_to_buyer(
        &self,
        order: &OrderRecord,
        kind: NotificationKind,
        letter: Letter,
    ) -> Option<Mail> {
        let customer = order.customer.as_ref()?;
        Some(Mail {
            key: MailKey {
                fact_id: self.id.clone(),
                recipient: customer.email.to_lowercase(),
            },
            user_id: order.user_id,
            kind,
            letter: Letter {
                name: format!("{} {}", customer.first_name, customer.last_name),
                first_name: customer.first_name.clone(),
                ..letter
            },
            state: MailState::Pending,
            created_at: self.now,
        })
    }

    fn mails(&self, mails: impl IntoIterator<Item = Mail>) -> Vec<Mail> {
        if self.fresh {
            mails.into_iter().collect()
        } else {
            Vec::new()
        }
    }
}

/// The letter about one order: its event, reference, lines and total.
fn order_letter(order: &OrderRecord, event: Option<&EventRecord>) -> Letter {
    Letter {
        event: event.cloned(),
        booking_references: vec![order.booking_reference.clone()],
        order_id: Some(order.id),
        lines: order.lines.clone(),
        total: Some(order.total.clone()),
        ..Letter::default()
    }
}

/// The event record a `published`/`updated` fact describes.
pub fn event_record(event_id: Uuid, version: u64, d: &EventDetails) -> EventRecord {
    EventRecord {
        id: event_id,
        version,
        title: d.title.clone(),
        date_time: d.date_time,
        duration: d.duration,
        venue_name: d.venue.name.clone(),
        venue_city: d.venue.city.clone(),
        cancelled: false,
    }
}

/// `orders.created`: the order joins the projection; no mail (the buyer is at the checkout).
pub fn order_created(fact: &Fact, e: OrderCreated) -> FactRecord {
    FactRecord {
        order: Some(OrderRecord {
            id: e.order_id,
            user_id: e.user_id,
            event_id: e.event_id,
            booking_reference: e.booking_reference,
            customer: e.customer,
            lines: e.lines,
            total: e.total_amount,
            expires_at: e.expires_at,
            status: OrderStatus::Pending,
            cancel_reason: None,
            paid: false,
        }),
        ..fact.record()
    }
}

/// `orders.confirmed`: the confirmation with the tickets.
pub fn order_confirmed(
    fact: &Fact,
    e: OrderConfirmed,
    order: OrderRecord,
    event: &EventRecord,
) -> FactRecord {
    let order = OrderRecord {
        status: OrderStatus::Confirmed,
        paid: true,
        ..order
    };
    let letter = Letter {
        tickets: e.tickets,
        total: Some(e.total_amount),
        ..order_letter(&order, Some(event))
    };
    FactRecord {
        mails: fact.mails(fact.mail_to_buyer(&order, NotificationKind::OrderConfirmed, letter)),
        order: Some(order),
        ..fact.record()
    }
}

/// `orders.cancelled`: the buyer hears why, unless the order was paid and its event cancelled
/// (the event's notice and the refund say it all).
pub fn order_cancelled(
    fact: &Fact,
    e: OrderCancelled,
    order: OrderRecord,
    event: Option<&EventRecord>,
) -> FactRecord {
    let order = OrderRecord {
        status: OrderStatus::Cancelled,
        cancel_reason: Some(e.reason),
        ..order
    };
    let covered = order.paid && e.reason == CancelReason::EventCancelled;
    let letter = Letter {
        cancel_reason: Some(e.reason),
        ..order_letter(&order, event)
    };
    let mail = (!covered)
        .then(|| fact.mail_to_buyer(&order, NotificationKind::OrderCancelled, letter))
        .flatten();
    FactRecord {
        mails: fact.mails(mail),
        order: Some(order),
        ..fact.record()
    }
}

/// `payments.failed`: the decline, and until when the seats stay held for another try.
pub fn payment_failed(
    fact: &Fact,
    e: PaymentFailed,
    order: &OrderRecord,
    event: Option<&EventRecord>,
) -> FactRecord {
    let letter = Letter {
        expires_at: Some(order.expires_at),
        amount: Some(e.amount),
        decline_message: Some(e.response_message),
        ..order_letter(order, event)
    };
    FactRecord {
        mails: fact.mails(fact.mail_to_buyer(order, NotificationKind::PaymentDeclined, letter)),
        ..fact.record()
    }
}

/// `payments.refunded`: the money went back.
pub fn payment_refunded(
    fact: &Fact,
    e: PaymentRefunded,
    order: &OrderRecord,
    event: Option<&EventRecord>,
) -> FactRecord {
    let letter = Letter {
        amount: Some(e.amount),
        cancel_reason: order.cancel_reason,
        ..order_letter(order, event)
    };
    FactRecord {
        mails: fact.mails(fact.mail_to_buyer(order, NotificationKind::OrderRefunded, letter)),
        ..fact.record()
    }
}

/// One mail per address among `orders`, naming all of that address's booking references.
fn to_each_holder(
    fact: &Fact,
    orders: &[OrderRecord],
    kind: NotificationKind,
    letter: &Letter,
) -> Vec<Mail> {
    let mut by_address: BTreeMap<String, Mail> = BTreeMap::new();
    for order in orders {
        let Some(mail) = fact.mail_to_buyer(order, kind, letter.clone()) else {
            continue;
        };
        by_address
            .entry(mail.key.recipient.clone())
            .and_modify(|m| {
                m.letter
                    .booking_references
                    .push(order.booking_reference.clone())
            })
            .or_insert(Mail {
                letter: Letter {
                    booking_references: vec![order.booking_reference.clone()],
                    ..mail.letter.clone()
                },
                ..mail
            });
    }
    fact.mails(by_address.into_values())
}

/// `catalog.events.published` / `.updated`: the projection takes the new state; when a published
/// event moved (date or venue), every holder of a confirmed order hears of it.
pub fn event_changed(
    fact: &Fact,
    next: EventRecord,
    previous: Option<&EventRecord>,
    orders: &[OrderRecord],
) -> FactRecord {
    let newer = previous.is_none_or(|p| next.version > p.version);
    let mails = match previous {
        Some(p) if newer && !p.cancelled && p.moved(&next) => {
            let holders: Vec<OrderRecord> = orders
                .iter()
                .filter(|o| o.event_id == next.id && o.status == OrderStatus::Confirmed)
                .cloned()
                .collect();
            let letter = Letter {
                event: Some(next.clone()),
                previous: Some(p.clone()),
                ..Letter::default()
            };
            to_each_holder(fact, &holders, NotificationKind::EventChanged, &letter)
        }
        _ => Vec::new(),
    };
    FactRecord {
        event: newer.then_some(next),
        mails,
        ..fact.record()
    }
}

/// `catalog.events.cancelled`: every holder of a paid order hears it once.
pub fn event_cancelled(
    fact: &Fact,
    e: EventCancelled,
    previous: Option<&EventRecord>,
    orders: &[OrderRecord],
) -> FactRecord {
    let event = match previous {
        Some(p) => EventRecord {
            version: e.version.max(p.version),
            title: e.title,
            date_time: e.date_time,
            cancelled: true,
            ..p.clone()
        },
        None => EventRecord {
            id: e.event_id,
            version: e.version,
            title: e.title,
            date_time: e.date_time,
            duration: 0,
            venue_name: String::new(),
            venue_city: String::new(),
            cancelled: true,
        },
    };
    let holders: Vec<OrderRecord> = orders
        .iter()
        .filter(|o| o.event_id == e.event_id && o.holds_tickets_of_cancelled_event())
        .cloned()
        .collect();
    let letter = Letter {
        event: Some(event.clone()),
        ..Letter::default()
    };
    FactRecord {
        mails: to_each_holder(fact, &holders, NotificationKind::EventCancelled, &letter),
        event: Some(event),
        ..fact.record()
    }
}

/// A mail of this fact to a waitlist entry's buyer, whom the fact names itself (an entry has no
/// order), about their seats; `letter` says what else, `event` is the projection's, for the date
/// and venue.
fn mail_to_entry_buyer(
    fact: &Fact,
    kind: NotificationKind,
    place: WaitlistPlace,
    event: Option<&EventRecord>,
    letter: Letter,
) -> FactRecord {
    let mail = Mail {
        key: MailKey {
            fact_id: fact.id.clone(),
            recipient: place.email.to_lowercase(),
        },
        user_id: place.user_id,
        kind,
        letter: Letter {
            name: place.first_name.clone(),
            first_name: place.first_name,
            event: event.cloned(),
            event_title: Some(place.event_title),
            ticket_type: Some(place.ticket_type),
            quantity: Some(place.quantity),
            ..letter
        },
        state: MailState::Pending,
        created_at: fact.now,
    };
    FactRecord {
        mails: fact.mails([mail]),
        ..fact.record()
    }
}

/// `tickets.waitlist_offered`: the entry's buyer hears that seats are held for them and until
/// when.
pub fn waitlist_offered(
    fact: &Fact,
    e: WaitlistOffered,
    event: Option<&EventRecord>,
) -> FactRecord {
    let letter = Letter {
        expires_at: Some(e.expires_at),
        ..Letter::default()
    };
    mail_to_entry_buyer(
        fact,
        NotificationKind::WaitlistOffered,
        e.place,
        event,
        letter,
    )
}

/// `tickets.waitlist_closed`: the event was cancelled, and the entry's buyer hears that their
/// place in line ended, or, when the entry held an offer, that the seats held for them are
/// withdrawn. One fact per entry, so one mail per entry.
pub fn waitlist_closed(fact: &Fact, e: WaitlistClosed, event: Option<&EventRecord>) -> FactRecord {
    let letter = Letter {
        offer_withdrawn: e.held_offer,
        ..Letter::default()
    };
    mail_to_entry_buyer(
        fact,
        NotificationKind::WaitlistClosed,
        e.place,
        event,
        letter,
    )
}

/// The id under which an order's hold reminder is recorded: at most one per order.
pub fn reminder_id(order_id: Uuid) -> String {
    format!("hold-reminder:{order_id}")
}

/// A reminder for a hold that is still pending and ends after `now` but before `now + lead`;
/// `None` otherwise (paid or cancelled meanwhile, already over, or not due yet).
pub fn hold_reminder(
    order: &OrderRecord,
    event: Option<&EventRecord>,
    now: DateTime<Utc>,
    lead: chrono::Duration,
) -> Option<FactRecord> {
    let due = order.status == OrderStatus::Pending
        && order.expires_at > now
        && order.expires_at <= now + lead;
    if !due {
        return None;
    }
    let fact = Fact {
        id: reminder_id(order.id),
        subject: "hold-reminder".into(),
        time: now,
        now,
        fresh: true,
    };
    let letter = Letter {
        expires_at: Some(order.expires_at),
        ..order_letter(order, event)
    };
    let mail = fact.mail_to_buyer(order, NotificationKind::HoldExpiring, letter)?;
    Some(FactRecord {
        mails: vec![mail],
        ..fact.record()
    })
}

#[cfg(test)]
mod tests {
    use contracts::orders::{OrderCustomer, OrderTicket};

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn fact(fresh: bool) -> Fact {
        Fact {
            id: Uuid::now_v7().to_string(),
            subject: "test".into(),
            time: at("2030-01-01T12:00:00Z"),
            now: at("2030-01-01T12:00:00Z"),
            fresh,
        }
    }

    fn event() -> EventRecord {
        EventRecord {
            id: Uuid::nil(),
            version: 1,
            title: "Jazz Night".into(),
            date_time: at("2030-03-17T18:00:00Z"),
            duration: 120,
            venue_name: "Blue Room".into(),
            venue_city: "Chicago".into(),
            cancelled: false,
        }
    }

    fn order(email: &str, status: OrderStatus, paid: bool) -> OrderRecord {
        OrderRecord {
            id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            event_id: Uuid::nil(),
            booking_reference: format!("TK-{email}"),
            customer: Some(OrderCustomer {
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
                email: email.into(),
            }),
            lines: Vec::new(),
            total: contracts::catalog::Price {
                minor_units: 5100,
                decimal: "51.00".into(),
                currency: "EUR".into(),
            },
            expires_at: at("2030-01-01T12:15:00Z"),
            status,
            cancel_reason: None,
            paid,
        }
    }

    fn confirmed_fact(o: &OrderRecord) -> OrderConfirmed {
        OrderConfirmed {
            order_id: o.id,
            booking_reference: o.booking_reference.clone(),
            user_id: o.user_id,
            event_id: o.event_id,
            payment_id: Uuid::nil(),
            total_amount: o.total.clone(),
            ticket_count: 1,
            tickets: vec![OrderTicket {
                ticket_type: "General".into(),
                code: "ABCDE".into(),
                signed_code: None,
            }],
        }
    }

    #[test]
    fn a_confirmation_goes_to_the_buyer_with_the_tickets_and_marks_the_order_paid() {
        // given a pending order of a known event
        let o = order("Ada@Example.com", OrderStatus::Pending, false);
        // when it is confirmed
        let r = order_confirmed(&fact(true), confirmed_fact(&o), o.clone(), &event());
        // then the buyer gets one confirmation with the ticket, and the order reads paid
        assert_eq!(r.mails.len(), 1);
        let m = &r.mails[0];
        assert_eq!(m.key.recipient, "ada@example.com");
        assert_eq!(m.kind, NotificationKind::OrderConfirmed);
        assert_eq!(m.letter.tickets[0].code, "ABCDE");
        assert_eq!(m.letter.name, "Ada Lovelace");
        let stored = r.order.unwrap();
        assert!(stored.paid && stored.status == OrderStatus::Confirmed);
    }

    #[test]
    fn an_old_fact_changes_the_projection_but_mails_nobody() {
        let o = order("ada@example.com", OrderStatus::Pending, false);
        let r = order_confirmed(&fact(false), confirmed_fact(&o), o, &event());
        assert!(r.mails.is_empty());
        assert!(r.order.unwrap().paid);
    }

    #[test]
    fn an_order_without_a_buyer_on_record_gets_no_mail() {
        let o = OrderRecord {
            customer: None,
            ..order("ada@example.com", OrderStatus::Pending, false)
        };
        let r = order_confirmed(&fact(true), confirmed_fact(&o), o, &event());
        assert!(r.mails.is_empty());
    }

    #[test]
    fn a_paid_order_cancelled_with_its_event_is_left_to_the_events_notice() {
        let paid = order("ada@example.com", OrderStatus::Confirmed, true);
        let pending = order("bob@example.com", OrderStatus::Pending, false);
        let cancel = |o: &OrderRecord| OrderCancelled {
            order_id: o.id,
            booking_reference: o.booking_reference.clone(),
            user_id: o.user_id,
            event_id: o.event_id,
            reason: CancelReason::EventCancelled,
        };
        let f = fact(true);
        assert!(
            order_cancelled(&f, cancel(&paid), paid.clone(), None)
                .mails
                .is_empty()
        );
        let r = order_cancelled(&f, cancel(&pending), pending, None);
        assert_eq!(r.mails.len(), 1);
        assert_eq!(
            r.mails[0].letter.cancel_reason,
            Some(CancelReason::EventCancelled)
        );
    }

    #[test]
    fn an_events_cancellation_reaches_each_holder_address_once_naming_all_their_bookings() {
        // given two paid orders of one address, one of another (already cancelled with the
        // event), and an unpaid one
        let a1 = order("ada@example.com", OrderStatus::Confirmed, true);
        let a2 = order("ADA@example.com", OrderStatus::Confirmed, true);
        let b = OrderRecord {
            status: OrderStatus::Cancelled,
            cancel_reason: Some(CancelReason::EventCancelled),
            ..order("bob@example.com", OrderStatus::Confirmed, true)
        };
        let refunded_before = OrderRecord {
            status: OrderStatus::Cancelled,
            cancel_reason: Some(CancelReason::BuyerRefund),
            ..order("cy@example.com", OrderStatus::Confirmed, true)
        };
        let e = event();
        let cancelled = EventCancelled {
            event_id: e.id,
            version: 2,
            title: e.title.clone(),
            date_time: e.date_time,
            cancelled_at: at("2030-01-01T12:00:00Z"),
        };
        // when the event is cancelled
        let r = event_cancelled(
            &fact(true),
            cancelled,
            Some(&e),
            &[a1.clone(), a2.clone(), b, refunded_before],
        );
        // then ada and bob hear it once each, and the projection keeps the venue
        let to: Vec<&str> = r.mails.iter().map(|m| m.key.recipient.as_str()).collect();
        assert_eq!(to, ["ada@example.com", "bob@example.com"]);
        assert_eq!(
            r.mails[0].letter.booking_references,
            [a1.booking_reference, a2.booking_reference]
        );
        let stored = r.event.unwrap();
        assert!(stored.cancelled && stored.venue_name == "Blue Room" && stored.version == 2);
    }

    #[test]
    fn only_a_newer_version_that_moves_the_event_tells_its_holders() {
        let holder = order("ada@example.com", OrderStatus::Confirmed, true);
        let e = event();
        let renamed = EventRecord {
            version: 2,
            title: "Jazz Night!".into(),
            ..e.clone()
        };
        let moved = EventRecord {
            version: 3,
            venue_city: "Boston".into(),
            ..e.clone()
        };
        let stale = EventRecord {
            version: 1,
            venue_city: "Boston".into(),
            ..e.clone()
        };
        let f = fact(true);
        let holders = [holder];
        assert!(
            event_changed(&f, renamed, Some(&e), &holders)
                .mails
                .is_empty()
        );
        let r = event_changed(&f, moved, Some(&e), &holders);
        assert_eq!(r.mails.len(), 1);
        assert_eq!(
            r.mails[0].letter.previous.as_ref().unwrap().venue_city,
            "Chicago"
        );
        let r = event_changed(&f, stale, Some(&e), &holders);
        assert!(r.mails.is_empty() && r.event.is_none());
    }

    #[test]
    fn a_reminder_is_due_only_for_a_pending_hold_ending_within_the_lead() {
        let now = at("2030-01-01T12:10:00Z");
        let lead = chrono::Duration::minutes(5);
        let pending = order("ada@example.com", OrderStatus::Pending, false);
        let r = hold_reminder(&pending, None, now, lead).expect("due: ends at 12:15");
        assert_eq!(r.fact_id, reminder_id(pending.id));
        assert_eq!(r.mails[0].letter.expires_at, Some(pending.expires_at));
        let early = at("2030-01-01T12:09:00Z");
        assert!(hold_reminder(&pending, None, early, lead).is_none());
        let after = at("2030-01-01T12:15:00Z");
        assert!(hold_reminder(&pending, None, after, lead).is_none());
        let paid = OrderRecord {
            status: OrderStatus::Confirmed,
            ..pending
        };
        assert!(hold_reminder(&paid, None, now, lead).is_none());
    }

    /// Grace's place in line for two General seats of a known event.
    fn grace_in_line() -> WaitlistPlace {
        WaitlistPlace {
            entry_id: Uuid::now_v7(),
            event_id: Uuid::nil(),
            event_title: "Jazz Night".into(),
            user_id: Uuid::now_v7(),
            email: "Grace@Example.com".into(),
            first_name: "Grace".into(),
            ticket_type: "General".into(),
            quantity: 2,
        }
    }

    #[test]
    fn a_waitlist_offer_goes_to_the_entrys_buyer_with_the_seats_and_the_deadline() {
        // given an offer of two General seats of a known event
        let offer = WaitlistOffered {
            place: grace_in_line(),
            expires_at: at("2030-01-01T12:30:00Z"),
        };
        // when it is planned
        let r = waitlist_offered(&fact(true), offer.clone(), Some(&event()));
        // then its buyer gets one mail naming the seats and the deadline; the projection stays
        assert_eq!(r.mails.len(), 1);
        let m = &r.mails[0];
        assert_eq!(m.key.recipient, "grace@example.com");
        assert_eq!(m.user_id, offer.place.user_id);
        assert_eq!(m.kind, NotificationKind::WaitlistOffered);
        assert_eq!(m.letter.quantity, Some(2));
        assert_eq!(m.letter.expires_at, Some(offer.expires_at));
        assert!(r.order.is_none() && r.event.is_none());
        // and an old offer mails nobody
        assert!(waitlist_offered(&fact(false), offer, None).mails.is_empty());
    }

    #[test]
    fn a_closed_entry_tells_its_buyer_once_whether_their_offer_or_their_place_ended() {
        // given an entry that held an offer of two seats and one that was waiting
        let closed = |held_offer| WaitlistClosed {
            place: grace_in_line(),
            held_offer,
        };
        let (offer, waiting) = (closed(true), closed(false));
        // when the event's cancellation closes them
        let cancelled = EventRecord {
            cancelled: true,
            ..event()
        };
        let r = waitlist_closed(&fact(true), offer.clone(), Some(&cancelled));
        // then each buyer gets one mail, saying which it was; the projection stays
        assert_eq!(r.mails.len(), 1);
        let m = &r.mails[0];
        assert_eq!(m.key.recipient, "grace@example.com");
        assert_eq!(m.user_id, offer.place.user_id);
        assert_eq!(m.kind, NotificationKind::WaitlistClosed);
        assert!(m.letter.offer_withdrawn);
        assert_eq!(m.letter.quantity, Some(2));
        assert_eq!(m.letter.event, Some(cancelled));
        assert!(r.order.is_none() && r.event.is_none());
        let r = waitlist_closed(&fact(true), waiting.clone(), None);
        assert!(!r.mails[0].letter.offer_withdrawn);
        // and an old one mails nobody
        assert!(
            waitlist_closed(&fact(false), waiting, None)
                .mails
                .is_empty()
        );
    }
}
