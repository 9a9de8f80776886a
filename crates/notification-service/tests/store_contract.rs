//! One contract for every notification store adapter: SQLite always, MongoDB when
//! `TEST_MONGODB_URI` names a replica set (recording a fact is a transaction).

use std::sync::Arc;

use api_types::notifications::NotificationKind;
use chrono::{DateTime, Duration, Utc};
use contracts::orders::CancelReason;
use notification_service::domain::{
    EventRecord, FactRecord, Letter, Mail, MailKey, MailState, OrderRecord, OrderStatus, Recorded,
};
use notification_service::store::{MongoStore, NotificationStore, SqliteStore};
use notification_service::testing::{event_published, order_created};
use uuid::Uuid;

type Store = Arc<dyn NotificationStore>;

fn now() -> DateTime<Utc> {
    platform::time::now()
}

fn event(version: u64) -> EventRecord {
    let e = event_published("Jazz Night", "2030-03-17T18:00:00Z".parse().unwrap());
    EventRecord {
        version,
        ..notification_service::plan::event_record(e.event_id, e.version, &e.details)
    }
}

fn order(event_id: Uuid, expires_at: DateTime<Utc>) -> OrderRecord {
    let mut e = event_published("Jazz Night", "2030-03-17T18:00:00Z".parse().unwrap());
    e.event_id = event_id;
    let o = order_created(&e, Uuid::now_v7(), "ada@example.com", 2, expires_at);
    OrderRecord {
        id: o.order_id,
        user_id: o.user_id,
        event_id,
        booking_reference: o.booking_reference,
        customer: o.customer,
        lines: o.lines,
        total: o.total_amount,
        expires_at,
        status: OrderStatus::Pending,
        cancel_reason: None,
        paid: false,
    }
}

fn mail(fact_id: &str, recipient: &str, user_id: Uuid) -> Mail {
    Mail {
        key: MailKey {
            fact_id: fact_id.into(),
            recipient: recipient.into(),
        },
        user_id,
        kind: NotificationKind::OrderConfirmed,
        letter: Letter {
            name: "Ada Lovelace".into(),
            first_name: "Ada".into(),
            event: Some(event(1)),
            booking_references: vec!["TK-1".into()],
            expires_at: Some(now()),
            cancel_reason: Some(CancelReason::Expired),
            ..Letter::default()
        },
        state: MailState::Pending,
        created_at: now(),
    }
}

fn fact(id: &str) -> FactRecord {
    FactRecord {
        fact_id: id.into(),
        subject: "test".into(),
        at: now(),
        event: None,
        order: None,
        mails: Vec::new(),
    }
}

async fn record_event(store: &Store, e: &EventRecord) {
    let fact = FactRecord {
        event: Some(e.clone()),
        ..fact(&Uuid::now_v7().to_string())
    };
    store.record(&fact).await.unwrap();
}

async fn record_order(store: &Store, o: &OrderRecord) {
    let fact = FactRecord {
        order: Some(o.clone()),
        ..fact(&Uuid::now_v7().to_string())
    };
    store.record(&fact).await.unwrap();
}

async fn record_mails(store: &Store, fact_id: &str, mails: &[&Mail]) {
    let fact = FactRecord {
        mails: mails.iter().map(|m| (*m).clone()).collect(),
        ..fact(fact_id)
    };
    store.record(&fact).await.unwrap();
}

async fn a_fact_is_recorded_once_with_its_projection_and_mails(store: Store) {
    let e = event(1);
    let o = order(e.id, now() + Duration::minutes(15));
    let m = mail("f1", "ada@example.com", o.user_id);
    let record = FactRecord {
        event: Some(e.clone()),
        order: Some(o.clone()),
        mails: vec![m.clone()],
        ..fact("f1")
    };
    assert_eq!(store.record(&record).await.unwrap(), Recorded::Applied);
    assert_eq!(store.event(e.id).await.unwrap(), Some(e.clone()));
    assert_eq!(store.order(o.id).await.unwrap(), Some(o.clone()));
    assert_eq!(
        store.unsent(Some("f1"), now(), 10).await.unwrap(),
        vec![m.clone()]
    );

    // The same fact id again changes nothing, whatever it carries.
    let changed = FactRecord {
        order: Some(OrderRecord {
            status: OrderStatus::Confirmed,
            ..o.clone()
        }),
        mails: vec![mail("f1", "bob@example.com", o.user_id)],
        ..fact("f1")
    };
    assert_eq!(store.record(&changed).await.unwrap(), Recorded::Duplicate);
    assert_eq!(store.order(o.id).await.unwrap(), Some(o));
    assert_eq!(store.unsent(Some("f1"), now(), 10).await.unwrap().len(), 1);
}

