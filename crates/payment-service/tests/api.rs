//! `POST /api/payment/process` and `GET /api/payment/status/:id` over real HTTP, with a real
//! nats-server and a real auth service.

use std::time::Duration;

use contracts::orders::CancelReason;
use payment_service::domain::{OrderSource, PaymentStatus};
use payment_service::testing::{
    APPROVED_CARD, DECLINED_CARD, cancelled_envelope, card_body, created_envelope, held_order,
    order_created, paypal_body, stack,
};
use serde_json::{Value, json};
use uuid::Uuid;

const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

#[tokio::test]
async fn an_approved_card_completes_the_payment_and_publishes_payments_completed() {
    let s = stack().start().await;
    let (buyer, order) = s.buyer_with_order("ada@example.com", 2550).await;

    let res = buyer
        .pay_with(|r| {
            r.header("traceparent", TRACEPARENT)
                .json(&card_body(order.order_id, APPROVED_CARD))
        })
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let body = res.json();
    let payment = &body["payment"];
    assert_eq!(payment["status"], "completed");
    assert_eq!(payment["orderId"], order.order_id.to_string());
    assert_eq!(payment["userId"], buyer.id.to_string());
    assert_eq!(payment["amount"], json!(25.5));
    assert_eq!(payment["amountMinor"], 2550);
    assert_eq!(payment["currency"], "USD");
    assert_eq!(payment["paymentMethod"], "credit_card");
    assert_eq!(
        payment["paymentDetails"],
        json!({"cardLast4": "4242", "cardBrand": "visa"})
    );
    assert_eq!(payment["gatewayResponse"]["responseCode"], "approved");
    assert!(
        payment["gatewayResponse"]["transactionId"]
            .as_str()
            .unwrap()
            .starts_with("txn_")
    );
    assert_eq!(body["order"]["id"], order.order_id.to_string());
    assert_eq!(body["order"]["status"], "pending");

    let events = s
        .wait_for_events(order.order_id, "payments.completed", 1)
        .await;
    assert_eq!(events.len(), 1);
    let event = &events[0];
    let envelope = &event.envelope;
    assert_eq!(
        event.msg_id.as_deref(),
        Some(envelope["id"].as_str().unwrap())
    );
    assert_eq!(envelope["source"], "payment-service");
    assert_eq!(envelope["type"], "payments.completed");
    assert_eq!(envelope["data"]["paymentId"], payment["id"]);
    assert_eq!(envelope["data"]["amount"]["minorUnits"], 2550);
    assert_eq!(envelope["data"]["amount"]["decimal"], "25.50");
    assert_eq!(
        envelope["data"]["transactionId"],
        payment["gatewayResponse"]["transactionId"]
    );
    let tp = event.traceparent.as_deref().expect("a traceparent");
    assert!(
        tp.starts_with("00-0af7651916cd43dd8448eb211c80319c-"),
        "the request's trace continues on the event: {tp}"
    );

    let id = payment["id"].as_str().unwrap();
    let status = buyer.client.get(&format!("/api/payment/status/{id}")).await;
    assert_eq!(status.status, 200, "{}", status.text);
    assert_eq!(status.json()["payment"]["status"], "completed");
    assert_eq!(status.json()["orderStatus"], "pending");
}

