//! The waitlist's part of the ticket store contract: joining, offers made in the unit that frees
//! the seats, accepting, declining, lapsing and leaving, and the organizer's lengths.

use super::*;
use ticket_service::store::{JoinResult, TypeLength};
use ticket_service::waitlist::{Entry, EntryCommand, EntryOutcome, EntryStatus, Joining};

/// A new entry of a fresh buyer for `quantity` seats of `ticket_type`, offers held `offer_secs`.
fn entry(event_id: Uuid, ticket_type: &str, quantity: u32, offer_secs: u32) -> Entry {
    Entry::new(
        Joining {
            event_id,
            event_title: "Rust Fest".into(),
            ticket_type: ticket_type.into(),
            user_id: Uuid::new_v4(),
            email: "ada@example.com".into(),
            first_name: "Ada".into(),
            quantity,
            offer_secs,
        },
        now(),
    )
}

async fn joined(store: &Arc<dyn TicketStore>, e: &Entry) -> u32 {
    match store.join_waitlist(e).await.unwrap() {
        JoinResult::Joined(stored, position) => {
            assert_eq!(&stored, e);
            position
        }
        other => panic!("not joined: {other:?}"),
    }
}

async fn status_of(store: &Arc<dyn TicketStore>, e: &Entry) -> Entry {
    store.waitlist_entry(e.id).await.unwrap().unwrap()
}

/// The pending order an offer to `e` becomes.
fn order_for(e: &Entry) -> Order {
    Order {
        user_id: e.user_id,
        ..order(e.event_id, &[(e.ticket_type.as_str(), e.quantity)])
    }
}

/// What the outbox rows with `subject` are about (the envelopes' `subject`), sorted.
async fn rows_of(store: &Arc<dyn TicketStore>, subject: &str) -> Vec<String> {
    let mut about: Vec<String> = outbox_rows(store)
        .await
        .into_iter()
        .filter(|(s, _)| s == subject)
        .map(|(_, about)| about)
        .collect();
    about.sort();
    about
}

/// The data of the `tickets.waitlist_closed` rows in the outbox.
async fn closed_facts(store: &Arc<dyn TicketStore>) -> Vec<contracts::tickets::WaitlistClosed> {
    ticket_service::testing::pending_facts(store.as_ref(), subjects::TICKETS_WAITLIST_CLOSED).await
}

/// The entries' ids, sorted as [`rows_of`] sorts.
fn ids_of(entries: &[&Entry]) -> Vec<String> {
    let mut ids: Vec<String> = entries.iter().map(|e| e.id.to_string()).collect();
    ids.sort();
    ids
}

pub(super) async fn joining_needs_a_sold_out_type_and_a_buyer_has_one_open_entry_per_type(
    store: Arc<dyn TicketStore>,
) {
    let id = published(&store, &[("General", 3), ("VIP", 2)]).await;
    booked(&store, &order(id, &[("General", 2)])).await;
    // One General seat is left: a buyer who wants one books it, one who wants two may wait.
    assert_eq!(
        store
            .join_waitlist(&entry(id, "General", 1, 60))
            .await
            .unwrap(),
        JoinResult::NotSoldOut { available: 1 }
    );
    let first = entry(id, "General", 2, 60);
    assert_eq!(joined(&store, &first).await, 1);
    let second = entry(id, "General", 1, 60);
    booked(&store, &order(id, &[("General", 1)])).await;
    assert_eq!(joined(&store, &second).await, 2);

    let again = Entry {
        id: Uuid::new_v4(),
        ..first.clone()
    };
    assert_eq!(
        store.join_waitlist(&again).await.unwrap(),
        JoinResult::AlreadyIn(first.clone(), Some(1))
    );
    assert_eq!(
        store
            .join_waitlist(&entry(id, "Balcony", 1, 60))
            .await
            .unwrap(),
        JoinResult::NotOnSale
    );
    assert_eq!(
        store
            .join_waitlist(&entry(Uuid::new_v4(), "General", 1, 60))
            .await
            .unwrap(),
        JoinResult::NotOnSale
    );
    assert_eq!(status_of(&store, &first).await, first);
    assert_eq!(
        store.waitlist_of_user(id, second.user_id).await.unwrap(),
        vec![(second.clone(), Some(2))]
    );
    assert_eq!(
        store.waitlist_lengths(id).await.unwrap(),
        vec![
            TypeLength {
                ticket_type: "General".into(),
                waiting: 2,
                waiting_seats: 3,
                offered: 0,
            },
            TypeLength {
                ticket_type: "VIP".into(),
                waiting: 0,
                waiting_seats: 0,
                offered: 0,
            },
        ]
    );

    // A buyer who left may join again, behind everyone.
    let leave = EntryCommand::Leave {
        user_id: first.user_id,
    };
    assert!(matches!(
        store.settle_entry(first.id, &leave, None).await.unwrap(),
        EntryOutcome::Applied(_)
    ));
    let back = entry(id, "General", 2, 60);
    let back = Entry {
        user_id: first.user_id,
        ..back
    };
    assert_eq!(joined(&store, &back).await, 2);
}

