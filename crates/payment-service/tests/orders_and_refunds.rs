//! The order projection fed by `orders.*` and the refunds it decides, with a real nats-server:
//! facts are published on the `ORDERS` stream and consumed by the running `payment-orders`
//! consumer, or handed to `handle`/`apply` directly.

use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use contracts::Envelope;
use contracts::orders::{CancelReason, OrderConfirmed};
use contracts::subjects::{ORDERS_CONFIRMED, streams};
use futures::StreamExt;
use payment_service::domain::{OrderStatus, PaymentStatus};
use payment_service::store::Settle;
use payment_service::testing::{
    APPROVED_CARD, DECLINED_CARD, cancelled_envelope, card_body, created_envelope, held_order,
    stack,
};
use platform::consumer::{HandleError, Outcome};

async fn paid(
    s: &payment_service::testing::Stack,
    buyer: &payment_service::testing::Buyer,
    order_id: uuid::Uuid,
) -> serde_json::Value {
    let res = buyer.pay(&card_body(order_id, APPROVED_CARD)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    s.wait_for_events(order_id, "payments.completed", 1).await;
    res.json()["payment"].clone()
}

#[tokio::test]
async fn an_order_cancelled_after_its_payment_completed_is_refunded_exactly_once() {
    let s = stack().start().await;
    let (buyer, order) = s.buyer_with_order("ada@example.com", 2550).await;
    let payment = paid(&s, &buyer, order.order_id).await;

    // The same cancellation delivered twice (no Nats-Msg-Id, so the stream keeps both copies),
    // then a second cancellation fact, as the ticket service publishes one when a payment
    // completes for an order it had already cancelled.
    let cancelled = cancelled_envelope(&order, CancelReason::Expired);
    s.publish_with_msg_id(&cancelled, None).await;
    s.publish_with_msg_id(&cancelled, None).await;
    s.publish(&cancelled_envelope(&order, CancelReason::Expired))
        .await;

    let refunded = s
        .wait_for_events(order.order_id, "payments.refunded", 1)
        .await;
    let event = &refunded[0];
    let data = &event.envelope["data"];
    assert_eq!(data["paymentId"], payment["id"]);
    assert_eq!(data["reason"], "order_not_pending");
    assert_eq!(data["amount"]["minorUnits"], 2550);
    assert_eq!(
        event.msg_id.as_deref(),
        Some(event.envelope["id"].as_str().unwrap())
    );
    assert!(
        event
            .traceparent
            .as_deref()
            .is_some_and(|tp| tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-")),
        "the cancellation's trace continues on the refund: {:?}",
        event.traceparent
    );

    // Let every copy be consumed, then count again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        s.subjects_for(order.order_id).await,
        ["payments.completed", "payments.refunded"]
    );

    let id = payment["id"].as_str().unwrap();
    let status = buyer.client.get(&format!("/api/payment/status/{id}")).await;
    assert_eq!(status.status, 200);
    let body = status.json();
    assert_eq!(body["payment"]["status"], "refunded");
    assert_eq!(body["payment"]["refund"]["reason"], "order_not_pending");
    assert_eq!(body["payment"]["refund"]["orderCancelReason"], "expired");
    assert!(
        body["payment"]["refund"]["transactionId"]
            .as_str()
            .unwrap()
            .starts_with("re_")
    );
    assert_eq!(body["orderStatus"], "cancelled");
}

#[tokio::test]
async fn a_payment_completing_for_an_order_already_known_cancelled_is_refunded_at_once() {
    let s = stack().start().await;
    let (_buyer, order) = s.buyer_with_order("ada@example.com", 1200).await;

    // A payment reached the gateway while the order was pending...
    let payment = s.processing_payment(order.order_id).await;
    // ... and the order's cancellation is projected before the gateway answers.
    s.publish(&cancelled_envelope(&order, CancelReason::Expired))
        .await;
    s.wait_for_order(order.order_id, |o| o.status == OrderStatus::Cancelled)
        .await;
    let charge = payment_service::gateway::Gateway::new(1.0).charge(
        &payment_service::input::Instrument::Paypal {
            email: "ada@approve.test".into(),
        },
    );
    let settled = s
        .state
        .store
        .settle(&Settle {
            payment_id: payment.id,
            charge,
            at: platform::time::now(),
            traceparent: platform::trace::continue_trace(None),
            key: None,
        })
        .await
        .unwrap();
    s.state.wake_relay();
    assert_eq!(settled.payment.status, PaymentStatus::Refunded);
    assert_eq!(settled.order_status, Some(OrderStatus::Cancelled));
    s.wait_for_events(order.order_id, "payments.refunded", 1)
        .await;
    assert_eq!(
        s.subjects_for(order.order_id).await,
        ["payments.completed", "payments.refunded"]
    );
}

#[tokio::test]
async fn a_failed_payment_is_not_refunded_when_its_order_is_cancelled() {
    let s = stack().start().await;
    let (buyer, order) = s.buyer_with_order("ada@example.com", 800).await;
    let res = buyer.pay(&card_body(order.order_id, DECLINED_CARD)).await;
    assert_eq!(res.json()["payment"]["status"], "failed");
    s.publish(&cancelled_envelope(&order, CancelReason::PaymentFailed))
        .await;
    s.wait_for_order(order.order_id, |o| o.status == OrderStatus::Cancelled)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.subjects_for(order.order_id).await, ["payments.failed"]);
}