#[tokio::test]
async fn a_declined_card_is_a_failed_payment_with_the_gateways_message_and_the_order_stays_payable()
{
    let s = stack().start().await;
    let (buyer, order) = s.buyer_with_order("ada@example.com", 1000).await;

    let res = buyer.pay(&card_body(order.order_id, DECLINED_CARD)).await;
    assert_eq!(
        res.status, 201,
        "a decline is a business result: {}",
        res.text
    );
    let payment = &res.json()["payment"];
    assert_eq!(payment["status"], "failed");
    assert_eq!(payment["gatewayResponse"]["responseCode"], "card_declined");
    assert_eq!(
        payment["gatewayResponse"]["responseMessage"],
        "Your card was declined."
    );
    assert_eq!(res.json()["message"], "Your card was declined.");
    let failed = s
        .wait_for_events(order.order_id, "payments.failed", 1)
        .await;
    assert_eq!(failed[0].envelope["data"]["responseCode"], "card_declined");
    assert_eq!(
        failed[0].msg_id.as_deref(),
        Some(failed[0].envelope["id"].as_str().unwrap())
    );

    // The buyer retries with another card while the hold lasts.
    let retry = buyer.pay(&card_body(order.order_id, APPROVED_CARD)).await;
    assert_eq!(retry.status, 201, "{}", retry.text);
    assert_eq!(retry.json()["payment"]["status"], "completed");
    let attempts = s.payments_for(order.order_id).await;
    let statuses: Vec<_> = attempts.iter().map(|p| p.status).collect();
    assert_eq!(statuses, [PaymentStatus::Failed, PaymentStatus::Completed]);

    let listed = buyer
        .client
        .get(&format!("/api/payment/orders/{}", order.order_id))
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.json()["payments"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_paypal_payment_keeps_the_email_and_follows_the_test_accounts() {
    let s = stack().config(|c| c.success_rate = 0.0).start().await;
    let (buyer, declined_order) = s.buyer_with_order("ada@example.com", 500).await;
    let res = buyer
        .pay(&paypal_body(declined_order.order_id, "ada@decline.test"))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.json()["payment"]["status"], "failed");
    assert_eq!(
        res.json()["payment"]["paymentDetails"],
        json!({"paypalEmail": "ada@decline.test"})
    );

    let order = s.order_for(buyer.id, 500).await;
    let res = buyer
        .pay(&paypal_body(order.order_id, "Ada@Approve.test"))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.json()["payment"]["status"], "completed");
    assert_eq!(res.json()["payment"]["paymentMethod"], "paypal");
    s.wait_for_events(order.order_id, "payments.completed", 1)
        .await;
}

#[tokio::test]
async fn replaying_an_idempotency_key_returns_the_first_answer_and_charges_once() {
    let s = stack().start().await;
    let (buyer, order) = s.buyer_with_order("ada@example.com", 2550).await;
    let body = card_body(order.order_id, APPROVED_CARD);

    let first = buyer.pay_with_key("order-1-attempt", &body).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.header("idempotent-replayed"), None);
    let second = buyer.pay_with_key("order-1-attempt", &body).await;
    assert_eq!(second.status, 201, "{}", second.text);
    assert_eq!(second.text, first.text, "the same body, byte for byte");
    assert_eq!(second.header("idempotent-replayed"), Some("true"));

    let payments = s.payments_for(order.order_id).await;
    assert_eq!(payments.len(), 1);
    s.wait_for_events(order.order_id, "payments.completed", 1)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.events_for(order.order_id).await.len(), 1);

    // Without the key, the paid order is a conflict.
    let again = buyer.pay(&body).await;
    assert_eq!(again.status, 409, "{}", again.text);
    assert_eq!(again.code(), "order_already_paid");
}

#[tokio::test]
async fn an_idempotency_key_reused_with_another_body_is_refused() {
    let s = stack().start().await;
    let (buyer, order) = s.buyer_with_order("ada@example.com", 2550).await;

    let first = buyer
        .pay_with_key("key-1", &card_body(order.order_id, DECLINED_CARD))
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    let other = buyer
        .pay_with_key("key-1", &card_body(order.order_id, APPROVED_CARD))
        .await;
    assert_eq!(other.status, 422, "{}", other.text);
    assert_eq!(other.code(), "idempotency_key_reused");

    let bad = buyer
        .pay_with_key("bad key", &card_body(order.order_id, APPROVED_CARD))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert_eq!(bad.code(), "invalid_idempotency_key");

    // Another user's identical key is theirs alone.
    let eve = s.buyer("eve@example.com").await;
    let eves_order = s.order_for(eve.id, 100).await;
    let res = eve
        .pay_with_key("key-1", &card_body(eves_order.order_id, APPROVED_CARD))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
}