pub(super) async fn seats_an_order_gives_back_are_held_for_the_first_entries_that_fit_in_the_same_unit(
    store: Arc<dyn TicketStore>,
) {
    let id = published(&store, &[("General", 4)]).await;
    let a = order(id, &[("General", 3)]);
    let b = order(id, &[("General", 1)]);
    booked(&store, &a).await;
    booked(&store, &b).await;
    let big = entry(id, "General", 4, 60);
    let one = entry(id, "General", 2, 60);
    let two = entry(id, "General", 1, 60);
    for e in [&big, &one, &two] {
        joined(&store, e).await;
    }
    // Three seats come back: the first entry (four) does not fit and keeps its place; the next
    // two fit (2 + 1).
    let cancelled = store
        .cancel(a.id, CancelReason::UserCancelled, Some(TP))
        .await
        .unwrap();
    assert!(matches!(cancelled, Transition::Applied(_)));
    assert_eq!(stock_of(&store, id).await, [stock("General", 4, 0, 4)]);
    assert_eq!(status_of(&store, &big).await.status, EntryStatus::Waiting);
    for e in [&one, &two] {
        let offered = status_of(&store, e).await;
        assert_eq!(offered.status, EntryStatus::Offered);
        assert!(offered.offer_expires_at.unwrap() > now());
    }
    // Nobody else can book them.
    assert_eq!(book_one_general(&store, id).await, sold_out("General", 0));
    assert_eq!(
        rows_of(&store, subjects::TICKETS_WAITLIST_OFFERED).await,
        ids_of(&[&one, &two])
    );
    assert_eq!(
        store.waitlist_lengths(id).await.unwrap()[0],
        TypeLength {
            ticket_type: "General".into(),
            waiting: 1,
            waiting_seats: 4,
            offered: 2,
        }
    );
    assert_eq!(
        store.waitlist_of_user(id, big.user_id).await.unwrap(),
        vec![(big, Some(1))]
    );
}

