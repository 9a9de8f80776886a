//! The whole system through the gateway, as a person with a browser uses it.

use std::time::Duration;

use e2e::{
    Stage, System, book, cancel_event, order_becomes, order_id, order_of, pay, stock, try_book,
};
use platform::testing::{TestClient, eventually, wait_for_facts};
use serde_json::json;
use uuid::Uuid;

/// Waits until the order is cancelled for `reason`, then checks that the event's stock shows
/// `available` seats again.
async fn ends_cancelled_with_seats_back(
    buyer: &TestClient,
    order_id: &str,
    reason: &str,
    event: Uuid,
    available: u64,
) {
    let cancelled = order_becomes(buyer, order_id, "cancelled").await;
    assert_eq!(cancelled["cancelReason"], reason);
    assert_eq!(stock(buyer, event).await["available"], available);
}

#[tokio::test]
async fn an_organizer_creates_an_event_and_a_buyer_books_it_through_the_gateway() {
    let system = System::start().await;
    let Stage { event, buyer, .. } = system
        .stage(&[("General", 25.5, 100), ("VIP", 80.0, 10)])
        .await;
    let list = buyer.get("/api/events?category=Music").await.json();
    assert!(
        list["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == event.to_string())
    );

    let res = buyer
        .post(
            "/api/tickets/book",
            &json!({"eventId": event, "tickets": [{"ticketType": "General", "quantity": 2}, {"ticketType": "VIP", "quantity": 1}]}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let booking = res.json();
    assert_eq!(booking["totalAmount"], json!(131));
    let availability = buyer
        .get(&format!("/api/tickets/events/{event}/availability"))
        .await
        .json();
    assert_eq!(availability["ticketTypes"][0]["available"], 98);
    assert_eq!(availability["ticketTypes"][1]["held"], 1);

    let orders = buyer.get("/api/tickets/orders").await.json();
    assert_eq!(
        orders["orders"][0]["bookingReference"],
        booking["bookingReference"]
    );
    assert_eq!(orders["orders"][0]["event"]["title"], "Night of Tests");

    // The catalogue fact and the order fact are both on their streams.
    wait_for_facts(&system.js, "CATALOG", "catalog.events.published").await;
    wait_for_facts(&system.js, "ORDERS", "orders.created").await;
}

#[tokio::test]
async fn a_cancelled_event_cancels_the_pending_orders_booked_through_the_gateway() {
    let system = System::start().await;
    let Stage {
        organizer,
        event,
        buyer,
    } = system.stage(&[("General", 10.0, 50)]).await;
    let order_id = order_id(&book(&buyer, event, 4).await);

    cancel_event(&organizer, event).await;
    ends_cancelled_with_seats_back(&buyer, &order_id, "event_cancelled", event, 50).await;
}

#[tokio::test]
async fn added_seats_reach_the_ticket_service_from_the_catalogue_stream() {
    let system = System::start().await;
    let Stage {
        organizer,
        event,
        buyer,
    } = system.stage(&[("General", 10.0, 2)]).await;
    let book = |q: u32| try_book(&buyer, event, q);
    assert_eq!(book(2).await.status, 201);
    assert_eq!(book(1).await.code(), "sold_out");

    let event_json = organizer.get(&format!("/api/events/{event}")).await.json()["event"].clone();
    let mut venue = event_json["venue"].clone();
    venue["capacity"] = json!(100);
    let res = organizer
        .patch(
            &format!("/api/events/{event}"),
            &json!({"venue": venue, "ticketTypes": [{"name": "General", "price": 10.0, "quantity": 5, "description": ""}]}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    eventually("the added seats to be bookable", || async {
        let r = book(3).await;
        (r.status == 201).then_some(())
    })
    .await;
}

#[tokio::test]
async fn an_unpaid_order_booked_through_the_gateway_expires() {
    let system = System::with_hold(Duration::from_secs(1)).await;
    let Stage { event, buyer, .. } = system.stage(&[("General", 10.0, 5)]).await;
    let order_id = order_id(&book(&buyer, event, 5).await);
    ends_cancelled_with_seats_back(&buyer, &order_id, "expired", event, 5).await;
}

#[tokio::test]
async fn staff_the_organizer_names_scan_a_paid_ticket_through_the_gateway_once() {
    let system = System::start().await;
    let Stage {
        organizer,
        event,
        buyer,
    } = system.stage(&[("General", 12.0, 10)]).await;
    let order_id = order_id(&book(&buyer, event, 1).await);
    pay(&buyer, &order_id, e2e::APPROVED_CARD).await;
    let paid = order_becomes(&buyer, &order_id, "confirmed").await;
    let details = order_of(&buyer, &order_id).await;
    let signed = details["issuedTickets"][0]["signedCode"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(paid["id"], details["id"]);

    // The organizer names a door keeper in the catalogue; the ticket service hears of it.
    let door = system.sign_up("Dora").await;
    let email = door.get("/api/auth/me").await.json()["user"]["email"]
        .as_str()
        .unwrap()
        .to_uppercase();
    let named = organizer
        .post(
            &format!("/api/events/{event}/staff"),
            &json!({"email": email}),
        )
        .await;
    assert_eq!(named.status, 201, "{}", named.text);
    let scan = |nonce: &'static str| {
        let door = door.clone();
        let signed = signed.clone();
        async move {
            door.post(
                "/api/tickets/checkin",
                &json!({"eventId": event, "code": signed, "nonce": nonce, "gate": "Main"}),
            )
            .await
        }
    };
    let first = eventually("the staff list to reach the ticket service", || async {
        let res = scan("door-1").await;
        (res.status == 200).then_some(res.json())
    })
    .await;
    assert_eq!(first["result"], "ok");
    assert_eq!(first["holderName"], "Bruno Tester");
    assert_eq!(scan("door-2").await.json()["result"], "already_checked_in");
    let bundle = door
        .get(&format!("/api/tickets/events/{event}/checkin/bundle"))
        .await;
    assert_eq!(bundle.status, 200, "{}", bundle.text);
    assert_eq!(bundle.json()["checkedIn"].as_array().unwrap().len(), 1);
    let summary = door
        .get(&format!("/api/tickets/events/{event}/summary"))
        .await;
    assert_eq!(summary.status, 404, "staff see no revenue");
    wait_for_facts(&system.js, "TICKETS", "tickets.checked_in").await;
}
