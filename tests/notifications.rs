//! Mail end to end: a buyer books and pays through the gateway, the real ticket and payment
//! services publish their facts, and the notification service mails a real SMTP server.

use std::time::Duration;

use e2e::{
    APPROVED_CARD, DECLINED_CARD, Stage, System, book, cancel_event, cancel_order, order_becomes,
    order_id, paid_order, pay,
};
use mail_parser::{MessageParser, MimeHeaders};
use platform::testing::TestClient;

async fn email_of(client: &TestClient) -> String {
    client.get("/api/auth/me").await.json()["user"]["email"]
        .as_str()
        .unwrap()
        .to_string()
}

fn subject(raw: &[u8]) -> String {
    MessageParser::default()
        .parse(raw)
        .and_then(|m| m.subject().map(str::to_string))
        .unwrap_or_default()
}

#[tokio::test]
async fn a_buyer_who_pays_after_a_decline_gets_the_notice_and_one_confirmation_with_the_tickets() {
    let system = System::start().await;
    let Stage { event, buyer, .. } = system.stage(&[("General", 30.0, 100)]).await;
    let email = email_of(&buyer).await;
    let order_id = order_id(&book(&buyer, event, 2).await);
    assert_eq!(
        pay(&buyer, &order_id, DECLINED_CARD).await["status"],
        "failed"
    );
    assert_eq!(
        pay(&buyer, &order_id, APPROVED_CARD).await["status"],
        "completed"
    );
    let order = order_becomes(&buyer, &order_id, "confirmed").await;

    system.smtp.wait_for(2).await;
    // Anything sent twice would have arrived by now.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mails = system.smtp.received();
    let subjects: Vec<String> = mails.iter().map(|r| subject(&r.data)).collect();
    assert_eq!(mails.len(), 2, "{subjects:?}");
    assert!(mails.iter().all(|r| r.to == [email.clone()]));
    // Declines and confirmations come from two streams: either may be mailed first.
    assert_eq!(
        subjects
            .iter()
            .filter(|s| s.starts_with("Payment declined"))
            .count(),
        1,
        "{subjects:?}"
    );
    let confirmed = subjects
        .iter()
        .position(|s| s.starts_with("Your tickets for Night of Tests"))
        .unwrap_or_else(|| panic!("no confirmation in {subjects:?}"));
    let confirmation = MessageParser::default()
        .parse(&mails[confirmed].data)
        .unwrap();
    let text = confirmation.body_text(0).unwrap();
    for ticket in order["issuedTickets"].as_array().unwrap() {
        let code = ticket["code"].as_str().unwrap();
        assert!(
            text.contains(code),
            "the ticket {code} is in the mail: {text}"
        );
    }
    let images = confirmation
        .parts
        .iter()
        .filter(|p| p.content_type().is_some_and(|c| c.ctype() == "image"))
        .count();
    assert_eq!(images, 2, "one QR code per ticket");
    let ics = confirmation
        .attachments()
        .find(|p| p.attachment_name() == Some("event.ics"))
        .expect("a calendar file");
    assert!(
        std::str::from_utf8(ics.contents())
            .unwrap()
            .contains("SUMMARY:Night of Tests")
    );

    for r in &mails {
        let raw = String::from_utf8_lossy(&r.data);
        for card in [
            "4242 4242 4242 4242",
            "4242424242424242",
            "4000 0000 0000 0002",
        ] {
            assert!(!raw.contains(card), "no card data in a mail");
        }
    }

    // The buyer finds both in their list, through the gateway.
    let listed = buyer.get("/api/notifications/mine").await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let body = listed.json();
    let kinds: Vec<&str> = body["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 2);
    assert!(kinds.contains(&"order_confirmed") && kinds.contains(&"payment_declined"));
}

#[tokio::test]
async fn cancelling_an_event_tells_each_holder_once_and_confirms_each_refund() {
    let system = System::start().await;
    let (organizer, event) = system.organizer_with_event(&[("General", 30.0, 100)]).await;
    let mut holders = Vec::new();
    for quantity in [1, 2] {
        let (buyer, ..) = paid_order(&system, event, quantity).await;
        holders.push(email_of(&buyer).await);
    }
    system.smtp.wait_for(2).await;

    cancel_event(&organizer, event).await;
    // Two confirmations, then per holder the event's notice and the refund.
    system.smtp.wait_for(6).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mails = system.smtp.received();
    assert_eq!(
        mails.len(),
        6,
        "{:?}",
        mails.iter().map(|r| subject(&r.data)).collect::<Vec<_>>()
    );
    for holder in &holders {
        let theirs: Vec<String> = mails
            .iter()
            .filter(|r| r.to == [holder.clone()])
            .map(|r| subject(&r.data))
            .collect();
        let count = |prefix: &str| theirs.iter().filter(|s| s.starts_with(prefix)).count();
        assert_eq!(count("Cancelled: Night of Tests"), 1, "{theirs:?}");
        assert_eq!(count("Refund of"), 1, "{theirs:?}");
        assert_eq!(count("Your tickets"), 1, "{theirs:?}");
    }
}

/// Joins the waitlist of the event's General seats for one seat; asserts the 201.
async fn join_waitlist(buyer: &TestClient, event: uuid::Uuid) {
    let res = buyer
        .post(
            &format!("/api/tickets/events/{event}/waitlist"),
            &serde_json::json!({"ticketType": "General", "quantity": 1}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
}

#[tokio::test]
async fn cancelling_an_event_tells_each_buyer_on_its_waitlist_once_that_their_offer_or_place_ended()
{
    // Given a sold-out event whose seat came back to the first of two buyers in line
    let system = System::start().await;
    let (organizer, event) = system.organizer_with_event(&[("General", 30.0, 1)]).await;
    let holder = system.sign_up("Hal").await;
    let held = order_id(&book(&holder, event, 1).await);
    let offered = system.sign_up("Grace").await;
    let waiting = system.sign_up("Walt").await;
    join_waitlist(&offered, event).await;
    join_waitlist(&waiting, event).await;
    let res = cancel_order(&holder, &held).await;
    assert_eq!(res.status, 200, "{}", res.text);
    // The holder hears of the cancellation, the first in line of the offer.
    system.smtp.wait_for(2).await;

    // When the organizer cancels the event
    cancel_event(&organizer, event).await;

    // Then each buyer in line gets one mail saying what ended, and nobody else gets anything
    system.smtp.wait_for(4).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mails = system.smtp.received();
    let subjects: Vec<String> = mails.iter().map(|r| subject(&r.data)).collect();
    assert_eq!(mails.len(), 4, "{subjects:?}");
    let of = |email: &str| -> Vec<(String, String)> {
        mails
            .iter()
            .filter(|r| r.to == [email.to_string()])
            .map(|r| {
                let m = MessageParser::default().parse(&r.data).unwrap();
                let text = m.body_text(0).unwrap_or_default().to_string();
                (m.subject().unwrap_or_default().to_string(), text)
            })
            .collect()
    };
    let offered_mails = of(&email_of(&offered).await);
    assert_eq!(
        offered_mails.len(),
        2,
        "the offer and its end: {subjects:?}"
    );
    assert!(offered_mails[0].0.starts_with("Seats are held for you"));
    let (subject, text) = &offered_mails[1];
    assert_eq!(
        subject,
        "Seats no longer held for you: Night of Tests is cancelled"
    );
    assert!(
        text.contains("held for you are withdrawn: the event was cancelled"),
        "{text}"
    );
    let waiting_mails = of(&email_of(&waiting).await);
    assert_eq!(waiting_mails.len(), 1, "{subjects:?}");
    let (subject, text) = &waiting_mails[0];
    assert_eq!(
        subject,
        "Your waitlist place ended: Night of Tests is cancelled"
    );
    assert!(
        text.contains("Night of Tests was cancelled; your place on the waitlist"),
        "{text}"
    );
    // The buyer finds it in their list, through the gateway.
    let listed = waiting.get("/api/notifications/mine").await.json();
    assert_eq!(listed["notifications"][0]["kind"], "waitlist_closed");
}
