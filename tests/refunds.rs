//! After the sale, end to end with the real payment service: cancelling an event refunds every
//! paid order once and ends every pending one (also when the payment service stops halfway and
//! comes back), and an organizer refunds one order through the gateway.

use std::collections::HashMap;
use std::time::Duration;

use e2e::{
    DECLINED_CARD, System, book, cancel_event, order_becomes, order_id, order_when, paid_order, pay,
};
use platform::testing::{StoredEvent, TestClient, eventually, stream_events};
use serde_json::{Value, json};
use uuid::Uuid;

/// The `reason` of every `subject` fact, per the `key` field of its data (`paymentId` of
/// `payments.refunded`, `orderId` of `orders.cancelled`).
fn reasons(events: &[StoredEvent], subject: &str, key: &str) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for e in events.iter().filter(|e| e.subject == subject) {
        let data = &e.envelope["data"];
        out.entry(data[key].as_str().unwrap().to_string())
            .or_default()
            .push(data["reason"].as_str().unwrap().to_string());
    }
    out
}

/// How many `payments.refunded` each payment has, and their reasons.
fn refunds(events: &[StoredEvent]) -> HashMap<String, Vec<String>> {
    reasons(events, "payments.refunded", "paymentId")
}

/// `(capacity, sold, held, available)` of the event's only ticket type.
async fn seats(client: &TestClient, event: Uuid) -> (u64, u64, u64, u64) {
    let t = e2e::stock(client, event).await;
    let n = |f: &str| t[f].as_u64().unwrap();
    (n("capacity"), n("sold"), n("held"), n("available"))
}

/// The event's orders and money at the end of a cancellation: every paid order refunded once
/// for `event_cancelled` with its whole amount, every other one cancelled, every seat free and
/// one `orders.cancelled` per order.
async fn check_cancelled_event(
    system: &System,
    event: Uuid,
    paid: &[(TestClient, String, String)],
    unpaid: &[(TestClient, String)],
) {
    for (buyer, id, _) in paid {
        let o = order_becomes(buyer, id, "refunded").await;
        assert_eq!(o["cancelReason"], "event_cancelled");
        assert_eq!(o["refund"]["reason"], "event_cancelled");
        assert_eq!(o["refund"]["amountMinor"], o["totalAmountMinor"]);
        assert!(ticket_service::testing::all_void(&o));
    }
    for (buyer, id) in unpaid {
        let o = order_becomes(buyer, id, "cancelled").await;
        assert_eq!(o["cancelReason"], "event_cancelled");
        assert_eq!(o["refund"], Value::Null);
    }
    let (capacity, sold, held, available) = seats(&paid[0].0, event).await;
    assert_eq!((sold, held, available), (0, 0, capacity));

    // Let any late duplicate show, then count every fact.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let payments = stream_events(&system.js, "PAYMENTS").await;
    let refunds = refunds(&payments);
    assert_eq!(refunds.len(), paid.len(), "{refunds:?}");
    for (buyer, _, payment_id) in paid {
        assert_eq!(
            refunds.get(payment_id).map(Vec::as_slice),
            Some(["event_cancelled".to_string()].as_slice()),
            "payment {payment_id}"
        );
        refunded_payment(buyer, payment_id, "event_cancelled").await;
    }
    let orders = stream_events(&system.js, "ORDERS").await;
    let cancelled = reasons(&orders, "orders.cancelled", "orderId");
    let ids = paid
        .iter()
        .map(|(_, id, _)| id)
        .chain(unpaid.iter().map(|(_, id)| id));
    for id in ids {
        assert_eq!(
            cancelled.get(id).map(Vec::as_slice),
            Some(["event_cancelled".to_string()].as_slice()),
            "order {id}"
        );
    }
}

/// The payment as its buyer sees it, checked to be refunded for `reason`.
async fn refunded_payment(buyer: &TestClient, payment_id: &str, reason: &str) -> Value {
    let res = buyer
        .get(&format!("/api/payment/status/{payment_id}"))
        .await;
    let payment = res.json()["payment"].clone();
    assert_eq!(payment["status"], "refunded", "{payment}");
    assert_eq!(payment["refund"]["reason"], reason, "{payment}");
    payment
}