#[tokio::test]
async fn a_confirmed_order_shows_in_the_payment_status() {
    let s = stack().start().await;
    let (buyer, order) = s.buyer_with_order("ada@example.com", 2550).await;
    let payment = paid(&s, &buyer, order.order_id).await;
    let confirmed = Envelope::new(
        ORDERS_CONFIRMED,
        "ticket-service",
        Some(order.order_id.to_string()),
        OrderConfirmed {
            order_id: order.order_id,
            booking_reference: order.booking_reference.clone(),
            user_id: buyer.id,
            event_id: order.event_id,
            payment_id: payment["id"].as_str().unwrap().parse().unwrap(),
            total_amount: order.total_amount.clone(),
            ticket_count: 1,
            tickets: Vec::new(),
        },
    );
    s.publish(&confirmed).await;
    s.wait_for_order(order.order_id, |o| o.status == OrderStatus::Confirmed)
        .await;
    let id = payment["id"].as_str().unwrap();
    let status = buyer.client.get(&format!("/api/payment/status/{id}")).await;
    assert_eq!(status.json()["orderStatus"], "confirmed");
    assert_eq!(status.json()["payment"]["status"], "completed");

    let again = buyer.pay(&card_body(order.order_id, APPROVED_CARD)).await;
    assert_eq!(again.status, 409);
    assert_eq!(again.code(), "order_already_paid");
}

#[tokio::test]
async fn the_same_orders_created_delivered_twice_leaves_one_projection_row() {
    let s = stack().start().await;
    let buyer = s.buyer("ada@example.com").await;
    let order = held_order(buyer.id, 2550);
    let envelope = created_envelope(&order);
    s.publish_with_msg_id(&envelope, None).await;
    s.publish_with_msg_id(&envelope, None).await;
    let first = s.wait_for_order(order.order_id, |_| true).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Handing the same envelope in once more has no effect either.
    let payload = serde_json::to_vec(&envelope).unwrap();
    let outcome = payment_service::apply(&s.state, &payload, None)
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Duplicate);
    assert_eq!(
        s.state.store.order(order.order_id).await.unwrap().unwrap(),
        first
    );
    assert_eq!(first.amount.unwrap().minor_units(), 2550);
    assert_eq!(first.status, OrderStatus::Pending);
    // Stores keep milliseconds.
    assert_eq!(
        first.expires_at.map(|t| t.timestamp_millis()),
        Some(order.expires_at.timestamp_millis())
    );
}

#[tokio::test]
async fn handle_applies_a_message_pulled_from_the_stream_once() {
    let mut s = stack().start().await;
    // Keep the service's own consumer away from the message.
    s.stop_background().await;
    let buyer = s.buyer("ada@example.com").await;
    let order = held_order(buyer.id, 700);
    s.publish(&created_envelope(&order)).await;

    let stream = s.js.get_stream(streams::ORDERS).await.unwrap();
    let consumer = stream
        .create_consumer(pull::Config {
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::Explicit,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer
        .fetch()
        .max_messages(1)
        .expires(Duration::from_secs(5))
        .messages()
        .await
        .unwrap();
    let msg = messages.next().await.expect("a message").unwrap();

    let first = payment_service::handle(&s.state, &msg).await.unwrap();
    assert_eq!(first, Outcome::Applied);
    let again = payment_service::handle(&s.state, &msg).await.unwrap();
    assert_eq!(again, Outcome::Duplicate);
    let record = s.state.store.order(order.order_id).await.unwrap().unwrap();
    assert_eq!(record.user_id, buyer.id);
}

#[tokio::test]
async fn an_unreadable_order_event_is_poison_and_an_unknown_type_is_ignored() {
    let s = stack().start().await;
    let poison = payment_service::apply(&s.state, b"{not json", None).await;
    assert!(matches!(poison, Err(HandleError::Poison(_))), "{poison:?}");
    let wrong = Envelope::new(
        "orders.created",
        "ticket-service",
        None,
        serde_json::json!({"orderId": 1}),
    );
    let poison = payment_service::apply(&s.state, &serde_json::to_vec(&wrong).unwrap(), None).await;
    assert!(matches!(poison, Err(HandleError::Poison(_))), "{poison:?}");
    let other = Envelope::new(
        "orders.archived",
        "ticket-service",
        None,
        serde_json::json!({}),
    );
    let ignored =
        payment_service::apply(&s.state, &serde_json::to_vec(&other).unwrap(), None).await;
    assert_eq!(ignored.unwrap(), Outcome::Ignored);
}

#[tokio::test]
async fn a_payment_left_processing_by_a_dead_process_is_failed_and_published() {
    let s = stack()
        .config(|c| c.stale_after = Duration::from_millis(200))
        .start()
        .await;
    let (buyer, order) = s.buyer_with_order("ada@example.com", 900).await;
    let payment = s.processing_payment(order.order_id).await;

    let failed = s
        .wait_for_events(order.order_id, "payments.failed", 1)
        .await;
    assert_eq!(
        failed[0].envelope["data"]["responseCode"],
        "gateway_timeout"
    );
    let stored = s.state.store.payment(payment.id).await.unwrap().unwrap();
    assert_eq!(stored.status, PaymentStatus::Failed);

    // The order is free for a new attempt.
    let res = buyer.pay(&card_body(order.order_id, APPROVED_CARD)).await;
    assert_eq!(res.status, 201, "{}", res.text);
}