pub(super) async fn an_accepted_offer_becomes_a_pending_order_holding_its_seats_once(
    store: Arc<dyn TicketStore>,
) {
    let id = published(&store, &[("General", 2)]).await;
    let sold = order(id, &[("General", 2)]);
    booked(&store, &sold).await;
    let e = entry(id, "General", 2, 60);
    joined(&store, &e).await;
    // Accepting before any offer: nothing to accept.
    let early = order_for(&e);
    assert!(matches!(
        store
            .settle_entry(e.id, &EntryCommand::Accept(Box::new(early)), None)
            .await
            .unwrap(),
        EntryOutcome::NoOffer(_)
    ));
    store
        .cancel(sold.id, CancelReason::Expired, None)
        .await
        .unwrap();
    assert_eq!(stock_of(&store, id).await, [stock("General", 2, 0, 2)]);
    // An order whose booking reference is taken stores nothing, and the offer stands: the
    // caller draws another reference.
    let clash = Order {
        booking_reference: sold.booking_reference.clone(),
        ..order_for(&e)
    };
    assert!(matches!(
        store
            .settle_entry(e.id, &EntryCommand::Accept(Box::new(clash.clone())), None)
            .await,
        Err(platform::StoreError::Duplicate(_))
    ));
    assert!(store.order(clash.id).await.unwrap().is_none());
    assert_eq!(stock_of(&store, id).await, [stock("General", 2, 0, 2)]);

    let o = order_for(&e);
    let outcome = store
        .settle_entry(e.id, &EntryCommand::Accept(Box::new(o.clone())), Some(TP))
        .await
        .unwrap();
    let EntryOutcome::Applied(accepted) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(accepted.status, EntryStatus::Accepted);
    assert_eq!(accepted.order_id, Some(o.id));
    assert_eq!(status_of(&store, &e).await, accepted);
    let stored = store.order(o.id).await.unwrap().unwrap().order;
    assert_eq!(stored.status, OrderStatus::Pending);
    // The seats moved from the offer to the order: still two held, none sold.
    assert_eq!(stock_of(&store, id).await, [stock("General", 2, 0, 2)]);
    assert_eq!(
        rows_of(&store, subjects::ORDERS_CREATED)
            .await
            .iter()
            .filter(|r| **r == o.id.to_string())
            .count(),
        1
    );
    // A second accept (another order) does nothing.
    let twice = order_for(&e);
    assert!(matches!(
        store
            .settle_entry(e.id, &EntryCommand::Accept(Box::new(twice.clone())), None)
            .await
            .unwrap(),
        EntryOutcome::NoOffer(_)
    ));
    assert!(store.order(twice.id).await.unwrap().is_none());
    // Someone else's accept does not find the entry.
    let stranger = order(id, &[("General", 2)]);
    assert_eq!(
        store
            .settle_entry(e.id, &EntryCommand::Accept(Box::new(stranger)), None)
            .await
            .unwrap(),
        EntryOutcome::NotFound
    );
    // The order then lives as any: paying sells the seats.
    let paid = attempt("completed");
    confirm(&store, o.id, &paid, Uuid::new_v4(), None).await;
    assert_eq!(stock_of(&store, id).await, [stock("General", 2, 2, 0)]);
}

pub(super) async fn a_declined_or_lapsed_offer_moves_on_to_the_next_entry(
    store: Arc<dyn TicketStore>,
) {
    let id = published(&store, &[("General", 1)]).await;
    let sold = order(id, &[("General", 1)]);
    booked(&store, &sold).await;
    // The first offer runs out at once; the next ones hold for a minute.
    let first = entry(id, "General", 1, 0);
    let second = entry(id, "General", 1, 60);
    let third = entry(id, "General", 1, 60);
    for e in [&first, &second, &third] {
        joined(&store, e).await;
    }
    store
        .cancel(sold.id, CancelReason::UserCancelled, None)
        .await
        .unwrap();
    assert_eq!(status_of(&store, &first).await.status, EntryStatus::Offered);
    assert!(
        store
            .offers_due(now() - Duration::seconds(60), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.offers_due(now(), 10).await.unwrap(), vec![first.id]);
    assert_eq!(
        store.offers_due(now(), 0).await.unwrap(),
        Vec::<Uuid>::new()
    );

    // A lapsed offer can no longer be accepted; the lapse passes the seat to the second entry.
    assert!(matches!(
        store
            .settle_entry(
                first.id,
                &EntryCommand::Accept(Box::new(order_for(&first))),
                None
            )
            .await
            .unwrap(),
        EntryOutcome::Expired(_)
    ));
    let lapsed = store
        .settle_entry(first.id, &EntryCommand::Lapse, None)
        .await
        .unwrap();
    assert!(matches!(lapsed, EntryOutcome::Applied(ref e) if e.status == EntryStatus::Lapsed));
    assert_eq!(
        status_of(&store, &second).await.status,
        EntryStatus::Offered
    );
    assert_eq!(stock_of(&store, id).await, [stock("General", 1, 0, 1)]);
    // A running offer does not lapse.
    assert!(matches!(
        store
            .settle_entry(second.id, &EntryCommand::Lapse, None)
            .await
            .unwrap(),
        EntryOutcome::NoOffer(_)
    ));

    // Declining passes it to the third; leaving while offered passes it on to nobody: it is on
    // sale again.
    let decline = EntryCommand::Decline {
        user_id: second.user_id,
    };
    assert!(matches!(
        store.settle_entry(second.id, &decline, None).await.unwrap(),
        EntryOutcome::Applied(_)
    ));
    assert_eq!(status_of(&store, &third).await.status, EntryStatus::Offered);
    let leave = EntryCommand::Leave {
        user_id: third.user_id,
    };
    store.settle_entry(third.id, &leave, None).await.unwrap();
    assert_eq!(status_of(&store, &third).await.status, EntryStatus::Left);
    assert_eq!(stock_of(&store, id).await, [stock("General", 1, 0, 0)]);
    assert_eq!(
        rows_of(&store, subjects::TICKETS_WAITLIST_OFFERED).await,
        ids_of(&[&first, &second, &third])
    );
}

pub(super) async fn releases_racing_joins_and_lapses_never_oversell_nor_offer_a_seat_twice(
    store: Arc<dyn TicketStore>,
) {
    let id = published(&store, &[("General", 10)]).await;
    let orders: Vec<Order> = (0..10).map(|_| order(id, &[("General", 1)])).collect();
    for o in &orders {
        booked(&store, o).await;
    }
    let early: Vec<Entry> = (0..5).map(|_| entry(id, "General", 1, 0)).collect();
    for e in &early {
        joined(&store, e).await;
    }
    // Ten cancellations, ten more joins and repeated lapse sweeps, all at once.
    let mut tasks = Vec::new();
    for o in orders.clone() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .cancel(o.id, CancelReason::Expired, None)
                .await
                .unwrap();
        }));
    }
    for _ in 0..10 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let _ = store
                .join_waitlist(&entry(id, "General", 1, 60))
                .await
                .unwrap();
        }));
    }
    for _ in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for due in store.offers_due(now(), 100).await.unwrap() {
                store
                    .settle_entry(due, &EntryCommand::Lapse, None)
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let s = &stock_of(&store, id).await[0];
    assert!(s.sold + s.held <= s.capacity, "{s:?}");
    let lengths = &store.waitlist_lengths(id).await.unwrap()[0];
    // Every held seat is an offer's (no order is pending any more), one seat each.
    assert_eq!(s.held, lengths.offered, "{s:?} {lengths:?}");
    let offered = rows_of(&store, subjects::TICKETS_WAITLIST_OFFERED).await;
    let distinct: HashSet<&String> = offered.iter().collect();
    assert_eq!(distinct.len(), offered.len(), "an entry was offered twice");
}