#[tokio::test]
async fn ten_concurrent_submissions_for_one_order_charge_it_exactly_once() {
    let s = stack().start().await;
    let (buyer, order) = s.buyer_with_order("ada@example.com", 2550).await;
    let body = card_body(order.order_id, APPROVED_CARD);

    let attempts = (0..10).map(|_| {
        let buyer = buyer.clone();
        let body = body.clone();
        tokio::spawn(async move { buyer.pay(&body).await })
    });
    let results = futures::future::join_all(attempts).await;
    let mut created = 0;
    for r in results {
        let r = r.unwrap();
        match r.status {
            201 => {
                created += 1;
                assert_eq!(r.json()["payment"]["status"], "completed");
            }
            409 => assert!(
                ["payment_in_progress", "order_already_paid"].contains(&r.code().as_str()),
                "{}",
                r.text
            ),
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert_eq!(created, 1);
    let completed = s
        .payments_for(order.order_id)
        .await
        .into_iter()
        .filter(|p| p.status == PaymentStatus::Completed)
        .count();
    assert_eq!(completed, 1);
    s.wait_for_events(order.order_id, "payments.completed", 1)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.events_for(order.order_id).await.len(), 1);
}

#[tokio::test]
async fn someone_elses_order_is_not_found_and_nothing_is_charged() {
    let s = stack().start().await;
    let owner = s.buyer("ada@example.com").await;
    let eve = s.buyer("eve@example.com").await;
    let order = s.order_for(owner.id, 2550).await;

    let res = eve.pay(&card_body(order.order_id, APPROVED_CARD)).await;
    assert_eq!(res.status, 404, "{}", res.text);
    assert_eq!(res.code(), "order_not_found");
    assert!(s.payments_for(order.order_id).await.is_empty());

    // Nor can they see the owner's payment.
    let paid = owner.pay(&card_body(order.order_id, APPROVED_CARD)).await;
    let id = paid.json()["payment"]["id"].as_str().unwrap().to_string();
    let peek = eve.client.get(&format!("/api/payment/status/{id}")).await;
    assert_eq!(peek.status, 404, "{}", peek.text);
    assert_eq!(peek.code(), "payment_not_found");
    let list = eve
        .client
        .get(&format!("/api/payment/orders/{}", order.order_id))
        .await;
    assert_eq!(list.status, 404);
}

#[tokio::test]
async fn an_admin_sees_any_payment() {
    let s = stack().with_admin().start().await;
    let (buyer, order) = s.buyer_with_order("ada@example.com", 2550).await;
    let paid = buyer.pay(&card_body(order.order_id, APPROVED_CARD)).await;
    let id = paid.json()["payment"]["id"].as_str().unwrap().to_string();

    let admin = s.admin().await;
    let res = admin.get(&format!("/api/payment/status/{id}")).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["payment"]["id"], id);
}

#[tokio::test]
async fn paying_requires_a_signed_in_user() {
    let s = stack().start().await;
    let anonymous = platform::testing::TestClient::new(s.payment.url());
    let res = anonymous
        .post(
            "/api/payment/process",
            &card_body(Uuid::new_v4(), APPROVED_CARD),
        )
        .await;
    assert_eq!(res.status, 401, "{}", res.text);
    assert_eq!(res.code(), "unauthorized");
    let res = anonymous
        .get(&format!("/api/payment/status/{}", Uuid::new_v4()))
        .await;
    assert_eq!(res.status, 401);
}

#[tokio::test]
async fn an_unknown_order_is_a_404_when_the_ticket_service_does_not_know_it_either() {
    let s = stack().ticket_stub().start().await;
    let buyer = s.buyer("ada@example.com").await;
    let started = std::time::Instant::now();
    let res = buyer.pay(&card_body(Uuid::new_v4(), APPROVED_CARD)).await;
    assert_eq!(res.status, 404, "{}", res.text);
    assert_eq!(res.code(), "order_not_found");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "the projection is waited for first"
    );
}

#[tokio::test]
async fn an_unknown_order_is_a_clean_503_when_the_ticket_service_is_unreachable() {
    let s = stack().start().await;
    let buyer = s.buyer("ada@example.com").await;
    let res = buyer.pay(&card_body(Uuid::new_v4(), APPROVED_CARD)).await;
    assert_eq!(res.status, 503, "{}", res.text);
    assert_eq!(res.code(), "order_lookup_unavailable");
}

#[tokio::test]
async fn a_payment_that_overtakes_orders_created_waits_for_it() {
    let s = stack()
        .config(|c| c.order_wait = Duration::from_secs(5))
        .start()
        .await;
    let buyer = s.buyer("ada@example.com").await;
    let order = held_order(buyer.id, 4200);
    let envelope = created_envelope(&order);
    let request = {
        let buyer = buyer.clone();
        let body = card_body(order.order_id, APPROVED_CARD);
        tokio::spawn(async move { buyer.pay(&body).await })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    s.publish(&envelope).await;
    let res = request.await.unwrap();
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.json()["payment"]["status"], "completed");
    assert_eq!(res.json()["payment"]["amountMinor"], 4200);
}

