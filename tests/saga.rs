//! The order life cycle end to end: book -> pay -> confirm over real HTTP and a real broker, and
//! the invariants that must hold whatever order things happen in.

use std::time::Duration;

use e2e::{
    APPROVED_CARD, DECLINED_CARD, Stage, System, book, order_becomes, order_id, order_of,
    order_when, pay, stock, try_book, try_pay,
};
use platform::testing::{TestClient, stream_events, wait_for_events, wait_for_facts};
use uuid::Uuid;

fn trace_id(traceparent: &Option<String>) -> Option<String> {
    traceparent
        .as_ref()
        .and_then(|t| t.split('-').nth(1))
        .map(str::to_string)
}

#[tokio::test]
async fn book_pay_and_confirm_leave_causally_ordered_facts_with_one_trace() {
    let system = System::start().await;
    let Stage { event, buyer, .. } = system.stage(&[("General", 30.0, 100)]).await;
    let order_id = order_id(&book(&buyer, event, 2).await);

    assert_eq!(
        pay(&buyer, &order_id, APPROVED_CARD).await["status"],
        "completed"
    );

    let order = order_becomes(&buyer, &order_id, "confirmed").await;
    let codes = ticket_service::testing::ticket_codes(&order);
    assert_eq!(codes.len(), 2, "two distinct e-tickets");

    let orders = wait_for_events(&system.js, "ORDERS", |e| {
        e.iter().any(|e| e.subject == "orders.confirmed")
    })
    .await;
    let payments = stream_events(&system.js, "PAYMENTS").await;
    let created = orders
        .iter()
        .find(|e| e.subject == "orders.created")
        .unwrap();
    let completed = payments
        .iter()
        .find(|e| e.subject == "payments.completed")
        .unwrap();
    let confirmed = orders
        .iter()
        .find(|e| e.subject == "orders.confirmed")
        .unwrap();
    let time = |e: &platform::testing::StoredEvent| {
        e.envelope["time"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    };
    assert!(
        time(created) <= time(completed) && time(completed) <= time(confirmed),
        "causal order"
    );
    assert_eq!(completed.envelope["data"]["orderId"], order_id.as_str());
    assert_eq!(
        confirmed.envelope["data"]["paymentId"],
        completed.envelope["data"]["paymentId"]
    );
    // A browser sends no trace context: the order's id roots one trace for its whole life.
    let order_trace = Some(order_id.replace('-', ""));
    assert_eq!(trace_id(&created.traceparent), order_trace);
    assert_eq!(trace_id(&completed.traceparent), order_trace);
    assert_eq!(trace_id(&confirmed.traceparent), order_trace);
}

#[tokio::test]
async fn a_declined_card_then_the_success_card_confirms_the_order() {
    let system = System::start().await;
    let Stage { event, buyer, .. } = system.stage(&[("General", 30.0, 10)]).await;
    let order_id = order_id(&book(&buyer, event, 1).await);

    let declined = pay(&buyer, &order_id, DECLINED_CARD).await;
    assert_eq!(declined["status"], "failed");
    let what = "the decline on the order";
    order_when(&buyer, &order_id, what, |o| o["failedPayments"] == 1).await;

    let ok = try_pay(&buyer, &order_id, APPROVED_CARD).await;
    assert_eq!(ok.json()["payment"]["status"], "completed", "{}", ok.text);
    let order = order_becomes(&buyer, &order_id, "confirmed").await;
    assert_eq!(order["paymentAttempts"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn three_declines_cancel_the_order_and_put_the_seats_back() {
    let system = System::start().await;
    let Stage { event, buyer, .. } = system.stage(&[("General", 30.0, 10)]).await;
    let order_id = order_id(&book(&buyer, event, 4).await);
    for attempt in 1..=3 {
        let res = try_pay(&buyer, &order_id, DECLINED_CARD).await;
        assert!(
            res.status == 201 || res.status == 409,
            "attempt {attempt}: {}",
            res.text
        );
        order_when(&buyer, &order_id, "the decline to be counted", |o| {
            o["failedPayments"].as_u64() >= Some(attempt) || o["status"] == "cancelled"
        })
        .await;
    }
    let order = order_becomes(&buyer, &order_id, "cancelled").await;
    assert_eq!(order["cancelReason"], "payment_failed");
    assert_eq!(stock(&buyer, event).await["available"], 10);
    let late = try_pay(&buyer, &order_id, APPROVED_CARD).await;
    assert_eq!(
        late.status, 409,
        "a cancelled order cannot be paid: {}",
        late.text
    );
}

#[tokio::test]
async fn paying_after_the_hold_expired_is_refused_without_a_charge() {
    let system = System::with_hold(Duration::from_secs(1)).await;
    let Stage { event, buyer, .. } = system.stage(&[("General", 30.0, 10)]).await;
    let order_id = order_id(&book(&buyer, event, 1).await);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let res = try_pay(&buyer, &order_id, APPROVED_CARD).await;
    assert_eq!(res.status, 409, "{}", res.text);
    order_becomes(&buyer, &order_id, "cancelled").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let payments = stream_events(&system.js, "PAYMENTS").await;
    assert!(
        payments.iter().all(|e| e.subject != "payments.completed"),
        "no charge"
    );
}

#[tokio::test]
async fn an_order_confirms_once_the_ticket_service_is_back_after_missing_the_payment() {
    let mut system = System::start().await;
    let Stage { event, buyer, .. } = system.stage(&[("General", 30.0, 10)]).await;
    let order_id = order_id(&book(&buyer, event, 2).await);
    wait_for_facts(&system.js, "ORDERS", "orders.created").await;
    // Let the payment service learn the order, then take the ticket service's workers down.
    tokio::time::sleep(Duration::from_millis(300)).await;
    system.tickets.stop_background().await;

    let res = try_pay(&buyer, &order_id, APPROVED_CARD).await;
    assert_eq!(res.json()["payment"]["status"], "completed", "{}", res.text);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let still = order_of(&buyer, &order_id).await;
    assert_eq!(
        still["status"], "pending",
        "nobody consumed the payment yet"
    );

    system.tickets.background = Some(system.tickets.app.spawn_background());
    order_becomes(&buyer, &order_id, "confirmed").await;
}

/// Checks every invariant of the life cycle over the state of one event; `Err` names the first
/// one broken. Returns (confirmed, cancelled) order counts.
async fn check_invariants(
    buyers: &[TestClient],
    event: Uuid,
    capacity: u64,
) -> Result<(usize, usize), String> {
    let t = stock(&buyers[0], event).await;
    let (sold, held) = (t["sold"].as_u64().unwrap(), t["held"].as_u64().unwrap());
    if sold + held > capacity {
        return Err(format!("sold {sold} + held {held} > capacity {capacity}"));
    }
    let mut confirmed_seats = 0;
    let (mut confirmed, mut cancelled) = (0, 0);
    for b in buyers {
        for o in b.get("/api/tickets/orders").await.json()["orders"]
            .as_array()
            .unwrap()
        {
            let id = o["id"].as_str().unwrap();
            let res = b.get(&format!("/api/payment/orders/{id}")).await;
            let payments = if res.status == 200 {
                res.json()["payments"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            } else {
                vec![]
            };
            let completed = payments
                .iter()
                .filter(|p| p["status"] == "completed")
                .count();
            match o["status"].as_str().unwrap() {
                "confirmed" => {
                    confirmed += 1;
                    confirmed_seats += o["tickets"][0]["quantity"].as_u64().unwrap();
                    if completed != 1 {
                        return Err(format!(
                            "confirmed order {id} has {completed} completed payments"
                        ));
                    }
                }
                "cancelled" => {
                    cancelled += 1;
                    if completed != 0 {
                        return Err(format!(
                            "cancelled order {id} still has a completed (unrefunded) payment"
                        ));
                    }
                }
                other => return Err(format!("order {id} is still {other}")),
            }
        }
    }
    if sold != confirmed_seats {
        return Err(format!(
            "{sold} seats sold but confirmed orders hold {confirmed_seats}"
        ));
    }
    Ok((confirmed, cancelled))
}

/// Waits up to 15 s for the invariants to hold (refunds and confirmations travel through the
/// broker), then fails with the one still broken.
async fn invariants_hold(buyers: &[TestClient], event: Uuid, capacity: u64) -> (usize, usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        match check_invariants(buyers, event, capacity).await {
            Ok(counts) => return counts,
            Err(broken) if std::time::Instant::now() > deadline => {
                panic!("invariant broken: {broken}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

#[tokio::test]
async fn a_hundred_buyers_for_fifty_seats_who_all_pay_get_exactly_fifty_confirmed_orders() {
    let system = System::start().await;
    let (_, event) = system.organizer_with_event(&[("General", 20.0, 50)]).await;
    let buyers = system.sign_ups("b", 100).await;
    let runs = buyers
        .iter()
        .cloned()
        .map(|b| {
            tokio::spawn(async move {
                let res = try_book(&b, event, 1).await;
                if res.status != 201 {
                    assert_eq!(res.code(), "sold_out");
                    return false;
                }
                let id = order_id(&res.json());
                pay(&b, &id, APPROVED_CARD).await;
                true
            })
        })
        .collect::<Vec<_>>();
    let mut booked = 0;
    for r in runs {
        if r.await.unwrap() {
            booked += 1;
        }
    }
    assert_eq!(booked, 50);
    let (confirmed, cancelled) = invariants_hold(&buyers, event, 50).await;
    assert_eq!((confirmed, cancelled), (50, 0));
    let payments = stream_events(&system.js, "PAYMENTS").await;
    assert_eq!(
        payments
            .iter()
            .filter(|e| e.subject == "payments.completed")
            .count(),
        50
    );
    assert_eq!(
        payments
            .iter()
            .filter(|e| e.subject == "payments.refunded")
            .count(),
        0
    );
}

#[tokio::test]
async fn payments_racing_expiry_end_confirmed_or_cancelled_and_refunded_never_both() {
    let system = System::with_hold(Duration::from_millis(1000)).await;
    let (_, event) = system.organizer_with_event(&[("General", 20.0, 200)]).await;
    let buyers = system.sign_ups("r", 20).await;
    // Each buyer books and pays at a different moment around the end of the hold.
    let runs = buyers
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, b)| {
            tokio::spawn(async move {
                for round in 0..3u64 {
                    let order = try_book(&b, event, 1).await.json();
                    let id = order_id(&order);
                    let delay = 850 + ((i as u64 * 37 + round * 53) % 300);
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    try_pay(&b, &id, APPROVED_CARD).await;
                }
            })
        })
        .collect::<Vec<_>>();
    for r in runs {
        r.await.unwrap();
    }
    let (confirmed, cancelled) = invariants_hold(&buyers, event, 200).await;
    assert_eq!(confirmed + cancelled, 60);
}
