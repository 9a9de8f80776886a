//! One contract for every event store adapter: SQLite always, MongoDB as well when
//! `TEST_MONGODB_URI` is set (each run in a fresh database).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use contracts::Envelope;
use event_service::domain::{Category, Event, QueueSettings, RefundPolicy, SaleStart, Status};
use event_service::store::{CatalogFilter, EventStore, MongoStore, SqliteStore};
use platform::outbox::OutboxMessage;
use uuid::Uuid;

use crate::support::stored_event;

fn ms(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap()
}

fn event(starts_in: Duration) -> Event {
    stored_event(
        Uuid::new_v4(),
        Status::Published,
        ms(Utc::now() + starts_in),
    )
}

fn fact(e: &Event) -> OutboxMessage {
    let envelope = Envelope::new(
        "catalog.events.published",
        "test",
        Some(e.id.to_string()),
        e.version,
    );
    OutboxMessage::from_envelope(&envelope).unwrap()
}

fn all(page: u32, limit: u32) -> CatalogFilter {
    CatalogFilter {
        page,
        limit,
        ..CatalogFilter::default()
    }
}

async fn events_round_trip_unchanged(store: Arc<dyn EventStore>) {
    let mut e = event(Duration::days(3));
    e.description = "Ünïcödé & \"quotes\"".into();
    e.organizer.phone = Some("+1 555 0100".into());
    e.ticket_types.push(event_service::domain::TicketType {
        name: "VIP".into(),
        price: platform::money::Money::from_minor_units(12_345, e.currency),
        quantity: 5,
        description: "Front row".into(),
    });
    store.insert(&e, None).await.unwrap();
    assert_eq!(store.get(e.id).await.unwrap().as_ref(), Some(&e));
    assert_eq!(store.get(Uuid::new_v4()).await.unwrap(), None);
    assert_eq!(store.count().await.unwrap(), 1);
    store.ping().await.unwrap();
}

async fn a_write_and_its_fact_are_stored_together_or_not_at_all(store: Arc<dyn EventStore>) {
    let e = event(Duration::days(3));
    let f = fact(&e);
    store.insert(&e, Some(&f)).await.unwrap();
    assert_eq!(store.outbox().pending(10).await.unwrap(), vec![f.clone()]);

    // The same id again fails, and its fact is rolled back with it.
    let again = fact(&e);
    assert!(store.insert(&e, Some(&again)).await.is_err());
    assert_eq!(store.outbox().pending(10).await.unwrap(), vec![f.clone()]);
    store.outbox().mark_published(&[f.id]).await.unwrap();
    assert!(store.outbox().pending(10).await.unwrap().is_empty());
}

async fn a_replace_only_succeeds_against_the_version_it_read(store: Arc<dyn EventStore>) {
    let e = event(Duration::days(3));
    store.insert(&e, None).await.unwrap();
    let mut changed = e.clone();
    changed.title = "Changed".into();
    changed.touch(ms(Utc::now()));
    let f = fact(&changed);
    assert!(store.replace(&changed, 1, Some(&f)).await.unwrap());
    assert_eq!(store.get(e.id).await.unwrap().unwrap(), changed);

    // A writer that still holds version 1 loses, and its fact is not stored.
    let mut stale = e.clone();
    stale.title = "Stale".into();
    stale.touch(ms(Utc::now()));
    let lost = fact(&stale);
    assert!(!store.replace(&stale, 1, Some(&lost)).await.unwrap());
    assert_eq!(store.get(e.id).await.unwrap().unwrap().title, "Changed");
    assert_eq!(store.outbox().pending(10).await.unwrap(), vec![f]);
    // Unknown events are never created by a replace.
    assert!(
        !store
            .replace(&event(Duration::days(1)), 1, None)
            .await
            .unwrap()
    );
}