pub(super) async fn with_the_waitlist_off_joining_is_refused_and_freed_seats_go_back_on_sale(
    store: Arc<dyn TicketStore>,
) {
    let id = published(&store, &[("General", 2)]).await;
    let sold = order(id, &[("General", 2)]);
    booked(&store, &sold).await;
    let waiting = entry(id, "General", 1, 60);
    joined(&store, &waiting).await;
    // The organizer turns the waitlist off.
    let off = EventInfo {
        waitlist_enabled: false,
        ..event(id, 2, &[("General", 2)])
    };
    assert!(store.apply_event(&off).await.unwrap());
    assert!(
        !store
            .event_stock(id)
            .await
            .unwrap()
            .unwrap()
            .event
            .waitlist_enabled
    );
    assert_eq!(
        store
            .join_waitlist(&entry(id, "General", 1, 60))
            .await
            .unwrap(),
        JoinResult::Off
    );
    // Seats that come back are not offered: they are on sale, and the entry keeps its place.
    store
        .cancel(sold.id, CancelReason::Expired, None)
        .await
        .unwrap();
    assert_eq!(stock_of(&store, id).await, [stock("General", 2, 0, 0)]);
    assert_eq!(status_of(&store, &waiting).await, waiting);
    assert!(
        rows_of(&store, subjects::TICKETS_WAITLIST_OFFERED)
            .await
            .is_empty()
    );
    assert_eq!(
        store.waitlist_of_user(id, waiting.user_id).await.unwrap(),
        vec![(waiting.clone(), Some(1))]
    );
    // Back on: the next seats that come free are offered to it again.
    assert!(
        store
            .apply_event(&event(id, 3, &[("General", 2)]))
            .await
            .unwrap()
    );
    let again = order(id, &[("General", 2)]);
    booked(&store, &again).await;
    store
        .cancel(again.id, CancelReason::Expired, None)
        .await
        .unwrap();
    assert_eq!(
        status_of(&store, &waiting).await.status,
        EntryStatus::Offered
    );
    assert_eq!(stock_of(&store, id).await, [stock("General", 2, 0, 1)]);
}

