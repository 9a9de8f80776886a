//! After the sale, over real HTTP: who may use the organizer's back office, refunds by the
//! organizer and by the buyer (inside and outside the event's refund policy), the attendee list
//! as CSV, the summary against the orders, and finding orders by name, status and page.

mod support;

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use platform::testing::{TestClient, TestResponse, wait_for_facts};
use serde_json::{Value, json};
use support::{World, book, cancel, id};
use ticket_service::attendees;
use ticket_service::testing::{all_void, issued_tickets, ticket_codes};
use uuid::Uuid;

fn in_days(days: i64) -> DateTime<Utc> {
    Utc::now() + Duration::days(days)
}

fn no_refunds() -> Value {
    json!({"allowed": false, "untilHoursBefore": 0})
}

fn refunds_until(hours_before: u32) -> Value {
    json!({"allowed": true, "untilHoursBefore": hours_before})
}

fn refund_path(order: &str) -> String {
    format!("/api/tickets/orders/{order}/refund")
}

/// Books `quantity` GA seats of `event` for the named customer; the `201` answer.
async fn book_for(
    client: &TestClient,
    event: Uuid,
    (first, last, email): (&str, &str, &str),
    quantity: u32,
) -> Value {
    let res = client
        .post(
            "/api/tickets/book",
            &json!({
                "eventId": event,
                "tickets": [{"ticketType": "GA", "quantity": quantity}],
                "customerInfo": {"firstName": first, "lastName": last, "email": email},
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.json()
}

/// A booking of one GA seat, paid.
async fn paid_order(world: &World, buyer: &TestClient, event: Uuid) -> Value {
    let order = book(buyer, event, &[("GA", 1)]).await.json();
    world.pay(buyer, &order).await;
    order
}

fn is(res: &TestResponse, status: u16, code: &str) -> bool {
    res.status == status && res.code() == code
}

#[tokio::test]
async fn every_back_office_route_is_401_anonymous_404_to_anyone_else_and_open_to_the_organizer_and_an_admin()
 {
    let world = World::start().await;
    let (organizer, event) = world.organizer_with_event(no_refunds(), 20).await;
    let buyer = world.buyer().await;
    let first = paid_order(&world, &buyer, event).await;
    let second = paid_order(&world, &buyer, event).await;
    let anonymous = TestClient::new(world.tickets.url());
    let stranger = world.buyer().await;
    let admin = world.admin().await;

    let reads = [
        format!("/api/tickets/events/{event}/orders"),
        format!("/api/tickets/events/{event}/attendees.csv"),
        format!("/api/tickets/events/{event}/summary"),
    ];
    for path in &reads {
        assert!(
            is(&anonymous.get(path).await, 401, "unauthorized"),
            "{path}"
        );
        // Someone else, and the buyer of one of its orders: the event is not theirs to manage.
        for other in [&stranger, &buyer] {
            let res = other.get(path).await;
            assert!(is(&res, 404, "event_not_found"), "{path}: {}", res.text);
        }
        for allowed in [&organizer, &admin] {
            let res = allowed.get(path).await;
            assert_eq!(res.status, 200, "{path}: {}", res.text);
        }
    }
    let unknown = format!("/api/tickets/events/{}/summary", Uuid::new_v4());
    assert!(is(&admin.get(&unknown).await, 404, "event_not_found"));
    assert!(is(
        &admin.get("/api/tickets/events/not-an-id/orders").await,
        404,
        "event_not_found"
    ));

    let body = json!({});
    let path = refund_path(&id(&first));
    assert!(is(&anonymous.post(&path, &body).await, 401, "unauthorized"));
    for other in [&stranger, &buyer] {
        let res = other.post(&path, &body).await;
        assert!(is(&res, 404, "order_not_found"), "{}", res.text);
    }
    let res = organizer.post(&path, &body).await;
    assert_eq!(res.status, 202, "{}", res.text);
    let res = admin.post(&refund_path(&id(&second)), &body).await;
    assert_eq!(res.status, 202, "{}", res.text);
    let unknown = refund_path(&Uuid::new_v4().to_string());
    assert!(is(
        &admin.post(&unknown, &body).await,
        404,
        "order_not_found"
    ));
}

#[tokio::test]
async fn an_organizer_refund_ends_the_paid_order_at_once_and_the_payments_refund_marks_it_refunded()
{
    let world = World::start().await;
    let (organizer, event) = world.organizer_with_event(no_refunds(), 20).await;
    let buyer = world.buyer().await;
    let order = book(&buyer, event, &[("GA", 2)]).await.json();
    let payment = world.pay(&buyer, &order).await;
    assert_eq!(world.seats(event, "GA").await, (2, 0, 18));

    let res = organizer
        .post(
            &refund_path(&id(&order)),
            &json!({"reason": "  Double booking, agreed by phone  "}),
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.text);
    let o = &res.json()["order"];
    assert_eq!(o["status"], "cancelled");
    assert_eq!(o["cancelReason"], "organizer_refund");
    assert!(o["paidAt"].is_string() && o["cancelledAt"].is_string());
    assert_eq!(o["refund"], Value::Null);
    assert_eq!(issued_tickets(o).len(), 2);
    assert!(all_void(o));
    assert_eq!(world.seats(event, "GA").await, (0, 0, 20));
    let cancelled = wait_for_facts(&world.js, "ORDERS", "orders.cancelled").await;
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0].envelope["data"]["reason"], "organizer_refund");
    assert_eq!(
        cancelled[0].envelope["data"]["orderId"],
        id(&order).as_str()
    );

    // A second click finds it no longer confirmed.
    let again = organizer.post(&refund_path(&id(&order)), &json!({})).await;
    assert!(is(&again, 409, "order_not_confirmed"), "{}", again.text);

    world.refund(&payment, "organizer_refund").await;
    let o = world.order_becomes(&buyer, &id(&order), "refunded").await;
    assert_eq!(o["refund"]["amountMinor"], 3000);
    assert_eq!(o["refund"]["reason"], "organizer_refund");
    assert!(o["refund"]["refundedAt"].is_string());
    assert_eq!(world.seats(event, "GA").await, (0, 0, 20));

    // A pending order has nothing to refund; a reason over 500 characters is refused.
    let pending = book(&buyer, event, &[("GA", 1)]).await.json();
    let res = organizer
        .post(&refund_path(&id(&pending)), &json!({}))
        .await;
    assert!(is(&res, 409, "order_not_confirmed"), "{}", res.text);
    let paid = paid_order(&world, &buyer, event).await;
    let res = organizer
        .post(
            &refund_path(&id(&paid)),
            &json!({"reason": "x".repeat(501)}),
        )
        .await;
    assert!(is(&res, 422, "validation_failed"), "{}", res.text);
    assert!(res.json()["error"]["fields"]["reason"].is_array());
    assert_eq!(world.order(&buyer, &id(&paid)).await["status"], "confirmed");
}

#[tokio::test]
async fn a_buyer_cancels_a_paid_order_for_a_refund_while_the_policy_allows_and_a_pending_one_outright()
 {
    let world = World::start().await;
    let (_, event) = world.organizer_with_event(refunds_until(48), 20).await;
    let buyer = world.buyer().await;
    let order = book(&buyer, event, &[("GA", 2)]).await.json();
    let payment = world.pay(&buyer, &order).await;

    let res = cancel(&buyer, &id(&order)).await;
    assert_eq!(res.status, 202, "{}", res.text);
    let o = &res.json()["order"];
    assert_eq!(o["status"], "cancelled");
    assert_eq!(o["cancelReason"], "buyer_refund");
    assert!(all_void(o));
    assert_eq!(world.seats(event, "GA").await, (0, 0, 20));
    let fact = &wait_for_facts(&world.js, "ORDERS", "orders.cancelled").await[0];
    assert_eq!(fact.envelope["data"]["reason"], "buyer_refund");

    world.refund(&payment, "buyer_refund").await;
    let o = world.order_becomes(&buyer, &id(&order), "refunded").await;
    assert_eq!(o["refund"]["reason"], "buyer_refund");
    let again = cancel(&buyer, &id(&order)).await;
    assert!(is(&again, 409, "order_not_pending"), "{}", again.text);

    let pending = book(&buyer, event, &[("GA", 1)]).await.json();
    let res = cancel(&buyer, &id(&pending)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["order"]["cancelReason"], "user_cancelled");
}

#[tokio::test]
async fn a_buyer_may_not_cancel_a_paid_order_after_the_deadline_or_when_refunds_are_not_offered() {
    let world = World::start().await;
    let (_, organizer_id) = world.user().await;
    // Starts in a day, refunds only until two days before: the deadline has passed.
    let starts = in_days(1);
    let late = world.organized_event(organizer_id, starts, refunds_until(48), &[("GA", 1500, 5)]);
    let never = world.organized_event(organizer_id, in_days(30), no_refunds(), &[("GA", 1500, 5)]);
    let buyer = world.buyer().await;

    let order = paid_order(&world, &buyer, late).await;
    let res = cancel(&buyer, &id(&order)).await;
    assert!(is(&res, 409, "refund_not_allowed"), "{}", res.text);
    let deadline = (starts - Duration::hours(48))
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let message = res.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(message.contains(&deadline), "{message}");
    assert_eq!(
        world.order(&buyer, &id(&order)).await["status"],
        "confirmed"
    );
    assert_eq!(world.seats(late, "GA").await, (1, 0, 4));

    let order = paid_order(&world, &buyer, never).await;
    let res = cancel(&buyer, &id(&order)).await;
    assert!(is(&res, 409, "refund_not_allowed"), "{}", res.text);
    assert_eq!(
        res.json()["error"]["message"],
        "Refunds are not offered for this event."
    );
    assert_eq!(
        world.order(&buyer, &id(&order)).await["status"],
        "confirmed"
    );
}

#[tokio::test]
async fn the_attendee_list_is_csv_with_a_row_per_ticket_whose_names_read_back_as_given() {
    let world = World::start().await;
    let (organizer, event) = world.organizer_with_event(no_refunds(), 20).await;
    let buyer = world.buyer().await;
    let zoe = (r#"Zoë "Zee""#, "O'Brien, Jr.", "zoe@example.com");
    let first = book_for(&buyer, event, zoe, 2).await;
    world.pay(&buyer, &first).await;
    let second = paid_order(&world, &buyer, event).await;
    let res = organizer.post(&refund_path(&id(&second)), &json!({})).await;
    assert_eq!(res.status, 202, "{}", res.text);
    // A pending order has no tickets yet.
    book(&buyer, event, &[("GA", 1)]).await;

    let res = organizer
        .get(&format!("/api/tickets/events/{event}/attendees.csv"))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(
        res.header("content-disposition"),
        Some(format!("attachment; filename=\"attendees-{event}.csv\"").as_str())
    );
    assert!(
        res.text.contains(r#""Zoë ""Zee"" O'Brien, Jr.""#),
        "{}",
        res.text
    );

    let mut reader = csv::Reader::from_reader(res.text.as_bytes());
    assert_eq!(reader.headers().unwrap(), attendees::COLUMNS.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3, "{}", res.text);
    let codes = ticket_codes(&world.order(&buyer, &id(&first)).await);
    let listed: HashSet<String> = rows[..2].iter().map(|r| r[0].to_string()).collect();
    assert_eq!(listed, codes);
    for row in &rows[..2] {
        assert_eq!(&row[1], "GA");
        assert_eq!(&row[2], r#"Zoë "Zee" O'Brien, Jr."#);
        assert_eq!(&row[3], "zoe@example.com");
        assert_eq!(&row[4], first["bookingReference"].as_str().unwrap());
        assert_eq!(&row[5], "confirmed");
        assert_eq!(&row[6], "");
    }
    // The refunded order's ticket is listed too, void with its order.
    assert_eq!(&rows[2][4], second["bookingReference"].as_str().unwrap());
    assert_eq!(&rows[2][5], "cancelled");
}

#[tokio::test]
async fn the_summarys_totals_are_the_sums_of_the_events_orders() {
    let world = World::start().await;
    let (organizer, organizer_id) = world.user().await;
    let event = world.organized_event(
        organizer_id,
        in_days(30),
        no_refunds(),
        &[("GA", 1500, 20), ("VIP", 5000, 5)],
    );
    let buyer = world.buyer().await;
    let a = book(&buyer, event, &[("GA", 2)]).await.json();
    world.pay(&buyer, &a).await;
    let b = book(&buyer, event, &[("GA", 1), ("VIP", 1)]).await.json();
    world.pay(&buyer, &b).await;
    let c = book(&buyer, event, &[("VIP", 2)]).await.json();
    let c_payment = world.pay(&buyer, &c).await;
    let res = organizer.post(&refund_path(&id(&c)), &json!({})).await;
    assert_eq!(res.status, 202, "{}", res.text);
    world.refund(&c_payment, "organizer_refund").await;
    world.order_becomes(&buyer, &id(&c), "refunded").await;
    book(&buyer, event, &[("GA", 3)]).await;
    let e = book(&buyer, event, &[("GA", 1)]).await.json();
    let res = cancel(&buyer, &id(&e)).await;
    assert_eq!(res.status, 200, "{}", res.text);

    let summary = organizer
        .get(&format!("/api/tickets/events/{event}/summary"))
        .await
        .json();
    let orders = organizer
        .get(&format!("/api/tickets/events/{event}/orders?limit=100"))
        .await
        .json();
    let orders = orders["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 5);

    assert_eq!(summary["eventId"], event.to_string());
    assert_eq!(summary["currency"], "USD");
    let by_status = &summary["ordersByStatus"];
    assert_eq!(
        by_status,
        &json!({"pending": 1, "confirmed": 2, "cancelled": 1, "refunded": 1})
    );
    for status in ["pending", "confirmed", "cancelled", "refunded"] {
        let counted = orders.iter().filter(|o| o["status"] == status).count();
        assert_eq!(by_status[status], counted, "{status}");
    }
    let minor = |o: &Value| o["totalAmountMinor"].as_i64().unwrap();
    let gross: i64 = orders
        .iter()
        .filter(|o| o["paidAt"].is_string())
        .map(minor)
        .sum();
    let refunded: i64 = orders
        .iter()
        .filter(|o| o["refundedAt"].is_string())
        .map(minor)
        .sum();
    assert_eq!((gross, refunded), (3000 + 6500 + 10_000, 10_000));
    assert_eq!(summary["grossMinor"], gross);
    assert_eq!(summary["refundedMinor"], refunded);
    assert_eq!(summary["netMinor"], gross - refunded);

    let days = summary["salesPerDay"].as_array().unwrap();
    let today = Utc::now().date_naive().to_string();
    assert!(days.iter().all(|d| d["date"] == today.as_str()), "{days:?}");
    let sum = |field: &str| days.iter().map(|d| d[field].as_i64().unwrap()).sum::<i64>();
    assert_eq!(sum("amountMinor"), gross);
    assert_eq!(sum("orders"), 3);
    assert_eq!(sum("tickets"), 6);

    assert_eq!(
        summary["ticketTypes"],
        json!([
            {"name": "GA", "capacity": 20, "sold": 3, "held": 3, "available": 14},
            {"name": "VIP", "capacity": 5, "sold": 1, "held": 0, "available": 4},
        ])
    );
}

#[tokio::test]
async fn a_published_event_nobody_booked_yet_has_an_empty_back_office() {
    let world = World::start().await;
    let (organizer, event) = world.organizer_with_event(no_refunds(), 20).await;

    let summary = organizer
        .get(&format!("/api/tickets/events/{event}/summary"))
        .await;
    assert_eq!(summary.status, 200, "{}", summary.text);
    let summary = summary.json();
    assert_eq!(
        summary["ordersByStatus"],
        json!({"pending": 0, "confirmed": 0, "cancelled": 0, "refunded": 0})
    );
    assert_eq!(
        (
            &summary["grossMinor"],
            &summary["netMinor"],
            &summary["salesPerDay"]
        ),
        (&json!(0), &json!(0), &json!([]))
    );
    assert_eq!(summary["ticketTypes"][0]["available"], 20);
    let orders = organizer
        .get(&format!("/api/tickets/events/{event}/orders"))
        .await
        .json();
    assert_eq!(
        orders,
        json!({"orders": [], "total": 0, "page": 1, "limit": 20})
    );
    let csv = organizer
        .get(&format!("/api/tickets/events/{event}/attendees.csv"))
        .await;
    assert_eq!(csv.text.lines().count(), 1, "{}", csv.text);
}

#[tokio::test]
async fn orders_are_found_by_name_email_or_reference_filtered_by_status_and_paged_newest_first() {
    let world = World::start().await;
    let (organizer, event) = world.organizer_with_event(no_refunds(), 20).await;
    let buyer = world.buyer().await;
    let people = [
        ("Ada", "Lovelace", "ada@example.com"),
        ("Grace", "Hopper", "grace@navy.mil"),
        ("Alan", "Turing", "alan@example.org"),
        ("Ada", "Byron", "countess@example.com"),
        ("Linus", "Torvalds", "linus@example.com"),
    ];
    let mut booked = Vec::new();
    for person in people {
        booked.push(book_for(&buyer, event, person, 1).await);
        // Distinct booking times, so newest first is one order.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    world.pay(&buyer, &booked[1]).await;
    world.pay(&buyer, &booked[2]).await;

    let list = |query: String| {
        let organizer = organizer.clone();
        async move {
            let res = organizer
                .get(&format!("/api/tickets/events/{event}/orders?{query}"))
                .await;
            assert_eq!(res.status, 200, "{query}: {}", res.text);
            res.json()
        }
    };
    let names = |page: &Value| -> Vec<String> {
        page["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["buyerName"].as_str().unwrap().to_string())
            .collect()
    };

    assert_eq!(
        names(&list("q=ADA".into()).await),
        ["Ada Byron", "Ada Lovelace"]
    );
    assert_eq!(names(&list("q=example.org".into()).await), ["Alan Turing"]);
    let reference = booked[4]["bookingReference"].as_str().unwrap();
    let part = reference[3..9].to_lowercase();
    assert_eq!(names(&list(format!("q={part}")).await), ["Linus Torvalds"]);
    assert_eq!(
        names(&list("status=confirmed".into()).await),
        ["Alan Turing", "Grace Hopper"]
    );
    assert_eq!(
        names(&list("status=confirmed&q=hopper".into()).await),
        ["Grace Hopper"]
    );
    assert!(names(&list("status=refunded".into()).await).is_empty());

    let first = list("limit=2".into()).await;
    assert_eq!(names(&first), ["Linus Torvalds", "Ada Byron"]);
    assert_eq!(
        (&first["total"], &first["page"], &first["limit"]),
        (&json!(5), &json!(1), &json!(2))
    );
    let last = list("page=3&limit=2".into()).await;
    assert_eq!(names(&last), ["Ada Lovelace"]);
    assert_eq!(last["total"], 5);

    let row = &list("q=grace".into()).await["orders"][0];
    assert_eq!(row["buyerEmail"], "grace@navy.mil");
    assert_eq!(row["bookingReference"], booked[1]["bookingReference"]);
    assert_eq!(row["totalAmountMinor"], 1500);
    assert_eq!(row["lines"][0]["ticketType"]["name"], "GA");
    assert!(row["paidAt"].is_string() && row["refundedAt"].is_null());

    for bad in ["status=paid", "page=0", "limit=many", "sort=total"] {
        let res = organizer
            .get(&format!("/api/tickets/events/{event}/orders?{bad}"))
            .await;
        assert!(is(&res, 400, "invalid_query"), "{bad}: {}", res.text);
    }
}
