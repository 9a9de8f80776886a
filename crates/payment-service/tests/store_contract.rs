//! One contract for every payment store adapter: SQLite always, MongoDB when `TEST_MONGODB_URI`
//! names a replica set (transactions need one).

use std::sync::Arc;

use chrono::Duration;
use contracts::orders::CancelReason;
use payment_service::domain::{
    GatewayResponse, OrderRecord, OrderSource, OrderStatus, PaymentStatus,
};
use payment_service::gateway::Charge;
use payment_service::idempotency::{ClaimOutcome, KeyClaim, KeyRef, StoredResponse};
use payment_service::store::{
    FactApplied, Inserted, MongoStore, OrderFact, PaymentStore, Settle, SqliteStore,
};
use payment_service::testing::{new_payment, pending_order, processing_payment};
use uuid::Uuid;

const TP: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

fn charge(approved: bool) -> Charge {
    Charge {
        approved,
        response: GatewayResponse {
            transaction_id: format!("txn_{}", Uuid::new_v4().simple()),
            response_code: if approved {
                "approved"
            } else {
                "card_declined"
            }
            .into(),
            response_message: "test".into(),
        },
    }
}

fn settle(payment_id: Uuid, approved: bool, key: Option<KeyRef>) -> Settle {
    Settle {
        payment_id,
        charge: charge(approved),
        at: platform::time::now(),
        traceparent: TP.into(),
        key,
    }
}

fn fact(order: &OrderRecord) -> OrderFact {
    OrderFact {
        event_id: Uuid::now_v7(),
        subject: "orders.test".into(),
        order: order.clone(),
        at: platform::time::now(),
        traceparent: TP.into(),
    }
}

fn cancellation(order: &OrderRecord) -> OrderFact {
    let mut cancelled = order.clone();
    cancelled.status = OrderStatus::Cancelled;
    cancelled.cancel_reason = Some(CancelReason::UserCancelled);
    cancelled.amount = None;
    fact(&cancelled)
}

async fn outbox_subjects(store: &Arc<dyn PaymentStore>) -> Vec<String> {
    store
        .outbox()
        .pending(100)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.subject)
        .collect()
}

/// A new buyer's pending order of `minor_units` cents, as the store remembers it.
async fn remembered(store: &Arc<dyn PaymentStore>, minor_units: i64) -> OrderRecord {
    let order = pending_order(Uuid::new_v4(), minor_units);
    store.remember_order(&order).await.unwrap()
}