pub(super) async fn the_open_entries_of_a_cancelled_event_close_once_and_its_seats_go_to_nobody(
    store: Arc<dyn TicketStore>,
) {
    // Given a sold-out event with an offer out and an entry behind it, and another event's line
    let id = published(&store, &[("General", 2)]).await;
    let other = published(&store, &[("General", 1)]).await;
    let first = order(id, &[("General", 1)]);
    booked(&store, &first).await;
    booked(&store, &order(id, &[("General", 1)])).await;
    booked(&store, &order(other, &[("General", 1)])).await;
    let offered = entry(id, "General", 1, 60);
    let behind = entry(id, "General", 1, 60);
    let elsewhere = entry(other, "General", 1, 60);
    for e in [&offered, &behind, &elsewhere] {
        joined(&store, e).await;
    }
    store
        .cancel(first.id, CancelReason::UserCancelled, None)
        .await
        .unwrap();
    assert_eq!(
        status_of(&store, &offered).await.status,
        EntryStatus::Offered
    );
    assert!(store.entries_to_close(10).await.unwrap().is_empty());

    // When the event is cancelled
    cancel_event(&store, id).await;

    // Then its open entries are listed, and only they
    let mut listed = store.entries_to_close(10).await.unwrap();
    listed.sort();
    let mut open = vec![offered.id, behind.id];
    open.sort();
    assert_eq!(listed, open);
    assert_eq!(store.entries_to_close(1).await.unwrap().len(), 1);
    // Closing the offered entry gives its held seat back, and nobody is offered it
    let closed = store
        .settle_entry(offered.id, &EntryCommand::Close, None)
        .await
        .unwrap();
    let EntryOutcome::Applied(closed) = closed else {
        panic!("not closed: {closed:?}")
    };
    assert_eq!(closed.status, EntryStatus::EventCancelled);
    assert_eq!(status_of(&store, &offered).await, closed);
    assert_eq!(stock_of(&store, id).await, [stock("General", 2, 0, 1)]);
    assert_eq!(
        status_of(&store, &behind).await.status,
        EntryStatus::Waiting
    );
    // Replicas racing to close the waiting entry close it once
    let racing: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .settle_entry(behind.id, &EntryCommand::Close, None)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut applied = 0;
    for task in racing {
        match task.await.unwrap() {
            EntryOutcome::Applied(e) => {
                assert_eq!(e.status, EntryStatus::EventCancelled);
                applied += 1;
            }
            EntryOutcome::Ended(_) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(applied, 1);
    assert!(store.entries_to_close(10).await.unwrap().is_empty());
    // Closing again (a redelivered cancellation, another replica) changes nothing
    let again = store
        .settle_entry(offered.id, &EntryCommand::Close, None)
        .await
        .unwrap();
    assert_eq!(again, EntryOutcome::Ended(closed));
    assert_eq!(stock_of(&store, id).await, [stock("General", 2, 0, 1)]);
    assert_eq!(
        rows_of(&store, subjects::TICKETS_WAITLIST_OFFERED).await,
        ids_of(&[&offered])
    );
    // Each closed entry published one `tickets.waitlist_closed`, saying whether it held an offer
    assert_eq!(
        rows_of(&store, subjects::TICKETS_WAITLIST_CLOSED).await,
        ids_of(&[&offered, &behind])
    );
    let mut told = closed_facts(&store).await;
    told.sort_by_key(|c| c.place.entry_id);
    let mut expected = vec![(offered.id, true), (behind.id, false)];
    expected.sort();
    let got: Vec<(Uuid, bool)> = told
        .iter()
        .map(|c| (c.place.entry_id, c.held_offer))
        .collect();
    assert_eq!(got, expected);
    assert!(
        told.iter()
            .all(|c| c.place.event_id == id && c.place.email == "ada@example.com")
    );
    // The buyer sees the entry ended, and may not join the dead event's line again
    assert_eq!(
        store.waitlist_of_user(id, behind.user_id).await.unwrap()[0]
            .0
            .status,
        EntryStatus::EventCancelled
    );
    let back = Entry {
        id: Uuid::new_v4(),
        ..behind.clone()
    };
    assert_eq!(
        store.join_waitlist(&back).await.unwrap(),
        JoinResult::NotOnSale
    );
    assert_eq!(
        status_of(&store, &elsewhere).await.status,
        EntryStatus::Waiting
    );
}