async fn the_catalog_filters_sorts_and_pages_like_the_api_promises(store: Arc<dyn EventStore>) {
    let mut jazz = event(Duration::days(5));
    jazz.title = "Late Jazz".into();
    jazz.venue.city = "New York".into();
    let mut talk = event(Duration::days(2));
    talk.title = "Keynote".into();
    talk.description = "All about JAZZ history".into();
    talk.category = Category::Conference;
    let mut twin = event(Duration::days(5));
    twin.date_time = jazz.date_time;
    let mut draft = event(Duration::days(1));
    draft.status = Status::Draft;
    let mut cancelled = event(Duration::days(1));
    cancelled.status = Status::Cancelled;
    let mut inactive = event(Duration::days(1));
    inactive.is_active = false;
    let mut over = event(Duration::hours(-2));
    over.duration = 60;
    for e in [&jazz, &talk, &twin, &draft, &cancelled, &inactive, &over] {
        store.insert(e, None).await.unwrap();
    }
    let now = Utc::now();
    let ids =
        |p: &event_service::store::CatalogPage| p.events.iter().map(|e| e.id).collect::<Vec<_>>();
    let (first_twin, second_twin) = if jazz.id < twin.id {
        (jazz.id, twin.id)
    } else {
        (twin.id, jazz.id)
    };

    let page = store.catalog(&all(1, 20), now).await.unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(ids(&page), [talk.id, first_twin, second_twin]);

    let page = store.catalog(&all(2, 2), now).await.unwrap();
    assert_eq!((ids(&page), page.total), (vec![second_twin], 3));
    let page = store.catalog(&all(3, 2), now).await.unwrap();
    assert_eq!((ids(&page), page.total), (vec![], 3));

    // Each filter and the events it keeps, in catalogue order.
    let base = all(1, 20);
    let kept: [(CatalogFilter, Vec<Uuid>); 7] = [
        (
            CatalogFilter {
                category: Some(Category::Conference),
                ..base.clone()
            },
            vec![talk.id],
        ),
        (
            CatalogFilter {
                city: Some("new york".into()),
                ..base.clone()
            },
            vec![jazz.id],
        ),
        (
            CatalogFilter {
                q: Some("jazz".into()),
                ..base.clone()
            },
            vec![talk.id, jazz.id],
        ),
        (
            CatalogFilter {
                q: Some("j.zz".into()),
                ..base.clone()
            },
            vec![],
        ),
        (
            CatalogFilter {
                from: Some(jazz.date_time),
                ..base.clone()
            },
            vec![first_twin, second_twin],
        ),
        (
            CatalogFilter {
                to: Some(talk.date_time),
                ..base.clone()
            },
            vec![talk.id],
        ),
        (
            CatalogFilter {
                q: Some("jazz".into()),
                city: Some("new york".into()),
                category: Some(Category::Music),
                from: Some(talk.date_time),
                to: Some(jazz.date_time),
                ..base.clone()
            },
            vec![jazz.id],
        ),
    ];
    for (filter, expected) in kept {
        let page = store.catalog(&filter, now).await.unwrap();
        assert_eq!(ids(&page), expected, "{filter:?}");
    }
}

async fn a_refund_policy_is_kept_by_every_write_and_read(store: Arc<dyn EventStore>) {
    let mut e = event(Duration::days(3));
    e.refund_policy = RefundPolicy {
        allowed: true,
        until_hours_before: 8_760,
    };
    store.insert(&e, None).await.unwrap();
    assert_eq!(
        store.get(e.id).await.unwrap().unwrap().refund_policy,
        e.refund_policy
    );
    let listed = store.catalog(&all(1, 20), Utc::now()).await.unwrap();
    assert_eq!(listed.events, [e.clone()]);
    assert_eq!(store.created_by(e.created_by).await.unwrap(), [e.clone()]);

    let mut changed = e.clone();
    changed.refund_policy = RefundPolicy {
        allowed: false,
        until_hours_before: 12,
    };
    changed.touch(ms(Utc::now()));
    assert!(store.replace(&changed, 1, None).await.unwrap());
    assert_eq!(store.get(e.id).await.unwrap(), Some(changed));
}

async fn an_on_sale_moment_and_its_queue_are_kept_by_every_write_and_read(
    store: Arc<dyn EventStore>,
) {
    let mut e = event(Duration::days(3));
    e.sale = SaleStart {
        on_sale_at: Some(ms(Utc::now() + Duration::days(1))),
        queue: QueueSettings {
            enabled: true,
            admit_per_minute: 250,
        },
    };
    store.insert(&e, None).await.unwrap();
    assert_eq!(store.get(e.id).await.unwrap(), Some(e.clone()));

    let mut cleared = e.clone();
    cleared.sale = SaleStart::default();
    cleared.touch(ms(Utc::now()));
    assert!(store.replace(&cleared, 1, None).await.unwrap());
    assert_eq!(store.get(e.id).await.unwrap(), Some(cleared));
}