async fn a_payment_round_trips_and_only_one_per_order_holds_it(store: Arc<dyn PaymentStore>) {
    let order = remembered(&store, 2550).await;
    let first = new_payment(&order);
    assert_eq!(
        store.insert_payment(&first).await.unwrap(),
        Inserted::Inserted
    );
    assert_eq!(store.payment(first.id).await.unwrap().unwrap(), first);

    let second = new_payment(&order);
    assert_eq!(
        store.insert_payment(&second).await.unwrap(),
        Inserted::OrderHeld(Box::new(first.clone()))
    );

    // A failed payment frees the order for the next attempt.
    let processing = store
        .begin_processing(first.id, platform::time::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(processing.status, PaymentStatus::Processing);
    assert!(
        store
            .begin_processing(first.id, platform::time::now())
            .await
            .unwrap()
            .is_none(),
        "only a pending payment starts processing"
    );
    let failed = store.settle(&settle(first.id, false, None)).await.unwrap();
    assert_eq!(failed.payment.status, PaymentStatus::Failed);
    assert_eq!(
        store.insert_payment(&second).await.unwrap(),
        Inserted::Inserted
    );
    let all = store.payments_for_order(order.id).await.unwrap();
    assert_eq!(
        all.iter().map(|p| p.id).collect::<Vec<_>>(),
        [first.id, second.id]
    );
}

async fn concurrent_inserts_for_one_order_let_exactly_one_through(store: Arc<dyn PaymentStore>) {
    let order = remembered(&store, 100).await;
    let attempts = (0..10).map(|_| {
        let store = store.clone();
        let payment = new_payment(&order);
        tokio::spawn(async move { store.insert_payment(&payment).await.unwrap() })
    });
    let results = futures::future::join_all(attempts).await;
    let inserted = results
        .into_iter()
        .filter(|r| matches!(r.as_ref().unwrap(), Inserted::Inserted))
        .count();
    assert_eq!(inserted, 1);
}

async fn settling_stores_the_result_its_event_and_the_key_answer_together(
    store: Arc<dyn PaymentStore>,
) {
    let order = remembered(&store, 2550).await;
    let key = KeyRef {
        user_id: order.user_id,
        key: "k-1".into(),
    };
    let now = platform::time::now();
    let claim = KeyClaim {
        user_id: order.user_id,
        key: key.key.clone(),
        fingerprint: "fp".into(),
        at: now,
        stale_before: now - Duration::seconds(60),
    };
    assert_eq!(
        store.claim_key(&claim).await.unwrap(),
        ClaimOutcome::Claimed
    );

    let payment = processing_payment(store.as_ref(), &order).await;
    let settled = store
        .settle(&settle(payment.id, true, Some(key.clone())))
        .await
        .unwrap();
    assert_eq!(settled.payment.status, PaymentStatus::Completed);
    assert_eq!(settled.order_status, Some(OrderStatus::Pending));
    let response = settled.response.expect("an answer for the key");
    assert_eq!(response.status, 201);
    assert_eq!(
        store.payment(payment.id).await.unwrap().unwrap(),
        settled.payment
    );
    assert_eq!(
        store.claim_key(&claim).await.unwrap(),
        ClaimOutcome::Replay(response)
    );
    assert_eq!(outbox_subjects(&store).await, ["payments.completed"]);
    let msg = &store.outbox().pending(10).await.unwrap()[0];
    assert_eq!(msg.traceparent.as_deref(), Some(TP));

    // Settling twice changes nothing.
    let again = store
        .settle(&settle(payment.id, false, None))
        .await
        .unwrap();
    assert_eq!(again.payment.status, PaymentStatus::Completed);
    assert_eq!(outbox_subjects(&store).await, ["payments.completed"]);
}

async fn the_outbox_backlog_counts_unpublished_facts_and_names_the_oldest(
    store: Arc<dyn PaymentStore>,
) {
    let outbox = store.outbox();
    assert_eq!(outbox.backlog().await.unwrap(), Default::default());
    let order = remembered(&store, 2550).await;
    let payment = processing_payment(store.as_ref(), &order).await;
    store.settle(&settle(payment.id, true, None)).await.unwrap();
    let pending = outbox.pending(10).await.unwrap();
    let backlog = outbox.backlog().await.unwrap();
    assert_eq!(backlog.messages, pending.len() as u64);
    assert!(backlog.messages >= 1);
    assert_eq!(backlog.oldest, Some(pending[0].created_at));

    let ids: Vec<Uuid> = pending.iter().map(|m| m.id).collect();
    outbox.mark_published(&ids).await.unwrap();
    assert_eq!(outbox.backlog().await.unwrap(), Default::default());
}

async fn a_payment_settling_for_a_cancelled_order_is_refunded_in_the_same_step(
    store: Arc<dyn PaymentStore>,
) {
    let order = remembered(&store, 2550).await;
    let payment = processing_payment(store.as_ref(), &order).await;
    store.apply_order_fact(&cancellation(&order)).await.unwrap();
    let settled = store.settle(&settle(payment.id, true, None)).await.unwrap();
    assert_eq!(settled.payment.status, PaymentStatus::Refunded);
    assert_eq!(settled.order_status, Some(OrderStatus::Cancelled));
    let refund = settled.payment.refund.clone().unwrap();
    assert_eq!(
        refund.order_cancel_reason,
        Some(CancelReason::UserCancelled)
    );
    assert_eq!(
        outbox_subjects(&store).await,
        ["payments.completed", "payments.refunded"]
    );
    assert_eq!(
        store.payment(payment.id).await.unwrap().unwrap(),
        settled.payment
    );
}

async fn an_order_fact_is_applied_once_and_a_cancellation_refunds_once(
    store: Arc<dyn PaymentStore>,
) {
    let order = pending_order(Uuid::new_v4(), 990);
    let created = fact(&order);
    assert_eq!(
        store.apply_order_fact(&created).await.unwrap(),
        FactApplied::Applied { refunded: vec![] }
    );
    assert_eq!(
        store.apply_order_fact(&created).await.unwrap(),
        FactApplied::Duplicate
    );
    assert_eq!(
        store.order(order.id).await.unwrap().unwrap().amount,
        order.amount
    );

    let payment = processing_payment(store.as_ref(), &order).await;
    store.settle(&settle(payment.id, true, None)).await.unwrap();

    let cancelled = cancellation(&order);
    let FactApplied::Applied { refunded } = store.apply_order_fact(&cancelled).await.unwrap()
    else {
        panic!("the cancellation is new");
    };
    assert_eq!(refunded.len(), 1);
    assert_eq!(refunded[0].id, payment.id);
    assert_eq!(refunded[0].status, PaymentStatus::Refunded);
    assert_eq!(
        store.apply_order_fact(&cancelled).await.unwrap(),
        FactApplied::Duplicate
    );
    // Another cancellation fact for the same order refunds nothing more.
    assert_eq!(
        store.apply_order_fact(&cancellation(&order)).await.unwrap(),
        FactApplied::Applied { refunded: vec![] }
    );
    assert_eq!(
        outbox_subjects(&store).await,
        ["payments.completed", "payments.refunded"]
    );
    let stored = store.payment(payment.id).await.unwrap().unwrap();
    assert_eq!(stored.status, PaymentStatus::Refunded);
}

async fn facts_arriving_out_of_order_end_in_the_same_projection(store: Arc<dyn PaymentStore>) {
    let order = pending_order(Uuid::new_v4(), 990);
    // The cancellation overtakes the creation: the order stays cancelled, with its amount.
    store.apply_order_fact(&cancellation(&order)).await.unwrap();
    let tombstone = store.order(order.id).await.unwrap().unwrap();
    assert_eq!(tombstone.status, OrderStatus::Cancelled);
    assert_eq!(tombstone.amount, None);
    store.apply_order_fact(&fact(&order)).await.unwrap();
    let merged = store.order(order.id).await.unwrap().unwrap();
    assert_eq!(merged.status, OrderStatus::Cancelled);
    assert_eq!(merged.cancel_reason, Some(CancelReason::UserCancelled));
    assert_eq!(merged.amount, order.amount);
    assert_eq!(merged.expires_at, order.expires_at);

    // An HTTP answer never lowers a status either.
    let mut from_http = order.clone();
    from_http.source = OrderSource::TicketService;
    let after = store.remember_order(&from_http).await.unwrap();
    assert_eq!(after.status, OrderStatus::Cancelled);
}

async fn idempotency_keys_are_claimed_replayed_refused_taken_over_and_released(
    store: Arc<dyn PaymentStore>,
) {
    let user = Uuid::new_v4();
    let now = platform::time::now();
    let claim = |key: &str, fingerprint: &str, at: chrono::DateTime<chrono::Utc>| KeyClaim {
        user_id: user,
        key: key.into(),
        fingerprint: fingerprint.into(),
        at,
        stale_before: at - Duration::seconds(60),
    };
    assert_eq!(
        store.claim_key(&claim("a", "fp1", now)).await.unwrap(),
        ClaimOutcome::Claimed
    );
    assert_eq!(
        store.claim_key(&claim("a", "fp1", now)).await.unwrap(),
        ClaimOutcome::InProgress
    );
    assert_eq!(
        store.claim_key(&claim("a", "fp2", now)).await.unwrap(),
        ClaimOutcome::Mismatch
    );
    // Another user's key of the same name is independent.
    let mut theirs = claim("a", "fp9", now);
    theirs.user_id = Uuid::new_v4();
    assert_eq!(
        store.claim_key(&theirs).await.unwrap(),
        ClaimOutcome::Claimed
    );
    // A claim left unanswered past the lease is taken over.
    let later = now + Duration::seconds(61);
    assert_eq!(
        store.claim_key(&claim("a", "fp1", later)).await.unwrap(),
        ClaimOutcome::Claimed
    );
    let key = KeyRef {
        user_id: user,
        key: "a".into(),
    };
    let answer = StoredResponse {
        status: 404,
        body: r#"{"error":{}}"#.into(),
    };
    store.answer_key(&key, &answer).await.unwrap();
    assert_eq!(
        store.claim_key(&claim("a", "fp1", later)).await.unwrap(),
        ClaimOutcome::Replay(answer.clone())
    );
    // An answered key is not released.
    store.release_key(&key).await.unwrap();
    assert_eq!(
        store.claim_key(&claim("a", "fp1", later)).await.unwrap(),
        ClaimOutcome::Replay(answer)
    );
    // An unanswered one is, and can be claimed again at once.
    store.claim_key(&claim("b", "fp1", now)).await.unwrap();
    let b = KeyRef {
        user_id: user,
        key: "b".into(),
    };
    store.release_key(&b).await.unwrap();
    assert_eq!(
        store.claim_key(&claim("b", "fp2", now)).await.unwrap(),
        ClaimOutcome::Claimed
    );
    // Purging deletes keys created before the cut-off.
    assert!(store.purge_keys(now + Duration::seconds(1)).await.unwrap() >= 2);
    assert_eq!(
        store.claim_key(&claim("a", "fp3", later)).await.unwrap(),
        ClaimOutcome::Claimed
    );
}

async fn payments_left_unfinished_are_abandoned(store: Arc<dyn PaymentStore>) {
    let a = remembered(&store, 100).await;
    let b = remembered(&store, 100).await;
    let never_sent = new_payment(&a);
    let in_flight = new_payment(&b);
    store.insert_payment(&never_sent).await.unwrap();
    store.insert_payment(&in_flight).await.unwrap();
    store
        .begin_processing(in_flight.id, platform::time::now())
        .await
        .unwrap();
    let now = platform::time::now();
    assert_eq!(
        store
            .abandon_stale(now - Duration::seconds(60), now, TP)
            .await
            .unwrap(),
        0,
        "fresh payments are left alone"
    );
    let later = now + Duration::seconds(120);
    assert_eq!(
        store
            .abandon_stale(later - Duration::seconds(60), later, TP)
            .await
            .unwrap(),
        2
    );
    let a_payment = store.payment(never_sent.id).await.unwrap().unwrap();
    let b_payment = store.payment(in_flight.id).await.unwrap().unwrap();
    assert_eq!(a_payment.status, PaymentStatus::Failed);
    assert_eq!(b_payment.status, PaymentStatus::Failed);
    assert_eq!(
        b_payment.gateway_response.unwrap().response_code,
        "gateway_timeout"
    );
    // Only the one that reached the gateway is published.
    assert_eq!(outbox_subjects(&store).await, ["payments.failed"]);
    // Both orders are free again.
    assert_eq!(
        store.insert_payment(&new_payment(&a)).await.unwrap(),
        Inserted::Inserted
    );
}

platform::store_contract! {
    store: dyn PaymentStore,
    sqlite: SqliteStore::in_memory(),
    mongodb: MongoStore::connect,
    cases: [
        the_outbox_backlog_counts_unpublished_facts_and_names_the_oldest,
        a_payment_round_trips_and_only_one_per_order_holds_it,
        concurrent_inserts_for_one_order_let_exactly_one_through,
        settling_stores_the_result_its_event_and_the_key_answer_together,
        a_payment_settling_for_a_cancelled_order_is_refunded_in_the_same_step,
        an_order_fact_is_applied_once_and_a_cancellation_refunds_once,
        facts_arriving_out_of_order_end_in_the_same_projection,
        idempotency_keys_are_claimed_replayed_refused_taken_over_and_released,
        payments_left_unfinished_are_abandoned,
    ],
}

#[tokio::test]
async fn the_sqlite_store_keeps_data_in_its_file_across_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/payment.db");
    let order = pending_order(Uuid::new_v4(), 2550);
    let payment = new_payment(&order);
    {
        let store = SqliteStore::open(&path).unwrap();
        store.remember_order(&order).await.unwrap();
        store.insert_payment(&payment).await.unwrap();
    }
    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(
        reopened.payment(payment.id).await.unwrap().unwrap(),
        payment
    );
    assert_eq!(
        reopened.order(order.id).await.unwrap().unwrap().amount,
        order.amount
    );
}
