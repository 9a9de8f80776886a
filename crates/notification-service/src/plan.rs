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
//!
//! A fact older than the configured age only feeds the projection: a service started on a stream
//! with history does not mail its past.

use std::collections::BTreeMap;

use api_types::notifications::NotificationKind;
use chrono::{DateTime, Utc};
use contracts::catalog::{EventCancelled, EventDetails};
use contracts::orders::{CancelReason, OrderCancelled, OrderConfirmed, OrderCreated};
use contracts::payments::{PaymentFailed, PaymentRefunded};
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
