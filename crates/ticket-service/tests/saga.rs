//! Given a pending order, when a payment result arrives on the PAYMENTS stream, then the order
//! moves exactly as the life cycle says, exactly once.

mod support;

use contracts::Envelope;
use contracts::orders::CancelReason;
use contracts::subjects;
use platform::testing::{eventually, wait_for_events, wait_for_facts};
use support::{World, cancel, completed, id, refunded};
use ticket_service::testing::{issued_tickets, order_details, ticket_codes};

#[tokio::test]
async fn a_completed_payment_confirms_the_order_sells_its_seats_and_issues_one_ticket_per_seat() {
    let world = World::start().await;
    let (event, buyer, order) = world
        .pending_order(
            &[("GA", 1500, 10), ("VIP", 5000, 5)],
            &[("GA", 2), ("VIP", 1)],
        )
        .await;
    let payment = completed(&order);
    let payment_id = payment.payment_id;
    world
        .publish(subjects::PAYMENTS_COMPLETED, payment.order_id, payment)
        .await;

    let confirmed = world.order_becomes(&buyer, &id(&order), "confirmed").await;
    assert_eq!(confirmed["paymentId"], payment_id.to_string());
    assert_eq!(issued_tickets(&confirmed).len(), 3);
    assert_eq!(ticket_codes(&confirmed).len(), 3);
    assert_eq!(confirmed["paymentAttempts"][0]["status"], "completed");
    assert_eq!(world.seats(event, "GA").await, (2, 0, 8));
    assert_eq!(world.seats(event, "VIP").await, (1, 0, 4));

    let c = &wait_for_facts(&world.js, "ORDERS", "orders.confirmed").await[0];
    assert_eq!(c.envelope["data"]["paymentId"], payment_id.to_string());
    assert_eq!(c.envelope["data"]["ticketCount"], 3);
}

#[tokio::test]
async fn the_same_completed_payment_delivered_twice_confirms_once_with_one_set_of_tickets() {
    let world = World::start().await;
    let (event, buyer, order) = world.pending_order(&[("GA", 1500, 10)], &[("GA", 2)]).await;
    let payment = completed(&order);
    let envelope = Envelope::new(
        subjects::PAYMENTS_COMPLETED,
        "test",
        Some(id(&order)),
        payment,
    );
    // Two copies that the stream cannot de-duplicate: the handler must.
    world.publish_envelope(&envelope, "copy-1").await;
    world.publish_envelope(&envelope, "copy-2").await;

    world.order_becomes(&buyer, &id(&order), "confirmed").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let o = world.order(&buyer, &id(&order)).await;
    assert_eq!(o["issuedTickets"].as_array().unwrap().len(), 2);
    assert_eq!(world.seats(event, "GA").await, (2, 0, 8));
    let events = platform::testing::stream_events(&world.js, "ORDERS").await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e.subject == "orders.confirmed")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_declined_payment_is_recorded_and_the_order_stays_pending_for_a_retry() {
    let world = World::start().await;
    let (event, buyer, order) = world.pending_order(&[("GA", 1500, 10)], &[("GA", 1)]).await;
    world.decline(&order).await;

    let o = eventually("the decline to be recorded", || async {
        let o = world.order(&buyer, &id(&order)).await;
        (o["failedPayments"] == 1).then_some(o)
    })
    .await;
    assert_eq!(o["status"], "pending");
    assert_eq!(o["paymentAttempts"][0]["status"], "failed");
    assert_eq!(
        o["paymentAttempts"][0]["responseMessage"],
        "Your card was declined."
    );
    assert_eq!(world.seats(event, "GA").await, (0, 1, 9));

    world.pay(&buyer, &order).await;
}

#[tokio::test]
async fn three_declined_payments_cancel_the_order_and_release_its_seats() {
    let world = World::start().await;
    let (event, buyer, order) = world.pending_order(&[("GA", 1500, 10)], &[("GA", 3)]).await;
    for _ in 0..3 {
        world.decline(&order).await;
    }
    let o = world.order_becomes(&buyer, &id(&order), "cancelled").await;
    assert_eq!(o["cancelReason"], "payment_failed");
    assert_eq!(o["paymentAttempts"].as_array().unwrap().len(), 3);
    assert_eq!(world.seats(event, "GA").await, (0, 0, 10));
    let cancelled = wait_for_facts(&world.js, "ORDERS", "orders.cancelled").await;
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0].envelope["data"]["reason"], "payment_failed");
}