async fn the_waitlist_switch_is_kept_by_every_write_and_read(store: Arc<dyn EventStore>) {
    let mut e = event(Duration::days(3));
    e.waitlist_enabled = false;
    store.insert(&e, None).await.unwrap();
    assert_eq!(store.get(e.id).await.unwrap(), Some(e.clone()));

    let mut back_on = e.clone();
    back_on.waitlist_enabled = true;
    back_on.touch(ms(Utc::now()));
    assert!(store.replace(&back_on, 1, None).await.unwrap());
    assert_eq!(store.get(e.id).await.unwrap(), Some(back_on));
}

async fn a_creators_events_come_newest_first_in_every_status(store: Arc<dyn EventStore>) {
    let owner = Uuid::new_v4();
    let mut made = Vec::new();
    for (i, status) in [Status::Published, Status::Draft, Status::Cancelled]
        .into_iter()
        .enumerate()
    {
        let mut e = stored_event(owner, status, ms(Utc::now() + Duration::days(1)));
        e.created_at = ms(Utc::now() - Duration::hours(10 - i as i64));
        store.insert(&e, None).await.unwrap();
        made.push(e.id);
    }
    store.insert(&event(Duration::days(1)), None).await.unwrap();
    made.reverse();
    let mine: Vec<Uuid> = store
        .created_by(owner)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(mine, made);
    assert!(store.created_by(Uuid::new_v4()).await.unwrap().is_empty());
}

async fn a_staff_list_is_saved_with_its_fact_only_against_the_version_it_read(
    store: Arc<dyn EventStore>,
) {
    use event_service::staff::{self, Roster};
    let e = event(Duration::days(3));
    store.insert(&e, None).await.unwrap();
    assert_eq!(store.staff(e.id).await.unwrap(), Roster::default());
    let at = ms(Utc::now());
    let one = staff::add(&Roster::default(), "a@x.org", at)
        .unwrap()
        .unwrap();
    let f1 = fact(&e);
    assert!(store.save_staff(e.id, &one, 0, &f1).await.unwrap());
    assert_eq!(store.staff(e.id).await.unwrap(), one);

    // Another first list, read before the one above was saved, loses with its fact.
    let other = staff::add(&Roster::default(), "b@x.org", at)
        .unwrap()
        .unwrap();
    assert!(!store.save_staff(e.id, &other, 0, &fact(&e)).await.unwrap());
    let two = staff::add(&one, "b@x.org", at).unwrap().unwrap();
    let f2 = fact(&e);
    assert!(store.save_staff(e.id, &two, 1, &f2).await.unwrap());
    let stale = staff::remove(&one, "a@x.org").unwrap();
    assert!(!store.save_staff(e.id, &stale, 1, &fact(&e)).await.unwrap());
    assert_eq!(store.staff(e.id).await.unwrap(), two);
    assert_eq!(store.outbox().pending(10).await.unwrap(), vec![f1, f2]);
    assert_eq!(
        store.staff(Uuid::new_v4()).await.unwrap(),
        Roster::default()
    );
}

platform::store_contract! {
    store: dyn EventStore,
    sqlite: SqliteStore::in_memory(),
    mongodb: MongoStore::connect,
    cases: [
        events_round_trip_unchanged,
        a_write_and_its_fact_are_stored_together_or_not_at_all,
        a_replace_only_succeeds_against_the_version_it_read,
        the_catalog_filters_sorts_and_pages_like_the_api_promises,
        a_creators_events_come_newest_first_in_every_status,
        a_refund_policy_is_kept_by_every_write_and_read,
        an_on_sale_moment_and_its_queue_are_kept_by_every_write_and_read,
        the_waitlist_switch_is_kept_by_every_write_and_read,
        a_staff_list_is_saved_with_its_fact_only_against_the_version_it_read,
    ],
}