async fn an_older_event_version_never_replaces_a_newer_one(store: Store) {
    let v2 = EventRecord {
        title: "Jazz Night II".into(),
        ..event(2)
    };
    let v1 = EventRecord {
        id: v2.id,
        ..event(1)
    };
    record_event(&store, &v2).await;
    record_event(&store, &v1).await;
    assert_eq!(store.event(v2.id).await.unwrap(), Some(v2.clone()));
    let v3 = EventRecord {
        version: 3,
        cancelled: true,
        ..v2.clone()
    };
    record_event(&store, &v3).await;
    assert_eq!(store.event(v2.id).await.unwrap(), Some(v3));
}

async fn an_order_is_replaced_by_its_next_state(store: Store) {
    let o = order(Uuid::now_v7(), now());
    record_order(&store, &o).await;
    let cancelled = OrderRecord {
        status: OrderStatus::Cancelled,
        cancel_reason: Some(CancelReason::EventCancelled),
        paid: true,
        customer: None,
        ..o.clone()
    };
    record_order(&store, &cancelled).await;
    assert_eq!(store.order(o.id).await.unwrap(), Some(cancelled));
    assert_eq!(store.order(Uuid::now_v7()).await.unwrap(), None);
}

async fn paid_orders_of_an_event_are_found_and_no_others(store: Store) {
    let event_id = Uuid::now_v7();
    let paid = OrderRecord {
        paid: true,
        status: OrderStatus::Confirmed,
        ..order(event_id, now())
    };
    let unpaid = order(event_id, now());
    let elsewhere = OrderRecord {
        paid: true,
        ..order(Uuid::now_v7(), now())
    };
    for o in [&paid, &unpaid, &elsewhere] {
        record_order(&store, o).await;
    }
    assert_eq!(
        store.paid_orders_of_event(event_id).await.unwrap(),
        vec![paid]
    );
}