#[tokio::test]
async fn an_order_only_the_ticket_service_knows_yet_is_paid_through_the_fallback() {
    let s = stack().ticket_stub().start().await;
    let buyer = s.buyer("ada@example.com").await;
    let order = held_order(buyer.id, 1999);
    s.tickets.as_ref().unwrap().put(&order);

    let res = buyer.pay(&card_body(order.order_id, APPROVED_CARD)).await;
    assert_eq!(res.status, 201, "{}", res.text);
    assert_eq!(res.json()["payment"]["amountMinor"], 1999);
    assert_eq!(res.json()["payment"]["amount"], json!(19.99));
    let known = s.state.store.order(order.order_id).await.unwrap().unwrap();
    assert_eq!(known.source, OrderSource::TicketService);

    // The event arriving later is applied and changes nothing.
    let payload = serde_json::to_vec(&created_envelope(&order)).unwrap();
    let outcome = payment_service::apply(&s.state, &payload, None)
        .await
        .unwrap();
    assert_eq!(outcome, platform::consumer::Outcome::Applied);
    let after = s.state.store.order(order.order_id).await.unwrap().unwrap();
    assert_eq!(
        (after.status, after.amount, after.expires_at, after.source),
        (known.status, known.amount, known.expires_at, known.source)
    );

    // Someone else asking for it through the fallback gets a 404.
    let eve = s.buyer("eve@example.com").await;
    let other = held_order(buyer.id, 100);
    s.tickets.as_ref().unwrap().put(&other);
    let res = eve.pay(&card_body(other.order_id, APPROVED_CARD)).await;
    assert_eq!(res.status, 404, "{}", res.text);
}

#[tokio::test]
async fn an_expired_order_is_refused_without_a_charge_even_before_its_cancellation_arrives() {
    let s = stack().start().await;
    let buyer = s.buyer("ada@example.com").await;
    let order = order_created(
        buyer.id,
        2550,
        chrono::Utc::now() - chrono::Duration::seconds(1),
    );
    s.publish(&created_envelope(&order)).await;
    s.wait_for_order(order.order_id, |_| true).await;

    let res = buyer.pay(&card_body(order.order_id, APPROVED_CARD)).await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert_eq!(res.code(), "order_expired");
    assert!(s.payments_for(order.order_id).await.is_empty());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(s.events_for(order.order_id).await.is_empty());
}

#[tokio::test]
async fn a_cancelled_order_cannot_be_paid() {
    let s = stack().start().await;
    let (buyer, order) = s.buyer_with_order("ada@example.com", 2550).await;
    s.publish(&cancelled_envelope(&order, CancelReason::UserCancelled))
        .await;
    s.wait_for_order(order.order_id, |o| {
        o.status == payment_service::domain::OrderStatus::Cancelled
    })
    .await;
    let res = buyer.pay(&card_body(order.order_id, APPROVED_CARD)).await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert_eq!(res.code(), "order_cancelled");
}

#[tokio::test]
async fn invalid_payment_details_are_refused_with_field_errors() {
    let s = stack().start().await;
    let buyer = s.buyer("ada@example.com").await;
    let order = Uuid::new_v4();
    let card = |details: Value| json!({"orderId": order, "paymentMethod": "credit_card", "paymentDetails": details});
    let good = card_body(order, APPROVED_CARD)["paymentDetails"].clone();
    let with = |field: &str, value: Value| {
        let mut d = good.clone();
        d[field] = value;
        card(d)
    };
    let cases = [
        (
            with("cardNumber", json!("4242 4242 4242 4241")),
            "paymentDetails.cardNumber",
        ),
        (with("expiryYear", json!(2020)), "paymentDetails.expiryYear"),
        (with("expiryMonth", json!(13)), "paymentDetails.expiryMonth"),
        (with("cvc", json!("12")), "paymentDetails.cvc"),
        (with("cvc", json!("12345")), "paymentDetails.cvc"),
        (
            json!({"orderId": order, "paymentMethod": "cash", "paymentDetails": good}),
            "paymentMethod",
        ),
        (
            json!({"orderId": order, "paymentMethod": "paypal", "paymentDetails": {}}),
            "paymentDetails.email",
        ),
        (
            json!({"orderId": order, "paymentMethod": "paypal", "paymentDetails": {"email": "not-an-email"}}),
            "paymentDetails.email",
        ),
        (
            json!({"orderId": "42", "paymentMethod": "paypal", "paymentDetails": {"email": "a@b.co"}}),
            "orderId",
        ),
        (json!({}), "paymentDetails"),
    ];
    for (body, field) in cases {
        let res = buyer.pay(&body).await;
        assert_eq!(res.status, 422, "{body}: {}", res.text);
        assert_eq!(res.code(), "validation_failed");
        assert!(
            res.json()["error"]["fields"][field].is_array(),
            "{field} not named for {body}: {}",
            res.text
        );
    }
    let malformed = buyer
        .pay_with(|r| {
            r.header("content-type", "application/json")
                .body("{not json")
        })
        .await;
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.code(), "malformed_json");
}