#[tokio::test]
async fn cancelling_an_event_refunds_every_paid_order_once_ends_every_pending_one_and_frees_every_seat()
 {
    let system = System::start().await;
    let (organizer, event) = system.organizer_with_event(&[("General", 30.0, 100)]).await;
    let mut paid = Vec::new();
    for quantity in [1, 2, 3] {
        paid.push(paid_order(&system, event, quantity).await);
    }
    let mut unpaid = Vec::new();
    for _ in 0..2 {
        let buyer = system.sign_up("Petra").await;
        let id = order_id(&book(&buyer, event, 2).await);
        unpaid.push((buyer, id));
    }
    // Declined once, still pending: its failed payment has nothing to refund.
    let declined = system.sign_up("Dora").await;
    let id = order_id(&book(&declined, event, 1).await);
    assert_eq!(pay(&declined, &id, DECLINED_CARD).await["status"], "failed");
    order_when(&declined, &id, "the decline on the order", |o| {
        o["failedPayments"] == 1
    })
    .await;
    unpaid.push((declined, id));
    assert_eq!(seats(&organizer, event).await, (100, 6, 5, 89));

    let cancelled = cancel_event(&organizer, event).await;
    // The organizer hears how many paid orders are being refunded: the ticket service's count.
    assert_eq!(cancelled["ordersToRefund"], 3);

    check_cancelled_event(&system, event, &paid, &unpaid).await;
    let summary = organizer
        .get(&format!("/api/tickets/events/{event}/summary"))
        .await
        .json();
    assert_eq!(
        summary["ordersByStatus"],
        json!({"pending": 0, "confirmed": 0, "cancelled": 3, "refunded": 3})
    );
    assert_eq!(summary["grossMinor"], 18_000);
    assert_eq!(summary["refundedMinor"], 18_000);
    assert_eq!(summary["netMinor"], 0);
}

#[tokio::test]
async fn a_cascade_refunds_each_payment_once_when_the_payment_service_stops_halfway_and_comes_back()
{
    let mut system = System::start().await;
    let (organizer, event) = system.organizer_with_event(&[("General", 12.5, 100)]).await;
    let mut paid = Vec::new();
    for _ in 0..8 {
        paid.push(paid_order(&system, event, 2).await);
    }
    let mut unpaid = Vec::new();
    for _ in 0..3 {
        let buyer = system.sign_up("Petra").await;
        let id = order_id(&book(&buyer, event, 1).await);
        unpaid.push((buyer, id));
    }

    // The payment service stops consuming and publishing; the ticket service ends every order.
    let stopped = system.payment_background.take().expect("running");
    stopped.stop().await;
    assert_eq!(cancel_event(&organizer, event).await["ordersToRefund"], 8);
    for (buyer, id, _) in &paid {
        order_becomes(buyer, id, "cancelled").await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = refunds(&stream_events(&system.js, "PAYMENTS").await);
    assert!(before.is_empty(), "refunded while stopped: {before:?}");

    // Back, it refunds from the cancellations it missed; stopped again after the first refund,
    // and back once more, it finishes the rest without refunding anything twice.
    let restart = |system: &System| {
        payment_service::App {
            state: system.payment_state.clone(),
        }
        .spawn_background()
    };
    let running = restart(&system);
    eventually("a first refund", || async {
        let refunds = refunds(&stream_events(&system.js, "PAYMENTS").await);
        (!refunds.is_empty()).then_some(())
    })
    .await;
    running.stop().await;
    system.payment_background = Some(restart(&system));

    check_cancelled_event(&system, event, &paid, &unpaid).await;
}

#[tokio::test]
async fn an_organizer_refunds_one_paid_order_through_the_gateway() {
    let system = System::start().await;
    let (organizer, event) = system.organizer_with_event(&[("General", 30.0, 10)]).await;
    let (buyer, id, payment_id) = paid_order(&system, event, 2).await;
    let (_, kept, _) = paid_order(&system, event, 1).await;
    let stranger = system.sign_up("Sam").await;
    let refund = format!("/api/tickets/orders/{id}/refund");

    let res = stranger.post(&refund, &json!({})).await;
    assert_eq!(res.status, 404, "{}", res.text);
    let res = buyer.post(&refund, &json!({})).await;
    assert_eq!(res.status, 404, "{}", res.text);
    let res = organizer
        .post(&refund, &json!({"reason": "Cannot come after all"}))
        .await;
    assert_eq!(res.status, 202, "{}", res.text);
    assert_eq!(res.json()["order"]["cancelReason"], "organizer_refund");

    let o = order_becomes(&buyer, &id, "refunded").await;
    assert_eq!(o["refund"]["reason"], "organizer_refund");
    assert_eq!(o["refund"]["amountMinor"], 6000);
    let payment = refunded_payment(&buyer, &payment_id, "organizer_refund").await;
    assert_eq!(payment["refund"]["orderCancelReason"], "organizer_refund");
    assert_eq!(seats(&organizer, event).await, (10, 1, 0, 9));

    tokio::time::sleep(Duration::from_millis(300)).await;
    let refunds = refunds(&stream_events(&system.js, "PAYMENTS").await);
    assert_eq!(
        refunds,
        HashMap::from([(payment_id, vec!["organizer_refund".to_string()])])
    );
    let summary = organizer
        .get(&format!("/api/tickets/events/{event}/summary"))
        .await
        .json();
    assert_eq!(summary["ordersByStatus"]["refunded"], 1);
    assert_eq!(summary["ordersByStatus"]["confirmed"], 1);
    assert_eq!(
        (
            &summary["grossMinor"],
            &summary["refundedMinor"],
            &summary["netMinor"]
        ),
        (&json!(9000), &json!(6000), &json!(3000))
    );
    let orders = organizer
        .get(&format!(
            "/api/tickets/events/{event}/orders?status=confirmed"
        ))
        .await
        .json();
    assert_eq!(orders["total"], 1);
    assert_eq!(orders["orders"][0]["id"], kept.as_str());
}