#[tokio::test]
async fn a_payment_that_completes_after_the_order_was_cancelled_leaves_it_cancelled_without_seats()
{
    let world = World::start().await;
    let (event, buyer, order) = world.pending_order(&[("GA", 1500, 10)], &[("GA", 2)]).await;
    let res = cancel(&buyer, &id(&order)).await;
    assert_eq!(res.status, 200);

    let late = completed(&order);
    let payment_id = late.payment_id;
    world
        .publish(subjects::PAYMENTS_COMPLETED, late.order_id, late.clone())
        .await;
    let o = eventually("the late payment to be noted", || async {
        let o = world.order(&buyer, &id(&order)).await;
        (!o["paymentAttempts"].as_array().unwrap().is_empty()).then_some(o)
    })
    .await;
    assert_eq!(o["status"], "cancelled");
    assert_eq!(o["paymentAttempts"][0]["paymentId"], payment_id.to_string());
    assert!(o["issuedTickets"].as_array().unwrap().is_empty());
    assert_eq!(world.seats(event, "GA").await, (0, 0, 10));

    // Its refund is noted; the order never sold anything, so it stays cancelled.
    world.refund(&late, "order_not_pending").await;
    let o = eventually("the refund to be noted", || async {
        let o = world.order(&buyer, &id(&order)).await;
        (o["paymentAttempts"].as_array().unwrap().len() == 2).then_some(o)
    })
    .await;
    assert_eq!(o["status"], "cancelled");
    assert_eq!(o["paymentAttempts"][1]["status"], "refunded");
}

#[tokio::test]
async fn the_refund_of_a_paid_order_cancelled_for_a_refund_marks_it_refunded_once() {
    let world = World::start().await;
    let (event, buyer, order) = world.pending_order(&[("GA", 1500, 10)], &[("GA", 2)]).await;
    let payment = world.pay(&buyer, &order).await;
    let store = &world.tickets.store;
    store
        .cancel(payment.order_id, CancelReason::OrganizerRefund, None)
        .await
        .unwrap();
    assert_eq!(world.seats(event, "GA").await, (0, 0, 10));

    let envelope = Envelope::new(
        subjects::PAYMENTS_REFUNDED,
        "test",
        Some(id(&order)),
        refunded(&payment, "organizer_refund"),
    );
    world.publish_envelope(&envelope, "refund-1").await;
    world.publish_envelope(&envelope, "refund-2").await;
    let o = world.order_becomes(&buyer, &id(&order), "refunded").await;
    assert_eq!(o["cancelReason"], "organizer_refund");
    let stored = order_details(store, payment.order_id).await;
    assert_eq!(stored.tickets.len(), 2);
    assert!(stored.tickets.iter().all(|t| t.void));
    let refund = stored.order.refund.unwrap();
    assert_eq!(refund.amount.minor_units(), 3000);
    assert_eq!(refund.reason, CancelReason::OrganizerRefund);
    // Stores keep milliseconds.
    assert_eq!(
        refund.refunded_at.timestamp_millis(),
        envelope.time.timestamp_millis()
    );

    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let attempts = order_details(store, payment.order_id).await.attempts;
    assert_eq!(
        attempts
            .iter()
            .map(|a| a.status.as_str())
            .collect::<Vec<_>>(),
        ["completed", "refunded"]
    );
}

#[tokio::test]
async fn an_unreadable_payment_message_goes_to_the_dead_letter_stream_with_its_reason() {
    let world = World::start().await;
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", "garbage-1");
    world
        .js
        .publish_with_headers("payments.completed", headers, "not json".into())
        .await
        .unwrap()
        .await
        .unwrap();
    let dead = wait_for_events(&world.js, "DEAD_LETTERS", |e| !e.is_empty()).await;
    assert_eq!(dead[0].subject, "dlq.ticket-payments");
    let mut s = world.js.get_stream("DEAD_LETTERS").await.unwrap();
    let info = s.info().await.unwrap().state.clone();
    let raw = s.get_raw_message(info.first_sequence).await.unwrap();
    let reason = raw.headers.get("Dlq-Reason").unwrap().as_str().to_string();
    assert!(reason.contains("unreadable"), "{reason}");
}