async fn holds_ending_in_a_window_are_the_pending_ones_soonest_first(store: Store) {
    let t = now();
    let event_id = Uuid::now_v7();
    let soon = order(event_id, t + Duration::minutes(2));
    let sooner = order(event_id, t + Duration::minutes(1));
    let later = order(event_id, t + Duration::minutes(20));
    let past = order(event_id, t - Duration::minutes(1));
    let paid = OrderRecord {
        status: OrderStatus::Confirmed,
        paid: true,
        ..order(event_id, t + Duration::minutes(1))
    };
    for o in [&soon, &sooner, &later, &past, &paid] {
        record_order(&store, o).await;
    }
    let found = store
        .holds_ending(t, t + Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(found, vec![sooner, soon]);
}

async fn a_mail_is_claimed_by_one_sender_until_its_claim_goes_stale(store: Store) {
    let m = mail("f", "ada@example.com", Uuid::now_v7());
    record_mails(&store, "f", &[&m]).await;
    let t = now();
    assert!(
        store
            .claim(&m.key, t, t - Duration::seconds(60))
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim(&m.key, t, t - Duration::seconds(60))
            .await
            .unwrap(),
        "claimed already"
    );
    let unsent = store.unsent(Some("f"), t, 10).await.unwrap();
    assert_eq!(unsent[0].state, MailState::Sending { claimed_at: t });
    // Its sender died: a later try takes the stale claim over.
    let later = t + Duration::seconds(61);
    assert!(
        store
            .claim(&m.key, later, later - Duration::seconds(60))
            .await
            .unwrap()
    );
}

async fn a_sent_mail_is_never_claimed_again_and_is_listed_for_its_user(store: Store) {
    let user = Uuid::now_v7();
    let first = mail("f1", "ada@example.com", user);
    let second = Mail {
        kind: NotificationKind::PaymentDeclined,
        ..mail("f2", "ada@example.com", user)
    };
    let other = mail("f3", "bob@example.com", Uuid::now_v7());
    record_mails(&store, "f", &[&first, &second, &other]).await;
    let t = now();
    for (m, at) in [
        (&first, t),
        (&second, t + Duration::seconds(1)),
        (&other, t),
    ] {
        assert!(
            store
                .claim(&m.key, at, at - Duration::seconds(60))
                .await
                .unwrap()
        );
        store.mark_sent(&m.key, "Subject", at).await.unwrap();
    }
    let far = t + Duration::days(1);
    assert!(!store.claim(&first.key, far, far).await.unwrap());
    assert!(store.unsent(None, far, 10).await.unwrap().is_empty());
    let listed = store.sent_to(user, 10).await.unwrap();
    let kinds: Vec<_> = listed.iter().map(|m| m.kind).collect();
    assert_eq!(
        kinds,
        [
            NotificationKind::PaymentDeclined,
            NotificationKind::OrderConfirmed
        ]
    );
    assert_eq!(
        listed[0].state,
        MailState::Sent {
            at: t + Duration::seconds(1),
            subject: "Subject".into()
        }
    );
    assert_eq!(listed[0].letter, second.letter);
    assert_eq!(store.sent_to(user, 1).await.unwrap().len(), 1);
}

async fn a_released_mail_is_pending_again_and_a_failed_one_is_done(store: Store) {
    let a = mail("f", "ada@example.com", Uuid::now_v7());
    let b = mail("f", "bob@example.com", Uuid::now_v7());
    record_mails(&store, "f", &[&a, &b]).await;
    let t = now();
    let stale = t - Duration::seconds(60);
    assert!(store.claim(&a.key, t, stale).await.unwrap());
    store.release(&a.key).await.unwrap();
    assert!(
        store.claim(&a.key, t, stale).await.unwrap(),
        "claimable again at once"
    );
    assert!(store.claim(&b.key, t, stale).await.unwrap());
    store
        .mark_failed(&b.key, "550 no such mailbox")
        .await
        .unwrap();
    let far = t + Duration::days(1);
    assert!(!store.claim(&b.key, far, far).await.unwrap());
    let unsent = store.unsent(Some("f"), t, 10).await.unwrap();
    assert_eq!(unsent.len(), 1);
    assert_eq!(unsent[0].key, a.key);
}

async fn unsent_mails_of_any_fact_are_those_recorded_before_a_time(store: Store) {
    let t = now();
    let old = Mail {
        created_at: t - Duration::seconds(10),
        ..mail("old", "ada@example.com", Uuid::now_v7())
    };
    let new = Mail {
        created_at: t,
        ..mail("new", "ada@example.com", Uuid::now_v7())
    };
    record_mails(&store, "old", &[&old]).await;
    record_mails(&store, "new", &[&new]).await;
    let before = store
        .unsent(None, t - Duration::seconds(5), 10)
        .await
        .unwrap();
    assert_eq!(before, vec![old.clone()]);
    assert_eq!(
        store.unsent(None, t, 10).await.unwrap(),
        vec![old.clone(), new]
    );
    assert_eq!(store.unsent(None, t, 1).await.unwrap(), vec![old]);
}

async fn the_store_answers_a_ping(store: Store) {
    store.ping().await.unwrap();
}

platform::store_contract! {
    store: dyn NotificationStore,
    sqlite: SqliteStore::in_memory(),
    mongodb: MongoStore::connect,
    cases: [
        a_fact_is_recorded_once_with_its_projection_and_mails,
        an_older_event_version_never_replaces_a_newer_one,
        an_order_is_replaced_by_its_next_state,
        paid_orders_of_an_event_are_found_and_no_others,
        holds_ending_in_a_window_are_the_pending_ones_soonest_first,
        a_mail_is_claimed_by_one_sender_until_its_claim_goes_stale,
        a_sent_mail_is_never_claimed_again_and_is_listed_for_its_user,
        a_released_mail_is_pending_again_and_a_failed_one_is_done,
        unsent_mails_of_any_fact_are_those_recorded_before_a_time,
        the_store_answers_a_ping,
    ],
}
